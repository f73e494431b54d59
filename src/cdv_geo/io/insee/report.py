"""The reading report of :func:`~cdv_geo.io.insee.read.read_indicators` (``attrs["notes"]``).

One sentence per file read once as a duplicate, and one per published value kept although
outside its usual range. Each kind is also given as one :class:`~cdv_geo.core.errors.CdvGeoWarning`.
"""

from __future__ import annotations

import warnings

import pandas as pd

from cdv_geo.core.errors import CdvGeoWarning
from cdv_geo.io.insee.folder import Duplicate
from cdv_geo.io.insee.wide_table import OUT_OF_RANGE

__all__ = ["duplicate_notes", "range_notes"]


def duplicate_notes(duplicates: list[Duplicate]) -> list[str]:
    """Return one note per file read once because another holds the same content; warn once."""
    notes = [d.note for d in duplicates]
    if notes:
        warnings.warn(
            f"{len(notes)} duplicate file{'s' if len(notes) > 1 else ''} read once: "
            f"{'; '.join(notes)}.",
            CdvGeoWarning,
            stacklevel=3,
        )
    return notes


def range_notes(table: pd.DataFrame) -> list[str]:
    """Return one note per published value kept although outside its usual range; warn once."""
    flags = table["flag"].to_numpy(dtype=object)
    kinds = pd.unique(flags[~pd.isna(flags)])  # a few distinct flags: each looked at once
    odd_kinds = [f for f in kinds if isinstance(f, str) and OUT_OF_RANGE in f]
    odd = (
        table[pd.Series(flags, dtype=object).isin(odd_kinds).to_numpy()] if odd_kinds else table[:0]
    )
    notes = [
        f"{r.file}: {r.code} ({r.name}), {r.source_column} = {r.value:g} ({r.indicator}, "
        f"{r.year}) is {r.flag}; kept as published"
        for r in odd.itertuples()
    ]
    if notes:
        warnings.warn(
            f"{len(notes)} published value{'s' if len(notes) > 1 else ''} outside the usual "
            f"range, kept as published: {'; '.join(notes[:5])}"
            f"{f' and {len(notes) - 5} more' if len(notes) > 5 else ''}.",
            CdvGeoWarning,
            stacklevel=3,
        )
    return notes
