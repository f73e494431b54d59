"""Floating catchments: access that counts capacity (2SFCA, E2SFCA and the DREES APL).

The walking time to the nearest facility says nothing of its capacity: one GP for 6,000 people
four minutes away is not the access of six GPs. A *floating catchment* shares each facility's
supply among the residents within its reach, then adds up, for each home, the shares of the
facilities it reaches (Luo & Wang 2003; Luo & Qi 2009). The French official measure of access to
GPs, the DREES *Accessibilité potentielle localisée* (APL, Barlet et al. 2012), is such a
measure with time bands and decay weights.

The walking times come from :func:`cdv_geo.metrics.catchment_times.travel_times` (the sparse
home × facility matrix under the largest band); :func:`floating_catchment` builds the tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.core import jit, threads
from cdv_geo.core.assign import assign_quartier, in_communes
from cdv_geo.core.errors import CdvGeoError, DataValidationError, Problem
from cdv_geo.core.layers import as_layer
from cdv_geo.core.tables import is_comparison_row, quartier_names, rows_of
from cdv_geo.metrics.catchment_kernels import band_of
from cdv_geo.metrics.catchment_times import (
    TravelTimes,
    catchment_sums,
    given_times,
    place_walks,
    travel_times,
    walk_pairs,
)
from cdv_geo.metrics.population import population_source_of
from cdv_geo.metrics.walking import check_network, id_text, measure_crs, select_kinds, to_crs
from cdv_geo.network import WalkNetwork

__all__ = [
    "APL_BANDS",
    "CATCHMENT_INDEX",
    "Catchment",
    "TravelTimes",
    "band_weights",
    "floating_catchment",
    "layer_values",
    "row_means",
    "travel_times",
]

#: Default time bands of :func:`floating_catchment`: (upper bound in minutes, weight). The
#: steps of the DREES/IRDES APL of 2012 (Barlet et al. 2012, DREES Études et Résultats n° 795
#: and Document de travail n° 124: 0–5 min: 1; 5–10 min: 0.3, i.e. 70 % less; 10–15 min:
#: 0.1, i.e. 90 % less; nothing beyond 15 min), by road there, read here as walking minutes.
APL_BANDS: tuple[tuple[float, float], ...] = ((5.0, 1.0), (10.0, 0.3), (15.0, 0.1))
#: Index levels of the :attr:`Catchment.table`.
CATCHMENT_INDEX = ("quartier", "kind")


# --- inputs -------------------------------------------------------------------------------------


def layer_values(
    layer: gpd.GeoDataFrame, column: str, *, name: str, what: str, hint: str
) -> np.ndarray:
    """Return a column as floats >= 0, or raise a DataValidationError listing the bad features.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"capacity": [2, "x"]}, geometry=[Point(0, 0)] * 2, crs=2154)
    >>> layer_values(g, "capacity", name="facilities", what="capacity", hint="")
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.DataValidationError: 1 feature(s) without a usable capacity:
      - layer facilities, feature 1, field 'capacity': 'x' is not a number >= 0
    """
    source = layer.attrs.get("source")
    if column not in layer.columns:
        raise DataValidationError(
            [Problem(f"no {column!r} column for the {what}; {hint}", source, name, None, column)]
        )
    raw = layer[column]
    v = pd.to_numeric(raw, errors="coerce").astype(float).to_numpy()
    bad = np.flatnonzero(~np.isfinite(v) | (v < 0))
    if len(bad):
        ids = id_text(layer).to_numpy(dtype=object)
        raise DataValidationError(
            [
                Problem(f"{raw.iloc[i]!r} is not a number >= 0", source, name, ids[i], column)
                for i in bad[:20]
            ],
            summary=f"{len(bad)} feature(s) without a usable {what}:",
        )
    return v


def _bands(bands: Any, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Upper bounds (increasing) and weights of the time bands (2SFCA: every weight 1)."""
    if method not in ("2sfca", "e2sfca"):
        raise CdvGeoError(f"method must be '2sfca' or 'e2sfca', not {method!r}")
    try:
        pairs = [(float(t), float(w)) for t, w in bands]
    except (TypeError, ValueError):
        raise CdvGeoError(
            f"bands must be (upper minutes, weight) pairs, e.g. {APL_BANDS}, not {bands!r}"
        ) from None
    upper = np.array([t for t, _ in pairs])
    weight = np.array([w for _, w in pairs])
    if (
        not len(pairs)
        or (upper <= 0).any()
        or (np.diff(upper) <= 0).any()
        or (weight < 0).any()
        or not np.isfinite(np.r_[upper, weight]).all()
    ):
        raise CdvGeoError(
            "bands must be (upper minutes, weight) pairs with increasing positive bounds and "
            f"weights >= 0, e.g. {APL_BANDS}; got {bands!r}"
        )
    if method == "2sfca":
        weight = np.ones_like(weight)
    return upper, weight


def band_weights(time_min: np.ndarray, upper: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weight of each time: the weight of the first band whose upper bound is >= the time.

    A time exactly on a bound belongs to the nearer band; beyond the last bound, 0.

    Examples
    --------
    >>> import numpy as np
    >>> band_weights(np.array([0.0, 5.0, 5.1, 15.0, 16.0]), np.array([5.0, 10.0, 15.0]),
    ...              np.array([1.0, 0.3, 0.1])).tolist()
    [1.0, 1.0, 0.3, 0.1, 0.0]
    """
    # (past the last bound, and NaN, search to len(upper): the appended 0)
    return np.r_[np.asarray(weight, dtype=float), 0.0][np.searchsorted(upper, time_min)]


def _two_steps_numpy(
    home: np.ndarray,
    fac: np.ndarray,
    time_min: np.ndarray,
    upper: np.ndarray,
    weight: np.ndarray,
    demand: np.ndarray,
    supply: np.ndarray,
    fac_kind: np.ndarray,
    n_kinds: int,
    fac_demand: np.ndarray,
    ratio: np.ndarray,
    access: np.ndarray,
) -> None:
    """Run the two steps on the (home, facility, time) pairs (numpy path of :func:`_two_steps`)."""
    w = band_weights(time_min, upper, weight)
    fac_demand[:] = np.bincount(fac, weights=w * demand[home], minlength=len(fac_demand))
    np.divide(supply, fac_demand, out=ratio, where=fac_demand > 0)
    slot = home * n_kinds + fac_kind[fac] if n_kinds > 1 else home
    access[:] = np.bincount(slot, weights=w * ratio[fac] * 10_000.0, minlength=len(access))


@jit.kernel(numpy=_two_steps_numpy, uses=(band_of,))
def _two_steps(
    home: np.ndarray,
    fac: np.ndarray,
    time_min: np.ndarray,
    upper: np.ndarray,
    weight: np.ndarray,
    demand: np.ndarray,
    supply: np.ndarray,
    fac_kind: np.ndarray,
    n_kinds: int,
    fac_demand: np.ndarray,
    ratio: np.ndarray,
    access: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Step 1 (`fac_demand`, `ratio`: 0 without demand) then step 2 (`access`, per 10,000).

    `access` is flat, home × kind. Fills the arrays given (zeros); the same sums, in the same
    order, as the numpy path.
    """
    w = np.append(weight.astype(np.float64), 0.0)  # (past the last bound, NaN: 0)
    band = np.empty(home.shape[0], dtype=np.int32)  # (each pair's band, found once)
    for p in range(home.shape[0]):
        b = band_of(time_min[p], upper)
        band[p] = b
        fac_demand[fac[p]] += w[b] * demand[home[p]]
    for j in range(supply.shape[0]):
        if fac_demand[j] > 0:
            ratio[j] = supply[j] / fac_demand[j]
    for p in range(home.shape[0]):
        access[home[p] * n_kinds + fac_kind[fac[p]]] += w[band[p]] * ratio[fac[p]] * 10_000.0


# --- floating catchments ------------------------------------------------------------------------


@dataclass
class Catchment:
    """The result of :func:`floating_catchment`.

    Attributes
    ----------
    table : pandas.DataFrame
        Per quartier and comparison row, and per kind (index ``quartier``, ``kind``):
        ``name``, ``access_per_10k`` (population-weighted mean of the homes' access),
        ``n_residents``, ``n_homes``, ``n_unreachable``, ``supply``, ``method``, ``travel``,
        ``population_source``, and ``reason`` when a value is missing.
    homes : pandas.DataFrame
        Per home (index ``id``): ``<kind>_access_per_10k`` (NaN when the home is off the
        street network or has no geometry).
    facilities : pandas.DataFrame
        Per facility of the kinds computed (index ``id``): ``kind``, ``supply``, ``demand``
        (the weighted residents of its catchment) and ``ratio_per_10k`` (supply per 10,000 of
        them; NaN when nobody lives within reach).
    """

    table: pd.DataFrame
    homes: pd.DataFrame
    facilities: pd.DataFrame


def floating_catchment(
    homes: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None = None,
    kinds: str | Sequence[str] | None = None,
    method: str = "e2sfca",
    bands: Sequence[tuple[float, float]] = APL_BANDS,
    supply: str | None = "capacity",
    population: str = "population",
    age_weights: Mapping[str, float] | None = None,
    speed_kmh: float = 4.5,
    max_snap_m: float = 200.0,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
    times: TravelTimes | None = None,
) -> Catchment:
    """Compute the floating-catchment access (2SFCA or E2SFCA) to each kind of facility.

    Step 1, each facility's ratio of supply to the demand within its reach:
    R_j = S_j / Σ_i D_i W(t_ij). Step 2, each home's access: A_i = Σ_j R_j W(t_ij), given per
    10,000 inhabitants (× 10,000). W is the weight of the time band of t_ij (walking time,
    :func:`travel_times`): with ``method="2sfca"`` every band weighs 1 (one threshold, the last
    bound: Luo & Wang 2003), with ``"e2sfca"`` the bands' weights (Luo & Qi 2009). The default
    bands are the APL's steps at walking scale (:data:`APL_BANDS`).

    Parameters
    ----------
    homes : geopandas.GeoDataFrame
        Residences with a `population` column (points or footprints).
    facilities : geopandas.GeoDataFrame
        Facilities with ``kind`` and the `supply` column.
    quartiers : geopandas.GeoDataFrame
        Quartiers (``code``, ``name``).
    network : WalkNetwork, optional
        The walking network (``None``: straight lines, labelled ``travel="euclidean"``).
    kinds : str or list of str, optional
        Facility kinds (all kinds present when omitted); each kind's catchments are separate.
    method : {"e2sfca", "2sfca"}, default "e2sfca"
    bands : sequence of (float, float), default APL_BANDS
        (upper bound in minutes, weight) in increasing order; a time on a bound belongs to the
        nearer band, a time beyond the last bound counts for nothing.
    supply : str or None, default "capacity"
        The facilities' supply column (GP FTE, places, counters: ``capacite``, ``etp``...
        translated by the schema); None counts each facility as 1.
    population : str, default "population"
        The homes' residents column: the demand, and the weights of the quartiers' means.
    age_weights : mapping of str to float, optional
        Age-band columns of the homes and their relative use of the service (as the APL's
        consumption by age): the demand is then D_i = Σ_a w_a × column_a instead of the
        residents, and the access is per 10,000 such *standardised* residents.
    speed_kmh, max_snap_m, crs
        As :func:`cdv_geo.metrics.access.nearest_facility`.
    communes : geopandas.GeoDataFrame, optional
        The commune(s): adds the rows ``commune`` and ``hors_qpv``.
    times : TravelTimes, optional
        Walking times already computed by :func:`travel_times` for these `homes` and
        `facilities` (every facility given, in order) at `speed_kmh`, up to at least the last
        band (e.g. once for the capacity and the opening hours of one run); the pairs beyond
        the last band are left out. `network`, `max_snap_m` and `crs` are then those of
        `times`. A shorter matrix, or one for other layers, raises a CdvGeoError.

    Returns
    -------
    Catchment
        ``table`` (per quartier, comparison row and kind), ``homes`` and ``facilities``.

    Raises
    ------
    CdvGeoError
        Bad `method` or `bands`; `times` shorter than the last band or for other layers.
    DataValidationError
        No `supply` or `population` column, or a value that is not a number >= 0 (listing
        each feature), no ``kind``, an unknown kind.

    Notes
    -----
    A row's value is the population-weighted mean of its homes' access,
    Σ_i P_i A_i / Σ_i P_i, over the homes placed on the network (the others are counted in
    ``n_unreachable``). A home placed but beyond every band of every facility has access 0. A
    facility with no demand within reach serves nobody (ratio NaN, no share). The weighted
    mean of A over all the homes, weighted by demand, equals the total supply reached per
    demand: the measure shares the supply, it does not multiply it.

    The APL of 2012 (Barlet, Coldefy, Collin & Lucas-Gabrielli, DREES *Études et Résultats*
    n° 795, March 2012; method in DREES *Document de travail* n° 124 / IRDES DT n° 51,
    December 2012) counts GP FTE per 100,000 inhabitants standardised by age, by road
    between communes, with the weights 1 / 0.3 / 0.1 for 0–5 / 5–10 / 10–15 minutes
    (70 % and 90 % less than under 5 minutes) and 0 beyond. DREES recast the method in
    2015 (parameters agreed with the CNAM and the ARS, for the doctors' zoning); those
    parameters are not reproduced here. What differs from the official APL: the same steps
    are read as *walking* minutes between homes and facilities (not road minutes between
    communes); the demand is the residents unless `age_weights` gives the use by age band;
    the supply is the `supply` column as given (the APL derives each GP's FTE from their
    activity; no such conversion, and no cap, here); the result is per 10,000, not 100,000.

    References: Luo, W. & Wang, F. (2003), *Environment and Planning B* 30(6): 865–884;
    Luo, W. & Qi, Y. (2009), *Health & Place* 15(4): 1100–1107; Barlet M. et al. (2012),
    DREES *Études et Résultats* n° 795 and *Document de travail* n° 124.

    Examples
    --------
    Two homes of 1,000 residents on a street, one GP (1 FTE) at the west end:

    >>> import geopandas as gpd
    >>> from shapely import LineString, Point, box
    >>> streets = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1500, 0)])], crs=2154)
    >>> net = WalkNetwork.from_lines(streets, crs=2154)
    >>> homes = gpd.GeoDataFrame({"id": ["a", "b"], "population": [1000, 1000]},
    ...                          geometry=[Point(300, 0), Point(600, 0)], crs=2154)
    >>> gp = gpd.GeoDataFrame({"kind": ["doctor"], "capacity": [1.0]},
    ...                       geometry=[Point(0, 0)], crs=2154)
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Presles"]},
    ...                      geometry=[box(0, -50, 400, 50)], crs=2154)
    >>> c = floating_catchment(homes, gp, q, network=net)
    >>> c.homes.round(2)  # 4 min (weight 1) and 8 min (0.3): R = 1 / 1300
        doctor_access_per_10k
    id
    a                    7.69
    b                    2.31
    >>> c.table[["name", "access_per_10k", "n_residents"]].round(2)
                               name  access_per_10k  n_residents
    quartier kind
    Q1       doctor         Presles            7.69       1000.0
    qpv      doctor  Ensemble des QPV            7.69       1000.0
    """
    upper, weight = _bands(bands, method)
    homes = as_layer(homes, "homes")
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    facilities = as_layer(facilities, "facilities", geometry=["point", "polygon"])
    kind_list = select_kinds(facilities, kinds)
    hint = "add it, or name another column"
    pop = layer_values(homes, population, name="homes", what="population", hint=hint)
    if age_weights:
        demand = np.zeros(len(homes))
        for col, w in age_weights.items():
            demand += float(w) * layer_values(homes, col, name="homes", what=col, hint=hint)
    else:
        demand = pop
    raw_kind = facilities["kind"]
    fkind = np.where(raw_kind.isna(), "", raw_kind.astype(str).to_numpy(dtype=object))
    sel = np.flatnonzero(np.isin(fkind, kind_list))
    chosen = facilities if len(sel) == len(facilities) else facilities.iloc[sel]
    if supply is None:
        sup = np.ones(len(sel))
    else:
        sup = layer_values(chosen, supply, name="facilities", what="supply", hint=hint)
    rank = {k: i for i, k in enumerate(kind_list)}
    fac_kind = np.array([rank[k] for k in fkind[sel]], dtype=np.int64)
    steps = (upper, weight, demand, sup, (fac_kind, len(kind_list)))
    if times is not None:
        tt = given_times(
            times, homes, facilities, max_time_min=float(upper[-1]), speed_kmh=speed_kmh,
            function="floating_catchment",
        ).columns(sel)  # fmt: skip
        q = to_crs(quartiers, tt.crs)
        town = None if communes is None else to_crs(as_layer(communes, "communes"), tt.crs)
        member_of = _rows(tt.home_geoms, shapely.bounds(tt.home_geoms), q, town)
        fac_demand, ratio, flat = _pair_steps(tt, steps)
    else:
        (tt, fac_demand, ratio, flat), q, member_of = _times_and_rows(
            homes, chosen, quartiers, communes, steps,
            dict(network=network, speed_kmh=speed_kmh, max_snap_m=max_snap_m, crs=crs),
        )  # fmt: skip
    ratio[fac_demand <= 0] = np.nan
    access = flat.reshape(len(tt.home_ids), len(kind_list))
    access[~tt.placed] = np.nan
    values = {kind: access[:, i] for i, kind in enumerate(kind_list)}
    home_frame = pd.DataFrame(
        {f"{kind}_access_per_10k": v for kind, v in values.items()}, index=tt.home_ids
    )
    fac_frame = pd.DataFrame(
        {
            "kind": fkind[sel],
            "supply": sup,
            "demand": fac_demand,
            "ratio_per_10k": ratio * 10_000.0,
        },
        index=pd.Index(tt.facility_ids, name="id"),
    )
    extra = {
        "supply": {kind: float(sup[fac_kind == i].sum()) for kind, i in rank.items()},
        "method": method,
        "travel": tt.method,
        "population_source": population_source_of(homes),
    }
    table = row_means(values, pop, tt.placed, member_of, quartier_names(q), "access_per_10k",
                      extra=extra)  # fmt: skip
    return Catchment(table, home_frame, fac_frame)


def _pair_steps(tt: TravelTimes, steps: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the two steps on the pairs of `tt`: weighted demand, ratio, flat access."""
    upper, weight, demand, sup, (fac_kind, n_kinds) = steps
    fac_demand, ratio = np.zeros(len(sup)), np.zeros(len(sup))
    flat = np.zeros(len(tt.home_ids) * n_kinds)
    _two_steps(tt.home, tt.facility, tt.time_min, upper, weight, demand, sup, fac_kind,
               n_kinds, fac_demand, ratio, flat)  # fmt: skip
    return fac_demand, ratio, flat


def _times_and_rows(
    homes: gpd.GeoDataFrame,
    chosen: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame | None,
    steps: Any,
    walk: dict[str, Any],
) -> tuple[tuple[Any, ...], gpd.GeoDataFrame, dict[str, np.ndarray]]:
    """Run the two steps; find the homes' rows (quartier, commune) in a side thread meanwhile.

    On a network with the compiled kernel the steps run inside the searches
    (:func:`catchment_sums`), and the rows start once the searches run in compiled code;
    else the steps run on the pairs of :func:`walk_pairs`, and the rows here after them.
    """
    upper, weight, demand, sup, kinds = steps
    target = measure_crs(homes, check_network(walk["network"]), walk["crs"])
    q = to_crs(quartiers, target)
    town = None if communes is None else to_crs(as_layer(communes, "communes"), target)
    p = place_walks(homes, chosen, max_time_min=float(upper[-1]), **{**walk, "crs": target})
    h_geoms = p.h_geoms  # (the homes in the walks' CRS, projected once by place_walks)
    jobs: list[Future[dict[str, np.ndarray]]] = []

    def start_rows() -> None:
        # (once the searches run in compiled code: the rule holds the GIL at times, and
        # would otherwise slow the snapping's and this thread's Python)
        jobs.append(threads.alongside(_rows, h_geoms, p.boxes, q, town, size=len(h_geoms)))

    try:
        sums = catchment_sums(p, bands=(upper, weight), demand=demand, supply=sup, kinds=kinds,
                              started=start_rows)  # fmt: skip
        if sums is None:
            tt = walk_pairs(p)
            sums = (tt, *_pair_steps(tt, steps))
    except BaseException:
        if jobs and not jobs[0].cancel():
            wait(jobs)  # (nothing left running on the arrays)
        raise
    # (not started, or not yet: done here, never waiting behind other work; else its result)
    if not jobs or jobs[0].cancel():
        return sums, q, _rows(h_geoms, p.boxes, q, town)
    return sums, q, jobs[0].result()


def _rows(
    geoms: np.ndarray,
    bounds: np.ndarray,
    quartiers: gpd.GeoDataFrame,
    town: gpd.GeoDataFrame | None,
) -> dict[str, np.ndarray]:
    """Return the masks of the homes of each quartier and comparison row (:func:`rows_of`).

    The quartier rule runs on the homes whose `bounds` (``shapely.bounds``: NaN for a
    missing geometry, near nothing) meet the quartiers' (the commune rule on those meeting
    the communes'): a home beyond them lies in none, whatever its shape.
    """

    def near(layer: gpd.GeoDataFrame) -> np.ndarray:
        x0, y0, x1, y1 = layer.total_bounds
        return np.flatnonzero(
            (bounds[:, 2] >= x0) & (bounds[:, 0] <= x1) & (bounds[:, 3] >= y0)
            & (bounds[:, 1] <= y1)
        )  # fmt: skip

    at = near(quartiers)
    if town is not None:
        at = np.union1d(at, near(town))
    codes = np.full(len(at), None, dtype=object)
    if len(at):
        codes[:] = assign_quartier(geoms[at], quartiers).to_numpy()
    inside = None if town is None else in_communes(geoms[at], town)
    masks: dict[str, np.ndarray] = {}
    for key, mask in rows_of(codes, quartiers, in_commune=inside).items():
        masks[key] = np.zeros(len(geoms), dtype=bool)
        masks[key][at] = mask  # (the homes beyond every bound: in no row)
    return masks


def row_means(
    values: Mapping[str, np.ndarray],
    pop: np.ndarray,
    placed: np.ndarray,
    member_of: Mapping[str, np.ndarray],
    names: Mapping[str, Any],
    column: str,
    *,
    extra: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Population-weighted means of per-home values, per row key and kind (a long table).

    `values` maps a kind to one value per home (NaN for a home that is not placed); a row's
    mean runs over its placed homes, weighted by `pop`. Index (``quartier``, ``kind``), the
    rows in `member_of`'s order within each kind. `extra` adds columns after the counts
    (before ``reason``): a mapping of kind to value gives each kind's rows their value,
    anything else is the same on every row.

    Examples
    --------
    >>> import numpy as np
    >>> t = row_means({"gp": np.array([2.0, 4.0, np.nan])}, np.array([1.0, 3.0, 5.0]),
    ...               np.array([True, True, False]), {"Q1": np.array([True, True, True])},
    ...               {"Q1": "Presles"}, "access")
    >>> t.loc[("Q1", "gp"), ["access", "n_residents", "n_unreachable"]].tolist()
    [3.5, 9.0, 1.0]
    """
    names_of = list(member_of)
    member = np.array([member_of[k] for k in names_of], dtype=bool).reshape(len(names_of), -1)
    # (the homes of some row only: a town's quartiers hold a fraction of its homes)
    some = np.flatnonzero(member.any(axis=0))
    member, pop, placed = member[:, some], np.asarray(pop)[some], np.asarray(placed)[some]
    values = {kind: np.asarray(v)[some] for kind, v in values.items()}
    on = member & placed
    use = on.astype(float)
    total = use @ pop
    n_residents = member.astype(float) @ pop
    n_homes = member.sum(axis=1)
    n_unreachable = n_homes - on.sum(axis=1)
    reasons: list[str | None] = []
    for key, homes_in, reached, residents in zip(
        names_of, n_homes, on.any(axis=1), total, strict=True
    ):
        where = "row" if is_comparison_row(key) else "quartier"
        if not homes_in:
            reasons.append(f"no home in this {where}")
        elif not reached:
            reasons.append(f"no home of this {where} is on the street network")
        elif residents <= 0:
            reasons.append(f"the homes of this {where} have a total population of 0")
        else:
            reasons.append(None)
    ok = np.array([r is None for r in reasons], dtype=bool)
    means = []
    for v in values.values():
        sums = use @ np.where(placed, pop * np.nan_to_num(v), 0.0)
        means.append(np.divide(sums, total, out=np.full(len(total), np.nan), where=ok))
    k, n_rows = len(values), len(names_of)
    index = pd.MultiIndex(
        levels=[names_of, list(values)],
        codes=[list(range(n_rows)) * k, [i for i in range(k) for _ in range(n_rows)]],
        names=list(CATCHMENT_INDEX), verify_integrity=False,
    )  # fmt: skip
    columns = {
        "name": [names[key] for key in names_of] * k,
        column: np.concatenate(means) if means else np.empty(0),
        "n_residents": np.tile(n_residents, k),
        "n_homes": np.tile(n_homes, k).astype(np.int64),
        "n_unreachable": np.tile(n_unreachable, k).astype(np.int64),
    }
    for col, val in (extra or {}).items():
        columns[col] = (
            [val[kind] for kind in values for _ in range(n_rows)]
            if isinstance(val, Mapping)
            else [val] * (k * n_rows)
        )
    if not ok.all():
        columns["reason"] = reasons * k
    return pd.DataFrame(columns, index=index)
