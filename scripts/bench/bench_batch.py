"""Benchmark: many territories on dask.distributed (issue 15).

N generated territories (1-3 square quartiers each, a street grid, facilities, residences and an
indicator table; default 200), every metric computed and written, national tables stacked:

- 2 workers vs 1 worker of a LocalCluster (target: >= 1.6x faster on 2 cores);
- 1 dask worker vs a plain in-process loop over the same territories (target: <= 10 % overhead),
  and the CPU time per task of both (the process's, and the task thread's alone): the dask tasks
  once used 19 % more CPU than the loop's, the worker's event loop waking beside each task
  (``--defaults`` times dask's default worker settings too: before/after);
- peak memory of the client process (a fresh process each, RSS sampled every 20 ms) at N/4
  and N territories (target: flat, i.e. a ratio near 1).

Every timed run is a fresh Python process that has imported ``cdv_geo.batch`` (as a user's
script would) and starts from an empty output folder, so that no run inherits what an earlier
one started or imported (a worker fork server, modules loaded by the loop). The dask times count
the cluster's start and stop (the user waits for them); they are also printed without the start.

Run: ``.venv/bin/python scripts/bench/bench_batch.py`` (``--n 40`` for a smaller run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the generator lives with the tests

from cdv_geo.batch import INLINE, run_batch  # noqa: E402
from tests.batch.generate import make_projects  # noqa: E402


def _timed(projects: Path, out: Path, mode: str) -> dict[str, float]:
    """Run the batch in a fresh process (see _run): wall times, and the tasks' CPU share."""
    res = subprocess.run(
        [sys.executable, __file__, "--run", mode, "--projects", str(projects), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def _run(projects: Path, out: Path, mode: str) -> None:
    """Time one batch of every project under `projects` (mode: loop, or a number of workers).

    ``1-defaults``: one worker with dask's own worker settings instead of
    :data:`cdv_geo.batch.run.WORKER_CONFIG` (its profiler off, as before that setting).
    """
    import cdv_geo.batch.run as batch_run

    paths = sorted(projects.glob("*/project.toml"))
    if mode == "1-defaults":
        batch_run.WORKER_CONFIG = {"distributed.worker.profile.enabled": False}
    workers = mode.split("-")[0]
    kwargs: dict[str, object] = (
        {"scheduler": INLINE} if mode == "loop" else {"workers": int(workers)}
    )
    load = os.getloadavg()[0]
    start = time.perf_counter()
    result = run_batch(paths, out, force=True, show_progress=False, **kwargs)  # type: ignore[arg-type]
    took = time.perf_counter() - start
    if len(result.errors):
        raise SystemExit(f"the batch failed: {result.errors}")
    t = result.territories
    print(
        json.dumps(
            {
                "seconds": took,
                "start": result.timings["start"],
                "national": result.timings["national"],
                "cpu_share": float(t["cpu_seconds"].sum() / t["seconds"].sum()),
                "task_cpu": float(t["cpu_seconds"].sum()),
                "task_thread_cpu": float(t["thread_cpu_seconds"].sum()),
                "tasks": len(t),
                "load": load,
            }
        )
    )


def _memory(projects: Path, n: int, out: Path) -> dict[str, float]:
    """Client memory of a fresh process running n territories on 2 workers (see _client)."""
    res = subprocess.run(
        [sys.executable, __file__, "--client", str(projects), "--n", str(n), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def _client(projects: Path, n: int, out: Path) -> None:
    """Run n territories; print the RSS before the run and its peak during it (sampled)."""
    import threading

    import psutil

    proc = psutil.Process()
    paths = sorted(projects.glob("*/project.toml"))[:n]
    before = proc.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], proc.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    run_batch(paths, out, workers=2, force=True, show_progress=False)
    done.set()
    thread.join()
    mb = 1024 * 1024
    print(json.dumps({"before_mb": before / mb, "peak_mb": peak[0] / mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="number of territories (200)")
    parser.add_argument("--grid", type=int, default=12, help="streets per side of a town (12)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs, best kept (1)")
    parser.add_argument(
        "--defaults",
        action="store_true",
        help="also time 1 worker with dask's default worker settings (before/after)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument("--client", type=Path, help=argparse.SUPPRESS)  # memory child
    parser.add_argument("--run", help=argparse.SUPPRESS)  # timed child
    parser.add_argument("--projects", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run is not None:
        _run(args.projects, args.out, args.run)
        return
    if args.client is not None:
        _client(args.client, args.n, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        make_projects(root / "projects", args.n, grid=args.grid)
        print(
            f"{args.n} territories generated in {time.perf_counter() - start:.1f} s "
            f"(load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs)"
        )
        # interleaved repeats, best of each: other processes on the machine add noise
        modes = {"loop": "plain in-process loop", "1": "dask, 1 worker", "2": "dask, 2 workers"}
        if args.defaults:
            modes["1-defaults"] = "dask, 1, dask defaults"
        runs: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
        for _ in range(args.repeat):
            for mode in modes:
                runs[mode].append(_timed(root / "projects", root / f"out-{mode}", mode))
        best = {m: min(r, key=lambda x: x["seconds"]) for m, r in runs.items()}
        for mode, label in modes.items():
            b = best[mode]
            extra = "" if mode == "loop" else f", {b['seconds'] - b['start']:5.1f} s without start"
            print(
                f"{label:22s}: {b['seconds']:6.1f} s (start {b['start']:.1f} s, national "
                f"{b['national']:.1f} s{extra}; tasks' CPU {b['task_cpu']:.1f} s, "
                f"CPU/wall {b['cpu_share']:.0%}; load {b['load']:.2f})"
            )
        # per-task CPU: the process's (what the tasks cost the machine) and the task thread's
        # alone (without the worker's event loop, or the loop's thread pool); best run of each
        cpu = {m: min(r["task_cpu"] for r in runs[m]) / runs[m][0]["tasks"] for m in modes}
        own = {m: min(r["task_thread_cpu"] for r in runs[m]) / runs[m][0]["tasks"] for m in modes}
        for mode, label in modes.items():
            print(
                f"per-task CPU, {label:22s}: process {cpu[mode] * 1000:6.0f} ms, task thread "
                f"{own[mode] * 1000:6.0f} ms; process vs loop {cpu[mode] / cpu['loop']:.2f}"
            )
        print(
            f"per-task process CPU, 1 dask worker / loop: {cpu['1'] / cpu['loop']:.2f} "
            f"(the other machine's report: 1.19)"
            + (
                f"; with dask's default worker settings: {cpu['1-defaults'] / cpu['loop']:.2f}"
                if "1-defaults" in cpu
                else ""
            )
        )
        loop, one, two = (best[m]["seconds"] for m in ("loop", "1", "2"))
        print(f"plain loop: {loop / args.n * 1000:.0f} ms/territory")
        speed = one / two
        over = one / loop - 1
        bare = (one - best["1"]["start"]) / (two - best["2"]["start"])
        print(
            f"speed-up 2 vs 1 worker: {speed:.2f}x, cluster start included (target >= 1.6x) "
            f"{'OK' if speed >= 1.6 else 'MISSED'}; {bare:.2f}x without the start"
        )
        print(
            f"dask overhead, 1 worker vs loop: {over:+.1%}, cluster start included "
            f"(target <= 10 %) {'OK' if over <= 0.10 else 'MISSED'}; "
            f"{(one - best['1']['start']) / loop - 1:+.1%} without the start"
        )
        if args.no_memory:
            return
        small = max(1, args.n // 4)
        mem = {n: _memory(root / "projects", n, root / f"out-mem-{n}") for n in (small, args.n)}
        for n, m in mem.items():
            print(
                f"client peak RSS, {n:4d} territories: {m['peak_mb']:.0f} MB "
                f"(at start {m['before_mb']:.0f} MB)"
            )
        grow = {n: m["peak_mb"] - m["before_mb"] for n, m in mem.items()}
        print(
            f"client growth during the run: {grow[small]:.0f} MB ({small}), "
            f"{grow[args.n]:.0f} MB ({args.n})"
        )
        ratio = mem[args.n]["peak_mb"] / mem[small]["peak_mb"]
        print(
            f"client memory ratio {args.n} / {small} territories: {ratio:.2f} (target: flat, ~1) "
            f"{'OK' if ratio <= 1.1 else 'MISSED'}"
        )
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"(this process: peak RSS {own:.0f} MB)")


if __name__ == "__main__":
    main()
