"""Saving, embedding and escaping: the HTML side of the maps.

* :func:`escape_text` makes any string from data safe to show as *text* inside HTML (tooltips,
  popups, legends, layer names): ``<``, ``>``, ``&``, quotes, and ``$``/backtick/backslash are
  replaced by character references, so a name like ``${alert(1)}`` can neither open a tag nor
  be evaluated by a JavaScript template literal.
* :func:`js_json` writes a Python value as a JavaScript literal that cannot close the
  ``<script>`` element it sits in.
* :func:`save_map` writes one HTML file atomically, linking the JS/CSS assets from the CDN
  (``assets="cdn"``) or embedding them (``assets="inline"``) from a local asset folder.
* :func:`embed_snippet` returns an ``<iframe srcdoc=...>`` for HTML reports.
"""

from __future__ import annotations

import base64
import html as _html
import json
import math
import mimetypes
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from branca.element import Figure

from cdv_geo.core import labels as lb
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.escape import escape_text
from cdv_geo.maps.assets import (
    MissingAssetsError,
    asset_dirs,
    cache_dir,
    css_dependencies,
    npm_packages,
    resolve_asset,
)

__all__ = [
    "RawJSON",
    "asset_urls",
    "embed_snippet",
    "escape_text",
    "js_json",
    "render_html",
    "save_map",
    "with_offline_message",
]

AssetDir = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None

# str.replace, not str.translate: a map's JSON is megabytes, and replace runs in C.
_JS_UNSAFE = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


class RawJSON(str):
    """JSON text already safe inside ``<script>`` (no ``<``, ``>``, ``&``), written as it is.

    Only for text built by the package from numbers and fixed keys (GeoJSON geometries).

    Examples
    --------
    >>> js_json(RawJSON('{"type":"Point","coordinates":[3.3,49.4]}'))
    '{"type":"Point","coordinates":[3.3,49.4]}'
    >>> RawJSON('"</script>"')
    Traceback (most recent call last):
    ...
    ValueError: RawJSON text must not contain <, > or &
    """

    def __new__(cls, text: str) -> RawJSON:
        """Return `text` as raw JSON after checking it cannot close a script element."""
        if "<" in text or ">" in text or "&" in text:
            raise ValueError("RawJSON text must not contain <, > or &")
        return super().__new__(cls, text)


def js_json(value: Any) -> str:
    r"""Return `value` as compact JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\u`` escapes so that no string can close the
    script element; NaN and infinities become ``null``.

    Examples
    --------
    >>> js_json({"name": "</script><b>", "x": float("nan")})
    '{"name":"\\u003c/script\\u003e\\u003cb\\u003e","x":null}'
    """
    if isinstance(value, RawJSON):
        return str(value)
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # NaN or infinity somewhere: walk the value (rare, so only then)
        text = json.dumps(
            _finite(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    for char, escape in _JS_UNSAFE:
        if char in text:
            text = text.replace(char, escape)
    return text


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


# --- rendering ----------------------------------------------------------------------------------

_SCRIPT_LINK = re.compile(r'<script src="([^"]+)"></script>')
_CSS_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)"/>')


def _root(m: Any) -> Figure:
    if isinstance(m, Figure):
        return m
    root = m.get_root() if hasattr(m, "get_root") else None
    if not isinstance(root, Figure):
        raise CdvGeoError(
            f"expected a folium Map (or a branca Figure), got {type(m).__name__}; build one "
            "with cdv_geo.maps.overview_map(territory) or folium.Map()"
        )
    return root


def render_html(
    m: Any, *, assets: Literal["cdn", "inline"] = "cdn", asset_dir: AssetDir = None
) -> str:
    """Return the complete HTML document of a map.

    Parameters
    ----------
    m : folium.Map or branca.element.Figure
        The map.
    assets : {"cdn", "inline"}
        Link the JS/CSS files from their CDN, or embed them (see :func:`save_map`).
    asset_dir : path or list of paths, optional
        Folders searched for the assets in inline mode, before the user cache.

    Examples
    --------
    >>> import folium
    >>> html = render_html(folium.Map(tiles=None))
    >>> html.startswith("<!DOCTYPE html>")
    True
    """
    if assets not in ("cdn", "inline"):
        raise CdvGeoError(f'assets={assets!r} is not valid; use assets="cdn" or assets="inline"')
    root = _root(m)
    # Rendering fills the page's header, body and script parts, and folium adds new pieces on
    # every render (its layers' "addTo" calls): keep the parts as they were, so that rendering
    # twice (save, then embed) gives the same document.
    parts = [root.header, root.html, root.script]
    saved = [dict(part._children) for part in parts]
    try:
        text = root.render()
    finally:
        for part, children in zip(parts, saved, strict=True):
            part._children.clear()
            part._children.update(children)
    lang = getattr(m, "_cdv_lang", None)
    if lang:
        text = text.replace("<html>", f'<html lang="{escape_text(lang)}">', 1)
    if assets == "inline":
        text = _inline_assets(text, asset_dirs(asset_dir))
    else:
        text = with_offline_message(text, lang or "fr")
    return text


#: Shown when the page has loaded and Leaflet is not there: a map linking its scripts from the
#: CDN, opened without internet, would otherwise be a blank page with no word of why.
_OFFLINE = (
    '<div id="cdv-offline" role="alert" style="display:none;position:fixed;inset:0;'
    "z-index:100000;background:#fff;color:#222;padding:48px 8vw;overflow:auto;"
    'font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,Arial,sans-serif">'
    '<h1 style="font-size:22px;margin:0 0 12px">{title}</h1>'
    '<p style="max-width:46em;margin:0">{text}</p></div>\n'
    "<script>(function () {{\n"
    "  function check() {{\n"
    "    if (window.L) return;\n"
    "    var box = document.getElementById('cdv-offline');\n"
    "    if (box) box.style.display = 'block';\n"
    "  }}\n"
    "  if (document.readyState === 'complete') check();\n"
    "  else window.addEventListener('load', check);\n"
    "}})();</script>\n"
)


def with_offline_message(text: str, lang: str = "fr") -> str:
    """Return the HTML `text` of a map with the message shown when its scripts cannot load.

    A map saved with ``assets="cdn"`` loads Leaflet from the internet; opened offline it would
    be a blank page. The message, plain HTML hidden by default, is shown by a small inline
    script once the page has loaded without Leaflet. It says how to get a map that opens
    offline (``--assets inline``).

    Examples
    --------
    >>> page = with_offline_message("<html><body><div></div></body></html>", "en")
    >>> "cannot be shown without an internet connection" in page
    True
    >>> page.index('id="cdv-offline"') < page.index("</body>")
    True
    """
    block = _OFFLINE.format(
        title=escape_text(lb.label("offline_title", lang)),
        text=escape_text(lb.label("offline_text", lang)),
    )
    end = text.rfind("</body>")
    if end < 0:
        return text + block
    return text[:end] + block + text[end:]


def asset_urls(map_or_html: Any) -> list[str]:
    """Return the URLs of the JS and CSS files a map (or its HTML text) links to.

    Examples
    --------
    >>> import folium
    >>> urls = asset_urls(folium.Map(tiles=None))
    >>> any(u.endswith("leaflet.js") for u in urls)
    True
    """
    text = map_or_html if isinstance(map_or_html, str) else _root(map_or_html).render()
    urls = _SCRIPT_LINK.findall(text) + _CSS_LINK.findall(text)
    return list(dict.fromkeys(_html.unescape(u) for u in urls))


def _inline_assets(text: str, dirs: list[Path]) -> str:
    missing: dict[str, list[str]] = {}

    def load(url: str) -> bytes | None:
        path, notes = resolve_asset(url, dirs)
        if path is None:
            missing.setdefault(url, notes)
            return None
        return path.read_bytes()

    def js(match: re.Match[str]) -> str:
        url = _html.unescape(match.group(1))
        data = load(url)
        if data is None:
            return match.group(0)
        code = data.decode("utf-8")
        code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)
        code = code.replace("<!--", "<\\!--")
        return f"<script>/* {escape_text(url)} */\n{code}\n</script>"

    def css(match: re.Match[str]) -> str:
        url = _html.unescape(match.group(1))
        data = load(url)
        if data is None:
            return match.group(0)
        sheet = _embed_css_urls(data.decode("utf-8"), url, load)
        sheet = re.sub(r"</(style)", r"<\\/\1", sheet, flags=re.IGNORECASE)
        return f"<style>/* {escape_text(url)} */\n{sheet}\n</style>"

    text = _SCRIPT_LINK.sub(js, text)
    text = _CSS_LINK.sub(css, text)
    if missing:
        raise MissingAssetsError(_missing_message(missing, dirs))
    return text


_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def _embed_css_urls(sheet: str, base_url: str, load: Any) -> str:
    wanted = set(css_dependencies(sheet, base_url))

    def repl(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "#")):
            return match.group(0)
        from urllib.parse import urljoin

        full = urljoin(base_url, ref).split("#", 1)[0].split("?", 1)[0]
        if full not in wanted:
            return match.group(0)
        data = load(full)
        if data is None:
            return match.group(0)
        mime = mimetypes.guess_type(full)[0] or _FONT_TYPES.get(
            full.rsplit(".", 1)[-1], "application/octet-stream"
        )
        return f'url("data:{mime};base64,{base64.b64encode(data).decode("ascii")}")'

    return _CSS_URL.sub(repl, sheet)


_FONT_TYPES = {"woff2": "font/woff2", "woff": "font/woff", "ttf": "font/ttf", "eot": "font/eot"}


def _missing_message(missing: dict[str, list[str]], dirs: list[Path]) -> str:
    lines = [
        f"cannot write the map with assets='inline': {len(missing)} file(s) it uses are not in "
        "any asset folder:"
    ]
    for url, notes in missing.items():
        lines.append(f"  - {url}")
        lines.extend(f"      ({n})" for n in notes)
    lines.append("Folders searched: " + ", ".join(str(d) for d in dirs) + ".")
    lines.append(
        "To get them: run `cdv-geo assets fetch` once (downloads them into "
        f"{cache_dir()}), or `npm install {' '.join(npm_packages())}` and pass "
        "asset_dir='node_modules'; or save with assets='cdn'."
    )
    return "\n".join(lines)


# --- saving -------------------------------------------------------------------------------------


def save_map(
    m: Any,
    path: str | os.PathLike[str],
    *,
    assets: Literal["cdn", "inline"] = "cdn",
    asset_dir: AssetDir = None,
) -> Path:
    """Write a map to one HTML file, atomically.

    Parameters
    ----------
    m : folium.Map
        The map (from :func:`cdv_geo.maps.overview_map` or any folium map).
    path : str or path-like
        The HTML file to write. Its folder is created if needed.
    assets : {"cdn", "inline"}, default "cdn"
        ``"cdn"``: the file links Leaflet and its plugins from jsDelivr (small file, needs the
        network). ``"inline"``: every JS/CSS file the map uses, and the images of its
        stylesheets, are copied into the file, so it opens with no network at all except for
        basemap tiles (none with ``tiles=None``).
    asset_dir : path or list of paths, optional
        Folders holding the assets for inline mode: an npm ``node_modules`` folder or a folder
        filled by ``cdv-geo assets fetch``. The user cache is always searched last.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    MissingAssetsError
        In inline mode, listing every asset not found and how to get it. Nothing is written.

    Examples
    --------
    >>> import folium, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "carte.html"
    >>> save_map(folium.Map(tiles=None), out).read_text()[:15]
    '<!DOCTYPE html>'
    """
    target = Path(path)
    if target.exists() and target.is_dir():
        raise CdvGeoError(f"{target} is a folder; give the path of an .html file to write")
    # Render everything before touching the disk: a missing asset must not leave a stub file.
    text = render_html(m, assets=assets, asset_dir=asset_dir)
    from cdv_geo.io import atomic_path

    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def embed_snippet(
    map_or_path: Any,
    *,
    width: str | int = "100%",
    height: str | int = 600,
    title: str | None = None,
) -> str:
    r"""Return an ``<iframe>`` holding the map, to paste into an HTML report.

    The whole map document goes into the ``srcdoc`` attribute, escaped, so the report needs no
    extra file. The frame is sandboxed (scripts allowed, no access to the report's page).

    Parameters
    ----------
    map_or_path : folium.Map, or path of a saved map
        The map to embed.
    width, height : str or int
        CSS sizes; integers are pixels.
    title : str, optional
        Accessible title of the frame.

    Examples
    --------
    >>> import folium
    >>> snippet = embed_snippet(folium.Map(tiles=None), height=400)
    >>> snippet.startswith("<iframe srcdoc=\"&lt;!DOCTYPE html&gt;")
    True
    >>> "height:400px" in snippet
    True
    """
    if isinstance(map_or_path, str | os.PathLike):
        p = Path(map_or_path)
        if not p.is_file():
            raise CdvGeoError(f"no map file at {p}; save the map first with save_map(m, {p!s})")
        doc = p.read_text(encoding="utf-8")
        default_title = p.stem
    else:
        doc = render_html(map_or_path)
        default_title = getattr(map_or_path, "_cdv_title", None) or "carte"
    w, h = _css_size(width, "width"), _css_size(height, "height")
    return (
        f'<iframe srcdoc="{_html.escape(doc, quote=True)}" '
        f'title="{escape_text(title or default_title)}" '
        f'style="width:{w};height:{h};border:0" loading="lazy" allowfullscreen '
        'sandbox="allow-scripts allow-popups allow-popups-to-escape-sandbox"></iframe>'
    )


_CSS_LENGTH = re.compile(r"^\d+(\.\d+)?(px|%|em|rem|vh|vw)$")


def _css_size(value: str | int, what: str) -> str:
    if isinstance(value, bool):
        raise CdvGeoError(f"{what}={value!r} is not a size; give pixels (600) or CSS ('100%')")
    if isinstance(value, int | float):
        if value <= 0:
            raise CdvGeoError(f"{what}={value!r} must be positive")
        return f"{value:g}px"
    text = str(value).strip()
    if text.isdigit():
        return f"{text}px"
    if not _CSS_LENGTH.match(text):
        raise CdvGeoError(
            f"{what}={value!r} is not a CSS length; use e.g. 600, '600px', '100%' or '80vh'"
        )
    return text
