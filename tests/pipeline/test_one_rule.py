"""Acceptance tests of issue 11, "One core, one pipeline".

One rule decides which quartier holds a feature, everywhere: three square quartiers share two
borders and a triple point; features placed on a shared border or on the triple point are counted
once, in the quartier with the smallest code, in every table of ``compute_metrics`` and in
``Territory.summary()``. The expected values are counted by hand from the layout below.

Layout (metres from (X0, Y0), Lambert-93)::

    y=1000 +---------+
           | QP002   |
    y=500  +----T----+---------+        T = triple point (500, 500)
           | QP003   B QP001   |        B = border point (500, 250)
    y=0    +---------+---------+        O = outside point (2000, 250)
           x=0     x=500    x=1000

Layer order is QP003, QP001, QP002, so the smallest code (QP001) is not the first quartier.
The territory has no communes layer: the tables have the quartier rows and ``qpv`` (what lies in
some quartier) only; O counts in none of them.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely import Point, box

from cdv_geo.metrics.breakdown import TOTAL
from cdv_geo.pipeline import Metrics, compute_metrics
from cdv_geo.territory import Settings, Territory
from cdv_geo.testing import assert_metric_table

X0, Y0 = 728400.0, 6920700.0
CODES = ["QP003", "QP001", "QP002"]  # layer order
BORDER = (500.0, 250.0)  # on the QP003 | QP001 border
TRIPLE = (500.0, 500.0)  # QP003, QP001 and QP002 meet here
OUTSIDE = (2000.0, 250.0)
INTERIOR = (250.0, 250.0)  # inside QP003 only


def _pt(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def _box(x0: float, y0: float, x1: float, y1: float) -> object:
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _territory(*, crs: str | None = "EPSG:2154") -> Territory:
    quartiers = gpd.GeoDataFrame(
        {"code": CODES, "name": ["Ouest", "Est", "Nord"], "population": [800, 600, 400]},
        geometry=[_box(0, 0, 500, 500), _box(500, 0, 1000, 500), _box(0, 500, 500, 1000)],
        crs=2154,
    )
    residences = gpd.GeoDataFrame(
        {"dwellings": [40, 80, 16, 32], "population": [10, 20, 40, 50]},
        geometry=[_pt(*BORDER), _pt(*TRIPLE), _pt(*OUTSIDE), _pt(*INTERIOR)],
        crs=2154,
    )
    facilities = gpd.GeoDataFrame(
        {"name": ["École B", "École T", "École O"], "kind": ["school"] * 3},
        geometry=[_pt(*BORDER), _pt(*TRIPLE), _pt(*OUTSIDE)],
        crs=2154,
    )
    trees = gpd.GeoDataFrame(
        {"trees": [3, 5, 7], "species": ["Tilia cordata"] * 3, "year": [2023] * 3},
        geometry=[_pt(*BORDER), _pt(*TRIPLE), _pt(*OUTSIDE)],
        crs=2154,
    )
    # two 20 x 20 m yards: one across the border (half in QP003, half in QP001), one centred on
    # the triple point (a quarter in each quartier, a quarter outside); one outside
    yards = gpd.GeoDataFrame(
        {
            "site": ["Cour B", "Cour T", "Cour O"],
            "site_type": ["school_yard"] * 3,
            "year": [2022] * 3,
            "status": ["done"] * 3,
        },
        geometry=[_box(490, 240, 510, 260), _box(490, 490, 510, 510), _box(1990, 240, 2010, 260)],
        crs=2154,
    )
    sites = gpd.GeoDataFrame(
        {
            "name": ["Barre B", "Tour T", "Barre O"],
            "operation": ["demolition"] * 3,
            "dwellings": [10, 20, 5],
            "housing_type": ["collective"] * 3,
            "tenure": ["social"] * 3,
            "status": ["done"] * 3,
            "year": [2021] * 3,
        },
        geometry=[_pt(*BORDER), _pt(*TRIPLE), _pt(*OUTSIDE)],
        crs=2154,
    )
    parks = gpd.GeoDataFrame(
        {"name": ["Parc"], "public": [True]},
        geometry=[_box(600, 100, 750, 250)],  # 2.25 ha inside QP001
        crs=2154,
    )
    return Territory(
        "Troisquartiers",
        quartiers=quartiers,
        residences=residences,
        facilities=facilities,
        tree_plantings=trees,
        desealed_areas=yards,
        renewal_sites=sites,
        green_spaces=parks,
        settings=Settings(crs=crs),
    )


@pytest.fixture(scope="module")
def territory() -> Territory:
    return _territory()


@pytest.fixture(scope="module")
def metrics(territory: Territory) -> Metrics:
    return compute_metrics(territory)


def _totals(table: pd.DataFrame, column: str) -> pd.Series:
    """The total rows (every level after ``quartier`` is TOTAL), indexed by quartier."""
    t = table
    if t.index.nlevels > 1:
        rest = list(range(1, t.index.nlevels))
        keep = np.logical_and.reduce(
            [np.asarray(t.index.get_level_values(i).astype(str) == TOTAL) for i in rest]
        )
        t = t[keep].droplevel(rest)
    return t[column]


def test_summary_counts_each_feature_once_in_the_smallest_code(territory: Territory) -> None:
    s = territory.summary()
    assert_metric_table(s, territory.quartiers)
    # residences: B and T -> QP001, INTERIOR -> QP003, O outside
    assert s["n_residences"].to_dict() == {"QP003": 1, "QP001": 2, "QP002": 0, "qpv": 3}
    for col in ("n_facilities", "n_tree_plantings", "n_renewal_sites"):
        assert s[col].to_dict() == {"QP003": 0, "QP001": 2, "QP002": 0, "qpv": 2}, col
    # yards: the border yard is a tie (half and half) -> QP001; the triple-point yard has a
    # quarter in each quartier -> QP001
    assert s["n_desealed_areas"].to_dict() == {"QP003": 0, "QP001": 2, "QP002": 0, "qpv": 2}
    # no communes layer: no commune nor hors_qpv row (O counts nowhere)
    assert s.index.tolist() == [*CODES, "qpv"]


def test_coverage_denominators_follow_the_rule(metrics: Metrics, territory: Territory) -> None:
    cov = metrics.coverage
    assert cov is not None
    assert_metric_table(cov, territory.quartiers, levels=("kind", "threshold_min"))
    first = cov.xs(("school", 5.0), level=("kind", "threshold_min"))
    # B (10) and T (20) -> QP001; INTERIOR (50) -> QP003; O (40) outside: in no row
    assert first["n_homes"].to_dict() == {"QP003": 1, "QP001": 2, "QP002": 0, "qpv": 3}
    # the residents are the pack's one population (the quartiers' official 800, 600, 400), not
    # the homes' 50 and 30: the share is over the homes, the count on the official figure
    residents = first.loc[["QP003", "QP001", "qpv"], "n_residents"].tolist()
    assert residents == pytest.approx([800.0, 600.0, 1800.0])
    assert set(first.loc[["QP003", "QP001", "qpv"], "population_source"]) == {"official"}
    # no home in QP002: NaN share with a reason, never 0
    assert np.isnan(first.loc["QP002", "covered_share"])
    assert isinstance(first.loc["QP002", "reason"], str) and first.loc["QP002", "reason"]


def test_green_space_access_follows_the_rule(metrics: Metrics, territory: Territory) -> None:
    g = metrics.green_space_access
    assert g is not None
    assert_metric_table(g, territory.quartiers)
    assert g.loc["QP001", "n_homes"] == 2 and g.loc["QP003", "n_homes"] == 1
    assert g.loc["QP001", "n_residents"] == 600 and g.loc["QP003", "n_residents"] == 800
    assert g.loc["qpv", "n_residents"] == 1800 and g.loc["qpv", "population_source"] == "official"


def test_trees_follow_the_rule(metrics: Metrics, territory: Territory) -> None:
    trees = metrics.trees
    assert trees is not None
    n = _totals(trees, "n_trees")
    assert n.to_dict() == {"QP003": 0, "QP001": 8, "QP002": 0, "qpv": 8}


def test_desealing_counts_sites_once_and_splits_areas(
    metrics: Metrics, territory: Territory
) -> None:
    d = metrics.desealing
    assert d is not None
    area = _totals(d, "desealed_m2")
    # border yard: 200 m² in QP003 and in QP001; triple yard: 100 m² in each quartier and 100 m²
    # outside; outside yard: 400 m², in no row
    assert area.to_dict() == pytest.approx(
        {"QP003": 300.0, "QP001": 300.0, "QP002": 100.0, "qpv": 700.0}
    )
    sites = _totals(d, "n_sites")
    # counts go whole to the quartier with the largest share (ties: smallest code)
    assert sites.to_dict() == {"QP003": 0, "QP001": 2, "QP002": 0, "qpv": 2}


def test_renewal_balance_follows_the_rule(metrics: Metrics, territory: Territory) -> None:
    rb = metrics.renewal_balance
    assert rb is not None
    assert_metric_table(rb, territory.quartiers)
    assert rb["n_demolished"].to_dict() == {"QP003": 0, "QP001": 30, "QP002": 0, "qpv": 30}


def test_key_figures_follow_the_rule(metrics: Metrics, territory: Territory) -> None:
    kf = metrics.key_figures
    assert kf is not None
    assert_metric_table(kf, territory.quartiers)
    assert kf["n_facilities"].to_dict() == {"QP003": 0, "QP001": 2, "QP002": 0, "qpv": 2}
    assert kf["n_trees"].to_dict() == {"QP003": 0, "QP001": 8, "QP002": 0, "qpv": 8}
    assert kf["n_demolished"].to_dict() == {"QP003": 0, "QP001": 30, "QP002": 0, "qpv": 30}
    assert kf.loc["QP001", "desealed_m2"] == pytest.approx(300.0)
    assert kf["area_m2"].tolist() == pytest.approx([250_000.0] * 3 + [750_000.0])
    # no communes layer: no commune row (its residents and area are not known)
    assert kf.index.tolist() == [*CODES, "qpv"]


def test_a_layer_outside_every_quartier_gives_nan_with_reasons() -> None:
    t = _territory()
    far = (5000.0, 5000.0)
    for kind in ("residences", "facilities", "tree_plantings", "renewal_sites"):
        gdf = getattr(t, kind).copy()
        gdf.geometry = [_pt(far[0] + 10 * i, far[1]) for i in range(len(gdf))]
        setattr(t, kind, gdf)
    yards = t.desealed_areas.copy()
    yards.geometry = [_box(5000 + 30 * i, 5000, 5020 + 30 * i, 5020) for i in range(len(yards))]
    t.desealed_areas = yards
    m = compute_metrics(t)  # never an exception
    assert m.coverage is not None and m.green_space_access is not None
    for name, table in m.tables.items():
        if name in ("nearest", "indicators"):
            continue
        levels = tuple(table.index.names[1:])
        assert_metric_table(table, t.quartiers, levels=levels)
    shares = {
        "coverage": "covered_share",
        "green_space_access": "green_0_5ha_share",
        "rule_3_30_300": "meets_3_30_300_share",
    }
    for name, column in shares.items():
        table = m.tables.get(name)
        if table is None:
            continue
        rows = table[np.isin(table.index.get_level_values(0), CODES)]
        assert rows[column].isna().all(), name
        assert rows["reason"].map(lambda r: isinstance(r, str) and bool(r)).all(), name


def _territory_3949() -> Territory:
    """The same territory, declared and stored in EPSG:3949, with streets."""
    t = _territory(crs="EPSG:3949")
    layers = {k: g.to_crs(3949) for k, g in t.layers().items()}
    q = layers["quartiers"]
    x0, y0, x1, y1 = q.total_bounds
    streets = gpd.GeoDataFrame(
        {"name": ["Rue A", "Rue B"], "highway": ["residential"] * 2},
        geometry=[
            gpd.GeoSeries.from_wkt([f"LINESTRING ({x0} {y0 + 250}, {x1 + 1500} {y0 + 250})"])[0],
            gpd.GeoSeries.from_wkt([f"LINESTRING ({x0 + 500} {y0}, {x0 + 500} {y1})"])[0],
        ],
        crs=3949,
    )
    return Territory(
        "Troisquartiers 3949", streets=streets, settings=Settings(crs="EPSG:3949"), **layers
    )


def test_a_project_in_3949_is_measured_in_3949() -> None:
    t = _territory_3949()
    m = compute_metrics(t)
    epsg3949 = CRS.from_epsg(3949)
    assert m.crs is not None and m.crs.equals(epsg3949)
    assert m.network is not None and CRS.from_user_input(m.network.crs).equals(epsg3949)
    for name, layer in m.layers.items():
        assert CRS.from_user_input(layer.crs).equals(epsg3949), name
    # the quartiers' areas are measured in 3949 (independently: shapely on the 3949 squares)
    q = t.quartiers
    expected = [g.area for g in q.geometry]
    assert m.key_figures is not None
    assert m.key_figures["area_m2"].iloc[:3].tolist() == pytest.approx(expected, rel=1e-9)
    assert not math.isclose(expected[0], 250_000.0, rel_tol=1e-6)  # 3949 is not 2154
    # the de-sealed areas too (another metric module): the yards' areas in the quartiers, in 3949
    assert m.desealing is not None
    union = q.geometry.union_all()
    yards = sum(g.intersection(union).area for g in t.desealed_areas.geometry)
    assert _totals(m.desealing, "desealed_m2")["qpv"] == pytest.approx(yards, rel=1e-9)
    assert not math.isclose(yards, 700.0, rel_tol=1e-6)


def test_a_project_without_crs_uses_lambert_93() -> None:
    t = _territory(crs=None)
    assert t.metric_crs.to_epsg() == 2154
    assert compute_metrics(t, only=["trees"]).crs.to_epsg() == 2154


# --- every table of the demo follows the contract --------------------------------------------

#: Index levels after ``quartier`` of each per-quartier table of compute_metrics (demo).
LEVELS: dict[str, tuple[str, ...]] = {
    "key_figures": (),
    "coverage": ("kind", "threshold_min"),
    "desealing": ("site_type", "year"),
    "trees": ("year",),
    "impervious": ("year",),
    "impervious_change": (),
    "canopy": (),
    "rule_3_30_300": (),
    "green_space_access": (),
    "renewal_balance": (),
    "renewal_progress": ("operation",),
    "renewal_timeline": ("operation", "year"),
    "indicator_gaps": ("indicator", "source", "year"),
    "indicator_trend": ("indicator", "source", "year"),
    "income_grid": (),
    "capacity_access": ("kind",),
    "open_hours": ("kind",),
    "open_moments": ("kind", "moment"),
    "opening_strip": ("kind", "day", "hour"),
    "retail_density": (),
    "commercial_catchment": (),
}


@pytest.fixture(scope="module")
def demo() -> tuple[Territory, Metrics]:
    from cdv_geo import datasets

    t = datasets.soissons()
    return t, compute_metrics(t)


@pytest.mark.parametrize("name", sorted(LEVELS))
def test_every_demo_table_follows_the_contract(demo: tuple[Territory, Metrics], name: str) -> None:
    t, m = demo
    table = m.tables.get(name)
    assert table is not None, f"{name} not computed on the demo: {[str(n) for n in m.notes]}"
    assert_metric_table(table, t.quartiers, levels=LEVELS[name])
