"""Survey responses: answer validation, need derivation, pseudonyms, receipts, and storing a
response in few round trips.

What is validated: exactly the questions the respondent was shown (see
`definition.visible_questions`). **Answers to questions hidden by their conditions are dropped**:
they are neither validated nor stored nor counted — a respondent who goes back and changes an
earlier answer may still send answers to questions that are now hidden, and that must not fail
their submission. Answers naming a question the survey does not have are refused (400), so an
integration's typo never vanishes silently. Messages are in the respondent's language.

What is stored (`survey_responses`): the normalised answers, the social area, the age stratum,
the channel, the time, a receipt code, the definition version — and for open surveys a keyed
per-survey pseudonym of the respondent token (HMAC-SHA256 with SECRET_KEY ‖ the survey's salt),
used only to refuse a second answer. Never an IP address, a user agent, an account, the
respondent token or an invitation code. Derived rows go to `survey_answer_options` (one per
chosen option or rating value) and `survey_response_needs` (one per need category expressed).

Round trips for a resident's web submission (`submit_web_response`; the parsed definition is
cached in-process per survey version): on the driver path three statements in one transaction
— the survey with the Idempotency-Key's lock; the key's stored answer, whether the phase is
open and the area; the response with its option and need rows and the key's record. Anything
but a success or a replay (a refusal, an invitation survey) takes the session path, whose
problems are the reference.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import msgspec
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    Select,
    String,
    Table,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    delete,
    false,
    func,
    literal,
    null,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from uuid_utils.compat import uuid7

from quartier.core import idempotency
from quartier.core.driver import DriverStatement, driver_transaction
from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound, Problem
from quartier.core.i18n import gettext as _
from quartier.core.i18n import ngettext
from quartier.core.idempotency import StoredResponse, fingerprint, run_idempotent
from quartier.participation import guard, places
from quartier.participation.codes import CROCKFORD as CROCKFORD
from quartier.participation.codes import RECEIPT_LENGTH, crockford
from quartier.participation.codes import format_code as format_code
from quartier.participation.codes import new_receipt_code as new_receipt_code
from quartier.participation.codes import normalise_code as normalise_code
from quartier.participation.pseudonyms import RESPONDENT_TOKEN_MAX as RESPONDENT_TOKEN_MAX
from quartier.participation.pseudonyms import RESPONDENT_TOKEN_MIN as RESPONDENT_TOKEN_MIN
from quartier.participation.pseudonyms import check_respondent_token, valid_respondent_token
from quartier.participation.pseudonyms import pseudonym as pseudonym
from quartier.participation.text import text_error
from quartier.settings import Settings
from quartier.stats.cellkey import new_record_key
from quartier.surveys import definition as d
from quartier.surveys import schemas as s
from quartier.surveys.models import (
    AccessMode,
    Channel,
    InvitationCode,
    NeedCategory,
    Survey,
    SurveyResponse,
    SurveyStatus,
    survey_answer_options,
    survey_response_needs,
)

OTHER_TEXTS_KEY = "_other"  # stored answers: {"q": value, …, "_other": {"q": "text"}}


def _number(value: float) -> str:
    return f"{value:g}"


# -- validating answers --------------------------------------------------------------------------


@dataclass(slots=True)
class Prepared:
    """A valid response, ready to store."""

    answers: dict[str, Any]
    area_code: str
    age_stratum: str | None
    options: list[tuple[str, str]] = field(default_factory=list)  # (question, option)
    needs: set[str] = field(default_factory=set)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _check_choices(
    question: s.MultipleChoiceQuestion[s.Text] | s.RankingQuestion[s.Text], value: Any
) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return _("Choose from the options.")
    if len(set(value)) != len(value):
        return _("Each option can be chosen only once.")
    if any(v not in d.option_keys(question) for v in value):
        return _("Choose from the options.")
    if isinstance(question, s.MultipleChoiceQuestion):
        low, high = question.min_selections, question.max_selections
        if len(value) < low:
            return ngettext(
                "Choose at least %(num)s option.", "Choose at least %(num)s options.", low
            )
        if high is not None and len(value) > high:
            return ngettext(
                "Choose at most %(num)s option.", "Choose at most %(num)s options.", high
            )
        return None
    most = question.max_ranked if question.max_ranked is not None else len(question.options)
    if len(value) < question.min_ranked:
        return ngettext(
            "Rank at least %(num)s option.", "Rank at least %(num)s options.", question.min_ranked
        )
    if len(value) > most:
        return ngettext("Rank at most %(num)s option.", "Rank at most %(num)s options.", most)
    return None


def _check_answer(question: s.AnyQuestion, value: Any) -> str | None:
    """A translated message if `value` is not a valid (non-blank) answer to `question`."""
    if isinstance(question, s.SingleChoiceQuestion | s.AgeBandQuestion):
        if not isinstance(value, str) or value not in d.option_keys(question):
            return _("Choose one of the options.")
    elif isinstance(question, s.MultipleChoiceQuestion | s.RankingQuestion):
        return _check_choices(question, value)
    elif isinstance(question, s.RatingQuestion):
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not (question.scale_min <= value <= question.scale_max)
        ):
            return _(
                "Choose a value from %(min)s to %(max)s.",
                min=question.scale_min,
                max=question.scale_max,
            )
    elif isinstance(question, s.NumberQuestion):
        if not _is_number(value) or not question.minimum <= value <= question.maximum:
            return _(
                "Enter a number from %(min)s to %(max)s.",
                min=_number(question.minimum),
                max=_number(question.maximum),
            )
        if question.integer and not float(value).is_integer():
            return _("Enter a whole number.")
    elif isinstance(question, s.ShortTextQuestion | s.LongTextQuestion):
        if not isinstance(value, str):
            return _("Enter a text.")
        return text_error(value, question.max_length)
    elif isinstance(question, s.SocialAreaQuestion) and not isinstance(value, str):
        return _("Choose your area from the list.")
    return None


def _chosen(question: s.AnyQuestion, value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(question, s.RatingQuestion):
        return [str(value)]
    if isinstance(question, s.SingleChoiceQuestion | s.AgeBandQuestion):
        return [value]
    return []


def _normalise(question: s.AnyQuestion, value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(question, s.NumberQuestion) and question.integer and _is_number(value):
        return int(value)
    return value


def _needs_of(question: s.AnyQuestion, value: Any, chosen: Sequence[str]) -> set[str]:
    needs: set[str] = set()
    if isinstance(question, d.CHOICE_TYPES):
        tags = {option.key: option.need_categories for option in question.options}
        if isinstance(question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion) and (
            question.other is not None
        ):
            tags[s.OTHER] = question.other.need_categories
        for key in chosen:
            needs.update(tags.get(key, ()))
    if isinstance(question, s.RatingQuestion) and value in question.need_values:
        needs.update(question.need_categories)
    return needs


def _field(key: str) -> str:
    return f"answers.{key}"


def _prepare(
    definition: s.Definition, answers: Mapping[str, Any], other: Mapping[str, str]
) -> tuple[Prepared | None, list[FieldError]]:
    errors: list[FieldError] = []
    known = {question.key for question in d.questions(definition)}
    for key in answers:
        if key not in known:
            errors.append(
                FieldError(
                    field=_field(key),
                    source="body",
                    message=_("This question does not exist in this survey."),
                )
            )
    for key in other:
        if key not in known:
            errors.append(
                FieldError(
                    field=f"other.{key}",
                    source="body",
                    message=_("This question does not exist in this survey."),
                )
            )
    stored: dict[str, Any] = {}
    other_texts: dict[str, str] = {}
    result = Prepared(answers=stored, area_code="", age_stratum=None)
    for question in d.visible_questions(definition, answers):
        key = question.key
        value = answers.get(key)
        if _blank(value):
            if question.required:
                errors.append(
                    FieldError(
                        field=_field(key),
                        source="body",
                        message=_("Please answer this question."),
                    )
                )
            continue
        if message := _check_answer(question, value):
            errors.append(FieldError(field=_field(key), source="body", message=message))
            continue
        value = _normalise(question, value)
        chosen = _chosen(question, value)
        if s.OTHER in chosen and isinstance(
            question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion
        ):
            text = (other.get(key) or "").strip()
            assert question.other is not None  # `other` is an option only when offered
            if not text:
                errors.append(
                    FieldError(
                        field=_field(key),
                        source="body",
                        message=_("Please say what you mean by “other”."),
                    )
                )
                continue
            if message := text_error(text, question.other.max_length):
                errors.append(FieldError(field=_field(key), source="body", message=message))
                continue
            other_texts[key] = text
        stored[key] = value
        if isinstance(question, s.SocialAreaQuestion):
            result.area_code = value
            continue
        if isinstance(question, s.AgeBandQuestion):
            bands = next(o.population_bands for o in question.options if o.key == value)
            result.age_stratum = value if bands else None
        result.options.extend((key, option) for option in chosen)
        result.needs |= _needs_of(question, value, chosen)
    if other_texts:
        stored[OTHER_TEXTS_KEY] = other_texts
    return (None if errors else result), errors


def validate_answers(
    definition: s.Definition,
    answers: Mapping[str, Any],
    other: Mapping[str, str] | None = None,
) -> list[FieldError]:
    """Errors of a response (empty if valid), each naming `answers.<question_key>`, with
    messages in the current language: required questions answered, options known, counts and
    bounds kept — for the questions shown only (hidden ones are ignored)."""
    return _prepare(definition, answers, other or {})[1]


class InvalidAnswers(Problem):
    """Answers that do not fit the survey's definition, naming `answers.<question_key>`. The
    published contract cannot express one survey's rules, so this is a 422 like every refusal
    of schema-valid input (docs/DEVELOPING.md, "400 or 422")."""

    status_code, slug, title = 422, "invalid-answers", "Invalid answers"


def prepare(
    definition: s.Definition, answers: Mapping[str, Any], other: Mapping[str, str] | None = None
) -> Prepared:
    """The response to store, or InvalidAnswers (422) naming every answer in error."""
    prepared, errors = _prepare(definition, answers, other or {})
    if prepared is None:
        raise InvalidAnswers(
            _("Some answers are missing or not valid."),
            errors=errors,
        )
    return prepared


# -- pseudonyms, receipts, invitation codes ------------------------------------------------------

INVITATION_LENGTH = 10  # 50 bits


def new_invitation_code() -> str:
    return crockford(INVITATION_LENGTH)


def invitation_hash(secret_key: str, survey_id: UUID, code: str) -> str:
    """The keyed hash of an invitation code kept in the database (hex, 64 characters)."""
    message = survey_id.bytes + normalise_code(code).encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


# -- storing -------------------------------------------------------------------------------------


def table_of(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


class SurveyNotOpen(Conflict):
    slug, title = "survey-not-open", "The survey does not take responses"


class AlreadyAnswered(Conflict):
    slug, title = "already-answered", "Already answered"


class InvitationUsed(Conflict):
    slug, title = "invitation-code-used", "Invitation code already used"


async def resolve_areas(session: AsyncSession, survey: Survey, codes: set[str]) -> dict[str, UUID]:
    """Area ids by code, for the codes that name an area the survey's social-area question
    offers (at its level, within the process's scope)."""
    if not codes:
        return {}
    question = d.compiled(survey).social_area
    return await places.areas_by_code(session, survey.process_id, question.level, codes)


async def area_choices(session: AsyncSession, survey: Survey) -> list[tuple[UUID, str, str]]:
    """(id, code, name) of the areas a respondent can choose, ordered by name."""
    question = d.compiled(survey).social_area
    return await places.area_choices(session, survey.process_id, question.level)


class SurveyFacts(Protocol):
    """What storing a response reads of its survey: a `Survey`, or the `SubmissionSurvey` the
    submission path loads without the definition document."""

    @property
    def id(self) -> UUID: ...
    @property
    def process_id(self) -> UUID: ...
    @property
    def status(self) -> str: ...
    @property
    def access_mode(self) -> str: ...
    @property
    def definition_version(self) -> int: ...
    @property
    def pseudonym_salt(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class SubmissionSurvey:
    """A survey as a resident's submission needs it, with its parsed definition."""

    id: UUID
    process_id: UUID
    status: str
    access_mode: str
    definition_version: int
    pseudonym_salt: bytes
    compiled: d.Compiled

    @classmethod
    def of(cls, row: Mapping[Any, Any], compiled: d.Compiled) -> SubmissionSurvey:
        """From a row with the columns of `_SUBMISSION_SURVEY`."""
        return cls(
            id=row["id"],
            process_id=row["process_id"],
            status=row["status"],
            access_mode=row["access_mode"],
            definition_version=row["definition_version"],
            pseudonym_salt=row["pseudonym_salt"],
            compiled=compiled,
        )


def _compiled(survey: SurveyFacts) -> d.Compiled:
    if isinstance(survey, SubmissionSurvey):
        return survey.compiled
    assert isinstance(survey, Survey)
    return d.compiled(survey)


_SURVEYS = table_of(Survey)
_SURVEY_ID = bindparam("survey_id", type_=Uuid)
# The survey's columns; its definition document only if the cached parse is not of the stored
# version (decoding a large JSONB document on every submission would cost more than the rest).
_SUBMISSION_SURVEY = select(
    _SURVEYS.c.id,
    _SURVEYS.c.process_id,
    _SURVEYS.c.status,
    _SURVEYS.c.access_mode,
    _SURVEYS.c.definition_version,
    _SURVEYS.c.pseudonym_salt,
    type_coerce(
        case(
            (
                _SURVEYS.c.definition_version == bindparam("cached_version", type_=Integer),
                null(),
            ),
            else_=_SURVEYS.c.definition,
        ),
        JSONB,
    ).label("definition"),
).where(_SURVEYS.c.id == _SURVEY_ID)
_DEFINITION = select(_SURVEYS.c.definition).where(_SURVEYS.c.id == _SURVEY_ID)


async def load_for_submission(session: AsyncSession, survey_id: UUID) -> SubmissionSurvey:
    """The survey a resident answers: published or closed (404 for drafts and unknown ids, as
    `services.get_published_survey`); one round trip when its definition's parse is cached."""
    connection = await session.connection()  # Core statements: skip the ORM layer
    row = (
        await connection.execute(
            _SUBMISSION_SURVEY,
            {"survey_id": survey_id, "cached_version": d.cached_version(survey_id)},
        )
    ).first()
    if row is None or row.status == SurveyStatus.DRAFT:
        raise NotFound(f"No survey {survey_id}.")
    compiled = d.cached(survey_id, row.definition_version)
    if compiled is None:  # not cached, or evicted meanwhile
        raw = row.definition
        if raw is None:
            raw = await connection.scalar(_DEFINITION, {"survey_id": survey_id})
        compiled = d.remember(survey_id, row.definition_version, raw)
    return SubmissionSurvey.of(row._mapping, compiled)


def _check_status(survey: SurveyFacts, channel: Channel) -> None:
    if channel is Channel.WEB and survey.status != SurveyStatus.PUBLISHED:
        raise SurveyNotOpen(
            "The survey is not open for responses (it is closed)."
            if survey.status == SurveyStatus.CLOSED
            else "The survey is not published."
        )
    if survey.status == SurveyStatus.DRAFT:
        raise SurveyNotOpen("Responses can be entered once the survey is published.")


async def _refuse_closed_phase(session: AsyncSession, survey: SurveyFacts) -> None:
    """Raise the precise problem (404, 409 `phase-closed`) when surveys are not open."""
    await guard.refuse_if_closed(session, survey.process_id, "surveys")


# The submission's one read besides the survey: is the module open, and which area is it.
_OPEN_AND_AREA = select(
    func.coalesce(guard.open_now("surveys"), false()).label("open"),
    places.AREA_BY_CODE_ID.label("area_id"),
)


async def surveys_open(session: AsyncSession, process_id: UUID) -> bool:
    """The prebuilt check on its own (for tests and callers without an area)."""
    row = (
        await session.execute(_OPEN_AND_AREA, {"process_id": process_id, "level": "", "code": ""})
    ).one()
    return bool(row.open)


async def _use_invitation(
    session: AsyncSession, settings: Settings, survey: SurveyFacts, code: str | None
) -> None:
    if not code:
        raise InvalidInput(
            _("This survey needs the invitation code from your letter."),
            errors=[
                FieldError(
                    field="invitation_code",
                    source="body",
                    message=_("Enter the invitation code from your letter."),
                )
            ],
        )
    code_hash = invitation_hash(settings.secret_key, survey.id, code)
    used = await session.scalar(
        update(InvitationCode)
        .where(
            InvitationCode.code_hash == code_hash,
            InvitationCode.survey_id == survey.id,
            InvitationCode.used.is_(False),
        )
        # No time of use, and `updated_at` kept as it was: a stored time here would lie next
        # to the response's `submitted_at` and link the code to its answers.
        .values(used=True, updated_at=InvitationCode.updated_at)
        .returning(InvitationCode.id)
    )
    if used is not None:
        return
    exists = await session.scalar(
        select(InvitationCode.id).where(
            InvitationCode.code_hash == code_hash, InvitationCode.survey_id == survey.id
        )
    )
    if exists is not None:
        raise InvitationUsed(_("This invitation code has already been used."))
    raise InvalidInput(
        _("This invitation code is not valid for this survey."),
        errors=[
            FieldError(
                field="invitation_code",
                source="body",
                message=_("Check the invitation code: it is not valid for this survey."),
            )
        ],
    )


_MAX_ROWS_PER_INSERT = 5_000  # asyncpg allows 32 767 parameters per statement


async def _insert_many(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _MAX_ROWS_PER_INSERT):
        await session.execute(table.insert().values(rows[start : start + _MAX_ROWS_PER_INSERT]))


_pairs = (
    func.unnest(
        bindparam("questions", type_=ARRAY(String)), bindparam("options", type_=ARRAY(String))
    )
    .table_valued("question_key", "option_key")
    .render_derived(name="chosen")
)


async def _insert_derived(
    session: AsyncSession, survey_id: UUID, rows: Sequence[tuple[UUID, UUID, Prepared]]
) -> None:
    """The option and need rows of stored responses (an import), given as (response id, area
    id, prepared): one multi-row INSERT each. Need rows carry the response's area and age
    stratum."""
    options = [
        {"response_id": rid, "survey_id": survey_id, "question_key": q, "option_key": o}
        for rid, _, prepared in rows
        for q, o in prepared.options
    ]
    if options:
        await _insert_many(session, survey_answer_options, options)
    needed = [
        (rid, area_id, prepared.age_stratum, key)
        for rid, area_id, prepared in rows
        for key in sorted(prepared.needs)
    ]
    record_keys = dict(
        (
            await session.execute(
                select(SurveyResponse.id, SurveyResponse.record_key).where(
                    SurveyResponse.id.in_({rid for rid, *_ in needed})
                )
            )
        )
        .tuples()
        .all()
    )
    if not needed:
        return
    ids = {
        row[0]: row[1]
        for row in await session.execute(
            select(NeedCategory.key, NeedCategory.id).where(
                NeedCategory.key.in_({key for *_, key in needed})
            )
        )
    }
    values = [
        {
            "response_id": rid,
            "need_category_id": ids[key],
            "survey_id": survey_id,
            "area_id": area_id,
            "age_stratum": age_stratum,
            "record_key": record_keys[rid],
        }
        for rid, area_id, age_stratum, key in needed
        if key in ids
    ]
    await _insert_many(session, survey_response_needs, values)


def _store_one(*, with_record: bool) -> Select[UUID]:
    """One response with its option and need rows in one statement: an INSERT of the response
    (nothing if its pseudonym or receipt code is taken) whose RETURNING feeds the INSERTs of the
    derived rows, so they exist exactly when the response does. Bind parameters: the response's
    columns prefixed `r_`; `questions`/`options`, parallel arrays of the chosen options; `keys`,
    the need categories expressed. `with_record`: the Idempotency-Key record too (its columns
    prefixed `i_`; none is stored when `i_idempotency_key` is NULL). Returns the response's id
    (no row: nothing stored)."""
    table = table_of(SurveyResponse)
    response = (
        insert(table)
        .values({c.name: bindparam(f"r_{c.name}", type_=c.type) for c in _columns(table)})
        .on_conflict_do_nothing()
        .returning(
            table.c.id,
            table.c.survey_id,
            table.c.area_id,
            table.c.age_stratum,
            table.c.record_key,
        )
        .cte("response")
    )
    options = survey_answer_options.insert().from_select(
        ["response_id", "survey_id", "question_key", "option_key"],
        select(response.c.id, response.c.survey_id, _pairs.c.question_key, _pairs.c.option_key)
        .select_from(response)
        .join(_pairs, true()),
    )
    needs = survey_response_needs.insert().from_select(
        ["response_id", "need_category_id", "survey_id", "area_id", "age_stratum", "record_key"],
        select(
            response.c.id,
            NeedCategory.id,
            response.c.survey_id,
            response.c.area_id,
            response.c.age_stratum,
            response.c.record_key,
        )
        .select_from(response)
        .join(NeedCategory, NeedCategory.key == any_(bindparam("keys", type_=ARRAY(String)))),
    )
    statement = select(response.c.id).add_cte(options.cte("options"), needs.cte("needs"))
    if with_record:
        records = idempotency.RECORDS
        columns = _columns(records)
        record = records.insert().from_select(
            [c.name for c in columns],
            select(*(bindparam(f"i_{c.name}", type_=c.type) for c in columns))
            .select_from(response)
            .where(bindparam("i_idempotency_key", type_=String).is_not(None)),
        )
        statement = statement.add_cte(record.cte("record"))
    return statement


def _columns(table: Table) -> list[Any]:
    return [c for c in table.c if c.name != "sa_orm_sentinel"]  # advanced-alchemy's, unused


_STORE_ONE = _store_one(with_record=False)


def _response_row(
    survey: SurveyFacts,
    prepared: Prepared,
    area_id: UUID,
    channel: Channel,
    now: datetime.datetime,
    pseudonym_value: bytes | None,
) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "survey_id": survey.id,
        "area_id": area_id,
        "age_stratum": prepared.age_stratum,
        "channel": channel.value,
        "submitted_at": now,
        "receipt_code": new_receipt_code(),
        "pseudonym": pseudonym_value,
        "definition_version": survey.definition_version,
        "answers": prepared.answers,
        "record_key": new_record_key(),
        "created_at": now,
        "updated_at": now,
    }


async def submit_response(
    session: AsyncSession,
    settings: Settings,
    survey: SurveyFacts,
    submission: s.ResponseSubmission | s.PaperResponse,
    *,
    channel: Channel,
    pseudonym_source: str | None,
    invitation_code: str | None,
) -> SurveyResponse:
    """Validate and store one response; return it (not attached to the session) with its
    `receipt_code`.

    Web responses need a published survey in a process whose active phase opens surveys
    (409 `survey-not-open` / `phase-closed`); staff channels (paper, phone) need a published
    or closed survey. Invalid answers: 400 naming `answers.<key>` (nothing stored). Open
    surveys: `pseudonym_source` (the respondent token) is stored only as its keyed per-survey
    pseudonym; a second response with it is 409 `already-answered`. Invitation surveys (web):
    the code is used up atomically in this transaction (409 `invitation-code-used`) and not
    stored with the response."""
    _check_status(survey, channel)
    compiled = _compiled(survey)
    try:
        prepared = prepare(compiled.definition, submission.answers, submission.other)
    except InvalidAnswers:
        if channel is Channel.WEB:  # a closed phase is the first thing to tell
            await _refuse_closed_phase(session, survey)
        raise
    connection = await session.connection()  # Core statements: skip the ORM layer
    found = (
        await connection.execute(
            _OPEN_AND_AREA,
            {
                "process_id": survey.process_id,
                "level": compiled.social_area.level,
                "code": prepared.area_code,
            },
        )
    ).one()
    if channel is Channel.WEB and not found.open:
        await _refuse_closed_phase(session, survey)
        raise SurveyNotOpen("Participation in surveys is not open in this process.")
    area_id: UUID | None = found.area_id
    if area_id is None:
        raise InvalidAnswers(
            _("Some answers are missing or not valid."),
            errors=[
                FieldError(
                    field=_field(compiled.social_area.key),
                    source="body",
                    message=_("Choose your area from the list."),
                )
            ],
        )
    pseudonym_value: bytes | None = None
    if channel is Channel.WEB:
        if survey.access_mode == AccessMode.INVITATION:
            await _use_invitation(session, settings, survey, invitation_code)
        elif pseudonym_source is not None:
            check_respondent_token(pseudonym_source)
            pseudonym_value = pseudonym(
                settings.secret_key, survey.pseudonym_salt, pseudonym_source
            )
    now = datetime.datetime.now(datetime.UTC)
    table = table_of(SurveyResponse)
    chosen = {
        "questions": [q for q, _ in prepared.options],
        "options": [o for _, o in prepared.options],
        "keys": sorted(prepared.needs),
    }
    for _attempt in range(5):
        row = _response_row(survey, prepared, area_id, channel, now, pseudonym_value)
        params = {f"r_{name}": value for name, value in row.items()}
        inserted = await connection.scalar(_STORE_ONE, params | chosen)
        if inserted is not None:
            break
        if pseudonym_value is not None and await session.scalar(
            select(table.c.id).where(
                and_(table.c.survey_id == survey.id, table.c.pseudonym == pseudonym_value)
            )
        ):
            raise AlreadyAnswered(_("You have already taken part in this survey. Thank you!"))
        # otherwise the receipt code collided (1 in 2^40): draw another one
    else:  # pragma: no cover - five collisions in a row do not happen
        raise RuntimeError("could not allocate a receipt code")
    return SurveyResponse(**{k: v for k, v in row.items() if k not in ("created_at", "updated_at")})


def receipt_of(response: SurveyResponse) -> s.ResponseReceipt:
    return s.ResponseReceipt(
        survey_id=response.survey_id,
        receipt_code=format_code(response.receipt_code),
        submitted_at=response.submitted_at,
    )


async def submit_web_response(
    engine: AsyncEngine,
    request_session: Callable[[], AsyncSession],
    settings: Settings,
    survey_id: UUID,
    submission: s.ResponseSubmission,
    *,
    idempotency_key: str | None,
    respondent_token: str | None,
    receipt_location: Callable[[str], str],
) -> StoredResponse:
    """A resident's web submission, stored at most once per `Idempotency-Key`. The API
    (SubmitSurveyResponse) and the HTML form both come through here — same operation, key and
    body fingerprint — so a form post and survey.js's offline send of the same answers share one
    stored response.

    The common cases (a valid response to an open survey, a replay) take the driver path
    (`_submit_on_driver`, three statements in a transaction of its own); everything else — and
    request's session, created by `request_session` only then (the request commits it)."""
    operation = f"SubmitSurveyResponse:{survey_id}"
    # Keyed, and without the invitation code: a stored fingerprint must not let anyone test
    # the codes of a mailing list against it (docs/PRIVACY.md).
    request_fingerprint = fingerprint(
        settings.secret_key,
        operation.encode(),
        msgspec.json.encode(
            msgspec.structs.replace(submission, invitation_code=None), order="sorted"
        ),
    )
    if idempotency_key is not None:
        idempotency.check_key(idempotency_key)
    fast = await _submit_on_driver(
        engine,
        settings,
        survey_id,
        submission,
        operation=operation,
        key=idempotency_key,
        request_fingerprint=request_fingerprint,
        respondent_token=respondent_token,
        receipt_location=receipt_location,
    )
    if fast is not None:
        return fast
    session = request_session()
    survey = await load_for_submission(session, survey_id)

    async def produce() -> tuple[int, Any, dict[str, str]]:
        stored = await submit_response(
            session,
            settings,
            survey,
            submission,
            channel=Channel.WEB,
            pseudonym_source=respondent_token,
            invitation_code=submission.invitation_code,
        )
        receipt = receipt_of(stored)
        return 201, receipt, {"Location": receipt_location(receipt.receipt_code)}

    return await run_idempotent(
        session,
        operation=operation,
        key=idempotency_key,
        request_fingerprint=request_fingerprint,
        produce=produce,
        retention=settings.idempotency_retention,
    )


# -- the driver path -----------------------------------------------------------------------------
# 1. The survey (its definition only if the cached parse is stale) and, with a key, the key's
#    in-flight lock.
_FAST_SURVEY = DriverStatement(
    _SUBMISSION_SURVEY.add_columns(
        case(
            (bindparam("lock_id", type_=BigInteger).is_(None), true()),
            else_=func.pg_try_advisory_xact_lock(bindparam("lock_id", type_=BigInteger)),
        ).label("locked")
    )
)
# 2. After the lock (a statement of its own, so that its snapshot sees a record committed by the
#    lock's previous holder): the key's live record, whether surveys are open, the area.
_FAST_CHECK = DriverStatement(
    select(*_OPEN_AND_AREA.selected_columns, *idempotency.LIVE_COLUMNS)
    .select_from(
        select(literal(1).label("one"))
        .subquery("one")
        .outerjoin(idempotency.RECORDS, idempotency.LIVE_CONDITION)
    )
    .add_cte(idempotency.EXPIRED)
)
# 3. The response, its derived rows and the key's record.
_FAST_STORE = DriverStatement(_store_one(with_record=True))


async def _submit_on_driver(
    engine: AsyncEngine,
    settings: Settings,
    survey_id: UUID,
    submission: s.ResponseSubmission,
    *,
    operation: str,
    key: str | None,
    request_fingerprint: bytes,
    respondent_token: str | None,
    receipt_location: Callable[[str], str],
) -> StoredResponse | None:
    """Store an open survey's valid web response, or replay its key's stored answer; None for
    anything else (the caller then takes the general path, whose problems are the reference)."""
    if respondent_token is not None and not valid_respondent_token(respondent_token):
        return None
    async with driver_transaction(engine) as db:
        facts = await db.row(
            _FAST_SURVEY,
            {
                "survey_id": survey_id,
                "cached_version": d.cached_version(survey_id),
                "lock_id": None if key is None else idempotency.lock_id(operation, key),
            },
        )
        if facts is None or facts["status"] != SurveyStatus.PUBLISHED:
            return None
        if not facts["locked"]:
            raise idempotency.in_flight()
        compiled = d.cached(survey_id, facts["definition_version"])
        if compiled is None:
            if facts["definition"] is None:
                return None  # evicted meanwhile
            compiled = d.remember(survey_id, facts["definition_version"], facts["definition"])
        try:
            prepared = prepare(compiled.definition, submission.answers, submission.other)
        except InvalidAnswers:
            return None
        check = await db.row(
            _FAST_CHECK,
            {
                "process_id": facts["process_id"],
                "level": compiled.social_area.level,
                "code": prepared.area_code,
                "operation": operation,
                "key": key,
            },
        )
        assert check is not None  # one row, always
        if check["fingerprint"] is not None:
            if check["fingerprint"] != request_fingerprint:
                raise idempotency.key_reused()
            return idempotency.replay(check)
        if not check["open"] or check["area_id"] is None or facts["access_mode"] != AccessMode.OPEN:
            return None
        pseudonym_value = (
            None
            if respondent_token is None
            else pseudonym(settings.secret_key, facts["pseudonym_salt"], respondent_token)
        )
        survey = SubmissionSurvey.of(facts, compiled)
        now = datetime.datetime.now(datetime.UTC)
        chosen = {
            "questions": [q for q, _ in prepared.options],
            "options": [o for _, o in prepared.options],
            "keys": sorted(prepared.needs),
        }
        for _attempt in range(5):
            row = _response_row(
                survey, prepared, check["area_id"], Channel.WEB, now, pseudonym_value
            )
            receipt = s.ResponseReceipt(
                survey_id=survey_id,
                receipt_code=format_code(row["receipt_code"]),
                submitted_at=now,
            )
            body = msgspec.json.encode(receipt)
            headers = {"Location": receipt_location(receipt.receipt_code)}
            record = (
                idempotency.record_values(
                    operation,
                    key,
                    request_fingerprint,
                    201,
                    body,
                    headers,
                    retention=settings.idempotency_retention,
                )
                if key is not None
                else dict.fromkeys(_RECORD_COLUMNS)
            )
            values = (
                {f"r_{name}": value for name, value in row.items()}
                | {f"i_{name}": value for name, value in record.items()}
                | chosen
            )
            if await db.value(_FAST_STORE, values) is not None:
                return StoredResponse(201, body, headers, replayed=False)
            if pseudonym_value is not None:
                return None  # answered before, or a receipt collision: the general path says
        raise RuntimeError("could not allocate a receipt code")  # pragma: no cover


_RECORD_COLUMNS = [c.name for c in _columns(idempotency.RECORDS)]


async def insert_prepared(
    session: AsyncSession,
    survey: Survey,
    rows: Sequence[tuple[Prepared, UUID]],
    channel: Channel,
) -> int:
    """Store already validated responses (an import) with multi-row INSERTs."""
    now = datetime.datetime.now(datetime.UTC)
    values = [
        _response_row(survey, prepared, area_id, channel, now, None) for prepared, area_id in rows
    ]
    await _insert_many(session, table_of(SurveyResponse), values)
    await _insert_derived(
        session,
        survey.id,
        [
            (value["id"], area_id, prepared)
            for value, (prepared, area_id) in zip(values, rows, strict=True)
        ],
    )
    return len(values)


async def get_receipt(session: AsyncSession, code: str) -> datetime.datetime | None:
    """When the response with this receipt code arrived (None if there is none)."""
    canonical = normalise_code(code)
    if len(canonical) != RECEIPT_LENGTH or any(c not in CROCKFORD for c in canonical):
        return None
    return await session.scalar(
        select(SurveyResponse.submitted_at).where(SurveyResponse.receipt_code == canonical)
    )


async def withdraw(session: AsyncSession, code: str) -> None:
    """Delete the response with this receipt code, with its option and need rows, while its
    survey is open for responses (issue #8 §4). 404 if there is none; 409 once the survey is
    closed or its process's survey phase is over (results may have been published). An
    invitation code it used stays used: nothing links the two."""
    canonical = normalise_code(code)
    if len(canonical) != RECEIPT_LENGTH or any(c not in CROCKFORD for c in canonical):
        raise NotFound("There is no response with this receipt code.")
    row = (
        await session.execute(
            select(SurveyResponse.id, SurveyResponse.survey_id)
            .where(SurveyResponse.receipt_code == canonical)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("There is no response with this receipt code.")
    survey = await load_for_submission(session, row.survey_id)
    _check_status(survey, Channel.WEB)
    await _refuse_closed_phase(session, survey)
    await session.execute(delete(SurveyResponse).where(SurveyResponse.id == row.id))
