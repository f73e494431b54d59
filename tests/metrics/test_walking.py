"""Tests of cdv_geo.metrics.walking: reading the origins' coordinates (``point_xy``).

``point_xy`` reads points in one pass of ``shapely.bounds`` (a point's box is the point) and
takes the careful way (``point_on_surface``) for everything else: the expected values below
come from shapely's own ``get_x``/``get_y`` and ``point_on_surface``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import LineString, MultiPoint, Point, box

from cdv_geo.core import threads as _threads
from cdv_geo.metrics.access import nearest_facility
from cdv_geo.metrics.walking import point_xy
from cdv_geo.network import WalkNetwork

L93 = "EPSG:2154"


def test_point_xy_equals_shapely_on_every_kind_of_geometry():
    rng = np.random.default_rng(3)
    pts = shapely.points(rng.uniform(-1e6, 1e7, (50, 2)))
    odd = [
        None,
        Point(),  # empty
        Point(1.5, -2.25, 7.0),  # with z
        box(0, 0, 2, 4),
        LineString([(0, 0), (10, 0), (10, 10)]),
        MultiPoint([(3, 4)]),  # one point: that point
        MultiPoint([(3, 4), (5, 4)]),  # two points: one of them
        shapely.Polygon(),  # empty polygon
    ]
    geoms = np.array([*pts, *odd], dtype=object)
    xy = point_xy(geoms)
    # points: exactly shapely's coordinates
    np.testing.assert_array_equal(xy[:50, 0], shapely.get_x(pts))
    np.testing.assert_array_equal(xy[:50, 1], shapely.get_y(pts))
    assert np.isnan(xy[[50, 51, 57]]).all()
    assert xy[52].tolist() == [1.5, -2.25]
    for i, g in enumerate(odd[3:7], start=53):
        expected = shapely.point_on_surface(g)
        assert xy[i].tolist() == [expected.x, expected.y]
    assert shapely.contains(box(0, 0, 2, 4), Point(xy[53]))
    assert xy[55].tolist() == [3.0, 4.0]


@pytest.mark.parametrize("cores", [1, 3])
def test_nearest_facility_reads_polygons_and_missing_homes_on_any_number_of_cores(
    cores, monkeypatch
):
    """Footprints walk from their point on surface; missing geometries get NaN and a reason.

    The reference: the same homes given as their ``shapely.point_on_surface`` points.
    """
    monkeypatch.setattr(_threads, "MIN_CHUNK", 7)
    monkeypatch.setattr(_threads, "n_threads", lambda: cores)
    streets = gpd.GeoDataFrame(
        geometry=[LineString([(0, 0), (400, 0)]), LineString([(400, 0), (400, 300)])], crs=L93
    )
    net = WalkNetwork.from_lines(streets, crs=L93)
    rng = np.random.default_rng(11)
    corners = rng.uniform([0, 5], [380, 120], (40, 2))
    footprints = [box(x, y, x + 12, y + 9) for x, y in corners]
    geoms = [*footprints, None, Point(50, 20)]
    ids = [f"h{i}" for i in range(len(geoms))]
    homes = gpd.GeoDataFrame({"id": ids}, geometry=geoms, crs=L93)
    as_points = gpd.GeoDataFrame(
        {"id": ids},
        geometry=[*shapely.point_on_surface(footprints), None, Point(50, 20)],
        crs=L93,
    )
    school = gpd.GeoDataFrame(
        {"id": ["s"], "kind": ["school"]}, geometry=[Point(400, 300)], crs=L93
    )
    got = nearest_facility(homes, school, network=net)
    ref = nearest_facility(as_points, school, network=net)
    np.testing.assert_array_equal(got["school_distance_m"], ref["school_distance_m"])
    assert np.isnan(got.loc["h40", "school_distance_m"])
    assert got.loc["h40", "reason"] == "origin has no geometry"
    # the point home: 20 m to the street, 350 m along it to the corner, 300 m up
    assert got.loc["h41", "school_distance_m"] == pytest.approx(20 + 350 + 300)
