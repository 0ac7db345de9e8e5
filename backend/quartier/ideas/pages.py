"""HTML pages of ideas: browse, the idea page (support, comment, report), the submit form, the
author's follow page; for staff the moderation queue, the planners' answer form and the
moderation log. Plain HTML forms that work without JavaScript; they call the same services as
the API (a form post is the same operation, with an Idempotency-Key from a hidden nonce)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Response, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import i18n
from quartier.core import translations as shared_translations
from quartier.core.errors import NotFound, PhaseClosed, Problem
from quartier.core.i18n import gettext as _
from quartier.core.pagination import Cursor
from quartier.core.security import ADMINS, PLANNERS, PUBLIC, Role, access, principal_of
from quartier.db import engine_of
from quartier.ideas import aggregates, moderation, notifications, services
from quartier.ideas import models as m
from quartier.ideas import schemas as s
from quartier.jobs.mail import verify_unsubscribe_token
from quartier.measures.pages import STATUS_NAMES as MEASURE_STATUS_NAMES
from quartier.participation.browser import RespondentCookie, new_respondent_token
from quartier.participation.submissions import operation_name, resident_write
from quartier.processes import participation
from quartier.processes import translations as process_translations
from quartier.processes.models import PlanningProcess
from quartier.processes.phases import N_
from quartier.settings import Settings
from quartier.surveys.pages import export_links

AnyRequest = Request[Any, Any, Any]
MODERATORS = {Role.ADMIN, Role.MODERATOR}
IDEAS_RESPONDENT = RespondentCookie(prefix="ri", purpose=b"respondent-ideas")
NONCE_MAX = 64

OFFICIAL_STATUS_NAMES = notifications.OFFICIAL_STATUS_NAMES
STATE_NAMES: dict[str, str] = {
    "pending": N_("Waiting for moderation"),
    "published": N_("Published"),
    "hidden": N_("Hidden by moderation"),
    "merged": N_("Merged"),
    "withdrawn": N_("Withdrawn"),
}
SORT_NAMES: dict[str, str] = {
    "newest": N_("Newest first"),
    "most_supported": N_("Most supported"),
    "recently_answered": N_("Recently answered"),
}
FIELD_MESSAGES: dict[str, str] = {
    "title": N_("Enter a title of 3 to 120 characters."),
    "description": N_("Describe your idea in 10 to 4000 characters."),
    "need_category": N_("Choose a need category from the list."),
    "area_code": N_("Choose your area from the list."),
    "notify_email": N_("Enter an e-mail address like name@example.org."),
    "target_groups": N_("Name at most 5 groups, each up to 60 characters."),
    "body": N_("Write a comment of up to 2000 characters."),
    "reason": N_("Give a reason of 3 to 500 characters."),
    "answer": N_("Write an answer of up to 4000 characters."),
}


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state["settings"]
    return settings


def _context(**values: Any) -> dict[str, Any]:
    return {
        "official_status_names": OFFICIAL_STATUS_NAMES,
        "measure_status_names": MEASURE_STATUS_NAMES,
        "state_names": STATE_NAMES,
        "sort_names": SORT_NAMES,
        **values,
    }


def _field_of(error: msgspec.ValidationError) -> str:
    message = str(error)
    marker = "at `$."
    if marker in message:
        return message.split(marker, 1)[1].split("`", 1)[0].split("[", 1)[0].split(".", 1)[0]
    return "form"


def convert(data: Mapping[str, Any], type_: type[Any]) -> tuple[Any, dict[str, str]]:
    """A form's values as the API's Struct, or the errors by field (translated)."""
    try:
        return msgspec.convert(dict(data), type_, strict=False), {}
    except msgspec.ValidationError as error:
        field = _field_of(error)
        return None, {field: _(FIELD_MESSAGES.get(field, N_("Check this field.")))}


def problem_errors(problem: Problem) -> dict[str, str]:
    errors = {e.field: e.message for e in problem.errors or [] if e.source == "body"}
    return errors or {"form": problem.detail}


def _form_values(form: Any, *names: str) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip() for name in names}


async def _process_title(session: AsyncSession, process_id: UUID) -> i18n.Shown:
    """The process's title in the reader's language, or German (the page then says so)."""
    row = (
        await session.execute(
            select(
                PlanningProcess.title, PlanningProcess.topic, PlanningProcess.translations
            ).where(PlanningProcess.id == process_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("No such planning process.")
    return process_translations.summary_for_residents(row[0], row[1], row[2]).title


async def _visible_process(
    request: AnyRequest, session: AsyncSession, process_id: UUID
) -> i18n.Shown:
    state = await participation.load(session, process_id)
    if state is None or (state.status.value == "draft" and principal_of(request) is None):
        raise NotFound("No such planning process.")
    return await _process_title(session, process_id)


def _categories(pairs: list[tuple[str, dict[str, str]]]) -> list[tuple[str, str]]:
    return [(key, i18n.pick(label)) for key, label in pairs]


def _categories_fallback(pairs: list[tuple[str, dict[str, str]]], *shown: i18n.Shown) -> str | None:
    """The language need categories (and the `shown` texts) are shown in where one lacks the
    reader's language."""
    return shared_translations.fallback_language(
        [*shown, *(i18n.show(label) for _key, label in pairs)]
    )


def _answer(idea: s.IdeaOut) -> i18n.Shown:
    """The official answer in the reader's language, or German (with a note on the page)."""
    return shared_translations.show(idea.official_answer, idea.translations, "official_answer")


class AnswerTextForm(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The answer form's text in one language beside German (fields `answer_<suffix>`)."""

    answer: s.TranslatedAnswer = ""


def _answer_values(idea: s.IdeaOut) -> dict[str, str]:
    """The answer form filled with the saved answer in every language."""
    return {
        "official_status": idea.official_status or "",
        "answer": idea.official_answer or "",
        **shared_translations.form_values(
            {
                code: {"answer": texts.get("official_answer", "")}
                for code, texts in msgspec.to_builtins(idea.translations).items()
            }
        ),
    }


# -- browsing ------------------------------------------------------------------------------------


@get("/processes/{process_id:uuid}/ideas", name="ideas:browse", include_in_schema=False, **PUBLIC)
async def browse(
    request: AnyRequest,
    db_session: AsyncSession,
    process_id: UUID,
    area: Annotated[str | None, QueryParameter(max_length=40)] = None,
    need_category: Annotated[str | None, QueryParameter(max_length=64)] = None,
    status: Annotated[str | None, QueryParameter(max_length=20)] = None,
    sort: Annotated[str | None, QueryParameter(max_length=20)] = None,
    cursor: Cursor = None,
) -> Template:
    """Published ideas of a process with filters (no JavaScript: a GET form)."""
    title = await _visible_process(request, db_session, process_id)
    chosen_sort: services.Sort = "newest"
    if sort == "most_supported":
        chosen_sort = "most_supported"
    elif sort == "recently_answered":
        chosen_sort = "recently_answered"
    filters = services.IdeaFilter(
        process_id=process_id,
        area_code=area or None,
        need_category=need_category or None,
        official_status=status if status in OFFICIAL_STATUS_NAMES else None,
    )
    try:
        items, next_cursor = await services.list_ideas(
            db_session,
            filters,
            sort=chosen_sort,
            limit=20,
            cursor=cursor,
        )
    except Problem:
        items, next_cursor = [], None
    query = {
        "area": area or "",
        "need_category": need_category or "",
        "status": filters.official_status or "",
        "sort": chosen_sort,
    }
    pairs = await services.need_categories(db_session)
    return Template(
        template_name="ideas/browse.html",
        context=_context(
            process_id=process_id,
            process_title=title,
            ideas=items,
            next_cursor=next_cursor,
            query=query,
            areas=await services.area_options(db_session, process_id, all_levels=True),
            categories=_categories(pairs),
            fallback_language=_categories_fallback(pairs, title),
            is_open=await participation.is_open(db_session, process_id, "ideas"),
            status_options=[("", _("Any status"))]
            + [(key, _(name)) for key, name in OFFICIAL_STATUS_NAMES.items()],
            sort_options=[(key, _(name)) for key, name in SORT_NAMES.items()],
        ),
    )


# -- submitting ----------------------------------------------------------------------------------

_SUBMIT_FIELDS = (
    "title",
    "description",
    "need_category",
    "area_code",
    "target_groups",
    "notify_email",
    "website",
    "nonce",
)


async def _submit_form(
    db_session: AsyncSession,
    process_id: UUID,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    status: int = 200,
) -> Template:
    title = await _process_title(db_session, process_id)
    is_open = await participation.is_open(db_session, process_id, "ideas")
    pairs = await services.need_categories(db_session)
    return Template(
        template_name="ideas/new.html",
        context=_context(
            process_id=process_id,
            process_title=title,
            values=values,
            errors=errors,
            is_open=is_open,
            areas=await services.area_options(db_session, process_id, all_levels=False),
            categories=_categories(pairs),
            fallback_language=_categories_fallback(pairs, title),
        ),
        status_code=status,
    )


@get(
    "/processes/{process_id:uuid}/ideas/new",
    name="ideas:new",
    include_in_schema=False,
    **PUBLIC,
)
async def new_idea(request: AnyRequest, db_session: AsyncSession, process_id: UUID) -> Template:
    await _visible_process(request, db_session, process_id)
    return await _submit_form(db_session, process_id, {"nonce": secrets.token_urlsafe(16)}, {})


def _submission(values: dict[str, str], consent: bool) -> tuple[Any, dict[str, str]]:
    data: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "need_category": values["need_category"],
        "area_code": values["area_code"] or None,
        "target_groups": [g.strip() for g in values["target_groups"].split(",") if g.strip()],
        "notify_email": values["notify_email"] or None,
        "email_consent": consent,
        "website": values["website"],
    }
    return convert(data, s.IdeaSubmission)


@post(
    "/processes/{process_id:uuid}/ideas/new",
    include_in_schema=False,
    status_code=200,
    **PUBLIC,
)
async def submit_idea(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Response[Any]:
    """The form's submission: the same operation as SubmitIdea; on success to the follow page."""
    form = await request.form()
    values = _form_values(form, *_SUBMIT_FIELDS)
    values["nonce"] = values["nonce"][:NONCE_MAX] or secrets.token_urlsafe(16)
    consent = form.get("email_consent") == "yes"
    data, errors = _submission(values, consent)
    if errors:
        return await _submit_form(db_session, process_id, values, errors, status=400)

    async def produce() -> tuple[int, Any, dict[str, str]]:
        done = await services.submit_idea(db_session, _settings(request), process_id, data)
        follow = request.app.route_reverse("ideas:follow", token=done.follow_token)
        body = s.IdeaSubmitted(idea=done.idea, follow_token=done.follow_token, follow_url=follow)
        return 201, body, {}

    try:
        result = await resident_write(
            db_session,
            settings=_settings(request),
            operation=operation_name("SubmitIdea", process_id),
            key=f"form:{values['nonce']}",
            body=data,
            produce=produce,
        )
    except PhaseClosed as closed:
        return await _submit_form(
            db_session, process_id, values, {"form": closed.detail}, status=409
        )
    except Problem as problem:
        if problem.status_code == 404:
            raise
        return await _submit_form(
            db_session, process_id, values, problem_errors(problem), status=problem.status_code
        )
    submitted = msgspec.json.decode(result.body, type=s.IdeaSubmitted)
    return Redirect(f"/ideas/follow/{submitted.follow_token}?new=1", status_code=303)


# -- one idea ------------------------------------------------------------------------------------


def _staff_role(request: AnyRequest) -> str | None:
    principal = principal_of(request)
    if principal is None or principal.kind != "staff" or principal.role is None:
        return None
    return principal.role.value


async def _idea_template(
    request: AnyRequest,
    db_session: AsyncSession,
    idea_id: UUID,
    *,
    done: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> Template:
    role = _staff_role(request)
    idea = await services.get_idea(db_session, idea_id, staff=role is not None)
    settings = _settings(request)
    token = IDEAS_RESPONDENT.token(request, settings, idea.process_id)
    labels = dict(await services.need_categories(db_session))
    category = i18n.show(labels.get(idea.need_category) or {"de": idea.need_category})
    answer = _answer(idea)
    process_title = await _process_title(db_session, idea.process_id)
    extra.setdefault("answer_values", _answer_values(idea))
    return Template(
        template_name="ideas/idea.html",
        context=_context(
            idea=idea,
            process_title=process_title,
            category=category,
            answer=answer,
            fallback_language=shared_translations.fallback_language(
                [process_title, category, answer]
            ),
            languages=shared_translations.form_languages(),
            german=i18n.language_names()["de"],
            comments=await services.list_comments(db_session, idea_id, staff=role is not None),
            supported=await services.supported_by(
                db_session, settings, idea_id, idea.process_id, token
            ),
            is_open=await participation.is_open(db_session, idea.process_id, "ideas"),
            can_answer=role in {r.value for r in PLANNERS},
            can_moderate=role in {r.value for r in MODERATORS},
            done=done,
            errors=errors or {},
            nonce=secrets.token_urlsafe(16),
            **extra,
        ),
        status_code=status,
    )


@get("/ideas/{idea_id:uuid}", name="ideas:page", include_in_schema=False, **PUBLIC)
async def idea_page(
    request: AnyRequest,
    db_session: AsyncSession,
    idea_id: UUID,
    done: Annotated[str | None, QueryParameter(max_length=20)] = None,
) -> Template:
    """The idea: text, area, status and answer, supports, comments, and the forms."""
    return await _idea_template(request, db_session, idea_id, done=done)


@post("/ideas/{idea_id:uuid}/support", include_in_schema=False, status_code=303, **PUBLIC)
async def support_idea(
    request: AnyRequest, db_session: AsyncSession, idea_id: UUID
) -> Response[Any]:
    """Support, or withdraw the support; the browser's token lives in a signed cookie."""
    form = await request.form()
    settings = _settings(request)
    idea = await services.get_idea(db_session, idea_id)
    token = IDEAS_RESPONDENT.token(request, settings, idea.process_id)
    cookies = []
    if token is None:
        token = new_respondent_token()
        cookies.append(IDEAS_RESPONDENT.cookie(settings, idea.process_id, token))
    on = form.get("action") != "withdraw"
    await services.support_quickly(db_session, engine_of(request), settings, idea_id, token, on=on)
    return Redirect(
        f"/ideas/{idea_id}?done={'supported' if on else 'unsupported'}#supports",
        status_code=303,
        cookies=cookies,
    )


@post("/ideas/{idea_id:uuid}/comments", include_in_schema=False, status_code=303, **PUBLIC)
async def comment_idea(
    request: AnyRequest, db_session: AsyncSession, idea_id: UUID
) -> Response[Any]:
    form = await request.form()
    values = _form_values(form, "body", "parent_id", "website", "nonce")
    data, errors = convert(
        {
            "body": values["body"],
            "parent_id": values["parent_id"] or None,
            "website": values["website"],
        },
        s.CommentSubmission,
    )
    if not errors:
        try:
            result = await resident_write(
                db_session,
                settings=_settings(request),
                operation=operation_name("SubmitIdeaComment", idea_id),
                key=f"form:{values['nonce'][:NONCE_MAX]}" if values["nonce"] else None,
                body=data,
                produce=lambda: _comment(db_session, idea_id, data),
            )
            comment = msgspec.json.decode(result.body, type=s.CommentOut)
            done = "comment_published" if comment.state == "published" else "comment_pending"
            return Redirect(f"/ideas/{idea_id}?done={done}#comments", status_code=303)
        except Problem as problem:
            if problem.status_code == 404:
                raise
            errors = problem_errors(problem)
    return await _idea_template(
        request,
        db_session,
        idea_id,
        errors={("body" if k == "form" else k): v for k, v in errors.items()},
        status=400,
        comment_value=values["body"],
    )


async def _comment(
    session: AsyncSession, idea_id: UUID, data: s.CommentSubmission
) -> tuple[int, Any, dict[str, str]]:
    return 201, await services.submit_comment(session, idea_id, data), {}


@get("/ideas/{idea_id:uuid}/report", name="ideas:report", include_in_schema=False, **PUBLIC)
async def report_page(
    db_session: AsyncSession,
    idea_id: UUID,
    comment_id: Annotated[UUID | None, QueryParameter()] = None,
) -> Template:
    idea = await services.get_idea(db_session, idea_id)
    return Template(
        template_name="ideas/report.html",
        context=_context(idea=idea, comment_id=comment_id, errors={}, reason="", sent=False),
    )


@post("/ideas/{idea_id:uuid}/report", include_in_schema=False, status_code=200, **PUBLIC)
async def report_submit(request: AnyRequest, db_session: AsyncSession, idea_id: UUID) -> Template:
    form = await request.form()
    values = _form_values(form, "reason", "comment_id")
    idea = await services.get_idea(db_session, idea_id)
    data, errors = convert(
        {"reason": values["reason"], "comment_id": values["comment_id"] or None},
        s.ReportSubmission,
    )
    if not errors:
        try:
            await services.report(db_session, idea_id, data)
        except Problem as problem:
            if problem.status_code == 404:
                raise
            errors = problem_errors(problem)
    return Template(
        template_name="ideas/report.html",
        context=_context(
            idea=idea,
            comment_id=values["comment_id"] or None,
            errors=errors,
            reason=values["reason"],
            sent=not errors,
        ),
        status_code=400 if errors else 200,
    )


# -- following -----------------------------------------------------------------------------------


@get("/ideas/follow/{token:str}", name="ideas:follow_page", include_in_schema=False, **PUBLIC)
async def follow_page(
    request: AnyRequest,
    db_session: AsyncSession,
    token: str,
    new: Annotated[str | None, QueryParameter(max_length=5)] = None,
    done: Annotated[str | None, QueryParameter(max_length=20)] = None,
) -> Template:
    """The author's private page: state, answer, edit before moderation, withdraw, stop e-mails."""
    followed = await services.get_followed(db_session, _settings(request), token[:100])
    return await _follow_template(request, db_session, token, followed, new=bool(new), done=done)


async def _follow_template(
    request: AnyRequest,
    db_session: AsyncSession,
    token: str,
    followed: s.FollowedIdea,
    *,
    new: bool = False,
    done: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    pairs = await services.need_categories(db_session)
    answer = _answer(followed.idea)
    return Template(
        template_name="ideas/follow.html",
        context=_context(
            followed=followed,
            idea=followed.idea,
            token=token,
            follow_link=f"{_settings(request).base_url}/ideas/follow/{token}",
            new=new,
            done=done,
            errors=errors or {},
            categories=_categories(pairs),
            answer=answer,
            fallback_language=shared_translations.fallback_language([answer] if answer.text else [])
            or (_categories_fallback(pairs) if followed.editable else None),
        ),
        status_code=status,
    )


@post("/ideas/follow/{token:str}", include_in_schema=False, status_code=303, **PUBLIC)
async def follow_action(request: AnyRequest, db_session: AsyncSession, token: str) -> Response[Any]:
    """`action`: edit (title, description, need category), withdraw, stop_emails."""
    form = await request.form()
    settings = _settings(request)
    action = form.get("action")
    token = token[:100]
    if action == "withdraw":
        await services.withdraw_followed(db_session, settings, token)
    elif action == "stop_emails":
        await services.forget_email(db_session, settings, token)
    else:
        values = _form_values(form, "title", "description", "need_category")
        data, errors = convert(values, s.IdeaEdit)
        if not errors:
            try:
                await services.edit_followed(db_session, settings, token, data)
            except Problem as problem:
                if problem.status_code == 404:
                    raise
                errors = problem_errors(problem)
        if errors:
            followed = await services.get_followed(db_session, settings, token)
            return await _follow_template(
                request, db_session, token, followed, errors=errors, status=400
            )
        action = "edit"
    return Redirect(f"/ideas/follow/{token}?done={action}", status_code=303)


# -- staff: moderation, answers, log -------------------------------------------------------------


@get(
    "/dashboard/ideas/moderation",
    name="ideas:moderation",
    include_in_schema=False,
    **access(roles=MODERATORS),
)
async def moderation_page(
    db_session: AsyncSession,
    process_id: Annotated[UUID | None, QueryParameter()] = None,
    cursor: Cursor = None,
    done: Annotated[str | None, QueryParameter(max_length=20)] = None,
) -> Template:
    items, next_cursor = await moderation.moderation_queue(
        db_session, process_id=process_id, limit=20, cursor=cursor
    )
    targets = await services.merge_targets(db_session, [item.idea.process_id for item in items])
    return Template(
        template_name="ideas/moderation.html",
        context=_context(
            items=items, next_cursor=next_cursor, process_id=process_id, targets=targets, done=done
        ),
    )


def _back(form: Any, fallback: str) -> str:
    target = str(form.get("next") or "")
    return target if target.startswith("/") and not target.startswith("//") else fallback


@post(
    "/dashboard/ideas/{idea_id:uuid}/moderate",
    include_in_schema=False,
    status_code=303,
    **access(roles=MODERATORS),
)
async def moderate_idea(
    request: AnyRequest, db_session: AsyncSession, idea_id: UUID
) -> Response[Any]:
    """`action`: publish, hide (with `reason`), restore, dismiss, merge (`into_id`)."""
    form = await request.form()
    principal = principal_of(request)
    assert principal is not None
    action = str(form.get("action") or "")
    reason = str(form.get("reason") or "").strip()[: m.REASON_MAX] or None
    back = _back(form, "/dashboard/ideas/moderation")
    try:
        if action == "publish":
            await moderation.publish_idea(db_session, idea_id, principal, reason)
        elif action == "hide":
            if not reason or len(reason) < 3:
                raise services.invalid("reason", _("Give the public reason for hiding the idea."))
            await moderation.hide_idea(db_session, idea_id, principal, reason)
        elif action == "restore":
            await moderation.restore_idea(db_session, idea_id, principal, reason)
        elif action == "dismiss":
            await moderation.dismiss_reports(db_session, idea_id, principal, reason)
        elif action == "merge":
            try:
                into = UUID(str(form.get("into_id") or ""))
            except ValueError:
                raise services.invalid("into_id", _("Choose the idea to merge into.")) from None
            await moderation.merge_ideas(db_session, idea_id, into, principal, reason)
        else:
            raise services.invalid("action", _("Choose what to do."))
    except Problem as problem:
        if problem.status_code == 404:
            raise
        return Template(
            template_name="ideas/moderation_error.html",
            context=_context(errors=problem_errors(problem), back=back),
            status_code=problem.status_code,
        )
    separator = "&" if "?" in back else "?"
    return Redirect(f"{back}{separator}done={action}", status_code=303)


@post(
    "/dashboard/idea-comments/{comment_id:uuid}/moderate",
    include_in_schema=False,
    status_code=303,
    **access(roles=MODERATORS),
)
async def moderate_comment(
    request: AnyRequest, db_session: AsyncSession, comment_id: UUID
) -> Response[Any]:
    form = await request.form()
    principal = principal_of(request)
    assert principal is not None
    action = str(form.get("action") or "")
    reason = str(form.get("reason") or "").strip()[: m.REASON_MAX] or None
    back = _back(form, "/dashboard/ideas/moderation")
    try:
        await moderation.moderate_comment(
            db_session, comment_id, principal, publish=action != "hide", reason=reason
        )
    except Problem as problem:
        if problem.status_code == 404:
            raise
        return Template(
            template_name="ideas/moderation_error.html",
            context=_context(errors=problem_errors(problem), back=back),
            status_code=problem.status_code,
        )
    separator = "&" if "?" in back else "?"
    return Redirect(f"{back}{separator}done=comment", status_code=303)


def _answer_errors(problem: Problem) -> dict[str, str]:
    """A refusal of the answer by form field: `translations.en.official_answer` is shown at
    `answer_en`."""
    suffixes = shared_translations.FORM_SUFFIXES
    errors: dict[str, str] = {}
    for field, message in problem_errors(problem).items():
        parts = field.split(".")
        if parts[0] == "translations" and len(parts) > 1 and parts[1] in suffixes:
            field = f"answer_{suffixes[parts[1]]}"
        errors.setdefault(field, message)
    return errors


@post(
    "/dashboard/ideas/{idea_id:uuid}/answer",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def answer_idea(
    request: AnyRequest, db_session: AsyncSession, idea_id: UUID
) -> Response[Any]:
    form = await request.form()
    principal = principal_of(request)
    assert principal is not None
    sent = _form_values(form, "official_status", "answer")
    change, errors, translated = shared_translations.read_form(form, AnswerTextForm)
    values = {**sent, **translated}
    body = {
        **sent,
        "translations": {
            code: {"official_answer": texts["answer"]}
            for code, texts in change.items()
            if texts and texts.get("answer")
        },
    }
    data, answer_errors = convert(body, s.AnswerRequest)
    errors = {**answer_errors, **errors}
    if not errors:
        try:
            await moderation.answer_idea(db_session, _settings(request), idea_id, data, principal)
            return Redirect(f"/ideas/{idea_id}?done=answered#status-answer", status_code=303)
        except Problem as problem:
            if problem.status_code == 404:
                raise
            errors = _answer_errors(problem)
    return await _idea_template(
        request, db_session, idea_id, errors=errors, status=400, answer_values=values
    )


@get(
    "/dashboard/ideas/log",
    name="ideas:log",
    include_in_schema=False,
    **access(roles=ADMINS),
)
async def log_page(db_session: AsyncSession, cursor: Cursor = None) -> Template:
    entries, next_cursor = await moderation.moderation_log(
        db_session, idea_id=None, limit=50, cursor=cursor
    )
    return Template(
        template_name="ideas/log.html",
        context=_context(entries=entries, next_cursor=next_cursor),
    )


@get(
    "/dashboard/processes/{process_id:uuid}/area-needs",
    name="ideas:area_needs",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def area_needs_page(
    db_session: AsyncSession,
    process_id: UUID,
    area: Annotated[str | None, QueryParameter(max_length=40)] = None,
) -> Template:
    """One area's needs from surveys and ideas side by side (choose the area with a GET form)."""
    title = await _process_title(db_session, process_id)
    options = await services.area_options(db_session, process_id, all_levels=True)
    chosen = area or (options[0][0] if options else None)
    result = None
    errors: dict[str, str] = {}
    if chosen is not None:
        try:
            result = await aggregates.area_needs(db_session, process_id, chosen)
        except Problem as problem:
            if problem.status_code == 404:
                raise
            errors = {"area": problem.detail}
    return Template(
        template_name="ideas/area_needs.html",
        context=_context(
            process_id=process_id,
            process_title=title,
            areas=options,
            chosen=chosen,
            result=result,
            errors=errors,
            categories=dict(_categories(await services.need_categories(db_session))),
            exports=export_links(
                f"/api/v1/processes/{process_id}/idea-aggregates/export?level={result.level}"
            )
            if result is not None
            else [],
        ),
    )


def _stop_token(request: AnyRequest, idea_id: UUID, token: str | None) -> None:
    subject = (
        verify_unsubscribe_token(
            _settings(request).secret_key, token, purpose=notifications.UNSUBSCRIBE_PURPOSE
        )
        if token
        else None
    )
    if subject != str(idea_id):
        raise NotFound("This link to stop e-mails is not valid.")


@get("/ideas/{idea_id:uuid}/stop-emails", include_in_schema=False, **PUBLIC)
async def stop_emails_page(
    request: AnyRequest,
    idea_id: UUID,
    token: Annotated[str | None, QueryParameter(max_length=1000)] = None,
) -> Template:
    """The unsubscribe link of a notification mail: a button, so that a mail scanner following
    the link deletes nothing."""
    _stop_token(request, idea_id, token)
    return Template(
        template_name="ideas/stop_emails.html",
        context={"idea_id": idea_id, "token": token, "done": False},
    )


@post("/ideas/{idea_id:uuid}/stop-emails", include_in_schema=False, status_code=200, **PUBLIC)
async def stop_emails(request: AnyRequest, db_session: AsyncSession, idea_id: UUID) -> Template:
    form = await request.form()
    token = form.get("token")
    _stop_token(request, idea_id, token if isinstance(token, str) else None)
    await services.forget_email_of(db_session, idea_id)
    return Template(
        template_name="ideas/stop_emails.html",
        context={"idea_id": idea_id, "token": None, "done": True},
    )


PAGES: list[ControllerRouterHandler] = [
    stop_emails_page,
    stop_emails,
    browse,
    new_idea,
    submit_idea,
    idea_page,
    support_idea,
    comment_idea,
    report_page,
    report_submit,
    follow_page,
    follow_action,
    moderation_page,
    moderate_idea,
    moderate_comment,
    answer_idea,
    log_page,
    area_needs_page,
]
