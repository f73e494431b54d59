"""HTML pieces of the committee dossier: labels, value formats, tables, images, Markdown.

Every text that comes from the data (names, codes, sources, notes) goes through
:func:`html.escape` here: the dossier's pages are assembled from these helpers only. Images are
embedded as ``data:`` URIs, so the HTML names no remote resource.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

from cdv_geo.core.escape import escape_text
from cdv_geo.core.labels import (
    LABELS,
    check_lang,
    fmt_area,
    fmt_number,
    fmt_percent,
    is_missing,
    kind_label,
    label,
)
from cdv_geo.core.reasons import missing_advice, reason_label
from cdv_geo.core.rows import row_label
from cdv_geo.core.tables import is_comparison_row

__all__ = [
    "DOSSIER_LABELS",
    "dl",
    "esc",
    "fmt_change",
    "fmt_value",
    "img",
    "markdown_to_html",
    "minutes_text",
    "missing_box",
    "missing_items",
    "note_text",
    "raster_words",
    "row_title",
    "table_html",
    "table_words",
]

#: The dossier's own labels (French, English); the map and table labels come from core.labels.
DOSSIER_LABELS: dict[str, tuple[str, str]] = {
    "title": ("Dossier du comité de pilotage", "Steering committee dossier"),
    "subtitle": ("Contrat de ville — {territory}", "Contrat de ville — {territory}"),
    "date": ("Édité le {date}", "Issued on {date}"),
    "contents": ("Sommaire", "Contents"),
    "sources": ("Sources des données", "Data sources"),
    "overview": ("Vue d'ensemble", "Overview"),
    "quartiers": ("Quartiers prioritaires", "Priority quartiers"),
    "quartier_page": ("Quartier {name}", "Quartier {name}"),
    "themes": ("Thèmes", "Themes"),
    "theme_access": ("Accès à pied aux services", "Walking access to services"),
    "theme_renaturation": ("Renaturation", "Renaturation"),
    "theme_renewal": ("Renouvellement urbain (NPNRU)", "Urban renewal (NPNRU)"),
    "theme_indicators": ("Indicateurs socio-économiques", "Socio-economic indicators"),
    "theme_heat": ("Chaleur et eau", "Heat and water"),
    "annex": ("Annexe — définitions des indicateurs", "Annex — metric definitions"),
    "illustrative_mark": (
        "Données illustratives (démonstration) : ne pas citer",
        "Illustrative data (demo): not to be quoted",
    ),
    "status_illustrative": ("illustratif", "illustrative"),
    "status_official": ("officiel", "official"),
    "status_given": ("fourni par le projet", "supplied by the project"),
    "col_data": ("Donnée", "Data"),
    "col_file": ("Fichier", "File"),
    "col_features": ("Objets", "Features"),
    "col_source": ("Source", "Source"),
    "col_status": ("Statut", "Status"),
    "col_figure": ("Indicateur", "Figure"),
    "col_value": ("Quartier", "Quartier"),
    "col_change": ("Évolution", "Change"),
    "col_gap": ("Écart", "Gap"),
    "population_from": (
        "Habitants : {quartier} ; {town} : {territory}.",
        "Residents: {quartier}; {town}: {territory}.",
    ),
    "col_service": ("Service", "Service"),
    "col_within": ("≤ {minutes} min", "≤ {minutes} min"),
    "col_median": ("Temps médian", "Median time"),
    "key_figures": ("Chiffres clés", "Key figures"),
    "services_within": (
        "Habitants à moins de {minutes} min à pied des services",
        "Residents within {minutes} min walk of services",
    ),
    "services_note": (
        "Part des habitants du quartier à moins de N minutes à pied (réseau piéton) du service le "
        "plus proche ; temps médian des résidences du quartier.",
        "Share of the quartier's residents within N minutes' walk (street network) of the "
        "nearest service; median time of the quartier's residences.",
    ),
    "indicators_of_year": (
        "Indicateurs socio-économiques ({year})",
        "Socio-economic indicators ({year})",
    ),
    "since": ("depuis {year}", "since {year}"),
    "missing": ("Manque", "Missing"),
    "missing_generic": (
        "Rien à montrer ici : {what}.",
        "Nothing to show here: {what}.",
    ),
    "no_heat_table": (
        "aucune table chaleur ou eau n'a été calculée (exposition à la chaleur, îlots de "
        "fraîcheur, incidents d'eau) : le calcul n'est pas encore branché sur le pipeline",
        "no heat or water table was computed (heat exposure, cool places, water incidents): "
        "the computation is not wired into the pipeline yet",
    ),
    "no_heat_raster": (
        "Aucune carte de chaleur : fournir une carte de température de surface (en °C, "
        "image satellite d'un jour chaud) dans le projet.",
        "No heat map: provide a land-surface temperature map (in °C, a satellite image of a "
        "hot day) in the project.",
    ),
    "heat_raster_given": (
        "Carte(s) de chaleur fournie(s) mais non exploitable(s) : {names}.",
        "Heat map(s) provided but not usable: {names}.",
    ),
    "no_quartiers": (
        "Couche des quartiers absente : fournir les périmètres des quartiers prioritaires.",
        "Quartiers layer missing: provide the boundaries of the priority quartiers.",
    ),
    "no_coverage": (
        "Accès à pied non calculé : fournir les résidences et les équipements.",
        "Walking access not computed: provide the residences and the facilities.",
    ),
    "no_definitions": (
        "le fichier des définitions (docs/metrics.md) est absent de cette installation",
        "the definitions file (docs/metrics.md) is missing from this installation",
    ),
    "notes": ("Remarques", "Notes"),
    "map_quartier": ("Carte du quartier {name}", "Map of the quartier {name}"),
    "renewal_timeline": (
        "Avancement des opérations (logements, cumul par année)",
        "Progress of the operations (dwellings, cumulative per year)",
    ),
    "income_grid": (
        "Revenus carroyés (Filosofi, carreaux de 200 m)",
        "Gridded income (Filosofi, 200 m squares)",
    ),
    "france": ("France", "France"),
    "trends": ("Évolution des parts (en %)", "Trends of the shares (in %)"),
    "gap_to": ("Écart à {name}", "Gap to {name}"),
    "pts": ("pts", "pts"),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "crs": ("Projection", "Projection"),
    "walking_speed": ("Vitesse de marche", "Walking speed"),
    "page": ("page", "page"),
    # short row labels of the theme tables
    "fig_impervious_change_pp": ("Évolution de l'imperméabilisation", "Change in imperviousness"),
    "fig_canopy_share": ("Canopée (couvert arboré)", "Tree canopy"),
    "fig_meets_3_30_300_share": (
        "Habitants respectant la règle 3-30-300",
        "Residents meeting the 3-30-300 rule",
    ),
    "fig_green_0_5ha_share": (
        "Habitants à 300 m d'un espace vert de 0,5 ha",
        "Residents within 300 m of a 0.5 ha green space",
    ),
    "fig_green_1ha_share": (
        "Habitants à 300 m d'un espace vert de 1 ha",
        "Residents within 300 m of a 1 ha green space",
    ),
    "fig_n_rebuilt_on_site": ("dont sur site", "of which on site"),
    "fig_n_rebuilt_off_site": ("dont hors site", "of which off site"),
    "fig_reconstitution_ratio": (
        "Taux de reconstitution (reconstruits / démolis)",
        "Reconstitution ratio (rebuilt / demolished)",
    ),
    "fig_density_before_per_ha": (
        "Densité avant (logements / ha)",
        "Density before (dwellings / ha)",
    ),
    "fig_density_after_per_ha": (
        "Densité après (logements / ha)",
        "Density after (dwellings / ha)",
    ),
    "fig_mean_living_standard": ("Niveau de vie moyen (€ / an)", "Mean living standard (€ / year)"),
    "fig_poor_household_share": ("Ménages pauvres", "Poor households"),
    "fig_covered_share": (
        "Part de la population couverte par la grille",
        "Share covered by the grid",
    ),
}


def dl(key: str, lang: str = "fr", **fmt: Any) -> str:
    """Return a dossier label (or a core label) in `lang`, formatted with `fmt` (not escaped).

    Examples
    --------
    >>> dl("theme_renewal", "en"), dl("legend", "fr")
    ('Urban renewal (NPNRU)', 'Légende')
    """
    if key in DOSSIER_LABELS:
        fr, en = DOSSIER_LABELS[key]
        text = fr if check_lang(lang) == "fr" else en
        return text.format(**fmt) if fmt else text
    return label(key, lang, **fmt)


def esc(value: Any) -> str:
    """Return `value` as escaped HTML text (missing values give an empty string).

    Examples
    --------
    >>> esc("<b>Presles</b> & co"), esc(None)
    ('&lt;b&gt;Presles&lt;/b&gt; &amp; co', '')
    """
    return escape_text(value)


def row_title(key: Any, *, town: str, names: dict[str, str] | None = None, lang: str = "fr") -> str:
    """Return the column title of a table row: a quartier's name, or a comparison row's label.

    Examples
    --------
    >>> row_title("hors_qpv", town="Soissons"), row_title("QP1", town="S", names={"QP1": "Presles"})
    ('Soissons hors QPV', 'Presles')
    """
    if is_comparison_row(key):
        return str(row_label(key, town=town, lang=lang))
    return (names or {}).get(str(key), str(key))


def minutes_text(minutes: Any, lang: str = "fr") -> str:
    """Return walking thresholds as the number part of a heading (``5 / 10``; "" if none).

    The unit is the heading's own (one template): never ``≤ 5 min · ≤ 10 min min``.

    Examples
    --------
    >>> minutes_text([10.0, 5.0]), minutes_text([float("nan")]), minutes_text(5)
    ('5 / 10', '', '5')
    """
    values = minutes if isinstance(minutes, (list, tuple, set)) else [minutes]
    kept = sorted({float(x) for x in values if not is_missing(x)})
    return " / ".join(fmt_number(x, lang, 0) for x in kept)


def fmt_change(value: Any, lang: str = "fr", *, unit: str = "", decimals: int = 1) -> str:
    r"""Return a signed change (``+0,3 pt``), or ``n.d.`` when missing.

    Examples
    --------
    >>> fmt_change(0.34, "fr", unit=" pts"), fmt_change(-1250, "en", unit=" €", decimals=0)
    ('+0,3 pts', '-1,250 €')
    >>> fmt_change(-0.03, "fr", unit=" pt")
    '0,0 pt'
    """
    if is_missing(value):
        return label("no_data", lang)
    x = round(float(value), decimals)
    if x == 0:  # a change that rounds to nothing has no sign (never "-0,0")
        x = 0.0
    sign = "+" if x > 0 else ""
    return f"{sign}{fmt_number(x, lang, decimals)}{unit}"


def fmt_value(column: str, value: Any, lang: str = "fr") -> str:
    r"""Format a table value by its column name (the result-table naming convention).

    ``*_share`` and ``*_rate`` -> percent; ``*_m2`` -> m² or ha; ``*_pp`` -> signed points;
    ``*_min`` -> minutes; ``*_m`` -> metres; ``n_*`` -> integer; other numbers -> 2 decimals
    (or none when whole); texts as they are (not escaped: see :func:`esc`).

    Examples
    --------
    >>> fmt_value("coverage_share", 0.4417), fmt_value("n_residents", 3500.0)
    ('44\xa0%', '3\u202f500')
    >>> fmt_value("impervious_change_pp", -0.8128), fmt_value("desealed_m2", 4835.1)
    ('-0,8 pt', '4\u202f835\xa0m²')
    >>> fmt_value("n_trees", float("nan"), "en"), fmt_value("meets_10_20_30", True)
    ('n/a', 'oui')
    """
    if isinstance(value, bool):
        return dl("yes" if value else "no", lang)
    if value is None or (not isinstance(value, str) and is_missing(value)):
        return label("no_data", lang)
    if isinstance(value, str):
        return value
    if column.endswith(("_share", "_rate")):
        return fmt_percent(value, lang)
    if column.endswith("_m2"):
        return fmt_area(value, lang)
    if column.endswith(("_income", "_living_standard")):
        return f"{fmt_number(value, lang, 0)}\u00a0€"
    if column.endswith("_pp"):
        return fmt_change(value, lang, unit=" pt")
    if column.endswith("_min"):
        return f"{fmt_number(value, lang, 1)}\u00a0min"
    if column.endswith("_m"):
        return f"{fmt_number(value, lang, 0)}\u00a0m"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if column.startswith("n_") or x == int(x):
        return fmt_number(x, lang, 0)
    return fmt_number(x, lang, 2)


def raster_words(name: str, lang: str = "fr") -> str:
    """Return a raster of the project in words (``impervious_2024`` -> imperviousness 2024).

    Examples
    --------
    >>> raster_words("impervious_2024"), raster_words("heat_<year>", "en")
    ('imperméabilisation des sols 2024', 'land-surface temperature')
    """
    stem, _, year = str(name).partition("_")
    year = year if year.isdigit() else ""
    for prefix in ("impervious", "canopy", "heat"):
        if stem == prefix or stem.startswith(prefix):
            return f"{label(f'rp_raster_{prefix}', lang)} {year}".strip()
    return label("rp_raster_other", lang, name=str(name))


def table_words(name: str, lang: str = "fr") -> str:
    """Return a table of the project in words (``indicators`` -> the INSEE indicators).

    Examples
    --------
    >>> table_words("indicators", "en"), table_words("loyers")
    ('INSEE socio-economic indicators', 'tableau loyers')
    """
    key = f"rp_table_{name}"
    if key in LABELS:
        return label(key, lang)
    return label("rp_table_other", lang, name=str(name))


def note_text(note: Any, lang: str = "fr") -> str:
    """Return a pipeline note in words for a reader, in `lang` (never its raw English text).

    A missing layer, raster or table says what to provide; a note with a label says its
    label; any other note is read as a reason (:func:`cdv_geo.core.reasons.reason_label`),
    whose unknown texts give the generic "donnée non disponible".

    Examples
    --------
    >>> from cdv_geo.pipeline import Note
    >>> note_text(Note("missing_table", "indicators", "Skipped.", {"name": "indicators"}))
    "Tableau « indicateurs socio-économiques de l'Insee » absent : le fournir dans le projet."
    >>> note_text(Note("x", "heat", "KeyError: 'geometry' in /tmp/a.py"), "en")
    'not available'
    >>> note_text(Note("missing_kind", "water", "No play area.", {"kind": "water_play_area"}))
    "aucun équipement « Aire de jeux d'eau »"
    """
    key = str(getattr(note, "key", ""))
    args = dict(getattr(note, "args", {}) or {})
    if key == "missing_layer" and "layer" in args:
        layer = f"layer_{args['layer']}"
        words = label(layer, lang, service="") if layer in LABELS else str(args["layer"])
        return label("rp_provide_layer", lang, layer=words.strip(" :"))
    if key == "missing_raster" and "name" in args:
        return label("rp_provide_raster", lang, raster=raster_words(args["name"], lang))
    if key == "missing_table" and "name" in args:
        return label("rp_provide_table", lang, table=table_words(args["name"], lang))
    text = str(getattr(note, "text", ""))
    if key in LABELS and any(k in args for k in ("kind", "service")):
        # a facility kind is data: shown by its label ("Aire de jeux d'eau"), never its code
        for k in ("kind", "service"):
            if k in args:
                args[k] = kind_label(str(args[k]), lang)
        try:
            return label(key, lang, **args)
        except (KeyError, IndexError, ValueError):
            return reason_label(text, lang)
    if key in LABELS:
        try:
            words = note.label(lang) if hasattr(note, "label") else label(key, lang, **args)
        except (KeyError, IndexError, ValueError):
            words = text
        if words != text:  # (a label whose arguments the note lacks gives the raw text)
            return str(words)
    return reason_label(text, lang)


def missing_items(figures: Iterable[tuple[str, Any]], lang: str = "fr") -> list[str]:
    """Return the lines of a "missing data" box: each figure with what to provide.

    `figures` holds (figure label, reason) pairs; the reason is put in words by the label
    catalogue, never printed as it is.

    Examples
    --------
    >>> for line in missing_items([("Arbres", "no residences layer"), ("Aire", "Err")], "en"):
    ...     print(line)
    Arbres: Residences file missing: provide the homes (residences) with their population.
    Aire: not available
    """
    out = []
    for figure, reason in figures:
        advice = " ".join(missing_advice([reason], lang)) or label("rp_not_available", lang)
        out.append(label("rp_missing_figure", lang, figure=figure, advice=advice))
    return list(dict.fromkeys(out))


def missing_box(lines: Iterable[str], lang: str = "fr") -> str:
    """Return the one box of a page that says what data are missing (each line escaped).

    A page gathers all its missing items and calls this once; duplicates are said once and an
    empty list gives no box.

    Examples
    --------
    >>> missing_box(["no <raster>", "no <raster>"], "en")
    '<div class="missing"><strong>Missing data</strong><ul><li>no &lt;raster&gt;</li></ul></div>'
    >>> missing_box([])
    ''
    """
    items = "".join(f"<li>{esc(x)}</li>" for x in dict.fromkeys(x for x in lines if x))
    if not items:
        return ""
    title = esc(label("rp_missing", lang))
    return f'<div class="missing"><strong>{title}</strong><ul>{items}</ul></div>'


def table_html(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    cls: str = "data",
    numeric_from: int = 1,
    row_classes: Sequence[str] | None = None,
) -> str:
    r"""Return an HTML table; every header and cell is escaped.

    Columns from `numeric_from` on are right-aligned (class ``num``).

    Examples
    --------
    >>> print(table_html(["a", "b"], [["<x>", "1"]]).replace("<tbody>", "\n<tbody>"))
    <table class="data"><thead><tr><th>a</th><th class="num">b</th></tr></thead>
    <tbody><tr><td>&lt;x&gt;</td><td class="num">1</td></tr></tbody></table>
    """

    def cell(tag: str, i: int, text: Any) -> str:
        attr = ' class="num"' if i >= numeric_from else ""
        return f"<{tag}{attr}>{esc(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = []
    for r, row in enumerate(rows):
        extra = row_classes[r] if row_classes is not None and r < len(row_classes) else ""
        tr = f'<tr class="{esc(extra)}">' if extra else "<tr>"
        body.append(tr + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>")
    return (
        f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def img(png: bytes, alt: str, *, cls: str = "map") -> str:
    r"""Return an ``<img>`` embedding `png` as a ``data:`` URI (nothing to fetch).

    Examples
    --------
    >>> img(b"\x89PNG", "a <map>")[:60]
    '<img class="map" alt="a &lt;map&gt;" src="data:image/png;bas'
    """
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="{esc(cls)}" alt="{esc(alt)}" src="data:image/png;base64,{data}">'


# --- a small Markdown converter (headings, paragraphs, lists, code, tables, math blocks) -------

_INLINE = (
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
    # links: the text only (the dossier names no remote resource)
    (re.compile(r"\[([^\]]+)\]\(([^)]+)\)"), r"\1"),
)
_CODE = re.compile(r"(?::\w+:)?``?([^`]+?)``?")


def _inline(text: str) -> str:
    """Escape `text`, then render inline code, bold, emphasis and links (as text)."""
    parts = []
    last = 0
    for m in _CODE.finditer(text):
        parts.append(_emphasis(html.escape(text[last : m.start()], quote=False)))
        parts.append(f"<code>{html.escape(m.group(1), quote=False)}</code>")
        last = m.end()
    parts.append(_emphasis(html.escape(text[last:], quote=False)))
    return "".join(parts)


def _emphasis(text: str) -> str:
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    return text


def _table(lines: list[str]) -> str:
    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]

    head = cells(lines[0])
    body = [cells(x) for x in lines[2:]] if len(lines) > 1 else []
    th = "".join(f"<th>{_inline(c)}</th>" for c in head)
    trs = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body)
    return f'<table class="md"><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>'


def markdown_to_html(text: str, *, shift: int = 0) -> str:
    r"""Convert the Markdown of ``docs/metrics.md`` to HTML (escaped; no raw HTML passes).

    Handles ATX headings (levels shifted by `shift`), paragraphs, ``-`` lists, fenced code,
    pipe tables, reStructuredText ``.. math::`` blocks (kept as preformatted text), inline code
    and roles (``:func:`x```), bold, emphasis and links (their text only). HTML comments are
    dropped.

    Examples
    --------
    >>> print(markdown_to_html("# Title\n\nSome *text* with `code` <b>.\n\n- one\n- two", shift=1))
    <h2>Title</h2>
    <p>Some <em>text</em> with <code>code</code> &lt;b&gt;.</p>
    <ul><li>one</li><li>two</li></ul>
    >>> print(markdown_to_html("| a |\n| --- |\n| 1 |").replace("<tbody>", "\n<tbody>"))
    <table class="md"><thead><tr><th>a</th></tr></thead>
    <tbody><tr><td>1</td></tr></tbody></table>
    """
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    lines = text.splitlines()
    out: list[str] = []
    para: list[str] = []
    i = 0

    def flush() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
        elif stripped.startswith("```"):
            flush()
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            code = html.escape("\n".join(lines[i + 1 : j]), quote=False)
            out.append(f"<pre><code>{code}</code></pre>")
            i = j + 1
        elif stripped.startswith(".. math::"):
            flush()
            body = [stripped[len(".. math::") :].strip()]
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or lines[j].startswith((" ", "\t"))):
                body.append(lines[j].strip())
                j += 1
            math = "\n".join(b for b in body if b)
            out.append(f'<pre class="math">{html.escape(math, quote=False)}</pre>')
            i = j
        elif m := re.match(r"(#{1,6})\s+(.*)", stripped):
            flush()
            level = min(6, len(m.group(1)) + shift)
            out.append(f"<h{level}>{_inline(m.group(2).strip())}</h{level}>")
            i += 1
        elif stripped.startswith("|"):
            flush()
            j = i
            while j < len(lines) and lines[j].strip().startswith("|"):
                j += 1
            out.append(_table([x.strip() for x in lines[i:j]]))
            i = j
        elif re.match(r"[-*]\s+", stripped):
            flush()
            items: list[str] = []
            while i < len(lines) and lines[i].strip():
                item = lines[i].strip()
                if re.match(r"[-*]\s+", item):
                    items.append(re.sub(r"^[-*]\s+", "", item))
                elif items:
                    items[-1] += " " + item
                i += 1
            out.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in items) + "</ul>")
        else:
            para.append(stripped)
            i += 1
    flush()
    return "\n".join(out)
