"""Map furniture: scale bar, north arrow, credits, framing (cdv_geo.output.cartography)."""

from __future__ import annotations

import datetime as dt

import matplotlib
import pyproj
import pytest
from matplotlib.patches import Rectangle

from cdv_geo.core.errors import CRSError
from cdv_geo.output.cartography import (
    add_furniture,
    add_scale_bar,
    credit_line,
    crs_label,
    figure_png,
    fmt_date,
    frame,
    nice_length,
    north_angle,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (730.0, 500.0),
        (1000.0, 1000.0),
        (1999.0, 1000.0),
        (2500.0, 2000.0),
        (49.0, 20.0),
        (0.3, 0.2),
        (5.0, 5.0),
    ],
)
def test_nice_length_is_the_largest_1_2_5_step(limit: float, expected: float) -> None:
    assert nice_length(limit) == pytest.approx(expected)


@pytest.mark.parametrize("bad", [0.0, -3.0, float("nan"), float("inf")])
def test_nice_length_refuses_non_positive(bad: float) -> None:
    with pytest.raises(ValueError):
        nice_length(bad)


def test_scale_bar_halves_measure_the_length_in_data_units() -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.set_xlim(700_000, 704_000)  # 4 km wide: a quarter is 1 km -> a 1 km bar
    ax.set_ylim(6_900_000, 6_902_500)
    length = add_scale_bar(ax, lang="en")
    assert length == 1000.0
    # the two halves have a visible (black) edge; the white box behind them has none
    halves = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_edgecolor()[3] > 0]
    assert len(halves) == 2
    assert sum(p.get_width() for p in halves) == pytest.approx(1000.0)
    texts = [t.get_text() for t in ax.texts]
    assert "1\u00a0km" in texts
    plt.close(fig)


@pytest.mark.parametrize(("lon", "lat"), [(3.33, 49.38), (7.2, 43.7), (-1.5, 48.1)])
def test_north_angle_is_the_meridian_convergence(lon: float, lat: float) -> None:
    # reference: PROJ's meridian convergence of Lambert-93 at that point
    expected = pyproj.Proj("EPSG:2154").get_factors(lon, lat).meridian_convergence
    x, y = pyproj.Transformer.from_crs(4326, 2154, always_xy=True).transform(lon, lat)
    assert north_angle("EPSG:2154", x, y) == pytest.approx(expected, abs=1e-3)


def test_north_angle_is_zero_in_a_utm_zone_on_its_central_meridian() -> None:
    x, y = pyproj.Transformer.from_crs(4326, 32631, always_xy=True).transform(3.0, 49.0)
    assert north_angle("EPSG:32631", x, y) == pytest.approx(0.0, abs=1e-6)


def test_credit_line_names_sources_crs_and_date() -> None:
    text = credit_line(["IGN", "IGN", " "], crs="EPSG:2154", date=dt.date(2026, 3, 1), lang="fr")
    assert text == "Sources : IGN · Projection : RGF93 v1 / Lambert-93 (EPSG:2154) · 1er mars 2026"
    assert crs_label(pyproj.CRS.from_epsg(3949)).endswith("(EPSG:3949)")
    assert fmt_date(dt.date(2026, 3, 1), "en") == "1 March 2026"


def test_frame_keeps_the_bounds_at_the_axes_aspect() -> None:
    fig = plt.figure(figsize=(6, 3))
    ax = fig.add_axes((0, 0, 1, 1))
    frame(ax, (0, 0, 100, 400), margin=0.0)  # tall bounds in a wide box: widened in x
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert (y0, y1) == pytest.approx((0.0, 400.0))
    assert (x1 - x0) / (y1 - y0) == pytest.approx(2.0)
    assert x0 <= 0 and x1 >= 100
    plt.close(fig)


def test_add_furniture_draws_the_credit_line_and_refuses_degrees() -> None:
    fig, ax = plt.subplots()
    frame(ax, (728_000, 6_920_000, 730_000, 6_921_000))
    text = add_furniture(ax, crs="EPSG:2154", sources=["<IGN>"], date=dt.date(2026, 1, 2))
    assert "EPSG:2154" in text and "2 janvier 2026" in text
    assert any("Sources : <IGN>" in t.get_text() for t in ax.texts)
    assert any(t.get_text() == "N" for t in ax.texts)
    assert figure_png(fig, dpi=20).startswith(b"\x89PNG")
    fig, ax = plt.subplots()
    with pytest.raises(CRSError):
        add_furniture(ax, crs="EPSG:4326", sources=[])
    plt.close(fig)
