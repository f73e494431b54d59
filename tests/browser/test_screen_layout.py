"""Screen layout of the committee maps in headless Chromium (issue 16, item 2).

On a 1366x768 and a 1920x1080 screen, no quartier's centre (its representative point, computed
here with shapely and projected by the Leaflet map) lies under a panel (title, legend, key
figures, layer list, any control); below 1,400 px the legend and the key figures start folded
and one click opens them; printed (``@media print``) the controls are hidden and the title,
legend and scale stay; rasters are drawn under the walking bands; five quartiers fit in the
key-figure panel.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely import box

import cdv_geo as cg
from cdv_geo.maps import overview_map, save_map
from cdv_geo.views.titles import territory_name
from tests.browser.test_maps_browser import FIND_MAP, _demo_maps

pytestmark = pytest.mark.browser

SCREENS = [(1366, 768), (1920, 1080)]
DEMO_LAYOUT = ["overview", "accessibility_water_play_area", "renaturation", "indicators"]

# The container points of the given [lat, lon] and the boxes of the visible controls.
UNDER = """(points) => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const box = map.getContainer().getBoundingClientRect();
  const panels = Array.from(map.getContainer().querySelectorAll('.leaflet-control'))
    .map(e => e.getBoundingClientRect()).filter(r => r.width && r.height);
  return points.map(ll => {
    const p = map.latLngToContainerPoint(ll);
    const x = box.left + p.x, y = box.top + p.y;
    const inside = x >= box.left && x <= box.right && y >= box.top && y <= box.bottom;
    const under = panels.filter(r => x >= r.left && x <= r.right && y >= r.top && y <= r.bottom);
    return {inside: inside, under: under.length};
  });
}"""

OPEN = "(sel) => Array.from(document.querySelectorAll(sel)).map(d => d.open)"


def _centres(t: Any) -> list[list[float]]:
    """The quartiers' representative points in lat/lon, computed by shapely (not the map)."""
    pts = t.quartiers.to_crs(2154).representative_point().to_crs(4326)
    return [[float(p.y), float(p.x)] for p in pts]


def _page(browser: Any, path: Path, size: tuple[int, int], asset_dir: Path) -> Any:
    from tests.browser.conftest import _grey_tile

    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    blank = _grey_tile()

    def route(r: Any) -> None:
        from cdv_geo.maps.assets import resolve_asset

        url = r.request.url
        if "cdn.jsdelivr.net/npm/" in url:
            found, _ = resolve_asset(url.split("?")[0], [asset_dir])
            if found is not None:
                mime = mimetypes.guess_type(str(found))[0] or "application/octet-stream"
                r.fulfill(status=200, body=found.read_bytes(), headers={"content-type": mime})
                return
        if url.startswith(("file:", "data:", "about:")):
            r.continue_()
            return
        r.fulfill(status=200, body=blank, headers={"content-type": "image/png"})

    context.route("**/*", route)
    page = context.new_page()
    page.goto(path.resolve().as_uri())
    page.wait_for_function(FIND_MAP)
    page.wait_for_timeout(300)
    return context, page


@pytest.fixture(scope="module")
def demo(tmp_path_factory: Any) -> tuple[Any, dict[str, Path]]:
    return _demo_maps(str(tmp_path_factory.mktemp("demo")))


@pytest.mark.parametrize("size", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", DEMO_LAYOUT)
def test_no_quartier_centre_under_a_panel(
    name: str,
    size: tuple[int, int],
    demo: Any,
    browser: Any,
    asset_dir: Path,
    screenshot_dir: Path,
) -> None:
    t, files = demo
    context, page = _page(browser, files[name], size, asset_dir)
    try:
        folded = size[0] < 1400
        # the legend and the key figures start folded below 1,400 px, open above
        states = page.evaluate(OPEN, ".cdv-legend details, .cdv-panel details")
        assert states and all(s is (not folded) for s in states), states
        centres = page.evaluate(UNDER, _centres(t))
        assert len(centres) == 3
        assert all(c["inside"] and c["under"] == 0 for c in centres), centres
        page.screenshot(path=str(screenshot_dir / f"layout_{name[:30]}_{size[0]}.png"))
    finally:
        context.close()


def test_folded_panels_open_on_one_click(demo: Any, browser: Any, asset_dir: Path) -> None:
    _t, files = demo
    context, page = _page(browser, files["overview"], (1366, 768), asset_dir)
    try:
        for box_ in (".cdv-legend", ".cdv-panel"):
            details = page.locator(f"{box_} details")
            assert details.evaluate("d => d.open") is False
            body = page.locator(f"{box_} details > :not(summary)").first
            assert not body.is_visible()
            page.locator(f"{box_} summary").click()
            assert details.evaluate("d => d.open") is True
            assert body.is_visible()
    finally:
        context.close()


HIDDEN_ON_PAPER = [
    ".leaflet-control-zoom",
    ".leaflet-control-layers",
    ".leaflet-control-zoom-fullscreen",
    ".leaflet-control-measure",
    ".leaflet-control-minimap",
]
KEPT_ON_PAPER = [".cdv-title", ".cdv-legend", ".leaflet-control-scale"]


def test_print_hides_the_controls_and_keeps_title_legend_scale(
    demo: Any, browser: Any, asset_dir: Path, screenshot_dir: Path
) -> None:
    _t, files = demo
    context, page = _page(browser, files["overview"], (1366, 768), asset_dir)
    try:
        for sel in [*HIDDEN_ON_PAPER, *KEPT_ON_PAPER]:
            assert page.locator(sel).first.is_visible(), sel  # on screen: all there
        page.emulate_media(media="print")
        page.wait_for_timeout(100)
        for sel in HIDDEN_ON_PAPER:
            assert not page.locator(sel).first.is_visible(), sel
        for sel in KEPT_ON_PAPER:
            assert page.locator(sel).first.is_visible(), sel
        # on paper the legend and the key figures are open
        assert all(page.evaluate(OPEN, ".cdv-legend details, .cdv-panel details"))
        page.screenshot(path=str(screenshot_dir / "layout_print.png"))
        page.emulate_media(media="screen")
        page.wait_for_timeout(100)
        assert not any(page.evaluate(OPEN, ".cdv-legend details, .cdv-panel details"))
    finally:
        context.close()


def test_rasters_are_drawn_under_the_walking_bands(
    demo: Any, browser: Any, asset_dir: Path
) -> None:
    _t, files = demo
    context, page = _page(browser, files["heat"], (1920, 1080), asset_dir)
    try:
        z = page.evaluate(
            """() => {
              const img = document.querySelector('img.cdv-raster');
              const bands = window.cdvGeo.layers.service_areas_water_play_area[0];
              const band = bands.getLayers()[0]._path;
              const pane = img.closest('.leaflet-pane');
              const overlay = document.querySelector('.leaflet-overlay-pane');
              return [Number(getComputedStyle(pane).zIndex), overlay.contains(pane),
                      overlay.contains(band), band.isConnected];
            }"""
        )
        # the raster's pane sits under everything else in the overlay pane, the bands included
        raster_z, raster_in, band_in, drawn = z
        assert drawn and raster_in and band_in and raster_z < 0, z
    finally:
        context.close()


def _five_quartiers(tmp: Path) -> Any:
    x0, y0 = 700_000, 6_900_000
    names = ["Quartier test", "Les Hauts de la Ville Nord", "Centre ancien", "Gare", "Bord d'eau"]
    q = gpd.GeoDataFrame(
        {
            "code": [f"QP0{i}" for i in range(5)],
            "name": names,
            "population": [1200, 3400, 980, 2100, 1500],
        },
        geometry=[box(x0 + i * 600, y0, x0 + i * 600 + 450, y0 + 450) for i in range(5)],
        crs=2154,
    )
    c = gpd.GeoDataFrame(
        {"code": ["99001"], "name": ["Villeneuve"], "population": [25000]},
        geometry=[box(x0 - 300, y0 - 300, x0 + 3300, y0 + 800)],
        crs=2154,
    )
    return cg.Territory("data", quartiers=q, communes=c)


@pytest.mark.parametrize("size", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_five_quartiers_fit_in_the_key_figures(
    size: tuple[int, int], tmp_path: Path, browser: Any, asset_dir: Path, screenshot_dir: Path
) -> None:
    t = _five_quartiers(tmp_path)
    path = save_map(overview_map(t, tiles=None), tmp_path / "five.html")
    context, page = _page(browser, path, size, asset_dir)
    try:
        if size[0] < 1400:
            page.locator(".cdv-panel summary").click()
        panel = page.locator(".cdv-panel")
        heads = panel.locator("th").all_inner_texts()
        # one empty corner, the five quartiers, then the town outside the QPV and the town
        assert len(heads) == 8
        assert heads[1:6] == [str(n) for n in t.quartiers["name"]]
        # named after the town as the map's title names it (here the territory's name)
        town = territory_name(t)
        assert heads[6:] == [f"{town} hors QPV", f"{town} (commune)"]
        # no column is cut: the box is wide enough, or scrolls to show every column
        dims = panel.evaluate("p => [p.scrollWidth, p.clientWidth, getComputedStyle(p).overflowX]")
        assert dims[0] <= dims[1] + 1 or dims[2] in ("auto", "scroll"), dims
        centres = page.evaluate(UNDER, _centres(t))
        if size[0] >= 1400:
            assert dims[0] <= dims[1] + 1, dims  # compact columns: nothing to scroll
            assert all(c["inside"] and c["under"] == 0 for c in centres), centres
        page.screenshot(path=str(screenshot_dir / f"layout_five_{size[0]}.png"))
    finally:
        context.close()
