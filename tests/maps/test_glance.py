"""Maps a committee reads at a glance (issue 22 §5), read from the HTML (no browser).

- quartier labels are drawn in their own pane, above the markers and cluster bubbles;
- tree cluster bubbles sum the trees of their planting points;
- the indicators map opens on a rate and offers the indicators through one grouped selector;
- a map linking its scripts from the CDN carries a message for when they cannot load;
- the heat map's panel names the comparison rows (no "total" row).

The browser side of each is in tests/browser/test_glance_browser.py.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point, box

from cdv_geo.io.insee.registry import INDICATORS
from cdv_geo.maps import indicators_map
from cdv_geo.maps import layers as lyr
from cdv_geo.maps.html import render_html
from cdv_geo.maps.indicator_groups import default_indicator, indicator_group
from cdv_geo.maps.runtime import RUNTIME_JS
from cdv_geo.pipeline import Metrics
from tests.browser.fixture_territory import X0, Y0, make_territory
from tests.maps.test_maps import calls


def _render(layer: lyr.MapLayer) -> str:
    m = folium.Map(tiles=None)
    layer.add_to(m)
    return m.get_root().render()


def readable(text: str) -> str:
    """The page's text as a reader sees it: JSON ``\\uXXXX`` escapes and HTML entities undone."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return html.unescape(text).replace("\xa0", " ").replace("\u202f", " ")


# --- quartier labels above the clusters ---------------------------------------------------------


def test_quartier_labels_open_in_a_pane_above_the_markers() -> None:
    # Leaflet's marker pane (cluster bubbles) is at z-index 600, hover tooltips at 650, popups
    # at 700: the labels' pane sits between markers and tooltips.
    pane = re.search(r"createPane\(cdvGeo\.LABEL_PANE\)\.style\.zIndex = (\d+)", RUNTIME_JS)
    assert pane is not None and 600 < int(pane.group(1)) < 650
    assert "pane: cdvGeo.LABEL_PANE" in RUNTIME_JS
    q = gpd.GeoDataFrame(
        {"code": ["Q1"], "name": ["Nord"]}, geometry=[box(X0, Y0, X0 + 400, Y0 + 400)], crs=2154
    )
    spec = calls(_render(lyr.quartiers_layer(q)))["quartiers"][1][0]
    assert spec["label"] is True  # the quartiers are drawn with labels, hence in that pane


# --- tree clusters sum the trees ----------------------------------------------------------------


def _trees(counts: list[int]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"trees": counts, "species": "Acer", "year": 2024},
        geometry=[Point(X0 + 10 * i, Y0) for i in range(len(counts))],
        crs=2154,
    )


def test_tree_clusters_carry_the_trees_of_each_point() -> None:
    layer = lyr.trees_layer(_trees([3, 1, 2, 5]), mode="cluster")
    spec = calls(_render(layer))["tree_plantings"][1][0]
    assert spec["cluster"] is True
    assert spec["w"] == [3, 1, 2, 5]  # the weights a bubble sums: 11 trees, not 4 points
    assert spec["clusterTitle"] == "arbres plantés"
    assert "Chaque bulle indique le nombre d'arbres plantés" in readable("".join(layer.legend))
    # the bubble sums the weights of its child markers when there are weights
    assert "cluster.getAllChildMarkers().forEach" in RUNTIME_JS
    assert "n += c.options.cdvW" in RUNTIME_JS


def test_trees_without_a_count_weigh_one_and_canvas_dots_have_no_bubble() -> None:
    t = _trees([3, 1])
    t["trees"] = [None, 4]
    spec = calls(_render(lyr.trees_layer(t, mode="cluster")))["tree_plantings"][1][0]
    assert spec["w"] == [1, 4]  # a planting point with no count is one tree
    circle = calls(_render(lyr.trees_layer(_trees([3, 1]), mode="circle")))["tree_plantings"]
    assert circle[1][0]["cluster"] is False and "clusterTitle" not in circle[1][0]


# --- the indicators map ---------------------------------------------------------------------


def _indicator_rows(values: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    """An indicators table: per indicator, (quartier Alpha, commune 02722, all French QPV)."""
    rows = []
    places = (("QN09901M", "qpv"), ("02722", "commune"), ("FRQPV", "all_qpv"))
    for name, triple in values.items():
        rows += [
            {"code": code, "level": level, "indicator": name, "year": 2021, "value": value}
            for (code, level), value in zip(places, triple, strict=True)
        ]
    return pd.DataFrame(rows)


def _selector(text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """The selected option and the (group, options) of the indicator selector of a map."""
    found = re.search(r'div\.innerHTML = ("[^\n]*cdv-selector-caption[^\n]*");\n', text)
    assert found is not None, "no indicator selector"
    markup = json.loads(found.group(1))
    markup = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), markup)
    groups = [
        (html.unescape(g), [html.unescape(o) for o in re.findall(r">([^<]*)</option>", body)])
        for g, body in re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', markup)
    ]
    selected = re.search(r"<option value=\"\d+\" selected>([^<]*)</option>", markup)
    assert selected is not None
    return html.unescape(selected.group(1)), groups


@pytest.fixture(scope="module")
def territory() -> Any:
    return make_territory(evil=False)


def test_indicators_map_opens_on_the_poverty_rate_with_one_grouped_selector(
    territory: Any,
) -> None:
    # The table lists a count and an income first: the map still opens on the poverty rate.
    table = _indicator_rows(
        {
            "population": (4100.0, 28000.0, 5_400_000.0),
            "median_income": (12480.0, 19870.0, 14300.0),
            "poverty_rate": (0.415, 0.216, 0.433),
            "employment_rate": (0.48, 0.62, 0.49),
        }
    )
    text = render_html(indicators_map(territory, metrics=Metrics(indicators=table), tiles=None))
    selected, groups = _selector(text)
    assert selected == INDICATORS["poverty_rate"].label_fr
    assert INDICATORS["poverty_rate"].unit == "fraction"  # a rate, from the registry
    # one list, grouped by theme, in the themes' order
    assert groups == [
        ("Revenus", [INDICATORS["median_income"].label_fr]),
        ("Pauvreté et prestations sociales", [INDICATORS["poverty_rate"].label_fr]),
        ("Emploi et chômage", [INDICATORS["employment_rate"].label_fr]),
        ("Population et familles", [INDICATORS["population"].label_fr]),
    ]
    # no indicator in the layer control: only the commune and the quartiers
    control = re.search(r"overlays\s*:\s*\{(.*?)\}", text, re.S)
    assert control is not None
    names = re.findall(r'"([^"]+)"\s*:', control.group(1))
    assert names == ["Commune", "Quartiers prioritaires (QPV)"]
    # every indicator layer starts off the map: the selector adds the one it shows
    for key in ("median_income", "poverty_rate", "employment_rate", "population"):
        assert f"indicator_{key}" in calls(text)


def test_indicators_panel_sets_the_quartier_beside_the_commune_and_french_qpv(
    territory: Any,
) -> None:
    table = _indicator_rows({"poverty_rate": (0.415, 0.216, 0.433)})
    plain = readable(
        render_html(indicators_map(territory, metrics=Metrics(indicators=table), tiles=None))
    )
    # columns: the quartiers, then the town (the territory, Testville, has one commune), then
    # all French QPV; "Beta" has no value
    assert "Alpha</th><th>Beta</th><th>Testville (commune)</th><th>Ensemble des QPV de France" in (
        plain
    )
    assert "<td>41,5 %</td><td>n.d.</td><td>21,6 %</td><td>43,3 %</td>" in plain


def test_table_columns_without_a_known_label_are_counted_not_offered(territory: Any) -> None:
    table = _indicator_rows(
        {"poverty_rate": (0.415, 0.216, 0.433), "abc_dur1": (1.0, 2.0, 3.0), "tx_f_et": (1, 2, 3)}
    )
    text = render_html(indicators_map(territory, metrics=Metrics(indicators=table), tiles=None))
    _selected, groups = _selector(text)
    assert groups == [("Pauvreté et prestations sociales", [INDICATORS["poverty_rate"].label_fr])]
    plain = readable(text)
    assert "abc_dur1" not in plain and "tx_f_et" not in plain
    assert "2 colonne(s) du tableau d'indicateurs sans libellé connu" in plain
    # asked for by name, such a column is shown, under its name
    text = render_html(
        indicators_map(
            territory,
            indicators=["poverty_rate", "abc_dur1"],
            metrics=Metrics(indicators=table),
            tiles=None,
        )
    )
    _selected, groups = _selector(text)
    assert groups[-1] == ("Autres indicateurs", ["abc_dur1"])
    assert "sans libellé connu" not in readable(text)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["population", "median_income", "women_share", "employment_rate"], "employment_rate"),
        (["population", "median_income", "women_share"], "women_share"),
        (["population", "median_income"], "median_income"),
        (["population"], "population"),  # only a count: shown, since nothing else is
    ],
)
def test_without_a_poverty_rate_the_map_opens_on_the_first_rate(
    territory: Any, names: list[str], expected: str
) -> None:
    table = _indicator_rows(dict.fromkeys(names, (0.4, 0.3, 0.2)))
    text = render_html(indicators_map(territory, metrics=Metrics(indicators=table), tiles=None))
    selected, _groups = _selector(text)
    assert selected == INDICATORS[expected].label_fr
    assert default_indicator(names, {n: INDICATORS[n].unit for n in names}) == expected


def test_every_registered_indicator_has_a_theme_of_the_issue() -> None:
    themes = {indicator_group(n) for n in INDICATORS}
    # the six themes of issue 22, and no indicator of the registry left under "other"
    assert themes == {"income", "poverty", "employment", "families", "education", "health"}
    assert indicator_group("some_local_figure") == "other"


# --- the offline message --------------------------------------------------------------------


def test_cdn_maps_carry_an_offline_message_and_inline_maps_none(territory: Any) -> None:
    m = indicators_map(
        territory, metrics=Metrics(indicators=_indicator_rows({"poverty_rate": (0.4, 0.3, 0.2)}))
    )
    cdn = render_html(m)
    assert cdn.count('id="cdv-offline"') == 1
    plain = readable(cdn)
    assert "Cette carte ne peut pas s'afficher sans connexion internet" in plain
    assert "--assets inline" in plain
    # hidden until the page has loaded without Leaflet
    assert 'style="display:none' in cdn and "if (window.L) return;" in cdn
    assert cdn.index('id="cdv-offline"') < cdn.rindex("</body>")
    en = render_html(
        indicators_map(
            territory,
            metrics=Metrics(indicators=_indicator_rows({"poverty_rate": (0.4, 0.3, 0.2)})),
            lang="en",
        )
    )
    assert "This map cannot be shown without an internet connection" in readable(en)


# --- the heat map's panel -------------------------------------------------------------------


def test_heat_panel_names_the_comparison_rows() -> None:
    from cdv_geo.maps.heat_maps import heat_map

    t = make_territory(evil=False)
    idx = pd.Index(["QN09901M", "QN09902M", "qpv", "commune", "hors_qpv"], name="quartier")
    he = pd.DataFrame(
        {"heat_mean": [31.0, 33.0, 32.0, 30.0, 29.5], "hot_residents_share": [0.1] * 5},
        index=idx,
    )
    he.attrs["units"] = "°C"
    plain = readable(render_html(heat_map(t, metrics=Metrics(heat_exposure=he), tiles=None)))
    # the quartiers, then the committee's comparison: the town outside the QPV, the town
    head = "<th>Alpha</th><th>Beta</th><th>Testville hors QPV</th><th>Testville (commune)</th>"
    assert head in plain
    assert "<td>31,0</td><td>33,0</td><td>29,5</td><td>30,0</td></tr>" in plain
    assert "Total" not in plain and "Ensemble</th>" not in plain
