"""Reading the planner's spreadsheets: the contrat's actions and the landlords' TFPB counterparts.

A planner keeps the programme of actions in a spreadsheet (XLSX, ODS or CSV), French headers,
often under a title row, with merged cells: a "Financements" header merged over one column per
funder, an action's cells merged down its funding lines. :func:`read_actions` reads it as it is:

* the **header row** is the row whose cells name the most known fields (``Intitulé``,
  ``Pilier``, ``Quartier(s)``, ``Financeur``, ``Montant``...; see
  :data:`~cdv_geo.schema.actions.ACTION_FIELDS`), within the first 30 rows; a title row above
  it is skipped;
* **merged cells** are unmerged with their value in every cell they cover (XLSX); a group header
  ("Financements", "Financeurs", "Plan de financement") merged over the row of funder names
  makes those columns funder columns, whatever their names;
* amounts like ``12 500 €``, dates like ``03/2024``, quartiers by name or code are read without
  conversion by hand (:func:`~cdv_geo.schema.actions.validate_actions`);
* every problem is reported once, with the row number the spreadsheet shows.

Two layouts are read: one row per funding line (an action over several rows), or one row per
action with one column per funder. :func:`read_tfpb` reads the landlords' TFPB statement: one
row per landlord, quartier, year and line, the line being the **abatement** (``axe`` =
"Abattement") or a counterpart filed under one of the eight axes of the national framework
(:data:`~cdv_geo.schema.actions.TFPB_AXES`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.schema.actions import (
    ACTION_FIELDS,
    ROW,
    TFPB_ABATEMENT,
    TFPB_AXES,
    TFPB_AXIS_ALIASES,
    TFPB_AXIS_LABELS,
    TFPB_FIELDS,
    Programme,
    column_field,
    enum_value,
    parse_amount,
    parse_month,
    quartier_lookup,
    raise_problems,
)
from cdv_geo.schema.actions_validate import validate_actions
from cdv_geo.schema.enums import normalize_token
from cdv_geo.schema.values import is_missing, parse_number

__all__ = ["read_actions", "read_sheet", "read_tfpb", "validate_tfpb"]

# Headers merged over a row of funder names.
_GROUP = re.compile(
    r"^(plan\s+de\s+)?(co-?)?(financements?|financeurs?)(\s*\(.*\))?$|^partenaires\s+financiers$"
    r"|^r[ée]partition(\s+des\s+financements)?$",
    re.IGNORECASE,
)
# How far down a header row may be (title rows, notes above the table).
_HEADER_SCAN = 30


def _xlsx_rows(path: Path, sheet: str | int | None, fields: Mapping[str, Any]) -> list[list[Any]]:
    """Return a workbook sheet's cells, each merged range's value copied to every cell of it."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:
        raise DataValidationError(
            [Problem(f"cannot open as a spreadsheet ({exc})", file=str(path))]
        ) from exc
    sheets = book.worksheets
    if sheet is not None:
        names = [ws.title for ws in sheets]
        if isinstance(sheet, int) and 0 <= sheet < len(sheets):
            sheets = [sheets[sheet]]
        elif sheet in names:
            sheets = [sheets[names.index(sheet)]]
        else:
            raise DataValidationError(
                [
                    Problem(
                        f"no sheet {sheet!r}; the workbook has {', '.join(names)}", file=str(path)
                    )
                ]
            )
    grids = []
    for ws in sheets:
        grid = [list(r) for r in ws.iter_rows(values_only=True)]
        for rng in ws.merged_cells.ranges:
            top = ws.cell(rng.min_row, rng.min_col).value
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    grid[r - 1][c - 1] = top
        grids.append(grid)
    # the sheet whose headers name the most fields (a workbook often has a notes sheet first)
    return max(grids, key=lambda g: _best_header(g, fields)[1])


def _csv_rows(path: Path) -> list[list[Any]]:
    """Return the cells of a CSV file (``;`` or ``,`` or tab), UTF-8 or Windows-1252."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = path.read_text(encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
    except csv.Error:
        # (the sniffer gives up when a quoted cell holds the delimiter: "Q1 ; Q2"): the
        # delimiter is then the one the header line uses most
        first = next((line for line in text.splitlines() if line.strip()), "")
        dialect = csv.excel()
        dialect.delimiter = max(";,\t", key=first.count)
    reader = csv.reader(text.splitlines(keepends=True), dialect)
    rows: list[list[Any]] = []
    for cells in reader:
        # a cell holding a line break spans lines: keep row numbers as a spreadsheet shows them
        while len(rows) < reader.line_num - 1:
            rows.append([])
        rows.append(cells)
    return rows


def _raw_rows(path: Path, sheet: str | int | None, fields: Mapping[str, Any]) -> list[list[Any]]:
    if not path.exists():
        raise DataValidationError([Problem("file does not exist; check the path", file=str(path))])
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path, sheet, fields)
    if suffix == ".ods":
        try:
            frame = pd.read_excel(path, engine="odf", header=None, sheet_name=sheet or 0)
        except Exception as exc:
            raise DataValidationError(
                [Problem(f"cannot read the ODS sheet ({exc})", file=str(path))]
            ) from exc
        return [[None if is_missing(v) else v for v in row] for row in frame.to_numpy().tolist()]
    if suffix in (".csv", ".txt", ".tsv"):
        return _csv_rows(path)
    raise DataValidationError(
        [Problem("unknown spreadsheet format; expected .xlsx, .ods or .csv", file=str(path))]
    )


def _text(v: Any) -> str:
    return "" if is_missing(v) else " ".join(str(v).split())


def _best_header(rows: list[list[Any]], fields: Mapping[str, Any]) -> tuple[int, int]:
    """Index and score of the row naming the most fields (ties: the lower row)."""
    best, score = 0, -1
    for i, row in enumerate(rows[:_HEADER_SCAN]):
        s = len({column_field(v, fields) for v in row} - {None})
        if s >= score:
            best, score = i, s
    return best, score


def _header_block(rows: list[list[Any]], best: int) -> tuple[list[str], dict[str, str], int]:
    """Headers, ``{header: funder}`` of the columns under a funding group, first data row."""
    for upper in (best - 1, best):
        lower = upper + 1
        if upper < 0 or lower >= len(rows):
            continue
        up = [_text(v) for v in rows[upper]]
        low = [_text(v) for v in rows[lower]]
        width = max(len(up), len(low))
        up, low = up + [""] * (width - len(up)), low + [""] * (width - len(low))
        # a merged group header read from ODS or CSV sits in its first cell only
        for j in range(1, width):
            if not up[j] and low[j] and _GROUP.match(up[j - 1]) and not column_field(up[j - 1]):
                up[j] = up[j - 1]
        # "Financeur" alone is the funder column of a long sheet, not a group over funders
        group = [j for j in range(width) if _GROUP.match(up[j]) and column_field(up[j]) is None]
        if not group or not all(low[j] and not _GROUP.match(low[j]) for j in group):
            continue
        if any(_is_number(low[j]) for j in group):  # numbers under it: data, not funder names
            continue
        headers = [low[j] or up[j] for j in range(width)]
        return headers, {headers[j]: low[j] for j in group}, lower + 1
    return [_text(v) for v in rows[best]], {}, best + 1


def _is_number(text: str) -> bool:
    try:
        parse_amount(text)
    except ValueError:
        return False
    return True


def read_sheet(
    path: str | Path,
    *,
    fields: Mapping[str, Iterable[str]] = ACTION_FIELDS,
    sheet: str | int | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Return a spreadsheet's cells under their headers, and its funder columns.

    Parameters
    ----------
    path : str or Path
        An ``.xlsx``, ``.ods`` or ``.csv`` file.
    fields : mapping
        The fields whose names find the header row (:data:`~cdv_geo.schema.actions.ACTION_FIELDS`
        or :data:`~cdv_geo.schema.actions.TFPB_FIELDS`).
    sheet : str or int, optional
        The sheet to read (default: the one whose headers name the most fields).

    Returns
    -------
    cells : pandas.DataFrame
        Cells as read (text, numbers, dates), under the header row's texts (a blank header
        becomes ``column C``), with :data:`~cdv_geo.schema.actions.ROW`, the row number the
        spreadsheet shows.
    funders : dict
        ``{header: funder}`` of the columns under a merged "Financements" header.

    Raises
    ------
    DataValidationError
        The file cannot be read, or no row names at least two known fields.
    """
    path = Path(path)
    rows = _raw_rows(path, sheet, fields)
    best, score = _best_header(rows, fields)
    if score < 2:
        known = ", ".join(list(fields)[:8])
        raise DataValidationError(
            [
                Problem(
                    f"no header row found: no row of the first {_HEADER_SCAN}"
                    f" names two of the expected columns ({known}...)",
                    file=str(path),
                )
            ]
        )
    headers, funders, start = _header_block(rows, best)
    width = len(headers)
    seen: dict[str, int] = {}
    names = []
    for j, h in enumerate(headers):
        name = h or f"column {_letter(j)}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    data = [(list(r) + [None] * width)[:width] for r in rows[start:]]
    cells = pd.DataFrame(data, columns=names, dtype=object)
    cells[ROW] = np.arange(start + 1, start + 1 + len(cells))
    # columns without a header nor a value (a sheet's used range drawn wider than its table)
    empty = [
        n
        for n, h in zip(names, headers, strict=True)
        if not h and all(is_missing(v) or _text(v) == "" for v in cells[n])
    ]
    cells = cells.drop(columns=empty)
    cells = cells.replace({"": None})
    return cells, {names[headers.index(h)]: f for h, f in funders.items()}


def _letter(j: int) -> str:
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def read_actions(
    path: str | Path,
    *,
    quartiers: pd.DataFrame | None = None,
    sheet: str | int | None = None,
    pillars: Iterable[str] = (),
    crs: Any = "EPSG:2154",
) -> Programme:
    r"""Read the contrat's actions and funding lines from the planner's spreadsheet.

    Parameters
    ----------
    path : str or Path
        The spreadsheet (``.xlsx``, ``.ods``, ``.csv``); see the module docstring.
    quartiers : DataFrame, optional
        The territory's quartiers (``code``, ``name``): quartier cells are checked against them
        and ``tous`` means all of them.
    sheet : str or int, optional
        The sheet (default: the one whose headers name the most fields).
    pillars : iterable of str
        The contrat's own pillars, accepted beside the national ones.
    crs : CRS-like, default "EPSG:2154"
        The CRS of ``x``/``y`` columns.

    Returns
    -------
    Programme
        ``.actions`` and ``.funding`` (:class:`~cdv_geo.schema.actions.Programme`).

    Raises
    ------
    DataValidationError
        Listing every problem of the sheet with its spreadsheet row.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "actions.csv"
    >>> _ = f.write_text("Programmation 2024;;;\nIntitulé;Pilier;Quartier;Financement État\n"
    ...                  "#AuLocal;Cohésion sociale;Presles;12 500 €\n", encoding="utf-8")
    >>> p = read_actions(f)
    >>> p.funding[["action", "funder", "amount_eur", "spreadsheet_row"]]
      action funder  amount_eur  spreadsheet_row
    0      1   État     12500.0                3
    """
    cells, funders = read_sheet(path, sheet=sheet)
    return validate_actions(
        cells, quartiers=quartiers, pillars=pillars, funders=funders, source=str(path), crs=crs
    )


def read_tfpb(
    path: str | Path,
    *,
    quartiers: pd.DataFrame | None = None,
    sheet: str | int | None = None,
    crs: Any = "EPSG:2154",
) -> pd.DataFrame:
    r"""Read the landlords' TFPB statement: abatements and counterparts by axis.

    One row per landlord (``bailleur``), quartier, year (``année``) and line: ``axe`` is
    "Abattement" for the abatement (the tax the landlord does not pay), else one of the eight
    axes of the national framework (a label, or its key: :data:`~cdv_geo.schema.actions.
    TFPB_AXES`), with the counterpart's ``action`` and ``montant``.

    Counterparts with a place (a point d'apport volontaire) may give ``x``/``y`` (in `crs`) or
    ``lon``/``lat``: the table is then a GeoDataFrame in `crs`.

    Returns
    -------
    pandas.DataFrame
        ``landlord``, ``quartier`` (code), ``year``, ``axis`` (``"abatement"`` or an axis key),
        ``title``, ``amount_eur``, :data:`~cdv_geo.schema.actions.ROW` (and ``geometry``).

    Raises
    ------
    DataValidationError
        Every problem with its spreadsheet row: missing landlord or year, unknown quartier or
        axis, missing or negative amount, two abatements for one landlord, quartier and year.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "tfpb.csv"
    >>> _ = f.write_text("bailleur;quartier;année;axe;action;montant\n"
    ...     "OPAL;Chevreux;2024;Abattement;;80 000 €\n"
    ...     "OPAL;Chevreux;2024;Gestion des déchets et encombrants;PAV;30 000 €\n")
    >>> read_tfpb(f)[["landlord", "quartier", "axis", "amount_eur"]]
      landlord  quartier       axis  amount_eur
    0     OPAL  Chevreux  abatement     80000.0
    1     OPAL  Chevreux      waste     30000.0
    """
    cells, _ = read_sheet(path, fields=TFPB_FIELDS, sheet=sheet)
    return validate_tfpb(cells, quartiers=quartiers, source=str(path), crs=crs)


def validate_tfpb(
    cells: pd.DataFrame,
    *,
    quartiers: pd.DataFrame | None = None,
    source: str | None = None,
    crs: Any = "EPSG:2154",
) -> pd.DataFrame:
    """Check a TFPB statement's cells (see :func:`read_tfpb`); raise every problem at once."""
    where: dict[str, Any] = {"file": source, "layer": "tfpb"}
    problems: list[Problem] = []
    if ROW not in cells.columns:
        cells = cells.assign(**{ROW: np.arange(2, len(cells) + 2)})
    cols: dict[str, Any] = {}
    for c in reversed(list(cells.columns)):  # the first of two columns for one field wins
        name = column_field(c, TFPB_FIELDS) if c != ROW else None
        if name is not None:
            cols[name] = c
    for name in ("landlord", "quartier", "year", "axis", "amount"):
        if name not in cols:
            problems.append(
                Problem(
                    f"no column for the {name} (accepted headers: "
                    f"{', '.join(TFPB_FIELDS[name][:5])})",
                    field=name,
                    **where,
                )
            )
    raise_problems(problems, "TFPB statement", source)
    lookup = quartier_lookup(quartiers)
    axes = ", ".join(["Abattement"] + [fr for fr, _ in TFPB_AXIS_LABELS.values()])
    out: list[dict[str, Any]] = []
    points: list[Any] = []
    for _, row in cells.iterrows():
        values = {k: (None if is_missing(row[c]) else row[c]) for k, c in cols.items()}
        if all(v is None for v in values.values()):
            continue
        feature = f"row {row[ROW]}"

        def problem(message: str, field: str, feature: str = feature) -> None:
            problems.append(Problem(message, feature=feature, field=field, **where))

        rec: dict[str, Any] = {ROW: int(row[ROW]), "title": values.get("title")}
        rec["landlord"] = None if values["landlord"] is None else _text(values["landlord"])
        if rec["landlord"] is None:
            problem("the landlord is missing", "landlord")
        q = values["quartier"]
        rec["quartier"] = None if q is None else _text(q)
        if q is None:
            problem("the quartier is missing", "quartier")
        elif lookup:
            rec["quartier"] = lookup.get(normalize_token(q))
            if rec["quartier"] is None:
                problem(
                    f"unknown quartier {_text(q)!r}; expected one of "
                    f"{', '.join(sorted(set(lookup.values())))}",
                    "quartier",
                )
        rec["year"] = _tfpb_value(values["year"], lambda v: parse_month(v)[0], "year", problem)
        axis = values["axis"]
        rec["axis"] = (
            None
            if axis is None
            else enum_value(axis, (TFPB_ABATEMENT, *TFPB_AXES), TFPB_AXIS_ALIASES)
        )
        if rec["axis"] is None:
            problem(f"unknown axis {_text(axis)!r}; expected one of {axes}", "axis")
        rec["amount_eur"] = _tfpb_value(values["amount"], parse_amount, "amount", problem)
        points.append(_point(values, problem))
        if rec["amount_eur"] is not None and rec["amount_eur"] < 0:
            problem(f"negative amount ({rec['amount_eur']:g} €); amounts are >= 0", "amount")
        out.append(rec)
    frame = pd.DataFrame(
        out, columns=["landlord", "quartier", "year", "axis", "title", "amount_eur", ROW]
    )
    ab = frame[frame["axis"] == TFPB_ABATEMENT]
    for key, grp in ab.groupby(["landlord", "quartier", "year"], dropna=True):
        if len(grp) > 1:
            rows = ", ".join(str(r) for r in grp[ROW])
            problems.append(
                Problem(
                    f"{key[0]} has {len(grp)} abatement lines for {key[1]} in "
                    f"{key[2]} (rows {rows}); keep one",
                    feature=f"row {grp[ROW].iloc[-1]}",
                    field="axis",
                    **where,
                )
            )
    if frame.empty and not problems:
        problems.append(Problem("the sheet holds no line under its headers", **where))
    raise_problems(problems, "TFPB statement", source)
    frame["year"] = frame["year"].astype("Int64")
    frame["amount_eur"] = frame["amount_eur"].astype(float)
    frame[ROW] = frame[ROW].astype("Int64")
    return _located(frame, points, crs)


def _located(frame: pd.DataFrame, points: list[Any], crs: Any) -> Any:
    """Return the statement as a GeoDataFrame when it locates counterparts.

    ``x``/``y`` in `crs`, or ``lon``/``lat``: the points d'apport volontaire on a map. Lines
    without a place have no geometry.
    """
    if not any(p is not None for p in points):
        return frame
    import geopandas as gpd
    import shapely

    def geoms(kind: str, src: Any) -> Any:
        pts = [shapely.Point(p[0], p[1]) if p and p[2] == kind else None for p in points]
        return gpd.GeoSeries(pts, crs=src).to_crs(crs)

    xy, lonlat = geoms("xy", crs), geoms("lonlat", "EPSG:4326")
    return gpd.GeoDataFrame(frame, geometry=xy.where(xy.notna(), lonlat).values, crs=crs)


def _point(values: Mapping[str, Any], problem: Any) -> Any:
    """``(x, y, "xy" | "lonlat")`` of a line, or None (a problem when half given or unreadable)."""
    for a, b, kind in (("x", "y", "xy"), ("lon", "lat", "lonlat")):
        va, vb = values.get(a), values.get(b)
        if va is None and vb is None:
            continue
        try:
            if va is None or vb is None:
                raise ValueError(f"only one of {a}/{b} is given; give both or neither")
            return parse_number(va), parse_number(vb), kind
        except ValueError as exc:
            problem(str(exc), a)
    return None


def _tfpb_value(value: Any, parse: Any, field: str, problem: Any) -> Any:
    if value is None:
        problem(f"the {field} is missing", field)
        return None
    try:
        return parse(value)
    except ValueError as exc:
        problem(str(exc), field)
        return None
