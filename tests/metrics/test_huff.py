"""Tests of cdv_geo.metrics.huff: the Huff model and retail density, computed by hand.

Walking at 75 m per minute on a straight 3 km street.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point, box

from cdv_geo.core.errors import CdvGeoError, DataValidationError
from cdv_geo.metrics.huff import huff, huff_probabilities, retail_density
from cdv_geo.network import WalkNetwork
from cdv_geo.testing import assert_metric_table

L93 = "EPSG:2154"
X0, Y0 = 724000.0, 6919000.0


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols or None, geometry=list(geoms), crs=L93)


def town():
    """Parade P (1,000 m², x=450, in Q1) and hypermarket H (8,000 m², x=1800, outside).

    Homes: a (x=600, 100 residents, Q1): P 2 min, H 16 min; b (x=1500, 50, Q2): P 14 min,
    H 4 min; c (x=2900, 30, outside the quartiers): P 32.7 min (beyond 30), H 14.7 min.
    """
    net = WalkNetwork.from_lines(gdf([LineString([(X0, Y0), (X0 + 3000, Y0)])]), crs=L93)
    homes = gdf(
        [Point(X0 + 600, Y0), Point(X0 + 1500, Y0), Point(X0 + 2900, Y0)],
        id=["a", "b", "c"],
        population=[100.0, 50.0, 30.0],
    )
    centres = gdf(
        [Point(X0 + 450, Y0), Point(X0 + 1800, Y0)], id=["P", "H"], surface=[1000.0, 8000.0]
    )
    q = gdf(
        [box(X0, Y0 - 50, X0 + 1000, Y0 + 50), box(X0 + 1000, Y0 - 50, X0 + 1600, Y0 + 50)],
        code=["Q1", "Q2"],
        name=["Presles", "Chevreux"],
    )
    commune = gdf([box(X0 - 10, Y0 - 60, X0 + 3010, Y0 + 60)], code=["02722"])
    return net, homes, centres, q, commune


def test_two_centres_by_hand():
    net, homes, centres, q, commune = town()
    h = huff(homes, centres, q, network=net, communes=commune)
    # alpha 1, beta 2: a: 1000/2² = 250 against 8000/16² = 31.25; b: 1000/14² against 8000/4²
    pa = 250 / (250 + 31.25)
    pb = (1000 / 196) / (1000 / 196 + 500)
    p = h.probabilities.set_index(["home", "centre"])["probability"]
    assert p[("a", "P")] == pytest.approx(pa, rel=1e-12)
    assert p[("b", "P")] == pytest.approx(pb, rel=1e-12)
    assert p[("c", "H")] == 1.0 and ("c", "P") not in p.index  # P beyond 30 min
    # probabilities sum to 1 per home
    assert h.probabilities.groupby("home")["probability"].sum().tolist() == pytest.approx([1] * 3)
    # catchment populations: P = 100 pa + 50 pb; H = the rest of the 180 residents
    catch = h.centres["catchment_population"]
    assert catch["P"] == pytest.approx(100 * pa + 50 * pb)
    assert catch["H"] == pytest.approx(100 * (1 - pa) + 50 * (1 - pb) + 30)
    assert h.centres["quartier"].iloc[0] == "Q1" and pd.isna(h.centres["quartier"].iloc[1])
    # retained: Q1 by P = pa; Q2 has no centre: 0; qpv (a, b) by P; commune: everything;
    # hors_qpv (c) by H: 1
    t = h.table
    assert_metric_table(t, q)
    assert t.loc["Q1", "retained_share"] == pytest.approx(pa)
    assert t.loc["Q2", "retained_share"] == 0.0 and t.loc["Q2", "n_centres"] == 0
    assert t.loc["qpv", "retained_share"] == pytest.approx((100 * pa + 50 * pb) / 150)
    assert t.loc["commune", "retained_share"] == pytest.approx(1.0)
    assert t.loc["hors_qpv", "retained_share"] == 1.0
    assert h.homes["main_centre"].tolist() == ["P", "H", "H"]
    assert h.centres["n_homes_main"].tolist() == [1, 2]


def test_parameters_alpha_beta_and_min_time():
    net, homes, centres, q, _ = town()
    h = huff(homes, centres, q, network=net, alpha=2.0, beta=1.0)
    p = h.probabilities.set_index(["home", "centre"])["probability"]
    # a: 1000²/2 = 500,000 against 8000²/16 = 4,000,000
    assert p[("a", "P")] == pytest.approx(5e5 / 4.5e6, rel=1e-12)
    # a home at the parade's door: T floored at 1 min -> 1000/1 against 8000/(1350/75)²
    door = gdf([Point(X0 + 450, Y0)], id=["d"], population=[1.0])
    h = huff(door, centres, q, network=net)
    pd_ = h.probabilities.set_index("centre")["probability"]
    assert pd_["P"] == pytest.approx(1000 / (1000 + 8000 / 18**2), rel=1e-12)
    with pytest.raises(CdvGeoError, match="beta"):
        huff(homes, centres, q, network=net, beta=0)


def test_no_centre_within_reach_and_equal_attractiveness():
    net, homes, centres, q, commune = town()
    h = huff(homes, centres, q, network=net, max_time_min=10, communes=commune)
    # within 10 min: a reaches P only, b H only, c nothing
    assert h.table.loc["hors_qpv", "no_centre_share"] == 1.0
    assert h.table.loc["commune", "no_centre_share"] == pytest.approx(30 / 180)
    assert np.isnan(h.homes.loc["c", "main_probability"])
    assert pd.isna(h.homes.loc["c", "main_centre"])
    # attractiveness=None: time alone (a: 1/2² against 1/16², i.e. 64 to 1)
    h = huff(homes, centres.drop(columns="surface"), q, network=net, attractiveness=None)
    p = h.probabilities.set_index(["home", "centre"])["probability"]
    assert p[("a", "P")] == pytest.approx(64 / 65, rel=1e-12)


def test_huff_probabilities_rows_sum_to_one():
    rng = np.random.default_rng(1)
    home = np.repeat(np.arange(50), 4)
    centre = np.tile(np.arange(4), 50)
    p = huff_probabilities(rng.uniform(1, 100, 4), home, centre, rng.uniform(0, 30, 200), 51)
    sums = np.asarray(p.sum(axis=1)).ravel()
    assert sums[:50] == pytest.approx(np.ones(50)) and sums[50] == 0.0


def test_bad_attractiveness_is_named():
    net, homes, centres, q, _ = town()
    with pytest.raises(DataValidationError, match="feature H, field 'surface'"):
        huff(homes, centres.assign(surface=[1.0, -5.0]), q, network=net)


# --- retail density ----------------------------------------------------------------------------


def test_retail_density_by_hand():
    _, homes, _, q, commune = town()
    shops = gdf(
        [Point(X0 + 100, Y0), Point(X0 + 200, Y0), Point(X0 + 1200, Y0), Point(X0 + 2500, Y0),
         Point(X0 + 5000, Y0)],
        surface=[100.0, 300.0, 50.0, 2000.0, 9000.0],
    )  # fmt: skip
    t = retail_density(shops, homes, q, communes=commune)
    assert_metric_table(t, q)
    # Q1: 2 shops / 100 residents; Q2: 1 / 50; qpv 3 / 150; commune: 4 shops (x=5000 is
    # outside the commune) / 180; hors_qpv: 1 / 30
    assert t["n_shops"].tolist() == [2, 1, 3, 4, 1]
    assert t["per_1000_inhabitants"].tolist() == pytest.approx(
        [20.0, 20.0, 20.0, 4 / 180 * 1000, 1 / 30 * 1000]
    )
    s = retail_density(shops, homes, q, weight="surface")
    # Q1: 400 m² per 100 residents = 4,000 m² per 1,000
    assert s.loc["Q1", "per_1000_inhabitants"] == pytest.approx(4000.0)
    empty = retail_density(shops, homes.iloc[[2]], q)
    assert np.isnan(empty.loc["Q1", "per_1000_inhabitants"])
    assert empty.loc["Q1", "reason"] == "no resident in this quartier"
