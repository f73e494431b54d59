"""One population per quartier, and where it comes from.

A quartier's residents can be known three ways, and the three rarely agree: the **official**
figure (the QPV file's or INSEE's ``population``, e.g. 5,766 for Presles), the sum of the
**residences** layer's ``population`` over the homes the quartier holds, or the same sum over
residences made from the Filosofi 200 m **grid** (:func:`cdv_geo.metrics.residences_grid.
residences_from_grid`, whose homes carry their square's code in ``square``). A committee pack
must show one of them, and say which. The rule, row by row:

1. the quartier's own ``population`` when the quartiers layer gives it (``"official"``);
2. else the sum of the ``population`` of the residences that
   :func:`~cdv_geo.core.assign.assign_quartier` puts in the quartier, when every one of them has
   a population (``"grid"`` when they come from the grid, ``"residences"`` otherwise);
3. else NaN, with the reason.

The territory row (``"all"``) follows the same order with the communes' ``population`` (their
sum) as the official figure, then every residence's. A weight is never guessed from dwellings:
that would be a silent default.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.assign import assign_quartier
from cdv_geo.core.layers import as_layer, quartier_codes
from cdv_geo.core.tables import TERRITORY, quartier_table
from cdv_geo.schema.values import is_missing, parse_number

__all__ = ["POPULATION_SOURCES", "population_source_of", "quartier_population"]

#: The sources of a population, in the order the rule tries them.
POPULATION_SOURCES: tuple[str, ...] = ("official", "residences", "grid")


def population_source_of(residences: gpd.GeoDataFrame) -> str:
    """Return ``"grid"`` for residences made from a Filosofi grid, else ``"residences"``.

    Residences made by :func:`~cdv_geo.metrics.residences_grid.residences_from_grid` carry the
    code of their square in ``square``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> r = gpd.GeoDataFrame({"population": [10.0]}, geometry=[Point(0, 0)], crs=2154)
    >>> population_source_of(r), population_source_of(r.assign(square=["CRS3035RES200m..."]))
    ('residences', 'grid')
    """
    if "square" in residences.columns and bool(residences["square"].notna().all()):
        return "grid"
    return "residences"


def quartier_population(
    quartiers: gpd.GeoDataFrame,
    *,
    residences: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Return the one population of each quartier and of the territory, with its source.

    Parameters
    ----------
    quartiers : GeoDataFrame
        The quartiers; their ``population`` (official figure), where known, comes first.
    residences : GeoDataFrame, optional
        Homes with a ``population`` (or made from the Filosofi grid): the population of the
        quartiers whose official figure is unknown, and of the territory without communes.
    communes : GeoDataFrame, optional
        The territory's communes: their summed ``population`` is the territory's official figure.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier`` (codes in layer order, then ``"all"``): ``name``,
        ``n_residents``, ``population_source`` (one of :data:`POPULATION_SOURCES`, or None when
        unknown) and ``reason`` (why ``n_residents`` is NaN).

    Examples
    --------
    Presles has its official figure; Chevreux has none, and its two homes hold 30 people:

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> q = gpd.GeoDataFrame({"code": ["QP002013", "QP002014"], "name": ["Presles", "Chevreux"],
    ...                       "population": [5766, None]},
    ...                      geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=2154)
    >>> r = gpd.GeoDataFrame({"population": [12.0, 18.0, 40.0]},
    ...                      geometry=[Point(150, 50), Point(120, 20), Point(50, 50)], crs=2154)
    >>> quartier_population(q, residences=r)[["n_residents", "population_source"]]
              n_residents population_source
    quartier
    QP002013       5766.0          official
    QP002014         30.0        residences
    all              70.0        residences
    """
    q = as_layer(quartiers, "quartiers", geometry="polygon")
    codes = [str(c) for c in quartier_codes(q)]
    official = (
        numbers(q["population"]) if "population" in q.columns else np.full(len(codes), np.nan)
    )
    rows: dict[str, dict[str, Any]] = {}
    by_homes, homes_source, total, why_not = _from_residences(residences, q, codes)
    for code, pop in zip(codes, official, strict=True):
        if not np.isnan(pop):
            rows[code] = _row(pop, "official")
        elif code in by_homes:
            rows[code] = _row(by_homes[code], homes_source)
        else:
            rows[code] = _row(np.nan, None, f"population unknown: no official figure and {why_not}")
    rows[TERRITORY] = _territory_row(communes, total, homes_source, why_not)
    return quartier_table(q, rows, columns=["n_residents", "population_source"])


def numbers(values: pd.Series) -> np.ndarray:
    """Return counts as floats, French writing (``"6 206"``) parsed, NaN where none is given."""

    def one(v: object) -> float:
        if is_missing(v):
            return np.nan
        try:
            return parse_number(v)
        except ValueError:
            return np.nan

    if pd.api.types.is_numeric_dtype(values.dtype):  # (the usual case: no Python loop)
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return np.array([one(v) for v in values], dtype=float)


def _row(value: float, source: str | None, reason: str | None = None) -> dict[str, Any]:
    return {"n_residents": float(value), "population_source": source, "reason": reason}


def _from_residences(
    residences: gpd.GeoDataFrame | None, q: gpd.GeoDataFrame, codes: list[str]
) -> tuple[dict[str, float], str, float, str]:
    """Return the residents by quartier code, their source, the total and why some are unknown."""
    if residences is None:
        return {}, "residences", np.nan, "no residences layer"
    res = as_layer(residences, "residences", allow_empty=True)
    source = population_source_of(res)
    if "population" not in res.columns:
        return {}, source, np.nan, "the residences carry no population"
    pop = numbers(res["population"])
    held = assign_quartier(res, q).to_numpy()
    known = ~np.isnan(pop)
    by_code = pd.DataFrame({"code": held, "pop": pop, "unknown": ~known}).groupby(
        "code", dropna=True
    )
    sums, unknown = by_code["pop"].sum(), by_code["unknown"].sum()
    out = {c: float(sums[c]) for c in codes if c in sums.index and unknown[c] == 0}
    total = float(pop.sum()) if len(res) and known.all() else np.nan
    why = "no home of the residences inside, or some without a population"
    return out, source, total, why


def _territory_row(
    communes: gpd.GeoDataFrame | None, total: float, source: str, why_not: str
) -> dict[str, Any]:
    if communes is not None:
        c = as_layer(communes, "communes", geometry="polygon")
        if "population" in c.columns:
            cpop = numbers(c["population"])
            if not np.isnan(cpop).any():
                return _row(float(cpop.sum()), "official")
    if not np.isnan(total):
        return _row(total, source)
    return _row(np.nan, None, f"population unknown: no communes' population and {why_not}")
