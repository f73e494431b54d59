"""Tests of the public routing steps of WalkNetwork: snap_xy, route, reach (used by metrics)."""

from __future__ import annotations

import threading

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely import LineString

from cdv_geo.core.errors import NetworkError
from cdv_geo.network import Routes, WalkNetwork
from cdv_geo.network.routing import adjacency, reach, route
from cdv_geo.network.snapping import SharedQuery

L93 = "EPSG:2154"


# A (0,0) --100-- B (100,0) --50-- C (150,0);  B --80-- D (100,80)
def net4():
    return WalkNetwork(
        np.array([[0.0, 0.0], [100.0, 0.0], [150.0, 0.0], [100.0, 80.0]]),
        [0, 1, 1],
        [1, 2, 3],
        crs=L93,
    )


def test_snap_xy_by_hand_and_threads_do_not_change_it():
    net = net4()
    xy = np.array([[30.0, 4.0], [120.0, -3.0], [103.0, 60.0], [500.0, 500.0], [np.nan, 0.0]])
    edge, along, dist = net.snap_xy(xy, max_snap_m=100.0)
    assert edge.tolist() == [0, 1, 2, -1, -1]
    assert along[:3].tolist() == [30.0, 20.0, 60.0]
    assert dist[:3].tolist() == [4.0, 3.0, 3.0]
    assert np.isnan(along[3:]).all() and np.isnan(dist[3:]).all()
    one = net.snap_xy(xy, max_snap_m=100.0, parallel=False)
    for a, b in zip((edge, along, dist), one, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(NetworkError, match="max_snap_m must be a distance >= 0"):
        net.snap_xy(xy, max_snap_m=-1)


def test_route_and_reach_by_hand():
    net = net4()
    # seed 0: 30 m from A on A-B, reached after 5 m; seed 1: 20 m from B on B-D, after 0 m
    r = net.route(np.array([0, 2]), np.array([30.0, 20.0]), np.array([5.0, 0.0]))
    assert isinstance(r, Routes)
    # A: 5 + 30 = 35 (seed 0); B: min(5 + 70, 20) = 20 (seed 1); C: 20 + 50 = 70; D: 60
    assert r.dist.tolist() == [35.0, 20.0, 70.0, 60.0]
    assert r.seed.tolist() == [0, 1, 1, 1]
    # a point 10 m from B on B-C: via B 20 + 10 = 30 (via C 70 + 40)
    d, s = net.reach(r, np.array([1]), np.array([10.0]))
    assert d.tolist() == [30.0] and s.tolist() == [1.0]
    capped = net.route(np.array([0]), np.array([30.0]), limit=50.0)
    assert capped.dist[0] == 30.0 and np.isinf(capped.dist[2]) and capped.seed[2] == -1
    with pytest.raises(NetworkError, match="without the -1 of unreachable points"):
        net.route(np.array([-1]), np.array([0.0]))
    empty = net.route(np.array([], dtype=int), np.array([]))
    assert np.isinf(empty.dist).all() and (empty.seed == -1).all()


def test_route_equals_networkx_with_the_seeds_as_nodes():
    rng = np.random.default_rng(7)
    n = 40
    xy = rng.uniform(0, 1000, (n, 2))
    u = np.r_[np.arange(1, n), rng.integers(0, n, 30)]
    v = np.r_[[rng.integers(0, i) for i in range(1, n)], rng.integers(0, n, 30)]
    keep = u != v
    net = WalkNetwork(xy, u[keep], v[keep], crs=L93, largest_component=False)
    g = nx.Graph()
    for a, b, w in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        if not g.has_edge(a, b) or g[a][b]["w"] > w:
            g.add_edge(int(a), int(b), w=float(w))
    seeds_e = np.array([0, 5, 11])
    seeds_a = net.edge_length[seeds_e] * np.array([0.25, 0.5, 0.9])
    for k, (e, a) in enumerate(zip(seeds_e, seeds_a, strict=True)):
        g.add_edge(("s", k), int(net.edge_u[e]), w=float(a))
        g.add_edge(("s", k), int(net.edge_v[e]), w=float(net.edge_length[e] - a))
    r = net.route(seeds_e, seeds_a)
    ref = nx.multi_source_dijkstra_path_length(g, {("s", k) for k in range(3)}, weight="w")
    for node in range(net.n_nodes):
        assert r.dist[node] == pytest.approx(ref[node], abs=1e-9)


def test_adjacency_keeps_the_shortest_parallel_edge_and_route_from_csr():
    m = adjacency(3, np.array([0, 0, 1]), np.array([1, 1, 2]), np.array([5.0, 3.0, 2.0]))
    assert m.toarray().tolist() == [[0.0, 3.0, 0.0], [3.0, 0.0, 2.0], [0.0, 2.0, 0.0]]
    r = route(m, np.array([2]), np.array([1]), np.array([1.0]), np.array([4.0]))
    # virtual seed: 1 m to node 2, 4 m to node 1; node 1: min(4, 1 + 2) = 3; node 0: 6
    assert r.dist.tolist() == [6.0, 3.0, 1.0]
    assert r.table.tolist() == [[6.0, 0.0], [3.0, 0.0], [1.0, 0.0]]


def test_snapping_index_reports_its_memory():
    assert net4().snapping_index.nbytes > 0


def test_snap_ties_go_to_the_first_edge_and_the_query_says_when_it_starts():
    # two parallel streets 10 m apart, given in either order: a point halfway between them
    # (exactly 5 m from each) goes to the first edge of the layer
    for order in ([0, 1], [1, 0]):
        lines = [LineString([(0, 0), (100, 0)]), LineString([(0, 10), (100, 10)])]
        streets = gpd.GeoDataFrame(geometry=[lines[i] for i in order], crs=L93)
        net = WalkNetwork.from_lines(streets, crs=L93)
        edge, _along, dist = net.snap_xy(np.array([[50.0, 5.0], [20.0, 2.0]]))
        assert dist.tolist() == [5.0, 2.0]
        assert edge[0] == 0
        assert shapely.get_coordinates(net.edge_geometry[edge[1]])[:, 1].tolist() == [0.0, 0.0]
    started = threading.Event()
    SharedQuery(net.snapping_index, np.array([[50.0, 5.0]]), 100.0).forward(started)
    assert started.is_set()


def test_reach_takes_the_nearer_end_and_gives_nan_for_a_missing_position():
    r = Routes(np.array([0.0, 100.0, 40.0]), np.array([0, 0, 1]))
    uv = np.array([[0, 1], [1, 2]])
    length = np.array([100.0, 80.0])
    d, s = reach(r, uv, length, np.array([0, 1, 1, 1]), np.array([30.0, 10.0, 70.0, np.nan]))
    # edge 1 from node 1 (100 m, seed 0) to node 2 (40 m, seed 1), 80 m long
    assert d[:3].tolist() == [30.0, 110.0, 50.0]
    assert s[:3].tolist() == [0.0, 0.0, 1.0]
    assert np.isnan(d[3])


def test_a_shared_query_answers_every_point_whichever_pass_runs_first():
    rng = np.random.default_rng(3)
    net = net4()
    xy = rng.uniform(-50, 200, (1_000, 2))  # 8 blocks of 128 points, some beyond 100 m
    xy[17] = np.nan
    expected = net.snapping_index.nearest(xy, 100.0)
    for passes in (["backward"], ["forward"], ["backward", "forward"], ["forward", "backward"]):
        q = SharedQuery(net.snapping_index, xy, 100.0)
        for name in passes:
            getattr(q, name)()
        for got, want in zip(q.result(), expected, strict=True):
            np.testing.assert_array_equal(got, want)
    # a backward pass that stops where the forward one has been: blocks 0-2 taken forward
    q = SharedQuery(net.snapping_index, xy, 100.0)
    q.progress[:] = [0, 3]
    q.forward()  # takes blocks 0, 1, 2 and stops at the backward pass's claim
    assert q.progress.tolist() == [3, 3]
    q.progress[1] = 8  # (as if the backward pass had not started)
    q.backward()  # takes blocks 7 down to 3
    assert q.progress.tolist() == [3, 3]
    for got, want in zip(q.result(), expected, strict=True):
        np.testing.assert_array_equal(got, want)
