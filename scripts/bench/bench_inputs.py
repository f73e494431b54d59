"""Benchmark: reading inputs at national size (the timings the test suite no longer asserts).

A timed assertion in the suite turns a loaded CI machine into a red build (issue 26 §2); the
speed targets that sat in the tests are measured here instead:

- a national-size INSEE indicator file (a ``REVN_2019``-like CSV of ~1,400 QPV rows, built
  from the sample shipped with the tests) read by :func:`cdv_geo.io.read_indicators`: budget
  **2 s** (the test ``test_a_national_size_file_loads_fast_with_one_value_per_key`` asserted
  < 6 s, "loose here");
- one generated batch project (``tests/batch/generate.py``) opened by
  :meth:`cdv_geo.territory.Territory.from_file`: budget **5 s** (the test
  ``test_generated_projects_are_small`` asserted it).

Each is timed ``--repeat`` times (the best is kept, after one untimed warm-up that pays the
imports) and printed against its budget with the ratio; the exit status is 1 when a budget is
exceeded, so that ``make bench`` says so.

Run: ``.venv/bin/python scripts/bench/bench_inputs.py`` (``--repeat 5``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the generators live with the tests

from cdv_geo.io.insee import read_indicators  # noqa: E402
from cdv_geo.territory import Territory  # noqa: E402
from tests.batch.generate import make_projects  # noqa: E402
from tests.io.test_insee import national_file  # noqa: E402

#: name -> budget in seconds
BUDGETS = {"national INSEE file": 2.0, "generated project": 5.0}


def best_of(repeat: int, func: Callable[[], object]) -> float:
    """Return the best wall time of `repeat` calls of `func`, after one untimed call."""
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    """Time each input, print it against its budget; 1 when a budget is exceeded."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        revn = Path(tmp) / "REVN_2019.csv"
        n_rows = national_file(revn)
        (project,) = make_projects(Path(tmp) / "projects", 1)
        timed = {
            "national INSEE file": best_of(args.repeat, lambda: read_indicators(revn)),
            "generated project": best_of(args.repeat, lambda: Territory.from_file(project)),
        }
    print(f"national INSEE file: {n_rows} rows")
    over = 0
    for name, seconds in timed.items():
        budget = BUDGETS[name]
        ok = seconds <= budget
        over += not ok
        print(
            f"{name:22s} {seconds:7.3f} s   budget {budget:.1f} s   "
            f"{seconds / budget:5.2f}x of it   {'ok' if ok else 'OVER BUDGET'}"
        )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
