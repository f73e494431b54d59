"""Plain words for the reasons a metric gives when a value is missing.

Metrics say why a cell is NaN with short, stable English texts in a ``reason`` column (see
:mod:`cdv_geo.core.tables`): ``"no residences layer"``, ``"before: only nodata cells"``,
``"coverage_share: no walking coverage of school; population unknown"``. A committee reads
none of them as they are: :func:`reason_label` turns each into a sentence that says what is
missing and what to provide, in French (default) or English, and :func:`missing_advice` groups
the reasons of a page into distinct sentences for one "missing data" box.

A text no entry knows gives the generic "donnée non disponible" / "not available": the raw
text (a Python name, a file path, an exception) never reaches a reader.

The returned texts are plain (not HTML-escaped): whoever writes them into HTML escapes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cdv_geo.core.labels import check_lang
from cdv_geo.core.labels_kinds import kind_label

__all__ = [
    "REASONS",
    "UNKNOWN_REASON",
    "is_known_reason",
    "missing_advice",
    "reason_label",
    "reason_parts",
]

#: What a reader sees for a reason no entry knows: (French, English).
UNKNOWN_REASON: tuple[str, str] = ("donnée non disponible", "not available")

# Prefixes that say which part of a row a reason is about (impervious change: the rasters
# before/after; key figures: the column); they are read as a lead-in, not as the reason.
_SIDE_PREFIXES: dict[str, tuple[str, str]] = {
    "before": ("Carte d'avant", "Earlier map"),
    "after": ("Carte d'après", "Later map"),
}
_COLUMN_PREFIX = re.compile(r"(?P<col>[a-z][a-z0-9_]*): (?P<rest>.+)", re.DOTALL)

# A kind of facility as the metrics write it (a token of the facilities layer).
_KIND = r"(?P<kind>[A-Za-z0-9_\-]+)"
# A distance or share the metrics format with :g / {:.0%}: only digits are ever interpolated.
_NUM = r"(?P<m>\d+(?:\.\d+)?(?:e\+?\d+)?)"


@dataclass(frozen=True)
class Reason:
    """One catalogue entry: a pattern of the English reason and its two sentences.

    ``fr`` and ``en`` may name the pattern's groups ``{kind}`` (shown through the facility
    kind catalogue) and ``{m}`` / ``{pct}`` (numbers matched as digits only).
    """

    pattern: str
    fr: str
    en: str

    def match(self, text: str) -> re.Match[str] | None:
        """Return the match of the whole `text`, or None."""
        return re.fullmatch(self.pattern, text, flags=re.DOTALL)


_R = Reason
_POP_FR = (
    "fournir la population des quartiers (INSEE) ou un fichier des logements avec leur population"
)
_POP_EN = "provide the quartiers' population (INSEE) or a residences file with their population"
_COMMUNES_FR = "fournir la couche des communes (contour et population)"
_COMMUNES_EN = "provide the communes layer (outline and population)"

#: The catalogue, most specific patterns first (the first that matches the whole text wins).
REASONS: tuple[Reason, ...] = (
    # --- geometry and rasters (zonal statistics, focal means, imperviousness, canopy)
    _R("empty geometry", "Contour vide : vérifier la géométrie de ce secteur.",
       "Empty outline: check this area's geometry."),
    _R("outside the raster",
       "Secteur en dehors de la carte fournie : fournir une carte qui couvre tout le territoire.",
       "Area outside the map provided: provide a map that covers the whole territory."),
    _R(r"partly outside the raster \((?P<pct>\d+) ?%? of its area\)",
       "Une partie du secteur ({pct} % de sa surface) est en dehors de la carte fournie : "
       "fournir une carte qui couvre tout le territoire.",
       "Part of the area ({pct}% of it) is outside the map provided: provide a map that "
       "covers the whole territory."),
    _R("only nodata cells",
       "La carte fournie n'a aucune valeur sur ce secteur : fournir une carte complète.",
       "The map provided has no value over this area: provide a complete map."),
    _R("no imperviousness raster",
       "Carte de l'imperméabilisation absente : la fournir.",
       "Imperviousness map missing: provide it."),
    _R("fewer than two imperviousness rasters",
       "Une seule carte de l'imperméabilisation : en fournir deux années pour mesurer "
       "l'évolution.",
       "Only one imperviousness map: provide two years to measure the change."),
    # --- residents, homes, population
    _R(r"no (?:residence|resident|home) in this .+",
       "Aucun logement dans ce secteur : vérifier le fichier des logements.",
       "No home in this area: check the residences file."),
    _R(r"the homes of this .+ have a total .+ of 0",
       "Les logements de ce secteur ont un total nul : vérifier la population du fichier des "
       "logements.",
       "The homes of this area add up to zero: check the population of the residences file."),
    _R("no residences layer",
       "Fichier des logements absent : fournir les logements (résidences) avec leur population.",
       "Residences file missing: provide the homes (residences) with their population."),
    _R("the residences carry no population",
       "Les logements n'ont pas de population : ajouter la population au fichier des logements.",
       "The residences carry no population: add it to the residences file."),
    _R(r"no home of the residences inside, or some without a population",
       f"Population inconnue : {_POP_FR}.", f"Population unknown: {_POP_EN}."),
    _R(r"population of the commune(?: or of the quartiers)? unknown.*",
       f"Population de la commune inconnue : {_COMMUNES_FR}.",
       f"Population of the municipality unknown: {_COMMUNES_EN}."),
    _R(r"population(?: of a quartier)? unknown(?:: .*)?", f"Population inconnue : {_POP_FR}.",
       f"Population unknown: {_POP_EN}."),
    _R(r"the quartiers' population exceeds the commune's.*",
       "La population des quartiers dépasse celle de la commune : les sources se contredisent, "
       "vérifier les populations fournies.",
       "The quartiers' population exceeds the municipality's: the sources disagree, check the "
       "populations provided."),
    _R(r"no '(?:[^']*)' column in the residences",
       "Colonne manquante dans le fichier des logements (habitants ou enfants) : l'ajouter.",
       "A column is missing from the residences file (residents or children): add it."),
    _R(r"no (?:residents|children) in this .+",
       "Aucun habitant (ou enfant) recensé dans ce secteur.",
       "No resident (or child) counted in this area."),
    # --- the commune, the territory
    _R(r"(?:territory )?area unknown.*",
       f"Surface de la commune inconnue : {_COMMUNES_FR}.",
       f"Area of the municipality unknown: {_COMMUNES_EN}."),
    _R(r"the territory's area is not known from the quartiers layer",
       f"Surface de la commune inconnue : {_COMMUNES_FR}.",
       f"Area of the municipality unknown: {_COMMUNES_EN}."),
    _R(r"territory area and population unknown: see the quartier rows",
       "Surface et population de l'ensemble inconnues : voir les lignes des quartiers.",
       "Area and population of the whole unknown: see the quartier rows."),
    _R(r"the territory's outline was not given.*",
       f"Contour de la commune absent : {_COMMUNES_FR}.",
       f"Outline of the municipality missing: {_COMMUNES_EN}."),
    _R(r"no territory layer \(communes\).*",
       f"Commune non mesurée : {_COMMUNES_FR}.",
       f"Municipality not measured: {_COMMUNES_EN}."),
    _R(r"no communes?(?: layer)?(?:[:,(].*)?",
       f"Commune non mesurée : {_COMMUNES_FR}.",
       f"Municipality not measured: {_COMMUNES_EN}."),
    _R(r"the town \(commune\) is not known.*",
       "Commune inconnue : indiquer la commune du contrat de ville.",
       "Municipality unknown: give the municipality of the contract."),
    _R(r"town not known.*", "Commune inconnue : indiquer la commune de chaque quartier.",
       "Municipality unknown: give each quartier's municipality."),
    _R(r"the quartiers' count exceeds the town's.*",
       "Le total des quartiers dépasse celui de la commune : les chiffres ne portent pas sur le "
       "même périmètre ou la même année ; vérifier les tableaux INSEE fournis.",
       "The quartiers add up to more than the municipality: the figures are not for the same "
       "area or year; check the INSEE tables provided."),
    _R(r"the \w+ row is .+ itself",
       "Cette ligne est elle-même la référence : pas d'écart à calculer.",
       "This row is the reference itself: no gap to compute."),
    _R(r"the 'all' row is the town itself",
       "Cette ligne est la commune elle-même : pas d'écart à calculer.",
       "This row is the municipality itself: no gap to compute."),
    # --- the INSEE 200 m grid
    _R(r"no grid square touches it.*",
       "Aucun carreau INSEE ne touche ce secteur : vérifier que le carroyage couvre le bon "
       "département.",
       "No INSEE grid square touches this area: check that the grid covers the right "
       "département."),
    _R(r"a grid square it touches has a missing \(secret\) count",
       "Un carreau INSEE de ce secteur est couvert par le secret statistique : valeur non "
       "publiée.",
       "An INSEE grid square of this area is under statistical secrecy: value not published."),
    # --- INSEE indicators, comparable quartiers
    _R(r"not published.* for .+ in .+",
       "Valeur non publiée par l'INSEE (secret statistique ou absente) pour ce territoire.",
       "Value not published by INSEE (statistical secrecy or absent) for this territory."),
    _R(r"no value for .+ in .+", "Pas de valeur INSEE pour ce territoire et cette année.",
       "No INSEE value for this territory and year."),
    _R(r"(?:.+ has )?no better/worse direction",
       "Indicateur sans sens « mieux / moins bien » : pas de comparaison.",
       "Indicator with no better/worse direction: no comparison."),
    _R(r"indicator .+ not in the table",
       "Indicateur absent des tableaux INSEE fournis : fournir le tableau qui le contient.",
       "Indicator missing from the INSEE tables provided: provide the table that has it."),
    _R("no value", "Valeur absente des données fournies.", "No value in the data provided."),
    _R("first published year of the series",
       "Première année publiée : pas d'évolution à calculer.",
       "First published year: no change to compute."),
    _R("no change: a value is missing", "Évolution non calculée : une des deux valeurs manque.",
       "Change not computed: one of the two values is missing."),
    _R(r"no gap to .+ in one of the two years",
       "Écart non calculé : la valeur de comparaison manque pour l'une des deux années.",
       "Gap not computed: the comparison value is missing for one of the two years."),
    _R("one vintage only",
       "Une seule année de données : en fournir une deuxième pour mesurer l'évolution.",
       "One year of data only: provide a second one to measure the change."),
    _R(r"no town value for .+", "Pas de valeur de la commune pour les deux années comparées.",
       "No value of the municipality for the two years compared."),
    _R(r"no all-QPV \(Ensemble\) value for .+",
       "Pas de valeur nationale de l'ensemble des QPV pour les deux années comparées.",
       "No national all-QPV value for the two years compared."),
    _R(r"no value for .+ and .+", "Pas de valeur pour les deux années comparées.",
       "No value for the two years compared."),
    _R("no change known for the comparable quartiers",
       "Évolution inconnue pour les quartiers comparables.",
       "Change unknown for the comparable quartiers."),
    _R("quartier absent from the baseline vintage",
       "Quartier absent de l'année de référence : pas de quartiers comparables.",
       "Quartier absent from the reference year: no comparable quartiers."),
    _R("no baseline indicator known for this quartier",
       "Aucun indicateur connu pour ce quartier l'année de référence : pas de quartiers "
       "comparables.",
       "No indicator known for this quartier in the reference year: no comparable quartiers."),
    # --- walking distances and coverage
    _R("origin has no geometry", "Logement sans position : vérifier le fichier des logements.",
       "Home without a location: check the residences file."),
    _R(rf"origin farther than {_NUM} m from the street network",
       "Logement à plus de {m} m de toute rue : vérifier le réseau de rues fourni.",
       "Home more than {m} m from any street: check the street network provided."),
    _R(rf"no {_KIND} within {_NUM} m of the street network",
       "Aucun équipement « {kind} » à moins de {m} m d'une rue : vérifier leur position.",
       "No “{kind}” facility within {m} m of a street: check their location."),
    _R(rf"no {_KIND} on this detached part of the street network",
       "Aucun équipement « {kind} » sur cette partie isolée du réseau de rues.",
       "No “{kind}” facility on this detached part of the street network."),
    _R(rf"no walking coverage of {_KIND}",
       "Accès à pied à « {kind} » non calculé : fournir la couche de ces équipements.",
       "Walking access to “{kind}” not computed: provide the layer of these facilities."),
    _R("no facilities layer", "Couche des équipements absente : la fournir.",
       "Facilities layer missing: provide it."),
    # --- urban renewal, de-sealing, trees
    _R("no renewal balance",
       "Bilan du renouvellement urbain absent : fournir le tableau des opérations "
       "(démolitions, reconstructions, réhabilitations).",
       "Urban renewal balance missing: provide the table of operations (demolitions, "
       "rebuilds, rehabilitations)."),
    _R("nothing demolished", "Aucune démolition : pas de taux de reconstitution.",
       "Nothing demolished: no reconstitution ratio."),
    _R(r"no dwelling .+ here with a known .+",
       "Type ou statut des logements inconnu : compléter le tableau des opérations.",
       "Housing type or tenure unknown: complete the table of operations."),
    _R(r"stock before the programme unknown.*",
       "Nombre de logements avant le programme inconnu : le fournir par quartier, ou fournir "
       "le fichier des logements.",
       "Number of dwellings before the programme unknown: provide it per quartier, or the "
       "residences file."),
    _R("no dwelling in this row", "Aucun logement dans ce secteur.", "No dwelling in this area."),
    _R("no de-sealing table",
       "Désimperméabilisation non mesurée : fournir la liste des projets de "
       "désimperméabilisation.",
       "De-sealing not measured: provide the list of de-sealing projects."),
    _R("sealed share before unknown",
       "Part imperméabilisée avant travaux inconnue : fournir la carte de l'imperméabilisation "
       "d'avant.",
       "Sealed share before the works unknown: provide the earlier imperviousness map."),
    _R("sealed share estimated on the quartier's total row only",
       "Part imperméabilisée estimée sur l'ensemble du quartier seulement.",
       "Sealed share estimated on the whole quartier only."),
    _R(r"(?:quartier|row) without area", "Surface du secteur nulle : vérifier son contour.",
       "Area of zero: check its outline."),
    _R("no tree plantings", "Plantations d'arbres absentes : fournir la couche des plantations.",
       "Tree plantings missing: provide the plantings layer."),
    _R("no tree with a known species",
       "Aucun arbre d'espèce connue : compléter l'inventaire des arbres.",
       "No tree of a known species: complete the tree inventory."),
    _R(r"10-20-30 undecided.*",
       "Règle 10-20-30 non vérifiable : la famille de certains genres est inconnue.",
       "10-20-30 rule undecided: the family of some genera is unknown."),
    # --- catchments, the action ledger, the property-tax abatement (TFPB)
    _R(r"no home of this .+ is on the street network",
       "Aucun logement de ce secteur n'est relié au réseau de rues : vérifier le réseau de rues "
       "fourni.",
       "No home of this area is on the street network: check the street network provided."),
    _R(r"no action of this row gives its number of beneficiaries",
       "Aucune action de cette ligne n'indique son nombre de bénéficiaires : compléter le "
       "tableau des actions.",
       "No action of this row gives its number of beneficiaries: complete the table of "
       "actions."),
    _R(r"no abatement line for this .+",
       "Aucune ligne d'abattement de TFPB pour ce bailleur, ce quartier et cette année : "
       "compléter le tableau des abattements.",
       "No TFPB abatement line for this landlord, quartier and year: complete the table of "
       "abatements."),
    _R(r"the abatement is 0 €", "Abattement de TFPB nul (0 €).",
       "TFPB abatement of zero (0 €)."),
    # --- the evaluation over time (difference-in-differences, synthetic control)
    _R("treated_not_in_panel",
       "Quartier absent du panel national pour cet indicateur : fournir les fichiers INSEE "
       "nationaux qui le publient.",
       "Quartier not in the national panel for this indicator: provide the national INSEE "
       "files that publish it."),
    _R("no_pre_period",
       "Aucune année avant l'intervention : donner une année d'intervention plus tardive ou "
       "des millésimes plus anciens.",
       "No year before the intervention: give a later intervention year or older vintages."),
    _R("no_post_period",
       "Aucune année après l'intervention : attendre les prochains millésimes INSEE.",
       "No year after the intervention: wait for the next INSEE vintages."),
    _R("pre_period_too_short",
       "Impossible de conclure : trop peu d'années avant l'intervention pour juger la "
       "comparaison.",
       "Cannot conclude: too few years before the intervention to judge the comparison."),
    _R("poor_pre_fit",
       "Impossible de conclure : avant l'intervention, aucun mélange de quartiers comparables "
       "ne suit assez bien le quartier.",
       "Cannot conclude: before the intervention, no blend of comparable quartiers follows "
       "the quartier closely enough."),
    _R("pre_trend",
       "Impossible de conclure : avant l'intervention, le quartier évoluait déjà autrement que "
       "les quartiers comparables.",
       "Cannot conclude: before the intervention, the quartier was already changing unlike "
       "the comparable quartiers."),
    _R("too_few_donors",
       "Impossible de conclure : trop peu de quartiers comparables aux séries complètes.",
       "Cannot conclude: too few comparable quartiers with complete series."),
    _R("placebo_not_run",
       "Test par placebos non calculé : aucune probabilité n'est donnée.",
       "Placebo test not run: no probability is given."),
    _R("other_method",
       "Sans objet pour cette méthode : ces colonnes sont celles de l'autre méthode.",
       "Not applicable to this method: these columns are the other method's."),
    _R("no_intervention_year",
       "Aucune année d'intervention pour ce quartier : la donner dans la section "
       "« evaluation » du projet.",
       "No intervention year for this quartier: give it in the project's evaluation "
       "section."),
    # --- any facility kind absent (last: "no <token>" would take the texts above)
    _R(rf"no {_KIND}(?: within {_NUM} m)?",
       "Aucun équipement « {kind} » accessible : vérifier la couche des équipements.",
       "No “{kind}” facility reachable: check the facilities layer."),
)  # fmt: skip


def reason_parts(text: Any) -> list[str]:
    """Split a joined reason (``"a; b"``) into its distinct parts, empty text dropped.

    Examples
    --------
    >>> reason_parts("no value; nothing demolished; no value")
    ['no value', 'nothing demolished']
    >>> reason_parts("not published (empty; NOTE_FILO=1) for x in revn 2021; no value")
    ['not published (empty; NOTE_FILO=1) for x in revn 2021', 'no value']
    >>> reason_parts(None), reason_parts(float("nan"))
    ([], [])
    """
    if not isinstance(text, str):
        return []
    out: list[str] = []
    # a ";" inside parentheses (an INSEE flag: "empty; NOTE_FILO=1") does not split
    for part in re.split(r";(?![^()]*\))", text):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


def _words(part: str, lang: str) -> tuple[str, str | None]:
    """Return the sentence of one reason part and its lead-in (None when there is none)."""
    side, _, rest = part.partition(": ")
    if side in _SIDE_PREFIXES and rest:
        return _words(rest, lang)[0], _SIDE_PREFIXES[side][lang == "en"]
    found = _match(part)
    if found is None:
        col = _COLUMN_PREFIX.fullmatch(part)
        if col is not None and _match(col["rest"]) is not None:
            # the column is the table's own (key figures): the sentence already says what
            return _words(col["rest"], lang)[0], None
        return UNKNOWN_REASON[lang == "en"], None
    entry, m = found
    fields = {k: v for k, v in m.groupdict().items() if v is not None}
    if "kind" in fields:
        fields["kind"] = kind_label(fields["kind"], lang)
    return (entry.en if lang == "en" else entry.fr).format(**fields), None


def _match(part: str) -> tuple[Reason, re.Match[str]] | None:
    for entry in REASONS:
        m = entry.match(part)
        if m is not None:
            return entry, m
    return None


def is_known_reason(text: str) -> bool:
    """Return True when every part of `text` has a catalogue entry (prefixes understood).

    Examples
    --------
    >>> is_known_reason("before: only nodata cells")
    True
    >>> is_known_reason("n_residents: population unknown")
    True
    >>> is_known_reason("KeyError: 'geometry'")
    False
    """
    parts = reason_parts(text)
    return bool(parts) and all(_words(p, "en")[0] != UNKNOWN_REASON[1] for p in parts)


def reason_label(text: str | None, lang: str = "fr") -> str:
    """Return the plain words for the reason `text` of a missing value.

    Parameters
    ----------
    text
        A metric's ``reason``: one stable English text, or several joined with ``"; "``,
        each possibly led by ``"before: "`` / ``"after: "`` or a column name. None, NaN or
        empty text gives the generic "not available".
    lang
        ``"fr"`` (default) or ``"en"``.

    Returns
    -------
    str
        One sentence per distinct part, joined by a space; a part no catalogue entry knows
        reads "donnée non disponible" / "not available" (never the raw text). Plain text:
        escape it before writing HTML.

    Examples
    --------
    >>> reason_label("no residences layer")
    'Fichier des logements absent : fournir les logements (résidences) avec leur population.'
    >>> reason_label("no residences layer", lang="en")
    'Residences file missing: provide the homes (residences) with their population.'
    >>> reason_label("before: outside the raster", lang="en")  # doctest: +NORMALIZE_WHITESPACE
    'Earlier map: Area outside the map provided: provide a map that covers the whole
    territory.'
    >>> reason_label("coverage_share: no walking coverage of school", lang="en")
    'Walking access to “School” not computed: provide the layer of these facilities.'
    >>> reason_label("Traceback: /home/x.py line 3")
    'donnée non disponible'
    >>> reason_label(None, lang="en")
    'not available'
    """
    check_lang(lang)
    said = _sentences(reason_parts(text), lang)
    return " ".join(said) if said else UNKNOWN_REASON[lang == "en"]


def _sentences(parts: Iterable[str], lang: str) -> list[str]:
    said: list[str] = []
    for part in parts:
        words, lead = _words(part, lang)
        sentence = f"{lead}{' :' if lang == 'fr' else ':'} {words}" if lead else words
        if sentence not in said:
            said.append(sentence)
    return said


def missing_advice(reasons: Iterable[Any], lang: str = "fr") -> list[str]:
    """Group the reasons of several cells into the distinct sentences of one box.

    Parameters
    ----------
    reasons
        Reasons of several cells (each one text, possibly joined with ``"; "``; None and NaN
        skipped).
    lang
        ``"fr"`` (default) or ``"en"``.

    Returns
    -------
    list of str
        Distinct sentences in order of first appearance; the generic "not available" comes
        once, last, and only when some reason has no entry. Empty when there is no reason.

    Examples
    --------
    >>> for s in missing_advice(["no residences layer", None, "no residences layer; no value"]):
    ...     print(s)
    Fichier des logements absent : fournir les logements (résidences) avec leur population.
    Valeur absente des données fournies.
    >>> missing_advice(["oops", "no value"], lang="en")
    ['No value in the data provided.', 'not available']
    """
    check_lang(lang)
    parts: list[str] = []
    for r in reasons:
        parts.extend(p for p in reason_parts(r) if p not in parts)
    said = _sentences(parts, lang)
    generic = UNKNOWN_REASON[lang == "en"]
    if generic in said:
        said = [s for s in said if s != generic] + [generic]
    return said
