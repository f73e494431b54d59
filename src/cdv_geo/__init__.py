"""cdv_geo: spatial metrics and committee maps for French contrats de ville.

Services and their walking coverage, NPNRU renewal, renaturation (de-sealing, trees, canopy)
and socio-economic indicators per priority quartier (QPV), written as tables and Folium maps.
"""

from __future__ import annotations

from cdv_geo import datasets
from cdv_geo._errors import (
    CdvGeoError,
    CdvGeoWarning,
    CRSError,
    DataValidationError,
    NetworkError,
    Problem,
    RasterError,
)
from cdv_geo.io import read_layer, read_qpv, write_layer
from cdv_geo.territory import Territory

__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "CdvGeoError",
    "CdvGeoWarning",
    "DataValidationError",
    "NetworkError",
    "Problem",
    "RasterError",
    "Territory",
    "__version__",
    "datasets",
    "read_layer",
    "read_qpv",
    "write_layer",
]
