"""io/insee.py on the INSEE quartier files as published (shared/real-data/insee-qpv and the demo's
copies in data/indicators): every layout loads, alone and as a folder; values match the cells of
the files, read here independently with the csv module; a national-size file; every refusal.
"""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box

from cdv_geo import CdvGeoWarning, DataValidationError
from cdv_geo.io.insee import TABLE_COLUMNS, read_indicators
from cdv_geo.io.insee.registry import INDICATORS

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path("/work/shared/real-data/insee-qpv")
DEMO = ROOT / "data" / "indicators"
REAL = SHARED if SHARED.is_dir() else DEMO
FILES = sorted(p for p in REAL.iterdir() if p.suffix == ".csv")
SOISSONS = ["QP002012", "QP002013", "QP002014"]


def cell(path: Path, code: str, column: str) -> str:
    """The raw text of one cell, read with the csv module (independently of the reader)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header = [h.strip() for h in rows[0]]
    row = next(r for r in rows[1:] if r[0] == code)
    return row[header.index(column)]


def number(text: str) -> float:
    return float(text.replace("\u202f", "").replace("\xa0", "").replace(",", "."))


def one(t: pd.DataFrame, code: str, indicator: str, year: int, source: str) -> pd.Series:
    sel = t[
        (t["code"] == code)
        & (t["indicator"] == indicator)
        & (t["year"] == year)
        & (t["source"] == source)
    ]
    assert len(sel) == 1, (code, indicator, year, source, sel)
    return sel.iloc[0]


@pytest.fixture(scope="module")
def folder() -> pd.DataFrame:
    return read_indicators(REAL)


def soissons() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": SOISSONS, "name": ["Saint-Crépin Ouest", "Presles", "Chevreux"],
         "population": [2081, 5766, 1238], "commune": "02722"},
        geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10)],
        crs=2154,
    )  # fmt: skip


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_published_file_loads_alone(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on a published file
        t = read_indicators(path)
    assert list(t.columns) == TABLE_COLUMNS
    assert len(t) > 50  # never silently empty (IPRO and DEMO used to be)
    assert set(SOISSONS) <= set(t["code"])
    assert set(t["file"]) == {path.name}
    assert not t.duplicated(["code", "indicator", "year", "source"]).any()
    # most values are canonical indicators, and every canonical one is registered
    canonical = t["indicator"].isin(list(INDICATORS))
    assert canonical.mean() > 0.1
    assert t["value"].notna().any()


def test_the_folder_loads_as_one_table(folder: pd.DataFrame) -> None:
    assert set(folder["file"].str.split("; ").explode()) == {p.name for p in FILES}
    assert set(folder["source"]) == {"revn", "ipro", "demo", "filosofi"}
    assert set(folder["year"]) >= {2017, 2018, 2019, 2021, 2022}
    assert not folder.duplicated(["code", "indicator", "year", "source"]).any()
    levels = folder.drop_duplicates("code").set_index("code")["level"]
    assert levels["Ensemble"] == "all_qpv"
    for code in ("QP002013", "QP02A001", "QP093001", "QP974001"):
        assert levels[code] == "qpv"
    # DEMO_2019 and data_DEMO_2019_V1_QP give identical values: one row, both files named
    pop = one(folder, "QP002013", "population", 2019, "demo")
    assert pop["file"] == "DEMO_2019.csv; data_DEMO_2019_V1_QP.csv"
    # the Filosofi file has no names: the quartier's name comes from the other files
    assert one(folder, "QP002013", "gini", 2019, "filosofi")["name"] == "Presles"


def test_presles_poverty_rate_matches_the_cells(folder: pd.DataFrame) -> None:
    for year, expected in ((2022, 0.570), (2021, 0.556), (2019, 0.554)):
        text = cell(REAL / f"REVN_{year}.csv", "QP002013", "TP60")
        assert number(text) / 100 == pytest.approx(expected)
        row = one(folder, "QP002013", "poverty_rate", year, "revn")
        assert row["value"] == pytest.approx(number(text) / 100)
        assert row["source_column"] == "TP60" and row["file"] == f"REVN_{year}.csv"
    filo = REAL / "data_filo19_qp_revdis.csv"
    tp60, gini = cell(filo, "QP002013", "DISP_TP60_A19"), cell(filo, "QP002013", "DISP_GINI_A19")
    assert number(tp60) / 100 == pytest.approx(0.573) and number(gini) == pytest.approx(0.212)
    assert one(folder, "QP002013", "poverty_rate", 2019, "filosofi")["value"] == pytest.approx(
        0.573
    )
    assert one(folder, "QP002013", "gini", 2019, "filosofi")["value"] == pytest.approx(0.212)
    # two sources, two values for one indicator and year: both kept, told apart by source
    both = folder[
        (folder["code"] == "QP002013")
        & (folder["indicator"] == "poverty_rate")
        & (folder["year"] == 2019)
    ]
    assert sorted(both["source"]) == ["filosofi", "revn"]
    assert sorted(both["value"].round(3)) == [0.554, 0.573]


def test_ipro_demo_and_filosofi_values_match_the_cells(folder: pd.DataFrame) -> None:
    checks = [
        ("IPRO_2022.csv", "TX_TOT_EMPL", "employment_rate", 2022, "ipro", 0.01),
        ("IPRO_2017.csv", "ABC", "n_jobseekers_abc", 2017, "ipro", 1.0),
        ("IPRO_2021.csv", "ABCDE", "n_jobseekers_abcde", 2021, "ipro", 1.0),
        ("DEMO_2021.csv", "POP_MUN", "population", 2021, "demo", 1.0),
        ("DEMO_2022.csv", "ENF_3_5", "n_children_3_5", 2022, "demo", 1.0),
        ("DEMO_2017.csv", "TX_TOT_ET", "foreigner_share", 2017, "demo", 0.01),
        ("REVN_2019.csv", "DISP_Q2", "median_income", 2019, "revn", 1.0),
        ("REVN_2022.csv", "PPSOC", "social_benefits_share", 2022, "revn", 0.01),
        ("REVN_2021.csv", "CC2S", "n_css", 2021, "revn", 1.0),
        ("data_filo19_qp_revdis.csv", "DISP_PPSOC_A19", "social_benefits_share", 2019,
         "filosofi", 0.01),
        ("data_filo19_qp_revdis.csv", "DISP_D9_A19", "income_d9", 2019, "filosofi", 1.0),
    ]  # fmt: skip
    for file, column, indicator, year, source, scale in checks:
        expected = number(cell(REAL / file, "QP002013", column)) * scale
        got = one(folder, "QP002013", indicator, year, source)
        assert got["value"] == pytest.approx(expected), (file, column)
        assert got["source_column"] == column
    assert one(folder, "QP002013", "population", 2021, "demo")["value"] == 5766
    # derived: the RSA share of CAF recipients, ARSAS / A of the same file
    arsas = number(cell(REAL / "REVN_2022.csv", "QP002013", "ARSAS"))
    a = number(cell(REAL / "REVN_2022.csv", "QP002013", "A"))
    rsa = one(folder, "QP002013", "rsa_share", 2022, "revn")
    assert rsa["value"] == pytest.approx(arsas / a) and rsa["flag"] == "derived"
    assert INDICATORS["rsa_share"].derived


def test_notes_and_secrecy_become_flags(folder: pd.DataFrame) -> None:
    # Chevreux 2021: NOTE_FILO = 1 qualifies the Filosofi figures of its row
    assert cell(REAL / "REVN_2021.csv", "QP002014", "NOTE_FILO") == "1"
    assert one(folder, "QP002014", "poverty_rate", 2021, "revn")["flag"] == "NOTE_FILO=1"
    assert one(folder, "QP002014", "n_caf_recipients", 2021, "revn")["flag"] is None
    # Pifano 2018: the CAF figures are not published (empty cells, NOTE_CNAF = 5)
    row = one(folder, "QP02A001", "n_caf_recipients", 2018, "revn")
    assert math.isnan(row["value"]) and row["flag"] == "empty; NOTE_CNAF=5"
    # an empty cell is missing, never 0
    assert math.isnan(one(folder, "QP002014", "taxed_households_share", 2019, "revn")["value"])
    assert (folder.loc[folder["flag"].fillna("").str.contains("empty"), "value"].isna()).all()


def test_a_territorys_quartiers_are_kept_from_national_files() -> None:
    with pytest.warns(CdvGeoWarning) as record:
        t = read_indicators(REAL, quartiers=soissons())
    messages = [str(w.message) for w in record if "left out" in str(w.message)]
    assert len(messages) == 1 and "codes of other territories left out" in messages[0]
    assert set(t["code"]) == {*SOISSONS, "Ensemble"}


def national_file(path: Path) -> int:
    """A REVN_2019-like national file: the sample rows repeated under generated codes."""
    src = REAL / "REVN_2019.csv"
    text = src.read_bytes().decode("utf-8-sig")
    lines = text.split("\r\n")
    header, body = lines[0], [ln for ln in lines[1:] if ln.startswith("QP")]
    deps = [f"{d:03d}" for d in range(1, 96) if d != 20] + ["02A", "02B"]
    deps += ["971", "972", "973", "974", "976"]
    out = [header, next(ln for ln in lines if ln.startswith("Ensemble"))]
    k = 0
    while len(out) < 1400:
        for dep in deps:
            k += 1
            row = body[k % len(body)].split(";", 1)[1]
            out.append(f"QP{dep}{k % 1000:03d};{row}")
    path.write_bytes(("\ufeff" + "\r\n".join(out) + "\r\n").encode("utf-8"))
    return len(out) - 1


def test_a_national_size_file_loads_with_one_value_per_key(tmp_path) -> None:
    p = tmp_path / "REVN_2019.csv"
    n = national_file(p)
    assert n >= 1300
    t = read_indicators(p)  # (its speed: scripts/bench/bench_inputs.py, budget 2 s)
    assert not t.duplicated(["code", "indicator", "year", "source"]).any()
    assert t["code"].nunique() == n
    for prefix in ("QP02A", "QP02B", "QP971", "QP974", "QP976"):
        assert t["code"].str.startswith(prefix).any(), prefix
    assert (t.loc[t["code"].str.startswith(("QP02A", "QP02B", "QP97")), "level"] == "qpv").all()
    # a territory's quartiers out of it
    q = soissons().assign(code=["QP02A001", "QP974001", "QP002012"])
    present = [c for c in q["code"] if c in set(t["code"])]
    with pytest.warns(CdvGeoWarning, match=r"codes of other territories left out"):
        kept = read_indicators(p, quartiers=q.iloc[[q["code"].tolist().index(present[0])]])
    assert set(kept["code"]) == {present[0], "Ensemble"}


# --- refusals: each names the file and says what to do --------------------------------------------


def test_an_empty_file_is_refused(tmp_path) -> None:
    p = tmp_path / "REVN_2019.csv"
    p.write_bytes(b"\xef\xbb\xbf")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    assert str(p) in str(exc.value) and "the file is empty" in str(exc.value)
    p.write_text("CODGEO;LIBGEO;TP60\r\n")
    with pytest.raises(DataValidationError, match="header but no rows"):
        read_indicators(p)


def test_a_file_without_code_column_is_refused(tmp_path) -> None:
    p = tmp_path / "IPRO_2022.csv"
    p.write_text("QUARTIER;TX_TOT_EMPL\nQP002013;33,3\n")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    msg = str(exc.value)
    assert str(p) in msg and "no code column" in msg and "QUARTIER, TX_TOT_EMPL" in msg
    assert "columns={'<your code column>': 'code'}" in msg
    t = read_indicators(p, columns={"QUARTIER": "code"})
    assert one(t, "QP002013", "employment_rate", 2022, "ipro")["value"] == pytest.approx(0.333)


def test_a_file_of_unknown_columns_is_refused_with_the_mapping_that_fixes_it(tmp_path) -> None:
    p = tmp_path / "mes_quartiers.csv"
    p.write_text("CODGEO;LIBGEO;TAUX_PAUV;REV_MED\nQP002013;Presles;57,0;12210\n")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p, year=2022)
    msg = str(exc.value)
    assert str(p) in msg and "no column is a known indicator" in msg
    assert "CODGEO, LIBGEO, TAUX_PAUV, REV_MED" in msg
    assert "columns={'TAUX_PAUV': '<indicator>', 'REV_MED': '<indicator>'}" in msg
    t = read_indicators(
        p, year=2022, columns={"TAUX_PAUV": "poverty_rate_pct", "REV_MED": "median_income"}
    )
    assert one(t, "QP002013", "poverty_rate", 2022, "table")["value"] == pytest.approx(0.57)
    assert one(t, "QP002013", "median_income", 2022, "table")["value"] == 12210


def test_mixed_vintages_without_a_year_are_refused(tmp_path) -> None:
    p = tmp_path / "revenus.csv"
    p.write_text("CODGEO;DISP_MED_A19;DISP_TP60\nQP002013;12350;57,3\n")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    msg = str(exc.value)
    assert str(p) in msg and "DISP_TP60 carry no vintage while other columns say 2019" in msg
    assert "name the file with its vintage" in msg and "pass year=" in msg
    assert set(read_indicators(p, year=2019)["year"]) == {2019}
    named = tmp_path / "REVN_2021.csv"
    named.write_text("CODGEO;DISP_MED_A19\nQP002013;12350\n")
    with pytest.raises(DataValidationError, match="file name says 2021 but columns say 2019"):
        read_indicators(named)


def test_a_code_twice_for_one_year_within_a_file_is_refused(tmp_path) -> None:
    p = tmp_path / "DEMO_2021.csv"
    p.write_text("CODGEO;POP_MUN\nQP002013;5766\nQP002012;2081\nQP002013;5800\n")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    msg = str(exc.value)
    assert str(p) in msg and "code QP002013 appears on lines 2, 4 for vintage 2021" in msg
    assert "keep one row per code and vintage" in msg


def test_two_files_of_one_source_disagreeing_are_refused(tmp_path) -> None:
    a, b = tmp_path / "DEMO_2021.csv", tmp_path / "data_DEMO_2021_V1_QP.csv"
    a.write_text("CODGEO;POP_MUN\nQP002013;5766\n")
    b.write_text("CODGEO;POP_MUN\nQP002013;5700\n")
    with pytest.raises(DataValidationError) as exc:
        read_indicators(tmp_path)
    msg = str(exc.value)
    assert "DEMO_2021.csv: 5766" in msg and "data_DEMO_2021_V1_QP.csv: 5700" in msg
    assert "source='...'" in msg
    t = read_indicators([a]), read_indicators([b], source="demo_v1")
    both = pd.concat(t, ignore_index=True)
    assert sorted(both["source"]) == ["demo", "demo_v1"]


def test_the_demo_holds_the_real_rows_of_soissons() -> None:
    t = read_indicators(DEMO)
    assert set(t.loc[t["level"] == "qpv", "code"]) == set(SOISSONS)
    assert set(t["year"]) == {2017, 2018, 2019, 2020, 2021, 2022}
    for path in sorted(DEMO.glob("*.csv")):
        shared = SHARED / path.name
        if shared.exists():  # every line of the demo copy is a line of the published file
            published = set(shared.read_bytes().splitlines())
            assert set(path.read_bytes().splitlines()) <= published, path.name
    assert one(t, "QP002013", "population", 2021, "demo")["value"] == 5766
    assert one(t, "QP002013", "poverty_rate", 2022, "revn")["value"] == pytest.approx(0.570)


def test_a_long_table_written_by_cdv_geo_reads_back_the_same(tmp_path, folder) -> None:
    p = tmp_path / "indicators.csv"
    folder.to_csv(p, sep=";", index=False)  # as batch.split writes a territory's rows
    back = read_indicators(p)
    assert len(back) == len(folder)
    for column in ("code", "level", "indicator", "source", "file", "source_column"):
        assert back[column].tolist() == folder[column].tolist(), column
    assert back["flag"].fillna("").tolist() == folder["flag"].fillna("").tolist()
    pd.testing.assert_series_equal(back["value"], folder["value"])


def test_every_canonical_indicator_is_documented() -> None:
    from cdv_geo.io.insee.registry import DERIVED, FAMILY_COLUMNS, FILOSOFI_STEMS

    for name, ind in INDICATORS.items():
        assert ind.name == name and ind.label_fr and ind.label_en and ind.definition, name
        assert ind.columns and ind.source, name  # the published columns it is read from
        assert ind.unit in ("EUR", "fraction", "index", "ratio", "per_10000", "count"), name
        assert bool(ind.derived) == (name in DERIVED), name  # derived ones say so
    mapped = {v[0] for fam in FAMILY_COLUMNS.values() for v in fam.values()}
    mapped |= {v[0] for fam in FILOSOFI_STEMS.values() for v in fam.values()}
    assert mapped <= set(INDICATORS)
    # one naming: disposable income_*, declared declared_income_*
    assert {"income_d1", "declared_income_d1", "income_q1", "declared_income_q1"} <= set(INDICATORS)
    assert not [n for n in INDICATORS if n.startswith(("decuc", "dec_", "disp_"))]
    assert INDICATORS["population"].format(28522) == "28\u202f522"


def test_negative_published_share_is_kept_with_a_note(tmp_path: Path) -> None:
    """REVN_2018 publishes PPAT = -0,1 for QP974044 (La Réunion): read as published (issue 23)."""
    national = Path("/work/shared/real-data/insee-qpv-national/REVN_2018.csv")
    header = (
        "\ufeffCODGEO;LIBGEO;PMIMP;PART_CHOMPRINC;DECUC_Q2;DECUC_Q1;DECUC_Q3;BREV;DECUC_D1;"
        "DECUC_D9;DISP_Q2;DISP_Q1;DISP_Q3;TP60;DISP_D1;DISP_D9;PACT;PPEN;PPSOC;PIMPOT;PPAT;"
        "CCMUC;NOTE_CNAM;A;APRES50;APRES100;APPA;ARSAS;AAAH;NOTE_CNAF;;;\r\n"
    )
    # the published row (national file), and a row with an ordinary PPAT around it
    bagatelle = (
        "QP974044;Bagatelle;;;6\u202f506;2\u202f086;12\u202f652;73,5;0;17\u202f230;11\u202f265;"
        "8\u202f775;15\u202f108;58,6;6\u202f367;18\u202f105;64,3;6,0;35,9;-6,1;-0,1;627;0;398;"
        "235;177;95;197;23;0;;;\r\n"
    )
    presles = bagatelle.replace("QP974044;Bagatelle", "QP002013;Presles").replace("-0,1", "0,4")
    path = tmp_path / "REVN_2018.csv"
    path.write_bytes((header + presles + bagatelle).encode())
    with pytest.warns(CdvGeoWarning, match=r"QP974044 \(Bagatelle\), PPAT = -0\.001"):
        t = read_indicators(path)
    odd = one(t, "QP974044", "property_income_share", 2018, "revn")
    assert odd["value"] == pytest.approx(-0.001)  # -0,1 % as published
    assert odd["flag"].startswith("outside the usual range")
    ok = one(t, "QP002013", "property_income_share", 2018, "revn")
    assert ok["value"] == pytest.approx(0.004) and ok["flag"] is None  # 0 is the limit: 0,4 is in
    # the note is complete: the file, the quartier, the column, the value, what was done
    (note,) = t.attrs["notes"]
    assert note.startswith("REVN_2018.csv: QP974044 (Bagatelle), PPAT = -0.001")
    assert note.endswith("kept as published")
    # the whole national file reads too (it used to be refused), the value kept as published
    if national.is_file():
        with pytest.warns(CdvGeoWarning, match="outside the usual range"):
            full = read_indicators(national)
        assert one(full, "QP974044", "property_income_share", 2018, "revn")["value"] == -0.001
        assert len(full.attrs["notes"]) == 1


def test_negative_share_in_a_long_table_is_kept_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "indicateurs.csv"
    path.write_text(
        "code;indicator;year;value\nQP974044;property_income_share;2018;-0.001\n"
        "QP002013;property_income_share;2018;0.004\n",
        encoding="utf-8",
    )
    with pytest.warns(CdvGeoWarning, match="QP974044"):
        t = read_indicators(path)
    assert t.loc[t["code"] == "QP974044", "value"].item() == -0.001
    assert t.loc[t["code"] == "QP974044", "flag"].item().startswith("outside the usual range")
    assert t.loc[t["code"] == "QP002013", "flag"].isna().all()
    assert len(t.attrs["notes"]) == 1
