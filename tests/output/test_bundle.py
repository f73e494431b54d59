"""The committee bundle (build_report, index.html) and the commands that write it.

The territory is the street grid of tests/pipeline/grid.py, checked by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cdv_geo import Territory, write_layer
from cdv_geo.cli import main
from cdv_geo.output import build_report
from cdv_geo.output.bundle import key_figures_html, note_text
from cdv_geo.pipeline import Note, compute_metrics
from tests.pipeline.grid import grid_layers


@pytest.fixture(scope="module")
def territory() -> Territory:
    return Territory("Testville", **grid_layers())


def layers():  # type: ignore[no-untyped-def]
    return grid_layers()


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
    bad = layers()["renewal_sites"].assign(operation=["demolition", "piscine"])
    write_layer(bad, p / "layers.gpkg", layer="renewal_sites")
    res = runner.invoke(main, ["report", str(p / "project.toml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "field 'operation'" in res.output and "'piscine'" in res.output
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
    seen: list[tuple[str, int]] = []

    def progress(items, desc):  # type: ignore[no-untyped-def]
        items = list(items)
        seen.append((desc, len(items)))
        return items

    build_report(territory, tmp_path, formats=("csv",), progress=progress)
    # 7 metric steps (network, access, renaturation, renewal, indicators, heat and water, key
    # figures); overview + 2 quartier maps + 4 thematic maps (no heat data: no heat map)
    assert seen == [("metrics", 7), ("maps", 7)]


def test_key_figures_html_formats_and_escapes(territory: Territory) -> None:
    kf = compute_metrics(territory, only=["key_figures"]).key_figures
    assert kf is not None
    page = key_figures_html(kf, lang="fr")
    assert "<script>" not in page and "&lt;script&gt;" in page
    # a column per quartier, then the territory: 150 of 450 residents = 33 %
    assert "Ensemble" in page and "33\u00a0%" in page
    assert "Habitants à 5 min à pied : Aire de jeux d'eau" in page.replace("&#x27;", "'")
    assert "2\u202f000\u00a0m²" in page  # de-sealed area in QA
    assert "Residents within 5 min walk" in key_figures_html(kf, lang="en")


def test_notes_read_in_the_reader_language() -> None:
    n = Note("missing_table", "indicators", "Indicators skipped.", {"name": "indicators"})
    assert note_text(n) == "table « indicators » absente"
    assert note_text(n, "en") == "no table 'indicators'"
    w = Note("warning", "renewal", "a reconstruction compensates no quartier")
    assert note_text(w, "fr") == "a reconstruction compensates no quartier"
