"""The dossier's services page (issue 25): capacity, opening hours, heat strips, shops.

The page reads the metric functions' results (filled by hand into a Metrics, as the pipeline's
contract says): its cells are the tables' values, its strip's cells the strip table's, every
data text escaped in the HTML and printed as plain text in the PDF; what is missing is said in
the page's "Données manquantes" box, with what to provide, and only then.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cdv_geo.core.labels import fmt_number, fmt_percent
from cdv_geo.output.dossier import build_dossier, dossier_html
from cdv_geo.output.dossier_maps import MapStyle
from cdv_geo.output.dossier_pages import DossierContext
from cdv_geo.output.dossier_services import services_page
from cdv_geo.output.service_figures import DAY_CODES, strip_figure, strip_matrix
from cdv_geo.pipeline import Metrics
from tests.maps.test_escaping import decoded
from tests.views.services_data import EVIL_KIND, service_metrics, territory

DAY = dt.date(2026, 5, 4)
TITLE = "Services : capacité, horaires et commerces"


def _ctx(t: Any, m: Metrics, lang: str = "fr") -> DossierContext:
    codes = [str(c) for c in t.quartiers["code"]]
    names = [str(n) for n in t.quartiers["name"]]
    return DossierContext(
        territory=t, metrics=m, lang=lang, date=DAY, style=MapStyle(), wide=MapStyle(),
        quartiers=list(zip(codes, names, strict=True)),
    )  # fmt: skip


@pytest.fixture(scope="module")
def fixture() -> tuple[Any, Metrics]:
    t = territory()
    return t, service_metrics(t)


def _cells(html: str, first: str, after: str = "") -> list[str]:
    """The cells of the table row whose first cell is `first`, after the heading `after`."""
    html = html[html.index(after) :] if after else html
    row = re.search(rf"<tr><td>{re.escape(first)}</td>(.*?)</tr>", html)
    assert row is not None, first
    return re.findall(r'<td class="num">(.*?)</td>', row.group(1))


def test_the_tables_show_the_metric_values_quartiers_then_comparison_rows(
    fixture: tuple[Any, Metrics],
) -> None:
    t, m = fixture
    html = services_page(_ctx(t, m))
    cap = m.capacity_access
    cells = _cells(html, "Maison de santé")
    want = [cap.loc[(k, "health_centre"), "access_per_10k"] for k in ("QN09901M", "QN09902M")]
    # the quartiers, then all QPV and the town (hors QPV: no home outside the QPV -> a dash)
    assert cells[:2] == [fmt_number(v, "fr", 1) for v in want]
    assert cells[-1] == "—"
    # the column heads: quartier names (the hostile one escaped), then the comparison rows
    head = re.search(r"<thead>(.*?)</thead>", html).group(1)  # type: ignore[union-attr]
    assert "Alpha" in head and "&lt;script&gt;alert(1)&lt;/script&gt;" in head
    hours = m.open_hours.loc[("QN09901M", "school"), "open_hours_week"]
    assert f"{fmt_number(hours, 'fr', 1)}\u00a0h" in _cells(
        html, "École", "Heures d&#x27;ouverture"
    )
    share = m.open_moments.loc[("QN09901M", "school", "wednesday_14h"), "served_share"]
    moments = _cells(html, "École", "moments clés (%) : mercredi 14 h · samedi 10 h")
    assert moments[0].startswith(fmt_number(100 * share, "fr", 0) + " · ")
    retained = m.commercial_catchment.loc["QN09902M", "retained_share"]
    assert _cells(html, "Habitants retenus par leurs centres")[1] == fmt_percent(retained, "fr")
    assert "Luo et Qi 2009" in html and "Huff (1963)" in html and "Limites" in html


def test_every_data_text_is_escaped(fixture: tuple[Any, Metrics]) -> None:
    t, m = fixture
    html = decoded(services_page(_ctx(t, m)))
    for raw in ("<script>alert(1)</script>", "<script>kind</script>", 'onerror="window'):
        assert raw not in html
    assert "&lt;script&gt;kind&lt;/script&gt;" in html  # the kind, shown as given
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the centre and the quartier


def test_the_strip_cells_are_the_table_values(fixture: tuple[Any, Metrics]) -> None:
    _, m = fixture
    strip = m.opening_strip
    mat = strip_matrix(strip, "QN09901M", "school")
    assert mat is not None and mat.shape == (7, 24)
    for d, day in enumerate(DAY_CODES):
        for h in range(24):
            assert mat[d, h] == strip.loc[("QN09901M", "school", day, h), "served_share"]
    # by hand: the school opens Mo, Tu, Th, Fr 08:30-16:30; every home of Alpha reaches it or
    # not, so 9:00-10:00 on Monday is its reaching share, 8:00-9:00 half of it, Wednesday 0
    assert mat[0, 9] > 0 and mat[0, 8] == pytest.approx(mat[0, 9] / 2) and mat[2].max() == 0
    fig = strip_figure(strip, "QN09901M", kinds=["school", EVIL_KIND], lang="fr")
    drawn = np.ma.filled(fig.axes[0].images[0].get_array(), np.nan)
    np.testing.assert_array_equal(drawn, mat)
    assert fig.axes[1].get_title(loc="left") == EVIL_KIND  # (text in a PNG: nothing to escape)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][:2] == ["lun.", "mar."]
    assert strip_matrix(strip, "QN09901M", "library") is None


def test_the_missing_box_says_what_to_provide_and_only_then(fixture: tuple[Any, Metrics]) -> None:
    t, m = fixture
    full = services_page(_ctx(t, m))
    assert "Données manquantes" not in full
    empty = services_page(_ctx(t, Metrics()))
    assert "Données manquantes" in empty
    for words in ("« capacité »", "« horaires »", "couche des commerces"):
        assert words in empty
    assert "<table" not in empty  # nothing computed: no empty table, no chart
    half = Metrics(capacity_access=m.capacity_access)
    page = services_page(_ctx(t, half, "en"))
    assert "“capacity”" not in page and "“horaires”" in page and "shops layer" in page


pdf_tools = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) is not installed",
)


@pdf_tools
def test_the_pdf_prints_the_page_with_clean_text_and_its_glossary(
    fixture: tuple[Any, Metrics], tmp_path: Path
) -> None:
    t, m = fixture
    html = dossier_html(t, m, date=DAY)
    # the page follows the access page, and the contents say so
    assert html.index('id="theme-access"') < html.index('id="theme-services"')
    assert html.index('id="theme-services"') < html.index('id="theme-renaturation"')
    assert '<a href="#theme-services">' in html
    pdf = build_dossier(t, m, out=tmp_path / "d.pdf", date=DAY)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    flat = re.sub(r"[\s\u202f\u00a0]+", " ", text)
    assert TITLE in flat
    # printed as text (a cell may wrap it), never as markup nor entities
    assert "<script>kind</script>" in re.sub(r"\s+", "", text)
    assert "&lt;" not in flat and "&amp;" not in flat
    # the glossary explains the figures shown, with their reference and limits
    assert "Capacité des services à portée de marche (pour 10 000 habitants)" in flat
    assert "Barlet et al. 2012" in flat and "Limites :" in flat
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
    assert len(list(tmp_path.glob("p-*.png"))) >= 5
