"""Areas within a walking distance of the facilities (*service areas*, isochrones), for maps.

The area is the union of the street portions reached within the threshold — whole edges and
the part of the edge where the threshold falls — buffered by `buffer_m` (the walk from the
street to the door). Unlike a convex hull of reached nodes it neither spills over rivers and
railways nor collapses to a point in a cul-de-sac. Facilities join the network as in
:mod:`cdv_geo.metrics.access` (:func:`cdv_geo.metrics.walking.facility_seeds`).

The union of tens of thousands of buffered street segments is the cost of a big city's areas.
The street portions reached are first joined along their *strokes* (the edges that continue
one another through an intersection, within 37 degrees of a straight line, as
:func:`street_strokes` pairs them; the part of an edge at the threshold continues its edge's
stroke): one buffer per stretch of a stroke instead of one per edge, several times fewer
polygons to union. The union is the same set (the buffer of a line is the union of the buffers
of its parts); only the polygonal approximation of the round joins differs, by slivers of
about a square metre (on a 100 km² city of 112,000 street edges, 12 to 105 m² per area of 3 to
60 km²).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.layers import as_layer
from cdv_geo.core.threads import pool
from cdv_geo.metrics.walking import (
    FacilitySeeds,
    attached_seeds,
    check_network,
    check_positive,
    measure_crs,
    select_kinds,
    to_crs,
    unique_ids,
)
from cdv_geo.network import WalkNetwork

__all__ = ["service_areas", "street_strokes"]

_QUAD_SEGS = 4
#: Two edges continue one another when they leave their shared node at 180 +- 37 degrees.
_STROKE_COS = 0.8


def service_areas(
    facilities: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None,
    thresholds_m: float | Sequence[float] = (300.0, 600.0),
    by: Literal["kind", "facility"] = "kind",
    kinds: str | Sequence[str] | None = None,
    buffer_m: float = 25.0,
    max_snap_m: float = 200.0,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Compute the areas within a walking distance of the facilities, for the maps.

    The union of the street portions reached within each threshold, buffered by `buffer_m`
    (see the module docstring). A facility's own snap distance is walked first. With
    ``network=None``: discs (a polygon facility grown by the threshold), ``method="euclidean"``.

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Facilities with a ``kind`` column (points or polygons).
    network : WalkNetwork or None
        The walking network (keyword required so that straight-line areas are a choice).
    thresholds_m : float or list of float, default (300, 600)
        Walking distances, in metres.
    by : {"kind", "facility"}, default "kind"
        One area per kind (dissolved) or per facility.
    kinds : str or list of str, optional
        Facility kinds (all present when omitted).
    buffer_m : float, default 25
        Half-width of the area around reached streets.
    max_snap_m : float, default 200
        Facilities farther than this from every street are left out (with a warning).
    crs : str, int or pyproj.CRS, optional
        The project's metric CRS. Without a network, distances are measured in it (default:
        EPSG:2154 in metropolitan France, else the UTM zone); with a network, in the network's
        CRS, which `crs` must then equal.

    Returns
    -------
    geopandas.GeoDataFrame
        ``kind``, ``threshold_m``, ``facility_id`` (with ``by="facility"``), ``method`` and the
        (Multi)Polygon geometry, in the metric CRS.

    Raises
    ------
    LayerTypeError, CRSError, DataValidationError
        `facilities` is not a GeoDataFrame, has no CRS, is empty or has no ``kind``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString, Point
    >>> net = WalkNetwork.from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (1000, 0)])], crs=2154), crs=2154)
    >>> fac = gpd.GeoDataFrame({"kind": ["ccas"]}, geometry=[Point(500, 0)], crs=2154)
    >>> a = service_areas(fac, network=net, thresholds_m=[300], buffer_m=10)
    >>> a[["kind", "threshold_m", "method"]]
       kind  threshold_m   method
    0  ccas        300.0  network
    >>> a.geometry.bounds.round(1).values.tolist()  # 200-800 reached, plus 10 m each side
    [[190.0, -10.0, 810.0, 10.0]]
    """
    facilities = as_layer(facilities, "facilities", geometry=["point", "polygon"])
    kind_list = select_kinds(facilities, kinds)
    if by not in ("kind", "facility"):
        raise CdvGeoError(f"by must be 'kind' or 'facility', not {by!r}")
    values = [thresholds_m] if np.isscalar(thresholds_m) else list(thresholds_m)  # type: ignore[arg-type]
    if not values:
        raise CdvGeoError("thresholds_m is empty; give at least one distance in metres")
    ts = sorted(check_positive(t, "thresholds_m") for t in values)
    buf = float(buffer_m)
    if not np.isfinite(buf) or buf < 0:
        raise CdvGeoError(f"buffer_m must be a distance >= 0 in metres, not {buffer_m!r}")
    network = check_network(network)
    target = measure_crs(facilities, network, crs)
    f = to_crs(facilities, target)
    fac_ids = unique_ids(f, "facilities").to_numpy(dtype=object)
    f_geoms = np.asarray(f.geometry.values, dtype=object)
    fkind = np.array([str(k) if pd.notna(k) else "" for k in f["kind"]], dtype=object)
    rows: list[dict[str, Any]] = []
    method = "network" if network is not None else "euclidean"
    strokes = street_strokes(network) if network is not None else None
    present = ~(shapely.is_missing(f_geoms) | shapely.is_empty(f_geoms))
    for kind in kind_list:
        sel = np.flatnonzero((fkind == kind) & present)
        if network is None:
            groups = [[i] for i in sel] if by == "facility" else [list(sel)]
            for grp in groups:
                for t in ts:
                    disc = shapely.union_all(shapely.buffer(f_geoms[grp], t, quad_segs=16))
                    rows.append(_area_row(kind, t, by, fac_ids, grp, method, disc))
            continue
        seeds = attached_seeds(
            network, f_geoms, sel, fac_ids, kind, max_snap_m, "given no service area", stacklevel=3
        )
        assert strokes is not None
        rows.extend(_network_rows(network, strokes, seeds, sel, kind, ts, by, fac_ids, buf))
    cols = ["kind", "threshold_m", *(["facility_id"] if by == "facility" else []), "method"]
    # the unions ran in worker threads (GEOS releases the GIL) while the next kinds were routed
    geoms = [_done(r.pop("geometry")) for r in rows]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry=geoms, crs=target)


def _network_rows(
    network: WalkNetwork,
    strokes: np.ndarray,
    seeds: FacilitySeeds,
    sel: np.ndarray,
    kind: str,
    ts: list[float],
    by: str,
    fac_ids: np.ndarray,
    buf: float,
) -> list[dict[str, Any]]:
    """Return the rows of one kind: an area per facility, or one for the kind, per threshold."""
    if by == "facility":
        seed_groups = [(np.flatnonzero(seeds.fac == j), [sel[j]]) for j in range(len(sel))]
    else:
        seed_groups = [(np.arange(len(seeds.edge)), list(sel))]
    rows: list[dict[str, Any]] = []
    for sidx, grp in seed_groups:
        if len(sidx) == 0:
            for t in ts:
                rows.append(_area_row(kind, t, by, fac_ids, grp, "network", shapely.Polygon()))
            continue
        routes = network.route(
            seeds.edge[sidx], seeds.along[sidx], seeds.offset[sidx], limit=ts[-1]
        )
        for t in ts:
            pieces = _reached_pieces(network, strokes, routes.dist, seeds, sidx, t)
            geom = pool().submit(_buffered_union, pieces, buf) if len(pieces) else shapely.Polygon()
            rows.append(_area_row(kind, t, by, fac_ids, grp, "network", geom))
    return rows


def _buffered_union(pieces: np.ndarray, buf: float) -> Any:
    """Return the union of the street pieces buffered by `buf` (run in a worker thread)."""
    # a union of buffers is several times faster in GEOS than the buffer of one
    # MultiLineString; 4 segments per quarter circle stay within 0.5 m at 25 m
    return shapely.union_all(shapely.buffer(pieces, buf, quad_segs=_QUAD_SEGS))


def _done(geom: Any) -> Any:
    """Return the geometry, once its worker thread has computed it."""
    return geom.result() if isinstance(geom, Future) else geom


def _area_row(
    kind: str,
    t: float,
    by: str,
    fac_ids: np.ndarray,
    grp: Sequence[Any],
    method: str,
    geom: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": kind, "threshold_m": t, "method": method, "geometry": geom}
    if by == "facility":
        row["facility_id"] = fac_ids[grp[0]]
    return row


def _reached_pieces(
    net: WalkNetwork,
    strokes: np.ndarray,
    dist: np.ndarray,
    seeds: FacilitySeeds,
    sidx: np.ndarray,
    t: float,
) -> np.ndarray:
    """Return the street portions within `t` metres.

    Whole edges (joined along their strokes) and the partial ones at the threshold.
    """
    length = net.edge_length
    ru = t - dist[net.edge_u]  # metres still walkable from each end
    rv = t - dist[net.edge_v]
    full = (ru >= length) | (rv >= length) | ((ru > 0) & (rv > 0) & (ru + rv >= length))
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    edges: list[np.ndarray] = []
    pu = np.flatnonzero(~full & (ru > 0))
    edges.append(pu)
    starts.append(np.zeros(len(pu)))
    ends.append(ru[pu])
    pv = np.flatnonzero(~full & (rv > 0))
    edges.append(pv)
    starts.append(length[pv] - rv[pv])
    ends.append(length[pv])
    # along its own edge a facility spreads both ways from its attachment point
    rem = t - seeds.offset[sidx]
    own = rem > 0
    se = seeds.edge[sidx][own]
    sa = seeds.along[sidx][own]
    keep = ~full[se]
    edges.append(se[keep])
    starts.append(np.maximum(sa[keep] - rem[own][keep], 0.0))
    ends.append(np.minimum(sa[keep] + rem[own][keep], length[se[keep]]))
    e = np.concatenate(edges)
    s = np.concatenate(starts)
    en = np.concatenate(ends)
    ok = en > s
    whole = np.flatnonzero(full)
    parts = np.asarray(_substrings(net.edge_geometry[e[ok]], s[ok], en[ok]), dtype=object)
    # a piece continues its stroke: the part at the threshold ends the stretch it walks along
    label = np.concatenate([strokes[whole], strokes[e[ok]]])
    return _joined(np.concatenate([net.edge_geometry[whole], parts]), label)


def _substrings(geoms: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[Any]:
    """Parts of lines between two distances along them (vectorised shapely.ops.substring)."""
    ok = end > start
    geoms, start, end = geoms[ok], start[ok], end[ok]
    if not len(geoms):
        return []
    coords, gi = shapely.get_coordinates(geoms, return_index=True)
    seg = np.hypot(*np.diff(coords, axis=0).T)
    same = gi[1:] == gi[:-1]
    seg = np.where(same, seg, 0.0)
    cum = np.r_[0.0, np.cumsum(seg)]
    first = np.r_[0, np.flatnonzero(~same) + 1]
    cum = cum - np.repeat(cum[first], np.diff(np.r_[first, len(coords)]))
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end))
    inner = (cum > start[gi]) & (cum < end[gi])
    inner_idx = np.flatnonzero(inner)
    split = np.searchsorted(gi[inner_idx], np.arange(len(geoms) + 1))
    # each part: its start point, the vertices strictly inside, its end point
    n_mid = np.diff(split)
    first = np.r_[0, np.cumsum(n_mid + 2)[:-1]]
    xy = np.empty((int((n_mid + 2).sum()), 2))
    xy[first] = p0
    xy[first + 1 + n_mid] = p1
    owner = gi[inner_idx]
    xy[first[owner] + 1 + np.arange(len(inner_idx)) - split[owner]] = coords[inner_idx]
    parts = shapely.linestrings(xy, indices=np.repeat(np.arange(len(geoms)), n_mid + 2))
    return list(np.asarray(parts, dtype=object))


def _joined(pieces: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Return the pieces, those of one stroke (equal `label`) merged where they meet end to end.

    Pieces shorter than a millimetre stay as they are (a line merger drops a line whose ends
    coincide, and its buffer, a disc, would be lost).
    """
    short = shapely.length(pieces) < 1e-3
    label = np.where(short, -1 - np.arange(len(label)), label)
    order = np.argsort(label, kind="stable")
    label, pieces = label[order], pieces[order]
    start = np.r_[True, label[1:] != label[:-1]]
    size = np.diff(np.r_[np.flatnonzero(start), len(label)])
    alone = np.repeat(size == 1, size)
    out = [pieces[alone]]
    if (~alone).any():
        _, group = np.unique(label[~alone], return_inverse=True)
        multi = shapely.multilinestrings(pieces[~alone], indices=group)
        out.append(shapely.get_parts(shapely.line_merge(multi)))
    return np.concatenate(out).astype(object)


def street_strokes(network: WalkNetwork, *, min_cos: float = _STROKE_COS) -> np.ndarray:
    """Label the edges of a network by *stroke*: the edges that continue one another.

    At each node, two edges are paired when each is the other's straightest continuation (the
    most opposite directions leaving the node) and their directions leave it at 180 degrees
    give or take ``arccos(min_cos)``; a stroke is a chain of paired edges (a street crossing a
    grid, not its side streets). Loops and edges shorter than a vertex pair stay alone.

    Parameters
    ----------
    network : WalkNetwork
    min_cos : float, default 0.8
        Minimum cosine of the angle between a direction and the continuation of the other.

    Returns
    -------
    numpy.ndarray of int
        One label per edge (equal labels: one stroke).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> lines = [LineString([(0, 0), (100, 0)]), LineString([(100, 0), (200, 5)]),
    ...          LineString([(100, 0), (100, 100)])]
    >>> net = WalkNetwork.from_lines(gpd.GeoDataFrame(geometry=lines, crs=2154), crs=2154)
    >>> lab = street_strokes(net)
    >>> [int(lab[e] == lab[0]) for e in range(3)]
    [1, 1, 0]
    """
    g = network.edge_geometry
    n_e = len(g)
    if n_e == 0:
        return np.zeros(0, dtype=np.int64)
    n_xy = shapely.get_num_coordinates(g)
    xy = shapely.get_coordinates(g)
    first = np.r_[0, np.cumsum(n_xy)[:-1]]
    two = (n_xy >= 2) & (network.edge_u != network.edge_v)
    lo = np.minimum(first, max(len(xy) - 2, 0))
    hi = np.maximum(first + n_xy - 1, 1)
    # half-edges: each edge leaving its first node (u: lines run from u to v), then its last
    d = np.r_[xy[lo + 1] - xy[lo], xy[hi - 1] - xy[hi]] if len(xy) >= 2 else np.zeros((0, 2))
    norm = np.hypot(*d.T)
    d = d / np.where(norm > 0, norm, 1.0)[:, None]
    ok = np.flatnonzero(np.r_[two, two] & (norm > 0))
    node = np.r_[network.edge_u, network.edge_v]
    order = ok[np.argsort(node[ok], kind="stable")]
    at = node[order]
    starts = np.r_[0, np.flatnonzero(at[1:] != at[:-1]) + 1] if len(at) else np.zeros(0, int)
    deg = np.diff(np.r_[starts, len(order)])
    pos = np.arange(len(order)) - np.repeat(starts, deg)
    room = np.repeat(deg, deg) - pos
    best = np.full(2 * n_e, -1)
    best_cos = np.full(2 * n_e, 2.0)
    for k in range(1, int(deg.max()) if len(deg) else 0):
        i = np.flatnonzero(room > k)
        a, b = order[i], order[i + k]
        c = (d[a] * d[b]).sum(axis=1)
        for x, y in ((a, b), (b, a)):
            better = c < best_cos[x]
            best_cos[x[better]] = c[better]
            best[x[better]] = y[better]
    h = np.flatnonzero((best >= 0) & (best_cos <= -min_cos))
    h = h[best[best[h]] == h]
    ea, eb = h % n_e, best[h] % n_e
    graph = coo_matrix((np.ones(len(ea)), (ea, eb)), shape=(n_e, n_e))
    return connected_components(graph, directed=False)[1]
