"""Raster overlays: a percentage raster (imperviousness, canopy) and the change between two.

Rasters are opened by :func:`cdv_geo.core.raster.open_raster` (the one raster opener), their
nodata is their own (the file's ``nodata`` value, or its mask), and they are reprojected to Web
Mercator and embedded as a small palette PNG.
"""

from __future__ import annotations

import base64
import io
import os
from functools import partial
from typing import Any, Literal

import numpy as np

from cdv_geo.core import labels as lb
from cdv_geo.core.crs import MAP_CRS
from cdv_geo.core.errors import CdvGeoError, RasterError
from cdv_geo.core.raster import RasterLike, check_raster, open_raster
from cdv_geo.maps.features import display_memo, legend_note
from cdv_geo.maps.html import escape_text
from cdv_geo.maps.runtime import Call, MapLayer

__all__ = ["RASTER_THEMES", "raster_change_layer", "raster_layer", "read_raster_mercator"]

#: theme -> (matplotlib colour map, min, max, unit label key, layer title label key).
RASTER_THEMES = {
    "impervious": ("YlOrBr", 0.0, 100.0, "impervious_unit", "layer_raster_impervious"),
    "canopy": ("Greens", 0.0, 100.0, "canopy_unit", "layer_raster_canopy"),
    "change": ("RdYlGn_r", -50.0, 50.0, "change_unit", "layer_raster_change"),
}
_WEB_MERCATOR = "EPSG:3857"


def read_raster_mercator(
    raster: RasterLike, max_size: int, *, band: int = 1
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Read `band` reprojected to Web Mercator, at most `max_size` pixels a side.

    Returns the values as float with NaN for nodata (the raster's own nodata value or mask),
    and the bounds in lon/lat (west, south, east, north).

    Raises
    ------
    RasterError
        If the raster is missing, unreadable, has no CRS or no such band.
    """
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    with open_raster(raster) as op:
        check_raster(op, band)
        src = op.ds
        full, width, height = calculate_default_transform(
            src.crs, _WEB_MERCATOR, src.width, src.height, *src.bounds
        )
        # Web Mercator grids from calculate_default_transform are north-up (no rotation).
        west, north = full.c, full.f
        east, south = full.c + full.a * width, full.f + full.e * height
        scale = max(width / max_size, height / max_size, 1.0)
        width, height = max(1, round(width / scale)), max(1, round(height / scale))
        transform = rasterio.transform.from_bounds(west, south, east, north, width, height)
        data = np.full((height, width), np.nan, dtype="float64")
        src_arr = src.read(band, masked=True).astype("float64").filled(np.nan)
        reproject(
            src_arr,
            data,
            src_transform=src.transform,
            src_crs=src.crs,
            src_nodata=np.nan,
            dst_transform=transform,
            dst_crs=_WEB_MERCATOR,
            dst_nodata=np.nan,
            resampling=Resampling.nearest if scale <= 1.0 else Resampling.average,
        )
        lonlat = transform_bounds(_WEB_MERCATOR, MAP_CRS, west, south, east, north)
    return data, lonlat


def _png_data_url(values: np.ndarray, cmap_name: str, vmin: float, vmax: float) -> str:
    """Encode a palette PNG (201 colour levels, nodata transparent): small and fast."""
    from matplotlib import colormaps
    from PIL import Image

    levels = 200
    cmap = colormaps[cmap_name]
    nodata = ~np.isfinite(values)
    norm = np.clip((np.nan_to_num(values) - vmin) / (vmax - vmin), 0, 1)
    index = np.round(norm * levels).astype("uint8")
    index[nodata] = 255
    rgb = (cmap(np.linspace(0, 1, levels + 1))[:, :3] * 255).round().astype("uint8")
    palette = np.zeros((256, 3), dtype="uint8")
    palette[: levels + 1] = rgb
    img = Image.fromarray(index, "P")
    img.putpalette(palette.ravel().tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", transparency=255, compress_level=9)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _ramp(cmap_name: str, vmin: float, vmax: float, unit: str, lang: str) -> str:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps[cmap_name]
    stops = ", ".join(to_hex(cmap(x)) for x in np.linspace(0, 1, 7))
    lo, hi = lb.fmt_number(vmin, lang), lb.fmt_number(vmax, lang)
    return (
        f'<div class="cdv-ramp" style="background:linear-gradient(to right, {stops})"></div>'
        f'<div class="cdv-ramp-labels"><span>{escape_text(lo)}</span>'
        f"<span>{escape_text(hi)}</span></div>"
        f'<div class="cdv-note">{escape_text(unit)}</div>'
    )


def _file_key(path: RasterLike) -> tuple[Any, ...] | None:
    """Return what identifies a raster file's content (None: not a file one can stat)."""
    if not isinstance(path, str | os.PathLike):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return ("raster", os.path.abspath(path), st.st_mtime_ns, st.st_size)


def _image(
    path: RasterLike, max_size: int, theme: str
) -> tuple[str, tuple[float, float, float, float]]:
    """Return the PNG data URL of a raster and its bounds in lon/lat."""
    values, bounds = read_raster_mercator(path, max_size)
    cmap_name, vmin, vmax, _, _ = RASTER_THEMES[theme]
    return _png_data_url(values, cmap_name, vmin, vmax), bounds


def _image_layer(
    key: str,
    title: str,
    values: np.ndarray | str,
    bounds: tuple[float, float, float, float],
    *,
    theme: str,
    lang: str,
    opacity: float,
    show: bool,
    source: str | None,
) -> MapLayer:
    cmap_name, vmin, vmax, unit_key, _ = RASTER_THEMES[theme]
    layer = MapLayer(key, title, show=show)
    w, s, e, n = (round(float(v), 6) for v in bounds)
    url = values if isinstance(values, str) else _png_data_url(values, cmap_name, vmin, vmax)
    Call("image", key, url, [[s, w], [n, e]], float(opacity)).add_to(layer)
    layer.n_features = 1
    legend = [_ramp(cmap_name, vmin, vmax, lb.label(unit_key, lang), lang)]
    if source:
        legend.append(legend_note(lb.kv(lb.label("source", lang), source, lang)))
    layer.legend = legend
    return layer


def raster_layer(
    path: RasterLike,
    *,
    theme: Literal["impervious", "canopy"] = "impervious",
    year: int | str | None = None,
    key: str | None = None,
    lang: str = "fr",
    opacity: float = 0.7,
    max_size: int = 800,
    source: str | None = None,
    show: bool = True,
) -> MapLayer:
    """Draw a percentage raster (0–100) as a coloured overlay with a colour ramp.

    The raster is reprojected to Web Mercator and embedded as a PNG of at most `max_size`
    pixels a side (averaged when reduced). Its nodata pixels are transparent.

    Raises
    ------
    RasterError
        If the file cannot be read or has no CRS.
    """
    lb.check_lang(lang)
    if theme not in ("impervious", "canopy"):
        raise CdvGeoError(f"theme={theme!r} is not valid; use 'impervious' or 'canopy'")
    title = lb.label(RASTER_THEMES[theme][4], lang, year=year if year is not None else "").strip()
    image = partial(_image, path, max_size, theme)
    memo = _file_key(path)
    if memo is not None:  # the maps of one territory draw it alike: read and encoded once
        url, bounds = display_memo((*memo, max_size, theme), image)
    else:
        url, bounds = image()
    return _image_layer(
        key or f"raster_{theme}_{year or ''}".rstrip("_"),
        title,
        url,
        bounds,
        theme=theme,
        lang=lang,
        opacity=opacity,
        show=show,
        source=source,
    )


def raster_change_layer(
    before: RasterLike,
    after: RasterLike,
    *,
    years: tuple[Any, Any] | None = None,
    lang: str = "fr",
    opacity: float = 0.75,
    max_size: int = 800,
    source: str | None = None,
    show: bool = True,
) -> MapLayer:
    """Change between two percentage rasters (after − before, in % points): green = de-sealed.

    The two rasters must cover the same grid (same CRS, size and transform).
    """
    lb.check_lang(lang)
    a, bounds_a = read_raster_mercator(before, max_size)
    b, bounds_b = read_raster_mercator(after, max_size)
    if a.shape != b.shape or not np.allclose(bounds_a, bounds_b, atol=1e-7):
        raise RasterError(
            f"rasters {before} and {after} are not on the same grid; resample one onto the "
            "other (gdalwarp -te ... -tr ...) before comparing them"
        )
    span = f"{years[0]}–{years[1]}" if years else ""
    title = lb.label("layer_raster_change", lang, year=span).strip()
    return _image_layer(
        "raster_change",
        title,
        b - a,
        bounds_a,
        theme="change",
        lang=lang,
        opacity=opacity,
        show=show,
        source=source,
    )
