"""Labels of the maps (cluster labels, the indicator selector, the offline message): (French, English).

Merged into :data:`cdv_geo.core.labels.LABELS`; read them with :func:`cdv_geo.core.labels.label`.
"""

from __future__ import annotations

__all__ = ["MAP_LABELS"]

MAP_LABELS: dict[str, tuple[str, str]] = {}
