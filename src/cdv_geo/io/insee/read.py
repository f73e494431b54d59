"""Read INSEE quartier tables as published (REVN, IPRO, DEMO, Filosofi) into one long table.

:func:`read_indicators` reads a file, a list of files or a folder: the INSEE *données
infracommunales* of the QPV (``REVN_<year>.csv``, ``IPRO_<year>.csv``, ``DEMO_<year>.csv``,
``data_DEMO_<year>_V1_QP.csv``), the Filosofi QPV file (``data_filo19_qp_revdis.csv``) and any
CSV/XLSX table whose columns follow the INSEE or the canonical naming. The result is one long
table, a row per code, indicator, vintage and source (:data:`TABLE_COLUMNS`).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.errors import CdvGeoWarning, DataValidationError, Problem
from cdv_geo.core.layers import as_layer, quartier_codes
from cdv_geo.io.insee.cells import LEVELS, read_grid, read_numbers
from cdv_geo.io.insee.derived import derived_rows
from cdv_geo.io.insee.folder import fill_names, merge_tables, read_files, table_files
from cdv_geo.io.insee.long_table import long_records
from cdv_geo.io.insee.report import duplicate_notes, range_notes
from cdv_geo.io.insee.wide_table import (
    CODE_COLUMNS,
    KEYS,
    Parsed,
    Records,
    numeric_columns,
    plan_columns,
    text_columns,
    wide_records,
)
from cdv_geo.schema import normalize_token

__all__ = [
    "LEVELS",
    "REFERENCE_LEVELS",
    "TABLE_COLUMNS",
    "check_codes",
    "keep_territory",
    "read_indicators",
]

#: Columns of the long table :func:`read_indicators` returns, in this order.
TABLE_COLUMNS = [
    "code",
    "name",
    "level",
    "indicator",
    "year",
    "value",
    "flag",
    "source",
    "file",
    "source_column",
]
#: Levels kept from a national file besides the territory's quartiers and commune.
REFERENCE_LEVELS = ("all_qpv", "france", "region", "departement", "epci")
_FILE_FAMILIES = (
    (re.compile(r"(?:^|_)REVN_(\d{4})(?!\d)", re.I), "revn"),
    (re.compile(r"(?:^|_)IPRO_(\d{4})(?!\d)", re.I), "ipro"),
    (re.compile(r"(?:^|_)DEMO_(\d{4})(?!\d)", re.I), "demo"),
    (re.compile(r"(?:^|_)filo(\d{2}|\d{4})_qp(?:_|$)", re.I), "filosofi"),
)
_HEAD = 30  # rows made text before the header is found (_header_row looks at these)
_HEADER_FAMILIES = (("demo", {"POP_MUN"}), ("ipro", {"TX_TOT_EMPL", "ABCDE"}), ("revn", {"TP60"}))


def _family(path: Path, header: list[str]) -> tuple[str | None, int | None, bool]:
    """Return the INSEE family, the vintage told by the file name, and whether the name told.

    A file not named as published gets its family from its header (for the column meanings),
    but not its source name.
    """
    for pattern, family in _FILE_FAMILIES:
        if m := pattern.search(path.stem):
            y = int(m.group(1))
            return family, 2000 + y if y < 100 else y, True
    up = {h.strip().upper() for h in header}
    for family, marks in _HEADER_FAMILIES:
        if up & marks:
            return family, None, False
    return None, None, False


def _trimmed(row: Any) -> list[str]:
    """Return a row's cells without the empty ones that end it."""
    cells = list(row)
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def _header_row(cells: list[list[str]], columns: Mapping[str, str], path: Path) -> int:
    wanted = set(CODE_COLUMNS) | {normalize_token(k) for k, v in columns.items() if v == "code"}
    for i, row in enumerate(cells[:30]):
        if {normalize_token(c) for c in row if c} & wanted:
            return i
    first = (
        ", ".join(c.strip() for c in _trimmed(cells[0]))
        if len(cells)
        else "none: the file is empty"
    )
    raise DataValidationError(
        [
            Problem(
                f"no code column in the first rows (columns: {first}); name the column of "
                f"QPV / commune codes one of {', '.join(CODE_COLUMNS)}, or say which it is: "
                "read_indicators(path, columns={'<your code column>': 'code'})",
                file=str(path),
                layer="indicators",
            )
        ]
    )


def _nothing_recognised(header: list[str], path: Path) -> DataValidationError:
    cols = [h for h in header if normalize_token(h) not in {n for v in KEYS.values() for n in v}]
    example = ", ".join(f"'{c}': '<indicator>'" for c in cols[:3])
    return DataValidationError(
        [
            Problem(
                f"no column is a known indicator (columns: {', '.join(header)}); map them to "
                f"canonical indicators: read_indicators(path, columns={{{example}}}) with names "
                "from cdv_geo.INDICATORS (median_income, poverty_rate_pct for a percentage, "
                "population...)",
                file=str(path),
                layer="indicators",
            )
        ]
    )


def _vintages(
    rules: list[Any],
    kept: list[int],
    header: list[str],
    name_year: int | None,
    year: int | None,
    has_year_column: bool,
    path: Path,
) -> list[int | None]:
    """Return the vintage of each rule then kept column; raise when one cannot be told.

    None is left where the file's ``year`` column gives the vintage of each row.
    """
    stated = sorted({r.year for _, r in rules if r.year is not None})
    if name_year is not None and set(stated) - {name_year}:
        raise DataValidationError(
            [
                Problem(
                    f"the file name says {name_year} but columns say "
                    f"{', '.join(map(str, stated))}: mixed vintages; rename the file or split "
                    "it by vintage",
                    file=str(path),
                    layer="indicators",
                )
            ]
        )
    fallback = name_year if name_year is not None else (None if has_year_column else year)
    kept_year = fallback if fallback is not None or len(stated) != 1 else stated[0]
    out = [r.year if r.year is not None else fallback for _, r in rules]
    out += [kept_year] * len(kept)
    if has_year_column:
        return out
    positions = [j for j, _ in rules] + kept
    missing = [header[j] for j, y in zip(positions, out, strict=True) if y is None]
    if missing:
        said = f" while other columns say {', '.join(map(str, stated))}" if stated else ""
        raise DataValidationError(
            [
                Problem(
                    f"columns {', '.join(missing)} carry no vintage{said}: name the file with "
                    "its vintage (REVN_2019.csv, DEMO_2021.csv), suffix the columns "
                    "(DISP_MED_A19, median_income_2021), add a year column, or pass year=...",
                    file=str(path),
                    layer="indicators",
                )
            ]
        )
    return out


def _row_years(
    cells: list[list[str]],
    lines: list[int],
    j: int,
    header: list[str],
    path: Path,
    problems: list[Problem],
) -> list[int | None]:
    out: list[int | None] = []
    for i, row in enumerate(cells):
        text = row[j].strip() if j < len(row) else ""
        if re.fullmatch(r"\d{4}(\.0)?", text):
            out.append(int(float(text)))
        else:
            out.append(None)
            problems.append(
                Problem(
                    f"{text!r} is not a year",
                    file=str(path),
                    layer="indicators",
                    feature=f"line {lines[i]}",
                    field=header[j],
                )
            )
    return out


def _duplicates(rec: Records, lines: list[int], path: Path) -> list[Problem]:
    """Return a problem for each code given twice for one vintage within one file."""
    row, code = np.asarray(rec.row), np.asarray(rec.code, dtype=object)
    starts = np.r_[True, row[1:] != row[:-1]] if len(row) else np.zeros(0, bool)
    if starts.sum() == len(np.unique(row)) and pd.Series(code[starts]).is_unique:
        return []  # no code on two rows: no clash (the usual file, checked in one pass)
    keys = pd.DataFrame(
        {
            "code": rec.code,
            "indicator": rec.indicator,
            "year": pd.Series(rec.year, dtype=object),
            "source": pd.Series(rec.source or [None] * len(rec.code), dtype=object),
            "row": rec.row,
        }
    ).drop_duplicates()  # one row giving one value twice is no clash
    clash = keys[keys.duplicated(["code", "indicator", "year", "source"], keep=False)]
    return [
        Problem(
            f"code {code} appears on lines {', '.join(map(str, sorted({lines[r] for r in rows})))}"
            f" for vintage {yr}; keep one row per code and vintage (remove the repeated row, or "
            "split the file by vintage)",
            file=str(path),
            layer="indicators",
            feature=str(code),
        )
        for (code, yr), rows in clash.groupby(["code", "year"], sort=False, dropna=False)["row"]
    ]


def _years(years: Any) -> np.ndarray:
    """Return the vintages as floats (NaN: none): one array, converted once to Int64."""
    if isinstance(years, np.ndarray) and years.dtype.kind == "f":
        return years
    return np.array([np.nan if y is None else y for y in years], dtype=float)


def _objects(values: Any, n: int | None = None) -> np.ndarray:
    """Return `values` (or one value `n` times) as an object array."""
    if n is not None and isinstance(values, str):
        return np.array([values], dtype=object).repeat(n)  # one string object, n references
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _per_row(given: list[str | None], default: str) -> list[str] | str:
    """Return the per-row values a long table carries, the default where it has none."""
    if not any(given):
        return default
    return [g or default for g in given]


def _read_file(
    path: Path,
    *,
    year: int | None,
    columns: Mapping[str, str],
    source: str | None,
    sheet: str | int | None,
) -> pd.DataFrame:
    wanted = set(CODE_COLUMNS) | {normalize_token(k) for k in columns}
    rows = read_grid(path, wanted, sheet=sheet, head=_HEAD)  # the numbers: read_numbers
    h = _header_row(rows.cells, columns, path)
    header = [c.strip() or f"column_{j + 1}" for j, c in enumerate(_trimmed(rows.cells[h]))]
    lines = rows.lines[h + 1 :]
    if not len(lines):
        raise DataValidationError(
            [Problem("the file has a header but no rows", file=str(path), layer="indicators")]
        )
    family, name_year, named = _family(path, header)
    problems: list[Problem] = []
    toks = [normalize_token(c) for c in header]
    if {"indicator", "indicateur", "variable"} & set(toks) and {"value", "valeur"} & set(toks):
        rec, names = long_records(rows.grid()[h + 1 :], lines, header, path, year, problems)
    else:
        plan = plan_columns(header, family, columns, path)
        if not plan.rules:
            raise _nothing_recognised(header, path)
        # each cell parsed once, shared by the two steps; the numbers straight from the CSV,
        # text made only of the other cells
        parsed: Parsed = read_numbers(rows, h + 1, [j for j, _ in plan.rules] + plan.other)
        cells = rows.grid(text_columns(plan, parsed, len(header)))[h + 1 :]
        kept = numeric_columns(cells, plan, parsed)
        yj = plan.keys.get("year")
        col_years = _vintages(plan.rules, kept, header, name_year, year, yj is not None, path)
        row_years = _row_years(cells, lines, yj, header, path, problems) if yj is not None else None
        rec = wide_records(
            cells, lines, header, plan, kept, (col_years, row_years), path, problems, parsed
        )
        nj = plan.keys.get("name")
        names = [(r[nj].strip() or None) if nj is not None and nj < len(r) else None for r in cells]
    problems += _duplicates(rec, lines, path)
    if problems:
        n = len(problems)
        raise DataValidationError(
            problems, summary=f"{n} problem{'s' if n > 1 else ''} in indicator table {path}:"
        )
    n = len(rec.code)
    data = {  # object arrays while reading: no string-array conversion at each step
        "code": _objects(rec.code),
        "name": _objects(names)[np.asarray(rec.row, dtype=np.intp)],
        "level": _objects(rec.level),
        "indicator": _objects(rec.indicator),
        "year": _years(rec.year),
        "value": np.asarray(rec.value, dtype=float),
        "flag": _objects(rec.flag),
        "source": _objects(
            _per_row(rec.source, source or (family if named else None) or "table"), n
        ),
        "file": _objects(_per_row(rec.file, path.name), n),
        "source_column": _objects(rec.source_column),
    }
    if extra := derived_rows(data, rec.indicators):
        data = {c: np.concatenate([data[c], *(e[c] for e in extra)]) for c in data}
    index = pd.RangeIndex(len(data["code"]))
    series: dict[str, pd.Series] = {  # one Series per column, not copied into blocks
        c: pd.Series(
            pd.array(v, dtype="Int64") if c == "year" else v,
            index=index,
            dtype=None if c in ("year", "value") else object,
            copy=False,
        )
        for c, v in data.items()
    }
    return pd.DataFrame(series, copy=False)


def keep_territory(table: pd.DataFrame, quartiers: gpd.GeoDataFrame) -> pd.DataFrame:
    """Keep the rows of `quartiers`, of their commune (``commune`` field) and the reference rows.

    What :func:`read_indicators` does with ``quartiers=``, for a table already read. Raises
    :class:`~cdv_geo.core.errors.DataValidationError` when none of the quartiers is in the
    table, and warns with the codes of other territories it leaves out.
    """
    q = as_layer(quartiers, "quartiers", kind="quartiers")
    codes = set(quartier_codes(q))
    communes = set(q["commune"].dropna().astype(str)) if "commune" in q.columns else set()
    keep = (
        table["code"].isin(codes)
        | table["code"].isin(communes)
        | table["level"].isin(REFERENCE_LEVELS)
    )
    if not table.loc[keep, "code"].isin(codes).any():
        present = sorted(set(table.loc[table["level"] == "qpv", "code"]))
        hint = ""
        if any(c.startswith("QP") for c in present) and any(c.startswith("QN") for c in codes):
            hint = " The files use the 2015 QPV codes (QP…) and the layer the 2024 ones (QN…)."
        raise DataValidationError(
            [
                Problem(
                    f"none of the quartiers' codes ({', '.join(sorted(codes))}) is in the "
                    f"files (their QPV codes: {', '.join(present[:8]) or 'none'}"
                    f"{'…' if len(present) > 8 else ''}); check the codes or the files.{hint}",
                    file=table.attrs.get("source"),
                    layer="indicators",
                    field="code",
                )
            ]
        )
    left = sorted(set(table.loc[~keep, "code"]))
    if left:
        shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
        warnings.warn(
            f"{table.attrs.get('files')}: {len(left)} codes of other territories left out "
            f"({shown}); kept: the quartiers, their commune and the reference rows.",
            CdvGeoWarning,
            stacklevel=3,
        )
    out = table[keep].reset_index(drop=True)
    out.attrs.update(table.attrs)
    return out


def read_indicators(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    year: int | None = None,
    columns: Mapping[str, str] | None = None,
    quartiers: gpd.GeoDataFrame | None = None,
    source: str | None = None,
    sheet: str | int | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    r"""Read published indicator tables (a file, a list of files, a folder) into one long table.

    **INSEE QPV files as published** — ``REVN_<year>.csv`` (income, poverty, CAF, CNAM),
    ``IPRO_<year>.csv`` (employment, job seekers), ``DEMO_<year>.csv`` and
    ``data_DEMO_<year>_V1_QP.csv`` (population, households, CAF recipients, children),
    ``data_filo19_qp_revdis.csv`` (Filosofi: deciles, Gini, income shares, poverty): ``;``
    separators, decimal commas, narrow no-break-space thousands separators, BOM, CRLF, trailing
    empty columns, quoted or unquoted codes. Their columns map to canonical indicators
    (:data:`cdv_geo.io.insee.registry.INDICATORS`, whose ``columns`` say which); percentages
    become fractions; quality notes (``NOTE_FILO``, ``NOTE_CNAF``...) and secrecy become the
    ``flag`` of the values they qualify; derived shares (``rsa_share`` = ARSAS / A) are added,
    flagged ``"derived"``. A numeric column outside the registry is kept under its lower-cased
    name (``part_chomprinc``), value as published. **Other tables** follow the column grammar
    (:func:`cdv_geo.io.insee.registry.parse_column`) or a long layout (``code``, ``indicator``,
    ``value``, ``year``); `columns` maps any other header.

    The vintage comes from the file name (``REVN_2019``, ``DEMO_2021_V1_QP``, ``filo19``), else
    the column suffix (``_A19``, ``_2021``), else a ``year`` column, else `year`. Every value
    keeps its ``source`` (the series: ``revn``, ``ipro``, ``demo``, ``filosofi``, else
    ``table`` or `source`) and its ``file``: two sources may give one indicator and year with
    different values (REVN_2019 and Filosofi 2019 poverty rates), and both rows are kept.

    Parameters
    ----------
    path : path, sequence of paths, or folder
        The files (a folder: every CSV/TSV/TXT/XLSX in it).
    year : int, optional
        Vintage of the columns that carry none in files whose name carries none.
    columns : mapping, optional
        ``{published column: canonical indicator or key}`` (``{"TAUX_PAUV": "poverty_rate_pct",
        "COM": "code"}``): keys are ``code``, ``name``, ``year``, ``level``.
    quartiers : GeoDataFrame, optional
        Keep only these quartiers, their commune (``commune`` field) and the reference rows
        (all QPV, France, EPCI...); other codes are left out with one warning.
    source : str, optional
        Series name of every value read (default: the INSEE family, else ``"table"``).
    sheet : str or int, optional
        Worksheet of XLSX files.
    progress : bool, optional
        A progress bar over the files (on stderr); None (default): only on a terminal.

    Returns
    -------
    pandas.DataFrame
        :data:`TABLE_COLUMNS`: ``code``, ``name``, ``level`` (:data:`LEVELS`; ``all_qpv`` for
        INSEE's "Ensemble" row), ``indicator``, ``year`` (Int64), ``value`` (float, NaN when
        secret or empty), ``flag`` (None or text: ``"empty"``, ``"s"``, ``"NOTE_FILO=1"``,
        ``"derived"``, ``"outside the usual range (...)"``), ``source``, ``file``,
        ``source_column``. One row per code, indicator, year and source.
        ``attrs["source"]``: the files read; ``attrs["notes"]``: the reading report, one
        sentence per file read once because another file holds the same content (the same
        bytes, or the same values under another published name: ``DEMO_2017.csv`` and
        ``data_DEMO_2017_V1_QP.csv``; its rows name both files in ``file``), then one per
        published value kept although outside its indicator's usual range (a negative
        property-income share); each kind also given as one :class:`CdvGeoWarning`.

    Raises
    ------
    DataValidationError
        Naming the file (and line, column) and what to do: an empty file, no code column, no
        known column (with the ``columns={...}`` that fixes it), mixed or missing vintages, a
        code twice for one vintage, a value that is no number, a percentage above 100, two
        files of one source disagreeing, none of the quartiers in the files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "REVN_2019.csv").write_bytes(
    ...     "\ufeffCODGEO;LIBGEO;TP60;A;ARSAS;NOTE_CNAF;;\r\n"
    ...     "QP002013;Presles;55,4;1\u202f763;577;0;;\r\n".encode())
    >>> t = read_indicators(d)
    >>> t[["code", "indicator", "year", "value", "flag", "source", "source_column"]].round(3)
           code         indicator  year     value     flag source source_column
    0  QP002013      poverty_rate  2019     0.554     None   revn          TP60
    1  QP002013  n_caf_recipients  2019  1763.000     None   revn             A
    2  QP002013  n_rsa_recipients  2019   577.000     None   revn         ARSAS
    3  QP002013         rsa_share  2019     0.327  derived   revn     ARSAS / A
    """
    files = table_files(path)
    cols = dict(columns or {})
    frames, duplicates = read_files(
        files,
        lambda f: _read_file(f, year=year, columns=cols, source=source, sheet=sheet),
        progress=progress,
    )
    table = merge_tables(frames)
    table["value"] = table["value"].round(12)
    table["name"] = fill_names(table)
    table.attrs["source"] = "; ".join(str(f) for f in files)
    table.attrs["files"] = files[0].name if len(files) == 1 else f"{len(files)} files"
    # the reading report: values kept as published although unusual
    table.attrs["notes"] = duplicate_notes(duplicates) + range_notes(table)
    if quartiers is not None:
        table = keep_territory(table, quartiers)
    return table


def check_codes(table: pd.DataFrame, quartiers: gpd.GeoDataFrame) -> None:
    """Raise if QPV codes of an indicator table match no quartier of the layer.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"code": ["QP002013"], "name": ["Presles"]},
    ...                      geometry=[box(0, 0, 1, 1)], crs=2154)
    >>> t = pd.DataFrame({"code": ["QP002013", "QP002099"], "level": ["qpv", "qpv"]})
    >>> check_codes(t, q)
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.DataValidationError: 1 problem found:
      - ...: QPV codes QP002099 match no quartier ...
    """
    q = as_layer(quartiers, "quartiers", kind="quartiers")
    known = set(quartier_codes(q))
    unknown = sorted(set(table.loc[table["level"] == "qpv", "code"]) - known)
    if not unknown:
        return
    hint = ""
    if any(c.startswith("QP") for c in unknown) and any(c.startswith("QN") for c in known):
        hint = (
            " The table uses the 2015 QPV codes (QP...) and the layer the 2024 ones "
            "(QN...): use a table of the same generation as the perimeters."
        )
    raise DataValidationError(
        [
            Problem(
                f"QPV codes {', '.join(unknown)} match no quartier (the quartiers are "
                f"{', '.join(sorted(known))}); correct the codes or pass quartiers= to "
                f"read_indicators to keep only theirs.{hint}",
                file=table.attrs.get("source"),
                layer="indicators",
                field="code",
            )
        ]
    )
