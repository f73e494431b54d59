"""Comparable quartiers: each quartier set against the QPV that looked most like it at the start.

Each quartier gets a *comparison group*: the `k` quartiers nearest to it on standardised baseline
indicators (poverty rate, median income, population, share of under-25s by default), measured in
the first vintage of each. For every indicator of interest, the quartier's change over the period
is then shown next to the group's (median and interquartile range), the town's and all QPV's (the
national ``Ensemble`` row), with its percentile among all QPV in the first and the last vintage and
whether its gap to the group narrowed.

This is a **descriptive comparison, not a causal estimate**: quartiers alike on a few indicators
differ in many other ways, and the group's change is no counterfactual of what the contrat de ville
changed. Every table says so (a ``note`` column and ``attrs["note"]``).

The input is a national *long* indicator table, one row per value: ``code``, ``level`` (``qpv``,
``commune``, ``france``...), ``indicator``, ``year``, ``value`` and optionally ``source`` (one
source is compared at a time: pass ``source=``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from cdv_geo.core.errors import CdvGeoError, DataValidationError, Problem

__all__ = ["BASELINE", "NOTE", "PEER_COLUMNS", "compare_to_peers", "peer_table"]

#: Default baseline indicators the comparison groups are matched on (canonical names of
#: ``read_indicators``: ``under_25_share`` is the share of under-25s, also accepted as
#: ``share_under_25``).
BASELINE: tuple[str, ...] = ("poverty_rate", "median_income", "population", "under_25_share")

_ALIASES = {"share_under_25": "under_25_share"}

#: The caveat every comparison table carries.
NOTE = (
    "Comparaison descriptive, pas une estimation causale / "
    "descriptive comparison, not a causal estimate"
)

#: Columns of :func:`compare_to_peers` and :func:`peer_table`, in order.
PEER_COLUMNS: tuple[str, ...] = (
    "first_year",
    "last_year",
    "value_first",
    "value_last",
    "change",
    "group_change_median",
    "group_change_q1",
    "group_change_q3",
    "town_change",
    "all_qpv_change",
    "percentile_first",
    "percentile_last",
    "gap_first",
    "gap_last",
    "gap_narrowed",
    "n_peers",
    "peers",
    "reason",
    "note",
)

_REQUIRED = ("code", "level", "indicator", "year", "value")
_ALL_QPV = "all_qpv"  # level of the national "Ensemble (des QPV)" row
_FRANCE = {"france", "ensemble"}  # its level in older tables


@dataclass(frozen=True)
class _Prepared:
    """The QPV values of one source, pivoted once for every quartier compared."""

    values: pd.DataFrame  # index (indicator, year), columns QPV codes
    refs: pd.DataFrame  # index (indicator, year), columns non-QPV codes
    france: str | None
    baseline: dict[str, str]  # indicator -> "source year" of its values
    z: pd.DataFrame  # index QPV codes, columns baseline indicators (standardised)
    towns: Mapping[str, str]


def _prepare(
    indicators: pd.DataFrame,
    *,
    baseline: Sequence[str],
    source: str | None,
    towns: Mapping[str, str] | None,
    baseline_source: str | None = None,
) -> _Prepared:
    table = _one_source(indicators, source)
    level = table["level"].astype(str).str.lower()
    code = table["code"].astype(str)
    qpv = table[level == "qpv"]
    if qpv.empty:
        raise DataValidationError(
            [Problem("no row of level 'qpv' in the indicator table", field="level")]
        )
    values = qpv.pivot_table(
        index=["indicator", "year"], columns="code", values="value", aggfunc="first", dropna=False
    )
    others = table[level != "qpv"]
    refs = others.pivot_table(
        index=["indicator", "year"], columns="code", values="value", aggfunc="first", dropna=False
    )
    is_all = level == _ALL_QPV
    if not is_all.any():
        is_all = level.isin(_FRANCE) | code.str.lower().isin(_FRANCE)
    france = str(code[is_all].iloc[0]) if is_all.any() else None
    base, origin = _baseline(indicators, baseline, baseline_source)
    std = base.std(ddof=0).replace(0.0, np.nan)
    z = (base - base.mean()) / std
    z = z.fillna({c: 0.0 for c in z.columns if np.isnan(std[c])})  # constant: no information
    return _Prepared(values, refs, france, origin, z, _towns(table, towns))


def _baseline(
    indicators: pd.DataFrame, baseline: Sequence[str], baseline_source: str | None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Return the baseline values (QPV x indicator, first vintage) and where each comes from.

    Without `baseline_source`, each indicator is taken, for each QPV, from the source that
    publishes it for the most QPV in its first vintage (ties: source name), else from the next
    one, so that the comparison groups are the same whatever source the outcomes come from.
    """
    table = indicators.dropna(subset=["year", "value"])
    table = table[table["level"].astype(str).str.lower() == "qpv"]
    if baseline_source is not None:
        table = _one_source(table, baseline_source)
    if "source" not in table.columns:
        table = table.assign(source="")
    columns: dict[str, pd.Series] = {}
    origin: dict[str, str] = {}
    for name in dict.fromkeys(_ALIASES.get(b, b) for b in baseline):
        rows = table[table["indicator"] == name]
        firsts = []
        for src, grp in rows.groupby("source"):
            year = int(grp["year"].min())
            first = grp[grp["year"] == year].drop_duplicates("code")
            values = pd.Series(
                first["value"].to_numpy(dtype=float), index=first["code"].astype(str).to_numpy()
            )
            firsts.append((-len(values), str(src), year, values))
        if not firsts:
            continue
        # the source covering most QPV first; the others fill in the QPV it lacks
        firsts.sort(key=lambda f: f[:2])
        combined = firsts[0][3]
        for *_, values in firsts[1:]:
            combined = combined.combine_first(values)
        columns[name] = combined
        origin[name] = " + ".join(f"{src} {year}".strip() for _, src, year, _ in firsts)
    missing = [b for b in baseline if _ALIASES.get(b, b) not in columns]
    if not columns:
        raise DataValidationError(
            [
                Problem(
                    f"none of the baseline indicators {list(baseline)} is in the table; pass "
                    f"baseline= among {sorted(set(table['indicator']))[:40]}",
                    field="indicator",
                )
            ]
        )
    if missing:
        warnings.warn(
            f"baseline indicators {missing} are not in the table: comparison groups are matched "
            f"on {list(columns)} only",
            UserWarning,
            stacklevel=4,
        )
    return pd.DataFrame(columns), origin


def _one_source(indicators: pd.DataFrame, source: str | None) -> pd.DataFrame:
    missing = [c for c in _REQUIRED if c not in indicators.columns]
    if missing:
        raise DataValidationError(
            [
                Problem(
                    f"the indicator table lacks column(s) {missing}; expected a long table "
                    f"with {list(_REQUIRED)} (see read_indicators)",
                    field=missing[0],
                )
            ]
        )
    table = indicators
    if "source" in table.columns:
        sources = sorted(table["source"].dropna().astype(str).unique())
        if source is None and len(sources) > 1:
            raise CdvGeoError(
                f"the indicator table mixes sources {sources}; compare one at a time with "
                "source=..."
            )
        if source is not None:
            if source not in sources:
                raise CdvGeoError(f"source={source!r} is not in the table; use one of {sources}")
            table = table[table["source"].astype(str) == source]
    elif source is not None:
        raise CdvGeoError(f"source={source!r} given but the indicator table has no source column")
    table = table.dropna(subset=["year"])
    return table.assign(year=table["year"].astype(int), code=table["code"].astype(str))


def _towns(table: pd.DataFrame, towns: Mapping[str, str] | None) -> Mapping[str, str]:
    """Town of each QPV: given, else a ``commune``/``territory`` column, else the only commune."""
    if towns is not None:
        return dict(towns)
    level = table["level"].astype(str).str.lower()
    qpv = table[level == "qpv"]
    if "commune" in table.columns and qpv["commune"].notna().any():
        pairs = qpv.dropna(subset=["commune"]).drop_duplicates("code")
        return dict(zip(pairs["code"], pairs["commune"].astype(str), strict=True))
    communes = table[level == "commune"]
    if "territory" in table.columns:
        out: dict[str, str] = {}
        for _, grp in table.groupby("territory"):
            glevel = grp["level"].astype(str).str.lower()
            town = grp.loc[glevel == "commune", "code"].unique()
            if len(town) == 1:
                out.update(dict.fromkeys(grp.loc[glevel == "qpv", "code"], str(town[0])))
        return out
    town = communes["code"].unique()
    if len(town) == 1:
        return dict.fromkeys(qpv["code"].unique(), str(town[0]))
    return {}


def _peers_of(prep: _Prepared, code: str, k: int) -> tuple[list[str], str | None]:
    if code not in prep.z.index:
        return [], "quartier absent from the baseline vintage"
    target = prep.z.loc[code].to_numpy(dtype=float)
    dims = [c for c, v in zip(prep.z.columns, target, strict=True) if not np.isnan(v)]
    if not dims:
        return [], "no baseline indicator known for this quartier"
    cand = prep.z.drop(index=code)[dims].dropna()
    diff = cand.to_numpy(dtype=float) - target[~np.isnan(target)]
    dist = np.sqrt((diff**2).sum(axis=1))
    # stable order: distance (rounded, so that float noise does not break ties), then code
    order = sorted(zip(np.round(dist, 9), map(str, cand.index), strict=True))[:k]
    return [c for _, c in order], None


def _percentile(values: np.ndarray, value: float) -> float:
    """Percentile rank (0-100) of `value` among `values`, ties counted half."""
    vals = values[~np.isnan(values)]
    if np.isnan(value) or len(vals) == 0:
        return np.nan
    return float(100.0 * ((vals < value).sum() + 0.5 * (vals == value).sum()) / len(vals))


def _median(values: np.ndarray) -> float:
    vals = values[~np.isnan(values)]
    return float(np.median(vals)) if len(vals) else np.nan


def _ref_change(prep: _Prepared, ref: str | None, ind: str, y0: int, y1: int) -> float:
    if ref is None or ref not in prep.refs.columns:
        return np.nan
    try:
        before, after = prep.refs.at[(ind, y0), ref], prep.refs.at[(ind, y1), ref]
    except KeyError:
        return np.nan
    return float(cast(float, after)) - float(cast(float, before))


def _row(prep: _Prepared, code: str, ind: str, peers: list[str], why: str | None) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(PEER_COLUMNS, np.nan)
    out.update(n_peers=len(peers), peers=";".join(peers), note=NOTE, reason=why)
    if ind not in prep.values.index.get_level_values(0):
        out["reason"] = f"indicator {ind!r} not in the table"
        return out
    block = prep.values.loc[ind]
    arr = block.to_numpy(dtype=float)  # rows: years, columns: QPV codes
    has = ~np.isnan(arr).all(axis=1)
    years = [int(y) for y, ok in zip(block.index, has, strict=True) if ok]
    if not years:
        out["reason"] = "no value"
        return out
    y0, y1 = min(years), max(years)
    out.update(first_year=y0, last_year=y1)
    row_of = {int(y): i for i, y in enumerate(block.index)}
    first, last = arr[row_of[y0]], arr[row_of[y1]]
    col = {str(c): j for j, c in enumerate(block.columns)}
    me, group = col[code], [col[p] for p in peers if p in col]
    v0, v1 = float(first[me]), float(last[me])
    changes = (last - first)[group]
    changes = changes[~np.isnan(changes)]
    out.update(
        value_first=v0,
        value_last=v1,
        change=v1 - v0,
        town_change=_ref_change(prep, prep.towns.get(code), ind, y0, y1),
        all_qpv_change=_ref_change(prep, prep.france, ind, y0, y1),
        percentile_first=_percentile(first, v0),
        percentile_last=_percentile(last, v1),
    )
    if len(changes):
        out.update(
            group_change_median=float(np.median(changes)),
            group_change_q1=float(np.quantile(changes, 0.25)),
            group_change_q3=float(np.quantile(changes, 0.75)),
        )
    out.update(gap_first=v0 - _median(first[group]), gap_last=v1 - _median(last[group]))
    if np.isfinite(out["gap_first"]) and np.isfinite(out["gap_last"]):
        out["gap_narrowed"] = bool(abs(out["gap_last"]) < abs(out["gap_first"]))
    reasons = [why] if why else []
    if y0 == y1:
        reasons.append("one vintage only")
    elif np.isnan(out["change"]):
        reasons.append(f"no value for {y0} and {y1}")
    if peers and not len(changes):
        reasons.append("no change known for the comparable quartiers")
    town = prep.towns.get(code)
    if y0 != y1 and np.isnan(out["town_change"]):
        reasons.append(
            "town not known (pass towns=)" if town is None else f"no town value for {y0} and {y1}"
        )
    if y0 != y1 and np.isnan(out["all_qpv_change"]):
        reasons.append(f"no all-QPV (Ensemble) value for {y0} and {y1}")
    out["reason"] = "; ".join(reasons) or None
    return out


def _frame(rows: dict[Any, dict[str, Any]], names: list[str]) -> pd.DataFrame:
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(PEER_COLUMNS))
    if len(names) == 1:
        table.index = pd.Index([k[0] if isinstance(k, tuple) else k for k in rows], name=names[0])
    else:
        table.index = pd.MultiIndex.from_tuples(list(rows), names=names)
    for col in ("first_year", "last_year", "n_peers"):
        table[col] = table[col].astype("Int64")
    table["gap_narrowed"] = table["gap_narrowed"].astype("boolean")
    table.attrs["note"] = NOTE
    return table


def _outcomes(prep: _Prepared, outcomes: Sequence[str] | None) -> list[str]:
    if outcomes is None:
        return list(dict.fromkeys(prep.values.index.get_level_values(0)))
    return [outcomes] if isinstance(outcomes, str) else list(outcomes)


def compare_to_peers(
    indicators: pd.DataFrame,
    code: str,
    *,
    k: int = 20,
    baseline: Sequence[str] = BASELINE,
    outcomes: Sequence[str] | None = None,
    source: str | None = None,
    baseline_source: str | None = None,
    towns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Set one quartier against the `k` QPV most like it at the start: a descriptive comparison.

    The comparison group is the `k` quartiers nearest to `code` in Euclidean distance on the
    baseline indicators, each standardised over all QPV (z-scores) and taken in its first vintage
    (ties: smaller code). A baseline indicator the quartier lacks is left out of its distance;
    a candidate lacking one the quartier has is left out of its group. For each indicator:

    - ``change`` = value in the last vintage minus value in the first, in the indicator's unit
      (shares are fractions: a change of 0.02 is 2 points);
    - ``group_change_median``, ``group_change_q1``, ``group_change_q3``: median and quartiles
      (interquartile range) of the group's changes;
    - ``town_change``: the quartier's town (`towns`, else a ``commune`` column, else the only
      commune-level code of the quartier's ``territory``, else the only commune of the table);
      ``all_qpv_change``: the national ``Ensemble`` row (level ``france``);
    - ``percentile_first`` / ``percentile_last``: percentile rank (0-100, ties counted half)
      of the quartier's value among all QPV of that vintage;
    - ``gap_first`` / ``gap_last``: the quartier's value minus the group's median value;
      ``gap_narrowed``: ``|gap_last| < |gap_first|`` (NA when either is unknown).

    **This is a descriptive comparison, not a causal estimate** (column ``note``,
    ``attrs["note"]``): the group's change is not what the quartier would have become without
    the contrat de ville.

    Parameters
    ----------
    indicators : pandas.DataFrame
        National long table: ``code``, ``level``, ``indicator``, ``year``, ``value``
        (optionally ``source``, ``commune``, ``territory``), e.g. from ``read_indicators``.
    code : str
        QPV code of the quartier.
    k : int, default 20
        Size of the comparison group.
    baseline : sequence of str
        Indicators the group is matched on (those absent from the table are left out with a
        warning).
    outcomes : sequence of str, optional
        Indicators reported (default: every indicator of the table).
    source : str, optional
        The source compared, when the table's ``source`` column holds several.
    baseline_source : str, optional
        The source of the baseline values; default: for each baseline indicator, the source
        publishing it for the most QPV in its first vintage, the others filling in the QPV it
        lacks (``attrs["baseline"]`` says which), so that a quartier has the same group
        whatever `source` its outcomes come from.
    towns : mapping of str to str, optional
        Town (commune code) of each QPV code.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``indicator``, columns :data:`PEER_COLUMNS` (``peers``: the group's codes
        joined by ``;``; ``reason`` says why a value is missing). ``attrs["peers"]`` lists the
        group, ``attrs["baseline"]`` the indicators matched on and their source and vintage.

    Raises
    ------
    CdvGeoError
        Unknown quartier, mixed sources without `source`, no usable baseline indicator.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [(c, "qpv", "poverty_rate", y, v) for c, y, v in [
    ...     ("QP000001", 2017, 0.40), ("QP000001", 2021, 0.36),
    ...     ("QP000002", 2017, 0.42), ("QP000002", 2021, 0.41),
    ...     ("QP000003", 2017, 0.20), ("QP000003", 2021, 0.21)]]
    >>> rows += [("Ensemble", "france", "poverty_rate", 2017, 0.43),
    ...          ("Ensemble", "france", "poverty_rate", 2021, 0.42)]
    >>> t = pd.DataFrame(rows, columns=["code", "level", "indicator", "year", "value"])
    >>> r = compare_to_peers(t, "QP000001", k=1, baseline=["poverty_rate"])
    >>> row = r.loc["poverty_rate"]
    >>> float(row["change"]), float(row["group_change_median"]), row["peers"]
    (-0.04, -0.01, 'QP000002')
    >>> bool(row["gap_narrowed"])  # gap to the group: -0.02 in 2017, -0.05 in 2021
    False
    """
    if k < 1:
        raise CdvGeoError(f"k={k}: the comparison group needs at least one quartier")
    prep = _prepare(
        indicators, baseline=baseline, source=source, towns=towns, baseline_source=baseline_source
    )
    if code not in prep.values.columns:
        raise CdvGeoError(
            f"quartier {code!r} is not among the QPV of the indicator table "
            f"({len(prep.values.columns)} QPV, e.g. {', '.join(list(prep.values.columns)[:3])})"
        )
    peers, why = _peers_of(prep, code, k)
    rows = {(ind,): _row(prep, code, ind, peers, why) for ind in _outcomes(prep, outcomes)}
    table = _frame(rows, ["indicator"])
    table.attrs["peers"] = peers
    table.attrs["baseline"] = dict(prep.baseline)
    return table


def peer_table(
    indicators: pd.DataFrame,
    *,
    codes: Sequence[str] | None = None,
    k: int = 20,
    baseline: Sequence[str] = BASELINE,
    outcomes: Sequence[str] | None = None,
    source: str | None = None,
    baseline_source: str | None = None,
    towns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """:func:`compare_to_peers` for every quartier (or `codes`), in one table.

    The standardisation and the pivots are done once. A descriptive comparison, not a causal
    estimate (``note``). Parameters as :func:`compare_to_peers`, plus `codes` (default: every
    QPV of the table).

    Returns
    -------
    pandas.DataFrame
        Indexed by (``quartier``, ``indicator``), columns :data:`PEER_COLUMNS`. No territory
        (``"all"``) row: the comparison is per quartier.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"code": ["QP000001", "QP000002"] * 2, "level": "qpv",
    ...                   "indicator": "poverty_rate", "year": [2017, 2017, 2021, 2021],
    ...                   "value": [0.4, 0.3, 0.35, 0.3]})
    >>> peer_table(t, k=1, baseline=["poverty_rate"])["change"].round(2).tolist()
    [-0.05, 0.0]
    """
    prep = _prepare(
        indicators, baseline=baseline, source=source, towns=towns, baseline_source=baseline_source
    )
    wanted = list(prep.values.columns) if codes is None else list(codes)
    unknown = [c for c in wanted if c not in prep.values.columns]
    if unknown:
        raise CdvGeoError(f"quartier(s) {unknown[:5]} are not among the QPV of the table")
    inds = _outcomes(prep, outcomes)
    rows: dict[Any, dict[str, Any]] = {}
    for code in wanted:
        peers, why = _peers_of(prep, code, k)
        for ind in inds:
            rows[(code, ind)] = _row(prep, code, ind, peers, why)
    return _frame(rows, ["quartier", "indicator"])
