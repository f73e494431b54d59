"""Validate a sheet of the contrat's actions into a :class:`~cdv_geo.schema.actions.Programme`.

Split from :mod:`cdv_geo.schema.actions` (the fields, aliases and enums): this module holds
:func:`validate_actions` and the steps it takes -- claim the columns, group the rows of one action,
read each action and its funding lines, build the two frames -- so that every problem of a sheet
is collected and raised at once, with the row numbers the spreadsheet shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.errors import Problem
from cdv_geo.core.layers import quartier_codes
from cdv_geo.schema.actions import (
    ACTION_FIELDS,
    ACTION_STATUSES,
    ALL_QUARTIERS,
    PILLAR_ALIASES,
    PILLAR_LABELS,
    PILLARS,
    ROW,
    STATUS_ALIASES,
    Programme,
    column_field,
    enum_value,
    funder_of,
    parse_amount,
    parse_month,
    quartier_lookup,
    raise_problems,
)
from cdv_geo.schema.enums import normalize_token
from cdv_geo.schema.values import is_missing, parse_number

__all__ = ["validate_actions"]


def _claim_columns(
    cells: pd.DataFrame,
    fields: Mapping[str, tuple[str, ...]],
    funders: Mapping[str, str] | None,
    problems: list[Problem],
    where: dict[str, Any],
) -> tuple[dict[str, Any], dict[Any, str]]:
    """Return ``{field: column}`` and ``{column: funder}`` (a wide sheet's funder columns)."""
    claimed: dict[str, Any] = {}
    wide: dict[Any, str] = {}
    for col in cells.columns:
        if col == ROW:
            continue
        if funders and col in funders:
            wide[col] = funders[col]
            continue
        name = column_field(col, fields)
        if name is None:
            funder = funder_of(col) if fields is ACTION_FIELDS else None
            if funder:
                wide[col] = funder
            continue
        if name in claimed:
            problems.append(
                Problem(
                    f"columns {claimed[name]!r} and {col!r} both mean {name!r}; keep one",
                    field=str(col),
                    **where,
                )
            )
            continue
        claimed[name] = col
    return claimed, wide


def _cell(row: pd.Series, cols: Mapping[str, Any], name: str) -> Any:
    if name not in cols:
        return None
    v = row[cols[name]]
    return None if is_missing(v) else v


def _parse_quartiers(
    value: Any, lookup: Mapping[str, str], all_codes: Sequence[str]
) -> tuple[tuple[str, ...], list[str]]:
    """Return the codes a quartier cell names and the names it does not know."""
    if value is None:
        return (), []
    codes: list[str] = []
    unknown: list[str] = []
    for part in re.split(r"[;,/+\n]| et ", str(value)):
        tok = normalize_token(part)
        if not tok:
            continue
        if tok in ALL_QUARTIERS and (all_codes or not lookup):
            found = list(all_codes) or ["all"]
        elif lookup:
            found = [lookup[tok]] if tok in lookup else []
            if not found:
                unknown.append(part.strip())
        else:  # no quartiers to check against: keep what the planner wrote
            found = [part.strip()]
        codes.extend(c for c in found if c not in codes)
    return tuple(codes), unknown


def _parse_beneficiaries(
    value: Any, lookup: Mapping[str, str]
) -> tuple[int | None, dict[str, int] | None]:
    """Return a count, or a count by quartier for ``"Presles : 40 ; Chevreux : 25"``."""
    if value is None:
        return None, None
    if isinstance(value, str) and ":" in value:
        by: dict[str, int] = {}
        for part in re.split(r"[;\n]", value):
            if not part.strip():
                continue
            name, _, count = part.rpartition(":")
            code = lookup.get(normalize_token(name), name.strip()) if lookup else name.strip()
            if lookup and normalize_token(name) not in lookup:
                raise ValueError(f"unknown quartier {name.strip()!r} in {value!r}")
            by[code] = by.get(code, 0) + _count(count)
        return sum(by.values()), by
    return _count(value), None


def _count(value: Any) -> int:
    n = parse_number(value)
    if n < 0 or n != int(n):
        raise ValueError(f"{value!r} is not a count (a whole number >= 0)")
    return int(n)


def _action_key(row: pd.Series, cols: Mapping[str, Any]) -> Any:
    if _cell(row, cols, "id") is not None:
        return ("id", str(_cell(row, cols, "id")).strip())
    return tuple(
        normalize_token(_cell(row, cols, f) or "")
        for f in ("title", "quartiers", "operator", "start")
    )


def _is_total_row(row: pd.Series, cols: Mapping[str, Any]) -> bool:
    """Whether a row is the sheet's total ("Total", "Sous-total 2024"), not an action."""
    first = _cell(row, cols, "title") or _cell(row, cols, "id")
    tok = normalize_token(first or "")
    return _cell(row, cols, "pillar") is None and (
        tok.startswith("total") or tok.startswith("sous_total")
    )


def _group_rows(
    cells: pd.DataFrame,
    cols: Mapping[str, Any],
    wide: Mapping[Any, str],
    problems: list[Problem],
    where: dict[str, Any],
) -> dict[Any, list[pd.Series]]:
    """Rows of each action: a row without a title continues the action above (its funding)."""
    groups: dict[Any, list[pd.Series]] = {}
    last: Any = None
    for _, row in cells.iterrows():
        values = [row[c] for c in cells.columns if c != ROW]
        if all(is_missing(v) for v in values) or _is_total_row(row, cols):
            continue
        if _cell(row, cols, "title") is None and _cell(row, cols, "id") is None:
            money = _cell(row, cols, "amount") is not None or any(
                not is_missing(row[c]) for c in wide
            )
            if money and last is not None:
                groups[last].append(row)
                continue
            problems.append(
                Problem(
                    "the action has no title; fill it in",
                    feature=f"row {row[ROW]}",
                    field="title",
                    **where,
                )
            )
            continue
        last = _action_key(row, cols)
        groups.setdefault(last, []).append(row)
    return groups


def _parse(
    value: Any, parse: Any, field: str, feature: str, problems: list[Problem], where: dict[str, Any]
) -> Any:
    """``parse(value)``, or None and a problem naming the row and field."""
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        problems.append(Problem(str(exc), feature=feature, field=field, **where))
        return None


def _first(rows: list[pd.Series], cols: Mapping[str, Any], name: str) -> Any:
    """Return the first value of `name` among an action's rows (merged cells repeat it, or not)."""
    for row in rows:
        v = _cell(row, cols, name)
        if v is not None:
            return v
    return None


def _one_action(
    rows: list[pd.Series], cols: Mapping[str, Any], ctx: dict[str, Any], problems: list[Problem]
) -> dict[str, Any]:
    """Return the canonical fields of one action, every problem of its cells collected."""
    where, feature = ctx["where"], f"row {rows[0][ROW]}"
    title = _first(rows, cols, "title")
    out: dict[str, Any] = {"title": None if title is None else str(title).strip()}
    out["id"] = str(_first(rows, cols, "id") or "").strip() or None
    pillar = _first(rows, cols, "pillar")
    if pillar is None:
        problems.append(
            Problem(
                "the pillar is missing; give one of " + ctx["pillar_names"],
                feature=feature,
                field="pillar",
                **where,
            )
        )
    else:
        out["pillar"] = enum_value(pillar, PILLARS, PILLAR_ALIASES, ctx["pillars"])
        if out["pillar"] is None:
            problems.append(
                Problem(
                    f"unknown pillar {str(pillar)!r}; expected one of " + ctx["pillar_names"],
                    feature=feature,
                    field="pillar",
                    **where,
                )
            )
    for name in ("theme", "operator"):
        v = _first(rows, cols, name)
        out[name] = None if v is None else str(v).strip()
    status = _first(rows, cols, "status")
    out["status"] = None if status is None else enum_value(status, ACTION_STATUSES, STATUS_ALIASES)
    if status is not None and out["status"] is None:
        problems.append(
            Problem(
                f"unknown status {str(status)!r}; expected prévue, en cours, réalisée or annulée",
                feature=feature,
                field="status",
                **where,
            )
        )
    codes, unknown = _parse_quartiers(_first(rows, cols, "quartiers"), ctx["lookup"], ctx["codes"])
    out["quartiers"] = codes
    for name in unknown:
        problems.append(
            Problem(
                f"unknown quartier {name!r}; expected a code or name of "
                f'{ctx["quartier_names"]}, or "tous"',
                feature=feature,
                field="quartiers",
                **where,
            )
        )
    start = _parse(_first(rows, cols, "start"), parse_month, "start", feature, problems, where)
    end = _parse(_first(rows, cols, "end"), parse_month, "end", feature, problems, where)
    out["start_year"], out["start_month"] = start or (None, None)
    out["end_year"], out["end_month"] = end or (None, None)
    if start and end and (end[0], end[1] or 12) < (start[0], start[1] or 1):
        problems.append(
            Problem(
                f"ends ({_show(end)}) before it starts ({_show(start)})",
                feature=feature,
                field="end",
                **where,
            )
        )
    ben = _parse(
        _first(rows, cols, "beneficiaries"),
        lambda v: _parse_beneficiaries(v, ctx["lookup"]),
        "beneficiaries",
        feature,
        problems,
        where,
    )
    out["n_beneficiaries"], out["beneficiaries_by_quartier"] = ben or (None, None)
    total = _parse(_first(rows, cols, "total"), parse_amount, "total", feature, problems, where)
    if total is not None and total < 0:
        problems.append(
            Problem(f"the total is negative ({total:g} €)", feature=feature, field="total", **where)
        )
    out["total_eur"] = np.nan if total is None else total
    out[ROW] = int(rows[0][ROW])
    out["location"] = _location(rows, cols, feature, problems, where)
    return out


def _show(ym: tuple[int, int | None]) -> str:
    return f"{ym[1]:02d}/{ym[0]}" if ym[1] else str(ym[0])


def _location(
    rows: list[pd.Series],
    cols: Mapping[str, Any],
    feature: str,
    problems: list[Problem],
    where: dict[str, Any],
) -> Any:
    """``(x, y, "projected" | "lonlat")`` of an action's location, or None."""
    for a, b, kind in (("x", "y", "projected"), ("lon", "lat", "lonlat")):
        va, vb = _first(rows, cols, a), _first(rows, cols, b)
        if va is None and vb is None:
            continue
        if va is None or vb is None:
            problems.append(
                Problem(
                    f"only one of {a}/{b} is given; give both or neither",
                    feature=feature,
                    field=b if vb is None else a,
                    **where,
                )
            )
            return None
        try:
            return parse_number(va), parse_number(vb), kind
        except ValueError as exc:
            problems.append(Problem(str(exc), feature=feature, field=a, **where))
    return None


def _funding_lines(
    rows: list[pd.Series],
    cols: Mapping[str, Any],
    wide: Mapping[Any, str],
    action: dict[str, Any],
    problems: list[Problem],
    where: dict[str, Any],
) -> list[dict[str, Any]]:
    """Return one action's funding lines: a long sheet's funder/amount, a wide sheet's columns."""
    lines: list[dict[str, Any]] = []
    for row in rows:
        feature = f"row {row[ROW]}"
        year_cell = _cell(row, cols, "year")
        year = _parse(year_cell, parse_month, "year", feature, problems, where)
        year = year[0] if year else action["start_year"]
        cells = []
        if "amount" in cols or "funder" in cols:
            cells.append((_cell(row, cols, "funder"), _cell(row, cols, "amount"), "amount"))
        cells += [
            (funder, None if is_missing(row[c]) else row[c], str(c)) for c, funder in wide.items()
        ]
        for funder, value, field in cells:
            if value is None:
                continue
            amount = _parse(value, parse_amount, field, feature, problems, where)
            if amount is None:
                continue
            if amount < 0:
                problems.append(
                    Problem(
                        f"negative amount ({amount:g} €); amounts are >= 0",
                        feature=feature,
                        field=field,
                        **where,
                    )
                )
                continue
            if funder is None:
                problems.append(
                    Problem(
                        f"an amount ({amount:g} €) without its funder; fill in the funder",
                        feature=feature,
                        field="funder",
                        **where,
                    )
                )
                continue
            lines.append(
                {
                    "funder": " ".join(str(funder).split()),
                    "amount_eur": amount,
                    "year": year,
                    ROW: int(row[ROW]),
                }
            )
    return lines


def validate_actions(
    cells: pd.DataFrame,
    *,
    quartiers: pd.DataFrame | None = None,
    pillars: Iterable[str] = (),
    funders: Mapping[str, str] | None = None,
    source: str | None = None,
    crs: Any = "EPSG:2154",
) -> Programme:
    """Check a sheet of actions and return its :class:`Programme`, or raise every problem at once.

    Two layouts, both as planners keep them: **one row per funding line** (columns funder /
    financeur, amount / montant, optional year / année; the action's cells repeated, merged, or
    left blank under its first line) or **one row per action** with one column per funder
    (``Financement État``, ``Part Ville``, ``CAF (€)``, or any columns under a merged
    "Financements" header: `funders`). Amounts are read as written (``12 500 €``, ``12,5 k€``),
    dates as ``03/2024``, ``2024`` or date cells; quartiers by code or name, several separated by
    ``;`` or ``,``, ``tous`` for all of them; beneficiaries as a count or by quartier
    (``Presles : 40 ; Chevreux : 25``); a location as ``x``/``y`` (in `crs`) or ``lon``/``lat``.

    Parameters
    ----------
    cells : pandas.DataFrame
        The sheet's cells under their headers, with the :data:`ROW` column (the row number the
        spreadsheet shows; ``2``, ``3``... after one header row when absent).
    quartiers : DataFrame, optional
        The territory's quartiers (``code``, ``name``): given, unknown quartiers are problems
        and ``tous`` means their codes.
    pillars : iterable of str
        A contrat's own pillars ("enjeux" of an Engagements Quartiers 2030 contrat), accepted
        beside :data:`PILLARS`.
    funders : mapping, optional
        ``{column: funder}`` of a wide sheet's funder columns (found from the headers otherwise).
    source : str, optional
        The file name, for the messages.
    crs : CRS-like, default "EPSG:2154"
        The CRS of ``x``/``y`` locations.

    Returns
    -------
    Programme

    Raises
    ------
    DataValidationError
        Every problem: missing title or pillar, unknown pillar, status or quartier, negative
        amounts, funding above the action's total, an end before the start, unreadable amounts,
        dates or counts -- each with its spreadsheet row.

    Examples
    --------
    >>> q = pd.DataFrame({"code": ["QP002013", "QP002014"], "name": ["Presles", "Chevreux"]})
    >>> cells = pd.DataFrame({"Intitulé": ["#AuLocal", None], "Pilier": ["Cohésion sociale", None],
    ...     "Quartier(s)": ["Presles", None], "Financeur": ["État (P147)", "Ville"],
    ...     "Montant": ["12 500 €", "5 000 €"], "Début": ["03/2024", None]})
    >>> p = validate_actions(cells, quartiers=q)
    >>> p.actions[["title", "pillar", "quartiers", "start_year", "start_month"]]
          title           pillar    quartiers  start_year  start_month
    0  #AuLocal  social_cohesion  (QP002013,)        2024            3
    >>> p.funding[["action", "funder", "amount_eur", "year", "spreadsheet_row"]]
      action       funder  amount_eur  year  spreadsheet_row
    0      1  État (P147)     12500.0  2024                2
    1      1        Ville      5000.0  2024                3
    """
    where: dict[str, Any] = {"file": source, "layer": "actions"}
    problems: list[Problem] = []
    if ROW not in cells.columns:
        cells = cells.assign(**{ROW: np.arange(2, len(cells) + 2)})
    cols, wide = _claim_columns(cells, ACTION_FIELDS, funders, problems, where)
    for name in ("title", "pillar"):
        if name not in cols:
            problems.append(
                Problem(
                    "no column for the "
                    + name
                    + " (accepted headers: "
                    + ", ".join(ACTION_FIELDS[name][:6])
                    + "...)",
                    field=name,
                    **where,
                )
            )
    raise_problems(problems, "actions sheet", source)
    extra = tuple(pillars)
    lookup = quartier_lookup(quartiers)
    ctx = {
        "where": where,
        "pillars": extra,
        "lookup": lookup,
        "codes": [] if quartiers is None else [str(c) for c in quartier_codes(quartiers)],
        "pillar_names": ", ".join([fr for fr, _ in PILLAR_LABELS.values()] + list(extra)),
        "quartier_names": ", ".join(sorted(set(lookup.values()))) or "the quartiers",
    }
    actions: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for n, rows in enumerate(_group_rows(cells, cols, wide, problems, where).values(), start=1):
        action = _one_action(rows, cols, ctx, problems)
        action["id"] = action["id"] or str(n)
        funding = _funding_lines(rows, cols, wide, action, problems, where)
        paid = sum(f["amount_eur"] for f in funding)
        if paid > action["total_eur"] + 0.5:  # NaN total: never compared
            problems.append(
                Problem(
                    f"the funders sum to {paid:,.0f} €, above the action's total "
                    f"of {action['total_eur']:,.0f} €".replace(",", " "),
                    feature=f"row {action[ROW]}",
                    field="total",
                    **where,
                )
            )
        actions.append(action)
        lines += [{"action": action["id"], **f} for f in funding]
    if not actions and not problems:
        problems.append(Problem("the sheet holds no action under its headers", **where))
    raise_problems(problems, "actions sheet", source)
    return Programme(_actions_frame(actions, crs), _funding_frame(lines), source)


def _actions_frame(actions: list[dict[str, Any]], crs: Any) -> pd.DataFrame:
    columns = [
        "id",
        "title",
        "pillar",
        "theme",
        "operator",
        "quartiers",
        "start_year",
        "start_month",
        "end_year",
        "end_month",
        "status",
        "n_beneficiaries",
        "beneficiaries_by_quartier",
        "total_eur",
        ROW,
    ]
    frame = pd.DataFrame([{c: a.get(c) for c in columns} for a in actions], columns=columns)
    for c in ("start_year", "start_month", "end_year", "end_month", "n_beneficiaries", ROW):
        frame[c] = pd.array([None if is_missing(v) else int(v) for v in frame[c]], dtype="Int64")
    frame["total_eur"] = frame["total_eur"].astype(float)
    locations = [a["location"] for a in actions]
    if not any(loc is not None for loc in locations):
        return frame
    import geopandas as gpd  # only for sheets with locations
    import shapely

    def points(kind: str) -> list[Any]:
        return [
            shapely.Point(loc[0], loc[1]) if loc and loc[2] == kind else None for loc in locations
        ]

    geoms = gpd.GeoSeries(points("projected"), crs=crs)
    if any(loc and loc[2] == "lonlat" for loc in locations):
        lonlat = gpd.GeoSeries(points("lonlat"), crs="EPSG:4326").to_crs(crs)
        geoms = geoms.where(geoms.notna(), lonlat)
    return gpd.GeoDataFrame(frame, geometry=geoms.values, crs=crs)


def _funding_frame(lines: list[dict[str, Any]]) -> pd.DataFrame:
    columns = ["action", "funder", "amount_eur", "year", ROW]
    frame = pd.DataFrame(lines, columns=columns)
    # one spelling per funder: "Etat" and "État" are one funder, named as first written
    first: dict[str, str] = {}
    frame["funder"] = [first.setdefault(normalize_token(f), f) for f in frame["funder"]]
    frame["amount_eur"] = frame["amount_eur"].astype(float)
    frame["year"] = pd.array([None if is_missing(v) else int(v) for v in frame["year"]], "Int64")
    frame[ROW] = frame[ROW].astype("Int64")
    return frame
