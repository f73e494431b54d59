"""``cdv-geo validate PROJECT.toml``: check every layer of a project, list every problem.

"Valid" means the pack will be right: besides the schema of each layer, the project is read
(:meth:`Territory.from_file <cdv_geo.territory.Territory.from_file>` checks that every layer
lies on the territory in its CRS, and that the walking network covers the quartiers), then the
homes and facilities are snapped to the walking network: more than :data:`SNAP_SHARE_MAX` of
them farther than ``max_snap_m`` is a problem (their coverage would read 0 %). Facility
categories too generic to map (``"Éducation"``) are listed for the planner to map.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from cdv_geo.cli.options import project_argument
from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.schema.enums import AMBIGUOUS_CATEGORIES
from cdv_geo.territory import Territory, table_paths

__all__ = ["SNAP_SHARE_MAX", "ambiguous_notes", "layer_table", "snap_problems", "validate"]

#: The largest share of homes or facilities that may lie farther than ``max_snap_m`` from the
#: walking network: beyond it the network or the layer is wrong (CRS, extent), not the town.
SNAP_SHARE_MAX = 0.2

#: The layers whose points are snapped to the network to compute walking access.
SNAPPED_KINDS = ("residences", "facilities")


def layer_table(territory: Territory) -> str:
    """Return a plain-text table of the territory's layers, counts, geometry types and files."""
    rows = [("layer", "features", "geometry", "crs", "file")]
    for kind, gdf in territory.layers().items():
        types = "/".join(sorted(set(gdf.geom_type.dropna())))
        crs = gdf.crs.to_string() if gdf.crs is not None else "-"
        src = gdf.attrs.get("source") or "-"
        files = "; ".join(Path(s).name for s in str(src).split("; ")) if src != "-" else src
        rows.append((kind, str(len(gdf)), types, crs, files))
    for name, path in territory.rasters.items():
        rows.append((f"raster:{name}", "", "", "", path.name))
    for name, spec in territory.tables.items():
        files = ", ".join(p.name for p in table_paths(spec))
        rows.append((f"table:{name}", "", "", "", files))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def ambiguous_notes(territory: Territory) -> list[str]:
    """Return one line per facility category kept unmapped because it is too generic.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> f = gpd.GeoDataFrame({"nom": ["CLSH"], "categorie": ["Éducation"]},
    ...                      geometry=[Point(728400, 6920700)], crs=2154)
    >>> ambiguous_notes(Territory("T", facilities=f))[0].split(" (")[0]
    "facilities: 1 feature of category 'Éducation' kept as a separate kind"
    """
    if territory.facilities is None:
        return []
    found = territory.facilities.attrs.get("ambiguous_kinds") or {}
    if not found:  # (a layer built in Python: validated when the territory was made)
        kinds = territory.facilities["kind"]
        found = {
            k: (str(k), int(n))
            for k, n in kinds.value_counts().items()
            if k in AMBIGUOUS_CATEGORIES
        }
    lines = []
    for _kind, (label, n) in sorted(found.items()):
        lines.append(
            f"facilities: {n:,} feature{'s' if n > 1 else ''} of category {label!r} kept as "
            f"a separate kind (too generic to be one kind); say what they are in project.toml: "
            f'kinds = {{ "{label}" = "school" }} (or "childcare", "other"...)'
        )
    return lines


def snap_problems(territory: Territory) -> list[Problem]:
    """Snap homes and facilities to the walking network; a share too far away is a problem.

    Returns no problem when the territory has no network (straight-line distances) or no
    homes and facilities.
    """
    kinds = [k for k in SNAPPED_KINDS if getattr(territory, k) is not None]
    if not kinds or (territory.network_file is None and territory.streets is None):
        return []
    from cdv_geo.network import WalkNetwork

    crs = territory.metric_crs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the network's own notes belong to the run)
        if territory.network_file is not None:
            name = territory.network_file.name.lower()
            if name.endswith(".graphml"):
                net = WalkNetwork.from_graphml(territory.network_file, crs=crs)
            else:
                net = WalkNetwork.from_osm_xml(territory.network_file, crs=crs)
        else:
            net = WalkNetwork.from_lines(territory.metric("streets"), crs=crs)
    max_snap = territory.settings.max_snap_m
    problems = []
    for kind in kinds:
        snapped = net.snap(territory.metric(kind), max_snap_m=max_snap)
        far = int((snapped["edge"] < 0).sum())
        share = far / len(snapped) if len(snapped) else 0.0
        if share > SNAP_SHARE_MAX:
            what = "homes" if kind == "residences" else "facilities"
            problems.append(
                Problem(
                    f"{far:,} of {len(snapped):,} {what} ({share:.0%}; at most "
                    f"{SNAP_SHARE_MAX:.0%} allowed) lie farther than {max_snap:g} m from the "
                    "walking network: they would count as unreachable. Check the layer's CRS "
                    "and that the network covers the whole territory; raise max_snap_m in "
                    "[settings] only if the network really is that sparse",
                    file=_source(territory, kind),
                    layer=kind,
                )
            )
    return problems


def _source(territory: Territory, kind: str) -> str | None:
    src = getattr(territory, kind).attrs.get("source")
    return None if src is None else str(src)


@click.command()
@project_argument
@click.option("--repair", is_flag=True, help="Repair invalid geometries (shapely.make_valid).")
def validate(project: Path, repair: bool) -> None:
    """Check every layer of PROJECT.toml; list every problem (exit 2) or the layers (exit 0)."""
    territory = Territory.from_file(project, repair=repair)
    problems = snap_problems(territory)
    if problems:
        raise DataValidationError(
            problems,
            summary=f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in project "
            f"{project}:",
        )
    click.echo(f"{territory.name}: project {project} is valid.")
    click.echo(layer_table(territory))
    notes = ambiguous_notes(territory)
    if notes:
        click.echo("\nTo map (the figures are right, but these kinds stay generic):")
        for line in notes:
            click.echo(f"- {line}")
