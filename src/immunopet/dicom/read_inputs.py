"""Read the SUV inputs of a PET series from its headers (rules of the IBSI SUV manual).

Units recognised by value as the manual recommends: RadionuclideTotalDose below 10 000 is MBq,
above 100 000 Bq (between: ambiguous, an error); PatientWeight above 1000 is grams; PatientSize
above 3 is centimetres. Each choice is written into the input's ``note``.
"""

from __future__ import annotations

import math
from datetime import datetime

from pydicom.dataset import Dataset

from immunopet.dicom.enhanced import CONVERTED, decay_correction_of, suv_view, units_of
from immunopet.dicom.geometry import Frame
from immunopet.dicom.header import (
    GE_ADMIN_DATETIME, Sourced, label, latest_before, parse_dt, parse_tm, private_value, value_of,
)
from immunopet.dicom.inputs import SUPPORTED_UNITS, SUV_TYPES, SuvInputs, apply_overrides, record_missing
from immunopet.dicom.consistency import check_slices_agree
from immunopet.dicom.overrides import SuvOverrides, fix_for
from immunopet.dicom.plausible import HALF_LIFE_TOLERANCE, implausible
from immunopet.dicom.radionuclide import identify_nuclide
from immunopet.dicom.reference_time import read_reference_datetime
from immunopet.errors import SUVError
from immunopet.nuclides import NUCLIDES
from immunopet.safe_text import safe_text

#: Half-life disagreement (relative) above which a warning is given, and above which it is an error.
HALF_LIFE_WARN, HALF_LIFE_ERROR = 0.005, HALF_LIFE_TOLERANCE
#: Nuclides short-lived enough that a time-only injection can be placed on the scan day.
SAME_DAY_MAX_HALF_LIFE_S = 6 * 3600.0


def _radiopharmaceutical(ds: Dataset, file: str, warnings: list[str]) -> Dataset | None:
    seq = ds.get("RadiopharmaceuticalInformationSequence")
    if not seq:
        return None
    if len(seq) > 1:
        warnings.append(f"{file}: {len(seq)} radiopharmaceuticals listed; the first is used")
    return seq[0]


def _number(ds: Dataset | None, keyword: str) -> float | None:
    """The attribute as a finite number; ``None`` if absent; an SUVError if it is not one."""
    value = value_of(ds, keyword) if ds is not None else None
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        name = {"RadionuclideTotalDose": "injected_bq", "PatientWeight": "weight_kg", "PatientSize": "height_cm",
                "RadionuclideHalfLife": "nuclide"}.get(keyword)
        raise SUVError(f"{keyword} {safe_text(value, max_length=40)!r} is not a finite number",
                       attribute=label(keyword),
                       fix=fix_for(name, "correct the header") if name else "correct the header")
    return number


def _checked(name: str, value: float, where: str, note: str, file: str) -> Sourced | SUVError:
    problem = implausible(name, value)
    if problem is None:
        return Sourced(value, where, note)
    return SUVError(f"{problem} (header value read as {note})", file=file, attribute=where, fix=fix_for(name))


def _dose(rp: Dataset | None, file: str) -> Sourced | SUVError:
    where = label("RadionuclideTotalDose")
    value = _number(rp, "RadionuclideTotalDose")
    if value is None or value <= 0:
        return SUVError("injected activity missing or not positive", file=file, attribute=where,
                        fix=fix_for("injected_bq"))
    if value < 1.0e4:
        return _checked("injected_bq", value * 1.0e6, where, f"{value:g} read as MBq (value below 10 000)", file)
    if value < 1.0e5:
        return SUVError(f"injected activity {value:g} is neither plausible in Bq nor in MBq", file=file,
                        attribute=where, fix=fix_for("injected_bq"))
    return _checked("injected_bq", value, where, "Bq", file)


def _weight(ds: Dataset, file: str) -> Sourced | SUVError:
    where = label("PatientWeight")
    value = _number(ds, "PatientWeight")
    if value is None or value <= 0:
        return SUVError("patient weight missing or not positive", file=file, attribute=where, fix=fix_for("weight_kg"))
    if value > 1000:
        return _checked("weight_kg", value / 1000.0, where, f"{value:g} read as grams (value above 1000)", file)
    return _checked("weight_kg", value, where, "kg", file)


def _height(ds: Dataset, file: str) -> Sourced | SUVError:
    where = label("PatientSize")
    value = _number(ds, "PatientSize")
    if value is None or value <= 0:
        return SUVError("patient height missing (needed for SUVlbm, SUVbsa, SUVibw)", file=file,
                        attribute=where, fix=fix_for("height_cm"))
    if value <= 3.0:
        return _checked("height_cm", value * 100.0, where, f"{value:g} m", file)
    if 30.0 <= value <= 300.0:
        return _checked("height_cm", value, where, f"{value:g} read as cm (DICOM wants metres)", file)
    return SUVError(f"patient height {value:g} is implausible in m and in cm", file=file, attribute=where,
                    fix=fix_for("height_cm"))


def _sex(ds: Dataset, file: str) -> Sourced | SUVError:
    value = str(value_of(ds, "PatientSex") or "").strip().upper()
    if value in ("M", "F", "O"):
        return Sourced(value, label("PatientSex"), "O: mean of male and female formulas" if value == "O" else "")
    return SUVError(f"patient sex {value!r} not M, F or O (needed for SUVlbm, SUVibw)", file=file,
                    attribute=label("PatientSex"), fix=fix_for("sex"))


def _injection(ds: Dataset, rp: Dataset | None, file: str, scan: datetime | None,
               half_life_s: float | None, warnings: list[str]) -> Sourced | SUVError:
    full = parse_dt(value_of(rp, "RadiopharmaceuticalStartDateTime")) if rp is not None else None
    clock = parse_tm(value_of(rp, "RadiopharmaceuticalStartTime")) if rp is not None else None
    if full is not None:
        if clock is not None and abs((datetime.combine(full.date(), clock) - full).total_seconds()) > 1:
            warnings.append(f"{file}: RadiopharmaceuticalStartTime {clock} disagrees with "
                            f"RadiopharmaceuticalStartDateTime {full}; the DateTime is used")
        return Sourced(full, label("RadiopharmaceuticalStartDateTime"))
    ge = parse_dt(private_value(ds, *GE_ADMIN_DATETIME))
    if ge is not None:
        return Sourced(ge, "GE private administration datetime (0009,103B)")
    where = label("RadiopharmaceuticalStartTime")
    if clock is None:
        return SUVError("injection time missing (neither RadiopharmaceuticalStartDateTime nor "
                        "RadiopharmaceuticalStartTime)", file=file, attribute=label("RadiopharmaceuticalStartDateTime"),
                        fix=fix_for("injection_datetime"))
    if scan is None:
        return SUVError("RadiopharmaceuticalStartTime has no date and the scan date is unknown", file=file,
                        attribute=where, fix=fix_for("injection_datetime"))
    if half_life_s is None or half_life_s > SAME_DAY_MAX_HALF_LIFE_S:
        return SUVError(
            "only a time of day is recorded for the injection (no date) and the nuclide is long-lived: "
            "scans may be days after injection, so the date cannot be assumed", file=file, attribute=where,
            fix=fix_for("injection_datetime", "add RadiopharmaceuticalStartDateTime (0018,1078)"),
        )
    injection = latest_before(clock, scan)
    note = "date taken from the scan (short-lived nuclide, no RadiopharmaceuticalStartDateTime)"
    if injection.date() != scan.date():
        note = "time of day after the scan start: injection taken on the day before the scan (midnight crossing)"
        warnings.append(f"{file}: {note}")
    return Sourced(injection, f"{where} + scan date", note)


def _half_life(rp: Dataset | None, file: str, warnings: list[str]) -> tuple[Sourced, Sourced, SUVError | None]:
    code = rp.get("RadionuclideCodeSequence") if rp is not None else None
    item = code[0] if code else None
    nuclide = identify_nuclide(
        item.get("CodeValue") if item else None, item.get("CodeMeaning") if item else None,
        rp.get("Radiopharmaceutical") if rp is not None else None,
    )
    nuc = Sourced(nuclide.name if nuclide else None, label("RadionuclideCodeSequence") if nuclide else "absent")
    header = _number(rp, "RadionuclideHalfLife")
    where = label("RadionuclideHalfLife")
    if header is not None and header <= 0:
        error = SUVError(f"RadionuclideHalfLife {header:g} s is not positive", file=file, attribute=where,
                         fix=fix_for("nuclide", "correct the header"))
        return nuc, Sourced(None, where), error
    if header is None:
        if nuclide is None:
            error = SUVError("half-life and radionuclide both missing", file=file, attribute=where, fix=fix_for("nuclide"))
            return nuc, Sourced(None, where), error
        return nuc, Sourced(nuclide.half_life_s, f"immunopet.nuclides ({nuclide.name})",
                            f"{where} missing: the table value is used"), None
    value = header
    if nuclide is None:
        nearest = min(NUCLIDES.values(), key=lambda n: abs(math.log(value / n.half_life_s)))
        if abs(value - nearest.half_life_s) > HALF_LIFE_ERROR * nearest.half_life_s:
            return nuc, Sourced(value, where), SUVError(
                f"RadionuclideHalfLife {value:g} s matches no nuclide of the table (nearest {nearest.name}, "
                f"{nearest.half_life_s:g} s) and the radionuclide is not named", file=file, attribute=where,
                fix=fix_for("nuclide", "correct the header"))
        nuc = Sourced(nearest.name, where, "nuclide identified by its half-life")
    else:
        rel = abs(value - nuclide.half_life_s) / nuclide.half_life_s
        text = (f"RadionuclideHalfLife {value:g} s disagrees with {nuclide.name} "
                f"({nuclide.half_life_s:g} s) by {100 * rel:.1f} %")
        if rel > HALF_LIFE_ERROR:
            return nuc, Sourced(value, where), SUVError(text, file=file, attribute=where,
                                                       fix=fix_for("nuclide", "correct the header"))
        if rel > HALF_LIFE_WARN:
            warnings.append(f"{file}: {text}; the header value is used")
    return nuc, Sourced(value, where, "s"), None


def read_suv_inputs(frames: list[Frame], *, overrides: SuvOverrides | None = None) -> SuvInputs:
    """The SUV inputs of the series made of ``frames`` (sorted or not), overrides applied."""
    try:
        return _read_suv_inputs(frames, overrides)
    except SUVError as error:
        if error.file is None:  # name the file for errors raised by the small readers
            raise SUVError(error.message, file=frames[0].file, attribute=error.attribute, fix=error.fix) from None
        raise


def _read_suv_inputs(frames: list[Frame], overrides: SuvOverrides | None) -> SuvInputs:
    ds, file = frames[0].ds, frames[0].file
    ds, lifted = suv_view(ds)  # legacy-converted enhanced PET: attributes in the shared functional groups
    warnings: list[str] = check_slices_agree(frames, overrides)
    values: dict[str, Sourced] = {}
    errors: dict[str, SUVError] = {}
    units = units_of(ds)
    if units not in SUPPORTED_UNITS:
        raise SUVError(f"PET Units {units or '(empty)'!r} cannot be converted to activity concentration",
                       file=file, attribute=label("Units"),
                       fix=f"only {', '.join(SUPPORTED_UNITS)} are quantitative; reconstruct the series in BQML")
    values["units"] = Sourced(units, label("Units"))
    suv_type = str(value_of(ds, "SUVType") or "").upper()
    if units in ("GML", "CM2ML") and suv_type and suv_type not in SUV_TYPES:
        raise SUVError(f"SUVType {suv_type!r} is unknown", file=file, attribute=label("SUVType"),
                       fix=f"use one of {', '.join(SUV_TYPES)}")
    if units == "CM2ML":
        values["suv_type"] = Sourced("BSA", label("Units"), "CM2ML is SUVbsa")
    else:
        values["suv_type"] = Sourced(suv_type or "BW", label("SUVType"), "" if suv_type else "empty: BW assumed")
    values["lbm_formula"] = Sourced(
        SUV_TYPES.get(suv_type, ("", "janmahasatian"))[1],
        label("SUVType") if suv_type.startswith("LBM") else "default (Janmahasatian 2005)",
    )
    decay = decay_correction_of(ds)
    if decay not in ("START", "ADMIN", "NONE"):
        raise SUVError(f"DecayCorrection {decay or '(empty)'!r} is not START, ADMIN or NONE", file=file,
                       attribute=label("DecayCorrection"), fix="the decay-correction reference must be known")
    values["decay_correction"] = Sourced(decay, label("DecayCorrection"))
    rp = _radiopharmaceutical(ds, file, warnings)
    values["nuclide"], values["half_life_s"], half_error = _half_life(rp, file, warnings)
    if half_error is not None:
        errors["half_life_s"] = half_error
    half_life = None if half_error is not None else values["half_life_s"].value  # never compute with a bad one
    scan = read_reference_datetime(frames, half_life, warnings, decay_correction=decay)
    readers = {
        "scan_datetime": scan, "injected_bq": _dose(rp, file), "weight_kg": _weight(ds, file),
        "height_cm": _height(ds, file), "sex": _sex(ds, file),
    }
    scan_value = scan.value if isinstance(scan, Sourced) else None
    readers["injection_datetime"] = _injection(ds, rp, file, scan_value, half_life, warnings)
    for name, result in readers.items():
        if isinstance(result, SUVError):
            record_missing(values, errors, name, result)
        else:
            values[name] = result
    for name, item in values.items():  # the audit names where an attribute was actually found
        if any(keyword and item.source.startswith(keyword) for keyword in lifted) or (
                "RadiopharmaceuticalInformationSequence" in lifted and item.source.startswith("Radio")):
            values[name] = Sourced(item.value, f"{item.source} in {CONVERTED}", item.note)
    inputs = apply_overrides(SuvInputs(file=file, warnings=warnings, missing=errors, **values), overrides)
    injection, start = inputs.injection_datetime, inputs.scan_datetime
    if injection.value is not None and start.value is not None and injection.value > start.value:
        text = (f"injection {injection.value.isoformat()} ({injection.source}) is after the scan start "
                f"{start.value.isoformat()} ({start.source}): the uptake time would be negative")
        if inputs.decay_correction.value != "ADMIN":  # the SUV depends on it: refuse
            raise SUVError(text, file=file, attribute=injection.source, fix=fix_for("injection_datetime"))
        warnings.append(f"{file}: {text} (images corrected to the injection: the SUV does not depend on it)")
    if "half_life_s" in inputs.missing:  # an inconsistent half-life is fatal unless overridden
        raise inputs.missing["half_life_s"]
    return inputs
