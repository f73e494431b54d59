"""all_distinct: exact, on every kind of column, against Python's own set."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cdv_geo.core.distinct import all_distinct


def by_set(values: list) -> bool:
    return len(set(values)) == len(values)


@pytest.mark.parametrize("n", [0, 1, 2, 999, 1_000, 5_000, 40_000])
def test_random_texts_with_and_without_a_repeat(n):
    rng = np.random.default_rng(n)
    # short texts over a small alphabet: many share prefixes and lengths
    texts = list(
        dict.fromkeys(
            "".join(rng.choice(list("ab0é"), rng.integers(0, 9))) for _ in range(2 * n + 2)
        )
    )[:n]
    s = pd.Series(texts, dtype="str")
    assert by_set(texts)
    assert all_distinct(s) is True
    if len(texts) >= 2:
        dup = [*texts, texts[int(rng.integers(0, len(texts)))]]
        rng.shuffle(dup)
        assert all_distinct(pd.Series(dup, dtype="str")) is False


def test_texts_that_differ_only_by_length_or_composition_are_distinct():
    base = ["", "a", "aa", "aaa", "e\u0301", "\u00e9", "QP002012", "QP0020120"]
    texts = base + [f"id{i}" for i in range(3_000)]
    assert by_set(texts)
    assert all_distinct(pd.Series(texts, dtype="str")) is True
    assert all_distinct(pd.Series([*texts, ""], dtype="str")) is False


def test_sliced_and_chunked_arrow_columns():
    texts = [f"h{i}" for i in range(4_000)]
    s = pd.Series(texts, dtype="str")
    assert all_distinct(s.iloc[1_500:]) is True  # an Arrow array with an offset
    both = pd.concat([s.iloc[:2_000], s.iloc[1_999:]], ignore_index=True)  # two chunks
    assert isinstance(pa.array(both.array), pa.Array | pa.ChunkedArray)
    assert all_distinct(both) is False
    assert all_distinct(pd.concat([s.iloc[:2_000], s.iloc[2_000:]], ignore_index=True)) is True


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["a", None, None] * 1).astype(str),
        pd.Series(["a", None]).astype(str),
        pd.Series([f"x{i}" for i in range(2_000)] + [None, None]).astype(str),
        pd.Series([f"x{i}" for i in range(2_000)] + [None]).astype(str),
        pd.Series([1, 2, 3]),
        pd.Series([1, 2, 1]),
        pd.Series(["a", "b", "a"], dtype=object),
        pd.Series(["a", "b"], dtype=pd.ArrowDtype(pa.string())),
    ],
)
def test_other_columns_answer_like_pandas(values):
    assert all_distinct(values) == values.is_unique
