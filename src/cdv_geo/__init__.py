"""cdv_geo: spatial metrics and committee maps for French contrats de ville.

Services and their walking coverage, NPNRU renewal, renaturation (de-sealing, trees, canopy)
and socio-economic indicators per priority quartier (QPV), written as tables and Folium maps.

>>> import cdv_geo as cg
>>> t = cg.datasets.soissons()
>>> sorted(t.quartiers["name"])
['Chevreux', 'Presles', 'Saint-Crépin']
"""

from __future__ import annotations

from cdv_geo import datasets, maps
from cdv_geo.core.errors import (
    CdvGeoError,
    CdvGeoWarning,
    CRSError,
    DataValidationError,
    NetworkError,
    Problem,
    RasterError,
)
from cdv_geo.core.raster import raster_info
from cdv_geo.io import read_layer, read_qpv, write_layer
from cdv_geo.metrics.access import coverage, nearest_facility, service_areas
from cdv_geo.metrics.indicators import (
    INDICATORS,
    Indicator,
    check_codes,
    compare_indicators,
    estimate_missing_gini,
    gini,
    gini_from_grouped,
    indicator_trend,
    interpolate_grid,
    pivot_indicators,
    read_grid,
    read_indicators,
)
from cdv_geo.metrics.renaturation import (
    ResidentShares,
    canopy_share,
    desealing_summary,
    green_space_access,
    impervious_change,
    impervious_share,
    rule_3_30_300,
    tree_crowns,
    tree_summary,
)
from cdv_geo.metrics.renewal import (
    renewal_balance,
    renewal_density,
    renewal_links,
    renewal_progress,
    renewal_timeline,
)
from cdv_geo.metrics.zonal import zonal_stats
from cdv_geo.network import WalkNetwork
from cdv_geo.output.report import build_report, write_tables
from cdv_geo.pipeline import Metrics, compute_metrics
from cdv_geo.territory import Settings, Territory

__version__ = "0.1.0"

__all__ = [
    "INDICATORS",
    "CRSError",
    "CdvGeoError",
    "CdvGeoWarning",
    "DataValidationError",
    "Indicator",
    "Metrics",
    "NetworkError",
    "Problem",
    "RasterError",
    "ResidentShares",
    "Settings",
    "Territory",
    "WalkNetwork",
    "__version__",
    "build_report",
    "canopy_share",
    "check_codes",
    "compare_indicators",
    "compute_metrics",
    "coverage",
    "datasets",
    "desealing_summary",
    "estimate_missing_gini",
    "gini",
    "gini_from_grouped",
    "green_space_access",
    "impervious_change",
    "impervious_share",
    "indicator_trend",
    "interpolate_grid",
    "maps",
    "nearest_facility",
    "pivot_indicators",
    "raster_info",
    "read_grid",
    "read_indicators",
    "read_layer",
    "read_qpv",
    "renewal_balance",
    "renewal_density",
    "renewal_links",
    "renewal_progress",
    "renewal_timeline",
    "rule_3_30_300",
    "service_areas",
    "tree_crowns",
    "tree_summary",
    "write_layer",
    "write_tables",
    "zonal_stats",
]
