"""Labels of the named comparison rows and the population rule: (French, English).

Merged into :data:`cdv_geo.core.labels.LABELS`; read them with :func:`cdv_geo.core.labels.label`.
"""

from __future__ import annotations

__all__ = ["ROW_LABELS"]

ROW_LABELS: dict[str, tuple[str, str]] = {}
