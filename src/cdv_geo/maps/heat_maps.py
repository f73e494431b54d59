"""The heat and water committee map: heat raster, water play areas, hydrants, suggested sites.

Water play areas against street pooling (issue 14): the map shows where the town is hot (the
heat raster, in its own units, °C for a land-surface temperature), the water play areas with
their walking areas, the fire hydrants sized by their past incidents, and the sites the site
choice suggests for the next play areas. It reads the metrics of
:func:`cdv_geo.pipeline.compute_metrics` and computes none.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core import labels as lb
from cdv_geo.core.raster import RasterLike
from cdv_geo.core.rows import row_label
from cdv_geo.core.tables import is_comparison_row
from cdv_geo.maps.builder import Builder, check_territory, ensure_metrics
from cdv_geo.maps.features import (
    Texts,
    add_geojson,
    checked,
    legend_note,
    points,
    popup,
    swatch,
    tip,
)
from cdv_geo.maps.furniture import DEFAULT_TILES, Tiles, fit_bounds, metric_bounds
from cdv_geo.maps.html import escape_text
from cdv_geo.maps.layers import communes_layer, facilities_layer, quartiers_layer
from cdv_geo.maps.layers_raster import read_raster_mercator
from cdv_geo.maps.runtime import Call, MapLayer
from cdv_geo.pipeline import Metrics
from cdv_geo.pipeline.heat import PLAY_KIND, heat_raster
from cdv_geo.views.panels import PANEL_ROWS
from cdv_geo.views.titles import map_title, territory_name

__all__ = [
    "HEAT_OUTPUTS_MAP",
    "has_heat_data",
    "heat_map",
    "heat_raster_layer",
    "hydrants_layer",
    "suggested_sites_layer",
    "water_areas_layer",
]

#: What the heat and water map reads (``compute_metrics(only=...)``).
HEAT_OUTPUTS_MAP = ("children_access", "heat_exposure", "cool_access", "incidents", "site_choice")
#: Colour map of the heat raster (cool blue to hot red).
HEAT_CMAP = "RdYlBu_r"
#: Hydrant classes by past incidents: (lowest count, radius in px, fill colour).
HYDRANT_CLASSES = (
    (0, 2.0, "#9e9e9e"),
    (1, 4.0, "#1e88e5"),
    (2, 6.5, "#1565c0"),
    (4, 9.5, "#0d2c6e"),
)
#: Colours of the walking bands of the play areas (narrowest first) and of the suggested sites.
WATER_BANDS = ("#00838f", "#4dd0e1")
SITE_COLOUR = "#d81b60"


def _png(values: np.ndarray, vmin: float, vmax: float) -> str:
    """Return a palette PNG data URL of `values` on the heat colour map (nodata transparent)."""
    from matplotlib import colormaps
    from PIL import Image

    levels = 200
    nodata = ~np.isfinite(values)
    norm = np.clip((np.nan_to_num(values) - vmin) / max(vmax - vmin, 1e-9), 0, 1)
    index = np.round(norm * levels).astype("uint8")
    index[nodata] = 255
    rgb = (colormaps[HEAT_CMAP](np.linspace(0, 1, levels + 1))[:, :3] * 255).round()
    palette = np.zeros((256, 3), dtype="uint8")
    palette[: levels + 1] = rgb.astype("uint8")
    img = Image.fromarray(index, "P")
    img.putpalette(palette.ravel().tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", transparency=255, compress_level=9)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _ramp(vmin: float, vmax: float, units: str, lang: str) -> str:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    stops = ", ".join(to_hex(colormaps[HEAT_CMAP](x)) for x in np.linspace(0, 1, 7))
    lo, hi = lb.fmt_number(vmin, lang), lb.fmt_number(vmax, lang)
    return (
        f'<div class="cdv-ramp" style="background:linear-gradient(to right, {stops})"></div>'
        f'<div class="cdv-ramp-labels"><span>{escape_text(f"{lo} {units}")}</span>'
        f"<span>{escape_text(f'{hi} {units}')}</span></div>"
        f'<div class="cdv-note">{escape_text(lb.label("heat_unit", lang, units=units))}</div>'
    )


def heat_raster_layer(
    path: RasterLike,
    *,
    units: str,
    year: int | str | None = None,
    lang: str = "fr",
    opacity: float = 0.65,
    max_size: int = 800,
    show: bool = True,
) -> MapLayer:
    """Draw a heat raster as a coloured overlay, blue (cool) to red (hot), legend in `units`.

    The colours stretch from the 2nd to the 98th percentile of the valid pixels (rounded to
    whole units), so that a few very hot roofs do not flatten the rest.

    Raises
    ------
    RasterError
        If the file cannot be read or has no CRS.
    """
    lb.check_lang(lang)
    values, bounds = read_raster_mercator(path, max_size)
    finite = values[np.isfinite(values)]
    vmin, vmax = (
        (float(np.floor(np.percentile(finite, 2))), float(np.ceil(np.percentile(finite, 98))))
        if finite.size
        else (0.0, 1.0)
    )
    title = lb.label("layer_raster_heat", lang, year=year if year is not None else "").strip()
    layer = MapLayer("raster_heat", title, show=show)
    w, s, e, n = (round(float(v), 6) for v in bounds)
    Call("image", "raster_heat", _png(values, vmin, vmax), [[s, w], [n, e]], float(opacity)).add_to(
        layer
    )
    layer.n_features = 1
    layer.legend = [_ramp(vmin, vmax, units, lang)]
    return layer


def water_areas_layer(
    areas: gpd.GeoDataFrame,
    *,
    lang: str = "fr",
    simplify_m: float | None = 1.0,
    show: bool = True,
) -> MapLayer:
    """Draw the walking areas of the water play areas, one band per walking time.

    `areas` is :attr:`Metrics.water_service_areas <cdv_geo.pipeline.Metrics>`: ``threshold_m``,
    ``threshold_min``, ``method`` and geometry.
    """
    gdf = checked(areas, "water_service_areas", "polygon").sort_values(
        "threshold_m", ascending=False
    )
    minutes = sorted({float(x) for x in gdf["threshold_min"]})
    text = " / ".join(lb.fmt_number(x, lang) for x in minutes)
    layer = MapLayer(
        f"service_areas_{PLAY_KIND}",
        lb.label("layer_water_areas", lang, minutes=text),
        show=show,
    )
    euclid = "method" in gdf.columns and (gdf["method"] == "euclidean").any()
    bands, styles, legend = [], [], []
    for i, x in enumerate(minutes):
        metres = float(gdf.loc[gdf["threshold_min"] == x, "threshold_m"].iloc[0])
        band = lb.label(
            "band_minutes",
            lang,
            minutes=lb.fmt_number(x, lang),
            distance=lb.fmt_distance(metres, lang),
        )
        colour = WATER_BANDS[min(i, len(WATER_BANDS) - 1)]
        bands.append(band)
        styles.append(
            {
                "color": colour,
                "weight": 1.5,
                "fillColor": colour,
                "fillOpacity": 0.22 - 0.08 * min(i, 2),
                "dashArray": "5 4" if euclid else None,
            }
        )
        legend.append(swatch(band, fill=colour, stroke=colour, opacity=0.5, dashed=euclid))
    if euclid:
        legend.append(legend_note(lb.label("band_euclidean", lang, distance="").strip()))
    texts = Texts()
    service = lb.value_label("kind", PLAY_KIND, lang)
    tips = [texts.add(tip(service, b)) for b in bands]
    index = {x: i for i, x in enumerate(minutes)}
    props = [{"s": index[float(x)], "t": tips[index[float(x)]]} for x in gdf["threshold_min"]]
    add_geojson(layer, gdf, props, styles=styles, texts=texts, simplify_m=simplify_m)
    layer.legend = legend
    return layer


def _hydrant_class(n: np.ndarray) -> np.ndarray:
    lows = np.array([c[0] for c in HYDRANT_CLASSES])
    return np.searchsorted(lows, n, side="right") - 1


def hydrants_layer(
    hydrants: gpd.GeoDataFrame,
    *,
    lang: str = "fr",
    show: bool = True,
) -> MapLayer:
    """Draw the fire hydrants as circles sized by their past incidents (``n_incidents``).

    `hydrants` is :attr:`Metrics.hydrant_incidents <cdv_geo.pipeline.Metrics>` (or a hydrants
    layer with an ``n_incidents`` column). Hydrants with more incidents are drawn on top.
    """
    gdf = checked(hydrants, "hydrants", "point")
    counts = pd.to_numeric(gdf.get("n_incidents", 0), errors="coerce")
    n = np.nan_to_num(np.asarray(counts, dtype=float) * np.ones(len(gdf)), nan=0).astype(int)
    order = np.argsort(n, kind="stable")
    gdf, n = gdf.iloc[order], n[order]
    cls = _hydrant_class(n)
    classes = [
        {
            "style": {
                "radius": r,
                "color": "#ffffff",
                "weight": 1,
                "fillColor": c,
                "fillOpacity": 0.9,
            }
        }
        for _, r, c in HYDRANT_CLASSES
    ]
    texts = Texts()
    head, what = lb.label("hydrant", lang), lb.label("hydrant_incidents", lang)
    names = gdf["name"] if "name" in gdf.columns else gdf.get("id", pd.Series([None] * len(gdf)))
    tips = [
        texts.add(tip(f"{head} {'' if lb.is_missing(nm) else nm}".strip(), lb.kv(what, k, lang)))
        for nm, k in zip(names, n, strict=True)
    ]
    xs, ys = points(gdf)
    spec = {"x": xs, "y": ys, "c": cls.tolist(), "t": tips, "texts": texts.items}
    spec.update(classes=classes, mode="circle", cluster=False)
    layer = MapLayer("hydrants", lb.label("layer_hydrants_sized", lang), show=show)
    Call("points", "hydrants", spec).add_to(layer)
    layer.n_features = len(gdf)
    lows = [c[0] for c in HYDRANT_CLASSES]
    legend = []
    for i, (lo, r, colour) in enumerate(HYDRANT_CLASSES):
        if i == 0:
            text = lb.label("hydrants_none", lang)
        elif i == len(lows) - 1:
            text = lb.label("hydrants_last", lang, lo=lo)
        elif lows[i + 1] - 1 == lo:
            text = f"{lo} incident" + ("s" if lo > 1 else "")
        else:
            text = lb.label("hydrants_class", lang, lo=lo, hi=lows[i + 1] - 1)
        size = int(2 * r + 2)
        icon = (
            f'<span class="cdv-sw" style="border-radius:50%;width:{size}px;height:{size}px;'
            f'background:{colour};border:1px solid #fff"></span>'
        )
        legend.append(swatch(text, html_icon=icon))
    layer.legend = legend
    return layer


def suggested_sites_layer(
    sites: gpd.GeoDataFrame,
    *,
    threshold_min: float = 5.0,
    lang: str = "fr",
    show: bool = True,
) -> MapLayer:
    """Draw the suggested sites (:attr:`Metrics.suggested_sites`), outlined, with their rank.

    Each site carries its rank as a permanent label; its popup gives its type, the children
    it newly brings within `threshold_min` of a play area and the past incidents there.
    """
    gdf = checked(sites, "suggested_sites", ["point", "polygon"])
    layer = MapLayer("suggested_sites", lb.label("layer_suggested_sites", lang), show=show)
    minutes = lb.fmt_number(threshold_min, lang)
    texts = Texts()
    props = []
    for _, row in gdf.iterrows():  # (three sites: no need for vectors)
        kind = str(row.get("site_type", ""))
        kind_text = (
            lb.label("site_green_space", lang)
            if kind == "green_space"
            else lb.value_label("site_type", kind, lang)
        )
        rank = lb.label("site_rank", lang, rank=int(row["rank"]))
        rows = [
            (lb.label("site_type", lang), kind_text),
            (
                lb.label("site_children", lang, minutes=minutes),
                lb.fmt_number(row.get("n_children_covered"), lang),
            ),
        ]
        if "n_incidents_covered" in gdf.columns:
            rows.append(
                (
                    lb.label("site_incidents", lang, minutes=minutes),
                    lb.fmt_number(row.get("n_incidents_covered"), lang),
                )
            )
        name = row.get("name")
        title = f"{rank} : {name}" if not lb.is_missing(name) else rank
        # the rank as a permanent label: the sites are small (a yard, a square)
        short = lb.label("site_rank_short", lang, rank=int(row["rank"]))
        props.append({"s": 0, "t": texts.add(tip(short)), "p": texts.add(popup(title, rows))})
    style = {
        "color": SITE_COLOUR,
        "weight": 4,
        "dashArray": "7 4",
        "fillColor": SITE_COLOUR,
        "fillOpacity": 0.35,
    }
    add_geojson(
        layer, gdf, props, styles=[style], texts=texts, simplify_m=None, radius=9, label=True
    )
    layer.legend = [
        swatch(
            lb.label("layer_suggested_sites", lang),
            fill=SITE_COLOUR,
            stroke=SITE_COLOUR,
            dashed=True,
        ),
        legend_note(lb.label("site_method", lang)),
    ]
    return layer


def _panel(m: Metrics, quartiers: pd.DataFrame, lang: str, town: str | None) -> str | None:
    """Per quartier: children near a play area, mean heat, residents in the hottest decile."""
    rows: list[tuple[str, dict[str, str]]] = []
    ca = m.children_access
    if ca is not None:
        first = float(ca.index.get_level_values("threshold_min").min())
        sel = ca.xs(("children", first), level=("weight", "threshold_min"), drop_level=False)
        codes = sel.index.get_level_values("quartier")
        shares = {
            str(k): lb.fmt_percent(v, lang)
            for k, v in zip(codes, sel["covered_share"], strict=True)
        }
        rows.append(
            (lb.label("heat_children_within", lang, minutes=lb.fmt_number(first, lang)), shares)
        )
    he = m.heat_exposure
    if he is not None:
        units = str(he.attrs.get("units", ""))
        rows.append(
            (
                f"{lb.label('heat_mean_label', lang)} ({units})",
                {str(k): lb.fmt_number(v, lang, 1) for k, v in he["heat_mean"].items()},
            )
        )
        rows.append(
            (
                lb.label("heat_hot_residents", lang),
                {str(k): lb.fmt_percent(v, lang) for k, v in he["hot_residents_share"].items()},
            )
        )
    if not rows:
        return None
    # The quartiers, then the comparison rows every panel shows (views.panels.PANEL_ROWS: the
    # town outside the QPV, the whole town) that the tables have, each under its one label:
    # never a "total" whose meaning changes from table to table.
    present = {k for _, vals in rows for k in vals}
    keys = [*(str(c) for c in quartiers["code"]), *(r for r in PANEL_ROWS if r in present)]
    names = dict(zip(quartiers["code"].astype(str), quartiers["name"], strict=True))
    shown = [
        row_label(k, town=town, lang=lang) if is_comparison_row(k) else names.get(k, k)
        for k in keys
    ]
    head = "".join(f"<th>{escape_text(n)}</th>" for n in shown)
    body = "".join(
        f"<tr><th>{escape_text(title)}</th>"
        + "".join(f"<td>{escape_text(vals.get(k, lb.label('no_data', lang)))}</td>" for k in keys)
        + "</tr>"
        for title, vals in rows
    )
    return f'<table class="cdv-fig"><tr><th></th>{head}</tr>{body}</table>'


def has_heat_data(t: Any) -> bool:
    """Return True when the territory has a heat raster, hydrants or incidents (a heat map).

    Examples
    --------
    >>> import cdv_geo as cg
    >>> has_heat_data(cg.datasets.soissons())
    True
    """
    return (
        heat_raster(t) is not None
        or getattr(t, "hydrants", None) is not None
        or getattr(t, "incidents", None) is not None
    )


def heat_map(
    territory: Any,
    *,
    metrics: Metrics | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
) -> folium.Map:
    """Map heat and water: heat raster, play areas, hydrants and suggested sites.

    The heat raster, the water play areas with their walking areas, the fire hydrants sized by
    their past incidents, and the sites suggested for new play areas.

    What is missing (no heat raster, no hydrants...) is listed under "Couches non affichées".

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = heat_map(cg.datasets.soissons(), tiles=None, lang="en")
    >>> m._cdv_title
    'Heat and water: water play areas and fire hydrants — Soissons'
    """
    lb.check_lang(lang)
    check_territory(territory)
    t = territory
    m = ensure_metrics(t, metrics, HEAT_OUTPUTS_MAP, PLAY_KIND)
    bounds, tol = fit_bounds(t, metric_bounds(t), 150.0)
    title = map_title("heat", t, lang)
    b = Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    if t.communes is not None:
        b.add("communes", communes_layer, simplify_m=max(tol, 1.0))
    b.add_notes(m, ["heat", "water"])
    raster = heat_raster(t)
    if raster is not None:
        name, path, year = raster
        units = t.raster_units.get(name) or str(
            (m.heat_exposure.attrs.get("units") if m.heat_exposure is not None else None) or ""
        )
        b.add("heat", heat_raster_layer, path, units=units, year=year)
    else:
        b.note("missing_raster", name="heat_<year>")
    b.add("quartiers", quartiers_layer, simplify_m=b.simplify_m)
    if m.water_service_areas is not None:
        b.add(
            "water_service_areas", water_areas_layer, m.water_service_areas, simplify_m=b.simplify_m
        )
    fac = t.facilities
    if fac is not None and PLAY_KIND in set(fac["kind"]):
        b.add(
            "facilities",
            facilities_layer,
            kinds=[PLAY_KIND],
            key=f"facilities_{PLAY_KIND}",
            title=lb.value_label("kind", PLAY_KIND, lang),
        )
    hyd = m.hydrant_incidents if m.hydrant_incidents is not None else t.hydrants
    if hyd is not None:
        b.add("hydrants", hydrants_layer, hyd)
    else:
        b.note("missing_layer", layer="hydrants")
    if m.suggested_sites is not None:
        threshold = float(
            (m.site_choice.attrs if m.site_choice is not None else {}).get("threshold_min", 5.0)
        )
        b.add("suggested_sites", suggested_sites_layer, m.suggested_sites, threshold_min=threshold)
    # The commune rows are named after the town, as in the index and the dossier.
    panel = _panel(m, t.quartiers, lang, territory_name(t)) if t.quartiers is not None else None
    return b.finish((lb.label("key_figures", lang), panel) if panel else None)
