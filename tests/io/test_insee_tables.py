"""io/insee.py on tables outside the INSEE QPV families: the Filosofi and older INSEE naming,
canonical names, long tables, XLSX with title rows, secrecy codes, and every refusal.

Expected figures come from the fixture files in tests/data (read by eye) or hand calculations.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from cdv_geo import CdvGeoWarning, DataValidationError
from cdv_geo.io.insee import TABLE_COLUMNS, check_codes, read_indicators
from cdv_geo.io.insee.registry import INDICATORS, SECRECY_CODES

DATA = Path(__file__).parent.parent / "data"
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
        assert ind.columns, name  # every indicator says which published columns it reads
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
    assert set(t["source"]) == {"table"} and set(t["file"]) == {NEW.name}
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
    assert flag(t, "QN00274M", "s80_s20_ratio") == "ns"
    assert (t.loc[t["flag"].notna(), "value"].isna()).all()
    assert not (t["value"] == 0).any()
    assert flag(t, "QN00272M", "median_income") is None
    # levels told from the codes
    levels = t.drop_duplicates("code").set_index("code")["level"].to_dict()
    assert levels == {"QN00272M": "qpv", "QN00273M": "qpv", "QN00274M": "qpv",
                      "02722": "commune", "FRANCE": "france"}  # fmt: skip
    assert value(t, "QN00272M", "s80_s20_ratio") == pytest.approx(3.9)
    # a text column is no indicator, and no wide pass-through column either
    assert list(t.columns) == TABLE_COLUMNS and "commentaire" not in set(t["indicator"])
    assert t.loc[t["code"] == "QN00272M", "name"].iloc[0] == "Saint-Crépin"


def test_older_family_with_year_column_and_windows_encoding() -> None:
    t = read_indicators(OLD)
    assert set(t["year"]) == {2017}
    assert value(t, "QN00272M", "median_income") == 12400.0  # disp_q2
    assert value(t, "QN00272M", "median_declared_income") == 10150.0  # decuc_q2
    assert value(t, "QN00274M", "poverty_rate") == pytest.approx(0.44)  # tp60 = 44.0 %
    assert value(t, "02722", "gini") == pytest.approx(0.301)
    assert flag(t, "QN00273M", "median_declared_income") == "c"
    assert flag(t, "QN00273M", "median_income") == "ns"
    assert t.loc[t["code"] == "QN00272M", "name"].iloc[0] == "Saint-Crépin"  # cp1252 decoded
    # an unrecognised numeric column is kept as an indicator under its lower-cased name
    assert value(t, "QN00272M", "pop_qp") == 3510.0
    assert t.loc[t["indicator"] == "pop_qp", "source_column"].iloc[0] == "pop_qp"


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


def test_year_argument_for_columns_without_vintage(tmp_path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("code;disp_q2;tp60\nQN00272M;12000;40\n")
    t = read_indicators(p, year=2019)
    assert set(t["year"]) == {2019}
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    msg = str(exc.value)
    assert "disp_q2, tp60 carry no vintage" in msg and "year=" in msg
    assert "name the file with its vintage" in msg  # both ways are named
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
    assert "code QN00272M appears on lines 2, 4 for vintage 2021" in msg
    assert "keep one row per code and vintage" in msg and str(p) in msg


def test_codes_matching_no_quartier(tmp_path, square_quartiers) -> None:
    p = tmp_path / "t.csv"
    q = square_quartiers.assign(code=["QN00272M", "QA"])
    p.write_text("code;level;DISP_MED_A21\nQA;qpv;13000\nQP002010;qpv;12000\nQN00999X;qpv;1\n")
    with pytest.warns(CdvGeoWarning, match=r"2 codes of other territories left out"):
        kept = read_indicators(p, quartiers=q)
    assert kept["code"].tolist() == ["QA"]
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p, quartiers=q.assign(code=["QN00272M", "QN00273M"]))
    msg = str(exc.value)
    assert "none of the quartiers' codes (QN00272M, QN00273M) is in the files" in msg
    assert "2015 QPV codes" in msg
    with pytest.raises(DataValidationError) as exc:
        check_codes(read_indicators(p), q)
    assert "QPV codes QN00999X, QP002010 match no quartier" in str(exc.value)
    with pytest.raises(DataValidationError, match="QN00274M match no quartier"):
        check_codes(read_indicators(NEW), square_quartiers.assign(code=["QN00272M", "QN00273M"]))


def test_unknown_level_and_empty_code(tmp_path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("code;DISP_MED_A21\nZ1234;13000\n;12000\n")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    msg = str(exc.value)
    assert "Z1234 (line 2)" in msg and "add a `level` (niveau) column" in msg
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
                               "source", "file", "source_column"]  # fmt: skip
