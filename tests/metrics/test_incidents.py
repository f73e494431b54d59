"""Incidents before and after opening: exact Poisson rate ratios, counts per zone and summer."""

import datetime as dt

import geopandas as gpd
import numpy as np
import pytest
from scipy import stats
from shapely import Point, box
from statsmodels.stats.rates import test_poisson_2indep as poisson_2indep_test

from cdv_geo.core.errors import CdvGeoError, DataValidationError
from cdv_geo.metrics.incidents import incidents_before_after, poisson_rate_ratio, summers


@pytest.mark.parametrize(
    ("a", "ta", "b", "tb"), [(2, 4, 12, 4), (8, 3, 5, 5), (0, 2, 7, 3), (15, 4, 15, 4)]
)
def test_rate_ratio_against_statsmodels_and_the_exact_tails(a, ta, b, tb):
    r = poisson_rate_ratio(a, ta, b, tb)
    ref = poisson_2indep_test(a, ta, b, tb, method="exact-cond")
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert r["rate_ratio"] == pytest.approx((a / ta) / (b / tb))
    # each bound leaves alpha/2 in one tail of the conditional binomial (Clopper-Pearson)
    n = a + b

    def pi(rr):
        return ta * rr / (ta * rr + tb)

    if a > 0:
        assert stats.binom.sf(a - 1, n, pi(r["rate_ratio_low"])) == pytest.approx(0.025, rel=1e-6)
    else:
        assert r["rate_ratio_low"] == 0
    assert stats.binom.cdf(a, n, pi(r["rate_ratio_high"])) == pytest.approx(0.025, rel=1e-6)


def test_rate_ratio_undefined_cases():
    assert np.isnan(poisson_rate_ratio(3, 0, 2, 4)["rate_ratio"])
    assert poisson_rate_ratio(0, 3, 0, 4)["p_value"] == 1.0


def test_summers_split_on_opening_day():
    assert summers(range(2019, 2024), dt.date(2021, 10, 1)) == ([2019, 2020, 2021], [2022, 2023])
    assert summers(range(2019, 2024), dt.date(2021, 6, 1)) == ([2019, 2020], [2021, 2022, 2023])


def _incidents(rows):
    return gpd.GeoDataFrame(
        {
            "id": [f"i{k}" for k in range(len(rows))],
            "date": [d for _, d, _ in rows],
            "type": [t for _, _, t in rows],
        },
        geometry=[Point(700000 + x, 6900000) for x, _, _ in rows],
        crs=2154,
    )


PLAY = gpd.GeoDataFrame(
    {"id": ["p1"], "name": ["Presles"], "opened": ["2021-07-01"]},
    geometry=[Point(700000, 6900000)],
    crs=2154,
)


def test_counts_per_zone_before_and_after_by_hand():
    # straight lines at 4.5 km/h: 75 m a minute, 5 min = 375 m. Summers 2019..2023;
    # the play area opened during the 2021 summer, which is left out.
    rows = (
        [(100, f"{y}-07-10", "hydrant_opened") for y in (2019, 2019, 2020, 2020, 2020)]
        + [(375, "2020-08-01", "street_pooling")]  # exactly 5 min: inside
        + [(100, "2021-08-01", "hydrant_opened")]  # opening summer: left out
        + [(200, "2022-07-01", "hydrant_opened")]
        + [(2000, f"{y}-07-01", "hydrant_opened") for y in (2019, 2020, 2022, 2023)]
        + [(100, "2022-12-01", "hydrant_opened")]  # winter: left out
        + [(100, "2023-07-01", "other")]  # other type: left out
    )
    out = incidents_before_after(
        _incidents(rows), PLAY, threshold_min=5, today=dt.date(2024, 1, 1), min_events=3
    )
    z = out.loc[("p1", 5.0, "service_area")]
    r = out.loc[("p1", 5.0, "rest_of_town")]
    assert (z["n_before"], z["n_after"]) == (6, 1)
    assert (r["n_before"], r["n_after"]) == (2, 2)
    assert (z["n_summers_before"], z["n_summers_after"]) == (2, 2)
    assert z["rate_before"] == 3.0 and z["rate_after"] == 0.5
    assert z["did_per_summer"] == pytest.approx((0.5 - 3.0) - (1.0 - 1.0))
    assert z["ratio_of_rate_ratios"] == pytest.approx((0.5 / 3.0) / (1.0 / 1.0))
    half = 1.959963984540054 * np.sqrt(1 / 6 + 1 / 1 + 1 / 2 + 1 / 2)
    assert z["rrr_low"] == pytest.approx(np.exp(np.log(1 / 6) - half))
    assert "descriptive" in out.attrs["note"].lower()


def test_rest_of_town_counts_only_the_commune_with_communes():
    # the town: x in [-3000, 3000] m around the play area (its border x = 3000 is in it); three
    # summer incidents of a neighbouring commune at x = 5000 sit in the layer
    rows = (
        [(100, f"{y}-07-10", "hydrant_opened") for y in (2019, 2020)]
        + [(2000, f"{y}-07-01", "hydrant_opened") for y in (2019, 2020, 2022, 2023)]
        + [(5000, f"{y}-07-01", "hydrant_opened") for y in (2019, 2019, 2020)]
        + [(3000, "2022-07-01", "hydrant_opened")]  # on the border: in the town
        + [(3001, "2022-07-02", "hydrant_opened")]  # 1 m beyond: not
    )
    town = gpd.GeoDataFrame(
        {"code": ["02722"]},
        geometry=[box(700000 - 3000, 6900000 - 1000, 700000 + 3000, 6900000 + 1000)],
        crs=2154,
    )
    kw = {"threshold_min": 5, "today": dt.date(2024, 1, 1), "min_events": 1}
    every = incidents_before_after(_incidents(rows), PLAY, **kw)
    clipped = incidents_before_after(_incidents(rows), PLAY, communes=town, **kw)
    r_all, r_town = every.loc[("p1", 5.0, "rest_of_town")], clipped.loc[("p1", 5.0, "rest_of_town")]
    # before (2019, 2020): 2 at x=2000 + 3 at x=5000; after (2022, 2023): 2 + the two at 3000/3001
    assert (r_all["n_before"], r_all["n_after"]) == (5, 4)
    # in the town: before 2 (x=2000); after 2 + the border one
    assert (r_town["n_before"], r_town["n_after"]) == (2, 3)
    # the service area is the same: it counts what lies within the walk, wherever
    for c in ("n_before", "n_after"):
        assert (
            every.loc[("p1", 5.0, "service_area"), c] == clipped.loc[("p1", 5.0, "service_area"), c]
        )
    assert clipped.loc[("p1", 5.0, "service_area"), "n_before"] == 2


def test_too_few_incidents_says_so():
    rows = [(100, "2019-07-10", "hydrant_opened"), (100, "2023-07-10", "hydrant_opened")]
    out = incidents_before_after(_incidents(rows), PLAY, threshold_min=5, today=dt.date(2024, 1, 1))
    assert out.loc[("p1", 5.0, "service_area"), "conclusion"].startswith("too few incidents")


def test_incident_without_date_names_the_feature():
    inc = _incidents([(100, "2019-07-10", "hydrant_opened"), (100, None, "hydrant_opened")])
    with pytest.raises(DataValidationError, match=r"feature i1, field 'date'"):
        incidents_before_after(inc, PLAY, today=dt.date(2024, 1, 1))


def test_future_date_is_refused():
    inc = _incidents([(100, "2031-07-10", "hydrant_opened")])
    with pytest.raises(DataValidationError, match=r"feature i0.*in the future"):
        incidents_before_after(inc, PLAY, today=dt.date(2024, 1, 1))


def test_play_areas_without_opening_date():
    inc = _incidents([(100, "2019-07-10", "hydrant_opened")])
    with pytest.raises(DataValidationError, match="opened"):
        incidents_before_after(inc, PLAY.assign(opened=None), today=dt.date(2024, 1, 1))


def test_incidents_without_crs():
    inc = _incidents([(100, "2019-07-10", "hydrant_opened")]).set_crs(None, allow_override=True)
    with pytest.raises(CdvGeoError, match="incidents"):
        incidents_before_after(inc, PLAY)
