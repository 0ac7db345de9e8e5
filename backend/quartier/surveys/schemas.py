"""Survey definitions, submissions and results as msgspec Structs.

A survey definition is one JSON document (`SurveyDefinition`): texts, pages, questions and
conditions. Question types are a tagged union on `type` (after polar's custom-field schemas),
conditions a small recursive tagged union on `op`. Both are decoded and bounded by msgspec; the
rules that need the whole document (unique keys, conditions referring to earlier questions,
known need categories and age bands) are checked by `surveys.definition`.

Texts are generic: `SurveyDefinition[Text]` carries every language
(`{"de": required, "en": optional, "de-x-simple": optional}`), `SurveyDefinition[str]` is the
same definition rendered in one language (`LocalizedDefinition`). Inputs forbid unknown fields
and bound every string, number and list.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, Union
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, field

from quartier.surveys.models import AccessMode, SurveyStatus

T = TypeVar("T")

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
Key = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=KEY_PATTERN,
        description="Stable key: lower-case letters, digits and `_`, starting with a letter",
    ),
]
LevelKey = Annotated[str, Meta(min_length=1, max_length=40, description="Area level key")]
BandKey = Annotated[
    str, Meta(min_length=1, max_length=40, description="Population age-band key, e.g. `6_15`")
]
NeedKeys = Annotated[
    list[Key], Meta(max_length=10, description="Need categories this expresses (by key)")
]
TEXT_MAX = 4_000
LABEL_MAX = 300  # titles and labels; checked per language by surveys.definition
LanguageText = Annotated[str, Meta(min_length=1, max_length=TEXT_MAX)]


class Text(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A multilingual text: German is required; English, easy-read German, Turkish and Arabic
    optional (a resident reading a missing language sees German, with a note saying so)."""

    de: LanguageText
    en: LanguageText | None = None
    de_x_simple: LanguageText | None = field(default=None, name="de-x-simple")
    tr: LanguageText | None = None
    ar: LanguageText | None = None

    def as_dict(self) -> dict[str, str]:
        texts = {"de": self.de}
        for key, value in (
            ("en", self.en),
            ("de-x-simple", self.de_x_simple),
            ("tr", self.tr),
            ("ar", self.ar),
        ):
            if value:
                texts[key] = value
        return texts


# -- conditions --------------------------------------------------------------------------------

ConditionValue = (
    Annotated[str, Meta(max_length=64)]
    | Annotated[int, Meta(ge=-1_000_000_000, le=1_000_000_000)]
    | Annotated[float, Meta(ge=-1_000_000_000, le=1_000_000_000)]
)


class Equals(Struct, kw_only=True, forbid_unknown_fields=True, tag_field="op", tag="equals"):
    """True when the answer to `question` is `value` (an option key, a rating value, a
    number, or a social-area code)."""

    question: Key
    value: ConditionValue


class Includes(Struct, kw_only=True, forbid_unknown_fields=True, tag_field="op", tag="includes"):
    """True when the answer to a multiple-choice or ranking `question` includes `option`."""

    question: Key
    option: Key


#: Conditions nest at most this deep (`definition.py` refuses deeper ones; the contract spells
#: the levels out, see `core.openapi._unroll_recursion`).
MAX_CONDITION_DEPTH = 5


class Not(Struct, kw_only=True, forbid_unknown_fields=True, tag_field="op", tag="not"):
    """True when the inner condition is false."""

    condition: Condition = field(name="not")
    # composites sit at levels 1 .. MAX_CONDITION_DEPTH - 1 (their leaves one deeper)
    contract_nesting_levels: ClassVar[int] = MAX_CONDITION_DEPTH - 1


class AnyOf(Struct, kw_only=True, forbid_unknown_fields=True, tag_field="op", tag="any"):
    """True when at least one of the conditions is true."""

    conditions: Annotated[list[Condition], Meta(min_length=1, max_length=20)] = field(name="any")
    # composites sit at levels 1 .. MAX_CONDITION_DEPTH - 1 (their leaves one deeper)
    contract_nesting_levels: ClassVar[int] = MAX_CONDITION_DEPTH - 1


class AllOf(Struct, kw_only=True, forbid_unknown_fields=True, tag_field="op", tag="all"):
    """True when every condition is true."""

    conditions: Annotated[list[Condition], Meta(min_length=1, max_length=20)] = field(name="all")
    # composites sit at levels 1 .. MAX_CONDITION_DEPTH - 1 (their leaves one deeper)
    contract_nesting_levels: ClassVar[int] = MAX_CONDITION_DEPTH - 1


Condition = Union[Equals, Includes, Not, AnyOf, AllOf]  # noqa: UP007 - a runtime alias msgspec resolves


# -- questions ---------------------------------------------------------------------------------


PopulationSex = Literal["female", "male"]
POPULATION_SEXES: tuple[PopulationSex, ...] = ("female", "male")


class Option(Struct, Generic[T], kw_only=True, forbid_unknown_fields=True):
    """A choice option; `need_categories` say which needs choosing it expresses;
    `population_sex` (single choice only) that choosing it counts the respondent for that sex
    of the population in the representativeness of the results."""

    key: Key
    label: T
    need_categories: NeedKeys = field(default_factory=list)
    population_sex: Annotated[
        PopulationSex | UnsetType,
        Meta(
            description="Options of one single-choice question per survey may map to the "
            "population's sexes (at most one option each): respondents choosing it are "
            "compared with the women (`female`) or the other inhabitants (`male`) of their "
            "area in the representativeness of the aggregated needs. Omitted: not mapped."
        ),
    ] = UNSET


class OtherOption(Struct, Generic[T], kw_only=True, forbid_unknown_fields=True):
    """ "Other, please specify": chosen as option key `other`, its text sent in `other`."""

    label: T
    max_length: Annotated[int, Meta(ge=1, le=500)] = 200
    need_categories: NeedKeys = field(default_factory=list)


class QuestionBase(Struct, Generic[T], kw_only=True, forbid_unknown_fields=True, tag_field="type"):
    key: Key
    text: T
    hint: T | None = None
    required: bool = False
    show_if: Annotated[
        Condition | None,
        Meta(description="Shown only when this condition on earlier answers holds"),
    ] = None


Options = Annotated[list[Option[T]], Meta(min_length=2, max_length=50)]


class SingleChoiceQuestion(QuestionBase[T], Generic[T], kw_only=True, tag="single_choice"):
    """One option; the answer is its key (`other` for "other, please specify")."""

    options: Options[T]
    other: OtherOption[T] | None = None


class MultipleChoiceQuestion(QuestionBase[T], Generic[T], kw_only=True, tag="multiple_choice"):
    """Several options; the answer is a list of keys between `min_selections` and
    `max_selections` long."""

    options: Options[T]
    other: OtherOption[T] | None = None
    min_selections: Annotated[int, Meta(ge=0, le=50)] = 0
    max_selections: Annotated[int, Meta(ge=1, le=50)] | None = None


class RatingQuestion(QuestionBase[T], Generic[T], kw_only=True, tag="rating"):
    """A value on a scale (e.g. 1–5) with labelled ends. Answers whose value is in
    `need_values` express the `need_categories`."""

    scale_min: Annotated[int, Meta(ge=0, le=1)] = 1
    scale_max: Annotated[int, Meta(ge=2, le=10)] = 5
    min_label: T
    max_label: T
    need_values: Annotated[list[int], Meta(max_length=11)] = field(default_factory=list)
    need_categories: NeedKeys = field(default_factory=list)


Bound = Annotated[float, Meta(ge=-1_000_000_000, le=1_000_000_000)]


class NumberQuestion(QuestionBase[T], Generic[T], kw_only=True, tag="number"):
    """A number between `minimum` and `maximum`; whole numbers only when `integer`."""

    minimum: Bound
    maximum: Bound
    integer: bool = True
    unit: T | None = None


class ShortTextQuestion(QuestionBase[T], Generic[T], kw_only=True, tag="short_text"):
    """One line of text, at most `max_length` characters. Never shown in results."""

    max_length: Annotated[int, Meta(ge=1, le=500)] = 200


class LongTextQuestion(QuestionBase[T], Generic[T], kw_only=True, tag="long_text"):
    """Free text, at most `max_length` characters. Never shown in results."""

    max_length: Annotated[int, Meta(ge=1, le=5_000)] = 2_000


class RankingQuestion(QuestionBase[T], Generic[T], kw_only=True, tag="ranking"):
    """An order of options (most important first); the answer is a list of distinct keys
    between `min_ranked` and `max_ranked` (default: all options) long."""

    options: Annotated[list[Option[T]], Meta(min_length=2, max_length=20)]
    min_ranked: Annotated[int, Meta(ge=1, le=20)] = 1
    max_ranked: Annotated[int, Meta(ge=1, le=20)] | None = None


class SocialAreaQuestion(QuestionBase[T], Generic[T], kw_only=True, tag="social_area"):
    """The respondent's social area, chosen from the areas at `level` within the process's
    scope; the answer is the area's code. Every survey has exactly one, required and always
    shown: it is the area the response counts for. `point_lookup` offers finding the area
    from an address or a point on the map (only the area is stored)."""

    level: LevelKey
    point_lookup: bool = False


class AgeBandOption(Struct, Generic[T], kw_only=True, forbid_unknown_fields=True):
    """An age band as asked, mapped to the population age bands it covers (empty for
    "prefer not to say"): the basis of population weighting."""

    key: Key
    label: T
    population_bands: Annotated[list[BandKey], Meta(max_length=12)] = field(default_factory=list)


class AgeBandQuestion(QuestionBase[T], Generic[T], kw_only=True, tag="age_band"):
    """The respondent's age band; the chosen option is stored as the response's age stratum.
    At most one per survey."""

    options: Annotated[list[AgeBandOption[T]], Meta(min_length=2, max_length=20)]


Question = Union[  # noqa: UP007 - a generic runtime alias: Question[Text], Question[str]
    SingleChoiceQuestion[T],
    MultipleChoiceQuestion[T],
    RatingQuestion[T],
    NumberQuestion[T],
    ShortTextQuestion[T],
    LongTextQuestion[T],
    RankingQuestion[T],
    SocialAreaQuestion[T],
    AgeBandQuestion[T],
]
ChoiceQuestion = Union[  # noqa: UP007
    SingleChoiceQuestion[T], MultipleChoiceQuestion[T], RankingQuestion[T]
]
QUESTION_TYPES = (
    "single_choice",
    "multiple_choice",
    "rating",
    "number",
    "short_text",
    "long_text",
    "ranking",
    "social_area",
    "age_band",
)
OTHER = "other"  # the option key of "other, please specify"


class SurveyPage(Struct, Generic[T], kw_only=True, forbid_unknown_fields=True):
    """A group of questions shown together (one step of the form)."""

    key: Key
    title: T | None = None
    show_if: Condition | None = None
    questions: Annotated[list[Question[T]], Meta(min_length=1, max_length=100)]


class SurveyDefinition(Struct, Generic[T], kw_only=True, forbid_unknown_fields=True):
    """The whole questionnaire: what residents read before, the pages, and after."""

    title: T
    intro: T | None = None
    purpose: T  # what the answers are used for
    organiser: T  # who runs the survey
    estimated_minutes: Annotated[int, Meta(ge=1, le=180)]
    privacy_note: T
    thank_you: T | None = None
    pages: Annotated[list[SurveyPage[T]], Meta(min_length=1, max_length=50)]


# The old name of SurveyPage (not to be confused with core.pagination.Page); kept for callers.
Page = SurveyPage

# The two renderings of a definition.
Definition = SurveyDefinition[Text]
LocalizedDefinition = SurveyDefinition[str]
AnyQuestion = Question[Text]


# -- surveys -----------------------------------------------------------------------------------

KThreshold = Annotated[
    int, Meta(ge=3, le=100, description="Counts from 1 to k−1 are suppressed in results")
]
MinRespondents = Annotated[
    int, Meta(ge=3, le=10_000, description="Areas with fewer responses are withheld")
]


class SurveyCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    """A new survey of a process; it starts as a draft."""

    access_mode: AccessMode = AccessMode.OPEN
    k_threshold: KThreshold = 5
    min_respondents: MinRespondents = 10
    definition: Definition


class SurveyUpdate(Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to a survey: only the fields sent are changed; `definition` replaces the whole
    document. On a published survey only changes that keep stored answers valid are allowed."""

    access_mode: AccessMode | UnsetType = UNSET
    k_threshold: KThreshold | UnsetType = UNSET
    min_respondents: MinRespondents | UnsetType = UNSET
    definition: Definition | UnsetType = UNSET


class SurveyDocument(Struct, kw_only=True, forbid_unknown_fields=True):
    """A survey definition as exported and imported (ExportSurveyDefinition /
    ImportSurveyDefinition): settings and the definition, no ids, no responses."""

    format: Literal["quartier-survey"] = "quartier-survey"
    format_version: Literal[1] = 1
    access_mode: AccessMode = AccessMode.OPEN
    k_threshold: KThreshold = 5
    min_respondents: MinRespondents = 10
    definition: Definition


class SurveySummary(Struct, kw_only=True):
    id: UUID
    process_id: UUID
    title: Annotated[str, Meta(description="Title in the negotiated language")]
    status: SurveyStatus
    access_mode: AccessMode
    definition_version: int
    published_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    results_public: Annotated[
        bool,
        Meta(
            description="The aggregated needs are open data once the survey is closed "
            "(SetSurveyResultsPublication)"
        ),
    ]
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ResultsPublication(Struct, kw_only=True, forbid_unknown_fields=True):
    """Whether a survey's aggregated needs are published as open data once it is closed."""

    public: bool


class SurveyOut(SurveySummary, kw_only=True):
    """A survey with its definition in every language."""

    k_threshold: int
    min_respondents: int
    definition: Definition


class LocalizedSurveyOut(SurveySummary, kw_only=True):
    """A survey with its definition in one language (`language`)."""

    k_threshold: int
    min_respondents: int
    language: str
    definition: LocalizedDefinition


# -- need categories ---------------------------------------------------------------------------


class NeedCategoryCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    key: Key
    label: Text
    description: Text | None = None
    position: Annotated[int, Meta(ge=0, le=1_000)] = 0


class NeedCategoryUpdate(Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to a need category (the key is permanent); `is_active: false` deactivates it:
    it can then no longer be tagged in definitions, responses keep it."""

    label: Text | UnsetType = UNSET
    description: Text | UnsetType | None = UNSET
    position: Annotated[int, Meta(ge=0, le=1_000)] | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET


class NeedCategoryOut(Struct, kw_only=True):
    id: UUID
    key: str
    name: Annotated[str, Meta(description="Label in the negotiated language")]
    label: Text
    description: Text | None
    position: int
    is_active: bool


class NeedCategoryList(Struct, kw_only=True):
    items: list[NeedCategoryOut]


# -- invitation codes --------------------------------------------------------------------------

MAX_INVITATION_CODES = 10_000


class InvitationCodesRequest(Struct, kw_only=True, forbid_unknown_fields=True):
    count: Annotated[int, Meta(ge=1, le=MAX_INVITATION_CODES)]


# -- responses ---------------------------------------------------------------------------------

AnswerText = Annotated[str, Meta(max_length=5_000)]
AnswerNumber = Annotated[float, Meta(ge=-1e12, le=1e12)]
AnswerValue = (
    AnswerText
    | Annotated[int, Meta(ge=-1_000_000_000_000, le=1_000_000_000_000)]
    | AnswerNumber
    | bool
    | Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=50)]
    | None
)
Answers = Annotated[
    dict[Annotated[str, Meta(max_length=64)], AnswerValue],
    Meta(
        max_length=300,
        description="Answers by question key: an option key (single choice, age band), a list "
        "of option keys (multiple choice; ranking in order), an integer (rating), a number, "
        "a text, or a social-area code. Answers to questions hidden by their conditions are "
        "ignored and not stored.",
    ),
]
OtherTexts = Annotated[
    dict[Annotated[str, Meta(max_length=64)], Annotated[str, Meta(max_length=500)]],
    Meta(
        max_length=50,
        description='"Other, please specify" texts by question key. A text belongs to a '
        "single- or multiple-choice question that offers `other` and whose answer chooses the "
        'option key `other` (e.g. `answers: {"q": "other"}, other: {"q": "…"}`); '
        "a text sent without that answer, or for any other question, is ignored and not "
        "stored (as are answers to questions hidden by their conditions).",
    ),
]
InvitationCode = Annotated[str, Meta(min_length=1, max_length=32)]


class ResponseSubmission(Struct, kw_only=True, forbid_unknown_fields=True):
    """One resident's answers. `invitation_code` is required on invitation-only surveys; it is
    used up and never stored with the response."""

    answers: Answers
    other: OtherTexts = field(default_factory=dict)
    invitation_code: InvitationCode | None = None


class PaperResponse(Struct, kw_only=True, forbid_unknown_fields=True):
    """A response entered by staff from a paper questionnaire or a telephone interview."""

    channel: Literal["paper", "phone"] = "paper"
    answers: Answers
    other: OtherTexts = field(default_factory=dict)


class ResponseReceipt(Struct, kw_only=True):
    """The confirmation of a stored response. The receipt code proves the response arrived;
    it says nothing about the answers."""

    survey_id: UUID
    receipt_code: Annotated[str, Meta(description="e.g. `7KQ2-MX9P`")]
    submitted_at: datetime.datetime


class ReceiptCheck(Struct, kw_only=True):
    """That a response with this receipt code exists, and when it arrived."""

    receipt_code: str
    submitted_at: datetime.datetime


MAX_IMPORT_ROWS = 10_000


class ResponseImport(Struct, kw_only=True, forbid_unknown_fields=True):
    """CSV text (UTF-8, comma-separated, header row): one column per question key, multiple
    choice and ranking values separated by `|`, the social area by its code, `<key>.other`
    for "other" texts. At most 10 000 rows."""

    csv: Annotated[str, Meta(min_length=1, max_length=20_000_000)]


class ImportRowError(Struct, kw_only=True):
    row: Annotated[int, Meta(description="Line number in the CSV (the header is line 1)")]
    field: str
    message: str


class ImportResult(Struct, kw_only=True):
    imported: int
    errors: list[ImportRowError] = field(default_factory=list)


# -- results -----------------------------------------------------------------------------------


class OptionResult(Struct, kw_only=True):
    key: str
    label: str
    count: Annotated[int | None, Meta(description="null when suppressed")]
    share: Annotated[float | None, Meta(description="count / answered; null when suppressed")]
    suppressed: bool = False


class NumberSummary(Struct, kw_only=True):
    n: int | None
    mean: float | None
    median: float | None
    suppressed: bool = False


class QuestionResult(Struct, kw_only=True):
    key: str
    type: str
    text: str
    answered: Annotated[
        int | None, Meta(description="Respondents who answered; null if suppressed")
    ]
    suppressed: bool = False
    options: list[OptionResult] | None = None
    summary: NumberSummary | None = None


class AreaRef(Struct, kw_only=True):
    id: UUID
    code: str
    name: str


class ResultGroup(Struct, kw_only=True):
    """Results of all respondents (`area` null) or of one social area."""

    area: AreaRef | None
    respondents: int | None
    withheld: Annotated[
        bool, Meta(description="Fewer than min_respondents responses: nothing is shown")
    ] = False
    questions: list[QuestionResult] = field(default_factory=list)


class SurveyResults(Struct, kw_only=True):
    survey_id: UUID
    definition_version: int
    k_threshold: int
    min_respondents: int
    level: str | None
    at: Annotated[
        datetime.date,
        Meta(
            description="The date of the area hierarchy (query parameter `at`, default "
            "today): with `level`, the areas valid then, each response counted under the area "
            "its own area lies in then"
        ),
    ]
    language: str
    groups: list[ResultGroup]
    suppressed_cells: int
    generated_at: datetime.datetime


def texts_of(value: Any) -> dict[str, str]:
    """A Text as a plain dict (for storing labels in the database)."""
    return value.as_dict() if isinstance(value, Text) else {}
