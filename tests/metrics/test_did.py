"""metrics/did.py against a two-way fixed-effects regression (linearmodels) and by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdv_geo.metrics.did import DID_COLUMNS, did_estimate, did_table, matched_comparisons
from cdv_geo.metrics.panel import indicator_panel

NATIONAL = Path("/work/shared/real-data/insee-qpv-national")


def trend_panel(
    seed: int = 0, *, n: int = 40, years: range = range(2015, 2023), effect: float = 0.0
) -> pd.DataFrame:
    """Quartiers with their own level, a common trend and noise; QP000010 treated from 2019."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        slope = 0.003 + rng.normal(0, 0.001)
        for y in years:
            v = 0.35 + 0.004 * i + slope * (y - years[0]) + rng.normal(0, 0.002)
            rows.append((f"QP{i:06d}", y, v - (effect if i == 10 and y >= 2019 else 0.0)))
    t = pd.DataFrame(rows, columns=["code", "year", "value"])
    return t.assign(indicator="poverty_rate", level="qpv", name=t["code"])


def twfe(panel: pd.DataFrame, code: str, comparisons: list[str], year: int, indicator: str):  # type: ignore[no-untyped-def]
    """PanelOLS y ~ treated×post + entity + time effects on the same quartiers and years."""
    from linearmodels.panel import PanelOLS

    d = panel[(panel["indicator"] == indicator) & panel["code"].isin([code, *comparisons])]
    d = d.dropna(subset=["value"])
    years = set(d.loc[d["code"] == code, "year"])
    d = d[d["year"].isin(years)].copy()
    d["year"] = d["year"].astype(int)
    d["d"] = ((d["code"] == code) & (d["year"] >= year)).astype(float)
    d = d.set_index(["code", "year"])
    res = PanelOLS(d["value"], d[["d"]], entity_effects=True, time_effects=True).fit()
    return float(res.params["d"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_two_way_fixed_effects(seed: int) -> None:
    pytest.importorskip("linearmodels")
    panel = indicator_panel(trend_panel(seed, effect=0.03))
    r = did_estimate(panel, "QP000010", "poverty_rate", 2019)
    ref = twfe(panel, "QP000010", list(r.comparisons["code"]), 2019, "poverty_rate")
    assert r.summary["estimate"] == pytest.approx(ref, abs=1e-10)
    assert r.summary["estimate"] == pytest.approx(-0.03, abs=0.006)  # the planted effect
    assert r.summary["ci_low"] < -0.03 + 0.006 and r.summary["ci_high"] < 0
    assert r.summary["verdict"] == "better"


@pytest.mark.skipif(not NATIONAL.is_dir(), reason="shared national files not present")
def test_equals_two_way_fixed_effects_on_the_national_files() -> None:
    """Presles' poverty rate, 2017-2022, an illustrative intervention in 2019."""
    pytest.importorskip("linearmodels")
    import warnings

    from cdv_geo import read_indicators

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the note on REVN_2018's negative PPAT
        table = read_indicators(sorted(NATIONAL.glob("REVN_*.csv")))
    panel = indicator_panel(table, keep=["poverty_rate", "median_income"], levels=["qpv"])
    for ind in ("poverty_rate", "median_income"):
        r = did_estimate(panel, "QP002013", ind, 2019, treated=["QP002012", "QP002014"])
        codes = list(r.comparisons["code"])
        assert not {"QP002012", "QP002013", "QP002014"} & set(codes)
        assert r.summary["n_pre"] == 2 and r.summary["n_post"] == 3
        assert r.summary["estimate"] == pytest.approx(twfe(panel, "QP002013", codes, 2019, ind))
        assert r.summary["ci_low"] <= r.summary["estimate"] <= r.summary["ci_high"]


def test_placebo_interval_and_p_value_by_hand() -> None:
    # 2 years; the quartier's change -0.05; the comparisons' changes 0.01, 0.02, 0.03
    t = pd.DataFrame(
        {"code": ["QP1", "QP1", "QP2", "QP2", "QP3", "QP3", "QP4", "QP4"],
         "year": [2018, 2019] * 4,
         "value": [0.40, 0.35, 0.40, 0.41, 0.40, 0.42, 0.40, 0.43],
         "indicator": "poverty_rate", "level": "qpv"}
    )  # fmt: skip
    r = did_estimate(indicator_panel(t), "QP1", "poverty_rate", 2019, min_pre_periods=1,
                     alpha=0.5)  # fmt: skip
    s = r.summary
    assert s["estimate"] == pytest.approx(-0.05 - 0.02)
    # placebos: 0.01 - 0.025, 0.02 - 0.02, 0.03 - 0.015
    assert r.placebo["estimate"].to_numpy() == pytest.approx([-0.015, 0.0, 0.015])
    # 50 % interval: quantiles 0.25 and 0.75 of the placebos (numpy's linear rule: -0.0075,
    # 0.0075), subtracted from the estimate
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((-0.0775, -0.0625))
    assert s["p_value"] == pytest.approx(1 / 4)  # no placebo as large as |-0.07|
    assert np.isnan(s["pre_trend"])  # one pre-year: no trend to check
    assert s["estimate_pp"] == pytest.approx(-7.0)


def test_bootstrap_is_seeded() -> None:
    panel = indicator_panel(trend_panel(3, effect=0.03))
    a = did_estimate(panel, "QP000010", "poverty_rate", 2019, interval="bootstrap", seed=7)
    b = did_estimate(panel, "QP000010", "poverty_rate", 2019, interval="bootstrap", seed=7)
    c = did_estimate(panel, "QP000010", "poverty_rate", 2019, interval="bootstrap", seed=8)
    assert (a.summary["ci_low"], a.summary["ci_high"]) == (
        b.summary["ci_low"],
        b.summary["ci_high"],
    )
    assert a.summary["ci_low"] != c.summary["ci_low"]
    assert a.summary["ci_low"] < a.summary["estimate"] < a.summary["ci_high"]
    assert a.summary["interval"] == "bootstrap"


def test_pre_trend_check() -> None:
    """A quartier drifting away before the intervention: parallel trends fail."""
    raw = trend_panel(4)
    drift = (raw["code"] == "QP000010") & (raw["year"] < 2019)
    raw.loc[drift, "value"] -= 0.006 * (2019 - raw.loc[drift, "year"])
    panel = indicator_panel(raw)
    s = did_estimate(panel, "QP000010", "poverty_rate", 2019, n_comparisons=None).summary
    assert s["pre_trend"] == pytest.approx(0.006, abs=0.002)
    assert s["pre_trend_p"] < 0.05
    assert (s["verdict"], s["reason"]) == ("cannot_conclude", "pre_trend")
    # the other side: without the drift the check passes
    s = did_estimate(indicator_panel(trend_panel(4)), "QP000010", "poverty_rate", 2019,
                     n_comparisons=None).summary  # fmt: skip
    assert s["pre_trend_p"] >= 0.05 and s["reason"] is None


def test_pre_period_length_limit() -> None:
    panel = indicator_panel(trend_panel(5, years=range(2017, 2023), effect=0.03))
    one = did_estimate(panel, "QP000010", "poverty_rate", 2018).summary
    assert one["n_pre"] == 1 and one["reason"] == "pre_period_too_short"
    assert one["verdict"] == "cannot_conclude" and not np.isnan(one["estimate"])
    two = did_estimate(panel, "QP000010", "poverty_rate", 2019).summary
    assert two["n_pre"] == 2 and two["reason"] != "pre_period_too_short"


def test_matched_on_level_and_trend() -> None:
    m = pd.DataFrame(
        {2017: [0.40, 0.40, 0.30, 0.40, 0.41], 2018: [0.42, 0.38, 0.32, 0.42, 0.43]},
        index=["QP1", "QP2", "QP3", "QP4", "QP5"],
    )
    # QP4 is QP1's twin; QP5 a bit above; QP2 same level, opposite trend; QP3 far below
    assert matched_comparisons(m, "QP1", [2017, 2018], ["QP2", "QP3", "QP4", "QP5"], 2) == [
        "QP4",
        "QP5",
    ]


def test_comparisons_leave_out_marked_and_other_generation() -> None:
    raw = trend_panel(6)
    raw.loc[raw["code"] == "QP000011", "code"] = "QN000011"
    r = did_estimate(indicator_panel(raw), "QP000010", "poverty_rate", 2019,
                     treated=["QP000012"], n_comparisons=None)  # fmt: skip
    codes = set(r.comparisons["code"])
    assert not {"QP000010", "QN000011", "QP000012"} & codes and len(codes) == 37


def test_table_has_a_row_per_indicator() -> None:
    t = did_table(indicator_panel(trend_panel(0)), "QP000010", ["poverty_rate", "gini"], 2019)
    assert list(t.columns) == list(DID_COLUMNS)
    assert t.loc[1, "reason"] == "treated_not_in_panel"
    assert t.loc[0, "method"] == "did" and t.loc[0, "n_comparisons"] == 30


def test_no_effect_rarely_concludes() -> None:
    """No effect anywhere (seeded): each quartier in turn as if treated, on 3 panels."""
    verdicts, ps = [], []
    for k in range(3):
        panel = indicator_panel(trend_panel(1000 + k, n=35))
        for i in range(35):
            s = did_estimate(panel, f"QP{i:06d}", "poverty_rate", 2019, n_comparisons=None)
            verdicts.append(s.summary["verdict"])
            ps.append(s.summary["p_value"])
    concluded = np.mean([v in ("better", "worse") for v in verdicts])
    assert concluded <= 0.15
    assert 0.35 < np.mean(ps) < 0.65  # placebo p-values centred as a uniform's


def test_shared_matrices_give_the_same_table() -> None:
    from cdv_geo.metrics.panel import panel_matrices

    panel = indicator_panel(trend_panel(9, effect=0.02))
    mats = panel_matrices(panel, ["poverty_rate"])
    a = did_table(panel, "QP000010", ["poverty_rate", "gini"], 2019)
    b = did_table(panel, "QP000010", ["poverty_rate", "gini"], 2019, matrices=mats)
    pd.testing.assert_frame_equal(a, b)
