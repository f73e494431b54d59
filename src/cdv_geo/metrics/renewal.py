"""NPNRU renewal operations: dwelling balance, reconstitution, typology, tenure and density.

The steering committee asks each year *what the renewal programme has done to the housing of
each quartier*. The functions here answer from a ``renewal_sites`` layer (one feature per
operation: demolition, reconstruction, rehabilitation, façade requalification,
residentialisation, with its number of dwellings) and the ``quartiers`` layer. Which quartier an
operation belongs to is decided once, in :mod:`cdv_geo.metrics.renewal_links`; the progress and
timeline tables live in :mod:`cdv_geo.metrics.renewal_progress` (both re-exported here).

The tables follow the result-table contract of :mod:`cdv_geo.core.tables`: one row per quartier
(index ``quartier``), then the named comparison rows: ``qpv`` (the operations of the quartiers
together: the sum of their rows), and, when the function is given ``communes=``, ``commune``
(the operations standing inside the commune perimeter: one of a neighbouring commune that sits
in the layer never counts) and ``hors_qpv`` (standing in the commune, outside every quartier).
Every count is a number of **dwellings**.

The ANRU "one for one" principle (*reconstitution à 1 pour 1* of the demolished social
dwellings, Règlement général de l'ANRU relatif au NPNRU, titre II) is measured by the
reconstitution ratio ``rebuilt / demolished``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.assign import assign_quartier, comparison_areas, in_communes
from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning, DataValidationError, Problem
from cdv_geo.core.layers import as_layer, quartier_codes
from cdv_geo.core.tables import (
    COMMUNE,
    HORS_QPV,
    QPV,
    join_reasons,
    quartier_table,
    rows_of,
)
from cdv_geo.metrics.renewal_links import metric_inputs, renewal_links, site_links, year_mask
from cdv_geo.metrics.renewal_progress import renewal_progress, renewal_timeline
from cdv_geo.schema import TENURES

__all__ = [
    "BALANCE_COLUMNS",
    "DENSITY_COLUMNS",
    "STOCK_UNKNOWN",
    "renewal_balance",
    "renewal_density",
    "renewal_links",
    "renewal_progress",
    "renewal_timeline",
]

#: Operation -> count column of the balance table (dwellings).
_OPERATION_COLUMNS = {
    "demolition": "n_demolished",
    "reconstruction": "n_rebuilt",
    "rehabilitation": "n_rehabilitated",
    "residentialisation": "n_residentialised",
    "facade_requalification": "n_facades_requalified",
}
#: Tenures counted as "private" (ANRU's *diversification de l'habitat*): everything but social.
_PRIVATE_TENURES = tuple(t for t in TENURES if t != "social")
_M2_PER_HA = 10_000.0
#: Columns of :func:`renewal_density`, after ``name``.
DENSITY_COLUMNS = (
    "area_m2",
    "n_dwellings_before",
    "n_dwellings_after",
    "density_before_per_ha",
    "density_after_per_ha",
)
#: Columns of :func:`renewal_balance`, after ``name`` (``reason`` follows when a value is NaN).
BALANCE_COLUMNS = (
    "n_demolished",
    "n_rebuilt",
    "n_rebuilt_on_site",
    "n_rebuilt_off_site",
    "n_rebuilt_off_site_in_qpv",
    "n_received",
    "n_rehabilitated",
    "n_residentialised",
    "n_facades_requalified",
    "net_change_dwellings",
    "rebuilt_minus_demolished_dwellings",
    "reconstitution_ratio",
    "demolished_collective_share",
    "demolished_individual_share",
    "built_collective_share",
    "built_individual_share",
    "built_social_share",
    "built_private_share",
    *DENSITY_COLUMNS,
)


def renewal_balance(
    renewal_sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    year: int | None = None,
    stock: Mapping[str, float] | pd.Series | None = None,
    residences: gpd.GeoDataFrame | None = None,
    qpv: gpd.GeoDataFrame | None = None,
    crs: Any = None,
    by: Sequence[str] | str | None = None,
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Dwelling balance of the renewal programme, per quartier, for the QPV and the commune.

    Parameters
    ----------
    renewal_sites, quartiers : geopandas.GeoDataFrame
        The ``renewal_sites`` and ``quartiers`` layers (attribution of each operation to a
        quartier: :mod:`cdv_geo.metrics.renewal_links`).
    year : int, optional
        Balance as of this year: only operations dated up to `year` count (whatever their
        status; undated operations are left out with a warning).
    stock : mapping or pandas.Series, optional
        Dwellings per row key **before the programme**: quartier codes, and ``"commune"`` (the
        whole commune), ``"qpv"``, ``"hors_qpv"`` when known. The stock is taken, in this
        order, from `stock`, from `residences` (their ``dwellings``, each residence in the
        quartier holding it; ``commune`` counts the residences inside the commune), or from a
        ``dwellings`` column of `quartiers`. ``qpv`` defaults to the sum of the quartiers and
        ``hors_qpv`` to ``commune`` minus ``qpv``. Without any, the stock and density columns
        are NaN with the reason :data:`STOCK_UNKNOWN`.
    residences : geopandas.GeoDataFrame, optional
        A ``residences`` layer giving the stock (see `stock`).
    qpv : geopandas.GeoDataFrame, optional
        Every QPV perimeter, for "off site but inside a QPV" (default: `quartiers`).
    crs : optional
        Metric CRS of areas and distances: the project's; else EPSG:2154 in metropolitan France.
    by : None
        Removed: the breakdown by operation, status, housing type or tenure is
        :func:`renewal_progress`. ``None`` and ``()`` are accepted for old calls.
    communes : geopandas.GeoDataFrame, optional
        The territory's commune(s): adds the rows ``commune`` and ``hors_qpv``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier``: codes in layer order, then ``qpv`` (the quartiers together:
        each count is the sum of the quartier rows), then with `communes` ``commune`` and
        ``hors_qpv``, which count the operations by where they stand (inside the commune
        perimeter; and outside every quartier), whichever quartier a reconstruction
        compensates. ``name``, then (dwellings):

        - ``n_demolished``, ``n_rehabilitated``, ``n_residentialised``,
          ``n_facades_requalified``: operations attributed to the quartier;
        - ``n_rebuilt`` = ``n_rebuilt_on_site`` + ``n_rebuilt_off_site``: reconstruction
          compensating the quartier; ``n_rebuilt_off_site_in_qpv``: the part of
          ``n_rebuilt_off_site`` standing inside another QPV;
        - ``n_received``: reconstruction standing in the quartier that compensates another one
          (on ``commune``: every off-site reconstruction standing in the commune);
        - ``net_change_dwellings``: change of the number of dwellings *standing in* the quartier,
          reconstruction built in it minus demolitions in it (``hors_qpv``: the change
          outside the quartiers, in the commune);
        - ``rebuilt_minus_demolished_dwellings``: the reconstitution balance, wherever rebuilt;
        - ``reconstitution_ratio`` = ``n_rebuilt / n_demolished`` (ANRU "one for one": 1);
        - ``demolished_collective_share``, ``demolished_individual_share`` (demolished in the
          quartier) and ``built_collective_share``, ``built_individual_share`` (built in it),
          fractions of the dwellings whose ``housing_type`` is known: the stock's typology is
          not in the data model, so the typology shift is read as demolished → built;
        - ``built_social_share``, ``built_private_share`` (intermediate, private rental,
          ownership, private: ANRU's *diversification*), among the dwellings built in the
          quartier whose ``tenure`` is known;
        - ``area_m2`` (of the quartier, of their union, of the commune, of the commune minus
          the quartiers: :func:`cdv_geo.core.assign.comparison_areas`),
          ``n_dwellings_before``, ``n_dwellings_after`` (= before + ``net_change_dwellings``),
          ``density_before_per_ha``, ``density_after_per_ha`` (dwellings per hectare);
        - ``reason``: why a value is NaN (nothing demolished, stock unknown...).

    Warns
    -----
    CdvGeoWarning
        See :func:`renewal_links`; also when a quartier would end with fewer than zero dwellings.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> x, y = 728_000, 6_920_000  # Soissons, Lambert-93
    >>> q = gpd.GeoDataFrame({"code": ["Q1", "Q2"], "name": ["Nord", "Sud"]},
    ...                      geometry=[box(x, y, x + 100, y + 100),
    ...                                box(x, y - 300, x + 100, y - 200)], crs=2154)
    >>> s = gpd.GeoDataFrame(
    ...     {"name": ["Tour A", "Villas", "Plots"],
    ...      "operation": ["demolition", "reconstruction", "reconstruction"],
    ...      "dwellings": [80, 40, 20], "compensates": [None, "Q1", "Q1"],
    ...      "tenure": [None, "social", "ownership"]},
    ...     geometry=[Point(x + 50, y + 50), Point(x + 50, y - 250), Point(x + 20, y + 20)],
    ...     crs=2154)
    >>> b = renewal_balance(s, q, stock={"Q1": 300, "Q2": 150})
    >>> b[["n_demolished", "n_rebuilt_on_site", "net_change_dwellings"]]
              n_demolished  n_rebuilt_on_site  net_change_dwellings
    quartier
    Q1                  80                 20                   -60
    Q2                   0                  0                    40
    qpv                 80                 20                   -20
    >>> b["n_rebuilt_off_site_in_qpv"].tolist()  # "Villas" stand in Q2, another QPV
    [40, 0, 40]
    >>> b["reconstitution_ratio"].tolist()
    [0.75, nan, 0.75]
    >>> b[["n_dwellings_after", "density_after_per_ha"]]
              n_dwellings_after  density_after_per_ha
    quartier
    Q1                    240.0                 240.0
    Q2                    190.0                 190.0
    qpv                   430.0                 215.0

    With the commune (a 1 km square holding both quartiers) and a demolition of 30 dwellings
    outside the quartiers, and one of 500 in the neighbouring commune, which never counts:

    >>> town = gpd.GeoDataFrame({"code": ["02722"], "name": ["Soissons"]},
    ...                         geometry=[box(x - 500, y - 500, x + 500, y + 500)], crs=2154)
    >>> more = gpd.GeoDataFrame(
    ...     {"name": ["Barre", "Voisine"], "operation": ["demolition"] * 2,
    ...      "dwellings": [30, 500]},
    ...     geometry=[Point(x - 200, y), Point(x + 2000, y)], crs=2154)
    >>> b = renewal_balance(pd.concat([s, more], ignore_index=True), q, communes=town,
    ...                     stock={"Q1": 300, "Q2": 150, "commune": 1000})
    >>> b[["n_demolished", "net_change_dwellings", "n_dwellings_before"]]
              n_demolished  net_change_dwellings  n_dwellings_before
    quartier
    Q1                  80                   -60               300.0
    Q2                   0                    40               150.0
    qpv                 80                   -20               450.0
    commune            110                   -50              1000.0
    hors_qpv            30                   -30               550.0
    """
    if by not in (None, ()):
        raise CdvGeoError(
            f"renewal_balance(by={by!r}): the breakdown moved to renewal_progress(sites, "
            "quartiers, by=...), one row per quartier and value, dwellings by status"
        )
    return _balance(
        renewal_sites, quartiers, year, stock, residences, qpv, crs, communes=communes, stacklevel=3
    )


def _balance(
    renewal_sites: Any,
    quartiers: Any,
    year: int | None,
    stock: Mapping[str, float] | pd.Series | None,
    residences: Any,
    qpv: Any,
    crs: Any,
    *,
    communes: Any = None,
    stacklevel: int,
) -> pd.DataFrame:
    """Body of :func:`renewal_balance`; `stacklevel` points warnings at the user's call."""
    sites, quart, others, target = metric_inputs(renewal_sites, quartiers, qpv=qpv, crs=crs)
    res = None if residences is None else as_layer(residences, "residences", kind="residences")
    town = None
    if communes is not None:
        communes = as_layer(communes, "communes", geometry="polygon").to_crs(target)
        town = in_communes(sites, communes)
    links = site_links(sites, quart, qpv=others, stacklevel=stacklevel + 1)
    keep = year_mask(
        links["year"], links.index, links["name"], year, what="balance", stacklevel=stacklevel + 1
    )
    links = links[keep]
    masks = _row_masks(links, quart, None if town is None else town[keep])
    before, stock_reason = _stock(
        quart, list(masks), stock, None if res is None else res.to_crs(target), communes
    )
    areas = comparison_areas(quart, communes)
    area = dict(zip(areas["code"], areas.area.to_numpy(float), strict=True))
    rows: dict[str, dict[str, Any]] = {}
    for key, (mine, here) in masks.items():
        row = _balance_row(links, mine, here)
        row["area_m2"] = area[key]
        row["n_dwellings_before"] = before[key]
        row["n_dwellings_after"] = before[key] + row["net_change_dwellings"]
        for when in ("before", "after"):
            row[f"density_{when}_per_ha"] = row[f"n_dwellings_{when}"] / (
                row["area_m2"] / _M2_PER_HA
            )
        row["reason"] = join_reasons(row.pop("reason"), stock_reason[key])
        rows[key] = row
    out = quartier_table(quart, rows, columns=BALANCE_COLUMNS)
    _warn_negative(out, stacklevel=stacklevel + 1)
    return out


def _row_masks(
    links: pd.DataFrame, quart: gpd.GeoDataFrame, town: np.ndarray | None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each row key, the operations it counts (``mine``) and those standing in it (``here``).

    A quartier counts the operations attributed to it and, for what stands in it, those located
    in it; ``qpv`` the same over every quartier (so it is the sum of the quartier rows). The
    commune rows are places: ``commune`` counts what stands in the commune (`town`), ``hors_qpv``
    what stands there outside every quartier, whichever quartier a reconstruction compensates.
    """
    attributed = rows_of(links["quartier"].to_numpy(dtype=object), quart)
    located = rows_of(links["located_in"].to_numpy(dtype=object), quart, in_commune=town)
    out = {k: (attributed[k], located[k]) for k in attributed}
    for key in (COMMUNE, HORS_QPV):
        if key in located:
            out[key] = (located[key], located[key])
    return out


def _share(
    dw: np.ndarray, cat: pd.Series, sel: np.ndarray, values: Iterable[str]
) -> tuple[float, bool]:
    """Share of the selected dwellings whose `cat` is in `values`, among those with `cat` known.

    The flag says the share is NaN because no selected dwelling has `cat` known.
    """
    known = sel & cat.notna().to_numpy()
    total = float(dw[known].sum())
    if total == 0:
        return float("nan"), True
    return float(dw[known & cat.isin(list(values)).to_numpy()].sum()) / total, False


def _balance_row(links: pd.DataFrame, mine: np.ndarray, here: np.ndarray) -> dict[str, Any]:
    """One balance row: the operations `mine` counts, and those standing `here`."""
    op = links["operation"].to_numpy()
    dw = links["dwellings"].to_numpy(dtype=float)
    rebuild, demol = op == "reconstruction", op == "demolition"
    loc = links["location"].to_numpy()
    row: dict[str, Any] = {
        col: int(dw[mine & (op == o)].sum()) for o, col in _OPERATION_COLUMNS.items()
    }
    row["n_rebuilt_on_site"] = int(dw[mine & rebuild & (loc == "on_site")].sum())
    row["n_rebuilt_off_site"] = row["n_rebuilt"] - row["n_rebuilt_on_site"]
    row["n_rebuilt_off_site_in_qpv"] = int(dw[mine & rebuild & (loc == "off_site_in_qpv")].sum())
    # Built here: every reconstruction standing in the row's place, whichever quartier it
    # compensates; `received` is the part compensating another one.
    built = rebuild & here
    row["n_received"] = int(dw[built & (loc != "on_site")].sum())
    row["net_change_dwellings"] = int(dw[built].sum()) - int(dw[demol & here].sum())
    row["rebuilt_minus_demolished_dwellings"] = row["n_rebuilt"] - row["n_demolished"]
    reasons: list[str | None] = []
    if row["n_demolished"]:
        row["reconstitution_ratio"] = row["n_rebuilt"] / row["n_demolished"]
    else:
        row["reconstitution_ratio"] = float("nan")
        reasons.append("nothing demolished")
    ht, tenure = links["housing_type"], links["tenure"]
    for prefix, sel, cat, values, why in (
        ("demolished", mine & demol, ht, ("collective", "individual"), "housing type"),
        ("built", built, ht, ("collective", "individual"), "housing type"),
        ("built", built, tenure, ("social", "private"), "tenure"),
    ):
        for value in values:
            wanted = _PRIVATE_TENURES if value == "private" else (value,)
            row[f"{prefix}_{value}_share"], missing = _share(dw, cat, sel, wanted)
        if missing:
            reasons.append(f"no dwelling {prefix} here with a known {why}")
    row["reason"] = join_reasons(*reasons)
    return row


#: Reason of a row whose stock before the programme is unknown (stable: mapped to a label).
STOCK_UNKNOWN = "stock before the programme unknown"


def _stock(
    quart: gpd.GeoDataFrame,
    keys: list[str],
    stock: Mapping[str, float] | pd.Series | None,
    residences: gpd.GeoDataFrame | None,
    communes: gpd.GeoDataFrame | None,
) -> tuple[dict[str, float], dict[str, str | None]]:
    """Dwellings per row key (`keys`) before the programme, and why a value is NaN."""
    codes = list(quartier_codes(quart))
    if stock is not None:
        values = _checked_stock(stock, keys, codes)
    elif residences is not None:
        if residences["dwellings"].isna().all():
            raise DataValidationError(
                [
                    Problem(
                        "residences have no dwellings to count the stock; fill the dwellings "
                        "(nb_logements) field or pass stock=",
                        layer="residences",
                        field="dwellings",
                        file=residences.attrs.get("source"),
                    )
                ]
            )
        where = assign_quartier(residences, quart).to_numpy(dtype=object)
        town = None if communes is None else in_communes(residences, communes)
        dw = residences["dwellings"].astype(float).fillna(0.0).to_numpy()
        values = {k: float(dw[m].sum()) for k, m in rows_of(where, quart, in_commune=town).items()}
    elif "dwellings" in quart.columns:
        raw = pd.to_numeric(quart["dwellings"], errors="coerce").to_numpy(float)
        values = dict(zip(codes, raw, strict=True))
    else:
        values = {}
    # the quartiers together hold the sum of their stocks; the commune minus them, the rest
    # (the quartiers of a contrat de ville lie in its communes)
    if QPV not in values and all(c in values for c in codes):
        values[QPV] = float(sum(values[c] for c in codes))
    # (a commune stock below the quartiers' is inconsistent: hors_qpv stays unknown)
    derive = HORS_QPV in keys and HORS_QPV not in values and COMMUNE in values and QPV in values
    if derive and values[COMMUNE] >= values[QPV]:
        values[HORS_QPV] = values[COMMUNE] - values[QPV]
    out = {k: float(values.get(k, np.nan)) for k in keys}
    reasons = {k: (STOCK_UNKNOWN if np.isnan(v) else None) for k, v in out.items()}
    return out, reasons


def _checked_stock(
    stock: Mapping[str, float] | pd.Series, keys: list[str], codes: list[str]
) -> dict[str, float]:
    s = pd.Series(stock, dtype=float)
    s.index = s.index.map(str)
    unknown = sorted(set(s.index) - set(keys))
    bad = [f"{k}={v}" for k, v in s.items() if not (v >= 0)]  # also catches NaN
    problems = []
    if unknown:
        rows = ", ".join(k for k in keys if k not in codes)
        problems.append(
            Problem(
                f"stock names codes that are no row of the table: {', '.join(unknown)}; "
                f"expected quartier codes {', '.join(codes)} or the rows {rows} ('all' is gone: "
                "the whole commune is 'commune', given with communes=)",
                field="stock",
            )
        )
    if bad:
        problems.append(
            Problem(f"stock must be a number of dwellings >= 0: {', '.join(bad)}", field="stock")
        )
    if problems:
        raise DataValidationError(problems)
    return {str(k): float(v) for k, v in s.items()}


def _warn_negative(out: pd.DataFrame, *, stacklevel: int) -> None:
    neg = out[out["n_dwellings_after"] < 0]
    if len(neg):
        listed = ", ".join(
            f"{c} ({a:.0f})" for c, a in zip(neg.index, neg["n_dwellings_after"], strict=True)
        )
        warnings.warn(
            f"renewal balance: fewer than zero dwellings after the programme in {listed}: the "
            "stock before the programme is smaller than the demolitions. Check `stock`.",
            CdvGeoWarning,
            stacklevel=stacklevel,
        )


def renewal_density(
    renewal_sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    stock: Mapping[str, float] | pd.Series | None = None,
    residences: gpd.GeoDataFrame | None = None,
    year: int | None = None,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Dwelling density of each quartier before and after the programme (dwellings per ha).

    ``density = dwellings / (area_m2 / 10 000)``, the area measured in the metric CRS (the
    project's `crs`; else EPSG:2154 in metropolitan France); ``n_dwellings_after`` is the stock
    before plus the quartier's ``net_change_dwellings`` (see :func:`renewal_balance`, whose
    `stock`, `residences`, `year`, `crs` and `communes` this function shares).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier`` (then ``qpv``, and ``commune``, ``hors_qpv`` with `communes`):
        ``name``, ``area_m2``, ``n_dwellings_before``, ``n_dwellings_after``,
        ``density_before_per_ha``, ``density_after_per_ha``, and ``reason`` when a value is
        NaN (:data:`STOCK_UNKNOWN`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> x, y = 728_000, 6_920_000  # Soissons, Lambert-93
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Nord"], "dwellings": [500]},
    ...                      geometry=[box(x, y, x + 200, y + 100)], crs=2154)
    >>> s = gpd.GeoDataFrame({"name": ["Tour"], "operation": ["demolition"], "dwellings": [100]},
    ...                      geometry=[Point(x + 50, y + 50)], crs=2154)
    >>> d = renewal_density(s, q)
    >>> d.loc["Q1", ["area_m2", "density_before_per_ha", "density_after_per_ha"]].tolist()
    [20000.0, 250.0, 200.0]
    """
    bal = _balance(
        renewal_sites,
        quartiers,
        year,
        stock,
        residences,
        None,
        crs,
        communes=communes,
        stacklevel=3,
    )
    keep = ["name", *DENSITY_COLUMNS]
    out = bal[keep].copy()
    if "reason" in bal.columns:
        missing = out[list(DENSITY_COLUMNS)].isna().any(axis=1)
        # keep only the reasons about the density columns (stock, area)
        why = bal["reason"].where(missing).map(_density_reason, na_action="ignore")
        if why.notna().any():
            out["reason"] = why
    return out


def _density_reason(text: str) -> str | None:
    parts = [p for p in text.split("; ") if p == STOCK_UNKNOWN]
    return "; ".join(parts) or None
