"""Service layers: homes by the capacity and the opening hours within reach, shopping catchments.

Three layers read the pipeline's service results (issue 25), never compute them:

- :func:`capacity_layer`: each home coloured by the floating-catchment access to one kind of
  service (capacity per 10,000 residents, ``<kind>_access_per_10k``) or by the weekly hours
  when one is open within reach (``<kind>_open_hours_week``);
- :func:`catchments_layer`: each home coloured by its most probable commercial centre (Huff);
- :func:`centres_layer`: the commercial centres, circles sized by the residents they draw.

Every text from the data (a centre's name, a kind) is escaped; a layer whose data are marked
illustrative (``attrs["illustrative"]`` or an ``illustrative`` column) says so in its legend
and popups.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core import labels as lb
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.maps import style as st
from cdv_geo.maps.features import (
    Render,
    Texts,
    add_geojson,
    checked,
    column,
    legend_note,
    points,
    popup,
    swatch,
    tip,
    tip_columns,
    tip_table,
    use_canvas,
)
from cdv_geo.maps.layers_access import HomeForm, add_points, as_points
from cdv_geo.maps.layers_perimeters import class_breaks, spread
from cdv_geo.maps.runtime import Call, MapLayer

__all__ = [
    "CENTRE_COLOURS",
    "HOUR_BINS",
    "Measure",
    "capacity_layer",
    "catchments_layer",
    "centres_layer",
    "is_illustrative",
    "service_kinds",
]

#: What :func:`capacity_layer` draws: the capacity per 10,000 residents, or the weekly hours.
Measure = Literal["access", "hours"]
#: Class limits of the weekly open hours (a service open Monday–Friday 9–12 and 14–17 is open
#: 30 hours a week; 168 hours is always open).
HOUR_BINS: tuple[float, ...] = (10.0, 20.0, 35.0, 50.0)
#: Colours of the commercial centres' catchments (qualitative, distinct in print).
CENTRE_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
)
_OTHER_CENTRES = "#cfc6b8"
_ZERO_COLOUR = "#fdd0a2"
_COLUMNS = {"access": "_access_per_10k", "hours": "_open_hours_week"}


def is_illustrative(gdf: pd.DataFrame) -> bool:
    """Return whether a layer's data are marked illustrative (attribute or column).

    Examples
    --------
    >>> df = pd.DataFrame({"illustrative": [False, True]})
    >>> is_illustrative(df), is_illustrative(pd.DataFrame({"a": [1]}))
    (True, False)
    """
    if bool(gdf.attrs.get("illustrative", False)):
        return True
    if "illustrative" in gdf.columns:
        return bool(pd.Series(gdf["illustrative"]).fillna(False).astype(bool).any())
    return False


def _classes(values: np.ndarray, measure: Measure, lang: str) -> tuple[list[float], list[str]]:
    """Return the upper class limits and their labels (values > 0; 0 and NaN apart)."""
    if measure == "hours":
        edges = list(HOUR_BINS)
        key = ("svc_hours_first", "svc_hours_class", "svc_hours_last")
    else:
        positive = values[np.isfinite(values) & (values > 0)]
        if not len(positive):
            return [], []
        edges = class_breaks(positive, 4)[1:-1]
        edges = [e for e in edges if e > 0] or [float(positive.max())]
    decimals = 0 if all(float(e).is_integer() for e in edges) else 1
    n = [lb.fmt_number(e, lang, decimals) for e in edges]
    if measure == "hours":
        texts = [lb.label(key[0], lang, hi=n[0])]
        texts += [lb.label(key[1], lang, lo=a, hi=b) for a, b in itertools.pairwise(n)]
        texts.append(lb.label(key[2], lang, lo=n[-1]))
    else:
        texts = [f"> 0 – {n[0]}"] + [f"{a} – {b}" for a, b in itertools.pairwise(n)]
        texts.append(f"{n[-1]} +")
    return edges, texts


def capacity_layer(
    homes: gpd.GeoDataFrame,
    *,
    kind: str,
    measure: Measure = "access",
    within_min: float | None = None,
    lang: str = "fr",
    simplify_m: float | None = 0.5,
    render: Render = "auto",
    form: HomeForm = "auto",
    show: bool = True,
) -> MapLayer:
    """Homes coloured by the capacity, or the opening hours, of one kind within walking reach.

    Parameters
    ----------
    homes : GeoDataFrame
        ``Metrics.residences_services``: the residences with ``<kind>_access_per_10k`` and/or
        ``<kind>_open_hours_week`` (NaN: the home is off the street network).
    kind : str
        The facility kind.
    measure : {"access", "hours"}
        ``"access"``: capacity per 10,000 residents (floating catchment, as the DREES APL);
        ``"hours"``: hours a week when a service of the kind is open within reach.
    within_min : float, optional
        The walking time of the opening hours (said in the legend).
    simplify_m, render, form
        As :func:`cdv_geo.maps.layers_access.residences_layer`.

    Raises
    ------
    CdvGeoError
        When `homes` has no column for `kind` and `measure` (the message names it).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> h = gpd.GeoDataFrame({"id": ["a", "b"], "population": [10, 20],
    ...                       "ccas_open_hours_week": [6.0, 0.0]},
    ...                      geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], crs=2154)
    >>> layer = capacity_layer(h, kind="ccas", measure="hours", lang="en")
    >>> layer.n_features, layer.title
    (2, 'Opening hours within walking reach: Municipal social services (CCAS)')
    """
    gdf = checked(homes, "residences", ["point", "polygon"])
    lb.check_lang(lang)
    if measure not in _COLUMNS:
        raise CdvGeoError(f"measure={measure!r} is not valid; use 'access' or 'hours'")
    col = f"{kind}{_COLUMNS[measure]}"
    if col not in gdf.columns:
        found = [c for c in gdf.columns if c.endswith(_COLUMNS[measure])]
        raise CdvGeoError(
            f"the homes have no column {col!r} (found: {', '.join(found) or 'none'}); compute "
            "it with compute_metrics(only=['capacity_access', 'open_hours']) and pass "
            "Metrics.residences_services"
        )
    values = pd.to_numeric(gdf[col], errors="coerce").to_numpy(dtype=float)
    service = lb.value_label("kind", kind, lang)
    title_key = "layer_capacity" if measure == "access" else "layer_open_hours"
    layer = MapLayer(f"{measure}_{kind}", lb.label(title_key, lang, service=service), show=show)
    edges, class_texts = _classes(values, measure, lang)
    good = spread(st.CHOROPLETH_GOOD_COLOURS[1:], max(len(class_texts), 1))
    zero_text = lb.label("svc_access_zero" if measure == "access" else "svc_hours_zero", lang)
    palette = [_ZERO_COLOUR, *good[: len(class_texts)], st.UNREACHABLE_COLOUR]
    finite = np.isfinite(values)
    pos = np.searchsorted(np.asarray(edges, dtype=float), np.nan_to_num(values), side="right")
    style_idx = np.where(
        ~finite, len(palette) - 1, np.where(np.nan_to_num(values) <= 0, 0, 1 + pos)
    ).astype(int)
    styles = [{"color": "#555", "weight": 0.6, "fillColor": c, "fillOpacity": 0.8} for c in palette]
    value_key = "svc_access_value" if measure == "access" else "svc_hours_value"
    shown = [
        lb.kv(service, lb.label(value_key, lang, value=lb.fmt_number(v, lang, 1)), lang)
        if ok
        else lb.label("unreachable", lang)
        for v, ok in zip(values, finite, strict=True)
    ]
    illustrative = is_illustrative(gdf)
    note = lb.label("illustrative", lang) if illustrative else None
    plain = lb.label("layer_residences_plain", lang)
    heads = [n if n is not None else plain for n in column(gdf, "name")]
    pops = [
        lb.kv(lb.label("population", lang), lb.fmt_number(p, lang), lang) if p is not None else None
        for p in column(gdf, "population")
    ]
    notes = [note] * len(gdf)
    texts = Texts()
    if as_points(form, len(gdf)):
        tips = tip_table(texts, heads, pops, shown, notes).tolist()
        add_points(layer, gdf, style_idx, tips, styles=styles, texts=texts)
    else:
        add_geojson(
            layer,
            gdf,
            {"s": style_idx.tolist(), "t": tip_columns(texts, heads, pops, shown, notes)},
            styles=styles,
            texts=texts,
            simplify_m=simplify_m,
            canvas=use_canvas(render, len(gdf)),
            radius=5,
        )
    if measure == "access":
        unit = lb.label("svc_access_unit", lang)
    elif within_min is not None:
        unit = lb.label("svc_hours_unit", lang, minutes=lb.fmt_number(within_min, lang))
    else:
        unit = lb.label("svc_hours_unit_plain", lang)
    legend = [legend_note(unit)]
    legend.append(swatch(zero_text, fill=_ZERO_COLOUR, stroke="#555", opacity=0.85))
    legend += [
        swatch(t, fill=c, stroke="#555", opacity=0.85)
        for t, c in zip(class_texts, good, strict=False)
    ]
    if not finite.all():
        legend.append(swatch(lb.label("unreachable", lang), fill=st.UNREACHABLE_COLOUR))
    if note:
        legend.append(legend_note(note))
    layer.legend = legend
    return layer


def _centre_names(centres: pd.DataFrame) -> dict[str, str]:
    """Centre id -> its name (its id when it has none)."""
    ids = [str(i) for i in (centres["id"] if "id" in centres.columns else centres.index)]
    names = column(centres, "name")
    return {i: (str(n) if n is not None else i) for i, n in zip(ids, names, strict=True)}


def catchments_layer(
    homes: gpd.GeoDataFrame,
    *,
    centres: pd.DataFrame | None = None,
    lang: str = "fr",
    simplify_m: float | None = 0.5,
    render: Render = "auto",
    form: HomeForm = "auto",
    show: bool = True,
) -> MapLayer:
    """Homes coloured by their most probable commercial centre (the Huff model).

    Parameters
    ----------
    homes : GeoDataFrame
        ``Metrics.residences_services`` with ``main_centre`` (the centre's id, missing when
        none is within reach), ``main_probability`` and optionally ``main_centre_name``.
    centres : DataFrame, optional
        ``Metrics.commercial_centres`` (``id``, ``name``, ``catchment_population``): the
        legend's order (largest catchment first) and names.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> h = gpd.GeoDataFrame({"main_centre": ["c1", None], "main_probability": [0.8, None],
    ...                       "main_centre_name": ["<Parade>", None]},
    ...                      geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], crs=2154)
    >>> layer = catchments_layer(h, lang="en")
    >>> layer.n_features, "&lt;Parade&gt;" in "".join(layer.legend)
    (2, True)
    """
    gdf = checked(homes, "residences", ["point", "polygon"])
    lb.check_lang(lang)
    if "main_centre" not in gdf.columns:
        raise CdvGeoError(
            "the homes have no 'main_centre' column; compute it with "
            "compute_metrics(only=['commercial_catchment']) and pass Metrics.residences_services"
        )
    main = [str(c) if c is not None else None for c in column(gdf, "main_centre")]
    names = _centre_names(centres) if centres is not None else {}
    for c, n in zip(main, column(gdf, "main_centre_name"), strict=True):
        if c is not None and n is not None:
            names.setdefault(c, str(n))
    present = [c for c in dict.fromkeys(main) if c is not None]
    if centres is not None and "catchment_population" in centres.columns:
        ids = [str(i) for i in (centres["id"] if "id" in centres.columns else centres.index)]
        size = dict(zip(ids, pd.to_numeric(centres["catchment_population"]), strict=True))
        present.sort(key=lambda c: -float(size.get(c, 0.0)))
    coloured = present[: len(CENTRE_COLOURS)]
    colour = {c: CENTRE_COLOURS[i] for i, c in enumerate(coloured)}
    palette = [*CENTRE_COLOURS[: len(coloured)], _OTHER_CENTRES, st.UNREACHABLE_COLOUR]
    index = {c: i for i, c in enumerate(coloured)}
    style_idx = np.array(
        [len(palette) - 1 if c is None else index.get(c, len(palette) - 2) for c in main],
        dtype=int,
    )
    styles = [{"color": "#555", "weight": 0.6, "fillColor": c, "fillOpacity": 0.8} for c in palette]
    layer = MapLayer("catchments", lb.label("layer_catchments", lang), show=show)
    head = lb.label("svc_main_centre", lang)
    probs = column(gdf, "main_probability")
    shown = [_centre_text(c, p, head, names, lang) for c, p in zip(main, probs, strict=True)]
    illustrative = is_illustrative(gdf) or (centres is not None and is_illustrative(centres))
    note = lb.label("illustrative", lang) if illustrative else None
    plain = lb.label("layer_residences_plain", lang)
    heads = [n if n is not None else plain for n in column(gdf, "name")]
    notes = [note] * len(gdf)
    texts = Texts()
    if as_points(form, len(gdf)):
        add_points(
            layer, gdf, style_idx, tip_table(texts, heads, shown, notes).tolist(),
            styles=styles, texts=texts,
        )  # fmt: skip
    else:
        add_geojson(
            layer,
            gdf,
            {"s": style_idx.tolist(), "t": tip_columns(texts, heads, shown, notes)},
            styles=styles,
            texts=texts,
            simplify_m=simplify_m,
            canvas=use_canvas(render, len(gdf)),
            radius=5,
        )
    legend = [legend_note(lb.label("svc_catchments_note", lang))]
    legend += [
        swatch(names.get(c, c), fill=colour[c], stroke="#555", opacity=0.85) for c in coloured
    ]
    if len(present) > len(coloured):
        legend.append(swatch(lb.label("svc_other_centres", lang), fill=_OTHER_CENTRES))
    if any(c is None for c in main):
        legend.append(swatch(lb.label("svc_no_centre", lang), fill=st.UNREACHABLE_COLOUR))
    if note:
        legend.append(legend_note(note))
    layer.legend = legend
    return layer


def _centre_text(c: str | None, p: Any, head: str, names: dict[str, str], lang: str) -> str:
    """Return a home's line: its most probable centre and the probability, or "no centre"."""
    if c is None:
        return lb.label("svc_no_centre", lang)
    if p is None:
        return lb.kv(head, names.get(c, c), lang)
    prob = lb.label("svc_probability", lang, value=lb.fmt_percent(p, lang))
    return lb.kv(head, f"{names.get(c, c)} ({prob})", lang)


def _radii(values: np.ndarray, smallest: float = 6.0, largest: float = 24.0) -> np.ndarray:
    """Circle radii (pixels) whose areas are proportional to `values` (the largest: `largest`).

    Examples
    --------
    >>> _radii(np.array([100.0, 400.0, 0.0])).tolist()
    [12.0, 24.0, 6.0]
    """
    v = np.nan_to_num(np.asarray(values, dtype=float)).clip(min=0)
    top = float(v.max()) if len(v) else 0.0
    if top <= 0:
        return np.full(len(v), smallest)
    return np.maximum(largest * np.sqrt(v / top), smallest)


def centres_layer(
    centres: gpd.GeoDataFrame,
    *,
    retained: pd.DataFrame | None = None,
    quartier_names: dict[str, str] | None = None,
    lang: str = "fr",
    show: bool = True,
) -> MapLayer:
    """Draw the commercial centres: circles sized by their catchment population, with a popup.

    Parameters
    ----------
    centres : GeoDataFrame
        ``Metrics.commercial_centres``: ``id``, ``name``, ``attractiveness``, ``quartier``,
        ``catchment_population``, ``n_homes_main``.
    retained : DataFrame, optional
        ``Metrics.commercial_catchment`` (index ``quartier``, ``retained_share``): a centre's
        popup gives the share of its quartier's residents that the quartier's centres retain.
    quartier_names : dict, optional
        Quartier code -> name (for that line).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> c = gpd.GeoDataFrame({"id": ["c1"], "name": ["<script>x</script>"],
    ...                       "catchment_population": [1200.0], "quartier": ["Q1"]},
    ...                      geometry=[Point(0, 0)], crs=2154)
    >>> layer = centres_layer(c)
    >>> layer.n_features
    1
    """
    gdf = checked(centres, "commercial centres", ["point", "polygon"])
    lb.check_lang(lang)
    ids = [str(i) for i in (gdf["id"] if "id" in gdf.columns else gdf.index)]
    names = list(_centre_names(gdf).values())
    size = pd.to_numeric(
        gdf["catchment_population"] if "catchment_population" in gdf.columns else 0.0,
        errors="coerce",
    )
    values = np.broadcast_to(np.asarray(size, dtype=float), (len(gdf),))
    radii = _radii(values)
    illustrative = is_illustrative(gdf)
    qnames = quartier_names or {}
    share = retained["retained_share"] if retained is not None else None
    texts = Texts()
    pops, tips = [], []
    for i, (name, q) in enumerate(zip(names, column(gdf, "quartier"), strict=True)):
        rows: list[tuple[str, Any]] = [
            (lb.label("svc_catchment_population", lang), lb.fmt_number(values[i], lang))
        ]
        n_main = column(gdf, "n_homes_main")[i]
        if n_main is not None:
            rows.append((lb.label("svc_homes_main", lang), lb.fmt_number(n_main, lang)))
        attract = column(gdf, "attractiveness")[i]
        if attract is not None:
            rows.append((lb.label("svc_attractiveness", lang), lb.fmt_number(attract, lang)))
        if share is not None and q is not None and str(q) in share.index:
            v = share.get(str(q))
            if v is not None and not pd.isna(v):
                head = lb.label("svc_retained", lang, quartier=qnames.get(str(q)) or str(q))
                rows.append((head, lb.fmt_percent(float(v), lang)))
        if illustrative:
            rows.append((lb.label("svc_data", lang), lb.label("illustrative", lang)))
        pops.append(texts.add(popup(name, rows)))
        tips.append(texts.add(tip(name, lb.fmt_number(values[i], lang))))
    classes = [
        {"style": {"radius": float(r), "color": "#fff", "weight": 1.5, "fillColor": "#5d4037",
                   "fillOpacity": 0.75}}
        for r in radii
    ]  # fmt: skip
    xs, ys = points(gdf)
    spec = {
        "x": xs,
        "y": ys,
        "c": list(range(len(ids))),
        "t": tips,
        "p": pops,
        "texts": texts.items,
        "classes": classes,
        "mode": "circle",
        "cluster": False,
    }
    layer = MapLayer("centres", lb.label("layer_centres", lang), show=show)
    Call("points", "centres", spec).add_to(layer)
    layer.n_features = len(ids)
    legend = [swatch(lb.label("svc_centres_note", lang), fill="#5d4037", shape="dot", opacity=0.75)]
    if illustrative:
        legend.append(legend_note(lb.label("illustrative", lang)))
    layer.legend = legend
    return layer


def service_kinds(homes: pd.DataFrame | None, measure: Measure = "access") -> list[str]:
    """Return the kinds with a column of `measure` in the homes, in the columns' order.

    Examples
    --------
    >>> service_kinds(pd.DataFrame(columns=["gp_access_per_10k", "ccas_open_hours_week"]))
    ['gp']
    """
    if homes is None:
        return []
    suffix = _COLUMNS[measure]
    return [c.removesuffix(suffix) for c in homes.columns if str(c).endswith(suffix)]
