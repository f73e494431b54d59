"""One matrix of walking times for several measures: the ``times=`` of floating_catchment,
opening_access and huff (issue 25).

A 2 km street walked at 4.5 km/h (75 m a minute). GPs F1 (2 FTE) at 0 m and F2 (1 FTE) at
1,000 m, a CCAS at 1,500 m; homes H1 at 300 m (100 residents), H2 at 600 m (200), H3 at 1,200 m
(300). Times: H1 4 min from F1, 9.33 from F2; H2 8 and 5.33; H3 16 and 2.67. Every expected
value is worked out from these distances.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS
from shapely import LineString, Point, box

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.metrics.catchment import floating_catchment
from cdv_geo.metrics.catchment_times import TravelTimes, travel_times
from cdv_geo.metrics.huff import huff
from cdv_geo.metrics.opening_hours import opening_access
from cdv_geo.network import WalkNetwork

L93 = "EPSG:2154"
X0, Y0 = 724000.0, 6919000.0


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols or None, geometry=list(geoms), crs=L93)


@pytest.fixture(scope="module")
def town():
    net = WalkNetwork.from_lines(gdf([LineString([(X0, Y0), (X0 + 2000, Y0)])]), crs=L93)
    homes = gdf(
        [Point(X0 + 300, Y0), Point(X0 + 600, Y0), Point(X0 + 1200, Y0)],
        id=["H1", "H2", "H3"],
        population=[100.0, 200.0, 300.0],
    )
    fac = gdf(
        [Point(X0, Y0), Point(X0 + 1500, Y0), Point(X0 + 1000, Y0)],
        id=["F1", "C1", "F2"],
        kind=["doctor", "ccas", "doctor"],
        capacity=[2.0, 1.0, 1.0],
        opening_hours=["Tu 09:00-12:00", "We 14:00-17:00", "Mo 09:00-10:00"],
        surface=[1000.0, 500.0, 8000.0],
    )
    q = gdf([box(X0 - 10, Y0 - 50, X0 + 700, Y0 + 50)], code=["Q1"], name=["Presles"])
    return net, homes, fac, q


def test_given_times_equal_computed_and_the_hand_values(town):
    net, homes, fac, q = town
    times = travel_times(homes, fac, network=net, max_time_min=20)  # every facility, 20 min
    got = floating_catchment(homes, fac, q, network=net, kinds="doctor", times=times)
    ref = floating_catchment(homes, fac, q, network=net, kinds="doctor")
    pd.testing.assert_frame_equal(got.homes, ref.homes, rtol=1e-12)
    pd.testing.assert_frame_equal(got.table, ref.table, rtol=1e-12)
    pd.testing.assert_frame_equal(got.facilities, ref.facilities, rtol=1e-12)
    # F1: 100 × 1 + 200 × 0.3 = 160 (H3 at 16 min: beyond 15, though within the 20 given);
    # F2: 100 × 0.3 + 200 × 0.3 + 300 × 1 = 390
    r1, r2 = 2.0 / 160.0, 1.0 / 390.0
    expected = [1e4 * (r1 + 0.3 * r2), 1e4 * (0.3 * r1 + 0.3 * r2), 1e4 * r2]
    np.testing.assert_allclose(got.homes["doctor_access_per_10k"], expected, rtol=1e-12)
    assert got.facilities.index.tolist() == ["F1", "F2"]


def test_times_exactly_at_the_last_band_are_enough(town):
    net, homes, fac, q = town
    times = travel_times(homes, fac, network=net, max_time_min=15)
    got = floating_catchment(homes, fac, q, network=net, kinds="doctor", times=times)
    ref = floating_catchment(homes, fac, q, network=net, kinds="doctor")
    pd.testing.assert_frame_equal(got.homes, ref.homes, rtol=1e-12)


def test_times_shorter_than_the_last_band_say_how_to_compute_them(town):
    net, homes, fac, q = town
    times = travel_times(homes, fac, network=net, max_time_min=14.9)
    with pytest.raises(CdvGeoError, match=r"reach 14.9 min, less than the 15 min needed.*"
                       r"max_time_min=15"):  # fmt: skip
        floating_catchment(homes, fac, q, network=net, times=times)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("homes", "for 2 homes, not the 3 given"),
        ("facilities", "for 2 facilities, not the 3 given"),
        ("speed", "at 5 km/h, not 4.5"),
    ],
)
def test_times_for_other_layers_or_speed_are_refused(town, change, message):
    net, homes, fac, q = town
    h = homes.iloc[:2] if change == "homes" else homes
    f = fac.iloc[:2] if change == "facilities" else fac
    times = travel_times(
        h, f, network=net, max_time_min=20, speed_kmh=5 if change == "speed" else 4.5
    )
    with pytest.raises(CdvGeoError, match=message):
        floating_catchment(homes, fac, q, network=net, times=times)


def test_times_for_the_same_number_of_other_facilities_are_refused(town):
    net, homes, fac, q = town
    other = fac.assign(id=["F1", "C1", "<script>&\"'"])
    times = travel_times(homes, other, network=net, max_time_min=20)
    with pytest.raises(CdvGeoError, match="one column per facility, in order"):
        floating_catchment(homes, fac, q, network=net, times=times)


def test_opening_access_with_given_times_equals_computed(town):
    net, homes, fac, q = town
    times = travel_times(homes, fac, network=net, max_time_min=15)
    got = opening_access(homes, fac, q, network=net, within_min=8, times=times)
    ref = opening_access(homes, fac, q, network=net, within_min=8)
    for a, b in zip((got.hours, got.moments, got.strip, got.homes),
                    (ref.hours, ref.moments, ref.strip, ref.homes), strict=True):  # fmt: skip
        pd.testing.assert_frame_equal(a, b)
    # within 8 min (H2 exactly 8 min from F1: counts): H1 F1 (3 h), H2 F1 and F2 (3 + 1 h),
    # H3 F2 and C1 (1 + 3 h)
    assert got.homes["doctor_open_hours_week"].tolist() == [3.0, 4.0, 1.0]
    assert got.homes["ccas_open_hours_week"].tolist() == [0.0, 0.0, 3.0]
    with pytest.raises(CdvGeoError, match="less than the 10 min needed"):
        opening_access(homes, fac, q, network=net, within_min=10,
                       times=travel_times(homes, fac, network=net, max_time_min=9))  # fmt: skip


def test_huff_with_given_times_equals_computed(town):
    net, homes, fac, q = town
    times = travel_times(homes, fac, network=net, max_time_min=40)
    got = huff(homes, fac, q, network=net, max_time_min=30, times=times)
    ref = huff(homes, fac, q, network=net, max_time_min=30)
    pd.testing.assert_frame_equal(got.table, ref.table)
    pd.testing.assert_frame_equal(got.centres, ref.centres, rtol=1e-12)
    pd.testing.assert_frame_equal(got.homes, ref.homes, rtol=1e-12)
    # H1: F1 1000/4², C1 500/16², F2 8000/9.33²
    a = np.array([1000 / 4**2, 500 / 16**2, 8000 / (700 / 75) ** 2])
    share = got.probabilities.query("home == 'H1'").set_index("centre")["probability"]
    np.testing.assert_allclose(share[["F1", "C1", "F2"]], a / a.sum(), rtol=1e-9)
    with pytest.raises(CdvGeoError, match="less than the 30 min needed"):
        huff(homes, fac, q, network=net, times=travel_times(homes, fac, network=net))


def test_within_keeps_a_time_exactly_on_the_limit():
    t = TravelTimes(np.array([0, 1, 1]), np.array([0, 0, 1]), np.array([10.0, 10.000001, 3.0]),
                    pd.Index(["a", "b"]), np.array(["f", "g"]), np.ones(2, bool),
                    np.empty(2, object), CRS(2154), "network", 15.0, 4.5)  # fmt: skip
    cut = t.within(10.0)
    assert cut.home.tolist() == [0, 1] and cut.time_min.tolist() == [10.0, 3.0]
    assert cut.max_time_min == 10.0
    sel = t.columns(np.array([1, 0]))  # (renumbered in the order given)
    assert sel.facility.tolist() == [1, 1, 0] and sel.facility_ids.tolist() == ["g", "f"]
    with pytest.raises(CdvGeoError, match="distinct facility positions"):
        t.columns(np.array([0, 0]))


def test_computed_times_are_cut_by_time_as_a_longer_matrix():
    # a home exactly 10 min (750 m) away: kept by both, whichever limit the matrix was made at
    net = WalkNetwork.from_lines(gdf([LineString([(X0, Y0), (X0 + 2000, Y0)])]), crs=L93)
    homes = gdf([Point(X0 + 750, Y0), Point(X0 + 751, Y0)], id=["a", "b"])
    fac = gdf([Point(X0, Y0)], id=["f"])
    short = travel_times(homes, fac, network=net, max_time_min=10)
    cut = travel_times(homes, fac, network=net, max_time_min=30).within(10)
    assert short.home.tolist() == cut.home.tolist() == [0]
    assert short.time_min.tolist() == cut.time_min.tolist() == [10.0]
    assert short.max_time_min == 10.0 and short.speed_kmh == 4.5


def test_rows_found_on_the_homes_near_the_quartiers_equal_the_rule_on_every_home():
    # the bounds prefilter of the rows must change nothing: points on the quartiers' and the
    # commune's bounding boxes, a footprint straddling them, a missing geometry, far homes
    from cdv_geo.core.assign import assign_quartier, in_communes
    from cdv_geo.core.tables import rows_of
    from cdv_geo.metrics.catchment import _rows

    q = gdf([box(0, 0, 10, 10), box(10, 0, 20, 10)], code=["QP2", "QP1"], name=["a", "b"])
    town = gdf([box(-5, -5, 40, 15)], code=["02722"])
    geoms = np.array(
        [Point(0, 0), Point(20, 10), Point(10, 5), Point(20.001, 5), Point(-5, -5),
         Point(40, 15), Point(40.001, 0), box(18, 8, 30, 12), box(-50, -50, -40, -40), None,
         Point(100, 100)],
        dtype=object,
    )  # fmt: skip
    expected = rows_of(assign_quartier(geoms, q).to_numpy(), q, in_commune=in_communes(geoms, town))
    got = _rows(geoms, shapely.bounds(geoms), q, town)
    assert list(got) == list(expected)
    for key in expected:
        assert got[key].tolist() == expected[key].tolist(), key
    got = _rows(geoms, shapely.bounds(geoms), q, None)
    expected = rows_of(assign_quartier(geoms, q).to_numpy(), q)
    assert list(got) == list(expected)
    assert all(got[k].tolist() == expected[k].tolist() for k in expected)
