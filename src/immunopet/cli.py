"""The ``immunopet`` command line: parses options and hands over to the packages.

Every subcommand lives in the ``commands.py`` of the package it belongs to and is attached here by
that module's ``register(app)``. Exit codes scripts can rely on:

- 0  everything asked for was done;
- 1  the job ran, but some items (scans, VOIs) failed; they are listed and recorded;
- 2  the command line itself was wrong (unknown option, missing argument);
- 3  the input cannot be used (an :class:`ImmunoPETError`: file, attribute and fix are printed);
- 4  an unexpected internal error (a bug): one line is printed, ``--verbose`` shows the traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from immunopet.errors import ImmunoPETError
from immunopet.logging_setup import configure, console
from immunopet.safe_text import safe_markup

from immunopet.exit_codes import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE  # noqa: F401 (re-exported)

try:  # Typer >= 0.2x bundles its own copy of click; usage errors are raised from that copy
    from typer._click.exceptions import ClickException as _TyperClickException
except ImportError:  # pragma: no cover - older Typer uses the click package itself
    from click import ClickException as _TyperClickException
from click import ClickException as _ClickException

_CLICK_ERRORS = (_TyperClickException, _ClickException)

app = typer.Typer(
    name="immunopet",
    help=(
        "Quantitative immunoPET: multi-day 89Zr PET/CT from DICOM to SUVs, VOI metrics, study "
        "tables, analyses and a report.\n\n"
        "Start with `immunopet demo DIR` (simulated trial, whole pipeline) or `immunopet inspect FOLDER`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: Rich's help renderer costs more start-up than the rest together
    context_settings={"help_option_names": ["-h", "--help"]},
)

# (module, what it adds) in the order a scan flows through the system.
COMMAND_MODULES = (
    "immunopet.dicom.commands",  # inspect, convert
    "immunopet.voi.commands",  # measure
    "immunopet.simulate.commands",  # simulate
    "immunopet.intake.commands",  # init
    "immunopet.study.commands",  # run
    "immunopet.register.commands",  # register
    "immunopet.analysis.commands",  # analyze
    "immunopet.report.commands",  # report, demo
    "immunopet.export.commands",  # export
    "immunopet.view.commands",  # view
)


def _version(value: bool) -> None:
    if value:
        from immunopet import __version__

        typer.echo(f"immunopet {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug messages."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors; no progress bars."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    configure(verbose=verbose, quiet=quiet)


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app, turning :class:`ImmunoPETError` into a message and exit code 3."""
    try:
        result = app(args=argv, prog_name="immunopet", standalone_mode=False)
    except ImmunoPETError as error:
        console.print(f"[bold red]error:[/] {safe_markup(error)}", highlight=False)
        logging.getLogger("immunopet").debug("details", exc_info=True)
        return EXIT_INPUT
    except typer.Exit as done:
        return done.exit_code
    except (typer.Abort, KeyboardInterrupt):
        console.print("[yellow]interrupted[/]")
        return 130
    except _CLICK_ERRORS as usage:  # missing argument, unknown option, bad value
        usage.show()
        return EXIT_USAGE
    except Exception as bug:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        console.print(
            f"[bold red]internal error:[/] {safe_markup(type(bug).__name__)}: {safe_markup(bug, max_length=300)}"
            " (a bug in immunopet; rerun with --verbose for the details and report them)",
            highlight=False,
        )
        logging.getLogger("immunopet").debug("internal error", exc_info=True)
        return EXIT_INTERNAL
    return result if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
