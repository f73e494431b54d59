"""Zonal statistics on rasters small enough to compute by hand, checked against exactextract."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from exactextract import exact_extract
from rasterio.transform import from_origin
from shapely import MultiPolygon, Point, Polygon, box

from cdv_geo.core.errors import CdvGeoError, CRSError, DataValidationError, RasterError
from cdv_geo.metrics.zonal import raster_info, zonal_stats

# Lambert-93, near Soissons; the raster's top-left corner.
X0, YT = 728400.0, 6920730.0
R = 10.0  # pixel size (m)

# 3 rows x 4 columns; 255 = nodata (a 2x2 block at the bottom right).
VALUES = np.array(
    [
        [10, 20, 30, 40],
        [50, 60, 255, 255],
        [70, 80, 255, 255],
    ],
    dtype="uint8",
)


def px(row: int, col: int) -> Polygon:
    """The footprint of pixel (row, col)."""
    return box(X0 + col * R, YT - (row + 1) * R, X0 + (col + 1) * R, YT - row * R)


def write_raster(
    path: Path,
    values: np.ndarray = VALUES,
    crs: str | None = "EPSG:2154",
    driver: str = "GTiff",
    **kw: object,
) -> Path:
    profile = dict(
        driver=driver,
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype=str(values.dtype),
        crs=crs,
        nodata=255,
        transform=from_origin(X0, YT, R, R),
    )
    profile.update(kw)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


@pytest.fixture
def raster(tmp_path: Path) -> Path:
    return write_raster(tmp_path / "r.tif")


# Hand-computed cases: (geometry, coverage-weighted sum, count (pixels), nodata_share)
hole_outer = box(X0, YT - 20, X0 + 20, YT)
hole = box(X0 + 2, YT - 8, X0 + 8, YT - 2)  # 36 m² hole inside pixel (0, 0)
CASES = {
    # left half of pixel (0,0) = 10
    "half": (box(X0, YT - 10, X0 + 5, YT), 0.5 * 10, 0.5, 0.0),
    # triangle: half of pixel (0,1) = 20, cut along its diagonal
    "triangle": (
        Polygon([(X0 + 10, YT - 10), (X0 + 20, YT - 10), (X0 + 20, YT)]),
        0.5 * 20,
        0.5,
        0.0,
    ),
    # 2 m x 3 m inside pixel (0,1): 6 % of it
    "sub_pixel": (box(X0 + 12, YT - 8, X0 + 14, YT - 5), 0.06 * 20, 0.06, 0.0),
    # pixels (0,0),(0,1),(1,0),(1,1) minus a 36 m² hole in (0,0)
    "hole": (
        Polygon(hole_outer.exterior.coords, [hole.exterior.coords]),
        0.64 * 10 + 20 + 50 + 60,
        3.64,
        0.0,
    ),
    # half of (0,0) + all of (2,1) = 80
    "multi": (MultiPolygon([box(X0, YT - 10, X0 + 5, YT), px(2, 1)]), 5 + 80, 1.5, 0.0),
    # pixel (2,0) = 70 plus the same area west of the raster
    "half_outside": (box(X0 - 10, YT - 30, X0 + 10, YT - 20), 70, 1.0, 0.0),
    # pixel (1,1) = 60 and nodata pixel (1,2): half nodata
    "straddle_nodata": (box(X0 + 10, YT - 20, X0 + 30, YT - 10), 60, 1.0, 0.5),
}


def cases_gdf(crs: object = 2154) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame({"id": list(CASES)}, geometry=[c[0] for c in CASES.values()], crs=2154)
    return g.to_crs(crs)


def test_hand_computed_values(raster: Path) -> None:
    z = zonal_stats(cases_gdf(), raster)
    assert list(z.index) == list(CASES)
    # exactextract stores coverage fractions in single precision: hand values agree to ~1e-8
    for name, (_g, s, c, nd) in CASES.items():
        assert z.loc[name, "sum"] == pytest.approx(s, rel=1e-7), name
        assert z.loc[name, "count"] == pytest.approx(c, rel=1e-7), name
        assert z.loc[name, "mean"] == pytest.approx(s / c, rel=1e-7), name
        assert z.loc[name, "nodata_share"] == pytest.approx(nd, abs=1e-7), name
    assert z.loc["hole", "mean"] == pytest.approx(136.4 / 3.64)
    assert z.loc["half_outside", "reason"] == "partly outside the raster (50% of its area)"
    assert (z.drop(index="half_outside")["reason"] == "").all()


def test_agrees_with_exactextract_directly(raster: Path) -> None:
    g = cases_gdf()
    z = zonal_stats(g, raster, stats=("mean", "sum", "count", "min", "max", "stdev", "median"))
    with rasterio.open(raster) as ds:
        ref = exact_extract(
            ds,
            g.drop(columns="id"),
            ["mean", "sum", "count", "min", "max", "stdev", "median"],
            output="pandas",
        )
    for col in ("mean", "sum", "count", "min", "max", "stdev", "median"):
        np.testing.assert_allclose(z[col].to_numpy(), ref[col].to_numpy(), rtol=0, atol=1e-9)


# Not EPSG:3035: PROJ's RGF93 -> ETRS89 path moves points by a fraction of a millimetre, a
# genuine datum difference rather than a round trip.
@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3857", "EPSG:32631"])
def test_same_result_in_another_crs(raster: Path, crs: str) -> None:
    ref = zonal_stats(cases_gdf(), raster)
    other = zonal_stats(cases_gdf(crs), raster)
    num = ["mean", "sum", "count", "nodata_share"]
    np.testing.assert_allclose(other[num].to_numpy(), ref[num].to_numpy(), rtol=1e-7, atol=1e-7)


def test_nan_with_reason_not_zero(raster: Path) -> None:
    g = gpd.GeoDataFrame(
        {"id": ["nodata", "outside", "empty", "ok"]},
        geometry=[
            box(X0 + 20, YT - 30, X0 + 40, YT - 10),
            box(X0 + 500, YT, X0 + 600, YT + 100),
            Polygon(),
            px(0, 0),
        ],
        crs=2154,
    )
    z = zonal_stats(g, raster, stats=("mean", "sum", "count", "nodata_share", "outside_share"))
    assert z.loc["nodata", "reason"] == "only nodata cells"
    assert z.loc["outside", "reason"] == "outside the raster"
    assert z.loc["empty", "reason"] == "empty geometry"
    for r in ("nodata", "outside", "empty"):
        assert np.isnan(z.loc[r, "mean"]) and np.isnan(z.loc[r, "sum"])
    assert z.loc["nodata", "nodata_share"] == 1.0
    assert z.loc["nodata", "count"] == 0.0
    assert z.loc["outside", "outside_share"] == 1.0
    assert z.loc["ok", "mean"] == 10 and z.loc["ok", "outside_share"] == 0.0


def test_scale_extra_nodata_and_variance(raster: Path) -> None:
    g = cases_gdf()
    z = zonal_stats(g, raster, stats=("mean", "sum", "variance"), scale=0.01)
    assert z.loc["multi", "mean"] == pytest.approx(0.01 * 85 / 1.5)
    assert z.loc["multi", "sum"] == pytest.approx(0.85)
    # values 10 (weight .5) and 80 (weight 1): weighted variance, scaled by 0.01²
    m = 85 / 1.5
    var = (0.5 * (10 - m) ** 2 + 1.0 * (80 - m) ** 2) / 1.5
    assert z.loc["multi", "variance"] == pytest.approx(var * 1e-4)
    # 80 declared nodata as well: only the half pixel of 10 remains
    z2 = zonal_stats(g, raster, nodata=[80], stats=("mean", "count", "nodata_share"))
    assert z2.loc["multi", "mean"] == pytest.approx(10)
    assert z2.loc["multi", "nodata_share"] == pytest.approx(1 / 1.5)
    z3 = zonal_stats(g, raster, nodata=10, stats=("mean",))
    assert z3.loc["half", "reason"] == "only nodata cells"


def test_mask_band_without_nodata_value(tmp_path: Path) -> None:
    """A dataset mask (no nodata value) is honoured even for polygons cropping the window.

    exactextract ignores masked arrays when the polygon grid is cropped from the window read
    (isciences/exactextract#193); the half-pixel polygon is that case.
    """
    values = VALUES.copy()
    values[values == 255] = 0
    p = write_raster(tmp_path / "m.tif", values=values, nodata=None)
    mask = np.full(VALUES.shape, 255, dtype="uint8")
    mask[0, 0] = 0  # pixel (0, 0) invalid
    mask[VALUES == 255] = 0
    with rasterio.open(p, "r+") as ds:
        ds.write_mask(mask)
    z = zonal_stats(cases_gdf(), p, stats=("mean", "count", "nodata_share"))
    assert z.loc["half", "reason"] == "only nodata cells"
    assert z.loc["hole", "mean"] == pytest.approx(130 / 3)
    assert z.loc["hole", "nodata_share"] == pytest.approx(0.64 / 3.64)
    assert z.loc["straddle_nodata", "mean"] == pytest.approx(60)
    # band scale tags (0.5) are applied before `scale`
    with rasterio.open(p, "r+") as ds:
        ds.scales = (0.5,)
    z2 = zonal_stats(cases_gdf(), p, stats=("mean",), scale=2.0)
    assert z2.loc["half", "reason"] == "only nodata cells"
    assert z2.loc["multi", "mean"] == pytest.approx(80)


def test_all_touched_matches_rasterstats(raster: Path) -> None:
    from rasterstats import zonal_stats as rs_zonal

    g = cases_gdf().iloc[[0, 2, 3, 4, 6]]  # inside the raster
    z = zonal_stats(g, raster, weights="all_touched", stats=("mean", "count", "nodata_share"))
    ref = rs_zonal(
        list(g.geometry), str(raster), stats=["mean", "count", "nodata"], all_touched=True
    )
    np.testing.assert_allclose(z["mean"].to_numpy(), [r["mean"] for r in ref], atol=1e-9)
    np.testing.assert_allclose(z["count"].to_numpy(), [r["count"] for r in ref], atol=1e-9)
    share = [r["nodata"] / (r["nodata"] + r["count"]) for r in ref]
    np.testing.assert_allclose(z["nodata_share"].to_numpy(), share, atol=1e-9)
    assert z.loc["straddle_nodata", "nodata_share"] == 0.5  # one of the two touched cells


def test_open_dataset_cog_and_index_without_id(raster: Path, tmp_path: Path) -> None:
    cog = write_raster(tmp_path / "c.tif", driver="COG", compress="DEFLATE", blocksize=256)
    g = cases_gdf().set_index("id")
    by_path = zonal_stats(g, raster)
    with rasterio.open(cog) as ds:
        by_ds = zonal_stats(g, ds)
        assert not ds.closed  # left open for the caller
    pd.testing.assert_frame_equal(by_path, by_ds)
    assert list(by_ds.index) == list(CASES)
    assert by_ds.index.name == "id"
    info = raster_info(cog)
    assert (
        info["crs"] == "EPSG:2154"
        and info["nodata"] == 255.0
        and info["bounds"] == (X0, YT - 30, X0 + 40, YT)
    )


def test_input_not_modified(raster: Path) -> None:
    g = cases_gdf(4326)
    before = g.copy()
    zonal_stats(g, raster)
    pd.testing.assert_frame_equal(g, before)


# --- bad input -------------------------------------------------------------------------------


def test_raster_without_crs(tmp_path: Path) -> None:
    p = write_raster(tmp_path / "nocrs.tif", crs=None)
    with pytest.raises(
        RasterError,
        match=r"nocrs\.tif has no coordinate reference system.*"
        r"Assign one",
    ):
        zonal_stats(cases_gdf(), p)


def test_raster_not_overlapping(raster: Path) -> None:
    far = gpd.GeoDataFrame({"id": ["a"]}, geometry=[box(0, 0, 100, 100)], crs=2154)
    with pytest.raises(
        RasterError,
        match=r"r\.tif does not overlap any of the 1 polygons.*"
        r"Check that the raster covers",
    ):
        zonal_stats(far, raster)


def test_missing_band(raster: Path) -> None:
    with pytest.raises(RasterError, match=r"r\.tif has no band 2: it has 1 band.*pass band=1"):
        zonal_stats(cases_gdf(), raster, band=2)


def test_missing_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(RasterError, match=r"nope\.tif does not exist; check the path"):
        zonal_stats(cases_gdf(), tmp_path / "nope.tif")
    txt = tmp_path / "notes.tif"
    txt.write_text("not a raster")
    with pytest.raises(RasterError, match=r"notes\.tif cannot be opened.*expected a GeoTIFF"):
        zonal_stats(cases_gdf(), txt)


def test_bad_scale_and_stat(raster: Path) -> None:
    with pytest.raises(RasterError, match="use 0.01 for a raster stored in percent"):
        zonal_stats(cases_gdf(), raster, scale=0)
    with pytest.raises(RasterError, match=r"unknown statistic\(s\) \['avg'\]; choose among mean"):
        zonal_stats(cases_gdf(), raster, stats=("avg",))


def test_points_and_duplicate_ids(raster: Path) -> None:
    pts = gpd.GeoDataFrame({"id": ["p1"]}, geometry=[Point(X0 + 5, YT - 5)], crs=2154)
    with pytest.raises(DataValidationError, match=r"feature p1: geometry is a Point.*buffer"):
        zonal_stats(pts, raster)
    dup = gpd.GeoDataFrame({"id": ["a", "a"]}, geometry=[px(0, 0), px(0, 1)], crs=2154)
    with pytest.raises(DataValidationError, match=r"feature a, field 'id': id 'a' is used by"):
        zonal_stats(dup, raster)


def test_polygons_without_crs(raster: Path) -> None:
    g = gpd.GeoDataFrame({"id": ["a"]}, geometry=[px(0, 0)])
    with pytest.raises(CRSError, match="has no coordinate reference system"):
        zonal_stats(g, raster)
    assert issubclass(CRSError, CdvGeoError)


def test_polygons_not_a_layer(raster: Path) -> None:
    import pandas as pd

    from cdv_geo.core.errors import LayerTypeError

    with pytest.raises(LayerTypeError, match=r"^polygons must be a GeoDataFrame, not DataFrame"):
        zonal_stats(pd.DataFrame({"id": ["a"]}), raster)
    with pytest.raises(DataValidationError, match=r"polygons layer is empty"):
        zonal_stats(cases_gdf().iloc[:0], raster)
