"""Build the national donor panel of the Soissons demo in ``data/indicators/national/``.

The evaluation of the demo ("Évolution comparée": difference-in-differences and synthetic
control, :mod:`cdv_geo.pipeline.evaluation`) compares each Soissons quartier with the other QPV
of France. Its donor pool is a **compact extract** of the published INSEE files
``REVN_<year>.csv`` (données infracommunales des QPV, every QPV of France, vintages 2017, 2018,
2019, 2021, 2022), read from the folder given as first argument (default
``/work/shared/real-data/insee-qpv-national``):

- **every row** (every QPV, and INSEE's ``Ensemble`` row) is kept;
- only the **columns** the demo's evaluated indicators need are kept (:data:`COLUMNS`: code,
  name, the share of taxed households, the median disposable income, the poverty rate, the
  shares of activity income and of social benefits, the CAF recipients and RSA recipients, and
  the two quality-note columns);
- each kept cell is copied **byte for byte** (decimal commas, no-break spaces, empty cells for
  secret values); the BOM, the ``;`` separator and the CRLF line endings are kept; only the
  other columns (and the trailing empty ones) are dropped.

The result reads with ``cdv_geo.read_indicators`` exactly as the published files give these
columns. Deterministic: rerun it to refresh. **Real figures**, Licence Ouverte 2.0 — « Source :
Insee » (see ``data/indicators/national/PROVENANCE.md``).

Run ``.venv/bin/python scripts/make_demo_national.py [SOURCE_FOLDER]`` from the repository root.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "indicators" / "national"
SOURCE = Path("/work/shared/real-data/insee-qpv-national")
#: The published columns kept, in this order (those a vintage lacks are skipped).
COLUMNS = (
    "CODGEO",
    "LIBGEO",
    "PMIMP",
    "DISP_Q2",
    "TP60",
    "PACT",
    "PPSOC",
    "NOTE_FILO",
    "A",
    "ARSAS",
    "NOTE_CNAF",
)
BOM = b"\xef\xbb\xbf"


def extract(src: Path, dst: Path) -> tuple[int, int]:
    """Write the kept columns of every row of `src` to `dst`; return (rows, columns) written."""
    raw = src.read_bytes()
    bom = raw.startswith(BOM)
    lines = raw[len(BOM) if bom else 0 :].split(b"\r\n")
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    header = [h.strip() for h in lines[0].split(b";")]
    keep = [header.index(c.encode()) for c in COLUMNS if c.encode() in header]
    out = []
    for line in lines:
        cells = line.split(b";")
        out.append(b";".join(cells[i] if i < len(cells) else b"" for i in keep))
    dst.write_bytes((BOM if bom else b"") + b"\r\n".join(out) + b"\r\n")
    return len(out) - 1, len(keep)


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else SOURCE
    OUT.mkdir(parents=True, exist_ok=True)
    files = sorted(source.glob("REVN_*.csv"))
    if not files:
        raise SystemExit(f"no REVN_<year>.csv in {source}")
    for src in files:
        rows, cols = extract(src, OUT / src.name)
        print(f"{src.name}: {rows} rows, {cols} columns")


if __name__ == "__main__":
    main(sys.argv[1:])
