"""Every committee map of a territory, written in one go from one set of metrics."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Literal

import folium

from cdv_geo.core import labels as lb
from cdv_geo.maps.builder import check_territory, ensure_metrics
from cdv_geo.maps.features import display_cache
from cdv_geo.maps.furniture import DEFAULT_TILES, Tiles
from cdv_geo.maps.heat_maps import HEAT_OUTPUTS_MAP, has_heat_data, heat_map
from cdv_geo.maps.html import AssetDir, render_html, save_map
from cdv_geo.maps.indicator_maps import INDICATOR_OUTPUTS, indicators_map
from cdv_geo.maps.services_maps import SERVICES_OUTPUTS, has_services_data, services_map
from cdv_geo.maps.territory_maps import OVERVIEW_OUTPUTS, overview_map, quartier_map
from cdv_geo.maps.theme_maps import (
    ACCESS_OUTPUTS,
    RENATURATION_OUTPUTS,
    RENEWAL_OUTPUTS,
    accessibility_map,
    renaturation_map,
    renewal_map,
)
from cdv_geo.pipeline import Metrics, compute_metrics
from cdv_geo.views.services import primary_service, resolve_services
from cdv_geo.views.titles import access_map_name, quartier_slugs

__all__ = ["COMMITTEE_OUTPUTS", "build_committee_maps"]

#: What the committee maps read together (``compute_metrics(only=...)``).
COMMITTEE_OUTPUTS = tuple(
    dict.fromkeys(
        (
            *OVERVIEW_OUTPUTS,
            *ACCESS_OUTPUTS,
            *RENATURATION_OUTPUTS,
            *RENEWAL_OUTPUTS,
            *INDICATOR_OUTPUTS,
            *HEAT_OUTPUTS_MAP,
            *SERVICES_OUTPUTS,
        )
    )
)


def _makers(
    t: Any, m: Metrics, lang: str, tiles: Tiles, services: tuple[str, ...]
) -> list[tuple[str, Callable[[], folium.Map]]]:
    service = primary_service(t, services[0] if services else None)
    common: dict[str, Any] = {"metrics": m, "lang": lang, "tiles": tiles}
    makers: list[tuple[str, Callable[[], folium.Map]]] = [
        ("overview", partial(overview_map, t, service=service, **common))
    ]
    if t.quartiers is not None:
        for code, slug in quartier_slugs(t.quartiers).items():
            makers.append(
                (f"quartier_{slug}", partial(quartier_map, t, code, service=service, **common))
            )
    makers += [
        (access_map_name(kind), partial(accessibility_map, t, service=kind, **common))
        for kind in services
    ]
    makers += [
        ("renaturation", partial(renaturation_map, t, **common)),
        ("renewal", partial(renewal_map, t, **common)),
        ("indicators", partial(indicators_map, t, **common)),
    ]
    if has_heat_data(t):
        makers.append(("heat", partial(heat_map, t, **common)))
    if has_services_data(m):
        makers.append(("services", partial(services_map, t, **common)))
    return makers


def build_committee_maps(
    territory: Any,
    out_dir: str | os.PathLike[str],
    *,
    metrics: Metrics | None = None,
    lang: str = "fr",
    assets: Literal["cdn", "inline"] = "cdn",
    asset_dir: AssetDir = None,
    tiles: Tiles = DEFAULT_TILES,
    services: str | Sequence[str] | None = None,
    progress: Callable[[Iterable[Any], str], Iterable[Any]] | None = None,
) -> dict[str, Path]:
    """Write every committee map of a territory into `out_dir`.

    The metrics are computed once (when not given) and shared by all maps. Files:
    ``overview.html``, ``quartier_<slug>.html`` (one per quartier, see
    :func:`~cdv_geo.views.titles.quartier_slugs`), ``accessibility_<kind>.html`` (one per
    facility kind of `services`: by default every kind the facilities layer has),
    ``renaturation.html``, ``renewal.html``, ``indicators.html``, ``heat.html`` when the
    territory has a heat raster, hydrants or incidents
    (:func:`~cdv_geo.maps.heat_maps.has_heat_data`), and ``services.html`` when the metrics
    hold the capacity, opening hours or commercial catchments of services
    (:func:`~cdv_geo.maps.services_maps.has_services_data`).

    Parameters
    ----------
    territory : Territory
    out_dir : path
        Folder (created if needed).
    metrics : Metrics, optional
        The metric results (:func:`cdv_geo.compute_metrics`).
    lang : {"fr", "en"}
    assets : {"cdn", "inline"}
        See :func:`cdv_geo.maps.save_map`. Inline assets are checked before anything is
        written.
    asset_dir : path, optional
        Folder of the assets for ``assets="inline"``.
    tiles : str or None
        Basemap; ``None`` for none.
    services : str or sequence of str, optional
        Facility kinds with an accessibility map (``"school,health_centre"`` or a list);
        default: every kind present in the facilities layer
        (:func:`~cdv_geo.views.services.resolve_services`). The overview and quartier maps
        draw the walking access to the first.
    progress : callable, optional
        ``progress(iterable, description)`` wrapping the map builds (the CLI's progress bar).

    Returns
    -------
    dict of str to pathlib.Path
        Map name -> file written, in reading order (overview first); the titles are
        :func:`~cdv_geo.views.titles.map_title` of the names.

    Examples
    --------
    >>> import cdv_geo as cg, tempfile
    >>> files = build_committee_maps(cg.datasets.soissons(), tempfile.mkdtemp(), tiles=None,
    ...                              services="water_play_area,health_centre")
    >>> list(files)[:2], len(files)
    (['overview', 'quartier_saint-crepin-ouest'], 11)
    >>> list(files)[-1]
    'services'
    >>> [name for name in files if name.startswith("access")]
    ['accessibility_water_play_area', 'accessibility_health_centre']
    """
    t = territory
    lb.check_lang(lang)
    check_territory(t)
    kinds = resolve_services(t, services)
    if metrics is None:
        shared = compute_metrics(
            t, only=list(COMMITTEE_OUTPUTS), service_kinds=kinds or None, breakdown=False
        )
    else:
        shared = ensure_metrics(t, metrics, COMMITTEE_OUTPUTS, primary_service(t))
    makers = _makers(t, shared, lang, tiles, kinds)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps = progress(makers, "maps") if progress is not None else makers
    with display_cache():  # the maps share the display form of the features they draw
        built = [(name, make()) for name, make in steps]
    if assets == "inline":
        # Fail before writing anything when an asset is missing: no half-built bundle.
        from cdv_geo.io import atomic_path

        texts = {name: render_html(m, assets="inline", asset_dir=asset_dir) for name, m in built}
        files = {}
        for name, text in texts.items():
            with atomic_path(out / f"{name}.html") as tmp:
                tmp.write_text(text, encoding="utf-8")
            files[name] = out / f"{name}.html"
        return files
    return {name: save_map(m, out / f"{name}.html", assets=assets) for name, m in built}
