"""Snapping points to the nearest point of the nearest street: the segment grid.

The snapping index, built with the network, is a two-level uniform grid: fine cells of about
9 m list the segments that can be nearest to a point of the cell (pruned with the bound of the
cell's half-diagonal), the two nearest to the cell's centre first, with lower bounds of the
distance to the others (from the segments' supporting half-planes) that settle most points
after one or two distance computations. The index is built with numpy; the query is compiled
with numba and releases the GIL, so that it runs while another thread routes (without numba,
:mod:`cdv_geo.core.jit`, it runs on numpy with the same answers). Points farther
than the grid's margin (40 m) from every segment fall back on a :class:`shapely.STRtree`
nearest query, so the answer is always exact; ties go to the first edge. The index takes
~1.4 KiB per street (158 MiB for 112,000 streets): one 64-byte row per fine cell and per
segment, so that a query reads one memory line for each.
"""

from __future__ import annotations

import itertools
import threading
from functools import cached_property
from typing import Any

import numpy as np
import shapely

from cdv_geo.core import jit

__all__ = ["GRID_MARGIN_M", "SegmentGrid", "SharedQuery"]

#: Points farther than this from every segment take the exact STRtree fallback, in metres.
GRID_MARGIN_M = 40.0

#: Target side of the fine cells of the snapping grid, in metres.
_FINE_CELL_M = 9.0
# Slack (metres) added to every geometric bound so that rounding never prunes a true candidate.
_SLACK_M = 1e-3
# Registrations handled at once when building the grid (bounds the temporary memory).
_CHUNK = 1 << 20


def _aligned_empty(shape: tuple[int, int], dtype: type) -> np.ndarray:
    """Return an uninitialised array whose rows start on 64-byte boundaries (cache lines).

    Rows of 64 bytes (or a multiple) then never straddle two lines: a random read of a row
    costs one memory access.
    """
    itemsize = np.dtype(dtype).itemsize
    size = shape[0] * shape[1]
    raw: np.ndarray = np.empty(size + 64 // itemsize, dtype=dtype)
    skip = (-raw.ctypes.data % 64) // itemsize
    return raw[skip : skip + size].reshape(shape)


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


def _first_hits(values: np.ndarray, mins: np.ndarray, run_id: np.ndarray) -> np.ndarray:
    """Position of the first entry of each run equal to its run's (finite) minimum."""
    hit = np.flatnonzero((values == mins[run_id]) & np.isfinite(values))
    return hit[np.r_[True, run_id[hit[1:]] != run_id[hit[:-1]]]] if len(hit) else hit


def _bilinear(corner: list[np.ndarray], starts: np.ndarray, ftype: type) -> np.ndarray:
    """Coefficients (a, b, c, d) from the minimum of each run at the four corners."""
    f00, f10, f01, f11 = (np.minimum.reduceat(v, starts) for v in corner)
    out = np.zeros((len(starts), 4))
    out[:, 0] = np.inf
    ok = np.isfinite(f00)
    # made smaller by more than the rounding of the coefficients to float32
    f00, f10, f01, f11 = (v[ok] - 1e-6 * np.abs(v[ok]) - _SLACK_M for v in (f00, f10, f01, f11))
    out[ok] = np.stack([f00, f10 - f00, f01 - f00, f11 - f10 - f01 + f00], axis=1)
    return out.astype(ftype)


class SegmentGrid:
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
        m = GRID_MARGIN_M
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
        # the queries read the segments' rows (seg_rows): the columns served the build only
        del self.ax, self.ay, self.dx, self.dy, self.len2, self.seg_off, self.seg_edge

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

        Each fine cell records (a row of ``cells``, 64 bytes: one memory access) its two
        candidates nearest to its centre (-1: none), where its other candidates start in
        ``rest_seg`` and how many they are, a lower bound of the distance to its candidates
        but the first one as a function of the position in the cell: the coefficients of
        ``a + b wx + c wy + d wx wy``, (wx, wy) in [0, 1)^2, as the bits of floats of the same
        size, and the same bound of the distance to its candidates but the first two.

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
        rec = _aligned_empty((nf, 16), itype)
        rec[:, :4] = 0
        rec[:, :2] = -1
        rec[:, 4:8] = none.view(itype)
        rec[:, 8:12] = none.view(itype)
        rec[:, 12:] = 0
        rest_seg: list[np.ndarray] = []
        offset = 0
        span = gf * np.sqrt(2.0) + _SLACK_M
        half = gf / 2

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
                    p1 = _first_hits(d2, mn, kr)
                    rec[fid, 0] = ks[p1]
                    d2[p1] = np.inf
                    # the linear bounds d + (p - c).n at the corners (p - c) = (+-h, +-h); a
                    # centre on the segment gives the constant bound 0, a removed one +inf
                    d = np.sqrt(d2)
                    w = np.divide(half, d, out=np.zeros_like(d), where=d > 0)
                    hx, hy = -ex * w, -ey * w  # h n
                    corner = [d - hx - hy, d + hx - hy, d - hx + hy, d + hx + hy]
                    rec[fid, 4:8] = _bilinear(corner, kst, ftype).view(itype)
                    p2 = _first_hits(d2, np.minimum.reduceat(d2, kst), kr)
                    rec[fid[kr[p2]], 1] = ks[p2]
                    d2[p2] = np.inf
                    for v in corner:
                        v[p2] = np.inf
                    rec[fid, 8:12] = _bilinear(corner, kst, ftype).view(itype)
                    rest = np.flatnonzero(np.isfinite(d2))
                    rest_seg.append(ks[rest].astype(itype))
                    n = np.bincount(kr[rest], minlength=len(ne))
                    rec[fid, 2] = offset + np.cumsum(n) - n
                    rec[fid, 3] = n
                    offset += len(rest)
        self.cells = rec
        self.ftype = ftype
        self.rest_seg = np.concatenate(rest_seg)
        # what the query needs of a segment, in one 64-byte row: its start, direction and
        # squared length, its offset in its edge, the edge (as a float: exact below 2**53)
        # and the edge's length
        rows = _aligned_empty((len(self.ax), 8), np.float64)
        edge_len = np.asarray(shapely.length(self.geoms), dtype=float)[self.seg_edge]
        columns = (self.ax, self.ay, self.dx, self.dy, self.len2, self.seg_off, self.seg_edge)
        for j, col in enumerate((*columns, edge_len)):
            rows[:, j] = col
        self.seg_rows = rows

    @property
    def nbytes(self) -> int:
        """Memory held by the index's arrays, in bytes (the STRtree fallback excluded)."""
        return sum(a.nbytes for a in vars(self).values() if isinstance(a, np.ndarray))

    @cached_property
    def strtree(self) -> shapely.STRtree:
        """R-tree of the edges, for the points beyond the grid's margin."""
        return shapely.STRtree(self.geoms)

    def nearest(
        self, xy: np.ndarray, max_distance: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (edge, along, distance) of points (edge -1 and NaN: unreachable).

        ``along`` is within [0, edge length]. Points with a missing coordinate (NaN) and points
        farther than `max_distance` from every segment are unreachable. The query runs in
        compiled code that releases the GIL (:class:`SharedQuery`: one thread here); points
        beyond the grid's margin then take the exact STRtree query.
        """
        query = SharedQuery(self, xy, max_distance)
        query.forward()
        return query.result()


class SharedQuery:
    """One nearest-segment query of :class:`SegmentGrid` that two threads can share.

    :meth:`forward` answers the points block by block from the first, :meth:`backward` from
    the last, each in compiled code that releases the GIL, and each stops where the other has
    been. Whatever the timing, every point is answered: a block both passes take is answered
    twice, the same way. :meth:`result` finishes the query (the exact query beyond the grid's
    margin) once both passes have returned.

    Examples
    --------
    >>> import shapely
    >>> grid = SegmentGrid(np.array([shapely.LineString([(0, 0), (100, 0)])]))
    >>> q = SharedQuery(grid, np.array([[30.0, 4.0], [70.0, -2.0]]), 200.0)
    >>> q.forward(); q.backward()
    >>> [a.tolist() for a in q.result()]
    [[0, 0], [30.0, 70.0], [4.0, 2.0]]
    """

    def __init__(self, grid: SegmentGrid, xy: np.ndarray, max_distance: float) -> None:
        self.grid = grid
        self.xy = np.asarray(xy, dtype=float)
        self.max_distance = float(max_distance)
        n = len(self.xy)
        self.edge = np.empty(n, dtype=np.int64)
        self.along = np.empty(n)
        self.dist = np.empty(n)
        # the forward pass's next block, the backward pass's last one
        self.progress = np.array([0, -(-n // _BLOCK)], dtype=np.int64)

    def forward(self, started: threading.Event | None = None) -> None:
        """Answer the points from the first, after setting `started` (when given)."""
        if started is not None:
            started.set()
        self._run(True)

    def backward(self) -> None:
        """Answer the points from the last, until the forward pass's."""
        self._run(False)

    def _run(self, forward: bool) -> None:
        g = self.grid
        _query(
            self.xy, g.x0, g.y0, g.gf, g.nx * g.k, g.ny * g.k, g.cells,
            g.cells[:, 4:12].view(g.ftype), g.rest_seg, g.seg_rows, self.edge, self.along,
            self.dist, self.progress, forward,
        )  # fmt: skip

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (edge, along, distance), as :meth:`SegmentGrid.nearest` does."""
        # exact within the margin used to register segments; NaN: a missing coordinate
        if (self.dist <= min(self.grid.margin, self.max_distance)).all():
            return self.edge, self.along, self.dist  # (the usual case)
        return self._fallback()

    def _fallback(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Finish the query (updates the arrays in place and returns them).

        Points farther than the margin (``inf``: no candidate at all) take the exact
        :class:`shapely.STRtree` query; those beyond the largest distance become unreachable.
        """
        g, xy, max_distance = self.grid, self.xy, self.max_distance
        edge, along, dist = self.edge, self.along, self.dist
        beyond = np.flatnonzero(dist > g.margin)
        if len(beyond):
            edge[beyond] = -1
            along[beyond] = np.nan
            dist[beyond] = np.nan
            if max_distance > 0:  # (beyond the margin, nothing is within 0 m)
                pts_geom = np.asarray(shapely.points(xy[beyond]), dtype=object)
                idx, dd = g.strtree.query_nearest(
                    pts_geom, max_distance=max_distance, return_distance=True, all_matches=False
                )
                r_ = beyond[idx[0]]
                edge[r_] = idx[1]
                dist[r_] = dd
                lines = g.geoms[idx[1]]
                along[r_] = np.clip(
                    shapely.line_locate_point(lines, pts_geom[idx[0]]), 0.0, shapely.length(lines)
                )
        far = dist > max_distance
        if far.any():
            edge[far] = -1
            along[far] = np.nan
            dist[far] = np.nan
        return edge, along, dist


@jit.helper
def _segment_d2(rows: np.ndarray, s: int | np.integer, x: float, y: float) -> tuple[float, float]:
    """Squared distance from (x, y) to segment `s` (row `s` of `rows`), and the position on it.

    t = ((x - ax) dx + (y - ay) dy) / len2 clipped to [0, 1], then
    d2 = (ax + t dx - x)² + (ay + t dy - y)²: every segment's distance by the same arithmetic,
    so that equal distances compare equal and ties go to the smaller segment position.
    """
    ax = rows[s, 0]
    ay = rows[s, 1]
    dx = rows[s, 2]
    dy = rows[s, 3]
    t = ((x - ax) * dx + (y - ay) * dy) / rows[s, 4]
    t = min(max(t, 0.0), 1.0)
    ex = ax + t * dx - x
    ey = ay + t * dy - y
    return ex * ex + ey * ey, t


#: Points handled together by :func:`_query`: their cells, then their first candidates' rows,
#: are read in loops of independent reads, which the processor overlaps.
_BLOCK = 128


def _query_numpy(
    xy: np.ndarray, x0: float, y0: float, gf: float, nfx: int, nfy: int, cells: np.ndarray,
    bounds: np.ndarray, rest_seg: np.ndarray, rows: np.ndarray, edge: np.ndarray,
    along: np.ndarray, dist: np.ndarray, progress: np.ndarray, forward: bool,
) -> None:  # fmt: skip
    """:func:`_query` without numba: its arithmetic on arrays of points, the same answers.

    A pass takes every block the other has not. A point's segment is the least (d², position)
    of the candidates :func:`_query` compares: the minimum its sequential rule keeps.
    """
    n_blocks = (xy.shape[0] + _BLOCK - 1) // _BLOCK
    first, last = (0, int(progress[1])) if forward else (int(progress[0]), n_blocks)
    progress[0 if forward else 1] = last if forward else first
    for p0 in range(first * _BLOCK, min(last * _BLOCK, xy.shape[0]), 512 * _BLOCK):
        p = np.arange(p0, min(p0 + 512 * _BLOCK, last * _BLOCK, xy.shape[0]))
        x, y = xy[p, 0], xy[p, 1]
        fin = np.isfinite(x) & np.isfinite(y)
        edge[p], along[p], dist[p] = -1, np.nan, np.where(fin, np.inf, np.nan)
        ok = np.flatnonzero(fin)
        qx, qy = (x[ok] - x0) / gf, (y[ok] - y0) / gf
        fi = np.minimum(np.maximum(np.floor(qx), 0.0), nfx - 1.0)
        fj = np.minimum(np.maximum(np.floor(qy), 0.0), nfy - 1.0)
        cell = fi.astype(np.int64) * nfy + fj.astype(np.int64)
        h = np.flatnonzero(cells[cell, 0] >= 0)  # (the others have no candidate)
        p, x, y, cell = p[ok[h]], x[ok[h]], y[ok[h]], cell[h]
        wx, wy, b = qx[h] - fi[h], qy[h] - fj[h], bounds[cell]
        best = cells[cell, 0].astype(np.int64)
        d2, t = _segment_d2_numpy(rows, best, x, y)
        bound = b[:, 1] * wx + b[:, 0] + b[:, 2] * wy + wx * wy * b[:, 3]
        i2 = np.flatnonzero(np.sqrt(d2) >= bound)
        s = cells[cell[i2], 1].astype(np.int64)
        _keep_smaller(i2, s, _segment_d2_numpy(rows, s, x[i2], y[i2]), (best, d2, t))
        b, wx, wy = b[i2], wx[i2], wy[i2]  # (the bound of the rest, in _query's order)
        i3 = i2[np.sqrt(d2[i2]) >= b[:, 4] + b[:, 5] * wx + b[:, 6] * wy + b[:, 7] * (wx * wy)]
        i3 = i3[cells[cell[i3], 3] > 0]
        start, count = cells[cell[i3], 2].astype(np.int64), cells[cell[i3], 3].astype(np.int64)
        group, head = np.repeat(np.arange(len(i3)), count), np.cumsum(count) - count
        s = rest_seg[np.repeat(start - head, count) + np.arange(len(group))].astype(np.int64)
        d2s, ts = _segment_d2_numpy(rows, s, x[i3[group]], y[i3[group]])
        if len(i3):  # each point's least (d², s) among its rest: least d², then least s
            low = d2s == np.minimum.reduceat(d2s, head)[group]
            s_low = np.minimum.reduceat(np.where(low, s, len(rows)), head)
            pick = np.flatnonzero(low & (s == s_low[group]))
            pick = pick[np.unique(group[pick], return_index=True)[1]]  # (one per point)
            _keep_smaller(i3, s[pick], (d2s[pick], ts[pick]), (best, d2, t))
        row = rows[best]
        along[p] = np.minimum(np.maximum(t * np.sqrt(row[:, 4]) + row[:, 5], 0.0), row[:, 7])
        edge[p] = row[:, 6].astype(np.int64)
        dist[p] = np.sqrt(d2)


def _segment_d2_numpy(rows: np.ndarray, s: np.ndarray, x: np.ndarray, y: np.ndarray) -> Any:
    """:func:`_segment_d2` of points to segments, pair by pair (same arithmetic)."""
    ax, ay, dx, dy = rows[s, 0], rows[s, 1], rows[s, 2], rows[s, 3]
    t = np.minimum(np.maximum(((x - ax) * dx + (y - ay) * dy) / rows[s, 4], 0.0), 1.0)
    ex, ey = ax + t * dx - x, ay + t * dy - y
    return ex * ex + ey * ey, t


def _keep_smaller(i: np.ndarray, s: np.ndarray, new: Any, kept: Any) -> None:
    """Points `i` take `s` (`new`: d², t) if nearer than `kept` (segment, d², t), or as near."""
    (d2s, ts), (best, d2, t) = new, kept
    better = (d2s < d2[i]) | ((d2s == d2[i]) & (s < best[i]))
    j = i[better]
    best[j], d2[j], t[j] = s[better], d2s[better], ts[better]


@jit.kernel(numpy=_query_numpy)
def _query(
    xy: np.ndarray, x0: float, y0: float, gf: float, nfx: int, nfy: int, cells: np.ndarray,
    bounds: np.ndarray, rest_seg: np.ndarray, rows: np.ndarray, edge: np.ndarray,
    along: np.ndarray, dist: np.ndarray, progress: np.ndarray, forward: bool,
) -> None:  # pragma: no cover - compiled (numba does not report its lines to coverage)  # fmt: skip
    """Nearest segment of each point on the fine grid (see :class:`SegmentGrid`).

    For a point of fine cell ``c``, at (wx, wy) in [0, 1)² inside it: the distance to the
    cell's first candidate, then the second one when that distance reaches the bound
    ``a + b wx + c wy + d wx wy`` of the others (``bounds[c, :4]``), then the rest when it
    reaches theirs (``bounds[c, 4:]``). Writes `edge`, `along` and `dist`; a point without a
    candidate (beyond the grid's margin) gets ``dist = inf``, a point with a NaN coordinate
    edge -1 and NaN.

    The points go by blocks of :data:`_BLOCK`, from the first block (`forward`) or from the
    last; ``progress`` holds the next block of the forward pass and the last block the
    backward pass took, and each pass stops at the other's (see :class:`SharedQuery`).
    """
    n = xy.shape[0]
    b_cell = np.empty(_BLOCK, dtype=np.int64)
    b_first = np.empty(_BLOCK, dtype=np.int64)
    b_w = np.empty((_BLOCK, 2))
    b_row = np.empty((_BLOCK, rows.shape[1]))
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    block = 0 if forward else n_blocks - 1
    while 0 <= block < n_blocks:
        if forward:
            if block >= progress[1]:  # (the backward pass has taken it)
                break
            progress[0] = block + 1
        else:
            if block < progress[0]:  # (the forward pass has taken it)
                break
            progress[1] = block
        p0 = block * _BLOCK
        block += 1 if forward else -1
        m = min(_BLOCK, n - p0)
        for i in range(m):
            x = xy[p0 + i, 0]
            y = xy[p0 + i, 1]
            b_cell[i] = -1
            if np.isfinite(x) and np.isfinite(y):
                qx = (x - x0) / gf
                qy = (y - y0) / gf
                fi = min(max(np.floor(qx), 0.0), nfx - 1.0)
                fj = min(max(np.floor(qy), 0.0), nfy - 1.0)
                b_cell[i] = np.int64(fi) * nfy + np.int64(fj)
                b_w[i, 0] = qx - fi
                b_w[i, 1] = qy - fj
        for i in range(m):
            b_first[i] = cells[b_cell[i], 0] if b_cell[i] >= 0 else -1
        for i in range(m):
            if b_first[i] >= 0:
                b_row[i] = rows[b_first[i]]
        for i in range(m):
            p = p0 + i
            cell = b_cell[i]
            best = b_first[i]
            if cell < 0 or best < 0:
                edge[p] = -1
                along[p] = np.nan
                dist[p] = np.nan if cell < 0 else np.inf
                continue
            x = xy[p, 0]
            y = xy[p, 1]
            d2, t = _segment_d2(b_row, i, x, y)
            wx = b_w[i, 0]
            wy = b_w[i, 1]
            b = bounds[cell]
            if np.sqrt(d2) >= b[1] * wx + b[0] + b[2] * wy + wx * wy * b[3]:
                s = np.int64(cells[cell, 1])
                d2s, ts = _segment_d2(rows, s, x, y)
                if d2s < d2 or (d2s == d2 and s < best):
                    best, d2, t = s, d2s, ts
                if np.sqrt(d2) >= b[4] + b[5] * wx + b[6] * wy + b[7] * (wx * wy):
                    start = np.int64(cells[cell, 2])
                    for q in range(start, start + np.int64(cells[cell, 3])):
                        s = np.int64(rest_seg[q])
                        d2s, ts = _segment_d2(rows, s, x, y)
                        if d2s < d2 or (d2s == d2 and s < best):
                            best, d2, t = s, d2s, ts
            row = b_row[i] if best == b_first[i] else rows[best]
            # the segment's offset in its edge + t * its length, within the edge
            along[p] = min(max(t * np.sqrt(row[4]) + row[5], 0.0), row[7])
            edge[p] = np.int64(row[6])
            dist[p] = np.sqrt(d2)
