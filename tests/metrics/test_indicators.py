"""metrics/indicators.py: gaps to the town, to all QPV and to France, and trends, on the real INSEE
series of Soissons (2017-2022) and on the fixture tables; the table contract.

Expected figures are read from the published cells with the csv module, or from the fixture files
by eye, and the differences computed by hand here.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box

from cdv_geo import CdvGeoError
from cdv_geo.io.insee import read_indicators
from cdv_geo.metrics.indicators import compare_indicators, indicator_trend, pivot_indicators
from cdv_geo.testing import assert_metric_table

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path("/work/shared/real-data/insee-qpv")
REAL = SHARED if SHARED.is_dir() else ROOT / "data" / "indicators"
DATA = ROOT / "tests" / "data"
NEW = DATA / "indicators_insee_2021.csv"
OLD = DATA / "indicators_legacy_2017.csv"
LONG = DATA / "indicators_long.csv"
LEVELS = ("indicator", "source", "year")


def cell(path: Path, code: str, column: str) -> float:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    row = next(r for r in rows[1:] if r[0] == code)
    text = row[[h.strip() for h in rows[0]].index(column)]
    return float(text.replace("\u202f", "").replace("\xa0", "").replace(",", "."))


@pytest.fixture(scope="module")
def quartiers() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["QP002012", "QP002013", "QP002014"],
         "name": ["Saint-Crépin Ouest", "Presles", "Chevreux"], "commune": "02722"},
        geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10)],
        crs=2154,
    )  # fmt: skip


@pytest.fixture(scope="module")
def real(quartiers) -> pd.DataFrame:
    with pytest.warns(Warning):  # the other territories' codes are left out
        return read_indicators(REAL, quartiers=quartiers)


def test_compare_on_the_real_series(real, quartiers) -> None:
    c = compare_indicators(real, quartiers)
    assert_metric_table(c, quartiers, levels=LEVELS)
    # median disposable income, REVN 2019: Presles against all QPV (the Ensemble row)
    presles = cell(REAL / "REVN_2019.csv", "QP002013", "DISP_Q2")
    ensemble = cell(REAL / "REVN_2019.csv", "Ensemble", "DISP_Q2")
    r = c.loc[("QP002013", "median_income", "revn", 2019)]
    assert r["value"] == presles and r["all_qpv_value"] == ensemble
    assert r["gap_to_all_qpv"] == presles - ensemble  # 11,761 - 13,101
    assert bool(r["worse_off_all_qpv"]) is True  # higher is better
    # the town's income is not in these files: NaN and a reason, never 0
    assert math.isnan(r["gap_to_commune"]) and "the town (02722)" in r["reason"]
    # Filosofi 2019 poverty rate against all QPV
    f = c.loc[("QP002013", "poverty_rate", "filosofi", 2019)]
    expected = (
        cell(REAL / "data_filo19_qp_revdis.csv", "QP002013", "DISP_TP60_A19")
        - cell(REAL / "data_filo19_qp_revdis.csv", "Ensemble", "DISP_TP60_A19")
    ) / 100
    assert f["gap_to_all_qpv"] == pytest.approx(expected)  # 0.573 - 0.436
    assert bool(f["worse_off_all_qpv"]) is True  # lower is better
    # one series per source: REVN and Filosofi 2019 poverty rates side by side, never averaged
    both = c.xs(("QP002013", "poverty_rate", 2019), level=("quartier", "indicator", "year"))
    assert both["value"].round(3).to_dict() == {"filosofi": 0.573, "revn": 0.554}
    # the commune row: its population is published on the quartiers' DEMO rows (POP_COM)
    town = c.loc[("commune", "population", "demo", 2021)]
    assert town["name"] == "Commune" and town["value"] == 28522 and town["flag"] == "from POP_COM"
    assert c.loc[("QP002013", "population", "demo", 2021), "value"] == 5766
    # counts add up exactly: the three quartiers (POP_MUN), and the rest of the town
    pops = [cell(REAL / "data_DEMO_2021_V1_QP.csv", q, "POP_MUN") for q in quartiers["code"]]
    assert c.loc[("qpv", "population", "demo", 2021), "value"] == sum(pops)
    assert sum(pops) == cell(REAL / "data_DEMO_2021_V1_QP.csv", "QP002013", "POP_COM_QP")
    assert c.loc[("hors_qpv", "population", "demo", 2021), "value"] == 28522 - sum(pops)
    # a rate of the quartiers together is not published: no qpv row, never an average
    assert ("qpv", "poverty_rate", "revn", 2019) not in c.index
    assert ("hors_qpv", "poverty_rate", "revn", 2019) not in c.index
    # the national all-QPV figure is its own row, its gap to itself NaN with a reason
    nat = c.loc[("france_qpv", "median_income", "revn", 2019)]
    assert nat["value"] == ensemble and nat["name"] == "Ensemble des QPV de France"
    assert math.isnan(nat["gap_to_all_qpv"]) and "itself" in nat["reason"]
    assert "all" not in c.index.get_level_values("quartier")


def test_trend_2017_2022_per_year_and_gap_to_all_qpv(real, quartiers) -> None:
    tr = indicator_trend(real, quartiers)
    assert_metric_table(tr, quartiers, levels=LEVELS)
    p = tr.xs(("QP002013", "poverty_rate", "revn"), level=("quartier", "indicator", "source"))
    assert p.index.tolist() == [2017, 2018, 2019, 2021, 2022]
    tp = {y: cell(REAL / f"REVN_{y}.csv", "QP002013", "TP60") / 100 for y in p.index}
    assert p["value"].to_dict() == pytest.approx(tp)
    assert math.isnan(p.loc[2017, "change"]) and "first published year" in p.loc[2017, "reason"]
    assert p.loc[2021, "previous_year"] == 2019
    assert p.loc[2021, "change_per_year"] == pytest.approx((tp[2021] - tp[2019]) / 2)
    assert p.loc[2022, "change"] == pytest.approx(tp[2022] - tp[2021])  # 0.570 - 0.556
    assert bool(p.loc[2022, "improved"]) is False  # more poverty
    # employment rate (IPRO): the gap to all QPV, 2018 -> 2019
    e = tr.xs(("QP002013", "employment_rate", "ipro"), level=("quartier", "indicator", "source"))
    gap = {
        y: (
            cell(REAL / f"IPRO_{y}.csv", "QP002013", "TX_TOT_EMPL")
            - cell(REAL / f"IPRO_{y}.csv", "Ensemble", "TX_TOT_EMPL")
        )
        / 100
        for y in (2018, 2019)
    }
    assert e.loc[2019, "gap_to_all_qpv"] == pytest.approx(gap[2019])
    assert bool(e.loc[2019, "gap_to_all_qpv_narrowed"]) is (abs(gap[2019]) < abs(gap[2018]))
    assert set(tr.index.get_level_values("year")) == {2017, 2018, 2019, 2020, 2021, 2022}


def test_compare_and_trend_on_tables_with_town_and_france() -> None:
    both = [read_indicators(OLD), read_indicators(NEW)]
    c = compare_indicators(both, reference=("commune", "france"))
    assert_metric_table(c, levels=LEVELS)
    r = c.loc[("QN00272M", "poverty_rate", "table", 2021)]
    assert r["gap_to_france"] == pytest.approx(0.384 - 0.145)
    assert r["gap_to_commune"] == pytest.approx(0.384 - 0.216)
    assert bool(r["worse_off_france"]) is True
    town = c.loc[("commune", "median_income", "table", 2021)]
    assert town["value"] == 19870 and town["gap_to_france"] == 19870 - 23160
    sec = c.loc[("QN00273M", "median_income", "table", 2021)]
    assert math.isnan(sec["value"]) and math.isnan(sec["gap_to_commune"])
    assert "not published (s)" in sec["reason"] and pd.isna(sec["worse_off_commune"])
    tr = indicator_trend(both, reference="commune")
    assert_metric_table(tr, levels=LEVELS)
    m = tr.loc[("QN00272M", "median_income", "table", 2021)]
    assert m["previous_year"] == 2017 and m["change"] == 13120 - 12400
    assert m["change_per_year"] == (13120 - 12400) / 4 and bool(m["improved"]) is True
    assert m["gap_to_commune"] == 13120 - 19870
    assert bool(m["gap_to_commune_narrowed"]) is False  # |-6750| > |12400 - 19100|


def test_references_must_be_told_when_several() -> None:
    t = pd.concat([read_indicators(OLD), read_indicators(NEW)], ignore_index=True)
    extra = t[t["code"] == "02722"].assign(code="02408")
    t2 = pd.concat([t, extra], ignore_index=True)
    with pytest.raises(CdvGeoError, match=r"several commune codes \(02408, 02722\)"):
        compare_indicators(t2)
    c = compare_indicators(t2, reference_codes={"commune": "02722"})
    assert c.loc[("commune", "median_income", "table", 2021), "value"] == 19870
    with pytest.raises(CdvGeoError, match="rows repeat a code, indicator, year and source"):
        indicator_trend([t, t])
    with pytest.raises(CdvGeoError, match="source revm is not in the table"):
        compare_indicators(t, source="revm")


def test_pivot_keeps_missing_as_nan_and_asks_for_a_source(real) -> None:
    t = pd.concat([read_indicators(OLD), read_indicators(NEW)], ignore_index=True)
    w = pivot_indicators(t, level="qpv")
    assert w.loc["QN00272M", "median_income"] == 13120.0  # latest vintage
    assert math.isnan(w.loc["QN00273M", "median_income"])
    assert pivot_indicators(t, year=2017).loc["QN00272M", "median_income"] == 12400.0
    with pytest.raises(CdvGeoError, match="give different values of .*median_income"):
        pivot_indicators(real, year=2019, level="qpv")  # REVN and Filosofi differ
    # sources agreeing (REVN and DEMO count the same CAF recipients) give one column
    agree = pivot_indicators(real, year=2021, level="qpv")
    assert agree.loc["QP002013", "n_caf_recipients"] == 1791
    assert pivot_indicators(real, level="qpv").loc["QP002013", "poverty_rate"] == 0.57
    f = pivot_indicators(real, year=2019, source="filosofi")
    assert f.loc["QP002013", "gini"] == pytest.approx(0.212)
