"""The committee bundle (build_report, index.html) and the commands that write it.

The territory is the street grid of tests/pipeline/grid.py, checked by hand.
"""

from __future__ import annotations

import re
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
    # 11 metric steps (network, population, access, renaturation, renewal, indicators, key
    # figures, heat and water, the contrat's actions, the services, the compared change);
    # overview + 2
    # quartier maps + one accessibility map per facility kind + 3 thematic maps (no heat data:
    # no heat map)
    n_kinds = territory.facilities["kind"].nunique()
    assert seen == [("metrics", 11), ("maps", 3 + n_kinds + 3)]


def test_key_figures_html_formats_and_escapes(territory: Territory) -> None:
    kf = compute_metrics(territory, only=["key_figures"]).key_figures
    assert kf is not None
    page = key_figures_html(kf, lang="fr", town="Testville")
    assert "<script>" not in page and "&lt;script&gt;" in page
    # a column per quartier, then all the QPV, the town outside them, the whole town
    heads = re.findall(r"<th>(.*?)</th>", page.split("</tr>")[0])
    assert heads[0] == "" and heads[1] == "Alpha" and heads[2].startswith("&lt;script&gt;")
    assert heads[3:] == ["Ensemble des QPV", "Testville hors QPV", "Testville (commune)"]
    # the QPV's walking coverage: 150 of 450 residents = 33 %
    assert "33\u00a0%" in page
    assert "Habitants à 5 min à pied : Aire de jeux d'eau" in page.replace("&#x27;", "'")
    assert "2\u202f000\u00a0m²" in page  # de-sealed area in QA
    assert "Residents within 5 min walk" in key_figures_html(kf, lang="en")


def test_notes_read_in_the_reader_language() -> None:
    n = Note("missing_table", "indicators", "Indicators skipped.", {"name": "indicators"})
    assert note_text(n) == "table « indicators » absente"
    assert note_text(n, "en") == "no table “indicators”"
    w = Note("warning", "renewal", "a reconstruction compensates no quartier")
    assert note_text(w, "fr") == "a reconstruction compensates no quartier"


def test_index_links_the_dossier_when_there_is_one(territory: Territory, tmp_path: Path) -> None:
    index = build_report(territory, tmp_path, formats=("csv",), maps=False)
    assert "dossier.pdf" not in index.read_text(encoding="utf-8")  # none written, none linked
    (tmp_path / "dossier.pdf").write_bytes(b"%PDF-1.7\n" + b"0" * 250_000)  # 0.25 MB
    index = build_report(territory, tmp_path, formats=("csv",), maps=False)
    page = index.read_text(encoding="utf-8")
    assert '<a href="dossier.pdf">Dossier du comité de pilotage</a> (PDF, 0,3 Mo)' in page


def test_report_dossier_and_services_options(tmp_path: Path) -> None:
    runner = CliRunner()
    p = tmp_path / "p"
    assert runner.invoke(main, ["init", str(p)]).exit_code == 0
    fill_project(p)
    out = tmp_path / "out"
    args = ["report", str(p / "project.toml"), "--out", str(out), "--dossier"]
    res = runner.invoke(main, [*args, "--services", "health_centre"])
    assert res.exit_code == 0, res.output
    assert (out / "dossier.pdf").read_bytes()[:5] == b"%PDF-"
    page = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="dossier.pdf"' in page
    # only the kind asked for has an accessibility map
    assert sorted(x.name for x in out.glob("accessibility_*")) == [
        "accessibility_health_centre.html"
    ]
    # a kind the town lacks is refused before anything is computed
    res = runner.invoke(
        main,
        ["maps", str(p / "project.toml"), "--out", str(tmp_path / "m"), "--services", "library"],
    )
    assert res.exit_code == 2 and "no facility of kind 'library'" in res.output
    assert not (tmp_path / "m").exists() or not list((tmp_path / "m").iterdir())


def test_cards_escape_every_data_text(territory: Territory, tmp_path: Path) -> None:
    from cdv_geo.output.bundle import quartier_cards_html

    html = quartier_cards_html(territory, compute_metrics(territory, only=["key_figures"]))
    assert html.count('<article class="card">') == 2
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- the index page speaks the committee's language (issue 22) --------------------------------

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def demo() -> tuple[Territory, object]:
    import warnings

    from cdv_geo import datasets

    t = datasets.soissons()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo's population sources disagree on purpose
        return t, compute_metrics(t)


def _index(demo: tuple[Territory, object], out: Path, lang: str) -> str:
    from cdv_geo.output.bundle import write_index

    t, metrics = demo
    out.mkdir(parents=True, exist_ok=True)
    return write_index(t, metrics, out, [], [], {}, lang=lang).read_text(encoding="utf-8")


def _cells(page: str) -> list[str]:
    return re.findall(r"<t[dh](?: [^>]*)?>(.*?)</t[dh]>", page, re.S)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_index_cells_are_labelled_and_never_raw(demo, tmp_path: Path, lang: str) -> None:  # type: ignore[no-untyped-def]
    page = _index(demo, tmp_path, lang)
    cells = _cells(page)
    assert len(cells) > 1000
    raw = [c for c in cells if c in ("&lt;NA&gt;", "<NA>", "nan", "NaN", "None", "NaT")]
    assert not raw
    # no raw code as a row label or a value (a_etud, all_qpv, hors_qpv...)
    assert not [c for c in cells if re.fullmatch(r"[a-z0-9]+(?:_[a-z0-9]+)+", c)]
    assert "<td>all</td>" not in page and "<td>qpv</td>" not in page
    # every missing cell says why in its tooltip, in words
    missing = "n.d." if lang == "fr" else "n/a"
    bare = re.findall(rf"<td>{re.escape(missing)}</td>", page)
    assert not bare
    tips = re.findall(rf'<td title="([^"]*)">{re.escape(missing)}</td>', page)
    assert tips and not [t for t in tips if re.search(r"\w_\w|: \w+=", t)]


def test_index_numbers_in_french(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = _index(demo, tmp_path, "fr")
    cells = _cells(page)
    # the demo's official populations (quartiers layer, communes layer)
    assert "5\u202f766" in cells and "28\u202f522" in cells
    # Saint-Crépin Ouest's sealed share, 0.495892 of its area
    assert "49,6\u00a0%" in cells
    # incomes in euros with a narrow space every three digits
    assert [c for c in cells if re.fullmatch(r"\d{1,3}(?:\u202f\d{3})+\u00a0€", c)]
    # no English number format: no decimal point, no comma between thousands
    assert not [c for c in cells if re.fullmatch(r"-?[\d,]*\d\.\d+(?:\u00a0?%)?", c)]
    assert "28,522" not in cells and "5,766" not in cells
    assert "Saint-Crépin Ouest" in page and "Soissons hors QPV" in page
    assert "Source de la population" in page


def test_index_numbers_in_english(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = _index(demo, tmp_path, "en")
    cells = _cells(page)
    assert "5,766" in cells and "28,522" in cells and "49.6%" in cells
    assert "\u202f" not in "".join(cells)
    assert "Soissons outside priority neighbourhoods" in page
    assert "Population source" in page


def test_index_escapes_every_text_from_data(tmp_path: Path) -> None:
    layers = grid_layers(name_b=HOSTILE)
    fac = layers["facilities"].copy()
    fac["kind"] = [HOSTILE, "health_centre"]
    fac["category"] = [HOSTILE, HOSTILE]
    fac["name"] = [HOSTILE, HOSTILE]
    layers["facilities"] = fac
    layers["communes"] = layers["communes"].assign(name=[HOSTILE])
    t = Territory(HOSTILE, **layers)
    index = build_report(t, tmp_path, formats=("csv", "xlsx"), maps=True)
    page = index.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # shown as text
    for path in (tmp_path / "tables").glob("*.csv"):  # no formula either
        assert "\n=" not in path.read_text(encoding="utf-8")
