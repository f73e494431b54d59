"""The map of the contrat's located actions and TFPB counterparts (points d'apport volontaire).

:func:`actions_map` draws the quartiers, the actions that have a place (a point or area of the
actions sheet) and the located counterparts of the landlords' TFPB statement. Each marker's
popup gives what a committee asks: the action, its pillar, operator, status and funding by
funder; the counterpart's landlord, axis of the national framework, year and amount. French by
default (``lang="en"``); every data text is escaped (:func:`cdv_geo.core.escape.escape_text`).
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.escape import escape_text
from cdv_geo.core.labels import check_lang, fmt_number, label
from cdv_geo.core.labels_actions import action_column_label, action_value_label

__all__ = ["ACTION_COLOUR", "TFPB_COLOUR", "actions_map"]

#: Marker colours: the actions, the TFPB counterparts.
ACTION_COLOUR = "#e65100"
TFPB_COLOUR = "#1b5e20"


def _eur(value: Any, lang: str) -> str:
    if value is None or pd.isna(value):
        return label("no_data", lang)
    return f"{fmt_number(float(value), lang)}\u00a0€"


def _popup(title: Any, lines: list[tuple[str, Any]]) -> folium.Popup:
    """Return a popup: an escaped title, then ``label : value`` lines (escaped)."""
    e = escape_text
    body = "".join(f"<div>{e(k)} : {e(v)}</div>" for k, v in lines if v not in (None, ""))
    return folium.Popup(f"<b>{e(title)}</b>{body}", max_width=320)


def _points(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    located = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    out = located.copy()
    out["geometry"] = located.geometry.representative_point()
    return out.to_crs(4326)


def _action_layer(programme: Any, lang: str, year: int | None) -> folium.FeatureGroup:
    layer = folium.FeatureGroup(name=escape_text(label("am_actions", lang)))
    actions = programme.actions
    if not isinstance(actions, gpd.GeoDataFrame) or actions.crs is None:
        return layer
    funding = programme.funding
    if year is not None:
        funding = funding[funding["year"] == year]
    for _, a in _points(actions).iterrows():
        lines: list[tuple[str, Any]] = [
            (
                action_column_label("pillar", lang=lang),
                action_value_label("pillar", a["pillar"], lang),
            ),
            (action_column_label("operator", lang=lang), a.get("operator")),
            (label("status", lang), action_value_label("status", a.get("status"), lang)),
        ]
        mine = funding[funding["action"] == a["id"]]
        lines += [
            (f"{label('am_funding', lang)} — {f}", _eur(v, lang))
            for f, v in mine.groupby("funder", sort=False)["amount_eur"].sum().items()
        ]
        folium.CircleMarker(
            [a.geometry.y, a.geometry.x],
            radius=7,
            color=ACTION_COLOUR,
            fill=True,
            fill_opacity=0.85,
            tooltip=escape_text(a.get("title")),
            popup=_popup(a.get("title"), lines),
        ).add_to(layer)
    return layer


def _tfpb_layer(tfpb: pd.DataFrame, lang: str, year: int | None) -> folium.FeatureGroup:
    layer = folium.FeatureGroup(name=escape_text(label("am_tfpb", lang)))
    if not isinstance(tfpb, gpd.GeoDataFrame) or tfpb.crs is None:
        return layer
    lines_of = tfpb if year is None else tfpb[tfpb["year"] == year]
    for _, c in _points(lines_of).iterrows():
        axis = action_value_label("axis", c["axis"], lang)
        title = c.get("title") if isinstance(c.get("title"), str) and c.get("title") else axis
        lines = [
            (action_column_label("landlord", lang=lang), c["landlord"]),
            (action_column_label("axis", lang=lang), axis),
            (action_column_label("year", lang=lang), c["year"]),
            (action_column_label("amount_eur", lang=lang), _eur(c["amount_eur"], lang)),
        ]
        folium.RegularPolygonMarker(
            [c.geometry.y, c.geometry.x],
            number_of_sides=4,
            radius=7,
            color=TFPB_COLOUR,
            fill=True,
            fill_color=TFPB_COLOUR,
            fill_opacity=0.85,
            tooltip=escape_text(title),
            popup=_popup(title, lines),
        ).add_to(layer)
    return layer


def actions_map(
    quartiers: gpd.GeoDataFrame,
    *,
    programme: Any = None,
    tfpb: pd.DataFrame | None = None,
    territory: str = "",
    year: int | None = None,
    lang: str = "fr",
) -> folium.Map:
    """Return a Folium map of the quartiers, the located actions and TFPB counterparts.

    Parameters
    ----------
    quartiers : GeoDataFrame
        The quartiers (``code``, ``name``), in any CRS.
    programme : Programme, optional
        :func:`cdv_geo.io.actions.read_actions`'s programme: its located actions are drawn.
    tfpb : DataFrame, optional
        :func:`cdv_geo.io.actions.read_tfpb`'s table: its located counterparts are drawn.
    territory : str
        The territory's name, in the title.
    year : int, optional
        Only the funding and TFPB lines of this year.
    lang : {"fr", "en"}
        The language of the legend and popups.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> t = cg.datasets.soissons()
    >>> m = actions_map(t.quartiers, programme=t.table("actions"), tfpb=t.table("tfpb"),
    ...                 territory="Soissons", year=2024)
    >>> "Quartiers prioritaires" in m.get_root().render()
    True
    """
    lang = check_lang(lang)
    if quartiers is None or quartiers.crs is None or quartiers.empty:
        raise CdvGeoError("actions_map(quartiers=...): give the quartiers layer, with its CRS")
    q = quartiers.to_crs(4326)
    x0, y0, x1, y1 = q.total_bounds
    fmap = folium.Map(tiles="OpenStreetMap", control_scale=True)
    fmap.fit_bounds([[y0, x0], [y1, x1]])
    title = label("am_title", lang, territory=territory).rstrip(" —")
    fmap.get_root().html.add_child(  # type: ignore[attr-defined]
        folium.Element(
            '<div style="position:fixed;top:8px;left:50px;z-index:1000;background:white;'
            f'padding:4px 8px;font:bold 14px sans-serif">{escape_text(title)}</div>'
        )
    )
    shapes = folium.FeatureGroup(name=escape_text(label("am_quartiers", lang)))
    keep = q[["code", "name", "geometry"]].copy()
    keep["label"] = [escape_text(n) for n in keep["name"]]
    folium.GeoJson(
        keep[["label", "geometry"]].to_json(),
        style_function=lambda _: {"color": "#4a148c", "weight": 2, "fillOpacity": 0.08},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
    ).add_to(shapes)
    shapes.add_to(fmap)
    if programme is not None:
        _action_layer(programme, lang, year).add_to(fmap)
    if tfpb is not None:
        _tfpb_layer(tfpb, lang, year).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
