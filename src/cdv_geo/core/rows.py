"""Display labels of the rows of a per-quartier table, in the reader's language.

Every map, index and dossier names a table row through :func:`row_label`: the named comparison
rows (:data:`cdv_geo.core.tables.COMPARISON_ROWS`) get one wording everywhere, with the town's
name when it is known; a quartier row keeps its code (whoever prints it looks up the quartier's
own name).
"""

from __future__ import annotations

from typing import Any

from cdv_geo.core.labels import check_lang, label
from cdv_geo.core.tables import COMMUNE, FRANCE_QPV, HORS_QPV, QPV, is_comparison_row

__all__ = ["row_label"]

# Label key of each comparison row: without the town's name, and with it (None: no town form).
_ROW_KEYS: dict[str, tuple[str, str | None]] = {
    QPV: ("row_qpv", None),
    COMMUNE: ("row_commune", "row_commune_town"),
    HORS_QPV: ("row_hors_qpv", "row_hors_qpv_town"),
    FRANCE_QPV: ("row_france_qpv", None),
}


def row_label(key: Any, *, town: str | None = None, lang: str = "fr") -> Any:
    """Return the display label of the table row `key`.

    Parameters
    ----------
    key
        A row key: a comparison row (``"qpv"``, ``"commune"``, ``"hors_qpv"``,
        ``"france_qpv"``) or a quartier code.
    town
        The town's name, put in the ``commune`` and ``hors_qpv`` labels; without it they say
        "Commune" / "Commune hors QPV". Ignored for the other rows.
    lang
        ``"fr"`` (default) or ``"en"``.

    Returns
    -------
    Any
        The plain-text label (not HTML-escaped); a quartier code is returned unchanged.

    Examples
    --------
    >>> row_label("qpv")
    'Ensemble des QPV'
    >>> row_label("qpv", lang="en")
    'All priority neighbourhoods'
    >>> row_label("commune", town="Soissons")
    'Soissons (commune)'
    >>> row_label("commune", town="Soissons", lang="en")
    'Soissons (municipality)'
    >>> row_label("hors_qpv", town="Soissons")
    'Soissons hors QPV'
    >>> row_label("hors_qpv", town="Soissons", lang="en")
    'Soissons outside priority neighbourhoods'
    >>> row_label("hors_qpv")
    'Commune hors QPV'
    >>> row_label("france_qpv", lang="en")
    'All French priority neighbourhoods'
    >>> row_label("QP002013", town="Soissons")
    'QP002013'
    """
    check_lang(lang)
    if not is_comparison_row(key):
        return key
    plain, with_town = _ROW_KEYS[key]
    if town and with_town is not None:
        return label(with_town, lang, town=town)
    return label(plain, lang)
