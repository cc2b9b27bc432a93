"""Property test: mutate the SUV-relevant attributes of a real and a simulated PET series.

Every mutation must end in one of: an ImmunoPETError naming an attribute (exit 3 in the CLI), the
SUV factor of the clean series, or a warning naming the changed attribute. The series' headers are
read once; each case copies only the slices it changes and runs the reader every command uses
(:func:`read_suv_inputs`) and the rescale check of volume assembly. A few hundred cases in CI;
``IMMUNOPET_MUTATION_EXAMPLES=5000`` runs more.
"""

from __future__ import annotations

import copy
import os

import pydicom
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydicom.datadict import tag_for_keyword

from immunopet.dicom.frames import frames_of
from immunopet.dicom.geometry import build_grid
from immunopet.dicom.read_inputs import read_suv_inputs
from immunopet.dicom.volume import check_rescale
from immunopet.errors import ImmunoPETError

EXAMPLES = int(os.environ.get("IMMUNOPET_MUTATION_EXAMPLES", "100"))
TOP = ("PatientWeight", "PatientSize", "PatientSex", "Units", "DecayCorrection", "SeriesDate", "SeriesTime",
       "AcquisitionTime", "AcquisitionDate", "RescaleSlope", "DecayFactor", "FrameReferenceTime",
       "ActualFrameDuration", "SUVType")
RADIOPHARMACEUTICAL = ("RadionuclideTotalDose", "RadionuclideHalfLife", "RadiopharmaceuticalStartDateTime",
                       "RadiopharmaceuticalStartTime")
VALUES = st.one_of(
    st.none(),  # delete
    st.sampled_from(["", "nan", "inf", "-inf", "-1", "0", "1e38", "1e-30", "abc", "[/x]", "\x1b[31m", "71",
                     "95", "1000000", "0.071", "1e15", "20990101", "235959", "BQML", "GML", "CNTS", "ADMIN",
                     "NONE", "M", "F", "O", "X"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)


def _headers(files) -> list[tuple[str, pydicom.Dataset]]:
    return [(str(f), pydicom.dcmread(f, stop_before_pixels=True)) for f in files]


@pytest.fixture(scope="module")
def real_series(shared_data):
    """Every 12th slice (along z) of the real GE series: 23 slices over all six beds, a regular grid."""
    headers = _headers(sorted((shared_data / "tcia-sts-001-ge-fdg" / "pet").iterdir()))
    headers.sort(key=lambda item: float(item[1].ImagePositionPatient[2]))
    return headers[::12]


@pytest.fixture(scope="module")
def simulated_series(quick_study):
    from immunopet.dicom import discover

    pet = next(s for s in discover(quick_study) if s.modality == "PT")
    return _headers(pet.files)


def _factor(headers) -> tuple[float, list[str], list[str]]:
    """SUVbw factor and what the reader says: warnings, and each input's source and note."""
    frames = [frame for file, ds in headers for frame in frames_of(ds, file)]
    grid = build_grid(frames)
    warnings = check_rescale(grid, "PT", assume_unit_slope=False)
    inputs = read_suv_inputs(grid.frames)
    audit = [f"{item['source']} {item['note']}" for item in inputs.as_dict().values()]
    return inputs.normaliser("bw") / inputs.injected_bq_at_reference(), warnings + list(inputs.warnings), audit


def _mutate(ds: pydicom.Dataset, keyword: str, value: str | None) -> None:
    holder = ds
    if keyword in RADIOPHARMACEUTICAL:
        holder = ds.RadiopharmaceuticalInformationSequence[0]
    if value is None:
        if keyword in holder:
            delattr(holder, keyword)
    else:  # text wherever the VR wants a number: what careless exports write
        holder.add_new(tag_for_keyword(keyword), "LO", value)


_CLEAN: dict[int, float] = {}


def _check(headers, keyword: str, value: str | None, which: str) -> None:
    if id(headers) not in _CLEAN:
        _CLEAN[id(headers)] = _factor(headers)[0]
    clean = _CLEAN[id(headers)]
    if which == "all":
        chosen = range(len(headers))
    else:
        chosen = [0] if which == "first" else [len(headers) // 2]
    mutated = list(headers)
    for i in chosen:
        ds = copy.deepcopy(headers[i][1])
        _mutate(ds, keyword, value)
        mutated[i] = (headers[i][0], ds)
    try:
        factor, warnings, audit = _factor(mutated)
    except ImmunoPETError as error:
        assert error.attribute or "(00" in str(error), f"error names no attribute: {error}"
        return
    if factor == pytest.approx(clean, rel=1e-9):
        return
    # a changed factor is right only if the reader says where it came from: a warning, or (when every
    # slice carries the new value, as a real header could) the audit naming the attribute as a source
    named = warnings + (audit if which == "all" else [])
    assert any(keyword in w for w in named), (
        f"{keyword}={value!r} ({which}) changed SUVbw factor {clean:.6g} -> {factor:.6g} without naming it: {warnings}")


MUTATION = st.tuples(st.sampled_from(TOP + RADIOPHARMACEUTICAL), VALUES, st.sampled_from(["all", "first", "middle"]))
# no shrinking: a failure is printed as drawn (shrinking re-runs the reader thousands of times)
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(mutation=MUTATION)
def test_mutated_real_series(real_series, mutation):
    _check(real_series, *mutation)


@SETTINGS
@given(mutation=MUTATION)
def test_mutated_simulated_series(simulated_series, mutation):
    _check(simulated_series, *mutation)
