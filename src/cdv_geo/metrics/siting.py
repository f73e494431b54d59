r"""Where to build the next water play area: the maximal covering location problem.

Given candidate sites (a layer, or every public green space and school yard), choose the `k`
sites that cover the most demand within a walking time: children at home (their count as
weight), or past incidents (one each). This is the maximal covering location problem (MCLP,
Church & ReVelle 1974):

.. math::

    \max \sum_i w_i y_i \quad \text{s.t.} \quad y_i \le \sum_{j \in N_i} x_j, \quad
    \sum_j x_j = k, \quad x_j \in \{0, 1\}, \quad 0 \le y_i \le 1

with :math:`N_i` the candidates within the walking time of demand point :math:`i`. Demand already
within reach of an existing play area is left out, so the sites chosen cover *new* demand. The
model is solved exactly with PuLP and the HiGHS solver, never with a hand-written heuristic.

Each chosen site is then credited with the demand it newly covers: a point covered by several
chosen sites goes to the nearest one (ties: the first in the candidates' order).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp

from cdv_geo.core.crs import choose_metric_crs, to_metric
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.layers import as_layer, feature_ids
from cdv_geo.metrics.access import nearest_facility

__all__ = ["SiteChoice", "choose_sites", "walking_times"]


@dataclass(frozen=True)
class SiteChoice:
    """What :func:`choose_sites` returns.

    Attributes
    ----------
    sites : pandas.DataFrame
        The chosen candidates, indexed by candidate id, best first: ``name``, ``rank``,
        ``n_demand_covered`` (the weight each newly covers), and ``n_<layer>_covered`` for every
        other demand layer given.
    covered : float
        Total demand newly covered (the objective).
    uncovered : float
        Demand left uncovered by the existing and the chosen sites.
    status : str
        The solver's status (``Optimal``).
    """

    sites: pd.DataFrame
    covered: float
    uncovered: float
    status: str


def walking_times(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    network: Any = None,
    speed_kmh: float = 4.5,
    max_snap_m: float = 200.0,
    crs: Any = None,
) -> np.ndarray:
    """Return the walking time (min) from every demand point to every site, ``(n_demand, n_sites)``.

    One network search per site (NaN: unreachable).
    """
    out = np.full((len(demand), len(sites)), np.nan)
    for j in range(len(sites)):
        t = nearest_facility(
            demand,
            sites.iloc[[j]].assign(kind="site"),
            network=network,
            speed_kmh=speed_kmh,
            max_snap_m=max_snap_m,
            crs=crs,
        )
        out[:, j] = t.filter(like="_time_min").iloc[:, 0].to_numpy(dtype=float)
    return out


def _weights(demand: gpd.GeoDataFrame, weight: str | None) -> np.ndarray:
    if weight is None:
        return np.ones(len(demand))
    if weight not in demand.columns:
        raise CdvGeoError(
            f"demand has no {weight!r} column; pass weight=None to count each point once, or "
            f"one of {[c for c in demand.columns if c != 'geometry']}"
        )
    return np.nan_to_num(pd.to_numeric(demand[weight], errors="coerce").to_numpy(float), nan=0.0)


def choose_sites(
    candidates: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    k: int,
    weight: str | None = "children",
    threshold_min: float = 5.0,
    existing: gpd.GeoDataFrame | None = None,
    network: Any = None,
    also: dict[str, gpd.GeoDataFrame] | None = None,
    speed_kmh: float = 4.5,
    max_snap_m: float = 200.0,
    crs: Any = None,
) -> SiteChoice:
    """Choose the `k` candidate sites that newly cover the most demand within `threshold_min`.

    Parameters
    ----------
    candidates : GeoDataFrame
        Candidate sites (points or polygons), with an ``id`` and optionally a ``name``.
    demand : GeoDataFrame
        Demand points or buildings: homes with a `weight` column (children), or past incidents
        (``weight=None``: one each).
    k : int
        Number of sites to choose (at most the number of candidates).
    weight : str or None, default "children"
        Demand column to maximise; None counts points.
    threshold_min : float, default 5
        Walking time within which a site covers a demand point (inclusive).
    existing : GeoDataFrame, optional
        Existing play areas: demand they already cover is left out.
    network : WalkNetwork, optional
        Walking network (straight lines without it).
    also : dict of str to GeoDataFrame, optional
        Other demand layers to report per chosen site (e.g. ``{"incidents": incidents}``),
        counted one per point.
    speed_kmh, max_snap_m : float
        Walking speed; farthest a point may be from the streets.
    crs : optional
        Metric CRS.

    Returns
    -------
    SiteChoice

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> homes = gpd.GeoDataFrame({"children": [5, 1, 4]},
    ...     geometry=[Point(0, 0), Point(1000, 0), Point(2000, 0)], crs=2154)
    >>> sites = gpd.GeoDataFrame({"id": ["a", "b", "c"]},
    ...     geometry=[Point(0, 100), Point(1000, 100), Point(2000, 100)], crs=2154)
    >>> choose_sites(sites, homes, k=2).sites.index.tolist()
    ['a', 'c']
    """
    candidates = as_layer(candidates, "candidates", geometry=["point", "polygon"])
    demand = as_layer(demand, "demand", geometry=["point", "polygon"])
    if not 1 <= k <= len(candidates):
        raise CdvGeoError(f"k={k}: choose between 1 and {len(candidates)} sites (the candidates)")
    metric = choose_metric_crs(demand, crs)
    candidates, demand = to_metric(candidates, metric), to_metric(demand, metric)
    opts = {"network": network, "speed_kmh": speed_kmh, "max_snap_m": max_snap_m, "crs": metric}
    w = _weights(demand, weight)
    if existing is not None and len(existing):
        near = walking_times(demand, as_layer(existing, "existing"), **opts)
        w = np.where((np.nan_to_num(near, nan=np.inf) <= threshold_min).any(axis=1), 0.0, w)
    times = walking_times(demand, candidates, **opts)
    cover = np.nan_to_num(times, nan=np.inf) <= threshold_min
    chosen, status = _solve(cover, w, k)
    ids = feature_ids(candidates)
    sites = pd.DataFrame(
        {
            "name": (
                candidates["name"] if "name" in candidates.columns else pd.Series(ids)
            ).to_numpy()[chosen],
            "n_demand_covered": _credit(times, cover, w, chosen),
        },
        index=pd.Index(ids[chosen], name="candidate"),
    )
    for label, layer in (also or {}).items():
        extra = to_metric(as_layer(layer, label), metric)
        t = walking_times(extra, candidates.iloc[chosen], **opts)
        c = np.nan_to_num(t, nan=np.inf) <= threshold_min
        sites[f"n_{label}_covered"] = _credit(t, c, np.ones(len(extra)), np.arange(len(chosen)))
    sites = sites.sort_values("n_demand_covered", ascending=False, kind="stable")
    sites.insert(1, "rank", np.arange(1, len(sites) + 1))
    covered = float(w[cover[:, chosen].any(axis=1)].sum())
    return SiteChoice(sites, covered, float(w.sum() - covered), status)


def _solve(cover: np.ndarray, w: np.ndarray, k: int) -> tuple[np.ndarray, str]:
    """Solve the MCLP with HiGHS; return the chosen columns (in candidate order) and the status."""
    n_sites = cover.shape[1]
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [prob.add_variable(f"x{j}", cat="Binary") for j in range(n_sites)]
    useful = np.flatnonzero((w > 0) & cover.any(axis=1))
    y = {i: prob.add_variable(f"y{i}", lowBound=0, upBound=1) for i in useful}
    prob += pulp.lpSum(float(w[i]) * y[i] for i in useful)
    for i in useful:
        prob += y[i] <= pulp.lpSum(x[j] for j in np.flatnonzero(cover[i]))
    prob += pulp.lpSum(x) == k
    with _native_stdout_silenced():  # HiGHS prints its banner from C, whatever msg says
        prob.solve(pulp.HiGHS(msg=False))
    status = pulp.LpStatus[prob.status]
    if status != "Optimal":
        raise CdvGeoError(f"the site-choice model was not solved ({status})")
    chosen = np.array([j for j in range(n_sites) if (x[j].value() or 0) > 0.5], dtype=int)
    return chosen, status


@contextlib.contextmanager
def _native_stdout_silenced() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null for the block (C libraries write there directly)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # pragma: no cover - no stdout at all
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _credit(times: np.ndarray, cover: np.ndarray, w: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Credit each covered demand point's weight to its nearest chosen site."""
    t = np.where(cover[:, chosen], times[:, chosen], np.inf)
    best = np.argmin(t, axis=1)
    ok = np.isfinite(t[np.arange(len(t)), best])
    return np.bincount(best[ok], weights=w[ok], minlength=len(chosen))
