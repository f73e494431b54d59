"""Issue 22 acceptance, on compute_metrics: the named rows and the one population rule.

1. A territory whose layers hold features outside the commune: the ``commune`` row of every
   table never counts them (hand counts, and the same tables computed without them).
2. Two loaded populations that differ by 35 % for one quartier: one note, the same population
   in every table of the run, ``population_source`` says which.

Layout (metres from (X0, Y0), Lambert-93; no street layer: straight-line distances)::

    y=600  +-------------------------------------+           commune: x -100..1500, y -100..600
           |  QA (0..500)    QB (500..1000)      |
           |   A (200,200)    B (700,200)   H (1200,200)     O (6000, 200): outside the commune
    y=-100 +-------------------------------------+

Each layer has a feature at A (in QA), B (in QB), H (in the commune, outside the quartiers) and
O (outside the commune, far from everything, with large counts so that a leak shows).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from cdv_geo.core.assign import assign_quartier, in_communes
from cdv_geo.core.labels import label
from cdv_geo.core.tables import COMMUNE, HORS_QPV, QPV
from cdv_geo.metrics.breakdown import TOTAL
from cdv_geo.pipeline import Metrics, compute_metrics
from cdv_geo.territory import Settings, Territory
from cdv_geo.testing import assert_metric_table
from tests.conftest import X0, Y0

A, B, H, OUT = (200.0, 200.0), (700.0, 200.0), (1200.0, 200.0), (6000.0, 200.0)
ROWS = (QPV, COMMUNE, HORS_QPV)


def _pt(xy: tuple[float, float]) -> Point:
    return Point(X0 + xy[0], Y0 + xy[1])


def _square(xy: tuple[float, float], half: float = 10.0) -> object:
    x, y = X0 + xy[0], Y0 + xy[1]
    return box(x - half, y - half, x + half, y + half)


def _gdf(data: dict, geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=2154)


def _layers(*, outside: bool = True, homes: tuple[float, ...] = (100, 50, 40, 1000)) -> dict:
    """The layers; `outside=False` leaves out the features at O; `homes`: A, B, H, O residents."""
    at = [A, B, H, OUT] if outside else [A, B, H]
    n = len(at)
    return {
        "communes": _gdf(
            {"code": ["99999"], "name": ["Testville"], "population": [200]},
            [box(X0 - 100, Y0 - 100, X0 + 1500, Y0 + 600)],
        ),
        "quartiers": _gdf(
            {"code": ["QA", "QB"], "name": ["Alpha", "Beta"], "population": [100, 50]},
            [box(X0, Y0, X0 + 500, Y0 + 500), box(X0 + 500, Y0, X0 + 1000, Y0 + 500)],
        ),
        "facilities": _gdf({"name": list("ABHO")[:n], "kind": ["school"] * n}, map(_pt, at)),
        "residences": _gdf(
            {"population": list(homes)[:n], "dwellings": [50, 50, 50, 100][:n]}, map(_pt, at)
        ),
        "tree_plantings": _gdf(
            {"trees": [3, 5, 7, 11][:n], "species": ["Tilia cordata"] * n, "year": [2023] * n},
            map(_pt, at),
        ),
        "renewal_sites": _gdf(
            {
                "name": list("ABHO")[:n],
                "operation": ["demolition"] * n,
                "dwellings": [10, 20, 40, 80][:n],
                "housing_type": ["collective"] * n,
                "tenure": ["social"] * n,
                "status": ["done"] * n,
                "year": [2021] * n,
            },
            map(_pt, at),
        ),
        "desealed_areas": _gdf(  # 20 m x 20 m yards: 400 m² each
            {
                "site": list("ABHO")[:n],
                "site_type": ["school_yard"] * n,
                "year": [2022] * n,
                "status": ["done"] * n,
            },
            [_square(xy) for xy in at],
        ),
        "green_spaces": _gdf(
            {"name": ["Parc"], "public": [True]}, [box(X0 + 250, Y0 + 250, X0 + 400, Y0 + 400)]
        ),
    }


def _territory(**kwargs: object) -> Territory:
    return Territory("Testville", settings=Settings(crs="EPSG:2154"), **_layers(**kwargs))


@pytest.fixture(scope="module")
def runs() -> tuple[Territory, Metrics, Metrics]:
    t = _territory()
    return t, compute_metrics(t), compute_metrics(_territory(outside=False))


def _total_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows whose levels after ``quartier`` are all totals (or the table, without levels)."""
    if table.index.nlevels == 1:
        return table
    rest = list(range(1, table.index.nlevels))
    keep = np.logical_and.reduce(
        [np.asarray(table.index.get_level_values(i).astype(str) == TOTAL) for i in rest]
    )
    return table[keep].droplevel(rest)


#: Hand counts of the comparison rows: A and B in the quartiers, H in hors_qpv, O in no row.
HAND: dict[str, dict[str, float]] = {
    "n_facilities": {QPV: 2, COMMUNE: 3, HORS_QPV: 1},
    "n_trees": {QPV: 8, COMMUNE: 15, HORS_QPV: 7},
    "n_demolished": {QPV: 30, COMMUNE: 70, HORS_QPV: 40},
    "desealed_m2": {QPV: 800.0, COMMUNE: 1200.0, HORS_QPV: 400.0},
    "n_sites": {QPV: 2, COMMUNE: 3, HORS_QPV: 1},
    "n_homes": {QPV: 2, COMMUNE: 3, HORS_QPV: 1},
}


def test_summary_never_counts_what_lies_outside_the_commune(runs) -> None:
    t, _, _ = runs
    s = t.summary()
    assert_metric_table(s, t.quartiers)
    assert s.index.tolist() == ["QA", "QB", QPV, COMMUNE, HORS_QPV]
    for kind in ("facilities", "residences", "tree_plantings", "renewal_sites", "desealed_areas"):
        assert s[f"n_{kind}"].to_dict() == {"QA": 1, "QB": 1, QPV: 2, COMMUNE: 3, HORS_QPV: 1}


def test_the_commune_row_never_counts_what_lies_outside(runs) -> None:
    t, m, _ = runs
    checked: set[str] = set()
    for name, table in m.tables.items():
        if name == "nearest":  # (per residence, no rows)
            continue
        assert_metric_table(table, t.quartiers, levels=tuple(table.index.names[1:]))
        totals = _total_rows(table)
        if COMMUNE not in totals.index:
            continue
        for column, hand in HAND.items():
            if column in totals.columns:
                got = totals.loc[list(ROWS), column].astype(float).to_dict()
                assert got == pytest.approx(hand), (name, column)
                checked.add(name)
    assert {"key_figures", "trees", "desealing", "renewal_balance"} <= checked
    # the homes counted in the commune row: A, B and H, never O (1,000 residents outside); its
    # residents are the pack's one population (the published 200), as on every table
    first = m.coverage.xs(("school", 5.0), level=("kind", "threshold_min"))
    green = m.green_space_access
    for table in (first, green):
        assert table.loc[list(ROWS), "n_residents"].tolist() == pytest.approx([150, 200, 50])
    homes = t.residences
    outside = ~in_communes(homes, t.communes)
    assert outside.sum() >= 1
    inside_qpv = assign_quartier(homes, t.quartiers).notna().to_numpy()
    want = [int(inside_qpv.sum()), int((~outside).sum()), int((~outside & ~inside_qpv).sum())]
    assert first.loc[list(ROWS), "n_homes"].tolist() == want


def test_the_features_outside_change_no_commune_row(runs) -> None:
    """The same territory without the features at O: every commune and hors_qpv row is equal."""
    _, with_o, without_o = runs
    assert set(with_o.tables) == set(without_o.tables)
    compared = 0
    for name, table in with_o.tables.items():
        if name == "nearest":
            continue
        rows = [k for k in table.index.get_level_values(0).unique() if k in (COMMUNE, HORS_QPV)]
        for key in rows:
            got = table.xs(key, level=0, drop_level=False) if table.index.nlevels > 1 else None
            want = without_o.tables[name]
            if got is None:
                got, want = table.loc[[key]], want.loc[[key]]
            else:
                want = want.xs(key, level=0, drop_level=False)
            pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=f"{name}[{key}]")
            compared += 1
    assert compared >= 10


# --- one population rule ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def gap_run() -> tuple[Metrics, str]:
    """QA: 100 official residents, 135 in its homes (35 % more); QB: 50 and 52 (4 %).

    The commune: 200 published, 197 in its homes (1.5 %): no note.
    """
    t = _territory(outside=False, homes=(135, 52, 10))
    logger = logging.getLogger("cdv_geo")
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        m = compute_metrics(t)
    finally:
        logger.removeHandler(handler)
    return m, "\n".join(records)


def test_two_populations_35_percent_apart_give_one_note(gap_run) -> None:
    m, log = gap_run
    gaps = [n for n in m.notes if n.key == "population_gap"]
    assert len(gaps) == 1
    note = gaps[0]
    assert note.args["row"] == "Alpha" and note.args["value"] == 100
    assert note.args["alt_value"] == 135 and note.args["gap"] == pytest.approx(0.35)
    assert note.args["source"] == "official" and note.args["alt_source"] == "residences"
    official, homes = (label(f"population_source_{s}") for s in ("official", "residences"))
    assert note.label("fr") == (
        f"Alpha : 100 habitants ({official}), mais 135 selon {homes} (écart de 35\u00a0%)"
    )
    # no other note about the same thing: the rule warned once, as a note, not per table
    # (the renewal step warns about the operation at H, outside the quartiers: another matter)
    warned = {n.key for n in m.notes if n.key.startswith("warning")}
    assert warned <= {"warning_renewal"}, [str(n) for n in m.notes]
    assert log.count("Alpha") == 1


def test_every_table_shows_the_one_population(gap_run) -> None:
    m, _ = gap_run
    pop = m.population
    assert pop is not None
    assert pop.loc["QA", "population"] == 100 and pop.loc["QB", "population"] == 50
    assert pop.loc[["QA", "QB"], "population_source"].tolist() == ["official", "official"]
    kf = m.key_figures
    assert kf.loc[["QA", "QB"], "n_residents"].tolist() == [100, 50]
    assert kf.loc[["QA", "QB"], "population_source"].tolist() == ["official", "official"]
    trees = _total_rows(m.trees)
    # 3 trees in QA, 5 in QB: per 1,000 of the official residents, not of the homes' 135 and 52
    per_1000 = trees.loc[["QA", "QB"], "trees_per_1000_inhabitants"].tolist()
    assert per_1000 == pytest.approx([3 / 100 * 1000, 5 / 50 * 1000])
    assert trees.loc[["QA", "QB"], "population_source"].tolist() == ["official", "official"]
    # the comparison rows too: the tables divide by the rule's qpv, commune and hors_qpv
    assert pop.loc[list(ROWS), "population"].tolist() == [150, 200, 50]
    assert kf.loc[list(ROWS), "n_residents"].tolist() == [150, 200, 50]
    implied = trees.loc[list(ROWS), "n_trees"] / trees.loc[list(ROWS), "trees_per_1000_inhabitants"]
    assert (implied * 1000).tolist() == pytest.approx([150, 200, 50])


def test_coverage_counts_residents_on_the_one_population(gap_run) -> None:
    m, _ = gap_run
    assert m.coverage is not None
    cov = m.coverage
    for key, want in (("QA", 100), ("QB", 50), ("qpv", 150), ("commune", 200), ("hors_qpv", 50)):
        rows = cov.xs(key, level="quartier")
        assert (rows["n_residents"] == want).all(), key
        assert (rows["population_source"] == "official").all(), key
        # the share is over the homes; the covered residents are that share of the population
        got = rows["n_residents_covered"].to_numpy(dtype=float)
        assert got == pytest.approx(rows["covered_share"].to_numpy(dtype=float) * want)
