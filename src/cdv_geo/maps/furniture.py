"""The frame of every committee map: title, legend, key-figure panel, basemap, mini-map.

Every map has a title, a legend for every visible layer (a layer's entry hides with the
layer), a scale bar, a source line (saying "données illustratives" for demo data), a
full-screen button, a mini-map and a measuring tool. The legend (bottom left) and the panel
(top right) are collapsible and scroll, so that they never hide the quartiers on a 1366×768
screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
from branca.element import Figure
from folium.template import Template
from shapely.geometry.base import BaseGeometry

from cdv_geo.core import labels as lb
from cdv_geo.core.crs import MAP_CRS
from cdv_geo.maps import style as st
from cdv_geo.maps.assets import ASSETS
from cdv_geo.maps.features import collection, for_display
from cdv_geo.maps.html import escape_text, js_json
from cdv_geo.maps.runtime import CdvElement, MapLayer

__all__ = [
    "DEFAULT_TILES",
    "PLAN_IGN_ATTRIBUTION",
    "PLAN_IGN_URL",
    "FitAroundControls",
    "Furniture",
    "Legend",
    "Panel",
    "Tiles",
    "attribution_text",
    "base_map",
    "fit_bounds",
    "metric_bounds",
    "tile_layer",
]

#: A basemap: a name, a URL template, ``"auto"`` or None (no basemap).
Tiles = str | None
#: ``"auto"``: Plan IGN (the official French basemap, no key needed) in France, OpenStreetMap
#: elsewhere. Any folium/xyzservices name or URL template works, and ``None`` gives no basemap.
DEFAULT_TILES = "auto"
PLAN_IGN_URL = (
    "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM_0_19"
    "&FORMAT=image/png&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
)
PLAN_IGN_ATTRIBUTION = '<a href="https://geoservices.ign.fr/">Plan IGN</a> © IGN'
# Metropolitan France and the overseas départements covered by Plan IGN (west, south, east,
# north), in degrees.
_IGN_AREAS = (
    (-5.5, 41.0, 10.0, 51.5),
    (-62.0, 15.5, -60.7, 16.6),
    (-61.3, 14.3, -60.7, 15.0),
    (-54.7, 2.0, -51.5, 6.0),
    (55.1, -21.5, 55.9, -20.8),
    (44.9, -13.1, 45.4, -12.5),
)

# --- map furniture ---


class Furniture(CdvElement):
    """Title, scale bar, full screen, measure, mini-map and source line of a map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var title = L.control({position: 'topleft'});
          title.onAdd = function () {
            var div = L.DomUtil.create('div', 'cdv-title cdv-box leaflet-control');
            div.innerHTML = {{ this.title_html }};
            return div;
          };
          title.addTo(map);
          // The title above the zoom buttons, in the top-left corner.
          var corner = map._controlCorners.topleft;
          corner.insertBefore(title.getContainer(), corner.firstChild);
          L.control.scale({position: 'bottomleft', imperial: false, maxWidth: 160}).addTo(map);
          L.control.fullscreen({{ this.fullscreen }}).addTo(map);
          L.Control.Measure.include({
            // leaflet-measure 3.1 with Leaflet >= 1.8 (ljagis/leaflet-measure#171): no autopan
            _setCaptureMarkerIcon: function () {
              this._captureMarker.options.autoPanOnFocus = false;
              this._captureMarker.setIcon(L.divIcon({iconSize: this._map.getSize().multiplyBy(2)}));
            }
          });
          map.addControl(new L.Control.Measure({{ this.measure }}));
          var miniStyle = {color: '#555', weight: 1, fillOpacity: 0.1};
          var miniLayer = {{ this.mini_url }}
            ? L.tileLayer({{ this.mini_url }}, {maxZoom: 19})
            : L.geoJSON({{ this.mini_outline }}, {style: miniStyle});
          new L.Control.MiniMap(miniLayer, {{ this.minimap }}).addTo(map);
          map.attributionControl.addAttribution({{ this.attribution }});
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        *,
        title: str,
        subtitle: str,
        attribution: str,
        lang: str,
        mini_url: str | None,
        mini_outline: dict[str, Any] | None,
    ) -> None:
        measure_js = "measure_js_fr" if lang == "fr" else "measure_js_en"
        super().__init__(
            [
                "fullscreen_js",
                "fullscreen_css",
                measure_js,
                "measure_css",
                "minimap_js",
                "minimap_css",
            ]
        )
        self._name = "CdvFurniture"
        sub = f"<small>{escape_text(subtitle)}</small>" if subtitle else ""
        self.title_html = js_json(escape_text(title) + sub)
        self.fullscreen = js_json(
            {
                "position": "topleft",
                "title": lb.label("fullscreen", lang),
                "titleCancel": lb.label("fullscreen_exit", lang),
                "forceSeparateButton": True,
            }
        )
        self.measure = js_json(
            {
                "position": "topleft",
                "primaryLengthUnit": "meters",
                "secondaryLengthUnit": "kilometers",
                "primaryAreaUnit": "sqmeters",
                "secondaryAreaUnit": "hectares",
                "activeColor": "#c2185b",
                "completedColor": "#880e4f",
            }
        )
        self.minimap = js_json(
            {
                "position": "bottomright",
                "width": 140,
                "height": 140,
                "zoomLevelOffset": -4,
                "toggleDisplay": True,
                "strings": {
                    "hideText": lb.label("minimap_hide", lang),
                    "showText": lb.label("minimap_show", lang),
                },
            }
        )
        self.mini_url = js_json(mini_url)
        self.mini_outline = js_json(mini_outline or {"type": "FeatureCollection", "features": []})
        self.attribution = js_json(escape_text(attribution))


class Legend(CdvElement):
    """The legend: one section per layer, shown only while its layer is on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var ctl = L.control({position: 'bottomleft'});
          ctl.onAdd = function () {
            var div = L.DomUtil.create('div', 'cdv-legend cdv-box leaflet-control');
            div.innerHTML = {{ this.html }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
          };
          ctl.addTo(map);
          var sections = [
            {%- for group, sid in this.sections %}
            [{{ group }}, {{ sid }}]{{ "," if not loop.last }}
            {%- endfor %}
          ];
          function sync() {
            sections.forEach(function (s) {
              var el = document.getElementById(s[1]);
              if (el) el.style.display = map.hasLayer(s[0]) ? '' : 'none';
            });
          }
          map.on('overlayadd overlayremove', sync);
          sync();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layers: Sequence[MapLayer], notes: Sequence[str], lang: str) -> None:
        super().__init__()
        self._name = "CdvLegend"
        self._layers = list(layers)
        self._notes = list(notes)
        self._lang = lang
        self.html = ""
        self.sections: list[tuple[str, str]] = []

    def render(self, **kwargs: Any) -> Any:
        """Render the legend of the layers added so far."""
        parts = [f"<details open><summary>{escape_text(lb.label('legend', self._lang))}</summary>"]
        self.sections = []
        for i, layer in enumerate(self._layers):
            if not layer.legend:
                continue
            sid = f"{self.get_name()}_{i}"
            parts.append(
                f'<div id="{sid}"><h5>{escape_text(layer.title)}</h5>{"".join(layer.legend)}</div>'
            )
            self.sections.append((layer.get_name(), js_json(sid)))
        if self._notes:
            parts.append(f"<h5>{escape_text(lb.label('missing_layers', self._lang))}</h5>")
            parts.extend(f'<div class="cdv-note">{escape_text(n)}</div>' for n in self._notes)
        parts.append("</details>")
        self.html = js_json("".join(parts))
        return super().render(**kwargs)


class FitAroundControls(CdvElement):
    """Fit the map's bounds in the room the controls leave, so that they hide no quartier.

    Runs last, once every control is on the page: the legend and the scale bar (left), the
    panel, the layer list and the mini-map (right), the title (top), the attribution (bottom)
    are measured, and the bounds are fitted inside what remains. On a screen narrower than
    `collapse_below` pixels (1,400 by default) the legend and the key-figure panel start folded
    (one click on their heading opens them); where the room is still too narrow they are
    folded too. When the page is printed (``@media print``) the legend and the panel open and
    the controls (zoom, layers, full screen, measure, mini-map) are hidden.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var target = {{ this.bounds }};
          var container = map.getContainer();
          var boxes = '.cdv-legend details, .cdv-panel details';
          function fold(open) {
            container.querySelectorAll(boxes).forEach(function (d) { d.open = open; });
          }
          // Below {{ this.collapse_below }} px the legend and the key figures start folded (one
          // click on their heading opens them), so that they leave the quartiers free.
          var width = Math.min(window.innerWidth || 1e9, container.getBoundingClientRect().width);
          var folded = width < {{ this.collapse_below }};
          if (folded) fold(false);
          // On paper the controls are hidden (@media print) and the legend and figures open.
          var printing = window.matchMedia ? window.matchMedia('print') : null;
          var before = null;
          function toPaper() {
            if (before) return;
            before = Array.prototype.map.call(container.querySelectorAll(boxes),
                                              function (d) { return d.open; });
            fold(true);
            fit(true);
          }
          function fromPaper() {
            if (!before) return;
            var states = before;
            container.querySelectorAll(boxes).forEach(function (d, i) { d.open = states[i]; });
            before = null;
            fit();
          }
          window.addEventListener('beforeprint', toPaper);
          window.addEventListener('afterprint', fromPaper);
          if (printing) {
            var onChange = function (e) { if (e.matches) toPaper(); else fromPaper(); };
            if (printing.addEventListener) printing.addEventListener('change', onChange);
            else if (printing.addListener) printing.addListener(onChange);
          }
          function fit(paper) {
            var box = map.getContainer().getBoundingClientRect();
            var left = 10, right = 10, top = 10, bottom = 10;
            map.getContainer().querySelectorAll('.leaflet-control').forEach(function (e) {
              var r = e.getBoundingClientRect();
              if (!r.width || !r.height) return;
              if (e.classList.contains('cdv-title')) {
                top = Math.max(top, r.bottom - box.top + 10);
              } else if (e.classList.contains('leaflet-control-attribution')) {
                bottom = Math.max(bottom, box.bottom - r.top + 5);
              } else if (e.closest('.leaflet-left')) {
                left = Math.max(left, r.right - box.left + 10);
              } else {
                right = Math.max(right, box.right - r.left + 10);
              }
            });
            if (box.width - left - right < 240 && !folded && !paper) {
              folded = true;
              fold(false);
              return fit();
            }
            map.fitBounds(target, {paddingTopLeft: [left, top],
                                   paddingBottomRight: [right, bottom], animate: false});
          }
          fit();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]], *, collapse_below: int = 1400) -> None:
        super().__init__()
        self._name = "CdvFit"
        self.bounds = js_json(bounds)
        self.collapse_below = int(collapse_below)


class Panel(CdvElement):
    """A collapsible side panel (key figures) in the top-right corner."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var ctl = L.control({position: 'topright'});
          ctl.onAdd = function () {
            var div = L.DomUtil.create('div', 'cdv-panel cdv-box leaflet-control');
            div.innerHTML = {{ this.html }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
          };
          ctl.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, body_html: str, *, open_: bool = True) -> None:
        super().__init__()
        self._name = "CdvPanel"
        self.html = js_json(
            f"<details{' open' if open_ else ''}><summary>{escape_text(title)}</summary>"
            f"{body_html}</details>"
        )


# --- the base map ---


def metric_bounds(t: Any, geoms: Sequence[BaseGeometry] | None = None) -> tuple[float, ...]:
    """Return the bounds of `geoms`, else of the territory's main layer, in its metric CRS."""
    crs = t.settings.crs
    if geoms:
        return tuple(gpd.GeoSeries(list(geoms), crs=crs).total_bounds)
    for kind in ("quartiers", "communes", "facilities", "residences", "renewal_sites"):
        gdf = getattr(t, kind, None)
        if gdf is not None:
            return tuple(gdf.to_crs(crs).total_bounds)
    gdf = next(iter(t.layers().values()))
    return tuple(gdf.to_crs(crs).total_bounds)


def fit_bounds(
    t: Any, bounds_m: tuple[float, ...], margin_m: float
) -> tuple[list[list[float]], float]:
    """Bounds in lat/lon (with a margin) and a display simplification tolerance in metres.

    The tolerance is half a screen pixel three zoom levels deeper than the zoom that fits the
    bounds in about 1,100 pixels: invisible unless one zooms in a lot.
    """
    minx, miny, maxx, maxy = bounds_m
    box = gpd.GeoSeries.from_xy(
        [minx - margin_m, maxx + margin_m], [miny - margin_m, maxy + margin_m], crs=t.settings.crs
    ).to_crs(MAP_CRS)
    lon, lat = box.x.to_numpy(), box.y.to_numpy()
    width_m = max(maxx - minx + 2 * margin_m, maxy - miny + 2 * margin_m, 1.0)
    tolerance = float(np.clip(width_m / 1100 / 8 / 2, 0.1, 2.0))
    b = [
        [round(float(lat.min()), 6), round(float(lon.min()), 6)],
        [round(float(lat.max()), 6), round(float(lon.max()), 6)],
    ]
    return b, tolerance


def base_map(
    t: Any,
    *,
    title: str,
    lang: str,
    tiles: Tiles,
    bounds: list[list[float]],
    simplify_m: float,
) -> folium.Map:
    """Return a map of the territory with its furniture (title, basemap, controls), no layer."""
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(
        location=centre,
        zoom_start=14,
        tiles=None,
        control_scale=False,
        font_size="12px",
        maxZoom=19,
        zoomSnap=0.25,
        zoomDelta=0.5,
    )
    # Only what our maps use: Leaflet itself (no jQuery, Bootstrap or icon fonts), so that the
    # file stays light and every asset can be embedded offline.
    root = cast(Figure, m.get_root())
    m.default_js = [("leaflet", ASSETS["leaflet"].url)]
    m.default_css = [("leaflet_css", ASSETS["leaflet_css"].url)]
    mini_url = None
    if tiles is not None:
        tl = tile_layer(tiles, bounds)
        tl.add_to(m)
        mini_url = tl.tiles
    else:
        root.header.add_child(
            folium.Element(
                f"<style>.leaflet-container {{ background: {st.BACKGROUND_COLOUR}; }}</style>"
            ),
            name="cdv_no_basemap",
        )
    # The view is fitted to `bounds` once the controls are on the page, in the room they leave
    # (FitAroundControls, added last): not here, where an animated fit would win the race.
    m._cdv_lang = lang  # type: ignore[attr-defined]
    m._cdv_title = title  # type: ignore[attr-defined]
    m._cdv_bounds = bounds  # type: ignore[attr-defined]
    root.title = escape_text(title)
    outline = None
    if tiles is None:
        frame = t.communes if t.communes is not None else t.quartiers
        if frame is not None:
            outline = collection(for_display(frame, max(simplify_m, 5.0)), [{}] * len(frame))
    subtitle = lb.label("illustrative", lang) if getattr(t, "illustrative", False) else ""
    Furniture(
        title=title,
        subtitle=subtitle,
        attribution=attribution_text(t, lang),
        lang=lang,
        mini_url=mini_url,
        mini_outline=outline,
    ).add_to(m)
    return m


def tile_layer(tiles: str, bounds: list[list[float]]) -> folium.TileLayer:
    """Return the basemap: ``"auto"`` is Plan IGN inside France, OpenStreetMap elsewhere."""
    if tiles == "auto":
        (s_, w_), (n_, e_) = bounds
        inside = any(w_ >= w and e_ <= e and s_ >= s and n_ <= n for w, s, e, n in _IGN_AREAS)
        tiles = "plan_ign" if inside else "OpenStreetMap"
    if tiles == "plan_ign":
        # Toned down (CSS filter on the tile pane) so that the data stand out on it.
        return folium.TileLayer(
            PLAN_IGN_URL,
            attr=PLAN_IGN_ATTRIBUTION,
            name="Plan IGN",
            control=False,
            max_zoom=19,
            className="cdv-basemap",
        )
    return folium.TileLayer(tiles, control=False, max_zoom=19, className="cdv-basemap")


def attribution_text(t: Any, lang: str) -> str:
    """Return the source line of a map (the territory's, "illustrative data", cdv_geo)."""
    parts = []
    own = str(getattr(t, "attribution", "") or "")
    if own:
        parts.append(own)
    if getattr(t, "illustrative", False) and "illustrativ" not in own.lower():
        parts.append(lb.label("illustrative", lang))
    parts.append("cdv-geo")
    return " — ".join(parts)
