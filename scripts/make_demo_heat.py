"""Generate the heat & water layers of the Soissons demo (illustrative, deterministic).

Writes, from the demo vectors and rasters already in data/:

* ``data/rasters/heat_2023.tif``: an imitation of a summer land-surface temperature (°C, Landsat
  thermal band 10 m-resampled): hotter where the ground is sealed, cooler under trees;
* ``data/shapes/hydrants.geojson``: fire hydrants along the streets, one about every 120 m;
* ``data/shapes/incidents.geojson``: hydrant openings and street pooling, summers 2017–2025, more
  frequent near the quartiers' future water play areas before they opened and fewer after;
* ``children`` and ``children_3_10`` in ``data/shapes/residences.geojson`` (a post-step that
  rewrites only those two fields): about 22 % of the residents are under 18, and about 45 % of
  them aged 3 to 10, drawn per building (binomial, seeded).

Every feature is marked illustrative: none was surveyed. Run after make_demo_data.py and
make_demo_rasters.py: ``.venv/bin/python scripts/make_demo_heat.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from scipy import ndimage

DATA = Path(__file__).resolve().parents[1] / "data"
SOURCE = "illustratif — données de démonstration (Soissons), non officielles"
SEED = 20230801


def heat_raster() -> None:
    """Land-surface temperature: 27 °C + 11 °C x sealed share - 7 °C x canopy share + noise."""
    with rasterio.open(DATA / "rasters" / "impervious_2024.tif") as imp_ds:
        imp = imp_ds.read(1).astype(float) / 100
        profile = imp_ds.profile
    with rasterio.open(DATA / "rasters" / "canopy_2024.tif") as can_ds:
        can = can_ds.read(1).astype(float) / 100
    rng = np.random.default_rng(SEED)
    noise = ndimage.gaussian_filter(rng.normal(0, 1, imp.shape), 6) * 4
    # heat spreads: a smoothed sealed share warms the neighbourhood (urban heat island)
    island = ndimage.gaussian_filter(imp, 15)
    lst = 26.0 + 7.0 * imp + 6.0 * island - 7.0 * can + noise
    profile.update(dtype="float32", nodata=-9999.0, compress="deflate")
    target = DATA / "rasters" / "heat_2023.tif"
    with rasterio.open(target, "w", **profile) as out:
        out.write(lst.astype("float32"), 1)
        out.update_tags(
            TITLE="Land-surface temperature, 2023-07-18 (illustrative, Soissons demo)",
            SOURCE="illustrative — cdv_geo demo, drawn from the demo rasters (PROVENANCE.md)",
        )
        out.set_band_unit(1, "°C")
    print(f"wrote {target}")


def _write(gdf: gpd.GeoDataFrame, name: str) -> None:
    path = DATA / "shapes" / f"{name}.geojson"
    text = gdf.to_crs(4326).to_json(drop_id=True, ensure_ascii=False)
    data = json.loads(text)
    for f in data["features"]:  # six decimals: ~10 cm, small diffs when regenerated
        f["geometry"]["coordinates"] = np.round(f["geometry"]["coordinates"], 6).tolist()
    path.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(gdf)} features)")


def hydrants() -> gpd.GeoDataFrame:
    """One hydrant about every 120 m along the streets (not on footpaths)."""
    streets = gpd.read_file(DATA / "shapes" / "streets.geojson").to_crs(2154)
    streets = streets[~streets["highway"].isin(["footway", "path", "pedestrian", "steps"])]
    merged = shapely.line_merge(shapely.union_all(streets.geometry.array))
    pts = []
    for geom in getattr(merged, "geoms", [merged]):
        n = max(int(geom.length // 120), 1)
        pts += [geom.interpolate(geom.length * (k + 0.5) / n) for k in range(n)]
    uniq = shapely.points(np.unique(np.round(shapely.get_coordinates(pts), 0), axis=0))
    out = gpd.GeoDataFrame(
        {"id": [f"PI{k:04d}" for k in range(len(uniq))], "source": SOURCE},
        geometry=uniq,
        crs=2154,
    )
    return out


def incidents(hyd: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Summer incidents on hydrants; near a play area, fewer after it opened."""
    fac = gpd.read_file(DATA / "shapes" / "facilities.geojson").to_crs(2154)
    play = fac[fac["kind"] == "water_play_area"]
    quartiers = gpd.read_file(DATA / "shapes" / "quartiers.geojson").to_crs(2154)
    rng = np.random.default_rng(SEED + 1)
    xy = shapely.get_coordinates(hyd.geometry.array)
    d_play = np.min(
        [np.hypot(*(xy - shapely.get_coordinates(p)[0]).T) for p in play.geometry], axis=0
    )
    nearest = np.argmin(
        [np.hypot(*(xy - shapely.get_coordinates(p)[0]).T) for p in play.geometry], axis=0
    )
    opened = play["opened"].astype(int).to_numpy()[nearest]
    in_q = hyd.geometry.within(quartiers.union_all()).to_numpy()
    rows = []
    for year in range(2017, 2026):
        hot_year = 1.6 if year in (2019, 2022, 2025) else 1.0  # heat-wave summers
        near = d_play <= 450
        after = year > opened
        rate = (0.006 + 0.12 * in_q * near * np.where(after, 0.3, 1.0) + 0.02 * in_q) * hot_year
        counts = rng.poisson(rate)
        for i in np.flatnonzero(counts):
            for _ in range(counts[i]):
                day = dt.date(year, 6, 1) + dt.timedelta(days=int(rng.integers(0, 122)))
                kind = "hydrant_opened" if rng.random() < 0.7 else "street_pooling"
                rows.append((hyd["id"].iloc[i], day.isoformat(), kind, xy[i]))
    out = gpd.GeoDataFrame(
        {
            "id": [f"INC{k:05d}" for k in range(len(rows))],
            "date": [r[1] for r in rows],
            "type": [r[2] for r in rows],
            "hydrant": [r[0] for r in rows],
            "source": SOURCE,
        },
        geometry=shapely.points([r[3] + rng.normal(0, 4, 2) for r in rows]),
        crs=2154,
    )
    return out


def children() -> None:
    """Add illustrative ``children`` (0-17) and ``children_3_10`` to the demo residences."""
    import cdv_geo as cg
    from cdv_geo.schema import validate

    path = DATA / "shapes" / "residences.geojson"
    res = gpd.read_file(path)
    rng = np.random.default_rng(SEED + 2)
    pop = res["population"].fillna(0).round().astype(int).to_numpy()
    kids = rng.binomial(pop, 0.22)
    res["children"] = kids.astype(float)
    res["children_3_10"] = rng.binomial(kids, 0.45).astype(float)
    cg.write_layer(validate(res, "residences"), path, layer="residences")
    print(f"wrote {path} (children: {int(kids.sum())} of {int(pop.sum())} residents)")


def main() -> None:
    """Write the heat raster, the hydrants, the incidents and the residences' children."""
    children()
    heat_raster()
    hyd = hydrants()
    inc = incidents(hyd)
    counts = inc.groupby("hydrant").size()
    hyd["incidents"] = hyd["id"].map(counts).fillna(0).astype(int)
    _write(hyd, "hydrants")
    _write(inc, "incidents")


if __name__ == "__main__":
    main()
