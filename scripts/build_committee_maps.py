"""Build the committee pack of a contrat de ville through the Python API.

Usage::

    python scripts/build_committee_maps.py [PROJECT.toml] [OUT_DIR]

Without arguments it builds the pack of the embedded Soissons demo (illustrative data) into
``maps/``. Copy this script and adapt it: every step is one call.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cdv_geo as cg


def main(project: str | None = None, out: str = "maps") -> Path:
    # 1. The territory: its layers, validated, and its settings (CRS, walking speed...).
    territory = cg.Territory.from_file(project) if project else cg.datasets.soissons()
    print(territory)

    # 2. Every metric its layers allow: coverage, renaturation, renewal, indicators.
    metrics = cg.compute_metrics(territory)
    print(metrics.key_figures.to_string() if metrics.key_figures is not None else "")
    for note in metrics.notes:
        print("note:", note)

    # 3. Tables for the committee (CSV, Excel, and derived layers for QGIS).
    out_dir = Path(out)
    cg.write_tables(metrics, out_dir / "tables", formats=("csv", "xlsx", "gpkg"))

    # 4. The maps: overview, one per quartier, thematic maps; French by default.
    maps = cg.maps.build_committee_maps(territory, out_dir, metrics=metrics)
    for name, path in maps.items():
        print(f"{name}: {path}")

    # 5. Or all of the above plus static figures and index.html in one call:
    return cg.build_report(territory, out_dir)


if __name__ == "__main__":
    print(main(*sys.argv[1:3]))
