"""Key figures per quartier: one row per quartier and one for the territory, from the other tables.

The key figures are what a steering committee reads first: residents, area, facilities, walking
coverage of one service, renewal, renaturation. They are not computed again here: the residents
are the one population of :func:`cdv_geo.metrics.population.quartier_population` (official
figure, else residences, else grid, with its source in ``population_source``); the others come
from the per-quartier table that defines them (``coverage``, ``renewal_balance``, ``desealing``,
``trees``, ``impervious``, ``impervious_change``), whose territory row ``"all"`` gives the
territory's. Only the facilities are counted here, with the one assignment rule
(:func:`cdv_geo.core.assign.assign_quartier`: a facility on a shared border counts in the smaller
code). The maps' panels and the report's tables both read this one table.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.assign import assign_quartier
from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.layers import as_layer, quartier_codes
from cdv_geo.core.tables import TERRITORY, join_reasons, quartier_table
from cdv_geo.metrics.population import quartier_population

__all__ = ["KEY_FIGURES", "key_figures"]

#: Values by row key, optionally with the source table's reasons by row key.
Found = pd.Series | tuple[pd.Series, pd.Series] | None

#: The columns of :func:`key_figures`, after ``name`` (``reason`` last when any value is NaN).
KEY_FIGURES = (
    "n_residents",
    "population_source",
    "area_m2",
    "n_facilities",
    "coverage_share",
    "n_demolished",
    "n_rebuilt",
    "n_received",
    "n_rehabilitated",
    "desealed_m2",
    "n_trees",
    "impervious_share",
    "impervious_change_pp",
)


def key_figures(
    quartiers: gpd.GeoDataFrame,
    *,
    facilities: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
    residences: gpd.GeoDataFrame | None = None,
    coverage: pd.DataFrame | None = None,
    renewal_balance: pd.DataFrame | None = None,
    desealing: pd.DataFrame | None = None,
    trees: pd.DataFrame | None = None,
    impervious: pd.DataFrame | None = None,
    impervious_change: pd.DataFrame | None = None,
    service: str = "water_play_area",
    threshold_min: float | None = None,
    crs: Any = None,
) -> pd.DataFrame:
    """Return the key figures of each quartier and of the territory.

    Parameters
    ----------
    quartiers : GeoDataFrame
        The quartiers (``code``, ``name``, ``population`` if known).
    facilities : GeoDataFrame, optional
        Facilities, counted in the quartier :func:`~cdv_geo.core.assign.assign_quartier` gives.
    communes : GeoDataFrame, optional
        The territory's communes: the territory row's residents (their ``population``) and area.
    residences : GeoDataFrame, optional
        The homes: the residents of a quartier (or territory) without an official figure
        (:func:`~cdv_geo.metrics.population.quartier_population`).
    coverage, renewal_balance, desealing, trees, impervious, impervious_change : DataFrame, optional
        The per-quartier tables of :func:`cdv_geo.compute_metrics`, in the result-table contract
        (:mod:`cdv_geo.core.tables`); the total rows are used (by-levels ``"all"``). ``impervious``
        may hold several years (index level ``year``): the latest is shown.
    service : str, default "water_play_area"
        Facility kind of ``coverage_share``.
    threshold_min : float, optional
        Walking time of ``coverage_share`` (default: the smallest of the coverage table).
    crs : optional
        Metric CRS of the areas (default :func:`~cdv_geo.core.crs.choose_metric_crs`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier`` (codes in layer order, then ``"all"``): ``name``,
        ``n_residents`` and ``population_source`` (``"official"``: the quartiers' or communes'
        ``population``; ``"residences"`` or ``"grid"``: the sum over the homes), ``area_m2``,
        ``n_facilities``, ``coverage_share`` (share of residents within `threshold_min` of a
        `service`), ``n_demolished``, ``n_rebuilt``, ``n_received``,
        ``n_rehabilitated`` (dwellings), ``desealed_m2``, ``n_trees``, ``impervious_share``
        (latest raster year), ``impervious_change_pp`` (first to last year), and ``reason``
        when a value is missing (NaN, never 0). ``attrs`` holds ``service``, ``threshold_min``
        and ``impervious_year``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> q = gpd.GeoDataFrame({"code": ["QP2", "QP1"], "name": ["Nord", "Sud"],
    ...                       "population": [900, 1200]},
    ...                      geometry=[box(0, 0, 500, 500), box(500, 0, 1000, 500)], crs=2154)
    >>> f = gpd.GeoDataFrame({"name": ["CCAS", "École"], "kind": ["ccas", "school"]},
    ...                      geometry=[Point(100, 100), Point(500, 200)], crs=2154)
    >>> k = key_figures(q, facilities=f, crs=2154)
    >>> k[["name", "n_residents", "area_m2", "n_facilities"]]
                  name  n_residents   area_m2  n_facilities
    quartier
    QP2           Nord        900.0  250000.0           1.0
    QP1            Sud       1200.0  250000.0           1.0
    all       ensemble          NaN       NaN           2.0
    >>> k["population_source"].tolist()
    ['official', 'official', nan]
    """
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    target = choose_metric_crs(quartiers, crs)
    q = quartiers.to_crs(target)
    codes = [str(c) for c in quartier_codes(q)]
    keys = [*codes, TERRITORY]
    values: dict[str, dict[str, Any]] = {k: {} for k in keys}
    reasons: dict[str, list[str | None]] = {k: [] for k in keys}

    def put(column: str, found: Found, why: str) -> None:
        series, because = found if isinstance(found, tuple) else (found, None)
        for k in keys:
            v = np.nan if series is None else series.get(k, np.nan)
            v = np.nan if v is None or pd.isna(v) else float(v)
            values[k][column] = v
            if np.isnan(v):
                given = None if because is None else because.get(k)
                reasons[k].append(f"{column}: {given if isinstance(given, str) else why}")

    people = quartier_population(q, residences=residences, communes=communes)
    why = people["reason"] if "reason" in people.columns else pd.Series(dtype=object)
    put("n_residents", (people["n_residents"], why), "population unknown")
    _area(q, communes, target, put)
    put(
        "n_facilities",
        _facility_counts(facilities, q, codes),
        "no facilities layer",
    )
    cov, threshold = _coverage(coverage, service, threshold_min)
    put("coverage_share", cov, f"no walking coverage of {service}")
    for col in ("n_demolished", "n_rebuilt", "n_received", "n_rehabilitated"):
        put(col, _totals(renewal_balance, col), "no renewal balance")
    put("desealed_m2", _totals(desealing, "desealed_m2"), "no de-sealing table")
    put("n_trees", _totals(trees, "n_trees"), "no tree plantings")
    latest, year = _latest(impervious)
    put("impervious_share", _totals(latest, "impervious_share"), "no imperviousness raster")
    put(
        "impervious_change_pp",
        _totals(impervious_change, "impervious_change_pp"),
        "fewer than two imperviousness rasters",
    )
    for k in keys:
        values[k]["population_source"] = people.at[k, "population_source"]
    rows = {k: {**values[k], "reason": join_reasons(*reasons[k])} for k in keys}
    out = quartier_table(q, rows, columns=list(KEY_FIGURES))
    out.attrs = {"service": service, "threshold_min": threshold, "impervious_year": year}
    return out


def _area(q: gpd.GeoDataFrame, communes: gpd.GeoDataFrame | None, crs: Any, put: Any) -> None:
    """Put the quartiers' areas, and the communes' on the territory row."""
    area = pd.Series(q.geometry.area.to_numpy(), index=[str(c) for c in quartier_codes(q)])
    if communes is not None:
        c = as_layer(communes, "communes", geometry="polygon").to_crs(crs)
        area[TERRITORY] = float(c.geometry.union_all().area)
    put("area_m2", area, "territory area unknown (no communes layer)")


def _facility_counts(
    facilities: gpd.GeoDataFrame | None, q: gpd.GeoDataFrame, codes: list[str]
) -> Found:
    if facilities is None:
        return None
    fac = as_layer(facilities, "facilities", allow_empty=True)
    held = assign_quartier(fac, q)
    counts = held.dropna().astype(str).value_counts()
    out = pd.Series({c: float(counts.get(c, 0)) for c in codes})
    out[TERRITORY] = float(len(fac))
    return out


def _totals(table: pd.DataFrame | None, column: str) -> Found:
    """Return the total rows of a per-quartier table (other index levels ``"all"``) and reasons."""
    if table is None or column not in table.columns:
        return None
    t = table
    if isinstance(t.index, pd.MultiIndex):
        rest = range(1, t.index.nlevels)
        keep = np.logical_and.reduce(
            [np.asarray(t.index.get_level_values(i).astype(str) == TERRITORY) for i in rest]
        )
        t = t[keep].droplevel(list(rest))
    t = t[~t.index.astype(str).duplicated()]
    values = pd.Series(pd.to_numeric(t[column], errors="coerce").to_numpy(), t.index.astype(str))
    if "reason" not in t.columns:
        return values
    return values, pd.Series(t["reason"].to_numpy(), index=values.index)


def _coverage(
    coverage: pd.DataFrame | None, service: str, threshold_min: float | None
) -> tuple[Found, float | None]:
    """Return the covered share of `service` at `threshold_min` (default: the smallest)."""
    if coverage is None or "covered_share" not in coverage.columns:
        return None, threshold_min
    if not {"kind", "threshold_min"} <= set(coverage.index.names):
        return None, threshold_min
    kinds = coverage.index.get_level_values("kind")
    rows = coverage[np.asarray(kinds == service)]
    if rows.empty:
        return None, threshold_min
    times = rows.index.get_level_values("threshold_min").astype(float)
    threshold = float(times.min()) if threshold_min is None else float(threshold_min)
    rows = rows[np.isclose(times, threshold)]
    if rows.empty:
        return None, threshold
    return _totals(rows.droplevel(["kind", "threshold_min"]), "covered_share"), threshold


def _latest(impervious: pd.DataFrame | None) -> tuple[pd.DataFrame | None, int | None]:
    """Return the rows of the latest year of a table with a ``year`` index level, and it."""
    if impervious is None or "year" not in impervious.index.names:
        return impervious, None
    years = impervious.index.get_level_values("year")
    known = years.dropna()
    if len(known) == 0:
        return impervious.droplevel("year"), None
    year = int(known.max())
    return impervious[np.asarray(years == year)].droplevel("year"), year
