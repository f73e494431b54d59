"""The one metric-CRS policy, and the CRS checks every layer goes through.

Computations (lengths, areas, buffers, network distances) run in a projected CRS whose unit is
the metre, chosen by :func:`choose_metric_crs`: the CRS the project names (``[territory] crs``,
passed as ``crs=`` to every metric by :func:`cdv_geo.pipeline.compute_metrics`, so that every
metric of one run uses the same CRS), else EPSG:2154 (RGF93 / Lambert-93) when the data lie in
metropolitan France, else the UTM zone of the data. Maps are drawn in EPSG:4326.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from pyproj import CRS, Transformer

from cdv_geo.core.errors import CRSError

__all__ = [
    "DEFAULT_METRIC_CRS",
    "MAP_CRS",
    "check_metric_crs",
    "choose_metric_crs",
    "is_undefined_crs",
    "require_crs",
    "to_metric",
]

DEFAULT_METRIC_CRS = "EPSG:2154"
MAP_CRS = "EPSG:4326"

# Metropolitan France and Corsica, in degrees (west, south, east, north): where Lambert-93 is
# the legal projection. Outside it (overseas QPV, or anywhere else) a UTM zone is estimated.
_METROPOLE_BBOX = (-5.5, 41.0, 10.0, 51.5)


def is_undefined_crs(crs: Any) -> bool:
    """Tell whether `crs` is missing or one of GDAL's placeholders for "no CRS".

    A GeoPackage layer whose ``srs_id`` is -1 ("Undefined Cartesian SRS") or 0 ("Undefined
    geographic SRS"), as INSEE's grids and some QGIS exports carry, is read by GDAL as a
    *defined* CRS of that name: taken at its word, its Lambert-93 metres would become degrees.

    Examples
    --------
    >>> is_undefined_crs(None), is_undefined_crs("EPSG:2154")
    (True, False)
    >>> is_undefined_crs('LOCAL_CS["Undefined Cartesian SRS",UNIT["unknown",0]]')
    True
    """
    if crs is None:
        return True
    try:
        c = CRS.from_user_input(crs)
    except Exception:  # pyproj's own CRSError: not ours to judge here
        return False
    # (the name first: to_epsg searches the EPSG database, about a millisecond)
    return c.name.lower().startswith("undefined") and c.to_epsg() is None


def require_crs(gdf: gpd.GeoDataFrame, source: str | None = None) -> CRS:
    """Return the CRS of `gdf`, or raise :class:`CRSError` naming `source` if it has none.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer to check.
    source : str, optional
        The file or layer name, used in the error message.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> require_crs(gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=2154)).to_epsg()
    2154
    """
    if is_undefined_crs(gdf.crs):
        name = f" {source}" if source else ""
        raise CRSError(
            f"layer{name} has no coordinate reference system. Add one (for a shapefile, the .prj "
            "file; in QGIS: Layer > Set CRS) or call gdf.set_crs('EPSG:2154') if you know the "
            "coordinates are Lambert-93."
        )
    return CRS.from_user_input(gdf.crs)


def check_metric_crs(crs: Any, *, what: str = "metric CRS") -> CRS:
    """Return `crs` as a :class:`pyproj.CRS` after checking it is projected and in metres.

    Raises
    ------
    CRSError
        If the CRS is geographic or its unit is not the metre.

    Examples
    --------
    >>> check_metric_crs("EPSG:2154").name
    'RGF93 v1 / Lambert-93'
    >>> check_metric_crs("EPSG:4326")
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.CRSError: metric CRS EPSG:4326 is not projected in metres ...
    """
    try:
        c = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises its own CRSError; keep ours in the hierarchy
        raise CRSError(f"{what} {crs!r} is not a valid CRS: {exc}") from exc
    units = {ax.unit_name for ax in c.axis_info}
    if not c.is_projected or not units <= {"metre", "meter"}:
        label = c.to_string() if c.to_epsg() is None else f"EPSG:{c.to_epsg()}"
        raise CRSError(
            f"{what} {label} is not projected in metres (units: {sorted(units)}); distances and "
            "areas would be wrong. Use EPSG:2154 (Lambert-93) in metropolitan France, or a UTM "
            "zone."
        )
    return c


def choose_metric_crs(gdf: gpd.GeoDataFrame | None = None, crs: Any = None) -> CRS:
    """Choose the metric CRS for computations.

    The rule: `crs` when given (checked to be metric); else EPSG:2154 when the data lie in
    metropolitan France (or when there is no data); else the UTM zone of the data.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame, optional
        Data whose location decides the CRS when `crs` is not given.
    crs : str, int or pyproj.CRS, optional
        An explicit choice (e.g. from the project file).

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> soissons = gpd.GeoDataFrame(geometry=[Point(3.324, 49.382)], crs=4326)
    >>> choose_metric_crs(soissons).to_epsg()
    2154
    >>> montreal = gpd.GeoDataFrame(geometry=[Point(-73.57, 45.50)], crs=4326)
    >>> choose_metric_crs(montreal).to_epsg()
    32618
    """
    if crs is not None:
        return check_metric_crs(crs)
    if gdf is None or gdf.empty or gdf.geometry.is_empty.all():
        return CRS.from_user_input(DEFAULT_METRIC_CRS)
    src = require_crs(gdf)
    minx, miny, maxx, maxy = gdf.total_bounds
    if not src.is_geographic:
        tr = Transformer.from_crs(src, MAP_CRS, always_xy=True)
        minx, miny, maxx, maxy = tr.transform_bounds(minx, miny, maxx, maxy)
    w, s, e, n = _METROPOLE_BBOX
    if minx >= w and maxx <= e and miny >= s and maxy <= n:
        return CRS.from_user_input(DEFAULT_METRIC_CRS)
    utm = gdf.estimate_utm_crs()
    return CRS.from_user_input(utm)


def to_metric(
    gdf: gpd.GeoDataFrame, crs: Any = None, *, source: str | None = None
) -> gpd.GeoDataFrame:
    """Return `gdf` in the metric CRS (a copy only when a reprojection is needed).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Input layer; must carry a CRS.
    crs : optional
        Target metric CRS; chosen by :func:`choose_metric_crs` when omitted.
    source : str, optional
        Name used in error messages.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(3.324, 49.382)], crs=4326)
    >>> round(to_metric(g).geometry.x.iloc[0])
    723533
    """
    src = require_crs(gdf, source)
    target = choose_metric_crs(gdf, crs)
    if src.equals(target):
        return gdf
    return gdf.to_crs(target)
