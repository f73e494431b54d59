"""A folder (or a list) of INSEE files: which files, each content read once, merged in one table.

INSEE publishes some tables under two names (``DEMO_2017.csv`` and ``data_DEMO_2017_V1_QP.csv``,
the second without the names column and without thousands separators), and folders gather
copies. :func:`read_files` reads each *content* once: a file whose bytes are those of a file
already read is not parsed again, and a file that parses to the same values (same codes,
indicators, vintages, values and flags, in any row or column order) as one already read is
dropped; both cases give a note naming the two files. :func:`merge_tables` then stacks the
files in one pass (no per-group Python over the whole table), so reading time grows with the
total size, not with its square.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.io.insee.cells import TABLE_SUFFIXES

__all__ = [
    "CONTENT_COLUMNS",
    "Duplicate",
    "bytes_digest",
    "fill_names",
    "merge_tables",
    "read_files",
    "table_files",
    "values_digest",
]

#: Columns whose values make a file's content: two files that give the same rows of these
#: hold the same data, whatever their names, ``name`` column or published headers.
CONTENT_COLUMNS = ["code", "level", "indicator", "year", "value", "flag"]
_KEY = ["code", "indicator", "year", "source"]


@dataclass(frozen=True)
class Duplicate:
    """A file left out because a file already read holds the same content.

    ``how`` is ``"bytes"`` (byte for byte the same file) or ``"values"`` (other bytes, the
    same values once read: another published name of the table).
    """

    kept: Path
    dropped: Path
    how: str
    n_values: int

    @property
    def note(self) -> str:
        """The sentence of the reading report."""
        same = (
            "are the same file byte for byte"
            if self.how == "bytes"
            else f"hold the same {self.n_values:,} values (another published name of one table)"
        )
        return (
            f"{self.dropped.name} and {self.kept.name} {same}: read once, from "
            f"{self.kept.name} ({self.dropped})"
        )


def table_files(path: Any) -> list[Path]:
    """Return the table files of a path, a folder (sorted) or a list of them.

    Raises
    ------
    DataValidationError
        A folder that holds no table, or an empty list.
    """
    if isinstance(path, str | os.PathLike):
        p = Path(path)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in TABLE_SUFFIXES)
            if not found:
                raise DataValidationError(
                    [
                        Problem(
                            f"the folder holds no table ({', '.join(TABLE_SUFFIXES)})",
                            file=str(p),
                            layer="indicators",
                        )
                    ]
                )
            return found
        return [p]
    files = [f for item in path for f in table_files(item)]
    if not files:
        raise DataValidationError([Problem("no indicator file given", layer="indicators")])
    return files


def bytes_digest(path: Path) -> str | None:
    """Return the SHA-256 of a file's bytes (None when it cannot be read: the reader says why)."""
    try:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


def values_digest(frame: pd.DataFrame) -> str:
    """Return a fingerprint of a read file's values, independent of row and column order.

    Two files with the same fingerprint give the same rows of :data:`CONTENT_COLUMNS`
    (values compared to 12 decimals): the same data under two names.

    Examples
    --------
    >>> a = pd.DataFrame({"code": ["QP002013", "Ensemble"], "level": ["qpv", "all_qpv"],
    ...                   "indicator": "population", "year": 2019, "value": [5766.0, 5e6],
    ...                   "flag": None})
    >>> values_digest(a) == values_digest(a.iloc[::-1])
    True
    >>> b = a.assign(value=[5767.0, 5e6])
    >>> values_digest(a) == values_digest(b)
    False
    """
    content = frame[CONTENT_COLUMNS].assign(
        value=frame["value"].round(12),
        year=frame["year"].astype("Int64"),
        flag=frame["flag"].astype(object).where(frame["flag"].notna(), None),
    )
    hashes = np.sort(pd.util.hash_pandas_object(content, index=False).to_numpy())
    return hashlib.sha256(hashes.tobytes()).hexdigest() + f":{len(hashes)}"


def read_files(
    files: list[Path],
    read_one: Callable[[Path], pd.DataFrame],
    *,
    progress: bool | None = None,
) -> tuple[list[pd.DataFrame], list[Duplicate]]:
    """Read each file once by content, with a progress bar over the files.

    Parameters
    ----------
    files : list of Path
        The files, in reading order (the first of two duplicates is the one kept).
    read_one : callable
        Reads one file into a long table.
    progress : bool, optional
        Show a tqdm bar on stderr; None (default) shows it only on a terminal.

    Returns
    -------
    frames, duplicates
        The tables of the files kept, and the files left out as duplicates. The ``file`` of
        a kept table names both files; missing names are taken from the duplicate.
    """
    frames: list[pd.DataFrame] = []
    duplicates: list[Duplicate] = []
    by_bytes: dict[str, int] = {}
    by_shape: dict[tuple[int, frozenset[Any], frozenset[Any]], list[int]] = {}
    digests: dict[int, str] = {}
    kept: list[Path] = []
    bar = tqdm(
        files,
        desc="INSEE files",
        unit="file",
        file=sys.stderr,
        leave=False,
        disable=None if progress is None else not progress,
    )
    for path in bar:
        bar.set_postfix_str(path.name, refresh=False)
        digest = bytes_digest(path)
        if digest is not None and digest in by_bytes:
            i = by_bytes[digest]
            duplicates.append(Duplicate(kept[i], path, "bytes", len(frames[i])))
            frames[i] = _also_from(frames[i], path, None)
            continue
        frame = read_one(path)
        # the full fingerprint is only computed for tables of the same shape
        shape = (
            len(frame),
            frozenset(frame["indicator"].unique()),
            frozenset(frame["year"].dropna().unique()),
        )
        candidates = by_shape.setdefault(shape, [])
        if candidates:
            fingerprint = values_digest(frame)
            for i in candidates:
                digests[i] = digests.get(i) or values_digest(frames[i])
            same = next((i for i in candidates if digests[i] == fingerprint), None)
            if same is not None:
                duplicates.append(Duplicate(kept[same], path, "values", len(frame)))
                frames[same] = _also_from(frames[same], path, frame)
                continue
            digests[len(frames)] = fingerprint
        candidates.append(len(frames))
        if digest is not None:
            by_bytes[digest] = len(frames)
        kept.append(path)
        frames.append(frame)
    bar.close()
    return frames, duplicates


def _also_from(frame: pd.DataFrame, path: Path, other: pd.DataFrame | None) -> pd.DataFrame:
    """Name the duplicate in ``file``; take the names the kept file lacks from it."""
    out = frame.copy()
    out["file"] = out["file"] + "; " + path.name
    if other is not None and out["name"].isna().any():
        names = other.dropna(subset=["name"]).drop_duplicates("code").set_index("code")["name"]
        out["name"] = out["name"].where(out["name"].notna(), out["code"].map(names))
    return out


def merge_tables(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate the files; a value one source gives in two files is kept once.

    Vectorised: the rows are grouped once, and only the values that two files give
    differently are looked at one by one (to say which).

    Raises
    ------
    DataValidationError
        Two files of one source giving two values of one indicator, code and vintage.
    """
    table = pd.concat(frames, ignore_index=True)
    # only files sharing a (source, year) may give one value twice: look at their rows only
    pairs = [
        {(s, y) for s in f["source"].unique() for y in f["year"].unique()}  # (a superset)
        for f in frames
    ]
    seen: dict[Any, int] = {}
    for p in pairs:
        for pair in p:
            seen[pair] = seen.get(pair, 0) + 1
    shared = [any(seen[pair] > 1 for pair in p) for p in pairs]
    if not any(shared):
        return table
    rows = np.repeat(np.asarray(shared), [len(f) for f in frames])
    dup = np.zeros(len(table), dtype=bool)
    dup[rows] = table.loc[rows, _KEY].duplicated(keep=False).to_numpy()
    if not dup.any():
        return table
    d = table.loc[dup, [*_KEY, "value", "file"]]
    groups = d.groupby(_KEY, sort=False, dropna=False)
    gid = groups.ngroup().to_numpy()
    stats = groups["value"].agg(["min", "max", "count", "size"])
    same = (
        (stats["count"] == 0)
        | ((stats["count"] == stats["size"]) & (stats["max"] - stats["min"] <= 1e-9))
    ).to_numpy()
    if not same.all():
        raise DataValidationError(_disagreements(d, gid, same))
    files = groups["file"].agg(lambda s: "; ".join(dict.fromkeys("; ".join(s).split("; "))))
    first = (groups.cumcount() == 0).to_numpy()
    table.loc[d.index[first], "file"] = files.to_numpy()[gid[first]]
    return table.drop(index=d.index[~first]).reset_index(drop=True)


def _disagreements(d: pd.DataFrame, gid: np.ndarray, same: np.ndarray) -> list[Problem]:
    """Return one problem per value that two files of one source give differently."""
    problems = []
    bad = d[~same[gid]]
    for (code, ind, yr, src), grp in bad.groupby(_KEY, sort=False, dropna=False):
        where = "; ".join(f"{f}: {x:g}" for f, x in zip(grp["file"], grp["value"], strict=True))
        problems.append(
            Problem(
                f"source {src!r} gives two values of {ind} for {yr} ({where}); read the "
                "files under different sources (read_indicators(f, source='...')) or keep "
                "one of them",
                layer="indicators",
                feature=str(code),
                field=str(ind),
            )
        )
    return problems


def fill_names(table: pd.DataFrame) -> pd.Series:
    """Return the names, a file without names (Filosofi) taking the code's name from others.

    Looked up once per run of rows with one code and one name (the records of one row of a
    file), not once per value.
    """
    names = table["name"].to_numpy(dtype=object)
    code = table["code"].to_numpy(dtype=object)
    start = np.ones(len(code), dtype=bool)
    start[1:] = (code[1:] != code[:-1]) | (names[1:] != names[:-1])
    first = np.flatnonzero(start)
    run_names = names[first].copy()
    missing = pd.isna(run_names)
    if not missing.any():
        return pd.Series(names, index=table.index, dtype=object)
    ids, uniques = pd.factorize(code[first])
    named = np.flatnonzero(~missing)
    known = np.full(len(uniques) + 1, None, dtype=object)  # the last: no code
    first_ids, at = np.unique(ids[named], return_index=True)  # each code's first name
    known[first_ids] = run_names[named[at]]
    run_names[missing] = known[ids[missing]]
    return pd.Series(run_names[np.cumsum(start) - 1], index=table.index, dtype=object)
