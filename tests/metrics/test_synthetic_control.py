"""metrics/synthetic_control.py against pysyncon (Basque case), planted effects and null panels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cdv_geo.metrics.panel import indicator_panel
from cdv_geo.metrics.synthetic_control import (
    SC_COLUMNS,
    placebo_weights,
    simplex_weights,
    synthetic_control,
    synthetic_table,
)

BASQUE = Path("/work/shared/real-data/synth/basque.csv")
needs_basque = pytest.mark.skipif(not BASQUE.is_file(), reason="shared real data not present")
SCHOOL = ["school.illit", "school.prim", "school.med", "school.high", "school.post.high"]
SECTORS = [
    "sec.agriculture",
    "sec.energy",
    "sec.industry",
    "sec.construction",
    "sec.services.venta",
    "sec.services.nonventa",
]
#: Abadie & Gardeazabal (2003) predictors, as in pysyncon's own Basque test.
COVARIATES = {
    **{k: range(1964, 1970) for k in [*SCHOOL, "invest"]},
    "gdpcap": range(1960, 1970),
    **{k: range(1961, 1970, 2) for k in SECTORS},
    "popdens": [1969],
}


def basque_panel() -> pd.DataFrame:
    df = pd.read_csv(BASQUE)
    long = df.melt(id_vars=["regionno", "regionname", "year"], var_name="indicator")
    long["code"] = long["regionno"].astype(int).astype(str)
    return indicator_panel(long.rename(columns={"regionname": "name"}).assign(level="region"))


def dataprep():  # type: ignore[no-untyped-def]
    from pysyncon import Dataprep

    df = pd.read_csv(BASQUE)
    controls = [r for r in df["regionname"].unique() if r != "Basque Country (Pais Vasco)"]
    return Dataprep(
        foo=df,
        predictors=[*SCHOOL, "invest"],
        predictors_op="mean",
        time_predictors_prior=range(1964, 1970),
        special_predictors=[
            ("gdpcap", range(1960, 1970), "mean"),
            *((s, range(1961, 1970, 2), "mean") for s in SECTORS),
            ("popdens", [1969], "mean"),
        ],
        dependent="gdpcap",
        unit_variable="regionname",
        time_variable="year",
        treatment_identifier="Basque Country (Pais Vasco)",
        controls_identifier=controls,
        time_optimize_ssr=range(1960, 1970),
    )


def basque_fit(**options: object):  # type: ignore[no-untyped-def]
    return synthetic_control(
        basque_panel(), "17", "gdpcap", 1970, n_donors=None, covariates=COVARIATES,
        pre_years=range(1960, 1970), level="region", **options,
    )  # fmt: skip


@needs_basque
def test_basque_weights_and_gaps_match_pysyncon() -> None:
    pytest.importorskip("pysyncon")
    from pysyncon import Synth

    sc = basque_fit(placebo=False)
    w = sc.weights.set_index("name")["weight"]
    # pysyncon's default fit (Nelder-Mead from equal V) gives, in its own test suite and here
    # (test_basque_pysyncon_default below): Cataluña 0.850816, Madrid 0.149184, others 0
    assert w["Cataluna"] == pytest.approx(0.850816, abs=0.01)
    assert w["Madrid (Comunidad De)"] == pytest.approx(0.149184, abs=0.01)
    assert w.drop(["Cataluna", "Madrid (Comunidad De)"]).sum() < 0.01
    # pysyncon's own QP (SLSQP) with our V: the same weights, and the same gap series
    dp = dataprep()
    ref = Synth()
    ref.fit(dataprep=dp, custom_V=sc.v)
    ours = w.reindex(ref.W_names if hasattr(ref, "W_names") else dp.controls_identifier)
    ref_w = pd.Series(ref.W, index=dp.controls_identifier)
    assert np.allclose(ours.fillna(0.0).to_numpy(), ref_w.reindex(ours.index), atol=0.01)
    z0, z1 = dp.make_outcome_mats(time_period=range(1955, 1998))
    ref_gap = (z1 - z0 @ ref.W).to_numpy()
    assert np.abs(sc.path["gap"].to_numpy() - ref_gap).max() < 0.02
    # the published story: the Basque Country fell behind its synthetic twin after 1975
    assert sc.path.loc[1990, "gap"] < -0.5


@pytest.mark.slow
@needs_basque
def test_basque_pysyncon_default_and_placebo() -> None:
    """pysyncon's default nested fit, run here (minutes), and one placebo refit."""
    pytest.importorskip("pysyncon")
    import copy

    from pysyncon import Synth

    dp = dataprep()
    ref = Synth()
    ref.fit(dataprep=dp, optim_method="Nelder-Mead", optim_initial="equal")
    sc = basque_fit()
    w = sc.weights.set_index("name")["weight"]
    for region in ("Cataluna", "Madrid (Comunidad De)"):
        assert w[region] == pytest.approx(ref.weights(round=9)[region], abs=0.01)
    # Cataluña as if treated, from the other regions: the V search is multimodal; ours must
    # reach a pre-period loss at least as low as pysyncon's (here 0.073 against 0.121)
    cat = copy.copy(dp)
    cat.treatment_identifier = "Cataluna"
    cat.controls_identifier = [c for c in dp.controls_identifier if c != "Cataluna"]
    ref_cat = Synth()
    ref_cat.fit(dataprep=cat, optim_method="Nelder-Mead", optim_initial="equal")
    ours = float(np.mean(sc.placebo_gaps.loc[1960:1969, "10"] ** 2))
    assert ours <= ref_cat.loss_V + 1e-6
    # pysyncon's loss is the pre-period mean squared gap, as ours above
    z0, z1 = cat.make_outcome_mats(time_period=range(1960, 1970))
    assert float(np.mean((z1 - z0 @ ref_cat.W) ** 2)) == pytest.approx(ref_cat.loss_V)


def test_simplex_weights_by_hand() -> None:
    # target (2, 3) is the midpoint of donors (1, 2) and (3, 4); donor 3 far away
    donors = np.array([[1.0, 3.0, 10.0], [2.0, 4.0, 10.0]])
    w = simplex_weights(np.array([2.0, 3.0]), donors)
    assert w == pytest.approx([0.5, 0.5, 0.0], abs=1e-7)
    # outside the hull: the nearest vertex, weights still a simplex
    w = simplex_weights(np.array([0.0, 0.0]), donors)
    assert w == pytest.approx([1.0, 0.0, 0.0], abs=1e-7) and w.sum() == pytest.approx(1.0)
    # large levels (incomes) with small differences keep their precision
    w = simplex_weights(np.array([15_000.25]), np.array([[15_000.0, 15_001.0]]))
    assert w == pytest.approx([0.75, 0.25], abs=1e-6)
    # V weighs the predictors: with v on row 2 only, the fit follows row 2
    d = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert simplex_weights(np.array([0.0, 0.2]), d, v=np.array([0.0, 1.0])) == pytest.approx(
        [0.2, 0.8], abs=1e-6
    )


def test_placebo_weights_match_one_by_one_fits() -> None:
    rng = np.random.default_rng(3)
    pre = rng.normal(size=(4, 8))
    wp = placebo_weights(pre)
    for j in range(8):
        others = [k for k in range(8) if k != j]
        assert wp[j, j] == 0.0
        assert wp[j, others] == pytest.approx(simplex_weights(pre[:, j], pre[:, others]))
        assert wp[j].sum() == pytest.approx(1.0)


def factor_panel(
    rng: np.random.Generator,
    *,
    n: int = 40,
    years: range = range(2005, 2023),
    treated: str | None = None,
    effect: float = 0.0,
    start: int = 2017,
) -> pd.DataFrame:
    """A poverty-rate panel from a two-factor model (common trends with unit loadings)."""
    t = np.arange(len(years))
    f = np.c_[0.004 * t, 0.01 * np.sin(t / 3)]
    load = rng.uniform(0.5, 1.5, size=(n, 2))
    level = rng.uniform(0.3, 0.5, size=n)
    y = level[:, None] + load @ f.T + rng.normal(0, 0.003, size=(n, len(t)))
    codes = [f"QP{i:06d}" for i in range(n)]
    if treated is not None:
        # a typical quartier (mid level and loadings): a blend of others can reproduce it
        i = codes.index(treated)
        y[i] = 0.4 + np.array([1.0, 1.0]) @ f.T + rng.normal(0, 0.003, size=len(t))
        y[i, np.asarray(years) >= start] += effect
    rows = pd.DataFrame(y, index=codes, columns=list(years)).stack().rename("value")
    out = rows.rename_axis(["code", "year"]).reset_index()
    return out.assign(indicator="poverty_rate", level="qpv", name=out["code"])


def test_planted_effect_is_recovered() -> None:
    rng = np.random.default_rng(11)
    raw = factor_panel(rng, treated="QP000007", effect=-0.04)
    sc = synthetic_control(indicator_panel(raw), "QP000007", "poverty_rate", 2017)
    s = sc.summary
    assert s["estimate"] == pytest.approx(-0.04, abs=0.008)
    assert s["estimate_pp"] == pytest.approx(100 * s["estimate"])
    assert s["p_value"] <= 0.05 and s["verdict"] == "better" and s["reason"] is None
    assert s["n_pre"] == 12 and s["n_post"] == 6 and s["n_donors"] == 39
    assert sc.weights["weight"].sum() == pytest.approx(1.0)
    assert (sc.weights["weight"] >= 0).all()
    assert set(sc.weights["code"]) <= set(raw["code"]) - {"QP000007"}
    assert (sc.path.loc[2017:, "gap"] < -0.02).all()  # every post year, not just the mean
    # an increase of the poverty rate reads "worse"
    raw = factor_panel(np.random.default_rng(11), treated="QP000007", effect=0.04)
    s = synthetic_control(indicator_panel(raw), "QP000007", "poverty_rate", 2017).summary
    assert s["verdict"] == "worse"


def test_null_placebo_p_values_are_uniform() -> None:
    """No effect anywhere: the placebo p-value of a random quartier is uniform (seeded)."""
    rng = np.random.default_rng(2024)
    ps = []
    for _ in range(120):
        raw = factor_panel(rng, n=25, years=range(2009, 2023))
        code = f"QP{rng.integers(25):06d}"
        s = synthetic_control(
            indicator_panel(raw), code, "poverty_rate", 2017, n_donors=None, max_pre_fit=np.inf
        ).summary
        ps.append(s["p_value"])
    ps = np.asarray(ps)
    assert not np.isnan(ps).any()
    assert stats.kstest(ps, "uniform").pvalue > 0.01
    assert 0.03 < np.mean(ps <= 0.1) < 0.2  # the test's level is about right


def test_short_pre_period_gives_no_p_value() -> None:
    """2017-2022 INSEE data: 3 pre-years. Estimate shown, but no p-value, cannot conclude."""
    raw = factor_panel(np.random.default_rng(5), years=range(2017, 2023), treated="QP000003",
                       effect=-0.05, start=2020)  # fmt: skip
    panel = indicator_panel(raw)
    s = synthetic_control(panel, "QP000003", "poverty_rate", 2020).summary
    assert s["n_pre"] == 3
    assert np.isnan(s["p_value"])
    assert (s["verdict"], s["reason"]) == ("cannot_conclude", "pre_period_too_short")
    assert s["estimate"] == pytest.approx(-0.05, abs=0.02)
    # both sides of the limit: 5 pre-years (the default minimum) do give a p-value
    s = synthetic_control(panel, "QP000003", "poverty_rate", 2020, min_pre_periods=3).summary
    assert not np.isnan(s["p_value"]) and s["reason"] is None
    s = synthetic_control(panel, "QP000003", "poverty_rate", 2020, min_pre_periods=4).summary
    assert s["reason"] == "pre_period_too_short"


def test_poor_pre_fit_gives_no_p_value() -> None:
    """The poorest quartier lies outside what any blend of others reproduces."""
    raw = factor_panel(np.random.default_rng(8))
    top = raw.groupby("code")["value"].mean().idxmax()
    raw.loc[raw["code"] == top, "value"] += 0.03  # above every other quartier, every year
    panel = indicator_panel(raw)
    s = synthetic_control(panel, top, "poverty_rate", 2017).summary
    assert s["pre_fit"] > 0.25
    assert np.isnan(s["p_value"]) and s["reason"] == "poor_pre_fit"
    # the limit: the same fit passes with a looser threshold just above its pre_fit
    loose = synthetic_control(panel, top, "poverty_rate", 2017, max_pre_fit=s["pre_fit"] * 1.01)
    assert loose.summary["reason"] is None and not np.isnan(loose.summary["p_value"])
    tight = synthetic_control(panel, top, "poverty_rate", 2017, max_pre_fit=s["pre_fit"] * 0.99)
    assert tight.summary["reason"] == "poor_pre_fit"


def test_donors_exclude_treated_other_generation_and_incomplete() -> None:
    raw = factor_panel(np.random.default_rng(9), n=30)
    raw.loc[raw["code"] == "QP000004", "code"] = "QN000004"  # a 2024 quartier: never a donor
    raw = raw[~((raw["code"] == "QP000005") & (raw["year"] == 2010))]  # an incomplete series
    panel = indicator_panel(raw)
    sc = synthetic_control(panel, "QP000001", "poverty_rate", 2017, treated=["QP000002"],
                           n_donors=None)  # fmt: skip
    used = set(sc.placebos.index)
    assert used == {f"QP{i:06d}" for i in range(30)} - {
        "QP000001", "QP000002", "QP000004", "QP000005"
    }  # fmt: skip
    assert sc.summary["n_donors"] == 26
    # the k nearest on the pre-period path: the closest ones by hand
    k = synthetic_control(
        panel, "QP000001", "poverty_rate", 2017, treated=["QP000002"], n_donors=10
    )
    m = raw.pivot(index="code", columns="year", values="value").loc[sorted(used)]
    pre = m.loc[:, 2005:2016]
    z = pre / pre.std(ddof=0)
    t = raw[raw["code"] == "QP000001"].set_index("year")["value"].loc[2005:2016]
    d = ((z - t / pre.std(ddof=0)) ** 2).sum(axis=1)
    assert set(k.placebos.index) == set(d.nsmallest(10).index)


def test_table_has_a_row_per_indicator() -> None:
    raw = factor_panel(np.random.default_rng(1))
    t = synthetic_table(indicator_panel(raw), "QP000003", ["poverty_rate", "median_income"], 2017)
    assert list(t.columns) == list(SC_COLUMNS)
    assert list(t["indicator"]) == ["poverty_rate", "median_income"]
    assert t.loc[1, "reason"] == "treated_not_in_panel" and np.isnan(t.loc[1, "estimate"])
    assert t.loc[0, "unit"] == "fraction" and t.loc[0, "method"] == "synthetic_control"


def test_unknown_quartier_is_named() -> None:
    from cdv_geo.core.errors import DataValidationError

    raw = factor_panel(np.random.default_rng(1))
    with pytest.raises(DataValidationError, match="QP999999"):
        synthetic_control(indicator_panel(raw), "QP999999", "poverty_rate", 2017)


def test_shared_matrices_give_the_same_table() -> None:
    from cdv_geo.metrics.panel import panel_matrices

    panel = indicator_panel(factor_panel(np.random.default_rng(4), treated="QP000002"))
    mats = panel_matrices(panel, ["poverty_rate"])
    a = synthetic_table(panel, "QP000002", ["poverty_rate", "gini"], 2017)
    b = synthetic_table(panel, "QP000002", ["poverty_rate", "gini"], 2017, matrices=mats)
    pd.testing.assert_frame_equal(a, b)


def test_path_only_fit_matches_pysyncon_equal_v() -> None:
    """The QPV mode (pre-period path, V = I) against pysyncon's QP on the same matrices."""
    pytest.importorskip("pysyncon")
    from pysyncon import Synth

    raw = factor_panel(np.random.default_rng(21), n=12, treated="QP000004", effect=-0.03)
    sc = synthetic_control(indicator_panel(raw), "QP000004", "poverty_rate", 2017, placebo=False)
    wide = raw.pivot(index="year", columns="code", values="value")
    pre = wide.loc[:2016]
    x0, x1 = pre.drop(columns="QP000004"), pre["QP000004"]
    ref = Synth()
    ref.fit(X0=x0, X1=x1, Z0=x0, Z1=x1, custom_V=np.ones(len(pre)))
    ref_w = pd.Series(ref.W, index=x0.columns)
    ours = sc.weights.set_index("code")["weight"].reindex(x0.columns).fillna(0.0)
    # the same problem: our exact NNLS optimum is at least as good as SLSQP's (which stops on
    # its default tolerance when the losses are as small as these), and close to it
    loss, ref_loss = float(np.mean((x1 - x0 @ ours) ** 2)), float(np.mean((x1 - x0 @ ref_w) ** 2))
    assert loss <= ref_loss * (1 + 1e-6)
    assert np.sqrt(ref_loss) - np.sqrt(loss) < 0.001  # RMSPE within 0.1 point
    ref_gap = wide["QP000004"] - wide.drop(columns="QP000004") @ ref_w
    post = sc.path.index >= 2017
    assert abs(sc.path["gap"][post].mean() - ref_gap[post].mean()) < 0.003
