"""Perimeter layers: the commune outline, the quartiers, and quartiers coloured by a value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core import labels as lb
from cdv_geo.core.layers import quartier_codes
from cdv_geo.maps import style as st
from cdv_geo.maps.features import (
    Texts,
    add_geojson,
    checked,
    column,
    legend_note,
    popup,
    swatch,
    tip,
)
from cdv_geo.maps.html import escape_text
from cdv_geo.maps.runtime import MapLayer

__all__ = ["choropleth_layer", "class_breaks", "communes_layer", "quartiers_layer", "spread"]


def communes_layer(
    communes: gpd.GeoDataFrame,
    *,
    lang: str = "fr",
    simplify_m: float | None = 1.0,
    show: bool = True,
) -> MapLayer:
    """Outline of the commune(s): the frame of the map, essential without a basemap.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> c = gpd.GeoDataFrame({"code": ["02722"], "name": ["Soissons"]},
    ...                      geometry=[box(725000, 6918000, 731000, 6923000)], crs=2154)
    >>> communes_layer(c).n_features
    1
    """
    gdf = checked(communes, "communes", "polygon")
    lb.check_lang(lang)
    layer = MapLayer("communes", lb.label("layer_communes", lang), show=show)
    texts = Texts()
    props = [
        {"t": texts.add(tip(n, c))}
        for n, c in zip(column(gdf, "name"), column(gdf, "code"), strict=True)
    ]
    style = {"color": st.COMMUNE_COLOUR, "weight": 2, "dashArray": "6 4", "fill": False}
    add_geojson(layer, gdf, props, styles=[style], texts=texts, simplify_m=simplify_m)
    layer.legend = [
        swatch(
            lb.label("layer_communes", lang), shape="line", stroke=st.COMMUNE_COLOUR, dashed=True
        )
    ]
    return layer


def quartiers_layer(
    quartiers: gpd.GeoDataFrame,
    *,
    figures: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    highlight: str | None = None,
    lang: str = "fr",
    simplify_m: float | None = 1.0,
    show: bool = True,
) -> MapLayer:
    """Quartier perimeters: outline, a name label, and key figures in the popup.

    Parameters
    ----------
    quartiers : GeoDataFrame
        Validated ``quartiers`` layer (``code``, ``name``, ``population``).
    figures : mapping, optional
        Per quartier code: (label, formatted value) rows shown in the popup.
    highlight : str, optional
        Code of the quartier to emphasise (the others are drawn fainter).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"code": ["QN00001M"], "name": ["Centre"], "population": [1200]},
    ...                      geometry=[box(0, 0, 500, 500)], crs=2154)
    >>> layer = quartiers_layer(q)
    >>> layer.n_features, layer.title
    (1, 'Quartiers prioritaires (QPV)')
    """
    gdf = checked(quartiers, "quartiers", "polygon")
    lb.check_lang(lang)
    layer = MapLayer("quartiers", lb.label("layer_quartiers", lang), show=show)
    codes = quartier_codes(gdf)
    names = [n if n is not None else c for n, c in zip(column(gdf, "name"), codes, strict=True)]
    pops = column(gdf, "population")
    code_label, pop_label = lb.label("code", lang), lb.label("population", lang)
    texts = Texts()
    props = []
    for code, name, pop in zip(codes, names, pops, strict=True):
        rows: list[tuple[str, Any]] = [(code_label, code)]
        if figures and code in figures:
            rows += list(figures[code])
        elif pop is not None:
            rows.append((pop_label, lb.fmt_number(pop, lang)))
        faint = highlight is not None and code != highlight
        props.append(
            {
                "s": 1 if faint else 0,
                "t": texts.add(escape_text(name)),
                "p": texts.add(popup(name, rows)),
            }
        )
    colour = st.QUARTIER_COLOUR
    styles = [
        {"color": colour, "weight": 3, "fillColor": colour, "fillOpacity": 0.05},
        {"color": colour, "weight": 1.5, "opacity": 0.6, "dashArray": "4 4", "fillOpacity": 0.0},
    ]
    add_geojson(layer, gdf, props, styles=styles, texts=texts, simplify_m=simplify_m, label=True)
    layer.legend = [
        swatch(lb.label("layer_quartiers", lang), fill=colour, stroke=colour, opacity=0.35)
    ]
    return layer


def class_breaks(values: np.ndarray, k: int) -> list[float]:
    """Return rounded equal-interval class limits (few quartiers: quantiles would repeat).

    Examples
    --------
    >>> class_breaks(np.array([12.5, 30.0]), 5)
    [12.0, 16.0, 20.0, 24.0, 28.0, 32.0]
    """
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if hi <= lo:
        return [lo, hi]
    step = (hi - lo) / k
    mag = 10 ** np.floor(np.log10(step))
    step = float(np.ceil(step / mag) * mag)
    start = float(np.floor(lo / mag) * mag)
    edges = [start + i * step for i in range(k + 1)]
    while edges[-2] >= hi and len(edges) > 2:
        edges.pop()
    return edges


def spread(palette: Sequence[str], n: int) -> list[str]:
    """Pick `n` colours spread evenly over `palette`.

    Examples
    --------
    >>> spread(["a", "b", "c", "d", "e"], 3)
    ['a', 'c', 'e']
    """
    if n <= 1:
        return [palette[0]]
    idx = np.round(np.linspace(0, len(palette) - 1, n)).astype(int)
    return [palette[i] for i in idx]


def _choropleth_legend(
    unit: str, year: Any, source: str | None, reference: str | None, lang: str
) -> list[str]:
    notes = [lb.kv(lb.label("unit", lang), unit, lang)] if unit else []
    if year is not None:
        notes.append(lb.kv(lb.label("year", lang), year, lang))
    if source:
        notes.append(lb.kv(lb.label("source", lang), source, lang))
    if reference:
        notes.append(reference)
    return [legend_note(n) for n in notes]


def choropleth_layer(
    quartiers: gpd.GeoDataFrame,
    values: pd.Series | Mapping[str, float],
    *,
    title: str,
    unit: str = "",
    year: Any = None,
    source: str | None = None,
    reference: str | None = None,
    key: str = "choropleth",
    decimals: int = 1,
    classes: int = 5,
    higher_is_better: bool = False,
    lang: str = "fr",
    simplify_m: float | None = 1.0,
    show: bool = True,
) -> MapLayer:
    """Quartiers coloured by one indicator; the legend states unit, year and source.

    Parameters
    ----------
    quartiers : GeoDataFrame
        Validated ``quartiers`` layer.
    values : Series or mapping
        Indicator value per quartier ``code`` (missing codes are drawn hatched-grey, "n.d.").
    title, unit, year, source : str
        What the legend says.
    reference : str, optional
        A reference line (for instance the commune's value).
    higher_is_better : bool, default False
        Colours: reds when a high value is a concern (poverty), blues when it is good (income).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"code": ["Q1", "Q2"], "name": ["Nord", "Sud"]},
    ...                      geometry=[box(0, 0, 10, 10), box(0, 10, 10, 20)], crs=2154)
    >>> layer = choropleth_layer(q, {"Q1": 12.5, "Q2": 30.0}, title="Taux de pauvreté",
    ...                          unit="%", year=2021, source="Insee, Filosofi")
    >>> layer.n_features
    2
    """
    gdf = checked(quartiers, "quartiers", "polygon")
    lb.check_lang(lang)
    series = pd.Series(values, dtype="float64") if not isinstance(values, pd.Series) else values
    series = series.copy()
    series.index = series.index.astype(str)
    codes = quartier_codes(gdf)
    vals = pd.to_numeric(series.reindex(codes), errors="coerce").to_numpy(dtype=float)
    finite = np.isfinite(vals)
    layer = MapLayer(key, title, show=show)
    palette = st.CHOROPLETH_GOOD_COLOURS if higher_is_better else st.CHOROPLETH_COLOURS
    legend: list[str] = []
    if finite.any():
        edges = class_breaks(vals[finite], classes)
        colours = spread(palette, max(len(edges) - 1, 1))
        for i, c in enumerate(colours):
            lo = lb.fmt_number(edges[i], lang, decimals)
            hi = lb.fmt_number(edges[min(i + 1, len(edges) - 1)], lang, decimals)
            legend.append(swatch(f"{lo} – {hi}", fill=c, stroke="#555", opacity=0.85))
    else:
        edges, colours = [0.0, 1.0], [palette[0]]
    styles = [
        {"color": "#444", "weight": 1.5, "fillColor": c, "fillOpacity": 0.75} for c in colours
    ]
    grey = {"color": "#444", "weight": 1.5, "fillColor": "#bdbdbd", "fillOpacity": 0.5}
    styles.append({**grey, "dashArray": "4 3"})
    cls = np.clip(
        np.searchsorted(edges, np.nan_to_num(vals), side="right") - 1, 0, len(colours) - 1
    )
    cls = np.where(finite, cls, len(styles) - 1)
    suffix = f" {unit}" if unit else ""
    shown = [
        f"{lb.fmt_number(v, lang, decimals)}{suffix}" if ok else lb.label("no_data", lang)
        for v, ok in zip(vals, finite, strict=True)
    ]
    names = [n if n is not None else c for n, c in zip(column(gdf, "name"), codes, strict=True)]
    texts = Texts()
    props = [
        {"s": int(s), "t": texts.add(tip(n, lb.kv(title, v, lang)))}
        for s, n, v in zip(cls, names, shown, strict=True)
    ]
    if not finite.all():
        legend.append(swatch(lb.label("no_data", lang), fill="#bdbdbd", stroke="#444", dashed=True))
    add_geojson(layer, gdf, props, styles=styles, texts=texts, simplify_m=simplify_m)
    layer.legend = _choropleth_legend(unit, year, source, reference, lang) + legend
    return layer
