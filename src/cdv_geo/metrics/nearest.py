"""The routing engine of :mod:`cdv_geo.metrics.access`: each origin's nearest facility by kind.

:func:`nearest_walks` checks the layers, measures in the one metric CRS
(:func:`cdv_geo.metrics.walking.measure_crs`), attaches the facilities of each kind and routes
from them (one multi-source Dijkstra per kind, :meth:`~cdv_geo.network.WalkNetwork.route`),
then snaps and reaches the origins in chunks over the cores (compiled, or on numpy with the same
answers: :mod:`cdv_geo.core.jit`). The public tables are built from
its :class:`NearestWalks` by :func:`cdv_geo.metrics.access.nearest_facility` and
:func:`~cdv_geo.metrics.access.coverage`.
"""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import wait
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cdv_geo.core import jit, threads
from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning
from cdv_geo.core.layers import as_layer
from cdv_geo.metrics.walking import (
    FacilitySeeds,
    attached_seeds,
    check_network,
    check_positive,
    measure_crs,
    point_xy,
    select_kinds,
    to_crs,
    unique_ids,
)
from cdv_geo.network import Routes, WalkNetwork
from cdv_geo.network.routing import nearest_end
from cdv_geo.network.snapping import SharedQuery

__all__ = ["KindWalks", "NearestWalks", "Reasons", "nearest_walks"]

#: (mask of the origins, message) pairs that explain missing distances.
Reasons = list[tuple[np.ndarray, str]]


@dataclass
class KindWalks:
    """The nearest facility of one kind, for every origin."""

    distance: np.ndarray  # NaN where not reached
    facility: np.ndarray  # position in the facility layer, -1 where not reached
    unreachable: np.ndarray  # True: cannot reach any facility of the kind at all
    reasons: Reasons


@dataclass
class NearestWalks:
    """Every origin's nearest facility of each kind, and why some are missing."""

    ids: pd.Index
    snap: np.ndarray
    origin_reasons: Reasons
    kinds: dict[str, KindWalks]
    fac_ids: np.ndarray
    method: str
    crs: CRS
    origin_geoms: np.ndarray  # in `crs`


@dataclass
class _Inputs:
    """The checked inputs of one computation, in the metric CRS."""

    origins: gpd.GeoDataFrame
    o_geoms: np.ndarray
    f_geoms: np.ndarray
    fac_ids: np.ndarray
    fkind: np.ndarray
    kinds: list[str]
    limit: float
    within: str
    crs: CRS


# per kind: the facilities of the kind, their attachment points and the routes from them
_Routed = dict[str, tuple[np.ndarray, FacilitySeeds, Routes | None]]


def _prepare(
    origins: Any,
    facilities: Any,
    network: WalkNetwork | None,
    kinds: Any,
    max_snap_m: float,
    max_distance_m: float | None,
    crs: Any,
) -> _Inputs:
    # (any geometry: a point inside polygons and lines; no family check on 100,000 homes)
    origins = as_layer(origins, "origins")
    facilities = as_layer(facilities, "facilities", geometry=["point", "polygon"])
    kind_list = select_kinds(facilities, kinds)
    if not max_snap_m >= 0:
        raise CdvGeoError(f"max_snap_m must be a distance >= 0 in metres, not {max_snap_m!r}")
    limit = np.inf if max_distance_m is None else check_positive(max_distance_m, "max_distance_m")
    target = measure_crs(origins, network, crs)
    o = to_crs(origins, target)
    f = to_crs(facilities, target)
    return _Inputs(
        origins=o,
        o_geoms=np.asarray(o.geometry.values, dtype=object),
        f_geoms=np.asarray(f.geometry.values, dtype=object),
        fac_ids=unique_ids(f, "facilities").to_numpy(dtype=object),
        fkind=np.array([str(k) if pd.notna(k) else "" for k in f["kind"]], dtype=object),
        kinds=kind_list,
        limit=limit,
        within="" if max_distance_m is None else f" within {limit:g} m",
        crs=target,
    )


def nearest_walks(
    origins: Any,
    facilities: Any,
    *,
    network: Any,
    kinds: Any,
    max_snap_m: float,
    max_distance_m: float | None,
    crs: Any,
) -> NearestWalks:
    """Find each origin's nearest facility of each kind, on the network or in a straight line.

    The engine of :func:`cdv_geo.metrics.access.nearest_facility` and
    :func:`~cdv_geo.metrics.access.coverage`, whose docstrings describe the parameters.
    Missing distances are NaN, explained by the masks and messages of the result's
    ``origin_reasons`` and of each kind's ``reasons``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> homes = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=2154)
    >>> ccas = gpd.GeoDataFrame({"kind": ["ccas"]}, geometry=[Point(30, 40)], crs=2154)
    >>> r = nearest_walks(homes, ccas, network=None, kinds=None, max_snap_m=200,
    ...                   max_distance_m=None, crs=2154)
    >>> r.method, r.kinds["ccas"].distance.tolist()
    ('euclidean', [50.0])
    """
    net = check_network(network)
    inp = _prepare(origins, facilities, net, kinds, max_snap_m, max_distance_m, crs)
    n = len(inp.o_geoms)
    (xy,) = threads.map_chunks(lambda part: (point_xy(inp.o_geoms[part]),), n)
    if net is None:
        ids = unique_ids(inp.origins, "origins")
    else:
        # A side thread snaps the origins (compiled code that releases the GIL) while this
        # one checks their ids and attaches the facilities, then routes (a Dijkstra that holds
        # the GIL) once the side thread is inside the compiled query, then snaps the origins
        # the side thread has not reached yet, from the last one.
        query = SharedQuery(net.snapping_index, xy, max_snap_m)
        querying = threading.Event()
        place_job = threads.alongside(query.forward, querying, size=n)
        try:
            ids = unique_ids(inp.origins, "origins")
            attached = _attach_kinds(net, inp, max_snap_m)
            querying.wait()
            routed = _route_kinds(net, inp, attached)
            query.backward()
        finally:
            wait([place_job])  # (nothing left running on the arrays)
        place_job.result()
        o_edge, o_along, snap = query.result()
    empty = ~(np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1]))
    origin_reasons: Reasons = [(empty, "origin has no geometry")]
    if net is None:
        results = _euclidean(inp, xy, empty)
        snap = np.full(n, np.nan)
        return NearestWalks(
            ids, snap, origin_reasons, results, inp.fac_ids, "euclidean", inp.crs, inp.o_geoms
        )
    placed = o_edge >= 0
    far = ~empty & ~placed
    if far.sum() > 0.5 * max(int((~empty).sum()), 1):
        warnings.warn(
            f"{int(far.sum())} of {n} origins are farther than {max_snap_m:g} m from the street "
            "network: check that the network covers them and that both layers declare the "
            "right CRS (coordinates in the wrong CRS land far away).",
            CdvGeoWarning,
            stacklevel=3,
        )
    origin_reasons.append((far, f"origin farther than {max_snap_m:g} m from the street network"))
    results = _on_network(net, inp, routed, o_edge, o_along, snap, max_snap_m)
    return NearestWalks(
        ids, snap, origin_reasons, results, inp.fac_ids, "network", inp.crs, inp.o_geoms
    )


def _attach_kinds(
    net: WalkNetwork, inp: _Inputs, max_snap_m: float
) -> dict[str, tuple[np.ndarray, FacilitySeeds]]:
    """Per kind, the positions of its facilities and their attachment points."""
    attached = {}
    for kind in inp.kinds:
        sel = np.flatnonzero(inp.fkind == kind)
        attached[kind] = (
            sel,
            attached_seeds(
                net, inp.f_geoms, sel, inp.fac_ids, kind, max_snap_m, "ignored", stacklevel=5
            ),
        )
    return attached


def _route_kinds(
    net: WalkNetwork, inp: _Inputs, attached: dict[str, tuple[np.ndarray, FacilitySeeds]]
) -> _Routed:
    """Route from the facilities of each kind (one Dijkstra per kind)."""
    routed: _Routed = {}
    for kind, (sel, seeds) in attached.items():
        routes = (
            net.route(seeds.edge, seeds.along, seeds.offset, limit=inp.limit)
            if len(seeds.edge)
            else None
        )
        if routes is not None:
            _ = routes.table  # (built here, once, before the threads read it)
        routed[kind] = (sel, seeds, routes)
    return routed


def _euclidean(inp: _Inputs, xy: np.ndarray, empty: np.ndarray) -> dict[str, KindWalks]:
    """Straight-line distance from each origin to the nearest facility of each kind."""
    n = len(xy)
    results: dict[str, KindWalks] = {}
    present = ~(shapely.is_missing(inp.f_geoms) | shapely.is_empty(inp.f_geoms))
    ok = np.flatnonzero(~empty)
    for kind in inp.kinds:
        sel = np.flatnonzero((inp.fkind == kind) & present)
        dist = np.full(n, np.nan)
        fac = np.full(n, -1, dtype=np.int64)
        if len(sel) and len(ok):
            tree = shapely.STRtree(inp.f_geoms[sel])
            kw: dict[str, Any] = {} if np.isinf(inp.limit) else {"max_distance": inp.limit}
            idx, d = tree.query_nearest(
                shapely.points(xy[ok]), return_distance=True, all_matches=False, **kw
            )
            dist[ok[idx[0]]] = d
            fac[ok[idx[0]]] = sel[idx[1]]
        far = ~empty & np.isnan(dist)
        results[kind] = KindWalks(
            dist, fac, np.zeros(n, dtype=bool), [(far, f"no {kind}{inp.within}")]
        )
    return results


def _on_network(
    net: WalkNetwork,
    inp: _Inputs,
    routed: _Routed,
    o_edge: np.ndarray,
    o_along: np.ndarray,
    snap: np.ndarray,
    max_snap_m: float,
) -> dict[str, KindWalks]:
    """Compute the walk from each placed origin to the nearest facility of each kind."""
    n = len(o_edge)
    placed = o_edge >= 0
    comp = net.components
    detached = bool(len(comp)) and int(comp.max()) > 0
    o_comp = comp[net.edge_u[o_edge[placed]]] if detached else None
    results: dict[str, KindWalks] = {}
    for kind, (sel, seeds, routes) in routed.items():
        dist = np.full(n, np.nan)
        fac = np.full(n, -1, dtype=np.int64)
        unreach = placed.copy()
        if routes is not None and placed.any():
            # seeds by edge (stable: the first seed of an edge first), for the same-street walk
            order = np.argsort(seeds.edge, kind="stable")
            on_seed_edge = np.zeros(net.n_edges, dtype=bool)
            on_seed_edge[seeds.edge] = True
            _walks(
                routes.table, net.edge_ends, net.edge_length, o_edge, o_along, snap,
                seeds.edge[order], order, seeds.along, seeds.offset, sel[seeds.fac],
                on_seed_edge, inp.limit, dist, fac,
            )  # fmt: skip
            unreach = np.zeros(n, dtype=bool)
            if o_comp is not None:
                served = np.zeros(int(comp.max()) + 1, dtype=bool)
                served[comp[net.edge_u[seeds.edge]]] = True
                unreach[placed] = ~served[o_comp]
        reasons: Reasons = []
        if not len(seeds.edge):
            reasons.append((placed, f"no {kind} within {max_snap_m:g} m of the street network"))
        else:
            reasons.append((unreach, f"no {kind} on this detached part of the street network"))
            reasons.append((placed & ~unreach & np.isnan(dist), f"no {kind}{inp.within}"))
        results[kind] = KindWalks(dist, fac, unreach, reasons)
    return results


def _walks_numpy(
    table: np.ndarray, edge_uv: np.ndarray, edge_length: np.ndarray, o_edge: np.ndarray,
    o_along: np.ndarray, snap: np.ndarray, seed_edge: np.ndarray, seed_order: np.ndarray,
    seed_along: np.ndarray, seed_offset: np.ndarray, seed_fac: np.ndarray,
    on_seed_edge: np.ndarray, limit: float, dist: np.ndarray, fac: np.ndarray,
) -> None:  # fmt: skip
    """:func:`_walks` without numba: the same rule on arrays of origins, the same answers.

    The same-street walk takes, per origin, the least ``|along - seed along| + seed offset``
    of its edge's seeds, the first in `seed_order` on ties (what the loop keeps).
    """
    i = np.flatnonzero(o_edge >= 0)
    e, a = o_edge[i], o_along[i]
    u, v = edge_uv[e, 0], edge_uv[e, 1]
    du = table[u, 0] + a
    dv = table[v, 0] + (edge_length[e] - a)
    by_u = du <= dv  # (nearest_end's rule)
    d = np.where(by_u, du, dv)
    s = np.where(by_u, table[u, 1], table[v, 1]).astype(np.int64)
    k = np.flatnonzero(on_seed_edge[e])
    lo = np.searchsorted(seed_edge, e[k], side="left")
    n = np.searchsorted(seed_edge, e[k], side="right") - lo
    owner = np.repeat(k, n)
    pos = np.repeat(lo - np.cumsum(n) + n, n) + np.arange(len(owner))  # (k of the loop)
    j = seed_order[pos]
    direct = np.abs(a[owner] - seed_along[j]) + seed_offset[j]
    ok = direct < np.inf  # (a NaN never wins, as in the loop)
    owner, pos, j, direct = owner[ok], pos[ok], j[ok], direct[ok]
    order = np.lexsort((pos, direct, owner))
    head = order[np.r_[True, owner[order][1:] != owner[order][:-1]]] if len(order) else order
    nearer = direct[head] < d[owner[head]]
    d[owner[head][nearer]] = direct[head][nearer]
    s[owner[head][nearer]] = j[head][nearer]
    total = d + snap[i]
    ok = np.isfinite(total) & (s >= 0) & (total <= limit)
    dist[i[ok]] = total[ok]
    fac[i[ok]] = seed_fac[s[ok]]


@jit.kernel(numpy=_walks_numpy, uses=(nearest_end,))
def _walks(
    table: np.ndarray,
    edge_uv: np.ndarray,
    edge_length: np.ndarray,
    o_edge: np.ndarray,
    o_along: np.ndarray,
    snap: np.ndarray,
    seed_edge: np.ndarray,
    seed_order: np.ndarray,
    seed_along: np.ndarray,
    seed_offset: np.ndarray,
    seed_fac: np.ndarray,
    on_seed_edge: np.ndarray,
    limit: float,
    dist: np.ndarray,
    fac: np.ndarray,
) -> None:  # pragma: no cover - compiled (numba does not report its lines to coverage)
    """Each origin's walk to its nearest seed: ``dist`` and ``fac`` (NaN, -1: none in reach).

    An origin at `along` on edge ``e`` leaves by the nearer end
    (:func:`cdv_geo.network.routing.nearest_end`), unless a seed of its own edge is
    strictly nearer straight along it: ``|along - seed along| + seed offset``, the first seed
    of the edge on ties. The origin's snap distance is added; beyond `limit`, or with no seed
    reached, the origin gets none. `seed_edge` lists the seeds' edges sorted (stably), and
    `seed_order` the seeds in that order.
    """
    n_seeds = seed_edge.shape[0]
    for i in range(o_edge.shape[0]):
        e = o_edge[i]
        if e < 0:
            continue
        a = o_along[i]
        d, seed = nearest_end(table, edge_uv, edge_length, e, a)
        s = int(seed)
        if on_seed_edge[e]:
            low = np.inf
            first = -1
            k = np.searchsorted(seed_edge, e)
            while k < n_seeds and seed_edge[k] == e:
                j = seed_order[k]
                direct = abs(a - seed_along[j]) + seed_offset[j]
                if direct < low:
                    low = direct
                    first = int(j)
                k += 1
            if low < d:
                d = low
                s = first
        total = d + snap[i]
        if np.isfinite(total) and s >= 0 and total <= limit:
            dist[i] = total
            fac[i] = seed_fac[s]
