"""Did it work? The evaluation step of a run: each quartier against its counterfactual.

:func:`step_evaluation` reads the project's ``[evaluation]`` section
(:func:`cdv_geo.territory.project.read_evaluation`): the national donor panel (INSEE files of
every QPV), the intervention year of each quartier, the indicators evaluated and the quartiers
that had a comparable programme. For each quartier of the territory with a year it runs the
difference-in-differences (:func:`cdv_geo.metrics.did.did_estimate`) and the synthetic control
(:func:`cdv_geo.metrics.synthetic_control.synthetic_control`) of every indicator, and keeps one
table, :attr:`Metrics.evaluation <cdv_geo.pipeline.Metrics>` (:data:`EVALUATION_COLUMNS`, one row
per quartier, indicator and method, with the verdict in words through the label catalogue).

The yearly paths the charts draw (the quartier, its synthetic twin, the band of the placebo
quartiers' gaps around the twin) are kept in ``evaluation.attrs["paths"]``
(:data:`PATH_COLUMNS`).

The territory's own quartiers with an intervention year are never comparisons of one another
(they are treated too), nor are the project's ``treated`` quartiers.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.errors import DataValidationError
from cdv_geo.metrics.did import DID_COLUMNS, did_estimate
from cdv_geo.metrics.panel import code_names, indicator_panel, panel_matrices
from cdv_geo.metrics.synthetic_control import SC_COLUMNS, synthetic_control
from cdv_geo.pipeline.results import Metrics, Note

__all__ = [
    "EVALUATION_COLUMNS",
    "EVALUATION_OUTPUTS",
    "INDEX",
    "PATH_COLUMNS",
    "evaluate_quartiers",
    "step_evaluation",
]

#: The tables this step makes.
EVALUATION_OUTPUTS = ("evaluation",)
#: Columns of the ``evaluation`` table: those of both methods, in order.
EVALUATION_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys((*DID_COLUMNS, *SC_COLUMNS)))
#: The index of the ``evaluation`` table (the first columns of :data:`EVALUATION_COLUMNS`...).
INDEX: tuple[str, ...] = ("quartier", "indicator", "method")
#: Columns of ``evaluation.attrs["paths"]`` (the synthetic control's charts).
PATH_COLUMNS: tuple[str, ...] = (
    "quartier",
    "indicator",
    "year",
    "treated",
    "synthetic",
    "band_low",
    "band_high",
    "post",
)


def _empty_row(method: str, code: str, name: Any, indicator: str, year: int | None) -> dict:
    row: dict[str, Any] = dict.fromkeys(EVALUATION_COLUMNS, np.nan)
    row.update(
        quartier=code,
        name=name,
        indicator=indicator,
        series="",
        unit=None,
        method=method,
        intervention_year=np.nan if year is None else int(year),
        verdict="cannot_conclude",
        reason="treated_not_in_panel" if year is not None else "no_intervention_year",
    )
    return row


def _path(code: str, indicator: str, sc: Any) -> pd.DataFrame:
    """Return the chart rows of one synthetic control: quartier, twin, placebo band."""
    p = sc.path
    if p.empty:
        return pd.DataFrame(columns=list(PATH_COLUMNS))
    gaps = sc.placebo_gaps.reindex(p.index) if not sc.placebo_gaps.empty else None
    low = p["synthetic"] + (gaps.min(axis=1) if gaps is not None else np.nan)
    high = p["synthetic"] + (gaps.max(axis=1) if gaps is not None else np.nan)
    return pd.DataFrame(
        {
            "quartier": code,
            "indicator": indicator,
            "year": p.index.astype(int),
            "treated": p["treated"].to_numpy(float),
            "synthetic": p["synthetic"].to_numpy(float),
            "band_low": np.asarray(low, float),
            "band_high": np.asarray(high, float),
            "post": p["post"].to_numpy(bool),
        }
    )


#: The fewest pre-intervention years for a synthetic control's p-value: the default
#: ``min_pre_periods`` of :func:`~cdv_geo.metrics.synthetic_control.synthetic_control`.
MIN_PRE_YEARS: int = inspect.signature(synthetic_control).parameters["min_pre_periods"].default


def _pre_years(matrix: pd.DataFrame, code: str, year: int) -> int:
    """Count the years before `year` with a value of `code` in a panel matrix (code x year)."""
    row = matrix.loc[code]
    return int(np.count_nonzero(row[[c for c in row.index if int(c) < year]].notna().to_numpy()))


def evaluate_quartiers(
    panel: pd.DataFrame,
    years: Mapping[str, int | None],
    indicators: Sequence[str],
    *,
    treated: Sequence[str] = (),
    names: Mapping[str, Any] | None = None,
    exclude_evaluated: bool = True,
    matrices: Mapping[str, tuple[pd.DataFrame, str]] | None = None,
    charts: bool = True,
) -> pd.DataFrame:
    """Return the evaluation table of quartiers `years` (code -> intervention year or None).

    Each quartier gets, for every indicator, a difference-in-differences row and a synthetic
    control row (:data:`EVALUATION_COLUMNS`, indexed by :data:`INDEX`); a quartier without
    a year gets rows with verdict ``cannot_conclude`` and reason ``no_intervention_year``, an
    indicator the panel lacks the reason ``treated_not_in_panel``. Every quartier of `years`
    with a year, and `treated`, are left out of the comparisons (`exclude_evaluated` False:
    only `treated`, for a national run where each quartier is evaluated on its own). The chart
    rows are in ``attrs["paths"]``. `matrices` (:func:`~cdv_geo.metrics.panel.panel_matrices`)
    saves rebuilding them for each batch of quartiers. `charts` False (a national run, which
    draws no chart) skips the chart rows, and the placebo refits of a quartier whose
    pre-period is too short for a p-value (the verdict says so before it would use one): the
    table is the same.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> codes = [f"QP{i:03d}" for i in range(30)]
    >>> t = pd.DataFrame([(c, y, 0.4 + 0.01 * rng.standard_normal()) for c in codes
    ...                   for y in (2017, 2018, 2019, 2021, 2022)],
    ...                  columns=["code", "year", "value"]).assign(indicator="poverty_rate",
    ...                                                            level="qpv")
    >>> r = evaluate_quartiers(indicator_panel(t), {"QP000": 2021, "QP001": None},
    ...                        ["poverty_rate"])
    >>> r.reset_index()[["quartier", "method", "verdict", "reason"]]
      quartier             method                   verdict                reason
    0    QP000                did  no_detectable_difference          other_method
    1    QP000  synthetic_control           cannot_conclude  pre_period_too_short
    2    QP001                did           cannot_conclude  no_intervention_year
    3    QP001  synthetic_control           cannot_conclude  no_intervention_year
    """
    names = dict(names) if names is not None else code_names(panel)
    if matrices is None:
        matrices = panel_matrices(panel, list(indicators))
    evaluated = [c for c, y in years.items() if y is not None] if exclude_evaluated else []
    marked = list(dict.fromkeys([*treated, *evaluated]))
    rows: list[dict[str, Any]] = []
    paths: list[pd.DataFrame] = []
    for code, year in years.items():
        others = [c for c in marked if c != code]
        for ind in indicators:
            mat = matrices.get(ind)
            for method in ("did", "synthetic_control"):
                row = _empty_row(method, code, names.get(code), ind, year)
                if year is None or mat is None or code not in mat[0].index:
                    rows.append(row)
                    continue
                res: Any
                try:
                    if method == "did":
                        res = did_estimate(
                            panel, code, ind, year, treated=others, matrix=mat, names=names
                        )
                    else:
                        res = synthetic_control(
                            panel,
                            code,
                            ind,
                            year,
                            treated=others,
                            matrix=mat,
                            names=names,
                            placebo=charts or _pre_years(mat[0], code, year) >= MIN_PRE_YEARS,
                        )
                        if charts:
                            paths.append(_path(code, ind, res))
                except DataValidationError:
                    rows.append(row)
                    continue
                row.update(res.summary)
                rows.append(row)
    out = pd.DataFrame(rows, columns=list(EVALUATION_COLUMNS))
    counts = ["n_pre", "n_post", "n_comparisons", "n_donors"]
    out[counts] = out[counts].astype("Int64")
    out["intervention_year"] = out["intervention_year"].astype("Int64")
    # each method leaves the other's columns empty: say so (a NaN always has its reason)
    numeric = out.select_dtypes("number")
    unexplained = numeric.isna().any(axis=1) & out["reason"].isna()
    out.loc[unexplained, "reason"] = "other_method"
    # indexed like the other per-quartier tables: what each row is about, then its figures
    out = out.set_index(list(INDEX))
    out.attrs["paths"] = (
        pd.concat(paths, ignore_index=True) if paths else pd.DataFrame(columns=list(PATH_COLUMNS))
    )
    return out


def step_evaluation(t: Any, m: Metrics, run: Any) -> None:
    """Compute ``m.evaluation`` from the project's ``[evaluation]`` section.

    A project without the section leaves it None (an evaluation is asked for, never assumed);
    a territory without quartiers too, with a ``missing_layer`` note (topic ``indicators``); a
    quartier without an intervention year gets rows that say so.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = Metrics()
    >>> step_evaluation(cg.datasets.soissons(), m, None)
    >>> r = m.evaluation
    >>> r.loc[("QP002013", "poverty_rate", "synthetic_control"), ["verdict", "reason"]].tolist()
    ['cannot_conclude', 'pre_period_too_short']
    >>> r.loc[("QP002014", "poverty_rate", "did"), "reason"]
    'no_post_period'
    """
    from cdv_geo.io.insee import read_indicators
    from cdv_geo.territory.project import read_evaluation

    cfg = read_evaluation(getattr(t, "project_file", None))
    if cfg is None:  # an evaluation is asked for, never assumed: no section, no table, no note
        return
    if t.quartiers is None:
        m.notes.append(
            Note(
                "missing_layer",
                "indicators",
                "Evaluation skipped: no quartiers layer.",
                {"layer": "quartiers"},
            )
        )
        return
    with warnings.catch_warnings():
        # the national files' quality notes are about other quartiers: not this run's data
        warnings.simplefilter("ignore", UserWarning)
        national = read_indicators(cfg["donors"])
    inds = cfg["indicators"] or sorted(set(national["indicator"]) - {"population"})
    panel = indicator_panel(national, keep=inds)
    codes = [str(c) for c in t.quartiers["code"]]
    years = {c: cfg["years"].get(c) for c in codes}
    names = {**code_names(panel), **dict(zip(codes, t.quartiers["name"], strict=True))}
    table = evaluate_quartiers(panel, years, inds, treated=cfg["treated"], names=names)
    table.attrs["illustrative"] = cfg["illustrative"]
    table.attrs["vintages"] = sorted(int(y) for y in panel["year"].dropna().unique())
    m.evaluation = table
