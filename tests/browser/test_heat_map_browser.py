"""The heat and water map of the demo in headless Chromium (Playwright), with no network.

Its layers (heat overlay, water play areas and their walking areas, hydrants, suggested sites)
are registered and drawn, as many features as the territory has (counted by the test from the
layers); it loads without errors; a hostile play-area name shows as text.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

import cdv_geo as cg
from cdv_geo.maps import save_map
from cdv_geo.maps.heat_maps import heat_map
from tests.browser.fixture_territory import EVIL
from tests.browser.test_maps_browser import COUNT, DRAWN, ON_MAP, _open

pytestmark = pytest.mark.browser


@functools.cache
def _demo(tmp: str, asset_dir: str) -> tuple[Any, Path]:
    t = cg.datasets.soissons()
    play = t.facilities["kind"] == "water_play_area"
    t.facilities.loc[play.idxmax(), "name"] = EVIL
    path = save_map(
        heat_map(t, tiles=None), Path(tmp) / "heat.html", assets="inline", asset_dir=asset_dir
    )
    return t, path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: Any, asset_dir: Path) -> tuple[Any, Path]:
    return _demo(str(tmp_path_factory.mktemp("heat")), str(asset_dir))


def test_heat_map_layers_are_present_and_drawn(
    demo: Any, new_page: Any, screenshot_dir: Path
) -> None:
    t, path = demo
    p = _open(new_page, path)
    page = p.page
    expected = {
        "communes": len(t.communes),
        "quartiers": len(t.quartiers),
        "raster_heat": 1,
        "service_areas_water_play_area": len(t.settings.thresholds_min),
        "facilities_water_play_area": int((t.facilities["kind"] == "water_play_area").sum()),
        "hydrants": len(t.hydrants),
        "suggested_sites": t.settings.new_sites,
    }
    assert set(page.evaluate("() => Object.keys(window.cdvGeo.layers)")) == set(expected)
    for key, n in expected.items():
        assert page.evaluate(COUNT, key) == n, key
        assert page.evaluate(ON_MAP, key), key  # every layer is on when the map opens
        assert page.evaluate(DRAWN, key) == n, key
    # the heat overlay is an image in the page, with its legend in °C
    assert page.locator(".leaflet-overlay-pane img.leaflet-image-layer").count() == 1
    assert "°C" in page.locator(".cdv-legend").text_content()
    # each suggested site carries its rank as a label
    labels = page.locator(".leaflet-tooltip.cdv-label").all_text_contents()
    assert [f"n° {i}" for i in range(1, t.settings.new_sites + 1)] == [
        x for x in labels if x.startswith("n° ")
    ]
    page.screenshot(path=str(screenshot_dir / "demo_heat.png"))
    assert p.errors == []
    assert p.outside == []
    assert p.dialogs == []


def test_hostile_play_area_name_shows_as_text(demo: Any, new_page: Any) -> None:
    _t, path = demo
    p = _open(new_page, path)
    page = p.page
    box = page.evaluate(
        "() => { const l = window.cdvGeo.layers.facilities_water_play_area[0];"
        " const m = l.getLayers().find(x => x._icon);"
        " const r = m._icon.getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; }"
    )
    page.mouse.click(*box)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible")
    texts = popup.text_content() + page.locator(".leaflet-tooltip").last.text_content()
    assert EVIL in texts
    assert popup.locator("img, script").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    assert p.dialogs == [] and p.errors == []
