"""TFPB balances (cdv_geo.metrics.tfpb), against figures computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdv_geo.metrics.tfpb import tfpb_balance, tfpb_counterparts
from cdv_geo.schema.actions import TFPB_AXES
from cdv_geo.testing import assert_metric_table

Q = pd.DataFrame({"code": ["Q1", "Q2", "Q3"], "name": ["Saint-Crépin", "Presles", "Chevreux"]})

LINES = pd.DataFrame(
    [
        ("OPAL", "Q3", 2024, "abatement", 100000.0),
        ("OPAL", "Q3", 2024, "waste", 25000.0),
        ("OPAL", "Q3", 2024, "waste", 15000.0),
        ("OPAL", "Q3", 2024, "residential_tranquillity", 20000.0),
        ("OPAL", "Q3", 2024, "social_life", 10000.0),
        ("OPAL", "Q2", 2024, "abatement", 50000.0),
        ("OPAL", "Q2", 2024, "extra_maintenance", 60000.0),
        ("Clésence", "Q1", 2024, "abatement", 30000.0),
        ("Clésence", "Q1", 2025, "local_presence", 5000.0),
    ],
    columns=["landlord", "quartier", "year", "axis", "amount_eur"],
)


def test_balance_by_hand() -> None:
    t = tfpb_balance(LINES, Q)
    assert_metric_table(t, Q, levels=["landlord", "year"])
    assert t.index.tolist() == [
        ("Q1", "Clésence", 2024), ("Q1", "Clésence", 2025), ("Q2", "OPAL", 2024),
        ("Q3", "OPAL", 2024), ("qpv", "Clésence", 2024), ("qpv", "Clésence", 2025),
        ("qpv", "OPAL", 2024),
    ]  # fmt: skip
    opal = t.loc[("Q3", "OPAL", 2024)]
    assert (opal["abatement_eur"], opal["counterparts_eur"], opal["n_counterparts"]) == (
        100000,
        70000,
        4,
    )
    assert opal["balance_eur"] == -30000 and opal["spent_ratio"] == pytest.approx(0.7)
    assert t.loc[("Q2", "OPAL", 2024), "spent_ratio"] == pytest.approx(1.2)  # above 1: kept
    assert t.loc[("Q2", "OPAL", 2024), "balance_eur"] == 10000
    both = t.loc[("qpv", "OPAL", 2024)]
    assert (both["abatement_eur"], both["counterparts_eur"]) == (150000, 130000)
    assert both["spent_ratio"] == pytest.approx(130 / 150)
    # an abatement with nothing declared against it: spent 0
    assert t.loc[("Q1", "Clésence", 2024), ["counterparts_eur", "spent_ratio"]].tolist() == [0, 0]
    # counterparts without an abatement line: no ratio, and the reason says why
    row = t.loc[("Q1", "Clésence", 2025)]
    assert np.isnan(row["abatement_eur"]) and np.isnan(row["spent_ratio"])
    assert "no abatement line" in row["reason"]
    assert np.isnan(t.loc[("qpv", "Clésence", 2025), "spent_ratio"])


def test_qpv_abatement_unknown_when_one_quartier_lacks_it() -> None:
    lines = pd.concat(
        [LINES, pd.DataFrame([("Clésence", "Q2", 2024, "waste", 1000.0)], columns=LINES.columns)]
    )
    t = tfpb_balance(lines, Q)
    assert np.isnan(t.loc[("qpv", "Clésence", 2024), "abatement_eur"])
    assert t.loc[("qpv", "Clésence", 2024), "counterparts_eur"] == 1000


def test_zero_abatement_has_no_ratio() -> None:
    lines = pd.DataFrame(
        [("OPAL", "Q1", 2024, "abatement", 0.0), ("OPAL", "Q1", 2024, "waste", 10.0)],
        columns=LINES.columns,
    )
    t = tfpb_balance(lines, Q)
    assert np.isnan(t.loc[("Q1", "OPAL", 2024), "spent_ratio"])
    assert t.loc[("Q1", "OPAL", 2024), "reason"] == "the abatement is 0 €"


def test_balance_of_one_year() -> None:
    t = tfpb_balance(LINES, Q, year=2025)
    assert t.index.tolist() == [("Q1", "Clésence", 2025), ("qpv", "Clésence", 2025)]


def test_unknown_quartier() -> None:
    with pytest.raises(ValueError, match="QP999"):
        tfpb_balance(LINES.assign(quartier="QP999"), Q)


def test_counterparts_by_axis() -> None:
    c = tfpb_counterparts(LINES, Q)
    assert_metric_table(c, Q, levels=["landlord", "year", "axis"])
    assert c.loc[("Q3", "OPAL", 2024)].index.tolist() == list(TFPB_AXES)
    assert c.loc[("Q3", "OPAL", 2024, "waste"), ["n_counterparts", "amount_eur"]].tolist() == [
        2, 40000
    ]  # fmt: skip
    assert c.loc[("Q3", "OPAL", 2024, "staff_training"), "amount_eur"] == 0
    assert c.loc[("qpv", "OPAL", 2024, "extra_maintenance"), "amount_eur"] == 60000
    # the axes sum to the balance's counterparts
    sums = c.groupby(level=["quartier", "landlord", "year"], sort=False)["amount_eur"].sum()
    bal = tfpb_balance(LINES, Q)["counterparts_eur"]
    assert sums.reindex(bal.index).tolist() == bal.tolist()
