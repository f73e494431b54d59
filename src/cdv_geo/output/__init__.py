"""Outputs: metric tables (CSV/XLSX/GeoPackage), static figures and the committee bundle.

- :func:`write_tables` (:mod:`cdv_geo.output.tables`): labelled, deterministic, spreadsheet-safe;
- :func:`static_figures` (:mod:`cdv_geo.output.figures`): PNG figures of each theme;
- :func:`build_report` (:mod:`cdv_geo.output.bundle`): tables, maps, figures and ``index.html``;
- :func:`build_dossier` (:mod:`cdv_geo.output.dossier`): the committee PDF.
"""

from cdv_geo.output.bundle import build_report
from cdv_geo.output.dossier import build_dossier
from cdv_geo.output.figures import static_figures
from cdv_geo.output.tables import write_tables

__all__ = ["build_dossier", "build_report", "static_figures", "write_tables"]
