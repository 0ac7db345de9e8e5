"""HTML pages of goals, measures and feedback. They call the same services as the API.

Residents: the measures of a process in consultation, a measure's page with its sections and
the feedback form (one page, plain HTML, works without JavaScript on a phone), the
confirmation, the published summary, and the chain from needs to measures.
Planners (/dashboard/…): goals and measures of a process, drafting and editing a measure (a
new version on every save), a measure's versions, the difference between two, the lifecycle
steps with their reasons, the consultation settings and organisations' codes, the summary.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import SocialArea
from quartier.core import i18n
from quartier.core import translations as shared_translations
from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound, PhaseClosed, Problem
from quartier.core.i18n import gettext as _
from quartier.core.security import PLANNERS, STAFF, Role, access, principal_of
from quartier.db import engine_of
from quartier.ideas.models import Idea
from quartier.ideas.notifications import OFFICIAL_STATUS_NAMES
from quartier.measures import common, delivery, delivery_pages, feedback, goals, services, texts
from quartier.measures import schemas as s
from quartier.measures.delivery_pages import PERIOD_NAMES, UNIT_NAMES
from quartier.measures.models import (
    Measure,
    MeasureStatus,
    MeasureVersion,
    ModerationStatus,
    RespondentKind,
    Stance,
)
from quartier.measures.support_maps import area_maps
from quartier.processes import models as pm
from quartier.processes.phases import N_
from quartier.processes.services import Actor
from quartier.settings import Settings
from quartier.surveys import pages as survey_pages
from quartier.surveys.models import NeedCategory

AnyRequest = Request[Any, Any, Any]
PUBLIC = access(public=True)
PLANNER_PAGE = access(roles=PLANNERS)
STAFF_PAGE = access(roles=STAFF)
MODERATORS = {Role.MODERATOR, Role.ADMIN}
MODERATOR_PAGE = access(roles=MODERATORS)

STATUS_NAMES: dict[str, str] = {
    MeasureStatus.DRAFT: N_("Draft"),
    MeasureStatus.IN_CONSULTATION: N_("In consultation"),
    MeasureStatus.REVISED: N_("Revised"),
    MeasureStatus.ADOPTED: N_("Adopted"),
    MeasureStatus.RESOURCED: N_("Resourced"),
    MeasureStatus.IN_DELIVERY: N_("In delivery"),
    MeasureStatus.EVALUATED: N_("Evaluated"),
    MeasureStatus.WITHDRAWN: N_("Withdrawn"),
}
STEP_NAMES: dict[str, str] = {
    "revise": N_("Close the consultation and revise"),
    "adopt": N_("Record the adoption"),
    "resource": N_("Record that resources are provided"),
    "start_delivery": N_("Record the start of delivery"),
    "evaluate": N_("Record the evaluation"),
    "withdraw": N_("Withdraw the measure"),
}
STANCE_NAMES: dict[str, str] = {
    Stance.SUPPORT: N_("I support it"),
    Stance.NEUTRAL: N_("Neutral"),
    Stance.OPPOSE: N_("I oppose it"),
}
KIND_NAMES: dict[str, str] = {
    RespondentKind.RESIDENT: N_("Resident"),
    RespondentKind.PROFESSIONAL: N_("Professional"),
    RespondentKind.ORGANISATION: N_("Organisation"),
}
BLANK_ROWS = 2
NO_STORE = {"Cache-Control": "no-store"}


def _context(**values: Any) -> dict[str, Any]:
    return {
        "status_names": STATUS_NAMES,
        "official_status_names": OFFICIAL_STATUS_NAMES,
        "step_names": STEP_NAMES,
        "stance_names": STANCE_NAMES,
        "kind_names": KIND_NAMES,
        "unit_names": UNIT_NAMES,
        "period_names": PERIOD_NAMES,
        **delivery_pages.names(),
        **values,
    }


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state["settings"]
    return settings


def _field_id(field: str) -> str:
    """`resources[0].amount` → `resources-0-amount`: the id of the form field."""
    return re.sub(r"[\[\].]+", "-", field).strip("-")


def _errors(problem: Problem) -> dict[str, str]:
    errors = {_field_id(e.field): e.message for e in problem.errors or []}
    return errors or {"form": problem.detail}


def _validation_errors(error: msgspec.ValidationError) -> dict[str, str]:
    message = str(error)
    match = re.search(r"at `\$\.([^`]+)`", message)
    field = _field_id(match.group(1)) if match else "form"
    return {field: message.split(" - at ")[0]}


# -- residents -----------------------------------------------------------------------------------


@get(
    "/processes/{process_id:uuid}/measures",
    name="measures:index",
    include_in_schema=False,
    **PUBLIC,
)
async def index(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID, area: str = ""
) -> Template:
    """The measures of a process the public can see, those in consultation first; with `area`
    (a social area's code) only those concerning it: measures covering the area, an area it
    lies in or an area within it, and measures that name no area."""
    viewer = common.Viewer.of(principal_of(request))
    process = await common.process(db_session, process_id, viewer)
    page = await services.list_measures(db_session, process_id, viewer, limit=200, cursor=None)
    areas_of = await _areas_of_measures(db_session, [m.id for m in page.items])
    paths = await _area_paths(db_session, {a for ids in areas_of.values() for a in ids})
    named = sorted({(code, name) for code, name, _path in paths.values()}, key=lambda o: o[1])
    area_options = [("", _("All social areas")), *named]
    chosen = None
    if area:
        chosen = (
            await db_session.execute(
                sa.select(SocialArea.code, SocialArea.name, SocialArea.path).where(
                    SocialArea.code == area[:32]
                )
            )
        ).one_or_none()
    items = page.items
    if chosen is not None:
        if chosen.code not in {code for code, _name in named}:
            area_options.append((chosen.code, chosen.name))
        chosen_path = list(chosen.path)

        def concerns(ids: list[UUID]) -> bool:
            return not ids or any(
                a in chosen_path or chosen_path[-1] in paths[a][2] for a in ids if a in paths
            )

        items = [m for m in items if concerns(areas_of.get(m.id, []))]
    in_consultation = [m for m in items if m.status is MeasureStatus.IN_CONSULTATION]
    others = [m for m in items if m.status is not MeasureStatus.IN_CONSULTATION]
    shown = {m.id: texts.summary_for_residents(m) for m in page.items}
    title = texts.process_title(process)
    return Template(
        template_name="measures/index.html",
        context=_context(
            process=process,
            process_title=title,
            in_consultation=in_consultation,
            others=others,
            area_options=area_options,
            area=chosen.code if chosen else "",
            texts=shown,
            fallback_language=shared_translations.fallback_language(
                [title, *(text for measure in shown.values() for text in measure.all())]
            ),
        ),
    )


async def _areas_of_measures(
    db_session: AsyncSession, measure_ids: list[UUID]
) -> dict[UUID, list[UUID]]:
    """The social areas each measure's current version covers."""
    if not measure_ids:
        return {}
    rows = await db_session.execute(
        sa.select(Measure.id, MeasureVersion.area_ids)
        .join(
            MeasureVersion,
            sa.and_(
                MeasureVersion.measure_id == Measure.id,
                MeasureVersion.version == Measure.current_version,
            ),
        )
        .where(Measure.id.in_(measure_ids))
    )
    return {row.id: list(row.area_ids) for row in rows}


async def _area_paths(
    db_session: AsyncSession, area_ids: set[UUID]
) -> dict[UUID, tuple[str, str, list[UUID]]]:
    """Code, name and path (the areas it lies in, itself last) of each area."""
    if not area_ids:
        return {}
    rows = await db_session.execute(
        sa.select(SocialArea.id, SocialArea.code, SocialArea.name, SocialArea.path).where(
            SocialArea.id.in_(area_ids)
        )
    )
    return {row.id: (row.code, row.name, list(row.path)) for row in rows}


class FeedbackForm(msgspec.Struct, kw_only=True):
    """What the resident typed, to show it again with the errors."""

    kind: str = RespondentKind.RESIDENT.value
    stance: str = ""
    ratings: dict[str, str] = {}
    comments: dict[str, str] = {}
    general_comment: str = ""
    area_code: str = ""
    organisation_code: str = ""
    idempotency_key: str = ""


async def _measure_page(
    request: AnyRequest,
    db_session: AsyncSession,
    measure_id: UUID,
    *,
    form: FeedbackForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
) -> Template:
    viewer = common.Viewer.of(principal_of(request))
    measure = await services.get_measure(db_session, measure_id, viewer)
    process = await common.process(db_session, measure.process_id, viewer)
    consultation = measure.consultation
    accepting = (
        consultation is not None
        and consultation.is_open
        and measure.status is MeasureStatus.IN_CONSULTATION
    )
    if accepting:
        try:
            await feedback.open_consultation(db_session, measure_id)
        except (Conflict, PhaseClosed, NotFound):
            accepting = False
    summary_visible = consultation is not None and (
        viewer.privileged or (consultation.summary_public and not consultation.is_open)
    )
    shown = texts.for_residents(measure.content)
    return Template(
        template_name="measures/measure.html",
        context=_context(
            process=process,
            process_title=texts.process_title(process),
            measure=measure,
            content=measure.content,
            texts=shown,
            fallback_language=shown.fallback_language,
            consultation=consultation,
            accepting=accepting,
            summary_visible=summary_visible,
            evaluation=await delivery.public_evaluation(db_session, measure_id),
            form=form or FeedbackForm(idempotency_key=secrets.token_urlsafe(16)),
            area_options=[("", _("I prefer not to say"))]
            + [(a.code, a.name) for a in measure.content.areas],
            errors=errors or {},
        ),
        status_code=status_code,
        headers=NO_STORE,
        cookies=cookies or [],
    )


@get("/measures/{measure_id:uuid}", name="measures:page", include_in_schema=False, **PUBLIC)
async def measure_page(request: AnyRequest, db_session: AsyncSession, measure_id: UUID) -> Template:
    """The measure with its sections and, while the consultation is open, the feedback form."""
    return await _measure_page(request, db_session, measure_id)


def _read_feedback_form(form: Any, criteria: list[str], sections: list[str]) -> FeedbackForm:
    def text(name: str, limit: int) -> str:
        return str(form.get(name) or "").strip()[:limit]

    return FeedbackForm(
        kind=text("kind", 20) or RespondentKind.RESIDENT.value,
        stance=text("stance", 20),
        ratings={c: text(f"rating-{c}", 2) for c in criteria if text(f"rating-{c}", 2)},
        comments={x: text(f"comment-{x}", 4000) for x in sections if text(f"comment-{x}", 4000)},
        general_comment=text("general_comment", 4000),
        area_code=text("area_code", 32),
        organisation_code=text("organisation_code", 64),
        idempotency_key=text("idempotency_key", 64) or secrets.token_urlsafe(16),
    )


@post(
    "/measures/{measure_id:uuid}/feedback",
    include_in_schema=False,
    status_code=200,
    guards=PUBLIC["guards"],
    opt={**PUBLIC["opt"], "rate_limit": "submission"},
)
async def give_feedback(
    request: AnyRequest, db_session: AsyncSession, measure_id: UUID
) -> Template:
    """Store the feedback (the same idempotent service as SubmitMeasureFeedback) and confirm."""
    settings = _settings(request)
    measure = await services.get_measure(db_session, measure_id, common.PUBLIC)
    consultation = measure.consultation
    if consultation is None:
        raise NotFound("No consultation on this measure.")
    criteria = [c.key for c in consultation.criteria]
    sections = [x.key for x in measure.content.sections]
    form = _read_feedback_form(await request.form(), criteria, sections)
    token = survey_pages.respondent_token(request, settings, consultation.id)
    cookies: list[Cookie] = []
    if token is None:
        token = secrets.token_urlsafe(24)
        cookies = [survey_pages.respondent_cookie(settings, consultation.id, token)]
    errors: dict[str, str] = {}
    if form.stance not in {x.value for x in Stance}:
        errors["stance"] = _("Choose whether you support the measure.")
    if form.kind not in {x.value for x in RespondentKind}:
        errors["kind"] = _("Choose who you are answering as.")
    if errors:
        return await _measure_page(
            request, db_session, measure_id, form=form, errors=errors, cookies=cookies
        )
    body: dict[str, Any] = {
        "kind": form.kind,
        "stance": form.stance,
        "ratings": {k: int(v) for k, v in form.ratings.items() if v.isdigit()},
        "comments": [{"section": k, "body": v} for k, v in form.comments.items()],
        "general_comment": form.general_comment,
        "area_code": form.area_code or None,
        "organisation_code": form.organisation_code or None,
    }
    try:
        submission = msgspec.convert(body, s.FeedbackSubmission)
        async with db_session.begin_nested():
            result = await feedback.submit_idempotent(
                db_session,
                settings,
                measure_id,
                submission,
                idempotency_key=form.idempotency_key,
                respondent_token=None if form.kind == "organisation" else token,
                engine=engine_of(request),
            )
    except msgspec.ValidationError as error:
        return await _measure_page(
            request,
            db_session,
            measure_id,
            form=form,
            errors=_validation_errors(error),
            cookies=cookies,
        )
    except Problem as problem:
        if problem.slug == "already-answered":
            errors = {"form": _("You have already given feedback on this measure.")}
        elif problem.slug == "code-used":
            errors = {"organisation_code": _("This code is unknown or used already.")}
        else:
            errors = _errors(problem)
        return await _measure_page(
            request, db_session, measure_id, form=form, errors=errors, cookies=cookies
        )
    receipt = msgspec.json.decode(result.body, type=s.FeedbackReceipt)
    return Template(
        template_name="measures/confirmation.html",
        context=_context(measure=measure, receipt=receipt),
        headers=NO_STORE,
        cookies=cookies,
    )


def stance_chart(group: s.GroupSummary, k: int) -> survey_pages.BarChart:
    """The stance distribution of a group as the surveys' bar chart."""
    total = sum(c.count or 0 for c in group.stances)
    rows = []
    y = 0
    for count in group.stances:
        label = _(STANCE_NAMES[count.key])
        label_y = [y + survey_pages.LINE - 5]
        bar_y = y + survey_pages.LINE + 2
        if count.count is None:
            value = _("protected")
            rows.append(survey_pages.ChartRow([label], label_y, bar_y, 0.0, value, True))
        else:
            share = count.count / total if total else 0.0
            value = f"{survey_pages.percent(share)} ({count.count})"
            rows.append(
                survey_pages.ChartRow(
                    [label], label_y, bar_y, round(share * survey_pages.BAR_SPAN, 2), value, False
                )
            )
        y = bar_y + survey_pages.BAR + survey_pages.GAP
    return survey_pages.BarChart(
        id=f"stances-{group.key.replace('/', '-')}",
        title=_("Stances"),
        description=_("Stances of the anonymous responses; numbers in the table."),
        height=y,
        rows=rows,
        span=survey_pages.BAR_SPAN,
    )


def comment_groups(
    comments: list[s.CommentView],
    content: s.MeasureVersion,
    titles: Mapping[str, str] | None = None,
) -> list[tuple[str, list[s.CommentView]]]:
    """Comments by section in the measure's order (titled: by `titles` where given, e.g. in
    the reader's language, else the German heading), the general comments last."""
    titles = titles or {}
    order = [
        (section.key, titles.get(section.key) or section.title) for section in content.sections
    ]
    groups = [
        (title, [c for c in comments if c.section == key])
        for key, title in [*order, (None, _("General comments"))]
    ]
    known = {key for key, _title in order}
    stray = [c for c in comments if c.section is not None and c.section not in known]
    return [(title, items) for title, items in groups if items] + (
        [(_("Other sections"), stray)] if stray else []
    )


@get(
    "/measures/{measure_id:uuid}/summary",
    name="measures:summary",
    include_in_schema=False,
    **PUBLIC,
)
async def summary_page(request: AnyRequest, db_session: AsyncSession, measure_id: UUID) -> Template:
    """The feedback summary: public after the window closes if so set, always for staff."""
    viewer = common.Viewer.of(principal_of(request))
    measure = await services.get_measure(db_session, measure_id, viewer)
    result = await feedback.summary(db_session, measure_id, viewer)
    charts = {g.key: stance_chart(g, result.metadata.k_threshold) for g in result.groups}
    consulted = await services.get_measure(db_session, measure_id, viewer, result.metadata.version)
    title = texts.for_residents(measure.content).title
    shown = texts.for_residents(consulted.content)
    return Template(
        template_name="measures/summary.html",
        context=_context(
            measure=measure,
            summary=result,
            charts=charts,
            title=title,
            fallback_language=shared_translations.fallback_language(
                [title, *(section.title for section in shown.sections)]
            ),
            comment_groups=comment_groups(
                result.comments, consulted.content, shown.section_titles()
            ),
            area_maps=await area_maps(db_session, result, consulted.content.areas),
        ),
    )


@get(
    "/processes/{process_id:uuid}/traceability",
    name="measures:traceability",
    include_in_schema=False,
    **PUBLIC,
)
async def traceability_page(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Template:
    """From needs to goals to measures and their status."""
    viewer = common.Viewer.of(principal_of(request))
    process = await common.process(db_session, process_id, viewer)
    chain = await feedback.traceability(db_session, process_id, viewer)
    title = texts.process_title(process)
    measure_titles = {
        measure.id: shared_translations.show(measure.title, measure.translations, "title")
        for need in chain.needs
        for goal in need.goals
        for measure in goal.measures
    }
    goal_statements = {
        goal.id: texts.goal_statement(goal) for need in chain.needs for goal in need.goals
    }
    return Template(
        template_name="measures/traceability.html",
        context=_context(
            process=process,
            process_title=title,
            chain=chain,
            measure_titles=measure_titles,
            goal_statements=goal_statements,
            fallback_language=shared_translations.fallback_language(
                [title, *measure_titles.values(), *goal_statements.values()]
            ),
        ),
    )


# -- planners ------------------------------------------------------------------------------------


@get(
    "/dashboard/processes/{process_id:uuid}/measures",
    name="measures:dashboard",
    include_in_schema=False,
    **PLANNER_PAGE,
)
async def dashboard(db_session: AsyncSession, process_id: UUID) -> Template:
    """Goals and measures of a process, for planners."""
    process = await common.process(db_session, process_id, common.STAFF_VIEWER)
    goal_page = await goals.list_goals(
        db_session, process_id, common.STAFF_VIEWER, limit=200, cursor=None
    )
    measure_page_ = await services.list_measures(
        db_session, process_id, common.STAFF_VIEWER, limit=200, cursor=None
    )
    return Template(
        template_name="measures/dashboard.html",
        context=_context(process=process, goals=goal_page.items, measures=measure_page_.items),
    )


async def _choices(db_session: AsyncSession, process_id: UUID) -> dict[str, Any]:
    organisations = (
        await db_session.execute(
            sa.select(pm.Organisation.id, pm.Organisation.name).order_by(pm.Organisation.name)
        )
    ).all()
    categories = (
        await db_session.execute(
            sa.select(NeedCategory.key, NeedCategory.label)
            .where(NeedCategory.is_active)
            .order_by(NeedCategory.position)
        )
    ).all()
    goal_page = await goals.list_goals(
        db_session, process_id, common.STAFF_VIEWER, limit=200, cursor=None
    )
    accepted = (
        await db_session.execute(
            sa.select(Idea.id, Idea.title)
            .where(
                Idea.process_id == process_id,
                Idea.official_status.in_(services.LINKABLE_IDEAS),
            )
            .order_by(Idea.support_count.desc(), Idea.id)
            .limit(200)
        )
    ).all()
    return {
        "provider_options": [("", "–")] + [(str(o.id), o.name) for o in organisations],
        "category_options": [(c.key, i18n.pick(c.label)) for c in categories],
        "goal_options": [(str(g.id), g.statement) for g in goal_page.items],
        "idea_options": [(str(i.id), i.title) for i in accepted],
    }


def _lines(value: str, limit: int) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()][:limit]


def _codes(value: str) -> list[str]:
    return [code.strip() for code in re.split(r"[,\s]+", value) if code.strip()][:500]


def _rows(
    form: Any, prefix: str, fields: tuple[str, ...], significant: int | None = None
) -> list[dict[str, str]]:
    """The filled rows of a repeated group of fields `prefix-<i>-<field>`; a row whose first
    `significant` fields are empty is blank (selects always send a value)."""
    rows = []
    for index in range(60):
        row = {f: str(form.get(f"{prefix}-{index}-{f}") or "").strip() for f in fields}
        if not any(form.get(f"{prefix}-{index}-{f}") is not None for f in fields):
            break
        if any(row[f] for f in fields[:significant]):
            rows.append(row)
    return rows


def _measure_body(form: Any) -> dict[str, Any]:
    resources = []
    for row in _rows(form, "resources", ("label", "amount", "unit", "period"), 2):
        try:
            amount: Any = float(row["amount"].replace(",", "."))
        except ValueError:
            amount = row["amount"]
        resources.append({**row, "amount": amount})
    criteria = [
        {**row, "due": row["due"] or None}
        for row in _rows(form, "criteria", ("indicator", "baseline", "target", "due", "method"))
    ]
    return {
        "title": str(form.get("title") or "").strip(),
        "summary": str(form.get("summary") or "").strip(),
        "goal_ids": [str(g) for g in form.getall("goal_ids", [])],
        "idea_ids": [str(i) for i in form.getall("idea_ids", [])],
        "area_codes": _codes(str(form.get("area_codes") or "")),
        "target_groups": _lines(str(form.get("target_groups") or ""), 30),
        "resources": resources,
        "provider_id": str(form.get("provider_id") or "") or None,
        "criteria": criteria,
    }


SECTION_FIELDS = ("key", "title", "body")


def _translated_form(form: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The texts per language of the measure form: the title and summary's translations and
    the sections (each with its translations) as the API takes them, the values sent by form
    field (`title_en`, `sections-0-body_simple`, …) and the errors. Sections are numbered as
    kept (blank rows dropped), so values and errors match the form shown again."""
    change, errors, values = shared_translations.read_form(form, s.MeasureText)
    sections: list[dict[str, Any]] = []
    for index in range(60):
        if all(form.get(f"sections-{index}-{f}") is None for f in SECTION_FIELDS):
            break
        row = {f: str(form.get(f"sections-{index}-{f}") or "").strip() for f in SECTION_FIELDS}
        if not any(row.values()):
            continue
        found, row_errors, row_values = shared_translations.read_form(
            form, s.SectionText, prefix=f"sections-{index}-"
        )
        sent, kept = f"sections-{index}-", f"sections-{len(sections)}-"
        values.update({kept + key.removeprefix(sent): v for key, v in row_values.items()})
        errors.update({kept + key.removeprefix(sent): v for key, v in row_errors.items()})
        sections.append({**row, "translations": {c: t for c, t in found.items() if t}})
    return (
        {"translations": {c: t for c, t in change.items() if t}, "sections": sections},
        values,
        errors,
    )


def _text_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The form values of the texts in every language (German under the field's own name),
    from a measure's content as the API gives it."""
    found: dict[str, Any] = {
        "title": values.get("title", ""),
        "summary": values.get("summary", ""),
        **shared_translations.form_values(values.get("translations") or {}),
    }
    for index, row in enumerate(values.get("sections") or []):
        prefix = f"sections-{index}-"
        found[f"{prefix}title"] = row.get("title", "")
        found[f"{prefix}body"] = row.get("body", "")
        found.update(shared_translations.form_values(row.get("translations") or {}, prefix=prefix))
    return found


def _values_of(content: s.MeasureVersion | None) -> dict[str, Any]:
    if content is None:
        return {"resources": [], "criteria": [], "sections": [], "goal_ids": [], "idea_ids": []}
    return {
        "title": content.title,
        "summary": content.summary,
        "goal_ids": [str(g) for g in content.goal_ids],
        "idea_ids": [str(i.id) for i in content.ideas],
        "area_codes": ", ".join(a.code for a in content.areas),
        "target_groups": "\n".join(content.target_groups),
        "provider_id": str(content.provider.id) if content.provider else "",
        "resources": msgspec.to_builtins(content.resources),
        "criteria": msgspec.to_builtins(content.criteria),
        "sections": msgspec.to_builtins(content.sections),
        "translations": msgspec.to_builtins(content.translations),
    }


async def _editor(
    db_session: AsyncSession,
    process_id: UUID,
    values: dict[str, Any],
    *,
    measure_id: UUID | None = None,
    errors: dict[str, str] | None = None,
    texts_sent: dict[str, Any] | None = None,
) -> Template:
    """The measure form; `texts_sent`: the texts per language as sent (shown again with the
    errors), otherwise they come from `values`."""
    values = dict(values)
    values["texts"] = {**_text_values(values), **(texts_sent or {})}
    if isinstance(values.get("area_codes"), list):
        values["area_codes"] = ", ".join(values["area_codes"])
    if isinstance(values.get("target_groups"), list):
        values["target_groups"] = "\n".join(values["target_groups"])
    for key in ("resources", "criteria", "sections"):
        values[key] = list(values.get(key) or []) + [{}] * BLANK_ROWS
    return Template(
        template_name="measures/edit.html",
        context=_context(
            process_id=process_id,
            measure_id=measure_id,
            values=values,
            errors=errors or {},
            languages=shared_translations.form_languages(),
            german=i18n.language_names()["de"],
            **await _choices(db_session, process_id),
        ),
        status_code=422 if errors else 200,
    )


async def _save_measure(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID, measure_id: UUID | None
) -> Template | Redirect:
    form = await request.form()
    translated, texts_sent, errors = _translated_form(form)
    body = {**_measure_body(form), **translated}
    try:
        data = msgspec.convert(body, s.MeasureInput)
        if not errors:
            async with db_session.begin_nested():
                actor = Actor.of(principal_of(request))
                if measure_id is None:
                    measure_id = await services.create_measure(db_session, process_id, data, actor)
                else:
                    await services.update_measure(db_session, measure_id, data, actor)
    except msgspec.ValidationError as error:
        errors = {**_validation_errors(error), **errors}
    except (InvalidInput, Conflict) as problem:
        errors = _errors(problem)
    if errors:
        return await _editor(
            db_session,
            process_id,
            body,
            measure_id=measure_id,
            errors=errors,
            texts_sent=texts_sent,
        )
    return Redirect(f"/dashboard/measures/{measure_id}", status_code=303)


@get(
    "/dashboard/processes/{process_id:uuid}/measures/new",
    include_in_schema=False,
    **PLANNER_PAGE,
)
async def new_measure(db_session: AsyncSession, process_id: UUID) -> Template:
    await common.process(db_session, process_id, common.STAFF_VIEWER, writable=True)
    return await _editor(db_session, process_id, _values_of(None))


@post(
    "/dashboard/processes/{process_id:uuid}/measures/new",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def create_measure(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Template | Redirect:
    return await _save_measure(request, db_session, process_id, None)


@get("/dashboard/measures/{measure_id:uuid}/edit", include_in_schema=False, **PLANNER_PAGE)
async def edit_measure(db_session: AsyncSession, measure_id: UUID) -> Template:
    measure = await services.get_measure(db_session, measure_id, common.STAFF_VIEWER)
    return await _editor(
        db_session, measure.process_id, _values_of(measure.content), measure_id=measure_id
    )


@post(
    "/dashboard/measures/{measure_id:uuid}/edit",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def update_measure(
    request: AnyRequest, db_session: AsyncSession, measure_id: UUID
) -> Template | Redirect:
    measure = await services.load_measure(db_session, measure_id)
    return await _save_measure(request, db_session, measure.process_id, measure_id)


async def _staff_page(
    db_session: AsyncSession,
    measure_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    issued: list[s.IssuedCode] | None = None,
) -> Template:
    measure = await services.get_measure(db_session, measure_id, common.STAFF_VIEWER)
    process = await common.process(db_session, measure.process_id, common.STAFF_VIEWER)
    phase = await common.active_phase(db_session, measure.process_id)
    versions = await services.list_versions(db_session, measure_id, common.STAFF_VIEWER)
    history = await services.list_transitions(db_session, measure_id, common.STAFF_VIEWER)
    organisations = (
        await db_session.execute(
            sa.select(pm.Organisation.id, pm.Organisation.name).order_by(pm.Organisation.name)
        )
    ).all()
    return Template(
        template_name="measures/staff.html",
        context=_context(
            process=process,
            measure=measure,
            content=measure.content,
            versions=versions,
            history=history,
            steps=services.allowed_steps(measure.status, phase),
            phase=phase,
            organisation_options=[(str(o.id), o.name) for o in organisations],
            errors=errors or {},
            issued=issued or [],
        ),
        status_code=422 if errors else 200,
        headers=NO_STORE,
    )


@get(
    "/dashboard/measures/{measure_id:uuid}",
    name="measures:staff",
    include_in_schema=False,
    **PLANNER_PAGE,
)
async def staff_page(db_session: AsyncSession, measure_id: UUID) -> Template:
    """A measure for planners: versions, lifecycle, consultation."""
    return await _staff_page(db_session, measure_id)


STEP_FUNCTIONS = {
    "revise": services.revise,
    "adopt": services.adopt,
    "resource": services.resource,
    "start_delivery": services.start_delivery,
    "evaluate": services.evaluate,
    "withdraw": services.withdraw,
}


@post(
    "/dashboard/measures/{measure_id:uuid}/step",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def take_step(
    request: AnyRequest, db_session: AsyncSession, measure_id: UUID
) -> Template | Redirect:
    """One lifecycle step with its reason (start_consultation has its own form)."""
    form = await request.form()
    step = str(form.get("step") or "")
    reason = str(form.get("reason") or "").strip()[:2000]
    actor = Actor.of(principal_of(request))
    try:
        if not reason:
            raise InvalidInput(
                "reason",
                errors=[
                    FieldError(
                        field="reason",
                        source="body",
                        message=_("Say why (it is recorded)."),
                    )
                ],
            )
        async with db_session.begin_nested():
            if step == "start_consultation":
                data = msgspec.convert(
                    {
                        "reason": reason,
                        "days": int(str(form.get("days") or "28")),
                        "summary_public": form.get("summary_public") == "yes",
                    },
                    s.ConsultationInput,
                )
                await services.start_consultation(db_session, measure_id, data, actor)
            elif step == "adopt":
                decision = msgspec.convert(
                    {
                        "reason": reason,
                        "decision_body": str(form.get("decision_body") or "").strip() or None,
                        "decision_reference": str(form.get("decision_reference") or "").strip()
                        or None,
                        "decided_on": str(form.get("decided_on") or "").strip() or None,
                    },
                    s.AdoptionInput,
                )
                await services.adopt(db_session, measure_id, reason, actor, decision)
            elif step in STEP_FUNCTIONS:
                await STEP_FUNCTIONS[step](db_session, measure_id, reason, actor)
            else:
                raise InvalidInput(
                    "step", errors=[FieldError(field="step", source="body", message="unknown")]
                )
    except msgspec.ValidationError as error:
        if step == "adopt":
            return await _staff_page(db_session, measure_id, errors=_validation_errors(error))
        return await _staff_page(
            db_session, measure_id, errors={"days": _("Enter a number of days.")}
        )
    except ValueError:
        return await _staff_page(
            db_session, measure_id, errors={"days": _("Enter a number of days.")}
        )
    except (InvalidInput, Conflict) as problem:
        return await _staff_page(db_session, measure_id, errors=_errors(problem))
    return Redirect(f"/dashboard/measures/{measure_id}", status_code=303)


# -- moderating feedback comments ---------------------------------------------------------------


async def _comments_page(
    request: AnyRequest,
    db_session: AsyncSession,
    measure_id: UUID,
    *,
    errors: dict[str, str] | None = None,
) -> Template:
    measure = await services.get_measure(db_session, measure_id, common.STAFF_VIEWER)
    principal = principal_of(request)
    return Template(
        template_name="measures/comments.html",
        context=_context(
            measure=measure,
            content=measure.content,
            comments=await feedback.list_comments(db_session, measure_id),
            section_titles={section.key: section.title for section in measure.content.sections},
            can_moderate=principal is not None and principal.role in MODERATORS,
            errors=errors or {},
        ),
        status_code=422 if errors else 200,
        headers=NO_STORE,
    )


@get("/dashboard/measures/{measure_id:uuid}/comments", include_in_schema=False, **STAFF_PAGE)
async def comments_page(
    request: AnyRequest, db_session: AsyncSession, measure_id: UUID
) -> Template:
    """The feedback comments with their moderation; moderators hide or restore them."""
    return await _comments_page(request, db_session, measure_id)


@post(
    "/dashboard/measures/{measure_id:uuid}/comments/{comment_id:uuid}",
    include_in_schema=False,
    status_code=303,
    **MODERATOR_PAGE,
)
async def moderate_comment(
    request: AnyRequest, db_session: AsyncSession, measure_id: UUID, comment_id: UUID
) -> Template | Redirect:
    """Hide a comment (with the reason) or restore it: ModerateMeasureFeedbackComment."""
    form = await request.form()
    hide = form.get("moderation") == ModerationStatus.HIDDEN.value
    reason = str(form.get("reason") or "").strip()[:500] or None
    data = s.CommentModeration(
        moderation=ModerationStatus.HIDDEN if hide else ModerationStatus.VISIBLE, reason=reason
    )
    try:
        async with db_session.begin_nested():
            await feedback.moderate_comment(
                db_session, measure_id, comment_id, data, Actor.of(principal_of(request)).name
            )
    except InvalidInput:
        return await _comments_page(
            request,
            db_session,
            measure_id,
            errors={f"reason-{comment_id}": _("Say why the comment is hidden (it is recorded).")},
        )
    return Redirect(f"/dashboard/measures/{measure_id}/comments", status_code=303)


@post(
    "/dashboard/measures/{measure_id:uuid}/codes",
    include_in_schema=False,
    status_code=200,
    **PLANNER_PAGE,
)
async def issue_codes(request: AnyRequest, db_session: AsyncSession, measure_id: UUID) -> Template:
    """Codes for organisations, shown once on the page that answers."""
    form = await request.form()
    ids: list[UUID] = []
    for value in form.getall("organisation_ids", []):
        try:
            ids.append(UUID(str(value)))
        except ValueError:
            continue
    if not ids:
        return await _staff_page(
            db_session,
            measure_id,
            errors={"organisation_ids": _("Choose at least one organisation.")},
        )
    try:
        async with db_session.begin_nested():
            issued = await feedback.issue_codes(
                db_session, _settings(request), measure_id, s.CodesRequest(organisation_ids=ids)
            )
    except (InvalidInput, Conflict) as problem:
        return await _staff_page(db_session, measure_id, errors=_errors(problem))
    return await _staff_page(db_session, measure_id, issued=issued)


@get("/dashboard/measures/{measure_id:uuid}/diff", include_in_schema=False, **PLANNER_PAGE)
async def diff_page(
    db_session: AsyncSession, measure_id: UUID, from_version: int = 1, to_version: int = 2
) -> Template:
    measure = await services.get_measure(db_session, measure_id, common.STAFF_VIEWER)
    result = await services.diff(
        db_session, measure_id, common.STAFF_VIEWER, from_version, to_version
    )
    return Template(
        template_name="measures/diff.html", context=_context(measure=measure, diff=result)
    )


@get(
    "/dashboard/processes/{process_id:uuid}/goals/new",
    include_in_schema=False,
    **PLANNER_PAGE,
)
async def new_goal(db_session: AsyncSession, process_id: UUID) -> Template:
    await common.process(db_session, process_id, common.STAFF_VIEWER, writable=True)
    return await _goal_editor(db_session, process_id, {})


async def _goal_editor(
    db_session: AsyncSession,
    process_id: UUID,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Template:
    return Template(
        template_name="goals/edit.html",
        context=_context(
            process_id=process_id,
            values=values,
            errors=errors or {},
            languages=shared_translations.form_languages(),
            german=i18n.language_names()["de"],
            **await _choices(db_session, process_id),
        ),
        status_code=422 if errors else 200,
    )


@post(
    "/dashboard/processes/{process_id:uuid}/goals/new",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def create_goal(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Template | Redirect:
    form = await request.form()
    evidence = [
        {"kind": "link", "label": row["label"], "url": row["url"]}
        for row in _rows(form, "evidence", ("label", "url"))
    ]
    values: dict[str, Any] = {
        "statement": str(form.get("statement") or "").strip(),
        "need_categories": [str(c) for c in form.getall("need_categories", [])],
        "area_codes": _codes(str(form.get("area_codes") or "")),
        "target_groups": _lines(str(form.get("target_groups") or ""), 30),
        "evidence": evidence,
        "parent_id": str(form.get("parent_id") or "") or None,
    }
    # The statement in the enabled languages beside German (the API's GoalText bounds each).
    change, text_errors, texts_sent = shared_translations.read_form(form, s.GoalText)
    values["texts"] = {"statement": values["statement"], **texts_sent}
    if text_errors:
        return await _goal_editor(db_session, process_id, values, text_errors)
    body = {
        **{k: v for k, v in values.items() if k != "texts"},
        "translations": shared_translations.given(change),
    }
    try:
        data = msgspec.convert(body, s.GoalCreate)
        async with db_session.begin_nested():
            await goals.create_goal(db_session, process_id, data, Actor.of(principal_of(request)))
    except msgspec.ValidationError as error:
        return await _goal_editor(db_session, process_id, values, _validation_errors(error))
    except (InvalidInput, Conflict) as problem:
        return await _goal_editor(db_session, process_id, values, _errors(problem))
    return Redirect(f"/dashboard/processes/{process_id}/measures", status_code=303)


PAGES: list[ControllerRouterHandler] = [
    index,
    measure_page,
    give_feedback,
    summary_page,
    traceability_page,
    dashboard,
    new_measure,
    create_measure,
    edit_measure,
    update_measure,
    staff_page,
    take_step,
    comments_page,
    moderate_comment,
    issue_codes,
    diff_page,
    new_goal,
    create_goal,
    *delivery_pages.PAGES,
]
