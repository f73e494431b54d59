"""The one population rule (cdv_geo.metrics.population): precedence, the town, discrepancies.

Precedence: official (quartiers layer) > INSEE table > residences > grid. Every expected figure
is set or summed by hand from the layers built below.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from cdv_geo.core.errors import CdvGeoWarning
from cdv_geo.core.rows import row_label
from cdv_geo.metrics.indicators import compare_indicators
from cdv_geo.metrics.key_figures import key_figures
from cdv_geo.metrics.population import population_gap_lines, quartier_population
from cdv_geo.testing import assert_metric_table

QP1, QP2 = "QP000001", "QP000002"
TOWN = "02722"


def quartiers(official: tuple[float | None, float | None] | None = None) -> gpd.GeoDataFrame:
    # QP2 (0..100) and QP1 (100..200), both inside the town (0..1000 x 0..1000)
    data: dict[str, list] = {"code": [QP2, QP1], "name": ["Est", "Ouest"], "commune": TOWN}
    if official is not None:
        data["population"] = list(official)
    return gpd.GeoDataFrame(data, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=2154)


def town(population: float | None = None) -> gpd.GeoDataFrame:
    data: dict[str, list] = {"code": [TOWN], "name": ["Soissons"]}
    if population is not None:
        data["population"] = [population]
    return gpd.GeoDataFrame(data, geometry=[box(0, 0, 1000, 1000)], crs=2154)


def homes(qp2: float, qp1: float, *, elsewhere: float = 0.0, outside: float = 0.0,
          grid: bool = False) -> gpd.GeoDataFrame:  # fmt: skip
    """One home in each quartier, one in the town outside them, one outside the town."""
    g = gpd.GeoDataFrame(
        {"population": [qp2, qp1, elsewhere, outside]},
        geometry=[Point(50, 50), Point(150, 50), Point(500, 500), Point(5000, 5000)],
        crs=2154,
    )
    if grid:  # homes made from the Filosofi grid carry their square's code
        g["square"] = [f"CRS3035RES200mN{i}E{i}" for i in range(4)]
    return g


def insee(qp2: float | None, qp1: float | None, commune: float | None = None) -> pd.DataFrame:
    """An INSEE DEMO-like long table: POP_MUN per quartier, POP_COM on the quartiers' rows."""
    rows = []
    for code, pop in ((QP2, qp2), (QP1, qp1)):
        if pop is not None:
            rows.append((code, "population", pop))
        if commune is not None:
            rows.append((code, "commune_population", commune))
    return pd.DataFrame(
        [
            {"code": c, "name": None, "level": "qpv", "indicator": i, "year": 2021,
             "value": float(v), "flag": None, "source": "demo"}
            for c, i, v in rows
        ]
    )  # fmt: skip


def quiet(**kw) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        return quartier_population(quartiers(kw.pop("official", None)), **kw)


# --- the acceptance test of issue 22: two populations 35 % apart for one quartier


def test_two_sources_35_percent_apart_one_warning_one_population_everywhere() -> None:
    q = quartiers()
    ind = insee(800, 1000, commune=20000)
    res = homes(800, 1350, elsewhere=17850, grid=True)  # the grid: 1,350 in QP1, 35 % more
    with pytest.warns(CdvGeoWarning) as caught:
        people = quartier_population(q, residences=res, communes=town(), indicators=ind)
    assert len([w for w in caught if issubclass(w.category, CdvGeoWarning)]) == 1
    assert QP1 in str(caught[0].message) and QP2 not in str(caught[0].message)
    assert_metric_table(people, q)
    assert people.at[QP1, "population"] == 1000
    assert people.at[QP1, "population_source"] == "insee"
    assert people.at[QP1, "population_alt"] == 1350
    assert people.at[QP1, "population_alt_source"] == "grid"
    assert people.at[QP1, "population_gap_ratio"] == pytest.approx(0.35)
    # QP2's two sources agree: no discrepancy recorded
    assert people.at[QP2, "population_alt"] is None
    # the town is INSEE's published 20,000 (the grid agrees: 800 + 1,350 + 17,850)
    assert people.at["commune", "population"] == 20000
    assert people.at["commune", "population_source"] == "insee"
    assert people.at["qpv", "population"] == 1800
    assert people.at["hors_qpv", "population"] == 20000 - 1800
    # the key figures: the same residents, from the run's table or computed again
    with warnings.catch_warnings():
        warnings.simplefilter("error", CdvGeoWarning)  # the given table: no second warning
        kf = key_figures(q, communes=town(), population=people, crs=2154)
    with pytest.warns(CdvGeoWarning):
        kf2 = key_figures(q, communes=town(), residences=res, indicators=ind, crs=2154)
    for table in (kf, kf2):
        assert table.loc[[QP2, QP1, "qpv", "commune", "hors_qpv"], "n_residents"].tolist() == [
            800, 1000, 1800, 20000, 18200
        ]  # fmt: skip
        assert table.at[QP1, "population_source"] == "insee"
    # the INSEE table shows the same 1,000 for QP1 and the same 20,000 for the commune
    c = compare_indicators(ind, q, reference="commune")
    assert c.loc[(QP1, "population", "demo", 2021), "value"] == 1000
    assert c.loc[("commune", "population", "demo", 2021), "value"] == 20000
    # one line for the dossier, in the committee's language
    assert population_gap_lines(people) == [
        "Ouest : 1\u202f000 habitants (tableaux statistiques INSEE des QPV), mais 1\u202f350 "
        "selon carroyage Filosofi 200 m (écart de 35\u00a0%)"
    ]
    (en,) = population_gap_lines(people, lang="en")
    assert en.startswith("Ouest: 1,000 residents (INSEE") and "1,350" in en and "35%" in en


# --- the town


def test_the_towns_published_population_wins_over_a_grid_sum() -> None:
    # the grid counts 65,548 in the town (squares crossing its border), 54,055 are published
    res = homes(3000, 4000, elsewhere=58548, outside=999, grid=True)
    with pytest.warns(CdvGeoWarning, match="commune"):
        out = quartier_population(quartiers(), residences=res, communes=town(54055))
    assert out.at["commune", "population"] == 54055
    assert out.at["commune", "population_source"] == "official"
    assert out.at["commune", "population_alt"] == 3000 + 4000 + 58548  # the home outside: never
    assert out.at["commune", "population_alt_source"] == "grid"
    assert out.at["hors_qpv", "population"] == 54055 - 7000
    # the INSEE commune figure (POP_COM) is published too: it comes before the grid
    out = quiet(residences=res, communes=town(), indicators=insee(None, None, commune=54055))
    assert out.at["commune", "population"] == 54055
    assert out.at["commune", "population_source"] == "insee"
    # no published figure at all: the homes inside the town, and the table says so
    out = quiet(residences=res, communes=town())
    assert out.at["commune", "population"] == 65548
    assert out.at["commune", "population_source"] == "grid"


def test_communes_layer_beats_insee_for_the_town_and_unknown_is_nan_with_reason() -> None:
    out = quiet(communes=town(28522), indicators=insee(None, None, commune=28000))
    assert (out.at["commune", "population"], out.at["commune", "population_source"]) == (
        28522, "official"
    )  # fmt: skip
    out = quiet(communes=town())
    assert math.isnan(out.at["commune", "population"]) and out.at["commune", "reason"]
    assert math.isnan(out.at["hors_qpv", "population"]) and out.at["hors_qpv", "reason"]
    assert_metric_table(out, quartiers())


def test_without_communes_no_town_rows() -> None:
    out = quiet(residences=homes(10, 20, elsewhere=30))
    assert out.index.tolist() == [QP2, QP1, "qpv"]


# --- precedence, both sides of each pair


SOURCES = {
    "official": lambda v: {"official": (v, v)},
    "insee": lambda v: {"indicators": insee(v, v)},
    "residences": lambda v: {"residences": homes(v, v)},
    "grid": lambda v: {"residences": homes(v, v, grid=True)},
}
PAIRS = [
    ("official", "insee"),
    ("official", "residences"),
    ("official", "grid"),
    ("insee", "residences"),
    ("insee", "grid"),
]


@pytest.mark.parametrize(("high", "low"), PAIRS)
def test_precedence_the_higher_source_wins_and_the_lower_fills_in(high: str, low: str) -> None:
    both = quiet(**SOURCES[high](500.0), **SOURCES[low](700.0))
    assert both.loc[[QP2, QP1], "population"].tolist() == [500, 500]
    assert both.loc[[QP2, QP1], "population_source"].tolist() == [high, high]
    assert both.loc[[QP2, QP1], "population_alt_source"].tolist() == [low, low]
    alone = quiet(**SOURCES[low](700.0))
    assert alone.loc[[QP2, QP1], "population"].tolist() == [700, 700]
    assert alone.loc[[QP2, QP1], "population_source"].tolist() == [low, low]


def test_residences_and_grid_are_told_apart_by_the_square_code() -> None:
    assert quiet(**SOURCES["residences"](5.0)).at[QP1, "population_source"] == "residences"
    assert quiet(**SOURCES["grid"](5.0)).at[QP1, "population_source"] == "grid"


def test_precedence_holds_row_by_row() -> None:
    # QP2 has its official figure, QP1 only INSEE's
    out = quiet(official=(400, None), indicators=insee(450, 600))
    assert out.loc[[QP2, QP1], "population_source"].tolist() == ["official", "insee"]
    assert out.loc[[QP2, QP1], "population"].tolist() == [400, 600]
    assert out.at["qpv", "population"] == 1000
    assert out.at["qpv", "population_source"] == "insee"  # the least official of the two


# --- the 10 % limit: exactly 10 % is not a discrepancy


@pytest.mark.parametrize(
    ("other", "gap"),
    [(1100.0, False), (1101.0, True), (900.0, False), (899.0, True), (1000.0, False)],
)
def test_ten_percent_exactly_is_not_a_discrepancy(other: float, gap: bool) -> None:
    q = quartiers((1000, 1000))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = quartier_population(q, residences=homes(1000, other))
    warned = [w for w in caught if issubclass(w.category, CdvGeoWarning)]
    assert len(warned) == (1 if gap else 0)
    assert (out.at[QP1, "population_alt"] == other) is gap
    assert out.at[QP1, "population"] == 1000
    if gap:
        assert out.at[QP1, "population_gap_ratio"] == pytest.approx(abs(other - 1000) / 1000)
        assert len(population_gap_lines(out)) == 1
    else:
        assert out.at[QP1, "population_gap_ratio"] is None and population_gap_lines(out) == []


def test_the_town_gap_uses_the_same_limit() -> None:
    # a grid's sum over the town is compared with the published figure
    res = homes(0, 0, elsewhere=1100, grid=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CdvGeoWarning)
        out = quartier_population(quartiers((0, 0)), residences=res, communes=town(1000))
    assert out.at["commune", "population_alt"] is None
    with pytest.warns(CdvGeoWarning):
        quartier_population(quartiers((0, 0)), residences=homes(0, 0, elsewhere=1101, grid=True),
                            communes=town(1000))  # fmt: skip


# --- labels of the rows


@pytest.mark.parametrize(
    ("key", "fr", "en"),
    [
        ("qpv", "Ensemble des QPV", "All priority neighbourhoods"),
        ("commune", "Soissons (commune)", "Soissons (municipality)"),
        ("hors_qpv", "Soissons hors QPV", "Soissons outside priority neighbourhoods"),
        ("france_qpv", "Ensemble des QPV de France", "All French priority neighbourhoods"),
        (QP1, QP1, QP1),
    ],
)
def test_row_labels_in_both_languages(key: str, fr: str, en: str) -> None:
    assert row_label(key, town="Soissons") == fr
    assert row_label(key, town="Soissons", lang="en") == en


def test_hors_qpv_never_negative() -> None:
    # a commune figure smaller than its quartiers' (sources of different years): NaN, reason
    out = quiet(official=(800, 900), communes=town(1000))
    assert math.isnan(out.at["hors_qpv", "population"]) and out.at["hors_qpv", "reason"]
    assert np.isfinite(out.at["commune", "population"])


def test_a_zero_against_residents_is_a_discrepancy() -> None:
    with pytest.warns(CdvGeoWarning):
        out = quartier_population(quartiers((0, 1000)), residences=homes(40, 1000))
    assert out.at[QP2, "population"] == 0 and out.at[QP2, "population_alt"] == 40
    assert out.at[QP2, "population_gap_ratio"] == 1.0  # all of the other figure


def test_a_hand_made_layer_is_no_figure_of_the_town() -> None:
    # residences drawn over the quartiers only: 900 residents against 1,000 published (-10 %)
    # or 500 (-50 %): the published figure is kept and never compared with a partial layer
    with warnings.catch_warnings():
        warnings.simplefilter("error", CdvGeoWarning)
        out = quartier_population(quartiers((0, 0)), residences=homes(0, 0, elsewhere=500),
                                  communes=town(1000))  # fmt: skip
    assert out.at["commune", "population"] == 1000
    assert out.at["commune", "population_source"] == "official"
    assert out.at["commune", "population_alt"] is None
