"""What the floating catchment's searches read: the graph, the facilities' sources, the homes.

The tables behind :mod:`cdv_geo.metrics.catchment_kernels`, built once per call:

* :func:`sources`: the facilities in Z order (neighbours' searches share the caches) and one
  virtual source each, linked to both ends of its attachment edges;
* :func:`walk_arrays`: the graph, the limit and the width of the search's buckets;
* :func:`home_arrays` (:func:`homes_by_node`, compiled): the homes numbered by the near end
  of their street, the list by far end, the facilities' own edges;
* :func:`node_tables`: per street node, its homes' residents and the bounds of their walks
  (a node whose homes all fall in one band counts whole).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cdv_geo.core import jit
from cdv_geo.network import WalkNetwork

__all__ = ["home_arrays", "homes_by_node", "node_tables", "sources", "walk_arrays", "z_order"]


def sources(
    net: WalkNetwork, edge: np.ndarray, seeds: Any, n_fac: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]] | None:
    """Return the homes placed, the facilities in Z order, their virtual sources (or None).

    One virtual source per facility, linked to both ends of each attachment edge (the
    shortest link when several attachment points share a node): (start per facility, node,
    metres).
    """
    placed = np.flatnonzero(edge >= 0)
    facs, first = np.unique(seeds.fac, return_index=True)
    if not len(placed) or not len(facs):
        return None
    facs = facs[z_order(net.node_xy[net.edge_u[seeds.edge[first]]])]
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
    return placed, facs, vpos, (src_ptr, dst, w)


def z_order(xy: np.ndarray) -> np.ndarray:
    """Order of points along a Z curve (neighbouring facilities' searches share the caches)."""
    q = ((xy - xy.min(axis=0)) / np.maximum(np.ptp(xy, axis=0), 1e-9) * 65535).astype(np.uint64)
    code = np.zeros(len(xy), dtype=np.uint64)
    for bit in np.arange(16, dtype=np.uint64):
        code |= ((q[:, 0] >> bit) & np.uint64(1)) << (np.uint64(2) * bit)
        code |= ((q[:, 1] >> bit) & np.uint64(1)) << (np.uint64(2) * bit + np.uint64(1))
    return np.argsort(code, kind="stable")


def walk_arrays(
    net: WalkNetwork, sources: Any, facs: np.ndarray, limit_m: float
) -> tuple[Any, ...]:
    """Return what the searches read: graph, sources, facility ids, limit, bucket width."""
    csr = net.csr
    shortest = float(csr.data.min(initial=np.inf))
    if not shortest > 0:  # (streets of length 0: the shortest of the others)
        shortest = float(csr.data.min(initial=np.inf, where=csr.data > 0))
    # buckets of the search: no narrower than 1/4096 of the limit (a few buckets per search)
    width = max(shortest if np.isfinite(shortest) else limit_m, limit_m / 4096.0)
    return (
        (csr.indptr, csr.indices, csr.data), sources, facs.astype(np.int64), float(limit_m),
        width,
    )  # fmt: skip


def home_arrays(
    net: WalkNetwork, placement: Any, seeds: Any, placed: np.ndarray, facs: np.ndarray,
    vpos: np.ndarray,
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:  # fmt: skip
    """Return the homes by node (u end, then v end) and the facilities' own edges."""
    edge, along, snap = placement
    n, n_edges, k = net.n_nodes, net.n_edges, len(placed)
    h_id, h_u, h_v, v_home, v_pos = (np.empty(k, np.int64) for _ in range(5))
    h_along, h_snap, h_up, h_vp = (np.empty(k) for _ in range(4))
    u_ptr, v_ptr = np.zeros(n + 1, np.int64), np.zeros(n + 1, np.int64)
    e_lo, e_hi, v_long = np.zeros(n_edges, np.int64), np.zeros(n_edges, np.int64), np.zeros(n)
    v_id, v_u, v_cost = np.empty(k, np.int64), np.empty(k, np.int64), np.empty(k)
    homes_by_node(
        np.ascontiguousarray(edge, dtype=np.int64), np.ascontiguousarray(along, dtype=float),
        np.ascontiguousarray(snap, dtype=float), np.ascontiguousarray(placed, dtype=np.int64),
        net.edge_u.astype(np.int64, copy=False), net.edge_v.astype(np.int64, copy=False),
        net.edge_length.astype(float, copy=False),
        (h_id, h_u, h_v, h_along, h_snap, h_up, h_vp, u_ptr, v_ptr, v_home, v_pos, e_lo, e_hi,
         v_long, v_id, v_u, v_cost),
    )  # fmt: skip
    # each facility's attachment points, with the homes of their edge (the walk along it)
    so = np.argsort(vpos[seeds.fac], kind="stable")
    sd_ptr = np.searchsorted(vpos[seeds.fac][so], np.arange(len(facs) + 1)).astype(np.int64)
    so_edge = seeds.edge[so]
    return (
        (u_ptr, h_u, h_up, h_v, h_vp, v_ptr, v_id, v_u, v_cost, v_pos, h_along, h_snap, h_id,
         np.diff(u_ptr) + np.diff(v_ptr), v_long, v_home),
        (sd_ptr, e_lo[so_edge], e_hi[so_edge], seeds.along[so].astype(float),
         seeds.offset[so].astype(float)),
    )  # fmt: skip


def _homes_by_node_numpy(
    edge: np.ndarray, along: np.ndarray, snap: np.ndarray, placed: np.ndarray,
    edge_u: np.ndarray, edge_v: np.ndarray, edge_length: np.ndarray, out: Any,
) -> None:  # fmt: skip
    h_id, h_u, h_v, h_along, h_snap, h_up, h_vp, u_ptr, v_ptr, v_home, v_pos, e_lo, e_hi = out[:13]
    n = len(u_ptr) - 1
    e = edge[placed]
    order = np.argsort(e, kind="stable")
    order = order[np.argsort(edge_u[e[order]], kind="stable")]
    e = e[order]
    h_id[:] = placed[order]
    h_u[:], h_v[:] = edge_u[e], edge_v[e]
    h_along[:], h_snap[:] = along[h_id], snap[h_id]
    h_up[:] = h_along + h_snap
    h_vp[:] = edge_length[e] - h_along + h_snap
    u_ptr[1:] = np.cumsum(np.bincount(h_u, minlength=n))
    v_ptr[1:] = np.cumsum(np.bincount(h_v, minlength=n))
    v_home[:] = np.argsort(h_v, kind="stable")
    v_pos[v_home] = np.arange(len(v_home))
    starts = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
    e_lo[e[starts]] = starts
    e_hi[e[starts]] = np.r_[starts[1:], len(e)]
    np.maximum.at(out[13], h_v, edge_length[e])
    out[14][:], out[15][:], out[16][:] = h_id[v_home], h_u[v_home], h_vp[v_home]


@jit.helper
def _starts(ptr: np.ndarray) -> np.ndarray:
    """Turn counts (``ptr[i + 1]``: items of key i) into starts in place; return a copy."""
    for i in range(ptr.shape[0] - 1):
        ptr[i + 1] += ptr[i]
    return ptr[:-1].copy()


@jit.kernel(numpy=_homes_by_node_numpy, uses=(_starts,))
def homes_by_node(
    edge: np.ndarray, along: np.ndarray, snap: np.ndarray, placed: np.ndarray,
    edge_u: np.ndarray, edge_v: np.ndarray, edge_length: np.ndarray, out: Any,
) -> None:  # pragma: no cover  # fmt: skip
    """Fill `out` with the homes placed, numbered by the u end of their edge then by edge.

    `out` is (home, u, v, along, snap, walk past u, walk past v, start per u node, start
    per v node, the homes by v end, each home's place in that list, first and end of each
    edge's homes, per node the longest edge of its homes by v end, the list by v end's
    homes, u ends and walks past v): the homes of a node,
    and those of an edge, are consecutive (the searches then read nearby memory). A counting
    sort by u, then each node's few homes sorted by edge in place (stably: the order of
    :func:`_homes_by_node_numpy`).
    """
    h_id, h_u, h_v, h_along, h_snap, h_up, h_vp, u_ptr, v_ptr, v_home, v_pos, e_lo, e_hi = out[:13]
    v_long, v_id, v_u, v_cost = out[13:17]
    k, n = placed.shape[0], u_ptr.shape[0] - 1
    # (the homes are read in their order, then written to their places: few random reads)
    for i in range(k):
        u_ptr[edge_u[edge[placed[i]]] + 1] += 1
    fill = _starts(u_ptr)
    for i in range(k):
        h = placed[i]
        x = edge[h]
        u = edge_u[x]
        at = fill[u]
        fill[u] += 1
        h_id[at], h_u[at], h_v[at] = h, u, x  # (h_v holds the edge until the last pass)
        h_along[at], h_snap[at] = along[h], snap[h]
    for u in range(n):  # each node's homes by edge, stably (a few per node: insertion)
        for i in range(u_ptr[u] + 1, u_ptr[u + 1]):
            x, h, a, d = h_v[i], h_id[i], h_along[i], h_snap[i]
            at = i
            while at > u_ptr[u] and h_v[at - 1] > x:
                h_v[at], h_id[at], h_along[at], h_snap[at] = (
                    h_v[at - 1],
                    h_id[at - 1],
                    h_along[at - 1],
                    h_snap[at - 1],
                )
                at -= 1
            h_v[at], h_id[at], h_along[at], h_snap[at] = x, h, a, d
    last = -1
    for i in range(k):
        x = h_v[i]
        if x != last:
            e_lo[x], last = i, x
        e_hi[x] = i + 1
        v = edge_v[x]
        h_v[i] = v
        h_up[i], h_vp[i] = h_along[i] + h_snap[i], edge_length[x] - h_along[i] + h_snap[i]
        v_ptr[v + 1] += 1
        v_long[v] = max(v_long[v], edge_length[x])
    fill = _starts(v_ptr)
    for i in range(k):
        v = h_v[i]
        at = fill[v]
        fill[v] += 1
        v_home[at], v_pos[i] = i, at
        v_id[at], v_u[at], v_cost[at] = h_id[i], h_u[i], h_vp[i]


def _node_tables_numpy(
    u_ptr: np.ndarray, demand: np.ndarray, back: np.ndarray, up: np.ndarray,
    node_dem: np.ndarray, node_back: np.ndarray, node_up: np.ndarray,
) -> None:  # fmt: skip
    full = np.flatnonzero(np.diff(u_ptr) > 0)
    if len(full):
        first = u_ptr[full]
        node_dem[full] = np.add.reduceat(demand, first)
        node_back[full] = np.maximum.reduceat(back, first)
        node_up[full] = np.maximum.reduceat(up, first)


@jit.kernel(numpy=_node_tables_numpy)
def node_tables(
    u_ptr: np.ndarray, demand: np.ndarray, back: np.ndarray, up: np.ndarray,
    node_dem: np.ndarray, node_back: np.ndarray, node_up: np.ndarray,
) -> None:  # pragma: no cover  # fmt: skip
    """Fill, per node, its homes' demand summed and their most `back` and most `up`.

    A node's homes are ``u_ptr[u]`` to ``u_ptr[u + 1]``; a node without homes is left as
    found.
    """
    for u in range(u_ptr.shape[0] - 1):
        lo, hi = u_ptr[u], u_ptr[u + 1]
        if hi > lo:
            d, b, p = demand[lo], back[lo], up[lo]
            for h in range(lo + 1, hi):
                d += demand[h]
                b = max(b, back[h])
                p = max(p, up[h])
            node_dem[u], node_back[u], node_up[u] = d, b, p
