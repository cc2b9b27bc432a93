"""Kinetics figures: uptake curves per patient, cohort median curves, Patlak plots of lesions.

Drawn from the analysis tables ``time_activity``, ``median_curves``, ``patlak`` and ``blood_input``
(``docs/kinetics.md``); no image is read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from immunopet.report.figio import PALETTE, new_figure, styled


@styled
def patient_curves_figure(time_activity: pd.DataFrame, patient_id: str, *, blood_voi: str = "blood_pool") -> Figure:
    """One patient's SUVmean over time: organs (left) and lesions with the blood pool (right)."""
    rows = time_activity[time_activity["patient_id"].astype(str) == str(patient_id)]
    if rows.empty:
        raise ValueError(f"no time-activity rows for patient {patient_id}")
    fig = new_figure(7.4, 3.2)
    left, right = fig.subplots(1, 2, sharex=True)
    organs = rows[(rows["kind"] == "organ")]
    for n, (voi, part) in enumerate(organs.groupby("voi_id", sort=True)):
        style = {"color": "black", "lw": 2.0} if voi == blood_voi else {"color": PALETTE[n % len(PALETTE)], "lw": 1.2}
        left.plot(part["hours_pi"] / 24.0, part["suv_mean"], marker="o", ms=3, label=str(voi), **style)
    lesions = rows[rows["kind"] == "lesion"]
    for n, (voi, part) in enumerate(lesions.groupby("voi_id", sort=True)):
        right.plot(part["hours_pi"] / 24.0, part["suv_mean"], marker="o", ms=3, color=PALETTE[n % len(PALETTE)],
                   label=str(voi))
    blood = organs[organs["voi_id"] == blood_voi]
    if not blood.empty:
        right.plot(blood["hours_pi"] / 24.0, blood["suv_mean"], color="black", lw=2.0, label=blood_voi)
    for ax, title in ((left, "organs"), (right, "lesions")):
        ax.set_xlabel("days after injection")
        ax.set_title(f"{patient_id}: {title}")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    left.set_ylabel("SUVmean (decay corrected)")
    return fig


@styled
def median_curves_figure(curves: pd.DataFrame) -> Figure:
    """Cohort: median SUVmean per organ (lesions pooled) against the median scan time, with quartiles."""
    if curves.empty:
        raise ValueError("no median curves")
    fig = new_figure(6.4, 4.0)
    ax = fig.add_subplot()
    for n, (site, part) in enumerate(curves.groupby("site", sort=True)):
        colour = "black" if site == "blood_pool" else PALETTE[n % len(PALETTE)]
        days = part["median_hours_pi"] / 24.0
        ax.errorbar(days, part["median_suv_mean"], yerr=[part["median_suv_mean"] - part["q25"],
                                                          part["q75"] - part["median_suv_mean"]],
                    marker="o", ms=3, capsize=2, lw=1.2, color=colour, label=str(site),
                    ls="-" if n < len(PALETTE) else "--")
    ax.set_xlabel("days after injection (median scan time)")
    ax.set_ylabel("SUVmean, median (quartiles)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Uptake over time, cohort medians")
    return fig


def patlak_points(time_activity: pd.DataFrame, blood_input: pd.DataFrame, patlak: pd.DataFrame,
                  patient_id: str, voi_id: str) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) Patlak points of one VOI, rebuilt from the blood curve parameters of ``blood_input``.

    Only for bi-exponential inputs (the curve is then fully given by its four parameters).
    """
    blood = blood_input[blood_input["patient_id"].astype(str) == str(patient_id)]
    fit = patlak[(patlak["patient_id"].astype(str) == str(patient_id)) & (patlak["voi_id"] == voi_id)]
    if blood.empty or fit.empty or blood["method"].iloc[0] != "biexp":
        raise ValueError(f"{patient_id} {voi_id}: no bi-exponential blood curve to draw the Patlak plot from")
    b = blood.iloc[0]
    k1, k2 = np.log(2) / b["half_life1_h"], np.log(2) / b["half_life2_h"]
    rows = time_activity[(time_activity["patient_id"].astype(str) == str(patient_id))
                         & (time_activity["voi_id"] == voi_id) & (time_activity["day"] >= fit["first_day"].iloc[0])]
    t = rows["hours_pi"].to_numpy(float)
    cb = b["a1"] * np.exp(-k1 * t) + b["a2"] * np.exp(-k2 * t)
    area = b["a1"] * -np.expm1(-k1 * t) / k1 + b["a2"] * -np.expm1(-k2 * t) / k2
    return area / cb, rows["suv_mean"].to_numpy(float) / cb


@styled
def patlak_figure(time_activity: pd.DataFrame, blood_input: pd.DataFrame, patlak: pd.DataFrame,
                  patient_id: str) -> Figure:
    """Patlak plots (C_T/C_B against integral C_B / C_B) of one patient's lesions with the fitted lines."""
    fits = patlak[(patlak["patient_id"].astype(str) == str(patient_id)) & (patlak["kind"] == "lesion")
                  & patlak["ki_per_h"].notna()]
    if fits.empty:
        raise ValueError(f"{patient_id}: no lesion with a Patlak fit")
    fig = new_figure(4.6, 3.4)
    ax = fig.add_subplot()
    for n, fit in enumerate(fits.itertuples()):
        x, y = patlak_points(time_activity, blood_input, patlak, patient_id, fit.voi_id)
        colour = PALETTE[n % len(PALETTE)]
        ax.plot(x, y, "o", ms=4, color=colour)
        line = np.linspace(0.0, float(np.max(x)) * 1.05, 20)
        ax.plot(line, fit.v_t + fit.ki_per_h * line, lw=1.0, color=colour,
                label=f"{fit.voi_id}: Ki {fit.ki_per_h:.4f}/h ({fit.ki_ci_low:.4f} to {fit.ki_ci_high:.4f}), "
                      f"V_T {fit.v_t:.2f}")
    ax.set_xlabel("integral C_B dt / C_B (h)")
    ax.set_ylabel("C_T / C_B")
    ax.set_xlim(left=0)
    ax.legend(fontsize=6, loc="upper left")
    ax.set_title(f"{patient_id}: Patlak plots of the lesions")
    return fig


def patient_kinetics_figures(tables: dict[str, pd.DataFrame], figures_dir, *, svg: bool) -> dict[str, list]:
    """Per patient: the uptake curves and the lesions' Patlak plots, saved (``SavedFigure`` lists).

    Missing tables (analyses without kinetics) give no figures; a figure that cannot be drawn for a
    patient (no lesion fit, no bi-exponential blood curve) is left out for that patient.
    """
    import logging

    from immunopet.report.figio import save_figure

    log = logging.getLogger(__name__)
    activity, blood, patlak = (tables.get(name) for name in ("time_activity", "blood_input", "patlak"))
    if activity is None or activity.empty:
        return {}
    out: dict[str, list] = {}
    for pid in sorted(activity["patient_id"].astype(str).unique()):
        saved = []
        plans = [("kinetics_curves", lambda: patient_curves_figure(activity, pid),
                  "SUVmean of the organs and lesions over the scan days (decay corrected); black: blood pool.")]
        if blood is not None and patlak is not None and not patlak.empty:
            plans.append(("patlak", lambda: patlak_figure(activity, blood, patlak, pid),
                          "Patlak plots of the lesions (scans from the first Patlak day on) with the weighted "
                          "least-squares lines; Ki with its 95 % CI (analysis/patlak.csv)."))
        for stem, draw, caption in plans:
            try:
                saved.append(save_figure(draw(), figures_dir, f"{stem}_{pid}", caption=caption, svg=svg))
            except (KeyError, ValueError) as error:
                log.info("figure %s of %s not drawn: %s", stem, pid, error)
        out[pid] = saved
    return out
