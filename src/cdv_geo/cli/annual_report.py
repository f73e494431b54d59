"""``cdv-geo annual-report PROJECT.toml --year 2024``: the annual politique de la ville report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from cdv_geo.cli.options import lang_option, progress, project_argument
from cdv_geo.cli.pdf import install_hint, pdf_problem
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.output.annual_report import REPORT_OUTPUTS, build_annual_report
from cdv_geo.pipeline import compute_metrics
from cdv_geo.territory import Territory

__all__ = ["annual_report"]


@click.command("annual-report")
@project_argument
@click.option(
    "--year",
    type=click.IntRange(1990, 2100),
    default=dt.date.today().year - 1,
    show_default="last year",
    help="The year reported on (the funding and TFPB lines of that year).",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default="rapport_annuel",
    show_default=True,
    help="The folder to write the PDF and HTML into.",
)
@lang_option
def annual_report(project: Path, year: int, out: Path, lang: str) -> None:
    """Write the annual report on the politique de la ville of PROJECT.toml (PDF and HTML).

    In the structure of décret n° 2015-1118: the quartiers' situation and its evolution, the
    actions carried out and their funding, the TFPB counterparts, the renewal progress and the
    council's prospects (the text under [annual_report] in the project file).
    Nothing is fetched from the network.
    """
    problem = pdf_problem()
    if problem is not None:  # (said before the metrics are computed for nothing)
        raise CdvGeoError(
            f"cannot print the annual report: {problem}. To print it, {install_hint()}"
        )
    territory = Territory.from_file(project)
    metrics = compute_metrics(territory, only=REPORT_OUTPUTS, progress=progress)
    paths = build_annual_report(territory, out, year=year, lang=lang, metrics=metrics)
    click.echo(f"Wrote the {year} annual report of {territory.name}: {paths['pdf']}")
