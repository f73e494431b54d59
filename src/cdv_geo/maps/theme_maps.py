"""The thematic maps: walking access to one service, renaturation, urban renewal."""

from __future__ import annotations

from typing import Any

import folium

from cdv_geo.core import labels as lb
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.maps.builder import Builder, check_territory, ensure_metrics
from cdv_geo.maps.furniture import DEFAULT_TILES, Tiles, fit_bounds, metric_bounds
from cdv_geo.maps.layers import (
    communes_layer,
    desealed_layer,
    facilities_layer,
    green_spaces_layer,
    quartiers_layer,
    raster_change_layer,
    raster_layer,
    renewal_layer,
    residences_layer,
    trees_layer,
)
from cdv_geo.maps.services_maps import add_service_layers
from cdv_geo.maps.territory_maps import add_service_areas, nearest_for
from cdv_geo.pipeline import Metrics
from cdv_geo.views.panels import balance_table, coverage_table, figures_table, services_table
from cdv_geo.views.services import present_kinds
from cdv_geo.views.titles import map_title, territory_name

__all__ = [
    "ACCESS_OUTPUTS",
    "RENATURATION_FIGURES",
    "RENATURATION_OUTPUTS",
    "RENEWAL_OUTPUTS",
    "accessibility_map",
    "renaturation_map",
    "renewal_map",
]

#: What each thematic map reads (``compute_metrics(only=...)``).
ACCESS_OUTPUTS = ("nearest", "coverage", "service_areas", "capacity_access", "open_hours")
RENATURATION_OUTPUTS = ("key_figures",)
RENEWAL_OUTPUTS = ("renewal_balance",)
#: The key figures of the renaturation map's panel.
RENATURATION_FIGURES = (
    "n_residents",
    "desealed_m2",
    "n_trees",
    "impervious_share",
    "impervious_change_pp",
)


def _start(t: Any, key: str, lang: str, tiles: Tiles, service: str = "water_play_area") -> Builder:
    bounds, tol = fit_bounds(t, metric_bounds(t), 150.0)
    title = map_title(key, t, lang, service=service)
    b = Builder.start(t, title=title, lang=lang, tiles=tiles, bounds=bounds, tol=tol)
    if t.communes is not None:
        b.add("communes", communes_layer, simplify_m=max(tol, 1.0))
    return b


def accessibility_map(
    territory: Any,
    *,
    service: str = "water_play_area",
    metrics: Metrics | None = None,
    lang: str = "fr",
    tiles: Tiles = DEFAULT_TILES,
) -> folium.Map:
    """Map walking access to one kind of facility: service areas and homes by walking time.

    The panel gives the share of residents within each walking-time threshold, per quartier.
    When the metrics hold them (``capacity_access``, ``open_hours``), two more layers can be
    switched on: the homes by the capacity of the kind within reach per 10,000 residents, and
    by the weekly hours when one is open within reach; the panel then adds both figures.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = accessibility_map(cg.datasets.soissons(), service="health_centre", tiles=None)
    >>> m._cdv_title
    'Accès à pied : Maison de santé — Soissons'
    """
    from cdv_geo.schema import FACILITY_KINDS

    present = present_kinds(territory)
    if service not in FACILITY_KINDS and service not in present:
        raise CdvGeoError(
            f"service={service!r} is not a facility kind; use one of "
            f"{', '.join(dict.fromkeys([*present, *FACILITY_KINDS]))}"
        )
    lb.check_lang(lang)
    check_territory(territory)
    m = ensure_metrics(territory, metrics, ACCESS_OUTPUTS, service)
    t = territory
    b = _start(t, "accessibility", lang, tiles, service)
    b.add_notes(m, ["access"])
    b.add("quartiers", quartiers_layer, simplify_m=b.simplify_m)
    add_service_areas(b, m, service)
    b.add(
        "residences",
        residences_layer,
        nearest=nearest_for(m, service),
        service=service,
        simplify_m=b.simplify_m,
    )
    add_service_layers(b, m, [service], show_first=False)
    fac = t.facilities
    if fac is not None and service in set(fac["kind"]):
        service_label = lb.value_label("kind", service, lang)
        b.add(
            "facilities",
            facilities_layer,
            kinds=[service],
            key=f"facilities_{service}",
            title=service_label,
        )
        others = fac[fac["kind"] != service]
        b.add("facilities", facilities_layer, others if len(others) else None, show=False)
    elif fac is not None:  # a kind the town does not have: say so rather than stay silent
        b.note("missing_layer", layer=lb.value_label("kind", service, lang))
    town = territory_name(t)
    table = coverage_table(m.coverage, service, lang, town=town) if m.coverage is not None else None
    more = services_table(m.capacity_access, m.open_hours, service, lang, town=town)
    if more:
        table = (table or "") + more
    return b.finish((lb.label("key_figures", lang), table) if table else None)


def _add_rasters(b: Builder) -> None:
    """Add the imperviousness rasters (the latest shown), their change, the canopy rasters."""
    t = b.t
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


def renaturation_map(
    territory: Any,
    *,
    metrics: Metrics | None = None,
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
    lb.check_lang(lang)
    check_territory(territory)
    m = ensure_metrics(territory, metrics, RENATURATION_OUTPUTS, "water_play_area")
    b = _start(territory, "renaturation", lang, tiles)
    b.add_notes(m, ["renaturation"])
    _add_rasters(b)
    tol = b.simplify_m
    b.add("quartiers", quartiers_layer, simplify_m=tol)
    b.add("green_spaces", green_spaces_layer, simplify_m=tol)
    b.add("desealed_areas", desealed_layer, simplify_m=tol)
    b.add("tree_plantings", trees_layer)
    panel = None
    if m.key_figures is not None:
        table = figures_table(
            m.key_figures, lang, columns=RENATURATION_FIGURES, town=territory_name(territory)
        )
        panel = (lb.label("key_figures", lang), table)
    return b.finish(panel)


def renewal_map(
    territory: Any,
    *,
    metrics: Metrics | None = None,
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
    lb.check_lang(lang)
    check_territory(territory)
    m = ensure_metrics(territory, metrics, RENEWAL_OUTPUTS, "water_play_area")
    b = _start(territory, "renewal", lang, tiles)
    b.add_notes(m, ["renewal"])
    tol = b.simplify_m
    b.add("quartiers", quartiers_layer, simplify_m=tol)
    b.add("residences", residences_layer, simplify_m=tol, show=False)
    b.add("renewal_sites", renewal_layer, simplify_m=tol)
    rb = m.renewal_balance
    table = balance_table(rb, lang, town=territory_name(territory)) if rb is not None else None
    return b.finish((lb.label("key_figures", lang), table) if table else None)
