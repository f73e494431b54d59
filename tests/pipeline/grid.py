"""A territory checked by hand: a 1,000 m x 500 m street grid holding two square quartiers.

Streets every 100 m; residences and facilities sit on street crossings, so walking distances
are Manhattan distances. Shared by the pipeline and output tests.
"""

from __future__ import annotations

import geopandas as gpd
from shapely import LineString, Point, box

from tests.conftest import X0, Y0

#: A quartier name that must come out escaped in HTML.
EVIL = "<script>alert(1)</script> ' \" ${alert(2)}"


def grid_layers(name_b: str = EVIL) -> dict[str, gpd.GeoDataFrame]:
    """The layers of the grid territory (quartier QB is named `name_b`)."""

    def gdf(data: dict, geoms: list) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(data, geometry=geoms, crs=2154)

    streets = [LineString([(X0 + x, Y0), (X0 + x, Y0 + 500)]) for x in range(0, 1001, 100)]
    streets += [LineString([(X0, Y0 + y), (X0 + 1000, Y0 + y)]) for y in range(0, 501, 100)]
    return {
        "communes": gdf(
            {"code": ["99999"], "name": ["Testville"], "population": [6000]},
            [box(X0 - 100, Y0 - 100, X0 + 1100, Y0 + 600)],  # 1,200 m x 700 m
        ),
        "quartiers": gdf(
            {"code": ["QA", "QB"], "name": ["Alpha", name_b], "population": [1000, 500]},
            [box(X0, Y0, X0 + 500, Y0 + 500), box(X0 + 500, Y0, X0 + 1000, Y0 + 500)],
        ),
        "streets": gdf({"name": [f"rue {i}" for i in range(len(streets))]}, streets),
        "facilities": gdf(
            {
                "name": ["Aire de jeux d'eau", "Maison de santé"],
                "kind": ["water_play_area", "health_centre"],
            },
            [Point(X0 + 200, Y0 + 200), Point(X0 + 700, Y0 + 200)],
        ),
        # walking distances to the water play area at (200, 200): 300 m, 400 m, 100 m, 700 m
        "residences": gdf(
            {"population": [100.0, 300.0, 50.0, 70.0], "dwellings": [40, 120, 20, 30]},
            [
                Point(X0 + 400, Y0 + 300),
                Point(X0, Y0),
                Point(X0 + 200, Y0 + 100),
                Point(X0 + 800, Y0 + 400),
            ],
        ),
        "tree_plantings": gdf(
            {
                "trees": [3, 2, 5],
                "species": ["Tilia cordata", "Acer campestre", "Tilia cordata"],
                "year": [2022, 2023, 2023],
            },
            [Point(X0 + 50, Y0 + 50), Point(X0 + 150, Y0 + 50), Point(X0 + 650, Y0 + 50)],
        ),
        "desealed_areas": gdf(
            {"site": ["Cour école Jaurès"], "site_type": ["school_yard"], "year": [2023]},
            [box(X0 + 310, Y0 + 310, X0 + 350, Y0 + 360)],  # 40 m x 50 m = 2,000 m²
        ),
        "renewal_sites": gdf(
            {
                "name": ["Démolition A", "Maisons B"],
                "operation": ["demolition", "reconstruction"],
                "dwellings": [80, 30],
                "housing_type": ["collective", "individual"],
                "status": ["done", "planned"],
                "year": [2021, 2026],
                "compensates": ["QA", "QA"],
            },
            [
                box(X0 + 110, Y0 + 110, X0 + 190, Y0 + 190),
                box(X0 + 610, Y0 + 110, X0 + 690, Y0 + 190),
            ],
        ),
        "green_spaces": gdf(
            {"name": ["Square"], "public": [True]}, [box(X0 + 410, Y0 + 10, X0 + 490, Y0 + 90)]
        ),
    }
