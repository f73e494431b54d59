"""Areas within a walking distance of the facilities (*service areas*, isochrones), for maps.

The area is the union of the street portions reached within the threshold — whole edges and
the part of the edge where the threshold falls — buffered by `buffer_m` (the walk from the
street to the door). Unlike a convex hull of reached nodes it neither spills over rivers and
railways nor collapses to a point in a cul-de-sac. Facilities join the network as in
:mod:`cdv_geo.metrics.access` (:func:`cdv_geo.metrics.walking.facility_seeds`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

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

__all__ = ["service_areas"]

_QUAD_SEGS = 4


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
        rows.extend(_network_rows(network, seeds, sel, kind, ts, by, fac_ids, buf))
    cols = ["kind", "threshold_m", *(["facility_id"] if by == "facility" else []), "method"]
    # the unions ran in worker threads (GEOS releases the GIL) while the next kinds were routed
    geoms = [_done(r.pop("geometry")) for r in rows]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry=geoms, crs=target)


def _network_rows(
    network: WalkNetwork,
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
            pieces = _reached_pieces(network, routes.dist, seeds, sidx, t)
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
    net: WalkNetwork, dist: np.ndarray, seeds: FacilitySeeds, sidx: np.ndarray, t: float
) -> np.ndarray:
    """Street portions within `t` metres: whole edges and the partial ones at the threshold."""
    length = net.edge_length
    ru = t - dist[net.edge_u]  # metres still walkable from each end
    rv = t - dist[net.edge_v]
    full = (ru >= length) | (rv >= length) | ((ru > 0) & (rv > 0) & (ru + rv >= length))
    pieces: list[Any] = list(net.edge_geometry[full])
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
    pieces.extend(_substrings(net.edge_geometry[e], s, en))
    return np.array(pieces, dtype=object)


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
