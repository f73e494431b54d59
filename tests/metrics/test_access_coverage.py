"""Tests of cdv_geo.metrics.access.coverage: the per-quartier table of walking coverage.

Every expected number is computed by hand in the comments. Every table goes through
cdv_geo.testing.assert_metric_table (the result-table contract).
"""

from __future__ import annotations

import math
import warnings
from functools import cache

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely import LineString, Point, box

from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning, CRSError, DataValidationError
from cdv_geo.metrics.access import COVERAGE_COLUMNS, coverage, nearest_facility
from cdv_geo.network import WalkNetwork
from cdv_geo.testing import assert_metric_table

L93 = "EPSG:2154"
LEVELS = ("kind", "threshold_min")
# a corner of Soissons in Lambert-93: coordinates + small integers stay exact in floating point
X0, Y0 = 724000.0, 6919000.0


def gdf(geoms, crs=L93, **cols):
    return gpd.GeoDataFrame(cols or None, geometry=list(geoms), crs=crs)


def check(table, quartiers):
    assert_metric_table(table, quartiers, levels=LEVELS)
    assert list(table.columns[: len(COVERAGE_COLUMNS)]) == list(COVERAGE_COLUMNS)


def coverage_case():
    net = WalkNetwork.from_lines(gdf([LineString([(0, 0), (1000, 0)])]), crs=L93)
    homes = gdf(
        [
            Point(100, 5),
            Point(300, 5),
            Point(600, 5),
            Point(900, 5),
            Point(1100, 5),
            Point(400, 300),
        ],
        id=["h1", "h2", "h3", "h4", "h5", "h6"],
        population=[10, 30, 60, 5, 7, 8],
        dwellings=[4, 10, 20, 2, 3, 3],
    )
    ccas = gdf([Point(0, 0)], kind=["ccas"], id=["c"])
    q = gdf(
        [box(0, -50, 500, 50), box(500, -50, 1000, 50)],
        code=["Q1", "Q2"],
        name=["Saint-Crépin", "Presles"],
    )
    # distances: h1 105, h2 305, h3 605, h4 905, h5 1000 + hypot(100, 5), h6 300 m off-street
    # Q1 holds h1, h2; Q2 holds h3, h4; h5 and h6 are outside every quartier
    return net, homes, ccas, q


def test_coverage_by_hand():
    net, homes, ccas, q = coverage_case()
    c = coverage(homes, ccas, q, network=net, threshold_m=[750, 400])
    check(c, q)
    # quartier-major order, thresholds ascending (400 m = 5.33 min, 750 m = 10 min)
    assert c.index.tolist() == [
        ("Q1", "ccas", 400 / 75),
        ("Q1", "ccas", 10.0),
        ("Q2", "ccas", 400 / 75),
        ("Q2", "ccas", 10.0),
        ("qpv", "ccas", 400 / 75),
        ("qpv", "ccas", 10.0),
    ]
    assert c["name"].tolist() == ["Saint-Crépin"] * 2 + ["Presles"] * 2 + ["Ensemble des QPV"] * 2
    assert c["threshold_m"].tolist() == [400, 750] * 3
    # qpv: the homes of Q1 and Q2 (h1..h4: 10 + 30 + 60 + 5), never h5 and h6 outside them
    assert c["n_residents_covered"].tolist() == [40, 40, 0, 60, 40, 100]
    assert c["n_residents"].tolist() == [40, 40, 65, 65, 105, 105]
    assert c["covered_share"].tolist() == pytest.approx([1, 1, 0, 60 / 65, 40 / 105, 100 / 105])
    assert c["n_homes"].tolist() == [2, 2, 2, 2, 4, 4]
    assert c["n_homes_covered"].tolist() == [2, 2, 0, 1, 2, 3]
    assert c["n_unreachable"].tolist() == [0] * 6  # h6, 300 m from the street, is in no row
    assert set(c["method"]) == {"network"} and set(c["weight"]) == {"population"}
    assert set(c["population_source"]) == {"residences"}
    assert "reason" not in c.columns  # every share is there
    # the qpv row is the quartiers together
    tot = c.xs(10.0, level="threshold_min")["n_residents"]
    assert tot["qpv"].iloc[0] == tot[["Q1", "Q2"]].sum()


def test_coverage_minutes_weights_and_euclidean():
    net, homes, ccas, q = coverage_case()
    by_min = coverage(homes, ccas, q, network=net, threshold_min=10, weight="dwellings")
    check(by_min, q)
    assert "population_source" not in by_min.columns  # shares of dwellings, not of residents
    # 10 min at 4.5 km/h = 750 m: Q2 has h3 (20 dwellings) of 22
    assert by_min.loc[("Q2", "ccas", 10.0), "covered_share"] == pytest.approx(20 / 22)
    assert by_min["threshold_m"].iloc[0] == pytest.approx(750)
    counted = coverage(homes, ccas, q, network=net, threshold_m=400, weight=None)
    check(counted, q)
    assert counted.loc[("qpv", "ccas", 400 / 75), "covered_share"] == pytest.approx(2 / 4)
    assert counted["weight"].iloc[0] == "count"
    # straight line: h6 (400, 300) is 500 m from the CCAS, h3 600 m
    eu = coverage(homes, ccas, q, threshold_m=550, crs=L93)
    check(eu, q)
    assert set(eu["method"]) == {"euclidean"}
    # qpv: h1, h2 (h6 is outside the quartiers)
    assert eu.loc[("qpv", "ccas", 550 / 75), "n_residents_covered"] == 10 + 30


def test_coverage_bad_thresholds_and_weights():
    net, homes, ccas, q = coverage_case()
    with pytest.raises(CdvGeoError, match="exactly one of threshold_m.*threshold_min=5"):
        coverage(homes, ccas, q, network=net)
    with pytest.raises(CdvGeoError, match="exactly one"):
        coverage(homes, ccas, q, network=net, threshold_m=300, threshold_min=5)
    with pytest.raises(CdvGeoError, match="threshold_m must be a positive number"):
        coverage(homes, ccas, q, network=net, threshold_m=-3)
    with pytest.raises(
        DataValidationError, match="field 'households': no 'households' column.*weight=None"
    ):
        coverage(homes, ccas, q, network=net, threshold_m=300, weight="households")
    holes = homes.assign(population=[10, None, 60, 5, 7, 8])
    with pytest.raises(
        DataValidationError,
        match="feature h2, field 'population': population is missing.*weight='dwellings'",
    ):
        coverage(holes, ccas, q, network=net, threshold_m=300)


# --- which quartier holds a home -----------------------------------------------------------------


def test_border_and_triple_point_homes_go_to_the_smallest_code():
    # QP3 (south-west) and QP1 (south-east) share the border x = X0 + 100; QP2 lies north of
    # both (y >= Y0 + 100): (X0 + 100, Y0 + 100) is a triple point. Layer order: QP3, QP2, QP1.
    q = gdf(
        [
            box(X0, Y0, X0 + 100, Y0 + 100),
            box(X0, Y0 + 100, X0 + 200, Y0 + 200),
            box(X0 + 100, Y0, X0 + 200, Y0 + 100),
        ],
        code=["QP3", "QP2", "QP1"],
        name=["Chevreux", "Presles", "Saint-Crépin"],
    )
    homes = gdf(
        [
            Point(X0 + 50, Y0 + 50),  # inside QP3
            Point(X0 + 100, Y0 + 50),  # border QP3 | QP1 -> QP1
            Point(X0 + 50, Y0 + 100),  # border QP3 | QP2 -> QP2
            Point(X0 + 100, Y0 + 100),  # triple point QP3 | QP2 | QP1 -> QP1
            Point(X0 + 500, Y0 + 500),  # outside every quartier: in no row
        ],
        id=["inside", "b31", "b32", "triple", "out"],
        population=[1, 10, 100, 1000, 10000],
    )
    fac = gdf([Point(X0 + 100, Y0 + 50)], kind=["school"])
    c = coverage(homes, fac, q, threshold_m=1000, crs=L93)
    check(c, q)
    t = c.xs(("school", 1000 / 75), level=LEVELS)
    assert t.index.tolist() == ["QP3", "QP2", "QP1", "qpv"]
    assert t["n_residents"].tolist() == [1, 100, 10 + 1000, 1111]
    assert t["n_homes"].tolist() == [1, 1, 2, 4]
    # each home counted once: the quartier rows add up to qpv
    assert t["n_residents"].iloc[:3].sum() == 1111


def test_footprints_go_whole_to_the_quartier_holding_most_of_their_area():
    q = gdf(
        [box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 100, Y0, X0 + 200, Y0 + 100)],
        code=["QP2", "QP1"],
    )
    # 30 m x 10 m footprint: 20 m in QP2, 10 m in QP1 -> QP2; a 20 m x 10 m one split evenly
    # (10 m each side) -> the smaller code QP1
    homes = gdf(
        [box(X0 + 80, Y0 + 40, X0 + 110, Y0 + 50), box(X0 + 90, Y0 + 60, X0 + 110, Y0 + 70)],
        id=["mostly_2", "even"],
        population=[3, 5],
    )
    fac = gdf([Point(X0 + 100, Y0)], kind=["school"])
    c = coverage(homes, fac, q, threshold_m=500, crs=L93)
    check(c, q)
    assert c.xs("QP2", level="quartier")["n_residents"].tolist() == [3]
    assert c.xs("QP1", level="quartier")["n_residents"].tolist() == [5]


def test_no_home_in_any_quartier_gives_nan_and_a_reason():
    net, homes, ccas, _ = coverage_case()
    far = gdf([box(5000, 5000, 6000, 6000), box(7000, 7000, 8000, 8000)], code=["QA", "QB"])
    c = coverage(homes, ccas, far, network=net, threshold_m=400)
    check(c, far)
    assert c["covered_share"].isna().tolist() == [True, True, True]
    assert c["reason"].tolist() == ["no home in this quartier"] * 2 + ["no home in this row"]
    assert c["n_homes"].tolist() == [0, 0, 0]  # counts stay 0, not NaN
    # a quartier whose homes all weigh 0: NaN and its own reason
    zero = homes.assign(population=[0, 0, 60, 5, 7, 8])
    _, _, _, q = coverage_case()
    z = coverage(zero, ccas, q, network=net, threshold_m=400)
    check(z, q)
    assert np.isnan(z.loc[("Q1", "ccas", 400 / 75), "covered_share"])
    assert "total population of 0" in z.loc[("Q1", "ccas", 400 / 75), "reason"]


# --- the metric CRS -----------------------------------------------------------------------------


def test_a_project_in_cc49_measures_in_cc49():
    # EPSG:3949 (CC49) in Soissons. Home to school: (300, 400) -> 500 m exactly in CC49; the same
    # points measure 500.19 m in Lambert-93 (the two projections' scales differ there).
    x, y = 1723500.0, 8242500.0
    home = gdf([Point(x, y)], crs="EPSG:3949", id=["h"], population=[1])
    school = gdf([Point(x + 300, y + 400)], crs="EPSG:3949", kind=["school"])
    q = gdf([box(x - 10, y - 10, x + 10, y + 10)], crs="EPSG:3949", code=["QP1"])
    d = nearest_facility(home, school, crs="EPSG:3949")
    assert d.loc["h", "school_distance_m"] == pytest.approx(500.0, abs=1e-9)
    in_l93 = nearest_facility(home, school)  # no crs: EPSG:2154 in metropolitan France
    to_l93 = Transformer.from_crs("EPSG:3949", L93, always_xy=True)
    (ax, bx), (ay, by) = to_l93.transform([x, x + 300], [y, y + 400])
    assert in_l93.loc["h", "school_distance_m"] == pytest.approx(math.hypot(bx - ax, by - ay))
    assert abs(in_l93.loc["h", "school_distance_m"] - 500.0) > 0.1  # the test can tell them apart
    c = coverage(home, school, q, threshold_m=500, crs=3949)
    check(c, q)
    assert c["covered_share"].tolist() == [1.0, 1.0]
    # with a network built in CC49: along a street (x, y) -> (x + 700, y), the school 400 m
    # east of the home and 20 m north of the street, the home on it: 400 + 20 m
    streets = gdf([LineString([(x, y), (x + 700, y)])], crs="EPSG:3949")
    net = WalkNetwork.from_lines(streets, crs="EPSG:3949")
    assert net.crs.to_epsg() == 3949 and net.total_length_m == pytest.approx(700.0)
    school2 = gdf([Point(x + 400, y + 20)], crs="EPSG:3949", kind=["school"])
    d2 = nearest_facility(home, school2, network=net, crs="EPSG:3949")
    assert d2.loc["h", "school_distance_m"] == pytest.approx(420.0, abs=1e-9)
    with pytest.raises(CRSError, match="crs='EPSG:2154' but the walking network is in EPSG:3949"):
        nearest_facility(home, school2, network=net, crs=L93)
    with pytest.raises(CRSError, match="not projected in metres"):
        coverage(home, school, q, threshold_m=500, crs=4326)


# --- properties ---------------------------------------------------------------------------------


@cache
def grid_network():
    rows = [LineString([(0, y), (400, y)]) for y in range(0, 401, 100)]
    cols = [LineString([(x, 0), (x, 400)]) for x in range(0, 401, 100)]
    return WalkNetwork.from_lines(gdf(rows + cols), crs=L93)


coords = st.tuples(st.floats(-50, 450), st.floats(-50, 450))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    homes=st.lists(coords, min_size=1, max_size=12),
    facs=st.lists(coords, min_size=1, max_size=4),
    t1=st.floats(1, 800),
    extra=st.floats(0, 800),
)
def test_coverage_shares_are_fractions_that_grow_with_the_threshold(homes, facs, t1, extra):
    net = grid_network()
    origins = gdf([Point(p) for p in homes], population=list(range(1, len(homes) + 1)))
    fac = gdf([Point(p) for p in facs], kind=["shop"] * len(facs))
    q = gdf([box(-50, -50, 200, 450), box(200, -50, 450, 450)], code=["W", "E"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        low = coverage(origins, fac, q, network=net, threshold_m=t1)
        high = coverage(origins, fac, q, network=net, threshold_m=t1 + extra)
    for c in (low, high):
        check(c, q)
        # every home lies in W or E (the two halves of the homes' square): qpv holds them all
        assert c.xs("qpv", level="quartier")["n_residents"].iloc[0] == sum(range(1, len(homes) + 1))
    lo, hi = low["covered_share"].to_numpy(), high["covered_share"].to_numpy()
    assert (np.isnan(lo) == np.isnan(hi)).all()
    assert (np.nan_to_num(hi) >= np.nan_to_num(lo)).all()
    # the network walk is never shorter than the straight line
    dn = nearest_facility(origins, fac, network=net)["shop_distance_m"]
    de = nearest_facility(origins, fac, crs=L93)["shop_distance_m"]
    assert (dn.to_numpy() >= de.to_numpy() - 1e-9).all()
