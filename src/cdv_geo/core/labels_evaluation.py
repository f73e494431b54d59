"""Labels of the evaluation over time ("Évolution comparée"): (French, English).

:data:`EVALUATION_LABELS` is merged into :data:`cdv_geo.core.labels.LABELS`: the verdicts
(``verdict_<key>``, keys of :data:`cdv_geo.metrics.panel.VERDICTS`), the methods
(``eval_method_<key>``) and the words of the page and chart (``eval_*``).
:data:`EVALUATION_COLUMN_LABELS` names the columns of the ``evaluation`` table and
:data:`EVALUATION_VALUE_LABELS` its enumerated cells (verdict, method, interval), merged into
:data:`cdv_geo.core.labels.VALUE_LABELS`.

Examples
--------
>>> EVALUATION_LABELS["verdict_no_detectable_difference"][0]
'pas de différence décelable'
"""

from __future__ import annotations

__all__ = ["EVALUATION_COLUMN_LABELS", "EVALUATION_LABELS", "EVALUATION_VALUE_LABELS"]

#: Verdicts, methods and the words of the page and chart.
EVALUATION_LABELS: dict[str, tuple[str, str]] = {
    "verdict_better": ("mieux que sa situation contrefactuelle", "better than its counterfactual"),
    "verdict_worse": (
        "moins bien que sa situation contrefactuelle",
        "worse than its counterfactual",
    ),
    "verdict_higher": (
        "plus haut que sa situation contrefactuelle",
        "higher than its counterfactual",
    ),
    "verdict_lower": ("plus bas que sa situation contrefactuelle", "lower than its counterfactual"),
    "verdict_no_detectable_difference": (
        "pas de différence décelable",
        "no detectable difference",
    ),
    "verdict_cannot_conclude": ("impossible de conclure", "cannot conclude"),
    "eval_method_did": ("Différence de différences", "Difference-in-differences"),
    "eval_method_synthetic_control": ("Contrôle synthétique", "Synthetic control"),
    "eval_title": ("Évolution comparée", "Compared change"),
    "eval_intro": (
        "Le quartier est comparé à des quartiers prioritaires de France qui lui ressemblaient "
        "avant l'intervention ({year}) : a-t-il évolué mieux ou moins bien qu'eux ?",
        "The quartier is compared with priority neighbourhoods of France that resembled it "
        "before the intervention ({year}): did it change better or worse than they did?",
    ),
    "eval_illustrative": (
        "Année d'intervention illustrative (démonstration), pas la date d'un programme réel.",
        "Illustrative intervention year (demo), not the date of a real programme.",
    ),
    "eval_no_year": (
        "Aucune année d'intervention n'est donnée pour ce quartier.",
        "No intervention year is given for this quartier.",
    ),
    "eval_quartier": ("Quartier", "Quartier"),
    "eval_twin": ("Jumeau synthétique", "Synthetic twin"),
    "eval_band": (
        "Écarts des quartiers placebos (min–max)",
        "Gaps of the placebo quartiers (min–max)",
    ),
    "eval_intervention": ("Intervention", "Intervention"),
    "eval_estimate": ("Effet estimé", "Estimated effect"),
    "eval_interval": ("Intervalle à 90 %", "90 % interval"),
    "eval_p_value": ("Probabilité (placebos)", "Probability (placebos)"),
    "eval_verdict": ("Conclusion", "Conclusion"),
    "eval_source": (
        "Source : Insee, fichiers REVN des quartiers prioritaires, {years}",
        "Source: Insee, REVN files of the priority neighbourhoods, {years}",
    ),
}

#: Headers of the columns of the ``evaluation`` table: (French, English).
EVALUATION_COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "quartier": ("Quartier (code)", "Quartier (code)"),
    "series": ("Série (source:colonne)", "Series (source:column)"),
    "unit": ("Unité", "Unit"),
    "intervention_year": ("Année d'intervention", "Intervention year"),
    "n_pre": ("Années avant (nombre)", "Years before (count)"),
    "n_post": ("Années après (nombre)", "Years after (count)"),
    "n_comparisons": ("Quartiers de comparaison (nombre)", "Comparison quartiers (count)"),
    "n_donors": ("Quartiers donneurs (nombre)", "Donor quartiers (count)"),
    "estimate": ("Effet estimé (unité de l'indicateur)", "Estimated effect (indicator's unit)"),
    "estimate_pp": ("Effet estimé (points)", "Estimated effect (points)"),
    "ci_low": ("Intervalle : borne basse", "Interval: low"),
    "ci_high": ("Intervalle : borne haute", "Interval: high"),
    "interval": ("Type d'intervalle", "Interval type"),
    "p_value": ("Probabilité (0–1)", "p-value (0–1)"),
    "pre_trend": ("Écart de tendance avant (par an)", "Pre-period trend gap (per year)"),
    "pre_trend_p": ("Test de tendance avant : probabilité (0–1)", "Pre-trend test p-value (0–1)"),
    "pre_rmspe": ("Écart quadratique avant", "Pre-period RMSPE"),
    "post_rmspe": ("Écart quadratique après", "Post-period RMSPE"),
    "rmspe_ratio": ("Rapport après / avant", "Post / pre ratio"),
    "pre_fit": ("Qualité de l'ajustement avant (0 = parfait)", "Pre-period fit (0 = perfect)"),
    "verdict": ("Conclusion", "Verdict"),
}

#: Labels of the enumerated cells of the ``evaluation`` table: column -> value -> (fr, en).
EVALUATION_VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "verdict": {
        k.removeprefix("verdict_"): v
        for k, v in EVALUATION_LABELS.items()
        if k.startswith("verdict_")
    },
    "method": {
        k.removeprefix("eval_method_"): v
        for k, v in EVALUATION_LABELS.items()
        if k.startswith("eval_method_")
    },
    "interval": {
        "placebo": ("placebos (quartiers de comparaison)", "placebos (comparison quartiers)"),
        "bootstrap": ("rééchantillonnage", "bootstrap"),
    },
}
