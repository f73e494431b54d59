"""The theme pages of the dossier: access, services, renaturation, renewal, indicators, heat.

One ``<section>`` (one printed page) per theme of :data:`THEMES`, each with a map or chart and a
table per quartier (the town last). A theme whose inputs are missing keeps its page, which says
what is missing (the pipeline's notes on that topic): never an empty chart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from cdv_geo.core.labels import column_label, fmt_number, kind_label, label
from cdv_geo.core.labels_heat import conclusion_text
from cdv_geo.io.insee.registry import INDICATORS
from cdv_geo.output.dossier_html import (
    DOSSIER_LABELS,
    dl,
    esc,
    fmt_value,
    img,
    minutes_text,
    missing_box,
    note_text,
    raster_words,
    row_title,
    table_html,
)
from cdv_geo.output.dossier_maps import (
    access_map,
    renaturation_map,
    renewal_map,
    timeline_chart,
    trend_chart,
)
from cdv_geo.output.dossier_pages import (
    KEY_FIGURE_COLUMNS,
    REFERENCES,
    DossierContext,
    format_key_figure,
    indicator_value,
    key_figure_label,
    latest_indicators,
    reference_name,
    row_keys,
)
from cdv_geo.output.dossier_services import services_body
from cdv_geo.output.tables import table_title

__all__ = [
    "HEAT_FIELDS",
    "THEMES",
    "figure_label",
    "per_quartier_table",
    "row_keys",
    "theme_page",
    "theme_title",
]

#: The themes, one page each, in dossier order.
THEMES: tuple[str, ...] = ("access", "services", "renaturation", "renewal", "indicators", "heat")

#: Metrics fields the heat and water page shows when the pipeline provides them.
HEAT_FIELDS: tuple[str, ...] = (
    "heat_exposure",
    "children_access",
    "cool_access",
    "incidents",
    "site_choice",
)


def theme_title(theme: str, lang: str = "fr") -> str:
    """Return the title of a theme page.

    Examples
    --------
    >>> theme_title("heat", "en")
    'Heat and water'
    """
    return dl(f"theme_{theme}", lang)


def _notes(ctx: DossierContext, *topics: str) -> list[str]:
    return [note_text(n, ctx.lang) for n in ctx.metrics.notes_on(*topics)]


def _headers(ctx: DossierContext, keys: Sequence[Any], first: str | None = None) -> list[str]:
    names = dict(ctx.quartiers)
    head = first if first is not None else dl("col_figure", ctx.lang)
    return [head] + [row_title(k, town=ctx.town, names=names, lang=ctx.lang) for k in keys]


def figure_label(column: str, lang: str = "fr", attrs: Mapping[Any, Any] | None = None) -> str:
    """Return the row label of a figure in a theme table (short, with its unit).

    Examples
    --------
    >>> figure_label("n_rebuilt_on_site", "en"), figure_label("n_trees")
    ('of which on site', 'Arbres plantés')
    """
    key = f"fig_{column}"
    if key in DOSSIER_LABELS:
        return dl(key, lang)
    if column in KEY_FIGURE_COLUMNS:
        return key_figure_label(column, attrs or {}, lang)
    return column_label(column, lang=lang)


def per_quartier_table(
    ctx: DossierContext,
    columns: dict[str, pd.Series | None],
    *,
    formatter: Callable[[str, Any, str], str] = format_key_figure,
    attrs: Mapping[Any, Any] | None = None,
) -> tuple[str, list[str]]:
    """Return a table with one row per figure and one column per quartier (the town last).

    `columns` maps a column name of the result tables to its Series (indexed by quartier).
    Figures with no value at all are left out; their names are returned so that the page says
    so.
    """
    keep = {c: s for c, s in columns.items() if s is not None and s.notna().any()}
    empty = [c for c in columns if c not in keep]
    if not keep:
        return "", empty
    index = row_keys(ctx, dict.fromkeys(k for s in keep.values() for k in s.index))
    rows = [
        [figure_label(c, ctx.lang, attrs)]
        + [_cell(formatter, c, s.get(k), ctx.lang) for k in index]
        for c, s in keep.items()
    ]
    ctx.show(*keep)
    return table_html(_headers(ctx, index), rows, cls="data figures"), empty


def _cell(formatter: Callable[[str, Any, str], str], column: str, value: Any, lang: str) -> str:
    """Return a cell: its value, or a dash (the page's box says what is missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return formatter(column, value, lang)


def _col(table: pd.DataFrame | None, column: str) -> pd.Series | None:
    if table is None or column not in table.columns:
        return None
    if table.index.nlevels > 1:
        return None
    return table[column]


def _attrs(m: Any) -> dict[str, Any]:
    return dict(m.key_figures.attrs) if m.key_figures is not None else {}


def _section(theme: str, ctx: DossierContext, body: Sequence[str]) -> str:
    return (
        f'<section class="page theme" id="theme-{esc(theme)}">'
        f"<h1>{esc(theme_title(theme, ctx.lang))}</h1>{''.join(body)}</section>"
    )


def _access(ctx: DossierContext) -> list[str]:
    m, lang = ctx.metrics, ctx.lang
    cov = m.coverage
    if cov is None:
        return [missing_box(_notes(ctx, "access", "network") or [dl("no_coverage", lang)], lang)]
    kf = m.key_figures
    kinds = list(dict.fromkeys(cov.index.get_level_values("kind")))
    service = str(kf.attrs.get("service")) if kf is not None and kf.attrs.get("service") else ""
    if service not in kinds:
        service = str(kinds[0])
    body = []
    png = access_map(ctx.territory, m, service, ctx.wide)
    if png:
        caption = label("fig_access", lang, service=kind_label(service, lang))
        body.append(img(png, caption))
        body.append(f'<p class="caption">{esc(caption)}</p>')
    thresholds = sorted(cov.index.get_level_values("threshold_min").unique())[:2]
    keys = row_keys(ctx, dict.fromkeys(cov.index.get_level_values("quartier")))
    rows = []
    for kind in kinds:
        cells = [kind_label(str(kind), lang)]
        for q in keys:
            values = [cov["covered_share"].get((q, kind, x)) for x in thresholds]
            cells.append(
                " · ".join(fmt_value("covered_share", v, lang) for v in values)
                if any(v is not None and not pd.isna(v) for v in values)
                else "—"
            )
        rows.append(cells)
    ctx.show("covered_share")
    minutes = minutes_text(list(thresholds), lang)
    body.append(f"<h2>{esc(dl('services_within', lang, minutes=minutes))}</h2>")
    body.append(table_html(_headers(ctx, keys, dl("col_service", lang)), rows, cls="data access"))
    notes = _notes(ctx, "access", "network")
    if notes:
        body.append(missing_box(notes, lang))
    return body


def _renaturation(ctx: DossierContext) -> list[str]:
    m, lang = ctx.metrics, ctx.lang
    body = []
    png = renaturation_map(ctx.territory, ctx.wide)
    if png:
        body.append(img(png, theme_title("renaturation", lang)))
    imp = m.impervious_change
    columns = {
        "impervious_share": _col(m.key_figures, "impervious_share"),
        "impervious_change_pp": _col(imp, "impervious_change_pp"),
        "canopy_share": _col(m.canopy, "canopy_share"),
        "desealed_m2": _col(m.key_figures, "desealed_m2"),
        "n_trees": _col(m.key_figures, "n_trees"),
        "meets_3_30_300_share": _col(m.rule_3_30_300, "meets_3_30_300_share"),
    }
    green = m.green_space_access
    if green is not None:
        first = next(
            (c for c in green.columns if c.startswith("green_") and c.endswith("_share")), None
        )
        if first:
            columns[first] = green[first]
    table, empty = per_quartier_table(ctx, columns, attrs=_attrs(m))
    body.append(table)
    notes = _notes(ctx, "renaturation")
    if not notes and (empty or not table):  # a figure without a note: say which, in words
        notes = [
            label(
                "rp_missing_figure",
                lang,
                figure=figure_label(c, lang, _attrs(m)),
                advice=label("rp_not_available", lang),
            )
            for c in empty
        ]
    body.append(missing_box(notes, lang))
    return body


def _renewal(ctx: DossierContext) -> list[str]:
    m, lang = ctx.metrics, ctx.lang
    bal = m.renewal_balance
    if bal is None:
        notes = _notes(ctx, "renewal") or [label("missing_layer", lang, layer="renewal_sites")]
        return [missing_box(notes, lang)]
    body = []
    png = renewal_map(ctx.territory, ctx.wide)
    if png:
        body.append(img(png, theme_title("renewal", lang), cls="map short"))
    wanted = (
        "n_demolished",
        "n_rebuilt",
        "n_rebuilt_on_site",
        "n_rebuilt_off_site",
        "n_received",
        "n_rehabilitated",
        "reconstitution_ratio",
        "density_before_per_ha",
        "density_after_per_ha",
    )
    table, _ = per_quartier_table(ctx, {c: _col(bal, c) for c in wanted})
    body.append(table)
    chart = timeline_chart(m, ctx.style)
    if chart:
        body.append(img(chart, dl("renewal_timeline", lang), cls="chart"))
    body.append(missing_box(_notes(ctx, "renewal"), lang))
    return body


def _indicators(ctx: DossierContext) -> list[str]:
    m, lang = ctx.metrics, ctx.lang
    gaps = m.indicator_gaps
    if gaps is None:
        notes = _notes(ctx, "indicators") or [label("indicators_none", lang)]
        return [missing_box(notes, lang)]
    flat = latest_indicators(gaps, ctx.indicators, 14)
    quartiers = [c for c, _ in ctx.quartiers if c in set(flat["quartier"])]
    names = dict(ctx.quartiers)
    refs = [lv for lv in REFERENCES if f"{lv}_value" in flat and flat[f"{lv}_value"].notna().any()]
    header = [dl("col_figure", lang)] + [names[q] for q in quartiers]
    header += [reference_name(r, ctx.town, lang) for r in refs]
    ctx.show(*(str(n) for n in flat["indicator"].unique()))
    rows = []
    for name, sub in flat.groupby("indicator", sort=False):
        sub = sub.drop_duplicates("quartier").set_index("quartier")
        spec = INDICATORS.get(str(name))
        cells = [f"{_title(str(name), lang)} ({int(sub['year'].iloc[0])})"]
        cells += [_value_or_dash(spec, sub["value"].get(q), lang) for q in quartiers]
        first = sub.iloc[0]
        cells += [_value_or_dash(spec, first.get(f"{r}_value"), lang) for r in refs]
        rows.append(cells)
    body = [table_html(header, rows, cls="data indicators")]
    sources = sorted({str(s) for s in flat["source"].dropna()})
    body.append(
        f'<p class="small">{esc(label("rp_source", lang))} Insee ({esc(", ".join(sources))})</p>'
    )
    shares = [
        (str(n), str(sub["source"].iloc[0]), _title(str(n), lang))
        for n, sub in flat.groupby("indicator", sort=False)
        if (spec := INDICATORS.get(str(n))) is not None and spec.unit == "fraction"
    ]
    chart = trend_chart(gaps, shares, names, ctx.style)
    if chart:
        body.append(f"<h2>{esc(dl('trends', lang))}</h2>")
        body.append(img(chart, dl("trends", lang), cls="chart"))
    grid = m.income_grid
    if grid is not None:
        cols = {c: _col(grid, c) for c in ("mean_living_standard", "poor_household_share")}
        table, _ = per_quartier_table(ctx, cols, formatter=fmt_value)
        body.append(f"<h2>{esc(dl('income_grid', lang))}</h2>{table}")
    body.append(missing_box(_notes(ctx, "indicators"), lang))
    return body


def _value_or_dash(spec: Any, value: Any, lang: str) -> str:
    if value is None or pd.isna(value):
        return "—"
    return indicator_value(spec, value, lang)


def _title(indicator: str, lang: str) -> str:
    spec = INDICATORS.get(indicator)
    if spec is None:
        return indicator
    return spec.label_fr if lang == "fr" else spec.label_en


def _share_rows(ctx: DossierContext, table: pd.DataFrame) -> tuple[list[Any], list[list[str]]]:
    """Rows ``weight × threshold`` of a coverage-by-weight table, one column per quartier."""
    keys = row_keys(ctx, dict.fromkeys(table.index.get_level_values("quartier")))
    rows = []
    for (weight, minutes), sub in table.groupby(level=["weight", "threshold_min"], sort=False):
        share = sub["covered_share"].droplevel(["kind", "threshold_min", "weight"])
        title = label(f"within_{weight}", ctx.lang, minutes=fmt_number(minutes, ctx.lang))
        rows.append(
            [title] + [_cell(fmt_value, "covered_share", share.get(k), ctx.lang) for k in keys]
        )
    return keys, rows


def _heat_rows(ctx: DossierContext, he: pd.DataFrame) -> tuple[list[Any], list[list[str]]]:
    keys = row_keys(ctx, he.index)
    units = str(he.attrs.get("units", ""))
    rows = []
    for col, key in (
        ("heat_mean", "heat_mean_row"),
        ("heat_p90", "heat_p90_row"),
        ("hot_residents_share", "hot_residents_row"),
        ("hot_children_share", "hot_children_row"),
    ):
        values = he[col]
        if values.notna().any():
            ctx.show(col)
            cells = [
                "—"
                if v is None or pd.isna(v)
                else fmt_value(col, v, ctx.lang)
                if col.endswith("_share")
                else fmt_number(v, ctx.lang, 1)
                for v in (values.get(k) for k in keys)
            ]
            rows.append([label(key, ctx.lang, units=units), *cells])
    return keys, rows


def _interval(value: Any, low: Any, high: Any, lang: str) -> str:
    """``0,60 (0,15–1,79)``: a ratio with its 95 % interval, never a bare percentage."""
    if pd.isna(value):
        return label("no_data", lang)
    return f"{fmt_number(value, lang, 2)} ({fmt_number(low, lang, 2)}–{fmt_number(high, lang, 2)})"


def _incidents_table(inc: pd.DataFrame, lang: str) -> str:
    """One column per play area (its shortest walking time): counts, ratios, conclusion."""
    first = inc.index.get_level_values("threshold_min").min()
    near = inc.xs((first, "service_area"), level=("threshold_min", "zone"))
    rows: list[list[str]] = [
        [column_label("opened", lang=lang), *(str(v) for v in near["opened"])],
        [label("inc_before", lang)]
        + [f"{int(a)} / {int(b)}" for a, b in near[["n_before", "n_summers_before"]].values],
        [label("inc_after", lang)]
        + [f"{int(a)} / {int(b)}" for a, b in near[["n_after", "n_summers_after"]].values],
        [label("inc_rr", lang)]
        + [
            _interval(r["rate_ratio"], r["rate_ratio_low"], r["rate_ratio_high"], lang)
            for _, r in near.iterrows()
        ],
        [label("inc_rrr", lang)]
        + [
            _interval(r["ratio_of_rate_ratios"], r["rrr_low"], r["rrr_high"], lang)
            for _, r in near.iterrows()
        ],
        [column_label("conclusion", lang=lang)]
        + [conclusion_text(str(c), lang) for c in near["conclusion"]],
    ]
    minutes = fmt_number(first, lang)
    header = [label("inc_area", lang, minutes=minutes), *(str(n) for n in near["name"])]
    return table_html(header, rows, cls="data", numeric_from=len(header))


def _heat(ctx: DossierContext) -> list[str]:
    m, lang = ctx.metrics, ctx.lang
    body = []
    he = m.heat_exposure
    if he is not None:
        year = he.attrs.get("year")
        head = table_title("heat_exposure", lang=lang) + (f" ({year})" if year else "")
        body.append(f"<h2>{esc(head)}</h2>")
        keys, rows = _heat_rows(ctx, he)
        body.append(table_html(_headers(ctx, keys), rows, cls="data figures"))
    for name in ("children_access", "cool_access"):
        table = getattr(m, name)
        if table is not None:
            body.append(f"<h2>{esc(table_title(name, lang=lang))}</h2>")
            keys, rows = _share_rows(ctx, table)
            body.append(table_html(_headers(ctx, keys), rows, cls="data figures"))
    inc = m.incidents
    if inc is not None and not inc.empty:
        body.append(f"<h2>{esc(table_title('incidents', lang=lang))}</h2>")
        body.append(_incidents_table(inc, lang))
        body.append(f'<p class="small">{esc(dl("incidents_note", lang))}</p>')
    sites = m.site_choice
    if sites is not None and not sites.empty:
        cols = ("rank", "name", "n_children_covered", "n_incidents_covered")
        shown = [c for c in cols if c in sites.columns]
        rows = [[fmt_value(c, r[c], lang) for c in shown] for _, r in sites.iterrows()]
        header = [column_label(c, lang=lang) for c in shown]
        body.append(f"<h2>{esc(table_title('site_choice', lang=lang))}</h2>")
        body.append(table_html(header, rows, cls="data", numeric_from=2))
    found = ctx.metrics.notes_on("heat", "water")
    if he is None:  # say how to add the heat raster, rather than its bare note
        rasters = [k for k in ctx.territory.rasters if k.startswith(("heat", "lst", "temperature"))]
        found = [
            n
            for n in found
            if not (n.key == "missing_raster" and str(n.args.get("name", "")).startswith("heat"))
        ]
        given = ", ".join(raster_words(r, lang) for r in rasters)
        first = (
            dl("heat_raster_given", lang, names=given) if rasters else dl("no_heat_raster", lang)
        )
        notes = [first] + [note_text(n, lang) for n in found]
    else:
        notes = [note_text(n, lang) for n in found]
    if inc is not None and not inc.empty:
        ctx.show("rate_ratio")
    return [*body, missing_box(notes, lang)]


_BUILDERS: dict[str, Callable[[DossierContext], list[str]]] = {
    "access": _access,
    "services": services_body,
    "renaturation": _renaturation,
    "renewal": _renewal,
    "indicators": _indicators,
    "heat": _heat,
}


def theme_page(ctx: DossierContext, theme: str) -> str:
    """Return the page of one theme of :data:`THEMES` (what is missing is said on it)."""
    if ctx.territory.quartiers is None:
        return _section(theme, ctx, [missing_box([dl("no_quartiers", ctx.lang)], ctx.lang)])
    return _section(theme, ctx, _BUILDERS[theme](ctx))
