"""Generate the illustrative rasters of the Soissons demo in ``data/rasters/``.

Three 10 m rasters in the encoding of the Copernicus High Resolution Layers (uint8, 0–100 %,
255 = nodata), over the demo commune plus a 300 m margin, in Lambert-93 (EPSG:2154):

- ``impervious_2018.tif`` and ``impervious_2024.tif`` — imperviousness density (sealed share of
  each pixel), like HRL *Imperviousness Density* 2018 and its successor;
- ``canopy_2024.tif`` — tree cover density, like HRL *Tree Cover Density*.

They are **drawn from the demo vectors**, not measured (``data/rasters/PROVENANCE.md``):

1. every vector is burnt on a 2 m grid and averaged to 10 m, so edge pixels hold the fraction
   of the pixel the object covers, as a real density product does;
2. sealed: building footprints (100 %), streets buffered by their width (95 %), the school
   yards and car park to be de-sealed (90 % before their works), NPNRU sites by their state in
   each year (demolished blocks cleared, reconstruction sites built or under way); not sealed:
   green spaces (5 %: paths), de-sealed yards once their works are done (15 %);
   the rest of the town is a mosaic of gardens and yards (25–45 %), the countryside 2–4 %;
3. tree cover: parks 30–65 %, gardens 5–25 %, a few woods around the town (60–90 %), the crowns
   of the planted trees, 0 on buildings;
4. a smooth, seeded noise field (the same in both years, so that the change between 2018 and
   2024 shows only the works) keeps the pictures from looking drawn.

Deterministic: the seed is fixed, so running it twice writes identical files. The files are
tiled, DEFLATE-compressed Cloud-Optimized GeoTIFFs with overviews.

Run ``.venv/bin/python scripts/make_demo_rasters.py`` from the repository root, after
``scripts/make_demo_data.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.shutil
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin
from scipy.ndimage import gaussian_filter

import cdv_geo as cg
from cdv_geo.io import atomic_path
from cdv_geo.metrics.trees import tree_crowns

SEED = 2722  # as scripts/make_demo_data.py: the INSEE code of Soissons
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "rasters"
CRS = "EPSG:2154"
RES = 10.0  # metres, as the Copernicus HRL
FINE = 5  # burn vectors on a RES / FINE = 2 m grid, then average
MARGIN = 300.0  # metres around the commune
URBAN_REACH_M = 70.0  # how far from a street the built-up area reaches
NODATA = 255
BEFORE, AFTER = 2018, 2024

# Street widths (m) by OSM highway type: the sealed band burnt around each centre line.
STREET_WIDTH = {
    "primary": 14.0,
    "secondary": 12.0,
    "tertiary": 10.0,
    "residential": 8.0,
    "pedestrian": 6.0,
    "footway": 2.5,
}


def noise(shape: tuple[int, int], rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Smooth noise in [0, 1] (Gaussian-filtered white noise, stretched)."""
    f = gaussian_filter(rng.standard_normal(shape), sigma)
    lo, hi = np.percentile(f, [1, 99])
    return np.clip((f - lo) / (hi - lo), 0.0, 1.0)


class Canvas:
    """A fine grid on which vectors are burnt with a value, then averaged to 10 m."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        west, south, east, north = bounds
        self.width = round((east - west) / RES)
        self.height = round((north - south) / RES)
        self.transform = from_origin(west, north, RES, RES)
        self.fine_transform = from_origin(west, north, RES / FINE, RES / FINE)
        self.fine_shape = (self.height * FINE, self.width * FINE)

    def mask(self, geoms: list[shapely.Geometry]) -> np.ndarray:
        """Return the fine-grid cells whose centre lies in `geoms`."""
        geoms = [g for g in geoms if g is not None and not g.is_empty]
        if not geoms:
            return np.zeros(self.fine_shape, bool)
        return rasterize(
            [(g, 1) for g in geoms],
            out_shape=self.fine_shape,
            transform=self.fine_transform,
            fill=0,
            dtype="uint8",
        ).astype(bool)

    def coarse(self, fine: np.ndarray) -> np.ndarray:
        """Average the fine grid to 10 m pixels."""
        h, w = self.height, self.width
        return fine.reshape(h, FINE, w, FINE).mean(axis=(1, 3))

    def fine(self, coarse: np.ndarray) -> np.ndarray:
        """Repeat a 10 m field on the fine grid."""
        return np.repeat(np.repeat(coarse, FINE, axis=0), FINE, axis=1)


def geoms_of(gdf: gpd.GeoDataFrame | None) -> list[shapely.Geometry]:
    return [] if gdf is None else list(gdf.to_crs(CRS).geometry)


def build(t: cg.Territory) -> dict[str, np.ndarray]:
    commune = shapely.union_all(geoms_of(t.communes))
    west, south, east, north = commune.buffer(MARGIN).bounds
    bounds = (
        np.floor(west / RES) * RES,
        np.floor(south / RES) * RES,
        np.ceil(east / RES) * RES,
        np.ceil(north / RES) * RES,
    )
    cv = Canvas(bounds)
    shape = (cv.height, cv.width)
    rng = np.random.default_rng(SEED)
    n_urban = noise(shape, rng, 3.0)  # garden/yard mosaic
    n_green = noise(shape, rng, 2.0)  # tree density in parks and gardens
    n_wood = noise(shape, rng, 6.0)  # where the woods are, outside the town
    n_fine = noise(shape, rng, 0.7)  # pixel-level texture

    streets = t.streets.to_crs(CRS)
    street_polys = [
        g.buffer(STREET_WIDTH.get(str(h), 8.0) / 2, cap_style="flat")
        for g, h in zip(streets.geometry, streets["highway"], strict=True)
    ]
    # The built-up area: blocks along the streets (the demo draws streets only where people
    # live); the rest of the commune and the margin are fields and woods.
    built_up = shapely.union_all(
        [g.buffer(URBAN_REACH_M) for g in streets.geometry]
        + [g.buffer(URBAN_REACH_M / 2) for g in geoms_of(t.residences)]
    )
    town = cv.mask([built_up])
    buildings = cv.mask(geoms_of(t.residences))
    roads = cv.mask(street_polys)
    parks = cv.mask(geoms_of(t.green_spaces))

    out: dict[str, np.ndarray] = {}
    for year in (BEFORE, AFTER):
        # background: urban mosaic in town, fields outside
        base = np.where(town, cv.fine(25 + 20 * n_urban), cv.fine(2 + 2 * n_fine))
        base[parks] = 5.0
        for site in t.renewal_sites.to_crs(CRS).itertuples():
            m = cv.mask([site.geometry])
            done = site.status == "done" and site.year is not None and site.year <= year
            under_way = site.status == "in_progress" and site.year is not None
            if site.operation == "demolition":
                base[m] = 35.0 if done else 90.0  # cleared and grassed once demolished
            elif site.operation == "reconstruction":
                if done:
                    base[m] = 70.0  # houses, driveways
                elif under_way and year >= AFTER:
                    base[m] = 60.0  # building site
        for area in t.desealed_areas.to_crs(CRS).itertuples():
            m = cv.mask([area.geometry])
            done = area.status == "done" and area.year is not None and area.year <= year
            base[m] = 15.0 if done else 90.0
        base[roads] = 95.0
        base[buildings] = 100.0
        imp = cv.coarse(base) + 6 * (n_fine - 0.5)
        out[f"impervious_{year}"] = np.clip(np.rint(imp), 0, 100).astype("uint8")

    # tree cover 2024: woods in the open land, gardens in town
    woods = cv.fine(n_wood > 0.6)
    open_land = np.where(woods, cv.fine(60 + 30 * n_green), 1.0)
    tc = np.where(town, cv.fine(12 + 40 * n_green), open_land)
    tc[parks] = cv.fine(40 + 40 * n_green)[parks]
    crowns = tree_crowns(t.tree_plantings) if t.tree_plantings is not None else None
    if crowns is not None:
        tc[cv.mask(list(crowns.to_crs(CRS).geometry))] = 100.0
    tc[roads] = np.minimum(tc[roads], 5.0)
    tc[buildings] = 0.0
    canopy = cv.coarse(tc) + 4 * (n_fine - 0.5)
    out[f"canopy_{AFTER}"] = np.clip(np.rint(canopy), 0, 100).astype("uint8")
    out["_transform"] = np.array(cv.transform)[:6]
    return out


def write_cog(path: Path, data: np.ndarray, transform: rasterio.Affine, title: str) -> None:
    """Write a tiled, DEFLATE-compressed Cloud-Optimized GeoTIFF atomically."""
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": "uint8",
        "crs": CRS,
        "transform": transform,
        "nodata": NODATA,
    }
    with rasterio.MemoryFile() as mem:
        with mem.open(**profile) as tmp:
            tmp.write(data, 1)
            tmp.update_tags(
                TITLE=title,
                SOURCE="illustrative — cdv_geo demo, drawn from the demo vectors "
                "(data/rasters/PROVENANCE.md)",
                UNITS="percent (0-100), 255 = nodata",
            )
        # The COG driver adds the overviews (down to one 256 px tile) itself.
        with mem.open() as src, atomic_path(path) as out:
            rasterio.shutil.copy(
                src,
                out,
                driver="COG",
                compress="DEFLATE",
                predictor=2,
                blocksize=256,
                overview_resampling="average",
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    args = parser.parse_args()
    t = cg.Territory.from_file(ROOT / "data" / "project.toml")
    rasters = build(t)
    transform = rasterio.Affine(*rasters.pop("_transform"))
    titles = {
        f"impervious_{BEFORE}": f"Imperviousness density {BEFORE} (illustrative, Soissons demo)",
        f"impervious_{AFTER}": f"Imperviousness density {AFTER} (illustrative, Soissons demo)",
        f"canopy_{AFTER}": f"Tree cover density {AFTER} (illustrative, Soissons demo)",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in rasters.items():
        path = args.out / f"{name}.tif"
        write_cog(path, data, transform, titles[name])
        print(f"{path}: {data.shape[1]} x {data.shape[0]} px, {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
