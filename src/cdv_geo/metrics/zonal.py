r"""Exact-fraction zonal statistics and raster checks.

A 10 m raster is coarse next to the objects of a contrat de ville: a 2,000 m² school yard covers
about 20 pixels, a third of them cut by its edge. Counting the pixels whose centre falls in the
polygon (``rasterio.features.geometry_mask``, ``rasterstats``' default) then errs by 10–20 %.
:func:`zonal_stats` weights each pixel by the **fraction of its area the polygon covers**, with
`exactextract <https://isciences.github.io/exactextract/>`_ as the engine (Baston 2022), so the
measure does not depend on where the pixel grid happens to fall.

With :math:`c_i` the fraction of pixel :math:`i` inside the polygon, :math:`v_i` the stored value
and :math:`s` the `scale`:

.. math::

    \text{mean} = s\,\frac{\sum_i c_i v_i}{\sum_i c_i}, \quad
    \text{sum} = s \sum_i c_i v_i, \quad \text{count} = \sum_i c_i

over the valid (not nodata) pixels; ``count`` is in pixels (multiply by the pixel area for
m²). ``nodata_share`` is :math:`\sum_{\text{nodata}} c_i / \sum_{\text{all}} c_i`, the
coverage-weighted share of the polygon's cells that are nodata (exactextract keeps coverage
fractions in single precision: results agree with hand values to ~1e-7, and a
``nodata_share`` under 1e-6 is reported as 0); ``outside_share`` is the
share of the polygon's area beyond the raster's extent. ``min``, ``max``, ``median``,
``stdev``, ``variance``, ``majority``, ``minority`` and ``variety`` are the coverage-weighted
versions exactextract computes.

Rasters are read in their own CRS: the polygons are reprojected to the raster, never the raster
to the polygons (resampling would change the values being measured).

Baston, D. (2022). *exactextract: fast and accurate raster zonal statistics*.
https://github.com/isciences/exactextract
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely

from cdv_geo.core.crs import require_crs
from cdv_geo.core.errors import DataValidationError, Problem, RasterError
from cdv_geo.core.layers import as_layer
from cdv_geo.core.raster import OpenRaster, RasterLike, check_raster, open_raster, raster_info

__all__ = ["RasterLike", "check_share_range", "raster_info", "share_stats", "zonal_stats"]


#: Statistics :func:`zonal_stats` computes, and whether each follows the values' `scale`
#: (``1``: multiplied by it, ``2``: by its square, ``0``: unit-less).
_STATS: dict[str, int] = {
    "mean": 1,
    "sum": 1,
    "count": 0,
    "nodata_share": 0,
    "outside_share": 0,
    "min": 1,
    "max": 1,
    "median": 1,
    "stdev": 1,
    "variance": 2,
    "majority": 1,
    "minority": 1,
    "variety": 0,
}
_OWN_STATS = {"nodata_share", "outside_share"}
#: Percentiles ``p1`` ... ``p99`` (``p90``: the coverage-weighted 90th percentile, exactextract's
#: ``quantile(q=0.9)``); they follow the scale like the values.
_PERCENTILE = re.compile(r"^p([1-9][0-9]?)$")


def _stat_power(name: str) -> int:
    """How a statistic follows the values' scale (see :data:`_STATS`)."""
    return 1 if _PERCENTILE.match(name) else _STATS[name]


_WEIGHTS = {"coverage": "fraction", "all_touched": "none"}

REASON_EMPTY = "empty geometry"
REASON_OUTSIDE = "outside the raster"
REASON_NODATA = "only nodata cells"


def _raster_source(ds: rasterio.io.DatasetReader, band: int, extra: Sequence[float]) -> Any:
    """Return the exactextract raster source for `band`, with every nodata cell recognisable.

    exactextract drops the mask of a masked array whenever the polygon's grid is cropped from
    the window read (isciences/exactextract#193), so nodata cells must be marked *in the
    values*: kept as the declared nodata value, or NaN in a float copy. exactextract's own
    rasterio source is used when it is enough (a declared nodata value, no mask band, no band
    scale/offset, no extra nodata values) because it avoids a copy.
    """
    from exactextract.raster import RasterioRasterSource
    from rasterio.enums import MaskFlags
    from rasterio.windows import Window

    flags = set(ds.mask_flag_enums[band - 1])
    declared = ds.nodata
    scaled = ds.scales[band - 1] != 1.0 or ds.offsets[band - 1] != 0.0
    has_value = declared is not None and not np.isnan(declared)
    if not extra and not scaled and has_value and flags <= {MaskFlags.nodata}:
        return RasterioRasterSource(ds, band)
    if not extra and not scaled and flags == {MaskFlags.all_valid}:
        return RasterioRasterSource(ds, band)
    values = np.asarray(list(extra), dtype=float)
    # Keep the stored type when the declared nodata value can mark the cells, else use NaN.
    use_float = scaled or not has_value

    class _Source(RasterioRasterSource):
        def nodata_value(self) -> float | int:
            if use_float:
                return float("nan")
            return float(declared) if self.isfloat else int(declared)

        def read_window(self, x0: int, y0: int, nx: int, ny: int) -> np.ndarray:
            arr = self.ds.read(self.band_idx, window=Window(x0, y0, nx, ny), masked=True)
            mask = np.ma.getmaskarray(arr)
            if len(values):
                mask = mask | np.isin(arr.data, values)
            if use_float:
                data = arr.data.astype(np.float64)
                if scaled:
                    data = data * self.scale + self.offset
                data[mask] = np.nan
                return data
            data = np.array(arr.data, copy=True)
            data[mask] = declared
            return data

    return _Source(ds, band)


def _ids_of(polygons: gpd.GeoDataFrame, id_column: str, source: str | None) -> pd.Index:
    if id_column in polygons.columns:
        ids = pd.Index(polygons[id_column].astype(str), name=id_column)
    else:
        ids = pd.Index(polygons.index, name=polygons.index.name or id_column)
    if ids.has_duplicates:
        dup = sorted({str(v) for v in ids[ids.duplicated()]})
        raise DataValidationError(
            [
                Problem(
                    f"id {d!r} is used by several polygons; ids must be unique so results can be "
                    "joined back",
                    file=source,
                    feature=d,
                    field=id_column,
                )
                for d in dup
            ]
        )
    return ids


def _check_polygons(geoms: np.ndarray, ids: pd.Index, source: str | None) -> np.ndarray:
    """Return a mask of usable polygons; raise on non-polygonal geometries."""
    types = shapely.get_type_id(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    polygonal = np.isin(types, (3, 6))  # Polygon, MultiPolygon
    bad = ~missing & ~polygonal
    if bad.any():
        raise DataValidationError(
            [
                Problem(
                    f"geometry is a {g.geom_type}; zonal statistics "
                    "need polygons (buffer points or lines first, e.g. gdf.buffer(250))",
                    file=source,
                    feature=str(fid),
                )
                for fid, g in zip(ids[bad], geoms[bad], strict=True)
            ]
        )
    return ~missing


def zonal_stats(
    polygons: gpd.GeoDataFrame,
    raster: RasterLike,
    *,
    stats: Sequence[str] = ("mean", "sum", "count", "nodata_share"),
    band: int = 1,
    nodata: float | Sequence[float] | None = None,
    scale: float = 1.0,
    weights: Literal["coverage", "all_touched"] = "coverage",
    id_column: str = "id",
    strategy: Literal["feature-sequential", "raster-sequential"] = "feature-sequential",
) -> pd.DataFrame:
    r"""Coverage-weighted statistics of a raster band inside each polygon.

    Each pixel enters with weight :math:`c_i`, the fraction of its area inside the polygon
    (exactextract); the statistics are defined in the module docstring.

    Parameters
    ----------
    polygons : geopandas.GeoDataFrame
        Polygons or multipolygons with a CRS (holes are honoured). Reprojected to the raster's
        CRS inside; the input is not modified.
    raster : str, path-like or rasterio dataset
        A GeoTIFF or Cloud-Optimized GeoTIFF path (``/vsicurl/https://...`` works), or an open
        :func:`rasterio.open` dataset (left open).
    stats : sequence of str, default ("mean", "sum", "count", "nodata_share")
        Any of ``mean``, ``sum``, ``count``, ``nodata_share``, ``outside_share``, ``min``,
        ``max``, ``median``, ``stdev``, ``variance``, ``majority``, ``minority``, ``variety``,
        and the coverage-weighted percentiles ``p1`` ... ``p99`` (``p90``: exactextract's
        ``quantile(q=0.9)``).
    band : int, default 1
        Band number, from 1.
    nodata : number or sequence of numbers, optional
        Stored values to treat as nodata **in addition** to the raster's own nodata value and
        mask (e.g. ``(254, 255)`` for Copernicus imperviousness, where 254 means
        "unclassifiable" and 255 "outside area").
    scale : float, default 1.0
        Multiplies the values (after any scale/offset the file itself declares), e.g. ``0.01``
        to turn 0–100 % into a fraction.
    weights : {"coverage", "all_touched"}, default "coverage"
        ``coverage`` weights pixels by covered fraction; ``all_touched`` gives every touched
        pixel weight 1 (for comparison with ``rasterstats(all_touched=True)``).
    id_column : str, default "id"
        Column naming the polygons in the result (the index is used when it is absent).
    strategy : {"feature-sequential", "raster-sequential"}
        exactextract's processing strategy.

    Returns
    -------
    pandas.DataFrame
        Indexed by polygon id, one column per statistic plus ``reason``: empty when the
        polygon was measured in full; ``"partly outside the raster (…)"`` when only its inner
        part was; and for rows whose statistics are NaN, ``"empty geometry"``, ``"outside the
        raster"`` or ``"only nodata cells"`` (``count`` is then 0, never a fake 0 mean).

    Raises
    ------
    RasterError
        Missing or unreadable raster, no CRS, no such band, rotated grid, invalid `scale`,
        or a raster that overlaps none of the polygons.
    LayerTypeError, CRSError, DataValidationError
        `polygons` is not a GeoDataFrame, has no CRS, no polygon, or duplicate ids.

    Examples
    --------
    A 2×2 raster of 10 m pixels holding 0, 20, 40 and 255 (nodata); "yard" covers half the
    top-left pixel (0) and the top-right one (20): mean = 0.01 × (0.5 × 0 + 1 × 20) / 1.5.

    >>> import numpy as np, rasterio, geopandas as gpd, tempfile, os
    >>> from rasterio.transform import from_origin
    >>> from shapely import box
    >>> path = os.path.join(tempfile.mkdtemp(), "r.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=1,
    ...                    dtype="uint8", crs="EPSG:2154", nodata=255,
    ...                    transform=from_origin(700000, 6900020, 10, 10)) as dst:
    ...     dst.write(np.array([[0, 20], [40, 255]], dtype="uint8"), 1)
    >>> polys = gpd.GeoDataFrame({"id": ["yard", "gap", "far"]}, crs=2154, geometry=[
    ...     box(700005, 6900010, 700020, 6900020),
    ...     box(700012, 6900002, 700018, 6900008),
    ...     box(0, 0, 10, 10)])
    >>> zonal_stats(polys, path, scale=0.01)
              mean  sum  count  nodata_share              reason
    id
    yard  0.133333  0.2   1.50           0.0
    gap        NaN  NaN   0.00           1.0   only nodata cells
    far        NaN  NaN   0.00           NaN  outside the raster
    """
    _check_options(scale, stats, weights)
    polygons = as_layer(polygons, "polygons")
    source = polygons.attrs.get("source")
    src_crs = require_crs(polygons, source)
    ids = _ids_of(polygons, id_column, source)
    stats = list(dict.fromkeys(stats))
    extra_nodata = [] if nodata is None else list(np.atleast_1d(np.asarray(nodata, dtype=float)))

    with open_raster(raster) as op:
        rcrs = check_raster(op, int(band))
        geoms = np.asarray(polygons.geometry.array, dtype=object)
        usable = _check_polygons(geoms, ids, source)
        if not src_crs.equals(rcrs):
            geoms = np.asarray(gpd.GeoSeries(geoms, crs=src_crs).to_crs(rcrs).array, dtype=object)
        area, inside_area, touches = _footprint(op, geoms, usable)
        # With coverage weights, the coverage of *all* cells (nodata included) is the covered
        # area in cell units, so nodata_share needs no second exactextract statistic (which
        # would cost ~30 %); with all_touched weights it does.
        t = op.ds.transform
        cell_area = abs(t.a * t.e)
        need_total = "nodata_share" in stats and weights == "all_touched"
        raw = _run_exactextract(
            op,
            int(band),
            geoms,
            touches,
            stats,
            extra_nodata,
            weights,
            strategy,
            need_total,
        )

    total = raw["_total"] if need_total else inside_area / cell_area
    return _assemble(stats, raw, total, area, inside_area, usable, touches, ids, float(scale))


def _check_options(scale: Any, stats: Sequence[str], weights: str) -> None:
    """Refuse a scale, statistic or weighting zonal_stats does not know."""
    if not (isinstance(scale, int | float | np.number) and np.isfinite(scale) and scale != 0):
        raise RasterError(
            f"scale={scale!r} is not a finite, non-zero number; use 0.01 for a raster stored "
            "in percent (0–100), 1.0 for values already in the unit wanted"
        )
    unknown = [s for s in stats if s not in _STATS and not _PERCENTILE.match(s)]
    if unknown or not stats:
        raise RasterError(
            f"unknown statistic(s) {unknown}; choose among {', '.join(_STATS)}, or p1 ... p99"
            if unknown
            else f"no statistic asked for; choose among {', '.join(_STATS)}"
        )
    if weights not in _WEIGHTS:
        raise RasterError(f"weights={weights!r}; expected 'coverage' or 'all_touched'")


def _footprint(
    op: OpenRaster, geoms: np.ndarray, usable: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return each polygon's area, its area inside the raster, and whether it touches it."""
    extent = shapely.box(*op.ds.bounds)
    inside_area = np.zeros(len(geoms))
    area = np.zeros(len(geoms))
    if usable.any():
        area[usable] = shapely.area(geoms[usable])
        inside_area[usable] = shapely.area(shapely.intersection(geoms[usable], extent))
    touches = usable & (inside_area > 0)
    if usable.any() and not touches.any():
        b = op.ds.bounds
        pb = shapely.total_bounds(geoms[usable])
        raise RasterError(
            f"raster {op.name} does not overlap any of the {int(usable.sum())} polygons: "
            f"raster bounds ({b.left:.0f}, {b.bottom:.0f}, {b.right:.0f}, {b.top:.0f}), "
            f"polygon bounds in the raster CRS ({pb[0]:.0f}, {pb[1]:.0f}, {pb[2]:.0f}, "
            f"{pb[3]:.0f}). Check that the raster covers the territory and that both layers "
            "declare the right CRS"
        )
    return area, inside_area, touches


def _assemble(
    stats: list[str],
    raw: dict[str, np.ndarray],
    total: np.ndarray,
    area: np.ndarray,
    inside_area: np.ndarray,
    usable: np.ndarray,
    touches: np.ndarray,
    ids: pd.Index,
    scale: float,
) -> pd.DataFrame:
    """Build the result table: scaled statistics, shares, and the reason of each row."""
    n = len(area)
    out: dict[str, np.ndarray] = {}
    valid = raw["count"]
    for s in stats:
        if s == "nodata_share":
            with np.errstate(invalid="ignore", divide="ignore"):
                col = np.where(total > 0, 1.0 - valid / np.where(total > 0, total, 1.0), np.nan)
            # coverage fractions are single precision: a share below 1e-6 is rounding
            col = np.where(np.abs(col) < 1e-6, 0.0, col)
            out[s] = np.clip(col, 0.0, 1.0)
        elif s == "outside_share":
            with np.errstate(invalid="ignore", divide="ignore"):
                col = np.where(area > 0, 1.0 - inside_area / np.where(area > 0, area, 1.0), np.nan)
            out[s] = np.clip(col, 0.0, 1.0)
        elif s == "count":
            out[s] = np.where(usable, valid, np.nan)
        else:
            col = raw[s].astype(float)
            factor = float(scale) ** _stat_power(s)
            out[s] = np.where(valid > 0, col * factor, np.nan)
    reason = np.full(n, "", dtype=object)
    outside = 1.0 - np.divide(inside_area, area, out=np.ones(n), where=area > 0)
    partly = usable & (outside > 1e-9) & touches
    if partly.any():
        pct = pd.Series(outside[partly]).map("{:.0%}".format)
        reason[partly] = ("partly outside the raster (" + pct + " of its area)").to_numpy()
    reason[usable & ~touches] = REASON_OUTSIDE
    reason[touches & (valid <= 0)] = REASON_NODATA
    reason[~usable] = REASON_EMPTY
    result = pd.DataFrame(out, index=ids)
    result["reason"] = reason
    result.index.name = "id"
    return result


def _run_exactextract(
    op: OpenRaster,
    band: int,
    geoms: np.ndarray,
    touches: np.ndarray,
    stats: list[str],
    extra_nodata: list[float],
    weights: str,
    strategy: str,
    need_total: bool,
) -> dict[str, np.ndarray]:
    """Call exactextract once on the polygons that touch the raster; align results by row."""
    from exactextract import exact_extract

    cw = _WEIGHTS[weights]
    wanted = [s for s in stats if s not in _OWN_STATS and s != "count"]
    ops = [f"count(coverage_weight={cw})"]
    names = ["count"]
    if need_total:
        ops.append(f"_total=count(coverage_weight={cw},default_value=0)")
        names.append("_total")
    for s in wanted:
        pct = _PERCENTILE.match(s)
        if pct:
            # exactextract names the column quantile_NN (a name given to the op gets _NN too)
            ops.append(f"quantile(q={int(pct.group(1)) / 100},coverage_weight={cw})")
        else:
            ops.append(f"{s}(coverage_weight={cw})")
    names += wanted
    n = len(geoms)
    res = {k: np.zeros(n) for k in names}
    rows = np.flatnonzero(touches)
    if len(rows) == 0:
        return res
    # Only a row number travels with the features: exactextract would otherwise serialise
    # every attribute to GeoJSON, and its GeoPandas reader replaces an `id` column by the index.
    feats = gpd.GeoDataFrame({"_row": rows}, geometry=list(geoms[rows]), crs=op.ds.crs.to_wkt())
    rast = _raster_source(op.ds, band, extra_nodata)
    with warnings.catch_warnings():
        # exactextract compares CRS by WKT text; ours are equal by construction
        warnings.filterwarnings("ignore", "Spatial reference system of input features")
        try:
            df = exact_extract(
                rast,
                feats,
                ops,
                include_cols=["_row"],
                output="pandas",
                strategy=strategy,
            )
        except (RuntimeError, ValueError) as exc:
            raise RasterError(f"raster {op.name}: exactextract failed: {exc}") from exc
    pos = df["_row"].to_numpy(dtype=int)
    for k in names:
        pct = _PERCENTILE.match(k)
        res[k][pos] = df[f"quantile_{pct.group(1)}" if pct else k].to_numpy(dtype=float)
    return res


def check_share_range(lo: float, hi: float, *, raster: str, what: str, scale: float) -> None:
    """Refuse shares outside [0, 1]: the sign of a wrong `scale` or of undeclared nodata codes.

    Parameters
    ----------
    lo, hi : float
        Smallest and largest scaled value met (NaN when none).
    raster : str
        The raster's name, for the message.
    what : str
        What the values measure (``"imperviousness"``, ``"tree cover"``).
    scale : float
        The scale the values were read with.

    Raises
    ------
    RasterError
        When a value lies outside [0, 1].

    Examples
    --------
    >>> check_share_range(0.0, 0.8, raster="tcd.tif", what="tree cover", scale=0.01)
    >>> check_share_range(0.0, 2.54, raster="tcd.tif", what="tree cover", scale=0.01)
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.RasterError: raster tcd.tif: with scale=0.01, tree cover values reach ...
    """
    if not ((pd.notna(hi) and hi > 1 + 1e-9) or (pd.notna(lo) and lo < -1e-9)):
        return
    worst = hi if pd.notna(hi) and hi > 1 else lo
    raise RasterError(
        f"raster {raster}: with scale={scale:g}, {what} values reach {worst:g}, outside 0–1 "
        f"(stored value {worst / scale:g}). For a raster in percent (0–100, as Copernicus "
        "HRL) use scale=0.01; declare the codes that are not shares as nodata (Copernicus: "
        "nodata=(254, 255))"
    )


def share_stats(
    polygons: gpd.GeoDataFrame,
    raster: RasterLike,
    *,
    what: str,
    scale: float = 0.01,
    band: int = 1,
    nodata: float | Sequence[float] | None = None,
) -> pd.DataFrame:
    """Coverage-weighted mean of a raster of shares (0–1 after `scale`) in each polygon.

    :func:`zonal_stats` with ``mean``, ``min``, ``max``, ``nodata_share`` and ``outside_share``,
    refusing a `scale`
    that gives shares outside [0, 1] (:func:`check_share_range`).

    Parameters
    ----------
    polygons : geopandas.GeoDataFrame
        Polygons with a CRS (an ``id`` column names the rows, else the index).
    raster : str, path-like or rasterio dataset
        A raster of shares (imperviousness, tree-cover density...).
    what : str
        What the values measure, for the messages.
    scale, band, nodata
        As in :func:`zonal_stats` (``scale=0.01`` for a raster in percent).

    Returns
    -------
    pandas.DataFrame
        The :func:`zonal_stats` table (``mean``, ``min``, ``max``, ``nodata_share``,
        ``outside_share``, ``reason``).

    Examples
    --------
    >>> import numpy as np, rasterio, geopandas as gpd, tempfile, os
    >>> from rasterio.transform import from_origin
    >>> from shapely import box
    >>> path = os.path.join(tempfile.mkdtemp(), "tcd.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=2, height=1, count=1,
    ...                    dtype="uint8", crs="EPSG:2154", nodata=255,
    ...                    transform=from_origin(700000, 6900010, 10, 10)) as dst:
    ...     dst.write(np.array([[60, 0]], dtype="uint8"), 1)
    >>> g = gpd.GeoDataFrame({"id": ["a"]}, geometry=[box(700000, 6900000, 700020, 6900010)],
    ...                      crs=2154)
    >>> float(share_stats(g, path, what="tree cover").loc["a", "mean"])
    0.3
    """
    z = zonal_stats(
        polygons,
        raster,
        stats=("mean", "min", "max", "nodata_share", "outside_share"),
        band=band,
        nodata=nodata,
        scale=scale,
    )
    hi, lo = z["max"].max(), z["min"].min()
    if (pd.notna(hi) and hi > 1 + 1e-9) or (pd.notna(lo) and lo < -1e-9):
        with open_raster(raster) as op:
            name = op.name
        check_share_range(lo, hi, raster=name, what=what, scale=scale)
    return z
