"""The pipeline: every metric of one territory, computed once, as a typed :class:`Metrics`.

:func:`compute_metrics` runs every metric the territory's layers allow (walking coverage,
renaturation, renewal, indicators, key figures, the services' capacity, opening hours and
commercial centres) with the project's metric CRS and settings, and
records, for each one it skips, a :class:`Note` saying why. It is the one place where metrics are
computed for a whole territory: the maps (``cdv_geo.maps``) and the writers (``cdv_geo.output``)
only read its result.
"""

from cdv_geo.pipeline.compute import Progress, compute_metrics
from cdv_geo.pipeline.results import LAYER_FIELDS, TABLE_FIELDS, TABLES, Metrics, Note

__all__ = [
    "LAYER_FIELDS",
    "TABLES",
    "TABLE_FIELDS",
    "Metrics",
    "Note",
    "Progress",
    "compute_metrics",
]
