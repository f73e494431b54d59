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

    [network]                      # optional: else the `streets` layer's lines
    osm_xml = "soissons.osm"

    [rasters]
    impervious_2018 = "rasters/impervious_2018.tif"

    [tables]
    indicators = "indicators/indicators.csv"

Every layer is optional; the metric functions say which one they need.
"""

from __future__ import annotations

import logging
import os
import tomllib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from cdv_geo.core.crs import DEFAULT_METRIC_CRS, check_metric_crs, require_crs
from cdv_geo.core.errors import CdvGeoError, CRSError, DataValidationError, Problem
from cdv_geo.schema import LAYER_KINDS, SCHEMAS, validate

__all__ = ["Settings", "Territory"]

log = logging.getLogger("cdv_geo")


@dataclass(frozen=True)
class Settings:
    """Computation settings of a territory.

    Parameters
    ----------
    crs : str
        Metric CRS of the computations (EPSG:2154 by default).
    walking_speed_kmh : float
        Walking speed turning distances into minutes (4.5 km/h by default).
    thresholds_min : tuple of float
        Walking-time thresholds of the coverage tables, in minutes.
    service_area_m : tuple of float
        Distance bands of the service areas drawn on the maps, in metres.
    max_snap_m : float
        Largest distance from a point to the street network (beyond it: unreachable).
    """

    crs: str = DEFAULT_METRIC_CRS
    walking_speed_kmh: float = 4.5
    thresholds_min: tuple[float, ...] = (5.0, 10.0)
    service_area_m: tuple[float, ...] = (300.0, 600.0)
    max_snap_m: float = 200.0


_SETTING_KEYS = {"walking_speed_kmh", "thresholds_min", "service_area_m", "max_snap_m"}


@dataclass
class Territory:
    """The layers of one contrat de ville, plus settings, rasters and tables.

    Layers are plain GeoDataFrame attributes named after the layer kinds; any may be ``None``.

    Parameters
    ----------
    name : str
        Name of the territory (the town or EPCI).
    quartiers, facilities, renewal_sites, desealed_areas, tree_plantings, residences, \
green_spaces, communes, streets : geopandas.GeoDataFrame, optional
        The layers. They are validated on construction (French names translated, ``id`` added).
    rasters : mapping of str to path
        Named rasters (e.g. ``impervious_2018``, ``canopy``).
    tables : mapping of str to path
        Named tables (e.g. ``indicators``, ``income_grid``).
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
    rasters: dict[str, Path] = field(default_factory=dict)
    tables: dict[str, Path] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    illustrative: bool = False
    attribution: str = ""
    project_file: Path | None = None
    network_file: Path | None = None
    _metric_cache: dict[str, tuple[gpd.GeoDataFrame, str, gpd.GeoDataFrame]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        check_metric_crs(self.settings.crs, what="territory CRS")
        for kind in LAYER_KINDS:
            gdf = getattr(self, kind)
            if gdf is not None and gdf.attrs.get("kind") != kind:
                require_crs(gdf, kind)
                setattr(self, kind, validate(gdf, kind))
        self.rasters = {k: Path(v) for k, v in self.rasters.items()}
        self.tables = {k: Path(v) for k, v in self.tables.items()}

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
        p = Path(path)
        config = _read_toml(p)
        base = p.parent
        problems: list[Problem] = []
        terr = config.get("territory", {})
        raw_settings = {**config.get("settings", {})}
        crs = terr.get("crs", DEFAULT_METRIC_CRS)
        unknown = set(raw_settings) - _SETTING_KEYS
        if unknown:
            problems.append(
                Problem(
                    f"unknown settings {sorted(unknown)}; expected {sorted(_SETTING_KEYS)}",
                    file=str(p),
                    layer="settings",
                )
            )
        try:
            values: dict[str, Any] = {
                k: (tuple(float(x) for x in v) if isinstance(v, list) else float(v))
                for k, v in raw_settings.items()
                if k in _SETTING_KEYS
            }
            settings = Settings(crs=str(crs), **values)
            check_metric_crs(settings.crs, what="territory CRS")
        except (CRSError, TypeError, ValueError) as exc:
            problems.append(Problem(str(exc), file=str(p), layer="settings"))
            settings = Settings()
        layers: dict[str, gpd.GeoDataFrame] = {}
        layer_cfg = config.get("layers", {})
        for key in layer_cfg:
            if key not in SCHEMAS:
                problems.append(
                    Problem(
                        f"unknown layer {key!r} in [layers]; expected one of "
                        f"{', '.join(LAYER_KINDS)}",
                        file=str(p),
                        layer=key,
                    )
                )
        repaired_msgs: list[str] = []
        for kind in LAYER_KINDS:
            spec = layer_cfg.get(kind)
            if spec is None:
                continue
            lpath, lname = _layer_spec(spec)
            if lpath is None:
                continue
            full = (base / lpath).resolve() if not Path(lpath).is_absolute() else Path(lpath)
            try:
                from cdv_geo.io import read_layer, read_qpv

                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    if kind == "quartiers" and isinstance(spec, Mapping) and spec.get("official"):
                        # an ANCT perimeter file, filtered to the contrat de ville's QPV
                        layers[kind] = read_qpv(
                            full,
                            communes=spec.get("communes"),
                            codes=spec.get("codes"),
                            layer=lname,
                            repair=repair or bool(spec.get("repair")),
                        )
                    else:
                        layers[kind] = read_layer(full, kind, layer=lname, repair=repair)
                repaired_msgs += [str(w.message) for w in caught]
                log.info("read %s: %d features from %s", kind, len(layers[kind]), full)
            except DataValidationError as exc:
                problems.extend(exc.problems)
            except CRSError as exc:
                problems.append(Problem(str(exc), file=str(full), layer=kind))
        network = _paths(config.get("network", {}), base, "network", p, problems)
        for key in network:
            if key not in ("osm_xml", "graphml"):
                problems.append(
                    Problem(
                        f"unknown [network] entry {key!r}; expected osm_xml or graphml",
                        file=str(p),
                        layer="network",
                    )
                )
        rasters = _paths(config.get("rasters", {}), base, "rasters", p, problems)
        tables = _paths(config.get("tables", {}), base, "tables", p, problems)
        problems.extend(_check_rasters_and_tables(rasters, tables))
        if problems:
            raise DataValidationError(
                problems,
                summary=f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in project "
                f"{p}:",
            )
        for msg in repaired_msgs:
            warnings.warn(msg, stacklevel=2)
        return cls(
            name=str(terr.get("name", p.parent.name)),
            rasters=rasters,
            tables=tables,
            settings=settings,
            illustrative=bool(terr.get("illustrative", False)),
            attribution=str(terr.get("attribution", "")),
            project_file=p.resolve(),
            network_file=next(iter(network.values()), None),
            **layers,
        )

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
        cached = self._metric_cache.get(kind)
        if cached is not None and cached[0] is gdf and cached[1] == self.settings.crs:
            return cached[2]
        projected = gdf.to_crs(self.settings.crs)
        self._metric_cache[kind] = (gdf, self.settings.crs, projected)
        return projected

    @property
    def metric_crs(self) -> CRS:
        """The metric CRS as a :class:`pyproj.CRS`."""
        return CRS.from_user_input(self.settings.crs)

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
        for group, paths in (("rasters", self.rasters), ("tables", self.tables)):
            for name, path in paths.items():
                if not path.exists():
                    problems.append(
                        Problem(
                            f"{group[:-1]} {name!r} does not exist", file=str(path), layer=group
                        )
                    )
        return problems

    def summary(self) -> pd.DataFrame:
        """Return the number of features of each layer, per quartier and in all.

        Features are counted in the quartier that contains their representative point (for
        polygons) or themselves (points); ``outside`` counts the rest.

        Examples
        --------
        >>> import cdv_geo as cg
        >>> s = cg.datasets.soissons().summary()
        >>> int(s.loc["facilities", "total"]) > 10
        True
        """
        if self.quartiers is None:
            rows = {k: {"total": len(g)} for k, g in self.layers().items()}
            return pd.DataFrame.from_dict(rows, orient="index")
        q = self.metric("quartiers")
        names = list(q["name"])
        rows = {}
        for kind, gdf in self.layers().items():
            if kind in ("quartiers", "communes"):
                continue
            pts = gdf.to_crs(q.crs).geometry.representative_point()
            joined = gpd.sjoin(
                gpd.GeoDataFrame(geometry=pts),
                q[["name", "geometry"]],
                how="left",
                predicate="within",
            )
            joined = joined[~joined.index.duplicated()]
            counts = joined["name"].value_counts()
            row = {n: int(counts.get(n, 0)) for n in names}
            row["outside"] = int(joined["name"].isna().sum())
            row["total"] = len(gdf)
            rows[kind] = row
        out = pd.DataFrame.from_dict(rows, orient="index", columns=[*names, "outside", "total"])
        out.index.name = "layer"
        return out

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


def _layer_spec(spec: Any) -> tuple[str | None, str | None]:
    if isinstance(spec, str):
        return (spec or None), None
    if isinstance(spec, Mapping):
        return (spec.get("path") or None), spec.get("layer")
    return None, None


def _paths(
    cfg: Mapping[str, Any], base: Path, group: str, project: Path, problems: list[Problem]
) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for name, rel in cfg.items():
        if not rel:
            continue
        full = (base / str(rel)).resolve()
        if not full.exists():
            problems.append(
                Problem(
                    f"{group[:-1]} {name!r} does not exist (path {rel!r} is relative to the "
                    "project file)",
                    file=str(full),
                    layer=group,
                )
            )
        out[name] = full
    return out


def _check_rasters_and_tables(
    rasters: Mapping[str, Path], tables: Mapping[str, Path]
) -> list[Problem]:
    """Open every raster and known table once, so `cdv-geo validate` reports their problems too."""
    from cdv_geo.core.errors import RasterError
    from cdv_geo.core.raster import raster_info
    from cdv_geo.metrics.indicators import read_grid, read_indicators

    problems: list[Problem] = []
    for name, path in rasters.items():
        if path.exists():
            try:
                raster_info(path)
            except RasterError as exc:
                problems.append(Problem(str(exc), file=str(path), layer=f"raster {name}"))
    readers: dict[str, Callable[[Path], object]] = {
        "indicators": read_indicators,
        "income_grid": read_grid,
    }
    for name, path in tables.items():
        if path.exists() and name in readers:
            try:
                readers[name](path)
            except DataValidationError as exc:
                problems.extend(exc.problems)
    return problems
