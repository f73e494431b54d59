"""Walking times from homes to every facility within a limit: the floating catchments' engine.

:func:`travel_times` gives the sparse home × facility matrix of walking times under a limit, on
the walking model of :func:`cdv_geo.metrics.access.nearest_facility` (homes and facilities
attached to the nearest point of the nearest street, snap distances walked; ``network=None``
for straight lines). It serves :mod:`cdv_geo.metrics.catchment` (2SFCA, E2SFCA),
:mod:`cdv_geo.metrics.opening_hours` and :mod:`cdv_geo.metrics.huff`.

The searches run in a compiled kernel (:func:`_bounded_walks`, numba, releasing the GIL: a
bucket queue per facility, the facilities shared between threads); its numpy path
(:func:`_scipy_walks`, scipy's Dijkstra) gives the same pairs.
"""

from __future__ import annotations

import itertools
from concurrent.futures import wait
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from cdv_geo.core import jit, threads
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.layers import as_layer
from cdv_geo.metrics.walking import (
    check_network,
    check_positive,
    facility_seeds,
    id_text,
    measure_crs,
    point_xy,
    to_crs,
    unique_ids,
)
from cdv_geo.network import WalkNetwork
from cdv_geo.network.snapping import SharedQuery

__all__ = ["TravelTimes", "travel_times"]

#: Cells of (facilities in a chunk) × (nodes) routed at once by the numpy path (~32 MiB).
_CHUNK_CELLS = 4_000_000


@dataclass
class TravelTimes:
    """Walking times from homes to facilities, where they are under a limit (a sparse matrix).

    Attributes
    ----------
    home, facility, time_min : numpy.ndarray
        One entry per (home, facility) pair within the limit: positions in the two layers and
        the time in minutes (pairs beyond the limit are absent).
    home_ids : pandas.Index
        The homes' ids (``id`` column, else the index), named ``id``.
    facility_ids : numpy.ndarray
        The facilities' ids as text.
    placed : numpy.ndarray
        Per home: True when it has a geometry and lies within ``max_snap_m`` of a street.
    home_geoms : numpy.ndarray
        The homes' geometries in `crs` (for the quartier assignment).
    crs : pyproj.CRS
        The metric CRS the distances were measured in.
    method : str
        ``"network"`` or ``"euclidean"``.
    """

    home: np.ndarray
    facility: np.ndarray
    time_min: np.ndarray
    home_ids: pd.Index
    facility_ids: np.ndarray
    placed: np.ndarray
    home_geoms: np.ndarray
    crs: CRS
    method: str

    def matrix(self, values: np.ndarray | None = None) -> csr_matrix:
        """Return the homes × facilities CSR matrix of `values` (default: ones) on the pairs.

        Explicit zeros are kept (a pair at 0 minutes, a weight of 0).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> t = TravelTimes(np.array([0, 1]), np.array([1, 0]), np.array([2.0, 0.0]),
        ...                 pd.Index(["a", "b"]), np.array(["f", "g"]), np.ones(2, bool),
        ...                 np.empty(2, object), CRS(2154), "network")
        >>> t.matrix(t.time_min).toarray().tolist()
        [[0.0, 2.0], [0.0, 0.0]]
        """
        data = np.ones(len(self.home)) if values is None else np.asarray(values, dtype=float)
        shape = (len(self.home_ids), len(self.facility_ids))
        return csr_matrix((data, (self.home, self.facility)), shape=shape)


def travel_times(
    homes: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None = None,
    max_time_min: float = 15.0,
    speed_kmh: float = 4.5,
    max_snap_m: float = 200.0,
    crs: Any = None,
) -> TravelTimes:
    """Compute the walking time from every home to every facility within `max_time_min`.

    distance = snap(home) + network distance + snap(facility) (the model of
    :func:`cdv_geo.metrics.access.nearest_facility`: a home leaves its street by either end of
    its edge, or walks straight along it to a facility on the same edge; a polygon facility is
    reached at its boundary points along streets, a MultiPoint at each entrance); time =
    distance / speed. With ``network=None``, straight-line distances.

    Parameters
    ----------
    homes, facilities : geopandas.GeoDataFrame
        Residences and facilities (every facility given is routed: select the kind first).
    network : WalkNetwork, optional
        The walking network; ``None`` gives straight lines (``method="euclidean"``).
    max_time_min : float, default 15
        Pairs farther than this (in minutes of walking) are left out.
    speed_kmh : float, default 4.5
        Walking speed.
    max_snap_m : float, default 200
        Homes and facilities farther than this from every street are unreachable.
    crs : str, int or pyproj.CRS, optional
        The project's metric CRS (see :func:`cdv_geo.metrics.access.nearest_facility`).

    Returns
    -------
    TravelTimes

    Notes
    -----
    A floating catchment needs, for each facility, every home within its largest band (not
    only each home's nearest facility, what the multi-source Dijkstra of
    :meth:`~cdv_geo.network.WalkNetwork.route` gives): each facility gets its own search,
    bounded by the limit, so the work grows with the facilities' neighbourhoods (~1,000
    nodes at 15 minutes on foot), not with the town; every band and weight then comes from
    this one list of pairs. The searches run in a compiled kernel (a bucket queue, exact:
    the same distances as Dijkstra's) that reuses its arrays from one facility to the next
    and hands each reached node's distance to the homes of its streets; the facilities are
    taken in Z order (neighbours share the caches) and shared between threads. Its numpy
    path (scipy's Dijkstra from a virtual node per facility) gives the same pairs.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString, Point
    >>> streets = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs=2154)
    >>> net = WalkNetwork.from_lines(streets, crs=2154)
    >>> homes = gpd.GeoDataFrame(geometry=[Point(100, 10), Point(900, 0)], crs=2154)
    >>> gp = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(500, 0)], crs=2154)
    >>> t = travel_times(homes, gp, network=net, max_time_min=6)  # 450 m
    >>> sorted(zip(t.home.tolist(), t.facility.tolist(), t.time_min.round(2).tolist()))
    [(0, 0, 1.47), (0, 1, 5.47), (1, 1, 5.33)]
    """
    speed = check_positive(speed_kmh, "speed_kmh")
    limit_min = check_positive(max_time_min, "max_time_min")
    if not max_snap_m >= 0:
        raise CdvGeoError(f"max_snap_m must be a distance >= 0 in metres, not {max_snap_m!r}")
    net = check_network(network)
    homes = as_layer(homes, "homes")
    facilities = as_layer(facilities, "facilities", geometry=["point", "polygon"])
    target = measure_crs(homes, net, crs)
    h = to_crs(homes, target)
    f = to_crs(facilities, target)
    h_geoms = np.asarray(h.geometry.values, dtype=object)
    f_geoms = np.asarray(f.geometry.values, dtype=object)
    xy = point_xy(h_geoms)
    m_per_min = speed * 1000.0 / 60.0
    limit_m = limit_min * m_per_min
    has_geom = np.isfinite(xy).all(axis=1)
    if net is None:
        ids = unique_ids(h, "homes")
        hi, fi, dist = _euclidean_pairs(xy, has_geom, f_geoms, limit_m)
        placed = has_geom
    else:
        # a side thread snaps the homes (compiled, GIL-free) while this one checks their ids
        # and attaches the facilities, then snaps from the last home (as nearest_facility)
        query = SharedQuery(net.snapping_index, xy, float(max_snap_m))
        job = threads.alongside(query.forward, size=len(xy))
        try:
            ids = unique_ids(h, "homes")
            seeds = facility_seeds(net, f_geoms, max_snap_m)
            query.backward()
        finally:
            if not job.cancel():
                wait([job])
        _ = job.cancelled() or job.result()  # (re-raises)
        edge, along, snap = query.result()
        placed = edge >= 0
        hi, fi, dist = _network_pairs(net, edge, along, snap, seeds, len(f_geoms), limit_m)
    return TravelTimes(
        home=hi,
        facility=fi,
        time_min=dist / m_per_min,
        home_ids=ids,
        facility_ids=id_text(f).to_numpy(dtype=object),
        placed=placed,
        home_geoms=h_geoms,
        crs=target,
        method="euclidean" if net is None else "network",
    )


def _euclidean_pairs(
    xy: np.ndarray, ok: np.ndarray, f_geoms: np.ndarray, limit_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(home, facility, straight distance) of the pairs within `limit_m`."""
    present = np.flatnonzero(~(shapely.is_missing(f_geoms) | shapely.is_empty(f_geoms)))
    rows = np.flatnonzero(ok)
    if not len(present) or not len(rows):
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    tree = shapely.STRtree(f_geoms[present])
    pts = np.asarray(shapely.points(xy[rows]), dtype=object)
    pi, fj = tree.query(pts, predicate="dwithin", distance=limit_m)
    d = shapely.distance(pts[pi], f_geoms[present][fj])
    return rows[pi].astype(np.int64), present[fj].astype(np.int64), np.asarray(d, dtype=float)


def _network_pairs(
    net: WalkNetwork,
    edge: np.ndarray,
    along: np.ndarray,
    snap: np.ndarray,
    seeds: Any,
    n_fac: int,
    limit_m: float,
    *,
    compiled: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(home, facility, walking distance) of the pairs within `limit_m` on the network.

    `compiled`: the numba kernel :func:`_bounded_walks` (in threads), else its numpy path
    (:func:`_scipy_walks`, the same answers).
    """
    empty = np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    placed = np.flatnonzero(edge >= 0)
    facs, first = np.unique(seeds.fac, return_index=True)
    if not len(placed) or not len(facs):
        return empty
    facs = facs[_z_order(net.node_xy[net.edge_u[seeds.edge[first]]])]
    # one virtual source per facility, linked to both ends of each attachment edge (the
    # shortest link when several attachment points share a node)
    vpos = np.full(n_fac, -1, dtype=np.int64)
    vpos[facs] = np.arange(len(facs))
    length = net.edge_length[seeds.edge]
    src = np.r_[vpos[seeds.fac], vpos[seeds.fac]]
    dst = np.r_[net.edge_u[seeds.edge], net.edge_v[seeds.edge]].astype(np.int64)
    w = np.r_[seeds.offset + seeds.along, seeds.offset + (length - seeds.along)]
    order = np.lexsort((w, dst, src))
    src, dst, w = src[order], dst[order], w[order]
    first = np.r_[True, (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])]
    src, dst, w = src[first], dst[first], w[first]
    src_ptr = np.searchsorted(src, np.arange(len(facs) + 1)).astype(np.int64)
    if compiled and _bounded_walks.compiled is not None:
        return _compiled_pairs(net, (edge, along, snap), seeds, placed, facs, vpos,
                               (src_ptr, dst, w), limit_m)  # fmt: skip
    parts = _scipy_walks(net, (edge, along, snap), placed, facs, (src_ptr, dst, w), limit_m)
    hi, fi, di = (np.concatenate(p) for p in zip(*parts, strict=True))
    return _with_same_edge(hi, fi, di, _same_edge_pairs(edge, along, snap, seeds, limit_m), n_fac)


def _z_order(xy: np.ndarray) -> np.ndarray:
    """Order of points along a Z curve (neighbouring facilities' searches share the caches)."""
    q = ((xy - xy.min(axis=0)) / np.maximum(np.ptp(xy, axis=0), 1e-9) * 65535).astype(np.uint64)
    code = np.zeros(len(xy), dtype=np.uint64)
    for bit in np.arange(16, dtype=np.uint64):
        code |= ((q[:, 0] >> bit) & np.uint64(1)) << (np.uint64(2) * bit)
        code |= ((q[:, 1] >> bit) & np.uint64(1)) << (np.uint64(2) * bit + np.uint64(1))
    return np.argsort(code, kind="stable")


def _compiled_pairs(
    net: WalkNetwork, placement: Any, seeds: Any, placed: np.ndarray, facs: np.ndarray,
    vpos: np.ndarray, sources: Any, limit_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Run :func:`_bounded_walks` on slices of the facilities, in threads; concatenate."""
    edge, along, snap = placement
    n, n_edges = net.n_nodes, net.n_edges
    # the homes numbered by the u end of their edge, then by edge: the homes of a node, and
    # those of an edge, are consecutive (the searches then read nearby memory)
    e = edge[placed]
    order = np.argsort(net.edge_u[e].astype(np.int64) * n_edges + e)  # (< 2**63)
    e = e[order]
    h_id = placed[order].astype(np.int64)
    h_u = net.edge_u[e].astype(np.int64)
    h_v = net.edge_v[e].astype(np.int64)
    h_along, h_snap = along[h_id], snap[h_id]
    h_up = h_along + h_snap
    h_vp = net.edge_length[e] - h_along + h_snap
    u_ptr = np.r_[0, np.cumsum(np.bincount(h_u, minlength=n))].astype(np.int64)
    v_ptr = np.r_[0, np.cumsum(np.bincount(h_v, minlength=n))].astype(np.int64)
    v_home = np.argsort(h_v).astype(np.int64)
    v_pos = np.empty_like(v_home)
    v_pos[v_home] = np.arange(len(v_home))
    # each facility's attachment points, with the homes of their edge (the walk along it)
    starts = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
    e_lo, e_hi = np.zeros((2, n_edges), dtype=np.int64)
    e_lo[e[starts]] = starts
    e_hi[e[starts]] = np.r_[starts[1:], len(e)]
    so = np.argsort(vpos[seeds.fac], kind="stable")
    sd_ptr = np.searchsorted(vpos[seeds.fac][so], np.arange(len(facs) + 1)).astype(np.int64)
    csr = net.csr
    positive = csr.data[csr.data > 0]
    # buckets of the search: no narrower than 1/4096 of the limit (a few buckets per search)
    width = max(float(positive.min()) if len(positive) else limit_m, limit_m / 4096.0)
    so_edge = seeds.edge[so]
    fixed = (
        (csr.indptr, csr.indices, csr.data), sources,
        (u_ptr, h_u, h_up, h_v, h_vp, v_ptr, h_id[v_home], h_u[v_home], h_vp[v_home], v_pos,
         h_along, h_snap, h_id, np.diff(u_ptr) + np.diff(v_ptr)),
        (sd_ptr, e_lo[so_edge], e_hi[so_edge], seeds.along[so].astype(float),
         seeds.offset[so].astype(float)),
        facs.astype(np.int64), float(limit_m), width,
    )  # fmt: skip
    k = len(facs)
    n_slices = 1 if k < 32 else min(k // 8, 4 * threads.n_threads())
    bounds = np.linspace(0, k, n_slices + 1).astype(int).tolist()
    slices = list(itertools.pairwise(bounds))
    done: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    todo = itertools.count()

    def work() -> None:
        # (each thread takes the next slice: the faster threads take more)
        while (i := next(todo)) < len(slices):
            done[i] = _walk_slice(fixed, len(csr.indices) + len(sources[1]) + 1, *slices[i])

    helpers = [threads.pool().submit(work) for _ in range(min(threads.n_threads(), n_slices) - 1)]
    try:
        work()
    finally:
        wait([f for f in helpers if not f.cancel()])  # (not started: the slices are done)
    _ = [f.result() for f in helpers if not f.cancelled()]
    parts = [p for i in range(len(slices)) for p in done[i]]
    return tuple(np.concatenate(a) for a in zip(*parts, strict=True))  # type: ignore[return-value]


def _walk_slice(
    fixed: tuple[Any, ...], pool_cap: int, lo: int, hi: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Run :func:`_bounded_walks` for facilities lo..hi-1, growing its arrays when it asks."""
    parts = []
    out_cap = min(max(4096, 2048 * (hi - lo)), 1 << 22)
    queue = lambda size: (np.empty(size, np.int64), np.empty(size), np.empty(size, np.int64))  # noqa: E731
    pool = queue(pool_cap)  # (node, distance, next entry of the same bucket)
    while lo < hi:
        out = np.empty(out_cap, np.int64), np.empty(out_cap, np.int64), np.empty(out_cap)
        m, lo, full, need = _bounded_walks(*fixed, pool, out, lo, hi)
        parts.append((out[0][:m], out[1][:m], out[2][:m]))
        if full == 1:
            pool = queue(max(2 * len(pool[0]), need))
        elif full == 2:
            out_cap = max(2 * out_cap, need)
    return parts


def _scipy_walks(
    net: WalkNetwork, placement: Any, placed: np.ndarray, facs: np.ndarray, sources: Any,
    limit_m: float,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:  # fmt: skip
    """Run the numpy path of :func:`_bounded_walks`: scipy's Dijkstra from virtual nodes."""
    (edge, along, snap), (src_ptr, dst, w) = placement, sources
    n, k, csr = net.n_nodes, len(facs), net.csr
    tail = src_ptr[1:] + csr.indptr[-1]
    aug = csr_matrix(
        (np.r_[csr.data, w], np.r_[csr.indices, dst.astype(csr.indices.dtype)],
         np.r_[csr.indptr, tail.astype(csr.indptr.dtype)]), shape=(n + k, n + k),
    )  # fmt: skip
    # each home leaves its edge by either end (`along` + snap to u, the rest + snap to v)
    e = edge[placed]
    hu, hv = net.edge_u[e], net.edge_v[e]
    up = along[placed] + snap[placed]
    vp = net.edge_length[e] - along[placed] + snap[placed]
    ent_node = np.r_[hu, hv]
    order = np.argsort(ent_node, kind="stable")
    ent_home = np.r_[np.arange(len(placed)), np.arange(len(placed))][order]
    ent_by_v = order >= len(placed)
    node_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ent_node, minlength=n), out=node_ptr[1:])
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    step = max(1, _CHUNK_CELLS // n)
    for lo in range(0, k, step):
        rows = np.arange(lo, min(lo + step, k))
        dist = dijkstra(aug, directed=True, indices=n + rows, limit=limit_m)[:, :n]
        # only the nodes each search reached, then the homes of those nodes
        r, node = np.nonzero(dist <= limit_m)
        cnt = node_ptr[node + 1] - node_ptr[node]
        pos = np.repeat(node_ptr[node] - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
        rr = np.repeat(r, cnt)
        h = ent_home[pos]
        to_u = dist[rr, hu[h]]
        # a pair comes once: by its u end when u was reached, else by its v end
        first = ~ent_by_v[pos] | ~(to_u <= limit_m)
        rr, h = rr[first], h[first]
        d = np.minimum(to_u[first] + up[h], dist[rr, hv[h]] + vp[h])
        ok = d <= limit_m
        parts.append((placed[h[ok]], facs[rows[rr[ok]]], d[ok]))
    return parts


@jit.helper
def _search(
    graph: Any, src: Any, j: int, limit: float, width: float, scratch: Any, queue: Any
) -> tuple[int, int, int]:
    """Distances from facility j up to `limit` (Dial's buckets of `width` metres; Δ-stepping).

    A node whose distance drops again (an edge shorter than a bucket) is taken again: every
    node ends at its shortest distance, the same floats as Dijkstra's (the least sum over
    paths). Returns (nodes touched, 1 when the queue is full (stopped), last bucket used).
    """
    indptr, indices, data = graph
    src_ptr, src_node, src_w = src
    dist, touched, head = scratch[0], scratch[1], scratch[2]
    q_node, q_key, q_next = queue
    cap, per_m = q_node.shape[0], 1.0 / width  # (a product is monotone, as the quotient)
    nt = nq = top = 0
    for s in range(src_ptr[j], src_ptr[j + 1]):
        v, w = src_node[s], src_w[s]
        if w <= limit and w < dist[v]:
            if dist[v] == np.inf:
                touched[nt] = v
                nt += 1
            dist[v] = w
            b = int(w * per_m)
            q_node[nq], q_key[nq], q_next[nq] = v, w, head[b]
            head[b] = nq
            nq += 1
            top = max(top, b)
    b = 0
    while b <= top:
        while head[b] >= 0:
            x = head[b]
            head[b] = q_next[x]
            u, d = q_node[x], q_key[x]
            if d != dist[u]:
                continue  # (a shorter walk reached u since)
            if nq + indptr[u + 1] - indptr[u] > cap:
                return nt, 1, top
            for q in range(indptr[u], indptr[u + 1]):
                v = indices[q]
                nd = d + data[q]
                if nd <= limit and nd < dist[v]:
                    if dist[v] == np.inf:
                        touched[nt] = v
                        nt += 1
                    dist[v] = nd
                    c = int(nd * per_m)
                    q_node[nq], q_key[nq], q_next[nq] = v, nd, head[c]
                    head[c] = nq
                    nq += 1
                    top = max(top, c)
        b += 1
    return nt, 0, top


@jit.helper
def _emit(
    homes: Any, same: Any, j: int, f: int, nt: int, limit: float, scratch: Any, out: Any, m: int
) -> int:
    """Write the homes that facility j (id `f`) reaches; return the pairs written."""
    u_ptr, h_u, h_up, h_v, h_vp, v_ptr, v_id, v_u, v_cost, v_pos, h_along, h_snap, h_id = homes[:13]
    sd_ptr, sd_lo, sd_hi, sd_along, sd_off = same
    dist, touched, direct, v_direct = scratch[0], scratch[1], scratch[3], scratch[4]
    out_h, out_f, out_d = out
    # the homes on the facility's own edges may walk straight along them
    for s in range(sd_ptr[j], sd_ptr[j + 1]):
        for h in range(sd_lo[s], sd_hi[s]):
            c = np.abs(h_along[h] - sd_along[s]) + sd_off[s] + h_snap[h]
            if c < direct[h]:
                direct[h] = v_direct[v_pos[h]] = c  # (by home, and by its place in the v list)
    for i in range(nt):
        u = touched[i]
        du = dist[u]
        for h in range(u_ptr[u], u_ptr[u + 1]):
            c = min(du + h_up[h], dist[h_v[h]] + h_vp[h], direct[h])
            if c <= limit:
                out_h[m], out_f[m], out_d[m] = h_id[h], f, c
                m += 1
        for x in range(v_ptr[u], v_ptr[u + 1]):
            if dist[v_u[x]] == np.inf:  # (else listed by its u end)
                c = min(du + v_cost[x], v_direct[x])
                if c <= limit:
                    out_h[m], out_f[m], out_d[m] = v_id[x], f, c
                    m += 1
    for s in range(sd_ptr[j], sd_ptr[j + 1]):
        for h in range(sd_lo[s], sd_hi[s]):
            c = direct[h]
            if c < np.inf:
                # (a home whose edge ends are both out of reach, yet near along the edge)
                if c <= limit and dist[h_u[h]] == np.inf and dist[h_v[h]] == np.inf:
                    out_h[m], out_f[m], out_d[m] = h_id[h], f, c
                    m += 1
                direct[h] = v_direct[v_pos[h]] = np.inf
    return m


def _bounded_walks_py(
    graph: Any, src: Any, homes: Any, same: Any, fac_id: np.ndarray, limit: float,
    width: float, queue: Any, out: Any, lo: int, hi: int,
) -> tuple[int, int, int, int]:  # fmt: skip
    """Walk from each facility lo..hi-1 up to `limit` metres; list the homes it reaches.

    :func:`_search` then :func:`_emit` per facility, reusing the arrays (reset through the
    nodes touched). A full `queue` or `out` stops the run before facility j: returns (pairs
    written, j, 1 for the queue or 2 for the output, size needed); else (pairs, hi, 0, 0).
    """
    n, n_homes, cnt = graph[0].shape[0] - 1, homes[2].shape[0], homes[13]
    scratch = (
        np.full(n, np.inf), np.empty(n, dtype=np.int64),
        np.full(int(limit * (1.0 / width)) + 2, -1, dtype=np.int64), np.full(n_homes, np.inf),
        np.full(n_homes, np.inf),
    )  # fmt: skip
    dist, touched, head = scratch[0], scratch[1], scratch[2]
    m = 0
    for j in range(lo, hi):
        nt, full, top = _search(graph, src, j, limit, width, scratch, queue)
        need = m
        for s in range(same[0][j], same[0][j + 1]):
            need += same[2][s] - same[1][s]
        for i in range(nt):
            need += cnt[touched[i]]
        if full == 0 and need > out[0].shape[0]:
            full = 2
        if full != 0:
            head[: top + 1] = -1
            return m, j, full, 2 * queue[0].shape[0] if full == 1 else need - m
        m = _emit(homes, same, j, fac_id[j], nt, limit, scratch, out, m)
        for i in range(nt):
            dist[touched[i]] = np.inf
    return m, hi, 0, 0


# compiled by numba (core.jit: cache in a writable place, never next to a read-only install);
# when numba does not run, _network_pairs takes scipy's path (_scipy_walks) instead, and a
# failed compilation falls back on the same code run as plain Python (slow, same answers)
_bounded_walks = jit.kernel(numpy=_bounded_walks_py, uses=(_search, _emit))(_bounded_walks_py)


def _with_same_edge(
    hi: np.ndarray,
    fi: np.ndarray,
    di: np.ndarray,
    same: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_fac: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add the walks straight along a shared edge: the shorter walk of a pair found both ways."""
    sh, sf, sd = same
    if not len(sh):
        return hi.astype(np.int64, copy=False), fi.astype(np.int64, copy=False), di
    order = np.lexsort((sd, sf, sh))  # (few pairs: the homes on a facility's street)
    sh, sf, sd = sh[order], sf[order], sd[order]
    keep = np.r_[True, (sh[1:] != sh[:-1]) | (sf[1:] != sf[:-1])]
    sh, sf, sd = sh[keep], sf[keep], sd[keep]
    # the network pairs of those homes only, matched by key
    on_edge = np.zeros(int(max(hi.max(initial=0), sh.max())) + 1, dtype=bool)
    on_edge[sh] = True
    cand = np.flatnonzero(on_edge[hi])
    key = hi[cand].astype(np.int64) * n_fac + fi[cand]
    skey = sh.astype(np.int64) * n_fac + sf
    sorter = np.argsort(key)
    where = np.minimum(np.searchsorted(key, skey, sorter=sorter), max(len(key) - 1, 0))
    found = (key[sorter[where]] == skey) if len(key) else np.zeros(len(skey), dtype=bool)
    at = np.where(found, cand[sorter[where]] if len(key) else 0, -1)
    di = di.copy()
    di[at[found]] = np.minimum(di[at[found]], sd[found])
    new = ~found
    return (
        np.r_[hi, sh[new]].astype(np.int64, copy=False),
        np.r_[fi, sf[new]].astype(np.int64, copy=False),
        np.r_[di, sd[new]],
    )


def _same_edge_pairs(
    edge: np.ndarray, along: np.ndarray, snap: np.ndarray, seeds: Any, limit_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Homes on the edge of a facility's attachment point, walking straight along it."""
    order = np.argsort(seeds.edge, kind="stable")
    s_edge = seeds.edge[order]
    homes = np.flatnonzero(edge >= 0)
    lo = np.searchsorted(s_edge, edge[homes], side="left")
    hi = np.searchsorted(s_edge, edge[homes], side="right")
    count = hi - lo
    h = np.repeat(homes, count)
    if not len(h):
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    start = np.repeat(lo - np.r_[0, np.cumsum(count)[:-1]], count)
    s = order[start + np.arange(len(h))]
    d = np.abs(along[h] - seeds.along[s]) + seeds.offset[s] + snap[h]
    ok = d <= limit_m
    return h[ok], seeds.fac[s][ok], d[ok]
