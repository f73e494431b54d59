"""Snapping points to the nearest point of the nearest street: the segment grid.

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

import itertools
from functools import cached_property

import numpy as np
import shapely

__all__ = ["GRID_MARGIN_M", "SegmentGrid"]

#: Points farther than this from every segment take the exact STRtree fallback, in metres.
GRID_MARGIN_M = 40.0

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
                    rec[fid, 4:] = _bilinear(corner, kst, ftype).view(itype)
                    p2 = _first_hits(d2, np.minimum.reduceat(d2, kst), kr)
                    rec[fid[kr[p2]], 1] = ks[p2]
                    d2[p2] = np.inf
                    for v in corner:
                        v[p2] = np.inf
                    bound_rest[fid] = _bilinear(corner, kst, ftype)
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
        return self._fallback(xy, pts, ed, al, bdist, max_distance)

    def _fallback(
        self,
        xy: np.ndarray,
        pts: np.ndarray,
        ed: np.ndarray,
        al: np.ndarray,
        bdist: np.ndarray,
        max_distance: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Finish :meth:`nearest`: points beyond the margin take the exact STRtree query.

        `pts` are the positions (in `xy`) of the points the grid answered with `ed`, `al`
        and `bdist`; the others, and those farther than the margin, are queried again.
        """
        n = len(xy)
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
