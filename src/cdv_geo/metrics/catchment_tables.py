"""What the floating catchment's searches read: the graph, the facilities' sources, the homes.

The tables behind :mod:`cdv_geo.metrics.catchment_kernels`, built once per call:

* :func:`sources`: the facilities in Z order (neighbours' searches share the caches) and one
  virtual source each, linked to both ends of its attachment edges;
* :func:`walk_arrays`: the graph, the limit and the width of the search's buckets;
* :func:`home_arrays` (:func:`homes_by_node`, compiled): the homes numbered by the nearer
  end of their street, the list by farther end, the facilities' own edges;
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
    """Order of points along a Z curve (neighbouring facilities' searches share the caches).

    The 16-bit grid coordinates' bits interleaved, x on the even bits (the "magic numbers"
    spreading of a Morton code: four shifts and masks instead of a loop over the bits).

    Examples
    --------
    >>> z_order(np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])).tolist()
    [1, 2, 3, 0]
    """
    q = ((xy - xy.min(axis=0)) / np.maximum(np.ptp(xy, axis=0), 1e-9) * 65535).astype(np.uint64)
    code = _spread_bits(q[:, 0]) | (_spread_bits(q[:, 1]) << np.uint64(1))
    return np.argsort(code, kind="stable")


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Put the 16 low bits of `v` on the even bits of a 32-bit code (bit i to bit 2i)."""
    for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def walk_arrays(
    net: WalkNetwork, sources: Any, facs: np.ndarray, limit_m: float
) -> tuple[Any, ...]:
    """Return what the searches read: graph, sources, facility ids, limit, bucket width.

    The graph is (CSR pointers, neighbours, lengths, the limit less the shortest street):
    a node reached beyond that last bound leads nowhere within the limit, and is not queued.
    """
    csr = net.csr
    least = float(csr.data.min(initial=np.inf))
    shortest = least
    if not shortest > 0:  # (streets of length 0: the shortest of the others)
        shortest = float(csr.data.min(initial=np.inf, where=csr.data > 0))
    # buckets of the search: no narrower than 1/4096 of the limit (a few buckets per search)
    width = max(shortest if np.isfinite(shortest) else limit_m, limit_m / 4096.0)
    last = float(limit_m) - (least if np.isfinite(least) else 0.0)
    return (
        (csr.indptr, csr.indices, csr.data, last), sources, facs.astype(np.int64),
        float(limit_m), width,
    )  # fmt: skip


def home_arrays(
    net: WalkNetwork, placement: Any, seeds: Any, placed: np.ndarray, facs: np.ndarray,
    vpos: np.ndarray,
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:  # fmt: skip
    """Return the homes by node (nearer end, then farther end) and the facilities' own edges.

    Each home is listed by the nearer end of its street (its *group* node), where its walk
    past the node is shortest, then again by the farther end (the walks that reach only
    that end). The facilities' own edges are (start per facility, edge, its two ends,
    along, offset): the homes of an edge are those of its ends' groups on that edge.
    """
    edge, along, snap = placement
    n, k = net.n_nodes, len(placed)
    h_id, h_u, h_v, v_home, v_pos, h_edge = (np.empty(k, np.int64) for _ in range(6))
    h_along, h_snap, h_up, h_vp = (np.empty(k) for _ in range(4))
    u_ptr, v_ptr, v_long = np.zeros(n + 1, np.int64), np.zeros(n + 1, np.int64), np.zeros(n)
    v_id, v_u, v_cost = np.empty(k, np.int64), np.empty(k, np.int64), np.empty(k)
    edge_u = net.edge_u.astype(np.int64, copy=False)
    edge_v = net.edge_v.astype(np.int64, copy=False)
    homes_by_node(
        np.ascontiguousarray(edge, dtype=np.int64), np.ascontiguousarray(along, dtype=float),
        np.ascontiguousarray(snap, dtype=float), np.ascontiguousarray(placed, dtype=np.int64),
        edge_u, edge_v, net.edge_length.astype(float, copy=False),
        (h_id, h_u, h_v, h_along, h_snap, h_up, h_vp, u_ptr, v_ptr, v_home, v_pos, h_edge,
         v_long, v_id, v_u, v_cost),
    )  # fmt: skip
    # each facility's attachment points, with the ends of their edge (the walk along it)
    so = np.argsort(vpos[seeds.fac], kind="stable")
    sd_ptr = np.searchsorted(vpos[seeds.fac][so], np.arange(len(facs) + 1)).astype(np.int64)
    so_edge = seeds.edge[so].astype(np.int64)
    return (
        (u_ptr, h_u, h_up, h_v, h_vp, v_ptr, v_id, v_u, v_cost, v_pos, h_along, h_snap, h_id,
         np.diff(u_ptr) + np.diff(v_ptr), v_long, v_home, h_edge),
        (sd_ptr, so_edge, edge_u[so_edge], edge_v[so_edge], seeds.along[so].astype(float),
         seeds.offset[so].astype(float)),
    )  # fmt: skip


def _homes_by_node_numpy(
    edge: np.ndarray, along: np.ndarray, snap: np.ndarray, placed: np.ndarray,
    edge_u: np.ndarray, edge_v: np.ndarray, edge_length: np.ndarray, out: Any,
) -> None:  # fmt: skip
    h_id, h_u, h_v, h_along, h_snap, h_up, h_vp, u_ptr, v_ptr, v_home, v_pos, h_edge = out[:12]
    n = len(u_ptr) - 1
    e = edge[placed]
    length = edge_length[e]
    near_u = along[placed] <= 0.5 * length
    group = np.where(near_u, edge_u[e], edge_v[e])
    order = np.argsort(group, kind="stable")
    h_id[:], h_edge[:], h_u[:] = placed[order], e[order], group[order]
    e, near_u, length = e[order], near_u[order], length[order]
    h_v[:] = np.where(near_u, edge_v[e], edge_u[e])
    h_along[:], h_snap[:] = along[h_id], snap[h_id]
    past = np.where(near_u, h_along, length - h_along)  # (from the group node)
    h_up[:] = past + h_snap
    h_vp[:] = length - past + h_snap
    u_ptr[1:] = np.cumsum(np.bincount(h_u, minlength=n))
    v_ptr[1:] = np.cumsum(np.bincount(h_v, minlength=n))
    v_home[:] = np.argsort(h_v, kind="stable")
    v_pos[v_home] = np.arange(len(v_home))
    np.maximum.at(out[12], h_v, length)
    out[13][:], out[14][:], out[15][:] = h_id[v_home], h_u[v_home], h_vp[v_home]


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
    """Fill `out` with the homes placed, numbered by the nearer end of their edge.

    `out` is (home, group node (the nearer end: u when along <= half the edge), the other
    end, along, snap, walk past the group node, walk past the other end, start per group
    node, start per other end, the homes by other end, each home's place in that list,
    edge, per node the longest edge of its homes by other end, the list by other end's
    homes, group nodes and walks past the other end). Two counting sorts, stable (the
    order of :func:`_homes_by_node_numpy`): the homes of a node are consecutive (the
    searches then read nearby memory).
    """
    h_id, h_u, h_v, h_along, h_snap, h_up, h_vp, u_ptr, v_ptr, v_home, v_pos, h_edge = out[:12]
    v_long, v_id, v_u, v_cost = out[12:16]
    k = placed.shape[0]
    # the homes read in their order (each group node chosen without a branch: the halves
    # are not predictable), then written to their places: few random reads
    group, other = np.empty(k, np.int64), np.empty(k, np.int64)
    past, edge_m = np.empty(k), np.empty(k)
    for i in range(k):
        h = placed[i]
        x = edge[h]
        length, a, eu, ev = edge_length[x], along[h], edge_u[x], edge_v[x]
        near_u = a <= 0.5 * length
        g, f = (eu if near_u else ev), (ev if near_u else eu)
        group[i], other[i] = g, f
        past[i], edge_m[i] = (a if near_u else length - a), length
        u_ptr[g + 1] += 1
        v_ptr[f + 1] += 1
        v_long[f] = max(v_long[f], length)
    fill = _starts(u_ptr)
    for i in range(k):
        h, g = placed[i], group[i]
        d = snap[h]
        at = fill[g]
        fill[g] += 1
        h_id[at], h_edge[at], h_u[at], h_v[at], h_along[at], h_snap[at] = (
            h, edge[h], g, other[i], along[h], d,
        )  # fmt: skip
        h_up[at], h_vp[at] = past[i] + d, edge_m[i] - past[i] + d
    fill = _starts(v_ptr)
    for i in range(k):
        f = h_v[i]
        at = fill[f]
        fill[f] += 1
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
