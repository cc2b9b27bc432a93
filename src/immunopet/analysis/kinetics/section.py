"""The ``kinetics`` section of ``analyze``: the kinetic tables, and Ki as a predictor beside PET uptake.

Per patient, ``pet_ki`` is the geometric mean of the lesions' Patlak Ki (lesions with a fit and
Ki > 0; others left out with a warning), analysed against every outcome with the machinery used for
IHC and RNA-seq (:func:`immunopet.analysis.predictors.analyse_predictor`: AUC, Mann-Whitney, trend,
Spearman, Kaplan-Meier, Cox per doubling), and compared with PET uptake by the paired AUC bootstrap.
Its row joins the side-by-side predictor table and its AUC difference the AUC comparisons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunopet.analysis.biomarkers import comparison_tables
from immunopet.analysis.kinetics.methods import kinetics_methods
from immunopet.analysis.kinetics.params import KineticsParams
from immunopet.analysis.kinetics.study_kinetics import kinetics
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.predictors import analyse_predictor, comparison_row
from immunopet.analysis.record import Notes, clean
from immunopet.analysis.roc import paired_auc_difference

KI = "pet_ki"
KI_LABEL = "PET Patlak Ki (geometric mean of lesion Ki, 1/h)"
PET = "pet_uptake"


def patient_ki(patlak: pd.DataFrame, *, notes: Notes) -> pd.DataFrame:
    """``patient_id, pet_ki, n_ki_lesions``: geometric mean of the positive lesion Ki per patient."""
    lesions = patlak[patlak["kind"] == "lesion"]
    usable = lesions[np.isfinite(lesions["ki_per_h"]) & (lesions["ki_per_h"] > 0)]
    if len(usable) < len(lesions):
        notes.warn("kinetics.ki_predictor", f"{len(lesions) - len(usable)} of {len(lesions)} lesion(s) without a "
                   "positive Patlak Ki left out of the per-patient geometric means")
    grouped = np.log(usable["ki_per_h"]).groupby(usable["patient_id"])
    return pd.DataFrame({KI: np.exp(grouped.mean()), "n_ki_lesions": grouped.size()}).reset_index()


def ki_predictor(patients: pd.DataFrame, patlak: pd.DataFrame, *, params: AnalysisParams,
                 notes: Notes) -> tuple[dict, dict[str, pd.DataFrame], pd.DataFrame]:
    """The Ki predictor block, its curve tables and the patient table with ``pet_ki``."""
    per_patient = patient_ki(patlak, notes=notes)
    table = patients.drop(columns=[c for c in (KI, "n_ki_lesions") if c in patients.columns])
    table = table.merge(per_patient.assign(patient_id=per_patient["patient_id"].astype(str)), on="patient_id",
                        how="left")
    block, curves = analyse_predictor(table, KI, label=KI_LABEL, log2=True, params=params,
                                      notes=notes, section="kinetics.ki_predictor")
    block["auc_vs_pet"] = {"predictor": KI, **paired_auc_difference(
        table["responder"].to_numpy(dtype=float), pd.to_numeric(table[PET], errors="coerce").to_numpy(dtype=float),
        table[KI].to_numpy(dtype=float), inputs=f"AUC(PET uptake) - AUC({KI}), patients with both",
        n_boot=params.n_boot, seed=params.seed, ci_level=params.ci_level)}
    return block, curves, table


def kinetics_section(measurements: pd.DataFrame, patients: pd.DataFrame, biomarker_block: dict,
                     biomarker_tables: dict[str, pd.DataFrame], *, params: AnalysisParams,
                     kinetics_params: KineticsParams | None, notes: Notes,
                     samples: pd.DataFrame | None = None) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The ``kinetics`` JSON block and tables.

    Adds Ki in place to ``biomarker_block`` (``comparison``) and to the tables
    ``predictor_comparison`` and ``auc_comparison`` of ``biomarker_tables``.

    Studies without uptake times (``hours_pi``, e.g. NIfTI SUV images) get a block with ``reason``.
    """
    kp = kinetics_params or KineticsParams.from_config(analysis=params)
    hours = pd.to_numeric(measurements["hours_pi"], errors="coerce") if "hours_pi" in measurements else None
    if hours is None or not (hours > 0).any():
        notes.warn("kinetics", "no uptake times (hours_pi) in the measurements: kinetic analyses not run")
        block = {"parameters": kp.as_dict(), "reason": "no uptake times (hours_pi)"}
        return {**block, "methods": kinetics_methods(block)}, {}
    block, tables = kinetics(measurements, params=kp, notes=notes, samples=samples)
    if block["n_patlak_fits"] and (tables["patlak"]["kind"] == "lesion").any():
        ki_block, curves, _ = ki_predictor(patients, tables["patlak"], params=params, notes=notes)
        block["ki_predictor"] = ki_block
        biomarker_block.setdefault("comparison", []).append(clean(comparison_row(ki_block)))
        # the JSON record stays under kinetics.ki_predictor (exploratory, outside the plan's auc_vs_pet
        # family of the biomarkers); the side-by-side tables list it with the others
        biomarker_tables.update(comparison_tables(biomarker_block["comparison"],
                                                  [*biomarker_block.get("auc_vs_pet", []), ki_block["auc_vs_pet"]]))
        tables.update({f"_{name}": frame for name, frame in curves.items()})
    return block, tables
