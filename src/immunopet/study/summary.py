"""What a run did: :class:`RunSummary` (done, skipped and failed scans, each with a reason)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from immunopet.study.lesion_tracking import TrackingCounts


class Outcome(NamedTuple):
    """A scan (or ``scan_id/voi_id``) and why it ended where it did."""

    scan_id: str
    reason: str


@dataclass
class RunSummary:
    """The result of :func:`immunopet.study.run_study`.

    Attributes
    ----------
    run_id
        Row of the store's ``runs`` table.
    done
        Scans measured in this run, with the reason they were measured (new, changed, ...).
    skipped
        Scans left as they were, with the reason (unchanged since run N).
    failed
        Scans that could not be measured, with the error.
    failed_vois
        VOIs that could not be measured in scans of this run (``scan_id/voi_id``, reason).
    n_vois_measured
        VOIs measured in this run.
    status
        ``done``, ``partial`` (something failed) or ``interrupted``.
    seconds
        Wall time of the run.
    lesions
        Lesions of the non-reference scans matched, new and vanished (``results/lesion_tracking.csv``);
        ``None`` when no patient's lesions could be tracked (no registration).
    """

    run_id: int
    done: list[Outcome] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)
    failed_vois: list[Outcome] = field(default_factory=list)
    n_vois_measured: int = 0
    status: str = "running"
    seconds: float = 0.0
    db_url: str = ""
    lesions: TrackingCounts | None = None

    @property
    def exit_code(self) -> int:
        """0 when everything asked for was done, 1 when a scan or VOI failed."""
        return 1 if (self.failed or self.failed_vois) else 0

    def counts(self) -> dict[str, int]:
        """Column values of the run's row in the ``runs`` table."""
        return {
            "n_done": len(self.done), "n_skipped": len(self.skipped), "n_failed": len(self.failed),
            "n_vois_measured": self.n_vois_measured, "n_vois_failed": len(self.failed_vois),
        }

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("done", "skipped", "failed", "failed_vois"):
            data[key] = [{"id": o.scan_id, "reason": o.reason} for o in getattr(self, key)]
        data["exit_code"] = self.exit_code
        return data


def print_summary(summary: RunSummary) -> None:
    """The closing summary on the message console: counts, then every failure with its reason."""
    from rich.table import Table

    from immunopet.logging_setup import console
    from immunopet.safe_text import safe_markup

    console.print(
        f"run {summary.run_id}: [green]{len(summary.done)} done[/], {len(summary.skipped)} skipped, "
        f"[red]{len(summary.failed)} failed[/] scans; {summary.n_vois_measured} VOIs measured, "
        f"{len(summary.failed_vois)} failed ({summary.seconds:.1f} s)"
    )
    if summary.failed or summary.failed_vois:
        table = Table(title="failures", title_justify="left")
        table.add_column("scan / VOI")
        table.add_column("reason", overflow="fold")
        for outcome in [*summary.failed, *summary.failed_vois]:
            table.add_row(safe_markup(outcome.scan_id), safe_markup(outcome.reason))
        console.print(table)
    if summary.lesions is not None:
        console.print(lesion_line(summary.lesions))
    if summary.skipped and summary.done:
        console.print(f"skipped {len(summary.skipped)} unchanged scans; measured: "
                      + ", ".join(f"{safe_markup(o.scan_id)} ({safe_markup(o.reason)})" for o in summary.done[:10])
                      + (" ..." if len(summary.done) > 10 else ""))


def lesion_line(counts: TrackingCounts) -> str:
    """The closing line on lesions tracked over days."""
    return (f"lesions over days: {counts.matched} matched, {counts.new} new, {counts.vanished} vanished; "
            "see results/lesion_tracking.csv")
