"""HTML pages of surveys: the resident flow and the planners' results.

Resident flow (public, works without JavaScript; frontend/static/js/survey.js only enhances):

    GET  /surveys/{id}            intro: purpose, who asks, duration, privacy, Start
                                  (the invitation code first on invitation surveys)
    POST /surveys/{id}/respond    one step: start, continue, back, change, resume — answers one
                                  page of questions (as the definition groups them) per screen
    GET  /surveys/{id}/respond    the intro again (a reload with JavaScript resumes from there)
    POST /surveys/{id}/submit     "check your answers" → stored → confirmation with receipt
                                  (with `offline_pages`: also the pages answered offline)
    GET  /surveys/{id}/offline    every page blank, for survey.js to answer offline from the
                                  browser's cache (surveys/offline.py has the service worker)

Nothing is stored before the submission. The answers so far travel with every form post in one
hidden field, `state`: JSON signed with an HMAC of SECRET_KEY bound to the survey, so a page
never trusts answers it did not see validated, and no server-side session exists. Which page
comes next is decided by the survey's conditions (`definition.visible_pages`/`visible_questions`);
each page is validated with `responses.validate_answers`, and the submission goes through the
same idempotent service call as the JSON API (`SubmitSurveyResponse`), with an Idempotency-Key
rendered into the check page: a double click or a reload of the confirmation stores one
response and shows the same receipt.

Open surveys give the browser a random respondent token per survey in a signed, HttpOnly,
SameSite=Lax cookie; it is the `pseudonym_source` of the submission (stored only as a keyed
pseudonym), so a second submission from the same browser gets "you have already taken part".

Results (staff): GET /dashboard/surveys/{id}/results — per-question counts and shares with
server-rendered SVG bar charts and tables, per social area at a chosen level, and the
aggregated needs per area; GET /dashboard/surveys lists the surveys.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.datastructures import Cookie, FormMultiDict
from litestar.params import QueryParameter
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased

from quartier.areas import maps
from quartier.areas import services as areas
from quartier.areas.models import SocialArea
from quartier.core import i18n, idempotency
from quartier.core.errors import Conflict, FieldError, InvalidInput, PhaseClosed, Problem
from quartier.core.i18n import gettext as _
from quartier.core.security import PLANNERS, PUBLIC, STAFF, access, principal_of
from quartier.core.web import language_cookie
from quartier.db import engine_of
from quartier.participation import codes, pseudonyms
from quartier.participation.browser import RespondentCookie, new_respondent_token
from quartier.processes import participation
from quartier.processes.models import PlanningProcess
from quartier.settings import Settings
from quartier.stats.cellkey import Cell, Release
from quartier.surveys import aggregation, offline, services
from quartier.surveys import definition as d
from quartier.surveys import responses as r
from quartier.surveys import schemas as s
from quartier.surveys.models import (
    AccessMode,
    InvitationCode,
    Survey,
    SurveyResponse,
    SurveyStatus,
)

AnyRequest = Request[Any, Any, Any]
NO_STORE = {"Cache-Control": "no-store"}
STATE_MAX_CHARS = 400_000
RADIOS_UP_TO = 8  # longer lists of areas become a <select> grouped by parent area
WRAP_LABEL = 38  # characters per line of a bar-chart label (fits 320 px screens)


# -- the signed answer state ---------------------------------------------------------------------


class FlowState(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the respondent has answered so far, carried in the `state` field of every form.

    `seen`: pages confirmed with Continue; `checking`: the respondent came from "check your
    answers" and returns there; `code`: the invitation code, checked at the start and used up
    by the submission; `nonce`: random per run through the survey, so the Idempotency-Key of a
    submission is stable for the same answers and differs between respondents."""

    answers: dict[str, Any] = msgspec.field(default_factory=dict)
    other: dict[str, str] = msgspec.field(default_factory=dict)
    seen: list[str] = msgspec.field(default_factory=list)
    checking: bool = False
    code: str | None = None
    nonce: str = ""


class StateInvalid(InvalidInput):
    slug, title = "survey-state-invalid", "Survey answers could not be read"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: bytes, survey_id: UUID, payload: bytes) -> bytes:
    message = purpose + b"\x00" + survey_id.bytes + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def encode_state(secret: str, survey_id: UUID, state: FlowState) -> str:
    payload = msgspec.json.encode(state)
    return f"{_b64(payload)}.{_b64(_mac(secret, b'survey-state', survey_id, payload))}"


def decode_state(secret: str, survey_id: UUID, token: str | None) -> FlowState:
    """The state of a form post; an empty one for a first step, 400 if it was altered."""
    if not token:
        return FlowState(nonce=secrets.token_urlsafe(12))
    body, _sep, mac = token.partition(".")
    try:
        if len(token) > STATE_MAX_CHARS:
            raise ValueError("too long")
        payload = _unb64(body)
        if not hmac.compare_digest(_unb64(mac), _mac(secret, b"survey-state", survey_id, payload)):
            raise ValueError("signature")
        return msgspec.json.decode(payload, type=FlowState)
    except (ValueError, binascii.Error, msgspec.DecodeError):
        raise StateInvalid(
            _("Your answers could not be read. Please start the survey again."),
            errors=[FieldError(field="state", source="body", message="invalid")],
        ) from None


def idempotency_key(secret: str, survey_id: UUID, state: FlowState, body: bytes) -> str:
    """The Idempotency-Key of a submission: the same for the same run and answers."""
    return _b64(_mac(secret, b"survey-submit", survey_id, state.nonce.encode() + body))[:32]


# -- the respondent cookie (open surveys) --------------------------------------------------------


SURVEY_RESPONDENT = RespondentCookie(prefix="rs", purpose=b"respondent")


def respondent_cookie_name(settings: Settings, survey_id: UUID) -> str:
    return SURVEY_RESPONDENT.name(settings, survey_id)


def respondent_token(request: AnyRequest, settings: Settings, survey_id: UUID) -> str | None:
    """The browser's respondent token for this survey, if its cookie is there and genuine."""
    return SURVEY_RESPONDENT.token(request, settings, survey_id)


def respondent_cookie(settings: Settings, survey_id: UUID, token: str) -> Cookie:
    return SURVEY_RESPONDENT.cookie(settings, survey_id, token)


@dataclass(slots=True)
class Respondent:
    """Who is answering, as far as the server knows: a token (open surveys) and whether it
    is new (then the response sets its cookie)."""

    token: str | None
    new: bool

    def cookies(self, settings: Settings, survey_id: UUID) -> list[Cookie]:
        if self.new and self.token:
            return [respondent_cookie(settings, survey_id, self.token)]
        return []


def _respondent(request: AnyRequest, settings: Settings, survey: Survey) -> Respondent:
    if survey.access_mode != AccessMode.OPEN:
        return Respondent(token=None, new=False)
    token = respondent_token(request, settings, survey.id)
    if token is None:
        return Respondent(token=new_respondent_token(), new=True)
    return Respondent(token=token, new=False)


async def _already_answered(
    session: AsyncSession, settings: Settings, survey: Survey, respondent: Respondent
) -> bool:
    if respondent.token is None or respondent.new:
        return False
    pseudonym = pseudonyms.pseudonym(settings.secret_key, survey.pseudonym_salt, respondent.token)
    found = await session.scalar(
        select(SurveyResponse.id)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.pseudonym == pseudonym)
        .limit(1)
    )
    return found is not None


async def _invitation_error(
    session: AsyncSession, settings: Settings, survey: Survey, code: str
) -> str | None:
    """Why an invitation code cannot start the survey (None if it can). Only checks: the code
    is used up by the submission."""
    if not code:
        return _("Enter the invitation code from your letter.")
    canonical = codes.normalise_code(code)
    if len(canonical) != r.INVITATION_LENGTH or any(c not in codes.CROCKFORD for c in canonical):
        return _("Check the invitation code: it is not valid for this survey.")
    row = (
        await session.execute(
            select(InvitationCode.used).where(
                InvitationCode.survey_id == survey.id,
                InvitationCode.code_hash == r.invitation_hash(settings.secret_key, survey.id, code),
            )
        )
    ).first()
    if row is None:
        return _("Check the invitation code: it is not valid for this survey.")
    if row.used:
        return _("This invitation code has already been used.")
    return None


# -- what the templates show ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SurveyView:
    id: UUID
    title: str
    intro: str | None
    purpose: str
    organiser: str
    privacy_note: str
    thank_you: str | None
    minutes: int
    question_count: int
    access_mode: str
    process_id: UUID
    process_title: str
    accepting: bool
    # The language the survey's texts are shown in; differs from the page's language where
    # the survey has not been translated into it (the layout then says so).
    content_language: str = "de"


async def _survey_view(session: AsyncSession, survey: Survey) -> SurveyView:
    localized = d.compiled(survey).in_language(i18n.current_language())
    process_title = await session.scalar(
        select(PlanningProcess.title).where(PlanningProcess.id == survey.process_id)
    )
    accepting = survey.status == SurveyStatus.PUBLISHED and await participation.is_open(
        session, survey.process_id, "surveys"
    )
    return SurveyView(
        id=survey.id,
        title=localized.title,
        intro=localized.intro,
        purpose=localized.purpose,
        organiser=localized.organiser,
        privacy_note=localized.privacy_note,
        thank_you=localized.thank_you,
        minutes=localized.estimated_minutes,
        question_count=len(d.questions(d.compiled(survey).definition)),
        access_mode=survey.access_mode,
        process_id=survey.process_id,
        process_title=process_title or "",
        accepting=accepting,
        content_language=_content_language(d.compiled(survey).definition),
    )


def _content_language(definition: s.Definition) -> str:
    language = i18n.current_language()
    title = definition.title.as_dict()
    return i18n.picked_language(title, language) if i18n.falls_back(title, language) else language


def _field_name(key: str) -> str:
    return f"q_{key}"


def _other_name(key: str) -> str:
    return f"o_{key}"


def _display_number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    text = str(int(value)) if float(value).is_integer() else f"{value:g}"
    return text.replace(".", ",") if i18n.current_language().startswith("de") else text


def _option(value: str, text: str, hint: str | None = None) -> dict[str, Any]:
    return {"value": value, "text": text, "hint": hint}


@dataclass(slots=True)
class AreaChoices:
    """The areas a respondent can choose: flat (few) or grouped by parent area (many)."""

    options: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    names: dict[str, str]


async def _area_choices(session: AsyncSession, survey: Survey) -> AreaChoices:
    choices = await r.area_choices(session, survey)
    names = {code: name for _id, code, name in choices}
    options = [_option(code, name) for _id, code, name in choices]
    if len(choices) <= RADIOS_UP_TO:
        return AreaChoices(options=options, groups=[], names=names)
    parent = aliased(SocialArea)
    rows = await session.execute(
        select(SocialArea.code, parent.name)
        .join(parent, parent.id == SocialArea.parent_id)
        .where(SocialArea.id.in_([area_id for area_id, _code, _name in choices]))
    )
    parents = {code: parent_name for code, parent_name in rows.tuples()}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for option in options:
        grouped.setdefault(parents.get(option["value"], ""), []).append(option)
    groups = [
        {"label": label or None, "options": items} for label, items in sorted(grouped.items())
    ]
    return AreaChoices(options=options, groups=groups, names=names)


def _question_view(
    question: s.Question[str],
    state: FlowState,
    errors: Mapping[str, str],
    area_choices: AreaChoices | None,
) -> dict[str, Any]:
    key = question.key
    kind = question.__struct_config__.tag
    value = state.answers.get(key)
    view: dict[str, Any] = {
        "key": key,
        "type": kind,
        "name": _field_name(key),
        "id": _field_name(key),
        "text": question.text,
        "hint": question.hint,
        "required": question.required,
        "options": [],
        "groups": [],
        "value": "" if value is None or isinstance(value, list) else str(value),
        "chosen": [str(v) for v in value] if isinstance(value, list) else [],
        "error": errors.get(_field_name(key)),
        "other": None,
    }
    if isinstance(question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion):
        view["options"] = [_option(o.key, o.label) for o in question.options]
        if question.other is not None:
            view["options"].append(_option(s.OTHER, question.other.label))
            view["other"] = {
                "name": _other_name(key),
                "id": _other_name(key),
                "label": _(
                    "If you chose “%(option)s”: please say what you mean",
                    option=question.other.label,
                ),
                "value": state.other.get(key, ""),
                "max_length": question.other.max_length,
            }
        if isinstance(question, s.MultipleChoiceQuestion) and not question.hint:
            high = question.max_selections
            view["hint"] = (
                i18n.ngettext("Select up to %(num)s option.", "Select up to %(num)s options.", high)
                if high is not None and high < len(view["options"])
                else _("Select all that apply.")
            )
    elif isinstance(question, s.AgeBandQuestion):
        view["options"] = [_option(o.key, o.label) for o in question.options]
    elif isinstance(question, s.RatingQuestion):
        low, high = question.scale_min, question.scale_max
        view["options"] = [
            _option(
                str(v),
                f"{v} – {question.min_label}"
                if v == low
                else f"{v} – {question.max_label}"
                if v == high
                else str(v),
            )
            for v in range(low, high + 1)
        ]
    elif isinstance(question, s.NumberQuestion):
        view["value"] = _display_number(value)
        view["decimals"] = not question.integer
        if question.unit:
            view["text"] = f"{question.text} ({question.unit})"
        if not question.hint:
            view["hint"] = _(
                "Enter a number from %(min)s to %(max)s.",
                min=_display_number(question.minimum),
                max=_display_number(question.maximum),
            )
    elif isinstance(question, s.ShortTextQuestion | s.LongTextQuestion):
        view["max_length"] = question.max_length
    elif isinstance(question, s.RankingQuestion):
        view["options"] = [_option(o.key, o.label) for o in question.options]
        most = question.max_ranked if question.max_ranked is not None else len(question.options)
        view["places"] = min(most, len(question.options))
        if not question.hint:
            view["hint"] = _("Put the most important first.")
    elif isinstance(question, s.SocialAreaQuestion) and area_choices is not None:
        view["options"] = area_choices.options
        view["groups"] = area_choices.groups
        view["point_lookup"] = question.point_lookup
    return view


# -- parsing a page of answers -------------------------------------------------------------------


def _number(raw: str) -> int | float | str:
    """A number as typed (German decimal comma, spaces as thousands separators), or the text
    itself when it is none (validation then says what is expected)."""
    text = "".join(raw.split()).replace("\u2009", "")
    candidate = text
    if "," in text and "." in text and text.rfind(",") > text.rfind("."):
        candidate = text.replace(".", "").replace(",", ".")  # 1.234,5
    elif text.count(",") == 1 and "." not in text:
        candidate = text.replace(",", ".")  # 37,5
    try:
        return int(candidate)
    except ValueError:
        pass
    try:
        number = float(candidate)
    except ValueError:
        return raw.strip()
    return number if number == number and abs(number) != float("inf") else raw.strip()


def _parse_answer(question: s.AnyQuestion, form: FormMultiDict) -> Any:
    name = _field_name(question.key)
    if isinstance(question, s.MultipleChoiceQuestion):
        return [v for v in form.getall(name) if v] if name in form else []
    if isinstance(question, s.RankingQuestion):
        return [v for v in form.getall(name) if v] if name in form else []
    raw = str(form.get(name) or "").strip() if name in form else ""
    if raw == "":
        return None
    if isinstance(question, s.RatingQuestion):
        return int(raw) if raw.lstrip("-").isdigit() else raw
    if isinstance(question, s.NumberQuestion):
        return _number(raw)
    return raw


def _apply_page(state: FlowState, questions: Sequence[s.AnyQuestion], form: FormMultiDict) -> None:
    """Put the posted answers of these questions into the state (blank ones removed)."""
    for question in questions:
        value = _parse_answer(question, form)
        if value is None or value == []:
            state.answers.pop(question.key, None)
        else:
            state.answers[question.key] = value
        other = str(form.get(_other_name(question.key)) or "").strip()
        if other and isinstance(question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion):
            state.other[question.key] = other[:2000]
        else:
            state.other.pop(question.key, None)


def _chose_other(question: s.AnyQuestion, value: Any) -> bool:
    return value == s.OTHER or (isinstance(value, list) and s.OTHER in value)


def _submission(definition: s.Definition, state: FlowState) -> s.ResponseSubmission:
    """What is sent: the answers to the questions shown, "other" texts where "other" was
    chosen, and the invitation code."""
    shown = d.visible_questions(definition, state.answers)
    answers = {q.key: state.answers[q.key] for q in shown if q.key in state.answers}
    other = {
        q.key: state.other[q.key]
        for q in shown
        if q.key in state.other and _chose_other(q, answers.get(q.key))
    }
    return s.ResponseSubmission(answers=answers, other=other, invitation_code=state.code)


def _errors_by_field(
    definition: s.Definition, state: FlowState, errors: Sequence[FieldError]
) -> dict[str, str]:
    """Validation errors keyed by the id of the field they belong to (in question order)."""
    by_key = {q.key: q for q in d.questions(definition)}
    found: dict[str, str] = {}
    for error in errors:
        where, _dot, key = error.field.partition(".")
        question = by_key.get(key)
        if question is None or where not in ("answers", "other"):
            continue
        target = _field_name(key)
        if (
            isinstance(question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion)
            and question.other is not None
            and _chose_other(question, state.answers.get(key))
            and (
                where == "other"
                or not state.other.get(key)
                or len(state.other[key]) > question.other.max_length
            )
        ):
            target = _other_name(key)
        found.setdefault(target, error.message)
    order = [
        name for q in d.questions(definition) for name in (_field_name(q.key), _other_name(q.key))
    ]
    return {name: found[name] for name in order if name in found}


# -- navigation ----------------------------------------------------------------------------------


def _page_questions(
    definition: s.Definition, state: FlowState, page: s.Page[s.Text]
) -> list[s.AnyQuestion]:
    shown = {q.key for q in d.visible_questions(definition, state.answers)}
    return [q for q in page.questions if q.key in shown]


def _navigable(definition: s.Definition, state: FlowState) -> list[s.Page[s.Text]]:
    """The pages shown for these answers that have a question to show."""
    shown = {q.key for q in d.visible_questions(definition, state.answers)}
    return [
        page
        for page in d.visible_pages(definition, state.answers)
        if any(q.key in shown for q in page.questions)
    ]


def _find_page(definition: s.Definition, key: str) -> s.Page[s.Text]:
    for page in definition.pages:
        if page.key == key:
            return page
    raise StateInvalid(
        _("Your answers could not be read. Please start the survey again."),
        errors=[FieldError(field="page", source="body", message="unknown page")],
    )


# -- rendering the flow --------------------------------------------------------------------------


@dataclass(slots=True)
class Flow:
    """One request of the resident flow: the survey, its definition, the language's texts."""

    request: AnyRequest
    session: AsyncSession
    settings: Settings
    survey: Survey
    view: SurveyView
    respondent: Respondent
    action: str = ""
    submit_action: str = ""
    # Set by the language switch of a question or check page: remember the language chosen.
    remember_language: bool = False
    query: str = ""  # the `?lang=` that travels with the flow's links

    @property
    def engine(self) -> AsyncEngine:
        return engine_of(self.request)

    @property
    def definition(self) -> s.Definition:
        return d.compiled(self.survey).definition

    @property
    def localized(self) -> s.LocalizedDefinition:
        return d.compiled(self.survey).in_language(i18n.current_language())

    def template(
        self,
        name: str,
        status: int = 200,
        *,
        store: bool = False,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> Template:
        return Template(
            template_name=name,
            context={
                "survey": self.view,
                "action": self.action,
                "submit_action": self.submit_action,
                # What survey.js keeps in the browser's cache for answering offline
                # (surveys/offline.py): this survey's intro and offline page, never a POST.
                "offline_urls": offline.cached_urls(self.survey.id, self.query),
                "offline_worker": offline.WORKER_PATH,
                **context,
            },
            status_code=status,
            headers=dict(headers) if headers is not None else {} if store else NO_STORE,
            # The respondent cookie is set once the resident starts, not for merely looking.
            cookies=[
                *self.respondent.cookies(self.settings, self.survey.id),
                *([language_cookie(i18n.current_language())] if self.remember_language else []),
            ]
            if self.request.method == "POST"
            else [],
        )

    def state_token(self, state: FlowState) -> str:
        return encode_state(self.settings.secret_key, self.survey.id, state)

    def intro(
        self,
        state: FlowState | None = None,
        *,
        errors: dict[str, str] | None = None,
        code: str = "",
        auto_resume: bool = False,
    ) -> Template:
        return self.template(
            "surveys/intro.html",
            400 if errors else 200,
            store=not errors and state is None,
            errors=errors or {},
            code=code,
            state=self.state_token(state) if state is not None else "",
            auto_resume=auto_resume,
        )

    async def page(
        self, state: FlowState, page: s.Page[s.Text], errors: dict[str, str] | None = None
    ) -> Template:
        questions = _page_questions(self.definition, state, page)
        localized_page = next(p for p in self.localized.pages if p.key == page.key)
        localized = {q.key: q for q in localized_page.questions}
        area_choices = None
        if any(isinstance(q, s.SocialAreaQuestion) for q in questions):
            area_choices = await _area_choices(self.session, self.survey)
        views = [
            _question_view(localized[q.key], state, errors or {}, area_choices) for q in questions
        ]
        pages = _navigable(self.definition, state)
        keys = [p.key for p in pages]
        position = keys.index(page.key) + 1 if page.key in keys else 1
        # The summary names the question of each error: several may say "Please answer".
        texts = {n: v["text"] for v in views for n in (v["name"], _other_name(v["key"]))}
        summary = {
            name: f"{texts[name]} – {message}" if name in texts and len(views) > 1 else message
            for name, message in (errors or {}).items()
        }
        return self.template(
            "surveys/page.html",
            400 if errors else 200,
            errors=errors or {},
            summary=summary,
            questions=views,
            page_key=page.key,
            page_title=localized_page.title,
            shown=" ".join(q.key for q in questions),
            state=self.state_token(state),
            position=position,
            total=len(pages),
            checking=state.checking,
        )

    async def check(self, state: FlowState) -> Template:
        submission = _submission(self.definition, state)
        problems = r.validate_answers(self.definition, submission.answers, submission.other)
        if problems:
            return await self.first_error(state, problems)
        body = msgspec.json.encode(submission)
        rows = await self._summary(state)
        return self.template(
            "surveys/check.html",
            rows=rows,
            state=self.state_token(state),
            idempotency_key=idempotency_key(self.settings.secret_key, self.survey.id, state, body),
            submission=body.decode(),
            api=f"/api/v1/surveys/{self.survey.id}/responses",
            # survey.js sends it as Respondent-Token if it has to submit through the API.
            respondent_token=self.respondent.token or "",
        )

    async def first_error(self, state: FlowState, problems: Sequence[FieldError]) -> Template:
        errors = _errors_by_field(self.definition, state, problems)
        for page in _navigable(self.definition, state):
            keys = {q.key for q in _page_questions(self.definition, state, page)}
            names = {n for k in keys for n in (_field_name(k), _other_name(k))}
            page_errors = {name: message for name, message in errors.items() if name in names}
            if page_errors:
                return await self.page(state, page, page_errors)
        return self.intro(state, errors={"state": problems[0].message})

    async def _summary(self, state: FlowState) -> list[dict[str, Any]]:
        localized = {q.key: q for p in self.localized.pages for q in p.questions}
        page_of = {q.key: p.key for p in self.definition.pages for q in p.questions}
        names: dict[str, str] = {}
        rows: list[dict[str, Any]] = []
        for question in d.visible_questions(self.definition, state.answers):
            view = localized[question.key]
            value = state.answers.get(question.key)
            if isinstance(view, s.SocialAreaQuestion) and value is not None and not names:
                names = (await _area_choices(self.session, self.survey)).names
            rows.append(
                {
                    "key": question.key,
                    "question": view.text,
                    "answer": _answer_lines(view, value, state.other.get(question.key), names),
                    "page": page_of[question.key],
                }
            )
        return rows


def _answer_lines(
    question: s.Question[str], value: Any, other: str | None, area_names: Mapping[str, str]
) -> list[str]:
    """An answer as the check page shows it: one line per chosen option, in order."""
    if value is None or value == [] or value == "":
        return []
    if isinstance(question, s.SocialAreaQuestion):
        return [area_names.get(str(value), str(value))]
    labels: dict[str, str] = {}
    if isinstance(question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion):
        labels = {o.key: o.label for o in question.options}
        if question.other is not None:
            labels[s.OTHER] = f"{question.other.label}: {other}" if other else question.other.label
    elif isinstance(question, s.RankingQuestion | s.AgeBandQuestion):
        labels = {o.key: o.label for o in question.options}
    if isinstance(question, s.RankingQuestion) and isinstance(value, list):
        return [f"{place}. {labels.get(v, v)}" for place, v in enumerate(value, start=1)]
    if isinstance(value, list):
        return [labels.get(str(v), str(v)) for v in value]
    if isinstance(question, s.RatingQuestion):
        return [
            _(
                "%(value)s on a scale from %(min)s (%(min_label)s) to %(max)s (%(max_label)s)",
                value=value,
                min=question.scale_min,
                min_label=question.min_label,
                max=question.scale_max,
                max_label=question.max_label,
            )
        ]
    if isinstance(question, s.NumberQuestion):
        return [_display_number(value) + (f" {question.unit}" if question.unit else "")]
    return [labels.get(str(value), str(value))]


async def _flow(request: AnyRequest, session: AsyncSession, survey_id: UUID) -> Flow:
    settings: Settings = request.app.state["settings"]
    survey = await services.get_published_survey(session, survey_id)
    # A language chosen with ?lang= (easy-read German has no switch of its own) travels along.
    lang = request.query_params.get("lang")
    query = f"?lang={lang}" if lang in i18n.LANGUAGES else ""
    return Flow(
        request=request,
        session=session,
        settings=settings,
        survey=survey,
        view=await _survey_view(session, survey),
        respondent=_respondent(request, settings, survey),
        action=f"/surveys/{survey.id}/respond{query}",
        submit_action=f"/surveys/{survey.id}/submit{query}",
        query=query,
    )


# -- resident pages ------------------------------------------------------------------------------


@get("/surveys/{survey_id:uuid}", name="surveys:intro", include_in_schema=False, **PUBLIC)
async def intro_page(request: AnyRequest, db_session: AsyncSession, survey_id: UUID) -> Template:
    """What the survey is for, who asks, how long it takes, what is stored; Start."""
    flow = await _flow(request, db_session, survey_id)
    if await _already_answered(db_session, flow.settings, flow.survey, flow.respondent):
        return flow.template("surveys/already.html")
    return flow.intro()


@get("/surveys/{survey_id:uuid}/respond", include_in_schema=False, **PUBLIC)
async def resume_page(request: AnyRequest, db_session: AsyncSession, survey_id: UUID) -> Template:
    """The intro, marked for survey.js to resume from the answers this browser kept (a reload
    of a question page, or a language switch in the middle of the survey, lands here)."""
    flow = await _flow(request, db_session, survey_id)
    if await _already_answered(db_session, flow.settings, flow.survey, flow.respondent):
        return flow.template("surveys/already.html")
    return flow.intro(auto_resume=True)


@post("/surveys/{survey_id:uuid}/respond", include_in_schema=False, status_code=200, **PUBLIC)
async def respond(request: AnyRequest, db_session: AsyncSession, survey_id: UUID) -> Template:
    """One step of the flow: `action` is start, continue, back, change:<page>, goto:<page>
    (survey.js resuming), goto:check, or language (the language switch of a question or check
    page posts that page's form to `?lang=…`: the same page again in the new language, with
    everything answered so far, typed-but-not-sent answers of a question page included)."""
    flow = await _flow(request, db_session, survey_id)
    form = await request.form()
    state = decode_state(flow.settings.secret_key, survey_id, str(form.get("state") or ""))
    if not flow.view.accepting:
        return flow.intro()
    if await _already_answered(db_session, flow.settings, flow.survey, flow.respondent):
        return flow.template("surveys/already.html")
    action = str(form.get("action") or "")
    definition = flow.definition
    if action == "start":
        if flow.survey.access_mode == AccessMode.INVITATION:
            code = str(form.get("code") or "").strip()[:64]
            problem = await _invitation_error(db_session, flow.settings, flow.survey, code)
            if problem:
                return flow.intro(state, errors={"code": problem}, code=code)
            state.code = codes.normalise_code(code)
        state.checking = False
        return await flow.page(state, _navigable(definition, state)[0])
    if flow.survey.access_mode == AccessMode.INVITATION and not state.code:
        return flow.intro()
    if action == "language":
        flow.remember_language = True
        if not form.get("page"):  # the check page's form
            return await flow.check(state)
    if action in ("goto:check", "check"):
        return await flow.check(state)
    if action.startswith(("goto:", "change:")):
        target = action.partition(":")[2]
        pages = _navigable(definition, state)
        if action.startswith("change:"):
            state.checking = True
        page = next((p for p in pages if p.key == target), pages[0])
        return await flow.page(state, page)
    page = _find_page(definition, str(form.get("page") or ""))
    shown_keys = set(str(form.get("shown") or "").split())
    posted = [q for q in page.questions if q.key in shown_keys]
    _apply_page(state, posted, form)
    if action == "language":  # unvalidated until the resident continues, as typed
        return await flow.page(state, page)
    pages = _navigable(definition, state)
    keys = [p.key for p in pages]
    if action == "back":
        index = keys.index(page.key) if page.key in keys else len(keys)
        return await flow.page(state, pages[index - 1]) if index > 0 else flow.intro(state)
    # continue
    current = _page_questions(definition, state, page)
    names = {n for q in current for n in (_field_name(q.key), _other_name(q.key))}
    problems = r.validate_answers(definition, *_answers_and_other(definition, state))
    errors = {
        name: message
        for name, message in _errors_by_field(definition, state, problems).items()
        if name in names
    }
    area = d.compiled(flow.survey).social_area
    area_code = state.answers.get(area.key)
    if (
        not errors
        and isinstance(area_code, str)
        and any(q.key == area.key for q in current)
        and not await r.resolve_areas(db_session, flow.survey, {area_code})
    ):
        errors[_field_name(area.key)] = _("Choose your area from the list.")
    if errors:
        return await flow.page(state, page, errors)
    if page.key not in state.seen:
        state.seen.append(page.key)
    if any(q.key not in shown_keys for q in current):
        return await flow.page(state, page)  # an answer on this page revealed another question
    later = keys[keys.index(page.key) + 1 :] if page.key in keys else []
    if state.checking:
        later = [key for key in later if key not in state.seen]
    if later:
        return await flow.page(state, next(p for p in pages if p.key == later[0]))
    return await flow.check(state)


@get("/surveys/{survey_id:uuid}/offline", include_in_schema=False, **PUBLIC)
async def offline_page(request: AnyRequest, db_session: AsyncSession, survey_id: UUID) -> Template:
    """Every page of questions, blank, for survey.js to show from the browser's cache while the
    connection is gone (surveys/offline.py): the answers stay in the browser and are posted to
    /submit with `offline_pages` once it is back. Holds nobody's answers, so it may be cached."""
    flow = await _flow(request, db_session, survey_id)
    definition = flow.definition
    area_choices = None
    if any(isinstance(q, s.SocialAreaQuestion) for q in d.questions(definition)):
        area_choices = await _area_choices(db_session, flow.survey)
    blank = FlowState()
    views = []
    for page, localized_page in zip(definition.pages, flow.localized.pages, strict=True):
        questions = []
        for question, localized in zip(page.questions, localized_page.questions, strict=True):
            view = _question_view(localized, blank, {}, area_choices)
            view["show_if"] = offline.condition_json(question.show_if)
            view["list"] = isinstance(question, s.MultipleChoiceQuestion | s.RankingQuestion)
            questions.append(view)
        views.append(
            {
                "key": page.key,
                "title": localized_page.title,
                "show_if": offline.condition_json(page.show_if),
                "questions": questions,
            }
        )
    return flow.template(
        "surveys/offline.html",
        headers={"Cache-Control": "no-cache"},
        pages=views,
        intro=f"/surveys/{survey_id}{flow.query}",
    )


def _apply_offline_pages(
    definition: s.Definition, state: FlowState, keys: Sequence[str], form: FormMultiDict
) -> None:
    """Put the answers of pages answered offline (survey.js's offline page) into the state, in
    the survey's order, as if each had been posted with Continue: a page's questions are those
    its earlier answers show."""
    wanted = set(keys)
    for page in definition.pages:
        if page.key in wanted:
            _apply_page(state, _page_questions(definition, state, page), form)


def _answers_and_other(
    definition: s.Definition, state: FlowState
) -> tuple[dict[str, Any], dict[str, str]]:
    submission = _submission(definition, state)
    return submission.answers, submission.other


IN_FLIGHT_RETRIES = 50  # × 0.1 s: a double click waits for the first submission to finish


@post(
    "/surveys/{survey_id:uuid}/submit",
    include_in_schema=False,
    status_code=200,
    guards=PUBLIC["guards"],
    # The final post of the flow counts as a resident's submission (core.ratelimit).
    opt={**PUBLIC["opt"], "rate_limit": "submission"},
)
async def submit(request: AnyRequest, db_session: AsyncSession, survey_id: UUID) -> Template:
    """Store the response (the same idempotent service call as SubmitSurveyResponse) and show
    the receipt; "Change" buttons of the check page post to /respond instead."""
    flow = await _flow(request, db_session, survey_id)
    form = await request.form()
    state = decode_state(flow.settings.secret_key, survey_id, str(form.get("state") or ""))
    # Pages answered offline (survey.js): their answers come with the submission.
    answered_offline = str(form.get("offline_pages") or "").split()
    if not form.get("state") and not answered_offline:
        return flow.intro()
    if answered_offline:
        _apply_offline_pages(flow.definition, state, answered_offline, form)
    submission = _submission(flow.definition, state)
    body = msgspec.json.encode(submission)
    key = str(form.get("idempotency_key") or "")[: idempotency.MAX_KEY_LENGTH] or idempotency_key(
        flow.settings.secret_key, survey_id, state, body
    )
    try:
        # A savepoint: the pages for a refusal answer 200 (so the request commits), and they
        # must not commit anything of the refused try.
        async with db_session.begin_nested():
            receipt = await _store(flow, submission, key)
    except Problem as problem:
        return await _refused(flow, state, problem)
    return flow.template(
        "surveys/confirmation.html",
        receipt=receipt.receipt_code,
        submitted_at=receipt.submitted_at,
    )


async def _refused(flow: Flow, state: FlowState, problem: Problem) -> Template:
    """The page for a submission the service refused."""
    if isinstance(problem, r.AlreadyAnswered):
        return flow.template("surveys/already.html")
    if isinstance(problem, r.SurveyNotOpen | PhaseClosed):
        return flow.intro()
    if isinstance(problem, r.InvitationUsed):
        return flow.intro(errors={"code": problem.detail}, code=state.code or "")
    if isinstance(problem, InvalidInput | r.InvalidAnswers):
        errors = problem.errors or []
        code_error = next((e.message for e in errors if e.field == "invitation_code"), None)
        if code_error:
            return flow.intro(errors={"code": code_error}, code=state.code or "")
        return await flow.first_error(state, errors)
    raise problem


async def _store(flow: Flow, submission: s.ResponseSubmission, key: str) -> s.ResponseReceipt:
    """Store the submission through the same `submit_web_response` as SubmitSurveyResponse, so
    a form post and survey.js's offline send of the same answers share one stored response. A
    double click waits for the first request to finish and then gets its receipt."""

    for _attempt in range(IN_FLIGHT_RETRIES):
        try:
            result = await r.submit_web_response(
                flow.engine,
                lambda: flow.session,
                flow.settings,
                flow.survey.id,
                submission,
                idempotency_key=key,
                respondent_token=flow.respondent.token,
                receipt_location=lambda code: flow.request.app.route_reverse(
                    "surveys:receipt", receipt_code=code
                ),
            )
        except Conflict as conflict:
            if conflict.slug != "idempotency-in-flight":
                raise
            await asyncio.sleep(0.1)
            continue
        return msgspec.json.decode(result.body, type=s.ResponseReceipt)
    raise Conflict(
        _("Your answers are still being sent. Please wait a moment and reload the page.")
    )


# -- planners: results ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChartRow:
    label_lines: list[str]
    label_y: list[int]
    bar_y: int
    bar_percent: float
    value_text: str
    suppressed: bool


@dataclass(frozen=True, slots=True)
class BarChart:
    """A horizontal bar chart as SVG: one row per option, label above the bar, the share and
    count after it. Widths are percentages of the picture, text stays at its real size."""

    id: str
    title: str
    description: str
    height: int
    rows: list[ChartRow]
    span: float = 0.0


LINE = 20
BAR = 18
GAP = 14
BAR_SPAN = 65.0  # % of the width a share of 100 % takes; the rest holds the value text


def percent(share: float | None) -> str:
    if share is None:
        return "–"
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    if i18n.current_language().startswith("de"):
        return text.replace(".", ",") + "\u202f%"
    return text + "%"


def bar_chart(
    chart_id: str, title: str, options: Sequence[s.OptionResult], answered: int | None, k: int
) -> BarChart:
    rows: list[ChartRow] = []
    y = 0
    for option in options:
        lines = textwrap.wrap(option.label, WRAP_LABEL, max_lines=3, placeholder=" …") or [""]
        label_y = [y + LINE * (i + 1) - 5 for i in range(len(lines))]
        bar_y = y + LINE * len(lines) + 2
        if option.suppressed or option.share is None:
            value = _("suppressed (fewer than %(k)s)", k=k)
            rows.append(ChartRow(lines, label_y, bar_y, 0.0, value, True))
        else:
            value = f"{percent(option.share)} ({option.count})"
            rows.append(
                ChartRow(lines, label_y, bar_y, round(option.share * BAR_SPAN, 2), value, False)
            )
        y = bar_y + BAR + GAP
    description = i18n.ngettext(
        "Share of the %(num)s respondent who answered, per option. The numbers are also in the "
        "table below.",
        "Shares of the %(num)s respondents who answered, per option. The numbers are also in "
        "the table below.",
        answered or 0,
    )
    return BarChart(
        id=chart_id, title=title, description=description, height=y, rows=rows, span=BAR_SPAN
    )


@dataclass(frozen=True, slots=True)
class QuestionResults:
    """One question on the results page: the overall result (with its chart) and, with a
    level, the result of each area."""

    overall: s.QuestionResult
    chart: BarChart | None
    by_area: list[tuple[s.ResultGroup, s.QuestionResult | None]]


def _question_results(
    overall: s.SurveyResults, per_area: s.SurveyResults | None
) -> list[QuestionResults]:
    group = overall.groups[0] if overall.groups else None
    found: list[QuestionResults] = []
    for index, result in enumerate(group.questions if group else []):
        if result.type == "social_area":
            continue
        chart = (
            bar_chart(
                f"chart-{result.key}",
                result.text,
                result.options,
                result.answered,
                overall.k_threshold,
            )
            if result.options and not result.suppressed
            else None
        )
        by_area: list[tuple[s.ResultGroup, s.QuestionResult | None]] = []
        for area_group in per_area.groups if per_area else []:
            by_area.append(
                (area_group, area_group.questions[index] if area_group.questions else None)
            )
        found.append(QuestionResults(overall=result, chart=chart, by_area=by_area))
    return found


ResultsLevel = Annotated[str | None, QueryParameter(max_length=40)]
NeedKey = Annotated[str | None, QueryParameter(max_length=64)]


@get(
    "/dashboard/surveys/{survey_id:uuid}/results",
    name="surveys:results",
    include_in_schema=False,
    **access(roles=STAFF),
)
async def results_page(
    request: AnyRequest,
    db_session: AsyncSession,
    survey_id: UUID,
    level: ResultsLevel = None,
    need: NeedKey = None,
) -> Template:
    """Per-question results (charts and tables), per area at a chosen level, and the
    aggregated needs per area with links to the exports."""
    survey = await services.get_survey(db_session, survey_id)
    compiled = d.compiled(survey)
    # Responses count for areas at the survey's level: coarser levels and that one make sense.
    all_levels = (await areas.list_levels(db_session)).items
    finest = next((item.depth for item in all_levels if item.key == compiled.social_area.level), 0)
    levels = [item for item in all_levels if item.depth <= finest]
    errors: dict[str, str] = {}
    if level and level not in {item.key for item in levels}:
        errors["level"] = _("Choose a level from the list.")
        level = None
    overall = await services.results_by_question(db_session, survey_id)
    per_area = (
        await services.results_by_question(db_session, survey_id, level=level) if level else None
    )
    needs_level = level or compiled.social_area.level
    weighting = aggregation.Weighting.AGE if d.age_strata(compiled.definition) else None
    needs = await _needs(db_session, survey_id, needs_level, weighting)
    need_map = await _need_map(db_session, needs, need, errors)
    # The number of responses is the cell of all responses: its published value (stats.cellkey),
    # the same as the results' and the needs' total; None while it is below min_respondents,
    # shown as "protected" (never as 0, which would read "fewer than k").
    respondents = overall.groups[0].respondents if overall.groups else None
    process_title = await db_session.scalar(
        select(PlanningProcess.title).where(PlanningProcess.id == survey.process_id)
    )
    principal = principal_of(request)
    may_export = principal is not None and principal.has_role(*PLANNERS)
    return Template(
        template_name="surveys/results.html",
        context={
            "survey": survey,
            "title": i18n.pick(survey.title),
            "process_title": process_title or "",
            "level_options": [(item.key, item.name) for item in levels],
            "level": level,
            "needs_level": needs_level,
            "errors": errors,
            "overall": overall,
            "per_area": per_area,
            "questions": _question_results(overall, per_area),
            "needs": needs,
            "need_map": need_map,
            "need": need_map.extras.get("need") if need_map else None,
            "respondents": respondents,
            "percent": percent,
            "exports": _export_links(survey_id, needs_level, weighting) if may_export else [],
        },
        status_code=400 if errors else 200,
    )


async def _needs(
    session: AsyncSession, survey_id: UUID, level: str, weighting: aggregation.Weighting | None
) -> aggregation.AggregatedNeeds | None:
    """The aggregated needs (weighted by age where the survey allows it), None if they cannot
    be computed at this level."""
    try:
        return await aggregation.aggregated_needs(
            session, survey_id, level_key=level, weighting=weighting or aggregation.Weighting.NONE
        )
    except Problem:
        return None


async def _need_map(
    session: AsyncSession,
    needs: aggregation.AggregatedNeeds | None,
    need: str | None,
    errors: dict[str, str],
) -> maps.Choropleth | None:
    """The map of one need category's share per area, from the disclosure-controlled needs:
    a suppressed cell or a withheld area is drawn "protected", never as 0."""
    if needs is None or not needs.categories or not needs.areas:
        return None
    keys = [category.key for category in needs.categories]
    if need is not None and need not in keys:
        errors["need"] = _("Choose a need category from the list.")
        need = None
    chosen = need or keys[0]
    index = keys.index(chosen)
    label = needs.categories[index].label
    values: list[maps.MapValue] = []
    for area in needs.areas:
        figure = area.needs[index] if index < len(area.needs) else None
        hidden = area.withheld or figure is None or figure.suppressed or figure.share is None
        share = None if hidden or figure is None else figure.share
        values.append(
            maps.MapValue(
                area_id=area.id,
                code=area.code,
                name=area.name,
                value=share,
                text=percent(share) if share is not None else None,
                protected=hidden,
                href=f"/areas/{area.code}",
            )
        )
    figure_map = await maps.choropleth(
        session,
        values,
        title=_("Share expressing the need “%(need)s” per social area", need=label),
        description=_(
            "Map of the social areas, coloured by the share of respondents who expressed the "
            "need; protected areas are hatched. The same figures are in the table of needs per "
            "social area."
        ),
        value_heading=_("Share"),
        map_id="need-map",
        format_break=percent,
    )
    figure_map.extras["need"] = chosen
    figure_map.extras["need_options"] = [(c.key, c.label) for c in needs.categories]
    return figure_map


def _export_links(
    survey_id: UUID, level: str, weighting: aggregation.Weighting | None
) -> list[tuple[str, str]]:
    """The downloads of ExportAggregatedNeeds for the level shown."""
    query = f"level={level}" + (f"&weighting={weighting.value}" if weighting else "")
    return export_links(f"/api/v1/surveys/{survey_id}/aggregated-needs/export?{query}")


def export_links(url: str) -> list[tuple[str, str]]:
    """(label, href) of each format of an export operation whose `url` takes `&format=`."""
    base = f"{url}&format="
    return [
        ("CSV", base + "csv"),
        (_("CSV for German Excel"), base + "csv-de"),
        ("XLSX", base + "xlsx"),
        ("GeoJSON", base + "geojson"),
        ("JSON", base + "json"),
    ]


@get("/dashboard/surveys", name="surveys:dashboard", include_in_schema=False, **access(roles=STAFF))
async def surveys_dashboard(db_session: AsyncSession) -> Template:
    """Every survey with its process, status and number of responses, linking to the results."""
    counts = (
        select(
            SurveyResponse.survey_id,
            func.count().label("n"),
            func.sum(SurveyResponse.record_key).label("key_sum"),
        )
        .group_by(SurveyResponse.survey_id)
        .subquery()
    )
    found = (
        await db_session.execute(
            select(
                Survey,
                PlanningProcess.title,
                func.coalesce(counts.c.n, 0),
                func.coalesce(counts.c.key_sum, 0),
            )
            .join(PlanningProcess, PlanningProcess.id == Survey.process_id)
            .outerjoin(counts, counts.c.survey_id == Survey.id)
            .order_by(PlanningProcess.title, Survey.id)
        )
    ).all()
    # Published values (stats.cellkey): the same as the survey's results show for all responses.
    rows = [
        (
            survey,
            process_title,
            Release(survey.k_threshold, survey.min_respondents).count(Cell(n, int(keys))),
        )
        for survey, process_title, n, keys in found
    ]
    return Template(
        template_name="surveys/dashboard.html",
        context={
            "surveys": [
                {
                    "id": survey.id,
                    "title": i18n.pick(survey.title),
                    "status": survey.status,
                    "access_mode": survey.access_mode,
                    "process_id": survey.process_id,
                    "process_title": process_title,
                    "responses": n,
                }
                for survey, process_title, n in rows
            ]
        },
    )


PAGES: list[ControllerRouterHandler] = [
    intro_page,
    resume_page,
    respond,
    submit,
    offline_page,
    *offline.ROUTES,
    results_page,
    surveys_dashboard,
]
