"""One population per quartier and per comparison row, and where it comes from.

A quartier's residents can be known four ways, and they rarely agree: the **official** figure
(the quartiers layer's ``population``, e.g. 5,766 for Presles), the **INSEE** QPV tables loaded
in the pack (``population``, column ``POP_MUN`` of the DEMO files), the sum of the
**residences** layer's ``population`` over the homes the quartier holds, or the same sum over
residences made from the Filosofi 200 m **grid** (:func:`cdv_geo.metrics.residences_grid.
residences_from_grid`, whose homes carry their square's code in ``square``). A committee pack
shows one of them, the same in every table, and says which. The rule, row by row
(:data:`POPULATION_SOURCES` is the precedence):

1. ``"official"``: the quartier's own ``population`` when the quartiers layer gives it;
2. ``"insee"``: else the latest ``population`` the INSEE indicators give for its code;
3. ``"residences"`` / ``"grid"``: else the sum of the ``population`` of the homes
   :func:`~cdv_geo.core.assign.assign_quartier` puts in the quartier, when every one of them
   has a population (``"grid"`` when they come from the grid);
4. else NaN, with the reason. A population is never guessed from dwellings.

The comparison rows (:mod:`cdv_geo.core.tables`):

- ``qpv``: the sum of the quartiers (NaN when one is unknown), its source the least
  authoritative of theirs;
- ``commune`` (only with ``communes``): the **published** population of the town: the communes'
  ``population`` (``"official"``), else the INSEE commune figure (a commune row of the
  indicators, or ``POP_COM`` on its quartiers' rows; ``"insee"``); only when no loaded source
  publishes it, the homes inside the commune perimeter (:func:`~cdv_geo.core.assign.in_communes`)
  -- never a sum of grid squares crossing the border when a published figure is loaded. A grid's
  sum is still compared with the published figure (a grid covers the town); a hand-made
  residences layer's is not (it often covers the quartiers only);
- ``hors_qpv`` (only with ``communes``): ``commune`` minus ``qpv`` when both are known (NaN,
  with the reason, when the quartiers would outnumber the town: sources of different years).

When two loaded sources differ by **more than 10 %** (:data:`GAP_THRESHOLD`, of the retained
figure; exactly 10 % is not a discrepancy) for a quartier or the town, one
:class:`~cdv_geo.core.errors.CdvGeoWarning` lists them all, and the table keeps the other figure
in ``population_alt``, its source in ``population_alt_source`` and the relative gap in
``population_gap_ratio``; :func:`population_gap_lines` words them for the dossier.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.assign import assign_quartier, in_communes
from cdv_geo.core.errors import CdvGeoWarning
from cdv_geo.core.labels import fmt_number, fmt_percent, label
from cdv_geo.core.layers import as_layer, quartier_codes
from cdv_geo.core.rows import row_label
from cdv_geo.core.tables import COMMUNE, HORS_QPV, QPV, quartier_table
from cdv_geo.schema.values import is_missing, parse_number

__all__ = [
    "GAP_THRESHOLD",
    "POPULATION_COLUMNS",
    "POPULATION_SOURCES",
    "insee_population",
    "numbers",
    "on_population",
    "population_gap_lines",
    "population_source_of",
    "quartier_population",
]

#: The sources of a population, in the order the rule tries them (most authoritative first).
POPULATION_SOURCES: tuple[str, ...] = ("official", "insee", "residences", "grid")

#: Two sources differing by more than this share of the retained figure are a discrepancy.
GAP_THRESHOLD = 0.10

#: The columns of :func:`quartier_population`, after ``name`` (``reason`` last when needed).
POPULATION_COLUMNS: tuple[str, ...] = (
    "population",
    "population_source",
    "population_alt",
    "population_alt_source",
    "population_gap_ratio",
)

# Candidate figures of one row: source -> value (only the sources that give one).
Candidates = dict[str, float]


def population_source_of(residences: gpd.GeoDataFrame) -> str:
    """Return ``"grid"`` for residences made from a Filosofi grid, else ``"residences"``.

    Residences made by :func:`~cdv_geo.metrics.residences_grid.residences_from_grid` carry the
    code of their square in ``square``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> r = gpd.GeoDataFrame({"population": [10.0]}, geometry=[Point(0, 0)], crs=2154)
    >>> population_source_of(r), population_source_of(r.assign(square=["CRS3035RES200m..."]))
    ('residences', 'grid')
    """
    if "square" in residences.columns and bool(residences["square"].notna().all()):
        return "grid"
    return "residences"


def quartier_population(
    quartiers: gpd.GeoDataFrame,
    *,
    residences: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
    indicators: pd.DataFrame | None = None,
    warn: bool = True,
) -> pd.DataFrame:
    """Return the one population of each quartier and comparison row, with its source.

    Parameters
    ----------
    quartiers : GeoDataFrame
        The quartiers; their ``population`` (official figure), where known, comes first.
    residences : GeoDataFrame, optional
        Homes with a ``population`` (or made from the Filosofi grid).
    communes : GeoDataFrame, optional
        The territory's communes (``code``, ``population``): given, the table has the
        ``commune`` and ``hors_qpv`` rows.
    indicators : DataFrame, optional
        The long INSEE table of :func:`cdv_geo.io.insee.read_indicators` (``code``,
        ``indicator``, ``year``, ``value``): its ``population`` (quartiers, commune) and
        ``commune_population`` (``POP_COM``, on the quartiers' rows).
    warn : bool, default True
        Warn (:class:`~cdv_geo.core.errors.CdvGeoWarning`) once when two loaded sources differ by
        more than 10 % somewhere.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier`` (codes in layer order, ``qpv``, with communes ``commune`` and
        ``hors_qpv``): ``name``, ``population``, ``population_source`` (one of
        :data:`POPULATION_SOURCES`, None when unknown), ``population_alt`` and
        ``population_alt_source`` (the other loaded figure differing by more than 10 %, else
        None), ``population_gap_ratio`` (``|alt - population| / population``, over ``alt``
        when the population is 0; else None) and ``reason`` (why ``population`` is NaN). The
        discrepancy columns hold None, not NaN, on the rows without one: nothing is missing.

    Examples
    --------
    Presles has its official figure; Chevreux has none, and its two homes hold 30 people:

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> q = gpd.GeoDataFrame({"code": ["QP002013", "QP002014"], "name": ["Presles", "Chevreux"],
    ...                       "population": [5766, None]},
    ...                      geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=2154)
    >>> r = gpd.GeoDataFrame({"population": [12.0, 18.0]},
    ...                      geometry=[Point(150, 50), Point(120, 20)], crs=2154)
    >>> quartier_population(q, residences=r)[["population", "population_source"]]
              population population_source
    quartier
    QP002013      5766.0          official
    QP002014        30.0        residences
    qpv           5796.0        residences

    A layer of homes giving Presles 40 residents, not 5,766: the table keeps both, warns once.

    >>> import warnings
    >>> r2 = pd.concat([r, gpd.GeoDataFrame({"population": [40.0]}, geometry=[Point(50, 50)],
    ...                                     crs=2154)], ignore_index=True)
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     p = quartier_population(q, residences=r2)
    >>> len(w), p.at["QP002013", "population_alt"], p.at["QP002013", "population_alt_source"]
    (1, 40.0, 'residences')
    """
    q = as_layer(quartiers, "quartiers", geometry="polygon")
    codes = [str(c) for c in quartier_codes(q)]
    cands: dict[str, Candidates] = {c: {} for c in codes}
    official = (
        numbers(q["population"]) if "population" in q.columns else np.full(len(codes), np.nan)
    )
    for code, pop in zip(codes, official, strict=True):
        if not np.isnan(pop):
            cands[code]["official"] = float(pop)
    for code, pop in insee_population(indicators, codes).items():
        cands[code]["insee"] = pop
    homes = _Homes.of(residences, q, codes)
    for code, pop in homes.by_code.items():
        cands[code][homes.source] = pop
    rows: dict[str, dict[str, Any]] = {
        code: _choose(cands[code], f"population unknown: no official figure, {homes.why_not}")
        for code in codes
    }
    rows[QPV] = _sum_row([rows[c] for c in codes])
    if communes is not None:
        town = _commune_candidates(q, communes, indicators, homes, residences)
        rows[COMMUNE] = _choose(town, f"population of the commune unknown: {homes.why_not}")
        rows[HORS_QPV] = _difference_row(rows[COMMUNE], rows[QPV])
    out = quartier_table(q, rows, columns=list(POPULATION_COLUMNS))
    for col in ("population_alt", "population_alt_source", "population_gap_ratio"):
        out[col] = pd.Series(
            [None if is_missing(v) else v for v in out[col]], index=out.index, dtype=object
        )
    if warn:
        _warn_gaps(out)
    return out


def insee_population(
    indicators: pd.DataFrame | None,
    codes: list[str],
    *,
    indicator: str = "population",
) -> dict[str, float]:
    """Return the latest published `indicator` of each of `codes` in an INSEE long table.

    Examples
    --------
    >>> t = pd.DataFrame({"code": ["QP1", "QP1", "QP2"], "indicator": "population",
    ...                   "year": [2019, 2021, 2021], "value": [5519.0, 5766.0, float("nan")]})
    >>> insee_population(t, ["QP1", "QP2", "QP3"])
    {'QP1': 5766.0}
    """
    if indicators is None or indicators.empty:
        return {}
    if not {"code", "indicator", "year", "value"} <= set(indicators.columns):
        return {}
    t = indicators[(indicators["indicator"] == indicator) & indicators["code"].isin(codes)]
    t = t[pd.to_numeric(t["value"], errors="coerce").notna()]
    # the latest year wins; within a year, the first source in the table's order
    t = t.sort_values("year", kind="stable", ascending=False).drop_duplicates("code")
    found = dict(zip(t["code"].astype(str), t["value"].astype(float), strict=True))
    return {c: found[c] for c in codes if c in found}


def population_gap_lines(
    table: pd.DataFrame, *, town: str | None = None, lang: str = "fr"
) -> list[str]:
    """Return one line per row whose loaded populations differ by more than 10 %.

    For the dossier: plain text in `lang`, the row named by
    :func:`cdv_geo.core.rows.row_label` (a quartier by its ``name``).

    Examples
    --------
    >>> t = pd.DataFrame({"name": ["Presles"], "population": [4094.0],
    ...                   "population_source": ["insee"], "population_alt": [5528.0],
    ...                   "population_alt_source": ["grid"], "population_gap_ratio": [0.35]},
    ...                  index=pd.Index(["QP002013"], name="quartier"))
    >>> population_gap_lines(t)
    ['Presles : 4\u202f094 habitants (tableaux statistiques INSEE des QPV), mais 5\u202f528 selon carroyage Filosofi 200 m (écart de 35\u00a0%)']
    """  # noqa: E501
    if "population_alt_source" not in table.columns:
        return []
    lines = []
    for key, row in table.iterrows():
        alt = row["population_alt_source"]
        if is_missing(alt):
            continue
        name = row.get("name")
        shown = row_label(key, town=town, lang=lang)
        if shown == key and isinstance(name, str) and name:
            shown = name
        lines.append(
            label(
                "population_gap",
                lang,
                row=shown,
                value=fmt_number(row["population"], lang),
                source=label(f"population_source_{row['population_source']}", lang),
                alt_value=fmt_number(row["population_alt"], lang),
                alt_source=label(f"population_source_{alt}", lang),
                gap=fmt_percent(row["population_gap_ratio"], lang),
            )
        )
    return lines


def numbers(values: pd.Series) -> np.ndarray:
    """Return counts as floats, French writing (``"6 206"``) parsed, NaN where none is given.

    Examples
    --------
    >>> numbers(pd.Series(["28 522", None, "n.d."])).tolist()
    [28522.0, nan, nan]
    """

    def one(v: object) -> float:
        if is_missing(v):
            return np.nan
        try:
            return parse_number(v)
        except ValueError:
            return np.nan

    if pd.api.types.is_numeric_dtype(values.dtype):  # (the usual case: no Python loop)
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return np.array([one(v) for v in values], dtype=float)


def _rank(source: str | None) -> int:
    return POPULATION_SOURCES.index(source) if source in POPULATION_SOURCES else -1


def _row(value: float, source: str | None, reason: str | None = None) -> dict[str, Any]:
    return {
        "population": float(value),
        "population_source": source,
        "population_alt": None,
        "population_alt_source": None,
        "population_gap_ratio": None,
        "reason": reason,
    }


def _choose(cands: Candidates, why_unknown: str) -> dict[str, Any]:
    """Keep the most authoritative figure; record the farthest other one beyond 10 %."""
    if not cands:
        return _row(np.nan, None, why_unknown)
    source = min(cands, key=_rank)
    value = cands[source]
    row = _row(value, source)
    # the gap as a share of the figure kept (of the other one when the kept one is 0)
    gaps = {
        s: abs(v - value) / (value or v) for s, v in cands.items() if s != source and value + v > 0
    }
    if gaps:
        alt = max(gaps, key=lambda s: (gaps[s], -_rank(s)))
        # (rounded: 1,100 against 1,000 is exactly 10 %, whatever the float error)
        if round(gaps[alt], 9) > GAP_THRESHOLD:
            row.update(
                population_alt=cands[alt],
                population_alt_source=alt,
                population_gap_ratio=float(gaps[alt]),
            )
    return row


def _sum_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the ``qpv`` row: the sum of the quartiers' retained figures."""
    values = [r["population"] for r in rows]
    if not rows or any(np.isnan(v) for v in values):
        return _row(np.nan, None, "population of a quartier unknown: no sum over the quartiers")
    source = max((r["population_source"] for r in rows), key=_rank)
    return _row(float(sum(values)), source)


def _difference_row(town: dict[str, Any], qpv: dict[str, Any]) -> dict[str, Any]:
    """Return the ``hors_qpv`` row: the commune minus the quartiers, when both are known."""
    a, b = town["population"], qpv["population"]
    if np.isnan(a) or np.isnan(b):
        return _row(np.nan, None, "population of the commune or of the quartiers unknown")
    if b > a:
        return _row(
            np.nan, None, "the quartiers' population exceeds the commune's: sources disagree"
        )
    source = max((town["population_source"], qpv["population_source"]), key=_rank)
    return _row(a - b, source)


class _Homes:
    """The residences' population by quartier, each home's, and why some is unknown."""

    def __init__(
        self, by_code: dict[str, float], source: str, why_not: str, pop: np.ndarray | None
    ) -> None:
        self.by_code, self.source, self.why_not, self.pop = by_code, source, why_not, pop

    @classmethod
    def of(
        cls, residences: gpd.GeoDataFrame | None, q: gpd.GeoDataFrame, codes: list[str]
    ) -> _Homes:
        if residences is None:
            return cls({}, "residences", "no residences layer", None)
        res = as_layer(residences, "residences", allow_empty=True)
        source = population_source_of(res)
        if "population" not in res.columns:
            return cls({}, source, "the residences carry no population", None)
        pop = numbers(res["population"])
        held = assign_quartier(res, q).to_numpy()
        frame = pd.DataFrame({"code": held, "pop": pop, "unknown": np.isnan(pop)})
        grouped = frame.groupby("code", dropna=True)
        sums, unknown = grouped["pop"].sum(), grouped["unknown"].sum()
        out = {c: float(sums[c]) for c in codes if c in sums.index and unknown[c] == 0}
        why = "no home of the residences inside, or some without a population"
        return cls(out, source, why, pop)


def _commune_candidates(
    q: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    indicators: pd.DataFrame | None,
    homes: _Homes,
    residences: gpd.GeoDataFrame | None,
) -> Candidates:
    """Return the figures of the town: published (communes, INSEE), else the homes inside."""
    c = as_layer(communes, "communes", geometry="polygon")
    out: Candidates = {}
    if "population" in c.columns:
        cpop = numbers(c["population"])
        if len(cpop) and not np.isnan(cpop).any():
            out["official"] = float(cpop.sum())
    insee = _insee_commune(q, c, indicators)
    if insee is not None:
        out["insee"] = insee
    # a hand-made residences layer often covers the quartiers only: its sum over the town is no
    # figure of the town while a published one is loaded (a grid covers the whole territory)
    partial = homes.source != "grid" and bool(out)
    if homes.pop is not None and residences is not None and not partial:
        inside = in_communes(as_layer(residences, "residences", allow_empty=True), c)
        pop = homes.pop[inside]
        if len(pop) and not np.isnan(pop).any():
            out[homes.source] = float(pop.sum())
    return out


def _insee_commune(
    q: gpd.GeoDataFrame, c: gpd.GeoDataFrame, indicators: pd.DataFrame | None
) -> float | None:
    """Return the INSEE population of the communes summed, None unless each one has it."""
    if indicators is None or "code" not in c.columns:
        return None
    town_codes = [str(x) for x in c["code"]]
    own = insee_population(indicators, town_codes)
    # POP_COM on a quartier's row is the population of the commune holding that quartier
    qcodes = [str(x) for x in quartier_codes(q)]
    held = assign_quartier(q.representative_point(), c.to_crs(q.crs)).to_numpy()
    on_quartiers = insee_population(indicators, qcodes, indicator="commune_population")
    by_town: Mapping[str, float] = {
        str(t): on_quartiers[qc]
        for qc, t in zip(qcodes, held, strict=True)
        if t is not None and qc in on_quartiers
    }
    total = 0.0
    for code in town_codes:
        value = own.get(code, by_town.get(code))
        if value is None:
            return None
        total += value
    return total


def _warn_gaps(table: pd.DataFrame) -> None:
    """One warning naming every row whose loaded sources differ by more than 10 %."""
    gaps = table[table["population_alt_source"].notna()]
    if gaps.empty:
        return
    parts = [
        f"{key} ({row['name']}): {row['population']:,.0f} ({row['population_source']}) "
        f"against {row['population_alt']:,.0f} ({row['population_alt_source']})"
        for key, row in gaps.iterrows()
    ]
    warnings.warn(
        "populations of two loaded sources differ by more than 10 % for "
        + "; ".join(parts)
        + ". Every table uses the first (official > insee > residences > grid); check the "
        "other source or give the quartiers' official population.",
        CdvGeoWarning,
        stacklevel=3,
    )


def on_population(table: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Return `table` with its residents counted on the population rule's figure, row by row.

    A table weighted by the homes' residents (walking coverage, green-space access) measures
    *shares* over the homes of each row; its resident counts are the homes' own, which may
    differ from the population the pack shows (an official figure, say). So that one quartier
    has one population on every page, each row's ``n_residents`` becomes the rule's figure and
    every other ``n_residents_*`` count is scaled by the same factor; shares are unchanged.
    ``population_source`` says which figure it is. A row the rule does not know keeps the
    homes' count, with the homes' source.

    Parameters
    ----------
    table : DataFrame
        A contract table with ``n_residents`` (first index level: the row key).
    population : DataFrame
        :func:`quartier_population`'s table (``population``, ``population_source``).

    Returns
    -------
    pandas.DataFrame
        A copy; unchanged when `table` has no ``n_residents``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"n_residents": [200.0], "n_residents_covered": [50.0],
    ...                   "covered_share": [0.25]}, index=pd.Index(["QP1"], name="quartier"))
    >>> p = pd.DataFrame({"population": [1000.0], "population_source": ["official"]},
    ...                  index=pd.Index(["QP1"], name="quartier"))
    >>> on_population(t, p)
              n_residents  n_residents_covered  covered_share population_source
    quartier
    QP1            1000.0                250.0           0.25          official
    """
    if "n_residents" not in table.columns:
        return table
    out = table.copy()
    keys = out.index.get_level_values(0) if isinstance(out.index, pd.MultiIndex) else out.index
    figure = population["population"].astype(float).reindex(keys).to_numpy()
    source = population["population_source"].reindex(keys).to_numpy(dtype=object)
    homes = out["n_residents"].to_numpy(dtype=float)
    known = np.isfinite(figure) & (homes > 0)
    factor = np.where(known, figure / np.where(homes > 0, homes, 1.0), 1.0)
    for col in out.columns:
        if col.startswith("n_residents_") and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].to_numpy(dtype=float) * factor
    out["n_residents"] = np.where(known, figure, homes)
    if "population_source" in out.columns:
        kept = out["population_source"].to_numpy(dtype=object)
        out["population_source"] = np.where(known, source, kept)
    else:
        out["population_source"] = np.where(known, source, np.full(len(out), None, dtype=object))
    return out
