"""The building blocks of a layer schema: :class:`Field` and :class:`LayerSchema`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "PERMANENCE_SEPARATOR",
    "YEAR_MAX",
    "YEAR_MIN",
    "Field",
    "FieldType",
    "LayerSchema",
    "check_opening_hours",
    "split_permanences",
]

YEAR_MIN, YEAR_MAX = 1950, 2100

FieldType = Literal["str", "int", "float", "bool", "year"]


@dataclass(frozen=True)
class Field:
    """One field of a layer schema.

    Parameters
    ----------
    name : str
        Canonical (English snake_case) name.
    dtype : {"str", "int", "float", "bool", "year"}
        Expected type; ``year`` is an integer in 1950–2100.
    required : bool
        Whether every feature must have a value (when there is no `default`).
    default : object, optional
        Value used where the field is absent or empty (a warning says so for `weight` fields).
    enum : tuple of str, optional
        Allowed canonical values.
    enum_aliases : mapping, optional
        Other spellings (normalised with :func:`~cdv_geo.schema.normalize_token`) -> canonical
        value.
    minimum : float, optional
        Smallest allowed value (counts are ``>= 0``).
    aliases : tuple of str
        Other names of the field accepted on read (French names). Matched whatever their case
        and style: ``nb_arbres``, ``NB_ARBRES``, ``nbArbres`` are one name.
    label_fr, label_en : str
        Labels for tables and maps.
    open_enum : bool
        Values outside `enum` are accepted and kept as a snake_case token (facility kinds).
    weight : bool
        A count or weight the metrics sum (trees, population): when it falls back to its
        default or is missing, validation warns and names the numeric columns that could be
        meant.
    check : callable, optional
        For text fields: takes the stripped text and returns it (possibly normalised), or
        raises ValueError saying what is wrong (:func:`check_opening_hours`).
    """

    name: str
    dtype: FieldType
    required: bool = False
    default: Any = None
    enum: tuple[str, ...] | None = None
    enum_aliases: Mapping[str, str] = field(default_factory=dict)
    minimum: float | None = None
    aliases: tuple[str, ...] = ()
    label_fr: str = ""
    label_en: str = ""
    open_enum: bool = False
    weight: bool = False
    check: Callable[[str], str] | None = None


@dataclass(frozen=True)
class LayerSchema:
    """The schema of one layer kind.

    Parameters
    ----------
    kind : str
        Layer kind (``"facilities"``...).
    geometry : tuple of str
        Allowed geometry types (``Polygon`` also allows ``MultiPolygon``, ``LineString`` allows
        ``MultiLineString``; ``Point`` does not allow ``MultiPoint``).
    fields : tuple of Field
        The fields, in output order (after ``id``).
    label_fr, label_en : str
        Layer labels.
    other_geometries : {"error", "drop"}
        What to do with features of another geometry type: one problem each (``"error"``), or
        leave them out with one warning counting them (``"drop"``, streets exported with their
        points).
    """

    kind: str
    geometry: tuple[str, ...]
    fields: tuple[Field, ...]
    label_fr: str
    label_en: str
    other_geometries: Literal["error", "drop"] = "error"

    def field(self, name: str) -> Field:
        """Return the field called `name`."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        """Canonical field names, in order."""
        return [f.name for f in self.fields]

    @property
    def allowed_types(self) -> set[str]:
        """Geometry types accepted, multi-part types included."""
        allowed: set[str] = set()
        for g in self.geometry:
            allowed.add(g)
            if g in ("Polygon", "LineString"):
                allowed.add("Multi" + g)
        return allowed


#: Separates the permanences of one facility in an ``opening_hours`` cell (one OpenStreetMap
#: expression each: a CCAS permanence on Tuesday, the CAF's on Thursday...).
PERMANENCE_SEPARATOR = "||"

_POSITION = re.compile(r"-->\s*\d+:(\d+)")


def split_permanences(value: Any) -> list[str]:
    """Return the permanences of one facility: a list as given, or a text split on ``||``.

    One text is one OpenStreetMap ``opening_hours`` expression, or several joined by ``||``
    (a schedule per service in one building); a list or tuple gives them one by one. Empty
    parts are dropped; a missing value gives no permanence.

    Examples
    --------
    >>> split_permanences("Mo-Fr 09:00-12:00 || Tu 14:00-17:00")
    ['Mo-Fr 09:00-12:00', 'Tu 14:00-17:00']
    >>> split_permanences(["We 14:00-17:00", ""]), split_permanences(None)
    (['We 14:00-17:00'], [])
    """
    if value is None or (isinstance(value, float) and value != value):
        return []
    parts = (
        list(value) if isinstance(value, list | tuple) else str(value).split(PERMANENCE_SEPARATOR)
    )
    return [str(p).strip() for p in parts if p is not None and str(p).strip()]


def check_opening_hours(text: str) -> str:
    """Return `text` when each of its permanences parses as OSM ``opening_hours``, else raise.

    Parsed by ``opening-hours-py`` (the OpenStreetMap specification: ``Mo-Fr 09:00-12:00``,
    several ranges ``09:00-12:00,14:00-17:00``, ``PH off``, ``24/7``, ``week 1-53/2``...).

    Raises
    ------
    ValueError
        Naming the permanence that does not parse and where.

    Examples
    --------
    >>> check_opening_hours("Mo-Fr 09:00-12:00; PH off")
    'Mo-Fr 09:00-12:00; PH off'
    >>> check_opening_hours("Mo 9h-12h")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 'Mo 9h-12h' is not in the OpenStreetMap opening_hours syntax (unexpected text ...
    """
    import opening_hours  # (loaded only when a layer has opening hours)

    for part in split_permanences(text) or [str(text)]:
        try:
            opening_hours.OpeningHours(part)
        except (getattr(opening_hours, "ParserError", SyntaxError), SyntaxError, ValueError) as err:
            found = _POSITION.search(str(err))
            where = f" (unexpected text at character {found.group(1)})" if found else ""
            raise ValueError(
                f"{part!r} is not in the OpenStreetMap opening_hours syntax{where}; write it "
                "like 'Mo-Fr 09:00-12:00; Sa 10:00-12:00; PH off'"
            ) from None
    return text
