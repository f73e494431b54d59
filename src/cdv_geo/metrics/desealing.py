r"""De-sealing: the area de-sealed in each quartier (by site type, year...) and its effect.

Areas are measured from the geometries in the metric CRS and split between the quartiers by
intersection (:func:`cdv_geo.core.assign.split_by_quartier`): a yard straddling a boundary counts
in both quartiers' m², for its part in each. Its *count* (``n_sites``) goes whole to one
quartier, the one holding the largest share of its area
(:func:`cdv_geo.core.assign.assign_quartier`), so that the quartier rows add up. Overlapping
de-sealed polygons count once (their union is measured). The table follows the result-table
contract (:mod:`cdv_geo.core.tables`), broken down as
:func:`cdv_geo.metrics.breakdown.breakdown_table` lays it out. The comparison rows are measured
the same way on their own polygons (:func:`cdv_geo.core.assign.comparison_areas`): ``qpv`` on
the quartiers' union and, given the communes, ``commune`` on the commune (a site outside it
never counts) and ``hors_qpv`` on the commune minus the quartiers.

When the quartiers' sealed share *before* is known (a raster, or a Series of fractions by
quartier code), the **vector estimate** of the share after de-sealing, for when no "after"
raster exists yet, is

.. math:: s_\text{after} = \max\left(0,\; s_\text{before} - \frac{A_\text{desealed}}
          {A_\text{quartier}}\right)

which assumes every de-sealed m² was fully sealed before and is fully permeable after: an
upper bound of the gain. It is given on each row's total (*by* levels ``"all"``), since it is
the effect of every site.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import cdv_geo.schema  # noqa: F401  (registers the validator that as_layer(kind=...) runs)
from cdv_geo.core.assign import (
    assign_quartier,
    comparison_areas,
    in_communes,
    split_by_quartier,
)
from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.core.layers import as_layer, quartier_codes
from cdv_geo.core.raster import RasterLike
from cdv_geo.core.tables import COMMUNE, comparison_keys, is_comparison_row, join_reasons, rows_of
from cdv_geo.metrics.breakdown import breakdown_table, by_columns
from cdv_geo.metrics.impervious import impervious_share

__all__ = ["desealing_summary"]

REASON_TOTAL_ONLY = "sealed share estimated on the quartier's total row only"
REASON_NO_BEFORE = "sealed share before unknown"


def _sealed_before(
    quartiers: gpd.GeoDataFrame,
    impervious: RasterLike | pd.Series | None,
    *,
    scale: float,
    band: int,
    nodata: float | Sequence[float] | None,
    crs: Any,
    communes: gpd.GeoDataFrame | None,
) -> dict[str, float] | None:
    """Sealed share of each row before de-sealing (by row key), or None.

    A Series must give every quartier; it may give comparison rows too (else they are NaN).
    """
    if impervious is None:
        return None
    codes = list(quartier_codes(quartiers))
    if isinstance(impervious, pd.Series):
        before = impervious.copy()
        before.index = before.index.astype(str)
        missing = [c for c in codes if c not in before.index]
        if missing:
            raise DataValidationError(
                [
                    Problem(
                        "no sealed share given for this quartier in `impervious`; index the "
                        "Series by quartier code",
                        layer="quartiers",
                        feature=m,
                    )
                    for m in missing
                ]
            )
        keys = [*codes, *comparison_keys(before.index)]
        values = pd.to_numeric(before.reindex(keys), errors="coerce").astype(float)
        return dict(zip(keys, values.tolist(), strict=True))
    s = impervious_share(
        quartiers, impervious, scale=scale, band=band, nodata=nodata, crs=crs, communes=communes
    )
    shares = s["impervious_share"].to_numpy(dtype=float)
    return dict(zip(map(str, s.index), shares.tolist(), strict=True))


def desealing_summary(
    desealed_areas: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    by: str | Sequence[str] | None = ("site_type", "year"),
    impervious: RasterLike | pd.Series | None = None,
    scale: float = 0.01,
    band: int = 1,
    nodata: float | Sequence[float] | None = None,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    r"""De-sealed area per quartier (and per site type, year...), with the sealed share after.

    Areas are computed from the geometries in the metric CRS (an ``area`` field in the file is
    ignored) and split between the rows' polygons by intersection (overlapping de-sealed
    polygons count once): the quartiers, ``qpv`` (their union) and, with `communes`,
    ``commune`` (a site outside the commune never counts) and ``hors_qpv`` (the commune minus
    the quartiers). A site's count goes whole to the quartier holding its largest share;
    ``commune`` counts the sites with at least half their area in it
    (:func:`cdv_geo.core.assign.in_communes`).

    With the sealed share *before* (`impervious`), each row's total gets the vector estimate
    of the share after de-sealing (module docstring). Filter `desealed_areas` first to count
    only finished works (``d[d.status == "done"]``).

    Parameters
    ----------
    desealed_areas : geopandas.GeoDataFrame
        ``desealed_areas`` layer (``site``, ``site_type``, ``year``, ``status``).
    quartiers : geopandas.GeoDataFrame
        ``quartiers`` layer.
    by : str or sequence of str, default ("site_type", "year")
        Fields of `desealed_areas` to break the totals down by (None: one row per quartier).
    impervious : raster or pandas.Series, optional
        Sealed share of each row before de-sealing: an imperviousness raster (measured
        with :func:`cdv_geo.metrics.impervious.impervious_share`, every row) or fractions
        indexed by quartier code (every quartier; ``qpv``, ``commune``, ``hors_qpv`` when
        known).
    scale, band, nodata
        Encoding of the `impervious` raster.
    crs : optional
        Metric CRS (:func:`cdv_geo.core.crs.choose_metric_crs`).
    communes : geopandas.GeoDataFrame, optional
        The territory's commune(s): adds the ``commune`` and ``hors_qpv`` rows.

    Returns
    -------
    pandas.DataFrame
        Index (``quartier``, *by*): the quartiers, ``qpv``, with `communes` ``commune`` and
        ``hors_qpv`` (totals last, *by* levels ``"all"``). Columns: ``name``,
        ``n_sites`` (sites counted in the row: each site in the quartier holding the largest share
        of its area), ``desealed_m2``, ``quartier_area_m2`` (the area of the row's polygon),
        ``desealed_share``; with `impervious`: ``impervious_before_share``,
        ``impervious_after_share``, ``impervious_change_pp``; ``reason``.

    Raises
    ------
    LayerTypeError, CRSError, DataValidationError
        Bad layers, unknown `by` fields, a quartier missing from an `impervious` Series.

    Examples
    --------
    A 100 m × 100 m quartier, 60 % sealed, with a 20 m × 20 m yard de-sealed in 2023:

    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> x, y = 728400, 6920700  # Lambert-93, Soissons
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Centre"]},
    ...                      geometry=[box(x, y, x + 100, y + 100)], crs=2154)
    >>> d = gpd.GeoDataFrame({"site": ["École"], "site_type": ["cour d'école"],
    ...                       "year": [2023], "area": [9999]},
    ...                      geometry=[box(x + 10, y + 10, x + 30, y + 30)], crs=2154)
    >>> s = desealing_summary(d, q, by="year", impervious=pd.Series({"Q1": 0.6}))
    >>> s[["desealed_m2", "desealed_share", "impervious_after_share"]]
                   desealed_m2  desealed_share  impervious_after_share
    quartier year
    Q1       2023        400.0            0.04                     NaN
    qpv      2023        400.0            0.04                     NaN
    Q1       all         400.0            0.04                    0.56
    qpv      all         400.0            0.04                     NaN
    """
    d = as_layer(desealed_areas, "desealed_areas", kind="desealed_areas", geometry="polygon")
    q = as_layer(quartiers, "quartiers", kind="quartiers", geometry="polygon")
    by_cols = by_columns(d, by, name="desealed_areas")
    qm = q.to_crs(choose_metric_crs(q, crs))
    dm = d.to_crs(qm.crs).reset_index(drop=True)
    areas = comparison_areas(qm, communes)
    keys = [str(k) for k in areas["code"]]
    rgeoms = np.asarray(areas.geometry.array, dtype=object)
    dgeoms = np.asarray(dm.geometry.array, dtype=object)
    split = split_by_quartier(dm, areas)
    feat = split["feature"].to_numpy(dtype=np.int64)
    pcode = split["quartier"].to_numpy(dtype=object)
    pgeoms = shapely.intersection(dgeoms[feat], rgeoms[pd.Index(keys).get_indexer(pd.Index(pcode))])
    before = _sealed_before(
        q, impervious, scale=scale, band=band, nodata=nodata, crs=crs, communes=communes
    )
    owner = assign_quartier(dgeoms, qm).to_numpy(dtype=object)
    town = None if communes is None else in_communes(dgeoms, areas[areas["code"] == COMMUNE])
    counted = rows_of(owner, q, in_commune=town)
    area = dict(zip(keys, shapely.area(rgeoms).tolist(), strict=True))
    pieces = _Pieces(pgeoms, pcode, feat, area, before, counted)
    return breakdown_table(
        q,
        dm[by_cols],
        by_cols,
        functools.partial(_row, p=pieces),
        rows=comparison_keys(counted),
    )


@dataclass(frozen=True)
class _Pieces:
    """The sites' parts in each row's polygon, the rows' areas and sealed shares."""

    pgeoms: np.ndarray
    pcode: np.ndarray
    feat: np.ndarray
    area: dict[str, float]
    before: dict[str, float] | None
    counted: dict[str, np.ndarray]  # the sites each row counts (rows_of)


def _row(key: str, sel: np.ndarray, total: bool, *, p: _Pieces) -> dict[str, Any]:
    """Return the values of one row: quartier or comparison row `key`, the sites `sel`."""
    mine = (p.pcode == key) & sel[p.feat]
    m2 = float(shapely.area(shapely.union_all(p.pgeoms[mine]))) if mine.any() else 0.0
    area = p.area[key]
    share = m2 / area if area > 0 else np.nan
    out: dict[str, Any] = {
        "n_sites": int((sel & p.counted[key]).sum()),
        "desealed_m2": m2,
        "quartier_area_m2": area,
        "desealed_share": share,
    }
    reason = None
    if p.before is not None:
        b = p.before.get(key, np.nan)
        after = max(0.0, b - share) if total and np.isfinite(b) else np.nan
        out["impervious_before_share"] = b if total else np.nan
        out["impervious_after_share"] = after
        out["impervious_change_pp"] = 100.0 * (after - b) if total else np.nan
        if not total:
            reason = REASON_TOTAL_ONLY
        elif not np.isfinite(after):
            reason = REASON_NO_BEFORE
    no_area = "row without area" if is_comparison_row(key) else "quartier without area"
    out["reason"] = join_reasons(reason, None if area > 0 else no_area)
    return out
