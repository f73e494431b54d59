"""Identical problems grouped into one line; streets keep their lines."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import LineString, Point, box

from cdv_geo import CdvGeoWarning, DataValidationError
from cdv_geo.schema import validate

X0, Y0 = 728400.0, 6920700.0


def test_identical_problems_are_grouped_with_count_and_fix() -> None:
    raw = gpd.GeoDataFrame(
        {"trees": [1] * 2021 + ["deux"]},
        geometry=[box(X0, Y0, X0 + 1, Y0 + 1)] * 2021 + [Point(X0, Y0)],
        crs=2154,
    )
    with pytest.raises(DataValidationError) as info:
        validate(raw, "tree_plantings", source="arbres.geojson")
    probs = info.value.problems
    assert len(probs) == 2
    grouped = str(probs[1])  # field problems come first, then geometries
    assert grouped.startswith("file arbres.geojson, layer tree_plantings: 2,021 features (1, 2,")
    assert "…): geometry is a Polygon; a tree_plantings layer expects Point" in grouped
    assert "feature 2022, field 'trees': 'deux' is not a number" in str(probs[0])
    assert str(info.value).splitlines()[0] == (
        "2,022 problems in tree_plantings layer arbres.geojson (2 distinct):"
    )


def test_streets_keep_their_lines_and_say_what_was_left_out() -> None:
    lines = [LineString([(X0, Y0 + i), (X0 + 50, Y0 + i)]) for i in range(5)]
    others = [Point(X0, Y0)] * 7 + [box(X0, Y0, X0 + 1, Y0 + 1)]
    raw = gpd.GeoDataFrame(
        {"nom": [f"rue {i}" for i in range(13)]}, geometry=lines[:2] + others + lines[2:], crs=2154
    )
    with pytest.warns(CdvGeoWarning) as rec:
        out = validate(raw, "streets", source="voies.gpkg")
    assert len(rec) == 1
    msg = str(rec[0].message)
    assert "streets layer voies.gpkg: left out 8 features" in msg
    assert "(7 Point, 1 Polygon); kept 5" in msg
    assert list(out["name"]) == ["rue 0", "rue 1", "rue 10", "rue 11", "rue 12"]
    assert list(out["id"]) == ["1", "2", "3", "4", "5"]
    assert (out.geom_type == "LineString").all()


def test_streets_without_any_line_are_refused() -> None:
    raw = gpd.GeoDataFrame(geometry=[Point(X0, Y0), Point(X0 + 1, Y0)], crs=2154)
    with pytest.raises(DataValidationError, match=r"no feature is a .*LineString.*found 2 Point"):
        validate(raw, "streets", source="points.gpkg")
