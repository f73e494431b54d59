"""The committee dossier: one PDF for the steering committee, from the same metrics as the pack.

:func:`build_dossier` prints, with WeasyPrint, an A4 (or A3 landscape, for wall maps) PDF:

1. a cover: the territory, the date, the contents, the data sources and the "illustrative
   data" mark where it applies (a layer whose ``source`` says so, or an illustrative territory;
   indicators read from INSEE files are marked official);
2. an overview: the territory's map and the key figures of every quartier;
3. one page per quartier: its key figures with their change and their gap to the town, its
   socio-economic indicators, its map, its services within 5 / 10 minutes' walk;
4. one page per theme (:data:`THEMES`): access, renaturation, renewal, indicators, heat and
   water; a theme without its inputs says on its page what is missing;
5. an annex: the metric definitions (``docs/metrics.md``).

So the page count is ``len(FIXED_PAGES) + number of quartiers + len(THEMES)`` plus the annex's
pages. Fonts are embedded (DejaVu, via fontconfig), maps are matplotlib PNGs embedded as
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

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.labels import check_lang
from cdv_geo.core.tables import TERRITORY
from cdv_geo.io import atomic_path
from cdv_geo.output.dossier_html import dl, esc, markdown_to_html, missing_box
from cdv_geo.output.dossier_maps import MapStyle
from cdv_geo.output.dossier_pages import (
    DOSSIER_INDICATORS,
    DossierContext,
    cover_page,
    overview_page,
    quartier_page,
)
from cdv_geo.output.dossier_themes import THEMES, theme_page, theme_title
from cdv_geo.pipeline import Metrics, compute_metrics
from cdv_geo.territory import Territory

__all__ = [
    "FIXED_PAGES",
    "PAPERS",
    "THEMES",
    "LocalOnlyFetcher",
    "build_dossier",
    "definitions_file",
    "dossier_html",
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


def _annex(lang: str, definitions: Path | None) -> str:
    title = esc(dl("annex", lang))
    if definitions is None or not Path(definitions).is_file():
        body = missing_box([dl("no_definitions", lang)], lang)
    else:
        text = Path(definitions).read_text(encoding="utf-8")
        # the file's own title is replaced by the annex's
        lines = text.splitlines()
        if lines and lines[0].startswith("# "):
            text = "\n".join(lines[1:])
        body = markdown_to_html(text, shift=0)
    return f'<section class="annex" id="annex"><h1>{title}</h1>{body}</section>'


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
    contents += [(a, dl("quartier_page", lang, name=n)) for _, n, a in anchors]
    contents += [(f"theme-{th}", theme_title(th, lang)) for th in THEMES]
    contents.append(("annex", dl("annex", lang)))
    sections = [overview_page(ctx)]
    sections += [quartier_page(ctx, code, name, a) for code, name, a in anchors]
    sections += [theme_page(ctx, th) for th in THEMES]
    defs = Path(definitions) if definitions is not None else definitions_file()
    sections.append(_annex(lang, defs))
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
    return [(str(c), str(n)) for c, n in zip(codes, names, strict=True) if str(c) != TERRITORY]


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
        The Markdown file of the annex (default: the package's ``docs/metrics.md``).
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
