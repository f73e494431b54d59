"""Comparable quartiers: each quartier set against the QPV that looked most like it at the start.

Each quartier gets a *comparison group*: the `k` quartiers nearest to it on standardised baseline
indicators (poverty rate, median income, population, share of under-25s by default), measured in
the first vintage of each. For every indicator of interest, the quartier's change over the period
is then shown next to the group's (median and interquartile range), the town's and all QPV's (the
``commune`` and ``france_qpv`` rows of the indicator tables, as columns: quartier rows only), with
its percentile among all QPV in the first and the last vintage and whether its gap narrowed.

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
from typing import Any

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
        # the territories holding exactly one commune; a QPV in several takes the last one's
        found = communes.dropna(subset=["territory"]).groupby("territory")["code"].unique()
        town = found[found.map(len) == 1].map(lambda t: str(t[0]))
        pairs = qpv[qpv["territory"].isin(town.index).to_numpy()]
        pairs = pairs.sort_values("territory", kind="stable").drop_duplicates("code", keep="last")
        return dict(zip(pairs["code"], pairs["territory"].map(town), strict=True))
    only = communes["code"].unique()
    if len(only) == 1:
        return dict.fromkeys(qpv["code"].unique(), str(only[0]))
    return {}


def _peers_of(prep: _Prepared, codes: Sequence[str], k: int) -> list[tuple[list[str], str | None]]:
    """Return the comparison group of each of `codes` and why it is empty, if it is.

    One (targets x QPV) distance block per pattern of known baseline indicators: the squared
    differences are summed in the order of the baseline columns and the distances rounded to
    9 decimals, so that float noise does not break ties; ties go to the smaller code.
    """
    z = prep.z
    arr = z.to_numpy(dtype=float)
    names = np.array([str(c) for c in z.index], dtype=object)
    by_code = np.argsort(names.astype(str), kind="stable")  # candidates in code order
    arr, names = arr[by_code], names[by_code]
    pos = {c: i for i, c in enumerate(names)}
    known = ~np.isnan(arr)
    out: list[tuple[list[str], str | None]] = []
    todo: dict[tuple[bool, ...], list[int]] = {}
    for n, code in enumerate(codes):
        i = pos.get(code)
        if i is None:
            out.append(([], "quartier absent from the baseline vintage"))
        elif not known[i].any():
            out.append(([], "no baseline indicator known for this quartier"))
        else:
            out.append(([], None))
            todo.setdefault(tuple(known[i]), []).append(n)
    for pattern, targets in todo.items():
        dims = np.flatnonzero(pattern)
        cand = arr[:, dims]
        usable = known[:, dims].all(axis=1)
        for start in range(0, len(targets), 256):
            chunk = targets[start : start + 256]
            rows = np.array([pos[codes[n]] for n in chunk])
            sq = (cand[None, :, 0] - arr[rows, dims[0], None]) ** 2
            for j in range(1, len(dims)):
                sq = sq + (cand[None, :, j] - arr[rows, dims[j], None]) ** 2
            dist = np.round(np.sqrt(sq), 9)
            ok = np.broadcast_to(usable, dist.shape).copy()
            ok[np.arange(len(rows)), rows] = False  # not its own peer
            dist[~ok] = np.inf
            order = np.argsort(dist, axis=1, kind="stable")
            ok = np.take_along_axis(ok, order, axis=1)
            keep = ok & (np.cumsum(ok, axis=1) <= k)
            for n, idx, sel in zip(chunk, order, keep, strict=True):
                out[n] = (names[idx[sel]].tolist(), None)
    return out


def _nan_stats(values: np.ndarray, quantiles: Sequence[float]) -> list[np.ndarray]:
    """Median then `quantiles` of each row of `values`, NaN left out (NaN for an empty row).

    Rows with the same number of known values go through :func:`numpy.median` and
    :func:`numpy.quantile` together, which give each row what they give its known values alone.
    """
    ordered = np.sort(values, axis=1)  # NaN last
    count = (~np.isnan(values)).sum(axis=1)
    out = [np.full(len(values), np.nan) for _ in range(1 + len(quantiles))]
    for c in np.unique(count[count > 0]):
        rows = count == c
        sub = ordered[rows, :c]
        out[0][rows] = np.median(sub, axis=1)
        for stat, q in zip(out[1:], quantiles, strict=True):
            stat[rows] = np.quantile(sub, q, axis=1)
    return out


def _percentile(values: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Percentile rank (0-100) of each `value` among `values`, ties counted half."""
    vals = np.sort(values[~np.isnan(values)])
    if len(vals) == 0:
        return np.full(len(value), np.nan)
    below = np.searchsorted(vals, value, side="left")
    equal = np.searchsorted(vals, value, side="right") - below
    rank = 100.0 * (below + 0.5 * equal) / len(vals)
    return np.where(np.isnan(value), np.nan, rank)


def _ref_changes(prep: _Prepared, ind: str, y0: int, y1: int) -> dict[Any, float]:
    """Change from `y0` to `y1` of `ind` for every non-QPV code (town, Ensemble...)."""
    index = prep.refs.index
    if (ind, y0) not in index or (ind, y1) not in index:
        return {}
    values = prep.refs.to_numpy(dtype=float)
    before, after = values[index.get_loc((ind, y0))], values[index.get_loc((ind, y1))]
    return dict(zip(prep.refs.columns, (after - before).tolist(), strict=True))


@dataclass(frozen=True)
class _Groups:
    """The quartiers compared, their groups and towns, as arrays over ``prep.values`` columns."""

    codes: list[str]
    me: np.ndarray  # column of each quartier
    members: np.ndarray  # (quartiers, k) columns of the group's members, padded with 0
    padded: np.ndarray  # True where `members` is padding
    lists: list[list[str]]  # the group of each quartier, nearest first
    whys: list[str | None]
    towns: list[Any]


def _groups(prep: _Prepared, codes: list[str], k: int) -> _Groups:
    col = {str(c): j for j, c in enumerate(prep.values.columns)}
    found = _peers_of(prep, codes, k)
    group = [[col[p] for p in peers if p in col] for peers, _ in found]
    width = max((len(g) for g in group), default=0)
    members = np.zeros((len(codes), width), dtype=np.intp)
    padded = np.ones((len(codes), width), dtype=bool)
    for i, g in enumerate(group):
        members[i, : len(g)] = g
        padded[i, : len(g)] = False
    me = np.array([col[c] for c in codes], dtype=np.intp)
    lists, whys = [p for p, _ in found], [why for _, why in found]
    return _Groups(codes, me, members, padded, lists, whys, [prep.towns.get(c) for c in codes])


def _columns(prep: _Prepared, groups: _Groups, ind: str) -> dict[str, Any]:
    """Return the :data:`PEER_COLUMNS` of one indicator for every quartier of `groups`."""
    n = len(groups.codes)
    out: dict[str, Any] = {c: np.full(n, np.nan) for c in PEER_COLUMNS}
    out.update(n_peers=[len(p) for p in groups.lists], note=[NOTE] * n)
    out["peers"] = [";".join(p) for p in groups.lists]
    out["gap_narrowed"] = [np.nan] * n
    if ind not in prep.values.index.get_level_values(0):
        out["reason"] = [f"indicator {ind!r} not in the table"] * n
        return out
    block = prep.values.loc[ind]
    arr = block.to_numpy(dtype=float)  # rows: years, columns: QPV codes
    has = ~np.isnan(arr).all(axis=1)
    years = [int(y) for y, ok in zip(block.index, has, strict=True) if ok]
    if not years:
        out["reason"] = ["no value"] * n
        return out
    y0, y1 = min(years), max(years)
    row_of = {int(y): i for i, y in enumerate(block.index)}
    first, last = arr[row_of[y0]], arr[row_of[y1]]
    v0, v1 = first[groups.me], last[groups.me]
    firsts = np.where(groups.padded, np.nan, first[groups.members])
    lasts = np.where(groups.padded, np.nan, last[groups.members])
    changes = lasts - firsts
    median, q1, q3 = _nan_stats(changes, (0.25, 0.75))
    refs = _ref_changes(prep, ind, y0, y1)
    town = np.array([refs.get(t, np.nan) if t is not None else np.nan for t in groups.towns])
    gap_first = v0 - _nan_stats(firsts, ())[0]
    gap_last = v1 - _nan_stats(lasts, ())[0]
    out.update(
        first_year=np.full(n, y0),
        last_year=np.full(n, y1),
        value_first=v0,
        value_last=v1,
        change=v1 - v0,
        group_change_median=median,
        group_change_q1=q1,
        group_change_q3=q3,
        town_change=town,
        all_qpv_change=np.full(n, refs.get(prep.france, np.nan)),
        percentile_first=_percentile(first, v0),
        percentile_last=_percentile(last, v1),
        gap_first=gap_first,
        gap_last=gap_last,
    )
    finite = np.isfinite(gap_first) & np.isfinite(gap_last)
    narrowed = np.abs(gap_last) < np.abs(gap_first)
    out["gap_narrowed"] = [bool(w) if f else np.nan for w, f in zip(narrowed, finite, strict=True)]
    out["reason"] = _reasons(groups, y0, y1, out, no_change=np.isnan(changes).all(axis=1))
    return out


def _reasons(
    groups: _Groups, y0: int, y1: int, out: Mapping[str, Any], *, no_change: np.ndarray
) -> list[str | None]:
    """Why values of one indicator are missing, per quartier (None: nothing missing)."""
    no_value = np.isnan(out["change"])
    no_town = np.isnan(out["town_change"])
    no_all = bool(np.isnan(out["all_qpv_change"][0])) if len(no_value) else False
    reasons: list[str | None] = []
    between = f"value for {y0} and {y1}"
    for i, why in enumerate(groups.whys):
        said = [why] if why else []
        if y0 == y1:
            said.append("one vintage only")
        elif no_value[i]:
            said.append(f"no {between}")
        if groups.lists[i] and no_change[i]:
            said.append("no change known for the comparable quartiers")
        if y0 != y1 and no_town[i]:
            unknown = groups.towns[i] is None
            said.append("town not known (pass towns=)" if unknown else f"no town {between}")
        if y0 != y1 and no_all:
            said.append(f"no all-QPV (Ensemble) {between}")
        reasons.append("; ".join(said) or None)
    return reasons


def _compare(prep: _Prepared, groups: _Groups, inds: list[str], names: list[str]) -> pd.DataFrame:
    """Return the table of the quartiers of `groups` x `inds`, quartier by quartier."""
    codes = groups.codes
    data: dict[str, Any] = {}
    per_ind = [_columns(prep, groups, ind) for ind in inds] if codes else []
    for name in PEER_COLUMNS if per_ind else ():
        parts = [part[name] for part in per_ind]
        if isinstance(parts[0], np.ndarray):  # (indicators, quartiers) -> quartier by quartier
            data[name] = np.stack(parts).T.ravel()
        else:
            data[name] = [parts[j][i] for i in range(len(codes)) for j in range(len(inds))]
    table = pd.DataFrame(data or None, columns=list(PEER_COLUMNS), dtype=None if data else object)
    if len(names) == 1:
        table.index = pd.Index(inds, name=names[0])
    else:
        keys = [(c, i) for c in codes for i in inds]
        table.index = pd.MultiIndex.from_tuples(keys, names=names)
    for col in ("first_year", "last_year", "n_peers"):
        table[col] = table[col].astype("Int64")
    table["gap_narrowed"] = table["gap_narrowed"].astype("boolean")
    table.attrs["note"] = NOTE
    return table


def _outcomes(prep: _Prepared, outcomes: Sequence[str] | None) -> list[str]:
    if outcomes is None:
        return list(dict.fromkeys(prep.values.index.get_level_values(0)))
    return [outcomes] if isinstance(outcomes, str) else list(dict.fromkeys(outcomes))


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
      ``all_qpv_change``: the national ``Ensemble`` row (level ``all_qpv``, or ``france``);
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
    groups = _groups(prep, [code], k)
    table = _compare(prep, groups, _outcomes(prep, outcomes), ["indicator"])
    table.attrs["peers"] = groups.lists[0]
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

    The standardisation and the pivots are done once, and every quartier is handled at once with
    array operations (one distance block per pattern of known baseline indicators, group
    statistics on the (quartiers x `k`) array of the groups' values), with the same results as
    :func:`compare_to_peers` quartier by quartier. A descriptive comparison, not a causal
    estimate (``note``). Parameters as :func:`compare_to_peers`, plus `codes` (default: every
    QPV of the table, in code order; a code given twice is reported once).

    Returns
    -------
    pandas.DataFrame
        Indexed by (``quartier``, ``indicator``), columns :data:`PEER_COLUMNS`. Quartier rows
        only: the comparison is per quartier (the town and all QPV are columns).

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
    groups = _groups(prep, list(dict.fromkeys(wanted)), k)
    return _compare(prep, groups, _outcomes(prep, outcomes), ["quartier", "indicator"])
