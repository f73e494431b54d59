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
    # a kind outside the known list ("zoo") is kept as given: not a problem
    assert "3 problems in project" in out and "'zoo'" not in out
    assert "id 'f1' is used by 2 features" in out
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


def test_verbose_is_accepted_after_the_subcommand(
    tmp_path: Path, square_quartiers: gpd.GeoDataFrame
) -> None:
    write(square_quartiers, tmp_path / "qpv.geojson")
    project = str(tmp_path / "project.toml")
    (tmp_path / "project.toml").write_text('[layers]\nquartiers = "qpv.geojson"\n')
    res = CliRunner().invoke(main, ["validate", project, "--verbose"])
    assert res.exit_code == 0, res.output
    bad_out = str(tmp_path / "project.toml" / "sub")
    for args in (
        ["metrics", project, "--out", bad_out, "-v"],
        ["metrics", "-v", project, "-o", bad_out],
    ):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 1 and "Traceback" in res.output, args
    res = CliRunner().invoke(main, ["metrics", project, "--out", bad_out, "--quiet"])
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_warnings_print_as_one_readable_line(
    tmp_path: Path, square_quartiers: gpd.GeoDataFrame, bowtie: Polygon
) -> None:
    q = square_quartiers.copy()
    q.loc[1, "geometry"] = bowtie
    write(q, tmp_path / "qpv.geojson")
    (tmp_path / "project.toml").write_text('[layers]\nquartiers = "qpv.geojson"\n')
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "project.toml"), "--repair"])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.output.splitlines() if "repaired" in ln]
    assert len(lines) == 1 and lines[0].startswith("Warning: quartiers layer ")
    assert "repaired 1 invalid geometry" in lines[0]
    # no "file.py:123: UserWarning" header, no Python source line
    assert ".py:" not in res.output and "warnings.warn" not in res.output


def test_maps_of_one_quartier_are_named_as_the_committee_maps(tmp_path: Path) -> None:
    from cdv_geo import write_layer
    from tests.pipeline.grid import grid_layers

    for kind, gdf in grid_layers(name_b="Île Verte").items():
        write_layer(gdf, tmp_path / "layers.gpkg", layer=kind)
    entries = "\n".join(
        f'{k} = {{ path = "layers.gpkg", layer = "{k}" }}' for k in ("quartiers", "facilities")
    )
    (tmp_path / "project.toml").write_text(f"[layers]\n{entries}\n", encoding="utf-8")
    out = tmp_path / "maps"
    res = CliRunner().invoke(
        main, ["maps", str(tmp_path / "project.toml"), "-o", str(out), "--quartier", "ile verte"]
    )
    assert res.exit_code == 0, res.output
    assert [p.name for p in out.glob("*.html")] == ["quartier_ile-verte.html"]


def test_a_metric_warning_prints_once_on_one_line(tmp_path: Path) -> None:
    from cdv_geo import write_layer
    from tests.pipeline.grid import grid_layers

    layers = grid_layers(name_b="Beta")
    layers["renewal_sites"]["compensates"] = [None, None]  # a reconstruction of no quartier
    for kind in ("quartiers", "renewal_sites"):
        write_layer(layers[kind], tmp_path / "layers.gpkg", layer=kind)
    entries = "\n".join(
        f'{k} = {{ path = "layers.gpkg", layer = "{k}" }}' for k in ("quartiers", "renewal_sites")
    )
    (tmp_path / "project.toml").write_text(f"[layers]\n{entries}\n", encoding="utf-8")
    res = CliRunner().invoke(
        main, ["metrics", str(tmp_path / "project.toml"), "-o", str(tmp_path / "o"), "-q"]
    )
    assert res.exit_code == 0, res.output
    warned = [ln for ln in res.output.splitlines() if ln.startswith("Warning: ")]
    # three tables of the renewal step warn alike: printed once, not repeated as a note
    assert len(warned) == 1 and "compensates" in warned[0]
    notes = [ln for ln in res.output.splitlines() if ln.startswith("note: ")]
    assert notes and not [ln for ln in notes if "compensates" in ln]
    assert ".py:" not in res.output
