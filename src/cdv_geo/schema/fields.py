"""The building blocks of a layer schema: :class:`Field` and :class:`LayerSchema`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["YEAR_MAX", "YEAR_MIN", "Field", "FieldType", "LayerSchema"]

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
