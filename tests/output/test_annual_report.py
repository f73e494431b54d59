"""The annual politique de la ville report of the demo: pages, language, figures, escaping.

The figures are checked against the tables they come from, computed here independently of the
report (the ledger and TFPB functions called on the project's tables) and formatted with
:func:`cdv_geo.core.labels.fmt_number`; the text is extracted with pdftotext.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image
from shapely import box

import cdv_geo as cg
from cdv_geo import Territory
from cdv_geo.core.labels import fmt_number, fmt_percent
from cdv_geo.core.rows import row_label
from cdv_geo.metrics.ledger import ledger, ledger_by
from cdv_geo.metrics.tfpb import tfpb_balance
from cdv_geo.output.annual_report import REPORT_OUTPUTS, annual_report_html, build_annual_report
from cdv_geo.pipeline import Metrics, compute_metrics

YEAR = 2024
pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="needs poppler (pdftotext, pdftoppm)",
)


def _plain(text: str) -> str:
    """The text with its no-break spaces as spaces, one space between words and before €."""
    # (pdftotext may drop the no-break space of a short amount: "0€")
    return re.sub(r" ?€", " €", re.sub(r"[ \u00a0\u202f]+", " ", text))


@pytest.fixture(scope="module")
def demo() -> tuple[Territory, Metrics]:
    t = cg.datasets.soissons()
    return t, compute_metrics(t, only=REPORT_OUTPUTS)


@pytest.fixture(scope="module")
def report_fr(demo: tuple[Territory, Metrics], tmp_path_factory: pytest.TempPathFactory) -> Path:
    t, m = demo
    out = tmp_path_factory.mktemp("ar_fr")
    return build_annual_report(t, out, year=YEAR, metrics=m)["pdf"]


def _text(pdf: Path) -> str:
    res = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return res.stdout


def test_pages_as_png(report_fr: Path, tmp_path: Path) -> None:
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(report_fr), str(tmp_path / "p")], check=True
    )
    pages = sorted(tmp_path.glob("p-*.png"))
    # cover, situation, actions (+ map), TFPB, renewal, prospects
    assert len(pages) >= 6
    for png in pages:
        ink = np.asarray(Image.open(png).convert("L")) < 200
        assert ink.mean() > 0.002, f"{png.name} is blank"


def test_french_text_has_no_code_nor_english(report_fr: Path) -> None:
    text = _text(report_fr)
    for raw in ("_", "<NA>", "cdv_geo", "/tmp", "QP0020", "Traceback", "{", "€/"):
        assert raw not in text, raw
    for word in ("None", "nan", "NaN", "True", "False"):
        assert not re.search(rf"\b{word}\b", text), word
    for english in (" the ", "Amount", "Funder", "Landlord", "priority", "Actions located"):
        assert english not in text, english
    for section in ("situation des quartiers", "actions menées", "TFPB", "renouvellement urbain"):
        assert section in text
    assert "Perspectives et orientations du conseil" in text
    assert "Données illustratives" in text


def test_ledger_figures_equal_the_ledger(demo: tuple[Territory, Metrics], report_fr: Path) -> None:
    t, m = demo
    q, c = t.metric("quartiers"), t.metric("communes")
    led = ledger(t.table("actions"), q, communes=c, population=m.population, year=YEAR)
    lines = _plain(_text(report_fr)).splitlines()
    names = dict(zip(q["code"], q["name"], strict=True))
    for key, r in led.iterrows():
        name = names.get(key) or row_label(key, town="Soissons", lang="fr")
        expected = [
            fmt_number(r["n_actions"], "fr"),
            fmt_number(r["amount_eur"], "fr") + " €",
            fmt_number(r["amount_per_inhabitant_eur"], "fr") + " €",
        ]
        line = next(x for x in lines if x.strip().startswith(name + " ") and "€" in x)
        got = _plain(line)
        pos = 0
        for figure in map(_plain, expected):
            found = got.find(figure, pos)
            assert found >= 0, (name, figure, got)
            pos = found + len(figure)


def test_pillar_and_funder_totals_equal_ledger_by(
    demo: tuple[Territory, Metrics], report_fr: Path
) -> None:
    t, _ = demo
    q, c = t.metric("quartiers"), t.metric("communes")
    text = _plain(_text(report_fr))
    funders = ledger_by(t.table("actions"), q, "funder", communes=c, year=YEAR).xs("qpv")
    for funder, r in funders[funders["n_actions"] > 0].iterrows():
        pattern = (
            rf"{re.escape(str(funder))} +{r['n_actions']} +{_plain(fmt_number(r['amount_eur']))} €"
        )
        assert re.search(pattern, text), pattern
    # the pillars' euros add up to the qpv row of the ledger
    pillars = ledger_by(t.table("actions"), q, "pillar", communes=c, year=YEAR).xs("qpv")
    led = ledger(t.table("actions"), q, communes=c, year=YEAR)
    assert pillars["amount_eur"].sum() == pytest.approx(led.loc["qpv", "amount_eur"])


def test_tfpb_figures_equal_the_balance(demo: tuple[Territory, Metrics], report_fr: Path) -> None:
    t, _ = demo
    bal = tfpb_balance(t.table("tfpb"), t.metric("quartiers"), year=YEAR)
    text = _plain(_text(report_fr))
    for _, r in bal.iterrows():
        figures = [
            fmt_number(r[k]) + " €" for k in ("abatement_eur", "counterparts_eur", "balance_eur")
        ]
        figures.append(fmt_percent(r["spent_ratio"]))
        pattern = " +".join(re.escape(_plain(f)) for f in figures)
        assert re.search(pattern, text), pattern


def test_english_report(demo: tuple[Territory, Metrics]) -> None:
    t, m = demo
    html = annual_report_html(t, m, year=YEAR, lang="en")
    assert "Annual report on the implementation" in html
    assert "All priority neighbourhoods" in html and "TFPB abatement" in html
    for french in ("Montant", "Bailleur (", "Financeur", "Perspectives"):
        assert french not in html, french


def _small_territory(tmp_path: Path, *, with_tables: bool) -> Territory:
    q = gpd.GeoDataFrame(
        {"code": ["Q1"], "name": ["Nord"], "population": [100]},
        geometry=[box(700_000, 6_900_000, 700_100, 6_900_100)],
        crs=2154,
    )
    tables = {}
    if with_tables:
        f = tmp_path / "actions.csv"
        f.write_text(
            "Intitulé;Pilier;Quartier;Année;Financement État\n"
            "<script>alert(1)</script>;Jeunesse;;2024;1 000 €\n"
            "Fête & <b>bal</b>;Jeunesse;Nord;2024;2 000 €\n",
            encoding="utf-8",
        )
        tables["actions"] = f
    return Territory("Testville", quartiers=q, tables=tables)


def test_every_data_text_is_escaped(tmp_path: Path) -> None:
    t = _small_territory(tmp_path, with_tables=True)
    m = compute_metrics(t, only=REPORT_OUTPUTS)
    html = annual_report_html(t, m, year=YEAR, prospects="Plus de <i>moyens</i> & d'écoute")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bal</b>" not in html and "<i>moyens</i>" not in html
    assert "Plus de &lt;i&gt;moyens&lt;/i&gt; &amp; d" in html


def test_missing_tables_say_what_to_provide(tmp_path: Path) -> None:
    t = _small_territory(tmp_path, with_tables=False)
    html = annual_report_html(t, compute_metrics(t, only=REPORT_OUTPUTS), year=YEAR)
    assert "Aucun tableau des actions" in html and "Aucun bilan de TFPB" in html
    assert "À rédiger" in html  # (no prospects in a territory without project file)


def test_a_year_without_funding_prints_zero_not_the_other_years(
    demo: tuple[Territory, Metrics], tmp_path: Path
) -> None:
    # the demo's funding lines are all of 2024; its TFPB statement covers 2023 and 2024
    t, m = demo
    pdf = build_annual_report(t, tmp_path, year=2023, metrics=m)["pdf"]
    text = _plain(_text(pdf))
    assert "Aucune action n'a de financement en 2023." in text
    assert re.search(r"Ensemble des QPV +\d+ +0 € +0 €", text)
    bal = tfpb_balance(t.table("tfpb"), t.metric("quartiers"), year=2023)
    assert set(bal.index.get_level_values("year")) == {2023}
    for _, r in bal.iterrows():
        assert _plain(fmt_number(r["abatement_eur"]) + " €") in text
    later = tfpb_balance(t.table("tfpb"), t.metric("quartiers"), year=YEAR)
    assert _plain(fmt_number(later["abatement_eur"].max()) + " €") not in text
