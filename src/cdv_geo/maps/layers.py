"""Layer builders: one per layer kind, each returning a named, togglable :class:`MapLayer`.

A builder takes a layer (any CRS; it is reprojected to EPSG:4326 for display), writes its
features compactly (coordinates rounded to 6 decimals, polygons simplified at a tolerance
invisible at the map's zoom, only the fields the map shows), HTML-escapes every string that
comes from the data, and describes itself in a legend. Large layers switch to a form the browser
draws fast: point layers beyond a few hundred features are clustered, beyond 5,000 drawn as
canvas circles (``mode=``); polygon layers from 2,000 features are drawn on one canvas
(``render="auto"``, override with ``render="svg"`` or ``"canvas"``); the homes, from 25,000
(:data:`POINT_MIN_HOMES`), are drawn as one small canvas circle each instead of their
footprints (``residences_layer(form="auto")``, override with ``form="polygon"`` or
``"point"``).

The builders live in one module per concept (perimeters, access, green, renewal, raster);
this module gathers them.
"""

from __future__ import annotations

from cdv_geo.maps.features import CANVAS_MIN_FEATURES, Render
from cdv_geo.maps.layers_access import (
    CANVAS_MIN,
    CLUSTER_MIN,
    POINT_MIN_HOMES,
    HomeForm,
    PointMode,
    facilities_layer,
    residences_layer,
    service_areas_layer,
    time_classes,
)
from cdv_geo.maps.layers_green import desealed_layer, green_spaces_layer, trees_layer
from cdv_geo.maps.layers_perimeters import choropleth_layer, communes_layer, quartiers_layer
from cdv_geo.maps.layers_raster import raster_change_layer, raster_layer
from cdv_geo.maps.layers_renewal import renewal_layer
from cdv_geo.maps.runtime import MapLayer

__all__ = [
    "CANVAS_MIN",
    "CANVAS_MIN_FEATURES",
    "CLUSTER_MIN",
    "POINT_MIN_HOMES",
    "HomeForm",
    "MapLayer",
    "PointMode",
    "Render",
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
    "time_classes",
    "trees_layer",
]
