"""The named comparison rows of the area and tree metrics, on a commune whose answers are known.

The commune is the two quartiers of :func:`two_quartiers` (QA, QB: 1 ha each) and a 2 ha strip
east of them: ``box(X, Y, X + 400, Y + 100)``. Features lie in a quartier, in the commune outside
the quartiers, exactly on the commune's border, and outside the commune (the neighbour's): the
``commune`` row never counts the last, ``hors_qpv`` counts the second and third, ``qpv`` the first.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from cdv_geo.core.errors import DataValidationError
from cdv_geo.metrics.green import green_space_access
from cdv_geo.metrics.trees import canopy_share, tree_summary
from cdv_geo.testing import assert_metric_table

from .renat_helpers import X, Y, polygon_disc_ratio, two_quartiers

ROWS = ["QA", "QB", "qpv", "commune", "hors_qpv"]


@pytest.fixture
def quartiers() -> gpd.GeoDataFrame:
    return two_quartiers()  # populations 500 and 200


@pytest.fixture
def town() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["02722"], "name": ["Soissons"]},
        geometry=[box(X, Y, X + 400, Y + 100)],
        crs=2154,
    )


@pytest.fixture
def plantings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "trees": [3, 2, 4, 1, 8, 16],
            "species": ["Tilia cordata"] * 6,
            "year": [2023, 2024, 2024, 2024, 2024, 2024],
        },
        geometry=[
            Point(X + 50, Y + 50),  # in QA
            Point(X + 150, Y + 50),  # in QB
            Point(X + 300, Y + 50),  # in the commune, outside the quartiers
            Point(X + 400, Y + 50),  # exactly on the commune's border: in (covered)
            Point(X + 400.5, Y + 50),  # half a metre beyond it: out
            Point(X + 1_000, Y + 50),  # the neighbour's
        ],
        crs=2154,
    )


def test_tree_counts_by_row(
    plantings: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame, town: gpd.GeoDataFrame
) -> None:
    s = tree_summary(plantings, quartiers, by=None, communes=town)
    assert_metric_table(s, quartiers)
    assert list(s.index) == ROWS
    assert s["n_trees"].to_dict() == {
        "QA": 3,
        "QB": 2,
        "qpv": 5,
        "commune": 3 + 2 + 4 + 1,  # never the 8 half a metre out, nor the neighbour's 16
        "hors_qpv": 4 + 1,
    }
    assert s["n_plantings"].to_dict() == {"QA": 1, "QB": 1, "qpv": 2, "commune": 4, "hors_qpv": 2}
    # densities over each row's own area: 2 ha of quartiers, 4 ha of commune, 2 ha outside
    assert s.loc["qpv", "trees_per_ha"] == pytest.approx(5 / 2)
    assert s.loc["commune", "trees_per_ha"] == pytest.approx(10 / 4)
    assert s.loc["hors_qpv", "trees_per_ha"] == pytest.approx(5 / 2)
    # the quartier rows are those computed without the communes
    plain = tree_summary(plantings, quartiers, by=None)
    assert list(plain.index) == ["QA", "QB", "qpv"]
    pd.testing.assert_frame_equal(
        s.loc[["QA", "QB", "qpv"]].drop(columns="reason", errors="ignore"),
        plain.drop(columns="reason", errors="ignore"),
    )
    # by year: the border tree and the outside ones are 2024's
    y = tree_summary(plantings, quartiers, communes=town)
    assert_metric_table(y, quartiers, levels=("year",))
    assert y.loc[("hors_qpv", 2024), "n_trees"] == 5
    assert y.loc[("commune", 2023), "n_trees"] == 3
    assert y.loc[("commune", "all"), "n_trees"] == 10


def test_trees_take_the_population_table(
    plantings: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame, town: gpd.GeoDataFrame
) -> None:
    """The population rule's table gives every divisor and its source; hors_qpv = commune - qpv."""
    pop = pd.DataFrame(
        {
            "name": ["Alpha", "Beta", "Ensemble des QPV", "Commune"],
            "population": [400.0, 250.0, 650.0, 2_650.0],
            "population_source": ["insee", "grid", None, "published"],
            "reason": [None, None, None, None],
        },
        index=pd.Index(["QA", "QB", "qpv", "commune"], name="quartier"),
    )
    s = tree_summary(plantings, quartiers, by=None, communes=town, population=pop)
    assert_metric_table(s, quartiers)
    # the table's figures win over the quartiers' own ``population`` field (500 and 200)
    assert s["trees_per_1000_inhabitants"].to_dict() == pytest.approx(
        {
            "QA": 3 / 400 * 1000,
            "QB": 2 / 250 * 1000,
            "qpv": 5 / 650 * 1000,
            "commune": 10 / 2_650 * 1000,
            "hors_qpv": 5 / 2_000 * 1000,  # 2,650 - 650
        }
    )
    src = s["population_source"]
    assert src.drop(index="qpv").tolist() == ["insee", "grid", "published", "published"]
    assert pd.isna(src["qpv"])  # the table says no source for it
    # a row the table cannot give: NaN, with the table's own reason
    unknown = pop.assign(
        population=[400.0, 250.0, 650.0, np.nan],
        reason=[None, None, None, "no published population"],
    )
    u = tree_summary(plantings, quartiers, by=None, communes=town, population=unknown)
    assert_metric_table(u, quartiers)
    assert np.isnan(u.loc["commune", "trees_per_1000_inhabitants"])
    assert "no published population" in u.loc["commune", "reason"]
    assert np.isnan(u.loc["hors_qpv", "trees_per_1000_inhabitants"])
    assert "population unknown" in u.loc["hors_qpv", "reason"]
    assert pd.isna(u.loc["commune", "population_source"])
    with pytest.raises(DataValidationError, match="no 'population' column"):
        tree_summary(plantings, quartiers, by=None, population=pop.drop(columns="population"))


def test_trees_population_from_a_series_or_the_field(
    plantings: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame
) -> None:
    # the quartiers' field is the official figure; qpv is the quartiers' sum
    field = tree_summary(plantings, quartiers, by=None)
    assert field.loc["qpv", "trees_per_1000_inhabitants"] == pytest.approx(5 / 700 * 1000)
    assert (field["population_source"] == "official").all()
    # a Series has no known source; a quartier without one leaves qpv unknown too
    series = tree_summary(plantings, quartiers, by=None, population=pd.Series({"QA": 1_000}))
    assert series.loc["QA", "trees_per_1000_inhabitants"] == pytest.approx(3)
    assert series["population_source"].isna().all()
    assert np.isnan(series.loc["qpv", "trees_per_1000_inhabitants"])
    assert "population unknown" in series.loc["qpv", "reason"]


def test_trees_take_the_communes_published_population(
    plantings: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame, town: gpd.GeoDataFrame
) -> None:
    s = tree_summary(plantings, quartiers, by=None, communes=town.assign(population=[2_700]))
    assert_metric_table(s, quartiers)
    assert s.loc["commune", "trees_per_1000_inhabitants"] == pytest.approx(10 / 2_700 * 1000)
    # hors_qpv: the published 2,700 minus the quartiers' official 500 + 200
    assert s.loc["hors_qpv", "trees_per_1000_inhabitants"] == pytest.approx(5 / 2_000 * 1000)
    assert s["population_source"].tolist() == ["official"] * 3 + ["published"] * 2
    # without a published figure, the commune's is unknown, said
    bare = tree_summary(plantings, quartiers, by=None, communes=town)
    assert np.isnan(bare.loc["commune", "trees_per_1000_inhabitants"])
    assert "population unknown" in bare.loc["commune", "reason"]


def test_canopy_from_crowns_by_row(quartiers: gpd.GeoDataFrame, town: gpd.GeoDataFrame) -> None:
    r = 5.0
    trees = gpd.GeoDataFrame(
        {"crown_diameter_m": [2 * r] * 4},
        geometry=[
            Point(X + 50, Y + 50),  # in QA
            Point(X + 300, Y + 50),  # in the commune, outside the quartiers
            Point(X + 400, Y + 50),  # on the commune's border: half its crown inside
            Point(X + 600, Y + 50),  # the neighbour's
        ],
        crs=2154,
    )
    c = canopy_share(quartiers, trees=trees, communes=town)
    assert_metric_table(c, quartiers)
    disc = math.pi * r**2 * polygon_disc_ratio(16)  # the crowns are 64-gons
    assert c.loc["QA", "canopy_m2"] == pytest.approx(disc, rel=1e-9)
    assert c.loc["qpv", "canopy_m2"] == pytest.approx(disc, rel=1e-9)
    assert c.loc["hors_qpv", "canopy_m2"] == pytest.approx(1.5 * disc, rel=1e-9)
    assert c.loc["commune", "canopy_m2"] == pytest.approx(2.5 * disc, rel=1e-9)
    assert c.loc["commune", "canopy_share"] == pytest.approx(2.5 * disc / 40_000, rel=1e-9)
    assert c.loc["commune", "area_m2"] == pytest.approx(40_000)


def test_green_access_counts_the_homes_of_each_row(
    quartiers: gpd.GeoDataFrame, town: gpd.GeoDataFrame
) -> None:
    homes = gpd.GeoDataFrame(
        {"population": [10.0, 20.0, 40.0, 5.0]},
        geometry=[
            Point(X + 50, Y + 50),  # in QA
            Point(X + 300, Y + 50),  # in the commune, outside the quartiers
            Point(X + 2_000, Y + 50),  # the neighbour's
            Point(X + 400, Y + 50),  # on the commune's border: in
        ],
        crs=2154,
    )
    parks = gpd.GeoDataFrame(
        {"name": ["Parc", "Parc voisin"]},
        geometry=[
            box(X + 450, Y + 100, X + 550, Y + 200),  # 1 ha: 158.1 m from home 2
            box(X + 2_500, Y, X + 2_600, Y + 100),  # 1 ha: 500 m from the neighbour's home
        ],
        crs=2154,
    )
    a = green_space_access(homes, parks, quartiers, min_area_ha=1.0, communes=town)
    t = a.quartiers
    assert_metric_table(t, quartiers)
    assert list(t.index) == ROWS
    # within 300 m of a 1 ha park: home 2 (158.1 m) and the border home (70.7 m); home 1 is
    # 403.1 m away; the neighbour's home (500 m) never counts in the commune
    d = a.residences["green_1ha_distance_m"].to_numpy()
    assert d == pytest.approx([math.hypot(400, 50), math.hypot(150, 50), 500, math.hypot(50, 50)])
    assert a.residences["green_1ha"].tolist() == [False, True, False, True]
    assert t["n_residents"].to_dict() == {
        "QA": 10,
        "QB": 0,
        "qpv": 10,
        "commune": 35,
        "hors_qpv": 25,
    }
    assert t.loc["qpv", "green_1ha_share"] == 0.0
    assert t.loc["commune", "green_1ha_share"] == pytest.approx(25 / 35)
    assert t.loc["hors_qpv", "green_1ha_share"] == pytest.approx(1.0)
    assert np.isnan(t.loc["QB", "green_1ha_share"]) and t.loc["QB", "reason"]
