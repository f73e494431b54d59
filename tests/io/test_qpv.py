"""read_qpv on official ANCT perimeter files: both generations, filters, repair, population."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely import Polygon, box

from cdv_geo import CdvGeoWarning, CRSError, DataValidationError, read_qpv
from tests.conftest import X0, Y0, write


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


def test_read_qpv_repair_keeps_make_valid_area(tmp_path: Path, bowtie: Polygon) -> None:
    """A bow tie repaired keeps both lobes (make_valid), not one (buffer(0) halves it)."""
    raw = gpd.GeoDataFrame(
        {"code_qp": ["QN0009"], "lib_qp": ["Noeud"], "insee_com": ["02722"]},
        geometry=[bowtie],
        crs=2154,
    )
    path = write(raw, tmp_path / "bow.gpkg")
    with pytest.warns(CdvGeoWarning, match="repaired 1 invalid geometry"):
        q = read_qpv(path, repair=True)
    expected = shapely.make_valid(bowtie).area  # reference: shapely's repair
    assert expected == pytest.approx(5000.0)  # two 2,500 m² triangles
    assert bowtie.buffer(0).area == pytest.approx(2500.0)  # what a buffer(0) repair would give
    assert q.geometry.iloc[0].area == pytest.approx(expected)
    assert q.geometry.iloc[0].is_valid


def test_read_qpv_upper_case_fields_and_any_code_column(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame(
        {
            "CODE_QP": ["QN0001", "QN0002"],
            "LIB_QP": ["Presles", "Ailleurs"],
            "CODE_COMMUNE": ["02722", "75056"],
            "NOM_COMMUNE": ["Soissons", "Paris"],
        },
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 300, Y0, X0 + 400, Y0 + 100)],
        crs=2154,
    )
    path = write(raw, tmp_path / "upper.gpkg")
    assert list(read_qpv(path, communes=["02722"])["code"]) == ["QN0001"]
    assert list(read_qpv(path, communes=["PARIS"])["code"]) == ["QN0002"]
    raw = raw.rename(columns={"CODE_COMMUNE": "DEPCOM"})
    path = write(raw, tmp_path / "depcom.gpkg")
    assert list(read_qpv(path, communes=["75056"])["name"]) == ["Ailleurs"]


def test_read_qpv_code_filter_needs_a_code_column(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame(
        {"code_qp": ["QP002001"], "nom_qp": ["Chevreux"], "commune_qp": ["Soissons"]},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100)],
        crs=2154,
    )
    path = write(raw, tmp_path / "names_only.geojson")
    with pytest.raises(DataValidationError, match=r"names_only.*INSEE codes.*pass commune names"):
        read_qpv(path, communes=["02722"])


def test_read_qpv_french_population(tmp_path: Path) -> None:
    """ "6 206" (narrow no-break space) and "1 204" (space) are numbers, not <NA>."""
    raw = gpd.GeoDataFrame(
        {
            "code_qp": ["QP002012", "QP002013", "QP002014", "QP002014"],
            "nom_qp": ["Saint-Crépin", "Presles", "Chevreux", "Chevreux"],
            "insee_com": ["02722", "02722", "02722", "02064"],
            "POP_MUN": ["6\u202f206", "1 204", "2 000", "500"],
        },
        geometry=[box(X0 + 200 * i, Y0, X0 + 200 * i + 100, Y0 + 100) for i in range(4)],
        crs=2154,
    )
    path = write(raw, tmp_path / "pop.geojson")
    q = read_qpv(path)
    # Chevreux has one feature per commune: the parts' populations add up
    assert list(q["population"]) == [6206, 1204, 2500]


def test_read_qpv_assigns_crs_to_a_file_without_one(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame(
        {"code_qp": ["QN0001"], "lib_qp": ["Presles"]}, geometry=[box(X0, Y0, X0 + 10, Y0 + 10)]
    )
    path = write(raw, tmp_path / "nocrs.gpkg")
    with pytest.raises(CRSError, match="nocrs.gpkg has no coordinate reference system"):
        read_qpv(path)
    q = read_qpv(path, crs="EPSG:2154")
    assert q.crs.to_epsg() == 2154 and q.geometry.iloc[0].area == pytest.approx(100.0)


def test_read_qpv_commune_column_holding_codes(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame(
        {
            "code": ["QP002012", "QP075001"],
            "name": ["Saint-Crépin", "X"],
            "commune": ["02722", "75056"],
        },
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 300, Y0, X0 + 400, Y0 + 100)],
        crs=2154,
    )
    path = write(raw, tmp_path / "own.geojson")
    q = read_qpv(path, communes=["02722"])
    assert list(q["code"]) == ["QP002012"] and list(q["commune"]) == ["02722"]
