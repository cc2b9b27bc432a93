"""`immunopet convert` writes the volume slab by slab: the same bytes as the whole-volume path.

The reference is the path that holds the volume (read_volume, convert_in_place, write_nifti), which
run, measure and export still use; a simulated series with one RescaleSlope per slice is also
checked against numpy. An error halfway through the slices leaves nothing in the output folder.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import nibabel
import numpy as np
import pydicom
import pytest

from immunopet.cli import main
from immunopet.dicom import slabs
from immunopet.dicom.export import write_nifti
from immunopet.dicom.pet import convert_in_place
from immunopet.dicom.volume import read_volume

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dicom_load.py"


def _whole_volume(series: Path, out: Path, kind: str | None) -> None:
    """The whole-volume path: the float32 volume read, converted in place, then written."""
    volume = read_volume(series)
    if volume.image.meta["modality"] == "PT":
        image, audit = convert_in_place(volume, kind)
        write_nifti(image, out, sidecar={"suv": audit})
    else:
        write_nifti(volume.image, out)


def _assert_same_as_whole_volume(series: Path, tmp_path: Path, kind: str | None, name: str = "x.nii.gz") -> None:
    reference, streamed = tmp_path / "whole" / name, tmp_path / "slabs" / name
    _whole_volume(series, reference, kind)
    assert main(["convert", str(series), str(streamed), "--suv", kind or "none"]) == 0
    # header and every voxel, byte for byte; the sidecar word for word
    unpack = gzip.decompress if name.endswith(".gz") else bytes
    assert unpack(streamed.read_bytes()) == unpack(reference.read_bytes())
    assert (streamed.parent / "x.json").read_text() == (reference.parent / "x.json").read_text()


def _simulated(folder: Path) -> None:
    """The benchmark's series (benchmarks/bench_dicom_load.py), small: int16 slices of 17 x 17 built on
    the real Siemens header, shuffled file names, one RescaleSlope per slice."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_dicom_load", BENCHMARK)
    assert spec is not None and spec.loader is not None, f"benchmark not found at {BENCHMARK}"
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    folder.mkdir()
    bench.write_series(folder, size=17, slices=23)


@pytest.fixture
def small_slabs(monkeypatch):
    """Slabs of three 17 x 17 slices: several slabs and a partial last one."""
    monkeypatch.setattr(slabs, "BLOCK_BYTES", 3 * 17 * 17 * 4)


@pytest.mark.parametrize("kind", ["bw", None])
def test_ge_series_is_written_as_the_whole_volume_path_writes_it(ge_pet, tmp_path, kind):
    _assert_same_as_whole_volume(ge_pet, tmp_path, kind)


def test_uncompressed_nifti_likewise(ge_pet, tmp_path):
    _assert_same_as_whole_volume(ge_pet, tmp_path, "bw", "x.nii")


@pytest.mark.parametrize("series", ["acrin-flt-siemens/1.dcm", "tcia-sts-cropped/STS_003/pet/image",
                                    "tcia-sts-cropped/STS_002/ct/image"])
def test_siemens_stored_suv_and_ct_series_likewise(shared_data, series, tmp_path):
    _assert_same_as_whole_volume(shared_data / series, tmp_path, "bw")


def test_simulated_series_with_one_slope_per_slice(tmp_path, small_slabs):
    folder = tmp_path / "series"
    _simulated(folder)
    _assert_same_as_whole_volume(folder, tmp_path, "bw")
    # independently: stored x each slice's float32 slope x the float32 SUV factor the sidecar names
    factor = np.float32(json.loads((tmp_path / "slabs" / "x.json").read_text())["suv"]["suv_factor_used"])
    datasets = sorted((pydicom.dcmread(f) for f in folder.iterdir()), key=lambda d: float(d.ImagePositionPatient[2]))
    expected = np.stack([d.pixel_array.T * np.float32(float(d.RescaleSlope)) * factor for d in datasets], axis=-1)
    assert len({d.RescaleSlope for d in datasets}) > 1
    np.testing.assert_array_equal(np.asarray(nibabel.load(tmp_path / "slabs" / "x.nii.gz").dataobj), expected)


def test_multiframe_file_is_written_alike(shared_data, make_enhanced, tmp_path, small_slabs):
    folder = make_enhanced(shared_data / "tcia-sts-cropped" / "STS_003" / "pet" / "image", tmp_path / "enhanced")
    _assert_same_as_whole_volume(folder, tmp_path, "bw")


def _copy_with(source: Path, target: Path, edits: dict[str, dict]) -> Path:
    """A copy of a series folder with header edits to the files named in ``edits``."""
    shutil.copytree(source, target)
    for name, changes in edits.items():
        ds = pydicom.dcmread(target / name)
        for keyword, value in changes.items():
            setattr(ds, keyword, value)
        ds.save_as(target / name)
    return target


def _middle_file(folder: Path) -> str:
    by_z = sorted(folder.iterdir(), key=lambda p: float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]))
    return by_z[len(by_z) // 2].name


def _nothing_written(out_dir: Path) -> bool:
    return not out_dir.exists() or not list(out_dir.iterdir())


def test_non_finite_slice_in_the_middle_leaves_nothing_and_names_its_file(tmp_path, small_slabs, capsys):
    series = tmp_path / "series"
    _simulated(series)
    bad = _middle_file(series)
    broken = _copy_with(series, tmp_path / "broken", {bad: {"RescaleSlope": "3e38"}})
    out = tmp_path / "out" / "suv.nii.gz"
    out.parent.mkdir()
    assert main(["convert", str(broken), str(out), "--suv", "bw"]) == 3
    err = " ".join(capsys.readouterr().err.split())
    assert "rescaled values are not finite" in err and "RescaleSlope (0028,1053)" in err
    assert str(broken / bad) in "".join(err.split())  # the path may be folded across lines
    assert _nothing_written(out.parent)  # neither the NIfTI, nor the sidecar, nor a partial file


def test_values_that_overflow_with_the_suv_factor_are_counted_and_nothing_is_written(tmp_path, small_slabs, capsys):
    from immunopet.dicom import SuvOverrides, load_pet

    series = tmp_path / "series"
    _simulated(series)
    big = _copy_with(series, tmp_path / "big", {_middle_file(series): {"RescaleSlope": "1e34"}})
    out = tmp_path / "out" / "suv.nii.gz"
    # finite after rescaling; an injection of 1 kBq makes the SUV factor (about 100) overflow float32
    assert main(["convert", str(big), str(out), "--suv", "bw", "--injected-mbq", "0.001"]) == 3
    err = " ".join(capsys.readouterr().err.split())
    whole = load_pet(big, overrides=SuvOverrides(injected_bq=1.0e3)).suv("bw").array
    bad = int(np.count_nonzero(~np.isfinite(whole)))
    assert bad > 0 and f"{bad} voxel value(s) are not finite" in err
    assert _nothing_written(out.parent)


def test_unreadable_pixel_data_halfway_leaves_nothing(tmp_path, small_slabs, capsys):
    series = tmp_path / "series"
    _simulated(series)
    bad = _middle_file(series)
    broken = _copy_with(series, tmp_path / "broken", {bad: {"BitsStored": 4}})  # values beyond 4 bits
    out = tmp_path / "out" / "suv.nii.gz"
    assert main(["convert", str(broken), str(out)]) == 3
    err = " ".join(capsys.readouterr().err.split())
    assert "do not fit BitsStored 4" in err and "BitsStored (0028,0101)" in err
    assert str(broken / bad) in "".join(err.split())
    assert _nothing_written(out.parent)
