"""The NPNRU layer: operations coloured by kind, hatched in progress, dimmed when planned."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
from folium.template import Template

from cdv_geo.core import labels as lb
from cdv_geo.maps import style as st
from cdv_geo.maps.features import Texts, add_geojson, checked, column, popup, swatch, tip, year_text
from cdv_geo.maps.runtime import CdvElement, MapLayer

__all__ = ["Hatches", "css_id", "renewal_layer"]

_STATUSES = ("planned", "in_progress", "done")
_STATUS_STYLE: dict[str, dict[str, Any]] = {
    "planned": {"fillOpacity": 0.12, "dashArray": "6 4", "weight": 2},
    "in_progress": {"fillOpacity": 1.0, "weight": 2},
    "done": {"fillOpacity": 0.6, "weight": 2},
}
_GREY = "#666666"


def css_id(value: str) -> str:
    """Return `value` as a CSS identifier fragment (lower-case ASCII and dashes).

    Examples
    --------
    >>> css_id("Façade requalifiée")
    'facade-requalifiee'
    """
    from cdv_geo.schema import normalize_token

    return normalize_token(value).replace("_", "-") or "x"


class Hatches(CdvElement):
    """SVG patterns for hatched polygons (Leaflet paths get them through a CSS class)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>
        {%- for id, colour in this.patterns %}
        <pattern id="cdv-hatch-{{ id }}" patternUnits="userSpaceOnUse" width="7" height="7"
          patternTransform="rotate(45)"><rect width="7" height="7" fill="{{ colour }}"
          fill-opacity="0.18"/><line x1="0" y1="0" x2="0" y2="7" stroke="{{ colour }}"
          stroke-width="3"/></pattern>
        {%- endfor %}
        </defs></svg>
        <style>
        {%- for id, colour in this.patterns %}
        path.cdv-hatch-{{ id }} { fill: url(#cdv-hatch-{{ id }}); }
        {%- endfor %}
        </style>
        {% endmacro %}
        """
    )

    def __init__(self, colours: Mapping[str, str]) -> None:
        super().__init__()
        self._name = "CdvHatches"
        pats = [(css_id(k), v) for k, v in colours.items()]
        pats.append(("grey", _GREY))
        # Only our own ids and #rrggbb colours reach the template (never data strings).
        self.patterns = [(i, c) for i, c in pats if st.is_colour(c)]


def _styles(ops: list[str]) -> tuple[list[dict[str, Any]], dict[tuple[str, str], int]]:
    styles: list[dict[str, Any]] = []
    index: dict[tuple[str, str], int] = {}
    for o in ops:
        colour = st.OPERATION_COLOURS.get(o, "#777777")
        for s in _STATUSES:
            style: dict[str, Any] = {"color": colour, "fillColor": colour, **_STATUS_STYLE[s]}
            if s == "in_progress":
                style["className"] = f"cdv-hatch-{css_id(o)}"
            index[(o, s)] = len(styles)
            styles.append(style)
    return styles, index


def _legend(ops: list[str], lang: str) -> list[str]:
    legend = [
        swatch(
            lb.value_label("operation", o, lang),
            fill=st.OPERATION_COLOURS.get(o, "#777"),
            stroke=st.OPERATION_COLOURS.get(o, "#777"),
        )
        for o in ops
    ]
    hatch = (
        '<svg class="cdv-sw" style="border:0" viewBox="0 0 16 12"><rect width="16" height="12" '
        'fill="url(#cdv-hatch-grey)" stroke="#666" stroke-width="2"/></svg>'
    )
    return [
        *legend,
        swatch(
            lb.value_label("status", "planned", lang),
            fill=_GREY,
            stroke=_GREY,
            opacity=0.2,
            dashed=True,
        ),
        swatch(lb.value_label("status", "in_progress", lang), html_icon=hatch),
        swatch(lb.value_label("status", "done", lang), fill=_GREY, stroke=_GREY, opacity=0.7),
    ]


def renewal_layer(
    renewal_sites: gpd.GeoDataFrame,
    *,
    lang: str = "fr",
    simplify_m: float | None = 0.5,
    show: bool = True,
) -> MapLayer:
    """NPNRU operations coloured by operation; hatched while in progress, dimmed when planned.

    The popup gives the dwellings, housing type, tenure, status and year of each operation.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> r = gpd.GeoDataFrame({"id": ["1"], "name": ["Tour A"], "operation": ["demolition"],
    ...                       "dwellings": [80], "status": ["in_progress"], "year": [2025]},
    ...                      geometry=[box(0, 0, 40, 20)], crs=2154)
    >>> renewal_layer(r).n_features
    1
    """
    gdf = checked(renewal_sites, "renewal_sites", ["point", "polygon"])
    lb.check_lang(lang)
    layer = MapLayer("renewal_sites", lb.label("layer_renewal_sites", lang), show=show)
    op_col = column(gdf, "operation")
    here = {str(o) for o in op_col if o is not None}
    ops = [o for o in st.OPERATION_COLOURS if o in here] + sorted(here - set(st.OPERATION_COLOURS))
    styles, index = _styles(ops)
    heads = {
        k: lb.label(k, lang)
        for k in ("operation", "dwellings", "housing_type", "tenure", "status", "year")
    }
    word = heads["dwellings"].lower()
    texts = Texts()
    props = []
    for name, op, dw, ht, ten, status, yr in zip(
        column(gdf, "name"),
        op_col,
        column(gdf, "dwellings"),
        column(gdf, "housing_type"),
        column(gdf, "tenure"),
        column(gdf, "status"),
        column(gdf, "year"),
        strict=True,
    ):
        op_text, dw_text = lb.value_label("operation", op, lang), lb.fmt_number(dw, lang)
        rows = [
            (heads["operation"], op_text),
            (heads["dwellings"], dw_text),
            (heads["housing_type"], lb.value_label("housing_type", ht, lang)),
            (heads["tenure"], lb.value_label("tenure", ten, lang)),
            (heads["status"], lb.value_label("status", status, lang)),
            (heads["year"], year_text(yr)),
        ]
        drawn = status if status in _STATUSES else "done"
        props.append(
            {
                "s": index.get((str(op), drawn), 0),
                "t": texts.add(tip(name, f"{op_text} — {dw_text} {word}")),
                "p": texts.add(popup(name, rows)),
            }
        )
    add_geojson(layer, gdf, props, styles=styles, texts=texts, simplify_m=simplify_m, radius=8)
    Hatches({o: st.OPERATION_COLOURS.get(o, "#777777") for o in ops}).add_to(layer)
    layer.legend = _legend(ops, lang)
    return layer
