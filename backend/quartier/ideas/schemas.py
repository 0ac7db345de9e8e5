"""Request and response bodies of the ideas API (msgspec Structs, every input bounded).

What residents write (title, description, comments) is shown as written. What staff write for
residents, the official answer, is German in `official_answer` (as in v1 from the start) and in
further languages in `translations` (`core.translations`)."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta, Struct, field

from quartier.accounts.schemas import Email
from quartier.core.translations import Translations
from quartier.ideas import models as m

Title = Annotated[str, Meta(min_length=3, max_length=m.TITLE_MAX)]
Description = Annotated[str, Meta(min_length=10, max_length=m.DESCRIPTION_MAX)]
CommentBody = Annotated[str, Meta(min_length=1, max_length=m.COMMENT_MAX)]
Reason = Annotated[str, Meta(min_length=3, max_length=m.REASON_MAX)]
Answer = Annotated[str, Meta(min_length=1, max_length=m.ANSWER_MAX)]
NeedKey = Annotated[str, Meta(min_length=1, max_length=64, pattern="^[a-z0-9_]+$")]
AreaCode = Annotated[str, Meta(min_length=1, max_length=40, pattern="^[A-Za-z0-9_.-]+$")]
TargetGroup = Annotated[str, Meta(min_length=1, max_length=m.TARGET_GROUP_MAX)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
Latitude = Annotated[float, Meta(ge=-90, le=90)]

TranslatedAnswer = Annotated[
    str,
    Meta(
        max_length=m.ANSWER_MAX,
        description="The official answer in this language; empty: the German answer",
    ),
]
IdeaStateName = Literal["pending", "published", "hidden", "merged", "withdrawn"]
OfficialStatusName = Literal["under_review", "accepted", "merged", "not_pursued", "implemented"]


class Point(Struct, kw_only=True, forbid_unknown_fields=True):
    lon: Longitude
    lat: Latitude


class IdeaSubmission(Struct, kw_only=True, forbid_unknown_fields=True):
    """A resident's idea. Where it applies: `area_code` (a social area from the list) or
    `point` (resolved to the most detailed area of the process that contains it); the point is
    kept only with `show_point_publicly`. `notify_email` only with `email_consent`. `website`
    is a honeypot: people leave it empty."""

    title: Title
    description: Description
    need_category: NeedKey
    target_groups: Annotated[list[TargetGroup], Meta(max_length=m.TARGET_GROUPS_MAX)] = field(
        default_factory=list
    )
    area_code: AreaCode | None = None
    point: Point | None = None
    show_point_publicly: bool = False
    notify_email: Email | None = None
    email_consent: bool = False
    website: Annotated[str, Meta(max_length=200)] = ""


class IdeaEdit(Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes by the author (follow link) while the idea awaits moderation."""

    title: Title | None = None
    description: Description | None = None
    need_category: NeedKey | None = None


class AnswerText(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """The official answer in one language beside German (left empty: residents read the
    German answer, with a note saying so)."""

    official_answer: TranslatedAnswer = ""


class AnswerTranslations(Translations[AnswerText]):
    """The official answer per language beside German: English, easy-read German
    (`de-x-simple`), Turkish, Arabic. Only languages the deployment enables are accepted."""


class AreaRef(Struct, kw_only=True):
    id: UUID
    code: str
    name: str


class MeasureRef(Struct, kw_only=True):
    """A measure an accepted idea led to (its German title) and where it stands."""

    id: UUID
    title: str
    status: str


class IdeaOut(Struct, kw_only=True):
    """An idea as the public sees it. A hidden idea keeps its place with `hidden_reason`;
    its text is not shown."""

    id: UUID
    process_id: UUID
    title: str | None
    description: str | None
    need_category: str
    target_groups: list[str]
    area: AreaRef
    point: Point | None
    state: IdeaStateName
    hidden_reason: str | None
    merged_into_id: UUID | None
    official_status: OfficialStatusName | None
    official_answer: Annotated[str | None, Meta(description="The official answer in German")]
    answered_at: datetime.datetime | None
    published_at: datetime.datetime | None
    created_at: datetime.datetime
    support_count: int
    translations: Annotated[
        AnswerTranslations,
        Meta(description="The official answer in the languages beside German staff gave"),
    ]
    measures: Annotated[
        list[MeasureRef] | None,
        Meta(
            description="The measures this idea led to (planners link accepted ideas to a "
            "measure): on GetIdea; null where not looked up (lists, moderation answers)"
        ),
    ] = None


class IdeaSubmitted(Struct, kw_only=True):
    """The stored idea and its private follow link (shown once; keep it to follow, edit before
    moderation, or withdraw the idea)."""

    idea: IdeaOut
    follow_token: str
    follow_url: str


class FollowedIdea(Struct, kw_only=True):
    """The author's view through the follow link."""

    idea: IdeaOut
    editable: bool
    notifications: bool


class SupportState(Struct, kw_only=True):
    idea_id: UUID
    supported: bool
    support_count: int


class CommentSubmission(Struct, kw_only=True, forbid_unknown_fields=True):
    """A comment, or a reply (`parent_id`) to a comment that is not itself a reply."""

    body: CommentBody
    parent_id: UUID | None = None
    website: Annotated[str, Meta(max_length=200)] = ""


class CommentOut(Struct, kw_only=True):
    id: UUID
    idea_id: UUID
    parent_id: UUID | None
    body: str | None
    state: Literal["pending", "published", "hidden"]
    hidden_reason: str | None
    created_at: datetime.datetime


class ReportSubmission(Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason
    comment_id: UUID | None = None


class ReportReceived(Struct, kw_only=True):
    id: UUID
    idea_id: UUID
    comment_id: UUID | None


class HideRequest(Struct, kw_only=True, forbid_unknown_fields=True):
    """The public reason shown in place of the hidden text."""

    reason: Reason


class ModerationNote(Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason | None = None


class MergeRequest(Struct, kw_only=True, forbid_unknown_fields=True):
    into_id: UUID
    reason: Reason | None = None


class AnswerRequest(Struct, kw_only=True, forbid_unknown_fields=True):
    """The official status with the public answer: `answer` in German, `translations` the
    answer in further languages (replacing those given before; a language left out has none)."""

    official_status: OfficialStatusName
    answer: Answer
    translations: AnswerTranslations = field(default_factory=AnswerTranslations)


class IdeaSettingsIn(Struct, kw_only=True, forbid_unknown_fields=True):
    premoderation: bool


class IdeaSettingsOut(Struct, kw_only=True):
    process_id: UUID
    premoderation: bool


class QueueItem(Struct, kw_only=True):
    """An idea waiting for a moderator: new (pending), or with open reports."""

    idea: IdeaOut
    title: str
    description: str
    open_reports: list[ReportOut]
    pending_comments: list[StaffCommentOut]


class ReportOut(Struct, kw_only=True):
    id: UUID
    comment_id: UUID | None
    reason: str
    created_at: datetime.datetime


class StaffCommentOut(Struct, kw_only=True):
    id: UUID
    parent_id: UUID | None
    body: str
    state: str
    created_at: datetime.datetime


class ModerationEntryOut(Struct, kw_only=True):
    id: UUID
    idea_id: UUID
    comment_id: UUID | None
    actor_name: str
    action: str
    reason: str | None
    created_at: datetime.datetime


class AggregateCell(Struct, kw_only=True):
    """Ideas and distinct supporters of one area × need category, perturbed by the cell key
    method (stats.cellkey); null when the area is not shown, with `suppressed` and reason
    "protected" (never 0)."""

    area_code: str
    area_name: str
    need_category: str
    ideas: Annotated[
        int | None,
        Meta(
            description="Published ideas, perturbed (0 stands for 0 to k−1); null when the "
            "area is not shown"
        ),
    ]
    supporters: Annotated[
        int | None,
        Meta(
            description="Distinct supporting residents, perturbed (0 stands for 0 to k−1); "
            "null when the area is not shown"
        ),
    ]
    suppressed: Annotated[bool, Meta(description="A value of this cell is null (protected)")]
    reason: Annotated[
        Literal["protected"] | None, Meta(description="protected: the area is not shown")
    ] = None


class IdeaAggregates(Struct, kw_only=True):
    """Ideas and supporters per area × need category of one process at one area level, with
    the metadata of the disclosure control."""

    process_id: UUID
    level: str
    k: int
    min_respondents: int
    generated_at: datetime.datetime
    cells: list[AggregateCell]
    suppressed_cells: Annotated[int, Meta(description="Cells with a null value (protected)")]
    disclosure_method: str


class SurveyNeed(Struct, kw_only=True):
    need_category: str
    expressing: int | None
    share: float | None
    suppressed: bool


class AreaNeedsSideBySide(Struct, kw_only=True):
    """One area's needs from the surveys beside its ideas, both disclosure-controlled."""

    process_id: UUID
    area_code: str
    area_name: str
    level: str
    k: int
    survey_respondents: int | None
    survey_needs: list[SurveyNeed]
    ideas: list[AggregateCell]


def encode(value: object) -> bytes:
    return msgspec.json.encode(value)
