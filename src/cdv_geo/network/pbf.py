"""The walking network of an OpenStreetMap extract read with pyosmium (``.osm.pbf``, ``.osm``).

:meth:`WalkNetwork.from_osm_xml <cdv_geo.network.WalkNetwork.from_osm_xml>` hands the file to
:func:`osmnx.graph_from_xml`, which holds every node and edge as Python objects of a networkx
graph: a département's extract takes minutes and gigabytes. Here pyosmium reads the file in C++
(node locations included), Python sees only the ways tagged ``highway``, and the graph is built
with numpy arrays. The result is the network ``from_osm_xml`` builds from the same data (same
nodes, edges and lengths), because the same rules are applied:

* the ways walked are those of :func:`cdv_geo.network.tags.is_walkable` (osmnx's ``walk``
  filter); a way's consecutive repeated nodes count once, as in osmnx;
* **osmnx's simplification** (:func:`osmnx.simplify_graph`, strict mode): a node ends an edge
  unless it has exactly two neighbours and two segments (a street's shape point). The shape
  points between two such end nodes make one edge, whose geometry passes through them, even
  when it runs over several ways (the names and ids of the ways are joined with ``;``). A
  loose ring without any end node is dropped, as osmnx drops it;
* an edge repeated by several ways (the same two nodes) is kept once, as
  :meth:`~cdv_geo.network.WalkNetwork.from_graph` keeps one edge per street.

Clipping (``bbox`` or ``polygon``) keeps the nodes inside the area (its border included) and the
street segments between two of them, as osmnx's ``truncate_graph_polygon`` does before
simplifying. Nodes missing from the extract (an extract cut without complete ways) cut their
ways, and a warning counts them.
"""

from __future__ import annotations

import os
import warnings
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from cdv_geo.core.crs import choose_metric_crs, require_crs
from cdv_geo.core.errors import CdvGeoWarning, NetworkError
from cdv_geo.network.tags import is_walkable

__all__ = ["NetworkArrays", "WalkableWays", "read_osm_network", "read_walkable_ways"]

#: osmium's coordinate of a location it does not know (a node missing from the extract).
UNDEFINED_COORDINATE = 2**31 - 1
#: osmium stores degrees as integers of 1e-7 degree.
COORDINATE_PRECISION = 10_000_000


@dataclass(frozen=True)
class WalkableWays:
    """The walkable ways of an OSM extract, as flat arrays (one row per way node).

    Attributes
    ----------
    refs : numpy.ndarray of int64
        The ways' node ids, way after way.
    x, y : numpy.ndarray of int64
        The nodes' longitude and latitude in 1e-7 degree (:data:`UNDEFINED_COORDINATE` for a
        node missing from the extract).
    counts : numpy.ndarray of int64
        Number of nodes of each way.
    way_id : numpy.ndarray of int64
    name, highway : numpy.ndarray of object
        The ways' ``name`` (None when untagged) and ``highway`` tags.
    n_highway : int
        Ways tagged ``highway`` in the file, walkable or not.
    refused : frozenset of str
        The ``highway`` values of the ways left out by the walking filter.
    """

    refs: np.ndarray
    x: np.ndarray
    y: np.ndarray
    counts: np.ndarray
    way_id: np.ndarray
    name: np.ndarray
    highway: np.ndarray
    n_highway: int
    refused: frozenset[str]


@dataclass(frozen=True)
class NetworkArrays:
    """The arguments of :class:`~cdv_geo.network.WalkNetwork` read from an OSM extract."""

    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_geometry: np.ndarray
    crs: CRS
    node_ids: np.ndarray
    edge_data: pd.DataFrame
    source: str


def read_walkable_ways(path: str | os.PathLike[str]) -> WalkableWays:
    """Read the walkable ways of an OSM file and their nodes' locations with pyosmium.

    Python sees only the ways tagged ``highway`` (pyosmium filters the rest in C++), and each
    way's nodes go straight into a compact integer array.

    Parameters
    ----------
    path : path-like
        An OSM file pyosmium reads (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``...).

    Returns
    -------
    WalkableWays

    Raises
    ------
    NetworkError
        If the file is missing or cannot be read.

    Examples
    --------
    >>> import osmium, tempfile
    >>> from pathlib import Path
    >>> pbf = str(Path(tempfile.mkdtemp()) / "tiny.osm.pbf")
    >>> with osmium.SimpleWriter(pbf) as w:
    ...     w.add_node(osmium.osm.mutable.Node(id=1, location=(3.32, 49.38)))
    ...     w.add_node(osmium.osm.mutable.Node(id=2, location=(3.32, 49.381)))
    ...     w.add_way(osmium.osm.mutable.Way(id=10, nodes=[1, 2], tags={"highway": "footway"}))
    ...     w.add_way(osmium.osm.mutable.Way(id=11, nodes=[1, 2], tags={"highway": "motorway"}))
    >>> ways = read_walkable_ways(pbf)
    >>> ways.way_id.tolist(), ways.refs.tolist(), ways.y.tolist(), sorted(ways.refused)
    ([10], [1, 2], [493800000, 493810000], ['motorway'])
    """
    import osmium  # pyosmium: imported here, only readers of OSM files need it

    p = _existing(path)
    processor = (
        osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()  # node locations are kept and attached to the ways in C++
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    flat = array("q")  # (ref, x, y) of every way node: 24 bytes a node, no Python object
    counts = array("q")
    ids = array("q")
    names: list[str | None] = []
    highways: list[str] = []
    refused: set[str] = set()
    n_highway = 0
    objects: Iterator[Any] = iter(processor)  # ways only (the entity filter)
    try:
        for way in objects:
            n_highway += 1
            tags = {t.k: t.v for t in way.tags}
            if not is_walkable(tags):
                refused.add(tags["highway"])
                continue
            nodes = way.nodes
            flat.extend([v for nd in nodes for v in (nd.ref, nd.x, nd.y)])
            counts.append(len(nodes))
            ids.append(way.id)
            names.append(tags.get("name"))
            highways.append(tags["highway"])
    except (RuntimeError, ValueError, OSError) as exc:
        raise NetworkError(
            f"cannot read {p} as an OpenStreetMap file ({exc}); give a .osm.pbf (e.g. a "
            "Geofabrik extract, cut with `osmium extract`) or an .osm XML export, named with "
            "its extension"
        ) from exc
    table = np.frombuffer(flat, dtype=np.int64).reshape(-1, 3)
    return WalkableWays(
        refs=table[:, 0],
        x=table[:, 1],
        y=table[:, 2],
        counts=np.frombuffer(counts, dtype=np.int64),
        way_id=np.frombuffer(ids, dtype=np.int64),
        name=np.array(names, dtype=object),
        highway=np.array(highways, dtype=object),
        n_highway=n_highway,
        refused=frozenset(refused),
    )


def read_osm_network(
    path: str | os.PathLike[str],
    *,
    bbox: Any = None,
    polygon: Any = None,
    crs: Any = None,
) -> NetworkArrays:
    """Read an OSM extract into the arrays of a walking network (see the module's rules).

    :meth:`WalkNetwork.from_osm_pbf <cdv_geo.network.WalkNetwork.from_osm_pbf>` calls it and
    builds the network from the arrays.

    Parameters
    ----------
    path : path-like
        The extract (``.osm.pbf``, or any OSM file pyosmium reads).
    bbox : tuple of 4 floats, optional
        ``(west, south, east, north)`` in degrees: keep the streets inside.
    polygon : shapely Polygon/MultiPolygon in EPSG:4326, or a GeoDataFrame/GeoSeries, optional
        Keep the streets inside (a layer is reprojected to EPSG:4326 and its parts unioned).
    crs : optional
        Metric CRS; EPSG:2154 in metropolitan France, else the UTM zone.

    Returns
    -------
    NetworkArrays

    Raises
    ------
    NetworkError
        If the file is missing or unreadable, holds no walkable way, or no street lies in the
        area.

    Examples
    --------
    >>> import osmium, tempfile
    >>> from pathlib import Path
    >>> pbf = str(Path(tempfile.mkdtemp()) / "tiny.osm.pbf")
    >>> with osmium.SimpleWriter(pbf) as w:
    ...     for i, lat in enumerate([49.380, 49.381, 49.382], start=1):
    ...         w.add_node(osmium.osm.mutable.Node(id=i, location=(3.32, lat)))
    ...     w.add_way(osmium.osm.mutable.Way(id=10, nodes=[1, 2, 3], tags={"highway": "path"}))
    >>> arrays = read_osm_network(pbf)
    >>> arrays.node_ids.tolist(), arrays.crs.to_epsg(), len(arrays.edge_geometry[0].coords)
    ([1, 3], 2154, 3)
    >>> read_osm_network(pbf, bbox=(3.31, 49.3795, 3.33, 49.3815)).node_ids.tolist()
    [1, 2]
    """
    p = _existing(path)
    area = _area(bbox, polygon)
    ways = read_walkable_ways(p)
    if len(ways.way_id) == 0:
        found = (
            f"highway values found: {', '.join(sorted(ways.refused))}"
            if ways.refused
            else "no way has a highway tag"
        )
        raise NetworkError(
            f"OSM file {p} has no walkable way ({ways.n_highway} ways tagged highway; {found}). "
            "Use an extract with streets or footpaths (highway=residential, footway, ...)."
        )
    graph = _simplified(ways, area, p)
    return _project(graph, ways, crs, str(p))


# --- reading and clipping ----------------------------------------------------------------------


def _existing(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise NetworkError(
            f"OSM file {p} not found; check the path (download an extract, e.g. from "
            "download.geofabrik.de, and cut it with `osmium extract`)"
        )
    return p


def _area(bbox: Any, polygon: Any) -> Any:
    """Return the clipping area in EPSG:4326 (a shapely geometry), or None."""
    if bbox is not None and polygon is not None:
        raise NetworkError("give bbox or polygon, not both")
    if bbox is not None:
        try:
            west, south, east, north = (float(b) for b in bbox)
        except (TypeError, ValueError):
            raise NetworkError(
                f"bbox {bbox!r} must be (west, south, east, north) in degrees"
            ) from None
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise NetworkError(
                f"bbox {bbox!r} must be (west, south, east, north) in degrees, with west < east "
                "and south < north (longitudes -180..180, latitudes -90..90)"
            )
        return shapely.box(west, south, east, north)
    if polygon is None:
        return None
    if isinstance(polygon, gpd.GeoDataFrame | gpd.GeoSeries):
        require_crs(gpd.GeoDataFrame(geometry=polygon.geometry), "polygon")
        polygon = shapely.union_all(polygon.to_crs("EPSG:4326").geometry.values)
    if not isinstance(polygon, shapely.Polygon | shapely.MultiPolygon) or polygon.is_empty:
        raise NetworkError(
            f"polygon must be a shapely (Multi)Polygon in EPSG:4326 or a layer with a CRS, "
            f"not {type(polygon).__name__}"
        )
    return polygon


def _kept_positions(ways: WalkableWays, area: Any, p: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return which way nodes are kept (not a repeat) and which are usable (known, inside)."""
    way_of = np.repeat(np.arange(len(ways.counts)), ways.counts)
    # osmnx keeps one of a way's consecutive repeated nodes
    keep = np.ones(len(ways.refs), dtype=bool)
    keep[1:] = ~((way_of[1:] == way_of[:-1]) & (ways.refs[1:] == ways.refs[:-1]))
    known = (ways.x != UNDEFINED_COORDINATE) & (ways.y != UNDEFINED_COORDINATE)
    if not known.all():
        missing = np.unique(ways.refs[~known])
        n_ways = len(np.unique(way_of[~known]))
        warnings.warn(
            f"OSM file {p}: {len(missing):,} nodes of {n_ways:,} walkable ways are missing from "
            f"the extract (first: {', '.join(str(i) for i in missing[:3])}); the ways are cut "
            "there. Cut extracts with `osmium extract --strategy complete_ways`.",
            CdvGeoWarning,
            stacklevel=4,
        )
    usable = known.copy()
    if area is not None:
        lon = ways.x[known] / COORDINATE_PRECISION
        lat = ways.y[known] / COORDINATE_PRECISION
        shapely.prepare(area)
        usable[known] = shapely.intersects_xy(area, lon, lat)
    return keep, usable


# --- osmnx's simplification on arrays ------------------------------------------------------------


@dataclass(frozen=True)
class _Graph:
    """Simplified edges: for each, its node positions (in the kept way-node arrays)."""

    refs: np.ndarray  # node id of each kept way node
    x: np.ndarray
    y: np.ndarray
    coord_pos: np.ndarray  # positions of the edges' nodes, edge after edge
    coord_edge: np.ndarray  # edge of each of them (sorted)
    piece_edge: np.ndarray  # the runs making each edge: their edge (sorted)...
    piece_way: np.ndarray  # ... and their way


def _simplified(ways: WalkableWays, area: Any, p: Path) -> _Graph:
    keep, usable = _kept_positions(ways, area, p)
    refs, x, y = ways.refs[keep], ways.x[keep], ways.y[keep]
    way_of = np.repeat(np.arange(len(ways.counts)), ways.counts)[keep]
    usable = usable[keep]
    # a street segment joins two consecutive usable nodes of one way
    seg = (way_of[1:] == way_of[:-1]) & usable[1:] & usable[:-1]
    if not seg.any():
        where = "" if area is None else " inside the bbox/polygon"
        lon, lat = ways.x / COORDINATE_PRECISION, ways.y / COORDINATE_PRECISION
        ok = ways.x != UNDEFINED_COORDINATE
        extent = (
            f" (its walkable ways span lon {lon[ok].min():.4f} to {lon[ok].max():.4f}, lat "
            f"{lat[ok].min():.4f} to {lat[ok].max():.4f})"
            if ok.any()
            else ""
        )
        raise NetworkError(
            f"OSM file {p} has no walkable street segment{where}{extent}; give a bbox or "
            "polygon (in degrees, EPSG:4326) that covers the extract's streets, or a larger "
            "extract"
        )
    node_ids, node = np.unique(refs, return_inverse=True)
    node = node.ravel()
    nn = len(node_ids)
    a, b = node[:-1][seg], node[1:][seg]
    degree = np.bincount(a, minlength=nn) + np.bincount(b, minlength=nn)
    pairs = _distinct(np.minimum(a, b) * nn + np.maximum(a, b))
    neighbours = np.bincount(pairs // nn, minlength=nn) + np.bincount(pairs % nn, minlength=nn)
    # osmnx's _is_endpoint (strict, bidirectional): a shape point has two neighbours and two
    # segments; every other node ends an edge
    shape_point = (degree == 2) & (neighbours == 2)
    # runs: stretches of one way whose inner nodes are shape points
    cont = np.zeros(len(seg), dtype=bool)
    cont[1:] = seg[1:] & seg[:-1] & shape_point[node[1:-1]]
    starts = np.flatnonzero(seg & ~cont)
    last_seg = seg.copy()
    last_seg[:-1] &= ~cont[1:]
    ends = np.flatnonzero(last_seg) + 1
    start, end, rev, edge, head = _chains(starts, ends, node, shape_point)
    if len(edge) == 0:
        raise NetworkError(
            f"OSM file {p}: the walkable ways{' in the area' if area is not None else ''} only "
            "form loose rings (closed ways that meet no other street), which osmnx drops too; "
            "give a larger extract or area"
        )
    coord_pos, coord_edge = _piece_positions(start, end, rev, edge, head)
    return _Graph(refs, x, y, coord_pos, coord_edge, edge, way_of[start])


def _chains(
    starts: np.ndarray,
    ends: np.ndarray,
    node: np.ndarray,
    shape_point: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Join the runs that meet at a shape point (a way ending mid-street) into edges.

    Returns the pieces (start, end, reversed, edge, first of its edge), in edge order.
    """
    first, last = node[starts], node[ends]
    free_first, free_last = ~shape_point[first], ~shape_point[last]
    direct = np.flatnonzero(free_first & free_last)
    joined = np.flatnonzero(~(free_first & free_last))
    # each shape point ending a run ends exactly two runs: pair them
    sides = np.concatenate([np.zeros(len(joined), int), np.ones(len(joined), int)])
    runs = np.concatenate([joined, joined])
    at = np.concatenate([first[joined], last[joined]])
    inner = shape_point[at]
    sides, runs, at = sides[inner], runs[inner], at[inner]
    order = np.argsort(at, kind="stable")
    one = list(zip(runs[order[0::2]].tolist(), sides[order[0::2]].tolist(), strict=True))
    two = list(zip(runs[order[1::2]].tolist(), sides[order[1::2]].tolist(), strict=True))
    partner = dict(zip(one, two, strict=True)) | dict(zip(two, one, strict=True))
    chains: list[list[tuple[int, bool]]] = []
    seen: set[int] = set()
    for r in joined.tolist():
        if r in seen or not (free_first[r] or free_last[r]):
            continue
        # walk from the run's free end, across shape points, to the next end node
        backwards = not bool(free_first[r])
        chain = [(r, backwards)]
        seen.add(r)
        cur, side = r, 0 if backwards else 1
        while (cur, side) in partner:
            nxt, nside = partner[(cur, side)]
            chain.append((nxt, nside == 1))
            seen.add(nxt)
            cur, side = nxt, 1 - nside
        chains.append(chain)
    # runs never reached form loose rings without an end node: osmnx drops them
    n_direct = len(direct)
    chain_len = np.array([len(c) for c in chains], dtype=np.int64)
    flat = [item for c in chains for item in c]
    run = np.concatenate([direct, np.array([r for r, _ in flat], dtype=np.int64)])
    flip = np.concatenate([np.zeros(n_direct, bool), np.array([v for _, v in flat], dtype=bool)])
    edge = np.concatenate(
        [np.arange(n_direct), n_direct + np.repeat(np.arange(len(chains)), chain_len)]
    )
    head = np.r_[True, edge[1:] != edge[:-1]] if len(edge) else np.ones(0, dtype=bool)
    return starts[run], ends[run], flip, edge, head


def _piece_positions(
    start: np.ndarray, end: np.ndarray, rev: np.ndarray, edge: np.ndarray, head: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Expand pieces (way-node ranges, maybe reversed) into each edge's node positions.

    A piece after the first of its edge starts at the node where the previous one ended:
    that node is not repeated.
    """
    skip = (~head).astype(np.int64)
    length = end - start + 1 - skip
    offset = np.repeat(np.cumsum(length) - length, length)
    k = np.arange(int(length.sum())) - offset
    base = np.where(rev, end - skip, start + skip)
    step = np.where(rev, -1, 1)
    return np.repeat(base, length) + np.repeat(step, length) * k, np.repeat(edge, length)


# --- projection and edge attributes --------------------------------------------------------------


def _project(graph: _Graph, ways: WalkableWays, crs: Any, source: str) -> NetworkArrays:
    pos, edge = graph.coord_pos, graph.coord_edge
    lon = graph.x[pos] / COORDINATE_PRECISION
    lat = graph.y[pos] / COORDINATE_PRECISION
    extent = gpd.GeoDataFrame(
        geometry=[shapely.box(lon.min(), lat.min(), lon.max(), lat.max())], crs="EPSG:4326"
    )
    target = choose_metric_crs(extent, crs)
    x, y = Transformer.from_crs("EPSG:4326", target, always_xy=True).transform(lon, lat)
    xy = np.column_stack([x, y])
    n_edges = int(edge[-1]) + 1
    first = np.searchsorted(edge, np.arange(n_edges))
    last = np.append(first[1:], len(edge)) - 1
    ref_u, ref_v = graph.refs[pos[first]], graph.refs[pos[last]]
    # a segment repeated by several ways (the same two nodes) is one street
    two = (last - first) == 1
    key = np.where(two, np.minimum(ref_u, ref_v), -1 - np.arange(n_edges))
    key2 = np.where(two, np.maximum(ref_u, ref_v), 0)
    _, kept = np.unique(np.column_stack([key, key2]), axis=0, return_index=True)
    kept = np.sort(kept)
    geoms = np.asarray(shapely.linestrings(xy, indices=edge), dtype=object)[kept]
    node_ids, uv = np.unique(np.concatenate([ref_u[kept], ref_v[kept]]), return_inverse=True)
    uv = uv.ravel()
    node_xy = np.empty((len(node_ids), 2))
    node_xy[uv] = np.concatenate([xy[first[kept]], xy[last[kept]]])
    return NetworkArrays(
        node_xy=node_xy,
        edge_u=uv[: len(kept)],
        edge_v=uv[len(kept) :],
        edge_geometry=geoms,
        crs=target,
        node_ids=node_ids,
        edge_data=_edge_data(graph, kept, ways),
        source=source,
    )


def _edge_data(graph: _Graph, kept: np.ndarray, ways: WalkableWays) -> pd.DataFrame:
    """Each kept edge's ``osmid``, ``name`` and ``highway``; several ways' joined with ``;``."""
    edge, way = graph.piece_edge, graph.piece_way
    first = np.searchsorted(edge, np.arange(int(edge[-1]) + 1))
    one = way[first]
    osmid = ways.way_id[one].astype(object)
    name = ways.name[one]
    highway = ways.highway[one]
    # an edge made of several ways (joined at a shape point): their distinct values
    bounds = np.append(first, len(edge))
    for e in _distinct(edge[way != one[edge]]).tolist():
        w = sorted(set(way[bounds[e] : bounds[e + 1]].tolist()))
        osmid[e] = _joined(ways.way_id[w].tolist())
        name[e] = _joined(ways.name[w].tolist())
        highway[e] = _joined(ways.highway[w].tolist())
    osmid, name, highway = osmid[kept], name[kept], highway[kept]
    data = pd.DataFrame({"osmid": osmid, "name": name, "highway": highway})
    return data.loc[:, data.notna().any()]


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct integers (a sort: numpy's hash-based ``unique`` is slower here)."""
    out = np.sort(values)
    return out[np.r_[True, out[1:] != out[:-1]]] if len(out) else out


def _joined(values: list[Any]) -> Any:
    """One value, or the distinct values joined with ``;`` (None when there is none)."""
    distinct = sorted({str(v) for v in values if v is not None})
    if not distinct:
        return None
    return distinct[0] if len(distinct) == 1 else ";".join(distinct)
