"""A small town built from files in the formats the State and OpenStreetMap publish (issue 13).

In ``tmp_path``, around Soissons (Lambert-93): the geolocated BPE (``;``, ``TYPEQU``,
``LAMBERT_X``/``LAMBERT_Y``, ``QUALITE_XY``, ``DEPCOM``, ``QP``), an OpenStreetMap PBF with
streets, points and areas, a Filosofi grid GeoPackage without CRS holding two layers, the ANCT
QPV file (``code_qp``, ``insee_com``, population written ``"6 206"``) and a tree layer counted
in ``nbArbres``. ``cdv-geo validate`` then ``cdv-geo report`` run on its ``project.toml``, and
the numbers are checked by hand and against networkx.

The street grid is drawn so that every distance is obvious: streets run along x = 100, 300,
500, 700 and y = 100, 500 (metres from the origin), the grid squares' centres lie on street
crossings or on the vertical streets, so the walk between two of them is the Manhattan
distance, a multiple of 200 m, far from the thresholds (5 min = 375 m, 10 min = 750 m).
"""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Transformer
from shapely import Point, box

from cdv_geo.cli import main
from cdv_geo.core.errors import CdvGeoWarning, CRSError
from cdv_geo.io import facilities_from_osm, read_bpe, read_layer, read_qpv
from cdv_geo.metrics.residences_grid import residences_from_grid
from cdv_geo.network import WalkNetwork

X0, Y0 = 728_400.0, 6_920_700.0  # Soissons, Lambert-93
TO_DEG = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
XS = (100, 300, 500, 700)  # vertical streets
YS = (100, 500)  # horizontal streets
SPEED = 4.5 * 1000 / 60  # metres per minute


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_DEG.transform(X0 + x, Y0 + y)
    return round(lon, 7), round(lat, 7)


# --- the published files ------------------------------------------------------------------------


def street_nodes() -> dict[tuple[int, int], int]:
    """OSM node ids of the street grid: every 100 m along each street."""
    pts = {(x, y) for x in XS for y in range(0, 601, 100)}
    pts |= {(x, y) for y in YS for x in range(0, 801, 100)}
    return {p: i for i, p in enumerate(sorted(pts), start=1)}


def write_osm(path: Path) -> dict[tuple[int, int], int]:
    """Streets, a motorway (not walked), a pharmacy, a bus stop, a sports hall, a bench."""
    ids = street_nodes()
    with osmium.SimpleWriter(str(path)) as w:
        for (x, y), i in ids.items():
            w.add_node(osmium.osm.mutable.Node(id=i, location=lonlat(x, y)))
        extra = {
            1001: ((100, 100), {"amenity": "pharmacy", "name": "Pharmacie du Centre"}),
            1002: ((700, 300), {"highway": "bus_stop", "name": "Presles"}),
            1003: ((300, 300), {"amenity": "bench"}),  # not a facility
            1010: ((-100, -50), {}),
            1011: ((900, -50), {}),
        }
        for i, ((x, y), tags) in extra.items():
            w.add_node(osmium.osm.mutable.Node(id=i, location=lonlat(x, y), tags=tags))
        hall = [(520, 320), (580, 320), (580, 380), (520, 380)]
        for k, (x, y) in enumerate(hall):
            w.add_node(osmium.osm.mutable.Node(id=1020 + k, location=lonlat(x, y)))
        wid = 1
        for x in XS:
            refs = [ids[(x, y)] for y in range(0, 601, 100)]
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags={"highway": "residential"}))
            wid += 1
        for y in YS:
            refs = [ids[(x, y)] for x in range(0, 801, 100)]
            tags = {"highway": "tertiary", "name": f"Rue {y}"}
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
            wid += 1
        w.add_way(osmium.osm.mutable.Way(id=50, nodes=[1010, 1011], tags={"highway": "motorway"}))
        w.add_way(
            osmium.osm.mutable.Way(
                id=60, nodes=[1020, 1021, 1022, 1023, 1020], tags={"leisure": "sports_hall"}
            )
        )
        w.add_relation(
            osmium.osm.mutable.Relation(
                id=70, members=[("w", 5, ""), ("w", 6, "")], tags={"type": "route"}
            )
        )
    return ids


BPE_HEADER = "AN;REG;DEP;DEPCOM;DCIRIS;QP;TYPEQU;LAMBERT_X;LAMBERT_Y;QUALITE_XY"
BPE_ROWS = [  # (DEPCOM, QP, TYPEQU, x, y, QUALITE_XY) in metres from the origin
    ("02722", "QP002012", "D108", 300, 500, "Bonne"),  # health centre
    ("02722", "QP002013", "D307", 700, 500, "Bonne"),  # pharmacy
    ("02722", "CSZ", "A501", 500, 100, "Acceptable"),  # hairdresser: a kind of its own
    ("02722", "CSZ", "D201", None, None, "Non géolocalisé"),  # no coordinates: left out
    ("02064", "CSZ", "D307", 300, 300, "Bonne"),  # another commune: filtered out
]


def write_bpe(path: Path) -> None:
    lines = [BPE_HEADER]
    for dep, qp, typ, x, y, quality in BPE_ROWS:
        xy = ("", "") if x is None else (f"{X0 + x:.1f}", f"{Y0 + y:.1f}")
        lines.append(f"2021;32;02;{dep};{dep}0000;{qp};{typ};{xy[0]};{xy[1]};{quality}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))


QUARTIERS = [  # code_qp, lib_qp, insee_com, pop (as ANCT writes it), box in metres
    ("QP002012", "Saint-Crépin", "02722", "6 206", (0, 0, 400, 200)),
    ("QP002013", "Presles", "02722", "1\u202f204", (400, 200, 800, 600)),
    ("QP002099", "Ailleurs", "02064", "800", (1000, 0, 1200, 200)),
]


def write_qpv(path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {
            "code_qp": [q[0] for q in QUARTIERS],
            "lib_qp": [q[1] for q in QUARTIERS],
            "insee_com": [q[2] for q in QUARTIERS],
            "lib_com": ["Soissons", "Soissons", "Belleu"],
            "pop_mun": [q[3] for q in QUARTIERS],
        },
        geometry=[box(X0 + a, Y0 + b, X0 + c, Y0 + d) for *_, (a, b, c, d) in QUARTIERS],
        crs=2154,
    ).to_crs(4326)
    gdf.to_file(path, driver="GeoJSON")


# Filosofi 200 m squares over [0, 800] x [0, 600]: residents of each square, by centre
SQUARES = {
    (100, 100): 120, (300, 100): 80, (500, 100): 40, (700, 100): 10,
    (100, 300): 30, (300, 300): 50, (500, 300): 200, (700, 300): 90,
    (100, 500): 20, (300, 500): 60, (500, 500): 150, (700, 500): 70,
}  # fmt: skip


def write_grid(path: Path) -> None:
    """Two layers, no CRS (GDAL's 'Undefined SRS'), Filosofi 2019 columns."""
    rows = list(SQUARES.items())
    grid = gpd.GeoDataFrame(
        {
            "Idcar_200m": [f"CRS3035RES200mN{i:07d}E{i:07d}" for i in range(len(rows))],
            "Ind": [float(p) for _, p in rows],
            "Men": [round(p / 2.3, 1) for _, p in rows],
            "Men_pauv": [round(p / 10, 1) for _, p in rows],
            "Ind_0_3": [round(p * 0.05, 1) for _, p in rows],
            "Ind_4_5": [round(p * 0.03, 1) for _, p in rows],
            "Ind_6_10": [round(p * 0.07, 1) for _, p in rows],
            "Ind_11_17": [round(p * 0.1, 1) for _, p in rows],
        },
        geometry=[
            box(X0 + x - 100, Y0 + y - 100, X0 + x + 100, Y0 + y + 100) for (x, y), _ in rows
        ],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "'crs' was not provided": the point of the file
        grid.to_file(path, layer="carreaux_200m_met", driver="GPKG")
        grid.iloc[:2].to_file(path, layer="carreaux_200m_mart", driver="GPKG")


TREES = [(150, 100, 3), (350, 150, 5), (600, 400, 12), (1500, 1500, 7)]  # x, y, nbArbres


def write_trees(path: Path) -> None:
    gpd.GeoDataFrame(
        {"nbArbres": [t[2] for t in TREES], "essence": ["Tilia", "Acer", "Quercus", "Tilia"]},
        geometry=[Point(X0 + x, Y0 + y) for x, y, _ in TREES],
        crs=2154,
    ).to_file(path, driver="GPKG", layer="arbres")


@pytest.fixture(scope="module")
def town(tmp_path_factory) -> Path:
    """The files, the facilities layer made from the BPE and OSM, and the project file."""
    d = tmp_path_factory.mktemp("soissons")
    write_osm(d / "soissons.osm.pbf")
    write_bpe(d / "bpe21_ensemble_xy.csv")
    write_qpv(d / "QP2024_France.geojson")
    write_grid(d / "carreaux_200m.gpkg")
    write_trees(d / "arbres.gpkg")
    # the project file cannot yet name the BPE or an OSM extract as facilities: merge them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        bpe = read_bpe(d / "bpe21_ensemble_xy.csv", communes=["02722"])
        osm = facilities_from_osm(d / "soissons.osm.pbf", crs="EPSG:2154")
    cols = ["name", "kind"]
    fac = pd.concat([bpe[[*cols, "geometry"]], osm[[*cols, "geometry"]]], ignore_index=True)
    gpd.GeoDataFrame(fac, geometry="geometry", crs=2154).to_file(d / "equipements.gpkg")
    (d / "project.toml").write_text(
        """
[territory]
name = "Soissons (test)"
crs = "EPSG:2154"

[settings]
walking_speed_kmh = 4.5
thresholds_min = [5, 10]

[layers]
quartiers = { path = "QP2024_France.geojson", official = true, communes = ["02722"] }
facilities = "equipements.gpkg"
residences = { grid = "carreaux_200m.gpkg", layer = "carreaux_200m_met", crs = "EPSG:2154" }
tree_plantings = { path = "arbres.gpkg", layer = "arbres" }

[network]
osm_pbf = "soissons.osm.pbf"
""",
        encoding="utf-8",
    )
    return d


# --- the readers, one by one ---------------------------------------------------------------------


def test_bpe_read(town):
    with pytest.warns(CdvGeoWarning, match="left out 1 of 4 rows"):
        fac = read_bpe(town / "bpe21_ensemble_xy.csv", communes=["02722"])
    assert fac["kind"].tolist() == ["health_centre", "pharmacy", "coiffure"]
    assert fac["qpv"].tolist() == ["QP002012", "QP002013", ""]
    x, y = fac.geometry.x - X0, fac.geometry.y - Y0
    assert list(zip(x.round(3), y.round(3), strict=True)) == [(300, 500), (700, 500), (500, 100)]


def test_osm_facilities_read(town):
    with pytest.warns(CdvGeoWarning, match="1 facilities have no name"):  # the sports hall
        fac = facilities_from_osm(town / "soissons.osm.pbf", crs="EPSG:2154")
    assert sorted(fac["kind"]) == ["bus_stop", "pharmacy", "sports"]  # not the bench
    pharmacy = fac.loc[fac["kind"] == "pharmacy"].geometry.iloc[0]
    assert pharmacy.distance(Point(X0 + 100, Y0 + 100)) < 0.02  # 1e-7 degree rounding


def test_qpv_read_by_commune_code_with_french_population(town):
    q = read_qpv(town / "QP2024_France.geojson", communes=["02722"])
    assert q["code"].tolist() == ["QP002012", "QP002013"]
    assert q["population"].tolist() == [6206, 1204]  # "6 206", "1 204": numbers, not NA
    by_code = read_qpv(town / "QP2024_France.geojson", codes=["QP002099"])
    assert by_code["name"].tolist() == ["Ailleurs"]


def test_trees_counted_in_nbarbres(town):
    trees = read_layer(town / "arbres.gpkg", "tree_plantings", layer="arbres")
    assert trees["trees"].tolist() == [3, 5, 12, 7]  # not 1 per point


def test_grid_without_crs_and_several_layers(town):
    grid = town / "carreaux_200m.gpkg"
    homes = residences_from_grid(grid, layer="carreaux_200m_met", crs="EPSG:2154")
    assert homes.crs.to_epsg() == 2154
    assert homes["population"].sum() == sum(SQUARES.values())
    other = residences_from_grid(grid, layer="carreaux_200m_mart", crs="EPSG:2154")
    assert len(other) == 2


@pytest.mark.parametrize("srs_id", [-1, 0])
def test_grid_with_an_undefined_srs_id(town, tmp_path, srs_id):
    """GDAL reads srs_id -1 / 0 as "Undefined ... SRS": treated as no CRS, crs= assigns one."""
    grid = tmp_path / "carreaux.gpkg"
    grid.write_bytes((town / "carreaux_200m.gpkg").read_bytes())
    with sqlite3.connect(grid) as con:
        con.execute("UPDATE gpkg_geometry_columns SET srs_id = ?", (srs_id,))
        con.execute("UPDATE gpkg_contents SET srs_id = ?", (srs_id,))
    homes = residences_from_grid(grid, layer="carreaux_200m_met", crs="EPSG:2154")
    assert homes.crs.to_epsg() == 2154
    with pytest.raises(CRSError, match='crs="EPSG:2154"'):
        residences_from_grid(grid, layer="carreaux_200m_met")


# --- the whole project through the command line --------------------------------------------------


def walking_distances(sources: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
    """Walking distance from the nearest of `sources` to every street node, with networkx.

    The graph joins consecutive OSM nodes of every street (their Lambert-93 coordinates, from
    the rounded degrees of the file, as any reader sees them).
    """
    ids = street_nodes()
    xy = {p: TO_L93.transform(*lonlat(*p)) for p in ids}
    pairs = [((x, y), (x, y + 100)) for x in XS for y in range(0, 600, 100)]
    pairs += [((x, y), (x + 100, y)) for y in YS for x in range(0, 800, 100)]
    graph = nx.Graph()
    for a, b in pairs:
        graph.add_edge(a, b, weight=float(np.hypot(*np.subtract(xy[a], xy[b]))))
    return nx.multi_source_dijkstra_path_length(graph, sources)


def covered_share(sources, codes_boxes, minutes: float) -> dict[str, float]:
    """Share of the grid's residents within `minutes` of a source, by quartier and in ``qpv``."""
    dist = walking_distances(sources)
    out = {}
    in_some: dict[tuple[int, int], int] = {}
    for code, (a, b, c, d) in codes_boxes.items():
        inside = {p: n for p, n in SQUARES.items() if a <= p[0] <= c and b <= p[1] <= d}
        in_some.update(inside)
        covered = sum(n for p, n in inside.items() if dist[p] <= minutes * SPEED)
        out[code] = covered / sum(inside.values())
    # qpv: the squares' residents in some quartier (the ones outside count in no row)
    covered = sum(n for p, n in in_some.items() if dist[p] <= minutes * SPEED)
    out["qpv"] = covered / sum(in_some.values())
    return out


def test_validate_then_report(town, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["validate", str(town / "project.toml")])
    assert res.exit_code == 0, res.output
    assert "is valid" in res.output
    assert "tree_plantings" in res.output and "residences" in res.output
    out = tmp_path / "pack"
    res = runner.invoke(main, ["report", str(town / "project.toml"), "--out", str(out)])
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert (out / "index.html").is_file()


@pytest.fixture(scope="module")
def metrics(town):
    """The pipeline's metrics of the project (what `cdv-geo report` writes)."""
    from cdv_geo.pipeline import compute_metrics
    from cdv_geo.territory import Territory

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        t = Territory.from_file(town / "project.toml")
        return t, compute_metrics(t)


def test_counts_of_the_project(metrics):
    t, _ = metrics
    # 3 BPE rows of the commune with coordinates + pharmacy, bus stop, sports hall from OSM
    assert len(t.facilities) == 6
    assert sorted(t.facilities["kind"]) == sorted(
        ["health_centre", "pharmacy", "coiffure", "pharmacy", "bus_stop", "sports"]
    )
    assert t.quartiers["code"].tolist() == ["QP002012", "QP002013"]
    assert t.quartiers["population"].tolist() == [6206, 1204]
    assert t.tree_plantings["trees"].sum() == 27  # 3 + 5 + 12 + 7, not 4 points
    assert t.residences["population"].sum() == sum(SQUARES.values())


def test_tables_of_the_project(metrics):
    _, m = metrics
    # trees by hand: (150, 100) 3 and (350, 150) 5 in QP002012, (600, 400) 12 in QP002013,
    # (1500, 1500) 7 outside: in no row (the project has no communes layer: no commune row)
    trees = m.trees.xs("all", level="year")["n_trees"]
    assert trees.to_dict() == {"QP002012": 8, "QP002013": 12, "qpv": 20}
    key = m.key_figures
    assert key["n_trees"].to_dict() == {"QP002012": 8, "QP002013": 12, "qpv": 20}
    # facilities by hand: the OSM pharmacy in QP002012; the BPE pharmacy, the bus stop and
    # the sports hall in QP002013; the health centre and the hairdresser outside
    assert key["n_facilities"].to_dict() == {"QP002012": 1, "QP002013": 3, "qpv": 4}
    assert key.loc[["QP002012", "QP002013"], "n_residents"].tolist() == [6206, 1204]
    assert key.loc[["QP002012", "QP002013"], "population_source"].tolist() == ["official"] * 2


def test_network_of_the_project(metrics):
    _, m = metrics
    net = m.network
    assert isinstance(net, WalkNetwork) and net.crs.to_epsg() == 2154
    # 4 streets of 600 m and 2 of 800 m; the motorway is not walked
    assert net.total_length_m == pytest.approx(4 * 600 + 2 * 800, abs=0.5)
    # end nodes: 8 crossings, 8 dead ends of the vertical streets, 4 of the horizontal ones
    assert net.n_nodes == 20


def test_coverage_weighted_by_the_grid_population(metrics):
    _, m = metrics
    boxes = {q[0]: q[4] for q in QUARTIERS[:2]}
    cov = m.coverage
    pharmacies = [(100, 100), (700, 500)]  # OSM and BPE
    for minutes in (5.0, 10.0):
        expected = covered_share(pharmacies, boxes, minutes)
        got = cov.xs(("pharmacy", minutes), level=("kind", "threshold_min"))["covered_share"]
        for code, share in expected.items():
            assert got[code] == pytest.approx(share, abs=1e-9), (minutes, code)
    # by hand at 5 minutes (375 m): QP002012's squares (100,100) at 0 m and (300,100) at
    # 200 m; QP002013's (700,500) at 0, (500,500) and (700,300) at 200, (500,300) at 400
    got5 = cov.xs(("pharmacy", 5.0), level=("kind", "threshold_min"))["covered_share"]
    assert got5["QP002012"] == pytest.approx(1.0)
    assert got5["QP002013"] == pytest.approx((150 + 90 + 70) / (200 + 90 + 150 + 70))
