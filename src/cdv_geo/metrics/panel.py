"""The national QPV panel: one tidy table quartier × year × indicator for evaluations over time.

:func:`indicator_panel` turns the long table of :func:`cdv_geo.read_indicators` (one row per code,
indicator, vintage and source) into the panel the evaluations read
(:func:`~cdv_geo.metrics.did.did_estimate`,
:func:`~cdv_geo.metrics.synthetic_control.synthetic_control`): the unit of each indicator,
secrecy and empty cells kept as flags, the quartier's population for weights, and the **series
breaks made explicit** so that no evaluation joins two different measures silently:

- a change of source (the poverty rate of REVN and of Filosofi) or of published column between two
  vintages (INSEE's ``CCMUC``, CMU-C, became ``CC2S``, complémentaire santé solidaire, in 2021): a
  new ``series``, the first vintage of which has ``series_break`` set;
- the 2024 redraw of the QPV: codes ``QP…`` (2015 generation) and ``QN…`` (2024 generation) are
  different quartiers (``generation`` column), never the same panel unit.

:func:`panel_matrix` then gives the code × year matrix of one indicator and one series, which the
estimators fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.io.insee.registry import INDICATORS, SECRECY_CODES

__all__ = [
    "PANEL_COLUMNS",
    "REASONS",
    "VERDICTS",
    "code_names",
    "direction_verdict",
    "donor_pool",
    "donor_positions",
    "generation",
    "indicator_panel",
    "panel_matrices",
    "panel_matrix",
    "per_indicator",
    "summary_row",
]

#: Columns of :func:`indicator_panel`, in order.
PANEL_COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "level",
    "generation",
    "indicator",
    "year",
    "value",
    "unit",
    "flag",
    "secret",
    "empty",
    "source",
    "source_column",
    "series",
    "series_break",
    "population",
    "population_year",
)
_NEEDED = ("code", "indicator", "year", "value")
_SECRET = {k for k in SECRECY_CODES if k}


def generation(code: str) -> str | None:
    """Return the QPV generation of a code: ``"qpv_2015"`` (``QP…``), ``"qpv_2024"`` (``QN…``).

    Other codes (communes, the all-QPV row) have none.

    Examples
    --------
    >>> generation("QP002013"), generation("QN00201M"), generation("02722")
    ('qpv_2015', 'qpv_2024', None)
    """
    head = str(code)[:2].upper()
    return {"QP": "qpv_2015", "QN": "qpv_2024"}.get(head)


def _breaks(out: pd.DataFrame) -> pd.Series:
    """Return the break of each row: None, ``"source"`` or ``"definition"``.

    Within one code and indicator, a source's first vintage after vintages of another source,
    when no other source gives that vintage (the series switches source), is a ``source``
    break; two sources giving the same vintages are parallel series (``series`` tells them
    apart). Within one source, a vintage whose published column differs from the previous
    vintage's is a ``definition`` break.
    """
    key = ["code", "indicator", "source"]
    prev_col = out.groupby(key, sort=False)["source_column"].shift()
    first_of_source = prev_col.isna()
    earliest = out.groupby(["code", "indicator"], sort=False)["year"].transform("min")
    alone = out.groupby(["code", "indicator", "year"], sort=False)["source"].transform("size") == 1
    brk = pd.Series(None, index=out.index, dtype=object)
    brk[first_of_source & (out["year"] > earliest) & alone] = "source"
    brk[prev_col.notna() & (prev_col != out["source_column"])] = "definition"
    return brk.astype(object).where(brk.notna(), None)


def indicator_panel(
    indicators: pd.DataFrame,
    *,
    keep: Sequence[str] | None = None,
    levels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the tidy panel quartier × year × indicator of a long indicator table.

    Parameters
    ----------
    indicators : pandas.DataFrame
        The long table of :func:`cdv_geo.read_indicators` (``code``, ``indicator``, ``year``,
        ``value``; ``name``, ``level``, ``flag``, ``source``, ``source_column`` when present).
    keep : sequence of str, optional
        Indicators kept (default: all). ``population`` is read for the weights either way.
    levels : sequence of str, optional
        Levels kept (default: all; ``("qpv",)`` for the quartiers only).

    Returns
    -------
    pandas.DataFrame
        :data:`PANEL_COLUMNS`, one row per code, indicator, year and source, sorted by code,
        indicator, source, year: ``generation`` (``qpv_2015`` / ``qpv_2024`` / None), ``unit``
        (of :data:`cdv_geo.INDICATORS`; ``"as published"`` for other columns), ``secret``
        (a secrecy code: ``s``, ``nd``, ``ns``, ``c``), ``empty`` (an empty cell), ``series``
        (``source:published column``: the values one can compare over years), ``series_break``
        (None, ``"source"`` or ``"definition"``: this vintage starts a new series),
        ``population`` and ``population_year`` (the code's published population, of the same
        vintage or else the nearest one; NaN when none is published).

    Raises
    ------
    DataValidationError
        When a needed column is missing.

    Notes
    -----
    Breaks are never bridged here: an evaluation picks one ``series`` (:func:`panel_matrix`).
    The 2015 and 2024 QPV are different areas: a ``QP…`` and a ``QN…`` code are never joined,
    even when their names match.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({
    ...     "code": ["QP002013"] * 5, "name": "Presles", "level": "qpv",
    ...     "indicator": ["n_css", "n_css", "poverty_rate", "poverty_rate", "population"],
    ...     "year": [2019, 2021, 2019, 2021, 2019], "value": [1200, 1350, 0.55, float("nan"), 5766],
    ...     "flag": [None, None, None, "s", None], "source": "revn",
    ...     "source_column": ["CCMUC", "CC2S", "TP60", "TP60", "POP_MUN"]})
    >>> p = indicator_panel(t, keep=["n_css", "poverty_rate"])
    >>> p[["indicator", "year", "value", "secret", "series", "series_break", "population"]]
          indicator  year   value  secret              series series_break  population
    0         n_css  2019  1200.0   False         revn:CCMUC         None      5766.0
    1         n_css  2021  1350.0   False          revn:CC2S   definition      5766.0
    2  poverty_rate  2019     0.55   False        revn:TP60         None      5766.0
    3  poverty_rate  2021      NaN    True        revn:TP60         None      5766.0
    """
    missing = [c for c in _NEEDED if c not in indicators.columns]
    if missing:
        raise DataValidationError(
            [
                Problem(
                    f"the indicator table has no column {', '.join(missing)}; give the table "
                    "read by cdv_geo.read_indicators",
                    layer="indicators",
                )
            ]
        )
    t = indicators.copy()
    for col, default in (("name", None), ("level", None), ("flag", None)):
        if col not in t.columns:
            t[col] = default
    if "source" not in t.columns:
        t["source"] = "table"
    if "source_column" not in t.columns:
        t["source_column"] = t["indicator"]
    t["year"] = pd.to_numeric(t["year"]).astype("Int64")
    t["value"] = t["value"].astype(float)
    pop = _population(t)
    if levels is not None:
        t = t[t["level"].isin(list(levels))]
    if keep is not None:
        t = t[t["indicator"].isin(list(keep))]
    t = t.dropna(subset=["year"]).sort_values(["code", "indicator", "source", "year"])
    t = t.reset_index(drop=True)
    flag = t["flag"].astype(object).where(t["flag"].notna(), "").astype(str)
    # a flag is "; "-joined tokens: a secrecy code or "empty", then quality notes
    t["secret"] = flag.str.contains(rf"(?:^|; )(?:{'|'.join(_SECRET)})(?:;|$)", regex=True)
    t["empty"] = flag.str.contains(r"(?:^|; )empty(?:;|$)", regex=True)
    codes = t["code"].astype(str)
    gens = {c: generation(c) for c in codes.unique()}
    t["generation"] = codes.map(gens).astype(object)
    t["generation"] = t["generation"].where(t["generation"].notna(), None)
    units = {i: INDICATORS[i].unit for i in t["indicator"].unique() if i in INDICATORS}
    t["unit"] = t["indicator"].map(units).astype(object).fillna("as published")
    t["series"] = t["source"].astype(str) + ":" + t["source_column"].astype(str)
    t["series_break"] = _breaks(t)
    t = _with_population(t, pop)
    return t[list(PANEL_COLUMNS)]


def _population(t: pd.DataFrame) -> pd.DataFrame:
    """Return code, year, population of the published population rows (one per code, year)."""
    p = t[(t["indicator"] == "population") & t["value"].notna()]
    p = p.sort_values(["code", "year"]).drop_duplicates(["code", "year"])
    return p[["code", "year", "value"]].rename(columns={"value": "population"})


def _with_population(t: pd.DataFrame, pop: pd.DataFrame) -> pd.DataFrame:
    """Add each row's population: the same vintage, else the nearest (the earlier on a tie)."""
    t["population"] = np.nan
    t["population_year"] = pd.array([pd.NA] * len(t), dtype="Int64")
    if pop.empty or t.empty:
        return t
    published = {
        str(c): (g["year"].to_numpy(dtype=float), g["population"].to_numpy(dtype=float))
        for c, g in pop.groupby("code")
    }
    out_v = np.full(len(t), np.nan)
    out_y = np.full(len(t), np.nan)
    for code, idx in t.groupby("code", sort=False).indices.items():
        if str(code) not in published:
            continue
        ys, vs = published[str(code)]
        want = t["year"].to_numpy(dtype=float)[idx]
        # nearest published vintage; ties go to the earlier one (published before the value)
        j = np.argmin(np.abs(want[:, None] - ys[None, :]) + 1e-6 * (ys[None, :] > want[:, None]), 1)
        out_v[idx], out_y[idx] = vs[j], ys[j]
    t["population"] = out_v
    t["population_year"] = pd.array([None if np.isnan(y) else int(y) for y in out_y], dtype="Int64")
    return t


def panel_matrix(
    panel: pd.DataFrame,
    indicator: str,
    *,
    series: str | None = None,
    level: str | None = "qpv",
) -> tuple[pd.DataFrame, str]:
    """Return the code × year matrix of one indicator and one series, and that series.

    Parameters
    ----------
    panel : pandas.DataFrame
        A panel of :func:`indicator_panel`.
    indicator : str
        The indicator.
    series : str, optional
        The series (``"revn:TP60"``); default: the one with the most values.
    level : str or None, default "qpv"
        Level of the codes kept (None: every level).

    Returns
    -------
    (pandas.DataFrame, str)
        Values (NaN where secret, empty or not published), index ``code``, columns the years;
        and the series.

    Raises
    ------
    DataValidationError
        When the panel holds no value of `indicator` (or of `series`).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"code": ["QP1", "QP1", "QP2"], "indicator": "poverty_rate",
    ...                   "year": [2019, 2021, 2019], "value": [0.4, 0.38, 0.3], "level": "qpv"})
    >>> m, s = panel_matrix(indicator_panel(t), "poverty_rate")
    >>> m
    year  2019  2021
    code
    QP1    0.4  0.38
    QP2    0.3   NaN
    >>> s
    'table:poverty_rate'
    """
    rows = panel[panel["indicator"] == indicator]
    if level is not None:
        rows = rows[rows["level"] == level]
    if series is None and not rows.empty:
        series = str(rows.groupby("series")["value"].count().idxmax())
    rows = rows[rows["series"] == series]
    if rows.empty:
        known = ", ".join(sorted(set(panel["indicator"]))[:12])
        raise DataValidationError(
            [
                Problem(
                    f"the panel holds no value of {indicator}"
                    + (f" in series {series}" if series else "")
                    + f" (its indicators: {known}); read the files that publish it",
                    layer="indicators",
                    field=indicator,
                )
            ]
        )
    m = rows.pivot_table(
        index="code", columns="year", values="value", aggfunc="first", dropna=False
    )
    m.columns = [int(c) for c in m.columns]
    m.columns.name = "year"
    return m.sort_index(), str(series)


def code_names(panel: pd.DataFrame) -> dict[str, str | None]:
    """Return each code's name (the first given), for the evaluation tables.

    Examples
    --------
    >>> import pandas as pd
    >>> code_names(pd.DataFrame({"code": ["QP1", "QP1", "QP2"], "name": ["A", "A", None]}))
    {'QP1': 'A', 'QP2': None}
    """
    if "name" not in panel.columns:
        return {}
    first = panel.drop_duplicates("code")
    return {
        str(c): (n if isinstance(n, str) else None)
        for c, n in zip(first["code"], first["name"], strict=True)
    }


def panel_matrices(
    panel: pd.DataFrame, indicators: Sequence[str], *, level: str | None = "qpv"
) -> dict[str, tuple[pd.DataFrame, str]]:
    """Return :func:`panel_matrix` of each indicator the panel holds (default series).

    Built once, they serve every quartier of a batch (``matrices=`` of
    :func:`~cdv_geo.metrics.synthetic_control.synthetic_table` and
    :func:`~cdv_geo.metrics.did.did_table`).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"code": ["QP1", "QP2"], "indicator": "gini", "year": 2019,
    ...                   "value": [0.3, 0.35], "level": "qpv"})
    >>> sorted(panel_matrices(indicator_panel(t), ["gini", "poverty_rate"]))
    ['gini']
    """
    out = {}
    rows = panel[panel["indicator"].isin(list(indicators))]
    for ind, grp in rows.groupby("indicator", sort=False):
        out[str(ind)] = panel_matrix(grp, str(ind), level=level)
    return out


#: Verdict keys of the evaluations (labels in the label catalogue): better or worse than the
#: counterfactual (by the indicator's direction), higher or lower (an indicator without
#: direction), no detectable difference, cannot conclude (then ``reason`` says why).
VERDICTS: tuple[str, ...] = (
    "better",
    "worse",
    "higher",
    "lower",
    "no_detectable_difference",
    "cannot_conclude",
)
#: Reason keys of a ``cannot_conclude`` verdict (or of a NaN estimate).
REASONS: tuple[str, ...] = (
    "treated_not_in_panel",
    "no_pre_period",
    "no_post_period",
    "pre_period_too_short",
    "poor_pre_fit",
    "pre_trend",
    "too_few_donors",
    "placebo_not_run",
)


def direction_verdict(estimate: float, indicator: str) -> str:
    """Return ``better``/``worse`` by the indicator's direction, else ``higher``/``lower``.

    Examples
    --------
    >>> direction_verdict(-0.03, "poverty_rate"), direction_verdict(-3.0, "population")
    ('better', 'lower')
    """
    info = INDICATORS.get(indicator)
    up = estimate > 0
    if info is None or info.higher_is_better is None:
        return "higher" if up else "lower"
    return "better" if up == info.higher_is_better else "worse"


def donor_pool(
    matrix: pd.DataFrame,
    code: str,
    years: Sequence[int],
    *,
    exclude: Sequence[str] = (),
) -> list[str]:
    """Return the codes that can stand in for `code`: complete on `years`, same QPV generation.

    `exclude` (quartiers the user marks as treated too) and `code` itself are left out; a
    ``QP…`` quartier never gets a ``QN…`` donor (and conversely).

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({2019: [1.0, 2.0, None, 4.0, 5.0], 2021: [1.0, 2.0, 3.0, 4.0, 5.0]},
    ...                  index=["QP1", "QP2", "QP3", "QP4", "QN5"])
    >>> donor_pool(m, "QP1", [2019, 2021], exclude=["QP4"])
    ['QP2']
    """
    return matrix.index[donor_positions(matrix, code, years, exclude=exclude)].tolist()


def donor_positions(
    matrix: pd.DataFrame,
    code: str,
    years: Sequence[int],
    *,
    exclude: Sequence[str] = (),
) -> np.ndarray:
    """Return the row positions in `matrix` of :func:`donor_pool` (for array work).

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({2019: [1.0, 2.0, None]}, index=["QP1", "QP2", "QP3"])
    >>> donor_positions(m, "QP1", [2019])
    array([1])
    """
    cols = np.isin(np.asarray(matrix.columns, dtype=int), list(years))
    ok = ~np.isnan(matrix.to_numpy(dtype=float)[:, cols]).any(axis=1)
    heads = np.array([str(c)[:2].upper() for c in matrix.index])
    # a QP… quartier takes QP… donors, a QN… one QN… donors, other codes the other codes
    same = heads == code[:2].upper() if generation(code) else ~np.isin(heads, ["QP", "QN"])
    keep = ok & same & ~matrix.index.isin([*exclude, code])
    return np.flatnonzero(keep)


def per_indicator(
    fit: Any,
    empty: Any,
    panel: pd.DataFrame,
    code: str,
    indicators: Sequence[str],
    year: int,
    *,
    columns: Sequence[str],
    counts: Sequence[str],
    matrices: Mapping[str, tuple[pd.DataFrame, str]] | None = None,
    options: dict[str, Any],
) -> pd.DataFrame:
    """Run one estimator over several indicators: one summary row each (the methods' tables).

    `fit(panel, code, indicator, year, matrix=..., **options)` returns a result with a
    ``summary`` dict; `empty(code, indicator, year)` the summary of an indicator the panel does
    not hold for the quartier (reason ``treated_not_in_panel``). The donors' names are looked
    up once for every indicator.

    Examples
    --------
    >>> import pandas as pd
    >>> class R:
    ...     summary = {"indicator": "a", "n": 1}
    >>> per_indicator(lambda *a, **k: R(), lambda c, i, y: {"indicator": i, "n": None},
    ...               pd.DataFrame({"code": [], "name": []}), "QP1", ["a"], 2021,
    ...               columns=["indicator", "n"], counts=["n"], options={"names": {}})
      indicator  n
    0         a  1
    """
    if options.get("names") is None:
        options["names"] = code_names(panel)
    rows = []
    for ind in indicators:
        mat = matrices.get(ind) if matrices is not None else None
        try:
            if matrices is not None and mat is None:  # the panel does not hold it
                raise DataValidationError([Problem(f"no value of {ind}", field=ind)])
            rows.append(fit(panel, code, ind, year, matrix=mat, **options).summary)
        except DataValidationError:
            s = empty(code, ind, year)
            s["reason"] = "treated_not_in_panel"
            rows.append(s)
    out = pd.DataFrame(rows, columns=list(columns))
    out[list(counts)] = out[list(counts)].astype("Int64")
    return out


def summary_row(
    columns: Sequence[str],
    method: str,
    code: str,
    name: object,
    indicator: str,
    series: str,
    year: int,
    **extra: object,
) -> dict[str, object]:
    """Return a method's summary row before any figure is computed: NaN, "cannot conclude".

    Examples
    --------
    >>> row = summary_row(["quartier", "estimate", "verdict"], "did", "QP1", "A", "x", "", 2021)
    >>> row["estimate"], row["verdict"], row["unit"]
    (nan, 'cannot_conclude', 'as published')
    """
    out: dict[str, object] = dict.fromkeys(columns, np.nan)
    out.update(
        quartier=code,
        name=name,
        indicator=indicator,
        series=series,
        unit=INDICATORS[indicator].unit if indicator in INDICATORS else "as published",
        method=method,
        intervention_year=int(year),
        verdict="cannot_conclude",
        reason=None,
        **extra,
    )
    return out
