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

services_option = click.option(
    "--services",
    default=None,
    metavar="KIND1,KIND2",
    help="Facility kinds with an accessibility map and figure (default: every kind present "
    "in the facilities layer).",
)


@click.command("maps")
@project_argument
@out_option()
@click.option("--quartier", default=None, metavar="NAME", help="Only this quartier's map.")
@lang_option
@assets_option
@asset_dir_option
@services_option
def maps_command(
    project: Path,
    out: Path,
    quartier: str | None,
    lang: str,
    assets: str,
    asset_dir: Path | None,
    services: str | None,
) -> None:
    """Write the committee maps of PROJECT.toml into OUT (one standalone HTML file each)."""
    from cdv_geo import maps
    from cdv_geo.views.services import resolve_services

    mode: Literal["cdn", "inline"] = "inline" if assets == "inline" else "cdn"
    territory = Territory.from_file(project)
    if quartier is not None:
        territory.quartier(quartier)  # an unknown name fails here, listing the valid ones
    kinds = resolve_services(territory, services)  # an absent kind fails before any work
    metrics = compute_metrics(territory, service_kinds=kinds or None, progress=progress)
    if quartier is not None:
        first = kinds[0] if kinds else None
        m = maps.quartier_map(territory, quartier, metrics=metrics, lang=lang, service=first)
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
        services=kinds,
        progress=progress,
    )
    for path in files.values():
        click.echo(f"Wrote {path}")
