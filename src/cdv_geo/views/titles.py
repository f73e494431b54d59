"""Map names and titles: one definition for the map files, their titles and the report's links.

:func:`build_committee_maps` names its files ``overview``, ``quartier_<slug>``,
``accessibility``, ``renaturation``, ``renewal``, ``indicators`` and, when the territory has
heat or water data, ``heat``; :func:`map_title` gives the
title of each, exactly as the map shows it, so that the report's index and the maps agree.
Two quartiers that share a name are told apart by their code, in the slug (``centre-qp002012``)
and in the title (``Quartier Centre – QP002012``).
"""

from __future__ import annotations

import tomllib
import unicodedata
from typing import Any

import pandas as pd

from cdv_geo.core import labels as lb
from cdv_geo.core.layers import quartier_codes
from cdv_geo.core.tables import quartier_names

__all__ = [
    "MAP_NAMES",
    "access_map_name",
    "map_title",
    "quartier_display_name",
    "quartier_slug",
    "quartier_slugs",
    "quartier_title",
    "territory_name",
]

#: The thematic maps of the committee bundle (the quartier maps come between the first two).
MAP_NAMES = ("overview", "accessibility", "renaturation", "renewal", "indicators", "heat")
_TITLE_KEYS = {
    "overview": "title_overview",
    "accessibility": "title_accessibility",
    "renaturation": "title_renaturation",
    "renewal": "title_renewal",
    "indicators": "title_indicators",
    "heat": "title_heat",
    "services": "title_services",
}


#: The name a :class:`~cdv_geo.Territory` gets when none is given.
_DEFAULT_NAME = "Territoire"


def _named_in_project(t: Any) -> bool:
    """Whether the project file of `t` names the territory (``[territory] name``)."""
    path = getattr(t, "project_file", None)
    if path is None:
        return False
    try:
        with open(path, "rb") as fh:
            return "name" in tomllib.load(fh).get("territory", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False


def _commune_names(t: Any) -> list[str]:
    communes = getattr(t, "communes", None)
    if communes is None or "name" not in communes.columns:
        return []
    c = communes[communes["name"].notna()]
    if "population" in c.columns:
        pop = pd.to_numeric(c["population"], errors="coerce").fillna(-1)
        c = c.iloc[pop.to_numpy().argsort(kind="stable")[::-1]]
    return list(dict.fromkeys(str(n).strip() for n in c["name"] if str(n).strip()))


def territory_name(t: Any) -> str:
    """Return the name titles give a territory: its own, else its communes', else its folder's.

    A project file without ``[territory] name`` gives the territory its folder's name
    (``data``, ``projet``...), which says nothing on a map: the names of the communes layer
    (most populous first, at most three) are used instead; the folder's name when there is no
    communes layer either.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from cdv_geo import Territory
    >>> c = gpd.GeoDataFrame({"code": ["02722"], "name": ["Soissons"]},
    ...                      geometry=[box(0, 0, 10, 10)], crs=2154)
    >>> territory_name(Territory(communes=c)), territory_name(Territory("Belleu", communes=c))
    ('Soissons', 'Belleu')
    """
    name = str(getattr(t, "name", "") or "")
    path = getattr(t, "project_file", None)
    from_folder = path is not None and name == path.parent.name and not _named_in_project(t)
    if name and name != _DEFAULT_NAME and not from_folder:
        return name
    communes = _commune_names(t)
    if communes:
        return ", ".join(communes[:3]) + (" …" if len(communes) > 3 else "")
    return name or _DEFAULT_NAME


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def quartier_title(quartier: str, territory: str, lang: str = "fr") -> str:
    """Return the title of a quartier map: ``Quartier <name> (<territory>)``.

    A name that already starts with "Quartier" is not given the word twice.

    Examples
    --------
    >>> quartier_title("Presles", "Soissons"), quartier_title("Quartier test", "Laon")
    ('Quartier Presles (Soissons)', 'Quartier test (Laon)')
    """
    if _plain(quartier).startswith(("quartier ", "quartiers ")):
        return f"{quartier} ({territory})"
    return lb.label("title_quartier", lang, quartier=quartier, territory=territory)


def access_map_name(service: str) -> str:
    """Return the name (file stem) of the accessibility map of a facility kind.

    Examples
    --------
    >>> access_map_name("health_centre")
    'accessibility_health_centre'
    """
    return f"accessibility_{quartier_slug(service).replace('-', '_')}"


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
        ``overview``, ``accessibility`` (of `service`), ``accessibility_<kind>``,
        ``renaturation``, ``renewal``, ``indicators``, ``heat`` or ``quartier_<slug>``; any
        other name is returned unchanged.
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
    >>> map_title("accessibility_health_centre", t, "en")
    'Walking access: Health centre — Soissons'
    """
    lb.check_lang(lang)
    tname = territory_name(territory)
    if name.startswith("quartier_") and getattr(territory, "quartiers", None) is not None:
        q = territory.quartiers
        for code, slug in quartier_slugs(q).items():
            if f"quartier_{slug}" == name:
                return quartier_title(quartier_display_name(q, code), tname, lang)
    fac = getattr(territory, "facilities", None)
    if name.startswith("accessibility_") and fac is not None:
        for kind in dict.fromkeys(str(k) for k in fac["kind"]):
            if access_map_name(kind) == name:
                service = kind
                name = "accessibility"
    key = _TITLE_KEYS.get(name)
    if key is None:
        return name
    return lb.label(key, lang, territory=tname, service=lb.value_label("kind", service, lang))
