"""Generate the illustrative Soissons demo layers in ``data/shapes/``.

Every feature written here is *authored for the demo*: the three priority quartiers (QPV) of
Soissons — Saint-Crépin, Presles, Chevreux — are placed roughly where they are, and their
content follows the mayor's account of the contrat de ville (``shared/seed``), but no geometry
or figure is official, except the quartiers' INSEE codes, names and populations (QP002012
Saint-Crépin Ouest 2,081, QP002013 Presles 5,766, QP002014 Chevreux 1,238 inhabitants) and the
commune's population (28,522), from INSEE's DEMO 2021 file (the buildings' residents stay
illustrative). ``data/shapes/PROVENANCE.md`` names the source that replaces each layer.

The generator is deterministic (fixed seed): running it twice gives the same files. It builds
everything in Lambert-93 (EPSG:2154) around the town centre (≈ 49.382 N, 3.324 E) and writes
GeoJSON in EPSG:4326 with :func:`cdv_geo.write_layer`.

How the town is drawn
---------------------
1. A commune outline of ~12 km².
2. A warped street grid per quartier (blocks of 70–100 m, gently curved streets, a few removed
   links, dead ends and footpaths), a small town-centre grid, and main roads linking them.
3. The streets are noded and polygonised into blocks; each quartier is the union of the blocks
   nearest its centre (so its perimeter follows street centre lines, as real QPV perimeters do).
4. Blocks get roles (park, schools, heart of the quartier, renewal sites), then buildings are
   placed in the remaining blocks, set back >= 6.5 m from every street centre line.

Run ``.venv/bin/python scripts/make_demo_data.py`` from the repository root, then
``scripts/make_demo_services.py`` (the illustrative capacities, opening hours and shops).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely import LineString, Point, Polygon
from shapely.affinity import rotate
from shapely.strtree import STRtree

import cdv_geo as cg
from cdv_geo.schema import validate

SEED = 2722  # the INSEE code of Soissons, so the seed is easy to remember
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "shapes"
CRS = "EPSG:2154"
# Lambert-93 coordinates of the town centre (≈ 49.382 N, 3.324 E), rounded to the metre.
X0, Y0 = 723533.0, 6920325.0
SOURCE = "illustratif — données de démonstration (Soissons), non officielles"
SETBACK = 6.5  # metres between a building and any street centre line


def rng_for(*key: int) -> np.random.Generator:
    """Return a generator seeded by SEED and `key`: each part of the town has its own stream."""
    return np.random.default_rng([SEED, *key])


# --- street names ----------------------------------------------------------------------------

_PEOPLE = [
    "Jean Moulin",
    "Victor Hugo",
    "Émile Zola",
    "Louise Michel",
    "Jean Jaurès",
    "Pierre Curie",
    "Marie Curie",
    "Jules Verne",
    "Paul Éluard",
    "Louis Aragon",
    "Albert Camus",
    "George Sand",
    "Jean Racine",
    "Alexandre Dumas",
    "Jean de La Fontaine",
    "Camille Claudel",
    "Paul Claudel",
    "Condorcet",
    "Jean Mermoz",
    "Pablo Neruda",
    "Rosa Parks",
    "Simone Veil",
    "Lucie Aubrac",
    "Pierre Brossolette",
    "Gabriel Péri",
    "Danielle Casanova",
    "Olympe de Gouges",
    "Nelson Mandela",
    "Salvador Allende",
    "Guy Môquet",
    "Henri Matisse",
    "Claude Debussy",
    "Hector Berlioz",
    "Georges Brassens",
    "Édith Piaf",
    "Jacques Brel",
    "Boris Vian",
    "Antoine de Saint-Exupéry",
    "Arthur Rimbaud",
    "Paul Verlaine",
    "Molière",
    "Jean Monnet",
    "Robert Schuman",
    "Léon Blum",
    "Germaine Tillion",
    "Marcel Pagnol",
    "Jacques Prévert",
    "Frédéric Chopin",
    "Auguste Renoir",
    "Claude Monet",
    "Marie Marvingt",
    "Louis Pasteur",
]
_THINGS = [
    "des Tilleuls",
    "des Acacias",
    "des Charmes",
    "des Érables",
    "des Peupliers",
    "des Saules",
    "des Bouleaux",
    "des Marronniers",
    "des Lilas",
    "des Glycines",
    "des Iris",
    "des Violettes",
    "des Coquelicots",
    "des Bleuets",
    "des Mésanges",
    "des Alouettes",
    "des Hirondelles",
    "des Fauvettes",
    "du Moulin",
    "des Vignes",
    "des Prés",
    "du Stade",
    "de l'École",
    "de la Croix",
    "du Clos",
    "des Jardins",
    "des Vergers",
    "de la Fontaine",
    "des Tanneurs",
    "des Cordeliers",
    "du Lavoir",
    "des Roses",
    "des Pommiers",
    "des Noyers",
    "du Bois",
    "des Chênes",
    "des Frênes",
    "des Aulnes",
    "des Sorbiers",
    "des Cerisiers",
    "des Platanes",
    "des Ormes",
    "des Hêtres",
    "des Mimosas",
    "des Jonquilles",
    "des Pervenches",
    "des Myosotis",
    "des Tourterelles",
    "des Pinsons",
    "des Rouges-Gorges",
    "des Verdiers",
    "de la Source",
    "du Ru",
    "des Carrières",
    "de la Sablière",
    "des Longues Raies",
    "du Pressoir",
    "de la Tuilerie",
    "du Four",
    "des Sarts",
    "du Paradis",
    "des Soupirs",
    "de la Plaine",
]
_CENTRE = [
    "rue du Commerce",
    "rue Saint-Martin",
    "rue de la Bannière",
    "rue Saint-Christophe",
    "rue du Collège",
    "rue de Panleu",
    "rue Richebourg",
    "rue Saint-Quentin",
    "rue de la Buerie",
    "rue du Beffroi",
    "rue des Minimes",
    "rue Porte Hozanne",
    "rue de l'Hôtel-Dieu",
    "rue Saint-Antoine",
    "rue de la Congrégation",
    "rue du Pot d'Étain",
    "rue Quinquet",
    "rue des Chaperons Rouges",
    "rue Saint-Rémy",
    "rue des Feuillants",
    "rue Matigny",
    "rue de Mayenne",
    "rue Neuve Saint-Martin",
    "rue Charles Desboves",
]


class _Names:
    """Hand out street names without repeating one in the town."""

    def __init__(self) -> None:
        r = rng_for(1)
        self.people = list(r.permutation(_PEOPLE))
        self.things = list(r.permutation(_THINGS))
        self.centre_names = list(r.permutation(_CENTRE))
        self.r = r

    def street(self, kind: str = "rue") -> str:
        pool = self.people if (self.r.random() < 0.55 and self.people) else self.things
        return f"{kind} {self._pop(pool)}"

    def centre(self) -> str:
        return str(self.centre_names.pop()) if self.centre_names else self.street()

    def _pop(self, pool: list[str]) -> str:
        if not pool:
            pool = self.things or self.people
        if not pool:  # ran out: number the rest
            self.extra = getattr(self, "extra", 0) + 1
            return f"du Quartier n° {self.extra}"
        return str(pool.pop())


NAMES = _Names()


# --- the commune -----------------------------------------------------------------------------


def commune_outline() -> Polygon:
    """Return an irregular ~12 km² outline, longer west–east (the Aisne valley)."""
    r = rng_for(2)
    th = np.linspace(0, 2 * np.pi, 160, endpoint=False)
    a, b = 2250.0, 1700.0
    rad = a * b / np.sqrt((b * np.cos(th)) ** 2 + (a * np.sin(th)) ** 2)
    for k, amp in ((2, 0.07), (3, 0.06), (5, 0.035), (7, 0.02)):
        rad *= 1 + amp * np.cos(k * th + r.uniform(0, 2 * np.pi))
    rad *= 1 + 0.01 * r.standard_normal(th.size)
    poly = Polygon(np.c_[100 + rad * np.cos(th), -80 + rad * np.sin(th)])
    scale = math.sqrt(12.0e6 / poly.area)
    return shapely.affinity.scale(poly, scale, scale, origin=(0, 0))


# --- street grids ----------------------------------------------------------------------------


@dataclass
class GridSpec:
    """A warped street grid around a centre (local metres)."""

    key: str
    centre: tuple[float, float]
    radius: float
    angle: float  # degrees
    du: float
    dv: float
    highway: str = "residential"
    remove_share: float = 0.12
    footway_share: float = 0.08
    dead_ends: int = 3
    lines: list[tuple[LineString, str, str]] = field(default_factory=list)
    nodes: dict[tuple[int, int], tuple[float, float]] = field(default_factory=dict)


def make_grid(spec: GridSpec, seed: int) -> None:
    """Fill ``spec.lines`` with (geometry, name, highway) and ``spec.nodes`` with node points."""
    r = rng_for(10, seed)
    ang = math.radians(spec.angle)
    ca, sa = math.cos(ang), math.sin(ang)
    waves = [
        (r.uniform(-1, 1) / 120, r.uniform(-1, 1) / 120, r.uniform(0, 2 * np.pi), r.uniform(8, 16))
        for _ in range(4)
    ]

    def warp(u: float, v: float) -> tuple[float, float]:
        du = sum(a * math.sin(ku * u + kv * v + ph) for ku, kv, ph, a in waves[:2])
        dv = sum(a * math.sin(ku * u + kv * v + ph) for ku, kv, ph, a in waves[2:])
        uu, vv = u + du, v + dv
        return spec.centre[0] + uu * ca - vv * sa, spec.centre[1] + uu * sa + vv * ca

    harm = [(k, r.uniform(0.05, 0.14), r.uniform(0, 2 * np.pi)) for k in (2, 3)]

    def inside(u: float, v: float) -> bool:
        th = math.atan2(v, u)
        rr = spec.radius * (1 + sum(a * math.cos(k * th + p) for k, a, p in harm))
        return math.hypot(u, v) <= rr

    n = int(spec.radius / min(spec.du, spec.dv)) + 2
    uv = {}
    for i in range(-n, n + 1):
        for j in range(-n, n + 1):
            u, v = i * spec.du, j * spec.dv
            if inside(u, v):
                uv[(i, j)] = (u, v)
    g = nx.Graph()
    for i, j in uv:
        for di, dj in ((1, 0), (0, 1)):
            if (i + di, j + dj) in uv:
                g.add_edge((i, j), (i + di, j + dj))
    # keep the largest connected piece, then remove some links while staying connected
    g = g.subgraph(max(nx.connected_components(g), key=len)).copy()
    edges = sorted(g.edges())
    order = r.permutation(len(edges))
    target = int(spec.remove_share * len(edges))
    removed = 0
    for k in order:
        if removed >= target:
            break
        a, b = edges[k]
        g.remove_edge(a, b)
        if nx.is_connected(g):
            removed += 1
        else:
            g.add_edge(a, b)
    if spec.key == "centre":
        row_names = {j: NAMES.centre() for j in sorted({j for _, j in g.nodes})}
        col_names = {i: NAMES.centre() for i in sorted({i for i, _ in g.nodes})}
    else:
        row_names = {
            j: NAMES.street(str(r.choice(["rue", "rue", "avenue", "allée"])))
            for j in sorted({j for _, j in g.nodes})
        }
        col_names = {i: NAMES.street("rue") for i in sorted({i for i, _ in g.nodes})}
    for i, j in g.nodes:
        spec.nodes[(i, j)] = warp(*uv[(i, j)])
    for a, b in sorted(g.edges()):
        (ua, va), (ub, vb) = uv[a], uv[b]
        horiz = a[1] == b[1]
        # some streets bend between their crossings (the crossings themselves stay put)
        bend = r.choice([-1, 1]) * r.uniform(7, 13) if r.random() < 0.15 else 0.0
        ts = np.linspace(0, 1, 9 if bend else 5)
        off = bend * np.sin(np.pi * ts)
        pts = [
            warp(ua + (ub - ua) * t + (0 if horiz else o), va + (vb - va) * t + (o if horiz else 0))
            for t, o in zip(ts, off, strict=True)
        ]
        name = row_names[a[1]] if horiz else col_names[a[0]]
        hw = spec.highway
        if r.random() < spec.footway_share and g.degree(a) > 2 and g.degree(b) > 2:
            hw, name = "footway", "passage " + name.split(" ", 1)[1]
        spec.lines.append((LineString(pts), name, hw))
    # dead ends (impasses): short stubs from an edge's midpoint into a block
    cands = [e for e in spec.lines if e[2] == spec.highway]
    for k in r.choice(len(cands), size=min(spec.dead_ends, len(cands)), replace=False):
        line = cands[k][0]
        m = len(line.coords) // 2
        mid = np.asarray(line.coords[m])
        d = np.asarray(line.coords[m + 1]) - np.asarray(line.coords[m - 1])
        nrm = np.array([-d[1], d[0]]) / np.linalg.norm(d)
        side = 1 if r.random() < 0.5 else -1
        stub = LineString([mid, mid + side * nrm * r.uniform(26, 34)])
        base = cands[k][1].split(" ", 1)[1]
        spec.lines.append((stub, f"impasse {base}", "residential"))


def curve(a: tuple[float, float], b: tuple[float, float], bend: float, n: int = 14) -> LineString:
    """Return a gentle quadratic curve from `a` to `b`, bent by `bend` x its length."""
    pa, pb = np.asarray(a), np.asarray(b)
    d = pb - pa
    ctrl = (pa + pb) / 2 + bend * np.array([-d[1], d[0]])
    t = np.linspace(0, 1, n)[:, None]
    pts = (1 - t) ** 2 * pa + 2 * (1 - t) * t * ctrl + t**2 * pb
    return LineString(pts)


def nearest_node(spec: GridSpec, target: tuple[float, float]) -> tuple[float, float]:
    """Return the grid node nearest to `target` (a point of the street lines)."""
    return min(spec.nodes.values(), key=lambda p: math.dist(p, target))


# --- the town --------------------------------------------------------------------------------

QUARTIERS = [
    # code, name (INSEE, 2015 QPV generation), centre (local m), target area (ha), population
    # (published: INSEE DEMO 2021, POP_MUN), pop (residents given to the illustrative buildings),
    # grid spec
    dict(
        code="QP002012",
        name="Saint-Crépin Ouest",
        population=2081,
        centre=(860.0, 470.0),
        area_ha=33.0,
        pop=3500,
        grid=dict(radius=470, angle=17, du=88, dv=96),
    ),
    dict(
        code="QP002013",
        name="Presles",
        population=5766,
        centre=(-720.0, -760.0),
        area_ha=25.0,
        pop=2800,
        grid=dict(radius=420, angle=-11, du=82, dv=92),
    ),
    dict(
        code="QP002014",
        name="Chevreux",
        population=1238,
        centre=(660.0, -860.0),
        area_ha=29.0,
        pop=3000,
        grid=dict(radius=450, angle=33, du=94, dv=84),
    ),
]


def to_world(geom: Any) -> Any:
    """Shift a local geometry (metres from the centre) to Lambert-93."""
    return shapely.affinity.translate(geom, X0, Y0)


def blob(cx: float, cy: float, radius: float, r: np.random.Generator) -> Polygon:
    """Return an irregular rounded polygon (a park) of mean radius `radius`."""
    th = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    rad = radius * (
        1 + sum(r.uniform(0.05, 0.15) * np.cos(k * th + r.uniform(0, 6.3)) for k in (2, 3, 4))
    )
    return Polygon(np.c_[cx + rad * np.cos(th), cy + rad * np.sin(th)])


def block_frame(block: Polygon) -> float:
    """Return the angle (degrees) of a block's longer side."""
    rect = block.minimum_rotated_rectangle
    c = np.asarray(rect.exterior.coords)
    e1, e2 = c[1] - c[0], c[2] - c[1]
    e = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    return math.degrees(math.atan2(e[1], e[0]))


def rect(cx: float, cy: float, length: float, width: float, angle: float) -> Polygon:
    """Return a rectangle centred at (cx, cy), `length` along `angle` degrees."""
    p = shapely.box(-length / 2, -width / 2, length / 2, width / 2)
    return shapely.affinity.translate(rotate(p, angle, origin=(0, 0)), cx, cy)


class Town:
    """All layers, built step by step in local metres."""

    def __init__(self) -> None:
        self.commune = commune_outline()
        self.grids: dict[str, GridSpec] = {}
        self.streets: list[tuple[LineString, str, str]] = []
        self.quartiers: dict[str, Polygon] = {}
        self.qblocks: dict[str, list[Polygon]] = {}
        self.ring_blocks: list[Polygon] = []
        self.centre_blocks: list[Polygon] = []
        self.facilities: list[dict[str, Any]] = []
        self.renewal: list[dict[str, Any]] = []
        self.desealed: list[dict[str, Any]] = []
        self.green: list[dict[str, Any]] = []
        self.trees: list[dict[str, Any]] = []
        self.buildings: list[dict[str, Any]] = []
        self.reserved: list[Polygon] = []  # where no building may go
        self.vacant_blocks: set[int] = set()  # id() of blocks left without new buildings

    # -- streets ------------------------------------------------------------------------------

    def build_streets(self) -> None:
        """Draw the quartier and centre grids and the main roads, then node every crossing."""
        for k, q in enumerate(QUARTIERS):
            spec = GridSpec(q["code"], q["centre"], **q["grid"])
            make_grid(spec, k)
            self.grids[q["code"]] = spec
        centre = GridSpec(
            "centre",
            (0.0, 0.0),
            radius=330,
            angle=6,
            du=72,
            dv=78,
            remove_share=0.08,
            footway_share=0.12,
            dead_ends=1,
        )
        make_grid(centre, 9)
        # the centre's pedestrian streets
        centre.lines = [
            (g, n, "pedestrian" if hw == "footway" else hw) for g, n, hw in centre.lines
        ]
        self.grids["centre"] = centre
        lines = [ln for s in self.grids.values() for ln in s.lines]
        sc, pr, ch, ce = (self.grids[c] for c in ("QP002012", "QP002013", "QP002014", "centre"))

        def link(a: GridSpec, b: GridSpec, bend: float, name: str, hw: str) -> None:
            pa = nearest_node(a, b.centre)
            pb = nearest_node(b, a.centre)
            lines.append((curve(pa, pb, bend), name, hw))

        link(ce, sc, 0.08, "boulevard Jeanne d'Arc", "secondary")
        link(ce, pr, -0.06, "avenue de Compiègne", "secondary")
        link(ce, ch, 0.07, "avenue de Château-Thierry", "secondary")
        link(sc, ch, -0.10, "boulevard Gambetta", "tertiary")
        link(pr, ch, 0.05, "rue de Presles", "tertiary")
        # radial roads towards the commune's edge
        for spec, direction, name, hw, bend in (
            (sc, 40, "avenue de Reims", "primary", 0.04),
            (ce, 100, "avenue de Laon", "primary", -0.05),
            (pr, 200, "avenue de Paris", "primary", 0.05),
            (ch, 290, "route de Belleu", "secondary", -0.04),
        ):
            th = math.radians(direction)
            far = Point(spec.centre[0] + 5000 * math.cos(th), spec.centre[1] + 5000 * math.sin(th))
            ray = LineString([spec.centre, far.coords[0]])
            edge = ray.intersection(self.commune.exterior)
            edge = edge if edge.geom_type == "Point" else shapely.get_parts(edge)[0]
            end = np.asarray(spec.centre) + (np.asarray(edge.coords[0]) - spec.centre) * (
                1 - 90 / ray.project(edge)
            )
            start = min(spec.nodes.values(), key=lambda p: math.dist(p, tuple(end)))
            lines.append((curve(start, tuple(end), bend), name, hw))
        # node every crossing: each output line runs between two intersections
        union = shapely.union_all([g for g, _, _ in lines])
        pieces = [g for g in shapely.get_parts(union) if g.length > 0.05]
        tree = STRtree([g for g, _, _ in lines])
        out = []
        for piece in pieces:
            mid = piece.interpolate(0.5, normalized=True)
            idx = tree.query_nearest(mid)[0]
            _, name, hw = lines[int(idx)]
            out.append((piece, name, hw))
        self.streets = out
        self.street_geoms = [g for g, _, _ in out]
        self.street_tree = STRtree(self.street_geoms)

    def street_distance(self, geom: Any) -> float:
        """Return the distance from `geom` to the nearest street centre line."""
        idx = self.street_tree.query_nearest(geom)
        return float(min(self.street_geoms[i].distance(geom) for i in np.atleast_1d(idx)))

    # -- blocks and quartiers -----------------------------------------------------------------

    def build_quartiers(self) -> None:
        """Polygonise the streets into blocks and grow each quartier from its centre."""
        polys = list(shapely.get_parts(shapely.polygonize(self.street_geoms)))
        for k, q in enumerate(QUARTIERS):
            spec = self.grids[q["code"]]
            hull = shapely.MultiPoint(list(spec.nodes.values())).convex_hull
            blocks = [
                b for b in polys if b.area < 25000 and hull.contains(b.representative_point())
            ]
            r = rng_for(20, k)
            harm = [(kk, r.uniform(0.08, 0.2), r.uniform(0, 2 * np.pi)) for kk in (1, 2, 3)]
            cx, cy = q["centre"]

            blocks.sort(key=lambda b, c=(cx, cy), h=harm: _star_distance(b.centroid, c, h))
            chosen: list[Polygon] = []
            for b in blocks:
                if sum(c.area for c in chosen) >= q["area_ha"] * 1e4:
                    break
                chosen.append(b)
            poly = shapely.union_all(chosen)
            if poly.geom_type == "MultiPolygon":
                poly = max(poly.geoms, key=lambda p: p.area)
            poly = Polygon(poly.exterior)
            self.quartiers[q["code"]] = poly
            inner = [b for b in blocks if poly.contains(b.representative_point())]
            inner.sort(key=lambda b: math.dist((b.centroid.x, b.centroid.y), q["centre"]))
            self.qblocks[q["code"]] = inner
            self.ring_blocks += [b for b in blocks if not poly.contains(b.representative_point())]
        ce = self.grids["centre"]
        hull = shapely.MultiPoint(list(ce.nodes.values())).convex_hull
        self.centre_blocks = sorted(
            (b for b in polys if b.area < 25000 and hull.contains(b.representative_point())),
            key=lambda b: b.centroid.distance(Point(0, 0)),
        )

    # -- helpers ------------------------------------------------------------------------------

    def place_rect(
        self,
        block: Polygon,
        area: float,
        r: np.random.Generator,
        *,
        ratio: float = 1.3,
        margin: float = 8.0,
        avoid: list[Polygon] | None = None,
    ) -> Polygon:
        """Return a rectangle of `area` m² inside `block` (set back by `margin`)."""
        inner = block.buffer(-margin)
        ang = block_frame(block)
        length = math.sqrt(area * ratio)
        width = area / length
        minx, miny, maxx, maxy = inner.bounds
        avoid_u = shapely.union_all(avoid) if avoid else None
        for attempt in range(400):
            f = 1.0 - 0.25 * attempt / 400  # shrink a little when the block is tight
            cx, cy = r.uniform(minx, maxx), r.uniform(miny, maxy)
            cand = rect(cx, cy, length * f, width * f, ang + (90 if attempt % 2 else 0))
            if inner.contains(cand) and (avoid_u is None or not cand.intersects(avoid_u)):
                return cand
        raise RuntimeError(f"no room for a {area:.0f} m² rectangle in block of {block.area:.0f}")

    def edge_point(self, block: Polygon, frac: float, inset: float = 10.0) -> Point:
        """Return a point on the ring `inset` metres inside the block, at `frac` of its length."""
        ring = block.buffer(-inset).exterior
        return ring.interpolate(frac % 1.0, normalized=True)

    def nearest_street_name(self, geom: Any, exclude_footways: bool = True) -> str:
        """Return the name of the street nearest to `geom` (for addresses)."""
        best, name = float("inf"), ""
        for g, n, hw in self.streets:
            if exclude_footways and hw in ("footway",):
                continue
            d = g.distance(geom)
            if d < best:
                best, name = d, n
        return name

    def add_facility(
        self, name: str, kind: str, opened: int | None, pt: Point, reserve: float = 12.0
    ) -> None:
        """Add a facility point; keep buildings `reserve` metres away from it."""
        self.facilities.append(dict(name=name, kind=kind, opened=opened, geometry=pt))
        if reserve:
            self.reserved.append(pt.buffer(reserve))

    # -- roles of blocks ----------------------------------------------------------------------

    def build_programme(self) -> None:
        """Parks, schools, hearts of quartier, renewal sites, town-centre facilities."""
        sc, pr, ch = (self.qblocks[c] for c in ("QP002012", "QP002013", "QP002014"))
        r = rng_for(30)

        def pick(blocks: list[Polygon], *, near: int = 0, min_area: float = 0.0) -> Polygon:
            """Take a free block: the one at rank >= `near` from the centre, large enough."""
            free = [b for b in blocks if id(b) not in self.used]
            cands = [b for b in free[near:] if b.area >= min_area] or free
            b = cands[0]
            self.used.add(id(b))
            return b

        def largest(blocks: list[Polygon], upto: int) -> Polygon:
            free = [b for b in blocks[:upto] if id(b) not in self.used]
            b = max(free, key=lambda p: p.area)
            self.used.add(id(b))
            return b

        self.used: set[int] = set()

        # ---- Saint-Crépin ----
        park = largest(sc, 12)
        self.green.append(
            dict(name="Square du Cœur de Saint-Crépin", public=True, geometry=park.buffer(-7))
        )
        self.reserved.append(park)
        self.add_facility(
            "Aire de jeux d'eau de Saint-Crépin",
            "water_play_area",
            2023,
            park.representative_point(),
            reserve=0,
        )
        heart = pick(sc)
        self.add_facility(
            "Maison de santé pluriprofessionnelle de Saint-Crépin",
            "health_centre",
            2024,
            self.edge_point(heart, 0.05),
        )
        self.add_facility(
            "Supérette du cœur de quartier", "shop", 2024, self.edge_point(heart, 0.30)
        )
        self.add_facility(
            "Agence de proximité du bailleur social — Saint-Crépin",
            "social_landlord_agency",
            2019,
            self.edge_point(heart, 0.55),
        )
        self.add_facility(
            "Local GSUP — médiateurs GSA et adultes relais",
            "other",
            2022,
            self.edge_point(heart, 0.8),
        )
        shop_b = pick(sc, near=4)
        self.add_facility("Boulangerie Saint-Crépin", "shop", 2008, self.edge_point(shop_b, 0.15))
        self.add_facility("Pharmacie Saint-Crépin", "shop", 1983, self.edge_point(shop_b, 0.6))
        self.school_block(
            sc,
            3,
            "École maternelle Les Coquelicots",
            1972,
            "Cour oasis — école maternelle Les Coquelicots",
            2022,
            r,
        )
        self.school_block(
            sc,
            9,
            "École élémentaire Jean de La Fontaine",
            1968,
            "Cour oasis — école élémentaire Jean de La Fontaine",
            2024,
            r,
        )
        demo = pick(sc, near=5, min_area=6000)
        self.vacant_blocks.add(id(demo))
        ang = block_frame(demo)
        c = demo.centroid
        street = self.nearest_street_name(demo)
        for label, dw, yr, off, ln in (("A", 120, 2021, -11, 68), ("B", 80, 2022, 13, 50)):
            dx, dy = -off * math.sin(math.radians(ang)), off * math.cos(math.radians(ang))
            fp = rect(c.x + dx, c.y + dy, ln, 12, ang)
            if not demo.buffer(-7).contains(fp):
                fp = self.place_rect(demo, ln * 12, r, ratio=ln / 12, margin=7)
            self.renewal.append(
                dict(
                    name=f"Démolition bâtiment {label} — {street}",
                    operation="demolition",
                    dwellings=dw,
                    housing_type="collective",
                    tenure="social",
                    status="done",
                    year=yr,
                    compensates=None,
                    geometry=fp,
                )
            )
        recon = pick(sc, near=6, min_area=6000)
        self.recon_block = recon
        # off-site reconstruction: a town-centre block, outside every QPV
        off = self.centre_blocks[-3]
        self.vacant_blocks.add(id(off))
        self.renewal.append(
            dict(
                name=f"Reconstitution hors site — {self.nearest_street_name(off)}",
                operation="reconstruction",
                dwellings=60,
                housing_type="collective",
                tenure="social",
                status="in_progress",
                year=2025,
                compensates="QP002012",
                geometry=off.buffer(-9),
            )
        )
        priv = pick(sc, near=2)
        self.private_garden_block = priv
        g = self.place_rect(priv, 900, r, ratio=1.2, margin=14)
        self.green.append(
            dict(name="Cœur d'îlot de la résidence Les Acacias", public=False, geometry=g)
        )
        self.reserved.append(g.buffer(3))

        # ---- Presles ----
        park = largest(pr, 10)
        self.green.append(
            dict(name="Jardin public de Presles", public=True, geometry=park.buffer(-7))
        )
        self.reserved.append(park)
        self.add_facility(
            "Aire de jeux d'eau de Presles",
            "water_play_area",
            2024,
            park.representative_point(),
            reserve=0,
        )
        heart = pick(pr)
        for frac, (name, kind, yr) in zip(
            (0.02, 0.2, 0.38, 0.56, 0.74, 0.9),
            (
                ("Centre communal d'action sociale (CCAS) — pôle de Presles", "ccas", 2022),
                ("Programme de réussite éducative (PRE)", "education_programme", 2022),
                ("Mission locale du Soissonnais — antenne de Presles", "youth_employment", 2022),
                ("Poste de police municipale de proximité", "police", 2021),
                ("#AuLocal — tiers-lieu et permanence Cités Lab", "other", 2023),
                ("Boulangerie de Presles", "shop", 1994),
            ),
            strict=True,
        ):
            self.add_facility(name, kind, yr, self.edge_point(heart, frac))
        self.school_block(pr, 3, "École maternelle Louise Michel", 1970, None, None, r)
        self.school_block(pr, 8, "École élémentaire Condorcet", 1966, None, None, r)
        offp = pick(pr, near=4, min_area=5000)
        self.vacant_blocks.add(id(offp))
        self.renewal.append(
            dict(
                name=f"Reconstitution hors site de Chevreux — {self.nearest_street_name(offp)}",
                operation="reconstruction",
                dwellings=40,
                housing_type="collective",
                tenure="social",
                status="in_progress",
                year=2025,
                compensates="QP002014",
                geometry=offp.buffer(-9),
            )
        )
        shop_b = pick(pr, near=6)
        self.add_facility("Pharmacie de Presles", "shop", 1988, self.edge_point(shop_b, 0.1))
        self.add_facility("Épicerie solidaire", "shop", 2016, self.edge_point(shop_b, 0.5))

        # ---- Chevreux ----
        park = largest(ch, 12)
        self.green.append(dict(name="Parc de Chevreux", public=True, geometry=park.buffer(-7)))
        self.reserved.append(park)
        self.add_facility(
            "Aire de jeux d'eau de Chevreux",
            "water_play_area",
            2024,
            park.representative_point(),
            reserve=0,
        )
        heart = pick(ch)
        for frac, (name, kind, yr) in zip(
            (0.02, 0.25, 0.5, 0.75),
            (
                ("Maison de santé de Chevreux", "health_centre", 2023),
                ("Maison de l'égalité et des droits des femmes", "womens_rights_centre", 2023),
                ("Centre social de Chevreux", "social_centre", 2024),
                ("Agence OPAL de Chevreux", "social_landlord_agency", 2018),
            ),
            strict=True,
        ):
            self.add_facility(name, kind, yr, self.edge_point(heart, frac))
        lot = self.place_rect(
            heart,
            1100,
            r,
            ratio=1.8,
            margin=9,
            avoid=[f["geometry"].buffer(12) for f in self.facilities[-4:]],
        )
        self.desealed.append(
            dict(
                site="Parking du centre social de Chevreux",
                site_type="car_park",
                year=2024,
                status="done",
                geometry=lot,
            )
        )
        self.reserved.append(lot.buffer(3))
        sport = pick(ch, near=4, min_area=5000)
        self.vacant_blocks.add(id(sport))
        self.add_facility(
            "Complexe sportif de Chevreux (boxe, kick-boxing, tennis de table)",
            "sports",
            1979,
            sport.representative_point(),
            reserve=0,
        )
        self.school_block(
            ch,
            2,
            "École maternelle Les Hirondelles",
            1975,
            "Cour oasis — école maternelle Les Hirondelles",
            2023,
            r,
        )
        self.school_block(
            ch,
            8,
            "École élémentaire Simone Veil",
            1971,
            "Cour oasis — école élémentaire Simone Veil",
            2025,
            r,
        )
        demo = pick(ch, near=6, min_area=8000)
        self.vacant_blocks.add(id(demo))
        street = self.nearest_street_name(demo)
        fp = self.place_rect(demo, 14 * 72, r, ratio=72 / 14, margin=9)
        self.renewal.append(
            dict(
                name=f"Démolition bâtiment C — {street}",
                operation="demolition",
                dwellings=90,
                housing_type="collective",
                tenure="social",
                status="done",
                year=2023,
                compensates=None,
                geometry=fp,
            )
        )
        self.renewal.append(
            dict(
                name=f"« Ma maison dans l'Aisne » — maisons individuelles, {street}",
                operation="reconstruction",
                dwellings=30,
                housing_type="individual",
                tenure="ownership",
                status="planned",
                year=2026,
                compensates="QP002014",
                geometry=demo.buffer(-8),
            )
        )
        shop_b = pick(ch, near=3)
        self.add_facility("Tabac-presse de Chevreux", "shop", 1992, self.edge_point(shop_b, 0.2))
        self.add_facility("Épicerie de Chevreux", "shop", 2011, self.edge_point(shop_b, 0.65))
        self.jardin_block = pick(ch, near=5)
        g = self.place_rect(self.jardin_block, 1300, r, ratio=1.5, margin=12)
        self.green.append(dict(name="Jardin partagé des Tilleuls", public=True, geometry=g))
        self.reserved.append(g.buffer(3))

        # ---- town centre (outside every QPV) ----
        cb = [b for b in self.centre_blocks if id(b) not in self.vacant_blocks]
        hv = cb[0]
        self.green.append(
            dict(
                name="Square de l'Hôtel de Ville",
                public=True,
                geometry=self.place_rect(hv, 1800, r, ratio=1.4, margin=10),
            )
        )
        self.reserved.append(self.green[-1]["geometry"].buffer(3))
        centre_fac = [
            (hv, 0.1, "Hôtel de ville de Soissons", "other", 1950),
            (cb[1], 0.3, "Médiathèque municipale", "other", 1994),
            (cb[2], 0.6, "Commissariat de police nationale", "police", 1985),
            (cb[3], 0.2, "Collège Jean Mermoz", "school", 1969),
            (cb[4], 0.4, "École élémentaire du Centre", "school", 1958),
            (cb[5], 0.7, "Supermarché du centre-ville", "shop", 1990),
            (cb[6], 0.1, "Pharmacie du Mail", "shop", 1976),
            (cb[1], 0.8, "Centre social du centre-ville", "social_centre", 2001),
            (cb[7], 0.5, "Gymnase municipal", "sports", 1974),
            (cb[8], 0.3, "Mission locale du Soissonnais — siège", "youth_employment", 1998),
            (cb[9], 0.5, "École maternelle du Mail", "school", 1962),
            (cb[10], 0.2, "Maison de santé du centre-ville", "health_centre", 2015),
        ]
        for blk, frac, name, kind, yr in centre_fac:
            self.add_facility(name, kind, yr, self.edge_point(blk, frac))
        # large parks outside the quartiers, in open ground (checked against streets below);
        # the Mail runs west from the north-west corner of the town centre
        nw = nearest_node(self.grids["centre"], (-400.0, 330.0))
        self.green.append(
            dict(
                name="Promenade du Mail",
                public=True,
                geometry=Polygon(
                    curve((nw[0] - 560, nw[1] - 110), (nw[0] - 30, nw[1] + 25), 0.06, 20)
                    .buffer(16, cap_style="flat")
                    .exterior
                ),
            )
        )
        self.green.append(
            dict(
                name="Parc du Mont de Presles",
                public=True,
                geometry=self.park_along("avenue de Paris", 0.45, 66, rng_for(31)),
            )
        )
        self.green.append(
            dict(
                name="Parc des Prés de Chevreux",
                public=True,
                geometry=self.park_along("boulevard Gambetta", 0.5, 52, rng_for(32)),
            )
        )
        # every quartier gets its waste collection points along its streets
        for k, (code, _name) in enumerate(
            (("QP002012", "Saint-Crépin"), ("QP002013", "Presles"), ("QP002014", "Chevreux"))
        ):
            self.waste_points(code, 5 if k != 1 else 4, rng_for(40, k))

    def park_along(self, road: str, frac: float, radius: float, r: np.random.Generator) -> Polygon:
        """Return a park of mean radius `radius` beside main road `road`, on its open side."""
        line = shapely.line_merge(shapely.union_all([g for g, n, _ in self.streets if n == road]))
        p = line.interpolate(frac, normalized=True)
        q = line.interpolate(frac + 0.01, normalized=True)
        d = np.array([q.x - p.x, q.y - p.y]) / p.distance(q)
        parks = [
            blob(p.x - side * d[1] * (radius + 22), p.y + side * d[0] * (radius + 22), radius, r)
            for side in (1, -1)
        ]
        return max(parks, key=self.street_distance)

    def school_block(
        self,
        blocks: list[Polygon],
        near: int,
        name: str,
        opened: int,
        yard: str | None,
        yard_year: int | None,
        r: np.random.Generator,
    ) -> None:
        """Take a block for a school: its yard (a de-sealed cour oasis or not) and entrance."""
        free = [b for b in blocks if id(b) not in self.used]
        cands = [b for b in free[near:] if b.area >= 5500] or free
        b = cands[0]
        self.used.add(id(b))
        self.vacant_blocks.add(id(b))
        area = float(r.uniform(1600, 2900))
        y = self.place_rect(b, area, r, ratio=1.25, margin=9)
        ring = b.buffer(-10).exterior
        pt = max(
            (ring.interpolate(f, normalized=True) for f in np.linspace(0, 1, 24)),
            key=lambda p: p.distance(y),
        )
        self.add_facility(name, "school", opened, pt)
        self.school_yards = getattr(self, "school_yards", [])
        self.school_yards.append(y)
        if yard is not None:
            self.desealed.append(
                dict(
                    site=yard,
                    site_type="school_yard",
                    year=yard_year,
                    status="done" if yard_year and yard_year <= 2024 else "in_progress",
                    geometry=y,
                )
            )

    def waste_points(self, code: str, n: int, r: np.random.Generator) -> None:
        """Place `n` waste collection points on the kerb of streets inside quartier `code`."""
        poly = self.quartiers[code]
        cands = [
            g
            for g, _, hw in self.streets
            if hw == "residential"
            and poly.buffer(-15).contains(g.interpolate(0.5, normalized=True))
        ]
        for k in r.choice(len(cands), size=n, replace=False):
            g = cands[int(k)]
            p = np.asarray(g.interpolate(0.5, normalized=True).coords[0])
            q = np.asarray(g.interpolate(0.5 + 1 / max(g.length, 1), normalized=True).coords[0])
            d = (q - p) / np.linalg.norm(q - p)
            pt = Point(p + 4.0 * np.array([-d[1], d[0]]))
            street = self.streets[[s[0] for s in self.streets].index(g)][1]
            self.add_facility(
                f"Point d'apport volontaire — {street}",
                "waste_point",
                int(r.integers(2021, 2024)),
                pt,
                reserve=4,
            )

    # -- buildings ----------------------------------------------------------------------------

    def can_build(self, fp: Polygon, block_inner: Polygon, gap: float) -> bool:
        """Tell whether footprint `fp` fits: in its block, off streets and reserved land, apart."""
        if not block_inner.contains(fp):
            return False
        if self.street_distance(fp) < SETBACK:
            return False
        if self.reserved_tree is not None and len(
            self.reserved_tree.query(fp, predicate="intersects")
        ):
            return False
        # buildings of other blocks are across a street: only this block's can be too close
        zone = fp.buffer(gap)
        return not any(b["geometry"].intersects(zone) for b in self._recent)

    def build_block(
        self,
        block: Polygon,
        kind: str,
        r: np.random.Generator,
        code: str | None,
        max_coll: int = 3,
        house_keep: float = 0.6,
        row: bool = False,
    ) -> None:
        """Place collective blocks or houses in one street block."""
        inner = block.buffer(-SETBACK)
        self._recent: list[dict[str, Any]] = []
        self._block_no = getattr(self, "_block_no", 0) + 1
        if kind == "collective":
            ang = block_frame(block)
            minx, miny, maxx, maxy = block.buffer(-12).bounds
            placed = 0
            for attempt in range(80):
                if placed >= max_coll or maxx <= minx or maxy <= miny:
                    break
                ln, wd = float(r.uniform(40, 80)), float(r.uniform(10, 15))
                if attempt > 40:
                    ln *= 0.7
                a = ang + (90 if r.random() < 0.3 else 0)
                fp = rect(r.uniform(minx, maxx), r.uniform(miny, maxy), ln, wd, a)
                if self.can_build(fp, inner, 12.0):
                    self._add_building(fp, "collective", code)
                    placed += 1
        else:
            # houses face the street; rows of town houses also fill a second, inner ring
            insets = (13.0, 33.0) if row else (13.0,)
            step = 22.0 if row else 15.0
            for inset in insets:
                shrunk = block.buffer(-inset)
                if shrunk.is_empty or shrunk.geom_type != "Polygon":
                    continue
                ring = shrunk.exterior
                length = ring.length
                for s in np.arange(r.uniform(0, step), length, step):
                    if not row and r.random() > house_keep:
                        continue
                    p = ring.interpolate(s)
                    q = ring.interpolate(min(s + 1, length - 0.01))
                    a = math.degrees(math.atan2(q.y - p.y, q.x - p.x))
                    ln, wd = (18.0, 8.5) if row else (10.0, 8.0)
                    fp = rect(p.x, p.y, ln, wd, a)
                    if self.can_build(fp, inner, 3.0):
                        self._add_building(fp, "individual", code, rows=3 if row else 1)
        self._recent = []

    def _add_building(self, fp: Polygon, htype: str, code: str | None, rows: int = 1) -> None:
        b = dict(
            geometry=fp, housing_type=htype, quartier=code, dwellings=rows, block=self._block_no
        )
        self.buildings.append(b)
        self._recent.append(b)

    def build_residences(self) -> None:
        """Fill the blocks with buildings: quartiers first, then ~10 % just outside."""
        self.reserved_tree = STRtree(self.reserved)
        r = rng_for(50)
        coll_share = {"QP002012": 0.62, "QP002013": 0.6, "QP002014": 0.6}
        for code, blocks in self.qblocks.items():
            for b in blocks:
                if id(b) in self.vacant_blocks or b is getattr(self, "recon_block", None):
                    continue
                if b.area < 2500:
                    continue
                kind = "collective" if r.random() < coll_share[code] else "individual"
                self.build_block(b, kind, r, code)
        # on-site reconstruction in Saint-Crépin: rows of town houses
        self.build_block(self.recon_block, "individual", r, "QP002012", row=True)
        rows = [b for b in self.buildings if b["geometry"].intersects(self.recon_block)]
        for b in rows:
            b["fixed"] = True
        self.renewal.append(
            dict(
                name=f"Reconstruction sur site — maisons individuelles, "
                f"{self.nearest_street_name(self.recon_block)}",
                operation="reconstruction",
                dwellings=sum(b["dwellings"] for b in rows),
                housing_type="individual",
                tenure="social",
                status="done",
                year=2024,
                compensates="QP002012",
                geometry=self.recon_block.buffer(-7),
            )
        )
        n_in = len(self.buildings)
        # just outside the quartiers and in the town centre: ~10 % of the buildings
        outside = [
            b
            for b in self.ring_blocks + self.centre_blocks
            if id(b) not in self.vacant_blocks and b.area > 2500 and self.commune.contains(b)
        ]
        r.shuffle(outside)  # type: ignore[arg-type]
        for b in outside:
            if len(self.buildings) - n_in >= 0.11 * n_in:
                break
            kind = "collective" if r.random() < 0.25 else "individual"
            self.build_block(b, kind, r, None, max_coll=1, house_keep=0.35)

    def renewal_on_buildings(self) -> None:
        """Rehabilitation, façades and residentialisation on existing collective buildings."""

        def group(code: str, n: int, skip: int) -> list[dict[str, Any]]:
            q = self.quartiers[code]
            c = q.centroid
            colls = sorted(
                (
                    b
                    for b in self.buildings
                    if b["quartier"] == code
                    and b["housing_type"] == "collective"
                    and not b.get("fixed")
                ),
                key=lambda b: b["geometry"].distance(c),
            )[skip:]
            # one residence = neighbouring buildings of one block, so the site does not
            # straddle a street
            for first in colls:
                rest = [b for b in colls if b["block"] == first["block"] and b is not first]
                if len(rest) >= n - 1:
                    break
            else:
                raise RuntimeError(f"no block of {code} holds {n} collective buildings")
            rest.sort(key=lambda b: b["geometry"].distance(first["geometry"]))
            chosen = [first, *rest[: n - 1]]
            for b in chosen:
                b["fixed"] = True
            return chosen

        sc_rehab = group("QP002012", 2, 3)
        for b in sc_rehab:
            b["dwellings"] = 48
        opal = group("QP002014", 3, 1)
        for b in opal:
            b["dwellings"] = 50
        resi = group("QP002014", 2, 6)
        for b in resi:
            b["dwellings"] = 36

        def hull(bs: list[dict[str, Any]], buf: float) -> Polygon:
            h = shapely.union_all([b["geometry"] for b in bs]).convex_hull.buffer(buf)
            return h.intersection(self.quartiers[bs[0]["quartier"]])

        street = self.nearest_street_name(sc_rehab[0]["geometry"])
        self.renewal.append(
            dict(
                name=f"Réhabilitation résidence Les Acacias (terrasses barbecue) — {street}",
                operation="rehabilitation",
                dwellings=sum(b["dwellings"] for b in sc_rehab),
                housing_type="collective",
                tenure="social",
                status="done",
                year=2023,
                compensates=None,
                geometry=hull(sc_rehab, 4),
            )
        )
        street = self.nearest_street_name(opal[0]["geometry"])
        self.renewal.append(
            dict(
                name=f"Requalification des façades OPAL (3 bâtiments) — {street}",
                operation="facade_requalification",
                dwellings=150,
                housing_type="collective",
                tenure="social",
                status="in_progress",
                year=2025,
                compensates=None,
                geometry=hull(opal, 4),
            )
        )
        street = self.nearest_street_name(resi[0]["geometry"])
        self.renewal.append(
            dict(
                name=f"Résidentialisation résidence Les Tilleuls — {street}",
                operation="residentialisation",
                dwellings=72,
                housing_type="collective",
                tenure="social",
                status="done",
                year=2024,
                compensates=None,
                geometry=hull(resi, 9),
            )
        )

    def populate(self) -> None:
        """Give dwellings and residents to buildings so each quartier matches its population."""
        for q in QUARTIERS:
            code, target = q["code"], q["pop"]
            bs = [b for b in self.buildings if b["quartier"] == code]
            hh = 2.35  # residents per dwelling (QPV households are a little larger than average)
            fixed_dw = sum(b["dwellings"] for b in bs if b.get("fixed"))
            ind = [b for b in bs if b["housing_type"] == "individual" and not b.get("fixed")]
            coll = [b for b in bs if b["housing_type"] == "collective" and not b.get("fixed")]
            total_dw = round(target / hh)
            free_dw = total_dw - fixed_dw - len(ind)
            areas = np.array([b["geometry"].area for b in coll])
            share = _largest_remainder(areas / areas.sum() * free_dw)
            for b, d in zip(coll, share, strict=True):
                b["dwellings"] = max(int(d), 4)
            # residents: houses hold bigger households than flats
            w = np.array(
                [b["dwellings"] * (2.9 if b["housing_type"] == "individual" else 2.3) for b in bs]
            )
            pop = _largest_remainder(w / w.sum() * target)
            for b, p in zip(bs, pop, strict=True):
                b["population"] = float(p)
        r = rng_for(60)
        for b in self.buildings:
            if b["quartier"] is None:
                if b["housing_type"] == "collective":
                    b["dwellings"] = max(6, int(b["geometry"].area * 3 / 75))
                    b["population"] = float(round(b["dwellings"] * 2.0))
                else:
                    b["population"] = float(r.choice([1, 2, 2, 3, 3, 4]))

    # -- trees --------------------------------------------------------------------------------

    def plant_trees(self) -> None:
        """Plant street trees (mostly Saint-Crépin, Chevreux), yard and park trees."""
        species = [
            "Tilia cordata",
            "Acer campestre",
            "Carpinus betulus",
            "Quercus robur",
            "Prunus avium",
            "Sorbus aucuparia",
            "Alnus glutinosa",
            "Liquidambar styraciflua",
            "Celtis australis",
            "Gleditsia triacanthos",
        ]
        bld_tree = STRtree([b["geometry"] for b in self.buildings])
        r = rng_for(70)

        def ok(p: Point) -> bool:
            return self.commune.contains(p) and not len(
                bld_tree.query(p.buffer(3), predicate="intersects")
            )

        def add(p: Point, trees: int, year: int) -> None:
            crown = round(float(r.uniform(1.5, 5.0)), 1) if r.random() < 0.6 else None
            self.trees.append(
                dict(
                    trees=trees,
                    species=str(r.choice(species)),
                    year=year,
                    crown_diameter_m=crown,
                    geometry=p,
                )
            )

        for code, prob in (("QP002012", 0.5), ("QP002014", 0.5), ("QP002013", 0.06)):
            poly = self.quartiers[code]
            for g, _, hw in self.streets:
                if hw not in ("residential", "footway") or not poly.intersects(g):
                    continue
                for s in np.arange(12, g.length - 8, 30):
                    if r.random() > prob:
                        continue
                    p = g.interpolate(s)
                    q = g.interpolate(min(s + 1, g.length))
                    d = np.array([q.x - p.x, q.y - p.y])
                    d /= np.linalg.norm(d)
                    side = 1 if r.random() < 0.5 else -1
                    pt = Point(p.x - side * 5 * d[1], p.y + side * 5 * d[0])
                    if poly.contains(pt) and ok(pt):
                        add(pt, int(r.choice([1, 1, 2, 2, 3])), int(r.integers(2021, 2026)))
        # school yards (cours oasis) and parks
        for d in self.desealed:
            y = d["geometry"]
            minx, miny, maxx, maxy = y.bounds
            for _ in range(int(r.integers(3, 6))):
                for _try in range(30):
                    pt = Point(r.uniform(minx, maxx), r.uniform(miny, maxy))
                    if y.buffer(-3).contains(pt):
                        add(pt, int(r.integers(2, 7)), int(d["year"]))
                        break
        for gs in self.green:
            if not gs["public"]:
                continue
            a = gs["geometry"]
            minx, miny, maxx, maxy = a.bounds
            for _ in range(int(r.integers(1, 4))):
                for _try in range(30):
                    pt = Point(r.uniform(minx, maxx), r.uniform(miny, maxy))
                    if a.buffer(-4).contains(pt) and ok(pt):
                        add(pt, int(r.integers(1, 7)), int(r.integers(2021, 2026)))
                        break

    # -- checks and output --------------------------------------------------------------------

    def check(self) -> None:
        """Assert the demo's promises: inside the commune, apart, set back, sized."""
        c = self.commune
        everything = (
            [g for g, _, _ in self.streets]
            + list(self.quartiers.values())
            + [
                d["geometry"]
                for lst in (
                    self.facilities,
                    self.renewal,
                    self.desealed,
                    self.green,
                    self.trees,
                    self.buildings,
                )
                for d in lst
            ]
        )
        outside = [g for g in everything if not c.contains(g)]
        assert not outside, f"{len(outside)} features outside the commune"
        qs = list(self.quartiers.values())
        for i in range(len(qs)):
            for j in range(i + 1, len(qs)):
                assert qs[i].distance(qs[j]) > 150, "quartiers too close"
        bld = shapely.union_all([b["geometry"] for b in self.buildings])
        for gs in self.green:
            assert gs["geometry"].intersection(bld).area < 1, gs["name"]
        for gs in self.green[-3:]:  # the free-standing parks: by a road, not on it
            assert 4 < self.street_distance(gs["geometry"]) < 120, gs["name"]
        for b in self.buildings:
            assert self.street_distance(b["geometry"]) >= 6.0
        for d in self.desealed:
            assert 1000 <= d["geometry"].area <= 3000, (d["site"], d["geometry"].area)
        assert len(self.streets) < 1500, len(self.streets)


def _star_distance(
    p: Point, centre: tuple[float, float], harm: list[tuple[int, float, float]]
) -> float:
    """Return the distance from `centre` to `p`, shrunk or stretched by direction.

    Growing a quartier by this distance (rather than the plain one) gives it lobes.
    """
    th = math.atan2(p.y - centre[1], p.x - centre[0])
    return math.hypot(p.x - centre[0], p.y - centre[1]) / (
        1 + sum(a * math.cos(k * th + ph) for k, a, ph in harm)
    )


def _largest_remainder(x: np.ndarray) -> np.ndarray:
    """Round `x` to integers keeping its (rounded) sum."""
    fl = np.floor(x).astype(int)
    short = round(float(x.sum())) - int(fl.sum())
    order = np.argsort(-(x - fl), kind="stable")
    fl[order[:short]] += 1
    return fl


def frame(rows: list[dict[str, Any]], columns: list[str]) -> gpd.GeoDataFrame:
    """Return rows as a GeoDataFrame in Lambert-93 with ids and the illustrative source."""
    gdf = gpd.GeoDataFrame(
        [{k: row.get(k) for k in columns} for row in rows],
        columns=columns,
        geometry=[to_world(row["geometry"]) for row in rows],
        crs=CRS,
    )
    if "code" in gdf.columns:  # quartiers and communes are known by their official code
        gdf.insert(0, "id", gdf["code"].astype(str))
    else:
        gdf.insert(0, "id", [str(i) for i in range(1, len(gdf) + 1)])
    gdf["source"] = SOURCE
    return gdf


def main() -> None:
    town = Town()
    town.build_streets()
    town.build_quartiers()
    town.build_programme()
    town.build_residences()
    town.renewal_on_buildings()
    town.populate()
    town.plant_trees()
    town.check()

    OUT.mkdir(parents=True, exist_ok=True)
    layers: dict[str, gpd.GeoDataFrame] = {}
    layers["communes"] = frame(
        # published population (INSEE, DEMO 2021 POP_COM)
        [dict(code="02722", name="Soissons", population=28522, geometry=town.commune)],
        ["code", "name", "population"],
    )
    layers["quartiers"] = frame(
        [
            dict(
                code=q["code"],
                name=q["name"],
                population=q["population"],
                commune="02722",
                geometry=town.quartiers[q["code"]],
            )
            for q in QUARTIERS
        ],
        ["code", "name", "population", "commune"],
    )
    layers["streets"] = frame(
        [dict(name=n, highway=h, geometry=g) for g, n, h in town.streets], ["name", "highway"]
    )
    layers["facilities"] = frame(town.facilities, ["name", "kind", "opened"])
    layers["residences"] = frame(town.buildings, ["dwellings", "population", "housing_type"])
    layers["renewal_sites"] = frame(
        town.renewal,
        [
            "name",
            "operation",
            "dwellings",
            "housing_type",
            "tenure",
            "status",
            "year",
            "compensates",
        ],
    )
    layers["desealed_areas"] = frame(town.desealed, ["site", "site_type", "year", "status"])
    layers["tree_plantings"] = frame(town.trees, ["trees", "species", "year", "crown_diameter_m"])
    layers["green_spaces"] = frame(town.green, ["name", "public"])
    for kind, gdf in layers.items():
        for col in ("population", "dwellings", "opened", "year", "trees"):
            if col in gdf and kind not in ("residences",):
                gdf[col] = gdf[col].astype("Int64")
        # name the GeoJSON layer, else it carries the temporary file name of the atomic write
        cg.write_layer(validate(gdf, kind), OUT / f"{kind}.geojson", layer=kind)
        print(f"{kind:15s} {len(gdf):4d} features")
    res = layers["residences"]
    for q in QUARTIERS:
        sel = [b for b in town.buildings if b["quartier"] == q["code"]]
        print(
            f"  {q['name']:13s} {town.quartiers[q['code']].area / 1e4:5.1f} ha, "
            f"{len(sel)} buildings, {sum(b['dwellings'] for b in sel)} dwellings, "
            f"{sum(b['population'] for b in sel):.0f} residents"
        )
    out = [b for b in town.buildings if b["quartier"] is None]
    print(
        f"  outside       {len(out)} buildings, {sum(b['population'] for b in out):.0f} "
        f"residents; total {res['population'].sum():.0f}"
    )


if __name__ == "__main__":
    main()
