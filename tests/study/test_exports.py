"""The CSV exports: formulas neutralised in text cells only; stale partial files removed."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

from immunopet.atomic import atomic_text, remove_stale_partials
from immunopet.study.exports import spreadsheet_safe, write_csv


def test_only_text_cells_that_start_like_a_formula_get_an_apostrophe(tmp_path):
    frame = pd.DataFrame({"site": ["=1+1", "+41 79", "-x", "@SUM(A1)", "\tcmd", "lung", None],
                          "suv_max": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    safe = spreadsheet_safe(frame)
    assert list(safe["site"]) == ["'=1+1", "'+41 79", "'-x", "'@SUM(A1)", "'\tcmd", "lung", None]
    assert list(safe["suv_max"]) == list(frame["suv_max"])
    back = pd.read_csv(write_csv(frame, tmp_path / "t.csv"))
    assert back["suv_max"].iloc[0] == -1.5 and back["site"].iloc[2] == "'-x"
    assert list(frame["site"])[0] == "=1+1"  # the caller's frame is not changed


def test_partial_files_of_dead_processes_go_and_live_ones_stay(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    stale = tmp_path / f".measurements.csv.{int(dead.stdout)}.partial"
    mine = tmp_path / f".patients.csv.{os.getpid()}.partial"
    for path in (stale, mine):
        path.write_text("half")
    atomic_text(tmp_path / "kept.txt", "whole")
    assert remove_stale_partials(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, "kept.txt"])


def test_a_partial_name_with_an_impossible_pid_is_stale_not_a_crash(tmp_path):
    from immunopet.watchdog import pid_alive

    assert pid_alive(os.getpid()) and not pid_alive(2**31) and not pid_alive(10**30)
    stale = tmp_path / f".patients.csv.{10**30}.partial"
    stale.write_text("half")
    assert remove_stale_partials(tmp_path) == [stale]
