"""NPNRU progress and timeline: dwellings by status, and year by year, per quartier.

Both tables follow the result-table contract of :mod:`cdv_geo.core.tables`: the first index level
is ``quartier``, then the breakdown field and, for the timeline, ``year``. An operation belongs to
the quartier :mod:`cdv_geo.metrics.renewal_links` gives it (a reconstruction to the quartier it
compensates), as in :func:`cdv_geo.metrics.renewal.renewal_balance`. The rows: the quartier
codes in layer order, then ``qpv`` (the operations attributed to some quartier: the sum of the
quartier rows), then, with ``communes=``, ``commune`` (the operations standing inside the
commune perimeter; one of a neighbouring commune never counts) and ``hors_qpv`` (standing in
the commune outside every quartier). So a reconstruction standing outside the quartiers counts
in the quartier it compensates, in ``qpv`` and in ``hors_qpv``: ``qpv`` follows the programme,
the commune rows the ground. Every count is a number of dwellings.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.assign import in_communes
from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning
from cdv_geo.core.layers import as_layer
from cdv_geo.core.tables import COMMUNE, HORS_QPV, INDEX, quartier_names, row_name, rows_of
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
    renewal_sites: Any, quartiers: Any, communes: Any, crs: Any, *, stacklevel: int
) -> tuple[gpd.GeoDataFrame, dict[str, np.ndarray], dict[str, Any]]:
    """Return the sites, the operations each row key counts, and the rows' names."""
    if quartiers is None:
        if communes is None:
            raise CdvGeoError(
                "give the quartiers (one row per quartier and the row qpv) or communes= (the "
                "row commune): without them no row of the table has a meaning"
            )
        sites = as_layer(renewal_sites, "renewal_sites", kind="renewal_sites")
        sites = sites.to_crs(choose_metric_crs(sites, crs))
        town = in_communes(sites, as_layer(communes, "communes", geometry="polygon"))
        return sites, {COMMUNE: town}, {COMMUNE: row_name(COMMUNE)}
    sites, quart, _, target = metric_inputs(renewal_sites, quartiers, crs=crs)
    links = site_links(sites, quart, stacklevel=stacklevel + 1)
    masks = rows_of(links["quartier"].to_numpy(dtype=object), quart)
    if communes is not None:
        town = in_communes(sites, as_layer(communes, "communes", geometry="polygon").to_crs(target))
        # the commune rows are places: where the operation stands, whatever it compensates
        located = rows_of(links["located_in"].to_numpy(dtype=object), quart, in_commune=town)
        masks[COMMUNE], masks[HORS_QPV] = located[COMMUNE], located[HORS_QPV]
    return sites, masks, quartier_names(quart)


def _long(frame: pd.DataFrame, masks: pd.DataFrame, rest: list[pd.Index]) -> pd.Series:
    """Sum the dwellings of each row key's operations on the full key grid (zeros).

    `masks` has one boolean column per row key, aligned with `frame` (one row per operation).
    """
    levels = [str(r.name) for r in rest]
    grid = pd.MultiIndex.from_product([list(masks.columns), *rest], names=[INDEX, *levels])
    cells = grid.droplevel(0).unique()
    parts = [
        frame[masks[k].to_numpy(dtype=bool)].groupby(levels)["dwellings"].sum().reindex(cells)
        for k in masks.columns
    ]
    values = np.concatenate([p.fillna(0).to_numpy(dtype=np.int64) for p in parts])
    return pd.Series(values, index=grid, dtype=np.int64)


def renewal_progress(
    renewal_sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame | None = None,
    *,
    by: str = "operation",
    year: int | None = None,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Dwellings by status (planned / in progress / done) of each operation, per quartier.

    Parameters
    ----------
    renewal_sites : geopandas.GeoDataFrame
        The ``renewal_sites`` layer.
    quartiers : geopandas.GeoDataFrame, optional
        One block of rows per quartier (attribution: :mod:`cdv_geo.metrics.renewal_links`),
        and the block ``qpv``; without it, the ``commune`` block only (give `communes`).
    by : {"operation", "housing_type", "tenure"}, default "operation"
        The field of the second index level (every value present in the layer, in the schema's
        order; ``"unknown"`` for an empty field, last).
    year : int, optional
        Only operations dated up to `year` (undated ones are left out with a warning).
    crs : optional
        Metric CRS of the attribution: the project's; else EPSG:2154 in metropolitan France.
    communes : geopandas.GeoDataFrame, optional
        The territory's commune(s): adds the blocks ``commune`` and ``hors_qpv`` (operations
        standing in the commune, and there outside every quartier).

    Returns
    -------
    pandas.DataFrame
        Indexed by (``quartier``, `by`): each quartier in layer order, then ``qpv``,
        ``commune``, ``hors_qpv`` (see the module docstring); ``name``,
        dwellings ``n_planned``, ``n_in_progress``, ``n_done``, ``n_unknown_status`` (no
        status), ``n_total`` and ``done_share`` = done / total (NaN with a ``reason`` when the
        row has no dwelling).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> from shapely import Point, box
    >>> x, y = 728_000, 6_920_000  # Soissons, Lambert-93
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Nord"]},
    ...                      geometry=[box(x, y, x + 100, y + 100)], crs=2154)
    >>> s = gpd.GeoDataFrame(
    ...     {"name": ["A", "B", "C"], "operation": ["demolition"] * 2 + ["rehabilitation"],
    ...      "dwellings": [60, 20, 50], "status": ["done", "planned", "in_progress"]},
    ...     geometry=[Point(x + 50, y + 50)] * 3, crs=2154)
    >>> p = renewal_progress(s, q)
    >>> p[["n_planned", "n_in_progress", "n_done", "n_total", "done_share"]]
                             n_planned  n_in_progress  n_done  n_total  done_share
    quartier operation
    Q1       demolition             20              0      60       80        0.75
             rehabilitation          0             50       0       50        0.00
    qpv      demolition             20              0      60       80        0.75
             rehabilitation          0             50       0       50        0.00
    """
    if by not in BY_FIELDS or by == "status":
        raise CdvGeoError(
            f"by={by!r}: use one of operation, housing_type, tenure (status makes the columns)"
        )
    sites, masks, names = _attributed(renewal_sites, quartiers, communes, crs, stacklevel=3)
    keys = list(masks)
    vals, order = values_of(sites[by], by)
    keep = year_mask(sites["year"], sites["id"], sites["name"], year, what="progress", stacklevel=3)
    status, _ = values_of(sites["status"], "status")
    frame = pd.DataFrame(
        {by: vals, "status": status, "dwellings": sites["dwellings"].to_numpy(dtype=np.int64)}
    )
    statuses = pd.Index([*STATUSES, "unknown"], name="status")
    values = pd.Index(order, name=by)
    counts = _long(frame[keep], pd.DataFrame(masks)[keep], [values, statuses]).unstack("status")
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
    communes: gpd.GeoDataFrame | None = None,
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
        One series per quartier (attribution: :mod:`cdv_geo.metrics.renewal_links`), and the
        series ``qpv``; without it, the ``commune`` series only (give `communes`).
    by : {"operation", "status", "housing_type", "tenure"}, default "operation"
        The field whose values make the series (second index level).
    statuses : iterable of str, optional
        Keep only these statuses (e.g. ``["done"]`` for what has been delivered).
    crs : optional
        Metric CRS of the attribution: the project's; else EPSG:2154 in metropolitan France.
    communes : geopandas.GeoDataFrame, optional
        The territory's commune(s): adds the series ``commune`` and ``hors_qpv``.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``quartier``, `by`, ``year``): each quartier in layer order, then ``qpv``,
        ``commune``, ``hors_qpv`` (see the module docstring);
        ``name``, ``n_dwellings`` (dwellings of the operations dated that year) and
        ``n_cumulative`` (up to that year). Empty, with a warning, when no operation is dated.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> from shapely import box
    >>> x, y = 728_000, 6_920_000  # Soissons, Lambert-93
    >>> town = gpd.GeoDataFrame({"code": ["02722"]}, geometry=[box(x, y, x + 500, y + 500)],
    ...                         crs=2154)
    >>> s = gpd.GeoDataFrame(
    ...     {"name": ["A", "B", "C"], "operation": ["demolition"] * 3,
    ...      "dwellings": [60, 20, 999], "year": [2021, 2023, 2022]},
    ...     geometry=[Point(x + 50, y + 50)] * 2 + [Point(x + 900, y)], crs=2154)
    >>> renewal_timeline(s, communes=town)  # C stands in another commune
                                 name  n_dwellings  n_cumulative
    quartier operation  year
    commune  demolition 2021  Commune           60            60
                        2022  Commune            0            60
                        2023  Commune           20            80
    """
    if by not in BY_FIELDS:
        raise CdvGeoError(f"by={by!r}: use one of {', '.join(BY_FIELDS)}")
    wanted = None if statuses is None else list(statuses)
    if wanted is not None and set(wanted) - set(STATUSES):
        raise CdvGeoError(
            f"statuses {sorted(set(wanted) - set(STATUSES))} unknown; use any of "
            f"{', '.join(STATUSES)}"
        )
    sites, masks, names = _attributed(renewal_sites, quartiers, communes, crs, stacklevel=3)
    vals, order = values_of(sites[by], by)
    rows = pd.DataFrame(masks)
    frame = pd.DataFrame(
        {
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
    rows = rows.loc[frame.index]
    if frame.empty:
        index = pd.MultiIndex.from_arrays([[], [], []], names=[INDEX, by, "year"])
        return pd.DataFrame({c: [] for c in TIMELINE_COLUMNS}, index=index)
    years = pd.Index(range(frame["year"].min(), frame["year"].max() + 1), name="year")
    sums = _long(frame, rows, [pd.Index(order, name=by), years])
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
