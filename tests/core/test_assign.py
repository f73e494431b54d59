"""The one assignment rule: points covered (borders: smallest code), counts to the largest share."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, Point, Polygon, box

from cdv_geo.core.assign import assign_quartier, split_by_quartier
from cdv_geo.core.errors import CdvGeoError

# Three quartiers meeting at the triple point (10, 10); layer order is NOT code order.
#   QP3 = [0,10]x[0,10], QP1 = [10,20]x[0,10], QP2 = [0,20]x[10,20]
QUARTIERS = gpd.GeoDataFrame(
    {"code": ["QP3", "QP1", "QP2"], "name": ["C", "A", "B"]},
    geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(0, 10, 20, 20)],
    crs=2154,
)


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        (Point(5, 5), "QP3"),  # interior
        (Point(10, 5), "QP1"),  # border QP3|QP1 -> smaller code
        (Point(5, 10), "QP2"),  # border QP3|QP2 -> QP2 < QP3
        (Point(15, 10), "QP1"),  # border QP1|QP2 -> QP1
        (Point(10, 10), "QP1"),  # triple point -> smallest of the three
        (Point(0, 0), "QP3"),  # outer corner: covered by QP3 only
        (Point(25, 5), None),  # outside
    ],
)
def test_points_follow_the_covering_rule(point, expected):
    assert assign_quartier([point], QUARTIERS).tolist() == [expected]


def test_polygon_counts_go_whole_to_largest_share():
    # 3 m² in QP3, 7 m² in QP1 -> QP1; a 50/50 split -> the smaller code (QP1 over QP3)
    polys = [box(7, 0, 17, 1), box(5, 0, 15, 1), box(2, 2, 4, 4), box(30, 30, 31, 31)]
    assert assign_quartier(polys, QUARTIERS).tolist() == ["QP1", "QP1", "QP3", None]


def test_polygon_touching_only_is_outside():
    assert assign_quartier([box(20, 0, 25, 5)], QUARTIERS).tolist() == [None]


def test_line_counts_go_to_largest_length():
    # 2 m in QP3, 8 m in QP2
    assert assign_quartier([LineString([(5, 8), (5, 18)])], QUARTIERS).tolist() == ["QP2"]


def test_missing_and_empty_geometries_are_outside():
    out = assign_quartier(np.array([None, Point(), Polygon()], dtype=object), QUARTIERS)
    assert out.tolist() == [None, None, None]


def test_geodataframe_is_reprojected_and_index_kept():
    # (a round trip through degrees moves border points off the border: interior points here)
    pts = gpd.GeoDataFrame(geometry=[Point(5, 5), Point(15, 5)], index=["a", "b"], crs=2154)
    out = assign_quartier(pts.to_crs(4326), QUARTIERS)
    assert out.index.tolist() == ["a", "b"]
    assert out.tolist() == ["QP3", "QP1"]


def test_agrees_with_brute_force_on_random_points():
    rng = np.random.default_rng(1)
    # half the points on the grid lines (borders), half anywhere
    xy = rng.integers(-2, 23, size=(400, 2)).astype(float)
    xy[200:] += rng.random((200, 2))
    pts = shapely.points(xy)
    got = assign_quartier(pts, QUARTIERS).tolist()
    for p, g in zip(pts, got, strict=True):
        covering = sorted(
            c for c, q in zip(QUARTIERS.code, QUARTIERS.geometry, strict=True) if q.covers(p)
        )
        assert g == (covering[0] if covering else None)


def test_split_by_quartier_areas_add_up():
    yard = box(8, 8, 12, 12)  # 4 m² in each quartier... QP2 holds the top half (8 m²)
    parts = split_by_quartier([yard], QUARTIERS)
    got = dict(zip(parts["quartier"], parts["measure"], strict=True))
    assert got == pytest.approx({"QP1": 4.0, "QP2": 8.0, "QP3": 4.0})
    assert parts["share"].sum() == pytest.approx(1.0)


def test_quartiers_must_be_a_layer():
    with pytest.raises(CdvGeoError, match="quartiers"):
        assign_quartier([Point(0, 0)], pd.DataFrame({"code": ["x"]}))


def test_result_is_named_quartier_and_largest_share_wins_over_code_order():
    # 7 m² in QP3, 3 m² in QP1: the larger share wins even though QP1 has the smaller code
    out = assign_quartier([box(3, 0, 13, 1)], QUARTIERS)
    assert out.name == "quartier"
    assert out.tolist() == ["QP3"]


def test_degenerate_features_count_where_their_point_lies():
    # a zero-length line (no length to share) on the QP3|QP1 border: the point rule
    assert assign_quartier([LineString([(10, 5), (10, 5)])], QUARTIERS).tolist() == ["QP1"]


def test_split_lines_by_length():
    parts = split_by_quartier([LineString([(5, 5), (15, 5)])], QUARTIERS)
    assert dict(zip(parts["quartier"], parts["measure"], strict=True)) == pytest.approx(
        {"QP1": 5.0, "QP3": 5.0}
    )
    assert parts["share"].tolist() == pytest.approx([0.5, 0.5])


def test_quartiers_must_be_polygons():
    points = gpd.GeoDataFrame({"code": ["QP1"]}, geometry=[Point(0, 0)], crs=2154)
    with pytest.raises(CdvGeoError, match="quartiers"):
        assign_quartier([Point(0, 0)], points)


def test_in_communes_points_on_the_border_and_polygons_by_half() -> None:
    import geopandas as gpd
    from shapely import Point, box

    from cdv_geo.core.assign import in_communes

    town = gpd.GeoDataFrame({"code": ["02722"]}, geometry=[box(0, 0, 100, 100)], crs=2154)
    pts = [Point(50, 50), Point(100, 50), Point(100.001, 50), Point(-0.001, 0)]
    assert in_communes(pts, town).tolist() == [True, True, False, False]
    # a yard exactly half inside counts; a hair less than half does not
    half = box(90, 0, 110, 10)
    less = box(90.01, 0, 110.01, 10)
    assert in_communes([half, less], town).tolist() == [True, False]
    # a GeoDataFrame in another CRS is reprojected first
    wgs = gpd.GeoDataFrame(geometry=[Point(50, 50)], crs=2154).to_crs(4326)
    assert in_communes(wgs, town).tolist() == [True]


def test_comparison_areas_are_the_union_the_commune_and_the_rest() -> None:
    import geopandas as gpd
    from shapely import box

    from cdv_geo.core.assign import comparison_areas

    q = gpd.GeoDataFrame(
        {"code": ["QP2", "QP1"]}, geometry=[box(0, 0, 10, 10), box(5, 0, 15, 10)], crs=2154
    )
    town = gpd.GeoDataFrame(
        {"code": ["A", "B"]}, geometry=[box(0, 0, 50, 50), box(50, 0, 100, 50)], crs=2154
    )
    a = comparison_areas(q, town).set_index("code")
    assert a.index.tolist() == ["QP2", "QP1", "qpv", "commune", "hors_qpv"]
    # the overlap of the two quartiers counts once in qpv: 100 + 100 - 50
    assert a.area.to_dict() == {
        "QP2": 100.0, "QP1": 100.0, "qpv": 150.0, "commune": 5000.0, "hors_qpv": 4850.0
    }  # fmt: skip
    assert comparison_areas(q).set_index("code").index.tolist() == ["QP2", "QP1", "qpv"]
