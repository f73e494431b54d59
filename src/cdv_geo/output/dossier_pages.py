"""The cover, the overview and the quartier pages of the committee dossier (HTML sections).

Every function returns one ``<section>`` (one printed page): the cover (territory, date, data
sources and the "illustrative data" mark), the overview (map and key figures of every quartier)
and, per quartier, its key figures with their change and their gap to the town, its map and its
services within walking distance. Missing inputs are said on the page where they would be.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.assign import assign_quartier
from cdv_geo.core.labels import (
    KEY_FIGURE_LABELS,
    column_label,
    fmt_number,
    kind_label,
    label,
    value_label,
)
from cdv_geo.core.reasons import reason_parts
from cdv_geo.core.rows import row_label
from cdv_geo.core.tables import (
    COMMUNE,
    COMPARISON_ROWS,
    FRANCE_QPV,
    HORS_QPV,
    QPV,
    is_comparison_row,
)
from cdv_geo.io.insee.registry import INDICATORS
from cdv_geo.metrics.key_figures import KEY_FIGURES
from cdv_geo.output.dossier_html import (
    dl,
    esc,
    fmt_change,
    fmt_value,
    img,
    minutes_text,
    missing_box,
    missing_items,
    note_text,
    row_title,
    table_html,
)
from cdv_geo.output.dossier_maps import MapStyle, overview_map, quartier_map
from cdv_geo.pipeline import Metrics
from cdv_geo.territory import Territory

__all__ = [
    "DOSSIER_INDICATORS",
    "INSEE_SOURCES",
    "KEY_FIGURE_COLUMNS",
    "PAGE_COMPARISONS",
    "REFERENCES",
    "DossierContext",
    "chosen_reference",
    "column_reason",
    "comparison_columns",
    "format_key_figure",
    "indicator_change",
    "indicator_rows",
    "indicator_value",
    "key_figure_label",
    "latest_indicators",
    "overview_page",
    "quartier_page",
    "reference_name",
    "row_keys",
]

#: Indicator series read from files published by INSEE (their values are real, even in a demo).
INSEE_SOURCES = frozenset({"revn", "ipro", "demo", "filosofi"})


@dataclass
class DossierContext:
    """What every page of one dossier needs: the territory, its metrics, language, maps' style."""

    territory: Territory
    metrics: Metrics
    lang: str
    date: dt.date
    style: MapStyle
    wide: MapStyle
    quartiers: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    indicators: tuple[str, ...] = ()  # the indicators shown (DOSSIER_INDICATORS by default)

    shown: dict[str, Any] = field(default_factory=dict)  # figure -> year (the glossary's)

    @property
    def town(self) -> str:
        """The town's name (in the labels of the ``commune`` and ``hors_qpv`` columns)."""
        return self.territory.name

    def show(self, *figures: str, year: Any = None) -> None:
        """Record figures a page shows (the glossary explains them), with their data's year."""
        for f in figures:
            if year is not None and not pd.isna(year):
                self.shown[f] = int(year)
            else:
                self.shown.setdefault(f, None)


def row_keys(ctx: DossierContext, keys: Any) -> list[Any]:
    """Return the rows a theme table shows: the quartiers, then its comparison rows.

    The comparison rows come in the contract's order; a row the table lacks is left out,
    never filled with another row's figure.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> ctx = SimpleNamespace(quartiers=[("QP1", "Nord"), ("QP2", "Sud")])
    >>> row_keys(ctx, ["hors_qpv", "QP2", "qpv", "QP1", "commune"])
    ['QP1', 'QP2', 'qpv', 'commune', 'hors_qpv']
    """
    present = set(keys)
    quartiers = [c for c, _ in ctx.quartiers if c in present]
    others = [k for k in present if not is_comparison_row(k) and k not in quartiers]
    return quartiers + sorted(others, key=str) + [k for k in COMPARISON_ROWS if k in present]


#: The columns of ``Metrics.key_figures`` that :func:`key_figure_label` names.
KEY_FIGURE_COLUMNS = KEY_FIGURES


def key_figure_label(column: str, attrs: Mapping[Any, Any], lang: str = "fr") -> str:
    """Return the label of a key-figure column (``coverage_share`` names its service).

    Examples
    --------
    >>> key_figure_label("coverage_share", {"service": "school", "threshold_min": 5.0}, "en")
    'Residents within 5 min walk: School'
    """
    if column == "coverage_share":
        minutes = minutes_text(attrs.get("threshold_min"), lang)
        service = kind_label(str(attrs.get("service", "")), lang)
        if not minutes:  # never "à n.d. min"
            return label("rp_coverage_unknown_time", lang, service=service)
        return label("kf_coverage", lang, threshold=minutes, service=service)
    if column == "impervious_share":
        year = attrs.get("impervious_year")
        if year is None or pd.isna(year):
            return label("kf_impervious_latest", lang)
        return label("kf_impervious", lang, year=f"{int(year)}")
    if column in KEY_FIGURE_LABELS:
        return label(KEY_FIGURE_LABELS[column], lang)
    return column_label(column, lang=lang)


def format_key_figure(column: str, value: Any, lang: str = "fr") -> str:
    r"""Return a key figure as the dossier prints it.

    Counts as integers, areas in m² or ha, shares in percent (impervious shares with one
    decimal), changes in signed points.

    Examples
    --------
    >>> format_key_figure("n_residents", 3500.0), format_key_figure("impervious_share", 0.4959)
    ('3\u202f500', '49,6\xa0%')
    """
    if column == "population_source":
        return value_label(column, value, lang) or label("no_data", lang)
    if column == "impervious_share" and not pd.isna(value):
        from cdv_geo.core.labels import fmt_percent

        return fmt_percent(value, lang, 1)
    return fmt_value(column, value, lang)


#: The comparison columns of a quartier page, in order: the committee's standard comparison.
PAGE_COMPARISONS: tuple[str, ...] = (HORS_QPV, COMMUNE)


def comparison_columns(index: Sequence[Any]) -> list[str]:
    """Return the comparison rows a quartier page shows: hors QPV and commune, else all QPV.

    Examples
    --------
    >>> comparison_columns(["QP1", "qpv", "commune", "hors_qpv"])
    ['hors_qpv', 'commune']
    >>> comparison_columns(["QP1", "qpv"])
    ['qpv']
    """
    keys = set(index)
    shown = [k for k in PAGE_COMPARISONS if k in keys]
    return shown or ([QPV] if QPV in keys else [])


def column_reason(reason: Any, column: str) -> str | None:
    """Return the parts of a row's ``reason`` about `column` (``"col: why"``), else the rest.

    Examples
    --------
    >>> column_reason("n_trees: no tree plantings layer; area_m2: no communes", "area_m2")
    'no communes'
    >>> column_reason("no residences layer", "n_residents") is None
    False
    """
    parts = reason_parts(reason)
    mine = [p.partition(": ")[2] for p in parts if p.startswith(f"{column}: ")]
    general = [p for p in parts if ": " not in p]
    chosen = mine or general
    return "; ".join(chosen) if chosen else None


def _key_rows(ctx: DossierContext, code: str) -> tuple[list[list[str]], list[str], list[str]]:
    """Return the key figures' rows, the comparison rows shown and the missing-data lines.

    A row is (figure, quartier, comparisons..., gap); a figure the quartier has no value for
    is a missing-data line, not a row.
    """
    kf = ctx.metrics.key_figures
    lang = ctx.lang
    if kf is None or code not in kf.index:
        return [], [], [note_text(n, lang) for n in ctx.metrics.notes_on("key_figures")]
    row = kf.loc[code]
    comps = comparison_columns(list(kf.index))
    rows: list[list[str]] = []
    missing: list[tuple[str, Any]] = []
    for col in kf.columns:
        if col in ("name", "reason", "population_source"):  # (the source: a note below)
            continue
        title = key_figure_label(col, kf.attrs, lang)
        if pd.isna(row[col]):  # no "n.d." row: the box says what to provide
            missing.append((title, column_reason(row.get("reason"), col)))
            continue
        ctx.show(col, year=kf.attrs.get("impervious_year") if col == "impervious_share" else None)
        cells = [title, format_key_figure(col, row[col], lang)]
        cells += [_cell(col, kf.at[k, col], lang) for k in comps]
        gap = "—"
        if col.endswith(("_share", "_pp")) and comps and not pd.isna(kf.at[comps[0], col]):
            scale = 100 if col.endswith("_share") else 1
            gap = fmt_change(scale * (row[col] - kf.at[comps[0], col]), lang, unit=" pt")
        rows.append([*cells, gap])
    return rows, comps, missing_items(missing, lang)


def _cell(column: str, value: Any, lang: str) -> str:
    """Return a comparison cell: its value, or a dash (the box says what is missing)."""
    return "—" if pd.isna(value) else format_key_figure(column, value, lang)


def _population_note(ctx: DossierContext, code: str) -> str:
    """Say where the quartier's and the commune's residents come from ("" when unknown)."""
    kf = ctx.metrics.key_figures
    if kf is None or "population_source" not in kf.columns or code not in kf.index:
        return ""
    lang = ctx.lang
    ref = next((k for k in (COMMUNE, QPV) if k in kf.index), None)
    if ref is None or not isinstance(kf.at[ref, "population_source"], str):
        return ""
    return dl(
        "population_from",
        lang,
        quartier=format_key_figure("population_source", kf.at[code, "population_source"], lang),
        town=row_title(ref, town=ctx.town, lang=lang),
        territory=format_key_figure("population_source", kf.at[ref, "population_source"], lang),
    )


#: The indicators the dossier shows, in order (those the tables hold; see ``indicators=``).
DOSSIER_INDICATORS: tuple[str, ...] = (
    "median_income",
    "poverty_rate",
    "income_d1",
    "gini",
    "rsa_share",
    "css_share",
    "employment_rate",
    "precarious_job_share",
    "unemployment_rate",
    "jobseeker_ratio",
    "no_diploma_share",
    "under_25_share",
)

#: The reference levels of the gap column, by preference: the INSEE figure of the commune
#: itself, outside the QPV, of the EPCI, of all the QPV of France, of France.
REFERENCES: tuple[str, ...] = ("commune", "hors_qpv", "epci", "france_qpv", "all_qpv", "france")
_REFERENCE_LABELS = {
    "epci": ("EPCI", "EPCI"),
    "france": ("France", "France"),
}
# the indicator tables' levels that are comparison rows of the contract (all_qpv: INSEE's
# national all-QPV figure, the contract's france_qpv)
_REFERENCE_ROWS = {
    "commune": COMMUNE,
    "hors_qpv": HORS_QPV,
    "france_qpv": FRANCE_QPV,
    "all_qpv": FRANCE_QPV,
}


def reference_name(level: str, town: str, lang: str = "fr") -> str:
    """Return the name of a reference level (the same words as the tables' comparison rows).

    Examples
    --------
    >>> reference_name("commune", "Soissons"), reference_name("all_qpv", "Soissons", "fr")
    ('Soissons (commune)', 'Ensemble des QPV de France')
    >>> reference_name("epci", "Soissons", "en")
    'EPCI'
    """
    if level in _REFERENCE_ROWS:
        return str(row_label(_REFERENCE_ROWS[level], town=town, lang=lang))
    fr, en = _REFERENCE_LABELS.get(level, (level, level))
    return fr if lang == "fr" else en


def latest_indicators(gaps: pd.DataFrame, wanted: Sequence[str], limit: int) -> pd.DataFrame:
    """Return the latest (source, year) of each wanted indicator, as a flat table of every quartier.

    Indicators of `wanted` present in `gaps` come first, in that order; when none is present,
    the first `limit` indicators of the table. The result has the columns of `gaps` plus
    ``quartier``, ``indicator``, ``source``, ``year`` (one (source, year) per indicator: the
    latest year, then the first source in alphabetical order).
    """
    flat = gaps.reset_index()
    present = list(dict.fromkeys(flat["indicator"]))
    names = [i for i in wanted if i in present] or present
    names = names[:limit]
    flat = flat[flat["indicator"].isin(names)]
    keys = (
        flat[flat["value"].notna()]
        .sort_values(["indicator", "year", "source"], ascending=[True, False, True])
        .drop_duplicates("indicator")[["indicator", "source", "year"]]
    )
    out = flat.merge(keys, on=["indicator", "source", "year"])
    order = {n: i for i, n in enumerate(names)}
    return out.sort_values("indicator", key=lambda c: c.map(order), kind="stable")


def chosen_reference(rows: pd.DataFrame) -> str | None:
    """Return the level of :data:`REFERENCES` with the most values in `rows` (None: none).

    Ties go to the first in :data:`REFERENCES` (the commune first), so that the gap column
    has as few blanks as the data allow.
    """
    counts = {
        level: int(rows[f"{level}_value"].notna().sum())
        for level in REFERENCES
        if f"{level}_value" in rows.columns
    }
    best = max(counts.values(), default=0)
    return next((lv for lv, n in counts.items() if n == best), None) if best else None


def indicator_rows(ctx: DossierContext, code: str) -> tuple[list[list[str]], str | None, list[str]]:
    """Rows (indicator, value, change, reference, gap) of a quartier's indicators.

    Returns the rows, the reference level of the gaps and the missing-data lines (an
    indicator the quartier has no value for is not a row: it is said in the box).
    """
    m, lang = ctx.metrics, ctx.lang
    gaps = m.indicator_gaps
    if gaps is None or code not in gaps.index.get_level_values("quartier"):
        return [], None, []
    table = latest_indicators(gaps, ctx.indicators, 10)
    sub = table[table["quartier"] == code]
    ref = chosen_reference(sub)
    trend = m.indicator_trend
    rows, missing = [], []
    for r in sub.to_dict("records"):
        spec = INDICATORS.get(str(r["indicator"]))
        title = (spec.label_fr if lang == "fr" else spec.label_en) if spec else str(r["indicator"])
        if pd.isna(r["value"]):
            missing.append((title, r.get("reason")))
            continue
        ctx.show(str(r["indicator"]), year=r["year"])
        change = "—"
        key: Any = (code, r["indicator"], r["source"], r["year"])
        if trend is not None and key in trend.index:
            tr = trend.loc[key]
            if not pd.isna(tr["change"]):
                since = dl("since", lang, year=f"{int(tr['previous_year'])}")
                change = f"{indicator_change(spec, tr['change'], lang)} {since}"
        reference, gap = "—", "—"
        if ref and not pd.isna(r.get(f"{ref}_value")):
            reference = indicator_value(spec, r.get(f"{ref}_value"), lang)
            gap = indicator_change(spec, r.get(f"gap_to_{ref}"), lang)
        rows.append(
            [
                f"{title} ({int(r['year'])})",
                indicator_value(spec, r["value"], lang),
                change,
                reference,
                gap,
            ]
        )
    return rows, ref, missing_items(missing, lang)


def indicator_value(spec: Any, value: Any, lang: str) -> str:
    """Return an indicator's value in its unit (``41,2 %``, ``13 580 €``); ``n.d.`` if missing."""
    if pd.isna(value):
        return label("no_data", lang)
    if spec is None:
        return fmt_number(value, lang, 2)
    return str(spec.format(float(value), lang)).replace(" %", "\u00a0%")


def indicator_change(spec: Any, value: Any, lang: str) -> str:
    """Return a change or a gap of an indicator: signed points for shares, euros for incomes."""
    if pd.isna(value):
        return label("no_data", lang)
    unit = getattr(spec, "unit", None)
    if unit == "fraction":
        return fmt_change(100 * float(value), lang, unit=" pt")
    if unit == "EUR":
        return fmt_change(value, lang, unit="\u00a0€", decimals=0)
    return fmt_change(value, lang, decimals=3 if unit == "index" else 2)


def _services(ctx: DossierContext, code: str) -> tuple[str, list[str]]:
    """Return the services within each walking threshold of the quartier's residents.

    Returns the table, or "" and the missing-data lines that say why there is none.
    """
    m, lang = ctx.metrics, ctx.lang
    cov = m.coverage
    if cov is None or code not in cov.index.get_level_values("quartier"):
        notes = [note_text(n, lang) for n in m.notes_on("access")] or [dl("no_coverage", lang)]
        return "", notes
    ctx.show("covered_share")
    sub = cov.xs(code, level="quartier")
    thresholds = sorted(sub.index.get_level_values("threshold_min").unique())[:3]
    medians = _median_times(ctx, code)
    header = [dl("col_service", lang)] + [
        dl("col_within", lang, minutes=fmt_number(x, lang, 0)) for x in thresholds
    ]
    if medians:
        header.append(dl("col_median", lang))
    rows = []
    for kind in dict.fromkeys(sub.index.get_level_values("kind")):
        cells = [kind_label(str(kind), lang)]
        for x in thresholds:
            cells.append(fmt_value("covered_share", sub.loc[(kind, x), "covered_share"], lang))
        if medians:
            cells.append(fmt_value("time_min", medians.get(str(kind), np.nan), lang))
        rows.append(cells)
    return table_html(header, rows, cls="data services") + (
        f'<p class="small">{esc(dl("services_note", lang))}</p>'
    ), []


def _median_times(ctx: DossierContext, code: str) -> dict[str, float]:
    """Median walking time to the nearest service of each kind, over the quartier's homes."""
    res = ctx.metrics.residences_access
    q = ctx.territory.quartiers
    if res is None or q is None or res.empty:
        return {}
    inside = res[(assign_quartier(res, q) == code).to_numpy()]
    if inside.empty:
        return {}
    return {
        c[: -len("_time_min")]: float(inside[c].median())
        for c in inside.columns
        if c.endswith("_time_min")
    }


def overview_page(ctx: DossierContext) -> str:
    """Return the overview: the territory's map and the key figures of every quartier."""
    m, lang = ctx.metrics, ctx.lang
    parts = [f'<section class="page" id="overview"><h1>{esc(dl("overview", lang))}</h1>']
    png = overview_map(ctx.territory, ctx.wide)
    missing: list[str] = [] if png else [dl("no_quartiers", lang)]
    if png:
        parts.append(img(png, dl("overview", lang)))
    kf = m.key_figures
    if kf is None:
        missing += [note_text(n, lang) for n in m.notes_on("key_figures")] or [
            label("rp_provide_table", lang, table=dl("key_figures", lang))
        ]
    else:
        # (the population's source is said in words under the table, not as a row of text)
        skip = ("name", "reason", "population_source")
        cols = [c for c in kf.columns if c not in skip and kf[c].notna().any()]
        names = dict(ctx.quartiers)
        header = [dl("col_figure", lang)] + [
            row_title(k, town=ctx.town, names=names, lang=lang) for k in kf.index
        ]
        rows = [
            [key_figure_label(c, kf.attrs, lang)] + [_cell(c, kf.loc[k, c], lang) for k in kf.index]
            for c in cols
        ]
        parts.append(f"<h2>{esc(dl('key_figures', lang))}</h2>")
        parts.append(table_html(header, rows, cls="data keyfigures"))
        if "population_source" in kf.columns:
            found = kf["population_source"].dropna().unique()
            words = [format_key_figure("population_source", v, lang) for v in found]
            if words:
                line = label("rp_population_sources", lang, sources=" ; ".join(words))
                parts.append(f'<p class="small">{esc(line)}</p>')
        ctx.show(*cols)
    notes = [note_text(n, lang) for n in m.notes if n.key in ("method", "population_gap")]
    if notes:
        parts.append(f'<p class="small">{esc(" ; ".join(dict.fromkeys(notes)))}</p>')
    parts.append(missing_box(missing, lang))
    parts.append("</section>")
    return "".join(parts)


def quartier_page(ctx: DossierContext, code: str, name: str, anchor: str) -> str:
    """Return one quartier's page: map, key figures, services, indicators, missing data.

    The key figures compare the quartier with the commune outside the QPV and the commune;
    everything the page cannot show is said in its one "missing data" box.
    """
    lang = ctx.lang
    png = quartier_map(ctx.territory, code, ctx.style)
    key_rows, comps, missing = _key_rows(ctx, code)
    header = [dl("col_figure", lang), dl("col_value", lang)]
    header += [row_title(k, town=ctx.town, lang=lang) for k in comps]
    first = row_title(comps[0], town=ctx.town, lang=lang) if comps else ""
    header.append(dl("gap_to", lang, name=first) if comps else dl("col_gap", lang))
    figures = table_html(header, key_rows, cls="data keyfig") if key_rows else ""
    source = _population_note(ctx, code)
    if key_rows and source:
        figures += f'<p class="small">{esc(source)}</p>'
    ind_rows, ref, ind_missing = indicator_rows(ctx, code)
    missing += ind_missing
    indicators = ""
    if ind_rows:
        ref_name = reference_name(ref, ctx.town, lang) if ref else "—"
        ind_header = [
            dl("col_figure", lang),
            dl("col_value", lang),
            dl("col_change", lang),
            ref_name,
            dl("gap_to", lang, name=ref_name) if ref else dl("col_gap", lang),
        ]
        indicators = table_html(ind_header, ind_rows, cls="data indicators")
    elif not ind_missing:
        notes = [note_text(n, lang) for n in ctx.metrics.notes_on("indicators")]
        missing += notes or [label("indicators_none", lang)]
    services, services_missing = _services(ctx, code)
    missing += services_missing
    minutes = minutes_text(list(ctx.territory.settings.thresholds_min), lang)
    services_title = (
        dl("services_within", lang, minutes=minutes) if minutes else label("rp_within_walk", lang)
    )
    title = esc(dl("quartier_page", lang, name=name))
    map_html = img(png, dl("map_quartier", lang, name=name)) if png else ""
    ind_html = (
        f'<div class="qindicators"><h2>{esc(dl("theme_indicators", lang))}</h2>{indicators}</div>'
        if indicators
        else ""
    )
    return (
        f'<section class="page quartier" id="{esc(anchor)}">'
        f'<h1>{title} <span class="code">{esc(code)}</span></h1>'
        f'<div class="qpage"><div class="qmap">{map_html}</div><div class="qside">'
        f'<div class="qfigures"><h2>{esc(dl("key_figures", lang))}</h2>{figures}</div>'
        f'<div class="qservices"><h2>{esc(services_title)}</h2>{services}</div>'
        f"{ind_html}{missing_box(missing, lang)}"
        "</div></div></section>"
    )
