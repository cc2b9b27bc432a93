"""Problems found in a study folder, collected so that all of them are reported at once.

A :class:`Problem` names the file, the spreadsheet row (the header is row 1, the first data row is
row 2, as a spreadsheet shows them), the column and what is expected there.
:class:`StudyValidationError` carries the whole list.
"""

from __future__ import annotations

from dataclasses import dataclass

from immunopet.errors import StudyError


@dataclass(frozen=True)
class Problem:
    """One problem in a study table or in ``study.yaml``.

    Parameters
    ----------
    file
        File name relative to the study folder (``"scans.csv"``).
    row
        Spreadsheet row number (header = 1), or ``None`` when the problem concerns the whole file.
    column
        Column (or ``study.yaml`` key) concerned, or ``None``.
    message
        What is wrong and what is expected.
    """

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class StudyValidationError(StudyError):
    """A study folder has problems; :attr:`problems` lists every one of them.

    Parameters
    ----------
    problems
        All problems found, in the order files were checked.
    study_dir
        The study folder.
    """

    def __init__(self, problems: list[Problem], *, study_dir: str) -> None:
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"{len(self.problems)} problem(s) in the study tables:\n{listing}",
            file=study_dir,
            fix="correct the cells named above (see docs/study-format.md) and run again",
        )


def render_problems(error: StudyValidationError) -> None:
    """Print the problems as a Rich table on the message console (stderr)."""
    from rich.table import Table

    from immunopet.logging_setup import console
    from immunopet.safe_text import safe_markup

    table = Table(title=f"{len(error.problems)} problem(s) in {safe_markup(error.file)}", title_justify="left")
    for name in ("file", "row", "column", "problem"):
        table.add_column(name, overflow="fold")
    for p in error.problems:
        table.add_row(safe_markup(p.file), "" if p.row is None else str(p.row), safe_markup(p.column or ""),
                      safe_markup(p.message))
    console.print(table)
