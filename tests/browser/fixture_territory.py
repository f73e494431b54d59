"""A tiny contrat de ville with hostile names, shared by the map tests (unit and browser).

Everything sits in Lambert-93 near Soissons. One quartier, one facility, one tree species, one
de-sealed site and one green space carry :data:`EVIL`: HTML, quotes, a template literal and an
``onerror`` handler that would set ``window.__pwned`` if it ever ran.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.transform import from_origin
from shapely import LineString, Point, box

from cdv_geo import Territory
from cdv_geo.territory import Settings

X0, Y0 = 728000.0, 6920000.0
EVIL = '<script>alert(1)</script> \' " ${alert(1)} `x` <img src=x onerror="window.__pwned=1">'

# Quartier A: [X0, X0+400] x [Y0, Y0+400]; quartier B (evil name): [X0+600, X0+1000] x same.
QUARTIERS = [box(X0, Y0, X0 + 400, Y0 + 400), box(X0 + 600, Y0, X0 + 1000, Y0 + 400)]

FACILITIES = [
    # (name, kind, x, y)
    ("Aire de jeux d'eau Nord", "water_play_area", X0 + 200, Y0 + 200),  # in A
    (EVIL, "health_centre", X0 + 800, Y0 + 200),  # in B
    ("École Jean Macé", "school", X0 + 100, Y0 + 300),  # in A
    ("CCAS", "ccas", X0 + 500, Y0 + 200),  # between A and B: in none
    ("Superette", "shop", X0 + 700, Y0 + 100),  # in B
]


def streets() -> gpd.GeoDataFrame:
    """A 100 m street grid over both quartiers."""
    lines = [LineString([(X0 - 100, Y0 + y), (X0 + 1100, Y0 + y)]) for y in range(0, 401, 100)]
    lines += [LineString([(X0 + x, Y0 - 100), (X0 + x, Y0 + 500)]) for x in range(0, 1001, 100)]
    return gpd.GeoDataFrame(
        {"name": [f"rue {i}" for i in range(len(lines))]}, geometry=lines, crs=2154
    )


def residences() -> gpd.GeoDataFrame:
    """Twelve 20 m x 20 m buildings: six in each quartier."""
    geoms, dwell = [], []
    for qx in (X0, X0 + 600):
        for i in range(6):
            x = qx + 40 + (i % 3) * 120
            y = Y0 + 40 + (i // 3) * 200
            geoms.append(box(x, y, x + 20, y + 20))
            dwell.append(10 + i)
    return gpd.GeoDataFrame(
        {"dwellings": dwell, "population": [2.0 * d for d in dwell]}, geometry=geoms, crs=2154
    )


def write_raster(path: Path, values: np.ndarray) -> Path:
    """A 10 m uint8 raster (255 = nodata) over the quartiers."""
    h, w = values.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=w,
        height=h,
        count=1,
        dtype="uint8",
        nodata=255,
        crs="EPSG:2154",
        transform=from_origin(X0 - 50, Y0 + 450, 10, 10),
    ) as dst:
        dst.write(values.astype("uint8"), 1)
    return path


def make_territory(
    tmp: Path | None = None, *, with_streets: bool = True, evil: bool = True
) -> Territory:
    """The fixture territory; rasters and an indicator table when `tmp` is given."""
    name_b = EVIL if evil else "Beta"
    q = gpd.GeoDataFrame(
        {
            "code": ["QN09901M", "QN09902M"],
            "name": ["Alpha", name_b],
            "population": [1200, 800],
            "commune": ["02722", "02722"],
        },
        geometry=QUARTIERS,
        crs=2154,
    )
    fac = gpd.GeoDataFrame(
        {
            "name": [f[0] if evil or f[0] != EVIL else "MSP" for f in FACILITIES],
            "kind": [f[1] for f in FACILITIES],
            "opened": [2019, 2021, None, 2010, None],
        },
        geometry=[Point(f[2], f[3]) for f in FACILITIES],
        crs=2154,
    )
    renewal = gpd.GeoDataFrame(
        {
            "name": ["Tour A1", "Résidence B", "Îlot C", "Façades D"],
            "operation": [
                "demolition",
                "reconstruction",
                "rehabilitation",
                "facade_requalification",
            ],
            "dwellings": [80, 40, 60, 30],
            "status": ["done", "in_progress", "planned", "done"],
            "year": [2022, 2025, 2027, 2021],
            "housing_type": ["collective", "individual", "collective", "collective"],
            "tenure": ["social", "ownership", "social", "social"],
        },
        geometry=[
            box(X0 + 20, Y0 + 20, X0 + 60, Y0 + 40),
            box(X0 + 620, Y0 + 300, X0 + 660, Y0 + 340),
            box(X0 + 300, Y0 + 300, X0 + 340, Y0 + 320),
            Point(X0 + 900, Y0 + 300),
        ],
        crs=2154,
    )
    desealed = gpd.GeoDataFrame(
        {
            "site": ["Cour École Jean Macé", EVIL if evil else "Place"],
            "site_type": ["school_yard", "square"],
            "year": [2023, 2024],
            "status": ["done", "in_progress"],
        },
        geometry=[
            box(X0 + 80, Y0 + 280, X0 + 120, Y0 + 305),  # 40 x 25 = 1000 m²
            box(X0 + 700, Y0 + 200, X0 + 730, Y0 + 220),
        ],  # 30 x 20 = 600 m²
        crs=2154,
    )
    trees = gpd.GeoDataFrame(
        {
            "trees": [3, 1, 2, 5, 1],
            "species": [
                "Tilia cordata",
                EVIL if evil else "Acer",
                "Acer campestre",
                "Tilia cordata",
                None,
            ],
            "year": [2023, 2024, 2024, 2022, 2023],
        },
        geometry=[Point(X0 + 50 + 60 * i, Y0 + 380) for i in range(5)],
        crs=2154,
    )
    green = gpd.GeoDataFrame(
        {"name": ["Square Nord", EVIL if evil else "Jardin"], "public": [True, False]},
        geometry=[
            box(X0 + 150, Y0 + 150, X0 + 250, Y0 + 250),
            box(X0 + 850, Y0 + 50, X0 + 950, Y0 + 120),
        ],
        crs=2154,
    )
    commune = gpd.GeoDataFrame(
        {"code": ["02722"], "name": ["Soissons"], "population": [28000]},
        geometry=[box(X0 - 300, Y0 - 300, X0 + 1300, Y0 + 700)],
        crs=2154,
    )
    rasters, tables = {}, {}
    if tmp is not None:
        before = np.full((50, 115), 60)
        before[0, 0] = 255
        after = before.copy()
        after[10:20, 10:20] = 20  # de-sealed block: -40 points
        rasters = {
            "impervious_2018": write_raster(tmp / "imp2018.tif", before),
            "impervious_2024": write_raster(tmp / "imp2024.tif", after),
            "canopy_2024": write_raster(tmp / "canopy.tif", np.full((50, 115), 15)),
        }
        csv = tmp / "indicateurs.csv"
        csv.write_text(
            "CODGEO;LIBGEO;DISP_MED_A21;DISP_TP60_A21\n"
            "QN09901M;Alpha;12480;41,5\nQN09902M;Beta;14000;s\n02722;Soissons;19870;21,6\n",
            encoding="utf-8",
        )
        tables = {"indicators": csv}
    return Territory(
        "Testville",
        quartiers=q,
        facilities=fac,
        renewal_sites=renewal,
        desealed_areas=desealed,
        tree_plantings=trees,
        residences=residences(),
        green_spaces=green,
        communes=commune,
        streets=streets() if with_streets else None,
        rasters=rasters,
        tables=tables,
        settings=Settings(),
        illustrative=True,
        attribution="Données de test",
    )
