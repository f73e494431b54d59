"""Tree species: indicative crown sizes, botanical families, and the 10-20-30 diversity rule.

Reference tables for :mod:`cdv_geo.metrics.trees`: the crown diameter of a species (for canopy
from tree points when no tree-cover raster exists) and the family of a genus (for Santamour's
10-20-30 guideline: no species over 10 % of a tree stock, no genus over 20 %, no family over 30 %).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CROWN_DIAMETERS_M",
    "DEFAULT_CROWN_DIAMETER_M",
    "GENUS_FAMILY",
    "SpeciesCodes",
    "crown_diameters_of",
    "diversity",
    "diversity_of",
    "genus_of",
    "species_codes",
]

#: Crown diameter (m) used for a tree whose species is not in :data:`CROWN_DIAMETERS_M`.
DEFAULT_CROWN_DIAMETER_M = 5.0

#: Indicative crown diameters (m) of established urban trees, by genus (or full species name,
#: which wins over its genus). Compiled for cdv_geo as orders of magnitude from common
#: street-tree and nursery guidance, not from one published table: give each planting its
#: ``crown_diameter_m`` (or your own mapping) for real accounting. Young trees are smaller:
#: a tree planted a few years ago has a crown of 2–4 m.
CROWN_DIAMETERS_M: dict[str, float] = {
    "acer": 10.0,
    "acer campestre": 8.0,
    "acer platanoides": 12.0,
    "acer pseudoplatanus": 14.0,
    "aesculus": 12.0,
    "alnus": 8.0,
    "amelanchier": 5.0,
    "betula": 8.0,
    "carpinus": 9.0,
    "castanea": 14.0,
    "catalpa": 10.0,
    "celtis": 12.0,
    "cercis": 6.0,
    "cornus": 5.0,
    "crataegus": 6.0,
    "fagus": 15.0,
    "fraxinus": 12.0,
    "ginkgo": 8.0,
    "gleditsia": 10.0,
    "juglans": 14.0,
    "koelreuteria": 7.0,
    "lagerstroemia": 5.0,
    "liquidambar": 9.0,
    "liriodendron": 12.0,
    "magnolia": 7.0,
    "malus": 6.0,
    "morus": 8.0,
    "ostrya": 8.0,
    "parrotia": 7.0,
    "paulownia": 10.0,
    "pinus": 8.0,
    "platanus": 18.0,
    "populus": 12.0,
    "prunus": 7.0,
    "pyrus": 5.0,
    "quercus": 15.0,
    "robinia": 10.0,
    "salix": 10.0,
    "sophora": 12.0,
    "sorbus": 6.0,
    "styphnolobium": 12.0,
    "tilia": 12.0,
    "ulmus": 12.0,
    "zelkova": 12.0,
}

#: Botanical family of common urban tree genera (APG IV), for the "30 % per family" part of
#: the 10-20-30 guideline.
GENUS_FAMILY: dict[str, str] = {
    "acer": "Sapindaceae",
    "aesculus": "Sapindaceae",
    "koelreuteria": "Sapindaceae",
    "alnus": "Betulaceae",
    "betula": "Betulaceae",
    "carpinus": "Betulaceae",
    "ostrya": "Betulaceae",
    "castanea": "Fagaceae",
    "fagus": "Fagaceae",
    "quercus": "Fagaceae",
    "amelanchier": "Rosaceae",
    "crataegus": "Rosaceae",
    "malus": "Rosaceae",
    "prunus": "Rosaceae",
    "pyrus": "Rosaceae",
    "sorbus": "Rosaceae",
    "catalpa": "Bignoniaceae",
    "celtis": "Cannabaceae",
    "cercis": "Fabaceae",
    "gleditsia": "Fabaceae",
    "robinia": "Fabaceae",
    "sophora": "Fabaceae",
    "styphnolobium": "Fabaceae",
    "cornus": "Cornaceae",
    "fraxinus": "Oleaceae",
    "ginkgo": "Ginkgoaceae",
    "juglans": "Juglandaceae",
    "lagerstroemia": "Lythraceae",
    "liquidambar": "Altingiaceae",
    "liriodendron": "Magnoliaceae",
    "magnolia": "Magnoliaceae",
    "morus": "Moraceae",
    "parrotia": "Hamamelidaceae",
    "paulownia": "Paulowniaceae",
    "pinus": "Pinaceae",
    "platanus": "Platanaceae",
    "populus": "Salicaceae",
    "salix": "Salicaceae",
    "tilia": "Malvaceae",
    "ulmus": "Ulmaceae",
    "zelkova": "Ulmaceae",
}


def genus_of(species: Any) -> str | None:
    """Return the genus of a Latin species name (its first word, capitalised), or None.

    Examples
    --------
    >>> genus_of("acer campestre"), genus_of(None), genus_of("  ")
    ('Acer', None, None)
    """
    if species is None or (isinstance(species, float) and math.isnan(species)):
        return None
    text = str(species).strip()
    if not text:
        return None
    return text.split()[0].capitalize()


def _crown_lookup(species: Any, table: Mapping[str, float]) -> tuple[float, str]:
    if species is None or (isinstance(species, float) and math.isnan(species)):
        return np.nan, "default"
    name = " ".join(str(species).lower().replace("×", " ").replace(" x ", " ").split())
    # cultivars ('Fastigiata') and authors do not change the lookup
    name = name.split("'")[0].strip()
    words = name.split()
    if len(words) >= 2 and f"{words[0]} {words[1]}" in table:
        return float(table[f"{words[0]} {words[1]}"]), "species"
    if words and words[0] in table:
        return float(table[words[0]]), "genus"
    return np.nan, "default"


def crown_diameters_of(
    species: pd.Series,
    table: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Look the crown diameter of each species up: by species, else genus, else NaN.

    Parameters
    ----------
    species : pandas.Series
        Latin names (``"Tilia cordata"``, ``"Platanus x acerifolia 'Alphen'"``...); cultivars,
        hybrid signs and case do not matter.
    table : mapping, optional
        Genus or species (lower case) → diameter in metres; default :data:`CROWN_DIAMETERS_M`.

    Returns
    -------
    diameters : numpy.ndarray
        Metres, NaN when neither the species nor its genus is in the table.
    sources : numpy.ndarray
        ``"species"``, ``"genus"`` or ``"default"`` (not found).

    Examples
    --------
    >>> import pandas as pd
    >>> d, how = crown_diameters_of(pd.Series(["Tilia cordata", "Acer campestre", "Foo"]))
    >>> d.tolist(), how.tolist()
    ([12.0, 8.0, nan], ['genus', 'species', 'default'])
    """
    lookup = {k.lower(): float(v) for k, v in (table or CROWN_DIAMETERS_M).items()}
    # one lookup per distinct name, not per tree
    codes, uniques = pd.factorize(species, use_na_sentinel=True)
    found = [_crown_lookup(u, lookup) for u in uniques]
    diam = np.array([f[0] for f in found] + [np.nan], dtype=float)
    how = np.array([f[1] for f in found] + ["default"], dtype=object)
    return diam[codes], how[codes]


@dataclass(frozen=True)
class SpeciesCodes:
    """The species, genus and family of each planting, parsed once, as integer codes.

    Codes index the sorted `*_names` arrays; -1 where unknown. See :func:`species_codes`.
    """

    known: np.ndarray
    species: np.ndarray
    species_names: np.ndarray
    genus: np.ndarray
    genus_names: np.ndarray
    family: np.ndarray
    family_names: np.ndarray


def species_codes(species: pd.Series) -> SpeciesCodes:
    """Parse the species names of a layer once: species, genus and family codes.

    Names are normalised (spaces collapsed, ``Genus species`` case); the family comes from
    :data:`GENUS_FAMILY`.

    Examples
    --------
    >>> c = species_codes(pd.Series(["tilia  cordata", None, "Acer campestre"]))
    >>> c.species.tolist(), c.species_names.tolist(), c.family_names.tolist()
    ([1, -1, 0], ['Acer campestre', 'Tilia cordata'], ['Malvaceae', 'Sapindaceae'])
    """
    text = species.astype(object).where(species.notna(), "").astype(str).str.strip()
    known = (text != "").to_numpy()
    norm = pd.Series(np.full(len(text), None, dtype=object))
    norm[known] = text[known].str.split().str.join(" ").str.capitalize().to_numpy()
    genus = norm.str.split().str[0]
    family = genus.str.lower().map(GENUS_FAMILY)
    sp, sp_names = pd.factorize(norm, sort=True)
    ge, ge_names = pd.factorize(genus, sort=True)
    fa, fa_names = pd.factorize(family, sort=True)
    return SpeciesCodes(
        known,
        sp,
        np.asarray(sp_names, dtype=object),
        ge,
        np.asarray(ge_names, dtype=object),
        fa,
        np.asarray(fa_names, dtype=object),
    )


def _top(weights: np.ndarray, codes: np.ndarray, names: np.ndarray) -> tuple[Any, float, int]:
    """Label holding the largest weight (ties: first in sorted order), that weight, labels met."""
    ok = codes >= 0
    if not ok.any():
        return None, np.nan, 0
    sums = np.bincount(codes[ok], weights=weights[ok], minlength=len(names))
    met = np.bincount(codes[ok], minlength=len(names)) > 0
    sums = np.where(met, sums, -np.inf)
    best = int(np.argmax(sums))
    return names[best], float(sums[best]), int(met.sum())


def diversity(species: pd.Series, counts: np.ndarray) -> dict[str, Any]:
    """Species, genus and family composition of a set of trees, and the 10-20-30 verdict.

    Shares are over the trees whose species is known. When some genus has no known family in
    :data:`GENUS_FAMILY` and the known families stay under 30 %, the family test (and so
    ``meets_10_20_30``) is ``<NA>``.

    Parameters
    ----------
    species : pandas.Series
        Latin species name of each planting (None when unknown).
    counts : numpy.ndarray
        Trees at each planting.

    Returns
    -------
    dict
        ``n_species``, ``top_species``, ``top_species_share``, ``top_genus``,
        ``top_genus_share``, ``top_family``, ``top_family_share``, ``meets_10_20_30``,
        ``n_trees_species_unknown``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> d = diversity(pd.Series(["Tilia cordata", "Acer campestre", None]), np.array([3, 1, 2]))
    >>> d["top_species"], d["top_species_share"], d["meets_10_20_30"], d["n_trees_species_unknown"]
    ('Tilia cordata', 0.75, False, 2.0)
    """
    return diversity_of(species_codes(species.reset_index(drop=True)), counts)


def diversity_of(
    codes: SpeciesCodes, counts: np.ndarray, selected: np.ndarray | None = None
) -> dict[str, Any]:
    """:func:`diversity` of the plantings `selected` (all by default), from parsed `codes`.

    Parse a layer once with :func:`species_codes`, then ask for each group of plantings.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> c = species_codes(pd.Series(["Tilia cordata", "Acer campestre", "Tilia cordata"]))
    >>> d = diversity_of(c, np.array([3, 1, 1]), np.array([False, True, True]))
    >>> d["n_species"], d["top_species"], d["top_species_share"]  # a tie: the first name
    (2, 'Acer campestre', 0.5)
    """
    counts = np.asarray(counts, dtype=float)
    sel = np.ones(len(counts), dtype=bool) if selected is None else np.asarray(selected, bool)
    known = sel & codes.known
    out: dict[str, Any] = {"n_trees_species_unknown": float(counts[sel & ~codes.known].sum())}
    w = counts[known]
    total = float(w.sum())
    if total <= 0:
        return {
            **out,
            "n_species": 0,
            "top_species": None,
            "top_species_share": np.nan,
            "top_genus": None,
            "top_genus_share": np.nan,
            "top_family": None,
            "top_family_share": np.nan,
            "meets_10_20_30": pd.NA,
        }
    top_s, w_s, n_species = _top(w, codes.species[known], codes.species_names)
    top_g, w_g, _ = _top(w, codes.genus[known], codes.genus_names)
    fam = codes.family[known]
    top_f, w_f, _ = _top(w, fam, codes.family_names)
    family_ok: Any
    if (fam >= 0).all():
        family_ok = bool(w_f / total <= 0.30)
    elif top_f is not None and w_f / total > 0.30:
        family_ok = False  # already over the limit among the known families
    else:
        family_ok = pd.NA
    species_ok, genus_ok = bool(w_s / total <= 0.10), bool(w_g / total <= 0.20)
    verdict: Any = False if not (species_ok and genus_ok) else family_ok
    return {
        **out,
        "n_species": n_species,
        "top_species": top_s,
        "top_species_share": w_s / total,
        "top_genus": top_g,
        "top_genus_share": w_g / total,
        "top_family": top_f,
        "top_family_share": w_f / total if top_f is not None else np.nan,
        "meets_10_20_30": verdict,
    }
