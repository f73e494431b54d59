"""``cdv-geo validate PROJECT.toml``: check every layer of a project, list every problem."""

from __future__ import annotations

from pathlib import Path

import click

from cdv_geo.cli.options import project_argument
from cdv_geo.territory import Territory, table_paths


def layer_table(territory: Territory) -> str:
    """Return a plain-text table of the territory's layers, counts, geometry types and files."""
    rows = [("layer", "features", "geometry", "crs", "file")]
    for kind, gdf in territory.layers().items():
        types = "/".join(sorted(set(gdf.geom_type.dropna())))
        crs = gdf.crs.to_string() if gdf.crs is not None else "-"
        src = gdf.attrs.get("source") or "-"
        rows.append((kind, str(len(gdf)), types, crs, Path(src).name if src != "-" else src))
    for name, path in territory.rasters.items():
        rows.append((f"raster:{name}", "", "", "", path.name))
    for name, spec in territory.tables.items():
        files = ", ".join(p.name for p in table_paths(spec))
        rows.append((f"table:{name}", "", "", "", files))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


@click.command()
@project_argument
@click.option("--repair", is_flag=True, help="Repair invalid geometries (shapely.make_valid).")
def validate(project: Path, repair: bool) -> None:
    """Check every layer of PROJECT.toml; list every problem (exit 2) or the layers (exit 0)."""
    territory = Territory.from_file(project, repair=repair)
    click.echo(f"{territory.name}: project {project} is valid.")
    click.echo(layer_table(territory))
