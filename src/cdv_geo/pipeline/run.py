"""What a step of :func:`~cdv_geo.pipeline.compute_metrics` reads of its run.

:class:`RunLike` is the run as a step sees it (the outputs wanted, the metric CRS, the
communes); :func:`walk_options` gives the walking measures their network and settings, one
rule for every step.
"""

from __future__ import annotations

from typing import Any, Protocol

import geopandas as gpd
from pyproj import CRS

from cdv_geo.pipeline.results import Metrics

__all__ = ["RunLike", "walk_options"]


class RunLike(Protocol):
    """What a step reads of a run: the outputs wanted, the metric CRS, the communes.

    The communes give every table its ``commune`` and ``hors_qpv`` rows (None: no communes
    layer, no such rows).
    """

    @property
    def crs(self) -> CRS:
        """The metric CRS of the run."""
        ...

    def want(self, *names: str) -> bool:
        """Whether any of the outputs `names` is asked for."""
        ...

    @property
    def communes(self) -> gpd.GeoDataFrame | None:
        """The communes in the metric CRS (None: no such layer)."""
        ...


def walk_options(t: Any, m: Metrics, run: RunLike) -> dict[str, Any]:
    """Return the walking options of the territory's measures: network, speed, snap, CRS.

    The keywords of :func:`~cdv_geo.metrics.access.nearest_facility` and of every walking
    measure: the run's street network, the project's walking speed and largest snap
    distance, the run's metric CRS.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> from pyproj import CRS
    >>> class Run:
    ...     crs, communes = CRS(2154), None
    ...     def want(self, *names): return True
    >>> sorted(walk_options(cg.datasets.soissons(), cg.pipeline.Metrics(), Run()))
    ['crs', 'max_snap_m', 'network', 'speed_kmh']
    """
    s = t.settings
    return {
        "network": m.network,
        "speed_kmh": s.walking_speed_kmh,
        "max_snap_m": s.max_snap_m,
        "crs": run.crs,
    }
