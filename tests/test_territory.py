"""Territory from GeoDataFrames and from a TOML project file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, Polygon

from cdv_geo import CdvGeoError, CRSError, DataValidationError, Territory
from tests.conftest import X0, Y0, write


def write_raster(path: Path, crs: str | None) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=2,
        height=2,
        count=1,
        dtype="uint8",
        crs=crs,
        transform=from_origin(X0, Y0 + 20, 10, 10),
    ) as dst:
        dst.write(np.zeros((2, 2), dtype="uint8"), 1)


def make_project(tmp: Path, quartiers: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> Path:
    (tmp / "shapes").mkdir()
    write(quartiers, tmp / "shapes" / "qpv.geojson")
    write(facilities, tmp / "shapes" / "equipements.gpkg", layer="equipements")
    (tmp / "rasters").mkdir()
    write_raster(tmp / "rasters" / "imp.tif", crs="EPSG:2154")
    (tmp / "project.toml").write_text(
        """
[territory]
name = "Testville"
crs = "EPSG:2154"

[settings]
walking_speed_kmh = 5
thresholds_min = [5, 15]

[layers]
quartiers = "shapes/qpv.geojson"
facilities = { path = "shapes/equipements.gpkg", layer = "equipements" }

[rasters]
impervious = "rasters/imp.tif"
""",
        encoding="utf-8",
    )
    return tmp / "project.toml"


def test_from_file_relative_paths(
    tmp_path: Path, square_quartiers: gpd.GeoDataFrame, facilities_gdf: gpd.GeoDataFrame
) -> None:
    t = Territory.from_file(make_project(tmp_path, square_quartiers, facilities_gdf))
    assert t.name == "Testville"
    assert t.layer_names() == ["quartiers", "facilities"]
    assert t.settings.walking_speed_kmh == 5.0 and t.settings.thresholds_min == (5.0, 15.0)
    assert t.rasters["impervious"] == (tmp_path / "rasters" / "imp.tif").resolve()
    assert t.residences is None and t.validate() == []
    summary = t.summary()
    assert summary.loc["facilities", "Alpha"] == 1 and summary.loc["facilities", "Beta"] == 1
    assert summary.loc["facilities", "total"] == 2
    assert "Testville" in repr(t) and "facilities=2" in repr(t)


def test_from_file_collects_problems_of_every_layer(
    tmp_path: Path, square_quartiers: gpd.GeoDataFrame, bowtie: Polygon
) -> None:
    bad_fac = gpd.GeoDataFrame(
        {"id": ["x", "x"], "name": ["a", "b"], "kind": ["school", "zoo"]},
        geometry=[Point(X0, Y0), Point(X0 + 5, Y0)],
        crs=2154,
    )
    bad_q = square_quartiers.copy()
    bad_q.loc[1, "geometry"] = bowtie
    path = make_project(tmp_path, bad_q, bad_fac)
    text = path.read_text().replace('[rasters]\nimpervious = "rasters/imp.tif"', "")
    text += '\n[tables]\nindicators = "missing.csv"\n'
    path.write_text(text)
    with pytest.raises(DataValidationError) as info:
        Territory.from_file(path)
    probs = info.value.problems
    assert {p.layer for p in probs} == {"quartiers", "facilities", "tables"}
    assert len(probs) == 4
    assert any(p.layer == "quartiers" and p.feature == "QB" for p in probs)
    assert any("missing.csv" in (p.file or "") for p in probs)


def test_repair_flag_reaches_layers(
    tmp_path: Path,
    square_quartiers: gpd.GeoDataFrame,
    facilities_gdf: gpd.GeoDataFrame,
    bowtie: Polygon,
) -> None:
    bad_q = square_quartiers.copy()
    bad_q.loc[1, "geometry"] = bowtie
    path = make_project(tmp_path, bad_q, facilities_gdf)
    with pytest.warns(UserWarning, match="repaired 1 invalid geometry"):
        t = Territory.from_file(path, repair=True)
    assert t.quartiers is not None and t.quartiers.geometry.is_valid.all()


def test_bad_settings_and_unknown_layer(tmp_path: Path) -> None:
    p = tmp_path / "project.toml"
    p.write_text('[territory]\ncrs = "EPSG:4326"\n[settings]\nspeed = 3\n[layers]\nshops = "a"\n')
    with pytest.raises(DataValidationError) as info:
        Territory.from_file(p)
    text = str(info.value)
    assert "unknown settings ['speed']" in text
    assert "not projected in metres" in text
    assert "unknown layer 'shops'" in text


def test_missing_and_broken_project_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="project file does not exist.*cdv-geo init"):
        Territory.from_file(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[layers\n")
    with pytest.raises(DataValidationError, match="not valid TOML"):
        Territory.from_file(bad)


def test_constructor_validates_and_needs_crs(square_quartiers: gpd.GeoDataFrame) -> None:
    raw = square_quartiers.rename(columns={"name": "nom"})
    t = Territory("T", quartiers=raw)
    assert list(t.quartiers["name"]) == ["Alpha", "Beta"]
    assert "nom" not in raw.columns or "name" not in raw.columns  # input untouched
    with pytest.raises(CRSError, match="layer quartiers has no coordinate"):
        Territory(
            "T",
            quartiers=gpd.GeoDataFrame(raw.drop(columns="geometry"), geometry=list(raw.geometry)),
        )


def test_quartier_lookup(square_quartiers: gpd.GeoDataFrame) -> None:
    t = Territory("T", quartiers=square_quartiers)
    assert t.quartier("alpha")["code"] == "QA"
    assert t.quartier("QB")["name"] == "Beta"
    with pytest.raises(
        CdvGeoError,
        match=r"no quartier named 'Gamma'; valid quartiers: "
        r"Alpha \(QA\), Beta \(QB\)",
    ):
        t.quartier("Gamma")
    with pytest.raises(CdvGeoError, match="has no facilities layer"):
        t.metric("facilities")


def test_validate_opens_rasters_and_tables(
    tmp_path: Path, square_quartiers: gpd.GeoDataFrame, facilities_gdf: gpd.GeoDataFrame
) -> None:
    path = make_project(tmp_path, square_quartiers, facilities_gdf)
    write_raster(tmp_path / "rasters" / "imp.tif", crs=None)
    (tmp_path / "ind.csv").write_text("code;DISP_TP60_A21\nQA;120\n", encoding="utf-8")
    path.write_text(path.read_text() + '\n[tables]\nindicators = "ind.csv"\n')
    with pytest.raises(DataValidationError) as info:
        Territory.from_file(path)
    text = str(info.value)
    assert "imp.tif" in text and "raster impervious" in text
    assert "ind.csv" in text and "120" in text


def test_metric_layers_are_reprojected_once(square_quartiers: gpd.GeoDataFrame) -> None:
    t = Territory("T", quartiers=square_quartiers.to_crs(4326))
    first = t.metric("quartiers")
    assert first.crs.to_epsg() == 2154
    assert np.allclose(first.area, 250_000, rtol=1e-6)  # 500 m squares, back in Lambert-93
    assert t.metric("quartiers") is first
    t.quartiers = t.quartiers.iloc[:1]  # a replaced layer is reprojected again
    assert len(t.metric("quartiers")) == 1
