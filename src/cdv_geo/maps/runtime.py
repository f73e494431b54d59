"""The browser side of the committee maps: the ``cdvGeo`` script, the stylesheet, the layers.

Features travel as JSON data handed to a small script (``cdvGeo``) written once per map, never
as generated JavaScript code, so no data string is ever evaluated. :class:`MapLayer` is the
togglable overlay every layer builder returns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.maps.assets import ASSETS
from cdv_geo.maps.html import escape_text, js_json

__all__ = [
    "PARSED_MIN_CHARS",
    "RUNTIME_CSS",
    "RUNTIME_JS",
    "Call",
    "CdvElement",
    "MapLayer",
    "RawText",
    "Runtime",
    "add_runtime",
    "js_argument",
    "layer_key",
]

#: The ``cdvGeo`` browser runtime: draws GeoJSON and point layers from JSON specs.
RUNTIME_JS = r"""
var cdvGeo = window.cdvGeo = window.cdvGeo || {layers: {}};
cdvGeo.register = function (key, layer) {
  (cdvGeo.layers[key] = cdvGeo.layers[key] || []).push(layer);
};
// A text is an index into `texts`, or a list of indices (the lines of a tooltip); -1: none
// (in a list: a line left out).
cdvGeo.text = function (texts, t) {
  if (t === undefined || t === null) return null;
  if (typeof t === 'number') return t >= 0 ? texts[t] : null;
  var lines = [];
  for (var k = 0; k < t.length; k++) if (t[k] >= 0) lines.push(texts[t[k]]);
  return lines.length ? lines.join('<br>') : null;
};
// Quartier labels live in their own pane, above the markers and cluster bubbles (600) and
// below the hover tooltips (650) and popups (700): a bubble never hides a quartier's name.
cdvGeo.LABEL_PANE = 'cdvLabels';
cdvGeo.labelPane = function (map) {
  if (!map.getPane(cdvGeo.LABEL_PANE)) {
    map.createPane(cdvGeo.LABEL_PANE).style.zIndex = 640;
  }
};
cdvGeo.bind = function (layer, texts, t, p, tipOptions) {
  var tip = cdvGeo.text(texts, t), pop = cdvGeo.text(texts, p);
  if (tip !== null) layer.bindTooltip(tip, tipOptions || {sticky: true});
  if (pop !== null) layer.bindPopup(pop, {maxWidth: 360});
};
cdvGeo.geojson = function (group, key, s) {
  // Bare geometries plus columns of style (s), tooltip (t) and popup (p) indices.
  var n = s.geoms.length, i, layer;
  var prop = function (k, d, i) { return s[k] ? s[k][i] : d; };
  if (s.canvas) {
    // One <canvas> for the whole layer instead of one SVG path per feature, and the features
    // built directly (L.geoJSON would double the time): fast for 100,000 polygons.
    var renderer = L.canvas({padding: 0.5});
    var opts = s.styles.map(function (st) {
      var o = L.extend({renderer: renderer}, st);
      o.pointToLayer = function (f, ll) {
        return L.circleMarker(ll, L.extend({radius: s.radius || 7}, o));
      };
      return o;
    });
    var items = new Array(n);
    for (i = 0; i < n; i++) {
      var l = L.GeoJSON.geometryToLayer(s.geoms[i], opts[prop('s', 0, i)]);
      l.feature = {properties: {t: prop('t', -1, i), p: prop('p', -1, i)}};
      items[i] = l;
    }
    layer = L.featureGroup(items);
    // One tooltip and one popup for the whole layer: binding 25,000 of them would be slow.
    var text = function (l, k) { return cdvGeo.text(s.texts, l.feature.properties[k]) || ''; };
    layer.bindTooltip(function (l) { return text(l, 't'); }, {sticky: true});
    if (s.popups) layer.bindPopup(function (l) { return text(l, 'p'); }, {maxWidth: 360});
  } else {
    var feats = new Array(n);
    for (i = 0; i < n; i++) {
      feats[i] = {type: 'Feature', geometry: s.geoms[i],
                  properties: {s: prop('s', 0, i), t: prop('t', -1, i), p: prop('p', -1, i)}};
    }
    layer = L.geoJSON({type: 'FeatureCollection', features: feats}, {
      style: function (f) { return s.styles[f.properties.s || 0]; },
      pointToLayer: function (f, ll) {
        var st = s.styles[f.properties.s || 0];
        return L.circleMarker(ll, L.extend({radius: s.radius || 7}, st));
      },
      onEachFeature: function (f, l) {
        var q = f.properties;
        var tip = s.label ? {permanent: true, direction: 'center', className: 'cdv-label',
                             pane: cdvGeo.LABEL_PANE} : null;
        cdvGeo.bind(l, s.texts, q.t, q.p, tip);
      }
    });
    if (s.label) {
      // The pane must exist before the permanent labels open, i.e. when the layer is added.
      var onAdd = layer.onAdd;
      layer.onAdd = function (map) {
        cdvGeo.labelPane(map);
        return onAdd.call(this, map);
      };
    }
  }
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
        mk = L.marker(ll, {icon: icon(ci), keyboard: false, cdvW: s.w ? s.w[i] : 1});
        cdvGeo.bind(mk, s.texts, s.t ? s.t[i] : -1, s.p ? s.p[i] : -1);
      }
      items[i] = mk;
    }
    if (s.cluster) {
      var colour = s.clusterColour || '#555';
      layer = L.markerClusterGroup({chunkedLoading: true, showCoverageOnHover: false,
        maxClusterRadius: 40, disableClusteringAtZoom: 19,
        iconCreateFunction: function (cluster) {
          // With weights (s.w: the trees of each planting point) a bubble shows their sum,
          // not the number of points it gathers.
          var n = cluster.getChildCount();
          if (s.w) {
            n = 0;
            cluster.getAllChildMarkers().forEach(function (c) { n += c.options.cdvW; });
            n = Math.round(n);
          }
          var size = n < 10 ? 24 : (n < 100 ? 30 : (n < 1000 ? 38 : 44));
          var title = s.clusterTitle ? ' title="' + n + ' ' + s.clusterTitle + '"' : '';
          return L.divIcon({html: '<div style="background:' + colour + '"' + title + '>' +
                                  n + '</div>',
                            className: 'cdv-cluster', iconSize: [size, size]});
        }});
      layer.addLayers(items);
    } else {
      layer = L.featureGroup(items);
      if (canvas) {
        // One tooltip and one popup for the whole group: 50,000 bound tooltips would be slow.
        var text = function (i) { return cdvGeo.text(s.texts, i) || ''; };
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
  // Rasters (grid cells) in their own pane at the bottom of the overlay pane (z-index -1 in
  // its stacking context), so that the walking bands, quartiers and every vector layer stay
  // drawn above them whatever the order the layers are added or switched on.
  var layer = L.imageOverlay(url, bounds, {opacity: opacity, interactive: false,
                                           className: 'cdv-raster', pane: 'cdvRasters'});
  var onAdd = layer.onAdd;
  layer.onAdd = function (map) {
    if (!map.getPane('cdvRasters')) {
      map.createPane('cdvRasters', map.getPane('overlayPane')).style.zIndex = -1;
    }
    return onAdd.call(this, map);
  };
  layer.addTo(group);
  cdvGeo.register(key, layer);
  return layer;
};
"""

#: The stylesheet of the maps (furniture, legend, panel, popups).
RUNTIME_CSS = """
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
.cdv-panel { max-width: min(560px, 44vw); max-height: 42vh; overflow: auto; }
.cdv-panel table { border-collapse: collapse; font-size: 11.5px; }
.cdv-panel th, .cdv-panel td { padding: 2px 5px; border-bottom: 1px solid #e3e3e3;
  text-align: right; white-space: nowrap; }
.cdv-panel th { white-space: normal; max-width: 7.5em; vertical-align: bottom; }
.cdv-panel th:first-child, .cdv-panel td:first-child { text-align: left; white-space: normal;
  min-width: 9em; max-width: 15em; }
/* Many quartiers: compact columns (the box scrolls rather than cut a column). */
.cdv-panel table.cdv-many { font-size: 10.5px; }
.cdv-panel table.cdv-many th, .cdv-panel table.cdv-many td { padding: 2px 3px; }
.cdv-panel table.cdv-many th { max-width: 6em; font-weight: 600; }
@media print {
  .leaflet-control-zoom, .leaflet-control-layers, .leaflet-control-zoom-fullscreen,
  .leaflet-bar:has(.leaflet-control-zoom-fullscreen), .leaflet-control-measure,
  .leaflet-control-minimap { display: none !important; }
  .cdv-legend, .cdv-panel { max-height: none; overflow: visible; box-shadow: none;
    border: 1px solid #999; }
  /* the open legend in two columns, so that it stays clear of the title */
  .cdv-legend { max-width: 560px; }
  .cdv-legend details { column-count: 2; column-gap: 14px; }
  .cdv-legend details > div, .cdv-legend .cdv-row { break-inside: avoid; }
  .cdv-legend summary { column-span: all; }
}
.cdv-panel .cdv-note { color: #555; font-style: italic; max-width: 340px; }
.cdv-selector { max-width: min(420px, 40vw); }
.cdv-selector-caption { display: block; font-weight: 600; font-size: 13px; margin: 0 0 4px; }
.cdv-indicator-select { max-width: 100%; font-size: 13px; padding: 2px; }
"""


class Runtime(Element):
    """The ``cdvGeo`` script and the map stylesheet, written once in the page header."""

    def __init__(self) -> None:
        super().__init__(f"<style>{RUNTIME_CSS}</style>\n<script>{RUNTIME_JS}</script>")


def add_runtime(figure: Figure) -> None:
    """Write the runtime into the page header of `figure` (once)."""
    if "cdv_runtime" not in figure.header._children:
        figure.header.add_child(Runtime(), name="cdv_runtime")


class CdvElement(MacroElement):
    """Base of our elements: adds the runtime and the JS/CSS links it needs, by asset name."""

    def __init__(self, assets: Sequence[str] = ()) -> None:
        super().__init__()
        self._assets = list(assets)

    def prepare(self) -> Figure:
        """Add the runtime and the assets to the page header; return the page."""
        from branca.element import CssLink, JavascriptLink

        figure = self.get_root()
        if not isinstance(figure, Figure):  # pragma: no cover - folium raises before this
            raise CdvGeoError("add the layer to a map before rendering it")
        add_runtime(figure)
        for name in self._assets:
            a = ASSETS[name]
            link = CssLink(a.url) if a.kind == "css" else JavascriptLink(a.url)
            figure.header.add_child(link, name=name)
        return figure

    def render(self, **kwargs: Any) -> Any:
        """Render, adding the runtime and the assets to the page header first."""
        self.prepare()
        return super().render(**kwargs)


class RawText(Element):
    """Text written into the page as it is.

    branca wraps what a macro renders into an ``Element``, which compiles it as a Jinja
    template: slow for megabytes of data, and a ``{{`` in them would be evaluated.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawText"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text."""
        return self.text


_KEY_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


def layer_key(key: str) -> str:
    """Return `key` as a layer key of the page's script: letters, digits, ``_ . -`` only.

    Keys are built from names (``facilities_<kind>``); a kind or a name from the data goes into
    the page as escaped text, never into its script's keys.

    Examples
    --------
    >>> layer_key("facilities_water_play_area")
    'facilities_water_play_area'
    >>> layer_key("facilities_<img src=x>")
    'facilities__img_src_x_'
    """
    return _KEY_CHARS.sub("_", str(key))


#: From this many characters, a call's argument is written as ``JSON.parse("...")``.
PARSED_MIN_CHARS = 20_000


def js_argument(value: Any) -> str:
    r"""Return `value` as a JavaScript argument: a literal, or ``JSON.parse`` of a string.

    Browsers parse a JSON string several times faster than the same object literal (a 100,000
    home overview opens in about 1 s instead of 3 to 5 s), so big payloads travel as strings;
    small ones stay literals, easy to read. Either way no ``<``, ``>`` or ``&`` is written raw.

    Examples
    --------
    >>> js_argument({"a": "<b>"})
    '{"a":"\\u003cb\\u003e"}'
    >>> js_argument(list(range(9000)))[:16]
    'JSON.parse("[0,1'
    """
    text = js_json(value)
    if len(text) < PARSED_MIN_CHARS:
        return text
    return f"JSON.parse({json.dumps(text, ensure_ascii=False)})"


class Call(CdvElement):
    """One call of the runtime, with its data as a JSON argument (see :func:`js_argument`).

    Written as raw text (:class:`RawText`), never through a template.
    """

    def __init__(self, fn: str, key: str, *args: Any, assets: Sequence[str] = ()) -> None:
        super().__init__(assets)
        self._name = "CdvLayerData"
        self.fn = fn
        self.key_json = js_json(layer_key(key))
        self.args = ", ".join(js_argument(a) for a in args)

    def render(self, **kwargs: Any) -> str:
        """Add the call to the page's script (after the runtime and the assets)."""
        figure = self.prepare()
        parent = self._parent.get_name() if self._parent is not None else "null"
        text = f"cdvGeo.{self.fn}({parent}, {self.key_json}, {self.args});\n"
        figure.script.add_child(RawText(text), name=self.get_name())
        return ""


class MapLayer(folium.FeatureGroup):
    """A togglable overlay with its legend.

    Parameters
    ----------
    key : str
        Stable identifier (``"facilities"``...), also the key of the layer in the page's
        ``cdvGeo.layers`` registry (see :func:`layer_key`: other characters than letters,
        digits and ``_ . -`` become ``_``).
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
        self.key = layer_key(key)
        self.title = title
        self.legend: list[str] = []
        self.n_features = 0
