"""The overview of the territory and the map of each quartier."""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from cdv_geo.core import labels as lb
from cdv_geo.core.layers import quartier_codes
from cdv_geo.maps.builder import Builder, check_territory, clip, ensure_metrics, latest_raster
from cdv_geo.maps.furniture import DEFAULT_TILES, Tiles, fit_bounds, metric_bounds
from cdv_geo.maps.layers import (
    communes_layer,
    desealed_layer,
    facilities_layer,
    green_spaces_layer,
    quartiers_layer,
    raster_layer,
    renewal_layer,
    residences_layer,
    service_areas_layer,
    trees_layer,
)
from cdv_geo.pipeline import Metrics
from cdv_geo.views.panels import figures_table, popup_figures, with_coverage
from cdv_geo.views.services import primary_service
from cdv_geo.views.titles import map_title, quartier_display_name, quartier_title, territory_name

__all__ = [
    "OVERVIEW_OUTPUTS",
    "TOPICS",
    "add_service_areas",
    "common_layers",
    "nearest_for",
    "overview_map",
    "quartier_map",
    "shown_figures",
]

#: The notes shown on the overview and the quartier maps (topics of :class:`~cdv_geo.Note`).
TOPICS = ("access", "renewal", "renaturation", "key_figures")
#: What the overview and quartier maps read (``compute_metrics(only=...)``).
OVERVIEW_OUTPUTS = ("key_figures", "nearest", "service_areas")


def nearest_for(m: Metrics, service: str) -> pd.DataFrame | None:
    """Return the ``nearest`` table when it has the walking times to `service`."""
    near = m.nearest
    if near is not None and f"{service}_time_min" in near.columns:
        return near
    return None


def add_service_areas(b: Builder, m: Metrics, service: str) -> None:
    """Add the service areas of `service`, or a note saying they are missing."""
    areas = m.service_areas
    if areas is not None and "kind" in areas.columns and (areas["kind"] == service).any():
        b.add("service_areas", service_areas_layer, areas, service=service, simplify_m=b.simplify_m)
    elif b.t.facilities is not None:  # (no facilities at all: that layer's own note says it)
        b.note("missing_layer", layer=lb.value_label("kind", service, b.lang))


def shown_figures(m: Metrics, service: str) -> pd.DataFrame | None:
    """Return the key figures a map shows: with the walking coverage of `service`."""
    if m.key_figures is None:
        return None
    return with_coverage(m.key_figures, m.coverage, [service])


def common_layers(
    b: Builder,
    m: Metrics,
    *,
    service: str,
    detail: bool,
    area: BaseGeometry | None = None,
    highlight: str | None = None,
) -> None:
    """Add the layers of the overview (``detail=False``) or of a quartier map (``True``)."""
    t, lang, tol = b.t, b.lang, b.simplify_m
    crs = t.settings.crs
    kf = shown_figures(m, service)
    figures = popup_figures(kf, lang) if kf is not None else None
    if t.communes is not None:
        b.add("communes", communes_layer, simplify_m=max(tol, 1.0))
    latest = latest_raster(t, "impervious")
    if latest is not None:
        name, year = latest
        b.add(name, raster_layer, t.rasters[name], theme="impervious", year=year, show=False)
    b.add("quartiers", quartiers_layer, figures=figures, highlight=highlight, simplify_m=tol)
    add_service_areas(b, m, service)
    nearest = nearest_for(m, service)
    layers: list[tuple[str, Any, dict[str, Any]]] = [
        ("green_spaces", green_spaces_layer, {"simplify_m": tol}),
        (
            "residences",
            residences_layer,
            {"nearest": nearest, "service": service, "simplify_m": tol, "show": detail},
        ),
        ("desealed_areas", desealed_layer, {"simplify_m": tol}),
        ("renewal_sites", renewal_layer, {"simplify_m": tol}),
        ("tree_plantings", trees_layer, {"show": detail}),
        ("facilities", facilities_layer, {}),
    ]
    for kind, build, kw in layers:
        layer = getattr(t, kind)
        if layer is None:
            b.note("missing_layer", layer=kind)
            continue
        b.add(kind, build, clip(layer, area, crs), **kw)


def overview_map(
    territory: Any,
    *,
    metrics: Metrics | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
    service: str | None = None,
) -> folium.Map:
    """Draw the territory at a glance: the quartiers, every layer, key figures per quartier.

    Parameters
    ----------
    territory : Territory
        The contrat de ville (see :class:`cdv_geo.Territory`).
    metrics : Metrics, optional
        The metric results (:func:`cdv_geo.compute_metrics`); when omitted, those the map
        draws are computed.
    lang : {"fr", "en"}
        Language of every label.
    tiles : str or None, default "auto"
        Basemap: ``"auto"`` (Plan IGN in France, OpenStreetMap elsewhere), ``"plan_ign"``,
        any folium/xyzservices name or URL template; ``None`` for no basemap at all (fully
        offline).
    service : str, optional
        Facility kind whose service areas and walking times are drawn (default: the first
        kind of the facilities, see :func:`~cdv_geo.views.services.primary_service`).

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
    lb.check_lang(lang)
    check_territory(territory)
    service = primary_service(territory, service)
    m = ensure_metrics(territory, metrics, OVERVIEW_OUTPUTS, service)
    t = territory
    bounds, tol = fit_bounds(t, metric_bounds(t), 150.0)
    title = map_title("overview", t, lang)
    b = Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    b.add_notes(m, TOPICS)
    common_layers(b, m, service=service, detail=False)
    panel = None
    kf = shown_figures(m, service)
    if kf is not None:
        panel = (lb.label("key_figures", lang), figures_table(kf, lang, town=territory_name(t)))
    return b.finish(panel)


def quartier_map(
    territory: Any,
    quartier: str,
    *,
    metrics: Metrics | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
    service: str | None = None,
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
    lb.check_lang(lang)
    check_territory(territory)
    t = territory
    row = t.quartier(quartier)
    code = str(quartier_codes(pd.DataFrame([row]))[0])
    service = primary_service(t, service)
    m = ensure_metrics(territory, metrics, OVERVIEW_OUTPUTS, service)
    crs = t.settings.crs
    geom = gpd.GeoSeries([row.geometry], crs=t.quartiers.crs).to_crs(crs).iloc[0]
    bounds, tol = fit_bounds(t, tuple(geom.bounds), margin_m / 2)
    shown = quartier_display_name(t.quartiers, code)
    title = quartier_title(shown, territory_name(t), lang)
    b = Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    b.add_notes(m, TOPICS)
    common_layers(b, m, service=service, detail=True, area=geom.buffer(margin_m), highlight=code)
    panel = None
    kf = shown_figures(m, service)
    if kf is not None:
        heading = f"{lb.label('key_figures', lang)} — {shown}"
        panel = (heading, figures_table(kf, lang, [code], town=territory_name(t)))
    return b.finish(panel)
