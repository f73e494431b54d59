"""``cdv-geo report PROJECT.toml --out DIR``: the committee pack of a project."""

from __future__ import annotations

from pathlib import Path

import click

from cdv_geo.cli.maps import services_option
from cdv_geo.cli.options import (
    asset_dir_option,
    assets_option,
    lang_option,
    out_option,
    progress,
    project_argument,
)
from cdv_geo.cli.pdf import exit_if_pdf_missing, write_pack
from cdv_geo.output import build_report
from cdv_geo.territory import Territory

dossier_option = click.option(
    "--dossier/--no-dossier",
    default=False,
    show_default=True,
    help="Also write the committee PDF (dossier.pdf), linked from index.html.",
)


@click.command()
@project_argument
@out_option()
@lang_option
@assets_option
@asset_dir_option
@services_option
@dossier_option
def report(
    project: Path,
    out: Path,
    lang: str,
    assets: str,
    asset_dir: Path | None,
    services: str | None,
    dossier: bool,
) -> None:
    """Write the committee pack of PROJECT.toml into OUT: index.html, maps, tables, figures.

    With --dossier, the committee PDF (dossier.pdf) too. When this computer cannot print it
    (the pango library is missing), everything else is written, one line says what to
    install, and the exit code is 3.
    """
    from cdv_geo.views.titles import territory_name

    territory = Territory.from_file(project)

    def build(pdf: bool) -> Path:
        return build_report(
            territory,
            out,
            lang=lang,
            assets=assets,
            asset_dir=asset_dir,
            services=services,
            dossier=pdf,
            progress=progress,
        )

    index, problem = write_pack(build, dossier=dossier)
    click.echo(f"Wrote the committee pack of {territory_name(territory)}: {index}")
    exit_if_pdf_missing(problem, out)
