"""NPNRU progress and timeline: dwellings by status, and year by year, per quartier.

Both tables follow the result-table contract of :mod:`cdv_geo.core.tables`: the first index level
is ``quartier`` (codes in layer order, then ``"all"``, every operation of the layer), then the
breakdown field and, for the timeline, ``year``. An operation belongs to the quartier
:mod:`cdv_geo.metrics.renewal_links` gives it (a reconstruction to the quartier it compensates),
as in :func:`cdv_geo.metrics.renewal.renewal_balance`. Every count is a number of dwellings.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning
from cdv_geo.core.layers import as_layer, quartier_codes
from cdv_geo.core.tables import INDEX, TERRITORY, TERRITORY_NAME, quartier_names
from cdv_geo.metrics.renewal_links import (
    BY_FIELDS,
    metric_inputs,
    site_links,
    values_of,
    year_mask,
)
from cdv_geo.schema import STATUSES

__all__ = ["PROGRESS_COLUMNS", "TIMELINE_COLUMNS", "renewal_progress", "renewal_timeline"]

#: Columns of :func:`renewal_progress` (``reason`` follows when a share is NaN).
PROGRESS_COLUMNS = (
    "name",
    "n_planned",
    "n_in_progress",
    "n_done",
    "n_unknown_status",
    "n_total",
    "done_share",
)
#: Columns of :func:`renewal_timeline`.
TIMELINE_COLUMNS = ("name", "n_dwellings", "n_cumulative")


def _attributed(
    renewal_sites: Any, quartiers: Any, crs: Any, *, stacklevel: int
) -> tuple[gpd.GeoDataFrame, np.ndarray, list[str], dict[str, Any]]:
    """Return the sites, each one's row key (quartier code or None), the keys and names."""
    if quartiers is None:
        sites = as_layer(renewal_sites, "renewal_sites", kind="renewal_sites")
        choose_metric_crs(sites, crs)  # nothing is measured, but a bad `crs` fails the same way
        return (
            sites,
            np.full(len(sites), None, dtype=object),
            [TERRITORY],
            {TERRITORY: TERRITORY_NAME},
        )
    sites, quart, _, _ = metric_inputs(renewal_sites, quartiers, crs=crs)
    links = site_links(sites, quart, stacklevel=stacklevel + 1)
    keys = [*quartier_codes(quart), TERRITORY]
    return sites, links["quartier"].to_numpy(dtype=object), keys, quartier_names(quart)


def _long(sums: pd.Series, totals: pd.Series, keys: list[str], rest: list[pd.Index]) -> pd.Series:
    """Stack the per-quartier `sums` and the territory `totals` on the full key grid, zeros."""
    whole = pd.concat({TERRITORY: totals}, names=[INDEX])
    both = pd.concat([sums, whole]) if len(sums) else whole
    grid = pd.MultiIndex.from_product([keys, *rest], names=[INDEX, *(r.name for r in rest)])
    return both.groupby(level=list(range(grid.nlevels))).sum().reindex(grid, fill_value=0)


def renewal_progress(
    renewal_sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame | None = None,
    *,
    by: str = "operation",
    year: int | None = None,
    crs: Any = None,
) -> pd.DataFrame:
    """Dwellings by status (planned / in progress / done) of each operation, per quartier.

    Parameters
    ----------
    renewal_sites : geopandas.GeoDataFrame
        The ``renewal_sites`` layer.
    quartiers : geopandas.GeoDataFrame, optional
        One block of rows per quartier (attribution: :mod:`cdv_geo.metrics.renewal_links`);
        without it, the territory rows ``"all"`` only.
    by : {"operation", "housing_type", "tenure"}, default "operation"
        The field of the second index level (every value present in the layer, in the schema's
        order; ``"unknown"`` for an empty field, last).
    year : int, optional
        Only operations dated up to `year` (undated ones are left out with a warning).
    crs : optional
        Metric CRS of the attribution: the project's; else EPSG:2154 in metropolitan France.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``quartier``, `by`): each quartier in layer order, then ``"all"``; ``name``,
        dwellings ``n_planned``, ``n_in_progress``, ``n_done``, ``n_unknown_status`` (no
        status), ``n_total`` and ``done_share`` = done / total (NaN with a ``reason`` when the
        row has no dwelling).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> s = gpd.GeoDataFrame(
    ...     {"name": ["A", "B", "C"], "operation": ["demolition"] * 2 + ["rehabilitation"],
    ...      "dwellings": [60, 20, 50], "status": ["done", "planned", "in_progress"]},
    ...     geometry=[Point(728_000, 6_920_000)] * 3, crs=2154)
    >>> renewal_progress(s)[["n_planned", "n_in_progress", "n_done", "n_total", "done_share"]]
                             n_planned  n_in_progress  n_done  n_total  done_share
    quartier operation
    all      demolition             20              0      60       80        0.75
             rehabilitation          0             50       0       50        0.00
    """
    if by not in BY_FIELDS or by == "status":
        raise CdvGeoError(
            f"by={by!r}: use one of operation, housing_type, tenure (status makes the columns)"
        )
    sites, where, keys, names = _attributed(renewal_sites, quartiers, crs, stacklevel=3)
    vals, order = values_of(sites[by], by)
    keep = year_mask(sites["year"], sites["id"], sites["name"], year, what="progress", stacklevel=3)
    status, _ = values_of(sites["status"], "status")
    frame = pd.DataFrame(
        {
            INDEX: where,
            by: vals,
            "status": status,
            "dwellings": sites["dwellings"].to_numpy(dtype=np.int64),
        }
    )[keep]
    statuses = pd.Index([*STATUSES, "unknown"], name="status")
    values = pd.Index(order, name=by)
    counts = _long(
        frame.dropna(subset=[INDEX]).groupby([INDEX, by, "status"])["dwellings"].sum(),
        frame.groupby([by, "status"])["dwellings"].sum(),
        keys,
        [values, statuses],
    ).unstack("status")
    # unstack sorts the rows: back to the quartiers' order, then the values' order
    rows = pd.MultiIndex.from_product([keys, values], names=[INDEX, by])
    counts = counts.reindex(index=rows, columns=statuses, fill_value=0)
    out = pd.DataFrame(
        {"name": [names[k] for k in counts.index.get_level_values(INDEX)]}, index=counts.index
    )
    for s in STATUSES:
        out[f"n_{s}"] = counts[s].astype(np.int64)
    out["n_unknown_status"] = counts["unknown"].astype(np.int64)
    out["n_total"] = counts.sum(axis=1).astype(np.int64)
    out["done_share"] = out["n_done"] / out["n_total"].where(out["n_total"] > 0)
    if out["done_share"].isna().any():
        out["reason"] = pd.Series("no dwelling in this row", index=out.index).where(
            out["done_share"].isna()
        )
    return out


def renewal_timeline(
    renewal_sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame | None = None,
    *,
    by: str = "operation",
    statuses: Iterable[str] | None = None,
    crs: Any = None,
) -> pd.DataFrame:
    """Year-by-year dwellings of each operation, with the cumulative total, per quartier.

    Every year from the first to the last dated operation appears (zero when nothing happens),
    so that the cumulative column can be plotted as is. Undated operations are left out with a
    :class:`~cdv_geo.CdvGeoWarning`.

    Parameters
    ----------
    renewal_sites : geopandas.GeoDataFrame
        The ``renewal_sites`` layer.
    quartiers : geopandas.GeoDataFrame, optional
        One series per quartier (attribution: :mod:`cdv_geo.metrics.renewal_links`); without
        it, the territory rows ``"all"`` only.
    by : {"operation", "status", "housing_type", "tenure"}, default "operation"
        The field whose values make the series (second index level).
    statuses : iterable of str, optional
        Keep only these statuses (e.g. ``["done"]`` for what has been delivered).
    crs : optional
        Metric CRS of the attribution: the project's; else EPSG:2154 in metropolitan France.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``quartier``, `by`, ``year``): each quartier in layer order, then ``"all"``;
        ``name``, ``n_dwellings`` (dwellings of the operations dated that year) and
        ``n_cumulative`` (up to that year). Empty, with a warning, when no operation is dated.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> s = gpd.GeoDataFrame(
    ...     {"name": ["A", "B"], "operation": ["demolition"] * 2, "dwellings": [60, 20],
    ...      "year": [2021, 2023]}, geometry=[Point(728_000, 6_920_000)] * 2, crs=2154)
    >>> renewal_timeline(s)
                                  name  n_dwellings  n_cumulative
    quartier operation  year
    all      demolition 2021  ensemble           60            60
                        2022  ensemble            0            60
                        2023  ensemble           20            80
    """
    if by not in BY_FIELDS:
        raise CdvGeoError(f"by={by!r}: use one of {', '.join(BY_FIELDS)}")
    wanted = None if statuses is None else list(statuses)
    if wanted is not None and set(wanted) - set(STATUSES):
        raise CdvGeoError(
            f"statuses {sorted(set(wanted) - set(STATUSES))} unknown; use any of "
            f"{', '.join(STATUSES)}"
        )
    sites, where, keys, names = _attributed(renewal_sites, quartiers, crs, stacklevel=3)
    vals, order = values_of(sites[by], by)
    frame = pd.DataFrame(
        {
            INDEX: where,
            by: vals,
            "year": pd.to_numeric(sites["year"], errors="coerce").to_numpy(dtype=float),
            "dwellings": sites["dwellings"].to_numpy(dtype=np.int64),
            "label": (sites["id"].astype(str) + " (" + sites["name"].astype(str) + ")").to_numpy(),
        }
    )
    if wanted is not None:
        frame = frame[sites["status"].isin(wanted).to_numpy()]
    _warn_undated(frame)
    frame = frame[frame["year"].notna()].astype({"year": np.int64})
    if frame.empty:
        index = pd.MultiIndex.from_arrays([[], [], []], names=[INDEX, by, "year"])
        return pd.DataFrame({c: [] for c in TIMELINE_COLUMNS}, index=index)
    years = pd.Index(range(frame["year"].min(), frame["year"].max() + 1), name="year")
    sums = _long(
        frame.dropna(subset=[INDEX]).groupby([INDEX, by, "year"])["dwellings"].sum(),
        frame.groupby([by, "year"])["dwellings"].sum(),
        keys,
        [pd.Index(order, name=by), years],
    )
    out = pd.DataFrame(
        {"name": [names[k] for k in sums.index.get_level_values(INDEX)]}, index=sums.index
    )
    out["n_dwellings"] = sums.astype(np.int64)
    out["n_cumulative"] = sums.groupby(level=[0, 1], sort=False).cumsum().astype(np.int64)
    return out


def _warn_undated(frame: pd.DataFrame) -> None:
    undated = frame.loc[frame["year"].isna(), "label"]
    if len(undated):
        warnings.warn(
            f"renewal_sites: {len(undated)} operation(s) have no year and are left out of the "
            f"timeline: {', '.join(undated)}. Fill their `year` (annee) field.",
            CdvGeoWarning,
            stacklevel=3,
        )
    elif frame.empty:
        warnings.warn(
            "renewal_sites: no operation left to put on the timeline (check `statuses`).",
            CdvGeoWarning,
            stacklevel=3,
        )
