"""Problem reports that teach: identical problems grouped, candidate columns named."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from cdv_geo.core.errors import Problem
from cdv_geo.schema.values import is_missing, parse_number

__all__ = ["group_problems", "numeric_columns"]

#: How many feature ids a grouped problem lists before "…".
SHOWN_IDS = 5


def group_problems(problems: Sequence[Problem]) -> list[Problem]:
    """Merge problems that differ only by their feature into one line with a count.

    Order follows the first occurrence of each problem. A problem met once is kept as it is.

    Examples
    --------
    >>> ps = [Problem("geometry is a Point", layer="streets", feature=str(i)) for i in range(7)]
    >>> [str(p) for p in group_problems(ps)]
    ['layer streets: 7 features (0, 1, 2, 3, 4, …): geometry is a Point']
    """
    groups: dict[tuple[str, str | None, str | None, str | None], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.message, p.file, p.layer, p.field), []).append(p)
    out: list[Problem] = []
    for (message, file, layer, field), members in groups.items():
        if len(members) == 1:
            out.append(members[0])
            continue
        ids = [m.feature for m in members if m.feature is not None]
        if not ids:  # the same layer-level problem twice: once is enough
            out.append(members[0])
            continue
        shown = ", ".join(ids[:SHOWN_IDS]) + (", …" if len(ids) > SHOWN_IDS else "")
        out.append(
            Problem(
                f"{len(members):,} features ({shown}): {message}",
                file=file,
                layer=layer,
                field=field,
            )
        )
    return out


def numeric_columns(frame: pd.DataFrame, exclude: Iterable[str] = ()) -> list[str]:
    """Names of the columns holding numbers (French-written numbers included), in order.

    Used to suggest which column a missing count or weight could be.

    Examples
    --------
    >>> df = pd.DataFrame({"nom": ["a"], "NB_ARB": ["1 204"], "x": [2.5]})
    >>> numeric_columns(df)
    ['NB_ARB', 'x']
    """
    skip = set(exclude)
    geom = frame.geometry.name if hasattr(frame, "geometry") else None
    found: list[str] = []
    for col in frame.columns:
        if col in skip or col == geom:
            continue
        s = frame[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            continue
        if pd.api.types.is_numeric_dtype(s.dtype):
            found.append(str(col))
            continue
        if not (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
            continue
        sample = [v for v in s.head(200) if not is_missing(v)]
        if sample and all(_is_number(v) for v in sample):
            found.append(str(col))
    return found


def _is_number(v: object) -> bool:
    try:
        parse_number(v)
    except ValueError:
        return False
    return True
