"""Telling whether texts are all different: the check behind every layer's unique ``id``.

Text held by Arrow (pandas' default ``str`` dtype, what ``Series.astype(str)`` gives) is
checked by compiled code over Arrow's buffers: each text's FNV-1a hash goes into an
open-addressing table, and two texts with the same hash are compared byte by byte, so the
answer is exact. It takes about 1.8 ms for 100,000 ids where ``Series.is_unique`` takes
4.5 ms, and it releases the GIL; without numba (:mod:`cdv_geo.core.jit`), the texts' bytes go
into a Python set (same answer). Other columns (numbers, Python objects, texts with missing
values) take ``Series.is_unique``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa

from cdv_geo.core import jit

__all__ = ["all_distinct"]

#: Below this many values, a Python set answers faster than compiled code is called.
_SMALL = 1_000


def all_distinct(values: pd.Series) -> bool:
    """Tell whether no two values of `values` are equal.

    Parameters
    ----------
    values : pandas.Series
        Typically feature ids as text.

    Returns
    -------
    bool

    Examples
    --------
    >>> import pandas as pd
    >>> all_distinct(pd.Series(["QP002012", "QP002013"], dtype="str"))
    True
    >>> all_distinct(pd.Series(["a", "b", "a"], dtype="str"))
    False
    >>> all_distinct(pd.Series([1, 2, 1]))
    False
    """
    if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
        return bool(values.is_unique)
    if len(values) < _SMALL:
        texts = values.tolist()
        if any(t != t for t in texts):  # (a missing value: NaN)
            return bool(values.is_unique)
        return len(set(texts)) == len(texts)
    arr = pa.array(values.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return bool(values.is_unique)
    _, offsets, data = arr.buffers()
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    starts = np.frombuffer(offsets, dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    text = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return bool(_distinct(starts.astype(np.int64, copy=False), text))


@jit.helper
def _same_text(starts: np.ndarray, text: np.ndarray, i: int, j: int) -> bool:  # pragma: no cover
    """Whether texts `i` and `j` have the same bytes."""
    n = starts[i + 1] - starts[i]
    if n != starts[j + 1] - starts[j]:
        return False
    for k in range(n):  # noqa: SIM110 - compiled: a plain loop
        if text[starts[i] + k] != text[starts[j] + k]:
            return False
    return True


def _distinct_numpy(starts: np.ndarray, text: np.ndarray) -> bool:
    """:func:`_distinct` without numba: the texts' bytes in a set (exact, like it)."""
    data = text.tobytes()
    bounds = starts.tolist()
    texts = {data[a:b] for a, b in itertools.pairwise(bounds)}
    return len(texts) == len(bounds) - 1


@jit.kernel(numpy=_distinct_numpy)
def _distinct(starts: np.ndarray, text: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Whether the texts ``text[starts[i]:starts[i + 1]]`` are all different.

    FNV-1a 64-bit hash of each text, linear probing in a table of at least twice as many
    slots as texts; equal hashes are compared byte by byte.
    """
    n = starts.shape[0] - 1
    size = 2
    while size < 2 * n:
        size *= 2
    mask = np.uint64(size - 1)
    table = np.full(size, -1, dtype=np.int64)
    hashes = np.empty(n, dtype=np.uint64)
    for i in range(n):
        h = np.uint64(14695981039346656037)
        for b in range(starts[i], starts[i + 1]):
            h = (h ^ np.uint64(text[b])) * np.uint64(1099511628211)
        hashes[i] = h
        slot = np.int64((h ^ (h >> np.uint64(29))) & mask)
        while table[slot] >= 0:
            j = table[slot]
            if hashes[j] == h and _same_text(starts, text, i, j):
                return False
            slot = (slot + 1) & (size - 1)
        table[slot] = i
    return True
