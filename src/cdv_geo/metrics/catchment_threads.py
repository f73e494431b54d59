"""The floating catchment's searches cut into slices of facilities, run on several threads.

:func:`in_threads` runs one job on every slice; :func:`two_phases` runs the searches, then
the sums that need the homes' tables, the tables built meanwhile. Each thread takes the next
slice (the faster threads take more) and keeps its arrays for every slice it takes.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import wait
from typing import Any

import numpy as np

from cdv_geo.core import threads

__all__ = ["in_threads", "slices", "two_phases"]


def in_threads(k: int, run: Any) -> dict[int, tuple[Any, dict[str, Any]]]:
    """Run ``run(lo, hi, state)`` on slices of 0..k-1 in threads; (result, state) by slice.

    Each thread takes the next slice (the faster threads take more) and keeps its `state`
    (queue, scratch arrays, sums) for every slice it takes.
    """
    parts = slices(k)
    n_slices = len(parts)
    done: dict[int, tuple[Any, dict[str, Any]]] = {}
    todo = itertools.count()

    def work() -> None:
        state: dict[str, Any] = {}
        while (i := next(todo)) < len(parts):
            done[i] = (run(*parts[i], state), state)

    helpers = [threads.pool().submit(work) for _ in range(min(threads.n_threads(), n_slices) - 1)]
    try:
        work()
    finally:
        wait([f for f in helpers if not f.cancel()])  # (not started: the slices are done)
    _ = [f.result() for f in helpers if not f.cancelled()]
    return done


def slices(k: int) -> list[tuple[int, int]]:
    """Cut 0..k-1 into slices of facilities: one below 32, else a few per thread."""
    n_slices = 1 if k < 32 else min(k // 8, 4 * threads.n_threads())
    return list(itertools.pairwise(np.linspace(0, k, n_slices + 1).astype(int).tolist()))


def two_phases(
    k: int, search: Any, prepare: Any, emit: Any, new_state: Any
) -> list[dict[str, Any]]:
    """Run ``search(lo, hi, state)`` on slices of 0..k-1, then ``emit(lo, hi, found, state)``.

    The calling thread runs ``prepare()`` while the other threads take the first slices to
    search; every thread then searches the slices left, then emits the slices in order
    (waiting, if need be, for a slice another thread is still searching), once ``prepare``
    has returned. Each thread keeps a `state` (made by ``new_state()``, in the calling
    thread) for all its slices; returns the states. An error in any thread stops the others
    and is raised here.
    """
    parts = slices(k)
    found: list[Any] = [None] * len(parts)
    searched = [threading.Event() for _ in parts]
    prepared, failed = threading.Event(), threading.Event()
    to_search, to_emit = itertools.count(), itertools.count()

    def stop() -> None:
        failed.set()
        prepared.set()
        for event in searched:
            event.set()

    def work(state: dict[str, Any]) -> None:
        try:
            while not failed.is_set() and (i := next(to_search)) < len(parts):
                found[i] = search(*parts[i], state)
                searched[i].set()
            prepared.wait()
            while not failed.is_set() and (i := next(to_emit)) < len(parts):
                searched[i].wait()
                if failed.is_set():
                    break
                emit(*parts[i], found[i], state)
                found[i] = None  # (its memory freed)
        except BaseException:
            stop()
            raise

    states = [new_state() for _ in range(min(threads.n_threads(), len(parts)))]
    helpers = [threads.pool().submit(work, state) for state in states[1:]]
    try:
        try:
            prepare()
        except BaseException:
            stop()
            raise
        prepared.set()
        work(states[0])
    finally:
        wait([f for f in helpers if not f.cancel()])  # (not started: nothing left to do)
    _ = [f.result() for f in helpers if not f.cancelled()]
    return states
