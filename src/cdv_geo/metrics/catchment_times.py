"""Walking times from homes to every facility within a limit: the floating catchments' engine.

:func:`travel_times` gives the sparse home × facility matrix of walking times under a limit, on
the walking model of :func:`cdv_geo.metrics.access.nearest_facility` (homes and facilities
attached to the nearest point of the nearest street, snap distances walked; ``network=None``
for straight lines). It serves :mod:`cdv_geo.metrics.catchment` (2SFCA, E2SFCA),
:mod:`cdv_geo.metrics.opening_hours` and :mod:`cdv_geo.metrics.huff`.

The searches run in a compiled kernel (:mod:`cdv_geo.metrics.catchment_kernels`: numba,
releasing the GIL, a bucket queue per facility, the facilities shared between threads); its
numpy path (:func:`_scipy_walks`, scipy's Dijkstra) gives the same pairs.
:func:`catchment_sums` runs the floating catchment's two steps inside those searches, without
listing the pairs; both start from the homes and facilities placed by :func:`place_walks`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import wait
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from cdv_geo.core import threads
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.layers import as_layer
from cdv_geo.metrics import catchment_kernels as kernels
from cdv_geo.metrics import catchment_tables as tables
from cdv_geo.metrics.walking import (
    box_xy,
    check_network,
    check_positive,
    facility_seeds,
    id_text,
    measure_crs,
    to_crs,
    unique_ids,
)
from cdv_geo.network import WalkNetwork
from cdv_geo.network.snapping import SharedQuery

__all__ = [
    "PlacedWalks",
    "TravelTimes",
    "catchment_sums",
    "given_times",
    "place_walks",
    "travel_times",
    "walk_pairs",
]

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
    max_time_min : float
        The limit the pairs were listed under (every pair within it is present).
    speed_kmh : float or None
        The walking speed that turned distances into minutes (None: not said).
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
    max_time_min: float = np.inf
    speed_kmh: float | None = None

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

    def within(self, max_time_min: float) -> TravelTimes:
        """Return the pairs within `max_time_min` (a time exactly on it is kept).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> t = TravelTimes(np.array([0, 1]), np.array([1, 0]), np.array([2.0, 9.0]),
        ...                 pd.Index(["a", "b"]), np.array(["f", "g"]), np.ones(2, bool),
        ...                 np.empty(2, object), CRS(2154), "network", 10.0, 4.5)
        >>> t.within(2.0).home.tolist(), t.within(2.0).max_time_min
        ([0], 2.0)
        """
        keep = self.time_min <= max_time_min
        if keep.all():  # (the usual case: no copy)
            return replace(self, max_time_min=min(float(max_time_min), self.max_time_min))
        return replace(self, home=self.home[keep], facility=self.facility[keep],
                       time_min=self.time_min[keep], max_time_min=float(max_time_min))  # fmt: skip

    def columns(self, positions: np.ndarray) -> TravelTimes:
        """Return the times to the facilities at `positions` only, numbered in that order.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> t = TravelTimes(np.array([0, 1]), np.array([1, 0]), np.array([2.0, 9.0]),
        ...                 pd.Index(["a", "b"]), np.array(["f", "g"]), np.ones(2, bool),
        ...                 np.empty(2, object), CRS(2154), "network")
        >>> s = t.columns(np.array([1]))
        >>> s.home.tolist(), s.facility.tolist(), s.facility_ids.tolist()
        ([0], [0], ['g'])
        """
        pos = np.asarray(positions, dtype=np.int64)
        k = len(self.facility_ids)
        if len(np.unique(pos)) != len(pos) or ((pos < 0) | (pos >= k)).any():
            raise CdvGeoError(f"positions must be distinct facility positions in 0..{k - 1}")
        if len(pos) == k and (pos == np.arange(k)).all():
            return self
        new = np.full(k, -1, dtype=np.int64)
        new[pos] = np.arange(len(pos))
        f = new[self.facility]
        keep = f >= 0
        return replace(
            self, home=self.home[keep], facility=f[keep], time_min=self.time_min[keep],
            facility_ids=self.facility_ids[pos],
        )  # fmt: skip


def given_times(
    times: TravelTimes,
    homes: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    max_time_min: float,
    speed_kmh: float,
    function: str,
) -> TravelTimes:
    """Check a precomputed matrix against the layers a function measures; cut it to its limit.

    `times` must come from :func:`travel_times` on the same `homes` and `facilities` (one
    column per facility, in order), at `speed_kmh`, with a limit of at least `max_time_min`
    (the largest the function needs); else a :class:`CdvGeoError` saying how to compute it.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> homes = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=2154)
    >>> gp = gpd.GeoDataFrame(geometry=[Point(300, 400)], crs=2154)
    >>> t = travel_times(homes, gp, max_time_min=10)
    >>> given_times(t, homes, gp, max_time_min=15, speed_kmh=4.5, function="f")
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.CdvGeoError: f: times reach 10 min, less than the 15 min needed; \
compute them with travel_times(homes, facilities, max_time_min=15) or more
    """
    hint = "compute them with travel_times(homes, facilities, ...) on the layers given"
    if not isinstance(times, TravelTimes):
        raise CdvGeoError(f"{function}: times must be a TravelTimes, not {type(times).__name__}")
    if len(times.home_ids) != len(homes):
        raise CdvGeoError(
            f"{function}: times are for {len(times.home_ids)} homes, not the {len(homes)} "
            f"given; {hint}"
        )
    ids = id_text(facilities).to_numpy(dtype=object)
    if len(ids) != len(times.facility_ids) or (ids != times.facility_ids).any():
        raise CdvGeoError(
            f"{function}: times are for {len(times.facility_ids)} facilities, not the "
            f"{len(ids)} given (one column per facility, in order); {hint}"
        )
    if times.speed_kmh is not None and times.speed_kmh != speed_kmh:
        raise CdvGeoError(
            f"{function}: times are at {times.speed_kmh:g} km/h, not {speed_kmh:g}; compute "
            f"them with travel_times(..., speed_kmh={speed_kmh:g})"
        )
    if times.max_time_min < max_time_min:
        raise CdvGeoError(
            f"{function}: times reach {times.max_time_min:g} min, less than the "
            f"{max_time_min:g} min needed; compute them with travel_times(homes, facilities, "
            f"max_time_min={max_time_min:g}) or more"
        )
    return times.within(max_time_min)


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
    p = place_walks(homes, facilities, network=network, max_time_min=max_time_min,
                    speed_kmh=speed_kmh, max_snap_m=max_snap_m, crs=crs)  # fmt: skip
    return walk_pairs(p)


def walk_pairs(p: PlacedWalks) -> TravelTimes:
    """List the pairs within the limit of homes and facilities placed by :func:`place_walks`.

    The second half of :func:`travel_times` (the searches, or straight lines).
    """
    if p.net is None or p.snapped is None:
        hi, fi, dist = _euclidean_pairs(p.xy, p.placed, p.f_geoms, p.limit_m)
    else:
        edge, along, snap = p.snapped
        hi, fi, dist = _network_pairs(p.net, edge, along, snap, p.seeds, len(p.f_geoms), p.limit_m)
    return p.times(hi, fi, dist / p.m_per_min).within(p.limit_min)


def catchment_sums(
    p: PlacedWalks,
    *,
    bands: tuple[np.ndarray, np.ndarray],
    demand: np.ndarray,
    supply: np.ndarray,
    kinds: tuple[np.ndarray, int],
    started: Callable[[], Any] | None = None,
) -> tuple[TravelTimes, np.ndarray, np.ndarray, np.ndarray] | None:
    """Run the two steps of a floating catchment inside the walking searches (no pair list).

    The same walks as :func:`travel_times` from the homes and facilities placed by
    :func:`place_walks` (up to the last bound of `bands`: upper bounds in minutes, weights);
    each facility's homes give at once its weighted demand and its shares
    (:func:`~cdv_geo.metrics.catchment_kernels.catchment_walks`). `kinds` is (the kind of
    each facility, as 0..n-1; n). `started`, when the searches run, is called once they are
    under way (in compiled code, which needs no GIL): the moment to start other work in a
    thread; it is not called when this returns None or reaches nobody.

    Returns
    -------
    (TravelTimes, numpy.ndarray, numpy.ndarray, numpy.ndarray) or None
        The walks' homes and facilities (a :class:`TravelTimes` *without its pairs*: ids,
        placement, geometries, CRS, method), each facility's weighted demand and its ratio
        (0 without demand), and each home's access per 10,000 (flat, home × kind). None
        without a network or without the compiled kernel: list the pairs with
        :func:`walk_pairs` then.
    """
    if p.net is None or kernels.catchment_walks.compiled is None:
        return None
    upper, weight = bands
    sums = _network_sums(
        p, (p.m_per_min, upper, weight, demand, supply, kinds[0], kinds[1], len(p.xy)), started
    )
    none = np.empty(0, np.int64)
    return p.times(none, none, np.empty(0)), *sums


@dataclass
class PlacedWalks:
    """Homes and facilities placed for the walks (:func:`place_walks`)."""

    ids: pd.Index
    h_geoms: np.ndarray
    f_ids: np.ndarray
    f_geoms: np.ndarray
    xy: np.ndarray
    boxes: np.ndarray
    placed: np.ndarray
    snapped: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    seeds: Any
    net: WalkNetwork | None
    crs: CRS
    speed: float
    m_per_min: float
    limit_min: float
    limit_m: float

    def times(self, hi: np.ndarray, fi: np.ndarray, time_min: np.ndarray) -> TravelTimes:
        """Return the pairs (home, facility, minutes) as :class:`TravelTimes` of these walks."""
        return TravelTimes(
            home=hi,
            facility=fi,
            time_min=time_min,
            home_ids=self.ids,
            facility_ids=self.f_ids,
            placed=self.placed,
            home_geoms=self.h_geoms,
            crs=self.crs,
            method="euclidean" if self.net is None else "network",
            max_time_min=np.inf,
            speed_kmh=self.speed,
        )


def place_walks(
    homes: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None,
    max_time_min: float,
    speed_kmh: float = 4.5,
    max_snap_m: float = 200.0,
    crs: Any = None,
) -> PlacedWalks:
    """Check the options, project the layers, snap the homes and attach the facilities.

    The first half of :func:`travel_times` (same parameters); :func:`walk_pairs` or
    :func:`catchment_sums` then walk.
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
    # (the boxes kept: the quartier rule of the catchment reads them too)
    boxes, xy = threads.map_chunks(lambda part: _boxes_and_xy(h_geoms[part]), len(h_geoms))
    m_per_min = speed * 1000.0 / 60.0
    # (a hair beyond, then kept by time: the pairs of a longer matrix cut by `within`)
    limit_m = limit_min * m_per_min * (1.0 + 1e-12)
    snapped, seeds = None, None
    if net is None:
        ids = unique_ids(h, "homes")
        placed = np.isfinite(xy).all(axis=1)
    else:
        # a side thread snaps the homes (compiled, GIL-free) while this one checks their ids
        # and attaches the facilities, then snaps from the last home (as nearest_facility);
        # the checks hold the GIL: they start once the side thread is inside the query
        query = SharedQuery(net.snapping_index, xy, float(max_snap_m))
        querying = threading.Event()
        job = threads.alongside(query.forward, querying, size=len(xy))
        try:
            querying.wait()
            ids = unique_ids(h, "homes")
            seeds = facility_seeds(net, f_geoms, max_snap_m)
            query.backward()
        finally:
            if not job.cancel():
                wait([job])
        _ = job.cancelled() or job.result()  # (re-raises)
        snapped = query.result()
        placed = snapped[0] >= 0
    f_ids = id_text(f).to_numpy(dtype=object)
    return PlacedWalks(ids, h_geoms, f_ids, f_geoms, xy, boxes, placed, snapped, seeds, net,
                       target, speed, m_per_min, limit_min, limit_m)  # fmt: skip


def _boxes_and_xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the geometries' boxes (``shapely.bounds``) and their :func:`point_xy`."""
    boxes = shapely.bounds(geoms)
    return boxes, box_xy(geoms, boxes)


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

    `compiled`: the numba kernel (:func:`~cdv_geo.metrics.catchment_kernels.compiled_pairs`,
    in threads), else its numpy path (:func:`_scipy_walks`, the same answers).
    """
    empty = np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    walks = tables.sources(net, edge, seeds, n_fac)
    if walks is None:
        return empty
    placed, facs, vpos, (src_ptr, dst, w) = walks
    if compiled and kernels.bounded_walks.compiled is not None:
        return kernels.compiled_pairs(net, (edge, along, snap), seeds, placed, facs, vpos,
                               (src_ptr, dst, w), limit_m)  # fmt: skip
    parts = _scipy_walks(net, (edge, along, snap), placed, facs, (src_ptr, dst, w), limit_m)
    hi, fi, di = (np.concatenate(p) for p in zip(*parts, strict=True))
    return _with_same_edge(hi, fi, di, _same_edge_pairs(edge, along, snap, seeds, limit_m), n_fac)


def _network_sums(
    p: PlacedWalks, steps: Any, started: Callable[[], Any] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted demand, ratio per facility and access per home of :func:`catchment_sums`."""
    assert p.net is not None and p.snapped is not None
    walks = tables.sources(p.net, p.snapped[0], p.seeds, len(p.f_geoms))
    if walks is None:  # (no home or no facility on the network: nobody served)
        n_fac, n_homes, n_kinds = len(p.f_geoms), steps[-1], steps[-2]
        return np.zeros(n_fac), np.zeros(n_fac), np.zeros(n_homes * n_kinds)
    placed, facs, vpos, sources = walks
    return kernels.compiled_catchment(
        p.net, p.snapped, p.seeds, placed, facs, vpos, sources, p.limit_m, steps, started=started
    )


def _scipy_walks(
    net: WalkNetwork, placement: Any, placed: np.ndarray, facs: np.ndarray, sources: Any,
    limit_m: float,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:  # fmt: skip
    """Run the numpy path of the compiled searches: scipy's Dijkstra from virtual nodes."""
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
