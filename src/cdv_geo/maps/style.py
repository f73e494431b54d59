"""Colours and pictograms of the committee maps.

What a map *says* (labels, number formats) lives in :mod:`cdv_geo.core.labels`, shared with the
tables and the report; what it *looks like* lives here.
"""

from __future__ import annotations

__all__ = [
    "BACKGROUND_COLOUR",
    "CHOROPLETH_COLOURS",
    "CHOROPLETH_GOOD_COLOURS",
    "COMMUNE_COLOUR",
    "DESEALED_COLOUR",
    "FACILITY_STYLE",
    "GLYPHS",
    "GREEN_PRIVATE",
    "GREEN_PUBLIC",
    "OPERATION_COLOURS",
    "QUARTIER_COLOUR",
    "SERVICE_BAND_COLOURS",
    "TIME_COLOURS",
    "TREE_COLOUR",
    "UNREACHABLE_COLOUR",
    "glyph_colour",
    "glyph_svg",
    "is_colour",
]

#: Pictograms in a 24x24 box, drawn with the marker's glyph colour. Inline SVG rather than an
#: icon font: nothing to download, so the map also works offline and in ``assets="inline"``.
GLYPHS: dict[str, str] = {
    "drop": '<path d="M12 2.5C9 7.5 5.5 11 5.5 14.5a6.5 6.5 0 0 0 13 0C18.5 11 15 7.5 12 2.5z"/>',
    "cross": '<path d="M9.5 4h5v5.5H20v5h-5.5V20h-5v-5.5H4v-5h5.5z"/>',
    "people": (
        '<circle cx="9" cy="7.5" r="3.2"/><circle cx="16.5" cy="9" r="2.6"/>'
        '<path d="M2.5 20c0-4.2 2.9-7 6.5-7s6.5 2.8 6.5 7zM16 20c0-2.4-.6-4.3-1.8-5.7.7-.3 1.5'
        '-.5 2.3-.5 3 0 5 2.4 5 6.2z"/>'
    ),
    "heart": (
        '<path d="M12 20.5l-1.3-1.2C5.6 14.7 2.5 11.9 2.5 8.2 2.5 5.5 4.6 3.5 7.2 3.5c1.9 0 '
        '3.6 1 4.8 2.6 1.2-1.6 2.9-2.6 4.8-2.6 2.6 0 4.7 2 4.7 4.7 0 3.7-3.1 6.5-8.2 11.1z"/>'
    ),
    "star": '<path d="M12 2.5l2.9 6.3 6.8.7-5.1 4.6 1.5 6.8L12 17.4l-6.1 3.5 1.5-6.8-5.1-4.6 '
    '6.8-.7z"/>',
    "book": (
        '<path d="M3 5h6.5A2.5 2.5 0 0 1 12 7.5V20a2 2 0 0 0-2-2H3zM21 5h-6.5A2.5 2.5 0 0 0 '
        '12 7.5V20a2 2 0 0 1 2-2h7z"/>'
    ),
    "cart": (
        '<path d="M2 3.5h3.6l.8 3.5H21l-2.2 8.5H8.3l.4 2H19v2H7.1L4 5.5H2z"/>'
        '<circle cx="9" cy="21" r="1.6"/><circle cx="17" cy="21" r="1.6"/>'
    ),
    "shield": '<path d="M12 2l8 3.2v6c0 5-3.4 9.3-8 10.8-4.6-1.5-8-5.8-8-10.8v-6z"/>',
    "ball": (
        '<path fill-rule="evenodd" d="M12 3.5a8.5 8.5 0 1 0 0 17 8.5 8.5 0 0 0 0-17zm0 '
        '3.6l3 2.2-1.1 3.5h-3.8L9 9.3z"/>'
    ),
    "house": '<path d="M12 3l9.5 8.5H18.5V21h-4.5v-6h-4v6H5.5v-9.5h-3z"/>',
    "venus": (
        '<path fill-rule="evenodd" d="M12 2.5a5.5 5.5 0 1 1 0 11 5.5 5.5 0 0 1 0-11zm0 2.3a3.2 '
        "3.2 0 1 0 0 6.4 3.2 3.2 0 0 0 0-6.4zM10.8 13.3h2.4v2.6h2.9v2.3h-2.9V21h-2.4v-2.8H7.9"
        'v-2.3h2.9z"/>'
    ),
    "briefcase": (
        '<path fill-rule="evenodd" d="M9 3.5h6a1.2 1.2 0 0 1 1.2 1.2V7H20a1.5 1.5 0 0 1 1.5 '
        "1.5v10A1.5 1.5 0 0 1 20 20H4a1.5 1.5 0 0 1-1.5-1.5v-10A1.5 1.5 0 0 1 4 7h3.8V4.7A1.2 "
        '1.2 0 0 1 9 3.5zm1.2 2V7h3.6V5.5z"/>'
    ),
    "bin": '<path d="M9 2.5h6l1 2h4.5v2.2h-17V4.5H8zM5.5 8h13l-1.2 13.5H6.7z"/>',
    "tree": '<path d="M12 2l6 8h-3l4.5 6.5H13V22h-2v-5.5H4.5L9 10H6z"/>',
    "dot": '<circle cx="12" cy="12" r="4.5"/>',
}

#: Colour and pictogram of each facility kind (one legend entry per kind).
FACILITY_STYLE: dict[str, dict[str, str]] = {
    "water_play_area": {"colour": "#1565c0", "glyph": "drop"},
    "health_centre": {"colour": "#c62828", "glyph": "cross"},
    "social_centre": {"colour": "#ef6c00", "glyph": "people"},
    "ccas": {"colour": "#ad1457", "glyph": "heart"},
    "education_programme": {"colour": "#6a1b9a", "glyph": "star"},
    "school": {"colour": "#4527a0", "glyph": "book"},
    "shop": {"colour": "#8d6e63", "glyph": "cart"},
    "police": {"colour": "#1a237e", "glyph": "shield"},
    "sports": {"colour": "#00796b", "glyph": "ball"},
    "social_landlord_agency": {"colour": "#5d4037", "glyph": "house"},
    "womens_rights_centre": {"colour": "#d81b60", "glyph": "venus"},
    "youth_employment": {"colour": "#f9a825", "glyph": "briefcase"},
    "waste_point": {"colour": "#546e7a", "glyph": "bin"},
    "park": {"colour": "#2e7d32", "glyph": "tree"},
    "other": {"colour": "#757575", "glyph": "dot"},
}

#: Fill colour of each NPNRU operation.
OPERATION_COLOURS: dict[str, str] = {
    "demolition": "#d7301f",
    "reconstruction": "#c51b7d",
    "rehabilitation": "#f28e2b",
    "facade_requalification": "#e3b505",
    "residentialisation": "#8856a7",
}

QUARTIER_COLOUR = "#4a148c"
COMMUNE_COLOUR = "#616161"
DESEALED_COLOUR = "#1b9e77"
TREE_COLOUR = "#238b45"
GREEN_PUBLIC = "#74c476"
GREEN_PRIVATE = "#c7e9c0"
SERVICE_BAND_COLOURS = ("#08519c", "#4292c6", "#9ecae1", "#c6dbef")
#: Walking-time classes, from near (green) to far (red); the last colour is "unreachable".
TIME_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
UNREACHABLE_COLOUR = "#9e9e9e"
CHOROPLETH_COLOURS = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
CHOROPLETH_GOOD_COLOURS = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
BACKGROUND_COLOUR = "#f4f1ea"


def glyph_svg(name: str, colour: str) -> str:
    """Return the inline SVG of a pictogram, filled with `colour`.

    Examples
    --------
    >>> glyph_svg("dot", "#fff")[:40]
    '<svg viewBox="0 0 24 24" fill="#fff" wid'
    """
    return (
        f'<svg viewBox="0 0 24 24" fill="{colour}" width="16" height="16" aria-hidden="true">'
        f"{GLYPHS[name]}</svg>"
    )


def glyph_colour(background: str) -> str:
    """Return black or white, whichever reads better on `background` (a ``#rrggbb`` colour).

    Examples
    --------
    >>> glyph_colour("#1565c0"), glyph_colour("#f9a825")
    ('#ffffff', '#212121')
    """
    r, g, b = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    return "#212121" if luminance > 0.35 else "#ffffff"


def is_colour(c: str) -> bool:
    """Return True for a ``#rgb`` or ``#rrggbb`` colour (safe to write into CSS or SVG).

    Examples
    --------
    >>> is_colour("#1b9e77"), is_colour("red;}</style>")
    (True, False)
    """
    return (
        len(c) in (4, 7) and c.startswith("#") and all(x in "0123456789abcdefABCDEF" for x in c[1:])
    )
