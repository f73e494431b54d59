"""Every contrat de ville at once: the pipeline over many territories, on dask.distributed.

>>> from cdv_geo.batch import run_batch
>>> result = run_batch("projets/*/project.toml", "resultats/")  # doctest: +SKIP
>>> result.errors  # territory, step, message of each failure  # doctest: +SKIP
>>> result.table("coverage")  # (territory, quartier, kind, threshold_min)  # doctest: +SKIP

- :func:`run_batch`: one dask task per territory (:func:`run_territory`), on a LocalCluster or
  an existing scheduler; national tables under ``out/national/``.
- :func:`split_national`: national inputs (the official QPV file, facilities, streets, indicator
  tables) cut into one project folder per commune, ready for :func:`run_batch`.
- :func:`merge_national`: stack the territories' tables (also run by :func:`run_batch`).
"""

from cdv_geo.batch.national import NATIONAL, merge_national, national_indicators, write_table
from cdv_geo.batch.run import INLINE, BatchResult, find_projects, open_client, run_batch
from cdv_geo.batch.split import split_national
from cdv_geo.batch.task import MARKER, TERRITORIES, read_marker, run_territory, territory_slug

__all__ = [
    "INLINE",
    "MARKER",
    "NATIONAL",
    "TERRITORIES",
    "BatchResult",
    "find_projects",
    "merge_national",
    "national_indicators",
    "open_client",
    "read_marker",
    "run_batch",
    "run_territory",
    "split_national",
    "territory_slug",
    "write_table",
]
