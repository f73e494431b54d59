"""Reading and writing layers: validated reads (pyogrio), official QPV loaders, atomic writes."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from cdv_geo.core.crs import require_crs
from cdv_geo.core.errors import CdvGeoError, DataValidationError, Problem
from cdv_geo.schema import SCHEMAS, normalize_token, validate

__all__ = ["atomic_path", "read_layer", "read_qpv", "write_layer"]

_DRIVERS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".parquet": "Parquet",
    ".geoparquet": "Parquet",
    ".fgb": "FlatGeobuf",
}


def _check_exists(path: Path, kind: str | None) -> None:
    if not path.exists():
        raise DataValidationError(
            [
                Problem(
                    "file does not exist; check the path (paths in project.toml are relative "
                    "to the project file)",
                    file=str(path),
                    layer=kind,
                )
            ]
        )


def _read_raw(path: Path, kind: str | None, layer: str | None) -> gpd.GeoDataFrame:
    """Read a vector file with pyogrio (GeoParquet with geopandas), choosing the layer."""
    _check_exists(path, kind)
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        try:
            return gpd.read_parquet(path)
        except Exception as exc:
            raise DataValidationError(
                [Problem(f"cannot read GeoParquet file: {exc}", file=str(path), layer=kind)]
            ) from exc
    if layer is None:
        try:
            layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        except Exception as exc:
            raise DataValidationError(
                [
                    Problem(
                        f"cannot open as a vector file ({exc}); expected GeoJSON, GeoPackage, "
                        "Shapefile or GeoParquet",
                        file=str(path),
                        layer=kind,
                    )
                ]
            ) from exc
        if len(layers) > 1:
            if kind is not None and kind in layers:
                layer = kind
            else:
                raise DataValidationError(
                    [
                        Problem(
                            f"file holds {len(layers)} layers ({', '.join(layers)}); say which "
                            'one with layer=... (or `layer = "..."` in project.toml)',
                            file=str(path),
                            layer=kind,
                        )
                    ]
                )
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise DataValidationError(
            [
                Problem(
                    f"cannot read layer {layer!r}: {exc}" if layer else f"cannot read: {exc}",
                    file=str(path),
                    layer=kind,
                )
            ]
        ) from exc


def read_layer(
    path: str | os.PathLike[str],
    kind: str,
    *,
    layer: str | None = None,
    repair: bool = False,
) -> gpd.GeoDataFrame:
    """Read a layer file and return it validated, with canonical fields and an ``id`` column.

    Parameters
    ----------
    path : str or path-like
        GeoJSON, GeoPackage, Shapefile, FlatGeobuf or GeoParquet file.
    kind : str
        Layer kind: ``quartiers``, ``facilities``, ``renewal_sites``, ``desealed_areas``,
        ``tree_plantings``, ``residences``, ``green_spaces`` or ``communes``.
    layer : str, optional
        Layer name inside a multi-layer file (GeoPackage). Defaults to the only layer, or the
        layer named after `kind`.
    repair : bool, default False
        Repair invalid geometries with :func:`shapely.make_valid` (and say which) instead of
        refusing them.

    Returns
    -------
    geopandas.GeoDataFrame
        In the file's CRS (reprojection happens in the metric functions).

    Raises
    ------
    CRSError
        If the file has no CRS (e.g. a shapefile without its ``.prj``).
    DataValidationError
        Listing every problem of the layer (see :func:`cdv_geo.schema.validate`).

    Examples
    --------
    >>> import cdv_geo as cg
    >>> fac = cg.read_layer(cg.datasets.get_path("soissons", "facilities"), "facilities")
    >>> "water_play_area" in set(fac["kind"])
    True
    """
    p = Path(path)
    if kind not in SCHEMAS:
        raise DataValidationError(
            [
                Problem(
                    f"unknown layer kind {kind!r}; expected one of {', '.join(SCHEMAS)}",
                    file=str(p),
                )
            ]
        )
    raw = _read_raw(p, kind, layer)
    require_crs(raw, str(p))
    return validate(raw, kind, source=str(p), repair=repair)


def atomic_path(path: str | os.PathLike[str]) -> _AtomicPath:
    r"""Context manager giving a temporary path next to `path`, renamed onto it on success.

    Nothing is left behind on failure: the temporary file is removed and `path` keeps its
    previous content.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "table.csv"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("a,b\n1,2\n")
    >>> target.read_text()
    'a,b\n1,2\n'
    """
    return _AtomicPath(Path(path))


class _AtomicPath:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{self.path.stem}.", suffix=f".part{self.path.suffix}", dir=self.path.parent
        )
        os.close(fd)
        os.unlink(name)  # writers (GDAL) want to create the file themselves
        self.tmp = Path(name)
        return self.tmp

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self.tmp is not None
        if exc_type is None:
            os.replace(self.tmp, self.path)
            return
        for leftover in (self.tmp, Path(str(self.tmp) + "-journal")):
            if leftover.exists():
                leftover.unlink()


def write_layer(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    driver: str | None = None,
) -> Path:
    """Write a layer atomically (temporary file, then rename): never a half-written file.

    GeoJSON is written in EPSG:4326 (RFC 7946) with 7 decimals (~1 cm); other formats keep the
    layer's CRS. Writing a named `layer` into an existing GeoPackage keeps its other layers.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer to write; must carry a CRS.
    path : str or path-like
        Output file; the format follows the extension (``.geojson``, ``.gpkg``, ``.shp``,
        ``.fgb``, ``.parquet``) unless `driver` is given.
    layer : str, optional
        Layer name (GeoPackage).
    driver : str, optional
        OGR driver name.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib, geopandas as gpd
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(728440, 6920700)], crs=2154)
    >>> out = write_layer(g, pathlib.Path(tempfile.mkdtemp()) / "a.gpkg", layer="facilities")
    >>> gpd.read_file(out, layer="facilities").crs.to_epsg()
    2154
    """
    p = Path(path)
    require_crs(gdf, str(p))
    drv = driver or _DRIVERS.get(p.suffix.lower())
    if drv is None:
        raise CdvGeoError(
            f"cannot tell the format of {p} from its extension; use .geojson, .gpkg, .shp, "
            ".fgb or .parquet, or pass driver=..."
        )
    out = gdf
    opts: dict[str, Any] = {}
    if drv == "GeoJSON":
        out = gdf.to_crs(4326)
        opts["layer_options"] = {"COORDINATE_PRECISION": 7, "RFC7946": "YES"}
    out = _jsonable(out)
    if drv == "ESRI Shapefile":
        # a shapefile is several files: write them in a temporary folder, then move each
        with tempfile.TemporaryDirectory(dir=p.parent if p.parent.exists() else None) as tmpd:
            tmp = Path(tmpd) / p.name
            out.to_file(tmp, driver=drv, engine="pyogrio", encoding="UTF-8")
            for f in Path(tmpd).iterdir():
                os.replace(f, p.parent / f.name)
        return p
    with atomic_path(p) as tmp:
        if drv == "Parquet":
            out.to_parquet(tmp)
        else:
            if drv == "GPKG" and p.exists() and layer is not None:
                shutil.copyfile(p, tmp)  # keep the file's other layers
                if layer in set(pyogrio.list_layers(tmp)[:, 0]):
                    opts["layer_options"] = {"OVERWRITE": "YES"}
            # name the layer after the target, not the temporary file (GeoJSON stores it)
            out.to_file(tmp, driver=drv, layer=layer or p.stem, engine="pyogrio", **opts)
    return p


def _jsonable(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Turn pandas nullable and object columns into types every OGR driver accepts."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if isinstance(s.dtype, pd.BooleanDtype):
            out[col] = s.astype(object).where(s.notna(), None)
        elif s.dtype == object and s.map(lambda v: isinstance(v, list | tuple | dict)).any():
            out[col] = s.map(lambda v: None if v is None else str(v))
    return out


# --- official ANCT QPV perimeters --------------------------------------------------------------

#: Field names of the two generations of official QPV files, normalised (lower case).
_QPV_CODE = ("code_qp", "code_qpv", "cod_qp")
_QPV_NAME = ("lib_qp", "nom_qp", "libelle_qp", "nom_qpv")
_QPV_COMMUNE_CODE = ("insee_com", "code_insee", "insee_commune", "depcom")
_QPV_COMMUNE_NAME = ("lib_com", "commune_qp", "nom_com", "libelle_commune")


def _first(cols: dict[str, str], names: Sequence[str]) -> str | None:
    for n in names:
        if n in cols:
            return cols[n]
    return None


def read_qpv(
    path: str | os.PathLike[str],
    *,
    communes: Iterable[str] | None = None,
    codes: Iterable[str] | None = None,
    layer: str | None = None,
    repair: bool = False,
) -> gpd.GeoDataFrame:
    """Read an official ANCT QPV perimeter file as a ``quartiers`` layer.

    Both generations are understood: 2015 (``code_qp``, ``nom_qp``, ``commune_qp``) and 2024
    (``code_qp``, ``lib_qp``, ``insee_com``, ``lib_com``...), where a QPV spanning several
    communes has one feature per commune: those are dissolved into one row per ``code_qp``.

    Parameters
    ----------
    path : str or path-like
        The perimeter file (GeoJSON, GeoPackage, Shapefile...), as published on data.gouv.fr.
    communes : iterable of str, optional
        Keep the QPV of these communes, by INSEE code (``"02722"``) or name (``"Soissons"``,
        accents and case ignored).
    codes : iterable of str, optional
        Keep these QPV codes.
    layer : str, optional
        Layer name inside a multi-layer file.
    repair : bool, default False
        Repair invalid rings (published files contain some) with :func:`shapely.make_valid`.

    Returns
    -------
    geopandas.GeoDataFrame
        A validated ``quartiers`` layer: ``id`` and ``code`` (the QPV code), ``name``,
        ``commune`` (INSEE codes or names, ``;``-separated when several).

    Examples
    --------
    >>> import cdv_geo as cg
    >>> path = cg.datasets.get_path("soissons", "quartiers")
    >>> q = cg.read_qpv(path, codes=["QN00272M", "QN00274M"])
    >>> sorted(q["name"])
    ['Chevreux', 'Saint-Crépin']
    """
    p = Path(path)
    raw = _read_raw(p, "quartiers", layer)
    require_crs(raw, str(p))
    cols = {normalize_token(str(c)): str(c) for c in raw.columns if c != raw.geometry.name}
    code_col = _first(cols, _QPV_CODE) or _first(cols, ("code",))
    name_col = _first(cols, _QPV_NAME) or _first(cols, ("name", "nom"))
    if code_col is None or name_col is None:
        raise DataValidationError(
            [
                Problem(
                    "not an ANCT QPV perimeter file: expected fields code_qp and lib_qp "
                    f"(2024) or nom_qp (2015); found {', '.join(cols.values())}",
                    file=str(p),
                    layer="quartiers",
                )
            ]
        )
    ccode = _first(cols, _QPV_COMMUNE_CODE)
    cname = _first(cols, _QPV_COMMUNE_NAME)
    df = raw.copy()
    df["_code"] = df[code_col].astype(str).str.strip()
    df["_commune_codes"] = df[ccode].astype(str).str.strip() if ccode else ""
    df["_commune_names"] = df[cname].astype(str) if cname else ""
    if codes is not None:
        wanted = {str(c).strip() for c in codes}
        df = df[df["_code"].isin(wanted)]
    if communes is not None:
        wanted_c = {normalize_token(c) for c in communes}

        def _matches(row: pd.Series) -> bool:
            toks = {normalize_token(row["_commune_codes"])}
            for part in str(row["_commune_names"]).replace(";", ",").split(","):
                toks.add(normalize_token(part))
            return bool(toks & wanted_c)

        # keep every feature of a QPV touching one of the communes: the QPV is the unit
        hit = set(df.loc[df.apply(_matches, axis=1), "_code"]) if len(df) else set()
        df = df[df["_code"].isin(hit)]
    if df.empty:
        found = sorted(
            set(raw[ccode].astype(str)) if ccode else set(raw[cname].astype(str)) if cname else []
        )
        raise DataValidationError(
            [
                Problem(
                    f"no QPV left after filtering (communes={list(communes or [])}, "
                    f"codes={list(codes or [])}); the file covers communes: "
                    f"{', '.join(found[:20])}{' ...' if len(found) > 20 else ''}",
                    file=str(p),
                    layer="quartiers",
                )
            ]
        )
    # Check geometries per published feature (before dissolving, which fails on bad rings).
    pre = gpd.GeoDataFrame(
        {
            "id": [
                f"{c}" + (f" (commune {k})" if k else "")
                for c, k in zip(df["_code"], df["_commune_codes"], strict=True)
            ],
            "code": df["_code"].to_numpy(),
            "name": df[name_col].to_numpy(),
        },
        geometry=df.geometry.to_numpy(),
        crs=raw.crs,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checked = validate(pre, "quartiers", source=str(p), repair=repair)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    checked["_commune"] = [
        k if k else n for k, n in zip(df["_commune_codes"], df["_commune_names"], strict=True)
    ]
    rows = []
    for code, grp in checked.groupby("code", sort=True):
        geom = shapely.union_all(grp.geometry.to_numpy())
        rows.append(
            {
                "id": code,
                "code": code,
                "name": grp["name"].iloc[0],
                "commune": ";".join(sorted({str(c) for c in grp["_commune"] if c})),
                "source": f"ANCT QPV perimeters ({p.name})",
                "geometry": geom,
            }
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=raw.crs)
    result = validate(out, "quartiers", source=str(p))
    result.attrs["repaired"] = checked.attrs.get("repaired", [])
    return result
