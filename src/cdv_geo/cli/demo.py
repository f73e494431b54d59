"""``cdv-geo demo``: the committee pack of the embedded Soissons demo (illustrative data)."""

from __future__ import annotations

from pathlib import Path

import click

from cdv_geo import datasets
from cdv_geo.cli.options import asset_dir_option, assets_option, lang_option, out_option, progress
from cdv_geo.output import build_report


@click.command()
@out_option(default="maps")
@lang_option
@assets_option
@asset_dir_option
@click.option(
    "--dossier/--no-dossier",
    default=True,
    show_default=True,
    help="Also write the committee PDF (dossier.pdf), linked from index.html.",
)
def demo(out: Path, lang: str, assets: str, asset_dir: Path | None, dossier: bool) -> None:
    """Build the committee pack of the Soissons demo (illustrative data) into OUT.

    The same as `cdv-geo report --dossier` on the demo's project file
    (cdv_geo.datasets.get_path()): index.html, maps, tables, figures and dossier.pdf.
    """
    territory = datasets.soissons()
    index = build_report(
        territory,
        out,
        lang=lang,
        assets=assets,
        asset_dir=asset_dir,
        dossier=dossier,
        progress=progress,
    )
    click.echo(f"{territory!r}")
    click.echo(f"Wrote the committee pack of the demo (illustrative data): {index}")
