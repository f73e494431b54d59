"""compute_metrics and Metrics on the street-grid territory of tests/pipeline/grid.py (by hand)."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point

from cdv_geo import Territory
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.labels import label
from cdv_geo.pipeline import TABLE_FIELDS, TABLES, Metrics, Note, compute_metrics
from cdv_geo.testing import assert_metric_table
from tests.conftest import X0, Y0
from tests.pipeline.grid import grid_layers


@pytest.fixture(scope="module")
def territory() -> Territory:
    return Territory("Testville", **grid_layers())


@pytest.fixture(scope="module")
def metrics(territory: Territory) -> Metrics:
    return compute_metrics(territory)


def test_key_figures_by_hand(metrics: Metrics, territory: Territory) -> None:
    kf = metrics.key_figures
    assert kf is not None
    assert_metric_table(kf, territory.quartiers)
    assert kf.columns.tolist()[:5] == [
        "name",
        "n_residents",
        "population_source",
        "area_m2",
        "n_facilities",
    ]
    assert kf.index.tolist() == ["QA", "QB", "qpv", "commune", "hors_qpv"]
    # quartiers' population; qpv their sum; the commune's published 6,000; the rest outside
    assert kf["n_residents"].tolist() == [1000, 500, 1500, 6000, 4500]
    assert kf["population_source"].tolist() == ["official"] * 5
    # two 500 m squares; the commune is 1,200 m x 700 m
    assert kf["area_m2"].tolist() == pytest.approx([250_000, 250_000, 500_000, 840_000, 340_000])
    # every facility, tree and yard of the grid lies in a quartier: none in hors_qpv
    assert kf["n_facilities"].tolist() == [1, 1, 2, 2, 0]
    assert kf["n_trees"].tolist() == [5, 5, 10, 10, 0]
    assert kf["desealed_m2"].tolist() == pytest.approx([2000.0, 0.0, 2000.0, 2000.0, 0.0])
    # QA holds residences of 100 (300 m), 300 (400 m) and 50 (100 m) inhabitants; 5 min at
    # 4.5 km/h is 375 m: 150 of 450 are covered. QB's single residence (70) is 700 m away.
    # qpv and the commune: 150 of 520; no home outside the quartiers: NaN with a reason
    assert kf["coverage_share"].iloc[:4].tolist() == pytest.approx(
        [150 / 450, 0.0, 150 / 520, 150 / 520]
    )
    assert np.isnan(kf.loc["hors_qpv", "coverage_share"])
    assert kf.attrs["service"] == "water_play_area" and kf.attrs["threshold_min"] == 5
    # the demolition (80) and the reconstruction (30, built in QB) both belong to QA
    assert kf["n_demolished"].tolist()[:4] == [80, 0, 80, 80]
    assert kf["n_rebuilt"].tolist()[:4] == [30, 0, 30, 30]
    assert kf.loc["QB", "n_received"] == 30
    # no imperviousness raster: NaN with a reason, never 0
    assert kf["impervious_share"].isna().all()
    assert kf["reason"].str.contains("no imperviousness raster").all()
    figures = metrics.quartiers_figures
    assert figures is not None and figures["code"].tolist() == ["QA", "QB"]
    assert figures.crs.to_epsg() == 2154 and figures["n_trees"].tolist() == [5, 5]


def test_metrics_is_typed(metrics: Metrics) -> None:
    names = {f.name for f in dataclasses.fields(Metrics)}
    assert set(TABLE_FIELDS) <= names and set(TABLE_FIELDS) == set(TABLES)
    assert {"service_areas", "residences_access", "network", "crs", "notes"} <= names
    assert dict(metrics.tables)["coverage"] is metrics.coverage
    assert metrics.layers["residences_access"] is metrics.residences_access
    with pytest.raises(TypeError):
        metrics.tables["coverage"] = None  # type: ignore[index]
    assert metrics.crs is not None and metrics.crs.to_epsg() == 2154


def test_metrics_skip_what_is_missing(square_quartiers: gpd.GeoDataFrame) -> None:
    m = compute_metrics(Territory("Bare", quartiers=square_quartiers))
    assert set(m.tables) == {"key_figures"}
    assert all(isinstance(n, Note) for n in m.notes)
    keys = [(n.key, n.topic, n.args) for n in m.notes]
    assert ("method", "network", {"method": "euclidean"}) in keys
    assert ("missing_layer", "access", {"layer": "residences"}) in keys
    assert ("missing_layer", "access", {"layer": "facilities"}) in keys
    assert ("missing_raster", "renaturation", {"name": "impervious_<year>"}) in keys
    assert ("missing_layer", "renaturation", {"layer": "desealed_areas"}) in keys
    assert ("missing_layer", "renewal", {"layer": "renewal_sites"}) in keys
    assert ("missing_table", "indicators", {"name": "indicators"}) in keys
    texts = " ".join(n.text for n in m.notes)
    assert "No street network" in texts and "Renewal skipped" in texts
    # the maps and the report label them, in French or English
    renewal = next(n for n in m.notes if n.topic == "renewal")
    assert label(renewal.key, "fr", **renewal.args) == (
        "couche « renewal_sites » absente du territoire"
    )
    assert [n.topic for n in m.notes_on("indicators")] == ["indicators"]


def test_warnings_of_a_metric_become_notes(territory: Territory) -> None:
    layers = grid_layers()
    sites = layers["renewal_sites"].copy()
    sites["compensates"] = [None, None]  # a reconstruction without its quartier: a warning
    t = Territory("Testville", quartiers=layers["quartiers"], renewal_sites=sites)
    m = compute_metrics(t, only=["renewal_balance"])
    warned = [n for n in m.notes if n.key.startswith("warning")]
    # one note for the step, in plain words: the warning's own text (fields, codes) is logged
    assert [(n.key, n.topic) for n in warned] == [("warning_renewal", "renewal")]
    assert "compensates" not in warned[0].text and "renewal" in warned[0].text


def test_a_warning_never_brings_its_path_into_a_note(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A metric's warning naming a temporary file: logged as it is, the note says it plainly."""
    import warnings

    from cdv_geo.core.errors import CdvGeoWarning
    from cdv_geo.metrics import renewal

    original = renewal.renewal_balance
    path = "/tmp/tmpab12cd/streets.osm"

    def warns(*args: object, **kwargs: object) -> object:
        warnings.warn(f"OSM file {path}: 12 nodes are missing", CdvGeoWarning, stacklevel=2)
        warnings.warn(f"OSM file {path}: 3 ways are cut", CdvGeoWarning, stacklevel=2)
        return original(*args, **kwargs)

    monkeypatch.setattr(renewal, "renewal_balance", warns)
    layers = grid_layers()
    t = Territory("Testville", quartiers=layers["quartiers"], renewal_sites=layers["renewal_sites"])
    with caplog.at_level("WARNING", logger="cdv_geo"):
        m = compute_metrics(t, only=["renewal_balance"])
    warned = [n for n in m.notes if n.key.startswith("warning")]
    assert len(warned) == 1  # two warnings of one step: one note
    for lang in ("fr", "en"):
        assert "/tmp" not in warned[0].label(lang) and "OSM file" not in warned[0].label(lang)
    assert "/tmp" not in warned[0].text and not warned[0].args
    assert caplog.text.count(path) == 2  # the detail is in the log


def test_only_computes_what_is_asked(territory: Territory) -> None:
    m = compute_metrics(territory, only=["coverage"])
    assert set(m.tables) == {"coverage"} and not m.layers and not m.notes
    assert m.network is not None  # coverage walks the street grid
    cov = m.coverage
    assert cov is not None
    qa = cov.loc[("QA", "water_play_area", 5.0), "covered_share"]
    assert qa == pytest.approx(150 / 450)  # see test_key_figures_by_hand
    # key figures bring what they summarise
    kf = compute_metrics(territory, only=["key_figures"])
    assert set(kf.tables) == {"key_figures", "coverage", "renewal_balance", "desealing", "trees"}
    # no imperviousness raster in this territory: a note, no table
    assert any(n.key == "missing_raster" for n in kf.notes)
    with pytest.raises(CdvGeoError, match=r"unknown output\(s\) 'pools'; use names among"):
        compute_metrics(territory, only=["coverage", "pools"])


def test_service_areas_need_only_the_facilities(territory: Territory) -> None:
    t = Territory("Testville", facilities=territory.facilities, streets=territory.streets)
    m = compute_metrics(t, only=["service_areas"], service_kinds=["water_play_area", "school"])
    areas = m.service_areas
    assert areas is not None
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
    assert m.trees is not None and m.desealing is not None and m.renewal_balance is not None
    # one row per quartier and comparison row, no breakdown by year or site type
    assert_metric_table(m.trees, territory.quartiers)
    assert m.trees["n_trees"].tolist() == [5, 5, 10, 10, 0]
    assert m.desealing["desealed_m2"].tolist() == pytest.approx([2000.0, 0.0, 2000.0, 2000.0, 0.0])
    rb = m.renewal_balance
    assert rb["n_demolished"].tolist()[:4] == [80, 0, 80, 80]
    assert rb["n_received"].tolist()[:2] == [0, 30]


def test_impervious_years_stack(tmp_path, territory: Territory) -> None:  # type: ignore[no-untyped-def]
    import rasterio
    from rasterio.transform import from_origin

    def raster(name: str, value: int) -> object:
        path = tmp_path / f"{name}.tif"
        data = np.full((60, 120), value, dtype="uint8")
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=120,
            height=60,
            count=1,
            dtype="uint8",
            crs="EPSG:2154",
            transform=from_origin(X0 - 100, Y0 + 500, 10, 10),
            nodata=255,
        ) as ds:
            ds.write(data, 1)
        return path

    t = Territory(
        "Testville",
        quartiers=territory.quartiers,
        rasters={"impervious_2018": raster("a", 60), "impervious_2024": raster("b", 45)},
    )
    m = compute_metrics(t, only=["key_figures"])
    assert m.impervious is not None
    assert_metric_table(m.impervious, t.quartiers, levels=("year",))
    assert sorted(set(m.impervious.index.get_level_values("year"))) == [2018, 2024]
    kf = m.key_figures
    assert kf is not None and kf.attrs["impervious_year"] == 2024
    # uniform rasters: 45 % sealed in 2024, 15 points less than in 2018
    assert kf.loc["QA", "impervious_share"] == pytest.approx(0.45)
    assert kf.loc["QA", "impervious_change_pp"] == pytest.approx(-15.0)
