"""Tests of cdv_geo.network: building the walking network, snapping, components, bad input."""

from __future__ import annotations

import bz2
import math
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import shapely
from pyproj import Transformer
from shapely import LineString, MultiLineString, Point

from cdv_geo.core.errors import CdvGeoWarning, CRSError, NetworkError
from cdv_geo.network import WalkNetwork, is_walkable

DATA = Path(__file__).parent.parent / "data"
OSM = DATA / "mini_walk.osm"
TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)

# ways of mini_walk.osm that a walker may use, read off the file by hand
WALKABLE_WAYS = {"100", "101", "102", "103", "104", "108", "110", "114", "111"}
EXCLUDED_NODES = {9, 10, 11, 12, 13, 15, 20}  # only on excluded ways


def lines(*coords, crs="EPSG:2154", **cols):
    return gpd.GeoDataFrame(cols or None, geometry=[LineString(c) for c in coords], crs=crs)


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        return fn(*args, **kw)


# --- from_lines ---------------------------------------------------------------------------------


def test_from_lines_nodes_crossings_and_shared_endpoints():
    # a cross (crossing at (100, 0)) plus a street starting at the cross's east end
    net = WalkNetwork.from_lines(
        lines([(0, 0), (200, 0)], [(100, -100), (100, 100)], [(200, 0), (200, 50)]), crs="EPSG:2154"
    )
    assert net.n_nodes == 6  # 4 ends of the cross, the crossing, (200, 50)
    assert net.n_edges == 5
    assert sorted(net.edge_length.tolist()) == [50.0, 100.0, 100.0, 100.0, 100.0]
    assert net.total_length_m == 450.0
    assert net.crs.to_epsg() == 2154
    assert not net.dropped


def test_from_lines_merges_overlaps_and_explodes_multilines():
    gdf = gpd.GeoDataFrame(
        geometry=[
            MultiLineString([[(0, 0), (100, 0)], [(100, 0), (100, 80)]]),
            LineString([(0, 0), (100, 0)]),  # digitised twice
        ],
        crs=2154,
    )
    net = WalkNetwork.from_lines(gdf, crs="EPSG:2154")
    assert net.n_edges == 2
    assert sorted(net.edge_length.tolist()) == [80.0, 100.0]


def test_from_lines_projects_geographic_layers_to_lambert93():
    lon_lat = [(3.320, 49.380), (3.325, 49.380), (3.325, 49.384)]
    net = WalkNetwork.from_lines(lines(lon_lat, crs="EPSG:4326"))
    assert net.crs.to_epsg() == 2154
    xy = np.array([TO_L93.transform(x, y) for x, y in lon_lat])
    expected = np.hypot(*np.diff(xy, axis=0).T).sum()
    assert net.total_length_m == pytest.approx(expected, abs=1e-6)


def test_from_lines_measures_in_the_crs_given_and_drops_motorways():
    gdf = lines(
        [(0, 0), (100, 0)],
        [(100, 0), (200, 0)],
        [(0, 0), (0, 70)],
        crs="EPSG:32631",
        highway=["residential", "motorway", "footway"],
    )
    net = WalkNetwork.from_lines(gdf, crs="EPSG:32631")
    assert net.crs.to_epsg() == 32631
    assert sorted(net.edge_length.tolist()) == [70.0, 100.0]
    assert (
        WalkNetwork.from_lines(gdf, walkable_only=False, crs="EPSG:32631").total_length_m == 270.0
    )
    bdtopo = gdf.assign(highway=["Route à 1 chaussée", "Type autoroutier", "Chemin"])
    assert WalkNetwork.from_lines(bdtopo, crs="EPSG:32631").total_length_m == 170.0


def test_from_lines_without_crs_says_how_to_set_it():
    gdf = lines([(0, 0), (1, 0)], crs=None)
    with pytest.raises(CRSError, match=r"lines layer has no coordinate reference system.*set_crs"):
        WalkNetwork.from_lines(gdf, crs="EPSG:2154")


def test_empty_or_non_linear_street_layers_are_refused():
    with pytest.raises(NetworkError, match="lines: the street layer is empty.*from_osm_xml"):
        WalkNetwork.from_lines(gpd.GeoDataFrame(geometry=[], crs=2154))
    pts = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=2154)
    with pytest.raises(NetworkError, match=r"non-linear geometries \(Point\).*LineString"):
        WalkNetwork.from_lines(pts, crs="EPSG:2154")
    only_motorway = lines([(0, 0), (9, 0)], highway=["motorway"])
    with pytest.raises(NetworkError, match="no walkable street line"):
        WalkNetwork.from_lines(only_motorway, crs="EPSG:2154")


# --- the array constructor -----------------------------------------------------------------------


def test_network_without_edges_is_an_error_that_says_what_to_check():
    with pytest.raises(NetworkError, match="has no edges.*walkable ways"):
        WalkNetwork(np.zeros((2, 2)), [], [], crs=2154)


def test_geographic_crs_is_refused():
    with pytest.raises(CRSError, match="not projected in metres"):
        WalkNetwork(np.array([[3.3, 49.3], [3.4, 49.3]]), [0], [1], crs=4326)


def test_bad_arrays_are_refused():
    with pytest.raises(NetworkError, match="positions in node_xy"):
        WalkNetwork(np.zeros((2, 2)), [0], [5], crs=2154)
    with pytest.raises(NetworkError, match="explode multi-part lines"):
        WalkNetwork(np.array([[0, 0], [1, 0]]), [0], [1], [Point(0, 0)], crs=2154)


def test_geometries_are_oriented_from_u_to_v():
    net = WalkNetwork(
        np.array([[0.0, 0.0], [100.0, 0.0]]),
        [0],
        [1],
        [LineString([(100, 0), (50, 30), (0, 0)])],
        crs=2154,
    )
    assert net.edge_geometry[0].coords[0] == (0.0, 0.0)
    assert net.edge_length[0] == pytest.approx(2 * math.hypot(50, 30))


def test_largest_component_is_kept_and_the_rest_reported():
    gdf = lines(
        [(0, 0), (300, 0)],
        [(300, 0), (300, 100)],  # main part, 400 m
        [(1000, 0), (1040, 30)],
    )  # detached, 50 m
    with pytest.warns(CdvGeoWarning, match=r"dropped 1 smaller part \(2 nodes, 1 edge, 0.05 km"):
        net = WalkNetwork.from_lines(gdf, crs="EPSG:2154")
    assert (net.n_nodes, net.n_edges, net.total_length_m) == (3, 2, 400.0)
    assert net.dropped.n_parts == 2
    assert (net.dropped.nodes, net.dropped.edges) == (2, 1)
    assert net.dropped.length_m == pytest.approx(50.0)
    assert "dropped 1 detached part (1 edge)" in repr(net)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        whole = WalkNetwork.from_lines(gdf, largest_component=False, crs="EPSG:2154")
    assert whole.n_edges == 3
    assert len(set(whole.components.tolist())) == 2


def test_csr_keeps_the_shortest_parallel_edge():
    net = WalkNetwork(
        np.array([[0.0, 0.0], [100.0, 0.0]]),
        [0, 0],
        [1, 1],
        [LineString([(0, 0), (100, 0)]), LineString([(0, 0), (50, 50), (100, 0)])],
        crs=2154,
    )
    assert net.n_edges == 2
    assert net.csr[0, 1] == 100.0 and net.csr[1, 0] == 100.0


def test_to_lines_and_repr():
    net = WalkNetwork(
        np.array([[0.0, 0.0], [30.0, 40.0], [30.0, 100.0]]),
        [0, 1],
        [1, 2],
        crs=2154,
        node_ids=["a", "b", "c"],
    )
    out = net.to_lines()
    assert out.crs.to_epsg() == 2154
    assert out[["u", "v"]].values.tolist() == [["a", "b"], ["b", "c"]]
    assert out["length_m"].tolist() == [50.0, 60.0]
    assert repr(net) == "WalkNetwork(3 nodes, 2 edges, 0.11 km of streets, EPSG:2154)"


# --- snapping -----------------------------------------------------------------------------------


def test_snap_by_hand():
    net = WalkNetwork(
        np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 100.0]]), [0, 1], [1, 2], crs=2154
    )
    s = net.snap(np.array([[30.0, -4.0], [130.0, 60.0], [100.0, 0.0], [500.0, 500.0]]))
    assert s["edge"].tolist() == [0, 1, 0, -1] or s["edge"].tolist() == [0, 1, 1, -1]
    assert s["snap_distance_m"].iloc[:3].tolist() == [4.0, 30.0, 0.0]
    assert s["along_m"].iloc[:2].tolist() == [30.0, 60.0]
    assert s[["x", "y"]].iloc[1].tolist() == [100.0, 60.0]
    assert np.isnan(s["snap_distance_m"].iloc[3])
    # the cut-off is max_snap_m, inclusive
    assert net.snap(np.array([[50.0, 20.0]]), max_snap_m=20)["edge"].iloc[0] == 0
    assert net.snap(np.array([[50.0, 20.0]]), max_snap_m=19.99)["edge"].iloc[0] == -1


def test_snap_reprojects_and_uses_a_point_inside_polygons():
    net = WalkNetwork(np.array([[0.0, 0.0], [100.0, 0.0]]), [0], [1], crs=2154)
    poly = shapely.box(40, 10, 60, 30)
    g = gpd.GeoDataFrame(geometry=[poly], crs=2154)
    inside = shapely.point_on_surface(poly)
    s = net.snap(g)
    assert s["snap_distance_m"].iloc[0] == pytest.approx(inside.y)
    assert s["along_m"].iloc[0] == pytest.approx(inside.x)
    with pytest.raises(CRSError, match="set_crs"):
        net.snap(gpd.GeoSeries([Point(1, 1)]))


def test_snap_equals_shapely_nearest_on_a_random_network():
    rng = np.random.default_rng(7)
    n = 40
    xy = rng.uniform(0, 2000, (n, 2))
    # a random tree plus extra chords, with a bend in every edge
    u = np.r_[np.arange(1, n), rng.integers(0, n, 30)]
    v = np.r_[[rng.integers(0, i) for i in range(1, n)], rng.integers(0, n, 30)]
    keep = u != v
    u, v = u[keep], v[keep]
    mid = (xy[u] + xy[v]) / 2 + rng.normal(0, 40, (len(u), 2))
    geoms = shapely.linestrings(np.stack([xy[u], mid, xy[v]], axis=1))
    net = WalkNetwork(xy, u, v, geoms, crs=2154)
    pts = rng.uniform(-300, 2300, (3000, 2))  # includes points far from every street
    s = net.snap(pts, max_snap_m=150)
    tree = shapely.STRtree(net.edge_geometry)
    idx, dist = tree.query_nearest(
        shapely.points(pts), max_distance=150, return_distance=True, all_matches=False
    )
    expected = np.full(len(pts), np.nan)
    expected[idx[0]] = dist
    np.testing.assert_allclose(s["snap_distance_m"], expected, atol=1e-9)
    ok = s["edge"].to_numpy() >= 0
    assert ok.sum() == len(idx[0]) and 0 < ok.sum() < len(pts)
    # the attachment point lies on the chosen edge, at the snap distance, `along` from u
    e = s["edge"].to_numpy()[ok]
    pt = shapely.points(s[["x", "y"]].to_numpy()[ok])
    np.testing.assert_allclose(shapely.distance(pt, net.edge_geometry[e]), 0, atol=1e-7)
    np.testing.assert_allclose(
        shapely.line_locate_point(net.edge_geometry[e], pt),
        s["along_m"].to_numpy()[ok],
        atol=1e-7,
    )


def _random_streets(rng, n_nodes, n_edges, size):
    """Random polylines between random nodes: 0-5 interior vertices, duplicates, collinear runs."""
    xy = rng.uniform(0, size, (n_nodes, 2))
    u = rng.integers(0, n_nodes, n_edges)
    v = rng.integers(0, n_nodes, n_edges)
    keep = u != v
    u, v = u[keep], v[keep]
    geoms = []
    for a, b in zip(xy[u], xy[v], strict=True):
        k = int(rng.integers(0, 6))
        f = np.sort(rng.uniform(0, 1, k))
        inner = a + f[:, None] * (b - a)  # on the chord (collinear segments)...
        inner += rng.normal(0, size / 50, inner.shape) * (rng.random() < 0.7)  # ...or bent
        geoms.append(LineString(np.vstack([a, inner, b])))
    u, v, geoms = np.r_[u, u[:5]], np.r_[v, v[:5]], geoms + geoms[:5]  # parallel edges
    return quiet(WalkNetwork, xy, u, v, geoms, crs=2154, largest_component=False)


@pytest.mark.parametrize(
    ("n_nodes", "n_edges", "size"),
    [(30, 90, 300.0), (60, 140, 600.0), (40, 120, 40_000.0)],  # 2, 3 and 4 fine cells a side
)
def test_snap_equals_a_brute_force_nearest_street_point(n_nodes, n_edges, size):
    rng = np.random.default_rng(n_edges)
    net = _random_streets(rng, n_nodes, n_edges, size)
    coords = shapely.get_coordinates(net.edge_geometry)
    pts = np.vstack(
        [
            rng.uniform(-0.3 * size, 1.3 * size, (1500, 2)),  # anywhere, some far from streets
            coords,  # on vertices and nodes: ties between several edges at 0 m
            (coords[1:] + coords[:-1]) / 2,  # on segments (and some across edges)
            rng.uniform(0, size, (300, 2)).round(-1),  # on a lattice: more exact ties
        ]
    )
    max_snap = size / 3
    s = net.snap(pts, max_snap_m=max_snap)
    # brute force: the distance from every point to every street
    d = shapely.distance(shapely.points(pts)[:, None], net.edge_geometry[None, :])
    nearest = d.min(axis=1)
    expected = np.where(nearest <= max_snap, nearest, np.nan)
    tol = 1e-9 * size
    np.testing.assert_allclose(s["snap_distance_m"], expected, rtol=0, atol=tol)
    ok = s["edge"].to_numpy() >= 0
    assert ok.sum() == np.isfinite(expected).sum() and 0 < ok.sum() < len(pts)
    e = s["edge"].to_numpy()[ok]
    np.testing.assert_allclose(d[ok, e], nearest[ok], rtol=0, atol=tol)  # a nearest street
    att = shapely.points(s[["x", "y"]].to_numpy()[ok])
    np.testing.assert_allclose(shapely.distance(att, net.edge_geometry[e]), 0, atol=tol * 100)
    np.testing.assert_allclose(
        shapely.distance(att, shapely.points(pts[ok])), nearest[ok], rtol=0, atol=tol * 100
    )
    np.testing.assert_allclose(
        shapely.line_locate_point(net.edge_geometry[e], att),
        s["along_m"].to_numpy()[ok],
        rtol=0,
        atol=tol * 100,
    )


def test_snap_with_max_snap_of_zero_keeps_only_points_on_a_street():
    net = WalkNetwork(np.array([[0.0, 0.0], [100.0, 0.0]]), [0], [1], crs=2154)
    s = net.snap(np.array([[30.0, 0.0], [30.0, 1.0], [5000.0, 5000.0]]), max_snap_m=0)
    assert s["edge"].tolist() == [0, -1, -1]
    assert s["along_m"].iloc[0] == 30.0 and s["snap_distance_m"].iloc[0] == 0.0


# --- OSM XML, GraphML, osmnx graphs ---------------------------------------------------------------


def test_is_walkable_follows_the_osmnx_walk_filter():
    assert is_walkable({"highway": "footway"})
    assert is_walkable({"highway": "steps"})
    assert is_walkable({"highway": "service", "access": "customers"})
    assert not is_walkable({"name": "no highway tag"})
    for tags in (
        {"highway": "motorway"},
        {"highway": "trunk_link", "foot": "no"},
        {"highway": "cycleway"},
        {"highway": "residential", "sidewalk": "separate"},
        {"highway": "pedestrian", "area": "yes"},
        {"highway": "construction"},
    ):
        assert not is_walkable(tags), tags


def test_from_osm_xml_keeps_only_walkable_ways():
    with pytest.warns(CdvGeoWarning, match="dropped 1 smaller part"):
        net = WalkNetwork.from_osm_xml(OSM)
    assert net.crs.to_epsg() == 2154
    ids = {int(i) for i in net.node_ids}
    assert not ids & EXCLUDED_NODES
    assert not ids & {18, 19}  # the detached track
    osmids = set()
    for v in net.to_lines()["osmid"]:
        osmids |= set(str(v).split(";"))
    assert osmids == WALKABLE_WAYS - {"111"}
    # total length: every walkable segment of the main part, projected by hand
    root = ET.parse(OSM).getroot()
    lonlat = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    total = 0.0
    for w in root.iter("way"):
        if w.get("id") in WALKABLE_WAYS - {"111"}:
            refs = [nd.get("ref") for nd in w.iter("nd")]
            xy = np.array([TO_L93.transform(*lonlat[r]) for r in refs])
            total += np.hypot(*np.diff(xy, axis=0).T).sum()
    assert net.total_length_m == pytest.approx(total, abs=1e-6)


def test_from_osm_xml_reads_bz2(tmp_path):
    packed = tmp_path / "mini_walk.osm.bz2"
    packed.write_bytes(bz2.compress(OSM.read_bytes()))
    a = quiet(WalkNetwork.from_osm_xml, OSM)
    b = quiet(WalkNetwork.from_osm_xml, packed)
    assert b.total_length_m == pytest.approx(a.total_length_m)
    assert b.n_edges == a.n_edges


def test_osm_file_without_walkable_ways(tmp_path):
    p = tmp_path / "autoroute.osm"
    p.write_text(
        '<osm version="0.6"><node id="1" lat="49.38" lon="3.32"/>'
        '<node id="2" lat="49.39" lon="3.32"/><way id="5"><nd ref="1"/><nd ref="2"/>'
        '<tag k="highway" v="motorway"/></way></osm>'
    )
    with pytest.raises(NetworkError, match=r"autoroute.osm has no walkable way .*motorway.*Export"):
        WalkNetwork.from_osm_xml(p)


def test_osm_file_missing_or_not_xml(tmp_path):
    with pytest.raises(NetworkError, match="nope.osm not found; check the path"):
        WalkNetwork.from_osm_xml(tmp_path / "nope.osm")
    bad = tmp_path / "bad.osm"
    bad.write_text("this is not xml")
    with pytest.raises(NetworkError, match="cannot read .*bad.osm as OSM XML.*openstreetmap.org"):
        WalkNetwork.from_osm_xml(bad)


def _lonlat_graph():
    """A small osmnx-style MultiDiGraph in EPSG:4326, two-way streets stored both ways."""
    graph = nx.MultiDiGraph(crs="EPSG:4326")
    pts = {1: (3.320, 49.380), 2: (3.322, 49.380), 3: (3.322, 49.382), 4: (3.326, 49.382)}
    for k, (x, y) in pts.items():
        graph.add_node(k, x=x, y=y)
    bend = LineString([pts[2], (3.324, 49.3805), pts[4]])
    for a, b, geom in ((1, 2, None), (2, 3, None), (2, 4, bend)):
        for s, t in ((a, b), (b, a)):
            data = {"osmid": 10 * a + b, "length": 1.0}
            if geom is not None:
                data["geometry"] = geom if s == a else shapely.reverse(geom)
            graph.add_edge(s, t, **data)
    return graph, pts, bend


def _projected_lengths(pts, bend):
    def proj(coords):
        xy = np.array([TO_L93.transform(x, y) for x, y in coords])
        return np.hypot(*np.diff(xy, axis=0).T).sum()

    return sorted([proj([pts[1], pts[2]]), proj([pts[2], pts[3]]), proj(bend.coords)])


def test_from_graph_makes_two_way_streets_one_edge_and_measures_them_projected():
    graph, pts, bend = _lonlat_graph()
    net = WalkNetwork.from_graph(graph)
    assert net.n_edges == 3
    assert net.crs.to_epsg() == 2154
    # lengths come from the projected geometry, not the graph's "length" attribute
    np.testing.assert_allclose(sorted(net.edge_length), _projected_lengths(pts, bend), atol=1e-6)
    # the same graph projected by osmnx gives the same network
    gp = ox.project_graph(graph, to_crs="EPSG:2154")
    netp = WalkNetwork.from_graph(gp)
    np.testing.assert_allclose(sorted(netp.edge_length), sorted(net.edge_length), atol=1e-6)


def test_from_graphml_round_trip(tmp_path):
    graph, pts, bend = _lonlat_graph()
    path = tmp_path / "walk.graphml"
    ox.save_graphml(graph, path)
    net = WalkNetwork.from_graphml(path)
    np.testing.assert_allclose(sorted(net.edge_length), _projected_lengths(pts, bend), atol=1e-6)
    with pytest.raises(NetworkError, match="missing.graphml not found"):
        WalkNetwork.from_graphml(tmp_path / "missing.graphml")
    junk = tmp_path / "junk.graphml"
    junk.write_text("<graphml>")
    with pytest.raises(NetworkError, match="cannot read .*junk.graphml.*save_graphml"):
        WalkNetwork.from_graphml(junk)


def test_from_graph_without_edges_or_coordinates():
    graph = nx.MultiDiGraph(crs="EPSG:2154")
    graph.add_node(1, x=0.0, y=0.0)
    with pytest.raises(NetworkError, match="has no edges"):
        WalkNetwork.from_graph(graph)
    h = nx.MultiDiGraph(crs="EPSG:2154")
    h.add_edge(1, 2)
    with pytest.raises(NetworkError, match="without 'x' coordinates.*osmnx"):
        WalkNetwork.from_graph(h)
