"""Writers: tables (CSV/XLSX/GPKG), static figures and the committee bundle."""
