"""The one raster opener: every metric and map opens rasters through :func:`open_raster`.

Rasters are read in their own CRS: callers reproject their polygons to the raster, never the
raster to the polygons (resampling would change the values being measured).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import rasterio
from pyproj import CRS

from cdv_geo.core.errors import RasterError

__all__ = ["OpenRaster", "RasterLike", "check_raster", "open_raster", "raster_info", "raster_name"]

#: What the raster functions accept: a path (also ``/vsicurl/...`` URLs of Cloud-Optimized
#: GeoTIFFs) or a dataset opened with :func:`rasterio.open`.
RasterLike: TypeAlias = str | os.PathLike[str] | rasterio.io.DatasetReader


@dataclass(frozen=True)
class OpenRaster:
    """An open raster dataset and the name its messages use."""

    ds: rasterio.io.DatasetReader
    name: str


def raster_name(raster: Any) -> str:
    """Return the name a message uses for `raster` (its path, or the dataset name)."""
    if isinstance(raster, rasterio.io.DatasetReader):
        return str(raster.name)
    return str(raster)


@contextlib.contextmanager
def open_raster(raster: RasterLike) -> Iterator[OpenRaster]:
    """Yield an open dataset; close it afterwards only if it was opened here."""
    if isinstance(raster, rasterio.io.DatasetReader):
        if raster.closed:
            raise RasterError(
                f"raster {raster.name} is closed; pass its path, or use it inside its "
                "`with rasterio.open(...)` block"
            )
        yield OpenRaster(raster, str(raster.name))
        return
    if not isinstance(raster, str | os.PathLike):
        raise RasterError(
            f"cannot read a raster from a {type(raster).__name__}; pass a file path or a "
            "dataset opened with rasterio.open(path)"
        )
    name = str(raster)
    remote = name.startswith("/vsi") or "://" in name
    if not remote and not Path(name).exists():
        raise RasterError(
            f"raster {name} does not exist; check the path (paths in project.toml are relative "
            "to the project file)"
        )
    try:
        ds = rasterio.open(name)
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(
            f"raster {name} cannot be opened ({exc}); expected a GeoTIFF (or another format "
            "GDAL reads)"
        ) from exc
    try:
        yield OpenRaster(ds, name)
    finally:
        ds.close()


def check_raster(op: OpenRaster, band: int) -> CRS:
    """Check CRS, band and grid orientation; return the raster CRS."""
    ds, name = op.ds, op.name
    if ds.crs is None:
        raise RasterError(
            f"raster {name} has no coordinate reference system. Assign one (QGIS: Raster > "
            "Projections > Assign Projection; GDAL: gdal_edit.py -a_srs EPSG:2154 FILE) "
            "before measuring polygons on it"
        )
    if not isinstance(band, int | np.integer) or not 1 <= int(band) <= ds.count:
        raise RasterError(
            f"raster {name} has no band {band!r}: it has {ds.count} band"
            f"{'s' if ds.count != 1 else ''} (numbered from 1); pass band=1"
            + (f" to {ds.count}" if ds.count > 1 else "")
        )
    t = ds.transform
    if t.b != 0 or t.d != 0:
        raise RasterError(
            f"raster {name} has a rotated grid, which zonal statistics cannot use; warp it to a "
            "north-up grid first (gdalwarp FILE OUT.tif)"
        )
    return CRS.from_user_input(ds.crs.to_wkt())


def raster_info(raster: RasterLike, *, band: int = 1) -> dict[str, Any]:
    """Check a raster and describe it.

    Parameters
    ----------
    raster : str, path-like or rasterio dataset
        The raster (GeoTIFF, Cloud-Optimized GeoTIFF...).
    band : int, default 1
        The band to check.

    Returns
    -------
    dict
        ``path``, ``crs`` (``"EPSG:2154"``...), ``width``, ``height``, ``bands``, ``res``
        (pixel size in CRS units), ``bounds``, ``dtype``, ``nodata``, ``tiled`` (block size
        smaller than the image), ``overviews`` (overview factors of `band`).

    Raises
    ------
    RasterError
        If the raster is missing, unreadable, has no CRS, no such band, or a rotated grid.

    Examples
    --------
    >>> import numpy as np, rasterio, tempfile, os
    >>> from rasterio.transform import from_origin
    >>> path = os.path.join(tempfile.mkdtemp(), "r.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=3, height=2, count=1,
    ...                    dtype="uint8", crs="EPSG:2154", nodata=255,
    ...                    transform=from_origin(700000, 6900020, 10, 10)) as dst:
    ...     dst.write(np.zeros((2, 3), dtype="uint8"), 1)
    >>> info = raster_info(path)
    >>> info["crs"], info["res"], info["dtype"], info["nodata"], info["bounds"]
    ('EPSG:2154', (10.0, 10.0), 'uint8', 255.0, (700000.0, 6900000.0, 700030.0, 6900020.0))
    """
    with open_raster(raster) as op:
        crs = check_raster(op, band)
        ds = op.ds
        epsg = crs.to_epsg()
        block_h, block_w = ds.block_shapes[band - 1]
        return {
            "path": op.name,
            "crs": f"EPSG:{epsg}" if epsg else crs.to_wkt(),
            "width": ds.width,
            "height": ds.height,
            "bands": ds.count,
            "res": (float(ds.res[0]), float(ds.res[1])),
            "bounds": tuple(float(v) for v in ds.bounds),
            "dtype": ds.dtypes[band - 1],
            "nodata": None if ds.nodata is None else float(ds.nodata),
            "tiled": block_w < ds.width or block_h < ds.height,
            "overviews": list(ds.overviews(band)),
        }
