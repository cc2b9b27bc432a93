"""The outcome of :func:`immunopet.analysis.analyze`: named tables and a JSON-able summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from immunopet.analysis.record import clean

#: Version of the ``analysis.json`` layout documented in ``docs/analyses.md``.
SCHEMA_VERSION = 1


@dataclass
class AnalysisResult:
    """Tables and summary of one analysis run.

    Attributes
    ----------
    tables
        ``name -> DataFrame``; written as ``analysis/<name>.csv`` (names in ``docs/analyses.md``).
    summary
        JSON-able dict with the keys ``schema_version, parameters, inputs, warnings, key_results,
        biodistribution, tumour_uptake, outcome, biomarkers``.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def warnings(self) -> list[dict[str, str]]:
        """The recorded warnings (``{"analysis": ..., "message": ...}``)."""
        return list(self.summary.get("warnings", []))

    def to_json(self) -> str:
        """``summary`` as JSON text (NaN written as ``null``)."""
        return json.dumps(clean(self.summary), indent=2, allow_nan=False)

    def write(self, out_dir: str | Path) -> Path:
        """Write ``analysis.json`` and one CSV per table into ``out_dir``; returns the JSON path.

        Every file goes through a temporary file in the same folder and a rename (a full disk leaves
        the previous file, never half a file); text cells that a spreadsheet would evaluate as a
        formula (``= + - @``) are prefixed with ``'``, as in ``results/*.csv``. Temporary files left
        in ``out_dir`` by a killed earlier write are removed first.
        """
        from immunopet.atomic import atomic_text, remove_stale_partials
        from immunopet.study.exports import write_csv

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(out)
        for name, table in self.tables.items():
            write_csv(table, out / f"{name}.csv")
        return atomic_text(out / "analysis.json", self.to_json() + "\n")
