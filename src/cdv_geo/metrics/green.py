"""Who benefits from green: the 3-30-300 rule and the WHO green-space access indicator.

The share of residents living by the **3-30-300** rule (Konijnendijk 2023) and within 300 m of
a public green space (WHO Europe 2016), per quartier. Residents are weighted by ``population``,
else ``dwellings × persons_per_dwelling`` (about 2.2 persons per household in France, INSEE);
each residence counts in the quartier that holds it (:func:`cdv_geo.core.assign.assign_quartier`).

The 3-30-300 rule gives no measurement protocol; :func:`rule_3_30_300` uses this one, each
threshold a parameter and **inclusive** (exactly 3 trees, 30 % or 300 m passes):

- **3** — trees (sum of the ``trees`` counts) within 15 m of the home's footprint (or point): a
  proxy for *visible from home*, as no viewshed is computed.
- **30** — canopy share of the 250 m disc around the home's representative point. With a
  tree-cover raster, ``method="focal"`` (default) reads every home's disc mean from ONE FFT
  convolution of the raster with a disc kernel (:func:`cdv_geo.metrics.focal.focal_mean`, about
  200 times faster than measuring 100,000 discs, within 0.1 percentage point);
  ``method="exact"`` measures each disc polygon with exact zonal statistics. A disc with data on
  less than 1 % of its area (:data:`MIN_DATA_SHARE`) gets NaN and fails. Without a raster, the
  canopy is the union of the crowns of the tree points (:func:`cdv_geo.tree_crowns`).
- **300** — distance to the nearest public green space of at least 0.5 ha (touching polygons
  merged first, :func:`parks`): over the walking network when given (the park is entered from
  the streets bordering it), else in a straight line from the footprint to the park's edge.

Shares and distances are compared after rounding to 9 decimals (:data:`SHARE_DECIMALS`), so a
uniform 30 % raster passes "30" whatever the floating-point noise.

Konijnendijk, C. C. (2023). Evidence-based guidelines for greener, healthier, more resilient
neighbourhoods: Introducing the 3–30–300 rule. *Journal of Forestry Research* 34: 821–830.
https://doi.org/10.1007/s11676-022-01523-z
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import cdv_geo.schema  # noqa: F401  (registers the validator that as_layer(kind=...) runs)
from cdv_geo.core.assign import assign_quartier, in_communes
from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.layers import as_layer, feature_ids
from cdv_geo.core.raster import RasterLike
from cdv_geo.core.tables import COMMUNE, INDEX, quartier_table, row_name, rows_of
from cdv_geo.metrics.focal import focal_mean
from cdv_geo.metrics.trees import crown_cover, tree_counts, tree_crowns
from cdv_geo.metrics.zonal import share_stats

__all__ = ["ResidentShares", "green_space_access", "parks", "rule_3_30_300"]

#: Shares are compared with their thresholds after rounding to this many decimals, so that a
#: share of exactly 30 % (a uniform raster) passes whatever the floating-point noise.
SHARE_DECIMALS = 9
REASON_NO_HOME = "no residence in this quartier"
#: A home whose 250 m disc has canopy data (inside the raster, not nodata) on less than this
#: share of its area gets no canopy share (NaN, failing "30"): a sliver says nothing of the
#: neighbourhood, and the focal and exact methods may disagree on it.
MIN_DATA_SHARE = 0.01


@dataclass(frozen=True)
class ResidentShares:
    """Per-residence results and population-weighted shares per quartier.

    Attributes
    ----------
    residences : pandas.DataFrame
        One row per residence (indexed by residence ``id``): the measures, the pass/fail flags,
        ``residents`` (the weight) and ``quartier`` (code of the quartier holding it, or None).
    quartiers : pandas.DataFrame
        Per-quartier table (index ``quartier``: the codes, ``qpv`` for the homes in some
        quartier and, given the communes, ``commune`` for the homes inside the commune and
        ``hors_qpv`` for those of them outside every quartier): ``name``, ``n_residents``,
        ``n_homes`` and, for each flag, ``<flag>_share`` — the share of residents whose home
        passes it (NaN and a ``reason`` where there is no resident). A home outside the commune
        counts in no comparison row but ``qpv`` when a quartier holds it. Without quartiers,
        only the ``commune`` row (given the communes), else no row.
    """

    residences: pd.DataFrame
    quartiers: pd.DataFrame


def _weights(res: gpd.GeoDataFrame, persons_per_dwelling: float) -> np.ndarray:
    def col(name: str) -> pd.Series:
        if name not in res.columns:
            return pd.Series(np.nan, index=res.index)
        return pd.to_numeric(res[name], errors="coerce").astype(float)

    pop, dw = col("population"), col("dwellings")
    w = pop.where(pop.notna(), dw * persons_per_dwelling)
    return w.fillna(0.0).to_numpy(dtype=float)


def _shares(
    flags: pd.DataFrame,
    weights: np.ndarray,
    codes: pd.Series,
    quartiers: gpd.GeoDataFrame | None,
    in_commune: np.ndarray | None,
) -> pd.DataFrame:
    """Population-weighted share of residents passing each flag, per row of the table."""
    if quartiers is not None:
        masks = rows_of(codes.to_numpy(dtype=object), quartiers, in_commune=in_commune)
    else:
        masks = {} if in_commune is None else {COMMUNE: np.asarray(in_commune, dtype=bool)}
    f = flags.to_numpy(dtype=float)
    rows: dict[str, dict[str, Any]] = {}
    for key, sel in masks.items():
        total = float(weights[sel].sum())
        passed = weights[sel] @ f[sel] if sel.any() else np.zeros(f.shape[1])
        row: dict[str, Any] = {"n_residents": total, "n_homes": int(sel.sum())}
        for name, p in zip(flags.columns, passed, strict=True):
            row[f"{name}_share"] = p / total if total > 0 else np.nan
        row["reason"] = None if total > 0 else REASON_NO_HOME
        rows[key] = row
    if quartiers is not None:
        return quartier_table(quartiers, rows)
    # no quartier: the rows a table can have without them (the commune's, or none)
    columns = ["n_residents", "n_homes", *(f"{c}_share" for c in flags.columns), "reason"]
    out = pd.DataFrame(
        [{"name": row_name(k), **rows[k]} for k in rows],
        index=pd.Index(list(rows), name=INDEX, dtype=object),
        columns=["name", *columns],
    )
    return out.drop(columns="reason") if out["reason"].isna().all() else out


def parks(
    green_spaces: gpd.GeoDataFrame, *, public_only: bool = True, merge_adjacent: bool = True
) -> gpd.GeoDataFrame:
    """Green spaces as the indicators see them: public ones, touching ones merged, with areas.

    Parameters
    ----------
    green_spaces : geopandas.GeoDataFrame
        ``green_spaces`` layer, in a metric CRS.
    public_only : bool, default True
        Keep the spaces whose ``public`` field is not False.
    merge_adjacent : bool, default True
        Merge touching or overlapping polygons (a lawn and the playground beside it) into one
        space, named after its parts (``"Square A + Square B"``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``name``, ``area_m2``, polygon geometry.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"name": ["A", "B", "C"]}, crs=2154,
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(50, 0, 60, 10)])
    >>> parks(g)[["name", "area_m2"]]
        name  area_m2
    0  A + B    200.0
    1      C    100.0
    """
    gs = as_layer(green_spaces, "green_spaces", geometry="polygon", allow_empty=True)
    if public_only and "public" in gs.columns:
        gs = gs[gs["public"].astype(object).where(gs["public"].notna(), True).astype(bool)]
    geoms = np.asarray(gs.geometry.array, dtype=object)
    names = (
        gs["name"].astype(object).where(gs["name"].notna(), "").astype(str).to_numpy()
        if "name" in gs.columns
        else np.full(len(gs), "", dtype=object)
    )
    if merge_adjacent and len(geoms):
        merged = shapely.get_parts(shapely.union_all(geoms))
        merged = merged[shapely.get_type_id(merged) == 3]
        part, src = shapely.STRtree(geoms).query(merged, predicate="intersects")
        hits = pd.DataFrame({"part": part, "src": src, "name": names[src]})
        hits = (
            hits[hits["name"] != ""].sort_values(["part", "src"]).drop_duplicates(["part", "name"])
        )
        joined = hits.groupby("part")["name"].agg(" + ".join)
        names = joined.reindex(range(len(merged)), fill_value="").to_numpy(dtype=object)
        geoms = merged
    return gpd.GeoDataFrame(
        {"name": names, "area_m2": shapely.area(geoms)}, geometry=list(geoms), crs=gs.crs
    )


def _distance_to(geoms: np.ndarray, targets: gpd.GeoDataFrame) -> np.ndarray:
    """Straight-line distance (m) from each geometry to the nearest target (0 inside)."""
    return _nearest_target(geoms, np.asarray(targets.geometry.array, dtype=object))[0]


def _nearest_target(geoms: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) from each geometry to the nearest target, and which target (-1: none)."""
    out = np.full(len(geoms), np.nan)
    which = np.full(len(geoms), -1, dtype=np.int64)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if len(targets) == 0 or not present.any():
        return out, which
    tree = shapely.STRtree(targets)
    (src, dst), dist = tree.query_nearest(geoms[present], return_distance=True, all_matches=False)
    rows = np.flatnonzero(present)[src]
    out[rows], which[rows] = dist, dst
    return out, which


def _distances_by_size(
    geoms: np.ndarray, spaces: gpd.GeoDataFrame, sizes: list[float]
) -> dict[float, np.ndarray]:
    """Distance from each geometry to the nearest green space of at least each size (ha).

    The smallest size is measured for every home; a larger one only where the nearest green
    space found so far is too small (where it is large enough, the distance is the same).
    """
    area = spaces["area_m2"].to_numpy(dtype=float)
    targets = np.asarray(spaces.geometry.array, dtype=object)
    out: dict[float, np.ndarray] = {}
    dist, which = np.full(len(geoms), np.nan), np.full(len(geoms), -1)
    for a in sorted(set(sizes)):
        keep = np.flatnonzero(area >= a * 1e4)
        # homes whose nearest space (among the smaller sizes) is big enough keep it
        redo = which < 0
        redo[~redo] = area[which[~redo]] < a * 1e4
        d, w = _nearest_target(geoms[redo], targets[keep])  # NaN, -1: no space that large
        dist, which = dist.copy(), which.copy()
        dist[redo] = d
        found = np.full(len(w), -1)
        found[w >= 0] = keep[w[w >= 0]]
        which[redo] = found
        out[a] = dist
    return out


def _trees_within(geoms: np.ndarray, trees: gpd.GeoDataFrame, radius: float) -> np.ndarray:
    """Trees (sum of counts) within `radius` of each home (inclusive)."""
    counts = tree_counts(trees)
    n = np.zeros(len(geoms))
    tgeoms = np.asarray(trees.geometry.array, dtype=object)
    if len(tgeoms) and len(geoms):
        src, dst = shapely.STRtree(tgeoms).query(geoms, predicate="dwithin", distance=radius)
        np.add.at(n, src, counts[dst])
    return n


def _canopy_at(
    homes: np.ndarray,
    crs: Any,
    *,
    trees: gpd.GeoDataFrame,
    canopy: RasterLike | None,
    radius: float,
    scale: float,
    method: str,
) -> tuple[np.ndarray, str]:
    """Canopy share of the disc of `radius` around each home, and how it was measured."""
    centres = shapely.point_on_surface(homes)
    if canopy is not None and method == "focal":
        pts = gpd.GeoSeries(centres, crs=crs)
        f = focal_mean(pts, canopy, radius, scale=scale, what="tree cover")
        valid = f["valid_share"].to_numpy(dtype=float)
        return np.where(valid >= MIN_DATA_SHARE, f["mean"].to_numpy(dtype=float), np.nan), "focal"
    discs = shapely.buffer(centres, radius, quad_segs=32)
    if canopy is not None:
        polys = gpd.GeoDataFrame({"id": np.arange(len(discs))}, geometry=list(discs), crs=crs)
        z = share_stats(polys, canopy, what="tree cover", scale=scale)
        inside = 1.0 - z["outside_share"].to_numpy(dtype=float)
        valid = inside * (1.0 - np.nan_to_num(z["nodata_share"].to_numpy(dtype=float), nan=1.0))
        return np.where(valid >= MIN_DATA_SHARE, z["mean"].to_numpy(dtype=float), np.nan), "exact"
    crowns = tree_crowns(trees, crs=crs)
    covered = crown_cover(discs, np.asarray(crowns.geometry.array, dtype=object))
    area = shapely.area(discs)
    return np.divide(covered, area, out=np.full(len(area), np.nan), where=area > 0), "tree points"


def _park_distance(
    homes: np.ndarray, ids: np.ndarray, big: gpd.GeoDataFrame, network: Any, max_snap_m: float
) -> np.ndarray:
    """Return the distance from each home to the nearest `big` park: walking, else straight."""
    if network is None:
        return _distance_to(homes, big)
    return _network_park_distance(homes, ids, big, network, max_snap_m)


def _result(
    per: pd.DataFrame,
    flags: pd.DataFrame,
    quartiers: gpd.GeoDataFrame | None,
    homes: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame | None,
) -> ResidentShares:
    """Return the per-home table and the shares of each row (homes in the commune: `communes`)."""
    town = None if communes is None else in_communes(homes, communes)
    weights = per["residents"].to_numpy()
    return ResidentShares(per, _shares(flags, weights, per["quartier"], quartiers, town))


def _network_park_distance(
    homes: np.ndarray, ids: np.ndarray, big: gpd.GeoDataFrame, network: Any, max_snap_m: float
) -> np.ndarray:
    """Return the walking distance from each home to the nearest of the `big` parks."""
    from cdv_geo.metrics.access import nearest_facility

    if len(big) == 0:
        return np.full(len(homes), np.nan)
    origins = gpd.GeoDataFrame({"id": ids}, geometry=list(homes), crs=big.crs)
    names = big["name"].astype(str)
    # park names as ids, so the access messages name them, unless they clash
    unique = names.is_unique and bool((names != "").all())
    fallback = "park_" + pd.Series(np.arange(1, len(big) + 1)).astype(str)
    facilities = gpd.GeoDataFrame(
        {
            "id": (names if unique else fallback).to_numpy(dtype=object),
            "name": list(big["name"]),
            "kind": "park",
        },
        geometry=list(big.geometry.array),
        crs=big.crs,
    )
    nf = nearest_facility(
        origins, facilities, network=network, kinds=["park"], max_snap_m=max_snap_m
    )
    return nf["park_distance_m"].reindex(ids).to_numpy(dtype=float)


def _passes(values: np.ndarray, threshold: float, *, at_most: bool = False) -> np.ndarray:
    """Inclusive test of shares/distances against a threshold; NaN fails."""
    v = np.round(np.asarray(values, dtype=float), SHARE_DECIMALS)
    with np.errstate(invalid="ignore"):
        ok = v <= threshold if at_most else v >= threshold
    return ok & np.isfinite(v)


def rule_3_30_300(
    residences: gpd.GeoDataFrame,
    *,
    trees: gpd.GeoDataFrame,
    canopy: RasterLike | None = None,
    green_spaces: gpd.GeoDataFrame,
    network: Any = None,
    quartiers: gpd.GeoDataFrame | None = None,
    method: Literal["focal", "exact"] = "focal",
    tree_radius_m: float = 15.0,
    canopy_radius_m: float = 250.0,
    min_park_ha: float = 0.5,
    park_distance_m: float = 300.0,
    min_trees: int = 3,
    min_canopy_share: float = 0.30,
    canopy_scale: float = 0.01,
    persons_per_dwelling: float = 2.2,
    public_only: bool = True,
    merge_adjacent: bool = True,
    max_snap_m: float = 200.0,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
) -> ResidentShares:
    """Which homes meet the 3-30-300 rule, and the share of residents who do, per quartier.

    At least **3** trees seen from home, **30 %** canopy around it, a public green space within
    **300 m** (Konijnendijk 2023); the measurement protocol is the module's.

    Parameters
    ----------
    residences : geopandas.GeoDataFrame
        ``residences`` layer (building footprints or points, ``population``/``dwellings``).
    trees : geopandas.GeoDataFrame
        Tree points: the tree inventory, or at least the ``tree_plantings``.
    canopy : str, path-like or rasterio dataset, optional
        Tree-cover raster (0–100 %, ``canopy_scale``); without it, from `trees`' crowns.
    green_spaces : geopandas.GeoDataFrame
        ``green_spaces`` layer (private ones ignored when `public_only`).
    network : cdv_geo.WalkNetwork, optional
        Walking network for "300" (straight line without it).
    quartiers : geopandas.GeoDataFrame, optional
        For the quartier and ``qpv`` rows (without it: ``commune`` only, given `communes`).
    method : {"focal", "exact"}, default "focal"
        How the canopy raster is read (a raster not in metres: always exactly).
    tree_radius_m, canopy_radius_m, min_park_ha, park_distance_m, min_trees, min_canopy_share
        The thresholds (15 m, 250 m, 0.5 ha, 300 m, 3 trees, 30 %), all inclusive.
    canopy_scale, persons_per_dwelling, public_only, merge_adjacent, max_snap_m
        Raster scale (0.01), residents per dwelling (2.2), green-space selection (:func:`parks`),
        snapping distance to the network (200 m: farther homes and parks fail "300").
    crs : optional
        Metric CRS (:func:`cdv_geo.core.crs.choose_metric_crs`).
    communes : geopandas.GeoDataFrame, optional
        Adds the ``commune``, ``hors_qpv`` rows (their homes; a park beyond still counts).

    Returns
    -------
    ResidentShares
        ``.residences`` (by residence ``id``): ``n_trees_within``, ``meets_3``,
        ``canopy_share``, ``canopy_method``, ``meets_30``, ``park_distance_m``,
        ``park_distance_method``, ``meets_300``, ``meets_3_30_300``, ``residents``,
        ``quartier``; ``.quartiers``: ``meets_<x>_share`` for each flag (:class:`ResidentShares`).

    Examples
    --------
    Two homes: one with 3 trees in front and a 1 ha park 50 m away, one 2 km off. The three
    trees' crowns (60 m across in all) cover 5.8 % of the 250 m disc: neither passes "30".

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> x, y = 728400, 6920700  # Lambert-93, Soissons
    >>> homes = gpd.GeoDataFrame({"population": [4, 2]},
    ...     geometry=[Point(x, y), Point(x + 2000, y)], crs=2154)
    >>> trees = gpd.GeoDataFrame({"trees": [3], "crown_diameter_m": [60.0]},
    ...     geometry=[Point(x + 5, y)], crs=2154)
    >>> park = gpd.GeoDataFrame({"name": ["Parc"]}, crs=2154,
    ...     geometry=[box(x + 50, y - 50, x + 150, y + 50)])
    >>> town = gpd.GeoDataFrame(geometry=[box(x - 100, y - 100, x + 2100, y + 100)], crs=2154)
    >>> r = rule_3_30_300(homes, trees=trees, green_spaces=park, communes=town)
    >>> r.residences[["n_trees_within", "meets_3", "meets_30", "park_distance_m", "meets_300"]]
        n_trees_within  meets_3  meets_30  park_distance_m  meets_300
    id
    1              3.0     True     False             50.0       True
    2              0.0    False     False           1850.0      False
    >>> round(float(r.quartiers.loc["commune", "meets_3_share"]), 4)  # 4 of 6 residents
    0.6667
    """
    if method not in ("focal", "exact"):
        raise ValueError(f"method={method!r}; expected 'focal' or 'exact'")
    res, gs, q = _layers(residences, green_spaces, quartiers)
    tr = as_layer(trees, "trees", kind="tree_plantings", geometry="point")
    mcrs = choose_metric_crs(res, crs)
    rm = res.to_crs(mcrs)
    geoms = np.asarray(rm.geometry.array, dtype=object)
    n_trees = _trees_within(geoms, tr.to_crs(mcrs), tree_radius_m)
    exact = canopy is not None and (method == "exact" or not _metric_raster(canopy))
    cshare, cmethod = _canopy_at(
        geoms, mcrs, trees=tr.to_crs(mcrs), canopy=canopy, radius=canopy_radius_m,
        scale=canopy_scale, method="exact" if exact else "focal",
    )  # fmt: skip
    big = parks(gs.to_crs(mcrs), public_only=public_only, merge_adjacent=merge_adjacent)
    big = big[big["area_m2"] >= min_park_ha * 1e4]
    park_d = _park_distance(geoms, feature_ids(res), big, network, max_snap_m)
    per = pd.DataFrame(
        {
            "n_trees_within": n_trees,
            "meets_3": n_trees >= min_trees,
            "canopy_share": cshare,
            "canopy_method": cmethod,
            "meets_30": _passes(cshare, min_canopy_share),
            "park_distance_m": park_d,
            "park_distance_method": "straight_line" if network is None else "network",
            "meets_300": _passes(park_d, park_distance_m, at_most=True),
            "residents": _weights(res, persons_per_dwelling),
            "quartier": _codes(rm, q),
        },
        index=pd.Index(feature_ids(res), name="id"),
    )
    per.insert(7, "meets_3_30_300", per["meets_3"] & per["meets_30"] & per["meets_300"])
    flags = per[["meets_3", "meets_30", "meets_300", "meets_3_30_300"]]
    return _result(per, flags, q, rm, communes)


def _layers(
    residences: Any, green_spaces: Any, quartiers: Any
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Coerce the residences, green spaces and (optional) quartiers of the two indicators."""
    res = as_layer(residences, "residences", kind="residences", geometry=["point", "polygon"])
    gs = as_layer(green_spaces, "green_spaces", kind="green_spaces", geometry="polygon")
    if quartiers is None:
        return res, gs, None
    return res, gs, as_layer(quartiers, "quartiers", kind="quartiers", geometry="polygon")


def _codes(layer: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame | None) -> np.ndarray:
    """Return the code of the quartier holding each feature (None without quartiers)."""
    if quartiers is None:
        return np.full(len(layer), None, dtype=object)
    return assign_quartier(layer, quartiers.to_crs(layer.crs)).to_numpy(dtype=object)


def _metric_raster(raster: RasterLike) -> bool:
    """Whether the raster's CRS is projected in metres (a focal disc needs it)."""
    from cdv_geo.core.raster import check_raster, open_raster

    with open_raster(raster) as op:
        rcrs = check_raster(op, 1)
    units = {ax.unit_name for ax in rcrs.axis_info}
    return bool(rcrs.is_projected and units <= {"metre", "meter"})


def _ha_label(a: float) -> str:
    return f"{a:g}".replace(".", "_") + "ha"


def green_space_access(
    residences: gpd.GeoDataFrame,
    green_spaces: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    distance_m: float = 300.0,
    min_area_ha: float | Iterable[float] = (0.5, 1.0),
    public_only: bool = True,
    merge_adjacent: bool = True,
    persons_per_dwelling: float = 2.2,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
) -> ResidentShares:
    """Share of residents within `distance_m` (straight line) of a green space of each size.

    The WHO Regional Office for Europe's indicator of urban green-space availability: the
    share of the population living within 300 m (straight-line distance, inclusive) of a
    public green space of at least 0.5–1 ha. Distances run from the home's footprint (or point)
    to the green space's edge (0 when inside). Green spaces are selected and merged by
    :func:`parks`. Residents are weighted as in :func:`rule_3_30_300`.

    Parameters
    ----------
    residences : geopandas.GeoDataFrame
        ``residences`` layer.
    green_spaces : geopandas.GeoDataFrame
        ``green_spaces`` layer.
    quartiers : geopandas.GeoDataFrame
        ``quartiers`` layer.
    distance_m : float, default 300
        Straight-line distance threshold (inclusive).
    min_area_ha : float or iterable of float, default (0.5, 1.0)
        Minimum green-space sizes, one indicator each.
    public_only, merge_adjacent : bool, default True
        Green-space selection (see :func:`parks`).
    persons_per_dwelling : float, default 2.2
        Residents per dwelling where a residence has no ``population``.
    crs : optional
        Metric CRS (:func:`cdv_geo.core.crs.choose_metric_crs`).
    communes : geopandas.GeoDataFrame, optional
        The territory's commune(s): adds the ``commune`` and ``hors_qpv`` rows (the homes
        inside the commune; a park across the border still counts for them).

    Returns
    -------
    ResidentShares
        ``.residences`` (by residence ``id``): for each size *a* (``0_5ha``, ``1ha``...),
        ``green_<a>_distance_m`` and ``green_<a>`` (within `distance_m`), plus ``residents``
        and ``quartier``. ``.quartiers`` (by ``quartier``, then ``qpv`` and, with `communes`,
        ``commune`` and ``hors_qpv``; see :class:`ResidentShares`): ``name``,
        ``n_residents``, ``n_homes``, ``green_<a>_share``, ``reason``.

    References
    ----------
    WHO Regional Office for Europe (2016). *Urban green spaces and health: a review of
    evidence*. Copenhagen: WHO Europe.

    Examples
    --------
    A home 50 m from a 0.64 ha square and 250 m from a 1 ha park (30 residents), another
    far from both (10 residents):

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> x, y = 728400, 6920700  # Lambert-93, Soissons
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Centre"]},
    ...                      geometry=[box(x, y, x + 1000, y + 1000)], crs=2154)
    >>> homes = gpd.GeoDataFrame({"population": [30, 10]}, crs=2154,
    ...     geometry=[Point(x + 100, y + 100), Point(x + 900, y + 900)])
    >>> parks = gpd.GeoDataFrame({"name": ["Square", "Parc"]}, crs=2154,
    ...     geometry=[box(x + 150, y + 100, x + 230, y + 180),
    ...               box(x + 350, y + 100, x + 450, y + 200)])
    >>> a = green_space_access(homes, parks, q)
    >>> a.residences[["green_0_5ha_distance_m", "green_1ha_distance_m", "residents"]].round(1)
        green_0_5ha_distance_m  green_1ha_distance_m  residents
    id
    1                     50.0                 250.0       30.0
    2                    832.2                 832.2       10.0
    >>> a.quartiers[["n_residents", "n_homes", "green_0_5ha_share", "green_1ha_share"]]
              n_residents  n_homes  green_0_5ha_share  green_1ha_share
    quartier
    Q1               40.0        2               0.75             0.75
    qpv              40.0        2               0.75             0.75
    """
    if quartiers is None:
        as_layer(quartiers, "quartiers")  # the quartiers are required here: say so
    res, gs, q = _layers(residences, green_spaces, quartiers)
    assert q is not None
    mcrs = choose_metric_crs(res, crs)
    rm = res.to_crs(mcrs)
    sizes = [float(min_area_ha)] if isinstance(min_area_ha, int | float) else list(min_area_ha)
    geoms = np.asarray(rm.geometry.array, dtype=object)
    spaces = parks(gs.to_crs(mcrs), public_only=public_only, merge_adjacent=merge_adjacent)
    per = pd.DataFrame(index=pd.Index(feature_ids(res), name="id"))
    distances = _distances_by_size(geoms, spaces, sizes)
    for a in sizes:  # one column pair per size asked for (a handful), not per row
        lab = _ha_label(a)
        d = distances[a]
        per[f"green_{lab}_distance_m"] = d
        per[f"green_{lab}"] = _passes(d, distance_m, at_most=True)
    per["residents"] = _weights(res, persons_per_dwelling)
    per["quartier"] = _codes(rm, q)
    flags = per[[f"green_{_ha_label(a)}" for a in sizes]]
    return _result(per, flags, q, rm, communes)
