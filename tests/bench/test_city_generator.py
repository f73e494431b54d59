"""The benchmark's generated city (scripts/bench/city.py): counts, geometry and the project file.

The counts are checked against the sizes the issue asks for (100 km², 30 quartiers, 60,000
intersections, 500 facilities, 50,000 trees at 100,000 homes), and a small city is written and
read back through the public reader, each property measured here with shapely.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import rasterio
import shapely

from cdv_geo import Territory

ROOT = Path(__file__).resolve().parents[2]
HOMES = 3_000


def _city() -> ModuleType:
    name = "cdv_bench_city"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "bench" / "city.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Territory]:
    project = _city().make_city(tmp_path_factory.mktemp("city"), homes=HOMES, seed=3)
    return project, Territory.from_file(project)


def test_issue_sizes_at_100k_homes() -> None:
    s = _city().city_size(100_000)
    assert s.side_m**2 == pytest.approx(100e6)  # 100 km²
    assert s.quartiers == 30
    assert 59_000 <= s.intersections <= 61_000
    assert sum(s.facilities.values()) == 500
    assert s.facilities["water_play_area"] > 0
    assert s.trees == 50_000


def test_sizes_scale_with_the_homes() -> None:
    big, small = _city().city_size(100_000), _city().city_size(10_000)
    assert big.side_m**2 / small.side_m**2 == pytest.approx(10, rel=1e-3)
    assert big.intersections / small.intersections == pytest.approx(10, rel=0.02)
    assert (big.quartiers, small.quartiers) == (30, 3)


def test_every_layer_and_raster_is_read_back(small: tuple[Path, Territory]) -> None:
    _project, t = small
    s = _city().city_size(HOMES)
    assert set(t.layer_names()) == {
        "communes",
        "quartiers",
        "facilities",
        "renewal_sites",
        "desealed_areas",
        "tree_plantings",
        "residences",
        "green_spaces",
        "streets",
    }
    assert len(t.residences) == HOMES
    assert len(t.quartiers) == s.quartiers
    assert len(t.tree_plantings) == s.trees
    assert t.facilities["kind"].value_counts().to_dict() == s.facilities
    assert sorted(t.rasters) == ["canopy_2024", "impervious_2018", "impervious_2024"]
    side_px = int(np.ceil(s.side_m / 10))
    for path in t.rasters.values():
        with rasterio.open(path) as r:
            assert r.res == (10.0, 10.0)
            assert (r.width, r.height) == (side_px, side_px)
            a = r.read(1)
            valid = a[a != r.nodata]
            assert valid.min() >= 0 and valid.max() <= 100
            assert np.mean(a == r.nodata) < 0.05  # at most a few nodata blocks


def test_geometry(small: tuple[Path, Territory]) -> None:
    _project, t = small
    s = _city().city_size(HOMES)
    q = t.quartiers.geometry.to_numpy()
    # quartiers do not overlap: the union's area is the sum of the areas
    assert shapely.union_all(q).area == pytest.approx(sum(g.area for g in q), rel=1e-9)
    # a third of the homes are generated in the quartiers, more fall in them by chance: the
    # quartiers (15 % of the city) are at least twice as dense as the rest
    centres = shapely.centroid(t.residences.geometry.to_numpy())
    union = shapely.union_all(q)
    inside = shapely.contains(union, centres)
    assert inside.mean() >= 1 / 3 - 0.02
    share = union.area / t.communes.geometry.iloc[0].area
    assert share == pytest.approx(0.15, abs=0.02)
    assert inside.mean() / share >= 2 * (1 - inside.mean()) / (1 - share)
    # every home in the commune
    commune = t.communes.geometry.iloc[0]
    assert shapely.contains(commune, centres).all()
    # quartier populations: the homes intersecting each quartier, summed here
    pop = t.residences["population"].to_numpy()
    geoms = t.residences.geometry.to_numpy()
    for code, g in zip(t.quartiers["code"], q, strict=True):
        expected = pop[shapely.intersects(geoms, g)].sum()
        got = t.quartiers.loc[t.quartiers["code"] == code, "population"].iloc[0]
        assert got == pytest.approx(expected, abs=1)
    # the streets: segments between the grid's intersections, nearly every node used
    ends = shapely.get_coordinates(t.streets.geometry.to_numpy()).round(6)
    nodes = np.unique(ends, axis=0)
    assert 0.99 * s.intersections <= len(nodes) <= s.intersections
    n = s.grid
    assert 0.9 * 2 * n * (n - 1) <= len(t.streets) <= 2 * n * (n - 1)
