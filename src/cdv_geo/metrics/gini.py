"""Gini indices: exact (weighted) from individual data, approximate from grouped data.

:func:`gini` and :func:`gini_from_grouped` compute; :func:`estimate_missing_gini` adds an
estimate (flagged ``"estimated"``) to an indicator table where no Gini is published.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.errors import CdvGeoError, DataValidationError, Problem

__all__ = ["estimate_missing_gini", "gini", "gini_from_grouped"]


def _array(values: Any, what: str) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataValidationError([Problem(f"{what} must be numbers: {exc}", field=what)]) from exc
    if a.ndim != 1:
        raise DataValidationError([Problem(f"{what} must be one-dimensional", field=what)])
    if a.size == 0:
        raise DataValidationError([Problem(f"{what} is empty", field=what)])
    if not np.isfinite(a).all():
        raise DataValidationError(
            [
                Problem(
                    f"{what} holds {int((~np.isfinite(a)).sum())} missing or infinite "
                    "value(s); drop them first (e.g. values[~np.isnan(values)])",
                    field=what,
                )
            ]
        )
    return a


def gini(values: Any, weights: Any = None) -> float:
    r"""Exact Gini index of individual (optionally weighted) data.

    With the values sorted, :math:`x_1 \le \dots \le x_n`, weights :math:`w_i`,
    :math:`W = \sum w_i` and the cumulated incomes :math:`S_i = \sum_{k \le i} w_k x_k`:

    .. math:: G = 1 - \frac{1}{W S_n} \sum_i w_i (S_{i-1} + S_i)

    which is one minus twice the area under the Lorenz curve, and equals the mean absolute
    difference :math:`\sum_i \sum_j w_i w_j |x_i - x_j| / (2 W^2 \bar{x})`. An integer
    weight is exactly equivalent to repeating the value. No small-sample correction
    (:math:`n / (n - 1)`) is applied, as in INSEE's publications.

    Parameters
    ----------
    values : array-like
        Incomes (or any non-negative quantity); their total must be positive.
    weights : array-like, optional
        Non-negative weights (e.g. persons per household, survey weights).

    Returns
    -------
    float
        In [0, 1) for non-negative values.

    Raises
    ------
    DataValidationError
        Empty input, missing values, negative weights, or a total that is not positive.

    References
    ----------
    Gini, C. (1912). *Variabilità e mutabilità*. Lerman, R. I. & Yitzhaki, S. (1989).
    Improving the accuracy of estimates of Gini coefficients. *Journal of Econometrics*, 42(1).

    Examples
    --------
    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 10])  # one person holds everything: (n - 1) / n
    0.75
    >>> gini([1, 2], weights=[2, 1]) == gini([1, 1, 2])
    True
    """
    x = _array(values, "values")
    w = np.ones_like(x) if weights is None else _array(weights, "weights")
    if w.shape != x.shape:
        raise DataValidationError(
            [Problem(f"weights ({w.size}) and values ({x.size}) differ in length", field="weights")]
        )
    if (w < 0).any():
        raise DataValidationError([Problem("weights must be >= 0", field="weights")])
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = np.cumsum(w * x)
    total_w, total = float(w.sum()), float(cum[-1])
    if total_w <= 0 or total <= 0:
        raise DataValidationError(
            [
                Problem(
                    "the total (weighted) value must be positive to compute a Gini index",
                    field="values",
                )
            ]
        )
    prev = np.concatenate(([0.0], cum[:-1]))
    g = 1.0 - float(np.sum(w * (prev + cum))) / (total_w * total)
    return max(g, 0.0) if abs(g) < 1e-12 else g


def gini_from_grouped(
    shares: Any = None,
    *,
    thresholds: Any = None,
    population: Any = None,
) -> float:
    r"""Approximate Gini index from grouped data (income shares or decile thresholds).

    **An approximation.** Where INSEE publishes the Gini (``DISP_GI``), use the published
    value (:func:`read_indicators` reads it as ``gini``); this function is for areas where
    only grouped data exist (see :func:`estimate_missing_gini`).

    - From **income shares** of ordered population groups (e.g. the share of total income
      held by each tenth of the population, poorest first), the Lorenz curve is drawn as
      straight lines through the points :math:`(P_k, L_k)` and
      :math:`G = 1 - \sum_k (P_k - P_{k-1})(L_k + L_{k-1})`. Inequality *within* each group
      is ignored, so the result **underestimates** the Gini (a lower bound).
    - From the nine **decile thresholds** D1…D9 (what Filosofi publishes), the mean income of
      each tenth is approximated: the midpoint of its two thresholds for the eight middle
      tenths, :math:`D1 \sqrt{D1/D2}` for the first (the spacing of the deciles continued
      geometrically), and for the top tenth a Pareto tail through D8 and D9
      (:math:`\alpha = \ln 2 / \ln(D9/D8)`, mean :math:`\alpha D9 / (\alpha - 1)`); the
      resulting shares go through the formula above. On unimodal income distributions
      (lognormal, gamma, Pareto) the error is about 0.01 to 0.02; it is larger for a mixed
      (bimodal) population, as a QPV next to a wealthy quartier within one area can be.

    Parameters
    ----------
    shares : array-like, optional
        Income share of each group, poorest first (summing to 1, or to 100).
    thresholds : array-like, optional
        The nine decile thresholds D1…D9, increasing (instead of `shares`).
    population : array-like, optional
        Population share of each group (default: equal groups).

    Returns
    -------
    float

    References
    ----------
    Gastwirth, J. L. (1972). The estimation of the Lorenz curve and Gini index. *Review of
    Economics and Statistics*, 54(3), 306-316.

    Examples
    --------
    >>> round(gini_from_grouped([0.1] * 10), 6)
    0.0
    >>> round(gini_from_grouped([0.0, 1.0], population=[0.5, 0.5]), 3)
    0.5
    >>> d = [9000, 10500, 11800, 13000, 14300, 15700, 17400, 19800, 24000]
    >>> round(gini_from_grouped(thresholds=d), 3)
    0.224
    """
    if (shares is None) == (thresholds is None):
        raise CdvGeoError("give either shares or thresholds= (not both, not neither)")
    if thresholds is not None:
        shares = _shares_from_thresholds(_array(thresholds, "thresholds"))
    s = _array(shares, "shares")
    if (s < 0).any():
        raise DataValidationError([Problem("income shares must be >= 0", field="shares")])
    total = s.sum()
    if abs(total - 100) < 1e-6 * 100:
        s = s / 100
    elif abs(total - 1) > 1e-6:
        raise DataValidationError(
            [
                Problem(
                    f"income shares sum to {total:g}; they must sum to 1 (or 100)", field="shares"
                )
            ]
        )
    pop = np.full(s.size, 1 / s.size) if population is None else _array(population, "population")
    if pop.size != s.size or (pop < 0).any() or abs(pop.sum() - 1) > 1e-6:
        raise DataValidationError(
            [
                Problem(
                    "population shares must be >= 0, one per group, and sum to 1",
                    field="population",
                )
            ]
        )
    cum_p = np.concatenate(([0.0], np.cumsum(pop)))
    cum_l = np.concatenate(([0.0], np.cumsum(s)))
    return float(1.0 - np.sum(np.diff(cum_p) * (cum_l[1:] + cum_l[:-1])))


def _shares_from_thresholds(d: np.ndarray) -> np.ndarray:
    if d.size != 9 or (np.diff(d) <= 0).any() or d[0] <= 0:
        raise DataValidationError(
            [
                Problem(
                    "thresholds must be the nine increasing, positive deciles D1..D9",
                    field="thresholds",
                )
            ]
        )
    alpha = math.log(2) / math.log(d[8] / d[7])
    if alpha <= 1:
        raise DataValidationError(
            [
                Problem(
                    f"D9/D8 = {d[8] / d[7]:.2f} implies a Pareto tail with infinite mean; the "
                    "grouped approximation does not apply",
                    field="thresholds",
                )
            ]
        )
    means = np.empty(10)
    means[0] = d[0] * math.sqrt(d[0] / d[1])  # geometric extrapolation below D1
    means[1:9] = (d[:-1] + d[1:]) / 2
    means[9] = alpha * d[8] / (alpha - 1)  # Pareto tail through D8 and D9
    return means / means.sum()


def estimate_missing_gini(table: pd.DataFrame) -> pd.DataFrame:
    """Add a Gini estimated from the deciles where no Gini is published (flag ``"estimated"``).

    The published Gini is kept as is wherever it exists, *including* where it is secret
    (``flag`` ``"s"``: secret data must not be re-derived). Elsewhere, when ``income_d1`` …
    ``income_d9`` are all known, a row ``gini`` with :func:`gini_from_grouped` (thresholds) is
    added, its ``flag`` set to ``"estimated"``.

    Examples
    --------
    >>> d = [9000, 10500, 11800, 13000, 14300, 15700, 17400, 19800, 24000]
    >>> t = pd.DataFrame({"code": "Q1", "name": None, "level": "qpv",
    ...                   "indicator": [f"income_d{k}" for k in range(1, 10)], "year": 2021,
    ...                   "value": [float(v) for v in d], "flag": None})
    >>> out = estimate_missing_gini(t)
    >>> out.loc[out["indicator"] == "gini", ["value", "flag"]].round(3)
       value       flag
    9  0.224  estimated
    """
    keys = ["code", "year", "source"] if "source" in table.columns else ["code", "year"]
    have = set(map(tuple, table.loc[table["indicator"] == "gini", keys].to_numpy()))
    names = [f"income_d{k}" for k in range(1, 10)]
    dec = table[table["indicator"].isin([*names, "median_income"])]
    rows = []
    for key, grp in dec.groupby(keys, sort=True):
        vals = grp.drop_duplicates("indicator").set_index("indicator")["value"]
        if "income_d5" not in vals and "median_income" in vals:  # D5 is the median
            vals["income_d5"] = vals["median_income"]
        if tuple(key) in have or not all(n in vals for n in names) or vals[names].isna().any():
            continue
        first = grp.iloc[0]
        rows.append(
            {
                **first.to_dict(),
                "indicator": "gini",
                "flag": "estimated",
                "value": gini_from_grouped(thresholds=[float(vals[n]) for n in names]),
                "source_column": "gini_from_grouped(income_d1..d9)",
            }
        )
    if not rows:
        return table.copy()
    out = pd.concat([table, pd.DataFrame(rows)], ignore_index=True)
    out.attrs.update(table.attrs)
    return out
