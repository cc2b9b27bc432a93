"""The standard organ VOIs of 89Zr immunoPET derived from a segmenter's organ masks of one CT.

Rules (parameters in :class:`OrganRules`, settable in study.yaml ``organ_rules:``; sources in
docs/study-format.md):

- ``blood_pool``: a sphere of 2.9 mL (Jauw et al., Mol Imaging Biol 2018) in the aortic arch. Its
  centre is the point of the aorta mask, within ``arch_band_mm`` of the aorta's most superior voxel,
  farthest from the aorta's boundary (maximum of the Euclidean distance transform, in mm).
- ``bone_marrow``: 8.6 mL in total (Jauw et al. 2018) in the lumbar vertebral bodies L3-L5: in each
  vertebra a sphere of 8.6/3 mL centred where the vertebra is thickest (maximum of its distance
  transform), required to lie ``cortex_mm`` inside the vertebra's surface so that the cortex is left
  out.
- ``liver``, ``spleen``, ``kidneys``, ``lungs``, ``brain``, ``muscle``: the organ mask eroded by the
  organ's margin (mm, by distance transform: a voxel stays when its centre is at least the margin
  inside the organ's surface, the surface lying half a voxel beyond the outermost voxel centres), which limits spill-over from neighbouring tissue at PET resolution.
  ``kidneys`` joins ``kidney_left``/``kidney_right``, ``lungs`` every ``lung*`` file, ``muscle`` the
  ``iliopsoas_*`` and ``gluteus_maximus_*`` files.

Everything is computed on the segmentation's own grid; the result is in the patient frame of the CT
that was segmented, ready to be mapped onto any scan of the patient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi.spheres import BLOOD_POOL_ML, BONE_MARROW_ML, diameter_from_volume

#: Organ VOI -> file stems (or stem prefixes ending in ``*``) of a TotalSegmentator/MOOSE folder.
ORGAN_FILES: dict[str, tuple[str, ...]] = {
    "liver": ("liver",), "spleen": ("spleen",), "kidneys": ("kidney_left", "kidney_right"),
    "lungs": ("lung*",), "brain": ("brain",),
    "muscle": ("iliopsoas_left", "iliopsoas_right", "gluteus_maximus_left", "gluteus_maximus_right"),
}
MARROW_VERTEBRAE = ("vertebrae_L3", "vertebrae_L4", "vertebrae_L5")


@dataclass(frozen=True)
class OrganRules:
    """Parameters of the organ rules (mm and mL)."""

    blood_pool_ml: float = BLOOD_POOL_ML
    arch_band_mm: float = 30.0
    bone_marrow_ml: float = BONE_MARROW_ML
    cortex_mm: float = 2.0
    margins_mm: dict[str, float] = field(default_factory=lambda: {
        "liver": 10.0, "spleen": 5.0, "kidneys": 5.0, "lungs": 10.0, "brain": 5.0, "muscle": 5.0})


    @classmethod
    def from_mapping(cls, given: dict | None) -> OrganRules:
        """The defaults with the keys of ``given`` (study.yaml ``organ_rules:``, validated there) applied;
        ``margins_mm`` is merged organ by organ."""
        given = dict(given or {})
        margins = {**cls().margins_mm, **{k: float(v) for k, v in (given.pop("margins_mm", None) or {}).items()}}
        return cls(**{k: float(v) for k, v in given.items()}, margins_mm=margins)


@dataclass
class OrganVOI:
    """One derived organ VOI: a sphere (``centre_lps`` and ``volume_ml``) or a mask on ``image``'s grid."""

    voi_id: str
    kind: str  # "sphere" | "mask"
    image: Image | None = None
    centres_lps: list[tuple[float, float, float]] = field(default_factory=list)
    volume_ml: float | None = None
    rule: str = ""


def _load(folder: Path, stems: tuple[str, ...]) -> list[Image]:
    """The organ files named by ``stems`` (file stems, or prefixes ending in ``*``), each read once."""
    from immunopet.voi.nifti_masks import file_stem

    files = sorted(p for p in folder.iterdir() if p.name.lower().endswith((".nii", ".nii.gz")))
    chosen = [p for p in files for s in stems
              if (file_stem(p) == s) or (s.endswith("*") and file_stem(p).startswith(s[:-1]))]
    return [Image.from_nifti(str(p), dtype=None) for p in chosen]


def _union_on(images: list[Image], grid: Image) -> Image:
    """The union of the masks ``images`` on ``grid``."""
    from immunopet.voi.resample import resample_nearest

    union = np.zeros(grid.shape, dtype=bool)
    for image in images:
        union |= resample_nearest(image.with_array((image.array > 0).astype(np.uint8)), grid) > 0
    return grid.with_array(union, units="mask")


def _read(folder: Path, stems: tuple[str, ...]) -> Image | None:
    """Union of the organ files named by ``stems`` on a grid covering them all (None: no file)."""
    images = _load(folder, stems)
    return _union_on(images, _union_grid(images)) if images else None


def _union_grid(images: list[Image]) -> Image:
    """A grid with the first image's voxels and orientation covering every image (cropped files)."""
    first = images[0]
    corners = []
    for image in images:
        n = np.array(image.shape) - 1
        box = np.array(np.meshgrid(*[[0, m] for m in n], indexing="ij")).reshape(3, -1).T
        corners.append(first.world_to_index(image.index_to_world(box)))
    every = np.vstack(corners)
    lo, hi = np.floor(every.min(axis=0)).astype(int), np.ceil(every.max(axis=0)).astype(int)
    affine = first.affine.copy()
    affine[:3, 3] = first.index_to_world(lo)
    return Image(np.zeros(tuple(hi - lo + 1), dtype=bool), affine, "mask")


def depth_mm(mask: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """Distance (mm) from each voxel centre inside ``mask`` to the mask's surface (0 outside).

    The Euclidean distance transform gives the distance to the nearest outside voxel *centre*; the
    surface lies half a voxel before it, so half the smallest voxel size is subtracted.
    """
    from scipy import ndimage

    padded = np.pad(np.asarray(mask, dtype=bool), 1)  # the grid's edge counts as outside
    distance = ndimage.distance_transform_edt(padded, sampling=spacing)[1:-1, 1:-1, 1:-1]
    return np.where(distance > 0, distance - float(np.min(spacing)) / 2, 0.0)


def erode_mm(mask: np.ndarray, spacing: np.ndarray, margin_mm: float) -> np.ndarray:
    """The voxels of ``mask`` whose centres lie at least ``margin_mm`` inside its surface."""
    return depth_mm(mask, spacing) >= margin_mm if margin_mm > 0 else np.asarray(mask, dtype=bool)


def _distance_mm(mask: Image) -> np.ndarray:
    return depth_mm(mask.array, mask.spacing)


def _deepest(mask: Image, within: np.ndarray | None = None) -> tuple[tuple[float, float, float], float]:
    """LPS centre of the voxel farthest from the mask's boundary (inside ``within``) and that distance."""
    distance = _distance_mm(mask)
    if within is not None:
        distance = np.where(within, distance, 0.0)
    index = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return tuple(float(v) for v in mask.index_to_world(np.array(index))), float(distance[index])


def blood_pool(folder: Path, rules: OrganRules) -> OrganVOI:
    aorta = _read(folder, ("aorta",))
    if aorta is None or not aorta.array.any():
        raise VOIError("no aorta mask (aorta.nii.gz) in the segmenter folder", file=folder,
                       fix="segment the aorta, or give blood_pool as a sphere row")
    z = aorta.voxel_centres()[..., 2]
    top = z[aorta.array].max()
    band = aorta.array & (z >= top - rules.arch_band_mm)
    centre, depth = _deepest(aorta, band)
    radius = diameter_from_volume(rules.blood_pool_ml) / 2
    rule = f"{rules.blood_pool_ml} mL sphere, deepest point of the upper {rules.arch_band_mm:g} mm of the aorta"
    if depth < radius:
        rule += f" (the aorta is {2 * depth:.1f} mm wide there: the sphere reaches its wall)"
    return OrganVOI("blood_pool", "sphere", centres_lps=[centre], volume_ml=rules.blood_pool_ml, rule=rule)


def bone_marrow(folder: Path, rules: OrganRules) -> OrganVOI:
    from immunopet.voi.spheres import sphere_mask

    per = rules.bone_marrow_ml / len(MARROW_VERTEBRAE)
    vertebrae = {name: _load(folder, (name,)) for name in MARROW_VERTEBRAE}  # each file read once
    every = [image for images in vertebrae.values() for image in images]
    grid = _union_grid(every) if every else None  # a grid covering the three vertebrae
    centres, union = [], None
    for name in MARROW_VERTEBRAE:
        vertebra = _union_on(vertebrae[name], grid) if grid is not None and vertebrae[name] else None
        if vertebra is None or not vertebra.array.any():
            raise VOIError(f"no {name} mask in the segmenter folder", file=folder,
                           fix="segment the lumbar vertebrae, or give bone_marrow as a sphere row")
        centre, depth = _deepest(vertebra)
        if depth < rules.cortex_mm:
            raise VOIError(f"{name} is thinner than the cortex margin ({rules.cortex_mm} mm)", file=folder,
                           attribute="organ_rules.cortex_mm")
        centres.append(centre)
    assert grid is not None
    for centre in centres:
        sphere = sphere_mask(grid, centre, volume_ml=per, name="bone_marrow")
        union = sphere if union is None else union | sphere
    return OrganVOI("bone_marrow", "mask", image=grid.with_array(union, units="mask"), centres_lps=centres,
                    volume_ml=rules.bone_marrow_ml,
                    rule=f"3 spheres of {per:.2f} mL at the thickest point of L3, L4, L5 ({rules.bone_marrow_ml} mL)")


def eroded_organ(folder: Path, voi_id: str, rules: OrganRules) -> OrganVOI | None:
    """The organ's mask eroded by its margin; None when the folder has no file for it."""
    organ = _read(folder, ORGAN_FILES[voi_id])
    if organ is None or not organ.array.any():
        return None
    margin = float(rules.margins_mm.get(voi_id, 0.0))
    kept = erode_mm(organ.array, organ.spacing, margin)
    if not kept.any():
        raise VOIError(f"{voi_id}: nothing is left after eroding by {margin} mm", file=folder,
                       attribute=f"organ_rules.margins_mm.{voi_id}", fix="use a smaller margin")
    return OrganVOI(voi_id, "mask", image=organ.with_array(kept, units="mask"),
                    rule=f"segmenter mask eroded by {margin:g} mm")


def organ_vois(folder: str | Path, rules: OrganRules | None = None) -> list[OrganVOI]:
    """Every standard organ VOI the folder allows (blood pool and marrow are required)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VOIError("segmenter output folder not found", file=folder, fix="give the folder holding aorta.nii.gz etc.")
    rules = rules or OrganRules()
    out = [blood_pool(folder, rules), bone_marrow(folder, rules)]
    out += [v for name in ORGAN_FILES if (v := eroded_organ(folder, name, rules)) is not None]
    return out
