"""Static PNG figures (matplotlib) of each theme, for a PDF or Word report.

:func:`static_figures` draws the facilities, the walking access to one service, renaturation,
renewal and the socio-economic indicators, each framed on the quartiers, with the labels of
:mod:`cdv_geo.core.labels` (French by default). A theme whose layers are missing is left out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.core.labels import check_lang, fmt_number, kind_label, label, value_label
from cdv_geo.io import atomic_path
from cdv_geo.maps.style import OPERATION_COLOURS
from cdv_geo.pipeline import Metrics
from cdv_geo.territory import Territory

__all__ = ["FIGURE_INDICATORS", "static_figures"]

#: The indicators drawn in ``indicators.png`` (those present in the table).
FIGURE_INDICATORS = (
    "median_income",
    "poverty_rate",
    "rsa_share",
    "unemployment_rate",
    "gini",
    "no_diploma_share",
)
QUARTIER_COLOUR = "#5b2a86"


class _Canvas:
    """The figures of one territory: a base map framed on the quartiers, and where to save."""

    def __init__(self, territory: Territory, out: Path, lang: str) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        self.plt = plt
        self.t = territory
        self.out = out
        self.lang = lang
        self.written: list[Path] = []
        self.note = label("fig_illustrative", lang) if territory.illustrative else ""
        self._street_xy: tuple[np.ndarray, np.ndarray] | gpd.GeoDataFrame | None = None

    def base(self, title: str) -> tuple[Any, Any]:
        """Return a figure with the communes, streets and labelled quartiers, and its axes."""
        t = self.t
        fig, ax = self.plt.subplots(figsize=(8, 7), dpi=120)
        if t.communes is not None:
            t.metric("communes").boundary.plot(ax=ax, color="#999", linewidth=0.8)
        if t.streets is not None:
            self.streets(ax)
        if t.quartiers is not None:
            q = t.metric("quartiers")
            q.boundary.plot(ax=ax, color=QUARTIER_COLOUR, linewidth=1.5)
            for _, row in q.iterrows():
                p = row.geometry.representative_point()
                ax.annotate(
                    str(row["name"]),
                    (p.x, p.y),
                    ha="center",
                    fontsize=9,
                    color=QUARTIER_COLOUR,
                    weight="bold",
                )
            # frame the quartiers, not the whole commune
            frame = self.frame()
            assert frame is not None
            ax.set_xlim(frame[0], frame[2])
            ax.set_ylim(frame[1], frame[3])
        ax.set_title(title)
        ax.set_axis_off()
        return fig, ax

    def streets(self, ax: Any) -> None:
        """Draw the streets: one path of every line in the frame, made once for every figure.

        A big city has 100,000 street segments: one path (lines split by NaN) draws them in a
        fraction of the time of one path per segment, and is built once for all the figures.
        """
        if self._street_xy is None:
            self._street_xy = _line_xy(self.t.metric("streets"), self.frame())
        if isinstance(self._street_xy, gpd.GeoDataFrame):  # not only lines: as they are
            self._street_xy.plot(ax=ax, color="#ccc", linewidth=0.5)
            return
        x, y = self._street_xy
        with self.plt.rc_context({"agg.path.chunksize": 20_000}):
            ax.plot(x, y, color="#ccc", linewidth=0.5, solid_capstyle="butt")
        ax.set_aspect("equal")

    def frame(self) -> tuple[float, float, float, float] | None:
        """Return the extent the figures show: the quartiers with a margin (None: everything)."""
        if self.t.quartiers is None:
            return None
        x0, y0, x1, y1 = self.t.metric("quartiers").total_bounds
        pad = 0.08 * max(x1 - x0, y1 - y0) + 200
        return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)

    def save(self, fig: Any, ax: Any | None, name: str, *, caption: str | None = None) -> None:
        """Write `fig` as ``<name>.png`` (atomically) with its legend and the demo note."""
        if self.note:
            text = self.note if caption is None else caption
            fig.text(0.01, 0.01, text, fontsize=8, color="#555")
        if ax is not None and ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
        path = self.out / f"{name}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", bbox_inches="tight")
        self.plt.close(fig)
        self.written.append(path)

    def map_caption(self) -> str:
        return f"{self.t.name} — {self.note}"


def static_figures(
    territory: Territory,
    metrics: Metrics,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "fr",
    service: str = "water_play_area",
) -> list[Path]:
    """Write PNG figures of each theme and of the indicator comparison (for PDF/Word).

    Parameters
    ----------
    territory : Territory
    metrics : Metrics
        From :func:`~cdv_geo.pipeline.compute_metrics` (its service areas and indicators).
    out_dir : path-like
        Output folder (created).
    lang : {"fr", "en"}
    service : str, default "water_play_area"
        The facility kind of the walking-access figure.

    Returns
    -------
    list of pathlib.Path
        The figures written (``overview``, ``accessibility``, ``renaturation``, ``renewal``,
        ``indicators``); themes whose layers are missing are left out.
    """
    check_lang(lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    canvas = _Canvas(territory, out, lang)
    themes: list[Callable[[], None]] = [
        lambda: _overview(canvas),
        lambda: _access(canvas, metrics.service_areas, service),
        lambda: _renaturation(canvas),
        lambda: _renewal(canvas),
        lambda: _indicators(canvas, metrics.indicators),
    ]
    for draw in themes:
        draw()
    return canvas.written


def _line_xy(
    layer: gpd.GeoDataFrame, frame: tuple[float, float, float, float] | None
) -> tuple[np.ndarray, np.ndarray] | gpd.GeoDataFrame:
    """Return the x and y of every line of `layer` touching `frame`, lines split by NaN.

    A layer holding other geometries than lines is returned as it is (drawn by geopandas).
    """
    geoms = np.asarray(layer.geometry.array, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if not np.isin(shapely.get_type_id(geoms), (1, 5)).all():
        return layer
    if frame is not None:
        geoms = geoms[shapely.intersects(geoms, shapely.box(*frame))]
    parts = shapely.get_parts(geoms)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    # a NaN row before each line but the first lifts the pen
    breaks = np.flatnonzero(np.diff(part)) + 1
    xy = np.insert(xy, breaks, np.nan, axis=0)
    return xy[:, 0], xy[:, 1]


def _overview(c: _Canvas) -> None:
    t = c.t
    if t.quartiers is None:
        return
    fig, ax = c.base(label("layer_facilities", c.lang))
    if t.facilities is not None:
        cmap = c.plt.get_cmap("tab20")
        groups = sorted(t.metric("facilities").groupby("kind"), key=lambda x: str(x[0]))
        for i, (kind, grp) in enumerate(groups):
            grp.plot(ax=ax, color=cmap(i % 20), markersize=18, label=kind_label(str(kind), c.lang))
    c.save(fig, ax, "overview", caption=c.map_caption())


def _access(c: _Canvas, areas: gpd.GeoDataFrame | None, service: str) -> None:
    if areas is None or not len(areas):
        return
    sel = areas[areas["kind"] == service].sort_values("threshold_m", ascending=False)
    if sel.empty:
        return
    name = kind_label(service, c.lang)
    fig, ax = c.base(label("fig_access", c.lang, service=name))
    for (_, row), colour in zip(sel.iterrows(), ("#9ecae1", "#3182bd"), strict=False):
        distance = f"{fmt_number(row['threshold_m'], c.lang)}\u00a0m"
        gpd.GeoSeries([row.geometry], crs=areas.crs).plot(
            ax=ax,
            color=colour,
            alpha=0.6,
            label=label("fig_walk_band", c.lang, distance=distance),
        )
    if c.t.facilities is not None:
        fac = c.t.metric("facilities")
        chosen = fac[fac["kind"] == service]
        if len(chosen):
            chosen.plot(ax=ax, color="#08519c", markersize=40, marker="*", label=name)
    c.save(fig, ax, "accessibility", caption=c.map_caption())


def _renaturation(c: _Canvas) -> None:
    t = c.t
    if t.desealed_areas is None and t.tree_plantings is None:
        return
    fig, ax = c.base(label("fig_renaturation", c.lang))
    if t.green_spaces is not None:
        t.metric("green_spaces").plot(
            ax=ax, color="#a1d99b", label=label("layer_green_spaces", c.lang)
        )
    if t.desealed_areas is not None:
        t.metric("desealed_areas").plot(
            ax=ax, color="#e6550d", label=label("layer_desealed_areas", c.lang)
        )
    if t.tree_plantings is not None:
        t.metric("tree_plantings").plot(
            ax=ax, color="#006d2c", markersize=6, label=label("kf_trees", c.lang)
        )
    c.save(fig, ax, "renaturation", caption=c.map_caption())


def _renewal(c: _Canvas) -> None:
    if c.t.renewal_sites is None:
        return
    fig, ax = c.base(label("fig_renewal", c.lang))
    for op, grp in c.t.metric("renewal_sites").groupby("operation"):
        grp.plot(
            ax=ax,
            color=OPERATION_COLOURS.get(str(op), "#777"),
            alpha=0.8,
            label=value_label("operation", str(op), c.lang),
        )
    c.save(fig, ax, "renewal", caption=c.map_caption())


def _indicators(c: _Canvas, table: pd.DataFrame | None) -> None:
    """Bars of the latest value of each indicator, quartiers against their references."""
    if table is None or not len(table):
        return
    latest = table[table["value"].notna()]
    if latest.empty:
        return
    year = latest["year"].max()
    latest = latest[latest["year"] == year]
    wanted = [i for i in FIGURE_INDICATORS if i in set(latest["indicator"])]
    if not wanted:
        return
    from cdv_geo.io.insee.registry import INDICATORS

    ncol = min(3, len(wanted))
    nrow = -(-len(wanted) // ncol)
    fig, axes = c.plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.4 * nrow), dpi=120)
    axes = np.atleast_1d(axes).ravel()
    for ax in axes[len(wanted) :]:
        ax.set_axis_off()
    for ax, name in zip(axes, wanted, strict=False):
        spec = INDICATORS[name]
        sel = latest[latest["indicator"] == name]
        names = sel["name"] if "name" in sel.columns else sel["code"]
        labels = [
            n if isinstance(n, str) and n else str(k)
            for n, k in zip(names, sel["code"], strict=True)
        ]
        values = sel["value"].to_numpy(dtype=float)
        if spec.unit == "fraction":  # shares are fractions; show percentages
            values = values * 100
        bars = [QUARTIER_COLOUR if lv == "qpv" else "#9e9e9e" for lv in sel["level"]]
        ax.barh(labels, values, color=bars)
        unit = {"fraction": "%", "EUR": "€"}.get(spec.unit, "")
        title = spec.label_fr if c.lang == "fr" else spec.label_en
        ax.set_title(f"{title}{f' ({unit})' if unit else ''}", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(label("fig_indicators", c.lang, year=f"{int(year)}"))
    fig.tight_layout()
    c.save(fig, None, "indicators")
