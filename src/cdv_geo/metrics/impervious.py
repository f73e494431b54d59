"""Sealed (impervious) share of the quartiers, and its change between two years.

Measured on an imperviousness raster (Copernicus HRL *Imperviousness Density*, 10 m, 0–100 %)
with exact pixel-coverage fractions (:func:`cdv_geo.zonal_stats`), so a quartier's share does
not depend on where the pixel grid falls. Tables follow the result-table contract
(:mod:`cdv_geo.core.tables`): one row per quartier, then ``qpv`` (the quartiers together, their
union) and, given the communes, ``commune`` (the commune's whole area) and ``hors_qpv`` (the
commune minus the quartiers). Each row is measured on its own polygon
(:func:`cdv_geo.core.assign.comparison_areas`), so no row stands for another.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.core.assign import comparison_areas
from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.layers import as_layer
from cdv_geo.core.raster import RasterLike
from cdv_geo.core.tables import join_reasons, quartier_table
from cdv_geo.metrics.zonal import share_stats

__all__ = ["impervious_change", "impervious_share"]


def _reasons(reason: pd.Series) -> np.ndarray:
    """Return the reasons as objects, None where there is none (zonal_stats gives "")."""
    text = reason.astype(object)
    has = (text.notna() & (text != "")).to_numpy(dtype=bool)
    out = np.array(text.to_numpy(dtype=object), dtype=object)  # a writable copy
    out[~has] = None
    return out


def _measure(
    quartiers: gpd.GeoDataFrame,
    raster: RasterLike,
    *,
    scale: float,
    band: int,
    nodata: float | Sequence[float] | None,
    crs: Any,
    communes: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    """Sealed share, areas and reason of each row (quartiers, qpv [, commune, hors_qpv])."""
    qm = quartiers.to_crs(choose_metric_crs(quartiers, crs))
    areas = comparison_areas(qm, communes)
    keys = [str(k) for k in areas["code"]]
    geoms = np.asarray(areas.geometry.array, dtype=object)
    polys = gpd.GeoDataFrame({"id": keys}, geometry=list(geoms), crs=qm.crs)
    z = share_stats(polys, raster, what="imperviousness", scale=scale, band=band, nodata=nodata)
    area = shapely.area(geoms)
    return pd.DataFrame(
        {
            "impervious_share": z["mean"].to_numpy(dtype=float),
            "impervious_m2": z["mean"].to_numpy(dtype=float) * area,
            "area_m2": area,
            "nodata_share": z["nodata_share"].to_numpy(dtype=float),
            "reason": _reasons(z["reason"]),
        },
        index=pd.Index(keys, dtype=object),
    )


def impervious_share(
    quartiers: gpd.GeoDataFrame,
    raster: RasterLike,
    *,
    scale: float = 0.01,
    band: int = 1,
    nodata: float | Sequence[float] | None = None,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    r"""Share of each quartier that is sealed, from an imperviousness raster.

    .. math:: s = \text{scale} \times \frac{\sum_i c_i\,v_i}{\sum_i c_i}

    with :math:`c_i` the fraction of pixel :math:`i` inside the quartier and :math:`v_i` its
    imperviousness over the valid pixels (see :func:`cdv_geo.zonal_stats`). Copernicus HRL
    *Imperviousness Density* (10 m, 0–100 %, 255 outside area) is the reference source in
    France; the default ``scale=0.01`` turns percent into a fraction. Each row is measured on
    its own polygon (:func:`cdv_geo.core.assign.comparison_areas`): ``qpv`` on the quartiers'
    union (an overlap counts once); with `communes`, ``commune`` on the communes' union and
    ``hors_qpv`` on the commune minus the quartiers.

    Parameters
    ----------
    quartiers : geopandas.GeoDataFrame
        Quartiers (or any polygon layer, e.g. school yards: rows keyed by its ``code``, else
        ``id``, else index).
    raster : str, path-like or rasterio dataset
        The imperviousness raster.
    scale : float, default 0.01
        Multiplies stored values to get a fraction (``1.0`` for a raster already in 0–1).
    band : int, default 1
        Band number.
    nodata : number or sequence, optional
        Extra nodata codes besides the raster's own (Copernicus: ``(254, 255)``).
    crs : optional
        Metric CRS of the areas (:func:`cdv_geo.core.crs.choose_metric_crs`).
    communes : geopandas.GeoDataFrame, optional
        The territory's commune(s): adds the ``commune`` and ``hors_qpv`` rows.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier``: the quartier codes, ``qpv``, then (with `communes`)
        ``commune`` and ``hors_qpv``. Columns ``name``, ``impervious_share``,
        ``impervious_m2`` (``impervious_share × area_m2``: nodata parts are assumed as sealed
        as the rest), ``area_m2``, ``nodata_share`` and ``reason`` (see
        :func:`~cdv_geo.zonal_stats`), the last only when some row has one.

    Raises
    ------
    LayerTypeError, CRSError, DataValidationError
        `quartiers` is not a polygon layer with a CRS.
    RasterError
        Besides the raster checks of :func:`~cdv_geo.zonal_stats`: if `scale` makes a share
        exceed 1 (e.g. a 0–100 raster read with ``scale=1``).

    Examples
    --------
    >>> import numpy as np, rasterio, geopandas as gpd, tempfile, os
    >>> from rasterio.transform import from_origin
    >>> from shapely import box
    >>> path = os.path.join(tempfile.mkdtemp(), "imd.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=2, height=1, count=1,
    ...                    dtype="uint8", crs="EPSG:2154", nodata=255,
    ...                    transform=from_origin(700000, 6900010, 10, 10)) as dst:
    ...     dst.write(np.array([[100, 0]], dtype="uint8"), 1)
    >>> yard = gpd.GeoDataFrame({"id": ["yard"]}, geometry=[box(700005, 6900000, 700020,
    ...                         6900010)], crs=2154)
    >>> town = gpd.GeoDataFrame({"code": ["02722"]}, geometry=[box(700000, 6900000, 700020,
    ...                         6900010)], crs=2154)
    >>> impervious_share(yard, path, communes=town)[["impervious_share", "impervious_m2"]]
              impervious_share  impervious_m2
    quartier
    yard              0.333333           50.0
    qpv               0.333333           50.0
    commune           0.500000          100.0
    hors_qpv          1.000000           50.0
    """
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    m = _measure(
        quartiers, raster, scale=scale, band=band, nodata=nodata, crs=crs, communes=communes
    )
    rows = {str(k): {str(c): v for c, v in r.items()} for k, r in m.to_dict("index").items()}
    return quartier_table(quartiers, rows)


def impervious_change(
    quartiers: gpd.GeoDataFrame,
    before: RasterLike,
    after: RasterLike,
    *,
    scale: float = 0.01,
    band: int = 1,
    nodata: float | Sequence[float] | None = None,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    r"""Change of the sealed share of each quartier between two imperviousness rasters.

    .. math:: \Delta = 100\,(s_\text{after} - s_\text{before}) \quad\text{(percentage points)}

    Negative values mean de-sealing. Both rasters are measured with exact coverage fractions
    (:func:`impervious_share`); they need not share a grid.

    Parameters
    ----------
    quartiers : geopandas.GeoDataFrame
        Quartiers or any polygon layer.
    before, after : str, path-like or rasterio dataset
        Imperviousness rasters of the two years, same encoding.
    scale, band, nodata
        As in :func:`impervious_share`, for both rasters.
    crs : optional
        Metric CRS (:func:`cdv_geo.core.crs.choose_metric_crs`).
    communes : geopandas.GeoDataFrame, optional
        The territory's commune(s): adds the ``commune`` and ``hors_qpv`` rows.

    Returns
    -------
    pandas.DataFrame
        Rows as in :func:`impervious_share`. Columns ``name``, ``impervious_before_share``,
        ``impervious_after_share``, ``impervious_change_pp``, ``nodata_before_share``,
        ``nodata_after_share``, ``reason`` (the reasons of either raster, joined; only when
        some row has one).

    Examples
    --------
    >>> import numpy as np, rasterio, geopandas as gpd, tempfile, os
    >>> from rasterio.transform import from_origin
    >>> from shapely import box
    >>> d = tempfile.mkdtemp()
    >>> for year, v in (("2018", [[80, 80]]), ("2024", [[80, 20]])):
    ...     with rasterio.open(os.path.join(d, f"imd_{year}.tif"), "w", driver="GTiff",
    ...                        width=2, height=1, count=1, dtype="uint8", nodata=255,
    ...                        crs="EPSG:2154",
    ...                        transform=from_origin(700000, 6900010, 10, 10)) as dst:
    ...         dst.write(np.array(v, dtype="uint8"), 1)
    >>> q = gpd.GeoDataFrame({"code": ["Q1"]}, geometry=[box(700000, 6900000, 700020,
    ...                      6900010)], crs=2154)
    >>> impervious_change(q, os.path.join(d, "imd_2018.tif"), os.path.join(d, "imd_2024.tif"))[
    ...     ["impervious_before_share", "impervious_after_share", "impervious_change_pp"]]
              impervious_before_share  impervious_after_share  impervious_change_pp
    quartier
    Q1                            0.8                     0.5                 -30.0
    qpv                           0.8                     0.5                 -30.0
    """
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    opts: dict[str, Any] = {"scale": scale, "band": band, "nodata": nodata, "crs": crs}
    a = _measure(quartiers, before, communes=communes, **opts)
    b = _measure(quartiers, after, communes=communes, **opts)
    sa, sb = a["impervious_share"].to_numpy(float), b["impervious_share"].to_numpy(float)
    ra, rb = a["reason"].to_numpy(object), b["reason"].to_numpy(object)
    rows = {
        str(k): {
            "impervious_before_share": sa[i],
            "impervious_after_share": sb[i],
            "impervious_change_pp": 100.0 * (sb[i] - sa[i]),
            "nodata_before_share": a["nodata_share"].iat[i],
            "nodata_after_share": b["nodata_share"].iat[i],
            "reason": join_reasons(
                f"before: {ra[i]}" if isinstance(ra[i], str) else None,
                f"after: {rb[i]}" if isinstance(rb[i], str) else None,
            ),
        }
        for i, k in enumerate(a.index)
    }
    return quartier_table(quartiers, rows)
