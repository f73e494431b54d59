"""Territory: the layers of one contrat de ville, its settings, rasters and tables.

A Territory is built from GeoDataFrames or from a TOML project file whose paths are relative to
the file::

    [territory]
    name = "Soissons"
    crs = "EPSG:2154"            # metric CRS of the computations

    [settings]
    walking_speed_kmh = 4.5
    thresholds_min = [5, 10]

    [layers]
    quartiers = "shapes/quartiers.geojson"
    # or the official ANCT file: { path = "QP2024.geojson", official = true, communes = ["02722"] }
    facilities = { path = "equipements.gpkg", layer = "equipements" }
    tree_plantings = { path = "arbres.shp", crs = "EPSG:2154" }  # a CRS for a file that has none

    [network]                      # optional: else the `streets` layer's lines
    osm_xml = "soissons.osm"

    [rasters]
    impervious_2018 = "rasters/impervious_2018.tif"
    heat_2023 = { path = "rasters/heat_2023.tif", units = "°C" }   # units: when the file has none

    [tables]
    indicators = "indicators"      # a file, a folder, a list of files, or
    # { path = "mes_qpv.csv", year = 2021, columns = { TAUX_PAUV = "poverty_rate_pct" } }
    income_grid = "indicators/income_grid.gpkg"

Every layer is optional; the metric functions say which one they need.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from cdv_geo.core.crs import check_metric_crs, choose_metric_crs, require_crs
from cdv_geo.core.errors import CdvGeoError, DataValidationError, Problem
from cdv_geo.schema import LAYER_KINDS, validate
from cdv_geo.schema.geography import geography_problems, network_problems
from cdv_geo.territory.services import ServiceSettings

__all__ = [
    "HEAT_RASTER",
    "SETTING_KEYS",
    "Settings",
    "TableSource",
    "TableSpec",
    "Territory",
    "heat_unit_problems",
    "table_paths",
]

log = logging.getLogger("cdv_geo")


@dataclass(frozen=True)
class Settings:
    """Computation settings of a territory.

    Parameters
    ----------
    crs : str, optional
        Metric CRS of every computation. None (the default): chosen by
        :func:`cdv_geo.core.crs.choose_metric_crs` from the layers when the territory is built
        (EPSG:2154 in metropolitan France, else the data's UTM zone).
    walking_speed_kmh : float
        Walking speed turning distances into minutes (4.5 km/h by default).
    thresholds_min : tuple of float
        Walking-time thresholds of the coverage tables, in minutes.
    service_area_m : tuple of float
        Distance bands of the service areas drawn on the maps, in metres.
    max_snap_m : float
        Largest distance from a point to the street network (beyond it: unreachable).
    new_sites : int
        Number of new water play areas the site choice suggests (3 by default).
    """

    crs: str | None = None
    walking_speed_kmh: float = 4.5
    thresholds_min: tuple[float, ...] = (5.0, 10.0)
    service_area_m: tuple[float, ...] = (300.0, 600.0)
    max_snap_m: float = 200.0
    new_sites: int = 3


#: The keys of ``[settings]`` in a project file.
SETTING_KEYS = ("walking_speed_kmh", "thresholds_min", "service_area_m", "max_snap_m", "new_sites")

#: A raster name that holds heat (land-surface temperature...): ``heat`` or ``heat_<year>``.
HEAT_RASTER = re.compile(r"heat(_\d{4})?")


@dataclass(frozen=True)
class TableSource:
    """A table read from one or several files, with reading options (``[tables]`` entry).

    Parameters
    ----------
    path : path or tuple of paths
        A file, a folder (every table file in it) or several of them.
    year : int, optional
        Vintage of columns that carry none.
    columns : mapping, optional
        ``{published column: canonical name}`` for a table the reader does not know.
    source : str, optional
        Series name of the values.
    sheet : str or int, optional
        Worksheet of XLSX files.
    layer : str, optional
        Layer of a GeoPackage (the income grid).
    crs : str, optional
        CRS of a file that has none (the income grid).

    Examples
    --------
    >>> s = TableSource(("a.csv", "b.csv"), year=2021)
    >>> [p.name for p in s.paths], s.options()
    (['a.csv', 'b.csv'], {'year': 2021})
    """

    path: Path | tuple[Path, ...]
    year: int | None = None
    columns: Mapping[str, str] | None = field(default=None, hash=False)
    source: str | None = None
    sheet: str | int | None = None
    layer: str | None = None
    crs: str | None = None

    def __post_init__(self) -> None:
        p = self.path
        fixed = tuple(Path(x) for x in p) if isinstance(p, list | tuple) else Path(p)
        object.__setattr__(self, "path", fixed)

    @property
    def paths(self) -> list[Path]:
        """The files or folders, as a list."""
        return list(self.path) if isinstance(self.path, tuple) else [self.path]

    def options(self) -> dict[str, Any]:
        """Return the reading options given (``year``, ``columns``, ``source``, ``sheet``...)."""
        named = {"year": self.year, "columns": self.columns, "source": self.source}
        named.update(sheet=self.sheet, layer=self.layer, crs=self.crs)
        return {k: v for k, v in named.items() if v is not None}


#: A ``[tables]`` entry: a file or folder, a list of them, or a :class:`TableSource`.
TableSpec = Path | list[Path] | TableSource


def table_paths(spec: TableSpec) -> list[Path]:
    """Return the files or folders of a ``[tables]`` entry.

    Examples
    --------
    >>> [p.name for p in table_paths(Path("a.csv"))], len(table_paths([Path("a"), Path("b")]))
    (['a.csv'], 2)
    """
    if isinstance(spec, TableSource):
        return spec.paths
    if isinstance(spec, list):
        return list(spec)
    return [spec]


def heat_unit_problems(rasters: Mapping[str, Path], units: Mapping[str, str]) -> list[Problem]:
    """Return a problem for each heat raster (``heat``, ``heat_<year>``) without units.

    The units come from the project (``{ path = ..., units = "°C" }``) or from the file (GDAL's
    band units); a missing or unreadable file is reported elsewhere.
    """
    from cdv_geo.core.errors import RasterError
    from cdv_geo.metrics.heat import heat_units

    problems = []
    for name, path in rasters.items():
        if not HEAT_RASTER.fullmatch(name) or units.get(name) or not Path(path).exists():
            continue
        try:
            heat_units(path)
        except RasterError:
            problems.append(
                Problem(
                    f"heat raster {name!r} has no units: write "
                    f'{name} = {{ path = "...", units = "°C" }} under [rasters] (or K, index...), '
                    "or set them in the file (gdal_edit.py -units degC FILE)",
                    file=str(path),
                    layer=f"raster {name}",
                )
            )
    return problems


def _as_table_spec(value: Any) -> TableSpec:
    if isinstance(value, TableSource):
        return value
    if isinstance(value, Mapping):
        return TableSource(**value)
    if isinstance(value, list | tuple):
        return [Path(v) for v in value]
    return Path(value)


@dataclass
class Territory:
    """The layers of one contrat de ville, plus settings, rasters and tables.

    Layers are plain GeoDataFrame attributes named after the layer kinds; any may be ``None``.

    Parameters
    ----------
    name : str
        Name of the territory (the town or EPCI).
    quartiers, facilities, renewal_sites, desealed_areas, tree_plantings, residences, \
green_spaces, communes, streets, hydrants, incidents : geopandas.GeoDataFrame, optional
        The layers. They are validated on construction (French names translated, ``id`` added).
    rasters : mapping of str to path
        Named rasters (e.g. ``impervious_2018``, ``canopy``, ``heat_2023``). A value may also
        be ``{"path": ..., "units": "°C"}``: the units go to `raster_units`.
    tables : mapping of str to path, list of paths or TableSource
        Named tables (e.g. ``indicators``, ``income_grid``): a file or folder, a list of them, or
        a :class:`TableSource` (a dict of its fields is accepted) with reading options.
    settings : Settings
        Metric CRS, walking speed, thresholds.
    illustrative : bool
        True for demo data: maps and tables say "données illustratives".
    attribution : str
        Source line shown on the maps.
    project_file : pathlib.Path, optional
        The TOML file the territory was read from.
    network_file : pathlib.Path, optional
        An OSM XML extract (``.osm``, ``.osm.bz2``) or osmnx GraphML file to build the walking
        network from, instead of the ``streets`` lines (``[network]`` in the project file).
    raster_units : mapping of str to str
        The units of rasters whose file does not say them (``{"heat_2023": "°C"}``); a heat
        raster (``heat`` or ``heat_<year>``) needs units, from here or from its file.
    services : ServiceSettings
        How capacity, opening hours and the commercial centres are measured (the project's
        ``[services]`` section: :mod:`cdv_geo.territory.services`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "nom": ["Centre"]},
    ...                      geometry=[box(0, 0, 500, 500)], crs=2154)
    >>> t = Territory("Exemple", quartiers=q)
    >>> t.quartiers["name"].tolist()
    ['Centre']
    >>> t.layer_names()
    ['quartiers']
    """

    name: str = "Territoire"
    quartiers: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    renewal_sites: gpd.GeoDataFrame | None = None
    desealed_areas: gpd.GeoDataFrame | None = None
    tree_plantings: gpd.GeoDataFrame | None = None
    residences: gpd.GeoDataFrame | None = None
    green_spaces: gpd.GeoDataFrame | None = None
    communes: gpd.GeoDataFrame | None = None
    streets: gpd.GeoDataFrame | None = None
    hydrants: gpd.GeoDataFrame | None = None
    incidents: gpd.GeoDataFrame | None = None
    rasters: dict[str, Path] = field(default_factory=dict)
    tables: dict[str, TableSpec] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    illustrative: bool = False
    attribution: str = ""
    project_file: Path | None = None
    network_file: Path | None = None
    raster_units: dict[str, str] = field(default_factory=dict)
    services: ServiceSettings = field(default_factory=ServiceSettings)
    _metric_cache: dict[str, tuple[gpd.GeoDataFrame, str, gpd.GeoDataFrame]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _table_cache: dict[str, tuple[TableSpec, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.settings.crs is not None:
            check_metric_crs(self.settings.crs, what="territory CRS")
        for kind in LAYER_KINDS:
            gdf = getattr(self, kind)
            if gdf is not None and gdf.attrs.get("kind") != kind:
                require_crs(gdf, kind)
                setattr(self, kind, validate(gdf, kind))
        if self.settings.crs is None:
            # the one policy (core.crs), decided once so that every metric uses the same CRS
            present = [g for g in self.layers().values() if not g.empty]
            chosen = choose_metric_crs(present[0] if present else None)
            self.settings = replace(self.settings, crs=chosen.to_string())
        units = dict(self.raster_units)
        rasters: dict[str, Path] = {}
        for k, v in self.rasters.items():
            if isinstance(v, Mapping):
                if v.get("units"):
                    units[k] = str(v["units"])
                v = v["path"]
            rasters[k] = Path(v)
        self.rasters = rasters
        self.raster_units = units
        self.tables = {k: _as_table_spec(v) for k, v in self.tables.items()}

    # --- construction from a project file -----------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, repair: bool = False) -> Territory:
        """Read a TOML project file and every layer it names.

        Every layer is read even when an earlier one failed, so the error lists every problem of
        the project at once.

        Parameters
        ----------
        path : str or path-like
            The ``project.toml``; layer, raster and table paths are relative to it.
        repair : bool, default False
            Repair invalid geometries (see :func:`cdv_geo.read_layer`).

        Raises
        ------
        DataValidationError
            Listing every problem (missing files, missing CRS, invalid features...).

        Examples
        --------
        >>> import cdv_geo as cg
        >>> t = cg.Territory.from_file(cg.datasets.get_path("soissons"))
        >>> t.name
        'Soissons'
        """
        from cdv_geo.territory.project import read_project

        kwargs, repaired = read_project(path, repair=repair)
        for msg in repaired:
            warnings.warn(msg, stacklevel=2)
        loaded = kwargs.pop("read_tables", {})
        territory = cls(**kwargs)
        territory._table_cache.update(loaded)  # (read once, to check them: not read again)
        return territory

    # --- queries -------------------------------------------------------------------------------

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the layers present, by kind, in display order."""
        return {k: getattr(self, k) for k in LAYER_KINDS if getattr(self, k) is not None}

    def layer_names(self) -> list[str]:
        """Return the kinds of the layers present."""
        return list(self.layers())

    def metric(self, kind: str) -> gpd.GeoDataFrame:
        """Return layer `kind` in the territory's metric CRS.

        The reprojection is done once per layer and reused (it is redone when the layer
        attribute is replaced). Treat the result as read-only: copy it before editing.

        Raises
        ------
        CdvGeoError
            If the territory has no such layer.
        """
        gdf = getattr(self, kind, None)
        if gdf is None:
            raise CdvGeoError(
                f"territory {self.name!r} has no {kind} layer; add it under [layers] in the "
                "project file or pass it to Territory(...)"
            )
        crs = self.metric_crs
        cached = self._metric_cache.get(kind)
        if cached is not None and cached[0] is gdf and cached[1] == crs.to_wkt():
            return cached[2]
        projected = gdf.to_crs(crs)
        self._metric_cache[kind] = (gdf, crs.to_wkt(), projected)
        return projected

    def table(self, name: str) -> Any:
        """Return ``[tables]`` entry `name` read by its reader (``indicators``, ``actions``...).

        A project file's tables are read once, when the project is loaded and checked; later
        calls return a copy of that read while the entry is unchanged.

        Raises
        ------
        CdvGeoError
            If the territory has no such table, or no reader is known for it.

        Examples
        --------
        >>> import cdv_geo as cg
        >>> t = cg.Territory.from_file(cg.datasets.get_path("soissons"))
        >>> sorted(int(y) for y in t.table("indicators")["year"].unique())[:2]
        [2017, 2018]
        """
        from cdv_geo.territory.project import QUARTIER_TABLES, read_table, table_readers

        readers = table_readers()
        if name not in self.tables or name not in readers:
            raise CdvGeoError(
                f"territory {self.name!r} has no table {name!r} that cdv_geo reads "
                f"(known: {', '.join(sorted(readers))}); add it under [tables] in the project file"
            )
        spec = self.tables[name]
        cached = self._table_cache.get(name)
        if cached is None or cached[0] != spec:
            extra = {"quartiers": self.quartiers} if name in QUARTIER_TABLES else {}
            cached = (spec, read_table(spec, readers[name], **extra))
            self._table_cache[name] = cached
        return cached[1].copy()

    @property
    def metric_crs(self) -> CRS:
        """The metric CRS of every computation (:func:`~cdv_geo.core.crs.choose_metric_crs`).

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely import box
        >>> x, y = 1_723_500, 8_242_500  # Soissons in EPSG:3949 (Lambert CC49)
        >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Presles"]},
        ...                      geometry=[box(x, y, x + 500, y + 500)], crs=3949)
        >>> Territory("T", quartiers=q, settings=Settings(crs="EPSG:3949")).metric_crs.to_epsg()
        3949
        >>> Territory("T", quartiers=q.to_crs(4326)).metric_crs.to_epsg()
        2154
        """
        return choose_metric_crs(None, self.settings.crs)

    def quartier(self, name_or_code: str) -> pd.Series:
        """Return the quartier row matching a name or code (accents and case ignored).

        Raises
        ------
        CdvGeoError
            Naming the valid quartiers when none matches.
        """
        from cdv_geo.schema import normalize_token

        if self.quartiers is None:
            raise CdvGeoError(f"territory {self.name!r} has no quartiers layer")
        tok = normalize_token(name_or_code)
        for _, row in self.quartiers.iterrows():
            if tok in (normalize_token(str(row["name"])), normalize_token(str(row["code"]))):
                return row
        valid = ", ".join(
            f"{n} ({c})"
            for n, c in zip(self.quartiers["name"], self.quartiers["code"], strict=True)
        )
        raise CdvGeoError(f"no quartier named {name_or_code!r}; valid quartiers: {valid}")

    def validate(self) -> list[Problem]:
        """Check every layer again and return every problem found (empty list when all is well).

        Examples
        --------
        >>> import cdv_geo as cg
        >>> cg.datasets.soissons().validate()
        []
        """
        problems: list[Problem] = []
        for kind, gdf in self.layers().items():
            if gdf.crs is None:
                problems.append(Problem("layer has no CRS", layer=kind))
            try:
                validate(gdf, kind, source=gdf.attrs.get("source"))
            except DataValidationError as exc:
                problems.extend(exc.problems)
        entries = [("raster", n, p) for n, p in self.rasters.items()]
        entries += [("table", n, p) for n, spec in self.tables.items() for p in table_paths(spec)]
        for group, name, path in entries:
            if not path.exists():
                problems.append(
                    Problem(f"{group} {name!r} does not exist", file=str(path), layer=f"{group}s")
                )
        problems += heat_unit_problems(self.rasters, self.raster_units)
        # where the layers lie (a territory built in Python gets the checks of a project file)
        problems += geography_problems(self.layers())
        problems += network_problems(self.layers(), {})
        return problems

    def summary(self) -> pd.DataFrame:
        """Return the number of features of each layer, per quartier and per comparison row.

        Each feature is counted in the quartier :func:`cdv_geo.core.assign.assign_quartier` gives
        (a point on a border shared by two quartiers: the smaller code; a polygon or line: the
        quartier holding most of it), as every metric table counts it; the comparison rows
        count as the metric tables do (:func:`cdv_geo.core.tables.rows_of`): ``qpv`` the
        features in some quartier, and with a communes layer ``commune`` those inside the
        commune perimeter (:func:`cdv_geo.core.assign.in_communes`: a feature outside it never
        counts) and ``hors_qpv`` those of them outside every quartier.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``quartier`` (codes in layer order, ``qpv``, then ``commune`` and
            ``hors_qpv`` with communes; without a quartiers layer, only ``commune``, or no row
            without communes either); ``name``, then ``n_<layer>`` for each layer present
            besides the quartiers and communes.

        Examples
        --------
        >>> import cdv_geo as cg
        >>> s = cg.datasets.soissons().summary()
        >>> s.index.tolist()[-3:], s.columns[0]
        (['qpv', 'commune', 'hors_qpv'], 'name')
        >>> row = s.loc["commune"]
        >>> bool(row["n_facilities"] == s.loc["qpv", "n_facilities"] + s.loc["hors_qpv", "n_facilities"])
        True
        """  # noqa: E501
        from cdv_geo.core.assign import assign_quartier, in_communes
        from cdv_geo.core.tables import quartier_table, rows_of

        layers = {k: g for k, g in self.layers().items() if k not in ("quartiers", "communes")}
        communes = self.metric("communes") if self.communes is not None else None
        q = self.metric("quartiers") if self.quartiers is not None else pd.DataFrame({"code": []})
        rows: dict[str, dict[str, int]] = {}
        for kind in layers:
            gdf = self.metric(kind)
            codes = (
                assign_quartier(gdf, q).to_numpy()
                if self.quartiers is not None
                else np.full(len(gdf), None, dtype=object)
            )
            inside = None if communes is None else in_communes(gdf, communes)
            for key, mask in rows_of(codes, q, in_commune=inside).items():
                rows.setdefault(key, {})[f"n_{kind}"] = int(mask.sum())
        if self.quartiers is None:  # (no quartier, so no union of quartiers)
            rows.pop("qpv", None)
            rows.pop("hors_qpv", None)
        elif not layers:
            rows = {"qpv": {}} if communes is None else {"qpv": {}, "commune": {}, "hors_qpv": {}}
        return quartier_table(q, rows, columns=[f"n_{k}" for k in layers])

    def __repr__(self) -> str:
        parts = [f"{k}={len(g)}" for k, g in self.layers().items()]
        extra = []
        if self.rasters:
            extra.append(f"rasters={sorted(self.rasters)}")
        if self.tables:
            extra.append(f"tables={sorted(self.tables)}")
        demo = ", illustrative" if self.illustrative else ""
        return (
            f"Territory({self.name!r}{demo}: {', '.join(parts + extra)}, crs={self.settings.crs})"
        )
