"""A raster drawn on several maps of one territory is read and encoded once (issue 17)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from cdv_geo.maps import layers_raster
from cdv_geo.maps.features import display_cache
from cdv_geo.maps.layers import raster_layer
from tests.browser.fixture_territory import write_raster
from tests.maps.test_maps import _render_layer, calls


def test_a_raster_is_read_once_per_display_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_raster(tmp_path / "r.tif", np.arange(100, dtype="uint8").reshape(10, 10))
    reads: list[object] = []
    read = layers_raster.read_raster_mercator

    def counted(*args: object, **kw: object) -> object:
        reads.append(args[0])
        return read(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(layers_raster, "read_raster_mercator", counted)
    alone = calls(_render_layer(raster_layer(path, year=2024)))["raster_impervious_2024"]
    assert len(reads) == 1
    with display_cache():
        a = calls(_render_layer(raster_layer(path, year=2024)))["raster_impervious_2024"]
        b = calls(_render_layer(raster_layer(path, year=2024, show=False)))
        c = raster_layer(path, theme="canopy")  # another theme: its own colours
    assert len(reads) == 3
    assert a == alone == b["raster_impervious_2024"]
    assert c.n_features == 1
    # a rewritten file is read again, even within one block
    with display_cache():
        raster_layer(path)
        write_raster(path, np.zeros((10, 10), dtype="uint8"))
        os.utime(path, ns=(1, 1))
        raster_layer(path)
    assert len(reads) == 5
