"""Benchmark: the compiled kernels against their numpy paths, and the price of compiling them.

Issue 26 §1: every compiled kernel has a numpy path with the same answers
(:mod:`cdv_geo.core.jit`); this measures what each costs, in one run:

- per kernel (the snapping query, the walk to the nearest facility, the walk's exit by the
  nearer end), the compiled kernel and its numpy path on the same synthetic city (``--homes``
  points on a street grid), best of ``--repeat``; the ratio numpy / compiled;
- the first use on a fresh machine (an empty cache: numba compiles), the first use in a new
  process on the same machine (a dask worker started beside the others: the cache is loaded)
  and the first use with the numpy path (nothing to compile), each in a fresh Python process,
  wall and CPU time of the demo's nearest-facility walk.

Run: ``.venv/bin/python scripts/bench/bench_kernels.py`` (``--homes 50000 --repeat 3``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
import shapely

FIRST_USE = """
import json, time
w0, c0 = time.perf_counter(), time.process_time()
from cdv_geo.datasets import soissons
from cdv_geo.metrics.access import nearest_facility
from cdv_geo.network import WalkNetwork
t = soissons()
net = WalkNetwork.from_lines(t.metric("streets"), crs=t.metric_crs)
homes, places = t.metric("residences"), t.metric("facilities")
w1, c1 = time.perf_counter(), time.process_time()
nearest_facility(homes, places, network=net)
w2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"setup": w1 - w0, "wall": w2 - w1, "cpu": c2 - c1}))
"""


def best(repeat: int, func: Callable[[], object]) -> float:
    """Best wall time of `repeat` calls, after one untimed call (compiles, warms caches)."""
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def city(n_homes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Streets of a 4 km square town (a grid every 80 m and crooked lanes), and homes."""
    rng = np.random.default_rng(seed)
    lines = [shapely.LineString([(x, 0), (x, 4000)]) for x in range(0, 4001, 80)]
    lines += [shapely.LineString([(0, y), (4000, y)]) for y in range(0, 4001, 80)]
    lines += [shapely.LineString(rng.uniform(0, 4000, (4, 2))) for _ in range(2000)]
    return np.array(lines, dtype=object), rng.uniform(0, 4000, (n_homes, 2))


def kernels(n_homes: int, repeat: int) -> list[tuple[str, float, float]]:
    """(kernel, compiled seconds, numpy seconds) on the synthetic city."""
    from cdv_geo.metrics.nearest import _walks
    from cdv_geo.network.routing import _reach
    from cdv_geo.network.snapping import SegmentGrid, SharedQuery, _query

    lines, xy = city(n_homes)
    g = SegmentGrid(lines)

    def query_args() -> tuple:
        q = SharedQuery(g, xy, 500.0)
        return (
            q.xy, g.x0, g.y0, g.gf, g.nx * g.k, g.ny * g.k, g.cells,
            g.cells[:, 4:12].view(g.ftype), g.rest_seg, g.seg_rows, q.edge, q.along,
            q.dist, q.progress, True,
        )  # fmt: skip

    out = [
        (
            "snapping query",
            best(repeat, lambda: _query.compiled(*query_args())),
            best(repeat, lambda: _query.numpy(*query_args())),
        )
    ]
    rng = np.random.default_rng(1)
    n_nodes, n_edges, n_seeds = 20_000, 30_000, 300
    table = np.stack([rng.uniform(0, 3000, n_nodes), rng.integers(0, n_seeds, n_nodes)], axis=1)
    edge_uv = rng.integers(0, n_nodes, (n_edges, 2))
    length = rng.uniform(5, 150, n_edges)
    edge = rng.integers(0, n_edges, n_homes)
    along = rng.uniform(0, 1, n_homes) * length[edge]
    seed_edge = np.sort(rng.integers(0, n_edges, n_seeds))
    on_seed = np.zeros(n_edges, dtype=bool)
    on_seed[seed_edge] = True
    walk_args = (
        table, edge_uv, length, edge, along, rng.uniform(0, 30, n_homes), seed_edge,
        np.arange(n_seeds), rng.uniform(0, 50, n_seeds), np.zeros(n_seeds), np.arange(n_seeds),
        on_seed, 1200.0, np.full(n_homes, np.nan), np.full(n_homes, -1, dtype=np.int64),
    )  # fmt: skip
    out.append(
        (
            "walk to the nearest",
            best(repeat, lambda: _walks.compiled(*walk_args)),
            best(repeat, lambda: _walks.numpy(*walk_args)),
        )
    )
    reach_args = (table, edge_uv, length, edge, along, np.empty(n_homes), np.empty(n_homes))
    out.append(
        (
            "exit by the nearer end",
            best(repeat, lambda: _reach.compiled(*reach_args)),
            best(repeat, lambda: _reach.numpy(*reach_args)),
        )
    )
    return out


def first_use(env: dict[str, str]) -> dict[str, float]:
    """Time the demo's first nearest-facility walk in a fresh process, under `env`."""
    res = subprocess.run([sys.executable, "-c", FIRST_USE], env=env, capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(res.stderr)
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Print the kernels' timings and the first-use costs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"kernels on {args.homes:,} homes (best of {args.repeat}):")
    for name, comp, nump in kernels(args.homes, args.repeat):
        print(f"  {name:24s} compiled {comp * 1e3:8.1f} ms   numpy {nump * 1e3:8.1f} ms   "
              f"numpy/compiled {nump / comp:5.1f}x")  # fmt: skip
    base = {k: v for k, v in os.environ.items() if "DISABLE_JIT" not in k}
    with tempfile.TemporaryDirectory() as cache:
        runs = {
            "fresh machine (empty cache: compiles)": {**base, "NUMBA_CACHE_DIR": cache},
            "new process, cache filled (a new worker)": {**base, "NUMBA_CACHE_DIR": cache},
            "numpy path (CDV_GEO_DISABLE_JIT=1)": {**base, "CDV_GEO_DISABLE_JIT": "1"},
        }
        print("first nearest-facility walk of the demo in a fresh process:")
        for name, env in runs.items():
            r = first_use(env)
            print(f"  {name:42s} wall {r['wall']:6.2f} s   cpu {r['cpu']:6.2f} s")


if __name__ == "__main__":
    main()
