"""Benchmark of ``WalkNetwork.from_osm_pbf`` (pyosmium + numpy) against osmnx's XML reader.

A street grid of about ``--nodes`` OSM nodes (default 1,000,000) is generated: 200 m-ish
blocks with four shape points on each side, streets cut into ways of 23 segments (most ways
end mid-block, so the simplification joins ways), named streets and footways, one motorway
row in ten (left out by the walking filter), shops and bus stops as tagged nodes, a building
every few blocks, a bus-route relation. It is written twice with ``osmium.SimpleWriter``: as
``.osm.pbf`` and as ``.osm`` XML.

Measured, each in a fresh Python process (time of the call; peak resident memory of the
process, ``VmHWM`` from ``/proc/self/status``, imports included):

1. ``WalkNetwork.from_osm_pbf`` on the PBF;
2. ``osmnx.graph_from_xml`` on the XML (``bidirectional=True, simplify=True,
   retain_all=True``: what ``WalkNetwork.from_osm_xml`` calls), the reference;
3. ``WalkNetwork.from_osm_xml`` on the XML (osmnx + the walking filter + ``from_graph``), for
   information, and to check that both networks have the same nodes, edges and length;
4. a process that only imports the modules: the floor of the memory figures.

Targets (issue 13): (1) >= 5x faster than (2), with <= 1/2 of its peak memory.

Run ``python scripts/bench/bench_pbf.py`` (1 million nodes, a few minutes) or
``--nodes 100000`` (seconds); ``--skip-from-xml`` skips (3).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LON0, LAT0 = 3.30, 49.36  # Soissons
STEP = 0.00035  # degrees between two nodes of a street (~25 m north-south, ~25 m east-west)
SHAPE = 4  # shape points between two intersections
WAY_SEGMENTS = 23  # segments per way: most ways end mid-block


def generate(n_nodes: int, pbf: Path, xml: Path) -> dict[str, int]:
    """Write the grid (about `n_nodes` street nodes) as PBF and XML; return its counts."""
    import osmium

    n = max(3, round(math.sqrt(n_nodes / (1 + 2 * SHAPE))))
    span = (n - 1) * (SHAPE + 1) + 1  # nodes along a street
    counts = {"grid": n, "nodes": 0, "ways": 0, "walkable_ways": 0}
    writers = [osmium.SimpleWriter(str(pbf)), osmium.SimpleWriter(str(xml))]

    def node_id(i: int, j: int) -> int:  # street node (i, j) of the fine lattice
        return 1 + j * span + i

    def add_node(nid: int, lon: float, lat: float, tags: dict[str, str] | None = None) -> None:
        node = osmium.osm.mutable.Node(
            id=nid, location=(round(lon, 7), round(lat, 7)), tags=tags or {}
        )
        for w in writers:
            w.add_node(node)
        counts["nodes"] += 1

    def add_way(wid: int, refs: list[int], tags: dict[str, str]) -> None:
        way = osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags)
        for w in writers:
            w.add_way(way)
        counts["ways"] += 1

    # street nodes: every lattice point on a street line (i or j a multiple of SHAPE + 1)
    for j in range(span):
        on_row = j % (SHAPE + 1) == 0
        for i in range(span):
            if on_row or i % (SHAPE + 1) == 0:
                add_node(node_id(i, j), LON0 + i * STEP, LAT0 + j * STEP * 0.66)
    extra = 10 * span * span
    # tagged nodes (shops, bus stops) and buildings: not streets, read and left out
    poi = extra
    for b in range(0, n - 1, 3):
        x, y = (b * (SHAPE + 1) + 1.5) * STEP, (b * (SHAPE + 1) + 1.5) * STEP * 0.66
        add_node(poi, LON0 + x, LAT0 + y, {"shop": "bakery", "name": f"Boulangerie {b}"})
        add_node(poi + 1, LON0 + x, LAT0 + y + 0.0002, {"highway": "bus_stop"})
        corners = [(0, 0), (0.0001, 0), (0.0001, 0.0001), (0, 0.0001)]
        for c, (dx, dy) in enumerate(corners):
            add_node(poi + 2 + c, LON0 + x + dx + 0.0003, LAT0 + y + dy)
        add_way(extra + b, [poi + 2, poi + 3, poi + 4, poi + 5, poi + 2], {"building": "yes"})
        poi += 6
    wid = 1
    for line in range(n):
        k = line * (SHAPE + 1)
        for horizontal in (True, False):
            refs = [node_id(i, k) if horizontal else node_id(k, i) for i in range(span)]
            if horizontal:
                tags = {"highway": "residential", "name": f"Rue {line}"}
            elif line % 10 == 5:
                tags = {"highway": "motorway", "ref": "N 2"}
            else:
                tags = {"highway": "footway" if line % 3 else "tertiary"}
            for a in range(0, span - 1, WAY_SEGMENTS):
                add_way(wid, refs[a : a + WAY_SEGMENTS + 1], tags)
                counts["walkable_ways"] += tags["highway"] != "motorway"
                wid += 1
    relation = osmium.osm.mutable.Relation(
        id=1, members=[("w", 1, ""), ("w", 2, "")], tags={"type": "route", "route": "bus"}
    )
    for w in writers:
        w.add_relation(relation)
        w.close()
    return counts


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource  # not Linux: ru_maxrss (kB on Linux, bytes on macOS)

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process (every thread), user + system."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(what: str, path: str) -> dict[str, Any]:
    """One measurement, run in a fresh process; returns time, memory and what was built."""
    import warnings

    import osmnx as ox

    from cdv_geo.network import WalkNetwork
    from cdv_geo.network.pbf import read_osm_network

    warnings.simplefilter("ignore")
    out: dict[str, Any] = {}
    t, cpu = time.perf_counter(), cpu_seconds()
    if what == "pbf":
        # what from_osm_pbf does, in two timed steps: the arrays, then the WalkNetwork
        # (whose constructor builds the routing matrix and the snapping index)
        a = read_osm_network(path)
        out["read_seconds"] = time.perf_counter() - t
        net = WalkNetwork(a.node_xy, a.edge_u, a.edge_v, a.edge_geometry, crs=a.crs,
                          node_ids=a.node_ids, edge_data=a.edge_data,
                          largest_component=False, source=a.source)  # fmt: skip
    elif what == "osmnx":
        graph = ox.graph_from_xml(path, bidirectional=True, simplify=True, retain_all=True)
        out.update(graph_nodes=graph.number_of_nodes(), graph_edges=graph.number_of_edges())
    elif what == "from_xml":
        net = WalkNetwork.from_osm_xml(path, largest_component=False)
    out["seconds"] = time.perf_counter() - t
    out["cpu_seconds"] = cpu_seconds() - cpu
    if what in ("pbf", "from_xml"):
        out.update(nodes=net.n_nodes, edges=net.n_edges, length_m=net.total_length_m)
    out["peak_mb"] = peak_rss_mb()
    return out


def measure(what: str, path: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", what, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"{what} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000, help="street nodes (about)")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the files")
    parser.add_argument("--skip-from-xml", action="store_true", help="skip from_osm_xml")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        what, path = args.child
        print(json.dumps(child(what, path)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        pbf, xml = folder / "grid.osm.pbf", folder / "grid.osm"
        t = time.perf_counter()
        counts = generate(args.nodes, pbf, xml)
        print(
            f"generated {counts['nodes']:,} nodes, {counts['ways']:,} ways "
            f"({counts['walkable_ways']:,} walkable; {counts['grid']}x{counts['grid']} "
            f"intersections) in {time.perf_counter() - t:.1f} s: PBF "
            f"{pbf.stat().st_size / 1e6:.2f} MB, XML {xml.stat().st_size / 1e6:.1f} MB"
        )
        floor = measure("import", pbf)
        res_pbf = measure("pbf", pbf)
        res_ox = measure("osmnx", xml)
        res_xml = None if args.skip_from_xml else measure("from_xml", xml)
    print(f"\n{'':34}{'time (s)':>10}{'CPU (s)':>10}{'peak (MB)':>11}")
    print(f"{'imports only (floor)':34}{'':>10}{'':>10}{floor['peak_mb']:>11.0f}")
    rows = [("WalkNetwork.from_osm_pbf", res_pbf), ("osmnx.graph_from_xml (reference)", res_ox)]
    if res_xml:
        rows.append(("WalkNetwork.from_osm_xml", res_xml))
    for label, r in rows:
        print(f"{label:34}{r['seconds']:>10.2f}{r['cpu_seconds']:>10.2f}{r['peak_mb']:>11.0f}")
    speed = res_ox["seconds"] / res_pbf["seconds"]
    cpu_speed = res_ox["cpu_seconds"] / res_pbf["cpu_seconds"]
    read = res_pbf["read_seconds"]
    memory = res_pbf["peak_mb"] / res_ox["peak_mb"]
    above = (res_pbf["peak_mb"] - floor["peak_mb"]) / (res_ox["peak_mb"] - floor["peak_mb"])
    print(
        f"\nfrom_osm_pbf vs osmnx.graph_from_xml: {speed:.1f}x faster (CPU time: "
        f"{cpu_speed:.1f}x; target >= 5x: {'met' if speed >= 5 else 'MISSED'}); peak memory "
        f"{memory:.2f} of osmnx's (target <= 0.5: {'met' if memory <= 0.5 else 'MISSED'}); "
        f"above the import floor: {above:.2f}"
    )
    print(
        f"  of which reading, simplifying, projecting the PBF: {read:.2f} s "
        f"({res_ox['seconds'] / read:.0f}x faster than osmnx); the WalkNetwork constructor "
        f"(routing matrix, snapping index): {res_pbf['seconds'] - read:.2f} s"
    )
    if res_xml:
        ratio = res_xml["seconds"] / res_pbf["seconds"]
        print(f"from_osm_pbf vs from_osm_xml: {ratio:.1f}x faster")
        same = all(res_pbf[k] == res_xml[k] for k in ("nodes", "edges"))
        same = same and math.isclose(res_pbf["length_m"], res_xml["length_m"], rel_tol=1e-9)
        print(
            f"networks: pbf {res_pbf['nodes']:,} nodes, {res_pbf['edges']:,} edges, "
            f"{res_pbf['length_m'] / 1000:,.3f} km; xml {res_xml['nodes']:,} nodes, "
            f"{res_xml['edges']:,} edges, {res_xml['length_m'] / 1000:,.3f} km: "
            f"{'identical' if same else 'DIFFERENT'}"
        )


if __name__ == "__main__":
    main()
