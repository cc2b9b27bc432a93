"""The digital whole-body phantom: organs as analytic solids scaled to the patient's body.

Positions are given relative to the patient's height ``H`` (z, from the vertex at z = 0 downwards)
and to the inner trunk semi-axes ``a`` (left-right) and ``b`` (front-back), which grow with body mass
index; organ sizes scale with height. Axes are the DICOM patient axes (LPS: x to the patient's left,
y posterior, z superior).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from immunopet.simulate.canvas import Canvas, capsule, ellipsoid, z_cylinder

#: Label values of the phantom's tissues (lesions are 100 + lesion number).
LABELS: dict[str, int] = {
    "fat": 1, "soft_tissue": 2, "muscle": 3, "lungs": 4, "heart_wall": 5, "blood_pool": 6, "liver": 7,
    "spleen": 8, "kidneys": 9, "bone": 10, "bone_marrow": 11, "brain": 12, "intestine": 13,
    "lymph_nodes": 14, "tonsils": 15, "bladder": 16,
}
LESION_LABEL_OFFSET = 100

#: CT numbers (HU) of the tissues; air outside the body is -1000.
HU: dict[str, float] = {
    "fat": -100, "soft_tissue": 40, "muscle": 50, "lungs": -850, "heart_wall": 45, "blood_pool": 40,
    "liver": 60, "spleen": 50, "kidneys": 35, "bone": 700, "bone_marrow": 250, "brain": 35,
    "intestine": 10, "lymph_nodes": 40, "tonsils": 45, "bladder": 5,
}


@dataclass
class Body:
    """Body dimensions (mm) of one patient and the landmarks the VOIs and lesions use."""

    height: float
    a: float  # inner trunk semi-axis, left-right
    b: float  # inner trunk semi-axis, front-back
    fat: float  # subcutaneous fat thickness
    s: float  # organ scale (height / 1750 mm)
    landmarks: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def z(self, fraction: float) -> float:
        """z (mm) at ``fraction`` of the height below the vertex."""
        return -fraction * self.height


def body_of(height_cm: float, bmi: float, sex: str) -> Body:
    """Trunk size from height, BMI and sex (wider trunk and more fat with BMI)."""
    girth = np.sqrt(bmi / 24.0)
    s = height_cm * 10.0 / 1750.0
    fat = float(np.clip(10.0 + 45.0 * (girth - 1.0), 5.0, 35.0))
    a = 165.0 * s * girth * (1.0 if sex == "M" else 0.94) - fat * 0.5
    b = 110.0 * s * girth - fat * 0.5
    return Body(height_cm * 10.0, a, b, fat, s)


def paint_body(canvas: Canvas, body: Body) -> None:
    """Paint every normal tissue of ``body`` onto ``canvas`` and record landmarks."""
    L, H, a, b, s, z = LABELS, body.height, body.a, body.b, body.s, body.z
    f = body.fat
    # outline: head (skull, brain), neck, trunk and thighs with subcutaneous fat
    head_c, head_r = (0.0, 0.0, z(0.066)), (72 * s, 92 * s, 0.066 * H)
    canvas.paint(L["soft_tissue"], ellipsoid(head_c, head_r))
    canvas.paint(L["bone"], ellipsoid(head_c, tuple(r - 5 * s for r in head_r)))
    canvas.paint(L["soft_tissue"], ellipsoid(head_c, tuple(r - 12 * s for r in head_r)))
    canvas.paint(L["brain"], ellipsoid((0, 0, head_c[2] + 25 * s), (60 * s, 78 * s, 60 * s)))
    canvas.paint(L["soft_tissue"], z_cylinder((0, 10 * s), (52 * s, 52 * s), z(0.18), z(0.105)), keep=[L["brain"]])
    canvas.paint(L["fat"], z_cylinder((0, 0), (a + f, b + f), z(0.485), z(0.175)))
    canvas.paint(L["soft_tissue"], z_cylinder((0, 0), (a, b), z(0.485), z(0.175)))
    for side in (-1, 1):
        cx = side * 0.55 * a
        canvas.paint(L["fat"], z_cylinder((cx, 0), (0.45 * a + f, 0.45 * a + f), z(0.62), z(0.47)), only=[0])
        canvas.paint(L["muscle"], z_cylinder((cx, 0), (0.45 * a, 0.45 * a), z(0.62), z(0.485)))
        canvas.paint(L["bone"], z_cylinder((cx, 5 * s), (13 * s, 13 * s), z(0.62), z(0.47)))
        # psoas and paraspinal muscles
        canvas.paint(L["muscle"], capsule((side * 0.22 * a, 0.45 * b, z(0.37)), (side * 0.38 * a, 0.2 * b, z(0.47)), 20 * s))
        canvas.paint(L["muscle"], z_cylinder((side * 0.25 * a, 0.78 * b), (0.17 * a, 0.16 * b), z(0.46), z(0.19)))
    # abdomen and chest organs
    canvas.paint(L["intestine"], ellipsoid((0, -0.25 * b, z(0.415)), (0.72 * a, 0.55 * b, 0.045 * H)))
    for side in (-1, 1):
        canvas.paint(L["lungs"], ellipsoid((side * 0.46 * a, 0.05 * b, z(0.255)), (0.37 * a, 0.72 * b, 0.075 * H)))
    canvas.paint(L["heart_wall"], ellipsoid((0.12 * a, -0.28 * b, z(0.29)), (52 * s, 43 * s, 50 * s)))
    canvas.paint(L["blood_pool"], ellipsoid((0.16 * a, -0.28 * b, z(0.29)), (27 * s, 23 * s, 31 * s)))
    arch_start, arch_end = (0.02 * a, -0.22 * b, z(0.212)), (0.14 * a, 0.3 * b, z(0.212))
    canvas.paint(L["blood_pool"], capsule((0.02 * a, -0.25 * b, z(0.28)), arch_start, 14 * s))
    canvas.paint(L["blood_pool"], capsule(arch_start, arch_end, 15 * s))
    canvas.paint(L["blood_pool"], capsule(arch_end, (0.08 * a, 0.3 * b, z(0.43)), 11 * s))
    body.landmarks["aortic_arch"] = tuple(float(v) for v in (np.add(arch_start, arch_end) / 2))
    canvas.paint(L["liver"], ellipsoid((-0.4 * a, -0.05 * b, z(0.345)), (0.45 * a, 0.7 * b, 0.05 * H)))
    canvas.paint(L["spleen"], ellipsoid((0.55 * a, 0.35 * b, z(0.325)), (27 * s, 44 * s, 50 * s)))
    for side in (-1, 1):
        canvas.paint(L["kidneys"], ellipsoid((side * 0.42 * a, 0.45 * b, z(0.385)), (25 * s, 27 * s, 50 * s)))
        body.landmarks[f"adrenal_{side}"] = (side * 0.3 * a, 0.42 * b, z(0.357))
    canvas.paint(L["bladder"], ellipsoid((0, -0.3 * b, z(0.465)), (35 * s, 30 * s, 30 * s)))
    body.landmarks["bladder"] = (0.0, -0.3 * b, z(0.465))
    # lymph node stations and Waldeyer's ring
    stations = {
        "cervical": (0.0, 0.0, z(0.145), 32 * s), "axillary": (0.0, 0.1 * b, z(0.215), 0.8 * a),
        "mediastinal": (-0.08 * a, -0.05 * b, z(0.235), 0.0), "para_aortic": (0.0, 0.3 * b, z(0.4), 0.2 * a),
        "iliac": (0.0, 0.15 * b, z(0.45), 0.35 * a), "inguinal": (0.0, -0.55 * b, z(0.48), 0.5 * a),
    }
    for name, (x0, y, zz, dx) in stations.items():
        for side in ((-1, 1) if dx else (0,)):
            centre = (x0 + side * dx, y, zz)
            canvas.paint(L["lymph_nodes"], ellipsoid(centre, (6 * s, 6 * s, 9 * s)))
            body.landmarks[f"node_{name}_{side}"] = centre
    for side in (-1, 1):
        canvas.paint(L["tonsils"], ellipsoid((side * 13 * s, 12 * s, z(0.125)), (7 * s, 8 * s, 11 * s)))
    # skeleton: vertebral column with marrow, pelvis
    spine_y = 0.6 * b
    canvas.paint(L["bone"], z_cylinder((0, spine_y), (17 * s, 16 * s), z(0.37), z(0.165)))
    canvas.paint(L["bone"], z_cylinder((0, spine_y), (22 * s, 20 * s), z(0.445), z(0.37)))
    canvas.paint(L["bone_marrow"], z_cylinder((0, spine_y), (12 * s, 11 * s), z(0.37), z(0.17)))
    canvas.paint(L["bone_marrow"], z_cylinder((0, spine_y), (17 * s, 15 * s), z(0.44), z(0.37)))
    body.landmarks["lumbar_marrow"] = (0.0, spine_y, z(0.405))
    body.landmarks["upper_lumbar_spine"] = (0.0, spine_y, z(0.35))
    body.landmarks["thoracic_spine"] = (0.0, spine_y, z(0.27))
    for side in (-1, 1):
        wing = (side * 0.55 * a, 0.35 * b, z(0.45))
        canvas.paint(L["bone"], ellipsoid(wing, (14 * s, 0.45 * b, 45 * s)))
        body.landmarks[f"iliac_{side}"] = wing
        body.landmarks[f"lung_{side}"] = (side * 0.46 * a, 0.05 * b, z(0.255))
    body.landmarks["liver"] = (-0.4 * a, -0.05 * b, z(0.345))


def lesion_boxes(labels: np.ndarray) -> list[tuple[slice, ...] | None]:
    """Index box of each lesion's voxels in a label map (lesion ``n`` at index ``n - 1``; ``None`` for a
    lesion with no voxel there), from one pass of :func:`scipy.ndimage.find_objects`."""
    from scipy import ndimage

    return ndimage.find_objects(np.where(labels > LESION_LABEL_OFFSET, labels - LESION_LABEL_OFFSET, 0))
