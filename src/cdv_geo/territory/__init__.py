"""Territory: the layers of one contrat de ville, its settings, rasters and tables.

:class:`Territory` holds the validated layers (:mod:`cdv_geo.territory.model`);
:meth:`Territory.from_file` reads a TOML project file (:mod:`cdv_geo.territory.project`).
"""

from cdv_geo.territory.model import (
    SETTING_KEYS,
    Settings,
    TableSource,
    TableSpec,
    Territory,
    table_paths,
)
from cdv_geo.territory.project import read_project, read_table
from cdv_geo.territory.services import SERVICE_KEYS, ServiceSettings, read_services

__all__ = [
    "SERVICE_KEYS",
    "SETTING_KEYS",
    "ServiceSettings",
    "Settings",
    "TableSource",
    "TableSpec",
    "Territory",
    "read_project",
    "read_services",
    "read_table",
    "table_paths",
]
