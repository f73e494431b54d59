"""The indicators map's one selector: indicators grouped by theme, a rate shown first.

A committee member picks the indicator in one drop-down list (``<select>`` with one
``<optgroup>`` per theme: income, poverty, employment, families, education, health) instead of
scanning a layer list of dozens of checkboxes. The map opens on a rate (the poverty rate, else
the first rate available), never on a count drawn as a choropleth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from folium.template import Template

from cdv_geo.core import labels as lb
from cdv_geo.maps.html import escape_text, js_json
from cdv_geo.maps.runtime import CdvElement, MapLayer

__all__ = ["GROUPS", "IndicatorSelector", "default_indicator", "indicator_group"]

#: The themes of the selector, in the order it lists them (label key ``indicator_group_<g>``).
GROUPS: tuple[str, ...] = (
    "income",
    "poverty",
    "employment",
    "families",
    "education",
    "health",
    "other",
)

# The registry's indicators by theme (cdv_geo.io.insee.registry.INDICATORS); an indicator not
# listed falls to a theme by the words of its name (_WORDS), else to "other".
_MEMBERS: dict[str, frozenset[str]] = {
    "income": frozenset(
        {
            "gini",
            "interdecile_ratio",
            "declared_interdecile_ratio",
            "income_iqr_ratio",
            "s80_s20_ratio",
            "taxed_households_share",
            "activity_income_share",
            "pension_share",
            "property_income_share",
            "taxes_ratio",
        }
    ),
    "poverty": frozenset(
        {
            "poverty_rate",
            "social_benefits_share",
            "minimum_income_share",
            "housing_benefits_share",
            "rsa_share",
            "n_rsa_recipients",
            "n_activity_bonus_recipients",
            "n_aah_recipients",
            "n_benefit_dependent_50",
            "n_benefit_dependent_100",
            "n_caf_recipients",
            "n_caf_covered_people",
        }
    ),
    "employment": frozenset(
        {
            "precarious_job_share",
            "limited_term_job_share",
            "n_subsidised_contracts",
            "unemployment_rate",
            "jobseeker_ratio",
            "unemployment_benefit_share",
        }
    ),
    "families": frozenset(
        {
            "population",
            "commune_population",
            "commune_qpv_population",
            "commune_population_share",
            "women_share",
            "under_25_share",
            "over_60_share",
            "single_person_household_share",
            "large_household_share",
            "foreigner_share",
            "youth_index",
            "family_benefits_share",
            "n_single_parent_recipients",
            "n_single_recipients",
            "n_couple_no_child_recipients",
            "n_couple_children_recipients",
        }
    ),
    "education": frozenset({"no_diploma_share", "early_leaving_share"}),
    "health": frozenset({"gp_density", "n_css", "n_css_contributory", "n_insured", "css_share"}),
}
_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("employment", ("employment", "jobseeker", "job_", "unemployment")),
    ("poverty", ("poverty", "rsa", "benefit", "caf_")),
    ("education", ("diploma", "school", "education", "student")),
    ("health", ("health", "doctor", "gp_", "css", "hospital", "nurse")),
    ("families", ("children", "household", "population", "family", "age_", "women")),
    ("income", ("income", "gini", "interdecile", "s80", "pension", "tax", "wage")),
)


def indicator_group(name: str) -> str:
    """Return the theme of the selector the indicator `name` is listed under.

    Examples
    --------
    >>> indicator_group("poverty_rate"), indicator_group("median_income")
    ('poverty', 'income')
    >>> indicator_group("n_children_0_2"), indicator_group("gp_density")
    ('families', 'health')
    >>> indicator_group("mystery")
    'other'
    """
    for group, members in _MEMBERS.items():
        if name in members:
            return group
    lowered = name.lower()
    for group, words in _WORDS:
        if any(w in lowered for w in words):
            return group
    return "other"


def default_indicator(names: Sequence[str], units: Mapping[str, str]) -> str | None:
    """Return the indicator the map opens on: a rate, never a count.

    The poverty rate when present; else the first rate (a fraction whose name says
    ``rate``), else the first share (any fraction), else the first indicator that is not a
    count, else the first one. `names` are in the selector's order.

    Examples
    --------
    >>> units = {"population": "count", "median_income": "EUR", "women_share": "fraction",
    ...          "employment_rate": "fraction", "poverty_rate": "fraction"}
    >>> default_indicator(["population", "women_share", "employment_rate", "poverty_rate"], units)
    'poverty_rate'
    >>> default_indicator(["population", "women_share", "employment_rate"], units)
    'employment_rate'
    >>> default_indicator(["population", "median_income", "women_share"], units)
    'women_share'
    >>> default_indicator(["population", "median_income"], units)
    'median_income'
    >>> default_indicator([], units) is None
    True
    """
    if not names:
        return None
    if "poverty_rate" in names:
        return "poverty_rate"
    fractions = [n for n in names if units.get(n) == "fraction"]
    for n in fractions:
        if "rate" in n:
            return n
    if fractions:
        return fractions[0]
    return next((n for n in names if units.get(n) != "count"), names[0])


def ordered(names: Sequence[str], catalogue: Sequence[str] = ()) -> list[str]:
    """Return `names` in the selector's order: by theme, then in the `catalogue`'s order.

    The catalogue (the registry's names) is curated: the median before the deciles, the
    poverty rate before the benefits. Names it lacks keep their order, after its own.

    Examples
    --------
    >>> ordered(["population", "poverty_rate", "median_income"])
    ['median_income', 'poverty_rate', 'population']
    >>> ordered(["income_d1", "median_income"], catalogue=["median_income", "income_d1"])
    ['median_income', 'income_d1']
    """
    rank = {g: i for i, g in enumerate(GROUPS)}
    place = {n: i for i, n in enumerate(catalogue)}
    return sorted(names, key=lambda n: (rank[indicator_group(n)], place.get(n, len(place))))


class IndicatorSelector(CdvElement):
    r"""One drop-down list that shows one indicator layer at a time (top-right corner).

    Parameters
    ----------
    entries : sequence of (name, label, layer)
        The indicators in the selector's order (see :func:`ordered`): canonical name, label
        shown (plain text, escaped here) and its layer (added to the map, not in the layer
        control).
    initial : str
        The name of the indicator shown when the map opens.
    lang : str
        Language of the selector's caption and theme names.

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> a, b = MapLayer("indicator_a", "A"), MapLayer("indicator_b", "<b>B</b>", show=False)
    >>> _ = a.add_to(m), b.add_to(m)
    >>> sel = IndicatorSelector([("poverty_rate", "Taux", a), ("population", "<b>B</b>", b)],
    ...                         initial="poverty_rate", lang="fr")
    >>> '<optgroup label="Pauvreté et prestations sociales">' in sel.html_text
    True
    >>> "<b>" in sel.html_text
    False
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var layers = [
            {%- for var in this.layer_vars %}{{ var }}{{ "," if not loop.last }}{% endfor -%}
          ];
          var keys = {{ this.keys }};
          function show(i) {
            layers.forEach(function (l, k) {
              if (k !== i && map.hasLayer(l)) {
                map.removeLayer(l);
                map.fire('overlayremove', {layer: l, name: keys[k]});
              }
            });
            if (!map.hasLayer(layers[i])) {
              map.addLayer(layers[i]);
              map.fire('overlayadd', {layer: layers[i], name: keys[i]});
            }
            // The quartier outlines stay above the colours, so that they can be clicked.
            var cdv = window.cdvGeo || {layers: {}};
            (cdv.layers.quartiers || []).forEach(function (q) {
              if (map.hasLayer(q) && q.bringToFront) q.bringToFront();
            });
            cdv.indicator = keys[i];
          }
          var ctl = L.control({position: 'topright'});
          ctl.onAdd = function () {
            var div = L.DomUtil.create('div', 'cdv-selector cdv-box leaflet-control');
            div.innerHTML = {{ this.html }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            var sel = div.querySelector('select');
            sel.value = String({{ this.initial }});
            L.DomEvent.on(sel, 'change', function () { show(parseInt(sel.value, 10)); });
            return div;
          };
          ctl.addTo(map);
          show({{ this.initial }});
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, entries: Sequence[tuple[str, str, MapLayer]], *, initial: str, lang: str
    ) -> None:
        super().__init__()
        self._name = "CdvIndicatorSelector"
        names = [e[0] for e in entries]
        self._layers = [e[2] for e in entries]
        self.initial = names.index(initial) if initial in names else 0
        # The page's script knows the layers by their keys (``indicator_<name>``), never by a
        # name from the data.
        self.keys = js_json([layer.key for layer in self._layers])
        caption = escape_text(lb.label("indicator_selector", lang))
        parts = [
            f'<label class="cdv-selector-caption" for="{self.get_name()}_select">{caption}</label>'
            f'<select id="{self.get_name()}_select" class="cdv-indicator-select">'
        ]
        for group in GROUPS:
            members = [(i, e) for i, e in enumerate(entries) if indicator_group(e[0]) == group]
            if not members:
                continue
            glabel = escape_text(lb.label(f"indicator_group_{group}", lang))
            parts.append(f'<optgroup label="{glabel}">')
            parts.extend(
                f'<option value="{i}"{" selected" if i == self.initial else ""}>'
                f"{escape_text(label)}</option>"
                for i, (_name, label, _layer) in members
            )
            parts.append("</optgroup>")
        parts.append("</select>")
        self.html_text = "".join(parts)
        self.html = js_json(self.html_text)

    @property
    def layer_vars(self) -> list[str]:
        """The JavaScript names of the indicator layers (known once they are on the map)."""
        return [layer.get_name() for layer in self._layers]
