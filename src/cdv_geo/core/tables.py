"""The result-table contract shared by every metric table.

A per-quartier table is indexed by ``quartier`` (the QPV code), the quartiers in their layer
order, then one territory row keyed :data:`TERRITORY` (``"all"``): the whole territory, every
feature whether inside a quartier or not, so that ``all`` minus the quartier rows is what lies
outside them. Long tables add index levels after ``quartier`` (``threshold_min``, ``kind``,
``year``...). ``name`` is the first column. Column names say their unit: shares are fractions
named ``*_share``, counts ``n_*``, areas ``*_m2``, distances ``*_m``, times ``*_min``, changes in
percentage points ``*_pp``. A value that cannot be computed is NaN, and the row's ``reason`` says
why; it is never 0.

:func:`cdv_geo.testing.assert_metric_table` checks a table against this contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.layers import quartier_codes

__all__ = [
    "INDEX",
    "TERRITORY",
    "TERRITORY_NAME",
    "join_reasons",
    "quartier_index",
    "quartier_names",
    "quartier_table",
    "rows_of",
]

#: Name of the first index level of every per-quartier table.
INDEX = "quartier"
#: Key of the territory row.
TERRITORY = "all"
#: ``name`` of the territory row.
TERRITORY_NAME = "ensemble"


def quartier_index(quartiers: pd.DataFrame) -> pd.Index:
    """Return the index of a per-quartier table: the codes in layer order, then ``"all"``.

    Examples
    --------
    >>> import pandas as pd
    >>> quartier_index(pd.DataFrame({"code": ["QP002013", "QP002012"]})).tolist()
    ['QP002013', 'QP002012', 'all']
    """
    return pd.Index([*quartier_codes(quartiers), TERRITORY], name=INDEX, dtype=object)


def quartier_names(quartiers: pd.DataFrame) -> dict[str, Any]:
    """Return ``{code: name}`` of the quartiers, and ``{"all": "ensemble"}``.

    Examples
    --------
    >>> import pandas as pd
    >>> quartier_names(pd.DataFrame({"code": ["QP1"], "name": ["Presles"]}))
    {'QP1': 'Presles', 'all': 'ensemble'}
    """
    codes = quartier_codes(quartiers)
    names = quartiers["name"] if "name" in quartiers.columns else pd.Series(codes)
    out: dict[str, Any] = {
        c: (None if pd.isna(n) else n) for c, n in zip(codes, names, strict=True)
    }
    out[TERRITORY] = TERRITORY_NAME
    return out


def rows_of(codes: Sequence[Any] | np.ndarray, quartiers: pd.DataFrame) -> dict[str, np.ndarray]:
    """Return, for each row key of a per-quartier table, the mask of the features it counts.

    `codes` is :func:`cdv_geo.core.assign.assign_quartier`'s result (``None`` outside every
    quartier). The territory row counts every feature.

    Examples
    --------
    >>> import pandas as pd
    >>> masks = rows_of(["QP1", None, "QP1"], pd.DataFrame({"code": ["QP1", "QP2"]}))
    >>> {k: v.tolist() for k, v in masks.items()}
    {'QP1': [True, False, True], 'QP2': [False, False, False], 'all': [True, True, True]}
    """
    arr = np.asarray(codes, dtype=object)
    out = {c: arr == c for c in quartier_codes(quartiers)}
    out[TERRITORY] = np.ones(len(arr), dtype=bool)
    return out


def quartier_table(
    quartiers: pd.DataFrame,
    rows: Mapping[str, Mapping[str, Any]],
    *,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Build a per-quartier table from one dict of values per row key.

    Parameters
    ----------
    quartiers : DataFrame
        The quartiers (``code``, ``name``).
    rows : mapping of str to mapping
        Values by row key (quartier code or ``"all"``); a missing key gives a row of NaN.
    columns : sequence of str, optional
        Column order after ``name`` (default: the order the values come in).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier``, ``name`` first, a ``reason`` column kept when any row has one.

    Examples
    --------
    >>> import pandas as pd
    >>> q = pd.DataFrame({"code": ["QP1"], "name": ["Presles"]})
    >>> quartier_table(q, {"QP1": {"n_trees": 3}, "all": {"n_trees": 5}})
                 name  n_trees
    quartier
    QP1       Presles        3
    all       ensemble       5
    """
    index = quartier_index(quartiers)
    names = quartier_names(quartiers)
    data = [{"name": names[k], **dict(rows.get(k, {}))} for k in index]
    out = pd.DataFrame(data, index=index)
    if columns is not None:
        keep = ["name", *columns]
        if "reason" in out.columns and "reason" not in keep:
            keep.append("reason")
        out = out.reindex(columns=keep)
    if "reason" in out.columns:
        out = out[[c for c in out.columns if c != "reason"] + ["reason"]]
        if out["reason"].isna().all():
            out = out.drop(columns="reason")
    return out


def join_reasons(*reasons: str | None) -> str | None:
    """Join the reasons of one row into one text (``None`` when there is none).

    Examples
    --------
    >>> join_reasons(None, "no residence in this quartier", "no residence in this quartier")
    'no residence in this quartier'
    """
    seen: list[str] = []
    for r in reasons:
        if r and r not in seen:
            seen.append(r)
    return "; ".join(seen) or None
