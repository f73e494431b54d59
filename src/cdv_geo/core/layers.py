"""One coercion for every layer a public function takes.

Every public metric, table, map and reader hands its layer arguments to :func:`as_layer` first, so
that bad input fails the same way everywhere: a :class:`~cdv_geo.core.errors.CdvGeoError` subclass
that names the argument and says how to recover, never an ``AttributeError`` from deep inside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.core.crs import is_undefined_crs
from cdv_geo.core.errors import CRSError, DataValidationError, LayerTypeError, Problem

__all__ = ["GEOMETRY_FAMILIES", "as_layer", "feature_ids", "quartier_codes", "set_validator"]

#: Geometry families a function may ask for, as shapely type names.
GEOMETRY_FAMILIES: dict[str, frozenset[str]] = {
    "point": frozenset({"Point", "MultiPoint"}),
    "line": frozenset({"LineString", "MultiLineString", "LinearRing"}),
    "polygon": frozenset({"Polygon", "MultiPolygon"}),
}


def as_layer(
    obj: Any,
    name: str,
    *,
    kind: str | None = None,
    geometry: str | Iterable[str] | None = None,
    allow_empty: bool = False,
) -> gpd.GeoDataFrame:
    """Return `obj` as a checked GeoDataFrame, or raise an error naming the argument `name`.

    Parameters
    ----------
    obj : Any
        What the caller was given.
    name : str
        The argument's name (``"residences"``, ``"quartiers"``...), used in every message.
    kind : str, optional
        A layer kind of :mod:`cdv_geo.schema`: the layer is validated against it (canonical
        fields, French aliases) unless it was already (``attrs["kind"] == kind``).
    geometry : str or iterable of str, optional
        Allowed geometry families among ``"point"``, ``"line"``, ``"polygon"``. Missing or empty
        geometries are left to the caller (they get NaN and a reason in metric tables).
    allow_empty : bool, default False
        Accept a layer without features.

    Returns
    -------
    geopandas.GeoDataFrame
        `obj` itself when nothing had to change, else a validated copy.

    Raises
    ------
    LayerTypeError
        `obj` is not a GeoDataFrame (a plain DataFrame, a path, None...).
    CRSError
        The layer has no CRS.
    DataValidationError
        The layer is empty, has a geometry of another family, or fails its schema.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"trees": [3]}, geometry=[Point(0, 0)], crs=2154)
    >>> as_layer(g, "trees", geometry="point") is g
    True
    >>> as_layer(pd.DataFrame({"x": [1]}), "residences")
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.LayerTypeError: residences must be a GeoDataFrame, not DataFrame; ...
    """
    if not isinstance(obj, gpd.GeoDataFrame):
        hint = (
            f"read it with cdv_geo.read_layer(path, {kind!r})"
            if kind
            else "read it with cdv_geo.read_layer(path, kind) or geopandas.read_file(path)"
        )
        extra = (
            " (a pandas DataFrame has no geometry: build one with geopandas.GeoDataFrame(df, "
            "geometry=geopandas.points_from_xy(df.x, df.y), crs='EPSG:2154'))"
            if isinstance(obj, pd.DataFrame)
            else ""
        )
        raise LayerTypeError(
            f"{name} must be a GeoDataFrame, not {type(obj).__name__}; {hint}{extra}"
        )
    source = obj.attrs.get("source")
    where = f" ({source})" if source else ""
    if is_undefined_crs(obj.crs):
        raise CRSError(
            f"{name} layer{where} has no coordinate reference system. Set it with "
            f"{name}.set_crs('EPSG:2154') (or the CRS its coordinates are in), pass crs= to the "
            "reader, or fix the file (for a shapefile, its .prj)."
        )
    if len(obj) == 0 and not allow_empty:
        raise DataValidationError(
            [
                Problem(
                    f"{name} layer is empty (no features); give at least one feature, or leave "
                    "the layer out",
                    file=source,
                    layer=name,
                )
            ]
        )
    if geometry is not None:
        _check_family(obj, name, geometry)
    if kind is not None and obj.attrs.get("kind") != kind:
        if _VALIDATOR is None:  # pragma: no cover - cdv_geo.schema registers it on import
            raise RuntimeError("import cdv_geo.schema before validating a layer kind")
        obj = _VALIDATOR(obj, kind, source)
    return obj


#: The schema validator, ``validate(gdf, kind, source) -> GeoDataFrame``. The schemas live in a
#: layer above core (cdv_geo.schema), which registers its validator here when it is imported, so
#: that core never imports upward.
_VALIDATOR: Callable[[gpd.GeoDataFrame, str, str | None], gpd.GeoDataFrame] | None = None


def set_validator(
    validate: Callable[[gpd.GeoDataFrame, str, str | None], gpd.GeoDataFrame],
) -> None:
    """Register the function that validates a layer against its kind's schema.

    Called once by :mod:`cdv_geo.schema` when it is imported (``import cdv_geo`` imports it).
    """
    global _VALIDATOR
    _VALIDATOR = validate


#: shapely's geometry type ids (``shapely.get_type_id``), by name.
_TYPE_IDS = {
    "Point": 0,
    "LineString": 1,
    "LinearRing": 2,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
    "GeometryCollection": 7,
}
_TYPE_NAMES = {v: k for k, v in _TYPE_IDS.items()}


def _check_family(gdf: gpd.GeoDataFrame, name: str, geometry: str | Iterable[str]) -> None:
    families = [geometry] if isinstance(geometry, str) else list(geometry)
    unknown = [f for f in families if f not in GEOMETRY_FAMILIES]
    if unknown:
        raise ValueError(f"unknown geometry family {unknown}; use {sorted(GEOMETRY_FAMILIES)}")
    # by type id + 1 (-1: missing geometry; empty geometries keep their type: both are left
    # to the caller)
    ok = np.zeros(len(_TYPE_IDS) + 1, dtype=bool)
    ok[0] = True
    ok[[_TYPE_IDS[n] + 1 for f in families for n in GEOMETRY_FAMILIES[f]]] = True
    types = shapely.get_type_id(np.asarray(gdf.geometry.array, dtype=object))
    bad = np.flatnonzero(~ok[types + 1])
    if len(bad):
        geoms = np.asarray(gdf.geometry.array, dtype=object)[bad]
        bad = bad[~shapely.is_empty(geoms)]
    if len(bad):
        ids = feature_ids(gdf)
        raise DataValidationError(
            [
                Problem(
                    f"geometry is a {_TYPE_NAMES[int(types[i])]}; {name} takes "
                    f"{' or '.join(families)} geometries",
                    file=gdf.attrs.get("source"),
                    layer=name,
                    feature=str(ids[i]),
                    field="geometry",
                )
                for i in bad[:20]
            ],
            summary=f"{len(bad)} feature(s) of {name} have the wrong geometry type:",
        )


def feature_ids(gdf: pd.DataFrame) -> np.ndarray:
    """Return each feature's id as text: the ``id`` column, else the index.

    Examples
    --------
    >>> import pandas as pd
    >>> feature_ids(pd.DataFrame({"id": [1, 2]})).tolist()
    ['1', '2']
    """
    raw = gdf["id"] if "id" in gdf.columns else gdf.index.to_series()
    return raw.astype(str).to_numpy(dtype=object)


def quartier_codes(quartiers: pd.DataFrame) -> np.ndarray:
    """Return the quartiers' codes as text, in layer order: ``code``, else ``id``, else the index.

    Examples
    --------
    >>> import pandas as pd
    >>> quartier_codes(pd.DataFrame({"code": ["QP002013"], "id": ["x"]})).tolist()
    ['QP002013']
    """
    if "code" in quartiers.columns and quartiers["code"].notna().all():
        return quartiers["code"].astype(str).to_numpy(dtype=object)
    return feature_ids(quartiers)
