"""Which quartier each NPNRU renewal operation belongs to, and where it stands.

Shared by :mod:`cdv_geo.metrics.renewal` (balance, density) and
:mod:`cdv_geo.metrics.renewal_progress` (progress, timeline), so that every renewal table counts
each operation in the same quartier.

Attribution of a site to a quartier
    A demolition, rehabilitation, residentialisation or façade requalification belongs to the
    quartier that holds it by the one rule of :func:`cdv_geo.core.assign.assign_quartier` (a
    point on a border shared by two quartiers, or on a triple point, goes to the smaller code; a
    polygon to the quartier holding the largest share of its area). Outside every quartier it
    belongs to none, with a :class:`~cdv_geo.CdvGeoWarning`: it counts in no quartier row and
    not in ``qpv``; in ``commune`` and ``hors_qpv`` when it stands in the commune
    (:func:`cdv_geo.core.assign.in_communes`), and nowhere when it stands outside.

    A **reconstruction** belongs to the quartier whose demolitions it compensates: the
    ``compensates`` field (a quartier code) when given. Without it, the quartier holding the
    reconstruction, else the *nearest* quartier (distance from the site's geometry to the
    quartier's polygon; ties: the smaller code). That is an assumption — the metric needs a
    quartier to compare the reconstruction with its demolitions — so it is announced by a
    :class:`~cdv_geo.CdvGeoWarning` and recorded in the ``link`` column of
    :func:`renewal_links`. A reconstruction is **on site** when it stands in the quartier it
    compensates, **off site** otherwise; off-site reconstruction *inside another QPV* works
    against the social-mix goal of the ANRU and is counted separately.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cdv_geo.core.assign import assign_quartier
from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning, DataValidationError, Problem
from cdv_geo.core.layers import as_layer, quartier_codes
from cdv_geo.schema import HOUSING_TYPES, OPERATIONS, STATUSES, TENURES

__all__ = [
    "BY_FIELDS",
    "metric_inputs",
    "nearest_quartier",
    "renewal_links",
    "site_links",
    "values_of",
    "year_mask",
]

#: Fields a renewal table can break down by, with their values in display order.
BY_FIELDS: dict[str, tuple[str, ...]] = {
    "operation": OPERATIONS,
    "status": STATUSES,
    "housing_type": HOUSING_TYPES,
    "tenure": TENURES,
}
#: Value of a breakdown field left empty in the data.
UNKNOWN = "unknown"


def metric_inputs(
    renewal_sites: Any,
    quartiers: Any,
    *,
    qpv: Any = None,
    crs: Any = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame | None, CRS]:
    """Coerce the layers of a renewal function and reproject them to the metric CRS.

    Every layer goes through :func:`~cdv_geo.core.layers.as_layer` (a plain DataFrame, a layer
    without CRS or without features raise a :class:`~cdv_geo.CdvGeoError` naming the argument);
    the metric CRS is :func:`~cdv_geo.core.crs.choose_metric_crs` of the quartiers and `crs`.

    Returns
    -------
    tuple
        ``(sites, quartiers, qpv, target_crs)``, the layers in the target CRS (``qpv`` is
        ``None`` when not given).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> s = gpd.GeoDataFrame({"name": ["A"], "operation": ["demolition"], "dwellings": [10]},
    ...                      geometry=[Point(3.32, 49.38)], crs=4326)
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Nord"]},
    ...                      geometry=[box(3.3, 49.3, 3.4, 49.4)], crs=4326)
    >>> sites, quart, qpv, target = metric_inputs(s, q, crs="EPSG:3949")
    >>> target.to_epsg(), quart.crs.to_epsg(), qpv is None
    (3949, 3949, True)
    """
    sites = as_layer(renewal_sites, "renewal_sites", kind="renewal_sites")
    quart = as_layer(quartiers, "quartiers", kind="quartiers", geometry="polygon")
    others = None if qpv is None else as_layer(qpv, "qpv", kind="quartiers", geometry="polygon")
    target = choose_metric_crs(quart, crs)
    return (
        sites.to_crs(target),
        quart.to_crs(target),
        None if others is None else others.to_crs(target),
        target,
    )


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
        Metric CRS of the distances (the project's; else EPSG:2154 in metropolitan France).

    Returns
    -------
    pandas.DataFrame
        One row per site, indexed by the site ``id``: ``name``, ``operation``, ``dwellings``,
        ``housing_type``, ``tenure``, ``status``, ``year``; ``quartier`` (code of the quartier
        the operation is attributed to, ``None`` for an operation other than a reconstruction
        outside every quartier), ``link`` (``"location"``, ``"compensates field"``,
        ``"nearest quartier"`` or ``"outside"``), ``distance_m`` (from the site to that
        quartier, 0 when it touches it), ``located_in`` (code of the quartier holding the site,
        ``None`` outside every quartier), ``in_qpv`` (code of the QPV holding the site, from
        `qpv`) and ``location``: ``"on_site"``, ``"off_site"``, ``"off_site_in_qpv"``
        (reconstructions) or ``"outside"`` (other operations outside every quartier).

    Warns
    -----
    CdvGeoWarning
        Listing the reconstructions without a ``compensates`` code (attributed to the quartier
        holding them, else to the nearest one) and the other operations lying outside every
        quartier (counted in no quartier row nor ``qpv``).

    Raises
    ------
    DataValidationError
        When a ``compensates`` code names no quartier (the valid codes are listed).
    LayerTypeError, CRSError
        A layer that is no GeoDataFrame, or has no CRS.

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
    sites, quart, others, _ = metric_inputs(renewal_sites, quartiers, qpv=qpv, crs=crs)
    return site_links(sites, quart, qpv=others, stacklevel=3)


def site_links(
    sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    qpv: gpd.GeoDataFrame | None = None,
    stacklevel: int = 2,
) -> pd.DataFrame:
    """Build the table of :func:`renewal_links` from layers already in one metric CRS.

    `stacklevel` points the warnings at the user's call (2: the caller of this function).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> from cdv_geo.schema import validate
    >>> q = validate(gpd.GeoDataFrame({"code": ["Q2", "Q1"], "name": ["B", "A"]}, crs=2154,
    ...              geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)]), "quartiers")
    >>> s = validate(gpd.GeoDataFrame({"name": ["T"], "operation": ["demolition"],
    ...              "dwellings": [5]}, geometry=[Point(10, 5)], crs=2154), "renewal_sites")
    >>> site_links(s, q)[["quartier", "located_in"]].iloc[0].tolist()  # border: smaller code
    ['Q1', 'Q1']
    """
    located = assign_quartier(sites, quartiers).to_numpy(dtype=object)
    in_qpv = located if qpv is None else assign_quartier(sites, qpv).to_numpy(dtype=object)
    quartier, link = _attribute(sites, quartiers, located, stacklevel=stacklevel + 1)
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
            "distance_m": _distance_to(sites, quartiers, quartier),
            "located_in": located,
            "in_qpv": in_qpv,
        },
        index=pd.Index(sites["id"].to_numpy(), name="id"),
    )
    out["location"] = _location(out)
    return out


def _attribute(
    sites: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame, located: np.ndarray, *, stacklevel: int
) -> tuple[np.ndarray, list[str]]:
    """Quartier and link of each site (see the module docstring); warns on assumptions."""
    codes = set(quartier_codes(quartiers))
    rebuild = (sites["operation"] == "reconstruction").to_numpy()
    comp = sites["compensates"].to_numpy(dtype=object)
    given = np.array([isinstance(c, str) and c != "" for c in comp]) & rebuild
    bad = [i for i in np.flatnonzero(given) if comp[i] not in codes]
    if bad:
        ids = sites["id"].to_numpy()
        raise DataValidationError(
            [
                Problem(
                    f"compensates {comp[i]!r}, which is no quartier code; expected one of "
                    f"{', '.join(sorted(codes))} (or leave it empty to use the quartier holding "
                    "the site, else the nearest one)",
                    file=sites.attrs.get("source"),
                    layer="renewal_sites",
                    feature=str(ids[i]),
                    field="compensates",
                )
                for i in bad
            ]
        )
    quartier = np.where(given, comp, located).astype(object)
    guessed = rebuild & ~given
    far = guessed & pd.isna(located)
    if far.any():
        quartier[far] = nearest_quartier(sites.geometry.to_numpy()[far], quartiers)
    link = np.where(given, "compensates field", "location").astype(object)
    link[guessed] = "nearest quartier"
    outside = ~rebuild & pd.isna(located)
    link[outside] = "outside"
    _warn_assumptions(sites, quartiers, quartier, guessed, outside, stacklevel=stacklevel + 1)
    return quartier, list(link)


def nearest_quartier(geoms: np.ndarray, quartiers: gpd.GeoDataFrame) -> np.ndarray:
    """Code of the quartier nearest to each geometry (ties: the smaller code).

    Used only for a reconstruction without a ``compensates`` code that stands outside every
    quartier: it has to be compared with the demolitions of some quartier.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> q = gpd.GeoDataFrame({"code": ["Q2", "Q1"]}, crs=2154,
    ...                      geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)])
    >>> nearest_quartier(np.array([Point(15, 5), Point(40, 5)]), q).tolist()  # a tie, then Q1
    ['Q1', 'Q1']
    """
    codes = quartier_codes(quartiers)
    qgeoms = np.asarray(quartiers.geometry.array, dtype=object)
    fi, qi = shapely.STRtree(qgeoms).query_nearest(geoms, all_matches=True)
    out = np.full(len(geoms), None, dtype=object)
    for f, q in sorted(zip(fi, qi, strict=True), key=lambda p: (p[0], str(codes[p[1]]))):
        if out[f] is None:
            out[f] = codes[q]
    return out


def _warn_assumptions(
    sites: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    quartier: np.ndarray,
    guessed: np.ndarray,
    outside: np.ndarray,
    *,
    stacklevel: int,
) -> None:
    ids, names, ops = sites["id"].to_numpy(), sites["name"].to_numpy(), sites["operation"]
    dist = _distance_to(sites, quartiers, quartier)
    if guessed.any():
        listed = "; ".join(
            f"{ids[i]} ({names[i]}) -> {quartier[i]} at {dist[i]:.0f} m"
            for i in np.flatnonzero(guessed)
        )
        warnings.warn(
            f"renewal_sites: {int(guessed.sum())} reconstruction(s) have no `compensates` code "
            f"and are attributed to the quartier holding them, else the nearest one: {listed}. "
            "Fill `compensates` (quartier_compense) with the code of the quartier whose "
            "demolitions they replace.",
            CdvGeoWarning,
            stacklevel=stacklevel,
        )
    if outside.any():
        listed = "; ".join(f"{ids[i]} ({names[i]}, {ops.iloc[i]})" for i in np.flatnonzero(outside))
        warnings.warn(
            f"renewal_sites: {int(outside.sum())} operation(s) lie outside every quartier and "
            f"count in no quartier row (only in the commune rows, when inside the commune): "
            f"{listed}. Check their geometry if they belong to a quartier.",
            CdvGeoWarning,
            stacklevel=stacklevel,
        )


def _distance_to(
    sites: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame, codes: np.ndarray
) -> np.ndarray:
    """Distance (m, metric CRS) from each site to the quartier `codes` names (NaN for None)."""
    geom_by_code = dict(zip(quartier_codes(quartiers), quartiers.geometry, strict=True))
    out = np.full(len(sites), np.nan)
    for i, (geom, code) in enumerate(zip(sites.geometry, codes, strict=True)):
        if code in geom_by_code:
            out[i] = float(geom.distance(geom_by_code[code]))
    return out


def _location(links: pd.DataFrame) -> list[str]:
    out = []
    rows = zip(
        links["operation"], links["quartier"], links["located_in"], links["in_qpv"], strict=True
    )
    for op, q, here, qpv in rows:
        if op != "reconstruction":
            out.append("outside" if q is None else "on_site")
        elif here == q:
            out.append("on_site")
        elif isinstance(qpv, str) and qpv != q:
            out.append("off_site_in_qpv")
        else:
            out.append("off_site")
    return out


def year_mask(
    years: pd.Series,
    ids: Iterable[Any],
    names: Iterable[Any],
    year: int | None,
    *,
    what: str,
    stacklevel: int = 2,
) -> np.ndarray:
    """Mask of the operations dated up to `year` (all when `year` is None); warn on undated.

    Examples
    --------
    >>> import pandas as pd
    >>> year_mask(pd.Series([2020, 2024]), ["a", "b"], ["A", "B"], 2022, what="balance").tolist()
    [True, False]
    """
    yrs = pd.to_numeric(pd.Series(years), errors="coerce").to_numpy(dtype=float)
    if year is None:
        return np.ones(len(yrs), dtype=bool)
    undated = [f"{i} ({n})" for i, n, y in zip(ids, names, yrs, strict=True) if np.isnan(y)]
    if undated:
        warnings.warn(
            f"renewal_sites: {len(undated)} operation(s) have no year and are left out of the "
            f"{what} as of {year}: {', '.join(undated)}. Fill their `year` (annee) field to "
            "count them.",
            CdvGeoWarning,
            stacklevel=stacklevel,
        )
    return ~np.isnan(yrs) & (np.nan_to_num(yrs, nan=np.inf) <= year)


def values_of(column: pd.Series, by: str) -> tuple[np.ndarray, list[str]]:
    """Return the `by` value of each site (``"unknown"`` if empty) and the values present.

    Examples
    --------
    >>> import pandas as pd
    >>> values_of(pd.Series(["done", None, "planned"]), "status")[1]
    ['planned', 'done', 'unknown']
    """
    if by not in BY_FIELDS:
        raise CdvGeoError(f"by={by!r}: use one of {', '.join(BY_FIELDS)}")
    vals = column.astype(object).where(column.notna(), UNKNOWN).astype(str).to_numpy(dtype=object)
    present = set(vals)
    order = [v for v in (*BY_FIELDS[by], UNKNOWN) if v in present]
    return vals, order
