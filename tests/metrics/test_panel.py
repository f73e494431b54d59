"""metrics/panel.py on the published Soissons files and on hand-made tables."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdv_geo import read_indicators
from cdv_geo.core.errors import DataValidationError
from cdv_geo.metrics.panel import (
    PANEL_COLUMNS,
    direction_verdict,
    donor_pool,
    generation,
    indicator_panel,
    panel_matrix,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path("/work/shared/real-data/insee-qpv")
REAL = SHARED if SHARED.is_dir() else ROOT / "data" / "indicators"


def cell(path: Path, code: str, column: str) -> float:
    """One published cell as a number, read with the csv module (independently of the reader)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header = [h.strip() for h in rows[0]]
    row = next(r for r in rows[1:] if r[0] == code)
    return float(row[header.index(column)].replace("\u202f", "").replace(",", "."))


@pytest.fixture(scope="module")
def soissons() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return indicator_panel(read_indicators(REAL))


def one(p: pd.DataFrame, code: str, ind: str, year: int, source: str = "revn") -> pd.Series:
    sel = p[(p["code"] == code) & (p["indicator"] == ind) & (p["year"] == year)]
    sel = sel[sel["source"] == source]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def test_published_values_units_and_population(soissons: pd.DataFrame) -> None:
    p = soissons
    assert list(p.columns) == list(PANEL_COLUMNS)
    assert not p.duplicated(["code", "indicator", "year", "source"]).any()
    if (REAL / "REVN_2019.csv").is_file():
        row = one(p, "QP002013", "poverty_rate", 2019)
        assert row["value"] == pytest.approx(cell(REAL / "REVN_2019.csv", "QP002013", "TP60") / 100)
        assert row["unit"] == "fraction" and row["generation"] == "qpv_2015"
    if (REAL / "DEMO_2021.csv").is_file():
        pop = cell(REAL / "DEMO_2021.csv", "QP002013", "POP_MUN")
        assert one(p, "QP002013", "median_income", 2021)["population"] == pop
        assert one(p, "QP002013", "median_income", 2021)["population_year"] == 2021
        assert one(p, "QP002013", "median_income", 2021)["unit"] == "EUR"


def test_series_breaks_are_explicit(soissons: pd.DataFrame) -> None:
    p = soissons
    # INSEE's CMU-C column (CCMUC) became the complémentaire santé solidaire (CC2S) in 2021
    assert one(p, "QP002013", "n_css", 2019)["series_break"] is None
    css = one(p, "QP002013", "n_css", 2021)
    assert css["series_break"] == "definition" and css["series"] == "revn:CC2S"
    assert one(p, "QP002013", "n_css", 2019)["series"] == "revn:CCMUC"
    # REVN and Filosofi both give the 2019 poverty rate: two parallel series, no break
    fil = one(p, "QP002013", "poverty_rate", 2019, "filosofi")
    assert fil["series"] != one(p, "QP002013", "poverty_rate", 2019)["series"]
    assert fil["series_break"] is None
    # a matrix never joins two series: n_css of the CMU-C series stops in 2019
    m, series = panel_matrix(p, "n_css", series="revn:CCMUC")
    assert series == "revn:CCMUC" and max(m.columns) == 2019


def test_source_switch_is_a_break() -> None:
    t = pd.DataFrame(
        {"code": "QP1", "indicator": "gini", "year": [2019, 2021, 2022],
         "value": [0.3, 0.31, 0.32], "source": ["filosofi", "revn", "revn"],
         "source_column": ["DISP_GI_A19", "GI", "GI"], "level": "qpv"}
    )  # fmt: skip
    p = indicator_panel(t)
    assert list(p["series_break"]) == [None, "source", None]


def test_secrecy_and_empty_flags_kept() -> None:
    t = pd.DataFrame(
        {"code": ["QP1"] * 4, "indicator": "poverty_rate", "year": [2017, 2018, 2019, 2021],
         "value": [0.4, np.nan, np.nan, np.nan],
         "flag": ["NOTE_FILO=1", "s", "empty; NOTE_CNAF=5", "nd"], "level": "qpv"}
    )  # fmt: skip
    p = indicator_panel(t)
    assert list(p["secret"]) == [False, True, False, True]
    assert list(p["empty"]) == [False, False, True, False]
    assert list(p["flag"]) == list(t["flag"])


def test_qp_and_qn_codes_are_never_joined() -> None:
    t = pd.DataFrame(
        {"code": ["QP002013", "QP002013", "QN00201M", "QN00201M"], "name": "Presles",
         "indicator": "poverty_rate", "year": [2019, 2021, 2024, 2025],
         "value": [0.55, 0.56, 0.5, 0.51], "level": "qpv"}
    )  # fmt: skip
    p = indicator_panel(t)
    assert list(p["generation"]) == ["qpv_2024", "qpv_2024", "qpv_2015", "qpv_2015"]
    m, _ = panel_matrix(p, "poverty_rate")
    assert m.loc["QP002013", [2024, 2025]].isna().all()
    assert m.loc["QN00201M", [2019, 2021]].isna().all()
    full = pd.DataFrame({2019: [0.5, 0.4]}, index=["QP002013", "QN00201M"])
    assert donor_pool(full, "QP002013", [2019]) == []
    assert generation("QN00201M") == "qpv_2024" and generation("Ensemble") is None


def test_population_nearest_vintage() -> None:
    t = pd.DataFrame(
        {"code": "QP1", "indicator": ["population", "population", "rsa_share", "rsa_share",
                                      "rsa_share"],
         "year": [2017, 2021, 2019, 2022, 2015], "value": [1000, 1200, 0.2, 0.21, 0.25],
         "level": "qpv"}
    )  # fmt: skip
    p = indicator_panel(t, keep=["rsa_share"]).set_index("year")
    # 2019 is 2 years from both 2017 and 2021: the earlier one; 2022 -> 2021; 2015 -> 2017
    assert p.loc[2019, "population"] == 1000 and p.loc[2019, "population_year"] == 2017
    assert p.loc[2022, "population"] == 1200 and p.loc[2015, "population"] == 1000
    none = indicator_panel(t[t["indicator"] != "population"])
    assert none["population"].isna().all()


def test_missing_column_is_named() -> None:
    with pytest.raises(DataValidationError, match="no column year"):
        indicator_panel(pd.DataFrame({"code": ["QP1"], "indicator": ["x"], "value": [1.0]}))
    t = indicator_panel(pd.DataFrame({"code": ["QP1"], "indicator": ["gini"], "year": [2019],
                                      "value": [0.3], "level": "qpv"}))  # fmt: skip
    with pytest.raises(DataValidationError, match="no value of poverty_rate"):
        panel_matrix(t, "poverty_rate")


def test_direction_verdict() -> None:
    assert direction_verdict(0.02, "poverty_rate") == "worse"
    assert direction_verdict(500.0, "median_income") == "better"
    assert direction_verdict(-500.0, "median_income") == "worse"
    assert direction_verdict(10.0, "population") == "higher"
