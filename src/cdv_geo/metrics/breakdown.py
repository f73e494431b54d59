"""Per-quartier tables broken down by fields of a layer (site type, year...): one row layout.

The long tables of the renaturation strand (:func:`cdv_geo.metrics.trees.tree_summary`,
:func:`cdv_geo.metrics.desealing.desealing_summary`) share this layout, built by
:func:`breakdown_table`: index (``quartier``, *by*...); for each combination of the *by* values
met in the layer (sorted), every quartier in layer order then the named comparison rows the
caller asks for (``qpv``, and ``commune``, ``hors_qpv`` when it has the communes: see
:mod:`cdv_geo.core.tables`); last, the totals over every combination, whose *by* levels are
:data:`TOTAL` (``"all"``: every value of that field, never a row of the ``quartier`` level). So
``table.xs("all", level="year")`` is the plain per-quartier table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.core.tables import INDEX, QPV, quartier_index, quartier_names

__all__ = ["TOTAL", "breakdown_table", "by_columns"]

#: Value of the *by* levels on the totals over every combination (every year, every site type).
#: It lives on the *by* levels only: the ``quartier`` level holds the named comparison rows.
TOTAL = "all"


def by_columns(
    layer: gpd.GeoDataFrame,
    by: str | Sequence[str] | None,
    *,
    name: str,
) -> list[str]:
    """Return the *by* fields as a list, after checking `layer` has them.

    Raises
    ------
    DataValidationError
        Naming each missing field and the fields available.

    Examples
    --------
    >>> import pandas as pd
    >>> by_columns(pd.DataFrame({"year": [2024]}), "year", name="tree_plantings")
    ['year']
    """
    cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    missing = [b for b in cols if b not in layer.columns]
    if missing:
        geom = getattr(layer, "_geometry_column_name", None)
        available = ", ".join(str(c) for c in layer.columns if c != geom)
        raise DataValidationError(
            [
                Problem(
                    f"cannot group by {b!r}: no such field; available: {available}",
                    file=layer.attrs.get("source"),
                    layer=name,
                    field=b,
                )
                for b in missing
            ]
        )
    return cols


def _combinations(values: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Distinct rows of `values`, sorted as text, missing values last (as None)."""
    keys = values.drop_duplicates()
    keys = keys.sort_values(list(keys.columns), na_position="last", key=lambda s: s.astype(str))
    return [tuple(None if pd.isna(v) else v for v in row) for row in keys.itertuples(index=False)]


def breakdown_table(
    quartiers: pd.DataFrame,
    values: pd.DataFrame,
    by: list[str],
    row: Callable[[str, np.ndarray, bool], Mapping[str, Any]],
    *,
    rows: Iterable[str] = (QPV,),
) -> pd.DataFrame:
    """Build a per-quartier table broken down by the *by* fields.

    Parameters
    ----------
    quartiers : DataFrame
        The quartiers (``code``, ``name``), in layer order.
    values : DataFrame
        One row per feature of the layer broken down: its *by* values.
    by : list of str
        The fields (may be empty: one row per quartier and comparison row).
    row : callable
        ``row(key, selected, total)`` returns the values of the row `key` (a quartier code or
        a comparison row of `rows`) for the features where the boolean array `selected` is
        True; `total` is True on the totals over every combination (always, when `by` is
        empty). What a comparison row counts is the caller's to say (e.g. the masks of
        :func:`cdv_geo.core.tables.rows_of`).
    rows : iterable of str, default ("qpv",)
        The comparison rows after the quartiers (put in the contract's order): ``qpv``, and
        ``commune``, ``hors_qpv`` when the caller has the communes.

    Returns
    -------
    pandas.DataFrame
        Index (``quartier``, *by*), ``name`` first.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> q = pd.DataFrame({"code": ["QA", "QB"], "name": ["Alpha", "Beta"]})
    >>> where = np.array(["QA", "QB", None], dtype=object)
    >>> def count(key, sel, total):
    ...     inside = sel & pd.notna(where) if key == "qpv" else sel & (where == key)
    ...     return {"n_trees": int(inside.sum())}
    >>> breakdown_table(q, pd.DataFrame({"year": [2023, 2024, 2024]}), ["year"], count)
                              name  n_trees
    quartier year
    QA       2023            Alpha        1
    QB       2023             Beta        0
    qpv      2023  Ensemble des QPV        1
    QA       2024            Alpha        0
    QB       2024             Beta        1
    qpv      2024  Ensemble des QPV        1
    QA       all             Alpha        1
    QB       all              Beta        1
    qpv      all  Ensemble des QPV        2
    """
    keys = list(quartier_index(quartiers, rows))
    names = quartier_names(quartiers)
    n = len(values)
    combos = _combinations(values[by]) if by else []
    out_rows: list[dict[str, Any]] = []
    index: list[tuple[Any, ...]] = []
    groups = [(c, False) for c in combos] + [((TOTAL,) * len(by), True)]
    for combo, total in groups:
        sel = np.ones(n, dtype=bool)
        if not total:
            for col, v in zip(by, combo, strict=True):
                sel &= (values[col].isna() if v is None else values[col] == v).to_numpy(bool)
        for key in keys:
            out_rows.append({"name": names[key], **dict(row(key, sel, total))})
            index.append((key, *combo))
    if by:
        idx: pd.Index = pd.MultiIndex.from_tuples(index, names=[INDEX, *by])
    else:
        idx = pd.Index([i[0] for i in index], name=INDEX, dtype=object)
    out = pd.DataFrame(out_rows, index=idx)
    if "reason" in out.columns:
        out = out[[c for c in out.columns if c != "reason"] + ["reason"]]
        if out["reason"].isna().all():
            out = out.drop(columns="reason")
    return out
