"""Committee maps: the overview, one map per quartier, and the thematic maps.

Every map reads a :class:`cdv_geo.pipeline.Metrics` (computed with just what it draws when
none is given) and never computes a metric itself. The maps live in one module per concept:
:mod:`~cdv_geo.maps.territory_maps` (overview, quartier), :mod:`~cdv_geo.maps.theme_maps`
(walking access, renaturation, renewal), :mod:`~cdv_geo.maps.indicator_maps`,
:mod:`~cdv_geo.maps.committee` (all of them, written to a folder); this module gathers them.
"""

from __future__ import annotations

from cdv_geo.maps.committee import build_committee_maps
from cdv_geo.maps.furniture import DEFAULT_TILES, PLAN_IGN_ATTRIBUTION, PLAN_IGN_URL, Tiles
from cdv_geo.maps.indicator_maps import indicators_map
from cdv_geo.maps.territory_maps import overview_map, quartier_map
from cdv_geo.maps.theme_maps import accessibility_map, renaturation_map, renewal_map

__all__ = [
    "DEFAULT_TILES",
    "PLAN_IGN_ATTRIBUTION",
    "PLAN_IGN_URL",
    "Tiles",
    "accessibility_map",
    "build_committee_maps",
    "indicators_map",
    "overview_map",
    "quartier_map",
    "renaturation_map",
    "renewal_map",
]
