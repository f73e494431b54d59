"""The result-table contract and its checker."""

import numpy as np
import pandas as pd
import pytest

from cdv_geo.core.tables import TERRITORY, join_reasons, quartier_table, rows_of
from cdv_geo.testing import assert_metric_table

Q = pd.DataFrame({"code": ["QP2", "QP1"], "name": ["Presles", "Chevreux"]})


def test_quartier_table_order_name_first_and_reason():
    t = quartier_table(
        Q,
        {
            "QP2": {"n_trees": 2},
            "QP1": {"n_trees": np.nan, "reason": "no tree"},
            "all": {"n_trees": 9},
        },
    )
    assert t.index.tolist() == ["QP2", "QP1", TERRITORY]
    assert t.columns.tolist() == ["name", "n_trees", "reason"]
    assert t.loc["all", "name"] == "ensemble"
    assert_metric_table(t, Q)


def test_rows_of_masks():
    masks = rows_of(["QP1", None, "QP2", "QP1"], Q)
    assert masks["QP1"].sum() == 2 and masks["QP2"].sum() == 1 and masks["all"].sum() == 4


def test_join_reasons():
    assert join_reasons(None, None) is None
    assert join_reasons("a", "b", "a") == "a; b"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.rename_axis("id"), "index levels"),
        (lambda t: t.iloc[[1, 0, 2]], "row keys"),
        (lambda t: t.iloc[:2], "last row key"),
        (lambda t: t[["covered_share", "name"]], "first column"),
        (lambda t: t.assign(covered_share=[0.5, 1.5, 0.2]), "outside"),
        (lambda t: t.rename(columns={"covered_share": "share_covered"}), "share column"),
        (lambda t: t.assign(n_homes=[1, -1, 0]), "negative"),
        (lambda t: t.assign(covered_share=[np.nan, 0.1, 0.2]), "reason"),
        (lambda t: t.assign(code=["a", "b", "c"]), "index"),
    ],
)
def test_checker_catches_each_broken_rule(mutate, message):
    good = quartier_table(Q, {k: {"covered_share": 0.5} for k in ["QP2", "QP1", "all"]})
    assert_metric_table(good, Q)
    with pytest.raises(AssertionError, match=message):
        assert_metric_table(mutate(good), Q)


def test_long_table_levels():
    rows = []
    for kind in ["a", "b"]:
        for key in ["QP2", "QP1", "all"]:
            rows.append({"quartier": key, "kind": kind, "name": key, "covered_share": 0.1})
    t = pd.DataFrame(rows).set_index(["quartier", "kind"])
    assert_metric_table(t, Q, levels=["kind"])
    with pytest.raises(AssertionError, match="index levels"):
        assert_metric_table(t, Q)


def test_names_fall_back_on_codes_and_missing_names_are_none():
    t = quartier_table(pd.DataFrame({"code": ["QP1", "QP2"]}), {"QP1": {"n_trees": 1}})
    assert t["name"].tolist() == ["QP1", "QP2", "ensemble"]
    assert np.isnan(t.loc["QP2", "n_trees"])  # no row given: NaN, never 0
    q = pd.DataFrame({"code": ["QP1"], "name": [np.nan]})
    names = quartier_table(q, {})["name"]
    assert pd.isna(names.iloc[0]) and names.iloc[1] == "ensemble"


def test_reason_column_kept_only_when_used_and_last():
    q = pd.DataFrame({"code": ["QP1"], "name": ["A"]})
    t = quartier_table(q, {"QP1": {"reason": "x", "n_a": 1}, "all": {"n_a": 2}}, columns=["n_a"])
    assert t.columns.tolist() == ["name", "n_a", "reason"]
    t = quartier_table(q, {"QP1": {"reason": None, "n_a": 1}, "all": {"n_a": 2}})
    assert "reason" not in t.columns
