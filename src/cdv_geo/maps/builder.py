"""How a committee map is assembled: the metrics it reads, its layers, and what it leaves out.

A map always builds when something is absent: a layer absent from the territory, or a metric
whose inputs are absent (a :class:`cdv_geo.pipeline.Note` says so), is left out and listed under
"Couches non affichées". Bad data raises a :class:`~cdv_geo.CdvGeoError`.

Maps never compute a metric: they read a :class:`cdv_geo.pipeline.Metrics`, computed by
:func:`cdv_geo.pipeline.compute_metrics` with just what the map draws when none is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
from branca.element import Element, Figure
from folium.plugins import GroupedLayerControl
from folium.template import Template
from shapely.geometry.base import BaseGeometry

from cdv_geo.core import labels as lb
from cdv_geo.core.crs import require_crs
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.maps.assets import ASSETS
from cdv_geo.maps.furniture import FitAroundControls, Legend, Panel, Tiles, base_map
from cdv_geo.maps.html import escape_text, js_json
from cdv_geo.maps.runtime import MapLayer
from cdv_geo.pipeline import Metrics, Note, compute_metrics

__all__ = [
    "LAYER",
    "Builder",
    "GroupedLayers",
    "LayerGroup",
    "check_territory",
    "clip",
    "ensure_metrics",
    "latest_raster",
    "note_text",
]

#: "The territory layer of that kind": the default data of :meth:`Builder.add`.
LAYER: Any = object()


def check_territory(t: Any) -> None:
    """Raise on what no map can be drawn from: no layer at all, a layer without CRS."""
    layers = t.layers() if hasattr(t, "layers") else {}
    if not layers:
        raise CdvGeoError(
            f"territory {getattr(t, 'name', '')!r} has no layer to map; add layers under "
            "[layers] in the project file (at least quartiers), or pass them to Territory(...)"
        )
    for kind, gdf in layers.items():
        require_crs(gdf, kind)


def ensure_metrics(
    territory: Any, metrics: Metrics | None, only: Iterable[str], service: str
) -> Metrics:
    """Return `metrics`, or compute with :func:`~cdv_geo.pipeline.compute_metrics` what a map draws.

    `only` names the outputs the map reads (see ``compute_metrics(only=...)``); `service` is the
    facility kind whose service areas are drawn. Given metrics are used as they are: an output
    they lack is simply not drawn.
    """
    if metrics is None:
        return compute_metrics(
            territory, only=list(only), service_kinds=(service,), breakdown=False
        )
    if not isinstance(metrics, Metrics):
        raise CdvGeoError(
            "metrics must be a cdv_geo.pipeline.Metrics (the result of "
            f"cdv_geo.compute_metrics(territory)), got {type(metrics).__name__}"
        )
    return metrics


def note_text(note: Note, lang: str) -> str:
    """Return a note in `lang`: its label when it has one, else its English text.

    Examples
    --------
    >>> note_text(Note("missing_layer", "access", "no residences", {"layer": "residences"}), "fr")
    'couche « residences » absente du territoire'
    """
    if note.key in lb.LABELS:
        try:
            return lb.label(note.key, lang, **note.args)
        except (KeyError, IndexError):  # a label argument missing: fall back on the text
            pass
    return note.text


def clip(gdf: gpd.GeoDataFrame | None, area: BaseGeometry | None, crs: Any) -> Any:
    """Return the features of `gdf` that touch `area` (whole, not cut; None when none do).

    This selects what a map *shows* around a quartier; which quartier a feature belongs to
    is decided by :func:`cdv_geo.core.assign.assign_quartier`, in the metrics.
    """
    if gdf is None or area is None:
        return gdf
    mask = gdf.to_crs(crs).intersects(area).to_numpy()
    out = gdf[mask]
    return out if len(out) else None


def latest_raster(t: Any, prefix: str) -> tuple[str, str] | None:
    """Return the name and year of the latest raster ``<prefix>_<year>`` of the territory."""
    names = sorted(k for k in t.rasters if k.startswith(prefix) and Path(t.rasters[k]).exists())
    if not names:
        return None
    name = names[-1]
    return name, name.rsplit("_", 1)[-1]


@dataclass(frozen=True)
class LayerGroup:
    """One heading of the grouped layer control (:class:`GroupedLayers`) and its layers.

    Parameters
    ----------
    title : str
        The heading, in the reader's words (plain text; escaped when written).
    entries : sequence of (str, MapLayer)
        Each layer (a :class:`~cdv_geo.maps.runtime.MapLayer`, or any folium feature group)
        with its name under the heading (plain text), in order.
    exclusive : bool, default False
        Radio buttons: one layer of the group at a time, plus a last entry "show none" (for
        layers that repeat the same features, which would hide each other). Otherwise
        checkboxes.

    Examples
    --------
    >>> g = LayerGroup("Capacité", [("Crèches", MapLayer("access_childcare", "Crèches"))])
    >>> g.exclusive, [name for name, _ in g.entries]
    (False, ['Crèches'])
    """

    title: str
    entries: Sequence[tuple[str, folium.FeatureGroup]]
    exclusive: bool = False


#: Folding of the groups' headings, kept across the control's redraws (it redraws its list
#: on every layer change); and, for `linked` exclusive groups, choosing a layer in one sets
#: the others to "show none" (their layers repeat the same features).
_GROUPED_JS = """
(function () {
  var map = {{ this._parent.get_name() }};
  var ctl = L.control.groupedLayers(null, {{ this.groups_js }}, {{ this.options_js }});
  var folded = {{ this.folded }}, linked = {{ this.linked }}, foldTitle = {{ this.fold_title }};
  var none = {{ this.none_js }};
  function applyFold(div, head, name) {
    var open = folded.indexOf(name) < 0;
    L.DomUtil[open ? 'removeClass' : 'addClass'](div, 'cdv-folded');
    head.setAttribute('aria-expanded', open ? 'true' : 'false');
  }
  var update = ctl._update;
  ctl._update = function () {
    update.call(this);
    var self = this;
    this._domGroups.forEach(function (div, id) {
      var name = self._groupList[id], head = div && div.firstChild;
      if (!head) return;
      head.setAttribute('role', 'button');
      head.setAttribute('tabindex', '0');
      head.title = foldTitle;
      function toggle(e) {
        L.DomEvent.preventDefault(e);
        var i = folded.indexOf(name);
        if (i < 0) folded.push(name); else folded.splice(i, 1);
        applyFold(div, head, name);
      }
      L.DomEvent.on(head, 'click', toggle);
      L.DomEvent.on(head, 'keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') toggle(e);
      });
      applyFold(div, head, name);
    });
  };
  var click = ctl._onInputClick;
  ctl._onInputClick = function (e) {
    var input = e && e.target, group = input ? this._groupList[input.groupID] : null;
    if (input && input.type === 'radio' && linked.indexOf(group) >= 0 && none[group]
        && input.checked && input.layerId !== L.stamp(none[group])) {
      var inputs = this._form.getElementsByTagName('input');
      for (var k = 0; k < inputs.length; k++) {
        var other = this._groupList[inputs[k].groupID];
        if (other !== group && linked.indexOf(other) >= 0 && none[other]) {
          inputs[k].checked = inputs[k].layerId === L.stamp(none[other]);
        }
      }
    }
    return click.call(this, e);
  };
  ctl.addTo(map);
  L.DomUtil.addClass(ctl.getContainer(), 'cdv-groups');
})();
"""

#: The grouped control scrolls rather than push the map off screen; a folded group shows its
#: heading only (with a triangle saying it opens).
_GROUPED_CSS = """<style>
.cdv-groups .leaflet-control-layers-list { max-height: 44vh; overflow-y: auto; }
.cdv-groups .leaflet-control-layers-group-label { display: block; cursor: pointer; }
.cdv-groups .leaflet-control-layers-group-name { margin-left: 0; }
.cdv-groups .leaflet-control-layers-group-name::before { content: "\\25BE\\00A0";
  display: inline-block; width: 1em; }
.cdv-groups .cdv-folded .leaflet-control-layers-group-name::before { content: "\\25B8\\00A0"; }
.cdv-groups .leaflet-control-layers-group > label:not(.leaflet-control-layers-group-label) {
  display: block; margin-left: 1em; font-size: 12px; line-height: 17px; }
.cdv-groups .leaflet-control-layers-selector { margin: 0 4px 0 0; top: 2px; }
.cdv-groups .cdv-folded > label:not(.leaflet-control-layers-group-label) { display: none; }
.cdv-groups .leaflet-control-layers-group { margin-bottom: .35em; }
</style>"""


class GroupedLayers(GroupedLayerControl):
    """folium's grouped layer control, with the house's pinned assets, in the reader's words.

    Every heading and entry is escaped text; a group's layers keep their own ``show``. A long
    group (more than `fold_above` entries) none of whose layers is on when the map opens
    starts folded; a click on any heading folds or unfolds it. The `linked` exclusive groups
    exclude one another: choosing a layer in one sets the others to "show none".

    Use it through :meth:`Builder.finish` (``groups=...``), which adds the "show none" layers
    (empty feature groups, last of each exclusive group, given as `none_layers`).
    """

    _template = Template("{% macro script(this, kwargs) %}" + _GROUPED_JS + "{% endmacro %}")

    def __init__(
        self,
        groups: Sequence[LayerGroup],
        *,
        lang: str,
        none_layers: Sequence[folium.FeatureGroup] = (),
        linked: bool = False,
        fold_above: int = 6,
        position: str = "topright",
    ) -> None:
        titles = _unique([escape_text(g.title) for g in groups])
        super().__init__(
            {t: [layer for _, layer in g.entries] for t, g in zip(titles, groups, strict=True)},
            exclusive_groups=False,
            position=position,
            collapsed=False,
        )
        self._name = "CdvGroupedLayers"
        # the pinned npm files (served like every other asset), not folium's cdnjs links
        self.default_js = [("groupedlayers_js", ASSETS["groupedlayers_js"].url)]
        self.default_css = [("groupedlayers_css", ASSETS["groupedlayers_css"].url)]
        exclusive = [t for t, g in zip(titles, groups, strict=True) if g.exclusive]
        nones = list(none_layers)
        # heading -> its "show none" layer
        none = {
            t: layer
            for t, g in zip(titles, groups, strict=True)
            for _, layer in g.entries
            if any(layer is x for x in nones)
        }
        parts = []
        for t, g in zip(titles, groups, strict=True):
            names = _unique([escape_text(n) for n, _ in g.entries])
            items = [
                f"{js_json(n)}: {layer.get_name()}"
                for n, (_, layer) in zip(names, g.entries, strict=True)
            ]
            parts.append(f"{js_json(t)}: {{{', '.join(items)}}}")
        self.groups_js = "{" + ", ".join(parts) + "}"
        self.options_js = js_json({**self.options, "exclusiveGroups": exclusive})
        self.none_js = (
            "{" + ", ".join(f"{js_json(k)}: {v.get_name()}" for k, v in none.items()) + "}"
        )
        self.linked = js_json(exclusive if linked else [])
        self.folded = js_json(
            [
                t
                for t, g in zip(titles, groups, strict=True)
                if len(g.entries) > fold_above
                and not any(layer.show for _, layer in g.entries if layer not in none.values())
            ]
        )
        self.fold_title = js_json(lb.label("group_fold", lang))

    def render(self, **kwargs: Any) -> Any:
        """Add the control's stylesheet to the page header, then render."""
        figure = self.get_root()
        if isinstance(figure, Figure) and "cdv_groups_css" not in figure.header._children:
            figure.header.add_child(Element(_GROUPED_CSS), name="cdv_groups_css")
        return super().render(**kwargs)


def _unique(names: Sequence[str]) -> list[str]:
    """Return `names` with a repeated one numbered (`a`, `a (2)`): keys of one JS object.

    Examples
    --------
    >>> _unique(["a", "b", "a"])
    ['a', 'b', 'a (2)']
    """
    out: list[str] = []
    for n in names:
        k, i = n, 1
        while k in out:
            i += 1
            k = f"{n} ({i})"
        out.append(k)
    return out


class Builder:
    """Collects layers and notes, then finishes the map (layer control, legend, panel)."""

    def __init__(self, t: Any, m: folium.Map, lang: str, simplify_m: float) -> None:
        self.t = t
        self.m = m
        self.lang = lang
        self.simplify_m = simplify_m
        self.layers: list[MapLayer] = []
        self.notes: list[str] = []

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
    ) -> Builder:
        """Start a map of `t` (see :func:`cdv_geo.maps.furniture.base_map`)."""
        m = base_map(t, title=title, lang=lang, tiles=tiles, bounds=bounds, simplify_m=tol)
        return cls(t, m, lang, tol)

    def note(self, key: str, **fmt: Any) -> None:
        """Add the note of label `key` (once)."""
        self.text(lb.label(key, self.lang, **fmt))

    def text(self, text: str) -> None:
        """Add a note (once)."""
        if text not in self.notes:
            self.notes.append(text)

    def add_notes(self, metrics: Metrics, topics: Sequence[str]) -> None:
        """Add the notes of `metrics` on `topics` that say what is missing."""
        for n in metrics.notes_on(*topics):
            if n.key.startswith("missing_"):
                self.text(note_text(n, self.lang))

    def add(
        self, kind: str, build: Callable[..., MapLayer], data: Any = LAYER, /, **kw: Any
    ) -> MapLayer | None:
        """Build and add a layer; note why when it cannot be drawn, and go on.

        `data` is the builder's first argument: by default the territory layer `kind`. A
        territory without that layer gives a note; ``None`` data (nothing in the area shown)
        gives nothing.
        """
        if data is LAYER:
            data = getattr(self.t, kind, None)
            if data is None:
                self.note("missing_layer", layer=kind)
                return None
        if data is None:
            return None
        try:
            layer = build(data, lang=self.lang, **kw)
        except CdvGeoError as exc:
            self.text(f"{kind}: {exc}")
            return None
        layer.add_to(self.m)
        self.layers.append(layer)
        return layer

    def finish(
        self,
        panel: tuple[str, str] | None = None,
        *,
        panel_open: bool = True,
        groups: Sequence[LayerGroup] | None = None,
        linked: bool = False,
    ) -> folium.Map:
        """Add the panel, the layer control and the legend, fit the view; return the map.

        `panel` is (title, HTML body). The view is fitted around the controls (see
        :class:`~cdv_geo.maps.furniture.FitAroundControls`).

        With `groups`, the layer control lists the layers under their groups' headings
        (:class:`GroupedLayers`); the layers in no group come last, under "Autres couches".
        An exclusive group shows at most one layer when the map opens (its first shown; with
        `linked`, the first shown of all the exclusive groups) and gets a "show none" entry.
        """
        if panel is not None:
            Panel(panel[0], panel[1], open_=panel_open).add_to(self.m)
        if groups is None:
            folium.LayerControl(position="topright", collapsed=False).add_to(self.m)
        else:
            self._grouped_control(list(groups), linked)
        Legend(self.layers, self.notes, self.lang).add_to(self.m)
        bounds = getattr(self.m, "_cdv_bounds", None)
        if bounds is not None:
            FitAroundControls(bounds).add_to(self.m)
        return self.m

    def _grouped_control(self, groups: list[LayerGroup], linked: bool) -> None:
        """Add the grouped layer control (see :meth:`finish`)."""
        listed = {id(layer) for g in groups for _, layer in g.entries}
        rest = [(layer.title, layer) for layer in self.layers if id(layer) not in listed]
        if rest:
            groups.append(LayerGroup(lb.label("group_other", self.lang), rest))
        none_name = lb.label("group_none", self.lang)
        shown_once = False
        out, nones = [], []
        for g in groups:
            if not g.exclusive or not g.entries:
                out.append(g)
                continue
            shown = False
            for _, layer in g.entries:
                # one layer on at a time: the first shown (of all linked groups when linked)
                layer.show = bool(layer.show) and not shown and not (linked and shown_once)
                shown = shown or layer.show
            shown_once = shown_once or shown
            empty = folium.FeatureGroup(name=none_name, overlay=True, control=False, show=not shown)
            empty.add_to(self.m)
            nones.append(empty)
            out.append(LayerGroup(g.title, [*g.entries, (none_name, empty)], exclusive=True))
        GroupedLayers(out, lang=self.lang, none_layers=nones, linked=linked).add_to(self.m)
