"""Synthetic control: a quartier against a weighted blend of quartiers that had no such programme.

The Abadie–Diamond–Hainmueller estimator on the national QPV panel (:mod:`cdv_geo.metrics.panel`):
non-negative donor weights summing to 1 chosen so that the weighted donors reproduce the
quartier's path before the intervention (and chosen covariates); the gap after it; placebo-in-space
inference (each donor refitted as if treated; the rank of the post/pre RMSPE ratio gives the
p-value); the donor weights with their names and codes. It says plainly when the pre-period is too
short or the pre-period fit poor: the p-value is then NaN and the verdict ``cannot_conclude``.

Each fit is a small quadratic program solved by :func:`scipy.optimize.nnls` (the sum-to-one
constraint as a heavily weighted row); the V matrix of covariates, when any, by Nelder–Mead
(:func:`scipy.optimize.minimize`) around it, as in ADH and pysyncon.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize, nnls

from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.metrics.panel import (
    code_names,
    direction_verdict,
    donor_positions,
    panel_matrix,
    per_indicator,
    summary_row,
)

__all__ = [
    "SC_COLUMNS",
    "SyntheticControl",
    "nested_weights",
    "placebo_weights",
    "simplex_weights",
    "synthetic_control",
    "synthetic_table",
]

#: Columns of :func:`synthetic_table` (one row per indicator), in order.
SC_COLUMNS: tuple[str, ...] = (
    "quartier",
    "name",
    "indicator",
    "series",
    "unit",
    "method",
    "intervention_year",
    "n_pre",
    "n_post",
    "n_donors",
    "estimate",
    "estimate_pp",
    "pre_rmspe",
    "post_rmspe",
    "rmspe_ratio",
    "pre_fit",
    "p_value",
    "verdict",
    "reason",
)
#: Weight of the sum-to-one row relative to the (scaled) data rows.
_HEAVY = 1e4


def simplex_weights(
    target: np.ndarray, donors: np.ndarray, *, v: np.ndarray | None = None
) -> np.ndarray:
    r"""Return the weights w >= 0, sum 1, that best reproduce `target` from `donors`' columns.

    Parameters
    ----------
    target : array (p,)
        The treated unit's predictors (pre-period values, covariates).
    donors : array (p, J)
        The donors' predictors, one column per donor.
    v : array (p,), optional
        Predictor weights (the diagonal of V); default all 1.

    Returns
    -------
    numpy.ndarray (J,)

    Notes
    -----
    Solves :math:`\min_w \sum_k v_k (x_{1k} - \sum_j X_{0kj} w_j)^2` subject to
    :math:`w_j \ge 0`, :math:`\sum_j w_j = 1`. Since :math:`\sum_j w_j = 1`, the residual is
    :math:`(X_0 - x_1 1^\top) w`: the donors are centred on the target (which keeps the precision
    of small differences between large levels such as incomes), and the constraint is a row of
    weight ``1e4`` times the data's scale appended to a non-negative least-squares problem
    (Lawson–Hanson, :func:`scipy.optimize.nnls`); its error, of order :math:`10^{-8}`, is removed
    by renormalising.

    Examples
    --------
    >>> import numpy as np
    >>> donors = np.array([[1.0, 3.0, 10.0], [2.0, 4.0, 10.0]])
    >>> simplex_weights(np.array([2.0, 3.0]), donors).round(6)
    array([0.5, 0.5, 0. ])
    """
    sv = np.ones(len(target)) if v is None else np.sqrt(np.asarray(v, dtype=float))
    a = (np.asarray(donors, dtype=float) - np.asarray(target, dtype=float)[:, None]) * sv[:, None]
    scale = float(np.abs(a).max()) or 1.0
    a = np.vstack([a / scale, np.full(a.shape[1], _HEAVY)])
    b = np.zeros(a.shape[0])
    b[-1] = _HEAVY
    w, _ = nnls(a, b, maxiter=50 * a.shape[1] + 100)
    total = w.sum()
    return w / total if total > 0 else np.full(len(w), 1.0 / len(w))


def placebo_weights(pre: np.ndarray) -> np.ndarray:
    """Return, for each unit (column) of `pre`, its weights on the other units.

    Parameters
    ----------
    pre : array (T, J)
        The pre-period paths of J donors, which all share this matrix.

    Returns
    -------
    numpy.ndarray (J, J)
        Row j: the weights of unit j's synthetic control, 0 on itself.

    Examples
    --------
    >>> import numpy as np
    >>> placebo_weights(np.array([[1.0, 2.0, 3.0]])).round(6)
    array([[0. , 1. , 0. ],
           [0.5, 0. , 0.5],
           [0. , 1. , 0. ]])
    """
    n = pre.shape[1]
    out = np.zeros((n, n))
    for j in range(n):
        others = np.r_[0:j, j + 1 : n]
        out[j, others] = simplex_weights(pre[:, j], pre[:, others])
    return out


def nested_weights(
    x1: np.ndarray, x0: np.ndarray, z1: np.ndarray, z0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r"""Return (w, v): donor weights and predictor weights chosen as in ADH (nested optimisation).

    Parameters
    ----------
    x1, x0 : arrays (c,), (c, J)
        Predictors of the treated unit and the donors (covariates), each row already scaled.
    z1, z0 : arrays (T,), (T, J)
        The outcome over the pre-period the fit is judged on.

    Notes
    -----
    :math:`V = \mathrm{diag}(|x|) / \sum |x|` minimises the pre-period outcome loss
    :math:`\frac{1}{T}\|z_1 - Z_0 w^*(V)\|^2` where :math:`w^*(V)` is :func:`simplex_weights`
    with :math:`v = \mathrm{diag}(V)`; Nelder–Mead from equal weights, as ``pysyncon``'s default
    (``optim_method="Nelder-Mead"``, ``optim_initial="equal"``) and the R package ``Synth``.

    Examples
    --------
    >>> import numpy as np
    >>> x0 = np.array([[1.0, 3.0], [0.0, 2.0]]); z0 = np.array([[1.0, 3.0], [1.0, 3.0]])
    >>> w, v = nested_weights(np.array([2.0, 1.0]), x0, np.array([2.0, 2.0]), z0)
    >>> w.round(3)
    array([0.5, 0.5])
    """
    c = len(x1)

    def loss(x: np.ndarray) -> float:
        v = np.abs(x) / max(np.abs(x).sum(), 1e-300)
        w = simplex_weights(x1, x0, v=v)
        r = z1 - z0 @ w
        return float(r @ r) / len(z1)

    res = minimize(loss, np.full(c, 1.0 / c), method="Nelder-Mead")
    v = np.abs(res.x) / max(np.abs(res.x).sum(), 1e-300)
    return simplex_weights(x1, x0, v=v), v


@dataclass
class SyntheticControl:
    """The result of :func:`synthetic_control` for one quartier and one indicator.

    Attributes
    ----------
    summary : dict
        One row of :func:`synthetic_table` (keys :data:`SC_COLUMNS`).
    weights : pandas.DataFrame
        ``code``, ``name``, ``weight`` of the donors with a positive weight, largest first.
    path : pandas.DataFrame
        Index ``year``: ``treated``, ``synthetic``, ``gap``, ``post`` (bool).
    placebos : pandas.DataFrame
        Index ``code`` (the donors refitted as if treated): ``pre_rmspe``, ``post_rmspe``,
        ``rmspe_ratio``.
    placebo_gaps : pandas.DataFrame
        Index ``year``, a column per donor: its gap to its own synthetic control (the band of
        the chart).
    v : numpy.ndarray or None
        The predictor weights, when covariates were given.
    """

    summary: dict[str, object]
    weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    path: pd.DataFrame = field(default_factory=pd.DataFrame)
    placebos: pd.DataFrame = field(default_factory=pd.DataFrame)
    placebo_gaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    v: np.ndarray | None = None


def _rmspe(gaps: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Root mean squared gap over the rows `rows` (years), per column."""
    return np.sqrt(np.mean(gaps[rows] ** 2, axis=0))


def _covariates(
    panel: pd.DataFrame, covariates: Mapping[str, Sequence[int]], level: str | None
) -> pd.DataFrame:
    """Return the code × covariate table of means over each covariate's years."""
    cols = {}
    for ind, years in covariates.items():
        m, _ = panel_matrix(panel, ind, level=level)
        cols[ind] = m.reindex(columns=[int(y) for y in years]).mean(axis=1, skipna=True)
    return pd.DataFrame(cols)


def _summary(code: str, name: object, indicator: str, series: str, year: int) -> dict[str, object]:
    return summary_row(SC_COLUMNS, "synthetic_control", code, name, indicator, series, year)


def _verdict(s: dict[str, object], *, min_pre: int, max_pre_fit: float, alpha: float) -> None:
    """Set ``p_value``, ``verdict`` and ``reason`` of a summary whose figures are computed."""
    k = int(s["n_donors"])  # type: ignore[call-overload]
    if int(s["n_pre"]) < min_pre:  # type: ignore[call-overload]
        s["reason"] = "pre_period_too_short"
    elif not float(s["pre_fit"]) <= max_pre_fit:  # type: ignore[arg-type]
        s["reason"] = "poor_pre_fit"
    elif 1.0 / (k + 1) > alpha:
        s["reason"] = "too_few_donors"
    if s["reason"] is not None:
        s["p_value"] = np.nan  # not meaningful: never shown as if it were
        return
    est = float(s["estimate"])  # type: ignore[arg-type]
    p = float(s["p_value"])  # type: ignore[arg-type]
    s["verdict"] = (
        direction_verdict(est, str(s["indicator"])) if p <= alpha else "no_detectable_difference"
    )


def _nearest(target: np.ndarray, donors: np.ndarray, pos: np.ndarray, k: int | None) -> np.ndarray:
    """Return the positions `pos` of the `k` donors nearest to `target` (standardised path).

    `target` (T,) and `donors` (J, T): pre-period values; each year is divided by its standard
    deviation across the donors.
    """
    if k is None or len(pos) <= k:
        return pos
    sd = donors.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    d = np.sqrt((((donors - target) / sd) ** 2).sum(axis=1))
    return np.sort(pos[np.argsort(d, kind="stable")[:k]])


def _fit_all(
    y: np.ndarray, fit_rows: np.ndarray, x: np.ndarray | None, *, placebo: bool
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Return the treated weights, the placebo weights (J, J) or None, and V.

    `y` (T, 1 + J): the treated then the donors over all years; `fit_rows` the pre-period
    years the fit is judged on; `x` (c, 1 + J) the covariates or None. Each covariate is
    divided by its standard deviation over the units of the fit (the treated quartier is not
    one of the placebos' units), as pysyncon does.
    """
    z = y[fit_rows]
    if x is None:
        wp = placebo_weights(z[:, 1:]) if placebo else None
        return simplex_weights(z[:, 0], z[:, 1:]), wp, None
    xs = x / x.std(axis=1, ddof=1, keepdims=True)
    w, v = nested_weights(xs[:, 0], xs[:, 1:], z[:, 0], z[:, 1:])
    if not placebo:
        return w, None, v
    xp = x[:, 1:] / x[:, 1:].std(axis=1, ddof=1, keepdims=True)
    n = z.shape[1] - 1
    wp = np.zeros((n, n))
    for j in range(n):  # each placebo gets its own V, as the treated did
        others = np.r_[0:j, j + 1 : n]
        zp = z[:, 1:]
        wp[j, others] = nested_weights(xp[:, j], xp[:, others], zp[:, j], zp[:, others])[0]
    return w, wp, v


def synthetic_control(
    panel: pd.DataFrame,
    code: str,
    indicator: str,
    year: int,
    *,
    treated: Sequence[str] = (),
    n_donors: int | None = 50,
    covariates: Mapping[str, Sequence[int]] | None = None,
    pre_years: Sequence[int] | None = None,
    series: str | None = None,
    level: str | None = "qpv",
    min_pre_periods: int = 5,
    max_pre_fit: float = 0.25,
    alpha: float = 0.1,
    placebo: bool = True,
    matrix: tuple[pd.DataFrame, str] | None = None,
    names: Mapping[str, str | None] | None = None,
) -> SyntheticControl:
    r"""Return the synthetic control of quartier `code` for `indicator`, intervention in `year`.

    Parameters
    ----------
    panel : pandas.DataFrame
        :func:`cdv_geo.metrics.panel.indicator_panel` of the national files (the donor pool).
    code : str
        The quartier evaluated.
    indicator : str
        The outcome (``poverty_rate``, ``median_income``...).
    year : int
        First year of the intervention: years before it are the pre-period.
    treated : sequence of str
        Other quartiers that had a comparable programme: never donors.
    n_donors : int or None, default 50
        Donors kept: the nearest to the quartier on its standardised pre-period path (None:
        every quartier with a complete series). Restricting the pool to similar units limits
        interpolation bias (Abadie 2021, §3.2).
    covariates : mapping, optional
        ``{indicator: years}``: predictors (their mean over those years) matched besides the
        path; V is then chosen by nested optimisation (:func:`nested_weights`).
    pre_years : sequence of int, optional
        The pre-period years the fit is judged on (default: every year before `year`).
    series : str, optional
        The series of the indicator (default: its most complete, see
        :func:`~cdv_geo.metrics.panel.panel_matrix`).
    level : str or None, default "qpv"
        Level of the codes in `panel` (None: all).
    min_pre_periods : int, default 5
        Fewer pre-period years: no p-value, verdict ``cannot_conclude`` /
        ``pre_period_too_short``. With 2–4 points a blend of 50 donors fits almost any path,
        and the placebo ratios then measure noise, not an effect.
    max_pre_fit : float, default 0.25
        Largest pre-period RMSPE, as a share of the spread (standard deviation) of the
        indicator across the donor pool, for the fit to count as good; above it:
        ``poor_pre_fit`` (the quartier lies outside what the donors can reproduce).
    alpha : float, default 0.1
        Level of the placebo test; with fewer than ``1 / alpha - 1`` donors no p-value can
        reach it (``too_few_donors``).
    placebo : bool, default True
        Run the placebo-in-space refits (False: weights and gaps only, no p-value, reason
        ``placebo_not_run``).
    matrix : (DataFrame, str), optional
        The indicator's :func:`~cdv_geo.metrics.panel.panel_matrix` and series, when already
        built (a batch over many quartiers); `series` and `level` are then not used for it.
    names : mapping, optional
        ``{code: name}`` (default: :func:`~cdv_geo.metrics.panel.code_names` of `panel`).

    Returns
    -------
    SyntheticControl
        ``summary`` (:data:`SC_COLUMNS`), ``weights`` (code, name, weight), ``path`` (treated,
        synthetic, gap by year), ``placebos`` and ``placebo_gaps``.

    Raises
    ------
    DataValidationError
        When `code` or `indicator` is not in the panel.

    Notes
    -----
    Weights :math:`w^* = \arg\min_{w \ge 0, \sum w = 1} \|x_1 - X_0 w\|_V` (Abadie, Diamond &
    Hainmueller 2010, eq. 3): without covariates the predictors are the pre-period values and
    :math:`V = I`; with covariates (each scaled by its standard deviation across units, as
    pysyncon does) V minimises the pre-period outcome loss. Gap
    :math:`\hat\alpha_t = Y_{1t} - \sum_j w_j^* Y_{jt}`; ``estimate`` is its mean over the
    post-period. RMSPE over the pre-period (the fit years) and the post-period;
    ``pre_fit`` = pre-RMSPE / (mean over pre years of the donors' cross-sectional standard
    deviation). Placebo in space: every donor is refitted as if treated, from the other donors
    (the quartier itself never a donor), and
    :math:`p = (1 + \#\{j: r_j \ge r_1\}) / (1 + J)` with :math:`r` the post/pre RMSPE ratio
    (ADH 2010, §III.B; Abadie 2021, §3.3). A p-value is given only when the pre-period is long
    enough, the fit good and the donors numerous enough; otherwise it is NaN, the verdict
    ``cannot_conclude`` and ``reason`` says why.

    References
    ----------
    Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic Control Methods for Comparative
    Case Studies. *JASA* 105(490): 493–505. Abadie, A. (2021). Using Synthetic Controls:
    Feasibility, Data Requirements, and Methodological Aspects. *J. Econ. Lit.* 59(2): 391–425.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from cdv_geo.metrics.panel import indicator_panel
    >>> rng = np.random.default_rng(0)
    >>> years = list(range(2010, 2023))
    >>> rows = [(f"QP{i:06d}", y, 0.3 + 0.01 * i + 0.002 * (y - 2010) * (i % 3)
    ...          + rng.normal(0, 0.002) - (0.05 if i == 15 and y >= 2018 else 0))
    ...         for i in range(30) for y in years]
    >>> t = pd.DataFrame(rows, columns=["code", "year", "value"]).assign(
    ...     indicator="poverty_rate", level="qpv")
    >>> sc = synthetic_control(indicator_panel(t), "QP000015", "poverty_rate", 2018)
    >>> s = sc.summary
    >>> round(s["estimate"], 2), s["p_value"] < 0.1, s["verdict"]
    (-0.05, True, 'better')
    """
    m, series = matrix or panel_matrix(panel, indicator, series=series, level=level)
    names = code_names(panel) if names is None else names
    name = names.get(code)
    s = _summary(code, name, indicator, series, year)
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
    vals = m.to_numpy(dtype=float)  # positions from here: label lookups cost more than fits
    cols = np.asarray(m.columns, dtype=int)
    i0 = int(m.index.get_loc(code))  # type: ignore[arg-type]
    have = ~np.isnan(vals[i0])
    years = cols[have].tolist()
    pre = [y for y in years if y < year and (pre_years is None or y in set(pre_years))]
    post = [y for y in years if y >= year]
    s["n_pre"], s["n_post"] = len(pre), len(post)
    if not pre or not post:
        s["reason"] = "no_pre_period" if not pre else "no_post_period"
        return SyntheticControl(s)
    pos = donor_positions(m, code, years, exclude=treated)
    cov = None
    if covariates:
        cov = _covariates(panel, covariates, level).reindex(m.index).to_numpy(dtype=float)
        pos = pos[~np.isnan(cov[pos]).any(axis=1)]
    pre_cols = np.isin(cols, pre)
    spread = float(vals[pos][:, pre_cols].std(axis=0, ddof=1).mean()) if len(pos) > 1 else np.nan
    pos = _nearest(vals[i0, pre_cols], vals[pos][:, pre_cols], pos, n_donors)
    pool = m.index[pos].tolist()
    s["n_donors"] = len(pool)
    if len(pool) < 2:
        s["reason"] = "too_few_donors"
        return SyntheticControl(s)
    rows = np.r_[i0, pos]
    y = vals[rows][:, have].T
    fit_rows = np.isin(years, pre)
    x = None if cov is None else cov[rows].T
    w, wp, v = _fit_all(y, fit_rows, x, placebo=placebo)
    gap = y[:, 0] - y[:, 1:] @ w
    # column j: donor j against its own synthetic control (none without placebos)
    pgap = y[:, 1:] - y[:, 1:] @ wp.T if wp is not None else np.empty((len(years), 0))
    post_rows = ~np.isin(years, years[: years.index(post[0])])
    floor = 1e-12 * max(float(np.nanmax(np.abs(y))), 1.0)  # a perfect pre-fit divides by ~0
    pre_r = np.maximum(_rmspe(np.c_[gap, pgap], fit_rows), floor)
    post_r = _rmspe(np.c_[gap, pgap], post_rows)
    ratio = post_r / pre_r
    s.update(
        estimate=float(gap[post_rows].mean()),
        pre_rmspe=float(_rmspe(gap[:, None], fit_rows)[0]),
        post_rmspe=float(post_r[0]),
        rmspe_ratio=float(ratio[0]),
        pre_fit=float(_rmspe(gap[:, None], fit_rows)[0]) / spread if spread > 0 else np.nan,
        p_value=float((1 + np.sum(ratio[1:] >= ratio[0])) / len(ratio)) if placebo else np.nan,
    )
    if s["unit"] == "fraction":
        s["estimate_pp"] = 100.0 * float(s["estimate"])  # type: ignore[arg-type]
    _verdict(s, min_pre=min_pre_periods, max_pre_fit=max_pre_fit, alpha=alpha)
    if not placebo and s["reason"] is None:
        s["verdict"], s["reason"] = "cannot_conclude", "placebo_not_run"
    donors = pd.Index(pool if placebo else [], name="code")
    weights = pd.DataFrame(
        {
            "code": pool,
            "name": [names.get(c) for c in pool],
            "weight": w,
        }
    )
    weights = weights[weights["weight"] > 1e-6].sort_values("weight", ascending=False)
    path = pd.DataFrame(
        {"treated": y[:, 0], "synthetic": y[:, 0] - gap, "gap": gap, "post": post_rows},
        index=pd.Index(years, name="year"),
    )
    placebos = pd.DataFrame(
        {"pre_rmspe": pre_r[1:], "post_rmspe": post_r[1:], "rmspe_ratio": ratio[1:]}, index=donors
    )
    pgaps = pd.DataFrame(pgap, index=pd.Index(years, name="year"), columns=donors)
    return SyntheticControl(s, weights.reset_index(drop=True), path, placebos, pgaps, v)


def synthetic_table(
    panel: pd.DataFrame,
    code: str,
    indicators: Sequence[str],
    year: int,
    *,
    matrices: Mapping[str, tuple[pd.DataFrame, str]] | None = None,
    **options: object,
) -> pd.DataFrame:
    """Return one row per indicator (:data:`SC_COLUMNS`) of :func:`synthetic_control`.

    `matrices` (:func:`~cdv_geo.metrics.panel.panel_matrices`) saves rebuilding them for each
    quartier of a batch. `options` are those of :func:`synthetic_control`. An indicator the
    panel does not hold gives a row with NaN figures, verdict ``cannot_conclude`` and reason
    ``treated_not_in_panel``.

    Examples
    --------
    >>> import pandas as pd
    >>> from cdv_geo.metrics.panel import indicator_panel
    >>> t = pd.DataFrame({"code": ["QP1", "QP1", "QP2", "QP2"], "year": [2019, 2021] * 2,
    ...                   "value": [0.4, 0.38, 0.3, 0.31], "indicator": "poverty_rate",
    ...                   "level": "qpv"})
    >>> r = synthetic_table(indicator_panel(t), "QP1", ["poverty_rate", "median_income"], 2021)
    >>> r[["indicator", "n_pre", "verdict", "reason"]]
           indicator  n_pre          verdict                reason
    0   poverty_rate      1  cannot_conclude        too_few_donors
    1  median_income   <NA>  cannot_conclude  treated_not_in_panel
    """
    return per_indicator(
        synthetic_control,
        lambda c, ind, y: _summary(c, None, ind, "", y),
        panel,
        code,
        indicators,
        year,
        columns=SC_COLUMNS,
        counts=("n_pre", "n_post", "n_donors"),
        matrices=matrices,
        options=options,
    )
