"""Who lives within a short walk of each service: nearest facility and coverage.

The functions share one model of walking (Handy & Niemeier 1997, "Measuring accessibility";
the "cumulative opportunities" measure when a threshold is applied):

* an origin (a residence; polygons use a point inside them) and a facility are each attached to
  the **nearest point of the nearest street** (:meth:`~cdv_geo.network.WalkNetwork.snap`); the
  straight walk to that point is the *snap distance*. Polygon facilities (parks, school grounds)
  are reached at every point of their boundary that lies within
  :data:`POLYGON_ACCESS_TOLERANCE_M` of their nearest street distance, i.e. from each street that
  borders them; a MultiPoint facility lists its entrances, each one a way in
  (:mod:`cdv_geo.metrics.walking`);
* the walking distance is ``snap(origin) + network distance between the two attachment points +
  snap(facility)``, the network distance running along the streets (the two ends of each edge,
  or directly along a shared edge);
* a point farther than ``max_snap_m`` from every street is *unreachable* (NaN, with a reason),
  never attached to a far-away street;
* time = distance / speed (4.5 km/h by default, i.e. 75 m per minute).

With ``network=None`` the same functions use straight-line distances and say so in their
``method`` column (``"euclidean"``): an answer labelled for what it is, for planners without a
street layer. Straight lines understate walking distances (by about 20–40 % in French towns).

Distances are measured in one metric CRS: the network's (built in the project's CRS), or without
a network :func:`cdv_geo.core.crs.choose_metric_crs` (``crs=``, else EPSG:2154 in metropolitan
France). Routing is one multi-source Dijkstra (:meth:`~cdv_geo.network.WalkNetwork.route`) per
facility kind, from virtual nodes placed at the facilities' attachment points. Service areas
(the maps' isochrones) are in :mod:`cdv_geo.metrics.service_areas`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.assign import assign_quartier, in_communes
from cdv_geo.core.errors import CdvGeoError, DataValidationError, Problem
from cdv_geo.core.layers import as_layer
from cdv_geo.core.tables import is_comparison_row, quartier_names, rows_of
from cdv_geo.metrics.nearest import NearestWalks, nearest_walks
from cdv_geo.metrics.population import population_source_of
from cdv_geo.metrics.walking import (
    POLYGON_ACCESS_TOLERANCE_M,
    check_positive,
    id_text,
    to_crs,
)
from cdv_geo.network import WalkNetwork

__all__ = [
    "COVERAGE_COLUMNS",
    "COVERAGE_INDEX",
    "POLYGON_ACCESS_TOLERANCE_M",
    "coverage",
    "nearest_facility",
]

#: Index levels of the :func:`coverage` table.
COVERAGE_INDEX = ("quartier", "kind", "threshold_min")
#: Columns of the :func:`coverage` table (``population_source`` only when the homes are weighted
#: by their residents, ``reason`` only when a share is missing).
COVERAGE_COLUMNS = (
    "name",
    "threshold_m",
    "covered_share",
    "n_residents",
    "n_residents_covered",
    "n_homes",
    "n_homes_covered",
    "n_unreachable",
    "weight",
    "method",
)

#: The ``method`` column's dtypes, built once.
_METHOD_DTYPES = {m: pd.CategoricalDtype(pd.Index([m])) for m in ("network", "euclidean")}


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
    crs: Any = None,
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
    crs : str, int or pyproj.CRS, optional
        The project's metric CRS. Without a network, distances are measured in it (default:
        EPSG:2154 in metropolitan France, else the UTM zone); with a network, in the network's
        CRS (build it with the same ``crs=``), which `crs` must then equal.

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
    LayerTypeError
        `origins` or `facilities` is not a GeoDataFrame (a plain DataFrame...).
    CRSError
        A layer has no CRS, or `crs` differs from the network's.
    DataValidationError
        An empty layer, no ``kind`` column, an unknown kind (the message lists the kinds
        present), duplicate ids.

    Examples
    --------
    A street from (0, 0) to (300, 0); a home 10 m north of x=50, a school 20 m south of x=250:

    >>> import geopandas as gpd
    >>> from shapely import LineString, Point
    >>> streets = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (300, 0)])], crs=2154)
    >>> net = WalkNetwork.from_lines(streets, crs=2154)
    >>> homes = gpd.GeoDataFrame({"id": ["h1"]}, geometry=[Point(50, 10)], crs=2154)
    >>> schools = gpd.GeoDataFrame({"id": ["s1"], "kind": ["school"]},
    ...                            geometry=[Point(250, -20)], crs=2154)
    >>> d = nearest_facility(homes, schools, network=net)
    >>> d[["school_distance_m", "school_time_min", "school_facility_id", "snap_distance_m"]]
        school_distance_m  school_time_min school_facility_id  snap_distance_m
    id
    h1              230.0         3.066667                 s1             10.0
    >>> nearest_facility(homes, schools, crs=2154)["school_distance_m"].round(1).tolist()
    [202.2]
    """
    speed = check_positive(speed_kmh, "speed_kmh")
    res = nearest_walks(
        origins,
        facilities,
        network=network,
        kinds=kinds,
        max_snap_m=max_snap_m,
        max_distance_m=max_distance_m,
        crs=crs,
    )
    return _nearest_frame(res, speed)


def _nearest_frame(res: NearestWalks, speed_kmh: float) -> pd.DataFrame:
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
    vals = [check_positive(v, name) for v in values]
    vals = sorted(set(vals))
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
        ids = id_text(origins).to_numpy(dtype=object)[bad]
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
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Share of residents (or dwellings) within a walking threshold of each kind of facility.

    The cumulative-opportunities measure per row: share = Σ w_i [d_i ≤ T] / Σ w_i over the
    origins i (homes) of the row, with d_i the walking distance to the nearest facility of the
    kind (:func:`nearest_facility`) and T the threshold (Handy & Niemeier 1997). A home exactly
    at the threshold is covered.

    Each home belongs to one quartier, by the one rule of
    :func:`cdv_geo.core.assign.assign_quartier`: a point goes to the quartier covering it (on
    a border shared by two quartiers, or a triple point, to the smallest code); a building
    footprint goes whole to the quartier holding the largest share of its area. The named
    comparison rows count the homes of the quartiers together (``qpv``) and, with `communes`,
    the homes inside the commune perimeter (``commune``: :func:`cdv_geo.core.assign.in_communes`,
    a home on the border is in) and those of them outside every quartier (``hors_qpv``). Only
    the homes counted are restricted: the facility reached may lie anywhere, in the layer, a
    service across the commune border serving the homes near it all the same.

    Parameters
    ----------
    origins : geopandas.GeoDataFrame
        Residences (points or footprints), with a CRS.
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
        Walking speed (4.5 km/h = 75 m per minute).
    max_snap_m : float, default 200
        Origins and facilities farther than this from every street are unreachable.
    crs : str, int or pyproj.CRS, optional
        The project's metric CRS (see :func:`nearest_facility`).
    communes : geopandas.GeoDataFrame, optional
        The territory's commune(s): adds the rows ``commune`` and ``hors_qpv``.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``quartier``, ``kind``, ``threshold_min``): each quartier in the layer's
        order, then ``qpv``, then with `communes` ``commune`` and ``hors_qpv``; for each, the
        kinds, then the thresholds in increasing order (so within each kind and threshold the
        quartiers come in order, then the comparison rows). Columns: ``name``,
        ``threshold_m``, ``covered_share`` (0–1), ``n_residents`` (total weight of the row's
        homes: residents, dwellings or homes as `weight` says), ``n_residents_covered``,
        ``n_homes``, ``n_homes_covered``, ``n_unreachable`` (homes farther than `max_snap_m`
        from the streets, without geometry, or on a detached part without such a facility: in
        the totals, never covered), ``weight``, ``method``, ``population_source`` when `weight`
        is ``"population"`` (``"residences"``, or ``"grid"`` for homes made from the Filosofi
        grid: :func:`cdv_geo.metrics.population.population_source_of`), and ``reason`` when a
        share is NaN (``"no home in this quartier"``, ``"no home in this row"`` on a
        comparison row, or a total weight of 0).

    Raises
    ------
    LayerTypeError, CRSError, DataValidationError
        A layer is not a GeoDataFrame, has no CRS or is empty; no ``kind`` or weight column.

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
    >>> net = WalkNetwork.from_lines(streets, crs=2154)
    >>> c = coverage(homes, ccas, q, network=net, threshold_min=5)  # 5 min = 375 m
    >>> c[["name", "covered_share", "n_residents"]]
                                           name  covered_share  n_residents
    quartier kind threshold_min
    Q1       ccas 5.0                    Centre            1.0         40.0
    qpv      ccas 5.0          Ensemble des QPV            1.0         40.0
    >>> c["population_source"].iloc[0]
    'residences'

    The commune ends at x = 600: the home at x = 900 is not counted in it, the one at x = 300
    (in the quartier) is, and so is the home at x = 550, outside the quartier (``hors_qpv``), 555 m
    from the centre:

    >>> more = pd.concat([homes, gpd.GeoDataFrame({"population": [20]},
    ...                   geometry=[Point(550, 5)], crs=2154)], ignore_index=True)
    >>> town = gpd.GeoDataFrame({"code": ["02722"]}, geometry=[box(0, -600, 600, 600)],
    ...                         crs=2154)
    >>> c = coverage(more, ccas, q, network=net, threshold_min=5, communes=town)
    >>> c[["covered_share", "n_residents", "n_homes"]]
                                covered_share  n_residents  n_homes
    quartier kind threshold_min
    Q1       ccas 5.0                1.000000         40.0        2
    qpv      ccas 5.0                1.000000         40.0        2
    commune  ccas 5.0                0.666667         60.0        3
    hors_qpv ccas 5.0                0.000000         20.0        1
    """
    speed = check_positive(speed_kmh, "speed_kmh")
    t_m, t_min = _thresholds(threshold_m, threshold_min, speed)
    # (any geometry: a point inside polygons and lines; no family check on 100,000 homes)
    origins = as_layer(origins, "origins")
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    w = _weights(origins, weight)
    res = nearest_walks(
        origins,
        facilities,
        network=network,
        kinds=kinds,
        max_snap_m=max_snap_m,
        max_distance_m=max(t_m),
        crs=crs,
    )
    q = to_crs(quartiers, res.crs)
    town = None
    if communes is not None:
        town = in_communes(res.origin_geoms, to_crs(as_layer(communes, "communes"), res.crs))
    member_of = rows_of(assign_quartier(res.origin_geoms, q).to_numpy(), q, in_commune=town)
    keys, rows = _coverage_rows(res, w, weight, member_of, quartier_names(q), t_m, t_min)
    index = pd.MultiIndex.from_tuples(keys, names=list(COVERAGE_INDEX))
    out = pd.DataFrame(rows, index=index)
    if weight == "population":
        # the shares divide by residents: say whose count (residences or the Filosofi grid)
        out.insert(
            list(out.columns).index("method") + 1,
            "population_source",
            population_source_of(origins),
        )
    if out["reason"].isna().all():
        out = out.drop(columns="reason")
    return out


def _coverage_rows(
    res: NearestWalks,
    w: np.ndarray,
    weight: str | None,
    member_of: dict[str, np.ndarray],
    names: dict[str, Any],
    t_m: list[float],
    t_min: list[float],
) -> tuple[list[tuple[str, str, float]], list[dict[str, Any]]]:
    """Return the index keys and the rows of the coverage table, quartier by quartier."""
    not_placed = np.zeros(len(w), dtype=bool)
    for mask, _msg in res.origin_reasons:
        not_placed |= mask
    fixed = {"weight": weight if weight is not None else "count", "method": res.method}
    keys: list[tuple[str, str, float]] = []
    rows: list[dict[str, Any]] = []
    for key, member in member_of.items():
        n_homes = int(member.sum())
        total = float(w[member].sum())
        reason = None
        # (stable texts, mapped to the committee's words by cdv_geo.core.reasons)
        where = "row" if is_comparison_row(key) else "quartier"
        if n_homes == 0:
            reason = f"no home in this {where}"
        elif total <= 0:
            reason = f"the homes of this {where} have a total {fixed['weight']} of 0"
        for kind, r in res.kinds.items():
            n_unreach = int((member & (not_placed | r.unreachable)).sum())
            for tm, tmin in zip(t_m, t_min, strict=True):
                covered = member & (r.distance <= tm)  # NaN compares False
                covered_w = float(w[covered].sum())
                keys.append((key, kind, tmin))
                rows.append(
                    {
                        "name": names[key],
                        "threshold_m": tm,
                        "covered_share": covered_w / total if reason is None else np.nan,
                        "n_residents": total,
                        "n_residents_covered": covered_w,
                        "n_homes": n_homes,
                        "n_homes_covered": int(covered.sum()),
                        "n_unreachable": n_unreach,
                        **fixed,
                        "reason": reason,
                    }
                )
    return keys, rows
