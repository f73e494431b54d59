"""Opening hours and permanences: when a service within walking reach is open.

A CCAS permanence open Tuesday morning only, or a service closed on Wednesday afternoon when
children are free, is not the access of a service open all week. Each facility's
``opening_hours`` (the OpenStreetMap syntax, parsed by ``opening-hours-py``: ``Mo-Fr
09:00-12:00,14:00-17:00; PH off``, ``24/7``, ``week 1-53/2 We 14:00-17:00``...) is read on one
*reference week* (a week without public holiday by default: ``PH off`` then changes nothing;
pass a week with one to see it), as open intervals in minutes from Monday 00:00.

**Permanences.** One facility may host several services, each with its schedule (the CAF on
Tuesday, a mediator on Thursday): give a list of expressions, or one text with the
permanences separated by ``||``. The facility is open when any of them is. (In the OSM
specification ``||`` is a *fallback* rule; read as permanences it can only add opening time,
and planners' tables do not use fallbacks.) Within one expression ``;`` keeps its OSM meaning:
a later rule *replaces* an earlier one for the days it names (``Mo-Fr 09:00-12:00; Tu
14:00-17:00`` is open Tuesday afternoon only); ``,`` adds (``Mo-Fr 09:00-12:00, Tu
14:00-17:00``).

:func:`opening_access` then crosses the schedules with the walking times of
:func:`cdv_geo.metrics.catchment_times.travel_times`: per home and kind, the weekly hours when a
facility of the kind within `within_min` minutes is open; the share of residents with one open
at given moments; a weekly strip (day × hour) per quartier and kind.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.assign import assign_quartier, in_communes
from cdv_geo.core.errors import CdvGeoError, DataValidationError, Problem
from cdv_geo.core.layers import as_layer
from cdv_geo.core.tables import is_comparison_row, quartier_names, rows_of
from cdv_geo.metrics.catchment import layer_values, row_means
from cdv_geo.metrics.catchment_times import TravelTimes, given_times, travel_times
from cdv_geo.metrics.population import population_source_of
from cdv_geo.metrics.walking import check_positive, id_text, select_kinds, to_crs
from cdv_geo.network import WalkNetwork
from cdv_geo.schema.fields import check_opening_hours, split_permanences

__all__ = [
    "DAYS",
    "DEFAULT_MOMENTS",
    "REFERENCE_WEEK",
    "WEEK_MIN",
    "OpeningAccess",
    "moment_intervals",
    "opening_access",
    "parse_opening_hours",
    "weekly_intervals",
]

#: Minutes in a week.
WEEK_MIN = 7 * 24 * 60
#: The days of the week, Monday first (the OSM abbreviations).
DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
#: Monday of the default reference week: 9–15 March 2026, without public holiday in France.
REFERENCE_WEEK = dt.date(2026, 3, 9)
#: Default moments of :func:`opening_access`: a time (``"We 14:00"``: open at that minute) or
#: an OSM expression (a window: open at some time in it).
DEFAULT_MOMENTS: dict[str, str] = {
    "wednesday_14h": "We 14:00",
    "saturday_10h": "Sa 10:00",
    "weekday_after_18h": "Mo-Fr 18:00-24:00",
}

#: Homes handled at once (bounds the homes × segments matrices).
_HOME_CHUNK = 20_000
_POINT = re.compile(r"^\s*(Mo|Tu|We|Th|Fr|Sa|Su)\s+(\d{1,2}):(\d{2})\s*$")


def _monday(week: dt.date) -> dt.datetime:
    day = week.date() if isinstance(week, dt.datetime) else week
    monday = day - dt.timedelta(days=day.weekday())
    return dt.datetime(monday.year, monday.month, monday.day)


def _merge(iv: list[tuple[float, float]]) -> np.ndarray:
    """Union of intervals, sorted, as an (n, 2) array of minutes."""
    out: list[list[float]] = []
    for a, b in sorted(iv):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return np.array(out, dtype=float).reshape(-1, 2)


def weekly_intervals(
    value: Any, *, week: dt.date = REFERENCE_WEEK, country: str | None = "FR"
) -> np.ndarray:
    """Return when a facility is open in the reference week: (start, end) minutes from Monday.

    Parameters
    ----------
    value : str or list of str
        One OSM ``opening_hours`` expression, several permanences joined by ``||``, or a list.
    week : datetime.date, default REFERENCE_WEEK
        Any day of the week to read (its Monday 00:00 is minute 0).
    country : str or None, default "FR"
        The country whose public holidays ``PH`` means.

    Returns
    -------
    numpy.ndarray
        Shape (n, 2), sorted and disjoint; "unknown" states count as closed.

    Raises
    ------
    ValueError
        A permanence that does not parse (the message names it).

    Examples
    --------
    >>> weekly_intervals("Mo-Fr 09:00-12:00; Tu 14:00-17:00").tolist()[:3]
    [[540.0, 720.0], [2280.0, 2460.0], [3420.0, 3600.0]]
    >>> float(np.diff(weekly_intervals("24/7")).sum()) / 60
    168.0
    >>> weekly_intervals("Mo 09:00-12:00 || Mo 11:00-13:00").tolist()
    [[540.0, 780.0]]
    """
    import opening_hours  # (a compiled parser: loaded when schedules are read)

    start = _monday(week)
    end = start + dt.timedelta(days=7)
    iv: list[tuple[float, float]] = []
    for part in split_permanences(value):
        check_opening_hours(part)
        oh = opening_hours.OpeningHours(part, country=country)
        for a, b, state, _comment in oh.intervals(start, end):
            if str(state).lower().endswith("open"):
                b = end if b is None or b > end else b
                iv.append(((a - start).total_seconds() / 60, (b - start).total_seconds() / 60))
    return _merge(iv)


def parse_opening_hours(
    facilities: gpd.GeoDataFrame,
    *,
    column: str = "opening_hours",
    week: dt.date = REFERENCE_WEEK,
    country: str | None = "FR",
) -> list[np.ndarray | None]:
    """Read every facility's schedule (:func:`weekly_intervals`); None where it has none.

    Raises
    ------
    DataValidationError
        Listing every facility whose hours do not parse: its id, its row and its text.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> f = gpd.GeoDataFrame({"id": ["caf", "pmi"], "opening_hours": ["Tu 09:00-12:00", "9h-12h"]},
    ...                      geometry=[Point(0, 0)] * 2, crs=2154)
    >>> parse_opening_hours(f)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.DataValidationError: 1 facilit... with opening hours that do not parse:
      - layer facilities, feature pmi, field 'opening_hours': row 2: '9h-12h' is not in ...
    """
    if column not in facilities.columns:
        return [None] * len(facilities)
    ids = id_text(facilities).to_numpy(dtype=object)
    out: list[np.ndarray | None] = []
    problems: list[Problem] = []
    for row, (fid, value) in enumerate(zip(ids, facilities[column], strict=True)):
        if not split_permanences(value):
            out.append(None)
            continue
        try:
            out.append(weekly_intervals(value, week=week, country=country))
        except ValueError as err:
            out.append(None)
            problems.append(
                Problem(
                    f"row {row + 1}: {err}",
                    facilities.attrs.get("source"),
                    "facilities",
                    fid,
                    column,
                )
            )
    if problems:
        raise DataValidationError(
            problems, summary=f"{len(problems)} facility(ies) with opening hours that do not parse:"
        )
    return out


def moment_intervals(spec: str, *, week: dt.date = REFERENCE_WEEK) -> np.ndarray:
    """Return the minutes of a moment: ``"We 14:00"`` (that minute) or an OSM expression.

    Examples
    --------
    >>> moment_intervals("We 14:00").tolist(), moment_intervals("Sa 10:00-12:00").tolist()
    ([[3720.0, 3721.0]], [[7800.0, 7920.0]])
    """
    point = _POINT.match(spec)
    if point:
        day, hh, mm = DAYS.index(point.group(1)), int(point.group(2)), int(point.group(3))
        if hh > 23 or mm > 59:
            raise CdvGeoError(f"moment {spec!r}: not a time of day (HH:MM, 00:00 to 23:59)")
        t = day * 1440.0 + hh * 60 + mm
        return np.array([[t, t + 1.0]])
    try:
        return weekly_intervals(spec, week=week, country=None)
    except ValueError as err:
        raise CdvGeoError(f"moment {spec!r}: {err}, or like 'We 14:00'") from None


# --- the metric ---------------------------------------------------------------------------------


@dataclass
class OpeningAccess:
    """The result of :func:`opening_access`.

    Attributes
    ----------
    hours : pandas.DataFrame
        Index (``quartier``, ``kind``): ``name``, ``open_hours_week`` (population-weighted
        mean of the homes' weekly hours with a facility of the kind open within reach),
        ``n_residents``, ``n_homes``, ``n_unreachable``, ``n_facilities``,
        ``n_without_hours`` (facilities of the kind without a schedule: never counted open),
        ``within_min``, ``travel``, ``population_source``, and ``reason`` where missing.
    moments : pandas.DataFrame
        Index (``quartier``, ``kind``, ``moment``): ``name``, ``served_share`` (share of the
        residents with a facility of the kind open within reach at that moment), ``spec``.
    strip : pandas.DataFrame
        Index (``quartier``, ``kind``, ``day``, ``hour``), day ``Mo``..``Su``, hour 0–23:
        ``name``, ``served_share`` (the residents' mean share of that hour with a facility
        open within reach).
    homes : pandas.DataFrame
        Per home (index ``id``): ``<kind>_open_hours_week``.
    """

    hours: pd.DataFrame
    moments: pd.DataFrame
    strip: pd.DataFrame
    homes: pd.DataFrame


def _open_matrix(schedules: list[np.ndarray | None], cuts: np.ndarray) -> np.ndarray:
    """Facilities × segments between `cuts`: True where the facility is open."""
    mids = (cuts[:-1] + cuts[1:]) / 2
    out = np.zeros((len(schedules), len(mids)), dtype=bool)
    for j, iv in enumerate(schedules):
        if iv is not None and len(iv):
            pos = np.searchsorted(iv[:, 0], mids, side="right") - 1
            out[j] = (pos >= 0) & (mids < iv[np.maximum(pos, 0), 1])
    return out


def opening_access(
    homes: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None = None,
    kinds: str | Sequence[str] | None = None,
    within_min: float = 10.0,
    moments: Mapping[str, str] = DEFAULT_MOMENTS,
    week: dt.date = REFERENCE_WEEK,
    country: str | None = "FR",
    population: str = "population",
    speed_kmh: float = 4.5,
    max_snap_m: float = 200.0,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
    times: TravelTimes | None = None,
) -> OpeningAccess:
    """Measure when the residents have a service of each kind open within walking reach.

    For home i and kind k, with F the facilities of the kind within `within_min` minutes
    (:func:`~cdv_geo.metrics.catchment_times.travel_times`) and O_j the open minutes of facility j
    in the reference week: served_i(t) = [t ∈ ∪_{j ∈ F} O_j]. Then

    * ``open_hours_week`` = |∪_{j∈F} O_j| / 60 (hours when *some* facility within reach is
      open: two overlapping permanences count once; at most 168);
    * a moment's ``served_share`` = Σ_i P_i [served_i(t) for some t in the moment] / Σ_i P_i;
    * the strip's ``served_share`` for (day, hour) = Σ_i P_i × (minutes of the hour served) /
      60 / Σ_i P_i.

    Rows are the quartiers and the named comparison rows (as
    :func:`cdv_geo.metrics.access.coverage`); means run over the homes placed on the network.

    Parameters
    ----------
    homes, facilities, quartiers : geopandas.GeoDataFrame
        Residences (with `population`), facilities (``kind``, ``opening_hours``), quartiers.
    network : WalkNetwork, optional
        The walking network (``None``: straight lines).
    kinds : str or list of str, optional
        Facility kinds (all present when omitted).
    within_min : float, default 10
        Walking time within which a facility counts (a facility exactly at it counts).
    moments : mapping of str to str, default DEFAULT_MOMENTS
        Name -> ``"We 14:00"`` (that minute) or an OSM expression (a window).
    week : datetime.date, default REFERENCE_WEEK
        The reference week (see the module docstring).
    country : str or None, default "FR"
        Whose public holidays ``PH`` means.
    population : str, default "population"
        The homes' residents column.
    speed_kmh, max_snap_m, crs, communes
        As :func:`cdv_geo.metrics.access.coverage`.
    times : TravelTimes, optional
        Times already computed (:func:`~cdv_geo.metrics.catchment_times.travel_times`) for
        these `homes` and `facilities` at `speed_kmh`, up to `within_min` or more (pairs
        beyond it left out); `network`, `max_snap_m` and `crs` are then those of `times`.

    Returns
    -------
    OpeningAccess

    Raises
    ------
    DataValidationError
        Opening hours that do not parse (every facility listed, with its row and text), no
        population, no ``kind``.
    CdvGeoError
        `times` shorter than `within_min`, or for other layers.

    Examples
    --------
    A CCAS 4 minutes away open Tuesday morning; a mediator 8 minutes away Wednesday
    afternoon (two permanences in one building would be ``"Tu 09:00-12:00 || We
    14:00-17:00"``):

    >>> import geopandas as gpd
    >>> from shapely import LineString, Point, box
    >>> net = WalkNetwork.from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (2000, 0)])], crs=2154), crs=2154)
    >>> homes = gpd.GeoDataFrame({"population": [10]}, geometry=[Point(300, 0)], crs=2154)
    >>> fac = gpd.GeoDataFrame({"kind": ["ccas", "ccas"],
    ...     "opening_hours": ["Tu 09:00-12:00", "We 14:00-17:00"]},
    ...     geometry=[Point(0, 0), Point(900, 0)], crs=2154)
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Presles"]},
    ...                      geometry=[box(0, -10, 500, 10)], crs=2154)
    >>> r = opening_access(homes, fac, q, network=net, within_min=10)
    >>> float(r.hours.loc[("Q1", "ccas"), "open_hours_week"])
    6.0
    >>> r.moments.loc["Q1", "ccas"]["served_share"].tolist()
    [1.0, 0.0, 0.0]
    """
    limit = check_positive(within_min, "within_min")
    homes = as_layer(homes, "homes")
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    facilities = as_layer(facilities, "facilities", geometry=["point", "polygon"])
    kind_list = select_kinds(facilities, kinds)
    pop = layer_values(
        homes, population, name="homes", what="population", hint="add it, or name another column"
    )
    fkind = np.array([str(k) if pd.notna(k) else "" for k in facilities["kind"]], dtype=object)
    sel = np.flatnonzero(np.isin(fkind, kind_list))
    chosen = facilities.iloc[sel]
    schedules = parse_opening_hours(chosen, week=week, country=country)
    moment_iv = {name: moment_intervals(spec, week=week) for name, spec in moments.items()}
    walk = {"network": network, "speed_kmh": speed_kmh, "max_snap_m": max_snap_m, "crs": crs}
    tt = _times(times, homes, facilities, sel, limit, walk)
    cuts = np.unique(
        np.concatenate(
            [np.arange(0, WEEK_MIN + 1, 60.0)]
            + [iv.ravel() for iv in schedules if iv is not None]
            + [iv.ravel() for iv in moment_iv.values()]
        ).clip(0, WEEK_MIN)
    )
    seg_len = np.diff(cuts)
    opened = _open_matrix(schedules, cuts).astype(float)
    # segments -> hours of the week, weighted by their minutes (a segment never spans two hours)
    to_hour = np.zeros((len(seg_len), 7 * 24))
    to_hour[np.arange(len(seg_len)), np.minimum(cuts[:-1] // 60, 7 * 24 - 1).astype(int)] = seg_len
    in_moment = np.stack([_open_matrix([iv], cuts)[0] for iv in moment_iv.values()], axis=1)
    q = to_crs(quartiers, tt.crs)
    town = None
    if communes is not None:
        town = in_communes(tt.home_geoms, to_crs(as_layer(communes, "communes"), tt.crs))
    member_of = rows_of(assign_quartier(tt.home_geoms, q).to_numpy(), q, in_commune=town)
    names = quartier_names(q)
    keys = list(member_of)
    # rows × homes: each row's residents placed on the network
    row_pop = np.stack([np.where(member_of[k] & tt.placed, pop, 0.0) for k in keys])
    totals = row_pop.sum(axis=1)
    reasons = [
        _reason(k, member_of[k], member_of[k] & tt.placed, t)
        for k, t in zip(keys, totals, strict=True)
    ]
    reach = tt.matrix().tocsr()
    hours: dict[str, np.ndarray] = {}
    moment_rows: list[tuple[tuple[str, str, str], dict[str, Any]]] = []
    strip_rows: list[tuple[tuple[str, str, str, int], dict[str, Any]]] = []
    for kind in kind_list:
        of_kind = opened * (fkind[sel] == kind)[:, None]
        h_week = np.empty(len(pop))
        row_moment = np.zeros((len(keys), len(moment_iv)))
        row_strip = np.zeros((len(keys), 7 * 24))
        for lo in range(0, len(pop), _HOME_CHUNK):
            part = slice(lo, lo + _HOME_CHUNK)
            # homes × segments: served when some facility of the kind within reach is open
            served = (reach[part] @ of_kind) > 0
            h_week[part] = served @ seg_len / 60.0
            row_moment += row_pop[:, part] @ ((served @ in_moment) > 0)
            row_strip += row_pop[:, part] @ (served @ to_hour) / 60.0
        hours[kind] = np.where(tt.placed, h_week, np.nan)
        for r, key in enumerate(keys):
            ok = reasons[r] is None
            for m, name in enumerate(moment_iv):
                share = row_moment[r, m] / totals[r] if ok else np.nan
                moment_rows.append(
                    ((key, kind, name), {"name": names[key], "served_share": float(share),
                                         "spec": moments[name], "reason": reasons[r]})
                )  # fmt: skip
            for h in range(7 * 24):
                share = row_strip[r, h] / totals[r] if ok else np.nan
                strip_rows.append(
                    ((key, kind, DAYS[h // 24], h % 24),
                     {"name": names[key], "served_share": float(share), "reason": reasons[r]})
                )  # fmt: skip
    extra: dict[str, Any] = {
        "n_facilities": {k: int((fkind[sel] == k).sum()) for k in hours},
        "n_without_hours": {
            k: sum(1 for j in np.flatnonzero(fkind[sel] == k) if schedules[j] is None)
            for k in hours
        },
        "within_min": limit,
        "travel": tt.method,
        "population_source": population_source_of(homes),
    }
    table = row_means(hours, pop, tt.placed, member_of, names, "open_hours_week", extra=extra)
    home_frame = pd.DataFrame(
        {f"{k}_open_hours_week": v for k, v in hours.items()}, index=tt.home_ids
    )
    return OpeningAccess(
        table,
        _long(moment_rows, ("quartier", "kind", "moment")),
        _long(strip_rows, ("quartier", "kind", "day", "hour")),
        home_frame,
    )


def _times(
    times: TravelTimes | None,
    homes: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    sel: np.ndarray,
    limit: float,
    walk: dict[str, Any],
) -> TravelTimes:
    """Return the times to the facilities at `sel` within `limit` (given ones checked, cut)."""
    if times is None:
        return travel_times(homes, facilities.iloc[sel], max_time_min=limit, **walk)
    return given_times(
        times, homes, facilities, max_time_min=limit, speed_kmh=walk["speed_kmh"],
        function="opening_access",
    ).columns(sel)  # fmt: skip


def _reason(key: str, member: np.ndarray, use: np.ndarray, total: float) -> str | None:
    where = "row" if is_comparison_row(key) else "quartier"
    if not member.any():
        return f"no home in this {where}"
    if not use.any():
        return f"no home of this {where} is on the street network"
    if total <= 0:
        return f"the homes of this {where} have a total population of 0"
    return None


def _long(rows: list[tuple[tuple[Any, ...], dict[str, Any]]], names: Sequence[str]) -> pd.DataFrame:
    """Build a long table from (key, values) pairs; ``reason`` only when one is set."""
    index = pd.MultiIndex.from_tuples([k for k, _ in rows], names=list(names))
    out = pd.DataFrame([v for _, v in rows], index=index)
    if out["reason"].isna().all():
        out = out.drop(columns="reason")
    return out
