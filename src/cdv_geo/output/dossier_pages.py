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
from pathlib import Path
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
from cdv_geo.core.tables import TERRITORY
from cdv_geo.io.insee_columns import INDICATORS
from cdv_geo.metrics.key_figures import KEY_FIGURES
from cdv_geo.output.cartography import crs_label, fmt_date
from cdv_geo.output.dossier_html import (
    dl,
    esc,
    fmt_change,
    fmt_value,
    img,
    missing_box,
    note_text,
    table_html,
)
from cdv_geo.output.dossier_maps import MapStyle, overview_map, quartier_map
from cdv_geo.pipeline import Metrics
from cdv_geo.territory import Territory

__all__ = [
    "DOSSIER_INDICATORS",
    "INSEE_SOURCES",
    "KEY_FIGURE_COLUMNS",
    "REFERENCES",
    "DossierContext",
    "chosen_reference",
    "cover_page",
    "data_sources",
    "file_names",
    "format_key_figure",
    "indicator_change",
    "indicator_rows",
    "indicator_value",
    "key_figure_label",
    "latest_indicators",
    "overview_page",
    "quartier_page",
    "reference_name",
]

#: Indicator series read from files published by INSEE (their values are real, even in a demo).
INSEE_SOURCES = frozenset({"revn", "ipro", "demo", "filosofi"})

_ILLUSTRATIVE_WORDS = ("illustrati", "démonstration", "demonstration", "fictif", "fictitious")


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

    @property
    def town(self) -> str:
        """The name of the territory row of the tables (the town)."""
        return self.territory.name


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


def data_sources(t: Territory, m: Metrics, lang: str = "fr") -> pd.DataFrame:
    """Return the data sources of a dossier: one row per layer, raster and table.

    Columns ``data``, ``file``, ``features``, ``source``, ``status`` (``illustratif`` when the
    layer's ``source`` field says so, or when the territory is illustrative and the layer names
    no source; indicators read from INSEE files are ``officiel``).
    """
    rows: list[dict[str, Any]] = []
    for kind, gdf in t.layers().items():
        texts = [str(v) for v in gdf["source"].dropna().unique()] if "source" in gdf.columns else []
        key = f"layer_{kind}"
        rows.append(
            {
                "data": label(key, lang, service="")
                if key != "layer_residences"
                else label("layer_residences_plain", lang),
                "file": Path(str(gdf.attrs.get("source", ""))).name,
                "features": fmt_number(len(gdf), lang),
                "source": "; ".join(texts[:2]) or "—",
                "status": _status(texts, t.illustrative, lang),
            }
        )
    for name, raster in t.rasters.items():
        rows.append(
            {
                "data": f"raster {name}",
                "file": file_names(raster),
                "features": "—",
                "source": "—",
                "status": _status([], t.illustrative, lang),
            }
        )
    for name, path in t.tables.items():
        families: set[str] = set()
        if name == "indicators" and m.indicators is not None and "source" in m.indicators:
            families = {str(s) for s in m.indicators["source"].dropna().unique()}
        official = bool(families) and families <= INSEE_SOURCES
        rows.append(
            {
                "data": f"table {name}",
                "file": file_names(path),
                "features": "—",
                "source": ("Insee (" + ", ".join(sorted(families)) + ")") if official else "—",
                "status": dl("status_official", lang)
                if official
                else _status([], t.illustrative, lang),
            }
        )
    return pd.DataFrame(rows, columns=["data", "file", "features", "source", "status"])


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
    header = [
        dl(k, lang) for k in ("col_data", "col_file", "col_features", "col_source", "col_status")
    ]
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
        minutes = fmt_number(attrs.get("threshold_min", float("nan")), lang, 0)
        service = kind_label(str(attrs.get("service", "")), lang)
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


def _key_rows(ctx: DossierContext, code: str) -> tuple[list[list[str]], list[str]]:
    """Rows (figure, value, town, gap) of the key figures, and the reasons of their NaNs."""
    kf = ctx.metrics.key_figures
    lang = ctx.lang
    if kf is None or code not in kf.index:
        return [], [note_text(n, lang) for n in ctx.metrics.notes_on("key_figures")]
    row = kf.loc[code]
    town = kf.loc[TERRITORY] if TERRITORY in kf.index else None
    rows = []
    for col in kf.columns:
        if col in ("name", "reason", "population_source"):  # (the source: a note below)
            continue
        gap = "—"
        if col.endswith(("_share", "_pp")) and town is not None:
            scale = 100 if col.endswith("_share") else 1
            gap = fmt_change(scale * (row[col] - town[col]), lang, unit=" pt")
        rows.append(
            [
                key_figure_label(col, kf.attrs, lang),
                format_key_figure(col, row[col], lang),
                format_key_figure(col, town[col], lang) if town is not None else "—",
                gap,
            ]
        )
    reason = row["reason"] if "reason" in kf.columns else None
    return rows, ([reason] if isinstance(reason, str) and reason else [])


def _population_note(ctx: DossierContext, code: str) -> str:
    """Say where the quartier's and the territory's residents come from ("" when unknown)."""
    kf = ctx.metrics.key_figures
    if kf is None or "population_source" not in kf.columns or code not in kf.index:
        return ""
    lang = ctx.lang
    town = kf.at[TERRITORY, "population_source"] if TERRITORY in kf.index else None
    return dl(
        "population_from",
        lang,
        quartier=format_key_figure("population_source", kf.at[code, "population_source"], lang),
        town=ctx.town,
        territory=format_key_figure("population_source", town, lang),
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

#: The reference levels of the gap column, by preference, and how they are named.
REFERENCES: tuple[str, ...] = ("commune", "epci", "all_qpv", "france")
_REFERENCE_LABELS = {
    "epci": ("EPCI", "EPCI"),
    "all_qpv": ("Ensemble des QPV", "All QPV"),
    "france": ("France", "France"),
}


def reference_name(level: str, town: str, lang: str = "fr") -> str:
    """Return the name of a reference level (the town for ``commune``).

    Examples
    --------
    >>> reference_name("commune", "Soissons"), reference_name("all_qpv", "Soissons", "en")
    ('Soissons', 'All QPV')
    """
    if level == "commune":
        return town
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
    """Return the first level of :data:`REFERENCES` with a value in `rows` (None: none)."""
    for level in REFERENCES:
        col = f"{level}_value"
        if col in rows.columns and rows[col].notna().any():
            return level
    return None


def indicator_rows(ctx: DossierContext, code: str) -> tuple[list[list[str]], Any, str | None]:
    """Rows (indicator, value, change, reference, gap) of a quartier's indicators.

    Returns the rows, the latest year shown and the reference level of the gaps.
    """
    m, lang = ctx.metrics, ctx.lang
    gaps = m.indicator_gaps
    if gaps is None or code not in gaps.index.get_level_values("quartier"):
        return [], None, None
    table = latest_indicators(gaps, ctx.indicators, 10)
    sub = table[table["quartier"] == code]
    ref = chosen_reference(sub)
    trend = m.indicator_trend
    rows = []
    for r in sub.to_dict("records"):
        spec = INDICATORS.get(str(r["indicator"]))
        title = (spec.label_fr if lang == "fr" else spec.label_en) if spec else str(r["indicator"])
        change = "—"
        key: Any = (code, r["indicator"], r["source"], r["year"])
        if trend is not None and key in trend.index:
            tr = trend.loc[key]
            if not pd.isna(tr["change"]):
                since = dl("since", lang, year=f"{int(tr['previous_year'])}")
                change = f"{indicator_change(spec, tr['change'], lang)} {since}"
        rows.append(
            [
                f"{title} ({int(r['year'])})",
                indicator_value(spec, r["value"], lang),
                change,
                indicator_value(spec, r.get(f"{ref}_value"), lang) if ref else "—",
                indicator_change(spec, r.get(f"gap_to_{ref}"), lang) if ref else "—",
            ]
        )
    years = sub["year"].dropna()
    return rows, (int(years.max()) if len(years) else None), ref


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


def _services(ctx: DossierContext, code: str) -> str:
    """Return the table of services within each walking threshold of the quartier's residents."""
    m, lang = ctx.metrics, ctx.lang
    cov = m.coverage
    if cov is None or code not in cov.index.get_level_values("quartier"):
        notes = [note_text(n, lang) for n in m.notes_on("access")] or [dl("no_coverage", lang)]
        return missing_box(notes, lang)
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
    )


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
    parts.append(
        img(png, dl("overview", lang)) if png else missing_box([dl("no_quartiers", lang)], lang)
    )
    kf = m.key_figures
    if kf is None:
        parts.append(
            missing_box(
                [note_text(n, lang) for n in m.notes_on("key_figures")]
                or [label("missing_table", lang, name="key_figures")],
                lang,
            )
        )
    else:
        cols = [c for c in kf.columns if c not in ("name", "reason")]
        header = [dl("col_figure", lang)] + [
            str(n) if k != TERRITORY else ctx.town for k, n in kf["name"].items()
        ]
        rows = [
            [key_figure_label(c, kf.attrs, lang)]
            + [format_key_figure(c, kf.loc[k, c], lang) for k in kf.index]
            for c in cols
        ]
        parts.append(f"<h2>{esc(dl('key_figures', lang))}</h2>")
        parts.append(table_html(header, rows, cls="data keyfigures"))
    notes = [note_text(n, lang) for n in m.notes if n.key == "method"]
    if notes:
        parts.append(f'<p class="small">{esc(" ; ".join(notes))}</p>')
    parts.append("</section>")
    return "".join(parts)


def quartier_page(ctx: DossierContext, code: str, name: str, anchor: str) -> str:
    """One quartier's page: map, key figures, services within walking distance, indicators."""
    lang = ctx.lang
    png = quartier_map(ctx.territory, code, ctx.style)
    key_rows, reasons = _key_rows(ctx, code)
    header = [dl("col_figure", lang), dl("col_value", lang), ctx.town, dl("col_gap", lang)]
    figures = table_html(header, key_rows, cls="data keyfig") if key_rows else ""
    source = _population_note(ctx, code)
    if key_rows and source:
        figures += f'<p class="small">{esc(source)}</p>'
    if reasons or not key_rows:
        figures += missing_box(reasons or [label("missing_table", lang, name="key_figures")], lang)
    ind_rows, _, ref = indicator_rows(ctx, code)
    if ind_rows:
        ind_header = [
            dl("col_figure", lang),
            dl("col_value", lang),
            dl("col_change", lang),
            reference_name(ref, ctx.town, lang) if ref else "—",
            dl("gap_to", lang, name=reference_name(ref, ctx.town, lang)) if ref else "—",
        ]
        indicators = table_html(ind_header, ind_rows, cls="data indicators")
    else:
        notes = [note_text(n, lang) for n in ctx.metrics.notes_on("indicators")]
        indicators = missing_box(notes or [label("indicators_none", lang)], lang)
    minutes = sorted(set(ctx.territory.settings.thresholds_min))
    services_title = dl(
        "services_within", lang, minutes=" / ".join(fmt_number(x, lang, 0) for x in minutes)
    )
    title = esc(dl("quartier_page", lang, name=name))
    map_html = img(png, dl("map_quartier", lang, name=name)) if png else ""
    return (
        f'<section class="page quartier" id="{esc(anchor)}">'
        f'<h1>{title} <span class="code">{esc(code)}</span></h1>'
        f'<div class="qpage"><div class="qmap">{map_html}</div><div class="qside">'
        '<div class="qgrid">'
        f'<div class="qfigures"><h2>{esc(dl("key_figures", lang))}</h2>{figures}</div>'
        f'<div class="qservices"><h2>{esc(services_title)}</h2>{_services(ctx, code)}</div>'
        "</div>"
        f'<div class="qindicators"><h2>{esc(dl("theme_indicators", lang))}</h2>{indicators}</div>'
        "</div></div></section>"
    )
