"""Committee maps: Folium maps per quartier and for the territory, as standalone HTML.

>>> import cdv_geo as cg
>>> m = cg.maps.overview_map(cg.datasets.soissons(), tiles=None)
>>> html = cg.maps.embed_snippet(m, height=500)

Maps read the metric results of :func:`cdv_geo.compute_metrics` (a
:class:`~cdv_geo.pipeline.Metrics`, passed as ``metrics=`` or computed with just what the map
draws) and never compute a metric themselves. They are French by default (``lang="en"`` for
English). :func:`save_map` writes one HTML file, linking Leaflet from its CDN (``assets="cdn"``)
or embedding it (``assets="inline"``, from a folder filled once by ``cdv-geo assets fetch``, or
an npm ``node_modules`` folder).
"""

from __future__ import annotations

from cdv_geo.maps.assets import MissingAssetsError, fetch_assets
from cdv_geo.maps.compose import (
    accessibility_map,
    build_committee_maps,
    indicators_map,
    overview_map,
    quartier_map,
    renaturation_map,
    renewal_map,
)
from cdv_geo.maps.heat_maps import heat_map
from cdv_geo.maps.html import asset_urls, embed_snippet, escape_text, render_html, save_map
from cdv_geo.maps.layers import (
    MapLayer,
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
from cdv_geo.maps.services_maps import services_map
from cdv_geo.views.services import present_kinds, resolve_services
from cdv_geo.views.titles import (
    map_title,
    quartier_slug,
    quartier_slugs,
    quartier_title,
    territory_name,
)

__all__ = [
    "MapLayer",
    "MissingAssetsError",
    "accessibility_map",
    "asset_urls",
    "build_committee_maps",
    "choropleth_layer",
    "communes_layer",
    "desealed_layer",
    "embed_snippet",
    "escape_text",
    "facilities_layer",
    "fetch_assets",
    "green_spaces_layer",
    "heat_map",
    "indicators_map",
    "map_title",
    "overview_map",
    "present_kinds",
    "quartier_map",
    "quartier_slug",
    "quartier_slugs",
    "quartier_title",
    "quartiers_layer",
    "raster_change_layer",
    "raster_layer",
    "renaturation_map",
    "render_html",
    "renewal_layer",
    "renewal_map",
    "residences_layer",
    "resolve_services",
    "save_map",
    "service_areas_layer",
    "services_map",
    "territory_name",
    "trees_layer",
]
