"""The walking model shared by :mod:`cdv_geo.metrics.access` and :mod:`~.service_areas`.

What both need to agree on: which CRS distances are measured in (:func:`measure_crs`), which
facility kinds are asked for (:func:`select_kinds`), and where a facility joins the street
network (:func:`facility_seeds`): a point facility at the nearest point of the nearest street,
a MultiPoint at each of its entrances, a polygon (park, school grounds) at every point of its
boundary within :data:`POLYGON_ACCESS_TOLERANCE_M` of its nearest street distance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cdv_geo.core.crs import check_metric_crs, choose_metric_crs
from cdv_geo.core.distinct import all_distinct
from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning, CRSError, DataValidationError, Problem
from cdv_geo.network import WalkNetwork
from cdv_geo.schema import FACILITY_KINDS, SCHEMAS, normalize_token

__all__ = [
    "BOUNDARY_STEP_M",
    "POLYGON_ACCESS_TOLERANCE_M",
    "FacilitySeeds",
    "attached_seeds",
    "box_xy",
    "check_network",
    "check_positive",
    "facility_seeds",
    "id_text",
    "measure_crs",
    "point_xy",
    "select_kinds",
    "to_crs",
    "unique_ids",
]

#: A polygon facility is reached from every boundary point whose snap distance is within this
#: many metres of the polygon's smallest snap distance (its sides along streets), in metres.
POLYGON_ACCESS_TOLERANCE_M = 25.0
#: Spacing of the boundary points sampled on polygon facilities, in metres.
BOUNDARY_STEP_M = 5.0


# --- options -----------------------------------------------------------------------------------


def check_positive(value: Any, name: str) -> float:
    """Return `value` as a positive float, or raise :class:`CdvGeoError` naming `name`.

    Examples
    --------
    >>> check_positive("4.5", "speed_kmh")
    4.5
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise CdvGeoError(f"{name} must be a number, not {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise CdvGeoError(f"{name} must be a positive number, not {value!r}")
    return v


def check_network(network: Any, *, optional: bool = True) -> WalkNetwork | None:
    """Return `network` after checking it is a :class:`WalkNetwork` (or None when `optional`)."""
    if network is None and optional:
        return None
    if not isinstance(network, WalkNetwork):
        raise CdvGeoError(
            f"network must be a WalkNetwork{' or None' if optional else ''} (got "
            f"{type(network).__name__}); build one with WalkNetwork.from_lines(streets) or "
            "WalkNetwork.from_osm_xml(path)"
        )
    return network


def measure_crs(data: gpd.GeoDataFrame, network: WalkNetwork | None, crs: Any) -> CRS:
    """Return the CRS distances are measured in: the network's, else the project's policy.

    With a network, its CRS (the network was built in the project's CRS: pass the same `crs`
    to its constructor); a different `crs` raises :class:`CRSError`. Without one,
    :func:`cdv_geo.core.crs.choose_metric_crs` (`crs`, else EPSG:2154 in metropolitan France,
    else the UTM zone of `data`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> homes = gpd.GeoDataFrame(geometry=[Point(1690000, 8200000)], crs=3949)
    >>> measure_crs(homes, None, 3949).to_epsg(), measure_crs(homes, None, None).to_epsg()
    (3949, 2154)
    """
    if network is None:
        return choose_metric_crs(data, crs)
    if crs is not None and not check_metric_crs(crs).equals(network.crs):
        epsg = network.crs.to_epsg()
        raise CRSError(
            f"crs={crs!r} but the walking network is in "
            f"{f'EPSG:{epsg}' if epsg else network.crs.name}: distances are measured in the "
            "network's CRS. Build the network in the project's CRS "
            f"(WalkNetwork.from_lines(streets, crs={crs!r})) or leave crs out."
        )
    return network.crs


def to_crs(gdf: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """Return `gdf` in `crs` (itself when it already is)."""
    return gdf if CRS.from_user_input(gdf.crs).equals(crs) else gdf.to_crs(crs)


# --- ids and kinds -----------------------------------------------------------------------------


def id_text(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Return the ``id`` column as text (the index when there is no ``id``)."""
    raw = gdf["id"] if "id" in gdf.columns else gdf.index.to_series()
    return raw.astype(str)


def unique_ids(gdf: gpd.GeoDataFrame, name: str) -> pd.Index:
    """Return the :func:`id_text` of `gdf` as an Index named ``id``, checked unique.

    Raises
    ------
    DataValidationError
        Listing the repeated ids.
    """
    ids = id_text(gdf)
    if not all_distinct(ids):
        dup = ids.duplicated()
        raise DataValidationError(
            [
                Problem(
                    f"id {d!r} is used by several features; ids must be unique",
                    feature=d,
                    field="id",
                    layer=name,
                    file=gdf.attrs.get("source"),
                )
                for d in ids[dup].unique()[:20]
            ]
        )
    return pd.Index(ids, name="id")


def select_kinds(facilities: gpd.GeoDataFrame, kinds: Any) -> list[str]:
    """Return the facility kinds to compute: `kinds` (French names accepted), else all present.

    Raises
    ------
    DataValidationError
        No ``kind`` column, every kind empty, or a kind asked for that no facility has (the
        message lists the kinds present).
    """
    source = facilities.attrs.get("source")

    def problem(message: str) -> Problem:
        return Problem(message, file=source, layer="facilities", field="kind")

    if "kind" not in facilities.columns:
        raise DataValidationError(
            [
                problem(
                    "facilities need a 'kind' column (type d'équipement: school, ccas, ...); "
                    "read the layer with cdv_geo.read_layer(path, 'facilities'), which also "
                    "translates the French 'type'"
                )
            ]
        )
    kind = facilities["kind"]
    present = list(dict.fromkeys(kind[kind.notna()].astype(str)))
    if kinds is None:
        if not present:
            raise DataValidationError([problem("every facility has an empty kind")])
        return present
    wanted = [kinds] if isinstance(kinds, str) else list(kinds)
    if not wanted:
        raise CdvGeoError("kinds is empty; pass kinds=None for every kind present")
    aliases = SCHEMAS["facilities"].field("kind").enum_aliases
    out: list[str] = []
    problems: list[Problem] = []
    for k in wanted:
        token = normalize_token(str(k))
        tok = str(k) if str(k) in present else aliases.get(token, token)
        if tok not in present:
            extra = (
                ""
                if tok in FACILITY_KINDS
                else f" (not a facility kind at all; known kinds: {', '.join(FACILITY_KINDS)})"
            )
            problems.append(
                problem(
                    f"no facility of kind {k!r}{extra}; kinds present: "
                    f"{', '.join(present) or 'none'}"
                )
            )
        elif tok not in out:
            out.append(tok)
    if problems:
        raise DataValidationError(problems)
    return out


# --- geometry ----------------------------------------------------------------------------------


def point_xy(geoms: np.ndarray) -> np.ndarray:
    """Return the (x, y) of points; a point inside polygons and lines; NaN when missing.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import Point, box
    >>> point_xy(np.array([Point(1, 2), box(0, 0, 2, 2), None], dtype=object)).tolist()
    [[1.0, 2.0], [1.0, 1.0], [nan, nan]]
    """
    # one GIL-free pass (shapely's bounds; get_x and get_y take two): a point's box is the
    # point
    return box_xy(geoms, shapely.bounds(geoms))


def box_xy(geoms: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Return :func:`point_xy` of `geoms` given their boxes (``shapely.bounds``).

    For a caller that needs the boxes too: one pass over the geometries instead of two.

    Examples
    --------
    >>> import numpy as np
    >>> import shapely
    >>> from shapely import Point, box
    >>> g = np.array([Point(1, 2), box(0, 0, 2, 2)], dtype=object)
    >>> box_xy(g, shapely.bounds(g)).tolist()
    [[1.0, 2.0], [1.0, 1.0]]
    """
    # a box that is a point (a point, a one-point collection...) is that point; the others,
    # and missing or empty geometries (NaN boxes), take the careful way
    xy = np.ascontiguousarray(bounds[:, :2])
    odd = np.flatnonzero(~((bounds[:, 0] == bounds[:, 2]) & (bounds[:, 1] == bounds[:, 3])))
    if len(odd):
        xy[odd] = np.nan
        g = geoms[odd]
        usable = ~(shapely.is_missing(g) | shapely.is_empty(g))
        # (a polygon or a line: a point on it, inside for a polygon)
        xy[odd[usable]] = shapely.get_coordinates(shapely.point_on_surface(g[usable]))
    return xy


# --- facility attachment points ----------------------------------------------------------------


@dataclass
class FacilitySeeds:
    """Attachment points of facilities on the network (one facility may have several).

    Attributes
    ----------
    edge, along : numpy.ndarray
        Where each attachment point lies (:meth:`WalkNetwork.snap_xy`).
    offset : numpy.ndarray
        The facility's snap distance at this point (walked from the street to the facility).
    fac : numpy.ndarray
        Position of the facility (in the array given to :func:`facility_seeds`).
    snap : numpy.ndarray
        Per facility: its smallest snap distance (NaN: off the network).
    """

    edge: np.ndarray
    along: np.ndarray
    offset: np.ndarray
    fac: np.ndarray
    snap: np.ndarray


def facility_seeds(net: WalkNetwork, geoms: np.ndarray, max_snap_m: float) -> FacilitySeeds:
    """Attach facilities to the network (see the module docstring for polygons and entrances)."""
    n = len(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.where(missing, -1, shapely.get_type_id(geoms))
    polygonal = np.isin(types, (3, 6))
    entrances = types == 4
    xy_parts: list[np.ndarray] = []
    owner_parts: list[np.ndarray] = []
    simple = np.flatnonzero(~missing & ~polygonal & ~entrances)
    if len(simple):
        xy_parts.append(point_xy(geoms[simple]))
        owner_parts.append(simple)
    multi = np.flatnonzero(entrances)
    if len(multi):  # a MultiPoint lists the entrances: each is a way in
        c, gi = shapely.get_coordinates(geoms[multi], return_index=True)
        xy_parts.append(c)
        owner_parts.append(multi[gi])
    poly = np.flatnonzero(polygonal)
    if len(poly):
        ring = shapely.segmentize(shapely.boundary(geoms[poly]), BOUNDARY_STEP_M)
        c, gi = shapely.get_coordinates(ring, return_index=True)
        xy_parts.append(c)
        owner_parts.append(poly[gi])
    if not xy_parts:
        e = np.empty(0, dtype=np.int64)
        return FacilitySeeds(e, np.empty(0), np.empty(0), e, np.full(n, np.nan))
    xy = np.vstack(xy_parts)
    owner = np.concatenate(owner_parts)
    edge, along, dist = net.snap_xy(xy, max_snap_m=max_snap_m)
    ok = edge >= 0
    snap = np.full(n, np.inf)
    np.minimum.at(snap, owner[ok], dist[ok])
    snap[np.isinf(snap)] = np.nan
    keep = ok.copy()
    is_poly = polygonal[owner]
    keep[ok & is_poly] = dist[ok & is_poly] <= snap[owner[ok & is_poly]] + (
        POLYGON_ACCESS_TOLERANCE_M
    )
    return FacilitySeeds(edge[keep], along[keep], dist[keep], owner[keep], snap)


def attached_seeds(
    net: WalkNetwork,
    geoms: np.ndarray,
    sel: np.ndarray,
    fac_ids: np.ndarray,
    kind: str,
    max_snap_m: float,
    fate: str,
    *,
    stacklevel: int,
) -> FacilitySeeds:
    """:func:`facility_seeds` of the facilities `sel`, warning about those left off the network.

    `fate` says what becomes of them ("ignored"); `stacklevel` points the warning at the
    caller of the public function.
    """
    seeds = facility_seeds(net, geoms[sel], max_snap_m)
    lost = sel[np.isnan(seeds.snap)]
    if len(lost):
        warnings.warn(
            f"{len(lost)} {kind} facilit{'y is' if len(lost) == 1 else 'ies are'} farther than "
            f"{max_snap_m:g} m from the street network and {fate}: "
            f"{', '.join(fac_ids[lost][:10])}{'...' if len(lost) > 10 else ''}. Check their "
            "position, extend the street layer, or raise max_snap_m.",
            CdvGeoWarning,
            stacklevel=stacklevel,
        )
    return seeds
