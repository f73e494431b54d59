"""``cdv-geo demo``: the committee pack of the embedded Soissons demo (illustrative data)."""

from __future__ import annotations

from pathlib import Path

import click

from cdv_geo import datasets
from cdv_geo.cli.options import asset_dir_option, assets_option, lang_option, out_option, progress
from cdv_geo.cli.pdf import exit_if_pdf_missing, write_pack
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
    OUT is relative to the current folder (./maps by default). Without the pango library,
    everything but the PDF is written, one line says what to install, and the exit code is 3
    (--no-dossier skips the PDF).
    """
    territory = datasets.soissons()

    def build(pdf: bool) -> Path:
        return build_report(
            territory,
            out,
            lang=lang,
            assets=assets,
            asset_dir=asset_dir,
            dossier=pdf,
            progress=progress,
        )

    index, problem = write_pack(build, dossier=dossier)
    click.echo(f"{territory!r}")
    click.echo(f"Wrote the committee pack of the demo (illustrative data): {index}")
    exit_if_pdf_missing(problem, out)
