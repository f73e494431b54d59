"""The TFPB counterparts: what each landlord did for the abatement it received.

Social landlords get a 30 % abatement of the property tax (taxe foncière sur les propriétés
bâties, TFPB) on their dwellings in a QPV; in return they fund actions for the tenants, filed
under the eight axes of the national framework (:data:`~cdv_geo.schema.actions.TFPB_AXES`:
présence de proximité, formation des personnels, sur-entretien, déchets et encombrants,
tranquillité résidentielle, concertation des locataires, animation et lien social, petits
travaux). The contrat's annual report shows, per landlord, quartier and year, the abatement, the
counterparts by axis and the **balance**: counterparts spent / abatement (1 = the abatement was
entirely spent on counterparts).

Both functions read the table of :func:`cdv_geo.io.actions.read_tfpb`. Their ``qpv`` rows sum
each landlord's quartiers; there is no ``commune`` row: the abatement exists in the quartiers
only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.layers import quartier_codes
from cdv_geo.core.tables import INDEX, QPV, quartier_names
from cdv_geo.schema.actions import TFPB_ABATEMENT, TFPB_AXES

__all__ = ["tfpb_balance", "tfpb_counterparts"]

_KEYS = ["landlord", "year"]


def _ordered(tfpb: pd.DataFrame, quartiers: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """Return the lines of the known quartiers (of `year`), with their row key."""
    codes = [str(c) for c in quartier_codes(quartiers)]
    lines = tfpb[tfpb["quartier"].astype(str).isin(codes)]
    stray = sorted(set(tfpb["quartier"].astype(str)) - set(codes))
    if stray:
        raise ValueError(
            f"TFPB lines of quartiers {stray} that are not the territory's ({', '.join(codes)}); "
            "read the statement with quartiers= to match names"
        )
    if year is not None:
        lines = lines[lines["year"] == year]
    return lines.assign(quartier=lines["quartier"].astype(str))


def _with_qpv(frame: pd.DataFrame, quartiers: pd.DataFrame, levels: list[str]) -> pd.DataFrame:
    """Quartier rows in layer order, then the ``qpv`` rows (sum of the quartiers) per key."""
    codes = [str(c) for c in quartier_codes(quartiers)]
    total = frame.groupby(levels, sort=False).sum(numeric_only=True).reset_index()
    total[INDEX] = QPV
    both = pd.concat([frame, total], ignore_index=True)
    rank = {k: i for i, k in enumerate([*codes, QPV])}
    both["_rank"] = both[INDEX].map(rank)
    both = both.sort_values(["_rank", *levels], kind="stable").drop(columns="_rank")
    names = quartier_names(quartiers)
    both.insert(0, "name", both[INDEX].map(names))
    return both.set_index([INDEX, *levels])


def tfpb_balance(
    tfpb: pd.DataFrame, quartiers: pd.DataFrame, *, year: int | None = None
) -> pd.DataFrame:
    """Return the abatement, the counterparts and their balance per landlord, quartier and year.

    Parameters
    ----------
    tfpb : DataFrame
        :func:`cdv_geo.io.actions.read_tfpb`'s table (``landlord``, ``quartier``, ``year``,
        ``axis``, ``amount_eur``).
    quartiers : DataFrame
        The quartiers (``code``, ``name``).
    year : int, optional
        Only this year.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier``, ``landlord``, ``year`` (quartiers in layer order, then ``qpv``:
        each landlord's quartiers summed): ``name``, ``abatement_eur``, ``counterparts_eur``,
        ``n_counterparts``, ``balance_eur`` (counterparts - abatement), ``spent_ratio``
        (counterparts / abatement; NaN without an abatement line) and ``reason``.

    Examples
    --------
    >>> q = pd.DataFrame({"code": ["Q1", "Q2"], "name": ["Presles", "Chevreux"]})
    >>> t = pd.DataFrame({"landlord": ["OPAL"] * 4, "quartier": ["Q1", "Q1", "Q2", "Q2"],
    ...     "year": [2024] * 4, "axis": ["abatement", "waste", "abatement", "social_life"],
    ...     "amount_eur": [100000.0, 60000.0, 50000.0, 55000.0]})
    >>> tfpb_balance(t, q)[["abatement_eur", "counterparts_eur", "spent_ratio"]].round(2)
                            abatement_eur  counterparts_eur  spent_ratio
    quartier landlord year
    Q1       OPAL     2024       100000.0           60000.0         0.60
    Q2       OPAL     2024        50000.0           55000.0         1.10
    qpv      OPAL     2024       150000.0          115000.0         0.77
    """
    lines = _ordered(tfpb, quartiers, year)
    keys = [INDEX, *_KEYS]
    is_ab = (lines["axis"] == TFPB_ABATEMENT).to_numpy()
    ab = lines[is_ab].rename(columns={"quartier": INDEX}).groupby(keys)["amount_eur"]
    cp = lines[~is_ab].rename(columns={"quartier": INDEX}).groupby(keys)["amount_eur"]
    frame = pd.concat(
        {
            "abatement_eur": ab.sum(min_count=1),
            "counterparts_eur": cp.sum(),
            "n_counterparts": cp.size(),
        },
        axis=1,
    ).reset_index()
    frame["counterparts_eur"] = frame["counterparts_eur"].fillna(0.0)
    frame["n_counterparts"] = frame["n_counterparts"].fillna(0).astype(int)
    out = _with_qpv(frame, quartiers, _KEYS)
    # a qpv sum over quartiers of which one has no abatement line is not an abatement
    missing = frame.assign(m=frame["abatement_eur"].isna()).groupby(_KEYS)["m"].any()
    for landlord, yr in missing[missing].index.tolist():
        out.loc[(QPV, landlord, yr), "abatement_eur"] = np.nan
    out["balance_eur"] = out["counterparts_eur"] - out["abatement_eur"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["spent_ratio"] = out["counterparts_eur"] / out["abatement_eur"]
    no_ab = out["abatement_eur"].isna().to_numpy()
    zero = (out["abatement_eur"] == 0).to_numpy()
    out.loc[zero, "spent_ratio"] = np.nan
    reason: list[Any] = [None] * len(out)
    for i in np.flatnonzero(no_ab | zero):
        reason[i] = (
            "no abatement line for this landlord, quartier and year"
            if no_ab[i]
            else "the abatement is 0 €"
        )
    if any(reason):
        out["reason"] = reason
    return out


def tfpb_counterparts(
    tfpb: pd.DataFrame, quartiers: pd.DataFrame, *, year: int | None = None
) -> pd.DataFrame:
    """Return the counterparts by axis of the national framework, per landlord, quartier, year.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier``, ``landlord``, ``year``, ``axis`` (the eight axes in the
        framework's order, for every landlord, quartier and year with a line; then ``qpv``):
        ``name``, ``n_counterparts``, ``amount_eur`` (0 where nothing was declared).

    Examples
    --------
    >>> q = pd.DataFrame({"code": ["Q1"], "name": ["Presles"]})
    >>> t = pd.DataFrame({"landlord": ["OPAL"] * 3, "quartier": ["Q1"] * 3, "year": [2024] * 3,
    ...     "axis": ["abatement", "waste", "waste"], "amount_eur": [9e4, 2e4, 1e4]})
    >>> c = tfpb_counterparts(t, q)
    >>> c.loc[("qpv", "OPAL", 2024, "waste"), ["n_counterparts", "amount_eur"]].tolist()
    [2.0, 30000.0]
    >>> len(c)  # 8 axes, for Q1 and qpv
    16
    """
    lines = _ordered(tfpb, quartiers, year).rename(columns={"quartier": INDEX})
    combos = lines[[INDEX, *_KEYS]].drop_duplicates()
    cp = lines[lines["axis"] != TFPB_ABATEMENT]
    sums = cp.groupby([INDEX, *_KEYS, "axis"])["amount_eur"].agg(["size", "sum"])
    records = []
    for row in combos.itertuples(index=False):
        for axis in TFPB_AXES:
            key = (*row, axis)
            found = key in sums.index
            records.append(
                {
                    INDEX: row[0],
                    "landlord": row[1],
                    "year": row[2],
                    "axis": axis,
                    "n_counterparts": int(sums.loc[key, "size"]) if found else 0,
                    "amount_eur": float(sums.loc[key, "sum"]) if found else 0.0,
                }
            )
    frame = pd.DataFrame(records, columns=[INDEX, *_KEYS, "axis", "n_counterparts", "amount_eur"])
    out = _with_qpv(frame, quartiers, [*_KEYS, "axis"])
    axis_rank = {a: i for i, a in enumerate(TFPB_AXES)}
    flat = out.reset_index()
    flat["_q"] = flat[INDEX].map({k: i for i, k in enumerate(dict.fromkeys(flat[INDEX]))})
    flat["_a"] = flat["axis"].map(axis_rank)
    flat = flat.sort_values(["_q", *_KEYS, "_a"], kind="stable").drop(columns=["_q", "_a"])
    return flat.set_index([INDEX, *_KEYS, "axis"])
