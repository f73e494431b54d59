"""Reading a TOML project file: every layer, raster and table it names, every problem at once.

:func:`read_project` is what :meth:`Territory.from_file <cdv_geo.territory.Territory.from_file>`
runs. Paths are relative to the project file. Every entry is read even when an earlier one
failed, so one :class:`~cdv_geo.core.errors.DataValidationError` lists every problem of the
project (missing files, a layer without CRS, invalid features, an unreadable table...).
"""

from __future__ import annotations

import logging
import os
import tomllib
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd

from cdv_geo.core.crs import check_metric_crs
from cdv_geo.core.errors import CRSError, DataValidationError, Problem
from cdv_geo.schema import LAYER_KINDS, SCHEMAS
from cdv_geo.territory.model import (
    SETTING_KEYS,
    Settings,
    TableSource,
    TableSpec,
    heat_unit_problems,
    table_paths,
)

__all__ = ["TABLE_OPTIONS", "read_project", "read_table", "table_readers"]

log = logging.getLogger("cdv_geo")

#: The options a ``[tables]`` entry may give besides ``path`` (see :class:`TableSource`).
TABLE_OPTIONS = ("year", "columns", "source", "sheet", "layer", "crs")
#: The options each known table takes (other tables: any of :data:`TABLE_OPTIONS`).
_TABLE_OPTIONS_OF = {
    "indicators": ("year", "columns", "source", "sheet"),
    "income_grid": ("layer", "crs"),
}
#: The options of a ``[layers]`` entry (``grid``, ``buildings``: residences from a Filosofi grid;
#: ``bpe`` + ``types``, ``osm`` + ``kinds``: facilities from the BPE or an OpenStreetMap extract).
_LAYER_OPTIONS = (
    *("path", "layer", "crs", "official", "communes", "codes", "repair"),
    *("grid", "buildings", "buildings_layer", "bpe", "types", "osm", "kinds"),
)
#: Entries that name their source by another key than ``path``: (layer kind, key).
_SOURCE_KEYS = {("residences", "grid"), ("facilities", "bpe"), ("facilities", "osm")}


def read_project(
    path: str | os.PathLike[str], *, repair: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """Read a project file; return the :class:`Territory` arguments and the repair warnings.

    Parameters
    ----------
    path : path-like
        The ``project.toml``.
    repair : bool, default False
        Repair invalid geometries (see :func:`cdv_geo.read_layer`).

    Returns
    -------
    tuple
        The keyword arguments of :class:`~cdv_geo.territory.Territory` (plus ``read_tables``:
        the tables read while checking them, by name, with their entry), and the warnings of
        the geometries repaired (the caller re-emits them).

    Raises
    ------
    DataValidationError
        Listing every problem of the project.
    """
    p = Path(path)
    config = _read_toml(p)
    base = p.parent
    problems: list[Problem] = []
    terr = config.get("territory", {})
    settings = _read_settings(terr.get("crs"), config.get("settings", {}), p, problems)
    layers, repaired = _read_layers(config.get("layers", {}), p, repair, problems)
    network = _paths(config.get("network", {}), base, "network", problems)
    for key in network:
        if key not in ("osm_xml", "osm_pbf", "graphml"):
            problems.append(
                Problem(
                    f"unknown [network] entry {key!r}; expected osm_xml, osm_pbf or graphml",
                    file=str(p),
                    layer="network",
                )
            )
    rasters, units = _read_rasters(config.get("rasters", {}), p, problems)
    tables = _read_tables(config.get("tables", {}), p, problems)
    found, loaded = _check_rasters_and_tables(rasters, tables)
    problems.extend(found)
    problems.extend(heat_unit_problems(rasters, units))
    if problems:
        raise DataValidationError(
            problems,
            summary=f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in project {p}:",
        )
    kwargs: dict[str, Any] = {
        "name": str(terr.get("name", p.parent.name)),
        "rasters": rasters,
        "raster_units": units,
        "tables": tables,
        "settings": settings,
        "illustrative": bool(terr.get("illustrative", False)),
        "attribution": str(terr.get("attribution", "")),
        "project_file": p.resolve(),
        "network_file": next(iter(network.values()), None),
        **layers,
        "read_tables": loaded,
    }
    return kwargs, repaired


def _read_toml(p: Path) -> dict[str, Any]:
    if not p.exists():
        raise DataValidationError(
            [
                Problem(
                    "project file does not exist; create one with `cdv-geo init DIR`", file=str(p)
                )
            ]
        )
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DataValidationError([Problem(f"not valid TOML: {exc}", file=str(p))]) from exc


def _read_settings(crs: Any, raw: Mapping[str, Any], p: Path, problems: list[Problem]) -> Settings:
    """Read ``[settings]`` (and the territory's CRS); a problem gives the default settings."""
    unknown = set(raw) - set(SETTING_KEYS)
    if unknown:
        problems.append(
            Problem(
                f"unknown settings {sorted(unknown)}; expected {sorted(SETTING_KEYS)}",
                file=str(p),
                layer="settings",
            )
        )
    try:
        values: dict[str, Any] = {
            k: (
                tuple(float(x) for x in v)
                if isinstance(v, list)
                else int(v)
                if k == "new_sites"
                else float(v)
            )
            for k, v in raw.items()
            if k in SETTING_KEYS
        }
        settings = Settings(crs=None if crs is None else str(crs), **values)
        if settings.crs is not None:
            check_metric_crs(settings.crs, what="territory CRS")
    except (CRSError, TypeError, ValueError) as exc:
        problems.append(Problem(str(exc), file=str(p), layer="settings"))
        settings = Settings()
    return settings


def _read_layers(
    layer_cfg: Mapping[str, Any], p: Path, repair: bool, problems: list[Problem]
) -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """Read every layer of ``[layers]``; return them and the repair warnings to re-emit."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    for key in layer_cfg:
        if key not in SCHEMAS:
            problems.append(
                Problem(
                    f"unknown layer {key!r} in [layers]; expected one of {', '.join(LAYER_KINDS)}",
                    file=str(p),
                    layer=key,
                )
            )
    repaired: list[str] = []
    for kind in LAYER_KINDS:  # (communes before residences: a grid's territory)
        spec = layer_cfg.get(kind)
        opts = dict(spec) if isinstance(spec, Mapping) else {"path": spec}
        if not opts.get("path") and not any(opts.get(k) for kk, k in _SOURCE_KEYS if kk == kind):
            continue
        unknown = set(opts) - set(_LAYER_OPTIONS)
        if unknown:
            problems.append(
                Problem(
                    f"unknown option(s) {sorted(unknown)} of layer {kind!r}; expected some of "
                    f"{', '.join(_LAYER_OPTIONS)}",
                    file=str(p),
                    layer=kind,
                )
            )
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                layer = _read_layer(kind, opts, p, repair, layers)
            repaired += [str(w.message) for w in caught]
        except DataValidationError as exc:
            problems.extend(exc.problems)
        except CRSError as exc:
            file = opts.get("path") or opts.get("grid") or opts.get("bpe") or opts.get("osm")
            problems.append(Problem(str(exc), file=str(_resolve(p.parent, file)), layer=kind))
        else:
            if layer is not None:
                layers[kind] = layer
                log.info("read %s: %d features", kind, len(layer))
    return layers, repaired


def _read_layer(
    kind: str,
    opts: Mapping[str, Any],
    p: Path,
    repair: bool,
    layers: Mapping[str, gpd.GeoDataFrame],
) -> gpd.GeoDataFrame | None:
    """Read one ``[layers]`` entry: a file, the official QPV file, or residences from a grid."""
    from cdv_geo.io import read_layer, read_qpv, read_vector

    if kind == "residences" and opts.get("grid"):
        from cdv_geo.metrics.residences_grid import residences_from_grid

        grid = _resolve(p.parent, opts["grid"])
        if not grid.exists():
            raise DataValidationError([_missing("layer", kind, opts["grid"], grid)])
        buildings = None
        if opts.get("buildings"):
            b_path = _resolve(p.parent, opts["buildings"])
            buildings = read_vector(b_path, layer=opts.get("buildings_layer"), kind="buildings")
            buildings.attrs["source"] = str(b_path)
        return residences_from_grid(
            grid,
            buildings,
            crs=opts.get("crs"),  # the grid's CRS when its file has none
            layer=opts.get("layer"),
            territory=layers.get("communes"),
        )
    if kind == "facilities" and (opts.get("bpe") or opts.get("osm")):
        return _read_facilities(opts, p, layers)
    full = _resolve(p.parent, opts["path"])
    if kind == "quartiers" and opts.get("official"):
        # an ANCT perimeter file, filtered to the contrat de ville's QPV
        return read_qpv(
            full,
            communes=opts.get("communes"),
            codes=opts.get("codes"),
            layer=opts.get("layer"),
            repair=repair or bool(opts.get("repair")),
            crs=opts.get("crs"),
        )
    return read_layer(full, kind, layer=opts.get("layer"), repair=repair, crs=opts.get("crs"))


def _read_facilities(
    opts: Mapping[str, Any], p: Path, layers: Mapping[str, gpd.GeoDataFrame]
) -> gpd.GeoDataFrame:
    """Facilities from the BPE (cut to the quartiers' communes) or from an OSM extract."""
    from cdv_geo.io import facilities_from_osm, read_bpe

    key = "bpe" if opts.get("bpe") else "osm"
    full = _resolve(p.parent, opts[key])
    if not full.exists():
        raise DataValidationError([_missing("layer", "facilities", opts[key], full)])
    if key == "osm":
        return facilities_from_osm(full, kinds=opts.get("kinds"), crs=opts.get("crs"))
    communes = opts.get("communes")
    if communes is None:  # the communes of the contrat de ville: its quartiers' or communes'
        for kind, column in (("quartiers", "commune"), ("communes", "code")):
            layer = layers.get(kind)
            if layer is not None and column in layer.columns and layer[column].notna().any():
                communes = sorted(layer[column].dropna().astype(str).unique())
                break
    return read_bpe(full, communes=communes, types=opts.get("types"), crs=opts.get("crs"))


def _resolve(base: Path, rel: Any) -> Path:
    path = Path(str(rel))
    return path if path.is_absolute() else (base / path).resolve()


def _missing(group: str, name: str, rel: Any, full: Path) -> Problem:
    return Problem(
        f"{group} {name!r} does not exist (path {str(rel)!r} is relative to the project file)",
        file=str(full),
        layer=f"{group}s" if group != "network" else group,
    )


def _paths(
    cfg: Mapping[str, Any], base: Path, group: str, problems: list[Problem]
) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for name, rel in cfg.items():
        if not rel:
            continue
        full = _resolve(base, rel)
        if not full.exists():
            problems.append(_missing(group.removesuffix("s"), name, rel, full))
        out[name] = full
    return out


def _read_rasters(
    cfg: Mapping[str, Any], p: Path, problems: list[Problem]
) -> tuple[dict[str, Path], dict[str, str]]:
    """Read ``[rasters]``: ``name = "f.tif"`` or ``name = { path = "f.tif", units = "°C" }``."""
    plain: dict[str, Any] = {}
    units: dict[str, str] = {}
    for name, value in cfg.items():
        if not isinstance(value, Mapping):
            plain[name] = value
            continue
        unknown = set(value) - {"path", "units"}
        if unknown or not value.get("path"):
            problems.append(
                Problem(
                    f"raster {name!r}: give a path and optionally units (e.g. "
                    f'{{ path = "rasters/{name}.tif", units = "°C" }})'
                    + (f"; unknown option(s) {sorted(unknown)}" if unknown else ""),
                    file=str(p),
                    layer="rasters",
                )
            )
            continue
        plain[name] = value["path"]
        if value.get("units"):
            units[name] = str(value["units"])
    return _paths(plain, p.parent, "rasters", problems), units


def _read_tables(cfg: Mapping[str, Any], p: Path, problems: list[Problem]) -> dict[str, TableSpec]:
    """Read ``[tables]``: a file or folder, a list of them, or ``{path = ..., year = ...}``."""
    out: dict[str, TableSpec] = {}
    for name, value in cfg.items():
        if not value:
            continue
        opts = dict(value) if isinstance(value, Mapping) else {"path": value}
        allowed = _TABLE_OPTIONS_OF.get(name, TABLE_OPTIONS)
        unknown = set(opts) - {"path", *allowed}
        several = name == "income_grid" and isinstance(opts.get("path"), list)
        if unknown or several or not opts.get("path"):
            what = "one file" if name == "income_grid" else "a file, a folder or a list of them"
            problems.append(
                Problem(
                    f"table {name!r}: give a path ({what}) and optionally {', '.join(allowed)}"
                    + (f"; unknown option(s) {sorted(unknown)}" if unknown else ""),
                    file=str(p),
                    layer="tables",
                )
            )
            continue
        rel = opts.pop("path")
        many = isinstance(rel, list)
        paths = [_resolve(p.parent, r) for r in (rel if many else [rel])]
        for r, full in zip(rel if many else [rel], paths, strict=True):
            if not full.exists():
                problems.append(_missing("table", name, r, full))
        if opts:
            out[name] = TableSource(tuple(paths) if many else paths[0], **opts)
        else:
            out[name] = paths if many else paths[0]
    return out


def table_readers() -> dict[str, Callable[..., Any]]:
    """Return the reader of each known ``[tables]`` entry (``indicators``, ``income_grid``)."""
    from cdv_geo.io.grid import read_grid
    from cdv_geo.io.insee import read_indicators

    return {"indicators": read_indicators, "income_grid": read_grid}


def _check_rasters_and_tables(
    rasters: Mapping[str, Path], tables: Mapping[str, TableSpec]
) -> tuple[list[Problem], dict[str, tuple[TableSpec, Any]]]:
    """Open every raster and known table once, so `cdv-geo validate` reports their problems too.

    Returns the problems, and the tables read (with their entry), which the territory keeps so
    that the metrics do not read them again.
    """
    from cdv_geo.core.errors import RasterError
    from cdv_geo.core.raster import raster_info

    problems: list[Problem] = []
    for name, path in rasters.items():
        if path.exists():
            try:
                raster_info(path)
            except RasterError as exc:
                problems.append(Problem(str(exc), file=str(path), layer=f"raster {name}"))
    readers = table_readers()
    loaded: dict[str, tuple[TableSpec, Any]] = {}
    for name, spec in tables.items():
        if name in readers and all(path.exists() for path in table_paths(spec)):
            try:
                loaded[name] = (spec, read_table(spec, readers[name]))
            except DataValidationError as exc:
                problems.extend(exc.problems)
            except CRSError as exc:
                files = ", ".join(str(path) for path in table_paths(spec))
                problems.append(Problem(str(exc), file=files, layer="tables"))
    return problems, loaded


def read_table(spec: TableSpec, reader: Callable[..., Any], **kwargs: Any) -> Any:
    """Call ``reader`` on a ``[tables]`` entry: its path(s), its options and `kwargs`.

    Examples
    --------
    >>> read_table(TableSource("a.csv", year=2021), lambda p, **kw: (p.name, kw))
    ('a.csv', {'year': 2021})
    >>> read_table([Path("a.csv"), Path("b.csv")], lambda p, **kw: [x.name for x in p])
    ['a.csv', 'b.csv']
    """
    if isinstance(spec, TableSource):
        paths = list(spec.path) if isinstance(spec.path, tuple) else spec.path
        return reader(paths, **spec.options(), **kwargs)
    return reader(spec, **kwargs)
