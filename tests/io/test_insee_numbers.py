"""io/insee: the numbers read straight from the CSV (pandas' C parser) and the text read only
where needed (issue 23, speed), checked against values written by hand.

Large files (more than the 30 rows made text before the header is found) take the fast path:
these tests build such files, with the cells that must leave it (secrecy codes, ``%``, a space
as thousands separator, a decimal point, ``nan``/``inf`` text, whitespace-only cells, hostile
text), and check every value, flag, name and message by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdv_geo import DataValidationError
from cdv_geo.io.insee import read_indicators
from cdv_geo.io.insee.cells import EMPTY_FLAG, read_grid, read_numbers
from cdv_geo.io.insee.derived import derived_rows
from cdv_geo.io.insee.folder import fill_names

HOSTILE = "<script>&\"'"
QUOTED = '"<script>&""\''  # HOSTILE as a CSV cell: quoted, its quote doubled


def _write(path: Path, rows: list[str], *, eol: str = "\r\n", pad: int = 0) -> Path:
    path.write_bytes(("\ufeff" + eol.join(r + ";" * pad for r in rows) + eol).encode())
    return path


def _one(table: pd.DataFrame, code: str, indicator: str) -> pd.Series:
    sel = table[(table["code"] == code) & (table["indicator"] == indicator)]
    assert len(sel) == 1, (code, indicator, sel)
    return sel.iloc[0]


def test_fast_path_values_flags_and_names_by_hand(tmp_path) -> None:
    rows = ["CODGEO;LIBGEO;TP60;A;ARSAS;XTRA;NOTE_CNAF"]
    for i in range(40):
        rows.append(f"QP{i:06d};Quartier {i};{10 + i},5;1\u202f{i:03d};{100 + i};{i};0")
    rows[5] = "QP000004;Quartier 4;;1\u202f004;s;4;0"  # an empty cell, a secrecy code
    rows[40] = f'QP000039;{QUOTED}";49,5;1\u202f039;139;39;1'  # a note, a hostile name
    p = _write(tmp_path / "REVN_2019.csv", rows, pad=150)
    fast = read_grid(p, ["codgeo"], head=30)
    assert fast.text is not None and len(fast.cells) == 30  # the fast path, not read whole
    t = read_indicators(p)
    r = _one(t, "QP000010", "poverty_rate")
    assert r["value"] == pytest.approx(0.205) and r["flag"] is None and r["year"] == 2019
    assert _one(t, "QP000010", "n_caf_recipients")["value"] == 1010.0
    assert _one(t, "QP000010", "n_rsa_recipients")["value"] == 110.0
    assert _one(t, "QP000010", "rsa_share")["value"] == pytest.approx(110 / 1010)
    assert _one(t, "QP000010", "xtra")["value"] == 10.0
    assert _one(t, "QP000010", "n_rsa_recipients")["name"] == "Quartier 10"
    empty = _one(t, "QP000004", "poverty_rate")
    assert np.isnan(empty["value"]) and empty["flag"] == EMPTY_FLAG
    secret = _one(t, "QP000004", "n_rsa_recipients")
    assert np.isnan(secret["value"]) and secret["flag"] == "s"
    # the secret column left the fast path; its other cells are read alike
    assert _one(t, "QP000005", "n_rsa_recipients")["value"] == 105.0
    noted = _one(t, "QP000039", "n_caf_recipients")
    assert noted["value"] == 1039.0 and noted["flag"] == "NOTE_CNAF=1"
    assert noted["name"] == HOSTILE
    assert len(t[t["code"] == "QP000020"]) == 5  # 4 published values + rsa_share


def test_fast_path_after_title_lines_keeps_line_numbers(tmp_path) -> None:
    rows = ["Titre du fichier;;", "", "CODGEO;LIBGEO;TP60;A"]
    rows += [f"QP{i:06d};Q{i};{i},25;{i}" for i in range(40)]
    rows[3 + 35] = "QP000035;Q35;x1,5;35"  # line 39 of the file
    p = _write(tmp_path / "REVN_2020.csv", rows, pad=50)
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    msg = str(exc.value)
    assert "'x1,5' is neither a number nor a secrecy code" in msg
    assert "QP000035 (line 39)" in msg and "TP60" in msg


def test_value_above_its_limit_is_quoted_as_published(tmp_path) -> None:
    rows = ["CODGEO;DISP_TP60_A21;DISP_MED_A21"]
    rows += [f"QN{i:05d}M;{i % 90},5;1\u202f300" for i in range(40)]
    rows[31] = "QN00030M;104,2;13\u202f000"  # line 32
    p = _write(tmp_path / "bad.csv", rows)
    with pytest.raises(DataValidationError) as exc:
        read_indicators(p)
    msg = str(exc.value)
    assert "'104,2' is a percentage above 100" in msg and "QN00030M (line 32)" in msg


@pytest.mark.parametrize(
    ("cell", "value", "flag_"),
    [
        ("5%", 5.0, None),
        ("1 234", 1234.0, None),
        ("12.5", 12.5, None),
        (" 7,5 ", 7.5, None),
        ("   ", float("nan"), EMPTY_FLAG),
        ("nd", float("nan"), "nd"),
        ("NS", float("nan"), "ns"),
    ],
)
def test_cells_leaving_the_fast_path_read_as_by_hand(tmp_path, cell, value, flag_) -> None:
    rows = ["CODGEO;LIBGEO;A"] + [f"QP{i:06d};Q{i};{i}" for i in range(40)]
    rows[21] = f"QP000020;Q20;{cell}"
    t = read_indicators(_write(tmp_path / "REVN_2019.csv", rows))
    got = _one(t, "QP000020", "n_caf_recipients")
    if np.isnan(value):
        assert np.isnan(got["value"])
    else:
        assert got["value"] == value
    assert got["flag"] == flag_
    assert _one(t, "QP000021", "n_caf_recipients")["value"] == 21.0


@pytest.mark.parametrize("cell", ["nan", "inf", "-inf", HOSTILE])
def test_text_that_the_c_parser_could_take_for_a_number_is_refused(tmp_path, cell) -> None:
    rows = ["CODGEO;LIBGEO;A"] + [f"QP{i:06d};Q{i};{i}" for i in range(40)]
    rows[21] = f"QP000020;Q20;{cell}"
    with pytest.raises(DataValidationError, match=r"QP000020 \(line 22\)"):
        read_indicators(_write(tmp_path / "REVN_2019.csv", rows))


def test_read_numbers_returns_only_clean_columns(tmp_path) -> None:
    rows = ["CODGEO;A;B;C;D;E"]
    rows += [f'QP{i:06d};1\u202f{i:03d};{i},5;s;{QUOTED}";{i}' for i in range(3)]
    rows.append("QP000003;;;;")  # a short row: its last cells are empty
    rows_ = read_grid(_write(tmp_path / "t.csv", rows), ["codgeo"], head=2)
    got = read_numbers(rows_, 1, [1, 2, 3, 4, 5])
    assert sorted(got) == [1, 2, 5]
    v, f, bad = got[1]
    assert v[:3].tolist() == [1000.0, 1001.0, 1002.0] and np.isnan(v[3])
    assert f.tolist() == [None, None, None, EMPTY_FLAG] and not bad.any()
    assert got[2][0][:3].tolist() == [0.5, 1.5, 2.5]
    assert got[5][1][3] == EMPTY_FLAG


def test_grid_reads_only_the_columns_asked(tmp_path) -> None:
    rows = ["CODGEO;LIBGEO;A"] + [f'QP{i:06d};{QUOTED}{i}";{i}' for i in range(5)]
    r = read_grid(_write(tmp_path / "t.csv", rows, pad=20), ["codgeo"], head=2)
    assert r.cells.tolist() == [["CODGEO", "LIBGEO", "A"], ["QP000000", f"{HOSTILE}0", "0"]]
    assert r.lines == [1, 2, 3, 4, 5, 6]
    g = r.grid([1])
    assert g[:, 1].tolist() == ["LIBGEO"] + [f"{HOSTILE}{i}" for i in range(5)]
    assert set(g[:, [0, 2]].ravel()) == {""}
    full = r.grid()
    assert full[4].tolist() == ["QP000003", f"{HOSTILE}3", "3"]


def test_lone_carriage_returns_are_read_whole(tmp_path) -> None:
    p = tmp_path / "REVN_2019.csv"
    rows = ["CODGEO;LIBGEO;A"] + [f"QP{i:06d};Q{i};{i}" for i in range(40)]
    p.write_bytes("\r".join(rows).encode())
    t = read_indicators(p)
    assert _one(t, "QP000039", "n_caf_recipients")["value"] == 39.0
    assert len(t) == 40


def test_fast_and_small_paths_agree(tmp_path) -> None:
    body = [f"QP{i:06d};Q{i};{i % 97},{i % 10};1\u202f{i:03d};{i};{i % 3}" for i in range(60)]
    body[7] = "QP000007;Q7;;s;7;0"
    head = "CODGEO;LIBGEO;TP60;A;ARSAS;NOTE_CNAF"
    big = read_indicators(_write(tmp_path / "REVN_2019.csv", [head, *body], pad=30))
    parts = [
        read_indicators(_write(tmp_path / f"p{k}" / "REVN_2019.csv", [head, *body[k : k + 20]]))
        for k in (0, 20, 40)
        if (tmp_path / f"p{k}").mkdir() is None
    ]
    small = pd.concat(parts, ignore_index=True)
    key = ["code", "indicator"]
    a = big.sort_values(key).reset_index(drop=True)
    b = small.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a.drop(columns="file"), b.drop(columns="file"))


def test_fill_names_takes_each_codes_first_name() -> None:
    t = pd.DataFrame(
        {
            "code": ["A", "A", "B", "A", "C", "C"],
            "name": [None, "x", None, None, "z", None],
        },
        dtype=object,
    )
    assert fill_names(t).tolist() == ["x", "x", None, "x", "z", "z"]


def test_derived_rows_skip_published_shares_and_divide_by_last_count() -> None:
    def o(*v: object) -> np.ndarray:
        return np.array(v, dtype=object)

    data = {
        "code": o("Q1", "Q1", "Q2", "Q2", "Q2", "Q3", "Q3"),
        "name": o(None, None, None, None, None, None, None),
        "level": o(*["qpv"] * 7),
        "indicator": o(
            "n_rsa_recipients",
            "n_caf_recipients",
            "n_rsa_recipients",
            "n_caf_recipients",
            "rsa_share",
            "n_rsa_recipients",
            "n_caf_recipients",
        ),
        "year": np.array([2019.0] * 7),
        "value": np.array([10.0, 40.0, 5.0, 50.0, 0.2, 3.0, 0.0]),
        "flag": o(*[None] * 7),
        "source": o(*["revn"] * 7),
        "file": o(*["f"] * 7),
        "source_column": o("ARSAS", "A", "ARSAS", "A", "X", "ARSAS", "A"),
    }
    out = [r for r in derived_rows(data) if r["indicator"][0] == "rsa_share"]
    assert len(out) == 1
    r = out[0]
    assert r["code"].tolist() == ["Q1", "Q3"]  # Q2 publishes its share
    assert r["value"][0] == 0.25 and np.isnan(r["value"][1])  # 10 / 40; a zero count: NaN
    assert r["flag"].tolist() == ["derived", "derived; missing input"]
