"""The rules that decide, series by series, what init quantifies and why the rest is left out.

Each rule is a pure function of one :class:`~immunopet.intake.headers.SeriesHeader` (or of the
candidates of one scan session) returning ``None`` (keep) or the reason a series is left out. The
reasons are fixed phrases (the constants below) so tables and tests can rely on them; details such as
the attribute value follow after a colon. docs/init.md states the rules in the order applied.
"""

from __future__ import annotations

import re

from immunopet.dicom.inputs import SUPPORTED_UNITS
from immunopet.intake.headers import DOSE_SR_CLASSES, SECONDARY_CAPTURE_PREFIX, SeriesHeader
from immunopet.nuclides import Nuclide

NAC = "not attenuation corrected (NAC)"
SECONDARY = "secondary capture"
DERIVED = "derived image (MIP, projection or reformat)"
SCOUT = "scout / localizer"
DOSE_REPORT = "dose report"
NOT_VOLUME = "not a volume"
UNITS = "units not convertible to SUV"
NO_INJECTION = "no injection date/time"
HALF_LIFE = "half-life does not match the nuclide"
SMALLER_FOV = "smaller field of view"
SECOND_RECON = "second reconstruction"
OFF_SCHEDULE = "off schedule"
REPEAT = "repeat scan on the same day"
UNPAIRED_CT = "CT not paired with a quantified PET"
OTHER = "not PET or CT"
UNREADABLE = "unreadable"
ANNOTATION_UNUSED = "annotation of no quantified scan"

#: Relative tolerance on the header half-life (the study format's 1 %).
HALF_LIFE_TOLERANCE = 0.01
#: Candidates whose field of view is within this fraction of the largest count as the same coverage.
FOV_TIE = 0.02


def _derived(header: SeriesHeader) -> bool:
    """A MIP, projection or reformat, or a DERIVED/SECONDARY object that is no volume (a screen capture).

    A DERIVED/SECONDARY *volume* (a series converted or cropped by software, e.g. to SUV units) is kept.
    """
    kinds = set(header.image_type)
    if kinds & {"MIP", "PROJECTION", "PROJECTION IMAGE", "REFORMATTED", "MPR"}:
        return True
    secondary = bool(header.image_type) and header.image_type[0] == "DERIVED" and "SECONDARY" in kinds
    return secondary and (header.info.shape is None or header.info.shape[2] <= 2)


_NAC_TEXT = re.compile(r"\bNAC\b|\bNO[ _-]?AC\b|uncorrected", re.IGNORECASE)


def _not_attenuation_corrected(header: SeriesHeader) -> bool:
    """CorrectedImage present without ATTN (and no AttenuationCorrectionMethod), or, when CorrectedImage
    is absent, a SeriesDescription that says NAC."""
    if header.corrected:
        return "ATTN" not in header.corrected and not header.attenuation_method
    return bool(_NAC_TEXT.search(header.info.description))


def _dose_report(header: SeriesHeader) -> bool:
    """RDSR, or a non-volume object (screen capture, one image) described as a dose report or protocol."""
    if header.sop_class_uid in DOSE_SR_CLASSES:
        return True
    text = header.info.description.lower()
    small = header.info.shape is None or header.info.n_instances <= 2
    return small and ("dose" in text or "protocol" in text)


def common_reason(header: SeriesHeader) -> str | None:
    """Reasons that apply to any image series (unreadable, secondary capture, dose report, derived)."""
    if header.problem:
        return f"{UNREADABLE}: {header.problem}"
    if header.sop_class_uid in DOSE_SR_CLASSES or (header.info.modality in ("CT", "SR", "OT") and _dose_report(header)):
        return DOSE_REPORT
    if header.sop_class_uid.startswith(SECONDARY_CAPTURE_PREFIX):
        return SECONDARY
    if _derived(header):
        return f"{DERIVED}: ImageType {'/'.join(header.image_type)}"
    return None


def pet_reason(header: SeriesHeader, nuclide: Nuclide) -> str | None:
    """Why a PT series cannot be the quantified PET of a scan, or ``None``."""
    reason = common_reason(header)
    if reason:
        return reason
    if _not_attenuation_corrected(header):
        return f"{NAC}: CorrectedImage {'/'.join(sorted(header.corrected)) or '(empty)'}"
    if header.info.shape is None or header.info.n_instances < 2 and header.info.shape[2] < 2:
        return f"{NOT_VOLUME}: {header.info.n_instances} slice(s)"
    units = (header.info.units or "").upper()
    if units not in SUPPORTED_UNITS:
        return f"{UNITS}: Units {units or '(empty)'}; quantifiable are {', '.join(SUPPORTED_UNITS)}"
    if header.injection is None:
        return f"{NO_INJECTION}: RadiopharmaceuticalStartDateTime/StartTime (0018,1078/1072) empty"
    if header.half_life_s and abs(header.half_life_s / nuclide.half_life_s - 1.0) > HALF_LIFE_TOLERANCE:
        return (f"{HALF_LIFE}: RadionuclideHalfLife {header.half_life_s / 3600:.4g} h, "
                f"{nuclide.name} {nuclide.half_life_s / 3600:.4g} h")
    return None


def ct_reason(header: SeriesHeader) -> str | None:
    """Why a CT series cannot be the CT of a scan, or ``None``."""
    reason = common_reason(header)
    if reason:
        return reason
    if "LOCALIZER" in header.image_type or header.info.n_instances <= 2 and (header.info.shape or (0, 0, 1))[2] <= 2:
        return SCOUT
    if header.info.shape is None:
        return f"{NOT_VOLUME}: {header.info.n_instances} image(s)"
    return None


def matches_preference(header: SeriesHeader, preference: str | None) -> bool:
    """Whether the reconstruction preference (case-insensitive text) names this series."""
    if not preference:
        return False
    text = f"{header.info.description} {header.reconstruction}".lower()
    return preference.lower() in text


def rank_candidates(candidates: list[SeriesHeader], preference: str | None) -> tuple[SeriesHeader, dict[str, str]]:
    """The PET to quantify among the candidates of one session, and why each other one is not.

    Order: the largest field of view (volume of the image grid; within 2 % counts as equal), then the
    reconstruction ``preference``, then the lowest SeriesNumber (the scanner's first reconstruction),
    then the series UID (so the choice never depends on file order).
    """
    largest = max(c.fov_ml for c in candidates)
    covering = [c for c in candidates if c.fov_ml >= (1.0 - FOV_TIE) * largest]
    covering.sort(key=lambda c: (not matches_preference(c, preference), c.series_number is None,
                                 c.series_number or 0, c.uid))
    chosen = covering[0]
    why: dict[str, str] = {}
    for other in candidates:
        if other is chosen:
            continue
        if other in covering:
            basis = (f"preference {preference!r}" if matches_preference(chosen, preference)
                     else "lower SeriesNumber kept; give --recon to choose")
            why[other.uid] = f"{SECOND_RECON}: same acquisition as series {chosen.series_number} ({basis})"
        else:
            why[other.uid] = f"{SMALLER_FOV}: {other.fov_ml:.0f} mL vs {largest:.0f} mL"
    return chosen, why
