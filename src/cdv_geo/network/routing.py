"""Routing on the walking network: the adjacency matrix and multi-source Dijkstra from points.

A point on the network is an edge, a distance along it from the edge's ``u`` end, and an
offset already walked to get there (the snap distance of a facility). :func:`route` turns the
points into virtual nodes linked to both ends of their edge and runs one
:func:`scipy.sparse.csgraph.dijkstra` call with ``min_only=True``: every node gets its distance
to the nearest point, and which point it is. :func:`reach` is compiled with numba (see
:mod:`cdv_geo.core.jit`), or runs on numpy with the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from cdv_geo.core import jit

__all__ = ["Routes", "adjacency", "nearest_end", "reach", "route"]


@dataclass
class Routes:
    """Distances from every node to the nearest of several starting points (the *seeds*).

    Attributes
    ----------
    dist : numpy.ndarray
        Per node, the walking distance to the nearest seed, in metres (``inf`` when unreached
        or beyond the search limit).
    seed : numpy.ndarray
        Per node, the position of that seed among the seeds (-1 when unreached).

    Examples
    --------
    >>> import numpy as np
    >>> r = Routes(np.array([0.0, np.inf]), np.array([0, -1]))
    >>> r.table.tolist()
    [[0.0, 0.0], [inf, -1.0]]
    """

    dist: np.ndarray
    seed: np.ndarray

    @cached_property
    def table(self) -> np.ndarray:
        """(distance, seed) of each node side by side, as floats (seeds exact below 2**53).

        16-byte rows: numpy gathers the two values of a node in one memory access, which is
        what :meth:`cdv_geo.network.WalkNetwork.reach` does for every origin.
        """
        return np.stack([self.dist, self.seed.astype(float)], axis=1)


def adjacency(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> csr_matrix:
    """Return the symmetric CSR adjacency matrix (n × n), the smallest weight of parallel edges.

    Examples
    --------
    >>> import numpy as np
    >>> m = adjacency(3, np.array([0, 0, 1]), np.array([1, 1, 2]), np.array([5.0, 3.0, 2.0]))
    >>> m.toarray().tolist()
    [[0.0, 3.0, 0.0], [3.0, 0.0, 2.0], [0.0, 2.0, 0.0]]
    """
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


def route(
    csr: csr_matrix,
    seed_u: np.ndarray,
    seed_v: np.ndarray,
    to_u: np.ndarray,
    to_v: np.ndarray,
    *,
    limit: float = np.inf,
) -> Routes:
    """Run one multi-source Dijkstra from virtual nodes linked to the nodes of the network.

    Seed ``i`` is a virtual node linked to node ``seed_u[i]`` by ``to_u[i]`` metres and to
    node ``seed_v[i]`` by ``to_v[i]`` metres (one-way, from the seed).

    Parameters
    ----------
    csr : scipy.sparse.csr_matrix
        The network's adjacency (:func:`adjacency`).
    seed_u, seed_v : array of int
        The two nodes each seed is linked to.
    to_u, to_v : array of float
        The walking distances from the seed to them.
    limit : float, default inf
        Search no farther, in metres.

    Returns
    -------
    Routes

    Examples
    --------
    >>> import numpy as np
    >>> csr = adjacency(3, np.array([0, 1]), np.array([1, 2]), np.array([100.0, 50.0]))
    >>> r = route(csr, np.array([0]), np.array([1]), np.array([30.0]), np.array([70.0]))
    >>> r.dist.tolist(), r.seed.tolist()
    ([30.0, 70.0, 120.0], [0, 0, 0])
    """
    n = csr.shape[0]
    k = len(seed_u)
    if k == 0:
        return Routes(np.full(n, np.inf), np.full(n, -1, dtype=np.int64))
    itype = csr.indices.dtype  # (kept: another index type would copy the whole matrix)
    tail = csr.indptr[-1] + 2 * np.arange(1, k + 1, dtype=itype)
    indptr = np.concatenate([csr.indptr, tail.astype(csr.indptr.dtype)])
    indices = np.concatenate(
        [csr.indices, np.stack([seed_u, seed_v], axis=1).ravel().astype(itype)]
    )
    data = np.concatenate([csr.data, np.stack([to_u, to_v], axis=1).ravel()])
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
    return Routes(dist[:n], seed)


def reach(
    routes: Routes,
    edge_uv: np.ndarray,
    edge_length: np.ndarray,
    edge: np.ndarray,
    along: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the distance from points on edges to the nearest seed of `routes`, and that seed.

    A point at `along` on edge ``e`` (from ``u = edge_uv[e, 0]`` to ``v = edge_uv[e, 1]``)
    leaves by the nearer end: ``du = dist[u] + along``, ``dv = dist[v] + (length - along)``,
    by ``u`` when ``du <= dv``. The seed comes as a float (exact; -1 when none); a NaN
    `along` gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> r = Routes(np.array([0.0, 100.0]), np.array([0, 0]))
    >>> d, s = reach(r, np.array([[0, 1]]), np.array([100.0]), np.array([0]), np.array([30.0]))
    >>> d.tolist(), s.tolist()
    ([30.0], [0.0])
    """
    e = np.asarray(edge, dtype=np.int64)
    a = np.asarray(along, dtype=float)
    dist = np.empty(len(e))
    seed = np.empty(len(e))
    _reach(routes.table, edge_uv, edge_length, e, a, dist, seed)
    return dist, seed


@jit.helper
def nearest_end(
    table: np.ndarray, edge_uv: np.ndarray, edge_length: np.ndarray, e: int, along: float
) -> tuple[float, float]:
    """Leave edge `e` at `along` by its nearer end: the distance to the nearest seed, the seed.

    ``(dist[u] + along, seed[u])`` when it is at most ``dist[v] + (length - along)``, else
    ``(dist[v] + (length - along), seed[v])``, from a :attr:`Routes.table` (the seed as a
    float, -1 when none). Compiled (plain Python without numba): callable from Python and
    from other compiled code (the one rule of :func:`reach` and of
    :mod:`cdv_geo.metrics.nearest`).

    Examples
    --------
    >>> import numpy as np
    >>> table = Routes(np.array([0.0, 100.0]), np.array([0, 0])).table
    >>> nearest_end(table, np.array([[0, 1]]), np.array([100.0]), 0, 30.0)
    (30.0, 0.0)
    """
    u = edge_uv[e, 0]
    v = edge_uv[e, 1]
    du = table[u, 0] + along
    dv = table[v, 0] + (edge_length[e] - along)
    if du <= dv:
        return du, table[u, 1]
    return dv, table[v, 1]


def _reach_numpy(
    table: np.ndarray,
    edge_uv: np.ndarray,
    edge_length: np.ndarray,
    edge: np.ndarray,
    along: np.ndarray,
    dist: np.ndarray,
    seed: np.ndarray,
) -> None:
    """:func:`_reach` without numba: :func:`nearest_end`'s rule on whole arrays (same answers)."""
    u = edge_uv[edge, 0]
    v = edge_uv[edge, 1]
    du = table[u, 0] + along
    dv = table[v, 0] + (edge_length[edge] - along)
    by_u = du <= dv  # (False for a NaN: left by v, as nearest_end does)
    dist[:] = np.where(by_u, du, dv)
    seed[:] = np.where(by_u, table[u, 1], table[v, 1])


@jit.kernel(numpy=_reach_numpy)
def _reach(
    table: np.ndarray,
    edge_uv: np.ndarray,
    edge_length: np.ndarray,
    edge: np.ndarray,
    along: np.ndarray,
    dist: np.ndarray,
    seed: np.ndarray,
) -> None:  # pragma: no cover - compiled (numba does not report its lines to coverage)
    """:func:`reach` point by point (compiled; releases the GIL)."""
    for i in range(edge.shape[0]):
        dist[i], seed[i] = nearest_end(table, edge_uv, edge_length, edge[i], along[i])
