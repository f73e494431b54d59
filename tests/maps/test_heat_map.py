"""The heat and water map (cdv_geo.maps.heat_maps): its layers, legend, escaping and notes.

No browser here (tests/browser/test_heat_map_browser.py opens it): these tests read the data each
layer embeds in the HTML. The territory is the street grid of tests/pipeline/test_heat_pipeline.py.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from cdv_geo import Territory, maps
from cdv_geo.maps.heat_maps import HYDRANT_CLASSES, has_heat_data, heat_map
from cdv_geo.maps.html import render_html
from cdv_geo.pipeline import compute_metrics
from tests.maps.test_maps import calls, features
from tests.pipeline.grid import EVIL, grid_layers
from tests.pipeline.test_heat_pipeline import heat_territory


def readable(text: str) -> str:
    """The page's text as a reader sees it: JSON ``\\uXXXX`` escapes and HTML entities undone."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return html.unescape(text).replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture(scope="module")
def territory(tmp_path_factory: pytest.TempPathFactory) -> Territory:
    t = heat_territory(tmp_path_factory.mktemp("heatmap"))
    t.facilities.loc[t.facilities["kind"] == "water_play_area", "name"] = EVIL
    t.green_spaces["name"] = EVIL  # the suggested site
    return t


@pytest.fixture(scope="module")
def text(territory: Territory) -> str:
    return render_html(heat_map(territory, tiles=None))


def test_layers_and_their_features(text: str) -> None:
    data = calls(text)
    assert set(data) == {
        "communes",
        "raster_heat",
        "quartiers",
        "service_areas_water_play_area",
        "facilities_water_play_area",
        "hydrants",
        "suggested_sites",
    }
    assert data["raster_heat"][0] == "image"
    assert len(features(data["service_areas_water_play_area"][1][0])) == 2  # 5 and 10 min
    assert len(data["facilities_water_play_area"][1][0]["x"]) == 1
    assert len(features(data["suggested_sites"][1][0])) == 1


def test_hydrants_are_sized_by_their_incidents(text: str) -> None:
    spec = calls(text)["hydrants"][1][0]
    # H1: 15 incidents, H2: 14, H3: none -- drawn from the fewest to the most
    radii = [spec["classes"][c]["style"]["radius"] for c in spec["c"]]
    assert radii == [HYDRANT_CLASSES[0][1], HYDRANT_CLASSES[-1][1], HYDRANT_CLASSES[-1][1]]
    assert radii[0] < radii[1]
    tips = [spec["texts"][i] for i in spec["t"]]
    assert "Incidents (poteau ouvert, street pooling) : 0" in tips[0]
    assert "Incidents (poteau ouvert, street pooling) : 15" in tips[2]


def test_heat_raster_is_red_where_hot_and_legend_in_celsius(text: str) -> None:
    spec = calls(text)["raster_heat"][1]
    url, bounds = spec[0], spec[1]
    img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA")
    arr = np.asarray(img)
    # 20 °C (the 2nd percentile) is blue, 30 °C (the 98th) red: the hot quartier QA is red
    red = (arr[..., 0] > 150) & (arr[..., 2] < 100)
    blue = (arr[..., 2] > 120) & (arr[..., 0] < 100)
    share_hot = red.sum() / (red.sum() + blue.sum())
    assert share_hot == pytest.approx(25 / 84, abs=0.03)  # QA: 25 of the commune's 84 ha
    (s, w), (n, e) = bounds
    assert s < n and w < e
    plain = readable(text)
    assert "20 °C" in plain and "30 °C" in plain
    assert "Chaleur : température de surface 2023" in plain


def test_data_texts_are_escaped(text: str) -> None:
    assert "<script>alert(1)" not in text
    # once the JSON escapes are undone, the name is still HTML-escaped: shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in re.sub(
        r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text
    )


def test_title_and_panel(territory: Territory, text: str) -> None:
    plain = readable(text)
    assert "Chaleur et eau : aires de jeux d'eau et poteaux d'incendie — Testville" in plain
    # the panel: children within 5 min of a play area, QA 15 of 45
    assert "Enfants à 5 min d'une aire de jeux d'eau" in plain
    assert "33 %" in plain
    assert maps.map_title("heat", territory, "en").startswith("Heat and water")


def test_missing_inputs_are_listed_not_raised() -> None:
    layers = grid_layers("Beta")
    t = Territory("Bare", **{k: layers[k] for k in ("quartiers", "facilities", "streets")})
    plain = readable(render_html(heat_map(t, tiles=None)))
    assert "raster « heat_<year> » absent" in plain
    assert "couche « hydrants » absente du territoire" in plain
    assert "couche « residences » absente du territoire" in plain
    assert not has_heat_data(t)


def test_committee_maps_add_the_heat_map_when_there_are_heat_data(
    territory: Territory, tmp_path: Path
) -> None:
    m = compute_metrics(territory)
    files = maps.build_committee_maps(territory, tmp_path, metrics=m, tiles=None)
    assert list(files)[-1] == "heat" and files["heat"].exists()
    bare = Territory("Bare", **{k: v for k, v in grid_layers("Beta").items()})
    files: dict[str, Any] = maps.build_committee_maps(bare, tmp_path / "bare", tiles=None)
    assert "heat" not in files
