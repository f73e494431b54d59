"""The contrat's ledger: actions, euros and beneficiaries per quartier and comparison row.

Where an action counts (:func:`action_places`):

* an action that names its **quartiers** (codes, names, "tous") counts in each of them and in
  ``qpv``; one without quartiers but with a **location** goes to the quartier holding it
  (:func:`~cdv_geo.core.assign.assign_quartier`);
* with ``communes``, the ``commune`` row holds every action in a quartier and every located
  action inside the commune perimeter (:func:`~cdv_geo.core.assign.in_communes`); ``hors_qpv``
  the located actions in the commune outside every quartier;
* an action with neither quartier nor location, or located outside every quartier, is **listed
  apart** (:func:`actions_apart`): it never counts in a quartier row, and outside the commune
  in no row.

Money. An action's euros are the sum of its funding lines (of `year` when given). An action of
one quartier puts all its euros there; an action of several quartiers is split between them --
by their population (``split="population"``, the default when a population table is given:
each resident of the quartiers it serves counts the same), else in equal parts
(``split="equal"``). The ``qpv`` and ``commune`` rows count each action once, in full, so the
quartier rows sum to ``qpv``. Beneficiaries given by quartier (``Presles : 40 ; Chevreux : 25``)
are put where they are; a single count is split like the euros.

Per inhabitant. With the population table of the pack's population rule
(:func:`cdv_geo.metrics.population.quartier_population`: ``population``,
``population_source``, indexed like this table), ``amount_per_inhabitant_eur`` = euros /
population and ``beneficiaries_per_100`` = 100 x beneficiaries / population, each row over its
own population (``qpv`` over the quartiers' sum, ``commune`` over the town's published figure).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.assign import assign_quartier, in_communes
from cdv_geo.core.errors import CdvGeoWarning, DataValidationError, Problem
from cdv_geo.core.layers import quartier_codes
from cdv_geo.core.tables import COMMUNE, HORS_QPV, INDEX, QPV, quartier_index, quartier_names
from cdv_geo.schema.actions import ALL_QUARTIERS, PILLARS, Programme, quartier_lookup
from cdv_geo.schema.enums import normalize_token

__all__ = [
    "LEDGER_COLUMNS",
    "PLACES",
    "PLACE_LABELS",
    "action_places",
    "actions_apart",
    "ledger",
    "ledger_by",
]

#: Where an action counts (:func:`action_places`).
PLACES: tuple[str, ...] = (
    "quartiers",
    "hors_qpv",
    "outside_quartiers",
    "outside_commune",
    "no_place",
)
#: (French, English) label of each place of an action listed apart.
PLACE_LABELS: dict[str, tuple[str, str]] = {
    "quartiers": ("dans les quartiers", "in the quartiers"),
    "hors_qpv": (
        "localisée dans la commune hors des quartiers",
        "located in the town outside the quartiers",
    ),
    "outside_quartiers": ("localisée hors des quartiers", "located outside the quartiers"),
    "outside_commune": ("localisée hors de la commune", "located outside the town"),
    "no_place": ("sans quartier ni localisation", "no quartier and no location"),
}
#: Columns of :func:`ledger` after ``name`` (population columns only with a population table).
LEDGER_COLUMNS: tuple[str, ...] = (
    "n_actions",
    "amount_eur",
    "n_beneficiaries",
    "n_actions_with_beneficiaries",
    "population",
    "population_source",
    "amount_per_inhabitant_eur",
    "beneficiaries_per_100",
)

Split = Literal["population", "equal"]


def action_places(
    programme: Programme, quartiers: gpd.GeoDataFrame, *, communes: gpd.GeoDataFrame | None = None
) -> pd.DataFrame:
    """Return where each action counts: its quartier codes and its place (:data:`PLACES`).

    Examples
    --------
    >>> from shapely import Point, box
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Presles"]}, geometry=[box(0, 0, 10, 10)],
    ...                      crs=2154)
    >>> a = gpd.GeoDataFrame({"id": ["1", "2", "3"], "quartiers": [(), (), ()]},
    ...                      geometry=[Point(5, 5), Point(50, 5), None], crs=2154)
    >>> action_places(Programme(a, pd.DataFrame()), q)
       quartiers              place
    id
    1      (Q1,)          quartiers
    2         ()  outside_quartiers
    3         ()           no_place
    """
    actions = programme.actions
    codes = [str(c) for c in quartier_codes(quartiers)]
    # a sheet read without the quartiers keeps names and "tous" as written: match them here
    lookup = quartier_lookup(quartiers)
    where: list[tuple[str, ...]] = []
    unknown: list[tuple[str, str]] = []
    for a, cs in zip(actions["id"], actions["quartiers"], strict=True):
        found: list[str] = []
        for c in cs:
            tok = normalize_token(c)
            hits = codes if tok in ALL_QUARTIERS else [lookup[tok]] if tok in lookup else []
            if not hits:
                unknown.append((str(a), str(c)))
            found += [h for h in hits if h not in found]
        where.append(tuple(found))
    if unknown:
        raise DataValidationError(
            [
                Problem(
                    f"quartier {c!r} is not one of the territory's ({', '.join(codes)})",
                    file=programme.source,
                    layer="actions",
                    feature=a,
                    field="quartiers",
                )
                for a, c in unknown
            ]
        )
    place = ["quartiers" if cs else "no_place" for cs in where]
    geoms = actions.geometry if isinstance(actions, gpd.GeoDataFrame) else None
    if geoms is not None:
        todo = np.array(
            [
                not cs and g is not None and not g.is_empty
                for cs, g in zip(where, geoms, strict=True)
            ]
        )
        if todo.any():
            located = actions[todo]
            held = assign_quartier(located, quartiers).to_numpy(dtype=object)
            town = in_communes(located, communes) if communes is not None else None
            for k, pos in enumerate(np.flatnonzero(todo)):
                if held[k] is not None:
                    where[pos], place[pos] = (str(held[k]),), "quartiers"
                elif town is None:
                    place[pos] = "outside_quartiers"
                else:
                    place[pos] = "hors_qpv" if town[k] else "outside_commune"
    return pd.DataFrame(
        {"quartiers": where, "place": place}, index=pd.Index(actions["id"].astype(str), name="id")
    )


def _active(programme: Programme, year: int | None) -> np.ndarray:
    """Actions counted in `year`: funded that year, or running then (all when None)."""
    actions = programme.actions
    if year is None:
        return np.ones(len(actions), dtype=bool)
    funded = set(programme.funding.loc[programme.funding["year"] == year, "action"].astype(str))
    start = actions["start_year"].astype("Float64").fillna(-np.inf).to_numpy(dtype=float)
    ends = actions["end_year"].astype("Float64").fillna(actions["start_year"].astype("Float64"))
    end = ends.fillna(np.inf).to_numpy(dtype=float)
    running = (start <= year) & (year <= end)
    has_dates = actions["start_year"].notna().to_numpy() | actions["end_year"].notna().to_numpy()
    return np.array([a in funded for a in actions["id"].astype(str)]) | (running & has_dates)


def _weights(
    places: pd.DataFrame,
    quartiers: gpd.GeoDataFrame,
    population: pd.DataFrame | None,
    split: Split | None,
    communes: gpd.GeoDataFrame | None,
) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Row keys, the share of each action's euros in each row, and whether it counts there."""
    codes = [str(c) for c in quartier_codes(quartiers)]
    rows = [QPV] + ([COMMUNE, HORS_QPV] if communes is not None else [])
    index = quartier_index(quartiers, rows)
    rule = split or ("population" if population is not None else "equal")
    if rule == "population" and population is None:
        raise ValueError('split="population" needs the population table (population=)')
    pops = _populations(population, codes)
    share = np.zeros((len(places), len(index)))
    uneven: list[str] = []
    for i, (cs, place) in enumerate(zip(places["quartiers"], places["place"], strict=True)):
        cols = [codes.index(c) for c in cs]
        if cols:
            w = np.array([pops.get(c, np.nan) for c in cs]) if rule == "population" else None
            if w is None or not np.isfinite(w).all() or w.sum() <= 0:
                if w is not None and len(cols) > 1:
                    uneven.append(str(places.index[i]))
                w = np.ones(len(cols))
            share[i, cols] = w / w.sum()
            share[i, index.get_loc(QPV)] = 1.0
        if communes is not None and (cols or place == "hors_qpv"):
            share[i, index.get_loc(COMMUNE)] = 1.0
            share[i, index.get_loc(HORS_QPV)] = float(place == "hors_qpv")
    if uneven:
        warnings.warn(
            f"actions {', '.join(uneven)}: a quartier they serve has no population; their euros "
            "and beneficiaries are split in equal parts between their quartiers",
            CdvGeoWarning,
            stacklevel=3,
        )
    return index, share, share > 0


def _populations(population: pd.DataFrame | None, codes: Sequence[str]) -> dict[str, float]:
    if population is None:
        return {}
    pop = population["population"].astype(float)
    return {c: float(pop[c]) for c in codes if c in pop.index}


def _amounts(programme: Programme, year: int | None) -> pd.DataFrame:
    funding = programme.funding
    if year is not None:
        funding = funding[funding["year"] == year]
    return funding.assign(action=funding["action"].astype(str))


def ledger(
    programme: Programme,
    quartiers: gpd.GeoDataFrame,
    *,
    communes: gpd.GeoDataFrame | None = None,
    population: pd.DataFrame | None = None,
    split: Split | None = None,
    year: int | None = None,
) -> pd.DataFrame:
    """Return actions, euros and beneficiaries per quartier and comparison row.

    Parameters
    ----------
    programme : Programme
        The actions and funding lines (:func:`cdv_geo.io.actions.read_actions`).
    quartiers : GeoDataFrame
        The quartiers (``code``, ``name``).
    communes : GeoDataFrame, optional
        Given, the table has the ``commune`` and ``hors_qpv`` rows.
    population : DataFrame, optional
        The population rule's table (``population``, ``population_source``, indexed by
        ``quartier``): given, the table has euros per inhabitant and beneficiaries per 100.
    split : {"population", "equal"}, optional
        How an action of several quartiers is shared between them (default: by population when
        `population` is given, else equal parts).
    year : int, optional
        Only the funding lines of this year, and the actions funded or running then.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier``: ``name``, ``n_actions``, ``amount_eur``, ``n_beneficiaries``
        (known counts summed), ``n_actions_with_beneficiaries``, and with `population`
        ``population``, ``population_source``, ``amount_per_inhabitant_eur``,
        ``beneficiaries_per_100``, ``reason`` (why a figure is NaN).

    Examples
    --------
    Two actions: 10,000 € in Presles alone, 6,000 € shared by Presles (300 residents) and
    Chevreux (100): Presles gets 10,000 + 4,500, Chevreux 1,500.

    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"code": ["Q1", "Q2"], "name": ["Presles", "Chevreux"]},
    ...                      geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=2154)
    >>> a = pd.DataFrame({"id": ["1", "2"], "pillar": ["youth", "youth"],
    ...     "quartiers": [("Q1",), ("Q1", "Q2")], "start_year": [2024, 2024],
    ...     "end_year": [2024, 2024], "n_beneficiaries": [30, 40],
    ...     "beneficiaries_by_quartier": [None, None]})
    >>> f = pd.DataFrame({"action": ["1", "2"], "funder": ["État", "Ville"],
    ...                   "amount_eur": [10000.0, 6000.0], "year": [2024, 2024]})
    >>> pop = pd.DataFrame({"population": [300.0, 100.0, 400.0],
    ...                     "population_source": ["official"] * 3},
    ...                    index=pd.Index(["Q1", "Q2", "qpv"], name="quartier"))
    >>> t = ledger(Programme(a, f), q, population=pop)
    >>> t[["n_actions", "amount_eur", "n_beneficiaries"]]
              n_actions  amount_eur  n_beneficiaries
    quartier
    Q1                2     14500.0             60.0
    Q2                1      1500.0             10.0
    qpv               2     16000.0             70.0
    >>> t[["amount_per_inhabitant_eur", "beneficiaries_per_100"]].round(2)
              amount_per_inhabitant_eur  beneficiaries_per_100
    quartier
    Q1                            48.33                   20.0
    Q2                            15.00                   10.0
    qpv                           40.00                   17.5
    """
    places = action_places(programme, quartiers, communes=communes)
    index, share, member = _weights(places, quartiers, population, split, communes)
    active = _active(programme, year)
    share, member = share * active[:, None], member & active[:, None]
    money = _amounts(programme, year).groupby("action")["amount_eur"].sum()
    per_action = money.reindex(places.index).fillna(0.0).to_numpy()
    benef, known = _beneficiaries(programme, index, share)
    out = pd.DataFrame(
        {
            "n_actions": member.sum(axis=0).astype(int),
            "amount_eur": per_action @ share,
            "n_beneficiaries": benef,
            "n_actions_with_beneficiaries": (member & known[:, None]).sum(axis=0).astype(int),
        },
        index=index,
    )
    reasons = pd.Series([None] * len(index), index=index, dtype=object)
    none = out["n_actions_with_beneficiaries"].to_numpy() == 0
    out.loc[none, "n_beneficiaries"] = np.nan
    reasons[none] = "no action of this row gives its number of beneficiaries"
    if population is not None:
        pop = population.reindex(index)
        out["population"] = pop["population"].astype(float)
        out["population_source"] = pop["population_source"]
        with np.errstate(divide="ignore", invalid="ignore"):
            out["amount_per_inhabitant_eur"] = out["amount_eur"] / out["population"]
            out["beneficiaries_per_100"] = 100 * out["n_beneficiaries"] / out["population"]
        unknown = ~(out["population"] > 0).to_numpy()
        reasons[unknown] = [_join(r, "population unknown") for r in reasons[unknown]]
        out.loc[unknown, ["amount_per_inhabitant_eur", "beneficiaries_per_100"]] = np.nan
    names = quartier_names(quartiers)
    out.insert(0, "name", [names[k] for k in index])
    if reasons.notna().any():
        out["reason"] = reasons
    out.attrs["split"] = split or ("population" if population is not None else "equal")
    return out


def _join(a: str | None, b: str) -> str:
    return b if not a else f"{a}; {b}"


def _beneficiaries(
    programme: Programme, index: pd.Index, share: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Beneficiaries per row (counts by quartier where given), and which actions give one."""
    actions = programme.actions
    counts = actions["n_beneficiaries"].astype("Float64").fillna(np.nan).to_numpy(dtype=float)
    known = np.isfinite(counts)
    total = np.where(known, counts, 0.0) @ share
    by = actions.get("beneficiaries_by_quartier", pd.Series([None] * len(actions)))
    for i, d in enumerate(by):
        if not isinstance(d, dict) or not share[i].any():
            continue
        for code in index:  # replace the split of this action by its counts where given
            pos = index.get_loc(code)
            if code in d and share[i, pos] > 0:
                total[pos] += d[code] - counts[i] * share[i, pos]
    return total, known


def ledger_by(
    programme: Programme,
    quartiers: gpd.GeoDataFrame,
    by: Literal["pillar", "funder", "year"],
    *,
    communes: gpd.GeoDataFrame | None = None,
    population: pd.DataFrame | None = None,
    split: Split | None = None,
    year: int | None = None,
) -> pd.DataFrame:
    """Return actions and euros per quartier and comparison row, by pillar, funder or year.

    Same rows, split rule and `year` as :func:`ledger`. By funder and by year, an action counts
    where it has a funding line of that funder or year; by pillar, under its pillar.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier`` and `by` (every value present in the programme: pillars in
        :data:`~cdv_geo.schema.actions.PILLARS` order then the contrat's own, funders by total
        euros, years ascending), with ``name``, ``n_actions`` and ``amount_eur``; a row with no
        action holds 0 (nothing was spent there, nothing is missing).

    Examples
    --------
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Presles"]}, geometry=[box(0, 0, 1, 1)],
    ...                      crs=2154)
    >>> a = pd.DataFrame({"id": ["1", "2"], "pillar": ["youth", "social_cohesion"],
    ...     "quartiers": [("Q1",), ("Q1",)], "start_year": [2024, 2024], "end_year": [2024, 2024],
    ...     "n_beneficiaries": [None, None], "beneficiaries_by_quartier": [None, None]})
    >>> f = pd.DataFrame({"action": ["1", "1", "2"], "funder": ["État", "Ville", "Ville"],
    ...                   "amount_eur": [1000.0, 500.0, 2000.0], "year": [2024, 2024, 2024]})
    >>> ledger_by(Programme(a, f), q, "funder")[["n_actions", "amount_eur"]]
                    n_actions  amount_eur
    quartier funder
    Q1       Ville          2      2500.0
             État           1      1000.0
    qpv      Ville          2      2500.0
             État           1      1000.0
    """
    if by not in ("pillar", "funder", "year"):
        raise ValueError(f'by={by!r}: expected "pillar", "funder" or "year"')
    places = action_places(programme, quartiers, communes=communes)
    index, share, member = _weights(places, quartiers, population, split, communes)
    active = _active(programme, year)
    share, member = share * active[:, None], member & active[:, None]
    lines = _amounts(programme, year)
    ids = places.index
    if by == "pillar":
        pillars = programme.actions["pillar"].astype(str).to_numpy()
        money = lines.groupby("action")["amount_eur"].sum().reindex(ids).fillna(0.0).to_numpy()
        values = [p for p in PILLARS if p in set(pillars)]
        values += sorted(set(pillars) - set(values))
        parts = {v: (money * (pillars == v), pillars == v) for v in values}
    else:
        col = "funder" if by == "funder" else "year"
        table = lines.pivot_table(
            index="action", columns=col, values="amount_eur", aggfunc="sum"
        ).reindex(ids)
        counted = lines.groupby(["action", col]).size().unstack(col).reindex(ids).notna()
        order = (
            table.sum().sort_values(ascending=False, kind="stable").index
            if by == "funder"
            else sorted(table.columns)
        )
        values = list(order)
        parts = {v: (table[v].fillna(0.0).to_numpy(), counted[v].to_numpy()) for v in values}
    names = quartier_names(quartiers)
    records = []
    for key in index:
        pos = index.get_loc(key)
        for v in values:
            money, has = parts[v]
            records.append(
                {
                    INDEX: key,
                    by: v,
                    "name": names[key],
                    "n_actions": int((member[:, pos] & has).sum()),
                    "amount_eur": float(money @ share[:, pos]),
                }
            )
    out = pd.DataFrame(records, columns=[INDEX, by, "name", "n_actions", "amount_eur"])
    if by == "year":
        out[by] = out[by].astype("Int64")
    return out.set_index([INDEX, by])


def actions_apart(
    programme: Programme,
    quartiers: gpd.GeoDataFrame,
    *,
    communes: gpd.GeoDataFrame | None = None,
    year: int | None = None,
    lang: str = "fr",
) -> pd.DataFrame:
    """Return the actions with no quartier, or located outside every quartier, listed apart.

    Returns
    -------
    pandas.DataFrame
        Indexed by the action ``id``: ``title``, ``pillar``, ``operator``, ``amount_eur`` (of
        `year` when given), ``place`` (:data:`PLACES`), ``place_label`` (in `lang`) and
        ``counted_in`` (``"hors_qpv"`` for an action located in the commune outside the
        quartiers, which counts in the ``commune`` and ``hors_qpv`` rows; else None).

    Examples
    --------
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Presles"]}, geometry=[box(0, 0, 1, 1)],
    ...                      crs=2154)
    >>> a = pd.DataFrame({"id": ["1", "2"], "title": ["GUSP", "Cité éducative"],
    ...     "pillar": ["living_environment", "youth"], "operator": [None, None],
    ...     "quartiers": [("Q1",), ()], "start_year": [2024, 2024], "end_year": [2024, 2024]})
    >>> f = pd.DataFrame({"action": ["2"], "funder": ["État"], "amount_eur": [9000.0],
    ...                   "year": [2024]})
    >>> actions_apart(Programme(a, f), q)[["title", "amount_eur", "place_label"]]
                 title  amount_eur                    place_label
    id
    2   Cité éducative      9000.0  sans quartier ni localisation
    """
    places = action_places(programme, quartiers, communes=communes)
    apart = (places["place"] != "quartiers").to_numpy() & _active(programme, year)
    actions = programme.actions.assign(id=programme.actions["id"].astype(str)).set_index("id")
    money = _amounts(programme, year).groupby("action")["amount_eur"].sum()
    out = pd.DataFrame(index=places.index[apart])
    for col in ("title", "pillar", "operator"):
        out[col] = actions[col].reindex(out.index) if col in actions.columns else None
    out["amount_eur"] = money.reindex(out.index).fillna(0.0)
    out["place"] = places["place"][apart]
    pick = 0 if lang == "fr" else 1
    out["place_label"] = [PLACE_LABELS[p][pick] for p in out["place"]]
    out["counted_in"] = pd.Series(
        [HORS_QPV if p == "hors_qpv" else None for p in out["place"]], index=out.index, dtype=object
    )
    return out
