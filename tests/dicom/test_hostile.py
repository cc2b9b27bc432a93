"""Bad input as a hostile or careless user makes it: one explicit test per class, all through the CLI.

Each case must end in exit 3 with a message naming the attribute (and file), or in a warning, never
in a traceback, a hang or a silently wrong SUV. The base series is the IBSI DRO_0_0 (20 slices).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pydicom
import pydicom.datadict
import pytest

from immunopet.cli import main

DRO = Path(__file__).resolve().parents[2].parent / "shared" / "ibsi-suv-dro" / "DRO_0_0" / "PT"


@pytest.fixture
def series(tmp_path) -> Callable[..., Path]:
    """A copy of DRO_0_0 with header edits: ``series(PatientWeight="nan", only=3)`` (``only``: one slice)."""
    if not DRO.is_dir():
        pytest.fail(f"IBSI DRO_0_0 not found at {DRO} (../shared/ibsi-suv-dro)")

    def make(name: str = "pt", *, only: int | None = None, **edits) -> Path:
        folder = tmp_path / name
        shutil.copytree(DRO, folder)
        files = sorted(folder.iterdir())
        for n, file in enumerate(files):
            if only is not None and n != only:
                continue
            ds = pydicom.dcmread(file)
            for key, value in edits.items():
                holder = ds
                if key.startswith("rp."):
                    holder, key = ds.RadiopharmaceuticalInformationSequence[0], key[3:]
                if value is None:
                    delattr(holder, key)
                elif isinstance(value, str):  # any text, even where the VR wants a number: written as LO
                    holder.add_new(pydicom.datadict.tag_for_keyword(key), "LO", value)
                else:
                    holder[key].value = value
            ds.save_as(file)
        return folder

    return make


def _convert(folder: Path, tmp_path: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["convert", str(folder), str(tmp_path / "out.nii.gz"), *extra])
    captured = capsys.readouterr()
    text = "".join((captured.out + captured.err).split())  # Rich wraps lines, even inside words
    assert "Traceback" not in text
    return code, text


def _has(text: str, *needles: str) -> bool:
    """Every needle is in ``text`` (compared without whitespace, as :func:`_convert` returns it)."""
    return all("".join(n.split()) in text for n in needles)


@pytest.mark.parametrize("slope", [None, "abc", "0", "-1", "1e38"])
def test_bad_rescale_slope_is_refused(series, tmp_path, capsys, slope):
    code, text = _convert(series(RescaleSlope=slope, only=10), tmp_path, capsys)
    assert code == 3 and _has(text, "RescaleSlope (0028,1053)", "slice_010")
    assert not (tmp_path / "out.nii.gz").exists()


def test_missing_slope_accepted_only_when_asked(series, tmp_path, capsys):
    code, text = _convert(series(RescaleSlope=None, only=10), tmp_path, capsys, "--assume-unit-slope")
    assert code == 0 and _has(text, "--assume-unit-slope")  # the warning says what was assumed


def test_measure_refuses_a_missing_slope_unless_asked_as_convert_does(series, capsys):
    import json

    folder = series(RescaleSlope=None, only=10)
    args = ["measure", str(folder), "--mask", str(DRO.parent / "mask" / "DRO_mask.nii.gz"), "--json"]
    assert main(args) == 3
    text = "".join(capsys.readouterr().err.split())
    assert _has(text, "RescaleSlope (0028,1053)", "slice_010", "--assume-unit-slope") and "Traceback" not in text
    assert main([*args, "--assume-unit-slope"]) == 0
    captured = capsys.readouterr()
    assert _has("".join(captured.err.split()), "1.0 used as asked (--assume-unit-slope)")
    assert json.loads(captured.out)[0]["suv_max"] > 0


@pytest.mark.parametrize(("edit", "attribute"), [
    ({"PatientWeight": "nan"}, "PatientWeight (0010,1030)"),
    ({"PatientWeight": "inf"}, "PatientWeight (0010,1030)"),
    ({"PatientWeight": "0.071"}, "PatientWeight (0010,1030)"),
    ({"PatientWeight": "1000000"}, "PatientWeight (0010,1030)"),  # grams -> 1000 kg
    ({"rp.RadionuclideTotalDose": "1e15"}, "RadionuclideTotalDose (0018,1074)"),
    ({"rp.RadionuclideTotalDose": "nan"}, "RadionuclideTotalDose (0018,1074)"),
    ({"rp.RadionuclideHalfLife": "nan"}, "RadionuclideHalfLife (0018,1075)"),
    ({"rp.RadionuclideHalfLife": "0"}, "RadionuclideHalfLife (0018,1075)"),
])
def test_implausible_suv_inputs_are_refused(series, tmp_path, capsys, edit, attribute):
    code, text = _convert(series(**edit), tmp_path, capsys)
    assert code == 3 and _has(text, attribute, "Fix:")


def test_one_slice_with_another_weight_is_refused_by_inspect_and_convert(series, tmp_path, capsys):
    folder = series(PatientWeight="95", only=7)
    code, text = _convert(folder, tmp_path, capsys)
    assert code == 3 and _has(text, "PatientWeight (0010,1030) differs", "slice_007", "--weight-kg")
    assert main(["inspect", str(folder), "--json"]) == 0
    suv = json.loads(capsys.readouterr().out)["series"][0]["suv"]
    assert "PatientWeight (0010,1030) differs" in suv["suv_error"] and "suv_bw_factor" not in suv
    code, text = _convert(folder, tmp_path, capsys, "--weight-kg", "70")  # the override settles it
    assert code == 0
    audit = json.loads((tmp_path / "out.json").read_text())["suv"]
    from immunopet.dicom import load_pet

    clean = load_pet(DRO).suv_factor("bw")  # the unedited DRO (its SUVbw is checked in test_dro.py)
    assert audit["suv_factors"]["bw"] == pytest.approx(clean, rel=1e-12)
    assert any("differs" in w and "override weight_kg" in w for w in audit["warnings"])


@pytest.mark.parametrize("which", [0, 19])
def test_truncated_slice_at_either_end_is_refused(series, tmp_path, capsys, which):
    folder = series()
    file = sorted(folder.iterdir())[which]
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    code, text = _convert(folder, tmp_path, capsys)
    assert code == 3 and _has(text, file.name, "PixelData (7FE0,0010)")


@pytest.mark.parametrize(("edit", "attribute"), [
    ({"Rows": 0}, "Rows (0028,0010)"),
    ({"BitsStored": 4}, "BitsStored (0028,0101)"),
])
def test_pixel_claims_are_checked_before_allocation(series, tmp_path, capsys, edit, attribute):
    code, text = _convert(series(**edit, only=10), tmp_path, capsys)
    assert code == 3 and _has(text, attribute, "slice_010")


def _alone(folder: Path, index: int) -> Path:
    """Keep only slice ``index`` of ``folder`` (a one-slice series: no geometry check comes first)."""
    keep = sorted(folder.iterdir())[index]
    for file in folder.iterdir():
        if file != keep:
            file.unlink()
    return keep


def test_huge_matrix_is_refused_before_allocation(series, tmp_path, capsys, monkeypatch):
    folder = series(Rows=65535, Columns=65535, only=10)
    file = _alone(folder, 10)
    code, text = _convert(folder, tmp_path, capsys)  # 17 GB as float32: above the memory bound
    assert code == 3 and _has(text, "GB as float32", "IMMUNOPET_MAX_VOLUME_GB", file.name)
    monkeypatch.setenv("IMMUNOPET_MAX_VOLUME_GB", "100")
    code, text = _convert(folder, tmp_path, capsys)  # allowed in memory, but the file holds 131 kB
    assert code == 3 and _has(text, "pixel data hold", "PixelData (7FE0,0010)", file.name)


def test_small_rle_file_claiming_a_huge_matrix_is_refused(series, tmp_path, capsys, monkeypatch):
    from pydicom.uid import RLELossless

    folder = series()
    file = _alone(folder, 10)
    ds = pydicom.dcmread(file)
    ds.compress(RLELossless)
    ds.Rows = ds.Columns = 30000
    ds.save_as(file)
    assert file.stat().st_size < 200_000
    monkeypatch.setenv("IMMUNOPET_MAX_VOLUME_GB", "100")
    code, text = _convert(folder, tmp_path, capsys)
    assert code == 3 and _has(text, "compression ratio", file.name)


@pytest.mark.parametrize(("keyword", "value"), [
    ("NumberOfFrames", "abc"), ("PixelSpacing", "2.0"), ("ImagePositionPatient", "x\\y\\z"),
])
def test_inspect_reports_malformed_geometry(series, capsys, keyword, value):
    folder = series(only=4, **{keyword: value})
    assert main(["inspect", str(folder)]) == 0
    out = "".join(capsys.readouterr().out.split())
    assert _has(out, "slice_004", keyword)


def test_header_text_is_printed_as_text(series, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # a wide table: the description is not wrapped
    description = "[/x] [link=https://example.org]click[/link] \x1b[31mred"
    folder = series(SeriesDescription=description)
    assert main(["inspect", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert _has("".join(out.split()), "[/x]", "[link=https://example.org]click[/link]", "\\x1b[31mred")


def _remove_tree_iteratively(root: str) -> None:
    """Remove ``root`` without recursion (shutil.rmtree recurses and fails 1500 levels down)."""
    order, stack = [], [root]
    while stack:
        folder = stack.pop()
        order.append(folder)
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    os.remove(entry.path)
    for folder in reversed(order):
        os.rmdir(folder)


@pytest.fixture
def deep_folder(series):
    """A folder 1500 levels deep with one PET slice at the bottom, outside pytest's tmp_path (whose
    clean-up would recurse); removed iteratively afterwards."""
    import tempfile

    top = tempfile.mkdtemp(prefix="immunopet-deep-")
    try:
        path = top
        for _ in range(1500):  # one level at a time (os.makedirs itself recurses)
            path = os.path.join(path, "d")
            os.mkdir(path)
        shutil.copy(sorted(DRO.iterdir())[0], os.path.join(path, "slice.dcm"))
        yield Path(top)
    finally:
        _remove_tree_iteratively(top)


def test_fifo_device_link_and_deep_folders_do_not_hang(series, tmp_path, capsys, deep_folder):
    folder = series()
    os.mkfifo(folder / "pipe.dcm")
    (folder / "zero.dcm").symlink_to("/dev/zero")
    code, text = _convert(folder, tmp_path, capsys)
    assert code == 0 and _has(text, "FIFO", "character device")
    assert main(["inspect", str(folder), "--json"]) == 0
    reasons = {Path(u["file"]).name: u["reason"] for u in json.loads(capsys.readouterr().out)["unreadable"]}
    assert "FIFO" in reasons["pipe.dcm"] and "character device" in reasons["zero.dcm"]
    assert main(["inspect", str(deep_folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["series"][0]["n_instances"] == 1


def test_one_slice_with_another_dose_is_refused(series, tmp_path, capsys):
    """The radiopharmaceutical item is compared slice by slice when its bytes differ in one file."""
    code, text = _convert(series(**{"rp.RadionuclideTotalDose": "99000000", "only": 4}), tmp_path, capsys)
    assert code == 3 and _has(text, "RadionuclideTotalDose (0018,1074) differs", "slice_004", "--injected-mbq")
