"""One canonical socio-economic indicator: the :class:`Indicator` record of the registry.

The registry itself, :data:`cdv_geo.io.insee.registry.INDICATORS`, is assembled from
:mod:`cdv_geo.io.insee.income` (Filosofi income and poverty) and :mod:`cdv_geo.io.insee.social`
(population, CAF, CNAM, France Travail, census).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["CAF", "CNAM", "FILO", "FT", "RP", "Indicator", "Unit", "indicator"]

Unit = Literal["EUR", "fraction", "index", "ratio", "per_10000", "count"]


@dataclass(frozen=True)
class Indicator:
    """One canonical socio-economic indicator.

    Parameters
    ----------
    name : str
        Canonical name (``median_income``...).
    label_fr, label_en : str
        Labels for tables and maps.
    unit : {"EUR", "fraction", "index", "ratio", "per_10000", "count"}
        Unit of the stored value. ``fraction`` values are in [0, 1] (shown as %).
    definition : str
        What is measured, and on whom.
    higher_is_better : bool or None
        Direction: True when a higher value means a better situation; None when neither
        (population, counts).
    source : str
        The publisher.
    columns : tuple of str
        The published columns it is read from (``"revn: TP60"``, ``"filosofi: DISP_TP60_Ayy"``).
    derived : str, optional
        The formula, for an indicator computed from others (its values are flagged
        ``"derived"``).
    minimum : float or None, default 0.0
        Lowest valid value (None: may be negative).
    """

    name: str
    label_fr: str
    label_en: str
    unit: Unit
    definition: str
    higher_is_better: bool | None
    source: str
    columns: tuple[str, ...] = field(default=())
    derived: str | None = None
    minimum: float | None = 0.0

    def format(self, value: float, lang: str = "fr") -> str:
        r"""Return `value` as text in the indicator's unit (percentages only here, in labels).

        Examples
        --------
        >>> from cdv_geo.io.insee.registry import INDICATORS
        >>> INDICATORS["poverty_rate"].format(0.412)
        '41,2 %'
        >>> INDICATORS["median_income"].format(13580, lang="en")
        '13,580 €'
        >>> INDICATORS["population"].format(5766)
        '5\u202f766'
        """
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "s.o." if lang == "fr" else "n/a"
        if self.unit == "fraction":
            text = f"{100 * value:.1f} %"
        elif self.unit == "EUR":
            text = f"{value:,.0f} €"
        elif self.unit == "count":
            text = f"{value:,.0f}"
        elif self.unit == "per_10000":
            text = f"{value:.1f} / 10 000" if lang == "fr" else f"{value:.1f} per 10,000"
        else:
            text = f"{value:.3f}" if self.unit == "index" else f"{value:.2f}"
        if lang == "fr":
            text = text.replace(",", "\u202f").replace(".", ",")
        return text


FILO = "INSEE, Filosofi (revenus localisés sociaux et fiscaux), données infracommunales QPV"
RP = "INSEE, recensement de la population (exploitation QPV)"
CAF = "CNAF (allocataires des CAF), données infracommunales QPV de l'INSEE"
CNAM = "CNAM (Assurance maladie), données infracommunales QPV de l'INSEE"
FT = "France Travail (demandeurs d'emploi en fin de mois), données infracommunales QPV de l'INSEE"


def indicator(
    name: str,
    fr: str,
    en: str,
    unit: Unit,
    definition: str,
    better: bool | None,
    source: str,
    columns: tuple[str, ...] = (),
    derived: str | None = None,
    minimum: float | None = 0.0,
) -> Indicator:
    """Return an :class:`Indicator` (positional shorthand used by the registry modules)."""
    return Indicator(name, fr, en, unit, definition, better, source, columns, derived, minimum)
