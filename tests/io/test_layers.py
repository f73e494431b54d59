"""read_layer / write_layer on real files of every supported format."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, Polygon, box

from cdv_geo import CdvGeoWarning, CRSError, DataValidationError, read_layer, write_layer
from cdv_geo.io import read_vector
from tests.conftest import X0, Y0, write


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".shp", ".parquet"])
def test_read_every_format(tmp_path: Path, facilities_gdf: gpd.GeoDataFrame, ext: str) -> None:
    path = tmp_path / f"equipements{ext}"
    if ext == ".parquet":
        facilities_gdf.to_parquet(path)
    else:
        write(facilities_gdf, path)
    out = read_layer(path, "facilities")
    assert list(out["kind"]) == ["water_play_area", "health_centre"]
    assert list(out["id"]) == ["1", "2"]
    assert out.crs.to_epsg() == 2154
    assert out.geometry.iloc[1].x == pytest.approx(X0 + 700)


def test_french_file_reads_into_canonical_fields(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame(
        {
            "nom": ["Aire de jeux d'eau", "Bâtiment A"],
            "type": ["aire_de_jeux_d_eau", "démolition"],
            "nb_logements": [0, 120],
        },
        geometry=[Point(X0, Y0), Point(X0 + 50, Y0)],
        crs=2154,
    )
    fac = read_layer(write(raw.iloc[[0]], tmp_path / "fr.gpkg"), "facilities")
    assert fac["kind"].iloc[0] == "water_play_area"
    assert fac["name"].iloc[0] == "Aire de jeux d'eau"
    ren = read_layer(write(raw.iloc[[1]], tmp_path / "ren.geojson"), "renewal_sites")
    assert ren["operation"].iloc[0] == "demolition" and ren["dwellings"].iloc[0] == 120


def test_bad_year_and_duplicate_id_in_one_error(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame(
        {
            "id": ["f1", "f1"],
            "name": ["A", "B"],
            "kind": ["school", "piscine"],
            "opened": [1, 2000],
        },
        geometry=[Point(X0, Y0), Point(X0 + 1, Y0)],
        crs=2154,
    )
    path = write(raw, tmp_path / "bad.geojson")
    with pytest.raises(DataValidationError) as info:
        read_layer(path, "facilities")
    probs = info.value.problems
    assert len(probs) == 2
    assert all(p.file == str(path) for p in probs)
    assert {p.feature for p in probs} == {"f1"}
    text = str(info.value)
    assert "year 1 is outside" in text and "used by 2 features" in text and str(path) in text


def test_shapefile_without_prj_is_a_crs_error(tmp_path: Path) -> None:
    path = write(
        gpd.GeoDataFrame({"name": ["a"], "kind": ["shop"]}, geometry=[Point(X0, Y0)], crs=2154),
        tmp_path / "noprj.shp",
    )
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match=r"noprj\.shp has no coordinate reference system"):
        read_layer(path, "facilities")


def test_self_intersecting_quartier_refused_then_repaired(tmp_path: Path, bowtie: Polygon) -> None:
    raw = gpd.GeoDataFrame({"code": ["Q1"], "nom": ["Bow"]}, geometry=[bowtie], crs=2154)
    path = write(raw, tmp_path / "q.geojson")
    with pytest.raises(DataValidationError, match=r"feature Q1: geometry is invalid.*repair=True"):
        read_layer(path, "quartiers")
    with pytest.warns(CdvGeoWarning, match="repaired 1 invalid geometry"):
        q = read_layer(path, "quartiers", repair=True)
    assert q.geometry.iloc[0].is_valid and q["name"].iloc[0] == "Bow"


def test_missing_file_and_ambiguous_layer(tmp_path: Path, facilities_gdf: gpd.GeoDataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"nope\.gpkg.*file does not exist"):
        read_layer(tmp_path / "nope.gpkg", "facilities")
    path = tmp_path / "multi.gpkg"
    write(facilities_gdf, path, layer="equipements")
    write(facilities_gdf, path, layer="autres")
    with pytest.raises(DataValidationError, match=r"2 layers \(equipements, autres\).*layer="):
        read_layer(path, "facilities")
    assert len(read_layer(path, "facilities", layer="autres")) == 2


def test_unknown_layer_kind(tmp_path: Path, facilities_gdf: gpd.GeoDataFrame) -> None:
    path = write(facilities_gdf, tmp_path / "a.geojson")
    with pytest.raises(DataValidationError, match="unknown layer kind 'shops'"):
        read_layer(path, "shops")


def test_write_layer_roundtrip_and_geojson_precision(
    tmp_path: Path, facilities_gdf: gpd.GeoDataFrame
) -> None:
    path = write_layer(facilities_gdf, tmp_path / "out" / "f.geojson")
    text = path.read_text()
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326
    coords = text.split('"coordinates": [ ')[1].split(" ]")[0].split(", ")
    assert all(len(c.split(".")[1]) <= 7 for c in coords)
    exp = facilities_gdf.to_crs(4326).geometry
    assert np.allclose(back.geometry.x, exp.x, atol=1e-7)


def test_write_layer_gpkg_keeps_other_layers(
    tmp_path: Path, facilities_gdf: gpd.GeoDataFrame, square_quartiers: gpd.GeoDataFrame
) -> None:
    path = tmp_path / "pack.gpkg"
    write_layer(facilities_gdf, path, layer="facilities")
    write_layer(square_quartiers, path, layer="quartiers")
    write_layer(square_quartiers.iloc[:1], path, layer="quartiers")  # overwrite one layer
    import pyogrio

    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == {"facilities", "quartiers"}
    assert len(gpd.read_file(path, layer="quartiers")) == 1
    assert len(gpd.read_file(path, layer="facilities")) == 2


def test_write_layer_is_atomic(tmp_path: Path, facilities_gdf: gpd.GeoDataFrame) -> None:
    path = write_layer(facilities_gdf, tmp_path / "f.geojson")
    before = path.read_bytes()
    bad = facilities_gdf.assign(z=[1 + 2j, 3j])  # complex numbers: no OGR field type
    with pytest.raises(NotImplementedError):
        write_layer(bad, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.geojson"]


def test_write_layer_needs_crs_and_known_format(tmp_path: Path) -> None:
    g = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)])
    with pytest.raises(CRSError, match=r"x\.gpkg has no coordinate reference system"):
        write_layer(g, tmp_path / "x.gpkg")
    with pytest.raises(Exception, match=r"cannot tell the format of .*x\.txt"):
        write_layer(g.set_crs(2154), tmp_path / "x.txt")


def test_crs_assigned_to_a_file_without_one(tmp_path: Path) -> None:
    """A Filosofi-like grid GeoPackage whose CRS is undefined, read with crs=3035."""
    grid = gpd.GeoDataFrame(
        {"idcar_200m": ["CRS3035RES200mN2960000E3700000"], "ind": ["1 204,5"]},
        geometry=[box(3700000, 2960000, 3700200, 2960200)],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio: "'crs' was not provided"
        path = write(grid, tmp_path / "filosofi.gpkg", layer="carreaux")
    with pytest.raises(CRSError, match=r"filosofi\.gpkg has no coordinate reference system"):
        read_vector(path)
    out = read_vector(path, crs="EPSG:3035", layer="carreaux")
    assert out.crs.to_epsg() == 3035 and out.geometry.iloc[0].area == pytest.approx(40000.0)
    with pytest.raises(CRSError, match="not a valid CRS"):
        read_vector(path, crs="EPSG:999999")


def test_read_layer_crs_and_conflict(tmp_path: Path, facilities_gdf: gpd.GeoDataFrame) -> None:
    bare = facilities_gdf.set_crs(None, allow_override=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = write(bare, tmp_path / "nocrs.gpkg")
    fac = read_layer(path, "facilities", crs=2154)
    assert fac.crs.to_epsg() == 2154 and fac.geometry.iloc[1].x == pytest.approx(X0 + 700)
    known = write(facilities_gdf, tmp_path / "l93.gpkg")
    assert read_layer(known, "facilities", crs="EPSG:2154").crs.to_epsg() == 2154
    with pytest.raises(CRSError, match=r"l93\.gpkg says its CRS is EPSG:2154 but crs='EPSG:4326'"):
        read_layer(known, "facilities", crs="EPSG:4326")


def test_french_numbers_through_read_layer(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame(
        {"NB_ARBRES": ["1\u202f204", "3"], "diametre_houppier": ["4,5", "6"]},
        geometry=[Point(X0, Y0), Point(X0 + 5, Y0)],
        crs=2154,
    )
    trees = read_layer(write(raw, tmp_path / "arbres.geojson"), "tree_plantings")
    assert list(trees["trees"]) == [1204, 3]
    assert list(trees["crown_diameter_m"]) == [4.5, 6.0]


def test_a_missing_layer_name_lists_the_file_layers(
    tmp_path: Path, facilities_gdf: gpd.GeoDataFrame
) -> None:
    path = tmp_path / "ville.gpkg"
    write(facilities_gdf, path, layer="Batiments")
    write(facilities_gdf, path, layer="equipements")
    with pytest.raises(DataValidationError) as info:
        read_layer(path, "facilities", layer="batiment")
    msg = str(info.value)
    assert "ville.gpkg" in msg and "no layer 'batiment' in this file" in msg
    assert "its layers are Batiments, equipements" in msg
    # a difference of case only: the layer meant is named
    with pytest.raises(DataValidationError, match="did you mean 'Batiments'"):
        read_layer(path, "facilities", layer="batiments")
    assert len(read_layer(path, "facilities", layer="equipements")) == 2


def test_constants_fields_and_values_through_read_layer(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame(
        {
            "Title": ["Arrêt Presles", "Arrêt Chevreux"],
            "type": ["Poteau", "Abri"],  # the stop's furniture, not a kind
            "categorie": ["Santé", "Éducation"],
        },
        geometry=[Point(X0, Y0), Point(X0 + 50, Y0)],
        crs=2154,
    )
    path = write(raw, tmp_path / "arrets.geojson")
    stops = read_layer(path, "facilities", constants={"kind": "bus_stop"})
    assert list(stops["kind"]) == ["bus_stop", "bus_stop"]
    assert list(stops["name"]) == ["Arrêt Presles", "Arrêt Chevreux"]  # the Title fallback
    mapped = read_layer(
        path,
        "facilities",
        fields={"kind": "categorie"},
        values={"kind": {"SANTE": "health_centre", "éducation": "childcare"}},
    )
    assert list(mapped["kind"]) == ["health_centre", "childcare"]
