"""Plant the known mutants one by one and check that the test suite catches each of them.

A mutation probe once planted small bugs that the suite did not notice: an inclusive threshold
made strict, a diversity limit moved, escaping dropped from a map, a geometry repair that halves
a bow-tie. Each is planted here, in a copy of the source, and the tests that guard it must fail.
Run by ``make mutation`` before mutmut; exits 1 naming every mutant that survived.

Usage: ``python scripts/plant_mutants.py [--list]``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    """One planted bug: a regex replaced once in one source file, and the tests that catch it."""

    name: str
    path: str
    pattern: str
    replacement: str
    tests: tuple[str, ...]
    count: int = 1  # replacements (0: every match)


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "coverage: inclusive walking threshold made strict",
        "src/cdv_geo/metrics/access.py",
        r"(covered = member & \(r\.distance )<=",
        r"\1<",
        ("tests/metrics/test_access.py",),
    ),
    Mutant(
        "green-space access: 300 m made strict",
        "src/cdv_geo/metrics/green.py",
        r"_passes\(d, distance_m, at_most=True\)",
        "_passes(d, distance_m - 1e-6, at_most=True)",
        ("tests/metrics/test_green.py",),
    ),
    Mutant(
        "3-30-300: 300 m made strict",
        "src/cdv_geo/metrics/green.py",
        r"_passes\(park_d, park_distance_m, at_most=True\)",
        "_passes(park_d, park_distance_m - 1e-6, at_most=True)",
        ("tests/metrics/test_green.py",),
    ),
    Mutant(
        "10-20-30: family limit moved from 30 % to 35 %",
        "src/cdv_geo/metrics/species.py",
        r"w_f / total (<=|>) 0\.30",
        r"w_f / total \1 0.35",
        ("tests/metrics/test_trees.py", "tests/metrics/test_green.py"),
        count=0,
    ),
    Mutant(
        "maps: escaping dropped from the map title",
        "src/cdv_geo/maps/furniture.py",
        r"js_json\(escape_text\(title\) \+ sub\)",
        "js_json(str(title) + sub)",
        ("tests/maps",),
    ),
    Mutant(
        "maps: escaping dropped from popup values",
        "src/cdv_geo/maps/features.py",
        r"<td>\{escape_text\(v\)\}</td>",
        "<td>{v}</td>",
        ("tests/maps",),
    ),
    Mutant(
        "QPV repair with buffer(0), which halves a bow-tie",
        "src/cdv_geo/schema/validate.py",
        r"fixed = shapely\.make_valid\(g\)",
        "fixed = shapely.buffer(g, 0)",
        ("tests/io/test_qpv.py", "tests/schema"),
    ),
)


def plant(mutant: Mutant, work: Path) -> tuple[bool, str]:
    """Plant `mutant` in the copy `work`; return (caught, detail)."""
    target = work / mutant.path
    if not target.exists():
        return False, f"{mutant.path} does not exist: update MUTANTS"
    text = target.read_text(encoding="utf-8")
    mutated, n = re.subn(mutant.pattern, mutant.replacement, text, count=mutant.count)
    if n == 0:
        return False, f"pattern {mutant.pattern!r} not found in {mutant.path}: update MUTANTS"
    target.write_text(mutated, encoding="utf-8")
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *mutant.tests],
            cwd=work,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(work / "src")},
            timeout=900,
        )
    finally:
        target.write_text(text, encoding="utf-8")
    last = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
    return run.returncode == 1, last


def main(argv: list[str]) -> int:
    """Plant every mutant in a scratch copy of the repository; report the survivors."""
    if "--list" in argv:
        for m in MUTANTS:
            print(f"{m.name}: {m.path} ({', '.join(m.tests)})")
        return 0
    survivors = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "repo"
        for part in ("src", "tests", "data", "scripts", "pyproject.toml", "docs", "README.md"):
            src = ROOT / part
            if src.is_dir():
                shutil.copytree(src, work / part, ignore=shutil.ignore_patterns("__pycache__"))
            elif src.exists():
                shutil.copy2(src, work / part)
        for m in MUTANTS:
            caught, detail = plant(m, work)
            print(f"{'caught ' if caught else 'SURVIVED'}  {m.name}: {detail}")
            if not caught:
                survivors.append(m.name)
    if survivors:
        print(f"{len(survivors)} mutant(s) survived: {survivors}")
        return 1
    print(f"all {len(MUTANTS)} planted mutants caught")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
