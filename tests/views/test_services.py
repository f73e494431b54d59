"""A pack that follows the town (issue 13, item 8): kinds present, labelled figures, titles.

The territory is the hand-checked street grid of tests/pipeline/grid.py *without* its water
play area: only a health centre at (700, 200). Walking on the 100 m grid is Manhattan distance
at 75 m/min (4.5 km/h), so within 5 min (375 m) of the health centre are: the home at (800, 400)
(300 m, 70 residents, quartier QB) and none of QA's (400 m, 900 m, 600 m; 450 residents).
Coverage at 5 min: QA 0 %, QB 100 %, all 70 / 520 = 13 %.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import box

import cdv_geo as cg
from cdv_geo import maps
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.views.panels import figures_table, with_coverage
from cdv_geo.views.services import present_kinds, primary_service, resolve_services
from cdv_geo.views.titles import map_title, quartier_title, territory_name
from tests.pipeline.grid import grid_layers


def _no_water() -> cg.Territory:
    layers = grid_layers(name_b="Beta")
    fac = layers["facilities"]
    layers["facilities"] = fac[fac["kind"] != "water_play_area"]
    return cg.Territory("Testville", **layers)


@pytest.fixture(scope="module")
def town() -> cg.Territory:
    return _no_water()


@pytest.fixture(scope="module")
def metrics(town: cg.Territory) -> cg.Metrics:
    return cg.compute_metrics(town)


def _text(html: str) -> str:
    return (
        html.replace("\u00a0", " ")
        .replace("\u202f", " ")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
    )


def test_kinds_present_and_services_option(town: cg.Territory) -> None:
    assert present_kinds(town) == ("health_centre",)
    assert primary_service(town) == "health_centre"
    assert resolve_services(town) == ("health_centre",)
    assert resolve_services(town, " health_centre ,") == ("health_centre",)
    with pytest.raises(CdvGeoError, match="no facility of kind 'water_play_area'.*health_centre"):
        resolve_services(town, "water_play_area")


def test_no_empty_water_play_map_for_a_town_without_any(
    town: cg.Territory, metrics: cg.Metrics, tmp_path: Path
) -> None:
    files = maps.build_committee_maps(town, tmp_path, metrics=metrics, tiles=None)
    assert [n for n in files if n.startswith("access")] == ["accessibility_health_centre"]
    text = files["accessibility_health_centre"].read_text(encoding="utf-8")
    assert '"facilities_health_centre"' in text and '"service_areas_health_centre"' in text
    assert "water_play_area" not in text
    # the overview draws the walking areas of the kind the town has
    overview = files["overview"].read_text(encoding="utf-8")
    assert '"service_areas_health_centre"' in overview
    assert "Aire de jeux d" not in overview


def test_key_figures_show_the_coverage_of_the_kind_present(
    town: cg.Territory, metrics: cg.Metrics
) -> None:
    kf = metrics.key_figures
    assert kf is not None
    # the pipeline's key figure is the water play areas' (none here): NaN
    assert kf["coverage_share"].isna().all()
    shown = with_coverage(kf, metrics.coverage, ["health_centre"])
    # QA 0 %, QB 100 %, the QPV and the whole town 70 / 520; no home outside the QPV: NaN
    cov = shown["coverage_share:health_centre"].round(4)
    assert cov[["QA", "QB", "qpv", "commune"]].tolist() == [0.0, 1.0, 0.1346, 0.1346]
    assert cov.isna()["hors_qpv"]
    html = _text(figures_table(shown, "fr"))
    # the quartiers, then the town outside the QPV, then the whole town
    heads = re.findall(r"<th>(.*?)</th>", html)
    assert heads == ["", "Alpha", "Beta", "Commune hors QPV", "Commune"]
    row = re.search(r"<tr><td>Habitants à 5 min à pied : Maison de santé</td>(.*?)</tr>", html)
    assert row is not None, html
    assert re.findall(r"<td[^>]*>(.*?)</td>", row.group(1)) == ["0 %", "100 %", "n.d.", "13 %"]
    assert _text(figures_table(shown, "en", town="Testville")).count("Testville (municipality)")
    # the map panel: every row labelled, no raw column name, no n.d. for the coverage
    panel = _text(maps.render_html(maps.overview_map(town, metrics=metrics, tiles=None)))
    assert "Habitants à 5 min à pied : Maison de santé" in panel
    labels = re.findall(r"<tr><td>(.*?)</td>", html)
    assert len(labels) >= 5 and all(lab and "_" not in lab for lab in labels), labels
    assert "Habitants à proximité à pied : Aire de jeux" not in panel


def test_index_cards_follow_the_town(town: cg.Territory, tmp_path: Path) -> None:
    from cdv_geo.output import build_report

    index = build_report(town, tmp_path, formats=("csv",))
    html = _text(index.read_text(encoding="utf-8"))
    cards = re.findall(r'<article class="card">(.*?)</article>', html, re.S)
    assert len(cards) == 2
    # populations of the quartiers layer (1,000 and 500) and the coverage of the health centre
    assert "Alpha" in cards[0] and "QA" in cards[0] and "1 000" in cards[0]
    assert "Beta" in cards[1] and "500" in cards[1]
    assert "Habitants à 5 min à pied : Maison de santé</dt><dd>0 %" in cards[0]
    assert "Habitants à 5 min à pied : Maison de santé</dt><dd>100 %" in cards[1]
    assert "n.d." not in "".join(cards)
    # every key-figure row labelled in the full table too: 13 % over the territory
    table = html.split("Tous les chiffres clés")[1].split("</details>")[0]
    heads = re.findall(r"<tr><th>(.*?)</th>", table)
    assert heads[0] == "" and all(h and "_" not in h for h in heads[1:]), heads
    assert "13 %" in table
    # links: each card to its quartier map, the accessibility map of the kind present
    assert 'href="quartier_alpha.html"' in cards[0]
    assert 'href="accessibility_health_centre.html"' in html
    assert "accessibility_water_play_area" not in html
    assert (tmp_path / "figures" / "accessibility.png").exists()


def test_quartier_named_quartier_is_not_doubled() -> None:
    assert quartier_title("Quartier test", "Laon") == "Quartier test (Laon)"
    assert quartier_title("quartiers Nord", "Laon", "en") == "quartiers Nord (Laon)"
    assert quartier_title("Quartiers-Est", "Laon") == "Quartier Quartiers-Est (Laon)"
    layers = grid_layers(name_b="Beta")
    layers["quartiers"].loc[0, "name"] = "Quartier test"
    t = cg.Territory("Testville", **layers)
    m = maps.quartier_map(t, "QA", tiles=None)
    assert m._cdv_title == "Quartier test (Testville)"
    assert map_title("quartier_quartier-test", t) == "Quartier test (Testville)"


def _project(tmp: Path, named: bool) -> Path:
    folder = tmp / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for kind, gdf in grid_layers(name_b="Beta").items():
        if kind in ("quartiers", "communes"):
            gdf.to_file(folder / f"{kind}.geojson")
    name = '[territory]\nname = "Belleu"\n\n' if named else ""
    (folder / "project.toml").write_text(
        f'{name}[layers]\nquartiers = "quartiers.geojson"\ncommunes = "communes.geojson"\n'
    )
    return folder / "project.toml"


def test_titles_use_the_communes_name_when_the_project_names_no_territory(
    tmp_path: Path,
) -> None:
    t = cg.Territory.from_file(_project(tmp_path / "a", named=False))
    assert t.name == "data"  # the folder's name, which says nothing on a map
    assert territory_name(t) == "Testville"  # the communes layer's
    assert maps.overview_map(t, tiles=None)._cdv_title == (
        "Contrat de ville — Testville : vue d'ensemble"
    )
    named = cg.Territory.from_file(_project(tmp_path / "b", named=True))
    assert territory_name(named) == "Belleu"
    q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Nord"]}, geometry=[box(0, 0, 9, 9)], crs=2154)
    assert territory_name(cg.Territory(quartiers=q)) == "Territoire"  # nothing better known


def test_five_quartiers_get_compact_columns() -> None:
    import pandas as pd

    codes = [f"QP{i}" for i in range(5)]
    kf = pd.DataFrame(
        {"name": [f"Q {i}" for i in range(5)] + ["QPV", "Ville"], "n_trees": range(7)},
        index=pd.Index([*codes, "qpv", "commune"], name="quartier"),
    )
    assert figures_table(kf, "fr").startswith('<table class="cdv-many">')
    # two quartiers and the town: 3 columns
    assert figures_table(kf.loc[["QP0", "QP1", "commune"]], "fr").startswith("<table><tr>")


def test_rasters_are_drawn_in_their_own_pane_under_the_vectors() -> None:
    from cdv_geo.maps.runtime import RUNTIME_CSS, RUNTIME_JS

    assert "pane: 'cdvRasters'" in RUNTIME_JS
    assert "createPane('cdvRasters', map.getPane('overlayPane')).style.zIndex = -1" in RUNTIME_JS
    assert "@media print" in RUNTIME_CSS
