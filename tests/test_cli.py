"""The command line's contract with scripts: exit codes and messages without tracebacks."""

from immunopet import __version__
from immunopet.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main


def test_version(capsys):
    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == f"immunopet {__version__}"


def test_usage_errors_exit_2_with_message(capsys):
    assert main(["analyze"]) == EXIT_USAGE
    assert main(["no-such-command"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "Missing argument" in err and "No such command" in err and "Traceback" not in err


def test_input_error_exits_3_naming_the_file(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["inspect", str(missing)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert str(missing) in err and "Traceback" not in err


def test_every_subcommand_has_help_with_an_example(capsys):
    for command in ("inspect", "convert", "measure", "simulate", "run", "validate", "analyze", "report", "demo"):
        assert main([command, "--help"]) == EXIT_OK
        text = capsys.readouterr().out
        assert "immunopet " + command in text, f"{command} --help shows no example"


def test_unexpected_error_prints_one_line_and_exits_internal(monkeypatch, capsys):
    import immunopet.cli as cli
    from immunopet.exit_codes import EXIT_INTERNAL

    def explode(**_kwargs):
        raise RuntimeError("boom [/x] \x1b[31m")

    monkeypatch.setattr(cli, "app", explode)
    assert cli.main(["inspect", "."]) == EXIT_INTERNAL == 4
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom [/x]" in err
    assert "--verbose" in err and "Traceback" not in err and "\x1b[31m" not in err


def test_help_starts_without_the_heavy_libraries():
    """`immunopet --help` must stay fast: no numpy, pydicom, scipy, pandas or matplotlib at start-up."""
    import subprocess
    import sys

    code = ("import sys, contextlib, io\nfrom immunopet.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out: main(['--help'])\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'pydicom', 'scipy', 'pandas', 'matplotlib'})\n"
            "print(heavy, 'convert' in out.getvalue())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] True"


def test_every_subcommand_answers_short_help(capsys):
    for command in ("inspect", "convert", "measure", "simulate", "run", "validate", "analyze", "report", "demo"):
        assert main([command, "-h"]) == EXIT_OK
    assert "Usage:" in capsys.readouterr().out
