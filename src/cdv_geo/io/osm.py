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

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.core.layers import as_layer
from cdv_geo.schema import is_missing, normalize_token, validate

__all__ = ["OSM_KEYS", "OSM_OPEN_KEYS", "OSM_TAG_KINDS", "facilities_from_osm", "osm_kind"]

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


def _rows_of_frame(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Rows of a GeoDataFrame holding OSM tags as columns (as osmnx returns them)."""
    if not any(k in gdf.columns for k in OSM_KEYS):
        raise DataValidationError(
            [
                Problem(
                    f"no OSM tag column ({', '.join(OSM_KEYS)}) in the GeoDataFrame; found "
                    f"{', '.join(map(str, gdf.columns[:12]))}",
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
        An OSM extract (``.osm`` XML, ``.osm.pbf``, ``.osm.bz2``...) read with pyosmium, or a
        GeoDataFrame with OSM tag columns (``osmnx.features_from_place(...)``).
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
        try:
            rows = _read_osm_file(p)
        except RuntimeError as exc:
            raise DataValidationError(
                [Problem(f"cannot read as an OSM file ({exc})", file=str(p), layer="facilities")]
            ) from exc
        source, src_crs = str(p), "EPSG:4326"
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
