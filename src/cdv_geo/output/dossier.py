"""The committee dossier: one PDF for the steering committee, from the same metrics as the pack.

:func:`build_dossier` prints, with WeasyPrint, an A4 (or A3 landscape, for wall maps) PDF:

1. a cover: the territory, the date, the contents, the data sources and the "illustrative
   data" mark where it applies (a layer whose ``source`` says so, or an illustrative territory;
   indicators read from INSEE files are marked official);
2. an overview: the territory's map and the key figures of every quartier;
3. one page per quartier: its key figures with their change and their gap to the town, its
   socio-economic indicators, its map, its services within 5 / 10 minutes' walk;
4. one page per theme (:data:`THEMES`): access, services (capacity, opening hours and shops:
   :mod:`cdv_geo.output.dossier_services`), renaturation, renewal, indicators, heat and
   water; a theme without its inputs says on its page what is missing;
5. an annex: the plain-language glossary of the figures the dossier shows
   (:mod:`cdv_geo.output.glossary`: what each measures, how, its source and year), and of the
   comparison columns. The API reference is the developers' documentation, not the committee's.

Each quartier and theme starts a page; a long one may take two. Table rows never split across
a page break. Fonts are embedded (DejaVu, via fontconfig), maps are matplotlib PNGs embedded as
``data:`` URIs and **nothing is fetched from the network**: the HTML names no remote URL and the
URL fetcher refuses every URL that is not ``data:`` or a local file.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.labels import LABELS, check_lang, fmt_number, label
from cdv_geo.io import atomic_path
from cdv_geo.output.cartography import clean_source, crs_label, fmt_date
from cdv_geo.output.dossier_html import (
    dl,
    esc,
    markdown_to_html,
    raster_words,
    table_html,
    table_words,
)
from cdv_geo.output.dossier_maps import MapStyle
from cdv_geo.output.dossier_pages import (
    DOSSIER_INDICATORS,
    INSEE_SOURCES,
    DossierContext,
    overview_page,
    quartier_page,
)
from cdv_geo.output.dossier_themes import THEMES, theme_page, theme_title
from cdv_geo.output.evaluation_figures import evaluation_page
from cdv_geo.output.glossary import glossary_html
from cdv_geo.pipeline import Metrics, compute_metrics
from cdv_geo.territory import Territory

__all__ = [
    "FIXED_PAGES",
    "PAPERS",
    "THEMES",
    "LocalOnlyFetcher",
    "build_dossier",
    "cover_page",
    "data_sources",
    "definitions_file",
    "dossier_html",
    "file_names",
]

#: The pages every dossier has before the quartiers (the annex comes after the themes).
FIXED_PAGES: tuple[str, ...] = ("cover", "overview")

#: Paper sizes: CSS page size, quartier-map and theme-map sizes (inches), map font size and
#: the share of a map's width kept for its legend.
PAPERS: dict[str, dict[str, Any]] = {
    "a4": {"page": "A4", "map": (7.15, 3.2), "wide": (7.15, 3.9), "font": 7.0, "legend": 0.3},
    "a3-landscape": {
        "page": "A3 landscape",
        "map": (8.9, 8.6),
        "wide": (8.9, 6.6),
        "font": 8.0,
        "legend": 0.24,
    },
}

_CSS = Path(__file__).resolve().parent / "templates" / "dossier.css"


class _RefusedURLError(ValueError):
    """A URL the dossier must not fetch."""


def _fetcher_base() -> Any:
    from weasyprint.urls import URLFetcher

    return URLFetcher


class LocalOnlyFetcher:
    """A WeasyPrint URL fetcher that fetches ``data:`` and ``file:`` URLs only.

    Any other URL (``http``, ``https``, ``ftp``...) is refused and recorded in :attr:`refused`:
    the dossier prints the same offline as online, and never leaks a request.
    """

    def __new__(cls) -> Any:
        """Return a new fetcher (a subclass of WeasyPrint's ``URLFetcher``, imported lazily)."""
        base = _fetcher_base()

        class _Fetcher(base):  # type: ignore[misc, valid-type]
            def __init__(self) -> None:
                super().__init__(allowed_protocols=("data", "file"), fail_on_errors=False)
                self.refused: list[str] = []

            def fetch(self, url: str, headers: Any = None) -> Any:
                if not url.lower().startswith(("data:", "file:")):
                    self.refused.append(url)
                    raise _RefusedURLError(f"the dossier fetches no remote resource: {url}")
                return super().fetch(url, headers)

        return _Fetcher()


def definitions_file() -> Path | None:
    """Return the metric definitions (``docs/metrics.md``) of this installation, if present."""
    here = Path(__file__).resolve()
    for candidate in (
        here.parents[1] / "docs" / "metrics.md",
        here.parents[3] / "docs" / "metrics.md",
    ):
        if candidate.is_file():
            return candidate
    return None


def _css_string(text: str) -> str:
    r"""Return `text` as a CSS string literal (every non-alphanumeric character escaped).

    A hex escape swallows one following space, so each escape ends with its own space.

    Examples
    --------
    >>> print(_css_string('a "b" — c'))
    "a \000022 b\000022  \002014  c"
    """
    return '"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):06x} " for c in text) + '"'


_ILLUSTRATIVE_WORDS = ("illustrati", "démonstration", "demonstration", "fictif", "fictitious")


def _status(texts: list[str], illustrative: bool, lang: str) -> str:
    if any(w in t.lower() for t in texts for w in _ILLUSTRATIVE_WORDS):
        return dl("status_illustrative", lang)
    if not texts and illustrative:
        return dl("status_illustrative", lang)
    return dl("status_given", lang)


def file_names(source: Any) -> str:
    """Return the file name(s) of a raster or table entry (a path, paths, or a ``TableSource``).

    Examples
    --------
    >>> from pathlib import Path
    >>> file_names(Path("/data/indicators.csv")), file_names([Path("a/x.csv"), Path("b/y.csv")])
    ('indicators.csv', 'x.csv, y.csv')
    """
    source = getattr(source, "path", source)
    if isinstance(source, (list, tuple)):
        return ", ".join(file_names(s) for s in source)
    path = Path(str(source))
    return f"{path.name}/" if path.is_dir() else path.name  # a folder of tables


def _layer_row(kind: str, gdf: Any, t: Territory, lang: str) -> dict[str, Any]:
    texts = [str(v) for v in gdf["source"].dropna().unique()] if "source" in gdf.columns else []
    key = f"layer_{kind}"
    if key == "layer_residences":
        name = label("layer_residences_plain", lang)
    elif key in LABELS:
        name = label(key, lang, service="").strip(" :")
    else:
        name = kind
    shown = [c for c in dict.fromkeys(clean_source(x) for x in texts[:2]) if c]
    return {
        "data": name,
        "features": fmt_number(len(gdf), lang),
        "source": "; ".join(shown) or "—",
        "status": _status(texts, t.illustrative, lang),
    }


def data_sources(t: Territory, m: Metrics, lang: str = "fr") -> pd.DataFrame:
    """Return the data sources of a dossier: one row per layer, raster and table, in words.

    Columns ``data`` (what it is, in words: no file name), ``features``, ``source`` (the
    layer's ``source`` field, file names and paths left out) and ``status`` (``illustratif``
    when the layer's ``source`` says so, or when the territory is illustrative and the layer
    names no source; indicators read from INSEE files are ``officiel``).
    """
    rows = [_layer_row(kind, gdf, t, lang) for kind, gdf in t.layers().items()]
    for name in t.rasters:
        stem, _, year = str(name).partition("_")
        words = raster_words(stem, lang)
        rows.append(
            {
                "data": label("rp_source_raster", lang, what=words, year=year).strip(),
                "features": "—",
                "source": "—",
                "status": _status([], t.illustrative, lang),
            }
        )
    for name in t.tables:
        families: set[str] = set()
        if name == "indicators" and m.indicators is not None and "source" in m.indicators:
            families = {str(s) for s in m.indicators["source"].dropna().unique()}
        official = bool(families) and families <= INSEE_SOURCES
        rows.append(
            {
                "data": label("rp_source_table", lang, what=table_words(name, lang)),
                "features": "—",
                "source": ("Insee (" + ", ".join(sorted(families)) + ")") if official else "—",
                "status": dl("status_official", lang)
                if official
                else _status([], t.illustrative, lang),
            }
        )
    return pd.DataFrame(rows, columns=["data", "features", "source", "status"])


def cover_page(ctx: DossierContext, contents: list[tuple[str, str]]) -> str:
    """Return the cover: title, territory, date, contents, data sources, the illustrative mark."""
    t, lang = ctx.territory, ctx.lang
    sources = data_sources(t, ctx.metrics, lang)
    illustrative = (sources["status"] == dl("status_illustrative", lang)).any()
    mark = (
        f'<div class="illustrative">{esc(dl("illustrative_mark", lang))}</div>'
        if illustrative
        else ""
    )
    toc = "".join(
        f'<li><a href="#{esc(anchor)}">{esc(title)}</a></li>' for anchor, title in contents
    )
    header = [dl(k, lang) for k in ("col_data", "col_features", "col_source", "col_status")]
    table = table_html(header, sources.itertuples(index=False), cls="data sources", numeric_from=99)
    s = t.settings
    method = (
        f"{esc(dl('crs', lang))} : {esc(crs_label(t.metric_crs))} · "
        f"{esc(dl('walking_speed', lang))} : {esc(fmt_number(s.walking_speed_kmh, lang, 1))} km/h"
    )
    return (
        '<section class="cover" id="cover">'
        f'<p class="kicker">{esc(dl("title", lang))}</p>'
        f'<h1 class="cover-title">{esc(dl("subtitle", lang, territory=t.name))}</h1>'
        f'<p class="date">{esc(dl("date", lang, date=fmt_date(ctx.date, lang)))}</p>'
        f"{mark}"
        f'<h2>{esc(dl("contents", lang))}</h2><ol class="toc">{toc}</ol>'
        f"<h2>{esc(dl('sources', lang))}</h2>{table}"
        f'<p class="small">{method}</p>'
        "</section>"
    )


def page_css(territory: Territory, paper: str, lang: str, *, illustrative: bool) -> str:
    """Return the @page rules: size, margins, running header (territory, section) and footer."""
    size = PAPERS[paper]["page"]
    left = _css_string(dl("subtitle", lang, territory=territory.name))
    mark = _css_string(dl("illustrative_mark", lang)) if illustrative else '""'
    small = "font-family: 'DejaVu Sans', sans-serif; font-size: 7pt; color: #666;"
    return (
        f"@page {{ size: {size}; margin: 16mm 14mm 15mm 14mm;"
        f" @top-left {{ content: {left}; {small} }}"
        f" @top-right {{ content: string(section); {small} }}"
        f" @bottom-left {{ content: {mark}; {small} color: #b71c1c; }}"
        f' @bottom-right {{ content: counter(page) " / " counter(pages); {small} }} }}'
        " @page :first { @top-left { content: none; } @top-right { content: none; } }"
    )


def _annex(ctx: DossierContext, definitions: Path | None) -> str:
    """Return the glossary of the figures shown, then a project's own definitions file."""
    body = glossary_html(ctx.shown, town=ctx.town, lang=ctx.lang, years=ctx.shown)
    if definitions is None or not Path(definitions).is_file():
        return body
    text = Path(definitions).read_text(encoding="utf-8")
    return body.replace(
        "</section>", f'<div class="definitions">{markdown_to_html(text, shift=1)}</div></section>'
    )


def dossier_html(
    territory: Territory,
    metrics: Metrics | None = None,
    *,
    paper: str = "a4",
    lang: str = "fr",
    date: dt.date | None = None,
    definitions: str | os.PathLike[str] | None = None,
    indicators: Sequence[str] | None = None,
) -> str:
    """Return the dossier as one HTML document (what :func:`build_dossier` prints).

    Parameters are those of :func:`build_dossier`. Every data text is HTML-escaped; images are
    ``data:`` URIs.
    """
    check_lang(lang)
    if paper not in PAPERS:
        raise CdvGeoError(f"paper={paper!r} is not available; use one of {', '.join(PAPERS)}")
    if metrics is None:
        metrics = compute_metrics(territory)
    day = date or dt.date.today()
    spec = PAPERS[paper]
    style = MapStyle(
        size=spec["map"], legend_share=spec["legend"], fontsize=spec["font"], lang=lang, date=day
    )
    ctx = DossierContext(
        territory=territory,
        metrics=metrics,
        lang=lang,
        date=day,
        style=style,
        wide=replace(style, size=spec["wide"]),
        quartiers=_quartiers(territory),
        indicators=tuple(DOSSIER_INDICATORS if indicators is None else indicators),
    )
    anchors = [(code, name, f"q-{i}") for i, (code, name) in enumerate(ctx.quartiers)]
    contents = [("overview", dl("overview", lang))]
    # each quartier's page, then its "Évolution comparée" page when the project evaluates it
    evals = {a: evaluation_page(ctx, code, n, f"{a}-eval") for code, n, a in anchors}
    for _, n, a in anchors:
        contents.append((a, dl("quartier_page", lang, name=n)))
        if evals[a]:
            contents.append((f"{a}-eval", f"{dl('eval_title', lang)} — {n}"))
    contents += [(f"theme-{th}", theme_title(th, lang)) for th in THEMES]
    contents.append(("annex", label("rp_glossary", lang)))
    sections = [overview_page(ctx)]
    sections += [quartier_page(ctx, code, name, a) + evals[a] for code, name, a in anchors]
    sections += [theme_page(ctx, th) for th in THEMES]
    # a project's own definitions only: the package's docs/metrics.md is the developers' API
    sections.append(_annex(ctx, Path(definitions) if definitions is not None else None))
    cover = cover_page(ctx, contents)
    illustrative = 'class="illustrative"' in cover
    css = page_css(territory, paper, lang, illustrative=illustrative)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{esc(dl('title', lang))} — {esc(territory.name)}</title>"
        f"<style>{css}</style></head>"
        f'<body class="paper-{esc(paper)}">{cover}{"".join(sections)}</body></html>'
    )


def _quartiers(territory: Territory) -> list[tuple[str, str]]:
    q = territory.quartiers
    if q is None:
        return []
    codes = q["code"] if "code" in q.columns else q["id"]
    names = q["name"] if "name" in q.columns else codes
    return [(str(c), str(n)) for c, n in zip(codes, names, strict=True)]


def build_dossier(
    territory: Territory,
    metrics: Metrics | None = None,
    *,
    out: str | os.PathLike[str],
    paper: str = "a4",
    lang: str = "fr",
    date: dt.date | None = None,
    definitions: str | os.PathLike[str] | None = None,
    indicators: Sequence[str] | None = None,
) -> Path:
    """Write the committee dossier of a territory as a PDF.

    Parameters
    ----------
    territory : Territory
    metrics : Metrics, optional
        The results to print; computed with :func:`~cdv_geo.pipeline.compute_metrics` when not
        given (the same as the committee pack's).
    out : path-like
        The PDF to write (written atomically; its folder is created).
    paper : {"a4", "a3-landscape"}
        A4 portrait, or A3 landscape for wall maps (bigger maps, same pages).
    lang : {"fr", "en"}
    date : datetime.date, optional
        The date printed on the cover and the maps (today by default).
    definitions : path-like, optional
        A Markdown file of the project's own definitions, printed after the glossary (none by
        default: the glossary explains every figure shown).
    indicators : sequence of str, optional
        The socio-economic indicators shown (canonical names), in order; default
        :data:`~cdv_geo.output.dossier_pages.DOSSIER_INDICATORS` (those the tables hold; at most
        10 on a quartier page, 14 on the indicators page).

    Returns
    -------
    pathlib.Path
        The PDF written.

    Raises
    ------
    CdvGeoError
        For an unknown `paper` or `lang`, or when WeasyPrint is not installed.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> from cdv_geo.output.dossier import build_dossier
    >>> pdf = build_dossier(cg.datasets.soissons(), out="dossier.pdf")  # doctest: +SKIP
    """
    try:
        import weasyprint
    except ImportError as exc:  # pragma: no cover - weasyprint is a dependency
        raise CdvGeoError(
            "the dossier needs WeasyPrint and its system libraries (pango): "
            "pip install weasyprint, and see https://doc.courtbouillon.org/weasyprint/ for pango"
        ) from exc
    document = dossier_html(
        territory,
        metrics,
        paper=paper,
        lang=lang,
        date=date,
        definitions=definitions,
        indicators=indicators,
    )
    stylesheet = weasyprint.CSS(string=_CSS.read_text(encoding="utf-8"))
    fetcher = LocalOnlyFetcher()
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = weasyprint.HTML(string=document, base_url=str(_CSS.parent), url_fetcher=fetcher)
    with atomic_path(path) as tmp:
        html.write_pdf(tmp, stylesheets=[stylesheet])
    return path
