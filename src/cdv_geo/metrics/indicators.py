"""Socio-economic indicators of the quartiers: registry, readers, comparison, trends, Gini, grids.

*Are the quartiers catching up with the town?* The indicators come from published tables
(INSEE Filosofi for income and poverty, CAF for RSA, France Travail and the census for
employment, CNAM for the CSS), keyed by QPV code, IRIS, commune, EPCI or "France".

- :data:`INDICATORS` — the canonical set: name, French and English labels, unit, definition,
  direction (is higher better?) and source. Rates and shares are **fractions** in [0, 1].
- :func:`read_indicators` — CSV/XLSX tables in either INSEE/ANCT naming family, to one tidy
  table (``code, level, indicator, year, value, flag``); secrecy codes become missing values
  with a flag, never 0.
- :func:`compare_indicators`, :func:`indicator_trend` — gaps to the town and to France, and
  whether they narrowed between vintages.
- :func:`gini`, :func:`gini_from_grouped` — exact (weighted) and grouped-data Gini indices.
- :func:`read_grid`, :func:`interpolate_grid` — INSEE Filosofi 200 m squares to quartiers
  (area- or dwelling-weighted; ratios computed after summing the counts).
"""

from __future__ import annotations

import io
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning, DataValidationError, Problem
from cdv_geo.schema import normalize_token, validate

__all__ = [
    "DEFAULT_GRID_RATIOS",
    "INDICATORS",
    "SECRECY_CODES",
    "Indicator",
    "check_codes",
    "compare_indicators",
    "estimate_missing_gini",
    "gini",
    "gini_from_grouped",
    "indicator_trend",
    "interpolate_grid",
    "pivot_indicators",
    "read_grid",
    "read_indicators",
]

Unit = Literal["EUR", "fraction", "index", "ratio", "per_10000"]


@dataclass(frozen=True)
class Indicator:
    """One canonical socio-economic indicator.

    Parameters
    ----------
    name : str
        Canonical column name (``median_income``...).
    label_fr, label_en : str
        Labels for tables and maps.
    unit : {"EUR", "fraction", "index", "ratio", "per_10000"}
        Unit of the stored value. ``fraction`` values are in [0, 1] (shown as %).
    definition : str
        What is measured, and on whom.
    higher_is_better : bool
        Direction: True when a higher value means a better situation.
    source : str
        The usual published source.
    """

    name: str
    label_fr: str
    label_en: str
    unit: Unit
    definition: str
    higher_is_better: bool
    source: str

    def format(self, value: float, lang: str = "fr") -> str:
        """Return `value` as text in the indicator's unit (percentages only here, in labels).

        Examples
        --------
        >>> INDICATORS["poverty_rate"].format(0.412)
        '41,2 %'
        >>> INDICATORS["median_income"].format(13580, lang="en")
        '13,580 €'
        """
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "s.o." if lang == "fr" else "n/a"
        if self.unit == "fraction":
            text = f"{100 * value:.1f} %"
        elif self.unit == "EUR":
            text = f"{value:,.0f} €"
        elif self.unit == "per_10000":
            text = f"{value:.1f} / 10 000" if lang == "fr" else f"{value:.1f} per 10,000"
        else:
            text = f"{value:.3f}" if self.unit == "index" else f"{value:.2f}"
        if lang == "fr":
            text = text.replace(",", "\u202f").replace(".", ",")
        return text


_FILO = "INSEE, Filosofi (revenus localisés sociaux et fiscaux), QPV / communes"
_RP = "INSEE, recensement de la population (exploitation QPV par l'ANCT)"


def _deciles() -> list[Indicator]:
    out = []
    for k in range(1, 10):
        fr = "1er" if k == 1 else f"{k}e"
        en = {1: "1st", 2: "2nd", 3: "3rd"}.get(k, f"{k}th")
        out.append(
            Indicator(
                f"income_d{k}",
                f"{fr} décile du revenu disponible par UC",
                f"{en} decile of disposable income per consumption unit",
                "EUR",
                f"Disposable income per consumption unit below which {10 * k} % of people live "
                "(€ per year).",
                True,
                _FILO,
            )
        )
    return out


#: The canonical indicator set, by name.
INDICATORS: dict[str, Indicator] = {
    i.name: i
    for i in (
        Indicator(
            "median_income",
            "Revenu disponible médian par UC",
            "Median disposable income per consumption unit",
            "EUR",
            "Median of the disposable income (after taxes and social benefits) per consumption "
            "unit of the people of the area, € per year (the 'niveau de vie' median).",
            True,
            _FILO,
        ),
        Indicator(
            "median_declared_income",
            "Revenu déclaré médian par UC",
            "Median declared income per consumption unit",
            "EUR",
            "Median of the income declared to the tax office (before redistribution) per "
            "consumption unit, € per year. `median_income` is the disposable one.",
            True,
            _FILO,
        ),
        Indicator(
            "poverty_rate",
            "Taux de pauvreté (seuil à 60 %)",
            "Poverty rate (60 % threshold)",
            "fraction",
            "Share of people whose disposable income per consumption unit is below 60 % of the "
            "national median (the monetary poverty line).",
            False,
            _FILO,
        ),
        *_deciles(),
        Indicator(
            "interdecile_ratio",
            "Rapport interdécile (D9/D1)",
            "Interdecile ratio (D9/D1)",
            "ratio",
            "Ninth decile of disposable income per consumption unit divided by the first.",
            False,
            _FILO,
        ),
        Indicator(
            "gini",
            "Indice de Gini du revenu disponible",
            "Gini index of disposable income",
            "index",
            "Gini index of the disposable income per consumption unit: 0 when everyone has the "
            "same income, 1 when one person has everything. The published value is used when "
            "there is one (see gini_from_grouped for estimates).",
            False,
            _FILO,
        ),
        Indicator(
            "rsa_share",
            "Part des ménages allocataires du RSA",
            "Share of households receiving RSA",
            "fraction",
            "Households receiving the revenu de solidarité active (RSA) divided by all "
            "households of the area.",
            False,
            "CNAF / CAF (allocataires), via l'ANCT (SIG Ville, Observatoire des territoires)",
        ),
        Indicator(
            "unemployment_rate",
            "Taux de chômage des 15-64 ans (recensement)",
            "Unemployment rate of people aged 15-64 (census)",
            "fraction",
            "Unemployed people (census definition, self-declared) divided by the labour force "
            "aged 15 to 64.",
            False,
            _RP,
        ),
        Indicator(
            "jobseeker_ratio",
            "Demandeurs d'emploi (cat. A, B, C) pour 100 habitants de 15-64 ans",
            "Job seekers (categories A, B, C) per 100 residents aged 15-64",
            "fraction",
            "Registered job seekers (France Travail categories A, B, C) divided by the "
            "population aged 15 to 64. NOT an unemployment rate: the denominator is the whole "
            "population of working age, not the labour force.",
            False,
            "France Travail (DEFM) et INSEE (population), via l'ANCT",
        ),
        Indicator(
            "no_diploma_share",
            "Part des 15 ans ou plus non scolarisés sans diplôme",
            "Share of people aged 15+ out of school with no diploma",
            "fraction",
            "People aged 15 or more, no longer at school, with no diploma (or at most the "
            "brevet des collèges), divided by all people aged 15+ no longer at school.",
            False,
            _RP,
        ),
        Indicator(
            "early_leaving_share",
            "Part des 16-25 ans non scolarisés sans diplôme (décrochage)",
            "Share of people aged 16-25 out of school with no diploma (early leaving)",
            "fraction",
            "People aged 16 to 25, no longer at school, with no diploma, divided by all "
            "people aged 16 to 25.",
            False,
            _RP,
        ),
        Indicator(
            "css_share",
            "Part de la population couverte par la CSS (ex-CMU-C)",
            "Share of residents covered by the CSS (formerly CMU-C)",
            "fraction",
            "Residents covered by the Complémentaire santé solidaire without contribution "
            "(formerly CMU-C) divided by the population.",
            False,
            "CNAM (Assurance maladie), via l'ANCT",
        ),
        Indicator(
            "gp_density",
            "Médecins généralistes pour 10 000 habitants",
            "General practitioners per 10,000 residents",
            "per_10000",
            "Practising general practitioners located in the area per 10,000 residents.",
            True,
            "CNAM / DREES (RPPS), INSEE (population)",
        ),
    )
}

#: INSEE secrecy and missing-value codes -> meaning (the ``flag`` of a missing value).
SECRECY_CODES: dict[str, str] = {
    "s": "secret statistique (too few households to publish)",
    "nd": "non disponible (not available)",
    "ns": "non significatif (not significant)",
    "c": "confidentiel (confidential)",
    "": "empty cell",
}
_EMPTY_FLAG = "empty"

LEVELS: tuple[str, ...] = ("qpv", "iris", "commune", "epci", "departement", "region", "france")
_LEVEL_ALIASES = {
    "qp": "qpv",
    "quartier": "qpv",
    "quartiers": "qpv",
    "qpv": "qpv",
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
_CODE_COLUMNS = (
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
_NAME_COLUMNS = ("name", "libgeo", "lib_qp", "nom_qp", "nom", "libelle", "lib_geo", "lib_com")
_YEAR_COLUMNS = ("year", "annee", "millesime", "vintage", "an")
_LEVEL_COLUMNS = ("level", "niveau", "niveau_geo", "type_geo", "echelon")
_QPV_CODE = re.compile(r"^Q[NP]\d{6}[A-Z]?$|^QN\d{5}[A-Z]$|^QP\d{6}$")
_COMMUNE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_FRANCE_CODES = {"fr", "fra", "france", "fm", "metro", "fxx", "99", "frm"}

# --- column grammar ---------------------------------------------------------------------------
# A column (or, in a long table, an indicator name) is matched after normalize_token(). Each
# rule gives (canonical indicator, scale applied to the published value, family).
_INSEE_STEMS: dict[str, tuple[str, float]] = {
    "med": ("median_income", 1.0),
    "q2": ("median_income", 1.0),
    "tp60": ("poverty_rate", 0.01),  # published in %
    "gi": ("gini", 1.0),
    "rd": ("interdecile_ratio", 1.0),
    **{f"d{k}": (f"income_d{k}", 1.0) for k in range(1, 10)},
}
_NEW = re.compile(r"^(disp|dec)_([a-z0-9]+?)_a(\d{2})$")
_OLD = re.compile(r"^(disp|decuc|dec)_?(q2|med|tp60|gi|rd|d[1-9])(?:_?(\d{4}|\d{2}))?$")
_OLD_TP60 = re.compile(r"^tp60(?:_?(\d{4}|\d{2}))?$")
_CANON = re.compile(
    r"^(" + "|".join(sorted(INDICATORS, key=len, reverse=True)) + r")(_pct)?(?:_a?(\d{4}|\d{2}))?$"
)
_FRENCH_ALIASES: dict[str, str] = {
    "revenu_median": "median_income",
    "niveau_de_vie_median": "median_income",
    "taux_de_pauvrete": "poverty_rate",
    "taux_pauvrete": "poverty_rate",
    "indice_de_gini": "gini",
    "part_rsa": "rsa_share",
    "part_menages_rsa": "rsa_share",
    "taux_de_chomage": "unemployment_rate",
    "taux_chomage": "unemployment_rate",
    "part_sans_diplome": "no_diploma_share",
    "part_css": "css_share",
    "part_cmuc": "css_share",
    "densite_generalistes": "gp_density",
}
SOURCES = ("auto", "insee", "insee_legacy", "canonical")


@dataclass(frozen=True)
class _Column:
    indicator: str
    year: int | None
    scale: float
    family: str  # "insee", "insee_legacy", "canonical", "other"
    percent: bool  # published as a percentage (checked <= 100)


def _year(text: str | None) -> int | None:
    if not text:
        return None
    y = int(text)
    return 2000 + y if y < 100 else y


def _parse_column(raw: str, source: str) -> _Column | None:
    """Recognise a column header (or long-table indicator name); None for an unknown one."""
    tok = normalize_token(raw)
    if source in ("auto", "insee") and (m := _NEW.match(tok)):
        kind, stem, yy = m.groups()
        if kind == "dec":
            ind = "median_declared_income" if stem == "med" else f"dec_{stem}"
            return _Column(ind, _year(yy), 1.0, "insee", False)
        if stem in _INSEE_STEMS:
            ind, scale = _INSEE_STEMS[stem]
            return _Column(ind, _year(yy), scale, "insee", scale != 1.0)
        return _Column(f"disp_{stem}", _year(yy), 1.0, "insee", False)  # known family, kept
    if source in ("auto", "insee_legacy"):
        if m := _OLD.match(tok):
            kind, stem, yy = m.groups()
            if kind in ("dec", "decuc"):
                if stem in ("q2", "med"):
                    return _Column("median_declared_income", _year(yy), 1.0, "insee_legacy", False)
                return _Column(f"{kind}_{stem}", _year(yy), 1.0, "insee_legacy", False)
            ind, scale = _INSEE_STEMS[stem]
            return _Column(ind, _year(yy), scale, "insee_legacy", scale != 1.0)
        if m := _OLD_TP60.match(tok):
            return _Column("poverty_rate", _year(m.group(1)), 0.01, "insee_legacy", True)
    if m := _CANON.match(tok):
        name, pct, yy = m.groups()
        return _Column(name, _year(yy), 0.01 if pct else 1.0, "canonical", bool(pct))
    base = re.sub(r"(_pct)?(_a?(\d{4}|\d{2}))?$", "", tok)
    if base in _FRENCH_ALIASES:
        m2 = re.search(r"(_pct)?(?:_a?(\d{4}|\d{2}))?$", tok)
        pct, yy = (m2.group(1), m2.group(2)) if m2 else (None, None)
        return _Column(
            _FRENCH_ALIASES[base], _year(yy), 0.01 if pct else 1.0, "canonical", bool(pct)
        )
    return None


# --- reading -----------------------------------------------------------------------------------


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataValidationError(
        [
            Problem(
                "cannot decode the file (tried UTF-8 and Windows-1252); save it as UTF-8",
                file=str(path),
                layer="indicators",
            )
        ]
    )


def _sniff_separator(lines: list[str], wanted: Iterable[str]) -> str:
    """Return the separator that splits a line into fields one of which is in `wanted`.

    Else the most frequent of ``;``, tab, ``,`` in the first non-blank line. Unlike a count over
    the whole file, decimal commas do not fool it.
    """
    names = set(wanted)
    for line in lines[:30]:
        for sep in (";", "\t", ","):
            if {normalize_token(f.strip().strip('"')) for f in line.split(sep)} & names:
                return sep
    first = next((ln for ln in lines if ln.strip()), "")
    return max((";", "\t", ","), key=first.count)


def _read_text_table(path: Path, wanted: Iterable[str]) -> pd.DataFrame:
    """Every cell of a delimited text file as text; blank and ragged lines keep their place."""
    text = _decode(path)
    lines = text.splitlines()
    sep = _sniff_separator(lines, wanted)
    width = max((len(ln.split(sep)) for ln in lines), default=1)
    cells = pd.read_csv(
        io.StringIO(text),
        sep=sep,
        header=None,
        names=range(width),
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
        engine="python",
    )
    # naive splitting may count separators inside quotes: drop columns that stayed empty
    keep = [c for c in cells.columns if (cells[c].fillna("").astype(str).str.strip() != "").any()]
    return cells[keep].T.reset_index(drop=True).T


def _read_cells(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """Read every cell as text, without a header (found later)."""
    if not path.exists():
        raise DataValidationError(
            [Problem("file does not exist; check the path", file=str(path), layer="indicators")]
        )
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".csv", ".txt", ".tsv"):
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
            return pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=str)
        return _read_text_table(path, _CODE_COLUMNS)
    except DataValidationError:
        raise
    except Exception as exc:
        raise DataValidationError(
            [Problem(f"cannot read the table: {exc}", file=str(path), layer="indicators")]
        ) from exc


def _find_header(cells: pd.DataFrame, path: Path) -> int:
    """Row of the header: the first (of 30) naming a code column (INSEE files have titles)."""
    wanted = set(_CODE_COLUMNS)
    for i in range(min(30, len(cells))):
        toks = {normalize_token(str(v)) for v in cells.iloc[i] if isinstance(v, str)}
        if toks & wanted:
            return i
    raise DataValidationError(
        [
            Problem(
                f"no code column found in the first rows; name the column of QPV / IRIS / "
                f"commune codes one of: {', '.join(_CODE_COLUMNS)}",
                file=str(path),
                layer="indicators",
            )
        ]
    )


def _pick(columns: Sequence[str], names: Sequence[str]) -> str | None:
    toks = {normalize_token(c): c for c in columns}
    for n in names:
        if n in toks:
            return toks[n]
    return None


def _parse_value(text: Any) -> tuple[float | None, str | None]:
    """(value, flag): a number, or NaN with the secrecy flag; (None, None) for other text."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return float("nan"), _EMPTY_FLAG
    s = str(text).strip()
    low = s.lower()
    if low == "":
        return float("nan"), _EMPTY_FLAG
    if low in SECRECY_CODES:
        return float("nan"), low
    clean = s.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    clean = clean.rstrip("%")
    try:
        v = float(clean)
    except ValueError:
        return None, None
    if not math.isfinite(v):
        return None, None
    return v, None


def _level_of(code: str, declared: str | None) -> str | None:
    if declared is not None:
        return _LEVEL_ALIASES.get(normalize_token(declared))
    if _QPV_CODE.match(code):
        return "qpv"
    if code.lower() in _FRANCE_CODES:
        return "france"
    if _COMMUNE_CODE.match(code):
        return "commune"
    return None


#: Columns of the tidy records both reader paths build (``_row``/``_line`` locate messages).
_RECORD_COLUMNS = [
    "code",
    "level",
    "indicator",
    "year",
    "value",
    "flag",
    "source_column",
    "_row",
    "_line",
]


def read_indicators(
    path: str | os.PathLike[str],
    *,
    source: str = "auto",
    year: int | None = None,
    sheet: str | int | None = None,
    quartiers: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    r"""Read a CSV/XLSX indicator table into one tidy table of canonical indicators.

    Columns are recognised in either INSEE/ANCT naming family and mapped to :data:`INDICATORS`:

    ============================  ======================================  =====================
    canonical                     newer family (vintage ``_A21``)         older family
    ============================  ======================================  =====================
    ``median_income``             ``DISP_MED_A21``                        ``disp_q2``, ``disp_med``
    ``median_declared_income``    ``DEC_MED_A21``                         ``decuc_q2``, ``dec_med``
    ``poverty_rate`` (÷ 100)      ``DISP_TP60_A21``                       ``tp60``, ``disp_tp60``
    ``gini``                      ``DISP_GI_A21``                         ``disp_gi``
    ``income_d1`` … ``income_d9`` ``DISP_D1_A21`` … ``DISP_D9_A21``       ``disp_d1`` … ``disp_d9``
    ``interdecile_ratio``         ``DISP_RD_A21``                         ``disp_rd``
    ============================  ======================================  =====================

    Older-family names may end with a vintage (``disp_q2_17``, ``tp6017``). Canonical names
    are recognised too, as fractions (``rsa_share``), or as percentages with ``_pct``
    (``rsa_share_pct``), optionally with a vintage suffix (``rsa_share_2021``). A table may
    also be *long*: columns ``code``, ``indicator``, ``value`` (and ``year``), the indicator
    names following the same grammar. The vintage of each value comes from the column name,
    else from a ``year`` (``annee``) column, else from the `year` argument.

    Secrecy codes (``s``, ``nd``, ``ns``, ``c``, empty cell) become missing values (NaN) with
    the code in ``flag`` (``"empty"`` for an empty cell), never 0. Percentages are divided by
    100. Columns of a known family whose stem is not in the canonical set (``DISP_S80S20_A21``)
    become indicators named after the stem (``disp_s80s20``, value as published); other unknown
    columns are kept as text columns repeated on every row of their code.

    Parameters
    ----------
    path : str or path-like
        ``.csv`` (``;`` or ``,`` separated, UTF-8 or Windows-1252, decimal comma accepted) or
        ``.xlsx`` (the header row is found below title rows).
    source : {"auto", "insee", "insee_legacy", "canonical"}, default "auto"
        Which naming family to recognise (canonical names always are).
    year : int, optional
        Vintage of the columns that carry none (and of a table without a year column).
    sheet : str or int, optional
        Worksheet of an XLSX file (default: the first).
    quartiers : geopandas.GeoDataFrame, optional
        When given, QPV codes that match no quartier raise an error (:func:`check_codes`).

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``level`` (qpv, iris, commune, epci, departement, region,
        france), ``indicator``, ``year`` (Int64), ``value`` (float, NaN when secret),
        ``flag`` (None, or the secrecy code), ``source_column``, then the kept unknown columns.
        ``attrs`` holds ``source`` (the file) and ``families`` (the naming families found).

    Raises
    ------
    DataValidationError
        Naming the file, line and column: a value that is not a number nor a secrecy code, a
        percentage above 100 (or a fraction above 1), a negative share, a code whose level
        cannot be told, a column without vintage, a code repeated for one vintage, QPV codes
        matching no quartier.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "qpv.csv"
    >>> _ = p.write_text("CODGEO;LIBGEO;DISP_MED_A21;DISP_TP60_A21\n"
    ...                  "QN00272M;Saint-Crépin;12480;41,5\nQN00273M;Presles;s;s\n")
    >>> t = read_indicators(p)
    >>> t[["code", "level", "indicator", "year", "value", "flag"]]
           code level      indicator  year    value  flag
    0  QN00272M   qpv  median_income  2021  12480.0  None
    1  QN00272M   qpv   poverty_rate  2021    0.415  None
    2  QN00273M   qpv  median_income  2021      NaN     s
    3  QN00273M   qpv   poverty_rate  2021      NaN     s
    """
    if source not in SOURCES:
        raise CdvGeoError(f"source={source!r}: use one of {', '.join(SOURCES)}")
    p = Path(path)
    cells = _read_cells(p, sheet)
    h = _find_header(cells, p)
    header = [
        str(c).strip() if isinstance(c, str) else f"column_{j + 1}"
        for j, c in enumerate(cells.iloc[h])
    ]
    body = cells.iloc[h + 1 :].reset_index(drop=True)
    body.columns = pd.Index(header)
    body = body.dropna(how="all")
    body = body[~body.apply(lambda r: all(str(v).strip() in ("", "nan") for v in r), axis=1)]
    lines = (body.index + h + 2).tolist()  # 1-based line (CSV) / row (XLSX) numbers
    body = body.reset_index(drop=True)
    long = _pick(header, ("indicator", "indicateur", "variable")) and _pick(
        header, ("value", "valeur")
    )
    if long:
        table = _from_long(body, lines, p, source, year)
    else:
        table = _from_wide(body, lines, p, source, year)
    _check_duplicates(table, p)
    table = table.drop(columns=["_row", "_line"])
    table.attrs["source"] = str(p)
    table.attrs["families"] = sorted(set(table.attrs.get("families", [])))
    if quartiers is not None:
        check_codes(table, quartiers)
    return table


def _key_columns(body: pd.DataFrame, path: Path) -> tuple[str, str | None, str | None, str | None]:
    cols = list(body.columns)
    code = _pick(cols, _CODE_COLUMNS)
    if code is None:  # pragma: no cover - _find_header guarantees one
        raise DataValidationError([Problem("no code column", file=str(path))])
    return code, _pick(cols, _NAME_COLUMNS), _pick(cols, _YEAR_COLUMNS), _pick(cols, _LEVEL_COLUMNS)


def _codes_and_levels(
    body: pd.DataFrame,
    lines: list[int],
    path: Path,
    code_col: str,
    level_col: str | None,
    problems: list[Problem],
) -> tuple[list[str], list[str | None]]:
    codes: list[str] = []
    levels: list[str | None] = []
    padded: list[str] = []
    for i, raw in enumerate(body[code_col]):
        code = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw)
        code = code.strip()
        if code.endswith(".0") and code[:-2].isdigit():  # numbers read from Excel
            code = code[:-2]
        declared = None
        if level_col is not None:
            lv = body[level_col].iloc[i]
            declared = str(lv) if isinstance(lv, str) and lv.strip() else None
        if (
            code.isdigit()
            and len(code) == 4
            and (declared is None or _LEVEL_ALIASES.get(normalize_token(declared)) == "commune")
        ):
            padded.append(code)
            code = "0" + code  # a commune code whose leading zero a spreadsheet dropped
        level = _level_of(code, declared)
        if not code:
            problems.append(
                Problem(
                    "the code is empty",
                    file=str(path),
                    layer="indicators",
                    feature=f"line {lines[i]}",
                    field=code_col,
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
                    what,
                    file=str(path),
                    layer="indicators",
                    feature=f"{code} (line {lines[i]})",
                    field=level_col or code_col,
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


def _check_cell(
    v: float | None,
    flag: str | None,
    cell: Any,
    col: _Column,
    path: Path,
    where: str,
    field: str,
    problems: list[Problem],
) -> float | None:
    """Return the scaled value of a parsed cell, or None after recording its problem."""
    if v is None:
        problems.append(
            Problem(
                f"{cell!r} is neither a number nor a secrecy code "
                f"({', '.join(k for k in SECRECY_CODES if k)})",
                file=str(path),
                layer="indicators",
                feature=where,
                field=field,
            )
        )
        return None
    if flag is None and (pb := _value_problem(v, col, cell, path, where, field)):
        problems.append(pb)
        return None
    return v * col.scale


def _value_problem(
    v: float, col: _Column, cell: Any, path: Path, where: str, column: str
) -> Problem | None:
    """Range checks of a published value (before scaling)."""
    unit = INDICATORS[col.indicator].unit if col.indicator in INDICATORS else None
    if col.percent and v > 100:
        message = f"{cell!r} is a percentage above 100 %; check the value"
    elif unit == "fraction" and not col.percent and v > 1:
        message = (
            f"{cell!r} is above 1 but {col.indicator} is a fraction in [0, 1]; if the column "
            f"holds percentages, rename it {col.indicator}_pct (or divide by 100)"
        )
    elif unit in ("fraction", "index", "ratio", "per_10000") and v < 0:
        message = f"{cell!r} is negative; {col.indicator} cannot be"
    elif col.indicator == "gini" and v > 1:
        message = f"{cell!r}: a Gini index lies in [0, 1]"
    else:
        return None
    return Problem(message, file=str(path), layer="indicators", feature=where, field=column)


def _from_wide(
    body: pd.DataFrame, lines: list[int], path: Path, source: str, year: int | None
) -> pd.DataFrame:
    code_col, name_col, year_col, level_col = _key_columns(body, path)
    problems: list[Problem] = []
    codes, levels = _codes_and_levels(body, lines, path, code_col, level_col, problems)
    keys = {code_col, name_col, year_col, level_col}
    parsed: dict[str, _Column] = {}
    kept: list[str] = []
    for c in body.columns:
        if c in keys:
            continue
        col = _parse_column(c, source)
        if col is None:
            kept.append(c)
        else:
            parsed[c] = col
    row_years: list[int | None] = [None] * len(body)
    if year_col is not None:
        for i, v in enumerate(body[year_col]):
            num, _ = _parse_value(v)
            if num is None or math.isnan(num) or num != int(num):
                problems.append(
                    Problem(
                        f"{v!r} is not a year",
                        file=str(path),
                        layer="indicators",
                        feature=f"line {lines[i]}",
                        field=year_col,
                    )
                )
            else:
                row_years[i] = _year(str(int(num)))
    no_vintage = [c for c, col in parsed.items() if col.year is None]
    if no_vintage and year_col is None and year is None:
        problems.append(
            Problem(
                f"columns {', '.join(no_vintage)} carry no vintage: add a year suffix "
                "(median_income_2021, DISP_MED_A21), a `year` (annee) column, or pass "
                "year=...",
                file=str(path),
                layer="indicators",
            )
        )
    records: list[dict[str, Any]] = []
    for c, col in parsed.items():
        for i, cell in enumerate(body[c]):
            v, flag = _parse_value(cell)
            where = f"{codes[i]} (line {lines[i]})"
            value = _check_cell(v, flag, cell, col, path, where, c, problems)
            if value is None:
                continue
            records.append(
                {
                    "code": codes[i],
                    "level": levels[i],
                    "indicator": col.indicator,
                    "year": col.year or row_years[i] or year,
                    "value": value,
                    "flag": flag,
                    "source_column": c,
                    "_row": i,
                    "_line": lines[i],
                }
            )
    families = [col.family for col in parsed.values()]
    return _records_table(records, problems, path, body, name_col, kept, families)


def _from_long(
    body: pd.DataFrame, lines: list[int], path: Path, source: str, year: int | None
) -> pd.DataFrame:
    code_col, name_col, year_col, level_col = _key_columns(body, path)
    ind_col = _pick(list(body.columns), ("indicator", "indicateur", "variable"))
    val_col = _pick(list(body.columns), ("value", "valeur"))
    assert ind_col is not None and val_col is not None
    flag_col = _pick(list(body.columns), ("flag", "secret"))
    problems: list[Problem] = []
    codes, levels = _codes_and_levels(body, lines, path, code_col, level_col, problems)
    records: list[dict[str, Any]] = []
    families: list[str] = []
    for i in range(len(body)):
        name = str(body[ind_col].iloc[i]).strip()
        col = _parse_column(name, source) or _Column(name, None, 1.0, "other", False)
        families.append(col.family)
        where = f"{codes[i]} (line {lines[i]})"
        vintage = col.year
        if vintage is None and year_col is not None:
            num, _ = _parse_value(body[year_col].iloc[i])
            vintage = int(num) if num is not None and not math.isnan(num) else None
        vintage = vintage or year
        if vintage is None and col.family != "other":
            problems.append(
                Problem(
                    "no vintage: fill the year (annee) column or pass year=...",
                    file=str(path),
                    layer="indicators",
                    feature=where,
                    field=year_col or ind_col,
                )
            )
        cell = body[val_col].iloc[i]
        v, flag = _parse_value(cell)
        if flag == _EMPTY_FLAG and flag_col is not None:
            given = str(body[flag_col].iloc[i]).strip().lower()
            flag = given if given in SECRECY_CODES and given else flag
        value = _check_cell(v, flag, cell, col, path, where, val_col, problems)
        if value is None:
            continue
        records.append(
            {
                "code": codes[i],
                "level": levels[i],
                "indicator": col.indicator,
                "year": vintage,
                "value": value,
                "flag": flag,
                "source_column": val_col,
                "_row": i,
                "_line": lines[i],
            }
        )
    used = {code_col, name_col, year_col, level_col, ind_col, val_col, flag_col}
    kept = [c for c in body.columns if c not in used]
    return _records_table(records, problems, path, body, name_col, kept, families)


def _records_table(
    records: list[dict[str, Any]],
    problems: list[Problem],
    path: Path,
    body: pd.DataFrame,
    name_col: str | None,
    kept: list[str],
    families: list[str],
) -> pd.DataFrame:
    """Return the table of either layout: a row per value, in file order; or raise every problem.

    `kept` columns of the file (not read as indicators) are carried along; a missing or blank
    name is None in both layouts.
    """
    if problems:
        raise DataValidationError(problems, summary=_summary(problems, path))
    out = pd.DataFrame.from_records(records, columns=_RECORD_COLUMNS)
    out = out.sort_values("_row", kind="stable")
    rows = out["_row"].to_numpy()
    if name_col:
        raw = body[name_col].astype(object)
        names = raw.where(raw.notna() & (raw.astype(str).str.strip() != ""), None)
        out.insert(1, "name", pd.Series(names.iloc[rows].to_numpy(), index=out.index, dtype=object))
    else:
        out.insert(1, "name", pd.Series(None, index=out.index, dtype=object))
    for c in kept:
        out[c] = body[c].iloc[rows].to_numpy()
    out.attrs["families"] = families
    return _finish(out)


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    attrs = dict(out.attrs)
    out = out.reset_index(drop=True)
    out["year"] = out["year"].astype("Int64")
    out["value"] = out["value"].astype(float)
    out["flag"] = out["flag"].astype(object).where(out["flag"].notna(), None)
    out.attrs.update(attrs)
    return out


def _summary(problems: list[Problem], path: Path) -> str:
    n = len(problems)
    return f"{n} problem{'s' if n > 1 else ''} in indicator table {path}:"


def _check_duplicates(table: pd.DataFrame, path: Path | None) -> None:
    key = ["code", "indicator", "year"]
    dup = table[table.duplicated(key, keep=False)]
    if dup.empty:
        return
    problems = []
    for (code, ind, yr), grp in dup.groupby(key, sort=True, dropna=False):
        places = []
        for _, r in grp.iterrows():
            bits = [f"file {r['_file']}"] if isinstance(r.get("_file"), str) else []
            bits += [f"line {r['_line']}"] if "_line" in r else []
            bits += [f"column {r.get('source_column')}"]
            places.append(" ".join(bits))
        problems.append(
            Problem(
                f"code {code} has {len(grp)} values of {ind} for vintage {yr} "
                f"({'; '.join(places)}); keep one value per code, indicator and vintage",
                file=str(path) if path else None,
                layer="indicators",
                feature=str(code),
                field=str(ind),
            )
        )
    raise DataValidationError(problems)


def check_codes(table: pd.DataFrame, quartiers: gpd.GeoDataFrame) -> None:
    """Raise if QPV codes of an indicator table match no quartier of the layer.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`read_indicators`.
    quartiers : geopandas.GeoDataFrame
        The ``quartiers`` layer.

    Raises
    ------
    DataValidationError
        Listing the unmatched codes and the codes of the layer.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"code": ["QN00272M"], "name": ["Saint-Crépin"]},
    ...                      geometry=[box(0, 0, 1, 1)], crs=2154)
    >>> t = pd.DataFrame({"code": ["QN00272M", "QN00999X"], "level": ["qpv", "qpv"]})
    >>> check_codes(t, q)
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.DataValidationError: 1 problem found:
      - ...: QPV codes QN00999X match no quartier ...
    """
    q = (
        quartiers
        if quartiers.attrs.get("kind") == "quartiers"
        else validate(quartiers, "quartiers")
    )
    known = set(q["code"])
    qpv_codes = table.loc[table["level"] == "qpv", "code"]
    unknown = sorted(set(qpv_codes) - known)
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
                f"{', '.join(sorted(known))}); correct the codes or add the quartiers.{hint}",
                file=table.attrs.get("source"),
                layer="indicators",
                field="code",
            )
        ]
    )


# --- tables ------------------------------------------------------------------------------------


def _concat(tables: pd.DataFrame | Iterable[pd.DataFrame]) -> pd.DataFrame:
    if isinstance(tables, pd.DataFrame):
        return tables
    frames = list(tables)
    if not frames:
        raise CdvGeoError("no indicator table given")
    out = pd.concat([f.assign(_file=f.attrs.get("source")) for f in frames], ignore_index=True)
    _check_duplicates(out, None)
    return out.drop(columns="_file")


def pivot_indicators(
    table: pd.DataFrame, *, year: int | None = None, level: str | None = None
) -> pd.DataFrame:
    """Wide table: one row per code, one column per indicator (missing stays NaN, never 0).

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy table from :func:`read_indicators`.
    year : int, optional
        Vintage to show; by default the latest vintage of each code and indicator.
    level : str, optional
        Keep only this level (``"qpv"``...).

    Examples
    --------
    >>> t = pd.DataFrame({"code": ["A", "A", "A"], "level": "qpv",
    ...                   "indicator": ["median_income", "median_income", "gini"],
    ...                   "year": [2017, 2021, 2021], "value": [11000.0, 12000.0, float("nan")]})
    >>> pivot_indicators(t)
    indicator  gini  median_income
    code
    A           NaN        12000.0
    """
    t = table if level is None else table[table["level"] == level]
    if year is not None:
        t = t[t["year"] == year]
    else:
        t = t.sort_values("year").groupby(["code", "indicator"], sort=False).tail(1)
    return t.pivot(index="code", columns="indicator", values="value")


def _references(
    table: pd.DataFrame, levels: Sequence[str], codes: Mapping[str, str] | None
) -> dict[str, str]:
    """Return the reference code of each level (the only one present, or the one in `codes`)."""
    out: dict[str, str] = {}
    for lv in levels:
        present = sorted(set(table.loc[table["level"] == lv, "code"]))
        if codes and lv in codes:
            if codes[lv] not in present:
                raise DataValidationError(
                    [
                        Problem(
                            f"reference {lv} {codes[lv]!r} is not in the table (its {lv} codes "
                            f"are {', '.join(present) or 'none'})",
                            layer="indicators",
                            file=table.attrs.get("source"),
                            field="code",
                        )
                    ]
                )
            out[lv] = codes[lv]
        elif len(present) == 1:
            out[lv] = present[0]
        elif len(present) > 1:
            raise CdvGeoError(
                f"the table holds several {lv} codes ({', '.join(present)}); say which one is "
                f"the reference with reference_codes={{'{lv}': '...'}}"
            )
    return out


def _disadvantage(indicator: str, gap: Any) -> Any:
    """Gap oriented so that positive means the quartier is worse off (NaN when unknown)."""
    info = INDICATORS.get(indicator)
    if info is None:
        return np.nan
    return -gap if info.higher_is_better else gap


def compare_indicators(
    table: pd.DataFrame | Iterable[pd.DataFrame],
    *,
    reference: Sequence[str] | str = ("commune", "epci", "france"),
    reference_codes: Mapping[str, str] | None = None,
    year: int | None = None,
) -> pd.DataFrame:
    """Gap of each quartier to the town, the EPCI and France, and whether it narrowed.

    For each QPV, indicator, vintage and reference level: ``gap = value - reference_value``,
    ``ratio = value / reference_value``, and ``disadvantage``, the gap oriented by the
    indicator's direction (positive: the quartier is worse off). When the table holds an
    earlier vintage, ``narrowed`` says whether ``|gap|`` shrank since it.

    Parameters
    ----------
    table : pandas.DataFrame or iterable of DataFrame
        Tidy table(s) from :func:`read_indicators` (several files are concatenated).
    reference : str or sequence of str, default ("commune", "epci", "france")
        Reference levels, skipped when absent from the table.
    reference_codes : mapping, optional
        Reference code per level when the table holds several (``{"commune": "02722"}``).
    year : int, optional
        Keep only this vintage (``narrowed`` then stays missing).

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``indicator``, ``year``, ``value``, ``reference``,
        ``reference_code``, ``reference_value``, ``gap``, ``ratio``, ``disadvantage``,
        ``worse_off`` (bool, missing when unknown), ``previous_year``, ``previous_gap``,
        ``narrowed``.

    Examples
    --------
    >>> t = pd.DataFrame({
    ...     "code": ["Q1", "Q1", "02722", "02722"], "name": None,
    ...     "level": ["qpv", "qpv", "commune", "commune"],
    ...     "indicator": "poverty_rate", "year": [2017, 2021, 2017, 2021],
    ...     "value": [0.45, 0.40, 0.25, 0.24]})
    >>> c = compare_indicators(t)
    >>> c[["year", "gap", "ratio", "worse_off", "narrowed"]].round(3)
       year   gap  ratio  worse_off  narrowed
    0  2017  0.20  1.800       True      <NA>
    1  2021  0.16  1.667       True      True
    """
    t = _concat(table)
    levels = [reference] if isinstance(reference, str) else list(reference)
    refs = _references(t, levels, reference_codes)
    if year is not None:
        t = t[t["year"] == year]
    q = t[t["level"] == "qpv"][["code", "name", "indicator", "year", "value"]]
    frames = []
    for lv, rcode in refs.items():
        r = t[t["code"] == rcode][["indicator", "year", "value"]].rename(
            columns={"value": "reference_value"}
        )
        m = q.merge(r, on=["indicator", "year"], how="left")
        m.insert(5, "reference", lv)
        m.insert(6, "reference_code", rcode)
        frames.append(m)
    cols = [
        "code",
        "name",
        "indicator",
        "year",
        "value",
        "reference",
        "reference_code",
        "reference_value",
    ]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    out["gap"] = out["value"] - out["reference_value"]
    out["ratio"] = out["value"] / out["reference_value"].where(out["reference_value"] != 0)
    out["disadvantage"] = [
        _disadvantage(i, g) for i, g in zip(out["indicator"], out["gap"], strict=True)
    ]
    out["worse_off"] = pd.array(
        [pd.NA if pd.isna(d) else bool(d > 0) for d in out["disadvantage"]], dtype="boolean"
    )
    out = out.sort_values(["code", "indicator", "reference", "year"], kind="stable")
    prev = out.groupby(["code", "indicator", "reference"], sort=False)
    out["previous_year"] = prev["year"].shift(1)
    out["previous_gap"] = prev["gap"].shift(1)
    out["narrowed"] = pd.array(
        [
            pd.NA if pd.isna(g) or pd.isna(pg) else bool(abs(g) < abs(pg))
            for g, pg in zip(out["gap"], out["previous_gap"], strict=True)
        ],
        dtype="boolean",
    )
    out["previous_year"] = out["previous_year"].astype("Int64")
    order = {lv: k for k, lv in enumerate(levels)}
    out["_o"] = out["reference"].map(order)
    return (
        out.sort_values(["code", "indicator", "_o", "year"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def indicator_trend(
    tables: pd.DataFrame | Iterable[pd.DataFrame],
    *,
    reference: str = "commune",
    reference_codes: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Change of every indicator between consecutive vintages, and of its gap to the town.

    Parameters
    ----------
    tables : pandas.DataFrame or iterable of DataFrame
        Tidy tables from :func:`read_indicators` (e.g. one per vintage); a code may not carry
        two values of one indicator for one vintage.
    reference : str, default "commune"
        Level of the reference for the gap (``"epci"``, ``"france"``...).
    reference_codes : mapping, optional
        Reference code per level, when the table holds several.

    Returns
    -------
    pandas.DataFrame
        One row per code, indicator and pair of consecutive vintages: ``code``, ``name``,
        ``level``, ``indicator``, ``year_from``, ``year_to``, ``value_from``, ``value_to``,
        ``change``, ``change_per_year``, ``improved`` (by the indicator's direction; missing
        when unknown or unchanged), ``gap_from``, ``gap_to`` (to the reference, for QPV rows),
        ``gap_narrowed`` (``|gap|`` shrank). Vintages compare only when the definitions and
        perimeters are stable (QPV perimeters changed in 2024: check the codes).

    Examples
    --------
    >>> t = pd.DataFrame({
    ...     "code": ["Q1", "Q1", "02722", "02722"], "name": None,
    ...     "level": ["qpv", "qpv", "commune", "commune"],
    ...     "indicator": "median_income", "year": [2017, 2021, 2017, 2021],
    ...     "value": [11000.0, 12200.0, 19000.0, 20000.0]})
    >>> tr = indicator_trend(t)
    >>> tr.loc[tr["code"] == "Q1", ["change_per_year", "improved", "gap_to", "gap_narrowed"]]
       change_per_year  improved  gap_to  gap_narrowed
    0            300.0      True -7800.0          True
    """
    t = _concat(tables)
    refs = _references(t, [reference], reference_codes)
    t = t.sort_values(["code", "indicator", "year"], kind="stable")
    cols = [
        "code",
        "name",
        "level",
        "indicator",
        "year_from",
        "year_to",
        "value_from",
        "value_to",
        "change",
        "change_per_year",
        "improved",
        "gap_from",
        "gap_to",
        "gap_narrowed",
    ]
    g = t.groupby(["code", "indicator"], sort=False)
    out = t[["code", "name", "level", "indicator"]].copy()
    out["year_from"], out["year_to"] = g["year"].shift(1), t["year"]
    out["value_from"], out["value_to"] = g["value"].shift(1), t["value"]
    out = out[out["year_from"].notna()].copy()
    if out.empty:
        return pd.DataFrame(columns=cols)
    out["change"] = out["value_to"] - out["value_from"]
    span = (out["year_to"] - out["year_from"]).astype(float)
    out["change_per_year"] = out["change"] / span.where(span > 0)
    out["improved"] = pd.array(
        [
            pd.NA
            if i not in INDICATORS or pd.isna(c) or c == 0
            else bool((c > 0) == INDICATORS[i].higher_is_better)
            for i, c in zip(out["indicator"], out["change"], strict=True)
        ],
        dtype="boolean",
    )
    if refs:
        r = t[t["code"] == refs[reference]].set_index(["indicator", "year"])["value"]

        def ref(ind: str, yr: Any) -> float:
            return float(r.get((ind, yr), np.nan))

        is_q = (out["level"] == "qpv").to_numpy()
        out["gap_from"] = [
            v - ref(i, y) if q else np.nan
            for v, i, y, q in zip(
                out["value_from"], out["indicator"], out["year_from"], is_q, strict=True
            )
        ]
        out["gap_to"] = [
            v - ref(i, y) if q else np.nan
            for v, i, y, q in zip(
                out["value_to"], out["indicator"], out["year_to"], is_q, strict=True
            )
        ]
    else:
        out["gap_from"] = out["gap_to"] = np.nan
    out["gap_narrowed"] = pd.array(
        [
            pd.NA if pd.isna(a) or pd.isna(b) else bool(abs(b) < abs(a))
            for a, b in zip(out["gap_from"], out["gap_to"], strict=True)
        ],
        dtype="boolean",
    )
    out["year_from"] = out["year_from"].astype("Int64")
    out["year_to"] = out["year_to"].astype("Int64")
    out["_o"] = out["level"].map({lv: k for k, lv in enumerate(LEVELS)})
    out = out.sort_values(["_o", "code", "indicator", "year_from"], kind="stable")
    return out[cols].reset_index(drop=True)


# --- Gini --------------------------------------------------------------------------------------


def _array(values: Any, what: str) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataValidationError([Problem(f"{what} must be numbers: {exc}", field=what)]) from exc
    if a.ndim != 1:
        raise DataValidationError([Problem(f"{what} must be one-dimensional", field=what)])
    if a.size == 0:
        raise DataValidationError([Problem(f"{what} is empty", field=what)])
    if not np.isfinite(a).all():
        raise DataValidationError(
            [
                Problem(
                    f"{what} holds {int((~np.isfinite(a)).sum())} missing or infinite "
                    "value(s); drop them first (e.g. values[~np.isnan(values)])",
                    field=what,
                )
            ]
        )
    return a


def gini(values: Any, weights: Any = None) -> float:
    r"""Exact Gini index of individual (optionally weighted) data.

    With the values sorted, :math:`x_1 \le \dots \le x_n`, weights :math:`w_i`,
    :math:`W = \sum w_i` and the cumulated incomes :math:`S_i = \sum_{k \le i} w_k x_k`:

    .. math:: G = 1 - \frac{1}{W S_n} \sum_i w_i (S_{i-1} + S_i)

    which is one minus twice the area under the Lorenz curve, and equals the mean absolute
    difference :math:`\sum_i \sum_j w_i w_j |x_i - x_j| / (2 W^2 \bar{x})`. An integer
    weight is exactly equivalent to repeating the value. No small-sample correction
    (:math:`n / (n - 1)`) is applied, as in INSEE's publications.

    Parameters
    ----------
    values : array-like
        Incomes (or any non-negative quantity); their total must be positive.
    weights : array-like, optional
        Non-negative weights (e.g. persons per household, survey weights).

    Returns
    -------
    float
        In [0, 1) for non-negative values.

    Raises
    ------
    DataValidationError
        Empty input, missing values, negative weights, or a total that is not positive.

    References
    ----------
    Gini, C. (1912). *Variabilità e mutabilità*. Lerman, R. I. & Yitzhaki, S. (1989).
    Improving the accuracy of estimates of Gini coefficients. *Journal of Econometrics*, 42(1).

    Examples
    --------
    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 10])  # one person holds everything: (n - 1) / n
    0.75
    >>> gini([1, 2], weights=[2, 1]) == gini([1, 1, 2])
    True
    """
    x = _array(values, "values")
    w = np.ones_like(x) if weights is None else _array(weights, "weights")
    if w.shape != x.shape:
        raise DataValidationError(
            [Problem(f"weights ({w.size}) and values ({x.size}) differ in length", field="weights")]
        )
    if (w < 0).any():
        raise DataValidationError([Problem("weights must be >= 0", field="weights")])
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = np.cumsum(w * x)
    total_w, total = float(w.sum()), float(cum[-1])
    if total_w <= 0 or total <= 0:
        raise DataValidationError(
            [
                Problem(
                    "the total (weighted) value must be positive to compute a Gini index",
                    field="values",
                )
            ]
        )
    prev = np.concatenate(([0.0], cum[:-1]))
    g = 1.0 - float(np.sum(w * (prev + cum))) / (total_w * total)
    return max(g, 0.0) if abs(g) < 1e-12 else g


def gini_from_grouped(
    shares: Any = None,
    *,
    thresholds: Any = None,
    population: Any = None,
) -> float:
    r"""Approximate Gini index from grouped data (income shares or decile thresholds).

    **An approximation.** Where INSEE publishes the Gini (``DISP_GI``), use the published
    value (:func:`read_indicators` reads it as ``gini``); this function is for areas where
    only grouped data exist (see :func:`estimate_missing_gini`).

    - From **income shares** of ordered population groups (e.g. the share of total income
      held by each tenth of the population, poorest first), the Lorenz curve is drawn as
      straight lines through the points :math:`(P_k, L_k)` and
      :math:`G = 1 - \sum_k (P_k - P_{k-1})(L_k + L_{k-1})`. Inequality *within* each group
      is ignored, so the result **underestimates** the Gini (a lower bound).
    - From the nine **decile thresholds** D1…D9 (what Filosofi publishes), the mean income of
      each tenth is approximated: the midpoint of its two thresholds for the eight middle
      tenths, :math:`D1 \sqrt{D1/D2}` for the first (the spacing of the deciles continued
      geometrically), and for the top tenth a Pareto tail through D8 and D9
      (:math:`\alpha = \ln 2 / \ln(D9/D8)`, mean :math:`\alpha D9 / (\alpha - 1)`); the
      resulting shares go through the formula above. On unimodal income distributions
      (lognormal, gamma, Pareto) the error is about 0.01 to 0.02; it is larger for a mixed
      (bimodal) population, as a QPV next to a wealthy quartier within one area can be.

    Parameters
    ----------
    shares : array-like, optional
        Income share of each group, poorest first (summing to 1, or to 100).
    thresholds : array-like, optional
        The nine decile thresholds D1…D9, increasing (instead of `shares`).
    population : array-like, optional
        Population share of each group (default: equal groups).

    Returns
    -------
    float

    References
    ----------
    Gastwirth, J. L. (1972). The estimation of the Lorenz curve and Gini index. *Review of
    Economics and Statistics*, 54(3), 306-316.

    Examples
    --------
    >>> round(gini_from_grouped([0.1] * 10), 6)
    0.0
    >>> round(gini_from_grouped([0.0, 1.0], population=[0.5, 0.5]), 3)
    0.5
    >>> d = [9000, 10500, 11800, 13000, 14300, 15700, 17400, 19800, 24000]
    >>> round(gini_from_grouped(thresholds=d), 3)
    0.224
    """
    if (shares is None) == (thresholds is None):
        raise CdvGeoError("give either shares or thresholds= (not both, not neither)")
    if thresholds is not None:
        shares = _shares_from_thresholds(_array(thresholds, "thresholds"))
    s = _array(shares, "shares")
    if (s < 0).any():
        raise DataValidationError([Problem("income shares must be >= 0", field="shares")])
    total = s.sum()
    if abs(total - 100) < 1e-6 * 100:
        s = s / 100
    elif abs(total - 1) > 1e-6:
        raise DataValidationError(
            [
                Problem(
                    f"income shares sum to {total:g}; they must sum to 1 (or 100)", field="shares"
                )
            ]
        )
    pop = np.full(s.size, 1 / s.size) if population is None else _array(population, "population")
    if pop.size != s.size or (pop < 0).any() or abs(pop.sum() - 1) > 1e-6:
        raise DataValidationError(
            [
                Problem(
                    "population shares must be >= 0, one per group, and sum to 1",
                    field="population",
                )
            ]
        )
    cum_p = np.concatenate(([0.0], np.cumsum(pop)))
    cum_l = np.concatenate(([0.0], np.cumsum(s)))
    return float(1.0 - np.sum(np.diff(cum_p) * (cum_l[1:] + cum_l[:-1])))


def _shares_from_thresholds(d: np.ndarray) -> np.ndarray:
    if d.size != 9 or (np.diff(d) <= 0).any() or d[0] <= 0:
        raise DataValidationError(
            [
                Problem(
                    "thresholds must be the nine increasing, positive deciles D1..D9",
                    field="thresholds",
                )
            ]
        )
    alpha = math.log(2) / math.log(d[8] / d[7])
    if alpha <= 1:
        raise DataValidationError(
            [
                Problem(
                    f"D9/D8 = {d[8] / d[7]:.2f} implies a Pareto tail with infinite mean; the "
                    "grouped approximation does not apply",
                    field="thresholds",
                )
            ]
        )
    means = np.empty(10)
    means[0] = d[0] * math.sqrt(d[0] / d[1])  # geometric extrapolation below D1
    means[1:9] = (d[:-1] + d[1:]) / 2
    means[9] = alpha * d[8] / (alpha - 1)  # Pareto tail through D8 and D9
    return means / means.sum()


def estimate_missing_gini(table: pd.DataFrame) -> pd.DataFrame:
    """Add a Gini estimated from the deciles where no Gini is published (flag ``"estimated"``).

    The published Gini is kept as is wherever it exists, *including* where it is secret
    (``flag`` ``"s"``: secret data must not be re-derived). Elsewhere, when ``income_d1`` …
    ``income_d9`` are all known, a row ``gini`` with :func:`gini_from_grouped` (thresholds) is
    added, its ``flag`` set to ``"estimated"``.

    Examples
    --------
    >>> d = [9000, 10500, 11800, 13000, 14300, 15700, 17400, 19800, 24000]
    >>> t = pd.DataFrame({"code": "Q1", "name": None, "level": "qpv",
    ...                   "indicator": [f"income_d{k}" for k in range(1, 10)], "year": 2021,
    ...                   "value": [float(v) for v in d], "flag": None})
    >>> out = estimate_missing_gini(t)
    >>> out.loc[out["indicator"] == "gini", ["value", "flag"]].round(3)
       value       flag
    9  0.224  estimated
    """
    have = set(map(tuple, table.loc[table["indicator"] == "gini", ["code", "year"]].to_numpy()))
    dec = table[table["indicator"].isin([f"income_d{k}" for k in range(1, 10)])]
    rows = []
    for (code, yr), grp in dec.groupby(["code", "year"], sort=True):
        vals = grp.set_index("indicator")["value"]
        if (code, yr) in have or len(vals) != 9 or vals.isna().any():
            continue
        d = [float(vals[f"income_d{k}"]) for k in range(1, 10)]
        first = grp.iloc[0]
        rows.append(
            {
                **first.to_dict(),
                "indicator": "gini",
                "flag": "estimated",
                "value": gini_from_grouped(thresholds=d),
                "source_column": None,
            }
        )
    if not rows:
        return table.copy()
    out = pd.concat([table, pd.DataFrame(rows)], ignore_index=True)
    out.attrs.update(table.attrs)
    return out


# --- gridded income (Filosofi 200 m) ------------------------------------------------------------

#: Ratios computed after summing the counts: name -> (numerator, denominator).
DEFAULT_GRID_RATIOS: dict[str, tuple[str, str]] = {
    "mean_living_standard": ("ind_snv", "ind"),
    "poor_household_share": ("men_pauv", "men"),
}
_IDCAR = re.compile(r"CRS(\d+)RES(\d+)mN(\d+)E(\d+)", re.IGNORECASE)


def read_grid(path: str | os.PathLike[str], *, layer: str | None = None) -> gpd.GeoDataFrame:
    r"""Read an INSEE Filosofi grid (GeoPackage/shapefile, or CSV with ``idcar_200m`` codes).

    Column names are lower-cased (older vintages capitalise them: ``Ind``, ``Men_pauv``). A
    table without geometry is given its squares from the ``idcar_200m`` code
    (``CRS3035RES200mN2957400E3787800``: lower-left corner, EPSG:3035).

    Raises
    ------
    DataValidationError
        Naming the file when it has no CRS, or neither geometry nor ``idcar_200m``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "filo.csv"
    >>> _ = p.write_text("Idcar_200m;Ind;Men\nCRS3035RES200mN2957400E3787800;52,5;20\n")
    >>> g = read_grid(p)
    >>> g.crs.to_epsg(), list(g.columns), g.geometry.iloc[0].bounds
    (3035, ['idcar_200m', 'ind', 'men', 'geometry'], (3787800.0, 2957400.0, 3788000.0, 2957600.0))
    """
    p = Path(path)
    if not p.exists():
        raise DataValidationError([Problem("file does not exist", file=str(p), layer="grid")])
    if p.suffix.lower() in (".csv", ".txt"):
        cells = _read_text_table(p, ("idcar_200m", "idcar_1km", "idcar_nat"))
        head = [str(v).strip() for v in cells.iloc[0]]
        df = cells.iloc[1:].set_axis(head, axis=1).reset_index(drop=True)
        return _grid_from_ids(df, str(p))
    try:
        g = gpd.read_file(p, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise DataValidationError(
            [Problem(f"cannot read the grid: {exc}", file=str(p), layer="grid")]
        ) from exc
    g = g.rename(columns={c: c.lower() for c in g.columns if c != g.geometry.name})
    g.attrs["source"] = str(p)
    if g.crs is None:
        raise DataValidationError(
            [
                Problem(
                    "the grid has no coordinate reference system; INSEE grids are in "
                    "EPSG:3035 (ETRS89-LAEA): set it, e.g. grid.set_crs(3035), or add the .prj",
                    file=str(p),
                    layer="grid",
                    field="geometry",
                )
            ]
        )
    return g


def _grid_from_ids(df: pd.DataFrame, source: str) -> gpd.GeoDataFrame:
    df = df.rename(columns={c: c.lower().strip() for c in df.columns})
    col = next((c for c in df.columns if c.startswith("idcar_")), None)
    if col is None:
        raise DataValidationError(
            [
                Problem(
                    "the table has no geometry and no idcar_200m column to rebuild the squares",
                    file=source,
                    layer="grid",
                )
            ]
        )
    geoms: list[Any] = []
    crs: int | None = None
    problems: list[Problem] = []
    for i, code in enumerate(df[col]):
        m = _IDCAR.search(str(code))
        if m is None:
            problems.append(
                Problem(
                    f"{code!r} is not an INSEE square code (CRS3035RES200mN…E…)",
                    file=source,
                    layer="grid",
                    feature=f"line {i + 2}",
                    field=col,
                )
            )
            geoms.append(None)
            continue
        epsg, res, n, e = (int(v) for v in m.groups())
        crs = crs or epsg
        geoms.append(shapely.box(e, n, e + res, n + res))
    if problems:
        raise DataValidationError(problems)
    g = gpd.GeoDataFrame(df, geometry=geoms, crs=crs)
    g.attrs["source"] = source
    return g


def _grid_values(grid: gpd.GeoDataFrame, cols: Sequence[str], source: str) -> pd.DataFrame:
    """Numeric columns of the grid; secrecy codes -> NaN; other text -> error (cell, column)."""
    lower = {str(c).lower(): c for c in grid.columns}
    missing = [c for c in cols if c.lower() not in lower]
    if missing:
        avail = [c for c in lower if c != "geometry"]
        raise DataValidationError(
            [
                Problem(
                    f"grid has no column {', '.join(missing)}; it has {', '.join(avail)}",
                    file=source,
                    layer="grid",
                    field=missing[0],
                )
            ]
        )
    ident = next((lower[c] for c in lower if c.startswith("idcar_")), None)
    out: dict[str, np.ndarray] = {}
    problems: list[Problem] = []
    for c in cols:
        series = grid[lower[c.lower()]]
        if pd.api.types.is_numeric_dtype(series):
            out[c] = series.to_numpy(dtype=float)
            continue
        vals = np.empty(len(series))
        for i, cell in enumerate(series):
            v, _ = _parse_value(cell)
            if v is None:
                cid = grid[ident].iloc[i] if ident else f"#{i + 1}"
                problems.append(
                    Problem(
                        f"{cell!r} is not a number",
                        file=source,
                        layer="grid",
                        feature=str(cid),
                        field=c,
                    )
                )
                v = np.nan
            vals[i] = v
        out[c] = vals
    if problems:
        raise DataValidationError(problems)
    return pd.DataFrame(out, index=grid.index)


def _pieces(
    grid: gpd.GeoDataFrame, q: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cell position, quartier position, intersection area) of every overlapping pair."""
    qi, gi = grid.sindex.query(q.geometry, predicate="intersects")
    areas = shapely.area(
        shapely.intersection(grid.geometry.to_numpy()[gi], q.geometry.to_numpy()[qi])
    )
    keep = areas > 0
    return gi[keep], qi[keep], areas[keep]


def _residence_weights(
    residences: gpd.GeoDataFrame,
    field: str,
    grid: gpd.GeoDataFrame,
    q: gpd.GeoDataFrame,
    gi: np.ndarray,
    qi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Dwellings of each (cell, quartier) piece and of each whole cell."""
    res = (
        residences
        if residences.attrs.get("kind") == "residences"
        else validate(residences, "residences")
    )
    if field not in res.columns or res[field].isna().all():
        raise DataValidationError(
            [
                Problem(
                    f"residences have no {field!r} to weigh the grid with",
                    layer="residences",
                    field=field,
                    file=res.attrs.get("source"),
                )
            ]
        )
    pts = res.to_crs(q.crs).geometry.representative_point().to_numpy()
    w = res[field].astype(float).fillna(0.0).to_numpy()
    cell_of = np.full(len(pts), -1)
    pi, ci = grid.sindex.query(pts, predicate="within")
    cell_of[pi] = ci
    quart_of = np.full(len(pts), -1)
    pi2, qj = q.sindex.query(pts, predicate="within")
    quart_of[pi2] = qj
    per_cell = np.bincount(cell_of[cell_of >= 0], weights=w[cell_of >= 0], minlength=len(grid))
    pair = pd.Series(w).groupby([cell_of, quart_of]).sum()
    per_piece = np.array([float(pair.get((g, j), 0.0)) for g, j in zip(gi, qi, strict=True)])
    return per_piece, per_cell


def interpolate_grid(
    grid: gpd.GeoDataFrame | str | os.PathLike[str],
    quartiers: gpd.GeoDataFrame,
    *,
    extensive: Sequence[str] = ("ind", "men", "men_pauv", "ind_snv", "log_soc"),
    intensive: Sequence[str] = (),
    ratios: Mapping[str, tuple[str, str]] | None = None,
    residences: gpd.GeoDataFrame | None = None,
    weight: str = "dwellings",
    crs: Any = None,
) -> pd.DataFrame:
    r"""Carry INSEE Filosofi 200 m squares (or any grid) over to the quartiers.

    **Area weighting** (default), as :func:`tobler.area_weighted.area_interpolate` with
    ``allocate_total=False``: with :math:`a_{ij}` the area of square *i* inside quartier *j*
    and :math:`a_i` the area of the square,

    - extensive counts (people, households, sums of income): :math:`v_j = \sum_i v_i a_{ij}/a_i`;
    - intensive values (already averages): :math:`v_j = \sum_i v_i a_{ij} / \sum_i a_{ij}`,
      over the squares where the value is known.

    **Dwelling weighting** (`residences` given): :math:`a_{ij}` is replaced by the dwellings of
    the residences (by their representative point) in square *i* and quartier *j*, and
    :math:`a_i` by those of the whole square; squares without any residence fall back to area
    weighting (with a warning). This follows where people live instead of spreading them over
    parks and car parks.

    **Ratios** (`ratios`) are computed *after* summing their extensive numerator and
    denominator — ``mean_living_standard = ind_snv / ind`` (€ per person per year),
    ``poor_household_share = men_pauv / men`` — never by averaging the squares' ratios.

    Parameters
    ----------
    grid : geopandas.GeoDataFrame or path
        The squares (any CRS; read with :func:`read_grid` when a path). Column names are
        matched case-insensitively (older vintages capitalise them).
    quartiers : geopandas.GeoDataFrame
        The ``quartiers`` layer.
    extensive, intensive : sequence of str
        Columns to sum (counts) and to average. A square whose count is missing (secret) makes
        the sum of every quartier it touches missing, never silently smaller.
    ratios : mapping, optional
        ``{name: (numerator, denominator)}`` among `extensive`; default
        :data:`DEFAULT_GRID_RATIOS` restricted to those whose columns are summed.
    residences : geopandas.GeoDataFrame, optional
        Weigh by dwellings (or the `weight` field) instead of area.
    weight : str, default "dwellings"
        The residences field used as weight (``"population"`` also works).
    crs : optional
        Metric CRS of the areas (EPSG:2154 in metropolitan France by default).

    Returns
    -------
    pandas.DataFrame
        Indexed by quartier ``id``: ``code``, ``name``, the extensive and intensive columns, the
        ratios, ``cells`` (squares touching the quartier) and ``covered_share`` (share of the
        quartier's area covered by squares; Filosofi has squares only where people live).

    Raises
    ------
    DataValidationError
        A grid without CRS (naming the file), a missing column, a non-numeric cell (naming the
        square and the column), a ratio whose columns are not summed.

    References
    ----------
    INSEE (2023). *Revenus, pauvreté et niveau de vie en 2019 - données carroyées*, documentation
    (carreaux de 200 m). Goodchild, M. F. & Lam, N. S.-N. (1980). Areal interpolation: a variant
    of the traditional spatial problem. *Geo-Processing*, 1, 297-312.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 728_000, 6_920_000
    >>> cells = gpd.GeoDataFrame({"Ind": [100, 50], "Men": [40, 20], "Men_pauv": [10, 2],
    ...                           "Ind_snv": [1.5e6, 1.0e6]},
    ...                          geometry=[box(x, y, x + 200, y + 200),
    ...                                    box(x + 200, y, x + 400, y + 200)], crs=2154)
    >>> q = gpd.GeoDataFrame({"id": ["w"], "code": ["Q1"], "name": ["Ouest"]},
    ...                      geometry=[box(x, y, x + 300, y + 200)], crs=2154)
    >>> out = interpolate_grid(cells, q, extensive=["ind", "men", "men_pauv", "ind_snv"])
    >>> out[["ind", "men", "men_pauv", "mean_living_standard", "poor_household_share"]]
          ind   men  men_pauv  mean_living_standard  poor_household_share
    id
    w   125.0  50.0      11.0               16000.0                  0.22
    """
    if isinstance(grid, str | os.PathLike):
        grid = read_grid(grid)
    source = str(grid.attrs.get("source") or "grid")
    if grid.crs is None:
        raise DataValidationError(
            [
                Problem(
                    "the grid has no coordinate reference system; INSEE grids are in "
                    "EPSG:3035 (ETRS89-LAEA): set it with grid.set_crs(3035)",
                    file=source,
                    layer="grid",
                    field="geometry",
                )
            ]
        )
    quart = (
        quartiers
        if quartiers.attrs.get("kind") == "quartiers"
        else validate(quartiers, "quartiers")
    )
    ext, inten = [c.lower() for c in extensive], [c.lower() for c in intensive]
    rat = _ratios(ratios, ext, source)
    # A national grid has millions of squares: keep those near the quartiers before reprojecting.
    minx, miny, maxx, maxy = quart.to_crs(grid.crs).total_bounds
    grid = grid.cx[minx - 1 : maxx + 1, miny - 1 : maxy + 1]
    values = _grid_values(grid, [*ext, *inten], source)
    target = choose_metric_crs(quart, crs)
    q = quart.to_crs(target).reset_index(drop=True)
    g = grid.to_crs(target).reset_index(drop=True)
    values = values.reset_index(drop=True)
    gi, qi, a = _pieces(g, q)
    cell_area = shapely.area(g.geometry.to_numpy())
    w_ext = a / cell_area[gi]
    w_int = a
    if residences is not None:
        piece_dw, cell_dw = _residence_weights(residences, weight, g, q, gi, qi)
        inhabited = cell_dw[gi] > 0
        empty = sorted(set(gi[~inhabited]))
        if empty:
            warnings.warn(
                f"{len(empty)} grid square(s) hold no residence with {weight}; they are "
                "weighted by area instead.",
                CdvGeoWarning,
                stacklevel=2,
            )
        w_ext = np.where(inhabited, piece_dw / np.where(inhabited, cell_dw[gi], 1.0), w_ext)
        q_has = pd.Series(piece_dw).groupby(qi).sum().reindex(range(len(q)), fill_value=0)
        w_int = np.where(q_has.to_numpy()[qi] > 0, piece_dw, a)
    n = len(q)
    out = pd.DataFrame(index=pd.Index(q["id"], name="id"))
    out["code"], out["name"] = q["code"].to_numpy(), q["name"].to_numpy()
    nan_hits: list[str] = []
    for c in ext:
        v = values[c].to_numpy()[gi]
        contrib = v * w_ext
        s = np.bincount(qi, weights=np.nan_to_num(contrib), minlength=n)
        bad = np.bincount(qi, weights=(np.isnan(v) & (w_ext > 0)).astype(float), minlength=n) > 0
        if bad.any():
            nan_hits.append(f"{c} ({', '.join(q['code'][bad])})")
        out[c] = np.where(bad, np.nan, s)
    for c in inten:
        v = values[c].to_numpy()[gi]
        ok = ~np.isnan(v)
        num = np.bincount(qi[ok], weights=v[ok] * w_int[ok], minlength=n)
        den = np.bincount(qi[ok], weights=w_int[ok], minlength=n)
        out[c] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    if nan_hits:
        warnings.warn(
            f"{source}: squares with a missing (secret) count touch some quartiers, whose sums "
            f"are left missing: {'; '.join(nan_hits)}. Fill the squares (e.g. with 0) only if "
            "you accept the undercount.",
            CdvGeoWarning,
            stacklevel=2,
        )
    for name, (num_col, den_col) in rat.items():
        den_v = out[den_col].where(out[den_col] > 0)
        out[name] = out[num_col] / den_v
    out["cells"] = np.bincount(qi, minlength=n).astype(int)
    covered = np.bincount(qi, weights=a, minlength=n)
    out["covered_share"] = covered / shapely.area(q.geometry.to_numpy())
    uncovered = out["cells"].to_numpy() == 0
    if uncovered.any():
        # no square at all is more likely a grid that misses the quartier than nobody living there
        out.loc[uncovered, [*ext, *inten, *rat]] = np.nan
        warnings.warn(
            f"{source}: no grid square touches quartier(s) "
            f"{', '.join(q['code'][uncovered])}; their values are left missing. Check that the "
            "grid covers them (right département, right file).",
            CdvGeoWarning,
            stacklevel=2,
        )
    return out


def _ratios(
    ratios: Mapping[str, tuple[str, str]] | None, ext: Sequence[str], source: str
) -> dict[str, tuple[str, str]]:
    if ratios is None:
        return {k: v for k, v in DEFAULT_GRID_RATIOS.items() if v[0] in ext and v[1] in ext}
    out = {k: (v[0].lower(), v[1].lower()) for k, v in ratios.items()}
    bad = [f"{k} = {a} / {b}" for k, (a, b) in out.items() if a not in ext or b not in ext]
    if bad:
        raise DataValidationError(
            [
                Problem(
                    f"ratios {', '.join(bad)} need both columns in `extensive`: a ratio is "
                    "computed from the summed counts, never averaged",
                    file=source,
                    layer="grid",
                    field="ratios",
                )
            ]
        )
    return out
