"""The one image type: a float32 voxel array plus a 4x4 affine in the DICOM patient frame (LPS).

Geometry convention, stated once for the whole package
------------------------------------------------------
``Image.array`` has shape ``(I, J, K)``: ``i`` runs along a row of a DICOM slice (the column index,
direction ``ImageOrientationPatient[:3]``), ``j`` down the rows (direction
``ImageOrientationPatient[3:]``) and ``k`` across slices, sorted along the slice normal.
``Image.affine`` maps a voxel index ``(i, j, k, 1)`` to the voxel *centre* in millimetres in the
DICOM patient coordinate system, LPS (x to the patient's Left, y to Posterior, z to Superior).

NIfTI and nibabel use RAS; :meth:`Image.to_nifti` flips the first two axes of the affine
(``diag(-1, -1, 1, 1) @ affine``) and nothing else, so a voxel keeps its index. SimpleITK uses LPS and
``(k, j, i)`` numpy order; :meth:`Image.to_sitk` transposes. Conversions happen here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from immunopet.errors import GeometryError

if TYPE_CHECKING:  # heavy imports only where used
    import nibabel
    import SimpleITK

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])

#: Voxels of one slab in the slab-wise checks below (a volume-sized boolean mask would be a quarter
#: of the float32 volume again).
SLAB_VOXELS = 2**20


def non_finite_per_slice(array: np.ndarray) -> np.ndarray:
    """Number of NaN or infinite voxels in each slice ``k`` of an ``(I, J, K)`` array, a slab at a time."""
    step = max(1, SLAB_VOXELS // max(1, int(np.prod(array.shape[:-1]))))
    counts = np.zeros(array.shape[-1], dtype=np.int64)
    for start in range(0, array.shape[-1], step):
        slab = array[..., start:start + step]
        finite = np.isfinite(slab)
        if not finite.all():
            counts[start:start + step] = np.count_nonzero(~finite, axis=tuple(range(finite.ndim - 1)))
    return counts


@dataclass(frozen=True, eq=False)
class Image:
    """A 3-D image with its geometry.

    Parameters
    ----------
    array
        Voxel values, shape ``(I, J, K)``; kept as given (float32 for PET/CT/SUV, bool or integer
        for masks and label maps).
    affine
        4x4 matrix from voxel index to LPS millimetres (voxel centres).
    units
        What the values are: ``"BQML"``, ``"SUVbw"``, ``"SUVlbm"``, ``"SUVbsa"``, ``"SUVibw"``,
        ``"HU"``, ``"label"``, ``"mask"``, ...
    meta
        Free-form provenance (source files, series UID, frame of reference UID, ...).
    """

    array: np.ndarray
    affine: np.ndarray
    units: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        affine = np.asarray(self.affine, dtype=np.float64)
        if affine.shape != (4, 4) or not np.allclose(affine[3], [0, 0, 0, 1]):
            raise GeometryError(f"affine must be a 4x4 homogeneous matrix, got {affine!r}")
        if np.linalg.matrix_rank(affine[:3, :3]) < 3:
            raise GeometryError("affine is singular: voxel spacing or orientation is degenerate")
        if self.array.ndim != 3:
            raise GeometryError(f"image array must be 3-D, got shape {self.array.shape}")
        object.__setattr__(self, "affine", affine)

    # ----- geometry ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.array.shape)  # type: ignore[return-value]

    @property
    def spacing(self) -> np.ndarray:
        """Voxel size in mm along i, j, k."""
        return np.linalg.norm(self.affine[:3, :3], axis=0)

    @property
    def direction(self) -> np.ndarray:
        """3x3 matrix whose columns are the unit directions of i, j, k in LPS."""
        return self.affine[:3, :3] / self.spacing

    @property
    def origin(self) -> np.ndarray:
        """LPS position (mm) of the centre of voxel (0, 0, 0)."""
        return self.affine[:3, 3].copy()

    @property
    def voxel_volume_ml(self) -> float:
        return float(abs(np.linalg.det(self.affine[:3, :3])) / 1000.0)

    @property
    def frame_of_reference_uid(self) -> str | None:
        return self.meta.get("frame_of_reference_uid")

    def index_to_world(self, ijk: np.ndarray) -> np.ndarray:
        """Map voxel indices ``(..., 3)`` to LPS mm ``(..., 3)``."""
        ijk = np.asarray(ijk, dtype=np.float64)
        return ijk @ self.affine[:3, :3].T + self.affine[:3, 3]

    def world_to_index(self, xyz: np.ndarray) -> np.ndarray:
        """Map LPS mm ``(..., 3)`` to continuous voxel indices ``(..., 3)``."""
        xyz = np.asarray(xyz, dtype=np.float64)
        inverse = np.linalg.inv(self.affine)
        return xyz @ inverse[:3, :3].T + inverse[:3, 3]

    def voxel_centres(self) -> np.ndarray:
        """LPS coordinates of every voxel centre, shape ``(I, J, K, 3)`` (memory: 24 B/voxel)."""
        grid = np.stack(np.meshgrid(*(np.arange(n) for n in self.shape), indexing="ij"), axis=-1)
        return self.index_to_world(grid)

    def same_grid(self, other: Image, *, atol_mm: float = 1e-3) -> bool:
        return self.shape == other.shape and np.allclose(self.affine, other.affine, atol=atol_mm)

    def with_array(self, array: np.ndarray, *, units: str | None = None, **meta: Any) -> Image:
        """A new image on the same grid with other values (and optionally units/metadata)."""
        if array.shape != self.shape:
            raise GeometryError(f"array shape {array.shape} does not match grid {self.shape}")
        return Image(array, self.affine, self.units if units is None else units, {**self.meta, **meta})

    # ----- conversions at the edges ------------------------------------------------------------
    def to_nifti(self) -> nibabel.Nifti1Image:
        """A NIfTI-1 image (RAS affine, sform and qform set, code 1 = scanner anatomical)."""
        import nibabel

        data = self.array
        if data.dtype == np.bool_:
            data = data.astype(np.uint8)
        img = nibabel.Nifti1Image(data, LPS_TO_RAS @ self.affine)
        img.set_sform(LPS_TO_RAS @ self.affine, code=1)
        img.set_qform(LPS_TO_RAS @ self.affine, code=1)
        img.header.set_xyzt_units("mm", "sec")
        return img

    @classmethod
    def from_nifti(cls, img: nibabel.Nifti1Image | str, *, units: str = "", dtype: Any = np.float32) -> Image:
        """Read a NIfTI image (object or path); values cast to ``dtype`` (``None`` keeps them)."""
        import nibabel

        if not isinstance(img, nibabel.spatialimages.SpatialImage):
            path = str(img)
            img = nibabel.load(path)
            meta: dict[str, Any] = {"source": path}
        else:
            meta = {}
        data = np.asanyarray(img.dataobj)
        if data.ndim == 4 and data.shape[3] == 1:
            data = data[..., 0]
        if data.ndim != 3:
            raise GeometryError(f"expected a 3-D NIfTI image, got shape {data.shape}", file=meta.get("source"))
        # C order once here (NIfTI stores Fortran order): flat-index work downstream then copies nothing
        data = np.ascontiguousarray(data) if dtype is None else np.ascontiguousarray(data, dtype=dtype)
        return cls(data, LPS_TO_RAS @ img.affine, units, meta)

    def to_sitk(self) -> SimpleITK.Image:
        import SimpleITK as sitk

        data = self.array.astype(np.uint8) if self.array.dtype == np.bool_ else self.array
        out = sitk.GetImageFromArray(np.ascontiguousarray(data.transpose(2, 1, 0)))
        out.SetSpacing([float(s) for s in self.spacing])
        out.SetOrigin([float(o) for o in self.origin])
        out.SetDirection([float(d) for d in self.direction.ravel()])
        return out

    @classmethod
    def from_sitk(cls, img: SimpleITK.Image, *, units: str = "") -> Image:
        import SimpleITK as sitk

        data = sitk.GetArrayFromImage(img).transpose(2, 1, 0)
        direction = np.asarray(img.GetDirection(), dtype=np.float64).reshape(3, 3)
        affine = np.eye(4)
        affine[:3, :3] = direction * np.asarray(img.GetSpacing())
        affine[:3, 3] = img.GetOrigin()
        return cls(data, affine, units, {})
