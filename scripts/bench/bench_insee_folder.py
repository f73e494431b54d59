"""Benchmark: a folder of national INSEE QPV files read whole (issue 23 §2).

Builds, in a temporary folder, 20 national-size files: the 5 real REVN files of
``shared/real-data/insee-qpv-national/`` (every QPV, 2017-2022), generated IPRO 2017-2022,
DEMO 2017-2022 and Filosofi 2019-2020 files with the headers, separators, padding and number
formats of the published ones (``data/indicators/``) and a row per QPV code of the REVN files
(seeded, plausible values around the Soissons rows), and one duplicate: ``DEMO_2017`` again
under its other published name ``data_DEMO_2017_V1_QP.csv`` (no names column, no thousands
separators, no BOM: other bytes, the same values).

Times ``read_indicators(folder)`` and a plain ``pandas.read_csv(f, sep=";")`` of the same
files in the same run (best of three, interleaved), prints both and the ratio (target <= 3),
the time per MB for the first half of the files and for all (linear: about equal), and the
duplicate found. Prints, asserts nothing.

Run: ``.venv/bin/python scripts/bench/bench_insee_folder.py`` (``--rounds 1`` for a quick run).
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from cdv_geo.io.insee import read_indicators

ROOT = Path(__file__).resolve().parents[2]
NATIONAL = ROOT.parent / "shared" / "real-data" / "insee-qpv-national"
TEMPLATES = ROOT / "data" / "indicators"
_NUMBER = re.compile(r"^-?[\d\u202f\xa0 ]+(,\d+)?$")


def _codes() -> list[tuple[str, str]]:
    """Return the QPV codes and names of the national REVN file (the donor pool)."""
    t = pd.read_csv(NATIONAL / "REVN_2022.csv", sep=";", dtype=str, usecols=[0, 1])
    t = t[t.iloc[:, 0].str.startswith("QP")]
    return list(zip(t.iloc[:, 0], t.iloc[:, 1].fillna(""), strict=True))


def _cell(text: str, rng: np.random.Generator, thousands: str) -> str:
    """Return a plausible published cell around the template value, in its format."""
    t = text.strip()
    if not t or not _NUMBER.match(t):
        return text
    if rng.random() < 0.03:
        return ""  # secret
    v0 = float(t.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", "."))
    v = v0 * rng.uniform(0.6, 1.4)
    if "," in t:
        decimals = len(t.split(",")[1])
        if 0 <= v0 <= 1:
            v = min(v, 1.0)
        elif 0 <= v0 <= 100:
            v = min(v, 100.0)
        return f"{v:.{decimals}f}".replace(".", ",")
    out = f"{round(v):,}"
    return out.replace(",", thousands)


def _generate(template: Path, out: Path, codes: list[tuple[str, str]], seed: int) -> None:
    """Write a national-size twin of a published file (its header, format and padding)."""
    raw = template.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    eol = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(eol)
    header = lines[0].split(";")
    rows = [ln.split(";") for ln in lines[1:] if ln.strip()]
    ensemble = next((r for r in rows if r[0].strip('"') == "Ensemble"), None)
    model = next(r for r in rows if r[0].strip('"').startswith("QP"))
    thousands = "\u202f" if "\u202f" in text else ("\xa0" if "\xa0" in text else "")
    has_name = "LIBGEO" in header
    rng = np.random.default_rng(seed)
    body = [";".join(ensemble)] if ensemble else []
    for code, name in codes:
        row = [_cell(c, rng, thousands) for c in model]
        row[0] = code
        if has_name:
            row[1] = name
        body.append(";".join(row))
    data = eol.join([lines[0], *body, ""])
    out.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode())


def _published_twin(demo: Path, out: Path) -> None:
    """``data_DEMO_<year>_V1_QP.csv``: the same values without names, separators, BOM, padding."""
    text = demo.read_bytes().decode("utf-8-sig")
    lines = []
    for ln in text.split("\r\n"):
        cells = ln.rstrip(";").split(";")
        if not cells or not cells[0]:
            continue
        del cells[1]  # LIBGEO
        lines.append(";".join(c.replace("\u202f", "").replace("\xa0", "") for c in cells))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(folder: Path) -> list[Path]:
    """Write the 20 files of the benchmark in `folder`; return them."""
    codes = _codes()
    for f in sorted(NATIONAL.glob("REVN_*.csv")):
        shutil.copy(f, folder / f.name)
    seed = 0
    for year in range(2017, 2023):
        _generate(
            TEMPLATES / f"IPRO_{year}.csv", folder / f"IPRO_{year}.csv", codes, seed := seed + 1
        )
        demo = TEMPLATES / f"DEMO_{year}.csv"
        if not demo.exists():
            demo = TEMPLATES / f"data_DEMO_{year}_V1_QP.csv"
        _generate(demo, folder / demo.name, codes, seed := seed + 1)
    filo = TEMPLATES / "data_filo19_qp_revdis.csv"
    _generate(filo, folder / filo.name, codes, seed := seed + 1)
    filo20 = folder / "data_filo20_qp_revdis.csv"
    _generate(filo, filo20, codes, seed + 1)
    filo20.write_text(filo20.read_text(encoding="utf-8").replace("_A19", "_A20"), encoding="utf-8")
    _published_twin(folder / "DEMO_2017.csv", folder / "data_DEMO_2017_V1_QP.csv")
    return sorted(folder.iterdir())


def _best(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _pandas(files: list[Path]) -> None:
    for f in files:
        pd.read_csv(f, sep=";")


def _read(target: Path | list[Path]) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the duplicate and the negative PPAT warn (expected)
        return read_indicators(target, progress=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = build(folder)
        mb = sum(f.stat().st_size for f in files) / 1e6
        print(f"{len(files)} files, {mb:.1f} MB: {', '.join(f.name for f in files)}")
        t_pandas, t_read = [], []
        for _ in range(args.rounds):  # interleaved, so that both see the same machine load
            t_pandas.append(_best(lambda: _pandas(files), 1))
            t_read.append(_best(lambda: _read(folder), 1))
        plain, ours = min(t_pandas), min(t_read)
        print(f"pandas.read_csv(sep=';') of the {len(files)} files: {plain:.2f} s")
        print(f"read_indicators(folder):                 {ours:.2f} s")
        print(f"ratio: {ours / plain:.2f} (target <= 3)")
        half = files[: len(files) // 2]
        mb_half = sum(f.stat().st_size for f in half) / 1e6
        t_half = _best(lambda: _read(half), args.rounds)
        print(
            f"linearity: {t_half / mb_half:.3f} s/MB for {len(half)} files ({mb_half:.1f} MB), "
            f"{ours / mb:.3f} s/MB for {len(files)} ({mb:.1f} MB)"
        )
        table = _read(folder)
        print(f"{len(table):,} values; reading report:")
        for note in table.attrs["notes"]:
            print(f"  - {note}")


if __name__ == "__main__":
    main()
