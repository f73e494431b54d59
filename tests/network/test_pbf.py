"""Tests of WalkNetwork.from_osm_pbf (cdv_geo.network.pbf): the same network as from_osm_xml.

Every dataset is written twice, as OSM XML (by hand) and as PBF (osmium.SimpleWriter); the
reference is osmnx (through ``from_osm_xml``, or its truncation and simplification functions
for clipping), or distances computed by hand with pyproj.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import osmium
import osmnx as ox
import pytest
import shapely
from pyproj import Transformer
from shapely import Point

from cdv_geo.core.errors import CdvGeoWarning, NetworkError
from cdv_geo.metrics.access import nearest_facility
from cdv_geo.network import WalkNetwork
from cdv_geo.network.pbf import read_walkable_ways

DATA = Path(__file__).parent.parent / "data"
TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
LON0, LAT0, STEP = 3.32, 49.38, 0.0005  # Soissons


def at(i: float, j: float) -> tuple[float, float]:
    return (round(LON0 + i * STEP, 7), round(LAT0 + j * STEP, 7))


# A small town's extract with every case of osmnx's simplification and of the walking filter.
NODES = {
    **{k: at(k - 1, 0) for k in range(1, 10)},  # rue A (1-5, 5-7), rue C (7-9)
    10: at(2, -2), 11: at(2, -1), 12: at(2, 1), 13: at(2, 2),  # rue B crosses rue A at 3
    20: at(6, 1), 21: at(7, 1.5), 22: at(6.5, 2),  # a loop footway hanging from 7
    30: at(1, 3), 31: at(0, 4), 32: at(0, 5), 33: at(1, 5), 34: at(3, 3),
    40: at(10, 5), 41: at(11, 5), 42: at(10.5, 6),  # a loose ring: dropped, as osmnx does
    50: at(-3, -3), 51: at(-3, -4),  # a detached path
    60: at(9, 0.5), 61: at(10, 1), 62: at(11, 0),  # rue D / rue E, joined at 61
    80: at(2, 3.2), 81: at(2.5, 4), 82: at(1.6, 4.1),  # a lollipop from 13
    90: at(1.5, 0.3), 91: at(4.2, 0.2),  # a pharmacy and a bus stop (points)
}  # fmt: skip
NODE_TAGS = {90: {"amenity": "pharmacy", "name": "Pharmacie"}, 91: {"highway": "bus_stop"}}
WAYS = [
    (100, [1, 2, 3, 4, 5], {"highway": "residential", "name": "rue A"}),
    (101, [10, 11, 3, 12, 13], {"highway": "residential", "name": "rue B"}),
    (102, [5, 6, 7], {"highway": "residential", "name": "rue A"}),  # ends mid-street at 5
    (103, [7, 8, 9], {"highway": "living_street", "name": "rue C"}),
    (104, [7, 20, 21, 22, 7], {"highway": "footway"}),
    (105, [1, 2], {"highway": "service"}),  # repeats a segment of rue A
    (106, [13, 13, 30, 31, 31], {"highway": "footway"}),  # repeated nodes
    (107, [31, 32], {"highway": "motorway"}),
    (108, [32, 33], {"highway": "cycleway"}),
    (109, [33, 34, 13], {"highway": "service", "access": "private"}),
    (110, [30, 33, 34, 30], {"highway": "pedestrian", "area": "yes"}),
    (111, [40, 41, 42, 40], {"building": "yes"}),
    (112, [40, 41, 42, 40], {"highway": "footway"}),
    (113, [50, 51], {"highway": "path"}),
    (114, [9, 60, 61], {"highway": "residential", "name": "rue D"}),
    (115, [62, 61], {"highway": "residential", "name": "rue E", "oneway": "yes"}),
    (116, [13, 80, 81, 82, 80], {"highway": "footway"}),
]
RELATIONS = [(500, [("w", 100, ""), ("w", 101, "")], {"type": "route", "route": "bus"})]


def tags_xml(tags: dict[str, str]) -> list[str]:
    return [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]


def write_xml(path: Path, nodes=NODES, ways=WAYS, relations=RELATIONS, node_tags=NODE_TAGS):
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for i, (lon, lat) in nodes.items():
        out.append(f'<node id="{i}" lat="{lat:.7f}" lon="{lon:.7f}">')
        out += [*tags_xml(node_tags.get(i, {})), "</node>"]
    for i, refs, tags in ways:
        out += [f'<way id="{i}">', *(f'<nd ref="{r}"/>' for r in refs), *tags_xml(tags), "</way>"]
    for i, members, tags in relations:
        out.append(f'<relation id="{i}">')
        out += [f'<member type="way" ref="{r}" role="{role}"/>' for _, r, role in members]
        out += [*tags_xml(tags), "</relation>"]
    path.write_text("\n".join([*out, "</osm>"]), encoding="utf-8")
    return path


def write_pbf(path: Path, nodes=NODES, ways=WAYS, relations=RELATIONS, node_tags=NODE_TAGS):
    with osmium.SimpleWriter(str(path)) as w:
        for i, loc in nodes.items():
            w.add_node(osmium.osm.mutable.Node(id=i, location=loc, tags=node_tags.get(i, {})))
        for i, refs, tags in ways:
            w.add_way(osmium.osm.mutable.Way(id=i, nodes=refs, tags=tags))
        for i, members, tags in relations:
            w.add_relation(osmium.osm.mutable.Relation(id=i, members=members, tags=tags))
    return path


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        return fn(*args, **kw)


def edges(net: WalkNetwork) -> list[tuple[tuple[int, int], float]]:
    """The network's edges as (sorted OSM node ids, length rounded to the micrometre)."""
    ids = net.node_ids
    return sorted(
        (tuple(sorted((int(ids[a]), int(ids[b])))), round(float(length), 6))
        for a, b, length in zip(net.edge_u, net.edge_v, net.edge_length, strict=True)
    )


def length_m(*node_ids: int) -> float:
    """Length in Lambert-93 of the polyline through these nodes (by hand, with pyproj)."""
    x, y = TO_L93.transform(*zip(*(NODES[i] for i in node_ids), strict=True))
    return float(np.hypot(np.diff(x), np.diff(y)).sum())


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("osm")
    return write_xml(folder / "town.osm"), write_pbf(folder / "town.osm.pbf")


# --- the same network as from_osm_xml -------------------------------------------------------------


@pytest.mark.parametrize("largest", [False, True])
def test_same_network_as_osm_xml(files, largest):
    xml, pbf = files
    ref = quiet(WalkNetwork.from_osm_xml, xml, largest_component=largest)
    net = quiet(WalkNetwork.from_osm_pbf, pbf, largest_component=largest)
    assert net.crs == ref.crs
    assert net.n_nodes == ref.n_nodes and net.n_edges == ref.n_edges
    assert sorted(map(int, net.node_ids)) == sorted(map(int, ref.node_ids))
    assert net.total_length_m == pytest.approx(ref.total_length_m, abs=1e-6)
    assert edges(net) == edges(ref)
    assert net.dropped == ref.dropped


def test_nodes_and_edges_by_hand(files):
    _, pbf = files
    net = quiet(WalkNetwork.from_osm_pbf, pbf, largest_component=False)
    # end nodes: dead ends, crossings, the loops' hinges, and 2 (the service way 105 repeats
    # 1-2: three segments); shape points (4, 5, 6, 8, 11, 12, 30, 60, 61...) and the loose
    # ring (40-42) are not nodes; 32-34 are only on excluded ways; 90 and 91 are points
    assert sorted(map(int, net.node_ids)) == [1, 2, 3, 7, 10, 13, 31, 50, 51, 62, 80]
    expected = {
        (1, 2): length_m(1, 2),  # rue A and the service way 105 over it: kept once
        (2, 3): length_m(2, 3),
        (3, 7): length_m(3, 4, 5, 6, 7),  # ways 100 and 102 joined at the shape point 5
        (3, 10): length_m(3, 11, 10),
        (3, 13): length_m(3, 12, 13),
        (7, 62): length_m(7, 8, 9, 60, 61, 62),  # three ways, 115 drawn backwards
        (7, 7): length_m(7, 20, 21, 22, 7),  # the loop, counted once
        (13, 31): length_m(13, 30, 31),
        (13, 80): length_m(13, 80),
        (80, 80): length_m(80, 81, 82, 80),
        (50, 51): length_m(50, 51),
    }
    assert edges(net) == sorted((k, round(v, 6)) for k, v in expected.items())
    data = net.edge_data.set_index(net.edge_data.index)
    names = dict(zip(data["osmid"].astype(str), data["name"], strict=True))
    assert names["100;102"] == "rue A"
    assert names["103;114;115"] == "rue C;rue D;rue E"


def test_nearest_facility_same_as_osm_xml(files):
    xml, pbf = files
    ref = quiet(WalkNetwork.from_osm_xml, xml)
    net = quiet(WalkNetwork.from_osm_pbf, pbf)
    lonlat = [at(0.5, 0.4), at(2.4, 1.6), at(6.6, 1.2), at(9.5, 0.2), at(1.2, 2.8)]
    homes = gpd.GeoDataFrame(
        {"population": [1, 2, 3, 4, 5]}, geometry=[Point(p) for p in lonlat], crs=4326
    ).to_crs(2154)
    fac = gpd.GeoDataFrame(
        {"name": ["Pharmacie", "Ecole"], "kind": ["pharmacy", "school"]},
        geometry=[Point(at(1.5, 0.3)), Point(at(10.8, 0.3))],
        crs=4326,
    ).to_crs(2154)
    a = quiet(nearest_facility, homes, fac, network=ref)
    b = quiet(nearest_facility, homes, fac, network=net)
    for col in ("pharmacy_distance_m", "school_distance_m"):
        np.testing.assert_allclose(b[col], a[col], atol=1e-6)
    # the pharmacy is 0.3 steps north of node 2 on rue A: the first home walks along rue A
    _, hy = TO_L93.transform(*lonlat[0])
    _, py = TO_L93.transform(*at(1.5, 0.3))
    ax_, ay_ = TO_L93.transform(*at(0.5, 0))
    bx_, by_ = TO_L93.transform(*at(1.5, 0))
    by_hand = abs(hy - ay_) + math.hypot(bx_ - ax_, by_ - ay_) + abs(py - by_)
    assert b["pharmacy_distance_m"].iloc[0] == pytest.approx(by_hand, abs=0.05)


def test_repository_extract_converted_by_osmium(tmp_path):
    # the test suite's own OSM XML extract, converted to PBF by osmium itself
    src = DATA / "mini_walk.osm"
    pbf = tmp_path / "mini_walk.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as w:
        for obj in osmium.FileProcessor(str(src)):
            w.add(obj)
    ref = quiet(WalkNetwork.from_osm_xml, src, largest_component=False)
    net = quiet(WalkNetwork.from_osm_pbf, pbf, largest_component=False)
    assert (net.n_nodes, net.n_edges) == (ref.n_nodes, ref.n_edges)
    assert net.total_length_m == pytest.approx(ref.total_length_m, abs=1e-6)
    assert edges(net) == edges(ref)


def test_from_osm_xml_given_a_pbf_reads_it(files):
    xml, pbf = files
    from_pbf = quiet(WalkNetwork.from_osm_xml, pbf)
    assert edges(from_pbf) == edges(quiet(WalkNetwork.from_osm_xml, xml))


def test_mixed_file_keeps_walkable_lines(files):
    _, pbf = files
    ways = read_walkable_ways(pbf)
    # points (90, 91), the building, the relation and the excluded ways are left out
    assert sorted(ways.way_id.tolist()) == [100, 101, 102, 103, 104, 105, 106, 112, 113, 114,
                                            115, 116]  # fmt: skip
    assert ways.refused == {"motorway", "cycleway", "service", "pedestrian"}
    assert ways.n_highway == 16
    assert ways.refs[ways.counts[:6].sum() : ways.counts[:7].sum()].tolist() == [13, 13, 30, 31, 31]


# --- clipping -----------------------------------------------------------------------------------


def osmnx_clipped(xml: Path, polygon) -> WalkNetwork:
    """The reference: osmnx keeps the nodes inside before simplifying (graph_from_polygon)."""
    graph = ox.graph_from_xml(xml, bidirectional=True, simplify=False, retain_all=True)
    graph = ox.truncate.truncate_graph_polygon(graph, polygon)
    graph = ox.simplify_graph(graph)
    return quiet(WalkNetwork.from_graph, graph, largest_component=False)


@pytest.fixture(scope="module")
def walkable_xml(tmp_path_factory) -> Path:
    keep = [w for w in WAYS if w[0] in {100, 101, 102, 103, 104, 105, 106, 112, 113, 114, 115, 116}]
    return write_xml(tmp_path_factory.mktemp("walk") / "walk.osm", ways=keep, relations=[])


def test_bbox_as_osmnx_truncates(files, walkable_xml):
    _, pbf = files
    west, south = at(0.5, -1.5)
    east, north = at(6.2, 2.5)
    net = quiet(WalkNetwork.from_osm_pbf, pbf, bbox=(west, south, east, north),
                largest_component=False)  # fmt: skip
    ref = osmnx_clipped(walkable_xml, shapely.box(west, south, east, north))
    assert edges(net) == edges(ref)
    # by hand: rue A from 2 to 7, then the loop's first segment 7-20 (its other nodes are
    # outside: 7 becomes a shape point); rue B from 11 to 13
    assert sorted(map(int, net.node_ids)) == [2, 3, 11, 13, 20]
    assert net.total_length_m == pytest.approx(
        length_m(2, 3, 4, 5, 6, 7, 20) + length_m(11, 3, 12, 13), abs=1e-6
    )


def test_polygon_and_layer(files, walkable_xml):
    _, pbf = files
    triangle = shapely.Polygon([at(-0.5, -0.5), at(9.5, -0.5), at(2, 2.5)])
    net = quiet(WalkNetwork.from_osm_pbf, pbf, polygon=triangle, largest_component=False)
    assert edges(net) == edges(osmnx_clipped(walkable_xml, triangle))
    # the same polygon as a Lambert-93 layer (reprojected to degrees): the same network
    layer = gpd.GeoDataFrame(geometry=[triangle], crs=4326).to_crs(2154)
    net2 = quiet(WalkNetwork.from_osm_pbf, pbf, polygon=layer, largest_component=False)
    assert net2.n_edges == net.n_edges
    assert net2.total_length_m == pytest.approx(net.total_length_m, abs=1e-3)


# --- errors and warnings ------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(NetworkError, match=r"nowhere\.osm\.pbf not found"):
        WalkNetwork.from_osm_pbf(tmp_path / "nowhere.osm.pbf")


def test_no_walkable_way(tmp_path):
    pbf = write_pbf(
        tmp_path / "roads.osm.pbf",
        ways=[(1, [31, 32], {"highway": "motorway"}), (2, [40, 41], {"building": "yes"})],
        relations=[],
    )
    with pytest.raises(NetworkError, match=r"roads\.osm\.pbf has no walkable way") as exc:
        WalkNetwork.from_osm_pbf(pbf)
    assert "highway values found: motorway" in str(exc.value)
    only_points = write_pbf(tmp_path / "points.osm.pbf", ways=[], relations=[])
    with pytest.raises(NetworkError, match="no way has a highway tag"):
        WalkNetwork.from_osm_pbf(only_points)


def test_bbox_outside_the_data(files):
    _, pbf = files
    with pytest.raises(NetworkError, match=r"town\.osm\.pbf has no walkable street segment "
                       r"inside the bbox.*span lon 3\.3185 to 3\.3255"):  # fmt: skip
        WalkNetwork.from_osm_pbf(pbf, bbox=(2.0, 48.0, 2.1, 48.1))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bbox": (3.3, 49.3)}, "must be \\(west, south, east, north\\)"),
        ({"bbox": (3.4, 49.3, 3.3, 49.4)}, "west < east"),
        ({"bbox": (3.3, 49.3, 3.4, 49.4), "polygon": shapely.box(0, 0, 1, 1)}, "not both"),
        ({"polygon": Point(3.3, 49.3)}, "polygon must be"),
    ],
)
def test_bad_area(files, kwargs, match):
    with pytest.raises(NetworkError, match=match):
        WalkNetwork.from_osm_pbf(files[1], **kwargs)


def test_not_an_osm_file(tmp_path):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"this is not a PBF file at all")
    with pytest.raises(NetworkError, match=r"cannot read .*broken\.osm\.pbf"):
        WalkNetwork.from_osm_pbf(bad)


def test_missing_nodes_cut_the_ways_with_a_warning(tmp_path):
    nodes = {k: v for k, v in NODES.items() if k != 12}  # cut without complete ways
    pbf = write_pbf(tmp_path / "cut.osm.pbf", nodes=nodes)
    with pytest.warns(CdvGeoWarning, match=r"1 nodes of 1 walkable ways are missing.*first: 12"):
        net = WalkNetwork.from_osm_pbf(pbf, largest_component=False)
    # rue B stops at 3 (11-3 kept, 3-12-13 cut); 13 keeps two neighbours (30 and 80) and
    # becomes a shape point of the footways 106 and 116
    assert sorted(map(int, net.node_ids)) == [1, 2, 3, 7, 10, 31, 50, 51, 62, 80]
    assert ((31, 80), round(length_m(31, 30, 13, 80), 6)) in edges(net)


def test_only_a_loose_ring(tmp_path):
    ring = [w for w in WAYS if w[0] == 112]
    pbf = write_pbf(tmp_path / "ring.osm.pbf", ways=ring, relations=[])
    xml = write_xml(tmp_path / "ring.osm", ways=ring, relations=[])
    with pytest.raises(NetworkError, match="loose rings"):
        WalkNetwork.from_osm_pbf(pbf)
    with pytest.raises(NetworkError, match="no edges"):  # osmnx drops the ring too
        WalkNetwork.from_osm_xml(xml)
