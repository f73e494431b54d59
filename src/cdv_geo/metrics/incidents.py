r"""Incidents before and after: the hydrant openings near the water play areas, and elsewhere.

Children open fire hydrants in heat waves ("street pooling"): water is wasted, the pressure the
firefighters need drops, and children get hurt. Water play areas were built to stop it. For each
play area with an ``opened`` date, :func:`incidents_before_after` counts the incidents of each
summer (June to September by default) inside its service area (incidents within a walking time of
the play area, over the street network) and in the rest of the town, before and after opening.

Rates are incidents per summer. The **rate ratio** after/before of a zone,
:math:`RR = (a / T_a) / (b / T_b)` with :math:`a, b` the incidents and :math:`T_a, T_b` the
summers after and before, gets an exact 95 % interval conditional on :math:`n = a + b`: given
:math:`n`, :math:`a \sim \mathrm{Binomial}(n, \pi)` with :math:`\pi = T_a RR / (T_a RR + T_b)`,
so the Clopper–Pearson bounds of :math:`\pi` give those of :math:`RR = \pi T_b / ((1 - \pi) T_a)`
(the method of R's ``poisson.test``; Fay 2010). The p-value is the two-sided exact binomial test
of :math:`\pi = T_a / (T_a + T_b)`.

The **difference-in-differences** compares the service area with the rest of the town, which
saw the same summers (heat waves, reporting habits): the change of its rate minus the change of
the rest's rate, in incidents per summer, and the **ratio of rate ratios**
:math:`RR_{zone} / RR_{rest}` with a Wald interval on the log scale (variance
:math:`1/a_z + 1/b_z + 1/a_r + 1/b_r`). Below 1, incidents fell more near the play area.

These are descriptive counts, not a causal estimate: with few incidents the interval is wide, and
the table says so (``conclusion``) instead of printing a bare percentage drop on 3 events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from cdv_geo.core.assign import in_communes
from cdv_geo.core.crs import choose_metric_crs, to_metric
from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.core.layers import as_layer, feature_ids
from cdv_geo.metrics.access import nearest_facility

__all__ = ["COUNTED_TYPES", "incidents_before_after", "poisson_rate_ratio", "summers"]

#: Incident types counted by default: the hydrant openings and street pooling the play areas
#: were built against (``other`` incidents, the third type of cdv_geo.schema.INCIDENT_TYPES,
#: are left out).
COUNTED_TYPES: tuple[str, ...] = ("hydrant_opened", "street_pooling")

#: Below this many incidents in a zone (before + after), the table concludes nothing.
MIN_EVENTS = 10


def poisson_rate_ratio(
    after: int,
    summers_after: float,
    before: int,
    summers_before: float,
    *,
    alpha: float = 0.05,
) -> dict[str, float]:
    """Rate ratio after/before of two Poisson counts, with its exact conditional interval.

    Parameters
    ----------
    after, before : int
        Incidents counted after and before.
    summers_after, summers_before : float
        Exposure: the number of summers observed after and before.
    alpha : float, default 0.05
        1 - confidence level.

    Returns
    -------
    dict
        ``rate_ratio``, ``rate_ratio_low``, ``rate_ratio_high``, ``p_value`` (NaN where
        undefined: no summer on one side, or no incident at all).

    Examples
    --------
    >>> r = poisson_rate_ratio(2, 4, 12, 4)
    >>> round(r["rate_ratio"], 3), round(r["rate_ratio_low"], 3), round(r["rate_ratio_high"], 3)
    (0.167, 0.018, 0.749)
    """
    nan = {"rate_ratio": np.nan, "rate_ratio_low": np.nan, "rate_ratio_high": np.nan}
    if summers_after <= 0 or summers_before <= 0:
        return {**nan, "p_value": np.nan}
    n = after + before
    if n == 0:
        return {**nan, "p_value": 1.0}
    ratio = np.inf if before == 0 else (after / summers_after) / (before / summers_before)
    ci = stats.binomtest(after, n).proportion_ci(confidence_level=1 - alpha, method="exact")

    def to_ratio(p: float) -> float:
        return np.inf if p >= 1 else p * summers_before / ((1 - p) * summers_after)

    p0 = summers_after / (summers_after + summers_before)
    return {
        "rate_ratio": float(ratio),
        "rate_ratio_low": float(to_ratio(ci.low)),
        "rate_ratio_high": float(to_ratio(ci.high)),
        "p_value": float(stats.binomtest(after, n, p0).pvalue),
    }


def summers(
    years: Sequence[int],
    opened: dt.date,
    *,
    months: tuple[int, int] = (6, 9),
) -> tuple[list[int], list[int]]:
    """Split the observed summers into those before and after an opening date.

    The summer of year *Y* runs from the first day of ``months[0]`` to the last day of
    ``months[1]``. A summer that ends before the opening is *before*; one that starts on or after
    it is *after*; the summer during which the play area opened is left out (partly both).

    Examples
    --------
    >>> summers(range(2018, 2025), dt.date(2021, 7, 14))
    ([2018, 2019, 2020], [2022, 2023, 2024])
    >>> summers(range(2018, 2025), dt.date(2021, 5, 1))
    ([2018, 2019, 2020], [2021, 2022, 2023, 2024])
    """
    first, last = months
    before, after = [], []
    for y in years:
        start = dt.date(y, first, 1)
        end = dt.date(y + (last == 12), last % 12 + 1, 1) - dt.timedelta(days=1)
        if end < opened:
            before.append(int(y))
        elif start >= opened:
            after.append(int(y))
    return before, after


def _parse_dates(values: pd.Series) -> pd.Series:
    """Parse ISO (or French dd/mm/yyyy) dates; a bare year (2023) stands for the 1st of July.

    A year alone does not say whether the play area opened before or after the summer: the 1st
    of July puts it inside, so that the summer of the opening year counts neither before nor after.
    """
    text = values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    year_only = text.str.fullmatch(r"\d{4}").fillna(False).astype(bool)
    text = text.where(~year_only, text + "-07-01")
    iso = pd.to_datetime(text, errors="coerce", format="ISO8601")
    # French dates (14/07/2021) where the ISO reading failed
    french = pd.to_datetime(text, errors="coerce", format="%d/%m/%Y")
    return iso.fillna(french)


def _dates(table: pd.DataFrame, column: str, layer: str, *, today: dt.date) -> pd.Series:
    """Parse a date column; every missing, unreadable or future date is one Problem."""
    if column not in table.columns:
        raise DataValidationError(
            [
                Problem(
                    f"no {column!r} field: each feature needs its date (YYYY-MM-DD)",
                    file=table.attrs.get("source"),
                    layer=layer,
                    field=column,
                )
            ]
        )
    parsed = _parse_dates(table[column])
    ids = feature_ids(table)
    problems = [
        Problem(
            f"date {v!r} is missing or unreadable; write it as YYYY-MM-DD",
            file=table.attrs.get("source"),
            layer=layer,
            feature=str(i),
            field=column,
        )
        for i, v, p in zip(ids, table[column], parsed, strict=True)
        if pd.isna(p)
    ]
    problems += [
        Problem(
            f"date {p.date()} is in the future (after {today}); check the year",
            file=table.attrs.get("source"),
            layer=layer,
            feature=str(i),
            field=column,
        )
        for i, p in zip(ids, parsed, strict=True)
        if pd.notna(p) and p.date() > today
    ]
    if problems:
        raise DataValidationError(problems, summary=f"{len(problems)} bad date(s) in {layer}:")
    return parsed.dt.date


def _conclusion(n_zone: int, row: dict[str, Any], min_events: int) -> str:
    if n_zone < min_events:
        return (
            f"too few incidents to conclude ({n_zone} near the play area, fewer than {min_events})"
        )
    low, high = row["rate_ratio_low"], row["rate_ratio_high"]
    if not (np.isfinite(low) and np.isfinite(high)):
        return "no incident on one side: no interval"
    if high < 1:
        return "fewer incidents after opening (interval below 1)"
    if low > 1:
        return "more incidents after opening (interval above 1)"
    return "no clear change (the interval contains 1)"


def _ratio_of_ratios(z: dict[str, Any], r: dict[str, Any], alpha: float) -> dict[str, float]:
    counts = [z["n_after"], z["n_before"], r["n_after"], r["n_before"]]
    if min(counts) == 0 or not (np.isfinite(z["rate_ratio"]) and np.isfinite(r["rate_ratio"])):
        return {"ratio_of_rate_ratios": np.nan, "rrr_low": np.nan, "rrr_high": np.nan}
    log = np.log(z["rate_ratio"] / r["rate_ratio"])
    half = stats.norm.ppf(1 - alpha / 2) * np.sqrt(sum(1 / c for c in counts))
    return {
        "ratio_of_rate_ratios": float(np.exp(log)),
        "rrr_low": float(np.exp(log - half)),
        "rrr_high": float(np.exp(log + half)),
    }


def _zone_rows(
    head: dict[str, Any],
    threshold: float,
    near: np.ndarray,
    town: np.ndarray,
    year: np.ndarray,
    before: list[int],
    after: list[int],
    alpha: float,
    min_events: int,
) -> list[dict[str, Any]]:
    """Return the service-area and rest-of-town rows of one play area and threshold.

    `town` marks the incidents the rest of the town may count (inside the commune).
    """
    rows = {}
    for zone, mask in (("service_area", near), ("rest_of_town", ~near & town)):
        nb = int(np.isin(year[mask], before).sum())
        na = int(np.isin(year[mask], after).sum())
        rows[zone] = {
            **head,
            "threshold_min": threshold,
            "zone": zone,
            "n_summers_before": len(before),
            "n_summers_after": len(after),
            "n_before": nb,
            "n_after": na,
            "rate_before": nb / len(before) if before else np.nan,
            "rate_after": na / len(after) if after else np.nan,
            **poisson_rate_ratio(na, len(after), nb, len(before), alpha=alpha),
        }
    z, r = rows["service_area"], rows["rest_of_town"]
    z["did_per_summer"] = (z["rate_after"] - z["rate_before"]) - (
        r["rate_after"] - r["rate_before"]
    )
    z.update(_ratio_of_ratios(z, r, alpha))
    for row in (z, r):
        row["conclusion"] = _conclusion(row["n_before"] + row["n_after"], row, min_events)
    return [z, r]


def incidents_before_after(
    incidents: gpd.GeoDataFrame,
    play_areas: gpd.GeoDataFrame,
    *,
    network: Any = None,
    threshold_min: float | Sequence[float] = (5, 10),
    types: Sequence[str] | None = COUNTED_TYPES,
    months: tuple[int, int] = (6, 9),
    years: Sequence[int] | None = None,
    speed_kmh: float = 4.5,
    max_snap_m: float = 200.0,
    min_events: int = MIN_EVENTS,
    alpha: float = 0.05,
    today: dt.date | None = None,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Count incidents per summer near each water play area and elsewhere, before and after.

    See the module docstring for the rates, the exact interval and the difference-in-differences.
    The service area counts every incident within the walking time of the play area, wherever
    it lies; with `communes`, the rest of the town counts only the incidents inside the commune
    perimeter (:func:`cdv_geo.core.assign.in_communes`, the border included), so that those of
    a neighbouring commune left in the layer never weigh on the comparison.

    Parameters
    ----------
    incidents : GeoDataFrame
        Points with a ``date`` and a ``type`` (``hydrant_opened``, ``street_pooling``, ``other``).
    play_areas : GeoDataFrame
        The water play areas (points or polygons), with an ``opened`` date; those without one are
        left out (the table says so in ``conclusion``).
    network : WalkNetwork, optional
        The walking network; without it, straight-line distances (``method`` says so).
    threshold_min : float or sequence of float, default (5, 10)
        Walking times that define each play area's service area.
    types : sequence of str or None, default ("hydrant_opened", "street_pooling")
        Incident types counted; None counts every type.
    months : (int, int), default (6, 9)
        First and last month of a summer (June to September).
    years : sequence of int, optional
        The summers observed (default: every year from the first to the last incident).
    speed_kmh, max_snap_m : float
        Walking speed and the farthest a point may be from the streets.
    min_events : int, default 10
        Fewer incidents than this in the service area (before + after): no conclusion.
    alpha : float, default 0.05
        1 - confidence level of the intervals.
    today : datetime.date, optional
        Dates after it are refused (default: today).
    crs : optional
        Metric CRS (default: the policy of :func:`cdv_geo.core.crs.choose_metric_crs`).
    communes : GeoDataFrame, optional
        The territory's commune(s): ``rest_of_town`` is then the commune minus the service area;
        without it, every incident of the layer outside the service area.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``facility``, ``threshold_min``, ``zone``) with ``zone`` in
        ``service_area`` / ``rest_of_town``. Columns: ``name``, ``opened``,
        ``n_summers_before``, ``n_summers_after``, ``n_before``, ``n_after``, ``rate_before``,
        ``rate_after`` (incidents per summer), ``rate_ratio``, ``rate_ratio_low``,
        ``rate_ratio_high``, ``p_value``, then on the service-area rows ``did_per_summer``,
        ``ratio_of_rate_ratios``, ``rrr_low``, ``rrr_high``, and ``conclusion``. ``attrs["note"]``
        says it is descriptive.

    Raises
    ------
    DataValidationError
        Incidents without a date or with a date in the future, play areas whose ``opened`` date
        cannot be read, a missing ``type`` field.
    """
    incidents = as_layer(incidents, "incidents", geometry="point")
    play_areas = as_layer(play_areas, "play_areas", geometry=["point", "polygon"])
    today = today or dt.date.today()
    metric = choose_metric_crs(incidents, crs)
    incidents, play_areas = to_metric(incidents, metric), to_metric(play_areas, metric)
    dates = _dates(incidents, "date", "incidents", today=today)
    if types is not None:
        if "type" not in incidents.columns:
            raise DataValidationError(
                [
                    Problem(
                        "no 'type' field; give each incident its type, or pass types=None",
                        file=incidents.attrs.get("source"),
                        layer="incidents",
                        field="type",
                    )
                ]
            )
        keep = incidents["type"].isin(list(types)).to_numpy()
        incidents, dates = incidents[keep], dates[keep]
    seasonal = np.array([months[0] <= d.month <= months[1] for d in dates], dtype=bool)
    incidents, dates = incidents[seasonal], dates[seasonal]
    year = np.array([d.year for d in dates], dtype=int)
    town = np.ones(len(incidents), dtype=bool)
    if communes is not None:
        town = in_communes(incidents, as_layer(communes, "communes", geometry="polygon"))
    if years is None:
        years = list(range(int(year.min()), int(year.max()) + 1)) if len(year) else []
    if "opened" in play_areas.columns:
        play_areas = play_areas[play_areas["opened"].notna()]
    if "opened" not in play_areas.columns or play_areas.empty:
        raise DataValidationError(
            [
                Problem(
                    "no play area has an 'opened' date: give the opening date (YYYY-MM-DD) of "
                    "the water play areas to compare before and after",
                    layer="play_areas",
                    field="opened",
                )
            ]
        )
    opened = _dates(play_areas, "opened", "play_areas", today=today)
    thresholds = np.atleast_1d(np.asarray(threshold_min, dtype=float))
    rows: list[dict[str, Any]] = []
    ids = feature_ids(play_areas)
    names = play_areas["name"] if "name" in play_areas.columns else pd.Series(ids)
    for pos, (fid, name, open_date) in enumerate(zip(ids, names, opened, strict=True)):
        walk = nearest_facility(
            incidents,
            play_areas.iloc[[pos]].assign(kind="water_play_area"),
            network=network,
            speed_kmh=speed_kmh,
            max_snap_m=max_snap_m,
            crs=metric,
        )
        time = walk.filter(like="_time_min").iloc[:, 0].to_numpy(dtype=float)
        before, after = summers(years, open_date, months=months)
        head = {"facility": fid, "name": name, "opened": open_date}
        for t in thresholds:
            near = np.nan_to_num(time, nan=np.inf) <= t
            rows += _zone_rows(head, float(t), near, town, year, before, after, alpha, min_events)
    out = pd.DataFrame(rows).set_index(["facility", "threshold_min", "zone"])
    out.attrs["note"] = (
        "Descriptive comparison of counts before and after opening, not a causal estimate."
    )
    return out
