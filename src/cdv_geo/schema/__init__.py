"""One schema per layer kind: fields, types, enumerations, French aliases, and ``validate()``.

The layer kinds are those of a contrat de ville (DESIGN.md): ``quartiers``, ``facilities``,
``renewal_sites``, ``desealed_areas``, ``tree_plantings``, ``residences``, ``green_spaces``, plus
``communes`` (the town outline and population, the reference of the indicators).

Canonical field names are English snake_case. Input files may use French names (``nom``,
``type``, ``nb_logements``...) and French values (``aire_de_jeux_d_eau``, ``démolition``...):
:func:`validate` renames and translates them, checks every feature and raises **one**
:class:`~cdv_geo.DataValidationError` listing every problem of the layer.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.core.errors import CdvGeoWarning, DataValidationError, Problem

__all__ = [
    "LAYER_KINDS",
    "SCHEMAS",
    "Field",
    "LayerSchema",
    "normalize_token",
    "validate",
]

YEAR_MIN, YEAR_MAX = 1950, 2100

FieldType = Literal["str", "int", "float", "bool", "year"]


@dataclass(frozen=True)
class Field:
    """One field of a layer schema.

    Parameters
    ----------
    name : str
        Canonical (English snake_case) name.
    dtype : {"str", "int", "float", "bool", "year"}
        Expected type; ``year`` is an integer in 1950–2100.
    required : bool
        Whether every feature must have a value (when there is no `default`).
    default : object, optional
        Value used where the field is absent or empty.
    enum : tuple of str, optional
        Allowed canonical values.
    enum_aliases : mapping, optional
        Other spellings (normalised with :func:`normalize_token`) -> canonical value.
    minimum : float, optional
        Smallest allowed value (counts are ``>= 0``).
    aliases : tuple of str
        Other names of the field accepted on read (French names).
    label_fr, label_en : str
        Labels for tables and maps.
    """

    name: str
    dtype: FieldType
    required: bool = False
    default: Any = None
    enum: tuple[str, ...] | None = None
    enum_aliases: Mapping[str, str] = field(default_factory=dict)
    minimum: float | None = None
    aliases: tuple[str, ...] = ()
    label_fr: str = ""
    label_en: str = ""


@dataclass(frozen=True)
class LayerSchema:
    """The schema of one layer kind.

    Parameters
    ----------
    kind : str
        Layer kind (``"facilities"``...).
    geometry : tuple of str
        Allowed geometry types (``Polygon`` also allows ``MultiPolygon``, ``Point`` does not
        allow ``MultiPoint``).
    fields : tuple of Field
        The fields, in output order (after ``id``).
    label_fr, label_en : str
        Layer labels.
    """

    kind: str
    geometry: tuple[str, ...]
    fields: tuple[Field, ...]
    label_fr: str
    label_en: str

    def field(self, name: str) -> Field:
        """Return the field called `name`."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        """Canonical field names, in order."""
        return [f.name for f in self.fields]


def normalize_token(value: str) -> str:
    """Normalise a name or value for matching: lower case, no accents, ``_`` separators.

    Examples
    --------
    >>> normalize_token("Aire de jeux d'eau")
    'aire_de_jeux_d_eau'
    >>> normalize_token("Démolition")
    'demolition'
    """
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


# --- enumerations -----------------------------------------------------------------------------

FACILITY_KINDS: tuple[str, ...] = (
    "water_play_area",
    "health_centre",
    "social_centre",
    "ccas",
    "education_programme",
    "school",
    "shop",
    "police",
    "sports",
    "social_landlord_agency",
    "womens_rights_centre",
    "youth_employment",
    "waste_point",
    "park",
    "other",
)
_FACILITY_ALIASES = {
    "aire_de_jeux_d_eau": "water_play_area",
    "aire_jeux_eau": "water_play_area",
    "jeux_d_eau": "water_play_area",
    "aire_de_jeux_deau": "water_play_area",
    "brumisateur": "water_play_area",
    "maison_de_sante": "health_centre",
    "maison_de_sante_pluriprofessionnelle": "health_centre",
    "msp": "health_centre",
    "centre_de_sante": "health_centre",
    "centre_social": "social_centre",
    "centre_communal_d_action_sociale": "ccas",
    "pre": "education_programme",
    "programme_de_reussite_educative": "education_programme",
    "cite_educative": "education_programme",
    "ecole": "school",
    "college": "school",
    "groupe_scolaire": "school",
    "commerce": "shop",
    "superette": "shop",
    "commerce_de_proximite": "shop",
    "police_municipale": "police",
    "poste_de_police": "police",
    "complexe_sportif": "sports",
    "equipement_sportif": "sports",
    "gymnase": "sports",
    "agence_bailleur": "social_landlord_agency",
    "agence_bailleur_social": "social_landlord_agency",
    "bailleur_social": "social_landlord_agency",
    "maison_des_droits_des_femmes": "womens_rights_centre",
    "maison_de_l_egalite_et_des_droits_des_femmes": "womens_rights_centre",
    "cidff": "womens_rights_centre",
    "mission_locale": "youth_employment",
    "point_d_apport_volontaire": "waste_point",
    "pav": "waste_point",
    "point_de_collecte": "waste_point",
    "parc": "park",
    "square": "park",
    "jardin": "park",
    "autre": "other",
}
OPERATIONS: tuple[str, ...] = (
    "demolition",
    "reconstruction",
    "rehabilitation",
    "facade_requalification",
    "residentialisation",
)
_OPERATION_ALIASES = {
    "demolition": "demolition",
    "construction": "reconstruction",
    "reconstitution": "reconstruction",
    "renovation": "rehabilitation",
    "requalification_des_facades": "facade_requalification",
    "requalification_facades": "facade_requalification",
    "requalification_de_facades": "facade_requalification",
    "facades": "facade_requalification",
    "residentialization": "residentialisation",
}
HOUSING_TYPES: tuple[str, ...] = ("collective", "individual")
_HOUSING_ALIASES = {
    "collectif": "collective",
    "logement_collectif": "collective",
    "individuel": "individual",
    "maison": "individual",
    "maison_individuelle": "individual",
    "logement_individuel": "individual",
}
TENURES: tuple[str, ...] = ("social", "intermediate", "private_rental", "ownership", "private")
_TENURE_ALIASES = {
    "locatif_social": "social",
    "logement_social": "social",
    "hlm": "social",
    "intermediaire": "intermediate",
    "locatif_libre": "private_rental",
    "locatif_prive": "private_rental",
    "accession": "ownership",
    "accession_a_la_propriete": "ownership",
    "prive": "private",
    "libre": "private",
}
STATUSES: tuple[str, ...] = ("planned", "in_progress", "done")
_STATUS_ALIASES = {
    "prevu": "planned",
    "programme": "planned",
    "projet": "planned",
    "en_projet": "planned",
    "en_cours": "in_progress",
    "chantier": "in_progress",
    "en_chantier": "in_progress",
    "livre": "done",
    "realise": "done",
    "termine": "done",
    "fait": "done",
}
SITE_TYPES: tuple[str, ...] = ("school_yard", "street", "square", "car_park", "other")
_SITE_TYPE_ALIASES = {
    "cour_d_ecole": "school_yard",
    "cour_ecole": "school_yard",
    "cour_de_recreation": "school_yard",
    "cour_oasis": "school_yard",
    "rue": "street",
    "voirie": "street",
    "place": "square",
    "parking": "car_park",
    "stationnement": "car_park",
    "autre": "other",
}

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
_STATUS = Field(
    "status",
    "str",
    enum=STATUSES,
    enum_aliases=_STATUS_ALIASES,
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
                    aliases=("insee_com", "code_insee", "insee"),
                    label_fr="Code INSEE",
                    label_en="INSEE code",
                ),
                _NAME,
                Field(
                    "population",
                    "int",
                    minimum=0,
                    aliases=("pop", "nb_habitants"),
                    label_fr="Population",
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
                    aliases=("pop", "nb_habitants"),
                    label_fr="Population",
                    label_en="Population",
                ),
                Field(
                    "commune",
                    "str",
                    aliases=("insee_com", "code_commune"),
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
                _NAME,
                Field(
                    "kind",
                    "str",
                    required=True,
                    enum=FACILITY_KINDS,
                    enum_aliases=_FACILITY_ALIASES,
                    aliases=("type", "categorie", "catégorie", "nature"),
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
                    enum_aliases=_OPERATION_ALIASES,
                    aliases=("type", "type_operation", "opération"),
                    label_fr="Opération",
                    label_en="Operation",
                ),
                Field(
                    "dwellings",
                    "int",
                    required=True,
                    minimum=0,
                    aliases=("nb_logements", "logements", "nb_lgts"),
                    label_fr="Logements",
                    label_en="Dwellings",
                ),
                Field(
                    "housing_type",
                    "str",
                    enum=HOUSING_TYPES,
                    enum_aliases=_HOUSING_ALIASES,
                    aliases=("type_logement", "typologie"),
                    label_fr="Typologie",
                    label_en="Housing type",
                ),
                Field(
                    "tenure",
                    "str",
                    enum=TENURES,
                    enum_aliases=_TENURE_ALIASES,
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
                    enum_aliases=_SITE_TYPE_ALIASES,
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
                    aliases=("nb_arbres", "arbres", "nombre"),
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
                    aliases=("nb_logements", "logements", "nb_lgts"),
                    label_fr="Logements",
                    label_en="Dwellings",
                ),
                Field(
                    "population",
                    "float",
                    minimum=0,
                    aliases=("pop", "habitants", "nb_habitants"),
                    label_fr="Habitants",
                    label_en="Residents",
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
    )
}

#: The layer kinds a Territory holds, in display order.
LAYER_KINDS: tuple[str, ...] = tuple(SCHEMAS)

#: Layer kinds whose features take their official ``code`` as ``id`` when the file has none.
_CODE_IDS = ("quartiers", "communes")
_ID_ALIASES = ("id", "identifiant", "ident", "fid_")
_TRUE = {"1", "true", "vrai", "oui", "yes", "y", "o", "t"}
_FALSE = {"0", "false", "faux", "non", "no", "n", "f"}


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    if value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, str) and value.strip() == ""


def _rename_columns(
    gdf: gpd.GeoDataFrame, schema: LayerSchema, problems: list[Problem], where: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Rename aliased columns to canonical names; report two columns claiming one field."""
    geom_name = gdf.geometry.name
    lookup: dict[str, str] = {}
    for f in schema.fields:
        lookup[normalize_token(f.name)] = f.name
        for a in f.aliases:
            lookup.setdefault(normalize_token(a), f.name)
    for a in _ID_ALIASES:
        lookup[normalize_token(a)] = "id"
    renames: dict[str, str] = {}
    claimed: dict[str, str] = {}
    # Canonical names first, so a file holding both `name` and `nom` keeps `name`.
    cols = [c for c in gdf.columns if c != geom_name]
    cols.sort(key=lambda c: 0 if str(c) in schema.field_names or str(c) == "id" else 1)
    for col in cols:
        target = lookup.get(normalize_token(str(col)))
        if target is None:
            continue
        if target in claimed:
            if claimed[target] != target:  # two aliases for one field: ambiguous
                problems.append(
                    Problem(
                        f"columns {claimed[target]!r} and {col!r} both mean {target!r}; "
                        "keep one of them",
                        field=str(col),
                        **where,
                    )
                )
            continue
        claimed[target] = str(col)
        if col != target:
            renames[col] = target
    return gdf.rename(columns=renames)


def _coerce(
    values: pd.Series, f: Field, ids: pd.Series, problems: list[Problem], where: dict[str, Any]
) -> pd.Series:
    """Convert a column to the field's type, recording every feature that does not fit."""
    out: list[Any] = []
    for fid, v in zip(ids, values, strict=True):
        if _is_missing(v):
            if f.default is not None:
                out.append(f.default)
            else:
                if f.required:
                    problems.append(
                        Problem("value is missing (required)", feature=fid, field=f.name, **where)
                    )
                out.append(None)
            continue
        try:
            cv = _convert(v, f)
        except ValueError as exc:
            problems.append(Problem(str(exc), feature=fid, field=f.name, **where))
            out.append(None)
            continue
        out.append(cv)
    return _typed_series(out, f, values.index)


def _convert(v: Any, f: Field) -> Any:
    if f.dtype == "str":
        s = str(v).strip()
        if f.enum is not None:
            tok = normalize_token(s)
            if tok in f.enum:
                return tok
            if tok in f.enum_aliases:
                return f.enum_aliases[tok]
            raise ValueError(f"unknown value {s!r}; expected one of {', '.join(f.enum)}")
        return s
    if f.dtype == "bool":
        if isinstance(v, bool | np.bool_):
            return bool(v)
        tok = normalize_token(str(v))
        if tok in _TRUE:
            return True
        if tok in _FALSE:
            return False
        raise ValueError(f"{v!r} is not a yes/no value (expected true/false, oui/non, 1/0)")
    # numbers: accept French decimal commas in text
    if isinstance(v, str):
        text = v.strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
        try:
            num = float(text)
        except ValueError:
            raise ValueError(f"{v!r} is not a number") from None
    elif isinstance(v, bool | np.bool_):
        raise ValueError(f"{v!r} is not a number")
    else:
        try:
            num = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{v!r} is not a number") from None
    if not np.isfinite(num):
        raise ValueError(f"{v!r} is not a finite number")
    if f.dtype in ("int", "year"):
        if num != int(num):
            raise ValueError(f"{v!r} is not a whole number")
        num = int(num)
        if f.dtype == "year" and not YEAR_MIN <= num <= YEAR_MAX:
            raise ValueError(f"year {num} is outside {YEAR_MIN}–{YEAR_MAX}")
    if f.minimum is not None and num < f.minimum:
        raise ValueError(f"{v!r} is negative; expected a value >= {f.minimum:g}")
    return num


def _typed_series(values: list[Any], f: Field, index: pd.Index) -> pd.Series:
    if f.dtype in ("int", "year"):
        return pd.Series(values, index=index, dtype="Int64")
    if f.dtype == "float":
        return pd.Series([np.nan if v is None else v for v in values], index=index, dtype=float)
    if f.dtype == "bool":
        return pd.Series(values, index=index, dtype="boolean")
    return pd.Series(values, index=index, dtype=object)


def _check_ids(
    gdf: gpd.GeoDataFrame, kind: str, problems: list[Problem], where: dict[str, Any]
) -> pd.Series:
    if "id" not in gdf.columns:
        if kind in _CODE_IDS and "code" in gdf.columns:
            raw = gdf["code"]  # a quartier or commune is known by its official code
        else:
            return pd.Series(
                [str(i) for i in range(1, len(gdf) + 1)], index=gdf.index, dtype=object
            )
    else:
        raw = gdf["id"]
    ids = pd.Series(
        [None if _is_missing(v) else _id_text(v) for v in raw], index=gdf.index, dtype=object
    )
    for pos, v in enumerate(ids):
        if v is None:
            problems.append(Problem(f"feature #{pos + 1} has an empty id", field="id", **where))
    dup = ids[ids.notna() & ids.duplicated(keep=False)]
    for v in sorted(set(dup)):
        n = int((ids == v).sum())
        problems.append(
            Problem(
                f"id {v!r} is used by {n} features; ids must be unique",
                feature=v,
                field="id",
                **where,
            )
        )
    # keep rows addressable in later messages even when their id is empty
    return ids.where(ids.notna(), [f"#{i + 1}" for i in range(len(ids))])


def _id_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


_POLYGONAL = {"Polygon", "MultiPolygon"}


def _allowed_types(schema: LayerSchema) -> set[str]:
    allowed: set[str] = set()
    for g in schema.geometry:
        allowed.add(g)
        if g in ("Polygon", "LineString"):
            allowed.add("Multi" + g)
    return allowed


def _check_geometries(
    gdf: gpd.GeoDataFrame,
    schema: LayerSchema,
    ids: pd.Series,
    repair: bool,
    problems: list[Problem],
    where: dict[str, Any],
) -> tuple[gpd.GeoSeries, list[str]]:
    geoms = gdf.geometry.copy()
    allowed = _allowed_types(schema)
    repaired: list[str] = []
    invalid_ids: list[str] = []
    for pos, (fid, g) in enumerate(zip(ids, geoms, strict=True)):
        if g is None:
            problems.append(Problem("geometry is missing", feature=fid, **where))
            continue
        if g.is_empty:
            problems.append(Problem("geometry is empty", feature=fid, **where))
            continue
        if g.geom_type not in allowed:
            problems.append(
                Problem(
                    f"geometry is a {g.geom_type}; a {schema.kind} layer expects "
                    f"{' or '.join(sorted(allowed))}",
                    feature=fid,
                    **where,
                )
            )
            continue
        if not g.is_valid:
            reason = shapely.is_valid_reason(g)
            if not repair:
                invalid_ids.append(fid)
                problems.append(
                    Problem(
                        f"geometry is invalid ({reason}); read with repair=True to fix it "
                        "with shapely.make_valid, or fix it in QGIS (Vector > Geometry "
                        "Tools > Fix Geometries)",
                        feature=fid,
                        **where,
                    )
                )
                continue
            fixed = _make_valid(g)
            if fixed is None or fixed.is_empty or fixed.geom_type not in allowed:
                problems.append(
                    Problem(
                        f"geometry is invalid ({reason}) and could not be repaired",
                        feature=fid,
                        **where,
                    )
                )
                continue
            geoms.iloc[pos] = fixed
            repaired.append(f"{fid} ({reason})")
    return geoms, repaired


def _make_valid(g: Any) -> Any:
    """Repair a geometry, keeping only the parts of the input's dimension."""
    fixed = shapely.make_valid(g)
    if g.geom_type in _POLYGONAL and fixed.geom_type not in _POLYGONAL:
        polys = [p for p in shapely.get_parts(fixed) if p.geom_type in _POLYGONAL]
        parts: list[Any] = []
        for p in polys:
            parts.extend(shapely.get_parts(p))
        if not parts:
            return None
        fixed = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    return fixed


def validate(
    gdf: gpd.GeoDataFrame,
    kind: str,
    *,
    source: str | None = None,
    repair: bool = False,
    extra: Literal["keep", "drop"] = "keep",
) -> gpd.GeoDataFrame:
    """Validate a layer against its schema and return it with canonical fields.

    French field names and values are translated, types are converted, an ``id`` column is added
    when the layer has none (the ``code`` of quartiers and communes, else ``"1"``, ``"2"``... in
    file order; ids are always text), and every
    feature is checked: required values, enumerations, negative counts, years outside
    1950–2100, geometry type, empty and invalid geometries, duplicate ids, empty layer.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read. It is not modified.
    kind : str
        Layer kind, one of :data:`LAYER_KINDS`.
    source : str, optional
        File name used in the messages.
    repair : bool, default False
        Repair invalid geometries with :func:`shapely.make_valid` instead of refusing them; the
        repaired ids are listed in a :class:`~cdv_geo.CdvGeoWarning` and in
        ``result.attrs["repaired"]``.
    extra : {"keep", "drop"}, default "keep"
        What to do with columns the schema does not know (kept by default, after the schema's).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, the schema's fields in order, extra columns, ``geometry``.

    Raises
    ------
    DataValidationError
        Listing every problem found, each with file, layer, feature id and field.
    CRSError
        Not raised here: CRS checks belong to :func:`cdv_geo.read_layer`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> raw = gpd.GeoDataFrame({"nom": ["Aire de jeux"], "type": ["Aire de jeux d'eau"]},
    ...                        geometry=[Point(728400, 6920800)], crs=2154)
    >>> validate(raw, "facilities")[["id", "name", "kind"]]
       id          name             kind
    0   1  Aire de jeux  water_play_area
    """
    if kind not in SCHEMAS:
        raise DataValidationError(
            [
                Problem(
                    f"unknown layer kind {kind!r}; expected one of {', '.join(LAYER_KINDS)}",
                    file=source,
                )
            ]
        )
    schema = SCHEMAS[kind]
    where: dict[str, Any] = {"file": source, "layer": kind}
    problems: list[Problem] = []
    if len(gdf) == 0:
        raise DataValidationError(
            [
                Problem(
                    "layer is empty (no features); remove it from the project or fill it", **where
                )
            ]
        )
    work = _rename_columns(gdf, schema, problems, where)
    ids = _check_ids(work, kind, problems, where)
    n = len(work)
    out: dict[str, Any] = {"id": ids.to_numpy()}
    for f in schema.fields:
        if f.name in work.columns:
            out[f.name] = _coerce(work[f.name], f, ids, problems, where).to_numpy()
        elif f.default is not None:
            out[f.name] = _typed_series([f.default] * n, f, work.index).to_numpy()
        else:
            if f.required:
                problems.append(
                    Problem(
                        f"required field is missing (accepted names: "
                        f"{', '.join((f.name, *f.aliases))})",
                        field=f.name,
                        **where,
                    )
                )
            out[f.name] = _typed_series([None] * n, f, work.index).to_numpy()
    if kind == "residences":
        _check_residence_weights(out, ids, problems, where)
    geoms, repaired = _check_geometries(work, schema, ids, repair, problems, where)
    if problems:
        raise DataValidationError(
            problems,
            summary=f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in "
            f"{kind} layer{' ' + source if source else ''}:",
        )
    known = {"id", *schema.field_names, work.geometry.name}
    result = pd.DataFrame(out, index=pd.RangeIndex(n))
    for f in schema.fields:  # keep pandas nullable dtypes
        result[f.name] = _typed_series(list(out[f.name]), f, result.index)
    if extra == "keep":
        for col in work.columns:
            if col not in known:
                result[col] = work[col].to_numpy()
    res = gpd.GeoDataFrame(result, geometry=list(geoms), crs=gdf.crs)
    res.attrs["kind"] = kind
    res.attrs["source"] = source
    res.attrs["repaired"] = repaired
    if repaired:
        warnings.warn(
            f"{kind} layer{' ' + source if source else ''}: repaired {len(repaired)} invalid "
            f"geometr{'y' if len(repaired) == 1 else 'ies'} with shapely.make_valid: "
            + "; ".join(repaired)
            + ". Check them in QGIS; fix the source file to silence this warning.",
            CdvGeoWarning,
            stacklevel=2,
        )
    return res


def _check_residence_weights(
    out: dict[str, Any], ids: pd.Series, problems: list[Problem], where: dict[str, Any]
) -> None:
    dw = pd.Series(out["dwellings"])
    pop = pd.Series(out["population"])
    if dw.isna().all() and pop.isna().all():
        problems.append(
            Problem(
                "residences need a 'dwellings' (nb_logements) or 'population' (pop) field "
                "to weigh coverage",
                field="population",
                **where,
            )
        )
        return
    for fid, d, p in zip(ids, dw, pop, strict=True):
        if _is_missing(d) and _is_missing(p):
            problems.append(
                Problem(
                    "neither dwellings nor population is given",
                    feature=fid,
                    field="population",
                    **where,
                )
            )


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
        data[f.name] = _typed_series([], f, pd.RangeIndex(0))
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
            lines.append(f"  {f.name}: {f.dtype}, {req}{alias}{enum}")
    return "\n".join(lines)
