"""The annual report on the politique de la ville: one PDF (and its HTML) for the council.

Every commune and EPCI that signed a contrat de ville presents each year to its council a
report on the implementation of the politique de la ville (article L. 1111-2 of the code général
des collectivités territoriales; content fixed by décret n° 2015-1118 of 3 September 2015). The
decree asks that it present the evolution of the situation of the quartiers prioritaires, retrace
the actions carried out for their residents in the past year, and set out the prospects and
improvements needed to pursue the contrat's objectives (summaries of the decree: Prisme, "Le
contenu du rapport annuel des EPCI est fixé", 2015; Banque des Territoires, "Que mettre dans le
rapport politique de la ville", 2015, which also names the articulation with the urban renewal
project). :func:`build_annual_report` follows that structure:

1. the quartiers' situation and its evolution: the population of each quartier and of the
   comparison rows (the pack's one population rule), then each quartier's INSEE indicators, their
   change since the first vintage and the figure of all French QPV;
2. the actions carried out and their funding: the ledger of the year
   (:func:`cdv_geo.metrics.ledger.ledger`), by pillar and by funder, the actions with no quartier
   listed apart, and a map of the located actions and TFPB counterparts;
3. the TFPB counterparts: the balance per landlord and quartier
   (:func:`cdv_geo.metrics.tfpb.tfpb_balance`) and the counterparts by axis of the national
   framework;
4. the progress of the urban renewal (:func:`cdv_geo.metrics.renewal.renewal_progress`);
5. the council's prospects: a text the project gives (``[annual_report] prospects = "..."`` or
   ``prospects_file = "prospects.md"``), printed as written.

French by default (``lang="en"``); every data text is escaped; nothing is fetched from the
network (images are ``data:`` URIs).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.escape import escape_text
from cdv_geo.core.labels import check_lang, label
from cdv_geo.io import atomic_path
from cdv_geo.output.annual_report_pages import (
    ReportContext,
    actions_png,
    actions_section,
    prospects_section,
    renewal_section,
    situation_section,
    tfpb_section,
)
from cdv_geo.pipeline import Metrics, compute_metrics
from cdv_geo.pipeline.population import town_name
from cdv_geo.territory import Territory

__all__ = [
    "REPORT_OUTPUTS",
    "annual_report_html",
    "build_annual_report",
    "read_prospects",
    "report_context",
]

#: The outputs of :func:`cdv_geo.pipeline.compute_metrics` the report reads.
REPORT_OUTPUTS = ("indicators", "renewal_progress", "ledger", "tfpb")

_CSS = Path(__file__).resolve().parent / "templates" / "annual_report.css"
_SECTIONS = (
    ("situation", "ar_s_situation"),
    ("actions", "ar_s_actions"),
    ("tfpb", "ar_s_tfpb"),
    ("renewal", "ar_s_renewal"),
    ("prospects", "ar_s_prospects"),
)


def read_prospects(territory: Territory) -> str | None:
    """Return the council's prospects text from the project file, or None.

    ``[annual_report] prospects = "..."`` gives the text; ``prospects_file = "f.md"`` a text
    file next to the project (read as UTF-8). Paragraphs are separated by a blank line.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> read_prospects(cg.datasets.soissons()).split(":")[0]
    'Texte illustratif '
    """
    p = territory.project_file
    if p is None or not Path(p).exists():
        return None
    with Path(p).open("rb") as fh:
        section = tomllib.load(fh).get("annual_report", {})
    if section.get("prospects_file"):
        f = Path(p).parent / str(section["prospects_file"])
        if not f.exists():
            raise CdvGeoError(
                f"[annual_report] prospects_file: {f} does not exist; write the prospects "
                'there, or give them as prospects = "..." in the project file'
            )
        return f.read_text(encoding="utf-8")
    text = section.get("prospects")
    return str(text) if text else None


def _located(frame: Any) -> gpd.GeoDataFrame | None:
    if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
        return frame
    return None


def report_context(
    territory: Territory, metrics: Metrics, *, year: int, lang: str = "fr", draw_map: bool = True
) -> ReportContext:
    """Return the tables of the report for `year`: the ledger, the TFPB balance and the rest.

    The ledger and TFPB tables are those of `year` (funding lines and TFPB lines of that
    year), over the run's population (:attr:`Metrics.population`) and communes.
    """
    from cdv_geo.metrics.ledger import actions_apart, ledger, ledger_by
    from cdv_geo.metrics.tfpb import tfpb_balance, tfpb_counterparts

    if territory.quartiers is None:
        raise CdvGeoError("the annual report needs the quartiers layer; add it to the project")
    q = territory.metric("quartiers")
    communes = territory.metric("communes") if territory.communes is not None else None
    ctx = ReportContext(
        year=year,
        lang=check_lang(lang),
        town=town_name(communes) or territory.name,
        quartiers=q,
        population=metrics.population,
        indicators=metrics.indicators,
        renewal=metrics.renewal_progress,
        names={str(c): str(n) for c, n in zip(q["code"], q["name"], strict=True)},
    )
    programme = territory.table("actions") if "actions" in territory.tables else None
    tfpb = territory.table("tfpb") if "tfpb" in territory.tables else None
    if programme is not None:
        kw: dict[str, Any] = {"communes": communes, "year": year}
        ctx.ledger = ledger(programme, q, population=metrics.population, **kw)
        ctx.by_pillar = ledger_by(programme, q, "pillar", population=metrics.population, **kw)
        ctx.by_funder = ledger_by(programme, q, "funder", population=metrics.population, **kw)
        ctx.apart = actions_apart(programme, q, lang=lang, **kw)
    if tfpb is not None:
        ctx.tfpb = tfpb_balance(tfpb, q, year=year)
        ctx.tfpb_axes = tfpb_counterparts(tfpb, q, year=year)
    if draw_map:
        this_year = _located(tfpb)
        if this_year is not None:
            this_year = this_year[this_year["year"] == year]
        acts = _located(programme.actions) if programme is not None else None
        ctx.map_png = actions_png(q, acts, this_year, ctx.lang)
    return ctx


def _cover(territory: Territory, ctx: ReportContext) -> str:
    e = escape_text
    lang = ctx.lang
    toc = "".join(
        f'<li><a href="#{anchor}">{e(label(key, lang))}</a></li>' for anchor, key in _SECTIONS
    )
    warn = (
        f'<p class="illustrative">{e(label("ar_illustrative", lang))}</p>'
        if territory.illustrative
        else ""
    )
    return (
        '<section class="cover">'
        f'<p class="kicker">{e(label("ar_kicker", lang))}</p>'
        f"<h1>{e(label('ar_title', lang))}</h1>"
        f'<p class="subtitle">{e(label("ar_subtitle", lang, territory=ctx.town, year=ctx.year))}'
        "</p>"
        f'<p class="decree">{e(label("ar_decree", lang))}</p>{warn}'
        f'<h2>{e(label("ar_contents", lang))}</h2><ol class="toc">{toc}</ol></section>'
    )


def _page_css(ctx: ReportContext) -> str:
    footer = f"{label('ar_title', ctx.lang)} — {ctx.town} {ctx.year}"
    quoted = footer.replace("\\", "\\\\").replace('"', '\\"')
    return (
        "@page { size: A4; margin: 16mm 15mm 18mm 15mm;"
        f' @bottom-left {{ content: "{quoted}"; font-size: 7pt; color: #666; }}'
        ' @bottom-right { content: counter(page) " / " counter(pages); font-size: 7pt;'
        " color: #666; } }"
    )


def annual_report_html(
    territory: Territory,
    metrics: Metrics | None = None,
    *,
    year: int,
    lang: str = "fr",
    prospects: str | None = None,
) -> str:
    """Return the annual report as one HTML document (styles inline, images as ``data:``).

    Parameters
    ----------
    territory : Territory
        The contrat de ville (its project's ``actions`` and ``tfpb`` tables, when given).
    metrics : Metrics, optional
        A run holding :data:`REPORT_OUTPUTS` (computed when not given).
    year : int
        The year reported on.
    lang : {"fr", "en"}
        The committee's language.
    prospects : str, optional
        The council's prospects (default: :func:`read_prospects`).
    """
    lang = check_lang(lang)
    m = metrics if metrics is not None else compute_metrics(territory, only=REPORT_OUTPUTS)
    ctx = report_context(territory, m, year=year, lang=lang)
    text = prospects if prospects is not None else read_prospects(territory)
    body = [
        _cover(territory, ctx),
        situation_section(ctx),
        actions_section(ctx),
        tfpb_section(ctx),
        renewal_section(ctx),
        prospects_section(text, lang),
    ]
    css = _CSS.read_text(encoding="utf-8") + "\n" + _page_css(ctx)
    title = escape_text(f"{label('ar_title', lang)} — {ctx.town} {year}")
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{css}</style></head><body>{''.join(body)}</body></html>"
    )


def _local_fetcher() -> Any:
    """Return a WeasyPrint URL fetcher that fetches ``data:`` URLs only.

    The report embeds its images as ``data:`` URIs: any other URL is refused, so that it
    prints the same offline and never sends a request.
    """
    from weasyprint.urls import URLFetcher

    class _DataOnly(URLFetcher):
        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data",), fail_on_errors=False)

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.lower().startswith("data:"):
                raise CdvGeoError("the annual report fetches no remote or local resource")
            return super().fetch(url, headers)

    return _DataOnly()


def build_annual_report(
    territory: Territory,
    out: str | Path,
    *,
    year: int,
    lang: str = "fr",
    metrics: Metrics | None = None,
    prospects: str | None = None,
) -> dict[str, Path]:
    """Write the annual report of `year` as ``rapport_annuel_<year>.pdf`` and ``.html`` in `out`.

    See the module docstring for its sections. Returns ``{"pdf": path, "html": path}``, and
    ``"map"``: the interactive map of the located actions and TFPB counterparts
    (:func:`cdv_geo.maps.actions_map.actions_map`) when the project has either table.

    Raises
    ------
    CdvGeoError
        Without the quartiers layer, for an unknown `lang`, or without WeasyPrint.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> paths = build_annual_report(cg.datasets.soissons(), "out", year=2024)  # doctest: +SKIP
    """
    try:
        import weasyprint
    except ImportError as exc:  # pragma: no cover - weasyprint is a dependency
        raise CdvGeoError(
            "the annual report needs WeasyPrint and its system libraries (pango): "
            "pip install weasyprint"
        ) from exc
    document = annual_report_html(territory, metrics, year=year, lang=lang, prospects=prospects)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{'rapport_annuel' if lang == 'fr' else 'annual_report'}_{year}"
    paths = {"html": folder / f"{stem}.html", "pdf": folder / f"{stem}.pdf"}
    with atomic_path(paths["html"]) as tmp:
        Path(tmp).write_text(document, encoding="utf-8")
    html = weasyprint.HTML(string=document, base_url=str(_CSS.parent), url_fetcher=_local_fetcher())
    with atomic_path(paths["pdf"]) as tmp:
        html.write_pdf(tmp)
    fmap = _actions_map(territory, year=year, lang=lang)
    if fmap is not None:
        paths["map"] = folder / f"{'carte_actions' if lang == 'fr' else 'actions_map'}_{year}.html"
        with atomic_path(paths["map"]) as tmp:
            fmap.save(str(tmp))
    return paths


def _actions_map(territory: Territory, *, year: int, lang: str) -> Any:
    """Return the interactive map of the located actions and TFPB counterparts, or None."""
    from cdv_geo.maps.actions_map import actions_map

    has = [n for n in ("actions", "tfpb") if n in territory.tables]
    if not has or territory.quartiers is None:
        return None
    return actions_map(
        territory.quartiers,
        programme=territory.table("actions") if "actions" in has else None,
        tfpb=territory.table("tfpb") if "tfpb" in has else None,
        territory=territory.name,
        year=year,
        lang=lang,
    )
