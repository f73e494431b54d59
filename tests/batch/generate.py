"""Generate small synthetic contrat-de-ville project folders for the batch tests and benchmark.

Each territory is a town of a few square quartiers on a street grid, with facilities, residences
and an indicator table (the quartiers, the town and France, two vintages). Everything is derived
from the territory number, so the same call always writes the same files.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import LineString, Point, box

__all__ = ["make_project", "make_projects", "quartier_code"]

_KINDS = ("school", "shop", "health_centre")


def quartier_code(i: int, j: int) -> str:
    """QPV-like code of quartier `j` of territory `i` (``QP9iiijj``: 6 digits)."""
    return f"QP9{i:03d}{j:02d}"


def make_project(
    folder: str | Path,
    i: int,
    *,
    n_quartiers: int | None = None,
    grid: int = 9,
    step: float = 120.0,
    indicators: bool = True,
) -> Path:
    """Write territory number `i` into `folder` and return its ``project.toml``.

    The town is a ``grid`` x ``grid`` street grid of ``step`` metres; quartiers are squares of
    2 x 2 blocks along its diagonal; one residence per block corner, facilities on some corners.
    """
    rng = np.random.default_rng(i)
    folder = Path(folder)
    (folder / "shapes").mkdir(parents=True, exist_ok=True)
    nq = n_quartiers if n_quartiers is not None else 1 + i % 3
    x0, y0 = 600_000.0 + (i % 40) * 10_000.0, 6_800_000.0 + (i // 40) * 10_000.0
    size = grid * step
    lines = []
    for k in range(grid + 1):
        lines.append(LineString([(x0 + k * step, y0), (x0 + k * step, y0 + size)]))
        lines.append(LineString([(x0, y0 + k * step), (x0 + size, y0 + k * step)]))
    streets = gpd.GeoDataFrame(
        {"name": [f"rue {k}" for k in range(len(lines))], "highway": "residential"},
        geometry=lines,
        crs=2154,
    )
    quartiers = gpd.GeoDataFrame(
        {
            "code": [quartier_code(i, j) for j in range(nq)],
            "name": [f"Quartier {i}-{j}" for j in range(nq)],
            "population": [int(rng.integers(1000, 5000)) for _ in range(nq)],
            "commune": f"9{i:04d}",
        },
        geometry=[
            box(
                x0 + (1 + 3 * j) * step,
                y0 + (1 + 3 * j) * step,
                x0 + (3 + 3 * j) * step,
                y0 + (3 + 3 * j) * step,
            )
            for j in range(nq)
        ],
        crs=2154,
    )
    corners = [
        (x0 + a * step + 20.0, y0 + b * step + 20.0) for a in range(grid) for b in range(grid)
    ]
    residences = gpd.GeoDataFrame(
        {
            "dwellings": rng.integers(5, 60, len(corners)),
            "population": rng.integers(10, 150, len(corners)),
        },
        geometry=[Point(c) for c in corners],
        crs=2154,
    )
    picks = rng.choice(len(corners), size=6, replace=False)
    facilities = gpd.GeoDataFrame(
        {
            "name": [f"equipement {k}" for k in range(len(picks))],
            "kind": [_KINDS[k % len(_KINDS)] for k in range(len(picks))],
        },
        geometry=[Point(corners[p][0] + 15.0, corners[p][1]) for p in picks],
        crs=2154,
    )
    for name, gdf in (
        ("streets", streets),
        ("quartiers", quartiers),
        ("residences", residences),
        ("facilities", facilities),
    ):
        gdf.to_file(folder / "shapes" / f"{name}.geojson", driver="GeoJSON")
    tables = ""
    if indicators:
        (folder / "indicators").mkdir(exist_ok=True)
        rows = []
        for code, level, base in [
            *((c, "qpv", 0.35) for c in quartiers["code"]),
            (f"9{i:04d}", "commune", 0.18),
            ("france", "france", 0.14),
        ]:
            scale = 1.0 if level == "france" else rng.uniform(0.8, 1.2)
            p17 = round(base * scale, 3)
            p21 = round(p17 + rng.uniform(-0.05, 0.03), 3)
            inc = round(16000 / scale)
            rows.append(
                {
                    "code": code,
                    "niveau": level,
                    "tp60_17": round(p17 * 100, 1),
                    "disp_q2_17": inc,
                    "DISP_TP60_A21": round(p21 * 100, 1),
                    "DISP_MED_A21": inc + int(rng.integers(-300, 900)),
                }
            )
        pd.DataFrame(rows).to_csv(folder / "indicators" / "indicators.csv", sep=";", index=False)
        tables = '[tables]\nindicators = "indicators/indicators.csv"\n'
    project = folder / "project.toml"
    project.write_text(
        f'[territory]\nname = "Ville {i}"\ncrs = "EPSG:2154"\nillustrative = true\n\n'
        "[settings]\nthresholds_min = [5, 10]\n\n"
        "[layers]\n"
        'quartiers = "shapes/quartiers.geojson"\n'
        'facilities = "shapes/facilities.geojson"\n'
        'residences = "shapes/residences.geojson"\n'
        'streets = "shapes/streets.geojson"\n\n' + tables,
        encoding="utf-8",
    )
    return project


def make_projects(root: str | Path, n: int, **kwargs: object) -> list[Path]:
    """Write `n` territories under ``root/ville-NNN/`` and return their project files."""
    root = Path(root)
    return [make_project(root / f"ville-{i:03d}", i, **kwargs) for i in range(n)]  # type: ignore[arg-type]
