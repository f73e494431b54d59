"""Tests of cdv_geo.metrics.opening_hours: OSM opening hours, permanences and reachable hours.

Every expected number is worked out by hand in the comments (minutes from Monday 00:00 of the
reference week; 75 m of walking per minute).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pytest
from shapely import LineString, Point, box

from cdv_geo.core.errors import CdvGeoError, DataValidationError
from cdv_geo.metrics.opening_hours import (
    REFERENCE_WEEK,
    moment_intervals,
    opening_access,
    parse_opening_hours,
    weekly_intervals,
)
from cdv_geo.network import WalkNetwork
from cdv_geo.schema.fields import check_opening_hours, split_permanences
from cdv_geo.testing import assert_metric_table

L93 = "EPSG:2154"
X0, Y0 = 724000.0, 6919000.0
H = 60.0  # minutes in an hour
D = 1440.0  # minutes in a day


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols or None, geometry=list(geoms), crs=L93)


def hours(value, **kw):
    return float(np.diff(weekly_intervals(value, **kw)).sum()) / H


# --- the syntax cases that matter ---------------------------------------------------------------


def test_weekday_ranges_and_several_ranges_per_day():
    iv = weekly_intervals("Mo-Fr 09:00-12:00,14:00-17:00")
    assert len(iv) == 10 and hours("Mo-Fr 09:00-12:00,14:00-17:00") == 30.0
    assert iv[0].tolist() == [9 * H, 12 * H] and iv[-1].tolist() == [4 * D + 14 * H, 4 * D + 17 * H]
    assert hours("Sa 10:00-12:00") == 2.0 and hours("Su 10:00-12:00") == 2.0


def test_semicolon_replaces_and_comma_adds():
    # OSM: a later ';' rule replaces the earlier one on the days it names (Tuesday: afternoon
    # only); ',' adds to it (Tuesday: morning and afternoon)
    assert hours("Mo-Fr 09:00-12:00; Tu 14:00-17:00") == 4 * 3 + 3
    assert hours("Mo-Fr 09:00-12:00, Tu 14:00-17:00") == 5 * 3 + 3


def test_24_7_and_ph_off():
    assert hours("24/7") == 168.0
    # the reference week has no public holiday: PH off changes nothing ...
    assert hours("Mo-Fr 09:00-12:00; PH off") == 15.0
    # ... the week of Monday 14 July 2025 (fête nationale) loses its Monday morning
    assert hours("Mo-Fr 09:00-12:00; PH off", week=dt.date(2025, 7, 16)) == 12.0
    assert hours("Mo-Fr 09:00-12:00", week=dt.date(2025, 7, 16)) == 15.0


def test_week_selectors():
    # the reference week (9 March 2026) is ISO week 11: odd weeks open, even weeks not
    assert REFERENCE_WEEK.isocalendar()[1] == 11
    assert hours("week 1-53/2 We 14:00-17:00") == 3.0
    assert hours("week 2-52/2 We 14:00-17:00") == 0.0
    assert hours("week 2-52/2 We 14:00-17:00", week=dt.date(2026, 3, 16)) == 3.0


def test_permanences_list_or_double_bar():
    assert split_permanences("Tu 09:00-12:00 || Th 14:00-16:00") == [
        "Tu 09:00-12:00",
        "Th 14:00-16:00",
    ]
    a = weekly_intervals("Tu 09:00-12:00 || Th 14:00-16:00")
    b = weekly_intervals(["Tu 09:00-12:00", "Th 14:00-16:00"])
    assert a.tolist() == b.tolist() == [[D + 9 * H, D + 12 * H], [3 * D + 14 * H, 3 * D + 16 * H]]
    # overlapping permanences count once: 09-12 and 11-13 -> 09-13
    assert hours(["Mo 09:00-12:00", "Mo 11:00-13:00"]) == 4.0


def test_invalid_strings_name_each_feature_row_and_text():
    fac = gdf(
        [Point(0, 0)] * 4,
        id=["caf", "pmi", "cidff", "poste"],
        opening_hours=["Tu 09:00-12:00", "lundi 9h-12h", None, "Mo 09:00-12:00 || Tu 25h"],
    )
    with pytest.raises(DataValidationError) as err:
        parse_opening_hours(fac)
    problems = err.value.problems
    assert [p.feature for p in problems] == ["pmi", "poste"]
    assert problems[0].message.startswith("row 2: 'lundi 9h-12h' is not in the OpenStreetMap")
    assert "'Tu 25h'" in problems[1].message and problems[1].field == "opening_hours"
    # a missing schedule is not an error: None
    ok = parse_opening_hours(fac.iloc[[0, 2]])
    assert ok[1] is None and ok[0].tolist() == [[D + 9 * H, D + 12 * H]]
    with pytest.raises(ValueError, match="character 4"):
        check_opening_hours("Mo 9h-12h")


def test_moments():
    assert moment_intervals("We 14:00").tolist() == [[2 * D + 14 * H, 2 * D + 14 * H + 1]]
    assert moment_intervals("Mo-Fr 18:00-24:00")[0].tolist() == [18 * H, 24 * H]
    with pytest.raises(CdvGeoError, match="moment 'We 25:00'"):
        moment_intervals("We 25:00")
    with pytest.raises(CdvGeoError, match="moment 'mercredi'"):
        moment_intervals("mercredi")


# --- reachable open hours: a hand-built case ----------------------------------------------------


def town():
    """A 3 km street. Homes A (x=300, 10 residents), B (x=1200, 30), C (x=2600, 60).

    CCAS (x=0): Tu 09:00-12:00 and We 14:30-16:00 -> A at 4 min, B at 16 min, C at 34.7.
    Mediator (x=1500): We 14:00-17:00 and Mo-Fr 18:00-19:00 -> A 16 min, B 4 min, C 14.7.
    PMI (x=2000, another kind): Sa 10:00-12:00 -> C at 8 min.
    """
    net = WalkNetwork.from_lines(gdf([LineString([(X0, Y0), (X0 + 3000, Y0)])]), crs=L93)
    homes = gdf(
        [Point(X0 + 300, Y0), Point(X0 + 1200, Y0), Point(X0 + 2600, Y0)],
        id=["A", "B", "C"],
        population=[10.0, 30.0, 60.0],
    )
    fac = gdf(
        [Point(X0, Y0), Point(X0 + 1500, Y0), Point(X0 + 2000, Y0)],
        id=["ccas", "med", "pmi"],
        kind=["ccas", "ccas", "pmi"],
        opening_hours=[
            "Tu 09:00-12:00 || We 14:30-16:00",
            "We 14:00-17:00; Mo-Fr 18:00-19:00",
            "Sa 10:00-12:00",
        ],
    )
    q = gdf(
        [box(X0, Y0 - 50, X0 + 1000, Y0 + 50), box(X0 + 1000, Y0 - 50, X0 + 2000, Y0 + 50)],
        code=["QA", "QB"],
        name=["Ouest", "Centre"],
    )
    return net, homes, fac, q


def test_open_hours_reachable_by_hand():
    net, homes, fac, q = town()
    r = opening_access(homes, fac, q, network=net, within_min=10)
    # A reaches the CCAS only: 3 + 1.5 = 4.5 h. B the mediator only: "We 14-17; Mo-Fr 18-19"
    # -> the ';' rule replaces Wednesday: Mo, Tu, Th, Fr 18-19 and We 18-19 = 5 h (We 14-17
    # replaced). C reaches nothing of kind ccas (14.7 min > 10): 0 h; the PMI: 2 h.
    h = r.homes
    assert h["ccas_open_hours_week"].tolist() == [4.5, 5.0, 0.0]
    assert h["pmi_open_hours_week"].tolist() == [0.0, 0.0, 2.0]
    t = r.hours
    assert_metric_table(t, q, levels=("kind",))
    assert t.loc[("QA", "ccas"), "open_hours_week"] == 4.5
    # qpv = A and B: (10 * 4.5 + 30 * 5) / 40
    assert t.loc[("qpv", "ccas"), "open_hours_week"] == pytest.approx((45 + 150) / 40)
    assert t.loc[("QA", "ccas"), "n_facilities"] == 2


def test_open_hours_union_and_the_limit_both_sides():
    net, homes, fac, q = town()
    # within 16 min (1200 m), A reaches both: CCAS Tu 09-12, We 14:30-16:00 and the mediator
    # Mo-Fr 18-19 (5 h): 3 + 1.5 + 5 = 9.5 h. B (exactly 16 min from the CCAS) gets it too.
    r = opening_access(homes, fac, q, network=net, within_min=16, kinds="ccas")
    assert r.homes["ccas_open_hours_week"].tolist() == [9.5, 9.5, 5.0]
    # just under 16 min: A and B lose the other facility, C (14.7 min) keeps the mediator
    r = opening_access(homes, fac, q, network=net, within_min=15.99, kinds="ccas")
    assert r.homes["ccas_open_hours_week"].tolist() == [4.5, 5.0, 5.0]


def test_moments_and_strip_by_hand():
    net, homes, fac, q = town()
    town_poly = gdf([box(X0 - 10, Y0 - 50, X0 + 3000, Y0 + 50)], code=["02722"])
    r = opening_access(homes, fac, q, network=net, within_min=10, communes=town_poly)
    m = r.moments
    assert_metric_table(m, q, levels=("kind", "moment"))
    # Wednesday 14:00: the CCAS opens at 14:30 (A not served), the mediator's Wednesday is
    # replaced -> nobody. Weekday after 18:00: B (mediator). Saturday 10:00: C (PMI).
    share = m["served_share"]
    assert share[("QA", "ccas", "wednesday_14h")] == 0.0
    assert share[("QB", "ccas", "weekday_after_18h")] == 1.0
    assert share[("commune", "ccas", "weekday_after_18h")] == pytest.approx(30 / 100)
    assert share[("commune", "pmi", "saturday_10h")] == pytest.approx(60 / 100)
    assert share[("hors_qpv", "pmi", "saturday_10h")] == 1.0
    s = r.strip
    assert_metric_table(s, q, levels=("kind", "day", "hour"))
    # We 14:00-15:00 for A: the CCAS opens at 14:30 -> half the hour; 15:00-16:00 whole
    assert s.loc[("QA", "ccas", "We", 14), "served_share"] == 0.5
    assert s.loc[("QA", "ccas", "We", 15), "served_share"] == 1.0
    assert s.loc[("QA", "ccas", "We", 16), "served_share"] == 0.0
    # qpv (A 10, B 30) on Tuesday 18:00-19:00: B only -> 30 / 40
    assert s.loc[("qpv", "ccas", "Tu", 18), "served_share"] == pytest.approx(0.75)
    assert len(s) == 5 * 2 * 7 * 24  # rows QA, QB, qpv, commune, hors_qpv; 2 kinds; 168 h


def test_facility_without_hours_is_counted_never_open():
    net, homes, fac, q = town()
    fac = fac.assign(opening_hours=[None, "We 14:00-17:00", "Sa 10:00-12:00"])
    r = opening_access(homes, fac, q, network=net, within_min=10, kinds="ccas")
    assert r.homes["ccas_open_hours_week"].tolist() == [0.0, 3.0, 0.0]
    assert r.hours.loc[("QA", "ccas"), "n_without_hours"] == 1
