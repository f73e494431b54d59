"""The services page of the committee dossier: capacity, opening hours and shops (issue 25).

One ``<section>`` for the territory, its tables comparing the quartiers with all the QPV, the
town and the town outside the QPV (the contract's comparison rows, :func:`row_keys`):

- the capacity of each kind of service within walking reach per 10,000 residents (floating
  catchment E2SFCA, as the DREES APL);
- the weekly hours when one is open within reach, and the share of residents served at the key
  moments (Wednesday 14:00, Saturday 10:00, after 18:00);
- the retail density and the share of residents the commercial centres retain (Huff model),
  with the centres' catchment population;
- a weekly heat strip per quartier (days × hours, one strip per kind:
  :mod:`cdv_geo.output.service_figures`).

Each block has one line saying what it measures, its reference and its limits; the glossary
(annex) says more. Only what was computed appears; what is missing is said in the page's
"Données manquantes" box with what to provide (the facilities' ``capacity`` and
``opening_hours`` fields, the shops layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.labels import fmt_number, fmt_percent, kind_label, label
from cdv_geo.output.dossier_html import (
    dl,
    esc,
    img,
    missing_box,
    note_text,
    row_title,
    table_html,
)
from cdv_geo.output.dossier_pages import DossierContext, row_keys
from cdv_geo.output.service_figures import strip_chart, strip_matrix

__all__ = ["SERVICE_TOPICS", "moment_title", "services_body", "services_page", "services_title"]

#: The topics of the pipeline's notes said on the page.
SERVICE_TOPICS = ("services",)


def services_title(lang: str = "fr") -> str:
    """Return the page's title.

    Examples
    --------
    >>> services_title("en")
    'Services: capacity, opening hours and shops'
    """
    return dl("theme_services", lang)


def moment_title(moment: str, spec: Any = None, lang: str = "fr") -> str:
    """Return a key moment in words (its OSM text when it has no label).

    Examples
    --------
    >>> moment_title("wednesday_14h"), moment_title("lunch", "Mo-Fr 12:00-14:00", "en")
    ('mercredi 14 h', 'Mo-Fr 12:00-14:00')
    """
    key = f"svc_moment_{moment}"
    try:
        return label(key, lang)
    except KeyError:
        return str(spec) if spec is not None and not pd.isna(spec) else str(moment)


def _is_missing(v: Any) -> bool:
    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


def _percent_number(v: Any, lang: str) -> str:
    """Return a share as a whole number of percent (the heading says "%"), or a dash."""
    return "—" if _is_missing(v) else fmt_number(100 * float(v), lang, 0)


def _headers(ctx: DossierContext, keys: Sequence[Any], first: str) -> list[str]:
    names = dict(ctx.quartiers)
    return [first] + [row_title(k, town=ctx.town, names=names, lang=ctx.lang) for k in keys]


def _kind_table(
    ctx: DossierContext, table: pd.DataFrame, column: str, fmt: Any
) -> tuple[str, list[str]]:
    """One row per kind, one column per row key; returns the HTML and the kinds shown."""
    keys = row_keys(ctx, dict.fromkeys(table.index.get_level_values("quartier")))
    kinds = list(dict.fromkeys(table.index.get_level_values("kind")))
    rows = []
    for kind in kinds:
        values = [table[column].get((k, kind)) for k in keys]
        rows.append(
            [kind_label(str(kind), ctx.lang)] + ["—" if _is_missing(v) else fmt(v) for v in values]
        )
    head = _headers(ctx, keys, dl("col_service", ctx.lang))
    return table_html(head, rows, cls="data figures"), kinds


def _line(key: str, lang: str, **fmt: Any) -> str:
    return f'<p class="small">{esc(dl(key, lang, **fmt))}</p>'


def _capacity(ctx: DossierContext) -> list[str]:
    t, lang = ctx.metrics.capacity_access, ctx.lang
    if t is None or "access_per_10k" not in t.columns:
        return []
    html, _ = _kind_table(ctx, t, "access_per_10k", lambda v: fmt_number(v, lang, 1))
    ctx.show("access_per_10k")
    return [f"<h2>{esc(dl('svc_h_capacity', lang))}</h2>", html, _line("svc_p_capacity", lang)]


def _hours(ctx: DossierContext) -> list[str]:
    m, lang = ctx.metrics, ctx.lang
    out: list[str] = []
    t = m.open_hours
    if t is not None and "open_hours_week" in t.columns:
        html, _ = _kind_table(
            ctx, t, "open_hours_week", lambda v: f"{fmt_number(v, lang, 1)}\u00a0h"
        )
        within = t["within_min"].dropna() if "within_min" in t.columns else pd.Series()
        minutes = fmt_number(float(within.iloc[0]), lang) if len(within) else "10"
        ctx.show("open_hours_week")
        out += [f"<h2>{esc(dl('svc_h_hours', lang))}</h2>", html]
        out.append(_line("svc_p_hours", lang, minutes=minutes))
    mo = m.open_moments
    if mo is not None and "served_share" in mo.columns:
        keys = row_keys(ctx, dict.fromkeys(mo.index.get_level_values("quartier")))
        moments = list(dict.fromkeys(mo.index.get_level_values("moment")))
        specs: dict[Any, Any] = (
            mo["spec"].groupby(level="moment").first().to_dict() if "spec" in mo.columns else {}
        )
        words = " · ".join(moment_title(str(x), specs.get(x), lang) for x in moments)
        rows = []
        for kind, sub in mo.groupby(level="kind", sort=False):
            share = sub["served_share"].droplevel("kind")
            cells = [
                " · ".join(_percent_number(share.get((k, x)), lang) for x in moments) for k in keys
            ]
            rows.append([kind_label(str(kind), lang), *cells])
        ctx.show("open_moments_share")
        out += [f"<h2>{esc(dl('svc_h_moments', lang, moments=words))}</h2>"]
        out.append(
            table_html(_headers(ctx, keys, dl("col_service", lang)), rows, cls="data figures")
        )
        out.append(_line("svc_p_moments", lang))
    return out


def _strips(ctx: DossierContext) -> list[str]:
    strip, lang = ctx.metrics.opening_strip, ctx.lang
    if strip is None or "served_share" not in strip.columns:
        return []
    present = set(strip.index.get_level_values("quartier"))
    names = dict(ctx.quartiers)
    out: list[str] = []
    kinds = list(dict.fromkeys(strip.index.get_level_values("kind")))
    for code in [c for c, _ in ctx.quartiers if c in present]:
        name = names.get(code, code)
        # a kind never open within reach of the quartier is said in words, not drawn blank
        drawn, never = [], []
        for kind in kinds:
            mat = strip_matrix(strip, code, kind)
            if mat is not None and np.nanmax(mat, initial=0.0) > 0:
                drawn.append(kind)
            elif mat is not None and not np.isnan(mat).all():
                never.append(kind_label(kind, lang))
        png = strip_chart(strip, code, kinds=drawn, title=name, lang=lang,
                          width=ctx.style.size[0]) if drawn else None  # fmt: skip
        if png:
            out.append(img(png, dl("svc_strip_caption", lang, quartier=name), cls="chart strip"))
        if never:
            words = dl("svc_strip_never", lang, quartier=name, kinds=", ".join(never))
            out.append(f'<p class="small">{esc(words)}</p>')
    if out:
        ctx.show("opening_strip_share")
        out.insert(0, f"<h2>{esc(dl('svc_h_strip', lang))}</h2>")
        out.append(_line("svc_strip_note", lang))
    return out


def _row_table(ctx: DossierContext, table: pd.DataFrame, columns: dict[str, Any]) -> str:
    """One row per figure, one column per row key (the quartiers first)."""
    keys = row_keys(ctx, list(table.index))
    rows = []
    for col, (title, fmt) in columns.items():
        if col not in table.columns or table[col].isna().all():
            continue
        values = [table[col].get(k) for k in keys]
        rows.append([title] + ["—" if _is_missing(v) else fmt(v) for v in values])
        ctx.show(col)
    if not rows:
        return ""
    return table_html(_headers(ctx, keys, dl("col_figure", ctx.lang)), rows, cls="data figures")


def _shops(ctx: DossierContext) -> list[str]:
    m, lang = ctx.metrics, ctx.lang
    out: list[str] = []
    rd = m.retail_density
    if rd is not None:
        weight = str(rd["weight"].dropna().iloc[0]) if "weight" in rd.columns else "count"
        density = (
            dl("fig_per_1000_inhabitants", lang)
            if weight in ("count", "nan")
            else dl("fig_per_1000_inhabitants_weight", lang, weight=weight)
        )
        table = _row_table(
            ctx,
            rd,
            {
                "n_shops": (dl("fig_n_shops", lang), lambda v: fmt_number(v, lang)),
                "per_1000_inhabitants": (density, lambda v: fmt_number(v, lang, 1)),
            },
        )
        if table:
            out += [f"<h2>{esc(dl('svc_h_retail', lang))}</h2>", table, _line("svc_p_retail", lang)]
    cc = m.commercial_catchment
    if cc is not None:
        pct = lambda v: fmt_percent(v, lang)  # noqa: E731
        table = _row_table(
            ctx,
            cc,
            {
                "retained_share": (dl("fig_retained_share", lang), pct),
                "no_centre_share": (dl("fig_no_centre_share", lang), pct),
            },
        )
        if table:
            out += [f"<h2>{esc(dl('svc_h_catchment', lang))}</h2>", table]
            out.append(_centres(ctx))
            out.append(_line("svc_p_catchment", lang))
    return out


def _centres(ctx: DossierContext) -> str:
    """Return the centres' table: name, quartier, residents drawn, homes of which it is main."""
    c, lang = ctx.metrics.commercial_centres, ctx.lang
    if c is None or len(c) == 0 or "catchment_population" not in c.columns:
        return ""
    names = dict(ctx.quartiers)
    c = c.sort_values("catchment_population", ascending=False)
    ids = c["id"] if "id" in c.columns else pd.Series(c.index, index=c.index)
    shown = c["name"].where(c["name"].notna(), ids) if "name" in c.columns else ids
    rows = []
    for name, q, pop, n in zip(
        shown,
        c["quartier"] if "quartier" in c.columns else [None] * len(c),
        c["catchment_population"],
        c["n_homes_main"] if "n_homes_main" in c.columns else [None] * len(c),
        strict=True,
    ):
        where = "—" if _is_missing(q) else names.get(str(q), str(q))
        rows.append(
            [
                str(name),
                where,
                fmt_number(pop, lang),
                "—" if _is_missing(n) else fmt_number(n, lang),
            ]
        )
    ctx.show("catchment_population")
    head = [
        dl("svc_col_centre", lang),
        dl("svc_col_quartier", lang),
        dl("fig_catchment_population", lang),
        dl("fig_n_homes_main", lang),
    ]
    return table_html(head, rows, cls="data", numeric_from=2)


def _missing(ctx: DossierContext) -> list[str]:
    m, lang = ctx.metrics, ctx.lang
    lines = []
    if m.capacity_access is None:
        lines.append(dl("svc_missing_capacity", lang))
    if m.open_hours is None and m.open_moments is None:
        lines.append(dl("svc_missing_hours", lang))
    if m.retail_density is None and m.commercial_catchment is None:
        lines.append(dl("svc_missing_shops", lang))
    lines += [note_text(n, lang) for n in m.notes_on(*SERVICE_TOPICS)]
    return lines


def services_page(ctx: DossierContext) -> str:
    """Return the services page (what is missing is said in its box).

    Examples
    --------
    >>> import cdv_geo as cg, datetime as dt
    >>> from cdv_geo.output.dossier_maps import MapStyle
    >>> t = cg.datasets.soissons()
    >>> ctx = DossierContext(territory=t, metrics=cg.pipeline.Metrics(), lang="fr",
    ...                      date=dt.date(2026, 1, 1), style=MapStyle(), wide=MapStyle(),
    ...                      quartiers=[("QP002013", "Presles")])
    >>> html = services_page(ctx)
    >>> "Données manquantes" in html, "« capacité »" in html
    (True, True)
    """
    return (
        f'<section class="page theme" id="theme-services">'
        f"<h1>{esc(services_title(ctx.lang))}</h1>{''.join(services_body(ctx))}</section>"
    )


def services_body(ctx: DossierContext) -> list[str]:
    """Return the blocks of the services page (its tables, strips and missing-data box)."""
    # (the strips last: a page of figures after the tables)
    body = [*_capacity(ctx), *_hours(ctx), *_shops(ctx), *_strips(ctx)]
    body.append(missing_box(_missing(ctx), ctx.lang))
    return body
