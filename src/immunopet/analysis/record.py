"""How every test and model reports itself, and the collected small-sample warnings.

A *stat record* is a flat JSON-able dict with the same keys for every test or model::

    {"test": ..., "inputs": ..., "n": ..., "estimate": ..., "estimate_label": ...,
     "ci_low": ..., "ci_high": ..., "ci_level": ..., "p_value": ..., "method": ..., ...}

``n`` is always present (no p-value without its n); fields that do not apply are ``None``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from immunopet.jsonable import jsonable as clean  # stat records are plain JSON (callers import clean from here)

log = logging.getLogger("immunopet.analysis")


def stat(test: str, *, inputs: str, n: int, estimate: float | None = None, estimate_label: str | None = None,
         ci: tuple[float, float] | None = None, ci_level: float | None = None, p_value: float | None = None,
         method: str | None = None, **extra: Any) -> dict[str, Any]:
    """One test or model result in the common layout (see the module docstring).

    Parameters
    ----------
    test
        Name of the test or model, e.g. ``"Mann-Whitney U"``.
    inputs
        What was compared, in words (columns, groups, day).
    n
        Patients (or lesions, as ``inputs`` says) that entered the test.
    estimate, estimate_label
        The effect estimate and what it is (e.g. ``"AUC"``, ``"hazard ratio per doubling"``).
    ci, ci_level
        Its confidence interval and level.
    p_value
        Two-sided p-value, ``None`` when the test could not be run.
    method
        How the p-value / interval was obtained (exact, asymptotic, bootstrap ...).
    extra
        Further named values (group sizes, statistic, events ...).
    """
    low, high = (None, None) if ci is None else ci
    out = {"test": test, "inputs": inputs, "n": int(n), "estimate": estimate, "estimate_label": estimate_label,
           "ci_low": low, "ci_high": high, "ci_level": ci_level if ci is not None else None,
           "p_value": p_value, "method": method}
    out.update(extra)
    return clean(out)


#: Blocks of the summary that hold choices or bookkeeping, not results.
NOT_RESULTS = ("parameters", "inputs", "warnings", "multiplicity", "key_results")


def stat_records(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    """Every stat record in ``node`` (nested dicts and lists) with the keys leading to it.

    A list element that names its ``predictor`` is keyed by it (``biomarkers.auc_vs_pet.ihc_ic``),
    other list elements by their index. This path is a result's name in the analysis plan.
    """
    if isinstance(node, Mapping):
        if "test" in node and "n" in node:
            yield path, node
            return
        for key, value in node.items():
            if key in NOT_RESULTS:
                continue
            yield from stat_records(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            name = value.get("predictor") if isinstance(value, Mapping) else None
            yield from stat_records(value, (*path, str(name if name is not None else i)))


def not_run(test: str, *, inputs: str, n: int, reason: str, **extra: Any) -> dict[str, Any]:
    """A stat record for a test that could not be run (all numbers ``None``, ``reason`` given)."""
    return stat(test, inputs=inputs, n=n, reason=reason, **extra)


@dataclass
class Notes:
    """Warnings collected while analysing: logged at once and written to ``analysis.json``."""

    items: list[dict[str, str]] = field(default_factory=list)

    def warn(self, analysis: str, message: str) -> None:
        """Record (and log) that ``analysis`` is weak or was not run, and why."""
        entry = {"analysis": analysis, "message": message}
        if entry not in self.items:
            self.items.append(entry)
            log.warning("%s: %s", analysis, message)

    def small_groups(self, analysis: str, sizes: dict[str, int], minimum: int) -> bool:
        """Warn when any group has fewer than ``minimum`` members; True when all are large enough."""
        small = {k: v for k, v in sizes.items() if v < minimum}
        if small:
            text = ", ".join(f"{k}: n={v}" for k, v in small.items())
            self.warn(analysis, f"fewer than {minimum} patients in a group ({text}); interpret with care")
        return not small
