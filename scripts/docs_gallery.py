"""Generate the documentation site's gallery from the demo: every map and every dossier page.

Runs the Soissons demo into a build folder (or reuses a committee pack given with ``--pack``),
screenshots each HTML map of the pack in headless Chromium (playwright, ``/usr/bin/chromium``
or ``$CDV_GEO_CHROMIUM``), turns each page of the dossier's PDF into a PNG (``pdftoppm``,
poppler) and writes ``gallery.md``, with every picture linked to the live map copied beside it.
The MkDocs hook (``scripts/make_docs.py``) adds what is written here to the site; nothing of it
is committed (``.cache/`` is git-ignored).

Without network the maps' JavaScript and CSS are served from the local asset folders the
browser tests use (``make assets``: ``.cache/map-assets``, or ``cdv-geo assets fetch``) and the
basemap tiles are a plain grey image; ``--online`` lets both come from the internet.

    python scripts/docs_gallery.py                       # demo into .cache/docs-gallery
    python scripts/docs_gallery.py --pack maps/          # reuse the pack `make demo` wrote
"""

from __future__ import annotations

import argparse
import html
import io
import mimetypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(os.environ.get("CDV_GEO_DOCS_GALLERY", ROOT / ".cache" / "docs-gallery"))
CHROMIUM = Path(os.environ.get("CDV_GEO_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}

#: The order of the maps in the gallery (file name prefixes); others follow by name.
ORDER = ("index", "overview", "quartier_", "accessibility_", "renaturation", "renewal")


def map_order(path: Path) -> tuple[int, str]:
    """Sort key of a map: its family in `ORDER`, then its name."""
    for i, prefix in enumerate(ORDER):
        if path.stem.startswith(prefix):
            return i, path.stem
    return len(ORDER), path.stem


def page_title(path: Path) -> str:
    """Return the ``<title>`` of an HTML file (its name when it has none), unescaped."""
    head = path.read_text(encoding="utf-8", errors="replace")[:20000]
    m = re.search(r"<title>(.*?)</title>", head, re.DOTALL | re.IGNORECASE)
    title = html.unescape(m.group(1)).strip() if m else ""
    return title or path.stem.replace("_", " ")


def run_demo(pack: Path) -> None:
    """Write the demo's committee pack (maps, tables, dossier) into `pack`."""
    from cdv_geo.cli import main

    main(["demo", "--out", str(pack)], standalone_mode=False)


def grey_tile() -> bytes:
    """Return a light-grey 256 px PNG standing in for the basemap."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (236, 236, 232)).save(buf, format="PNG")
    return buf.getvalue()


def asset_folders() -> list[Path]:
    """Return the local folders holding the maps' npm assets, as the browser tests look for them."""
    from cdv_geo.maps.assets import cache_dir

    env = os.environ.get("CDV_GEO_TEST_ASSETS")
    found = [Path(env)] if env else []
    return [*found, ROOT / ".cache" / "map-assets" / "node_modules", cache_dir()]


def offline_route(folders: list[Path]) -> Any:
    """Return a playwright route handler: assets from `folders`, grey tiles, nothing else."""
    from cdv_geo.maps.assets import resolve_asset

    blank = grey_tile()

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:", "about:")):
            r.continue_()
            return
        if "cdn.jsdelivr.net/npm/" in url:
            path, _notes = resolve_asset(url.split("?")[0], folders)
            if path is not None:
                mime = mimetypes.guess_type(str(path))[0] or "application/octet-stream"
                r.fulfill(status=200, body=path.read_bytes(), headers={"content-type": mime})
                return
        if "wmts" in url or "tile" in url:
            r.fulfill(status=200, body=blank, headers={"content-type": "image/png"})
            return
        r.abort()

    return route


def screenshot_maps(maps: list[Path], img_dir: Path, *, online: bool) -> list[Path]:
    """Screenshot each map into `img_dir`; return the images, in the order of `maps`."""
    from playwright.sync_api import sync_playwright

    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(viewport=VIEWPORT)
        if not online:
            context.route("**/*", offline_route(asset_folders()))
        for path in maps:
            page = context.new_page()
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(1500)  # tiles and canvas layers draw after the load event
            out = img_dir / f"{path.stem}.png"
            page.screenshot(path=str(out))
            page.close()
            shots.append(out)
            print(f"  {out.name}")
        browser.close()
    return shots


def pdf_pages(pdf: Path, img_dir: Path, *, dpi: int = 60) -> list[Path]:
    """Turn each page of `pdf` into ``dossier-NN.png`` in `img_dir` (pdftoppm)."""
    if shutil.which("pdftoppm") is None:
        raise SystemExit(
            "pdftoppm not found: install poppler (Debian: apt-get install poppler-utils)"
        )
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(img_dir / "dossier")], check=True
    )
    return sorted(img_dir.glob("dossier-*.png"))


def gallery_markdown(maps: list[tuple[str, str, str]], pages: list[str], pdf: str | None) -> str:
    """Return the gallery page: (title, image, live link) per map, then the dossier's pages."""
    lines = [
        "# Gallery",
        "",
        "<!-- Generated by scripts/docs_gallery.py from the demo: do not edit by hand. -->",
        "",
        "Every map of the Soissons demo's committee pack (`cdv-geo demo`) and every page of its",
        "dossier, generated by the documentation build. The demo's perimeters and layers are",
        "illustrative; its socio-economic indicators are INSEE's. Click a picture to open the",
        "live map (it loads Leaflet and the basemap from the internet).",
        "",
        "## Maps",
        "",
    ]
    for title, image, live in maps:
        t = html.escape(title, quote=True)
        lines += [
            f"### {t}",
            "",
            f'<a href="{live}"><img src="{image}" alt="{t}" width="640"></a>',
            "",
        ]
    if pages:
        lines += ["## The dossier", ""]
        if pdf:
            lines += [f"The whole dossier: [{Path(pdf).name}]({pdf}).", ""]
        for i, image in enumerate(pages, 1):
            target = pdf or image
            lines.append(
                f'<a href="{target}"><img src="{image}" alt="Dossier, page {i}" width="300"></a>'
            )
        lines.append("")
    return "\n".join(lines)


def build(out: Path, pack: Path | None, *, online: bool = False) -> Path:
    """Write the gallery into `out` and return the path of ``gallery.md``."""
    if out.exists():
        shutil.rmtree(out)
    live = out / "gallery" / "live"
    img = out / "gallery" / "img"
    img.mkdir(parents=True)
    if pack is None:
        pack = out / "pack"
        print(f"running the demo into {pack}")
        run_demo(pack)
    shutil.copytree(pack, live, ignore=shutil.ignore_patterns("*.gpkg", "*.xlsx", "screenshots"))
    if (out / "pack").exists():
        shutil.rmtree(out / "pack")
    maps = sorted(live.glob("*.html"), key=map_order)
    if not CHROMIUM.exists():
        raise SystemExit(f"no Chromium at {CHROMIUM}: install it or set CDV_GEO_CHROMIUM")
    print(f"screenshots of {len(maps)} maps")
    shots = screenshot_maps(maps, img, online=online)
    entries = [
        (page_title(m), f"gallery/img/{s.name}", f"gallery/live/{m.name}")
        for m, s in zip(maps, shots, strict=True)
    ]
    pdf = live / "dossier.pdf"
    pages = [f"gallery/img/{p.name}" for p in pdf_pages(pdf, img)] if pdf.exists() else []
    text = gallery_markdown(entries, pages, "gallery/live/dossier.pdf" if pdf.exists() else None)
    target = out / "gallery.md"
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}: {len(entries)} maps, {len(pages)} dossier pages")
    return target


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and build the gallery."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write it")
    parser.add_argument("--pack", type=Path, help="reuse this committee pack (no demo run)")
    parser.add_argument("--online", action="store_true", help="load assets and tiles online")
    args = parser.parse_args(argv)
    build(args.out, args.pack, online=args.online)
    return 0


if __name__ == "__main__":
    sys.exit(main())
