"""Did it work, everywhere? Every quartier of the national panel evaluated, on dask.

:func:`evaluate_national` evaluates each quartier of the national QPV panel (the donor pool of
a project's ``[evaluation]``) from one intervention year, against the other quartiers, with
:func:`cdv_geo.pipeline.evaluation.evaluate_quartiers`: a difference-in-differences and a
synthetic control per indicator. The fits of two quartiers are independent: the quartiers are
cut into chunks, one dask task each. The panel and its matrices are built once, in the client,
and sent once to every worker (:meth:`distributed.Client.scatter`), not once per task.

The matrices are indexed by plain Python strings (:func:`plain_index`): each fit looks at every
code of its matrix (a quartier's donors are those of its QPV generation), and reading 1,350
codes out of a pandas Arrow-backed string index, once per quartier, indicator and method, cost
about a tenth of the national run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from cdv_geo.metrics.panel import code_names, panel_matrices
from cdv_geo.pipeline.evaluation import evaluate_quartiers

__all__ = ["evaluate_chunk", "evaluate_national", "plain_index", "run_national_evaluation"]


def plain_index(
    matrices: Mapping[str, tuple[pd.DataFrame, str]],
) -> dict[str, tuple[pd.DataFrame, str]]:
    """Return `matrices` with their codes as a plain object index (same values, same order).

    Examples
    --------
    >>> m = pd.DataFrame({2019: [0.4, 0.3]}, index=pd.Index(["QP1", "QP2"], name="code"))
    >>> out = plain_index({"poverty_rate": (m, "revn:TP60")})["poverty_rate"][0]
    >>> out.index.dtype, out.index.tolist(), out.index.name
    (dtype('O'), ['QP1', 'QP2'], 'code')
    """
    out = {}
    for ind, (m, series) in matrices.items():
        index = pd.Index([str(c) for c in m.index], dtype=object, name=m.index.name)
        out[ind] = (m.set_axis(index, axis=0), series)
    return out


def evaluate_chunk(
    panel: pd.DataFrame,
    matrices: Mapping[str, tuple[pd.DataFrame, str]],
    names: Mapping[str, Any],
    codes: Sequence[str],
    year: int,
    indicators: Sequence[str],
    treated: Sequence[str],
) -> tuple[pd.DataFrame, float]:
    """Return the evaluation rows of `codes` (each on its own) and the task's CPU seconds."""
    start = time.process_time()
    out = evaluate_quartiers(
        panel,
        dict.fromkeys(codes, year),
        indicators,
        treated=treated,
        names=names,
        exclude_evaluated=False,
        charts=False,
        matrices=matrices,
    )
    out.attrs = {}  # the charts' paths stay on the worker: the table is what comes back
    return out, time.process_time() - start


def evaluate_national(
    panel: pd.DataFrame,
    year: int,
    indicators: Sequence[str],
    *,
    codes: Sequence[str] | None = None,
    treated: Sequence[str] = (),
    client: Any = None,
    chunk: int = 50,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Evaluate every quartier of `panel` (or `codes`) from `year`; return the table and times.

    Parameters
    ----------
    panel : pandas.DataFrame
        :func:`cdv_geo.metrics.panel.indicator_panel` of the national files.
    year : int
        The intervention year, the same for every quartier (what the national run asks:
        which quartiers changed unlike their counterfactual since that year).
    indicators : sequence of str
        The indicators evaluated.
    codes : sequence of str, optional
        The quartiers evaluated (default: every QPV code of the panel).
    treated : sequence of str
        Quartiers never used as comparisons.
    client : distributed.Client, optional
        The dask client the chunks run on (None: in this process, one after the other).
    chunk : int, default 50
        Quartiers per task.

    Returns
    -------
    (pandas.DataFrame, dict)
        The evaluation table (as :func:`~cdv_geo.pipeline.evaluation.evaluate_quartiers`)
        and ``{"seconds": wall clock, "cpu_seconds": CPU time summed over the tasks,
        "tasks": number of tasks, "quartiers" and "indicators": how many were evaluated}``.

    Examples
    --------
    >>> import numpy as np
    >>> from cdv_geo.metrics.panel import indicator_panel
    >>> rng = np.random.default_rng(0)
    >>> t = pd.DataFrame([(f"QP{i:02d}", y, rng.random()) for i in range(12)
    ...                   for y in (2017, 2018, 2019, 2021)], columns=["code", "year", "value"])
    >>> p = indicator_panel(t.assign(indicator="poverty_rate", level="qpv"))
    >>> table, times = evaluate_national(p, 2021, ["poverty_rate"], chunk=5)
    >>> len(table), int(times["tasks"])
    (24, 3)
    """
    wall = time.perf_counter()
    inds = list(indicators)
    matrices = plain_index(panel_matrices(panel, inds))
    names = code_names(panel)
    if codes is None:
        qpv = panel[panel["generation"].notna()] if "generation" in panel else panel
        codes = sorted(set(qpv["code"].astype(str)))
    chunks = [list(codes[i : i + chunk]) for i in range(0, len(codes), chunk)]
    args = (inds, list(treated))
    if client is None:
        results = [evaluate_chunk(panel, matrices, names, c, year, *args) for c in chunks]
    else:
        # once to every worker: a task then carries only its chunk of codes
        shared = client.scatter([panel, matrices, names], broadcast=True)
        futures = [
            client.submit(evaluate_chunk, *shared, c, year, *args, pure=False) for c in chunks
        ]
        results = client.gather(futures)
    tables = [t for t, _ in results]
    table = pd.concat(tables) if tables else pd.DataFrame()
    times = {
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": float(sum(c for _, c in results)),
        "tasks": float(len(chunks)),
        "quartiers": float(len(codes)),
        "indicators": float(len(inds)),
    }
    return table, times


def run_national_evaluation(
    projects: Sequence[Any],
    out: Any,
    year: int,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
) -> tuple[list[Any], dict[str, float]]:
    """Evaluate every quartier of the donor panel of each project's ``[evaluation]`` from `year`.

    The projects' donor files (their union, read once) give the national panel and the
    indicators evaluated; each project's own ``treated`` quartiers are never comparisons.
    Writes ``out/national/evaluation.parquet`` and ``.csv`` (:func:`evaluate_national`) and
    returns the files and the times: those of :func:`evaluate_national`, plus ``read`` (the
    donor files and the panel), ``start`` (the cluster's start; 0 inline) and ``total`` (the
    whole call, the cluster's stop included); no file when no project has an ``[evaluation]``.
    ``scheduler`` is that of :func:`cdv_geo.batch.run.run_batch` (``"inline"``: no dask).
    """
    import warnings
    from pathlib import Path

    from cdv_geo.batch.national import NATIONAL, write_table
    from cdv_geo.batch.run import INLINE, find_projects, open_client
    from cdv_geo.io.insee import read_indicators
    from cdv_geo.metrics.panel import indicator_panel
    from cdv_geo.territory.project import read_evaluation

    begin = time.perf_counter()
    cfgs = [c for p in find_projects(projects) if (c := read_evaluation(p)) is not None]
    if not cfgs:
        return [], {}
    donors = list(dict.fromkeys(d for c in cfgs for d in c["donors"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # quality notes of other quartiers
        national = read_indicators(donors)
    wanted = [i for c in cfgs for i in (c["indicators"] or [])]
    inds = list(dict.fromkeys(wanted)) or sorted(set(national["indicator"]) - {"population"})
    panel = indicator_panel(national, keep=inds)
    treated = list(dict.fromkeys(t for c in cfgs for t in c["treated"]))
    read = time.perf_counter() - begin
    start = 0.0
    if scheduler == INLINE:
        table, times = evaluate_national(panel, year, inds, treated=treated)
    else:
        clock = time.perf_counter()
        with open_client(scheduler, workers=workers) as client:
            start = time.perf_counter() - clock
            table, times = evaluate_national(panel, year, inds, treated=treated, client=client)
    files = write_table(table, Path(out) / NATIONAL, "evaluation")
    times.update(read=read, start=start, total=time.perf_counter() - begin)
    return files, times
