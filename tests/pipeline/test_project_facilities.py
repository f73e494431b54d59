"""project.toml takes its facilities from the BPE or an OpenStreetMap extract, as published."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import box

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.territory import Territory
from tests.io.test_bpe import ROWS, bpe_file
from tests.io.test_osm import OSM_XML


@pytest.fixture
def quartiers(tmp_path: Path) -> Path:
    q = gpd.GeoDataFrame(
        {"code": ["QP002012"], "name": ["Saint-Crépin Ouest"], "commune": ["02722"]},
        geometry=[box(727000, 6919500, 731000, 6922000)],
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
