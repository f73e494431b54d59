"""``cdv-geo maps PROJECT.toml --out DIR``: the committee maps of a project."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from cdv_geo.cli.options import (
    asset_dir_option,
    assets_option,
    lang_option,
    out_option,
    progress,
    project_argument,
)
from cdv_geo.pipeline import compute_metrics
from cdv_geo.territory import Territory


@click.command("maps")
@project_argument
@out_option()
@click.option("--quartier", default=None, metavar="NAME", help="Only this quartier's map.")
@lang_option
@assets_option
@asset_dir_option
def maps_command(
    project: Path,
    out: Path,
    quartier: str | None,
    lang: str,
    assets: str,
    asset_dir: Path | None,
) -> None:
    """Write the committee maps of PROJECT.toml into OUT (one standalone HTML file each)."""
    from cdv_geo import maps

    mode: Literal["cdn", "inline"] = "inline" if assets == "inline" else "cdn"
    territory = Territory.from_file(project)
    if quartier is not None:
        territory.quartier(quartier)  # an unknown name fails here, listing the valid ones
    metrics = compute_metrics(territory, progress=progress)
    if quartier is not None:
        m = maps.quartier_map(territory, quartier, metrics=metrics, lang=lang)
        code = str(territory.quartier(quartier)["code"])
        slug = maps.quartier_slugs(territory.quartiers)[code]  # as build_committee_maps names it
        path = maps.save_map(m, out / f"quartier_{slug}.html", assets=mode, asset_dir=asset_dir)
        click.echo(f"Wrote {path}")
        return
    files = maps.build_committee_maps(
        territory,
        out,
        metrics=metrics,
        lang=lang,
        assets=mode,
        asset_dir=asset_dir,
        progress=progress,
    )
    for path in files.values():
        click.echo(f"Wrote {path}")
