"""National tables: the per-territory tables of a batch, stacked, and the comparable quartiers.

Each national table is the territories' tables of that name one below the other, with a first index
level ``territory`` (the slug of the territory's folder): ``(territory, quartier, ...)`` for the
per-quartier tables, ``(territory, id)`` for per-feature ones (``nearest``). Each territory's
named comparison rows (``qpv``, and ``commune`` and ``hors_qpv`` when it has a communes layer:
:mod:`cdv_geo.core.tables`) are **kept**, after its quartiers, so that the table still follows
the result table contract territory by territory: ``commune`` is *that territory's* commune. Keep
the quartiers alone with ``table[~table.index.get_level_values("quartier").isin(COMPARISON_ROWS)]``
(:data:`cdv_geo.core.tables.COMPARISON_ROWS`).

Every table is written as ``<out>/national/<name>.parquet`` and ``.csv`` (UTF-8, index as columns).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cdv_geo.batch.task import TERRITORIES, atomic_path, write_parquet
from cdv_geo.metrics.peers import BASELINE, peer_table

__all__ = [
    "NATIONAL",
    "merge_national",
    "national_indicators",
    "national_peers",
    "stack_table",
    "table_names",
    "write_table",
]

#: Folder (under the batch output) of the national tables.
NATIONAL = "national"


def write_table(table: pd.DataFrame, folder: Path, name: str) -> list[Path]:
    """Write `table` as ``folder/name.parquet`` and ``folder/name.csv`` (atomically)."""
    parquet = write_parquet(table, folder / f"{name}.parquet")
    csv = folder / f"{name}.csv"
    with atomic_path(csv) as tmp:
        table.to_csv(tmp, index=True, encoding="utf-8", lineterminator="\n")
    return [parquet, csv]


def _stack(out: Path, slugs: Sequence[str], name: str) -> pd.DataFrame | None:
    """Return the tables `name` of the territories, with the first index level ``territory``.

    When every file has the same Arrow schema (the usual case: territories of one batch write
    the same columns), the files are joined as Arrow tables and converted to pandas once,
    several times faster than one conversion per file; otherwise each is read by pandas and
    the frames are concatenated (pandas then reconciles the column types).
    """
    found = [(slug, out / TERRITORIES / slug / f"{name}.parquet") for slug in slugs]
    found = [(slug, path) for slug, path in found if path.exists()]
    if not found:
        return None
    keys = [slug for slug, _ in found]
    tables = [pq.read_table(path) for _, path in found]
    schema = tables[0].schema
    if all(t.schema.equals(schema, check_metadata=True) for t in tables[1:]):
        frame = pa.concat_tables(tables).to_pandas()
        territory = np.repeat(np.array(keys, dtype=object), [t.num_rows for t in tables])
        index = frame.index
        levels = [index.get_level_values(i) for i in range(index.nlevels)]
        frame.index = pd.MultiIndex.from_arrays(
            [pd.Index(territory.tolist(), name="territory"), *levels]
        )
        return frame
    del tables
    parts = [pd.read_parquet(path) for _, path in found]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # all-NaN columns of some territories
        return pd.concat(parts, keys=keys, names=["territory"])


def table_names(out: str | Path, slugs: Sequence[str]) -> list[str]:
    """Return the names of the tables the territories `slugs` wrote, sorted."""
    names: set[str] = set()
    for slug in slugs:
        names.update(p.stem for p in (Path(out) / TERRITORIES / slug).glob("*.parquet"))
    return sorted(names)


def stack_table(out: str | Path, slugs: Sequence[str], name: str) -> list[str]:
    """Write national table `name` (Parquet and CSV) and return its paths ([] when none)."""
    table = _stack(Path(out), slugs, name)
    if table is None:
        return []
    return [str(p) for p in write_table(table, Path(out) / NATIONAL, name)]


def national_indicators(out: Path, slugs: Sequence[str]) -> pd.DataFrame | None:
    """Return the territories' indicator tables as one long table with a ``territory`` column.

    Rows of levels other than ``qpv`` and ``commune`` (France, EPCI...) repeat from territory to
    territory: they are kept once, with ``territory`` empty.
    """
    table = _stack(out, slugs, "indicators")
    if table is None:
        return None
    table = table.reset_index(level="territory")
    table = table.reset_index(drop=not _named(table.index))
    if "code" not in table.columns and "quartier" in table.columns:
        table = table.rename(columns={"quartier": "code"})
    shared = ~table["level"].astype(str).str.lower().isin(["qpv", "commune", "iris"])
    keys = [c for c in ("code", "level", "indicator", "year", "source") if c in table.columns]
    national = table[shared].drop_duplicates(subset=keys).assign(territory=None)
    return pd.concat([table[~shared], national], ignore_index=True)


def _named(index: pd.Index) -> bool:
    return any(n is not None for n in index.names)


def merge_national(
    out: str | Path,
    slugs: Sequence[str],
    *,
    peers: bool = True,
    k: int = 20,
    baseline: Sequence[str] = BASELINE,
    submit: Callable[..., Any] | None = None,
) -> dict[str, Any]:
    """Stack every territory table into ``out/national/`` and compute the comparable quartiers.

    One job per national table: run here one after another, or handed to `submit` (e.g. a
    dask client's ``submit``, as :func:`~cdv_geo.batch.run_batch` does, so that the tables are
    stacked on the workers in parallel and the client never holds them). ``peers.parquet``
    (:func:`~cdv_geo.metrics.peers.peer_table`, one row per quartier and indicator, per
    ``source`` when the indicator table has several) is written when the territories have
    indicator tables.

    Parameters
    ----------
    submit : callable, optional
        ``submit(fn, *args, **kwargs)`` returning a future (``.result()``); default: run now.

    Returns
    -------
    dict
        ``tables``: national table name -> [parquet path, csv path]; ``notes``: list of str.
    """
    run = submit or _run_now
    names = table_names(out, slugs)
    jobs: dict[str, Any] = {}
    if peers and "indicators" in names:  # the longest: first
        jobs["peers"] = run(national_peers, str(out), list(slugs), k=k, baseline=list(baseline))
    for name in names:
        jobs[name] = run(stack_table, str(out), list(slugs), name)
    written: dict[str, list[str]] = {}
    for name in names:
        paths = jobs[name].result()
        if paths:
            written[name] = paths
    peer = jobs["peers"].result() if "peers" in jobs else None
    if peer is None:
        return {"tables": written, "notes": []}
    return {"tables": {**written, **peer["tables"]}, "notes": list(peer["notes"])}


def _run_now(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
    done: Future[Any] = Future()
    done.set_result(fn(*args, **kwargs))
    return done


def national_peers(
    out: str | Path, slugs: Sequence[str], *, k: int = 20, baseline: Sequence[str] = BASELINE
) -> dict[str, Any] | None:
    """Write the ``peers`` table (comparable quartiers) when the territories have indicators.

    Returns
    -------
    dict or None
        ``tables`` ({"peers": [parquet, csv]}, or empty when no group could be formed) and
        ``notes`` (list of str); None when no territory wrote an indicator table.
    """
    out = Path(out)
    ind = national_indicators(out, slugs)
    if ind is None:
        return None
    notes: list[str] = []
    table = _peers(ind, k=k, baseline=baseline, notes=notes)
    written: dict[str, list[str]] = {}
    if table is not None:
        written["peers"] = [str(p) for p in write_table(table, out / NATIONAL, "peers")]
    return {"tables": written, "notes": list(dict.fromkeys(notes))}


def _peers(
    ind: pd.DataFrame, *, k: int, baseline: Sequence[str], notes: list[str]
) -> pd.DataFrame | None:
    sources: list[Any] = [None]
    if "source" in ind.columns and ind["source"].nunique() > 1:
        sources = sorted(ind["source"].dropna().unique())
    parts = {}
    for source in sources:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                parts[source] = peer_table(ind, k=k, baseline=baseline, source=source)
            except Exception as exc:  # peers are an extra: say why they are missing
                notes.append(f"peers ({source or 'indicators'}): {exc}")
        notes.extend(f"peers: {w.message}" for w in caught)
    if not parts:
        return None
    if sources == [None]:
        return parts[None]
    return pd.concat(parts, names=["source"])
