"""The floating catchment's two steps run inside the walking searches (no list of pairs).

On a network with the compiled kernel, :func:`floating_catchment` sums each facility's demand
and shares as its search reaches the homes
(:func:`cdv_geo.metrics.catchment_kernels.catchment_walks`). The reference here is the other
path, computed independently in the test: every pair listed by :func:`travel_times` (itself
checked against scipy's Dijkstra and networkx), then the two steps written out in numpy.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import dijkstra
from shapely import LineString, Point

from cdv_geo.core import jit
from cdv_geo.metrics import catchment_kernels as ck
from cdv_geo.metrics import catchment_tables as ct
from cdv_geo.metrics.catchment import APL_BANDS, floating_catchment, travel_times
from cdv_geo.metrics.walking import facility_seeds
from cdv_geo.network import WalkNetwork

from .test_catchment_times import L93, X0, Y0, random_town

UPPER = np.array([t for t, _ in APL_BANDS])
WEIGHT = np.array([w for _, w in APL_BANDS])
SPEED_M_PER_MIN = 4.5 * 1000 / 60


def layers(seed: int, *, n_homes: int = 300):
    """A random town at a scale where its 1.5 km are 15 minutes of walking (the APL bands)."""
    net, homes, facs = random_town(seed, n_homes=n_homes)
    rng = np.random.default_rng(seed)
    h = gpd.GeoDataFrame(
        {"id": [f"h{i}" for i in range(len(homes))],
         "population": rng.integers(1, 40, len(homes)).astype(float)},
        geometry=homes, crs=L93,
    )  # fmt: skip
    kinds = np.array(["doctor", "ccas"])[rng.integers(0, 2, len(facs))]
    f = gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(len(facs))], "kind": kinds,
         "capacity": rng.uniform(0.5, 4.0, len(facs))},
        geometry=facs, crs=L93,
    )  # fmt: skip
    b = h.total_bounds
    q = gpd.GeoDataFrame(
        {"code": ["Q1"], "name": ["Ouest"]},
        geometry=[Point((b[0] + b[2]) / 2, (b[1] + b[3]) / 2).buffer(500)], crs=L93,
    )  # fmt: skip
    return net, h, f, q


def by_hand(net, homes, facs, limit_min=15.0):
    """The two steps written out on the pairs of travel_times: (demand per facility, access)."""
    tt = travel_times(homes, facs, network=net, max_time_min=limit_min)
    band = np.searchsorted(UPPER, tt.time_min)  # (a time on a bound: the nearer band)
    w = np.r_[WEIGHT, 0.0][band]
    pop = homes["population"].to_numpy()
    demand = np.zeros(len(facs))
    np.add.at(demand, tt.facility, w * pop[tt.home])
    ratio = np.divide(
        facs["capacity"].to_numpy(), demand, out=np.zeros(len(facs)), where=demand > 0
    )
    access = {}
    for kind in sorted(set(facs["kind"])):
        mine = (facs["kind"].to_numpy() == kind)[tt.facility]
        a = np.zeros(len(homes))
        np.add.at(a, tt.home[mine], w[mine] * ratio[tt.facility[mine]] * 1e4)
        a[~tt.placed] = np.nan
        access[kind] = a
    return demand, access


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_steps_in_the_searches_equal_the_steps_on_the_pairs(seed):
    net, homes, facs, q = layers(seed)
    got = floating_catchment(homes, facs, q, network=net)
    demand, access = by_hand(net, homes, facs)
    assert (demand > 0).sum() >= 10  # (most facilities have residents within reach)
    np.testing.assert_allclose(got.facilities["demand"].to_numpy(), demand, rtol=1e-12)
    for kind, a in access.items():
        np.testing.assert_allclose(got.homes[f"{kind}_access_per_10k"], a, rtol=1e-12, atol=0)
    # the path given the pairs (times=)
    pairs = floating_catchment(
        homes, facs, q, network=net, times=travel_times(homes, facs, network=net)
    )
    pd.testing.assert_frame_equal(got.facilities, pairs.facilities, rtol=1e-12)
    pd.testing.assert_frame_equal(got.table, pairs.table, rtol=1e-12)
    assert jit.engine() is None or ck.catchment_walks.compiled is not None  # (no fallback)


def test_growth_of_the_queue_and_the_store_gives_the_same_access(monkeypatch):
    net, homes, facs, q = layers(4, n_homes=900)
    ref = floating_catchment(homes, facs, q, network=net)
    assert ref.facilities["demand"].gt(0).sum() > 5
    real = ck._search_slice
    monkeypatch.setattr(ck, "FIRST_STORE", 0)  # (every facility outgrows the store of its search,
    monkeypatch.setattr(
        ck, "_search_slice", lambda walk, cap, *args, **kw: real(walk, 1, *args, **kw)
    )  # (and its queue)
    got = floating_catchment(homes, facs, q, network=net)
    pd.testing.assert_frame_equal(got.facilities, ref.facilities)
    pd.testing.assert_frame_equal(got.homes, ref.homes, rtol=1e-13)


def test_plain_python_run_equals_compiled(monkeypatch):
    # what runs when numba fails to compile: the same code as plain Python
    net, homes, facs, q = layers(5, n_homes=60)
    ref = floating_catchment(homes, facs, q, network=net)

    class Plain:
        compiled = True

        def __init__(self, run):
            self.run = run

        def __call__(self, *args):
            return self.run(*args)

    monkeypatch.setattr(ck, "catchment_walks", Plain(ck._catchment_walks_py))
    monkeypatch.setattr(ck, "search_walks", Plain(ck._search_walks_py))
    got = floating_catchment(homes, facs, q, network=net)
    pd.testing.assert_frame_equal(got.facilities, ref.facilities)
    pd.testing.assert_frame_equal(got.homes, ref.homes, rtol=1e-13)


def test_without_the_compiled_kernel_the_pairs_answer(monkeypatch):
    net, homes, facs, q = layers(6)
    ref = floating_catchment(homes, facs, q, network=net)

    class Missing:
        compiled = None

    monkeypatch.setattr(ck, "catchment_walks", Missing())
    got = floating_catchment(homes, facs, q, network=net)
    pd.testing.assert_frame_equal(got.facilities, ref.facilities)
    pd.testing.assert_frame_equal(got.homes, ref.homes, rtol=1e-12)
    pd.testing.assert_frame_equal(got.table, ref.table, rtol=1e-12)


def test_homes_all_off_the_network_have_no_access():
    net, homes, facs, q = layers(7, n_homes=40)
    far = homes.copy()
    far["geometry"] = far.geometry.translate(50_000, 0)  # (beyond every street's snap)
    got = floating_catchment(far, facs, q, network=net)
    assert got.homes.isna().all().all()
    assert (got.facilities["demand"] == 0).all() and got.facilities["ratio_per_10k"].isna().all()


def test_band_of_counts_the_bounds_below():
    upper = np.array([5.0, 10.0, 15.0])
    for t, b in [(0.0, 0), (5.0, 0), (np.nextafter(5.0, 6), 1), (15.0, 2), (15.01, 3),
                 (np.nan, 3), (np.inf, 3)]:  # fmt: skip
        assert ck.band_of(t, upper) == b == np.searchsorted(upper, t)


def dense_grid_town(seed: int = 8):
    """A 12 × 12 grid of 80 m blocks, 2,000 homes (about 14 per node), 5 facilities."""
    from shapely import LineString

    from cdv_geo.network import WalkNetwork

    x0, y0, side, block = 724000.0, 6919000.0, 12, 80.0
    span = (side - 1) * block
    lines = [LineString([(x0 + i * block, y0), (x0 + i * block, y0 + span)]) for i in range(side)]
    lines += [LineString([(x0, y0 + i * block), (x0 + span, y0 + i * block)]) for i in range(side)]
    net = WalkNetwork.from_lines(gpd.GeoDataFrame(geometry=lines, crs=L93), crs=L93)
    rng = np.random.default_rng(seed)
    hxy = rng.uniform(0, span, (2000, 2)) + np.array([x0, y0])
    homes = gpd.GeoDataFrame(
        {"id": [f"h{i}" for i in range(len(hxy))],
         "population": rng.integers(1, 9, len(hxy)).astype(float)},
        geometry=[Point(x, y) for x, y in hxy], crs=L93,
    )  # fmt: skip
    fxy = rng.uniform(0, span, (5, 2)) + np.array([x0, y0])
    facs = gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(5)], "kind": ["doctor"] * 5,
         "capacity": rng.uniform(0.5, 3.0, 5)},
        geometry=[Point(x, y) for x, y in fxy], crs=L93,
    )  # fmt: skip
    q = gpd.GeoDataFrame(
        {"code": ["Q1"], "name": ["Ouest"]},
        geometry=[Point(x0 + span / 4, y0 + span / 2).buffer(300)], crs=L93,
    )  # fmt: skip
    return net, homes, facs, q


def test_nodes_counted_whole_give_each_home_its_band(monkeypatch):
    # many homes per node: most nodes lie inside one band and count whole (their residents
    # and their share at once); the result is still each home's own band
    net, homes, facs, q = dense_grid_town()
    for limit in (15.0, 9.0):  # (the APL bands, and bands whose last bound cuts the grid)
        bands = ((limit / 3, 1.0), (2 * limit / 3, 0.3), (limit, 0.1))
        got = floating_catchment(homes, facs, q, network=net, bands=bands)
        tt = travel_times(homes, facs, network=net, max_time_min=limit)
        w = np.r_[[b for _, b in bands], 0.0][np.searchsorted([t for t, _ in bands], tt.time_min)]
        pop = homes["population"].to_numpy()
        demand = np.bincount(tt.facility, weights=w * pop[tt.home], minlength=len(facs))
        np.testing.assert_allclose(got.facilities["demand"], demand, rtol=1e-12)
        ratio = facs["capacity"].to_numpy() / demand
        access = np.bincount(tt.home, weights=w * ratio[tt.facility] * 1e4, minlength=len(homes))
        np.testing.assert_allclose(got.homes["doctor_access_per_10k"], access, rtol=1e-12)
    # the plain-Python run of the kernel: some nodes did count whole (their shares summed on
    # the node), and the answer is the compiled one
    shared_by_node = []

    class Spy:
        compiled = True

        def __call__(self, *args):
            out = ck._catchment_walks_py(*args)
            shared_by_node.append(float(np.abs(args[-1]).sum()))
            return out

    ref = floating_catchment(homes, facs, q, network=net)
    monkeypatch.setattr(ck, "catchment_walks", Spy())
    got = floating_catchment(homes, facs, q, network=net)
    assert sum(shared_by_node) > 0
    pd.testing.assert_frame_equal(got.homes, ref.homes, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_homes_by_node_equals_its_numpy_twin(seed):
    # the compiled numbering of the homes (two counting sorts) against numpy's stable
    # argsorts, on random placements with many homes per edge, empty edges and loops
    rng = np.random.default_rng(seed)
    n, n_edges, n_homes = 40, 90, 700
    edge_u, edge_v = rng.integers(0, n, n_edges), rng.integers(0, n, n_edges)
    edge_v[:5] = edge_u[:5]  # (loops)
    length = rng.uniform(5, 80, n_edges)
    edge = rng.integers(-1, n_edges // 2, n_homes)  # (-1: not placed; half the edges bare)
    along = rng.uniform(0, 1, n_homes) * length[edge]
    along[:20] = 0.5 * length[edge[:20]]  # (exactly halfway: the u end's group)
    snap = rng.uniform(0, 30, n_homes)
    placed = np.flatnonzero(edge >= 0)

    def run(fn):
        k = len(placed)
        out = (*(np.zeros(k, np.int64) for _ in range(3)), *(np.zeros(k) for _ in range(4)),
               np.zeros(n + 1, np.int64), np.zeros(n + 1, np.int64),
               *(np.zeros(k, np.int64) for _ in range(3)), np.zeros(n),
               np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros(k))  # fmt: skip
        fn(edge, along, snap, placed, edge_u, edge_v, length, out)
        return out

    got, ref = run(ct.homes_by_node), run(ct._homes_by_node_numpy)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_array_equal(a, b)
    # and what the numbering means, written out home by home
    h_id, h_u, h_v, _, h_snap, h_up, h_vp, u_ptr, v_ptr, v_home, v_pos, h_edge = ref[:12]
    assert sorted(h_id) == placed.tolist() and (np.diff(h_u) >= 0).all()
    for i, h in enumerate(h_id):
        x = edge[h]
        near_u = along[h] <= length[x] / 2
        assert h_edge[i] == x
        assert (h_u[i], h_v[i]) == ((edge_u[x], edge_v[x]) if near_u else (edge_v[x], edge_u[x]))
        past = along[h] if near_u else length[x] - along[h]
        assert past <= length[x] / 2 and h_up[i] == pytest.approx(past + h_snap[i])
        assert h_vp[i] == pytest.approx(length[x] - past + snap[h]) and h_snap[i] == snap[h]
        assert u_ptr[h_u[i]] <= i < u_ptr[h_u[i] + 1]
        assert v_home[v_pos[i]] == i and v_ptr[h_v[i]] <= v_pos[i] < v_ptr[h_v[i] + 1]
    for v in range(n):
        by_v = h_edge[v_home[v_ptr[v] : v_ptr[v + 1]]]
        assert ref[12][v] == (length[by_v].max() if len(by_v) else 0.0)


@pytest.mark.parametrize("limit", [300.0, 299.0, 350.0])
def test_stored_searches_reach_every_node_up_to_the_limit_inclusive(limit):
    # a street of 100 m blocks: nodes at 0, 100, 200, 300, 400 m from the facility. A node
    # reached beyond the limit less the shortest street (200 m at a limit of 300) is not
    # queued; the node at exactly 200 m is, and the one at exactly 300 m is reached
    xs = [X0 + 100.0 * i for i in range(5)]
    streets = gpd.GeoDataFrame(
        geometry=[LineString([(a, Y0), (b, Y0)]) for a, b in itertools.pairwise(xs)],
        crs=L93,
    )
    net = WalkNetwork.from_lines(streets, crs=L93)
    seeds = facility_seeds(net, np.array([Point(X0, Y0)], dtype=object), 50.0)
    _, facs, _, src = ct.sources(net, np.zeros(1, np.int64), seeds, 1)
    walk = ct.walk_arrays(net, src, facs, limit)
    assert walk[0][3] == limit - 100.0  # (the last bound queued)
    ptr, node, metres = ck._search_slice(
        walk, 64, 0, 1, ck._store(1), state={"scratch": ck._scratch(walk, 1)}
    )
    got = dict(zip(node[: ptr[1]].tolist(), metres[: ptr[1]].tolist(), strict=True))
    start = int(np.argmin(np.hypot(*(net.node_xy - [X0, Y0]).T)))
    ref = dijkstra(net.csr, indices=start, limit=limit)
    want = {int(v): float(ref[v]) for v in np.flatnonzero(ref <= limit)}
    assert got == pytest.approx(want)
    assert sorted(want.values()) == [100.0 * i for i in range(int(limit // 100) + 1)]


def test_z_order_interleaves_the_bits_of_the_grid_coordinates():
    # the Morton code written out bit by bit in plain Python, on the same 16-bit grid
    # (random points, and a dense corner whose order turns on the lowest bits)
    rng = np.random.default_rng(7)
    dense = np.array([(i, j) for i in range(8) for j in range(8)], dtype=float)
    xy = np.r_[rng.uniform(0, 65535, (300, 2)), dense, [[65535.0, 65535.0]]]
    q = ((xy - xy.min(axis=0)) / np.ptp(xy, axis=0) * 65535).astype(np.int64)
    code = [sum(((x >> b) & 1) << (2 * b) | ((y >> b) & 1) << (2 * b + 1) for b in range(16))
            for x, y in q.tolist()]  # fmt: skip
    assert ct.z_order(xy).tolist() == sorted(range(len(xy)), key=code.__getitem__)


def test_node_tables_equal_their_numpy_twin():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 4, 50)  # (nodes without homes among them)
    u_ptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    k = int(u_ptr[-1])
    demand, back, up = rng.uniform(0, 9, k), rng.uniform(-5, 5, k), rng.uniform(0, 9, k)
    got, ref = [np.full(50, -1.0) for _ in range(3)], [np.full(50, -1.0) for _ in range(3)]
    ct.node_tables(u_ptr, demand, back, up, *got)
    ct._node_tables_numpy(u_ptr, demand, back, up, *ref)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-15)
    u = int(np.flatnonzero(counts == 3)[0])
    assert got[0][u] == pytest.approx(demand[u_ptr[u] : u_ptr[u + 1]].sum())
    assert (got[1][counts == 0] == -1.0).all()  # (left as found)


def test_two_phases_emit_every_slice_once_after_its_search():
    log = []

    def search(lo, hi, state):
        log.append(("search", lo))
        return lo * 10

    def emit(lo, hi, found, state):
        assert found == lo * 10 and ("search", lo) in log and ("prepared", 0) in log
        log.append(("emit", lo))

    states = ck.two_phases(200, search, lambda: log.append(("prepared", 0)), emit, dict)
    slices = ck.slices(200)
    assert len(slices) > 1
    assert sorted(lo for what, lo in log if what == "emit") == [lo for lo, _ in slices]
    assert sorted(lo for what, lo in log if what == "search") == [lo for lo, _ in slices]
    assert 1 <= len(states) <= len(slices)


@pytest.mark.parametrize("where", ["search", "prepare", "emit"])
def test_two_phases_raise_an_error_of_any_thread(where):
    def fail(step):
        def run(*args):
            if step == where:
                raise RuntimeError(f"broken {step}")

        return run

    with pytest.raises(RuntimeError, match=f"broken {where}"):
        ck.two_phases(200, fail("search"), fail("prepare"), fail("emit"), dict)


def test_a_thread_that_only_sums_gets_its_own_arrays(monkeypatch):
    # the searches all taken by other threads: a thread's first slice may be a sum; here
    # every slice is searched in one state and summed in a fresh one
    net, homes, facs, q = layers(9, n_homes=500)
    ref = floating_catchment(homes, facs, q, network=net)

    def apart(k, search, prepare, emit, new_state):
        found = [search(lo, hi, new_state()) for lo, hi in ck.slices(k)]
        prepare()
        states = [new_state() for _ in found]
        for (lo, hi), f, state in zip(ck.slices(k), found, states, strict=True):
            emit(lo, hi, f, state)
        return states

    monkeypatch.setattr(ck, "two_phases", apart)
    got = floating_catchment(homes, facs, q, network=net)
    pd.testing.assert_frame_equal(got.facilities, ref.facilities)
    pd.testing.assert_frame_equal(got.homes, ref.homes, rtol=1e-12)


def test_started_is_called_once_when_the_searches_run():
    from cdv_geo.metrics.catchment_times import catchment_sums, place_walks

    net, homes, facs, q = layers(10, n_homes=200)
    calls = []
    sel = facs[facs["kind"] == "doctor"]
    kinds = (np.zeros(len(sel), np.int64), 1)
    args = dict(bands=(UPPER, WEIGHT), demand=homes["population"].to_numpy(),
                supply=sel["capacity"].to_numpy(), kinds=kinds)  # fmt: skip
    p = place_walks(homes, sel, network=net, max_time_min=15.0)
    got = catchment_sums(p, **args, started=lambda: calls.append(1))
    assert got is not None and calls == [1]
    # nobody on the network: no search, no call (the caller finds the rows itself)
    far = homes.copy()
    far["geometry"] = far.geometry.translate(50_000, 0)
    p = place_walks(far, sel, network=net, max_time_min=15.0)
    got = catchment_sums(p, **args, started=lambda: calls.append(2))
    assert got is not None and calls == [1] and not got[3].any()
    # and a catchment's rows are the same either way (found in a side thread once the
    # searches run, or here when nobody reaches the network)
    on = floating_catchment(homes, facs, q, network=net).table
    off = floating_catchment(homes, facs, q, network=net, max_snap_m=1e-9).table
    assert on["n_homes"].gt(0).any() and (off["n_unreachable"] == off["n_homes"]).all()
    pd.testing.assert_series_equal(on["n_homes"], off["n_homes"])
    pd.testing.assert_series_equal(on["n_residents"], off["n_residents"])
