"""indicators.py: readers (both INSEE naming families, secrecy codes), comparison, trends, Gini,
grid interpolation (against tobler), and bad input.

Expected figures come from the fixture files in tests/data (read by eye), hand calculations,
closed-form results, or an independent implementation written here.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import Workbook
from pyproj import Transformer
from scipy.stats import norm
from shapely import Polygon, box
from tobler.area_weighted import area_interpolate

from cdv_geo import CdvGeoError, CdvGeoWarning, DataValidationError
from cdv_geo.metrics.indicators import (
    INDICATORS,
    SECRECY_CODES,
    check_codes,
    compare_indicators,
    estimate_missing_gini,
    gini,
    gini_from_grouped,
    indicator_trend,
    interpolate_grid,
    pivot_indicators,
    read_grid,
    read_indicators,
)
from tests.conftest import X0, Y0

DATA = Path(__file__).parent / "data"
NEW = DATA / "indicators_insee_2021.csv"
OLD = DATA / "indicators_legacy_2017.csv"
LONG = DATA / "indicators_long.csv"


def value(table: pd.DataFrame, code: str, indicator: str, year: int | None = None) -> float:
    sel = table[(table["code"] == code) & (table["indicator"] == indicator)]
    if year is not None:
        sel = sel[sel["year"] == year]
    assert len(sel) == 1, (code, indicator, year, sel)
    return float(sel["value"].iloc[0])


def flag(table: pd.DataFrame, code: str, indicator: str) -> object:
    sel = table[(table["code"] == code) & (table["indicator"] == indicator)]
    return sel["flag"].iloc[0]


# --- registry ------------------------------------------------------------------------------------


def test_registry_covers_the_issue_set() -> None:
    for name in ("median_income", "poverty_rate", "rsa_share", "unemployment_rate", "gini",
                 "no_diploma_share", "css_share", "jobseeker_ratio", "gp_density"):  # fmt: skip
        ind = INDICATORS[name]
        assert ind.name == name and ind.label_fr and ind.label_en and ind.definition
        assert ind.source and ind.unit in ("EUR", "fraction", "index", "ratio", "per_10000")
    assert INDICATORS["median_income"].higher_is_better
    assert not INDICATORS["poverty_rate"].higher_is_better
    assert INDICATORS["poverty_rate"].unit == "fraction"
    # the job-seeker ratio says it is not an unemployment rate
    assert "NOT an unemployment rate" in INDICATORS["jobseeker_ratio"].definition
    assert INDICATORS["poverty_rate"].format(0.384) == "38,4 %"
    assert INDICATORS["median_income"].format(13120.0) == "13\u202f120 €"
    assert INDICATORS["gini"].format(float("nan"), lang="en") == "n/a"


# --- readers -------------------------------------------------------------------------------------


def test_newer_family_values_scaling_and_secrecy() -> None:
    t = read_indicators(NEW)
    assert t.attrs["families"] == ["insee"]
    assert set(t["year"]) == {2021}
    assert value(t, "QN00272M", "median_income") == 13120.0  # "13 120"
    assert value(t, "QN00272M", "poverty_rate") == pytest.approx(0.384)  # "38,4" %
    assert value(t, "QN00272M", "gini") == pytest.approx(0.262)
    assert value(t, "QN00272M", "income_d1") == 7150.0
    assert value(t, "QN00272M", "income_d9") == 22400.0
    assert value(t, "FRANCE", "poverty_rate") == pytest.approx(0.145)
    # secrecy codes: missing with their flag, never 0
    for ind in ("median_income", "poverty_rate", "gini", "income_d1"):
        assert math.isnan(value(t, "QN00273M", ind)) and flag(t, "QN00273M", ind) == "s"
    assert flag(t, "QN00274M", "poverty_rate") == "nd"
    assert flag(t, "QN00274M", "income_d1") == "empty"
    assert flag(t, "QN00274M", "disp_s80s20") == "ns"
    assert (t.loc[t["flag"].notna(), "value"].isna()).all()
    assert not (t["value"] == 0).any()
    assert flag(t, "QN00272M", "median_income") is None
    # levels told from the codes
    levels = t.drop_duplicates("code").set_index("code")["level"].to_dict()
    assert levels == {"QN00272M": "qpv", "QN00273M": "qpv", "QN00274M": "qpv",
                      "02722": "commune", "FRANCE": "france"}  # fmt: skip
    # a family column outside the canonical set is kept as published; a text column too
    assert value(t, "QN00272M", "disp_s80s20") == pytest.approx(3.9)
    assert set(t.loc[t["code"] == "QN00272M", "COMMENTAIRE"]) == {"quartier ancien"}
    assert t.loc[t["code"] == "QN00272M", "name"].iloc[0] == "Saint-Crépin"


def test_older_family_with_year_column_and_windows_encoding() -> None:
    t = read_indicators(OLD)
    assert t.attrs["families"] == ["insee_legacy"]
    assert set(t["year"]) == {2017}
    assert value(t, "QN00272M", "median_income") == 12400.0  # disp_q2
    assert value(t, "QN00272M", "median_declared_income") == 10150.0  # decuc_q2
    assert value(t, "QN00274M", "poverty_rate") == pytest.approx(0.44)  # tp60 = 44.0 %
    assert value(t, "02722", "gini") == pytest.approx(0.301)
    assert flag(t, "QN00273M", "median_declared_income") == "c"
    assert flag(t, "QN00273M", "median_income") == "ns"
    assert t.loc[t["code"] == "QN00272M", "name"].iloc[0] == "Saint-Crépin"  # cp1252 decoded
    assert set(t.loc[t["code"] == "QN00272M", "pop_qp"]) == {"3510"}  # unknown column kept


def test_long_table_with_percent_suffix_and_explicit_level() -> None:
    t = read_indicators(LONG)
    assert value(t, "QN00272M", "rsa_share") == pytest.approx(0.245)  # rsa_share_pct 24.5
    assert value(t, "QN00272M", "jobseeker_ratio") == pytest.approx(0.221)
    assert math.isnan(value(t, "QN00273M", "rsa_share")) and flag(t, "QN00273M", "rsa_share") == "s"
    assert t.loc[t["code"] == "200071876", "level"].iloc[0] == "epci"


def test_a_missing_name_is_none_in_both_layouts(tmp_path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text("code;libelle;DISP_MED_A21\nQN00272M;;12000\n02722;Soissons;19000\n")
    long = tmp_path / "long.csv"
    long.write_text(
        "code;libelle;indicateur;annee;valeur\n"
        "QN00272M;;median_income;2021;12000\n02722;Soissons;median_income;2021;19000\n"
    )
    for path in (wide, long):
        t = read_indicators(path)
        assert t["name"].tolist() == [None, "Soissons"], path.name
        assert t["value"].tolist() == [12000.0, 19000.0]


@pytest.mark.parametrize(
    ("header", "indicator", "year", "cell", "expected"),
    [
        ("DISP_MED_A19", "median_income", 2019, "12000", 12000.0),
        ("DEC_MED_A21", "median_declared_income", 2021, "11000", 11000.0),
        ("DISP_D5_A20", "income_d5", 2020, "12500", 12500.0),
        ("disp_q216", "median_income", 2016, "11000", 11000.0),
        ("DISP_TP6015", "poverty_rate", 2015, "40", 0.40),
        ("tp60_2018", "poverty_rate", 2018, "25,5", 0.255),
        ("median_income_2021", "median_income", 2021, "12000", 12000.0),
        ("poverty_rate_pct_a21", "poverty_rate", 2021, "41", 0.41),
        ("taux_de_chomage_2020", "unemployment_rate", 2020, "0.28", 0.28),
    ],
)
def test_column_grammar(tmp_path, header, indicator, year, cell, expected) -> None:
    p = tmp_path / "t.csv"
    p.write_text(f"code;{header}\nQN00272M;{cell}\n")
    t = read_indicators(p)
    assert t[["indicator", "year"]].iloc[0].tolist() == [indicator, year]
    assert t["value"].iloc[0] == pytest.approx(expected)


def test_source_restricts_the_families(tmp_path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("code;DISP_MED_A21;disp_q2_17\nQN00272M;13000;12000\n")
    t = read_indicators(p, source="insee_legacy")
    assert t["indicator"].tolist() == ["median_income"] and t["year"].tolist() == [2017]
    assert "DISP_MED_A21" in t.columns  # not recognised: kept as a column
    with pytest.raises(CdvGeoError, match="source='inse'"):
        read_indicators(p, source="inse")


def test_year_argument_for_columns_without_vintage(tmp_path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("code;disp_q2;tp60\nQN00272M;12000;40\n")
    t = read_indicators(p, year=2019)
    assert set(t["year"]) == {2019}
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    assert "disp_q2, tp60 carry no vintage" in str(exc.value) and "year=" in str(exc.value)
    assert str(p) in str(exc.value)


def test_xlsx_with_title_rows_and_dropped_leading_zero(tmp_path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Revenus et pauvreté des quartiers prioritaires en 2021"])
    ws.append(["Source : Insee, Filosofi"])
    ws.append([])
    ws.append(["CODGEO", "LIBGEO", "DISP_MED_A21", "DISP_TP60_A21"])
    ws.append(["QN00272M", "Saint-Crépin", 13120, 38.4])
    ws.append([2722, "Soissons", 19870, "s"])  # a number: the leading zero is gone
    p = tmp_path / "filo.xlsx"
    wb.save(p)
    with pytest.warns(CdvGeoWarning, match="2722 had 4 digits"):
        t = read_indicators(p)
    assert value(t, "QN00272M", "poverty_rate") == pytest.approx(0.384)
    assert value(t, "02722", "median_income") == 19870.0
    assert flag(t, "02722", "poverty_rate") == "s"
    assert t.loc[t["code"] == "02722", "level"].iloc[0] == "commune"


def test_pivot_keeps_missing_as_nan() -> None:
    t = pd.concat([read_indicators(OLD), read_indicators(NEW)], ignore_index=True)
    w = pivot_indicators(t, level="qpv")
    assert w.loc["QN00272M", "median_income"] == 13120.0  # latest vintage
    assert math.isnan(w.loc["QN00273M", "median_income"])
    assert pivot_indicators(t, year=2017).loc["QN00272M", "median_income"] == 12400.0


# --- bad input -----------------------------------------------------------------------------------


def test_percentage_above_100_names_file_line_and_column(tmp_path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("CODGEO;DISP_TP60_A21;DISP_MED_A21\nQN00272M;38,4;13000\nQN00273M;104,2;12000\n")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    msg = str(exc.value)
    assert str(p) in msg and "QN00273M (line 3)" in msg and "'DISP_TP60_A21'" in msg
    assert "percentage above 100" in msg


def test_fraction_column_holding_percentages_says_what_to_do(tmp_path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("code;year;rsa_share\nQN00272M;2021;24.5\n")
    with pytest.raises(DataValidationError, match=r"rename it rsa_share_pct"):
        read_indicators(p)


def test_text_that_is_not_a_secrecy_code(tmp_path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("code;DISP_MED_A21\nQN00272M;13000\nQN00273M;environ 12000\n")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    msg = str(exc.value)
    assert "QN00273M (line 3)" in msg and "'DISP_MED_A21'" in msg
    assert "neither a number nor a secrecy code" in msg


def test_duplicate_code_for_one_vintage(tmp_path) -> None:
    p = tmp_path / "dup.csv"
    p.write_text("code;DISP_MED_A21\nQN00272M;13000\nQN00273M;12000\nQN00272M;13100\n")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    msg = str(exc.value)
    assert "QN00272M has 2 values of median_income for vintage 2021" in msg
    assert "line 2" in msg and "line 4" in msg and str(p) in msg
    # two files giving the same vintage, concatenated for a trend
    t = read_indicators(NEW)
    with pytest.raises(DataValidationError, match=r"file .*indicators_insee_2021.csv"):
        indicator_trend([t, t])


def test_codes_matching_no_quartier(tmp_path, square_quartiers) -> None:
    p = tmp_path / "t.csv"
    q = square_quartiers.assign(code=["QN00272M", "QA"])
    p.write_text("code;level;DISP_MED_A21\nQA;qpv;13000\nQP002010;qpv;12000\nQN00999X;qpv;1\n")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p, quartiers=q)
    msg = str(exc.value)
    assert "QPV codes QN00999X, QP002010 match no quartier" in msg
    assert "2015 QPV codes" in msg and str(p) in msg
    with pytest.raises(DataValidationError, match="QN00274M match no quartier"):
        check_codes(read_indicators(NEW), square_quartiers.assign(code=["QN00272M", "QN00273M"]))


def test_unknown_level_and_empty_code(tmp_path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("code;DISP_MED_A21\n200071876;13000\n;12000\n")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    msg = str(exc.value)
    assert "200071876 (line 2)" in msg and "add a `level` (niveau) column" in msg
    assert "line 3" in msg and "the code is empty" in msg


def test_unreadable_or_missing_file(tmp_path) -> None:
    with pytest.raises(DataValidationError, match="does not exist"):
        read_indicators(tmp_path / "none.csv")
    (tmp_path / "t.ods").write_text("x")
    with pytest.raises(DataValidationError, match="save the table as CSV"):
        read_indicators(tmp_path / "t.ods")
    (tmp_path / "nocode.csv").write_text("a;b\n1;2\n")
    with pytest.raises(DataValidationError, match="no code column"):
        read_indicators(tmp_path / "nocode.csv")


# --- comparison and trends -----------------------------------------------------------------------


@pytest.fixture
def both() -> list[pd.DataFrame]:
    return [read_indicators(OLD), read_indicators(NEW)]


def test_compare_gap_ratio_direction_and_narrowing(both) -> None:
    c = compare_indicators(both)
    row = c[(c["code"] == "QN00272M") & (c["indicator"] == "poverty_rate")
            & (c["reference"] == "france") & (c["year"] == 2021)].iloc[0]  # fmt: skip
    assert row["gap"] == pytest.approx(0.384 - 0.145)
    assert row["ratio"] == pytest.approx(0.384 / 0.145)
    assert row["disadvantage"] == pytest.approx(0.384 - 0.145)  # lower is better
    assert bool(row["worse_off"]) is True
    assert row["previous_year"] == 2017 and row["previous_gap"] == pytest.approx(0.421 - 0.146)
    assert bool(row["narrowed"]) is True  # 0.239 < 0.275
    inc = c[(c["code"] == "QN00272M") & (c["indicator"] == "median_income")
            & (c["reference"] == "commune") & (c["year"] == 2021)].iloc[0]  # fmt: skip
    assert inc["gap"] == 13120 - 19870
    assert inc["disadvantage"] == 19870 - 13120  # higher is better: sign flipped
    assert bool(inc["narrowed"]) is False  # |-6750| > |12400 - 19100| = 6700
    # secret values give missing gaps, not zeros
    sec = c[(c["code"] == "QN00273M") & (c["indicator"] == "median_income")]
    assert sec["gap"].isna().all() and sec["worse_off"].isna().all()
    assert set(c["reference"]) == {"commune", "france"}  # no EPCI in these tables


def test_compare_needs_a_reference_code_when_several(both) -> None:
    t = pd.concat([*both, read_indicators(LONG)], ignore_index=True)
    extra = t[t["code"] == "02722"].assign(code="02408")
    t2 = pd.concat([t, extra], ignore_index=True)
    with pytest.raises(CdvGeoError, match=r"several commune codes \(02408, 02722\)"):
        compare_indicators(t2)
    c = compare_indicators(t2, reference_codes={"commune": "02722"})
    assert set(c.loc[c["reference"] == "commune", "reference_code"]) == {"02722"}
    assert "epci" in set(c["reference"])


def test_trend_per_year_and_gap_to_town(both) -> None:
    tr = indicator_trend(both)
    r = tr[(tr["code"] == "QN00272M") & (tr["indicator"] == "median_income")].iloc[0]
    assert (r["year_from"], r["year_to"]) == (2017, 2021)
    assert r["change"] == 720 and r["change_per_year"] == 180
    assert bool(r["improved"]) is True
    assert r["gap_from"] == 12400 - 19100 and r["gap_to"] == 13120 - 19870
    assert bool(r["gap_narrowed"]) is False
    p = tr[(tr["code"] == "QN00272M") & (tr["indicator"] == "poverty_rate")].iloc[0]
    assert p["change_per_year"] == pytest.approx((0.384 - 0.421) / 4)
    assert bool(p["improved"]) is True and bool(p["gap_narrowed"]) is True
    fr = tr[(tr["code"] == "FRANCE") & (tr["indicator"] == "gini")].iloc[0]
    assert bool(fr["improved"]) is False  # 0.289 -> 0.294: more unequal
    assert math.isnan(fr["gap_to"])  # gaps only for quartiers
    assert tr["level"].iloc[0] == "qpv"


# --- Gini ----------------------------------------------------------------------------------------


def gini_double_sum(x: np.ndarray, w: np.ndarray) -> float:
    """Independent implementation: weighted mean absolute difference / (2 * mean)."""
    diff = np.abs(x[:, None] - x[None, :])
    mean = np.sum(w * x) / np.sum(w)
    return float(np.sum(w[:, None] * w[None, :] * diff) / (2 * np.sum(w) ** 2 * mean))


def test_gini_analytic_cases() -> None:
    assert gini([5.0] * 7) == 0.0
    for n in (2, 5, 100):
        assert gini([0.0] * (n - 1) + [3.0]) == pytest.approx((n - 1) / n)
    for n in (3, 10, 1000):  # 1..n: exactly (n - 1) / (3n), -> 1/3
        assert gini(np.arange(1, n + 1)) == pytest.approx((n - 1) / (3 * n))
    assert gini(np.linspace(0, 1, 200_001)) == pytest.approx(1 / 3, abs=1e-5)


def test_gini_weights_equal_repetition_and_independent_implementation() -> None:
    rng = np.random.default_rng(42)
    x = rng.lognormal(9.5, 0.6, 300)
    w = rng.integers(1, 6, 300)
    assert gini(x, w) == pytest.approx(gini(np.repeat(x, w)), rel=1e-12)
    assert gini(x, w) == pytest.approx(gini_double_sum(x, w.astype(float)), rel=1e-10)
    wf = rng.uniform(0.1, 3.0, 300)
    assert gini(x, wf) == pytest.approx(gini_double_sum(x, wf), rel=1e-10)


def test_gini_of_a_large_lognormal_sample_matches_closed_form() -> None:
    sigma = 0.5  # G = 2 Phi(sigma / sqrt 2) - 1
    x = np.random.default_rng(1).lognormal(0.0, sigma, 400_000)
    assert gini(x) == pytest.approx(2 * norm.cdf(sigma / math.sqrt(2)) - 1, abs=2e-3)


def test_gini_bad_input() -> None:
    with pytest.raises(DataValidationError, match="missing or infinite"):
        gini([1.0, float("nan")])
    with pytest.raises(DataValidationError, match="weights must be >= 0"):
        gini([1, 2], [1, -1])
    with pytest.raises(DataValidationError, match="differ in length"):
        gini([1, 2], [1])
    with pytest.raises(DataValidationError, match="must be positive"):
        gini([0, 0])
    with pytest.raises(DataValidationError, match="empty"):
        gini([])


def test_grouped_gini_of_uniform_decile_shares_by_hand() -> None:
    # U(0, 1): the k-th tenth holds (2k - 1) / 100 of the income; L_k = k^2 / 100, and
    # 1 - sum 0.1 (L_k + L_{k-1}) = 1 - 0.001 * (385 + 285) = 0.33 (true Gini: 1/3)
    shares = [(2 * k - 1) / 100 for k in range(1, 11)]
    assert gini_from_grouped(shares) == pytest.approx(0.33)
    assert gini_from_grouped([100 * s for s in shares]) == pytest.approx(0.33)  # in %


def test_grouped_gini_underestimates_and_thresholds_approximate() -> None:
    sigma = 0.5
    x = np.sort(np.random.default_rng(7).lognormal(9.6, sigma, 200_000))
    exact = gini(x)
    tenths = np.array_split(x, 10)
    shares = np.array([t.sum() for t in tenths]) / x.sum()
    grouped = gini_from_grouped(shares)
    assert grouped < exact and exact - grouped < 0.01
    thresholds = np.quantile(x, np.arange(1, 10) / 10)
    assert gini_from_grouped(thresholds=thresholds) == pytest.approx(exact, abs=0.015)
    y = np.random.default_rng(8).gamma(4.0, 4000.0, 200_000)
    d = np.quantile(y, np.arange(1, 10) / 10)
    assert gini_from_grouped(thresholds=d) == pytest.approx(gini(y), abs=0.015)


def test_grouped_gini_bad_input() -> None:
    with pytest.raises(DataValidationError, match="sum to 0.9"):
        gini_from_grouped([0.45, 0.45])
    with pytest.raises(DataValidationError, match="nine increasing, positive deciles"):
        gini_from_grouped(thresholds=[1, 2, 3])
    with pytest.raises(CdvGeoError, match="either shares or thresholds"):
        gini_from_grouped()


def test_published_gini_kept_estimate_only_where_missing() -> None:
    t = read_indicators(NEW)
    d = [9000.0, 10500, 11800, 13000, 14300, 15700, 17400, 19800, 24000]
    rows = pd.DataFrame({"code": "QN00999Z", "name": None, "level": "qpv",
                         "indicator": [f"income_d{k}" for k in range(1, 10)], "year": 2021,
                         "value": d, "flag": None})  # fmt: skip
    out = estimate_missing_gini(pd.concat([t, rows], ignore_index=True))
    assert value(out, "QN00272M", "gini") == pytest.approx(0.262)  # published, untouched
    assert math.isnan(value(out, "QN00273M", "gini"))  # secret stays secret
    assert value(out, "QN00999Z", "gini") == pytest.approx(gini_from_grouped(thresholds=d))
    assert flag(out, "QN00999Z", "gini") == "estimated"
    assert (out["indicator"] == "gini").sum() == (t["indicator"] == "gini").sum() + 1


# --- gridded income ------------------------------------------------------------------------------


def grid_3035(nx: int = 6, ny: int = 5, seed: int = 0) -> gpd.GeoDataFrame:
    """Filosofi-like 200 m squares (EPSG:3035) over Soissons, capitalised like older vintages."""
    x, y = Transformer.from_crs(4326, 3035, always_xy=True).transform(3.32, 49.38)
    x, y = x // 200 * 200, y // 200 * 200
    rng = np.random.default_rng(seed)
    n = nx * ny
    cells = [box(x + 200 * i, y + 200 * j, x + 200 * (i + 1), y + 200 * (j + 1))
             for i in range(nx) for j in range(ny)]  # fmt: skip
    ind = rng.integers(20, 300, n).astype(float)
    men = np.floor(ind / rng.uniform(1.8, 2.8, n))
    return gpd.GeoDataFrame(
        {
            "Idcar_200m": [f"CRS3035RES200mN{int(c.bounds[1])}E{int(c.bounds[0])}" for c in cells],
            "Ind": ind,
            "Men": men,
            "Men_pauv": np.floor(men * rng.uniform(0.05, 0.5, n)),
            "Ind_snv": ind * rng.uniform(12000, 26000, n),
            "Share": rng.uniform(0, 1, n),
        },
        geometry=cells,
        crs=3035,
    )


def two_quartiers(grid: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Two quartiers (Lambert-93) cutting squares in odd places, not covering the whole grid."""
    b = grid.to_crs(2154).total_bounds
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    a = Polygon([(cx - 500, cy - 400), (cx + 100, cy - 450), (cx + 150, cy + 300),
                 (cx - 420, cy + 350)])  # fmt: skip
    return gpd.GeoDataFrame(
        {"code": ["QA", "QB"], "name": ["A", "B"]},
        geometry=[a, box(cx + 150, cy - 300, cx + 520, cy + 200)],
        crs=2154,
    )


EXT = ["ind", "men", "men_pauv", "ind_snv"]


def test_agrees_with_tobler_area_interpolate() -> None:
    g = grid_3035()
    q = two_quartiers(g)
    out = interpolate_grid(g, q, extensive=EXT, intensive=["share"])
    src = g.to_crs(2154).rename(columns=str.lower)
    ref = area_interpolate(src, q, extensive_variables=EXT, intensive_variables=["share"],
                           allocate_total=False)  # fmt: skip
    for c in [*EXT, "share"]:
        np.testing.assert_allclose(out[c].to_numpy(), ref[c].to_numpy(), rtol=1e-6, err_msg=c)
    # ratios after summing the counts (from tobler's sums), not averaged over squares
    np.testing.assert_allclose(out["mean_living_standard"], ref["ind_snv"] / ref["ind"], rtol=1e-6)
    np.testing.assert_allclose(out["poor_household_share"], ref["men_pauv"] / ref["men"], rtol=1e-6)
    averaged = area_interpolate(src.assign(r=src["ind_snv"] / src["ind"]), q,
                                intensive_variables=["r"])["r"]  # fmt: skip
    assert not np.allclose(out["mean_living_standard"], averaged, rtol=1e-3)
    assert (out["covered_share"] > 0.999).all()  # both quartiers lie inside the grid


def test_conservation_when_quartiers_tile_the_grid() -> None:
    g = grid_3035(5, 4, seed=3)
    union = shapely.union_all(g.to_crs(2154).geometry.to_numpy())
    b = union.bounds
    cut = Polygon([(b[0] - 10, b[1] - 10), (b[0] + 430, b[1] - 10), (b[0] + 610, b[3] + 10),
                   (b[0] - 10, b[3] + 10)])  # fmt: skip
    q = gpd.GeoDataFrame(
        {"code": ["QW", "QE"], "name": ["W", "E"]},
        geometry=[union.intersection(cut), union.difference(cut)],
        crs=2154,
    )
    out = interpolate_grid(g, q, extensive=EXT)
    for c in EXT:
        assert out[c].sum() == pytest.approx(g[c.capitalize()].sum(), rel=1e-9), c
    ref = area_interpolate(g.to_crs(2154).rename(columns=str.lower), q, extensive_variables=EXT)
    np.testing.assert_allclose(out["ind"], ref["ind"], rtol=1e-6)  # tobler's default too


def test_residence_weighting_follows_dwellings() -> None:
    # two squares; quartier Q1 covers the west half of each, Q2 the east half
    x, y = X0, Y0
    g = gpd.GeoDataFrame({"ind": [100.0, 60.0], "share": [0.2, 0.6]},
                         geometry=[box(x, y, x + 200, y + 200), box(x, y + 200, x + 200, y + 400)],
                         crs=2154)  # fmt: skip
    q = gpd.GeoDataFrame({"code": ["Q1", "Q2"], "name": ["W", "E"]},
                         geometry=[box(x, y, x + 100, y + 400), box(x + 100, y, x + 200, y + 400)],
                         crs=2154)  # fmt: skip
    # square 1: 30 dwellings west, 10 east; square 2: no residence (area fallback)
    res = gpd.GeoDataFrame({"dwellings": [30, 10]},
                           geometry=[shapely.Point(x + 50, y + 50), shapely.Point(x + 150, y + 50)],
                           crs=2154)  # fmt: skip
    with pytest.warns(CdvGeoWarning, match="1 grid square"):
        out = interpolate_grid(g, q, extensive=["ind"], intensive=["share"], residences=res)
    assert out["ind"].tolist() == pytest.approx([100 * 0.75 + 60 * 0.5, 100 * 0.25 + 60 * 0.5])
    # intensive: dwelling-weighted within each quartier (square 2 has none, weight 0)
    assert out["share"].tolist() == pytest.approx([0.2, 0.2])
    area = interpolate_grid(g, q, extensive=["ind"])
    assert area["ind"].tolist() == pytest.approx([80.0, 80.0])


def test_secret_square_makes_the_sum_missing(square_quartiers) -> None:
    x, y = X0, Y0
    g = gpd.GeoDataFrame(
        {"ind": ["120", "s"], "share": ["0,5", "nd"]},
        geometry=[box(x, y, x + 500, y + 500), box(x + 500, y, x + 1000, y + 500)],
        crs=2154,
    )
    with pytest.warns(CdvGeoWarning, match=r"ind \(QB\)"):
        out = interpolate_grid(g, square_quartiers, extensive=["ind"], intensive=["share"])
    out = out.set_index("code")
    assert out.loc["QA", "ind"] == 120.0 and math.isnan(out.loc["QB", "ind"])
    assert out.loc["QA", "share"] == 0.5 and math.isnan(out.loc["QB", "share"])


def test_read_grid_from_idcar_codes_and_file(tmp_path) -> None:
    g = grid_3035()
    csv = tmp_path / "filo.csv"
    g.drop(columns="geometry").to_csv(csv, sep=";", index=False)
    from_csv = read_grid(csv)
    assert from_csv.crs.to_epsg() == 3035
    assert list(from_csv.columns[:3]) == ["idcar_200m", "ind", "men"]
    assert from_csv.geometry.geom_equals_exact(g.geometry, tolerance=0).all()
    q = two_quartiers(g)
    a = interpolate_grid(csv, q, extensive=EXT)
    b = interpolate_grid(g, q, extensive=EXT)
    pd.testing.assert_frame_equal(a, b)
    gpkg = tmp_path / "filo.gpkg"
    g.to_file(gpkg)
    assert list(read_grid(gpkg).columns[:2]) == ["idcar_200m", "ind"]


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_grid_without_crs_names_the_file(tmp_path, square_quartiers) -> None:
    g = grid_3035().set_crs(None, allow_override=True)
    shp = tmp_path / "carreaux.shp"
    g.to_file(shp)
    with pytest.raises(DataValidationError) as exc:
        read_grid(shp)
    msg = str(exc.value)
    assert str(shp) in msg and "EPSG:3035" in msg and "no coordinate reference system" in msg
    with pytest.raises(DataValidationError, match="set_crs"):
        interpolate_grid(g, square_quartiers)


def test_grid_bad_columns(square_quartiers) -> None:
    g = grid_3035()
    with pytest.raises(DataValidationError, match=r"no column log_soc; it has idcar_200m, ind"):
        interpolate_grid(g, square_quartiers, extensive=["ind", "log_soc"])
    with pytest.raises(DataValidationError, match=r"ratios x = ind_snv / men_pauv need both"):
        interpolate_grid(g, square_quartiers, extensive=["ind"],
                         ratios={"x": ("ind_snv", "men_pauv")})  # fmt: skip
    bad = g.assign(Ind=g["Ind"].astype(object))
    bad.loc[3, "Ind"] = "beaucoup"
    with pytest.raises(DataValidationError) as exc:
        interpolate_grid(bad, two_quartiers(g), extensive=["ind"])
    assert bad.loc[3, "Idcar_200m"] in str(exc.value) and "'ind'" in str(exc.value)


def test_secrecy_codes_documented() -> None:
    assert set(SECRECY_CODES) == {"s", "nd", "ns", "c", ""}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_indicators(NEW)  # no warning on a clean file


def test_csv_with_title_blank_lines_and_quoted_commas(tmp_path) -> None:
    p = tmp_path / "t.csv"
    p.write_text(
        "\nRevenus 2021, par quartier\ncode,name,DISP_MED_A21,DISP_TP60_A21\n"
        'QN00272M,"Saint-Crépin, nord",13120,38.4\n\nQN00273M,Presles,12000,140\n'
    )
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    assert "QN00273M (line 6)" in str(exc.value)  # the 6th line of the file
    p.write_text(p.read_text().replace(",140", ",40"))
    t = read_indicators(p)
    assert t.loc[t["code"] == "QN00272M", "name"].iloc[0] == "Saint-Crépin, nord"
    assert value(t, "QN00273M", "poverty_rate") == pytest.approx(0.40)
    assert list(t.columns) == ["code", "name", "level", "indicator", "year", "value", "flag",
                               "source_column"]  # fmt: skip


def test_demo_tables_read_and_the_grid_follows_the_residences() -> None:
    import cdv_geo as cg

    t = cg.datasets.soissons()
    tab = read_indicators(t.tables["indicators"], quartiers=t.quartiers)
    assert sorted(set(tab["year"])) == [2017, 2021]
    assert set(tab["level"]) == {"qpv", "commune", "epci", "france"}
    assert (tab.loc[tab["flag"].notna(), "value"]).isna().all()
    assert set(tab["flag"].dropna()) == {"s", "nd"}
    # weighting the squares by residents gives back the residents of each quartier, counted here
    # independently with a spatial join of the residences' representative points
    res = t.residences.to_crs(2154)
    pts = gpd.GeoDataFrame(res[["population"]], geometry=res.geometry.representative_point())
    joined = gpd.sjoin(pts, t.quartiers.to_crs(2154)[["code", "geometry"]], predicate="within")
    expected = joined.groupby("code")["population"].sum().astype(float)
    out = interpolate_grid(
        t.tables["income_grid"], t.quartiers, extensive=["ind"], residences=t.residences,
        weight="population",
    ).set_index("code")  # fmt: skip
    # (the grid rounds each square's residents to 0.1)
    np.testing.assert_allclose(out["ind"], expected.reindex(out.index), atol=1.0)


def test_quartier_outside_the_grid_is_missing_not_zero() -> None:
    g = grid_3035()
    q = two_quartiers(g)
    far_away = box(X0 + 50_000, Y0, X0 + 50_500, Y0 + 500)
    far = gpd.GeoDataFrame({"code": ["QF"], "name": ["Far"]}, geometry=[far_away], crs=2154)
    both = pd.concat([q, far], ignore_index=True)
    with pytest.warns(CdvGeoWarning, match=r"no grid square touches quartier\(s\) QF"):
        out = interpolate_grid(g, both, extensive=EXT).set_index("code")
    assert out.loc["QF", EXT].isna().all() and out.loc["QF", "cells"] == 0
    ref = interpolate_grid(g, q, extensive=EXT).set_index("code")
    pd.testing.assert_frame_equal(out.loc[["QA", "QB"]], ref)
