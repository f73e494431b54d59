"""project.toml takes its facilities from the BPE or an OpenStreetMap extract, as published."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely import Point, box

from cdv_geo.core.errors import CdvGeoError, DataValidationError
from cdv_geo.territory import Territory
from tests.io.test_bpe import ROWS, bpe_file
from tests.io.test_osm import OSM_XML


@pytest.fixture
def quartiers(tmp_path: Path) -> Path:
    q = gpd.GeoDataFrame(
        {"code": ["QP002012"], "name": ["Saint-Crépin Ouest"], "commune": ["02722"]},
        geometry=[box(722000, 6919500, 731000, 6922500)],  # (covers the OSM and BPE twins)
        crs=2154,
    )
    path = tmp_path / "quartiers.geojson"
    q.to_file(path)
    return path


def test_facilities_from_the_bpe_cut_to_the_quartiers_communes(tmp_path, quartiers):
    bpe_file(tmp_path, ROWS)
    (tmp_path / "project.toml").write_text(
        "[layers]\n"
        'quartiers = "quartiers.geojson"\n'
        'facilities = { bpe = "bpe21_ensemble_xy.csv", types = ["D307", "D108", "F1"] }\n',
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = Territory.from_file(tmp_path / "project.toml")
    # 02722's pharmacy, health centre and gymnasium; 02064's pharmacy is another commune
    assert sorted(t.facilities["kind"]) == ["health_centre", "pharmacy", "sports"]
    assert set(t.facilities["commune"]) == {"02722"}


def test_facilities_from_an_osm_extract(tmp_path, quartiers):
    (tmp_path / "soissons.osm").write_text(OSM_XML, encoding="utf-8")
    (tmp_path / "project.toml").write_text(
        "[layers]\n"
        'quartiers = "quartiers.geojson"\n'
        'facilities = { osm = "soissons.osm", kinds = ["pharmacy", "bus_stop"] }\n',
        encoding="utf-8",
    )
    t = Territory.from_file(tmp_path / "project.toml")
    assert list(t.facilities["kind"]) == ["pharmacy", "bus_stop"]


def test_a_missing_bpe_file_is_a_problem_of_the_project(tmp_path, quartiers):
    (tmp_path / "project.toml").write_text(
        '[layers]\nquartiers = "quartiers.geojson"\nfacilities = { bpe = "absent.csv" }\n',
        encoding="utf-8",
    )
    with pytest.raises(CdvGeoError, match=r"absent\.csv"):
        Territory.from_file(tmp_path / "project.toml")


def _register(tmp_path: Path) -> None:
    """The town's own files: bus stops (no kind), a register with its categories, OSM export."""
    import json

    x, y = 728000.0, 6920500.0
    stops = gpd.GeoDataFrame(
        {"nom": ["Presles", "Chevreux", None]},
        geometry=[Point(x, y), Point(x + 300, y), Point(x + 600, y)],
        crs=2154,
    )
    stops.to_file(tmp_path / "arrets.gpkg")
    register = gpd.GeoDataFrame(
        {
            "Title": ["CLSH Les Lutins", "Maison de santé Saint-Crépin", "École Jean Macé"],
            "nom": [None, None, None],
            "categorie": ["Éducation", "Santé", "Éducation"],
        },
        geometry=[Point(x, y + 200), Point(x + 300, y + 200), Point(x + 600, y + 200)],
        crs=2154,
    )
    register.to_file(tmp_path / "equipements.gpkg")
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(x + 100, y + 400)
    feature = {
        "type": "Feature",
        "properties": {"@id": "node/7", "amenity": "pharmacy", "name": "Pharmacie du Centre"},
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }
    (tmp_path / "osm.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
    )


def test_several_facility_layers_configured_without_python(tmp_path, quartiers):
    _register(tmp_path)
    (tmp_path / "project.toml").write_text(
        "[layers]\n"
        'quartiers = "quartiers.geojson"\n'
        "facilities = [\n"
        '  { path = "arrets.gpkg", kind = "bus_stop" },\n'
        '  { path = "equipements.gpkg", kind_field = "categorie", name_field = "Title",'
        '    kinds = { "Santé" = "health_centre" } },\n'
        '  { osm = "osm.geojson" },\n'
        "]\n",
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = Territory.from_file(tmp_path / "project.toml")
    fac = t.facilities
    assert list(fac["kind"]) == [
        "bus_stop",
        "bus_stop",
        "bus_stop",
        "education",  # "Éducation" is too generic to be "school": its own kind
        "health_centre",
        "education",
        "pharmacy",
    ]
    assert list(fac["name"])[3:] == [
        "CLSH Les Lutins",
        "Maison de santé Saint-Crépin",
        "École Jean Macé",
        "Pharmacie du Centre",
    ]
    assert list(fac["name"])[:3] == ["Presles", "Chevreux", "Arrêt de bus"]
    assert fac["id"].is_unique and fac["id"].iloc[0] == "arrets-1"
    assert fac.attrs["ambiguous_kinds"] == {"education": ("Éducation", 2)}
    assert "arrets.gpkg" in fac.attrs["source"] and "osm.geojson" in fac.attrs["source"]


def test_the_planner_maps_the_ambiguous_category(tmp_path, quartiers):
    _register(tmp_path)
    (tmp_path / "project.toml").write_text(
        "[layers]\n"
        'quartiers = "quartiers.geojson"\n'
        'facilities = { path = "equipements.gpkg", kind_field = "categorie", '
        'kinds = { "Éducation" = "other", "Santé" = "health_centre" } }\n',
        encoding="utf-8",
    )
    t = Territory.from_file(tmp_path / "project.toml")
    assert list(t.facilities["kind"]) == ["other", "health_centre", "other"]
    assert "ambiguous_kinds" not in t.facilities.attrs


def test_field_options_on_the_wrong_layer_and_a_bad_entry(tmp_path, quartiers):
    _register(tmp_path)
    (tmp_path / "project.toml").write_text(
        "[layers]\n"
        'quartiers = { path = "quartiers.geojson", kind = "bus_stop" }\n'
        'facilities = [ { path = "arrets.gpkg", kind = "bus_stop" }, { nom = "x" } ]\n',
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as info:
        Territory.from_file(tmp_path / "project.toml")
    msg = str(info.value)
    assert "option(s) kind apply to facilities layers only" in msg
    assert "facilities entry #2: give a path" in msg and "unknown option(s) ['nom']" in msg


def test_tree_count_field_in_project(tmp_path, quartiers):
    trees = gpd.GeoDataFrame(
        {"QTE_PLANT": [12, 30]},
        geometry=[Point(728000, 6920500), Point(728100, 6920500)],
        crs=2154,
    )
    trees.to_file(tmp_path / "arbres.gpkg")
    base = '[layers]\nquartiers = "quartiers.geojson"\n'
    (tmp_path / "project.toml").write_text(
        base + 'tree_plantings = "arbres.gpkg"\n', encoding="utf-8"
    )
    with pytest.raises(DataValidationError, match='set count_field = "QTE_PLANT"'):
        Territory.from_file(tmp_path / "project.toml")
    (tmp_path / "project.toml").write_text(
        base + 'tree_plantings = { path = "arbres.gpkg", count_field = "QTE_PLANT" }\n',
        encoding="utf-8",
    )
    assert int(Territory.from_file(tmp_path / "project.toml").tree_plantings["trees"].sum()) == 42
