"""Every public function that takes a layer refuses bad layers the same way, naming the argument.

A plain DataFrame, a layer without CRS or an empty layer given to any public function raises a
CdvGeoError subclass whose message names the argument (DESIGN.md, "Bad input"), never a raw
AttributeError from deep inside. Parametrised over the public API: a new public function with a
layer argument fails `test_every_layer_function_is_covered` until it is listed here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest

import cdv_geo as cg
from cdv_geo.core.errors import CdvGeoError, CRSError, DataValidationError, LayerTypeError


@pytest.fixture(scope="module")
def t() -> cg.Territory:
    return cg.datasets.soissons()


def _raster(name: str) -> Any:
    return cg.datasets.data_dir() / "rasters" / f"{name}.tif"


def _play(t: cg.Territory) -> gpd.GeoDataFrame:
    return t.facilities[t.facilities["kind"] == "water_play_area"]


#: A valid call of each public function with a layer argument: name -> kwargs from the demo.
VALID: dict[str, Callable[[cg.Territory], dict[str, Any]]] = {
    "canopy_share": lambda t: {"quartiers": t.quartiers, "trees": t.tree_plantings},
    "check_codes": lambda t: {"table": pd.DataFrame(), "quartiers": t.quartiers},
    "choose_sites": lambda t: {
        "candidates": t.green_spaces,
        "demand": t.residences,
        "k": 1,
        "existing": _play(t),
    },
    "compare_indicators": lambda t: {"table": pd.DataFrame(), "quartiers": t.quartiers},
    "cool_places": lambda t: {"facilities": t.facilities, "green_spaces": t.green_spaces},
    "coverage": lambda t: {
        "origins": t.residences,
        "facilities": t.facilities,
        "quartiers": t.quartiers,
        "threshold_min": 5,
    },
    "desealing_summary": lambda t: {"desealed_areas": t.desealed_areas, "quartiers": t.quartiers},
    "focal_mean": lambda t: {
        "points": t.residences,
        "raster": _raster("canopy_2024"),
        "radius_m": 250.0,
    },
    "green_space_access": lambda t: {
        "residences": t.residences,
        "green_spaces": t.green_spaces,
        "quartiers": t.quartiers,
    },
    "heat_exposure": lambda t: {
        "quartiers": t.quartiers,
        "heat": _raster("heat_2023"),
        "residences": t.residences,
        "communes": t.communes,
    },
    "impervious_change": lambda t: {
        "quartiers": t.quartiers,
        "before": _raster("impervious_2018"),
        "after": _raster("impervious_2024"),
    },
    "impervious_share": lambda t: {"quartiers": t.quartiers, "raster": _raster("impervious_2024")},
    "incidents_before_after": lambda t: {"incidents": t.incidents, "play_areas": _play(t)},
    "indicator_trend": lambda t: {"table": pd.DataFrame(), "quartiers": t.quartiers},
    "interpolate_grid": lambda t: {
        "grid": cg.read_grid(cg.datasets.get_path("soissons", "income_grid")),
        "quartiers": t.quartiers,
        "residences": t.residences,
        "communes": t.communes,
    },
    "nearest_facility": lambda t: {"origins": t.residences, "facilities": t.facilities},
    "quartier_population": lambda t: {
        "quartiers": t.quartiers,
        "residences": t.residences,
        "communes": t.communes,
    },
    "renewal_balance": lambda t: {
        "renewal_sites": t.renewal_sites,
        "quartiers": t.quartiers,
        "residences": t.residences,
        "qpv": t.quartiers,
    },
    "renewal_density": lambda t: {
        "renewal_sites": t.renewal_sites,
        "quartiers": t.quartiers,
        "residences": t.residences,
    },
    "renewal_links": lambda t: {
        "renewal_sites": t.renewal_sites,
        "quartiers": t.quartiers,
        "qpv": t.quartiers,
    },
    "renewal_progress": lambda t: {"renewal_sites": t.renewal_sites, "quartiers": t.quartiers},
    "renewal_timeline": lambda t: {"renewal_sites": t.renewal_sites, "quartiers": t.quartiers},
    "rule_3_30_300": lambda t: {
        "residences": t.residences,
        "trees": t.tree_plantings,
        "green_spaces": t.green_spaces,
        "quartiers": t.quartiers,
    },
    "service_areas": lambda t: {"facilities": t.facilities, "network": None},
    "tree_crowns": lambda t: {"trees": t.tree_plantings},
    "tree_summary": lambda t: {"tree_plantings": t.tree_plantings, "quartiers": t.quartiers},
    "zonal_stats": lambda t: {"polygons": t.quartiers, "raster": _raster("canopy_2024")},
}

#: Public functions whose layer argument is also a path (readers and writers): not metrics.
READERS = {"facilities_from_osm", "read_indicators", "residences_from_grid", "write_layer"}


def _layer_params(name: str) -> list[str]:
    sig = inspect.signature(getattr(cg, name))
    return [p for p, v in sig.parameters.items() if "GeoDataFrame" in str(v.annotation)]


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for name in sorted(VALID):
        for param in _layer_params(name):
            if param == "also":  # a dict of layers, checked one by one
                continue
            required = inspect.signature(getattr(cg, name)).parameters[param].default is (
                inspect.Parameter.empty
            )
            for bad in ("dataframe", "no_crs", "empty") if required else ("dataframe", "no_crs"):
                out.append((name, param, bad))
    return out


def test_every_layer_function_is_covered() -> None:
    public = {
        n
        for n in cg.__all__
        if inspect.isfunction(getattr(cg, n)) and _layer_params(n) and n not in READERS
    }
    assert public == set(VALID), sorted(public ^ set(VALID))


EXPECTED = {"dataframe": LayerTypeError, "no_crs": CRSError, "empty": DataValidationError}


@pytest.mark.parametrize(("name", "param", "bad"), _cases())
def test_bad_layer_names_the_argument(t: cg.Territory, name: str, param: str, bad: str) -> None:
    kwargs = VALID[name](t)
    if "communes" in inspect.signature(getattr(cg, name)).parameters:
        # every metric making a per-quartier table takes the communes (issue 22): check it too
        kwargs.setdefault("communes", t.communes)
    layer = kwargs.get(param)
    if layer is None:
        pytest.skip(f"{name}({param}=...) has no demo layer")
    if bad == "dataframe":
        kwargs[param] = pd.DataFrame(layer.drop(columns="geometry"))
    elif bad == "no_crs":
        kwargs[param] = layer.set_crs(None, allow_override=True)
    else:
        kwargs[param] = layer.iloc[:0]
    with pytest.raises(CdvGeoError) as info:
        getattr(cg, name)(**kwargs)
    assert isinstance(info.value, EXPECTED[bad]), f"{type(info.value).__name__}: {info.value}"
    assert param in str(info.value), str(info.value)


def test_import_is_light_and_every_public_name_resolves() -> None:
    import subprocess
    import sys

    code = (
        "import sys, cdv_geo, cdv_geo.pipeline, cdv_geo.territory, cdv_geo.batch.task\n"
        "heavy = [m for m in ('folium', 'matplotlib', 'weasyprint', 'cdv_geo.maps') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "missing = [n for n in cdv_geo.__all__ if getattr(cdv_geo, n, None) is None]\n"
        "assert not missing, missing\n"
        "assert 'folium' in sys.modules\n"  # (resolving cdv_geo.maps loaded it)
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cg.nope  # noqa: B018
