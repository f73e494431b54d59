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

from cdv_geo.core.errors import CdvGeoWarning, DataValidationError, Problem
from cdv_geo.io.insee.cells import LEVELS, level_of, parse_value
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
    "Records",
    "codes_and_levels",
    "numeric_columns",
    "plan_columns",
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
    """Long records of one file, as parallel lists (``row`` orders them as in the file)."""

    code: list[str] = field(default_factory=list)
    level: list[str | None] = field(default_factory=list)
    indicator: list[str] = field(default_factory=list)
    year: list[int | None] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    flag: list[str | None] = field(default_factory=list)
    source_column: list[str] = field(default_factory=list)
    row: list[int] = field(default_factory=list)
    #: per-row source and file, when a long table carries them (a table written by cdv_geo)
    source: list[str | None] = field(default_factory=list)
    file: list[str | None] = field(default_factory=list)


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
    for i, row in enumerate(cells):
        code = row[cj].strip().strip('"') if cj < len(row) else ""
        if code.endswith(".0") and code[:-2].isdigit():  # numbers read from Excel
            code = code[:-2]
        declared = row[lj].strip() or None if lj is not None and lj < len(row) else None
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


def numeric_columns(cells: list[list[str]], plan: ColumnPlan) -> list[int]:
    """Return the unrecognised columns whose every filled cell is a number or secrecy code."""
    out = []
    for j in plan.other:
        seen, numeric = False, True
        for row in cells:
            if j < len(row) and row[j].strip():
                v, _ = parse_value(row[j])
                if v is None:
                    numeric = False
                    break
                seen = True
        if numeric and seen:
            out.append(j)
    return out


def wide_records(
    cells: list[list[str]],
    lines: list[int],
    header: list[str],
    plan: ColumnPlan,
    kept: list[int],
    years: tuple[list[int | None], list[int | None] | None],
    path: Path,
    problems: list[Problem],
) -> Records:
    """Return the records of the recognised columns and the `kept` numeric ones, row by row.

    `years` is (the vintage of each rule then kept column, None where it has none; the vintage
    of each row when the file has a year column, else None): a column's vintage wins.
    """
    codes, levels = codes_and_levels(cells, lines, plan, path, problems)
    scopes = _note_scopes(plan, header)
    cols = [*plan.rules, *((j, None) for j in kept)]
    rec = Records()
    col_years, row_years = years
    for pos, (j, rule) in enumerate(cols):
        name = rule.indicator if rule else _RAW_SUFFIX.sub("", normalize_token(header[j]))
        for i, row in enumerate(cells):
            cell = row[j] if j < len(row) else ""
            v, flag = parse_value(cell)
            if v is None:
                problems.append(
                    Problem(
                        f"{cell!r} is neither a number nor a secrecy code "
                        f"({', '.join(k for k in SECRECY_CODES if k)})",
                        file=str(path),
                        layer="indicators",
                        feature=f"{codes[i]} (line {lines[i]})",
                        field=header[j],
                    )
                )
                continue
            if rule is not None and flag is None and (msg := value_problem(v, rule, cell)):
                problems.append(
                    Problem(
                        msg,
                        file=str(path),
                        layer="indicators",
                        feature=f"{codes[i]} (line {lines[i]})",
                        field=header[j],
                    )
                )
                continue
            notes = [
                f"{plan.notes[k]}={row[k].strip()}"
                for k in scopes.get(j, ())
                if k < len(row) and row[k].strip() not in ("", "0")
            ]
            odd = value_note(v, rule) if rule is not None and flag is None else None
            flags = ([flag] if flag else []) + ([odd] if odd else []) + notes
            rec.code.append(codes[i])
            rec.level.append(levels[i])
            rec.indicator.append(name)
            year = col_years[pos]
            rec.year.append(year if year is not None or row_years is None else row_years[i])
            rec.value.append(v * rule.scale if rule else v)
            rec.flag.append("; ".join(flags) or None)
            rec.source_column.append(header[j].strip())
            rec.row.append(i)
    order = np.argsort(np.asarray(rec.row, dtype=np.int64), kind="stable")
    for attr in ("code", "level", "indicator", "year", "value", "flag", "source_column", "row"):
        values = getattr(rec, attr)
        setattr(rec, attr, [values[k] for k in order])
    return rec
