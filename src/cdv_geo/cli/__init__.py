"""The ``cdv-geo`` command: one module per subcommand.

Every :class:`~cdv_geo.CdvGeoError` prints as one clear message and exits with code 2; any other
failure exits with code 1 and shows its traceback only under ``--verbose``. ``--verbose`` and
``--quiet`` are accepted anywhere on the line (``cdv-geo metrics p.toml -o out -v``), and a
warning prints as one readable line (``Warning: ...``), without the Python source line.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click

from cdv_geo import __version__
from cdv_geo.cli.options import Options
from cdv_geo.core.errors import CdvGeoError

__all__ = ["COMMANDS", "GLOBAL_FLAGS", "cli", "format_warning", "main"]


#: The global flags, accepted before or after the subcommand.
GLOBAL_FLAGS = ("--verbose", "-v", "--quiet", "-q")


#: The subcommands, each imported when it is run (``cdv-geo doctor`` answers even when a
#: library the maps need cannot be imported, and quickly: it loads none of them).
COMMANDS: dict[str, str] = {
    "init": "init:init",
    "validate": "validate:validate",
    "metrics": "metrics:metrics",
    "maps": "maps:maps_command",
    "report": "report:report",
    "dossier": "dossier:dossier",
    "annual-report": "annual_report:annual_report",
    "demo": "demo:demo",
    "assets": "assets:assets",
    "batch": "batch:batch",
    "doctor": "doctor:doctor",
}


class _Group(click.Group):
    """A click group that turns package errors into clean messages and exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, attribute = COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(f"cdv_geo.cli.{module}"), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # move the global flags given after the subcommand before it (up to a "--")
        if ctx.parent is None:
            end = args.index("--") if "--" in args else len(args)
            flags = [a for a in args[:end] if a in GLOBAL_FLAGS]
            rest = [a for a in args[:end] if a not in GLOBAL_FLAGS]
            args = [*flags, *rest, *args[end:]]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except CdvGeoError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)
        except Exception as exc:
            opts = ctx.find_object(Options)
            if opts is not None and opts.verbose:
                click.echo(traceback.format_exc(), err=True)
            click.echo(
                f"Unexpected error: {type(exc).__name__}: {exc}\n"
                "(run again with --verbose to see the traceback, and report it)",
                err=True,
            )
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Log what is read and computed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars, only errors.")
@click.version_option(__version__, prog_name="cdv-geo")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, quiet: bool) -> None:
    """Spatial metrics and committee maps for a contrat de ville (QPV, NPNRU, renaturation)."""
    ctx.obj = Options(verbose=verbose, quiet=quiet)
    ctx.with_resource(_one_line_logs(logging.INFO if verbose else logging.WARNING))
    ctx.with_resource(_one_line_warnings())


class _LineFormatter(logging.Formatter):
    """``Warning: ...`` for warnings and errors, the bare message for information."""

    def format(self, record: logging.LogRecord) -> str:
        text = " ".join(record.getMessage().split())
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.capitalize()}: {text}"
        return text


@contextmanager
def _one_line_logs(level: int) -> Iterator[None]:
    """Print the package's log on stderr, one line per record, while the command runs."""
    logger = logging.getLogger("cdv_geo")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter())
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def format_warning(message: Warning | str, category: type[Warning]) -> str:
    r"""Return a warning as the command prints it: one line, no Python source line.

    Examples
    --------
    >>> format_warning(UserWarning("3 features\nrepaired"), UserWarning)
    'Warning: 3 features repaired'
    """
    text = " ".join(str(message).split())
    kind = "Warning" if category in (UserWarning, Warning) else category.__name__
    return f"{kind}: {text}"


@contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Print warnings as one line on stderr while the command runs (restored after)."""
    shown = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        click.echo(format_warning(message, category), err=True)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown


#: Entry point of the console script.
main = cli
