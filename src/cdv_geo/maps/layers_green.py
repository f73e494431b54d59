"""Renaturation layers: de-sealed surfaces, tree plantings and green spaces."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core import labels as lb
from cdv_geo.maps import style as st
from cdv_geo.maps.features import (
    Render,
    Texts,
    add_geojson,
    checked,
    column,
    legend_note,
    metric_crs,
    points,
    popup,
    swatch,
    tip,
    use_canvas,
    year_text,
)
from cdv_geo.maps.html import escape_text
from cdv_geo.maps.layers_access import PointMode, mode_assets, resolve_mode
from cdv_geo.maps.runtime import Call, MapLayer

__all__ = ["desealed_layer", "green_spaces_layer", "trees_layer"]


def desealed_layer(
    desealed_areas: gpd.GeoDataFrame,
    *,
    lang: str = "fr",
    simplify_m: float | None = 0.3,
    render: Render = "auto",
    show: bool = True,
) -> MapLayer:
    r"""De-sealed surfaces (school yards, streets...) with their area, computed in m².

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> d = gpd.GeoDataFrame({"id": ["1"], "site": ["École Jean Macé"],
    ...                       "site_type": ["school_yard"], "year": [2023]},
    ...                      geometry=[box(0, 0, 40, 25)], crs=2154)
    >>> layer = desealed_layer(d)
    >>> "1\u202f000\u00a0m²" in "".join(layer.legend)
    True
    """
    gdf = checked(desealed_areas, "desealed_areas", "polygon")
    lb.check_lang(lang)
    layer = MapLayer("desealed_areas", lb.label("layer_desealed_areas", lang), show=show)
    areas = gdf.geometry.to_crs(metric_crs(gdf)).area.to_numpy()
    heads = {k: lb.label(k, lang) for k in ("site_type", "area", "year", "status")}
    texts = Texts()
    props = []
    for site, stype, area, yr, status in zip(
        column(gdf, "site"),
        column(gdf, "site_type"),
        areas,
        column(gdf, "year"),
        column(gdf, "status"),
        strict=True,
    ):
        shown = lb.fmt_area(area, lang)
        rows = [
            (heads["site_type"], lb.value_label("site_type", stype, lang)),
            (heads["area"], shown),
            (heads["year"], year_text(yr)),
            (heads["status"], lb.value_label("status", status, lang)),
        ]
        props.append({"t": texts.add(tip(site, shown)), "p": texts.add(popup(site, rows))})
    style = {"color": "#0b6e4f", "weight": 1.5, "fillColor": st.DESEALED_COLOUR, "fillOpacity": 0.6}
    add_geojson(
        layer,
        gdf,
        props,
        styles=[style],
        texts=texts,
        simplify_m=simplify_m,
        canvas=use_canvas(render, len(gdf)),
    )
    total = lb.fmt_area(float(areas.sum()), lang)
    layer.legend = [
        swatch(
            f"{lb.label('layer_desealed_areas', lang)} ({total})",
            fill=st.DESEALED_COLOUR,
            stroke="#0b6e4f",
        )
    ]
    return layer


def _tree_tips(gdf: gpd.GeoDataFrame, trees: np.ndarray, texts: Texts, lang: str) -> list[int]:
    """Tooltip index of each planting; each distinct (species, year, count) is built once."""
    default = lb.label("layer_tree_plantings", lang)
    word = lb.label("trees", lang).lower()
    keys = pd.DataFrame(
        {"s": column(gdf, "species"), "y": column(gdf, "year"), "n": trees}, dtype=object
    )
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(keys.fillna("\x00")))
    built = []
    for s_, y_, n_ in uniques:
        sp = None if s_ == "\x00" else s_
        yr = None if y_ == "\x00" else year_text(y_)
        built.append(texts.add(tip(sp or default, yr, f"{lb.fmt_number(n_, lang)} {word}")))
    return [built[c] for c in codes]


def trees_layer(
    tree_plantings: gpd.GeoDataFrame,
    *,
    mode: PointMode = "auto",
    lang: str = "fr",
    show: bool = True,
) -> MapLayer:
    """Tree plantings: clustered dots, canvas dots beyond 5,000 points, or a heat layer.

    Tooltips give the species, year and number of trees of each planting point; a cluster
    bubble shows the number of trees it gathers (the sum of ``trees``), not of points.

    Parameters
    ----------
    mode : {"auto", "cluster", "circle", "heat"}
        ``"auto"`` clusters up to 5,000 points and draws canvas dots beyond.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> t = gpd.GeoDataFrame({"trees": [3, 1], "species": ["Tilia cordata", "Acer"],
    ...                       "year": [2024, 2023]},
    ...                      geometry=[Point(0, 0), Point(50, 0)], crs=2154)
    >>> layer = trees_layer(t)
    >>> layer.n_features
    2
    """
    gdf = checked(tree_plantings, "tree_plantings", "point")
    lb.check_lang(lang)
    n = len(gdf)
    resolved = resolve_mode(mode, n, allow_icon=False)
    if resolved == "icon":
        resolved = "cluster"
    layer = MapLayer("tree_plantings", lb.label("layer_tree_plantings", lang), show=show)
    raw = gdf["trees"] if "trees" in gdf.columns else pd.Series(1, index=gdf.index)
    trees = pd.to_numeric(raw, errors="coerce").fillna(1).to_numpy(dtype=float)
    texts = Texts()
    xs, ys = points(gdf)
    dot = f'<div class="cdv-dot" style="background:{st.TREE_COLOUR}"></div>'
    style = {"radius": 3, "stroke": False, "fillColor": st.TREE_COLOUR, "fillOpacity": 0.85}
    spec: dict[str, Any] = {
        "x": xs,
        "y": ys,
        "texts": texts.items,
        "classes": [{"html": dot, "size": 10, "style": style}],
        "mode": {"heat": "heat", "circle": "circle"}.get(resolved, "icon"),
        "cluster": resolved == "cluster",
        "clusterColour": st.TREE_COLOUR,
    }
    if resolved in ("heat", "cluster"):
        # Weights: the heat of a planting point, and what a cluster bubble sums (its trees,
        # not its points).
        spec["w"] = [int(v) if float(v).is_integer() else float(v) for v in trees]
    if resolved == "cluster":
        spec["clusterTitle"] = escape_text(lb.label("cluster_trees", lang))
    if resolved == "heat":
        spec["heat"] = {"radius": 16, "blur": 20, "maxZoom": 17, "max": float(max(trees.max(), 1))}
    else:
        spec["t"] = _tree_tips(gdf, trees, texts, lang)
    Call("points", "tree_plantings", spec, assets=mode_assets(resolved)).add_to(layer)
    layer.n_features = n
    total = lb.fmt_number(float(trees.sum()), lang)
    text = f"{total} {lb.label('trees', lang).lower()} — " + lb.label(
        "tree_heat" if resolved == "heat" else "tree_points", lang, n=lb.fmt_number(n, lang)
    )
    layer.legend = [swatch(text, fill=st.TREE_COLOUR, shape="dot", opacity=0.9)]
    if resolved == "cluster":
        layer.legend.append(legend_note(lb.label("cluster_trees_note", lang)))
    return layer


def green_spaces_layer(
    green_spaces: gpd.GeoDataFrame,
    *,
    lang: str = "fr",
    simplify_m: float | None = 0.5,
    render: Render = "auto",
    show: bool = True,
) -> MapLayer:
    """Green spaces: public ones solid, private ones pale with a dashed outline.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"name": ["Parc"], "public": [True]},
    ...                      geometry=[box(0, 0, 100, 100)], crs=2154)
    >>> green_spaces_layer(g).n_features
    1
    """
    gdf = checked(green_spaces, "green_spaces", "polygon")
    lb.check_lang(lang)
    name = lb.label("layer_green_spaces", lang)
    layer = MapLayer("green_spaces", name, show=show)
    areas = gdf.geometry.to_crs(metric_crs(gdf)).area.to_numpy()
    public = np.array([True if p is None else bool(p) for p in column(gdf, "public")], dtype=bool)
    access = {True: lb.label("public_yes", lang), False: lb.label("public_no", lang)}
    texts = Texts()
    props = [
        {
            "s": 0 if pub else 1,
            "t": texts.add(tip(nm or name, f"{access[bool(pub)]} — {lb.fmt_area(a, lang)}")),
        }
        for nm, a, pub in zip(column(gdf, "name"), areas, public, strict=True)
    ]
    line = {"color": "#31a354", "weight": 1}
    styles = [
        {**line, "fillColor": st.GREEN_PUBLIC, "fillOpacity": 0.55},
        {**line, "dashArray": "3 3", "fillColor": st.GREEN_PRIVATE, "fillOpacity": 0.5},
    ]
    add_geojson(
        layer,
        gdf,
        props,
        styles=styles,
        texts=texts,
        simplify_m=simplify_m,
        canvas=use_canvas(render, len(gdf)),
    )
    layer.legend = [swatch(f"{name} ({access[True]})", fill=st.GREEN_PUBLIC, stroke="#31a354")]
    if not public.all():
        layer.legend.append(
            swatch(
                f"{name} ({access[False]})", fill=st.GREEN_PRIVATE, stroke="#31a354", dashed=True
            )
        )
    return layer
