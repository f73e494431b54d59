"""Benchmark: cdv_geo map layers vs ``GeoDataFrame.explore()`` on the same data.

50,000 tree-planting points and 5,000 residence polygons (coloured by walking time), built and
saved as one HTML file (CDN assets) by each tool in the same run; then 26,000 homes alone (the
residences of a town of 60,000, issue 17). Target: at most half the HTML size and half the time
of explore().

Run: ``.venv/bin/python scripts/bench/bench_maps.py`` (``--quick`` for a 10x smaller run).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.maps import residences_layer, save_map, trees_layer

X0, Y0 = 726000.0, 6918000.0  # Lambert-93, Soissons
SPECIES = [
    "Tilia cordata",
    "Acer campestre",
    "Acer platanoides",
    "Carpinus betulus",
    "Quercus robur",
    "Prunus avium",
    "Sorbus aucuparia",
    "Betula pendula",
    "Fraxinus excelsior",
    "Ulmus minor",
    "Alnus glutinosa",
    "Malus sylvestris",
    "Pyrus calleryana",
    "Ginkgo biloba",
    "Celtis australis",
    "Liquidambar styraciflua",
    "Platanus x acerifolia",
    "Gleditsia triacanthos",
    "Zelkova serrata",
    "Koelreuteria paniculata",
]


def data(n_trees: int, n_res: int, seed: int = 0) -> tuple[gpd.GeoDataFrame, ...]:
    rng = np.random.default_rng(seed)
    trees = gpd.GeoDataFrame(
        {
            "id": [f"t{i}" for i in range(n_trees)],
            "trees": rng.integers(1, 6, n_trees),
            "species": rng.choice(SPECIES, n_trees),
            "year": rng.integers(2015, 2025, n_trees),
        },
        geometry=gpd.points_from_xy(
            X0 + rng.random(n_trees) * 4000, Y0 + rng.random(n_trees) * 4000
        ),
        crs=2154,
    )
    centres = shapely.points(X0 + rng.random(n_res) * 4000, Y0 + rng.random(n_res) * 4000)
    # octagonal footprints of 8-20 m (9 coordinates each, like simple buildings)
    footprints = shapely.buffer(centres, rng.uniform(8, 20, n_res), quad_segs=2)
    ids = [f"r{i}" for i in range(n_res)]
    residences = gpd.GeoDataFrame(
        {
            "id": ids,
            "dwellings": rng.integers(1, 80, n_res),
            "population": rng.integers(1, 160, n_res).astype(float),
        },
        geometry=footprints,
        crs=2154,
    )
    times = rng.gamma(2.0, 4.0, n_res)
    times[rng.random(n_res) < 0.02] = np.nan  # unreachable
    nearest = pd.DataFrame({"water_play_area_time_min": times}, index=pd.Index(ids, name="id"))
    return trees, residences, nearest


def ours(trees: gpd.GeoDataFrame, res: gpd.GeoDataFrame, near: pd.DataFrame, out: Path) -> None:
    m = folium.Map(tiles=None)
    residences_layer(res, nearest=near).add_to(m)
    if len(trees):
        trees_layer(trees).add_to(m)
    m.fit_bounds([[49.36, 3.28], [49.40, 3.34]])
    save_map(m, out)


def explore(trees: gpd.GeoDataFrame, res: gpd.GeoDataFrame, near: pd.DataFrame, out: Path) -> None:
    # The same information: walking time class colours, the same tooltip fields.
    r = res.copy()
    t = near["water_play_area_time_min"].reindex(r["id"]).to_numpy()
    r["temps"] = pd.cut(
        t, [0, 5, 10, 15, np.inf], right=False, labels=["<5", "5-10", "10-15", ">=15"]
    ).astype(str)
    m = r.explore(column="temps", tooltip=["dwellings", "population", "temps"], tiles=None)
    if len(trees):
        trees.explore(m=m, tooltip=["species", "year", "trees"], color="#238b45")
    m.save(out)


def run(name: str, fn: Callable[..., None], *args: Any, repeat: int) -> tuple[float, int]:
    best = float("inf")
    size = 0
    with tempfile.TemporaryDirectory() as d:
        for i in range(repeat):
            out = Path(d) / f"{name}{i}.html"
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(*args, out)
            best = min(best, time.perf_counter() - t0)
            size = out.stat().st_size
    return best, size


def main() -> None:
    try:
        import mapclassify  # noqa: F401 - explore() needs it to colour by a column
    except ImportError:
        raise SystemExit(
            "bench_maps needs mapclassify for GeoDataFrame.explore(): pip install mapclassify"
        ) from None
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5,000 points, 500 polygons")
    ap.add_argument("--repeat", type=int, default=2, help="runs per tool (best is kept)")
    args = ap.parse_args()
    n_trees, n_res = (5_000, 500) if args.quick else (50_000, 5_000)
    n_homes = 2_600 if args.quick else 26_000
    ok = True
    for title, sizes in (
        (f"{n_trees:,} tree points + {n_res:,} residence polygons", (n_trees, n_res)),
        (f"{n_homes:,} residence polygons (a town of 60,000; issue 17)", (0, n_homes)),
    ):
        trees, res, near = data(*sizes)
        print(f"bench_maps: {title}, build + save, best of {args.repeat}")
        t_ours, s_ours = run("ours", ours, trees, res, near, repeat=args.repeat)
        t_ref, s_ref = run("explore", explore, trees, res, near, repeat=args.repeat)
        print(f"  cdv_geo layers        : {t_ours:6.2f} s   {s_ours / 1e6:7.2f} MB")
        print(f"  GeoDataFrame.explore(): {t_ref:6.2f} s   {s_ref / 1e6:7.2f} MB")
        print(
            f"  ratio cdv_geo/explore : time {t_ours / t_ref:.2f}   size {s_ours / s_ref:.2f}"
            f"   (targets: time <= 0.50, size <= 0.50)"
        )
        ok = ok and t_ours <= 0.5 * t_ref and s_ours <= 0.5 * s_ref
    print("  target met" if ok else "  TARGET MISSED")


if __name__ == "__main__":
    main()
