"""Request and response bodies of goals, measures, consultations and feedback (msgspec).

Inputs forbid unknown fields and bound every string, number and list.

Texts residents read of a measure (title, summary, the sections' headings and texts) and of a
goal (its statement) are German in their own fields, as in v1 from the start; `translations`
gives them in further languages, one object per language (`core.translations`), bounded like
the German text.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta, Struct, field

from quartier.core.translations import Translations
from quartier.measures.models import MeasureStatus, ModerationStatus, RespondentKind, Stance

Key = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Statement = Annotated[str, Meta(min_length=1, max_length=2_000)]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, Meta(max_length=500)]
LongText = Annotated[str, Meta(max_length=20_000)]
Reason = Annotated[str, Meta(min_length=1, max_length=2_000, description="Why (recorded)")]
AreaCode = Annotated[str, Meta(min_length=1, max_length=32)]
AreaCodes = Annotated[list[AreaCode], Meta(max_length=500)]
NeedKeys = Annotated[list[Key], Meta(max_length=50, description="Need category keys")]
TargetGroup = Annotated[str, Meta(min_length=1, max_length=200)]
TargetGroups = Annotated[list[TargetGroup], Meta(max_length=30)]
Url = Annotated[str, Meta(max_length=500, pattern=r"^https?://[^\x00-\x20\x7f]+$")]
CommentText = Annotated[str, Meta(min_length=1, max_length=4_000)]
Rating = Annotated[int, Meta(ge=1, le=5)]


TranslatedTitle = Annotated[
    str, Meta(max_length=200, description="Title in this language; empty: the German title")
]
TranslatedSummary = Annotated[
    str, Meta(max_length=4_000, description="Summary in this language; empty: the German one")
]
TranslatedBody = Annotated[
    str, Meta(max_length=20_000, description="Text in this language; empty: the German text")
]

TranslatedStatement = Annotated[
    str, Meta(max_length=2_000, description="Statement in this language; empty: the German one")
]


# -- goals ---------------------------------------------------------------------------------------


class GoalText(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A goal's statement in one language beside German (left empty, it is shown in German,
    with a note saying so)."""

    statement: TranslatedStatement = ""


class GoalTranslations(Translations[GoalText]):
    """The statement per language beside German: English, easy-read German (`de-x-simple`),
    Turkish, Arabic. Only languages the deployment enables are accepted."""


class SurveyFigureEvidence(
    Struct, kw_only=True, forbid_unknown_fields=True, tag="survey_figure", tag_field="kind"
):
    """A need category's share in a social area from a survey's aggregated needs; the figure
    as published at the time is stored with the link."""

    survey_id: UUID
    need_category: Key
    area_code: AreaCode


class LinkEvidence(Struct, kw_only=True, forbid_unknown_fields=True, tag="link", tag_field="kind"):
    """Any other source: a report, an indicator, a document."""

    label: Title
    url: Url


class IdeaEvidence(Struct, kw_only=True, forbid_unknown_fields=True, tag="idea", tag_field="kind"):
    """A published idea of the process that shows the need (its title is stored with the
    link)."""

    idea_id: UUID


EvidenceInput = SurveyFigureEvidence | LinkEvidence | IdeaEvidence


class GoalInput(Struct, kw_only=True, forbid_unknown_fields=True):
    """A goal's content; every save is a new version (which keeps only the translations sent
    with it)."""

    statement: Statement
    need_categories: NeedKeys = field(default_factory=list)
    area_codes: AreaCodes = field(default_factory=list)
    target_groups: TargetGroups = field(default_factory=list)
    evidence: Annotated[list[EvidenceInput], Meta(max_length=30)] = field(default_factory=list)
    # One description wherever GoalTranslations is used: the component's description is taken
    # from whichever use the schema generator meets first, which is not a fixed order.
    translations: Annotated[
        GoalTranslations, Meta(description="The statement in languages beside German")
    ] = field(default_factory=GoalTranslations)


class GoalCreate(GoalInput, kw_only=True, forbid_unknown_fields=True):
    parent_id: Annotated[UUID | None, Meta(description="A sub-goal's goal (one level)")] = None


class FigureSnapshot(Struct, kw_only=True):
    """The figure as it was published when the evidence was linked (disclosure-controlled)."""

    survey_id: UUID
    survey_title: str
    need_category: str
    area_code: str
    area_name: str
    respondents: int | None
    expressing: int | None
    share: float | None
    share_low: float | None
    share_high: float | None
    suppressed: bool
    k_threshold: int
    published_at: datetime


class Evidence(Struct, kw_only=True):
    kind: Literal["survey_figure", "link", "idea"]
    label: str
    url: str | None = None
    figure: FigureSnapshot | None = None
    idea_id: Annotated[UUID | None, Meta(description="The idea (kind `idea`)")] = None


class CategoryRef(Struct, kw_only=True):
    key: str
    label: str


class AreaRef(Struct, kw_only=True):
    id: UUID
    code: str
    name: str


class Goal(Struct, kw_only=True):
    id: UUID
    process_id: UUID
    parent_id: UUID | None
    version: int
    statement: str
    need_categories: list[CategoryRef]
    areas: list[AreaRef]
    target_groups: list[str]
    evidence: list[Evidence]
    author_name: str
    created_at: datetime
    updated_at: datetime
    sub_goals: list[UUID] = field(default_factory=list)
    translations: Annotated[
        GoalTranslations, Meta(description="The statement in languages beside German")
    ] = field(default_factory=GoalTranslations)


# -- measures ------------------------------------------------------------------------------------


class MeasureText(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A measure's title and summary in one language beside German (what is left empty is
    shown in German, with a note saying so)."""

    title: TranslatedTitle = ""
    summary: TranslatedSummary = ""


class MeasureTranslations(Translations[MeasureText]):
    """Title and summary per language beside German: English, easy-read German
    (`de-x-simple`), Turkish, Arabic. Only languages the deployment enables are accepted."""


class SectionText(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A section's heading and text in one language beside German (what is left empty is
    shown in German, with a note saying so)."""

    title: TranslatedTitle = ""
    body: TranslatedBody = ""


class SectionTranslations(Translations[SectionText]):
    """A section's heading and text per language beside German (as for the measure's)."""


ResourceUnit = Literal["fte", "eur", "rooms", "material"]
ResourcePeriod = Literal["once", "per_year", "per_month", "per_week"]


class ResourceLine(Struct, kw_only=True, forbid_unknown_fields=True):
    """One resource the measure needs: e.g. 1.5 FTE per year, 80,000 EUR per year, 2 rooms."""

    label: Title
    amount: Annotated[float, Meta(ge=0, le=1_000_000_000)]
    unit: ResourceUnit
    period: ResourcePeriod


class Criterion(Struct, kw_only=True, forbid_unknown_fields=True):
    """A criterion of success: indicator, baseline, target, by when, and how it is measured."""

    indicator: Title
    baseline: ShortText = ""
    target: ShortText
    due: date | None = None
    method: ShortText = ""


class Section(Struct, kw_only=True, forbid_unknown_fields=True):
    """A part of the body people can comment on one by one."""

    key: Key
    title: Title
    body: LongText
    translations: Annotated[
        SectionTranslations,
        Meta(description="Heading and text in languages beside German"),
    ] = field(default_factory=SectionTranslations)


class MeasureInput(Struct, kw_only=True, forbid_unknown_fields=True):
    """A measure's content; every save is a new version."""

    title: Title
    summary: Annotated[str, Meta(max_length=4_000)] = ""
    goal_ids: Annotated[list[UUID], Meta(max_length=30)] = field(default_factory=list)
    idea_ids: Annotated[
        list[UUID],
        Meta(
            max_length=100,
            description="Ideas of the process the planners accepted (official status accepted "
            "or implemented) that led to this measure; each idea then shows the measure",
        ),
    ] = field(default_factory=list)
    area_codes: AreaCodes = field(default_factory=list)
    target_groups: TargetGroups = field(default_factory=list)
    resources: Annotated[list[ResourceLine], Meta(max_length=50)] = field(default_factory=list)
    provider_id: Annotated[UUID | None, Meta(description="Intended provider")] = None
    criteria: Annotated[list[Criterion], Meta(max_length=30)] = field(default_factory=list)
    sections: Annotated[list[Section], Meta(max_length=30)] = field(default_factory=list)
    translations: Annotated[
        MeasureTranslations,
        Meta(
            description="Title and summary in languages beside German (a new version keeps "
            "only those sent)"
        ),
    ] = field(default_factory=MeasureTranslations)


class OrganisationRef(Struct, kw_only=True):
    id: UUID
    name: str


class IdeaRef(Struct, kw_only=True):
    """An idea residents gave that led to the measure (its own title, as the resident wrote
    it)."""

    id: UUID
    title: str
    official_status: str | None


class MeasureVersion(Struct, kw_only=True):
    version: int
    title: str
    summary: str
    goal_ids: list[UUID]
    areas: list[AreaRef]
    target_groups: list[str]
    resources: list[ResourceLine]
    provider: OrganisationRef | None
    criteria: list[Criterion]
    sections: list[Section]
    author_name: str
    created_at: datetime
    translations: Annotated[
        MeasureTranslations, Meta(description="Title and summary in languages beside German")
    ] = field(default_factory=MeasureTranslations)
    ideas: Annotated[
        list[IdeaRef], Meta(description="The accepted ideas that led to this measure")
    ] = field(default_factory=list)


class Measure(Struct, kw_only=True):
    id: UUID
    process_id: UUID
    status: MeasureStatus
    current_version: int
    created_at: datetime
    updated_at: datetime
    content: MeasureVersion
    consultation: Consultation | None = None


class MeasureSummary(Struct, kw_only=True):
    id: UUID
    process_id: UUID
    status: MeasureStatus
    current_version: int
    title: str
    summary: str
    updated_at: datetime
    translations: Annotated[
        MeasureTranslations, Meta(description="Title and summary in languages beside German")
    ] = field(default_factory=MeasureTranslations)


class Change(Struct, kw_only=True):
    """One difference between two versions."""

    field: Annotated[str, Meta(description="e.g. `title`, `resources[1]`, `sections.costs`")]
    change: Literal["added", "removed", "changed"]
    before: str | None
    after: str | None
    lines: Annotated[list[str], Meta(description="A unified diff of the text, for long texts")]


class VersionDiff(Struct, kw_only=True):
    measure_id: UUID
    from_version: int
    to_version: int
    changes: list[Change]


class TransitionInput(Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class AdoptionInput(Struct, kw_only=True, forbid_unknown_fields=True):
    """The council's adoption: why, and the decision itself as the council records it."""

    reason: Reason
    decision_body: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=200,
                description="Who decided, e.g. `Ausschuss für Soziales und Gesundheit`",
            ),
        ]
        | None
    ) = None
    decision_reference: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=100,
                description="The decision's reference, e.g. `Drucksache 0815/2026`",
            ),
        ]
        | None
    ) = None
    decided_on: Annotated[
        date | None, Meta(description="Date of the decision; omitted: today (UTC)")
    ] = None


class CouncilDecision(Struct, kw_only=True):
    """The council's decision recorded with the adoption."""

    body: str | None
    reference: str | None
    decided_on: date


class Transition(Struct, kw_only=True):
    id: UUID
    from_status: MeasureStatus
    to_status: MeasureStatus
    version: int
    phase: str
    reason: str
    actor_name: str
    at: datetime
    decision: Annotated[
        CouncilDecision | None, Meta(description="With the adoption only: the council's decision")
    ] = None


# -- consultations and feedback ------------------------------------------------------------------


class CriterionDefinition(Struct, kw_only=True, forbid_unknown_fields=True):
    key: Key
    label: Title


class ConsultationInput(Struct, kw_only=True, forbid_unknown_fields=True):
    """Opens the consultation on the measure's current version (transition to
    `in_consultation`). Without dates it opens now and closes after `days` days."""

    reason: Reason
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    days: Annotated[int, Meta(ge=1, le=365)] = 28
    criteria: Annotated[list[CriterionDefinition], Meta(min_length=0, max_length=10)] = field(
        default_factory=lambda: [
            CriterionDefinition(key="relevance", label="Relevance"),
            CriterionDefinition(key="feasibility", label="Feasibility"),
            CriterionDefinition(key="reach", label="Reach of the target groups"),
        ]
    )
    summary_public: bool = True
    k_threshold: Annotated[int, Meta(ge=3, le=100)] = 5
    min_respondents: Annotated[int, Meta(ge=3, le=1000)] = 5


class Consultation(Struct, kw_only=True):
    id: UUID
    measure_id: UUID
    version: int
    opens_at: datetime
    closes_at: datetime
    is_open: bool
    criteria: list[CriterionDefinition]
    summary_public: bool
    k_threshold: int
    min_respondents: int


class CodesRequest(Struct, kw_only=True, forbid_unknown_fields=True):
    organisation_ids: Annotated[list[UUID], Meta(min_length=1, max_length=200)]


class IssuedCode(Struct, kw_only=True):
    organisation: OrganisationRef
    code: Annotated[str, Meta(description="Shown once; only a keyed hash is kept")]


class SectionComment(Struct, kw_only=True, forbid_unknown_fields=True):
    section: Key
    body: CommentText


class FeedbackSubmission(Struct, kw_only=True, forbid_unknown_fields=True):
    """One response. Residents and professionals stay anonymous; an organisation answers with
    the consultation code issued to it and is shown by name."""

    kind: RespondentKind = RespondentKind.RESIDENT
    stance: Stance
    ratings: Annotated[dict[Key, Rating], Meta(max_length=10)] = field(default_factory=dict)
    comments: Annotated[list[SectionComment], Meta(max_length=30)] = field(default_factory=list)
    general_comment: Annotated[str, Meta(max_length=4_000)] = ""
    area_code: AreaCode | None = None
    organisation_code: Annotated[str, Meta(min_length=4, max_length=64)] | None = None


class FeedbackReceipt(Struct, kw_only=True):
    receipt_code: str
    submitted_at: datetime
    organisation: OrganisationRef | None = None


# -- summary -------------------------------------------------------------------------------------


class Count(Struct, kw_only=True):
    key: str
    count: Annotated[
        int | None,
        Meta(
            description="Anonymous responses: perturbed by the cell key method (0 stands for 0 "
            "to k−1); null when the group is not shown. Organisations: their exact number."
        ),
    ]
    suppressed: Annotated[bool, Meta(description="null because the group is not shown")] = False
    reason: Annotated[
        Literal["protected"] | None,
        Meta(description="protected: the group is not shown (too few responses)"),
    ] = None


class MeanFigure(Struct, kw_only=True):
    """A criterion's ratings in a group: the perturbed distribution, and the mean, median and
    interval computed from it."""

    criterion: str
    label: str
    n: Annotated[int | None, Meta(description="Responses rating the criterion, perturbed")]
    mean: float | None
    low: Annotated[float | None, Meta(description="95% interval (t-based, normal for n ≥ 30)")]
    high: float | None
    distribution: list[Count]
    suppressed: bool = False
    median: float | None = None


class GroupSummary(Struct, kw_only=True):
    """The anonymous responses of one group (all, a kind, or a kind in an area)."""

    key: str
    label: str
    kind: str | None
    area_code: str | None
    respondents: Annotated[
        int | None, Meta(description="Responses, perturbed; null when the group is not shown")
    ]
    withheld: bool = False
    reason: Annotated[
        Literal["protected"] | None, Meta(description="protected: the group is not shown")
    ] = None
    stances: list[Count]
    criteria: list[MeanFigure]


class OrganisationStatement(Struct, kw_only=True):
    """An organisation's named response, never suppressed."""

    organisation: OrganisationRef
    stance: Stance
    ratings: dict[str, int]
    general_comment: str
    submitted_at: datetime


class CommentView(Struct, kw_only=True):
    section: str | None
    body: str
    kind: RespondentKind
    organisation: str | None


class ModeratedComment(Struct, kw_only=True):
    """A comment of a consultation as moderators see it: hidden ones too, with the last
    moderation step (who, when, why)."""

    id: UUID
    version: Annotated[int, Meta(description="The measure version the comment was given on")]
    section: Annotated[str | None, Meta(description="The section's key; null: general comment")]
    body: str
    kind: RespondentKind
    organisation: Annotated[str | None, Meta(description="The organisation's name, if one")]
    moderation: ModerationStatus
    hidden_reason: str | None
    moderated_by: str | None
    moderated_at: datetime | None
    created_at: datetime


class CommentModeration(Struct, kw_only=True, forbid_unknown_fields=True):
    """Publish a pending comment or restore a hidden one (`visible`), or hide a comment (with
    the reason, required). `pending` is refused (422)."""

    moderation: ModerationStatus
    reason: (
        Annotated[
            str, Meta(min_length=1, max_length=500, description="Why; required to hide (recorded)")
        ]
        | None
    ) = None


class SummaryMetadata(Struct, kw_only=True):
    measure_id: UUID
    version: int
    consultation_id: UUID
    opens_at: datetime
    closes_at: datetime
    k_threshold: int
    min_respondents: int
    interval_method: str
    generated_at: datetime
    suppressed_cells: Annotated[
        int, Meta(description="Figures left null because their group is not shown")
    ]
    withheld_groups: int
    disclosure_method: str


class FeedbackSummary(Struct, kw_only=True):
    metadata: SummaryMetadata
    responses_by_kind: list[Count]
    groups: list[GroupSummary]
    organisations: list[OrganisationStatement]
    comments: list[CommentView]


# -- traceability --------------------------------------------------------------------------------


class TraceMeasure(Struct, kw_only=True):
    id: UUID
    title: Annotated[str, Meta(description="The title in German")]
    status: MeasureStatus
    translations: Annotated[
        MeasureTranslations, Meta(description="Title and summary in languages beside German")
    ] = field(default_factory=MeasureTranslations)


class TraceGoal(Struct, kw_only=True):
    id: UUID
    statement: Annotated[str, Meta(description="The statement in German")]
    figures: list[FigureSnapshot]
    measures: list[TraceMeasure]
    translations: Annotated[
        GoalTranslations, Meta(description="The statement in languages beside German")
    ] = field(default_factory=GoalTranslations)


class TraceIdea(Struct, kw_only=True):
    """A published idea residents gave on the need (its title as written), its official
    status, and the measures it led to."""

    id: UUID
    title: str
    official_status: str | None
    support_count: int
    measure_ids: list[UUID]


class TraceNeed(Struct, kw_only=True):
    need_category: CategoryRef
    area: AreaRef | None
    goals: list[TraceGoal]
    ideas: Annotated[
        list[TraceIdea],
        Meta(
            description="Published ideas of the process on this need category (in this area; "
            "in any area where the goals name none), most supported first"
        ),
    ] = field(default_factory=list)


class Traceability(Struct, kw_only=True):
    process_id: UUID
    needs: list[TraceNeed]


# -- consultation report and decision template ---------------------------------------------------


class AskedOrganisation(Struct, kw_only=True):
    """An organisation issued a consultation code, and whether it answered."""

    organisation: OrganisationRef
    answered: bool


class ConsultationReport(Struct, kw_only=True):
    """What planners hand to the council after a consultation: the measure as consulted, who
    was asked, what they said (the disclosure-controlled summary), what changed since."""

    measure_id: UUID
    process_id: UUID
    process_title: str
    status: MeasureStatus
    current_version: int
    consulted: Annotated[MeasureVersion, Meta(description="The version consulted on")]
    consultation: Consultation
    respondent_kinds: Annotated[
        list[RespondentKind],
        Meta(
            description="Who could answer: residents and professionals anonymously, and "
            "organisations when codes were issued to them"
        ),
    ]
    organisations_asked: list[AskedOrganisation]
    summary: FeedbackSummary
    changes: Annotated[
        VersionDiff | None,
        Meta(description="From the consulted version to the current one; null when unchanged"),
    ]
    generated_at: datetime


class Adoption(Struct, kw_only=True):
    """The recorded adoption: the lifecycle step and the council's decision."""

    version: int
    reason: str
    actor_name: str
    at: datetime
    decision: CouncilDecision | None


class ConsultationResult(Struct, kw_only=True):
    """The consultation in a decision template: responses by kind, the stances of all
    anonymous responses (disclosure-controlled, as in the summary), organisations by name."""

    version: int
    opens_at: datetime
    closes_at: datetime
    responses_by_kind: list[Count]
    respondents: Annotated[int | None, Meta(description="Anonymous responses, perturbed")]
    withheld: bool
    stances: list[Count]
    criteria: list[MeanFigure]
    organisations: list[OrganisationStatement]
    comments: Annotated[int, Meta(description="Visible comments")]


class DecisionTemplate(Struct, kw_only=True):
    """A Beschlussvorlage: the goals the measure serves with their needs evidence, the measure
    (resources, provider, criteria of success), the consultation result, and the adoption once
    recorded."""

    measure_id: UUID
    process_id: UUID
    process_title: str
    status: MeasureStatus
    content: MeasureVersion
    goals: list[Goal]
    consultation: ConsultationResult | None
    adoption: Adoption | None
    generated_at: datetime
