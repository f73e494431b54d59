"""The commercial catchment: the Huff model and retail density.

Whether a quartier's shops draw its residents or lose them to the centre-ville and the
supermarkets around. :func:`huff` gives the probability that a home's residents shop at each
commercial centre, from the centres' attractiveness (sales area, number of outlets) and the
walking time (:func:`cdv_geo.metrics.catchment_times.travel_times`), then each centre's catchment
population and the share of each quartier's residents retained by the centres of the
quartier. :func:`retail_density` counts shops (or their area) per 1,000 inhabitants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from cdv_geo.core.assign import assign_quartier, in_communes
from cdv_geo.core.layers import as_layer
from cdv_geo.core.tables import is_comparison_row, quartier_table, rows_of
from cdv_geo.metrics.catchment import layer_values
from cdv_geo.metrics.catchment_times import TravelTimes, given_times, travel_times
from cdv_geo.metrics.population import population_source_of
from cdv_geo.metrics.walking import check_positive, to_crs
from cdv_geo.network import WalkNetwork

__all__ = ["Huff", "huff", "huff_probabilities", "retail_density"]

_HINT = "add it, or name another column"


def huff_probabilities(
    attractiveness: np.ndarray,
    home: np.ndarray,
    centre: np.ndarray,
    time_min: np.ndarray,
    n_homes: int,
    *,
    alpha: float = 1.0,
    beta: float = 2.0,
    min_time_min: float = 1.0,
) -> csr_matrix:
    """Return the homes × centres matrix of Huff probabilities on the (home, centre) pairs.

    P_ij = (A_j^α / T_ij^β) / Σ_k (A_k^α / T_ik^β), the sum over the centres k the home
    reaches; T is floored at `min_time_min` (a home at the centre's door). A home that reaches
    no centre (or only centres of attractiveness 0) has a row of zeros.

    Examples
    --------
    >>> import numpy as np
    >>> p = huff_probabilities(np.array([100.0, 400.0]), np.array([0, 0]), np.array([0, 1]),
    ...                        np.array([2.0, 4.0]), 1)
    >>> p.toarray().round(3).tolist()  # 100/4 = 25 against 400/16 = 25
    [[0.5, 0.5]]
    """
    t = np.maximum(np.asarray(time_min, dtype=float), min_time_min)
    u = np.asarray(attractiveness, dtype=float)[centre] ** alpha / t**beta
    util = csr_matrix((u, (home, centre)), shape=(n_homes, len(attractiveness)))
    util.sum_duplicates()
    total = np.asarray(util.sum(axis=1)).ravel()
    # (a division, not a product by 1 / total: a single centre gets exactly 1)
    row_total = np.repeat(total, np.diff(util.indptr))
    util.data = np.divide(util.data, row_total, out=np.zeros_like(util.data), where=row_total > 0)
    return util


@dataclass
class Huff:
    """The result of :func:`huff`.

    Attributes
    ----------
    table : pandas.DataFrame
        Per quartier and comparison row (index ``quartier``): ``name``, ``retained_share``
        (expected share of the row's residents shopping at the centres located in the row),
        ``no_centre_share`` (residents with no centre within reach), ``n_residents``,
        ``n_centres`` (centres in the row), ``population_source``, ``reason`` when missing.
    centres : pandas.DataFrame
        Per centre (index ``id``): ``attractiveness``, ``quartier`` (the one holding it, or
        None), ``catchment_population`` (Σ_i P_i p_ij: the residents it draws, in expectation)
        and ``n_homes_main`` (homes for which it is the most probable centre).
    homes : pandas.DataFrame
        Per home (index ``id``): ``main_centre`` (the most probable centre's id, NaN when none
        in reach) and ``main_probability``: what a map of the catchments draws.
    probabilities : pandas.DataFrame
        The non-zero probabilities, long: ``home``, ``centre``, ``probability``.
    """

    table: pd.DataFrame
    centres: pd.DataFrame
    homes: pd.DataFrame
    probabilities: pd.DataFrame


def huff(
    homes: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None = None,
    attractiveness: str | None = "surface",
    alpha: float = 1.0,
    beta: float = 2.0,
    max_time_min: float = 30.0,
    min_time_min: float = 1.0,
    population: str = "population",
    speed_kmh: float = 4.5,
    max_snap_m: float = 200.0,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
    times: TravelTimes | None = None,
) -> Huff:
    """Apply the Huff model: where each home's residents shop, and what each centre retains.

    P_ij = (A_j^α / T_ij^β) / Σ_k (A_k^α / T_ik^β) (Huff 1963): the probability that the
    residents of home i shop at centre j, with A_j the centre's attractiveness and T_ij the
    walking time, over the centres within `max_time_min`. A centre's catchment population is
    Σ_i P_i p_ij; a row's ``retained_share`` is Σ_{i∈row} P_i Σ_{j∈row} p_ij / Σ_{i∈row} P_i,
    the centres "in the row" being those the quartier rule places in it (a centre's point in
    the quartier; ``commune`` the centres in the commune, ``hors_qpv`` those outside every
    quartier).

    Parameters
    ----------
    homes, centres, quartiers : geopandas.GeoDataFrame
        Residences (with `population`), commercial centres (points or polygons: a shopping
        parade, a supermarket), quartiers.
    network : WalkNetwork, optional
        The walking network (``None``: straight lines).
    attractiveness : str or None, default "surface"
        The centres' column of attractiveness (sales area in m², number of outlets); None
        gives every centre 1 (time alone decides).
    alpha : float, default 1
        Exponent of attractiveness (> 0): 1 is Huff's; above 1, large centres draw more than
        their size.
    beta : float, default 2
        Exponent of time (> 0), the distance decay: Huff (1963) estimated about 2 for
        clothing and 3 for furniture; everyday shopping on foot decays faster (larger β).
    max_time_min : float, default 30
        Centres farther than this are out of the choice (a home with none: ``no_centre_share``).
    min_time_min : float, default 1
        Times below it count as it (a home at the centre's door would have T = 0).
    population, speed_kmh, max_snap_m, crs, communes
        As :func:`cdv_geo.metrics.access.coverage`.
    times : TravelTimes, optional
        Walking times already computed by
        :func:`~cdv_geo.metrics.catchment_times.travel_times` for these `homes` and `centres`
        (in order) at `speed_kmh`, up to at least `max_time_min` (the pairs beyond are left
        out); `network`, `max_snap_m` and `crs` are then those of `times`. A shorter matrix,
        or one for other layers, raises a CdvGeoError.

    Returns
    -------
    Huff

    Notes
    -----
    The probabilities sum to 1 over the centres for every home that reaches one. The model
    knows only the centres given: a hypermarket outside the layer draws nobody. Its parameters
    are not calibrated here: where a survey of shopping trips exists, fit α and β to it.

    Reference: Huff, D. L. (1963), "A probabilistic analysis of shopping center trade areas",
    *Land Economics* 39(1): 81–90.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString, Point, box
    >>> net = WalkNetwork.from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (3000, 0)])], crs=2154), crs=2154)
    >>> homes = gpd.GeoDataFrame({"population": [100]}, geometry=[Point(600, 0)], crs=2154)
    >>> centres = gpd.GeoDataFrame({"id": ["parade", "hyper"], "surface": [1000, 8000]},
    ...                            geometry=[Point(450, 0), Point(1800, 0)], crs=2154)
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Presles"]},
    ...                      geometry=[box(0, -10, 1000, 10)], crs=2154)
    >>> h = huff(homes, centres, q, network=net)  # 2 min and 16 min: 1000/4 vs 8000/256
    >>> h.centres["catchment_population"].round(1).tolist()
    [88.9, 11.1]
    >>> float(h.table.loc["Q1", "retained_share"].round(3))
    0.889
    """
    for value, name in ((alpha, "alpha"), (beta, "beta"), (min_time_min, "min_time_min")):
        check_positive(value, name)
    homes = as_layer(homes, "homes")
    centres = as_layer(centres, "centres", geometry=["point", "polygon"])
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    pop = layer_values(homes, population, name="homes", what="population", hint=_HINT)
    if attractiveness is None:
        attract = np.ones(len(centres))
    else:
        attract = layer_values(
            centres, attractiveness, name="centres", what="attractiveness", hint=_HINT
        )
    if times is not None:
        tt = given_times(times, homes, centres, max_time_min=max_time_min,
                         speed_kmh=speed_kmh, function="huff")  # fmt: skip
    else:
        tt = travel_times(
            homes, centres, network=network, max_time_min=max_time_min, speed_kmh=speed_kmh,
            max_snap_m=max_snap_m, crs=crs,
        )  # fmt: skip
    p = huff_probabilities(
        attract, tt.home, tt.facility, tt.time_min, len(pop),
        alpha=alpha, beta=beta, min_time_min=min_time_min,
    )  # fmt: skip
    q = to_crs(quartiers, tt.crs)
    c_geoms = np.asarray(to_crs(centres, tt.crs).geometry.values, dtype=object)
    home_town = centre_town = None
    if communes is not None:
        town = to_crs(as_layer(communes, "communes"), tt.crs)
        home_town, centre_town = in_communes(tt.home_geoms, town), in_communes(c_geoms, town)
    c_code = assign_quartier(c_geoms, q).to_numpy()
    home_rows = rows_of(assign_quartier(tt.home_geoms, q).to_numpy(), q, in_commune=home_town)
    centre_rows = rows_of(c_code, q, in_commune=centre_town)
    reached = np.asarray(p.sum(axis=1)).ravel() > 0
    rows: dict[str, dict[str, Any]] = {}
    for key, member in home_rows.items():
        total = float(pop[member].sum())
        where = "row" if is_comparison_row(key) else "quartier"
        reason = None
        if not member.any():
            reason = f"no home in this {where}"
        elif total <= 0:
            reason = f"the homes of this {where} have a total population of 0"
        own = np.asarray(p @ centre_rows[key].astype(float)).ravel()
        rows[key] = {
            "retained_share": float(pop[member] @ own[member]) / total if not reason else np.nan,
            "no_centre_share": float(pop[member] @ ~reached[member]) / total
            if not reason
            else np.nan,
            "n_residents": total,
            "n_centres": int(centre_rows[key].sum()),
            "population_source": population_source_of(homes),
            "reason": reason,
        }
    table = quartier_table(q, rows)
    dense_main = _main_centres(p)
    cid = tt.facility_ids
    main = np.where(dense_main[0] >= 0, cid[np.maximum(dense_main[0], 0)], None)
    centres_out = pd.DataFrame(
        {
            "attractiveness": attract,
            "quartier": c_code,
            "catchment_population": np.asarray(p.T @ pop).ravel(),
            "n_homes_main": np.bincount(dense_main[0][dense_main[0] >= 0], minlength=len(cid)),
        },
        index=pd.Index(cid, name="id"),
    )
    homes_out = pd.DataFrame(
        {"main_centre": main, "main_probability": np.where(reached, dense_main[1], np.nan)},
        index=tt.home_ids,
    )
    coo = p.tocoo()
    probs = pd.DataFrame(
        {"home": tt.home_ids[coo.row], "centre": cid[coo.col], "probability": coo.data}
    )
    return Huff(table, centres_out, homes_out, probs)


def _main_centres(p: csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Per home, the column of its largest probability (-1 when none) and that probability."""
    n = p.shape[0]
    best = np.full(n, -1, dtype=np.int64)
    prob = np.zeros(n)
    counts = np.diff(p.indptr)
    has = np.flatnonzero(counts > 0)
    if len(has):
        # (ties: the first centre of the row, in the layer's order)
        ptr, data = p.indptr, p.data
        best_pos = [ptr[i] + int(np.argmax(data[ptr[i] : ptr[i + 1]])) for i in has]
        best[has] = p.indices[best_pos]
        prob[has] = p.data[best_pos]
    return best, prob


def retail_density(
    shops: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    weight: str | None = None,
    population: str = "population",
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Count shops (or their area, or outlets) per 1,000 inhabitants, per quartier and row.

    density = Σ_{shops in row} w_s / Σ_{homes in row} P_i × 1,000, each shop and home placed by
    the one quartier rule (:func:`cdv_geo.core.assign.assign_quartier`); ``commune`` counts
    the shops and homes inside the commune perimeter, ``hors_qpv`` those outside every
    quartier.

    Parameters
    ----------
    shops : geopandas.GeoDataFrame
        Shops (points or footprints): BPE, OSM or the planners' layer.
    homes : geopandas.GeoDataFrame
        Residences with `population`.
    quartiers : geopandas.GeoDataFrame
        Quartiers (``code``, ``name``).
    weight : str or None, default None
        None counts shops; a column (``surface`` in m², ``outlets``) sums it.
    population : str, default "population"
        The homes' residents column.
    communes : geopandas.GeoDataFrame, optional
        Adds the rows ``commune`` and ``hors_qpv``.

    Returns
    -------
    pandas.DataFrame
        Index ``quartier``: ``name``, ``n_shops``, ``shops_weight`` (the sum of `weight`, or
        the count), ``n_residents``, ``per_1000_inhabitants``, ``weight``,
        ``population_source``, and ``reason`` when a density is missing (no resident).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Presles"]},
    ...                      geometry=[box(0, 0, 100, 100)], crs=2154)
    >>> shops = gpd.GeoDataFrame(geometry=[Point(10, 10), Point(20, 20), Point(500, 5)],
    ...                          crs=2154)
    >>> homes = gpd.GeoDataFrame({"population": [800, 200]},
    ...                          geometry=[Point(50, 50), Point(60, 60)], crs=2154)
    >>> retail_density(shops, homes, q)[["n_shops", "per_1000_inhabitants"]]
              n_shops  per_1000_inhabitants
    quartier
    Q1              2                   2.0
    qpv             2                   2.0
    """
    shops = as_layer(shops, "shops")
    homes = as_layer(homes, "homes")
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    pop = layer_values(homes, population, name="homes", what="population", hint=_HINT)
    w = (
        np.ones(len(shops))
        if weight is None
        else layer_values(shops, weight, name="shops", what=weight, hint=_HINT)
    )
    target = quartiers.crs
    s_geoms = np.asarray(to_crs(shops, target).geometry.values, dtype=object)
    h_geoms = np.asarray(to_crs(homes, target).geometry.values, dtype=object)
    s_town = h_town = None
    if communes is not None:
        town = to_crs(as_layer(communes, "communes"), target)
        s_town, h_town = in_communes(s_geoms, town), in_communes(h_geoms, town)
    s_rows = rows_of(assign_quartier(s_geoms, quartiers).to_numpy(), quartiers, in_commune=s_town)
    h_rows = rows_of(assign_quartier(h_geoms, quartiers).to_numpy(), quartiers, in_commune=h_town)
    rows: dict[str, dict[str, Any]] = {}
    for key, member in h_rows.items():
        total = float(pop[member].sum())
        where = "row" if is_comparison_row(key) else "quartier"
        reason = None if total > 0 else f"no resident in this {where}"
        sw = float(w[s_rows[key]].sum())
        rows[key] = {
            "n_shops": int(s_rows[key].sum()),
            "shops_weight": sw,
            "n_residents": total,
            "per_1000_inhabitants": sw / total * 1000.0 if reason is None else np.nan,
            "weight": weight if weight is not None else "count",
            "population_source": population_source_of(homes),
            "reason": reason,
        }
    return quartier_table(quartiers, rows)
