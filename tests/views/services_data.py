"""Service metrics (issue 25) on the small fixture territory, computed by the metric functions.

Shared by tests/maps/test_services_map.py and tests/output/test_services_page.py: the pipeline
step that fills these fields is tested elsewhere; here the maps and the dossier read a
:class:`~cdv_geo.pipeline.Metrics` filled by hand from the metric functions' results.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely import Point

from cdv_geo.metrics.catchment import floating_catchment
from cdv_geo.metrics.huff import huff, retail_density
from cdv_geo.metrics.opening_hours import opening_access
from cdv_geo.network import WalkNetwork
from cdv_geo.pipeline import Metrics
from tests.browser.fixture_territory import EVIL, X0, Y0, make_territory, streets

#: A kind whose label would be data (an unknown kind is shown as given).
EVIL_KIND = "<script>kind</script>"


def territory(evil: bool = True):  # type: ignore[no-untyped-def]
    """The fixture territory, its residences with ids, its facilities with capacity and hours."""
    t = make_territory(evil=evil)
    res = t.residences.copy()
    res["id"] = [f"r{i}" for i in range(len(res))]
    t.residences = res
    fac = t.facilities.copy()
    fac["capacity"] = [1.0, 2.0, 1.0, 3.0, 1.0]
    fac["opening_hours"] = [
        "Mo-Su 10:00-19:00",
        "Mo-Fr 09:00-12:00,14:00-18:00",
        "Mo,Tu,Th,Fr 08:30-16:30",
        "Tu 09:00-12:00 || We 14:00-17:00",
        "Mo-Sa 08:00-20:00",
    ]
    if evil:
        fac.loc[fac["kind"] == "ccas", "kind"] = EVIL_KIND
    t.facilities = fac
    return t


def centres() -> gpd.GeoDataFrame:
    """Two commercial centres: a parade in quartier B (hostile name), a supermarket outside."""
    return gpd.GeoDataFrame(
        {
            "id": ["c1", "c2"],
            "name": [EVIL, "Hyper Sud"],
            "surface": [1000.0, 8000.0],
        },
        geometry=[Point(X0 + 800, Y0 + 100), Point(X0 + 500, Y0 + 450)],
        crs=2154,
    )


def service_metrics(t, *, illustrative: bool = False) -> Metrics:  # type: ignore[no-untyped-def]
    """Fill a Metrics with the service fields, as the pipeline's contract says."""
    net = WalkNetwork.from_lines(streets(), crs=2154)
    homes, fac, q, town = t.residences, t.facilities, t.quartiers, t.communes
    kinds = ["health_centre", "school", EVIL_KIND if EVIL_KIND in set(fac["kind"]) else "ccas"]
    cat = floating_catchment(homes, fac, q, network=net, kinds=kinds, communes=town)
    oa = opening_access(homes, fac, q, network=net, kinds=kinds, within_min=10, communes=town)
    cs = centres()
    h = huff(homes, cs, q, network=net, communes=town)
    shops = fac[fac["kind"] == "shop"]
    rd = retail_density(shops, homes, q, communes=town)
    layer = homes[["id", "population", "geometry"]].copy()
    layer["quartier"] = ["QN09901M"] * 6 + ["QN09902M"] * 6
    by_id = layer.set_index("id")
    for frame in (cat.homes, oa.homes, h.homes):
        for col in frame.columns:
            by_id[col] = frame[col].reindex(by_id.index.astype(str)).to_numpy()
    names = dict(zip(cs["id"], cs["name"], strict=True))
    by_id["main_centre_name"] = [names.get(c) for c in by_id["main_centre"]]
    layer = gpd.GeoDataFrame(by_id.reset_index(), geometry="geometry", crs=homes.crs)
    cent = cs[["id", "name", "geometry"]].merge(h.centres.reset_index(), on="id")
    cent = gpd.GeoDataFrame(cent, geometry="geometry", crs=cs.crs)
    if illustrative:
        layer.attrs["illustrative"] = True
        cent.attrs["illustrative"] = True
    return Metrics(
        capacity_access=cat.table,
        open_hours=oa.hours,
        open_moments=oa.moments,
        opening_strip=oa.strip,
        retail_density=rd,
        commercial_catchment=h.table,
        residences_services=layer,
        commercial_centres=cent,
    )


def frame_of(m: Metrics) -> pd.DataFrame:
    """The residences_services layer as a plain table (for the assertions)."""
    assert m.residences_services is not None
    return pd.DataFrame(m.residences_services.drop(columns="geometry"))
