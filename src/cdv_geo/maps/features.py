"""What every layer builder shares: geometry for display, feature texts, legend fragments.

Builders work column by column (NumPy arrays, list comprehensions), never row by row through
pandas: 25,000 homes are written in well under a second. Every string that comes from the data
goes through :func:`~cdv_geo.maps.html.escape_text` here (:func:`popup`, :func:`tip`,
:func:`swatch`), so a builder cannot forget it.
"""

from __future__ import annotations

import itertools
import json
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.core.crs import MAP_CRS, check_metric_crs, choose_metric_crs
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.layers import as_layer
from cdv_geo.maps.html import RawJSON, escape_text, js_json
from cdv_geo.maps.runtime import Call, MapLayer

__all__ = [
    "CANVAS_MIN_FEATURES",
    "Render",
    "Texts",
    "add_geojson",
    "checked",
    "collection",
    "column",
    "display_cache",
    "display_memo",
    "display_points",
    "for_display",
    "legend_head",
    "legend_note",
    "metric_crs",
    "points",
    "popup",
    "swatch",
    "tip",
    "tip_columns",
    "tip_parts",
    "tip_table",
    "use_canvas",
    "year_text",
]

#: How a polygon layer is drawn: ``"svg"`` (one SVG path per feature: crisp, CSS-styleable),
#: ``"canvas"`` (one canvas for the layer: fast for tens of thousands of features) or
#: ``"auto"`` (canvas from :data:`CANVAS_MIN_FEATURES` features).
Render = Literal["auto", "svg", "canvas"]
#: From this many features, ``render="auto"`` draws a layer on a canvas.
CANVAS_MIN_FEATURES = 2000


def checked(gdf: Any, name: str, geometry: str | Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Return `gdf` checked by :func:`cdv_geo.core.layers.as_layer` (errors name `name`).

    Examples
    --------
    >>> checked([1], "quartiers")
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.LayerTypeError: quartiers must be a GeoDataFrame...
    """
    return as_layer(gdf, name, geometry=geometry)


def use_canvas(render: Render, n: int) -> bool:
    """Return whether a layer of `n` features is drawn on a canvas.

    Examples
    --------
    >>> use_canvas("auto", 100), use_canvas("auto", 30_000), use_canvas("svg", 30_000)
    (False, True, False)
    """
    if render not in ("auto", "svg", "canvas"):
        raise CdvGeoError(f"render={render!r} is not valid; use 'auto', 'svg' or 'canvas'")
    return render == "canvas" or (render == "auto" and n >= CANVAS_MIN_FEATURES)


def metric_crs(gdf: gpd.GeoDataFrame) -> Any:
    """Return the layer's own CRS when it is metric, else the one chosen for its location."""
    try:
        return check_metric_crs(gdf.crs)
    except CdvGeoError:
        return choose_metric_crs(gdf)


#: The display geometries of the current :func:`display_cache` (None: no cache).
_DISPLAY: ContextVar[dict[Any, dict[int, tuple[Any, Any]]] | None] = ContextVar(
    "cdv_geo_display", default=None
)


@contextmanager
def display_cache() -> Iterator[None]:
    """Within the block, :func:`for_display` computes each geometry's display form once.

    Many maps of one territory draw the same features (the homes of the overview, then of
    each quartier): their simplification and reprojection are reused. The cache lives until
    the block ends; an entry goes when its geometry is freed.

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame(geometry=[box(700000, 6900000, 700100, 6900100)], crs=2154)
    >>> with display_cache():
    ...     a = for_display(g, 1.0)
    ...     b = for_display(g.iloc[:1], 1.0)
    >>> a.iloc[0] is b.iloc[0]
    True
    """
    token = _DISPLAY.set({})
    try:
        yield
    finally:
        _DISPLAY.reset(token)


def display_memo(key: Any, compute: Callable[[], Any]) -> Any:
    """Return ``compute()``, computed once per `key` inside :func:`display_cache`.

    For what several maps of one territory draw alike (a raster's image). Outside the block,
    `compute` runs every time.

    Examples
    --------
    >>> calls = []
    >>> with display_cache():
    ...     a = display_memo("k", lambda: calls.append(1) or len(calls))
    ...     b = display_memo("k", lambda: calls.append(1) or len(calls))
    >>> a, b, len(calls)
    (1, 1, 1)
    """
    cache = _DISPLAY.get()
    if cache is None:
        return compute()
    store = cache.setdefault(("memo",), {})
    if key not in store:
        store[key] = compute()
    return store[key]


def for_display(gdf: gpd.GeoDataFrame, simplify_m: float | None) -> gpd.GeoSeries:
    """Geometries in EPSG:4326, simplified in metres, coordinates rounded to 6 decimals.

    Inside :func:`display_cache`, each geometry is converted once.

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame(geometry=[box(700000, 6900000, 700100, 6900100)], crs=2154)
    >>> round(for_display(g, 1.0).iloc[0].bounds[0], 3)
    3.0
    """
    if _DISPLAY.get() is None or not len(gdf):
        return _display(gdf, simplify_m)
    metric = metric_crs(gdf) if simplify_m else None
    key = (str(gdf.crs), str(metric), simplify_m)
    out = _per_geometry(gdf, key, lambda part: _display(part, simplify_m).values)
    return gpd.GeoSeries(out, index=gdf.index, crs=MAP_CRS)


def display_points(gdf: gpd.GeoDataFrame, *, decimals: int = 6) -> np.ndarray:
    """Return the lon/lat of a point inside each geometry, rounded (shape ``(n, 2)``).

    Missing or empty geometries give NaN. Inside :func:`display_cache`, each geometry's
    point is computed once.

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame(geometry=[box(700000, 6900000, 700100, 6900100)], crs=2154)
    >>> display_points(g, decimals=3).round(2).tolist()
    [[3.0, 49.2]]
    """
    if not len(gdf):
        return np.zeros((0, 2))
    if _DISPLAY.get() is None:
        geoms = _points_of(gdf, decimals)
    else:
        key = ("points", str(gdf.crs), decimals)
        geoms = _per_geometry(gdf, key, partial(_points_of, decimals=decimals))
    out = np.full((len(geoms), 2), np.nan)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out[ok] = shapely.get_coordinates(geoms[ok])
    return out


def _points_of(gdf: gpd.GeoDataFrame, decimals: int) -> np.ndarray:
    """Points inside the geometries (computed in metres), in EPSG:4326, rounded."""
    arr = np.asarray(gdf.geometry.values, dtype=object)
    out = np.full(len(arr), None, dtype=object)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if ok.any():
        xs, ys = points(gdf[ok], decimals=decimals)
        out[ok] = shapely.points(np.c_[xs, ys])
    return out


def _per_geometry(gdf: gpd.GeoDataFrame, key: Any, compute: Any) -> np.ndarray:
    """Return ``compute(rows)`` per geometry, each computed once in the display cache."""
    cache = _DISPLAY.get()
    assert cache is not None
    store = cache.setdefault(key, {})
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    out = np.empty(len(geoms), dtype=object)
    todo: list[int] = []
    for i, g in enumerate(geoms.tolist()):
        hit = store.get(id(g))
        if hit is not None and hit[0]() is g:
            out[i] = hit[1]
        else:
            todo.append(i)
    if todo:
        done = np.asarray(compute(gdf.iloc[todo]), dtype=object)
        out[todo] = done
        for g, d in zip(geoms[todo].tolist(), done.tolist(), strict=True):
            if g is not None:
                k = id(g)
                store[k] = (weakref.ref(g, partial(_forget, store, k)), d)
    return out


def _forget(store: dict[int, tuple[Any, Any]], key: int, _ref: Any) -> None:
    """Drop the display form of a geometry that was freed."""
    store.pop(key, None)


def _display(gdf: gpd.GeoDataFrame, simplify_m: float | None) -> gpd.GeoSeries:
    geoms = gdf.geometry
    if simplify_m:
        metric = metric_crs(gdf)
        g = geoms.to_crs(metric)
        simple = shapely.simplify(np.asarray(g.values), simplify_m, preserve_topology=True)
        geoms = gpd.GeoSeries(simple, index=g.index, crs=metric)
    geoms = geoms.to_crs(MAP_CRS)
    rounded = shapely.transform(np.asarray(geoms.values), lambda c: np.round(c, 6))
    return gpd.GeoSeries(rounded, index=geoms.index, crs=MAP_CRS)


def points(gdf: gpd.GeoDataFrame, *, decimals: int = 6) -> tuple[list[float], list[float]]:
    """Return rounded lon/lat of points (a point inside polygons, computed in metres)."""
    geoms = gdf.geometry
    if not (geoms.geom_type == "Point").all():
        metric = metric_crs(gdf)
        g = geoms.to_crs(metric)
        geoms = gpd.GeoSeries(
            np.where(g.geom_type == "Point", g.values, g.representative_point().values),
            index=g.index,
            crs=metric,
        )
    geoms = geoms.to_crs(MAP_CRS)
    xy = np.round(shapely.get_coordinates(np.asarray(geoms.values)), decimals)
    return xy[:, 0].tolist(), xy[:, 1].tolist()


def column(gdf: pd.DataFrame, field: str) -> np.ndarray:
    """Return a column as an object array with None for missing values (all None if absent).

    Examples
    --------
    >>> column(pd.DataFrame({"a": [1.0, None]}), "a").tolist(), column(pd.DataFrame(), "b")
    ([1.0, None], array([], dtype=object))
    """
    if field not in gdf.columns:
        return np.full(len(gdf), None, dtype=object)
    s = gdf[field]
    out = s.astype(object).to_numpy(copy=True)
    out[np.asarray(pd.isna(s), dtype=bool)] = None
    return out


class Texts:
    """A table of unique HTML strings; features refer to them by index (smaller files)."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, html: str | None) -> int:
        """Return the index of `html` (added if new); -1 for no text."""
        if not html:
            return -1
        i = self._index.get(html)
        if i is None:
            i = self._index[html] = len(self.items)
            self.items.append(html)
        return i


def collection(geoms: gpd.GeoSeries, props: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection of `geoms` with `props` (empty geometries dropped).

    Examples
    --------
    >>> from shapely import Point
    >>> c = collection(gpd.GeoSeries([Point(1, 2), None]), [{"t": 0}, {"t": 1}])
    >>> c["features"]
    [{'type': 'Feature', 'properties': {'t': 0}, 'geometry': {'type': 'Point', 'coordinates': [1.0, 2.0]}}]
    """  # noqa: E501
    arr = np.asarray(geoms.values)
    keep = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    text = shapely.to_geojson(arr[keep])
    shapes = json.loads("[" + ",".join(text.tolist()) + "]")
    feats = [
        {"type": "Feature", "properties": p, "geometry": g}
        for p, g in zip(itertools.compress(props, keep.tolist()), shapes, strict=True)
    ]
    return {"type": "FeatureCollection", "features": feats}


def add_geojson(
    layer: MapLayer,
    gdf: gpd.GeoDataFrame,
    props: Sequence[dict[str, Any]] | dict[str, list[Any]],
    *,
    styles: Sequence[dict[str, Any]],
    texts: Texts,
    simplify_m: float | None,
    canvas: bool = False,
    **options: Any,
) -> None:
    """Add `gdf` to `layer`, drawn by the runtime as GeoJSON (sets ``layer.n_features``).

    `props` give each feature's style index ``s``, tooltip ``t`` and popup ``p`` (indices into
    `texts`, or a list of indices joined by line breaks): one dict per feature, or a dict of
    columns (one list per key, a value per feature: faster for big layers). They travel as
    columns next to the
    bare geometries, not as one GeoJSON Feature each: a quarter smaller for big layers. The
    geometries are written by :func:`shapely.to_geojson` (numbers only); the texts, escaped by
    whoever built them, go through :func:`~cdv_geo.maps.html.js_json`.
    """
    arr = np.asarray(for_display(gdf, simplify_m).values)
    keep = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    geoms = "[" + ",".join(_geojson_texts(arr[keep])) + "]"
    rest: dict[str, Any] = {}
    if isinstance(props, dict):
        n_kept = int(keep.sum())
        for key in ("s", "t", "p"):
            if key in props:
                rest[key] = list(itertools.compress(props[key], keep.tolist()))
    else:
        kept = list(itertools.compress(props, keep.tolist()))
        n_kept = len(kept)
        for key, default in (("s", 0), ("t", -1), ("p", -1)):
            if any(key in p for p in kept):
                rest[key] = [p.get(key, default) for p in kept]
    rest.update({"styles": list(styles), "texts": texts.items, **options})
    if canvas:
        rest["canvas"] = True
        rest["popups"] = "p" in rest
    Call("geojson", layer.key, RawJSON('{"geoms":' + geoms + "," + js_json(rest)[1:])).add_to(layer)
    layer.n_features = n_kept


def _geojson_texts(geoms: np.ndarray) -> list[str]:
    """GeoJSON text of each display geometry (within :func:`display_cache`, written once)."""
    cache = _DISPLAY.get()
    if cache is None:
        return list(shapely.to_geojson(geoms).tolist())
    store = cache.setdefault(("geojson",), {})
    out: list[Any] = [None] * len(geoms)
    todo: list[int] = []
    for i, g in enumerate(geoms.tolist()):
        hit = store.get(id(g))
        if hit is not None and hit[0]() is g:
            out[i] = hit[1]
        else:
            todo.append(i)
    if todo:
        done = shapely.to_geojson(geoms[todo]).tolist()
        for i, g, text in zip(todo, geoms[todo].tolist(), done, strict=True):
            out[i] = text
            store[id(g)] = (weakref.ref(g, partial(_forget, store, id(g))), text)
    return out


def popup(title: Any, rows: Sequence[tuple[str, Any]]) -> str:
    """Popup HTML: an escaped title and escaped label/value rows (empty values left out).

    Examples
    --------
    >>> popup("<b>", [("Type", "<i>"), ("Année", None)])
    '<div class="cdv-pop"><h4>&lt;b&gt;</h4><table><tr><th>Type</th><td>&lt;i&gt;</td></tr></table></div>'
    """  # noqa: E501
    body = "".join(
        f"<tr><th>{escape_text(k)}</th><td>{escape_text(v)}</td></tr>"
        for k, v in rows
        if v not in (None, "")
    )
    return f'<div class="cdv-pop"><h4>{escape_text(title)}</h4><table>{body}</table></div>'


def tip_parts(texts: Texts, *parts: Any) -> list[int] | int:
    """Add a tooltip's lines to `texts` one by one; return their indices (-1 for none).

    The browser joins them with line breaks, the first in bold, as :func:`tip` does. Lines
    repeat across features ("Logements : 12"), whole tooltips seldom do: a big layer's file
    holds each line once.

    Examples
    --------
    >>> t = Texts()
    >>> tip_parts(t, "<Nom>", None, "2024"), t.items
    ([0, 1], ['<b>&lt;Nom&gt;</b>', '2024'])
    """
    items = [escape_text(p) for p in parts if p not in (None, "")]
    if not items:
        return -1
    head, *rest = items
    return [texts.add(f"<b>{head}</b>"), *(texts.add(r) for r in rest)]


def tip_columns(texts: Texts, *columns: Sequence[Any]) -> list[list[int] | int]:
    """:func:`tip_parts` of every row of `columns`, each distinct value escaped once.

    The same indices, in the same order, as ``[tip_parts(texts, *row) for row in
    zip(*columns)]``, without a Python call per row and value. Missing values (None, NaN) and
    empty texts are left out.

    Examples
    --------
    >>> t = Texts()
    >>> tip_columns(t, ["<A>", None, "B"], ["12", "12", None]), t.items
    ([[0, 1], [2], [3]], ['<b>&lt;A&gt;</b>', '12', '<b>12</b>', '<b>B</b>'])
    """
    if not columns:
        return []
    ids = tip_table(texts, *columns)
    return [[i for i in row if i >= 0] or -1 for row in ids.tolist()]


def tip_table(texts: Texts, *columns: Sequence[Any]) -> np.ndarray:
    """:func:`tip_columns` as a table: one row per feature, -1 where a line is left out.

    The browser's ``cdvGeo.text`` skips the -1: a big layer's rows need no filtering in
    Python.

    Examples
    --------
    >>> t = Texts()
    >>> tip_table(t, ["<A>", None, "B"], ["12", "12", None]).tolist()
    [[0, 1], [-1, 2], [3, -1]]
    """
    n = len(columns[0])
    codes = np.full((n, len(columns)), -1, dtype=np.int64)
    escaped: list[list[str]] = []
    for j, col in enumerate(columns):
        c, uniques = pd.factorize(np.asarray(col, dtype=object))
        esc = [escape_text(u) for u in uniques]
        empty = np.array([u == "" for u in uniques] + [True], dtype=bool)
        codes[:, j] = np.where(empty[c], -1, c)
        escaped.append(esc)
    present = codes >= 0
    head = np.where(present.any(axis=1), np.argmax(present, axis=1), len(columns))
    ids = np.full(codes.shape, -1, dtype=np.int64)
    # every (column, bold?, value) met, first by the row it first appears in: Texts order
    met: list[tuple[int, int, str, int, int]] = []
    lookup: list[tuple[int, np.ndarray, np.ndarray]] = []
    for j in range(len(columns)):
        for bold, sel in ((True, head == j), (False, present[:, j] & (head < j))):
            rows = np.flatnonzero(sel)
            values, first = np.unique(codes[rows, j], return_index=True)
            table = np.full(len(escaped[j]), -1, dtype=np.int64)
            lookup.append((j, rows, table))
            for v, r in zip(values.tolist(), rows[first].tolist(), strict=True):
                html = f"<b>{escaped[j][v]}</b>" if bold else escaped[j][v]
                met.append((r, j, html, len(lookup) - 1, v))
    for _, _, html, which, v in sorted(met, key=lambda m: (m[0], m[1])):
        lookup[which][2][v] = texts.add(html)
    for j, rows, table in lookup:
        ids[rows, j] = table[codes[rows, j]]
    return np.where(present, ids, -1)


def tip(*parts: Any) -> str:
    """Tooltip HTML: escaped parts, the first in bold.

    Examples
    --------
    >>> tip("<Nom>", None, "2024")
    '<b>&lt;Nom&gt;</b><br>2024'
    """
    items = [escape_text(p) for p in parts if p not in (None, "")]
    if not items:
        return ""
    head, *rest = items
    return "<b>" + head + "</b>" + "".join("<br>" + r for r in rest)


def year_text(v: Any) -> str:
    """Return a year as text (``""`` when missing).

    Examples
    --------
    >>> year_text(2024.0), year_text(None)
    ('2024', '')
    """
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    try:
        return str(int(v))
    except (TypeError, ValueError):
        return str(v)


def swatch(
    text: str,
    *,
    fill: str | None = None,
    stroke: str = "#555",
    opacity: float = 0.7,
    dashed: bool = False,
    shape: Literal["box", "line", "dot"] = "box",
    html_icon: str | None = None,
) -> str:
    """One legend row: a coloured sample and its (escaped) text.

    Colours come from :mod:`cdv_geo.maps.style`, never from the data; `html_icon` is our own
    markup.
    """
    label = escape_text(text)
    if html_icon is not None:
        sw = html_icon
    elif shape == "line":
        style = f"border:0;border-top:3px {'dashed' if dashed else 'solid'} {stroke};height:0"
        sw = f'<span class="cdv-sw" style="{style}"></span>'
    elif shape == "dot":
        sw = (
            f'<span class="cdv-sw" style="border-radius:50%;width:11px;height:11px;'
            f'background:{fill};opacity:{opacity}"></span>'
        )
    else:
        bg = f"background:{fill};" if fill else ""
        border = f"border:2px {'dashed' if dashed else 'solid'} {stroke};"
        sw = (
            f'<span class="cdv-sw" style="{bg}{border}'
            f'background-clip:padding-box;opacity:{max(opacity, 0.35):.2f}"></span>'
        )
    return f'<div class="cdv-row">{sw}<span>{label}</span></div>'


def legend_head(title: str) -> str:
    """Return a legend sub-heading (escaped)."""
    return f"<h5>{escape_text(title)}</h5>"


def legend_note(text: str) -> str:
    """Return a legend note in italics (escaped)."""
    return f'<div class="cdv-note">{escape_text(text)}</div>'
