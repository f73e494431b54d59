"""Generate the illustrative indicator tables of the Soissons demo in ``data/indicators/``.

Two files, both **illustrative** (see ``data/indicators/PROVENANCE.md``):

- ``indicators.csv`` — socio-economic indicators of the three QPV (QN00272M Saint-Crépin,
  QN00273M Presles, QN00274M Chevreux), the commune (02722 Soissons), the EPCI and France, for
  two vintages: 2021 in the newer INSEE naming family (``DISP_MED_A21``...), 2017 in the older
  one (``disp_q2_17``, ``tp60_17``...), and the CAF / France Travail / census / CNAM indicators
  under their canonical names in percent (``rsa_share_pct_2021``...). A few cells carry INSEE
  secrecy codes (``s``, ``nd``) so that the demo shows how they are read.
- ``income_grid.gpkg`` — a Filosofi-like grid of 200 m squares (EPSG:3035, the INSEE grid,
  lower-left corners on multiples of 200 m, ``idcar_200m`` codes), with the fields of the 2019
  vintage (``ind``, ``men``, ``men_pauv``, ``men_prop``, ``men_coll``, ``men_mais``,
  ``ind_snv``, ``log_soc``). Residents and dwellings are counted from the demo residences, so
  the grid agrees with the demo town; incomes and poverty are drawn around the indicator table's
  levels (deterministic seed).

Run ``.venv/bin/python scripts/make_demo_indicators.py`` from the repository root (after
``scripts/make_demo_data.py``).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import cdv_geo as cg
from cdv_geo.io import write_layer
from cdv_geo.metrics.indicators import read_indicators

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "indicators"
SEED = 2722

# code, name, level; then per vintage: median €, poverty %, Gini, D1 €, D9 €,
# RSA %, job seekers per 100 aged 15-64, no diploma %, CSS %.
# Order of magnitude of published figures (QPV of a mid-sized town in the Aisne, the town, an
# agglomeration, France); NOT the published values.
ROWS: list[tuple[str, str, str]] = [
    ("QN00272M", "Saint-Crépin", "qpv"),
    ("QN00273M", "Presles", "qpv"),
    ("QN00274M", "Chevreux", "qpv"),
    ("02722", "Soissons", "commune"),
    ("200071876", "GrandSoissons Agglomération (code illustratif)", "epci"),
    ("FRANCE", "France métropolitaine", "france"),
]
V2017: dict[str, tuple[object, ...]] = {
    #            median  pov%   gini   D1     D9     rsa%  js%   nodip% css%
    "QN00272M": (11920, 45.8, 0.268, 6280, 20150, 27.4, 24.1, 46.2, 21.5),
    "QN00273M": (12610, 41.2, 0.262, "s", 21040, 23.9, 21.7, 42.8, 18.9),
    "QN00274M": (11450, 48.3, 0.271, 6010, 19620, 29.1, 25.6, 48.5, 23.4),
    "02722": (18540, 24.1, 0.305, 8720, 33980, 12.6, 14.2, 31.5, 10.2),
    "200071876": (20180, 17.9, 0.286, 9810, 35120, 8.9, 11.3, 27.9, 7.4),
    "FRANCE": (20820, 14.1, 0.289, 10960, 37450, 6.1, 10.0, 21.7, 7.6),
}
V2021: dict[str, tuple[object, ...]] = {
    "QN00272M": (13080, 43.1, 0.259, 7040, 21730, 25.2, 22.3, 43.9, 22.8),
    "QN00273M": (13560, 40.2, "nd", 7420, 22310, 22.7, 20.1, 41.0, 20.1),
    "QN00274M": (12380, 47.5, 0.266, 6590, 21180, 28.4, 24.9, 47.2, 24.6),
    "02722": (19870, 23.2, 0.301, 9350, 36250, 11.9, 13.5, 29.8, 10.9),
    "200071876": (21560, 17.1, 0.284, 10520, 37480, 8.4, 10.6, 26.1, 7.9),
    "FRANCE": (22400, 14.5, 0.294, 11580, 40120, 5.8, 9.3, 20.3, 7.8),
}
COLUMNS_2021 = ["DISP_MED_A21", "DISP_TP60_A21", "DISP_GI_A21", "DISP_D1_A21", "DISP_D9_A21"]
COLUMNS_2017 = ["disp_q2_17", "tp60_17", "disp_gi_17", "disp_d1_17", "disp_d9_17"]
OTHERS = ["rsa_share_pct", "jobseeker_ratio_pct", "no_diploma_share_pct", "css_share_pct"]


def _fmt(v: object) -> str:
    return str(v)


def write_table(path: Path) -> None:
    header = ["code", "libelle", "niveau", *COLUMNS_2017, *COLUMNS_2021]
    header += [f"{c}_{y}" for y in (2017, 2021) for c in OTHERS]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(header)
        for code, name, level in ROWS:
            a, b = V2017[code], V2021[code]
            w.writerow([code, name, level, *map(_fmt, a[:5]), *map(_fmt, b[:5]),
                        *map(_fmt, a[5:]), *map(_fmt, b[5:])])  # fmt: skip


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
    OUT.mkdir(parents=True, exist_ok=True)
    write_table(OUT / "indicators.csv")
    write_grid(OUT / "income_grid.gpkg")
    table = read_indicators(OUT / "indicators.csv")
    n = table["value"].notna().sum()
    print(f"{OUT / 'indicators.csv'}: {len(table)} values ({n} published, "
          f"{len(table) - n} secret), vintages {sorted(set(table['year']))}")  # fmt: skip
    assert math.isfinite(float(table["value"].sum()))  # secret cells are NaN, not strings


if __name__ == "__main__":
    main()
