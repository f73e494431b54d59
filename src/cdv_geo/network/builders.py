"""Constructors of :class:`~cdv_geo.network.WalkNetwork`: street lines, OSM XML, graphs, online.

They live in :class:`NetworkBuilders`, which :class:`~cdv_geo.network.WalkNetwork` inherits:
call them as ``WalkNetwork.from_lines(streets)``, ``WalkNetwork.from_osm_xml(path)``... Every
one projects the data to the one metric CRS of the project
(:func:`cdv_geo.core.crs.choose_metric_crs`: `crs` when given, else EPSG:2154 in metropolitan
France, else the UTM zone).
"""

from __future__ import annotations

import bz2
import gc
import gzip
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cdv_geo.core.crs import choose_metric_crs, require_crs
from cdv_geo.core.errors import NetworkError
from cdv_geo.core.layers import as_layer
from cdv_geo.network.tags import is_walkable, is_walkable_class

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["NetworkBuilders"]


class NetworkBuilders:
    """The constructors of :class:`~cdv_geo.network.WalkNetwork` (inherited by it)."""

    @classmethod
    def from_lines(
        cls,
        lines: gpd.GeoDataFrame | gpd.GeoSeries,
        *,
        crs: Any = None,
        largest_component: bool = True,
        walkable_only: bool = True,
    ) -> Self:
        """Build the network from street centre lines, noded where they meet or cross.

        Lines are split at every intersection and shared endpoint (with
        :func:`shapely.union_all`, which also merges overlapping duplicates), and every split
        point becomes a node. Bridges and tunnels therefore get a crossing where they overlap a
        street in plan: use an OSM extract or a graph when that matters.

        Parameters
        ----------
        lines : geopandas.GeoDataFrame or GeoSeries
            (Multi)LineString street centre lines, with a CRS.
        crs : optional
            Metric CRS of the network; chosen from the data when omitted (EPSG:2154 in
            metropolitan France).
        largest_component : bool, default True
            Keep only the largest connected part (see :class:`WalkNetwork`).
        walkable_only : bool, default True
            When the layer has a ``highway`` column (OSM road classes, or the BD TOPO
            ``nature``), drop the ways osmnx's walking filter excludes (motorways, cycleways...)
            and BD TOPO's "Type autoroutier".

        Raises
        ------
        CRSError
            If the layer has no CRS.
        NetworkError
            If there is no line to build a network from.

        Examples
        --------
        >>> from cdv_geo.network import WalkNetwork
        >>> import geopandas as gpd
        >>> from shapely import LineString
        >>> streets = gpd.GeoDataFrame(
        ...     {"name": ["rue A", "rue B"]},
        ...     geometry=[LineString([(0, 0), (200, 0)]), LineString([(100, -100), (100, 100)])],
        ...     crs="EPSG:2154")
        >>> WalkNetwork.from_lines(streets, crs="EPSG:2154")  # (toy coordinates: say the CRS)
        WalkNetwork(5 nodes, 4 edges, 0.40 km of streets, EPSG:2154)
        """
        source = lines.attrs.get("source") if hasattr(lines, "attrs") else None
        name = f"street layer {source}" if source else "street layer"
        if isinstance(lines, gpd.GeoSeries):
            lines = gpd.GeoDataFrame(geometry=lines)
        lines = as_layer(lines, "lines", allow_empty=True)  # (empty: the message below)
        if len(lines) == 0:
            raise NetworkError(
                f"lines: the {name} is empty; the walking network needs street lines. Add the "
                "streets (e.g. from BD TOPO or OpenStreetMap) or build it with "
                "WalkNetwork.from_osm_xml."
            )
        target = choose_metric_crs(lines, crs)
        gdf = lines.to_crs(target) if not CRS.from_user_input(lines.crs).equals(target) else lines
        if walkable_only and "highway" in gdf.columns:
            gdf = gdf.loc[_walkable_rows(gdf["highway"])]
        geoms = np.asarray(gdf.geometry.values, dtype=object)
        geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        linear = np.isin(shapely.get_type_id(geoms), (1, 2, 5))
        if not linear.all():
            types = sorted({g.geom_type for g in geoms[~linear]})
            raise NetworkError(
                f"the {name} holds {int((~linear).sum())} non-linear geometries "
                f"({', '.join(types)}); keep only (Multi)LineString street centre lines"
            )
        if len(geoms) == 0:
            raise NetworkError(
                f"the {name} has no walkable street line (after dropping motorways and empty "
                "geometries); check its content"
            )
        merged = shapely.union_all(geoms)
        # one object per edge: with the collector on, each batch of new objects would walk every
        # live object of the process (the homes' geometries...), a cost growing with the city
        collecting = gc.isenabled()
        gc.disable()
        try:
            parts = shapely.get_parts(merged)
        finally:
            if collecting:
                gc.enable()
        parts = parts[(shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 0)]
        return cls._from_segments(parts, target, largest_component, source=name)

    @classmethod
    def _from_segments(
        cls, parts: np.ndarray, crs: CRS, largest_component: bool, source: str | None
    ) -> Self:
        """Network whose nodes are the (rounded) end points of already-noded lines."""
        if len(parts) == 0:
            raise NetworkError(f"the {source or 'input'} yields no edge")
        # the end points, read from one coordinate array (no point object per edge)
        coords = shapely.get_coordinates(parts)
        last = np.cumsum(shapely.get_num_coordinates(parts)) - 1
        first = np.r_[0, last[:-1] + 1]
        # noding computes one intersection point for both lines; millimetre rounding only
        # absorbs floating-point noise of the reprojection
        ends = np.round(np.vstack([coords[first], coords[last]]), 3)
        uniq, inv = _unique_points(ends)
        n = len(parts)
        return cast(Any, cls)(
            uniq,
            inv[:n],
            inv[n:],
            parts,
            crs=crs,
            largest_component=largest_component,
            source=source,
        )

    @classmethod
    def from_graph(
        cls,
        graph: nx.Graph,
        *,
        crs: Any = None,
        largest_component: bool = True,
        source: str | None = None,
    ) -> Self:
        """Build the network from an osmnx graph (a networkx graph with node ``x``/``y``).

        Directed edges become undirected streets: a two-way street, stored by osmnx as two
        opposite edges with the same geometry, gives one edge. Unprojected graphs are projected
        to the metric CRS; lengths always come from the projected geometry (osmnx's ``length``
        attribute is not used).

        Parameters
        ----------
        graph : networkx.MultiDiGraph (or any networkx graph)
            Nodes need ``x`` and ``y``; ``graph.graph["crs"]`` gives their CRS (EPSG:4326 when
            missing, as in osmnx). Edges may carry a ``geometry`` (a LineString in the same CRS).
        crs : optional
            Metric CRS; chosen from the data when omitted.
        largest_component : bool, default True
            Keep only the largest connected part.
        source : str, optional
            Name used in messages.

        Examples
        --------
        >>> from cdv_geo.network import WalkNetwork
        >>> import networkx as nx
        >>> graph = nx.MultiDiGraph(crs="EPSG:2154")
        >>> graph.add_node(1, x=0.0, y=0.0); graph.add_node(2, x=300.0, y=400.0)
        >>> _ = graph.add_edge(1, 2); _ = graph.add_edge(2, 1)
        >>> WalkNetwork.from_graph(graph, crs=2154).edge_length.tolist()
        [500.0]
        """
        where = source or "graph"
        if graph.number_of_nodes() == 0 or graph.number_of_edges() == 0:
            raise NetworkError(
                f"the {where} has no edges; build it from an extract that covers the territory"
            )
        graph_crs = CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
        nodes = list(graph.nodes)
        try:
            xy = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in nodes], dtype=float)
        except KeyError as exc:
            raise NetworkError(
                f"the {where} has nodes without {exc.args[0]!r} coordinates; an osmnx graph "
                "(osmnx.graph_from_xml / graph_from_place) has them"
            ) from None
        node_pts = gpd.GeoSeries(shapely.points(xy), crs=graph_crs)
        target = choose_metric_crs(gpd.GeoDataFrame(geometry=node_pts), crs)
        if not graph_crs.equals(target):
            node_pts = node_pts.to_crs(target)
            xy = shapely.get_coordinates(node_pts.values)
        pos = {n: i for i, n in enumerate(nodes)}
        multi = graph.is_multigraph()
        edges = graph.edges(keys=True, data=True) if multi else graph.edges(data=True)
        rows_u: list[int] = []
        rows_v: list[int] = []
        rows_g: list[Any] = []
        rows_d: list[dict[str, Any]] = []
        seen: set[tuple[int, int, bytes]] = set()
        for e in edges:
            a, b, data = e[0], e[1], e[-1]
            iu, iv = pos[a], pos[b]
            geom = data.get("geometry")
            if geom is not None and isinstance(geom, str):
                geom = shapely.from_wkt(geom)
            coords = np.array([xy[iu], xy[iv]]) if geom is None else shapely.get_coordinates(geom)
            # one edge per street: an osmnx two-way street is stored in both directions
            lo, hi = (iu, iv) if iu <= iv else (iv, iu)
            canon = np.round(coords if iu <= iv else coords[::-1], 6).tobytes()
            if iu == iv:  # a loop: osmnx stores it once each way round
                canon = min(canon, np.round(coords[::-1], 6).tobytes())
            key = (lo, hi, canon)
            if key in seen:
                continue
            seen.add(key)
            rows_u.append(iu)
            rows_v.append(iv)
            rows_g.append(geom)
            rows_d.append({k: _flat(data.get(k)) for k in ("osmid", "name", "highway")})
        geoms = np.empty(len(rows_g), dtype=object)
        has = np.array([g is not None for g in rows_g], dtype=bool)
        u = np.array(rows_u, dtype=np.int64)
        v = np.array(rows_v, dtype=np.int64)
        if has.any():
            gs = gpd.GeoSeries(np.array(rows_g, dtype=object)[has], crs=graph_crs)
            if not graph_crs.equals(target):
                gs = gs.to_crs(target)
            geoms[has] = gs.values
        if (~has).any():
            geoms[~has] = shapely.linestrings(np.stack([xy[u[~has]], xy[v[~has]]], axis=1))
        data_df = pd.DataFrame(rows_d)
        data_df = data_df.loc[:, data_df.notna().any()] if len(data_df) else data_df
        return cast(Any, cls)(
            xy,
            u,
            v,
            geoms,
            crs=target,
            node_ids=np.array(nodes, dtype=object),
            edge_data=data_df if len(data_df.columns) else None,
            largest_component=largest_component,
            source=where,
        )

    @classmethod
    def from_graphml(
        cls, path: str | os.PathLike[str], *, crs: Any = None, largest_component: bool = True
    ) -> Self:
        """Build the network from a GraphML file saved by :func:`osmnx.save_graphml`.

        Examples
        --------
        >>> from cdv_geo.network import WalkNetwork
        >>> import networkx as nx, osmnx as ox, tempfile, os
        >>> graph = nx.MultiDiGraph(crs="EPSG:2154")
        >>> graph.add_node(1, x=0.0, y=0.0); graph.add_node(2, x=0.0, y=120.0)
        >>> _ = graph.add_edge(1, 2, osmid=7, length=120.0)
        >>> path = os.path.join(tempfile.mkdtemp(), "walk.graphml")
        >>> ox.save_graphml(graph, path)
        >>> WalkNetwork.from_graphml(path).n_edges
        1
        """
        import osmnx as ox

        p = Path(path)
        if not p.is_file():
            raise NetworkError(f"GraphML file {p} not found; check the path")
        try:
            graph = ox.load_graphml(p)
        except Exception as exc:
            raise NetworkError(
                f"cannot read {p} as an osmnx GraphML file ({exc}); save it with "
                "osmnx.save_graphml, or read an OSM extract with WalkNetwork.from_osm_xml"
            ) from exc
        return cls.from_graph(graph, crs=crs, largest_component=largest_component, source=str(p))

    @classmethod
    def from_osm_xml(
        cls, path: str | os.PathLike[str], *, crs: Any = None, largest_component: bool = True
    ) -> Self:
        """Build the network from an OpenStreetMap XML extract (``.osm``, ``.osm.bz2``, ``.gz``).

        Ways are filtered with osmnx's walking filter (:func:`is_walkable`: no motorways,
        cycleways, private ways or ``foot=no``), then parsed and simplified by
        :func:`osmnx.graph_from_xml` (one-way streets are walked both ways) and projected.
        A ``.pbf`` extract is read by :meth:`from_osm_pbf` (the same network, much faster).

        Parameters
        ----------
        path : path
            The extract (e.g. exported from openstreetmap.org or cut with osmium).
        crs : optional
            Metric CRS; EPSG:2154 in metropolitan France, else the UTM zone.
        largest_component : bool, default True
            Keep only the largest connected part.

        Raises
        ------
        NetworkError
            If the file is missing, is not OSM XML, or holds no walkable way.

        Examples
        --------
        >>> from cdv_geo.network import WalkNetwork
        >>> from pathlib import Path
        >>> osm = Path(tempfile.mkdtemp()) / "tiny.osm"
        >>> _ = osm.write_text('''<osm version="0.6">
        ...  <node id="1" lat="49.3800" lon="3.3200"/><node id="2" lat="49.3810" lon="3.3200"/>
        ...  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>
        ... </osm>''')
        >>> net = WalkNetwork.from_osm_xml(osm)
        >>> net.crs.to_epsg(), round(float(net.edge_length[0]), 1)
        (2154, 111.3)
        """
        import osmnx as ox

        p = Path(path)
        if not p.is_file():
            raise NetworkError(f"OSM file {p} not found; check the path")
        if p.name.lower().endswith(".pbf"):  # not XML: the same network, read by pyosmium
            return cast(Any, cls).from_osm_pbf(p, crs=crs, largest_component=largest_component)
        opener: Any = bz2.open if p.suffix == ".bz2" else gzip.open if p.suffix == ".gz" else open
        try:
            with opener(p, "rb") as fh:
                root = ET.parse(fh).getroot()
        except (ET.ParseError, OSError, EOFError) as exc:
            raise NetworkError(
                f"cannot read {p} as OSM XML ({exc}); export the area from openstreetmap.org "
                "(Export > .osm) or cut it from a Geofabrik extract with osmium"
            ) from exc
        ways = root.findall("way")
        walk_ways = [
            w
            for w in ways
            if is_walkable({t.get("k", ""): t.get("v", "") for t in w.findall("tag")})
        ]
        if not walk_ways:
            highways = sorted(
                {t.get("v", "") for w in ways for t in w.findall("tag") if t.get("k") == "highway"}
            )
            found = (
                f"highway values found: {', '.join(highways)}"
                if highways
                else ("no way has a highway tag")
            )
            raise NetworkError(
                f"OSM file {p} has no walkable way ({len(ways)} ways; {found}). Export an area "
                "with streets or footpaths (highway=residential, footway, ...)."
            )
        for w in ways:
            if w not in walk_ways:
                root.remove(w)
        for rel in root.findall("relation"):
            root.remove(rel)
        with tempfile.TemporaryDirectory() as tmp:
            filtered = Path(tmp) / "walk.osm"
            ET.ElementTree(root).write(filtered, encoding="utf-8", xml_declaration=True)
            try:
                graph = ox.graph_from_xml(
                    filtered, bidirectional=True, simplify=True, retain_all=True
                )
            except Exception as exc:
                raise NetworkError(
                    f"osmnx could not build a graph from {p}: {exc}. Check that the ways' nodes "
                    "are in the extract (export with complete ways)."
                ) from exc
        return cls.from_graph(graph, crs=crs, largest_component=largest_component, source=str(p))

    @classmethod
    def from_place(
        cls, query: str | dict[str, str], *, crs: Any = None, largest_component: bool = True
    ) -> Self:  # pragma: no cover - needs the internet
        """Download the walking network of a place from OpenStreetMap (needs the internet).

        Uses :func:`osmnx.graph_from_place` with ``network_type="walk"``; osmnx caches the
        answers (``osmnx.settings.use_cache``), so a second call works offline. Save the result
        with ``osmnx.save_graphml`` for reproducible runs.

        Examples
        --------
        >>> from cdv_geo.network import WalkNetwork
        >>> net = WalkNetwork.from_place("Soissons, Aisne, France")  # doctest: +SKIP
        """
        import osmnx as ox

        try:
            graph = ox.graph_from_place(query, network_type="walk", retain_all=True)
        except Exception as exc:
            raise NetworkError(
                f"could not download the walking network of {query!r} ({exc}); check the place "
                "name on nominatim.openstreetmap.org and the internet connection, or use "
                "from_osm_xml with a downloaded extract"
            ) from exc
        return cls.from_graph(
            graph, crs=crs, largest_component=largest_component, source=str(query)
        )

    @classmethod
    def from_polygon(
        cls, polygon: Any, *, crs: Any = None, largest_component: bool = True
    ) -> Self:  # pragma: no cover - needs the internet
        """Download the walking network inside a polygon from OpenStreetMap (internet needed).

        Parameters
        ----------
        polygon : shapely Polygon/MultiPolygon in EPSG:4326, or a GeoDataFrame/GeoSeries with a
            CRS (its union is used, reprojected to EPSG:4326).

        Examples
        --------
        >>> from cdv_geo.network import WalkNetwork
        >>> net = WalkNetwork.from_polygon(quartiers.buffer(500))  # doctest: +SKIP
        """
        import osmnx as ox

        if isinstance(polygon, gpd.GeoDataFrame | gpd.GeoSeries):
            require_crs(gpd.GeoDataFrame(geometry=polygon.geometry), "polygon")
            polygon = shapely.union_all(polygon.to_crs("EPSG:4326").geometry.values)
        try:
            graph = ox.graph_from_polygon(polygon, network_type="walk", retain_all=True)
        except Exception as exc:
            raise NetworkError(
                f"could not download the walking network ({exc}); check the internet "
                "connection, or use from_osm_xml with a downloaded extract"
            ) from exc
        return cls.from_graph(graph, crs=crs, largest_component=largest_component, source="polygon")


def _flat(value: Any) -> Any:
    """Flatten the lists in which osmnx stores merged attributes into text."""
    if isinstance(value, list):
        return ";".join(str(x) for x in value)
    return value


def _walkable_rows(highway: pd.Series) -> np.ndarray:
    """Return which rows of a ``highway`` column are walked (each distinct class judged once).

    Examples
    --------
    >>> _walkable_rows(pd.Series(["residential", None, "motorway", "residential"])).tolist()
    [True, True, False, True]
    """
    text = highway.where(highway.map(lambda h: isinstance(h, str)).astype(bool))
    classes = pd.unique(text.dropna())
    walked = {c: is_walkable_class(c) for c in classes}
    out = np.ones(len(text), dtype=bool)
    has = text.notna().to_numpy()
    out[has] = text[has].map(walked).to_numpy(dtype=bool)
    return out


def _unique_points(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``np.unique(xy, axis=0, return_inverse=True)`` for millimetre-rounded points.

    The same unique points in the same (x, then y) order, from one sort of an integer key
    instead of a sort of rows: ``(x - min x) * span y + (y - min y)`` in millimetres. Beyond
    what an int64 key holds (extents over about 3,000 km on both axes) it falls back to rows.

    Examples
    --------
    >>> xy = np.array([[2.0, 1.0], [0.5, 3.25], [2.0, 1.0], [0.5, -1.0]])
    >>> uniq, inv = _unique_points(xy)
    >>> uniq.tolist(), inv.tolist()
    ([[0.5, -1.0], [0.5, 3.25], [2.0, 1.0]], [2, 1, 2, 0])
    """
    mm = np.rint(xy * 1000.0)
    lo = mm.min(axis=0)
    span = mm.max(axis=0) - lo + 1
    if len(xy) == 0 or not np.isfinite(span).all() or span[0] * span[1] >= 2.0**62:
        uniq, inv = np.unique(xy, axis=0, return_inverse=True)
        return uniq, inv.ravel()
    key = (mm[:, 0] - lo[0]).astype(np.int64) * int(span[1]) + (mm[:, 1] - lo[1]).astype(np.int64)
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return xy[first], inv.ravel()
