"""The printed dossier as a committee reads it: its words, its rows, its escaping.

Two French dossiers are built once for the module: the demo's, and a project with missing data
(no raster, no table, no water play area). Their text (poppler's ``pdftotext``) must hold no
developer text: no Python name, signature, LaTeX, missing-value marker, file path, raw English
reason or doubled word. Every table row of the demo's HTML has its label and its values on one
page, and a long synthetic table with tall rows, printed with the dossier's stylesheet, never
splits a row across a page break.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import Point, box

import cdv_geo
import cdv_geo.output.dossier as dossier_module
from cdv_geo.output.dossier import build_dossier, dossier_html
from cdv_geo.pipeline import compute_metrics
from cdv_geo.territory import Territory

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
    reason="poppler-utils (pdftotext, pdfinfo) is not installed",
)

DAY = dt.date(2026, 11, 28)
HOSTILE = "<img src=x onerror=alert(1)>"

#: Texts that never reach a committee (as plain substrings).
FORBIDDEN = (
    "cdv_geo",
    "def ",
    "->",
    "\\frac",
    "<NA>",
    "/tmp",
    "/work",
    ".py",
    ".gpkg",
    ".geojson",
    ".tif",
    ".toml",
    "Sources : Sources",
    "min min",
    "≤ 5 min ·",
)
#: Words that never reach a committee (as whole words).
FORBIDDEN_WORDS = ("None", "nan", "NaN")
#: Stable English reason texts of the metrics (their words come from the label catalogue).
ENGLISH_REASONS = (
    "no walking coverage",
    "population unknown",
    "no residences layer",
    "only nodata",
    "outside the raster",
    "not computed",
    "no value",
    "Skipped",
)


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def n_pages(pdf: Path) -> int:
    info = _run("pdfinfo", str(pdf))
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def normalise(text: str) -> str:
    """One space for every run of spaces; a word hyphenated at a line end is made whole."""
    text = re.sub(r"[\u2010\u00ad]\s*\n\s*", "", text)  # (WeasyPrint's own hyphens)
    text = re.sub(r"-\s*\n\s*", "-", text)
    return re.sub(r"[\s\u202f\u00a0]+", " ", text).strip()


def pages(pdf: Path) -> list[str]:
    """The text of each page, normalised (reading order, not layout)."""
    return [
        normalise(_run("pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-"))
        for p in range(1, n_pages(pdf) + 1)
    ]


def paragraphs(pdf: Path) -> list[str]:
    """Every text block of every page (a heading, a caption, a cell), normalised.

    The running header (territory, section title) is left out: it repeats the page's title.
    """
    out = []
    for p in range(1, n_pages(pdf) + 1):
        text = _run("pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-")
        blocks = [normalise(b) for b in re.split(r"\n\s*\n", text) if b.strip()]
        out += blocks[2:] if p > 1 else blocks
    return out


def _build(territory: Territory, out: Path, captured: list[object]) -> Path:
    """Build the PDF once, keeping the HTML it printed (no second rendering of the maps)."""
    original = dossier_module.dossier_html

    def keep(*args, **kwargs):  # type: ignore[no-untyped-def]
        document = original(*args, **kwargs)
        captured.append(document)
        return document

    dossier_module.dossier_html = keep
    metrics = compute_metrics(territory)
    captured.append(metrics)
    try:
        return build_dossier(territory, metrics, out=out, date=DAY)
    finally:
        dossier_module.dossier_html = original


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Territory, Path, str, object]:
    territory = cdv_geo.datasets.soissons()
    captured: list[object] = []
    pdf = _build(territory, tmp_path_factory.mktemp("print") / "demo.pdf", captured)
    return territory, pdf, str(captured[1]), captured[0]


@pytest.fixture(scope="module")
def lacking(tmp_path_factory: pytest.TempPathFactory) -> tuple[Territory, Path, str, object]:
    """The demo's layers without rasters, tables nor water play areas."""
    src = cdv_geo.datasets.get_path("soissons")
    folder = tmp_path_factory.mktemp("lacking")
    text = src.read_text(encoding="utf-8").split("[rasters]")[0]
    text = text.replace('"shapes/', f'"{src.parent.as_posix()}/shapes/')
    facilities = json.loads((src.parent / "shapes" / "facilities.geojson").read_text("utf-8"))
    facilities["features"] = [
        f for f in facilities["features"] if f["properties"].get("kind") != "water_play_area"
    ]
    (folder / "facilities.geojson").write_text(json.dumps(facilities), encoding="utf-8")
    text = text.replace(
        f'"{src.parent.as_posix()}/shapes/facilities.geojson"',
        f'"{(folder / "facilities.geojson").as_posix()}"',
    )
    project = folder / "project.toml"
    project.write_text(text, encoding="utf-8")
    territory = Territory.from_file(project)
    assert not territory.rasters and not territory.tables
    assert "water_play_area" not in set(territory.facilities["kind"])
    captured: list[object] = []
    pdf = _build(territory, folder / "lacking.pdf", captured)
    return territory, pdf, str(captured[1]), captured[0]


def _assert_committee_text(pdf: Path, territory: Territory) -> None:
    text = " ".join(pages(pdf))
    for bad in FORBIDDEN:
        assert bad not in text, bad
    for word in FORBIDDEN_WORDS:
        assert not re.search(rf"\b{word}\b", text), word
    for reason in ENGLISH_REASONS:
        assert reason not in text, reason
    code = re.search(r"\b[a-z]+(?:_[a-z0-9]+)+\b", text)  # a column, kind or layer code
    assert code is None, code.group(0) if code else ""
    for block in paragraphs(pdf):
        doubled = re.search(r"\b([^\W\d_]{2,})\s+\1\b", block)
        assert doubled is None, (doubled.group(0), block) if doubled else ""
    assert "Contrat de ville — " + territory.name in text


def test_the_demo_dossier_holds_only_committee_words(demo) -> None:
    territory, pdf, _, _ = demo
    _assert_committee_text(pdf, territory)


def test_the_other_methods_empty_columns_are_no_missing_data(demo) -> None:
    # each method of the compared change leaves the other's columns empty: nothing to provide
    _, pdf, _, _ = demo
    text = " ".join(pages(pdf))
    assert "Évolution comparée" in text and "autre méthode" not in text


def test_a_dossier_with_missing_data_says_what_to_provide_in_words(lacking) -> None:
    territory, pdf, html, _ = lacking
    _assert_committee_text(pdf, territory)
    text = " ".join(pages(pdf))
    assert "Données manquantes" in text
    # the rasters and tables it lacks, in words
    assert "imperméabilisation des sols" in text
    assert "indicateurs socio-économiques de l'Insee" in text
    # one "missing data" box per page at most
    for section in re.findall(r"<section.*?</section>", html, re.S):
        assert section.count('class="missing"') <= 1


def test_no_quartier_page_is_a_list_of_blanks(demo, lacking) -> None:
    for territory, pdf, _, _ in (demo, lacking):
        texts = pages(pdf)
        for name in territory.quartiers["name"]:
            page = next(t for t in texts if f"Quartier {name} QP" in t)
            assert page.count("n.d.") <= 2, name


def test_each_quartier_compares_with_the_commune_outside_qpv_and_the_commune(demo) -> None:
    territory, pdf, _, _ = demo
    texts = pages(pdf)
    town = territory.name
    for name in territory.quartiers["name"]:
        page = next(t for t in texts if f"Quartier {name} QP" in t)
        assert f"{town} hors QPV" in page and f"{town} (commune)" in page


def test_no_column_named_after_the_town_holds_the_quartiers_union(demo) -> None:
    """The union of the quartiers is "Ensemble des QPV"; the town's columns hold the town's."""
    territory, _, html, metrics = demo
    kf = metrics.key_figures
    union = f"{100 * kf.loc['qpv', 'impervious_share']:.1f}".replace(".", ",")
    town = f"{100 * kf.loc['commune', 'impervious_share']:.1f}".replace(".", ",")
    assert union != town
    for table in re.findall(r"<table.*?</table>", html, re.S):
        head = [htmllib.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table)]
        for tr in re.findall(r"<tbody>.*?</tbody>", table, re.S):
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", tr, re.S):
                cells = [htmllib.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
                if not cells or not cells[0].startswith("Surface imperméabilisée"):
                    continue
                for title, cell in zip(head, cells, strict=False):
                    if title.startswith(territory.name):
                        assert not cell.startswith(union + "\u00a0%"), (title, cell)
                    if title == "Ensemble des QPV":
                        assert cell.startswith(union), cell


def _table_rows(html: str) -> list[list[str]]:
    rows = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", html, re.S):
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
            cells = [htmllib.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            rows.append([normalise(c) for c in cells])
    return rows


def test_every_table_row_of_the_demo_has_its_label_and_values_on_one_page(demo) -> None:
    _, pdf, html, _ = demo
    texts = pages(pdf)
    # values compared without spaces: poppler may drop a narrow space between close glyphs
    squeezed = [re.sub(r"\s", "", t) for t in texts]
    checked = 0
    for cells in _table_rows(html):
        # the label: the first cell with a letter (a rank or a code may come first)
        first = next((i for i, c in enumerate(cells) if re.search(r"[^\W\d_]", c)), None)
        if first is None:
            continue
        values = [re.sub(r"\s", "", c) for c in cells[first + 1 :] if c and c != "—"]
        if not values:
            continue
        # a label may wrap (or be hyphenated) in its cell, and poppler reads the row's values
        # before the label's second line: the label is found by its first letters
        head = re.sub(r"\s", "", cells[first])[:6]
        holding = [i for i, t in enumerate(squeezed) if head in t]
        assert holding, cells[first]
        assert any(all(v in squeezed[i] for v in values) for i in holding), cells
        checked += 1
    assert checked > 100


def test_no_word_runs_off_the_page(demo, lacking) -> None:
    """Every word lies inside the page's side margins (14 mm; 20 pt of slack kept)."""
    for _, pdf, _, _ in (demo, lacking):
        boxes = _run("pdftotext", "-bbox", str(pdf), "-")
        for page_match in re.finditer(r'<page width="([\d.]+)"(.*?)</page>', boxes, re.S):
            width = float(page_match.group(1))
            for x_min, x_max, word in re.findall(
                r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)</word>',
                page_match.group(2),
            ):
                assert float(x_min) >= 20 and float(x_max) <= width - 20, (pdf.name, word)


def test_a_long_table_of_tall_rows_never_splits_a_row(tmp_path: Path) -> None:
    import weasyprint

    sheet = Path(dossier_module.__file__).parent / "templates" / "dossier.css"
    css = weasyprint.CSS(filename=str(sheet))
    long = "une étiquette assez longue pour tenir sur plusieurs lignes de la colonne " * 2
    body = "".join(
        f"<tr><td>Ligne {i:03d} {long}</td><td class='num'>valeur-{i:03d}</td></tr>"
        for i in range(160)
    )
    document = (
        "<html><body><section class='page'><table class='data keyfig'><thead><tr>"
        f"<th>Indicateur</th><th class='num'>Quartier</th></tr></thead><tbody>{body}</tbody>"
        "</table></section></body></html>"
    )
    pdf = tmp_path / "long.pdf"
    weasyprint.HTML(string=document).write_pdf(pdf, stylesheets=[css])
    texts = pages(pdf)
    assert len(texts) > 3  # the table does cross page breaks
    for i in range(160):
        label_pages = {p for p, t in enumerate(texts) if f"Ligne {i:03d} " in t}
        value_pages = {p for p, t in enumerate(texts) if f"valeur-{i:03d}" in t}
        assert len(label_pages) == 1 and label_pages == value_pages, i


def test_hostile_names_and_kinds_reach_the_dossier_escaped() -> None:
    q = gpd.GeoDataFrame(
        {"code": ["QA", "QB"], "name": [HOSTILE, "Nord"], "population": [100, 200]},
        geometry=[
            box(728_400, 6_920_700, 728_900, 6_921_200),
            box(729_000, 6_920_700, 729_500, 6_921_200),
        ],
        crs=2154,
    )
    f = gpd.GeoDataFrame(
        {"name": [HOSTILE, "École"], "kind": [HOSTILE, "school"]},
        geometry=[Point(728_500, 6_920_800), Point(729_100, 6_920_800)],
        crs=2154,
    )
    territory = Territory(HOSTILE, quartiers=q, facilities=f)
    document = dossier_html(territory, date=DAY)
    assert "<img src=x" not in document
    assert "onerror=alert(1)>" not in document
    assert "&lt;img src=x onerror=alert(1)&gt;" in document
    # the only <img> tags are the dossier's own data: images
    assert all(
        tag.startswith('<img class="') and 'src="data:image/png;base64,' in tag
        for tag in re.findall(r"<img[^>]*>", document)
    )
