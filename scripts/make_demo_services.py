"""Add the illustrative capacities, opening hours and commercial centres to the demo facilities.

Run after ``scripts/make_demo_data.py`` (which writes ``data/shapes/facilities.geojson`` without
them): ``python scripts/make_demo_services.py``. The values are illustrative (see
``data/shapes/PROVENANCE.md``): the schedules follow the permanences the mayor's account names,
the capacities and sales areas are plausible orders of magnitude, not official figures.
Running it twice changes nothing.
"""

import json
from pathlib import Path

P = Path(__file__).resolve().parents[1] / "data" / "shapes" / "facilities.geojson"
d = json.loads(P.read_text(encoding="utf-8"))
SRC = "illustratif — données de démonstration (Soissons), non officielles"

CAPACITY = {  # GP FTE (health centres), agents / counters (services)
    "2": 3.0,
    "22": 2.0,
    "42": 5.0,
    "11": 3.0,
    "12": 2.0,
    "13": 2.0,
    "40": 6.0,
    "23": 4.0,  # the CIDFF antenna: 4 agents (seed interview)
    "24": 4.0,
    "38": 5.0,
}
HOURS = {
    "2": "Mo-Fr 08:00-19:00; Sa 08:00-12:00; PH off",
    "22": "Mo-Fr 08:30-19:00; Sa 09:00-12:00; PH off",
    "42": "Mo-Fr 08:00-20:00; Sa 08:00-12:00; PH off",
    "4": "Mo,Tu,Th,Fr 09:00-12:00,14:00-17:00; PH off",
    # Saint-Crépin: permanences of GSA mediators and adult relays, and of the CCAS social workers
    "5": "Mo,We,Fr 09:00-12:00; Tu,Th 14:00-17:00 || Tu 09:00-12:00",
    "11": "Mo-Fr 08:30-12:00,13:30-17:00; PH off",
    "12": "Mo-Fr 09:00-12:00,14:00-17:00; We 09:00-12:00; PH off",
    "13": "Tu,Th 09:00-12:00,13:30-17:00; PH off",
    "14": "Mo-Sa 08:00-19:00; PH off",
    # #AuLocal: the tiers-lieu, the GSA mediators' and the Cités Lab permanences
    "15": "Tu-Fr 14:00-18:00; Sa 10:00-12:00 || Mo,We 09:00-12:00 || Th 09:00-12:00",
    # Maison de l'égalité: CIDFF day reception, PMI, France victimes, CCAS, municipal police
    "23": "Mo-Fr 09:00-12:30,13:30-17:00; PH off || Tu 09:00-12:00 || Th 14:00-17:00 "
    "|| Fr 09:00-12:00 || We 14:00-16:00",
    "24": "Mo-Fr 09:00-12:00,13:30-18:00; We 09:00-18:00; Sa 09:00-12:00; PH off",
    "25": "Mo,Tu,Th,Fr 09:00-12:00,14:00-17:00; PH off",
    "31": "Mo-Fr 08:30-12:00,13:30-17:30; Sa 09:00-12:00; PH off",
    "32": "Tu,Fr 14:00-18:00; We,Sa 10:00-18:00; PH off",
    "33": "24/7",
    "38": "Mo-Fr 09:00-12:00,14:00-18:00; PH off",
    "40": "Mo-Fr 08:30-12:00,13:30-17:30; PH off",
}
NEW = [  # name, kind, surface (m² of sales area), lon, lat
    ("Centre commercial de Presles", "commercial_centre", 2500.0, 3.3152, 49.3745),
    ("Centre-ville — rues commerçantes", "commercial_centre", 12000.0, 3.3236, 49.3820),
    ("Cœur de quartier de Saint-Crépin", "commercial_centre", 600.0, 3.3350, 49.3862),
    ("Commerces de Chevreux", "commercial_centre", 800.0, 3.3342, 49.3757),
    ("Supermarché — avenue de Presles", "supermarket", 2200.0, 3.3085, 49.3772),
    ("Hypermarché — zone commerciale est", "supermarket", 7500.0, 3.3395, 49.3722),
]
keys = (
    "id",
    "name",
    "kind",
    "opened",
    "capacity",
    "opening_hours",
    "surface",
    "illustrative",
    "source",
)
for f in d["features"]:
    p = f["properties"]
    fid = p["id"]
    if fid in CAPACITY:
        p["capacity"] = CAPACITY[fid]
    if fid in HOURS:
        p["opening_hours"] = HOURS[fid]
    if fid in CAPACITY or fid in HOURS:
        p["illustrative"] = True
    f["properties"] = {k: p[k] for k in keys if k in p}
names = {f["properties"].get("name") for f in d["features"]}
NEW = [row for row in NEW if row[0] not in names]
n = len(d["features"])
for i, (name, kind, surface, x, y) in enumerate(NEW, start=n + 1):
    d["features"].append(
        {
            "type": "Feature",
            "properties": {
                "id": str(i),
                "name": name,
                "kind": kind,
                "surface": surface,
                "illustrative": True,
                "source": SRC,
            },
            "geometry": {"type": "Point", "coordinates": [x, y]},
        }
    )
head = {k: v for k, v in d.items() if k != "features"}
lines = ["{"] + [f'"{k}": {json.dumps(v, ensure_ascii=False)},' for k, v in head.items()]
lines.append('"features": [')
feats = []
for f in d["features"]:
    props = json.dumps(f["properties"], ensure_ascii=False, separators=(", ", ": "))
    x, y = f["geometry"]["coordinates"]
    feats.append(
        '{ "type": "Feature", "properties": ' + props.replace("{", "{ ", 1)[:-1] + " }, "
        f'"geometry": {{ "type": "Point", "coordinates": [ {x}, {y} ] }} }}'
    )
lines.append(",\n".join(feats))
lines += ["]", "}"]
P.write_text("\n".join(lines) + "\n", encoding="utf-8")
print(len(d["features"]))
