"""The one population of a run, and the INSEE table every step reads.

:func:`step_population` applies the population rule
(:func:`cdv_geo.metrics.population.quartier_population`: official > INSEE > residences > grid)
**once** per run, from the layers and the INSEE table loaded in the territory, and keeps its
table in :attr:`Metrics.population <cdv_geo.pipeline.Metrics>`: every table that divides by
population (trees per inhabitant, key figures) is given that table, so that each shows the same
residents and the same ``population_source``. Two loaded sources that differ by more than 10 %
for a row give one note of the run (:func:`cdv_geo.pipeline.notes.population_notes`), not one
warning per table.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd

from cdv_geo.core.assign import assign_quartier
from cdv_geo.pipeline.notes import population_notes
from cdv_geo.pipeline.results import Metrics

__all__ = ["indicator_table", "step_population", "town_name"]

log = logging.getLogger("cdv_geo")


class _RunLike(Protocol):
    @property
    def communes(self) -> gpd.GeoDataFrame | None: ...


def step_population(t: Any, m: Metrics, run: _RunLike) -> None:
    """Apply the population rule once into ``m.population``, with a note per gap over 10 %.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> from types import SimpleNamespace
    >>> t = cg.datasets.soissons()
    >>> m = Metrics()
    >>> step_population(t, m, SimpleNamespace(communes=t.metric("communes")))
    >>> p = m.population
    >>> float(p.loc["QP002013", "population"]), p.loc["QP002013", "population_source"]
    (5766.0, 'official')
    >>> float(p.loc["commune", "population"])  # (published: not a sum of homes)
    28522.0
    >>> "population_gap" in [n.key for n in m.notes]  # (the demo's homes are illustrative)
    True
    """
    if t.quartiers is None:
        return
    from cdv_geo.metrics.population import quartier_population

    q = t.metric("quartiers")
    m.population = quartier_population(
        q,
        residences=t.metric("residences") if t.residences is not None else None,
        communes=run.communes,
        indicators=indicator_table(t, q),
        warn=False,  # (the run notes the gaps, once: see below)
    )
    for note in population_notes(m.population, town=town_name(run.communes)):
        if note not in m.notes:
            log.warning("%s", note.text)
            m.notes.append(note)


def indicator_table(t: Any, q: gpd.GeoDataFrame | None) -> pd.DataFrame | None:
    """Return the loaded INSEE indicators kept to the territory (None when none is loaded).

    The rows kept are the quartiers', their commune's and the references'
    (:func:`cdv_geo.io.insee.keep_territory`); the quartiers' commune is the one holding them
    when the quartiers layer does not name it.
    """
    from cdv_geo.io.insee import keep_territory

    if t.tables.get("indicators") is None:
        return None
    table = t.table("indicators")  # (read once, when the project was loaded)
    if q is None:
        return table
    known = q
    has_commune = "commune" in q.columns and bool(q["commune"].notna().any())
    if t.communes is not None and not has_commune:
        known = q.assign(commune=assign_quartier(q, t.metric("communes")).to_numpy())
    return keep_territory(table, known)


def town_name(communes: gpd.GeoDataFrame | None) -> str | None:
    """Return the name of the territory's one commune (None: none, several, or unnamed).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> town_name(gpd.GeoDataFrame({"name": ["Soissons"]}, geometry=[box(0, 0, 1, 1)]))
    'Soissons'
    """
    if communes is None or len(communes) != 1 or "name" not in communes.columns:
        return None
    name = communes["name"].iloc[0]
    return name if isinstance(name, str) and name else None
