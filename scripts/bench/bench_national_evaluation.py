"""Benchmark: every quartier of the national QPV panel evaluated on ``cdv-geo batch`` (issue 24).

The national run as a user starts it: ``cdv-geo batch PROJECT --evaluate-year YEAR`` (the CLI, in
a fresh process), with a local dask cluster of ``--workers`` workers (default 2) started and
stopped by the run. The project is a small generated territory whose ``[evaluation]`` section
points at the national REVN files (every QPV of France, 2017–2022; default
``../shared/real-data/insee-qpv-national/``, or the demo's compact extract
``data/indicators/national/`` with ``--folder``); each quartier is evaluated from YEAR against
all the others (difference-in-differences and synthetic control with placebo inference, per
indicator).

Printed: the whole national evaluation's time (files read, cluster start, evaluation), its CPU,
and, as the reference measured in the same run, the same evaluation of a sample of quartiers in
one process without dask, extrapolated to every quartier: the ratio is the speed-up the cluster
gives (ideal: the number of workers).

Run: ``.venv/bin/python scripts/bench/bench_national_evaluation.py`` (``--indicators 6`` for the
demo's six indicators, ``--folder data/indicators/national`` for the extract).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the generator lives with the tests

from tests.batch.generate import make_projects  # noqa: E402

NATIONAL = ROOT.parent / "shared" / "real-data" / "insee-qpv-national"
#: The demo's evaluated indicators (data/project.toml), then the others of the REVN files.
DEMO = (
    "poverty_rate",
    "median_income",
    "rsa_share",
    "social_benefits_share",
    "activity_income_share",
    "taxed_households_share",
)


def indicators(folder: Path, n: int | None) -> list[str]:
    """Return the demo's indicators, then the files' others (sorted); the first `n` (all)."""
    from cdv_geo import read_indicators

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = set(read_indicators(folder)["indicator"]) - {"population"}
    names = [i for i in DEMO if i in found] + sorted(found - set(DEMO))
    return names if n is None else names[:n]


def reference(folder: Path, inds: list[str], year: int, sample: int) -> tuple[float, int]:
    """CPU seconds per quartier of the same evaluation in this process (no dask), and the QPV."""
    from cdv_geo import read_indicators
    from cdv_geo.batch.evaluation import evaluate_national
    from cdv_geo.metrics.panel import indicator_panel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = indicator_panel(read_indicators(folder), keep=inds)
    codes = sorted(set(panel.loc[panel["generation"].notna(), "code"].astype(str)))
    step = max(1, len(codes) // sample)
    picked = codes[::step][:sample]
    _, times = evaluate_national(panel, year, inds, codes=picked, chunk=len(picked))
    return times["cpu_seconds"] / len(picked), len(codes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", type=Path, default=NATIONAL, help="the REVN files")
    ap.add_argument("--year", type=int, default=2021, help="intervention year (2021)")
    ap.add_argument("--workers", type=int, default=2, help="dask workers (2)")
    ap.add_argument("--indicators", type=int, default=None, help="first N indicators (all)")
    ap.add_argument("--sample", type=int, default=30, help="quartiers of the reference (30)")
    args = ap.parse_args()
    folder = args.folder.resolve()
    inds = indicators(folder, args.indicators)
    print(
        f"{folder.name}: {len(inds)} indicators ({', '.join(inds)}); year {args.year}; "
        f"{args.workers} workers; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        (project,) = make_projects(Path(tmp) / "projets", 1)
        listed = ", ".join(f'"{i}"' for i in inds)
        with project.open("a", encoding="utf-8") as fh:
            fh.write(
                f'\n[evaluation]\ndonors = "{folder.as_posix()}"\nindicators = [{listed}]\n'
                f"years = {{ QP900000 = {args.year} }}\n"  # (the generated quartier's own)
            )
        cli = Path(sys.executable).with_name("cdv-geo")
        command = [str(cli), "batch", str(project), "--out", str(Path(tmp) / "out")]
        command += ["--workers", str(args.workers), "--no-peers"]
        command += ["--evaluate-year", str(args.year)]
        start = time.perf_counter()
        res = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if res.returncode != 0:
            raise SystemExit(f"cdv-geo batch failed ({res.returncode}):\n{res.stdout}{res.stderr}")
        line = next(x for x in res.stdout.splitlines() if x.startswith("National evaluation"))
        table = pd.read_csv(Path(tmp) / "out" / "national" / "evaluation.csv")
    print(f"cdv-geo batch, the whole command: {wall:.1f} s")
    print(line.rsplit(": ", 1)[0])  # (without the file's temporary path)
    seconds = float(re.search(r"evaluation ([\d.]+) s", line).group(1))  # type: ignore[union-attr]
    verdicts = table.groupby("method")["verdict"].value_counts().unstack(fill_value=0)
    print(f"{len(table)} rows; verdicts by method:\n{verdicts.to_string()}")
    each, n_qpv = reference(folder, inds, args.year, args.sample)
    one_core = each * n_qpv
    print(
        f"reference, one process without dask ({args.sample} quartiers): {each:.3f} s CPU per "
        f"quartier x {len(inds)} indicators, i.e. ~{one_core:.0f} s for the {n_qpv} QPV; "
        f"speed-up of the {args.workers}-worker run (evaluation only): "
        f"{one_core / seconds:.2f}x (ideal {args.workers}x)"
    )


if __name__ == "__main__":
    main()
