"""Tests of cdv_geo.core.threads and of the steps it cuts in chunks.

Chunked results are compared with networkx (distances from the nodes) and with the same call
made in one piece: the number of threads must never change an answer.
"""

from __future__ import annotations

import itertools
import threading
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, Point, box

from cdv_geo.core import threads as _threads
from cdv_geo.core.errors import CdvGeoWarning, DataValidationError
from cdv_geo.metrics.access import nearest_facility
from cdv_geo.metrics.walking import point_xy
from cdv_geo.network import WalkNetwork

L93 = "EPSG:2154"


@pytest.fixture
def many_threads(monkeypatch):
    """Cut anything longer than 7 items into up to 3 chunks, whatever the machine."""
    monkeypatch.setattr(_threads, "MIN_CHUNK", 7)
    monkeypatch.setattr(_threads, "n_threads", lambda: 3)


def test_chunks_cover_the_range_in_order(many_threads):
    assert _threads.chunks(5) == [slice(0, 5)]
    parts = _threads.chunks(100)
    assert len(parts) == 3
    assert parts[0].start == 0 and parts[-1].stop == 100
    assert all(a.stop == b.start for a, b in itertools.pairwise(parts))
    assert min(p.stop - p.start for p in parts) >= 7


def test_map_chunks_equals_one_call(many_threads):
    x = np.arange(100.0)
    used = set()

    def square(part):
        used.add(threading.get_ident())
        return x[part] ** 2, np.full(part.stop - part.start, part.start)

    sq, start = _threads.map_chunks(square, 100)
    np.testing.assert_array_equal(sq, x**2)
    assert list(np.unique(start)) == [0, 33, 66]  # np.linspace(0, 100, 4) rounded down
    assert len(used) >= 2  # the caller and at least one worker


def test_map_chunks_raises_the_error_of_any_chunk(many_threads):
    def fail_at(start):
        def fn(part):
            if part.start == start:
                raise ValueError(f"chunk at {start}")
            return (np.zeros(part.stop - part.start),)

        return fn

    for start in (0, 33, 66):  # the caller's chunk, then the workers'
        with pytest.raises(ValueError, match=f"chunk at {start}"):
            _threads.map_chunks(fail_at(start), 100)


@pytest.mark.parametrize("size", [10, 1_000_000])
def test_alongside_returns_and_reraises(size, many_threads):
    assert _threads.alongside(sum, [1, 2, 3], size=size).result() == 6
    job = _threads.alongside(int, "not a number", size=size)
    with pytest.raises(ValueError):
        job.result()


def test_alongside_uses_a_thread_for_large_work_only(many_threads, monkeypatch):
    here = threading.get_ident()
    assert _threads.alongside(threading.get_ident, size=3).result() == here
    assert _threads.alongside(threading.get_ident, size=_threads.MIN_CHUNK).result() != here
    monkeypatch.setattr(_threads, "n_threads", lambda: 1)  # a batch worker: one thread
    assert _threads.alongside(threading.get_ident, size=_threads.MIN_CHUNK).result() == here


def test_point_xy_reads_points_and_completes_the_rest():
    geoms = np.array(
        [
            Point(1, 2),
            None,
            Point(),  # empty point: shapely.get_x raises on it
            box(0, 0, 2, 2),
            shapely.MultiPoint([(3, 4)]),
            Point(5, 6),
        ],
        dtype=object,
    )
    xy = point_xy(geoms)
    np.testing.assert_array_equal(xy[[0, 4, 5]], [[1, 2], [3, 4], [5, 6]])
    assert np.isnan(xy[[1, 2]]).all()
    assert shapely.contains(box(0, 0, 2, 2), Point(xy[3]))


def _grid_with_island(seed):
    """A bent-street grid (12 x 12 nodes, 50 m apart) and a detached street far east."""
    rng = np.random.default_rng(seed)
    side = 12
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.c_[ii.ravel(), jj.ravel()] * 50.0 + rng.uniform(-8, 8, (side * side, 2))
    idx = np.arange(side * side).reshape(side, side)
    u = np.r_[idx[:-1, :].ravel(), idx[:, :-1].ravel()]
    v = np.r_[idx[1:, :].ravel(), idx[:, 1:].ravel()]
    keep = rng.random(len(u)) > 0.15
    u, v = u[keep], v[keep]
    lines = [
        LineString([xy[a], (xy[a] + xy[b]) / 2 + rng.uniform(-5, 5, 2), xy[b]])
        for a, b in zip(u, v, strict=True)
    ]
    lines.append(LineString([(2000, 0), (2100, 0)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        net = WalkNetwork.from_lines(
            gpd.GeoDataFrame(geometry=lines, crs=L93), largest_component=False, crs=L93
        )
    return net, rng


def _case(seed):
    net, rng = _grid_with_island(seed)
    n = 400
    pts = [Point(p) for p in rng.uniform(-20, 570, (n, 2))]
    pts[::37] = [Point(2050, 2)] * len(pts[::37])  # on the island
    pts[5] = Point(9000, 9000)  # beyond max_snap_m
    pts[6] = None
    pts[7] = Point()
    pts[8] = box(100, 100, 110, 110)  # a building footprint
    origins = gpd.GeoDataFrame({"id": [f"o{i}" for i in range(n)]}, geometry=pts, crs=L93)
    fac_pts = [Point(p) for p in rng.uniform(0, 550, (6, 2))] + [box(300, 300, 330, 320)]
    facilities = gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(7)], "kind": ["school"] * 3 + ["ccas"] * 3 + ["park"]},
        geometry=fac_pts,
        crs=L93,
    )
    return net, origins, facilities


@pytest.mark.parametrize("seed", [1, 2])
def test_nearest_facility_in_chunks_equals_one_piece(seed, monkeypatch):
    net, origins, facilities = _case(seed)
    monkeypatch.setattr(_threads, "MIN_CHUNK", 10**12)
    whole = nearest_facility(origins, facilities, network=net, max_distance_m=450)
    monkeypatch.setattr(_threads, "MIN_CHUNK", 7)
    monkeypatch.setattr(_threads, "n_threads", lambda: 3)
    chunked = nearest_facility(origins, facilities, network=net, max_distance_m=450)
    pd.testing.assert_frame_equal(chunked, whole)
    # and the cases it mixes are all there
    assert chunked["reason"].str.contains("detached part").sum() >= 10
    assert "farther than 200 m" in chunked.loc["o5", "reason"]
    assert "no geometry" in chunked.loc["o6", "reason"]
    assert chunked["school_distance_m"].notna().sum() > 300


def test_nearest_facility_in_chunks_equals_networkx(many_threads):
    net, _ = _grid_with_island(3)
    g = nx.Graph()
    for a, b, w in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        if not g.has_edge(a, b) or g[a][b]["w"] > w:
            g.add_edge(int(a), int(b), w=float(w))
    nodes = np.arange(net.n_nodes)
    origins = gpd.GeoDataFrame(
        {"id": nodes.astype(str)}, geometry=shapely.points(net.node_xy), crs=L93
    )
    fac_nodes = [3, 70, 120]
    facilities = gpd.GeoDataFrame(
        {"id": [str(k) for k in fac_nodes], "kind": ["school"] * 3},
        geometry=shapely.points(net.node_xy[fac_nodes]),
        crs=L93,
    )
    got = nearest_facility(origins, facilities, network=net)["school_distance_m"]
    expected = nx.multi_source_dijkstra_path_length(g, set(fac_nodes), weight="w")
    reached = [str(k) for k in expected]
    # (node_xy keeps the nodes to the millimetre: origins sit within 0.7 mm of the streets)
    np.testing.assert_allclose(got[reached], list(expected.values()), atol=2e-3)
    assert got.drop(reached).isna().all()  # the island's two nodes


@pytest.mark.parametrize("copies", [1, 4])  # 400 ids (a Python set), 1,600 (compiled check)
def test_duplicate_ids_are_reported_while_the_side_thread_snaps(many_threads, copies):
    net, origins, facilities = _case(4)
    origins = pd.concat([origins] * copies, ignore_index=True)
    origins["id"] = [f"o{i}" for i in range(len(origins))]
    origins.loc[len(origins) - 1, "id"] = "o2"
    with pytest.raises(DataValidationError, match="id 'o2' is used by several features"):
        nearest_facility(origins, facilities, network=net)
