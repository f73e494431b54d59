"""Focal disc means against exact zonal statistics (exactextract) and hand values."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from exactextract import exact_extract
from shapely import Point, buffer, points

from cdv_geo.core.errors import CRSError, LayerTypeError, RasterError
from cdv_geo.metrics.focal import disc_kernel, focal_mean
from cdv_geo.metrics.green import rule_3_30_300

from .renat_helpers import X, Y, write_raster


@pytest.mark.parametrize(
    ("radius", "rx", "ry"), [(250.0, 10.0, 10.0), (250.0, 10.0, 7.5), (13.0, 4.0, 9.0)]
)
def test_disc_kernel_area(radius: float, rx: float, ry: float) -> None:
    k = disc_kernel(radius, rx, ry)
    # the weights are covered fractions: their sum in m² is the disc's area
    assert k.sum() * rx * ry == pytest.approx(math.pi * radius**2, rel=1e-5)
    assert k.shape == (2 * math.ceil(radius / ry + 0.5) - 1, 2 * math.ceil(radius / rx + 0.5) - 1)
    assert ((k >= 0) & (k <= 1)).all()
    assert np.allclose(k, k[::-1, ::-1])  # symmetric
    assert k[k.shape[0] // 2, k.shape[1] // 2] == 1.0


def test_disc_kernel_edge_pixel_by_hand() -> None:
    # radius 10 on 10 m pixels: a side pixel [-5, 5] x [5, 15] holds the integral of
    # sqrt(100 - x²) - 5 over [-5, 5]; the corners share what is left of the disc
    def primitive(x: float) -> float:
        return x / 2 * math.sqrt(100 - x**2) + 50 * math.asin(x / 10)

    k = disc_kernel(10.0, 10.0, 10.0)
    side = primitive(5) - primitive(-5) - 5 * 10
    corner = (math.pi * 100 - 100 - 4 * side) / 4
    assert k[0, 1] == pytest.approx(side / 100, rel=1e-5)
    assert k[0, 0] == pytest.approx(corner / 100, rel=1e-5)


def test_disc_kernel_bad_sizes() -> None:
    with pytest.raises(ValueError, match=r"radius and resolutions must be positive"):
        disc_kernel(0.0, 10.0, 10.0)
    with pytest.raises(ValueError, match=r"radius and resolutions must be positive"):
        disc_kernel(250.0, 10.0, -10.0)


def test_focal_hand_values(tmp_path: Path) -> None:
    v = np.full((40, 40), 40, dtype="uint8")
    v[:, 20:] = 80
    v[:10, :10] = 255  # nodata block in the north-west corner
    p = write_raster(tmp_path / "r.tif", v, x0=X, ytop=Y + 400)
    pts = gpd.GeoDataFrame(
        geometry=[
            Point(X + 300, Y + 100),  # deep in the 80 half
            Point(X + 200, Y + 200),  # on the 40 | 80 border: half each
            Point(X + 50, Y + 350),  # in the nodata block, radius 30: only nodata
            Point(X - 5000, Y),  # far outside
            Point(),  # empty
        ],
        crs=2154,
    )
    f = focal_mean(pts, p, 30.0, scale=0.01)
    assert f["mean"].iloc[0] == pytest.approx(0.8, abs=1e-12)
    assert f["mean"].iloc[1] == pytest.approx(0.6, abs=1e-9)
    assert f["count"].iloc[0] == pytest.approx(math.pi * 900 / 100, rel=1e-5)  # pixels
    assert list(f["reason"].iloc[2:]) == [
        "only nodata cells",
        "outside the raster",
        "empty geometry",
    ]
    assert f["mean"].iloc[2:].isna().all()
    assert f["reason"].iloc[:2].isna().all()
    # reprojected points give the same answer
    f2 = focal_mean(pts.iloc[:2].to_crs(4326), p, 30.0, scale=0.01)
    assert f2["mean"].to_numpy() == pytest.approx(f["mean"].iloc[:2].to_numpy(), abs=1e-9)


def _awkward(tmp_path: Path) -> tuple[Path, gpd.GeoDataFrame]:
    """A 10 m x 7.5 m-pixel raster with nodata patches, and homes over it and off its edge."""
    rng = np.random.default_rng(7)
    h, w = 300, 240  # 2,250 m x 2,400 m
    yy, xx = np.mgrid[0:h, 0:w]
    v = 50 + 35 * np.sin(xx / 17.0) * np.cos(yy / 23.0) + rng.integers(-12, 13, size=(h, w))
    v = np.clip(v, 0, 100).astype("uint8")
    v[((xx // 20) * 7 + (yy // 25) * 3) % 11 == 0] = 255  # nodata patches
    v[rng.random((h, w)) < 0.03] = 255  # and scattered nodata pixels
    p = write_raster(tmp_path / "awkward.tif", v, x0=X, ytop=Y + h * 7.5, res=(10.0, 7.5))
    n = 1500
    # homes over the raster and up to 200 m beyond its edges (discs cut by the edge)
    xs = rng.uniform(X - 200, X + w * 10 + 200, n)
    ys = rng.uniform(Y - 200, Y + h * 7.5 + 200, n)
    homes = gpd.GeoDataFrame({"id": [f"h{i}" for i in range(n)]}, geometry=points(xs, ys), crs=2154)
    return p, homes


def test_focal_matches_exactextract(tmp_path: Path) -> None:
    p, homes = _awkward(tmp_path)
    radius = 250.0
    f = focal_mean(homes, p, radius, scale=0.01)
    discs = gpd.GeoDataFrame(
        {"home": homes["id"]},
        geometry=buffer(homes.geometry.to_numpy(), radius, quad_segs=256),
        crs=2154,
    )
    # the reference: exactextract's coverage-weighted mean of each disc polygon
    ref = exact_extract(str(p), discs, ["mean", "count"], include_cols=["home"], output="pandas")
    ref = ref.set_index("home").loc[homes["id"]]
    exact = ref["mean"].to_numpy(dtype=float) * 0.01
    # discs with data on at least 1 % of their area (the rule's threshold): the others are
    # slivers by the raster's edge or by nodata, where bilinear interpolation may see data
    # the disc itself misses
    disc_px = math.pi * radius**2 / (10.0 * 7.5)
    enough = ref["count"].to_numpy(dtype=float) >= 0.01 * disc_px
    assert enough.sum() > 1400  # nearly every home
    mean = f["mean"].to_numpy()
    assert np.isfinite(mean[enough]).all()
    assert f["valid_share"].to_numpy()[enough] == pytest.approx(
        ref["count"].to_numpy(dtype=float)[enough] / disc_px, abs=2e-3
    )
    diff_pp = np.abs(mean[enough] - exact[enough]) * 100
    assert np.quantile(diff_pp, 0.99) <= 0.5
    assert diff_pp.max() <= 2.0


def test_rule_focal_against_exact(tmp_path: Path) -> None:
    p, homes = _awkward(tmp_path)
    homes = homes.iloc[:300].assign(population=1)
    trees = gpd.GeoDataFrame({"trees": [1]}, geometry=[Point(X, Y)], crs=2154)
    green = gpd.GeoDataFrame(geometry=[buffer(Point(X, Y), 100)], crs=2154)
    kw = {"trees": trees, "green_spaces": green, "canopy": p}
    focal = rule_3_30_300(homes, **kw).residences["canopy_share"].to_numpy()
    exact = rule_3_30_300(homes, method="exact", **kw).residences["canopy_share"].to_numpy()
    ok = np.isfinite(exact)
    assert np.array_equal(np.isfinite(focal), ok)
    assert np.abs(focal[ok] - exact[ok]).max() * 100 <= 2.0
    assert np.quantile(np.abs(focal[ok] - exact[ok]) * 100, 0.99) <= 0.5


def test_focal_bad_inputs(tmp_path: Path) -> None:
    v = np.full((10, 10), 50, dtype="uint8")
    p = write_raster(tmp_path / "r.tif", v)
    pts = gpd.GeoDataFrame(geometry=[Point(X + 50, Y + 50)], crs=2154)
    lon, lat = pts.to_crs(4326).geometry.iloc[0].coords[0]
    g = np.full((100, 100), 50, dtype="uint8")  # 0.0001° pixels around the point
    geo = write_raster(
        tmp_path / "geo.tif", g, x0=lon - 0.005, ytop=lat + 0.005, res=0.0001, crs="EPSG:4326"
    )
    with pytest.raises(RasterError, match=r"geo\.tif is not in a projected CRS in metres"):
        focal_mean(pts, geo, 30.0)
    with pytest.raises(RasterError, match=r"r\.tif: with scale=1, tree cover values reach 50"):
        focal_mean(pts, p, 30.0, what="tree cover")
    with pytest.raises(LayerTypeError, match=r"^points must be a GeoDataFrame, not list"):
        focal_mean([Point(0, 0)], p, 30.0)
    with pytest.raises(CRSError, match=r"^points layer has no coordinate reference system"):
        focal_mean(gpd.GeoDataFrame(geometry=[Point(0, 0)]), p, 30.0)
    with pytest.raises(ValueError, match=r"radius_m must be a positive number"):
        focal_mean(pts, p, 0.0)
    with pytest.raises(RasterError, match=r"has no band 2"):
        focal_mean(pts, p, 30.0, band=2)
    # a raster in degrees cannot take a disc in metres: the rule reads it exactly instead
    homes = pts.assign(population=1)
    trees = gpd.GeoDataFrame({"trees": [1]}, geometry=[Point(X, Y)], crs=2154)
    green = gpd.GeoDataFrame(geometry=[buffer(Point(X, Y), 100)], crs=2154)
    r = rule_3_30_300(homes, trees=trees, green_spaces=green, canopy=geo)
    assert r.residences["canopy_method"].iloc[0] == "exact"
