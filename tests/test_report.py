"""Metric tables, key figures and the committee bundle, on a territory checked by hand.

The fixture is a 1,000 m x 500 m street grid (100 m blocks) holding two 500 m square quartiers.
Residences and facilities sit on street crossings, so walking distances are Manhattan distances.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely import LineString, Point, box

from cdv_geo import Territory, write_layer
from cdv_geo.cli import main
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.output.report import column_label, write_tables
from cdv_geo.pipeline import compute_metrics
from tests.conftest import X0, Y0

EVIL = "<script>alert(1)</script> ' \" ${alert(2)}"


def layers() -> dict[str, gpd.GeoDataFrame]:
    def gdf(data: dict, geoms: list) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(data, geometry=geoms, crs=2154)

    streets = [LineString([(X0 + x, Y0), (X0 + x, Y0 + 500)]) for x in range(0, 1001, 100)]
    streets += [LineString([(X0, Y0 + y), (X0 + 1000, Y0 + y)]) for y in range(0, 501, 100)]
    return {
        "communes": gdf(
            {"code": ["99999"], "name": ["Testville"], "population": [6000]},
            [box(X0 - 100, Y0 - 100, X0 + 1100, Y0 + 600)],
        ),
        "quartiers": gdf(
            {"code": ["QA", "QB"], "name": ["Alpha", EVIL], "population": [1000, 500]},
            [box(X0, Y0, X0 + 500, Y0 + 500), box(X0 + 500, Y0, X0 + 1000, Y0 + 500)],
        ),
        "streets": gdf({"name": [f"rue {i}" for i in range(len(streets))]}, streets),
        "facilities": gdf(
            {
                "name": ["Aire de jeux d'eau", "Maison de santé"],
                "kind": ["water_play_area", "health_centre"],
            },
            [Point(X0 + 200, Y0 + 200), Point(X0 + 700, Y0 + 200)],
        ),
        # walking distances to the water play area at (200, 200): 300 m, 400 m, 100 m, 700 m
        "residences": gdf(
            {"population": [100.0, 300.0, 50.0, 70.0], "dwellings": [40, 120, 20, 30]},
            [
                Point(X0 + 400, Y0 + 300),
                Point(X0, Y0),
                Point(X0 + 200, Y0 + 100),
                Point(X0 + 800, Y0 + 400),
            ],
        ),
        "tree_plantings": gdf(
            {
                "trees": [3, 2, 5],
                "species": ["Tilia cordata", "Acer campestre", "Tilia cordata"],
                "year": [2022, 2023, 2023],
            },
            [Point(X0 + 50, Y0 + 50), Point(X0 + 150, Y0 + 50), Point(X0 + 650, Y0 + 50)],
        ),
        "desealed_areas": gdf(
            {"site": ["Cour école Jaurès"], "site_type": ["school_yard"], "year": [2023]},
            [box(X0 + 310, Y0 + 310, X0 + 350, Y0 + 360)],  # 40 m x 50 m = 2,000 m²
        ),
        "renewal_sites": gdf(
            {
                "name": ["Démolition A", "Maisons B"],
                "operation": ["demolition", "reconstruction"],
                "dwellings": [80, 30],
                "housing_type": ["collective", "individual"],
                "status": ["done", "planned"],
                "year": [2021, 2026],
                "compensates": ["QA", "QA"],
            },
            [
                box(X0 + 110, Y0 + 110, X0 + 190, Y0 + 190),
                box(X0 + 610, Y0 + 110, X0 + 690, Y0 + 190),
            ],
        ),
        "green_spaces": gdf(
            {"name": ["Square"], "public": [True]}, [box(X0 + 410, Y0 + 10, X0 + 490, Y0 + 90)]
        ),
    }


@pytest.fixture(scope="module")
def territory() -> Territory:
    return Territory("Testville", **layers())


@pytest.fixture(scope="module")
def metrics(territory: Territory):  # type: ignore[no-untyped-def]
    return compute_metrics(territory)


def test_key_figures_by_hand(metrics) -> None:  # type: ignore[no-untyped-def]
    kf = metrics.tables["key_figures"]
    assert list(kf.index) == ["QA", "QB"]
    assert list(kf["population"]) == [1000, 500]
    assert list(kf["facilities"]) == [1, 1]
    assert list(kf["trees"]) == [5, 5]
    assert np.allclose(kf["desealed_m2"], [2000.0, 0.0])
    # QA holds residences of 100 (300 m), 300 (400 m) and 50 (100 m) inhabitants; 5 min at
    # 4.5 km/h is 375 m: 150 of 450 are covered. QB's single residence (70) is 700 m away.
    assert kf.loc["QA", "water_play_area_share_5min"] == pytest.approx(150 / 450)
    assert kf.loc["QB", "water_play_area_share_5min"] == pytest.approx(0.0)
    assert kf.loc["QA", "demolished"] == 80 and kf.loc["QA", "rebuilt"] == 30
    cov = metrics.tables["coverage"]
    whole = cov[(cov["kind"] == "water_play_area") & (cov["threshold_min"] == 5)]
    assert whole["share"].iloc[-1] == pytest.approx(150 / 520)  # the territory row
    figures = metrics.layers["quartiers_figures"]
    assert list(figures["code"]) == ["QA", "QB"] and figures.crs.to_epsg() == 2154


def test_metrics_skip_what_is_missing(square_quartiers: gpd.GeoDataFrame) -> None:
    m = compute_metrics(Territory("Bare", quartiers=square_quartiers))
    assert set(m.tables) == {"key_figures"}
    text = " ".join(m.notes)
    assert "No street network" in text and "Coverage skipped: no residences / facilities" in text
    assert "Renewal skipped" in text and "Indicators skipped" in text


def test_skips_are_also_structured_for_the_maps(square_quartiers: gpd.GeoDataFrame) -> None:
    m = compute_metrics(Territory("Bare", quartiers=square_quartiers))
    assert m.skipped == [
        ("missing_layer", {"layer": "residences", "topic": "access"}),
        ("missing_layer", {"layer": "facilities", "topic": "access"}),
        ("missing_raster", {"name": "impervious_<year>", "topic": "renaturation"}),
        ("missing_layer", {"layer": "renewal_sites", "topic": "renewal"}),
        ("missing_table", {"name": "indicators", "topic": "indicators"}),
    ]
    assert m.as_dict()["notes"] == m.skipped
    # the maps label them, in French or English
    from cdv_geo.maps._style import label

    key, args = m.skipped[3]
    assert label(key, "fr", **args) == "couche « renewal_sites » absente du territoire"
    assert label(*m.skipped[4][:1], "en", **m.skipped[4][1]) == "no table 'indicators'"


def test_only_computes_what_is_asked(territory: Territory) -> None:
    m = compute_metrics(territory, only=["coverage"])
    assert set(m.tables) == {"coverage"} and not m.layers and not m.skipped
    assert m.network is not None  # coverage walks the street grid
    cov = m.tables["coverage"]
    qa = cov[(cov["code"] == "QA") & (cov["kind"] == "water_play_area")]
    # 5 min at 4.5 km/h = 375 m: 150 of QA's 450 residents (see test_key_figures_by_hand)
    assert qa.loc[qa["threshold_min"] == 5, "share"].iloc[0] == pytest.approx(150 / 450)
    # key figures bring what they summarise
    kf = compute_metrics(territory, only=["key_figures"])
    assert set(kf.tables) == {
        "key_figures",
        "coverage",
        "renewal_balance",
        "desealing",
        "trees",
    }  # no imperviousness raster in this territory: a note, no table
    assert "Impervious shares skipped: no raster named impervious_<year>." in kf.notes
    assert list(kf.tables["key_figures"]["trees"]) == [5, 5]
    with pytest.raises(CdvGeoError, match=r"unknown output\(s\) 'pools'; use names among"):
        compute_metrics(territory, only=["coverage", "pools"])


def test_service_areas_need_only_the_facilities(territory: Territory) -> None:
    t = Territory("Testville", facilities=territory.facilities, streets=territory.streets)
    m = compute_metrics(t, only=["service_areas"], service_kinds=["water_play_area", "school"])
    areas = m.layers["service_areas"]
    # no school in the territory: passed over; 300 m and 600 m along the grid from (200, 200)
    assert list(areas["kind"]) == ["water_play_area"] * 2
    assert sorted(areas["threshold_m"]) == [300.0, 600.0]
    areas = areas.sort_values("threshold_m")
    for along, inside in ((250, [True, True]), (450, [False, True]), (700, [False, False])):
        # a point on the street through the water play area, `along` metres walk away
        assert areas.contains(Point(X0 + 200 + along, Y0 + 200)).tolist() == inside, along
    with pytest.raises(CdvGeoError, match="service kind 'pool' is not a facility kind; use one"):
        compute_metrics(t, only=["service_areas"], service_kinds=["pool"])


def test_totals_only_without_breakdown(territory: Territory) -> None:
    m = compute_metrics(territory, only=["desealing", "trees", "renewal_balance"], breakdown=False)
    # one row per quartier (renewal: plus the programme), no breakdown by year or operation
    assert list(m.tables["trees"].index) == ["QA", "QB"]
    assert list(m.tables["trees"]["trees"]) == [5, 5]
    assert list(m.tables["desealing"]["desealed_m2"]) == pytest.approx([2000.0, 0.0])
    rb = m.tables["renewal_balance"]
    assert list(rb.index) == ["QA", "QB", "programme"]
    assert list(rb["demolished"]) == [80, 0, 80] and list(rb["received"]) == [0, 30, 30]
    assert not [c for c in rb.columns if c.startswith("dwellings_demolition")]


def test_write_tables_is_deterministic_and_labelled(metrics, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = write_tables(metrics, tmp_path / "a", formats=("csv", "xlsx", "gpkg"))
    b = write_tables(metrics, tmp_path / "b", formats=("csv",))
    csv_a = {p.name: p.read_bytes() for p in a if p.suffix == ".csv"}
    csv_b = {p.name: p.read_bytes() for p in b}
    assert csv_a == csv_b and "coverage.csv" in csv_a
    cov = pd.read_csv(tmp_path / "a" / "coverage.csv")
    assert "Part couverte (0–1)" in cov.columns and "Seuil (min à pied)" in cov.columns
    xl = pd.read_excel(tmp_path / "a" / "tables.xlsx", sheet_name=None)
    assert "Chiffres clés par quartier" in xl
    import pyogrio

    names = {str(n) for n in pyogrio.list_layers(tmp_path / "a" / "derived_layers.gpkg")[:, 0]}
    assert {"service_areas", "residences_access", "quartiers_figures"} <= names
    with pytest.raises(Exception, match="unknown table format"):
        write_tables(metrics, tmp_path / "c", formats=("pdf",))


def test_column_labels() -> None:
    assert column_label("water_play_area_distance_m") == "Aire de jeux d'eau : distance à pied (m)"
    assert column_label("population", lang="en") == "Population (residents)"
    assert column_label("something_new") == "something_new"


def fill_project(p: Path) -> None:
    for kind, gdf in layers().items():
        write_layer(gdf, p / "layers.gpkg", layer=kind)


def test_init_validate_report_from_an_empty_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    p = tmp_path / "p"
    res = runner.invoke(main, ["init", str(p)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["validate", str(p / "project.toml")])
    assert res.exit_code == 2
    for kind in ("quartiers", "facilities", "residences", "streets"):
        assert f"layer {kind}: layer is empty" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(main, ["init", str(p)])
    assert res.exit_code == 2 and "already exists; use --force" in res.output
    fill_project(p)
    res = runner.invoke(main, ["validate", str(p / "project.toml")])
    assert res.exit_code == 0, res.output
    out = tmp_path / "out"
    res = runner.invoke(main, ["report", str(p / "project.toml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in index
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert "Alpha" in index
    pngs = sorted((out / "figures").glob("*.png"))
    assert {p.stem for p in pngs} >= {"overview", "accessibility", "renaturation", "renewal"}
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert (out / "tables" / "key_figures.csv").exists()
    html_maps = [p for p in out.rglob("*.html") if p.name != "index.html"]
    assert html_maps, "the committee maps are written"
    for m in html_maps:
        assert m.name in index or str(m.relative_to(out)) in index


def test_metrics_twice_gives_identical_csv(tmp_path: Path) -> None:
    runner = CliRunner()
    p = tmp_path / "p"
    runner.invoke(main, ["init", str(p)])
    fill_project(p)
    for out in ("m1", "m2"):
        res = runner.invoke(
            main,
            ["metrics", str(p / "project.toml"), "--out", str(tmp_path / out), "--format", "csv"],
        )
        assert res.exit_code == 0, res.output
    one = sorted((tmp_path / "m1").glob("*.csv"))
    assert one
    for f in one:
        assert f.read_bytes() == (tmp_path / "m2" / f.name).read_bytes(), f.name


def test_report_bad_input_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    p = tmp_path / "p"
    runner.invoke(main, ["init", str(p)])
    fill_project(p)
    bad = layers()["facilities"].assign(kind=["water_play_area", "piscine"])
    write_layer(bad, p / "layers.gpkg", layer="facilities")
    res = runner.invoke(main, ["report", str(p / "project.toml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "layer facilities, feature 2, field 'kind': unknown value 'piscine'" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o" / "index.html").exists()


def test_official_qpv_file_in_project(tmp_path: Path) -> None:
    q = layers()["quartiers"].rename(columns={"code": "code_qp", "name": "lib_qp"})
    q["insee_com"] = ["99999", "88888"]
    q.to_file(tmp_path / "qp.geojson")
    (tmp_path / "project.toml").write_text(
        '[layers]\nquartiers = { path = "qp.geojson", official = true, communes = ["99999"] }\n'
    )
    t = Territory.from_file(tmp_path / "project.toml")
    assert list(t.quartiers["code"]) == ["QA"]


def test_build_report_reports_progress(territory: Territory, tmp_path: Path) -> None:
    from cdv_geo.output.report import build_report

    seen: list[tuple[str, int]] = []

    def progress(items, desc):  # type: ignore[no-untyped-def]
        items = list(items)
        seen.append((desc, len(items)))
        return items

    build_report(territory, tmp_path, formats=("csv",), progress=progress)
    # 6 metric steps; overview + 2 quartier maps + 4 thematic maps
    assert seen == [("metrics", 6), ("maps", 7)]
