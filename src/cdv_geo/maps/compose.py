"""Committee maps: the overview, one map per quartier, and the thematic maps.

Every map has a title, a legend for every visible layer (a layer's entry hides with the
layer), a scale bar, a source line (saying "données illustratives" for demo data), a
full-screen button, a mini-map and a measuring tool; each layer can be switched on and off.
Labels are French by default, English with ``lang="en"``.

A map always builds when something is absent: a layer absent from the territory, or a metric
whose inputs are absent (see :func:`prepare_metrics`), is left out and listed under "Couches non
affichées". Bad data raises a :class:`~cdv_geo.CdvGeoError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Literal, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Figure
from folium.template import Template
from shapely.geometry.base import BaseGeometry

from cdv_geo.core.crs import MAP_CRS, require_crs
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.maps import _style as st
from cdv_geo.maps._assets import ASSETS
from cdv_geo.maps._metrics import Note, key_figures, prepare_metrics
from cdv_geo.maps.html import AssetDir, escape_text, js_json, save_map
from cdv_geo.maps.layers import (
    MapLayer,
    _CdvElement,
    choropleth_layer,
    communes_layer,
    desealed_layer,
    facilities_layer,
    green_spaces_layer,
    quartiers_layer,
    raster_change_layer,
    raster_layer,
    renewal_layer,
    residences_layer,
    service_areas_layer,
    trees_layer,
)

__all__ = [
    "accessibility_map",
    "build_committee_maps",
    "indicators_map",
    "overview_map",
    "quartier_map",
    "renaturation_map",
    "renewal_map",
]

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
#: The notes (see prepare_metrics) shown on the overview and the quartier maps.
_TOPICS = ("access", "renewal", "renaturation")
#: The metrics each map draws (keys of prepare_metrics): only those are computed when absent.
_ACCESS = ("network", "nearest", "coverage", "service_areas")
_RENATURATION = ("desealing", "trees", "impervious")
_OVERVIEW = (*_ACCESS, "renewal_balance", *_RENATURATION)


# --- map furniture --------------------------------------------------------------------------------


class _Furniture(_CdvElement):
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
                "title": st.label("fullscreen", lang),
                "titleCancel": st.label("fullscreen_exit", lang),
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
                    "hideText": st.label("minimap_hide", lang),
                    "showText": st.label("minimap_show", lang),
                },
            }
        )
        self.mini_url = js_json(mini_url)
        self.mini_outline = js_json(mini_outline or {"type": "FeatureCollection", "features": []})
        self.attribution = js_json(escape_text(attribution))


class _Legend(_CdvElement):
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
        parts = [f"<details open><summary>{escape_text(st.label('legend', self._lang))}</summary>"]
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
            parts.append(f"<h5>{escape_text(st.label('missing_layers', self._lang))}</h5>")
            parts.extend(f'<div class="cdv-note">{escape_text(n)}</div>' for n in self._notes)
        parts.append("</details>")
        self.html = js_json("".join(parts))
        return super().render(**kwargs)


class _Panel(_CdvElement):
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


# --- helpers --------------------------------------------------------------------------------------


def _check_territory(t: Any) -> None:
    """Raise on what no map can be drawn from: no layer at all, a layer without CRS."""
    layers = t.layers() if hasattr(t, "layers") else {}
    if not layers:
        raise CdvGeoError(
            f"territory {getattr(t, 'name', '')!r} has no layer to map; add layers under "
            "[layers] in the project file (at least quartiers), or pass them to Territory(...)"
        )
    for kind, gdf in layers.items():
        require_crs(gdf, kind)


def _metric_bounds(t: Any, geoms: Sequence[BaseGeometry] | None = None) -> tuple[float, ...]:
    crs = t.settings.crs
    if geoms:
        return tuple(gpd.GeoSeries(list(geoms), crs=crs).total_bounds)
    for kind in ("quartiers", "communes", "facilities", "residences", "renewal_sites"):
        gdf = getattr(t, kind, None)
        if gdf is not None:
            return tuple(gdf.to_crs(crs).total_bounds)
    gdf = next(iter(t.layers().values()))
    return tuple(gdf.to_crs(crs).total_bounds)


def _fit(t: Any, bounds_m: tuple[float, ...], margin_m: float) -> tuple[list[list[float]], float]:
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


def _base_map(
    t: Any,
    *,
    title: str,
    lang: str,
    tiles: Tiles,
    bounds: list[list[float]],
    simplify_m: float,
) -> folium.Map:
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
        tl = _tile_layer(tiles, bounds)
        tl.add_to(m)
        mini_url = tl.tiles
    else:
        root.header.add_child(
            folium.Element(
                f"<style>.leaflet-container {{ background: {st.BACKGROUND_COLOUR}; }}</style>"
            ),
            name="cdv_no_basemap",
        )
    # Room for the legend (left) and the key figures and layer list (right).
    m.fit_bounds(bounds, padding_top_left=(60, 60), padding_bottom_right=(280, 20))
    m._cdv_lang = lang  # type: ignore[attr-defined]
    m._cdv_title = title  # type: ignore[attr-defined]
    root.title = escape_text(title)
    outline = None
    if tiles is None:
        frame = t.communes if t.communes is not None else t.quartiers
        if frame is not None:
            from cdv_geo.maps.layers import _collection, _for_display

            outline = _collection(_for_display(frame, max(simplify_m, 5.0)), [{}] * len(frame))
    subtitle = st.label("illustrative", lang) if getattr(t, "illustrative", False) else ""
    _Furniture(
        title=title,
        subtitle=subtitle,
        attribution=_attribution(t, lang),
        lang=lang,
        mini_url=mini_url,
        mini_outline=outline,
    ).add_to(m)
    return m


def _tile_layer(tiles: str, bounds: list[list[float]]) -> folium.TileLayer:
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


def _attribution(t: Any, lang: str) -> str:
    parts = []
    own = str(getattr(t, "attribution", "") or "")
    if own:
        parts.append(own)
    if getattr(t, "illustrative", False) and "illustrativ" not in own.lower():
        parts.append(st.label("illustrative", lang))
    parts.append("cdv_geo")
    return " — ".join(parts)


_LAYER: Any = object()  # "the territory layer of that kind" (a sentinel)


class _Builder:
    """Collects layers and notes, then finishes the map (layer control, legend, panel)."""

    def __init__(self, t: Any, m: folium.Map, lang: str, simplify_m: float) -> None:
        self.t = t
        self.m = m
        self.lang = lang
        self.simplify_m = simplify_m
        self.layers: list[MapLayer] = []
        self.notes: list[str] = []

    def note(self, key: str, **fmt: Any) -> None:
        text = st.label(key, self.lang, **fmt)
        if text not in self.notes:
            self.notes.append(text)

    @classmethod
    def start(
        cls,
        t: Any,
        *,
        title: str,
        lang: str,
        tiles: Tiles,
        bounds: list[list[float]],
        tol: float,
    ) -> _Builder:
        m = _base_map(t, title=title, lang=lang, tiles=tiles, bounds=bounds, simplify_m=tol)
        return cls(t, m, lang, tol)

    def add_notes(self, notes: Sequence[Note], topics: Sequence[str] | None = None) -> None:
        for key, fmt in notes:
            if topics is None or fmt.get("topic") in topics:
                self.note(key, **fmt)

    def add(
        self, kind: str, build: Callable[..., MapLayer], data: Any = _LAYER, /, **kw: Any
    ) -> MapLayer | None:
        """Build and add a layer; note why when it cannot be drawn, and go on.

        `data` is the builder's first argument: by default the territory layer `kind`. A
        territory without that layer gives a note; ``None`` data (nothing in the area shown)
        gives nothing.
        """
        if data is _LAYER:
            data = getattr(self.t, kind, None)
            if data is None:
                self.note("missing_layer", layer=kind)
                return None
        if data is None:
            return None
        try:
            layer = build(data, lang=self.lang, **kw)
        except CdvGeoError as exc:
            self.notes.append(f"{kind}: {exc}")
            return None
        layer.add_to(self.m)
        self.layers.append(layer)
        return layer

    def finish(
        self, panel: tuple[str, str] | None = None, *, panel_open: bool = True
    ) -> folium.Map:
        if panel is not None:
            _Panel(panel[0], panel[1], open_=panel_open).add_to(self.m)
        folium.LayerControl(position="topright", collapsed=False).add_to(self.m)
        _Legend(self.layers, self.notes, self.lang).add_to(self.m)
        return self.m


def _clip(gdf: gpd.GeoDataFrame | None, area: BaseGeometry | None, crs: Any) -> Any:
    """Features of `gdf` that intersect `area` (whole features, not cut)."""
    if gdf is None or area is None:
        return gdf
    mask = gdf.to_crs(crs).intersects(area).to_numpy()
    out = gdf[mask]
    return out if len(out) else None


def _figure_rows(
    kf: pd.DataFrame, lang: str, columns: Sequence[str] | None = None
) -> list[tuple[str, Callable[[Any], str], str]]:
    """Return the figures to show as (column, formatter, label), only those with a value."""
    service = st.value_label("kind", kf.attrs.get("service", "water_play_area"), lang)
    threshold = kf.attrs.get("threshold_min")
    rows: list[tuple[str, Callable[[Any], str], str]] = [
        ("population", lambda v: st.fmt_number(v, lang), st.label("kf_population", lang)),
        ("facilities", lambda v: st.fmt_number(v, lang), st.label("kf_facilities", lang)),
    ]
    if threshold is not None:
        rows.append(
            (
                "coverage",
                lambda v: st.fmt_percent(v, lang),
                st.label(
                    "kf_coverage", lang, threshold=st.fmt_number(threshold, lang), service=service
                ),
            )
        )
    rows += [
        ("demolished", lambda v: st.fmt_number(v, lang), st.label("kf_demolished", lang)),
        ("rebuilt", lambda v: st.fmt_number(v, lang), st.label("kf_rebuilt", lang)),
        ("received", lambda v: st.fmt_number(v, lang), st.label("kf_received", lang)),
        ("rehabilitated", lambda v: st.fmt_number(v, lang), st.label("kf_rehabilitated", lang)),
        ("desealed_m2", lambda v: st.fmt_area(v, lang), st.label("kf_desealed", lang)),
        ("trees", lambda v: st.fmt_number(v, lang), st.label("kf_trees", lang)),
    ]
    for col in kf.columns:
        if str(col).startswith("impervious_"):
            year = str(col).split("_", 1)[1]
            rows.append(
                (
                    col,
                    lambda v: st.fmt_percent(v, lang, 1),
                    st.label("kf_impervious", lang, year=year),
                )
            )
    if columns is not None:
        rows = [r for r in rows if r[0] in columns]
    return [r for r in rows if r[0] in kf.columns and kf[r[0]].notna().any()]


def _figures_table(
    kf: pd.DataFrame,
    lang: str,
    ids: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> str:
    sel = kf if ids is None else kf.loc[[i for i in ids if i in kf.index]]
    rows = _figure_rows(kf, lang, columns)
    head = "".join(f"<th>{escape_text(n)}</th>" for n in sel["name"])
    body = "".join(
        f"<tr><td>{escape_text(label)}</td>"
        + "".join(f"<td>{escape_text(fmt(v))}</td>" for v in sel[col])
        + "</tr>"
        for col, fmt, label in rows
    )
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


def _popup_figures(kf: pd.DataFrame, lang: str) -> dict[str, list[tuple[str, str]]]:
    rows = _figure_rows(kf, lang)
    return {
        str(qid): [(label, fmt(kf.at[qid, col])) for col, fmt, label in rows] for qid in kf.index
    }


def _safe_key_figures(t: Any, metrics: Mapping[str, Any], service: str) -> pd.DataFrame | None:
    if t.quartiers is None:
        return None
    return key_figures(t, metrics, service=service)


def _service_areas_for(metrics: Mapping[str, Any], service: str) -> gpd.GeoDataFrame | None:
    """Service areas of `service` among the computed ones (see :func:`prepare_metrics`)."""
    areas = metrics.get("service_areas")
    if (
        isinstance(areas, gpd.GeoDataFrame)
        and "kind" in areas.columns
        and (areas["kind"] == service).any()
    ):
        return areas
    return None


def _resolve_common(
    territory: Any,
    metrics: Mapping[str, Any] | None,
    lang: str,
    service: str,
    keys: Sequence[str],
) -> dict[str, Any]:
    st.check_lang(lang)
    _check_territory(territory)
    if metrics is not None and not isinstance(metrics, Mapping):
        raise CdvGeoError(
            f"metrics must be a dict of precomputed tables (e.g. {{'nearest': df}}), got "
            f"{type(metrics).__name__}"
        )
    return prepare_metrics(territory, metrics, services=(service,), keys=keys)


# --- the maps ------------------------------------------------------------------------------


def overview_map(
    territory: Any,
    *,
    metrics: Mapping[str, Any] | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
    service: str = "water_play_area",
) -> folium.Map:
    """Draw the territory at a glance: the quartiers, every layer, key figures per quartier.

    Parameters
    ----------
    territory : Territory
        The contrat de ville (see :class:`cdv_geo.Territory`).
    metrics : dict, optional
        Precomputed results (see :func:`cdv_geo.maps.prepare_metrics`); computed when absent.
    lang : {"fr", "en"}
        Language of every label.
    tiles : str or None, default "auto"
        Basemap: ``"auto"`` (Plan IGN in France, OpenStreetMap elsewhere), ``"plan_ign"``,
        any folium/xyzservices name or URL template; ``None`` for no basemap at all (fully
        offline).
    service : str
        Facility kind whose service areas and walking times are drawn.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = overview_map(cg.datasets.soissons(), tiles=None)
    >>> m._cdv_title
    "Contrat de ville — Soissons : vue d'ensemble"
    """
    m_ = _resolve_common(territory, metrics, lang, service, _OVERVIEW)
    t = territory
    kf = _safe_key_figures(t, m_, service)
    bounds, tol = _fit(t, _metric_bounds(t), 150.0)
    title = st.label("title_overview", lang, territory=t.name)
    b = _Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    b.add_notes(m_["notes"], _TOPICS)
    _common_layers(b, m_, kf, service=service, detail=False)
    panel = None
    if kf is not None:
        panel = (st.label("key_figures", lang), _figures_table(kf, lang))
    return b.finish(panel)


def _common_layers(
    b: _Builder,
    m_: dict[str, Any],
    kf: pd.DataFrame | None,
    *,
    service: str,
    detail: bool,
    area: BaseGeometry | None = None,
    highlight: str | None = None,
) -> None:
    """Add the layers of the overview (``detail=False``) or of a quartier map (``True``)."""
    t, lang, tol = b.t, b.lang, b.simplify_m
    crs = t.settings.crs
    figures = _popup_figures(kf, lang) if kf is not None else None
    if t.communes is not None:
        b.add("communes", communes_layer, simplify_m=max(tol, 1.0))
    latest = _latest_raster(t, "impervious")
    if latest is not None:
        name, year = latest
        b.add(name, raster_layer, t.rasters[name], theme="impervious", year=year, show=False)
    b.add("quartiers", quartiers_layer, figures=figures, highlight=highlight, simplify_m=tol)
    _add_service_areas(b, m_, service)
    for kind, build, kw in (
        ("green_spaces", green_spaces_layer, {"simplify_m": tol}),
        (
            "residences",
            residences_layer,
            {
                "nearest": _nearest_for(m_, service),
                "service": service,
                "simplify_m": tol,
                "show": detail,
            },
        ),
        ("desealed_areas", desealed_layer, {"simplify_m": tol}),
        ("renewal_sites", renewal_layer, {"simplify_m": tol}),
        ("tree_plantings", trees_layer, {"show": detail}),
        ("facilities", facilities_layer, {}),
    ):
        layer = getattr(t, kind)
        if layer is None:
            b.note("missing_layer", layer=kind)
            continue
        b.add(kind, build, _clip(layer, area, crs), **kw)


def _add_service_areas(b: _Builder, m_: dict[str, Any], service: str) -> None:
    areas = _service_areas_for(m_, service)
    if areas is not None:
        b.add("service_areas", service_areas_layer, areas, service=service, simplify_m=b.simplify_m)
    else:
        b.note("missing_layer", layer=st.value_label("kind", service, b.lang))


def _nearest_for(m_: Mapping[str, Any], service: str) -> pd.DataFrame | None:
    near = m_.get("nearest")
    if isinstance(near, pd.DataFrame) and f"{service}_time_min" in near.columns:
        return near
    return None


def _latest_raster(t: Any, prefix: str) -> tuple[str, str] | None:
    names = sorted(k for k in t.rasters if k.startswith(prefix) and Path(t.rasters[k]).exists())
    if not names:
        return None
    name = names[-1]
    return name, name.rsplit("_", 1)[-1]


def quartier_map(
    territory: Any,
    quartier: str,
    *,
    metrics: Mapping[str, Any] | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
    service: str = "water_play_area",
    margin_m: float = 300.0,
) -> folium.Map:
    """Zoom on one quartier: its services, renewal sites, renaturation and walking access.

    Features within `margin_m` of the quartier are shown, so that services just outside it
    (often the nearest ones) appear.

    Parameters
    ----------
    territory : Territory
    quartier : str
        Name or code of the quartier (accents and case ignored).
    metrics, lang, tiles, service
        As for :func:`overview_map`.
    margin_m : float
        Distance around the quartier within which features are shown.

    Raises
    ------
    CdvGeoError
        If no quartier has that name or code (the message lists the valid ones).

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = quartier_map(cg.datasets.soissons(), "presles", tiles=None, lang="en")
    >>> m._cdv_title
    'Quartier Presles (Soissons)'
    """
    m_ = _resolve_common(territory, metrics, lang, service, _OVERVIEW)
    t = territory
    row = t.quartier(quartier)
    qid = str(row["id"])
    crs = t.settings.crs
    geom = gpd.GeoSeries([row.geometry], crs=t.quartiers.crs).to_crs(crs).iloc[0]
    bounds, tol = _fit(t, tuple(geom.bounds), margin_m / 2)
    title = st.label("title_quartier", lang, quartier=row["name"], territory=t.name)
    b = _Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    b.add_notes(m_["notes"], _TOPICS)
    kf = _safe_key_figures(t, m_, service)
    _common_layers(
        b, m_, kf, service=service, detail=True, area=geom.buffer(margin_m), highlight=qid
    )
    panel = None
    if kf is not None:
        heading = f"{st.label('key_figures', lang)} — {row['name']}"
        panel = (heading, _figures_table(kf, lang, [qid]))
    return b.finish(panel)


def accessibility_map(
    territory: Any,
    *,
    service: str = "water_play_area",
    metrics: Mapping[str, Any] | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
) -> folium.Map:
    """Map walking access to one kind of facility: service areas and homes by walking time.

    The panel gives the share of residents within each walking-time threshold, per quartier.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = accessibility_map(cg.datasets.soissons(), service="health_centre", tiles=None)
    >>> m._cdv_title
    'Accès à pied : Maison de santé — Soissons'
    """
    from cdv_geo.schema import FACILITY_KINDS

    if service not in FACILITY_KINDS:
        raise CdvGeoError(
            f"service={service!r} is not a facility kind; use one of {', '.join(FACILITY_KINDS)}"
        )
    m_ = _resolve_common(territory, metrics, lang, service, _ACCESS)
    t = territory
    bounds, tol = _fit(t, _metric_bounds(t), 150.0)
    service_label = st.value_label("kind", service, lang)
    title = st.label("title_accessibility", lang, service=service_label, territory=t.name)
    b = _Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    b.add_notes(m_["notes"], ["access"])
    if t.communes is not None:
        b.add("communes", communes_layer, simplify_m=max(tol, 1.0))
    b.add("quartiers", quartiers_layer, simplify_m=tol)
    _add_service_areas(b, m_, service)
    b.add(
        "residences",
        residences_layer,
        nearest=_nearest_for(m_, service),
        service=service,
        simplify_m=tol,
    )
    fac = t.facilities
    if fac is not None and service in set(fac["kind"]):
        b.add(
            "facilities",
            facilities_layer,
            kinds=[service],
            key=f"facilities_{service}",
            title=service_label,
        )
        others = fac[fac["kind"] != service]
        b.add("facilities", facilities_layer, others if len(others) else None, show=False)
    panel = None
    cov = m_.get("coverage")
    if isinstance(cov, pd.DataFrame) and {"code", "kind", "share", "name"} <= set(cov.columns):
        rows = cov[cov["kind"] == service]
        if len(rows):
            panel = (st.label("key_figures", lang), _coverage_table(rows, lang, service_label))
    return b.finish(panel)


def _coverage_table(rows: pd.DataFrame, lang: str, service_label: str) -> str:
    thresholds = sorted(rows["threshold_min"].dropna().unique()) if "threshold_min" in rows else []
    head = "".join(
        f"<th>{escape_text(st.label('time_first', lang, hi=st.fmt_number(x, lang)))}</th>"
        for x in thresholds
    )
    body = []
    for code in dict.fromkeys(rows["code"]):
        sub = rows[rows["code"] == code]
        name = st.label("total", lang) if str(code) == "ALL" else sub["name"].iloc[0]
        cells = []
        for x in thresholds:
            share = sub.loc[sub["threshold_min"] == x, "share"]
            value = share.iloc[0] if len(share) else None
            cells.append(f"<td>{escape_text(st.fmt_percent(value, lang))}</td>")
        body.append(f"<tr><td>{escape_text(name)}</td>{''.join(cells)}</tr>")
    caption = f"{st.label('population', lang)} — {service_label}"
    return (
        f'<div class="cdv-note">{escape_text(caption)}</div>'
        f"<table><tr><th></th>{head}</tr>{''.join(body)}</table>"
    )


def renaturation_map(
    territory: Any,
    *,
    metrics: Mapping[str, Any] | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
) -> folium.Map:
    """Map de-sealed yards, tree plantings, green spaces and the imperviousness rasters.

    Imperviousness rasters (``impervious_<year>``) are drawn before/after with their change,
    and canopy rasters (``canopy_<year>``) can be switched on.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = renaturation_map(cg.datasets.soissons(), tiles=None)
    >>> m._cdv_title.startswith("Renaturation")
    True
    """
    m_ = _resolve_common(territory, metrics, lang, "water_play_area", _RENATURATION)
    t = territory
    bounds, tol = _fit(t, _metric_bounds(t), 150.0)
    title = st.label("title_renaturation", lang, territory=t.name)
    b = _Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    b.add_notes(m_["notes"], ["renaturation"])
    if t.communes is not None:
        b.add("communes", communes_layer, simplify_m=max(tol, 1.0))
    imp = sorted(k for k in t.rasters if k.startswith("impervious"))
    for i, name in enumerate(imp):
        year = name.rsplit("_", 1)[-1]
        b.add(
            name,
            raster_layer,
            t.rasters[name],
            theme="impervious",
            year=year,
            key=f"raster_{name}",
            show=i == len(imp) - 1,
        )
    if len(imp) >= 2:
        years = (imp[0].rsplit("_", 1)[-1], imp[-1].rsplit("_", 1)[-1])
        b.add(
            "impervious_change",
            raster_change_layer,
            t.rasters[imp[0]],
            after=t.rasters[imp[-1]],
            years=years,
            show=False,
        )
    for name in sorted(k for k in t.rasters if k.startswith("canopy")):
        b.add(
            name,
            raster_layer,
            t.rasters[name],
            theme="canopy",
            year=name.rsplit("_", 1)[-1],
            key=f"raster_{name}",
            show=False,
        )
    if not imp:
        b.note("missing_raster", name="impervious_<year>")
    b.add("quartiers", quartiers_layer, simplify_m=tol)
    b.add("green_spaces", green_spaces_layer, simplify_m=tol)
    b.add("desealed_areas", desealed_layer, simplify_m=tol)
    b.add("tree_plantings", trees_layer)
    kf = _safe_key_figures(t, m_, "water_play_area")
    panel = None
    if kf is not None:
        cols = ["population", "desealed_m2", "trees"]
        cols += [c for c in kf.columns if str(c).startswith("impervious_")]
        panel = (st.label("key_figures", lang), _figures_table(kf, lang, columns=cols))
    return b.finish(panel)


def renewal_map(
    territory: Any,
    *,
    metrics: Mapping[str, Any] | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
) -> folium.Map:
    """Map the NPNRU programme: operations by kind and progress, with the dwelling balance.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = renewal_map(cg.datasets.soissons(), tiles=None, lang="en")
    >>> m._cdv_title
    'Urban renewal (NPNRU) — Soissons'
    """
    m_ = _resolve_common(territory, metrics, lang, "water_play_area", ("renewal_balance",))
    t = territory
    bounds, tol = _fit(t, _metric_bounds(t), 150.0)
    title = st.label("title_renewal", lang, territory=t.name)
    b = _Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    b.add_notes(m_["notes"], ["renewal"])
    if t.communes is not None:
        b.add("communes", communes_layer, simplify_m=max(tol, 1.0))
    b.add("quartiers", quartiers_layer, simplify_m=tol)
    b.add("residences", residences_layer, simplify_m=tol, show=False)
    b.add("renewal_sites", renewal_layer, simplify_m=tol)
    panel = None
    rb = m_.get("renewal_balance")
    if isinstance(rb, pd.DataFrame) and "demolished" in rb.columns:
        panel = (st.label("key_figures", lang), _balance_table(rb, lang))
    return b.finish(panel)


def _balance_table(rb: pd.DataFrame, lang: str) -> str:
    cols = [
        ("demolished", "kf_demolished"),
        ("rebuilt", "kf_rebuilt"),
        ("received", "kf_received"),
        ("rehabilitated", "kf_rehabilitated"),
        ("net_change", "kf_net_change"),
    ]
    cols = [(c, k) for c, k in cols if c in rb.columns]
    names = rb["name"] if "name" in rb.columns else pd.Series(rb.index, index=rb.index)
    heads = [
        st.label("kf_programme", lang) if str(i) == "programme" else n
        for i, n in zip(rb.index, names, strict=True)
    ]
    head = "".join(f"<th>{escape_text(n)}</th>" for n in heads)
    body = "".join(
        f"<tr><td>{escape_text(st.label(k, lang))}</td>"
        + "".join(f"<td>{escape_text(st.fmt_number(v, lang))}</td>" for v in rb[c])
        + "</tr>"
        for c, k in cols
    )
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


_UNITS = {
    "EUR": ("€", "€"),
    "fraction": ("%", "%"),
    "per_10000": ("pour 10 000", "per 10,000"),
}
_DECIMALS = {"EUR": 0, "index": 3, "ratio": 2}


def _indicator_specs() -> dict[str, Any]:
    try:
        import importlib

        return dict(importlib.import_module("cdv_geo.metrics.indicators").INDICATORS)
    except (ImportError, AttributeError):
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


def indicators_map(
    territory: Any,
    *,
    indicators: Sequence[str] | None = None,
    year: int | None = None,
    metrics: Mapping[str, Any] | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
) -> folium.Map:
    """Map socio-economic indicators per quartier (one togglable choropleth each).

    Each legend states the indicator's unit, year and source, and the commune's value when the
    table has it. Reds when a high value is a concern, blues when it is good.

    Parameters
    ----------
    territory : Territory
        With a ``quartiers`` layer and an ``indicators`` table (or ``metrics["indicators"]``).
    indicators : sequence of str, optional
        Indicator names (see ``cdv_geo.metrics.indicators.INDICATORS``); all those with values for the
        quartiers by default. The first is shown, the others can be switched on.
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
    m_ = _resolve_common(territory, metrics, lang, "water_play_area", ("indicators",))
    t = territory
    bounds, tol = _fit(t, _metric_bounds(t), 150.0)
    title = st.label("title_indicators", lang, territory=t.name)
    b = _Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    b.add_notes(m_["notes"], ["indicators"])
    if t.communes is not None:
        b.add("communes", communes_layer, simplify_m=max(tol, 1.0))
    table = m_.get("indicators")
    if not isinstance(table, pd.DataFrame) or table.empty or t.quartiers is None:
        b.note("indicators_none")
        b.add("quartiers", quartiers_layer, simplify_m=tol)
        return b.finish()
    specs = _indicator_specs()
    qnames = dict(zip(t.quartiers["code"].astype(str), t.quartiers["name"], strict=True))
    commune_codes = set(t.communes["code"].astype(str)) if t.communes is not None else set()
    q_rows = table[table["code"].astype(str).isin(set(qnames))]
    names = list(dict.fromkeys(q_rows["indicator"])) if indicators is None else list(indicators)
    panel_rows: list[tuple[str, int | None, pd.Series, str, int]] = []
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
            shown = st.fmt_number(ref_values.iloc[0] * factor, lang, decimals)
            ref = st.label("commune_value", lang, value=f"{shown} {unit_txt}".strip())
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
    panel = None
    if panel_rows:
        head = "".join(f"<th>{escape_text(n)}</th>" for n in qnames.values())
        body = []
        for label, yr, values, unit_txt, decimals in panel_rows:
            cells = []
            for code in qnames:
                v = values.get(code)
                text = st.fmt_number(v, lang, decimals)
                if unit_txt and v is not None and pd.notna(v):
                    text = f"{text} {unit_txt}"
                cells.append(f"<td>{escape_text(text)}</td>")
            when = f" ({yr})" if yr else ""
            body.append(f"<tr><td>{escape_text(label + when)}</td>{''.join(cells)}</tr>")
        table_html = f"<table><tr><th></th>{head}</tr>{''.join(body)}</table>"
        panel = (st.label("key_figures", lang), table_html)
    return b.finish(panel)


def _slug(text: str) -> str:
    from cdv_geo.schema import normalize_token

    return normalize_token(text)[:40].strip("_").replace("_", "-") or "quartier"


def build_committee_maps(
    territory: Any,
    out_dir: str | os.PathLike[str],
    *,
    metrics: Mapping[str, Any] | None = None,
    lang: str = "fr",
    assets: Literal["cdn", "inline"] = "cdn",
    asset_dir: AssetDir = None,
    tiles: Tiles = DEFAULT_TILES,
    service: str = "water_play_area",
    progress: Callable[[Iterable[Any], str], Iterable[Any]] | None = None,
) -> dict[str, Path]:
    """Write every committee map of a territory into `out_dir`.

    The metrics are computed once and shared by all maps. Files: ``overview.html``,
    ``quartier_<name>.html`` (one per quartier), ``accessibility.html``,
    ``renaturation.html``, ``renewal.html``, ``indicators.html``.

    Parameters
    ----------
    territory : Territory
    out_dir : path
        Folder (created if needed).
    metrics : dict, optional
        Precomputed results (see :func:`prepare_metrics`).
    lang : {"fr", "en"}
    assets : {"cdn", "inline"}
        See :func:`cdv_geo.maps.save_map`. Inline assets are checked before anything is
        written.
    asset_dir : path, optional
        Folder of the assets for ``assets="inline"``.
    tiles : str or None
        Basemap; ``None`` for none.
    service : str
        Facility kind of the walking-access layers.
    progress : callable, optional
        ``progress(iterable, description)`` wrapping the map builds (the CLI's progress bar).

    Returns
    -------
    dict of str to pathlib.Path
        Map name -> file written, in reading order (overview first).

    Examples
    --------
    >>> import cdv_geo as cg, tempfile
    >>> files = build_committee_maps(cg.datasets.soissons(), tempfile.mkdtemp(), tiles=None)
    >>> list(files)[:2], len(files)
    (['overview', 'quartier_saint-crepin'], 8)
    """
    t = territory
    st.check_lang(lang)
    _check_territory(t)
    shared = prepare_metrics(t, metrics, services=(service,))
    makers: list[tuple[str, Callable[[], folium.Map]]] = [
        (
            "overview",
            lambda: overview_map(t, metrics=shared, lang=lang, tiles=tiles, service=service),
        )
    ]
    if t.quartiers is not None:
        used: set[str] = set()
        for _, row in t.quartiers.iterrows():
            slug = _slug(str(row["name"]))
            if slug in used:
                slug = f"{slug}-{_slug(str(row['code']))}"
            used.add(slug)
            makers.append(
                (
                    f"quartier_{slug}",
                    partial(
                        quartier_map,
                        t,
                        str(row["code"]),
                        metrics=shared,
                        lang=lang,
                        tiles=tiles,
                        service=service,
                    ),
                )
            )
    makers += [
        (
            "accessibility",
            lambda: accessibility_map(t, service=service, metrics=shared, lang=lang, tiles=tiles),
        ),
        ("renaturation", lambda: renaturation_map(t, metrics=shared, lang=lang, tiles=tiles)),
        ("renewal", lambda: renewal_map(t, metrics=shared, lang=lang, tiles=tiles)),
        ("indicators", lambda: indicators_map(t, metrics=shared, lang=lang, tiles=tiles)),
    ]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps = progress(makers, "maps") if progress is not None else makers
    built = [(name, make()) for name, make in steps]
    if assets == "inline":
        # Fail before writing anything when an asset is missing: no half-built bundle.
        from cdv_geo.maps.html import render_html

        texts = {name: render_html(m, assets="inline", asset_dir=asset_dir) for name, m in built}
        from cdv_geo.io import atomic_path

        files = {}
        for name, text in texts.items():
            with atomic_path(out / f"{name}.html") as tmp:
                tmp.write_text(text, encoding="utf-8")
            files[name] = out / f"{name}.html"
        return files
    return {name: save_map(m, out / f"{name}.html", assets=assets) for name, m in built}
