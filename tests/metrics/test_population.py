"""One population per quartier, with its source (cdv_geo.metrics.population).

Every expected value is summed by hand from the homes placed below.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from cdv_geo.core.errors import CdvGeoError
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
    out = quartier_population(q, residences=homes([10, 20, 30, 40]))
    assert_metric_table(out, q)
    assert out.loc[[QP2, QP1], "n_residents"].tolist() == [800, 1200]
    assert out.loc[[QP2, QP1], "population_source"].tolist() == ["official", "official"]
    # no communes: the territory's residents are every home's, and it says so
    assert out.at["all", "n_residents"] == 10 + 20 + 30 + 40
    assert out.at["all", "population_source"] == "residences"


def test_residences_fill_what_is_unknown_and_a_border_home_counts_once():
    q = quartiers([800, None])
    out = quartier_population(q, residences=homes([10, 20, 30, 40]))
    assert out.at[QP2, "n_residents"] == 800
    assert out.at[QP2, "population_source"] == "official"
    assert out.at[QP1, "n_residents"] == 20 + 30  # the border home is QP1's, not QP2's
    assert out.at[QP1, "population_source"] == "residences"


def test_communes_give_the_territory_figure():
    q = quartiers()
    communes = gpd.GeoDataFrame(
        {"code": ["02722", "02999"], "population": ["28 522", 1000]},
        geometry=[box(-10, -10, 300, 300), box(300, 0, 600, 600)],
        crs=2154,
    )
    out = quartier_population(q, residences=homes([10, 20, 30, 40]), communes=communes)
    assert out.at["all", "n_residents"] == 29522
    assert out.at["all", "population_source"] == "official"
    assert out.loc[[QP2, QP1], "n_residents"].tolist() == [10, 50]


def test_unknown_population_is_nan_with_a_reason_never_a_guess_from_dwellings():
    q = quartiers()
    out = quartier_population(q, residences=homes([10, None, 30, 40]))
    assert out.at[QP2, "n_residents"] == 10
    # QP1 holds a home without population: its sum would be too small
    assert np.isnan(out.at[QP1, "n_residents"])
    assert "population unknown" in out.at[QP1, "reason"]
    assert np.isnan(out.at["all", "n_residents"])
    no_people = homes([10, 20, 30, 40]).drop(columns="population")
    out = quartier_population(q, residences=no_people)
    assert out["n_residents"].isna().all()
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
    assert people.loc[[QP2, QP1], "n_residents"].tolist() == [80, 120 + 30]
    assert people.loc[[QP2, QP1, "all"], "population_source"].tolist() == ["grid"] * 3
    assert people.at["all", "n_residents"] == 235
    kf = key_figures(q, residences=res)
    assert kf.loc[[QP2, QP1], "n_residents"].tolist() == [80, 150]
    assert kf.loc[[QP2, QP1], "population_source"].tolist() == ["grid", "grid"]
    # the coverage table, weighted by the grid's population, counts the same residents
    fac = gpd.GeoDataFrame({"kind": ["school"]}, geometry=[Point(100, 100)], crs=2154)
    cov = coverage(res, fac, q, threshold_m=10_000, weight="population")
    n = cov.xs("school", level="kind").droplevel(-1)["n_residents"]
    assert n[QP2] == kf.at[QP2, "n_residents"] and n[QP1] == kf.at[QP1, "n_residents"]
