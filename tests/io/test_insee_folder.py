"""A folder of INSEE files read whole (issue 23 §2): duplicates by content, values kept as
published with a note, progress, the national REVN files in one call.

Expected values are read here independently (the csv module, pandas.read_csv of the real files).
"""

from __future__ import annotations

import csv
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from cdv_geo import CdvGeoWarning, DataValidationError
from cdv_geo.io.insee import folder as folder_module
from cdv_geo.io.insee import read as read_module
from cdv_geo.io.insee import read_indicators

ROOT = Path(__file__).resolve().parents[2]
NATIONAL = Path("/work/shared/real-data/insee-qpv-national")
DEMO_2017 = ROOT / "data" / "indicators" / "DEMO_2017.csv"
REVN_HEADER = (
    "CODGEO;LIBGEO;PMIMP;PART_CHOMPRINC;DECUC_Q2;DECUC_Q1;DECUC_Q3;BREV;DECUC_D1;DECUC_D9;"
    "DISP_Q2;DISP_Q1;DISP_Q3;TP60;DISP_D1;DISP_D9;PACT;PPEN;PPSOC;PIMPOT;PPAT;CCMUC;NOTE_CNAM;"
    "A;APRES50;APRES100;APPA;ARSAS;AAAH;NOTE_CNAF"
)


def _revn_2018(ppat_974: str = "-0,1") -> bytes:
    """A national-format REVN 2018 file: BOM, CRLF, padding, U+202F, a negative PPAT."""
    pad = ";" * 40
    rows = [
        REVN_HEADER,
        "QP002013;Presles;28,9;7,4;10\u202f250;;;;;;12\u202f120;;;55,4;;;50,1;;;;3,3;"
        "900;0;1\u202f763;;;;577;;0",
        f"QP974044;Bagatelle;12,0;;;;;;;;;;;60,0;;;40,0;;;;{ppat_974};;0;800;;;;400;;0",
        "QP093001;<script>&\"';30,0;;;;;;;;;;;37,8;;;;;;;1,0;;0;;;;;;;0",
    ]
    return ("\ufeff" + "\r\n".join(r + pad for r in rows) + "\r\n").encode()


def _demo_twin(text: str) -> str:
    """``data_DEMO_<year>_V1_QP.csv`` from ``DEMO_<year>.csv``: no LIBGEO, separators, BOM."""
    out = []
    for row in csv.reader(text.lstrip("\ufeff").splitlines(), delimiter=";"):
        while row and not row[-1]:
            row.pop()
        if row:
            del row[1]
            out.append(";".join(c.replace("\u202f", "").replace("\xa0", "") for c in row))
    return "\n".join(out) + "\n"


def _read(target: object, **kw: object) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = read_indicators(target, **kw)  # type: ignore[arg-type]
    return table, [str(w.message) for w in caught if issubclass(w.category, CdvGeoWarning)]


def test_negative_ppat_and_a_duplicated_file_both_read_with_notes(tmp_path: Path) -> None:
    (tmp_path / "REVN_2018.csv").write_bytes(_revn_2018())
    shutil.copy(tmp_path / "REVN_2018.csv", tmp_path / "copie_REVN_2018.csv")  # same bytes
    demo = DEMO_2017.read_bytes().decode("utf-8-sig")
    (tmp_path / "DEMO_2017.csv").write_bytes(DEMO_2017.read_bytes())
    (tmp_path / "data_DEMO_2017_V1_QP.csv").write_text(_demo_twin(demo), encoding="utf-8")
    table, warned = _read(tmp_path)
    # the negative share is kept as published (-0.1 % = -0.001), flagged, and reported
    ppat = table[(table["code"] == "QP974044") & (table["source_column"] == "PPAT")]
    assert len(ppat) == 1
    assert ppat["value"].iloc[0] == pytest.approx(-0.001)
    assert "outside the usual range" in ppat["flag"].iloc[0]
    notes = table.attrs["notes"]
    assert any("QP974044" in n and "PPAT" in n and "kept as published" in n for n in notes)
    # both duplicates are named, in the notes and in one warning; each content read once
    byte_note = next(n for n in notes if "copie_REVN_2018.csv" in n)
    assert "REVN_2018.csv" in byte_note.replace("copie_REVN_2018.csv", "")
    assert "byte for byte" in byte_note
    value_note = next(n for n in notes if "data_DEMO_2017_V1_QP.csv" in n)
    assert "DEMO_2017.csv" in value_note.replace("data_DEMO_2017_V1_QP.csv", "")
    assert "same" in value_note and "values" in value_note
    assert any("copie_REVN_2018.csv" in w and "data_DEMO_2017_V1_QP.csv" in w for w in warned)
    assert not table.duplicated(["code", "indicator", "year", "source"]).any()
    # the rows name both files; the names come from the file that has them
    pop = table[(table["code"] == "QP002013") & (table["indicator"] == "population")]
    assert pop["file"].tolist() == ["DEMO_2017.csv; data_DEMO_2017_V1_QP.csv"]
    assert pop["name"].tolist() == ["Presles"]
    # hostile text in a name is kept as text, never interpreted
    assert set(table.loc[table["code"] == "QP093001", "name"]) == {"<script>&\"'"}


def test_alone_the_same_files_give_the_same_table(tmp_path: Path) -> None:
    (tmp_path / "REVN_2018.csv").write_bytes(_revn_2018())
    alone, _ = _read(tmp_path / "REVN_2018.csv")
    shutil.copy(tmp_path / "REVN_2018.csv", tmp_path / "REVN_2018 - Copie.csv")  # sorts first
    both, _ = _read(tmp_path)
    cols = ["code", "indicator", "year", "value", "flag"]
    pd.testing.assert_frame_equal(alone[cols], both[cols])


def test_same_values_in_another_order_are_a_duplicate(tmp_path: Path) -> None:
    text = _revn_2018().decode("utf-8-sig").split("\r\n")
    (tmp_path / "REVN_2018.csv").write_bytes(_revn_2018())
    # rows in another order, LF endings, no padding: other bytes, the same values
    other = [text[0], text[3], text[1], text[2]]
    (tmp_path / "b_REVN_2018.csv").write_text("\n".join(r.rstrip(";") for r in other) + "\n")
    table, _ = _read(tmp_path)
    assert len(table.attrs["notes"]) == 2  # the duplicate and the negative PPAT
    assert "b_REVN_2018.csv" in table.attrs["notes"][0]


def test_one_value_different_is_not_a_duplicate(tmp_path: Path) -> None:
    (tmp_path / "REVN_2018.csv").write_bytes(_revn_2018())
    (tmp_path / "b_REVN_2018.csv").write_bytes(_revn_2018(ppat_974="-0,2"))
    # not a duplicate: read as two files, and one source giving two values is refused
    with pytest.raises(DataValidationError) as err:
        _read(tmp_path)
    text = str(err.value)
    assert "QP974044" in text and "REVN_2018.csv: -0.001" in text
    assert "b_REVN_2018.csv: -0.002" in text
    # told apart by their source, both are read, and no duplicate is reported
    a, _ = _read(tmp_path / "REVN_2018.csv", source="insee_a")
    b, _ = _read(tmp_path / "b_REVN_2018.csv", source="insee_b")
    table, _ = _read([tmp_path / "REVN_2018.csv"])
    assert not any("same" in n for n in table.attrs["notes"])
    assert len(a) == len(b)


def test_a_byte_copy_is_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each content is parsed once: the reading work grows with the distinct files only."""
    (tmp_path / "REVN_2018.csv").write_bytes(_revn_2018())
    for i in range(5):
        shutil.copy(tmp_path / "REVN_2018.csv", tmp_path / f"copie{i}_REVN_2018.csv")
    calls: list[str] = []
    real = read_module._read_file

    def counting(path: Path, **kw: object) -> pd.DataFrame:
        calls.append(path.name)
        return real(path, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(read_module, "_read_file", counting)
    table, _ = _read(tmp_path)
    assert len(calls) == 1
    assert sum("byte for byte" in n for n in table.attrs["notes"]) == 5


def test_progress_does_not_change_the_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "REVN_2018.csv").write_bytes(_revn_2018())
    shutil.copy(DEMO_2017, tmp_path / "DEMO_2017.csv")
    quiet, _ = _read(tmp_path, progress=False)
    assert "INSEE files" not in capsys.readouterr().err
    shown, _ = _read(tmp_path, progress=True)
    assert "INSEE files" in capsys.readouterr().err  # the tqdm bar, on stderr
    auto, _ = _read(tmp_path)  # None: only on a terminal (not under pytest)
    assert "INSEE files" not in capsys.readouterr().err
    pd.testing.assert_frame_equal(quiet, shown)
    pd.testing.assert_frame_equal(quiet, auto)
    assert quiet.attrs["notes"] == shown.attrs["notes"]


def test_values_digest_sees_one_changed_value() -> None:
    t = pd.DataFrame(
        {
            "code": ["QP002013", "Ensemble"],
            "level": ["qpv", "all_qpv"],
            "indicator": ["population", "population"],
            "year": pd.array([2017, 2017], dtype="Int64"),
            "value": [5766.0, 5019573.0],
            "flag": [None, None],
        }
    )
    d = folder_module.values_digest
    assert d(t) == d(t.iloc[::-1])
    assert d(t) != d(t.assign(value=[5766.0, 5019574.0]))
    assert d(t) != d(t.assign(flag=[None, "s"]))
    assert d(t) != d(t.assign(year=pd.array([2017, 2018], dtype="Int64")))


@pytest.mark.skipif(not NATIONAL.is_dir(), reason="national REVN files not available")
def test_the_national_folder_reads_in_one_call() -> None:
    table, warned = _read(NATIONAL)
    for path in sorted(NATIONAL.glob("REVN_*.csv")):
        year = int(path.stem.split("_")[1])
        raw = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig")
        codes = set(raw["CODGEO"][raw["CODGEO"].str.startswith("QP")])
        got = table[(table["year"] == year) & (table["level"] == "qpv")]
        assert set(got["code"]) == codes  # every QPV of every vintage
        # the poverty rate of each QPV is the file's TP60 / 100
        tp60 = raw.set_index("CODGEO")["TP60"].dropna()
        tp60 = tp60[tp60.index.str.startswith("QP")]
        expected = tp60.str.replace("\u202f", "").str.replace(",", ".").astype(float) / 100
        pov = got[got["indicator"] == "poverty_rate"].set_index("code")["value"]
        assert pov.loc[expected.index].to_numpy() == pytest.approx(expected.to_numpy())
    # the published negative PPAT of REVN_2018 is kept, with its note and warning
    assert any("REVN_2018.csv" in n and "PPAT" in n for n in table.attrs["notes"])
    assert any("kept as published" in w for w in warned)
    assert not table.duplicated(["code", "indicator", "year", "source"]).any()


@pytest.mark.skipif(not NATIONAL.is_dir(), reason="national REVN files not available")
def test_an_extract_and_the_national_file_overlap_once(tmp_path: Path) -> None:
    """Not duplicates (one holds a few rows of the other): the shared values are kept once."""
    extract = Path("/work/shared/real-data/insee-qpv/REVN_2019.csv")
    if not extract.exists():
        pytest.skip("real INSEE extracts not available")
    shutil.copy(extract, tmp_path / "extrait_REVN_2019.csv")
    shutil.copy(NATIONAL / "REVN_2019.csv", tmp_path / "REVN_2019.csv")
    table, _ = _read(tmp_path)
    alone, _ = _read(NATIONAL / "REVN_2019.csv")
    assert len(table) == len(alone)  # every value of the extract is also in the national file
    assert not any("same" in n for n in table.attrs["notes"])  # not reported as a duplicate
    pov = table[(table["code"] == "QP002013") & (table["indicator"] == "poverty_rate")]
    assert pov["file"].tolist() == ["REVN_2019.csv; extrait_REVN_2019.csv"]  # sorted names
    only = table[(table["code"] == "QP001001") & (table["indicator"] == "poverty_rate")]
    assert only["file"].tolist() == ["REVN_2019.csv"]
