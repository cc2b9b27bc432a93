"""Pure SUV arithmetic: decay, body-size formulas and SUV factors (no DICOM here).

Every function takes plain numbers in SI-like units (seconds, Bq, kg, cm) and returns a number, so
it can be tested against hand calculations. The definitions are documented in ``docs/suv.md``.

References
----------
Vácha M, Hofheinz F, Braune A, Löck S, Zwanenburg A. Comprehensive manual for SUV computation and
digital reference objects for its verification (IBSI SUV manual), 2024.
Janmahasatian S et al. Quantification of lean bodyweight. Clin Pharmacokinet 2005;44:1051-1065.
James WPT. Research on obesity. London: HMSO, 1976.
Du Bois D, Du Bois EF. A formula to estimate the approximate surface area if height and weight be
known. Arch Intern Med 1916;17:863-871.
"""

from __future__ import annotations

import math
from collections.abc import Callable

#: The SUV normalisations understood everywhere in immunopet, and their image units.
SUV_KINDS: dict[str, str] = {"bw": "SUVbw", "lbm": "SUVlbm", "bsa": "SUVbsa", "ibw": "SUVibw"}

#: DICOM SUVType (0054,1006) values and the normalisation they name (LBM variants are all "lbm").
LBM_FORMULAS = ("janmahasatian", "james128", "james120")


def decay_factor(elapsed_s: float, half_life_s: float) -> float:
    """Fraction of activity left after ``elapsed_s`` seconds: ``2 ** (-elapsed_s / half_life_s)``."""
    if half_life_s <= 0:
        raise ValueError(f"half-life must be positive, got {half_life_s}")
    return math.exp(-math.log(2.0) * elapsed_s / half_life_s)


def decayed_activity(activity_bq: float, elapsed_s: float, half_life_s: float) -> float:
    """Activity ``elapsed_s`` seconds later (negative ``elapsed_s`` goes back in time)."""
    return activity_bq * decay_factor(elapsed_s, half_life_s)


def average_count_time_s(frame_duration_s: float, half_life_s: float) -> float:
    """Time after frame start at which the activity equals its frame average (decaying source).

    ``T_ave = ln(lambda T / (1 - exp(-lambda T))) / lambda`` (IBSI SUV manual, reference-time
    option 4); tends to ``T / 2`` for a frame short compared with the half-life.
    """
    if frame_duration_s <= 0:
        return 0.0
    lam = math.log(2.0) / half_life_s
    x = lam * frame_duration_s
    return math.log(x / -math.expm1(-x)) / lam


def backcomputed_reference_offset_s(
    *, frame_reference_s: float, frame_duration_s: float, half_life_s: float
) -> float:
    """Reference time minus acquisition time: ``T_ave - frame_reference_time`` (seconds)."""
    return average_count_time_s(frame_duration_s, half_life_s) - frame_reference_s


def uncorrected_frame_factor(
    *, acquisition_offset_s: float, frame_duration_s: float, half_life_s: float
) -> float:
    """Factor turning a frame that is NOT decay corrected into activity at the reference time.

    ``lambda T / (1 - exp(-lambda T)) * exp(lambda (t_acq - t_ref))`` with ``acquisition_offset_s``
    = ``t_acq - t_ref`` (DecayCorrection NONE in the IBSI SUV manual).
    """
    lam = math.log(2.0) / half_life_s
    x = lam * frame_duration_s
    in_frame = 1.0 if x == 0 else x / -math.expm1(-x)
    return in_frame * math.exp(lam * acquisition_offset_s)


# ----- body size -------------------------------------------------------------------------------
def _by_sex(sex: str, male: Callable[[], float], female: Callable[[], float]) -> float:
    """Male or female value; sex ``"O"`` (other) takes the mean of both (IBSI SUV manual)."""
    s = sex.upper()
    if s == "M":
        return male()
    if s == "F":
        return female()
    if s == "O":
        return 0.5 * (male() + female())
    raise ValueError(f"sex must be 'M', 'F' or 'O', got {sex!r}")


def bmi(weight_kg: float, height_cm: float) -> float:
    """Body-mass index, kg/m^2."""
    return weight_kg / (height_cm / 100.0) ** 2


def lbm_janmahasatian(weight_kg: float, height_cm: float, sex: str) -> float:
    """Lean body mass (kg), Janmahasatian 2005: ``9270 W / (6680 + 216 BMI)`` (male),
    ``9270 W / (8780 + 244 BMI)`` (female)."""
    b = bmi(weight_kg, height_cm)
    return _by_sex(
        sex,
        lambda: 9270.0 * weight_kg / (6680.0 + 216.0 * b),
        lambda: 9270.0 * weight_kg / (8780.0 + 244.0 * b),
    )


def lbm_james(weight_kg: float, height_cm: float, sex: str, *, male_coefficient: float = 128.0) -> float:
    """Lean body mass (kg), James 1976: ``1.10 W - 128 (W/H)^2`` (male), ``1.07 W - 148 (W/H)^2``
    (female), H in cm. ``male_coefficient=120`` gives DICOM's SUVType ``LBM`` (Morgan) variant."""
    ratio2 = (weight_kg / height_cm) ** 2
    return _by_sex(
        sex,
        lambda: 1.10 * weight_kg - male_coefficient * ratio2,
        lambda: 1.07 * weight_kg - 148.0 * ratio2,
    )


def bsa_dubois_m2(weight_kg: float, height_cm: float) -> float:
    """Body surface area (m^2), Du Bois & Du Bois 1916: ``0.007184 H^0.725 W^0.425``."""
    return 0.007184 * height_cm**0.725 * weight_kg**0.425


def ibw_ibsi(height_cm: float, sex: str) -> float:
    """Ideal body weight (kg) as the IBSI SUV manual defines it for SUVType ``IBW``:
    ``48.0 + 1.06 (H - 152)`` (male), ``45.5 + 0.91 (H - 152)`` (female), H in cm."""
    above = height_cm - 152.0
    return _by_sex(sex, lambda: 48.0 + 1.06 * above, lambda: 45.5 + 0.91 * above)


def lean_body_mass(weight_kg: float, height_cm: float, sex: str, *, formula: str = "janmahasatian") -> float:
    """Lean body mass (kg) by the named formula (one of :data:`LBM_FORMULAS`)."""
    if formula == "janmahasatian":
        return lbm_janmahasatian(weight_kg, height_cm, sex)
    if formula == "james128":
        return lbm_james(weight_kg, height_cm, sex)
    if formula == "james120":
        return lbm_james(weight_kg, height_cm, sex, male_coefficient=120.0)
    raise ValueError(f"unknown LBM formula {formula!r}; use one of {LBM_FORMULAS}")


def normaliser(
    kind: str,
    *,
    weight_kg: float,
    height_cm: float | None = None,
    sex: str | None = None,
    lbm_formula: str = "janmahasatian",
) -> float:
    """The SUV denominator's body-size term: grams for bw/lbm/ibw, cm^2 for bsa.

    Raises ``ValueError`` naming the missing quantity (callers turn it into an SUVError).
    """
    if kind == "bw":
        return weight_kg * 1000.0
    if height_cm is None:
        raise ValueError(f"SUV{kind} needs the patient's height")
    if kind == "bsa":
        return bsa_dubois_m2(weight_kg, height_cm) * 1.0e4
    if sex is None:
        raise ValueError(f"SUV{kind} needs the patient's sex")
    if kind == "lbm":
        return lean_body_mass(weight_kg, height_cm, sex, formula=lbm_formula) * 1000.0
    if kind == "ibw":
        return ibw_ibsi(height_cm, sex) * 1000.0
    raise ValueError(f"unknown SUV kind {kind!r}; use one of {', '.join(SUV_KINDS)}")


def suv_factor(kind: str, *, injected_bq_at_reference: float, **body: float | str | None) -> float:
    """Multiply Bq/mL by this to get SUV of ``kind``: ``normaliser / D_ref``.

    ``body`` holds ``weight_kg``, ``height_cm``, ``sex`` and optionally ``lbm_formula``.
    """
    if injected_bq_at_reference <= 0:
        raise ValueError("injected activity at the reference time must be positive")
    return normaliser(kind, **body) / injected_bq_at_reference  # type: ignore[arg-type]
