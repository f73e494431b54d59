"""``cdv-geo metrics PROJECT.toml --out DIR``: every metric table of a project."""

from __future__ import annotations

from pathlib import Path

import click

from cdv_geo.cli.options import lang_option, out_option, progress, project_argument
from cdv_geo.output import write_tables
from cdv_geo.output.bundle import note_text
from cdv_geo.pipeline import compute_metrics
from cdv_geo.territory import Territory


@click.command()
@project_argument
@out_option()
@click.option(
    "--format",
    "formats",
    default="csv,xlsx,gpkg",
    show_default=True,
    help="Comma-separated: csv (one file per table), xlsx (one sheet per table), gpkg "
    "(derived layers).",
)
@lang_option
def metrics(project: Path, out: Path, formats: str, lang: str) -> None:
    """Compute every metric table of PROJECT.toml into OUT (French labels by default)."""
    territory = Territory.from_file(project)
    result = compute_metrics(territory, progress=progress)
    files = write_tables(result, out, formats=[f.strip() for f in formats.split(",")], lang=lang)
    for note in result.notes:
        if not note.key.startswith("warning"):  # the warnings were logged as they came
            click.echo(f"note: {note_text(note, lang)}")
    click.echo(f"Wrote {len(files)} files to {out}")
