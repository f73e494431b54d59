"""Which quartier holds a feature: one rule, used by every metric, table, map and summary.

The rule (docs/metrics.md, "Assignment to a quartier"):

* a **point** belongs to the quartier that *covers* it (interior or border). A point on a border
  shared by two quartiers, or on a triple point, goes to the quartier with the smallest code, so
  that it is counted once, and in the same quartier, everywhere;
* a **polygon's counts** (dwellings, population, one facility, one renewal site) go whole to the
  quartier holding the largest share of its area; a **line's** to the one holding the largest
  share of its length (ties: smallest code). A polygon that only touches a quartier is outside;
* a **polygon's measured area** (m² de-sealed, green space) is split by intersection between the
  quartiers: :func:`split_by_quartier`.

Features outside every quartier get ``None``: they count in the ``commune`` and ``hors_qpv``
rows only (:mod:`cdv_geo.core.tables`), and only when they lie in the commune: a feature is in
the commune by the same rule (:func:`in_communes`: a point covered by a commune, a polygon or
line whose largest share lies in one). :func:`comparison_areas` gives the polygons of every row
for metrics measured over an area (sealed share, heat, de-sealed m²).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cdv_geo.core.layers import as_layer, quartier_codes
from cdv_geo.core.tables import COMMUNE, HORS_QPV, QPV, quartier_names

__all__ = ["assign_quartier", "comparison_areas", "in_communes", "split_by_quartier"]

# Areas (m²) or lengths (m) closer than this are a tie, settled by the smaller code.
_TIE = 1e-6


def _geoms(features: Any, quartiers: gpd.GeoDataFrame) -> tuple[np.ndarray, pd.Index]:
    """Return the features' geometries in the quartiers' CRS, and the index to label them."""
    if isinstance(features, gpd.GeoDataFrame | gpd.GeoSeries):
        if features.crs is not None and not CRS.from_user_input(features.crs).equals(quartiers.crs):
            features = features.to_crs(quartiers.crs)
        geo = features.geometry if isinstance(features, gpd.GeoDataFrame) else features
        return np.asarray(geo.array, dtype=object), features.index
    geoms = np.asarray(features, dtype=object)
    return geoms, pd.RangeIndex(len(geoms))


def _ranked(quartiers: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quartier geometries, codes, and each quartier's rank in code order (0 = smallest)."""
    codes = quartier_codes(quartiers)
    rank = np.empty(len(codes), dtype=np.int64)
    rank[np.argsort(codes.astype(str), kind="stable")] = np.arange(len(codes))
    return np.asarray(quartiers.geometry.array, dtype=object), codes, rank


def assign_quartier(features: Any, quartiers: gpd.GeoDataFrame) -> pd.Series:
    """Return the code of the quartier holding each feature (``None`` outside every quartier).

    Points go to the quartier covering them (a shared border or a triple point: the smallest
    code); polygons and lines go whole to the quartier holding the largest share of their area or
    length (ties: the smallest code). See the module docstring.

    Parameters
    ----------
    features : GeoDataFrame, GeoSeries or array of shapely geometries
        The features, of any geometry type (mixed layers are fine). A GeoDataFrame or GeoSeries
        is reprojected to the quartiers' CRS when it differs; an array is taken as in it.
    quartiers : GeoDataFrame
        The quartiers, with a ``code`` (or ``id``) column, in a projected CRS for polygon and line
        features (areas and lengths are compared).

    Returns
    -------
    pandas.Series
        Object dtype, aligned on `features` (a RangeIndex for an array), named ``"quartier"``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> q = gpd.GeoDataFrame({"code": ["QP2", "QP1"]},
    ...                      geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=2154)
    >>> assign_quartier([Point(5, 5), Point(10, 5), Point(50, 50), box(8, 0, 13, 1)], q).tolist()
    ['QP2', 'QP1', None, 'QP1']
    """
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    geoms, index = _geoms(features, quartiers)
    out = np.full(len(geoms), None, dtype=object)
    if len(geoms) == 0:
        return pd.Series(out, index=index, name="quartier", dtype=object)
    qgeoms, codes, rank = _ranked(quartiers)
    tree = shapely.STRtree(qgeoms)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    dim = np.where(present, shapely.get_dimensions(geoms), -1)

    pts = np.flatnonzero(dim == 0)
    if len(pts):
        fi, qi = _holding(tree, qgeoms, geoms[pts], shapely.covers)
        _settle(out, pts[fi], qi, np.zeros(len(fi)), rank, codes)

    ext = np.flatnonzero(dim > 0)
    if len(ext):
        # most homes lie inside one quartier: settle those without computing intersections
        fi, qi = _holding(tree, qgeoms, geoms[ext], shapely.contains)
        _settle(out, ext[fi], qi, np.zeros(len(fi)), rank, codes)
        ext = np.setdiff1d(ext, ext[fi])
    if len(ext):
        fi, qi = tree.query(geoms[ext], predicate="intersects")
        inter = shapely.intersection(geoms[ext][fi], qgeoms[qi])
        polygonal = dim[ext][fi] == 2
        measure = np.where(polygonal, shapely.area(inter), shapely.length(inter))
        keep = measure > _TIE
        _settle(out, ext[fi[keep]], qi[keep], measure[keep], rank, codes)
        # a degenerate polygon or line (no area, no length) counts where its point lies
        zero = np.setdiff1d(ext, ext[fi[keep]])
        if len(zero):
            rep = shapely.point_on_surface(geoms[zero])
            fi2, qi2 = tree.query(rep, predicate="covered_by")
            _settle(out, zero[fi2], qi2, np.zeros(len(fi2)), rank, codes)
    return pd.Series(out, index=index, name="quartier", dtype=object)


def _holding(
    tree: shapely.STRtree, qgeoms: np.ndarray, geoms: np.ndarray, test: Any
) -> tuple[np.ndarray, np.ndarray]:
    """(feature, quartier) pairs where ``test(quartier, feature)`` holds (covers, contains).

    The same pairs as ``tree.query(geoms, predicate="covered_by" / "within")``, the test
    run on the prepared quartiers (a few polygons, each tested against many features)
    rather than on each feature.
    """
    fi, qi = tree.query(geoms)  # (the candidates: the boxes meet)
    shapely.prepare(qgeoms)
    ok = np.asarray(test(qgeoms[qi], geoms[fi]), dtype=bool)
    return fi[ok], qi[ok]


def _settle(
    out: np.ndarray,
    feature: np.ndarray,
    quartier: np.ndarray,
    measure: np.ndarray,
    rank: np.ndarray,
    codes: np.ndarray,
) -> None:
    """For each feature, keep the candidate of largest measure, ties to the smallest code."""
    if not len(feature):
        return
    rounded = np.round(measure / _TIE) * _TIE
    order = np.lexsort((rank[quartier], -rounded, feature))
    feature, quartier = feature[order], quartier[order]
    first = np.r_[True, feature[1:] != feature[:-1]]
    out[feature[first]] = codes[quartier[first]]


def split_by_quartier(features: Any, quartiers: gpd.GeoDataFrame) -> pd.DataFrame:
    """Split each polygon's area (or line's length) between the quartiers it crosses.

    Parameters
    ----------
    features : GeoDataFrame, GeoSeries or array of shapely geometries
        Polygons or lines (points have no extent and are left out: use
        :func:`assign_quartier`).
    quartiers : GeoDataFrame
        The quartiers, in a projected CRS.

    Returns
    -------
    pandas.DataFrame
        One row per (feature, quartier) piece of positive extent: ``feature`` (the feature's
        label in `features`' index), ``quartier`` (code), ``measure`` (m² for polygons, m for
        lines, of the piece) and ``share`` (the piece over the whole feature).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"code": ["QP1", "QP2"]},
    ...                      geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=2154)
    >>> split_by_quartier([box(8, 0, 12, 1)], q)
       feature quartier  measure  share
    0        0      QP1      2.0    0.5
    1        0      QP2      2.0    0.5
    """
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    geoms, index = _geoms(features, quartiers)
    qgeoms, codes, _ = _ranked(quartiers)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    dim = np.where(present, shapely.get_dimensions(geoms), -1)
    ext = np.flatnonzero(dim > 0)
    fi, qi = shapely.STRtree(qgeoms).query(geoms[ext], predicate="intersects")
    inter = shapely.intersection(geoms[ext][fi], qgeoms[qi])
    polygonal = dim[ext][fi] == 2
    measure = np.where(polygonal, shapely.area(inter), shapely.length(inter))
    whole = np.where(polygonal, shapely.area(geoms[ext][fi]), shapely.length(geoms[ext][fi]))
    keep = measure > _TIE
    pos = ext[fi[keep]]
    order = np.lexsort((codes[qi[keep]].astype(str), pos))
    return pd.DataFrame(
        {
            "feature": np.asarray(index)[pos][order],
            "quartier": codes[qi[keep]][order],
            "measure": measure[keep][order],
            "share": (measure[keep] / whole[keep])[order],
        }
    )


def in_communes(features: Any, communes: gpd.GeoDataFrame) -> np.ndarray:
    """Return whether each feature lies in the commune(s), by the rule of :func:`assign_quartier`.

    A point is in when a commune covers it (its border included); a polygon or line when at
    least half of its area or length lies in the communes. This is what the ``commune`` row of
    every table counts: a bus stop of the neighbouring commune that sits in the input layer
    never does.

    Parameters
    ----------
    features : GeoDataFrame, GeoSeries or array of shapely geometries
        The features (reprojected to the communes' CRS when they carry another).
    communes : GeoDataFrame
        The territory's commune(s), polygons in a projected CRS.

    Returns
    -------
    numpy.ndarray
        Boolean, one value per feature.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> town = gpd.GeoDataFrame({"code": ["02722"]}, geometry=[box(0, 0, 10, 10)], crs=2154)
    >>> in_communes([Point(5, 5), Point(10, 5), Point(50, 5), box(8, 0, 30, 1)], town).tolist()
    [True, True, False, False]
    """
    communes = as_layer(communes, "communes", geometry="polygon")
    geoms, _ = _geoms(features, communes)
    cg = np.asarray(communes.geometry.array, dtype=object)
    town = shapely.union_all(cg[~(shapely.is_missing(cg) | shapely.is_empty(cg))])
    shapely.prepare(town)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    dim = np.where(present, shapely.get_dimensions(geoms), -1)
    out = np.zeros(len(geoms), dtype=bool)
    pts = dim == 0
    out[pts] = shapely.covers(town, geoms[pts])
    ext = np.flatnonzero(dim > 0)
    if len(ext):
        g = geoms[ext]
        whole = np.where(dim[ext] == 2, shapely.area(g), shapely.length(g))
        inter = shapely.intersection(g, town)
        part = np.where(dim[ext] == 2, shapely.area(inter), shapely.length(inter))
        # a degenerate polygon or line (no extent) is in where its point lies
        flat = whole <= _TIE
        out[ext] = np.where(
            flat, shapely.covers(town, shapely.point_on_surface(g)), part >= 0.5 * whole - _TIE
        )
    return out


def comparison_areas(
    quartiers: gpd.GeoDataFrame, communes: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Return the polygon of each row of a per-quartier table, in the quartiers' CRS.

    One row per quartier (its geometry), then ``qpv`` (their union), and with `communes`
    ``commune`` (the communes' union) and ``hors_qpv`` (the commune minus the quartiers). An
    area metric (sealed share, heat, de-sealed m²) measures each polygon: no row ever stands
    for another.

    Parameters
    ----------
    quartiers : GeoDataFrame
        The quartiers (``code``).
    communes : GeoDataFrame, optional
        The territory's commune(s); reprojected to the quartiers' CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code`` (the row key), ``name`` and the geometry, in table order.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"code": ["QP1"]}, geometry=[box(0, 0, 2, 2)], crs=2154)
    >>> town = gpd.GeoDataFrame({"code": ["02722"]}, geometry=[box(0, 0, 10, 10)], crs=2154)
    >>> a = comparison_areas(q, town)
    >>> list(zip(a["code"], a.area))
    [('QP1', 4.0), ('qpv', 4.0), ('commune', 100.0), ('hors_qpv', 96.0)]
    """
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    geoms = np.asarray(quartiers.geometry.array, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    qpv = shapely.union_all(geoms[ok])
    keys = [*quartier_codes(quartiers), QPV]
    shapes = [*geoms, qpv]
    if communes is not None:
        c = as_layer(communes, "communes", geometry="polygon").to_crs(quartiers.crs)
        cg = np.asarray(c.geometry.array, dtype=object)
        town = shapely.union_all(cg[~(shapely.is_missing(cg) | shapely.is_empty(cg))])
        keys += [COMMUNE, HORS_QPV]
        shapes += [town, shapely.difference(town, qpv)]
    names = quartier_names(quartiers)
    return gpd.GeoDataFrame(
        {"code": keys, "name": [names[k] for k in keys]}, geometry=shapes, crs=quartiers.crs
    )
