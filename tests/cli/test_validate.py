"""``cdv-geo validate`` says "valid" only when the pack will be right (issue 23 acceptance).

Generated twins of a town's public files, each with one of the mistakes met on real towns: a
Lambert-93 GeoJSON without CRS, a grid declared in the wrong CRS, a layer of another town, a
tree count field not recognised, two street networks, homes far from the network. Each fails
with the file, the layer, the evidence and the fix; a project configured as the README shows
passes and lists the categories to map.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from pyproj import Transformer
from shapely import LineString, Point, box

from cdv_geo.cli import main

# a quartier of Soissons, Lambert-93 metres: 4 km x 3 km
QX0, QY0, QX1, QY1 = 727000.0, 6919500.0, 731000.0, 6922500.0
TO_LONLAT = Transformer.from_crs(2154, 4326, always_xy=True)


@pytest.fixture
def town(tmp_path: Path) -> Path:
    """A valid start: the quartier, and streets along its four edges."""
    q = gpd.GeoDataFrame(
        {"code": ["QP002012"], "name": ["Presles"], "commune": ["02722"]},
        geometry=[box(QX0, QY0, QX1, QY1)],
        crs=2154,
    )
    q.to_file(tmp_path / "quartiers.gpkg")
    ring = [(QX0, QY0), (QX1, QY0), (QX1, QY1), (QX0, QY1), (QX0, QY0)]
    streets = gpd.GeoDataFrame(
        {"name": ["rue"] * 4},
        geometry=[LineString(ring[i : i + 2]) for i in range(4)],
        crs=2154,
    )
    streets.to_file(tmp_path / "voies.gpkg")
    return tmp_path


def project(d: Path, layers: str, extra: str = "") -> str:
    text = '[layers]\nquartiers = "quartiers.gpkg"\n' + layers + extra
    (d / "project.toml").write_text(text, encoding="utf-8")
    return str(d / "project.toml")


def run(path: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["validate", path])
    return res.exit_code, res.output


def geojson_without_crs(path: Path, xy: list[tuple[float, float]], props: list[dict]) -> None:
    """A GeoJSON as some exports write Lambert-93: metres, and no CRS member."""
    feats = [
        {"type": "Feature", "properties": p, "geometry": {"type": "Point", "coordinates": [x, y]}}
        for (x, y), p in zip(xy, props, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), "utf-8")


def test_lambert93_geojson_without_crs_fails_with_the_crs_that_fits(town: Path) -> None:
    geojson_without_crs(
        town / "equipements.geojson",
        [(728000, 6920000), (729000, 6921000)],
        [{"nom": "Pharmacie", "type": "pharmacie"}, {"nom": "Mairie", "type": "mairie"}],
    )
    code, out = run(project(town, 'facilities = "equipements.geojson"\n'))
    assert code == 2
    assert "equipements.geojson" in out and "layer facilities" in out
    assert "coordinates outside the area where EPSG:4326" in out
    assert "extent x 728,000 to 729,000, y 6,920,000 to 6,921,000" in out  # the evidence
    assert "fall on the quartiers if read as EPSG:2154" in out
    assert "Traceback" not in out


def test_a_grid_declared_in_the_wrong_crs_fails(town: Path) -> None:
    squares = [
        box(x, y, x + 200, y + 200)
        for x in range(727200, 730800, 400)
        for y in range(6919600, 6922400, 400)
    ]
    grid = gpd.GeoDataFrame(
        {"idcar_200m": [f"c{i}" for i in range(len(squares))], "ind": [20.0] * len(squares)},
        geometry=squares,
    )  # Lambert-93 metres, no CRS in the file
    grid.to_file(town / "filosofi.gpkg")
    code, out = run(project(town, 'residences = { grid = "filosofi.gpkg", crs = "EPSG:3035" }\n'))
    assert code == 2
    assert "filosofi.gpkg" in out and "layer residences" in out
    assert "outside the area where EPSG:3035 (Europe) is used" in out
    assert "read as EPSG:2154: give the file its true CRS" in out


def test_a_layer_of_another_town_fails_with_its_distance(town: Path) -> None:
    # Laon's bus stops, 30 km north-east: right CRS, wrong territory
    stops = gpd.GeoDataFrame(
        {"nom": ["Gare de Laon"]}, geometry=[Point(QX1 + 30_770, QY1 - 100)], crs=2154
    )
    stops.to_file(town / "arrets.gpkg")
    code, out = run(project(town, 'facilities = { path = "arrets.gpkg", kind = "bus_stop" }\n'))
    assert code == 2
    # the stop is 30,770 m east of the quartier's edge: 30,020 m beyond the 750 m of walk
    assert "arrets.gpkg" in out and "30.0 km away from the quartiers" in out
    assert "check that it is the right file" in out


def test_an_unrecognised_tree_count_fails_until_chosen(town: Path) -> None:
    trees = gpd.GeoDataFrame(
        {"QTE_PLANT": [12, 30], "essence": ["Tilia", "Acer"]},
        geometry=[Point(728000, 6920000), Point(728100, 6920000)],
        crs=2154,
    )
    trees.to_file(town / "arbres.gpkg")
    code, out = run(project(town, 'tree_plantings = "arbres.gpkg"\n'))
    assert code == 2
    assert "which field holds the number of trees?" in out
    assert 'set count_field = "QTE_PLANT"' in out
    code, out = run(
        project(town, 'tree_plantings = { path = "arbres.gpkg", count_field = "QTE_PLANT" }\n')
    )
    assert code == 0, out


def test_two_street_networks_are_an_error(town: Path) -> None:
    (town / "extrait.osm").write_text('<osm version="0.6"></osm>', encoding="utf-8")
    code, out = run(
        project(town, 'streets = "voies.gpkg"\n', '[network]\nosm_xml = "extrait.osm"\n')
    )
    assert code == 2
    assert "two sources for the walking network" in out and "voies.gpkg" in out
    assert "keep one" in out


def test_a_network_extract_that_misses_the_quartier_is_an_error(town: Path) -> None:
    lon, lat = TO_LONLAT.transform(QX0 + 500, QY0 + 500)  # one corner of the quartier only
    (town / "extrait.osm").write_text(
        '<osm version="0.6">'
        f'<node id="1" lat="{lat}" lon="{lon}"/><node id="2" lat="{lat + 0.002}" lon="{lon}"/>'
        "</osm>",
        encoding="utf-8",
    )
    code, out = run(project(town, "", '[network]\nosm_xml = "extrait.osm"\n'))
    assert code == 2
    assert "covers only part of the territory: quartier(s) Presles (QP002012)" in out


@pytest.mark.parametrize(("far", "fails"), [(2, False), (3, True)])
def test_homes_far_from_the_network_both_sides_of_the_share(
    town: Path, far: int, fails: bool
) -> None:
    # 10 homes: (10 - far) 50 m from the southern street, `far` in the middle (1.5 km away)
    xy = [(QX0 + 300 * (i + 1), QY0 + 50) for i in range(10 - far)]
    xy += [(QX0 + 2000 + 10 * i, QY0 + 1500) for i in range(far)]
    homes = gpd.GeoDataFrame(
        {"nb_logements": [10] * 10}, geometry=[Point(x, y) for x, y in xy], crs=2154
    )
    homes.to_file(town / "logements.gpkg")
    code, out = run(project(town, 'streets = "voies.gpkg"\nresidences = "logements.gpkg"\n'))
    if fails:
        assert code == 2
        assert "3 of 10 homes (30%; at most 20% allowed) lie farther than 200 m" in out
        assert "logements.gpkg" in out and "max_snap_m" in out
    else:
        assert code == 0, out


def test_the_readme_project_validates_and_lists_the_categories_to_map(town: Path) -> None:
    stops = gpd.GeoDataFrame(
        {"nom": ["Presles", "Chevreux"]},
        geometry=[Point(728000, QY0 + 50), Point(729000, QY0 + 50)],  # along the streets
        crs=2154,
    )
    stops.to_file(town / "arrets.gpkg")
    register = gpd.GeoDataFrame(
        {"Title": ["CLSH Les Lutins", "Maison de santé"], "categorie": ["Éducation", "Santé"]},
        geometry=[Point(728000, QY1 - 50), Point(729000, QY1 - 50)],
        crs=2154,
    )
    register.to_file(town / "equipements.gpkg")
    lon, lat = TO_LONLAT.transform(QX0 + 50, 6921000)
    feature = {
        "type": "Feature",
        "properties": {"@id": "node/7", "amenity": "pharmacy", "name": "Pharmacie du Centre"},
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }
    (town / "osm.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), "utf-8"
    )
    code, out = run(
        project(
            town,
            'streets = "voies.gpkg"\n'
            "facilities = [\n"
            '  { path = "arrets.gpkg", kind = "bus_stop" },\n'
            '  { path = "equipements.gpkg", kind_field = "categorie", name_field = "Title", '
            'kinds = { "Santé" = "health_centre" } },\n'
            '  { osm = "osm.geojson" },\n'
            "]\n",
        )
    )
    assert code == 0, out
    assert "is valid" in out
    assert "facilities  5" in out and "arrets.gpkg; equipements.gpkg; osm.geojson" in out
    assert "1 feature of category 'Éducation' kept as a separate kind" in out
    assert 'kinds = { "Éducation" = "school" }' in out
