"""The indicators map: one choropleth per socio-economic indicator, picked in one list."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import pandas as pd

from cdv_geo.core import labels as lb
from cdv_geo.core.layers import quartier_codes
from cdv_geo.core.rows import row_label
from cdv_geo.core.tables import COMMUNE, FRANCE_QPV
from cdv_geo.maps.builder import Builder, check_territory, ensure_metrics
from cdv_geo.maps.furniture import DEFAULT_TILES, Tiles, fit_bounds, metric_bounds
from cdv_geo.maps.html import escape_text
from cdv_geo.maps.indicator_groups import IndicatorSelector, default_indicator, ordered
from cdv_geo.maps.layers import choropleth_layer, communes_layer, quartiers_layer
from cdv_geo.maps.runtime import MapLayer
from cdv_geo.pipeline import Metrics
from cdv_geo.views.titles import map_title, territory_name

__all__ = ["INDICATOR_OUTPUTS", "indicators_map"]

#: What the indicators map reads (``compute_metrics(only=...)``).
INDICATOR_OUTPUTS = ("indicators",)

_UNITS = {
    "EUR": ("€", "€"),
    "fraction": ("%", "%"),
    "per_10000": ("pour 10 000", "per 10,000"),
}
_DECIMALS = {"EUR": 0, "index": 3, "ratio": 2}


def _indicator_specs() -> dict[str, Any]:
    """Return the indicator catalogue (labels, units, direction, source) by name."""
    import importlib

    for module in ("cdv_geo.io.insee.registry", "cdv_geo.metrics.indicators"):
        try:
            return dict(importlib.import_module(module).INDICATORS)
        except (ImportError, AttributeError):
            continue
    return {}


def _spec(specs: Mapping[str, Any], name: str, attr: str, default: Any = None) -> Any:
    s = specs.get(name)
    if s is None:
        return default
    if isinstance(s, Mapping):
        return s.get(attr, default)
    return getattr(s, attr, default)


def _indicator_series(
    table: pd.DataFrame, name: str, codes: set[str], year: int | None
) -> tuple[pd.Series, int | None]:
    """Values of one indicator for `codes`, at `year` (the latest when None)."""
    rows = table[(table["indicator"] == name) & table["code"].astype(str).isin(codes)]
    if year is not None:
        rows = rows[rows["year"] == year]
    rows = rows[rows["value"].notna()]
    if rows.empty:
        return pd.Series(dtype="float64"), None
    yr = int(rows["year"].max()) if rows["year"].notna().any() else None
    if yr is not None:
        rows = rows[rows["year"] == yr]
    values = pd.Series(
        rows["value"].to_numpy(dtype="float64"), index=rows["code"].astype(str).to_numpy()
    )
    return values[~values.index.duplicated()], yr


PanelRow = tuple[str, int | None, pd.Series, str, int]


def _panel(rows: list[PanelRow], columns: Mapping[str, Any], lang: str) -> tuple[str, str]:
    """Return the panel: one row per indicator, one column per quartier, then comparisons.

    The comparison columns (each commune, all French QPV) appear where the table has them.
    """
    head = "".join(f"<th>{escape_text(n)}</th>" for n in columns.values())
    body = []
    for label, yr, values, unit_txt, decimals in rows:
        cells = []
        for code in columns:
            v = values.get(code)
            text = lb.fmt_number(v, lang, decimals)
            if unit_txt and v is not None and pd.notna(v):
                text = f"{text} {unit_txt}"
            cells.append(f"<td>{escape_text(text)}</td>")
        when = f" ({yr})" if yr else ""
        body.append(f"<tr><td>{escape_text(label + when)}</td>{''.join(cells)}</tr>")
    many = ' class="cdv-many"' if len(columns) > 3 else ""
    table = f"<table{many}><tr><th></th>{head}</tr>{''.join(body)}</table>"
    return lb.label("key_figures", lang), table


def _comparison_values(
    table: pd.DataFrame, name: str, communes: Mapping[str, Any], year: int | None
) -> pd.Series:
    """Values of one indicator for the comparison columns: ``commune:<code>``, ``france_qpv``."""
    out: dict[str, float] = {}
    level = table["level"].astype(str) if "level" in table.columns else None
    if communes:
        rows = table if level is None else table[level == "commune"]
        values, _ = _indicator_series(rows, name, set(communes), year)
        out.update({f"{COMMUNE}:{c}": float(v) for c, v in values.items()})
    if level is not None:
        rows = table[level == "all_qpv"]
        values, _ = _indicator_series(rows, name, set(rows["code"].astype(str)), year)
        if len(values):
            out[FRANCE_QPV] = float(values.iloc[0])
    return pd.Series(out, dtype="float64")


Entry = tuple[str, str, MapLayer]
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")


def _layer_key(name: str, i: int) -> str:
    """Return the layer's key: ``indicator_<name>``, else ``indicator_<i>``.

    A name that is not a plain identifier (a name from a table) goes into the page as
    escaped text only, never into a key of its script.
    """
    return f"indicator_{name}" if _PLAIN_NAME.fullmatch(name) else f"indicator_{i}"


def _indicator_layers(
    b: Builder, t: Any, table: pd.DataFrame, names: Sequence[str], year: int | None
) -> tuple[list[Entry], list[PanelRow], dict[str, str], dict[str, Any]]:
    """Add one choropleth per indicator, all hidden and off the layer control.

    Return the selector's entries, the panel rows, the units by name and the panel's columns.
    """
    lang = b.lang
    specs = _indicator_specs()
    qnames = dict(zip(quartier_codes(t.quartiers), t.quartiers["name"], strict=True))
    communes = (
        dict(zip(t.communes["code"].astype(str), t.communes["name"], strict=True))
        if t.communes is not None
        else {}
    )
    entries: list[Entry] = []
    panel_rows: list[PanelRow] = []
    units: dict[str, str] = {}
    seen: set[str] = set()
    for name in ordered(list(names), catalogue=list(specs)):
        label = str(_spec(specs, name, "label_fr" if lang == "fr" else "label_en", name))
        values, yr = _indicator_series(table, name, set(qnames), year)
        if values.empty:  # named by its label: the committee reads no code
            b.note("indicator_missing", name=label)
            continue
        unit = str(_spec(specs, name, "unit", "") or "")
        factor = 100.0 if unit == "fraction" else 1.0
        unit_txt = _UNITS.get(unit, ("", ""))[0 if lang == "fr" else 1]
        decimals = _DECIMALS.get(unit, 1)
        comparison = _comparison_values(table, name, communes, yr)
        ref = None
        own = [k for k in comparison.index if k.startswith(f"{COMMUNE}:")]
        if own:
            shown = lb.fmt_number(comparison[own[0]] * factor, lang, decimals)
            ref = lb.label("commune_value", lang, value=f"{shown} {unit_txt}".strip())
        layer = b.add(
            "indicators",
            choropleth_layer,
            t.quartiers,
            values=values * factor,
            title=label,
            unit=unit_txt,
            year=yr,
            source=_spec(specs, name, "source"),
            reference=ref,
            key=_layer_key(name, len(entries)),
            decimals=decimals,
            higher_is_better=bool(_spec(specs, name, "higher_is_better", False)),
            simplify_m=b.simplify_m,
            show=False,
        )
        if layer is None:
            continue
        # One selector shows one indicator at a time (IndicatorSelector), not dozens of
        # checkboxes in the layer control.
        layer.control = False
        entries.append((name, label, layer))
        units[name] = unit
        seen.update(comparison.index)
        both = pd.concat([values, comparison]) * factor
        panel_rows.append((label, yr, both, unit_txt, decimals))
    columns: dict[str, Any] = dict(qnames)
    for code, cname in communes.items():
        if f"{COMMUNE}:{code}" in seen:
            # One commune: named like the town in every panel, index and dossier; several:
            # each under its own name.
            named = cname if isinstance(cname, str) and cname else None
            town = territory_name(t) if len(communes) == 1 else named
            columns[f"{COMMUNE}:{code}"] = row_label(COMMUNE, town=town, lang=lang)
    if FRANCE_QPV in seen:
        columns[FRANCE_QPV] = row_label(FRANCE_QPV, lang=lang)
    return entries, panel_rows, units, columns


def indicators_map(
    territory: Any,
    *,
    indicators: Sequence[str] | None = None,
    year: int | None = None,
    metrics: Metrics | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
) -> folium.Map:
    """Map socio-economic indicators per quartier, one at a time, picked in one list.

    The map opens on a rate (the poverty rate, else the first rate available: never a count),
    and one drop-down list, grouped by theme (income, poverty, employment, families,
    education, health), switches to another indicator. Each legend states the indicator's
    unit, year and source, and the commune's value when the table has it. Reds when a high
    value is a concern, blues when it is good. The key-figure panel sets the quartiers beside
    each commune and all French QPV where the table has them.

    Parameters
    ----------
    territory : Territory
        With a ``quartiers`` layer and an ``indicators`` table (or ``metrics.indicators``).
    indicators : sequence of str, optional
        Indicator names (see ``cdv_geo.io.insee.registry.INDICATORS``); by default every
        indicator of that registry with values for the quartiers (the table's other columns,
        with no known label, are counted in a note, not offered). The map opens on a rate (see
        :func:`~cdv_geo.maps.indicator_groups.default_indicator`).
    year : int, optional
        Vintage; the latest available per indicator by default.
    metrics, lang, tiles
        As for :func:`overview_map`.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = indicators_map(cg.datasets.soissons(), tiles=None)
    >>> m._cdv_title
    'Indicateurs — Soissons'
    """
    lb.check_lang(lang)
    check_territory(territory)
    m = ensure_metrics(territory, metrics, INDICATOR_OUTPUTS, "water_play_area")
    t = territory
    bounds, tol = fit_bounds(t, metric_bounds(t), 150.0)
    title = map_title("indicators", t, lang)
    b = Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    b.add_notes(m, ["indicators"])
    if t.communes is not None:
        b.add("communes", communes_layer, simplify_m=max(tol, 1.0))
    table = m.indicators
    if not isinstance(table, pd.DataFrame) or table.empty or t.quartiers is None:
        b.note("indicators_none")
        b.add("quartiers", quartiers_layer, simplify_m=tol)
        return b.finish()
    q_rows = table[table["code"].astype(str).isin(set(quartier_codes(t.quartiers)))]
    if indicators is None:
        # The registry's indicators only: a column of the table with no known label, unit or
        # source would be offered to the committee as a raw code ("abc_dur1", "tx_f_et").
        found = list(dict.fromkeys(q_rows["indicator"].astype(str)))
        specs = _indicator_specs()
        names = [n for n in found if n in specs]
        if len(names) < len(found):
            b.note("indicators_unlabelled", n=lb.fmt_number(len(found) - len(names), lang))
    else:
        names = list(indicators)
    entries, panel_rows, units, columns = _indicator_layers(b, t, table, names, year)
    if entries:
        initial = default_indicator([e[0] for e in entries], units)
        IndicatorSelector(entries, initial=initial or entries[0][0], lang=lang).add_to(b.m)
    b.add("quartiers", quartiers_layer, simplify_m=tol)
    return b.finish(_panel(panel_rows, columns, lang) if panel_rows else None)
