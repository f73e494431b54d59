"""Read the INSEE quartier tables as published: one package, a module per part of the file.

=====================  ===============================================================
Module                 What it reads or holds
=====================  ===============================================================
:mod:`.read`           a file, a list or a folder (REVN, IPRO, DEMO, Filosofi) to one
                       long table: :func:`read_indicators`, :func:`check_codes`,
                       :func:`keep_territory`
:mod:`.folder`         a folder or list of files: each content read once (duplicates
                       by bytes or by values), merged in one pass, a progress bar
:mod:`.report`         the reading report: duplicates, values outside the usual range
:mod:`.cells`          the cells of a published text or spreadsheet file: encodings,
                       decimal commas, thousands separators, secrecy codes; the
                       numbers read straight from the CSV by pandas' C parser
:mod:`.derived`        the shares derived from two published counts (``rsa_share``)
:mod:`.wide_table`     a wide table (a row per code, a column per indicator)
:mod:`.long_table`     a long table (``code``, ``indicator``, ``value``, ``year``)
:mod:`.registry`       the canonical indicators (:data:`INDICATORS`) and the published
                       columns each is read from
:mod:`.indicator`      the :class:`Indicator` record of the registry
:mod:`.income`         the Filosofi income and poverty indicators
:mod:`.social`         the census, CAF, CNAM and France Travail indicators
=====================  ===============================================================
"""

from __future__ import annotations

from cdv_geo.io.insee.indicator import Indicator
from cdv_geo.io.insee.read import (
    LEVELS,
    REFERENCE_LEVELS,
    TABLE_COLUMNS,
    check_codes,
    keep_territory,
    read_indicators,
)
from cdv_geo.io.insee.registry import INDICATORS, SECRECY_CODES

__all__ = [
    "INDICATORS",
    "LEVELS",
    "REFERENCE_LEVELS",
    "SECRECY_CODES",
    "TABLE_COLUMNS",
    "Indicator",
    "check_codes",
    "keep_territory",
    "read_indicators",
]
