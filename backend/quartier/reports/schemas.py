"""msgspec schemas of the social report: the editorial sections planners write (bounded,
unknown fields refused), in German and — `translations`, the shared mechanism of
`core.translations` — in further languages, and the assembled report as the API returns it,
with the translations of the other staff-written texts it shows (the process's title and topic,
each measure's title and summary, each goal's statement) as they were when it was assembled or
released."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta, Struct, field

from quartier.core.translations import Translations
from quartier.ideas import schemas as ideas
from quartier.indicators import schemas as indicators
from quartier.measures import delivery_schemas as delivery
from quartier.measures import schemas as measures
from quartier.measures.models import MeasureStatus
from quartier.processes import schemas as processes
from quartier.surveys import aggregation

SECTION_MAX = 20_000
# One text per editorial section; NUL is refused by the middleware, the pattern says so.
SectionText = Annotated[
    str,
    Meta(
        max_length=SECTION_MAX,
        pattern=r"^[^\x00]*$",
        description="Plain text; blank lines separate paragraphs",
    ),
]
LevelKey = Annotated[
    str,
    Meta(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$", examples=["district"]),
]

SECTION_KEYS = ("introduction", "needs", "measures", "evaluation", "outlook")
ReportStatus = Literal["draft", "released"]
TranslatedSectionText = Annotated[
    str,
    Meta(
        max_length=SECTION_MAX,
        pattern=r"^[^\x00]*$",
        description="The section in this language (plain text; blank lines separate "
        "paragraphs); empty: the German text",
    ),
]


class EditorialSections(Struct, kw_only=True, forbid_unknown_fields=True):
    """What the planners write; every section may stay empty (then it is left out)."""

    introduction: Annotated[SectionText, Meta(description="Foreword and summary")] = ""
    needs: Annotated[SectionText, Meta(description="Commentary on the assessed needs")] = ""
    measures: Annotated[SectionText, Meta(description="Commentary on goals and measures")] = ""
    evaluation: Annotated[SectionText, Meta(description="Commentary on delivery and impact")] = ""
    outlook: Annotated[
        SectionText, Meta(description="Conclusions and recommendations for the next cycle")
    ] = ""


class SectionsText(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """The editorial sections in one language beside German (a section left empty is shown in
    German, with a note saying so)."""

    introduction: TranslatedSectionText = ""
    needs: TranslatedSectionText = ""
    measures: TranslatedSectionText = ""
    evaluation: TranslatedSectionText = ""
    outlook: TranslatedSectionText = ""


class SectionsTranslations(Translations[SectionsText]):
    """The editorial sections per language beside German: English, easy-read German
    (`de-x-simple`), Turkish, Arabic. Only languages the deployment enables are accepted."""


# One description wherever SectionsTranslations is used: the component's description is taken
# from whichever use the schema generator meets first, which is not a fixed order.
TRANSLATIONS_DESCRIPTION = "The editorial sections in languages beside German"


class TitleText(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """The report's title and topic (its planning process's) in one language beside German
    (what is empty is shown in German, with a note saying so)."""

    title: processes.TranslatedTitle = ""
    topic: processes.TranslatedTopic = ""


class TitleTranslations(Translations[TitleText]):
    """The report's title and topic per language beside German, as the planning process gives
    them (the process's own translations, `ProcessTranslations`)."""


TITLE_TRANSLATIONS_DESCRIPTION = (
    "The title and topic (the planning process's) in languages beside German"
)


class ReportSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """The body of UpdateSocialReportSections: the sections, optionally the area level
    the report shows needs and indicators at (default: the finest level of the process's
    social areas), and the sections in further languages."""

    sections: EditorialSections
    level: LevelKey | None = None
    translations: Annotated[SectionsTranslations, Meta(description=TRANSLATIONS_DESCRIPTION)] = (
        field(default_factory=SectionsTranslations)
    )


class Release(Struct, kw_only=True):
    released_at: datetime.datetime
    released_by: Annotated[
        str | None, Meta(description="Who released it; null for residents (no staff names)")
    ]


class Gap(Struct, kw_only=True):
    """An area the planners marked as having a gap in a need category (indicators module)."""

    area_code: str
    area_name: str
    need_category: str
    need_label: str
    note: str


class ReportNeeds(Struct, kw_only=True):
    """Residents' expressed needs: the surveys' disclosure-controlled aggregated needs (pooled
    over the process's surveys) and the ideas aggregates, both by the cell key method."""

    surveys: list[aggregation.SurveyRef]
    k_threshold: int
    min_respondents: int
    disclosure_method: str
    respondents: Annotated[
        int | None, Meta(description="All respondents (perturbed); null when withheld")
    ]
    categories: list[aggregation.CategoryRef]
    totals: Annotated[list[aggregation.NeedFigure], Meta(description="Over the whole scope")]
    areas: list[aggregation.AreaNeeds]
    withheld_areas: int
    unavailable: Annotated[
        str | None, Meta(description="Why there are no survey figures, if there are none")
    ] = None


class ReportIdeas(Struct, kw_only=True):
    disclosure_method: str
    min_respondents: int
    cells: Annotated[
        list[ideas.AggregateCell],
        Meta(description="Area × need category cells with ideas, and protected areas"),
    ]


class ReportIndicator(Struct, kw_only=True):
    key: str
    name: str
    unit: str
    direction: indicators.Direction
    decimals: int
    source: str
    licence: str
    need_categories: list[str]
    reference_date: datetime.date | None
    values: Annotated[
        list[indicators.AreaValue], Meta(description="The report's areas at its level")
    ]
    unavailable: Annotated[
        str | None, Meta(description="Why there are no values at this level")
    ] = None


class ReportGoal(Struct, kw_only=True):
    id: UUID
    parent_id: UUID | None
    statement: str
    need_categories: list[measures.CategoryRef]
    areas: list[measures.AreaRef]
    target_groups: list[str]
    translations: Annotated[
        measures.GoalTranslations, Meta(description="The statement in languages beside German")
    ] = field(default_factory=measures.GoalTranslations)


class ReportMeasure(Struct, kw_only=True):
    id: UUID
    title: str
    summary: str
    status: MeasureStatus
    evaluation: Annotated[
        delivery.Evaluation | None,
        Meta(description="The public evaluation, once an assessment is recorded"),
    ]
    translations: Annotated[
        measures.MeasureTranslations,
        Meta(description="Title and summary in languages beside German"),
    ] = field(default_factory=measures.MeasureTranslations)


class SocialReport(Struct, kw_only=True):
    """The social report of one cycle of a planning process. Every figure derived from
    residents comes from the disclosure-controlled services (stats.cellkey); released reports
    are returned as released."""

    process_id: UUID
    title: str
    topic: str
    cycle: int
    status: ReportStatus
    release: Release | None
    generated_at: datetime.datetime
    level: aggregation.LevelRef | None
    mandate: processes.Mandate
    sections: EditorialSections
    needs: ReportNeeds | None
    ideas: ReportIdeas | None
    gaps: list[Gap]
    indicators: list[ReportIndicator]
    goals: list[ReportGoal]
    measures: list[ReportMeasure]
    previous_process_id: UUID | None = None
    next_process_id: UUID | None = None
    starting_point: Annotated[
        list[Gap],
        Meta(
            description="The gaps of the previous cycle's released report: where this cycle's "
            "needs assessment started"
        ),
    ] = []
    translations: Annotated[SectionsTranslations, Meta(description=TRANSLATIONS_DESCRIPTION)] = (
        field(default_factory=SectionsTranslations)
    )
    title_translations: Annotated[
        TitleTranslations, Meta(description=TITLE_TRANSLATIONS_DESCRIPTION)
    ] = field(default_factory=TitleTranslations)
