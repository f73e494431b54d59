"""Bad layer arguments of the public functions of cdv_geo.network that take layers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point

from cdv_geo.core.errors import CRSError, DataValidationError, LayerTypeError, NetworkError
from cdv_geo.network import WalkNetwork

L93 = "EPSG:2154"


def streets():
    return gpd.GeoDataFrame(geometry=[LineString([(0, 0), (100, 0)])], crs=L93)


def test_from_lines_rejects_a_plain_dataframe_no_crs_and_an_empty_layer():
    assert WalkNetwork.from_lines(streets(), crs=L93).n_edges == 1
    with pytest.raises(LayerTypeError, match="^lines must be a GeoDataFrame, not DataFrame"):
        WalkNetwork.from_lines(pd.DataFrame({"name": ["rue A"]}), crs=L93)
    with pytest.raises(CRSError, match="^lines layer has no coordinate reference system"):
        WalkNetwork.from_lines(streets().set_crs(None, allow_override=True))
    with pytest.raises(NetworkError, match="^lines: the street layer is empty"):
        WalkNetwork.from_lines(streets().iloc[:0], crs=L93)
    # a GeoSeries is a layer too
    assert WalkNetwork.from_lines(streets().geometry, crs=L93).n_edges == 1


def test_snap_rejects_a_plain_dataframe_no_crs_and_an_empty_layer():
    net = WalkNetwork(np.array([[0.0, 0.0], [100.0, 0.0]]), [0], [1], crs=L93)
    pts = gpd.GeoDataFrame(geometry=[Point(30, 4)], crs=L93)
    assert net.snap(pts)["snap_distance_m"].tolist() == [4.0]
    with pytest.raises(LayerTypeError, match="^points must be a GeoDataFrame, not DataFrame"):
        net.snap(pd.DataFrame({"x": [30.0], "y": [4.0]}))
    with pytest.raises(CRSError, match="^points layer has no coordinate reference system"):
        net.snap(pts.set_crs(None, allow_override=True))
    with pytest.raises(DataValidationError, match="points layer is empty"):
        net.snap(pts.iloc[:0])
    # arrays of coordinates are taken in the network's CRS, an empty one gives no row
    assert net.snap(np.array([[30.0, 4.0]]))["edge"].tolist() == [0]
    assert len(net.snap(np.empty((0, 2)))) == 0
