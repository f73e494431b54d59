"""Which OpenStreetMap ways (or street-layer road classes) belong to the walking network."""

from __future__ import annotations

import re

__all__ = ["is_walkable", "is_walkable_class"]

# --- the osmnx "walk" filter, applied to OSM XML ways ------------------------------------------
#
# osmnx.graph_from_xml takes no network_type: it keeps every way with a highway tag. The walking
# filter osmnx sends to Overpass for network_type="walk" (osmnx._overpass._get_network_filter) is
# reproduced here with the same (unanchored, Overpass-style) regular expressions, so a network
# read from a file equals the one osmnx would download.
_WALK_EXCLUDE: dict[str, str] = {
    "area": "yes",
    "access": "private",
    "highway": (
        "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
        "raceway|razed|rest_area|services"
    ),
    "foot": "no",
    "service": "private",
    "sidewalk": "separate",
    "sidewalk:both": "separate",
    "sidewalk:left": "separate",
    "sidewalk:right": "separate",
}
_WALK_EXCLUDE_RE = {k: re.compile(v) for k, v in _WALK_EXCLUDE.items()}
# IGN BD TOPO road classes (field NATURE): "Type autoroutier" is the motorway class
_BDTOPO_MOTORWAY = re.compile("autorout", re.IGNORECASE)


def is_walkable(tags: dict[str, str]) -> bool:
    """Tell whether an OSM way with these tags belongs to the walking network.

    The rule is osmnx's ``network_type="walk"`` filter: a ``highway`` tag is required, and
    motorways, cycleways, construction sites, areas, private access and ``foot=no`` are excluded
    (a street whose sidewalks are mapped separately is excluded too: the sidewalks are walked).

    Parameters
    ----------
    tags : dict
        The way's OSM tags.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_walkable({"highway": "residential"}), is_walkable({"highway": "motorway_link"})
    (True, False)
    >>> is_walkable({"highway": "service", "access": "private"})
    False
    """
    if "highway" not in tags:
        return False
    return not any(rx.search(tags[key]) for key, rx in _WALK_EXCLUDE_RE.items() if key in tags)


def is_walkable_class(highway: object) -> bool:
    """Tell whether a street layer's road class (its ``highway`` value) is walked.

    OSM ``highway`` values go through :func:`is_walkable`; IGN BD TOPO's ``nature`` "Type
    autoroutier" (the motorway class) is excluded too. A missing value (not a text) is kept:
    a street layer without classes is walked everywhere.

    Examples
    --------
    >>> is_walkable_class("residential"), is_walkable_class("Type autoroutier")
    (True, False)
    >>> is_walkable_class(None)
    True
    """
    if not isinstance(highway, str):
        return True
    return is_walkable({"highway": highway}) and not _BDTOPO_MOTORWAY.search(highway)
