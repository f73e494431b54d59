"""Metric tables -> CSV / XLSX / GeoPackage, static figures and the committee bundle.

:func:`write_tables` writes the tables of :class:`~cdv_geo.pipeline.Metrics` with French (or
English) column labels and units, deterministically (same input, byte-identical CSV).
:func:`build_report` writes the whole committee pack: tables, derived layers, maps, static figures
and an ``index.html`` that links them.
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.io import atomic_path, write_layer
from cdv_geo.pipeline import TABLES, Metrics, Progress, compute_metrics
from cdv_geo.schema import SCHEMAS
from cdv_geo.territory import Territory

__all__ = [
    "build_report",
    "column_label",
    "static_figures",
    "write_tables",
]

log = logging.getLogger("cdv_geo")


# --- labels ---------------------------------------------------------------------------------------

_COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "id": ("Identifiant", "Id"),
    "code": ("Code", "Code"),
    "name": ("Nom", "Name"),
    "kind": ("Type de service", "Service type"),
    "year": ("Année", "Year"),
    "population": ("Population (hab.)", "Population (residents)"),
    "area_ha": ("Surface (ha)", "Area (ha)"),
    "area_m2": ("Surface (m²)", "Area (m²)"),
    "facilities": ("Équipements dans le quartier (nombre)", "Facilities in the quartier (count)"),
    "received": (
        "Logements reconstruits pour un autre quartier",
        "Dwellings rebuilt for another quartier",
    ),
    "rehabilitated": ("Logements réhabilités", "Dwellings rehabilitated"),
    "trees": ("Arbres plantés (nombre)", "Trees planted (count)"),
    "threshold_m": ("Seuil (m)", "Threshold (m)"),
    "threshold_min": ("Seuil (min à pied)", "Threshold (min walk)"),
    "covered_weight": ("Population couverte", "Covered population"),
    "total_weight": ("Population totale", "Total population"),
    "share": ("Part couverte (0–1)", "Covered share (0–1)"),
    "n_origins": ("Résidences (nombre)", "Residences (count)"),
    "n_covered": ("Résidences couvertes (nombre)", "Covered residences (count)"),
    "n_unreachable": ("Résidences injoignables (nombre)", "Unreachable residences (count)"),
    "weight": ("Pondération", "Weight"),
    "method": ("Méthode", "Method"),
    "snap_distance_m": ("Distance à la rue (m)", "Distance to the street (m)"),
    "reason": ("Motif", "Reason"),
    "desealed_m2": ("Surface désimperméabilisée (m²)", "De-sealed area (m²)"),
    "trees_planted": ("Arbres plantés (nombre)", "Trees planted (count)"),
    "demolished": ("Logements démolis", "Dwellings demolished"),
    "rebuilt": ("Logements reconstruits", "Dwellings rebuilt"),
    "median_income": ("Revenu médian disponible par UC (€)", "Median disposable income (€/CU)"),
    "indicator": ("Indicateur", "Indicator"),
    "value": ("Valeur", "Value"),
    "flag": ("Note", "Flag"),
    "level": ("Niveau", "Level"),
    "residents": ("Habitants", "Residents"),
}
_UNIT_SUFFIXES = (
    ("_distance_m", "distance à pied (m)", "walking distance (m)"),
    ("_time_min", "temps à pied (min)", "walking time (min)"),
    ("_facility_id", "équipement le plus proche", "nearest facility"),
    ("_share", "part (0–1)", "share (0–1)"),
    ("_ratio", "ratio", "ratio"),
    ("_m2", "(m²)", "(m²)"),
    ("_ha", "(ha)", "(ha)"),
    ("_pp", "(points de %)", "(percentage points)"),
)


def column_label(column: str, *, lang: str = "fr") -> str:
    """Return the table label of a column, with its unit.

    Known columns have a hand-written label; ``<kind>_distance_m``-like columns are named after
    the facility kind; other columns keep their name with the unit spelled out.

    Examples
    --------
    >>> column_label("water_play_area_time_min")
    "Aire de jeux d'eau : temps à pied (min)"
    >>> column_label("share", lang="en")
    'Covered share (0–1)'
    >>> column_label("health_centre_share_5min")
    'Maison de santé à 5 min à pied : part des habitants (0–1)'
    """
    i = 0 if lang == "fr" else 1
    if column in _COLUMN_LABELS:
        return _COLUMN_LABELS[column][i]
    kinds = SCHEMAS["facilities"].field("kind").enum or ()
    share = re.fullmatch(r"(\w+)_share_(\d+(?:\.\d+)?)min", column)
    if share and share.group(1) in kinds:
        minutes = share.group(2)
        kind = _kind_label(share.group(1), lang)
        if i == 0:
            return f"{kind} à {minutes} min à pied : part des habitants (0–1)"
        return f"{kind} within {minutes} min walk: share of residents (0–1)"
    for suffix, fr, en in _UNIT_SUFFIXES:
        if column.endswith(suffix):
            stem = column[: -len(suffix)]
            if stem in kinds:
                return f"{_kind_label(stem, lang)} : {fr if i == 0 else en}"
            if suffix.startswith("_") and suffix[1:] in ("m2", "ha", "pp"):
                return f"{stem} {fr if i == 0 else en}"
            return f"{stem} — {fr if i == 0 else en}"
    return column


def _kind_label(kind: str, lang: str) -> str:
    from cdv_geo.maps._style import value_label

    return value_label("kind", kind, lang)


# --- writing --------------------------------------------------------------------------------------


def _deterministic(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)
    return out


def _labelled(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    out = _deterministic(df)
    out.columns = [column_label(str(c), lang=lang) for c in out.columns]
    if out.index.name is not None or not isinstance(out.index, pd.RangeIndex):
        out.index.name = column_label(str(out.index.name or "id"), lang=lang)
    return out


def write_tables(
    metrics: Metrics,
    out_dir: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("csv",),
    lang: str = "fr",
) -> list[Path]:
    r"""Write every metric table: one CSV per table, one XLSX sheet per table, a GeoPackage.

    CSV files are UTF-8 with ``\\n`` line ends and floats rounded to 6 decimals, so the same
    input gives byte-identical files. The GeoPackage ``derived_layers.gpkg`` holds the derived
    layers (service areas, residences with walking times, quartiers with their key figures) and
    opens in QGIS. Every file is written atomically.

    Parameters
    ----------
    metrics : Metrics
        From :func:`compute_metrics`.
    out_dir : path-like
        Output folder (created).
    formats : sequence of {"csv", "xlsx", "gpkg"}
        What to write.
    lang : {"fr", "en"}
        Language of the column labels.

    Returns
    -------
    list of pathlib.Path
    """
    unknown = set(formats) - {"csv", "xlsx", "gpkg"}
    if unknown:
        raise CdvGeoError(f"unknown table format(s) {sorted(unknown)}; use csv, xlsx or gpkg")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    names = sorted(metrics.tables)
    if "csv" in formats:
        for name in names:
            path = out / f"{name}.csv"
            with atomic_path(path) as tmp:
                table = metrics.tables[name]
                _labelled(table, lang).to_csv(
                    tmp,
                    lineterminator="\n",
                    encoding="utf-8",
                    index=not isinstance(table.index, pd.RangeIndex),
                )
            written.append(path)
    if "xlsx" in formats and names:
        path = out / "tables.xlsx"
        with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            for name in names:
                title = TABLES.get(name, (name, name, ""))[0 if lang == "fr" else 1]
                sheet = re.sub(r"[\[\]:*?/\\]", " ", title)[:31]
                _labelled(metrics.tables[name], lang).to_excel(xl, sheet_name=sheet)
        written.append(path)
    if "gpkg" in formats and metrics.layers:
        path = out / "derived_layers.gpkg"
        with atomic_path(path) as tmp:
            for name in sorted(metrics.layers):
                write_layer(_deterministic(metrics.layers[name]), tmp, layer=name)
        written.append(path)
    return written


# --- static figures -------------------------------------------------------------------------------


def static_figures(
    territory: Territory, metrics: Metrics, out_dir: str | os.PathLike[str], *, lang: str = "fr"
) -> list[Path]:
    """Write PNG figures of each map theme and of the indicator comparison (for PDF/Word).

    Returns
    -------
    list of pathlib.Path
        The figures written (themes whose layers are missing are skipped).
    """
    import matplotlib

    from cdv_geo.maps._style import OPERATION_COLOURS, value_label

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fr = lang == "fr"
    written: list[Path] = []
    note = (
        ("Données illustratives" if fr else "Illustrative data") if territory.illustrative else ""
    )

    def base(title: str) -> tuple[Any, Any]:
        fig, ax = plt.subplots(figsize=(8, 7), dpi=120)
        if territory.communes is not None:
            territory.metric("communes").boundary.plot(ax=ax, color="#999", linewidth=0.8)
        if territory.streets is not None:
            territory.metric("streets").plot(ax=ax, color="#ccc", linewidth=0.5)
        if territory.quartiers is not None:
            q = territory.metric("quartiers")
            q.boundary.plot(ax=ax, color="#5b2a86", linewidth=1.5)
            for _, row in q.iterrows():
                p = row.geometry.representative_point()
                ax.annotate(
                    str(row["name"]),
                    (p.x, p.y),
                    ha="center",
                    fontsize=9,
                    color="#5b2a86",
                    weight="bold",
                )
        if territory.quartiers is not None:  # frame the quartiers, not the whole commune
            x0, y0, x1, y1 = territory.metric("quartiers").total_bounds
            pad = 0.08 * max(x1 - x0, y1 - y0) + 200
            ax.set_xlim(x0 - pad, x1 + pad)
            ax.set_ylim(y0 - pad, y1 + pad)
        ax.set_title(title)
        ax.set_axis_off()
        return fig, ax

    def save(fig: Any, ax: Any, name: str) -> None:
        if note:
            fig.text(0.01, 0.01, f"{territory.name} — {note}", fontsize=8, color="#555")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
        path = out / f"{name}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", bbox_inches="tight")
        plt.close(fig)
        written.append(path)

    if territory.quartiers is not None:
        fig, ax = base("Équipements et services" if fr else "Facilities and services")
        if territory.facilities is not None:
            fac = territory.metric("facilities")
            cmap = plt.get_cmap("tab20")
            for i, (kind, grp) in enumerate(sorted(fac.groupby("kind"), key=lambda x: x[0])):
                grp.plot(
                    ax=ax, color=cmap(i % 20), markersize=18, label=_kind_label(str(kind), lang)
                )
        save(fig, ax, "overview")

    areas = metrics.layers.get("service_areas")
    if areas is not None and len(areas):
        fig, ax = base(
            "Accès à pied aux aires de jeux d'eau" if fr else "Walking access to water play areas"
        )
        sel = areas[areas["kind"] == "water_play_area"].sort_values("threshold_m", ascending=False)
        for (_, row), colour in zip(sel.iterrows(), ("#9ecae1", "#3182bd"), strict=False):
            gpd.GeoSeries([row.geometry], crs=areas.crs).plot(
                ax=ax,
                color=colour,
                alpha=0.6,
                label=f"{row['threshold_m']:g} m " + ("à pied" if fr else "walk"),
            )
        if territory.facilities is not None:
            fac = territory.metric("facilities")
            wpa = fac[fac["kind"] == "water_play_area"]
            if len(wpa):
                wpa.plot(
                    ax=ax,
                    color="#08519c",
                    markersize=40,
                    marker="*",
                    label=_kind_label("water_play_area", lang),
                )
        save(fig, ax, "accessibility")

    if any(getattr(territory, k) is not None for k in ("desealed_areas", "tree_plantings")):
        fig, ax = base("Renaturation")
        if territory.green_spaces is not None:
            territory.metric("green_spaces").plot(
                ax=ax, color="#a1d99b", label="Espaces verts" if fr else "Green spaces"
            )
        if territory.desealed_areas is not None:
            territory.metric("desealed_areas").plot(
                ax=ax,
                color="#e6550d",
                label="Surfaces désimperméabilisées" if fr else "De-sealed areas",
            )
        if territory.tree_plantings is not None:
            territory.metric("tree_plantings").plot(
                ax=ax,
                color="#006d2c",
                markersize=6,
                label="Arbres plantés" if fr else "Trees planted",
            )
        save(fig, ax, "renaturation")

    if territory.renewal_sites is not None:
        fig, ax = base("Renouvellement urbain (NPNRU)" if fr else "Urban renewal (NPNRU)")
        sites = territory.metric("renewal_sites")
        colours = OPERATION_COLOURS
        for op, grp in sites.groupby("operation"):
            grp.plot(
                ax=ax,
                color=colours.get(str(op), "#777"),
                alpha=0.8,
                label=value_label("operation", str(op), lang),
            )
        save(fig, ax, "renewal")

    ind = metrics.tables.get("indicators")
    if ind is not None and len(ind):
        latest = ind[ind["value"].notna()]
        if len(latest):
            year = latest["year"].max()
            latest = latest[latest["year"] == year]
            wanted = [
                i
                for i in (
                    "median_income",
                    "poverty_rate",
                    "rsa_share",
                    "unemployment_rate",
                    "gini",
                    "no_diploma_share",
                )
                if i in set(latest["indicator"])
            ]
            if wanted:
                from cdv_geo.metrics.indicators import INDICATORS

                ncol = min(3, len(wanted))
                nrow = -(-len(wanted) // ncol)
                fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.4 * nrow), dpi=120)
                axes = np.atleast_1d(axes).ravel()
                for ax in axes[len(wanted) :]:
                    ax.set_axis_off()
                for ax, name in zip(axes, wanted, strict=False):
                    spec = INDICATORS[name]
                    sel = latest[latest["indicator"] == name]
                    labels = [str(x) for x in sel.get("name", sel["code"])]
                    values = sel["value"].to_numpy(dtype=float)
                    if spec.unit == "fraction":  # shares are fractions; show percentages
                        values = values * 100
                    bars = ["#5b2a86" if lv == "qpv" else "#9e9e9e" for lv in sel["level"]]
                    ax.barh(labels, values, color=bars)
                    unit = {"fraction": "%", "EUR": "€"}.get(spec.unit, "")
                    title = spec.label_fr if fr else spec.label_en
                    ax.set_title(f"{title}{f' ({unit})' if unit else ''}", fontsize=8)
                    ax.tick_params(labelsize=7)
                fig.suptitle(("Indicateurs " if fr else "Indicators ") + str(year))
                if note:
                    fig.text(0.01, 0.01, note, fontsize=8, color="#555")
                path = out / "indicators.png"
                fig.tight_layout()
                with atomic_path(path) as tmp:
                    fig.savefig(tmp, format="png", bbox_inches="tight")
                plt.close(fig)
                written.append(path)
    return written


# --- the committee bundle -------------------------------------------------------------------------


def _table_html(df: pd.DataFrame, lang: str) -> str:
    shown = _labelled(df, lang)
    more = ""
    if len(shown) > 50:
        rest = "lignes de plus dans le fichier" if lang == "fr" else "more rows in the file"
        more = f"<p>… {len(shown) - 50} {rest}</p>"
        shown = shown.head(50)
    body = shown.to_html(
        escape=True, na_rep="–", float_format=lambda v: f"{v:,.2f}", border=0, classes="table"
    )
    return f'<div class="scroll">{body}</div>{more}'


def _key_figures_html(kf: pd.DataFrame, lang: str) -> str:
    """Key figures as the committee reads them: one column per quartier, formatted values."""
    from cdv_geo.maps._style import fmt_area, fmt_number, fmt_percent

    e = html.escape
    names = [str(n) for n in kf["name"]]
    rows = []
    for col in kf.columns:
        if col in ("code", "name"):
            continue
        cells = []
        for v in kf[col]:
            if "_share" in col or col.startswith("impervious_"):
                cells.append(fmt_percent(v, lang, 1 if col.startswith("impervious_") else 0))
            elif col.endswith("_m2"):
                cells.append(fmt_area(v, lang))
            else:
                cells.append(fmt_number(v, lang))
        # values carry their unit here (44 %, 4 835 m²): drop it from the label
        label = column_label(col, lang=lang).replace(" (0–1)", "").replace(" (m²)", "")
        if col.startswith("impervious_"):
            year = col.split("_")[-1]
            label = (
                f"Surface imperméabilisée ({year})"
                if lang == "fr"
                else f"Impervious surface ({year})"
            )
        rows.append(
            f"<tr><th>{e(label)}</th>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>"
        )
    head = "<tr><th></th>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"
    return f'<div class="scroll"><table class="table">{head}{"".join(rows)}</table></div>'


def _map_title(name: str, territory: Territory, lang: str) -> str:
    """Human title of a committee map file name (``quartier_presles`` -> "Quartier Presles")."""
    from cdv_geo.maps._style import label

    if name.startswith("quartier_") and territory.quartiers is not None:
        from cdv_geo.maps.compose import _slug

        for q in territory.quartiers["name"]:
            if _slug(str(q)) == name.removeprefix("quartier_"):
                return label("title_quartier", lang, quartier=q, territory=territory.name)
    titles = {
        "overview": ("Vue d'ensemble", "Overview"),
        "accessibility": ("Accès à pied aux services", "Walking access to services"),
        "renaturation": (
            "Renaturation : désimperméabilisation et arbres",
            "Renaturation: de-sealing and trees",
        ),
        "renewal": ("Renouvellement urbain (NPNRU)", "Urban renewal (NPNRU)"),
        "indicators": ("Indicateurs socio-économiques", "Socio-economic indicators"),
    }
    pair = titles.get(name)
    return pair[0 if lang == "fr" else 1] if pair else name


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

    The pack holds the metric tables (:func:`write_tables`), the derived layers, the committee
    maps (``cdv_geo.maps``), static PNG figures (:func:`static_figures`) and an ``index.html``
    with the key figures per quartier, the tables and links to the maps. Every text taken from the
    data is HTML-escaped.

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
        Table formats.
    maps : bool, default True
        Write the interactive maps.
    progress : callable, optional
        Progress wrapper for long steps.

    Returns
    -------
    pathlib.Path
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
        from cdv_geo.maps import build_committee_maps

        map_files = dict(
            build_committee_maps(
                territory,
                out,
                metrics=metrics.as_dict(),
                lang=lang,
                assets=assets,  # type: ignore[arg-type]
                asset_dir=asset_dir,
                progress=progress,
            )
        )
    return _write_index(territory, metrics, out, tables, figures, map_files, lang)


def _write_index(
    territory: Territory,
    metrics: Metrics,
    out: Path,
    tables: list[Path],
    figures: list[Path],
    map_files: dict[str, Path],
    lang: str,
) -> Path:
    fr = lang == "fr"
    e = html.escape
    title = f"Contrat de ville — {territory.name}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;"
        "padding:0 1em;color:#222}table{border-collapse:collapse;font-size:13px}"
        "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}"
        "th:first-child,td:first-child{text-align:left}.note{color:#8a4b00}"
        "img{max-width:100%;border:1px solid #ddd}.scroll{overflow-x:auto}</style></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    if territory.illustrative:
        parts.append(
            '<p class="note"><strong>'
            + ("Données illustratives" if fr else "Illustrative data")
            + "</strong> — "
            + e("démonstration, pas des relevés réels" if fr else "a demo, not surveyed data")
            + "</p>"
        )
    if territory.attribution:
        parts.append(f"<p>{e(territory.attribution)}</p>")
    if map_files:
        parts.append(f"<h2>{'Cartes' if fr else 'Maps'}</h2><ul>")
        for name, path in map_files.items():
            rel = os.path.relpath(path, out)
            parts.append(f'<li><a href="{e(rel)}">{e(_map_title(name, territory, lang))}</a></li>')
        parts.append("</ul>")
    kf = metrics.tables.get("key_figures")
    if kf is not None:
        parts.append(f"<h2>{'Chiffres clés par quartier' if fr else 'Key figures'}</h2>")
        parts.append(_key_figures_html(kf, lang))
    if figures:
        parts.append("<h2>Figures</h2>")
        for fig in figures:
            rel = os.path.relpath(fig, out)
            parts.append(f'<p><img src="{e(rel)}" alt="{e(fig.stem)}"></p>')
    parts.append(f"<h2>{'Tableaux' if fr else 'Tables'}</h2>")
    for name in sorted(metrics.tables):
        if name == "key_figures":
            continue
        t_fr, t_en, what = TABLES.get(name, (name, name, ""))
        parts.append(f"<h3>{e(t_fr if fr else t_en)}</h3><p>{e(what)}</p>")
        parts.append(_table_html(metrics.tables[name], lang))
    files = [p for p in tables]
    if files:
        parts.append(f"<h2>{'Fichiers' if fr else 'Files'}</h2><ul>")
        for p in files:
            parts.append(f'<li><a href="{e(os.path.relpath(p, out))}">{e(p.name)}</a></li>')
        parts.append("</ul>")
    if metrics.notes:
        parts.append(f"<h2>{'Remarques' if fr else 'Notes'}</h2><ul>")
        parts.extend(f"<li>{e(n)}</li>" for n in metrics.notes)
        parts.append("</ul>")
    parts.append("</body></html>")
    path = out / "index.html"
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(parts), encoding="utf-8")
    return path
