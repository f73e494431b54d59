"""Maximal covering location: the solver's choice equals the brute-force optimum."""

import itertools

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.metrics.siting import choose_sites

# Lambert-93 coordinates in France, so that the metric CRS is the layers' own
X0, Y0 = 700000.0, 6900000.0


def _instance(seed):
    rng = np.random.default_rng(seed)
    homes = gpd.GeoDataFrame(
        {"children": rng.integers(0, 9, 40)},
        geometry=[Point(X0 + x, Y0 + y) for x, y in rng.uniform(0, 2000, (40, 2))],
        crs=2154,
    )
    sites = gpd.GeoDataFrame(
        {"id": [f"s{j}" for j in range(8)]},
        geometry=[Point(X0 + x, Y0 + y) for x, y in rng.uniform(0, 2000, (8, 2))],
        crs=2154,
    )
    return homes, sites


def _brute_force(homes, sites, k, radius_m):
    d = np.hypot(
        homes.geometry.x.to_numpy()[:, None] - sites.geometry.x.to_numpy()[None, :],
        homes.geometry.y.to_numpy()[:, None] - sites.geometry.y.to_numpy()[None, :],
    )
    cover = d <= radius_m
    w = homes["children"].to_numpy(float)
    return max(w[cover[:, list(c)].any(axis=1)].sum() for c in itertools.combinations(range(8), k))


@pytest.mark.parametrize(("seed", "k"), [(0, 1), (1, 2), (2, 3), (3, 4)])
def test_mclp_equals_brute_force(seed, k):
    homes, sites = _instance(seed)
    # straight lines at 4.5 km/h: 5 min = 375 m
    got = choose_sites(sites, homes, k=k, threshold_min=5)
    assert got.covered == pytest.approx(_brute_force(homes, sites, k, 375.0))
    assert got.sites["n_demand_covered"].sum() == pytest.approx(got.covered)
    assert len(got.sites) == k and got.status == "Optimal"
    assert got.covered + got.uncovered == pytest.approx(homes["children"].sum())


def test_existing_coverage_is_left_out_and_incidents_reported():
    homes = gpd.GeoDataFrame(
        {"children": [10, 3, 4]},
        geometry=[Point(X0, Y0), Point(X0 + 1000, Y0), Point(X0 + 2000, Y0)],
        crs=2154,
    )
    sites = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "name": ["A", "B", "C"]},
        geometry=[Point(X0, Y0 + 100), Point(X0 + 1000, Y0 + 100), Point(X0 + 2000, Y0 + 100)],
        crs=2154,
    )
    existing = gpd.GeoDataFrame(geometry=[Point(X0, Y0 - 50)], crs=2154)
    incidents = gpd.GeoDataFrame(
        geometry=[Point(X0 + 2000, Y0 + 50), Point(X0 + 2010, Y0), Point(X0, Y0)], crs=2154
    )
    got = choose_sites(sites, homes, k=1, existing=existing, also={"incidents": incidents})
    assert got.sites.index.tolist() == ["c"]  # the 10 children near "a" are already covered
    assert got.sites.loc["c", "n_demand_covered"] == 4
    assert got.sites.loc["c", "n_incidents_covered"] == 2
    assert got.sites.loc["c", "rank"] == 1


def test_bad_k():
    homes, sites = _instance(0)
    with pytest.raises(CdvGeoError, match="k=9"):
        choose_sites(sites, homes, k=9)
