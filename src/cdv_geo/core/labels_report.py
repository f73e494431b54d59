"""Labels of the dossier and the index (French, English): glossary, missing data, columns.

Merged into :data:`cdv_geo.core.labels.LABELS`; read them with :func:`cdv_geo.core.labels.label`.
"""

from __future__ import annotations

__all__ = ["REPORT_LABELS"]

REPORT_LABELS: dict[str, tuple[str, str]] = {}
