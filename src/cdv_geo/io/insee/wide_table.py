"""One published indicator table (wide: a row per code, a column per indicator) to long records.

The column plan says what each header is: a key (code, name, year, level), a quality note, a
canonical indicator (by the file's INSEE family, the column grammar, or the user's
``columns={...}``), a numeric column kept under its lower-cased name, or text that is skipped.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.errors import CdvGeoWarning, DataValidationError, Problem
from cdv_geo.io.insee.cells import EMPTY_FLAG, LEVELS, level_of, parse_values
from cdv_geo.io.insee.registry import (
    FAMILY_COLUMNS,
    INDICATORS,
    NOTE_SCOPES,
    SECRECY_CODES,
    ColumnRule,
    parse_column,
)
from cdv_geo.schema import normalize_token

__all__ = [
    "CODE_COLUMNS",
    "KEYS",
    "OUT_OF_RANGE",
    "ColumnPlan",
    "Parsed",
    "Records",
    "codes_and_levels",
    "numeric_columns",
    "plan_columns",
    "text_columns",
    "value_note",
    "value_problem",
    "wide_records",
]

#: Normalised names of the column of codes.
CODE_COLUMNS = (
    "code",
    "codgeo",
    "code_qp",
    "code_qpv",
    "cod_qp",
    "qp",
    "code_geo",
    "depcom",
    "code_insee",
    "code_iris",
    "iris",
    "code_commune",
    "geo",
)
#: Normalised names of the other key columns.
KEYS = {
    "code": CODE_COLUMNS,
    "name": ("name", "libgeo", "lib_qp", "nom_qp", "nom", "libelle", "lib_geo"),
    "year": ("year", "annee", "millesime", "vintage", "an"),
    "level": ("level", "niveau", "niveau_geo", "type_geo", "echelon"),
}
_NOTE = re.compile(r"^(NOTE_[A-Z_]+|DISP_NOTE_A)\d*$")
_RAW_SUFFIX = re.compile(r"_a\d{2}$")
#: Start of the flag of a published value kept although it lies outside the indicator's usual
#: range (a negative property-income share published for a quartier of La Réunion).
OUT_OF_RANGE = "outside the usual range"


@dataclass
class ColumnPlan:
    """What each column of a wide table is (positions in the header)."""

    keys: dict[str, int] = field(default_factory=dict)
    rules: list[tuple[int, ColumnRule]] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)
    other: list[int] = field(default_factory=list)


@dataclass
class Records:
    """Long records of one file, as parallel lists or arrays (``row``: the file's order).

    :func:`wide_records` gives numpy arrays (object arrays for the texts), the long-table
    reader lists; both index alike.
    """

    code: Any = field(default_factory=list)
    level: Any = field(default_factory=list)
    indicator: Any = field(default_factory=list)
    year: Any = field(default_factory=list)
    value: Any = field(default_factory=list)
    flag: Any = field(default_factory=list)
    source_column: Any = field(default_factory=list)
    row: Any = field(default_factory=list)
    #: per-row source and file, when a long table carries them (a table written by cdv_geo)
    source: Any = field(default_factory=list)
    file: Any = field(default_factory=list)
    #: every indicator the records may name (None: look at ``indicator``)
    indicators: set[str] | None = None


def plan_columns(
    header: list[str], family: str | None, columns: Mapping[str, str], path: Path
) -> ColumnPlan:
    """Return the plan of a wide header (raise when a ``columns`` entry is not understood)."""
    plan = ColumnPlan()
    fam = FAMILY_COLUMNS.get(family or "", {})
    user = {normalize_token(k): v for k, v in columns.items()}
    for j, h in enumerate(header):
        tok, up = normalize_token(h), h.strip().upper()
        target = user.get(tok)
        if target in KEYS:
            plan.keys[target] = j
        elif target is not None:
            rule = parse_column(target) or (
                ColumnRule(target, None, 1.0, "user", False) if target in INDICATORS else None
            )
            if rule is None:
                raise DataValidationError(
                    [
                        Problem(
                            f"columns={{{h!r}: {target!r}}}: {target!r} is neither a key "
                            "(code, name, year, level) nor a canonical indicator (see "
                            "cdv_geo.INDICATORS; add _pct for a percentage)",
                            file=str(path),
                            layer="indicators",
                            field=h,
                        )
                    ]
                )
            plan.rules.append((j, rule))
        elif key := next((k for k, names in KEYS.items() if tok in names), None):
            plan.keys.setdefault(key, j)
        elif _NOTE.match(up):
            plan.notes[j] = up
        elif up in fam:
            ind, scale = fam[up]
            plan.rules.append((j, ColumnRule(ind, None, scale, family or "", scale != 1.0)))
        elif rule := parse_column(h):
            plan.rules.append((j, rule))
        else:
            plan.other.append(j)
    return plan


def _note_scopes(plan: ColumnPlan, header: list[str]) -> dict[int, list[int]]:
    """Return, for each rule column, the note columns that qualify it."""
    out: dict[int, list[int]] = {}
    for j, _ in plan.rules:
        up = header[j].strip().upper()
        out[j] = [
            k
            for k, note in plan.notes.items()
            if re.fullmatch(NOTE_SCOPES.get(re.sub(r"\d+$", "", note), "(?!)"), up)
        ]
    return out


def _column(cells: Any, j: int) -> list[str]:
    """Return the text of column `j` of every row ("" past a row's end), as a list."""
    if isinstance(cells, np.ndarray):  # a grid from read_grid
        return cells[:, j].tolist() if j < cells.shape[1] else [""] * len(cells)
    return [row[j] if j < len(row) else "" for row in cells]


def codes_and_levels(
    cells: list[list[str]],
    lines: list[int],
    plan: ColumnPlan,
    path: Path,
    problems: list[Problem],
) -> tuple[list[str], list[str | None]]:
    """Return the code and level of every row (recording empty codes and unknown levels)."""
    cj, lj = plan.keys["code"], plan.keys.get("level")
    codes: list[str] = []
    levels: list[str | None] = []
    padded: list[str] = []
    code_cells = _column(cells, cj)
    level_cells = _column(cells, lj) if lj is not None else [""] * len(code_cells)
    for i, (cell, level_cell) in enumerate(zip(code_cells, level_cells, strict=True)):
        code = cell.strip().strip('"')
        if code.endswith(".0") and code[:-2].isdigit():  # numbers read from Excel
            code = code[:-2]
        declared = level_cell.strip() or None
        if code.isdigit() and len(code) == 4 and level_of("0" + code, declared) == "commune":
            padded.append(code)
            code = "0" + code  # a commune code whose leading zero a spreadsheet dropped
        level = level_of(code, declared)
        if not code:
            problems.append(
                Problem(
                    "the code is empty",
                    file=str(path),
                    layer="indicators",
                    feature=f"line {lines[i]}",
                    field="code",
                )
            )
        elif level is None:
            what = (
                f"level {declared!r} is unknown; use one of {', '.join(LEVELS)}"
                if declared
                else "cannot tell whether this code is a QPV, IRIS, commune or EPCI; add a "
                f"`level` (niveau) column with one of {', '.join(LEVELS)}"
            )
            problems.append(
                Problem(
                    what, file=str(path), layer="indicators", feature=f"{code} (line {lines[i]})"
                )
            )
        codes.append(code)
        levels.append(level)
    if padded:
        warnings.warn(
            f"{path}: commune codes {', '.join(sorted(set(padded)))} had 4 digits (a spreadsheet "
            "dropped the leading zero); read as 0xxxx. Store codes as text to avoid this.",
            CdvGeoWarning,
            stacklevel=4,
        )
    return codes, levels


def value_problem(v: float, rule: ColumnRule, cell: Any) -> str | None:
    """Return what is wrong with a published value (before scaling), or None."""
    info = INDICATORS.get(rule.indicator)
    unit = info.unit if info else None
    if rule.percent and v > 100:
        return f"{cell!r} is a percentage above 100 %; check the value"
    if unit == "fraction" and not rule.percent and v > 1:
        return (
            f"{cell!r} is above 1 but {rule.indicator} is a fraction in [0, 1]; if the column "
            f"holds percentages, rename it {rule.indicator}_pct (or divide by 100)"
        )
    if rule.indicator == "gini" and v > 1:
        return f"{cell!r}: a Gini index lies in [0, 1]"
    return None


def value_note(v: float, rule: ColumnRule) -> str | None:
    """Return the flag of a published value below its indicator's usual minimum, or None.

    Such a value is kept as published (INSEE publishes a few, such as a negative
    property-income share when losses exceed incomes) and reported, never refused.

    Examples
    --------
    >>> from cdv_geo.io.insee.registry import ColumnRule
    >>> value_note(-0.1, ColumnRule("property_income_share", None, 0.01, "revn", True))
    'outside the usual range (property_income_share is usually at least 0)'
    >>> value_note(3.2, ColumnRule("property_income_share", None, 0.01, "revn", True)) is None
    True
    """
    info = INDICATORS.get(rule.indicator)
    if info is not None and info.minimum is not None and v < info.minimum:
        return f"{OUT_OF_RANGE} ({rule.indicator} is usually at least {info.minimum:g})"
    return None


def _grid(cells: list[list[str]], columns: list[int]) -> np.ndarray:
    """Return the text of `columns` of every row as a 2-D object array ("" past a row's end)."""
    width = max(columns, default=-1) + 1
    if isinstance(cells, np.ndarray):  # a grid from read_grid
        if cells.shape[1] < width:
            cells = np.hstack([cells, np.full((len(cells), width - cells.shape[1]), "", object)])
        return cells[:, columns]
    pad = [""] * width
    rows = [r[:width] if len(r) >= width else r + pad[: width - len(r)] for r in cells]
    grid = np.array(rows, dtype=object) if rows else np.empty((0, width), dtype=object)
    return grid.reshape(len(rows), width)[:, columns]


#: The parse of a column (values, flags, unreadable), by column position.
Parsed = dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]


def _parse_columns(cells: list[list[str]], columns: list[int], parsed: Parsed) -> None:
    """Parse the `columns` not in `parsed` yet (in one vectorised pass), into `parsed`."""
    todo = [j for j in columns if j not in parsed]
    if not todo:
        return
    block = _grid(cells, todo)
    values, flags, bad = (a.reshape(block.shape) for a in parse_values(block.ravel()))
    for c, j in enumerate(todo):
        parsed[j] = (values[:, c], flags[:, c], bad[:, c])


def numeric_columns(
    cells: list[list[str]], plan: ColumnPlan, parsed: Parsed | None = None
) -> list[int]:
    """Return the unrecognised columns whose every filled cell is a number or secrecy code.

    `parsed` keeps the parse of the columns for :func:`wide_records` (each cell parsed once).
    """
    if not plan.other or not len(cells):
        return []
    parsed = {} if parsed is None else parsed
    _parse_columns(cells, plan.other, parsed)
    return [j for j in plan.other if (parsed[j][1] != EMPTY_FLAG).any() and not parsed[j][2].any()]


def _flag_threshold(rule: ColumnRule) -> float:
    """Return the published value above which :func:`value_problem` may object."""
    info = INDICATORS.get(rule.indicator)
    limits = [np.inf]
    if rule.percent:
        limits.append(100.0)
    if info is not None and info.unit == "fraction" and not rule.percent:
        limits.append(1.0)
    if rule.indicator == "gini":
        limits.append(1.0)
    return min(limits)


def text_columns(plan: ColumnPlan, parsed: Parsed, width: int) -> list[int]:
    """Return the columns of `width` whose text is needed once the numbers are `parsed`.

    Every column but the numbers already read, and those of them holding a value that a
    check quotes (a percentage above 100...): their cells' text is made, the others' not.
    """
    rules = dict(plan.rules)
    return [
        j
        for j in range(width)
        if j not in parsed or (j in rules and (parsed[j][0] > _flag_threshold(rules[j])).any())
    ]


def _minimum(rule: ColumnRule | None) -> float:
    """Return the published value below which :func:`value_note` flags a value (-inf: none)."""
    info = INDICATORS.get(rule.indicator) if rule is not None else None
    return -np.inf if info is None or info.minimum is None else float(info.minimum)


def _note_texts(column: np.ndarray, note: str) -> np.ndarray:
    """Return ``NOTE_X=<cell>`` for each row whose note cell is set (not empty, not 0), else ""."""
    text = np.array([t.strip() for t in column], dtype=object)
    return np.where(np.isin(text, ["", "0"]), "", note + "=" + text)


def _append(flags: np.ndarray, part: np.ndarray) -> None:
    """Append the non-empty texts of `part` to `flags` ("a; b"), in place."""
    has = part != ""
    none = pd.isna(flags)
    flags[has & none] = part[has & none]
    both = has & ~none
    flags[both] = flags[both] + "; " + part[both]


def wide_records(
    cells: list[list[str]],
    lines: list[int],
    header: list[str],
    plan: ColumnPlan,
    kept: list[int],
    years: tuple[list[int | None], list[int | None] | None],
    path: Path,
    problems: list[Problem],
    parsed: Parsed | None = None,
) -> Records:
    """Return the records of the recognised columns and the `kept` numeric ones, row by row.

    `years` is (the vintage of each rule then kept column, None where it has none; the vintage
    of each row when the file has a year column, else None): a column's vintage wins.
    Vectorised over the cells (one parse of every value cell); only the cells that are
    refused or kept with a note go through Python one by one.
    """
    codes, levels = codes_and_levels(cells, lines, plan, path, problems)
    scopes = _note_scopes(plan, header)
    cols = [*plan.rules, *((j, None) for j in kept)]
    n, k = len(cells), len(cols)
    grid = _grid(cells, [j for j, _ in cols] + list(plan.notes))
    block = grid[:, :k]
    parsed = {} if parsed is None else parsed
    _parse_columns(cells, [j for j, _ in cols], parsed)
    stacked = [
        np.column_stack([parsed[j][m] for j, _ in cols]) if k else np.empty((n, 0))
        for m in range(3)
    ]
    values: np.ndarray = stacked[0].astype(float)
    flags: np.ndarray = stacked[1].astype(object)
    bad: np.ndarray = stacked[2].astype(bool)
    keep = ~bad
    col_years, row_years = years
    year = np.full((n, k), np.nan)  # vintages as floats (NaN: none), one array
    notes = {c: _note_texts(grid[:, k + m], note) for m, (c, note) in enumerate(plan.notes.items())}
    notes = {c: part for c, part in notes.items() if (part != "").any()}  # set on some row
    rules = [rule for _, rule in cols]
    published = pd.isna(flags) & keep  # (checks and notes look at published values only)
    ceiling = np.array([np.inf if r is None else _flag_threshold(r) for r in rules])
    # cells refused, column by column as the file reads: unreadable text, then values
    found = [(pos, 0, i) for i, pos in zip(*np.nonzero(bad), strict=True)]
    found += [
        (pos, 1, i) for i, pos in zip(*np.nonzero(published & (values > ceiling)), strict=True)
    ]
    for pos, kind, i in sorted(found):
        j, rule = cols[pos]
        where = {"file": str(path), "layer": "indicators", "field": header[j]}
        if kind == 0:
            problems.append(
                Problem(
                    f"{block[i, pos]!r} is neither a number nor a secrecy code "
                    f"({', '.join(k for k in SECRECY_CODES if k)})",
                    feature=f"{codes[i]} (line {lines[i]})",
                    **where,
                )
            )
        elif rule is not None and (
            msg := value_problem(float(values[i, pos]), rule, block[i, pos])
        ):
            problems.append(Problem(msg, feature=f"{codes[i]} (line {lines[i]})", **where))
            keep[i, pos] = False
    floor = np.array([_minimum(r) for r in rules])
    for i, pos in zip(*np.nonzero(published & (values < floor)), strict=True):
        odd = value_note(float(values[i, pos]), rules[pos])  # kept as published, with a note
        flags[i, pos] = odd if flags[i, pos] is None else f"{flags[i, pos]}; {odd}"
    values *= np.array([1.0 if r is None else r.scale for r in rules])
    for pos, (j, _) in enumerate(cols):
        for c in scopes.get(j, ()):
            if c in notes:
                _append(flags[:, pos], notes[c])
    by_row = np.array([np.nan if y is None else y for y in row_years or []], dtype=float)
    for pos, yr in enumerate(col_years):
        year[:, pos] = (
            (np.nan if yr is None else yr) if yr is not None or row_years is None else by_row
        )
    names = [r.indicator if r else _RAW_SUFFIX.sub("", normalize_token(header[j])) for j, r in cols]
    mask = keep.ravel()
    row = np.repeat(np.arange(n), k)[mask]
    return Records(
        code=np.asarray(codes, dtype=object)[row],
        level=np.asarray(levels, dtype=object)[row],
        indicator=np.tile(np.asarray(names, dtype=object), n)[mask],
        year=year.ravel()[mask],
        value=values.ravel()[mask],
        flag=flags.ravel()[mask],
        source_column=np.tile(np.asarray([header[j].strip() for j, _ in cols], dtype=object), n)[
            mask
        ],
        row=row,
        indicators=set(names),
    )
