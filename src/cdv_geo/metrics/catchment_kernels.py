"""Compiled bounded searches of the floating catchments (:mod:`cdv_geo.metrics.catchment_times`).

One search per facility up to the limit (a bucket queue: Dial's buckets, Δ-stepping), then the
homes of the nodes it reached; numba, releasing the GIL, the facilities shared between threads.
Two uses of the same walk:

* :func:`compiled_pairs` lists the (home, facility, distance) pairs
  (:func:`~cdv_geo.metrics.catchment_times.travel_times`); its numpy path is scipy's Dijkstra
  (the same pairs);
* :func:`compiled_catchment` runs the two steps of a floating catchment on each search,
  without the list (:func:`~cdv_geo.metrics.catchment_times.catchment_sums`): the searches
  first (:func:`search_walks`, storing the nodes reached, started while the homes are
  numbered), then the steps (:func:`catchment_walks`); without numba, the two steps run on
  the pairs instead.

A failed compilation runs the same code as plain Python (slow, same answers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cdv_geo.core import jit
from cdv_geo.metrics.catchment_tables import home_arrays, node_tables, walk_arrays
from cdv_geo.metrics.catchment_threads import in_threads, slices, two_phases
from cdv_geo.network import WalkNetwork

__all__ = [
    "band_of",
    "bounded_walks",
    "catchment_walks",
    "compiled_catchment",
    "compiled_pairs",
    "search_walks",
]

#: Nodes reached stored per facility at first (:func:`search_walks` asks for more).
FIRST_STORE = 2048


def compiled_pairs(
    net: WalkNetwork, placement: Any, seeds: Any, placed: np.ndarray, facs: np.ndarray,
    vpos: np.ndarray, sources: Any, limit_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Run :func:`bounded_walks` on slices of the facilities, in threads; concatenate."""
    fixed = _fixed(net, placement, seeds, placed, facs, vpos, sources, limit_m)
    cap = len(net.csr.indices) + len(sources[1]) + 1
    done = in_threads(len(facs), lambda lo, hi, state: _walk_slice(fixed, cap, lo, hi, state=state))
    parts = [p for i in range(len(done)) for p in done[i][0]]
    return tuple(np.concatenate(a) for a in zip(*parts, strict=True))  # type: ignore[return-value]


def compiled_catchment(
    net: WalkNetwork, placement: Any, seeds: Any, placed: np.ndarray, facs: np.ndarray,
    vpos: np.ndarray, sources: Any, limit_m: float, steps: Any, *,
    started: Callable[[], Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Run :func:`search_walks` then :func:`catchment_walks` on slices of the facilities.

    `steps` is (metres per minute, band bounds, band weights, demand per home, supply,
    kind per facility, number of kinds, number of homes). Returns the facilities' weighted
    demand and ratio (0 without demand) and the homes' access per 10,000 (flat, home × kind),
    as the two steps on the pairs give them.

    Two phases (:func:`~cdv_geo.metrics.catchment_threads.two_phases`): the searches need
    only the graph and the facilities, so the other threads start them while this one
    builds the homes' tables; then every thread sums the slices searched. `started` is
    called as this thread starts on the tables (compiled code, like the searches: no thread
    needs the GIL then).
    """
    m_per_min, upper, weight, demand, supply, fac_kind, n_kinds, n_homes = steps
    walk = walk_arrays(net, sources, facs, limit_m)
    n, nk = net.n_nodes, int(n_kinds)
    fac_demand, ratio = np.zeros(len(supply)), np.zeros(len(supply))
    ready: dict[str, Any] = {}

    def prepare() -> None:
        if started is not None:
            started()
        homes, same = home_arrays(net, placement, seeds, placed, facs, vpos)
        # the homes numbered in the searches' order (by node): the homes a search reaches
        # lie near each other, and so do their demand and access (read and summed so)
        h_id = homes[12]  # (the list by other end numbers them by place: its order, v_home)
        homes = (*homes[:6], homes[15], *homes[7:12], np.arange(len(h_id)), *homes[13:])
        local_demand = np.asarray(demand, dtype=float)[h_id]
        # per node, its group of homes: residents, and the bounds of their walks past it
        # (a walk by the other end is no shorter than d(node) - (past - snap): see
        # _catchment_walks_py)
        node_dem, node_back, node_up = np.zeros(n), np.zeros(n), np.zeros(n)
        node_tables(homes[0], local_demand, homes[2] - 2.0 * homes[11], homes[2],
                    node_dem, node_back, node_up)  # fmt: skip
        ready["homes"], ready["same"], ready["h_id"] = homes, same, h_id
        ready["nodes"] = (node_dem, node_back, node_up)
        ready["shared"] = (
            float(m_per_min), np.asarray(upper, dtype=float),
            np.r_[np.asarray(weight, float), 0.0], local_demand,
            np.asarray(supply, dtype=float), np.asarray(fac_kind, dtype=np.int64), nk,
            fac_demand, ratio,
        )  # fmt: skip

    # (every thread's arrays made here, in the calling thread: memory that this thread's
    # allocator hands back from one call to the next, not pages mapped afresh each time)
    cap = len(net.csr.indices) + len(sources[1]) + 1
    stores = {lo: _store(hi - lo) for lo, hi in slices(len(facs))}

    def new_state() -> dict[str, Any]:
        return {
            "scratch": _scratch(walk, len(placed)),
            # (one facility's pairs: it lists a home at most once)
            "buffer": _pair_buffer(len(placed)), "access": np.zeros(len(placed) * nk),
            "node_access": np.zeros(n * nk),
            "node_bands": (np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)),
        }  # fmt: skip

    def search(lo: int, hi: int, state: dict[str, Any]) -> Any:
        return _search_slice(walk, cap, lo, hi, stores.pop(lo), state=state)

    def emit(lo: int, hi: int, store: Any, state: dict[str, Any]) -> None:
        state["nodes"] = (*ready["nodes"], *state["node_bands"])
        catchment_walks(
            ready["homes"], ready["same"], walk[2], walk[3], state["scratch"], state["buffer"],
            store, lo, hi, *ready["shared"], state["nodes"], state["access"],
            state["node_access"],
        )  # fmt: skip

    states = two_phases(len(facs), search, prepare, emit, new_state)
    homes, h_id = ready["homes"], ready["h_id"]
    by_home, by_node = states[0]["access"], states[0]["node_access"]
    for state in states[1:]:
        by_home += state["access"]
        by_node += state["node_access"]
    by_home = by_home.reshape(-1, nk)
    by_home += by_node.reshape(-1, nk)[homes[1]]  # (a node's share: to its group's homes)
    access = np.zeros((int(n_homes), nk))
    access[h_id] = by_home
    return fac_demand, ratio, access.ravel()


def _fixed(
    net: WalkNetwork, placement: Any, seeds: Any, placed: np.ndarray, facs: np.ndarray,
    vpos: np.ndarray, sources: Any, limit_m: float,
) -> tuple[Any, ...]:  # fmt: skip
    """Return the searches' read-only arrays: graph, sources, homes by node, facilities' edges."""
    graph, src, fac_id, limit, width = walk_arrays(net, sources, facs, limit_m)
    homes, same = home_arrays(net, placement, seeds, placed, facs, vpos)
    return graph, src, homes, same, fac_id, limit, width


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
    if "pool" not in state:
        state["pool"] = _queue(pool_cap)
        state["scratch"] = _scratch(fixed, len(fixed[2][2]))
    while lo < hi:
        # (positions as int32: the pair list is the largest array of a run)
        out = _pair_buffer(out_cap)
        m, lo, full, need = bounded_walks(*fixed, state["pool"], state["scratch"], out, lo, hi)
        parts.append((out[0][:m], out[1][:m], out[2][:m]))
        if full == 1:
            state["pool"] = _queue(max(2 * len(state["pool"][0]), need))
        elif full == 2:
            out_cap = max(2 * out_cap, need)
    return parts


def _search_slice(
    walk: tuple[Any, ...], pool_cap: int, lo: int, hi: int, found: Any, *,
    state: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Run :func:`search_walks` for facilities lo..hi-1, growing its arrays when it asks.

    `found` is the store to fill (:func:`_store`), `state` holds the thread's scratch and
    queue (made at first of `pool_cap` entries). Returns the nodes each search reached
    (start of facility lo + i at ``ptr[i]``, node, metres).
    """
    if "pool" not in state:  # (only its first entries are written: no need to map it all)
        state["pool"] = _queue(pool_cap)
    ptr, node, metres = found
    j = lo
    while j < hi:
        j, full, need = search_walks(*walk, state["pool"], state["scratch"],
                                     (ptr, node, metres), lo, j, hi)  # fmt: skip
        if full == 1:
            state["pool"] = _queue(max(2 * len(state["pool"][0]), need))
        elif full == 2:
            size = max(2 * len(node), need)
            node, metres = np.resize(node, size), np.resize(metres, size)  # (kept, then room)
    return ptr, node, metres


def _store(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return an empty store of the nodes that k searches reach (:func:`search_walks`)."""
    return (
        np.zeros(k + 1, dtype=np.int64),
        np.empty(FIRST_STORE * k, np.int32),
        np.empty(FIRST_STORE * k),
    )


def _queue(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the search's queue: node, distance, next entry of the same bucket."""
    return np.empty(size, np.int64), np.empty(size), np.empty(size, np.int64)


def _pair_buffer(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (home, facility or band, metres); int32 positions (the largest arrays of a run)."""
    return np.empty(size, np.int32), np.empty(size, np.int32), np.empty(size)


def _scratch(walk: tuple[Any, ...], n_homes: int) -> tuple[np.ndarray, ...]:
    """Scratch arrays of the walks: distances, nodes touched, buckets, own-edge walks, flags.

    `walk` starts with the graph and ends with the limit and the buckets' width
    (:func:`~cdv_geo.metrics.catchment_tables.walk_arrays` or :func:`_fixed`); `n_homes` is
    the number of homes placed.
    """
    graph, limit, width = walk[0], walk[-2], walk[-1]
    n = graph[0].shape[0] - 1
    return (
        np.full(n, np.inf), np.empty(n, dtype=np.int64),
        np.full(int(limit * (1.0 / width)) + 2, -1, dtype=np.int64), np.full(n_homes, np.inf),
        np.full(n_homes, np.inf), np.zeros(n, dtype=np.bool_),
    )  # fmt: skip


@jit.helper
def _search(
    graph: Any, src: Any, j: int, limit: float, width: float, scratch: Any, queue: Any
) -> tuple[int, int, int]:
    """Distances from facility j up to `limit` (Dial's buckets of `width` metres; Δ-stepping).

    A node whose distance drops again (an edge shorter than a bucket) is taken again: every
    node ends at its shortest distance, the same floats as Dijkstra's (the least sum over
    paths). A node reached beyond the graph's last bound (the limit less the shortest
    street: :func:`~cdv_geo.metrics.catchment_tables.walk_arrays`) leads nowhere within
    the limit: it is not queued. Returns (nodes touched, 1 when the queue is full
    (stopped), last bucket used).
    """
    indptr, indices, data, last = graph
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
                    if nd > last:
                        continue  # (no street leads on within the limit: not queued)
                    c = int(nd * per_m)
                    q_node[nq], q_key[nq], q_next[nq] = v, nd, head[c]
                    head[c] = nq
                    nq += 1
                    top = max(top, c)
        b += 1
    return nt, 0, top


@jit.helper
def _group_of(same: Any, s: int, end: int) -> int:
    """Group node of end 0 or 1 of facility seed s's edge; -1 for end 1 of a loop."""
    a, b = same[2][s], same[3][s]
    return a if end == 0 else (-1 if b == a else b)


@jit.helper
def _mark_own(
    homes: Any, same: Any, j: int, direct: np.ndarray, v_direct: np.ndarray, own: np.ndarray
) -> None:
    """Set the walks straight along facility j's own edges of their homes; flag their groups.

    The homes of an edge are in the groups of its two ends (:func:`_group_of`).
    """
    u_ptr, v_pos, h_along, h_snap, h_edge = homes[0], homes[9], homes[10], homes[11], homes[16]
    for s in range(same[0][j], same[0][j + 1]):
        x, sd_along, sd_off = same[1][s], same[4][s], same[5][s]
        for end in range(2):
            g = _group_of(same, s, end)
            if g < 0:
                continue
            for h in range(u_ptr[g], u_ptr[g + 1]):
                if h_edge[h] == x:
                    c = np.abs(h_along[h] - sd_along) + sd_off + h_snap[h]
                    if c < direct[h]:
                        direct[h] = v_direct[v_pos[h]] = c  # (by home, and in the other list)
                    own[g] = True


@jit.helper
def _unmark_own(
    homes: Any, same: Any, j: int, f: int, limit: float, dist: np.ndarray, direct: np.ndarray,
    v_direct: np.ndarray, own: np.ndarray, out: Any, m: int,
) -> int:  # fmt: skip
    """Undo :func:`_mark_own`, writing the homes reached only along the edge; return m."""
    u_ptr, h_u, h_v, v_pos, h_id, h_edge = (
        homes[0], homes[1], homes[3], homes[9], homes[12], homes[16],
    )  # fmt: skip
    out_h, out_f, out_d = out
    for s in range(same[0][j], same[0][j + 1]):
        x = same[1][s]
        for end in range(2):
            g = _group_of(same, s, end)
            if g < 0:
                continue
            own[g] = False
            for h in range(u_ptr[g], u_ptr[g + 1]):
                c = direct[h]
                if h_edge[h] == x and c < np.inf:
                    # (a home whose edge ends are both out of reach, yet near along the edge)
                    if c <= limit and dist[h_u[h]] == np.inf and dist[h_v[h]] == np.inf:
                        out_h[m], out_f[m], out_d[m] = h_id[h], f, c
                        m += 1
                    direct[h] = v_direct[v_pos[h]] = np.inf
    return m


@jit.helper
def _emit(
    homes: Any, same: Any, j: int, f: int, nt: int, limit: float, scratch: Any, out: Any,
    m: int, nodes: Any,
) -> tuple[int, int, float]:  # fmt: skip
    """Write the homes that facility j (id `f`) reaches; return (pairs written, nodes, sum).

    `nodes` is (on, band bounds in metres, band weights then 0, per node: residents,
    lower and upper bounds of its homes' walks past the node, and two buffers). When `on`,
    a reached node whose homes (its group) all fall in one band (see
    :func:`_catchment_walks_py`) is written whole to the buffers (node, band) instead of
    home by home, and its residents weighted by the band are summed (returned); a node whose
    homes all lie beyond the last band is left out. Else every home is written.
    """
    u_ptr, _, h_up, h_v, h_vp, v_ptr, v_id, v_u, v_cost = homes[:9]
    h_id, v_long = homes[12], homes[14]
    dist, touched, direct, v_direct, own = (
        scratch[0],
        scratch[1],
        scratch[3],
        scratch[4],
        scratch[5],
    )
    on, upper_m, w, node_dem, node_back, node_up, node_u, node_b = nodes
    n_bands, eps = upper_m.shape[0], limit * 1e-9  # (a margin: the bounds are sums of floats)
    out_h, out_f, out_d = out
    _mark_own(homes, same, j, direct, v_direct, own)  # (their walk straight along it)
    nn, total = 0, 0.0
    for i in range(nt):
        u = touched[i]
        du = dist[u]
        lo, hi = u_ptr[u], u_ptr[u + 1]
        if on:
            # the band of the lowest and of the highest bound of the node's homes' walks:
            # counted whole when they agree (or all beyond), unless a walk along the
            # facility's own edge may be shorter (no branch: they are not predictable)
            lb = band_of(du - node_back[u] - eps, upper_m)
            hb = band_of(du + node_up[u] + eps, upper_m)
            whole = (hi > lo) & (not own[u]) & ((lb == hb) | (lb == n_bands))
            node_u[nn], node_b[nn] = u, lb
            total += w[lb] * node_dem[u] * whole
            nn += whole & (lb < n_bands)
            lo = hi if whole else lo
        along_edge = own[u]  # (a home of the facility's own edges may walk straight along it)
        for h in range(lo, hi):
            c = min(du + h_up[h], dist[h_v[h]] + h_vp[h])
            if along_edge:
                c = min(c, direct[h])
            if c <= limit:
                out_h[m], out_f[m], out_d[m] = h_id[h], f, c
                m += 1
        if du + v_long[u] <= limit:
            continue  # (the group nodes of u's homes by other end are reached: listed there)
        for x in range(v_ptr[u], v_ptr[u + 1]):
            if dist[v_u[x]] == np.inf:  # (else listed by its group node)
                c = min(du + v_cost[x], v_direct[x])
                if c <= limit:
                    out_h[m], out_f[m], out_d[m] = v_id[x], f, c
                    m += 1
    m = _unmark_own(homes, same, j, f, limit, dist, direct, v_direct, own, out, m)
    return m, nn, total


@jit.helper
def _pairs_bound(
    same: Any, u_ptr: np.ndarray, cnt: np.ndarray, touched: np.ndarray, j: int, nt: int
) -> int:
    """Most pairs facility j can list: the homes of the nodes reached and of its own edges."""
    need = 0
    for s in range(same[0][j], same[0][j + 1]):
        for g in (same[2][s], same[3][s]):
            need += u_ptr[g + 1] - u_ptr[g]
    for i in range(nt):
        need += cnt[touched[i]]
    return need


@jit.helper
def band_of(t: float, upper: np.ndarray) -> int:
    """Position of the first bound >= t (len(upper): beyond every bound, or NaN).

    The bounds increase: the count of bounds below t, without a branch (the bands of
    successive pairs are not predictable).

    Examples
    --------
    >>> import numpy as np
    >>> [band_of(t, np.array([5.0, 10.0])) for t in (5.0, 5.5, 10.0, 11.0, float("nan"))]
    [0, 1, 1, 2, 2]
    """
    b = 0
    for k in range(upper.shape[0]):
        b += not t <= upper[k]
    return b


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
    u_ptr, cnt = homes[0], homes[13]
    dist, touched, head = scratch[0], scratch[1], scratch[2]
    no_f, no_i = np.empty(0), np.empty(0, dtype=np.int64)
    off = (False, no_f, no_f, no_f, no_f, no_f, no_i, no_i)  # (every home written)
    m = 0
    for j in range(lo, hi):
        nt, full, top = _search(graph, src, j, limit, width, scratch, queue)
        need = m + _pairs_bound(same, u_ptr, cnt, touched, j, nt)
        if full == 0 and need > out[0].shape[0]:
            full = 2
        if full != 0:
            head[: top + 1] = -1
            for i in range(nt):
                dist[touched[i]] = np.inf
            return m, j, full, 2 * queue[0].shape[0] if full == 1 else need - m
        m = _emit(homes, same, j, fac_id[j], nt, limit, scratch, out, m, off)[0]
        for i in range(nt):
            dist[touched[i]] = np.inf
    return m, hi, 0, 0


def _search_walks_py(
    graph: Any, src: Any, fac_id: np.ndarray, limit: float, width: float, queue: Any,
    scratch: Any, found: Any, lo: int, start: int, hi: int,
) -> tuple[int, int, int]:  # fmt: skip
    """Walk from each facility start..hi-1 up to `limit` metres; store the nodes reached.

    :func:`_search` per facility; facility lo + i's nodes and distances go to
    ``found = (ptr, node, metres)`` from ``ptr[i]`` (``ptr[0]`` is 0), and `scratch` is
    left as found. A full `queue` or store stops the run before facility j: returns (j, 1
    for the queue or 2 for the store, size needed); else (hi, 0, 0).
    """
    ptr, node, metres = found
    dist, touched, head = scratch[0], scratch[1], scratch[2]
    for j in range(start, hi):
        nt, full, top = _search(graph, src, j, limit, width, scratch, queue)
        m = ptr[j - lo]
        if full == 0 and m + nt > node.shape[0]:
            full = 2
        if full != 0:
            head[: top + 1] = -1
            for i in range(nt):
                dist[touched[i]] = np.inf
            return j, full, 2 * queue[0].shape[0] if full == 1 else m + nt
        for i in range(nt):
            u = touched[i]
            node[m + i] = u
            metres[m + i] = dist[u]
            dist[u] = np.inf
        ptr[j - lo + 1] = m + nt
    return hi, 0, 0


def _catchment_walks_py(
    homes: Any, same: Any, fac_id: np.ndarray, limit: float, scratch: Any, buf: Any,
    found: Any, lo: int, hi: int, m_per_min: float, upper: np.ndarray,
    w: np.ndarray, demand: np.ndarray, supply: np.ndarray, fac_kind: np.ndarray,
    n_kinds: int, fac_demand: np.ndarray, ratio: np.ndarray, nodes: Any,
    access: np.ndarray, node_access: np.ndarray,
) -> None:  # fmt: skip
    """Run the two steps of a floating catchment on the searches of facilities lo..hi-1.

    `found` holds the nodes each search reached and their distances
    (:func:`search_walks`, facility lo + i from ``ptr[i]``). Step 1 (``fac_demand``,
    ``ratio``) and step 2 (shares per 10,000: ``access`` per home, flat home × kind, and
    ``node_access`` per node) facility by facility, without a list of pairs. The homes of
    a reached node u's group (those whose street's nearer end is u, `past` metres along
    it) all lie between d(u) - max(past - snap) and d(u) + max(past + snap) (a walk by
    the other end v is no shorter than d(u) - edge + the rest of the edge, as v's own
    distance is no less than d(u) - edge; grouping by the nearer end keeps `past` under
    half the edge, and the bounds close): when both bounds fall in one band, the node
    counts whole, its residents (`nodes`: demand, bounds per node) weighted by that band
    and its share summed once on the node (``node_access``); else each home counts, as its
    walk gives it (:func:`_emit`, into `buf`). A node of the facility's own edges (a walk
    straight along the edge) always counts home by home. `w` holds the bands' weights then
    0 (beyond the last bound). `buf` holds as many pairs as there are homes (a facility
    lists a home at most once).
    """
    dist, touched = scratch[0], scratch[1]
    ptr, node, metres = found
    pair_home, pair_band, pair_m = buf
    node_u, node_b = nodes[3], nodes[4]
    whole = (True, upper * m_per_min, w, *nodes)  # (the bounds in metres)
    for j in range(lo, hi):
        a = ptr[j - lo]
        nt = ptr[j - lo + 1] - a
        for i in range(nt):
            u = node[a + i]
            touched[i] = u
            dist[u] = metres[a + i]
        f = fac_id[j]
        m, nn, total = _emit(homes, same, j, f, nt, limit, scratch, buf, 0, whole)
        for i in range(nt):
            dist[touched[i]] = np.inf
        for p in range(m):
            b = band_of(pair_m[p] / m_per_min, upper)  # (the minutes of travel_times)
            pair_band[p] = b
            total += w[b] * demand[pair_home[p]]
        fac_demand[f] = total
        if total > 0:
            r = supply[f] / total
            ratio[f] = r
            k = fac_kind[f]
            for p in range(m):
                access[pair_home[p] * n_kinds + k] += w[pair_band[p]] * r * 10_000.0
            for q in range(nn):
                node_access[node_u[q] * n_kinds + k] += w[node_b[q]] * r * 10_000.0


# compiled by numba (core.jit: cache in a writable place, never next to a read-only install);
# when numba does not run, _network_pairs takes scipy's path (_scipy_walks) instead, and a
# failed compilation falls back on the same code run as plain Python (slow, same answers)
_WALK_HELPERS = (_search, _emit, _pairs_bound, band_of, _group_of, _mark_own, _unmark_own)
bounded_walks = jit.kernel(numpy=_bounded_walks_py, uses=_WALK_HELPERS)(_bounded_walks_py)
catchment_walks = jit.kernel(numpy=_catchment_walks_py, uses=_WALK_HELPERS)(_catchment_walks_py)
search_walks = jit.kernel(numpy=_search_walks_py, uses=_WALK_HELPERS)(_search_walks_py)
