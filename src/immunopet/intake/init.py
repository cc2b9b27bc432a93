"""``init_study``: a raw DICOM export (folder) -> a study folder (docs/init.md)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from immunopet.errors import ImmunoPETError
from immunopet.intake.model import Plan
from immunopet.intake.schedule import DEFAULT_DAYS, DEFAULT_TOLERANCE_DAYS
from immunopet.intake.writer import WriteResult

log = logging.getLogger(__name__)


@dataclass
class InitSummary:
    """What init found and wrote."""

    study_dir: Path
    plan: Plan
    written: WriteResult
    unreadable: list[tuple[str, str]]
    days: tuple[float, ...]

    @property
    def broken(self) -> list[tuple[str, str]]:
        """Files that are DICOM but could not be read (other files, e.g. a CD's viewer, are only listed)."""
        return [(f, why) for f, why in self.unreadable if why != "not a DICOM file"]

    @property
    def exit_code(self) -> int:
        """0; 1 when DICOM files could not be read (their series may be incomplete)."""
        return 1 if self.broken else 0


def _study_config(study_dir: Path, name: str | None, nuclide: str, days: Sequence[float], tracer: str,
                  export: Path, recon: str | None) -> dict:
    config = {"name": name or study_dir.resolve().name, "tracer": tracer, "nuclide": nuclide, "suv_type": "bw",
              "outcome_day": float(max(days))}
    if recon:
        config["reconstruction"] = recon
    root, source = study_dir.resolve(), export.resolve()
    if not source.is_relative_to(root):  # the user named this export: the study may read it (docs/init.md)
        config["allow_outside_paths"] = [str(source)]
    return config


def reconstruction_preference(study_dir: Path, recon: str | None) -> str | None:
    """``--recon`` if given, else ``reconstruction`` in the study's study.yaml (a re-run), else None."""
    import yaml

    path = study_dir / "study.yaml"
    stored = None
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as bad:
            raise ImmunoPETError(f"study.yaml cannot be read ({type(bad).__name__})", file=path,
                                 fix="repair it, or run init with --force to write it anew") from None
        stored = data.get("reconstruction") if isinstance(data, dict) else None
        if stored is not None and (not isinstance(stored, str) or not stored.strip()):
            raise ImmunoPETError(f"reconstruction must be text (part of a series description), not {stored!r}",
                                 file=path, attribute="reconstruction", fix="e.g. reconstruction: EARL")
    if recon is not None and recon.strip():
        if stored is not None and stored.strip().lower() != recon.strip().lower():
            log.warning("--recon %r is used for this run; study.yaml keeps reconstruction %r (edit it, or --force)",
                        recon.strip(), stored.strip())
        return recon.strip()
    return stored.strip() if stored else None


def init_study(study_dir: str | os.PathLike[str], dicom_dir: str | os.PathLike[str], *,
               days: Sequence[float] = DEFAULT_DAYS, nuclide: str = "Zr-89", name: str | None = None,
               recon: str | None = None, tolerance: float = DEFAULT_TOLERANCE_DAYS, force: bool = False,
               workers: int | None = None, progress: bool = False) -> InitSummary:
    """Discover every series below ``dicom_dir`` and write the study folder ``study_dir``.

    Parameters
    ----------
    study_dir
        The study folder to create, or to update after the export has grown.
    dicom_dir
        The export: any layout, any file names, DICOMDIR or not.
    days
        The nominal scan schedule (days after injection); scans outside it are left out as off schedule.
    nuclide
        The study's nuclide; a PET whose header half-life differs by more than 1 % is left out.
    name
        ``name`` in study.yaml (default: the folder's name).
    recon
        Reconstruction preference: text in SeriesDescription or ReconstructionMethod (default: the
        ``reconstruction`` of an existing study.yaml); written to a new study.yaml.
    tolerance
        Half-width (days) of each scheduled day's window.
    force
        Rewrite study.yaml and the tables from the export (user edits are lost).
    workers
        Processes for the header scan (default: all CPUs).
    progress
        Show a progress bar while the headers are read.
    """
    from immunopet.intake.discovery import discover_export
    from immunopet.intake.headers import read_series_header
    from immunopet.intake.plan import build_plan
    from immunopet.intake.writer import known_pseudonyms, write_study
    from immunopet.nuclides import get_nuclide

    study, export = Path(study_dir), Path(dicom_dir)
    if not export.is_dir():
        raise ImmunoPETError("the DICOM export folder does not exist", file=export, fix="give --dicom EXPORT_DIR")
    if study.exists() and not study.is_dir():
        raise ImmunoPETError("the study folder is a file", file=study, fix="give a folder")
    if not tolerance > 0:  # NaN too
        raise ImmunoPETError(f"the day tolerance must be positive, got {tolerance}", attribute="--tolerance",
                             fix="give e.g. --tolerance 0.5 (days)")
    recon = reconstruction_preference(study, recon)
    found = discover_export(export, workers=workers, progress=progress)
    if not found.series:
        raise ImmunoPETError(f"no DICOM series below the folder ({len(found.unreadable)} file(s) unreadable)",
                             file=export, fix="give the folder the export was written to")
    headers = [read_series_header(s) for s in found.series]  # one file per series; threads gain nothing (GIL)
    plan = build_plan(headers, nuclide=get_nuclide(nuclide), days=days, tolerance=tolerance, preference=recon,
                      known=known_pseudonyms(study))
    tracers = [s.pet.radiopharmaceutical for s in plan.scans if s.pet.radiopharmaceutical]
    tracer = max(set(tracers), key=tracers.count) if tracers else ""
    config = _study_config(study, name, get_nuclide(nuclide).name, days, tracer, export, recon)
    written = write_study(plan, study, config=config, force=force)
    return InitSummary(study, plan, written, found.unreadable, tuple(days))
