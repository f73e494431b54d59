"""The committee bundle: tables, derived layers, maps, figures and an ``index.html`` linking them.

:func:`build_report` computes the metrics once (:func:`~cdv_geo.pipeline.compute_metrics`) and
writes everything a steering committee (comité de pilotage) needs into one folder. Every text
taken from the data is HTML-escaped in the index.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.escape import escape_text
from cdv_geo.core.labels import (
    KEY_FIGURE_LABELS,
    LABELS,
    check_lang,
    column_label,
    fmt_area,
    fmt_number,
    fmt_percent,
    is_missing,
    kind_label,
    kv,
    label,
    value_label,
)
from cdv_geo.core.tables import COMMUNE, HORS_QPV, QPV
from cdv_geo.io import atomic_path
from cdv_geo.maps import build_committee_maps, map_title
from cdv_geo.output.figures import static_figures
from cdv_geo.output.tables import table_title, write_tables
from cdv_geo.pipeline import TABLES, Metrics, Note, Progress, compute_metrics
from cdv_geo.territory import Territory
from cdv_geo.views.cells import cell_reason, table_html
from cdv_geo.views.panels import (
    COVERAGE_PREFIX,
    figure_rows,
    panel_rows,
    quartier_rows,
    row_names,
    with_coverage,
)
from cdv_geo.views.services import primary_service, resolve_services
from cdv_geo.views.titles import quartier_slugs, territory_name

__all__ = [
    "CARD_FIGURES",
    "build_report",
    "key_figures_html",
    "note_text",
    "population_sources_html",
    "quartier_cards_html",
    "write_index",
]

# The labels of the index added by issue 16 (to be merged into cdv_geo.core.labels).
for _key, _pair in {
    "report_open_map": ("Ouvrir la carte du quartier", "Open the quartier's map"),
    "report_dossier": ("Dossier du comité de pilotage", "Steering-committee dossier"),
    "report_pdf_size": ("PDF, {size} Mo", "PDF, {size} MB"),
    "report_kf_table": ("Tous les chiffres clés (tableau)", "Every key figure (table)"),
    "report_access": ("Accès à pied — {territory}", "Walking access — {territory}"),
}.items():
    LABELS.setdefault(_key, _pair)

#: Rows shown per table in the index (the files hold them all).
MAX_ROWS = 50

#: The comparison rows of the index's key-figure table, after the quartiers: all the QPV,
#: the town outside them, the whole town (the committee's standard comparison).
INDEX_ROWS = (QPV, HORS_QPV, COMMUNE)

_STYLE = (
    "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;"
    "padding:0 1em;color:#222}table{border-collapse:collapse;font-size:13px}"
    "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}"
    "th:first-child,td:first-child{text-align:left}.note{color:#8a4b00}"
    "img{max-width:100%;border:1px solid #ddd}.scroll{overflow-x:auto}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:12px}"
    ".card{border:1px solid #ccc;border-radius:6px;padding:10px 12px;background:#fafafa}"
    ".card h3{margin:0 0 2px;font-size:16px}.card .code{color:#666;font-size:12px;margin:0}"
    ".card dl{display:grid;grid-template-columns:1fr auto;gap:2px 10px;font-size:13px;"
    "margin:8px 0}.card dt{color:#444}.card dd{margin:0;text-align:right;font-weight:600;"
    "white-space:nowrap}.card a{font-size:13px}.dossier{font-size:15px;font-weight:600}"
    ".figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:10px}"
    "details.table{margin:6px 0}details.table summary{cursor:pointer;font-weight:600}"
    ".missing{color:#8a4b00;font-size:13px;margin:4px 0 10px}.missing ul{margin:2px 0}"
    "td[title]{cursor:help;text-decoration:underline dotted}</style>"
)

#: The key figures of a quartier card, in order of preference (the first 6 with a value;
#: ``n_residents`` is the card's population line).
CARD_FIGURES = (
    "area_m2",
    "n_facilities",
    "coverage_share",
    "n_demolished",
    "n_rebuilt",
    "desealed_m2",
    "n_trees",
    "impervious_share",
)


def build_report(
    territory: Territory,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "fr",
    assets: str = "cdn",
    asset_dir: str | os.PathLike[str] | None = None,
    formats: Sequence[str] = ("csv", "xlsx", "gpkg"),
    maps: bool = True,
    dossier: bool = False,
    services: str | Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write the committee pack of a territory and return the path of its ``index.html``.

    The pack holds the metric tables (:func:`~cdv_geo.output.write_tables`), the derived
    layers, the committee maps (``cdv_geo.maps``), static PNG figures
    (:func:`~cdv_geo.output.static_figures`) and an ``index.html`` with the key figures per
    quartier, the tables, the notes and links to the maps. Every text taken from the data is
    HTML-escaped.

    Parameters
    ----------
    territory : Territory
    out_dir : path-like
        Output folder (created).
    lang : {"fr", "en"}
    assets : {"cdn", "inline"}
        How maps reference their JavaScript/CSS (see :func:`cdv_geo.maps.save_map`).
    asset_dir : path-like, optional
        Where the JavaScript/CSS files are for ``assets="inline"``.
    formats : sequence of str
        Table formats (``csv``, ``xlsx``, ``gpkg``).
    maps : bool, default True
        Write the interactive maps.
    dossier : bool, default False
        Also write the committee PDF, ``dossier.pdf``
        (:func:`~cdv_geo.output.dossier.build_dossier`), linked from the index (as is a
        ``dossier.pdf`` already in the folder).
    services : str or sequence of str, optional
        Facility kinds with an accessibility map and figure (``"school,health_centre"``);
        default: every kind present in the facilities layer.
    progress : callable, optional
        Progress wrapper for long steps.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    CdvGeoError
        On an unknown language, a territory without layers, or bad data.
    """
    if lang not in ("fr", "en"):
        raise CdvGeoError(f"unknown language {lang!r}; use 'fr' or 'en'")
    if not territory.layers():
        raise CdvGeoError(
            f"territory {territory.name!r} has no layer; add layers under [layers] in the "
            "project file (cdv-geo init writes a template)"
        )
    kinds = resolve_services(territory, services)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = compute_metrics(territory, service_kinds=kinds or None, progress=progress)
    tables = write_tables(
        metrics, out / "tables", formats=formats, lang=lang, town=territory_name(territory)
    )
    service = primary_service(territory, kinds[0] if kinds else None)
    figures = static_figures(territory, metrics, out / "figures", lang=lang, service=service)
    map_files: dict[str, Path] = {}
    if maps:
        map_files = dict(
            build_committee_maps(
                territory,
                out,
                metrics=metrics,
                lang=lang,
                assets=assets,  # type: ignore[arg-type]
                asset_dir=asset_dir,
                services=kinds,
                progress=progress,
            )
        )
    if dossier:
        from cdv_geo.output.dossier import build_dossier

        build_dossier(territory, metrics, out=out / "dossier.pdf", lang=lang)
    return write_index(territory, metrics, out, tables, figures, map_files, lang=lang)


def note_text(note: Note, lang: str = "fr") -> str:
    """Return a note as the reader sees it: its label in `lang` when it has one, else its text.

    Examples
    --------
    >>> n = Note("missing_layer", "access", "Coverage skipped: no residences layer.",
    ...          {"layer": "residences"})
    >>> note_text(n), note_text(n, "en")
    ('couche « residences » absente du territoire', 'no residences layer')
    """
    # the note formats its own arguments for the language (numbers, rows, sources)
    return note.label(check_lang(lang))


def _table_html(df: pd.DataFrame, lang: str, town: str | None = None) -> str:
    body, left_out = table_html(df, lang, town=town, max_rows=MAX_ROWS)
    more = ""
    if left_out > 0:
        more = f"<p>{escape_text(label('report_more_rows', lang, n=left_out))}</p>"
    return f'<div class="scroll">{body}</div>{more}'


def _kf_label(column: str, attrs: Mapping[str, Any], lang: str) -> str:
    if column.startswith(COVERAGE_PREFIX):
        return _kf_label("coverage_share", {**attrs, "service": column.split(":", 1)[1]}, lang)
    key = KEY_FIGURE_LABELS.get(column)
    if key == "kf_coverage":
        service = kind_label(str(attrs.get("service", "")), lang)
        threshold = attrs.get("threshold_min")
        if threshold is None:
            return label("kf_coverage_any", lang, service=service)
        return label(key, lang, threshold=fmt_number(threshold, lang), service=service)
    if key == "kf_impervious":
        year = attrs.get("impervious_year")
        if year is None:
            return label("kf_impervious_latest", lang)
        return label(key, lang, year=year)
    if key is not None:
        return label(key, lang)
    return column_label(column, lang=lang)


def _kf_value(column: str, value: Any, lang: str) -> str:
    if column == "population_source":
        return value_label(column, value, lang) or label("no_data", lang)
    if column.endswith("_share") or column.startswith(COVERAGE_PREFIX):
        return fmt_percent(value, lang, 1 if column.startswith("impervious") else 0)
    if column.endswith("_m2"):
        return fmt_area(value, lang)
    if column.endswith("_pp"):
        return fmt_number(value, lang, 1)
    return fmt_number(value, lang)


def key_figures_html(kf: pd.DataFrame, *, lang: str = "fr", town: str | None = None) -> str:
    """Return the key figures as the committee reads them: one column per quartier, then town.

    The columns are the quartiers, then all the QPV, the town outside the QPV and the whole
    town (:data:`INDEX_ROWS`, those the table has), labelled by
    :func:`cdv_geo.core.rows.row_label` with `town`. Values carry their unit (``44 %``,
    ``4 835 m²``); a missing value shows ``n.d.`` with the plain words of its reason in a
    tooltip. Every text is HTML-escaped.

    Examples
    --------
    >>> import pandas as pd
    >>> kf = pd.DataFrame({"name": ["<b>Presles</b>", "x", "y"], "n_trees": [12.0, 30.0, None],
    ...                    "reason": [None, None, "n_trees: no tree plantings"]},
    ...                   index=pd.Index(["QP002013", "qpv", "commune"], name="quartier"))
    >>> html_ = key_figures_html(kf, town="Soissons")
    >>> "&lt;b&gt;Presles&lt;/b&gt;" in html_, "<th>Soissons (commune)</th>" in html_
    (True, True)
    >>> 'title="Plantations d&#x27;arbres absentes' in html_
    True
    """
    check_lang(lang)
    e = escape_text
    kf = panel_rows(kf, rows=INDEX_ROWS)
    reasons = kf["reason"] if "reason" in kf.columns else pd.Series(None, index=kf.index)
    rows = []
    for col in kf.columns:
        if col in ("name", "reason"):
            continue
        cells = []
        for v, why in zip(kf[col], reasons, strict=True):
            text = e(_kf_value(col, v, lang))
            if is_missing(v):
                cells.append(f'<td title="{e(cell_reason(why, col, lang))}">{text}</td>')
            else:
                cells.append(f"<td>{text}</td>")
        title = _kf_label(col, {str(k): v for k, v in kf.attrs.items()}, lang)
        rows.append(f"<tr><th>{e(title)}</th>{''.join(cells)}</tr>")
    names = row_names(kf, lang, town=town)
    head = "<tr><th></th>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"
    return f'<div class="scroll"><table class="table">{head}{"".join(rows)}</table></div>'


def population_sources_html(kf: pd.DataFrame, *, lang: str = "fr") -> str:
    """Return the line that says where the populations come from ("" when the table says not).

    Examples
    --------
    >>> import pandas as pd
    >>> kf = pd.DataFrame({"population_source": ["official", "grid", "official", None]})
    >>> population_sources_html(kf, lang="en") == (
    ...     '<p class="popsource">Population source: '
    ...     f'{label("population_source_official", "en")}, '
    ...     f'{label("population_source_grid", "en")}</p>')
    True
    """
    if "population_source" not in kf.columns:
        return ""
    sources = [s for s in dict.fromkeys(kf["population_source"]) if not is_missing(s)]
    if not sources:
        return ""
    words = ", ".join(value_label("population_source", s, lang) for s in sources)
    text = kv(column_label("population_source", lang=lang), words, lang)
    return f'<p class="popsource">{escape_text(text)}</p>'


def quartier_cards_html(
    territory: Territory,
    metrics: Metrics,
    *,
    map_files: Mapping[str, Path] | None = None,
    out: Path | None = None,
    lang: str = "fr",
    service: str | None = None,
) -> str:
    """Return one card per quartier: name, code, population, key figures with units, its map.

    The figures are those of the maps' panels (:func:`cdv_geo.views.panels.figure_rows`, read
    from ``metrics.key_figures`` with the walking coverage of `service`), the first six of
    :data:`CARD_FIGURES` that have a value. Every text is HTML-escaped.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> t = cg.datasets.soissons()
    >>> html_ = quartier_cards_html(t, cg.compute_metrics(t, only=["key_figures"]))
    >>> html_.count('class="card"'), "Presles" in html_
    (3, True)
    """
    check_lang(lang)
    kf = metrics.key_figures
    if kf is None:
        return ""
    e = escape_text
    kind = primary_service(territory, service)
    shown = with_coverage(kf, metrics.coverage, [kind])
    rows = quartier_rows(shown)
    by_col = {col: (fmt, lab) for col, fmt, lab in figure_rows(rows, lang)}
    ordered = []
    for col in CARD_FIGURES:
        if col == "coverage_share":
            ordered += [c for c in by_col if c.startswith("coverage_share:")]
        ordered.append(col)
    chosen = [c for c in ordered if c in by_col][:6]
    slugs = quartier_slugs(territory.quartiers) if territory.quartiers is not None else {}
    cards = []
    for code in rows.index.astype(str):
        name = rows.at[code, "name"] if "name" in rows.columns else code
        name = code if is_missing(name) else str(name)
        pop = rows.at[code, "n_residents"] if "n_residents" in rows.columns else None
        items = [(label("kf_population", lang), fmt_number(pop, lang))]
        items += [(by_col[c][1], by_col[c][0](rows.at[code, c])) for c in chosen]
        dl = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in items)
        link = ""
        path = (map_files or {}).get(f"quartier_{slugs.get(code, '')}")
        if path is not None:
            rel = os.path.relpath(path, out) if out is not None else path.name
            link = f'<a href="{e(rel)}">{e(label("report_open_map", lang))}</a>'
        cards.append(
            f'<article class="card"><h3>{e(name)}</h3><p class="code">{e(code)}</p>'
            f"<dl>{dl}</dl>{link}</article>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _map_links(
    territory: Territory, map_files: Mapping[str, Path], out: Path, lang: str
) -> list[str]:
    """Return the list items of the maps; the accessibility maps share one item, by kind."""
    e = escape_text
    items, access = [], []
    for name, path in map_files.items():
        rel = e(os.path.relpath(path, out))
        if name.startswith("accessibility_"):
            kind = kind_label(name.removeprefix("accessibility_"), lang)
            access.append(f'<a href="{rel}">{e(kind)}</a>')
            if len(access) == 1:
                items.append("")  # the place of the accessibility item
            continue
        items.append(f'<li><a href="{rel}">{e(map_title(name, territory, lang))}</a></li>')
    if access:
        at = items.index("")
        head = e(label("report_access", lang, territory=territory_name(territory)))
        items[at] = (
            f"<li>{head} : {' · '.join(access)}</li>"
            if lang == "fr"
            else (f"<li>{head}: {' · '.join(access)}</li>")
        )
    return items


def _first_service(map_files: Mapping[str, Path]) -> str | None:
    """Return the kind of the first accessibility map written (the pack's main service)."""
    for name in map_files:
        if name.startswith("accessibility_"):
            return name.removeprefix("accessibility_")
    return None


def write_index(
    territory: Territory,
    metrics: Metrics,
    out: Path,
    tables: Sequence[Path],
    figures: Sequence[Path],
    map_files: Mapping[str, Path],
    *,
    lang: str = "fr",
) -> Path:
    """Write ``out/index.html``: maps, key figures, figures, tables, files and notes.

    Returns
    -------
    pathlib.Path
        The index written.
    """
    e = escape_text
    town = territory_name(territory)
    title = label("report_title", lang, territory=town)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"{_STYLE}</head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    if territory.illustrative:
        parts.append(
            f'<p class="note"><strong>{e(label("fig_illustrative", lang))}</strong> — '
            f"{e(label('report_illustrative', lang))}</p>"
        )
    if territory.attribution:
        parts.append(f"<p>{e(territory.attribution)}</p>")
    pdf = out / "dossier.pdf"
    if pdf.exists():
        size = label("report_pdf_size", lang, size=fmt_number(pdf.stat().st_size / 1e6, lang, 1))
        parts.append(
            f'<p class="dossier"><a href="dossier.pdf">{e(label("report_dossier", lang))}</a>'
            f" ({e(size)})</p>"
        )
    if metrics.key_figures is not None:
        service = primary_service(territory, _first_service(map_files))
        shown = with_coverage(metrics.key_figures, metrics.coverage, [service])
        parts.append(f"<h2>{e(label('report_key_figures', lang))}</h2>")
        parts.append(
            quartier_cards_html(
                territory, metrics, map_files=map_files, out=out, lang=lang, service=service
            )
        )
        parts.append(population_sources_html(metrics.key_figures, lang=lang))
        parts.append(
            f'<details class="table"><summary>{e(label("report_kf_table", lang))}</summary>'
            f"{key_figures_html(shown, lang=lang, town=town)}</details>"
        )
    if map_files:
        parts.append(f"<h2>{e(label('report_maps', lang))}</h2><ul>")
        parts.extend(_map_links(territory, map_files, out, lang))
        parts.append("</ul>")
    if figures:
        parts.append(f"<h2>{e(label('report_figures', lang))}</h2>")
        parts.append('<div class="figs">')
        for fig in figures:
            rel = e(os.path.relpath(fig, out))
            parts.append(f'<a href="{rel}"><img src="{rel}" alt="{e(fig.stem)}"></a>')
        parts.append("</div>")
    parts.append(f"<h2>{e(label('report_tables', lang))}</h2>")
    for name, table in sorted(metrics.tables.items()):
        if name == "key_figures":
            continue
        # the catalogue's description is in English only: a French page leaves it out
        what = TABLES.get(name, (name, name, ""))[2] if lang == "en" else ""
        about = f"<p>{e(what)}</p>" if what else ""
        parts.append(
            f'<details class="table"><summary>{e(table_title(name, lang=lang))}</summary>'
            f"{about}{_table_html(table, lang, town)}</details>"
        )
    if tables:
        parts.append(f"<h2>{e(label('report_files', lang))}</h2><ul>")
        for p in tables:
            parts.append(f'<li><a href="{e(os.path.relpath(p, out))}">{e(p.name)}</a></li>')
        parts.append("</ul>")
    if metrics.notes:
        parts.append(f"<h2>{e(label('report_notes', lang))}</h2><ul>")
        texts = list(dict.fromkeys(note_text(n, lang) for n in metrics.notes))
        parts.extend(f"<li>{e(t)}</li>" for t in texts)
        parts.append("</ul>")
    parts.append("</body></html>")
    path = out / "index.html"
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(parts), encoding="utf-8")
    return path
