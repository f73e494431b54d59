"""The "Évolution comparée" charts and dossier page: each quartier against its counterfactual.

:func:`evaluation_chart` draws one indicator of one quartier (the quartier, its synthetic twin,
the band of the placebo quartiers' gaps around the twin, the intervention year), from the rows
of ``Metrics.evaluation.attrs["paths"]`` (:mod:`cdv_geo.pipeline.evaluation`); shares are drawn
in percent on an axis from 0, so that a one-point change does not look like a collapse.
:func:`evaluation_page` is the dossier page of one quartier: what is compared, the two methods'
results with their verdict in words, the charts, and one "missing data" box that says, in plain
words, why a method cannot conclude.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd

from cdv_geo.core.labels import column_label, fmt_number
from cdv_geo.core.reasons import reason_label
from cdv_geo.io.insee.registry import INDICATORS
from cdv_geo.output.cartography import figure_png
from cdv_geo.output.dossier_html import dl, esc, img, missing_box, table_html
from cdv_geo.output.dossier_pages import DossierContext, indicator_change

__all__ = ["evaluation_chart", "evaluation_page", "indicator_title", "result_cells"]

_QUARTIER, _TWIN, _BAND = "#c0392b", "#2c3e50", "#bdc3c7"


def indicator_title(indicator: str, lang: str = "fr") -> str:
    """Return the indicator's name in `lang` (its key when the catalogue does not know it).

    Examples
    --------
    >>> indicator_title("poverty_rate"), indicator_title("poverty_rate", "en")
    ('Taux de pauvreté (seuil à 60 %)', 'Poverty rate (60 % threshold)')
    """
    spec = INDICATORS.get(indicator)
    if spec is None:
        return indicator.replace("_", " ")
    return spec.label_fr if lang == "fr" else spec.label_en


def evaluation_chart(
    paths: pd.DataFrame,
    code: str,
    indicator: str,
    year: int,
    *,
    lang: str = "fr",
    width: float = 3.6,
    fontsize: float = 7,
    dpi: int = 150,
) -> bytes | None:
    r"""Return the PNG of one indicator of quartier `code`: quartier, twin, placebo band.

    Parameters
    ----------
    paths : pandas.DataFrame
        ``Metrics.evaluation.attrs["paths"]`` (quartier, indicator, year, treated, synthetic,
        band_low, band_high).
    code, indicator : str
        What is drawn.
    year : int
        The intervention year (a vertical line just before it).
    lang : {"fr", "en"}
    width, fontsize, dpi
        Size of the chart (inches), of its text, and its resolution.

    Returns
    -------
    bytes or None
        None when `paths` has no row of `code` and `indicator`.

    Examples
    --------
    >>> p = pd.DataFrame({"quartier": "QP1", "indicator": "poverty_rate",
    ...                   "year": [2017, 2019, 2021], "treated": [0.5, 0.52, 0.51],
    ...                   "synthetic": [0.5, 0.52, 0.53], "band_low": [0.49, 0.51, 0.48],
    ...                   "band_high": [0.51, 0.53, 0.58]})
    >>> evaluation_chart(p, "QP1", "poverty_rate", 2021)[:4]
    b'\x89PNG'
    >>> evaluation_chart(p, "QP2", "poverty_rate", 2021) is None
    True
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = paths[(paths["quartier"] == code) & (paths["indicator"] == indicator)]
    if rows.empty:
        return None
    rows = rows.sort_values("year")
    spec = INDICATORS.get(indicator)
    share = spec is not None and spec.unit == "fraction"
    k = 100.0 if share else 1.0  # shares in percent
    x = rows["year"].to_numpy(dtype=int)
    fig = Figure(figsize=(width, width * 0.62))
    ax = fig.subplots()
    low, high = rows["band_low"].to_numpy(float) * k, rows["band_high"].to_numpy(float) * k
    ax.fill_between(x, low, high, color=_BAND, alpha=0.6, linewidth=0, label=dl("eval_band", lang))
    ax.plot(x, rows["synthetic"] * k, "--", color=_TWIN, linewidth=1.4, label=dl("eval_twin", lang))
    ax.plot(x, rows["treated"] * k, "-o", color=_QUARTIER, linewidth=1.8, markersize=3,
            label=dl("eval_quartier", lang))  # fmt: skip
    ax.axvline(year - 0.5, color="#555", linewidth=0.8, linestyle=":")
    where = ("data", "axes fraction")
    ax.annotate(dl("eval_intervention", lang), (year - 0.5, 1.0), xycoords=where,
                fontsize=fontsize - 1, ha="left", va="top", color="#555")  # fmt: skip
    unit = {"fraction": "%", "EUR": "€"}.get(getattr(spec, "unit", ""), "")
    title = indicator_title(indicator, lang)
    title = textwrap.fill(f"{title}{f' ({unit})' if unit else ''}", 48)
    ax.set_title(title, fontsize=fontsize + 1, loc="left")
    if share:  # a share from 0 (issue 22): the height of a line is its level
        ax.set_ylim(0, max(100.0 if high.max() > 60 else 1.15 * float(max(high.max(), 1)), 1))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=fontsize)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return figure_png(fig, dpi=dpi)


def result_cells(row: Any, lang: str = "fr") -> list[str]:
    """Return the cells of one method's result: the estimate with its interval, the verdict.

    The interval is the difference-in-differences' 90 % interval; a synthetic control's
    placebo probability is printed only when the method gives one (never when it cannot
    conclude).

    Examples
    --------
    >>> r = {"method": "did", "indicator": "poverty_rate", "estimate": 0.0113,
    ...      "ci_low": -0.033, "ci_high": 0.0503, "p_value": 0.84,
    ...      "verdict": "no_detectable_difference"}
    >>> result_cells(r)
    ['+1,1 pt (de -3,3 pt à +5,0 pt)', 'pas de différence décelable']
    >>> result_cells({**r, "method": "synthetic_control", "ci_low": None, "p_value": None,
    ...               "verdict": "cannot_conclude"}, "en")
    ['+1.1 pt', 'cannot conclude']
    """
    spec = INDICATORS.get(str(row["indicator"]))
    if pd.isna(row.get("estimate")):
        est = "—"
    else:
        est = indicator_change(spec, row["estimate"], lang)
        if not pd.isna(row.get("ci_low")) and not pd.isna(row.get("ci_high")):
            lo = indicator_change(spec, row["ci_low"], lang)
            hi = indicator_change(spec, row["ci_high"], lang)
            est += f" (de {lo} à {hi})" if lang == "fr" else f" ({lo} to {hi})"
        elif not pd.isna(row.get("p_value")):
            est += f" (p = {fmt_number(row['p_value'], lang, 2)})"
    return [est, dl(f"verdict_{row['verdict']}", lang)]


def _legend(lang: str) -> str:
    """Return the charts' one legend in HTML (one inside each small chart hides its lines)."""
    items = [
        (f"color:{_QUARTIER};font-weight:bold", "——", "eval_quartier"),
        (f"color:{_TWIN}", "– –", "eval_twin"),
        (f"color:{_BAND}", "■", "eval_band"),
    ]
    spans = [f'<span style="{css}">{mark}</span> {esc(dl(key, lang))}' for css, mark, key in items]
    return f'<p class="small">{" &nbsp; ".join(spans)}</p>'


def _reasons(rows: pd.DataFrame, lang: str) -> list[str]:
    """Return one line per method and reason, naming the indicators it concerns."""
    out = []
    # (the other method's empty columns are no missing data: nothing to provide)
    why = rows[rows["reason"].apply(lambda r: isinstance(r, str) and r != "other_method")]
    for (method, reason), grp in why.groupby(["method", "reason"], sort=False):
        names = ", ".join(indicator_title(str(i), lang) for i in grp["indicator"])
        colon = " : " if lang == "fr" else ": "
        worded = reason_label(reason if isinstance(reason, str) else None, lang)
        out.append(f"{dl(f'eval_method_{method}', lang)} ({names}){colon}{worded}")
    return out


def evaluation_page(ctx: DossierContext, code: str, name: str, anchor: str) -> str:
    """Return the "Évolution comparée" page of quartier `code` ('' when there is no evaluation).

    One row per indicator with both methods' results (estimate with its 90 % interval or
    placebo probability, verdict in words), a chart per indicator with a synthetic twin, and
    one "missing data" box with the plain words of every reason a method cannot conclude.
    """
    evaluation = ctx.metrics.evaluation
    if evaluation is None:
        return ""
    table = evaluation.reset_index() if "quartier" in evaluation.index.names else evaluation
    if code not in set(table["quartier"]):
        return ""
    lang = ctx.lang
    rows = table[table["quartier"] == code]
    years = rows["intervention_year"].dropna()
    parts = [
        f'<section class="page evaluation" id="{esc(anchor)}">',
        f"<h1>{esc(dl('eval_title', lang))} — {esc(name)} "
        f'<span class="code">{esc(code)}</span></h1>',
    ]
    if years.empty:
        parts.append(missing_box([dl("eval_no_year", lang)], lang))
        return "".join(parts) + "</section>"
    year = int(years.iloc[0])
    parts.append(f"<p>{esc(dl('eval_intro', lang, year=year))}</p>")
    if evaluation.attrs.get("illustrative"):
        parts.append(f'<p class="small">{esc(dl("eval_illustrative", lang))}</p>')
    ctx.show("eval_did", "eval_synthetic_control")
    body = []
    for ind, grp in rows.groupby("indicator", sort=False):
        by = {str(r["method"]): r for r in grp.to_dict("records")}
        cells = [indicator_title(str(ind), lang)]
        for method in ("did", "synthetic_control"):
            cells += result_cells(by[method], lang) if method in by else ["—", "—"]
        body.append(cells)
    did, sc = dl("eval_method_did", lang), dl("eval_method_synthetic_control", lang)
    effect, verdict = dl("eval_estimate", lang), dl("eval_verdict", lang)
    header = [
        column_label("indicator", lang=lang),
        f"{did} : {effect.lower()}" if lang == "fr" else f"{did}: {effect.lower()}",
        verdict,
        f"{sc} : {effect.lower()}" if lang == "fr" else f"{sc}: {effect.lower()}",
        verdict,
    ]
    # no right-aligned (unbreakable) number column: every cell of this table may wrap
    parts.append(table_html(header, body, cls="data evaluation", numeric_from=len(header)))
    paths = evaluation.attrs.get("paths")
    charts = []
    if isinstance(paths, pd.DataFrame):
        for ind in dict.fromkeys(rows["indicator"]):
            png = evaluation_chart(paths, code, str(ind), year, lang=lang)
            if png is not None:
                chart = img(png, indicator_title(str(ind), lang), cls="chart")
                # two charts a row, never split across pages (the dossier's CSS has no grid)
                charts.append(
                    '<div style="display:inline-block;width:49%;vertical-align:top;'
                    f'break-inside:avoid">{chart}</div>'
                )
    if charts:
        parts.append(_legend(lang) + f'<div class="evalcharts">{"".join(charts)}</div>')
    vintages = evaluation.attrs.get("vintages") or []
    if vintages:
        span = f"{min(vintages)}–{max(vintages)}"
        parts.append(f'<p class="small">{esc(dl("eval_source", lang, years=span))}</p>')
    parts.append(missing_box(_reasons(rows, lang), lang))
    return "".join(parts) + "</section>"
