"""``cdv-geo init DIR``: a project skeleton (commented project.toml + empty template layers)."""

from __future__ import annotations

from pathlib import Path

import click
import pyogrio

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.io import atomic_path
from cdv_geo.schema import LAYER_KINDS, SCHEMAS, empty_layer

TEMPLATE = """\
# cdv_geo project: the layers of one contrat de ville.
# Paths are relative to this file. Check it with:  cdv-geo validate {name}/project.toml
# Build the committee pack with:                   cdv-geo report {name}/project.toml --out pack/

[territory]
name = "{title}"
# Metric CRS of every computation (optional: Lambert-93 in metropolitan France, else UTM).
crs = "EPSG:2154"
# Source line printed on every map and table.
attribution = "Sources : ANCT (périmètres QPV), ville (équipements, NPNRU), OpenStreetMap"

[settings]
walking_speed_kmh = 4.5       # turns walking distances into minutes
thresholds_min = [5, 10]      # coverage tables: share of residents within N minutes' walk
service_area_m = [300, 600]   # walking bands drawn around services on the maps
max_snap_m = 200              # farther than this from any street = unreachable

[layers]
# Fill the template layers of layers.gpkg in QGIS (French field names are accepted: nom, type,
# nb_logements, annee, statut, essence, nb_arbres...), or point each entry at your own file.
# Run `python -c "import cdv_geo.schema as s; print(s.describe())"` for every field and value.
#
# Quartiers: the official ANCT perimeter file can be used directly:
# quartiers = {{ path = "QP2024_France_hexagonale.geojson", official = true, communes = ["02722"] }}
{layers}

# [network]                     # optional: the walking network from OpenStreetMap instead of
# osm_xml = "extract.osm"       # the `streets` lines (an .osm/.osm.bz2 extract, or graphml = ...)

[rasters]
# Copernicus HRL Imperviousness Density / Tree Cover Density (10 m), named <theme>_<year>:
# impervious_2018 = "rasters/IMD_2018_010m.tif"
# impervious_2021 = "rasters/IMD_2021_010m.tif"
# canopy_2021 = "rasters/TCD_2021_010m.tif"

[tables]
# indicators = "tables/indicateurs"      # INSEE QPV files: a file, a folder or a list; or a table
# indicators = {{ path = "qpv.csv", year = 2021, columns = {{ TAUX_PAUV = "poverty_rate_pct" }} }}
# income_grid = "tables/filosofi_200m.gpkg"    # INSEE Filosofi 200 m squares
"""

_GEOMETRY = {"Polygon": "MultiPolygon", "Point": "Point", "LineString": "MultiLineString"}

#: The layers of every contrat de ville (DESIGN.md); the other kinds (fire hydrants, incidents...)
#: serve one study each: their entries are written commented out, to uncomment once filled.
CORE_KINDS = (
    "communes",
    "quartiers",
    "facilities",
    "renewal_sites",
    "desealed_areas",
    "tree_plantings",
    "residences",
    "streets",
    "green_spaces",
)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="Territory name (default: the folder name).")
@click.option("--force", is_flag=True, help="Overwrite an existing project.toml.")
def init(directory: Path, name: str | None, force: bool) -> None:
    """Write a project skeleton in DIRECTORY: project.toml and empty template layers."""
    project = directory / "project.toml"
    if project.exists() and not force:
        raise CdvGeoError(f"{project} already exists; use --force to overwrite it")
    directory.mkdir(parents=True, exist_ok=True)
    gpkg = directory / "layers.gpkg"
    with atomic_path(gpkg) as tmp:
        for kind in LAYER_KINDS:
            layer = empty_layer(kind)
            geom = _GEOMETRY[SCHEMAS[kind].geometry[0]]
            pyogrio.write_dataframe(
                _plain(layer),
                tmp,
                layer=kind,
                driver="GPKG",
                geometry_type=geom,
                promote_to_multi=True,
            )
    lines = [
        f'{"" if kind in CORE_KINDS else "# "}{kind} = {{ path = "layers.gpkg", layer = "{kind}" }}'
        + ("" if kind in CORE_KINDS else "   # optional: uncomment once filled")
        for kind in LAYER_KINDS
    ]
    text = TEMPLATE.format(
        name=directory.name, title=name or directory.name, layers="\n".join(lines)
    )
    with atomic_path(project) as tmp:
        tmp.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {project} and {gpkg} ({len(LAYER_KINDS)} empty template layers).")
    click.echo(f"Next: fill the layers in QGIS, then run  cdv-geo validate {project}")


def _plain(layer):  # type: ignore[no-untyped-def]
    """Give empty nullable columns dtypes that OGR can map to field types."""
    out = layer.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        dt = str(out[col].dtype)
        if dt == "Int64":
            out[col] = out[col].astype("int64")
        elif dt == "boolean":
            out[col] = out[col].astype(bool)
        elif dt in ("object", "str", "string"):
            out[col] = out[col].astype(object)
    return out
