"""The methods paragraph of the kinetic analyses, generated from the parameters and counts used."""

from __future__ import annotations

from typing import Any

BLOOD_PHRASES = {
    "biexp": ("a bi-exponential curve fitted (least squares on relative residuals) to all blood values from the "
              "first scan on, integrated analytically from the time of injection"),
    "loglinear": ("exponential interpolation between the blood values, extrapolated back to injection with the "
                  "mono-exponential through the first two values"),
}
WEIGHT_PHRASES = {
    "counts": ("weighted least squares with weights from counting statistics (relative variance of a VOI mean "
               "proportional to exp(lambda t) / (C V))"),
    "uniform": "ordinary least squares",
}


def kinetics_methods(block: dict[str, Any]) -> str:
    """One paragraph a paper can cite, stating exactly what the ``kinetics`` block was computed with."""
    p = block.get("parameters") or {}
    if block.get("reason"):
        return f"Kinetic analyses were not run ({block['reason']})."
    metric = {"suv_mean": "SUVmean", "suv_peak": "SUVpeak", "suv_max": "SUVmax"}.get(p.get("metric"), p.get("metric"))
    n_fits, n_vois = block.get("n_patlak_fits", 0), len(block.get("patlak", []))
    level = 100 * float(p.get("ci_level", 0.95))
    sources = sorted({row.get("source") for row in block.get("blood_input", []) if row.get("source")})
    fractions = [row["early_fraction"] for row in block.get("blood_input", []) if row.get("early_fraction") is not None]
    early = ""
    if fractions:
        early = (f" The part of the blood integral before the first blood value was median "
                 f"{100 * sorted(fractions)[len(fractions) // 2]:.1f} % (range {100 * min(fractions):.1f}-"
                 f"{100 * max(fractions):.1f} %) of the integral to the last scan.")
    source = " and ".join("the image-derived blood pool (whole blood, VOI " + str(p.get("blood_voi")) + ")"
                          if s == "image" else "blood samples (whole blood)" for s in sources) or "the blood pool"
    draws = ""
    if block.get("n_blood_draw_intervals"):
        draws = (f" For the {block['n_blood_draw_intervals']} VOIs with the image-derived blood input, the blood curve's "
                 f"uncertainty was included: each blood-pool value was given the relative variance of the counting "
                 f"model of the weights, scaled by the patient's residual variance of all its Patlak fits; "
                 f"{block.get('blood_draws')} blood curves per patient were drawn from these errors (seed "
                 f"{p.get('seed', 0)}) and refitted, every VOI's Patlak line was refitted on each, and the within-fit "
                 f"and between-draw variances were combined by Rubin's rules (Rubin, Multiple Imputation for "
                 f"Nonresponse in Surveys, 1987), the interval being the quantile of the sum of the two parts, each "
                 f"Student-t on its own degrees of freedom.")
    text = (
        f"Patlak graphical analysis (Patlak et al., J Cereb Blood Flow Metab 1983; for 89Zr-labelled antibodies "
        f"Jauw et al., J Nucl Med 2019) was applied per organ and lesion VOI to the {metric} of the scans from "
        f"nominal day {p.get('patlak_from_day', 2):g} on: C_T(t)/C_B(t) = Ki x integral_0^t C_B ds / C_B(t) + V_T, "
        f"with decay-corrected concentrations, times from the full injection and scan date-times, and {source} as "
        f"input. The blood curve was {BLOOD_PHRASES.get(p.get('blood_method'), p.get('blood_method'))}.{early} "
        f"Ki and V_T were estimated by {WEIGHT_PHRASES.get(p.get('weights'), p.get('weights'))}; within-fit standard "
        f"errors from the residual variance and within-fit {level:g} % confidence intervals from Student's t with "
        f"n - 2 degrees of freedom; VOIs with fewer than 3 points were not fitted ({n_fits} of {n_vois} VOIs fitted).{draws} "
        f"Per patient, Ki was summarised as the geometric mean of the lesions' positive Ki and analysed as a "
        f"predictor beside PET uptake with the same tests. Time-integrated activity coefficients (h) were computed "
        f"from each VOI's fraction of the injected activity (not decay corrected) by the trapezoid rule with "
        f"physical decay after the last scan (MIRD Pamphlet No. 16, Siegel et al., J Nucl Med 1999) and by "
        f"mono-exponential, bi-exponential and Patlak-model fits, the fit with the lowest corrected Akaike "
        f"information criterion being reported (Glatting et al., Med Phys 2007); {p.get('nuclide', 'Zr-89')} "
        f"half-life {float(p.get('half_life_h', 78.41)):.2f} h."
    )
    return text
