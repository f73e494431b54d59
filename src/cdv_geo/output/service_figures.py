"""The weekly heat strip of the services page: when a service is open within walking reach.

:func:`strip_figure` draws, for one quartier (or comparison row), one strip per kind of
service: seven rows (Monday to Sunday, named in the reader's language) by 24 hours, each cell
coloured by the share of the residents with a service of the kind open within walking reach
during that hour (``Metrics.opening_strip``, :func:`cdv_geo.metrics.opening_hours.opening_access`).
One sequential scale, white (0 %) to dark blue (100 %), with its colour bar: readable in
print, in grey as in colour. A cell without a value (no resident) is hatched grey.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.labels import kind_label, label
from cdv_geo.output.cartography import figure_png

__all__ = ["DAY_CODES", "STRIP_CMAP", "day_names", "strip_chart", "strip_figure", "strip_matrix"]

#: The days of the strip, Monday first (the OSM abbreviations of the ``day`` index level).
DAY_CODES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
#: The colour map of the strips: sequential, light to dark (readable in grey).
STRIP_CMAP = "Blues"


def day_names(lang: str = "fr") -> list[str]:
    """Return the names of the days, Monday first.

    Examples
    --------
    >>> day_names()[:3], day_names("en")[-1]
    (['lundi', 'mardi', 'mercredi'], 'Sunday')
    """
    return [label(f"svc_day_{d}", lang) for d in DAY_CODES]


def strip_matrix(strip: pd.DataFrame, quartier: str, kind: str) -> np.ndarray | None:
    """Return the 7 × 24 matrix (days × hours) of ``served_share`` of one row and kind.

    Cells the table lacks are NaN; None when the table has no row for (`quartier`, `kind`).

    Examples
    --------
    >>> idx = pd.MultiIndex.from_tuples([("Q1", "ccas", "Tu", 9), ("Q1", "ccas", "Mo", 0)],
    ...                                 names=["quartier", "kind", "day", "hour"])
    >>> s = pd.DataFrame({"served_share": [0.5, 0.0]}, index=idx)
    >>> m = strip_matrix(s, "Q1", "ccas")
    >>> m.shape, float(m[1, 9]), float(m[0, 0]), bool(np.isnan(m[6, 23]))
    ((7, 24), 0.5, 0.0, True)
    """
    try:
        sub = strip.xs((quartier, kind), level=("quartier", "kind"))
    except KeyError:
        return None
    if sub.empty:
        return None
    out = np.full((7, 24), np.nan)
    days = {d: i for i, d in enumerate(DAY_CODES)}
    for key, v in sub["served_share"].items():
        day, hour = key  # type: ignore[misc]
        if day in days and 0 <= int(hour) < 24:
            out[days[day], int(hour)] = float(v)
    return out


def strip_figure(
    strip: pd.DataFrame,
    quartier: str,
    *,
    kinds: Sequence[str] | None = None,
    title: str | None = None,
    lang: str = "fr",
    width: float = 7.0,
    fontsize: float = 7.0,
) -> Any:
    """Return the matplotlib Figure of the strips of `quartier`, one per kind (None: no data).

    Parameters
    ----------
    strip : pandas.DataFrame
        ``Metrics.opening_strip`` (index ``quartier``, ``kind``, ``day``, ``hour``;
        ``served_share``).
    quartier : str
        A quartier code or a comparison row.
    kinds : sequence of str, optional
        The kinds drawn, in order (default: those of the table).
    title : str, optional
        The figure's title (e.g. the quartier's name).
    """
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    if kinds is None:
        kinds = list(dict.fromkeys(strip.index.get_level_values("kind")))
    mats = [(k, m) for k in kinds if (m := strip_matrix(strip, quartier, k)) is not None]
    if not mats:
        return None
    ncols = min(len(mats), 3)
    nrows = -(-len(mats) // ncols)
    row_h = {1: 0.95, 2: 0.8, 3: 0.8}[ncols]
    head = 0.3 if title else 0.05
    fig = Figure(figsize=(width, head + 0.35 + row_h * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    norm = Normalize(0.0, 1.0)
    names = day_names(lang)
    short = {1: names, 2: [n[:3] + "." for n in names], 3: [n[:2] for n in names]}[ncols]
    image = None
    step = {1: 2, 2: 3, 3: 6}[ncols]
    last = 25 if ncols < 3 else 24  # (side by side, "24 h" would touch the next "0 h")
    for i, (ax, (kind, mat)) in enumerate(zip(axes, mats, strict=False)):
        image = ax.imshow(
            np.ma.masked_invalid(mat), aspect="auto", cmap=_cmap(), norm=norm,
            interpolation="nearest", extent=(0, 24, 7, 0),
        )  # fmt: skip
        ax.set_title(kind_label(kind, lang), fontsize=fontsize + 0.5, loc="left", pad=2)
        # (the day names once per row of strips)
        ax.set_yticks(np.arange(7) + 0.5, short if i % ncols == 0 else [], fontsize=fontsize - 1)
        ax.set_xticks(range(0, last, step), [f"{h} h" for h in range(0, last, step)],
                      fontsize=fontsize - 1)  # fmt: skip
        ax.set_xticks(range(25), minor=True)
        ax.set_yticks(range(8), minor=True)
        ax.grid(which="minor", color="#ffffff", linewidth=0.4)
        ax.tick_params(which="minor", length=0)
        ax.tick_params(which="major", length=2)
    for ax in axes[len(mats) :]:
        ax.set_visible(False)
    height = fig.get_figheight()
    if title:
        fig.suptitle(title, fontsize=fontsize + 1.5, x=0.01, y=1 - 0.05 / height, ha="left",
                     va="top")  # fmt: skip
    fig.subplots_adjust(left=0.1 if ncols == 1 else 0.06, right=0.87,
                        top=1 - (head + 0.15) / height, bottom=0.3 / height,
                        hspace=0.8, wspace=0.08 if ncols == 3 else 0.15)  # fmt: skip
    cax = fig.add_axes((0.89, 0.3 / height, 0.016, max(0.3, 1 - (head + 0.6) / height)))
    bar = fig.colorbar(image, cax=cax)  # type: ignore[arg-type]
    bar.set_ticks([0, 0.25, 0.5, 0.75, 1.0], labels=["0 %", "25 %", "50 %", "75 %", "100 %"])
    bar.ax.tick_params(labelsize=fontsize - 1)
    bar.set_label(label("svc_strip_scale", lang), fontsize=fontsize - 0.5)
    return fig


def _cmap() -> Any:
    import matplotlib

    return matplotlib.colormaps[STRIP_CMAP].with_extremes(bad="#d9d9d9")


def strip_chart(
    strip: pd.DataFrame,
    quartier: str,
    *,
    kinds: Sequence[str] | None = None,
    title: str | None = None,
    lang: str = "fr",
    width: float = 7.0,
    fontsize: float = 7.0,
    dpi: int = 150,
) -> bytes | None:
    r"""Return the PNG of :func:`strip_figure` (None when the table has no row to draw).

    Examples
    --------
    >>> idx = pd.MultiIndex.from_product([["Q1"], ["ccas"], DAY_CODES, range(24)],
    ...                                  names=["quartier", "kind", "day", "hour"])
    >>> s = pd.DataFrame({"served_share": 0.25}, index=idx)
    >>> strip_chart(s, "Q1")[:4], strip_chart(s, "Q2")
    (b'\x89PNG', None)
    """
    fig = strip_figure(
        strip, quartier, kinds=kinds, title=title, lang=lang, width=width, fontsize=fontsize
    )
    return None if fig is None else figure_png(fig, dpi=dpi)
