"""Static-map furniture (matplotlib): scale bar, north arrow, sources, CRS and date.

A printed map must say how big, which way is north, where the data come from, in which
projection and when it was made (the "map furniture" of a cartography textbook). These helpers add
that furniture to any matplotlib axes drawn in a **metric** CRS (metres on both axes): the dossier
(:mod:`cdv_geo.output.dossier`) uses them for every map, and the static figures may too.

- :func:`nice_length` -- the round length of a scale bar (1, 2 or 5 x 10^n metres);
- :func:`add_scale_bar` -- a black-and-white bar with its length (``500 m``, ``1 km``);
- :func:`north_angle` / :func:`add_north_arrow` -- an arrow pointing to true north (the grid
  north of a conformal projection such as Lambert-93 differs by the meridian convergence);
- :func:`crs_label`, :func:`credit_line`, :func:`add_credits` -- "Sources · CRS · date";
- :func:`frame` -- frame the axes on a layer with a margin and the figure's aspect;
- :func:`figure_png` -- a figure as PNG bytes (closed afterwards).

Nothing here reads the network or any file: the furniture is drawn, not fetched.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Sequence
from typing import Any

from pyproj import CRS, Transformer

from cdv_geo.core.crs import check_metric_crs
from cdv_geo.core.labels import check_lang, fmt_number

__all__ = [
    "add_credits",
    "add_furniture",
    "add_north_arrow",
    "add_scale_bar",
    "clean_source",
    "credit_line",
    "crs_label",
    "figure_png",
    "fmt_date",
    "frame",
    "nice_length",
    "north_angle",
]

_MONTHS = {
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def nice_length(max_m: float) -> float:
    """Return the largest round length (1, 2 or 5 x 10^n m) not longer than `max_m`.

    Examples
    --------
    >>> nice_length(730), nice_length(1999), nice_length(2000), nice_length(0.4)
    (500.0, 1000.0, 2000.0, 0.2)
    """
    if not max_m > 0 or not math.isfinite(max_m):
        raise ValueError(f"a scale bar needs a positive finite length, not {max_m!r}")
    power = 10.0 ** math.floor(math.log10(max_m))
    for step in (5.0, 2.0, 1.0):
        if step * power <= max_m * (1 + 1e-9):
            return round(step * power, 10)
    return power  # pragma: no cover - 1 x 10^floor(log10) is always <= max_m


def _length_text(m: float, lang: str) -> str:
    if m >= 1000:
        km = m / 1000
        return f"{fmt_number(km, lang, 0 if km == int(km) else 1)}\u00a0km"
    return f"{fmt_number(m, lang, 0 if m >= 1 else 1)}\u00a0m"


def add_scale_bar(
    ax: Any,
    *,
    fraction: float = 0.25,
    lang: str = "fr",
    loc: tuple[float, float] = (0.03, 0.04),
    fontsize: float = 7,
) -> float:
    """Draw a scale bar on `ax` (axes in metres) and return its length in metres.

    The bar is about `fraction` of the axes' width, rounded down by :func:`nice_length`, drawn
    in two black and white halves on a white box, its length written above.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes whose x and y are metres (a projected, metric CRS).
    fraction : float, default 0.25
        Longest bar, as a fraction of the axes' width.
    lang : {"fr", "en"}
    loc : (float, float)
        Lower-left corner of the bar, in axes fractions.
    fontsize : float

    Returns
    -------
    float
        The bar's length in metres.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_xlim(0, 3000); _ = ax.set_ylim(0, 2000)
    >>> add_scale_bar(ax)
    500.0
    >>> plt.close(fig)
    """
    from matplotlib.patches import Rectangle

    check_lang(lang)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width, height = abs(x1 - x0), abs(y1 - y0)
    length = nice_length(fraction * width)
    bx = min(x0, x1) + loc[0] * width
    by = min(y0, y1) + loc[1] * height
    bar_h = 0.012 * height
    pad = 0.012 * width
    ax.add_patch(
        Rectangle(
            (bx - pad, by - pad),
            length + 2 * pad,
            bar_h + 2 * pad + 0.045 * height,
            facecolor="white",
            edgecolor="none",
            alpha=0.85,
            zorder=20,
        )
    )
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 2, by),
                length / 2,
                bar_h,
                facecolor=colour,
                edgecolor="black",
                linewidth=0.6,
                zorder=21,
            )
        )
    ax.text(
        bx + length / 2,
        by + bar_h + 0.008 * height,
        _length_text(length, lang),
        ha="center",
        va="bottom",
        fontsize=fontsize,
        zorder=22,
    )
    ax.text(
        bx,
        by + bar_h + 0.008 * height,
        "0",
        ha="center",
        va="bottom",
        fontsize=fontsize - 1,
        zorder=22,
    )
    return length


def north_angle(crs: Any, x: float, y: float) -> float:
    """Return the angle (degrees, counter-clockwise from the grid's +y) of true north at (x, y).

    Zero in a CRS whose grid north is true north at that point; in Lambert-93 the meridian
    convergence makes it a degree or two away from the central meridian (3°E).

    Examples
    --------
    >>> abs(round(north_angle("EPSG:2154", 700_000, 6_600_000), 3))  # on the central meridian
    0.0
    >>> north_angle("EPSG:2154", 1_000_000, 6_900_000) > 0  # east of it: north leans west
    True
    """
    to_geo = Transformer.from_crs(CRS.from_user_input(crs), "EPSG:4326", always_xy=True)
    lon, lat = to_geo.transform(x, y)
    to_map = Transformer.from_crs("EPSG:4326", CRS.from_user_input(crs), always_xy=True)
    nx, ny = to_map.transform(lon, min(lat + 0.01, 89.9))
    return math.degrees(math.atan2(-(nx - x), ny - y))


def add_north_arrow(
    ax: Any, *, crs: Any = None, loc: tuple[float, float] = (0.95, 0.87), size: float = 0.08
) -> float:
    """Draw a north arrow on `ax`, rotated to true north when `crs` is given; return its angle.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    crs : CRS-like, optional
        The CRS of the axes; without it the arrow points up (grid north).
    loc : (float, float)
        Position of the arrow's centre, in axes fractions.
    size : float
        Arrow length, as a fraction of the axes' height.

    Returns
    -------
    float
        The rotation in degrees (counter-clockwise).
    """
    angle = 0.0
    if crs is not None:
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        angle = north_angle(crs, (x0 + x1) / 2, (y0 + y1) / 2)
    a = math.radians(angle)
    dx, dy = -math.sin(a) * size / 2, math.cos(a) * size / 2
    cx, cy = loc
    ax.annotate(
        "",
        xy=(cx + dx, cy + dy),
        xytext=(cx - dx, cy - dy),
        xycoords="axes fraction",
        arrowprops={
            "arrowstyle": "-|>,head_width=0.35,head_length=0.7",
            "color": "black",
            "linewidth": 1.4,
        },
        zorder=22,
    )
    ax.text(
        cx + 1.45 * dx,
        cy + 1.45 * dy,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=9,
        weight="bold",
        zorder=22,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.6},
    )
    return angle


def crs_label(crs: Any) -> str:
    """Return a CRS as a reader knows it: its name and EPSG code.

    Examples
    --------
    >>> crs_label("EPSG:2154")
    'RGF93 v1 / Lambert-93 (EPSG:2154)'
    """
    c = CRS.from_user_input(crs)
    epsg = c.to_epsg()
    return f"{c.name} (EPSG:{epsg})" if epsg else c.name


def fmt_date(day: dt.date, lang: str = "fr") -> str:
    """Return a date written out (``28 novembre 2026``, ``28 November 2026``).

    Examples
    --------
    >>> import datetime as dt
    >>> fmt_date(dt.date(2026, 11, 1)), fmt_date(dt.date(2026, 11, 28), "en")
    ('1er novembre 2026', '28 November 2026')
    """
    month = _MONTHS[check_lang(lang)][day.month - 1]
    first = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{first} {month} {day.year}"


_EXT = r"(?:md|py|gpkg|geojson|json|shp|csv|tif|tiff|xlsx|xls|toml|txt|zip|parquet)"
_FILE_IN_PARENS = re.compile(rf"\s*\([^)]*\.{_EXT}\b[^)]*\)", re.IGNORECASE)
_FILE_TOKEN = re.compile(rf"\S*/\S*|\S+\.{_EXT}\b", re.IGNORECASE)


def clean_source(text: str) -> str:
    """Return a layer's ``source`` text without file names or paths (a reader's words only).

    The package's Python name reads as the command's (``cdv-geo``).

    Examples
    --------
    >>> clean_source("illustratif — données de démonstration cdv_geo (voir PROVENANCE.md)")
    'illustratif — données de démonstration cdv-geo'
    >>> clean_source("IGN, /data/x.gpkg"), clean_source("data.gouv.fr")
    ('IGN', 'data.gouv.fr')
    """
    text = _FILE_IN_PARENS.sub("", str(text))
    text = _FILE_TOKEN.sub("", text)
    text = text.replace("cdv_geo", "cdv-geo")
    return re.sub(r"\s+", " ", text).strip(" ,;—-")


_SOURCES_PREFIX = re.compile(r"^\s*sources?\s*:\s*", re.IGNORECASE)


def credit_line(
    sources: Sequence[str], *, crs: Any = None, date: dt.date | None = None, lang: str = "fr"
) -> str:
    """Return the credit line of a map: sources, CRS and date, separated by `` · ``.

    Examples
    --------
    >>> import datetime as dt
    >>> credit_line(["IGN", "Insee"], crs="EPSG:2154", date=dt.date(2026, 11, 28))
    'Sources : IGN ; Insee · Projection : RGF93 v1 / Lambert-93 (EPSG:2154) · 28 novembre 2026'
    >>> credit_line([], lang="en")
    'Sources: not given'
    >>> credit_line(["Sources : IGN", "Source: ANCT"])
    'Sources : IGN ; ANCT'
    """
    fr = check_lang(lang) == "fr"
    # an attribution may say "Sources : ..." itself: the line says it once
    bare = (clean_source(_SOURCES_PREFIX.sub("", s)) for s in sources if s and s.strip())
    unique = list(dict.fromkeys(s for s in bare if s))
    text = (" ; " if fr else "; ").join(unique) or ("non précisées" if fr else "not given")
    parts = [f"Sources : {text}" if fr else f"Sources: {text}"]
    if crs is not None:
        parts.append(f"{'Projection : ' if fr else 'Projection: '}{crs_label(crs)}")
    if date is not None:
        parts.append(fmt_date(date, lang))
    return " · ".join(parts)


def add_credits(ax: Any, text: str, *, fontsize: float = 6) -> None:
    """Write the credit line under the axes, wrapped to the axes' width."""
    import textwrap

    fig = ax.figure
    width_in = ax.get_position().width * fig.get_figwidth()
    chars = max(40, int(width_in * 72 / (0.55 * fontsize)))
    ax.text(
        0.0,
        -0.015,
        "\n".join(textwrap.wrap(text, chars)),
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=fontsize,
        color="#444",
    )


def add_furniture(
    ax: Any,
    *,
    crs: Any,
    sources: Sequence[str],
    date: dt.date | None = None,
    lang: str = "fr",
    fontsize: float = 7,
) -> str:
    """Add the scale bar, the north arrow and the credit line to a map; return the credit line.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        A map drawn in `crs`, with its limits already set (see :func:`frame`).
    crs : CRS-like
        A metric CRS (the scale bar measures in its units).
    sources : sequence of str
        The data sources named on the map.
    date : datetime.date, optional
        The date of the map (today by default).
    lang : {"fr", "en"}
    fontsize : float

    Raises
    ------
    CRSError
        When `crs` is geographic (a scale bar in degrees would be wrong).
    """
    check_metric_crs(crs, what="map CRS")
    day = date or dt.date.today()
    add_scale_bar(ax, lang=lang, fontsize=fontsize)
    add_north_arrow(ax, crs=crs)
    text = credit_line(sources, crs=crs, date=day, lang=lang)
    add_credits(ax, text, fontsize=fontsize - 1)
    return text


def frame(
    ax: Any, bounds: Sequence[float], *, margin: float = 0.12, aspect: float | None = None
) -> None:
    """Frame `ax` on `bounds` (xmin, ymin, xmax, ymax) with a margin, at a given aspect.

    `aspect` is the axes' width / height (default: taken from the axes' box); the frame is
    widened in x or y, never cut, so that the whole of `bounds` shows at an equal scale.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> frame(ax, (0, 0, 100, 100), margin=0, aspect=2.0)
    >>> [float(v) for v in (*ax.get_xlim(), *ax.get_ylim())]
    [-50.0, 150.0, 0.0, 100.0]
    >>> plt.close(fig)
    """
    x0, y0, x1, y1 = (float(b) for b in bounds)
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    pad = margin * max(w, h)
    w, h = w + 2 * pad, h + 2 * pad
    if aspect is None:
        pos = ax.get_position()
        aspect = (pos.width * ax.figure.get_figwidth()) / (pos.height * ax.figure.get_figheight())
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal", adjustable="box")


def figure_png(fig: Any, *, dpi: int = 200) -> bytes:
    r"""Return `fig` as PNG bytes (a pyplot figure is closed afterwards).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> figure_png(Figure(figsize=(1, 1)), dpi=10)[:4]
    b'\x89PNG'
    """
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    finally:
        if getattr(fig.canvas, "manager", None) is not None:  # a pyplot figure: release it
            import matplotlib.pyplot as plt

            plt.close(fig)
    return buf.getvalue()
