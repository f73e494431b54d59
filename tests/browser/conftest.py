"""Headless Chromium for the map tests, and the local copies of the maps' JS/CSS assets.

The tests run wherever ``/usr/bin/chromium`` is present and the assets are cached locally
(there is no network in the tests). The assets are looked for, in order, in
``$CDV_GEO_TEST_ASSETS`` (an npm ``node_modules`` folder), in ``.cache/map-assets`` (filled once
by ``make assets``: ``npm install --prefix .cache/map-assets`` of the pinned packages) and in the
user cache filled by ``cdv-geo assets fetch`` (``$CDV_GEO_ASSET_DIR``, else
``~/.cache/cdv_geo/assets``). Tests are skipped when Chromium or the assets are missing --
except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parents[2]


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run; see .ci/run)")
    pytest.skip(reason)


#: Where ``make assets`` installs the pinned npm packages of the maps.
MAKE_ASSETS = ROOT / ".cache" / "map-assets"


def asset_candidates() -> list[Path]:
    """The folders searched for the map assets, in order."""
    from cdv_geo.maps.assets import cache_dir

    env = os.environ.get("CDV_GEO_TEST_ASSETS")
    found = [Path(env)] if env else []
    return [*found, MAKE_ASSETS, cache_dir()]


@pytest.fixture(scope="session")
def asset_dir() -> Path:
    """The first folder holding every asset of the maps (leaflet and its plugins)."""
    from cdv_geo.maps.assets import ASSETS, resolve_asset

    dirs = asset_candidates()
    for d in dirs:
        if all(resolve_asset(a.url, [d])[0] is not None for a in ASSETS.values()):
            return d
    _missing(
        f"the map assets are in none of {', '.join(map(str, dirs))}: run `make assets` (npm) "
        "or `cdv-geo assets fetch` once, or set CDV_GEO_TEST_ASSETS to a node_modules folder"
    )
    raise AssertionError  # unreachable: _missing raises


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where screenshots go for a person to look at (``maps/`` is git-ignored)."""
    d = Path(os.environ.get("CDV_GEO_SCREENSHOT_DIR", ROOT / "maps" / "screenshots"))
    d.mkdir(parents=True, exist_ok=True)
    return d


class Page:
    """A page that records console errors, page errors, dialogs and outside requests."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("dialog", self._dialog)

    def _console(self, msg: Any) -> None:
        if msg.type == "error":
            self.errors.append(f"console error: {msg.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def _grey_tile() -> bytes:
    """A plain light-grey 256 px tile standing in for the basemap (there is no network)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (236, 236, 232)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def new_page(browser: Any, asset_dir: Path) -> Iterator[Any]:
    """Open pages with no network: CDN asset URLs are served from `asset_dir`, tiles are a
    blank image, and any other outside request is refused and recorded."""
    from cdv_geo.maps.assets import resolve_asset

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pages: list[Page] = []
    blank = _grey_tile()

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:", "about:")):
            r.continue_()
            return
        if "cdn.jsdelivr.net/npm/" in url:
            path, _notes = resolve_asset(url.split("?")[0], [asset_dir])
            if path is not None:
                mime = mimetypes.guess_type(str(path))[0] or "application/octet-stream"
                r.fulfill(status=200, body=path.read_bytes(), headers={"content-type": mime})
                return
        if "data.geopf.fr/wmts" in url or "tile.openstreetmap" in url:
            r.fulfill(status=200, body=blank, headers={"content-type": "image/png"})
            return
        for p in pages:
            p.outside.append(url)
        r.abort()

    context.route("**/*", route)

    def make() -> Page:
        p = Page(context.new_page())
        pages.append(p)
        return p

    yield make
    context.close()
