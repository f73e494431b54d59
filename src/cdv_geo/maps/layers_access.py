"""Walking-access layers: facilities, their service areas, and homes by walking time."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core import labels as lb
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.layers import feature_ids
from cdv_geo.maps import style as st
from cdv_geo.maps.features import (
    Render,
    Texts,
    add_geojson,
    checked,
    column,
    display_points,
    points,
    popup,
    swatch,
    tip,
    tip_columns,
    tip_table,
    use_canvas,
    year_text,
)
from cdv_geo.maps.layers_perimeters import spread
from cdv_geo.maps.runtime import Call, MapLayer

__all__ = [
    "CANVAS_MIN",
    "CLUSTER_MIN",
    "POINT_MIN_HOMES",
    "HomeForm",
    "PointMode",
    "add_points",
    "as_points",
    "facilities_layer",
    "facility_icon",
    "mode_assets",
    "residences_layer",
    "resolve_mode",
    "service_areas_layer",
    "time_classes",
]

#: Above this many points a layer is drawn as clustered markers or on a canvas, not as
#: individual DOM markers (a few thousand DOM markers make a browser crawl).
CLUSTER_MIN = 200
CANVAS_MIN = 5000

PointMode = Literal["auto", "icon", "circle", "cluster", "heat"]

#: How :func:`residences_layer` draws the homes: ``"polygon"`` (each footprint, simplified),
#: ``"point"`` (one small circle per home, at a point inside its footprint, on a canvas) or
#: ``"auto"`` (points from :data:`POINT_MIN_HOMES` homes).
HomeForm = Literal["auto", "polygon", "point"]
#: From this many homes, ``form="auto"`` draws them as points: a city of 100,000 homes as
#: footprints makes a 16 MB layer per map, as points 4 MB, drawn faster by the browser; at the
#: scale of a whole city a footprint is a speck either way. A quartier's map keeps footprints.
POINT_MIN_HOMES = 25_000
#: Decimals of the longitude and latitude of a home drawn as a point (about 1 m).
_POINT_DECIMALS = 5


def resolve_mode(mode: PointMode, n: int, *, allow_icon: bool) -> str:
    """Return how `n` points are drawn: ``"auto"`` picks icons, clusters, then canvas circles.

    Examples
    --------
    >>> resolve_mode("auto", 10, allow_icon=True), resolve_mode("auto", 9000, allow_icon=True)
    ('icon', 'circle')
    """
    if mode not in ("auto", "icon", "circle", "cluster", "heat"):
        raise CdvGeoError(
            f"mode={mode!r} is not valid; use 'auto', 'icon', 'circle', 'cluster' or 'heat'"
        )
    if mode != "auto":
        return mode
    if n > CANVAS_MIN:
        return "circle"
    if n > CLUSTER_MIN:
        return "cluster"
    return "icon" if allow_icon else "cluster"


def mode_assets(mode: str) -> list[str]:
    """Return the names of the assets a point mode needs (see :data:`~cdv_geo.maps.ASSETS`)."""
    if mode == "cluster":
        return ["markercluster_js", "markercluster_css"]
    if mode == "heat":
        return ["heat_js"]
    return []


def facility_icon(kind: str, size: int = 24) -> tuple[str, str]:
    """Return the colour and the marker HTML of a facility kind (unknown kinds: "other")."""
    style = st.FACILITY_STYLE.get(kind, st.FACILITY_STYLE["other"])
    colour = style["colour"]
    svg = st.glyph_svg(style["glyph"], st.glyph_colour(colour))
    css = f"background:{colour}" + (
        "" if size == 24 else f";width:{size}px;height:{size}px;flex:none"
    )
    return colour, f'<div class="cdv-fac" style="{css}">{svg}</div>'


def facilities_layer(
    facilities: gpd.GeoDataFrame,
    *,
    kinds: Sequence[str] | None = None,
    lang: str = "fr",
    mode: PointMode = "auto",
    key: str = "facilities",
    title: str | None = None,
    show: bool = True,
) -> MapLayer:
    """Facilities with one pictogram and colour per kind, and one legend entry per kind.

    Parameters
    ----------
    facilities : GeoDataFrame
        Validated ``facilities`` layer (points, or polygons drawn at a point inside them).
    kinds : sequence of str, optional
        Keep only these kinds (see ``cdv_geo.schema.FACILITY_KINDS``).
    mode : {"auto", "icon", "circle", "cluster"}
        ``"auto"``: pictograms, clustered beyond a few hundred, canvas circles beyond 5,000.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> f = gpd.GeoDataFrame({"id": ["a", "b"], "name": ["Aire", "MSP"],
    ...                       "kind": ["water_play_area", "health_centre"]},
    ...                      geometry=[Point(0, 0), Point(100, 0)], crs=2154)
    >>> layer = facilities_layer(f, lang="en")
    >>> layer.n_features, layer.title
    (2, 'Facilities and services')
    """
    gdf = checked(facilities, "facilities", ["point", "polygon"])
    lb.check_lang(lang)
    if kinds is not None:
        gdf = gdf[gdf["kind"].isin(list(kinds))]
        if len(gdf) == 0:
            raise CdvGeoError(
                f"no facility of kind {', '.join(kinds)}; kinds present: "
                f"{', '.join(sorted(set(facilities['kind'].dropna())))}"
            )
    n = len(gdf)
    layer = MapLayer(key, title or lb.label("layer_facilities", lang), show=show)
    kind_col = column(gdf, "kind")
    kinds_here = {str(k) for k in kind_col if k is not None}
    present = [k for k in st.FACILITY_STYLE if k in kinds_here]
    present += sorted(kinds_here - set(present))
    cls_index = {k: i for i, k in enumerate(present)}
    circle = {"radius": 6, "color": "#fff", "weight": 1, "fillOpacity": 0.9}
    classes = [
        {"html": html, "style": {**circle, "fillColor": colour}}
        for colour, html in (facility_icon(k) for k in present)
    ]
    texts = Texts()
    kind_text = {k: lb.value_label("kind", k, lang) for k in present}
    labels = [kind_text.get(str(k), "") if k is not None else "" for k in kind_col]
    kind_head, opened_head = lb.label("kind", lang), lb.label("opened", lang)
    names, opened = column(gdf, "name"), column(gdf, "opened")
    tips = [texts.add(tip(nm, kl)) for nm, kl in zip(names, labels, strict=True)]
    pops = [
        texts.add(popup(nm, [(kind_head, kl), (opened_head, year_text(op))]))
        for nm, kl, op in zip(names, labels, opened, strict=True)
    ]
    xs, ys = points(gdf)
    resolved = resolve_mode(mode, n, allow_icon=True)
    spec = {
        "x": xs,
        "y": ys,
        "c": [cls_index.get(str(k), 0) for k in kind_col],
        "t": tips,
        "p": pops,
        "texts": texts.items,
        "classes": classes,
        "mode": "circle" if resolved == "circle" else "icon",
        "cluster": resolved == "cluster",
        "clusterColour": "#455a64",
    }
    Call("points", key, spec, assets=mode_assets(resolved)).add_to(layer)
    layer.n_features = n
    layer.legend = [swatch(kind_text[k], html_icon=facility_icon(k, 20)[1]) for k in present]
    return layer


def _areas_method(gdf: gpd.GeoDataFrame, method: str | None) -> str:
    if method is not None:
        return method
    if "method" in gdf.columns:
        return "euclidean" if (gdf["method"] == "euclidean").any() else "network"
    return "euclidean" if gdf.attrs.get("method") == "euclidean" else "network"


def service_areas_layer(
    areas: gpd.GeoDataFrame,
    *,
    service: str = "water_play_area",
    method: Literal["network", "euclidean"] | None = None,
    lang: str = "fr",
    simplify_m: float | None = 1.0,
    show: bool = True,
) -> MapLayer:
    """Draw the walking service areas of one facility kind: one band per distance threshold.

    Parameters
    ----------
    areas : GeoDataFrame
        ``kind``, ``threshold_m``, geometry -- the output of
        :func:`cdv_geo.metrics.service_areas.service_areas`. Rows of other kinds are ignored.
    service : str
        The facility kind shown.
    method : {"network", "euclidean"}, optional
        How the areas were computed; read from a ``method`` column or ``areas.attrs`` when
        omitted. Straight-line circles are labelled as such in the legend.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> a = gpd.GeoDataFrame({"kind": ["water_play_area"] * 2, "threshold_m": [300, 600]},
    ...                      geometry=[Point(0, 0).buffer(300), Point(0, 0).buffer(600)],
    ...                      crs=2154)
    >>> layer = service_areas_layer(a, method="euclidean")
    >>> layer.n_features
    2
    >>> "vol d'oiseau" in "".join(layer.legend).replace("&#x27;", "'")
    True
    """
    gdf = checked(areas, "service areas", "polygon")
    lb.check_lang(lang)
    if "kind" in gdf.columns:
        gdf = gdf[gdf["kind"] == service]
    if len(gdf) == 0:
        raise CdvGeoError(f"no service area of kind {service!r}")
    if "threshold_m" not in gdf.columns:
        raise CdvGeoError(
            "service areas need a 'threshold_m' column (distance band in metres), as returned "
            "by cdv_geo.metrics.service_areas.service_areas"
        )
    drawn = _areas_method(gdf, method)
    service_label = lb.value_label("kind", service, lang)
    layer = MapLayer(
        f"service_areas_{service}",
        lb.label("layer_service_areas", lang, service=service_label),
        show=show,
    )
    # Widest band first, so that the narrower (darker) bands are drawn on top.
    gdf = gdf.sort_values("threshold_m", ascending=False)
    thresholds = sorted({float(t) for t in gdf["threshold_m"]})
    euclid = drawn == "euclidean"
    band_key = "band_euclidean" if euclid else "band_network"
    bands = [lb.label(band_key, lang, distance=lb.fmt_distance(t, lang)) for t in thresholds]
    styles, legend = [], []
    for i, text in enumerate(bands):
        colour = st.SERVICE_BAND_COLOURS[min(i, 3)]
        styles.append(
            {
                "color": colour,
                "weight": 1,
                "fillColor": colour,
                "fillOpacity": 0.28 - 0.05 * i,
                "dashArray": "5 4" if euclid else None,
            }
        )
        legend.append(
            swatch(text, fill=colour, stroke=colour, opacity=0.55 - 0.1 * i, dashed=euclid)
        )
    texts = Texts()
    band_of = np.searchsorted(thresholds, gdf["threshold_m"].astype(float).to_numpy())
    tips = [texts.add(tip(service_label, b)) for b in bands]
    props = [{"s": int(b), "t": tips[int(b)]} for b in band_of]
    add_geojson(layer, gdf, props, styles=styles, texts=texts, simplify_m=simplify_m)
    layer.legend = legend
    return layer


def time_classes(bins: Sequence[float], lang: str = "fr") -> list[tuple[str, str]]:
    """Labels and colours of the walking-time classes (plus "unreachable").

    Examples
    --------
    >>> [t for t, _ in time_classes((5, 10))]
    ['moins de 5 min', '5–10 min', '10 min et plus', 'hors réseau / injoignable']
    """
    edges = sorted(float(b) for b in bins)
    labels = [lb.label("time_first", lang, hi=lb.fmt_number(edges[0], lang))]
    for lo, hi in itertools.pairwise(edges):
        labels.append(
            lb.label("time_class", lang, lo=lb.fmt_number(lo, lang), hi=lb.fmt_number(hi, lang))
        )
    labels.append(lb.label("time_last", lang, lo=lb.fmt_number(edges[-1], lang)))
    colours = spread(st.TIME_COLOURS, len(labels))
    out = list(zip(labels, colours, strict=True))
    out.append((lb.label("unreachable", lang), st.UNREACHABLE_COLOUR))
    return out


def _walk_times(gdf: gpd.GeoDataFrame, nearest: pd.DataFrame | None, col: str) -> Any:
    """Return the walking times of the residences, aligned on `gdf` (None without `nearest`)."""
    if nearest is None:
        return None
    if col not in nearest.columns:
        raise CdvGeoError(
            f"nearest has no column {col!r} (columns: {', '.join(map(str, nearest.columns))});"
            f" compute it with nearest_facility(..., kinds=[{col.removesuffix('_time_min')!r}])"
        )
    t = pd.Series(nearest[col].to_numpy(), index=nearest.index.astype(str))
    t = t[~t.index.duplicated()]
    return pd.to_numeric(t.reindex(feature_ids(gdf)), errors="coerce").to_numpy(dtype=float)


def _number_texts(values: np.ndarray, name: str, lang: str) -> list[str | None]:
    """``name : value`` for each value (None where missing), each distinct value formatted once."""
    codes, distinct = pd.factorize(np.asarray(values, dtype=object))
    texts = np.array(
        [lb.kv(name, lb.fmt_number(v, lang), lang) for v in distinct] + [None], dtype=object
    )
    return texts[codes].tolist()


def residences_layer(
    residences: gpd.GeoDataFrame,
    *,
    nearest: pd.DataFrame | None = None,
    service: str = "water_play_area",
    bins: Sequence[float] = (5, 10, 15),
    lang: str = "fr",
    simplify_m: float | None = 0.5,
    render: Render = "auto",
    form: HomeForm = "auto",
    show: bool = True,
) -> MapLayer:
    """Residences coloured by walking time to the nearest facility of one kind.

    Parameters
    ----------
    residences : GeoDataFrame
        Validated ``residences`` layer (polygons or points; ``dwellings``, ``population``).
    nearest : DataFrame, optional
        Output of :func:`cdv_geo.metrics.access.nearest_facility`, indexed by residence ``id``,
        with ``<service>_time_min``. Without it the residences are drawn in one neutral colour.
    service : str
        The facility kind.
    bins : sequence of float
        Class limits in minutes.
    render : {"auto", "svg", "canvas"}
        ``"auto"`` draws from 2,000 homes on one canvas (fast in the browser, one tooltip for
        the layer); ``"svg"`` keeps one SVG path per home.
    form : {"auto", "polygon", "point"}
        ``"auto"`` draws the footprints up to :data:`POINT_MIN_HOMES` homes, and beyond them
        one small circle per home on a canvas, at a point inside its footprint (``render`` is
        then not used); ``"polygon"`` or ``"point"`` forces one form. The colours, tooltips
        and legend are the same.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> r = gpd.GeoDataFrame({"id": ["r1", "r2"], "dwellings": [40, 12]},
    ...                      geometry=[box(0, 0, 20, 20), box(50, 0, 70, 20)], crs=2154)
    >>> near = pd.DataFrame({"water_play_area_time_min": [3.2, 12.5]},
    ...                     index=pd.Index(["r1", "r2"], name="id"))
    >>> layer = residences_layer(r, nearest=near)
    >>> layer.n_features, len(layer.legend)
    (2, 5)
    """
    gdf = checked(residences, "residences", ["point", "polygon"])
    lb.check_lang(lang)
    canvas = use_canvas(render, len(gdf))
    drawn_as_points = as_points(form, len(gdf))
    service_label = lb.value_label("kind", service, lang)
    times = _walk_times(gdf, nearest, f"{service}_time_min")
    plain = lb.label("layer_residences_plain", lang)
    title = plain if times is None else lb.label("layer_residences", lang, service=service_label)
    layer = MapLayer("residences", title, show=show)
    classes = time_classes(bins, lang)
    edges = sorted(float(b) for b in bins)
    styles = [
        {"color": "#555", "weight": 0.6, "fillColor": c, "fillOpacity": 0.75} for _, c in classes
    ]
    styles.append({"color": "#555", "weight": 0.6, "fillColor": "#bcaaa4", "fillOpacity": 0.6})
    parts = [
        _number_texts(column(gdf, f), lb.label(f, lang), lang) for f in ("dwellings", "population")
    ]
    if times is None:
        style_idx = np.full(len(gdf), len(styles) - 1)
        walk: list[str | None] = [None] * len(gdf)
    else:
        finite = np.isfinite(times)
        style_idx = np.where(
            finite, np.searchsorted(edges, np.nan_to_num(times), side="right"), len(classes) - 1
        )
        walk_head, unreachable = lb.label("walk_time", lang), lb.label("unreachable", lang)
        # each distinct time (to the tenth of a minute) labelled once
        tenths = np.array([f"{t:.1f}" if ok else "" for t, ok in zip(times, finite, strict=True)])
        codes, distinct = pd.factorize(tenths)
        walk_texts = np.array(
            [
                lb.kv(walk_head, f"{lb.fmt_number(float(t), lang, 1)} min ({service_label})", lang)
                if t
                else unreachable
                for t in distinct
            ],
            dtype=object,
        )
        walk = walk_texts[codes].tolist()
    heads = [n if n is not None else plain for n in column(gdf, "name")]
    texts = Texts()
    if drawn_as_points:  # (rows with -1 for a line left out: the browser skips them)
        tips = tip_table(texts, heads, parts[0], parts[1], walk).tolist()
        add_points(layer, gdf, style_idx, tips, styles=styles, texts=texts)
    else:
        add_geojson(
            layer,
            gdf,
            {"s": style_idx.tolist(), "t": tip_columns(texts, heads, parts[0], parts[1], walk)},
            styles=styles,
            texts=texts,
            simplify_m=simplify_m,
            canvas=canvas,
            radius=5,
        )
    if times is None:
        layer.legend = [swatch(plain, fill="#bcaaa4", stroke="#555")]
    else:
        layer.legend = [swatch(text, fill=c, stroke="#555", opacity=0.8) for text, c in classes]
    return layer


def as_points(form: HomeForm, n: int) -> bool:
    """Return whether `n` homes are drawn as points (see :data:`HomeForm`)."""
    if form not in ("auto", "polygon", "point"):
        raise CdvGeoError(f"form={form!r} is not valid; use 'auto', 'polygon' or 'point'")
    return form == "point" or (form == "auto" and n >= POINT_MIN_HOMES)


def add_points(
    layer: MapLayer,
    gdf: gpd.GeoDataFrame,
    style_idx: np.ndarray,
    tips: list[Any],
    *,
    styles: Sequence[dict[str, Any]],
    texts: Texts,
) -> None:
    """Add the homes to `layer` as canvas circles (a point inside each footprint)."""
    xy = display_points(gdf, decimals=_POINT_DECIMALS)
    keep = ~np.isnan(xy[:, 0])
    xs, ys = xy[keep, 0].tolist(), xy[keep, 1].tolist()
    classes = [{"style": {**st, "radius": 3, "weight": 0.5}} for st in styles]
    spec = {
        "x": xs,
        "y": ys,
        "c": style_idx[keep].tolist(),
        "t": list(itertools.compress(tips, keep.tolist())),
        "texts": texts.items,
        "classes": classes,
        "mode": "circle",
        "cluster": False,
    }
    Call("points", layer.key, spec).add_to(layer)
    layer.n_features = len(xs)
