"""Which facility kinds the accessibility maps and figures cover: those the town has.

A pack follows the town: by default every kind present in the facilities layer gets its
accessibility map (known kinds in the order of :data:`cdv_geo.schema.FACILITY_KINDS`, then the
others as given), and the overview and quartier maps draw the first of them. A kind asked for
but absent from the facilities is refused (its map would be empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdv_geo.core.errors import CdvGeoError

__all__ = ["parse_services", "present_kinds", "primary_service", "resolve_services"]


def present_kinds(t: Any) -> tuple[str, ...]:
    """Return the facility kinds of the territory: known kinds in their order, then the others.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> present_kinds(cg.datasets.soissons())[:3]
    ('water_play_area', 'health_centre', 'social_centre')
    """
    from cdv_geo.schema import FACILITY_KINDS

    fac = getattr(t, "facilities", None)
    if fac is None or "kind" not in fac.columns:
        return ()
    present = {str(k) for k in fac["kind"].dropna()}
    known = [k for k in FACILITY_KINDS if k in present]
    return (*known, *sorted(present - set(known)))


def parse_services(text: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """Return the kinds of a ``--services kind1,kind2`` option (None when not given).

    Examples
    --------
    >>> parse_services(" school, health_centre ,"), parse_services(None)
    (('school', 'health_centre'), None)
    """
    if text is None:
        return None
    parts = text.split(",") if isinstance(text, str) else list(text)
    kinds = tuple(dict.fromkeys(p.strip() for p in parts if p and p.strip()))
    return kinds or None


def resolve_services(t: Any, services: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """Return the kinds to map: `services` (checked), else every kind present.

    Raises
    ------
    CdvGeoError
        When a kind asked for has no facility in the territory (the message lists those
        present).

    Examples
    --------
    >>> import cdv_geo as cg
    >>> t = cg.datasets.soissons()
    >>> resolve_services(t, "school,shop")
    ('school', 'shop')
    >>> resolve_services(t, ["library"])
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.CdvGeoError: no facility of kind 'library' in territory 'Soissons' ...
    """
    present = present_kinds(t)
    asked = parse_services(services)
    if asked is None:
        return present
    absent = [k for k in asked if k not in present]
    if absent:
        raise CdvGeoError(
            f"no facility of kind {', '.join(map(repr, absent))} in territory "
            f"{getattr(t, 'name', '')!r} (its map would be empty); kinds present: "
            f"{', '.join(present) or 'none (no facilities layer)'}"
        )
    return asked


def primary_service(t: Any, service: str | None = None) -> str:
    """Return the kind the overview and quartier maps draw: `service`, else the first present.

    ``water_play_area`` when the territory has no facility at all (the maps then note the
    missing layer).

    Examples
    --------
    >>> import cdv_geo as cg
    >>> primary_service(cg.datasets.soissons()), primary_service(None, "school")
    ('water_play_area', 'school')
    """
    if service is not None:
        return service
    kinds = present_kinds(t)
    return kinds[0] if kinds else "water_play_area"
