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
from cdv_geo.territory.services import ServiceSettings, read_services

__all__ = ["QUARTIER_TABLES", "TABLE_OPTIONS", "read_project", "read_table", "table_readers"]

log = logging.getLogger("cdv_geo")

#: The options a ``[tables]`` entry may give besides ``path`` (see :class:`TableSource`).
TABLE_OPTIONS = ("year", "columns", "source", "sheet", "layer", "crs")
#: The options each known table takes (other tables: any of :data:`TABLE_OPTIONS`).
_TABLE_OPTIONS_OF = {
    "indicators": ("year", "columns", "source", "sheet"),
    "income_grid": ("layer", "crs"),
    "actions": ("sheet", "crs"),
    "tfpb": ("sheet", "crs"),
}
#: The tables checked against the territory's quartiers when read (their quartier cells name
#: quartiers by code or name: an unknown one is a problem of the project).
QUARTIER_TABLES = ("actions", "tfpb")
#: The options of a ``[layers]`` entry (``grid``, ``buildings``: residences from a Filosofi grid;
#: ``bpe`` + ``types``, ``osm`` + ``kinds``: facilities from the BPE or an OpenStreetMap extract).
_LAYER_OPTIONS = (
    *("path", "layer", "crs", "official", "communes", "codes", "repair"),
    *("grid", "buildings", "buildings_layer", "bpe", "types", "osm", "kinds"),
    *("kind", "kind_field", "name_field", "count_field"),
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
    problems.extend(_where_problems(layers, network, settings))
    rasters, units = _read_rasters(config.get("rasters", {}), p, problems)
    tables = _read_tables(config.get("tables", {}), p, problems)
    found, loaded = _check_rasters_and_tables(rasters, tables, layers.get("quartiers"))
    problems.extend(found)
    problems.extend(heat_unit_problems(rasters, units))
    try:  # the [evaluation] section: its problems are the project's (cdv-geo validate)
        read_evaluation(p)
    except DataValidationError as exc:
        problems.extend(exc.problems)
    services = ServiceSettings()
    try:  # [services]: capacity, opening hours, commercial centres
        services = read_services(config.get("services"), file=str(p))
    except DataValidationError as exc:
        problems.extend(exc.problems)
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
        "services": services,
        **layers,
        "read_tables": loaded,
    }
    return kwargs, repaired


def _where_problems(
    layers: Mapping[str, gpd.GeoDataFrame], network: Mapping[str, Path], settings: Settings
) -> list[Problem]:
    """Check that the layers lie on the territory and the walking network covers it.

    (cdv_geo.schema.geography: a layer off the territory, coordinates outside their CRS's
    area, two network sources, an extract that leaves quartiers out.)
    """
    from cdv_geo.io.osm import osm_extent
    from cdv_geo.schema.geography import geography_problems, network_problems

    walk_m = max(settings.thresholds_min, default=10.0) * settings.walking_speed_kmh * 1000 / 60
    buffer_m = max(walk_m, *settings.service_area_m)
    extracts: dict[str, tuple[str, Any]] = {}
    for name, path in network.items():
        extent = None
        if name in ("osm_xml", "osm_pbf") and path.exists():
            try:
                extent = osm_extent(path)
            except RuntimeError as exc:
                return [Problem(f"cannot read as an OSM file ({exc})", file=str(path))]
        extracts[name] = (str(path), extent)
    return geography_problems(layers, buffer_m=buffer_m) + network_problems(layers, extracts)


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
        if kind == "facilities" and isinstance(spec, list):
            from cdv_geo.io.layers import read_entries

            # several facility files (bus stops, the town's register, an OSM export): one layer
            read, caught, found = read_entries(
                spec,
                lambda o: _read_layer("facilities", o, p, repair, layers),
                kind=kind,
                options=_LAYER_OPTIONS,
                project=p,
            )
            problems.extend(found)
            repaired += caught
            if read is not None:
                layers[kind] = read
            continue
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
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always")
                layer = _read_layer(kind, opts, p, repair, layers)
            repaired += [str(w.message) for w in said]
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
    from cdv_geo.io.layers import layer_options

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
    return read_layer(
        full,
        kind,
        layer=opts.get("layer"),
        repair=repair,
        crs=opts.get("crs"),
        **layer_options(kind, opts),
    )


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
    """Return the reader of each known ``[tables]`` entry.

    ``indicators`` (INSEE tables), ``income_grid`` (Filosofi squares), ``actions`` (the
    contrat's programme of actions: :func:`cdv_geo.io.actions.read_actions`) and ``tfpb`` (the
    landlords' TFPB statement: :func:`cdv_geo.io.actions.read_tfpb`); the last two take the
    quartiers (:data:`QUARTIER_TABLES`).
    """
    from cdv_geo.io.actions import read_actions, read_tfpb
    from cdv_geo.io.grid import read_grid
    from cdv_geo.io.insee import read_indicators

    return {
        "indicators": read_indicators,
        "income_grid": read_grid,
        "actions": read_actions,
        "tfpb": read_tfpb,
    }


def _check_rasters_and_tables(
    rasters: Mapping[str, Path],
    tables: Mapping[str, TableSpec],
    quartiers: gpd.GeoDataFrame | None = None,
) -> tuple[list[Problem], dict[str, tuple[TableSpec, Any]]]:
    """Open every raster and known table once, so `cdv-geo validate` reports their problems too.

    Returns the problems, and the tables read (with their entry), which the territory keeps so
    that the metrics do not read them again. The :data:`QUARTIER_TABLES` are checked against
    `quartiers` (an action in an unknown quartier is a problem of the project).
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
                extra = {"quartiers": quartiers} if name in QUARTIER_TABLES else {}
                loaded[name] = (spec, read_table(spec, readers[name], **extra))
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


#: The keys of a project's ``[evaluation]`` section (:func:`read_evaluation`).
EVALUATION_KEYS = ("donors", "indicators", "years", "treated", "illustrative")


def read_evaluation(path: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """Read the ``[evaluation]`` section of a project file (None when it has none).

    ``donors``: the national panel (a file, a folder or a list, relative to the project file)
    the quartiers are compared with; ``years``: ``{quartier code: first intervention year}``;
    ``indicators``: the indicators evaluated (default: every one of the panel);
    ``treated``: other quartiers that had a comparable programme (never comparisons);
    ``illustrative``: true when the years are not those of a real programme.

    Raises
    ------
    DataValidationError
        Listing every problem of the section (unknown key, missing file, a year not a number).

    Examples
    --------
    >>> import cdv_geo as cg
    >>> ev = read_evaluation(cg.datasets.get_path("soissons"))
    >>> ev["years"]["QP002013"], ev["illustrative"], ev["donors"][0].name
    (2021, True, 'national')
    """
    if path is None:
        return None
    p = Path(path)
    section = _read_toml(p).get("evaluation")
    if section is None:
        return None
    problems: list[Problem] = []

    def bad(message: str, field: str | None = None) -> None:
        problems.append(Problem(message, file=str(p), layer="evaluation", field=field))

    for key in section:
        if key not in EVALUATION_KEYS:
            bad(f"unknown [evaluation] entry {key!r}; expected {', '.join(EVALUATION_KEYS)}", key)
    rel = section.get("donors")
    rels = rel if isinstance(rel, list) else [] if rel is None else [rel]
    if not rels:
        bad("no donors: give the national indicator files to compare with", "donors")
    donors = [_resolve(p.parent, r) for r in rels]
    problems += [
        _missing("evaluation", "donors", r, f)
        for r, f in zip(rels, donors, strict=True)
        if not f.exists()
    ]
    years: dict[str, int] = {}
    for code, year in dict(section.get("years", {})).items():
        if isinstance(year, bool) or not isinstance(year, int):
            bad(f"the intervention year of {code} is {year!r}, not a year", "years")
        else:
            years[str(code)] = year
    if not years:
        bad("no intervention year: give years = { <quartier code> = <year> }", "years")
    if problems:
        raise DataValidationError(problems, summary=f"[evaluation] of project {p}:")
    inds = section.get("indicators")
    return {
        "donors": donors,
        "years": years,
        "indicators": None if inds is None else [str(i) for i in inds],
        "treated": [str(c) for c in section.get("treated", [])],
        "illustrative": bool(section.get("illustrative", False)),
    }
