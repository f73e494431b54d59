"""Tests of cdv_geo.maps: layer builders, compositions and what the HTML carries.

No browser here (see tests/browser/): these tests read the generated HTML and the data each
layer embeds. Expected numbers are computed by hand from the fixture (tests/browser/
fixture_territory.py) or with pyproj.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pyproj import Transformer
from shapely import box
from shapely.geometry import shape

import cdv_geo as cg
from cdv_geo import maps
from cdv_geo.core.errors import CdvGeoError, CRSError, RasterError
from cdv_geo.maps import layers as lyr
from cdv_geo.maps.committee import COMMITTEE_OUTPUTS
from cdv_geo.maps.html import escape_text, js_json, render_html
from cdv_geo.pipeline import Metrics, Note
from tests.browser.fixture_territory import EVIL, X0, Y0, make_territory, write_raster

CALL = re.compile(r'cdvGeo\.(geojson|points|image)\((\w+), "([^"]+)", (.*)\);$', re.M)


PARSED = re.compile(r'JSON\.parse\(("(?:[^"\\]|\\.)*")\)')


def calls(text: str) -> dict[str, tuple[str, Any]]:
    """The data of every layer in a map's HTML, by layer key (``JSON.parse("...")`` undone)."""
    out = {}
    for fn, _group, key, args in CALL.findall(text):
        literal = PARSED.sub(lambda m: json.loads(m.group(1)), args)
        out[key] = (fn, json.loads(f"[{literal}]"))
    return out


def features(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The features of a GeoJSON layer's data: its geometries with their style/text indices."""
    n = len(spec["geoms"])
    cols = {k: spec.get(k, [d] * n) for k, d in (("s", 0), ("t", -1), ("p", -1))}
    return [
        {"geometry": g, "properties": {k: v[i] for k, v in cols.items()}}
        for i, g in enumerate(spec["geoms"])
    ]


@pytest.fixture(scope="module")
def territory(tmp_path_factory: Any) -> cg.Territory:
    return make_territory(tmp_path_factory.mktemp("t"))


@pytest.fixture(scope="module")
def metrics(territory: cg.Territory) -> Metrics:
    return cg.compute_metrics(territory, only=COMMITTEE_OUTPUTS, breakdown=False)


@pytest.fixture(scope="module")
def overview_html(territory: cg.Territory, metrics: Metrics) -> str:
    return render_html(maps.overview_map(territory, metrics=metrics, tiles=None))


# --- safety ---------------------------------------------------------------------------------


def test_hostile_strings_never_reach_the_html_raw(overview_html: str) -> None:
    for raw in ("<script>alert(1)</script>", "${alert(1)}", "<img src=x", "`x`", 'onerror="window'):
        assert raw not in overview_html
    # ... but the name is there, escaped, inside the data of the quartier and facility layers
    data = calls(overview_html)
    assert escape_text(EVIL) in data["quartiers"][1][0]["texts"]
    assert any(escape_text(EVIL) in t for t in data["facilities"][1][0]["texts"])
    assert html.unescape(escape_text(EVIL)) == EVIL


def test_escape_text_leaves_no_active_character() -> None:
    for s in (EVIL, "a & b", "l'école", "\\u003c", "{{ x }}", "</script>", "100 $"):
        out = escape_text(s)
        assert not set("<>\"'`$\\{") & set(out), out
        assert html.unescape(out) == s
    assert escape_text(float("nan")) == "" and escape_text(pd.NA) == ""
    assert escape_text(12.0) == "12"


def test_js_json_cannot_close_the_script_element() -> None:
    value = {"a": "</script><script>alert(1)</script>", "b": "&amp;", "c": "\u2028"}
    text = js_json(value)
    assert "</" not in text and "<" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == value
    assert js_json([1.5, float("nan"), float("inf")]) == "[1.5,null,null]"


# --- geometry written -------------------------------------------------------------------------


def _coords(obj: Any) -> list[float]:
    if isinstance(obj, float | int) and not isinstance(obj, bool):
        return [float(obj)]
    if isinstance(obj, list):
        return [c for x in obj for c in _coords(x)]
    return []


def test_coordinates_have_at_most_six_decimals_and_are_right(overview_html: str) -> None:
    data = calls(overview_html)
    for key in ("quartiers", "residences", "renewal_sites", "green_spaces", "desealed_areas"):
        feats = features(data[key][1][0])
        for f in feats:
            for c in _coords(f["geometry"]["coordinates"]):
                assert round(c, 6) == c, (key, c)
    for key in ("facilities", "tree_plantings"):
        spec = data[key][1][0]
        for c in spec["x"] + spec["y"]:
            assert round(c, 6) == c
    # Quartier A is the box [X0, X0+400] x [Y0, Y0+400]: its corners, by pyproj.
    tr = Transformer.from_crs(2154, 4326, always_xy=True)
    corners = {
        tuple(np.round(tr.transform(x, y), 6)) for x in (X0, X0 + 400) for y in (Y0, Y0 + 400)
    }
    ring = features(data["quartiers"][1][0])[0]["geometry"]["coordinates"][0]
    assert {tuple(p) for p in ring} == corners
    # The health centre (second facility) at (X0 + 800, Y0 + 200)
    spec = data["facilities"][1][0]
    lon, lat = tr.transform(X0 + 800, Y0 + 200)
    assert spec["x"][1] == round(lon, 6) and spec["y"][1] == round(lat, 6)


def test_polygons_are_simplified_invisibly() -> None:
    # A 400 m square with 2,000 extra vertices on a straight edge: simplified away.
    from shapely import LineString, Polygon

    edge = LineString([(X0, Y0), (X0 + 400, Y0)]).segmentize(0.2)
    ring = [*edge.coords, (X0 + 400, Y0 + 400), (X0, Y0 + 400)]
    q = gpd.GeoDataFrame({"code": ["Q"], "name": ["Q"]}, geometry=[Polygon(ring)], crs=2154)
    spec = calls(_render_layer(lyr.quartiers_layer(q, simplify_m=0.5)))["quartiers"][1][0]
    out = features(spec)[0]["geometry"]["coordinates"][0]
    assert len(ring) > 2000 and len(out) == 5  # 4 corners + closing point


def _render_layer(layer: lyr.MapLayer) -> str:
    import folium

    m = folium.Map(tiles=None)
    layer.add_to(m)
    return m.get_root().render()


# --- layers -----------------------------------------------------------------------------------


def test_each_builder_draws_every_feature(territory: cg.Territory) -> None:
    t = territory
    cases = [
        (lyr.quartiers_layer, t.quartiers),
        (lyr.communes_layer, t.communes),
        (lyr.facilities_layer, t.facilities),
        (lyr.renewal_layer, t.renewal_sites),
        (lyr.desealed_layer, t.desealed_areas),
        (lyr.trees_layer, t.tree_plantings),
        (lyr.green_spaces_layer, t.green_spaces),
        (lyr.residences_layer, t.residences),
    ]
    for build, gdf in cases:
        layer = build(gdf)
        data = calls(_render_layer(layer))[layer.key][1][0]
        n = len(features(data)) if "geoms" in data else len(data["x"])
        assert layer.n_features == n == len(gdf), build.__name__


def test_facilities_one_legend_entry_per_kind_present(territory: cg.Territory) -> None:
    layer = lyr.facilities_layer(territory.facilities)
    text = "".join(layer.legend)
    assert len(layer.legend) == 5  # water play, health centre, school, CCAS, shop
    for label in (
        "Aire de jeux d&#x27;eau",
        "Maison de santé",
        "École",
        "CCAS",
        "Commerce de proximité",
    ):
        assert label in text
    with pytest.raises(CdvGeoError, match="no facility of kind police; kinds present: ccas"):
        lyr.facilities_layer(territory.facilities, kinds=["police"])


def test_residences_coloured_by_walking_time_class() -> None:
    res = gpd.GeoDataFrame(
        {"id": list("abcde"), "dwellings": [1] * 5},
        geometry=[box(X0 + 30 * i, Y0, X0 + 30 * i + 10, Y0 + 10) for i in range(5)],
        crs=2154,
    )
    near = pd.DataFrame(
        {"water_play_area_time_min": [2.0, 7.0, 12.0, 20.0, np.nan]}, index=list("abcde")
    )
    layer = lyr.residences_layer(res, nearest=near, bins=(5, 10, 15))
    feats = features(calls(_render_layer(layer))["residences"][1][0])
    # <5, 5-10, 10-15, >=15, unreachable
    assert [f["properties"]["s"] for f in feats] == [0, 1, 2, 3, 4]
    assert [t for t, _c in lyr.time_classes((5, 10, 15))] == [
        "moins de 5 min",
        "5–10 min",
        "10–15 min",
        "15 min et plus",
        "hors réseau / injoignable",
    ]
    with pytest.raises(CdvGeoError, match="nearest has no column 'school_time_min'"):
        lyr.residences_layer(res, nearest=near, service="school")


def test_choropleth_classes_and_legend() -> None:
    q = gpd.GeoDataFrame(
        {"code": ["A", "B", "C"], "name": ["A", "B", "C"]},
        geometry=[box(X0 + 100 * i, Y0, X0 + 100 * i + 90, Y0 + 90) for i in range(3)],
        crs=2154,
    )
    layer = lyr.choropleth_layer(
        q,
        {"A": 10.0, "B": 30.0},
        title="Taux de pauvreté",
        unit="%",
        year=2021,
        source="Insee, Filosofi",
        classes=4,
    )
    feats = features(calls(_render_layer(layer))["choropleth"][1][0])
    styles = [f["properties"]["s"] for f in feats]
    # Breaks 10, 15, 20, 25, 30: A in the first class, B in the last, C has no value.
    assert styles == [0, 3, 4]
    legend = "".join(layer.legend)
    for text in (
        "Unité : %",
        "Année : 2021",
        "Source : Insee, Filosofi",
        "10,0 – 15,0",
        "25,0 – 30,0",
        "n.d.",
    ):
        assert text in legend


def test_service_areas_labelled_straight_line_without_network(tmp_path: Path) -> None:
    t = make_territory(tmp_path, with_streets=False)
    text = render_html(maps.accessibility_map(t, tiles=None))
    data = calls(text)["service_areas_water_play_area"][1][0]
    assert len(features(data)) == 2
    assert "cercle de 300\u00a0m à vol d&#x27;oiseau" in text.replace("\\u0026", "&")
    # with the network, the bands are labelled as walks on the street network
    net_text = render_html(maps.accessibility_map(make_territory(tmp_path), tiles=None))
    assert "300\u00a0m à pied (réseau piéton)" in net_text


def test_trees_cluster_canvas_or_heat() -> None:
    def trees(n: int) -> gpd.GeoDataFrame:
        rng = np.random.default_rng(0)
        return gpd.GeoDataFrame(
            {"trees": [1] * n, "species": ["Acer"] * n},
            geometry=gpd.points_from_xy(X0 + rng.random(n) * 900, Y0 + rng.random(n) * 900),
            crs=2154,
        )

    few = _render_layer(lyr.trees_layer(trees(300)))
    assert "leaflet.markercluster.js" in few
    assert calls(few)["tree_plantings"][1][0]["cluster"] is True
    many = _render_layer(lyr.trees_layer(trees(6000)))
    spec = calls(many)["tree_plantings"][1][0]
    assert spec["mode"] == "circle" and spec["cluster"] is False
    assert "markercluster" not in many
    assert len(spec["texts"]) == 1  # one shared tooltip for 6,000 identical plantings
    heat = _render_layer(lyr.trees_layer(trees(50), mode="heat"))
    assert "leaflet-heat.js" in heat
    with pytest.raises(CdvGeoError, match="mode='bubbles' is not valid"):
        lyr.trees_layer(trees(5), mode="bubbles")  # type: ignore[arg-type]


def test_renewal_status_styles(territory: cg.Territory) -> None:
    layer = lyr.renewal_layer(territory.renewal_sites)
    spec = calls(_render_layer(layer))["renewal_sites"][1][0]
    styles = [spec["styles"][f["properties"]["s"]] for f in features(spec)]
    # done: solid fill; in progress: hatched (SVG pattern class); planned: dimmed, dashed
    assert styles[0]["fillOpacity"] == 0.6 and "className" not in styles[0]
    assert styles[1]["className"] == "cdv-hatch-reconstruction"
    assert styles[2]["fillOpacity"] < 0.2 and styles[2]["dashArray"]
    popup = spec["texts"][features(spec)[0]["properties"]["p"]]
    assert "Démolition" in popup and "80" in popup and "locatif social" in popup


def test_raster_overlay_bounds_and_nodata(tmp_path: Path) -> None:
    values = np.full((4, 6), 40)
    values[0, 0] = 255
    path = write_raster(tmp_path / "r.tif", values)
    layer = lyr.raster_layer(path, year=2024)
    _fn, (url, bounds, opacity) = calls(_render_layer(layer))["raster_impervious_2024"]
    # Raster: 6 x 4 pixels of 10 m from (X0 - 50, Y0 + 450), top-left.
    tr = Transformer.from_crs(2154, 4326, always_xy=True)
    w, s = tr.transform(X0 - 50, Y0 + 410)
    e, n = tr.transform(X0 + 10, Y0 + 450)
    assert np.allclose(bounds, [[s, w], [n, e]], atol=2e-6)
    img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA")
    alpha = np.asarray(img)[..., 3]
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 255
    assert opacity == 0.7
    with (
        RasterWithoutCrs(tmp_path / "nocrs.tif") as bad,
        pytest.raises(RasterError, match="no coordinate reference system"),
    ):
        lyr.raster_layer(bad)


class RasterWithoutCrs:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Path:
        import rasterio

        with rasterio.open(
            self.path, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8"
        ) as dst:
            dst.write(np.zeros((2, 2), dtype="uint8"), 1)
        return self.path

    def __exit__(self, *exc: Any) -> None:
        self.path.unlink()


# --- compositions -----------------------------------------------------------------------------


def test_overview_has_every_layer_and_the_map_furniture(overview_html: str) -> None:
    data = calls(overview_html)
    assert set(data) == {
        "communes",
        "raster_impervious_2024",
        "quartiers",
        "service_areas_water_play_area",
        "green_spaces",
        "residences",
        "desealed_areas",
        "renewal_sites",
        "tree_plantings",
        "facilities",
    }
    for piece in (
        "L.control.scale",
        "L.control.fullscreen",
        "L.Control.Measure",
        "L.Control.MiniMap",
        "L.control.layers",
        "addAttribution",
        "données illustratives",
        "Légende",
        "Chiffres clés",
    ):
        assert piece in overview_html, piece
    assert '<html lang="fr">' in overview_html
    assert "jquery" not in overview_html.lower() and "bootstrap" not in overview_html


def test_popups_and_panel_show_the_key_figures(overview_html: str) -> None:
    # Fixture by hand: A holds the water play area and the school, B the health centre and the
    # shop (the CCAS is between them); 12 trees all in A; yards of 1000 m² (A) and 600 m² (B);
    # 80 dwellings demolished in A; residents 1 200 (A) and 800 (B).
    spec = calls(overview_html)["quartiers"][1][0]
    pops = [html.unescape(spec["texts"][f["properties"]["p"]]) for f in features(spec)]
    for text, facilities, trees, yard, people, demolished in (
        (pops[0], 2, 12, "1\u202f000\u00a0m²", "1\u202f200", 80),
        (pops[1], 2, 0, "600\u00a0m²", "800", 0),
    ):
        assert f"Équipements dans le quartier</th><td>{facilities}<" in text
        assert f"Arbres plantés</th><td>{trees}<" in text
        assert f"Surface désimperméabilisée</th><td>{yard}<" in text
        assert f"Habitants</th><td>{people}<" in text
        assert f"Logements démolis</th><td>{demolished}<" in text
    # impervious 2024: A covers 40x40 px, 100 of them de-sealed from 60 to 20 % -> 57.5 %
    assert "Surface imperméabilisée (2024)</th><td>57,5\u00a0%" in pops[0]
    assert "Surface imperméabilisée (2024)</th><td>60,0\u00a0%" in pops[1]
    # The panel: one column per quartier, the territory row left out
    panel = html.unescape(json.loads(re.findall(r"div.innerHTML = (.*);", overview_html)[1]))
    assert "Chiffres clés" in panel and "ensemble" not in panel and "Alpha" in panel


def test_english_switches_every_label(territory: cg.Territory, metrics: Metrics) -> None:
    text = render_html(maps.overview_map(territory, metrics=metrics, lang="en", tiles=None))
    for fr in (
        "Légende",
        "Chiffres clés",
        "Équipements",
        "Quartiers prioritaires",
        "Plein écran",
        "vol d'oiseau",
        "données illustratives",
        "moins de",
    ):
        assert fr not in text, fr
    for en in (
        "Legend",
        "Key figures",
        "Facilities and services",
        "Full screen",
        "illustrative data",
        "leaflet-measure.en.js",
    ):
        assert en in text, en
    with pytest.raises(CdvGeoError, match='use lang="fr" or lang="en"'):
        maps.overview_map(territory, metrics=metrics, lang="de")


def test_tiles_or_no_basemap(territory: cg.Territory, metrics: Metrics, overview_html: str) -> None:
    assert "{z}" not in overview_html  # no tile URL template at all, even for the mini-map
    assert "geopf" not in overview_html and "openstreetmap.org/{z}" not in overview_html
    assert "background: #f4f1ea" in overview_html
    # In France: Plan IGN; elsewhere (or when asked): OpenStreetMap
    with_tiles = render_html(maps.overview_map(territory, metrics=metrics))
    assert "data.geopf.fr/wmts" in with_tiles and "Plan IGN" in with_tiles
    osm = render_html(maps.overview_map(territory, metrics=metrics, tiles="OpenStreetMap"))
    assert "tile.openstreetmap.org" in osm


def test_map_builds_without_a_street_network(tmp_path: Path) -> None:
    # No streets: the service areas are straight-line discs, and labelled so.
    t = make_territory(tmp_path, with_streets=False)
    text = render_html(maps.overview_map(t, tiles=None))
    spec = calls(text)["service_areas_water_play_area"][1][0]
    discs = gpd.GeoSeries([shape(f["geometry"]) for f in features(spec)], crs=4326).to_crs(2154)
    # one water play area, 300 m and 600 m: discs of pi r^2 (polygonised, within 0.2 %)
    assert sorted(discs.area) == pytest.approx([np.pi * 300**2, np.pi * 600**2], rel=2e-3)
    assert "vol d&#x27;oiseau" in text.replace("\\u0026", "&")


def test_maps_raise_on_bad_data_instead_of_hiding_it(tmp_path: Path) -> None:
    t = make_territory(tmp_path)
    bad = tmp_path / "indicateurs.csv"
    bad.write_text("code;indicateur;annee;valeur\nQN09901M;revenu_median;2021;beaucoup\n")
    t.tables["indicators"] = bad
    # the indicators map reads the table, and so does the overview (the one population rule
    # takes the quartiers' populations from the INSEE table): both say what is wrong, and where
    for draw in (maps.indicators_map, maps.overview_map):
        with pytest.raises(CdvGeoError, match=r"indicateurs\.csv.*'beaucoup' is neither a number"):
            draw(t, tiles=None)
    with pytest.raises(CdvGeoError, match="service kind 'pool' is not a facility kind; use one"):
        maps.overview_map(t, tiles=None, service="pool")


def test_maps_compute_only_what_they_draw(tmp_path: Path, monkeypatch: Any) -> None:
    import cdv_geo.maps.builder as builder

    t = make_territory(tmp_path)
    asked: list[tuple[str, ...]] = []
    real = builder.compute_metrics

    def spy(territory: Any, *, only: Any, **kw: Any) -> Metrics:
        asked.append(tuple(only))
        return real(territory, only=only, **kw)

    monkeypatch.setattr(builder, "compute_metrics", spy)
    maps.renewal_map(t, tiles=None)
    maps.indicators_map(t, tiles=None)
    maps.accessibility_map(t, tiles=None)
    assert asked == [
        ("renewal_balance",),
        ("indicators",),
        ("nearest", "coverage", "service_areas", "capacity_access", "open_hours"),
    ]
    # given metrics are used as they are: nothing is computed, a missing table is not drawn
    given = Metrics(notes=[Note("missing_table", "renewal", "no table", {"name": "npnru"})])
    text = render_html(maps.renewal_map(t, metrics=given, tiles=None))
    assert len(asked) == 3
    assert "table « npnru » absente" in text and "Logements démolis" not in text


def test_report_maps_show_the_notes_of_compute_metrics(tmp_path: Path) -> None:
    t = make_territory(tmp_path)
    t.tables.clear()  # no indicators table
    m = cg.compute_metrics(t, only=["indicators"])
    text = render_html(maps.indicators_map(t, metrics=m, tiles=None))
    assert "table « indicators » absente" in text


def test_map_builds_with_missing_layers(tmp_path: Path) -> None:
    q = make_territory(tmp_path).quartiers
    t = cg.Territory("Petit", quartiers=q)
    text = render_html(maps.overview_map(t, tiles=None))
    assert set(calls(text)) == {"quartiers"}
    assert "couche « facilities » absente du territoire" in text
    for fn in (
        maps.renaturation_map,
        maps.renewal_map,
        maps.indicators_map,
        maps.accessibility_map,
    ):
        assert "quartiers" in calls(render_html(fn(t, tiles=None)))


def test_quartier_map_shows_its_surroundings(territory: cg.Territory, metrics: Metrics) -> None:
    text = render_html(maps.quartier_map(territory, "alpha", metrics=metrics, tiles=None))
    data = calls(text)
    # Within 300 m of A (x <= X0 + 700): water play area, school, CCAS, shop (X0 + 700).
    assert len(data["facilities"][1][0]["x"]) == 4
    assert "Quartier Alpha (Testville)" in text
    with pytest.raises(CdvGeoError, match=r"no quartier named 'Nord'; valid quartiers: Alpha"):
        maps.quartier_map(territory, "Nord", metrics=metrics)


def test_bad_territories() -> None:
    with pytest.raises(CdvGeoError, match="has no layer to map"):
        maps.overview_map(cg.Territory("Vide"))
    t = make_territory()
    t.facilities = t.facilities.set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="layer facilities has no coordinate reference system"):
        maps.overview_map(t)
    with pytest.raises(CdvGeoError, match="metrics must be a cdv_geo.pipeline.Metrics"):
        maps.overview_map(make_territory(), metrics=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(CdvGeoError, match="service='pool' is not a facility kind"):
        maps.accessibility_map(make_territory(), service="pool")


def test_indicators_map(territory: cg.Territory, metrics: Metrics) -> None:
    text = render_html(maps.indicators_map(territory, metrics=metrics, tiles=None))
    data = calls(text)
    assert {"indicator_median_income", "indicator_poverty_rate"} <= set(data)
    assert "commune : 19\u202f870 €" in text  # the reference line of the legend
    assert "Année : 2021" in text
    poverty = data["indicator_poverty_rate"][1][0]
    # Alpha 41.5 %, Beta secret: Alpha in a class, Beta drawn as "n.d."
    tips = [poverty["texts"][f["properties"]["t"]] for f in features(poverty)]
    assert "41,5 %" in tips[0] and "n.d." in tips[1]


def test_demo_overview_is_light() -> None:
    text = render_html(maps.overview_map(cg.datasets.soissons()))
    assert len(text.encode("utf-8")) < 2_000_000


def test_build_committee_maps(tmp_path: Path, territory: cg.Territory, metrics: Metrics) -> None:
    files = maps.build_committee_maps(territory, tmp_path / "out", metrics=metrics, tiles=None)
    assert list(files)[:2] == ["overview", "quartier_alpha"]
    # one accessibility map per kind the facilities have, in the order of FACILITY_KINDS
    from cdv_geo.schema import FACILITY_KINDS

    kinds = [k for k in FACILITY_KINDS if k in set(territory.facilities["kind"])]
    assert kinds[0] == "water_play_area" and len(kinds) > 1
    access = [f"accessibility_{k}" for k in kinds]
    assert list(files)[3:] == [*access, "renaturation", "renewal", "indicators"]
    assert all(p.exists() and p.stat().st_size > 1000 for p in files.values())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in files.values()
    )  # no temporary file left


# --- large layers -----------------------------------------------------------------------------


def test_layer_builders_never_iterate_rows(territory: cg.Territory, monkeypatch: Any) -> None:
    def forbidden(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("row-by-row pandas iteration in a layer builder")

    monkeypatch.setattr(pd.DataFrame, "iterrows", forbidden)
    monkeypatch.setattr(pd.DataFrame, "itertuples", forbidden)
    monkeypatch.setattr(pd.DataFrame, "apply", forbidden)
    t = territory
    for build, gdf in (
        (lyr.quartiers_layer, t.quartiers),
        (lyr.communes_layer, t.communes),
        (lyr.facilities_layer, t.facilities),
        (lyr.renewal_layer, t.renewal_sites),
        (lyr.desealed_layer, t.desealed_areas),
        (lyr.trees_layer, t.tree_plantings),
        (lyr.green_spaces_layer, t.green_spaces),
        (lyr.residences_layer, t.residences),
    ):
        assert build(gdf).n_features == len(gdf)


def _homes(n: int) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    rng = np.random.default_rng(1)
    x, y = X0 + rng.random(n) * 3000, Y0 + rng.random(n) * 3000
    ids = [f"r{i}" for i in range(n)]
    homes = gpd.GeoDataFrame(
        {"id": ids, "dwellings": rng.integers(1, 50, n), "population": rng.integers(1, 90, n)},
        geometry=[box(a, b, a + 12, b + 12) for a, b in zip(x, y, strict=True)],
        crs=2154,
    )
    near = pd.DataFrame(
        {"water_play_area_time_min": rng.gamma(2.0, 4.0, n)}, index=pd.Index(ids, name="id")
    )
    return homes, near


def test_large_polygon_layers_switch_to_canvas() -> None:
    from cdv_geo.maps.features import CANVAS_MIN_FEATURES

    few, near_few = _homes(CANVAS_MIN_FEATURES - 1)
    many, near_many = _homes(CANVAS_MIN_FEATURES)
    spec = calls(_render_layer(lyr.residences_layer(few, nearest=near_few)))["residences"][1][0]
    assert "canvas" not in spec
    spec = calls(_render_layer(lyr.residences_layer(many, nearest=near_many)))["residences"][1][0]
    assert spec["canvas"] is True and len(features(spec)) == CANVAS_MIN_FEATURES
    # overridable both ways
    svg = lyr.residences_layer(many, nearest=near_many, render="svg")
    assert "canvas" not in calls(_render_layer(svg))["residences"][1][0]
    canvas = lyr.residences_layer(few, nearest=near_few, render="canvas")
    assert calls(_render_layer(canvas))["residences"][1][0]["canvas"] is True
    with pytest.raises(CdvGeoError, match="render='webgl' is not valid"):
        lyr.residences_layer(few, render="webgl")  # type: ignore[arg-type]


def test_residences_of_a_large_town_are_all_drawn() -> None:
    # What is drawn, not how fast (a shared test machine's clock says nothing about the map):
    # every one of 26,000 homes (more than POINT_MIN_HOMES) is one canvas circle of the data.
    homes, near = _homes(26_000)
    layer = lyr.residences_layer(homes, nearest=near)
    assert layer.n_features == 26_000
    fn, (spec,) = calls(_render_layer(layer))["residences"]
    assert fn == "points" and spec["mode"] == "circle"
    assert len(spec["x"]) == len(spec["y"]) == 26_000


def test_raster_uses_its_own_nodata(tmp_path: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    # nodata = 0 here: 0 is transparent, and 255 is an ordinary (clipped) value, not nodata
    values = np.full((4, 6), 50, dtype="uint8")
    values[0, 0] = 0
    values[-1, -1] = 255
    path = tmp_path / "nodata0.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=6,
        height=4,
        count=1,
        dtype="uint8",
        crs="EPSG:2154",
        nodata=0,
        transform=from_origin(X0, Y0 + 40, 10, 10),
    ) as dst:
        dst.write(values, 1)
    layer = lyr.raster_layer(path, year=2024)
    _fn, (url, _bounds, _opacity) = calls(_render_layer(layer))["raster_impervious_2024"]
    img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA")
    alpha = np.asarray(img)[..., 3]
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 255 and alpha[1, 1] == 255
    with pytest.raises(RasterError, match="does not exist"):
        lyr.raster_layer(tmp_path / "absent.tif")
