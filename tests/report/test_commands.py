"""The ``report`` and ``demo`` commands: help with examples, clean errors and exit codes."""

from __future__ import annotations

from immunopet.cli import main


def test_help_shows_examples(capsys):
    for command in ("report", "demo"):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "Examples:" in out and f"immunopet {command} " in out


def test_report_without_results_is_an_input_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 3
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_roc_figure_without_responders_says_why(synthetic_patients):
    from immunopet.report.fig_outcome import roc_figure

    fig = roc_figure(synthetic_patients.assign(best_response="PD"))
    ax = fig.axes[0]
    assert not [line for line in ax.get_lines() if str(line.get_gid()).startswith("roc-")]
    assert "responders and non-responders" in ax.texts[0].get_text()
