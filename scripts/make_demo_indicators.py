"""Build the indicator tables of the Soissons demo in ``data/indicators/``.

- The **published INSEE files** (données infracommunales QPV: ``REVN_<year>.csv``,
  ``IPRO_<year>.csv``, ``DEMO_<year>.csv``, ``data_DEMO_<year>_V1_QP.csv``; Filosofi
  ``data_filo19_qp_revdis.csv``) reduced to the rows of the three Soissons quartiers
  (QP002012 Saint-Crépin Ouest, QP002013 Presles, QP002014 Chevreux) and the reference row
  ``Ensemble`` (all QPV): each kept line is copied byte for byte (BOM, separators, decimal
  commas, narrow no-break spaces, CRLF, trailing empty columns), from the folder given as first
  argument (default ``/work/shared/real-data/insee-qpv``, the extracts of the files distributed
  by the ONPV / INSEE). **Real figures**, Licence Ouverte 2.0 (see PROVENANCE.md).
- ``income_grid.gpkg`` (only with ``--grid``) — an **illustrative** Filosofi-like grid of 200 m
  squares (EPSG:3035, ``idcar_200m`` codes, the fields of the 2019 vintage: ``ind``, ``men``,
  ``men_pauv``, ``men_prop``, ``men_coll``, ``men_mais``, ``ind_snv``, ``log_soc``). Residents
  and dwellings are counted from the demo residences; incomes and poverty are drawn around QPV
  and town levels (deterministic seed).

Run ``.venv/bin/python scripts/make_demo_indicators.py [SOURCE_FOLDER] [--grid]`` from the
repository root (after ``scripts/make_demo_data.py``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import cdv_geo as cg
from cdv_geo.io import write_layer
from cdv_geo.io.insee import read_indicators

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "indicators"
SOURCE = Path("/work/shared/real-data/insee-qpv")
SEED = 2722
#: The rows kept: the three quartiers of Soissons and INSEE's all-QPV reference row.
KEEP = {b"QP002012", b"QP002013", b"QP002014", b"Ensemble"}
_LINE = re.compile(rb"[^\n]*\n|[^\n]+$")


def copy_rows(src: Path, dst: Path) -> int:
    """Copy the header and the kept rows of a published file, each line byte for byte."""
    lines = _LINE.findall(src.read_bytes())
    kept = [lines[0]]
    for line in lines[1:]:
        first = line.split(b";", 1)[0].strip(b'"')
        if first in KEEP:
            kept.append(line)
    dst.write_bytes(b"".join(kept))
    return len(kept) - 1


def write_grid(path: Path) -> None:
    t = cg.datasets.soissons()
    res = t.residences.to_crs(3035)
    pts = res.geometry.representative_point()
    ix = np.floor(pts.x.to_numpy() / 200).astype(int)
    iy = np.floor(pts.y.to_numpy() / 200).astype(int)
    q = t.quartiers.to_crs(3035)
    in_qpv = pts.within(shapely.union_all(q.geometry.to_numpy())).to_numpy()
    df = pd.DataFrame(
        {
            "ix": ix, "iy": iy, "qpv": in_qpv,
            "ind": res["population"].astype(float).fillna(0).to_numpy(),
            "dw": res["dwellings"].astype(float).fillna(0).to_numpy(),
            "coll": (res.get("housing_type", pd.Series("collective", index=res.index))
                     == "collective").to_numpy(),
        }
    )  # fmt: skip
    rng = np.random.default_rng(SEED)
    rows = []
    for (i, j), grp in df.groupby(["ix", "iy"], sort=True):
        ind = float(grp["ind"].sum())
        if ind <= 0:
            continue
        men = float(grp["dw"].sum())
        qpv_share = float(np.average(grp["qpv"], weights=grp["ind"]))
        coll = float(grp.loc[grp["coll"], "dw"].sum())
        # living standard and poverty: QPV levels inside, town levels outside, plus noise
        snv = (12600 * qpv_share + 21500 * (1 - qpv_share)) * rng.uniform(0.92, 1.08)
        pauv = (0.46 * qpv_share + 0.16 * (1 - qpv_share)) * rng.uniform(0.85, 1.15)
        soc = (0.78 * qpv_share + 0.12 * (1 - qpv_share)) * rng.uniform(0.9, 1.05)
        prop = (0.12 * qpv_share + 0.55 * (1 - qpv_share)) * rng.uniform(0.85, 1.15)
        rows.append(
            {
                "idcar_200m": f"CRS3035RES200mN{j * 200}E{i * 200}",
                "ind": round(ind, 1),
                "men": round(men, 1),
                "men_pauv": round(men * min(pauv, 0.95), 1),
                "men_prop": round(men * min(prop, 1.0), 1),
                "men_coll": round(coll, 1),
                "men_mais": round(men - coll, 1),
                "ind_snv": round(ind * snv, 0),
                "log_soc": round(men * min(soc, 1.0), 1),
                "geometry": shapely.box(i * 200, j * 200, (i + 1) * 200, (j + 1) * 200),
            }
        )
    grid = gpd.GeoDataFrame(rows, geometry="geometry", crs=3035)
    if path.exists():
        path.unlink()
    write_layer(grid, path, layer="income_grid")
    print(f"{path}: {len(grid)} squares, {grid['ind'].sum():.0f} residents")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    source = Path(args[0]) if args else SOURCE
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.csv"):
        old.unlink()
    for src in sorted(source.glob("*.csv")):
        n = copy_rows(src, OUT / src.name)
        print(f"{OUT / src.name}: {n} rows")
    if "--grid" in sys.argv:
        write_grid(OUT / "income_grid.gpkg")
    table = read_indicators(OUT)
    print(
        f"{OUT}: {len(table)} values, {table['value'].notna().sum()} published, "
        f"years {sorted(set(table['year']))}, sources {sorted(set(table['source']))}"
    )


if __name__ == "__main__":
    main()
