"""Tests of the walking-time engine of the floating catchments (cdv_geo.metrics.catchment_times).

The compiled search (bucket queue, Δ-stepping on short edges) is checked against scipy's
Dijkstra (the numpy path) on random networks with very short and zero-length streets, polygon
and multi-entrance facilities and homes on a facility's own street; its growth paths (queue and
output arrays too small) and its plain-Python run give the same pairs.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely import LineString, MultiPoint, Point, box

from cdv_geo.core import jit
from cdv_geo.metrics import catchment_kernels as ck
from cdv_geo.metrics import catchment_times as ct
from cdv_geo.metrics.walking import facility_seeds, point_xy
from cdv_geo.network import WalkNetwork

L93 = "EPSG:2154"
X0, Y0 = 724000.0, 6919000.0
ORIGIN = np.array([X0, Y0])


def random_town(seed: int, n_homes: int = 300):
    """Random streets (k nearest neighbours), with 1 cm and 0 m streets, homes and facilities."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 1500, (150, 2))
    lines = []
    for i, p in enumerate(pts):
        d = np.hypot(*(pts - p).T)
        for j in np.argsort(d)[1:4]:
            if i < j or i not in np.argsort(np.hypot(*(pts - pts[j]).T))[1:4]:
                lines.append(LineString([p + ORIGIN, pts[j] + ORIGIN]))
    for p in pts[:30]:  # very short streets: many shorter than a bucket of the search
        q = p + rng.uniform(-0.01, 0.01, 2)
        lines.append(LineString([p + ORIGIN, q + ORIGIN]))
        lines.append(LineString([q + ORIGIN, pts[rng.integers(150)] + ORIGIN]))
    net = WalkNetwork.from_lines(gpd.GeoDataFrame(geometry=lines, crs=L93), crs=L93)
    hxy = rng.uniform(0, 1500, (n_homes, 2)) + ORIGIN
    homes = [Point(x, y) for x, y in hxy]
    # homes on the streets of the first facilities (the walk straight along a shared street)
    e0 = int(net.snap_xy(hxy[:1])[0][0])
    homes += [net.edge_geometry[e0].interpolate(f, normalized=True) for f in (0.1, 0.5, 0.9)]
    fxy = rng.uniform(100, 1400, (10, 2)) + ORIGIN
    facs = [Point(x, y) for x, y in fxy]
    facs.append(Point(hxy[0]))  # a facility on the street of homes
    facs.append(MultiPoint([tuple(fxy[0] + 40), tuple(fxy[1] - 40)]))  # two entrances
    facs.append(box(*(fxy[2] - 30), *(fxy[2] + 30)))  # a polygon (boundary points)
    return net, homes, facs


def pairs(net, homes, facs, limit, *, compiled=True):
    xy = point_xy(np.asarray(homes, dtype=object))
    edge, along, snap = net.snap_xy(xy, max_snap_m=300)
    seeds = facility_seeds(net, np.asarray(facs, dtype=object), 300)
    h, f, d = ct._network_pairs(net, edge, along, snap, seeds, len(facs), limit, compiled=compiled)
    order = np.lexsort((f, h))
    return h[order], f[order], d[order]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("limit", [250.0, 700.0])
def test_compiled_search_equals_scipy_dijkstra(seed, limit):
    net, homes, facs = random_town(seed)
    assert net.csr.data.min() < limit / 4096  # (some streets shorter than a bucket)
    h1, f1, d1 = pairs(net, homes, facs, limit)
    h2, f2, d2 = pairs(net, homes, facs, limit, compiled=False)
    assert len(h1) > 100
    np.testing.assert_array_equal(h1, h2)
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_allclose(d1, d2, rtol=1e-12, atol=1e-9)
    assert (d1 <= limit).all()
    assert jit.engine() is None or ck.bounded_walks.compiled is not None  # (no fallback)
    # the homes on the facility's street are reached along it
    assert {len(homes) - 3, len(homes) - 2, len(homes) - 1} <= set(h1[f1 == 10].tolist())


def test_queue_and_output_growth_give_the_same_pairs(monkeypatch):
    net, homes, facs = random_town(4, n_homes=900)
    ref = pairs(net, homes, facs, 1500.0)
    assert len(ref[0]) > 4096  # more pairs than the first output array holds
    real = ck._walk_slice
    monkeypatch.setattr(
        ck, "_walk_slice", lambda fixed, cap, lo, hi, **kw: real(fixed, 1, lo, hi, **kw)
    )
    got = pairs(net, homes, facs, 1500.0)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_array_equal(a, b)


def test_plain_python_run_equals_compiled(monkeypatch):
    # what runs when numba fails to compile: the same code as plain Python
    net, homes, facs = random_town(5, n_homes=60)
    ref = pairs(net, homes, facs, 400.0)

    class Plain:
        compiled = True

        def __call__(self, *args):
            return ck._bounded_walks_py(*args)

    monkeypatch.setattr(ck, "bounded_walks", Plain())
    got = pairs(net, homes, facs, 400.0)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_array_equal(a, b)


def test_pair_exactly_at_the_limit_is_kept():
    # homes 300 m and 300.5 m along a street from the facility: a limit of 300 keeps the first
    streets = gpd.GeoDataFrame(geometry=[LineString([(X0, Y0), (X0 + 1000, Y0)])], crs=L93)
    net = WalkNetwork.from_lines(streets, crs=L93)
    homes = [Point(X0 + 300, Y0), Point(X0 + 300.5, Y0), Point(X0 - 10, Y0)]
    for compiled in (True, False):
        h, _, d = pairs(net, homes, [Point(X0, Y0)], 300.0, compiled=compiled)
        assert h.tolist() == [0, 2] and d.tolist() == pytest.approx([300.0, 10.0])
