"""Walking times from homes to every facility within a limit: the floating catchments' engine.

:func:`travel_times` gives the sparse home × facility matrix of walking times under a limit, on
the walking model of :func:`cdv_geo.metrics.access.nearest_facility` (homes and facilities
attached to the nearest point of the nearest street, snap distances walked; ``network=None``
for straight lines). It serves :mod:`cdv_geo.metrics.catchment` (2SFCA, E2SFCA),
:mod:`cdv_geo.metrics.opening_hours` and :mod:`cdv_geo.metrics.huff`.

The searches run in a compiled kernel (:func:`_bounded_walks`, numba, releasing the GIL: the
facilities are shared between threads); its numpy path (:func:`_scipy_walks`, scipy's Dijkstra)
gives the same pairs.
"""

from __future__ import annotations

import itertools
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
    A floating catchment needs, for each facility, the homes within its largest band: not the
    nearest facility of each home (what the multi-source ``min_only=True`` Dijkstra of
    :meth:`~cdv_geo.network.WalkNetwork.route` gives), but every facility within reach. So
    each facility gets its own search, bounded by the limit: the work grows with the
    facilities' neighbourhoods (~1,000 nodes at 15 minutes on foot), not with the town, and
    every band and weight then comes from this one matrix by sparse products (no search per
    band). The searches run in a compiled kernel that reuses its arrays from one facility to
    the next (reset through the nodes touched, never swept: scipy's
    ``dijkstra(indices=..., limit=...)`` fills a dense row of the whole town per facility) and
    hands each settled node's distance to the homes of its streets directly; the facilities
    are shared between threads (the kernel releases the GIL). Its numpy path (``scipy``'s
    Dijkstra from one virtual node per facility, ``indices=`` all of them by chunks,
    ``limit=``) gives the same pairs.

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
        hi, fi, dist = _euclidean_pairs(xy, has_geom, f_geoms, limit_m)
        placed = has_geom
    else:
        edge, along, snap = net.snap_xy(xy, max_snap_m=max_snap_m)
        placed = edge >= 0
        seeds = facility_seeds(net, f_geoms, max_snap_m)
        hi, fi, dist = _network_pairs(net, edge, along, snap, seeds, len(f_geoms), limit_m)
    return TravelTimes(
        home=hi,
        facility=fi,
        time_min=dist / m_per_min,
        home_ids=unique_ids(h, "homes"),
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
    facs = np.unique(seeds.fac)
    if not len(placed) or not len(facs):
        return empty
    n = net.n_nodes
    # one virtual node per facility, with one-way links to both ends of each attachment edge
    # (the shortest link when several attachment points share a node)
    vpos = np.full(n_fac, -1, dtype=np.int64)
    vpos[facs] = np.arange(len(facs))
    length = net.edge_length[seeds.edge]
    src = np.r_[vpos[seeds.fac], vpos[seeds.fac]]
    dst = np.r_[net.edge_u[seeds.edge], net.edge_v[seeds.edge]]
    w = np.r_[seeds.offset + seeds.along, seeds.offset + (length - seeds.along)]
    order = np.lexsort((w, dst, src))
    src, dst, w = src[order], dst[order], w[order]
    first = np.r_[True, (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])]
    src, dst, w = src[first], dst[first], w[first]
    csr = net.csr
    k = len(facs)
    # each home leaves its edge by either end: `along` (+ snap) metres to u, `length - along`
    # (+ snap) to v. The homes are listed by node (CSR-like), once for u and once for v.
    # (homes numbered by node: the searches then update nearby slots of their arrays)
    placed = placed[np.argsort(net.edge_u[edge[placed]], kind="stable")]
    e = edge[placed]
    hu, hv = net.edge_u[e], net.edge_v[e]
    up = along[placed] + snap[placed]
    vp = net.edge_length[e] - along[placed] + snap[placed]
    ent_node = np.r_[hu, hv]
    order = np.argsort(ent_node, kind="stable")
    ent_home = np.r_[np.arange(len(placed)), np.arange(len(placed))][order].astype(np.int64)
    ent_by_v = (order >= len(placed)).astype(bool)
    node_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ent_node, minlength=n), out=node_ptr[1:])
    if compiled and _bounded_walks.compiled is not None:
        src_ptr = np.searchsorted(src, np.arange(k + 1)).astype(np.int64)
        ent_cost = np.where(ent_by_v, vp[ent_home], up[ent_home])
        dst64 = dst.astype(np.int64, copy=False)

        def walk(part: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            h, f, d = _bounded_walks(
                csr.indptr, csr.indices, csr.data, src_ptr, dst64, w, node_ptr, ent_home,
                ent_cost, len(placed), limit_m, part.start, part.stop,
            )  # fmt: skip
            return placed[h], facs[f], d

        n_parts = min(threads.n_threads(), max(1, k // 16))
        bounds = np.linspace(0, k, n_parts + 1).astype(int).tolist()
        slices = [slice(a, b) for a, b in itertools.pairwise(bounds)]
        futures = [threads.pool().submit(walk, part) for part in slices[1:]]
        parts = [walk(slices[0]), *(f.result() for f in futures)]
    else:
        tail = np.searchsorted(src, np.arange(1, k + 1)) + csr.indptr[-1]
        itype = csr.indices.dtype
        aug = csr_matrix(
            (
                np.r_[csr.data, w],
                np.r_[csr.indices, dst.astype(itype)],
                np.r_[csr.indptr, tail.astype(csr.indptr.dtype)],
            ),
            shape=(n + k, n + k),
        )
        parts = _scipy_walks(aug, n, k, facs, placed, hu, hv, up, vp, ent_home, ent_by_v,
                             node_ptr, limit_m)  # fmt: skip
    hi, fi, di = (np.concatenate(p) for p in zip(*parts, strict=True))
    return _with_same_edge(hi, fi, di, _same_edge_pairs(edge, along, snap, seeds, limit_m), n_fac)


def _scipy_walks(
    aug: csr_matrix,
    n: int,
    k: int,
    facs: np.ndarray,
    placed: np.ndarray,
    hu: np.ndarray,
    hv: np.ndarray,
    up: np.ndarray,
    vp: np.ndarray,
    ent_home: np.ndarray,
    ent_by_v: np.ndarray,
    node_ptr: np.ndarray,
    limit_m: float,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Run the numpy path of :func:`_bounded_walks`: scipy's Dijkstra from virtual nodes."""
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
def _push(hk: np.ndarray, hv: np.ndarray, size: int, key: float, val: int) -> int:
    """Push (key, val) on the binary min-heap of `size` items; return the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if hk[parent] <= key:
            break
        hk[i] = hk[parent]
        hv[i] = hv[parent]
        i = parent
    hk[i] = key
    hv[i] = val
    return size + 1


@jit.helper
def _pop(hk: np.ndarray, hv: np.ndarray, size: int) -> int:
    """Remove the heap's first item (read it before); return the new size."""
    size -= 1
    key = hk[size]
    val = hv[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and hk[child + 1] < hk[child]:
            child += 1
        if key <= hk[child]:
            break
        hk[i] = hk[child]
        hv[i] = hv[child]
        i = child
    hk[i] = key
    hv[i] = val
    return size


def _bounded_walks_py(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    src_ptr: np.ndarray,
    src_node: np.ndarray,
    src_w: np.ndarray,
    node_ptr: np.ndarray,
    ent_home: np.ndarray,
    ent_cost: np.ndarray,
    n_homes: int,
    limit: float,
    lo: int,
    hi: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Dijkstra from each facility lo..hi-1 up to `limit`, and the homes it reaches.

    Facility j starts at nodes ``src_node[src_ptr[j]:src_ptr[j + 1]]`` (already ``src_w``
    metres away). Each settled node passes its distance on to the homes listed for it
    (``ent_home``, ``ent_cost`` from ``node_ptr``); a home keeps its shortest walk. The work
    is that of the nodes within the limit only: the distance arrays are reset through the
    lists of what was touched, never swept. Returns (home, facility, distance) per pair.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    best = np.full(n_homes, np.inf)
    touched = np.empty(n, dtype=np.int64)
    reached = np.empty(n_homes, dtype=np.int64)
    cap = max(1024, 64 * (hi - lo))
    out_h = np.empty(cap, dtype=np.int64)
    out_f = np.empty(cap, dtype=np.int64)
    out_d = np.empty(cap)
    # (a node enters the heap at most once per improvement: at most once per edge end)
    hk = np.empty(indices.shape[0] + src_node.shape[0] + 1)
    hv = np.empty(indices.shape[0] + src_node.shape[0] + 1, dtype=np.int64)
    m = 0
    for j in range(lo, hi):
        nt = 0
        nr = 0
        size = 0
        for s in range(src_ptr[j], src_ptr[j + 1]):
            v = src_node[s]
            w = src_w[s]
            if w <= limit and w < dist[v]:
                if dist[v] == np.inf:
                    touched[nt] = v
                    nt += 1
                dist[v] = w
                size = _push(hk, hv, size, w, v)
        while size > 0:
            d = hk[0]
            u = hv[0]
            size = _pop(hk, hv, size)
            if d > dist[u]:
                continue
            for e in range(node_ptr[u], node_ptr[u + 1]):
                h = ent_home[e]
                c = d + ent_cost[e]
                if c <= limit and c < best[h]:
                    if best[h] == np.inf:
                        reached[nr] = h
                        nr += 1
                    best[h] = c
            for q in range(indptr[u], indptr[u + 1]):
                v = indices[q]
                nd = d + data[q]
                if nd <= limit and nd < dist[v]:
                    if dist[v] == np.inf:
                        touched[nt] = v
                        nt += 1
                    dist[v] = nd
                    size = _push(hk, hv, size, nd, v)
        if m + nr > cap:
            cap = max(2 * cap, m + nr)
            out_h = np.concatenate((out_h[:m], np.empty(cap - m, dtype=np.int64)))
            out_f = np.concatenate((out_f[:m], np.empty(cap - m, dtype=np.int64)))
            out_d = np.concatenate((out_d[:m], np.empty(cap - m)))
        for i in range(nr):
            h = reached[i]
            out_h[m] = h
            out_f[m] = j
            out_d[m] = best[h]
            best[h] = np.inf
            m += 1
        for i in range(nt):
            dist[touched[i]] = np.inf
    return out_h[:m], out_f[:m], out_d[:m]


# compiled by numba (core.jit: cache in a writable place, never next to a read-only install);
# when numba does not run, _network_pairs takes scipy's path (_scipy_walks) instead, and a
# failed compilation falls back on the same code run as plain Python (slow, same answers)
_bounded_walks = jit.kernel(numpy=_bounded_walks_py, uses=(_push, _pop))(_bounded_walks_py)


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
