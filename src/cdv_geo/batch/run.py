"""Run the pipeline over many territories on dask.distributed.

:func:`run_batch` submits one task per project (:func:`~cdv_geo.batch.task.run_territory`) to a
dask cluster: an in-process :class:`~distributed.LocalCluster` sized to the machine by default, or
an existing scheduler (``scheduler="tcp://host:8786"``). Workers read their own inputs and write
their own outputs; the client only sees small status records, then one last task stacks the
national tables, one task per table (:mod:`cdv_geo.batch.national`), on the workers too.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cdv_geo.batch.national import (
    NATIONAL,
    merge_national,
    write_table,
)
from cdv_geo.batch.task import run_territory, territory_slug
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.metrics.peers import BASELINE

__all__ = ["INLINE", "BatchResult", "find_projects", "open_client", "run_batch"]

log = logging.getLogger("cdv_geo")

#: ``scheduler=INLINE`` runs the territories one after the other in this process, without dask.
INLINE = "inline"

#: Columns of :attr:`BatchResult.errors`.
ERROR_COLUMNS = ("territory", "name", "project", "step", "message")


@dataclass
class BatchResult:
    """What a batch run did.

    Attributes
    ----------
    territories : pandas.DataFrame
        One row per project, indexed by ``territory`` (slug): ``name``, ``project``,
        ``status`` (``done``, ``skipped``: finished by an earlier run, ``failed``), ``folder``,
        ``n_quartiers``, ``seconds`` (wall clock of its task), ``cpu_seconds`` (CPU time of the
        process during its task: far below ``seconds`` when other processes share the cores),
        ``thread_cpu_seconds`` (CPU time of the thread that ran it: without the dask worker's
        event loop or cdv_geo's thread pool).
    errors : pandas.DataFrame
        One row per failed territory: ``territory``, ``name``, ``project``, ``step`` (``read``,
        ``metrics: <step>``, ``write``, ``worker``), ``message``.
    tables : dict of str to list of pathlib.Path
        National tables written: name -> [Parquet, CSV].
    out : pathlib.Path
        The output folder.
    dashboard : str or None
        The dask dashboard's address, when there is one.
    notes : list of str
        What the national step left out, and why.
    timings : dict of str to float
        Wall-clock seconds: ``start`` (the LocalCluster's start or the connection to the
        scheduler; 0 inline), ``territories`` (the territory tasks), ``national`` (the national
        tables) and ``total`` (the whole call, stopping the cluster included).
    """

    territories: pd.DataFrame
    errors: pd.DataFrame
    tables: dict[str, list[Path]] = field(default_factory=dict)
    out: Path = Path(".")
    dashboard: str | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """Read national table `name` back from its Parquet file."""
        if name not in self.tables:
            raise CdvGeoError(
                f"no national table {name!r}; the batch wrote: {', '.join(sorted(self.tables))}"
            )
        return pd.read_parquet(self.tables[name][0])


def find_projects(
    projects: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
) -> list[Path]:
    """Expand project files, folders (their ``project.toml``) and glob patterns, in order.

    Raises
    ------
    CdvGeoError
        When a pattern or path matches no project file, or nothing is given.

    Examples
    --------
    >>> find_projects([])
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.CdvGeoError: no project given: pass project.toml files, folders or globs
    """
    items = [projects] if isinstance(projects, (str, os.PathLike)) else list(projects)
    found: list[Path] = []
    missing: list[str] = []
    for item in items:
        text = str(item)
        paths = [Path(p) for p in sorted(glob.glob(text, recursive=True))] or [Path(text)]
        hits = [p / "project.toml" if p.is_dir() else p for p in paths]
        hits = [p for p in hits if p.is_file()]
        if not hits:
            missing.append(text)
        found.extend(hits)
    if missing:
        raise CdvGeoError(
            f"no project file found for {', '.join(map(repr, missing))}; pass project.toml "
            "files, folders holding one, or glob patterns such as 'projets/*/project.toml'"
        )
    if not found:
        raise CdvGeoError("no project given: pass project.toml files, folders or globs")
    return list(dict.fromkeys(p.absolute() for p in found))


#: Modules the worker processes of a LocalCluster import once, in their fork server; the last
#: one freezes the objects imported (see :mod:`cdv_geo.batch._freeze`).
PRELOAD = (
    "distributed",
    "cdv_geo.batch.task",
    "cdv_geo.pipeline",
    "cdv_geo.territory",
    "cdv_geo.batch._freeze",
)


#: Environment of the fork server when dask's ``distributed.nanny.pre-spawn-environ`` is not
#: loaded yet (its defaults): one thread per numeric library, memory given back early.
WORKER_ENV = {
    "MALLOC_TRIM_THRESHOLD_": "65536",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


#: dask settings of the LocalCluster's workers. A worker's event loop runs beside its task, in
#: the same process: dask's defaults wake it every 20 ms (a health check of the loop itself),
#: 100 ms (the memory check) and 500 ms (the dashboard's CPU, memory, network and disk graphs),
#: and, when ``gilknocker`` is installed, poll the GIL every millisecond. Each wake-up takes the
#: GIL from the territory being computed, and its CPU counts in the task's process time: on a
#: busy 2-core machine the loop used 0.55 s of CPU beside 5.1 s of territories (11 %), a
#: likely share of the 19 % more CPU per task measured for dask than for the plain loop.
#: Slower checks keep the dashboard and the memory limits working (a worker above its limit
#: is still paused or restarted, a second later at most) for a fifth of the cost (idle
#: loop: 0.22 s of CPU per 10 s with dask's defaults, 0.04 s with these).
WORKER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,  # the dashboard's "Profile": 5 % more time
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.system-monitor.gil.enabled": False,
}


@contextlib.contextmanager
def _start_method() -> Iterator[None]:
    """Start LocalCluster workers by forking a server that has imported cdv_geo once.

    dask starts each worker with ``spawn`` by default: a new interpreter that imports
    distributed, pandas, geopandas and cdv_geo again (seconds each, in every worker, several
    workers competing for the cores at start). A ``forkserver`` imports them once and forks
    each worker from that single-threaded process (a fork of the client itself is unsafe: it
    runs threads). The server is started first, so that its imports run while the client
    imports distributed and starts the scheduler, with the environment dask gives its workers
    (``OMP_NUM_THREADS=1``...). Kept when dask is configured for another method or the
    platform has no fork server (Windows).
    """
    import multiprocessing
    import multiprocessing.forkserver

    import dask

    key = "distributed.worker.multiprocessing-method"
    if (
        dask.config.get(key, default="spawn") != "spawn"
        or "forkserver" not in multiprocessing.get_all_start_methods()
    ):
        yield
        return
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(PRELOAD))
    environ = dask.config.get("distributed.nanny.pre-spawn-environ", default=None) or WORKER_ENV
    saved = {k: os.environ.get(k) for k in environ}
    os.environ.update({k: str(v) for k, v in environ.items()})  # (as dask's nannies do)
    try:
        multiprocessing.forkserver.ensure_running()  # (no effect when it runs already)
    finally:  # the server has its environment: the client's own is left as it was
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    from distributed.utils import get_mp_context  # meanwhile, in the client

    with dask.config.set({key: "forkserver"}):
        get_mp_context()  # (its own preload list comes too late: the server runs)
        yield


@contextlib.contextmanager
def open_client(scheduler: str | None = None, *, workers: int | None = None) -> Iterator[Any]:
    """Yield a :class:`distributed.Client`: on `scheduler`, else on a new LocalCluster.

    The LocalCluster has `workers` single-threaded worker processes (default: one per core;
    the metrics hold the GIL, so processes, not threads, run territories in parallel), each
    keeping its numeric libraries and cdv_geo's own thread pool to one thread
    (``CDV_GEO_THREADS=1``; dask sets ``OMP_NUM_THREADS`` and the like): the cores are
    already shared out by process. Their statistical profiler (the dashboard's "Profile" page,
    a sample of the running task's stack every 10 ms) is off: it cost about 5 % of the
    territories' time; their event loop checks its health, the memory and the system less
    often than dask's defaults (:data:`WORKER_CONFIG`).
    """
    from cdv_geo.core.threads import THREADS_ENV

    if scheduler is not None:
        from distributed import Client

        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    n = workers if workers is not None else max(1, os.cpu_count() or 1)
    with _start_method():  # first: the workers' imports start now
        import dask
        from distributed import Client, LocalCluster

        with dask.config.set(WORKER_CONFIG):
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.ERROR,
                env={THREADS_ENV: "1"},
            )
            try:
                with Client(cluster) as client:
                    yield client
            finally:
                cluster.close()


def _dashboard(client: Any) -> str | None:
    """Return the dashboard's address; None when it cannot show (no bokeh, or none started)."""
    try:
        import bokeh  # noqa: F401  (dask serves its dashboard with bokeh)

        link = client.dashboard_link
    except Exception:
        return None
    return str(link) if link else None


def _run_inline(
    projects: Sequence[Path], out: Path, force: bool, only: Sequence[str] | None
) -> Iterator[dict[str, Any]]:
    for project in projects:
        yield run_territory(project, out, force=force, only=only)


def _run_dask(
    client: Any,
    projects: Sequence[Path],
    out: Path,
    force: bool,
    only: Sequence[str] | None,
    show: bool,
) -> Iterator[dict[str, Any]]:
    from distributed import as_completed, progress

    token = uuid.uuid4().hex[:8]
    keys = [f"cdv-geo-{territory_slug(p)}-{token}" for p in projects]
    futures = client.map(
        run_territory,
        [str(p) for p in projects],
        out=str(out),
        force=force,
        only=None if only is None else list(only),
        key=keys,
        pure=False,
    )
    by_key = {f.key: p for f, p in zip(futures, projects, strict=True)}
    if show:
        progress(futures)
        print()  # the text progress bar leaves its line open (on stdout)
    for future in as_completed(futures):
        project = by_key[future.key]
        if future.status == "error":  # the worker died or the task could not run
            exc = future.exception()
            yield {
                "territory": territory_slug(project),
                "name": None,
                "project": str(project),
                "status": "failed",
                "step": "worker",
                "message": f"{type(exc).__name__}: {exc}",
                "quartiers": [],
            }
        else:
            yield future.result()
        future.release()


def run_batch(
    projects: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    only: Sequence[str] | None = None,
    peers: bool = True,
    k: int = 20,
    baseline: Sequence[str] = BASELINE,
    show_progress: bool | None = None,
    echo: Callable[[str], None] | None = None,
) -> BatchResult:
    """Compute every metric of many territories, then the national tables.

    One task per territory runs :func:`~cdv_geo.pipeline.compute_metrics` on a dask worker and
    writes ``out/territories/<slug>/<table>.parquet``; a territory that fails is listed in
    ``errors`` (and ``out/national/errors.csv``) and the others go on. A territory whose folder
    holds a completion marker from an earlier run is skipped unless `force`. Then the national
    tables are stacked into ``out/national/<table>.parquet`` and ``.csv`` (see
    :mod:`cdv_geo.batch.national`), with ``peers`` (comparable quartiers) when there are
    indicator tables, ``territories`` and ``errors``.

    Parameters
    ----------
    projects : path, glob or iterable of them
        ``project.toml`` files, folders holding one, or glob patterns.
    out : path-like
        Output folder.
    scheduler : str, optional
        Address of a running dask scheduler (``"tcp://host:8786"``); default: a LocalCluster
        started for the run and stopped after it. :data:`INLINE` (``"inline"``) runs in this
        process, without dask.
    workers : int, optional
        Worker processes of the LocalCluster (default: one per core).
    force : bool, default False
        Compute every territory again, even those finished by an earlier run.
    only : sequence of str, optional
        Outputs to compute (``compute_metrics(only=...)``); default all.
    peers : bool, default True
        Compute the comparable quartiers (``peers`` table).
    k, baseline
        Size and matching indicators of the comparison groups (see
        :func:`~cdv_geo.metrics.peers.compare_to_peers`).
    show_progress : bool, optional
        Show dask's progress bar (default: when stdout is a terminal).
    echo : callable, optional
        Receives one-line messages (the dashboard address).

    Returns
    -------
    BatchResult

    Examples
    --------
    >>> import tempfile
    >>> import cdv_geo as cg
    >>> out = tempfile.mkdtemp()
    >>> r = run_batch([cg.datasets.get_path("soissons")], out, scheduler="inline",
    ...               only=["indicators"], k=2)
    >>> r.territories["status"].tolist(), len(r.errors)
    (['done'], 0)
    >>> r.table("indicators").index.names[0]
    'territory'
    >>> int(r.table("peers")["n_peers"].max())  # Soissons has 3 QPV: 2 peers each
    2
    """
    begin = time.perf_counter()
    paths = find_projects(projects)
    out_dir = Path(out).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    show = sys.stdout.isatty() if show_progress is None else show_progress
    say = echo or log.info
    records: list[dict[str, Any]] = []
    dashboard = None
    clock = {"start": 0.0}
    if scheduler == INLINE:
        start = time.perf_counter()
        records.extend(_run_inline(paths, out_dir, force, only))
        clock["territories"], start = time.perf_counter() - start, time.perf_counter()
        national = merge_national(out_dir, _slugs(records), peers=peers, k=k, baseline=baseline)
        clock["national"] = time.perf_counter() - start
    else:
        start = time.perf_counter()
        with open_client(scheduler, workers=workers) as client:
            clock["start"], start = time.perf_counter() - start, time.perf_counter()
            dashboard = _dashboard(client)
            say(
                f"dask dashboard: {dashboard}"
                if dashboard
                else "dask dashboard: unavailable (pip install bokeh to watch the run)"
            )
            records.extend(_run_dask(client, paths, out_dir, force, only, show))
            clock["territories"], start = time.perf_counter() - start, time.perf_counter()
            national = _national_dask(
                client, out_dir, _slugs(records), peers=peers, k=k, baseline=list(baseline)
            )
            clock["national"] = time.perf_counter() - start
    territories, errors = _summaries(records, paths)
    tables = {name: [Path(p) for p in files] for name, files in national["tables"].items()}
    folder = out_dir / NATIONAL
    tables["territories"] = write_table(territories, folder, "territories")
    tables["errors"] = write_table(errors, folder, "errors")
    clock["total"] = time.perf_counter() - begin
    return BatchResult(
        territories, errors, tables, out_dir, dashboard, list(national["notes"]), clock
    )


def _national_dask(
    client: Any, out: Path, slugs: list[str], *, peers: bool, k: int, baseline: list[str]
) -> dict[str, Any]:
    """Stack the national tables on the workers, one task per table."""

    def submit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return client.submit(fn, *args, pure=False, **kwargs)

    try:
        return merge_national(out, slugs, peers=peers, k=k, baseline=baseline, submit=submit)
    except Exception as exc:
        raise CdvGeoError(
            f"the national tables could not be stacked ({type(exc).__name__}: {exc}); "
            f"the territories' tables are in {out / 'territories'}: run again to "
            "retry (finished territories are skipped)"
        ) from exc


def _slugs(records: Sequence[dict[str, Any]]) -> list[str]:
    return [r["territory"] for r in records if r["status"] in ("done", "skipped")]


def _summaries(
    records: Sequence[dict[str, Any]], paths: Sequence[Path]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = {territory_slug(p): i for i, p in enumerate(paths)}
    records = sorted(records, key=lambda r: order.get(r["territory"], len(order)))
    territories = pd.DataFrame(
        {
            "name": [r.get("name") for r in records],
            "project": [r.get("project") for r in records],
            "status": [r["status"] for r in records],
            "folder": [r.get("folder") for r in records],
            "n_quartiers": [len(r.get("quartiers") or []) for r in records],
            "seconds": [float(r.get("seconds") or float("nan")) for r in records],
            "cpu_seconds": [float(r.get("cpu_seconds") or float("nan")) for r in records],
            "thread_cpu_seconds": [
                float(r.get("thread_cpu_seconds") or float("nan")) for r in records
            ],
        },
        index=pd.Index([r["territory"] for r in records], name="territory", dtype=object),
    )
    failed = [r for r in records if r["status"] == "failed"]
    errors = pd.DataFrame([{c: r.get(c) for c in ERROR_COLUMNS} for r in failed])
    if errors.empty:
        errors = pd.DataFrame({c: pd.Series(dtype=object) for c in ERROR_COLUMNS})
    return territories, errors
