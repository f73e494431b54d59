"""Maps a committee reads at a glance (issue 22 §5), in a headless Chromium at 1366×768.

- no quartier label is hidden by a cluster bubble: at the label's centre, and at the centre of
  every bubble it overlaps, the topmost element is the label;
- a tree cluster's bubble shows the trees it gathers (their sum), not its planting points;
- the indicators map opens on a rate, and one grouped selector switches the indicator shown;
- a map linking its scripts from the CDN, opened with those scripts blocked, shows the
  offline message (and does not when the scripts load).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely import Point

from cdv_geo.io.insee.registry import INDICATORS
from cdv_geo.maps import indicators_map, renaturation_map, save_map
from tests.browser.fixture_territory import X0, Y0, make_territory

pytestmark = pytest.mark.browser

SCREEN = {"width": 1366, "height": 768}
FIND_MAP = "() => Object.values(window).find(v => v instanceof L.Map)"

#: Forty planting points in a 60 m × 105 m block at the centre of quartier Alpha (where its
#: label is drawn), with 1, 2, 3, 4, 1, 2... trees: 10 × (1 + 2 + 3 + 4) = 100 trees.
TREES = [1 + i % 4 for i in range(40)]
N_TREES = 100


def _trees() -> gpd.GeoDataFrame:
    pts = [Point(X0 + 170 + 15 * (i % 5), Y0 + 170 + 15 * (i // 5)) for i in range(40)]
    return gpd.GeoDataFrame(
        {"trees": TREES, "species": "Acer campestre", "year": 2024}, geometry=pts, crs=2154
    )


@pytest.fixture(scope="module")
def glance_maps(tmp_path_factory: Any, asset_dir: Path) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("glance")
    t = make_territory(tmp)
    t.tree_plantings = _trees()
    out = {
        "renaturation": save_map(
            renaturation_map(t, tiles=None),
            tmp / "renaturation.html",
            assets="inline",
            asset_dir=asset_dir,
        ),
        "indicators": save_map(
            indicators_map(t, tiles=None),
            tmp / "indicators.html",
            assets="inline",
            asset_dir=asset_dir,
        ),
        "indicators_cdn": save_map(indicators_map(t, tiles=None), tmp / "indicators_cdn.html"),
    }
    return out


def _open(new_page: Any, path: Path) -> Any:
    p = new_page()
    p.page.set_viewport_size(SCREEN)
    p.page.goto(path.resolve().as_uri())
    p.page.wait_for_function(FIND_MAP)
    p.page.wait_for_timeout(400)  # chunked marker clustering
    return p


# For each quartier label: how many marker icons (cluster bubbles, dots) its box overlaps, and
# whether the label is the topmost element at its centre and at the centre of each overlap.
# Leaflet gives tooltips `pointer-events: none`, which elementFromPoint skips: the labels are
# made hit-testable first, so that the test sees the stacking order, not the pointer setting.
LABELS_ON_TOP = """() => {
  const labels = [...document.querySelectorAll('.cdv-label')];
  const icons = [...document.querySelectorAll('.leaflet-marker-icon')];
  labels.forEach(l => { l.style.pointerEvents = 'auto'; });
  const box = e => e.getBoundingClientRect();
  const out = labels.map(l => {
    const r = box(l);
    const overlaps = icons.map(box).filter(q => q.left < r.right && q.right > r.left
                                               && q.top < r.bottom && q.bottom > r.top);
    const points = [[(r.left + r.right) / 2, (r.top + r.bottom) / 2]].concat(overlaps.map(q => [
      (Math.max(q.left, r.left) + Math.min(q.right, r.right)) / 2,
      (Math.max(q.top, r.top) + Math.min(q.bottom, r.bottom)) / 2]));
    const onTop = points.map(([x, y]) => {
      const e = document.elementFromPoint(x, y);
      return !!e && e.closest('.cdv-label') === l;
    });
    return {text: l.textContent, overlaps: overlaps.length, onTop: onTop};
  });
  // The other side: a bubble clear of every label stays on top where it is (clickable).
  const clear = icons.filter(i => {
    const q = box(i);
    return !labels.some(l => { const r = box(l); return q.left < r.right && q.right > r.left
                                                     && q.top < r.bottom && q.bottom > r.top; });
  }).map(i => {
    const q = box(i);
    const e = document.elementFromPoint((q.left + q.right) / 2, (q.top + q.bottom) / 2);
    return !!e && e.closest('.leaflet-marker-icon') === i;
  });
  return {labels: out, clear: clear};
}"""


def test_no_quartier_label_is_hidden_by_a_cluster_bubble(
    glance_maps: dict[str, Path], new_page: Any
) -> None:
    p = _open(new_page, glance_maps["renaturation"])
    found = p.page.evaluate(LABELS_ON_TOP)
    labels = found["labels"]
    assert len(labels) == 2  # one label per quartier
    # the trees sit under Alpha's label: the test does exercise an overlap...
    alpha = next(lab for lab in labels if lab["text"] == "Alpha")
    assert alpha["overlaps"] >= 1
    # ... and every label is on top, at its centre and wherever a bubble overlaps it
    for lab in labels:
        assert all(lab["onTop"]), lab
    assert all(found["clear"])
    assert p.errors == []


# The numbers of the cluster bubbles on screen, and the trees of the dots shown alone.
SHOWN_TREES = """() => {
  const group = window.cdvGeo.layers.tree_plantings[0];
  let singles = 0;
  group.getLayers().forEach(m => {
    if (group.getVisibleParent(m) === m) singles += m.options.cdvW;
  });
  const bubbles = [...document.querySelectorAll('.cdv-cluster')].map(e => Number(e.textContent));
  return {bubbles: bubbles, singles: singles};
}"""


def test_tree_cluster_bubbles_count_trees_not_planting_points(
    glance_maps: dict[str, Path], new_page: Any
) -> None:
    p = _open(new_page, glance_maps["renaturation"])
    # On the fitted view, the bubbles and the single dots add up to the trees.
    shown = p.page.evaluate(SHOWN_TREES)
    assert shown["bubbles"] and sum(shown["bubbles"]) + shown["singles"] == N_TREES
    # Zoomed out, the forty planting points gather in one bubble.
    centre = _trees().to_crs(4326).union_all().centroid
    p.page.evaluate(
        """(ll) => { const map = Object.values(window).find(v => v instanceof L.Map);
                     map.setView(ll, 13, {animate: false}); }""",
        [centre.y, centre.x],
    )
    p.page.wait_for_timeout(400)
    bubbles = p.page.eval_on_selector_all(".cdv-cluster", "els => els.map(e => e.textContent)")
    assert bubbles == [str(N_TREES)]  # 100 trees, not 40 points
    assert sum(TREES) == N_TREES and len(TREES) == 40
    assert p.errors == []


SELECTED = """() => {
  const s = document.querySelector('.cdv-indicator-select');
  return s ? s.options[s.selectedIndex].textContent : null;
}"""
SHOWN = """() => Object.keys(window.cdvGeo.layers).filter(k => k.startsWith('indicator_')
  && window.cdvGeo.layers[k].some(l => !!l._map))"""
LEGENDS = """() => [...document.querySelectorAll('.cdv-legend h5')]
  .filter(h => h.parentElement.style.display !== 'none').map(h => h.textContent)"""


def test_indicators_map_opens_on_a_rate_and_one_selector_switches(
    glance_maps: dict[str, Path], new_page: Any
) -> None:
    p = _open(new_page, glance_maps["indicators"])
    page = p.page
    poverty, income = INDICATORS["poverty_rate"], INDICATORS["median_income"]
    # The indicators table lists the median income first; the map opens on the poverty rate.
    assert poverty.unit == "fraction"
    assert page.evaluate(SELECTED) == poverty.label_fr
    assert page.evaluate(SHOWN) == ["indicator_poverty_rate"]
    legends = page.evaluate(LEGENDS)
    assert poverty.label_fr in legends and income.label_fr not in legends
    # one selector, grouped; no indicator among the layer control's checkboxes
    groups = page.eval_on_selector_all(
        ".cdv-indicator-select optgroup", "gs => gs.map(g => g.label)"
    )
    assert groups == ["Revenus", "Pauvreté et prestations sociales"]
    boxes = page.eval_on_selector_all(
        ".leaflet-control-layers-overlays label", "ls => ls.map(l => l.textContent.trim())"
    )
    assert boxes == ["Commune", "Quartiers prioritaires (QPV)"]
    # switching: the income is shown, with its legend; the poverty rate and its legend go
    page.select_option(".cdv-indicator-select", label=income.label_fr)
    page.wait_for_timeout(100)
    assert page.evaluate(SHOWN) == ["indicator_median_income"]
    legends = page.evaluate(LEGENDS)
    assert income.label_fr in legends and poverty.label_fr not in legends
    assert p.errors == []
    page.screenshot(path=str(glance_maps["indicators"].with_suffix(".png")))


def test_cdn_map_without_its_scripts_shows_the_offline_message(
    glance_maps: dict[str, Path], browser: Any, new_page: Any
) -> None:
    path = glance_maps["indicators_cdn"]
    context = browser.new_context(viewport=SCREEN)
    blocked: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:", "about:")):
            r.continue_()
        else:  # the CDN (and any tile): no network
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    try:
        page = context.new_page()
        page.goto(path.resolve().as_uri())
        page.wait_for_load_state("load")
        message = page.locator("#cdv-offline")
        message.wait_for(state="visible", timeout=5000)
        text = message.inner_text()
        assert "Cette carte ne peut pas s'afficher sans connexion internet" in text
        assert "--assets inline" in text
        assert any("cdn.jsdelivr.net" in u for u in blocked)
        assert page.evaluate("() => typeof window.L") == "undefined"
        box = message.bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 100
    finally:
        context.close()
    # The other side: the same file with its scripts served shows the map, not the message.
    p = _open(new_page, path)
    assert p.page.locator("#cdv-offline").is_hidden()
    assert p.page.locator(".folium-map").is_visible()
