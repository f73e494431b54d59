"""cdv_geo: spatial metrics and committee maps for French contrats de ville.

Services and their walking coverage, NPNRU renewal, renaturation (de-sealing, trees, canopy)
and socio-economic indicators per priority quartier (QPV), written as tables and Folium maps.

>>> import cdv_geo as cg
>>> t = cg.datasets.soissons()
>>> sorted(t.quartiers["name"])
['Chevreux', 'Presles', 'Saint-Crépin Ouest']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cdv_geo.core.errors import (
    CdvGeoError,
    CdvGeoWarning,
    CRSError,
    DataValidationError,
    LayerTypeError,
    NetworkError,
    Problem,
    RasterError,
)

if TYPE_CHECKING:
    from cdv_geo import datasets, maps
    from cdv_geo.core.raster import raster_info
    from cdv_geo.io import (
        facilities_from_osm,
        read_bpe,
        read_layer,
        read_qpv,
        read_vector,
        write_layer,
    )
    from cdv_geo.io.actions import read_actions, read_tfpb
    from cdv_geo.io.grid import read_grid
    from cdv_geo.io.insee import check_codes, read_indicators
    from cdv_geo.io.insee.indicator import Indicator
    from cdv_geo.io.insee.registry import INDICATORS
    from cdv_geo.metrics.access import coverage, nearest_facility
    from cdv_geo.metrics.desealing import desealing_summary
    from cdv_geo.metrics.did import did_estimate, did_table
    from cdv_geo.metrics.focal import focal_mean
    from cdv_geo.metrics.gini import estimate_missing_gini, gini, gini_from_grouped
    from cdv_geo.metrics.green import ResidentShares, green_space_access, rule_3_30_300
    from cdv_geo.metrics.grid import interpolate_grid
    from cdv_geo.metrics.heat import cool_places, heat_exposure
    from cdv_geo.metrics.impervious import impervious_change, impervious_share
    from cdv_geo.metrics.incidents import incidents_before_after, poisson_rate_ratio
    from cdv_geo.metrics.indicators import compare_indicators, indicator_trend, pivot_indicators
    from cdv_geo.metrics.panel import indicator_panel
    from cdv_geo.metrics.peers import compare_to_peers
    from cdv_geo.metrics.population import quartier_population
    from cdv_geo.metrics.renewal import renewal_balance, renewal_density
    from cdv_geo.metrics.renewal_links import renewal_links
    from cdv_geo.metrics.renewal_progress import renewal_progress, renewal_timeline
    from cdv_geo.metrics.residences_grid import residences_from_grid
    from cdv_geo.metrics.service_areas import service_areas
    from cdv_geo.metrics.siting import choose_sites
    from cdv_geo.metrics.synthetic_control import synthetic_control, synthetic_table
    from cdv_geo.metrics.trees import canopy_share, tree_crowns, tree_summary
    from cdv_geo.metrics.zonal import zonal_stats
    from cdv_geo.network import WalkNetwork
    from cdv_geo.output import build_dossier, build_report, static_figures, write_tables
    from cdv_geo.output.annual_report import build_annual_report
    from cdv_geo.pipeline import Metrics, Note, compute_metrics
    from cdv_geo.schema.actions import Programme
    from cdv_geo.territory import Settings, TableSource, Territory

#: Where each public name lives. They are imported on first use (PEP 562), so that
#: ``import cdv_geo`` (and a batch worker, a CLI call) does not load the maps, the PDF engine
#: and the figures until they are asked for.
LAZY: dict[str, str] = {
    "datasets": "cdv_geo.datasets",
    "maps": "cdv_geo.maps",
    "raster_info": "cdv_geo.core.raster",
    "facilities_from_osm": "cdv_geo.io",
    "read_bpe": "cdv_geo.io",
    "read_layer": "cdv_geo.io",
    "read_qpv": "cdv_geo.io",
    "read_vector": "cdv_geo.io",
    "write_layer": "cdv_geo.io",
    "read_actions": "cdv_geo.io.actions",
    "read_tfpb": "cdv_geo.io.actions",
    "read_grid": "cdv_geo.io.grid",
    "check_codes": "cdv_geo.io.insee",
    "read_indicators": "cdv_geo.io.insee",
    "INDICATORS": "cdv_geo.io.insee.registry",
    "Indicator": "cdv_geo.io.insee.indicator",
    "coverage": "cdv_geo.metrics.access",
    "nearest_facility": "cdv_geo.metrics.access",
    "desealing_summary": "cdv_geo.metrics.desealing",
    "focal_mean": "cdv_geo.metrics.focal",
    "estimate_missing_gini": "cdv_geo.metrics.gini",
    "gini": "cdv_geo.metrics.gini",
    "gini_from_grouped": "cdv_geo.metrics.gini",
    "ResidentShares": "cdv_geo.metrics.green",
    "green_space_access": "cdv_geo.metrics.green",
    "rule_3_30_300": "cdv_geo.metrics.green",
    "interpolate_grid": "cdv_geo.metrics.grid",
    "cool_places": "cdv_geo.metrics.heat",
    "heat_exposure": "cdv_geo.metrics.heat",
    "impervious_change": "cdv_geo.metrics.impervious",
    "impervious_share": "cdv_geo.metrics.impervious",
    "incidents_before_after": "cdv_geo.metrics.incidents",
    "poisson_rate_ratio": "cdv_geo.metrics.incidents",
    "compare_indicators": "cdv_geo.metrics.indicators",
    "indicator_trend": "cdv_geo.metrics.indicators",
    "pivot_indicators": "cdv_geo.metrics.indicators",
    "did_estimate": "cdv_geo.metrics.did",
    "did_table": "cdv_geo.metrics.did",
    "indicator_panel": "cdv_geo.metrics.panel",
    "compare_to_peers": "cdv_geo.metrics.peers",
    "synthetic_control": "cdv_geo.metrics.synthetic_control",
    "synthetic_table": "cdv_geo.metrics.synthetic_control",
    "quartier_population": "cdv_geo.metrics.population",
    "renewal_balance": "cdv_geo.metrics.renewal",
    "renewal_density": "cdv_geo.metrics.renewal",
    "renewal_links": "cdv_geo.metrics.renewal_links",
    "renewal_progress": "cdv_geo.metrics.renewal_progress",
    "renewal_timeline": "cdv_geo.metrics.renewal_progress",
    "residences_from_grid": "cdv_geo.metrics.residences_grid",
    "service_areas": "cdv_geo.metrics.service_areas",
    "choose_sites": "cdv_geo.metrics.siting",
    "canopy_share": "cdv_geo.metrics.trees",
    "tree_crowns": "cdv_geo.metrics.trees",
    "tree_summary": "cdv_geo.metrics.trees",
    "zonal_stats": "cdv_geo.metrics.zonal",
    "WalkNetwork": "cdv_geo.network",
    "build_annual_report": "cdv_geo.output.annual_report",
    "build_dossier": "cdv_geo.output",
    "build_report": "cdv_geo.output",
    "static_figures": "cdv_geo.output",
    "write_tables": "cdv_geo.output",
    "Metrics": "cdv_geo.pipeline",
    "Note": "cdv_geo.pipeline",
    "compute_metrics": "cdv_geo.pipeline",
    "Programme": "cdv_geo.schema.actions",
    "Settings": "cdv_geo.territory",
    "TableSource": "cdv_geo.territory",
    "Territory": "cdv_geo.territory",
}


def __getattr__(name: str) -> Any:
    module = LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cdv_geo' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    value = loaded if module == f"cdv_geo.{name}" else getattr(loaded, name)
    globals()[name] = value  # (once: later lookups do not come here)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *LAZY})


__version__ = "0.2.0"

__all__ = [
    "INDICATORS",
    "CRSError",
    "CdvGeoError",
    "CdvGeoWarning",
    "DataValidationError",
    "Indicator",
    "LayerTypeError",
    "Metrics",
    "NetworkError",
    "Note",
    "Problem",
    "Programme",
    "RasterError",
    "ResidentShares",
    "Settings",
    "TableSource",
    "Territory",
    "WalkNetwork",
    "__version__",
    "build_annual_report",
    "build_dossier",
    "build_report",
    "canopy_share",
    "check_codes",
    "choose_sites",
    "compare_indicators",
    "compare_to_peers",
    "compute_metrics",
    "cool_places",
    "coverage",
    "datasets",
    "desealing_summary",
    "did_estimate",
    "did_table",
    "estimate_missing_gini",
    "facilities_from_osm",
    "focal_mean",
    "gini",
    "gini_from_grouped",
    "green_space_access",
    "heat_exposure",
    "impervious_change",
    "impervious_share",
    "incidents_before_after",
    "indicator_panel",
    "indicator_trend",
    "interpolate_grid",
    "maps",
    "nearest_facility",
    "pivot_indicators",
    "poisson_rate_ratio",
    "quartier_population",
    "raster_info",
    "read_actions",
    "read_bpe",
    "read_grid",
    "read_indicators",
    "read_layer",
    "read_qpv",
    "read_tfpb",
    "read_vector",
    "renewal_balance",
    "renewal_density",
    "renewal_links",
    "renewal_progress",
    "renewal_timeline",
    "residences_from_grid",
    "rule_3_30_300",
    "service_areas",
    "static_figures",
    "synthetic_control",
    "synthetic_table",
    "tree_crowns",
    "tree_summary",
    "write_layer",
    "write_tables",
    "zonal_stats",
]
