"""Bad layer arguments of every public function of the walking-access metrics.

A plain DataFrame, a layer without CRS and an empty layer each raise a CdvGeoError subclass
whose message names the argument (cdv_geo.core.layers.as_layer, the one coercion).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from cdv_geo.core.errors import CdvGeoError, CRSError, DataValidationError, LayerTypeError
from cdv_geo.metrics.access import coverage, nearest_facility
from cdv_geo.metrics.nearest import nearest_walks
from cdv_geo.metrics.service_areas import service_areas
from cdv_geo.network import WalkNetwork

L93 = "EPSG:2154"
X0, Y0 = 724000.0, 6919000.0


def layers():
    homes = gpd.GeoDataFrame(
        {"id": ["h"], "population": [3]}, geometry=[Point(X0 + 10, Y0 + 5)], crs=L93
    )
    fac = gpd.GeoDataFrame({"kind": ["school"]}, geometry=[Point(X0 + 90, Y0)], crs=L93)
    q = gpd.GeoDataFrame({"code": ["QP1"]}, geometry=[box(X0, Y0 - 50, X0 + 100, Y0 + 50)], crs=L93)
    net = WalkNetwork(np.array([[X0, Y0], [X0 + 100, Y0]]), [0], [1], crs=L93)
    return {"origins": homes, "facilities": fac, "quartiers": q}, net


def calls(net):
    """Every public function, called with its layers by name."""
    return {
        "nearest_facility": (
            ("origins", "facilities"),
            lambda a: nearest_facility(a["origins"], a["facilities"], network=net),
        ),
        "nearest_facility (euclidean)": (
            ("origins", "facilities"),
            lambda a: nearest_facility(a["origins"], a["facilities"], crs=L93),
        ),
        "coverage": (
            ("origins", "facilities", "quartiers"),
            lambda a: coverage(
                a["origins"], a["facilities"], a["quartiers"], network=net, threshold_min=5
            ),
        ),
        "service_areas": (
            ("facilities",),
            lambda a: service_areas(a["facilities"], network=net, thresholds_m=[100]),
        ),
        "nearest_walks": (
            ("origins", "facilities"),
            lambda a: nearest_walks(
                a["origins"],
                a["facilities"],
                network=net,
                kinds=None,
                max_snap_m=200,
                max_distance_m=None,
                crs=None,
            ),
        ),
    }


def cases():
    _good, net = layers()
    for fname, (args, call) in calls(net).items():
        for arg in args:
            yield pytest.param(fname, arg, call, id=f"{fname}-{arg}")


@pytest.mark.parametrize(("fname", "arg", "call"), list(cases()))
def test_plain_dataframe_no_crs_and_empty_layer_name_the_argument(fname, arg, call):
    good, _ = layers()
    call(good)  # the good layers work

    plain = dict(good, **{arg: pd.DataFrame(good[arg].drop(columns="geometry"))})
    with pytest.raises(LayerTypeError, match=rf"^{arg} must be a GeoDataFrame, not DataFrame"):
        call(plain)

    no_crs = dict(good, **{arg: good[arg].set_crs(None, allow_override=True)})
    with pytest.raises(CRSError, match=rf"^{arg} layer has no coordinate reference system"):
        call(no_crs)

    empty = dict(good, **{arg: good[arg].iloc[:0]})
    with pytest.raises(DataValidationError, match=rf"layer {arg}: {arg} layer is empty"):
        call(empty)

    for bad in (None, "homes.gpkg"):
        with pytest.raises(LayerTypeError, match=rf"^{arg} must be a GeoDataFrame"):
            call(dict(good, **{arg: bad}))


def test_wrong_geometry_family_names_the_argument():
    good, _net = layers()
    points_as_quartiers = good["quartiers"].set_geometry([Point(X0, Y0)], crs=L93)
    with pytest.raises(DataValidationError, match="quartiers takes polygon geometries"):
        coverage(good["origins"], good["facilities"], points_as_quartiers, threshold_m=100)
    assert issubclass(LayerTypeError, CdvGeoError)


def test_bad_communes_name_the_argument():
    good, net = layers()
    town = gpd.GeoDataFrame({"code": ["02722"]}, geometry=[box(X0, Y0 - 99, X0 + 99, Y0 + 99)])
    town = town.set_crs(L93)

    def call(communes):
        return coverage(
            good["origins"], good["facilities"], good["quartiers"], network=net, threshold_min=5,
            communes=communes,
        )  # fmt: skip

    assert call(town).index.get_level_values("quartier").tolist() == [
        "QP1", "qpv", "commune", "hors_qpv",
    ]  # fmt: skip
    with pytest.raises(LayerTypeError, match=r"^communes must be a GeoDataFrame, not DataFrame"):
        call(pd.DataFrame(town.drop(columns="geometry")))
    with pytest.raises(CRSError, match=r"^communes layer has no coordinate reference system"):
        call(town.set_crs(None, allow_override=True))
    with pytest.raises(DataValidationError, match=r"layer communes: communes layer is empty"):
        call(town.iloc[:0])
