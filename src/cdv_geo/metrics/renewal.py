"""NPNRU renewal operations: dwelling balance, reconstitution, typology, tenure, timeline, density.

The steering committee asks each year *what the renewal programme has done to the housing of
each quartier*. The functions here answer from a ``renewal_sites`` layer (one feature per
operation: demolition, reconstruction, rehabilitation, façade requalification,
residentialisation, with its number of dwellings) and the ``quartiers`` layer.

Attribution of a site to a quartier
    A demolition, rehabilitation, residentialisation or façade requalification belongs to the
    quartier that contains it (its representative point). A **reconstruction** belongs to the
    quartier whose demolitions it compensates: the ``compensates`` field (a quartier code) when
    given, otherwise the *nearest* quartier — an assumption, announced by a
    :class:`~cdv_geo.CdvGeoWarning` and recorded in the ``link`` column of
    :func:`renewal_links`. A reconstruction is **on site** when it stands inside the quartier
    it compensates, **off site** otherwise; off-site reconstruction *inside another QPV* works
    against the social-mix goal of the ANRU and is counted separately.

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

from cdv_geo.core.crs import choose_metric_crs, require_crs
from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning, DataValidationError, Problem
from cdv_geo.schema import HOUSING_TYPES, OPERATIONS, STATUSES, TENURES, validate

__all__ = [
    "renewal_balance",
    "renewal_density",
    "renewal_links",
    "renewal_progress",
    "renewal_timeline",
]

#: Operation -> column of the balance table.
_OPERATION_COLUMNS = {
    "demolition": "demolished",
    "reconstruction": "rebuilt",
    "rehabilitation": "rehabilitated",
    "residentialisation": "residentialised",
    "facade_requalification": "facades_requalified",
}
#: Tenures counted as "private" (ANRU's *diversification de l'habitat*): everything but social.
_PRIVATE_TENURES = tuple(t for t in TENURES if t != "social")
_BY_FIELDS = {
    "operation": OPERATIONS,
    "status": STATUSES,
    "housing_type": HOUSING_TYPES,
    "tenure": TENURES,
}
_PROGRAMME = "programme"
_M2_PER_HA = 10_000.0


# --- inputs ------------------------------------------------------------------------------------


def _validated(gdf: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """Return `gdf` validated as `kind` (a no-op for layers read by cdv_geo)."""
    require_crs(gdf, gdf.attrs.get("source") or kind)
    if gdf.attrs.get("kind") == kind:
        return gdf
    return validate(gdf, kind, source=gdf.attrs.get("source"))


# --- links -------------------------------------------------------------------------------------


def renewal_links(
    renewal_sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    qpv: gpd.GeoDataFrame | None = None,
    crs: Any = None,
) -> pd.DataFrame:
    """Attribute every renewal operation to a quartier and locate it (on site / off site).

    Parameters
    ----------
    renewal_sites : geopandas.GeoDataFrame
        A ``renewal_sites`` layer (validated on the fly if needed).
    quartiers : geopandas.GeoDataFrame
        The ``quartiers`` layer of the contract (``code``, ``name``).
    qpv : geopandas.GeoDataFrame, optional
        Every QPV perimeter to test "off site but inside a QPV" against (e.g. the national ANCT
        file read with :func:`cdv_geo.read_qpv`); defaults to `quartiers`.
    crs : optional
        Metric CRS of the distance computations (EPSG:2154 in metropolitan France by default).

    Returns
    -------
    pandas.DataFrame
        Indexed by the site ``id``: ``name``, ``operation``, ``dwellings``, ``housing_type``,
        ``tenure``, ``status``, ``year``; ``quartier`` (code of the quartier the operation is
        attributed to), ``link`` (``"location"``, ``"compensates field"`` or
        ``"nearest quartier"``), ``distance_m`` (from the site to that quartier, 0 inside),
        ``located_in`` (code of the quartier containing the site, missing outside every
        quartier), ``in_qpv`` (code of the QPV containing the site, from `qpv`) and
        ``location``: ``"on_site"``, ``"off_site"`` or ``"off_site_in_qpv"``.

    Warns
    -----
    CdvGeoWarning
        Listing the reconstructions without a ``compensates`` code (attributed to the nearest
        quartier) and the other operations lying outside every quartier.

    Raises
    ------
    DataValidationError
        When a ``compensates`` code names no quartier (the valid codes are listed).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> x, y = 728_000, 6_920_000  # Soissons, Lambert-93
    >>> q = gpd.GeoDataFrame({"code": ["Q1", "Q2"], "name": ["Nord", "Sud"]},
    ...                      geometry=[box(x, y, x + 100, y + 100),
    ...                                box(x, y - 300, x + 100, y - 200)], crs=2154)
    >>> s = gpd.GeoDataFrame(
    ...     {"name": ["Tour A", "Villas"], "operation": ["demolition", "reconstruction"],
    ...      "dwellings": [80, 40], "compensates": [None, "Q1"]},
    ...     geometry=[Point(x + 50, y + 50), Point(x + 50, y - 250)], crs=2154)
    >>> renewal_links(s, q)[["quartier", "link", "located_in", "location"]]
       quartier               link located_in         location
    id
    1        Q1           location         Q1          on_site
    2        Q1  compensates field         Q2  off_site_in_qpv
    """
    return _links(renewal_sites, quartiers, qpv=qpv, crs=crs, stacklevel=3)


def _links(
    renewal_sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    qpv: gpd.GeoDataFrame | None,
    crs: Any,
    stacklevel: int,
) -> pd.DataFrame:
    """Body of :func:`renewal_links`; `stacklevel` points warnings at the user's call."""
    sites = _validated(renewal_sites, "renewal_sites")
    quart = _validated(quartiers, "quartiers")
    target = choose_metric_crs(quart, crs)
    q = quart.to_crs(target)
    pts = gpd.GeoDataFrame(
        {"id": sites["id"].to_numpy()},
        geometry=sites.to_crs(target).geometry.representative_point().to_numpy(),
        crs=target,
    )
    located = _containing_code(pts, q)
    others = q if qpv is None else _validated(qpv, "quartiers").to_crs(target)
    in_qpv = located if qpv is None else _containing_code(pts, others)
    nearest, dist = _nearest_code(pts, q)

    codes = set(q["code"])
    problems: list[Problem] = []
    quartier: list[Any] = []
    link: list[str] = []
    guessed: list[str] = []
    outside: list[str] = []
    for i, row in enumerate(sites.itertuples(index=False)):
        comp = row.compensates
        is_rebuild = row.operation == "reconstruction"
        if is_rebuild and isinstance(comp, str) and comp:
            if comp not in codes:
                problems.append(
                    Problem(
                        f"compensates {comp!r}, which is no quartier code; expected one of "
                        f"{', '.join(sorted(codes))} (or leave it empty to use the nearest "
                        "quartier)",
                        file=sites.attrs.get("source"),
                        layer="renewal_sites",
                        feature=str(row.id),
                        field="compensates",
                    )
                )
            quartier.append(comp)
            link.append("compensates field")
            continue
        quartier.append(nearest[i])
        if is_rebuild:
            link.append("nearest quartier")
            guessed.append(f"{row.id} ({row.name}) -> {nearest[i]} at {dist[i]:.0f} m")
        elif pd.isna(located[i]):
            link.append("nearest quartier")
            outside.append(
                f"{row.id} ({row.name}, {row.operation}) -> {nearest[i]} at {dist[i]:.0f} m"
            )
        else:
            link.append("location")
    if problems:
        raise DataValidationError(problems)
    if guessed:
        warnings.warn(
            f"renewal_sites: {len(guessed)} reconstruction(s) have no `compensates` code and are "
            f"attributed to the nearest quartier: {'; '.join(guessed)}. Fill `compensates` "
            "(quartier_compense) with the code of the quartier whose demolitions they replace.",
            CdvGeoWarning,
            stacklevel=stacklevel,
        )
    if outside:
        warnings.warn(
            f"renewal_sites: {len(outside)} operation(s) lie outside every quartier and are "
            f"attributed to the nearest one: {'; '.join(outside)}. Check their geometry.",
            CdvGeoWarning,
            stacklevel=stacklevel,
        )
    out = pd.DataFrame(
        {
            "name": sites["name"].to_numpy(),
            "operation": sites["operation"].to_numpy(),
            "dwellings": sites["dwellings"].to_numpy(),
            "housing_type": sites["housing_type"].to_numpy(),
            "tenure": sites["tenure"].to_numpy(),
            "status": sites["status"].to_numpy(),
            "year": sites["year"].to_numpy(),
            "quartier": quartier,
            "link": link,
            "distance_m": _distance_to(pts, q, quartier, located),
            "located_in": located,
            "in_qpv": in_qpv,
        },
        index=pd.Index(sites["id"].to_numpy(), name="id"),
    )
    out["location"] = _location(out)
    return out


def _containing_code(pts: gpd.GeoDataFrame, polys: gpd.GeoDataFrame) -> list[Any]:
    """Code of the first polygon containing each point (None outside every polygon)."""
    joined = gpd.sjoin(pts, polys[["code", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return [None if pd.isna(c) else str(c) for c in joined["code"].reindex(pts.index)]


def _nearest_code(pts: gpd.GeoDataFrame, polys: gpd.GeoDataFrame) -> tuple[list[str], np.ndarray]:
    """Code of, and distance to, the nearest polygon of each point (ties: first polygon)."""
    joined = gpd.sjoin_nearest(pts, polys[["code", "geometry"]], how="left", distance_col="_d")
    joined = joined[~joined.index.duplicated(keep="first")].reindex(pts.index)
    return [str(c) for c in joined["code"]], joined["_d"].to_numpy(dtype=float)


def _distance_to(
    pts: gpd.GeoDataFrame, q: gpd.GeoDataFrame, codes: Sequence[Any], located: Sequence[Any]
) -> np.ndarray:
    geom_by_code = dict(zip(q["code"], q.geometry, strict=True))
    out = np.full(len(pts), np.nan)
    for i, (pt, code) in enumerate(zip(pts.geometry, codes, strict=True)):
        if code in geom_by_code:
            out[i] = 0.0 if located[i] == code else pt.distance(geom_by_code[code])
    return out


def _location(links: pd.DataFrame) -> list[str]:
    out = []
    for q, here, qpv in zip(links["quartier"], links["located_in"], links["in_qpv"], strict=True):
        if here == q:
            out.append("on_site")
        elif isinstance(qpv, str) and qpv != q:
            out.append("off_site_in_qpv")
        else:
            out.append("off_site")
    return out


# --- balance -----------------------------------------------------------------------------------


def renewal_balance(
    renewal_sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    by: Sequence[str] | str = ("operation", "status"),
    year: int | None = None,
    stock: Mapping[str, float] | pd.Series | None = None,
    residences: gpd.GeoDataFrame | None = None,
    qpv: gpd.GeoDataFrame | None = None,
    crs: Any = None,
) -> pd.DataFrame:
    """Dwelling balance of the renewal programme, per quartier and for the whole programme.

    Parameters
    ----------
    renewal_sites, quartiers : geopandas.GeoDataFrame
        The ``renewal_sites`` and ``quartiers`` layers.
    by : str or sequence of str, default ("operation", "status")
        Fields (``operation``, ``status``, ``housing_type``, ``tenure``) whose combinations get
        a ``dwellings_<value>_<value>`` column (``unknown`` for a missing value); ``()`` for none.
    year : int, optional
        Balance as of this year: only operations dated up to `year` count (whatever their
        status; undated operations are left out with a warning).
    stock : mapping or pandas.Series, optional
        Dwellings per quartier code **before the programme**. The stock is not part of the data
        model; it is taken, in this order, from `stock`, from `residences` (their ``dwellings``
        summed per quartier containing them), or from a ``dwellings`` column of `quartiers`. All
        three are read as the stock before any operation of the programme. Without any, the stock
        and density columns are missing values.
    residences : geopandas.GeoDataFrame, optional
        A ``residences`` layer giving the stock (see `stock`).
    qpv : geopandas.GeoDataFrame, optional
        Every QPV perimeter, for "off site but inside a QPV" (default: `quartiers`).
    crs : optional
        Metric CRS for areas and distances (EPSG:2154 in metropolitan France by default).

    Returns
    -------
    pandas.DataFrame
        Indexed by the quartier ``id`` plus a last row ``"programme"`` (the whole programme),
        with columns:

        - ``code``, ``name``;
        - ``demolished``, ``rehabilitated``, ``residentialised``, ``facades_requalified``:
          dwellings of those operations attributed to the quartier;
        - ``rebuilt`` = ``rebuilt_on_site`` + ``rebuilt_off_site``: reconstruction compensating
          the quartier; ``rebuilt_off_site_in_qpv``: the part of ``rebuilt_off_site`` standing
          inside another QPV;
        - ``received``: reconstruction standing in the quartier that compensates another one;
        - ``net_change``: change of the number of dwellings *inside* the quartier (programme
          row: inside all quartiers together), i.e. ``rebuilt_on_site + received`` minus the
          dwellings demolished inside it (= ``demolished`` unless a demolition lies outside
          every quartier);
        - ``rebuilt_minus_demolished``: the reconstitution balance, wherever rebuilt;
        - ``reconstitution_ratio`` = ``rebuilt / demolished`` (ANRU "one for one": 1; missing
          when nothing is demolished);
        - typology: ``collective_share_demolished``, ``individual_share_demolished`` (dwellings
          demolished in the quartier) and ``collective_share_built``,
          ``individual_share_built`` (dwellings built in it: on site + received), fractions of
          the dwellings whose ``housing_type`` is known. With the stock's typology absent from
          the data model, the typology shift *before → after* is read as demolished → built;
        - tenure after the programme: ``social_share_built`` and ``private_share_built``
          (intermediate, private rental, ownership and private: ANRU's *diversification*),
          fractions of the dwellings built in the quartier whose ``tenure`` is known;
        - ``area_ha``, ``dwellings_before``, ``dwellings_after`` (= before + ``net_change``),
          ``density_before``, ``density_after`` (dwellings per hectare of quartier area,
          computed in the metric CRS);
        - one ``dwellings_...`` column per combination of `by` present in the data.

    Warns
    -----
    CdvGeoWarning
        See :func:`renewal_links`; also when a quartier would end with fewer than zero dwellings.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> x, y = 728_000, 6_920_000  # Soissons, Lambert-93
    >>> q = gpd.GeoDataFrame({"id": ["n", "s"], "code": ["Q1", "Q2"], "name": ["Nord", "Sud"]},
    ...                      geometry=[box(x, y, x + 100, y + 100),
    ...                                box(x, y - 300, x + 100, y - 200)], crs=2154)
    >>> s = gpd.GeoDataFrame(
    ...     {"name": ["Tour A", "Villas", "Plots"],
    ...      "operation": ["demolition", "reconstruction", "reconstruction"],
    ...      "dwellings": [80, 40, 20], "compensates": [None, "Q1", "Q1"],
    ...      "tenure": [None, "social", "ownership"]},
    ...     geometry=[Point(x + 50, y + 50), Point(x + 50, y - 250), Point(x + 20, y + 20)],
    ...     crs=2154)
    >>> b = renewal_balance(s, q, by=(), stock={"Q1": 300, "Q2": 150})
    >>> b[["demolished", "rebuilt_on_site", "rebuilt_off_site_in_qpv", "net_change"]]
               demolished  rebuilt_on_site  rebuilt_off_site_in_qpv  net_change
    id
    n                  80               20                       40         -60
    s                   0                0                        0          40
    programme          80               20                       40         -20
    >>> b["reconstitution_ratio"].tolist()
    [0.75, nan, 0.75]
    >>> b[["dwellings_before", "dwellings_after", "density_after"]]
               dwellings_before  dwellings_after  density_after
    id
    n                     300.0            240.0          240.0
    s                     150.0            190.0          190.0
    programme             450.0            430.0          215.0
    """
    quart = _validated(quartiers, "quartiers")
    by_fields = _check_by(by)
    links = _links(renewal_sites, quart, qpv=qpv, crs=crs, stacklevel=4)
    links = links[_year_mask(links["year"], links.index, links["name"], year)]
    target = choose_metric_crs(quart, crs)
    area_ha = quart.to_crs(target).geometry.area.to_numpy() / _M2_PER_HA
    before = _stock(quart, stock, residences, target)

    rows = [_balance_row(links, code) for code in quart["code"]]
    rows.append(_balance_row(links, None))
    out = pd.DataFrame(rows, index=pd.Index([*quart["id"], _PROGRAMME], name="id"))
    out.insert(0, "name", [*quart["name"], "Programme (total)"])
    out.insert(0, "code", [*quart["code"], None])
    out["area_ha"] = [*area_ha, area_ha.sum()]
    out["dwellings_before"] = [*before, before.sum(skipna=False)]
    out["dwellings_after"] = out["dwellings_before"] + out["net_change"]
    out["density_before"] = out["dwellings_before"] / out["area_ha"]
    out["density_after"] = out["dwellings_after"] / out["area_ha"]
    _warn_negative(out)
    if by_fields:
        out = out.join(_breakdown(links, quart, by_fields))
    return out


def _year_mask(
    years: pd.Series, ids: Iterable[Any], names: Iterable[Any], year: int | None
) -> np.ndarray:
    """Mask of the operations dated up to `year` (all when `year` is None); warn on undated."""
    yrs = pd.to_numeric(pd.Series(years), errors="coerce").to_numpy(dtype=float)
    if year is None:
        return np.ones(len(yrs), dtype=bool)
    undated = [f"{i} ({n})" for i, n, y in zip(ids, names, yrs, strict=True) if np.isnan(y)]
    if undated:
        warnings.warn(
            f"renewal_sites: {len(undated)} operation(s) have no year and are left out of the "
            f"balance as of {year}: {', '.join(undated)}. Fill their `year` (annee) field to "
            "count them.",
            CdvGeoWarning,
            stacklevel=3,
        )
    return ~np.isnan(yrs) & (np.nan_to_num(yrs, nan=np.inf) <= year)


def _check_by(by: Sequence[str] | str) -> list[str]:
    fields = [by] if isinstance(by, str) else list(by)
    bad = [f for f in fields if f not in _BY_FIELDS]
    if bad:
        raise CdvGeoError(
            f"by={tuple(fields)!r}: unknown field(s) {bad}; use any of {sorted(_BY_FIELDS)} "
            "(or by=() for no breakdown)"
        )
    return fields


def _share(dw: pd.Series, cat: pd.Series, values: Iterable[str]) -> float:
    """Share of dwellings whose `cat` is in `values`, among those whose `cat` is known."""
    known = cat.notna().to_numpy()
    total = float(dw[known].sum())
    if total == 0:
        return float("nan")
    return float(dw[known & cat.isin(list(values)).to_numpy()].sum()) / total


def _balance_row(links: pd.DataFrame, code: str | None) -> dict[str, float]:
    """One balance row: a quartier (`code`) or the whole programme (``None``)."""
    op = links["operation"]
    dw = links["dwellings"].astype(float)
    mine = np.ones(len(links), bool) if code is None else (links["quartier"] == code).to_numpy()
    here = (
        links["located_in"].notna().to_numpy()
        if code is None
        else (links["located_in"] == code).to_numpy()
    )
    rebuild = (op == "reconstruction").to_numpy()
    demol = (op == "demolition").to_numpy()
    row: dict[str, float] = {
        col: int(dw[mine & (op == o).to_numpy()].sum()) for o, col in _OPERATION_COLUMNS.items()
    }
    loc = links["location"].to_numpy()
    row["rebuilt_on_site"] = int(dw[mine & rebuild & (loc == "on_site")].sum())
    row["rebuilt_off_site"] = row["rebuilt"] - row["rebuilt_on_site"]
    row["rebuilt_off_site_in_qpv"] = int(dw[mine & rebuild & (loc == "off_site_in_qpv")].sum())
    # Built here: every reconstruction standing in the quartier (programme: in any quartier),
    # whichever quartier it compensates; `received` is the part compensating another one.
    built = rebuild & here
    row["received"] = int(dw[built & (loc != "on_site")].sum())
    row["net_change"] = int(dw[built].sum()) - int(dw[demol & here].sum())
    row["rebuilt_minus_demolished"] = row["rebuilt"] - row["demolished"]
    row["reconstitution_ratio"] = (
        row["rebuilt"] / row["demolished"] if row["demolished"] else float("nan")
    )
    ht, tenure = links["housing_type"], links["tenure"]
    d_sel, b_sel = mine & demol, built
    row["collective_share_demolished"] = _share(dw[d_sel], ht[d_sel], ["collective"])
    row["individual_share_demolished"] = _share(dw[d_sel], ht[d_sel], ["individual"])
    row["collective_share_built"] = _share(dw[b_sel], ht[b_sel], ["collective"])
    row["individual_share_built"] = _share(dw[b_sel], ht[b_sel], ["individual"])
    row["social_share_built"] = _share(dw[b_sel], tenure[b_sel], ["social"])
    row["private_share_built"] = _share(dw[b_sel], tenure[b_sel], _PRIVATE_TENURES)
    return row


def _stock(
    quart: gpd.GeoDataFrame,
    stock: Mapping[str, float] | pd.Series | None,
    residences: gpd.GeoDataFrame | None,
    target: Any,
) -> pd.Series:
    """Dwellings per quartier (in layer order) before the programme; NaN when unknown."""
    codes = list(quart["code"])
    if stock is not None:
        s = pd.Series(stock, dtype=float)
        unknown = sorted(set(map(str, s.index)) - set(codes))
        bad = [f"{k}={v}" for k, v in s.items() if not (v >= 0)]  # also catches NaN
        problems = []
        if unknown:
            problems.append(
                Problem(
                    f"stock names codes that are no quartier: {', '.join(unknown)}; "
                    f"expected quartier codes {', '.join(codes)}",
                    field="stock",
                )
            )
        if bad:
            problems.append(
                Problem(
                    f"stock must be a number of dwellings >= 0: {', '.join(bad)}", field="stock"
                )
            )
        if problems:
            raise DataValidationError(problems)
        s.index = s.index.map(str)
        return s.reindex(codes).reset_index(drop=True)
    if residences is not None:
        res = _validated(residences, "residences")
        if res["dwellings"].isna().all():
            raise DataValidationError(
                [
                    Problem(
                        "residences have no dwellings to count the stock; fill the dwellings "
                        "(nb_logements) field or pass stock=",
                        layer="residences",
                        field="dwellings",
                        file=res.attrs.get("source"),
                    )
                ]
            )
        pts = gpd.GeoDataFrame(
            {"dwellings": res["dwellings"].astype(float).fillna(0.0).to_numpy()},
            geometry=res.to_crs(target).geometry.representative_point().to_numpy(),
            crs=target,
        )
        where = _containing_code(pts, quart.to_crs(target))
        sums = pts["dwellings"].groupby(pd.Series(where, index=pts.index)).sum()
        return pd.Series([float(sums.get(c, 0.0)) for c in codes])
    if "dwellings" in quart.columns:
        return pd.Series(pd.to_numeric(quart["dwellings"], errors="coerce").to_numpy(float))
    return pd.Series([np.nan] * len(codes))


def _warn_negative(out: pd.DataFrame) -> None:
    neg = out[out["dwellings_after"] < 0]
    if len(neg):
        listed = ", ".join(
            f"{c} ({a:.0f})" for c, a in zip(neg.index, neg["dwellings_after"], strict=True)
        )
        warnings.warn(
            f"renewal balance: fewer than zero dwellings after the programme in {listed}: the "
            "stock before the programme is smaller than the demolitions. Check `stock`.",
            CdvGeoWarning,
            stacklevel=3,
        )


def _labels(links: pd.DataFrame, fields: Sequence[str]) -> pd.Series:
    parts = [links[f].astype(object).where(links[f].notna(), "unknown").astype(str) for f in fields]
    lab = parts[0]
    for p in parts[1:]:
        lab = lab + "_" + p
    return "dwellings_" + lab


def _label_order(fields: Sequence[str]) -> list[str]:
    """Every combination label, in enumeration order (so columns come out in a stable order)."""
    combos: list[str] = [""]
    for f in fields:
        combos = [f"{c}_{v}" if c else v for c in combos for v in (*_BY_FIELDS[f], "unknown")]
    return ["dwellings_" + c for c in combos]


def _breakdown(links: pd.DataFrame, quart: gpd.GeoDataFrame, fields: Sequence[str]) -> pd.DataFrame:
    lab = _labels(links, fields)
    dw = links["dwellings"].astype(int)
    table = dw.groupby([links["quartier"].to_numpy(), lab.to_numpy()]).sum().unstack(fill_value=0)
    table = table.reindex(list(quart["code"]), fill_value=0)
    table.loc[_PROGRAMME] = table.sum()
    table.index = pd.Index([*quart["id"], _PROGRAMME], name="id")
    cols = [c for c in _label_order(fields) if c in table.columns]
    return table[cols].astype(int)


# --- density, progress, timeline ---------------------------------------------------------------


def renewal_density(
    renewal_sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    stock: Mapping[str, float] | pd.Series | None = None,
    residences: gpd.GeoDataFrame | None = None,
    year: int | None = None,
    crs: Any = None,
) -> pd.DataFrame:
    """Dwelling density of each quartier before and after the programme (dwellings per ha).

    ``density = dwellings / area_ha``, the area computed in the metric CRS; ``dwellings_after``
    is the stock before plus the quartier's ``net_change`` (see :func:`renewal_balance`, whose
    `stock`, `residences`, `year` and `crs` this function shares).

    Returns
    -------
    pandas.DataFrame
        Indexed by quartier ``id`` (and ``"programme"``): ``code``, ``name``, ``area_ha``,
        ``dwellings_before``, ``dwellings_after``, ``density_before``, ``density_after``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> x, y = 728_000, 6_920_000  # Soissons, Lambert-93
    >>> q = gpd.GeoDataFrame({"id": ["n"], "code": ["Q1"], "name": ["Nord"], "dwellings": [500]},
    ...                      geometry=[box(x, y, x + 200, y + 100)], crs=2154)
    >>> s = gpd.GeoDataFrame({"name": ["Tour"], "operation": ["demolition"], "dwellings": [100]},
    ...                      geometry=[Point(x + 50, y + 50)], crs=2154)
    >>> renewal_density(s, q).loc["n", ["area_ha", "density_before", "density_after"]].tolist()
    [2.0, 250.0, 200.0]
    """
    bal = renewal_balance(
        renewal_sites, quartiers, by=(), year=year, stock=stock, residences=residences, crs=crs
    )
    return bal[
        [
            "code",
            "name",
            "area_ha",
            "dwellings_before",
            "dwellings_after",
            "density_before",
            "density_after",
        ]
    ]


def renewal_progress(
    renewal_sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame | None = None,
    *,
    by: str = "operation",
    year: int | None = None,
) -> pd.DataFrame:
    """Dwellings by status (planned / in progress / done) for each operation (or other field).

    Parameters
    ----------
    renewal_sites : geopandas.GeoDataFrame
        The ``renewal_sites`` layer.
    quartiers : geopandas.GeoDataFrame, optional
        When given, one block of rows per quartier (attribution as in :func:`renewal_links`).
    by : {"operation", "housing_type", "tenure"}, default "operation"
        The field of the rows.
    year : int, optional
        Only operations dated up to `year`.

    Returns
    -------
    pandas.DataFrame
        Indexed by `by` (or by ``quartier`` and `by`): dwellings ``planned``, ``in_progress``,
        ``done``, ``unknown`` (no status), ``total`` and ``done_share`` = done / total.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> s = gpd.GeoDataFrame(
    ...     {"name": ["A", "B", "C"], "operation": ["demolition"] * 2 + ["rehabilitation"],
    ...      "dwellings": [60, 20, 50], "status": ["done", "planned", "in_progress"]},
    ...     geometry=[Point(728_000, 6_920_000)] * 3, crs=2154)
    >>> renewal_progress(s)
                    planned  in_progress  done  unknown  total  done_share
    operation
    demolition           20            0    60        0     80        0.75
    rehabilitation        0           50     0        0     50        0.00
    """
    if by not in _BY_FIELDS or by == "status":
        raise CdvGeoError(
            f"by={by!r}: use one of operation, housing_type, tenure (status makes the columns)"
        )
    sites = _validated(renewal_sites, "renewal_sites")
    sites = sites[_year_mask(sites["year"], sites["id"], sites["name"], year)]
    table = pd.DataFrame(
        {
            by: sites[by].astype(object).where(sites[by].notna(), "unknown").to_numpy(),
            "status": sites["status"]
            .astype(object)
            .where(sites["status"].notna(), "unknown")
            .to_numpy(),
            "dwellings": sites["dwellings"].astype(int).to_numpy(),
        }
    )
    keys = [by]
    if quartiers is not None:
        links = _links(renewal_sites, quartiers, qpv=None, crs=None, stacklevel=4)
        table["quartier"] = links.loc[sites["id"].to_numpy(), "quartier"].to_numpy()
        keys = ["quartier", by]
    out = table.pivot_table(
        index=keys, columns="status", values="dwellings", aggfunc="sum", fill_value=0
    )
    out = out.reindex(columns=[*STATUSES, "unknown"], fill_value=0).astype(int)
    order = [*_BY_FIELDS[by], "unknown"]
    if len(keys) == 1:
        out = out.reindex([v for v in order if v in out.index])
    else:
        out = out.sort_index(
            key=lambda ix: (
                ix.map(lambda v: order.index(v) if v in order else -1) if ix.name == by else ix
            )
        )
    out.columns.name = None
    out["total"] = out.sum(axis=1)
    out["done_share"] = out["done"] / out["total"].where(out["total"] > 0)
    return out


def renewal_timeline(
    renewal_sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame | None = None,
    *,
    by: str = "operation",
    statuses: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Year-by-year dwellings of each operation, with the cumulative total.

    Every year from the first to the last dated operation appears (zero when nothing happens),
    so that the cumulative column can be plotted as is. Undated operations are left out with a
    :class:`~cdv_geo.CdvGeoWarning`.

    Parameters
    ----------
    renewal_sites : geopandas.GeoDataFrame
        The ``renewal_sites`` layer.
    quartiers : geopandas.GeoDataFrame, optional
        When given, one series per quartier (attribution as in :func:`renewal_links`).
    by : {"operation", "status", "housing_type", "tenure"}, default "operation"
        The field whose values make the series.
    statuses : iterable of str, optional
        Keep only these statuses (e.g. ``["done"]`` for what has been delivered).

    Returns
    -------
    pandas.DataFrame
        Tidy: ``year``, (``quartier``,) `by`, ``dwellings``, ``cumulative``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> s = gpd.GeoDataFrame(
    ...     {"name": ["A", "B"], "operation": ["demolition"] * 2, "dwellings": [60, 20],
    ...      "year": [2021, 2023]}, geometry=[Point(728_000, 6_920_000)] * 2, crs=2154)
    >>> renewal_timeline(s)
       year   operation  dwellings  cumulative
    0  2021  demolition         60          60
    1  2022  demolition          0          60
    2  2023  demolition         20          80
    """
    if by not in _BY_FIELDS:
        raise CdvGeoError(f"by={by!r}: use one of {', '.join(_BY_FIELDS)}")
    sites = _validated(renewal_sites, "renewal_sites")
    table = pd.DataFrame(
        {
            "year": sites["year"].to_numpy(),
            by: sites[by].astype(object).where(sites[by].notna(), "unknown").to_numpy(),
            "status": sites["status"].to_numpy(),
            "dwellings": sites["dwellings"].astype(int).to_numpy(),
            "name": sites["name"].to_numpy(),
        },
        index=sites["id"].to_numpy(),
    )
    keys = [by]
    if quartiers is not None:
        links = _links(sites, quartiers, qpv=None, crs=None, stacklevel=4)
        table["quartier"] = links["quartier"].to_numpy()
        keys = ["quartier", by]
    if statuses is not None:
        wanted = list(statuses)
        bad = sorted(set(wanted) - set(STATUSES))
        if bad:
            raise CdvGeoError(f"statuses {bad} unknown; use any of {', '.join(STATUSES)}")
        table = table[table["status"].isin(wanted).to_numpy()]
    undated = table[table["year"].isna()]
    if len(undated):
        warnings.warn(
            f"renewal_sites: {len(undated)} operation(s) have no year and are left out of the "
            f"timeline: {', '.join(f'{i} ({n})' for i, n in undated['name'].items())}. Fill "
            "their `year` (annee) field.",
            CdvGeoWarning,
            stacklevel=2,
        )
    table = table[table["year"].notna()]
    columns = ["year", *keys, "dwellings", "cumulative"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    table["year"] = table["year"].astype(int)
    years = range(int(table["year"].min()), int(table["year"].max()) + 1)
    sums = table.groupby([*keys, "year"])["dwellings"].sum()
    frames = []
    for key, grp in sums.groupby(level=list(range(len(keys)))):
        series = grp.droplevel(list(range(len(keys)))).reindex(years, fill_value=0)
        frame = pd.DataFrame({"year": list(years), "dwellings": series.to_numpy(int)})
        frame["cumulative"] = frame["dwellings"].cumsum()
        for k, v in zip(keys, key if isinstance(key, tuple) else (key,), strict=True):
            frame[k] = v
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    order = [*_BY_FIELDS[by], "unknown"]
    out["_o"] = out[by].map(order.index)
    sort = ["year", *(["quartier"] if quartiers is not None else []), "_o"]
    return out.sort_values(sort).drop(columns="_o")[columns].reset_index(drop=True)
