"""metrics/gini.py: exact and grouped Gini indices against closed forms, hand calculations and an
independent double-sum implementation; the estimate added where no Gini is published."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from cdv_geo import CdvGeoError, DataValidationError
from cdv_geo.metrics.gini import estimate_missing_gini, gini, gini_from_grouped


def gini_double_sum(x: np.ndarray, w: np.ndarray) -> float:
    """Independent implementation: weighted mean absolute difference / (2 * mean)."""
    diff = np.abs(x[:, None] - x[None, :])
    mean = np.sum(w * x) / np.sum(w)
    return float(np.sum(w[:, None] * w[None, :] * diff) / (2 * np.sum(w) ** 2 * mean))


def test_gini_analytic_cases() -> None:
    assert gini([5.0] * 7) == 0.0
    for n in (2, 5, 100):
        assert gini([0.0] * (n - 1) + [3.0]) == pytest.approx((n - 1) / n)
    for n in (3, 10, 1000):  # 1..n: exactly (n - 1) / (3n), -> 1/3
        assert gini(np.arange(1, n + 1)) == pytest.approx((n - 1) / (3 * n))
    assert gini(np.linspace(0, 1, 200_001)) == pytest.approx(1 / 3, abs=1e-5)


def test_gini_weights_equal_repetition_and_independent_implementation() -> None:
    rng = np.random.default_rng(42)
    x = rng.lognormal(9.5, 0.6, 300)
    w = rng.integers(1, 6, 300)
    assert gini(x, w) == pytest.approx(gini(np.repeat(x, w)), rel=1e-12)
    assert gini(x, w) == pytest.approx(gini_double_sum(x, w.astype(float)), rel=1e-10)
    wf = rng.uniform(0.1, 3.0, 300)
    assert gini(x, wf) == pytest.approx(gini_double_sum(x, wf), rel=1e-10)


def test_gini_of_a_large_lognormal_sample_matches_closed_form() -> None:
    sigma = 0.5  # G = 2 Phi(sigma / sqrt 2) - 1
    x = np.random.default_rng(1).lognormal(0.0, sigma, 400_000)
    assert gini(x) == pytest.approx(2 * norm.cdf(sigma / math.sqrt(2)) - 1, abs=2e-3)


def test_gini_bad_input() -> None:
    with pytest.raises(DataValidationError, match="missing or infinite"):
        gini([1.0, float("nan")])
    with pytest.raises(DataValidationError, match="weights must be >= 0"):
        gini([1, 2], [1, -1])
    with pytest.raises(DataValidationError, match="differ in length"):
        gini([1, 2], [1])
    with pytest.raises(DataValidationError, match="must be positive"):
        gini([0, 0])
    with pytest.raises(DataValidationError, match="empty"):
        gini([])


def test_grouped_gini_of_uniform_decile_shares_by_hand() -> None:
    # U(0, 1): the k-th tenth holds (2k - 1) / 100 of the income; L_k = k^2 / 100, and
    # 1 - sum 0.1 (L_k + L_{k-1}) = 1 - 0.001 * (385 + 285) = 0.33 (true Gini: 1/3)
    shares = [(2 * k - 1) / 100 for k in range(1, 11)]
    assert gini_from_grouped(shares) == pytest.approx(0.33)
    assert gini_from_grouped([100 * s for s in shares]) == pytest.approx(0.33)  # in %


def test_grouped_gini_underestimates_and_thresholds_approximate() -> None:
    sigma = 0.5
    x = np.sort(np.random.default_rng(7).lognormal(9.6, sigma, 200_000))
    exact = gini(x)
    tenths = np.array_split(x, 10)
    shares = np.array([t.sum() for t in tenths]) / x.sum()
    grouped = gini_from_grouped(shares)
    assert grouped < exact and exact - grouped < 0.01
    thresholds = np.quantile(x, np.arange(1, 10) / 10)
    assert gini_from_grouped(thresholds=thresholds) == pytest.approx(exact, abs=0.015)
    y = np.random.default_rng(8).gamma(4.0, 4000.0, 200_000)
    d = np.quantile(y, np.arange(1, 10) / 10)
    assert gini_from_grouped(thresholds=d) == pytest.approx(gini(y), abs=0.015)


def test_grouped_gini_bad_input() -> None:
    with pytest.raises(DataValidationError, match="sum to 0.9"):
        gini_from_grouped([0.45, 0.45])
    with pytest.raises(DataValidationError, match="nine increasing, positive deciles"):
        gini_from_grouped(thresholds=[1, 2, 3])
    with pytest.raises(CdvGeoError, match="either shares or thresholds"):
        gini_from_grouped()


def test_published_gini_kept_estimate_only_where_missing() -> None:
    d = [9000.0, 10500, 11800, 13000, 14300, 15700, 17400, 19800, 24000]
    dec = pd.DataFrame({"code": "QP099001", "name": None, "level": "qpv",
                        "indicator": [f"income_d{k}" for k in range(1, 10)], "year": 2019,
                        "value": d, "flag": None, "source": "filosofi"})  # fmt: skip
    published = pd.DataFrame({"code": ["QP002013", "QP002014"], "name": None, "level": "qpv",
                              "indicator": "gini", "year": 2019, "value": [0.212, np.nan],
                              "flag": [None, "s"], "source": "filosofi"})  # fmt: skip
    dec_pub = dec.assign(code="QP002013")
    out = estimate_missing_gini(pd.concat([published, dec, dec_pub], ignore_index=True))
    g = out[out["indicator"] == "gini"].set_index("code")
    assert g.loc["QP002013", "value"] == pytest.approx(0.212)  # published, untouched
    assert math.isnan(g.loc["QP002014", "value"])  # secret stays secret
    assert g.loc["QP099001", "value"] == pytest.approx(gini_from_grouped(thresholds=d))
    assert g.loc["QP099001", "flag"] == "estimated"
    assert len(g) == 3
    # Filosofi publishes no D5: the median stands for it
    no_d5 = dec[dec["indicator"] != "income_d5"]
    med = pd.DataFrame({"code": "QP099001", "name": None, "level": "qpv",
                        "indicator": ["median_income"], "year": 2019, "value": [d[4]],
                        "flag": None, "source": "filosofi"})  # fmt: skip
    out2 = estimate_missing_gini(pd.concat([no_d5, med], ignore_index=True))
    est = out2.loc[out2["indicator"] == "gini", "value"].iloc[0]
    assert est == pytest.approx(gini_from_grouped(thresholds=d))
