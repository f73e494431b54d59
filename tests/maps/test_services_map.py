"""The services layers and map (issue 25): capacity, opening hours, commercial catchments.

The layers read the metric functions' results (here filled by hand into a Metrics, as the
pipeline's contract says); each drawn value is checked against a value computed by hand, and
every data text (a centre's name, a kind, a quartier's name) is escaped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pytest
from shapely import LineString, Point, box

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.maps import layers_services as ls
from cdv_geo.maps.committee import build_committee_maps
from cdv_geo.maps.html import escape_text, render_html
from cdv_geo.maps.services_maps import has_services_data, services_map
from cdv_geo.maps.theme_maps import accessibility_map
from cdv_geo.metrics.catchment import floating_catchment
from cdv_geo.metrics.opening_hours import opening_access
from cdv_geo.network import WalkNetwork
from cdv_geo.pipeline import Metrics
from tests.browser.fixture_territory import EVIL
from tests.maps.test_escaping import decoded
from tests.maps.test_maps import calls, features
from tests.views.services_data import EVIL_KIND, service_metrics, territory


def _render(layer: ls.MapLayer) -> dict[str, tuple[str, Any]]:
    m = folium.Map(tiles=None)
    layer.add_to(m)
    return calls(m.get_root().render())


def _tips(spec: dict[str, Any]) -> list[str]:
    texts = spec["texts"]
    out = []
    for f in features(spec) if "geoms" in spec else [{"properties": {"t": t}} for t in spec["t"]]:
        t = f["properties"]["t"]
        rows = t if isinstance(t, list) else [t]
        out.append("<br>".join(texts[i] for i in rows if i >= 0))
    return out


def _street_case() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, WalkNetwork]:
    """One home of 1,000 residents 300 m (4 min) from a GP of 1 FTE and a CCAS."""
    net = WalkNetwork.from_lines(
        gpd.GeoDataFrame(geometry=[LineString([(0, 0), (3000, 0)])], crs=2154), crs=2154
    )
    homes = gpd.GeoDataFrame(
        {"id": ["h1"], "population": [1000], "name": ["Les <Tilleuls>"]},
        geometry=[box(290, -5, 310, 5)],
        crs=2154,
    )
    fac = gpd.GeoDataFrame(
        {
            "kind": ["doctor", "ccas", "ccas"],
            "capacity": [1.0, 1.0, 1.0],
            "opening_hours": [None, "Tu 09:00-12:00", "We 14:00-17:00"],
        },
        geometry=[Point(0, 0), Point(0, 0), Point(600, 0)],
        crs=2154,
    )
    q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Presles"]},
                         geometry=[box(0, -50, 500, 50)], crs=2154)  # fmt: skip
    return homes, fac, q, net


def test_capacity_layer_draws_the_hand_computed_access_of_a_home() -> None:
    homes, fac, q, net = _street_case()
    c = floating_catchment(homes, fac, q, network=net, kinds="doctor")
    layer_data = homes.copy()
    layer_data["doctor_access_per_10k"] = c.homes["doctor_access_per_10k"].to_numpy()
    fn, (spec,) = _render(ls.capacity_layer(layer_data, kind="doctor", lang="en"))["access_doctor"]
    # 4 min, weight 1: R = 1 FTE / 1,000 residents; A = R x 10,000 = 10 per 10,000
    assert fn == "geojson"
    assert _tips(spec) == [
        "<b>Les &lt;Tilleuls&gt;</b><br>Residents: 1,000"
        "<br>General practitioner: 10.0 per 10,000 residents"
    ]


def test_open_hours_layer_draws_the_hand_computed_weekly_hours() -> None:
    homes, fac, q, net = _street_case()
    r = opening_access(homes, fac, q, network=net, kinds="ccas", within_min=10)
    data = homes.copy()
    data["ccas_open_hours_week"] = r.homes["ccas_open_hours_week"].to_numpy()
    layer = ls.capacity_layer(data, kind="ccas", measure="hours", within_min=10, lang="en")
    _, (spec,) = _render(layer)["hours_ccas"]
    # Tuesday 9-12 (4 min away) and Wednesday 14-17 (4 min away too): 3 + 3 = 6 hours
    assert _tips(spec)[0].endswith(": 6.0 h a week")
    legend = "".join(layer.legend)
    assert "Unit: hours a week when at least one service of this kind is open within 10 min" in (
        legend
    )


def test_hour_classes_on_their_limits_and_the_missing_homes() -> None:
    values = [0.0, 9.99, 10.0, 20.0, 50.0, 168.0, np.nan]
    homes = gpd.GeoDataFrame(
        {"population": [1] * 7, "gp_open_hours_week": values},
        geometry=[box(10 * i, 0, 10 * i + 5, 5) for i in range(7)],
        crs=2154,
    )
    layer = ls.capacity_layer(homes, kind="gp", measure="hours", lang="en")
    _, (spec,) = _render(layer)["hours_gp"]
    # 0: never open; a value on a limit opens the class it starts ("10 to 20 h" holds 10)
    assert [f["properties"]["s"] for f in features(spec)] == [0, 1, 2, 3, 5, 5, 6]
    legend = "".join(layer.legend)
    for text in ("never open within reach (0 h)", "under 10 h", "10 to 20 h", "50 h and more"):
        assert text in legend
    assert "unreachable" in legend and _tips(spec)[-1].endswith("unreachable")


def test_a_missing_column_says_how_to_compute_it() -> None:
    homes = gpd.GeoDataFrame({"population": [1]}, geometry=[box(0, 0, 1, 1)], crs=2154)
    with pytest.raises(CdvGeoError, match="compute_metrics"):
        ls.capacity_layer(homes, kind="gp")
    with pytest.raises(CdvGeoError, match="main_centre"):
        ls.catchments_layer(homes)
    with pytest.raises(CdvGeoError, match="measure='size'"):
        ls.capacity_layer(homes, kind="gp", measure="size")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fixture() -> tuple[Any, Metrics]:
    t = territory()
    return t, service_metrics(t, illustrative=True)


def test_catchments_colour_each_home_by_its_most_probable_centre(
    fixture: tuple[Any, Metrics],
) -> None:
    _, m = fixture
    homes = m.residences_services
    layer = ls.catchments_layer(homes, centres=m.commercial_centres, lang="en")
    _, (spec,) = _render(layer)["catchments"]
    # the legend's first colour is the centre drawing the most residents (Hyper Sud, c2)
    c = m.commercial_centres
    pops = dict(zip(c["id"], c["catchment_population"], strict=True))
    order = sorted(pops, key=lambda c: -pops[c])
    drawn = [f["properties"]["s"] for f in features(spec)]
    assert drawn == [order.index(c) for c in homes["main_centre"]]
    colours = [s["fillColor"] for s in spec["styles"]]
    assert colours[:2] == list(ls.CENTRE_COLOURS[:2])
    tips = _tips(spec)
    i = list(homes["main_centre"]).index("c1")
    share = f"{100 * homes['main_probability'].iloc[i]:.0f}%"
    assert tips[i].endswith(
        f"{escape_text(EVIL)} (probability {share})<br>"
        + ("illustrative data (demo), not official")
    )
    assert EVIL not in "".join(layer.legend) and escape_text(EVIL) in "".join(layer.legend)


def test_centres_are_sized_by_their_catchment_and_say_what_they_retain(
    fixture: tuple[Any, Metrics],
) -> None:
    t, m = fixture
    names = dict(zip(t.quartiers["code"], t.quartiers["name"], strict=False))
    layer = ls.centres_layer(
        m.commercial_centres, retained=m.commercial_catchment, quartier_names=names, lang="en"
    )
    _, (spec,) = _render(layer)["centres"]
    pop = m.commercial_centres["catchment_population"].to_numpy()
    radii = [c["style"]["radius"] for c in spec["classes"]]
    # areas proportional to the residents drawn: r = 24 sqrt(p / max p), at least 6 px
    assert radii == pytest.approx(np.maximum(24 * np.sqrt(pop / pop.max()), 6))
    popup = spec["texts"][spec["p"][0]]  # c1, the parade in the hostile quartier
    assert escape_text(EVIL) in popup and EVIL not in popup
    share = m.commercial_catchment.loc["QN09902M", "retained_share"]
    assert f"{100 * share:.0f}%" in popup
    assert "illustrative data (demo), not official" in popup


def test_services_map_escapes_every_data_text_and_marks_illustrative(
    fixture: tuple[Any, Metrics],
) -> None:
    t, m = fixture
    assert has_services_data(m) and not has_services_data(Metrics())
    html = decoded(render_html(services_map(t, metrics=m, tiles=None, lang="fr")))
    for raw in ("<script>alert(1)</script>", '<img src=x onerror="window.__pwned=1">',
                "<script>kind</script>"):  # fmt: skip
        assert raw not in html
    assert escape_text(EVIL_KIND) in html and escape_text(EVIL) in html
    assert "données illustratives" in html
    keys = calls(render_html(services_map(t, metrics=m, tiles=None)))
    for key in ("access_health_centre", "hours_school", "catchments", "centres"):
        assert key in keys


def test_services_map_without_data_says_what_to_provide(fixture: tuple[Any, Metrics]) -> None:
    t, _ = fixture
    html = render_html(services_map(t, metrics=Metrics(), tiles=None))
    assert "renseigner les champs « capacité »" in html.replace("&#x27;", "'")


def test_accessibility_map_adds_the_capacity_and_hours_of_its_service(
    fixture: tuple[Any, Metrics],
) -> None:
    t, m = fixture
    html = render_html(accessibility_map(t, service="health_centre", metrics=m, tiles=None))
    keys = calls(html)
    assert "access_health_centre" in keys and "hours_health_centre" in keys
    assert "access_school" not in keys
    # the panel: capacity per 10,000 of each quartier (hand-checked formatting of the table)
    value = m.capacity_access.loc[("QN09901M", "health_centre"), "access_per_10k"]
    assert f"{value:.1f}".replace(".", ",") in html


def test_committee_maps_add_the_services_map(fixture: tuple[Any, Metrics], tmp_path: Path) -> None:
    t, m = fixture
    files = build_committee_maps(t, tmp_path, metrics=m, tiles=None, services="health_centre")
    assert "services" in files and files["services"].is_file()
    none = build_committee_maps(t, tmp_path / "b", metrics=Metrics(), tiles=None,
                                services="health_centre")  # fmt: skip
    assert "services" not in none


# --- the grouped layer control (issue 25: a map of many kinds of service) ---------------------

_CONTROL = re.compile(r"L\.control\.groupedLayers\(null, (\{.*?\}\}), (\{[^}]*\})\);", re.DOTALL)
_OWNER = re.compile(r"cdvGeo\.\w+\((\w+), \"([^\"]+)\"")
_VAR = re.compile(r"\":\s*([A-Za-z_]\w*)")
_KEY_CHAR = re.compile(r"[^A-Za-z0-9_.-]")


def _control(html: str) -> tuple[dict[str, dict[str, str]], dict[str, Any], dict[str, Any]]:
    """Read the grouped control in a page.

    Returns its groups (heading -> entry name -> the layer's key, "" for a layer that draws
    nothing), its options, and: ``on``, the keys of the entries switched on when the map opens;
    ``vars``, their variables; ``groups``, heading -> entry name -> variable.
    """
    found = _CONTROL.search(html)
    assert found, "no grouped layer control in the page"
    groups = json.loads(_VAR.sub(r'": "\1"', found.group(1)))
    options = json.loads(found.group(2))
    owner = {var: key for var, key in _OWNER.findall(html)}
    out = {g: {n: owner.get(v, "") for n, v in entries.items()} for g, entries in groups.items()}
    shown = {v for g in groups.values() for v in g.values() if f"{v}.addTo(" in html}
    on = {owner.get(v, "") for v in shown}
    return out, options, {"on": on, "vars": shown, "groups": groups}


#: The French labels of the fixture's kinds (the label catalogue's, written out by hand).
_FR = {"health_centre": "Maison de santé", "school": "École"}


def _kinds(homes: Any, suffix: str) -> list[str]:
    return [c[: -len(suffix)] for c in homes.columns if c.endswith(suffix)]


def test_services_map_groups_its_layers_by_measure_then_kind(
    fixture: tuple[Any, Metrics],
) -> None:
    t, m = fixture
    html = render_html(services_map(t, metrics=m, tiles=None))
    groups, options, state = _control(html)
    homes = m.residences_services
    access = _kinds(homes, "_access_per_10k")
    hours = _kinds(homes, "_open_hours_week")
    assert set(access) == set(hours) == {"health_centre", "school", EVIL_KIND}

    def entries(kinds: list[str], prefix: str) -> dict[str, str]:
        out = {escape_text(_FR.get(k, k)): f"{prefix}_{_KEY_CHAR.sub('_', k)}" for k in kinds}
        return {**out, "Ne rien afficher": ""}

    assert list(groups) == [
        "Capacité à portée de marche",
        "Heures d&#x27;ouverture à portée",
        "Commerces",
        "Territoire et équipements",
    ]
    cap, hrs = "Capacité à portée de marche", "Heures d&#x27;ouverture à portée"
    assert groups[cap] == entries(access, "access")  # in the columns' order, "none" last
    assert groups[hrs] == entries(hours, "hours")
    assert groups["Commerces"] == {
        "Zones de chalandise": "catchments",
        "Centres commerciaux": "centres",
    }
    assert list(groups["Territoire et équipements"].values()) == [
        "communes",
        "quartiers",
        "facilities",
    ]
    # radio buttons in the two groups of homes; checkboxes elsewhere
    assert options["exclusiveGroups"] == [cap, hrs]
    # on when the map opens: the first kind's capacity, "show none" for the hours, the centres,
    # the communes and quartiers (the facilities and catchments are off, as before)
    assert state["on"] == {f"access_{access[0]}", "", "centres", "communes", "quartiers"}
    none_cap, none_hrs = (
        state["groups"][cap]["Ne rien afficher"],
        state["groups"][hrs]["Ne rien afficher"],
    )
    assert none_hrs in state["vars"] and none_cap not in state["vars"]
    # nothing lost: every layer the map draws is an entry of the control, once
    drawn = set(_OWNER.findall(html))
    listed = [k for g in groups.values() for k in g.values() if k]
    assert sorted(listed) == sorted({key for _, key in drawn})
    # the linked groups exclude each other; the long ones (> 6 entries) start folded: none here
    assert re.search(r"var folded = \[\], linked = \[\"Capacit", html)


def test_many_kinds_fold_the_hours_and_a_hostile_kind_stays_text(
    fixture: tuple[Any, Metrics],
) -> None:
    t, m = fixture
    hostile = "<script>alert(1)</script>&\"'"
    kinds = [f"kind_{i:02d}" for i in range(11)] + [hostile]
    homes = m.residences_services[["id", "population", "geometry"]].copy()
    for i, k in enumerate(kinds):
        homes[f"{k}_access_per_10k"] = float(i)
        homes[f"{k}_open_hours_week"] = 10.0 * i
    html = render_html(services_map(t, metrics=Metrics(residences_services=homes), tiles=None,
                                    lang="en"))  # fmt: skip
    groups, options, state = _control(html)
    cap, hrs = "Capacity within walking reach", "Opening hours within reach"
    assert list(groups) == [cap, hrs, "Territory and facilities"]
    assert options["exclusiveGroups"] == [cap, hrs]
    # unknown kinds are shown as given (readable tokens): 12 entries and "show none" each
    assert len(groups[cap]) == len(groups[hrs]) == 13
    assert list(groups[cap])[-1] == "Show none"
    assert escape_text(hostile) in groups[cap] and escape_text(hostile) in groups[hrs]
    assert groups[cap][escape_text(hostile)] == "access_" + _KEY_CHAR.sub("_", hostile)
    # the hours group, long and with nothing on, starts folded; the capacity group is open
    folded = re.search(r"var folded = (\[[^\]]*\])", html)
    assert folded and json.loads(folded.group(1)) == [hrs]
    # the hostile kind never reaches the page raw, in the control's script or anywhere
    page = decoded(html)
    assert "<script>alert(1)</script>" not in page
    assert escape_text(hostile) in page
    assert state["on"] == {"access_kind_00", "", "communes", "quartiers"}


def test_builder_puts_ungrouped_layers_last_and_numbers_repeated_names() -> None:
    from cdv_geo.maps.builder import Builder, LayerGroup

    t = territory(evil=False)
    m = folium.Map(tiles=None)
    b = Builder(t, m, "fr", 1.0)
    a1, a2, other = (ls.MapLayer(k, k.upper()) for k in ("a1", "a2", "other"))
    for layer in (a1, a2, other):
        layer.add_to(m)
        b.layers.append(layer)
    # two layers shown in one exclusive group: only the first stays on
    b.finish(groups=[LayerGroup("<G>", [("x", a1), ("x", a2)], exclusive=True)])
    html = render_html(m)
    groups, options, state = _control(html)
    assert groups == {
        "&lt;G&gt;": {"x": "", "x (2)": "", "Ne rien afficher": ""},
        "Autres couches": {"OTHER": ""},
    }
    assert options["exclusiveGroups"] == ["&lt;G&gt;"]
    assert a1.show and not a2.show
    assert state["vars"] == {a1.get_name(), other.get_name()}
    assert "var folded = [], linked = []" in html


def test_builder_links_exclusive_groups_even_under_one_heading() -> None:
    from cdv_geo.maps.builder import Builder, LayerGroup

    t = territory(evil=False)
    m = folium.Map(tiles=None)
    b = Builder(t, m, "en", 1.0)
    a, c = ls.MapLayer("a", "A"), ls.MapLayer("c", "C")
    for layer in (a, c):
        layer.add_to(m)
        b.layers.append(layer)
    groups = [LayerGroup("G", [("a", a)], exclusive=True), LayerGroup("G", [("c", c)], True)]
    b.finish(groups=groups, linked=True)
    html = render_html(m)
    parsed, options, state = _control(html)
    assert parsed == {"G": {"a": "", "Show none": ""}, "G (2)": {"c": "", "Show none": ""}}
    assert options["exclusiveGroups"] == ["G", "G (2)"]
    # linked: only the first group's layer is on; the second shows its "show none"
    none_1, none_2 = (state["groups"][g]["Show none"] for g in ("G", "G (2)"))
    assert state["vars"] == {a.get_name(), none_2} and not c.show
    assert f'var none = {{"G": {none_1}, "G (2)": {none_2}}};' in html
    assert 'linked = ["G","G (2)"]' in html
