"""The result-table contract (quartier rows, then the named comparison rows) and its checker."""

import numpy as np
import pandas as pd
import pytest

from cdv_geo.core.tables import (
    COMMUNE,
    COMPARISON_ROWS,
    FRANCE_QPV,
    HORS_QPV,
    QPV,
    comparison_keys,
    join_reasons,
    quartier_index,
    quartier_table,
    rows_of,
)
from cdv_geo.testing import assert_metric_table

Q = pd.DataFrame({"code": ["QP2", "QP1"], "name": ["Presles", "Chevreux"]})


def test_the_rows_are_a_closed_set_in_one_order():
    assert COMPARISON_ROWS == ("qpv", "commune", "hors_qpv", "france_qpv")
    assert comparison_keys(["france_qpv", "QP1", "hors_qpv", "qpv", "commune"]) == list(
        COMPARISON_ROWS
    )
    idx = quartier_index(Q, [HORS_QPV, QPV])
    assert idx.tolist() == ["QP2", "QP1", "qpv", "hors_qpv"] and idx.name == "quartier"
    with pytest.raises(ValueError, match="not comparison rows"):
        quartier_index(Q, ["all"])


def test_quartier_table_order_name_first_and_reason():
    t = quartier_table(
        Q,
        {
            HORS_QPV: {"n_trees": 4},
            "QP2": {"n_trees": 2},
            "QP1": {"n_trees": np.nan, "reason": "no tree"},
            QPV: {"n_trees": 2},
            COMMUNE: {"n_trees": 6},
        },
    )
    # quartiers in layer order, then the comparison rows in the contract's order
    assert t.index.tolist() == ["QP2", "QP1", QPV, COMMUNE, HORS_QPV]
    assert t.columns.tolist() == ["name", "n_trees", "reason"]
    assert t.loc[QPV, "name"] == "Ensemble des QPV"
    assert t.loc[HORS_QPV, "name"] == "Commune hors QPV"
    assert_metric_table(t, Q)


def test_a_row_that_is_neither_a_quartier_nor_a_comparison_row_is_refused():
    with pytest.raises(ValueError, match="neither quartier codes nor comparison rows"):
        quartier_table(Q, {"QP2": {"n_trees": 2}, "all": {"n_trees": 9}})


def test_rows_of_masks_with_and_without_the_commune():
    codes = ["QP1", None, "QP2", "QP1", None]
    masks = rows_of(codes, Q)
    assert set(masks) == {"QP2", "QP1", QPV}  # no commune rows without the commune
    assert masks["QP1"].tolist() == [True, False, False, True, False]
    assert masks[QPV].tolist() == [True, False, True, True, False]
    town = [True, True, True, True, False]  # the last feature lies outside the commune
    masks = rows_of(codes, Q, in_commune=town)
    assert masks[COMMUNE].tolist() == town
    assert masks[HORS_QPV].tolist() == [False, True, False, False, False]
    with pytest.raises(ValueError, match="in_commune"):
        rows_of(codes, Q, in_commune=[True])


def test_join_reasons():
    assert join_reasons(None, None) is None
    assert join_reasons("a", "b", "a") == "a; b"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.rename_axis("id"), "index levels"),
        (lambda t: t.iloc[[1, 0, 2, 3]], "quartier rows"),
        (lambda t: t.iloc[[0, 1, 3, 2]], "order"),
        (lambda t: t.iloc[[0, 2, 1, 3]], "mix"),
        (lambda t: t.rename(index={QPV: "all"}), "'all' is gone"),
        (lambda t: t[["covered_share", "name"]], "first column"),
        (lambda t: t.assign(covered_share=[0.5, 1.5, 0.2, 0.2]), "outside"),
        (lambda t: t.rename(columns={"covered_share": "share_covered"}), "share column"),
        (lambda t: t.assign(n_homes=[1, -1, 0, 0]), "negative"),
        (lambda t: t.assign(covered_share=[np.nan, 0.1, 0.2, 0.2]), "reason"),
        (lambda t: t.assign(code=["a", "b", "c", "d"]), "index"),
    ],
)
def test_checker_catches_each_broken_rule(mutate, message):
    good = quartier_table(Q, {k: {"covered_share": 0.5} for k in ["QP2", "QP1", QPV, COMMUNE]})
    assert_metric_table(good, Q)
    with pytest.raises(AssertionError, match=message):
        assert_metric_table(mutate(good), Q)


def test_long_table_levels():
    rows = []
    for kind in ["a", "b"]:
        for key in ["QP2", "QP1", QPV, FRANCE_QPV]:
            rows.append({"quartier": key, "kind": kind, "name": key, "covered_share": 0.1})
    t = pd.DataFrame(rows).set_index(["quartier", "kind"])
    assert_metric_table(t, Q, levels=["kind"])
    with pytest.raises(AssertionError, match="index levels"):
        assert_metric_table(t, Q)
    swapped = t.iloc[[0, 1, 3, 2, 4, 5, 6, 7]]
    with pytest.raises(AssertionError, match="order"):
        assert_metric_table(swapped, Q, levels=["kind"])


def test_names_fall_back_on_codes_and_missing_names_are_none():
    t = quartier_table(pd.DataFrame({"code": ["QP1", "QP2"]}), {"QP1": {"n_trees": 1}})
    assert t["name"].tolist() == ["QP1", "QP2"]
    assert np.isnan(t.loc["QP2", "n_trees"])  # no row given: NaN, never 0
    q = pd.DataFrame({"code": ["QP1"], "name": [np.nan]})
    names = quartier_table(q, {QPV: {}})["name"]
    assert pd.isna(names.iloc[0]) and names.iloc[1] == "Ensemble des QPV"


def test_reason_column_kept_only_when_used_and_last():
    q = pd.DataFrame({"code": ["QP1"], "name": ["A"]})
    t = quartier_table(q, {"QP1": {"reason": "x", "n_a": 1}, QPV: {"n_a": 2}}, columns=["n_a"])
    assert t.columns.tolist() == ["name", "n_a", "reason"]
    t = quartier_table(q, {"QP1": {"reason": None, "n_a": 1}, QPV: {"n_a": 2}})
    assert "reason" not in t.columns
