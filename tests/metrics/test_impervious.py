"""Sealed share and its change, on rasters whose answers are known by hand."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from cdv_geo.core.errors import CRSError, DataValidationError, LayerTypeError, RasterError
from cdv_geo.metrics.impervious import impervious_change, impervious_share
from cdv_geo.testing import assert_metric_table

from .renat_helpers import X, Y, two_quartiers, write_raster


@pytest.fixture
def quartiers() -> gpd.GeoDataFrame:
    return two_quartiers()


def test_impervious_share_and_change(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    # 10 x 20 pixels of 10 m over both quartiers: Alpha 80 % sealed, Beta 40 %
    before = np.zeros((10, 20), dtype="uint8")
    before[:, :10], before[:, 10:] = 80, 40
    after = before.copy()
    after[0:2, 0:2] = 0  # a 20 m x 20 m yard de-sealed in Alpha
    b = write_raster(tmp_path / "b.tif", before)
    a = write_raster(tmp_path / "a.tif", after)
    s = impervious_share(quartiers, b)
    assert_metric_table(s, quartiers)
    assert list(s.columns) == [
        "name",
        "impervious_share",
        "impervious_m2",
        "area_m2",
        "nodata_share",
    ]
    assert s.loc["QA", "impervious_share"] == pytest.approx(0.8)
    assert s.loc["QB", "impervious_share"] == pytest.approx(0.4)
    assert s.loc["QA", "area_m2"] == pytest.approx(10_000)
    assert s.loc["QA", "impervious_m2"] == pytest.approx(8_000)
    # the qpv row measures both quartiers together: (8,000 + 4,000) / 20,000
    assert list(s.index) == ["QA", "QB", "qpv"]  # no communes: no commune, no hors_qpv
    assert s.loc["qpv", "name"] == "Ensemble des QPV"
    assert s.loc["qpv", "impervious_share"] == pytest.approx(0.6)
    assert s.loc["qpv", "area_m2"] == pytest.approx(20_000)
    ch = impervious_change(quartiers.to_crs(4326), b, a)
    assert_metric_table(ch, quartiers)
    # 400 m² of 80 % sealed pixels lost in 10,000 m²: -0.8 x 400 / 10,000 = -3.2 pp
    assert ch.loc["QA", "impervious_change_pp"] == pytest.approx(-3.2, abs=1e-5)
    assert ch.loc["QB", "impervious_change_pp"] == pytest.approx(0.0, abs=1e-9)
    assert ch.loc["QA", "impervious_after_share"] == pytest.approx(0.768, abs=1e-7)
    assert ch.loc["qpv", "impervious_change_pp"] == pytest.approx(-1.6, abs=1e-5)


def test_partly_outside_and_nodata_reasons(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    # the raster covers Alpha only, and its north-west pixel is nodata
    v = np.full((10, 10), 50, dtype="uint8")
    v[0, 0] = 255
    p = write_raster(tmp_path / "west.tif", v)
    s = impervious_share(quartiers, p)
    assert_metric_table(s, quartiers)
    assert s.loc["QA", "nodata_share"] == pytest.approx(0.01)
    assert np.isnan(s.loc["QB", "impervious_share"])
    assert s.loc["QB", "reason"] == "outside the raster"
    assert s.loc["qpv", "reason"] == "partly outside the raster (50% of its area)"
    assert s.loc["qpv", "impervious_share"] == pytest.approx(0.5)


def town(east: float = X + 305) -> gpd.GeoDataFrame:
    """The commune: both quartiers and the strip east of them up to `east`."""
    return gpd.GeoDataFrame({"code": ["02722"]}, geometry=[box(X, Y, east, Y + 100)], crs=2154)


def test_commune_and_hors_qpv_rows(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    # columns of 10 m pixels: QA 80 %, QB 40 %, [X+200, X+300] 10 %, [X+300, X+400] 100 %
    v = np.zeros((10, 40), dtype="uint8")
    v[:, :10], v[:, 10:20], v[:, 20:30], v[:, 30:] = 80, 40, 10, 100
    p = write_raster(tmp_path / "imd.tif", v)
    s = impervious_share(quartiers, p, communes=town())
    assert_metric_table(s, quartiers)
    assert list(s.index) == ["QA", "QB", "qpv", "commune", "hors_qpv"]
    # the quartier rows do not change with the communes
    plain = impervious_share(quartiers, p)
    pd.testing.assert_frame_equal(s.loc[["QA", "QB", "qpv"]], plain)
    # hors_qpv: 100 m x 100 m at 10 %, then 5 m x 100 m of the 100 % column (half pixels)
    assert s.loc["hors_qpv", "area_m2"] == pytest.approx(10_500)
    assert s.loc["hors_qpv", "impervious_m2"] == pytest.approx(1_000 + 500)
    assert s.loc["hors_qpv", "impervious_share"] == pytest.approx(1_500 / 10_500)
    # commune: 8,000 + 4,000 + 1,500 sealed m² in 30,500 m²; the rest of the raster (outside
    # the commune, 100 % sealed) never counts
    assert s.loc["commune", "impervious_share"] == pytest.approx(13_500 / 30_500)
    assert s.loc["commune", "area_m2"] == pytest.approx(30_500)
    assert s.loc["commune", "name"] == "Commune"
    assert s.loc["hors_qpv", "name"] == "Commune hors QPV"
    # change: the 10 % strip de-sealed to 0 -> hors_qpv loses 1,000 of 10,500 m²
    after = v.copy()
    after[:, 20:30] = 0
    ch = impervious_change(quartiers, p, write_raster(tmp_path / "a.tif", after), communes=town())
    assert_metric_table(ch, quartiers)
    assert ch.loc["hors_qpv", "impervious_change_pp"] == pytest.approx(-100 * 1_000 / 10_500)
    assert ch.loc["commune", "impervious_change_pp"] == pytest.approx(-100 * 1_000 / 30_500)
    assert ch.loc["QA", "impervious_change_pp"] == pytest.approx(0.0, abs=1e-9)
    assert ch.loc["qpv", "impervious_change_pp"] == pytest.approx(0.0, abs=1e-9)


def test_commune_border_on_a_pixel_edge(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    """A commune whose border runs exactly on a pixel edge takes no part of the next pixel."""
    v = np.zeros((10, 40), dtype="uint8")
    v[:, :10], v[:, 10:20], v[:, 20:30], v[:, 30:] = 80, 40, 10, 100
    p = write_raster(tmp_path / "imd.tif", v)
    s = impervious_share(quartiers, p, communes=town(X + 300))
    assert s.loc["hors_qpv", "impervious_share"] == pytest.approx(0.1)
    assert s.loc["commune", "impervious_share"] == pytest.approx((0.8 + 0.4 + 0.1) / 3)
    # a commune that is exactly the quartiers: hors_qpv has no area, its share is NaN with a reason
    same = impervious_share(quartiers, p, communes=town(X + 200))
    assert_metric_table(same, quartiers)
    assert same.loc["hors_qpv", "area_m2"] == pytest.approx(0.0)
    assert np.isnan(same.loc["hors_qpv", "impervious_share"])
    assert same.loc["hors_qpv", "reason"]
    assert same.loc["commune", "impervious_share"] == pytest.approx(0.6)


def test_copernicus_codes_and_scale_errors(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    v = np.full((10, 20), 50, dtype="uint8")
    v[0, 0] = 254  # Copernicus "unclassifiable", not declared nodata in this file
    p = write_raster(tmp_path / "imd.tif", v)
    with pytest.raises(
        RasterError,
        match=r"imd\.tif: with scale=0\.01, imperviousness values "
        r"reach 2\.54.*nodata=\(254, 255\)",
    ):
        impervious_share(quartiers, p)
    s = impervious_share(quartiers, p, nodata=(254, 255))
    assert s.loc["QA", "impervious_share"] == pytest.approx(0.5)
    assert s.loc["QA", "nodata_share"] == pytest.approx(0.01)
    with pytest.raises(RasterError, match=r"imd\.tif: with scale=1.*use scale=0\.01"):
        impervious_share(quartiers, p, scale=1.0, nodata=254)


def test_metric_crs_3949(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    """An EPSG:3949 (CC49) project measures its areas in 3949, not in Lambert-93."""
    p = write_raster(tmp_path / "imd.tif", np.full((10, 20), 50, dtype="uint8"))
    q49 = quartiers.to_crs(3949)
    s = impervious_share(q49, p, crs="EPSG:3949")
    expected = q49.geometry.area.to_numpy()  # pyproj's reprojection, measured by shapely
    assert s.loc[["QA", "QB"], "area_m2"].to_numpy() == pytest.approx(expected, rel=1e-9)
    # ... which is not the Lambert-93 area (the two projections' scale factors differ here)
    assert abs(expected[0] - 10_000) > 5
    assert s.loc["QA", "impervious_share"] == pytest.approx(0.5)
    l93 = impervious_share(q49, p)  # default: Lambert-93
    assert l93.loc["QA", "area_m2"] == pytest.approx(10_000, rel=1e-6)


def test_bad_inputs(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    p = write_raster(tmp_path / "imd.tif", np.full((10, 20), 50, dtype="uint8"))
    with pytest.raises(LayerTypeError, match=r"^quartiers must be a GeoDataFrame, not DataFrame"):
        impervious_share(pd.DataFrame(quartiers.drop(columns="geometry")), p)
    with pytest.raises(CRSError, match=r"quartiers layer has no coordinate reference system"):
        impervious_change(quartiers.set_crs(None, allow_override=True), p, p)
    with pytest.raises(DataValidationError, match=r"quartiers layer is empty"):
        impervious_share(quartiers.iloc[:0], p)
    with pytest.raises(RasterError, match=r"nope\.tif does not exist"):
        impervious_change(quartiers, p, tmp_path / "nope.tif")
    far = write_raster(tmp_path / "far.tif", np.zeros((5, 5), dtype="uint8"), x0=X + 50_000)
    with pytest.raises(RasterError, match=r"far\.tif does not overlap any of the 3 polygons"):
        impervious_share(quartiers, far)
    points = gpd.GeoDataFrame({"code": ["P"]}, geometry=[box(X, Y, X, Y).centroid], crs=2154)
    with pytest.raises(DataValidationError, match=r"takes polygon geometries"):
        impervious_share(points, p)


def test_demo_rasters_cover_the_quartiers() -> None:
    import rasterio

    from cdv_geo.datasets import soissons

    t = soissons()
    assert set(t.rasters) >= {"impervious_2018", "impervious_2024", "canopy_2024"}
    ch = impervious_change(t.quartiers, t.rasters["impervious_2018"], t.rasters["impervious_2024"])
    assert_metric_table(ch, t.quartiers)
    assert ch["impervious_before_share"].between(0.2, 0.9).all()
    assert "reason" not in ch.columns  # every quartier measured in full
    for name in ("impervious_2018", "impervious_2024", "canopy_2024"):
        path = t.rasters[name]
        assert path.stat().st_size < 300_000
        with rasterio.open(path) as ds:
            assert ds.crs.to_epsg() == 2154 and ds.res == (10.0, 10.0)
            assert ds.dtypes[0] == "uint8" and ds.nodata == 255
            assert ds.profile["tiled"] and ds.overviews(1)
