"""Labels of the maps (French, English): cluster labels, indicator selector, offline message.

Merged into :data:`cdv_geo.core.labels.LABELS`; read them with :func:`cdv_geo.core.labels.label`.
"""

from __future__ import annotations

__all__ = ["MAP_LABELS"]

MAP_LABELS: dict[str, tuple[str, str]] = {}
