"""The walking network: an undirected street graph in a metric CRS, snapping and routing.

:class:`WalkNetwork` holds the graph as plain arrays (node coordinates, edge endpoints, edge
lengths in metres, edge geometries) and a :mod:`scipy.sparse` CSR matrix on which
:func:`scipy.sparse.csgraph.dijkstra` runs. It is built from street centre lines
(:meth:`WalkNetwork.from_lines`, what the Soissons demo uses), from an OpenStreetMap XML extract
(:meth:`~WalkNetwork.from_osm_xml`), from an osmnx graph or GraphML file
(:meth:`~WalkNetwork.from_graph`, :meth:`~WalkNetwork.from_graphml`) or downloaded from
OpenStreetMap (:meth:`~WalkNetwork.from_place`, :meth:`~WalkNetwork.from_polygon`).

Points are attached to the **nearest point of the nearest edge** (not to the nearest node):
:meth:`WalkNetwork.snap` returns, for each point, the edge, the distance along it from the
edge's first node and the straight-line snap distance. A point farther than ``max_snap_m`` from
every street is *unreachable* (edge ``-1``, NaN distances), never silently attached to a
far-away street.

The snapping index, built with the network, is a two-level uniform grid: fine cells of about
9 m list the segments that can be nearest to a point of the cell (pruned with the bound of the
cell's half-diagonal), the two nearest to the cell's centre first, with lower bounds of the
distance to the others (from the segments' supporting half-planes) that settle most points
after one or two distance computations, all vectorised in numpy. Points farther than the
grid's margin (40 m) from every segment fall back on a :class:`shapely.STRtree` nearest query,
so the answer is always exact; ties go to the first edge. The index takes ~1.3 KiB per street
(140 MiB for 112,000 streets).
"""

from __future__ import annotations

import bz2
import gzip
import itertools
import os
import re
import tempfile
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from cdv_geo.core import threads as _threads
from cdv_geo.core.crs import check_metric_crs, choose_metric_crs, require_crs
from cdv_geo.core.errors import CdvGeoWarning, CRSError, NetworkError

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["DroppedParts", "WalkNetwork", "is_walkable", "metric_crs_for"]

# --- the osmnx "walk" filter, applied to OSM XML ways ------------------------------------------
#
# osmnx.graph_from_xml takes no network_type: it keeps every way with a highway tag. The walking
# filter osmnx sends to Overpass for network_type="walk" (osmnx._overpass._get_network_filter) is
# reproduced here with the same (unanchored, Overpass-style) regular expressions, so a network
# read from a file equals the one osmnx would download.
_WALK_EXCLUDE: dict[str, str] = {
    "area": "yes",
    "access": "private",
    "highway": (
        "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
        "raceway|razed|rest_area|services"
    ),
    "foot": "no",
    "service": "private",
    "sidewalk": "separate",
    "sidewalk:both": "separate",
    "sidewalk:left": "separate",
    "sidewalk:right": "separate",
}
_WALK_EXCLUDE_RE = {k: re.compile(v) for k, v in _WALK_EXCLUDE.items()}
# IGN BD TOPO road classes (field NATURE): "Type autoroutier" is the motorway class
_BDTOPO_MOTORWAY = re.compile("autorout", re.IGNORECASE)


def is_walkable(tags: dict[str, str]) -> bool:
    """Tell whether an OSM way with these tags belongs to the walking network.

    The rule is osmnx's ``network_type="walk"`` filter: a ``highway`` tag is required, and
    motorways, cycleways, construction sites, areas, private access and ``foot=no`` are excluded
    (a street whose sidewalks are mapped separately is excluded too: the sidewalks are walked).

    Parameters
    ----------
    tags : dict
        The way's OSM tags.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_walkable({"highway": "residential"}), is_walkable({"highway": "motorway_link"})
    (True, False)
    >>> is_walkable({"highway": "service", "access": "private"})
    False
    """
    if "highway" not in tags:
        return False
    return not any(rx.search(tags[key]) for key, rx in _WALK_EXCLUDE_RE.items() if key in tags)


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


# --- snapping index ----------------------------------------------------------------------------

_GRID_MARGIN_M = 40.0
#: Target side of the fine cells of the snapping grid, in metres.
_FINE_CELL_M = 9.0
# Slack (metres) added to every geometric bound so that rounding never prunes a true candidate.
_SLACK_M = 1e-3
# Registrations handled at once when building the grid (bounds the temporary memory).
_CHUNK = 1 << 20


def _radix_order(key: np.ndarray) -> np.ndarray:
    """Order that sorts non-negative integer keys (two 16-bit radix passes below 2**32)."""
    if len(key) == 0 or int(key.max()) >= 2**32:
        return np.argsort(key, kind="stable")
    order = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    if int(key.max()) > 0xFFFF:
        order = order[np.argsort((key[order] >> 16).astype(np.uint16), kind="stable")]
    return order


def _chunks(sizes: np.ndarray, target: int) -> list[tuple[int, int]]:
    """Split consecutive items into runs of about `target` in total size."""
    ends = np.searchsorted(np.cumsum(sizes), np.arange(target, int(sizes.sum()), target))
    bounds = np.unique(np.r_[0, ends + 1, len(sizes)]).tolist()
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


class _SegmentGrid:
    """Exact nearest-segment queries on a two-level uniform grid (see the module docstring).

    For a point p of a cell of centre c and half-diagonal h, the nearest segment s* satisfies
    d(c, s*) <= d(c, p) + d(p, s*) <= h + d(p, s) <= 2h + d(c, s) for every segment s: a
    cell only needs the segments within ``2h`` of its centre's nearest one. Coarse cells (side
    ``g``) list them among the segments whose bounding box grown by the margin touches the
    cell; each coarse cell is then cut into ``k x k`` fine cells (side about
    :data:`_FINE_CELL_M`) whose lists are pruned the same way from the coarse list.

    A fine cell keeps apart its candidate nearest to its centre (``cell_first``) and a lower
    bound of the distance from its centre to the others (``cell_lb``): since
    d(p, s) >= d(c, s) - d(p, c), a point nearer to ``cell_first`` than ``cell_lb - d(p, c)``
    is settled by one distance computation (most points). The others compare the remaining
    candidates, skipping those whose own lower bound (``seg_lb``) exceeds the best distance.
    Ties go to the smallest segment position.
    """

    def __init__(self, geoms: np.ndarray) -> None:
        coords, gi = shapely.get_coordinates(geoms, return_index=True)
        same = gi[1:] == gi[:-1]
        a = coords[:-1][same]
        b = coords[1:][same]
        self.seg_edge = gi[:-1][same].astype(np.int64)
        seg_len = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
        # along-edge offset of each segment's start: cumulative length within its edge
        csum = np.cumsum(seg_len)
        first = np.r_[True, self.seg_edge[1:] != self.seg_edge[:-1]]
        start_csum = np.where(first, csum - seg_len, 0.0)
        self.seg_off = csum - seg_len - np.maximum.accumulate(start_csum)
        self.ax, self.ay = a[:, 0].copy(), a[:, 1].copy()
        self.dx, self.dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        self.len2 = np.maximum(self.dx * self.dx + self.dy * self.dy, 1e-300)
        self.geoms = geoms
        nseg = len(seg_len)
        minx = float(min(a[:, 0].min(), b[:, 0].min()))
        miny = float(min(a[:, 1].min(), b[:, 1].min()))
        maxx = float(max(a[:, 0].max(), b[:, 0].max()))
        maxy = float(max(a[:, 1].max(), b[:, 1].max()))
        # About one coarse cell per segment. Points farther than the margin from every segment
        # take the slow exact fallback: 40 m covers homes set back from their street; cells of
        # at least half the margin bound the registrations per segment.
        area = max((maxx - minx) * (maxy - miny), 1.0)
        m = _GRID_MARGIN_M
        g = max(np.sqrt(area / max(nseg, 1)), float(np.median(seg_len)) / 4, m / 2)
        g = float(np.clip(g, 5.0, 200.0))
        m = max(g, m)
        self.g, self.margin = g, m
        self.x0, self.y0 = minx - m, miny - m
        self.nx = int(np.floor((maxx + m - self.x0) / g)) + 1
        self.ny = int(np.floor((maxy + m - self.y0) / g)) + 1
        self.ncoarse = self.nx * self.ny
        self.k = int(np.clip(round(g / _FINE_CELL_M), 1, 4))
        self.gf = g / self.k
        cell, seg = self._coarse_lists(b[:, 0], b[:, 1])
        self._fine_lists(cell, seg)

    def _d2(self, seg: np.ndarray, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Squared distance from points to segments, and the position (0-1) on the segment."""
        sax = self.ax[seg]
        say = self.ay[seg]
        dx = self.dx[seg]
        dy = self.dy[seg]
        t = ((px - sax) * dx + (py - say) * dy) / self.len2[seg]
        np.clip(t, 0.0, 1.0, out=t)
        ex = sax + t * dx - px
        ey = say + t * dy - py
        return ex * ex + ey * ey, t

    def _coarse_lists(self, bx: np.ndarray, by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cell, segment) pairs of the coarse cells, pruned and sorted by cell."""
        g, ny = self.g, self.ny
        m = self.margin + _SLACK_M

        def col(x: np.ndarray, n: int, origin: float) -> np.ndarray:
            return np.clip(np.floor((x - origin) / g), 0, n - 1).astype(np.int64)

        cx0 = col(np.minimum(self.ax, bx) - m, self.nx, self.x0)
        cx1 = col(np.maximum(self.ax, bx) + m, self.nx, self.x0)
        cy0 = col(np.minimum(self.ay, by) - m, ny, self.y0)
        cy1 = col(np.maximum(self.ay, by) + m, ny, self.y0)
        wy = cy1 - cy0 + 1
        cnt = (cx1 - cx0 + 1) * wy
        cells: list[np.ndarray] = []
        segs: list[np.ndarray] = []
        dists: list[np.ndarray] = []
        for lo, hi in _chunks(cnt, _CHUNK):
            c = cnt[lo:hi]
            seg = np.repeat(np.arange(lo, hi, dtype=np.int64), c)
            k = np.arange(len(seg), dtype=np.int64) - np.repeat(np.cumsum(c) - c, c)
            w = wy[seg]
            ci = cx0[seg] + k // w
            cj = cy0[seg] + k % w
            d2 = self._d2(seg, self.x0 + (ci + 0.5) * g, self.y0 + (cj + 0.5) * g)[0]
            cells.append(ci * ny + cj)
            segs.append(seg)
            dists.append(d2)
        cell = np.concatenate(cells)
        seg = np.concatenate(segs)
        d2 = np.concatenate(dists)
        del cells, segs, dists
        dmin2 = np.full(self.ncoarse, np.inf)
        np.minimum.at(dmin2, cell, d2)
        lim = np.sqrt(dmin2) + g * np.sqrt(2.0) + _SLACK_M
        keep = np.flatnonzero(d2 <= (lim * lim)[cell])
        cell, seg = cell[keep], seg[keep]
        order = _radix_order(cell)
        return cell[order], seg[order]

    def _fine_lists(self, cell: np.ndarray, seg: np.ndarray) -> None:
        """Fine cells (row-major over the fine grid) from the coarse lists.

        Each fine cell records (``cells``, 32 bytes, read with one memory access) its two
        candidates nearest to its centre (-1: none), where its other candidates start in
        ``rest_seg`` and how many they are, and a lower bound of the distance to its
        candidates but the first one as a function of the position in the cell: the
        coefficients of ``a + b wx + c wy + d wx wy``, (wx, wy) in [0, 1)^2, as the bits of
        floats of the same size. ``bound_rest`` bounds the same way the distance to the
        candidates but the first two.

        A segment s whose point nearest to the centre c is q (at d = |c - q| > 0) lies beyond
        the line through q normal to n = (c - q) / d, so d(p, s) >= (p - q).n = d + (p - c).n,
        a linear bound. The minimum over several segments of these linear bounds is concave
        on the cell, hence at least the bilinear interpolation of its values at the corners:
        that interpolation is the stored bound.
        """
        k, g, gf, ny = self.k, self.g, self.gf, self.ny
        nyf = ny * k
        counts = np.bincount(cell, minlength=self.ncoarse)
        run = np.zeros(self.ncoarse + 1, dtype=np.int64)
        np.cumsum(counts, out=run[1:])
        nonempty = np.flatnonzero(counts)
        small = len(self.ax) < 2**31 and 2 * len(seg) * k * k < 2**31
        itype, ftype = (np.int32, np.float32) if small else (np.int64, np.float64)
        nf = self.nx * k * nyf
        none = np.array([np.inf, 0.0, 0.0, 0.0], dtype=ftype)
        rec = np.zeros((nf, 8), dtype=itype)
        rec[:, :2] = -1
        rec[:, 4:] = none.view(itype)
        bound_rest = np.tile(none, (nf, 1))
        rest_seg: list[np.ndarray] = []
        offset = 0
        span = gf * np.sqrt(2.0) + _SLACK_M
        half = gf / 2

        def first_hits(values: np.ndarray, mins: np.ndarray, run_id: np.ndarray) -> np.ndarray:
            """Position of the first entry of each run equal to its run's (finite) minimum."""
            hit = np.flatnonzero((values == mins[run_id]) & np.isfinite(values))
            return hit[np.r_[True, run_id[hit[1:]] != run_id[hit[:-1]]]] if len(hit) else hit

        def bilinear(corner: list[np.ndarray], starts: np.ndarray) -> np.ndarray:
            """Coefficients (a, b, c, d) from the minimum of each run at the four corners."""
            f00, f10, f01, f11 = (np.minimum.reduceat(v, starts) for v in corner)
            out = np.zeros((len(starts), 4))
            out[:, 0] = np.inf
            ok = np.isfinite(f00)
            # made smaller by more than the rounding of the coefficients to float32
            f00, f10, f01, f11 = (
                v[ok] - 1e-6 * np.abs(v[ok]) - _SLACK_M for v in (f00, f10, f01, f11)
            )
            out[ok] = np.stack([f00, f10 - f00, f01 - f00, f11 - f10 - f01 + f00], axis=1)
            return out.astype(ftype)

        for lo, hi in _chunks(counts[nonempty], _CHUNK // 4):
            ne = nonempty[lo:hi]
            e0, e1 = int(run[ne[0]]), int(run[ne[-1] + 1])
            starts = run[ne] - e0
            run_id = np.repeat(np.arange(len(ne)), counts[ne])
            s = seg[e0:e1]
            cc = cell[e0:e1]
            # coordinates relative to the corner of the coarse cell
            rx = self.ax[s] - (self.x0 + (cc // ny) * g)
            ry = self.ay[s] - (self.y0 + (cc % ny) * g)
            sdx, sdy, sl2 = self.dx[s], self.dy[s], self.len2[s]
            base = (ne // ny) * k * nyf + (ne % ny) * k
            for i in range(k):
                qx = (i + 0.5) * gf
                tx = qx - rx
                for j in range(k):
                    qy = (j + 0.5) * gf
                    t = (tx * sdx + (qy - ry) * sdy) / sl2
                    np.clip(t, 0.0, 1.0, out=t)
                    ex = rx + t * sdx - qx
                    ey = ry + t * sdy - qy
                    d2 = ex * ex + ey * ey
                    mn = np.minimum.reduceat(d2, starts)
                    lim = np.sqrt(mn) + span
                    # the candidates of the fine cell (every run keeps at least its minimum)
                    kept = np.flatnonzero(d2 <= (lim * lim)[run_id])
                    d2, ex, ey, ks, kr = d2[kept], ex[kept], ey[kept], s[kept], run_id[kept]
                    kst = np.searchsorted(kr, np.arange(len(ne)))
                    fid = base + i * nyf + j
                    p1 = first_hits(d2, mn, kr)
                    rec[fid, 0] = ks[p1]
                    d2[p1] = np.inf
                    # the linear bounds d + (p - c).n at the corners (p - c) = (+-h, +-h); a
                    # centre on the segment gives the constant bound 0, a removed one +inf
                    d = np.sqrt(d2)
                    w = np.divide(half, d, out=np.zeros_like(d), where=d > 0)
                    hx, hy = -ex * w, -ey * w  # h n
                    corner = [d - hx - hy, d + hx - hy, d - hx + hy, d + hx + hy]
                    rec[fid, 4:] = bilinear(corner, kst).view(itype)
                    p2 = first_hits(d2, np.minimum.reduceat(d2, kst), kr)
                    rec[fid[kr[p2]], 1] = ks[p2]
                    d2[p2] = np.inf
                    for v in corner:
                        v[p2] = np.inf
                    bound_rest[fid] = bilinear(corner, kst)
                    rest = np.flatnonzero(np.isfinite(d2))
                    rest_seg.append(ks[rest].astype(itype))
                    n = np.bincount(kr[rest], minlength=len(ne))
                    rec[fid, 2] = offset + np.cumsum(n) - n
                    rec[fid, 3] = n
                    offset += len(rest)
        self.cells = rec
        self.ftype = ftype
        self.bound_rest = bound_rest
        self.rest_seg = np.concatenate(rest_seg)
        # what distances need of a segment, side by side: one memory access per segment
        self.seg_rows = np.stack([self.ax, self.ay, self.dx, self.dy, self.len2], axis=1)
        # and what the answer needs: offset and length of the segment in its edge, the edge
        # (as a float: exact below 2**53) and its length
        self.seg_out = np.stack(
            [
                self.seg_off,
                np.sqrt(self.len2),
                self.seg_edge.astype(float),
                np.asarray(shapely.length(self.geoms), dtype=float)[self.seg_edge],
            ],
            axis=1,
        )

    @staticmethod
    def _d2_rows(rows: np.ndarray, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_d2` from rows of ``seg_rows`` (same arithmetic, hence the same values).

        t = ((px - ax) dx + (py - ay) dy) / len2 clipped to [0, 1], then
        d2 = (ax + t dx - px)² + (ay + t dy - py)², each operation in that order (the in-place
        steps below round exactly as the written formula).
        """
        sax = rows[:, 0]
        say = rows[:, 1]
        dx = rows[:, 2]
        dy = rows[:, 3]
        t = px - sax
        t *= dx
        u = py - say
        u *= dy
        t += u
        t /= rows[:, 4]
        np.clip(t, 0.0, 1.0, out=t)
        ex = t * dx
        ex += sax
        ex -= px
        ey = np.multiply(t, dy, out=u)
        ey += say
        ey -= py
        ex *= ex
        ey *= ey
        ex += ey
        return ex, t

    @cached_property
    def strtree(self) -> shapely.STRtree:
        return shapely.STRtree(self.geoms)

    def nearest(
        self, xy: np.ndarray, max_distance: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (edge, along, distance) of points with finite coordinates.

        ``along`` is within [0, edge length]; edge -1 (and NaN distances) beyond
        `max_distance`.
        """
        n = len(xy)
        k, gf = self.k, self.gf
        px = np.ascontiguousarray(xy[:, 0])
        py = np.ascontiguousarray(xy[:, 1])
        qx = px - self.x0
        qx /= gf
        qy = py - self.y0
        qy /= gf
        # a point off the grid is farther than the margin from every segment: any cell will do,
        # the margin test below sends it to the fallback
        fi = np.floor(qx)
        np.clip(fi, 0, self.nx * k - 1, out=fi)
        fj = np.floor(qy)
        np.clip(fj, 0, self.ny * k - 1, out=fj)
        fid = fi * (self.ny * k)
        fid += fj
        fid = fid.astype(np.int64)
        rec = self.cells.take(fid, axis=0)
        pts = np.arange(n) if rec[:, 0].min(initial=0) >= 0 else np.flatnonzero(rec[:, 0] >= 0)
        if len(pts) < n:
            px, py, qx, qy, fi, fj = px[pts], py[pts], qx[pts], qy[pts], fi[pts], fj[pts]
            fid, rec = fid[pts], rec[pts]
        best = rec[:, 0].astype(np.int64)
        d2, t = self._d2_rows(self.seg_rows.take(best, axis=0), px, py)
        bdist = np.sqrt(d2)
        # the other candidates are farther when the first one is nearer than their bound
        wx = np.subtract(qx, fi, out=qx)
        wy = np.subtract(qy, fj, out=qy)
        c: np.ndarray = rec[:, 4:].view(self.ftype)
        # bound = c0 + c1 wx + c2 wy + c3 wx wy (added in that order)
        bound = np.multiply(c[:, 1], wx)
        np.add(bound, c[:, 0], out=bound)
        np.add(bound, np.multiply(c[:, 2], wy, out=fi), out=bound)
        wxy = np.multiply(wx, wy, out=fj)
        np.add(bound, np.multiply(wxy, c[:, 3], out=wxy), out=bound)
        o1 = np.flatnonzero(bdist >= bound)
        if len(o1):
            s2 = rec[o1, 1].astype(np.int64)
            d2b, tb = self._d2_rows(self.seg_rows.take(s2, axis=0), px[o1], py[o1])
            d2a = d2[o1]
            # ties go to the smaller segment position
            w = np.flatnonzero((d2b < d2a) | ((d2b == d2a) & (s2 < best[o1])))
            w2 = o1[w]
            best[w2] = s2[w]
            d2[w2] = d2b[w]
            t[w2] = tb[w]
            bdist[w2] = np.sqrt(d2b[w])
            c = self.bound_rest.take(fid[o1], axis=0)
            w1, h1 = wx[o1], wy[o1]
            o2 = o1[bdist[o1] >= c[:, 0] + c[:, 1] * w1 + c[:, 2] * h1 + c[:, 3] * (w1 * h1)]
            if len(o2):
                self._rest(o2, rec[o2, 2], rec[o2, 3], px, py, best, d2, t, bdist)
        out = self.seg_out.take(best, axis=0)
        al = np.multiply(t, out[:, 1], out=t)
        al += out[:, 0]
        np.clip(al, 0.0, out[:, 3], out=al)
        ed = out[:, 2].astype(np.int64)
        # exact when the nearest candidate lies within the margin used to register segments
        farthest = float(bdist.max(initial=0.0))
        if len(pts) == n and farthest <= min(self.margin, max_distance):
            return ed, al, bdist  # (the usual case)
        ok = bdist <= self.margin
        if len(pts) == n:
            edge, along, dist = ed, al, bdist
            rest = np.flatnonzero(~ok)
        else:
            edge = np.full(n, -1, dtype=np.int64)
            along = np.full(n, np.nan)
            dist = np.full(n, np.nan)
            edge[pts], along[pts], dist[pts] = ed, al, bdist
            exact = np.zeros(n, dtype=bool)
            exact[pts[ok]] = True
            rest = np.flatnonzero(~exact)
        if len(rest):
            edge[rest] = -1
            along[rest] = np.nan
            dist[rest] = np.nan
            if max_distance > 0:  # (beyond the margin, nothing is within 0 m)
                pts_geom = np.asarray(shapely.points(xy[rest]), dtype=object)
                idx, dd = self.strtree.query_nearest(
                    pts_geom, max_distance=max_distance, return_distance=True, all_matches=False
                )
                r_ = rest[idx[0]]
                edge[r_] = idx[1]
                dist[r_] = dd
                lines = self.geoms[idx[1]]
                along[r_] = np.clip(
                    shapely.line_locate_point(lines, pts_geom[idx[0]]), 0.0, shapely.length(lines)
                )
        far = dist > max_distance
        if far.any():
            edge[far] = -1
            along[far] = np.nan
            dist[far] = np.nan
        return edge, along, dist

    def _rest(
        self,
        u: np.ndarray,
        start: np.ndarray,
        count: np.ndarray,
        px: np.ndarray,
        py: np.ndarray,
        best: np.ndarray,
        d2: np.ndarray,
        t: np.ndarray,
        bdist: np.ndarray,
    ) -> None:
        """Compare the points `u` with all the other candidates of their cells.

        They are `count` segments from `start` in ``rest_seg``; updates `best`, `d2`, `t` and
        `bdist` in place.
        """
        cnt = count.astype(np.int64)
        u, start, cnt = u[cnt > 0], start[cnt > 0], cnt[cnt > 0]
        if not len(u):
            return
        # the candidates of each point are consecutive runs: reduce them run by run
        run = np.cumsum(cnt) - cnt
        pid = np.repeat(np.arange(len(u)), cnt)
        pos = np.arange(len(pid)) + np.repeat(start - run, cnt)
        sid = self.rest_seg[pos].astype(np.int64)
        pu = u[pid]
        d2c = self._d2_rows(self.seg_rows.take(sid, axis=0), px[pu], py[pu])[0]
        low = np.minimum(d2[u], np.minimum.reduceat(d2c, run))
        # ties go to the smallest segment position (the current best included)
        top = np.iinfo(np.int64).max
        win = np.minimum.reduceat(np.where(d2c == low[pid], sid, top), run)
        win = np.where(d2[u] == low, np.minimum(win, best[u]), win)
        moved = np.flatnonzero(win != best[u])
        if len(moved):
            w = u[moved]
            best[w] = win[moved]
            d2[w], t[w] = self._d2_rows(self.seg_rows.take(best[w], axis=0), px[w], py[w])
            bdist[w] = np.sqrt(d2[w])


# --- the network -------------------------------------------------------------------------------


class WalkNetwork:
    """An undirected walking network in a metric CRS, held as arrays.

    Build it with one of the constructors (:meth:`from_lines`, :meth:`from_osm_xml`,
    :meth:`from_graphml`, :meth:`from_graph`, :meth:`from_place`, :meth:`from_polygon`) or
    directly from arrays with this class.

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
            _adjacency(len(xy), u, v, np.ones(len(u))), directed=False
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
        self._grid = _SegmentGrid(self.edge_geometry)
        # what queries read, computed with the network so that none pays for it on first use
        _ = self.csr, self.components, self._edge_uv, self._grid.strtree

    # --- constructors --------------------------------------------------------------------------

    @classmethod
    def from_lines(
        cls,
        lines: gpd.GeoDataFrame | gpd.GeoSeries,
        *,
        crs: Any = None,
        largest_component: bool = True,
        walkable_only: bool = True,
    ) -> WalkNetwork:
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
        >>> import geopandas as gpd
        >>> from shapely import LineString
        >>> streets = gpd.GeoDataFrame(
        ...     {"name": ["rue A", "rue B"]},
        ...     geometry=[LineString([(0, 0), (200, 0)]), LineString([(100, -100), (100, 100)])],
        ...     crs="EPSG:2154")
        >>> WalkNetwork.from_lines(streets)
        WalkNetwork(5 nodes, 4 edges, 0.40 km of streets, EPSG:2154)
        """
        source = lines.attrs.get("source") if hasattr(lines, "attrs") else None
        name = f"street layer {source}" if source else "street layer"
        if isinstance(lines, gpd.GeoSeries):
            lines = gpd.GeoDataFrame(geometry=lines)
        require_crs(lines, name)
        if len(lines) == 0:
            raise NetworkError(
                f"the {name} is empty: the walking network needs street lines. Add the streets "
                "(e.g. from BD TOPO or OpenStreetMap) or build it with WalkNetwork.from_osm_xml."
            )
        target = metric_crs_for(lines, crs)
        gdf = lines.to_crs(target) if not CRS.from_user_input(lines.crs).equals(target) else lines
        if walkable_only and "highway" in gdf.columns:
            walk = np.array(
                [
                    not isinstance(h, str)
                    or (is_walkable({"highway": h}) and not _BDTOPO_MOTORWAY.search(h))
                    for h in gdf["highway"]
                ]
            )
            gdf = gdf.loc[walk]
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
        parts = shapely.get_parts(merged)
        parts = parts[(shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 0)]
        return cls._from_segments(parts, target, largest_component, source=name)

    @classmethod
    def _from_segments(
        cls, parts: np.ndarray, crs: CRS, largest_component: bool, source: str | None
    ) -> WalkNetwork:
        """Network whose nodes are the (rounded) end points of already-noded lines."""
        if len(parts) == 0:
            raise NetworkError(f"the {source or 'input'} yields no edge")
        first = shapely.get_coordinates(shapely.get_point(parts, 0))
        last = shapely.get_coordinates(shapely.get_point(parts, -1))
        # noding computes one intersection point for both lines; millimetre rounding only
        # absorbs floating-point noise of the reprojection
        ends = np.round(np.vstack([first, last]), 3)
        uniq, inv = np.unique(ends, axis=0, return_inverse=True)
        inv = inv.ravel()
        n = len(parts)
        return cls(
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
    ) -> WalkNetwork:
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
        >>> import networkx as nx
        >>> graph = nx.MultiDiGraph(crs="EPSG:2154")
        >>> graph.add_node(1, x=0.0, y=0.0); graph.add_node(2, x=300.0, y=400.0)
        >>> _ = graph.add_edge(1, 2); _ = graph.add_edge(2, 1)
        >>> WalkNetwork.from_graph(graph).edge_length.tolist()
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
        target = metric_crs_for(gpd.GeoDataFrame(geometry=node_pts), crs)
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
            canon = coords if iu <= iv else coords[::-1]
            key = (lo, hi, np.round(canon, 6).tobytes())
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
        return cls(
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
    ) -> WalkNetwork:
        """Build the network from a GraphML file saved by :func:`osmnx.save_graphml`.

        Examples
        --------
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
    ) -> WalkNetwork:
        """Build the network from an OpenStreetMap XML extract (``.osm``, ``.osm.bz2``, ``.gz``).

        Ways are filtered with osmnx's walking filter (:func:`is_walkable`: no motorways,
        cycleways, private ways or ``foot=no``), then parsed and simplified by
        :func:`osmnx.graph_from_xml` (one-way streets are walked both ways) and projected.

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
    ) -> WalkNetwork:  # pragma: no cover - needs the internet
        """Download the walking network of a place from OpenStreetMap (needs the internet).

        Uses :func:`osmnx.graph_from_place` with ``network_type="walk"``; osmnx caches the
        answers (``osmnx.settings.use_cache``), so a second call works offline. Save the result
        with ``osmnx.save_graphml`` for reproducible runs.

        Examples
        --------
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
    ) -> WalkNetwork:  # pragma: no cover - needs the internet
        """Download the walking network inside a polygon from OpenStreetMap (internet needed).

        Parameters
        ----------
        polygon : shapely Polygon/MultiPolygon in EPSG:4326, or a GeoDataFrame/GeoSeries with a
            CRS (its union is used, reprojected to EPSG:4326).

        Examples
        --------
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
        return _adjacency(self.n_nodes, self.edge_u, self.edge_v, self.edge_length)

    @cached_property
    def components(self) -> np.ndarray:
        """Connected-part label of each node."""
        return connected_components(self.csr, directed=False)[1]

    # --- snapping ------------------------------------------------------------------------------

    def snap(self, points: Any, *, max_snap_m: float = 200.0) -> pd.DataFrame:
        """Attach points to the nearest point of the nearest edge.

        Parameters
        ----------
        points : GeoDataFrame, GeoSeries or array of (x, y)
            Points (a GeoDataFrame/GeoSeries is reprojected to the network CRS; polygons use
            their representative point). Arrays are taken in the network CRS.
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
        edge, along, dist = self._snap_xy(xy, max_snap_m)
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
        if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
            gs = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
            if gs.crs is None:
                raise CRSError(
                    "points have no coordinate reference system; set one with "
                    "gdf.set_crs('EPSG:2154') (or the CRS they are in)"
                )
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

    def _snap_xy(
        self, xy: np.ndarray, max_snap_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(edge, along, snap distance) of each (x, y); NaN coordinates are unreachable."""
        if not max_snap_m >= 0:
            raise NetworkError(f"max_snap_m must be a distance >= 0 in metres, not {max_snap_m}")
        m = float(max_snap_m)
        # each point on its own: cut in chunks, one per core (the queries release the GIL)
        return _threads.map_chunks(lambda part: self._snap_part(xy[part], m), len(xy))

    def _snap_part(self, xy: np.ndarray, m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        finite = np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1])
        if finite.all():
            return self._grid.nearest(xy, m)
        edge = np.full(len(xy), -1, dtype=np.int64)
        along = np.full(len(xy), np.nan)
        dist = np.full(len(xy), np.nan)
        if finite.any():
            e, a, d = self._grid.nearest(xy[finite], m)
            edge[finite], along[finite], dist[finite] = e, a, d
        return edge, along, dist

    # --- routing -------------------------------------------------------------------------------

    def _route(
        self,
        seed_edge: np.ndarray,
        seed_along: np.ndarray,
        seed_offset: np.ndarray,
        *,
        limit: float = np.inf,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One multi-source Dijkstra from points on edges.

        Each seed (a point at `seed_along` on `seed_edge`, reached after `seed_offset` metres)
        becomes a virtual node linked to both ends of its edge; one call of
        ``scipy.sparse.csgraph.dijkstra(min_only=True)`` then gives every node its distance to
        the nearest seed and which seed it is.

        Returns
        -------
        dist : array (n_nodes,)
            Distance to the nearest seed (inf when unreachable or beyond `limit`).
        seed : array (n_nodes,)
            Index of that seed (-1 when unreachable).
        """
        n = self.n_nodes
        k = len(seed_edge)
        if k == 0:
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        u = self.edge_u[seed_edge]
        v = self.edge_v[seed_edge]
        length = self.edge_length[seed_edge]
        wu = seed_offset + seed_along
        wv = seed_offset + (length - seed_along)
        base = self.csr
        itype = base.indices.dtype  # (kept: another index type would copy the whole matrix)
        tail = base.indptr[-1] + 2 * np.arange(1, k + 1, dtype=itype)
        indptr = np.concatenate([base.indptr, tail.astype(base.indptr.dtype)])
        indices = np.concatenate([base.indices, np.stack([u, v], axis=1).ravel().astype(itype)])
        data = np.concatenate([base.data, np.stack([wu, wv], axis=1).ravel()])
        aug = csr_matrix((data, indices, indptr), shape=(n + k, n + k))
        dist, _, src = dijkstra(
            aug,
            directed=True,
            indices=np.arange(n, n + k),
            min_only=True,
            return_predecessors=True,
            limit=limit,
        )
        seed = np.where(src[:n] >= 0, src[:n] - n, -1).astype(np.int64)
        return dist[:n], seed

    def _point_distance(
        self, node: np.ndarray, edge: np.ndarray, along: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distance from node distances to points on edges (via either end) and its seed.

        `node` holds, per node, the distance and the seed of :meth:`_route` side by side
        (:meth:`_node_table`); the seed comes back as a float (exact).
        """
        ends = self._edge_uv.take(edge, axis=0)
        at_u = node.take(ends[:, 0], axis=0)
        at_v = node.take(ends[:, 1], axis=0)
        du = at_u[:, 0] + along
        dv = at_v[:, 0] + (self.edge_length[edge] - along)
        via_u = du <= dv
        return np.where(via_u, du, dv), np.where(via_u, at_u[:, 1], at_v[:, 1])

    @staticmethod
    def _node_table(dist: np.ndarray, seed: np.ndarray) -> np.ndarray:
        """(distance, seed) of each node side by side: 16-byte rows, which numpy gathers fastest.

        Seeds as floats: exact below 2**53.
        """
        return np.stack([dist, seed.astype(float)], axis=1)

    @cached_property
    def _edge_uv(self) -> np.ndarray:
        return np.stack([self.edge_u, self.edge_v], axis=1)


def metric_crs_for(gdf: gpd.GeoDataFrame, crs: Any = None) -> CRS:
    """Metric CRS of a computation on `gdf`: `crs` if given, else the layer's own if metric.

    A layer already in a CRS projected in metres (and conformal enough: not a Mercator,
    whose scale is 1.5 at the latitude of Soissons) is kept as it is; otherwise
    :func:`cdv_geo.core.crs.choose_metric_crs` decides (EPSG:2154 in metropolitan France).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> metric_crs_for(gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=32631)).to_epsg()
    32631
    >>> metric_crs_for(gpd.GeoDataFrame(geometry=[Point(3.3, 49.4)], crs=4326)).to_epsg()
    2154
    """
    if crs is not None:
        return check_metric_crs(crs)
    own = require_crs(gdf)
    method = own.coordinate_operation.method_name if own.coordinate_operation else ""
    if own.is_projected and ("Mercator" not in method or "Transverse" in method):
        try:
            return check_metric_crs(own)
        except CRSError:
            pass
    return choose_metric_crs(gdf)


def _flat(value: Any) -> Any:
    """Flatten the lists in which osmnx stores merged attributes into text."""
    if isinstance(value, list):
        return ";".join(str(x) for x in value)
    return value


def _adjacency(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> csr_matrix:
    """Symmetric CSR adjacency with the minimum weight over parallel edges."""
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    data = np.concatenate([w, w]).astype(float)
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    rows, cols, data = rows[first], cols[first], data[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if n < 2**31 - 1 else np.int64
    return csr_matrix((data, cols.astype(idx_dtype), indptr.astype(idx_dtype)), shape=(n, n))


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
