"""The staff workspace pages of planning processes: create and edit a process (with a social-area
picker that works without JavaScript, title, description and the mandate in every enabled
language side by side), phase notes (likewise per language) and planned dates, activating a
phase after a confirmation that says what opens and closes for residents, publishing, archiving,
starting the next cycle, and organisations.

Thin: forms are read by ``core.forms`` into Structs built from the API's annotated types, and
every change goes through ``processes.services`` — the functions the API calls.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Response, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import services as area_services
from quartier.core import i18n
from quartier.core import translations as shared_translations
from quartier.core.errors import Conflict, InvalidInput
from quartier.core.forms import errors_of, parse_form, read_form
from quartier.core.i18n import gettext as _
from quartier.core.security import PLANNERS, access, principal_of
from quartier.processes import participation, services, translations
from quartier.processes import schemas as s
from quartier.processes.models import OrganisationType, ProcessStatus, RoleKind
from quartier.processes.phases import N_, PHASE_INFO, PHASES, PhaseKey

AnyRequest = Request[Any, Any, Any]
Done = Annotated[str | None, QueryParameter(max_length=20)]
AREA_RESULTS = 30

TYPE_NAMES: dict[str, str] = {
    OrganisationType.WELFARE_ORGANISATION: N_("Welfare organisation"),
    OrganisationType.ADMINISTRATION: N_("Administration"),
    OrganisationType.COUNCIL_BODY: N_("Council or committee"),
    OrganisationType.RESIDENT_GROUP: N_("Resident group"),
    OrganisationType.OTHER: N_("Other"),
}
STATUS_NAMES: dict[str, str] = {
    ProcessStatus.DRAFT: N_("Draft"),
    ProcessStatus.ACTIVE: N_("Active"),
    ProcessStatus.ARCHIVED: N_("Archived"),
}


class ProcessForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The process form: the API's fields, the mandate flattened."""

    title: s.Title
    topic: s.Topic
    description: s.LongText = ""
    area_codes: s.AreaCodes = msgspec.field(default_factory=list)
    commissioned_by: s.Party = ""
    commissioned_to: s.Party = ""
    aim: s.Note = ""
    occasion: s.Note = ""
    report_recipients: s.Recipients = ""
    internal_notes: s.LongText = ""

    def mandate(self, change: dict[str, Any]) -> s.Mandate:
        """The mandate with its texts per language (`change` as `read_form` gives it)."""
        return s.Mandate(
            commissioned_by=self.commissioned_by,
            commissioned_to=self.commissioned_to,
            aim=self.aim,
            occasion=self.occasion,
            report_recipients=self.report_recipients,
            translations=msgspec.convert(shared_translations.given(change), s.MandateTranslations),
        )

    def mandate_update(self, change: dict[str, Any]) -> s.MandateUpdate:
        """The whole mandate as a change: the form always sends every field."""
        return s.MandateUpdate(
            commissioned_by=self.commissioned_by,
            commissioned_to=self.commissioned_to,
            aim=self.aim,
            occasion=self.occasion,
            report_recipients=self.report_recipients,
            translations=msgspec.convert(change, s.MandateTranslationsUpdate),
        )


class PhaseForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    planned_start: datetime.date | None = None
    planned_end: datetime.date | None = None
    what_is_done: s.Note = ""
    who_takes_part: s.Note = ""
    watch_out_for: s.Note = ""


def _context(**values: Any) -> dict[str, Any]:
    return {
        "phase_info": PHASE_INFO,
        "phases": PHASES,
        "status_names": STATUS_NAMES,
        "type_names": TYPE_NAMES,
        "languages": shared_translations.form_languages(),
        "german": i18n.language_names()["de"],
        **values,
    }


# -- the process form (create and edit) -------------------------------------------------------


def _process_values(process: s.Process) -> dict[str, Any]:
    return {
        "title": process.title,
        "topic": process.topic,
        "description": process.description,
        "area_codes": [area.code for area in process.areas],
        **{name: getattr(process.mandate, name) for name in translations.MANDATE_FIELDS},
        "internal_notes": process.internal_notes or "",
        **shared_translations.form_values(process.translations),
        **shared_translations.form_values(process.mandate.translations),
    }


async def _area_choices(
    db_session: AsyncSession, chosen: list[str], query: str
) -> tuple[list[dict[str, str]], bool]:
    """The checkbox options: the areas chosen so far, then the areas matching the search."""
    options: list[dict[str, str]] = []
    if chosen:
        rows = await services.areas_by_codes(db_session, chosen)
        options += [{"value": code, "text": f"{code} {name}"} for code, name in rows]
    more = False
    if query:
        found = await area_services.list_areas(
            db_session, area_services.AreaFilter(q=query), limit=AREA_RESULTS, cursor=None
        )
        more = found.next_cursor is not None
        options += [
            {"value": area.code, "text": f"{area.code} {area.name}"}
            for area in found.items
            if area.code not in chosen
        ]
    return options, more


async def _process_form(
    request: AnyRequest,
    db_session: AsyncSession,
    *,
    process: s.Process | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    query = str(request.query_params.get("area_q", "") or values.get("area_q", ""))[:100].strip()
    chosen = [str(code)[:32] for code in values.get("area_codes", [])][:500]
    options, more = await _area_choices(db_session, chosen, query)
    return Template(
        template_name="workspace/process_form.html",
        context=_context(
            process=process,
            values={**values, "area_codes": chosen, "area_q": query},
            area_options=options,
            more_areas=more,
            errors=errors or {},
        ),
        status_code=status,
    )


def _query_values(request: AnyRequest) -> dict[str, Any] | None:
    """Values sent back by the area search button (a GET of the whole form), if any."""
    params = request.query_params
    if "area_q" not in params:
        return None
    keys = [
        *ProcessForm.__struct_fields__,
        *(
            f"{name}_{suffix}"
            for _, suffix, _ in shared_translations.form_languages()
            for name in (*translations.PROCESS_FIELDS, *translations.MANDATE_FIELDS)
        ),
    ]
    values: dict[str, Any] = {key: str(params.get(key, ""))[:10_000] for key in keys}
    values["area_codes"] = [str(code)[:32] for code in params.getall("area_codes", [])][:500]
    return values


@get("/workspace/processes/new", include_in_schema=False, **access(roles=PLANNERS))
async def new_process_page(request: AnyRequest, db_session: AsyncSession) -> Template:
    """The form for a new planning process (it starts as a draft in the first phase)."""
    values = _query_values(request) or {}
    return await _process_form(request, db_session, process=None, values=values)


@dataclass(frozen=True, slots=True)
class ProcessFormSent:
    """The process form as read: the German fields (None if anything is wrong), the changes of
    the process's texts and of the mandate's per language (as `read_form` gives them), the
    errors and the values sent."""

    data: ProcessForm | None
    texts: dict[str, Any]
    mandate: dict[str, Any]
    errors: dict[str, str]
    values: dict[str, Any]


async def _read_process_form(request: AnyRequest) -> ProcessFormSent:
    sent = await request.form()
    form = parse_form(sent, ProcessForm)
    texts, text_errors, text_values = shared_translations.read_form(sent, s.ProcessText)
    mandate, mandate_errors, mandate_values = shared_translations.read_form(sent, s.MandateText)
    errors = {**form.errors, **text_errors, **mandate_errors}
    return ProcessFormSent(
        data=None if errors else form.data,
        texts=texts,
        mandate=mandate,
        errors=errors,
        values={**form.values, **text_values, **mandate_values},
    )


@post("/workspace/processes", include_in_schema=False, status_code=303, **access(roles=PLANNERS))
async def create_process_submit(request: AnyRequest, db_session: AsyncSession) -> Response[Any]:
    sent = await _read_process_form(request)
    data, values = sent.data, sent.values
    if data is None:
        return await _process_form(
            request, db_session, process=None, values=values, errors=sent.errors, status=400
        )
    try:
        process_id = await services.create_process(
            db_session,
            s.ProcessCreate(
                title=data.title,
                topic=data.topic,
                description=data.description,
                area_codes=data.area_codes,
                mandate=data.mandate(sent.mandate),
                internal_notes=data.internal_notes,
                translations=msgspec.convert(
                    {code: texts for code, texts in sent.texts.items() if texts},
                    s.ProcessTranslations,
                ),
            ),
            services.Actor.of(principal_of(request)),
        )
    except InvalidInput as problem:
        return await _process_form(
            request,
            db_session,
            process=None,
            values=values,
            errors=errors_of(problem, {"area_codes": _("Choose social areas from the list")}),
            status=400,
        )
    return Redirect(f"/workspace/processes/{process_id}?done=created", status_code=303)


@get(
    "/workspace/processes/{process_id:uuid}/edit",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def edit_process_page(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Template:
    process = await services.get_process(db_session, process_id, services.STAFF_VIEWER)
    values = _query_values(request) or _process_values(process)
    return await _process_form(request, db_session, process=process, values=values)


@post(
    "/workspace/processes/{process_id:uuid}/edit",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def edit_process_submit(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Response[Any]:
    process = await services.get_process(db_session, process_id, services.STAFF_VIEWER)
    sent = await _read_process_form(request)
    data, errors, values = sent.data, sent.errors, sent.values
    if data is not None:
        try:
            await services.update_process(
                db_session,
                process_id,
                s.ProcessUpdate(
                    title=data.title,
                    topic=data.topic,
                    description=data.description,
                    area_codes=data.area_codes,
                    mandate=data.mandate_update(sent.mandate),
                    internal_notes=data.internal_notes,
                    translations=msgspec.convert(sent.texts, s.ProcessTranslationsUpdate),
                ),
            )
        except InvalidInput as problem:
            errors = errors_of(problem, {"area_codes": _("Choose social areas from the list")})
        except Conflict:
            errors = {"title": _("The process is archived and can no longer be changed")}
        else:
            return Redirect(f"/workspace/processes/{process_id}?done=saved", status_code=303)
    return await _process_form(
        request, db_session, process=process, values=values, errors=errors, status=400
    )


# -- one process: overview, phases, transitions ---------------------------------------------

NOTICES = {
    "created": N_("The planning process was created as a draft."),
    "saved": N_("Your changes were saved."),
    "phase": N_("The phase was saved."),
    "activated": N_("The phase was activated."),
    "published": N_("The process was published: residents can see it now."),
    "archived": N_("The process was archived."),
}


async def _overview(
    db_session: AsyncSession,
    process_id: UUID,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    process = await services.get_process(db_session, process_id, services.STAFF_VIEWER)
    state = await services.participation_status(db_session, process_id, services.STAFF_VIEWER)
    return Template(
        template_name="workspace/process.html",
        context=_context(
            process=process,
            participation=state,
            notice=notice,
            errors=errors or {},
        ),
        status_code=status,
    )


@get("/workspace/processes/{process_id:uuid}", include_in_schema=False, **access(roles=PLANNERS))
async def process_overview(
    db_session: AsyncSession, process_id: UUID, done: Done = None
) -> Template:
    """A process in the workspace: its phases with notes and dates, and what can be done."""
    notice = NOTICES.get(done or "")
    return await _overview(db_session, process_id, notice=_(notice) if notice else None)


def _phase_page(
    process: s.Process,
    key: PhaseKey,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    return Template(
        template_name="workspace/phase.html",
        context=_context(
            process=process, phase=PHASE_INFO[key], values=values, errors=errors or {}
        ),
        status_code=status,
    )


@get(
    "/workspace/processes/{process_id:uuid}/phases/{key:str}",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def phase_page(db_session: AsyncSession, process_id: UUID, key: PhaseKey) -> Template:
    """Notes (done / who takes part / watch-outs) and planned dates of one phase."""
    process = await services.get_process(db_session, process_id, services.STAFF_VIEWER)
    phase = next(phase for phase in process.phases if phase.key == key)
    values = {
        "planned_start": phase.planned_start.isoformat() if phase.planned_start else "",
        "planned_end": phase.planned_end.isoformat() if phase.planned_end else "",
        "what_is_done": phase.what_is_done,
        "who_takes_part": phase.who_takes_part,
        "watch_out_for": phase.watch_out_for,
        **shared_translations.form_values(phase.translations),
    }
    return _phase_page(process, key, values)


@post(
    "/workspace/processes/{process_id:uuid}/phases/{key:str}",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def phase_submit(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID, key: PhaseKey
) -> Response[Any]:
    process = await services.get_process(db_session, process_id, services.STAFF_VIEWER)
    sent = await request.form()
    form = parse_form(sent, PhaseForm)
    change, translation_errors, translation_values = shared_translations.read_form(
        sent, s.PhaseText
    )
    errors = {**form.errors, **translation_errors}
    values = {**form.values, **translation_values}
    if form.data is not None and not errors:
        try:
            await services.update_phase(
                db_session,
                process_id,
                key,
                s.PhaseUpdate(
                    **msgspec.structs.asdict(form.data),
                    translations=msgspec.convert(change, s.PhaseTranslationsUpdate),
                ),
            )
        except InvalidInput as problem:
            errors = errors_of(
                problem, {"planned_end": _("The planned end must not be before the start")}
            )
        except Conflict:
            errors = {"what_is_done": _("The process is archived and can no longer be changed")}
        else:
            return Redirect(f"/workspace/processes/{process_id}?done=phase", status_code=303)
    return _phase_page(process, key, values, errors, status=400)


def _changes(
    state: participation.ProcessParticipation, key: PhaseKey
) -> dict[str, list[participation.ParticipationModule]]:
    """What opens, closes and stays open for residents when `key` becomes the active phase."""
    active = state.status is ProcessStatus.ACTIVE
    result: dict[str, list[participation.ParticipationModule]] = {
        "opens": [],
        "closes": [],
        "stays": [],
    }
    for module in participation.modules():
        now_open = state.is_open_now(module)
        then_open = active and state.is_open_in(module, key)
        if then_open and not now_open:
            result["opens"].append(module)
        elif now_open and not then_open:
            result["closes"].append(module)
        elif now_open and then_open:
            result["stays"].append(module)
    return result


@get(
    "/workspace/processes/{process_id:uuid}/phases/{key:str}/activate",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def activate_page(db_session: AsyncSession, process_id: UUID, key: PhaseKey) -> Template:
    """Confirm a phase switch: what opens and what closes for residents."""
    process = await services.get_process(db_session, process_id, services.STAFF_VIEWER)
    state = await participation.load(db_session, process_id)
    assert state is not None
    return Template(
        template_name="workspace/activate.html",
        context=_context(process=process, phase=PHASE_INFO[key], changes=_changes(state, key)),
    )


@post(
    "/workspace/processes/{process_id:uuid}/phases/{key:str}/activate",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def activate_submit(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID, key: PhaseKey
) -> Response[Any]:
    try:
        await services.activate_phase(
            db_session,
            process_id,
            key,
            services.Actor.of(principal_of(request)),
        )
    except Conflict as problem:
        return await _overview(
            db_session, process_id, errors={"phases": problem.detail}, status=409
        )
    return Redirect(f"/workspace/processes/{process_id}?done=activated", status_code=303)


@post(
    "/workspace/processes/{process_id:uuid}/{action:str}",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def transition_submit(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID, action: str
) -> Response[Any]:
    """publish, archive or next-cycle: the explicit transitions of the services."""
    try:
        if action == "publish":
            await services.publish_process(db_session, process_id)
        elif action == "archive":
            await services.archive_process(db_session, process_id)
        elif action == "next-cycle":
            successor = await services.start_next_cycle(
                db_session, process_id, services.Actor.of(principal_of(request))
            )
            return Redirect(f"/workspace/processes/{successor}?done=created", status_code=303)
        else:
            return await _overview(
                db_session, process_id, errors={"actions": _("Unknown action")}, status=404
            )
    except Conflict as problem:
        return await _overview(
            db_session, process_id, errors={"actions": problem.detail}, status=409
        )
    done = {"publish": "published", "archive": "archived"}[action]
    return Redirect(f"/workspace/processes/{process_id}?done={done}", status_code=303)


# -- organisations in a process: contributions matrix, roles, participation overrides ---------

ROLE_NAMES: dict[str, str] = {
    RoleKind.COMMISSIONING: N_("Commissioning"),
    RoleKind.PLANNING: N_("Planning"),
    RoleKind.PARTICIPATING: N_("Participating"),
    RoleKind.PROVIDING: N_("Providing services"),
    RoleKind.EVALUATING: N_("Evaluating"),
    RoleKind.RECEIVING_REPORTS: N_("Receiving reports"),
}
CONTRIBUTION_MAX = 2_000


def _cell_id(organisation_id: UUID, phase: PhaseKey) -> str:
    return f"c-{organisation_id}-{phase.value}"


async def _all_organisations(db_session: AsyncSession) -> list[s.Organisation]:
    page = await services.list_organisations(
        db_session, type=None, query=None, limit=200, cursor=None
    )
    return page.items


async def _matrix_page(
    db_session: AsyncSession,
    process_id: UUID,
    *,
    add: UUID | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    process = await services.get_process(db_session, process_id, services.STAFF_VIEWER)
    matrix = await services.contributions_matrix(db_session, process_id, services.STAFF_VIEWER)
    organisations = await _all_organisations(db_session)
    in_matrix = {row.organisation.id for row in matrix.rows}
    rows = [
        (
            row.organisation,
            [(cell, _cell_id(row.organisation.id, cell.phase)) for cell in row.cells],
        )
        for row in matrix.rows
    ]
    extra = next((o for o in organisations if o.id == add and o.id not in in_matrix), None)
    if extra is not None:
        rows.append(
            (
                s.OrganisationRef(
                    id=extra.id, name=extra.name, short_name=extra.short_name, type=extra.type
                ),
                [
                    (
                        s.MatrixCell(phase=info.key, contribution=None, roles=[]),
                        _cell_id(extra.id, info.key),
                    )
                    for info in PHASES
                ],
            )
        )
    return Template(
        template_name="workspace/contributions.html",
        context=_context(
            process=process,
            rows=rows,
            role_names=ROLE_NAMES,
            addable=[
                (o.id, o.name) for o in organisations if o.id not in in_matrix and o.is_active
            ],
            values=values or {},
            errors=errors or {},
            notice=notice,
        ),
        status_code=status,
    )


@get(
    "/workspace/processes/{process_id:uuid}/contributions",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def contributions_page(
    db_session: AsyncSession,
    process_id: UUID,
    add: Annotated[UUID | None, QueryParameter()] = None,
    done: Done = None,
) -> Template:
    """The contributions matrix (organisations × phases) as an editable table."""
    notice = _("The contributions were saved.") if done == "saved" else None
    return await _matrix_page(db_session, process_id, add=add, notice=notice)


@post(
    "/workspace/processes/{process_id:uuid}/contributions",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def contributions_submit(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Response[Any]:
    """Save every cell: new or changed text is set, emptied cells are removed."""
    form = await request.form()
    matrix = await services.contributions_matrix(db_session, process_id, services.STAFF_VIEWER)
    current = {
        _cell_id(row.organisation.id, cell.phase): cell.contribution or ""
        for row in matrix.rows
        for cell in row.cells
    }
    known = {o.id for o in await _all_organisations(db_session)}
    changes: list[tuple[UUID, PhaseKey, str]] = []
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for organisation_id in known:
        for info in PHASES:
            cell = _cell_id(organisation_id, info.key)
            if cell not in form:
                continue
            text = str(form.get(cell, "")).strip()
            values[cell] = text
            if len(text) > CONTRIBUTION_MAX:
                errors[cell] = _("Enter at most %(n)s characters", n=CONTRIBUTION_MAX)
            elif text != current.get(cell, ""):
                changes.append((organisation_id, info.key, text))
    if errors:
        return await _matrix_page(db_session, process_id, values=values, errors=errors, status=400)
    try:
        for organisation_id, phase, text in changes:
            if text:
                await services.set_contribution(
                    db_session, process_id, organisation_id, phase, text
                )
            else:
                await services.remove_contribution(db_session, process_id, organisation_id, phase)
    except Conflict:
        errors = {"matrix": _("The process is archived and can no longer be changed")}
        return await _matrix_page(db_session, process_id, values=values, errors=errors, status=409)
    return Redirect(f"/workspace/processes/{process_id}/contributions?done=saved", status_code=303)


async def _roles_page(
    db_session: AsyncSession,
    process_id: UUID,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    process = await services.get_process(db_session, process_id, services.STAFF_VIEWER)
    roles = await services.list_roles(
        db_session,
        process_id,
        services.STAFF_VIEWER,
        phase=None,
        organisation_id=None,
        limit=200,
        cursor=None,
    )
    organisations = await _all_organisations(db_session)
    return Template(
        template_name="workspace/roles.html",
        context=_context(
            process=process,
            roles=sorted(
                roles.items, key=lambda r: (PHASE_INFO[r.phase].position, r.organisation.name)
            ),
            role_names=ROLE_NAMES,
            organisation_options=[(o.id, o.name) for o in organisations if o.is_active],
            phase_options=[(info.key.value, f"{info.position}. {_(info.name)}") for info in PHASES],
            role_options=[(key, _(name)) for key, name in ROLE_NAMES.items()],
            values=values or {},
            errors=errors or {},
            notice=notice,
        ),
        status_code=status,
    )


@get(
    "/workspace/processes/{process_id:uuid}/roles",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def roles_page(db_session: AsyncSession, process_id: UUID, done: Done = None) -> Template:
    """Which organisation takes which role in which phase."""
    notices = {"added": _("The role was added."), "removed": _("The role was removed.")}
    return await _roles_page(db_session, process_id, notice=notices.get(done or ""))


@post(
    "/workspace/processes/{process_id:uuid}/roles",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def role_add_submit(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Response[Any]:
    form = await read_form(request, s.ProcessRoleCreate)
    if form.data is None:
        return await _roles_page(
            db_session, process_id, values=form.values, errors=form.errors, status=400
        )
    try:
        await services.add_role(db_session, process_id, form.data)
    except InvalidInput as problem:
        errors = errors_of(problem, {"organisation_id": _("Choose one of the options")})
        return await _roles_page(
            db_session, process_id, values=form.values, errors=errors, status=400
        )
    except Conflict:
        errors = {"organisation_id": _("The organisation has this role in this phase already")}
        return await _roles_page(
            db_session, process_id, values=form.values, errors=errors, status=409
        )
    return Redirect(f"/workspace/processes/{process_id}/roles?done=added", status_code=303)


@post(
    "/workspace/processes/{process_id:uuid}/roles/{role_id:uuid}/remove",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def role_remove_submit(
    db_session: AsyncSession, process_id: UUID, role_id: UUID
) -> Response[Any]:
    await services.remove_role(db_session, process_id, role_id)
    return Redirect(f"/workspace/processes/{process_id}/roles?done=removed", status_code=303)


OVERRIDE_CHOICES = ("default", "open", "closed")


async def _participation_page(
    db_session: AsyncSession,
    process_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    process = await services.get_process(db_session, process_id, services.STAFF_VIEWER)
    state = await services.participation_status(db_session, process_id, services.STAFF_VIEWER)
    cells = {
        module.module: {
            info.key: (
                "default"
                if (override := next((o for o in module.overrides if o.phase == info.key), None))
                is None
                else ("open" if override.is_open else "closed")
            )
            for info in PHASES
        }
        for module in state.modules
    }
    return Template(
        template_name="workspace/participation.html",
        context=_context(
            process=process,
            participation=state,
            cells=cells,
            errors=errors or {},
            notice=notice,
        ),
        status_code=status,
    )


@get(
    "/workspace/processes/{process_id:uuid}/participation",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def participation_page(
    db_session: AsyncSession, process_id: UUID, done: Done = None
) -> Template:
    """Which participation modules each phase opens: defaults, and overrides per phase."""
    notice = _("The participation settings were saved.") if done == "saved" else None
    return await _participation_page(db_session, process_id, notice=notice)


@post(
    "/workspace/processes/{process_id:uuid}/participation",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def participation_submit(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Response[Any]:
    form = await request.form()
    state = await services.participation_status(db_session, process_id, services.STAFF_VIEWER)
    errors: dict[str, str] = {}
    wanted: dict[tuple[str, PhaseKey], str] = {}
    for module in state.modules:
        for info in PHASES:
            field = f"o-{module.module}-{info.key.value}"
            choice = str(form.get(field, "default"))
            if choice not in OVERRIDE_CHOICES:
                errors[field] = _("Choose one of the options")
            wanted[(module.module, info.key)] = choice
    if errors:
        return await _participation_page(db_session, process_id, errors=errors, status=400)
    try:
        for module in state.modules:
            existing = {o.phase: o.is_open for o in module.overrides}
            for info in PHASES:
                choice = wanted[(module.module, info.key)]
                if choice == "default" and info.key in existing:
                    await services.remove_participation_override(
                        db_session, process_id, module.module, info.key
                    )
                elif choice != "default" and existing.get(info.key) != (choice == "open"):
                    await services.set_participation_override(
                        db_session, process_id, module.module, info.key, choice == "open"
                    )
    except Conflict:
        errors = {"participation": _("The process is archived and can no longer be changed")}
        return await _participation_page(db_session, process_id, errors=errors, status=409)
    return Redirect(f"/workspace/processes/{process_id}/participation?done=saved", status_code=303)


# -- organisations --------------------------------------------------------------------------


def _organisation_values(organisation: s.Organisation | None) -> dict[str, Any]:
    if organisation is None:
        return {"type": OrganisationType.WELFARE_ORGANISATION.value}
    return {
        "name": organisation.name,
        "short_name": organisation.short_name,
        "type": organisation.type.value,
        "description": organisation.description,
        "website": organisation.website,
    }


async def _organisations_page(
    db_session: AsyncSession,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Template:
    page = await services.list_organisations(
        db_session, type=None, query=None, limit=200, cursor=None
    )
    return Template(
        template_name="workspace/organisations.html",
        context=_context(
            organisations=page.items,
            type_options=[(key, _(name)) for key, name in TYPE_NAMES.items()],
            values=values or _organisation_values(None),
            errors=errors or {},
            notice=notice,
        ),
        status_code=status,
    )


@get("/workspace/organisations", include_in_schema=False, **access(roles=PLANNERS))
async def organisations_page(db_session: AsyncSession, done: Done = None) -> Template:
    """Organisations (welfare organisations, administration, council bodies) and a form for a
    new one."""
    notices = {
        "saved": _("The organisation was saved."),
        "deleted": _("The organisation was removed."),
    }
    return await _organisations_page(db_session, notice=notices.get(done or ""))


@post(
    "/workspace/organisations", include_in_schema=False, status_code=303, **access(roles=PLANNERS)
)
async def organisation_create_submit(
    request: AnyRequest, db_session: AsyncSession
) -> Response[Any]:
    form = await read_form(request, s.OrganisationCreate)
    if form.data is None:
        return await _organisations_page(
            db_session, values=form.values, errors=form.errors, status=400
        )
    try:
        await services.create_organisation(db_session, form.data)
    except Conflict:
        return await _organisations_page(
            db_session,
            values=form.values,
            errors={"name": _("An organisation with this name exists already")},
            status=409,
        )
    return Redirect("/workspace/organisations?done=saved", status_code=303)


def _organisation_page(
    organisation: s.Organisation,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    return Template(
        template_name="workspace/organisation.html",
        context=_context(
            organisation=organisation,
            type_options=[(key, _(name)) for key, name in TYPE_NAMES.items()],
            values=values,
            errors=errors or {},
        ),
        status_code=status,
    )


@get(
    "/workspace/organisations/{organisation_id:uuid}",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def organisation_page(db_session: AsyncSession, organisation_id: UUID) -> Template:
    organisation = await services.get_organisation(db_session, organisation_id)
    return _organisation_page(organisation, _organisation_values(organisation))


@post(
    "/workspace/organisations/{organisation_id:uuid}",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def organisation_submit(
    request: AnyRequest, db_session: AsyncSession, organisation_id: UUID
) -> Response[Any]:
    organisation = await services.get_organisation(db_session, organisation_id)
    form = parse_form(await request.form(), s.OrganisationCreate)
    if form.data is None:
        return _organisation_page(organisation, form.values, form.errors, status=400)
    try:
        await services.update_organisation(
            db_session,
            organisation_id,
            msgspec.convert(msgspec.to_builtins(form.data), s.OrganisationUpdate),
        )
    except Conflict:
        errors = {"name": _("An organisation with this name exists already")}
        return _organisation_page(organisation, form.values, errors, status=409)
    return Redirect("/workspace/organisations?done=saved", status_code=303)


@post(
    "/workspace/organisations/{organisation_id:uuid}/active",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def organisation_active_submit(
    request: AnyRequest, db_session: AsyncSession, organisation_id: UUID
) -> Redirect:
    """Deactivate (no new roles; roles and contributions stay) or reactivate."""
    active = (await request.form()).get("active") == "true"
    await services.update_organisation(
        db_session, organisation_id, s.OrganisationUpdate(is_active=active)
    )
    return Redirect("/workspace/organisations?done=saved", status_code=303)


@post(
    "/workspace/organisations/{organisation_id:uuid}/delete",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def organisation_delete(db_session: AsyncSession, organisation_id: UUID) -> Response[Any]:
    organisation = await services.get_organisation(db_session, organisation_id)
    try:
        await services.delete_organisation(db_session, organisation_id)
    except Conflict:
        errors = {
            "delete": _(
                "The organisation has roles or contributions in planning processes; remove "
                "those first."
            )
        }
        return _organisation_page(
            organisation, _organisation_values(organisation), errors, status=409
        )
    return Redirect("/workspace/organisations?done=deleted", status_code=303)


PAGES: list[ControllerRouterHandler] = [
    new_process_page,
    create_process_submit,
    edit_process_page,
    edit_process_submit,
    process_overview,
    phase_page,
    phase_submit,
    activate_page,
    activate_submit,
    transition_submit,
    organisations_page,
    organisation_create_submit,
    organisation_page,
    organisation_submit,
    organisation_active_submit,
    organisation_delete,
    contributions_page,
    contributions_submit,
    roles_page,
    role_add_submit,
    role_remove_submit,
    participation_page,
    participation_submit,
]
