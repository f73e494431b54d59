"""The "Évolution comparée" charts and dossier page: axes, lines, words (pdftotext), no raw keys.

The chart is checked on the matplotlib figure it draws (what it would save), against the path
rows given by hand; the page is printed to PDF with WeasyPrint and its text read with pdftotext.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

import cdv_geo.output.evaluation_figures as ef
from cdv_geo import Territory
from cdv_geo.output.dossier_maps import MapStyle
from cdv_geo.output.dossier_pages import DossierContext
from cdv_geo.output.glossary import glossary_html
from cdv_geo.pipeline import Metrics
from cdv_geo.pipeline.evaluation import EVALUATION_COLUMNS

PATHS = pd.DataFrame(
    {
        "quartier": "QP1",
        "indicator": ["poverty_rate"] * 4 + ["median_income"] * 4,
        "year": [2017, 2018, 2019, 2021] * 2,
        "treated": [0.52, 0.53, 0.52, 0.51, 12000, 12100, 12300, 12500],
        "synthetic": [0.52, 0.53, 0.52, 0.54, 12000, 12100, 12300, 12400],
        "band_low": [0.51, 0.52, 0.51, 0.49, 11900, 12000, 12200, 12100],
        "band_high": [0.53, 0.54, 0.53, 0.58, 12100, 12200, 12400, 12800],
        "post": [False, False, False, True] * 2,
    }
)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    figures: list[Any] = []
    monkeypatch.setattr(ef, "figure_png", lambda fig, dpi=0: figures.append(fig) or b"png")
    return figures


def test_share_chart_from_zero_in_percent(drawn: list[Any]) -> None:
    assert ef.evaluation_chart(PATHS, "QP1", "poverty_rate", 2021) == b"png"
    ax = drawn[0].axes[0]
    assert ax.get_ylim()[0] == 0  # a share from 0: a 1-point change is a 1-point change
    lines = {
        tuple(np.round(line.get_ydata(), 6))
        for line in ax.get_lines()
        if len(line.get_ydata()) == 4
    }
    assert (52.0, 53.0, 52.0, 51.0) in lines  # the quartier, in percent
    assert (52.0, 53.0, 52.0, 54.0) in lines  # its twin
    assert "(%)" in ax.get_title(loc="left")


def test_income_chart_not_forced_to_zero(drawn: list[Any]) -> None:
    ef.evaluation_chart(PATHS, "QP1", "median_income", 2021, lang="en")
    ax = drawn[0].axes[0]
    assert ax.get_ylim()[0] > 10000  # euros: the axis follows the values
    assert "(€)" in ax.get_title(loc="left") and "Median" in ax.get_title(loc="left")


def test_nothing_to_draw() -> None:
    assert ef.evaluation_chart(PATHS, "QP2", "poverty_rate", 2021) is None
    assert ef.evaluation_chart(PATHS, "QP1", "gini", 2021) is None


def test_result_cells_print_a_probability_only_when_given() -> None:
    base = {"method": "synthetic_control", "indicator": "poverty_rate", "estimate": -0.02,
            "ci_low": np.nan, "ci_high": np.nan}  # fmt: skip
    given = ef.result_cells({**base, "p_value": 0.05, "verdict": "better"})
    assert given == ["-2,0 pt (p = 0,05)", "mieux que sa situation contrefactuelle"]
    refused = ef.result_cells({**base, "p_value": np.nan, "verdict": "cannot_conclude"}, "en")
    assert refused == ["-2.0 pt", "cannot conclude"]


def _metrics() -> Metrics:
    rows = []
    for method, verdict, reason in (
        ("did", "no_detectable_difference", None),
        ("synthetic_control", "cannot_conclude", "pre_period_too_short"),
    ):
        row = dict.fromkeys(EVALUATION_COLUMNS, np.nan)
        row.update(quartier="QP1", name="Presles", indicator="poverty_rate", method=method)
        row.update(intervention_year=2021, estimate=0.011, verdict=verdict, reason=reason)
        if method == "did":
            row.update(ci_low=-0.033, ci_high=0.05, p_value=0.84)
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs.update(paths=PATHS, illustrative=True, vintages=[2017, 2022])
    return Metrics(evaluation=table)


def _page(lang: str, tmp_path: Path) -> tuple[str, str, DossierContext]:
    q = gpd.GeoDataFrame({"code": ["QP1"], "name": ["Presles"]}, geometry=[box(0, 0, 1, 1)],
                         crs=2154)  # fmt: skip
    style = MapStyle(size=(7.0, 5.0), legend_share=0.3, fontsize=7, lang=lang)
    ctx = DossierContext(
        territory=Territory("Soissons", quartiers=q), metrics=_metrics(), lang=lang,
        date=dt.date(2026, 12, 7), style=style, wide=style,
    )  # fmt: skip
    html = ef.evaluation_page(ctx, "QP1", "Presles", "q-0-eval")
    from weasyprint import HTML

    pdf = tmp_path / f"page_{lang}.pdf"
    # a wide page: the words of a cell stay on one line of the extracted text
    style_tag = "<style>@page { size: A3 landscape }</style>"
    HTML(string=f'<html lang="{lang}">{style_tag}<body>{html}</body></html>').write_pdf(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    return html, " ".join(text.split()), ctx


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler (pdftotext)")
@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", ["Évolution comparée", "pas de différence décelable", "impossible de conclure",
                "Différence de différences", "Contrôle synthétique", "trop peu d'années",
                "illustrative", "Source : Insee"]),
        ("en", ["Compared change", "no detectable difference", "cannot conclude",
                "Difference-in-differences", "Synthetic control", "too few years",
                "Illustrative", "Source: Insee"]),
    ],
)  # fmt: skip
def test_page_text_holds_verdicts_and_no_raw_keys(
    lang: str, words: list[str], tmp_path: Path
) -> None:
    html, text, ctx = _page(lang, tmp_path)
    for w in words:
        assert w in text, w
    for raw in ("cannot_conclude", "pre_period_too_short", "synthetic_control", "poverty_rate",
                "no_detectable", "eval_", "verdict_", "nan", "None"):  # fmt: skip
        assert raw not in text, raw
    assert html.count("<img") == 1  # a chart per indicator of the table (one here)
    # the page asks the glossary to explain both methods
    glossary = glossary_html(ctx.shown, town="Soissons", lang=lang)
    assert ("Hypothèse" if lang == "fr" else "Assumption") in glossary


def test_no_evaluation_no_page() -> None:
    ctx = DossierContext(territory=Territory("T"), metrics=Metrics(), lang="fr",
                         date=dt.date(2026, 1, 1), style=None, wide=None)  # type: ignore[arg-type]  # fmt: skip
    assert ef.evaluation_page(ctx, "QP1", "A", "x") == ""
