"""One population per quartier, with its source (cdv_geo.metrics.population).

Every expected value is summed by hand from the homes placed below.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning
from cdv_geo.metrics.access import coverage
from cdv_geo.metrics.key_figures import key_figures
from cdv_geo.metrics.population import quartier_population
from cdv_geo.metrics.residences_grid import residences_from_grid
from cdv_geo.testing import assert_metric_table

QP1, QP2 = "QP000001", "QP000002"


def quartiers(population: list[float | None] | None = None) -> gpd.GeoDataFrame:
    data: dict[str, list] = {"code": [QP2, QP1], "name": ["Est", "Ouest"]}
    if population is not None:
        data["population"] = population
    return gpd.GeoDataFrame(data, geometry=[box(100, 0, 200, 100), box(0, 0, 100, 100)], crs=2154)


def homes(people: list[float | None]) -> gpd.GeoDataFrame:
    # (150, 50) in QP2; (50, 50) in QP1; (100, 50) on the shared border -> QP1 (smaller code);
    # (500, 500) outside both
    points = [Point(150, 50), Point(50, 50), Point(100, 50), Point(500, 500)]
    return gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"], "population": people, "dwellings": [4, 5, 6, 7]},
        geometry=points,
        crs=2154,
    )


def test_official_figures_come_first():
    q = quartiers([800, 1200])
    with pytest.warns(CdvGeoWarning, match="more than 10 %") as caught:
        out = quartier_population(q, residences=homes([10, 20, 30, 40]))
    assert len(caught) == 1  # one warning for both quartiers
    assert_metric_table(out, q)
    assert out.loc[[QP2, QP1], "population"].tolist() == [800, 1200]
    assert out.loc[[QP2, QP1], "population_source"].tolist() == ["official", "official"]
    # no communes: the quartiers and their sum only; no row for the town
    assert out.index.tolist() == [QP2, QP1, "qpv"]
    assert out.at["qpv", "population"] == 800 + 1200
    assert out.at["qpv", "population_source"] == "official"


def test_residences_fill_what_is_unknown_and_a_border_home_counts_once():
    q = quartiers([800, None])
    out = quartier_population(q, residences=homes([10, 20, 30, 40]), warn=False)
    assert out.at[QP2, "population"] == 800
    assert out.at[QP2, "population_source"] == "official"
    assert out.at[QP1, "population"] == 20 + 30  # the border home is QP1's, not QP2's
    assert out.at[QP1, "population_source"] == "residences"
    # the sum mixes an official figure and a sum of homes: it says the least official
    assert out.at["qpv", "population"] == 850
    assert out.at["qpv", "population_source"] == "residences"


def test_communes_give_the_territory_figure():
    q = quartiers()
    communes = gpd.GeoDataFrame(
        {"code": ["02722", "02999"], "population": ["28 522", 1000]},
        geometry=[box(-10, -10, 300, 300), box(300, 0, 600, 600)],
        crs=2154,
    )
    # a hand-made residences layer covers the quartiers only: its 100 residents are no figure of
    # the town, so the published 29,522 is kept without a warning about the town
    with warnings.catch_warnings():
        warnings.simplefilter("error", CdvGeoWarning)
        out = quartier_population(q, residences=homes([10, 20, 30, 40]), communes=communes)
    assert_metric_table(out, q)
    assert out.at["commune", "population_alt"] is None
    # a grid covers the town: its sum is compared with the published figure
    grid = homes([10, 20, 30, 40]).assign(square="CRS3035RES200mN1E1")
    with pytest.warns(CdvGeoWarning, match="commune"):
        on_grid = quartier_population(q, residences=grid, communes=communes)
    assert on_grid.at["commune", "population"] == 29522
    assert on_grid.at["commune", "population_alt_source"] == "grid"
    assert out.at["commune", "population"] == 29522
    assert out.at["commune", "population_source"] == "official"
    assert out.loc[[QP2, QP1], "population"].tolist() == [10, 50]
    assert out.at["hors_qpv", "population"] == 29522 - 60


def test_unknown_population_is_nan_with_a_reason_never_a_guess_from_dwellings():
    q = quartiers()
    out = quartier_population(q, residences=homes([10, None, 30, 40]))
    assert out.at[QP2, "population"] == 10
    # QP1 holds a home without population: its sum would be too small
    assert np.isnan(out.at[QP1, "population"])
    assert "population unknown" in out.at[QP1, "reason"]
    assert np.isnan(out.at["qpv", "population"]) and out.at["qpv", "reason"]
    no_people = homes([10, 20, 30, 40]).drop(columns="population")
    out = quartier_population(q, residences=no_people)
    assert out["population"].isna().all()
    assert "carry no population" in out.at[QP1, "reason"]
    assert out["population_source"].isna().all()


def test_bad_layers_raise_a_cdv_geo_error_naming_the_argument():
    with pytest.raises(CdvGeoError, match="residences"):
        quartier_population(quartiers(), residences=pd.DataFrame({"population": [1]}))
    with pytest.raises(CdvGeoError, match="quartiers"):
        quartier_population(pd.DataFrame({"code": [QP1]}))


def grid() -> gpd.GeoDataFrame:
    # four 200 m squares: two in QP1's box, one in QP2's, one outside
    squares = {(0, 0): 120.0, (0, 200): 30.0, (200, 0): 80.0, (600, 600): 5.0}
    return gpd.GeoDataFrame(
        {
            "idcar_200m": [f"CRS3035RES200mN{i:07d}E{i:07d}" for i in range(len(squares))],
            "ind": list(squares.values()),
            "men": [50.0, 12.0, 30.0, 2.0],
        },
        geometry=[box(x, y, x + 200, y + 200) for x, y in squares],
        crs=2154,
    )


def test_grid_population_is_the_one_of_key_figures_and_coverage():
    # quartiers large enough to hold the square centres (100, 100), (100, 300), (300, 100)
    q = gpd.GeoDataFrame(
        {"code": [QP2, QP1], "name": ["Est", "Ouest"]},
        geometry=[box(200, 0, 400, 200), box(0, 0, 200, 400)],
        crs=2154,
    )
    res = residences_from_grid(grid())
    people = quartier_population(q, residences=res)
    assert people.loc[[QP2, QP1], "population"].tolist() == [80, 120 + 30]
    assert people.loc[[QP2, QP1, "qpv"], "population_source"].tolist() == ["grid"] * 3
    assert people.at["qpv", "population"] == 80 + 150  # the square outside counts nowhere
    kf = key_figures(q, residences=res)
    assert kf.loc[[QP2, QP1], "n_residents"].tolist() == [80, 150]
    assert kf.loc[[QP2, QP1], "population_source"].tolist() == ["grid", "grid"]
    # the coverage table, weighted by the grid's population, counts the same residents
    fac = gpd.GeoDataFrame({"kind": ["school"]}, geometry=[Point(100, 100)], crs=2154)
    cov = coverage(res, fac, q, threshold_m=10_000, weight="population")
    n = cov.xs("school", level="kind").droplevel(-1)["n_residents"]
    assert n[QP2] == kf.at[QP2, "n_residents"] and n[QP1] == kf.at[QP1, "n_residents"]


def test_key_figures_give_each_row_its_own_figures():
    # two 100 m x 100 m quartiers in a 1 km x 1 km town of 5,000 published residents
    q = quartiers([800, 1200])
    town = gpd.GeoDataFrame(
        {"code": ["02722"], "population": [5000]}, geometry=[box(0, 0, 1000, 1000)], crs=2154
    )
    # a school in each quartier, a library in the town outside them, a bus stop outside the town
    fac = gpd.GeoDataFrame(
        {"kind": ["school", "school", "library", "bus_stop"]},
        geometry=[Point(150, 50), Point(50, 50), Point(500, 500), Point(5000, 5000)],
        crs=2154,
    )
    # a tree table in the contract, without the town rows (computed without the communes)
    trees = pd.DataFrame(
        {"name": ["Est", "Ouest", "Ensemble des QPV"], "n_trees": [3.0, 4.0, 7.0]},
        index=pd.Index([QP2, QP1, "qpv"], name="quartier"),
    )
    kf = key_figures(q, facilities=fac, communes=town, trees=trees, crs=2154)
    assert_metric_table(kf, q)
    rows = [QP2, QP1, "qpv", "commune", "hors_qpv"]
    assert kf.index.tolist() == rows
    assert kf.loc[rows, "n_residents"].tolist() == [800, 1200, 2000, 5000, 3000]
    assert kf.loc[rows, "population_source"].tolist() == ["official"] * 5
    # areas of what each row names: the quartiers' union, the town, the town minus them
    assert kf.loc[rows, "area_m2"].tolist() == [1e4, 1e4, 2e4, 1e6, 1e6 - 2e4]
    # the bus stop of the neighbouring commune never counts
    assert kf.loc[rows, "n_facilities"].tolist() == [1, 1, 2, 3, 1]
    # a row the tree table does not have: NaN with a reason, never another row's figure
    assert kf.loc[[QP2, QP1, "qpv"], "n_trees"].tolist() == [3, 4, 7]
    assert np.isnan(kf.at["commune", "n_trees"]) and "n_trees" in kf.at["commune", "reason"]
    assert np.isnan(kf.at["hors_qpv", "n_trees"])
    # without the communes: the quartiers and qpv only
    assert key_figures(q, facilities=fac, crs=2154).index.tolist() == [QP2, QP1, "qpv"]
