"""The walking network: builders, snapping and routing.

:class:`WalkNetwork` (:mod:`cdv_geo.network.walk`) holds the street graph as arrays and answers
snapping and routing queries; its constructors live in :mod:`cdv_geo.network.builders`, the
snapping index in :mod:`cdv_geo.network.snapping`, Dijkstra from points on edges in
:mod:`cdv_geo.network.routing` and the walking filter of OSM ways in :mod:`cdv_geo.network.tags`.
"""

from __future__ import annotations

from cdv_geo.network.routing import Routes
from cdv_geo.network.tags import is_walkable
from cdv_geo.network.walk import DroppedParts, WalkNetwork

__all__ = ["DroppedParts", "Routes", "WalkNetwork", "is_walkable"]
