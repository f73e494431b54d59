"""Tests of cdv_geo.metrics.access: nearest facility and service areas.

Coverage is tested in test_access_coverage.py.

Every expected number is computed by hand (in comments) or by networkx on the same graph.
"""

from __future__ import annotations

import itertools
import math
import warnings
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely import LineString, MultiLineString, Point, box

from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning, CRSError, DataValidationError
from cdv_geo.metrics.access import coverage, nearest_facility
from cdv_geo.metrics.service_areas import service_areas
from cdv_geo.network import WalkNetwork
from cdv_geo.testing import assert_metric_table

OSM = Path(__file__).parent.parent / "data" / "mini_walk.osm"
L93 = "EPSG:2154"
# a corner of Soissons in Lambert-93: coordinates + small integers stay exact in floating point
X0, Y0 = 724000.0, 6919000.0


def gdf(geoms, crs=L93, **cols):
    return gpd.GeoDataFrame(cols or None, geometry=list(geoms), crs=crs)


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        return fn(*args, **kw)


# A (0,0) -- B (100,0) -------- C (300,0);  B -- D (100,100) is a dead end.
def t_network(**kw):
    return WalkNetwork(
        np.array([[0.0, 0.0], [100.0, 0.0], [300.0, 0.0], [100.0, 100.0]]),
        [0, 1, 1],
        [1, 2, 3],
        crs=L93,
        **kw,
    )


FACILITIES = gdf(
    [Point(250, -10), box(-50, -60, -10, -20), box(120, 10, 180, 40)],
    id=["F1", "P1", "park1"],
    kind=["school", "ccas", "park"],
)


# --- nearest_facility on hand-built networks ----------------------------------------------------


def test_same_edge_dead_end_and_polygons_by_hand():
    origins = gdf(
        [
            Point(220, 5),
            Point(280, 4),
            Point(95, 90),
            Point(0, 30),
            Point(150, -5),
            box(210, 10, 230, 30),
        ],
        id=["o1", "o2", "o3", "o4", "o5", "bldg"],
    )
    d = nearest_facility(origins, FACILITIES, network=t_network())
    assert d.index.tolist() == ["o1", "o2", "o3", "o4", "o5", "bldg"]
    school = d["school_distance_m"]
    # o1: 5 m to B-C at x=220, 30 m along to x=250, 10 m to the school: direct on the shared edge
    assert school["o1"] == pytest.approx(45.0)
    # o2: the school's edge from the other side
    assert school["o2"] == pytest.approx(4 + 30 + 10)
    # o3 in the dead end B-D: 5 m to it, 90 m down to B, 150 m to x=250, 10 m
    assert school["o3"] == pytest.approx(5 + 90 + 150 + 10)
    # o4 nearest street point is A: 30 + 100 + 150 + 10
    assert school["o4"] == pytest.approx(290.0)
    # a building footprint: its centre (220, 20) is 20 m from the street
    assert school["bldg"] == pytest.approx(20 + 30 + 10)
    assert d.loc["bldg", "snap_distance_m"] == pytest.approx(20.0)
    assert (d["school_facility_id"] == "F1").all()
    # the CCAS polygon's corner (-10, -20) is its nearest point to the street network (at A)
    assert d.loc["o4", "ccas_distance_m"] == pytest.approx(30 + math.hypot(10, 20))
    # the park borders B-C along x = 120..180: o5 crosses the street straight into it
    assert d.loc["o5", "park_distance_m"] == pytest.approx(5 + 10)
    assert d.loc["o1", "park_distance_m"] == pytest.approx(5 + 40 + 10)  # to the corner x=180
    # time at 4.5 km/h = 75 m/min
    assert d.loc["o1", "school_time_min"] == pytest.approx(45 / 75)
    assert d["snap_distance_m"].tolist() == pytest.approx([5, 4, 5, 30, 5, 20])
    assert (d["method"] == "network").all()
    assert d["reason"].isna().all()
    assert list(d.columns[:3]) == ["school_distance_m", "school_time_min", "school_facility_id"]


def test_beyond_max_snap_is_unreachable_with_a_reason():
    origins = gdf([Point(150, 400), Point(220, 5)], id=["far", "near"])
    d = nearest_facility(origins, FACILITIES, network=t_network(), kinds="school")
    # far: nearest street point D (100, 100) is hypot(50, 300) = 304 m away > 200 m
    assert np.isnan(d.loc["far", "school_distance_m"])
    assert np.isnan(d.loc["far", "snap_distance_m"])
    assert pd.isna(d.loc["far", "school_facility_id"])
    assert "farther than 200 m from the street network" in d.loc["far", "reason"]
    d2 = nearest_facility(origins, FACILITIES, network=t_network(), kinds="school", max_snap_m=310)
    assert d2.loc["far", "school_distance_m"] == pytest.approx(math.hypot(50, 300) + 100 + 150 + 10)


def test_most_origins_off_the_network_warns_about_the_crs():
    # Lambert-93 coordinates declared as UTM 31N land ~400 km away from the streets
    origins = gdf([Point(220, 5), Point(95, 90)]).set_crs("EPSG:32631", allow_override=True)
    origins = origins.set_geometry(origins.translate(728000, 6920000))
    with pytest.warns(CdvGeoWarning, match=r"2 of 2 origins are farther than 200 m.*right CRS"):
        d = nearest_facility(origins, FACILITIES, network=t_network(), kinds="school")
    assert d["school_distance_m"].isna().all()


def test_facility_beyond_max_snap_is_ignored_with_a_warning():
    fac = gdf([Point(250, -10), Point(2000, 2000)], id=["near", "lost"], kind=["shop", "shop"])
    with pytest.warns(CdvGeoWarning, match=r"1 shop facility is farther than 200 m.*lost") as w:
        d = nearest_facility(gdf([Point(0, 0)], id=["o"]), fac, network=t_network())
    assert d.loc["o", "shop_facility_id"] == "near"
    with pytest.warns(CdvGeoWarning, match=r"and given no service area: lost") as w2:
        areas = service_areas(fac, network=t_network(), thresholds_m=100, by="facility")
    area = areas.set_index("facility_id").geometry
    assert area["lost"].is_empty and area["near"].area > 0
    # both warnings point at the line that called the function
    assert {Path(r.filename).name for r in [*w, *w2]} == {Path(__file__).name}


def test_two_components():
    lines = gdf([LineString([(0, 0), (300, 0)]), LineString([(1000, 0), (1100, 0)])])
    fac = gdf([Point(0, 0)], kind=["school"], id=["s"])
    origins = gdf([Point(1050, 3), Point(100, 3)], id=["island", "main"])
    whole = WalkNetwork.from_lines(lines, largest_component=False, crs="EPSG:2154")
    d = nearest_facility(origins, fac, network=whole)
    assert np.isnan(d.loc["island", "school_distance_m"])
    assert d.loc["island", "snap_distance_m"] == pytest.approx(3.0)
    assert "no school on this detached part" in d.loc["island", "reason"]
    assert d.loc["main", "school_distance_m"] == pytest.approx(103.0)
    # by default the small part is dropped: the island is then 700 m from any street
    with pytest.warns(CdvGeoWarning, match="dropped 1 smaller part"):
        main = WalkNetwork.from_lines(lines, crs="EPSG:2154")
    d = nearest_facility(origins, fac, network=main)
    assert "farther than 200 m" in d.loc["island", "reason"]


def test_max_distance():
    origins = gdf([Point(220, 5), Point(95, 90)], id=["o1", "o3"])
    d = nearest_facility(
        origins, FACILITIES, network=t_network(), kinds=["school"], max_distance_m=100
    )
    assert d.loc["o1", "school_distance_m"] == pytest.approx(45.0)
    assert np.isnan(d.loc["o3", "school_distance_m"])
    assert d.loc["o3", "reason"] == "no school within 100 m"


def test_multipoint_facilities_are_reached_at_any_entrance():
    # gates at (50, -10) on A-B and (100, 80) on the dead end B-D
    fac = gdf([shapely.MultiPoint([(50, -10), (105, 80)])], id=["college"], kind=["school"])
    origins = gdf([Point(20, 3), Point(95, 70)], id=["a", "d"])
    d = nearest_facility(origins, fac, network=t_network())
    assert d["school_distance_m"].tolist() == pytest.approx([3 + 30 + 10, 5 + 10 + 5])


def test_nearest_of_several_facilities_and_its_id():
    fac = gdf(
        [Point(0, 0), Point(300, 0), Point(100, 100)],
        id=["a", "c", "d"],
        kind=["health_centre"] * 3,
    )
    origins = gdf([Point(40, 1), Point(210, 1), Point(100, 60)], id=["x", "y", "z"])
    d = nearest_facility(origins, fac, network=t_network())
    assert d["health_centre_facility_id"].tolist() == ["a", "c", "d"]
    assert d["health_centre_distance_m"].tolist() == pytest.approx([41, 91, 40])


def test_same_street_ties_go_to_the_first_facility_and_beat_only_when_shorter():
    # on B-C (x = 100..300): a home at x=200, pharmacies 40 m away on either side of it, both
    # 0 m from the street; the first in the layer wins the tie, whichever side it is on
    for first, second in (((160, 0), (240, 0)), ((240, 0), (160, 0))):
        shops = gdf([Point(*first), Point(*second)], id=["first", "second"], kind=["pharmacy"] * 2)
        d = nearest_facility(gdf([Point(200, 0)], id=["h"]), shops, network=t_network())
        assert d.loc["h", "pharmacy_distance_m"] == 40.0
        assert d.loc["h", "pharmacy_facility_id"] == "first"
    # a pharmacy on the dead end B-D, 10 m up: from x=110 on B-C the walk is 10 + 10 via B,
    # the only way (no facility on the home's own street)
    shops = gdf([Point(100, 10)], id=["up"], kind=["pharmacy"])
    d = nearest_facility(gdf([Point(110, 0)], id=["h"]), shops, network=t_network())
    assert d.loc["h", "pharmacy_distance_m"] == 20.0


# --- agreement with networkx ----------------------------------------------------------------------


def _random_graph(seed, n=60, extra=40):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 3000, (n, 2))
    u = np.r_[np.arange(1, n), rng.integers(0, n, extra)]
    v = np.r_[[rng.integers(0, i) for i in range(1, n)], rng.integers(0, n, extra)]
    keep = u != v
    u, v = u[keep], v[keep]
    g = nx.MultiDiGraph(crs=L93)
    for i, (x, y) in enumerate(xy):
        g.add_node(f"n{i}", x=float(x), y=float(y))
    ref = nx.Graph()
    for a, b in zip(u, v, strict=True):
        bend = (xy[a] + xy[b]) / 2 + rng.normal(0, 60, 2)
        coords = np.array([xy[a], bend, xy[b]])
        length = float(np.hypot(*np.diff(coords, axis=0).T).sum())
        g.add_edge(f"n{a}", f"n{b}", geometry=LineString(coords))
        old = ref.get_edge_data(f"n{a}", f"n{b}")
        if old is None or old["w"] > length:
            ref.add_edge(f"n{a}", f"n{b}", w=length)
    return g, ref, xy


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_equals_networkx_multi_source_dijkstra_on_random_graphs(seed):
    g, ref, xy = _random_graph(seed)
    net = WalkNetwork.from_graph(g, crs=L93)
    rng = np.random.default_rng(seed + 100)
    fac_nodes = [f"n{i}" for i in rng.choice(len(xy), 4, replace=False)]
    fac = gdf([Point(*xy[int(k[1:])]) for k in fac_nodes], id=fac_nodes, kind=["school"] * 4)
    origins = gdf([Point(x, y) for x, y in xy], id=[f"n{i}" for i in range(len(xy))])
    d = nearest_facility(origins, fac, network=net)
    expected = nx.multi_source_dijkstra_path_length(ref, set(fac_nodes), weight="w")
    got = d["school_distance_m"]
    for node, dist in expected.items():
        assert got[node] == pytest.approx(dist, abs=1e-6)
    # the facility named is one at that distance
    for node in list(expected)[:15]:
        chosen = d.loc[node, "school_facility_id"]
        assert nx.dijkstra_path_length(ref, chosen, node, weight="w") == pytest.approx(
            expected[node], abs=1e-6
        )


def test_equals_networkx_on_the_osm_extract():
    net = quiet(WalkNetwork.from_osm_xml, OSM)
    # reference graph: every segment of the walkable ways of the main part, read by hand
    root = ET.parse(OSM).getroot()
    to_l93 = Transformer.from_crs("EPSG:4326", L93, always_xy=True)
    xy = {
        n.get("id"): to_l93.transform(float(n.get("lon")), float(n.get("lat")))
        for n in root.iter("node")
    }
    walk = {"100", "101", "102", "103", "104", "108", "110", "114"}
    ref = nx.Graph()
    for w in root.iter("way"):
        if w.get("id") in walk:
            refs = [nd.get("ref") for nd in w.iter("nd")]
            for a, b in itertools.pairwise(refs):
                ref.add_edge(a, b, w=math.dist(xy[a], xy[b]))
    nodes = sorted(ref.nodes, key=int)
    assert nodes == ["1", "2", "3", "4", "5", "6", "7", "8", "14", "16", "17", "21"]
    origins = gdf([Point(xy[k]) for k in nodes], id=nodes)
    fac = gdf([Point(xy["1"]), Point(xy["17"])], id=["f1", "f17"], kind=["ccas", "ccas"])
    d = nearest_facility(origins, fac, network=net)
    expected = nx.multi_source_dijkstra_path_length(ref, {"1", "17"}, weight="w")
    for node in nodes:
        assert d.loc[node, "ccas_distance_m"] == pytest.approx(expected[node], abs=1e-6)
        assert d.loc[node, "snap_distance_m"] == pytest.approx(0.0, abs=1e-6)


def test_points_along_the_streets_equal_networkx_with_the_points_as_nodes():
    # origins and facilities strewn along straight streets, several on the same street (direct
    # walks along it, facilities on both sides): networkx on the graph in which every point
    # splits its street gives the walking distances
    rng = np.random.default_rng(9)
    n = 25
    xy = rng.uniform(0, 1000, (n, 2))
    u = np.r_[np.arange(1, n), rng.integers(0, n, 15)]  # a tree plus chords: connected
    v = np.r_[[rng.integers(0, i) for i in range(1, n)], rng.integers(0, n, 15)]
    pairs = np.unique(np.sort(np.c_[u, v][u != v], axis=1), axis=0)  # no street twice
    net = WalkNetwork(xy, pairs[:, 0], pairs[:, 1], crs=L93)
    edge = np.r_[rng.integers(0, net.n_edges, 60), np.repeat([0, 1, 2], 8)]
    along = rng.uniform(0.05, 0.95, len(edge)) * net.edge_length[edge]
    a, b = net.node_xy[net.edge_u[edge]], net.node_xy[net.edge_v[edge]]
    pts = a + (along / net.edge_length[edge])[:, None] * (b - a)
    is_fac = np.zeros(len(edge), dtype=bool)
    is_fac[:8] = True
    is_fac[60::2] = True  # half of the points of streets 0, 1 and 2
    ref = nx.Graph()
    for e in range(net.n_edges):
        on = np.flatnonzero(edge == e)
        on = on[np.argsort(along[on])]
        chain = [f"n{net.edge_u[e]}", *(f"p{i}" for i in on), f"n{net.edge_v[e]}"]
        at = [0.0, *along[on], net.edge_length[e]]
        for (s, t), w in zip(itertools.pairwise(chain), np.diff(at), strict=True):
            if not ref.has_edge(s, t) or ref[s][t]["w"] > w:
                ref.add_edge(s, t, w=w)
    fac = gdf(
        [Point(p) for p in pts[is_fac]],
        id=[f"p{i}" for i in np.flatnonzero(is_fac)],
        kind=["ccas"] * int(is_fac.sum()),
    )
    origins = gdf([Point(p) for p in pts[~is_fac]], id=[f"p{i}" for i in np.flatnonzero(~is_fac)])
    d = nearest_facility(origins, fac, network=net)
    expected = nx.multi_source_dijkstra_path_length(ref, set(fac["id"]), weight="w")
    for o in origins["id"]:
        assert d.loc[o, "ccas_distance_m"] == pytest.approx(expected[o], abs=1e-6)
        chosen = d.loc[o, "ccas_facility_id"]
        assert nx.dijkstra_path_length(ref, chosen, o, weight="w") == pytest.approx(
            expected[o], abs=1e-6
        )


# --- straight-line fallback -------------------------------------------------------------------


def test_euclidean_fallback_is_labelled():
    origins = gdf([Point(220, 5), Point(0, 30)], id=["o1", "o4"])
    d = nearest_facility(origins, FACILITIES, kinds=["school", "ccas"], crs=L93)
    assert (d["method"] == "euclidean").all()
    assert d.loc["o1", "school_distance_m"] == pytest.approx(math.hypot(30, 15))
    # to the CCAS polygon box(-50, -60, -10, -20): its corner (-10, -20)
    assert d.loc["o4", "ccas_distance_m"] == pytest.approx(math.hypot(10, 50))
    assert d["snap_distance_m"].isna().all()
    capped = nearest_facility(origins, FACILITIES, kinds="school", max_distance_m=40, crs=L93)
    assert np.isnan(capped.loc["o4", "school_distance_m"])
    assert capped.loc["o4", "reason"] == "no school within 40 m"


# --- bad input ----------------------------------------------------------------------------------


def test_origins_without_crs():
    origins = gpd.GeoDataFrame(geometry=[Point(0, 0)])
    with pytest.raises(CRSError, match="origins layer has no coordinate reference system.*set_crs"):
        nearest_facility(origins, FACILITIES, network=t_network())


def test_layers_in_another_crs_are_reprojected():
    to_wgs = Transformer.from_crs(L93, "EPSG:4326", always_xy=True)
    x0, y0 = 728000.0, 6920000.0
    net = WalkNetwork(np.array([[x0, y0], [x0 + 300, y0]]), [0], [1], crs=L93)
    o = [(x0 + 50, y0 + 10), (x0 + 200, y0 - 7)]
    origins_wgs = gdf([Point(to_wgs.transform(*p)) for p in o], crs="EPSG:4326", id=["a", "b"])
    fac_wgs = gdf([Point(to_wgs.transform(x0 + 120, y0))], crs="EPSG:4326", kind=["school"])
    d = nearest_facility(origins_wgs, fac_wgs, network=net)
    assert d["school_distance_m"].tolist() == pytest.approx([10 + 70, 7 + 80], abs=1e-4)


def test_empty_layers():
    empty = gpd.GeoDataFrame({"kind": []}, geometry=[], crs=L93)
    with pytest.raises(DataValidationError, match="layer facilities: facilities layer is empty"):
        nearest_facility(gdf([Point(0, 0)]), empty, network=t_network())
    with pytest.raises(DataValidationError, match="layer origins: origins layer is empty"):
        nearest_facility(gpd.GeoDataFrame(geometry=[], crs=L93), FACILITIES)


def test_unknown_kind_names_the_valid_kinds():
    with pytest.raises(
        DataValidationError,
        match="no facility of kind 'zoo' .*known kinds.*kinds present: school, ccas, park",
    ):
        nearest_facility(gdf([Point(0, 0)]), FACILITIES, kinds="zoo")
    with pytest.raises(DataValidationError, match="no facility of kind 'police'; kinds present"):
        nearest_facility(gdf([Point(0, 0)]), FACILITIES, kinds=["school", "police"])
    # French names are understood
    d = nearest_facility(gdf([Point(0, 0)]), FACILITIES, kinds="école")
    assert list(d.columns[:1]) == ["school_distance_m"]


def test_facilities_without_kind_or_with_duplicate_ids():
    with pytest.raises(DataValidationError, match="field 'kind': facilities need a 'kind' column"):
        nearest_facility(gdf([Point(0, 0)]), gdf([Point(1, 1)]))
    dup = gdf([Point(0, 0), Point(1, 0)], id=["x", "x"])
    with pytest.raises(DataValidationError, match="feature x, field 'id'.*must be unique"):
        nearest_facility(dup, FACILITIES)


def test_not_a_network_or_bad_numbers():
    with pytest.raises(CdvGeoError, match="network must be a WalkNetwork.*from_lines"):
        nearest_facility(gdf([Point(0, 0)]), FACILITIES, network="streets.geojson")
    with pytest.raises(CdvGeoError, match="speed_kmh must be a positive number"):
        nearest_facility(gdf([Point(0, 0)]), FACILITIES, speed_kmh=0)


# --- the threshold itself is covered -------------------------------------------------------------


def exact_case():
    """A straight street A-B-C (256 m + 256 m); a home on A-B, a facility on B-C.

    Home at A + 64 m, facility at B + 183 m: the walk is (256 - 64) + 183 = 375 m, i.e. exactly
    5 minutes at 4.5 km/h (75 m per minute). Every coordinate and every intermediate value
    (64 / 256, 183 / 256) is exact in binary floating point.
    """
    net = WalkNetwork(np.array([[X0, Y0], [X0 + 256, Y0], [X0 + 512, Y0]]), [0, 1], [1, 2], crs=L93)
    home = gdf([Point(X0 + 64, Y0)], id=["h"], population=[12])
    fac = gdf([Point(X0 + 439, Y0)], id=["f"], kind=["school"])
    q = gdf([box(X0 - 10, Y0 - 10, X0 + 600, Y0 + 10)], code=["QP1"], name=["Presles"])
    return net, home, fac, q


def test_a_home_exactly_at_the_threshold_is_covered():
    net, home, fac, q = exact_case()
    d = nearest_facility(home, fac, network=net)
    assert d.loc["h", "school_distance_m"] == 375.0
    assert d.loc["h", "school_time_min"] == 5.0
    for kw in ({"threshold_min": 5}, {"threshold_m": 375}):
        c = coverage(home, fac, q, network=net, **kw)
        assert_metric_table(c, q, levels=("kind", "threshold_min"))
        assert c["covered_share"].tolist() == [1.0, 1.0], kw
        assert c["n_homes_covered"].tolist() == [1, 1]
    # a hair below the threshold: not covered
    below = coverage(home, fac, q, network=net, threshold_m=374.999)
    assert below["covered_share"].tolist() == [0.0, 0.0]
    # and in a straight line (no network): 439 - 64 = 375 m as well
    eu = coverage(home, fac, q, threshold_min=5)
    assert_metric_table(eu, q, levels=("kind", "threshold_min"))
    assert eu["method"].iloc[0] == "euclidean"
    assert eu["covered_share"].tolist() == [1.0, 1.0]


# --- properties ---------------------------------------------------------------------------------


@cache
def grid_network():
    rows = [LineString([(0, y), (400, y)]) for y in range(0, 401, 100)]
    cols = [LineString([(x, 0), (x, 400)]) for x in range(0, 401, 100)]
    return WalkNetwork.from_lines(gdf(rows + cols), crs="EPSG:2154")


coords = st.tuples(st.floats(-50, 450), st.floats(-50, 450))


@settings(max_examples=40, deadline=None)
@given(home=coords, others=st.lists(coords, max_size=3))
def test_a_facility_moved_onto_an_origin(home, others):
    net = grid_network()
    origins = gdf([Point(home)], id=["o"])
    snapped = net.snap(origins).iloc[0]
    # at the origin's attachment point on the street: the origin's distance is its snap distance
    fac = gdf(
        [Point(snapped["x"], snapped["y"]), *[Point(p) for p in others]],
        kind=["school"] * (1 + len(others)),
    )
    d = nearest_facility(origins, fac, network=net).loc["o"]
    assert d["school_distance_m"] == pytest.approx(d["snap_distance_m"], abs=1e-6)
    assert d["snap_distance_m"] == pytest.approx(snapped["snap_distance_m"])
    # on the origin itself, both walk to the street and back: twice the snap distance
    fac2 = gdf([Point(home)], kind=["school"])
    d2 = nearest_facility(origins, fac2, network=net).loc["o"]
    assert d2["school_distance_m"] == pytest.approx(2 * d2["snap_distance_m"], abs=1e-6)


# --- service areas ------------------------------------------------------------------------------


def cross_network():
    return WalkNetwork.from_lines(
        gdf([LineString([(-500, 0), (500, 0)]), LineString([(0, -500), (0, 500)])]), crs="EPSG:2154"
    )


def reach(*segments, buffer_m):
    # the same polygonal approximation of round ends as cdv_geo (4 segments per quarter circle)
    return shapely.buffer(MultiLineString(list(segments)), buffer_m, quad_segs=4)


def test_service_area_of_a_facility_on_a_crossroads():
    a = service_areas(
        gdf([Point(0, 0)], kind=["park"]), network=cross_network(), thresholds_m=300, buffer_m=10
    )
    expected = reach([(-300, 0), (300, 0)], [(0, -300), (0, 300)], buffer_m=10)
    assert len(a) == 1 and a.crs.to_epsg() == 2154
    assert a.geometry.iloc[0].symmetric_difference(expected).area < 1.0


def test_service_area_starts_after_the_facility_snap_and_cuts_partial_edges():
    # the facility is 20 m off the east arm at x = 100: 280 m are left once on the street
    fac = gdf([Point(100, 20)], kind=["ccas"], id=["c1"])
    a = service_areas(fac, network=cross_network(), thresholds_m=[300, 100], buffer_m=5)
    assert a["threshold_m"].tolist() == [100, 300]
    expected_300 = reach([(-180, 0), (380, 0)], [(0, -180), (0, 180)], buffer_m=5)
    assert a.geometry.iloc[1].symmetric_difference(expected_300).area < 1.0
    expected_100 = reach([(20, 0), (180, 0)], buffer_m=5)  # 80 m each way, never reaching x=0
    assert a.geometry.iloc[0].symmetric_difference(expected_100).area < 1.0


def test_service_areas_per_facility_and_per_kind():
    fac = gdf([Point(-400, 0), Point(400, 0)], kind=["school", "school"], id=["w", "e"])
    per = service_areas(fac, network=cross_network(), thresholds_m=[50], by="facility", buffer_m=1)
    assert per["facility_id"].tolist() == ["w", "e"]
    assert per.geometry.area.tolist() == pytest.approx([100 * 2 + math.pi] * 2, rel=1e-3)
    both = service_areas(fac, network=cross_network(), thresholds_m=[50], buffer_m=1)
    assert len(both) == 1
    assert both.geometry.area.iloc[0] == pytest.approx(2 * (100 * 2 + math.pi), rel=1e-3)


def test_service_area_contains_every_street_point_within_the_threshold():
    net = grid_network()
    fac = gdf([Point(130, 260), Point(390, 10)], kind=["shop", "shop"])
    area = service_areas(fac, network=net, thresholds_m=[250], buffer_m=2).geometry.iloc[0]
    # street points every 5 m, with their walking distance from nearest_facility
    lines = net.to_lines().geometry
    pts = [
        p
        for line in lines
        for p in shapely.line_interpolate_point(line, np.arange(0, line.length, 5.0))
    ]
    d = nearest_facility(gdf(pts), fac, network=net)["shop_distance_m"].to_numpy()
    inside = shapely.contains_xy(area.buffer(1e-6), [p.x for p in pts], [p.y for p in pts])
    assert inside[d <= 250].all()
    assert (d > 250).any() and (~inside).any()


def test_euclidean_service_areas_are_discs():
    fac = gdf([Point(0, 0)], kind=["park"])
    a = service_areas(fac, network=None, thresholds_m=[300, 600])
    assert a["method"].tolist() == ["euclidean", "euclidean"]
    for t, geom in zip(a["threshold_m"], a.geometry, strict=True):
        assert 0.99 * math.pi * t**2 < geom.area <= math.pi * t**2


def test_service_area_bad_options():
    fac = gdf([Point(0, 0)], kind=["park"])
    with pytest.raises(CdvGeoError, match="by must be 'kind' or 'facility'"):
        service_areas(fac, network=None, by="quartier")
    with pytest.raises(CdvGeoError, match="thresholds_m must be a positive number"):
        service_areas(fac, network=None, thresholds_m=[0])
    with pytest.raises(DataValidationError, match="kinds present: park"):
        service_areas(fac, network=None, kinds="school")


def test_inputs_are_not_modified():
    origins = gdf([Point(220, 5)], id=["o1"])
    before_o = origins.copy()
    before_f = FACILITIES.copy()
    nearest_facility(origins, FACILITIES, network=t_network())
    service_areas(FACILITIES, network=t_network())
    pd.testing.assert_frame_equal(origins, before_o)
    pd.testing.assert_frame_equal(FACILITIES, before_f)
