"""The named comparison rows of the counting tables (coverage, renewal, breakdown), by hand.

One small town, in Lambert-93 near Soissons (coordinates relative to X0, Y0):

    commune  [0, 1000] x [0, 1000]          (its border x = 1000 is in the commune)
    QA       [0, 300]  x [0, 300]
    QB       [300, 600] x [0, 300]
    street   y = 150 from x = -500 to x = 1500, across the commune border

Every input layer also holds features of the neighbouring commune (x = 1001 and beyond): the
``commune`` row never counts them. A feature exactly on the border (x = 1000) counts in the
commune; one in the commune outside the quartiers counts in ``commune`` and ``hors_qpv``, never
in ``qpv``. Every expected figure is worked out in the comments.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point, box

from cdv_geo.core.assign import assign_quartier, in_communes
from cdv_geo.core.errors import CdvGeoWarning, CRSError, LayerTypeError
from cdv_geo.core.tables import COMMUNE, HORS_QPV, QPV, rows_of
from cdv_geo.metrics.access import coverage
from cdv_geo.metrics.breakdown import breakdown_table
from cdv_geo.metrics.renewal import (
    renewal_balance,
    renewal_density,
    renewal_progress,
    renewal_timeline,
)
from cdv_geo.network import WalkNetwork
from cdv_geo.testing import assert_metric_table
from tests.conftest import X0, Y0

L93 = 2154
ROWS = ["QA", "QB", "qpv", "commune", "hors_qpv"]


def pt(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def sq(x0: float, y0: float, x1: float, y1: float) -> object:
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture
def quartiers() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["QA", "QB"], "name": ["Alpha", "Beta"]},
        geometry=[sq(0, 0, 300, 300), sq(300, 0, 600, 300)],
        crs=L93,
    )


@pytest.fixture
def town() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["02722"], "name": ["Soissons"]}, geometry=[sq(0, 0, 1000, 1000)], crs=L93
    )


def quiet(func, *args, **kw):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        return func(*args, **kw)


# --- coverage -----------------------------------------------------------------------------------


def coverage_inputs() -> tuple[WalkNetwork, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    street = gpd.GeoDataFrame(geometry=[LineString([pt(-500, 150), pt(1500, 150)])], crs=L93)
    net = WalkNetwork.from_lines(street, crs=L93)
    # 10 m north of the street; walk = 10 m + along the street to the school at x = 1100
    homes = gpd.GeoDataFrame(
        {
            "id": ["h1", "h2", "h3", "h4", "h5"],
            "population": [10, 20, 40, 80, 160],
            "dwellings": [1, 2, 4, 8, 16],
        },
        geometry=[
            pt(100, 160),  # QA: 10 + 1000 = 1010 m
            pt(500, 160),  # QB: 10 + 600 = 610 m
            pt(800, 160),  # commune, outside the quartiers: 10 + 300 = 310 m
            pt(1000, 160),  # on the commune border: in the commune, 10 + 100 = 110 m
            pt(1001, 160),  # 1 m into the neighbouring commune: 10 + 99 = 109 m
        ],
        crs=L93,
    )
    # the only school stands in the neighbouring commune: it serves the homes near it all the same
    school = gpd.GeoDataFrame({"kind": ["school"]}, geometry=[pt(1100, 150)], crs=L93)
    return net, homes, school


def test_coverage_rows_count_the_homes_of_the_commune_only(quartiers, town) -> None:
    net, homes, school = coverage_inputs()
    c = coverage(homes, school, quartiers, network=net, threshold_m=700, communes=town)
    assert_metric_table(c, quartiers, levels=("kind", "threshold_min"))
    assert c.index.get_level_values("quartier").tolist() == ROWS
    names = ["Alpha", "Beta", "Ensemble des QPV", "Commune", "Commune hors QPV"]
    assert c["name"].tolist() == names
    # QA: h1 (1010 m: not covered); QB: h2 (610 m); qpv: h1 + h2; commune: h1..h4 (h4 on the
    # border is in, h5 one metre beyond is not); hors_qpv: h3 + h4
    assert c["n_residents"].tolist() == [10, 20, 30, 150, 120]
    assert c["n_residents_covered"].tolist() == [0, 20, 20, 140, 120]
    assert c["covered_share"].tolist() == pytest.approx([0, 1, 2 / 3, 140 / 150, 1])
    assert c["n_homes"].tolist() == [1, 1, 2, 4, 2]
    assert c["n_homes_covered"].tolist() == [0, 1, 1, 3, 2]
    assert set(c["population_source"]) == {"residences"}
    # h5 (160 residents) is in no row at all
    assert 160 not in set(c["n_residents"]) and c["n_residents"].max() == 150


def test_coverage_rows_by_dwellings_and_without_communes(quartiers, town) -> None:
    net, homes, school = coverage_inputs()
    d = coverage(
        homes, school, quartiers, network=net, threshold_m=700, weight="dwellings", communes=town
    )
    assert_metric_table(d, quartiers, levels=("kind", "threshold_min"))
    # dwellings: QA 1, QB 2, qpv 3, commune 1 + 2 + 4 + 8, hors_qpv 4 + 8
    assert d["n_residents"].tolist() == [1, 2, 3, 15, 12]
    assert d["covered_share"].tolist() == pytest.approx([0, 1, 2 / 3, 14 / 15, 1])
    assert "population_source" not in d.columns
    # without communes: the quartiers and qpv only
    c = coverage(homes, school, quartiers, network=net, threshold_m=700)
    assert_metric_table(c, quartiers, levels=("kind", "threshold_min"))
    assert c.index.get_level_values("quartier").tolist() == ["QA", "QB", "qpv"]


def test_coverage_rows_share_of_the_homes_of_the_grid(quartiers, town) -> None:
    net, homes, school = coverage_inputs()
    grid = homes.assign(square=["CRS3035RES200mN0E0"] * len(homes))
    c = coverage(grid, school, quartiers, network=net, threshold_m=700, communes=town)
    assert set(c["population_source"]) == {"grid"}


def test_coverage_row_without_homes_says_why(quartiers) -> None:
    net, homes, school = coverage_inputs()
    # a commune holding no home: commune and hors_qpv are NaN with a reason, never 0
    empty = gpd.GeoDataFrame({"code": ["X"]}, geometry=[sq(3000, 3000, 3100, 3100)], crs=L93)
    c = coverage(homes, school, quartiers, network=net, threshold_m=700, communes=empty)
    assert_metric_table(c, quartiers, levels=("kind", "threshold_min"))
    rows = c.droplevel(["kind", "threshold_min"])
    assert np.isnan(rows.loc["commune", "covered_share"])
    assert rows.loc["commune", "reason"] == rows.loc["hors_qpv", "reason"] == "no home in this row"
    assert rows.loc["commune", "n_homes"] == 0


# --- renewal ------------------------------------------------------------------------------------


def renewal_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["D1", "D2", "D3", "R1", "R2", "R3"],
            "name": ["Tour", "Barre", "Voisine", "Bord", "Loin", "Sur place"],
            "operation": ["demolition"] * 3 + ["reconstruction"] * 3,
            "dwellings": [100, 50, 500, 30, 40, 20],
            "compensates": [None, None, None, "QA", "QA", "QA"],
            "status": ["done", "planned", "done", "in_progress", "done", "done"],
            "year": [2020, 2022, 2021, 2023, 2021, 2024],
        },
        geometry=[
            pt(100, 100),  # QA
            pt(800, 100),  # commune, outside the quartiers
            pt(1001, 100),  # 1 m into the neighbouring commune
            pt(1000, 500),  # on the commune border: in the commune, outside the quartiers
            pt(2000, 500),  # neighbouring commune
            pt(150, 150),  # QA, on site
        ],
        crs=L93,
    )


def residences() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"dwellings": [200, 100, 300, 999]},
        geometry=[pt(100, 100), pt(400, 100), pt(700, 700), pt(1001, 500)],  # QA, QB, hors, out
        crs=L93,
    )


def test_balance_rows_count_the_operations_of_the_commune_only(quartiers, town) -> None:
    b = quiet(renewal_balance, renewal_sites(), quartiers, communes=town, residences=residences())
    assert_metric_table(b, quartiers)
    assert b.index.tolist() == ROWS
    # QA and qpv: the operations attributed to QA (D1, and R1, R2, R3 compensating it);
    # commune: those standing in it (D1, D2, R1 on the border, R3); hors_qpv: D2, R1.
    # D3 and R2 stand in the neighbouring commune: never in commune.
    expected = {
        #                          QA   QB  qpv  commune  hors_qpv
        "n_demolished":          [100,   0, 100,    150,       50],
        "n_rebuilt":             [90,    0,  90,     50,       30],
        "n_rebuilt_on_site":     [20,    0,  20,     20,        0],
        "n_rebuilt_off_site":    [70,    0,  70,     30,       30],
        "n_received":            [0,     0,   0,     30,       30],  # R1: off site, here
        "net_change_dwellings":  [-80,   0, -80,   -100,      -20],  # built here - demolished
    }  # fmt: skip
    for col, values in expected.items():
        assert b[col].tolist() == values, col
    np.testing.assert_allclose(b["reconstitution_ratio"], [0.9, np.nan, 0.9, 50 / 150, 30 / 50])
    # stock from the residences: the one at x = 1001 (999 dwellings) is in no row
    np.testing.assert_allclose(b["n_dwellings_before"], [200, 100, 300, 600, 300])
    np.testing.assert_allclose(b["n_dwellings_after"], [120, 100, 220, 500, 280])
    # areas: QA, QB 9 ha each, qpv 18 ha, commune 100 ha, hors_qpv 82 ha
    np.testing.assert_allclose(b["area_m2"], [90_000, 90_000, 180_000, 1_000_000, 820_000])
    np.testing.assert_allclose(
        b["density_before_per_ha"], [200 / 9, 100 / 9, 300 / 18, 600 / 100, 300 / 82]
    )


def test_balance_commune_stock_given_or_missing(quartiers, town) -> None:
    sites = renewal_sites()
    stock = {"QA": 200, "QB": 100, "commune": 1000}
    b = quiet(renewal_balance, sites, quartiers, communes=town, stock=stock)
    assert_metric_table(b, quartiers)
    # qpv = QA + QB; hors_qpv = commune - qpv
    np.testing.assert_allclose(b["n_dwellings_before"], [200, 100, 300, 1000, 700])
    # a commune stock below the quartiers' leaves hors_qpv unknown, never negative
    low = quiet(renewal_balance, sites, quartiers, communes=town, stock={**stock, "commune": 250})
    assert_metric_table(low, quartiers)
    assert np.isnan(low.loc["hors_qpv", "n_dwellings_before"])
    # the quartiers' dwellings column knows no commune: NaN with its reason, never 0
    q = quartiers.assign(dwellings=[200, 100])
    d = quiet(renewal_density, sites, q, communes=town)
    assert_metric_table(d, q)
    np.testing.assert_allclose(d["n_dwellings_before"], [200, 100, 300, np.nan, np.nan])
    assert d.loc["commune", "reason"] == d.loc["hors_qpv", "reason"]
    assert d.loc["commune", "reason"] == "stock before the programme unknown"


def test_progress_and_timeline_rows(quartiers, town) -> None:
    sites = renewal_sites()
    p = quiet(renewal_progress, sites, quartiers, communes=town)
    assert_metric_table(p, quartiers, levels=("operation",))
    assert list(dict.fromkeys(p.index.get_level_values("quartier"))) == ROWS
    cols = ["n_planned", "n_in_progress", "n_done", "n_total"]
    # demolitions: commune D1 done 100 + D2 planned 50 (D3 is the neighbour's); hors_qpv D2
    assert p.loc[("commune", "demolition"), cols].tolist() == [50, 0, 100, 150]
    assert p.loc[("hors_qpv", "demolition"), cols].tolist() == [50, 0, 0, 50]
    assert p.loc[("qpv", "demolition"), cols].tolist() == [0, 0, 100, 100]
    # reconstructions: qpv R1 + R2 + R3 (attributed to QA); commune R1 + R3; hors_qpv R1
    assert p.loc[("qpv", "reconstruction"), cols].tolist() == [0, 30, 60, 90]
    assert p.loc[("commune", "reconstruction"), cols].tolist() == [0, 30, 20, 50]
    assert p.loc[("hors_qpv", "reconstruction"), cols].tolist() == [0, 30, 0, 30]
    assert p.loc[("commune", "demolition"), "done_share"] == pytest.approx(100 / 150)
    t = quiet(renewal_timeline, sites, quartiers, communes=town)
    assert_metric_table(t, quartiers, levels=("operation", "year"))
    # commune demolitions: 2020 D1 100, 2021 nothing (D3 is out), 2022 D2 50
    demo = t.xs(("commune", "demolition"), level=("quartier", "operation"))
    assert demo["n_dwellings"].tolist() == [100, 0, 50, 0, 0]
    assert demo["n_cumulative"].tolist() == [100, 100, 150, 150, 150]
    rec = t.xs(("hors_qpv", "reconstruction"), level=("quartier", "operation"))
    assert rec["n_cumulative"].tolist() == [0, 0, 0, 30, 30]  # R1 in 2023


# --- breakdown ----------------------------------------------------------------------------------


def test_breakdown_rows_from_rows_of(quartiers, town) -> None:
    trees = gpd.GeoDataFrame(
        {"trees": [1, 2, 4, 8, 16], "year": [2023, 2023, 2024, 2024, 2024]},
        geometry=[pt(100, 100), pt(400, 100), pt(800, 800), pt(1000, 800), pt(1001, 800)],
        crs=L93,
    )
    masks = rows_of(
        assign_quartier(trees, quartiers).to_numpy(dtype=object),
        quartiers,
        in_commune=in_communes(trees, town),
    )
    counts = trees["trees"].to_numpy()

    def row(key: str, sel: np.ndarray, total: bool) -> dict[str, float]:
        return {"n_trees": float(counts[sel & masks[key]].sum())}

    table = breakdown_table(
        quartiers, trees[["year"]], ["year"], row, rows=[HORS_QPV, QPV, COMMUNE]
    )
    assert_metric_table(table, quartiers, levels=("year",))
    totals = table.xs("all", level="year")
    assert totals.index.tolist() == ROWS
    # QA 1, QB 2, qpv 3, commune 1 + 2 + 4 + 8 (on the border) = 15, hors_qpv 12; 16 never
    assert totals["n_trees"].tolist() == [1, 2, 3, 15, 12]
    assert table.xs(2024, level="year")["n_trees"].tolist() == [0, 0, 0, 12, 12]
    # the default: the quartiers and qpv only
    plain = breakdown_table(quartiers, pd.DataFrame(index=range(5)), [], row)
    assert_metric_table(plain, quartiers)
    assert plain.index.tolist() == ["QA", "QB", "qpv"]


def test_bad_communes_name_the_argument(quartiers, town) -> None:
    plain = pd.DataFrame(town.drop(columns="geometry"))
    sites = renewal_sites()
    for func in (renewal_balance, renewal_progress, renewal_timeline):
        with pytest.raises(LayerTypeError, match=r"^communes must be a GeoDataFrame"):
            quiet(func, sites, quartiers, communes=plain)
    with pytest.raises(CRSError, match=r"^communes layer has no coordinate reference system"):
        quiet(renewal_balance, sites, quartiers, communes=town.set_crs(None, allow_override=True))
