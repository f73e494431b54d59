"""How a committee map is assembled: the metrics it reads, its layers, and what it leaves out.

A map always builds when something is absent: a layer absent from the territory, or a metric
whose inputs are absent (a :class:`cdv_geo.pipeline.Note` says so), is left out and listed under
"Couches non affichées". Bad data raises a :class:`~cdv_geo.CdvGeoError`.

Maps never compute a metric: they read a :class:`cdv_geo.pipeline.Metrics`, computed by
:func:`cdv_geo.pipeline.compute_metrics` with just what the map draws when none is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from cdv_geo.core import labels as lb
from cdv_geo.core.crs import require_crs
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.maps.furniture import FitAroundControls, Legend, Panel, Tiles, base_map
from cdv_geo.maps.runtime import MapLayer
from cdv_geo.pipeline import Metrics, Note, compute_metrics

__all__ = [
    "LAYER",
    "Builder",
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
        self, panel: tuple[str, str] | None = None, *, panel_open: bool = True
    ) -> folium.Map:
        """Add the panel, the layer control and the legend, fit the view; return the map.

        `panel` is (title, HTML body). The view is fitted around the controls (see
        :class:`~cdv_geo.maps.furniture.FitAroundControls`).
        """
        if panel is not None:
            Panel(panel[0], panel[1], open_=panel_open).add_to(self.m)
        folium.LayerControl(position="topright", collapsed=False).add_to(self.m)
        Legend(self.layers, self.notes, self.lang).add_to(self.m)
        bounds = getattr(self.m, "_cdv_bounds", None)
        if bounds is not None:
            FitAroundControls(bounds).add_to(self.m)
        return self.m
