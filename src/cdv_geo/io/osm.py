"""Facilities from OpenStreetMap tags, as a validated facilities layer.

Reads an ``.osm`` / ``.osm.pbf`` extract (pyosmium) or a GeoDataFrame of OSM features (osmnx).

The mapping from tags to kinds is :data:`OSM_TAG_KINDS`; the first key of :data:`OSM_KEYS` that
a feature carries decides its kind:

=================  =====================================================================
tag                kind
=================  =====================================================================
amenity            pharmacy, doctors -> doctor, clinic -> health_centre, police,
                   post_office, townhall -> town_hall, library, school (``school:FR`` =
                   collège / lycée -> secondary_school), kindergarten -> school,
                   childcare, community_centre / social_centre -> social_centre,
                   social_facility -> social_services, arts_centre / theatre -> culture,
                   recycling / waste_disposal -> waste_point, bus_station -> bus_stop,
                   hospital, dentist, cinema, marketplace, bank (kept as such)
healthcare         pharmacy, doctor, centre / clinic -> health_centre; any other value kept
leisure            sports_centre, sports_hall, stadium, pitch, fitness_centre,
                   swimming_pool, track -> sports; park, garden -> park; splash_pad,
                   water_park -> water_play_area; playground
shop               supermarket; convenience, bakery, butcher, greengrocer, general,
                   deli, frozen_food, seafood -> shop; any other value kept (hairdresser...)
emergency          ambulance_station, defibrillator
highway            bus_stop
public_transport   platform / stop_position with ``bus=yes`` -> bus_stop
railway            station, halt -> train_station
=================  =====================================================================

"Kept" values become kinds of their own (open kinds), labelled by
:func:`cdv_geo.schema.kind_label`. Other tags (benches, parking, hydrants...) are ignored.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.core.layers import as_layer
from cdv_geo.io.layers import read_vector
from cdv_geo.schema import is_missing, normalize_token, validate

__all__ = [
    "OSM_KEYS",
    "OSM_OPEN_KEYS",
    "OSM_TAG_KINDS",
    "facilities_from_osm",
    "osm_extent",
    "osm_kind",
]

#: Keys looked at, in order of precedence.
OSM_KEYS: tuple[str, ...] = (
    "amenity",
    "healthcare",
    "leisure",
    "shop",
    "emergency",
    "highway",
    "public_transport",
    "railway",
)
#: Keys whose unlisted values are kept as kinds of their own.
OSM_OPEN_KEYS: frozenset[str] = frozenset({"healthcare", "shop"})

#: ``key -> value -> kind``.
OSM_TAG_KINDS: dict[str, dict[str, str]] = {
    "amenity": {
        "pharmacy": "pharmacy",
        "doctors": "doctor",
        "clinic": "health_centre",
        "hospital": "hospital",
        "dentist": "dentist",
        "police": "police",
        "post_office": "post_office",
        "townhall": "town_hall",
        "library": "library",
        "school": "school",
        "kindergarten": "school",
        "childcare": "childcare",
        "community_centre": "social_centre",
        "social_centre": "social_centre",
        "social_facility": "social_services",
        "arts_centre": "culture",
        "theatre": "culture",
        "cinema": "cinema",
        "recycling": "waste_point",
        "waste_disposal": "waste_point",
        "bus_station": "bus_stop",
        "marketplace": "marketplace",
        "bank": "bank",
    },
    "healthcare": {
        "pharmacy": "pharmacy",
        "doctor": "doctor",
        "centre": "health_centre",
        "clinic": "health_centre",
        "hospital": "hospital",
    },
    "leisure": {
        "sports_centre": "sports",
        "sports_hall": "sports",
        "stadium": "sports",
        "pitch": "sports",
        "fitness_centre": "sports",
        "swimming_pool": "sports",
        "track": "sports",
        "park": "park",
        "garden": "park",
        "splash_pad": "water_play_area",
        "water_park": "water_play_area",
        "playground": "playground",
    },
    "shop": {
        "supermarket": "supermarket",
        "convenience": "shop",
        "bakery": "shop",
        "butcher": "shop",
        "greengrocer": "shop",
        "general": "shop",
        "deli": "shop",
        "frozen_food": "shop",
        "seafood": "shop",
    },
    "emergency": {"ambulance_station": "ambulance_station", "defibrillator": "defibrillator"},
    "highway": {"bus_stop": "bus_stop"},
    "public_transport": {"platform": "bus_stop", "stop_position": "bus_stop"},
    "railway": {"station": "train_station", "halt": "train_station"},
}

_SECONDARY = {"college", "lycee", "college_lycee", "lycee_professionnel"}


def osm_kind(tags: Mapping[str, Any]) -> tuple[str, str] | None:
    """Return ``(kind, "key=value")`` for a feature's tags, or None when none is a facility.

    Examples
    --------
    >>> osm_kind({"amenity": "pharmacy", "name": "Pharmacie du centre"})
    ('pharmacy', 'amenity=pharmacy')
    >>> osm_kind({"amenity": "school", "school:FR": "collège"})
    ('secondary_school', 'amenity=school')
    >>> osm_kind({"shop": "hairdresser"}), osm_kind({"amenity": "bench"})
    (('hairdresser', 'shop=hairdresser'), None)
    """
    for key in OSM_KEYS:
        value = tags.get(key)
        if value is None or is_missing(value):
            continue
        value = str(value).strip()
        table = OSM_TAG_KINDS[key]
        kind = table.get(value)
        if kind is None and key in OSM_OPEN_KEYS and value not in ("yes", "no", "vacant"):
            kind = normalize_token(value)
        if kind is None:
            continue
        if key == "public_transport" and str(tags.get("bus", "")) != "yes":
            continue
        if kind == "school" and normalize_token(tags.get("school:FR", "")) in _SECONDARY:
            kind = "secondary_school"
        return kind, f"{key}={value}"
    return None


def _single(geom: Any) -> Any:
    """Return a one-part multipolygon as a polygon."""
    if geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


def _read_osm_file(p: Path) -> list[dict[str, Any]]:
    import osmium  # pyosmium: imported here, only readers of OSM files need it

    fab = osmium.geom.WKBFactory()
    rows: list[dict[str, Any]] = []
    processor = osmium.FileProcessor(str(p)).with_locations().with_areas()
    for obj in processor:
        if not len(obj.tags):
            continue
        tags = {t.k: t.v for t in obj.tags}
        found = osm_kind(tags)
        if found is None:
            continue
        try:
            if isinstance(obj, osmium.osm.Node):
                geom, osm_id = shapely.from_wkb(fab.create_point(obj)), f"node/{obj.id}"
            elif isinstance(obj, osmium.osm.Area):
                kind = "way" if obj.from_way() else "relation"
                geom = _single(shapely.from_wkb(fab.create_multipolygon(obj)))
                osm_id = f"{kind}/{obj.orig_id()}"
            elif isinstance(obj, osmium.osm.Way) and not obj.is_closed():
                # closed ways come back as areas; a facility drawn as a line: its middle
                line = shapely.from_wkb(fab.create_linestring(obj))
                geom, osm_id = line.interpolate(0.5, normalized=True), f"way/{obj.id}"
            else:
                continue
        except (RuntimeError, osmium.InvalidLocationError):
            continue  # a way whose nodes are outside the extract
        rows.append(_row(tags, found, osm_id, geom))
    return rows


def _row(tags: Mapping[str, Any], found: tuple[str, str], osm_id: str, geom: Any) -> dict[str, Any]:
    name = tags.get("name")
    return {
        "name": None if name is None or is_missing(name) else str(name),
        "kind": found[0],
        "osm_id": osm_id,
        "osm_tag": found[1],
        "geometry": geom,
    }


#: Vector formats an OSM export may come in (overpass-turbo, osmium export, ogr2ogr, QGIS).
EXPORT_SUFFIXES = (".geojson", ".json", ".geojsonl", ".geojsons", ".gpkg", ".fgb", ".shp")

_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def _tags_of(value: Any) -> dict[str, Any]:
    """Return the tags packed in one property (``tags``, ``other_tags``) as a dict.

    Examples
    --------
    >>> _tags_of('"amenity"=>"pharmacy","opening_hours"=>"Mo-Fr"')
    {'amenity': 'pharmacy', 'opening_hours': 'Mo-Fr'}
    >>> _tags_of('{"amenity": "school"}'), _tags_of(None)
    ({'amenity': 'school'}, {})
    """
    if isinstance(value, Mapping):
        return dict(value)
    if value is None or is_missing(value):
        return {}
    text = str(value).strip()
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError:
            return {}
        return dict(loaded) if isinstance(loaded, dict) else {}
    return dict(_HSTORE.findall(text))


def _unpack_export(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str] | None]:
    """Tags as columns and the OSM ids of a common OSM export, whatever the tool.

    overpass-turbo writes ``@id`` = ``node/123`` and the tags as properties; ``osmium export``
    the tags as properties (``@type`` and ``@id`` with ``-a type,id``); older exports a
    ``tags`` object; ogr2ogr's OSM driver a few tags as columns and the others in
    ``other_tags``.
    """
    out = gdf
    for packed in ("tags", "other_tags"):
        if packed in gdf.columns:
            extra = pd.DataFrame([_tags_of(v) for v in gdf[packed]], index=gdf.index)
            extra = extra[[c for c in extra.columns if c not in out.columns]]
            out = out.drop(columns=[packed]).join(extra)
    ids: list[str] | None = None
    if "@id" in out.columns:
        kinds = out["@type"] if "@type" in out.columns else None
        ids = [
            str(v) if kinds is None or "/" in str(v) else f"{t}/{v}"
            for v, t in zip(out["@id"], kinds if kinds is not None else out["@id"], strict=True)
        ]
    elif "osm_id" in out.columns or "osm_way_id" in out.columns:
        node = out["osm_id"] if "osm_id" in out.columns else [None] * len(out)
        way = out["osm_way_id"] if "osm_way_id" in out.columns else [None] * len(out)
        ids = [
            f"node/{n}" if not is_missing(n) else f"way/{w}" for n, w in zip(node, way, strict=True)
        ]
    elif "id" in out.columns and out["id"].astype(str).str.contains("/").all():
        ids = [str(v) for v in out["id"]]
    return out, ids


def _rows_of_frame(
    gdf: gpd.GeoDataFrame, ids: list[str] | None = None, source: str | None = None
) -> list[dict[str, Any]]:
    """Rows of a GeoDataFrame holding OSM tags as columns (osmnx, or a file exported)."""
    if not any(k in gdf.columns for k in OSM_KEYS):
        what = "the file" if source else "the GeoDataFrame"
        raise DataValidationError(
            [
                Problem(
                    f"no OSM tag column ({', '.join(OSM_KEYS)}) in {what}; found "
                    f"{', '.join(map(str, gdf.columns[:12]))}. Export the features with their "
                    "tags (overpass-turbo: Export > GeoJSON; osmium export), or read the "
                    ".osm / .osm.pbf extract itself",
                    file=source,
                    layer="facilities",
                )
            ]
        )
    rows = []
    cols = [c for c in (*OSM_KEYS, "school:FR", "bus", "name") if c in gdf.columns]
    for pos, (idx, geom) in enumerate(zip(gdf.index, gdf.geometry, strict=True)):
        tags = {c: gdf[c].iloc[pos] for c in cols}
        found = osm_kind({k: v for k, v in tags.items() if not is_missing(v)})
        if found is None or geom is None or geom.is_empty:
            continue
        if geom.geom_type in ("LineString", "MultiLineString"):
            geom = geom.interpolate(0.5, normalized=True)
        if ids is not None:
            osm_id = ids[pos]
        else:
            osm_id = "/".join(map(str, idx)) if isinstance(idx, tuple) else str(idx)
        rows.append(_row(tags, found, osm_id, _single(geom)))
    return rows


def facilities_from_osm(
    path_or_gdf: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    kinds: Iterable[str] | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read facilities from OpenStreetMap data into a validated facilities layer.

    Parameters
    ----------
    path_or_gdf : str, path-like or geopandas.GeoDataFrame
        An OSM extract (``.osm`` XML, ``.osm.pbf``, ``.osm.bz2``...) read with pyosmium; the
        GeoJSON (or GeoPackage...) of a common OSM export: overpass-turbo (``@id``, tags as
        properties), ``osmium export``, ogr2ogr (``other_tags``); or a GeoDataFrame with OSM
        tag columns (``osmnx.features_from_place(...)``).
    kinds : iterable of str, optional
        Keep only these kinds (``["pharmacy", "school"]``).
    crs : Any, optional
        CRS to return the layer in (OSM coordinates are EPSG:4326, which is the default).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id`` (``osm-1``...), ``name`` (the ``name`` tag, else the kind's label), ``kind``
        (see :data:`OSM_TAG_KINDS`), ``osm_id`` (``node/123``, ``way/45``...), ``osm_tag``
        (``amenity=pharmacy``); points for nodes, polygons for areas, the middle of a line.

    Raises
    ------
    DataValidationError
        If the file is missing or no feature carries a facility tag.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> osm = gpd.GeoDataFrame({"amenity": ["pharmacy", "bench"], "name": ["Pharmacie", None]},
    ...                        geometry=[Point(3.32, 49.38), Point(3.33, 49.38)], crs=4326)
    >>> facilities_from_osm(osm)[["name", "kind", "osm_tag"]]
            name      kind           osm_tag
    0  Pharmacie  pharmacy  amenity=pharmacy
    """
    if isinstance(path_or_gdf, gpd.GeoDataFrame | pd.DataFrame):
        gdf = as_layer(path_or_gdf, "path_or_gdf")
        rows, source, src_crs = _rows_of_frame(gdf), None, gdf.crs
    else:
        p = Path(path_or_gdf)
        if not p.exists():
            raise DataValidationError(
                [Problem("file does not exist; check the path", file=str(p), layer="facilities")]
            )
        if p.suffix.lower() in EXPORT_SUFFIXES:
            exported = read_vector(p, kind="facilities")
            rows = _rows_of_frame(*_unpack_export(exported), source=str(p))
            source, src_crs = str(p), exported.crs
            return _finish(rows, kinds, crs, source, src_crs)
        try:
            rows = _read_osm_file(p)
        except RuntimeError as exc:
            raise DataValidationError(
                [Problem(f"cannot read as an OSM file ({exc})", file=str(p), layer="facilities")]
            ) from exc
        source, src_crs = str(p), "EPSG:4326"
    return _finish(rows, kinds, crs, source, src_crs)


def _finish(
    rows: list[dict[str, Any]],
    kinds: Iterable[str] | None,
    crs: Any,
    source: str | None,
    src_crs: Any,
) -> gpd.GeoDataFrame:
    """Keep the kinds asked for and return the validated layer."""
    if kinds is not None:
        wanted = {normalize_token(k) for k in ([kinds] if isinstance(kinds, str) else kinds)}
        rows = [r for r in rows if r["kind"] in wanted]
    if not rows:
        raise DataValidationError(
            [
                Problem(
                    "no OSM feature with a facility tag"
                    + (f" of kinds {sorted(wanted)}" if kinds is not None else "")
                    + f" ({', '.join(OSM_KEYS)}: see cdv_geo.io.osm.OSM_TAG_KINDS)",
                    file=source,
                    layer="facilities",
                )
            ]
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=src_crs)
    out.insert(0, "id", [f"osm-{i + 1}" for i in range(len(out))])
    out["source"] = "© OpenStreetMap contributors (ODbL)"
    if crs is not None:
        out = out.to_crs(crs)
    return validate(out, "facilities", source=source)


def osm_extent(path: str | os.PathLike[str]) -> tuple[float, float, float, float] | None:
    """Return the extent (west, south, east, north, degrees) of an OSM extract.

    The bounding box of its header when it has one (Geofabrik, overpass, JOSM), else that of
    its nodes. None when the file holds no node.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.osm"
    >>> _ = p.write_text('<osm version="0.6"><node id="1" lat="49.38" lon="3.32"/>'
    ...                  '<node id="2" lat="49.39" lon="3.34"/></osm>')
    >>> osm_extent(p)
    (3.32, 49.38, 3.34, 49.39)
    """
    import osmium

    p = str(path)
    box = osmium.io.Reader(p, osmium.osm.osm_entity_bits.NOTHING).header().box()
    if box.valid():
        return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
    lons: list[float] = []
    lats: list[float] = []
    for node in osmium.FileProcessor(p, osmium.osm.NODE):
        location = node.location  # type: ignore[union-attr]  # (only nodes are read)
        lons.append(location.lon)
        lats.append(location.lat)
    if not lons:
        return None
    return (min(lons), min(lats), max(lons), max(lats))
