"""Map names and titles: one definition for the map files, their titles and the report's links.

:func:`build_committee_maps` names its files ``overview``, ``quartier_<slug>``,
``accessibility``, ``renaturation``, ``renewal``, ``indicators`` and, when the territory has
heat or water data, ``heat``; :func:`map_title` gives the
title of each, exactly as the map shows it, so that the report's index and the maps agree.
Two quartiers that share a name are told apart by their code, in the slug (``centre-qp002012``)
and in the title (``Quartier Centre – QP002012``).
"""

from __future__ import annotations

from typing import Any

from cdv_geo.core import labels as lb
from cdv_geo.core.layers import quartier_codes
from cdv_geo.core.tables import quartier_names

__all__ = ["MAP_NAMES", "map_title", "quartier_display_name", "quartier_slug", "quartier_slugs"]

#: The thematic maps of the committee bundle (the quartier maps come between the first two).
MAP_NAMES = ("overview", "accessibility", "renaturation", "renewal", "indicators", "heat")
_TITLE_KEYS = {
    "overview": "title_overview",
    "accessibility": "title_accessibility",
    "renaturation": "title_renaturation",
    "renewal": "title_renewal",
    "indicators": "title_indicators",
    "heat": "title_heat",
}


def quartier_slug(text: str) -> str:
    """Return a file-name-safe slug of a quartier name (ASCII, dashes, at most 40 characters).

    Examples
    --------
    >>> quartier_slug("Saint-Crépin Ouest"), quartier_slug("<script>")
    ('saint-crepin-ouest', 'script')
    """
    from cdv_geo.schema import normalize_token

    return normalize_token(text)[:40].strip("_").replace("_", "-") or "quartier"


def _shared_names(quartiers: Any) -> tuple[list[str], list[str], set[str]]:
    codes = [str(c) for c in quartier_codes(quartiers)]
    named = quartier_names(quartiers)
    names = [str(named.get(c) if named.get(c) is not None else c) for c in codes]
    slugs = [quartier_slug(n) for n in names]
    shared = {s for s in slugs if slugs.count(s) > 1}
    return codes, names, shared


def quartier_slugs(quartiers: Any) -> dict[str, str]:
    """Return ``{code: slug}``; quartiers whose names give the same slug get ``-<code>``.

    Examples
    --------
    >>> import pandas as pd
    >>> q = pd.DataFrame({"code": ["QP1", "QP2", "QP3"], "name": ["Centre", "Nord", "Centre"]})
    >>> quartier_slugs(q)
    {'QP1': 'centre-qp1', 'QP2': 'nord', 'QP3': 'centre-qp3'}
    """
    codes, names, shared = _shared_names(quartiers)
    out = {}
    for code, name in zip(codes, names, strict=True):
        slug = quartier_slug(name)
        out[code] = f"{slug}-{quartier_slug(code)}" if slug in shared else slug
    return out


def quartier_display_name(quartiers: Any, code: str) -> str:
    """Return the name a title gives a quartier: its name, with its code when it is shared.

    Examples
    --------
    >>> import pandas as pd
    >>> q = pd.DataFrame({"code": ["QP1", "QP2"], "name": ["Centre", "Centre"]})
    >>> quartier_display_name(q, "QP2")
    'Centre – QP2'
    """
    codes, names, shared = _shared_names(quartiers)
    name = names[codes.index(code)]
    return f"{name} – {code}" if quartier_slug(name) in shared else name


def map_title(
    name: str, territory: Any, lang: str = "fr", *, service: str = "water_play_area"
) -> str:
    """Return the title of the committee map `name` (a key of ``build_committee_maps``).

    Parameters
    ----------
    name : str
        ``overview``, ``accessibility``, ``renaturation``, ``renewal``, ``indicators``,
        ``heat`` or ``quartier_<slug>``; any other name is returned unchanged.
    territory : Territory
        The territory mapped.
    lang : {"fr", "en"}
    service : str
        The facility kind of the accessibility map.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> t = cg.datasets.soissons()
    >>> map_title("quartier_presles", t, "en")
    'Quartier Presles (Soissons)'
    >>> map_title("accessibility", t)
    "Accès à pied : Aire de jeux d'eau — Soissons"
    """
    lb.check_lang(lang)
    tname = getattr(territory, "name", "")
    if name.startswith("quartier_") and getattr(territory, "quartiers", None) is not None:
        q = territory.quartiers
        for code, slug in quartier_slugs(q).items():
            if f"quartier_{slug}" == name:
                shown = quartier_display_name(q, code)
                return lb.label("title_quartier", lang, quartier=shown, territory=tname)
    key = _TITLE_KEYS.get(name)
    if key is None:
        return name
    return lb.label(key, lang, territory=tname, service=lb.value_label("kind", service, lang))
