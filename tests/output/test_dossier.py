"""The committee dossier (cdv_geo.output.dossier): a PDF of the demo, and of a bare project.

The demo is rendered once per module. Pages are read back with poppler (pdftoppm, pdftotext,
pdffonts); the expected values are formatted here from Metrics.key_figures, by the rules the
dossier documents (counts as integers, shares in whole percent, areas in ha with 2 decimals).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely import box

import cdv_geo
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.output.dossier import (
    FIXED_PAGES,
    THEMES,
    LocalOnlyFetcher,
    build_dossier,
    dossier_html,
)
from cdv_geo.pipeline import compute_metrics
from cdv_geo.territory import Territory

pytestmark = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftoppm, pdftotext, pdffonts) is not installed",
)

DAY = dt.date(2026, 11, 28)
ANNEX_FR = "Glossaire — ce que mesurent les chiffres"


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@functools.cache
def n_pages(pdf: Path) -> int:
    info = _run("pdfinfo", str(pdf))
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def page_text(pdf: Path, page: int) -> str:
    """The text of one page, every run of spaces (narrow, non-breaking...) made one space."""
    text = _run("pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-")
    return re.sub(r"[\s\u202f\u00a0]+", " ", text)


@functools.cache
def running_header(pdf: Path, page: int) -> str:
    """The first line of a page: the running header (territory, then the section's title)."""
    text = _run("pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-")
    first = next((line for line in text.splitlines() if line.strip()), "")
    return re.sub(r"[\s\u202f\u00a0]+", " ", first)


def section_pages(pdf: Path, title: str) -> list[int]:
    """The pages whose running header names the section `title` (a section may take two)."""
    return [p for p in range(1, n_pages(pdf) + 1) if running_header(pdf, p).endswith(title)]


def section_text(pdf: Path, title: str) -> str:
    return " ".join(page_text(pdf, p) for p in section_pages(pdf, title))


def reading_text(pdf: Path, title: str) -> str:
    """The section's text in reading order: a header wrapped in its cell reads whole."""
    text = " ".join(
        _run("pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-")
        for p in section_pages(pdf, title)
    )
    text = re.sub(r"\u2010\s*\n\s*", "", text)  # (WeasyPrint's own hyphens)
    return re.sub(r"[\s\u202f\u00a0]+", " ", text)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Territory, object, Path]:
    territory = cdv_geo.datasets.soissons()
    metrics = compute_metrics(territory)
    out = tmp_path_factory.mktemp("dossier") / "sub" / "dossier.pdf"
    pdf = build_dossier(territory, metrics, out=out, date=DAY)
    return territory, metrics, pdf


@pytest.fixture(scope="module")
def bare_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's layers without any raster or table (no indicators)."""
    src = cdv_geo.datasets.get_path("soissons")
    folder = tmp_path_factory.mktemp("bare")
    text = src.read_text(encoding="utf-8")
    text = text.split("[rasters]")[0]  # the demo lists [rasters] then [tables] last
    text = text.replace('"shapes/', f'"{src.parent.as_posix()}/shapes/')
    project = folder / "project.toml"
    project.write_text(text, encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def bare(bare_project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Territory, Path]:
    from cdv_geo.cli.dossier import dossier

    pdf = tmp_path_factory.mktemp("bare_out") / "bare.pdf"
    result = CliRunner().invoke(dossier, [str(bare_project), "--out", str(pdf)])
    assert result.exit_code == 0, result.output
    assert str(pdf) in result.output
    return Territory.from_file(bare_project), pdf


def test_the_demo_renders_every_page_to_png(demo, tmp_path: Path) -> None:
    _, _, pdf = demo
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == n_pages(pdf)
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)


THEME_TITLES = [
    "Accès à pied aux services",
    "Services : capacité, horaires et commerces",
    "Renaturation",
    "Renouvellement urbain (NPNRU)",
    "Indicateurs socio-économiques",
    "Chaleur et eau",
]


def test_sections_come_in_order_each_on_its_own_pages(demo) -> None:
    territory, _, pdf = demo
    total = n_pages(pdf)
    titles = ["Vue d'ensemble"]
    for c, n in territory.quartiers[["code", "name"]].values:
        # each quartier page, then its compared change (the demo has an [evaluation] section)
        titles += [f"Quartier {n} {c}", f"Évolution comparée — {n} {c}"]
    titles += [*THEME_TITLES, ANNEX_FR]
    spans = [section_pages(pdf, t) for t in titles]
    assert all(spans), [t for t, s in zip(titles, spans, strict=True) if not s]
    # contiguous runs, in order, covering every page after the cover, one or two per section
    flat = [p for s in spans for p in s]
    assert flat == list(range(2, total + 1))
    assert all(len(s) <= 2 for s in spans[:-1])
    assert len(FIXED_PAGES) == 2 and len(THEMES) == 6
    heat = section_text(pdf, "Chaleur et eau")
    # the demo has a heat raster, hydrants and incidents: the page shows them, nothing missing
    assert "Données manquantes" not in heat and "Exposition à la chaleur" in heat


def test_each_quartier_page_names_its_quartier_only(demo) -> None:
    territory, _, pdf = demo
    names = territory.quartiers["name"].tolist()
    for code, name in territory.quartiers[["code", "name"]].values:
        text = section_text(pdf, f"Quartier {name} {code}")
        assert f"Quartier {name}" in text
        others = [n for n in names if n != name and n not in name]
        assert not any(f"Quartier {o} " in text for o in others)


def test_every_font_is_embedded(demo) -> None:
    _, _, pdf = demo
    lines = _run("pdffonts", str(pdf)).splitlines()[2:]
    assert lines, "no font in the PDF"
    for line in lines:
        # name type encoding emb sub uni object ID: emb is the 5th field from the right
        assert line.split()[-5] == "yes", line
    assert any("DejaVu" in line for line in lines)


def _thousands(x: float) -> str:
    return f"{round(x):,}".replace(",", " ")


def test_text_layer_holds_the_key_figures(demo) -> None:
    territory, metrics, pdf = demo
    kf = metrics.key_figures
    for code, name in territory.quartiers[["code", "name"]].values:
        text = section_text(pdf, f"Quartier {name} {code}")
        row = kf.loc[code]
        expected = [
            _thousands(row["n_residents"]),  # residents: 2 081
            f"{round(100 * row['coverage_share'])} %",  # share: 44 %
            f"{row['area_m2'] / 10_000:.2f} ha".replace(".", ","),  # area: 33,09 ha
            _thousands(row["n_trees"]),
            f"{100 * row['impervious_share']:.1f} %".replace(".", ","),
            # the comparison columns: the commune outside the QPV, and the commune
            _thousands(kf.loc["hors_qpv", "n_residents"]),
            _thousands(kf.loc["commune", "n_residents"]),
            f"{100 * kf.loc['commune', 'impervious_share']:.1f} %".replace(".", ","),
        ]
        for value in expected:
            assert value in text, (code, value)
        words = reading_text(pdf, f"Quartier {name} {code}")
        assert "Soissons hors QPV" in words and "Soissons (commune)" in words
    overview = reading_text(pdf, "Vue d'ensemble")
    assert _thousands(kf.loc["qpv", "n_residents"]) in overview
    assert _thousands(kf.loc["commune", "n_residents"]) in overview
    assert "Ensemble des QPV" in overview
    assert all(name in overview for name in territory.quartiers["name"])


def test_cover_names_the_territory_date_sources_and_the_illustrative_mark(demo) -> None:
    territory, _, pdf = demo
    cover = page_text(pdf, 1)
    assert "Contrat de ville — Soissons" in cover
    assert "28 novembre 2026" in cover
    assert "Données illustratives (démonstration)" in cover
    # every layer in words, and no file name
    for name in ("Quartiers prioritaires (QPV)", "Équipements et services", "Rues"):
        assert name in cover
    for kind, gdf in territory.layers().items():
        assert Path(gdf.attrs["source"]).name not in cover, kind
    assert "Carte : imperméabilisation des sols 2024" in cover
    assert "RGF93 v1 / Lambert-93 (EPSG:2154)" in cover


def test_a_project_without_indicators_or_rasters_says_what_is_missing(bare) -> None:
    territory, pdf = bare
    indicators = section_text(pdf, "Indicateurs socio-économiques")
    assert "Données manquantes" in indicators
    assert "indicateurs socio-économiques de l'Insee" in indicators
    renaturation = section_text(pdf, "Renaturation")
    assert "imperméabilisation des sols" in renaturation
    heat = section_text(pdf, "Chaleur et eau")
    assert "Aucune carte de chaleur" in heat
    # each quartier page says it too, in its one box
    for code, name in territory.quartiers[["code", "name"]].values:
        text = section_text(pdf, f"Quartier {name} {code}")
        assert text.count("Données manquantes") == 1
        assert "indicateurs socio-économiques de l'Insee" in text


def test_data_text_is_escaped_and_nothing_remote_is_named() -> None:
    q = gpd.GeoDataFrame(
        {"code": ["QA"], "name": ['<b>Évry</b> & "Co"'], "population": [100]},
        geometry=[box(728_400, 6_920_700, 728_900, 6_921_200)],
        crs=2154,
    )
    territory = Territory('<script>alert("x")</script>', quartiers=q)
    html = dossier_html(territory, date=DAY, lang="en")
    assert "<b>Évry" not in html and "<script>alert" not in html
    assert "&lt;b&gt;Évry&lt;/b&gt; &amp; &quot;Co&quot;" in html
    attrs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert attrs and all(a.startswith(("data:", "#")) for a in attrs)
    assert "url(" not in html
    # the bare territory still has every page, each saying what it misses
    assert html.count('<section class="page theme"') == len(THEMES)
    assert html.count('class="missing"') >= len(THEMES)


def test_the_fetcher_refuses_remote_urls() -> None:
    import weasyprint

    fetcher = LocalOnlyFetcher()
    html = '<p>x</p><img src="https://example.org/tile.png"><img src="http://example.org/a.png">'
    weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    assert fetcher.refused == ["https://example.org/tile.png", "http://example.org/a.png"]


def test_a3_landscape_and_english(demo, tmp_path: Path) -> None:
    territory, metrics, _ = demo
    defs = tmp_path / "defs.md"
    defs.write_text("# Definitions\n\n## Coverage\n\nShare of *residents* within `T`.\n")
    pdf = build_dossier(
        territory,
        metrics,
        out=tmp_path / "wall.pdf",
        paper="a3-landscape",
        lang="en",
        date=DAY,
        definitions=defs,
    )
    info = _run("pdfinfo", str(pdf))
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())  # type: ignore[union-attr]
    assert (round(width), round(height)) == (1191, 842)  # A3 landscape in points
    assert "Quartier " + territory.quartiers["name"].iloc[0] in page_text(pdf, 3)
    assert section_pages(pdf, "Walking access to services")
    last = page_text(pdf, n_pages(pdf))
    assert "Share of residents within T." in last
    assert section_pages(pdf, "Glossary — what the figures measure")


def test_bad_options_are_refused(tmp_path: Path) -> None:
    territory = Territory("T")
    with pytest.raises(CdvGeoError, match="paper"):
        dossier_html(territory, paper="letter")
    with pytest.raises(CdvGeoError, match="lang"):
        build_dossier(territory, out=tmp_path / "x.pdf", lang="de")
    assert not (tmp_path / "x.pdf").exists()
