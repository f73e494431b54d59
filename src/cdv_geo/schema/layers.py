"""The schema of every layer kind (:data:`SCHEMAS`), empty templates and a text description."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import pandas as pd

from cdv_geo.schema.enums import (
    FACILITY_ALIASES,
    FACILITY_KINDS,
    HOUSING_ALIASES,
    HOUSING_TYPES,
    INCIDENT_TYPE_ALIASES,
    INCIDENT_TYPES,
    KIND_CATEGORIES,
    OPERATION_ALIASES,
    OPERATIONS,
    SITE_TYPE_ALIASES,
    SITE_TYPES,
    STATUS_ALIASES,
    STATUSES,
    TENURE_ALIASES,
    TENURES,
)
from cdv_geo.schema.fields import Field, LayerSchema, check_opening_hours
from cdv_geo.schema.values import typed_series

__all__ = ["CODE_ID_KINDS", "ID_ALIASES", "LAYER_KINDS", "SCHEMAS", "describe", "empty_layer"]

# Count and population columns as French files name them (matched whatever case and style).
_POPULATION = (
    "pop",
    "nb_habitants",
    "habitants",
    "nombre_habitants",
    "nb_hab",
    "pop_mun",
    "population_municipale",
    "pmun",
)
_DWELLINGS = (
    "nb_logements",
    "logements",
    "nb_lgts",
    "nombre_logements",
    "nombre_de_logements",
    "nb_log",
    "nb_logts",
    "nb_lgt",
)

# --- common fields ----------------------------------------------------------------------------

_YEAR = Field("year", "year", aliases=("annee", "année", "an"), label_fr="Année", label_en="Year")
_SOURCE = Field(
    "source", "str", aliases=("provenance", "origine"), label_fr="Source", label_en="Source"
)
_NAME = Field(
    "name",
    "str",
    required=True,
    aliases=("nom", "libelle", "libellé"),
    label_fr="Nom",
    label_en="Name",
)
_FACILITY_NAME = Field(
    "name",
    "str",
    # (registers exported from a CMS or SharePoint hold the names in "Title" / "Titre")
    aliases=(
        "nom",
        "libelle",
        "libellé",
        "nom_equipement",
        "title",
        "titre",
        "intitule",
        "denomination",
        "appellation",
        "nom_usuel",
        "raison_sociale",
    ),
    label_fr="Nom",
    label_en="Name",
)
_STATUS = Field(
    "status",
    "str",
    enum=STATUSES,
    enum_aliases=STATUS_ALIASES,
    aliases=("statut", "etat", "état"),
    label_fr="Avancement",
    label_en="Status",
)

SCHEMAS: dict[str, LayerSchema] = {
    s.kind: s
    for s in (
        LayerSchema(
            "communes",
            ("Polygon",),
            (
                Field(
                    "code",
                    "str",
                    required=True,
                    aliases=(
                        "insee_com",
                        "code_insee",
                        "insee",
                        "code_commune",
                        "depcom",
                        "codgeo",
                    ),
                    label_fr="Code INSEE",
                    label_en="INSEE code",
                ),
                _NAME,
                Field(
                    "population",
                    "int",
                    minimum=0,
                    aliases=_POPULATION,
                    label_fr="Population",
                    weight=True,
                    label_en="Population",
                ),
                _SOURCE,
            ),
            "Commune",
            "Municipality",
        ),
        LayerSchema(
            "quartiers",
            ("Polygon",),
            (
                Field(
                    "code",
                    "str",
                    required=True,
                    aliases=("code_qp", "code_qpv", "code_quartier"),
                    label_fr="Code QPV",
                    label_en="QPV code",
                ),
                Field(
                    "name",
                    "str",
                    required=True,
                    aliases=("nom", "lib_qp", "nom_qp", "libelle_qp", "libelle"),
                    label_fr="Nom",
                    label_en="Name",
                ),
                Field(
                    "population",
                    "int",
                    minimum=0,
                    aliases=_POPULATION,
                    label_fr="Population",
                    weight=True,
                    label_en="Population",
                ),
                Field(
                    "commune",
                    "str",
                    aliases=("insee_com", "code_commune", "code_insee", "depcom"),
                    label_fr="Commune",
                    label_en="Municipality",
                ),
                _SOURCE,
            ),
            "Quartiers prioritaires",
            "Priority neighbourhoods",
        ),
        LayerSchema(
            "facilities",
            ("Point", "Polygon"),
            (
                _FACILITY_NAME,
                Field(
                    "kind",
                    "str",
                    required=True,
                    enum=FACILITY_KINDS,
                    enum_aliases={**KIND_CATEGORIES, **FACILITY_ALIASES},
                    aliases=("type", "categorie", "catégorie", "nature", "type_equipement"),
                    open_enum=True,
                    label_fr="Type d'équipement",
                    label_en="Facility type",
                ),
                Field(
                    "opened",
                    "year",
                    aliases=("ouverture", "annee_ouverture", "année_ouverture"),
                    label_fr="Ouverture",
                    label_en="Opened",
                ),
                Field(
                    "capacity",
                    "float",
                    minimum=0,
                    aliases=(
                        *("capacite", "capacité", "etp", "nb_places", "places", "guichets"),
                        *("nombre_de_places", "nb_guichets", "etp_medecins", "nb_etp"),
                    ),
                    label_fr="Capacité",
                    label_en="Capacity",
                ),
                Field(
                    "opening_hours",
                    "str",
                    aliases=("horaires", "heures_ouverture", "opening_hours"),
                    label_fr="Horaires d'ouverture",
                    label_en="Opening hours",
                    check=check_opening_hours,
                ),
                Field(
                    "surface",
                    "float",
                    minimum=0,
                    aliases=(
                        "surface_vente",
                        "surface_de_vente",
                        "surface_commerciale",
                        "surface_m2",
                        "sdv",
                    ),
                    label_fr="Surface de vente (m²)",
                    label_en="Sales area (m²)",
                ),
                _SOURCE,
            ),
            "Équipements et services",
            "Facilities and services",
        ),
        LayerSchema(
            "renewal_sites",
            ("Polygon", "Point"),
            (
                _NAME,
                Field(
                    "operation",
                    "str",
                    required=True,
                    enum=OPERATIONS,
                    enum_aliases=OPERATION_ALIASES,
                    aliases=("type", "type_operation", "opération"),
                    label_fr="Opération",
                    label_en="Operation",
                ),
                Field(
                    "dwellings",
                    "int",
                    required=True,
                    minimum=0,
                    aliases=_DWELLINGS,
                    label_fr="Logements",
                    label_en="Dwellings",
                ),
                Field(
                    "housing_type",
                    "str",
                    enum=HOUSING_TYPES,
                    enum_aliases=HOUSING_ALIASES,
                    aliases=("type_logement", "typologie"),
                    label_fr="Typologie",
                    label_en="Housing type",
                ),
                Field(
                    "tenure",
                    "str",
                    enum=TENURES,
                    enum_aliases=TENURE_ALIASES,
                    aliases=("statut_occupation", "occupation", "financement"),
                    label_fr="Statut d'occupation",
                    label_en="Tenure",
                ),
                _STATUS,
                _YEAR,
                Field(
                    "compensates",
                    "str",
                    aliases=("compense", "quartier_compense", "qpv_origine"),
                    label_fr="Quartier compensé",
                    label_en="Compensates quartier",
                ),
                _SOURCE,
            ),
            "Opérations NPNRU",
            "NPNRU renewal operations",
        ),
        LayerSchema(
            "desealed_areas",
            ("Polygon",),
            (
                Field(
                    "site",
                    "str",
                    required=True,
                    aliases=("nom", "nom_site", "name"),
                    label_fr="Site",
                    label_en="Site",
                ),
                Field(
                    "site_type",
                    "str",
                    required=True,
                    enum=SITE_TYPES,
                    enum_aliases=SITE_TYPE_ALIASES,
                    aliases=("type", "type_site"),
                    label_fr="Type de site",
                    label_en="Site type",
                ),
                _YEAR,
                _STATUS,
                _SOURCE,
            ),
            "Surfaces désimperméabilisées",
            "De-sealed areas",
        ),
        LayerSchema(
            "tree_plantings",
            ("Point",),
            (
                Field(
                    "trees",
                    "int",
                    default=1,
                    minimum=0,
                    aliases=(
                        "nb_arbres",
                        "arbres",
                        "nombre",
                        "nombre_arbres",
                        "nombre_d_arbres",
                        "n_arbres",
                        "nb_arbre",
                        "nb_sujets",
                        "quantite",
                        "tree_count",
                    ),
                    weight=True,
                    label_fr="Arbres",
                    label_en="Trees",
                ),
                Field(
                    "species",
                    "str",
                    aliases=("essence", "espece", "espèce", "taxon"),
                    label_fr="Essence",
                    label_en="Species",
                ),
                _YEAR,
                Field(
                    "crown_diameter_m",
                    "float",
                    minimum=0,
                    aliases=("diametre_houppier", "diametre_couronne", "houppier_m"),
                    label_fr="Diamètre du houppier (m)",
                    label_en="Crown diameter (m)",
                ),
                _SOURCE,
            ),
            "Plantations d'arbres",
            "Tree plantings",
        ),
        LayerSchema(
            "residences",
            ("Point", "Polygon"),
            (
                Field(
                    "dwellings",
                    "int",
                    minimum=0,
                    aliases=_DWELLINGS,
                    label_fr="Logements",
                    label_en="Dwellings",
                ),
                Field(
                    "population",
                    "float",
                    minimum=0,
                    aliases=_POPULATION,
                    label_fr="Habitants",
                    label_en="Residents",
                ),
                Field(
                    "children",
                    "float",
                    minimum=0,
                    aliases=("enfants", "nb_enfants", "ind_0_17", "moins_de_18_ans", "mineurs"),
                    label_fr="Enfants (0-17 ans)",
                    label_en="Children (0-17)",
                ),
                Field(
                    "children_3_10",
                    "float",
                    minimum=0,
                    aliases=("enfants_3_10", "nb_enfants_3_10", "ind_3_10"),
                    label_fr="Enfants de 3 à 10 ans",
                    label_en="Children aged 3-10",
                ),
                _SOURCE,
            ),
            "Résidences",
            "Residences",
        ),
        LayerSchema(
            "streets",
            ("LineString",),
            (
                Field("name", "str", aliases=("nom", "nom_voie"), label_fr="Nom", label_en="Name"),
                Field(
                    "highway",
                    "str",
                    aliases=("nature", "type_voie"),
                    label_fr="Type de voie",
                    label_en="Road type",
                ),
                _SOURCE,
            ),
            "Rues (réseau piéton)",
            "Streets (walking network)",
            other_geometries="drop",
        ),
        LayerSchema(
            "green_spaces",
            ("Polygon",),
            (
                Field("name", "str", aliases=("nom", "libelle"), label_fr="Nom", label_en="Name"),
                Field(
                    "public",
                    "bool",
                    default=True,
                    aliases=("ouvert_au_public", "acces_public"),
                    label_fr="Public",
                    label_en="Public",
                ),
                _SOURCE,
            ),
            "Espaces verts",
            "Green spaces",
        ),
        LayerSchema(
            "hydrants",
            ("Point",),
            (
                Field(
                    "name",
                    "str",
                    aliases=("nom", "numero", "num_pei", "numero_pei", "ref"),
                    label_fr="Poteau",
                    label_en="Hydrant",
                ),
                _SOURCE,
            ),
            "Poteaux d'incendie",
            "Fire hydrants",
        ),
        LayerSchema(
            "incidents",
            ("Point",),
            (
                Field(
                    "date",
                    "str",
                    required=True,
                    aliases=("date_intervention", "date_incident", "jour", "date_heure"),
                    label_fr="Date",
                    label_en="Date",
                ),
                Field(
                    "type",
                    "str",
                    required=True,
                    enum=INCIDENT_TYPES,
                    enum_aliases=INCIDENT_TYPE_ALIASES,
                    aliases=("nature", "type_incident", "motif"),
                    label_fr="Type d'incident",
                    label_en="Incident type",
                ),
                _SOURCE,
            ),
            "Incidents (poteaux ouverts, street pooling)",
            "Incidents (hydrants opened, street pooling)",
        ),
    )
}


#: The layer kinds a Territory holds, in display order.
LAYER_KINDS: tuple[str, ...] = tuple(SCHEMAS)

#: Layer kinds whose features take their official ``code`` as ``id`` when the file has none.
CODE_ID_KINDS: tuple[str, ...] = ("quartiers", "communes")

#: Names of the identifier column.
ID_ALIASES: tuple[str, ...] = ("id", "identifiant", "ident", "fid_")


def empty_layer(kind: str, crs: Any = "EPSG:2154") -> gpd.GeoDataFrame:
    """Return an empty GeoDataFrame with the schema's columns (for templates).

    Examples
    --------
    >>> list(empty_layer("tree_plantings").columns)
    ['id', 'trees', 'species', 'year', 'crown_diameter_m', 'source', 'geometry']
    """
    schema = SCHEMAS[kind]
    data: dict[str, Any] = {"id": pd.Series([], dtype=object)}
    for f in schema.fields:
        data[f.name] = typed_series([], f, pd.RangeIndex(0))
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def describe(kinds: Iterable[str] | None = None) -> str:
    """Return a plain-text description of the schemas (fields, types, aliases, values).

    Examples
    --------
    >>> print(describe(["green_spaces"]).splitlines()[0])
    green_spaces (Polygon): Espaces verts
    """
    lines: list[str] = []
    for kind in kinds or LAYER_KINDS:
        s = SCHEMAS[kind]
        lines.append(f"{kind} ({'/'.join(s.geometry)}): {s.label_fr}")
        for f in s.fields:
            req = "required" if f.required and f.default is None else "optional"
            alias = f" (aliases: {', '.join(f.aliases)})" if f.aliases else ""
            enum = f" values: {', '.join(f.enum)}" if f.enum else ""
            if f.open_enum:
                enum += " (or any other value, kept as given)"
            lines.append(f"  {f.name}: {f.dtype}, {req}{alias}{enum}")
    return "\n".join(lines)
