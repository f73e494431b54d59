"""Territory from GeoDataFrames and from a TOML project file."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, Polygon, box

from cdv_geo import CdvGeoError, CRSError, DataValidationError, Territory
from cdv_geo.pipeline import compute_metrics
from cdv_geo.territory import TableSource, read_table, table_paths
from cdv_geo.testing import assert_metric_table
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
    assert_metric_table(summary, t.quartiers)
    # one facility in each square, none outside (counted by hand from the fixture); no
    # communes layer: the quartiers and qpv only
    assert summary["n_facilities"].tolist() == [1, 1, 2]
    assert summary["name"].tolist() == ["Alpha", "Beta", "Ensemble des QPV"]
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
    # the bowtie, the duplicate id, the missing table ("zoo" is kept: kinds are an open list)
    assert len(probs) == 3
    assert any(p.layer == "facilities" and p.field == "id" for p in probs)
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


def _indicator_files(folder: Path) -> None:
    folder.mkdir()
    # a town's own table (no vintage in its name, no level column: the options say)
    (folder / "mes_qpv.csv").write_text("COM;TAUX_PAUV\nQP099001;41,2\nQP099002;30,5\n")
    # an INSEE file as published: vintage in the name, percentages with a decimal comma
    (folder / "REVN_2019.csv").write_bytes(
        "\ufeffCODGEO;LIBGEO;TP60;A;ARSAS;NOTE_CNAF;;\r\nQP099001;Alpha;55,4;1763;577;0;;\r\n".encode()
    )


def _project(tmp: Path, tables: str) -> Path:
    write(
        gpd.GeoDataFrame(
            {"code": ["QP099001", "QP099002"], "name": ["Alpha", "Beta"]},
            geometry=[box(X0, Y0, X0 + 500, Y0 + 500), box(X0 + 500, Y0, X0 + 1000, Y0 + 500)],
            crs=2154,
        ),
        tmp / "qpv.geojson",
    )
    _indicator_files(tmp / "ind")
    path = tmp / "project.toml"
    path.write_text(f'[layers]\nquartiers = "qpv.geojson"\n[tables]\n{tables}\n')
    return path


def test_indicators_from_a_file_with_options(tmp_path: Path) -> None:
    spec = (
        'indicators = { path = "ind/mes_qpv.csv", year = 2021, '
        'columns = { TAUX_PAUV = "poverty_rate_pct", COM = "code" }, source = "ville" }'
    )
    t = Territory.from_file(_project(tmp_path, spec))
    src = t.tables["indicators"]
    assert isinstance(src, TableSource) and src.year == 2021 and src.source == "ville"
    assert src.paths == [(tmp_path / "ind" / "mes_qpv.csv").resolve()]
    m = compute_metrics(t, only=["indicators"])
    assert m.indicators is not None
    got = m.indicators.set_index("code")["value"].to_dict()
    assert got == pytest.approx({"QP099001": 0.412, "QP099002": 0.305})  # 41,2 % -> 0.412
    assert set(m.indicators["year"]) == {2021} and set(m.indicators["source"]) == {"ville"}


def test_indicators_from_a_list_or_a_folder(tmp_path: Path) -> None:
    t = Territory.from_file(_project(tmp_path, 'indicators = ["ind/REVN_2019.csv"]'))
    assert t.tables["indicators"] == [(tmp_path / "ind" / "REVN_2019.csv").resolve()]
    assert table_paths(t.tables["indicators"]) == t.tables["indicators"]
    m = compute_metrics(t, only=["indicators"])
    assert m.indicators is not None
    poverty = m.indicators[m.indicators["indicator"] == "poverty_rate"]
    assert poverty["value"].tolist() == pytest.approx([0.554])
    # a folder: every table in it (the town's table needs options: a problem, named)
    (tmp_path / "project.toml").write_text(
        '[layers]\nquartiers = "qpv.geojson"\n[tables]\nindicators = "ind"\n'
    )
    with pytest.raises(DataValidationError, match="mes_qpv.csv"):
        Territory.from_file(tmp_path / "project.toml")


def test_table_problems_are_collected(tmp_path: Path) -> None:
    path = _project(tmp_path, 'indicators = { path = ["ind/none.csv"], vintage = 2021 }')
    with pytest.raises(DataValidationError) as info:
        Territory.from_file(path)
    assert "unknown option(s) ['vintage']" in str(info.value)
    path.write_text(
        '[layers]\nquartiers = "qpv.geojson"\n[tables]\nindicators = ["ind/none.csv"]\n'
    )
    with pytest.raises(DataValidationError, match="table 'indicators' does not exist"):
        Territory.from_file(path)
    assert read_table(TableSource("a.csv", year=2021), lambda p, **kw: (p.name, kw)) == (
        "a.csv",
        {"year": 2021},
    )


def test_a_layer_may_name_its_crs(tmp_path: Path, square_quartiers: gpd.GeoDataFrame) -> None:
    # a shapefile without its .prj (coordinates in Lambert-93)
    write(square_quartiers, tmp_path / "q.shp")
    (tmp_path / "q.prj").unlink()
    text = '[layers]\nquartiers = { path = "q.shp", crs = "EPSG:2154" }\n'
    (tmp_path / "project.toml").write_text(text)
    t = Territory.from_file(tmp_path / "project.toml")
    assert t.quartiers is not None and t.quartiers.crs.to_epsg() == 2154
    assert t.quartiers.geometry.area.tolist() == pytest.approx([250_000.0] * 2)


def test_the_communes_layer_gives_the_quartiers_their_commune(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    quartiers = gpd.GeoDataFrame(
        {"code": ["QP099001"], "name": ["Alpha"]},  # no commune field
        geometry=[box(X0, Y0, X0 + 500, Y0 + 500)],
        crs=2154,
    )
    communes = gpd.GeoDataFrame(
        {"code": ["99999"], "name": ["Testville"]},
        geometry=[box(X0 - 100, Y0 - 100, X0 + 1100, Y0 + 600)],
        crs=2154,
    )
    table = tmp_path / "long.csv"
    table.write_text(
        "code;level;indicator;year;value\n"
        "QP099001;qpv;poverty_rate;2021;0.41\n"
        "99999;commune;poverty_rate;2021;0.18\n"
        "88888;commune;poverty_rate;2021;0.11\n"
    )
    t = Territory("T", quartiers=quartiers, communes=communes, tables={"indicators": table})
    with caplog.at_level(logging.WARNING, logger="cdv_geo"):
        m = compute_metrics(t, only=["indicators"])
    assert m.indicators is not None
    # the town holding the quartier is kept, another town is left out (with a warning note)
    assert m.indicators.set_index("code")["value"].to_dict() == {"QP099001": 0.41, "99999": 0.18}
    assert any(n.key == "warning_indicators" for n in m.notes)
    # the warning itself (which names the code left out) is in the log, not in the note
    assert "88888" in caplog.text
    assert not any("88888" in n.text for n in m.notes)


def test_residences_from_a_filosofi_grid(tmp_path: Path) -> None:
    import shutil

    from cdv_geo import datasets

    shutil.copy(datasets.get_path("soissons", "income_grid"), tmp_path / "grid.gpkg")
    shutil.copy(datasets.get_path("soissons", "quartiers"), tmp_path / "q.geojson")
    (tmp_path / "project.toml").write_text(
        '[layers]\nquartiers = "q.geojson"\nresidences = { grid = "grid.gpkg" }\n'
    )
    t = Territory.from_file(tmp_path / "project.toml")
    assert t.residences is not None and t.residences.attrs.get("kind") == "residences"
    assert set(t.residences["placement"]) == {"square_centre"}  # no buildings given
    (tmp_path / "project.toml").write_text(
        '[layers]\nquartiers = "q.geojson"\nresidences = { grid = "none.gpkg" }\n'
        '[tables]\nincome_grid = { path = "grid.gpkg", year = 2019 }\n'
    )
    with pytest.raises(DataValidationError) as info:
        Territory.from_file(tmp_path / "project.toml")
    text = str(info.value)
    assert "none.gpkg" in text and "unknown option(s) ['year']" in text


def test_tables_are_read_once_when_the_project_is_loaded(monkeypatch):
    import pandas as pd

    import cdv_geo as cg
    import cdv_geo.io.insee as insee

    calls: list[object] = []
    real = insee.read_indicators

    def counted(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(insee, "read_indicators", counted)
    t = Territory.from_file(cg.datasets.get_path("soissons"))
    assert len(calls) == 1  # checked at load...
    m = compute_metrics(t, only=["indicators"])
    assert len(calls) == 1  # ...and not read again by the metrics
    direct = real(t.tables["indicators"], quartiers=t.quartiers)
    pd.testing.assert_frame_equal(m.indicators, direct)
    # the table given is a copy: editing it does not change the next metrics
    edited = t.table("indicators")
    edited.loc[0, "value"] = -1.0
    assert t.table("indicators").loc[0, "value"] == real(t.tables["indicators"]).loc[0, "value"]
    # another entry is read again
    only_2022 = sorted(t.tables["indicators"].glob("*2022*"))
    t.tables["indicators"] = TableSource(tuple(only_2022))
    assert set(t.table("indicators")["year"]) == {2022} and len(calls) == 2
    with pytest.raises(CdvGeoError, match="no table 'nope'"):
        t.table("nope")


def test_a_territory_built_in_python_is_checked_for_where_its_layers_lie() -> None:
    x, y = 728000, 6920000
    q = gpd.GeoDataFrame(
        {"code": ["QP1"], "name": ["A"]}, geometry=[box(x, y, x + 500, y + 500)], crs=2154
    )
    near = gpd.GeoDataFrame(
        {"kind": ["school"], "name": ["École"]}, geometry=[Point(x + 100, y + 100)], crs=2154
    )
    assert Territory(name="T", quartiers=q, facilities=near).validate() == []
    # the same school 30 km away (another town's file): a problem naming the layer
    far = near.set_geometry([Point(x + 30_000, y)], crs=2154)
    problems = Territory(name="T", quartiers=q, facilities=far).validate()
    assert [p.layer for p in problems] == ["facilities"]
