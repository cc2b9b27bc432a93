"""DICOM SEG (binary and fractional) written with highdicom on the GE PET, read back on the PET grid."""

from __future__ import annotations

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi import masks_from_rtstruct, masks_from_seg


def write_seg(path, sources, arrays: dict[str, np.ndarray], *, fractional=False) -> str:
    """SEG on ``sources`` (pydicom slices); ``arrays``: label -> (slices, rows, cols) array."""
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=n, segment_label=label,
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Neoplasm, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for n, label in enumerate(arrays, start=1)
    ]
    stacked = np.stack(list(arrays.values()), axis=-1)
    seg = hd.seg.Segmentation(
        source_images=sources, pixel_array=stacked.astype(np.float32 if fractional else np.uint8),
        segmentation_type="FRACTIONAL" if fractional else "BINARY",
        segment_descriptions=descriptions, series_instance_uid=hd.UID(), series_number=99,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="test", manufacturer_model_name="test",
        software_versions="0", device_serial_number="0",
    )
    seg.save_as(str(path))
    return str(path)


@pytest.fixture(scope="module")
def gtv_and_sources(ge_pet, shared_data):
    rs = str(shared_data / "tcia-sts-001-ge-fdg" / "rtstruct" / "1-1.dcm")
    gtv = masks_from_rtstruct(rs, ge_pet, roi_names=["GTV_Mass"])["GTV_Mass"]
    ks = np.flatnonzero(gtv.any(axis=(0, 1)))
    k0, k1 = ks[0] - 2, ks[-1] + 3  # a sub-stack of slices around the tumour
    sources = [pydicom.dcmread(f) for f in ge_pet.meta["files"][k0:k1]]
    return gtv, sources, (k0, k1)


@pytest.mark.filterwarnings("ignore:The string")
def test_binary_seg_round_trip(tmp_path, ge_pet, gtv_and_sources):
    gtv, sources, (k0, k1) = gtv_and_sources
    core = gtv & (ge_pet.array > np.percentile(ge_pet.array[gtv], 50))
    frames = {"GTV": gtv[:, :, k0:k1].transpose(2, 1, 0), "core": core[:, :, k0:k1].transpose(2, 1, 0)}
    path = write_seg(tmp_path / "seg.dcm", sources, frames)
    masks = masks_from_seg(path, ge_pet)
    assert set(masks) == {"GTV", "core"}
    assert np.array_equal(masks["GTV"], gtv) and np.array_equal(masks["core"], core)
    assert list(masks_from_seg(path, ge_pet, segments=["core"])) == ["core"]
    assert list(masks_from_seg(path, ge_pet, segments=[1])) == ["GTV"]
    with pytest.raises(VOIError, match="not in the SEG"):
        masks_from_seg(path, ge_pet, segments=["liver"])
    other = Image(ge_pet.array, ge_pet.affine, "BQML", {"frame_of_reference_uid": "1.2.3"})
    with pytest.raises(VOIError, match="frame of reference"):
        masks_from_seg(path, other)


@pytest.mark.filterwarnings("ignore:The string")
def test_fractional_seg_keeps_fractions(tmp_path, ge_pet, gtv_and_sources):
    gtv, sources, (k0, k1) = gtv_and_sources
    weights = np.where(gtv, 0.5, 0.0).astype(np.float32)
    weights[gtv & (ge_pet.array > np.median(ge_pet.array[gtv]))] = 1.0
    path = write_seg(tmp_path / "frac.dcm", sources, {"GTV": weights[:, :, k0:k1].transpose(2, 1, 0)}, fractional=True)
    got = masks_from_seg(path, ge_pet)["GTV"]
    assert got.dtype == np.float32
    assert np.allclose(got, weights, atol=1 / 255)  # fractions stored as 8-bit (MaximumFractionalValue 255)


@pytest.mark.filterwarnings("ignore:The string", "ignore:The value length")  # quirks of the source CT header
def test_seg_on_ct_grid_maps_onto_pet_grid(tmp_path, shared_data, read_series):
    """A SEG made on the CT slices (0.98 mm pixels) lands on the PET grid (5.47 mm) by position."""
    root = shared_data / "tcia-sts-cropped" / "STS_002"
    ct, pet = read_series(root / "ct" / "image"), read_series(root / "pet" / "image")
    ct_rs = str(root / "ct" / "mask" / "RS.dcm")
    on_ct = masks_from_rtstruct(ct_rs, ct)["GTV_Mass_CT"]
    sources = [pydicom.dcmread(f) for f in ct.meta["files"]]
    path = write_seg(tmp_path / "ct_seg.dcm", sources, {"GTV": on_ct.transpose(2, 1, 0)})
    on_pet = masks_from_seg(path, pet)["GTV"]
    direct = masks_from_rtstruct(ct_rs, pet)["GTV_Mass_CT"]
    assert 2 * (on_pet & direct).sum() / (on_pet.sum() + direct.sum()) > 0.9
    assert on_pet.sum() * pet.voxel_volume_ml == pytest.approx(on_ct.sum() * ct.voxel_volume_ml, rel=0.1)
