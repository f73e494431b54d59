"""The plain-language glossary of the committee dossier: what each figure measures, and how.

One source, ``templates/glossary.toml``, holds for every figure a reader meets (the key figures,
the theme tables, the socio-economic indicators) and for every comparison column (quartier,
all QPV, commune, commune outside QPV, all QPV in France), in French and in English:

- ``name``: the figure's name;
- ``what``: what it measures, in words;
- ``how``: how it is computed, in words, the formula typeset as text
  (``part = surface imperméabilisée ÷ surface du périmètre``): no code, no LaTeX;
- ``source``: where the data come from (the year is added from the data when known);
- ``limits`` (optional): what the figure does not say, its reference's caveats.

:func:`glossary_html` prints the entries of the figures a dossier shows;
:func:`glossary_markdown` gives the same text to the documentation site.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cdv_geo.core.escape import escape_text
from cdv_geo.core.labels import check_lang, label
from cdv_geo.core.rows import row_label

__all__ = [
    "GLOSSARY_FILE",
    "GlossaryEntry",
    "glossary",
    "glossary_entries",
    "glossary_html",
    "glossary_markdown",
]

#: The data file of the glossary (TOML: ``[rows.*]``, ``[figures.*]``, ``[indicators.*]``).
GLOSSARY_FILE = Path(__file__).resolve().parent / "templates" / "glossary.toml"

_SECTIONS = ("rows", "figures", "indicators")


@dataclass(frozen=True)
class GlossaryEntry:
    """One entry of the glossary, in one language (``how`` and ``source`` may be empty)."""

    key: str
    section: str
    name: str
    what: str
    how: str = ""
    source: str = ""
    limits: str = ""


@cache
def _data() -> dict[str, dict[str, dict[str, list[str]]]]:
    with GLOSSARY_FILE.open("rb") as f:
        return tomllib.load(f)


def glossary(lang: str = "fr") -> dict[str, GlossaryEntry]:
    """Return every entry of the glossary in `lang`, keyed by figure (or row, or indicator).

    Examples
    --------
    >>> g = glossary("fr")
    >>> g["impervious_share"].how.split(",")[0]
    'part = surface imperméabilisée ÷ surface du périmètre'
    >>> glossary("en")["hors_qpv"].name
    'Municipality outside QPV'
    """
    i = 0 if check_lang(lang) == "fr" else 1
    out: dict[str, GlossaryEntry] = {}
    for section in _SECTIONS:
        for key, fields in _data().get(section, {}).items():
            text = {f: v[i] for f, v in fields.items()}
            out[key] = GlossaryEntry(key=key, section=section, **text)
    return out


def glossary_entries(keys: Iterable[str], lang: str = "fr") -> list[GlossaryEntry]:
    """Return the entries of `keys` (in the glossary's order; unknown keys are left out).

    A column named after a walking threshold (``green_0_5ha_share``...) or a service finds its
    entry by its own name only: a figure without an entry is simply not explained.

    Examples
    --------
    >>> [e.key for e in glossary_entries(["n_trees", "area_m2", "unknown"], "en")]
    ['area_m2', 'n_trees']
    """
    wanted = set(keys)
    return [e for k, e in glossary(lang).items() if k in wanted]


def _years_text(years: Mapping[str, Any], key: str, lang: str) -> str:
    year = years.get(key)
    if year is None or year == "":
        return ""
    return f" ({label('rp_year', lang)} {year})"


def glossary_html(
    keys: Iterable[str],
    *,
    town: str,
    lang: str = "fr",
    years: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """Return the glossary section of the dossier: the comparison columns, then each figure.

    Parameters
    ----------
    keys : iterable of str
        The figures shown in the dossier (columns and indicator names).
    town : str
        The town's name (in the names of the comparison columns).
    lang : {"fr", "en"}
    years : mapping, optional
        Figure -> year of its data, printed after its source.
    names : mapping, optional
        Figure -> the name the dossier's tables give it (default: the glossary's).

    Examples
    --------
    >>> html = glossary_html(["impervious_share"], town="<Soissons>", lang="fr",
    ...                      years={"impervious_share": 2024})
    >>> "surface imperméabilisée ÷ surface du périmètre" in html, "&lt;Soissons&gt;" in html
    (True, True)
    >>> "(année 2024)" in html
    True
    """
    years = years or {}
    names = names or {}
    esc = escape_text
    rows = [e for e in glossary(lang).values() if e.section == "rows"]
    parts = [
        f'<section class="glossary" id="annex"><h1>{esc(label("rp_glossary", lang))}</h1>',
        f'<p class="small">{esc(label("rp_glossary_intro", lang))}</p>',
        f'<h2>{esc(label("rp_glossary_rows", lang))}</h2><dl class="rows">',
    ]
    for e in rows:
        # the same names as the tables' columns (the town's name in commune and hors_qpv)
        name = e.name if e.key == "quartier" else str(row_label(e.key, town=town, lang=lang))
        parts.append(f"<dt>{esc(name)}</dt><dd>{esc(e.what)}</dd>")
    parts.append(f"</dl><h2>{esc(label('rp_glossary_figures', lang))}</h2>")
    for e in glossary_entries(keys, lang):
        if e.section == "rows":
            continue
        parts.append(
            '<div class="entry">'
            f"<h3>{esc(names.get(e.key, e.name))}</h3>"
            f"<p>{esc(e.what)}</p>"
            f'<p><span class="gl">{esc(label("rp_how", lang))}</span> {esc(e.how)}</p>'
            f'<p><span class="gl">{esc(label("rp_source", lang))}</span> '
            f"{esc(e.source)}{esc(_years_text(years, e.key, lang))}</p>"
            + (
                f'<p><span class="gl">{esc(label("rp_limits", lang))}</span> {esc(e.limits)}</p>'
                if e.limits
                else ""
            )
            + "</div>"
        )
    parts.append("</section>")
    return "".join(parts)


def glossary_markdown(lang: str = "fr") -> str:
    """Return the whole glossary as Markdown (for the documentation site).

    Examples
    --------
    >>> print(glossary_markdown("en").splitlines()[0])
    # Glossary — what the figures measure
    """
    lines = [f"# {label('rp_glossary', lang)}", ""]
    for e in glossary(lang).values():
        lines += [f"## {e.name}", "", e.what, ""]
        if e.how:
            lines += [f"**{label('rp_how', lang)}** {e.how}", ""]
        if e.source:
            lines += [f"**{label('rp_source', lang)}** {e.source}", ""]
        if e.limits:
            lines += [f"**{label('rp_limits', lang)}** {e.limits}", ""]
    return "\n".join(lines)
