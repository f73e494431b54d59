"""Service areas by strokes (issue 17): the same area as the buffered reached streets."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import LineString, MultiLineString, Point, Polygon

from cdv_geo.metrics.service_areas import service_areas, street_strokes
from cdv_geo.network import WalkNetwork


def _grid(n: int = 7, step: float = 100.0) -> WalkNetwork:
    side = (n - 1) * step
    lines = [LineString([(0, i * step), (side, i * step)]) for i in range(n)]
    lines += [LineString([(i * step, 0), (i * step, side)]) for i in range(n)]
    return WalkNetwork.from_lines(gpd.GeoDataFrame(geometry=lines, crs=2154), crs=2154)


def test_strokes_follow_the_streets_of_a_grid() -> None:
    net = _grid()
    lab = street_strokes(net)
    mid = shapely.get_coordinates(
        shapely.line_interpolate_point(net.edge_geometry, 0.5, normalized=True)
    )
    horizontal = np.isclose(mid[:, 1] % 100, 0)
    # one stroke per street: 7 rows, 7 columns, whatever the order of the edges
    street = np.where(horizontal, mid[:, 1], 1000 + mid[:, 0])
    assert net.n_edges == 2 * 7 * 6
    for s in np.unique(street):
        assert len(set(lab[street == s])) == 1
    assert len(set(lab)) == 14


@pytest.mark.parametrize(("turn", "same"), [(30.0, True), (45.0, False), (90.0, False)])
def test_strokes_pair_edges_within_37_degrees_of_straight(turn: float, same: bool) -> None:
    a = np.radians(turn)
    lines = [
        LineString([(0, 0), (100, 0)]),
        LineString([(100, 0), (100 + 100 * np.cos(a), 100 * np.sin(a))]),
    ]
    net = WalkNetwork.from_lines(gpd.GeoDataFrame(geometry=lines, crs=2154), crs=2154)
    lab = street_strokes(net)
    assert bool(lab[0] == lab[1]) is same


def test_a_branch_does_not_steal_the_straight_continuation() -> None:
    lines = [
        LineString([(0, 0), (100, 0)]),
        LineString([(100, 0), (200, 10)]),  # the straight continuation (5.7 degrees)
        LineString([(100, 0), (190, 40)]),  # a side street at 24 degrees
    ]
    net = WalkNetwork.from_lines(gpd.GeoDataFrame(geometry=lines, crs=2154), crs=2154)
    ends = shapely.get_coordinates(shapely.get_point(net.edge_geometry, -1))
    starts = shapely.get_coordinates(shapely.get_point(net.edge_geometry, 0))
    far = np.maximum(ends[:, 0], starts[:, 0])
    first, straight, side = (int(np.flatnonzero(np.isclose(far, x))[0]) for x in (100, 200, 190))
    lab = street_strokes(net)
    assert lab[first] == lab[straight] != lab[side]


def test_service_area_of_a_grid_is_the_buffered_diamond_of_streets() -> None:
    # On a full grid the walk from a crossroads to any street point is the Manhattan distance:
    # the streets reached within 250 m are the grid lines inside a diamond of radius 250.
    net = _grid()
    fac = gpd.GeoDataFrame({"kind": ["school"]}, geometry=[Point(300, 300)], crs=2154)
    got = service_areas(fac, network=net, thresholds_m=[250], buffer_m=25)
    streets = MultiLineString([list(g.coords) for g in net.edge_geometry])
    diamond = Polygon([(300, 50), (550, 300), (300, 550), (50, 300)])
    expected = shapely.buffer(shapely.intersection(streets, diamond), 25, quad_segs=4)
    area = got.geometry.iloc[0]
    assert area.area == pytest.approx(expected.area, rel=2e-3)
    assert shapely.symmetric_difference(area, expected).area < 2e-3 * expected.area
    assert area.bounds == pytest.approx((25, 25, 575, 575), abs=0.01)


def test_service_areas_by_facility_on_a_network_with_a_dead_end_and_a_loop() -> None:
    lines = [
        LineString([(0, 0), (400, 0)]),
        LineString([(400, 0), (400, 300), (700, 300), (700, 0), (400, 0)]),  # a loop
        LineString([(200, 0), (200, 150)]),  # a dead end
    ]
    net = WalkNetwork.from_lines(gpd.GeoDataFrame(geometry=lines, crs=2154), crs=2154)
    fac = gpd.GeoDataFrame(
        {"id": ["a", "b"], "kind": ["shop", "shop"]},
        geometry=[Point(0, 0), Point(700, 300)],
        crs=2154,
    )
    got = service_areas(fac, network=net, thresholds_m=[250], by="facility", buffer_m=10)
    a = got.set_index("facility_id").geometry
    # from (0, 0): 250 m along the main street, 50 m up the dead end at 200
    reach_a = shapely.union_all([LineString([(0, 0), (250, 0)]), LineString([(200, 0), (200, 50)])])
    # from the loop's far corner: 250 m each way round the loop
    reach_b = shapely.union_all(
        [LineString([(450, 300), (700, 300)]), LineString([(700, 300), (700, 50)])]
    )
    for fid, reach in (("a", reach_a), ("b", reach_b)):
        expected = shapely.buffer(reach, 10, quad_segs=4)
        assert shapely.symmetric_difference(a[fid], expected).area < 1e-3 * expected.area
