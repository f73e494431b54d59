"""Indicators derived from two published counts of one file (``rsa_share`` = ARSAS / A)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdv_geo.io.insee.registry import DERIVED

__all__ = ["derived_rows", "key_ids"]


def key_ids(data: dict[str, np.ndarray], *at: np.ndarray) -> list[np.ndarray]:
    """Return an integer per row of each `at` for its (code, year, source).

    Equal keys, equal integers; computed over these rows only.
    """
    rows = np.concatenate(at)
    ids = [
        pd.factorize(data[c][rows], use_na_sentinel=False)[0] for c in ("code", "year", "source")
    ]
    sizes = [int(i.max()) + 1 for i in ids]
    keys = (ids[0] * sizes[1] + ids[1]) * sizes[2] + ids[2]
    return np.split(keys, np.cumsum([len(a) for a in at])[:-1])


def derived_rows(
    data: dict[str, np.ndarray], present: set[str] | None = None
) -> list[dict[str, np.ndarray]]:
    """Return the rows of the derived indicators (``rsa_share``...) whose two counts `data` holds.

    `data` holds the columns of one file's long table as arrays. The counts are matched on
    (code, year, source), vectorised over their rows only; a share published already is not
    derived again. `present`: the indicators `data` may hold, when the caller knows them
    (else they are looked up).

    Examples
    --------
    >>> import numpy as np
    >>> o = lambda *v: np.array(v, dtype=object)
    >>> data = {"code": o("QP1", "QP1"), "name": o(None, None), "level": o("qpv", "qpv"),
    ...         "indicator": o("n_rsa_recipients", "n_caf_recipients"),
    ...         "year": np.array([2019.0, 2019.0]), "value": np.array([577.0, 1763.0]),
    ...         "flag": o(None, None), "source": o("revn", "revn"), "file": o("f", "f"),
    ...         "source_column": o("ARSAS", "A")}
    >>> [(r["indicator"][0], round(float(r["value"][0]), 3), r["source_column"][0])
    ...  for r in derived_rows(data) if r["indicator"][0] == "rsa_share"]
    [('rsa_share', 0.327, 'ARSAS / A')]
    """
    extra = []
    indicator = data["indicator"]
    present = set(pd.unique(indicator)) if present is None else present
    for name, (num, den) in DERIVED.items():
        if num not in present or den not in present:
            continue  # (most files: no comparison over their rows)
        at_num, at_den = np.flatnonzero(indicator == num), np.flatnonzero(indicator == den)
        if not (len(at_num) and len(at_den)):
            continue
        at_have = np.flatnonzero(indicator == name) if name in present else at_num[:0]
        num_keys, den_all, have = key_ids(data, at_num, at_den, at_have)
        den_keys = pd.Index(den_all)
        last = ~den_keys.duplicated(keep="last")  # a key given twice: its last row
        at_den, den_keys = at_den[last], den_keys[last]
        pos = den_keys.get_indexer(num_keys)
        ok = (pos >= 0) & ~np.isin(num_keys, have)  # published already: not derived
        if not ok.any():
            continue
        ai, bi = at_num[ok], at_den[pos[ok]]
        den_v = data["value"][bi]
        value = data["value"][ai] / np.where(den_v > 0, den_v, np.nan)
        out = {c: data[c][ai] for c in ("code", "year", "name", "level", "source", "file")}
        out["indicator"] = np.array([name], dtype=object).repeat(len(ai))
        out["value"] = value
        out["flag"] = np.where(np.isnan(value), "derived; missing input", "derived").astype(object)
        out["source_column"] = data["source_column"][ai] + " / " + data["source_column"][bi]
        extra.append(out)
    return extra
