"""The indicators map: one togglable choropleth per socio-economic indicator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import pandas as pd

from cdv_geo.core import labels as lb
from cdv_geo.core.layers import quartier_codes
from cdv_geo.maps.builder import Builder, check_territory, ensure_metrics
from cdv_geo.maps.furniture import DEFAULT_TILES, Tiles, fit_bounds, metric_bounds
from cdv_geo.maps.html import escape_text
from cdv_geo.maps.layers import choropleth_layer, communes_layer, quartiers_layer
from cdv_geo.views.titles import map_title
from cdv_geo.pipeline import Metrics

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

    for module in ("cdv_geo.io.insee_columns", "cdv_geo.metrics.indicators"):
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


def _panel(rows: list[PanelRow], qnames: Mapping[str, Any], lang: str) -> tuple[str, str]:
    """Return the panel: one row per indicator (label and year), one column per quartier."""
    head = "".join(f"<th>{escape_text(n)}</th>" for n in qnames.values())
    body = []
    for label, yr, values, unit_txt, decimals in rows:
        cells = []
        for code in qnames:
            v = values.get(code)
            text = lb.fmt_number(v, lang, decimals)
            if unit_txt and v is not None and pd.notna(v):
                text = f"{text} {unit_txt}"
            cells.append(f"<td>{escape_text(text)}</td>")
        when = f" ({yr})" if yr else ""
        body.append(f"<tr><td>{escape_text(label + when)}</td>{''.join(cells)}</tr>")
    return lb.label("key_figures", lang), f"<table><tr><th></th>{head}</tr>{''.join(body)}</table>"


def indicators_map(
    territory: Any,
    *,
    indicators: Sequence[str] | None = None,
    year: int | None = None,
    metrics: Metrics | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
) -> folium.Map:
    """Map socio-economic indicators per quartier (one togglable choropleth each).

    Each legend states the indicator's unit, year and source, and the commune's value when the
    table has it. Reds when a high value is a concern, blues when it is good.

    Parameters
    ----------
    territory : Territory
        With a ``quartiers`` layer and an ``indicators`` table (or ``metrics.indicators``).
    indicators : sequence of str, optional
        Indicator names (see ``cdv_geo.io.insee_columns.INDICATORS``); all those with values
        for the quartiers by default. The first is shown, the others can be switched on.
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
    specs = _indicator_specs()
    qnames = dict(zip(quartier_codes(t.quartiers), t.quartiers["name"], strict=True))
    commune_codes = set(t.communes["code"].astype(str)) if t.communes is not None else set()
    q_rows = table[table["code"].astype(str).isin(set(qnames))]
    names = list(dict.fromkeys(q_rows["indicator"])) if indicators is None else list(indicators)
    panel_rows: list[PanelRow] = []
    for name in names:
        values, yr = _indicator_series(table, name, set(qnames), year)
        if values.empty:
            b.note("indicator_missing", name=name)
            continue
        unit = str(_spec(specs, name, "unit", "") or "")
        factor = 100.0 if unit == "fraction" else 1.0
        unit_txt = _UNITS.get(unit, ("", ""))[0 if lang == "fr" else 1]
        decimals = _DECIMALS.get(unit, 1)
        label = str(_spec(specs, name, "label_fr" if lang == "fr" else "label_en", name))
        ref = None
        ref_values, _ = _indicator_series(table, name, commune_codes, yr)
        if len(ref_values):
            shown = lb.fmt_number(ref_values.iloc[0] * factor, lang, decimals)
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
            key=f"indicator_{name}",
            decimals=decimals,
            higher_is_better=bool(_spec(specs, name, "higher_is_better", False)),
            simplify_m=tol,
            show=not panel_rows,
        )
        if layer is not None:
            panel_rows.append((label, yr, values * factor, unit_txt, decimals))
    b.add("quartiers", quartiers_layer, simplify_m=tol)
    return b.finish(_panel(panel_rows, qnames, lang) if panel_rows else None)
