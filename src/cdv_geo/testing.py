"""Test helpers for code that produces or consumes cdv_geo tables (like momepy's ``assert_result``).

>>> import pandas as pd
>>> from cdv_geo.core.tables import quartier_table
>>> q = pd.DataFrame({"code": ["QP1"], "name": ["Presles"]})
>>> assert_metric_table(quartier_table(q, {"QP1": {"n_trees": 3}, "qpv": {"n_trees": 3}}), q)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdv_geo.core.layers import quartier_codes
from cdv_geo.core.tables import COMPARISON_ROWS, INDEX, comparison_keys, is_comparison_row

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
    only named comparison rows (``qpv``, ``commune``, ``hors_qpv``, ``france_qpv``), in that
    order, each at most once; ``name`` is the first column; shares are named ``*_share`` and
    lie in [0, 1]; counts (``n_*``), areas, distances and times are not negative; every NaN
    value has a ``reason`` on its row.

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
    assert "all" not in seen, "row 'all' is gone: use the named comparison rows " + str(
        COMPARISON_ROWS
    )
    _check_order(seen, quartiers)
    if levels:
        # within each combination of the other levels, the quartiers then the comparison rows
        for _, grp in table.groupby(level=list(levels), sort=False, dropna=False):
            _check_order(list(grp.index.get_level_values(0)), None)
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


def _check_order(keys: list[object], quartiers: pd.DataFrame | None) -> None:
    """Assert quartier keys first (the layer's, in order, when given), then comparison rows."""
    first = next((i for i, k in enumerate(keys) if is_comparison_row(k)), len(keys))
    head, tail = keys[:first], keys[first:]
    assert all(is_comparison_row(k) for k in tail), (
        f"row keys {tail} mix quartiers into the comparison rows {COMPARISON_ROWS}"
    )
    assert tail == comparison_keys(tail) and len(set(tail)) == len(tail), (
        f"comparison rows {tail} not in the contract's order {COMPARISON_ROWS}"
    )
    if quartiers is not None:
        codes = list(quartier_codes(quartiers))
        assert head == codes, f"quartier rows {head}, expected {codes}"
