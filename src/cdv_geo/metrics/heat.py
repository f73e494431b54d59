"""Heat exposure of the quartiers and of their homes, and the walk to the nearest cool place.

A heat raster (land-surface temperature in °C from a summer satellite scene, or any heat
indicator) is measured with exact zonal statistics (:func:`cdv_geo.metrics.zonal.zonal_stats`:
each pixel weighted by the fraction of its area inside the polygon):

* per quartier: the mean and the 90th percentile (coverage-weighted) of the raster;
* per home: the mean under its building (a point home: the pixel under it);
* the **town's hottest decile**: the tenth of the town's residents who live where it is hottest.
  Homes are sorted from the hottest down and their residents added up; the decile starts at the
  heat of the home where the sum reaches 10 % of the town's residents (every home given,
  inside a quartier or not), and holds every home at least that hot. Taken over the
  residents, not over the raster's pixels: a commune's fields and woods would otherwise put every
  built-up home in its "hottest decile". Per quartier: the share of residents, and of children,
  living there (about 10 % town-wide, more when one large building straddles the threshold; a
  quartier well above 10 % is hotter than the town). Without homes, the threshold is the 90th
  percentile of the raster's valid pixels over the ``communes`` polygons (else the raster).

The table's comparison rows (:mod:`cdv_geo.core.tables`) are measured on their own polygons
(:func:`cdv_geo.core.assign.comparison_areas`): ``qpv`` on the quartiers' union and, given the
communes, ``commune`` on the commune and ``hors_qpv`` on the commune minus the quartiers; their
residents' shares count the homes of each row (``commune``: the homes inside the commune).

:func:`cool_places` gathers the places where a child can cool down (water play areas, public
fountains, public green spaces of at least 0.5 ha, public buildings marked cool): the walk to the
nearest one is a :func:`cdv_geo.metrics.access.nearest_facility` to them.

A heat raster must say its units (°C, K, index...): from the file (GDAL's band ``units``) or the
``units=`` argument; without them the tables could not be read, and the function refuses.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.mask
import shapely

from cdv_geo.core.assign import assign_quartier, comparison_areas, in_communes
from cdv_geo.core.crs import choose_metric_crs, to_metric
from cdv_geo.core.errors import RasterError
from cdv_geo.core.layers import as_layer, feature_ids
from cdv_geo.core.raster import RasterLike, check_raster, open_raster
from cdv_geo.core.tables import is_comparison_row, join_reasons, quartier_table, rows_of
from cdv_geo.metrics.zonal import zonal_stats

__all__ = [
    "COOL_KINDS",
    "HeatExposure",
    "cool_places",
    "heat_exposure",
    "heat_units",
    "hottest_threshold",
]

#: Facility kinds that count as cool places by default.
COOL_KINDS: tuple[str, ...] = ("water_play_area", "fountain", "cool_room")


@dataclass(frozen=True)
class HeatExposure:
    """What :func:`heat_exposure` returns.

    Attributes
    ----------
    quartiers : pandas.DataFrame
        Per-quartier table (contract of :mod:`cdv_geo.core.tables`).
    residences : pandas.DataFrame
        Per home, indexed by id: ``quartier``, ``heat``, ``hottest_decile`` (bool).
    threshold : float
        The town's 90th percentile of the homes' heat (in `units`): the start of the hottest
        decile.
    units : str
        The raster's units.
    """

    quartiers: pd.DataFrame
    residences: pd.DataFrame
    threshold: float
    units: str


def heat_units(raster: RasterLike, *, units: str | None = None, band: int = 1) -> str:
    """Return the units of a heat raster: `units` when given, else the band's own.

    Raises
    ------
    RasterError
        Neither the file nor the caller says the units.
    """
    if units:
        return units
    with open_raster(raster) as op:
        check_raster(op, band)
        found = op.ds.units[band - 1] if op.ds.units else None
        name = op.name
    if not found:
        raise RasterError(
            f"heat raster {name} has no units: pass units='°C' (or 'K', 'index'...), or write "
            "them in the file (gdal_edit.py -units degC FILE), so that the tables can be read"
        )
    return str(found)


def _town_threshold(raster: RasterLike, communes: gpd.GeoDataFrame | None, q: float) -> float:
    """Return the `q` quantile of the raster's valid pixels over the communes (else all)."""
    with open_raster(raster) as op:
        check_raster(op, 1)
        ds = op.ds
        if communes is not None:
            shapes = communes.to_crs(ds.crs).geometry
            data, _ = rasterio.mask.mask(ds, list(shapes), crop=True, filled=False)
            values = np.ma.compressed(data[0])
        else:
            arr = ds.read(1, masked=True)
            values = np.ma.compressed(arr)
    values = values[np.isfinite(values)]
    if not len(values):
        raise RasterError("the heat raster has no valid pixel over the territory")
    return float(np.quantile(values, q))


def _home_heat(homes: gpd.GeoDataFrame, raster: RasterLike) -> np.ndarray:
    """Heat under each home: zonal mean for polygons, the pixel for points."""
    geoms = np.asarray(homes.geometry.array, dtype=object)
    out = np.full(len(homes), np.nan)
    poly = shapely.get_dimensions(geoms) == 2
    if poly.any():
        sub = homes[poly]
        z = zonal_stats(sub.assign(id=feature_ids(sub)), raster, stats=("mean",))
        out[poly] = z["mean"].to_numpy(dtype=float)
    pts = ~poly & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if pts.any():
        with open_raster(raster) as op:
            ds = op.ds
            xy = shapely.get_coordinates(homes[pts].to_crs(ds.crs).geometry.centroid.array)
            sampled = np.array([v[0] for v in ds.sample([tuple(c) for c in xy], masked=True)])
            nodata = ds.nodata
        vals = np.ma.filled(np.ma.masked_invalid(sampled.astype(float)), np.nan)
        if nodata is not None:
            vals[vals == nodata] = np.nan
        out[pts] = vals
    return out


def heat_exposure(
    quartiers: gpd.GeoDataFrame,
    heat: RasterLike,
    *,
    residences: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
    weight: str = "population",
    children: str = "children",
    hottest: float = 0.9,
    units: str | None = None,
    crs: Any = None,
    territory: gpd.GeoDataFrame | None = None,
) -> HeatExposure:
    """Measure the heat of each quartier and of its homes, and who lives in the hottest decile.

    Parameters
    ----------
    quartiers : GeoDataFrame
        The quartiers.
    heat : str, path-like or rasterio dataset
        The heat raster (read in its own CRS).
    residences : GeoDataFrame, optional
        Homes (points or buildings) with a `weight` column (residents) and, optionally, a
        `children` column: per-home values and the hottest-decile shares need them.
    communes : GeoDataFrame, optional
        The territory's commune(s): adds the ``commune`` row (heat measured over the commune,
        residents' shares over the homes inside it) and the ``hors_qpv`` row (the commune minus
        the quartiers); without homes, the hottest decile is taken over the commune's pixels.
    weight, children : str
        The residents and children columns of `residences`.
    hottest : float, default 0.9
        The quantile where the hottest part of the town starts (0.9: the hottest decile).
    units : str, optional
        The raster's units when the file does not say them.
    crs : optional
        Metric CRS for the homes' assignment (see :mod:`cdv_geo.core.crs`).
    territory : GeoDataFrame, optional
        Former name of `communes` (deprecated: it warns).

    Returns
    -------
    HeatExposure
        ``quartiers`` (the quartiers, ``qpv``, with `communes` ``commune`` and ``hors_qpv``)
        has ``name``, ``heat_mean``, ``heat_p90``, ``n_residents``, ``hot_residents_share``,
        ``n_children``, ``hot_children_share`` and ``reason``; ``attrs["units"]`` holds the
        units.

    Raises
    ------
    ValueError
        Both `communes` and `territory` given.

    Examples
    --------
    A raster at 30 °C in the west half of the commune and 40 °C in the east half; the quartier
    is the west quarter, its one home at 30 °C:

    >>> import numpy as np, rasterio, geopandas as gpd, tempfile, os
    >>> from rasterio.transform import from_origin
    >>> from shapely import Point, box
    >>> path = os.path.join(tempfile.mkdtemp(), "lst.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=4, height=1, count=1,
    ...                    dtype="float32", crs="EPSG:2154", nodata=-9999,
    ...                    transform=from_origin(700000, 6900010, 10, 10)) as dst:
    ...     dst.write(np.array([[30, 30, 40, 40]], dtype="float32"), 1)
    >>> q = gpd.GeoDataFrame({"code": ["Q1"]}, geometry=[box(700000, 6900000, 700010,
    ...                      6900010)], crs=2154)
    >>> town = gpd.GeoDataFrame({"code": ["02722"]}, geometry=[box(700000, 6900000, 700040,
    ...                         6900010)], crs=2154)
    >>> homes = gpd.GeoDataFrame({"population": [10.0, 30.0]}, crs=2154,
    ...                          geometry=[Point(700005, 6900005), Point(700035, 6900005)])
    >>> he = heat_exposure(q, path, residences=homes, communes=town, units="°C")
    >>> he.quartiers[["heat_mean", "n_residents", "hot_residents_share"]]
              heat_mean  n_residents  hot_residents_share
    quartier
    Q1            30.00         10.0                  0.0
    qpv           30.00         10.0                  0.0
    commune       35.00         40.0                 0.75
    hors_qpv  36.666667         30.0                  1.0
    """
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    communes = _communes(communes, territory)
    units = heat_units(heat, units=units)
    metric = choose_metric_crs(quartiers, crs)
    q = to_metric(quartiers, metric)
    rows = _zonal_rows(q, heat, communes)
    threshold = np.nan
    res_table = pd.DataFrame(columns=["quartier", "heat", "hottest_decile"])
    if residences is not None:
        homes = to_metric(as_layer(residences, "residences"), metric)
        code = assign_quartier(homes, q).to_numpy(dtype=object)
        h = _home_heat(homes, heat)
        w = _column(homes, weight)
        c = _column(homes, children)
        threshold = hottest_threshold(h, w, hottest)
        hot = np.nan_to_num(h, nan=-np.inf) >= threshold
        town = None if communes is None else in_communes(homes, communes)
        for key, mask in rows_of(code, q, in_commune=town).items():
            row = rows[key]
            shares = _shares(w, c, hot, mask, weight, children, where=_where(key))
            shares["reason"] = join_reasons(row.get("reason"), shares["reason"])
            row.update(shares)
        res_table = pd.DataFrame(
            {"quartier": code, "heat": h, "hottest_decile": hot},
            index=pd.Index(feature_ids(homes), name="id"),
        )
    else:
        threshold = _town_threshold(heat, communes, hottest)
        for row in rows.values():
            row["reason"] = join_reasons(row.get("reason"), "no residences layer")
    table = quartier_table(q, rows, columns=_COLUMNS)
    table.attrs["units"] = units
    table.attrs["hottest_threshold"] = threshold
    return HeatExposure(table, res_table, threshold, units)


#: The columns of the per-quartier table, after ``name``.
_COLUMNS = [
    "heat_mean",
    "heat_p90",
    "n_residents",
    "hot_residents_share",
    "n_children",
    "hot_children_share",
]


def _communes(
    communes: gpd.GeoDataFrame | None, territory: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame | None:
    """Return the communes layer, given as `communes` or under its old name `territory`."""
    if territory is not None:
        if communes is not None:
            raise ValueError("heat_exposure: give communes= only (territory= is its old name)")
        warnings.warn(
            "heat_exposure(territory=...) is now communes=...", DeprecationWarning, stacklevel=3
        )
        communes = territory
    return None if communes is None else as_layer(communes, "communes", geometry="polygon")


def hottest_threshold(heat: np.ndarray, weights: np.ndarray | None, q: float = 0.9) -> float:
    """Return the heat where the hottest ``1 - q`` of the weight (residents) begins.

    Homes are sorted from the hottest down; the threshold is the heat of the home at which the
    cumulated weight first reaches ``(1 - q)`` of the total (homes without heat left out).

    Examples
    --------
    >>> import numpy as np
    >>> hottest_threshold(np.array([21.1, 40.9, 38.1]), np.array([10.0, 20.0, 30.0]))
    40.9
    >>> hottest_threshold(np.array([21.1, 40.9, 38.1]), np.array([10.0, 2.0, 30.0]))
    38.1
    """
    h = np.asarray(heat, dtype=float)
    w = np.ones(len(h)) if weights is None else np.nan_to_num(np.asarray(weights, float), nan=0.0)
    ok = np.isfinite(h) & (w > 0)
    if not ok.any():
        return float("nan")
    order = np.argsort(-h[ok], kind="stable")
    cum = np.cumsum(w[ok][order])
    first = int(np.searchsorted(cum, (1 - q) * cum[-1] - 1e-9 * cum[-1]))
    return float(h[ok][order][min(first, len(order) - 1)])


def _zonal_rows(
    q: gpd.GeoDataFrame, heat: RasterLike, communes: gpd.GeoDataFrame | None
) -> dict[str, dict[str, Any]]:
    """Mean and 90th percentile over each row's polygon (quartiers, qpv, [commune, hors_qpv])."""
    areas = comparison_areas(q, communes)
    keys = [str(k) for k in areas["code"]]
    polys = gpd.GeoDataFrame({"id": keys}, geometry=areas.geometry.to_numpy(), crs=areas.crs)
    z = zonal_stats(polys, heat, stats=("mean", "p90"))
    return {
        k: {
            "heat_mean": z.at[k, "mean"],
            "heat_p90": z.at[k, "p90"],
            "reason": z.at[k, "reason"] or None,
        }
        for k in keys
    }


def _where(key: str) -> str:
    """How a reason names the row: "this quartier", or "this area" for a comparison row."""
    return "this area" if is_comparison_row(key) else "this quartier"


def _column(homes: gpd.GeoDataFrame, name: str) -> np.ndarray | None:
    if name not in homes.columns:
        return None
    return pd.to_numeric(homes[name], errors="coerce").to_numpy(dtype=float)


def _shares(
    w: np.ndarray | None,
    c: np.ndarray | None,
    hot: np.ndarray,
    mask: np.ndarray,
    weight: str,
    children: str,
    *,
    where: str = "this quartier",
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    reasons = []
    for prefix, values, col in (("residents", w, weight), ("children", c, children)):
        if values is None:
            out[f"n_{prefix}"] = np.nan
            out[f"hot_{prefix}_share"] = np.nan
            reasons.append(f"no {col!r} column in the residences")
            continue
        v = np.nan_to_num(values[mask], nan=0.0)
        total = float(v.sum())
        out[f"n_{prefix}"] = total
        out[f"hot_{prefix}_share"] = float(v[hot[mask]].sum() / total) if total > 0 else np.nan
        if total <= 0:
            reasons.append(f"no {prefix} in {where}")
    out["reason"] = join_reasons(*reasons)
    return out


def cool_places(
    facilities: gpd.GeoDataFrame | None = None,
    green_spaces: gpd.GeoDataFrame | None = None,
    *,
    kinds: Sequence[str] = COOL_KINDS,
    min_park_m2: float = 5000.0,
    public_only: bool = True,
) -> gpd.GeoDataFrame:
    """Gather the cool places: facilities of the cool `kinds` and large public green spaces.

    Parameters
    ----------
    facilities : GeoDataFrame, optional
        Facilities with a ``kind``; those of `kinds` are kept (a ``cool`` column set true keeps
        any facility: a public building marked cool).
    green_spaces : GeoDataFrame, optional
        Green spaces; those of at least `min_park_m2` (default 0.5 ha) that are public are kept,
        as kind ``green_space``.
    kinds : sequence of str
        The facility kinds that cool.
    min_park_m2 : float, default 5000
        Smallest green space that counts.
    public_only : bool, default True
        Keep only public green spaces (``public`` column).

    Returns
    -------
    GeoDataFrame
        ``id``, ``name``, ``kind`` and geometry, in the CRS of the first layer given: a
        facilities layer for :func:`cdv_geo.metrics.access.nearest_facility`.
    """
    parts = []
    crs = None
    if facilities is not None:
        fac = as_layer(facilities, "facilities")
        crs = fac.crs
        keep = fac["kind"].isin(list(kinds)).to_numpy()
        if "cool" in fac.columns:
            keep |= fac["cool"].fillna(False).astype(bool).to_numpy()
        sel = fac[keep]
        parts.append(
            gpd.GeoDataFrame(
                {
                    "id": [f"fac:{i}" for i in feature_ids(sel)],
                    "name": sel.get("name", pd.Series(None, index=sel.index)).to_numpy(),
                    "kind": sel["kind"].to_numpy(),
                },
                geometry=sel.geometry.to_numpy(),
                crs=crs,
            )
        )
    if green_spaces is not None:
        gs = as_layer(green_spaces, "green_spaces", geometry="polygon")
        crs = crs or gs.crs
        metric = to_metric(gs, choose_metric_crs(gs))
        keep = metric.geometry.area.to_numpy() >= min_park_m2
        if public_only and "public" in gs.columns:
            keep &= gs["public"].fillna(False).astype(bool).to_numpy()
        sel = gs[keep].to_crs(crs)
        parts.append(
            gpd.GeoDataFrame(
                {
                    "id": [f"park:{i}" for i in feature_ids(sel)],
                    "name": sel.get("name", pd.Series(None, index=sel.index)).to_numpy(),
                    "kind": "green_space",
                },
                geometry=sel.geometry.to_numpy(),
                crs=crs,
            )
        )
    if not parts:
        raise ValueError("cool_places needs facilities or green_spaces")
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)
