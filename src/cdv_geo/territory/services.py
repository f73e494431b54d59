"""The ``[services]`` section of a project: capacity, opening hours and the commercial centres.

:class:`ServiceSettings` says how the pipeline measures access that counts the services'
capacity (floating catchments, as the DREES APL), their opening hours (permanences), and the
commercial centres' catchment (Huff model) and retail density
(:mod:`cdv_geo.pipeline.services`). Every key is optional; a project without the section gets
the defaults, which follow the data: the kinds whose facilities have a capacity, the kinds whose
facilities have opening hours. :func:`read_services` reads the section and lists every problem
of it (an unknown key names the known ones)::

    [services]
    capacity_kinds = ["health_centre", "ccas"]   # default: the kinds with a capacity
    method = "e2sfca"                            # or "2sfca"
    bands = [[5, 1.0], [10, 0.3], [15, 0.1]]     # (minutes, weight): the APL's steps
    hours_kinds = ["ccas", "social_centre"]      # default: the kinds with opening hours
    within_min = 10                              # walking minutes of the opening-hours access
    moments = { wednesday_14h = "We 14:00", saturday_10h = "Sa 10:00",
                weekday_after_18h = "Mo-Fr 18:00-24:00" }
    centre_kinds = ["commercial_centre", "supermarket"]  # the Huff model's centres
    attractiveness = "surface"                   # their attractiveness ("count": all equal)
    alpha = 1.0
    beta = 2.0
    max_time_min = 30
    shop_kinds = ["shop", "supermarket"]         # the shops of the retail density
    density_weight = "count"                     # or "surface": sales area per 1,000
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cdv_geo.core.errors import DataValidationError, Problem

__all__ = ["SERVICE_KEYS", "ServiceSettings", "read_services"]

#: A moment given as one minute of the week (``"We 14:00"``); other moments are OSM expressions.
_POINT = re.compile(r"^\s*(Mo|Tu|We|Th|Fr|Sa|Su)\s+([01]?\d|2[0-3]):([0-5]\d)\s*$")


@dataclass(frozen=True)
class ServiceSettings:
    """How a run measures capacity, opening hours and the commercial centres.

    Parameters
    ----------
    capacity_kinds : tuple of str, optional
        Facility kinds of the floating-catchment access (``capacity_access``). None (default):
        every kind some of whose facilities have a ``capacity``.
    method : {"e2sfca", "2sfca"}, default "e2sfca"
        E2SFCA (time bands with decay weights, as the APL) or 2SFCA (one threshold).
    bands : tuple of (float, float), optional
        (upper bound in walking minutes, weight) in increasing order. None (default): the
        APL's steps at walking scale, 0–5 min 1, 5–10 min 0.3, 10–15 min 0.1
        (:data:`cdv_geo.metrics.catchment.APL_BANDS`).
    hours_kinds : tuple of str, optional
        Facility kinds of the opening-hours access (``open_hours``, ``open_moments``,
        ``opening_strip``). None (default): every kind some of whose facilities have
        ``opening_hours``.
    within_min : float, default 10
        Walking minutes within which an open service counts.
    moments : mapping of str to str, optional
        Name -> ``"We 14:00"`` (that minute) or an OSM expression (a window, e.g.
        ``"Mo-Fr 18:00-24:00"``). None (default): Wednesday 14:00, Saturday 10:00, weekdays
        after 18:00 (:data:`cdv_geo.metrics.opening_hours.DEFAULT_MOMENTS`).
    centre_kinds : tuple of str, default ("commercial_centre", "supermarket")
        Facility kinds that are commercial centres in the Huff model.
    attractiveness : str or None, default "surface"
        The centres' attractiveness column (sales area ``surface``, number of outlets...);
        None (``"count"`` in the project file) gives every centre the same.
    alpha, beta : float, default 1 and 2
        The Huff model's exponents of attractiveness and of walking time.
    max_time_min : float, default 30
        Centres farther than this walk are out of a home's choice.
    shop_kinds : tuple of str, default ("shop", "supermarket")
        Facility kinds counted by the retail density.
    density_weight : str or None, default None
        None (``"count"``) counts the shops; a column (``surface``) sums it.

    Examples
    --------
    >>> ServiceSettings().centre_kinds
    ('commercial_centre', 'supermarket')
    """

    capacity_kinds: tuple[str, ...] | None = None
    method: str = "e2sfca"
    bands: tuple[tuple[float, float], ...] | None = None
    hours_kinds: tuple[str, ...] | None = None
    within_min: float = 10.0
    moments: Mapping[str, str] | None = field(default=None, hash=False)
    centre_kinds: tuple[str, ...] = ("commercial_centre", "supermarket")
    attractiveness: str | None = "surface"
    alpha: float = 1.0
    beta: float = 2.0
    max_time_min: float = 30.0
    shop_kinds: tuple[str, ...] = ("shop", "supermarket")
    density_weight: str | None = None


#: The keys of a project's ``[services]`` section (the fields of :class:`ServiceSettings`).
SERVICE_KEYS = tuple(ServiceSettings.__dataclass_fields__)
_KIND_KEYS = ("capacity_kinds", "hours_kinds", "centre_kinds", "shop_kinds")
_NUMBER_KEYS = ("within_min", "alpha", "beta", "max_time_min")
_COLUMN_KEYS = ("attractiveness", "density_weight")


def read_services(section: Mapping[str, Any] | None, *, file: str | None = None) -> ServiceSettings:
    """Read a ``[services]`` section (None: the defaults); every problem in one error.

    Parameters
    ----------
    section : mapping, optional
        The section as TOML gives it.
    file : str, optional
        The project file, named in the problems.

    Raises
    ------
    DataValidationError
        Listing every problem: an unknown key (naming the known ones), a kind list that is not
        a list of names, a number that is not positive, bad bands, a moment that is neither
        ``"We 14:00"`` nor an OSM ``opening_hours`` expression.

    Examples
    --------
    >>> s = read_services({"beta": 3, "attractiveness": "count", "within_min": 15})
    >>> s.beta, s.attractiveness, s.within_min, s.capacity_kinds
    (3.0, None, 15.0, None)
    >>> read_services({"bata": 3})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.DataValidationError: [services] ...
      - layer services, field 'bata': unknown [services] key 'bata'; known keys: capacity_kinds, ...
    """
    if not section:
        return ServiceSettings()
    problems: list[Problem] = []

    def bad(message: str, key: str) -> None:
        problems.append(Problem(message, file=file, layer="services", field=key))

    values: dict[str, Any] = {}
    for key, raw in section.items():
        if key not in SERVICE_KEYS:
            bad(f"unknown [services] key {key!r}; known keys: {', '.join(SERVICE_KEYS)}", key)
        elif key in _KIND_KEYS:
            kinds = [raw] if isinstance(raw, str) else raw
            if not isinstance(kinds, list) or not all(isinstance(k, str) and k for k in kinds):
                bad(f'{key} must be a list of facility kinds, e.g. ["ccas"], not {raw!r}', key)
            else:
                values[key] = tuple(kinds)
        elif key in _NUMBER_KEYS:
            if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
                bad(f"{key} must be a number > 0, not {raw!r}", key)
            else:
                values[key] = float(raw)
        elif key == "method":
            if raw not in ("e2sfca", "2sfca"):
                bad(f'method must be "e2sfca" or "2sfca", not {raw!r}', key)
            else:
                values[key] = raw
        elif key == "bands":
            values[key] = _bands(raw, bad)
        elif key == "moments":
            values[key] = _moments(raw, bad)
        elif key in _COLUMN_KEYS:
            if not isinstance(raw, str) or not raw.strip():
                bad(f'{key} must be a column name or "count", not {raw!r}', key)
            else:
                values[key] = None if raw.strip().lower() == "count" else raw.strip()
    if problems:
        raise DataValidationError(problems, summary=f"[services] of project {file}:")
    return ServiceSettings(**values)


def _bands(raw: Any, bad: Any) -> tuple[tuple[float, float], ...] | None:
    example = "[[5, 1.0], [10, 0.3], [15, 0.1]]"
    try:
        pairs = tuple((float(t), float(w)) for t, w in raw)
    except (TypeError, ValueError):
        bad(f"bands must be [minutes, weight] pairs, e.g. {example}, not {raw!r}", "bands")
        return None
    upper = [t for t, _ in pairs]
    ok = pairs and all(t > 0 for t in upper) and all(w >= 0 for _, w in pairs)
    if not ok or any(b <= a for a, b in itertools.pairwise(upper)):
        bad(
            f"bands must have increasing positive minutes and weights >= 0, e.g. {example}; "
            f"got {raw!r}",
            "bands",
        )
        return None
    return pairs


def _moments(raw: Any, bad: Any) -> dict[str, str] | None:
    from cdv_geo.schema.fields import check_opening_hours

    if not isinstance(raw, Mapping) or not raw:
        bad(f'moments must be a table of name = "We 14:00" entries, not {raw!r}', "moments")
        return None
    out: dict[str, str] = {}
    for name, spec in raw.items():
        if not isinstance(spec, str) or not spec.strip():
            bad(f'moment {name!r} must be a text like "We 14:00", not {spec!r}', "moments")
            continue
        if not _POINT.match(spec):
            try:
                check_opening_hours(spec)
            except ValueError as err:
                bad(f"moment {name!r}: {err}, or a time like 'We 14:00'", "moments")
                continue
        out[str(name)] = spec.strip()
    return out
