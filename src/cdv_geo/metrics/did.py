"""Difference-in-differences: a quartier's change against the change of comparable quartiers.

For a quartier, an indicator and an intervention year, :func:`did_estimate` picks the comparable
quartiers of the national panel (:mod:`cdv_geo.metrics.panel`): the nearest on the pre-period
level and trend, with a complete series, of the same QPV generation, leaving out the quartiers the
user marks as treated. It returns the estimate (the quartier's change minus the comparison
group's), an interval, and a pre-trend check shown next to it; :func:`did_table` gives one row per
indicator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.metrics.panel import (
    code_names,
    direction_verdict,
    donor_positions,
    panel_matrix,
    per_indicator,
    summary_row,
)

__all__ = ["DID_COLUMNS", "DidResult", "did_estimate", "did_table", "matched_comparisons"]

#: Columns of :func:`did_table` (one row per indicator), in order.
DID_COLUMNS: tuple[str, ...] = (
    "quartier",
    "name",
    "indicator",
    "series",
    "unit",
    "method",
    "intervention_year",
    "n_pre",
    "n_post",
    "n_comparisons",
    "estimate",
    "estimate_pp",
    "ci_low",
    "ci_high",
    "interval",
    "p_value",
    "pre_trend",
    "pre_trend_p",
    "verdict",
    "reason",
)


@dataclass
class DidResult:
    """The result of :func:`did_estimate` for one quartier and one indicator.

    Attributes
    ----------
    summary : dict
        One row of :func:`did_table` (keys :data:`DID_COLUMNS`).
    comparisons : pandas.DataFrame
        ``code``, ``name`` of the comparable quartiers.
    path : pandas.DataFrame
        Index ``year``: ``treated``, ``comparison`` (the group's mean), ``gap``, ``post``.
    placebo : pandas.DataFrame
        Index ``code``: ``estimate`` and ``pre_trend`` of each comparable quartier taken as if
        treated, against the others.
    """

    summary: dict[str, object]
    comparisons: pd.DataFrame = field(default_factory=pd.DataFrame)
    path: pd.DataFrame = field(default_factory=pd.DataFrame)
    placebo: pd.DataFrame = field(default_factory=pd.DataFrame)


def _slope(values: np.ndarray, years: np.ndarray) -> np.ndarray:
    """OLS slope per year of each column of `values` (rows: years)."""
    x = years - years.mean()
    return (x @ (values - values.mean(axis=0))) / (x @ x)


def matched_comparisons(
    matrix: pd.DataFrame,
    code: str,
    pre: Sequence[int],
    pool: Sequence[str],
    k: int | None,
) -> list[str]:
    """Return the `k` quartiers of `pool` nearest to `code` on pre-period level and trend.

    Level: the mean over the pre-period years; trend: the OLS slope per year (with one
    pre-period year, the level only). Each is divided by its standard deviation across `pool`;
    the distance is Euclidean.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({2017: [0.40, 0.41, 0.30, 0.40], 2018: [0.42, 0.43, 0.31, 0.38]},
    ...                  index=["QP1", "QP2", "QP3", "QP4"])
    >>> matched_comparisons(m, "QP1", [2017, 2018], ["QP2", "QP3", "QP4"], 1)
    ['QP2']
    """
    pool = list(pool)
    if k is None or len(pool) <= k:
        return pool
    v = matrix.loc[[code, *pool], list(pre)].to_numpy(dtype=float)
    kept = _matched(v, np.asarray(pre, dtype=float), np.arange(len(pool)), k)
    return [pool[i] for i in kept]


def _matched(v: np.ndarray, pre: np.ndarray, pos: np.ndarray, k: int | None) -> np.ndarray:
    """Return the positions `pos` of the `k` rows of `v[1:]` nearest to `v[0]` (level, trend).

    `v` (1 + J, T): the quartier then the candidates over the pre-period years `pre`.
    """
    if k is None or len(pos) <= k:
        return pos
    feats = [v.mean(axis=1)]
    if len(pre) > 1:
        feats.append(_slope(v.T, pre))
    f = np.array(feats).T
    sd = f[1:].std(axis=0)
    f = f / np.where(sd > 0, sd, 1.0)
    d = np.sqrt(((f[1:] - f[0]) ** 2).sum(axis=1))
    return np.sort(pos[np.argsort(d, kind="stable")[:k]])


def _did(y: np.ndarray, post: np.ndarray) -> np.ndarray:
    """DiD of each column of `y` (years × units) against the mean of the other columns."""
    change = y[post].mean(axis=0) - y[~post].mean(axis=0)
    n = y.shape[1]
    others = (change.sum() - change) / (n - 1)
    return change - others


def _summary(code: str, name: object, indicator: str, series: str, year: int) -> dict[str, object]:
    return summary_row(DID_COLUMNS, "did", code, name, indicator, series, year, interval=None)


def _interval(
    est: float,
    y: np.ndarray,
    post: np.ndarray,
    placebo: np.ndarray,
    *,
    how: str,
    alpha: float,
    n_boot: int,
    seed: int,
) -> tuple[float, float]:
    """Return the interval of the estimate (see :func:`did_estimate`, Notes)."""
    if how == "placebo":
        lo, hi = np.quantile(placebo, [alpha / 2, 1 - alpha / 2])
        return est - float(hi), est - float(lo)
    rng = np.random.default_rng(seed)
    comp = y[:, 1:]
    change = comp[post].mean(axis=0) - comp[~post].mean(axis=0)
    own = float(y[post, 0].mean() - y[~post, 0].mean())
    draws = rng.integers(0, comp.shape[1], size=(n_boot, comp.shape[1]))
    boot = own - change[draws].mean(axis=1)
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def did_estimate(
    panel: pd.DataFrame,
    code: str,
    indicator: str,
    year: int,
    *,
    treated: Sequence[str] = (),
    n_comparisons: int | None = 30,
    series: str | None = None,
    level: str | None = "qpv",
    interval: Literal["placebo", "bootstrap"] = "placebo",
    alpha: float = 0.1,
    n_boot: int = 999,
    seed: int = 0,
    min_pre_periods: int = 2,
    pre_trend_alpha: float = 0.05,
    matrix: tuple[pd.DataFrame, str] | None = None,
    names: Mapping[str, str | None] | None = None,
) -> DidResult:
    r"""Return the difference-in-differences of quartier `code` for `indicator` from `year`.

    Parameters
    ----------
    panel : pandas.DataFrame
        :func:`cdv_geo.metrics.panel.indicator_panel` of the national files.
    code : str
        The quartier evaluated.
    indicator : str
        The outcome.
    year : int
        First year of the intervention (the first year of an NPNRU operation, an opening...).
    treated : sequence of str
        Quartiers that had a comparable programme: never in the comparison group.
    n_comparisons : int or None, default 30
        Size of the comparison group: the nearest quartiers on pre-period level and trend
        (:func:`matched_comparisons`); None: every quartier with a complete series.
    series, level
        As in :func:`cdv_geo.metrics.panel.panel_matrix`.
    interval : {"placebo", "bootstrap"}, default "placebo"
        How the interval is built (Notes).
    alpha : float, default 0.1
        1 - the interval's coverage (0.1: a 90 % interval).
    n_boot : int, default 999
        Bootstrap draws (``interval="bootstrap"``).
    seed : int, default 0
        Seed of the bootstrap.
    min_pre_periods : int, default 2
        Fewer pre-period years: no pre-trend check possible, verdict ``cannot_conclude``
        (``pre_period_too_short``), interval still given.
    pre_trend_alpha : float, default 0.05
        Level of the pre-trend test: a pre-trend p-value below it gives ``cannot_conclude``
        (``pre_trend``).
    matrix : (DataFrame, str), optional
        The indicator's :func:`~cdv_geo.metrics.panel.panel_matrix` and series, when already
        built (a batch over many quartiers); `series` and `level` are then not used.
    names : mapping, optional
        ``{code: name}`` (default: :func:`~cdv_geo.metrics.panel.code_names` of `panel`).

    Returns
    -------
    DidResult
        ``summary`` (:data:`DID_COLUMNS`), ``comparisons``, ``path``, ``placebo``.

    Raises
    ------
    DataValidationError
        When `code` has no value of `indicator` in the panel.

    Notes
    -----
    With pre-period years :math:`t < T_0` and post-period years :math:`t \ge T_0` (the years
    the quartier has a value; comparisons complete on them),

    .. math:: \hat\delta = (\bar Y_{1,post} - \bar Y_{1,pre})
              - \frac{1}{J}\sum_j (\bar Y_{j,post} - \bar Y_{j,pre}),

    which on this balanced panel equals the coefficient of :math:`D_{it} = 1[i = 1, t \ge T_0]`
    in the two-way fixed-effects regression :math:`Y_{it} = \alpha_i + \lambda_t + \delta D_{it}
    + \varepsilon_{it}`. **Interval.** With one treated quartier, the uncertainty that matters
    is the quartier's own deviation from the common trend, which resampling the comparison
    quartiers (``"bootstrap"``: percentile interval of :math:`\hat\delta` over draws of the
    group with replacement) does not see: it only measures how well the group's mean is known,
    and its interval shrinks to nothing as the group grows. The default ``"placebo"`` interval
    (Conley & Taber 2011) uses the comparison quartiers as draws of that deviation: each is
    taken as if treated against the others, giving :math:`\hat\delta_j`, and the interval is
    :math:`[\hat\delta - q_{1-\alpha/2}, \hat\delta - q_{\alpha/2}]` of those;
    ``p_value`` = :math:`(1 + \#\{j: |\hat\delta_j| \ge |\hat\delta|\}) / (1 + J)`. The
    verdict is ``better``/``worse`` only when the interval excludes 0 and the p-value is at most
    `alpha`.
    **Pre-trend.** ``pre_trend``: the OLS slope per year of the quartier-minus-group gap over the
    pre-period; ``pre_trend_p``: its rank among the comparison quartiers' own pre-trends (each
    against the others). A pre-trend p-value below `pre_trend_alpha` means the parallel-trends
    assumption fails: ``cannot_conclude`` (``pre_trend``). Matching on the trend makes the
    check weaker (it then catches a quartier whose path no comparable quartier shares), which
    is why it is shown.

    References
    ----------
    Conley, T. & Taber, C. (2011). Inference with "Difference in Differences" with a Small
    Number of Policy Changes. *Rev. Econ. Stat.* 93(1): 113–125. Abadie, A. (2021), J. Econ.
    Lit. 59(2), §2 (comparison groups).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from cdv_geo.metrics.panel import indicator_panel
    >>> rng = np.random.default_rng(1)
    >>> rows = [(f"QP{i:06d}", y, 0.35 + 0.005 * i + 0.003 * (y - 2015) + rng.normal(0, 0.002)
    ...          - (0.04 if i == 10 and y >= 2019 else 0))
    ...         for i in range(40) for y in range(2015, 2023)]
    >>> t = pd.DataFrame(rows, columns=["code", "year", "value"]).assign(
    ...     indicator="poverty_rate", level="qpv")
    >>> s = did_estimate(indicator_panel(t), "QP000010", "poverty_rate", 2019).summary
    >>> round(s["estimate"], 2), s["ci_high"] < 0, s["verdict"]
    (-0.04, True, 'better')
    """
    m, series = matrix or panel_matrix(panel, indicator, series=series, level=level)
    names = code_names(panel) if names is None else names
    s = _summary(code, names.get(code), indicator, series, year)
    if code not in m.index:
        raise DataValidationError(
            [
                Problem(
                    f"quartier {code} has no value of {indicator} (series {series}) in the "
                    "panel; check the code and the files read",
                    layer="indicators",
                    feature=code,
                    field=indicator,
                )
            ]
        )
    vals = m.to_numpy(dtype=float)  # positions from here: label lookups cost more than the sums
    cols = np.asarray(m.columns, dtype=int)
    i0 = int(m.index.get_loc(code))  # type: ignore[arg-type]
    have = ~np.isnan(vals[i0])
    years = cols[have].tolist()
    pre = [y for y in years if y < year]
    s["n_pre"], s["n_post"] = len(pre), len(years) - len(pre)
    if not pre or len(pre) == len(years):
        s["reason"] = "no_pre_period" if not pre else "no_post_period"
        return DidResult(s)
    pos = donor_positions(m, code, years, exclude=treated)
    pre_cols = np.isin(cols, pre)
    pos = _matched(vals[np.r_[i0, pos]][:, pre_cols], np.asarray(pre, float), pos, n_comparisons)
    pool = m.index[pos].tolist()
    s["n_comparisons"] = len(pool)
    if len(pool) < 2:
        s["reason"] = "too_few_donors"
        return DidResult(s)
    y = vals[np.r_[i0, pos]][:, have].T
    post = np.asarray(years) >= year
    # each comparison quartier as if treated, against the others (not the quartier itself)
    plac = _did(y[:, 1:], post)
    est = float(np.mean(y[post, 0]) - np.mean(y[~post, 0])) - float(
        np.mean(y[post, 1:].mean(axis=0) - y[~post, 1:].mean(axis=0))
    )
    lo, hi = _interval(est, y, post, plac, how=interval, alpha=alpha, n_boot=n_boot, seed=seed)
    group = y[:, 1:].mean(axis=1)
    s.update(estimate=est, ci_low=lo, ci_high=hi, interval=interval)
    s["p_value"] = float((1 + np.sum(np.abs(plac) >= abs(est))) / (1 + len(plac)))
    if s["unit"] == "fraction":
        s["estimate_pp"] = 100.0 * est
    trends = np.full(len(pool), np.nan)
    if len(pre) >= 2:
        yrs = np.asarray(pre, dtype=float)
        pre_y = y[~post]
        n = pre_y.shape[1] - 1
        others = (pre_y[:, 1:].sum(axis=1, keepdims=True) - pre_y[:, 1:]) / (n - 1)
        trends = _slope(pre_y[:, 1:] - others, yrs)
        own = float(_slope((pre_y[:, 0] - group[~post])[:, None], yrs)[0])
        s["pre_trend"] = own
        s["pre_trend_p"] = float((1 + np.sum(np.abs(trends) >= abs(own))) / (1 + n))
    _did_verdict(s, min_pre=min_pre_periods, alpha=alpha, trend_alpha=pre_trend_alpha)
    comps = pd.DataFrame({"code": pool, "name": [names.get(c) for c in pool]})
    path = pd.DataFrame(
        {"treated": y[:, 0], "comparison": group, "gap": y[:, 0] - group, "post": post},
        index=pd.Index(years, name="year"),
    )
    placebo = pd.DataFrame(
        {"estimate": plac, "pre_trend": trends}, index=pd.Index(pool, name="code")
    )
    return DidResult(s, comps, path, placebo)


def _did_verdict(s: dict[str, object], *, min_pre: int, alpha: float, trend_alpha: float) -> None:
    k = int(s["n_comparisons"])  # type: ignore[call-overload]
    if int(s["n_pre"]) < min_pre:  # type: ignore[call-overload]
        s["reason"] = "pre_period_too_short"
    elif 1.0 / (k + 1) > alpha / 2:
        s["reason"] = "too_few_donors"  # no interval of that coverage from so few placebos
    elif float(s["pre_trend_p"]) < trend_alpha:  # type: ignore[arg-type]
        s["reason"] = "pre_trend"
    if s["reason"] is not None:
        return
    lo, hi = float(s["ci_low"]), float(s["ci_high"])  # type: ignore[arg-type]
    # the interval (quantiles) and the two-sided p-value (|placebo|) must agree to conclude
    if (lo > 0 or hi < 0) and float(s["p_value"]) <= alpha:  # type: ignore[arg-type]
        s["verdict"] = direction_verdict(float(s["estimate"]), str(s["indicator"]))  # type: ignore[arg-type]
    else:
        s["verdict"] = "no_detectable_difference"


def did_table(
    panel: pd.DataFrame,
    code: str,
    indicators: Sequence[str],
    year: int,
    *,
    matrices: Mapping[str, tuple[pd.DataFrame, str]] | None = None,
    **options: object,
) -> pd.DataFrame:
    """Return one row per indicator (:data:`DID_COLUMNS`) of :func:`did_estimate`.

    `matrices` (:func:`~cdv_geo.metrics.panel.panel_matrices`) saves rebuilding them for each
    quartier of a batch. `options` are those of :func:`did_estimate`; an indicator the panel
    does not hold gives a row with NaN figures and reason ``treated_not_in_panel``.

    Examples
    --------
    >>> import pandas as pd
    >>> from cdv_geo.metrics.panel import indicator_panel
    >>> t = pd.DataFrame({"code": ["QP1", "QP1", "QP2", "QP2", "QP3", "QP3"],
    ...                   "year": [2019, 2021] * 3, "value": [0.4, 0.38, 0.3, 0.31, 0.5, 0.5],
    ...                   "indicator": "poverty_rate", "level": "qpv"})
    >>> r = did_table(indicator_panel(t), "QP1", ["poverty_rate", "median_income"], 2021)
    >>> r[["indicator", "estimate", "verdict", "reason"]]
           indicator  estimate          verdict                reason
    0   poverty_rate    -0.025  cannot_conclude  pre_period_too_short
    1  median_income       NaN  cannot_conclude  treated_not_in_panel
    """
    return per_indicator(
        did_estimate,
        lambda c, ind, y: _summary(c, None, ind, "", y),
        panel,
        code,
        indicators,
        year,
        columns=DID_COLUMNS,
        counts=("n_pre", "n_post", "n_comparisons"),
        matrices=matrices,
        options=options,
    )
