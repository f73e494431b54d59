"""The heat and water step of compute_metrics (issue 14), checked by hand on the street grid.

The grid of tests/pipeline/grid.py (streets every 100 m: walking distances are Manhattan
distances), with children at home, a heat raster, fire hydrants and summer incidents.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin
from scipy import stats
from shapely import Point

import cdv_geo as cg
from cdv_geo import Territory
from cdv_geo.core.errors import DataValidationError
from cdv_geo.pipeline import TABLES, compute_metrics
from cdv_geo.pipeline.heat import HEAT_OUTPUTS
from cdv_geo.territory import Settings
from cdv_geo.testing import assert_metric_table
from tests.conftest import X0, Y0
from tests.pipeline.grid import grid_layers

LEVELS = ("kind", "threshold_min", "weight")


def heat_tif(path: Path, *, units: str | None = None) -> Path:
    """30 °C inside quartier QA (x 0-500, y 0-500), 20 °C elsewhere, 10 m pixels."""
    west, north = X0 - 100, Y0 + 600
    width, height = 120, 70  # the commune: 1,200 m x 700 m
    data = np.full((height, width), 20.0, dtype="float32")
    data[10:60, 10:60] = 30.0  # rows y 500..0, columns x 0..500
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs="EPSG:2154",
        transform=from_origin(west, north, 10, 10),
        nodata=-9999.0,
    ) as dst:
        dst.write(data, 1)
        if units:
            dst.set_band_unit(1, units)
    return path


def incident_points() -> gpd.GeoDataFrame:
    """4 incidents a summer near the play area before it opened (2017-2019), 1 after
    (2021-2023); 2 a summer far away every year (2017-2023)."""
    rows = []
    for year in (2017, 2018, 2019):
        rows += [(f"{year}-07-1{i}", X0 + 200, Y0 + 300) for i in range(4)]
    for year in (2021, 2022, 2023):
        rows.append((f"{year}-08-01", X0 + 200, Y0 + 300))
    for year in range(2017, 2024):
        rows += [(f"{year}-06-2{i}", X0 + 900, Y0 + 400) for i in range(2)]
    return gpd.GeoDataFrame(
        {"date": [r[0] for r in rows], "type": "hydrant_opened"},
        geometry=[Point(r[1], r[2]) for r in rows],
        crs=2154,
    )


def heat_territory(tmp_path: Path) -> Territory:
    layers = grid_layers("Beta")
    res = layers["residences"]
    # a fifth home in QB, on the street 30 m from the public square (a cool place)
    extra = gpd.GeoDataFrame(
        {"population": [60.0], "dwellings": [20]}, geometry=[Point(X0 + 510, Y0)], crs=2154
    )
    res = pd.concat([res, extra], ignore_index=True)
    res["children"] = [10.0, 30.0, 5.0, 7.0, 20.0]
    res["children_3_10"] = [4.0, 12.0, 2.0, 3.0, 8.0]
    layers["residences"] = gpd.GeoDataFrame(res, geometry="geometry", crs=2154)
    layers["facilities"]["opened"] = [2020, None]  # a year: the 1st of July
    layers["hydrants"] = gpd.GeoDataFrame(
        {"name": ["H1", "H2", "H3"]},
        geometry=[Point(X0 + 200, Y0 + 300), Point(X0 + 900, Y0 + 400), Point(X0 + 600, Y0)],
        crs=2154,
    )
    layers["incidents"] = incident_points()
    return Territory(
        "Testville",
        rasters={"heat_2023": {"path": heat_tif(tmp_path / "heat.tif"), "units": "°C"}},
        settings=Settings(crs="EPSG:2154", new_sites=1),
        **layers,
    )


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Territory, cg.pipeline.Metrics]:
    t = heat_territory(tmp_path_factory.mktemp("heat"))
    return t, compute_metrics(t, only=list(HEAT_OUTPUTS))


def test_tables_have_french_titles() -> None:
    for name in HEAT_OUTPUTS:
        fr, en, what = TABLES[name]
        assert fr and en and what and fr != en


def test_children_access_by_hand(grid) -> None:
    t, m = grid
    ca = m.children_access
    assert_metric_table(ca, t.quartiers, levels=LEVELS)
    share = ca["covered_share"]
    # 5 min = 375 m: homes at 300 m (10 children) and 100 m (5) of QA; QB's at 800 and 510 m
    assert share[("QA", "water_play_area", 5.0, "children")] == pytest.approx(15 / 45)
    assert share[("QB", "water_play_area", 5.0, "children")] == 0.0
    # every home lies in a quartier: qpv and commune count the same 72 children, hors_qpv none
    for row in ("qpv", "commune"):
        assert share[(row, "water_play_area", 5.0, "children")] == pytest.approx(15 / 72)
    assert np.isnan(share[("hors_qpv", "water_play_area", 5.0, "children")])
    assert share[("QA", "water_play_area", 5.0, "children_3_10")] == pytest.approx(6 / 18)
    # 10 min = 750 m: every home but QB's at 800 m (7 children, 3 aged 3-10)
    ten = share.xs((10.0, "children"), level=("threshold_min", "weight"))
    assert ten.tolist()[:4] == pytest.approx([1.0, 20 / 27, 65 / 72, 65 / 72])
    ten = share.xs((10.0, "children_3_10"), level=("threshold_min", "weight"))
    assert ten.tolist()[:4] == pytest.approx([1.0, 8 / 11, 26 / 29, 26 / 29])
    assert ca["n_residents"][("qpv", "water_play_area", 5.0, "children")] == 72
    assert ca["n_residents"][("commune", "water_play_area", 5.0, "children")] == 72


def test_heat_exposure_by_hand(grid) -> None:
    t, m = grid
    he = m.heat_exposure
    assert_metric_table(he, t.quartiers)
    # QA 25 ha at 30 °C, QB 25 ha at 20 °C; the commune's 84 ha hold 34 ha outside them at 20
    assert he["heat_mean"].to_dict() == pytest.approx(
        {
            "QA": 30.0,
            "QB": 20.0,
            "qpv": 25.0,
            "commune": (30 * 25 + 20 * 59) / 84,
            "hors_qpv": 20.0,
        }
    )
    assert he.attrs["units"] == "°C" and he.attrs["year"] == 2023
    # the town's 90th percentile: 30 °C (QA is 25 of its 84 hectares); QB's homes are at 20
    assert he.loc["QB", "hot_residents_share"] == 0.0
    homes = m.residences_heat.set_index("id")
    assert homes["heat"].iloc[[0, 2]].tolist() == [30.0, 30.0]
    assert homes["heat"].iloc[[3, 4]].tolist() == [20.0, 20.0]


def test_cool_access_by_hand(grid) -> None:
    t, m = grid
    cool = m.cool_access
    assert_metric_table(cool, t.quartiers, levels=LEVELS)
    share = cool["covered_share"]
    # the play area covers QA's homes at 300 m and 100 m; the public square (0.64 ha) the new
    # QB home 30 m away; the home at the origin is 420 m from the square
    assert share[("QA", "cool_place", 5.0, "population")] == pytest.approx(150 / 450)
    assert share[("QB", "cool_place", 5.0, "population")] == pytest.approx(60 / 130)
    assert share[("qpv", "cool_place", 5.0, "population")] == pytest.approx(210 / 580)
    assert share[("commune", "cool_place", 5.0, "population")] == pytest.approx(210 / 580)
    assert share[("QB", "cool_place", 5.0, "children")] == pytest.approx(20 / 27)


def test_incidents_rate_ratio_by_hand(grid) -> None:
    _t, m = grid
    inc = m.incidents
    near = inc.xs((5.0, "service_area"), level=("threshold_min", "zone")).iloc[0]
    rest = inc.xs((5.0, "rest_of_town"), level=("threshold_min", "zone")).iloc[0]
    assert (near["n_before"], near["n_after"]) == (12, 3)
    assert (near["n_summers_before"], near["n_summers_after"]) == (3, 3)  # 2020 left out
    assert (rest["n_before"], rest["n_after"]) == (6, 6)
    assert near["rate_ratio"] == pytest.approx(0.25)
    # exact interval: Clopper-Pearson bounds of 3 of 15 (beta quantiles), times 3/3
    low = stats.beta.ppf(0.025, 3, 13)
    high = stats.beta.ppf(0.975, 4, 12)
    assert near["rate_ratio_low"] == pytest.approx(low / (1 - low), rel=1e-6)
    assert near["rate_ratio_high"] == pytest.approx(high / (1 - high), rel=1e-6)
    assert near["did_per_summer"] == pytest.approx((1 - 4) - (2 - 2))
    assert near["ratio_of_rate_ratios"] == pytest.approx(0.25)
    assert high / (1 - high) < 1
    assert near["conclusion"] == "fewer incidents after opening (interval below 1)"


def test_hydrants_count_their_incidents(grid) -> None:
    _t, m = grid
    h = m.hydrant_incidents
    assert h["name"].tolist() == ["H1", "H2", "H3"]
    assert h["n_incidents"].tolist() == [15, 14, 0]


def test_site_choice_by_hand(grid) -> None:
    _t, m = grid
    sites = m.site_choice
    # children not within 5 min of the play area: 30 at the origin, 7 and 20 in QB; only the
    # square reaches any (the 20, 30 m away)
    assert sites.index.tolist() == ["green_space:1"]
    assert sites["n_children_covered"].tolist() == [20.0]
    assert sites["site_type"].tolist() == ["green_space"]
    assert sites["n_incidents_covered"].tolist() == [0.0]
    assert sites.attrs["k"] == 1 and sites.attrs["status"] == "Optimal"
    assert m.suggested_sites.geometry.area.round().tolist() == [6400.0]


def test_water_service_areas_at_walking_times(grid) -> None:
    _t, m = grid
    areas = m.water_service_areas
    assert areas["threshold_min"].tolist() == [5.0, 10.0]
    assert areas["threshold_m"].tolist() == pytest.approx([375.0, 750.0])


def test_missing_inputs_give_notes_not_errors() -> None:
    layers = grid_layers("Beta")
    t = Territory("Bare", **{k: layers[k] for k in ("quartiers", "residences", "facilities")})
    m = compute_metrics(t, only=list(HEAT_OUTPUTS))
    absent = ("children_access", "heat_exposure", "incidents", "site_choice")
    assert all(getattr(m, name) is None for name in absent)
    assert m.cool_access is not None  # the play area is a cool place
    notes = {(n.key, n.topic, tuple(sorted(n.args.items()))) for n in m.notes_on("heat", "water")}
    assert ("missing_raster", "heat", (("name", "heat_<year>"),)) in notes
    assert ("missing_layer", "water", (("layer", "incidents"),)) in notes
    assert ("missing_field", "water", (("field", "children"), ("layer", "residences"))) in notes
    # a play area without an opening date: no incidents table, a note
    layers["facilities"]["opened"] = None
    t2 = Territory("No dates", incidents=incident_points(), facilities=layers["facilities"])
    m2 = compute_metrics(t2, only=["incidents"])
    assert m2.incidents is None
    assert [n.args for n in m2.notes_on("water")] == [{"field": "opened", "layer": "facilities"}]


def _project(tmp_path: Path, raster_entry: str) -> Path:
    q = grid_layers("Beta")["quartiers"]
    q.to_file(tmp_path / "q.geojson")
    toml = f'[layers]\nquartiers = "q.geojson"\n\n[rasters]\n{raster_entry}\n'
    (tmp_path / "project.toml").write_text(toml, encoding="utf-8")
    return tmp_path / "project.toml"


def test_a_heat_raster_without_units_is_a_problem(tmp_path: Path) -> None:
    heat_tif(tmp_path / "heat.tif")
    with pytest.raises(DataValidationError) as err:
        Territory.from_file(_project(tmp_path, 'heat_2023 = "heat.tif"'))
    assert "has no units" in str(err.value) and "heat_2023" in str(err.value)


def test_heat_raster_units_from_the_project_or_the_file(tmp_path: Path) -> None:
    heat_tif(tmp_path / "heat.tif")
    entry = 'heat_2023 = { path = "heat.tif", units = "°C" }'
    t = Territory.from_file(_project(tmp_path, entry))
    assert t.raster_units == {"heat_2023": "°C"} and t.rasters["heat_2023"].name == "heat.tif"
    heat_tif(tmp_path / "heat_k.tif", units="K")
    t = Territory.from_file(_project(tmp_path, 'heat = "heat_k.tif"'))
    assert t.raster_units == {} and t.validate() == []
    with pytest.raises(DataValidationError, match="unknown option"):
        Territory.from_file(_project(tmp_path, 'heat = { path = "heat.tif", unit = "°C" }'))


def test_demo_heat_tables_follow_the_contract() -> None:
    t = cg.datasets.soissons()
    m = compute_metrics(t, only=list(HEAT_OUTPUTS))
    assert all(getattr(m, name) is not None for name in HEAT_OUTPUTS)
    assert_metric_table(m.heat_exposure, t.quartiers)
    assert_metric_table(m.children_access, t.quartiers, levels=LEVELS)
    assert_metric_table(m.cool_access, t.quartiers, levels=LEVELS)
    assert m.heat_exposure.attrs["units"] == "°C"
    # the demo residences hold 22 % children, more or less
    total = m.children_access.loc[("commune", "water_play_area", 5.0, "children"), "n_residents"]
    assert total == pytest.approx(0.22 * t.residences["population"].sum(), rel=0.05)
    assert len(m.site_choice) == t.settings.new_sites == 3
    assert m.notes_on("heat", "water") == []
