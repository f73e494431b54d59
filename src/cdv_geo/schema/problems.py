"""Problem reports that teach: identical problems grouped, candidate columns named."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from cdv_geo.core.errors import CdvGeoWarning, Problem
from cdv_geo.schema.enums import normalize_token
from cdv_geo.schema.fields import Field
from cdv_geo.schema.values import is_missing, parse_number

__all__ = [
    "COUNT_LIKE",
    "count_like_columns",
    "count_problem",
    "group_problems",
    "numeric_columns",
    "residence_weight_problems",
    "warn_default",
]

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


#: Column names that hold a number of things (``QTE_PLANT``, ``nb_sujets``, ``quantite``...),
#: matched on the normalised name: a count the schema does not recognise must not be ignored.
COUNT_LIKE = re.compile(
    r"(^|_)(nb|nbr|nbre|nombre|qte|qt|qty|quantite|quantity|count|effectif|total)(_|$)"
)


def count_like_columns(frame: pd.DataFrame, exclude: set[str]) -> list[str]:
    """Numeric columns whose name says they hold a number of things (``QTE_PLANT``, ``nb_x``).

    Examples
    --------
    >>> df = pd.DataFrame({"QTE_PLANT": [3], "nb_sujets_morts": ["2"], "hauteur": [4.5]})
    >>> count_like_columns(df, set())
    ['QTE_PLANT', 'nb_sujets_morts']
    """
    return [c for c in numeric_columns(frame, exclude) if COUNT_LIKE.search(normalize_token(c))]


def count_problem(f: Field, counts: list[str], where: dict[str, Any]) -> Problem:
    """Report a count the schema does not recognise (counting each feature as one is wrong)."""
    option = "count_field" if f.name == "trees" else f"{f.name}_field"
    what = f"number of {f.name}" if f.name == "trees" else f"{f.name} of each feature"
    return Problem(
        f"which field holds the {what}? The layer has {', '.join(counts)} but no "
        f'{f.name!r} field; set {option} = "{counts[0]}" in its [layers] entry (or '
        f'{option} = "" to count each feature as {f.default})',
        field=counts[0],
        **where,
    )


def residence_weight_problems(
    out: Mapping[str, Any],
    ids: pd.Series,
    work: pd.DataFrame,
    where: dict[str, Any],
    *,
    known: Iterable[str] = (),
) -> list[Problem]:
    """Residences weigh coverage by dwellings or population: each must have one of them.

    `known` are the schema's fields, left out of the candidate columns named in the hint.

    Examples
    --------
    >>> out = {"dwellings": [None], "population": [None]}
    >>> df = pd.DataFrame({"NB_LGT_2020": ["12"]})
    >>> [p.message[-40:] for p in residence_weight_problems(out, pd.Series(["1"]), df, {})]
    ['columns that could be meant: NB_LGT_2020']
    """
    problems: list[Problem] = []
    dw = pd.Series(out["dwellings"], dtype=object)
    pop = pd.Series(out["population"], dtype=object)
    if dw.map(is_missing).all() and pop.map(is_missing).all():
        candidates = numeric_columns(work, {"id", *known})
        hint = (
            f"; numeric columns that could be meant: {', '.join(candidates)}"
            if candidates
            else "; the layer has no numeric column"
        )
        problems.append(
            Problem(
                "residences need a 'dwellings' (nb_logements) or 'population' (pop) field "
                f"to weigh coverage{hint}",
                field="population",
                **where,
            )
        )
        return problems
    for fid, d, p in zip(ids, dw, pop, strict=True):
        if is_missing(d) and is_missing(p):
            problems.append(
                Problem(
                    "neither dwellings nor population is given",
                    feature=fid,
                    field="population",
                    **where,
                )
            )
    return problems


def warn_default(
    f: Field, where: dict[str, Any], what: str, candidates: list[str] | None = None
) -> None:
    """Say that a count or weight takes its default, and which columns could be meant."""
    src = f" {where['file']}" if where.get("file") else ""
    fallback = (
        f"counted as {f.default}"
        if f.default is not None
        else f"left empty (figures weighted by {f.name} will be missing)"
    )
    hint = ""
    if candidates is not None:
        hint = (
            f" Numeric columns that could be meant: {', '.join(candidates)}; rename one to "
            f"{f.name!r}."
            if candidates
            else " The layer has no other numeric column."
        )
    names = ", ".join((f.name, *f.aliases[:4]))
    warnings.warn(
        f"{where['layer']} layer{src}: field {f.name!r}: {what}, {fallback}. Accepted names: "
        f"{names}...{hint}",
        CdvGeoWarning,
        stacklevel=4,
    )
