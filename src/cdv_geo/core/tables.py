"""The result-table contract: quartier rows, then the named comparison rows.

A per-quartier table is indexed by ``quartier`` (the QPV code), the quartiers in their layer
order, then the **named comparison rows** present, always in this order and each with one
meaning everywhere (table, map panel, index, dossier):

``qpv`` (:data:`QPV`)
    all the territory's quartiers together: their union; counts and areas of what lies in them.
``commune`` (:data:`COMMUNE`)
    the commune(s) of the territory, clipped to their perimeter: a feature outside it never
    counts. Present only when the metric was given the communes.
``hors_qpv`` (:data:`HORS_QPV`)
    the commune minus the quartiers. Present with ``commune``, where the metric can be computed
    there.
``france_qpv`` (:data:`FRANCE_QPV`)
    the national all-QPV figure, where INSEE publishes it (indicator tables only).

A metric that cannot compute a row leaves it out, or gives NaN with a ``reason``: it never puts
another row's meaning under its key. Long tables add index levels after ``quartier``
(``threshold_min``, ``kind``, ``year``...). ``name`` is the first column. Column names say their
unit: shares are fractions named ``*_share``, counts ``n_*``, areas ``*_m2``, distances ``*_m``,
times ``*_min``, changes in percentage points ``*_pp``. A value that cannot be computed is NaN,
and the row's ``reason`` says why; it is never 0.

:func:`cdv_geo.testing.assert_metric_table` checks a table against this contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.layers import quartier_codes

__all__ = [
    "COMMUNE",
    "COMPARISON_ROWS",
    "FRANCE_QPV",
    "HORS_QPV",
    "INDEX",
    "QPV",
    "comparison_keys",
    "is_comparison_row",
    "join_reasons",
    "quartier_index",
    "quartier_names",
    "quartier_table",
    "row_name",
    "rows_of",
]

#: Name of the first index level of every per-quartier table.
INDEX = "quartier"
#: All the territory's quartiers together.
QPV = "qpv"
#: The commune(s), clipped to their perimeter.
COMMUNE = "commune"
#: The commune(s) minus the quartiers.
HORS_QPV = "hors_qpv"
#: The national all-QPV figure published by INSEE.
FRANCE_QPV = "france_qpv"
#: The closed set of named comparison rows, in the order they follow the quartiers.
COMPARISON_ROWS: tuple[str, ...] = (QPV, COMMUNE, HORS_QPV, FRANCE_QPV)

# The ``name`` of each comparison row in a table (French: the tables are the committee's; the
# label catalogue gives the display labels in each language, with the town's name).
_ROW_NAMES = {
    QPV: "Ensemble des QPV",
    COMMUNE: "Commune",
    HORS_QPV: "Commune hors QPV",
    FRANCE_QPV: "Ensemble des QPV de France",
}


def is_comparison_row(key: Any) -> bool:
    """Return whether `key` names a comparison row (not a quartier).

    Examples
    --------
    >>> is_comparison_row("hors_qpv"), is_comparison_row("QP002013")
    (True, False)
    """
    return isinstance(key, str) and key in COMPARISON_ROWS


def row_name(key: str) -> str:
    """Return the ``name`` a table gives the comparison row `key`.

    Examples
    --------
    >>> row_name("qpv")
    'Ensemble des QPV'
    """
    return _ROW_NAMES[key]


def comparison_keys(keys: Iterable[Any]) -> list[str]:
    """Return the comparison rows among `keys`, in the contract's order.

    Examples
    --------
    >>> comparison_keys(["hors_qpv", "QP1", "qpv"])
    ['qpv', 'hors_qpv']
    """
    present = set(k for k in keys if is_comparison_row(k))
    return [k for k in COMPARISON_ROWS if k in present]


def quartier_index(quartiers: pd.DataFrame, rows: Iterable[str] = (QPV,)) -> pd.Index:
    """Return the index of a per-quartier table: the codes in layer order, then `rows`.

    `rows` are put in the contract's order (:data:`COMPARISON_ROWS`), whatever order they
    come in.

    Examples
    --------
    >>> import pandas as pd
    >>> q = pd.DataFrame({"code": ["QP002013", "QP002012"]})
    >>> quartier_index(q, ["hors_qpv", "qpv", "commune"]).tolist()
    ['QP002013', 'QP002012', 'qpv', 'commune', 'hors_qpv']
    """
    rows = list(rows)
    unknown = [r for r in rows if not is_comparison_row(r)]
    if unknown:
        raise ValueError(f"not comparison rows: {unknown}; expected some of {COMPARISON_ROWS}")
    return pd.Index([*quartier_codes(quartiers), *comparison_keys(rows)], name=INDEX, dtype=object)


def quartier_names(quartiers: pd.DataFrame) -> dict[str, Any]:
    """Return ``{code: name}`` of the quartiers, and the name of every comparison row.

    Examples
    --------
    >>> import pandas as pd
    >>> names = quartier_names(pd.DataFrame({"code": ["QP1"], "name": ["Presles"]}))
    >>> names["QP1"], names["hors_qpv"]
    ('Presles', 'Commune hors QPV')
    """
    codes = quartier_codes(quartiers)
    names = quartiers["name"] if "name" in quartiers.columns else pd.Series(codes)
    out: dict[str, Any] = {
        c: (None if pd.isna(n) else n) for c, n in zip(codes, names, strict=True)
    }
    out.update(_ROW_NAMES)
    return out


def rows_of(
    codes: Sequence[Any] | np.ndarray,
    quartiers: pd.DataFrame,
    *,
    in_commune: Sequence[bool] | np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Return, for each row key of a per-quartier table, the mask of the features it counts.

    `codes` is :func:`cdv_geo.core.assign.assign_quartier`'s result (``None`` outside every
    quartier). ``qpv`` counts the features in some quartier. With `in_commune`
    (:func:`cdv_geo.core.assign.in_communes`), ``commune`` counts the features inside the
    commune perimeter and ``hors_qpv`` those of them outside every quartier; without it, both
    rows are absent.

    Examples
    --------
    >>> import pandas as pd
    >>> q = pd.DataFrame({"code": ["QP1", "QP2"]})
    >>> masks = rows_of(["QP1", None, "QP1", None], q, in_commune=[True, True, True, False])
    >>> {k: v.tolist() for k, v in masks.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'QP1': [True, False, True, False], 'QP2': [False, False, False, False],
     'qpv': [True, False, True, False], 'commune': [True, True, True, False],
     'hors_qpv': [False, True, False, False]}
    """
    arr = np.asarray(codes, dtype=object)
    out = {c: arr == c for c in quartier_codes(quartiers)}
    out[QPV] = np.asarray(pd.notna(arr), dtype=bool)
    if in_commune is not None:
        town = np.asarray(in_commune, dtype=bool)
        if town.shape != arr.shape:
            raise ValueError(f"in_commune has {town.shape[0]} values for {arr.shape[0]} features")
        out[COMMUNE] = town
        out[HORS_QPV] = town & ~out[QPV]
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
        Values by row key: a quartier code (a missing quartier gives a row of NaN) or a
        comparison row of :data:`COMPARISON_ROWS` (a missing one is left out).
    columns : sequence of str, optional
        Column order after ``name`` (default: the order the values come in).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier``, ``name`` first, a ``reason`` column kept when any row has one.

    Raises
    ------
    ValueError
        A row key is neither a quartier code nor a comparison row.

    Examples
    --------
    >>> import pandas as pd
    >>> q = pd.DataFrame({"code": ["QP1"], "name": ["Presles"]})
    >>> quartier_table(q, {"QP1": {"n_trees": 3}, "qpv": {"n_trees": 3}, "commune": {"n_trees": 5}})
                          name  n_trees
    quartier
    QP1                Presles        3
    qpv       Ensemble des QPV        3
    commune            Commune        5
    """
    codes = set(quartier_codes(quartiers))
    stray = [k for k in rows if k not in codes and not is_comparison_row(k)]
    if stray:
        raise ValueError(
            f"row keys {stray} are neither quartier codes nor comparison rows {COMPARISON_ROWS}"
        )
    index = quartier_index(quartiers, [k for k in rows if is_comparison_row(k)])
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
