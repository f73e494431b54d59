"""Shared fixtures: tiny layers written to temporary files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely import Point, Polygon, box

# Lambert-93 coordinates in the Soissons area (a few km east of the town centre)
X0, Y0 = 728400.0, 6920700.0


@pytest.fixture
def square_quartiers() -> gpd.GeoDataFrame:
    """Two 500 m square quartiers side by side, in EPSG:2154."""
    return gpd.GeoDataFrame(
        {"code": ["QA", "QB"], "name": ["Alpha", "Beta"], "population": [1000, 500]},
        geometry=[box(X0, Y0, X0 + 500, Y0 + 500), box(X0 + 500, Y0, X0 + 1000, Y0 + 500)],
        crs=2154,
    )


@pytest.fixture
def bowtie() -> Polygon:
    """A self-intersecting polygon (figure of eight)."""
    return Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])


@pytest.fixture
def facilities_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["Aire A", "Maison de santé"], "kind": ["water_play_area", "health_centre"]},
        geometry=[Point(X0 + 100, Y0 + 100), Point(X0 + 700, Y0 + 200)],
        crs=2154,
    )


def write(gdf: gpd.GeoDataFrame, path: Path, **kw: object) -> Path:
    """Write a raw fixture (no validation) with geopandas."""
    gdf.to_file(path, engine="pyogrio", **kw)
    return path
