"""The acquisition start a PET series is decay corrected to (DecayCorrection START / NONE).

Candidates, in the order of docs/suv.md: DecayCorrectionDateTime; SeriesDate + SeriesTime (unless
after the earliest acquisition); the GE private scan date-time; the IBSI back-computation from
FrameReferenceTime; the earliest acquisition time. Vendors disagree on what FrameReferenceTime
means (Siemens: activity-weighted mid-frame time; GE: the bed's start offset from AcquisitionTime),
so where slices carry DecayFactor (0054,1321) every candidate is tested against it:

``DecayFactor = exp(lambda (t_frame_start - t_ref)) x lambda T / (1 - exp(-lambda T))``

with ``t_frame_start`` either AcquisitionTime (Siemens) or AcquisitionTime + FrameReferenceTime
(GE). The first candidate that reproduces every slice's DecayFactor is used; when none does, the
first candidate is kept and a warning names it and the time DecayFactor implies. A DecayFactor of
exactly 1 on every slice is a placeholder (it cannot hold for a frame of non-zero duration) and is
ignored; the check applies to DecayCorrection START only.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from immunopet.dicom import suv as arithmetic
from immunopet.dicom.geometry import Frame
from immunopet.dicom.header import (
    GE_SCAN_DATETIME, Sourced, date_time_of, float_of, label, parse_dt, private_value, seconds_between,
)
from immunopet.errors import SUVError

#: A candidate reproduces DecayFactor when it is within this many seconds of the implied time,
#: and an implied time is consistent when the slices agree on it within the same margin.
MATCH_S = 10.0
_BACK_SOURCE = ("back-computed: AcquisitionTime (0008,0032) + T_ave(ActualFrameDuration (0018,1242)) - "
                "FrameReferenceTime (0054,1300)")


def _candidates(frames: list[Frame], half_life_s: float | None) -> list[Sourced]:
    ds = frames[0].ds
    found: list[Sourced] = []
    explicit = parse_dt(ds.get("DecayCorrectionDateTime"))
    if explicit is not None:
        found.append(Sourced(explicit, label("DecayCorrectionDateTime")))
    series = date_time_of(ds, "Series")
    acquisitions = [f.acquisition for f in frames if f.acquisition is not None]
    earliest = min(acquisitions) if acquisitions else None
    note = (f"SeriesTime {series.isoformat()} is after the earliest AcquisitionTime {earliest.isoformat()} "
            "(series modified)" if series and earliest else "no SeriesDate/SeriesTime")
    if series is not None and (earliest is None or series <= earliest + timedelta(seconds=1)):
        found.append(Sourced(series, f"{label('SeriesDate')} + {label('SeriesTime')}"))
        note = "SeriesDate/SeriesTime not reproduced by DecayFactor"
    ge = parse_dt(private_value(ds, *GE_SCAN_DATETIME))
    if ge is not None:
        found.append(Sourced(ge, "GE private PET scan_datetime (0009,100D)", note))
    timed = [f for f in frames if f.acquisition and f.frame_reference_ms is not None and (f.duration_ms or 0) > 0]
    if timed and half_life_s:
        refs = sorted(
            f.acquisition + timedelta(seconds=arithmetic.backcomputed_reference_offset_s(
                frame_reference_s=f.frame_reference_ms / 1000.0, frame_duration_s=f.duration_ms / 1000.0,
                half_life_s=half_life_s))
            for f in timed
        )
        spread = seconds_between(refs[0], refs[-1])
        extra = f"; back-computed times spread over {spread:.0f} s" if spread > 60 else ""
        found.append(Sourced(refs[len(refs) // 2], _BACK_SOURCE, note + extra))
    if earliest is not None:
        found.append(Sourced(earliest, f"earliest {label('AcquisitionDate')} + {label('AcquisitionTime')}", note))
    return found


def implied_references(frames: list[Frame], half_life_s: float | None) -> list[tuple[datetime, str]]:
    """Reference times implied by DecayFactor, one per frame-start convention whose slices agree."""
    if not half_life_s:
        return []
    lam = math.log(2.0) / half_life_s
    rows = []
    if all(float_of(f.ds, "DecayFactor") == 1.0 for f in frames):
        return []  # placeholder value
    for frame in {id(f.ds): f for f in frames}.values():
        factor = float_of(frame.ds, "DecayFactor")
        if factor is None or not math.isfinite(factor) or factor <= 0 or frame.acquisition is None:
            return []
        duration = (frame.duration_ms or 0.0) / 1000.0
        x = lam * duration
        in_frame = 1.0 if x == 0 else x / -math.expm1(-x)
        rows.append((frame, math.log(factor / in_frame) / lam))
    if not rows:
        return []
    implied = []
    conventions = (("AcquisitionTime", lambda f: 0.0),
                   ("AcquisitionTime + FrameReferenceTime", lambda f: (f.frame_reference_ms or 0.0) / 1000.0))
    for name, start_offset in conventions:
        times = sorted(f.acquisition + timedelta(seconds=start_offset(f) - offset) for f, offset in rows)
        if seconds_between(times[0], times[-1]) <= MATCH_S:
            implied.append((times[len(times) // 2], name))
    return implied


def read_reference_datetime(frames: list[Frame], half_life_s: float | None,
                            warnings: list[str] | None = None, *, decay_correction: str = "START") -> Sourced | SUVError:
    """Acquisition start for DecayCorrection START/NONE (module docstring), checked by DecayFactor."""
    candidates = _candidates(frames, half_life_s)
    implied = implied_references(frames, half_life_s) if decay_correction == "START" else []
    if not candidates and not implied:
        return SUVError("no reference time: SeriesDate/SeriesTime, GE scan_datetime and AcquisitionDate/Time "
                        "are all missing", file=frames[0].file, attribute=label("SeriesTime"),
                        fix="add SeriesDate and SeriesTime to the files (the scan start)")
    if not implied:
        return candidates[0]
    for candidate in candidates:
        for moment, convention in implied:
            if abs(seconds_between(moment, candidate.value)) <= MATCH_S:
                checked = f"reproduces DecayFactor (0054,1321), frame start = {convention}"
                if candidate is not candidates[0] and warnings is not None:
                    warnings.append(
                        f"{frames[0].file}: {candidates[0].source} ({candidates[0].value.isoformat()}) does not "
                        f"reproduce DecayFactor (0054,1321); {candidate.source} ({candidate.value.isoformat()}) "
                        "does and is used")
                return Sourced(candidate.value, candidate.source, "; ".join(filter(None, (candidate.note, checked))))
    moment, convention = implied[0]
    if not candidates:
        return Sourced(moment, f"implied by DecayFactor (0054,1321), frame start = {convention}",
                       "no header reference time")
    first = candidates[0]
    if warnings is not None:
        warnings.append(f"{frames[0].file}: no reference-time candidate reproduces DecayFactor (0054,1321): "
                        f"{first.source} gives {first.value.isoformat()}, DecayFactor implies {moment.isoformat()} "
                        f"(frame start = {convention}); {first.source} is used")
    return first
