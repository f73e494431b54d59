"""The services map: capacity and opening hours within walking reach, and the shopping catchments.

One map per territory (issue 25): for each kind of service, the homes coloured by the capacity
within walking reach per 10,000 residents (the floating catchment of the DREES APL) and by the
weekly hours when one is open within reach, one layer each, selectable; then the commercial
centres' catchments (each home coloured by its most probable centre, Huff model) and the
centres themselves, circles sized by the residents they draw. The panel gives, for the first
kind, its capacity and hours per quartier, the town outside the QPV and the whole town.
"""

from __future__ import annotations

from typing import Any

import folium

from cdv_geo.core import labels as lb
from cdv_geo.core.tables import quartier_names
from cdv_geo.maps.builder import Builder, LayerGroup, check_territory, ensure_metrics
from cdv_geo.maps.furniture import DEFAULT_TILES, Tiles, fit_bounds, metric_bounds
from cdv_geo.maps.layers import POINT_MIN_HOMES, communes_layer, facilities_layer, quartiers_layer
from cdv_geo.maps.layers_services import (
    capacity_layer,
    catchments_layer,
    centres_layer,
    service_kinds,
)
from cdv_geo.maps.runtime import MapLayer
from cdv_geo.pipeline import Metrics
from cdv_geo.views.panels import services_table
from cdv_geo.views.titles import territory_name

__all__ = [
    "SERVICES_OUTPUTS",
    "add_service_layers",
    "has_services_data",
    "service_groups",
    "services_map",
]

#: What the services map reads (``compute_metrics(only=...)``).
SERVICES_OUTPUTS = ("capacity_access", "open_hours", "commercial_catchment", "retail_density")
#: The topic of the pipeline's notes on services.
_TOPICS = ("services", "access")


def has_services_data(m: Metrics) -> bool:
    """Return whether `m` holds anything the services map draws.

    Examples
    --------
    >>> has_services_data(Metrics())
    False
    """
    homes = m.residences_services
    drawn = bool(service_kinds(homes, "access") or service_kinds(homes, "hours"))
    return drawn or m.commercial_centres is not None


def _within(m: Metrics) -> float | None:
    """Return the walking time of the opening hours (from the ``open_hours`` table), if known."""
    t = m.open_hours
    if t is None or "within_min" not in t.columns or t["within_min"].isna().all():
        return None
    return float(t["within_min"].dropna().iloc[0])


def add_service_layers(
    b: Builder,
    m: Metrics,
    kinds: list[str] | None = None,
    *,
    show_first: bool = True,
    drawn_layers: dict[str, list[tuple[str, MapLayer]]] | None = None,
) -> list[str]:
    """Add the capacity and opening-hours layers of `kinds` (all those computed by default).

    The first capacity layer is shown when `show_first`; the others are switched on in the
    layer control. Returns the kinds drawn; `drawn_layers`, when given, receives under
    ``"access"`` and ``"hours"`` each layer drawn with its kind's label.
    """
    homes = m.residences_services
    if homes is None:
        return []
    access = service_kinds(homes, "access")
    hours = service_kinds(homes, "hours")
    wanted = list(dict.fromkeys([*access, *hours])) if kinds is None else kinds
    drawn: list[str] = []
    tol = b.simplify_m
    n_layers = sum(k in access for k in wanted) + sum(k in hours for k in wanted)
    # every layer repeats the homes: many layers of many homes are drawn as points (a file
    # of 17 layers of 100,000 footprints would weigh hundreds of MB)
    form = "point" if len(homes) * n_layers >= POINT_MIN_HOMES else "auto"
    # the capacity layers, then the opening-hours layers: one block each in the layer control
    for measure, present in (("access", access), ("hours", hours)):
        for kind in wanted:
            if kind not in present:
                continue
            layer = b.add(
                "residences_services",
                capacity_layer,
                homes,
                kind=kind,
                measure=measure,
                within_min=_within(m),
                simplify_m=tol,
                form=form,
                show=show_first and not drawn,
            )
            drawn.append(kind)
            if layer is not None and drawn_layers is not None:
                entry = (lb.value_label("kind", kind, b.lang), layer)
                drawn_layers.setdefault(measure, []).append(entry)
    return list(dict.fromkeys(drawn))


def services_map(
    territory: Any,
    *,
    metrics: Metrics | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
) -> folium.Map:
    """Map the capacity and opening hours of services within reach, and the shopping catchments.

    Parameters
    ----------
    territory : Territory
    metrics : Metrics, optional
        The metric results (:func:`cdv_geo.compute_metrics`); computed for
        :data:`SERVICES_OUTPUTS` when omitted.
    lang : {"fr", "en"}
    tiles : str or None
        Basemap; ``None`` for none.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = services_map(cg.datasets.soissons(), metrics=cg.pipeline.Metrics(), tiles=None)
    >>> m._cdv_title
    'Services : capacité, horaires et commerces — Soissons'
    """
    lb.check_lang(lang)
    check_territory(territory)
    m = ensure_metrics(territory, metrics, SERVICES_OUTPUTS, "water_play_area")
    t = territory
    bounds, tol = fit_bounds(t, metric_bounds(t), 150.0)
    title = lb.label("title_services", lang, territory=territory_name(t))
    b = Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    if t.communes is not None:
        b.add("communes", communes_layer, simplify_m=max(tol, 1.0))
    b.add_notes(m, _TOPICS)
    b.add("quartiers", quartiers_layer, simplify_m=tol)
    drawn: dict[str, list[tuple[str, MapLayer]]] = {}
    kinds = add_service_layers(b, m, drawn_layers=drawn)
    shops: list[MapLayer | None] = []
    if m.residences_services is not None and "main_centre" in m.residences_services.columns:
        catchments = b.add(
            "residences_services",
            catchments_layer,
            m.residences_services,
            centres=m.commercial_centres,
            simplify_m=tol,
            show=not kinds,
        )
        shops.append(catchments)
    if m.commercial_centres is not None and len(m.commercial_centres):
        names = {} if t.quartiers is None else quartier_names(t.quartiers)
        centres = b.add(
            "commercial_centres",
            centres_layer,
            m.commercial_centres,
            retained=m.commercial_catchment,
            quartier_names=names,
        )
        shops.append(centres)
    if not kinds:
        b.note("svc_missing_map")
    if t.facilities is not None:
        b.add("facilities", facilities_layer, show=False)
    panel = None
    if kinds:
        table = services_table(
            m.capacity_access, m.open_hours, kinds[0], lang, town=territory_name(t)
        )
        if table:
            panel = (lb.label("svc_panel", lang), table)
    groups = service_groups(b.layers, drawn, [s for s in shops if s is not None], lang)
    return b.finish(panel, groups=groups, linked=True)


def service_groups(
    layers: list[MapLayer],
    drawn: dict[str, list[tuple[str, MapLayer]]],
    shops: list[MapLayer],
    lang: str,
) -> list[LayerGroup]:
    """Return the groups of the services map's layer control, in the committee's words.

    One kind at a time under « Capacité à portée de marche » and « Heures d'ouverture à
    portée » (radio buttons: each layer repeats every home); the catchments and the centres
    under « Commerces »; the quartiers, communes and facilities under « Territoire et
    équipements ». Empty groups are left out.

    Examples
    --------
    >>> q = MapLayer("quartiers", "Quartiers")
    >>> [g.title for g in service_groups([q], {}, [], "fr")]
    ['Territoire et équipements']
    """
    listed = {id(layer) for entries in drawn.values() for _, layer in entries}
    listed |= {id(layer) for layer in shops}
    context = [(layer.title, layer) for layer in layers if id(layer) not in listed]
    groups = [
        LayerGroup(lb.label("group_capacity", lang), drawn.get("access", []), exclusive=True),
        LayerGroup(lb.label("group_open_hours", lang), drawn.get("hours", []), exclusive=True),
        LayerGroup(lb.label("group_shops", lang), [(_shop_name(x, lang), x) for x in shops]),
        LayerGroup(lb.label("group_context", lang), context),
    ]
    return [g for g in groups if g.entries]


def _shop_name(layer: MapLayer, lang: str) -> str:
    """Return the short name of a layer under « Commerces » (the heading says the rest)."""
    return lb.label("group_catchments", lang) if layer.key == "catchments" else layer.title
