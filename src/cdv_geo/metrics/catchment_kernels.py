"""The compiled bounded searches of :func:`cdv_geo.metrics.catchment_times.travel_times`.

One search per facility up to the limit (a bucket queue: Dial's buckets, Δ-stepping), then the
homes of the nodes it reached (:func:`compiled_pairs`); numba, releasing the GIL, the
facilities shared between threads. Its numpy path is
:func:`cdv_geo.metrics.catchment_times.travel_times`' scipy Dijkstra (the same pairs); a failed
compilation runs the same code as plain Python (slow, same answers).
"""

from __future__ import annotations

import itertools
from concurrent.futures import wait
from typing import Any

import numpy as np

from cdv_geo.core import jit, threads
from cdv_geo.network import WalkNetwork

__all__ = ["bounded_walks", "compiled_pairs"]


def compiled_pairs(
    net: WalkNetwork, placement: Any, seeds: Any, placed: np.ndarray, facs: np.ndarray,
    vpos: np.ndarray, sources: Any, limit_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Run :func:`bounded_walks` on slices of the facilities, in threads; concatenate."""
    edge, along, snap = placement
    n, n_edges = net.n_nodes, net.n_edges
    # the homes numbered by the u end of their edge, then by edge: the homes of a node, and
    # those of an edge, are consecutive (the searches then read nearby memory)
    e = edge[placed]
    order = _stable_order(e, n_edges)  # (counting sorts: by edge, then by u, stably)
    order = order[_stable_order(net.edge_u[e[order]], n)]
    e = e[order]
    h_id = placed[order].astype(np.int64)
    h_u = net.edge_u[e].astype(np.int64)
    h_v = net.edge_v[e].astype(np.int64)
    h_along, h_snap = along[h_id], snap[h_id]
    h_up = h_along + h_snap
    h_vp = net.edge_length[e] - h_along + h_snap
    u_ptr = np.r_[0, np.cumsum(np.bincount(h_u, minlength=n))].astype(np.int64)
    v_ptr = np.r_[0, np.cumsum(np.bincount(h_v, minlength=n))].astype(np.int64)
    v_home = _stable_order(h_v, n)
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
        # (each thread takes the next slice: the faster threads take more; its arrays serve
        # every slice it takes)
        state: dict[str, Any] = {}
        while (i := next(todo)) < len(slices):
            cap = len(csr.indices) + len(sources[1]) + 1
            done[i] = _walk_slice(fixed, cap, *slices[i], state=state)

    helpers = [threads.pool().submit(work) for _ in range(min(threads.n_threads(), n_slices) - 1)]
    try:
        work()
    finally:
        wait([f for f in helpers if not f.cancel()])  # (not started: the slices are done)
    _ = [f.result() for f in helpers if not f.cancelled()]
    parts = [p for i in range(len(slices)) for p in done[i]]
    return tuple(np.concatenate(a) for a in zip(*parts, strict=True))  # type: ignore[return-value]


def _stable_order_numpy(key: np.ndarray, n_keys: int, out: np.ndarray) -> None:
    out[:] = np.argsort(key, kind="stable")


@jit.kernel(numpy=_stable_order_numpy)
def _count_sort(key: np.ndarray, n_keys: int, out: np.ndarray) -> None:  # pragma: no cover
    """Fill `out` with the stable order of `key` (integers in 0..n_keys-1): a counting sort."""
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(key.shape[0]):
        start[key[i] + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    for i in range(key.shape[0]):
        k = key[i]
        out[start[k]] = i
        start[k] += 1


def _stable_order(key: np.ndarray, n_keys: int) -> np.ndarray:
    """Return the stable order of `key`, integers in 0..n_keys-1 (``argsort(kind="stable")``).

    Examples
    --------
    >>> _stable_order(np.array([2, 0, 2, 1]), 3).tolist()
    [1, 3, 0, 2]
    """
    out = np.empty(len(key), dtype=np.int64)
    _count_sort(np.ascontiguousarray(key, dtype=np.int64), int(n_keys), out)
    return out


def _walk_slice(
    fixed: tuple[Any, ...], pool_cap: int, lo: int, hi: int, *, state: dict[str, Any] | None = None
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Run :func:`bounded_walks` for facilities lo..hi-1, growing its arrays when it asks.

    `state` keeps the queue and the scratch arrays for the thread's next slice (the kernel
    leaves the scratch as it found it).
    """
    state = {} if state is None else state
    parts = []
    out_cap = min(max(4096, 2048 * (hi - lo)), 1 << 22)
    queue = lambda size: (np.empty(size, np.int64), np.empty(size), np.empty(size, np.int64))  # noqa: E731
    if "pool" not in state:
        state["pool"] = queue(pool_cap)  # (node, distance, next entry of the same bucket)
        state["scratch"] = _scratch(fixed)
    while lo < hi:
        # (positions as int32: the pair list is the largest array of a run)
        out = np.empty(out_cap, np.int32), np.empty(out_cap, np.int32), np.empty(out_cap)
        m, lo, full, need = bounded_walks(*fixed, state["pool"], state["scratch"], out, lo, hi)
        parts.append((out[0][:m], out[1][:m], out[2][:m]))
        if full == 1:
            state["pool"] = queue(max(2 * len(state["pool"][0]), need))
        elif full == 2:
            out_cap = max(2 * out_cap, need)
    return parts


def _scratch(fixed: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
    """Scratch arrays of :func:`bounded_walks`: distances, nodes touched, buckets, walks."""
    graph, homes, limit, width = fixed[0], fixed[2], fixed[5], fixed[6]
    n, n_homes = graph[0].shape[0] - 1, homes[2].shape[0]
    return (
        np.full(n, np.inf), np.empty(n, dtype=np.int64),
        np.full(int(limit * (1.0 / width)) + 2, -1, dtype=np.int64), np.full(n_homes, np.inf),
        np.full(n_homes, np.inf),
    )  # fmt: skip


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
    width: float, queue: Any, scratch: Any, out: Any, lo: int, hi: int,
) -> tuple[int, int, int, int]:  # fmt: skip
    """Walk from each facility lo..hi-1 up to `limit` metres; list the homes it reaches.

    :func:`_search` then :func:`_emit` per facility, reusing the arrays (`scratch`, from
    :func:`_scratch`, reset through the nodes touched: left as found). A full `queue` or `out`
    stops the run before facility j: returns (pairs written, j, 1 for the queue or 2 for the
    output, size needed); else (pairs, hi, 0, 0).
    """
    cnt = homes[13]
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
            for i in range(nt):
                dist[touched[i]] = np.inf
            return m, j, full, 2 * queue[0].shape[0] if full == 1 else need - m
        m = _emit(homes, same, j, fac_id[j], nt, limit, scratch, out, m)
        for i in range(nt):
            dist[touched[i]] = np.inf
    return m, hi, 0, 0


# compiled by numba (core.jit: cache in a writable place, never next to a read-only install);
# when numba does not run, _network_pairs takes scipy's path (_scipy_walks) instead, and a
# failed compilation falls back on the same code run as plain Python (slow, same answers)
bounded_walks = jit.kernel(numpy=_bounded_walks_py, uses=(_search, _emit))(_bounded_walks_py)
