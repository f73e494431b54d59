"""Benchmark of the 3-30-300 canopy share: one focal (FFT) mean against exact zonal statistics.

Issue #17 item 1: the 250 m canopy share of every home must come from ONE focal disc mean of the
canopy raster, sampled at the homes (:func:`cdv_geo.metrics.focal.focal_mean`), instead of one
exact zonal statistic per home disc. The reference is ``exactextract.exact_extract`` called
directly on the disc polygons (coverage-weighted mean, the ``method="exact"`` path); it is timed
on a random subset of the homes and extrapolated linearly (its cost is per disc).

Default sizes (the issue's): 100,000 homes on a 10 m raster of 100 km² (1,000 x 1,000 pixels,
uint8 tree-cover percent, with nodata patches), homes spread over the raster and up to 200 m
beyond its edges. Prints both times, the ratio (target >= 20x) and the accuracy of the focal
means against the exact ones on the subset (target: within 0.5 percentage points for 99 % of
the homes, never beyond 2 points; discs with data on less than 1 % of their area are left out,
as :func:`cdv_geo.rule_3_30_300` leaves them out).

Usage::

    .venv/bin/python scripts/bench/bench_canopy.py
    .venv/bin/python scripts/bench/bench_canopy.py --homes 20000 --subset 2000 --repeat 3
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np

ORIGIN_X, ORIGIN_Y = 700_000.0, 6_900_000.0  # Lambert-93 (south-west corner)


def make_raster(path: Path, size: int, res: float, seed: int) -> None:
    """Write a uint8 tree-cover raster (0-100 %, 255 nodata): smooth patches plus noise."""
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    v = 35 + 30 * np.sin(xx / 37.0) * np.cos(yy / 53.0) + rng.integers(-15, 16, size=(size, size))
    v = np.clip(v, 0, 100).astype("uint8")
    v[((xx // 40) * 7 + (yy // 40) * 13) % 97 == 0] = 255  # ~1 % nodata blocks
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=1,
        dtype="uint8",
        crs="EPSG:2154",
        nodata=255,
        transform=from_origin(ORIGIN_X, ORIGIN_Y + size * res, res, res),
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="lzw",
    ) as dst:
        dst.write(v, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--homes", type=int, default=100_000)
    ap.add_argument("--size", type=int, default=1000, help="raster side in pixels")
    ap.add_argument("--res", type=float, default=10.0, help="pixel size (m)")
    ap.add_argument("--radius", type=float, default=250.0)
    ap.add_argument("--subset", type=int, default=5000, help="homes measured by exactextract")
    ap.add_argument("--repeat", type=int, default=3, help="focal runs (the best is kept)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    import geopandas as gpd
    import shapely
    from exactextract import exact_extract

    from cdv_geo.metrics.focal import focal_mean

    work = Path(tempfile.mkdtemp(prefix="bench_canopy_"))
    raster = work / "tcd.tif"
    make_raster(raster, args.size, args.res, args.seed)
    rng = np.random.default_rng(args.seed)
    extent = args.size * args.res
    xy = rng.uniform(-200, extent + 200, size=(args.homes, 2)) + np.array([ORIGIN_X, ORIGIN_Y])
    homes = gpd.GeoDataFrame({"id": np.arange(args.homes)}, geometry=shapely.points(xy), crs=2154)
    print(
        f"{args.homes:,} homes, raster {args.size} x {args.size} px of {args.res:g} m "
        f"({extent**2 / 1e6:g} km²), disc radius {args.radius:g} m"
    )

    focal_mean(homes.iloc[:10], raster, args.radius, scale=0.01)  # warm-up (imports, PROJ)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        f = focal_mean(homes, raster, args.radius, scale=0.01)
        times.append(time.perf_counter() - t0)
    t_focal = min(times)

    sub = np.sort(rng.choice(args.homes, size=min(args.subset, args.homes), replace=False))
    discs = gpd.GeoDataFrame(
        {"home": sub},
        geometry=shapely.buffer(homes.geometry.to_numpy()[sub], args.radius, quad_segs=32),
        crs=2154,
    )
    exact_extract(str(raster), discs.iloc[:5], ["mean"], output="pandas")  # warm-up
    t0 = time.perf_counter()
    ref = exact_extract(
        str(raster), discs, ["mean", "count"], include_cols=["home"], output="pandas"
    ).set_index("home")
    t_sub = time.perf_counter() - t0
    t_exact = t_sub * args.homes / len(sub)

    exact = ref.loc[sub, "mean"].to_numpy(dtype=float) * 0.01
    disc_px = math.pi * args.radius**2 / args.res**2
    enough = ref.loc[sub, "count"].to_numpy(dtype=float) >= 0.01 * disc_px
    diff = np.abs(f["mean"].to_numpy()[sub][enough] - exact[enough]) * 100
    within = float(np.mean(diff <= 0.5))

    print(f"focal (FFT, every home, best of {args.repeat}): {t_focal:8.3f} s")
    print(
        f"exactextract per disc: {t_sub:8.3f} s for {len(sub):,} homes -> "
        f"{t_exact:8.1f} s extrapolated to {args.homes:,}"
    )
    print(f"ratio exact / focal: {t_exact / t_focal:8.1f}x (target >= 20x)")
    print(
        f"accuracy on {int(enough.sum()):,} homes: within 0.5 pp for {within:.2%} "
        f"(target >= 99 %), p99 {np.quantile(diff, 0.99):.3f} pp, "
        f"max {diff.max():.3f} pp (target <= 2)"
    )


if __name__ == "__main__":
    main()
