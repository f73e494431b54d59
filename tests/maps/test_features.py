"""Column-wise tooltips and the display cache give what the per-row code gives."""

from __future__ import annotations

import random

import geopandas as gpd
import numpy as np
import pytest
from shapely import box

from cdv_geo.maps.features import (
    Texts,
    display_cache,
    display_memo,
    display_points,
    for_display,
    tip_columns,
    tip_parts,
    tip_table,
)


def random_tips(seed: int, min_rows: int) -> tuple[list[list], Texts, Texts, list]:
    """Random tooltip columns, and their rows through tip_parts (the reference) on `slow`."""
    rng = random.Random(seed)
    pool = [None, "", "Logements : 12", "<b>", "x&y", "Résidence A", "12"]
    n, k = rng.randint(min_rows, 40), rng.randint(1, 4)
    cols = [[rng.choice(pool) for _ in range(n)] for _ in range(k)]
    slow, fast = Texts(), Texts()
    expected = [tip_parts(slow, *row) for row in zip(*cols, strict=True)]
    return cols, slow, fast, expected


@pytest.mark.parametrize("seed", range(20))
def test_tip_columns_matches_tip_parts_row_by_row(seed: int) -> None:
    cols, slow, fast, expected = random_tips(seed, 0)
    assert tip_columns(fast, *cols) == expected
    assert fast.items == slow.items  # same texts, in the same order


def test_tip_columns_by_hand() -> None:
    t = Texts()
    got = tip_columns(t, ["<A>", None, None], ["1", "1", None])
    assert got == [[0, 1], [2], -1]
    assert t.items == ["<b>&lt;A&gt;</b>", "1", "<b>1</b>"]


def test_display_cache_reuses_each_geometry() -> None:
    x, y = 700000, 6900000
    homes = gpd.GeoDataFrame(
        geometry=[box(x + 30 * i, y, x + 30 * i + 20, y + 20) for i in range(5)], crs=2154
    )
    plain = for_display(homes, 0.5)
    with display_cache():
        first = for_display(homes, 0.5)
        part = for_display(homes.iloc[[3, 1]], 0.5)
    assert part.index.tolist() == [3, 1] and str(part.crs) == "EPSG:4326"
    # the same display geometry objects, equal to the uncached ones
    assert part.iloc[0] is first.iloc[3] and part.iloc[1] is first.iloc[1]
    assert all(a.equals_exact(b, 0) for a, b in zip(first, plain, strict=True))
    # the EPSG:4326 coordinates of the first corner, rounded to 6 decimals
    lon, lat = np.round(
        gpd.GeoSeries([homes.geometry.iloc[0]], crs=2154).to_crs(4326).iloc[0].exterior.coords[0],
        6,
    )
    assert (lon, lat) in [tuple(c) for c in first.iloc[0].exterior.coords]


def test_add_geojson_takes_columns_or_one_dict_per_feature() -> None:
    from shapely import Point

    from cdv_geo.maps.features import add_geojson
    from cdv_geo.maps.runtime import MapLayer

    x, y = 700000, 6900000
    gdf = gpd.GeoDataFrame(geometry=[Point(x, y), None, Point(x + 10, y)], crs=2154)
    texts = Texts()
    texts.add("a")
    calls = []
    for props in ([{"s": 1, "t": 0}, {"s": 2, "t": 0}, {"s": 0, "t": -1}],
                  {"s": [1, 2, 0], "t": [0, 0, -1]}):  # fmt: skip
        layer = MapLayer("homes", "Homes")
        with display_cache():
            add_geojson(layer, gdf, props, styles=[{}], texts=texts, simplify_m=None)
        # the missing geometry is dropped with its values
        assert layer.n_features == 2
        calls.append([c.args for c in layer._children.values() if hasattr(c, "args")])
    assert calls[0] == calls[1]
    assert '"s":[1,0]' in calls[0][0].replace(" ", "")


@pytest.mark.parametrize("seed", range(10))
def test_tip_table_rows_are_tip_columns_with_the_left_out_lines_as_minus_one(seed: int) -> None:
    cols, slow, fast, expected = random_tips(seed, 1)
    table = tip_table(fast, *cols)
    assert table.shape == (len(cols[0]), len(cols))
    assert [[i for i in row if i >= 0] or -1 for row in table.tolist()] == expected
    assert fast.items == slow.items
    # a line is -1 exactly where its value is missing or empty
    missing = [[v in (None, "") for v in row] for row in zip(*cols, strict=True)]
    assert ((table < 0) == np.array(missing)).all()


def test_display_points_inside_polygons_and_cached() -> None:
    from pyproj import Transformer
    from shapely import Point, Polygon

    x, y = 700000, 6900000
    ell = Polygon(
        [(x, y), (x + 40, y), (x + 40, y + 8), (x + 8, y + 8), (x + 8, y + 40), (x, y + 40)]
    )
    layer = gpd.GeoDataFrame(geometry=[ell, Point(x + 100, y), None], crs=2154)
    xy = display_points(layer, decimals=6)
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(x + 100, y)
    assert xy[1].tolist() == [round(lon, 6), round(lat, 6)]
    assert np.isnan(xy[2]).all()
    ring = np.asarray(ell.exterior.coords)
    lons, lats = Transformer.from_crs(2154, 4326, always_xy=True).transform(*ring.T)
    assert Polygon(zip(lons, lats, strict=True)).contains(Point(*xy[0]))
    with display_cache():
        first = display_points(layer, decimals=6)
        again = display_points(layer.iloc[[1, 0]], decimals=6)
    np.testing.assert_array_equal(first, xy)
    np.testing.assert_array_equal(again, xy[[1, 0]])


def test_display_memo_computes_once_per_block() -> None:
    calls: list[str] = []

    def compute() -> int:
        calls.append("x")
        return len(calls)

    with display_cache():
        assert [display_memo("a", compute), display_memo("a", compute)] == [1, 1]
        assert display_memo("b", compute) == 2
    assert display_memo("a", compute) == 3  # outside a block: every time
    with display_cache():
        assert display_memo("a", compute) == 4  # a new block starts empty
