"""The cdv-geo command through its entry point: exit codes and messages."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from click.testing import CliRunner
from shapely import Point, Polygon

from cdv_geo.cli import main
from tests.conftest import X0, Y0, write


def bad_project(tmp: Path, quartiers: gpd.GeoDataFrame, bowtie: Polygon) -> Path:
    """A project holding every kind of bad input of the foundation issue."""
    fac = gpd.GeoDataFrame(
        {"id": ["f1", "f1"], "name": ["École", "Zoo"], "kind": ["school", "zoo"]},
        geometry=[Point(X0, Y0), Point(X0 + 5, Y0)],
        crs=2154,
    )
    q = quartiers.copy()
    q.loc[0, "geometry"] = bowtie
    write(fac, tmp / "equipements.geojson")
    write(q, tmp / "qpv.geojson")
    trees = gpd.GeoDataFrame({"trees": [2]}, geometry=[Point(X0, Y0)], crs=2154)
    write(trees, tmp / "arbres.shp")
    (tmp / "arbres.prj").unlink()
    (tmp / "project.toml").write_text(
        '[layers]\nquartiers = "qpv.geojson"\nfacilities = "equipements.geojson"\n'
        'tree_plantings = "arbres.shp"\n'
    )
    return tmp / "project.toml"


def test_validate_ok(tmp_path: Path, square_quartiers: gpd.GeoDataFrame) -> None:
    write(square_quartiers, tmp_path / "qpv.geojson")
    (tmp_path / "project.toml").write_text('[layers]\nquartiers = "qpv.geojson"\n')
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "project.toml")])
    assert res.exit_code == 0, res.output
    assert "is valid" in res.output
    line = next(ln for ln in res.output.splitlines() if ln.startswith("quartiers"))
    assert line.split()[:3] == ["quartiers", "2", "Polygon"]


def test_validate_lists_every_problem_without_traceback(
    tmp_path: Path, square_quartiers: gpd.GeoDataFrame, bowtie: Polygon
) -> None:
    res = CliRunner().invoke(
        main, ["validate", str(bad_project(tmp_path, square_quartiers, bowtie))]
    )
    assert res.exit_code == 2
    out = res.output
    assert "Traceback" not in out
    assert "4 problems in project" in out
    assert "'zoo'" in out and "id 'f1' is used by 2 features" in out
    assert "layer quartiers, feature QA: geometry is invalid" in out and "repair=True" in out
    assert "arbres.shp has no coordinate reference system" in out


def test_unexpected_errors_exit_1_with_traceback_only_when_verbose(tmp_path: Path) -> None:
    # a directory where a project file is expected: not a CdvGeoError
    d = tmp_path / "dir.toml"
    d.mkdir()
    res = CliRunner().invoke(main, ["validate", str(d)])
    assert res.exit_code == 2  # click refuses it as a usage error
    (tmp_path / "p.toml").write_bytes(b"\xff\xfe")
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "p.toml")])
    assert res.exit_code in (1, 2)
    assert "Traceback" not in res.output


def test_version_and_help() -> None:
    res = CliRunner().invoke(main, ["--version"])
    assert res.exit_code == 0 and "cdv-geo" in res.output
    res = CliRunner().invoke(main, ["--help"])
    assert "validate" in res.output and "demo" in res.output


def test_verbose_logs_reads_and_shows_tracebacks(
    tmp_path: Path, square_quartiers: gpd.GeoDataFrame
) -> None:
    write(square_quartiers, tmp_path / "qpv.geojson")
    project = str(tmp_path / "project.toml")
    (tmp_path / "project.toml").write_text('[layers]\nquartiers = "qpv.geojson"\n')
    res = CliRunner().invoke(main, ["-v", "validate", project])
    assert res.exit_code == 0
    # an unexpected failure (not a CdvGeoError): an output folder inside a file
    bad_out = str(tmp_path / "project.toml" / "sub")
    res = CliRunner().invoke(main, ["metrics", project, "--out", bad_out])
    assert res.exit_code == 1
    assert "Unexpected error" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["-v", "metrics", project, "--out", bad_out])
    assert res.exit_code == 1 and "Traceback" in res.output
