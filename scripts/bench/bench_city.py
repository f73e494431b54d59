"""Benchmark: a big city's committee pack (``cdv-geo report``), step by step, at two sizes.

Issue 17 item 3: "A big city's committee pack in a minute: 100,000 homes, every metric and
map". A generated city (:mod:`city`: 100,000 building polygons, 30 quartiers, a walking network
of about 60,000 intersections, 500 facilities, 50,000 tree plantings, de-sealed areas, renewal
sites, green spaces, three 10 m rasters over 100 km²) is written as a project folder, then for
each size (10,000 homes, and 100,000 unless ``--quick``):

1. **steps** (one fresh process): the steps of ``cdv-geo report`` called one by one through
   the public API (``Territory.from_file``, ``compute_metrics`` -- split into its steps by its
   ``progress`` hook --, ``write_tables``, ``static_figures``, ``build_committee_maps`` -- split
   into one row per map built, plus the writing of every HTML file --, ``write_index``). Each
   step's wall time, CPU time (all threads) and peak RSS (the process's ``VmHWM``, reset at the
   start of the step through ``/proc/self/clear_refs``; on other systems the process peak so far,
   from ``getrusage``).
2. **cli**: ``cdv-geo report PROJECT --out DIR`` end to end in a fresh process: wall time, CPU
   time and peak RSS of that process (``os.wait4``).
3. **references** (one fresh process): exactextract per 250 m disc for the canopy share of every
   home (timed on ``--subset`` homes and extrapolated linearly: its cost is per disc), against
   ``cdv_geo.metrics.focal.focal_mean`` on every home and the whole 3-30-300 step; and
   ``GeoDataFrame.explore()`` of the residences coloured by walking time, against
   ``cdv_geo.maps.residences_layer`` on the same data (build + save HTML): as the maps draw
   them (points from 25,000 homes) and with their footprints (``form="polygon"``).

It prints the figures of each size and the 100k/10k ratio per step (target: at most linear, a
ratio of about 10-12 for 10x the city), the end-to-end total (target: <= 60 s at 100,000 homes on
2 cores) and the peak memory (target: <= 4 GB). Wall times depend on what else runs on the
machine: the CPU times and the load average are printed too.

Usage::

    .venv/bin/python scripts/bench/bench_city.py             # 10,000 and 100,000 homes
    .venv/bin/python scripts/bench/bench_city.py --quick     # 10,000 homes only
    .venv/bin/python scripts/bench/bench_city.py --homes 50000 --keep /tmp/city
    .venv/bin/python scripts/bench/bench_city.py --profile   # + cProfile of compute_metrics
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PY = sys.executable
CLI = Path(PY).with_name("cdv-geo")
TARGET_S, TARGET_MB = 60.0, 4096.0

# --- measuring one process -------------------------------------------------------------------

_STATUS = Path("/proc/self/status")
_CLEAR = Path("/proc/self/clear_refs")


def _hwm_mb() -> float:
    """Peak RSS of this process since the last reset (Linux VmHWM), else since it started."""
    try:
        m = re.search(r"VmHWM:\s+(\d+)\s+kB", _STATUS.read_text())
        if m:
            return int(m.group(1)) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    try:
        m = re.search(r"VmRSS:\s+(\d+)\s+kB", _STATUS.read_text())
        if m:
            return int(m.group(1)) / 1024
    except OSError:
        pass
    return float("nan")


def _reset_hwm() -> bool:
    """Reset the peak RSS to the current RSS (Linux >= 4.0); False when not possible."""
    try:
        _CLEAR.write_text("5")
        return True
    except OSError:
        return False


class Meter:
    """Wall time, CPU time and peak RSS of nested steps of this process."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._stack: list[dict[str, Any]] = []

    def _fold(self) -> None:
        peak = _hwm_mb()
        for s in self._stack:
            s["peak_mb"] = max(s["peak_mb"], peak)

    def start(self, name: str, *, detail: bool = False) -> None:
        """Open a step (nested in the open ones)."""
        self._fold()
        _reset_hwm()
        row = {
            "step": name,
            "depth": len(self._stack),
            "detail": detail,
            "peak_mb": _hwm_mb(),
            "rss_before_mb": _rss_mb(),
            "_t": time.perf_counter(),
            "_c": time.process_time(),
        }
        self.rows.append(row)
        self._stack.append(row)

    def stop(self) -> None:
        """Close the innermost open step."""
        self._fold()
        row = self._stack.pop()
        row["wall_s"] = time.perf_counter() - row.pop("_t")
        row["cpu_s"] = time.process_time() - row.pop("_c")
        row["rss_after_mb"] = _rss_mb()

    @contextlib.contextmanager
    def step(self, name: str, *, detail: bool = False) -> Iterator[None]:
        """Measure the body of a ``with`` block as one step."""
        self.start(name, detail=detail)
        try:
            yield
        finally:
            self.stop()

    def progress(self, items: Iterable[Any], desc: str) -> Iterator[Any]:
        """Time each item's work as a sub-step: a ``progress(iterable, description)`` hook.

        Timing each item's work as a sub-step.

        ``compute_metrics`` runs a step and ``build_committee_maps`` builds a map between
        two requests for the next item. The maps are written after the last one is built:
        that is timed as one more sub-step, closed by :meth:`close_open`.
        """
        depth = len(self._stack)
        for item in list(items):
            name = (
                item[0] if isinstance(item, tuple) and item and isinstance(item[0], str) else item
            )
            self.start(f"{desc}: {name}")
            yield item
            self.stop()
        if desc == "maps" and len(self._stack) == depth:
            self.start("maps: write every HTML file")

    def close_open(self, depth: int) -> None:
        """Close the steps opened deeper than `depth`."""
        while len(self._stack) > depth:
            self.stop()


# --- child processes -------------------------------------------------------------------------


def child_steps(project: Path, out: Path, result: Path) -> None:
    """Run the steps of ``cdv-geo report`` (cdv_geo.output.build_report), one by one."""
    from cdv_geo import Territory
    from cdv_geo.maps import build_committee_maps
    from cdv_geo.output import static_figures, write_tables
    from cdv_geo.output.bundle import write_index
    from cdv_geo.pipeline import compute_metrics

    warnings.simplefilter("ignore")
    m = Meter()
    base = _rss_mb()
    with m.step("read project (Territory.from_file)"):
        t = Territory.from_file(project)
    with m.step("compute_metrics"):
        metrics = compute_metrics(t, progress=m.progress)
    with m.step("tables (write_tables csv, xlsx, gpkg)"):
        tables = write_tables(metrics, out / "tables", formats=("csv", "xlsx", "gpkg"), lang="fr")
    with m.step("figures (static_figures)"):
        figures = static_figures(t, metrics, out / "figures", lang="fr")
    with m.step("maps (build_committee_maps)"):
        depth = len(m._stack)
        files = build_committee_maps(t, out, metrics=metrics, lang="fr", progress=m.progress)
        m.close_open(depth)
    with m.step("index (write_index)"):
        write_index(t, metrics, out, tables, figures, dict(files), lang="fr")
    sizes = {name: p.stat().st_size for name, p in files.items()}
    result.write_text(
        json.dumps(
            {
                "rows": m.rows,
                "baseline_mb": base,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "map_bytes": sizes,
                "n_homes": len(t.residences),
                "n_nodes": getattr(metrics.network, "n_nodes", None),
            },
            default=str,
        )
    )


def child_reference(project: Path, out: Path, result: Path, subset: int) -> None:
    """Exactextract per disc vs focal_mean; explore() vs residences_layer."""
    import folium
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely
    from exactextract import exact_extract

    from cdv_geo import Territory
    from cdv_geo.maps import residences_layer, save_map
    from cdv_geo.metrics.focal import focal_mean
    from cdv_geo.pipeline import compute_metrics

    warnings.simplefilter("ignore")
    m = Meter()
    t = Territory.from_file(project)
    canopy = t.rasters["canopy_2024"]
    res = t.metric("residences")
    n = len(res)
    homes = gpd.GeoDataFrame(
        {"id": res["id"].to_numpy()},
        geometry=shapely.point_on_surface(res.geometry.to_numpy()),
        crs=res.crs,
    )
    focal_mean(homes.iloc[:10], canopy, 250.0, scale=0.01)  # warm-up: imports, PROJ
    with m.step("cdv_geo focal_mean: 250 m canopy share of every home"):
        focal_mean(homes, canopy, 250.0, scale=0.01)
    rng = np.random.default_rng(0)
    sub = np.sort(rng.choice(n, size=min(subset, n), replace=False))
    discs = gpd.GeoDataFrame(
        {"home": sub},
        geometry=shapely.buffer(homes.geometry.to_numpy()[sub], 250.0, quad_segs=32),
        crs=res.crs,
    )
    exact_extract(str(canopy), discs.iloc[:5], ["mean"], output="pandas")  # warm-up
    with m.step(f"exactextract per disc, {len(sub):,} homes"):
        exact_extract(str(canopy), discs, ["mean"], include_cols=["home"], output="pandas")
    with m.step("cdv_geo compute_metrics(only=['rule_3_30_300'])"):
        compute_metrics(t, only=["rule_3_30_300"], progress=m.progress)
    near = compute_metrics(t, only=["nearest"]).nearest
    assert near is not None
    with m.step("cdv_geo residences_layer + save_map"):
        fm = folium.Map(tiles=None)
        residences_layer(t.residences, nearest=near).add_to(fm)
        save_map(fm, out / "residences_cdv.html")
    with m.step("cdv_geo residences_layer(form='polygon') + save_map"):
        fm = folium.Map(tiles=None)
        residences_layer(t.residences, nearest=near, form="polygon").add_to(fm)
        save_map(fm, out / "residences_cdv_polygons.html")
    with m.step("GeoDataFrame.explore() + save"):
        r = t.residences.copy()
        minutes = near["water_play_area_time_min"].reindex(r["id"]).to_numpy()
        r["temps"] = pd.cut(
            minutes, [0, 5, 10, 15, np.inf], right=False, labels=["<5", "5-10", "10-15", ">=15"]
        ).astype(str)
        em = r.explore(column="temps", tooltip=["dwellings", "population", "temps"], tiles=None)
        em.save(out / "residences_explore.html")
    rows = {r["step"]: r for r in m.rows}
    result.write_text(
        json.dumps(
            {
                "rows": m.rows,
                "n": n,
                "subset": len(sub),
                "exact_s": rows[f"exactextract per disc, {len(sub):,} homes"]["wall_s"]
                * n
                / len(sub),
                "bytes_cdv": (out / "residences_cdv.html").stat().st_size,
                "bytes_cdv_polygons": (out / "residences_cdv_polygons.html").stat().st_size,
                "bytes_explore": (out / "residences_explore.html").stat().st_size,
            },
            default=str,
        )
    )


def child_profile(project: Path, result: Path) -> None:
    """Profile compute_metrics into `result`, and the outputs into ``<result>.output.pstats``."""
    import cProfile

    from cdv_geo import Territory
    from cdv_geo.maps import build_committee_maps
    from cdv_geo.output import static_figures, write_tables
    from cdv_geo.pipeline import compute_metrics

    warnings.simplefilter("ignore")
    t = Territory.from_file(project)
    prof = cProfile.Profile()
    prof.enable()
    metrics = compute_metrics(t)
    prof.disable()
    prof.dump_stats(str(result))
    out = Path(tempfile.mkdtemp(prefix="bench_city_profile_"))
    prof = cProfile.Profile()
    prof.enable()
    write_tables(metrics, out / "tables", formats=("csv", "xlsx", "gpkg"), lang="fr")
    static_figures(t, metrics, out / "figures", lang="fr")
    build_committee_maps(t, out, metrics=metrics, lang="fr")
    prof.disable()
    prof.dump_stats(f"{result}.output.pstats")
    shutil.rmtree(out, ignore_errors=True)


# --- the parent ------------------------------------------------------------------------------


def _run_child(args: list[str], log: Path) -> None:
    with log.open("w") as fh:
        r = subprocess.run([PY, __file__, *args], stdout=fh, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        tail = log.read_text()[-3000:]
        raise RuntimeError(f"child {args[:2]} failed (exit {r.returncode}):\n{tail}")


def run_cli(project: Path, out: Path, log: Path) -> dict[str, float]:
    """``cdv-geo report`` in a fresh process: wall, CPU and peak RSS of that process."""
    with log.open("w") as fh:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            [str(CLI), "report", str(project), "--out", str(out)], stdout=fh, stderr=fh
        )
        _pid, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(
            f"cdv-geo report failed (exit {p.returncode}): {log.read_text()[-3000:]}"
        )
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
    }


def measure(homes: int, work: Path, subset: int, *, reference: bool) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from city import city_size, make_city

    s = city_size(homes)
    folder = work / f"city_{homes}"
    t0 = time.perf_counter()
    project = make_city(folder, homes=homes)
    gen = time.perf_counter() - t0
    print(
        f"\n== {homes:,} homes: {s.side_m / 1000:.2f} km side, {s.quartiers} quartiers, "
        f"{s.intersections:,} intersections, {sum(s.facilities.values())} facilities, "
        f"{s.trees:,} trees (generated in {gen:.1f} s: {folder})",
        flush=True,
    )
    out: dict[str, Any] = {"homes": homes, "generate_s": gen}
    load = os.getloadavg()[0]
    _run_child(
        ["--child", "steps", str(project), str(folder / "pack_steps"), str(folder / "steps.json")],
        folder / "steps.log",
    )
    out["steps"] = json.loads((folder / "steps.json").read_text())
    out["cli"] = run_cli(project, folder / "pack_cli", folder / "cli.log")
    if reference:
        ref = folder / "reference"
        ref.mkdir(exist_ok=True)
        _run_child(
            ["--child", "reference", str(project), str(ref), str(ref / "ref.json"), str(subset)],
            folder / "reference.log",
        )
        out["reference"] = json.loads((ref / "ref.json").read_text())
    out["load"] = (load + os.getloadavg()[0]) / 2
    print_size(out)
    return out


def _fmt_mb(mb: float) -> str:
    return f"{mb / 1024:5.2f} GB" if mb >= 1024 else f"{mb:5.0f} MB"


def print_size(r: dict[str, Any]) -> None:
    st, cli = r["steps"], r["cli"]
    print(f"{'step':58s} {'wall s':>8s} {'cpu s':>8s} {'peak RSS':>9s}")
    for row in st["rows"]:
        name = "  " * row["depth"] + row["step"]
        peak = _fmt_mb(row["peak_mb"])
        print(f"{name[:58]:58s} {row['wall_s']:8.2f} {row['cpu_s']:8.2f} {peak:>9s}")
    top = [row for row in st["rows"] if row["depth"] == 0]
    print(
        f"{'sum of the steps':58s} {sum(x['wall_s'] for x in top):8.2f} "
        f"{sum(x['cpu_s'] for x in top):8.2f} {_fmt_mb(max(x['peak_mb'] for x in top)):>9s}"
    )
    print(
        f"{'cdv-geo report, end to end (fresh process)':58s} {cli['wall_s']:8.2f} "
        f"{cli['cpu_s']:8.2f} {_fmt_mb(cli['peak_mb']):>9s}"
    )
    print(f"(load average during the run: {r['load']:.1f} on {os.cpu_count()} CPUs)")
    maps = st.get("map_bytes", {})
    if maps:
        print("HTML sizes: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in maps.items()))
    ref = r.get("reference")
    if ref:
        rows = {x["step"]: x for x in ref["rows"]}
        focal = rows["cdv_geo focal_mean: 250 m canopy share of every home"]
        rule = rows["cdv_geo compute_metrics(only=['rule_3_30_300'])"]
        rule_step = [x for x in ref["rows"] if x["step"] == "metrics: renaturation"]
        ours_map = rows["cdv_geo residences_layer + save_map"]
        polys = rows.get("cdv_geo residences_layer(form='polygon') + save_map")
        expl = rows["GeoDataFrame.explore() + save"]
        print(
            f"reference: exactextract per 250 m disc: {ref['exact_s']:.1f} s for "
            f"{ref['n']:,} homes "
            f"(timed on {ref['subset']:,}, extrapolated) vs focal_mean {focal['wall_s']:.2f} s "
            f"({ref['exact_s'] / focal['wall_s']:.0f}x)"
            + (
                f" vs the whole 3-30-300 step {rule_step[0]['wall_s']:.2f} s "
                f"({ref['exact_s'] / rule_step[0]['wall_s']:.1f}x)"
                if rule_step
                else f" vs compute_metrics(only=rule_3_30_300) {rule['wall_s']:.2f} s"
            )
        )
        print(
            f"reference: explore() residences map {expl['wall_s']:.2f} s, "
            f"{ref['bytes_explore'] / 1e6:.1f} MB, peak {_fmt_mb(expl['peak_mb'])} vs "
            f"residences_layer {ours_map['wall_s']:.2f} s, {ref['bytes_cdv'] / 1e6:.1f} MB, "
            f"peak {_fmt_mb(ours_map['peak_mb'])} (time ratio "
            f"{expl['wall_s'] / ours_map['wall_s']:.1f}x, size ratio "
            f"{ref['bytes_explore'] / ref['bytes_cdv']:.1f}x)"
        )
        if polys is not None:
            print(
                f"reference: residences_layer with the footprints (form='polygon') "
                f"{polys['wall_s']:.2f} s, {ref['bytes_cdv_polygons'] / 1e6:.1f} MB "
                f"(explore() {expl['wall_s'] / polys['wall_s']:.1f}x the time, "
                f"{ref['bytes_explore'] / ref['bytes_cdv_polygons']:.1f}x the size)"
            )


def print_ratios(small: dict[str, Any], big: dict[str, Any]) -> None:
    f = big["homes"] / small["homes"]
    print(f"\n== ratio {big['homes']:,} / {small['homes']:,} homes (x{f:g} city; linear = {f:g})")
    print(f"{'step':58s} {'wall':>7s} {'cpu':>7s} {'peak':>7s}")
    a = {x["step"]: x for x in small["steps"]["rows"]}
    for row in big["steps"]["rows"]:
        s = a.get(row["step"])
        if s is None:
            continue
        name = "  " * row["depth"] + row["step"]
        rw = row["wall_s"] / s["wall_s"] if s["wall_s"] > 0 else float("nan")
        rc = row["cpu_s"] / s["cpu_s"] if s["cpu_s"] > 0.005 else float("nan")
        flag = "  <-- more than linear" if rc > 1.2 * f and row["cpu_s"] > 1 else ""
        print(f"{name[:58]:58s} {rw:7.1f} {rc:7.1f} {row['peak_mb'] / s['peak_mb']:7.1f}{flag}")
    c0, c1 = small["cli"], big["cli"]
    print(
        f"{'cdv-geo report end to end':58s} {c1['wall_s'] / c0['wall_s']:7.1f} "
        f"{c1['cpu_s'] / c0['cpu_s']:7.1f} {c1['peak_mb'] / c0['peak_mb']:7.1f}"
    )


def verdict(big: dict[str, Any]) -> None:
    """Print the end-to-end figures against the targets (60 s on 2 cores, 4 GB)."""
    cli = big["cli"]
    cpu, wall = cli["cpu_s"], cli["wall_s"]

    def ok(x: bool) -> str:
        return "met" if x else "NOT met"

    print(
        f"\n== targets at {big['homes']:,} homes, cdv-geo report end to end:\n"
        f"  wall {wall:.1f} s on this machine (load {big['load']:.1f} on {os.cpu_count()} CPUs) "
        f"-- target <= {TARGET_S:.0f} s: {ok(wall <= TARGET_S)}\n"
        f"  CPU {cpu:.1f} s (all threads): on an idle 2-core machine the wall time lies between "
        f"{cpu / 2:.1f} s (both cores busy) and {cpu:.1f} s (one core) -- "
        f"{'met' if cpu <= TARGET_S else 'not met'} even on one core\n"
        f"  peak memory {_fmt_mb(cli['peak_mb'])} -- target <= 4 GB: "
        f"{ok(cli['peak_mb'] <= TARGET_MB)}"
    )


def print_profile(stats: Path, title: str, top: int) -> None:
    """Print the cdv_geo functions of a cProfile file by own time."""
    import pstats

    p = pstats.Stats(str(stats))
    print(f"\n== cProfile of {title}: cdv_geo functions by own time")
    rows = []
    for (file, line, fn), (_cc, nc, tt, ct, _callers) in p.stats.items():  # type: ignore[attr-defined]
        if "cdv_geo" in file:
            mod = file.split("src/")[-1].removesuffix(".py").replace("/", ".")
            rows.append((tt, ct, nc, f"{mod}:{fn} (line {line})"))
    print(f"{'own s':>8s} {'cum s':>8s} {'calls':>9s}  function")
    for tt, ct, nc, name in sorted(rows, reverse=True)[:top]:
        print(f"{tt:8.2f} {ct:8.2f} {nc:9d}  {name}")
    print(f"(full stats: {stats}; `python -m pstats {stats}`, then `sort cumtime`, `stats 40`)")


def profile(homes: int, work: Path, top: int) -> None:
    """Profile compute_metrics and the outputs at `homes` homes in a fresh process."""
    sys.path.insert(0, str(HERE))
    from city import make_city

    folder = work / f"city_{homes}"
    project = folder / "project.toml"
    if not project.exists():
        make_city(folder, homes=homes)
    stats = folder / "compute_metrics.pstats"
    _run_child(["--child", "profile", str(project), str(stats)], folder / "profile.log")
    print_profile(stats, f"compute_metrics at {homes:,} homes", top)
    output = Path(f"{stats}.output.pstats")
    print_profile(output, f"write_tables + static_figures + maps at {homes:,} homes", top)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *rest = sys.argv[2:]
        if kind == "steps":
            child_steps(Path(rest[0]), Path(rest[1]), Path(rest[2]))
        elif kind == "reference":
            child_reference(Path(rest[0]), Path(rest[1]), Path(rest[2]), int(rest[3]))
        elif kind == "profile":
            child_profile(Path(rest[0]), Path(rest[1]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--homes", type=int, default=100_000, help="the big size (default 100,000)")
    ap.add_argument("--small", type=int, default=10_000, help="the small size (default 10,000)")
    ap.add_argument("--quick", action="store_true", help="the small size only")
    ap.add_argument("--keep", type=Path, help="write the cities and packs here and keep them")
    ap.add_argument("--subset", type=int, default=2000, help="homes timed with exactextract")
    ap.add_argument("--no-reference", action="store_true", help="skip exactextract and explore()")
    ap.add_argument("--profile", action="store_true", help="cProfile compute_metrics (big size)")
    ap.add_argument("--top", type=int, default=40, help="functions listed by --profile")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_city_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"bench_city: {os.cpu_count()} CPUs, work folder {work}")
    try:
        small = measure(args.small, work, args.subset, reference=not args.no_reference)
        results = [small]
        if not args.quick:
            big = measure(args.homes, work, args.subset, reference=not args.no_reference)
            results.append(big)
            print_ratios(small, big)
        verdict(results[-1])
        (work / "bench_city.json").write_text(json.dumps(results, indent=1, default=str))
        if args.profile:
            profile(results[-1]["homes"], work, args.top)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
