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

Round trips for a web submission (the survey itself is loaded by the caller, its parsed
definition cached in-process): whether the phase is open, the area, [the invitation code], one
INSERT of the response, one multi-row INSERT each for options and needs.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import (
    ARRAY,
    Select,
    String,
    Table,
    Uuid,
    and_,
    any_,
    bindparam,
    cast,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from uuid_utils.compat import uuid7

from quartier.areas.models import AreaLevel, SocialArea
from quartier.core.errors import Conflict, FieldError, InvalidInput, Problem
from quartier.core.i18n import gettext as _
from quartier.core.i18n import ngettext
from quartier.core.idempotency import StoredResponse, fingerprint, run_idempotent
from quartier.processes import participation
from quartier.processes.models import (
    ParticipationOverride,
    PlanningProcess,
    ProcessPhase,
    ProcessStatus,
    process_areas,
)
from quartier.settings import Settings
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
RESPONDENT_TOKEN_MIN = 16
RESPONDENT_TOKEN_MAX = 256


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
        if len(value) > question.max_length:
            return ngettext(
                "Enter at most %(num)s character.",
                "Enter at most %(num)s characters.",
                question.max_length,
            )
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
            if len(text) > question.other.max_length:
                errors.append(
                    FieldError(
                        field=_field(key),
                        source="body",
                        message=ngettext(
                            "Enter at most %(num)s character.",
                            "Enter at most %(num)s characters.",
                            question.other.max_length,
                        ),
                    )
                )
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

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})
RECEIPT_LENGTH = 8  # 40 bits
INVITATION_LENGTH = 10  # 50 bits


def _crockford(length: int) -> str:
    bits = secrets.randbits(5 * length)
    return "".join(CROCKFORD[(bits >> (5 * i)) & 31] for i in range(length))


def normalise_code(code: str) -> str:
    """A receipt or invitation code as typed (any case, hyphens, spaces, I/L/O for 1/0) in
    its canonical form."""
    return "".join(code.split()).replace("-", "").upper().translate(_CONFUSABLE)


def format_code(code: str) -> str:
    """Codes are shown in groups for reading aloud and typing: `7KQ2-MX9P`."""
    half = (len(code) + 1) // 2
    return f"{code[:half]}-{code[half:]}"


def new_receipt_code() -> str:
    return _crockford(RECEIPT_LENGTH)


def new_invitation_code() -> str:
    return _crockford(INVITATION_LENGTH)


def pseudonym(secret_key: str, salt: bytes, respondent_token: str) -> bytes:
    """The keyed per-survey pseudonym of a respondent token: HMAC-SHA256 keyed with
    SECRET_KEY ‖ the survey's salt. It cannot be reversed, and the same token gives unrelated
    pseudonyms in different surveys."""
    key = secret_key.encode() + salt
    return hmac.new(key, respondent_token.encode(), hashlib.sha256).digest()


def invitation_hash(secret_key: str, survey_id: UUID, code: str) -> str:
    """The keyed hash of an invitation code kept in the database (hex, 64 characters)."""
    message = survey_id.bytes + normalise_code(code).encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def check_respondent_token(token: str) -> None:
    if not (RESPONDENT_TOKEN_MIN <= len(token) <= RESPONDENT_TOKEN_MAX) or not token.isprintable():
        raise Problem(
            status_code=400,
            slug="validation-error",
            title="Invalid input",
            detail=f"The respondent token must be {RESPONDENT_TOKEN_MIN} to {RESPONDENT_TOKEN_MAX} "
            "printable characters (e.g. a random value the page keeps).",
            errors=[FieldError(field="Respondent-Token", source="header", message="invalid value")],
        )


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


def _area_candidates() -> Select[UUID, str, str]:
    """Areas at the level `:level` within the scope of the process `:process_id` (any area at
    the level if the process has none): descendants of a scope area, or ancestors of one.
    Built once with bind parameters, so that each use skips SQL construction and compiling."""
    process = bindparam("process_id", type_=Uuid)
    scope = select(process_areas.c.area_id).where(process_areas.c.process_id == process)
    scope_area = aliased(SocialArea)
    ancestors_of_scope = select(func.unnest(scope_area.path)).where(scope_area.id.in_(scope))
    in_scope = or_(
        ~scope.exists(),
        SocialArea.path.overlap(
            select(func.array_agg(process_areas.c.area_id))
            .where(process_areas.c.process_id == process)
            .scalar_subquery()
        ),
        SocialArea.id.in_(ancestors_of_scope),
    )
    return (
        select(SocialArea.id, SocialArea.code, SocialArea.name)
        .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
        .where(AreaLevel.key == bindparam("level", type_=String), in_scope)
    )


_AREA_CHOICES = _area_candidates().order_by(SocialArea.name, SocialArea.code)
_AREAS_BY_CODE = _area_candidates().where(
    SocialArea.code == any_(bindparam("codes", type_=ARRAY(String)))
)


async def resolve_areas(session: AsyncSession, survey: Survey, codes: set[str]) -> dict[str, UUID]:
    """Area ids by code, for the codes that name an area the survey's social-area question
    offers (at its level, within the process's scope)."""
    if not codes:
        return {}
    question = d.compiled(survey).social_area
    rows = await session.execute(
        _AREAS_BY_CODE,
        {"process_id": survey.process_id, "level": question.level, "codes": sorted(codes)},
    )
    return {row[1]: row[0] for row in rows}


async def area_choices(session: AsyncSession, survey: Survey) -> list[tuple[UUID, str, str]]:
    """(id, code, name) of the areas a respondent can choose, ordered by name."""
    question = d.compiled(survey).social_area
    rows = await session.execute(
        _AREA_CHOICES, {"process_id": survey.process_id, "level": question.level}
    )
    return [(row[0], row[1], row[2]) for row in rows]


def _check_status(survey: Survey, channel: Channel) -> None:
    if channel is Channel.WEB and survey.status != SurveyStatus.PUBLISHED:
        raise SurveyNotOpen(
            "The survey is not open for responses (it is closed)."
            if survey.status == SurveyStatus.CLOSED
            else "The survey is not published."
        )
    if survey.status == SurveyStatus.DRAFT:
        raise SurveyNotOpen("Responses can be entered once the survey is published.")


async def _refuse_closed_phase(session: AsyncSession, survey: Survey) -> None:
    """Raise the precise problem (404, 409 `phase-closed`) when surveys are not open."""
    if not await participation.is_open(session, survey.process_id, "surveys"):
        await participation.ensure_open(session, survey.process_id, "surveys")
        raise SurveyNotOpen("Participation in surveys is not open in this process.")


def _surveys_open_now() -> Any:
    """Whether the surveys module is open in the process `:process_id` right now — the rule of
    `participation.is_open` (active process; the override of the active phase, else the
    module's default phases), prebuilt for the submission path. tests/surveys checks that both
    agree for every phase and override."""
    module = participation.get_module("surveys")
    override = (
        select(ParticipationOverride.is_open)
        .where(
            ParticipationOverride.process_id == PlanningProcess.id,
            ParticipationOverride.module == module.key,
            ParticipationOverride.phase == ProcessPhase.phase,
        )
        .scalar_subquery()
    )
    by_default = cast(ProcessPhase.phase, String).in_(
        sorted(phase.value for phase in module.default_phases)
    )
    return (
        select(
            and_(
                PlanningProcess.status == ProcessStatus.ACTIVE, func.coalesce(override, by_default)
            )
        )
        .join(
            ProcessPhase,
            and_(ProcessPhase.process_id == PlanningProcess.id, ProcessPhase.is_active),
        )
        .where(PlanningProcess.id == bindparam("process_id", type_=Uuid))
        .scalar_subquery()
    )


# The submission's one read besides the survey: is the module open, and which area is it.
_OPEN_AND_AREA = select(
    func.coalesce(_surveys_open_now(), false()).label("open"),
    _area_candidates()
    .where(SocialArea.code == bindparam("code", type_=String))
    .with_only_columns(SocialArea.id)
    .limit(1)
    .scalar_subquery()
    .label("area_id"),
)


async def surveys_open(session: AsyncSession, process_id: UUID) -> bool:
    """The prebuilt check on its own (for tests and callers without an area)."""
    row = (
        await session.execute(_OPEN_AND_AREA, {"process_id": process_id, "level": "", "code": ""})
    ).one()
    return bool(row.open)


async def _use_invitation(
    session: AsyncSession, settings: Settings, survey: Survey, code: str | None
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
            InvitationCode.used_at.is_(None),
        )
        .values(used_at=func.now())
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
# One response's derived rows, each one statement built once: the chosen options from two
# parallel arrays, the need categories from their keys.
_OPTIONS_OF_ONE = survey_answer_options.insert().from_select(
    ["response_id", "survey_id", "question_key", "option_key"],
    select(
        bindparam("response_id", type_=Uuid),
        bindparam("survey_id", type_=Uuid),
        _pairs.c.question_key,
        _pairs.c.option_key,
    ),
)
_NEEDS_OF_ONE = survey_response_needs.insert().from_select(
    ["response_id", "need_category_id", "survey_id", "area_id", "age_stratum"],
    select(
        bindparam("response_id", type_=Uuid),
        NeedCategory.id,
        bindparam("survey_id", type_=Uuid),
        bindparam("area_id", type_=Uuid),
        bindparam("age_stratum", type_=String),
    ).where(NeedCategory.key == any_(bindparam("keys", type_=ARRAY(String)))),
)


async def _insert_derived(
    session: AsyncSession, survey_id: UUID, rows: Sequence[tuple[UUID, UUID, Prepared]]
) -> None:
    """The option and need rows of stored responses, given as (response id, area id, prepared):
    one multi-row INSERT each. Need rows carry the response's area and age stratum."""
    if len(rows) == 1:
        response_id, area_id, prepared = rows[0]
        connection = await session.connection()  # Core statements: skip the ORM layer
        if prepared.options:
            await connection.execute(
                _OPTIONS_OF_ONE,
                {
                    "response_id": response_id,
                    "survey_id": survey_id,
                    "questions": [q for q, _ in prepared.options],
                    "options": [o for _, o in prepared.options],
                },
            )
        if prepared.needs:
            await connection.execute(
                _NEEDS_OF_ONE,
                {
                    "response_id": response_id,
                    "survey_id": survey_id,
                    "area_id": area_id,
                    "age_stratum": prepared.age_stratum,
                    "keys": sorted(prepared.needs),
                },
            )
        return
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
        }
        for rid, area_id, age_stratum, key in needed
        if key in ids
    ]
    await _insert_many(session, survey_response_needs, values)


_INSERT_RESPONSE = (
    insert(table_of(SurveyResponse))
    .on_conflict_do_nothing()
    .returning(table_of(SurveyResponse).c.id)
)


def _response_row(
    survey: Survey,
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
        "created_at": now,
        "updated_at": now,
    }


async def submit_response(
    session: AsyncSession,
    settings: Settings,
    survey: Survey,
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
    compiled = d.compiled(survey)
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
    for _attempt in range(5):
        row = _response_row(survey, prepared, area_id, channel, now, pseudonym_value)
        inserted = await connection.scalar(_INSERT_RESPONSE, row)
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
    await _insert_derived(session, survey.id, [(row["id"], area_id, prepared)])
    return SurveyResponse(**{k: v for k, v in row.items() if k not in ("created_at", "updated_at")})


def receipt_of(response: SurveyResponse) -> s.ResponseReceipt:
    return s.ResponseReceipt(
        survey_id=response.survey_id,
        receipt_code=format_code(response.receipt_code),
        submitted_at=response.submitted_at,
    )


async def submit_web_response(
    session: AsyncSession,
    settings: Settings,
    survey: Survey,
    submission: s.ResponseSubmission,
    *,
    idempotency_key: str | None,
    respondent_token: str | None,
    receipt_location: Callable[[str], str],
) -> StoredResponse:
    """A resident's web submission, stored at most once per `Idempotency-Key`. The API
    (SubmitSurveyResponse) and the HTML form both come through here — same operation, key and
    body fingerprint — so a form post and survey.js's offline send of the same answers share one
    stored response."""

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
        operation=f"SubmitSurveyResponse:{survey.id}",
        key=idempotency_key,
        request_fingerprint=fingerprint(msgspec.json.encode(submission, order="sorted")),
        produce=produce,
    )


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
