"""read_layer / write_layer / read_qpv on real files of every supported format."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, Polygon, box

from cdv_geo import CdvGeoWarning, CRSError, DataValidationError, read_layer, read_qpv, write_layer
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


def test_unknown_kind_and_duplicate_id_in_one_error(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame(
        {"id": ["f1", "f1"], "name": ["A", "B"], "kind": ["school", "piscine"]},
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
    assert "'piscine'" in text and "used by 2 features" in text and str(path) in text


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


# --- official QPV files --------------------------------------------------------------------------


def qpv_2024(tmp_path: Path, geom_b: Polygon | None = None) -> Path:
    """A 2024-style file: QN0001 spans two communes (two features), QN0002 and QN0003 one each."""
    raw = gpd.GeoDataFrame(
        {
            "code_qp": ["QN0001", "QN0001", "QN0002", "QN0003"],
            "lib_qp": ["Les Deux Rives", "Les Deux Rives", "Presles", "Ailleurs"],
            "insee_com": ["02722", "02064", "02722", "75056"],
            "lib_com": ["Soissons", "Belleu", "Soissons", "Paris"],
            "insee_dep": ["02", "02", "02", "75"],
        },
        geometry=[
            box(X0, Y0, X0 + 100, Y0 + 100),
            box(X0 + 100, Y0, X0 + 200, Y0 + 100),
            geom_b if geom_b is not None else box(X0 + 500, Y0, X0 + 600, Y0 + 100),
            box(X0 + 900, Y0, X0 + 950, Y0 + 50),
        ],
        crs=2154,
    ).to_crs(4326)
    return write(raw, tmp_path / "qp_2024.geojson")


def test_read_qpv_2024_dissolves_split_qpv(tmp_path: Path) -> None:
    q = read_qpv(qpv_2024(tmp_path), communes=["02722"])
    assert list(q["code"]) == ["QN0001", "QN0002"]
    row = q.set_index("code").loc["QN0001"]
    assert row["commune"] == "02064;02722"
    assert row["name"] == "Les Deux Rives"
    # the two 100 m halves dissolve into one 200 m x 100 m rectangle
    merged = gpd.GeoSeries([row.geometry], crs=4326).to_crs(2154).iloc[0]
    assert merged.geom_type == "Polygon"
    assert merged.area == pytest.approx(20000.0, rel=1e-6)
    assert list(q["id"]) == ["QN0001", "QN0002"]


def test_read_qpv_filters(tmp_path: Path) -> None:
    path = qpv_2024(tmp_path)
    assert list(read_qpv(path, communes=["soissons"])["code"]) == ["QN0001", "QN0002"]
    assert list(read_qpv(path, communes=["Belleu"])["code"]) == ["QN0001"]
    assert list(read_qpv(path, codes=["QN0003"])["name"]) == ["Ailleurs"]
    assert len(read_qpv(path)) == 3
    with pytest.raises(DataValidationError, match=r"no QPV left.*02064, 02722, 75056"):
        read_qpv(path, communes=["Laon"])


def test_read_qpv_2015(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame(
        {
            "CODE_QP": ["QP002001", "QP002002"],
            "NOM_QP": ["Chevreux", "Hors commune"],
            "COMMUNE_QP": ["Soissons", "Laon"],
        },
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 300, Y0, X0 + 400, Y0 + 100)],
        crs=2154,
    )
    path = write(raw, tmp_path / "qp_2015.shp")
    q = read_qpv(path, communes=["Soissons"])
    assert list(q["code"]) == ["QP002001"] and list(q["name"]) == ["Chevreux"]
    assert q["commune"].iloc[0] == "Soissons"


def test_read_qpv_invalid_ring_points_to_repair(tmp_path: Path, bowtie: Polygon) -> None:
    bad = gpd.GeoSeries([bowtie], crs=2154).translate(500, 0).iloc[0]
    path = qpv_2024(tmp_path, geom_b=bad)
    with pytest.raises(DataValidationError) as info:
        read_qpv(path, communes=["02722"])
    assert "feature QN0002 (commune 02722): geometry is invalid" in str(info.value)
    assert "repair=True" in str(info.value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        q = read_qpv(path, communes=["02722"], repair=True)
    assert q.geometry.is_valid.all()
    assert any("repaired 1 invalid geometry" in str(w.message) for w in caught)
    assert q.attrs["repaired"][0].startswith("QN0002 (commune 02722)")


def test_read_qpv_not_a_qpv_file(tmp_path: Path, facilities_gdf: gpd.GeoDataFrame) -> None:
    path = write(facilities_gdf, tmp_path / "f.geojson")
    with pytest.raises(DataValidationError, match="not an ANCT QPV perimeter file"):
        read_qpv(path)
