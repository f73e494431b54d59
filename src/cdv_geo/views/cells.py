"""Table cells as the committee reads them: row labels, values with their unit, missing cells.

The index page shows the metric tables (:class:`cdv_geo.pipeline.Metrics`) in the reader's
language: each row is labelled from the catalogue (a comparison row by
:func:`cdv_geo.core.rows.row_label`, a facility kind, an INSEE indicator by its name), each
value is formatted with its unit in the reader's number format (``12 210 €``, ``49,6 %``,
``-39 252`` in French), and a missing value shows "n.d." with, in its tooltip, the plain words
of its reason (:func:`cdv_geo.core.reasons.reason_label`): never ``<NA>``, ``nan`` or ``None``.
Every text is escaped (:func:`cdv_geo.core.escape.escape_text`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core import labels as lb
from cdv_geo.core.escape import escape_text
from cdv_geo.core.labels_heat import conclusion_text
from cdv_geo.core.reasons import missing_advice, reason_label, reason_parts
from cdv_geo.core.rows import row_label
from cdv_geo.core.tables import is_comparison_row
from cdv_geo.io.insee.registry import INDICATORS

__all__ = [
    "HIDDEN_COLUMNS",
    "cell_reason",
    "cell_text",
    "header_text",
    "index_text",
    "shown_rows",
    "table_html",
]

#: Columns of the files the index leaves out: where a value was read, not what it says; the
#: reasons are told in the tooltips and in one "missing data" list under the table.
HIDDEN_COLUMNS = ("flag", "file", "source_column", "reason")

# Columns in euros, in a year (written without a thousands separator), and ratios.
_EUROS = ("mean_living_standard", "ind_snv", "median_income")
_YEARS = ("year", "previous_year")
_RATIOS = re.compile(r".*(?:_ratio|_ratios|ratio_of_.*|rrr_(?:low|high)|_low|_high)$")
# Columns of the indicator tables whose value is in the row's indicator unit.
# (a p-value is a probability, never in the indicator's unit)
_IN_UNIT = re.compile(r"(?!p_value$)(?:value|\w+_value)$")
_GAPS = re.compile(r"(?:gap_to_\w+|change|change_per_year)$")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(value: Any, lang: str) -> str:
    """Return a plain number: whole numbers without decimals, others with 1 or 2 of them."""
    x = float(value)
    if not math.isfinite(x):
        return lb.label("no_data", lang)
    if x.is_integer() or abs(x) >= 100:
        return lb.fmt_number(x, lang)
    return lb.fmt_number(x, lang, 1 if abs(x) >= 10 else 2)


def _indicator_value(column: str, value: float, indicator: str | None, lang: str) -> str | None:
    info = INDICATORS.get(str(indicator)) if indicator is not None else None
    if info is None:
        return None
    if _IN_UNIT.fullmatch(column):
        text = info.format(value, lang=lang)
        # the house style: "46,0 %" in French, "46.0%" in English
        return text.replace(" %", "%") if lang == "en" else text.replace(" %", "\u00a0%")
    if _GAPS.fullmatch(column):
        if info.unit == "fraction":
            return f"{lb.fmt_number(100 * value, lang, 1)} pts"
        if info.unit == "EUR":
            return f"{lb.fmt_number(value, lang)} €"
    return None


def cell_text(column: str, value: Any, lang: str = "fr", *, indicator: str | None = None) -> str:
    r"""Return the text of one cell: its value with its unit, or "n.d." when it is missing.

    Parameters
    ----------
    column
        The table column (``impervious_share``, ``reason``, ``population_source``...).
    value
        The cell.
    lang
        ``"fr"`` (default) or ``"en"``.
    indicator
        The row's INSEE indicator, for the value columns of the indicator tables (the unit
        is the indicator's).

    Examples
    --------
    >>> cell_text("impervious_share", 0.4962).replace("\u00a0", " ")
    '49,6 %'
    >>> plain = lambda text: text.replace("\u202f", " ").replace("\u00a0", " ")
    >>> plain(cell_text("mean_living_standard", 12210.4))
    '12 210 €'
    >>> plain(cell_text("rebuilt_minus_demolished_dwellings", -39252.0))
    '-39 252'
    >>> cell_text("rebuilt_minus_demolished_dwellings", -39252.0, "en")
    '-39,252'
    >>> cell_text("year", 2024), cell_text("n_trees", float("nan")), cell_text("x", pd.NA, "en")
    ('2024', 'n.d.', 'n/a')
    >>> official = lb.label("population_source_official", "en")
    >>> cell_text("population_source", "official", "en") == official
    True
    >>> cell_text("improved", True), plain(cell_text("value", 0.412, indicator="poverty_rate"))
    ('oui', '41,2 %')
    >>> cell_text("p_value", 0.84, indicator="median_income")
    '0,840'
    >>> cell_text("value", 0.412, "en", indicator="poverty_rate")
    '41.2%'
    """
    if _missing(value):
        return lb.label("no_data", lang)
    if column == "reason":
        return reason_label(str(value), lang)
    if column == "conclusion":
        return conclusion_text(str(value), lang)
    if column == "indicator" and str(value) in INDICATORS:
        return index_text("indicator", value, lang)
    if isinstance(value, (bool, np.bool_)):
        return lb.value_label("bool", str(bool(value)), lang)
    if column in lb.VALUE_LABELS and isinstance(value, str):
        return lb.value_label(column, value, lang)
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%d/%m/%Y" if lang == "fr" else "%Y-%m-%d")
    if isinstance(value, str):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    in_unit = _indicator_value(column, x, indicator, lang)
    if in_unit is not None:
        return in_unit
    if column in _YEARS:
        return str(int(x)) if x.is_integer() else _number(x, lang)
    if column.endswith("_share") or column.startswith("coverage_share"):
        return lb.fmt_percent(x, lang, 1)
    if column.endswith("_m2"):
        return f"{lb.fmt_number(x, lang)}\u00a0m²"
    if column.endswith("_pp"):
        return lb.fmt_number(x, lang, 1)
    if column in _EUROS:
        return f"{lb.fmt_number(x, lang)}\u00a0€"
    if column == "p_value":
        return lb.fmt_number(x, lang, 3)
    if _RATIOS.fullmatch(column):
        return lb.fmt_number(x, lang, 2)
    return _number(x, lang)


def cell_reason(reason: Any, column: str, lang: str = "fr") -> str:
    """Return the plain words of why the cell of `column` is missing, from its row's reason.

    A row's reason may name its columns (``"n_trees: no tree plantings; area_m2: ..."``):
    the parts about `column` are kept, else every part that names no column.

    Examples
    --------
    >>> cell_reason("n_trees: no tree plantings; area_m2: empty geometry", "n_trees", "en")
    'Tree plantings missing: provide the plantings layer.'
    >>> cell_reason(None, "n_trees")
    'donnée non disponible'
    """
    parts = reason_parts(reason)
    mine = [p.split(": ", 1)[1] for p in parts if p.startswith(f"{column}: ")]
    if not mine:
        mine = [p for p in parts if not re.match(r"[a-z][a-z0-9_]*: ", p) or
                p.startswith(("before: ", "after: "))]  # fmt: skip
    return reason_label("; ".join(mine) or None, lang)


def index_text(level: str | None, key: Any, lang: str = "fr", *, town: str | None = None) -> str:
    r"""Return the label of one index value of a table (a row key, a kind, an indicator...).

    Examples
    --------
    >>> index_text("quartier", "hors_qpv", town="Soissons")
    'Soissons hors QPV'
    >>> index_text("quartier", "QP002013"), index_text("kind", "school", "en")
    ('QP002013', 'School')
    >>> index_text("indicator", "poverty_rate"), index_text("threshold_min", 5.0)
    ('Taux de pauvreté (seuil à 60 %)', '5\xa0min')
    >>> index_text("year", 2024), index_text("site_type", "all", "en")
    ('2024', 'All')
    >>> index_text("candidate", "school_yard:4")
    "Cour d'école 4"
    """
    if _missing(key):
        return lb.label("no_data", lang)
    if level == "quartier" and is_comparison_row(key):
        return str(row_label(key, town=town, lang=lang))
    if str(key) == "all" and level != "quartier":  # a sub-total over the level's values
        return lb.label("total", lang)
    if level == "indicator" and str(key) in INDICATORS:
        info = INDICATORS[str(key)]
        return info.label_fr if lang == "fr" else info.label_en
    if level == "candidate" and ":" in str(key):  # "<site type>:<id>" (site choice)
        kind, _, ident = str(key).partition(":")
        return f"{lb.value_label('site_type', kind, lang)} {ident}"
    if level == "threshold_min":
        return f"{_number(key, lang)}\u00a0min"
    if level in ("year", "previous_year"):
        return cell_text("year", key, lang)
    if level is not None and level in lb.VALUE_LABELS:
        return lb.value_label(level, key, lang)
    return str(key)


def shown_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Return the rows the index shows: those whose INSEE indicator has a name in the catalogue.

    The rows of raw published columns (``a_etud``) have no name a committee reads: they stay
    in the table's files.

    Examples
    --------
    >>> t = pd.DataFrame({"value": [1.0, 2.0]}, index=pd.MultiIndex.from_tuples(
    ...     [("QP1", "a_etud"), ("QP1", "poverty_rate")], names=["quartier", "indicator"]))
    >>> shown_rows(t).index.tolist()
    [('QP1', 'poverty_rate')]
    """
    if "indicator" in table.index.names:
        known = table.index.get_level_values("indicator").astype(str).isin(list(INDICATORS))
        return table[known]
    if "indicator" in table.columns:
        return table[table["indicator"].astype(str).isin(list(INDICATORS))]
    return table


def header_text(column: str, attrs: dict[str, Any] | None = None, lang: str = "fr") -> str:
    """Return the header of a column, in one language, with its unit.

    The key figures' walking coverage names its service and time, and the heat columns their
    raster's unit (``attrs``); other columns read from the catalogue
    (:func:`cdv_geo.core.labels.column_label`).

    Examples
    --------
    >>> header_text("heat_mean", {"units": "°C"})
    'Chaleur moyenne (°C)'
    >>> header_text("coverage_share", {"service": "school", "threshold_min": 5.0}, "en")
    'Residents within 5 min walk: School (0–1)'
    """
    attrs = attrs or {}
    if column == "coverage_share" and attrs.get("service") and attrs.get("threshold_min"):
        text = lb.label(
            "kf_coverage",
            lang,
            threshold=lb.fmt_number(attrs["threshold_min"], lang),
            service=lb.kind_label(str(attrs["service"]), lang),
        )
        return f"{text} (0–1)"
    if column in ("heat_mean", "heat_p90") and attrs.get("units"):
        # the heat raster's units (°C, K, index...): a heat table is unreadable without them
        return lb.label(f"col_{column}", lang, units=attrs["units"])
    return lb.column_label(column, lang=lang)


def table_html(
    table: pd.DataFrame, lang: str = "fr", *, town: str | None = None, max_rows: int = 50
) -> tuple[str, int]:
    """Return a metric table as an HTML ``<table>``, and how many rows it left out.

    Rows are labelled from the catalogue (:func:`index_text`; the ``name`` of a comparison row
    is its label in `lang`), values formatted with their unit (:func:`cell_text`), a missing
    value is "n.d." with the plain words of its reason in a tooltip, and the table is followed
    by the distinct sentences of what is missing (:func:`cdv_geo.core.reasons.missing_advice`).
    Only the rows of :func:`shown_rows`, the first `max_rows` of them, are shown;
    :data:`HIDDEN_COLUMNS` are left out. Every text is escaped.

    Examples
    --------
    >>> t = pd.DataFrame({"name": ["<i>Nord</i>", "Ensemble des QPV"], "n_trees": [3, None],
    ...                   "reason": [None, "no tree plantings"]},
    ...                  index=pd.Index(["QP1", "qpv"], name="quartier"))
    >>> html_, more = table_html(t, "en")
    >>> "&lt;i&gt;Nord&lt;/i&gt;" in html_, "<td>All priority neighbourhoods</td>" in html_
    (True, True)
    >>> '<td title="Tree plantings missing: provide the plantings layer.">n/a</td>' in html_
    True
    """
    e = escape_text
    rows = shown_rows(table)
    left_out = len(table) - min(len(rows), max_rows)
    rows = rows.head(max_rows)
    cols = [c for c in rows.columns if c not in HIDDEN_COLUMNS]
    levels = [n for n in rows.index.names] if not isinstance(rows.index, pd.RangeIndex) else []
    attrs = {str(k): v for k, v in table.attrs.items()}
    heads = [lb.column_label(str(n or "id"), lang=lang) for n in levels]
    heads += [header_text(str(c), attrs, lang) for c in cols]
    out = ['<table class="table"><thead><tr>']
    out += [f"<th>{e(h)}</th>" for h in heads]
    out.append("</tr></thead><tbody>")
    has_indicator = "indicator" in levels or "indicator" in rows.columns
    # column by column: a row Series would turn booleans and integers into floats
    data = {c: rows[c].tolist() for c in rows.columns}
    for i in range(len(rows)):
        key = rows.index[i] if len(levels) > 1 else (rows.index[i],)
        cells = [
            index_text(str(lev), k, lang, town=town) for lev, k in zip(levels, key, strict=True)
        ]
        record = {c: values[i] for c, values in data.items()}
        first = str(key[0]) if levels else ""
        indicator = None
        if has_indicator:
            indicator = dict(zip(levels, key, strict=True)).get(
                "indicator", record.get("indicator")
            )
        line = [f"<td>{e(c)}</td>" for c in cells]
        for col in cols:
            value = record[col]
            if col == "name" and levels and levels[0] == "quartier" and is_comparison_row(first):
                value = row_label(first, town=town, lang=lang)
            text = cell_text(str(col), value, lang, indicator=indicator)
            if _missing(value):
                tip = cell_reason(record.get("reason"), str(col), lang)
                line.append(f'<td title="{e(tip)}">{e(text)}</td>')
            else:
                line.append(f"<td>{e(text)}</td>")
        out.append(f"<tr>{''.join(line)}</tr>")
    out.append("</tbody></table>")
    if "reason" in rows.columns:
        advice = missing_advice(rows["reason"], lang)
        if advice:
            items = "".join(f"<li>{e(a)}</li>" for a in advice)
            out.append(
                f'<div class="missing">{e(lb.label("rp_missing", lang))}<ul>{items}</ul></div>'
            )
    return "".join(out), left_out
