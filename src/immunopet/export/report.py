"""What ``immunopet export`` prints: the exported scans, the scans left out, each pushed object."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from immunopet.logging_setup import console
from immunopet.safe_text import safe_markup


def print_summary(summary) -> None:  # noqa: ANN001 - ExportSummary
    """One line per scan left out, then the totals and the output folder."""
    for scan_id, reason in summary.failed:
        console.print(f"[bold red]not exported:[/] {safe_markup(scan_id)}: {safe_markup(reason, max_length=500)}",
                      highlight=False)
    console.print(
        f"exported {len(summary.done)} scan(s) ({2 * len(summary.done)} objects: SEG + SR) to "
        f"{safe_markup(str(summary.out_dir))}; {len(summary.failed)} left out ({summary.seconds:.1f} s)",
        highlight=False,
    )


def print_pushed(sent: Sequence, where: str) -> int:  # noqa: ANN001 - Sent items
    """One line per object that was refused, a count of those stored; 1 if any was refused."""
    refused = [s for s in sent if not s.ok]
    for item in refused:
        console.print(f"[bold red]not stored:[/] {safe_markup(Path(item.file).parent.name)}/"
                      f"{safe_markup(Path(item.file).name)}: {safe_markup(item.detail, max_length=400)}", highlight=False)
    console.print(f"{safe_markup(where)}: {len(sent) - len(refused)} of {len(sent)} object(s) stored", highlight=False)
    return 1 if refused else 0
