"""National tables: the territories' tables stacked under a first index level ``territory``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cdv_geo.batch import TERRITORIES, merge_national
from cdv_geo.batch.national import stack_table, table_names
from cdv_geo.batch.task import write_parquet


def _coverage(codes: list[str], shares: list[float], note: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {"share": shares, "note": note},
        index=pd.MultiIndex.from_arrays(
            [codes, ["school"] * len(codes)], names=["quartier", "kind"]
        ),
    )


def _write(out: Path, slug: str, table: pd.DataFrame) -> None:
    write_parquet(table, out / TERRITORIES / slug / "coverage.parquet")


def test_stack_same_schema(tmp_path: Path) -> None:
    """Territories with the same columns: one row per quartier, territory first."""
    _write(tmp_path, "a-1", _coverage(["QP1", "qpv"], [0.5, 0.25], ["x", "y"]))
    _write(tmp_path, "b-2", _coverage(["QP2"], [1.0], ["z"]))
    (tmp_path / TERRITORIES / "c-3").mkdir()  # a territory without that table
    assert table_names(tmp_path, ["a-1", "b-2", "c-3"]) == ["coverage"]
    paths = stack_table(tmp_path, ["a-1", "b-2", "c-3"], "coverage")
    assert [Path(p).name for p in paths] == ["coverage.parquet", "coverage.csv"]
    got = pd.read_parquet(paths[0])
    assert got.index.names == ["territory", "quartier", "kind"]
    assert got.index.tolist() == [
        ("a-1", "QP1", "school"),
        ("a-1", "qpv", "school"),
        ("b-2", "QP2", "school"),
    ]
    assert got["share"].tolist() == [0.5, 0.25, 1.0]
    assert got["note"].tolist() == ["x", "y", "z"]
    csv = pd.read_csv(paths[1])
    assert csv.columns.tolist() == ["territory", "quartier", "kind", "share", "note"]
    assert csv["territory"].tolist() == ["a-1", "a-1", "b-2"]


def test_stack_different_schemas(tmp_path: Path) -> None:
    """A column empty in one territory (no type in Parquet) still stacks, as pandas would."""
    _write(tmp_path, "a-1", _coverage(["QP1"], [0.5], [None]))
    _write(tmp_path, "b-2", _coverage(["QP2"], [np.nan], ["z"]))
    got = pd.read_parquet(stack_table(tmp_path, ["a-1", "b-2"], "coverage")[0])
    assert got.index.get_level_values("territory").tolist() == ["a-1", "b-2"]
    assert got["share"].iloc[0] == 0.5 and np.isnan(got["share"].iloc[1])
    assert got["note"].isna().tolist() == [True, False]
    assert got["note"].iloc[1] == "z"


def test_merge_without_tables(tmp_path: Path) -> None:
    (tmp_path / TERRITORIES / "a-1").mkdir(parents=True)
    assert merge_national(tmp_path, ["a-1"]) == {"tables": {}, "notes": []}
