"""The notes a run makes of the metrics' warnings and of the population rule, in plain words.

A warning of a metric is written for whoever runs it: it may name a file, a field, a setting,
a temporary folder. The committee reads the notes (maps, index, dossier), so a note says in
words from the label catalogue *which* computation met a problem in the data; the warning's
own text goes to the log only (:func:`warning_note`). When two loaded populations of one row
differ by more than 10 %, the run keeps one note per row that says both figures and their
sources (:func:`population_notes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.rows import row_label
from cdv_geo.core.tables import is_comparison_row
from cdv_geo.pipeline.results import Note

__all__ = ["GAP_COLUMNS", "WARNING_TOPICS", "population_notes", "warning_note"]

#: What each topic's computation is called in a note about a warning (English; the label
#: catalogue holds ``warning_<topic>`` in French and English).
WARNING_TOPICS: dict[str, str] = {
    "network": "the walking network",
    "access": "the walking coverage of services",
    "renaturation": "the renaturation figures",
    "renewal": "the urban renewal (NPNRU) figures",
    "indicators": "the socio-economic indicators",
    "key_figures": "the key figures",
    "heat": "the heat figures",
    "water": "the water play area figures",
    "services": "the services' capacity, opening hours and commercial centres",
}

#: The columns of the population rule's table that hold a second loaded population of a row:
#: its value, its source, and the gap between the two as a share of the figure kept.
GAP_COLUMNS = ("population_alt", "population_alt_source", "population_gap_ratio")


def warning_note(topic: str) -> Note:
    """Return the note of a warning raised while computing `topic`'s metrics.

    Parameters
    ----------
    topic : str
        A note topic (:class:`~cdv_geo.pipeline.Note`): ``network``, ``access``,
        ``renaturation``...

    Returns
    -------
    Note
        Key ``warning_<topic>``, a plain English text, no argument: the warning's own message
        (which may hold a file path) is for the log.

    Examples
    --------
    >>> n = warning_note("network")
    >>> n.key, n.text
    ('warning_network', 'A problem in the data was met while computing the walking network; \
the details are in the log of the run.')
    """
    what = WARNING_TOPICS.get(topic, "the figures")
    text = (
        f"A problem in the data was met while computing {what}; the details are in the log "
        "of the run."
    )
    return Note(f"warning_{topic}", topic, text)


def population_notes(table: pd.DataFrame | None, *, town: str | None = None) -> list[Note]:
    r"""Return one note per row whose two loaded populations differ by more than 10 %.

    Parameters
    ----------
    table : DataFrame or None
        The population rule's table (:func:`cdv_geo.metrics.population.quartier_population`):
        ``population``, ``population_source`` and, for the rows where a second source
        disagrees, :data:`GAP_COLUMNS`.
    town : str, optional
        The town's name, for the labels of the ``commune`` and ``hors_qpv`` rows.

    Returns
    -------
    list of Note
        Key ``population_gap``, topic ``key_figures``; arguments ``row`` (the quartier's name,
        or the comparison row's key), ``town``, ``value``, ``source``, ``alt_value``,
        ``alt_source`` and ``gap`` (a share), formatted by :meth:`Note.label`.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"name": ["Presles", "Chevreux"], "population": [4094.0, 3000.0],
    ...                   "population_source": ["insee", "insee"],
    ...                   "population_alt": [5528.0, None],
    ...                   "population_alt_source": ["grid", None],
    ...                   "population_gap_ratio": [0.35, None]},
    ...                  index=pd.Index(["QP002013", "QP002014"], name="quartier"))
    >>> [n.text for n in population_notes(t)]
    ['Presles: 4,094 residents (insee), but 5,528 according to grid (gap of 35%).']
    >>> population_notes(t)[0].label("fr")  # doctest: +ELLIPSIS
    'Presles : 4\u202f094 habitants (...), mais 5\u202f528 selon ... (écart de 35\xa0%)'
    """
    if table is None or not set(GAP_COLUMNS) <= set(table.columns):
        return []
    value = "population" if "population" in table.columns else "n_residents"
    out = []
    for key, row in table.iterrows():
        gap = _number(row["population_gap_ratio"])
        if np.isnan(gap):
            continue
        shown = key if is_comparison_row(key) else (row.get("name") or key)
        args: dict[str, Any] = {
            "row": shown,
            "town": town,
            "value": _number(row[value]),
            "source": row["population_source"],
            "alt_value": _number(row["population_alt"]),
            "alt_source": row["population_alt_source"],
            "gap": gap,
        }
        where = row_label(shown, town=town, lang="en")
        text = (
            f"{where}: {args['value']:,.0f} residents ({args['source']}), but "
            f"{args['alt_value']:,.0f} according to {args['alt_source']} (gap of {gap:.0%})."
        )
        out.append(Note("population_gap", "key_figures", text, args))
    return out


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
