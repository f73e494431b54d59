"""The cells of published statistical tables: text files as INSEE writes them, numbers, codes.

INSEE files are ``;``-separated, UTF-8 with a byte-order mark (older ones Windows-1252), CRLF
line endings, hundreds of trailing empty columns, decimal commas, narrow no-break spaces
(U+202F) or no-break spaces (U+00A0) as thousands separators, quoted or unquoted codes, and
empty cells or secrecy codes (``s``, ``nd``...) for values that are not published.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.io.insee.registry import SECRECY_CODES
from cdv_geo.schema import normalize_token

__all__ = [
    "EMPTY_FLAG",
    "LEVELS",
    "TABLE_SUFFIXES",
    "Parse",
    "Rows",
    "level_of",
    "parse_value",
    "parse_values",
    "read_grid",
    "read_numbers",
    "read_rows",
]

#: Suffixes of the table files read (others in a folder are skipped).
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
#: ``flag`` of an empty cell.
EMPTY_FLAG = "empty"
#: Levels of the codes of an indicator table; ``all_qpv`` is INSEE's "Ensemble des QPV" row.
LEVELS: tuple[str, ...] = (
    "qpv",
    "all_qpv",
    "iris",
    "commune",
    "epci",
    "departement",
    "region",
    "france",
)
_LEVEL_ALIASES = {
    "qp": "qpv",
    "quartier": "qpv",
    "quartiers": "qpv",
    "qpv": "qpv",
    "ensemble": "all_qpv",
    "ensemble_des_qpv": "all_qpv",
    "all_qpv": "all_qpv",
    "iris": "iris",
    "com": "commune",
    "commune": "commune",
    "communes": "commune",
    "ville": "commune",
    "epci": "epci",
    "interco": "epci",
    "intercommunalite": "epci",
    "agglomeration": "epci",
    "dep": "departement",
    "departement": "departement",
    "reg": "region",
    "region": "region",
    "france": "france",
    "fr": "france",
    "fra": "france",
    "national": "france",
    "france_metropolitaine": "france",
    "metro": "france",
    "fm": "france",
}
# 2015 generation: QP + département (3 characters: 002, 02A, 971) + 3 digits;
# 2024 generation: QN + département + 2 digits + a letter
_QPV_CODE = re.compile(r"^QP(\d{3}|02[AB])\d{3}$|^QN(\d{3}|02[AB])\d{2}[A-Z]$")
_COMMUNE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_EPCI_CODE = re.compile(r"^\d{9}$")
_FRANCE_CODES = {"fr", "fra", "france", "fm", "metro", "fxx", "99", "frm"}
_THOUSAND_SEPARATORS = ("\u202f", "\xa0", " ")
_THOUSANDS = str.maketrans("", "", "".join(_THOUSAND_SEPARATORS))
#: The parse of cells: (values, flags, unreadable), see :func:`parse_values`.
Parse = tuple[np.ndarray, np.ndarray, np.ndarray]


class Rows:
    """The non-blank rows of a table file.

    ``cells``: the text of each row, trailing empty cells dropped (from :func:`read_grid`: a
    2-D object array, short rows padded with ""); ``lines``: the 1-based CSV line or XLSX row
    each one comes from. From ``read_grid(..., head=n)``, ``cells`` holds the first `n` rows
    only (:meth:`grid` reads the others); ``text`` and ``sep`` are the file's lines (trailing
    separators dropped) and separator, what :func:`read_numbers` and :meth:`grid` read.
    """

    def __init__(
        self, cells: Any, lines: list[int], text: list[str] | None = None, sep: str = ";"
    ) -> None:
        self.cells = cells
        self.lines = lines
        self.text = text
        self.sep = sep

    def grid(self, columns: Iterable[int] | None = None) -> Any:
        """Return the cells of every row: of all columns, or of `columns` only (others "").

        What a file read whole already holds is returned as is. Reading a few text columns
        of a large file (its codes, names, notes) skips making text of its numbers.
        """
        if self.text is None or len(self.cells) == len(self.lines):
            return self.cells
        width = self.cells.shape[1]
        keep = list(range(width)) if columns is None else sorted({j for j in columns if j < width})
        grid = np.full((len(self.lines), width), "", dtype=object)
        if keep:
            at = np.asarray(self.lines, dtype=np.intp) - 1
            grid[:, keep] = _text_columns(self.text, self.sep, width, keep)[at]
        return grid


def _text_columns(lines: list[str], sep: str, width: int, keep: list[int]) -> np.ndarray:
    """Return the text of the `keep` columns of every line (C parser; the csv module if odd)."""
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(lines)),
            sep=sep,
            header=None,
            names=range(width),
            usecols=keep,
            dtype=object,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
        if len(frame) == len(lines):
            block = frame[keep].to_numpy(dtype=object)
            block[pd.isna(block)] = ""  # the cells past a short row's end
            return block
    except Exception:  # an odd file: the csv module reads it line by line
        pass
    out = np.full((len(lines), len(keep)), "", dtype=object)
    for i, row in enumerate(csv.reader(lines, delimiter=sep)):
        out[i] = [row[j] if j < len(row) else "" for j in keep]
    return out


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataValidationError(  # pragma: no cover - cp1252 decodes nearly anything
        [Problem("cannot decode the file; save it as UTF-8", file=str(path), layer="indicators")]
    )


def _separator(lines: list[str], wanted: Iterable[str]) -> str:
    """Return the separator that splits a line into fields one of which is in `wanted`.

    Else the most frequent of ``;``, tab, ``,`` in the first non-blank line: unlike a count over
    the whole file, decimal commas do not fool it.
    """
    names = set(wanted)
    for line in lines[:30]:
        for sep in (";", "\t", ","):
            if {normalize_token(f.strip().strip('"')) for f in line.split(sep) if f} & names:
                return sep
    first = next((ln for ln in lines if ln.strip()), "")
    return max((";", "\t", ","), key=first.count)


def _trim(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def _drop_trailing_separators(text: str, sep: str) -> str:
    """Remove the empty cells that end each line (INSEE pads rows to hundreds of columns).

    Done on the text, line by line, so that the CSV parser and the reader do not walk hundreds
    of empty cells per row (the line count, hence the line numbers, stay); skipped when a quoted
    cell may span lines (an odd number of quotes on a line), where a line end is no row end.
    """
    lines = text.split("\n")
    if '"' in text and any(line.count('"') % 2 for line in lines):
        return text
    pad = sep + " \t"
    return "\n".join(
        line[:-1].rstrip(pad) + "\r" if line.endswith("\r") else line.rstrip(pad) for line in lines
    )


def read_rows(path: Path, wanted: Iterable[str], *, sheet: str | int | None = None) -> Rows:
    r"""Read every non-blank row of a CSV/TSV/XLSX file as text cells.

    Parameters
    ----------
    path : Path
        The file.
    wanted : iterable of str
        Normalised column names one of which is in the header (to tell the separator).
    sheet : str or int, optional
        Worksheet of an XLSX file (default: the first).

    Raises
    ------
    DataValidationError
        A missing file, an unsupported format, an unreadable table: naming the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_bytes("\ufeffCODGEO;POP;;\r\n\r\n\"QP002013\";5\u202f766;;\r\n".encode())
    >>> rows = read_rows(p, ["codgeo"])
    >>> rows.cells, rows.lines
    ([['CODGEO', 'POP'], ['QP002013', '5\u202f766']], [1, 3])
    """
    if not path.exists():
        raise DataValidationError(
            [Problem("file does not exist; check the path", file=str(path), layer="indicators")]
        )
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataValidationError(
            [
                Problem(
                    f"cannot read {suffix or 'extension-less'} files; save the table as CSV "
                    "(UTF-8, ';' or ',' separated) or XLSX",
                    file=str(path),
                    layer="indicators",
                )
            ]
        )
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=str)
            raw = [["" if pd.isna(v) else str(v) for v in row] for row in frame.to_numpy()]
            numbered = list(zip(range(1, len(raw) + 1), raw, strict=True))
        else:
            text = _decode(path)
            sep = _separator(text.splitlines()[:30], wanted)
            text = _drop_trailing_separators(text, sep)
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
            numbered = [(reader.line_num, row) for row in reader]
    except DataValidationError:
        raise
    except Exception as exc:
        raise DataValidationError(
            [Problem(f"cannot read the table: {exc}", file=str(path), layer="indicators")]
        ) from exc
    cells, lines = [], []
    for line, row in numbered:
        kept = _trim(row)
        if kept:
            cells.append(kept)
            lines.append(line)
    return Rows(cells, lines)


def read_grid(
    path: Path, wanted: Iterable[str], *, sheet: str | int | None = None, head: int | None = None
) -> Rows:
    r"""Read a table like :func:`read_rows`, a CSV through pandas' C parser into a 2-D array.

    The fast path of large published files: the cells come as one object array (short rows
    padded with ""), the blank lines dropped, the line numbers kept. A spreadsheet, or a CSV
    whose quoted cells span lines, goes through :func:`read_rows`. With `head`, only the
    first `head` non-blank rows of a CSV are made text (``lines`` lists them all): the
    columns needed are then read by :meth:`Rows.grid`, the numbers by :func:`read_numbers`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_bytes("\ufeffCODGEO;POP;;\r\n\r\n\"QP002013\";5\u202f766;;\r\n".encode())
    >>> rows = read_grid(p, ["codgeo"])
    >>> rows.cells.tolist(), rows.lines
    ([['CODGEO', 'POP'], ['QP002013', '5\u202f766']], [1, 3])
    >>> rows = read_grid(p, ["codgeo"], head=1)
    >>> rows.cells.tolist(), rows.grid([0]).tolist()
    ([['CODGEO', 'POP']], [['CODGEO', ''], ['QP002013', '']])
    """
    if not path.exists() or path.suffix.lower() not in (".csv", ".txt", ".tsv"):
        return read_rows(path, wanted, sheet=sheet)
    text = _decode(path)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if '"' in text and any(line.count('"') % 2 for line in lines):
        return read_rows(path, wanted, sheet=sheet)
    sep = _separator(lines[:30], wanted)
    pad = sep + " \t\r"
    lines = [line.rstrip(pad) for line in lines]
    counts = [line.count(sep) + 1 for line in lines]
    width = max(counts, default=1)
    filled = np.flatnonzero([bool(line.strip(pad)) for line in lines])
    # lines that the C parser would split again (a lone CR): read whole, and checked
    partial = head is not None and len(filled) > head and "\r" not in "".join(lines)
    nrows = int(filled[head - 1]) + 1 if partial and head else len(lines)
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(lines[:nrows])),
            sep=sep,
            header=None,
            names=range(width),
            dtype=object,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except Exception:  # an odd file: the csv module says what is wrong, with line numbers
        return read_rows(path, wanted, sheet=sheet)
    if len(frame) != nrows:
        return read_rows(path, wanted, sheet=sheet)
    grid = frame.to_numpy(dtype=object)
    narrow = min(counts[:nrows], default=width)
    if narrow < width:  # the cells past a short row's end
        tail = grid[:, narrow:]
        tail[pd.isna(tail)] = ""
    return Rows(grid[filled[filled < nrows]], (filled + 1).tolist(), lines, sep)


def read_numbers(rows: Rows, start: int, columns: Iterable[int]) -> dict[int, Parse]:
    r"""Parse the `columns` that hold only numbers straight from the CSV text, from row `start`.

    The fast path of :func:`parse_values` for the value columns of large files: pandas' C
    parser reads the lines again (thousands separators U+202F and U+00A0 removed, decimal
    comma) into numeric columns, without a grid of text. Only the columns it reads whole as
    finite numbers (NaN only for empty cells) are returned, as
    ``{column: (values, flags, unreadable)}``; the others (secrecy codes, a ``%`` sign, a
    space as thousands separator, text) are left to :func:`parse_values`, and so is a table
    not read by :func:`read_grid` (a spreadsheet).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_bytes(
    ...     "CODGEO;A;TP60;LIB\r\nQP002013;1\u202f763;55,4;x\r\nQP002014;;s;y\r\n".encode())
    >>> got = read_numbers(read_grid(p, ["codgeo"]), 1, [1, 2, 3])
    >>> sorted(got), got[1][0].tolist(), got[1][1].tolist()
    ([1], [1763.0, nan], [None, 'empty'])
    """
    if rows.text is None or start >= len(rows.lines):
        return {}
    first = rows.lines[start] - 1  # the 0-based index of the first line read
    body = "\n".join(rows.text[first:])
    for sep in _THOUSAND_SEPARATORS[:2]:
        body = body.replace(sep, "")
    width = rows.cells.shape[1]
    wanted = sorted({j for j in columns if j < width})
    try:
        frame = pd.read_csv(
            io.StringIO(body),
            sep=rows.sep,
            header=None,
            names=range(width),
            usecols=wanted,
            decimal="," if rows.sep != "," else ".",
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            engine="c",
        )
    except Exception:  # what the C parser cannot read, parse_values reads
        return {}
    if len(frame) != len(rows.text) - first:
        return {}
    at = np.asarray(rows.lines[start:], dtype=np.intp) - 1 - first
    numbers = [j for j, kind in zip(wanted, frame.dtypes, strict=True) if kind.kind in "fiu"]
    block = frame[numbers].to_numpy(dtype=float)[at] if numbers else np.empty((len(at), 0))
    missing = np.isnan(block)  # an empty cell or a short row ("   ", "nan" make text columns)
    finite = ~np.isinf(block).any(axis=0)
    out: dict[int, Parse] = {}
    for c in np.flatnonzero(finite):
        flags = np.full(len(at), None, dtype=object)
        flags[missing[:, c]] = EMPTY_FLAG
        out[numbers[c]] = (block[:, c], flags, np.zeros(len(at), dtype=bool))
    return out


def parse_value(text: Any) -> tuple[float | None, str | None]:
    r"""Return (value, flag) of a published cell; (None, None) for text that is no number.

    A number may carry a decimal comma, thousands separators (U+202F, U+00A0, space) or a
    ``%`` sign; an empty cell or a secrecy code gives NaN and the flag.

    Examples
    --------
    >>> parse_value("5\u202f766"), parse_value("55,4"), parse_value("s"), parse_value("")
    ((5766.0, None), (55.4, None), (nan, 's'), (nan, 'empty'))
    >>> parse_value("Soissons")
    (None, None)
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return float("nan"), EMPTY_FLAG
    s = str(text).strip()
    low = s.lower()
    if low == "":
        return float("nan"), EMPTY_FLAG
    if low in SECRECY_CODES:
        return float("nan"), low
    clean = s.translate(_THOUSANDS).replace(",", ".").rstrip("%")
    try:
        v = float(clean)
    except ValueError:
        return None, None
    if not math.isfinite(v):
        return None, None
    return v, None


def parse_values(texts: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Parse many published cells at once: what :func:`parse_value` does to each.

    Returns (values, flags, unreadable): floats (NaN when empty or secret), the flag of each
    cell (None, ``"empty"`` or the secrecy code) and a mask of the cells that are no number.
    One vectorised pass: the few cells it cannot read are given to :func:`parse_value`.

    Examples
    --------
    >>> v, f, bad = parse_values(["5\u202f766", "55,4", "s", "", "Soissons"])
    >>> v.tolist(), f.tolist()
    ([5766.0, 55.4, nan, nan, nan], [None, None, 's', 'empty', None])
    >>> bad.tolist()
    [False, False, False, False, True]
    """
    raw = pa.array(np.asarray(texts, dtype=object), type=pa.string(), from_pandas=True)
    text = pc.utf8_trim_whitespace(pc.fill_null(raw, ""))
    low = pc.utf8_lower(text)
    empty_a = pc.equal(text, "")
    secret_a = pc.and_(
        pc.is_in(low, value_set=pa.array([c for c in SECRECY_CODES if c], type=pa.string())),
        pc.invert(empty_a),
    )
    clean = text
    for sep in _THOUSAND_SEPARATORS:
        clean = pc.replace_substring(clean, sep, "")
    clean = pc.utf8_rtrim(pc.replace_substring(clean, ",", "."), characters="%")
    clean = pc.if_else(pc.or_(empty_a, secret_a), pa.scalar(None, pa.string()), clean)
    try:  # Arrow's parser: ten times faster than Python's float, refuses what it cannot read
        values = np.array(pc.cast(clean, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    except pa.ArrowInvalid:
        values = np.array(pd.to_numeric(clean.to_pandas(), errors="coerce"), dtype=float)
    empty = empty_a.to_numpy(zero_copy_only=False)
    secret = secret_a.to_numpy(zero_copy_only=False)
    flags = np.full(len(text), None, dtype=object)
    flags[empty] = EMPTY_FLAG
    at = np.flatnonzero(secret)
    flags[at] = pc.take(low, pa.array(at)).to_pylist()
    unreadable = ~np.isfinite(values) & ~empty & ~secret
    # what the vectorised parse missed (1_000...): only text with a digit may be a number
    maybe = np.flatnonzero(
        unreadable & pc.match_substring_regex(text, r"\d").to_numpy(zero_copy_only=False)
    )
    for i, cell in zip(maybe, pc.take(text, pa.array(maybe)).to_pylist(), strict=True):
        v, _ = parse_value(cell)
        if v is not None:
            values[i] = v
            unreadable[i] = False
    return values, flags, unreadable


def level_of(code: str, declared: str | None = None) -> str | None:
    """Return the level of a code (``qpv``, ``all_qpv``, ``commune``, ``epci``, ``france``...).

    `declared` (a ``level``/``niveau`` cell) wins; else the code's shape tells: ``QP…``/``QN…``
    are QPV (both generations, every département including 2A/2B and overseas), ``Ensemble``
    is the all-QPV reference row, five characters a commune, nine digits an EPCI. None when it
    cannot be told.

    Examples
    --------
    >>> [level_of(c) for c in ("QP02A001", "QN00272M", "Ensemble", "02722", "200071876", "FR")]
    ['qpv', 'qpv', 'all_qpv', 'commune', 'epci', 'france']
    """
    if declared is not None:
        return _LEVEL_ALIASES.get(normalize_token(declared))
    if _QPV_CODE.match(code):
        return "qpv"
    low = code.lower()
    if low.startswith("ensemble"):
        return "all_qpv"
    if low in _FRANCE_CODES:
        return "france"
    if _COMMUNE_CODE.match(code):
        return "commune"
    if _EPCI_CODE.match(code):
        return "epci"
    return None
