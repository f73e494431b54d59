"""The sections of the annual report on the politique de la ville (:mod:`.annual_report`).

Each function returns the HTML of one section, in the committee's language, every data text
escaped (:func:`cdv_geo.core.escape.escape_text`). Figures are formatted with
:func:`cdv_geo.core.labels.fmt_number` (amounts, counts, per-inhabitant figures) and
:func:`cdv_geo.core.labels.fmt_percent` (shares), from the table named in the section: the
report's text can be checked against those tables figure by figure.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.escape import escape_text
from cdv_geo.core.labels import fmt_number, fmt_percent, label
from cdv_geo.core.labels_actions import action_column_label, action_value_label
from cdv_geo.core.rows import row_label
from cdv_geo.core.tables import QPV, is_comparison_row
from cdv_geo.io.insee.registry import INDICATORS
from cdv_geo.views.cells import cell_text

__all__ = [
    "REPORT_INDICATORS",
    "ReportContext",
    "actions_section",
    "eur",
    "number",
    "prospects_section",
    "renewal_section",
    "situation_section",
    "tfpb_section",
]

#: The indicators of the situation section, in order (those the INSEE tables hold are shown).
REPORT_INDICATORS: tuple[str, ...] = (
    "poverty_rate",
    "median_income",
    "minimum_income_share",
    "housing_benefits_share",
    "unemployment_benefit_share",
    "under_25_share",
    "single_person_household_share",
)


@dataclass
class ReportContext:
    """What every section reads: the year, the language, the quartiers and the tables.

    ``ledger``, ``by_pillar``, ``by_funder``, ``apart``, ``tfpb``, ``tfpb_axes`` are the
    tables of the year (:mod:`cdv_geo.metrics.ledger`, :mod:`cdv_geo.metrics.tfpb`), None when
    the project has no actions or TFPB table.
    """

    year: int
    lang: str
    town: str
    quartiers: gpd.GeoDataFrame
    population: pd.DataFrame | None = None
    indicators: pd.DataFrame | None = None
    renewal: pd.DataFrame | None = None
    ledger: pd.DataFrame | None = None
    by_pillar: pd.DataFrame | None = None
    by_funder: pd.DataFrame | None = None
    apart: pd.DataFrame | None = None
    tfpb: pd.DataFrame | None = None
    tfpb_axes: pd.DataFrame | None = None
    map_png: bytes | None = None
    names: dict[str, str] = field(default_factory=dict)

    def row(self, key: Any) -> str:
        """Return the label of a row: a quartier's name, or a comparison row's label."""
        if is_comparison_row(key):
            return str(row_label(key, town=self.town, lang=self.lang))
        return self.names.get(str(key), str(key))


def number(value: Any, lang: str, decimals: int = 0) -> str:
    """Return a count or a figure as the report prints it ("n.d." when missing).

    Examples
    --------
    >>> number(14500.0, "en"), number(float("nan"), "fr")
    ('14,500', 'n.d.')
    """
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return label("no_data", lang)
    return fmt_number(float(value), lang, decimals)


def eur(value: Any, lang: str, decimals: int = 0) -> str:
    """Return an amount in euros as the report prints it.

    Examples
    --------
    >>> eur(12500, "en").replace("\u00a0", " ")  # (a no-break space before the euro sign)
    '12,500 €'
    """
    text = number(value, lang, decimals)
    return text if text == label("no_data", lang) else f"{text}\u00a0€"


def _percent(value: Any, lang: str) -> str:
    if value is None or pd.isna(value):
        return label("no_data", lang)
    return fmt_percent(float(value), lang)


def _table(
    heads: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "", *, text: int = 1
) -> str:
    """Return an HTML table: the first `text` columns are text, the others numbers."""
    e = escape_text
    out = [f'<table class="{cls}"><thead><tr>']
    out += [f"<th{'' if i < text else ' class=num'}>{e(h)}</th>" for i, h in enumerate(heads)]
    out.append("</tr></thead><tbody>")
    for r in rows:
        cells = [f"<td{'' if i < text else ' class=num'}>{e(c)}</td>" for i, c in enumerate(r)]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _h(tag: str, key: str, lang: str, **fmt: Any) -> str:
    return f"<{tag}>{escape_text(label(key, lang, **fmt))}</{tag}>"


def _p(text: str, cls: str = "") -> str:
    return f'<p class="{cls}">{escape_text(text)}</p>' if cls else f"<p>{escape_text(text)}</p>"


def _indicator_cells(ind: str, rows: pd.DataFrame, lang: str) -> tuple[str, str]:
    """Return the latest value (with its year) and its change since the first vintage."""
    rows = rows.dropna(subset=["value"]).sort_values("year")
    if rows.empty:
        return label("no_data", lang), ""
    last, first = rows.iloc[-1], rows.iloc[0]
    value = f"{cell_text('value', last['value'], lang, indicator=ind)} ({int(last['year'])})"
    if len(rows) < 2:
        return value, ""
    change = cell_text("change", last["value"] - first["value"], lang, indicator=ind)
    since = "depuis" if lang == "fr" else "since"
    return value, f"{change} {since} {int(first['year'])}"


def situation_section(ctx: ReportContext) -> str:
    """Return section 1: the population of every row, then each quartier's indicators."""
    lang = ctx.lang
    out = [_h("h1", "ar_s_situation", lang), _p(label("ar_s_situation_intro", lang))]
    pop = ctx.population
    if pop is not None and not pop.empty:
        heads = ["", action_column_label("population", lang=lang)]
        heads.append(action_column_label("population_source", lang=lang))
        rows = [
            [
                ctx.row(k),
                number(pop.loc[k, "population"], lang),
                cell_text("population_source", pop.loc[k, "population_source"], lang),
            ]
            for k in pop.index
        ]
        out.append(_table(heads, rows, "population"))
    ind = ctx.indicators
    if ind is None or ind.empty:
        return f'<section id="situation">{"".join(out)}</section>'
    wanted = [i for i in REPORT_INDICATORS if i in set(ind["indicator"]) and i in INDICATORS]
    # the references the INSEE tables hold: the town when published, all French QPV
    levels = (("commune", "commune"), ("all_qpv", "france_qpv"))
    refs = [(ind[ind["level"] == lv], row) for lv, row in levels if (ind["level"] == lv).any()]
    for code in ctx.quartiers["code"]:
        mine = ind[(ind["level"] == "qpv") & (ind["code"] == code)]
        rows = []
        for name in wanted:
            info = INDICATORS[name]
            value, change = _indicator_cells(name, mine[mine["indicator"] == name], lang)
            shown = [_indicator_cells(name, r[r["indicator"] == name], lang)[0] for r, _ in refs]
            rows.append([info.label_fr if lang == "fr" else info.label_en, value, change, *shown])
        if rows:
            out.append(f"<h3>{escape_text(ctx.row(code))}</h3>")
            heads = [label("ar_indicator", lang), label("ar_value", lang)]
            heads += [label("ar_change", lang), *[ctx.row(row) for _, row in refs]]
            out.append(_table(heads, rows, "indicators"))
    return f'<section id="situation">{"".join(out)}</section>'


#: The ledger columns the report prints, with their format.
_LEDGER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("n_actions", "count"),
    ("amount_eur", "eur"),
    ("amount_per_inhabitant_eur", "eur"),
    ("n_beneficiaries", "count"),
    ("beneficiaries_per_100", "one"),
)


def _fmt(kind: str, value: Any, lang: str) -> str:
    if kind == "eur":
        return eur(value, lang)
    if kind == "one":
        return number(value, lang, 1)
    if kind == "percent":
        return _percent(value, lang)
    return number(value, lang)


def _by_table(ctx: ReportContext, table: pd.DataFrame, level: str) -> str:
    """Return the qpv rows of a ledger by pillar or funder, one line per pillar or funder."""
    lang = ctx.lang
    if QPV not in table.index.get_level_values("quartier"):  # (no action funded that year)
        return _p(label("ar_none_this_year", lang, year=ctx.year), "missing")
    part = table.xs(QPV, level="quartier")
    part = part[part["n_actions"] > 0]
    heads = [action_column_label(level, lang=lang)]
    heads += [action_column_label(c, lang=lang) for c in ("n_actions", "amount_eur")]
    rows = [
        [
            action_value_label(level, k, lang),
            number(r["n_actions"], lang),
            eur(r["amount_eur"], lang),
        ]
        for k, r in part.iterrows()
    ]
    return _table(heads, rows, "by")


def actions_section(ctx: ReportContext) -> str:
    """Return section 2: the ledger of the year, by pillar and funder, the actions apart."""
    lang = ctx.lang
    out = [_h("h1", "ar_s_actions", lang)]
    if ctx.ledger is None:
        out.append(_p(label("ar_no_actions", lang), "missing"))
        return f'<section id="actions">{"".join(out)}</section>'
    out.append(_p(label("ar_s_actions_intro", lang, year=ctx.year)))
    cols = [(c, k) for c, k in _LEDGER_COLUMNS if c in ctx.ledger.columns]
    heads = [""] + [action_column_label(c, lang=lang) for c, _ in cols]
    rows = [
        [ctx.row(key)] + [_fmt(kind, r[c], lang) for c, kind in cols]
        for key, r in ctx.ledger.iterrows()
    ]
    out.append(_table(heads, rows, "ledger"))
    if ctx.by_pillar is not None:
        out += [_h("h2", "ar_by_pillar", lang), _by_table(ctx, ctx.by_pillar, "pillar")]
    if ctx.by_funder is not None:
        out += [_h("h2", "ar_by_funder", lang), _by_table(ctx, ctx.by_funder, "funder")]
    if ctx.apart is not None and not ctx.apart.empty:
        heads = [action_column_label(c, lang=lang) for c in ("title", "place", "amount_eur")]
        rows = [
            [str(r["title"]), str(r["place_label"]), eur(r["amount_eur"], lang)]
            for _, r in ctx.apart.iterrows()
        ]
        out += [_h("h2", "ar_apart", lang), _table(heads, rows, "apart", text=2)]
    if ctx.map_png:
        data = base64.b64encode(ctx.map_png).decode("ascii")
        caption = escape_text(label("ar_map_caption", lang))
        out.append(
            f'<figure><img class="map" src="data:image/png;base64,{data}" alt="{caption}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return f'<section id="actions">{"".join(out)}</section>'


def tfpb_section(ctx: ReportContext) -> str:
    """Return section 3: the TFPB balance per landlord and quartier, the counterparts by axis."""
    lang = ctx.lang
    out = [_h("h1", "ar_s_tfpb", lang)]
    if ctx.tfpb is None:
        out.append(_p(label("ar_no_tfpb", lang), "missing"))
        return f'<section id="tfpb">{"".join(out)}</section>'
    out.append(_p(label("ar_s_tfpb_intro", lang)))
    cols = ("abatement_eur", "counterparts_eur", "balance_eur", "spent_ratio")
    heads = [action_column_label("landlord", lang=lang), label("ar_quartier", lang)]
    heads += [action_column_label(c, lang=lang) for c in cols[:3]] + [label("ar_spent", lang)]
    rows = []
    for index, r in ctx.tfpb.iterrows():
        key, landlord = index[0], index[1]  # type: ignore[index]
        cells = [eur(r[c], lang) for c in cols[:3]] + [_percent(r["spent_ratio"], lang)]
        rows.append([str(landlord), ctx.row(key), *cells])
    out.append(_table(heads, rows, "tfpb", text=2))
    axes = ctx.tfpb_axes
    if axes is not None and QPV in axes.index.get_level_values("quartier"):
        part = axes.xs(QPV, level="quartier").groupby(["axis", "landlord"], sort=False)
        sums = part["amount_eur"].sum().unstack("landlord")
        landlords = [str(c) for c in sums.columns]
        rows = [
            [action_value_label("axis", a, lang), *[eur(v, lang) for v in sums.loc[a]]]
            for a in sums.index
        ]
        heads = [action_column_label("axis", lang=lang), *landlords]
        out += [_h("h2", "ar_tfpb_axes", lang), _table(heads, rows, "axes")]
    return f'<section id="tfpb">{"".join(out)}</section>'


def renewal_section(ctx: ReportContext) -> str:
    """Return section 4: dwellings planned, in progress and done per renewal operation."""
    lang = ctx.lang
    out = [_h("h1", "ar_s_renewal", lang)]
    rp = ctx.renewal
    if rp is None or rp.empty or not (rp["n_total"] > 0).any():
        out.append(_p(label("ar_no_renewal", lang), "missing"))
        return f'<section id="renewal">{"".join(out)}</section>'
    cols = ("n_planned", "n_in_progress", "n_done", "n_total")
    heads = [label("ar_quartier", lang), action_column_label("operation", lang=lang)]
    heads += [action_column_label(c, lang=lang) for c in cols]
    rows = []
    for index, r in rp[rp["n_total"] > 0].iterrows():
        key, operation = index[0], index[1]  # type: ignore[index]
        if key in ("commune", "hors_qpv"):
            continue  # (the renewal is the quartiers': the town's rows repeat them)
        op = cell_text("operation", operation, lang)
        rows.append([ctx.row(key), op, *[number(r[c], lang) for c in cols]])
    out.append(_table(heads, rows, "renewal", text=2))
    return f'<section id="renewal">{"".join(out)}</section>'


def prospects_section(text: str | None, lang: str) -> str:
    """Return section 5: the council's prospects, the project's text (paragraphs escaped)."""
    out = [_h("h1", "ar_s_prospects", lang)]
    paragraphs = [p.strip() for p in (text or "").split("\n\n") if p.strip()]
    if not paragraphs:
        out.append(_p(label("ar_no_prospects", lang), "missing"))
    out += [_p(" ".join(p.split())) for p in paragraphs]
    return f'<section id="prospects">{"".join(out)}</section>'


def actions_png(
    quartiers: gpd.GeoDataFrame,
    actions: gpd.GeoDataFrame | None,
    tfpb: gpd.GeoDataFrame | None,
    lang: str,
) -> bytes | None:
    """Return a PNG of the quartiers, the located actions and the located TFPB counterparts."""
    pts = [
        g for g in (actions, tfpb) if isinstance(g, gpd.GeoDataFrame) and g.geometry.notna().any()
    ]
    if not pts:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5.2), dpi=150)
    q = quartiers.to_crs(2154)
    q.plot(ax=ax, facecolor="#ede7f6", edgecolor="#4a148c", linewidth=1.0)
    for _, r in q.iterrows():
        c = r.geometry.representative_point()
        ax.annotate(str(r.get("name", r["code"])), (c.x, c.y), ha="center", fontsize=8,
                    color="#4a148c", weight="bold")  # fmt: skip
    styles = [("am_actions", "#e65100", "o"), ("am_tfpb", "#1b5e20", "s")]
    for g, (key, colour, marker) in zip((actions, tfpb), styles, strict=True):
        if isinstance(g, gpd.GeoDataFrame) and g.geometry.notna().any():
            located = g[g.geometry.notna() & ~g.geometry.is_empty].to_crs(2154)
            located.representative_point().plot(
                ax=ax, color=colour, marker=marker, markersize=26, label=label(key, lang)
            )
    ax.set_axis_off()
    ax.legend(loc="lower left", fontsize=8, frameon=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
