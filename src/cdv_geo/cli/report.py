"""``cdv-geo report PROJECT.toml --out DIR``: the committee pack of a project."""

from __future__ import annotations

from pathlib import Path

import click

from cdv_geo.cli.options import (
    asset_dir_option,
    assets_option,
    lang_option,
    out_option,
    progress,
    project_argument,
)
from cdv_geo.output import build_report
from cdv_geo.territory import Territory


@click.command()
@project_argument
@out_option()
@lang_option
@assets_option
@asset_dir_option
def report(project: Path, out: Path, lang: str, assets: str, asset_dir: Path | None) -> None:
    """Write the committee pack of PROJECT.toml into OUT: index.html, maps, tables, figures."""
    territory = Territory.from_file(project)
    index = build_report(
        territory, out, lang=lang, assets=assets, asset_dir=asset_dir, progress=progress
    )
    click.echo(f"Wrote the committee pack of {territory.name}: {index}")
