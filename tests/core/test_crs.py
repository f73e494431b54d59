"""The metric-CRS rule."""

from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely import Point

from cdv_geo import CRSError
from cdv_geo.core.crs import check_metric_crs, choose_metric_crs, require_crs, to_metric


def test_lambert93_in_metropolitan_france() -> None:
    g = gpd.GeoDataFrame(geometry=[Point(3.324, 49.382)], crs=4326)
    assert choose_metric_crs(g).to_epsg() == 2154
    assert choose_metric_crs(None).to_epsg() == 2154


def test_utm_elsewhere_and_explicit_choice() -> None:
    reunion = gpd.GeoDataFrame(geometry=[Point(55.45, -20.88)], crs=4326)
    assert choose_metric_crs(reunion).to_epsg() == 32740  # UTM 40 S
    assert choose_metric_crs(reunion, "EPSG:2975").to_epsg() == 2975


def test_geographic_crs_refused_as_metric() -> None:
    with pytest.raises(CRSError, match="not projected in metres.*EPSG:2154"):
        check_metric_crs("EPSG:4326")
    with pytest.raises(CRSError, match="not a valid CRS"):
        check_metric_crs("EPSG:999999")


def test_require_crs_names_the_source() -> None:
    with pytest.raises(CRSError, match="layer equipements.shp has no coordinate reference"):
        require_crs(gpd.GeoDataFrame(geometry=[Point(0, 0)]), "equipements.shp")


def test_to_metric_matches_pyproj() -> None:
    g = gpd.GeoDataFrame(geometry=[Point(3.324, 49.382)], crs=4326)
    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(3.324, 49.382)
    m = to_metric(g)
    assert m.crs.to_epsg() == 2154
    assert m.geometry.x.iloc[0] == pytest.approx(x) and m.geometry.y.iloc[0] == pytest.approx(y)
    assert to_metric(m) is m  # already metric: no copy
