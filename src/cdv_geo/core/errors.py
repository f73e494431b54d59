"""Exception hierarchy of cdv_geo.

Every error raised on bad input is a :class:`CdvGeoError`, so that scripts can catch the
package's errors in one place and the command line prints them without a traceback.
:class:`DataValidationError` collects *every* problem of a layer (or a whole project) and is
raised once, so a planner fixes a file in one pass rather than one error at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CRSError",
    "CdvGeoError",
    "CdvGeoWarning",
    "DataValidationError",
    "LayerTypeError",
    "NetworkError",
    "Problem",
    "RasterError",
]


class CdvGeoError(Exception):
    """Base class of every error cdv_geo raises on bad input or settings."""


class CdvGeoWarning(UserWarning):
    """Something was accepted but changed or guessed; the message says how to avoid it."""


@dataclass(frozen=True)
class Problem:
    """One problem found in the input data.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    file : str, optional
        The file the feature was read from.
    layer : str, optional
        The layer kind (``"facilities"``, ``"quartiers"``...) or table name.
    feature : str, optional
        The feature ``id`` (or row number) concerned.
    field : str, optional
        The field (column) concerned.
    """

    message: str
    file: str | None = None
    layer: str | None = None
    feature: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.layer:
            where.append(f"layer {self.layer}")
        if self.feature is not None:
            where.append(f"feature {self.feature}")
        if self.field:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class DataValidationError(CdvGeoError, ValueError):
    """Input data that does not follow its schema; ``.problems`` lists every problem found.

    Parameters
    ----------
    problems : iterable of Problem or str
        Every problem found (strings are wrapped in :class:`Problem`).
    summary : str, optional
        A first line introducing the list.

    Examples
    --------
    >>> err = DataValidationError([Problem("unknown kind 'zoo'", file="f.geojson",
    ...                                    layer="facilities", feature="7", field="kind")])
    >>> print(err)
    1 problem found:
      - file f.geojson, layer facilities, feature 7, field 'kind': unknown kind 'zoo'
    """

    def __init__(self, problems: Iterable[Problem | str], summary: str | None = None) -> None:
        self.problems: list[Problem] = [
            p if isinstance(p, Problem) else Problem(str(p)) for p in problems
        ]
        n = len(self.problems)
        head = summary or f"{n} problem{'s' if n != 1 else ''} found:"
        lines = [head] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class CRSError(CdvGeoError, ValueError):
    """A layer or raster has no coordinate reference system, or an unusable one."""


class NetworkError(CdvGeoError, ValueError):
    """The walking network cannot be built or used (no edges, nothing walkable, ...)."""


class RasterError(CdvGeoError, ValueError):
    """A raster cannot be used (no CRS, no overlap, missing band, bad scale, ...)."""


class LayerTypeError(CdvGeoError, TypeError):
    """A function was given something that is not a GeoDataFrame where it takes a layer."""
