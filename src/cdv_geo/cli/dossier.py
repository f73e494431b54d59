"""``cdv-geo dossier PROJECT.toml --out dossier.pdf``: the committee dossier of a project (PDF)."""

from __future__ import annotations

from pathlib import Path

import click

from cdv_geo.cli.options import lang_option, progress, project_argument
from cdv_geo.cli.pdf import install_hint, pdf_problem
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.output.dossier import PAPERS, build_dossier
from cdv_geo.pipeline import compute_metrics
from cdv_geo.territory import Territory

__all__ = ["dossier"]


@click.command("dossier")
@project_argument
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default="dossier.pdf",
    show_default=True,
    help="The PDF to write.",
)
@click.option(
    "--paper",
    type=click.Choice(list(PAPERS)),
    default="a4",
    show_default=True,
    help="A4 portrait, or A3 landscape for wall maps.",
)
@lang_option
def dossier(project: Path, out: Path, paper: str, lang: str) -> None:
    """Write the steering-committee dossier of PROJECT.toml as one PDF.

    A cover with the data sources, an overview, one page per quartier, one page per theme
    (access, renaturation, renewal, indicators, heat and water) and a plain-language glossary
    of the figures shown.
    Nothing is fetched from the network.
    """
    problem = pdf_problem()
    if problem is not None:  # (said before the metrics are computed for nothing)
        raise CdvGeoError(
            f"cannot print the dossier: {problem}. To print it, {install_hint()}; "
            "`cdv-geo report --out DIR` writes the maps and tables without it"
        )
    territory = Territory.from_file(project)
    metrics = compute_metrics(territory, progress=progress)
    path = build_dossier(territory, metrics, out=out, paper=paper, lang=lang)
    click.echo(f"Wrote the committee dossier of {territory.name}: {path}")
