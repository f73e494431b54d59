"""run_batch on its own LocalCluster: workers forked once, one thread each, same tables."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from cdv_geo.batch import INLINE, open_client, run_batch, run_territory, territory_slug
from cdv_geo.batch.run import WORKER_CONFIG
from cdv_geo.pipeline import compute_metrics
from cdv_geo.territory import Territory
from tests.batch.generate import make_projects

distributed = pytest.importorskip("distributed")


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """Text and category columns as objects, missing as None (Parquet keeps neither dtype)."""
    out = table.reset_index(drop=True)
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) or out[col].isna().all():
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def _worker_state() -> tuple[int, int, str | None, bool, bool]:
    import gc

    import dask

    from cdv_geo.core.threads import n_threads

    profile = bool(dask.config.get("distributed.worker.profile.enabled"))
    frozen = gc.get_freeze_count() > 0  # the fork server froze its imports
    return os.getppid(), n_threads(), os.environ.get("OMP_NUM_THREADS"), profile, frozen


def test_local_cluster_workers(tmp_path: Path) -> None:
    """Two workers forked from one server (not from the client), one thread each, no profiler."""
    with open_client(workers=2) as client:
        states = list(client.run(_worker_state).values())
    assert len(states) == 2
    parents = {state[0] for state in states}
    assert len(parents) == 1 and os.getpid() not in parents
    assert [state[1:] for state in states] == [(1, "1", False, True), (1, "1", False, True)]


def _worker_config() -> dict[str, object]:
    import dask

    return {key: dask.config.get(key) for key in WORKER_CONFIG}


def test_worker_event_loop_settings() -> None:
    """The workers run with the slower checks of WORKER_CONFIG; the client's config is left."""
    import dask

    before = {key: dask.config.get(key, default=None) for key in WORKER_CONFIG}
    with open_client(workers=1) as client:
        (config,) = client.run(_worker_config).values()
    assert config == {
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "1s",
        "distributed.worker.memory.monitor-interval": "1s",
        "distributed.admin.system-monitor.interval": "5s",
        "distributed.admin.system-monitor.gil.enabled": False,
    }
    # the settings only ever make dask's checks less frequent, never more
    for key in ("distributed.admin.tick.interval", "distributed.worker.memory.monitor-interval",
                "distributed.admin.system-monitor.interval"):  # fmt: skip
        assert dask.utils.parse_timedelta(config[key]) >= dask.utils.parse_timedelta(before[key])
    assert {key: dask.config.get(key, default=None) for key in WORKER_CONFIG} == before


def test_task_cpu_times(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A task's record: the process CPU and the task thread's own, each from its own clock."""
    import types

    import cdv_geo.batch.task as task

    clocks = {"perf_counter": 0.0, "process_time": 0.0, "thread_time": 0.0}
    steps = {"perf_counter": 1.0, "process_time": 0.5, "thread_time": 0.25}

    def clock(name: str):  # type: ignore[no-untyped-def]
        def read() -> float:  # each reading advances the clock by its own step
            clocks[name] += steps[name]
            return clocks[name]

        return read

    fake = types.SimpleNamespace(**{name: clock(name) for name in clocks})
    monkeypatch.setattr(task, "time", fake)
    (project,) = make_projects(tmp_path / "projects", 1)
    record = run_territory(project, tmp_path / "out", only=["key_figures"])
    assert record["status"] == "done", record.get("message")
    # two readings of each clock: at the start and in the record, one step apart
    assert (record["seconds"], record["cpu_seconds"], record["thread_cpu_seconds"]) == (
        1.0,
        0.5,
        0.25,
    )
    again = run_territory(project, tmp_path / "out", only=["key_figures"])  # skipped: its own
    assert again["status"] == "skipped"
    assert (again["cpu_seconds"], again["thread_cpu_seconds"]) == (0.5, 0.25)
    monkeypatch.undo()
    result = run_batch([project], tmp_path / "b", scheduler=INLINE, peers=False, force=True)
    assert {"cpu_seconds", "thread_cpu_seconds"} <= set(result.territories.columns)


def test_default_cluster_matches_in_process(tmp_path: Path) -> None:
    projects = make_projects(tmp_path / "projects", 3)
    result = run_batch(projects, tmp_path / "out", workers=2, k=2, show_progress=False)
    assert len(result.errors) == 0
    t = result.timings
    assert set(t) == {"start", "territories", "national", "total"}
    assert t["start"] > 0 and t["start"] + t["territories"] + t["national"] <= t["total"]
    assert set(result.tables) >= {"coverage", "nearest", "indicators", "peers"}
    for name in ("coverage", "nearest", "key_figures"):
        nat = result.table(name)
        for p in projects:
            want = compute_metrics(Territory.from_file(p)).tables[name]
            got = pd.DataFrame(nat.xs(territory_slug(p), level="territory"))[want.columns]
            pd.testing.assert_frame_equal(_plain(got), _plain(want), check_dtype=False)
            assert list(got.index) == list(want.index)


def test_task_computes_tables_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The service areas (a map layer, never written) are not computed by a batch task."""
    import cdv_geo.metrics.service_areas as sa

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("service areas computed")

    monkeypatch.setattr(sa, "service_areas", fail)
    (project,) = make_projects(tmp_path / "projects", 1)
    record = run_territory(project, tmp_path / "out")
    assert record["status"] == "done", record.get("message")
    assert {"coverage", "nearest", "key_figures"} <= set(record["tables"])
    inline = run_batch([project], tmp_path / "inline", scheduler=INLINE, peers=False)
    assert inline.timings["start"] == 0.0


def test_task_keeps_the_warnings_of_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A metric's warning naming a file: in the record's warnings, its note in plain words."""
    import warnings

    import cdv_geo.metrics.key_figures as kf
    from cdv_geo.core.errors import CdvGeoWarning

    original = kf.key_figures
    path = "/tmp/tmpab12cd/streets.osm"

    def warns(*args: object, **kwargs: object) -> object:
        warnings.warn(f"OSM file {path}: 12 nodes are missing", CdvGeoWarning, stacklevel=2)
        return original(*args, **kwargs)

    monkeypatch.setattr(kf, "key_figures", warns)
    (project,) = make_projects(tmp_path / "projects", 1)
    record = run_territory(project, tmp_path / "out", only=["key_figures"])
    assert record["status"] == "done", record.get("message")
    assert any(path in w for w in record["warnings"])
    assert not any(path in n for n in record["notes"])
    assert any("key figures" in n for n in record["notes"])
