"""The contrat's actions in a run: the ledger and the TFPB balance (:func:`step_actions`).

The programme of actions and the landlords' TFPB statement are tables of the project
(``[tables] actions = ...``, ``tfpb = ...``), read and checked against the quartiers when the
project is loaded (:meth:`Territory.table <cdv_geo.territory.Territory.table>`). The ledger
divides by the run's one population (:attr:`Metrics.population
<cdv_geo.pipeline.Metrics>`), so its euros per inhabitant use the same residents and
``population_source`` as every other table, and its ``commune`` and ``hors_qpv`` rows come with
the run's communes.
"""

from __future__ import annotations

from typing import Any, Protocol

import geopandas as gpd

from cdv_geo.pipeline.results import Metrics, Note

__all__ = ["ACTION_OUTPUTS", "step_actions"]

#: The tables this step makes.
ACTION_OUTPUTS = ("ledger", "tfpb")


class _RunLike(Protocol):
    @property
    def communes(self) -> gpd.GeoDataFrame | None: ...

    def want(self, *names: str) -> bool: ...


def step_actions(t: Any, m: Metrics, run: _RunLike) -> None:
    """Compute ``m.ledger`` and ``m.tfpb`` from the project's actions and TFPB tables.

    A table the project does not give leaves its output None with a ``missing_table`` note
    (topic ``actions``); it is never replaced by zeros.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> from types import SimpleNamespace
    >>> from cdv_geo.pipeline.population import step_population
    >>> t = cg.datasets.soissons()
    >>> run = SimpleNamespace(communes=t.metric("communes"), want=lambda *n: True)
    >>> m = Metrics()
    >>> step_population(t, m, run)
    >>> step_actions(t, m, run)
    >>> m.ledger.index.tolist()[-3:]
    ['qpv', 'commune', 'hors_qpv']
    >>> m.tfpb.index.names
    FrozenList(['quartier', 'landlord', 'year'])
    """
    if t.quartiers is None:
        m.notes.append(
            Note(
                "missing_layer",
                "actions",
                "Ledger skipped: no quartiers layer.",
                {"layer": "quartiers"},
            )
        )
        return
    q = t.metric("quartiers")
    if run.want("ledger"):
        if "actions" in t.tables:
            from cdv_geo.metrics.ledger import ledger

            m.ledger = ledger(t.table("actions"), q, communes=run.communes, population=m.population)
        else:
            m.notes.append(
                Note(
                    "missing_table",
                    "actions",
                    "Ledger skipped: no actions table.",
                    {"name": "actions"},
                )
            )
    if run.want("tfpb"):
        if "tfpb" in t.tables:
            from cdv_geo.metrics.tfpb import tfpb_balance

            m.tfpb = tfpb_balance(t.table("tfpb"), q)
        else:
            m.notes.append(
                Note(
                    "missing_table",
                    "actions",
                    "TFPB balance skipped: no tfpb table.",
                    {"name": "tfpb"},
                )
            )
