"""The ``cdv-geo`` command: one module per subcommand.

Every :class:`~cdv_geo.CdvGeoError` prints as one clear message and exits with code 2; any other
failure exits with code 1 and shows its traceback only under ``--verbose``.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

import click

from cdv_geo import __version__
from cdv_geo.cli.options import Options
from cdv_geo.core.errors import CdvGeoError

__all__ = ["cli", "main"]


class _Group(click.Group):
    """A click group that turns package errors into clean messages and exit codes."""

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
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("cdv_geo").setLevel(level)


def _register() -> None:
    from cdv_geo.cli import assets, demo, init, maps, metrics, report, validate

    for command in (
        init.init,
        validate.validate,
        metrics.metrics,
        maps.maps_command,
        report.report,
        demo.demo,
        assets.assets,
    ):
        cli.add_command(command)


_register()

#: Entry point of the console script.
main = cli
