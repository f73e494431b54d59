"""The key-figure panels and popups of the maps, read from the metric tables.

Nothing is computed here: each figure is a cell of a table of :class:`cdv_geo.pipeline.Metrics`
(``key_figures``, ``coverage``, ``renewal_balance``), which follow the result-table contract
(:mod:`cdv_geo.core.tables`: index ``quartier`` = QPV codes, then the named comparison rows
``qpv``, ``commune``, ``hors_qpv``). The committee compares a quartier with the town outside
the QPV and with the whole town: the panels show the quartiers, then :data:`PANEL_ROWS`
(``hors_qpv``, ``commune``) when the table has them, labelled by
:func:`cdv_geo.core.rows.row_label`. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from cdv_geo.core import labels as lb
from cdv_geo.core.escape import escape_text
from cdv_geo.core.rows import row_label
from cdv_geo.core.tables import COMMUNE, HORS_QPV, INDEX, QPV, is_comparison_row
from cdv_geo.views.cells import cell_reason

__all__ = [
    "FIGURES",
    "PANEL_ROWS",
    "balance_table",
    "coverage_table",
    "figure_rows",
    "figures_table",
    "panel_rows",
    "popup_figures",
    "quartier_rows",
    "row_names",
    "services_table",
    "town_of",
    "with_coverage",
]

Formatter = Callable[[Any], str]

#: The comparison rows a panel shows after the quartiers, in the committee's order: the town
#: outside the QPV, then the whole town.
PANEL_ROWS: tuple[str, ...] = (HORS_QPV, COMMUNE)

#: The key figures the maps show, in order, with their format.
_FORMATS: tuple[tuple[str, str], ...] = (
    ("n_residents", "number"),
    ("n_facilities", "number"),
    ("coverage_share", "percent"),
    ("n_demolished", "number"),
    ("n_rebuilt", "number"),
    ("n_received", "number"),
    ("n_rehabilitated", "number"),
    ("desealed_m2", "area"),
    ("n_trees", "number"),
    ("impervious_share", "percent1"),
    ("impervious_change_pp", "points"),
)

#: The key figures the maps show: (column of ``key_figures``, format, label key), in order;
#: the label keys are the catalogue's (:data:`cdv_geo.core.labels.KEY_FIGURE_LABELS`).
FIGURES: tuple[tuple[str, str, str], ...] = tuple(
    (col, kind, lb.KEY_FIGURE_LABELS[col]) for col, kind in _FORMATS
)


def _formatter(kind: str, lang: str) -> Formatter:
    if kind == "percent":
        return lambda v: lb.fmt_percent(v, lang)
    if kind == "percent1":
        return lambda v: lb.fmt_percent(v, lang, 1)
    if kind == "area":
        return lambda v: lb.fmt_area(v, lang)
    if kind == "points":
        return lambda v: lb.fmt_number(v, lang, 1)
    return lambda v: lb.fmt_number(v, lang)


#: Prefix of the coverage columns :func:`with_coverage` adds, one per facility kind.
COVERAGE_PREFIX = "coverage_share:"


def with_coverage(
    kf: pd.DataFrame, coverage: pd.DataFrame | None, services: Sequence[str]
) -> pd.DataFrame:
    """Return the key figures with the walking coverage of each of `services`.

    The ``coverage_share`` column of ``key_figures`` is the coverage of one kind (its
    ``attrs["service"]``); a town without that kind would show "n.d." although the
    ``coverage`` table has its own kinds. This reads, for each kind of `services` that the
    ``coverage`` table has, its ``covered_share`` at the key figures' walking time (else the
    shortest), into a column ``coverage_share:<kind>`` put where ``coverage_share`` was (which
    is dropped when a kind replaces it). Nothing is computed: each value is a cell of the table.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_tuples([("Q1", "school", 5.0), ("Q1", "school", 10.0),
    ...     ("qpv", "school", 5.0), ("qpv", "school", 10.0)],
    ...     names=["quartier", "kind", "threshold_min"])
    >>> cov = pd.DataFrame({"name": ["Nord"] * 2 + ["Ensemble des QPV"] * 2,
    ...                     "covered_share": [0.4, 0.9, 0.3, 0.8]}, index=idx)
    >>> kf = pd.DataFrame({"name": ["Nord", "QPV"], "coverage_share": [float("nan")] * 2},
    ...                   index=pd.Index(["Q1", "qpv"], name="quartier"))
    >>> kf.attrs = {"service": "water_play_area", "threshold_min": None}
    >>> with_coverage(kf, cov, ["school"])["coverage_share:school"].tolist()
    [0.4, 0.3]
    """
    out = kf.copy()
    out.attrs = dict(kf.attrs)
    if coverage is None or "kind" not in coverage.index.names:
        return out
    if "covered_share" not in coverage.columns:
        return out
    kinds = coverage.index.get_level_values("kind").astype(str)
    added: dict[str, pd.Series] = {}
    wanted = kf.attrs.get("threshold_min")
    for service in services:
        rows = coverage[kinds == service]
        if rows.empty:
            continue
        times = sorted(set(rows.index.get_level_values("threshold_min")))
        threshold = wanted if wanted in times else times[0]
        at = rows[rows.index.get_level_values("threshold_min") == threshold]
        share = pd.Series(
            pd.to_numeric(at["covered_share"], errors="coerce").to_numpy(),
            index=at.index.get_level_values(INDEX).astype(str),
        )
        share = share[~share.index.duplicated()]
        added[f"{COVERAGE_PREFIX}{service}"] = share.reindex(out.index.astype(str)).set_axis(
            out.index
        )
        out.attrs["threshold_min"] = threshold
    if not added:
        return out
    cols = list(out.columns)
    at_pos = cols.index("coverage_share") if "coverage_share" in cols else len(cols)
    rest = [c for c in cols if c != "coverage_share"]
    for name, values in added.items():
        out[name] = values
    order = [*rest[:at_pos], *added, *rest[at_pos:]]
    return out[order]


def _figure_label(column: str, key: str, kf: pd.DataFrame, lang: str) -> str:
    attrs = kf.attrs
    if column.startswith(COVERAGE_PREFIX):
        service = lb.value_label("kind", column[len(COVERAGE_PREFIX) :], lang)
        threshold = attrs.get("threshold_min")
        return lb.label(
            "kf_coverage", lang, threshold=lb.fmt_number(threshold, lang), service=service
        )
    if column == "coverage_share":
        service = lb.value_label("kind", attrs.get("service") or "water_play_area", lang)
        threshold = attrs.get("threshold_min")
        if threshold is None:
            return lb.label("kf_coverage_any", lang, service=service)
        return lb.label(key, lang, threshold=lb.fmt_number(threshold, lang), service=service)
    if column == "impervious_share":
        year = attrs.get("impervious_year")
        if not year:
            return lb.label("kf_impervious_latest", lang)
        return lb.label(key, lang, year=year)
    return lb.label(key, lang)


def figure_rows(
    kf: pd.DataFrame, lang: str, columns: Sequence[str] | None = None
) -> list[tuple[str, Formatter, str]]:
    """Return the figures to show as (column, formatter, label): those with a value.

    Examples
    --------
    >>> kf = pd.DataFrame({"name": ["Nord"], "n_trees": [12.0], "n_rebuilt": [float("nan")]},
    ...                   index=pd.Index(["QP1"], name="quartier"))
    >>> [(c, label, fmt(kf.at["QP1", c])) for c, fmt, label in figure_rows(kf, "fr")]
    [('n_trees', 'Arbres plantés', '12')]
    """
    figures = []
    for col, kind, key in FIGURES:
        if col == "coverage_share":  # the kinds of with_coverage, where coverage_share was
            figures += [(c, kind, key) for c in kf.columns if c.startswith(COVERAGE_PREFIX)]
        figures.append((col, kind, key))
    rows = [
        (col, _formatter(kind, lang), _figure_label(col, key, kf, lang))
        for col, kind, key in figures
        if col in kf.columns and (columns is None or col in columns or col.split(":")[0] in columns)
    ]
    return [r for r in rows if pd.to_numeric(kf[r[0]], errors="coerce").notna().any()]


def quartier_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Return the quartier rows of a contract table (its comparison rows left out).

    Examples
    --------
    >>> t = pd.DataFrame({"x": [1, 2, 3]}, index=pd.Index(["QP1", "qpv", "commune"]))
    >>> quartier_rows(t).index.tolist()
    ['QP1']
    """
    keys = table.index.get_level_values(0)
    return table[[not is_comparison_row(k) for k in keys]]


def panel_rows(
    table: pd.DataFrame,
    codes: Sequence[str] | None = None,
    rows: Sequence[str] = PANEL_ROWS,
) -> pd.DataFrame:
    """Return the rows a panel shows: the quartiers (`codes`, default all), then `rows`.

    A comparison row of `rows` that the table does not have is left out (no empty column);
    `codes` may name comparison rows too.

    Examples
    --------
    >>> t = pd.DataFrame({"x": [1, 2, 3, 4, 5]},
    ...                  index=pd.Index(["QP1", "QP2", "qpv", "commune", "hors_qpv"]))
    >>> panel_rows(t).index.tolist()
    ['QP1', 'QP2', 'hors_qpv', 'commune']
    >>> panel_rows(t, ["QP2"]).index.tolist()
    ['QP2', 'hors_qpv', 'commune']
    >>> panel_rows(t.drop(index=["commune", "hors_qpv"])).index.tolist()
    ['QP1', 'QP2']
    """
    keys = [str(k) for k in table.index.get_level_values(0)]
    head = [k for k in keys if not is_comparison_row(k)] if codes is None else list(codes)
    wanted = [*head, *(r for r in rows if r not in head)]
    keep = [k for k in dict.fromkeys(wanted) if k in keys]
    return table.loc[keep]


def town_of(table: pd.DataFrame, town: str | None = None) -> str | None:
    """Return the town's name for the row labels: `town`, else the table's ``attrs["town"]``."""
    if town:
        return town
    named = table.attrs.get("town")
    return str(named) if isinstance(named, str) and named else None


def row_names(
    sel: pd.DataFrame, lang: str, *, town: str | None = None, qpv_key: str | None = None
) -> list[str]:
    """Return the column heads of `sel`'s rows: quartier names, comparison rows' labels.

    A quartier without a name shows its code; `qpv_key` relabels the ``qpv`` row (the
    renewal programme: ``"kf_programme"``).

    Examples
    --------
    >>> t = pd.DataFrame({"name": ["Nord", None, "x", "y"]},
    ...                  index=pd.Index(["QP1", "QP2", "hors_qpv", "commune"]))
    >>> row_names(t, "fr", town="Soissons")
    ['Nord', 'QP2', 'Soissons hors QPV', 'Soissons (commune)']
    """
    keys = [str(k) for k in sel.index.get_level_values(0)]
    names = sel["name"] if "name" in sel.columns else pd.Series(keys, index=sel.index)
    out = []
    for k, n in zip(keys, names, strict=True):
        if k == QPV and qpv_key:
            out.append(lb.label(qpv_key, lang))
        elif is_comparison_row(k):
            out.append(str(row_label(k, town=town_of(sel, town), lang=lang)))
        else:
            out.append(k if lb.is_missing(n) else str(n))
    return out


def _cell(text: str, value: Any, reason: Any, column: str, lang: str) -> str:
    """Return a ``<td>``: a missing value says why in its tooltip."""
    if lb.is_missing(value):
        # a coverage_share:<kind> column is not the key figures' coverage_share: its reasons
        # (another kind's) are not this cell's
        why = cell_reason(reason, column, lang)
        return f'<td title="{escape_text(why)}">{escape_text(text)}</td>'
    return f"<td>{escape_text(text)}</td>"


def figures_table(
    kf: pd.DataFrame,
    lang: str,
    codes: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    *,
    town: str | None = None,
    rows: Sequence[str] = PANEL_ROWS,
) -> str:
    """Return the HTML table of the key figures: one column per quartier, then the town.

    The columns are the quartiers (`codes`, default all), then the comparison `rows` the
    table has (default :data:`PANEL_ROWS`: the town outside the QPV, the whole town), named
    after `town` (default ``kf.attrs["town"]``).

    Examples
    --------
    >>> kf = pd.DataFrame({"name": ["<b>Nord</b>", "QPV", "Ville"], "n_trees": [12.0, 12, 30]},
    ...                   index=pd.Index(["QP1", "qpv", "commune"], name="quartier"))
    >>> figures_table(kf, "en", town="Laon")
    '<table><tr><th></th><th>&lt;b&gt;Nord&lt;/b&gt;</th><th>Laon (municipality)</th></tr><tr><td>Trees planted</td><td>12</td><td>30</td></tr></table>'
    """  # noqa: E501
    sel = panel_rows(kf, None if codes is None else [c for c in codes if c in kf.index], rows)
    figures = figure_rows(sel, lang, columns)
    head = "".join(f"<th>{escape_text(n)}</th>" for n in row_names(sel, lang, town=town))
    reasons = sel["reason"] if "reason" in sel.columns else pd.Series(None, index=sel.index)
    body = "".join(
        f"<tr><td>{escape_text(label)}</td>"
        + "".join(
            _cell(fmt(v), v, why, col, lang) for v, why in zip(sel[col], reasons, strict=True)
        )
        + "</tr>"
        for col, fmt, label in figures
    )
    many = ' class="cdv-many"' if len(sel) > 3 else ""
    return f"<table{many}><tr><th></th>{head}</tr>{body}</table>"


def popup_figures(kf: pd.DataFrame, lang: str) -> dict[str, list[tuple[str, str]]]:
    """Return, per quartier code, the (label, formatted value) rows of its popup."""
    rows = figure_rows(kf, lang)
    return {
        str(code): [(label, fmt(kf.at[code, col])) for col, fmt, label in rows]
        for code in kf.index
        if not is_comparison_row(code)
    }


def coverage_table(
    cov: pd.DataFrame, service: str, lang: str, *, town: str | None = None
) -> str | None:
    """Return the HTML table of the walking coverage of `service`, by walking-time threshold.

    `cov` is the ``coverage`` table (index ``quartier``, ``kind``, ``threshold_min``; column
    ``covered_share``): one line per quartier, then the town outside the QPV and the whole
    town (:data:`PANEL_ROWS`) when the table has them. Returns None when it has no row for
    `service`.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_tuples([("Q1", "school", 5.0), ("qpv", "school", 5.0),
    ...     ("commune", "school", 5.0)], names=["quartier", "kind", "threshold_min"])
    >>> cov = pd.DataFrame({"name": ["Nord", "QPV", "Ville"], "covered_share": [0.4, 0.3, 0.5]},
    ...                    index=idx)
    >>> html_ = coverage_table(cov, "school", "en", town="Laon")
    >>> "<td>Nord</td><td>40%</td>" in html_, "<td>Laon (municipality)</td><td>50%</td>" in html_
    (True, True)
    >>> "QPV" in html_
    False
    """
    if "kind" not in cov.index.names or "covered_share" not in cov.columns:
        return None
    rows = cov[cov.index.get_level_values("kind") == service]
    if rows.empty:
        return None
    share = rows["covered_share"].droplevel("kind").unstack("threshold_min")
    keys = list(dict.fromkeys(rows.index.get_level_values(INDEX).astype(str)))
    codes = [k for k in keys if not is_comparison_row(k)]
    codes += [k for k in PANEL_ROWS if k in keys]
    share.index = share.index.astype(str)
    share = share.reindex(codes)
    names = rows.groupby(level=INDEX, sort=False)["name"].first()
    names.index = names.index.astype(str)
    heads = row_names(pd.DataFrame({"name": names.reindex(codes)}, index=codes), lang, town=town)
    head = "".join(
        f"<th>{escape_text(lb.label('time_first', lang, hi=lb.fmt_number(x, lang)))}</th>"
        for x in share.columns
    )
    body = []
    for code, name in zip(codes, heads, strict=True):
        cells = "".join(f"<td>{escape_text(lb.fmt_percent(v, lang))}</td>" for v in share.loc[code])
        body.append(f"<tr><td>{escape_text(name)}</td>{cells}</tr>")
    caption = f"{lb.label('population', lang)} — {lb.value_label('kind', service, lang)}"
    return (
        f'<div class="cdv-note">{escape_text(caption)}</div>'
        f"<table><tr><th></th>{head}</tr>{''.join(body)}</table>"
    )


_BALANCE = (
    ("n_demolished", "kf_demolished"),
    ("n_rebuilt", "kf_rebuilt"),
    ("n_received", "kf_received"),
    ("n_rehabilitated", "kf_rehabilitated"),
    ("net_change_dwellings", "kf_net_change"),
)


def balance_table(rb: pd.DataFrame, lang: str, *, town: str | None = None) -> str | None:
    """Return the HTML table of the NPNRU dwelling balance: quartiers, then the programme.

    `rb` is the ``renewal_balance`` table: its ``qpv`` row (every quartier of the programme)
    is headed "programme"; None when it has none of the dwelling counts.

    Examples
    --------
    >>> rb = pd.DataFrame({"name": ["Nord", "QPV"], "n_demolished": [120.0, 120.0]},
    ...                   index=pd.Index(["QP1", "qpv"], name="quartier"))
    >>> balance_table(rb, "en")
    '<table><tr><th></th><th>Nord</th><th>Programme</th></tr><tr><td>Dwellings demolished</td><td>120</td><td>120</td></tr></table>'
    """  # noqa: E501
    cols = [(c, k) for c, k in _BALANCE if c in rb.columns]
    if not cols:
        return None
    heads = row_names(rb, lang, town=town, qpv_key="kf_programme")
    head = "".join(f"<th>{escape_text(n)}</th>" for n in heads)
    body = "".join(
        f"<tr><td>{escape_text(lb.label(k, lang))}</td>"
        + "".join(f"<td>{escape_text(lb.fmt_number(v, lang))}</td>" for v in rb[c])
        + "</tr>"
        for c, k in cols
    )
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


def services_table(
    capacity: pd.DataFrame | None,
    hours: pd.DataFrame | None,
    service: str,
    lang: str,
    *,
    town: str | None = None,
) -> str | None:
    """Return the HTML table of one kind's capacity and weekly open hours within reach.

    `capacity` is the ``capacity_access`` table (index ``quartier``, ``kind``; column
    ``access_per_10k``), `hours` the ``open_hours`` table (``open_hours_week``): one line per
    quartier, then :data:`PANEL_ROWS`; a missing value is a dash. None when neither table has
    a row for `service`.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_tuples([("Q1", "gp"), ("commune", "gp")],
    ...                                 names=["quartier", "kind"])
    >>> cap = pd.DataFrame({"name": ["<Nord>", "Ville"], "access_per_10k": [7.69, 5.0]},
    ...                    index=idx)
    >>> html_ = services_table(cap, None, "gp", "en", town="Laon")
    >>> "<td>&lt;Nord&gt;</td><td>7.7</td>" in html_, "Laon (municipality)" in html_
    (True, True)
    """
    columns: list[tuple[str, pd.Series]] = []
    names: dict[str, Any] = {}
    for table, col, key in (
        (capacity, "access_per_10k", "svc_col_access"),
        (hours, "open_hours_week", "svc_col_hours"),
    ):
        if table is None or "kind" not in table.index.names or col not in table.columns:
            continue
        rows = table[table.index.get_level_values("kind") == service]
        if rows.empty:
            continue
        values = rows[col].droplevel("kind")
        values.index = values.index.astype(str)
        columns.append((key, values))
        if "name" in rows.columns:
            for k, n in zip(values.index, rows["name"], strict=True):
                names.setdefault(k, n)
    if not columns:
        return None
    keys = list(dict.fromkeys(k for _, v in columns for k in v.index))
    codes = [k for k in keys if not is_comparison_row(k)] + [k for k in PANEL_ROWS if k in keys]
    sel = pd.DataFrame({"name": [names.get(k) for k in codes]}, index=codes)
    heads = row_names(sel, lang, town=town)
    head = "".join(f"<th>{escape_text(lb.label(k, lang))}</th>" for k, _ in columns)
    body = []
    for code, name in zip(codes, heads, strict=True):
        shown = [v.get(code) for _, v in columns]
        cells = "".join(
            f"<td>{escape_text('—' if lb.is_missing(x) else lb.fmt_number(x, lang, 1))}</td>"
            for x in shown
        )
        body.append(f"<tr><td>{escape_text(name)}</td>{cells}</tr>")
    caption = lb.value_label("kind", service, lang)
    return (
        f'<div class="cdv-note">{escape_text(caption)}</div>'
        f"<table><tr><th></th>{head}</tr>{''.join(body)}</table>"
    )
