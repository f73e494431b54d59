"""The committee maps in a real headless Chromium (Playwright), with no network.

For each map: it loads without console errors; the Leaflet map exists; every layer draws as
many features as the data has (counted by the test from the layers, not from the map code);
switching a layer off in the layer control removes it and its legend; hostile names show as
text in tooltips and labels and no script runs; a screenshot is written.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

import cdv_geo as cg
from cdv_geo.maps import build_committee_maps
from cdv_geo.views.titles import quartier_slug, quartier_slugs
from tests.browser.fixture_territory import EVIL, make_territory

pytestmark = pytest.mark.browser

FIND_MAP = "() => Object.values(window).find(v => v instanceof L.Map)"

COUNT = """(key) => {
  const layers = (window.cdvGeo && window.cdvGeo.layers[key]) || [];
  let n = 0;
  for (const l of layers) {
    if (l instanceof L.ImageOverlay) n += 1;
    else if (L.HeatLayer && l instanceof L.HeatLayer) n += l._latlngs.length;
    else n += l.getLayers().length;
  }
  return n;
}"""

# Features actually on screen: an SVG path or a marker element in the page, a canvas circle
# attached to the map, a marker shown alone or inside a cluster icon, an image in the page.
DRAWN = """(key) => {
  const layers = (window.cdvGeo && window.cdvGeo.layers[key]) || [];
  let n = 0;
  for (const l of layers) {
    if (l instanceof L.ImageOverlay) { if (l._image && l._image.isConnected) n += 1; continue; }
    if (L.MarkerClusterGroup && l instanceof L.MarkerClusterGroup) {
      n += l.getLayers().filter(m => l.getVisibleParent(m)).length; continue;
    }
    for (const f of l.getLayers()) {
      if ((f._path && f._path.isConnected) || (f._icon && f._icon.isConnected)
          || (f._renderer instanceof L.Canvas && f._map)) n += 1;
    }
  }
  return n;
}"""

ON_MAP = "(key) => (window.cdvGeo.layers[key] || []).every(l => !!l._map)"


def _open(new_page: Any, path: Path) -> Any:
    p = new_page()
    p.page.goto(path.resolve().as_uri())
    p.page.wait_for_function(FIND_MAP)
    p.page.wait_for_timeout(300)  # chunked marker clustering, images
    return p


def _clip_count(gdf: gpd.GeoDataFrame | None, area: Any) -> int:
    if gdf is None:
        return 0
    return int(gdf.to_crs(2154).intersects(area).sum())


def _expected(t: Any, name: str) -> dict[str, int]:
    """Features per layer key, counted from the territory (independently of the map code)."""
    n_bands = len(t.settings.service_area_m)
    full = {
        "communes": len(t.communes),
        "quartiers": len(t.quartiers),
        "service_areas_water_play_area": n_bands,
        "green_spaces": len(t.green_spaces),
        "residences": len(t.residences),
        "desealed_areas": len(t.desealed_areas),
        "renewal_sites": len(t.renewal_sites),
        "tree_plantings": len(t.tree_plantings),
        "facilities": len(t.facilities),
    }
    latest = sorted(r for r in t.rasters if r.startswith("impervious"))[-1:]
    full.update({f"raster_{r}": 1 for r in latest})
    if name == "overview":
        return full
    if name.startswith("quartier_"):
        code = next(c for c, s in quartier_slugs(t.quartiers).items() if f"quartier_{s}" == name)
        geom = t.quartiers.geometry[t.quartiers["code"] == code].iloc[0]
        area = gpd.GeoSeries([geom], crs=t.quartiers.crs).to_crs(2154).iloc[0]
        area = area.buffer(300)
        out = dict(full)
        for kind in (
            "green_spaces",
            "residences",
            "desealed_areas",
            "renewal_sites",
            "tree_plantings",
            "facilities",
        ):
            out[kind] = _clip_count(getattr(t, kind), area)
        return {k: v for k, v in out.items() if v}
    if name.startswith("accessibility_"):
        kind = name.removeprefix("accessibility_")
        n_kind = int((t.facilities["kind"] == kind).sum())
        return {
            "communes": len(t.communes),
            "quartiers": len(t.quartiers),
            f"service_areas_{kind}": n_bands,
            "residences": len(t.residences),
            f"facilities_{kind}": n_kind,
            "facilities": len(t.facilities) - n_kind,
        }
    if name == "renaturation":
        out = {
            k: full[k]
            for k in ("communes", "quartiers", "green_spaces", "desealed_areas", "tree_plantings")
        }
        for r in t.rasters:
            if r.startswith(("impervious", "canopy")):  # (the heat raster: on the heat map)
                out[f"raster_{r}"] = 1
        out["raster_change"] = 1
        return out
    if name == "renewal":
        return {k: full[k] for k in ("communes", "quartiers", "residences", "renewal_sites")}
    if name == "services":
        # one layer of homes per kind with a capacity, and per kind with opening hours; the
        # homes again for the catchments; the demo's centres (commercial centres, supermarkets)
        f = t.facilities
        out = {
            "communes": len(t.communes),
            "quartiers": len(t.quartiers),
            "catchments": len(t.residences),
            "centres": int(f["kind"].isin(["commercial_centre", "supermarket"]).sum()),
            "facilities": len(f),
        }
        for prefix, column in (("access", "capacity"), ("hours", "opening_hours")):
            for kind in set(f.loc[f[column].notna(), "kind"]):
                out[f"{prefix}_{kind}"] = len(t.residences)
        return out
    if name == "indicators":
        # Alpha and Beta have a median income; only Alpha a poverty rate (Beta is secret): a
        # choropleth still draws both quartiers, Beta as "n.d.".
        return {
            "communes": 1,
            "quartiers": 2,
            "indicator_median_income": 2,
            "indicator_poverty_rate": 2,
        }
    raise AssertionError(name)


@functools.cache
def _fixture_maps(tmp: str, asset_dir: str) -> tuple[Any, dict[str, Path]]:
    t = make_territory(Path(tmp))
    files = build_committee_maps(
        t, Path(tmp) / "maps", tiles=None, assets="inline", asset_dir=asset_dir
    )
    return t, files


@pytest.fixture(scope="module")
def fixture_maps(tmp_path_factory: Any, asset_dir: Path) -> tuple[Any, dict[str, Path]]:
    return _fixture_maps(str(tmp_path_factory.mktemp("fixture")), str(asset_dir))


# One accessibility map per facility kind of the fixture, in the order of FACILITY_KINDS; the
# fixture has no heat data, hence no heat map.
FIXTURE_KINDS = ["water_play_area", "health_centre", "ccas", "school", "shop"]
FIXTURE_NAMES = [
    "overview",
    "quartier_alpha",
    f"quartier_{quartier_slug(EVIL)}",
    *(f"accessibility_{k}" for k in FIXTURE_KINDS),
    "renaturation",
    "renewal",
    "indicators",
]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_map_loads_and_draws_every_feature(
    name: str, fixture_maps: Any, new_page: Any, screenshot_dir: Path
) -> None:
    t, files = fixture_maps
    assert list(files) == FIXTURE_NAMES
    p = _open(new_page, files[name])
    page = p.page
    assert page.evaluate(f"() => !!({FIND_MAP})()")
    expected = _expected(t, name)
    registered = set(page.evaluate("() => Object.keys(window.cdvGeo.layers)"))
    assert registered == set(expected)
    for key, n in expected.items():
        assert page.evaluate(COUNT, key) == n, key
        if page.evaluate(ON_MAP, key):  # layers shown when the map opens
            assert page.evaluate(DRAWN, key) == n, key
    page.screenshot(path=str(screenshot_dir / f"fixture_{name[:40]}.png"))
    assert p.errors == []
    assert p.outside == []  # inline assets and no basemap: not a single request out
    assert p.dialogs == []
    assert page.evaluate("() => window.__pwned") is None


def test_toggling_a_layer_hides_it_and_its_legend(fixture_maps: Any, new_page: Any) -> None:
    t, files = fixture_maps
    p = _open(new_page, files["overview"])
    page = p.page
    paths_before = page.locator(".leaflet-overlay-pane path").count()
    label = page.locator(
        ".leaflet-control-layers-overlays label", has_text="Surfaces désimperméabilisées"
    )
    legend = page.locator(".cdv-legend h5", has_text="Surfaces désimperméabilisées")
    assert legend.is_visible()
    assert page.evaluate(ON_MAP, "desealed_areas")
    label.locator("input").click()
    assert not page.evaluate(ON_MAP, "desealed_areas")
    assert page.evaluate(DRAWN, "desealed_areas") == 0
    assert page.locator(".leaflet-overlay-pane path").count() == paths_before - len(
        t.desealed_areas
    )
    assert not legend.is_visible()
    label.locator("input").click()
    assert page.evaluate(DRAWN, "desealed_areas") == len(t.desealed_areas)
    assert legend.is_visible()
    assert p.errors == []


def test_hostile_names_show_as_text_and_run_nothing(
    fixture_maps: Any, new_page: Any, screenshot_dir: Path
) -> None:
    _t, files = fixture_maps
    p = _open(new_page, files["overview"])
    page = p.page
    # The permanent label of quartier B is the hostile name, shown as plain text.
    labels = page.locator(".leaflet-tooltip.cdv-label")
    texts = [labels.nth(i).text_content() for i in range(labels.count())]
    assert EVIL in texts
    # Hover the health centre (hostile name): its tooltip shows the name as text.
    box = page.evaluate(
        "() => { const m = window.cdvGeo.layers.facilities[0].getLayers()[1];"
        " const r = m._icon.getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; }"
    )
    page.mouse.move(*box)
    tip = page.locator(".leaflet-tooltip:not(.cdv-label)")
    tip.wait_for(state="visible")
    assert EVIL in tip.text_content()
    assert tip.locator("img, script").count() == 0
    page.screenshot(path=str(screenshot_dir / "fixture_hostile_tooltip.png"))
    # Its popup too.
    page.mouse.click(*box)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible")
    assert EVIL in popup.text_content()
    assert popup.locator("img, script").count() == 0
    # The layer control and the title of the quartier map carry the name as text as well.
    p2 = _open(new_page, files[f"quartier_{quartier_slug(EVIL)}"])
    assert EVIL in p2.page.locator(".cdv-title").text_content()
    assert p2.page.locator(".cdv-title img, .cdv-panel img, .cdv-legend img").count() == 0
    for q in (p, p2):
        assert q.dialogs == []
        assert q.page.evaluate("() => window.__pwned") is None
        assert q.errors == []


def test_english_labels(tmp_path: Path, asset_dir: Path, new_page: Any) -> None:
    t = make_territory(tmp_path, evil=False)
    files = build_committee_maps(
        t, tmp_path / "en", lang="en", tiles=None, assets="inline", asset_dir=asset_dir
    )
    p = _open(new_page, files["overview"])
    page = p.page
    assert page.locator(".cdv-legend summary").text_content() == "Legend"
    assert page.locator(".cdv-panel summary").text_content() == "Key figures"
    overlays = page.locator(".leaflet-control-layers-overlays").text_content()
    assert "Facilities and services" in overlays
    assert "Équipements" not in overlays
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert p.errors == []


#: The kinds of the demo's accessibility maps in these tests (`services=`; every kind present
#: by default, 14 for the demo).
DEMO_SERVICES = ("water_play_area", "health_centre")


@functools.cache
def _demo_maps(tmp: str) -> tuple[Any, dict[str, Path]]:
    t = cg.datasets.soissons()
    return t, build_committee_maps(t, Path(tmp), assets="cdn", services=DEMO_SERVICES)


@pytest.fixture(scope="module")
def demo_maps(tmp_path_factory: Any) -> tuple[Any, dict[str, Path]]:
    return _demo_maps(str(tmp_path_factory.mktemp("demo")))


DEMO_NAMES = [
    "overview",
    "quartier_saint-crepin-ouest",
    "quartier_presles",
    "quartier_chevreux",
    "accessibility_water_play_area",
    "accessibility_health_centre",
    "renaturation",
    "renewal",
    "indicators",
    "heat",
    "services",
]


@pytest.mark.parametrize("name", DEMO_NAMES)
def test_demo_map_with_cdn_assets_and_basemap(
    name: str, demo_maps: Any, new_page: Any, screenshot_dir: Path
) -> None:
    """The demo maps as `cdv-geo demo` writes them: CDN links (served locally) and tiles."""
    t, files = demo_maps
    assert list(files) == DEMO_NAMES
    p = _open(new_page, files[name])
    page = p.page
    if name not in ("indicators", "heat"):
        expected = _expected(t, name)
        assert expected
        for key, n in expected.items():
            assert page.evaluate(COUNT, key) == n, key
    assert page.locator(".leaflet-tile-pane img").count() > 0  # the basemap is there
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-minimap").count() == 1
    assert page.locator(".leaflet-control-measure").count() == 1
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    assert "illustratives" in page.locator(".leaflet-control-attribution").text_content()
    page.screenshot(path=str(screenshot_dir / f"demo_{name}.png"))
    assert p.errors == []
    assert p.outside == []


def test_large_residence_layer_draws_on_canvas(
    tmp_path: Path, asset_dir: Path, new_page: Any, screenshot_dir: Path
) -> None:
    """3,000 homes: one canvas, every home drawn, and the shared tooltip still works."""
    import folium
    import numpy as np
    import pandas as pd
    from shapely import box

    from cdv_geo.maps import residences_layer, save_map
    from tests.browser.fixture_territory import X0, Y0

    n = 3000
    rng = np.random.default_rng(2)
    x, y = X0 + rng.random(n) * 2000, Y0 + rng.random(n) * 2000
    ids = [f"r{i}" for i in range(n)]
    homes = gpd.GeoDataFrame(
        {"id": ids, "dwellings": [7] * n},
        geometry=[box(a, b, a + 15, b + 15) for a, b in zip(x, y, strict=True)],
        crs=2154,
    )
    near = pd.DataFrame({"water_play_area_time_min": [4.0] * n}, index=pd.Index(ids, name="id"))
    from cdv_geo.maps.assets import ASSETS

    m = folium.Map(tiles=None)
    m.default_js = [("leaflet", ASSETS["leaflet"].url)]  # Leaflet only, as the maps do
    m.default_css = [("leaflet_css", ASSETS["leaflet_css"].url)]
    residences_layer(homes, nearest=near).add_to(m)
    bounds = homes.to_crs(4326).total_bounds
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    path = save_map(m, tmp_path / "homes.html", assets="inline", asset_dir=asset_dir)
    p = _open(new_page, path)
    page = p.page
    assert page.evaluate(COUNT, "residences") == n
    assert page.evaluate(DRAWN, "residences") == n
    assert page.locator(".leaflet-overlay-pane canvas").count() == 1
    assert page.locator(".leaflet-overlay-pane path").count() == 0
    # hover the first home: the layer's one tooltip shows that home's text
    point = page.evaluate(
        "() => { const l = window.cdvGeo.layers.residences[0].getLayers()[0];"
        " const map = l._map; const c = map.latLngToContainerPoint(l.getBounds().getCenter());"
        " const r = map.getContainer().getBoundingClientRect();"
        " return [r.x + c.x, r.y + c.y]; }"
    )
    page.mouse.move(*point)
    tip = page.locator(".leaflet-tooltip")
    tip.wait_for(state="visible")
    assert "Logements : 7" in tip.text_content() and "4,0 min" in tip.text_content()
    page.screenshot(path=str(screenshot_dir / "canvas_residences.png"))
    assert p.errors == []


# Every quartier's outline (on a quartier map: the quartier's own) against every control.
HIDDEN = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const box = map.getContainer().getBoundingClientRect();
  const inside = r => r.left >= box.left && r.right <= box.right
    && r.top >= box.top && r.bottom <= box.bottom;
  const controls = Array.from(map.getContainer().querySelectorAll('.leaflet-control'))
    .map(e => e.getBoundingClientRect()).filter(r => r.width && r.height);
  const overlap = (a, b) => !(a.right <= b.left || b.right <= a.left
    || a.bottom <= b.top || b.bottom <= a.top);
  return (window.cdvGeo.layers.quartiers || []).flatMap(l => l.getLayers())
    .filter(f => f.feature.properties.s === 0)
    .map(f => f._path.getBoundingClientRect())
    .map(r => !inside(r) || controls.some(c => overlap(r, c)));
}"""


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)], ids=["1366x768", "1920x1080"])
@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_controls_never_hide_the_quartiers_on_a_small_screen(
    name: str,
    size: tuple[int, int],
    fixture_maps: Any,
    browser: Any,
    asset_dir: Path,
    screenshot_dir: Path,
) -> None:
    """DESIGN: legends and panels never hide the quartiers on a 1366x768 (or 1920x1080) screen.

    See also tests/browser/test_screen_layout.py (the demo maps, folded panels, print).
    """
    _t, files = fixture_maps
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    try:
        page.goto(files[name].resolve().as_uri())
        page.wait_for_function(FIND_MAP)
        page.wait_for_timeout(300)
        hidden = page.evaluate(HIDDEN)
        assert hidden and not any(hidden), hidden
        page.screenshot(path=str(screenshot_dir / f"small_{name[:40]}_{size[0]}.png"))
    finally:
        page.close()


# --- the services map's grouped layer control -------------------------------------------------

#: For each registered layer key: whether an input of the grouped control switches a feature
#: group that holds it (the page's feature groups are globals of its script).
REACHABLE = """() => {
  const groups = Object.values(window).filter(v => v instanceof L.FeatureGroup);
  const ids = Array.from(document.querySelectorAll('.cdv-groups input')).map(i => i.layerId);
  const out = {};
  for (const [key, layers] of Object.entries(window.cdvGeo.layers)) {
    out[key] = layers.every(l => groups.some(g => ids.includes(L.stamp(g)) && g.hasLayer(l)));
  }
  return out;
}"""

#: The entries of a group of the grouped control, and whether each is checked.
ENTRIES = """(heading) => {
  const div = Array.from(document.querySelectorAll('.cdv-groups .leaflet-control-layers-group'))
    .find(d => d.querySelector('.leaflet-control-layers-group-name').textContent === heading);
  return Array.from(div.querySelectorAll('label:not(.leaflet-control-layers-group-label)'))
    .map(l => [l.textContent.trim(), l.querySelector('input').checked,
               l.getBoundingClientRect().height > 0]);
}"""

#: The headings of the legend's sections shown (a section hides with its layer).
LEGENDS = """() => Array.from(document.querySelectorAll('.cdv-legend div[id]'))
  .filter(d => d.style.display !== 'none').map(d => d.querySelector('h5').textContent)"""

CAPACITY = "Capacité à portée de marche"
HOURS = "Heures d'ouverture à portée"


def _entry(page: Any, heading: str, name: str) -> Any:
    group = page.locator(".cdv-groups .leaflet-control-layers-group").filter(
        has=page.locator(".leaflet-control-layers-group-name", has_text=heading)
    )
    return group.locator("label").filter(has_text=name).first


def _kind_label(kind: str) -> str:
    from cdv_geo.core.labels_kinds import FACILITY_LABELS

    return FACILITY_LABELS[kind][0] if kind in FACILITY_LABELS else kind


def test_demo_services_control_groups_one_kind_at_a_time(
    demo_maps: Any, new_page: Any, screenshot_dir: Path
) -> None:
    t, files = demo_maps
    p = _open(new_page, files["services"])
    page = p.page
    n_homes = len(t.residences)
    f = t.facilities
    with_capacity = sorted(set(f.loc[f["capacity"].notna(), "kind"]))
    with_hours = sorted(set(f.loc[f["opening_hours"].notna(), "kind"]))
    names = page.locator(".cdv-groups .leaflet-control-layers-group-name").all_text_contents()
    assert names == [CAPACITY, HOURS, "Commerces", "Territoire et équipements"]
    capacity = page.evaluate(ENTRIES, CAPACITY)
    assert sorted(e[0] for e in capacity[:-1]) == sorted(_kind_label(k) for k in with_capacity)
    assert capacity[-1][0] == "Ne rien afficher"
    # one kind's capacity on when the map opens: its homes drawn, no other layer of homes
    on = [e[0] for e in capacity if e[1]]
    assert len(on) == 1
    first = next(k for k in with_capacity if _kind_label(k) == on[0])
    homes_layers = [f"access_{k}" for k in with_capacity] + [f"hours_{k}" for k in with_hours]
    drawn = {key: page.evaluate(DRAWN, key) for key in [*homes_layers, "catchments"]}
    assert drawn == {key: n_homes if key == f"access_{first}" else 0 for key in drawn}
    # the hours group (9 kinds and "none": long, nothing on) starts folded
    hours = page.evaluate(ENTRIES, HOURS)
    assert len(hours) == len(with_hours) + 1 and not any(visible for *_, visible in hours)
    assert [e[0] for e in hours if e[1]] == ["Ne rien afficher"]
    # choosing another kind shows it and hides the first, with their legends
    second = next(k for k in with_capacity if k != first)
    _entry(page, CAPACITY, _kind_label(second)).locator("input").click()
    assert page.evaluate(DRAWN, f"access_{second}") == n_homes
    assert page.evaluate(DRAWN, f"access_{first}") == 0
    legends = page.evaluate(LEGENDS)
    assert [x for x in legends if x.startswith(CAPACITY)] == [f"{CAPACITY} : {_kind_label(second)}"]
    # unfold the hours, choose a kind: the capacity layers go ("none" is checked there)
    page.locator(".cdv-groups .leaflet-control-layers-group-name", has_text=HOURS).click()
    hours = page.evaluate(ENTRIES, HOURS)
    assert all(visible for *_, visible in hours)
    kind = with_hours[0]
    _entry(page, HOURS, _kind_label(kind)).locator("input").click()
    drawn = {key: page.evaluate(DRAWN, key) for key in homes_layers}
    assert drawn == {key: n_homes if key == f"hours_{kind}" else 0 for key in homes_layers}
    assert [e[0] for e in page.evaluate(ENTRIES, CAPACITY) if e[1]] == ["Ne rien afficher"]
    # "show none" in the hours: no layer of homes left
    _entry(page, HOURS, "Ne rien afficher").locator("input").click()
    assert all(page.evaluate(DRAWN, key) == 0 for key in homes_layers)
    # nothing lost: every layer of the map is switched by an input of the control
    reachable = page.evaluate(REACHABLE)
    assert set(reachable) == set(_expected(t, "services")) and all(reachable.values())
    page.screenshot(path=str(screenshot_dir / "demo_services_grouped.png"))
    assert p.errors == [] and p.outside == []


def test_services_of_twelve_kinds_fit_the_screen_and_a_hostile_kind_is_text(
    tmp_path: Path, asset_dir: Path, browser: Any, screenshot_dir: Path
) -> None:
    """12 kinds of service: the control scrolls inside the screen, the hours start folded."""
    from cdv_geo.maps import save_map, services_map
    from cdv_geo.pipeline import Metrics

    hostile = "<script>alert(1)</script>&\"'"
    t = make_territory(tmp_path)
    homes = t.residences.copy()
    kinds = ["doctor", "pharmacy", "post_office", "library", "childcare", "town_hall",
             "school", "health_centre", "ccas", "police", "sports", hostile]  # fmt: skip
    for i, k in enumerate(kinds):
        homes[f"{k}_access_per_10k"] = float(i)
        homes[f"{k}_open_hours_week"] = 5.0 * i
    m = services_map(t, metrics=Metrics(residences_services=homes), tiles=None)
    path = save_map(m, tmp_path / "services.html", assets="inline", asset_dir=asset_dir)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(path.resolve().as_uri())
        page.wait_for_function(FIND_MAP)
        page.wait_for_timeout(300)
        box = page.locator(".cdv-groups").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 768
        # the list scrolls inside its box; its last entry is reached by scrolling
        listing = page.locator(".cdv-groups .leaflet-control-layers-list")
        assert listing.evaluate("e => e.scrollHeight > e.clientHeight")
        listing.evaluate("e => { e.scrollTop = e.scrollHeight; }")
        last = page.locator(".cdv-groups label").last
        inner, outer = last.bounding_box(), listing.bounding_box()
        assert inner is not None and outer is not None
        assert last.text_content().strip() == "Équipements et services"
        assert (
            outer["y"] <= inner["y"]
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
        )
        capacity = page.evaluate(ENTRIES, "Capacité à portée de marche")
        assert [e[0] for e in capacity] == [*(_kind_label(k) for k in kinds), "Ne rien afficher"]
        assert not any(v for *_, v in page.evaluate(ENTRIES, HOURS))
        assert page.locator(".cdv-groups script, .cdv-groups img").count() == 0
        page.screenshot(path=str(screenshot_dir / "fixture_services_12_kinds.png"))
        assert dialogs == [] and page.evaluate("() => window.__pwned") is None
    finally:
        page.close()
