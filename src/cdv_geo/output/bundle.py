"""The committee bundle: tables, derived layers, maps, figures and an ``index.html`` linking them.

:func:`build_report` computes the metrics once (:func:`~cdv_geo.pipeline.compute_metrics`) and
writes everything a steering committee (comité de pilotage) needs into one folder. Every text
taken from the data is HTML-escaped in the index.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.labels import (
    LABELS,
    check_lang,
    column_label,
    fmt_area,
    fmt_number,
    fmt_percent,
    kind_label,
    label,
)
from cdv_geo.io import atomic_path
from cdv_geo.maps import build_committee_maps, map_title
from cdv_geo.output.figures import static_figures
from cdv_geo.output.tables import labelled_table, table_title, write_tables
from cdv_geo.pipeline import TABLES, Metrics, Note, Progress, compute_metrics
from cdv_geo.territory import Territory

__all__ = [
    "build_report",
    "key_figures_html",
    "note_text",
    "write_index",
]

#: Rows shown per table in the index (the files hold them all).
MAX_ROWS = 50

#: The key-figure columns and the label key each is shown with.
_KF_LABELS = {
    "n_residents": "kf_population",
    "area_m2": "kf_area",
    "n_facilities": "kf_facilities",
    "coverage_share": "kf_coverage",
    "n_demolished": "kf_demolished",
    "n_rebuilt": "kf_rebuilt",
    "n_received": "kf_received",
    "n_rehabilitated": "kf_rehabilitated",
    "desealed_m2": "kf_desealed",
    "n_trees": "kf_trees",
    "impervious_share": "kf_impervious",
    "impervious_change_pp": "kf_impervious_change",
}

_STYLE = (
    "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;"
    "padding:0 1em;color:#222}table{border-collapse:collapse;font-size:13px}"
    "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}"
    "th:first-child,td:first-child{text-align:left}.note{color:#8a4b00}"
    "img{max-width:100%;border:1px solid #ddd}.scroll{overflow-x:auto}</style>"
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
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = compute_metrics(territory, progress=progress)
    tables = write_tables(metrics, out / "tables", formats=formats, lang=lang)
    figures = static_figures(territory, metrics, out / "figures", lang=lang)
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
                progress=progress,
            )
        )
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
    if note.key in LABELS:
        try:
            return label(note.key, lang, **note.args)
        except (KeyError, IndexError):  # a label whose arguments the note lacks
            pass
    return note.text


def _table_html(df: pd.DataFrame, lang: str) -> str:
    shown = labelled_table(df, lang=lang)
    more = ""
    if len(shown) > MAX_ROWS:
        more = f"<p>{html.escape(label('report_more_rows', lang, n=len(shown) - MAX_ROWS))}</p>"
        shown = shown.head(MAX_ROWS)
    body = shown.to_html(
        escape=True, na_rep="–", float_format=lambda v: f"{v:,.2f}", border=0, classes="table"
    )
    return f'<div class="scroll">{body}</div>{more}'


def _kf_label(column: str, attrs: Mapping[str, Any], lang: str) -> str:
    key = _KF_LABELS.get(column)
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
    if column.endswith("_share"):
        return fmt_percent(value, lang, 1 if column.startswith("impervious") else 0)
    if column.endswith("_m2"):
        return fmt_area(value, lang)
    if column.endswith("_pp"):
        return fmt_number(value, lang, 1)
    return fmt_number(value, lang)


def key_figures_html(kf: pd.DataFrame, *, lang: str = "fr") -> str:
    """Return the key figures as the committee reads them: one column per quartier, then all.

    Values carry their unit (``44 %``, ``4 835 m²``); a missing value shows ``n.d.``. Every
    text is HTML-escaped.

    Examples
    --------
    >>> import pandas as pd
    >>> kf = pd.DataFrame({"name": ["<b>Presles</b>", "ensemble"], "n_trees": [12.0, 30.0]},
    ...                   index=pd.Index(["QP002013", "all"], name="quartier"))
    >>> "&lt;b&gt;Presles&lt;/b&gt;" in key_figures_html(kf)
    True
    """
    check_lang(lang)
    e = html.escape
    rows = []
    for col in kf.columns:
        if col in ("name", "reason"):
            continue
        cells = "".join(f"<td>{e(_kf_value(col, v, lang))}</td>" for v in kf[col])
        title = _kf_label(col, {str(k): v for k, v in kf.attrs.items()}, lang)
        rows.append(f"<tr><th>{e(title)}</th>{cells}</tr>")
    names = [label("total", lang) if k == "all" else str(n) for k, n in kf["name"].items()]
    head = "<tr><th></th>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"
    return f'<div class="scroll"><table class="table">{head}{"".join(rows)}</table></div>'


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
    e = html.escape
    title = label("report_title", lang, territory=territory.name)
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
    if map_files:
        parts.append(f"<h2>{e(label('report_maps', lang))}</h2><ul>")
        for name, path in map_files.items():
            rel = os.path.relpath(path, out)
            parts.append(f'<li><a href="{e(rel)}">{e(map_title(name, territory, lang))}</a></li>')
        parts.append("</ul>")
    if metrics.key_figures is not None:
        parts.append(f"<h2>{e(label('report_key_figures', lang))}</h2>")
        parts.append(key_figures_html(metrics.key_figures, lang=lang))
    if figures:
        parts.append(f"<h2>{e(label('report_figures', lang))}</h2>")
        for fig in figures:
            rel = os.path.relpath(fig, out)
            parts.append(f'<p><img src="{e(rel)}" alt="{e(fig.stem)}"></p>')
    parts.append(f"<h2>{e(label('report_tables', lang))}</h2>")
    for name, table in sorted(metrics.tables.items()):
        if name == "key_figures":
            continue
        what = TABLES.get(name, (name, name, ""))[2]
        parts.append(f"<h3>{e(table_title(name, lang=lang))}</h3><p>{e(what)}</p>")
        parts.append(_table_html(table, lang))
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
