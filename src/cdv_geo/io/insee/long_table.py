"""A long indicator table (``code``, ``indicator``, ``value``, ``year``...) to records."""

from __future__ import annotations

import re
from pathlib import Path

from cdv_geo.core.errors import Problem
from cdv_geo.io.insee.cells import EMPTY_FLAG, parse_value
from cdv_geo.io.insee.registry import SECRECY_CODES, ColumnRule, parse_column
from cdv_geo.io.insee.wide_table import (
    KEYS,
    ColumnPlan,
    Records,
    codes_and_levels,
    value_note,
    value_problem,
)
from cdv_geo.schema import normalize_token

__all__ = ["long_records"]


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    toks = [normalize_token(h) for h in header]
    return next((toks.index(n) for n in names if n in toks), None)


def long_records(
    cells: list[list[str]],
    lines: list[int],
    header: list[str],
    path: Path,
    year: int | None,
    problems: list[Problem],
) -> tuple[Records, list[str | None]]:
    """Return the records of a long table and the name of each row.

    The indicator names follow :func:`cdv_geo.io.insee.registry.parse_column` (an unknown name
    is kept lower-cased, value as published); the vintage comes from the name, else the
    ``year`` column, else `year`. A ``flag`` column may give the secrecy code of an empty value.
    """
    plan = ColumnPlan()
    for key, aliases in KEYS.items():
        if (j := _find(header, aliases)) is not None:
            plan.keys[key] = j
    ij = _find(header, ("indicator", "indicateur", "variable"))
    vj = _find(header, ("value", "valeur"))
    fj = _find(header, ("flag", "secret"))
    # a long table written from read_indicators keeps its series, files and published columns
    sj, filej, cj = (_find(header, (n,)) for n in ("source", "file", "source_column"))
    yj, nj = plan.keys.get("year"), plan.keys.get("name")
    assert ij is not None and vj is not None
    codes, levels = codes_and_levels(cells, lines, plan, path, problems)
    rec = Records()
    names: list[str | None] = []
    for i, row in enumerate(cells):

        def get(j: int | None, row: list[str] = row) -> str:
            return row[j].strip() if j is not None and j < len(row) else ""

        names.append(get(nj) or None)
        raw = get(ij)
        rule = parse_column(raw) or ColumnRule(normalize_token(raw), None, 1.0, "other", False)
        where = f"{codes[i]} (line {lines[i]})"
        ytext = get(yj)
        vintage = rule.year or (int(float(ytext)) if re.fullmatch(r"\d{4}(\.0)?", ytext) else None)
        vintage = vintage or year
        if vintage is None:
            problems.append(
                Problem(
                    "no vintage: fill the year (annee) column or pass year=...",
                    file=str(path),
                    layer="indicators",
                    feature=where,
                    field=header[yj] if yj is not None else header[ij],
                )
            )
        cell = get(vj)
        v, flag = parse_value(cell)
        if flag == EMPTY_FLAG and get(fj).lower() in SECRECY_CODES and get(fj):
            flag = get(fj).lower()
        elif get(fj):
            flag = get(fj)  # a flag written with the value (a quality note, "derived")
        msg = (
            f"{cell!r} is neither a number nor a secrecy code "
            f"({', '.join(k for k in SECRECY_CODES if k)})"
            if v is None
            else (value_problem(v, rule, cell) if flag is None else None)
        )
        if msg:
            problems.append(
                Problem(msg, file=str(path), layer="indicators", feature=where, field=header[vj])
            )
            continue
        assert v is not None
        if flag is None:  # kept as published, with a note (the reading report lists it)
            flag = value_note(v, rule)
        rec.code.append(codes[i])
        rec.level.append(levels[i])
        rec.indicator.append(rule.indicator)
        rec.year.append(vintage)
        rec.value.append(v * rule.scale)
        rec.flag.append(flag)
        rec.source_column.append(get(cj) or header[vj])
        rec.row.append(i)
        rec.source.append(get(sj) or None)
        rec.file.append(get(filej) or None)
    return rec, names
