"""The walking network: an undirected street graph in a metric CRS, snapping and routing.

:class:`WalkNetwork` holds the graph as plain arrays (node coordinates, edge endpoints, edge
lengths in metres, edge geometries) and a :mod:`scipy.sparse` CSR matrix on which
:func:`scipy.sparse.csgraph.dijkstra` runs. Its constructors (:mod:`cdv_geo.network.builders`)
read street centre lines, OpenStreetMap XML extracts, osmnx graphs and GraphML files.

Points are attached to the **nearest point of the nearest edge** (not to the nearest node):
:meth:`WalkNetwork.snap` returns, for each point, the edge, the distance along it from the
edge's first node and the straight-line snap distance. A point farther than ``max_snap_m`` from
every street is *unreachable* (edge ``-1``, NaN distances), never silently attached to a
far-away street. The snapping index is :class:`cdv_geo.network.snapping.SegmentGrid`.

The public routing steps, used by :mod:`cdv_geo.metrics.access`, are :meth:`WalkNetwork.snap_xy`
(attach coordinates), :meth:`WalkNetwork.route` (one multi-source Dijkstra from points on edges)
and :meth:`WalkNetwork.reach` (from the nodes' distances to points on edges).
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from cdv_geo.core import threads
from cdv_geo.core.crs import check_metric_crs
from cdv_geo.core.errors import CdvGeoWarning, NetworkError
from cdv_geo.core.layers import as_layer
from cdv_geo.network.builders import NetworkBuilders
from cdv_geo.network.pbf import read_osm_network
from cdv_geo.network.routing import Routes, adjacency, reach, route
from cdv_geo.network.snapping import SegmentGrid

#: Guards the first build of a network's snapping index (a lock per network would not pickle).
_GRID_LOCK = threading.Lock()

__all__ = ["DroppedParts", "WalkNetwork"]


@dataclass(frozen=True)
class DroppedParts:
    """What was removed when only the largest connected part of a network was kept.

    Attributes
    ----------
    n_parts : int
        Number of connected parts of the input network (1: nothing was dropped).
    nodes, edges : int
        Nodes and edges dropped.
    length_m : float
        Street length dropped, in metres.
    """

    n_parts: int = 1
    nodes: int = 0
    edges: int = 0
    length_m: float = 0.0

    def __bool__(self) -> bool:
        return self.edges > 0 or self.nodes > 0


class WalkNetwork(NetworkBuilders):
    """An undirected walking network in a metric CRS, held as arrays.

    Build it with one of the constructors (:meth:`from_lines`, :meth:`from_osm_xml`,
    :meth:`from_osm_pbf`, :meth:`from_graphml`, :meth:`from_graph`, :meth:`from_place`,
    :meth:`from_polygon`) or directly from arrays with this class.

    Parameters
    ----------
    node_xy : array of shape (n, 2)
        Node coordinates in `crs`.
    edge_u, edge_v : array of int
        Edge end nodes (positions in `node_xy`).
    edge_geometry : array of shapely.LineString, optional
        Edge geometries; straight lines between the end nodes when omitted. They are oriented
        from ``u`` to ``v`` (reversed where needed). Edge lengths are their lengths in `crs`.
    crs : str, int or pyproj.CRS
        A projected CRS in metres (geographic coordinates are refused: use a constructor, which
        projects them).
    node_ids : array, optional
        Node identifiers of the source (OSM ids...); positions by default.
    edge_data : pandas.DataFrame, optional
        Attributes of the edges (``name``, ``highway``...), one row per edge, kept in
        :meth:`to_lines`.
    largest_component : bool, default True
        Keep only the largest connected part (by number of nodes). What is dropped is recorded
        in :attr:`dropped` and reported by a :class:`~cdv_geo.CdvGeoWarning`.
    source : str, optional
        Where the network comes from, for messages.

    Attributes
    ----------
    crs : pyproj.CRS
    node_xy : numpy.ndarray
    node_ids : numpy.ndarray
    edge_u, edge_v : numpy.ndarray
    edge_length : numpy.ndarray
        Metres, from the geometries.
    edge_geometry : numpy.ndarray of shapely.LineString
    edge_data : pandas.DataFrame or None
    dropped : DroppedParts
        What :paramref:`largest_component` removed.

    Raises
    ------
    NetworkError
        If there is no edge, or the arrays are inconsistent.
    CRSError
        If `crs` is not projected in metres.

    Examples
    --------
    >>> import numpy as np
    >>> net = WalkNetwork(np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]]),
    ...                   [0, 1], [1, 2], crs="EPSG:2154")
    >>> net
    WalkNetwork(3 nodes, 2 edges, 0.15 km of streets, EPSG:2154)
    >>> net.edge_length.tolist()
    [100.0, 50.0]
    """

    def __init__(
        self,
        node_xy: Any,
        edge_u: Any,
        edge_v: Any,
        edge_geometry: Any = None,
        *,
        crs: Any,
        node_ids: Any = None,
        edge_data: pd.DataFrame | None = None,
        largest_component: bool = True,
        source: str | None = None,
    ) -> None:
        self.source = source
        where = f" ({source})" if source else ""
        self.crs: CRS = check_metric_crs(crs, what=f"network CRS{where}")
        xy = np.asarray(node_xy, dtype=float).reshape(-1, 2)
        u = np.asarray(edge_u, dtype=np.int64).ravel()
        v = np.asarray(edge_v, dtype=np.int64).ravel()
        if len(u) == 0:
            raise NetworkError(
                f"the walking network{where} has no edges (no street to walk on). Check that "
                "the street layer or extract covers the territory and holds walkable ways."
            )
        if len(u) != len(v):
            raise NetworkError(f"edge_u and edge_v differ in length ({len(u)} and {len(v)})")
        if u.min() < 0 or v.min() < 0 or max(u.max(), v.max()) >= len(xy):
            raise NetworkError(
                f"edge end nodes{where} must be positions in node_xy (0 to {len(xy) - 1})"
            )
        if not np.isfinite(xy).all():
            raise NetworkError(f"node coordinates{where} contain NaN or infinite values")
        if edge_geometry is None:
            geoms = np.asarray(shapely.linestrings(np.stack([xy[u], xy[v]], axis=1)), dtype=object)
        else:
            geoms = np.asarray(edge_geometry, dtype=object).ravel()
            if len(geoms) != len(u):
                raise NetworkError(
                    f"edge_geometry has {len(geoms)} items for {len(u)} edges{where}"
                )
            bad = ~(shapely.get_type_id(geoms) == 1) | shapely.is_empty(geoms)
            if bad.any():
                raise NetworkError(
                    f"{int(bad.sum())} edge geometr{'y is' if bad.sum() == 1 else 'ies are'} "
                    f"not a non-empty LineString{where} (first: edge {int(np.flatnonzero(bad)[0])})"
                    "; explode multi-part lines first (gdf.explode())"
                )
            geoms = _orient(geoms, xy[u], xy[v])
        ids = np.arange(len(xy)) if node_ids is None else np.asarray(node_ids).ravel()
        if len(ids) != len(xy):
            raise NetworkError(f"node_ids has {len(ids)} items for {len(xy)} nodes{where}")
        data = None if edge_data is None else edge_data.reset_index(drop=True)
        if data is not None and len(data) != len(u):
            raise NetworkError(f"edge_data has {len(data)} rows for {len(u)} edges{where}")

        # drop nodes that carry no edge: they are not streets
        used = np.zeros(len(xy), dtype=bool)
        used[u] = True
        used[v] = True
        n_comp, labels = connected_components(
            adjacency(len(xy), u, v, np.ones(len(u))), directed=False
        )
        labels = np.where(used, labels, -1)
        self.dropped = DroppedParts()
        keep_node = used
        keep_edge = np.ones(len(u), dtype=bool)
        counts = np.bincount(labels[used], minlength=n_comp)
        n_parts = int((counts > 0).sum())
        if largest_component and n_parts > 1:
            main = int(np.argmax(counts))
            keep_node = labels == main
            keep_edge = keep_node[u]
            lengths = np.asarray(shapely.length(geoms), dtype=float)
            self.dropped = DroppedParts(
                n_parts=n_parts,
                nodes=int(used.sum() - keep_node.sum()),
                edges=int((~keep_edge).sum()),
                length_m=float(lengths[~keep_edge].sum()),
            )
            warnings.warn(
                f"walking network{where}: kept the largest connected part "
                f"({int(keep_node.sum())} nodes, {int(keep_edge.sum())} edges) and dropped "
                f"{n_parts - 1} smaller part{'s' if n_parts > 2 else ''} "
                f"({self.dropped.nodes} nodes, {self.dropped.edges} edge"
                f"{'s' if self.dropped.edges != 1 else ''}, "
                f"{self.dropped.length_m / 1000:.2f} km of streets) that cannot be reached from "
                "it. Check for streets that should meet (gaps, missing crossings); pass "
                "largest_component=False to keep every part (see WalkNetwork.dropped).",
                CdvGeoWarning,
                stacklevel=3,
            )
        elif n_parts > 1:
            self.dropped = DroppedParts(n_parts=n_parts)
        new_pos = np.cumsum(keep_node) - 1
        self.node_xy: np.ndarray = xy[keep_node]
        self.node_ids: np.ndarray = ids[keep_node]
        self.edge_u: np.ndarray = new_pos[u[keep_edge]]
        self.edge_v: np.ndarray = new_pos[v[keep_edge]]
        self.edge_geometry: np.ndarray = geoms[keep_edge]
        self.edge_length: np.ndarray = shapely.length(self.edge_geometry)
        self.edge_data: pd.DataFrame | None = (
            None if data is None else data.loc[keep_edge].reset_index(drop=True)
        )
        # the snapping index is built on the first snap (snapping_index): its fine cells cover
        # the whole area, which costs most of the construction of a large network
        self._grid: SegmentGrid | None = None
        # what routing reads, computed with the network so that no query pays for it
        _ = self.csr, self.components, self.edge_ends

    @classmethod
    def from_osm_pbf(
        cls,
        path: Any,
        *,
        bbox: Any = None,
        polygon: Any = None,
        crs: Any = None,
        largest_component: bool = True,
    ) -> WalkNetwork:
        """Build the network from an OpenStreetMap ``.osm.pbf`` extract (read with pyosmium).

        The same network as :meth:`from_osm_xml` on the same data (walking filter, nodes,
        edges, lengths), built with arrays (:mod:`cdv_geo.network.pbf` gives the rules).
        `bbox` is ``(west, south, east, north)`` in degrees; `polygon` a shapely polygon in
        EPSG:4326 or a layer with a CRS; `crs` the metric CRS (EPSG:2154 in metropolitan
        France, else the UTM zone). Raises :class:`~cdv_geo.core.errors.NetworkError` on a
        missing or unreadable file, no walkable way, or no street in the bbox or polygon.

        Examples
        --------
        >>> import osmium, tempfile
        >>> from pathlib import Path
        >>> pbf = str(Path(tempfile.mkdtemp()) / "tiny.osm.pbf")
        >>> with osmium.SimpleWriter(pbf) as w:
        ...     w.add_node(osmium.osm.mutable.Node(id=1, location=(3.32, 49.380)))
        ...     w.add_node(osmium.osm.mutable.Node(id=2, location=(3.32, 49.381)))
        ...     w.add_way(osmium.osm.mutable.Way(id=10, nodes=[1, 2], tags={"highway": "path"}))
        >>> net = WalkNetwork.from_osm_pbf(pbf)
        >>> net.crs.to_epsg(), round(float(net.edge_length[0]), 1)
        (2154, 111.3)
        """
        a = read_osm_network(path, bbox=bbox, polygon=polygon, crs=crs)
        return cls(a.node_xy, a.edge_u, a.edge_v, a.edge_geometry, crs=a.crs,
                   node_ids=a.node_ids, edge_data=a.edge_data,
                   largest_component=largest_component, source=a.source)  # fmt: skip

    # --- description ---------------------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of (undirected) edges."""
        return len(self.edge_u)

    @property
    def total_length_m(self) -> float:
        """Total street length, in metres."""
        return float(self.edge_length.sum())

    def __repr__(self) -> str:
        epsg = self.crs.to_epsg()
        crs = f"EPSG:{epsg}" if epsg else self.crs.name
        d = self.dropped
        parts = d.n_parts - 1
        dropped = (
            f", dropped {parts} detached part{'s' if parts > 1 else ''} "
            f"({d.edges} edge{'s' if d.edges != 1 else ''})"
            if d
            else ""
        )
        return (
            f"WalkNetwork({self.n_nodes} nodes, {self.n_edges} edges, "
            f"{self.total_length_m / 1000:.2f} km of streets, {crs}{dropped})"
        )

    def to_lines(self) -> gpd.GeoDataFrame:
        """Return the edges as a GeoDataFrame (``u``, ``v``, ``length_m``, attributes, geometry).

        Examples
        --------
        >>> import numpy as np
        >>> net = WalkNetwork(np.array([[0.0, 0.0], [30.0, 40.0]]), [0], [1], crs=2154)
        >>> net.to_lines()[["u", "v", "length_m"]]
           u  v  length_m
        0  0  1      50.0
        """
        cols: dict[str, Any] = {
            "u": self.node_ids[self.edge_u],
            "v": self.node_ids[self.edge_v],
            "length_m": self.edge_length,
        }
        if self.edge_data is not None:
            for c in self.edge_data.columns:
                cols[str(c)] = self.edge_data[c].to_numpy()
        return gpd.GeoDataFrame(cols, geometry=list(self.edge_geometry), crs=self.crs)

    # --- graph ---------------------------------------------------------------------------------

    @cached_property
    def csr(self) -> csr_matrix:
        """Symmetric adjacency matrix (n × n, metres; shortest of parallel edges)."""
        return adjacency(self.n_nodes, self.edge_u, self.edge_v, self.edge_length)

    @cached_property
    def components(self) -> np.ndarray:
        """Connected-part label of each node."""
        return connected_components(self.csr, directed=False)[1]

    # --- snapping ------------------------------------------------------------------------------

    @property
    def snapping_index(self) -> SegmentGrid:
        """The nearest-street index (:class:`~cdv_geo.network.snapping.SegmentGrid`).

        Built on first use (once, even when several threads snap at the same time).
        """
        grid = self._grid
        if grid is None:
            with _GRID_LOCK:
                if self._grid is None:
                    built = SegmentGrid(self.edge_geometry)
                    _ = built.strtree
                    self._grid = built
                grid = self._grid
        return grid

    def snap(self, points: Any, *, max_snap_m: float = 200.0) -> pd.DataFrame:
        """Attach points to the nearest point of the nearest edge.

        Parameters
        ----------
        points : GeoDataFrame, GeoSeries or array of (x, y)
            Points (a GeoDataFrame/GeoSeries is reprojected to the network CRS; polygons use
            their representative point). Arrays are taken in the network CRS. A plain
            DataFrame, a layer without CRS or an empty layer raise a
            :class:`~cdv_geo.core.errors.CdvGeoError` naming ``points``.
        max_snap_m : float, default 200
            Points farther than this from every edge get edge ``-1`` and NaN distances.

        Returns
        -------
        pandas.DataFrame
            ``edge`` (position, -1 when unreachable), ``along_m`` (distance along the edge from
            its ``u`` end), ``snap_distance_m``, and ``x``/``y`` of the attachment point.

        Examples
        --------
        >>> import numpy as np
        >>> net = WalkNetwork(np.array([[0.0, 0.0], [100.0, 0.0]]), [0], [1], crs=2154)
        >>> net.snap(np.array([[30.0, 4.0], [50.0, 900.0]]))
           edge  along_m  snap_distance_m     x    y
        0     0     30.0              4.0  30.0  0.0
        1    -1      NaN              NaN   NaN  NaN
        """
        xy = self._points_xy(points)
        edge, along, dist = self.snap_xy(xy, max_snap_m=max_snap_m)
        pt = np.full((len(xy), 2), np.nan)
        ok = edge >= 0
        if ok.any():
            pt[ok] = shapely.get_coordinates(
                shapely.line_interpolate_point(self.edge_geometry[edge[ok]], along[ok])
            )
        index = points.index if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries) else None
        return pd.DataFrame(
            {"edge": edge, "along_m": along, "snap_distance_m": dist, "x": pt[:, 0], "y": pt[:, 1]},
            index=index,
        )

    def _points_xy(self, points: Any) -> np.ndarray:
        if isinstance(points, pd.DataFrame | gpd.GeoSeries):
            # a layer: checked like every layer argument (a plain DataFrame, no CRS, empty)
            gdf = gpd.GeoDataFrame(geometry=points) if isinstance(points, gpd.GeoSeries) else points
            gdf = as_layer(gdf, "points")
            gs = gdf.geometry
            if not CRS.from_user_input(gs.crs).equals(self.crs):
                gs = gs.to_crs(self.crs)
            geoms = np.asarray(gs.values, dtype=object)
            poly = ~np.isin(shapely.get_type_id(geoms), (0,))
            if poly.any():
                geoms = geoms.copy()
                geoms[poly] = shapely.point_on_surface(geoms[poly])
            xy = np.full((len(geoms), 2), np.nan)
            ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            xy[ok] = shapely.get_coordinates(geoms[ok])
            return xy
        return np.asarray(points, dtype=float).reshape(-1, 2)

    def snap_xy(
        self, xy: np.ndarray, *, max_snap_m: float = 200.0, parallel: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Attach coordinates to the nearest point of the nearest edge (arrays in, arrays out).

        The array form of :meth:`snap`, for code that routes many points.

        Parameters
        ----------
        xy : array of shape (n, 2)
            Coordinates in the network's CRS; a row with NaN is unreachable.
        max_snap_m : float, default 200
            Points farther than this from every edge are unreachable.
        parallel : bool, default True
            Cut the points in chunks, one per core (the queries release the GIL). Pass False
            when the caller already runs in a worker thread.

        Returns
        -------
        edge : array of int
            Position of the edge (-1: unreachable).
        along : array of float
            Distance along the edge from its ``u`` end, in [0, edge length] (NaN: unreachable).
        distance : array of float
            Straight-line snap distance (NaN: unreachable).

        Raises
        ------
        NetworkError
            `max_snap_m` is negative or not a number.

        Examples
        --------
        >>> import numpy as np
        >>> net = WalkNetwork(np.array([[0.0, 0.0], [100.0, 0.0]]), [0], [1], crs=2154)
        >>> [a.tolist() for a in net.snap_xy(np.array([[30.0, 4.0]]))]
        [[0], [30.0], [4.0]]
        """
        if not max_snap_m >= 0:
            raise NetworkError(f"max_snap_m must be a distance >= 0 in metres, not {max_snap_m}")
        m = float(max_snap_m)
        points = np.asarray(xy, dtype=float).reshape(-1, 2)
        index = self.snapping_index
        if not parallel:
            return index.nearest(points, m)
        return threads.map_chunks(lambda part: index.nearest(points[part], m), len(points))

    # --- routing -------------------------------------------------------------------------------

    def route(
        self,
        edge: np.ndarray,
        along: np.ndarray,
        offset: np.ndarray | None = None,
        *,
        limit: float = np.inf,
    ) -> Routes:
        """Compute the walking distance from every node to the nearest of points on edges.

        Each point (at `along` metres on `edge`, reached after `offset` metres: a facility's
        snap distance) becomes a virtual node linked to both ends of its edge; one call of
        ``scipy.sparse.csgraph.dijkstra(min_only=True)`` then gives every node its distance to
        the nearest point and which point it is (:func:`cdv_geo.network.routing.route`).

        Parameters
        ----------
        edge, along : arrays
            The points, as :meth:`snap_xy` returns them (every edge >= 0).
        offset : array, optional
            Metres already walked to reach each point (0 when omitted).
        limit : float, default inf
            Search no farther, in metres: nodes beyond are unreached.

        Returns
        -------
        cdv_geo.network.routing.Routes
            ``dist`` (inf when unreached) and ``seed`` (the point's position, -1) per node.

        Examples
        --------
        A–B–C, 100 m then 50 m; a point 30 m from A on A–B, reached after 5 m:

        >>> import numpy as np
        >>> net = WalkNetwork(np.array([[0.0, 0.0], [100.0, 0.0], [150.0, 0.0]]),
        ...                   [0, 1], [1, 2], crs=2154)
        >>> r = net.route(np.array([0]), np.array([30.0]), np.array([5.0]))
        >>> r.dist.tolist(), r.seed.tolist()
        ([35.0, 75.0, 125.0], [0, 0, 0])
        """
        e = np.asarray(edge, dtype=np.int64)
        a = np.asarray(along, dtype=float)
        off = np.zeros(len(e)) if offset is None else np.asarray(offset, dtype=float)
        if len(e) and (e.min() < 0 or e.max() >= self.n_edges):
            raise NetworkError(
                "route() takes points attached to the network (edge positions from snap_xy, "
                "without the -1 of unreachable points)"
            )
        length = self.edge_length[e]
        return route(
            self.csr, self.edge_u[e], self.edge_v[e], off + a, off + (length - a), limit=limit
        )

    def reach(
        self, routes: Routes, edge: np.ndarray, along: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Compute the walking distance from points on edges to the nearest seed of `routes`.

        A point at `along` on `edge` leaves by either end of its edge: the distance is the
        smaller of ``dist[u] + along`` and ``dist[v] + (length - along)``. (A point on the
        same edge as a seed may walk straight to it: the caller checks that case.)

        Parameters
        ----------
        routes : Routes
            From :meth:`route`.
        edge, along : arrays
            The points, from :meth:`snap_xy` (edge >= 0).

        Returns
        -------
        distance : array of float
            In metres (inf when no seed is reached).
        seed : array of float
            The nearest seed's position, as a float (exact; -1 when none).

        Examples
        --------
        >>> import numpy as np
        >>> net = WalkNetwork(np.array([[0.0, 0.0], [100.0, 0.0], [150.0, 0.0]]),
        ...                   [0, 1], [1, 2], crs=2154)
        >>> r = net.route(np.array([0]), np.array([30.0]))
        >>> [a.tolist() for a in net.reach(r, np.array([1]), np.array([20.0]))]
        [[90.0], [0.0]]
        """
        return reach(routes, self.edge_ends, self.edge_length, edge, along)

    @cached_property
    def edge_ends(self) -> np.ndarray:
        """The two end nodes of each edge side by side, shape (n_edges, 2): ``edge_u, edge_v``.

        One memory access gives both ends of an edge (what :meth:`reach` reads per point).

        Examples
        --------
        >>> net = WalkNetwork(np.array([[0.0, 0.0], [100.0, 0.0], [150.0, 0.0]]),
        ...                   [0, 1], [1, 2], crs=2154)
        >>> net.edge_ends.tolist()
        [[0, 1], [1, 2]]
        """
        return np.stack([self.edge_u, self.edge_v], axis=1)


def _orient(geoms: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Reverse the lines whose first vertex is nearer to node b than to node a."""
    coords, gi = shapely.get_coordinates(geoms, return_index=True)
    first = np.r_[0, np.flatnonzero(gi[1:] != gi[:-1]) + 1]
    start = coords[first]
    da = np.hypot(*(start - a).T)
    db = np.hypot(*(start - b).T)
    flip = db < da
    if flip.any():
        geoms = geoms.copy()
        geoms[flip] = shapely.reverse(geoms[flip])
    return geoms
