"""Key figures per quartier and per named comparison row, from the other tables.

The key figures are what a steering committee reads first: residents, area, facilities, walking
coverage of one service, renewal, renaturation. Each row holds the figures **of the row it
names** (:mod:`cdv_geo.core.tables`): a quartier; ``qpv``, all the quartiers together (their
union's area, the facilities in some quartier, the sum of their residents); with the communes,
``commune`` (the commune's own area, the facilities inside its perimeter, its published
population) and ``hors_qpv`` (the commune minus the quartiers). They are not computed again here:
the residents are the one population of :func:`cdv_geo.metrics.population.quartier_population`
(official figure, else INSEE, else residences, else grid, with its source in
``population_source``); the others come from the same row of the per-quartier table that
defines them (``coverage``, ``renewal_balance``, ``desealing``, ``trees``, ``impervious``,
``impervious_change``): a row that table does not have is NaN with a reason, never another
row's figure. Only the facilities and areas are measured here, with the one assignment rule
(:func:`cdv_geo.core.assign.assign_quartier`) and the one commune rule
(:func:`cdv_geo.core.assign.in_communes`). The maps' panels and the report's tables both read
this one table.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.assign import assign_quartier, comparison_areas, in_communes
from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.layers import as_layer, quartier_codes
from cdv_geo.core.tables import COMMUNE, HORS_QPV, QPV, join_reasons, quartier_table, rows_of
from cdv_geo.metrics.breakdown import TOTAL
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
    indicators: pd.DataFrame | None = None,
    population: pd.DataFrame | None = None,
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
    """Return the key figures of each quartier and of each named comparison row.

    Parameters
    ----------
    quartiers : GeoDataFrame
        The quartiers (``code``, ``name``, ``population`` if known).
    facilities : GeoDataFrame, optional
        Facilities, counted in the quartier :func:`~cdv_geo.core.assign.assign_quartier` gives
        (``qpv``: in some quartier; ``commune``: inside the commune perimeter).
    communes : GeoDataFrame, optional
        The territory's communes: given, the table has the ``commune`` and ``hors_qpv`` rows
        (their areas, facilities and published population).
    residences, indicators : optional
        The homes and the INSEE long table: the population rule's other sources
        (:func:`~cdv_geo.metrics.population.quartier_population`), used when `population` is
        not given.
    population : DataFrame, optional
        The run's population table (:func:`~cdv_geo.metrics.population.quartier_population`):
        given, its figures are used as they are, so every table shows the same residents and
        the rule warns once.
    coverage, renewal_balance, desealing, trees, impervious, impervious_change : DataFrame, optional
        The per-quartier tables of :func:`cdv_geo.compute_metrics`, in the result-table contract
        (:mod:`cdv_geo.core.tables`): each row reads the same row of each (their other index
        levels at their total, ``"all"``). ``impervious`` may hold several years (index level
        ``year``): the latest is shown.
    service : str, default "water_play_area"
        Facility kind of ``coverage_share``.
    threshold_min : float, optional
        Walking time of ``coverage_share`` (default: the smallest of the coverage table).
    crs : optional
        Metric CRS of the areas (default :func:`~cdv_geo.core.crs.choose_metric_crs`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier`` (codes in layer order, ``qpv``, with communes ``commune`` and
        ``hors_qpv``): ``name``, ``n_residents`` and ``population_source`` (the population
        rule's), ``area_m2``, ``n_facilities``, ``coverage_share`` (share of residents within
        `threshold_min` of a `service`), ``n_demolished``, ``n_rebuilt``, ``n_received``,
        ``n_rehabilitated`` (dwellings), ``desealed_m2``, ``n_trees``, ``impervious_share``
        (latest raster year), ``impervious_change_pp`` (first to last year), and ``reason``
        when a value is missing (NaN, never 0). ``attrs`` holds ``service``, ``threshold_min``
        and ``impervious_year``.

    Examples
    --------
    Two quartiers in a 2 km x 1 km commune of 10,000 inhabitants; the bakery is in the commune
    but in no quartier:

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> q = gpd.GeoDataFrame({"code": ["QP2", "QP1"], "name": ["Nord", "Sud"],
    ...                       "population": [900, 1200]},
    ...                      geometry=[box(0, 0, 500, 500), box(500, 0, 1000, 500)], crs=2154)
    >>> town = gpd.GeoDataFrame({"code": ["02722"], "population": [10000]},
    ...                         geometry=[box(0, 0, 2000, 1000)], crs=2154)
    >>> f = gpd.GeoDataFrame({"kind": ["ccas", "school", "bakery"]},
    ...                      geometry=[Point(100, 100), Point(500, 200), Point(1500, 800)],
    ...                      crs=2154)
    >>> k = key_figures(q, facilities=f, communes=town, crs=2154)
    >>> k[["n_residents", "population_source", "area_m2", "n_facilities"]]
              n_residents population_source    area_m2  n_facilities
    quartier
    QP2             900.0          official   250000.0           1.0
    QP1            1200.0          official   250000.0           1.0
    qpv            2100.0          official   500000.0           2.0
    commune       10000.0          official  2000000.0           3.0
    hors_qpv       7900.0          official  1500000.0           1.0
    """
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    target = choose_metric_crs(quartiers, crs)
    q = quartiers.to_crs(target)
    town = None
    if communes is not None:
        town = as_layer(communes, "communes", geometry="polygon").to_crs(target)
    codes = [str(c) for c in quartier_codes(q)]
    keys = [*codes, QPV, *([COMMUNE, HORS_QPV] if town is not None else [])]
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
                if series is not None and k not in series.index:
                    given = "not computed for this row"
                reasons[k].append(f"{column}: {given if isinstance(given, str) else why}")

    people = population
    if people is None:
        people = quartier_population(q, residences=residences, communes=town, indicators=indicators)
    why = people["reason"] if "reason" in people.columns else pd.Series(dtype=object)
    put("n_residents", (people["population"], why), "population unknown")
    areas = comparison_areas(q, town)
    put("area_m2", pd.Series(areas.area.to_numpy(), index=areas["code"]), "area unknown")
    put("n_facilities", _facility_counts(facilities, q, town), "no facilities layer")
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
        source = people["population_source"].get(k) if k in people.index else None
        values[k]["population_source"] = None if pd.isna(source) else source
    rows = {k: {**values[k], "reason": join_reasons(*reasons[k])} for k in keys}
    out = quartier_table(q, rows, columns=list(KEY_FIGURES))
    out.attrs = {"service": service, "threshold_min": threshold, "impervious_year": year}
    return out


def _facility_counts(
    facilities: gpd.GeoDataFrame | None, q: gpd.GeoDataFrame, town: gpd.GeoDataFrame | None
) -> Found:
    """Count the facilities of each row (``commune``: inside its perimeter only)."""
    if facilities is None:
        return None
    fac = as_layer(facilities, "facilities", allow_empty=True)
    held = assign_quartier(fac, q).to_numpy()
    inside = None if town is None else in_communes(fac, town)
    masks = rows_of(held, q, in_commune=inside)
    return pd.Series({k: float(m.sum()) for k, m in masks.items()})


def _totals(table: pd.DataFrame | None, column: str) -> Found:
    """Return the rows of a per-quartier table (other index levels at their total) and reasons."""
    if table is None or column not in table.columns:
        return None
    t = table
    if isinstance(t.index, pd.MultiIndex):
        rest = range(1, t.index.nlevels)
        keep = np.logical_and.reduce(
            [np.asarray(t.index.get_level_values(i).astype(str) == TOTAL) for i in rest]
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
