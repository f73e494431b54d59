"""Homes drawn as points (issue 17): the form, the positions, the classes and the tooltips."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely import Point, Polygon, box

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.maps import layers_access
from cdv_geo.maps.features import display_cache
from cdv_geo.maps.layers import POINT_MIN_HOMES, residences_layer
from tests.browser.fixture_territory import X0, Y0
from tests.maps.test_maps import calls


def _render(layer: layers_access.MapLayer) -> dict[str, tuple[str, object]]:
    m = folium.Map(tiles=None)
    layer.add_to(m)
    return calls(m.get_root().render())


def _homes() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    # an L-shaped footprint: its centroid lies outside it, a drawn point must not
    ell = Polygon([(0, 0), (40, 0), (40, 8), (8, 8), (8, 40), (0, 40)])
    geoms = [box(X0 + 30 * i, Y0, X0 + 30 * i + 10, Y0 + 10) for i in range(4)] + [
        Polygon([(X0 + x, Y0 + 100 + y) for x, y in ell.exterior.coords])
    ]
    res = gpd.GeoDataFrame(
        {
            "id": list("abcde"),
            "name": ["Les <Tilleuls>", None, None, None, "Bloc L"],
            "dwellings": [12, 3, 3, 7, 20],
            "population": [30, None, 8, 15, 44],
        },
        geometry=geoms,
        crs=2154,
    )
    near = pd.DataFrame(
        {"water_play_area_time_min": [2.0, 7.0, 12.0, 20.0, np.nan]}, index=list("abcde")
    )
    return res, near


def test_homes_as_points_inside_their_footprint_with_their_class_and_tooltip() -> None:
    res, near = _homes()
    layer = residences_layer(res, nearest=near, bins=(5, 10, 15), form="point", lang="en")
    fn, (spec,) = _render(layer)["residences"]
    assert fn == "points" and spec["mode"] == "circle" and layer.n_features == 5
    to_lonlat = Transformer.from_crs(2154, 4326, always_xy=True)
    for (x, y), geom in zip(zip(spec["x"], spec["y"], strict=True), res.geometry, strict=True):
        lon, lat = to_lonlat.transform(*np.asarray(geom.exterior.coords).T)
        footprint = Polygon(zip(lon, lat, strict=True))
        # 5 decimals: within about a metre of the footprint
        assert footprint.buffer(1.5e-5).contains(Point(x, y))
    # the L's point is in the L, not at its centroid (outside the L)
    lon_c, lat_c = to_lonlat.transform(res.geometry[4].centroid.x, res.geometry[4].centroid.y)
    assert (spec["x"][4], spec["y"][4]) != (round(lon_c, 5), round(lat_c, 5))
    # classes: <5, 5-10, 10-15, >=15, unreachable
    assert spec["c"] == [0, 1, 2, 3, 4]
    texts = spec["texts"]
    tips = ["<br>".join(texts[i] for i in row if i >= 0) for row in spec["t"]]
    assert tips[0] == (
        "<b>Les &lt;Tilleuls&gt;</b><br>Dwellings: 12<br>Residents: 30"
        "<br>Walking time: 2.0 min (Water play area)"
    )
    assert tips[1].endswith("Dwellings: 3<br>Walking time: 7.0 min (Water play area)")
    assert "Residents" not in tips[1]
    assert tips[4].startswith("<b>Bloc L</b>") and tips[4].endswith("unreachable")
    # each circle class takes the colour of its walking-time class
    colours = [c["style"]["fillColor"] for c in spec["classes"]]
    assert colours[:5] == [c for _t, c in layers_access.time_classes((5, 10, 15), "en")]


def test_home_form_switches_at_the_threshold_and_is_overridable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    res, near = _homes()
    assert POINT_MIN_HOMES == 25_000
    assert _render(residences_layer(res, nearest=near))["residences"][0] == "geojson"
    monkeypatch.setattr(layers_access, "POINT_MIN_HOMES", 5)
    assert _render(residences_layer(res, nearest=near))["residences"][0] == "points"
    assert _render(residences_layer(res.iloc[:4], nearest=near))["residences"][0] == "geojson"
    forced = residences_layer(res, nearest=near, form="polygon")
    assert _render(forced)["residences"][0] == "geojson"
    with pytest.raises(CdvGeoError, match="form='dots' is not valid"):
        residences_layer(res, form="dots")  # type: ignore[arg-type]


def test_points_skip_missing_geometries_and_are_cached_alike() -> None:
    res, near = _homes()
    res.loc[2, "geometry"] = None
    plain = _render(residences_layer(res, nearest=near, form="point"))["residences"][1][0]
    with display_cache():
        residences_layer(res, nearest=near, form="point")
        again = _render(residences_layer(res, nearest=near, form="point"))["residences"][1][0]
    assert len(plain["x"]) == 4 and plain["c"] == [0, 1, 3, 4]
    assert again == plain
