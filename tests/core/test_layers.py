"""One layer coercion: every bad input is a CdvGeoError subclass naming the argument."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely import LineString, Point

from cdv_geo.core.errors import CdvGeoError, CRSError, DataValidationError, LayerTypeError
from cdv_geo.core.layers import as_layer, quartier_codes


def test_passes_a_good_layer_through():
    g = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=2154)
    assert as_layer(g, "trees", geometry="point") is g


@pytest.mark.parametrize(
    ("obj", "error"),
    [
        (pd.DataFrame({"x": [1.0]}), LayerTypeError),
        (None, LayerTypeError),
        ("file.geojson", LayerTypeError),
        (gpd.GeoDataFrame(geometry=[Point(0, 0)]), CRSError),
        (gpd.GeoDataFrame(geometry=[], crs=2154), DataValidationError),
        (gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=2154), DataValidationError),
    ],
)
def test_bad_inputs_name_the_argument(obj, error):
    with pytest.raises(error, match="my_layer") as info:
        as_layer(obj, "my_layer", geometry="point")
    assert isinstance(info.value, CdvGeoError)


def test_empty_allowed_on_request():
    g = gpd.GeoDataFrame(geometry=[], crs=2154)
    assert as_layer(g, "x", allow_empty=True) is g


def test_quartier_codes_prefers_code():
    assert quartier_codes(pd.DataFrame({"id": ["a"], "code": ["QP1"]})).tolist() == ["QP1"]
    assert quartier_codes(pd.DataFrame({"id": ["a"]})).tolist() == ["a"]


def test_kind_validates_once():
    import cdv_geo.schema  # noqa: F401  (registers the schema validator)

    raw = gpd.GeoDataFrame({"nom": ["CCAS"], "type": ["CCAS"]}, geometry=[Point(0, 0)], crs=2154)
    checked = as_layer(raw, "facilities", kind="facilities")
    assert checked is not raw and checked["kind"].tolist() == ["ccas"]
    assert checked["name"].tolist() == ["CCAS"]
    # an already validated layer passes through untouched
    assert as_layer(checked, "facilities", kind="facilities") is checked


def test_messages_say_how_to_recover():
    with pytest.raises(LayerTypeError, match=r"read_layer\(path, 'facilities'\)"):
        as_layer(pd.DataFrame({"x": [1]}), "facilities", kind="facilities")
    with pytest.raises(LayerTypeError, match="points_from_xy"):
        as_layer(pd.DataFrame({"x": [1]}), "homes")
    g = gpd.GeoDataFrame(geometry=[Point(0, 0)])
    g.attrs["source"] = "arbres.shp"
    with pytest.raises(CRSError, match=r"\(arbres\.shp\).*set_crs"):
        as_layer(g, "trees")
