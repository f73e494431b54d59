"""Who lives within a short walk of each service: nearest facility, coverage, service areas.

The three functions share one model of walking (Handy & Niemeier 1997, "Measuring accessibility";
the "cumulative opportunities" measure when a threshold is applied):

* an origin (a residence; polygons use a point inside them) and a facility are each attached to
  the **nearest point of the nearest street** (:meth:`~cdv_geo.network.WalkNetwork.snap`); the
  straight walk to that point is the *snap distance*. Polygon facilities (parks, school grounds)
  are reached at every point of their boundary that lies within
  :data:`POLYGON_ACCESS_TOLERANCE_M` of their nearest street distance, i.e. from each street that
  borders them; a MultiPoint facility lists its entrances, each one a way in;
* the walking distance is ``snap(origin) + network distance between the two attachment points +
  snap(facility)``, the network distance running along the streets (the two ends of each edge,
  or directly along a shared edge);
* a point farther than ``max_snap_m`` from every street is *unreachable* (NaN, with a reason),
  never attached to a far-away street;
* time = distance / speed (4.5 km/h by default, i.e. 75 m per minute).

With ``network=None`` the same functions use straight-line distances and say so in their
``method`` column (``"euclidean"``): an answer labelled for what it is, for planners without a
street layer. Straight lines understate walking distances (by about 20–40 % in French towns).

Routing is one multi-source Dijkstra (:func:`scipy.sparse.csgraph.dijkstra` with
``min_only=True``) per facility kind, from virtual nodes placed at the facilities' attachment
points.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import wait
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cdv_geo.core import threads as _threads
from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning, DataValidationError, Problem
from cdv_geo.network import WalkNetwork, metric_crs_for
from cdv_geo.schema import FACILITY_KINDS, SCHEMAS, normalize_token

__all__ = [
    "POLYGON_ACCESS_TOLERANCE_M",
    "coverage",
    "nearest_facility",
    "service_areas",
]

#: A polygon facility is reached from every boundary point whose snap distance is within this
#: many metres of the polygon's smallest snap distance (its sides along streets), in metres.
POLYGON_ACCESS_TOLERANCE_M = 25.0
_QUAD_SEGS = 4
#: Spacing of the boundary points sampled on polygon facilities, in metres.
_BOUNDARY_STEP_M = 5.0

#: The ``method`` column's dtypes, built once.
_METHOD_DTYPES = {m: pd.CategoricalDtype(pd.Index([m])) for m in ("network", "euclidean")}

TERRITORY_CODE = "ALL"
TERRITORY_NAME = "ensemble"


# --- inputs ------------------------------------------------------------------------------------


def _layer(gdf: Any, name: str) -> gpd.GeoDataFrame:
    """Check that `gdf` is a non-empty GeoDataFrame with a CRS."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise CdvGeoError(
            f"{name} must be a GeoDataFrame (got {type(gdf).__name__}); read it with "
            f"cdv_geo.read_layer(path, {name!r})"
        )
    source = gdf.attrs.get("source")
    if len(gdf) == 0:
        raise DataValidationError(
            [
                Problem(
                    "layer is empty (no features); give at least one feature",
                    file=source,
                    layer=name,
                )
            ]
        )
    if gdf.crs is None:
        from cdv_geo.core.errors import CRSError

        raise CRSError(
            f"{name} layer{' ' + source if source else ''} has no coordinate reference system. "
            "Set it with gdf.set_crs('EPSG:2154') (or the CRS its coordinates are in), or fix "
            "the file (for a shapefile, its .prj)."
        )
    return gdf


def _to(gdf: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    return gdf if CRS.from_user_input(gdf.crs).equals(crs) else gdf.to_crs(crs)


def _id_text(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Return the `id` column as text (the index when there is no `id`)."""
    raw = gdf["id"] if "id" in gdf.columns else gdf.index.to_series()
    return raw.astype(str)


def _id_index(
    gdf: gpd.GeoDataFrame, name: str, *, ids: pd.Series | None = None, unique: bool | None = None
) -> pd.Index:
    """Return the :func:`_id_text` of `gdf` as an Index, checked unique.

    `ids` and `unique`: the text ids and whether they are all different, when already known.
    """
    if ids is None:
        ids = _id_text(gdf)
    if not (_all_different(ids) if unique is None else unique):
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


def _all_different(ids: pd.Series) -> bool:
    """Tell whether no text id repeats (a hash table: twice faster than ``duplicated``)."""
    return bool(ids.is_unique)


def _ids(gdf: gpd.GeoDataFrame, name: str) -> np.ndarray:
    """Return the ids as an object array (see :func:`_id_index`)."""
    return _id_index(gdf, name).to_numpy(dtype=object)


def _point_xy(geoms: np.ndarray) -> np.ndarray:
    """(x, y) of points; a point inside polygons and lines; NaN for missing geometries."""
    xy = np.empty((len(geoms), 2))
    try:
        # shapely's get_x/get_y release the GIL (get_coordinates does not): chunks of points
        # are read in parallel; NaN for anything but a point
        shapely.get_x(geoms, out=xy[:, 0])
        shapely.get_y(geoms, out=xy[:, 1])
        odd = np.flatnonzero(np.isnan(xy[:, 0]) | np.isnan(xy[:, 1]))
    except shapely.errors.GEOSException:  # an empty point: take the careful way for all
        odd = np.arange(len(geoms))
    if len(odd):
        xy[odd] = np.nan
        g = geoms[odd]
        usable = ~(shapely.is_missing(g) | shapely.is_empty(g))
        # (a point, or a one-point collection, is its own point on surface)
        xy[odd[usable]] = shapely.get_coordinates(shapely.point_on_surface(g[usable]))
    return xy


def _select_kinds(facilities: gpd.GeoDataFrame, kinds: Any) -> list[str]:
    source = facilities.attrs.get("source")
    if "kind" not in facilities.columns:
        raise DataValidationError(
            [
                Problem(
                    "facilities need a 'kind' column (type d'équipement: school, ccas, ...); "
                    "read the layer with cdv_geo.read_layer(path, 'facilities'), which also "
                    "translates the French 'type'",
                    file=source,
                    layer="facilities",
                    field="kind",
                )
            ]
        )
    present = list(dict.fromkeys(str(k) for k in facilities["kind"] if pd.notna(k)))
    if kinds is None:
        if not present:
            raise DataValidationError(
                [
                    Problem(
                        "every facility has an empty kind",
                        file=source,
                        layer="facilities",
                        field="kind",
                    )
                ]
            )
        return present
    wanted = [kinds] if isinstance(kinds, str) else list(kinds)
    if not wanted:
        raise CdvGeoError("kinds is empty; pass kinds=None for every kind present")
    aliases = SCHEMAS["facilities"].field("kind").enum_aliases
    out: list[str] = []
    problems: list[Problem] = []
    for k in wanted:
        tok = (
            str(k)
            if str(k) in present
            else aliases.get(normalize_token(str(k)), normalize_token(str(k)))
        )
        if tok not in present:
            extra = (
                ""
                if tok in FACILITY_KINDS
                else (f" (not a facility kind at all; known kinds: {', '.join(FACILITY_KINDS)})")
            )
            problems.append(
                Problem(
                    f"no facility of kind {k!r}{extra}; kinds present: "
                    f"{', '.join(present) or 'none'}",
                    file=source,
                    layer="facilities",
                    field="kind",
                )
            )
        elif tok not in out:
            out.append(tok)
    if problems:
        raise DataValidationError(problems)
    return out


def _check_positive(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise CdvGeoError(f"{name} must be a number, not {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise CdvGeoError(f"{name} must be a positive number, not {value!r}")
    return v


# --- facility attachment points ----------------------------------------------------------------


@dataclass
class _Seeds:
    """Attachment points of facilities on the network (one facility may have several)."""

    edge: np.ndarray
    along: np.ndarray
    offset: np.ndarray  # snap distance of the facility at this point
    fac: np.ndarray  # position of the facility in its layer
    snap: np.ndarray  # per facility: smallest snap distance (NaN: unreachable)


def _facility_seeds(net: WalkNetwork, geoms: np.ndarray, max_snap_m: float) -> _Seeds:
    n = len(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.where(missing, -1, shapely.get_type_id(geoms))
    polygonal = np.isin(types, (3, 6))
    entrances = types == 4
    xy_parts: list[np.ndarray] = []
    owner_parts: list[np.ndarray] = []
    simple = np.flatnonzero(~missing & ~polygonal & ~entrances)
    if len(simple):
        xy_parts.append(_point_xy(geoms[simple]))
        owner_parts.append(simple)
    multi = np.flatnonzero(entrances)
    if len(multi):  # a MultiPoint lists the entrances: each is a way in
        c, gi = shapely.get_coordinates(geoms[multi], return_index=True)
        xy_parts.append(c)
        owner_parts.append(multi[gi])
    poly = np.flatnonzero(polygonal)
    if len(poly):
        ring = shapely.segmentize(shapely.boundary(geoms[poly]), _BOUNDARY_STEP_M)
        c, gi = shapely.get_coordinates(ring, return_index=True)
        xy_parts.append(c)
        owner_parts.append(poly[gi])
    if not xy_parts:
        e = np.empty(0, dtype=np.int64)
        return _Seeds(e, np.empty(0), np.empty(0), e, np.full(n, np.nan))
    xy = np.vstack(xy_parts)
    owner = np.concatenate(owner_parts)
    edge, along, dist = net._snap_xy(xy, max_snap_m)
    ok = edge >= 0
    snap = np.full(n, np.inf)
    np.minimum.at(snap, owner[ok], dist[ok])
    snap[np.isinf(snap)] = np.nan
    keep = ok.copy()
    is_poly = polygonal[owner]
    keep[ok & is_poly] = dist[ok & is_poly] <= snap[owner[ok & is_poly]] + (
        POLYGON_ACCESS_TOLERANCE_M
    )
    return _Seeds(edge[keep], along[keep], dist[keep], owner[keep], snap)


def _attached_seeds(
    net: WalkNetwork,
    geoms: np.ndarray,
    sel: np.ndarray,
    fac_ids: np.ndarray,
    kind: str,
    max_snap_m: float,
    fate: str,
    *,
    stacklevel: int,
) -> _Seeds:
    """:func:`_facility_seeds` of the facilities `sel`, warning about those left off the network.

    `fate` says what becomes of them ("ignored"); `stacklevel` points the warning at the
    caller of the public function.
    """
    seeds = _facility_seeds(net, geoms[sel], max_snap_m)
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


# --- nearest facility --------------------------------------------------------------------------


@dataclass
class _KindResult:
    distance: np.ndarray  # NaN where not reached
    facility: np.ndarray  # position in the facility layer, -1 where not reached
    unreachable: np.ndarray  # True: cannot reach any facility of the kind at all
    reasons: list[tuple[np.ndarray, str]]


@dataclass
class _Nearest:
    ids: pd.Index
    snap: np.ndarray
    origin_reasons: list[tuple[np.ndarray, str]]
    kinds: dict[str, _KindResult]
    fac_ids: np.ndarray
    method: str
    crs: CRS
    origin_xy: np.ndarray


def _nearest(
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None,
    kinds: Any,
    max_snap_m: float,
    max_distance_m: float | None,
) -> _Nearest:
    origins = _layer(origins, "origins")
    facilities = _layer(facilities, "facilities")
    kind_list = _select_kinds(facilities, kinds)
    if not max_snap_m >= 0:
        raise CdvGeoError(f"max_snap_m must be a distance >= 0 in metres, not {max_snap_m!r}")
    limit = np.inf if max_distance_m is None else _check_positive(max_distance_m, "max_distance_m")
    if network is not None and not isinstance(network, WalkNetwork):
        raise CdvGeoError(
            f"network must be a WalkNetwork (got {type(network).__name__}); build one with "
            "WalkNetwork.from_lines(streets) or WalkNetwork.from_osm_xml(path)"
        )
    crs = network.crs if network is not None else metric_crs_for(origins)
    o = _to(origins, crs)
    f = _to(facilities, crs)
    fac_ids = _ids(f, "facilities")
    o_geoms = np.asarray(o.geometry.values, dtype=object)
    f_geoms = np.asarray(f.geometry.values, dtype=object)
    fkind = np.array([str(k) if pd.notna(k) else "" for k in f["kind"]], dtype=object)
    results: dict[str, _KindResult] = {}
    n = len(o)
    within = "" if max_distance_m is None else f" within {limit:g} m"
    routes: dict[str, tuple[np.ndarray, _Seeds, tuple[np.ndarray, np.ndarray] | None]] = {}

    # Checking the ids (a hash table, which releases the GIL) runs in a thread alongside the
    # routing, whose Dijkstra calls hold the GIL; reading the coordinates and snapping the
    # origins come after, cut in chunks over the cores.
    o_ids = _id_text(o)
    ids_job = _threads.alongside(_all_different, o_ids)
    try:
        if network is not None:
            for kind in kind_list:
                sel = np.flatnonzero(fkind == kind)
                seeds = _attached_seeds(
                    network, f_geoms, sel, fac_ids, kind, max_snap_m, "ignored", stacklevel=4
                )
                route = (
                    network._route(seeds.edge, seeds.along, seeds.offset, limit=limit)
                    if len(seeds.edge)
                    else None
                )
                routes[kind] = (sel, seeds, route)
            routed = {kind: r for kind, (_sel, _seeds, r) in routes.items() if r is not None}
            tables = [network._node_table(*r) for r in routed.values()]

            def place(part: slice) -> tuple[np.ndarray, ...]:
                # coordinates, attachment, then the distance and nearest seed of each kind
                xy = _point_xy(o_geoms[part])
                edge, along, snap = network._snap_part(xy, max_snap_m)
                out = [xy, edge, along, snap]
                any_edge = np.maximum(edge, 0)  # (unattached origins: NaN along, dropped later)
                for table in tables:
                    out.extend(network._point_distance(table, any_edge, along))
                return tuple(out)

            xy, o_edge, o_along, snap, *pairs = _threads.map_chunks(place, n)
            # per routed kind: distance to its nearest seed and that seed (as a float)
            by_kind = {kind: (pairs[2 * i], pairs[2 * i + 1]) for i, kind in enumerate(routed)}
        else:
            (xy,) = _threads.map_chunks(lambda part: (_point_xy(o_geoms[part]),), n)
    except BaseException:
        wait([ids_job])  # (its own error, if any, is the lesser one)
        raise
    ids = _id_index(o, "origins", ids=o_ids, unique=ids_job.result())
    empty = ~(np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1]))
    origin_reasons: list[tuple[np.ndarray, str]] = [(empty, "origin has no geometry")]

    if network is None:
        snap = np.full(n, np.nan)
        for kind in kind_list:
            sel = np.flatnonzero(
                (fkind == kind) & ~(shapely.is_missing(f_geoms) | shapely.is_empty(f_geoms))
            )
            dist = np.full(n, np.nan)
            fac = np.full(n, -1, dtype=np.int64)
            ok = np.flatnonzero(~empty)
            if len(sel) and len(ok):
                tree = shapely.STRtree(f_geoms[sel])
                kw: dict[str, Any] = {} if np.isinf(limit) else {"max_distance": limit}
                idx, d = tree.query_nearest(
                    shapely.points(xy[ok]), return_distance=True, all_matches=False, **kw
                )
                dist[ok[idx[0]]] = d
                fac[ok[idx[0]]] = sel[idx[1]]
            far = ~empty & np.isnan(dist)
            results[kind] = _KindResult(
                dist, fac, np.zeros(n, dtype=bool), [(far, f"no {kind}{within}")]
            )
        return _Nearest(ids, snap, origin_reasons, results, fac_ids, "euclidean", crs, xy)

    placed = o_edge >= 0
    far = ~empty & ~placed
    if far.sum() > 0.5 * max(int((~empty).sum()), 1):
        warnings.warn(
            f"{int(far.sum())} of {n} origins are farther than {max_snap_m:g} m from the street "
            "network: check that the network covers them and that both layers declare the "
            "right CRS (coordinates in the wrong CRS land far away).",
            CdvGeoWarning,
            stacklevel=3,
        )
    origin_reasons.append(
        (~empty & ~placed, f"origin farther than {max_snap_m:g} m from the street network")
    )
    pl = np.flatnonzero(placed)
    every = len(pl) == n  # the usual case: no copy
    e_pl = o_edge if every else o_edge[pl]
    a_pl = o_along if every else o_along[pl]
    s_pl = snap if every else snap[pl]
    comp = network.components
    detached = bool(len(comp)) and int(comp.max()) > 0
    o_comp = comp[network.edge_u[e_pl]] if detached else None
    for kind, (sel, seeds, route) in routes.items():
        seed_fac = sel[seeds.fac]
        dist = np.full(n, np.nan)
        fac = np.full(n, -1, dtype=np.int64)
        unreach = placed.copy()
        if route is not None and len(pl):
            d, s = by_kind[kind][0], by_kind[kind][1].astype(np.int64)
            if not every:
                d, s = d[pl], s[pl]
            _same_edge(d, s, e_pl, a_pl, seeds, network.n_edges)
            total = d + s_pl
            reached = np.isfinite(total) & (s >= 0) & (total <= limit)
            if every and reached.all():
                dist, fac = total, seed_fac[s]
            else:
                dist[pl[reached]] = total[reached]
                fac[pl[reached]] = seed_fac[s[reached]]
            unreach = np.zeros(n, dtype=bool)
            if o_comp is not None:
                served = np.zeros(int(comp.max()) + 1, dtype=bool)
                served[comp[network.edge_u[seeds.edge]]] = True
                unreach[pl] = ~served[o_comp]
        reasons: list[tuple[np.ndarray, str]] = []
        if not len(seeds.edge):
            reasons.append((placed, f"no {kind} within {max_snap_m:g} m of the street network"))
        else:
            reasons.append((unreach, f"no {kind} on this detached part of the street network"))
            reasons.append((placed & ~unreach & np.isnan(dist), f"no {kind}{within}"))
        results[kind] = _KindResult(dist, fac, unreach, reasons)
    return _Nearest(ids, snap, origin_reasons, results, fac_ids, "network", crs, xy)


def _same_edge(
    d: np.ndarray, s: np.ndarray, edge: np.ndarray, along: np.ndarray, seeds: _Seeds, n_edges: int
) -> None:
    """Let origins on a facility's edge walk straight along it (updates `d` and `s` in place).

    Among the seeds of an origin's edge the one at the smallest direct distance
    ``|along - seed along| + seed offset`` wins (the first seed on ties); it replaces the
    network answer when strictly shorter.
    """
    on_seed_edge = np.zeros(n_edges, dtype=bool)
    on_seed_edge[seeds.edge] = True
    hit = np.flatnonzero(on_seed_edge[edge])
    if not len(hit):
        return
    order = np.argsort(seeds.edge, kind="stable")
    sorted_edge = seeds.edge[order]
    lo = np.searchsorted(sorted_edge, edge[hit], side="left")
    cnt = np.searchsorted(sorted_edge, edge[hit], side="right") - lo
    starts = np.cumsum(cnt) - cnt
    origin = np.repeat(hit, cnt)  # (origin, seed) pairs, by origin then seed
    seed = order[np.repeat(lo - starts, cnt) + np.arange(int(cnt.sum()))]
    direct = np.abs(along[origin] - seeds.along[seed]) + seeds.offset[seed]
    low = np.minimum.reduceat(direct, starts)
    at_low = np.flatnonzero(direct == np.repeat(low, cnt))
    group = np.repeat(np.arange(len(hit)), cnt)[at_low]
    first = at_low[np.r_[True, group[1:] != group[:-1]]]
    better = low < d[hit]
    d[hit[better]] = low[better]
    s[hit[better]] = seed[first][better]


def _join_reasons(n: int, parts: Sequence[tuple[np.ndarray, str]]) -> pd.Categorical:
    """One text per origin joining the messages whose mask is set (NaN when none is)."""
    used = [(mask, msg) for mask, msg in parts if mask.any()]
    if not used:  # every distance is there
        return pd.Categorical.from_codes(
            np.full(n, -1, dtype=np.int64), categories=pd.Index([], dtype=object)
        )
    flags = np.zeros(n, dtype=np.int64)
    if len(used) > 62:  # pragma: no cover - one message per kind and cause
        raise CdvGeoError("too many facility kinds at once; compute them in smaller groups")
    for bit, (mask, _msg) in enumerate(used):
        flags |= mask.astype(np.int64) << bit
    combos, codes = np.unique(flags, return_inverse=True)
    labels = ["; ".join(msg for bit, (_m, msg) in enumerate(used) if c >> bit & 1) for c in combos]
    codes = codes.ravel()
    if combos[0] == 0:  # no message: missing
        codes = codes - 1
        labels = labels[1:]
    return pd.Categorical.from_codes(codes, categories=pd.Index(labels, dtype=object))


def nearest_facility(
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None = None,
    kinds: str | Sequence[str] | None = None,
    speed_kmh: float = 4.5,
    max_snap_m: float = 200.0,
    max_distance_m: float | None = None,
) -> pd.DataFrame:
    """Compute the walking distance and time from each origin to the nearest facility of each kind.

    distance = snap(origin) + network distance + snap(facility), time = distance / speed (see
    the module docstring for the model and its reference).

    Parameters
    ----------
    origins : geopandas.GeoDataFrame
        Residences (points or building footprints: a point inside each polygon is used), with a
        CRS; reprojected to the network's CRS.
    facilities : geopandas.GeoDataFrame
        Facilities with a ``kind`` column (points or polygons; a polygon is reached at its
        boundary).
    network : WalkNetwork, optional
        The walking network; ``None`` gives straight-line distances (``method="euclidean"``).
    kinds : str or list of str, optional
        Facility kinds to compute (French names accepted: ``"ecole"``); all kinds present when
        omitted.
    speed_kmh : float, default 4.5
        Walking speed.
    max_snap_m : float, default 200
        Origins and facilities farther than this from every street are unreachable.
    max_distance_m : float, optional
        Search no farther (faster): beyond it, the distance is NaN.

    Returns
    -------
    pandas.DataFrame
        Indexed by the origin ``id``; for each kind ``<kind>_distance_m``, ``<kind>_time_min``
        and ``<kind>_facility_id`` (the facility's ``id``), then ``snap_distance_m`` (origin to
        its street; NaN with ``network=None``), ``method`` (``"network"`` or ``"euclidean"``)
        and ``reason`` (why a distance is missing; NaN when every distance is there). The
        facility ids, ``method`` and ``reason`` are categorical columns.

    Raises
    ------
    CRSError
        A layer has no CRS.
    DataValidationError
        An empty layer, no ``kind`` column, an unknown kind (the message lists the kinds
        present), duplicate ids.

    Examples
    --------
    A street from (0, 0) to (300, 0); a home 10 m north of x=50, a school 20 m south of x=250:

    >>> import geopandas as gpd
    >>> from shapely import LineString, Point
    >>> streets = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (300, 0)])], crs=2154)
    >>> net = WalkNetwork.from_lines(streets)
    >>> homes = gpd.GeoDataFrame({"id": ["h1"]}, geometry=[Point(50, 10)], crs=2154)
    >>> schools = gpd.GeoDataFrame({"id": ["s1"], "kind": ["school"]},
    ...                            geometry=[Point(250, -20)], crs=2154)
    >>> d = nearest_facility(homes, schools, network=net)
    >>> d[["school_distance_m", "school_time_min", "school_facility_id", "snap_distance_m"]]
        school_distance_m  school_time_min school_facility_id  snap_distance_m
    id
    h1              230.0         3.066667                 s1             10.0
    >>> nearest_facility(homes, schools)["school_distance_m"].round(1).tolist()  # straight line
    [202.2]
    """
    speed = _check_positive(speed_kmh, "speed_kmh")
    res = _nearest(
        origins,
        facilities,
        network=network,
        kinds=kinds,
        max_snap_m=max_snap_m,
        max_distance_m=max_distance_m,
    )
    return _nearest_frame(res, speed)


def _nearest_frame(res: _Nearest, speed_kmh: float) -> pd.DataFrame:
    m_per_min = speed_kmh * 1000.0 / 60.0
    cols: dict[str, Any] = {}
    reasons = list(res.origin_reasons)
    # categorical columns: 100,000 origins share a few dozen facility ids and reasons
    # (codes are positions in the facility layer or -1: valid by construction)
    fac_dtype = pd.CategoricalDtype(pd.Index(res.fac_ids, dtype=object))
    for kind, r in res.kinds.items():
        cols[f"{kind}_distance_m"] = r.distance
        cols[f"{kind}_time_min"] = r.distance / m_per_min
        cols[f"{kind}_facility_id"] = pd.Categorical.from_codes(
            r.facility, dtype=fac_dtype, validate=False
        )
        reasons.extend(r.reasons)
    n = len(res.ids)
    cols["snap_distance_m"] = res.snap
    cols["method"] = pd.Categorical.from_codes(
        np.zeros(n, dtype=np.int8), dtype=_METHOD_DTYPES[res.method], validate=False
    )
    cols["reason"] = _join_reasons(n, reasons)
    # (the arrays are this call's own: no copy)
    return pd.DataFrame(cols, index=res.ids, copy=False)


# --- coverage ----------------------------------------------------------------------------------


def _thresholds(
    threshold_m: Any, threshold_min: Any, speed_kmh: float
) -> tuple[list[float], list[float]]:
    if (threshold_m is None) == (threshold_min is None):
        raise CdvGeoError(
            "give exactly one of threshold_m (metres) or threshold_min (minutes of walking), "
            "e.g. coverage(..., threshold_min=5)"
        )
    m_per_min = speed_kmh * 1000.0 / 60.0
    given = threshold_m if threshold_m is not None else threshold_min
    values = [given] if np.isscalar(given) else list(given)
    if not values:
        raise CdvGeoError("the thresholds list is empty; give at least one threshold")
    name = "threshold_m" if threshold_m is not None else "threshold_min"
    vals = [_check_positive(v, name) for v in values]
    if threshold_m is not None:
        return vals, [v / m_per_min for v in vals]
    return [v * m_per_min for v in vals], vals


def _weights(origins: gpd.GeoDataFrame, weight: str | None) -> np.ndarray:
    if weight is None:
        return np.ones(len(origins))
    source = origins.attrs.get("source")
    if weight not in origins.columns:
        raise DataValidationError(
            [
                Problem(
                    f"no {weight!r} column to weigh origins; use weight='dwellings', "
                    "weight='population' (whichever the layer has) or weight=None to count "
                    "origins",
                    file=source,
                    layer="origins",
                    field=weight,
                )
            ]
        )
    w = pd.to_numeric(origins[weight], errors="coerce").astype(float).to_numpy()
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        ids = _ids(origins, "origins")[bad]
        raise DataValidationError(
            [
                Problem(
                    f"{weight} is missing, not a number or negative; fill it, or use another "
                    "weight (weight='dwellings' / None)",
                    file=source,
                    layer="origins",
                    feature=i,
                    field=weight,
                )
                for i in ids[:20]
            ],
            summary=f"{int(bad.sum())} origin(s) without a usable {weight!r} weight:",
        )
    return w


def _assign(xy: np.ndarray, quartiers: gpd.GeoDataFrame) -> np.ndarray:
    """Position of the quartier containing each point (-1: outside every quartier)."""
    out = np.full(len(xy), -1, dtype=np.int64)
    ok = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if not len(ok):
        return out
    tree = shapely.STRtree(np.asarray(quartiers.geometry.values, dtype=object))
    pi, qi = tree.query(shapely.points(xy[ok]), predicate="intersects")
    # a point on a shared border goes to the first quartier in layer order
    order = np.lexsort((qi, pi))
    pi, qi = pi[order], qi[order]
    first = np.r_[True, pi[1:] != pi[:-1]]
    out[ok[pi[first]]] = qi[first]
    return out


def coverage(
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None = None,
    threshold_m: float | Sequence[float] | None = None,
    threshold_min: float | Sequence[float] | None = None,
    weight: str | None = "population",
    kinds: str | Sequence[str] | None = None,
    speed_kmh: float = 4.5,
    max_snap_m: float = 200.0,
) -> pd.DataFrame:
    """Share of residents (or dwellings) within a walking threshold of each kind of facility.

    The cumulative-opportunities measure per quartier: share = Σ w_i [d_i ≤ T] / Σ w_i over
    the origins i of the quartier, with d_i the walking distance to the nearest facility of the
    kind (:func:`nearest_facility`) and T the threshold (Handy & Niemeier 1997).

    Parameters
    ----------
    origins : geopandas.GeoDataFrame
        Residences; each belongs to the quartier containing it (its point inside for
        polygons). Origins outside every quartier count only in the territory row.
    facilities : geopandas.GeoDataFrame
        Facilities with a ``kind`` column.
    quartiers : geopandas.GeoDataFrame
        Quartiers with ``code`` and ``name`` (the ``id``/index when missing).
    network : WalkNetwork, optional
        ``None`` gives straight-line distances (``method="euclidean"``).
    threshold_m, threshold_min : float or list of float
        Exactly one: the threshold(s) in metres or in minutes of walking at `speed_kmh`.
    weight : {"population", "dwellings"}, column name or None, default "population"
        Weight of each origin; None counts origins.
    kinds : str or list of str, optional
        Facility kinds (all kinds present when omitted).
    speed_kmh : float, default 4.5
    max_snap_m : float, default 200

    Returns
    -------
    pandas.DataFrame
        One row per quartier × kind × threshold, then the territory rows (``code`` "ALL",
        ``name`` "ensemble"): ``code``, ``name``, ``kind``, ``threshold_m``, ``threshold_min``,
        ``covered_weight``, ``total_weight``, ``share`` (0–1; NaN without origins),
        ``n_origins``, ``n_covered``, ``n_unreachable`` (origins farther than `max_snap_m` from
        the streets, or on a detached part without such a facility: counted in the total, never
        covered), ``weight`` and ``method``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString, Point, box
    >>> streets = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs=2154)
    >>> homes = gpd.GeoDataFrame({"population": [10, 30, 60]},
    ...     geometry=[Point(100, 5), Point(300, 5), Point(900, 5)], crs=2154)
    >>> ccas = gpd.GeoDataFrame({"kind": ["ccas"]}, geometry=[Point(0, 0)], crs=2154)
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Centre"]},
    ...                      geometry=[box(0, -50, 500, 50)], crs=2154)
    >>> c = coverage(homes, ccas, q, network=WalkNetwork.from_lines(streets), threshold_m=400)
    >>> c[["code", "kind", "covered_weight", "total_weight", "share"]]
      code  kind  covered_weight  total_weight  share
    0   Q1  ccas            40.0          40.0    1.0
    1  ALL  ccas            40.0         100.0    0.4
    """
    speed = _check_positive(speed_kmh, "speed_kmh")
    t_m, t_min = _thresholds(threshold_m, threshold_min, speed)
    quartiers = _layer(quartiers, "quartiers")
    origins = _layer(origins, "origins")
    w = _weights(origins, weight)
    res = _nearest(
        origins,
        facilities,
        network=network,
        kinds=kinds,
        max_snap_m=max_snap_m,
        max_distance_m=max(t_m),
    )
    q = _to(quartiers, res.crs)
    codes = _quartier_column(q, "code")
    names = _quartier_column(q, "name") if "name" in q.columns else codes
    qpos = _assign(res.origin_xy, q)
    not_placed = np.zeros(len(w), dtype=bool)
    for mask, _msg in res.origin_reasons:
        not_placed |= mask
    groups: list[tuple[str, str, np.ndarray]] = [
        (codes[i], names[i], qpos == i) for i in range(len(q))
    ]
    groups.append((TERRITORY_CODE, TERRITORY_NAME, np.ones(len(w), dtype=bool)))
    rows: list[dict[str, Any]] = []
    for code, name, member in groups:
        for kind, r in res.kinds.items():
            unreach = member & (not_placed | r.unreachable)
            for tm, tmin in zip(t_m, t_min, strict=True):
                cov = member & (r.distance <= tm)  # NaN compares False
                total = float(w[member].sum())
                covered = float(w[cov].sum())
                rows.append(
                    {
                        "code": code,
                        "name": name,
                        "kind": kind,
                        "threshold_m": tm,
                        "threshold_min": tmin,
                        "covered_weight": covered,
                        "total_weight": total,
                        "share": covered / total if total > 0 else np.nan,
                        "n_origins": int(member.sum()),
                        "n_covered": int(cov.sum()),
                        "n_unreachable": int(unreach.sum()),
                        "weight": weight if weight is not None else "count",
                        "method": res.method,
                    }
                )
    return pd.DataFrame(rows)


def _quartier_column(q: gpd.GeoDataFrame, col: str) -> np.ndarray:
    if col in q.columns:
        return np.array([str(v) for v in q[col]], dtype=object)
    return _ids(q, "quartiers")


# --- service areas -----------------------------------------------------------------------------


def service_areas(
    facilities: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None,
    thresholds_m: float | Sequence[float] = (300.0, 600.0),
    by: Literal["kind", "facility"] = "kind",
    kinds: str | Sequence[str] | None = None,
    buffer_m: float = 25.0,
    max_snap_m: float = 200.0,
) -> gpd.GeoDataFrame:
    """Areas within a walking distance of the facilities, for the maps.

    The area is the union of the street portions reached within the threshold — whole edges
    and the part of the edge where the threshold falls — buffered by `buffer_m` (the walk from
    the street to the door). Unlike a convex hull of reached nodes it neither spills over
    rivers and railways nor collapses to a point in a cul-de-sac. A facility's own snap
    distance is walked first. With ``network=None``: discs (a polygon facility grown by the
    threshold), ``method="euclidean"``.

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Facilities with a ``kind`` column.
    network : WalkNetwork or None
        The walking network (keyword required so that straight-line areas are a choice).
    thresholds_m : float or list of float, default (300, 600)
        Walking distances, in metres.
    by : {"kind", "facility"}, default "kind"
        One area per kind (dissolved) or per facility.
    kinds : str or list of str, optional
        Facility kinds (all present when omitted).
    buffer_m : float, default 25
        Half-width of the area around reached streets.
    max_snap_m : float, default 200
        Facilities farther than this from every street are left out (with a warning).

    Returns
    -------
    geopandas.GeoDataFrame
        ``kind``, ``threshold_m``, ``facility_id`` (with ``by="facility"``), ``method`` and the
        (Multi)Polygon geometry, in the network's metric CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString, Point
    >>> net = WalkNetwork.from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (1000, 0)])], crs=2154))
    >>> fac = gpd.GeoDataFrame({"kind": ["ccas"]}, geometry=[Point(500, 0)], crs=2154)
    >>> a = service_areas(fac, network=net, thresholds_m=[300], buffer_m=10)
    >>> a[["kind", "threshold_m", "method"]]
       kind  threshold_m   method
    0  ccas        300.0  network
    >>> a.geometry.bounds.round(1).values.tolist()  # 200-800 reached, plus 10 m each side
    [[190.0, -10.0, 810.0, 10.0]]
    """
    facilities = _layer(facilities, "facilities")
    kind_list = _select_kinds(facilities, kinds)
    if by not in ("kind", "facility"):
        raise CdvGeoError(f"by must be 'kind' or 'facility', not {by!r}")
    values = [thresholds_m] if np.isscalar(thresholds_m) else list(thresholds_m)  # type: ignore[arg-type]
    if not values:
        raise CdvGeoError("thresholds_m is empty; give at least one distance in metres")
    ts = sorted(_check_positive(t, "thresholds_m") for t in values)
    buf = float(buffer_m)
    if not np.isfinite(buf) or buf < 0:
        raise CdvGeoError(f"buffer_m must be a distance >= 0 in metres, not {buffer_m!r}")
    if network is not None and not isinstance(network, WalkNetwork):
        raise CdvGeoError(f"network must be a WalkNetwork or None (got {type(network).__name__})")
    crs = network.crs if network is not None else metric_crs_for(facilities)
    f = _to(facilities, crs)
    fac_ids = _ids(f, "facilities")
    f_geoms = np.asarray(f.geometry.values, dtype=object)
    fkind = np.array([str(k) if pd.notna(k) else "" for k in f["kind"]], dtype=object)
    rows: list[dict[str, Any]] = []
    method = "network" if network is not None else "euclidean"
    for kind in kind_list:
        sel = np.flatnonzero(
            (fkind == kind) & ~(shapely.is_missing(f_geoms) | shapely.is_empty(f_geoms))
        )
        if network is None:
            groups = [[i] for i in sel] if by == "facility" else [list(sel)]
            for grp in groups:
                for t in ts:
                    disc = shapely.union_all(shapely.buffer(f_geoms[grp], t, quad_segs=16))
                    rows.append(_area_row(kind, t, by, fac_ids, grp, method, disc))
            continue
        seeds = _attached_seeds(
            network, f_geoms, sel, fac_ids, kind, max_snap_m, "given no service area", stacklevel=3
        )
        if by == "facility":
            seed_groups = [(np.flatnonzero(seeds.fac == j), [sel[j]]) for j in range(len(sel))]
        else:
            seed_groups = [(np.arange(len(seeds.edge)), list(sel))]
        for sidx, grp in seed_groups:
            if len(sidx) == 0:
                for t in ts:
                    rows.append(_area_row(kind, t, by, fac_ids, grp, method, shapely.Polygon()))
                continue
            dist, _ = network._route(
                seeds.edge[sidx], seeds.along[sidx], seeds.offset[sidx], limit=ts[-1]
            )
            for t in ts:
                pieces = _reached_pieces(network, dist, seeds, sidx, t)
                # a union of buffers is several times faster in GEOS than the buffer of one
                # MultiLineString; 4 segments per quarter circle stay within 0.5 m at 25 m
                geom: Any = (
                    shapely.union_all(shapely.buffer(pieces, buf, quad_segs=_QUAD_SEGS))
                    if len(pieces)
                    else shapely.Polygon()
                )
                rows.append(_area_row(kind, t, by, fac_ids, grp, method, geom))
    cols = ["kind", "threshold_m", *(["facility_id"] if by == "facility" else []), "method"]
    geoms = [r.pop("geometry") for r in rows]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry=geoms, crs=crs)


def _area_row(
    kind: str,
    t: float,
    by: str,
    fac_ids: np.ndarray,
    grp: Sequence[Any],
    method: str,
    geom: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": kind, "threshold_m": t, "method": method, "geometry": geom}
    if by == "facility":
        row["facility_id"] = fac_ids[grp[0]]
    return row


def _reached_pieces(
    net: WalkNetwork, dist: np.ndarray, seeds: _Seeds, sidx: np.ndarray, t: float
) -> np.ndarray:
    """Street portions within `t` metres: whole edges and the partial ones at the threshold."""
    length = net.edge_length
    ru = t - dist[net.edge_u]  # metres still walkable from each end
    rv = t - dist[net.edge_v]
    full = (ru >= length) | (rv >= length) | ((ru > 0) & (rv > 0) & (ru + rv >= length))
    pieces: list[Any] = list(net.edge_geometry[full])
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    edges: list[np.ndarray] = []
    pu = np.flatnonzero(~full & (ru > 0))
    edges.append(pu)
    starts.append(np.zeros(len(pu)))
    ends.append(ru[pu])
    pv = np.flatnonzero(~full & (rv > 0))
    edges.append(pv)
    starts.append(length[pv] - rv[pv])
    ends.append(length[pv])
    # along its own edge a facility spreads both ways from its attachment point
    rem = t - seeds.offset[sidx]
    own = rem > 0
    se = seeds.edge[sidx][own]
    sa = seeds.along[sidx][own]
    keep = ~full[se]
    edges.append(se[keep])
    starts.append(np.maximum(sa[keep] - rem[own][keep], 0.0))
    ends.append(np.minimum(sa[keep] + rem[own][keep], length[se[keep]]))
    e = np.concatenate(edges)
    s = np.concatenate(starts)
    en = np.concatenate(ends)
    pieces.extend(_substrings(net.edge_geometry[e], s, en))
    return np.array(pieces, dtype=object)


def _substrings(geoms: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[Any]:
    """Parts of lines between two distances along them (vectorised shapely.ops.substring)."""
    ok = end > start
    geoms, start, end = geoms[ok], start[ok], end[ok]
    if not len(geoms):
        return []
    coords, gi = shapely.get_coordinates(geoms, return_index=True)
    seg = np.hypot(*np.diff(coords, axis=0).T)
    same = gi[1:] == gi[:-1]
    seg = np.where(same, seg, 0.0)
    cum = np.r_[0.0, np.cumsum(seg)]
    first = np.r_[0, np.flatnonzero(~same) + 1]
    cum = cum - np.repeat(cum[first], np.diff(np.r_[first, len(coords)]))
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end))
    inner = (cum > start[gi]) & (cum < end[gi])
    out: list[Any] = []
    inner_idx = np.flatnonzero(inner)
    split = np.searchsorted(gi[inner_idx], np.arange(len(geoms) + 1))
    for k in range(len(geoms)):
        mid = coords[inner_idx[split[k] : split[k + 1]]]
        out.append(shapely.LineString(np.vstack([p0[k], mid, p1[k]])))
    return out
