"""Test helpers for code that produces or consumes cdv_geo tables (like momepy's ``assert_result``).

>>> import pandas as pd
>>> from cdv_geo.core.tables import quartier_table
>>> q = pd.DataFrame({"code": ["QP1"], "name": ["Presles"]})
>>> assert_metric_table(quartier_table(q, {"QP1": {"n_trees": 3}, "all": {"n_trees": 5}}), q)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdv_geo.core.layers import quartier_codes
from cdv_geo.core.tables import INDEX, TERRITORY

__all__ = ["assert_metric_table"]

_SHARE = re.compile(r"(^|_)share(_|$)")
_NON_NEGATIVE = re.compile(r"^n_|_m2$|_m$|_min$|_ha$")


def assert_metric_table(
    table: pd.DataFrame,
    quartiers: pd.DataFrame | None = None,
    *,
    levels: Sequence[str] = (),
) -> None:
    """Assert that `table` follows the result-table contract of :mod:`cdv_geo.core.tables`.

    Checks: the first index level is ``quartier`` and the others are `levels`; the index is
    unique; the quartiers come in their layer order (all of them, when `quartiers` is given), then
    ``"all"``; ``name`` is the first column; shares are named ``*_share`` and lie in [0, 1];
    counts (``n_*``), areas, distances and times are not negative; every NaN value has a
    ``reason`` on its row.

    Parameters
    ----------
    table : pandas.DataFrame
        The table to check.
    quartiers : DataFrame, optional
        The quartiers the table was computed for.
    levels : sequence of str
        The index levels expected after ``quartier``.

    Raises
    ------
    AssertionError
        Naming the first rule broken.
    """
    assert isinstance(table, pd.DataFrame), f"not a DataFrame: {type(table).__name__}"
    names = list(table.index.names)
    assert names == [INDEX, *levels], f"index levels {names}, expected {[INDEX, *levels]}"
    assert table.index.is_unique, "index has duplicate keys"
    keys = table.index.get_level_values(0)
    seen = list(dict.fromkeys(keys))
    assert seen and seen[-1] == TERRITORY, f"the last row key must be {TERRITORY!r}, got {seen}"
    if quartiers is not None:
        codes = list(quartier_codes(quartiers))
        assert seen == [*codes, TERRITORY], f"row keys {seen}, expected {[*codes, TERRITORY]}"
    else:
        assert TERRITORY not in seen[:-1], "the territory row must come last"
    if levels:
        # within each combination of the other levels, the quartiers then "all"
        for _, grp in table.groupby(level=list(levels), sort=False, dropna=False):
            sub = list(grp.index.get_level_values(0))
            assert sub[-1] == TERRITORY, f"{TERRITORY!r} is not last within {grp.index[0][1:]}"
    cols = list(table.columns)
    assert cols and cols[0] == "name", f"the first column must be 'name', got {cols[:1]}"
    for bad in ("id", "code", INDEX):
        assert bad not in cols, f"column {bad!r}: the quartier key belongs in the index"
    numeric = [c for c in cols if pd.api.types.is_numeric_dtype(table[c])]
    for c in numeric:
        values = table[c].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        if _SHARE.search(c):
            assert c.endswith("_share") or c.endswith("_pp"), f"share column {c!r} not *_share"
            if c.endswith("_share"):
                assert ((finite >= -1e-9) & (finite <= 1 + 1e-9)).all(), f"{c} outside [0, 1]"
        if _NON_NEGATIVE.search(c):
            assert (finite >= -1e-9).all(), f"{c} has negative values"
    if numeric:
        missing = table[numeric].isna().any(axis=1).to_numpy()
        if missing.any():
            assert "reason" in cols, f"NaN values without a 'reason' column: {table[missing]}"
            reason = table["reason"].to_numpy(dtype=object)
            unexplained = missing & np.array([not (isinstance(r, str) and r) for r in reason])
            assert not unexplained.any(), f"NaN without a reason in rows {table[unexplained]}"
