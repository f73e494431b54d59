"""One territory of a batch: read its project, compute its metrics, write its tables.

:func:`run_territory` is the task a dask worker runs. It takes a *path* (the worker reads its own
inputs), writes its own outputs under ``<out>/territories/<slug>/`` (one Parquet file per metric
table) and returns only a small :class:`dict` (status, paths, timings). A completion marker
(``_SUCCESS.json``) is written last, atomically: a folder without it is unfinished, and a rerun
computes it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
import traceback
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "MARKER",
    "TERRITORIES",
    "atomic_path",
    "read_marker",
    "run_territory",
    "territory_slug",
    "write_parquet",
]

#: Name of the completion marker of a territory folder.
MARKER = "_SUCCESS.json"
#: Folder (under the batch output) holding one folder per territory.
TERRITORIES = "territories"


def territory_slug(project: str | os.PathLike[str]) -> str:
    """Return the folder name of a project's outputs: its folder's name, ASCII, plus a short hash.

    The hash of the absolute path keeps two projects of the same folder name apart and gives a
    project the same slug on every run, whatever the list it comes in.

    Examples
    --------
    >>> territory_slug("/data/Saint-Quentin/project.toml").rsplit("-", 1)[0]
    'saint-quentin'
    >>> territory_slug("/a/soissons.toml") != territory_slug("/b/soissons.toml")
    True
    """
    p = Path(project).absolute()
    stem = p.parent.name if p.stem == "project" else p.stem
    text = unicodedata.normalize("NFKD", stem)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "territoire"
    digest = hashlib.sha1(str(p).encode("utf-8")).hexdigest()[:6]
    return f"{text}-{digest}"


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`, moved onto it only when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _mixed(values: pd.Index | pd.Series) -> bool:
    if values.dtype != object:
        return False
    kinds = {type(v) for v in values if not pd.isna(v)}
    return len(kinds) > 1 or bool(kinds and not kinds <= {str, bool, int, float})


def _as_text(values: pd.Index) -> pd.Index:
    return pd.Index([v if pd.isna(v) else str(v) for v in values], name=values.name, dtype=object)


def _arrow_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Return a copy Parquet can store: no attrs, mixed-type columns and index levels as text.

    Parquet holds one type per column: a ``year`` level holding years and the breakdown total
    ``"all"`` is written as text (``"2018"``, ``"all"``).
    """
    out = table.copy()
    out.attrs = {}
    for col in out.columns:
        if _mixed(out[col]):
            out[col] = out[col].map(lambda v: v if pd.isna(v) else str(v))
    if isinstance(out.index, pd.MultiIndex):
        levels = [out.index.get_level_values(i) for i in range(out.index.nlevels)]
        if any(_mixed(v) for v in levels):
            arrays = [_as_text(v) if _mixed(v) else v for v in levels]
            out.index = pd.MultiIndex.from_arrays(arrays, names=out.index.names)
    elif _mixed(out.index):
        out.index = _as_text(out.index)
    return out


def write_parquet(table: pd.DataFrame, path: Path) -> Path:
    """Write `table` (with its index) to Parquet atomically and return the path."""
    with atomic_path(path) as tmp:
        _arrow_safe(table).to_parquet(tmp, index=True)
    return path


def read_marker(folder: Path) -> dict[str, Any] | None:
    """Return the completion record of a territory folder, or None when it is unfinished."""
    try:
        record: dict[str, Any] = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return record


@contextlib.contextmanager
def _logged_warnings() -> Iterator[list[str]]:
    """Collect the warnings the ``cdv_geo`` logger logs in this thread, for the record.

    The notes of a run say in plain words which step met a problem; the warning itself (which
    may name a file or a field) is logged, and a worker's log is easily lost: the record keeps
    it for whoever runs the batch.
    """
    found: list[str] = []
    thread = threading.get_ident()

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == thread:
                found.append(" ".join(record.getMessage().split()))

    logger = logging.getLogger("cdv_geo")
    handler = Keep(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        yield found
    finally:
        logger.removeHandler(handler)


class _StepTracker:
    """A ``progress`` callable for compute_metrics that remembers the step being run."""

    def __init__(self) -> None:
        self.step = "metrics"

    def __call__(self, items: Iterable[Any], desc: str) -> Iterator[Any]:
        for item in items:
            if isinstance(item, tuple) and item and isinstance(item[0], str):
                self.step = f"metrics: {item[0]}"
            yield item


def run_territory(
    project: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    force: bool = False,
    only: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Compute and write every metric table of one project; never raise.

    Parameters
    ----------
    project : path-like
        The territory's ``project.toml``.
    out : path-like
        The batch output folder; tables go to ``out/territories/<slug>/<table>.parquet``.
    force : bool, default False
        Compute again even when the folder's completion marker exists.
    only : sequence of str, optional
        Passed to :func:`~cdv_geo.pipeline.compute_metrics`; default: every table of
        :data:`~cdv_geo.pipeline.TABLES`. Only tables are written, so the layers drawn by the
        maps alone (service areas) are not computed.

    Returns
    -------
    dict
        ``territory`` (slug), ``name``, ``project``, ``status`` (``done``, ``skipped`` or
        ``failed``), ``step`` and ``message`` (of a failure), ``folder``, ``tables`` (names),
        ``quartiers`` (codes), ``notes`` (of reading the project, then of the run, in plain
        words), ``warnings`` (the warnings the run logged, in full: what to fix, for whoever
        runs the batch), ``seconds`` (wall clock), ``cpu_seconds`` (of the worker process:
        its other threads, a dask worker's event loop or cdv_geo's thread pool, included),
        ``thread_cpu_seconds`` (of the thread that ran the task alone).
    """
    start, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()

    def took() -> dict[str, float]:
        return {
            "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu,
            "thread_cpu_seconds": time.thread_time() - own,
        }

    slug = territory_slug(project)
    folder = Path(out) / TERRITORIES / slug
    base: dict[str, Any] = {
        "territory": slug,
        "name": None,
        "project": str(Path(project).absolute()),
        "folder": str(folder),
        "step": None,
        "message": None,
        "tables": [],
        "quartiers": [],
    }
    done = None if force else read_marker(folder)
    if done is not None:
        return {**base, **done, "status": "skipped", **took()}
    step = "read"
    tracker = _StepTracker()
    try:
        from cdv_geo.pipeline import TABLES, compute_metrics
        from cdv_geo.territory import Territory

        with warnings.catch_warnings(record=True) as caught:  # kept in the record, not lost
            warnings.simplefilter("always")  # in a worker's log
            territory = Territory.from_file(project)
        read_notes = [" ".join(str(w.message).split()) for w in caught]
        base["name"] = territory.name
        if territory.quartiers is not None:
            base["quartiers"] = [str(c) for c in territory.quartiers["code"]]
        step = "metrics"
        wanted = list(TABLES) if only is None else only  # tables only: the layers are not written
        with _logged_warnings() as logged:  # (the notes say them in plain words, without detail)
            metrics = compute_metrics(territory, only=wanted, progress=tracker)
        step = "write"
        (folder / MARKER).unlink(missing_ok=True)
        for stale in folder.glob("*.parquet"):
            stale.unlink()
        names = []
        for name, table in metrics.tables.items():
            write_parquet(table, folder / f"{name}.parquet")
            names.append(name)
        record = {
            **base,
            "status": "done",
            "tables": names,
            "notes": [*read_notes, *(str(n) for n in metrics.notes)],
            "warnings": logged,
            **took(),
        }
        with atomic_path(folder / MARKER) as tmp:  # last: the folder is complete
            tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        return record
    except Exception as exc:  # a failed territory must not stop the others
        if step == "metrics":
            step = tracker.step
        from cdv_geo.core.errors import CdvGeoError

        # a package error says what to fix; any other error needs its type to be understood
        message = str(exc) if isinstance(exc, CdvGeoError) else f"{type(exc).__name__}: {exc}"
        return {
            **base,
            "status": "failed",
            "step": step,
            "message": message,
            "traceback": traceback.format_exc(limit=-3),
            **took(),
        }
