"""Batch runs on real dask processes give the tables of the one-by-one in-process run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point, box

from cdv_geo.batch import (
    INLINE,
    MARKER,
    find_projects,
    run_batch,
    split_national,
    territory_slug,
)
from cdv_geo.pipeline import compute_metrics
from cdv_geo.territory import Territory
from tests.batch.generate import make_project, make_projects
from tests.conftest import X0, Y0

distributed = pytest.importorskip("distributed")

N = 12


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("projects")
    paths = make_projects(root, N)
    broken = root / "broken" / "project.toml"
    broken.parent.mkdir()
    broken.write_text(
        '[territory]\nname = "Cassée"\n[layers]\nquartiers = "absent.geojson"\n', encoding="utf-8"
    )
    # a territory that reads well but fails in the metrics: its OSM file has no street
    bad_net = make_project(root / "bad-network", N + 1)
    # an OSM extract that covers the town (it passes the checks at load) but has no street:
    # it replaces the streets (two sources of the network are refused at load)
    (bad_net.parent / "bad.osm").write_text(
        '<?xml version="1.0"?><osm version="0.6"><bounds minlat="41" minlon="-5" '
        'maxlat="51.5" maxlon="10"/><node id="1" lat="45" lon="2"/></osm>',
        encoding="utf-8",
    )
    text = bad_net.read_text(encoding="utf-8").replace('streets = "shapes/streets.geojson"\n', "")
    bad_net.write_text(text + '\n[network]\nosm_xml = "bad.osm"\n', encoding="utf-8")
    return [*paths, broken, bad_net]


@pytest.fixture(scope="module")
def reference(projects: list[Path]) -> dict[str, dict[str, pd.DataFrame]]:
    """Every table of every good territory, computed one by one in this process."""
    out = {}
    for p in projects[:N]:
        out[territory_slug(p)] = dict(compute_metrics(Territory.from_file(p)).tables)
    return out


def _missing_as_none(table: pd.DataFrame) -> pd.DataFrame:
    """Parquet gives None for a missing text, pandas may hold NaN: compare them as one."""
    out = table.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) or out[col].isna().all():
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def _assert_same(result_out: Path, reference: dict[str, dict[str, pd.DataFrame]]) -> None:
    names = {n for tables in reference.values() for n in tables}
    for name in names:
        nat = pd.read_parquet(result_out / "national" / f"{name}.parquet")
        assert nat.index.names[0] == "territory"
        for slug, tables in reference.items():
            got = pd.DataFrame(nat.xs(slug, level="territory"))
            want = tables[name]
            got = got[list(want.columns)]  # same columns (others all-NaN elsewhere)
            pd.testing.assert_frame_equal(
                _missing_as_none(got.reset_index(drop=True)),
                _missing_as_none(want.reset_index(drop=True)),
                check_dtype=False,
                check_index_type=False,
                obj=f"{name} of {slug}",
            )
            assert list(got.index) == list(want.index)
        csv = pd.read_csv(result_out / "national" / f"{name}.csv")
        assert len(csv) == len(nat)


def _check_errors(result: object, projects: list[Path]) -> None:
    errors = result.errors  # type: ignore[attr-defined]
    assert list(errors["territory"]) == [territory_slug(p) for p in projects[N:]]
    assert errors["step"].tolist() == ["read", "metrics: walking network"]
    assert "absent.geojson" in errors["message"].iloc[0]
    assert "bad.osm" in errors["message"].iloc[1]
    status = result.territories["status"]  # type: ignore[attr-defined]
    assert (status.iloc[:N] == "done").all() and (status.iloc[N:] == "failed").all()


def test_local_cluster_matches_in_process(
    projects: list[Path], reference: dict[str, dict[str, pd.DataFrame]], tmp_path: Path
) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        result = run_batch(projects, tmp_path, scheduler=cluster.scheduler_address, k=5)
        _check_errors(result, projects)
        _assert_same(tmp_path, reference)
        errors = pd.read_csv(tmp_path / "national" / "errors.csv")
        assert errors["step"].tolist() == ["read", "metrics: walking network"]
        # a rerun skips finished work and retries the failure
        markers = {p: p.stat().st_mtime_ns for p in tmp_path.glob(f"territories/*/{MARKER}")}
        assert len(markers) == N
        again = run_batch(projects, tmp_path, scheduler=cluster.scheduler_address, k=5)
        assert (again.territories["status"].iloc[:N] == "skipped").all()
        assert (again.territories["status"].iloc[N:] == "failed").all()
        assert {p: p.stat().st_mtime_ns for p in markers} == markers
        _assert_same(tmp_path, reference)
        forced = run_batch(projects[:2], tmp_path, scheduler=cluster.scheduler_address, force=True)
        assert forced.territories["status"].tolist() == ["done", "done"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def scheduler_processes() -> object:
    """A dask scheduler and two workers started as separate processes, stopped after the test."""
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--dashboard-address",
                ":0",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "distributed.cli.dask_worker",
                        addr,
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        with Client(addr, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield addr
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=3)  # then kill: nothing to save
            except subprocess.TimeoutExpired:
                p.kill()


def test_separate_scheduler_and_workers(
    projects: list[Path],
    reference: dict[str, dict[str, pd.DataFrame]],
    scheduler_processes: str,
    tmp_path: Path,
) -> None:
    result = run_batch(projects, tmp_path, scheduler=scheduler_processes, k=5)
    _check_errors(result, projects)
    _assert_same(tmp_path, reference)
    peers = pd.read_parquet(tmp_path / "national" / "peers.parquet")
    codes = {c for tables in reference.values() for c in tables["indicators"]["code"]}
    qpv = {c for c in codes if c.startswith("QP")}
    assert set(peers.index.get_level_values("quartier")) == qpv
    assert (peers["n_peers"] == 5).all()


def test_inline_records_and_marker(projects: list[Path], tmp_path: Path) -> None:
    result = run_batch(projects[:2], tmp_path, scheduler=INLINE, peers=False)
    folder = Path(result.territories["folder"].iloc[0])
    record = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    assert record["status"] == "done"
    assert sorted(record["tables"]) == sorted(p.stem for p in folder.glob("*.parquet"))
    assert "peers" not in result.tables
    nat = result.table("coverage")
    # each territory's comparison row follows its quartiers (no communes layer: qpv alone)
    rows = nat.index.get_level_values("quartier")
    assert "qpv" in rows and "all" not in rows
    assert len(result.errors) == 0


def test_find_projects(projects: list[Path]) -> None:
    root = projects[0].parent.parent
    found = find_projects([str(root / "ville-00*" / "project.toml"), root / "broken"])
    assert len(found) == 11
    assert found[-1].parent.name == "broken"
    with pytest.raises(Exception, match="no project file found"):
        find_projects([str(root / "nothing*")])


def test_split_national(tmp_path: Path) -> None:
    """National inputs cut per commune run like a list of projects."""
    qpv = gpd.GeoDataFrame(
        {
            "code_qp": ["QP900001", "QP900002", "QP900003"],
            "nom_qp": ["Nord", "Sud", "Ailleurs"],
            "commune_qp": ["Aville", "Aville", "Bville"],
            "insee_com": ["90001", "90001", "90002"],
            "population": [1200, 1500, 900],
        },
        geometry=[box(0, 0, 300, 300), box(600, 0, 900, 300), box(50_000, 0, 50_300, 300)],
        crs=2154,
    )
    qpv = qpv.set_geometry(qpv.translate(X0, Y0))  # in France (Lambert-93)
    qpv.to_file(tmp_path / "qpv.geojson")
    facilities = gpd.GeoDataFrame(
        {"name": ["école", "loin", "école B"], "kind": ["school", "school", "school"]},
        geometry=[Point(1200, 100), Point(20_000, 0), Point(50_100, 100)],
        crs=2154,
    )
    facilities = facilities.set_geometry(facilities.translate(X0, Y0))
    indicators = pd.DataFrame(
        {
            "code": ["QP900001", "QP900002", "QP900003", "90001", "90002", "Ensemble"] * 2,
            "level": ["qpv", "qpv", "qpv", "commune", "commune", "all_qpv"] * 2,
            "indicator": "poverty_rate",
            "year": [2017] * 6 + [2021] * 6,
            "value": [0.4, 0.3, 0.5, 0.2, 0.25, 0.42, 0.38, 0.31, 0.45, 0.19, 0.24, 0.41],
        }
    )
    projects = split_national(
        tmp_path / "qpv.geojson",
        ["90001", "90002"],
        tmp_path / "projets",
        layers={"facilities": facilities},
        indicators=indicators,
    )
    a = Territory.from_file(projects[0])
    assert a.quartiers is not None and a.facilities is not None
    assert sorted(a.quartiers["code"]) == ["QP900001", "QP900002"]
    # within 2 km of the QPV's bounding box: the school at 0.3 km, not the one at 19 km
    assert a.facilities["name"].tolist() == ["école"]
    b = Territory.from_file(projects[1])
    assert b.facilities is not None
    assert b.facilities["name"].tolist() == ["école B"]
    # each commune keeps its QPV, itself and the national row; peers span both communes
    result = run_batch(projects, tmp_path / "out", scheduler=INLINE, k=1, baseline=["poverty_rate"])
    assert len(result.errors) == 0
    peers = result.table("peers").xs("poverty_rate", level="indicator")
    assert peers.loc["QP900001", "peers"] == "QP900002"  # 0.3 and 0.5 tie: smaller code
    assert peers.loc["QP900003", "town_change"] == pytest.approx(-0.01)  # 90002: 0.25 -> 0.24
    assert peers.loc["QP900001", "all_qpv_change"] == pytest.approx(-0.01)


def test_generated_projects_open(projects: list[Path]) -> None:
    """A generated project opens (its speed: scripts/bench/bench_inputs.py, budget 5 s)."""
    t = Territory.from_file(projects[0])
    assert t.quartiers is not None and len(t.quartiers) >= 1
