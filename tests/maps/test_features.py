"""Column-wise tooltips and the display cache give what the per-row code gives."""

from __future__ import annotations

import random

import geopandas as gpd
import numpy as np
import pytest
from shapely import box

from cdv_geo.maps.features import Texts, display_cache, for_display, tip_columns, tip_parts


@pytest.mark.parametrize("seed", range(20))
def test_tip_columns_matches_tip_parts_row_by_row(seed: int) -> None:
    rng = random.Random(seed)
    pool = [None, "", "Logements : 12", "<b>", "x&y", "Résidence A", "12"]
    n, k = rng.randint(0, 40), rng.randint(1, 4)
    cols = [[rng.choice(pool) for _ in range(n)] for _ in range(k)]
    slow, fast = Texts(), Texts()
    expected = [tip_parts(slow, *row) for row in zip(*cols, strict=True)]
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
