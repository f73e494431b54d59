"""Run array-heavy steps on several cores.

Threads, not processes: numpy's array operations, shapely's vectorized functions (``get_x``,
``get_y``...) and pyarrow's compute kernels release the GIL, so a step cut into chunks runs on
as many cores as it has chunks, without copying the arrays. Steps that hold the GIL (a
``scipy.sparse.csgraph.dijkstra`` call, shapely's ``get_coordinates``) gain nothing; they can
still run while other threads do GIL-free work (:func:`alongside`).

Results never depend on the number of threads: every chunk is computed by the same code as
the whole, and chunks are put back in order. Work submitted here never waits for other work
submitted here, so the shared pool cannot deadlock.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar, cast

import numpy as np

R = TypeVar("R", bound=tuple[np.ndarray, ...])
T = TypeVar("T")

#: Fewest items per chunk: below this, a thread costs more than it saves.
MIN_CHUNK = 25_000
#: Most threads used for one chunked step (memory bandwidth is shared: more rarely helps).
MAX_THREADS = 4
#: Threads kept for work running alongside a GIL-holding call (see :func:`alongside`).
SIDE_THREADS = 1
#: Environment variable capping :func:`n_threads` (a batch worker, one per core, sets ``1``).
THREADS_ENV = "CDV_GEO_THREADS"

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def n_threads() -> int:
    """Cores this process may use, capped at :data:`MAX_THREADS` and ``$CDV_GEO_THREADS``.

    Examples
    --------
    >>> import os
    >>> os.environ[THREADS_ENV] = "1"
    >>> n_threads()
    1
    >>> del os.environ[THREADS_ENV]
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cores = os.cpu_count() or 1
    cap = os.environ.get(THREADS_ENV, "").strip()
    limit = int(cap) if cap.isdigit() and int(cap) > 0 else MAX_THREADS
    return max(1, min(cores, MAX_THREADS, limit))


def pool() -> ThreadPoolExecutor:
    """Return the process's pool of worker threads, started on first use.

    Starting threads costs about half a millisecond each on a busy machine, several times per
    call: the pool is kept. A forked child (multiprocessing on Linux) starts its own.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=n_threads() - 1 + SIDE_THREADS, thread_name_prefix="cdv_geo"
            )
        return _pool


def _forget_pool() -> None:  # pragma: no cover - runs in forked children
    global _pool, _pool_lock
    _pool = None  # its threads do not exist in the child
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def chunks(n: int) -> list[slice]:
    """Cut ``range(n)`` into at most :func:`n_threads` slices of at least :data:`MIN_CHUNK`."""
    k = max(1, min(n_threads(), n // MIN_CHUNK))
    bounds = np.linspace(0, n, k + 1).astype(int).tolist()
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def map_chunks(fn: Callable[[slice], R], n: int) -> R:
    """Apply `fn` to consecutive slices of ``range(n)`` in threads and concatenate its arrays.

    `fn` returns a tuple of arrays, one item per position of the slice; the result is the
    tuple of their concatenations, as if `fn` had been called once on ``slice(0, n)``.
    """
    parts = chunks(n)
    if len(parts) == 1:
        return fn(parts[0])
    futures = [pool().submit(fn, p) for p in parts[1:]]
    try:
        first = fn(parts[0])  # the calling thread takes its share
    except BaseException:
        wait(futures)  # nothing left running on the arrays
        raise
    rest = [f.result() for f in futures]
    return cast(R, tuple(np.concatenate(arrays) for arrays in zip(first, *rest, strict=True)))


def alongside(fn: Callable[..., T], *args: Any, size: int) -> Future[T]:
    """Start ``fn(*args)`` in a side thread and return at once (inline for small work).

    For work that releases the GIL (a shapely pass, compiled code) meant to run during a call
    that holds it (``csgraph.dijkstra``). Such a call keeps the GIL until it returns, so the
    side work must already be inside its GIL-free part when it starts: let `fn` set a
    :class:`threading.Event` just before that part, and wait for it before the call. Work of
    fewer than :data:`MIN_CHUNK` items (`size`), or in a process allowed one thread, runs in
    the calling thread before this returns. Collect the result with ``.result()`` (which
    re-raises).

    Examples
    --------
    >>> alongside(sum, [1, 2], size=2).result()
    3
    """
    if size < MIN_CHUNK or n_threads() == 1:
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args))
        except BaseException as exc:  # (re-raised by .result(), as from a thread)
            done.set_exception(exc)
        return done
    return pool().submit(fn, *args)
