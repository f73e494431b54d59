"""The static maps and charts of the committee dossier (matplotlib, PNG bytes).

Each function draws one map of a territory in its metric CRS, framed on what it shows, with the
furniture of :mod:`cdv_geo.output.cartography` (scale bar, north arrow, sources, CRS, date) and a
legend beside the map (never over the quartiers). A function whose layers are missing returns
None: the page then says what is missing instead of showing an empty chart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from cdv_geo.core.labels import kind_label, label, value_label
from cdv_geo.core.tables import COMMUNE, QPV
from cdv_geo.maps.style import (
    DESEALED_COLOUR,
    FACILITY_STYLE,
    GREEN_PRIVATE,
    GREEN_PUBLIC,
    OPERATION_COLOURS,
    QUARTIER_COLOUR,
    SERVICE_BAND_COLOURS,
    TREE_COLOUR,
)
from cdv_geo.output.cartography import add_furniture, figure_png, frame
from cdv_geo.output.dossier_html import dl
from cdv_geo.pipeline import Metrics
from cdv_geo.territory import Territory

__all__ = [
    "MapStyle",
    "access_map",
    "map_sources",
    "overview_map",
    "quartier_map",
    "renaturation_map",
    "renewal_map",
    "timeline_chart",
    "trend_chart",
]


@dataclass(frozen=True)
class MapStyle:
    """Size and text of the dossier's maps for one paper size.

    Attributes
    ----------
    size : (float, float)
        Figure size in inches (the width of the page's text block).
    legend_share : float
        Share of the width kept for the legend, right of the map.
    fontsize : float
    dpi : int
    lang : str
    date : datetime.date
    """

    size: tuple[float, float] = (7.1, 3.9)
    legend_share: float = 0.3
    fontsize: float = 7.0
    dpi: int = 200
    lang: str = "fr"
    date: dt.date = dt.date(2000, 1, 1)


def map_sources(territory: Territory) -> list[str]:
    """Return the sources named on the maps: the attribution, else the layers' ``source`` values.

    Examples
    --------
    >>> map_sources(Territory("T", attribution="IGN Admin Express ; ANCT"))
    ['IGN Admin Express ; ANCT']
    """
    if territory.attribution:
        return [territory.attribution]
    found: list[str] = []
    for gdf in territory.layers().values():
        if "source" in gdf.columns:
            found += [str(v) for v in gdf["source"].dropna().unique()[:3]]
    return list(dict.fromkeys(found))[:4]


class _Map:
    """One map: a figure with the map axes left and the legend right."""

    def __init__(self, t: Territory, style: MapStyle) -> None:
        # a bare Figure (no pyplot): the user's backend and open figures are left alone
        from matplotlib.figure import Figure

        self.t = t
        self.style = style
        self.fig = Figure(figsize=style.size)
        left = 1 - style.legend_share
        self.ax = self.fig.add_axes((0.005, 0.075, left - 0.01, 0.915))
        self.ax.set_axis_off()
        self.handles: list[Any] = []

    def layer(self, kind: str) -> gpd.GeoDataFrame | None:
        gdf = getattr(self.t, kind, None)
        if gdf is None or gdf.empty:
            return None
        return self.t.metric(kind)

    def base(self, focus: str | None = None) -> None:
        """Communes, streets, green spaces and the quartiers (`focus` filled)."""
        ax = self.ax
        if (c := self.layer("communes")) is not None:
            c.boundary.plot(ax=ax, color="#9e9e9e", linewidth=0.8, linestyle="--", zorder=1)
        if (s := self.layer("streets")) is not None:
            s.plot(ax=ax, color="#d0d0d0", linewidth=0.5, zorder=2)
        q = self.layer("quartiers")
        if q is None:
            return
        codes = _codes(q)
        if focus is not None:
            q[codes == focus].plot(ax=ax, color=QUARTIER_COLOUR, alpha=0.08, zorder=3)
        for is_focus in (False, True):
            sel = q[(codes == focus) == is_focus] if focus is not None else q
            if sel.empty or (focus is None and is_focus):
                continue
            sel.boundary.plot(
                ax=ax,
                color=QUARTIER_COLOUR,
                linewidth=2.2 if is_focus or focus is None else 0.9,
                alpha=1.0 if is_focus or focus is None else 0.5,
                zorder=9,
            )
        self.add_handle("line", QUARTIER_COLOUR, label("layer_quartiers", self.style.lang))

    def label_quartiers(self) -> None:
        q = self.layer("quartiers")
        if q is None:
            return
        for _, row in q.iterrows():
            # above the quartier, so that the label hides none of its features
            x0, _, x1, y1 = row.geometry.bounds
            self.ax.annotate(
                str(row["name"]),
                ((x0 + x1) / 2, y1),
                xytext=(0, 3),
                textcoords="offset points",
                va="bottom",
                ha="center",
                fontsize=self.style.fontsize + 1,
                color=QUARTIER_COLOUR,
                weight="bold",
                zorder=30,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1},
            )

    def add_handle(self, kind: str, colour: str, text: str) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        if any(h.get_label() == text for h in self.handles):
            return
        if kind == "line":
            self.handles.append(Line2D([], [], color=colour, linewidth=2, label=text))
        elif kind == "point":
            self.handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="",
                    markersize=6,
                    markerfacecolor=colour,
                    markeredgecolor="white",
                    label=text,
                )
            )
        else:
            self.handles.append(Patch(facecolor=colour, edgecolor="none", label=text))

    def facilities(self, kinds: list[str] | None = None, *, size: float = 26) -> None:
        fac = self.layer("facilities")
        if fac is None:
            return
        x0, x1 = self.ax.get_xlim()
        y0, y1 = self.ax.get_ylim()
        pts = fac.copy()
        pts["geometry"] = pts.geometry.representative_point()
        pts = pts.cx[x0:x1, y0:y1]
        for kind, grp in pts.groupby("kind", sort=False):
            if kinds is not None and kind not in kinds:
                continue
            colour = FACILITY_STYLE.get(str(kind), FACILITY_STYLE["other"])["colour"]
            grp.plot(
                ax=self.ax,
                color=colour,
                markersize=size,
                edgecolor="white",
                linewidth=0.6,
                zorder=25,
            )
            self.add_handle("point", colour, kind_label(str(kind), self.style.lang))

    def renewal(self) -> bool:
        sites = self.layer("renewal_sites")
        if sites is None:
            return False
        x0, x1 = self.ax.get_xlim()
        y0, y1 = self.ax.get_ylim()
        sites = sites.cx[x0:x1, y0:y1]
        for op, grp in sites.groupby("operation", sort=False):
            colour = OPERATION_COLOURS.get(str(op), "#777777")
            if grp.geom_type.isin(["Point", "MultiPoint"]).all():
                grp.plot(ax=self.ax, color=colour, markersize=30, marker="s", zorder=12)
            else:
                grp.plot(
                    ax=self.ax, color=colour, alpha=0.75, edgecolor="#333", linewidth=0.3, zorder=12
                )
            self.add_handle("patch", colour, value_label("operation", str(op), self.style.lang))
        return True

    def greenery(self, *, trees: bool = True) -> bool:
        drawn = False
        lang = self.style.lang
        if (g := self.layer("green_spaces")) is not None:
            public = (
                g["public"].fillna(True).astype(bool).tolist()
                if "public" in g.columns
                else [True] * len(g)
            )
            colours = [GREEN_PUBLIC if p else GREEN_PRIVATE for p in public]
            g.plot(ax=self.ax, color=colours, alpha=0.7, zorder=4)
            self.add_handle("patch", GREEN_PUBLIC, label("layer_green_spaces", lang))
            drawn = True
        if (d := self.layer("desealed_areas")) is not None:
            d.plot(ax=self.ax, color=DESEALED_COLOUR, alpha=0.85, zorder=11)
            self.add_handle("patch", DESEALED_COLOUR, label("layer_desealed_areas", lang))
            drawn = True
        if trees and (tp := self.layer("tree_plantings")) is not None:
            sizes = 3 + 2 * tp["trees"].clip(upper=10).fillna(1) if "trees" in tp else 4
            tp.plot(ax=self.ax, color=TREE_COLOUR, markersize=sizes, zorder=13)
            self.add_handle("point", TREE_COLOUR, label("layer_tree_plantings", lang))
            drawn = True
        return drawn

    def frame_on(self, gdf: gpd.GeoDataFrame | None, margin: float = 0.12) -> None:
        target = gdf if gdf is not None and not gdf.empty else self.layer("quartiers")
        if target is None:
            target = next(iter(self.t.metric(k) for k in self.t.layer_names()))
        frame(self.ax, target.total_bounds, margin=margin)

    def png(self) -> bytes:
        s = self.style
        if self.handles:
            self.fig.legend(
                handles=self.handles,
                loc="upper left",
                bbox_to_anchor=(1 - s.legend_share + 0.005, 0.99),
                fontsize=s.fontsize,
                frameon=False,
                title=dl("legend", s.lang),
                title_fontsize=s.fontsize + 1,
                alignment="left",
            )
        add_furniture(
            self.ax,
            crs=self.t.metric_crs,
            sources=map_sources(self.t),
            date=s.date,
            lang=s.lang,
            fontsize=s.fontsize,
        )
        return figure_png(self.fig, dpi=s.dpi)


def _codes(q: gpd.GeoDataFrame) -> pd.Series:
    col = "code" if "code" in q.columns else "id"
    return q[col].astype(str)


def overview_map(t: Territory, style: MapStyle) -> bytes | None:
    """Draw the territory: quartiers, facilities, renewal sites and green spaces."""
    if t.quartiers is None:
        return None
    m = _Map(t, style)
    m.base()
    m.frame_on(m.layer("quartiers"), margin=0.1)
    m.greenery(trees=False)
    m.renewal()
    m.facilities(size=14)
    m.label_quartiers()
    return m.png()


def quartier_map(t: Territory, code: str, style: MapStyle) -> bytes | None:
    """One quartier, its neighbourhood, services, renewal sites and renaturation."""
    if t.quartiers is None:
        return None
    m = _Map(t, style)
    q = m.layer("quartiers")
    assert q is not None
    m.base(focus=code)
    m.frame_on(q[_codes(q) == code], margin=0.15)
    m.greenery()
    m.renewal()
    m.facilities()
    return m.png()


def access_map(t: Territory, metrics: Metrics, service: str, style: MapStyle) -> bytes | None:
    """Draw the walking service areas of one service kind, with its facilities."""
    areas = metrics.service_areas
    if t.quartiers is None or areas is None or areas.empty:
        return None
    sel = areas[areas["kind"] == service].sort_values("threshold_m", ascending=False)
    if sel.empty:
        return None
    m = _Map(t, style)
    m.base()
    m.frame_on(m.layer("quartiers"), margin=0.1)
    sel = sel.to_crs(t.metric_crs)
    # the nearest band darkest: bands come farthest first
    ramp = (
        SERVICE_BAND_COLOURS[1:] if len(sel) < len(SERVICE_BAND_COLOURS) else SERVICE_BAND_COLOURS
    )
    for i, (_, row) in enumerate(sel.iterrows()):
        colour = ramp[max(0, min(len(ramp) - 1, len(sel) - 1 - i))]
        gpd.GeoSeries([row.geometry], crs=sel.crs).plot(ax=m.ax, color=colour, alpha=0.55, zorder=5)
        key = "band_network" if row.get("method", "network") == "network" else "band_euclidean"
        distance = f"{float(row['threshold_m']):.0f}\u00a0m"
        m.add_handle("patch", colour, label(key, style.lang, distance=distance))
    m.facilities([service], size=40)
    m.label_quartiers()
    return m.png()


def renaturation_map(t: Territory, style: MapStyle) -> bytes | None:
    """Green spaces, de-sealed areas and tree plantings."""
    if t.quartiers is None:
        return None
    m = _Map(t, style)
    m.base()
    m.frame_on(m.layer("quartiers"), margin=0.1)
    if not m.greenery():
        return None
    m.label_quartiers()
    return m.png()


def renewal_map(t: Territory, style: MapStyle) -> bytes | None:
    """Draw the NPNRU operations, coloured by operation."""
    if t.quartiers is None or t.renewal_sites is None or t.renewal_sites.empty:
        return None
    m = _Map(t, style)
    m.base()
    sites = m.layer("renewal_sites")
    q = m.layer("quartiers")
    both = pd.concat([q.geometry, sites.geometry]) if q is not None and sites is not None else None
    m.frame_on(
        gpd.GeoDataFrame(geometry=both, crs=t.metric_crs) if both is not None else None, margin=0.08
    )
    m.renewal()
    m.label_quartiers()
    return m.png()


def timeline_chart(metrics: Metrics, style: MapStyle) -> bytes | None:
    """Cumulative dwellings demolished and rebuilt per year over the territory (None if none)."""
    tl = metrics.renewal_timeline
    if tl is None or tl.empty or "operation" not in tl.index.names:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    # every operation of the territory: the commune's row, else all the QPV's (the quartiers)
    keys = set(tl.index.get_level_values("quartier"))
    row = next((k for k in (COMMUNE, QPV) if k in keys), None)
    if row is None:
        return None
    territory = tl.xs(row, level="quartier")
    series = {}
    for op in ("demolition", "reconstruction", "rehabilitation"):
        if op in territory.index.get_level_values("operation"):
            s = territory.xs(op, level="operation")["n_cumulative"]
            if s.fillna(0).any():
                series[op] = s
    if not series:
        return None
    fig = Figure(figsize=(style.size[0], style.size[0] * 0.28))
    ax = fig.subplots()
    for op, s in series.items():
        years = [int(y) for y in s.index]
        ax.step(
            years,
            s.to_numpy(dtype=float),
            where="post",
            linewidth=2,
            color=OPERATION_COLOURS.get(op, "#777"),
            label=value_label("operation", op, style.lang),
        )
    ax.set_title(dl("renewal_timeline", style.lang), fontsize=style.fontsize + 1, loc="left")
    ax.set_ylabel(label("dwellings", style.lang), fontsize=style.fontsize)
    ax.set_ylim(bottom=0)  # counts from 0: the height of a step is its number of dwellings
    ax.tick_params(labelsize=style.fontsize)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=style.fontsize, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return figure_png(fig, dpi=style.dpi)


def trend_chart(
    gaps: pd.DataFrame,
    series: Sequence[tuple[str, str, str]],
    names: dict[str, str],
    style: MapStyle,
) -> bytes | None:
    """Draw small multiples: each indicator's value per year, one line per quartier.

    Parameters
    ----------
    gaps : pandas.DataFrame
        ``Metrics.indicator_gaps`` (index quartier, indicator, source, year).
    series : sequence of (indicator, source, title)
        The series drawn (at most 4); a series with fewer than two years is left out.
    names : dict
        Quartier code -> name (the quartiers drawn, in order).
    style : MapStyle

    Returns
    -------
    bytes or None
        The PNG, or None when no series has two years (never an empty chart).
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    flat = gaps.reset_index()
    panels = []
    for indicator, source, title in series:
        sel = flat[(flat["indicator"] == indicator) & (flat["source"] == source)]
        sel = sel[sel["quartier"].isin(list(names)) & sel["value"].notna()]
        if sel["year"].nunique() >= 2:
            panels.append((title, sel))
    if not panels:
        return None
    panels = panels[:4]
    ncol = min(2, len(panels))
    nrow = -(-len(panels) // ncol)
    width = style.size[0]
    fig = Figure(figsize=(width, 1.75 * nrow + 0.3))
    axes = fig.subplots(nrow, ncol, squeeze=False)
    colours = colormaps["tab10"]
    for ax, (title, sel) in zip(axes.ravel(), panels, strict=False):
        for i, code in enumerate(names):
            line = sel[sel["quartier"] == code].sort_values("year")
            if line.empty:
                continue
            ax.plot(
                line["year"].astype(int),
                100 * line["value"].astype(float),
                marker="o",
                markersize=3,
                linewidth=1.5,
                color=colours(i % 10),
                label=names[code],
            )
        ax.set_title(title, fontsize=style.fontsize, loc="left")
        ax.tick_params(labelsize=style.fontsize - 1)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylabel("%", fontsize=style.fontsize - 1)
        # shares start at 0: a 1-point change must not look like a collapse
        ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 1.0))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes.ravel()[len(panels) :]:
        ax.set_axis_off()
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=min(len(labels), 5),
        fontsize=style.fontsize,
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return figure_png(fig, dpi=style.dpi)
