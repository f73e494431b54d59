"""Every data text that reaches a map's HTML is escaped: names, codes, kinds, popups, titles.

Each data field gets its own hostile text (an ``<img onerror>`` tag and a ``"><script>``
breakout, tagged with the field's name). The maps are written to disk and read back; the
JavaScript string escapes (``\\u003c``...) are decoded, so that a text left unescaped inside a
JSON payload (which the browser would then put into ``innerHTML``) is caught too. Each hostile
text must be there, escaped exactly once, and never raw.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

import cdv_geo as cg
from cdv_geo import maps
from cdv_geo.maps import layers as lyr
from cdv_geo.maps.html import escape_text
from cdv_geo.views.panels import figures_table
from tests.browser.fixture_territory import X0, Y0, make_territory, write_raster


def hostile(field: str) -> str:
    """Return the hostile text of one field.

    A tag with an event handler, a script breakout, a template expression, a template literal.
    """
    return (
        f"<img src=x onerror=alert('{field}')>\"><script>alert('{field}')</script>"
        " {{ 7 * 7 }} ${alert(1)}"
    )


def raw_parts(field: str) -> tuple[str, str]:
    return f"<img src=x onerror=alert('{field}')>", f"\"><script>alert('{field}')"


_JS_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


_PARSED = re.compile(r'JSON\.parse\(("(?:[^"\\]|\\.)*")\)')


def decoded(text: str) -> str:
    """The HTML with the JSON string escapes of its scripts undone (big payloads are strings)."""
    text = _PARSED.sub(lambda m: json.loads(m.group(1)), text)
    text = _JS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text.replace('\\"', '"').replace("\\/", "/")


def assert_escaped(text: str, fields: list[str]) -> None:
    page = decoded(text)
    for field in fields:
        for raw in raw_parts(field):
            assert raw not in page, f"{field}: raw {raw!r} in the HTML"
        assert escape_text(hostile(field)) in page, f"{field}: not shown (or escaped twice)"


# The fields of the territory, by layer (each gets its own hostile text).
FIELDS = {
    "quartiers": ("name", "code"),
    "facilities": ("name", "kind"),
    "renewal_sites": ("name", "operation", "housing_type", "tenure", "status"),
    "desealed_areas": ("site", "site_type", "status"),
    "tree_plantings": ("species",),
    "green_spaces": ("name",),
    "residences": ("name",),
    "communes": ("name", "code"),
}


def hostile_territory(tmp: Path) -> cg.Territory:
    t = make_territory(tmp, evil=False)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for kind, fields in FIELDS.items():
        gdf = getattr(t, kind).copy()
        for f in fields:
            values = (gdf[f] if f in gdf.columns else pd.Series(None, index=gdf.index)).astype(
                object
            )
            values.iloc[-1] = hostile(f"{kind}.{f}")  # the last feature of each layer
            gdf[f] = values
        layers[kind] = gdf
    return cg.Territory(
        hostile("territory.name"),
        **layers,
        streets=t.streets,
        rasters=t.rasters,
        tables=t.tables,
        settings=t.settings,
        attribution=hostile("territory.attribution"),
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: Any) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("hostile")
    t = hostile_territory(tmp)
    files = maps.build_committee_maps(t, tmp / "maps", tiles=None)
    return {name: path.read_text(encoding="utf-8") for name, path in files.items()}


def test_every_field_of_the_overview_is_escaped(written: dict[str, str]) -> None:
    fields = [f"{k}.{f}" for k, fs in FIELDS.items() for f in fs]
    assert_escaped(written["overview"], [*fields, "territory.name", "territory.attribution"])


def test_every_map_title_is_escaped(written: dict[str, str]) -> None:
    for text in written.values():
        assert_escaped(text, ["territory.name"])
        # the <title> of the page too
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        assert title is not None and escape_text(hostile("territory.name")) in title.group(1)


def test_quartier_maps_escape_their_quartier(written: dict[str, str]) -> None:
    names = [n for n in written if n.startswith("quartier_")]
    assert len(names) == 2
    # the hostile quartier's file name is a plain slug; its map names it, escaped
    assert all(re.fullmatch(r"quartier_[a-z0-9-]+", n) for n in names)
    assert_escaped(written[names[-1]], ["quartiers.name", "quartiers.code", "territory.name"])


def test_thematic_maps_escape_their_layers(written: dict[str, str]) -> None:
    assert_escaped(written["renewal"], [f"renewal_sites.{f}" for f in FIELDS["renewal_sites"]])
    assert_escaped(
        written["renaturation"],
        ["desealed_areas.site", "desealed_areas.site_type", "tree_plantings.species"],
    )
    access = [n for n in written if n.startswith("accessibility_")]
    assert access
    for name in access:
        assert_escaped(written[name], ["residences.name", "quartiers.name"])


def _render(layer: lyr.MapLayer) -> str:
    m = folium.Map(tiles=None)
    layer.add_to(m)
    return m.get_root().render()


def test_layer_texts_given_by_the_caller_are_escaped(tmp_path: Path) -> None:
    q = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["A", hostile("choropleth.name")]},
        geometry=[box(X0, Y0, X0 + 90, Y0 + 90), box(X0 + 100, Y0, X0 + 190, Y0 + 90)],
        crs=2154,
    )
    layer = lyr.choropleth_layer(
        q,
        {"A": 1.0, "B": 2.0},
        title=hostile("choropleth.title"),
        unit=hostile("choropleth.unit"),
        source=hostile("choropleth.source"),
        reference=hostile("choropleth.reference"),
        year=hostile("choropleth.year"),
    )
    m = folium.Map(tiles=None)
    layer.add_to(m)
    from cdv_geo.maps.builder import Builder  # the legend is written by the map's builder

    b = Builder(None, m, "fr", 1.0)
    b.layers.append(layer)
    text = b.finish().get_root().render()
    fields = ["name", "title", "unit", "source", "reference", "year"]
    assert_escaped(text, [f"choropleth.{f}" for f in fields])
    path = write_raster(tmp_path / "r.tif", np.full((4, 6), 40))
    raster = _render(lyr.raster_layer(path, source=hostile("raster.source")))
    assert escape_text(hostile("raster.source")) in "".join(
        lyr.raster_layer(path, source=hostile("raster.source")).legend
    )
    assert all(raw not in decoded(raster) for raw in raw_parts("raster.source"))


def test_key_figure_panels_escape_names_and_values() -> None:
    kf = pd.DataFrame(
        {"name": [hostile("kf.name"), "ensemble"], "n_trees": [3.0, 3.0]},
        index=pd.Index(["Q1", "all"], name="quartier"),
    )
    kf.attrs["service"] = hostile("kf.service")
    kf["coverage_share"] = [0.5, 0.5]
    html = figures_table(kf, "fr")
    assert_escaped(html, ["kf.name", "kf.service"])


def test_big_layers_sent_as_json_strings_are_escaped_too() -> None:
    # 2,500 de-sealed yards: drawn on a canvas, their data sent as JSON.parse("...")
    n = 2500
    yards = gpd.GeoDataFrame(
        {
            "site": [hostile("big.site")] * n,
            "site_type": [hostile("big.site_type")] * n,
            "status": [hostile("big.status")] * n,
            "year": [2024] * n,
        },
        geometry=[box(X0 + 12 * i, Y0, X0 + 12 * i + 10, Y0 + 10) for i in range(n)],
        crs=2154,
    )
    homes = yards.rename(columns={"site": "name"})[["name", "geometry"]]
    for layer in (lyr.desealed_layer(yards), lyr.residences_layer(homes)):
        text = _render(layer)
        assert "JSON.parse(" in text and '"canvas":true' in decoded(text)
        fields = ["big.site", "big.site_type", "big.status"] if layer.key != "residences" else []
        assert_escaped(text, fields or ["big.site"])


# --- labels that come from data (issue 22): kinds, layer names, legend entries, row labels ---


def _no_raw_tag(text: str) -> None:
    """No hostile tag at all in the page, JSON payloads decoded (whatever field it came from)."""
    page = decoded(text)
    assert "<img src=x" not in page and "<script>alert(" not in page


def _overlay_names(text: str) -> list[str]:
    """The names of the layer control's overlays (what a reader sees in the list)."""
    start = text.index("overlays :")
    names = re.findall(r'"((?:[^"\\]|\\.)*)"\s*:\s*feature_group_', text[start:])
    return [json.loads(f'"{n}"') for n in names]


def test_facility_kinds_escaped_as_layer_names_legend_entries_and_popups() -> None:
    fac = gpd.GeoDataFrame(
        {
            "name": ["Centre", hostile("facility.name")],
            "kind": ["school", hostile("facility.kind")],  # an unknown kind is kept as given
        },
        geometry=[box(X0, Y0, X0 + 5, Y0 + 5).centroid, box(X0 + 50, Y0, X0 + 55, Y0 + 5).centroid],
        crs=2154,
    )
    layer = lyr.facilities_layer(fac, title=hostile("layer.title"))
    m = folium.Map(tiles=None)
    layer.add_to(m)
    from cdv_geo.maps.builder import Builder

    b = Builder(None, m, "fr", 1.0)
    b.layers.append(layer)
    text = b.finish().get_root().render()
    assert_escaped(text, ["facility.name", "facility.kind", "layer.title"])
    _no_raw_tag(text)
    # the layer control lists the layer under its escaped title
    assert escape_text(hostile("layer.title")) in _overlay_names(text)
    # the legend has an entry for the hostile kind, escaped
    legend = "".join(layer.legend)
    assert escape_text(hostile("facility.kind")) in legend and "<img" not in legend


def test_popup_row_labels_given_by_the_caller_are_escaped() -> None:
    q = gpd.GeoDataFrame(
        {"code": ["Q1"], "name": ["Nord"], "population": [1200]},
        geometry=[box(X0, Y0, X0 + 90, Y0 + 90)],
        crs=2154,
    )
    figures = {"Q1": [(hostile("popup.label"), hostile("popup.value"))]}
    text = _render(lyr.quartiers_layer(q, figures=figures))
    assert_escaped(text, ["popup.label", "popup.value"])
    _no_raw_tag(text)


def test_indicators_map_escapes_indicator_names_quartiers_and_communes() -> None:
    from cdv_geo.maps import indicators_map
    from cdv_geo.pipeline import Metrics

    t = make_territory(evil=False)
    t.quartiers = t.quartiers.assign(name=["Alpha", hostile("indicators.quartier")])
    t.communes = t.communes.assign(name=[hostile("indicators.commune")])
    # An indicator outside the registry, when asked for, is labelled by its own name: in the
    # selector, the legend's heading, the panel's rows and the choropleth tooltips.
    name = hostile("indicators.name")
    table = pd.DataFrame(
        {
            "code": ["QN09901M", "QN09902M", "02722", "QN09901M"],
            "level": ["qpv", "qpv", "commune", "qpv"],
            "indicator": [name, name, name, "poverty_rate"],
            "year": [2021, 2021, 2021, 2021],
            "value": [1.0, 2.0, 3.0, 0.4],
        }
    )
    m = indicators_map(
        t, indicators=[name, "poverty_rate"], metrics=Metrics(indicators=table), tiles=None
    )
    text = maps.render_html(m)
    assert_escaped(text, ["indicators.name", "indicators.quartier", "indicators.commune"])
    _no_raw_tag(text)
    # in the selector's options and the panel's rows: escaped, each once
    page = decoded(text)
    assert f"{escape_text(name)}</option>" in page
    assert f"<tr><td>{escape_text(name)} (2021)</td>" in page


def test_no_raw_tag_in_any_map(written: dict[str, str]) -> None:
    # every map of the pack (overview, quartiers, one per facility kind, themes, indicators)
    assert {"overview", "renaturation", "renewal", "indicators"} <= set(written)
    for name, text in written.items():
        page = decoded(text)
        assert "<img src=x" not in page, name
        assert "<script>alert(" not in page, name
