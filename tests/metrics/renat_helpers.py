"""Shared builders of the renaturation tests: rasters and quartiers with hand-known answers."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.transform import Affine, from_origin
from shapely import box

X, Y = 728400.0, 6920700.0  # Lambert-93, Soissons


def write_raster(
    path: Path,
    values: np.ndarray,
    *,
    x0: float = X,
    ytop: float = Y + 100,
    res: float | tuple[float, float] = 10.0,
    nodata: float | None = 255,
    crs: str = "EPSG:2154",
) -> Path:
    """Write a one-band GeoTIFF whose top-left corner is (x0, ytop)."""
    rx, ry = (res, res) if isinstance(res, int | float) else res
    transform = from_origin(x0, ytop, rx, ry) if rx == ry else Affine(rx, 0, x0, 0, -ry, ytop)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype=str(values.dtype),
        crs=crs,
        nodata=nodata,
        transform=transform,
    ) as dst:
        dst.write(values, 1)
    return path


def lens(r1: float, r2: float, d: float) -> float:
    """Area of the intersection of two discs (radii r1, r2, centres d apart)."""
    if d >= r1 + r2:
        return 0.0
    if d <= abs(r1 - r2):
        return math.pi * min(r1, r2) ** 2
    a = r1**2 * math.acos((d**2 + r1**2 - r2**2) / (2 * d * r1))
    b = r2**2 * math.acos((d**2 + r2**2 - r1**2) / (2 * d * r2))
    c = 0.5 * math.sqrt((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2))
    return a + b - c


def polygon_disc_ratio(quad_segs: int) -> float:
    """Area of shapely's buffer polygon over the true disc's (a regular 4q-gon inscribed)."""
    n = 4 * quad_segs
    return n * math.sin(2 * math.pi / n) / (2 * math.pi)


def two_quartiers() -> gpd.GeoDataFrame:
    """Two 1 ha quartiers side by side: QA west, QB east (border at x = X + 100)."""
    return gpd.GeoDataFrame(
        {"code": ["QA", "QB"], "name": ["Alpha", "Beta"], "population": [500, 200]},
        geometry=[box(X, Y, X + 100, Y + 100), box(X + 100, Y, X + 200, Y + 100)],
        crs=2154,
    )


def three_quartiers() -> gpd.GeoDataFrame:
    """Three quartiers meeting at a triple point (X + 100, Y + 100), listed in reverse code order.

    QC is the northern band [X, X + 200] x [Y + 100, Y + 200]; QB the south-east and QA the
    south-west 1 ha squares. The layer order (QC, QB, QA) is not the code order, so a test
    tells "smallest code" from "first in the layer".
    """
    return gpd.GeoDataFrame(
        {
            "code": ["QC", "QB", "QA"],
            "name": ["Gamma", "Beta", "Alpha"],
            "population": [0, 200, 500],
        },
        geometry=[
            box(X, Y + 100, X + 200, Y + 200),
            box(X + 100, Y, X + 200, Y + 100),
            box(X, Y, X + 100, Y + 100),
        ],
        crs=2154,
    )
