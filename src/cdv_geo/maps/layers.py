"""Layer builders: one per layer kind, each returning a named, togglable :class:`MapLayer`.

A builder takes a validated layer (any CRS; it is reprojected to EPSG:4326 for display), writes
its features compactly (coordinates rounded to 6 decimals, polygons simplified at a tolerance
invisible at the map's zoom, only the fields the map shows), HTML-escapes every string that
comes from the data, and describes itself in a legend.

The browser side is a small script (``cdvGeo``) written once per map: features travel as JSON
data, never as generated JavaScript code, so no data string is ever evaluated. Point layers
beyond a few thousand features are clustered or drawn on a canvas.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from cdv_geo.core.crs import MAP_CRS, check_metric_crs, choose_metric_crs, require_crs
from cdv_geo.core.errors import CdvGeoError, RasterError
from cdv_geo.maps import _style as st
from cdv_geo.maps._assets import ASSETS
from cdv_geo.maps.html import escape_text, js_json

__all__ = [
    "MapLayer",
    "choropleth_layer",
    "communes_layer",
    "desealed_layer",
    "facilities_layer",
    "green_spaces_layer",
    "quartiers_layer",
    "raster_change_layer",
    "raster_layer",
    "renewal_layer",
    "residences_layer",
    "service_areas_layer",
    "trees_layer",
]

#: Above this many points a layer is drawn as clustered markers or on a canvas, not as
#: individual DOM markers (a few thousand DOM markers make a browser crawl).
CLUSTER_MIN = 200
CANVAS_MIN = 5000

PointMode = Literal["auto", "icon", "circle", "cluster", "heat"]


# --- the browser runtime --------------------------------------------------------------------------

_RUNTIME_JS = r"""
var cdvGeo = window.cdvGeo = window.cdvGeo || {layers: {}};
cdvGeo.register = function (key, layer) {
  (cdvGeo.layers[key] = cdvGeo.layers[key] || []).push(layer);
};
cdvGeo.bind = function (layer, texts, t, p, tipOptions) {
  if (t !== undefined && t !== null && t >= 0) {
    layer.bindTooltip(texts[t], tipOptions || {sticky: true});
  }
  if (p !== undefined && p !== null && p >= 0) layer.bindPopup(texts[p], {maxWidth: 360});
};
cdvGeo.geojson = function (group, key, s) {
  var layer = L.geoJSON(s.data, {
    style: function (f) { return s.styles[f.properties.s || 0]; },
    pointToLayer: function (f, ll) {
      return L.circleMarker(ll, L.extend({radius: s.radius || 7}, s.styles[f.properties.s || 0]));
    },
    onEachFeature: function (f, l) {
      var q = f.properties;
      var tip = s.label ? {permanent: true, direction: 'center', className: 'cdv-label'} : null;
      cdvGeo.bind(l, s.texts, q.t, q.p, tip);
    }
  });
  layer.addTo(group);
  cdvGeo.register(key, layer);
  return layer;
};
cdvGeo.points = function (group, key, s) {
  var n = s.x.length, layer, icons = {}, i;
  function icon(ci) {
    if (!icons[ci]) {
      var c = s.classes[ci], size = c.size || 24;
      icons[ci] = L.divIcon({html: c.html, className: c.className || 'cdv-icon',
                             iconSize: [size, size], iconAnchor: [size / 2, size / 2]});
    }
    return icons[ci];
  }
  if (s.mode === 'heat') {
    var pts = new Array(n);
    for (i = 0; i < n; i++) pts[i] = [s.y[i], s.x[i], s.w ? s.w[i] : 1];
    layer = L.heatLayer(pts, s.heat);
  } else {
    var items = new Array(n), canvas = s.mode === 'circle' ? L.canvas({padding: 0.5}) : null;
    for (i = 0; i < n; i++) {
      var ll = [s.y[i], s.x[i]], ci = s.c ? s.c[i] : 0, mk;
      if (canvas) {
        mk = L.circleMarker(ll, L.extend({renderer: canvas, cdvT: s.t ? s.t[i] : -1,
                                          cdvP: s.p ? s.p[i] : -1}, s.classes[ci].style));
      } else {
        mk = L.marker(ll, {icon: icon(ci), keyboard: false});
        cdvGeo.bind(mk, s.texts, s.t ? s.t[i] : -1, s.p ? s.p[i] : -1);
      }
      items[i] = mk;
    }
    if (s.cluster) {
      var colour = s.clusterColour || '#555';
      layer = L.markerClusterGroup({chunkedLoading: true, showCoverageOnHover: false,
        maxClusterRadius: 40, disableClusteringAtZoom: 19,
        iconCreateFunction: function (cluster) {
          var n = cluster.getChildCount(), size = n < 10 ? 24 : (n < 100 ? 30 : 38);
          return L.divIcon({html: '<div style="background:' + colour + '">' + n + '</div>',
                            className: 'cdv-cluster', iconSize: [size, size]});
        }});
      layer.addLayers(items);
    } else {
      layer = L.featureGroup(items);
      if (canvas) {
        // One tooltip and one popup for the whole group: 50,000 bound tooltips would be slow.
        var text = function (i) { return i >= 0 ? s.texts[i] : ''; };
        if (s.t) layer.bindTooltip(function (l) { return text(l.options.cdvT); }, {sticky: true});
        if (s.p) layer.bindPopup(function (l) { return text(l.options.cdvP); });
      }
    }
  }
  layer.addTo(group);
  cdvGeo.register(key, layer);
  return layer;
};
cdvGeo.image = function (group, key, url, bounds, opacity) {
  var layer = L.imageOverlay(url, bounds, {opacity: opacity, interactive: false,
                                           className: 'cdv-raster'});
  layer.addTo(group);
  cdvGeo.register(key, layer);
  return layer;
};
"""

_RUNTIME_CSS = """
.leaflet-container { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.cdv-icon { background: none; border: none; }
.cdv-fac { width: 24px; height: 24px; border-radius: 50%; border: 2px solid #fff;
  box-sizing: border-box; box-shadow: 0 0 3px rgba(0,0,0,.55); display: flex;
  align-items: center; justify-content: center; }
.cdv-dot { width: 10px; height: 10px; border-radius: 50%; border: 1px solid #fff;
  box-sizing: border-box; box-shadow: 0 0 2px rgba(0,0,0,.5); }
.cdv-cluster div { width: 100%; height: 100%; border-radius: 50%; border: 2px solid #fff;
  box-sizing: border-box; box-shadow: 0 0 3px rgba(0,0,0,.5); color: #fff; font-weight: 600;
  display: flex; align-items: center; justify-content: center; opacity: .9; }
.leaflet-control-attribution { max-width: 62vw; }
.cdv-basemap { filter: saturate(0.45) brightness(1.06); }
.cdv-label { background: rgba(255,255,255,.8); border: 1px solid #888; box-shadow: none;
  font-weight: 600; font-size: 12px; padding: 1px 5px; }
.cdv-pop h4 { margin: 0 0 4px; font-size: 14px; }
.cdv-pop table { border-collapse: collapse; font-size: 12px; }
.cdv-pop th { text-align: left; font-weight: 500; color: #555; padding: 1px 8px 1px 0;
  vertical-align: top; }
.cdv-pop td { padding: 1px 0; }
.cdv-box { background: rgba(255,255,255,.95); border-radius: 5px; padding: 8px 10px;
  box-shadow: 0 1px 5px rgba(0,0,0,.4); font-size: 12px; line-height: 1.35; color: #222; }
.cdv-legend { max-width: 300px; max-height: 46vh; overflow-y: auto; }
.cdv-legend summary, .cdv-panel summary { margin: 0 0 4px; font-size: 13px;
  font-weight: 600; cursor: pointer; }
.cdv-legend h5 { margin: 6px 0 2px; font-size: 12px; font-weight: 600; }
.cdv-legend .cdv-row { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.cdv-legend .cdv-note { color: #555; font-style: italic; margin: 2px 0; }
.cdv-sw { flex: none; display: inline-block; width: 16px; height: 12px;
  border: 1px solid rgba(0,0,0,.5); box-sizing: border-box; }
.cdv-ramp { height: 10px; width: 180px; border: 1px solid rgba(0,0,0,.4); }
.cdv-ramp-labels { display: flex; justify-content: space-between; width: 180px; }
.cdv-title { font-size: 16px; font-weight: 650; max-width: 46vw; }
.cdv-title small { display: block; font-size: 11px; font-weight: 400; color: #555; }
.cdv-panel { max-width: 480px; max-height: 42vh; overflow: auto; }
.cdv-panel table { border-collapse: collapse; font-size: 11.5px; }
.cdv-panel th, .cdv-panel td { padding: 2px 5px; border-bottom: 1px solid #e3e3e3;
  text-align: right; white-space: nowrap; }
.cdv-panel th:first-child, .cdv-panel td:first-child { text-align: left; white-space: normal; }
.cdv-panel .cdv-note { color: #555; font-style: italic; max-width: 340px; }
"""


class _Runtime(Element):
    """The ``cdvGeo`` script and the map stylesheet, written once in the page header."""

    def __init__(self) -> None:
        super().__init__(f"<style>{_RUNTIME_CSS}</style>\n<script>{_RUNTIME_JS}</script>")


def _add_runtime(figure: Figure) -> None:
    if "cdv_runtime" not in figure.header._children:
        figure.header.add_child(_Runtime(), name="cdv_runtime")


class _CdvElement(MacroElement):
    """Base of our elements: adds the runtime and the JS/CSS links it needs, by asset name."""

    def __init__(self, assets: Sequence[str] = ()) -> None:
        super().__init__()
        self._assets = list(assets)

    def render(self, **kwargs: Any) -> Any:
        from branca.element import CssLink, JavascriptLink

        figure = self.get_root()
        if not isinstance(figure, Figure):  # pragma: no cover - folium raises before this
            raise CdvGeoError("add the layer to a map before rendering it")
        _add_runtime(figure)
        for name in self._assets:
            a = ASSETS[name]
            link = CssLink(a.url) if a.kind == "css" else JavascriptLink(a.url)
            figure.header.add_child(link, name=name)
        return super().render(**kwargs)


class _Call(_CdvElement):
    """One call of the runtime, with its data as a JSON argument."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        cdvGeo.{{ this.fn }}({{ this._parent.get_name() }}, {{ this.key_json }}, {{ this.args }});
        {% endmacro %}
        """
    )

    def __init__(self, fn: str, key: str, *args: Any, assets: Sequence[str] = ()) -> None:
        super().__init__(assets)
        self._name = "CdvLayerData"
        self.fn = fn
        self.key_json = js_json(key)
        self.args = ", ".join(js_json(a) for a in args)


class MapLayer(folium.FeatureGroup):
    """A togglable overlay with its legend.

    Parameters
    ----------
    key : str
        Stable identifier (``"facilities"``...), also the key of the layer in the page's
        ``cdvGeo.layers`` registry.
    title : str
        Name shown in the layer control (plain text; escaped here).
    show : bool
        Whether the layer is on when the map opens.

    Attributes
    ----------
    legend : list of str
        HTML fragments (already escaped) describing the layer.
    n_features : int
        Number of features drawn.
    """

    def __init__(self, key: str, title: str, *, show: bool = True) -> None:
        super().__init__(name=escape_text(title), overlay=True, control=True, show=show)
        self.key = key
        self.title = title
        self.legend: list[str] = []
        self.n_features = 0


# --- geometry helpers ---------------------------------------------------------------------------


def _checked(gdf: gpd.GeoDataFrame | None, kind: str) -> gpd.GeoDataFrame:
    if gdf is None:
        raise CdvGeoError(f"no {kind} layer given")
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise CdvGeoError(f"{kind} must be a GeoDataFrame, got {type(gdf).__name__}")
    require_crs(gdf, kind)
    if len(gdf) == 0:
        raise CdvGeoError(f"{kind} layer is empty: nothing to draw")
    return gdf


def _metric_crs(gdf: gpd.GeoDataFrame) -> Any:
    """Return the layer's own CRS when it is metric, else the one chosen for its location."""
    try:
        return check_metric_crs(gdf.crs)
    except CdvGeoError:
        return choose_metric_crs(gdf)


def _for_display(gdf: gpd.GeoDataFrame, simplify_m: float | None) -> gpd.GeoSeries:
    """Geometries in EPSG:4326, simplified in metres, coordinates rounded to 6 decimals."""
    geoms = gdf.geometry
    if simplify_m:
        metric = _metric_crs(gdf)
        g = geoms.to_crs(metric)
        simple = shapely.simplify(np.asarray(g.values), simplify_m, preserve_topology=True)
        geoms = gpd.GeoSeries(simple, index=g.index, crs=metric)
    geoms = geoms.to_crs(MAP_CRS)
    rounded = shapely.transform(np.asarray(geoms.values), lambda c: np.round(c, 6))
    return gpd.GeoSeries(rounded, index=geoms.index, crs=MAP_CRS)


def _points(gdf: gpd.GeoDataFrame) -> tuple[list[float], list[float]]:
    """Return rounded lon/lat of points (a point inside polygons, computed in metres)."""
    geoms = gdf.geometry
    if not (geoms.geom_type == "Point").all():
        metric = _metric_crs(gdf)
        g = geoms.to_crs(metric)
        geoms = gpd.GeoSeries(
            np.where(g.geom_type == "Point", g.values, g.representative_point().values),
            index=g.index,
            crs=metric,
        )
    geoms = geoms.to_crs(MAP_CRS)
    xy = np.round(shapely.get_coordinates(np.asarray(geoms.values)), 6)
    return xy[:, 0].tolist(), xy[:, 1].tolist()


def _rounded_mapping(g: Any) -> dict[str, Any]:
    out: dict[str, Any] = shapely.geometry.mapping(g)
    return out


class _Texts:
    """A table of unique HTML strings; features refer to them by index (smaller files)."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, html: str | None) -> int:
        if not html:
            return -1
        i = self._index.get(html)
        if i is None:
            i = self._index[html] = len(self.items)
            self.items.append(html)
        return i


def _collection(geoms: gpd.GeoSeries, props: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    feats = [
        {"type": "Feature", "properties": dict(p), "geometry": _rounded_mapping(g)}
        for g, p in zip(geoms.values, props, strict=True)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": feats}


def _value(row: Mapping[str, Any] | pd.Series, field: str) -> Any:
    v = row.get(field) if hasattr(row, "get") else None
    try:
        if v is None or bool(pd.isna(v)):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _popup(title: Any, rows: Sequence[tuple[str, Any]], *, raw: bool = False) -> str:
    """Popup HTML: an escaped title and label/value rows (values escaped unless `raw`)."""
    body = "".join(
        f"<tr><th>{escape_text(k)}</th><td>{v if raw else escape_text(v)}</td></tr>"
        for k, v in rows
        if v not in (None, "")
    )
    return f'<div class="cdv-pop"><h4>{escape_text(title)}</h4><table>{body}</table></div>'


def _tip(*parts: Any) -> str:
    """Tooltip HTML: escaped parts, the first in bold."""
    items = [escape_text(p) for p in parts if p not in (None, "")]
    if not items:
        return ""
    head, *rest = items
    return "<b>" + head + "</b>" + "".join("<br>" + r for r in rest)


def _year(v: Any) -> str:
    return "" if v is None else str(int(v))


# --- legend fragments ---------------------------------------------------------------------------


def _swatch(
    text: str,
    *,
    fill: str | None = None,
    stroke: str = "#555",
    opacity: float = 0.7,
    dashed: bool = False,
    shape: Literal["box", "line", "dot"] = "box",
    html_icon: str | None = None,
    raw_text: bool = False,
) -> str:
    label = text if raw_text else escape_text(text)
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


def _legend_head(title: str) -> str:
    return f"<h5>{escape_text(title)}</h5>"


def _legend_note(text: str) -> str:
    return f'<div class="cdv-note">{escape_text(text)}</div>'


# --- builders -----------------------------------------------------------------------------------


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
    gdf = _checked(communes, "communes")
    st.check_lang(lang)
    layer = MapLayer("communes", st.label("layer_communes", lang), show=show)
    texts = _Texts()
    props = [
        {"t": texts.add(_tip(_value(r, "name"), _value(r, "code")))} for _, r in gdf.iterrows()
    ]
    style = {"color": st.COMMUNE_COLOUR, "weight": 2, "dashArray": "6 4", "fill": False}
    data = _collection(_for_display(gdf, simplify_m), props)
    _Call("geojson", "communes", {"data": data, "styles": [style], "texts": texts.items}).add_to(
        layer
    )
    layer.n_features = len(data["features"])
    layer.legend = [
        _swatch(
            st.label("layer_communes", lang), shape="line", stroke=st.COMMUNE_COLOUR, dashed=True
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
        Validated ``quartiers`` layer (``id``, ``code``, ``name``, ``population``).
    figures : mapping, optional
        Per quartier ``id``: (label, formatted value) rows shown in the popup.
    highlight : str, optional
        ``id`` of the quartier to emphasise (the others are drawn fainter).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"id": ["1"], "code": ["QN00001M"], "name": ["Centre"],
    ...                       "population": [1200]},
    ...                      geometry=[box(0, 0, 500, 500)], crs=2154)
    >>> layer = quartiers_layer(q)
    >>> layer.n_features, layer.title
    (1, 'Quartiers prioritaires (QPV)')
    """
    gdf = _checked(quartiers, "quartiers")
    st.check_lang(lang)
    layer = MapLayer("quartiers", st.label("layer_quartiers", lang), show=show)
    texts = _Texts()
    props = []
    for _, r in gdf.iterrows():
        qid = str(_value(r, "id"))
        name = _value(r, "name") or _value(r, "code") or qid
        rows: list[tuple[str, Any]] = [(st.label("code", lang), _value(r, "code"))]
        if _value(r, "population") is not None:
            rows.append(
                (st.label("population", lang), st.fmt_number(_value(r, "population"), lang))
            )
        if figures and qid in figures:
            rows = [(st.label("code", lang), _value(r, "code")), *figures[qid]]
        faint = highlight is not None and qid != highlight
        props.append(
            {
                "s": 1 if faint else 0,
                "t": texts.add(escape_text(name)),
                "p": texts.add(_popup(name, rows)),
            }
        )
    styles = [
        {
            "color": st.QUARTIER_COLOUR,
            "weight": 3,
            "fillColor": st.QUARTIER_COLOUR,
            "fillOpacity": 0.05,
        },
        {
            "color": st.QUARTIER_COLOUR,
            "weight": 1.5,
            "opacity": 0.6,
            "dashArray": "4 4",
            "fillOpacity": 0.0,
        },
    ]
    data = _collection(_for_display(gdf, simplify_m), props)
    _Call(
        "geojson",
        "quartiers",
        {"data": data, "styles": styles, "texts": texts.items, "label": True},
    ).add_to(layer)
    layer.n_features = len(data["features"])
    layer.legend = [
        _swatch(
            st.label("layer_quartiers", lang),
            fill=st.QUARTIER_COLOUR,
            stroke=st.QUARTIER_COLOUR,
            opacity=0.35,
        )
    ]
    return layer


def _facility_icon(kind: str, size: int = 24) -> tuple[str, str]:
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
    gdf = _checked(facilities, "facilities")
    st.check_lang(lang)
    if kinds is not None:
        gdf = gdf[gdf["kind"].isin(list(kinds))]
        if len(gdf) == 0:
            raise CdvGeoError(
                f"no facility of kind {', '.join(kinds)}; kinds present: "
                f"{', '.join(sorted(set(facilities['kind'].dropna())))}"
            )
    n = len(gdf)
    layer = MapLayer(key, title or st.label("layer_facilities", lang), show=show)
    present = [k for k in st.FACILITY_STYLE if k in set(gdf["kind"])]
    present += sorted(set(gdf["kind"].dropna()) - set(present))
    cls_index = {k: i for i, k in enumerate(present)}
    classes = []
    for k in present:
        colour, html = _facility_icon(k)
        classes.append(
            {
                "html": html,
                "style": {
                    "radius": 6,
                    "color": "#fff",
                    "weight": 1,
                    "fillColor": colour,
                    "fillOpacity": 0.9,
                },
            }
        )
    texts = _Texts()
    tips, pops = [], []
    for _, r in gdf.iterrows():
        kind_label = st.value_label("kind", _value(r, "kind"), lang)
        tips.append(texts.add(_tip(_value(r, "name"), kind_label)))
        rows = [(st.label("kind", lang), kind_label)]
        if _value(r, "opened") is not None:
            rows.append((st.label("opened", lang), _year(_value(r, "opened"))))
        pops.append(texts.add(_popup(_value(r, "name"), rows)))
    xs, ys = _points(gdf)
    resolved = _resolve_mode(mode, n, allow_icon=True)
    spec = {
        "x": xs,
        "y": ys,
        "c": [cls_index[k] for k in gdf["kind"]],
        "t": tips,
        "p": pops,
        "texts": texts.items,
        "classes": classes,
        "mode": "circle" if resolved == "circle" else "icon",
        "cluster": resolved == "cluster",
        "clusterColour": "#455a64",
    }
    assets = _mode_assets(resolved)
    _Call("points", key, spec, assets=assets).add_to(layer)
    layer.n_features = n
    layer.legend = [
        _swatch(st.value_label("kind", k, lang), html_icon=_facility_icon(k, 20)[1])
        for k in present
    ]
    return layer


def _resolve_mode(mode: PointMode, n: int, *, allow_icon: bool) -> str:
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


def _mode_assets(mode: str) -> list[str]:
    if mode == "cluster":
        return ["markercluster_js", "markercluster_css"]
    if mode == "heat":
        return ["heat_js"]
    return []


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
        :func:`cdv_geo.metrics.access.service_areas`. Rows of other kinds are ignored.
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
    gdf = _checked(areas, "service areas")
    st.check_lang(lang)
    if "kind" in gdf.columns:
        gdf = gdf[gdf["kind"] == service]
    if len(gdf) == 0:
        raise CdvGeoError(f"no service area of kind {service!r}")
    if "threshold_m" not in gdf.columns:
        raise CdvGeoError(
            "service areas need a 'threshold_m' column (distance band in metres), as returned "
            "by cdv_geo.metrics.access.service_areas"
        )
    if method is None:
        if "method" in gdf.columns:
            method = "euclidean" if (gdf["method"] == "euclidean").any() else "network"
        else:
            method = "euclidean" if gdf.attrs.get("method") == "euclidean" else "network"
    service_label = st.value_label("kind", service, lang)
    layer = MapLayer(
        f"service_areas_{service}",
        st.label("layer_service_areas", lang, service=service_label),
        show=show,
    )
    # Widest band first, so that the narrower (darker) bands are drawn on top.
    gdf = gdf.sort_values("threshold_m", ascending=False)
    thresholds = sorted({float(t) for t in gdf["threshold_m"]})
    colour_of = {t: st.SERVICE_BAND_COLOURS[min(i, 3)] for i, t in enumerate(thresholds)}
    styles = []
    legend = []
    band_key = "band_euclidean" if method == "euclidean" else "band_network"
    for i, t in enumerate(thresholds):
        colour = colour_of[t]
        styles.append(
            {
                "color": colour,
                "weight": 1,
                "fillColor": colour,
                "fillOpacity": 0.28 - 0.05 * i,
                "dashArray": "5 4" if method == "euclidean" else None,
            }
        )
        legend.append(
            _swatch(
                st.label(band_key, lang, distance=st.fmt_distance(t, lang)),
                fill=colour,
                stroke=colour,
                opacity=0.55 - 0.1 * i,
                dashed=method == "euclidean",
            )
        )
    texts = _Texts()
    props = []
    for _, r in gdf.iterrows():
        t = float(r["threshold_m"])
        props.append(
            {
                "s": thresholds.index(t),
                "t": texts.add(
                    _tip(service_label, st.label(band_key, lang, distance=st.fmt_distance(t, lang)))
                ),
            }
        )
    data = _collection(_for_display(gdf, simplify_m), props)
    _Call("geojson", layer.key, {"data": data, "styles": styles, "texts": texts.items}).add_to(
        layer
    )
    layer.n_features = len(data["features"])
    layer.legend = legend
    return layer


_STATUS_STYLE: dict[str, dict[str, Any]] = {
    "planned": {"fillOpacity": 0.12, "dashArray": "6 4", "weight": 2},
    "in_progress": {"fillOpacity": 1.0, "weight": 2},
    "done": {"fillOpacity": 0.6, "weight": 2},
}


def renewal_layer(
    renewal_sites: gpd.GeoDataFrame,
    *,
    lang: str = "fr",
    simplify_m: float | None = 0.5,
    show: bool = True,
) -> MapLayer:
    """NPNRU operations coloured by operation; hatched while in progress, dimmed when planned.

    The popup gives the dwellings, housing type, tenure, status and year of each operation.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> r = gpd.GeoDataFrame({"id": ["1"], "name": ["Tour A"], "operation": ["demolition"],
    ...                       "dwellings": [80], "status": ["in_progress"], "year": [2025]},
    ...                      geometry=[box(0, 0, 40, 20)], crs=2154)
    >>> renewal_layer(r).n_features
    1
    """
    gdf = _checked(renewal_sites, "renewal_sites")
    st.check_lang(lang)
    layer = MapLayer("renewal_sites", st.label("layer_renewal_sites", lang), show=show)
    ops = [o for o in st.OPERATION_COLOURS if o in set(gdf["operation"])]
    ops += sorted(set(gdf["operation"].dropna()) - set(ops))
    statuses = ["planned", "in_progress", "done"]
    styles: list[dict[str, Any]] = []
    index: dict[tuple[str, str], int] = {}
    for o in ops:
        colour = st.OPERATION_COLOURS.get(o, "#777777")
        for s in statuses:
            style: dict[str, Any] = {"color": colour, "fillColor": colour, **_STATUS_STYLE[s]}
            if s == "in_progress":
                style["className"] = f"cdv-hatch-{_css_id(o)}"
            index[(o, s)] = len(styles)
            styles.append(style)
    texts = _Texts()
    props = []
    for _, r in gdf.iterrows():
        op = _value(r, "operation")
        status = _value(r, "status") or "done"
        rows: list[tuple[str, Any]] = [
            (st.label("operation", lang), st.value_label("operation", op, lang)),
            (st.label("dwellings", lang), st.fmt_number(_value(r, "dwellings"), lang)),
            (
                st.label("housing_type", lang),
                st.value_label("housing_type", _value(r, "housing_type"), lang),
            ),
            (st.label("tenure", lang), st.value_label("tenure", _value(r, "tenure"), lang)),
            (st.label("status", lang), st.value_label("status", _value(r, "status"), lang)),
            (st.label("year", lang), _year(_value(r, "year"))),
        ]
        props.append(
            {
                "s": index.get((op, status if status in statuses else "done"), 0),
                "t": texts.add(
                    _tip(
                        _value(r, "name"),
                        st.value_label("operation", op, lang)
                        + " — "
                        + st.fmt_number(_value(r, "dwellings"), lang)
                        + " "
                        + st.label("dwellings", lang).lower(),
                    )
                ),
                "p": texts.add(_popup(_value(r, "name"), rows)),
            }
        )
    data = _collection(_for_display(gdf, simplify_m), props)
    _Call(
        "geojson",
        "renewal_sites",
        {"data": data, "styles": styles, "texts": texts.items, "radius": 8},
    ).add_to(layer)
    _Hatches({o: st.OPERATION_COLOURS.get(o, "#777777") for o in ops}).add_to(layer)
    layer.n_features = len(data["features"])
    legend = [
        _swatch(
            st.value_label("operation", o, lang),
            fill=st.OPERATION_COLOURS.get(o, "#777"),
            stroke=st.OPERATION_COLOURS.get(o, "#777"),
        )
        for o in ops
    ]
    grey = "#666666"
    legend += [
        _swatch(
            st.value_label("status", "planned", lang),
            fill=grey,
            stroke=grey,
            opacity=0.2,
            dashed=True,
        ),
        _swatch(
            st.value_label("status", "in_progress", lang),
            html_icon='<svg class="cdv-sw" style="border:0" viewBox="0 0 16 12">'
            '<rect width="16" height="12" fill="url(#cdv-hatch-grey)" stroke="#666" '
            'stroke-width="2"/></svg>',
        ),
        _swatch(st.value_label("status", "done", lang), fill=grey, stroke=grey, opacity=0.7),
    ]
    layer.legend = legend
    return layer


def _css_id(value: str) -> str:
    from cdv_geo.schema import normalize_token

    return normalize_token(value).replace("_", "-") or "x"


class _Hatches(_CdvElement):
    """SVG patterns for hatched polygons (Leaflet paths get them through a CSS class)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>
        {%- for id, colour in this.patterns %}
        <pattern id="cdv-hatch-{{ id }}" patternUnits="userSpaceOnUse" width="7" height="7"
          patternTransform="rotate(45)"><rect width="7" height="7" fill="{{ colour }}"
          fill-opacity="0.18"/><line x1="0" y1="0" x2="0" y2="7" stroke="{{ colour }}"
          stroke-width="3"/></pattern>
        {%- endfor %}
        </defs></svg>
        <style>
        {%- for id, colour in this.patterns %}
        path.cdv-hatch-{{ id }} { fill: url(#cdv-hatch-{{ id }}); }
        {%- endfor %}
        </style>
        {% endmacro %}
        """
    )

    def __init__(self, colours: Mapping[str, str]) -> None:
        super().__init__()
        self._name = "CdvHatches"
        pats = [(_css_id(k), v) for k, v in colours.items()]
        pats.append(("grey", "#666666"))
        # Only our own ids and #rrggbb colours reach the template (never data strings).
        self.patterns = [(i, c) for i, c in pats if _is_colour(c)]


def _is_colour(c: str) -> bool:
    return (
        len(c) in (4, 7) and c.startswith("#") and all(x in "0123456789abcdefABCDEF" for x in c[1:])
    )


def desealed_layer(
    desealed_areas: gpd.GeoDataFrame,
    *,
    lang: str = "fr",
    simplify_m: float | None = 0.3,
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
    gdf = _checked(desealed_areas, "desealed_areas")
    st.check_lang(lang)
    layer = MapLayer("desealed_areas", st.label("layer_desealed_areas", lang), show=show)
    areas = gdf.geometry.to_crs(_metric_crs(gdf)).area
    texts = _Texts()
    props = []
    for (_, r), area in zip(gdf.iterrows(), areas, strict=True):
        rows = [
            (
                st.label("site_type", lang),
                st.value_label("site_type", _value(r, "site_type"), lang),
            ),
            (st.label("area", lang), st.fmt_area(area, lang)),
            (st.label("year", lang), _year(_value(r, "year"))),
            (st.label("status", lang), st.value_label("status", _value(r, "status"), lang)),
        ]
        props.append(
            {
                "t": texts.add(_tip(_value(r, "site"), st.fmt_area(area, lang))),
                "p": texts.add(_popup(_value(r, "site"), rows)),
            }
        )
    style = {"color": "#0b6e4f", "weight": 1.5, "fillColor": st.DESEALED_COLOUR, "fillOpacity": 0.6}
    data = _collection(_for_display(gdf, simplify_m), props)
    _Call(
        "geojson", "desealed_areas", {"data": data, "styles": [style], "texts": texts.items}
    ).add_to(layer)
    layer.n_features = len(data["features"])
    layer.legend = [
        _swatch(
            f"{st.label('layer_desealed_areas', lang)} ({st.fmt_area(float(areas.sum()), lang)})",
            fill=st.DESEALED_COLOUR,
            stroke="#0b6e4f",
        )
    ]
    return layer


def trees_layer(
    tree_plantings: gpd.GeoDataFrame,
    *,
    mode: PointMode = "auto",
    lang: str = "fr",
    show: bool = True,
) -> MapLayer:
    """Tree plantings: clustered dots, canvas dots beyond 5,000 points, or a heat layer.

    Tooltips give the species, year and number of trees of each planting point.

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
    gdf = _checked(tree_plantings, "tree_plantings")
    st.check_lang(lang)
    n = len(gdf)
    resolved = _resolve_mode(mode, n, allow_icon=False)
    if resolved == "icon":
        resolved = "cluster"
    layer = MapLayer("tree_plantings", st.label("layer_tree_plantings", lang), show=show)
    trees = gdf["trees"] if "trees" in gdf.columns else pd.Series(1, index=gdf.index)
    trees = pd.to_numeric(trees, errors="coerce").fillna(1)
    texts = _Texts()
    tips: list[int] = []
    species = gdf["species"] if "species" in gdf.columns else pd.Series(None, index=gdf.index)
    years = gdf["year"] if "year" in gdf.columns else pd.Series(None, index=gdf.index)
    # Build each distinct (species, year, count) tooltip once: 50,000 points share few texts.
    keys = pd.DataFrame({"s": species.astype(object), "y": years.astype(object), "n": trees})
    for s_, y_, n_ in keys.itertuples(index=False):
        sp = None if _na(s_) else s_
        yr = None if _na(y_) else _year(y_)
        tips.append(
            texts.add(
                _tip(
                    sp or st.label("layer_tree_plantings", lang),
                    yr,
                    f"{st.fmt_number(n_, lang)} {st.label('trees', lang).lower()}",
                )
            )
        )
    xs, ys = _points(gdf)
    dot = f'<div class="cdv-dot" style="background:{st.TREE_COLOUR}"></div>'
    spec: dict[str, Any] = {
        "x": xs,
        "y": ys,
        "t": tips,
        "texts": texts.items,
        "classes": [
            {
                "html": dot,
                "size": 10,
                "style": {
                    "radius": 3,
                    "stroke": False,
                    "fillColor": st.TREE_COLOUR,
                    "fillOpacity": 0.85,
                },
            }
        ],
        "mode": {"heat": "heat", "circle": "circle"}.get(resolved, "icon"),
        "cluster": resolved == "cluster",
        "clusterColour": st.TREE_COLOUR,
    }
    if resolved == "heat":
        spec["w"] = [float(v) for v in trees]
        spec["heat"] = {"radius": 16, "blur": 20, "maxZoom": 17, "max": float(max(trees.max(), 1))}
        spec.pop("t")
    _Call("points", "tree_plantings", spec, assets=_mode_assets(resolved)).add_to(layer)
    layer.n_features = n
    total = st.fmt_number(float(trees.sum()), lang)
    text = f"{total} {st.label('trees', lang).lower()} — " + st.label(
        "tree_heat" if resolved == "heat" else "tree_points", lang, n=st.fmt_number(n, lang)
    )
    layer.legend = [_swatch(text, fill=st.TREE_COLOUR, shape="dot", opacity=0.9)]
    return layer


def _na(v: Any) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def green_spaces_layer(
    green_spaces: gpd.GeoDataFrame,
    *,
    lang: str = "fr",
    simplify_m: float | None = 0.5,
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
    gdf = _checked(green_spaces, "green_spaces")
    st.check_lang(lang)
    layer = MapLayer("green_spaces", st.label("layer_green_spaces", lang), show=show)
    areas = gdf.geometry.to_crs(_metric_crs(gdf)).area
    public = (
        gdf["public"].fillna(True).astype(bool)
        if "public" in gdf.columns
        else pd.Series(True, index=gdf.index)
    )
    texts = _Texts()
    props = []
    for (_, r), area, pub in zip(gdf.iterrows(), areas, public, strict=True):
        access = st.label("public_yes" if pub else "public_no", lang)
        name = _value(r, "name") or st.label("layer_green_spaces", lang)
        props.append(
            {
                "s": 0 if pub else 1,
                "t": texts.add(_tip(name, f"{access} — {st.fmt_area(area, lang)}")),
            }
        )
    styles = [
        {"color": "#31a354", "weight": 1, "fillColor": st.GREEN_PUBLIC, "fillOpacity": 0.55},
        {
            "color": "#31a354",
            "weight": 1,
            "dashArray": "3 3",
            "fillColor": st.GREEN_PRIVATE,
            "fillOpacity": 0.5,
        },
    ]
    data = _collection(_for_display(gdf, simplify_m), props)
    _Call("geojson", "green_spaces", {"data": data, "styles": styles, "texts": texts.items}).add_to(
        layer
    )
    layer.n_features = len(data["features"])
    layer.legend = [
        _swatch(
            f"{st.label('layer_green_spaces', lang)} ({st.label('public_yes', lang)})",
            fill=st.GREEN_PUBLIC,
            stroke="#31a354",
        ),
    ]
    if not public.all():
        layer.legend.append(
            _swatch(
                f"{st.label('layer_green_spaces', lang)} ({st.label('public_no', lang)})",
                fill=st.GREEN_PRIVATE,
                stroke="#31a354",
                dashed=True,
            )
        )
    return layer


def time_classes(bins: Sequence[float], lang: str = "fr") -> list[tuple[str, str]]:
    """Labels and colours of the walking-time classes (plus "unreachable").

    Examples
    --------
    >>> [t for t, _ in time_classes((5, 10))]
    ['moins de 5 min', '5–10 min', '10 min et plus', 'hors réseau / injoignable']
    """
    edges = sorted(float(b) for b in bins)
    labels = [st.label("time_first", lang, hi=st.fmt_number(edges[0], lang))]
    for lo, hi in itertools.pairwise(edges):
        labels.append(
            st.label("time_class", lang, lo=st.fmt_number(lo, lang), hi=st.fmt_number(hi, lang))
        )
    labels.append(st.label("time_last", lang, lo=st.fmt_number(edges[-1], lang)))
    colours = _spread(st.TIME_COLOURS, len(labels))
    out = list(zip(labels, colours, strict=True))
    out.append((st.label("unreachable", lang), st.UNREACHABLE_COLOUR))
    return out


def _spread(palette: Sequence[str], n: int) -> list[str]:
    if n <= 1:
        return [palette[0]]
    idx = np.round(np.linspace(0, len(palette) - 1, n)).astype(int)
    return [palette[i] for i in idx]


def residences_layer(
    residences: gpd.GeoDataFrame,
    *,
    nearest: pd.DataFrame | None = None,
    service: str = "water_play_area",
    bins: Sequence[float] = (5, 10, 15),
    lang: str = "fr",
    simplify_m: float | None = 0.5,
    show: bool = True,
) -> MapLayer:
    """Residences coloured by walking time to the nearest facility of one kind.

    Parameters
    ----------
    residences : GeoDataFrame
        Validated ``residences`` layer (polygons or points; ``dwellings``, ``population``).
    nearest : DataFrame, optional
        Output of :func:`cdv_geo.metrics.access.nearest_facility`, indexed by residence ``id``, with
        ``<service>_time_min`` (and ``<service>_distance_m``). Without it the residences are
        drawn in one neutral colour.
    service : str
        The facility kind.
    bins : sequence of float
        Class limits in minutes.

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
    gdf = _checked(residences, "residences")
    st.check_lang(lang)
    service_label = st.value_label("kind", service, lang)
    col = f"{service}_time_min"
    times: pd.Series | None = None
    if nearest is not None:
        if col not in nearest.columns:
            raise CdvGeoError(
                f"nearest has no column {col!r} (columns: {', '.join(map(str, nearest.columns))});"
                f" compute it with nearest_facility(..., kinds=[{service!r}])"
            )
        ids = gdf["id"].astype(str) if "id" in gdf.columns else gdf.index.astype(str)
        t = nearest[col]
        t.index = t.index.astype(str)
        times = pd.to_numeric(t.reindex(ids.to_numpy()), errors="coerce")
        times.index = gdf.index
    title = (
        st.label("layer_residences", lang, service=service_label)
        if times is not None
        else st.label("layer_residences_plain", lang)
    )
    layer = MapLayer("residences", title, show=show)
    classes = time_classes(bins, lang)
    edges = sorted(float(b) for b in bins)
    styles = [
        {"color": "#555", "weight": 0.6, "fillColor": c, "fillOpacity": 0.75} for _, c in classes
    ]
    styles.append({"color": "#555", "weight": 0.6, "fillColor": "#bcaaa4", "fillOpacity": 0.6})
    texts = _Texts()
    props = []
    for i, (_, r) in enumerate(gdf.iterrows()):
        parts: list[Any] = []
        for field in ("dwellings", "population"):
            if _value(r, field) is not None:
                parts.append(
                    st.kv(st.label(field, lang), st.fmt_number(_value(r, field), lang), lang)
                )
        if times is None:
            s_idx = len(styles) - 1
        else:
            tv = times.iloc[i]
            if pd.isna(tv):
                s_idx = len(classes) - 1
                parts.append(st.label("unreachable", lang))
            else:
                s_idx = int(np.searchsorted(edges, float(tv), side="right"))
                shown = f"{st.fmt_number(tv, lang, 1)} min ({service_label})"
                parts.append(st.kv(st.label("walk_time", lang), shown, lang))
        head = _value(r, "name") or st.label("layer_residences_plain", lang)
        props.append({"s": s_idx, "t": texts.add(_tip(head, *parts))})
    data = _collection(_for_display(gdf, simplify_m), props)
    _Call(
        "geojson", "residences", {"data": data, "styles": styles, "texts": texts.items, "radius": 5}
    ).add_to(layer)
    layer.n_features = len(data["features"])
    if times is None:
        layer.legend = [
            _swatch(st.label("layer_residences_plain", lang), fill="#bcaaa4", stroke="#555")
        ]
    else:
        layer.legend = [_swatch(text, fill=c, stroke="#555", opacity=0.8) for text, c in classes]
    return layer


# --- rasters ------------------------------------------------------------------------------------

_RASTER_THEMES = {
    "impervious": ("YlOrBr", 0.0, 100.0, "impervious_unit", "layer_raster_impervious"),
    "canopy": ("Greens", 0.0, 100.0, "canopy_unit", "layer_raster_canopy"),
    "change": ("RdYlGn_r", -50.0, 50.0, "change_unit", "layer_raster_change"),
}


def _read_raster_mercator(
    path: str | os.PathLike[str], max_size: int
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Read band 1 reprojected to Web Mercator (nearest), at most `max_size` px a side.

    Returns the array as float with NaN for nodata, and its bounds in lon/lat (w, s, e, n).
    """
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    try:
        src = rasterio.open(path)
    except (rasterio.errors.RasterioIOError, OSError) as exc:
        raise RasterError(f"cannot read raster {path}: {exc}") from exc
    with src:
        if src.crs is None:
            raise RasterError(
                f"raster {path} has no CRS; set one (gdal_edit.py -a_srs EPSG:2154 {path})"
            )
        dst_crs = "EPSG:3857"
        full, width, height = calculate_default_transform(
            src.crs, dst_crs, src.width, src.height, *src.bounds
        )
        # Web Mercator grids from calculate_default_transform are north-up (no rotation).
        west, north = full.c, full.f
        east, south = full.c + full.a * width, full.f + full.e * height
        scale = max(width / max_size, height / max_size, 1.0)
        width, height = max(1, round(width / scale)), max(1, round(height / scale))
        transform = rasterio.transform.from_bounds(west, south, east, north, width, height)
        data = np.full((height, width), np.nan, dtype="float64")
        src_arr = src.read(1, masked=True).astype("float64").filled(np.nan)
        if src.nodata is None:
            src_arr[src_arr == 255] = np.nan  # the convention of the cdv_geo rasters
        reproject(
            src_arr,
            data,
            src_transform=src.transform,
            src_crs=src.crs,
            src_nodata=np.nan,
            dst_transform=transform,
            dst_crs=dst_crs,
            dst_nodata=np.nan,
            resampling=Resampling.nearest if scale <= 1.0 else Resampling.average,
        )
        lonlat = transform_bounds(dst_crs, "EPSG:4326", west, south, east, north)
    return data, lonlat


def _png_data_url(values: np.ndarray, cmap_name: str, vmin: float, vmax: float) -> str:
    """Encode a palette PNG (201 colour levels, nodata transparent): small and fast."""
    from matplotlib import colormaps
    from PIL import Image

    levels = 200
    cmap = colormaps[cmap_name]
    nodata = ~np.isfinite(values)
    norm = np.clip((np.nan_to_num(values) - vmin) / (vmax - vmin), 0, 1)
    index = np.round(norm * levels).astype("uint8")
    index[nodata] = 255
    rgb = (cmap(np.linspace(0, 1, levels + 1))[:, :3] * 255).round().astype("uint8")
    palette = np.zeros((256, 3), dtype="uint8")
    palette[: levels + 1] = rgb
    img = Image.fromarray(index, "P")
    img.putpalette(palette.ravel().tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", transparency=255, compress_level=9)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _ramp(cmap_name: str, vmin: float, vmax: float, unit: str, lang: str) -> str:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps[cmap_name]
    stops = ", ".join(to_hex(cmap(x)) for x in np.linspace(0, 1, 7))
    lo, hi = st.fmt_number(vmin, lang), st.fmt_number(vmax, lang)
    return (
        f'<div class="cdv-ramp" style="background:linear-gradient(to right, {stops})"></div>'
        f'<div class="cdv-ramp-labels"><span>{escape_text(lo)}</span>'
        f"<span>{escape_text(hi)}</span></div>"
        f'<div class="cdv-note">{escape_text(unit)}</div>'
    )


def _image_layer(
    key: str,
    title: str,
    values: np.ndarray,
    bounds: tuple[float, float, float, float],
    theme: str,
    lang: str,
    opacity: float,
    show: bool,
    source: str | None,
) -> MapLayer:
    cmap_name, vmin, vmax, unit_key, _ = _RASTER_THEMES[theme]
    layer = MapLayer(key, title, show=show)
    w, s, e, n = (round(float(v), 6) for v in bounds)
    url = _png_data_url(values, cmap_name, vmin, vmax)
    _Call("image", key, url, [[s, w], [n, e]], float(opacity)).add_to(layer)
    layer.n_features = 1
    legend = [_ramp(cmap_name, vmin, vmax, st.label(unit_key, lang), lang)]
    if source:
        legend.append(_legend_note(st.kv(st.label("source", lang), source, lang)))
    layer.legend = legend
    return layer


def raster_layer(
    path: str | os.PathLike[str],
    *,
    theme: Literal["impervious", "canopy"] = "impervious",
    year: int | str | None = None,
    key: str | None = None,
    lang: str = "fr",
    opacity: float = 0.7,
    max_size: int = 800,
    source: str | None = None,
    show: bool = True,
) -> MapLayer:
    """Draw a percentage raster (0–100, 255 = nodata) as a coloured overlay with a ramp.

    The raster is reprojected to Web Mercator and embedded as a PNG of at most `max_size`
    pixels a side (averaged when reduced).

    Raises
    ------
    RasterError
        If the file cannot be read or has no CRS.
    """
    st.check_lang(lang)
    if theme not in ("impervious", "canopy"):
        raise CdvGeoError(f"theme={theme!r} is not valid; use 'impervious' or 'canopy'")
    values, bounds = _read_raster_mercator(path, max_size)
    title = st.label(_RASTER_THEMES[theme][4], lang, year=year if year is not None else "").strip()
    return _image_layer(
        key or f"raster_{theme}_{year or ''}".rstrip("_"),
        title,
        values,
        bounds,
        theme,
        lang,
        opacity,
        show,
        source,
    )


def raster_change_layer(
    before: str | os.PathLike[str],
    after: str | os.PathLike[str],
    *,
    years: tuple[Any, Any] | None = None,
    lang: str = "fr",
    opacity: float = 0.75,
    max_size: int = 800,
    source: str | None = None,
    show: bool = True,
) -> MapLayer:
    """Change between two percentage rasters (after − before, in % points): green = de-sealed.

    The two rasters must cover the same grid (same CRS, size and transform).
    """
    st.check_lang(lang)
    a, bounds_a = _read_raster_mercator(before, max_size)
    b, bounds_b = _read_raster_mercator(after, max_size)
    if a.shape != b.shape or not np.allclose(bounds_a, bounds_b, atol=1e-7):
        raise RasterError(
            f"rasters {before} and {after} are not on the same grid; resample one onto the "
            "other (gdalwarp -te ... -tr ...) before comparing them"
        )
    span = f"{years[0]}–{years[1]}" if years else ""
    title = st.label("layer_raster_change", lang, year=span).strip()
    return _image_layer(
        "raster_change", title, b - a, bounds_a, "change", lang, opacity, show, source
    )


# --- choropleth ---------------------------------------------------------------------------------


def _breaks(values: np.ndarray, k: int) -> list[float]:
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if hi <= lo:
        return [lo, hi]
    # Rounded equal intervals: few quartiers, so quantiles would only repeat the values.
    step = (hi - lo) / k
    mag = 10 ** np.floor(np.log10(step))
    step = float(np.ceil(step / mag) * mag)
    start = float(np.floor(lo / mag) * mag)
    edges = [start + i * step for i in range(k + 1)]
    while edges[-2] >= hi and len(edges) > 2:
        edges.pop()
    return edges


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
    gdf = _checked(quartiers, "quartiers")
    st.check_lang(lang)
    series = pd.Series(values, dtype="float64") if not isinstance(values, pd.Series) else values
    series.index = series.index.astype(str)
    codes = gdf["code"].astype(str) if "code" in gdf.columns else gdf.index.astype(str)
    vals = pd.to_numeric(series.reindex(codes.to_numpy()), errors="coerce").to_numpy(dtype=float)
    layer = MapLayer(key, title, show=show)
    palette = st.CHOROPLETH_GOOD_COLOURS if higher_is_better else st.CHOROPLETH_COLOURS
    legend: list[str] = []
    if np.isfinite(vals).any():
        edges = _breaks(vals[np.isfinite(vals)], classes)
        colours = _spread(palette, max(len(edges) - 1, 1))
        for i, c in enumerate(colours):
            lo = st.fmt_number(edges[i], lang, decimals)
            hi = st.fmt_number(edges[min(i + 1, len(edges) - 1)], lang, decimals)
            legend.append(_swatch(f"{lo} – {hi}", fill=c, stroke="#555", opacity=0.85))
    else:
        edges, colours = [0.0, 1.0], [palette[0]]
    styles = [
        {"color": "#444", "weight": 1.5, "fillColor": c, "fillOpacity": 0.75} for c in colours
    ]
    styles.append(
        {
            "color": "#444",
            "weight": 1.5,
            "fillColor": "#bdbdbd",
            "fillOpacity": 0.5,
            "dashArray": "4 3",
        }
    )
    texts = _Texts()
    props = []
    for (_, r), v in zip(gdf.iterrows(), vals, strict=True):
        name = _value(r, "name") or _value(r, "code")
        if np.isfinite(v):
            s_idx = int(min(max(np.searchsorted(edges, v, side="right") - 1, 0), len(colours) - 1))
            shown = f"{st.fmt_number(v, lang, decimals)}{(' ' + unit) if unit else ''}"
        else:
            s_idx, shown = len(styles) - 1, st.label("no_data", lang)
        props.append({"s": s_idx, "t": texts.add(_tip(name, st.kv(title, shown, lang)))})
    if not np.isfinite(vals).all():
        legend.append(
            _swatch(st.label("no_data", lang), fill="#bdbdbd", stroke="#444", dashed=True)
        )
    data = _collection(_for_display(gdf, simplify_m), props)
    _Call("geojson", key, {"data": data, "styles": styles, "texts": texts.items}).add_to(layer)
    layer.n_features = len(data["features"])
    notes = [st.kv(st.label("unit", lang), unit, lang)] if unit else []
    if year is not None:
        notes.append(st.kv(st.label("year", lang), year, lang))
    if source:
        notes.append(st.kv(st.label("source", lang), source, lang))
    if reference:
        notes.append(reference)
    layer.legend = [_legend_note(n) for n in notes] + legend
    return layer
