"""``cdv-geo assets``: the JavaScript/CSS files of the maps, for offline (inline) HTML.

``cdv-geo assets fetch`` downloads, once, every file the committee maps reference (Leaflet and
its plugins, and the images their stylesheets use) into the user cache, where
``save_map(..., assets="inline")`` finds them. ``cdv-geo assets list`` says which are there.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["assets"]

assets = click.Group(
    "assets",
    help="Fetch or list the JS/CSS files the maps need to be saved with assets='inline'.",
)


@assets.command("fetch")
@click.argument("maps", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Asset folder (default: the user cache, or $CDV_GEO_ASSET_DIR).",
)
@click.option(
    "--mirror",
    default=None,
    metavar="URL",
    help="Base URL of a mirror laid out as <mirror>/<host>/<path> (instead of the CDN).",
)
@click.option("--force", is_flag=True, help="Download again files already present.")
def fetch(maps: tuple[Path, ...], dest: Path | None, mirror: str | None, force: bool) -> None:
    """Download the assets of the cdv_geo maps (or of the saved MAPS given) into the cache.

    Needs the network once; afterwards maps are written offline with assets='inline'.
    """
    from cdv_geo.maps.assets import cache_dir, fetch_assets
    from cdv_geo.maps.html import asset_urls

    urls: list[str] | None = None
    if maps:
        urls = []
        for path in maps:
            urls.extend(asset_urls(path.read_text(encoding="utf-8")))
        urls = list(dict.fromkeys(urls))
    files = fetch_assets(urls, dest, mirror=mirror, force=force)
    click.echo(f"{len(files)} asset file(s) in {dest or cache_dir()}")


@assets.command("list")
@click.option(
    "--dir",
    "dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Also look in this folder (an npm node_modules, a mirror); repeatable.",
)
def list_assets(dirs: tuple[Path, ...]) -> None:
    """List the assets the maps reference and where each is found locally."""
    from cdv_geo.maps.assets import ASSETS, asset_dirs, resolve_asset

    searched = asset_dirs(list(dirs))
    missing = 0
    for asset in ASSETS.values():
        path, _notes = resolve_asset(asset.url, searched)
        if path is None:
            missing += 1
        click.echo(
            f"{'ok     ' if path else 'missing'} {asset.url}" + (f"  ({path})" if path else "")
        )
    if missing:
        click.echo(
            f"{missing} missing: run `cdv-geo assets fetch`, or pass a node_modules folder "
            "with --dir.",
            err=True,
        )
