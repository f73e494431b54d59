"""A generated big city for the benchmarks: every layer, raster and a ``project.toml``.

:func:`make_city` writes a project folder that ``cdv-geo report`` reads like any other. The
city grows with the number of homes at a constant density: at the issue's size (issue 17,
100,000 homes) it covers 100 km² (10 km x 10 km, Lambert-93) with

- 100,000 building polygons (``residences``: dwellings, population, housing type),
- 30 quartiers (QPV-like irregular polygons, denser in collective housing) and one commune,
- a walking network of about 60,000 intersections (a jittered street grid, street segments
  between intersections, a few missing to make it irregular),
- 500 facilities of 10 kinds (including ``water_play_area``), 50,000 tree plantings,
  300 de-sealed areas, 120 renewal sites, 400 green spaces,
- 10 m rasters over the whole city: ``impervious_2018``, ``impervious_2024`` and
  ``canopy_2024`` (uint8 0-100 %, 255 = nodata, tiled LZW GeoTIFF).

Every count scales with ``homes / 100_000`` (30 quartiers become 3 at 10,000 homes), so a run
at two sizes measures how each step grows with the size of the city. Layers are written as
GeoPackages (what a planner's GIS exports; GeoJSON of 100,000 polygons is slow to parse).

>>> import tempfile
>>> p = make_city(tempfile.mkdtemp(), homes=2_000, seed=1)
>>> p.name
'project.toml'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["CitySize", "city_size", "make_city"]

X0, Y0 = 700_000.0, 6_860_000.0  # Lambert-93 (south-west corner), metropolitan France
CRS = "EPSG:2154"
RES = 10.0  # raster pixel size (m)

KINDS = {  # facility kind -> count at 100,000 homes (500 in all)
    "water_play_area": 30,
    "school": 120,
    "health_centre": 20,
    "pharmacy": 60,
    "shop": 120,
    "library": 15,
    "sports": 50,
    "social_centre": 15,
    "childcare": 40,
    "bus_stop": 30,
}
SPECIES = [
    "Tilia cordata",
    "Acer campestre",
    "Acer platanoides",
    "Carpinus betulus",
    "Quercus robur",
    "Prunus avium",
    "Sorbus aucuparia",
    "Betula pendula",
    "Fraxinus excelsior",
    "Ulmus minor",
    "Alnus glutinosa",
    "Platanus x acerifolia",
]
OPERATIONS = ["demolition", "reconstruction", "rehabilitation", "residentialisation"]
STATUSES = ["planned", "in_progress", "done"]
SITE_TYPES = ["school_yard", "street", "square", "car_park", "other"]
TENURES = ["social", "intermediate", "private_rental", "ownership"]


@dataclass(frozen=True)
class CitySize:
    """The counts of one generated city (see :func:`city_size`)."""

    homes: int
    side_m: float
    grid: int  # street intersections per side (grid x grid)
    quartiers: int
    facilities: dict[str, int]
    trees: int
    desealed: int
    renewal: int
    green: int

    @property
    def intersections(self) -> int:
        """Street intersections of the grid."""
        return self.grid * self.grid

    @property
    def spacing_m(self) -> float:
        """Distance between two neighbouring intersections (m)."""
        return self.side_m / (self.grid - 1)


def city_size(homes: int) -> CitySize:
    """Return the counts of a city of `homes` homes (constant density; 100 km² at 100,000).

    >>> s = city_size(100_000)
    >>> s.side_m, s.quartiers, s.intersections, sum(s.facilities.values()), s.trees
    (10000.0, 30, 60025, 500, 50000)
    """
    f = homes / 100_000
    grid = max(round(math.sqrt(60_000 * f)), 8)
    return CitySize(
        homes=homes,
        side_m=round(10_000.0 * math.sqrt(f), 1),
        grid=grid,
        quartiers=max(round(30 * f), 3),
        facilities={k: max(round(n * f), 2) for k, n in KINDS.items()},
        trees=max(round(50_000 * f), 10),
        desealed=max(round(300 * f), 3),
        renewal=max(round(120 * f), 4),
        green=max(round(400 * f), 4),
    )


def _streets(s: CitySize, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Return a jittered grid: one segment per block side, 6 % of the inner segments missing."""
    n, d = s.grid, s.spacing_m
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")  # i: column (x), j: row (y)
    jitter = rng.uniform(-0.2, 0.2, size=(n, n, 2)) * d
    jitter[[0, -1], :, 0] = 0.0  # straight outer edges
    jitter[:, [0, -1], 1] = 0.0
    nodes = np.stack([X0 + ii * d, Y0 + jj * d], axis=-1) + jitter
    # horizontal segments (i, j) -> (i + 1, j), vertical (i, j) -> (i, j + 1)
    h_a, h_b = nodes[:-1, :, :].reshape(-1, 2), nodes[1:, :, :].reshape(-1, 2)
    v_a, v_b = nodes[:, :-1, :].reshape(-1, 2), nodes[:, 1:, :].reshape(-1, 2)
    h_row = np.broadcast_to(np.arange(n)[None, :], (n - 1, n)).reshape(-1)
    v_col = np.broadcast_to(np.arange(n)[:, None], (n, n - 1)).reshape(-1)
    a = np.concatenate([h_a, v_a])
    b = np.concatenate([h_b, v_b])
    keep = rng.random(len(a)) >= 0.06
    inner = np.concatenate([(h_row > 0) & (h_row < n - 1), (v_col > 0) & (v_col < n - 1)])
    keep |= ~inner  # the outer ring stays whole
    coords = np.stack([a, b], axis=1)[keep]
    lines = np.asarray(shapely.linestrings(coords))
    names = np.concatenate(
        [np.char.add("rue ", h_row.astype(str)), np.char.add("avenue ", v_col.astype(str))]
    )[keep]
    main = np.concatenate([h_row % 10 == 0, v_col % 10 == 0])[keep]
    highway = np.where(main, "primary", "residential")
    footway = rng.random(len(lines)) < 0.05
    highway = np.where(footway & ~main, "footway", highway)
    streets = gpd.GeoDataFrame(
        {"id": np.arange(1, len(lines) + 1), "name": names, "highway": highway},
        geometry=lines,
        crs=CRS,
    )
    return streets, nodes


def _quartiers(s: CitySize, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Irregular, non-overlapping polygons covering about 15 % of the city."""
    radius = math.sqrt(0.15 * s.side_m**2 / s.quartiers / math.pi)
    centres: list[tuple[float, float]] = []
    margin = radius * 1.3
    tries = 0
    while len(centres) < s.quartiers:
        tries += 1
        c = rng.uniform(margin, s.side_m - margin, 2)
        min_gap = 2.6 * radius if tries < 20_000 else 2.05 * radius
        if all((c[0] - x) ** 2 + (c[1] - y) ** 2 >= min_gap**2 for x, y in centres):
            centres.append((float(c[0]), float(c[1])))
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    polys = []
    for cx, cy in centres:
        r = radius * rng.uniform(0.75, 1.25, len(angles))
        r = (r + np.roll(r, 1) + np.roll(r, -1)) / 3  # smoother outline
        xy = np.stack([X0 + cx + r * np.cos(angles), Y0 + cy + r * np.sin(angles)], axis=1)
        polys.append(shapely.Polygon(xy))
    codes = [f"QP099{k + 1:03d}" for k in range(s.quartiers)]
    return gpd.GeoDataFrame(
        {
            "id": codes,
            "code": codes,
            "name": [f"Quartier {k + 1}" for k in range(s.quartiers)],
            "commune": "99001",
        },
        geometry=polys,
        crs=CRS,
    )


def _residences(
    s: CitySize, quartiers: gpd.GeoDataFrame, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Return building footprints inside the blocks; a third of the homes in the quartiers."""
    d, n = s.spacing_m, s.grid
    n_in = s.homes // 3
    # homes inside the quartiers: rejection sampling in the quartiers' bounding boxes
    qgeoms = quartiers.geometry.to_numpy()
    pts_in: list[np.ndarray] = []
    got = 0
    while got < n_in:
        k = rng.integers(0, len(qgeoms), 4 * n_in)
        b = shapely.bounds(qgeoms[k])
        xy = b[:, :2] + rng.random((len(k), 2)) * (b[:, 2:] - b[:, :2])
        ok = shapely.contains_xy(qgeoms[k], xy[:, 0], xy[:, 1])
        pts_in.append(xy[ok])
        got += int(ok.sum())
    xy_in = np.concatenate(pts_in)[:n_in]
    # the others: blocks anywhere, denser towards the centre
    n_out = s.homes - n_in
    centre = np.array([X0, Y0]) + s.side_m / 2
    xy_out = centre + rng.normal(0, s.side_m / 3.5, (n_out * 2, 2))
    inside = np.all((xy_out > [X0, Y0]) & (xy_out < [X0 + s.side_m, Y0 + s.side_m]), axis=1)
    xy_out = xy_out[inside][:n_out]
    while len(xy_out) < n_out:  # (rare) top up uniformly
        extra = np.array([X0, Y0]) + rng.random((n_out - len(xy_out), 2)) * s.side_m
        xy_out = np.concatenate([xy_out, extra])
    xy = np.concatenate([xy_in, xy_out])
    # keep each footprint inside its block, clear of the streets (jitter is <= 0.2 d)
    cell = np.clip(np.floor((xy - [X0, Y0]) / d), 0, n - 2)
    lo = cell * d + [X0, Y0] + 0.25 * d + 4
    hi = (cell + 1) * d + [X0, Y0] - 0.25 * d - 4
    xy = np.clip(xy, lo, np.maximum(lo, hi))
    collective = rng.random(s.homes) < np.where(np.arange(s.homes) < n_in, 0.6, 0.15)
    half = np.where(collective, rng.uniform(6, 9, s.homes), rng.uniform(3.5, 5.5, s.homes))
    geoms = shapely.box(xy[:, 0] - half, xy[:, 1] - half * 0.8, xy[:, 0] + half, xy[:, 1] + half)
    dwellings = np.where(collective, rng.integers(8, 60, s.homes), rng.integers(1, 3, s.homes))
    population = np.round(dwellings * rng.uniform(1.6, 2.9, s.homes), 1)
    order = rng.permutation(s.homes)  # ids not sorted by place
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, s.homes + 1),
            "dwellings": dwellings[order],
            "population": population[order],
            "housing_type": np.where(collective, "collective", "individual")[order],
        },
        geometry=geoms[order],
        crs=CRS,
    )


def _points_in_city(s: CitySize, n: int, rng: np.random.Generator) -> np.ndarray:
    return np.array([X0, Y0]) + rng.random((n, 2)) * s.side_m


def _facilities(s: CitySize, rng: np.random.Generator) -> gpd.GeoDataFrame:
    kinds = np.concatenate([[k] * c for k, c in s.facilities.items()])
    xy = _points_in_city(s, len(kinds), rng)
    ordinal = pd.Series(kinds).groupby(kinds).cumcount().to_numpy() + 1
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, len(kinds) + 1),
            "name": [
                f"{k.replace('_', ' ').capitalize()} {i}"
                for k, i in zip(kinds, ordinal, strict=False)
            ],
            "kind": kinds,
            "opened": rng.integers(1970, 2025, len(kinds)),
        },
        geometry=shapely.points(xy),
        crs=CRS,
    )


def _trees(s: CitySize, rng: np.random.Generator) -> gpd.GeoDataFrame:
    xy = _points_in_city(s, s.trees, rng)
    crown = rng.uniform(2, 10, s.trees).round(1)
    crown[rng.random(s.trees) < 0.3] = np.nan
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, s.trees + 1),
            "trees": rng.integers(1, 6, s.trees),
            "species": rng.choice(SPECIES, s.trees),
            "year": rng.integers(2015, 2025, s.trees),
            "crown_diameter_m": crown,
        },
        geometry=shapely.points(xy),
        crs=CRS,
    )


def _boxes(s: CitySize, n: int, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """`n` rectangles of `lo`..`hi` m² somewhere in the city."""
    xy = _points_in_city(s, n, rng)
    area = rng.uniform(lo, hi, n)
    aspect = rng.uniform(0.5, 2.0, n)
    w = np.sqrt(area * aspect)
    h = area / w
    return shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + w, xy[:, 1] + h)


def _desealed(s: CitySize, rng: np.random.Generator) -> gpd.GeoDataFrame:
    n = s.desealed
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, n + 1),
            "site": [f"Site désimperméabilisé {i}" for i in range(1, n + 1)],
            "site_type": rng.choice(SITE_TYPES, n),
            "year": rng.integers(2018, 2026, n),
            "status": rng.choice(STATUSES, n, p=[0.2, 0.2, 0.6]),
        },
        geometry=_boxes(s, n, 200, 3000, rng),
        crs=CRS,
    )


def _renewal(
    s: CitySize, quartiers: gpd.GeoDataFrame, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    n = s.renewal
    # most operations in the quartiers: around their centres
    c = shapely.get_coordinates(quartiers.geometry.centroid.to_numpy())
    k = rng.integers(0, len(c), n)
    xy = c[k] + rng.normal(0, 150, (n, 2))
    w, h = rng.uniform(30, 80, n), rng.uniform(12, 20, n)
    operation = rng.choice(OPERATIONS, n, p=[0.3, 0.25, 0.35, 0.1])
    codes = quartiers["code"].to_numpy()[k]
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, n + 1),
            "name": [f"Opération {i}" for i in range(1, n + 1)],
            "operation": operation,
            "dwellings": rng.integers(10, 150, n),
            "housing_type": rng.choice(["collective", "individual"], n, p=[0.85, 0.15]),
            "tenure": rng.choice(TENURES, n),
            "status": rng.choice(STATUSES, n),
            "year": rng.integers(2016, 2030, n),
            # a reconstruction names the quartier whose demolitions it replaces
            "compensates": np.where(operation == "reconstruction", codes, None),
        },
        geometry=shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + w, xy[:, 1] + h),
        crs=CRS,
    )


def _green(s: CitySize, rng: np.random.Generator) -> gpd.GeoDataFrame:
    n = s.green
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, n + 1),
            "name": [f"Square {i}" for i in range(1, n + 1)],
            "public": rng.random(n) < 0.9,
        },
        geometry=_boxes(s, n, 500, 50_000, rng),
        crs=CRS,
    )


def _smooth(a: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(a.astype("float32"), sigma)


def _write_raster(path: Path, values: np.ndarray, side: float) -> None:
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype="uint8",
        crs=CRS,
        nodata=255,
        transform=from_origin(X0, Y0 + side, RES, RES),
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="lzw",
    ) as dst:
        dst.write(values, 1)


def _rasters(
    s: CitySize,
    residences: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    desealed: gpd.GeoDataFrame,
    trees: gpd.GeoDataFrame,
    green: gpd.GeoDataFrame,
    folder: Path,
    rng: np.random.Generator,
) -> dict[str, Path]:
    """Imperviousness from the buildings and streets; canopy from the trees and parks."""
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    npx = math.ceil(s.side_m / RES)
    side = npx * RES
    transform = from_origin(X0, Y0 + side, RES, RES)
    shape = (npx, npx)

    def burn(geoms: np.ndarray, value: int = 1, all_touched: bool = False) -> np.ndarray:
        return rasterize(
            ((g, value) for g in geoms),
            out_shape=shape,
            transform=transform,
            fill=0,
            all_touched=all_touched,
            dtype="uint8",
        )

    built = burn(residences.geometry.to_numpy(), all_touched=True)
    roads = burn(streets.geometry.to_numpy(), all_touched=True)
    parks = burn(green.geometry.to_numpy())
    imp = 100 * np.maximum(built, roads).astype("float32")
    imp = 0.55 * imp + 0.45 * _smooth(imp, 4) + rng.normal(0, 6, shape)
    imp[parks == 1] *= 0.15
    imp_2018 = np.clip(imp, 0, 100)
    done = desealed[desealed["status"] == "done"].geometry.to_numpy()
    opened = burn(done) if len(done) else np.zeros(shape, "uint8")
    imp_2024 = np.clip(
        imp_2018 * np.where(opened == 1, 0.3, 1.0) - rng.uniform(0, 2, shape), 0, 100
    )
    tree_px = np.zeros(shape, "float32")
    t_xy = shapely.get_coordinates(trees.geometry.to_numpy())
    col = np.clip(((t_xy[:, 0] - X0) / RES).astype(int), 0, npx - 1)
    row = np.clip(((Y0 + side - t_xy[:, 1]) / RES).astype(int), 0, npx - 1)
    np.add.at(tree_px, (row, col), 100 * trees["trees"].to_numpy(dtype="float32"))
    canopy = _smooth(tree_px, 1.5) * 4 + 60 * parks + 35 * _smooth(rng.random(shape), 8)
    canopy = np.clip(canopy * (1 - 0.8 * built), 0, 100)
    out = {}
    for name, arr in (
        ("impervious_2018", imp_2018),
        ("impervious_2024", imp_2024),
        ("canopy_2024", canopy),
    ):
        a = np.rint(arr).astype("uint8")
        # ~1 % nodata: a few 200 m blocks (clouds, missing tiles)
        blocks = rng.random((npx // 20 + 1, npx // 20 + 1)) < 0.01
        a[np.kron(blocks, np.ones((20, 20), bool))[:npx, :npx]] = 255
        path = folder / f"{name}.tif"
        _write_raster(path, a, side)
        out[name] = path
    return out


PROJECT = """# A generated city for the benchmarks (scripts/bench/city.py): {homes:,} homes.
[territory]
name = "Grandeville ({homes:,} logements)"
commune = "99001"
crs = "EPSG:2154"
illustrative = true
attribution = "Ville générée pour les mesures de performance (cdv_geo, scripts/bench/city.py)"

[settings]
walking_speed_kmh = 4.5
thresholds_min = [5, 10]
service_area_m = [300, 600]
max_snap_m = 200

[layers]
{layers}

[rasters]
{rasters}
"""


def make_city(folder: str | Path, *, homes: int = 100_000, seed: int = 0) -> Path:
    """Write a generated city of `homes` homes into `folder`; return its ``project.toml``."""
    folder = Path(folder)
    (folder / "layers").mkdir(parents=True, exist_ok=True)
    (folder / "rasters").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    s = city_size(homes)
    streets, _nodes = _streets(s, rng)
    quartiers = _quartiers(s, rng)
    residences = _residences(s, quartiers, rng)
    # populations of the quartiers and of the commune, from the homes they hold
    inside = residences.sjoin(quartiers[["code", "geometry"]], predicate="intersects")
    inside = inside[~inside.index.duplicated()]
    pop = inside.groupby("code")["population"].sum()
    quartiers["population"] = quartiers["code"].map(pop).fillna(0).round().astype(int)
    side = math.ceil(s.side_m / RES) * RES
    communes = gpd.GeoDataFrame(
        {
            "id": ["99001"],
            "code": ["99001"],
            "name": ["Grandeville"],
            "population": [round(residences["population"].sum())],
        },
        geometry=[shapely.box(X0, Y0, X0 + side, Y0 + side)],
        crs=CRS,
    )
    layers = {
        "communes": communes,
        "quartiers": quartiers,
        "facilities": _facilities(s, rng),
        "renewal_sites": _renewal(s, quartiers, rng),
        "desealed_areas": _desealed(s, rng),
        "tree_plantings": _trees(s, rng),
        "residences": residences,
        "green_spaces": _green(s, rng),
        "streets": streets,
    }
    for kind, gdf in layers.items():
        gdf.to_file(folder / "layers" / f"{kind}.gpkg", driver="GPKG", engine="pyogrio")
    rasters = _rasters(
        s,
        residences,
        streets,
        layers["desealed_areas"],
        layers["tree_plantings"],
        layers["green_spaces"],
        folder / "rasters",
        rng,
    )
    text = PROJECT.format(
        homes=homes,
        layers="\n".join(f'{k} = "layers/{k}.gpkg"' for k in layers),
        rasters="\n".join(f'{k} = "rasters/{p.name}"' for k, p in rasters.items()),
    )
    path = folder / "project.toml"
    path.write_text(text, encoding="utf-8")
    return path
