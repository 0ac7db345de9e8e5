"""Request and response bodies of the social-areas API (msgspec), and the import report.

GeoJSON input is typed as far as the import needs: the members that common producers write
(`name`, `crs`, `bbox`, feature `id`) are declared and anything else is refused, like every
other input. Coordinates stay untyped here so that a malformed geometry is reported per
feature in the import report instead of failing the whole request.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from quartier.areas.models import BAND_KEY_MAX, CODE_MAX, LEVEL_KEY_MAX, LEVEL_NAME_MAX, NAME_MAX
from quartier.core.errors import FieldError

LevelKey = Annotated[
    str,
    msgspec.Meta(
        pattern=f"^[a-z][a-z0-9_]{{0,{LEVEL_KEY_MAX - 1}}}$",
        description="Level key: lower case letters, digits and underscores, e.g. `district`.",
        examples=["district"],
    ),
]
PropertyName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
MAX_FEATURES = 50_000
MAX_CSV_CHARS = 64 * 1_048_576

# -- GeoJSON input -----------------------------------------------------------------------------


class NamedCrs(msgspec.Struct, forbid_unknown_fields=True):
    """The GeoJSON 2008 `crs` member, e.g. `{"type": "name", "properties": {"name":
    "EPSG:25833"}}`. RFC 7946 dropped it, but real data still carries it."""

    type: Annotated[str, msgspec.Meta(max_length=20)]
    properties: Annotated[dict[str, Any], msgspec.Meta(max_length=10)]


class GeometryIn(msgspec.Struct, forbid_unknown_fields=True):
    type: Annotated[str, msgspec.Meta(max_length=40)]
    coordinates: Any = None
    # A GeometryCollection's members: read so that the import refuses that feature by name
    # (the type is not supported) instead of refusing the whole file as unreadable.
    geometries: Annotated[list[Any], msgspec.Meta(max_length=1000)] | None = None
    bbox: Annotated[list[float], msgspec.Meta(max_length=6)] | None = None


class FeatureIn(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["Feature"]
    properties: Annotated[dict[str, Any], msgspec.Meta(max_length=500)] | None = None
    geometry: GeometryIn | None = None
    id: Annotated[str, msgspec.Meta(max_length=200)] | int | None = None
    bbox: Annotated[list[float], msgspec.Meta(max_length=6)] | None = None


class FeatureCollectionIn(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["FeatureCollection"]
    features: Annotated[list[FeatureIn], msgspec.Meta(max_length=MAX_FEATURES)]
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    crs: NamedCrs | None = None
    bbox: Annotated[list[float], msgspec.Meta(max_length=6)] | None = None


# -- import request ----------------------------------------------------------------------------


class LevelImport(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One level of the hierarchy, listed from the top level down."""

    key: LevelKey
    name_de: Annotated[str, msgspec.Meta(min_length=1, max_length=LEVEL_NAME_MAX)] | None = None
    name_en: Annotated[str, msgspec.Meta(min_length=1, max_length=LEVEL_NAME_MAX)] | None = None
    geojson: Annotated[
        FeatureCollectionIn,
        msgspec.Meta(description="The level's areas as a GeoJSON FeatureCollection."),
    ]
    code_property: PropertyName = "id"
    name_property: PropertyName = "name"
    parent_property: PropertyName | None = None
    area_property: PropertyName | None = "area"
    crs: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=200,
                description="CRS of the coordinates when the collection declares none, e.g. "
                "`EPSG:25833`.",
            ),
        ]
        | None
    ) = None


class PopulationImport(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Population figures as CSV keyed by area code (columns as in Berlin's t2 table:
    `inhabitants`, `inhabitants_age_<band>`, `inhabitants_female`)."""

    reference_date: datetime.date
    csv: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CSV_CHARS)]
    code_column: PropertyName = "id"


AreaCode = Annotated[str, msgspec.Meta(min_length=1, max_length=CODE_MAX)]
MAX_SUCCESSIONS = 1000
MAX_SUCCESSORS = 50


class SuccessionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A stored area missing from the import, retired as of the import's `valid_from`, and the
    areas that take its place (codes in the import or stored areas still valid)."""

    code: Annotated[AreaCode, msgspec.Meta(description="Code of the area to retire.")]
    successors: Annotated[
        list[AreaCode],
        msgspec.Meta(
            min_length=1,
            max_length=MAX_SUCCESSORS,
            description="Codes of the areas that take its place, e.g. its new number.",
        ),
    ]


# One line of text: no control characters (no line breaks either).
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f]*$"


class Provenance(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Where imported area data comes from. Stored on every level the import touches (its
    boundaries or its areas' population) and repeated by every export of those levels."""

    source: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=500,
            pattern=NO_CONTROL_PATTERN,
            description="Publisher and, where there is one, the address of the data, e.g. "
            "`Amt für Statistik Berlin-Brandenburg, https://daten.berlin.de/…`.",
        ),
    ]
    licence: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=200,
            pattern=NO_CONTROL_PATTERN,
            description="The licence, e.g. `CC BY 4.0` or `dl-de/by-2-0`.",
        ),
    ]
    attribution: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=1000,
            pattern=NO_CONTROL_PATTERN,
            description="The attribution the licence requires, repeated by every export.",
        ),
    ]


class ProvenanceOut(msgspec.Struct, kw_only=True):
    source: str | None
    licence: str | None
    attribution: Annotated[
        str,
        msgspec.Meta(
            description="As recorded at import, or the deployment's configured attribution of "
            "area data when the import stated none."
        ),
    ]


class ImportRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Levels (GeoJSON, top level first) and/or population tables to import in one transaction."""

    levels: Annotated[list[LevelImport], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=list
    )
    population: Annotated[list[PopulationImport], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=list
    )
    parent_level: Annotated[
        LevelKey | None,
        msgspec.Meta(
            description="Import the levels below the stored areas of this level (e.g. one new "
            "or changed level on its own). Without it, the first level's stored depth is used "
            "when it exists, else the levels start at the top."
        ),
    ] = None
    confirm_warnings: Annotated[
        bool,
        msgspec.Meta(
            description="Confirm the plausibility warnings of the report (rows with "
            "`needs_confirmation`): without it, an import with such warnings changes nothing "
            "and is answered with the problem `import-needs-confirmation`."
        ),
    ] = False
    valid_from: Annotated[
        datetime.date | None,
        msgspec.Meta(
            description="The date the import's changes take effect (default today): a changed "
            "boundary becomes a new version valid from it (the previous one stays readable "
            "for earlier dates), retired areas end the day before, and new areas start on it. "
            "Without it, the areas of a level imported for the first time are valid since "
            "ever."
        ),
    ] = None
    retire_missing: Annotated[
        bool,
        msgspec.Meta(
            description="Retire the stored areas of the imported levels that the import does "
            "not contain, as of `valid_from`. Without it (and without `successors` naming "
            "them) such areas are a warning to confirm: confirming keeps them valid."
        ),
    ] = False
    provenance: Annotated[
        Provenance | None,
        msgspec.Meta(
            description="Source, licence and attribution of the imported data: recorded on "
            "the imported levels (and on the levels whose population the import sets) and "
            "repeated by their exports. Without it, what a level has recorded stays."
        ),
    ] = None
    successors: Annotated[
        list[SuccessionIn],
        msgspec.Meta(
            max_length=MAX_SUCCESSIONS,
            description="Areas missing from the import to retire as of `valid_from`, each with "
            "the areas that take its place (e.g. a renumbered area and its new code).",
        ),
    ] = msgspec.field(default_factory=list)


# -- import report -----------------------------------------------------------------------------

Severity = Literal["error", "warning"]


class ReportRow(msgspec.Struct, kw_only=True, omit_defaults=False):
    """One finding of an import. `feature` is the 0-based index in the level's collection,
    `line` the 1-based CSV line (the header is line 1)."""

    severity: Severity
    source: str
    message: str
    code: str | None = None
    feature: int | None = None
    line: int | None = None
    field: str | None = None
    needs_confirmation: Annotated[
        bool,
        msgspec.Meta(
            description="A plausibility warning (a boundary far from its previous version or "
            "its parent, overlapping siblings, a child outside its parent, population codes "
            "that match nothing): the import stores nothing unless it is confirmed."
        ),
    ] = False


class LevelSummary(msgspec.Struct, kw_only=True):
    key: str
    depth: int
    features: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    retired: Annotated[
        int, msgspec.Meta(description="Stored areas of the level retired by the import.")
    ] = 0


class PopulationSummary(msgspec.Struct, kw_only=True):
    rows: int = 0
    imported: int = 0
    skipped: int = 0
    inhabitants_read: int = 0
    inhabitants_imported: int = 0
    reference_dates: list[datetime.date] = msgspec.field(default_factory=list)
    age_bands: list[str] = msgspec.field(default_factory=list)


class AreaChange(msgspec.Struct, kw_only=True):
    """One change an import makes to a stored area."""

    code: Annotated[str, msgspec.Meta(max_length=CODE_MAX)]
    level: str
    field: Annotated[
        Literal["name", "parent", "boundary"],
        msgspec.Meta(description="`parent` gives the parents' codes."),
    ]
    before: Annotated[
        str | None, msgspec.Meta(description="The earlier name or parent code (boundary: null).")
    ] = None
    after: Annotated[
        str | None, msgspec.Meta(description="The new name or parent code (boundary: null).")
    ] = None
    valid_from: Annotated[
        datetime.date,
        msgspec.Meta(
            description="First day of the new value. A version that started that very day is "
            "corrected in place; otherwise the earlier value is kept for earlier dates."
        ),
    ]


class ImportReport(msgspec.Struct, kw_only=True):
    """What an import did (or, when `ok` is false, why it changed nothing)."""

    ok: bool
    errors: int
    warnings: int
    needs_confirmation: Annotated[
        int, msgspec.Meta(description="How many of the warnings must be confirmed.")
    ] = 0
    levels: list[LevelSummary]
    population: PopulationSummary
    rows: list[ReportRow]
    rows_omitted: int = 0
    changes: Annotated[
        list[AreaChange],
        msgspec.Meta(
            description="What the import changes in stored areas that stay valid: a new name, "
            "another parent, a new boundary, each from `valid_from` (the earlier value is kept "
            "for earlier dates). Areas created or retired are counted in `levels`."
        ),
    ] = msgspec.field(default_factory=list)


class ImportProblem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details of a failed import: `errors` names each field in error (a path
    into the request body) and `report` is the full import report."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None
    report: ImportReport | None = None


# -- responses ---------------------------------------------------------------------------------


class AreaLevelOut(msgspec.Struct, kw_only=True):
    key: str
    depth: Annotated[int, msgspec.Meta(description="0 is the top level.")]
    name: Annotated[str, msgspec.Meta(description="In the negotiated language.")]
    name_de: str
    name_en: str
    area_count: int
    provenance: ProvenanceOut


class AreaLevelList(msgspec.Struct, kw_only=True):
    items: list[AreaLevelOut]


class LevelRef(msgspec.Struct, kw_only=True):
    key: str
    depth: int
    name: str


class AgeBandCount(msgspec.Struct, kw_only=True):
    key: Annotated[str, msgspec.Meta(max_length=BAND_KEY_MAX, examples=["6_15"])]
    label: Annotated[str, msgspec.Meta(examples=["6 to under 15"])]
    min_age: int
    max_age: Annotated[int | None, msgspec.Meta(description="Exclusive; null = open-ended.")]
    count: int


class PopulationOut(msgspec.Struct, kw_only=True):
    """Inhabitants on the latest reference date; for an area with sub-areas, the sum over its
    sub-areas. `female` and each age band are given only when every sub-area has them."""

    reference_date: datetime.date
    total: int
    female: int | None
    age_bands: list[AgeBandCount]


class MultiPolygonOut(msgspec.Struct, kw_only=True):
    type: Literal["MultiPolygon"]
    coordinates: list[list[list[list[float]]]]


class VersionOut(msgspec.Struct, kw_only=True):
    """The period of the boundary version given (null: open)."""

    valid_from: datetime.date | None
    valid_to: Annotated[
        datetime.date | None, msgspec.Meta(description="Exclusive: the first day of the next.")
    ]


class SocialAreaOut(msgspec.Struct, kw_only=True):
    id: UUID
    code: Annotated[str, msgspec.Meta(max_length=CODE_MAX, examples=["01011101"])]
    name: Annotated[str, msgspec.Meta(max_length=NAME_MAX)]
    level: LevelRef
    parent_id: UUID | None
    parent_code: str | None
    area_m2: Annotated[float, msgspec.Meta(description="Geodesic area on the WGS 84 ellipsoid.")]
    bbox: Annotated[
        list[float], msgspec.Meta(description="[min_lon, min_lat, max_lon, max_lat], WGS 84.")
    ]
    population: PopulationOut | None
    boundary: Annotated[
        MultiPolygonOut | None,
        msgspec.Meta(description="GeoJSON (WGS 84); only with `include=boundary`."),
    ] = None
    valid_from: Annotated[
        datetime.date | None, msgspec.Meta(description="First day of the area; null: always.")
    ] = None
    valid_to: Annotated[
        datetime.date | None,
        msgspec.Meta(description="First day the area no longer exists; null: still valid."),
    ] = None
    version: Annotated[
        VersionOut | None,
        msgspec.Meta(
            description="The boundary version given (`boundary`, `bbox`, `area_m2`): the one "
            "valid on the date asked for (`at`)."
        ),
    ] = None
    predecessors: Annotated[
        list[str], msgspec.Meta(description="Codes of the retired areas this one replaced.")
    ] = msgspec.field(default_factory=list)
    successors: Annotated[
        list[str], msgspec.Meta(description="Codes of the areas that replaced this one.")
    ] = msgspec.field(default_factory=list)


class SocialAreaList(msgspec.Struct, kw_only=True):
    items: list[SocialAreaOut]


class PointLookup(msgspec.Struct, kw_only=True):
    lat: float
    lon: float
    items: Annotated[
        list[SocialAreaOut],
        msgspec.Meta(description="The areas containing the point, top level first."),
    ]


class AreaVersionOut(msgspec.Struct, kw_only=True):
    """One version of an area: its boundary, name and parent in that period."""

    valid_from: Annotated[
        datetime.date | None, msgspec.Meta(description="null: since the area exists.")
    ]
    valid_to: Annotated[
        datetime.date | None,
        msgspec.Meta(description="Exclusive; null: the current (newest) version."),
    ]
    area_m2: float
    bbox: list[float]
    boundary: MultiPolygonOut | None = None
    name: Annotated[
        Annotated[str, msgspec.Meta(max_length=NAME_MAX)] | None,
        msgspec.Meta(description="The area's name in this period."),
    ] = None
    parent_id: Annotated[
        UUID | None, msgspec.Meta(description="The area's parent in this period; null: none.")
    ] = None
    parent_code: Annotated[
        Annotated[str, msgspec.Meta(max_length=CODE_MAX)] | None,
        msgspec.Meta(description="The parent's code in this period."),
    ] = None


class AreaVersionList(msgspec.Struct, kw_only=True):
    items: Annotated[list[AreaVersionOut], msgspec.Meta(description="Oldest first.")]
