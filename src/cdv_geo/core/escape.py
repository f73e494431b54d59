"""Escaping text from data for HTML: one rule for the maps, the index and the dossier.

:func:`escape_text` makes any string from data safe to show as *text* inside HTML (tooltips,
popups, legends, layer names, table cells): ``<``, ``>``, ``&``, quotes, and
``$``/backtick/backslash/``{`` are replaced by character references, so a name like
``${alert(1)}`` can neither open a tag nor be evaluated by a JavaScript template literal.
"""

from __future__ import annotations

import html as _html
from typing import Any

import pandas as pd

__all__ = ["escape_text"]

_EXTRA_ENTITY_PAIRS = (("$", "&#36;"), ("`", "&#96;"), ("\\", "&#92;"), ("{", "&#123;"))


def escape_text(value: Any) -> str:
    r"""Return `value` as HTML text that shows literally, whatever it contains.

    Besides the usual HTML escaping (``<``, ``>``, ``&``, ``"``, ``'``), ``$``, backticks,
    backslashes and ``{`` become character references: the browser shows them unchanged, but a
    JavaScript template literal or a template engine that sees the string cannot evaluate it.
    Missing values (``None``, NaN, ``pd.NA``) give an empty string.

    Examples
    --------
    >>> escape_text("<script>alert(1)</script> ' \" ${alert(1)}")
    '&lt;script&gt;alert(1)&lt;/script&gt; &#x27; &quot; &#36;&#123;alert(1)}'
    >>> escape_text(None)
    ''
    """
    if type(value) is not str:  # the common case (a str) skips the missing-value checks
        if value is None:
            return ""
        try:
            if pd.isna(value):
                return ""
        except (TypeError, ValueError):
            pass
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value)
    text = _html.escape(value, quote=True)
    for char, entity in _EXTRA_ENTITY_PAIRS:
        if char in text:
            text = text.replace(char, entity)
    return text
