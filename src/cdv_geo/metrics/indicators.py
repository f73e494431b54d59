"""Are the quartiers catching up with the town? Gaps and trends of the socio-economic indicators.

The indicators are read by :func:`cdv_geo.io.insee.read_indicators` (the INSEE QPV files as
published, Filosofi, or any table) into a long table, one row per code, indicator, year and
source; :data:`cdv_geo.io.insee.registry.INDICATORS` defines them.

- :func:`compare_indicators` — each quartier's value, and its gap to the town, to all QPV
  (INSEE's "Ensemble" row) and to France, where published.
- :func:`indicator_trend` — the same per year, with the change since the previous published
  year and whether each gap narrowed.
- :func:`pivot_indicators` — one row per code, one column per indicator.

Both per-quartier tables follow the table contract (:mod:`cdv_geo.core.tables`): indexed by
``quartier``, ``indicator``, ``source``, ``year``; within each indicator, source and year the
quartiers, then the named comparison rows INSEE's figures allow:

- ``qpv`` (all the quartiers together) and ``hors_qpv`` (the commune minus them): for **counts**
  only (population, recipients...), the sum of the quartiers' published counts (every quartier
  published) and the commune's count minus that sum. A rate or a median of several quartiers is
  not published by INSEE and is never averaged here: those rows are absent for them;
- ``commune``: the town's published figure (a commune row of the table, or ``POP_COM`` on its
  quartiers' rows for the population), NaN with a reason where it is not published;
- ``france_qpv``: the national all-QPV figure (the ``Ensemble`` row), where published.

One series per source: values of two sources (REVN and Filosofi) are never averaged, each keeps
its rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.errors import CdvGeoError, DataValidationError, Problem
from cdv_geo.core.layers import as_layer, quartier_codes
from cdv_geo.core.tables import (
    COMMUNE,
    FRANCE_QPV,
    HORS_QPV,
    INDEX,
    QPV,
    join_reasons,
    row_name,
)
from cdv_geo.io.insee.registry import INDICATORS

__all__ = ["compare_indicators", "indicator_trend", "pivot_indicators"]

_LEVEL_NAMES = {"commune": "the town", "all_qpv": "all QPV", "france": "France", "epci": "the EPCI"}


def _concat(tables: pd.DataFrame | Iterable[pd.DataFrame]) -> pd.DataFrame:
    if isinstance(tables, pd.DataFrame):
        t = tables
    else:
        frames = list(tables)
        if not frames:
            raise CdvGeoError("no indicator table given")
        t = pd.concat(frames, ignore_index=True)
    if "source" not in t.columns:
        t = t.assign(source="table")
    dup = t.duplicated(["code", "indicator", "year", "source"], keep=False)
    if dup.any():
        first = t[dup].iloc[0]
        raise DataValidationError(
            [
                Problem(
                    f"{int(dup.sum())} rows repeat a code, indicator, year and source (e.g. "
                    f"{first['code']} {first['indicator']} {first['year']}): give each series its "
                    "own source, or read the files together with read_indicators([...])",
                    layer="indicators",
                    feature=str(first["code"]),
                )
            ]
        )
    return t


def _select(
    t: pd.DataFrame,
    source: str | Sequence[str] | None,
    year: int | None,
    indicators: Sequence[str] | None,
) -> pd.DataFrame:
    if source is not None:
        wanted = [source] if isinstance(source, str) else list(source)
        unknown = sorted(set(wanted) - set(t["source"]))
        if unknown:
            raise CdvGeoError(
                f"source {', '.join(unknown)} is not in the table; its sources are "
                f"{', '.join(sorted(set(t['source'])))}"
            )
        t = t[t["source"].isin(wanted)]
    if year is not None:
        t = t[t["year"] == year]
    if indicators is not None:
        t = t[t["indicator"].isin(list(indicators))]
    return t


def _quartiers(t: pd.DataFrame, quartiers: Any) -> tuple[list[str], dict[str, Any], set[str]]:
    """Return the quartier codes (layer order), their names and the communes they lie in."""
    if quartiers is None:
        codes = list(dict.fromkeys(t.loc[t["level"] == "qpv", "code"]))
        names = dict(zip(t["code"], t["name"], strict=True))
        return codes, {str(c): names.get(c) for c in codes}, set()
    q = as_layer(quartiers, "quartiers", kind="quartiers")
    codes = [str(c) for c in quartier_codes(q)]
    names = dict(zip(codes, q["name"] if "name" in q.columns else codes, strict=True))
    communes = set(q["commune"].dropna().astype(str)) if "commune" in q.columns else set()
    return codes, names, communes


def _references(
    t: pd.DataFrame,
    levels: Sequence[str],
    codes: Mapping[str, str] | None,
    communes: set[str],
) -> dict[str, str | None]:
    """Return the reference code of each level (None when the table has none)."""
    out: dict[str, str | None] = {}
    for lv in levels:
        present = sorted(set(t.loc[t["level"] == lv, "code"]))
        if codes and lv in codes:
            out[lv] = codes[lv]
        elif lv == "commune" and len(communes) == 1:
            out[lv] = next(iter(communes))
        elif len(present) == 1:
            out[lv] = present[0]
        elif len(present) > 1:
            raise CdvGeoError(
                f"the table holds several {lv} codes ({', '.join(present)}); say which one is "
                f"the reference with reference_codes={{'{lv}': '...'}}"
            )
        else:
            out[lv] = None
    return out


def _town_population(t: pd.DataFrame, codes: list[str], town: str | None) -> pd.DataFrame:
    """Add the town's ``population`` from the quartiers' ``commune_population`` (POP_COM).

    INSEE's DEMO files give the commune's population on each of its quartiers' rows; the town
    row of the tables takes it (flag ``"from POP_COM"``) where no commune row gives it.
    """
    if town is None:
        return t
    pop = t[(t["indicator"] == "commune_population") & t["code"].isin(codes)]
    have = set(
        zip(
            *(
                t.loc[(t["code"] == town) & (t["indicator"] == "population"), k]
                for k in ("source", "year")
            ),
            strict=True,
        )
    )
    pop = pop.drop_duplicates(["source", "year"])
    pop = pop[[(s, y) not in have for s, y in zip(pop["source"], pop["year"], strict=True)]]
    if pop.empty:
        return t
    extra = pop.assign(
        code=town, level="commune", indicator="population", flag="from POP_COM", name=None
    )
    return pd.concat([t, extra], ignore_index=True)


def _missing(flag: Any) -> str:
    return f"not published ({flag})" if isinstance(flag, str) and flag else "not published"


def _direction(indicator: str) -> bool | None:
    info = INDICATORS.get(indicator)
    return None if info is None else info.higher_is_better


def compare_indicators(
    table: pd.DataFrame | Iterable[pd.DataFrame],
    quartiers: gpd.GeoDataFrame | None = None,
    *,
    reference: Sequence[str] | str = ("commune", "all_qpv", "france"),
    reference_codes: Mapping[str, str] | None = None,
    source: str | Sequence[str] | None = None,
    year: int | None = None,
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each quartier's indicators and their gaps to the town, to all QPV and to France.

    For each quartier, indicator, source and year: the value and, for each reference level
    *L* where it is published in the same source and year, ``gap_to_L = value - reference``
    (in the indicator's unit: fractions stay fractions, 0.10 = 10 points) and ``worse_off_L``
    (by the indicator's direction; missing when it has none, as for counts).

    Parameters
    ----------
    table : pandas.DataFrame or iterable of DataFrame
        The long table of :func:`cdv_geo.io.insee.read_indicators` (several are concatenated).
    quartiers : geopandas.GeoDataFrame, optional
        The quartiers (their order, names and commune); by default the QPV codes of the table.
    reference : str or sequence of str, default ("commune", "all_qpv", "france")
        Reference levels; ``commune`` is the town (the quartiers' commune).
    reference_codes : mapping, optional
        Reference code per level (``{"commune": "02722"}``) when it cannot be told.
    source, year, indicators : optional
        Keep only these sources (series), this year, these indicators.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier``, ``indicator``, ``source``, ``year``: the quartiers' rows in
        layer order, then the comparison rows (see the module: ``qpv`` and
        ``hors_qpv`` for counts, ``commune``, ``france_qpv`` where published). Columns:
        ``name``, ``value``, ``flag``, for each level *L*: ``L_value``, ``gap_to_L``,
        ``worse_off_L``; ``reason`` (why a value is missing). A row's gap to itself (the
        ``commune`` row to the town, ``france_qpv`` to all QPV) is NaN, with that reason.

    Examples
    --------
    >>> t = pd.DataFrame({
    ...     "code": ["QP002013", "02722", "Ensemble"], "name": ["Presles", "Soissons", None],
    ...     "level": ["qpv", "commune", "all_qpv"], "indicator": "poverty_rate", "year": 2019,
    ...     "value": [0.554, 0.25, 0.43], "flag": None, "source": "revn"})
    >>> c = compare_indicators(t, reference=("commune", "all_qpv"))
    >>> c = c.droplevel(["indicator", "source", "year"])
    >>> c[["value", "gap_to_commune", "gap_to_all_qpv", "worse_off_all_qpv"]].round(3)
              value  gap_to_commune  gap_to_all_qpv  worse_off_all_qpv
    quartier
    QP002013    0.554           0.304           0.124               True
    commune     0.250             NaN          -0.180              False
    france_qpv  0.430           0.180             NaN               <NA>

    Counts add up: the ``qpv`` row sums the quartiers, ``hors_qpv`` is the rest of the town.

    >>> p = pd.DataFrame({
    ...     "code": ["QP1", "QP2", "02722"], "name": ["Presles", "Chevreux", "Soissons"],
    ...     "level": ["qpv", "qpv", "commune"], "indicator": "population", "year": 2021,
    ...     "value": [5766.0, 1238.0, 28522.0], "source": "demo"})
    >>> compare_indicators(p, reference="commune").droplevel([1, 2, 3])["value"]
    quartier
    QP1          5766.0
    QP2          1238.0
    qpv          7004.0
    commune     28522.0
    hors_qpv    21518.0
    Name: value, dtype: float64
    """
    t = _select(_concat(table), source, year, indicators)
    levels = [reference] if isinstance(reference, str) else list(reference)
    codes, names, communes = _quartiers(t, quartiers)
    refs = _references(t, levels, reference_codes, communes)
    town = refs.get("commune") or (next(iter(communes)) if len(communes) == 1 else None)
    national = refs.get("all_qpv", "")
    if national == "":
        national = _references(t, ["all_qpv"], reference_codes, communes)["all_qpv"]
    t = _town_population(t.dropna(subset=["year"]), codes, town)
    look = {
        (c, i, s, int(y)): (v, f)
        for c, i, s, y, v, f in zip(
            t["code"],
            t["indicator"],
            t["source"],
            t["year"],
            t["value"],
            t["flag"] if "flag" in t.columns else [None] * len(t),
            strict=True,
        )
    }
    series = sorted(
        {(i, s, y) for (c, i, s, y) in look if c in set(codes) or c == town},
        key=lambda k: (k[0], k[1], k[2]),
    )
    rows, index = [], []
    for ind, src, yr in series:
        ctx = _Series(look, names, (ind, src, yr), refs, _direction(ind))
        found = {key: ctx.published(key, key) for key in codes}
        found[COMMUNE] = ctx.published(COMMUNE, town)
        if _is_count(ind):
            found.update(_count_rows(found, codes))
        if national is not None and not np.isnan(look.get((national, ind, src, yr), (np.nan,))[0]):
            found[FRANCE_QPV] = ctx.published(FRANCE_QPV, national)
        for key in [*codes, QPV, COMMUNE, HORS_QPV, FRANCE_QPV]:
            if key in found:
                rows.append(ctx.row(key, *found[key]))
                index.append((key, ind, src, yr))
    cols = ["name", "value", "flag"]
    for lv in levels:
        cols += [f"{lv}_value", f"gap_to_{lv}", f"worse_off_{lv}"]
    out = pd.DataFrame(rows, columns=[*cols, "reason"])
    out.index = pd.MultiIndex.from_tuples(index, names=[INDEX, "indicator", "source", "year"])
    for lv in levels:
        out[f"worse_off_{lv}"] = pd.array(out[f"worse_off_{lv}"].tolist(), dtype="boolean")
    out["value"] = out["value"].astype(float)
    # rows by key (quartiers in layer order, then the comparison rows in the contract's order),
    # then by series: a row present in some series only never comes before an earlier key
    rank = {k: i for i, k in enumerate([*codes, QPV, COMMUNE, HORS_QPV, FRANCE_QPV])}
    order = np.argsort([rank[k] for k, *_ in index], kind="stable")
    return out.iloc[order]


# A row's value, its flag and why it is missing.
Found = tuple[float, Any, list[str | None]]

# The reference level each comparison row *is*: its gap to that level is to itself.
_SELF_LEVEL = {COMMUNE: "commune", FRANCE_QPV: "all_qpv"}


def _is_count(indicator: str) -> bool:
    info = INDICATORS.get(indicator)
    return info is not None and info.unit == "count"


def _count_rows(found: Mapping[str, Found], codes: Sequence[str]) -> dict[str, Found]:
    """Return the ``qpv`` (sum of the quartiers) and ``hors_qpv`` rows of a count."""
    values = [found[c][0] for c in codes]
    if not codes or any(np.isnan(v) for v in values):
        return {}  # (a count of some quartiers only is not the quartiers' count: no row)
    qpv = float(sum(values))
    out: dict[str, Found] = {QPV: (qpv, None, [])}
    town = found[COMMUNE][0]
    if not np.isnan(town):
        if town >= qpv:
            out[HORS_QPV] = (town - qpv, None, [])
        else:
            why = "the quartiers' count exceeds the town's: not the same perimeter or year"
            out[HORS_QPV] = (np.nan, None, [why])
    return out


class _Series:
    """One indicator, source and year: the published values and the rows built from them."""

    def __init__(
        self,
        look: Mapping[tuple[str, str, str, int], tuple[float, Any]],
        names: Mapping[str, Any],
        series: tuple[str, str, int],
        refs: Mapping[str, str | None],
        better: bool | None,
    ) -> None:
        self.look, self.names, self.series, self.refs, self.better = (
            look,
            names,
            series,
            refs,
            better,
        )

    def published(self, key: str, code: str | None) -> Found:
        """Return the value published for `code` (row `key`), its flag and why it is missing."""
        ind, src, yr = self.series
        if code is None:
            return (
                np.nan,
                None,
                ["the town (commune) is not known: pass quartiers= or reference_codes="],
            )
        value, flag = self.look.get((code, ind, src, yr), (np.nan, None))
        if np.isnan(value):
            what = "the town" if key == COMMUNE else "the quartier"
            return value, flag, [f"{_missing(flag)} for {what} ({code}) in {src} {yr}"]
        return value, flag, []

    def row(self, key: str, value: float, flag: Any, why: list[str | None]) -> dict[str, Any]:
        """One row of :func:`compare_indicators`: the value, the gaps to each level, reasons."""
        ind, src, yr = self.series
        reasons = list(why)
        name = self.names.get(key) if key in self.names else row_name(key)
        row: dict[str, Any] = {"name": name, "value": value, "flag": flag}
        for lv, rcode in self.refs.items():
            ref = self.look.get((rcode, ind, src, yr), (np.nan, None))[0] if rcode else np.nan
            gap = value - ref
            if _SELF_LEVEL.get(key) == lv:
                gap = np.nan
                reasons.append(f"the {key} row is {_LEVEL_NAMES.get(lv, lv)} itself")
            elif np.isnan(ref):
                where = _LEVEL_NAMES.get(lv, lv)
                where = f"{where} ({rcode})" if rcode else where
                reasons.append(f"no value for {where} in {src} {yr}")
            better = self.better
            worse = (
                None if np.isnan(gap) or better is None or gap == 0 else bool((gap < 0) == better)
            )
            if better is None and not np.isnan(gap):
                reasons.append(f"{ind} has no better/worse direction")
            row.update({f"{lv}_value": ref, f"gap_to_{lv}": gap, f"worse_off_{lv}": worse})
        row["reason"] = join_reasons(*reasons)
        return row


def indicator_trend(
    table: pd.DataFrame | Iterable[pd.DataFrame],
    quartiers: gpd.GeoDataFrame | None = None,
    *,
    reference: Sequence[str] | str = ("commune", "all_qpv"),
    reference_codes: Mapping[str, str] | None = None,
    source: str | Sequence[str] | None = None,
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Change of each indicator since its previous published year, and of its gaps.

    Every series (quartier, indicator, source) is followed over its published years: the
    change since the previous one, per year, whether it improved (by the indicator's
    direction), and for each reference level whether the gap narrowed. Values of two sources
    are never mixed (REVN and Filosofi poverty rates make two series). Vintages compare only
    where definitions and perimeters are stable (QPV perimeters changed in 2024).

    Parameters
    ----------
    table, quartiers, reference, reference_codes, source, indicators
        As in :func:`compare_indicators`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier``, ``indicator``, ``source``, ``year`` (the comparison rows of
        :func:`compare_indicators` last within each indicator, source and year): ``name``,
        ``value``, ``previous_year`` (Int64), ``change``, ``change_per_year``, ``improved``
        (boolean), for each level *L*: ``gap_to_L`` and ``gap_to_L_narrowed`` (boolean);
        ``reason``.

    Examples
    --------
    >>> t = pd.DataFrame({
    ...     "code": ["QP002013"] * 2 + ["Ensemble"] * 2, "name": "Presles",
    ...     "level": ["qpv", "qpv", "all_qpv", "all_qpv"], "indicator": "poverty_rate",
    ...     "year": [2017, 2019] * 2, "value": [0.551, 0.554, 0.43, 0.44], "source": "revn"})
    >>> tr = indicator_trend(t, reference="all_qpv").loc["QP002013"].droplevel([0, 1])
    >>> tr.columns = ["name", "value", "prev", "change", "per_year", "improved", "gap", "narrowed",
    ...               "reason"]
    >>> tr[["per_year", "improved", "gap", "narrowed"]].round(4)
          per_year  improved    gap  narrowed
    year
    2017       NaN      <NA>  0.121      <NA>
    2019    0.0015     False  0.114      True
    """
    levels = [reference] if isinstance(reference, str) else list(reference)
    c = compare_indicators(
        table,
        quartiers,
        reference=levels,
        reference_codes=reference_codes,
        source=source,
        indicators=indicators,
    )
    keys = c.index.to_frame(index=False)
    order = keys.sort_values([INDEX, "indicator", "source", "year"], kind="stable").index
    s = c.iloc[order]
    k = keys.iloc[order]
    grp = [k[INDEX].to_numpy(), k["indicator"].to_numpy(), k["source"].to_numpy()]
    prev = s.groupby(grp, sort=False)
    out = s[["name", "value"]].copy()
    years = pd.Series(k["year"].to_numpy(), index=s.index)
    out["previous_year"] = years.groupby(grp, sort=False).shift(1).astype("Int64")
    out["change"] = s["value"] - prev["value"].shift(1)
    span = (years - out["previous_year"]).astype(float)
    out["change_per_year"] = out["change"] / span.where(span > 0)
    better = [_direction(i) for i in k["indicator"]]
    out["improved"] = pd.array(
        [
            None if b is None or np.isnan(ch) or ch == 0 else bool((ch > 0) == b)
            for b, ch in zip(better, out["change"], strict=True)
        ],
        dtype="boolean",
    )
    reasons = [[r] if isinstance(r, str) else [] for r in s["reason"]]
    for r, py, ch, b in zip(reasons, out["previous_year"], out["change"], better, strict=True):
        if pd.isna(py):
            r.append("first published year of the series")
        elif np.isnan(ch):
            r.append("no change: a value is missing")
        elif b is None:
            r.append("no better/worse direction")
    for lv in levels:
        gap = s[f"gap_to_{lv}"]
        before = gap.groupby(grp, sort=False).shift(1)
        out[f"gap_to_{lv}"] = gap
        out[f"gap_to_{lv}_narrowed"] = pd.array(
            [
                None if np.isnan(a) or np.isnan(b) else bool(abs(b) < abs(a))
                for a, b in zip(before, gap, strict=True)
            ],
            dtype="boolean",
        )
        for r, a, b in zip(reasons, before, gap, strict=True):
            if np.isnan(a) or np.isnan(b):
                r.append(f"no gap to {_LEVEL_NAMES.get(lv, lv)} in one of the two years")
    out["reason"] = [join_reasons(*r) for r in reasons]
    return out.loc[c.index]


def pivot_indicators(
    table: pd.DataFrame,
    *,
    year: int | None = None,
    level: str | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Wide table: one row per code, one column per indicator (missing stays NaN, never 0).

    Parameters
    ----------
    table : pandas.DataFrame
        A long table from :func:`cdv_geo.io.insee.read_indicators`.
    year : int, optional
        Vintage to show; by default the latest vintage of each code and indicator.
    level : str, optional
        Keep only this level (``"qpv"``...).
    source : str, optional
        Keep only this source; required when two sources give different values of one
        indicator and year (an error says which), never averaged.

    Examples
    --------
    >>> t = pd.DataFrame({"code": ["A", "A", "A"], "level": "qpv",
    ...                   "indicator": ["median_income", "median_income", "gini"],
    ...                   "year": [2017, 2021, 2021], "value": [11000.0, 12000.0, float("nan")]})
    >>> pivot_indicators(t)
    indicator  gini  median_income
    code
    A           NaN        12000.0
    """
    t = table if level is None else table[table["level"] == level]
    if source is not None:
        t = t[t["source"] == source]
    if year is not None:
        t = t[t["year"] == year]
    else:  # the latest vintage of each code and indicator
        t = t[t["year"] == t.groupby(["code", "indicator"])["year"].transform("max")]
    if "source" in t.columns:
        # two sources agreeing give one value; disagreeing, the caller must choose
        spread = t.groupby(["code", "indicator", "year"])["value"].agg(
            lambda v: v.round(9).nunique(dropna=False)
        )
        clash = sorted(set(spread[spread > 1].index.get_level_values("indicator")))
        if clash:
            raise CdvGeoError(
                f"sources {', '.join(sorted(set(t['source'])))} give different values of "
                f"{', '.join(clash[:6])}{'…' if len(clash) > 6 else ''}; choose one with "
                "source=..."
            )
        t = t.drop_duplicates(["code", "indicator", "year"])
    return t.pivot(index="code", columns="indicator", values="value")
