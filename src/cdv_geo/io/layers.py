"""Reading and writing layers: raw and validated reads (pyogrio), atomic writes."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import CRS

from cdv_geo.core.crs import is_undefined_crs, require_crs
from cdv_geo.core.errors import CdvGeoError, CRSError, DataValidationError, Problem
from cdv_geo.schema import SCHEMAS, validate

__all__ = [
    "FIELD_OPTIONS",
    "AtomicPath",
    "assign_crs",
    "atomic_path",
    "combine_layers",
    "layer_options",
    "read_entries",
    "read_layer",
    "read_vector",
    "write_layer",
]

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
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise DataValidationError(
            [Problem("is a folder, not a vector file", file=str(path), layer=kind)]
        )
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        try:
            return gpd.read_parquet(path)
        except Exception as exc:
            raise DataValidationError(
                [Problem(f"cannot read GeoParquet file: {exc}", file=str(path), layer=kind)]
            ) from exc
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
    if layer is not None and layer not in layers:
        # a typo in `layer = "..."`: say which layers exist rather than "could not be opened"
        close = [n for n in layers if n.lower() == str(layer).lower()]
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DataValidationError(
            [
                Problem(
                    f"no layer {layer!r} in this file; its layers are {', '.join(layers)}{hint}",
                    file=str(path),
                    layer=kind,
                )
            ]
        )
    if layer is None and len(layers) > 1:
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


def assign_crs(gdf: gpd.GeoDataFrame, crs: Any, source: str | None = None) -> gpd.GeoDataFrame:
    """Give `gdf` the CRS `crs` when it has none; check it agrees when it has one.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        A layer as read.
    crs : Any
        What the caller says the coordinates are (``"EPSG:2154"``, ``3035``...), or None.
    source : str, optional
        File name for the messages.

    Raises
    ------
    CRSError
        If `crs` is not a CRS, if the layer has none and `crs` is None, or if the file names
        another CRS than `crs`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> assign_crs(gpd.GeoDataFrame(geometry=[Point(0, 0)]), "EPSG:3035").crs.to_epsg()
    3035
    """
    if crs is None:
        require_crs(gdf, source)
        return gdf
    try:
        wanted = CRS.from_user_input(crs)
    except Exception as exc:
        raise CRSError(f"crs={crs!r} is not a valid CRS ({exc}); use e.g. 'EPSG:2154'") from exc
    if is_undefined_crs(gdf.crs):  # none, or GDAL's "Undefined ... SRS" placeholder
        return gdf.set_crs(wanted, allow_override=True)
    if not CRS.from_user_input(gdf.crs).equals(wanted, ignore_axis_order=True):
        name = f" {source}" if source else ""
        raise CRSError(
            f"layer{name} says its CRS is {gdf.crs.to_string()} but crs={crs!r} was given; crs= "
            "only assigns a CRS to a file that has none. Drop crs=, or reproject after reading "
            "with .to_crs(...)"
        )
    return gdf


def read_vector(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    crs: Any = None,
    kind: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector file as it is (no schema), with a CRS: the raw reader of every io module.

    Parameters
    ----------
    path : str or path-like
        GeoJSON, GeoPackage, Shapefile, FlatGeobuf or GeoParquet file.
    layer : str, optional
        Layer inside a multi-layer file; defaults to the only layer, or the one named `kind`.
    crs : Any, optional
        CRS of the coordinates when the file has none (a GeoPackage with an undefined CRS, a
        shapefile without ``.prj``).
    kind : str, optional
        Layer kind, for the messages and the choice of layer.

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    CRSError
        If the file has no CRS and `crs` is not given.
    DataValidationError
        If the file is missing or unreadable, or holds several layers and `layer` is not given.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> len(read_vector(cg.datasets.get_path("soissons", "quartiers"))) > 0
    True
    """
    p = Path(path)
    raw = _read_raw(p, kind, layer)
    return assign_crs(raw, crs, str(p))


def read_layer(
    path: str | os.PathLike[str],
    kind: str,
    *,
    layer: str | None = None,
    repair: bool = False,
    crs: Any = None,
    fields: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, Any]] | None = None,
    constants: Mapping[str, Any] | None = None,
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
    crs : Any, optional
        CRS of the coordinates when the file has none (e.g. ``"EPSG:2154"``).
    fields : mapping of str to str, optional
        The column holding a field (``{"name": "Title", "trees": "QTE_PLANT"}``), see
        :func:`cdv_geo.schema.validate`.
    values : mapping of str to mapping, optional
        The file's values of a field and their meaning (``{"kind": {"Santé": "health"}}``).
    constants : mapping of str to Any, optional
        A field whose value is the same for every feature (``{"kind": "bus_stop"}``): it
        replaces the file's column of that field, if any.

    Returns
    -------
    geopandas.GeoDataFrame
        In the file's CRS (reprojection happens in the metric functions).

    Raises
    ------
    CRSError
        If the file has no CRS (e.g. a shapefile without its ``.prj``) and `crs` is not given.
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
    raw = read_vector(p, layer=layer, crs=crs, kind=kind)
    fields = dict(fields or {})
    if constants:
        raw = raw.copy()
        for name, value in constants.items():
            column = f"{name}_constant"  # (never an alias: the file's own column stays aside)
            raw[column] = value
            fields[name] = column
    return validate(raw, kind, source=str(p), repair=repair, fields=fields, values=values)


def atomic_path(path: str | os.PathLike[str]) -> AtomicPath:
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
    return AtomicPath(Path(path))


class AtomicPath:
    """The context manager of :func:`atomic_path`."""

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


def combine_layers(parts: list[gpd.GeoDataFrame], kind: str) -> gpd.GeoDataFrame:
    """Put several validated layers of one kind together (several facility files).

    Ids are prefixed with each file's name (``arrets-12``) so that they stay unique; the layers
    are reprojected to the first one's CRS; ``attrs["source"]`` lists the files and
    ``attrs["ambiguous_kinds"]`` merges the categories each left unmapped.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> from cdv_geo.schema import validate
    >>> def one(kind, src):
    ...     raw = gpd.GeoDataFrame({"name": ["x"], "kind": [kind]}, geometry=[Point(0, 0)],
    ...                            crs=2154)
    ...     return validate(raw, "facilities", source=src)
    >>> a, b = one("bus_stop", "arrets.geojson"), one("school", "equipements.gpkg")
    >>> list(combine_layers([a, b], "facilities")["id"])
    ['arrets-1', 'equipements-1']
    """
    if len(parts) == 1:
        return parts[0]
    crs = parts[0].crs
    stems: list[str] = []
    for i, part in enumerate(parts):
        src = part.attrs.get("source")
        stem = Path(str(src)).stem if src else f"layer{i + 1}"
        stems.append(stem if stem not in stems else f"{stem}{i + 1}")
    frames = []
    for stem, part in zip(stems, parts, strict=True):
        frame = part.to_crs(crs) if part.crs != crs else part.copy()
        frame["id"] = [f"{stem}-{v}" for v in frame["id"]]
        frames.append(frame)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    ambiguous: dict[str, tuple[str, int]] = {}
    for part in parts:
        for k, (label, n) in part.attrs.get("ambiguous_kinds", {}).items():
            ambiguous[k] = (label, ambiguous.get(k, (label, 0))[1] + n)
    out.attrs["kind"] = kind
    out.attrs["source"] = "; ".join(str(p.attrs.get("source") or "-") for p in parts)
    out.attrs["repaired"] = [r for p in parts for r in p.attrs.get("repaired", [])]
    if ambiguous:
        out.attrs["ambiguous_kinds"] = ambiguous
    return out


#: The options of a project's ``[layers]`` entry that say what a file's columns mean, and the
#: layer kind each applies to: ``kind = "bus_stop"`` (every feature), ``kind_field``,
#: ``name_field``, ``kinds = { "Santé" = "health" }`` (the file's categories), ``count_field =
#: "QTE_PLANT"`` (trees per planting point).
FIELD_OPTIONS = {
    "kind": "facilities",
    "kind_field": "facilities",
    "name_field": "facilities",
    "count_field": "tree_plantings",
}


def layer_options(kind: str, opts: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``fields``, ``values`` and ``constants`` of :func:`read_layer` an entry gives.

    Raises
    ------
    DataValidationError
        When an option is given to a layer it does not apply to.

    Examples
    --------
    >>> layer_options("facilities", {"path": "a.csv", "kind_field": "categorie",
    ...                              "kinds": {"Santé": "health"}, "name_field": "Title"})
    {'fields': {'kind': 'categorie', 'name': 'Title'}, 'values': {'kind': {'Santé': 'health'}}}
    >>> layer_options("facilities", {"kind": "bus_stop"})
    {'fields': {}, 'constants': {'kind': 'bus_stop'}}
    """
    wrong = [k for k, applies in FIELD_OPTIONS.items() if k in opts and applies != kind]
    if isinstance(opts.get("kinds"), Mapping) and kind != "facilities":
        wrong.append("kinds")
    if wrong:
        targets = sorted({FIELD_OPTIONS.get(k, "facilities") for k in wrong})
        raise DataValidationError(
            [
                Problem(
                    f"option(s) {', '.join(wrong)} apply to {', '.join(targets)} layers only",
                    layer=kind,
                )
            ]
        )
    pairs = (("kind_field", "kind"), ("name_field", "name"), ("count_field", "trees"))
    out: dict[str, Any] = {"fields": {f: str(opts[k]) for k, f in pairs if k in opts}}
    if isinstance(opts.get("kinds"), Mapping):
        out["values"] = {"kind": dict(opts["kinds"])}
    if opts.get("kind"):
        out["constants"] = {"kind": str(opts["kind"])}
    return out


def read_entries(
    entries: list[Any],
    read_one: Callable[[dict[str, Any]], gpd.GeoDataFrame],
    *,
    kind: str,
    options: tuple[str, ...],
    project: Path,
) -> tuple[gpd.GeoDataFrame | None, list[str], list[Problem]]:
    """Read several entries of one layer kind (``facilities = [ {...}, {...} ]``) as one layer.

    Every entry is read even when one fails. Returns the layer put together
    (:func:`combine_layers`; None when an entry failed), the warnings caught, the problems.
    """
    parts: list[gpd.GeoDataFrame] = []
    caught_all: list[str] = []
    problems: list[Problem] = []
    for i, entry in enumerate(entries):
        opts = dict(entry) if isinstance(entry, Mapping) else {"path": entry}
        unknown = set(opts) - set(options)
        source = opts.get("path") or opts.get("bpe") or opts.get("osm")
        if unknown or not source:
            problems.append(
                Problem(
                    f"{kind} entry #{i + 1}: give a path (or bpe = / osm =)"
                    + (f"; unknown option(s) {sorted(unknown)}" if unknown else ""),
                    file=str(project),
                    layer=kind,
                )
            )
            continue
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                parts.append(read_one(opts))
            caught_all += [str(w.message) for w in caught]
        except DataValidationError as exc:
            problems.extend(exc.problems)
        except CRSError as exc:
            full = Path(str(source))
            full = full if full.is_absolute() else (project.parent / full).resolve()
            problems.append(Problem(str(exc), file=str(full), layer=kind))
    if not parts or len(parts) < len(entries):
        return None, caught_all, problems
    return combine_layers(parts, kind), caught_all, problems
