"""Reading one value: missing values, French numbers, yes/no, enumerations, typed columns."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.schema.enums import normalize_token
from cdv_geo.schema.fields import YEAR_MAX, YEAR_MIN, Field

__all__ = [
    "FALSE_TOKENS",
    "TRUE_TOKENS",
    "convert_value",
    "is_missing",
    "parse_number",
    "typed_series",
]

TRUE_TOKENS = frozenset({"1", "true", "vrai", "oui", "yes", "y", "o", "t"})
FALSE_TOKENS = frozenset({"0", "false", "faux", "non", "no", "n", "f"})

# Thousands separators found in French files: space, no-break space, narrow no-break space,
# thin space, apostrophe (Swiss style).
_THOUSANDS = re.compile(r"[ \u00a0\u202f\u2009\u2007']")
_DOT_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")


def is_missing(value: Any) -> bool:
    """Whether a cell is empty: None, NaN, NA, NaT or blank text.

    Examples
    --------
    >>> is_missing(" "), is_missing(float("nan")), is_missing(0)
    (True, True, False)
    """
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    if value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, str) and value.strip() == ""


def parse_number(value: Any) -> float:
    r"""Parse a number written the French way (or any plain way) into a float.

    Accepts spaces, no-break spaces and narrow no-break spaces (U+202F) as thousands
    separators, a decimal comma, and dots as thousands separators when a comma or three-digit
    groups follow (``"1.234,5"``).

    Raises
    ------
    ValueError
        If the text is not a number.

    Examples
    --------
    >>> parse_number("6\u202f206"), parse_number("6 206"), parse_number("3,5")
    (6206.0, 6206.0, 3.5)
    >>> parse_number("1.234,5"), parse_number(12)
    (1234.5, 12.0)
    """
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{value!r} is not a number")
    if not isinstance(value, str):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number") from None
    text = _THOUSANDS.sub("", value.strip())
    if _DOT_THOUSANDS.match(text) and ("," in text or text.count(".") > 1):
        text = text.replace(".", "")
    text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None


def _convert_text(v: Any, f: Field) -> str:
    s = str(v).strip()
    if f.check is not None:  # (opening hours: the OSM syntax, checked at read)
        s = f.check(s)
    if f.enum is None:
        return s
    tok = normalize_token(s)
    if tok in f.enum:
        return tok
    if tok in f.enum_aliases:
        return f.enum_aliases[tok]
    if f.open_enum:
        if not tok:
            raise ValueError(f"{s!r} has no letters or digits; give a kind name")
        return tok
    raise ValueError(f"unknown value {s!r}; expected one of {', '.join(f.enum)}")


def convert_value(v: Any, f: Field) -> Any:
    """Convert one non-missing cell to the type of field `f`.

    Raises
    ------
    ValueError
        With a message saying what is wrong and what was expected.

    Examples
    --------
    >>> convert_value("6 206", Field("population", "int"))
    6206
    """
    if f.dtype == "str":
        return _convert_text(v, f)
    if f.dtype == "bool":
        if isinstance(v, bool | np.bool_):
            return bool(v)
        tok = normalize_token(str(v))
        if tok in TRUE_TOKENS:
            return True
        if tok in FALSE_TOKENS:
            return False
        raise ValueError(f"{v!r} is not a yes/no value (expected true/false, oui/non, 1/0)")
    num = parse_number(v)
    if not np.isfinite(num):
        raise ValueError(f"{v!r} is not a finite number")
    if f.dtype in ("int", "year"):
        if num != int(num):
            raise ValueError(f"{v!r} is not a whole number")
        num = int(num)
        if f.dtype == "year" and not YEAR_MIN <= num <= YEAR_MAX:
            raise ValueError(f"year {num} is outside {YEAR_MIN}–{YEAR_MAX}")
    if f.minimum is not None and num < f.minimum:
        raise ValueError(f"{v!r} is negative; expected a value >= {f.minimum:g}")
    return num


def typed_series(values: list[Any], f: Field, index: pd.Index) -> pd.Series:
    """Build the column of field `f` with its pandas dtype (nullable ``Int64``, ``boolean``)."""
    if f.dtype in ("int", "year"):
        return pd.Series(values, index=index, dtype="Int64")
    if f.dtype == "float":
        return pd.Series([np.nan if v is None else v for v in values], index=index, dtype=float)
    if f.dtype == "bool":
        return pd.Series(values, index=index, dtype="boolean")
    return pd.Series(values, index=index, dtype=object)
