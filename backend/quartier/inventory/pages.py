"""HTML pages of the inventory. Planners (`/workspace/inventory/…`): organisations and their
services, the inventory rounds of a process, supply beside need with the map. Organisations'
staff (`/inventory/respond/{request}/{token}`, no account: the round's private link): their own
services, to confirm, update, add or end. Residents (`/services`): the active services near
them, by social area. The pages call the same services as the API."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.datastructures import MultiDict
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import maps
from quartier.areas import services as areas
from quartier.areas.models import SocialArea
from quartier.core import i18n
from quartier.core.errors import Conflict, InvalidInput, NotFound, Problem
from quartier.core.forms import FormResult, errors_of, parse_form
from quartier.core.i18n import gettext as _
from quartier.core.security import PLANNERS, PUBLIC, access, principal_of
from quartier.inventory import models as m
from quartier.inventory import rounds, services, supply
from quartier.inventory import schemas as s
from quartier.processes.models import Organisation, PlanningProcess
from quartier.processes.phases import N_
from quartier.settings import Settings

AnyRequest = Request[Any, Any, Any]
NEW_SERVICE_VALUES: dict[str, Any] = {"target_groups": ["all_residents"]}
PLANNER_PAGE = access(roles=PLANNERS)
MAX_MAP_AREAS = 150

TARGET_GROUP_NAMES: dict[str, str] = {
    "all_residents": N_("All residents"),
    "young_children": N_("Children under 6"),
    "school_children": N_("Children from 6 to 14"),
    "children_and_young_people": N_("Children and young people under 18"),
    "young_people": N_("Young people from 15 to 26"),
    "working_age": N_("Adults from 18 to 64"),
    "older_people": N_("People aged 65 and over"),
}
assert TARGET_GROUP_NAMES.keys() == m.TARGET_GROUPS.keys()
STATUS_NAMES: dict[str, str] = {
    "pending": N_("Not yet"),
    "confirmed": N_("Confirmed"),
    "updated": N_("Updated"),
}


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state["settings"]
    return settings


def _number(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    if i18n.current_language().startswith("de"):
        text = text.replace(",", "\u2009").replace(".", ",")
    return text


def _percent(share: float | None) -> str:
    return "–" if share is None else _number(share * 100) + "\u202f%"


def _group_options() -> list[tuple[str, str]]:
    return [(key, _(name)) for key, name in TARGET_GROUP_NAMES.items()]


# -- the service form (planners and organisations alike) -------------------------------------------


def _codes(text: str) -> list[str]:
    return [code for code in re.split(r"[\s,;]+", text) if code][:500]


def _read_service_form(form: Any) -> FormResult[s.ServiceIn]:
    """The form's fields as ServiceIn; the areas are one text field of codes."""
    items = [(key, value) for key, value in form.multi_items() if key != "area_codes"]
    items += [("area_codes", code) for code in _codes(str(form.get("area_codes") or ""))]
    result = parse_form(MultiDict(items), s.ServiceIn)
    result.values["area_codes"] = str(form.get("area_codes") or "")
    return result


def _values_of(service: s.ServiceOut) -> dict[str, Any]:
    return {
        "name": service.name,
        "description": service.description,
        "need_categories": [c.key for c in service.need_categories],
        "target_groups": service.target_groups,
        "area_codes": " ".join(a.code for a in service.areas),
        "capacity": "" if service.capacity is None else str(service.capacity),
        "capacity_unit": service.capacity_unit,
        "opening_hours": service.opening_hours,
        "accessibility": service.accessibility,
        "address": service.address,
        "contact_email": service.contact_email,
        "contact_phone": service.contact_phone,
        "website": service.website,
        "starts_on": service.starts_on.isoformat() if service.starts_on else "",
        "ends_on": service.ends_on.isoformat() if service.ends_on else "",
    }


@dataclass(frozen=True, slots=True)
class _Place:
    """Where an organisation's service form lives: the planners' workspace or the round's
    private link for the organisation's staff (`restrict`: only their own services)."""

    template: str
    base: str
    services: str
    crumbs: list[tuple[str | None, str]]
    restrict: bool

    @classmethod
    def workspace(cls, organisation: Organisation) -> _Place:
        base = f"/workspace/inventory/organisations/{organisation.id}"
        crumbs: list[tuple[str | None, str]] = [
            ("/workspace/inventory", _("Services inventory")),
            (base, organisation.name),
        ]
        return cls(
            "inventory/service_form.html", base, "/workspace/inventory/services", crumbs, False
        )

    @classmethod
    def link(cls, request_id: UUID, token: str, organisation: Organisation) -> _Place:
        base = _respond_base(request_id, token)
        crumbs: list[tuple[str | None, str]] = [
            (base, _("Services of %(name)s", name=organisation.name))
        ]
        return cls("inventory/respond_service.html", base, f"{base}/services", crumbs, True)

    @property
    def new_action(self) -> str:
        return f"{self.base}/services/new"

    def edit_action(self, service_id: UUID) -> str:
        # the workspace edits at …/services/{id}/edit, the link at …/services/{id}
        return f"{self.services}/{service_id}" + ("" if self.restrict else "/edit")


async def _service_form(
    db_session: AsyncSession,
    place: _Place,
    organisation: Organisation,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    service: s.ServiceOut | None = None,
) -> Template:
    return Template(
        template_name=place.template,
        context={
            "action": place.new_action if service is None else place.edit_action(service.id),
            "back": place.base,
            "organisation": organisation,
            "values": values,
            "errors": errors or {},
            "service": service,
            "end_action": None if service is None else f"{place.services}/{service.id}/end",
            "crumbs": place.crumbs,
            "need_options": await services.need_category_options(db_session),
            "group_options": _group_options(),
            "today": services.today().isoformat(),
        },
        status_code=422 if errors else 200,
    )


async def _save(
    request: AnyRequest,
    db_session: AsyncSession,
    place: _Place,
    organisation: Organisation,
    service: s.ServiceOut | None = None,
) -> Template | None:
    """Create (no `service`) or change a service from the posted form; the form again with
    its errors (422), or None when saved."""
    result = _read_service_form(await request.form())
    errors = result.errors
    if result.data is not None:
        try:
            async with db_session.begin_nested():
                if service is None:
                    await services.create_service(db_session, organisation.id, result.data)
                else:
                    await services.update_service(
                        db_session,
                        service.id,
                        result.data,
                        organisation_id=organisation.id if place.restrict else None,
                    )
        except InvalidInput as problem:
            errors = errors_of(problem)
        else:
            return None
    return await _service_form(
        db_session, place, organisation, result.values, errors=errors, service=service
    )


async def _end(
    request: AnyRequest,
    db_session: AsyncSession,
    place: _Place,
    organisation: Organisation,
    service: s.ServiceOut,
) -> Template | None:
    """End a service on the posted date; the form again with the error (422), or None."""
    ends_on = _end_date(await request.form())
    if ends_on is None:
        error = _("Enter a date like 2027-03-31")
    else:
        try:
            async with db_session.begin_nested():
                await services.end_service(
                    db_session,
                    service.id,
                    ends_on,
                    organisation_id=organisation.id if place.restrict else None,
                )
        except InvalidInput as problem:
            error = errors_of(problem).get("ends_on", problem.detail)
        except Conflict as problem:
            error = problem.detail
        else:
            return None
    return await _service_form(
        db_session,
        place,
        organisation,
        _values_of(service),
        errors={"end-date": error},
        service=service,
    )


def _end_date(form: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(form.get("ends_on") or "").strip())
    except ValueError:
        return None


# -- planners: organisations and their services --------------------------------------------------


@get("/workspace/inventory", include_in_schema=False, **PLANNER_PAGE)
async def inventory_index(db_session: AsyncSession) -> Template:
    active = (
        select(func.count(m.Service.id))
        .where(m.Service.organisation_id == Organisation.id, services.active_condition())
        .scalar_subquery()
    )
    ended = (
        select(func.count(m.Service.id))
        .where(m.Service.organisation_id == Organisation.id)
        .scalar_subquery()
    )
    organisations = (
        await db_session.execute(
            select(Organisation, active, ended).order_by(Organisation.name, Organisation.id)
        )
    ).all()
    processes = (
        await db_session.execute(
            select(PlanningProcess.id, PlanningProcess.title).order_by(
                PlanningProcess.created_at.desc()
            )
        )
    ).all()
    return Template(
        template_name="inventory/index.html",
        context={
            "organisations": [
                {"organisation": row[0], "active": row[1], "recorded": row[2]}
                for row in organisations
            ],
            "processes": processes,
        },
    )


@get(
    "/workspace/inventory/organisations/{organisation_id:uuid}",
    include_in_schema=False,
    **PLANNER_PAGE,
)
async def organisation_page(
    db_session: AsyncSession, organisation_id: UUID, done: str | None = None
) -> Template:
    organisation = await services.get_organisation(db_session, organisation_id)
    return Template(
        template_name="inventory/organisation.html",
        context={
            "organisation": organisation,
            "services": await services.organisation_services(db_session, organisation_id),
            "group_names": TARGET_GROUP_NAMES,
            "done": done if done in {"created", "saved", "ended"} else None,
        },
    )


@get(
    "/workspace/inventory/organisations/{organisation_id:uuid}/services/new",
    include_in_schema=False,
    **PLANNER_PAGE,
)
async def new_service(db_session: AsyncSession, organisation_id: UUID) -> Template:
    organisation = await services.get_organisation(db_session, organisation_id)
    place = _Place.workspace(organisation)
    return await _service_form(db_session, place, organisation, NEW_SERVICE_VALUES)


@post(
    "/workspace/inventory/organisations/{organisation_id:uuid}/services/new",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def create_service(
    request: AnyRequest, db_session: AsyncSession, organisation_id: UUID
) -> Template | Redirect:
    organisation = await services.get_organisation(db_session, organisation_id)
    place = _Place.workspace(organisation)
    failed = await _save(request, db_session, place, organisation)
    return failed or Redirect(f"{place.base}?done=created", status_code=303)


async def _workspace_service(
    db_session: AsyncSession, service_id: UUID
) -> tuple[s.ServiceOut, Organisation, _Place]:
    service = await services.get_service(db_session, service_id)
    organisation = await services.get_organisation(db_session, service.organisation.id)
    return service, organisation, _Place.workspace(organisation)


@get(
    "/workspace/inventory/services/{service_id:uuid}/edit",
    include_in_schema=False,
    **PLANNER_PAGE,
)
async def edit_service(db_session: AsyncSession, service_id: UUID) -> Template:
    service, organisation, place = await _workspace_service(db_session, service_id)
    return await _service_form(
        db_session, place, organisation, _values_of(service), service=service
    )


@post(
    "/workspace/inventory/services/{service_id:uuid}/edit",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def update_service(
    request: AnyRequest, db_session: AsyncSession, service_id: UUID
) -> Template | Redirect:
    service, organisation, place = await _workspace_service(db_session, service_id)
    failed = await _save(request, db_session, place, organisation, service)
    return failed or Redirect(f"{place.base}?done=saved", status_code=303)


@post(
    "/workspace/inventory/services/{service_id:uuid}/end",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def end_service(
    request: AnyRequest, db_session: AsyncSession, service_id: UUID
) -> Template | Redirect:
    service, organisation, place = await _workspace_service(db_session, service_id)
    failed = await _end(request, db_session, place, organisation, service)
    return failed or Redirect(f"{place.base}?done=ended", status_code=303)


# -- planners: inventory rounds ---------------------------------------------------------------


async def _rounds_page(
    request: AnyRequest,
    db_session: AsyncSession,
    process_id: UUID,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    done: str | None = None,
) -> Template:
    process = await db_session.get(PlanningProcess, process_id)
    if process is None:
        raise NotFound(f"No planning process {process_id}.")
    found = await rounds.list_rounds(db_session, _settings(request), process_id)
    return Template(
        template_name="inventory/rounds.html",
        context={
            "process": process,
            "rounds": found,
            "open_round": next((r for r in found if r.closed_at is None), None),
            "values": values or {"send_mail": True},
            "errors": errors or {},
            "status_names": STATUS_NAMES,
            "done": done if done in {"started", "closed"} else None,
            "today": services.today().isoformat(),
        },
        status_code=422 if errors else 200,
    )


@get(
    "/workspace/inventory/processes/{process_id:uuid}/rounds",
    include_in_schema=False,
    **PLANNER_PAGE,
)
async def rounds_page(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID, done: str | None = None
) -> Template:
    return await _rounds_page(request, db_session, process_id, done=done)


@post(
    "/workspace/inventory/processes/{process_id:uuid}/rounds",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def start_round(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Template | Redirect:
    form = await request.form()
    values = {
        "due_on": str(form.get("due_on") or "").strip(),
        "message": str(form.get("message") or "").strip(),
        "send_mail": bool(form.get("send_mail")),
    }
    result = parse_form(MultiDict(form.multi_items()), s.RoundIn)
    errors = dict(result.errors)
    if result.data is not None:
        data = result.data
        if not data.organisation_ids:  # none chosen on the page: the default organisations
            data = msgspec.structs.replace(data, organisation_ids=None)
        principal = principal_of(request)
        try:
            async with db_session.begin_nested():
                await rounds.start_round(
                    db_session,
                    _settings(request),
                    process_id,
                    data,
                    principal.name[:200] if principal else "Quartier",
                )
        except InvalidInput as problem:
            errors = errors_of(problem)
        except Conflict as problem:
            errors = {"due_on": problem.detail}
    if errors:
        return await _rounds_page(request, db_session, process_id, values=values, errors=errors)
    return Redirect(
        f"/workspace/inventory/processes/{process_id}/rounds?done=started", status_code=303
    )


@post(
    "/workspace/inventory/rounds/{round_id:uuid}/close",
    include_in_schema=False,
    status_code=303,
    **PLANNER_PAGE,
)
async def close_round(request: AnyRequest, db_session: AsyncSession, round_id: UUID) -> Redirect:
    found = await rounds.get_round(db_session, _settings(request), round_id)
    if found.closed_at is None:
        await rounds.close_round(db_session, _settings(request), round_id)
    return Redirect(
        f"/workspace/inventory/processes/{found.process_id}/rounds?done=closed", status_code=303
    )


# -- planners: supply beside need ---------------------------------------------------------------


@get(
    "/workspace/inventory/processes/{process_id:uuid}/supply",
    include_in_schema=False,
    **PLANNER_PAGE,
)
async def supply_page(
    db_session: AsyncSession,
    process_id: UUID,
    need: Annotated[str | None, QueryParameter(max_length=64)] = None,
    level: Annotated[str | None, QueryParameter(max_length=40)] = None,
    target_group: Annotated[str | None, QueryParameter(max_length=40)] = None,
) -> Template:
    process = await db_session.get(PlanningProcess, process_id)
    if process is None:
        raise NotFound(f"No planning process {process_id}.")
    needs = await services.need_category_options(db_session)
    levels = (await areas.list_levels(db_session)).items
    errors: dict[str, str] = {}
    if need is not None and need not in {key for key, _label in needs}:
        errors["need"] = _("Choose a need category from the list.")
        need = None
    if level is not None and level not in {item.key for item in levels}:
        errors["level"] = _("Choose a level from the list.")
        level = None
    if target_group is not None and target_group not in m.TARGET_GROUPS:
        errors["target_group"] = _("Choose a target group from the list.")
        target_group = None
    need = need or (needs[0][0] if needs else None)
    if level is None and levels:
        fitting = [item for item in levels if item.area_count <= MAX_MAP_AREAS]
        level = (fitting[-1] if fitting else levels[0]).key
    group = target_group or "all_residents"
    result: s.SupplyComparison | None = None
    figure: maps.Choropleth | None = None
    refused: str | None = None
    if need and level:
        try:
            result = await supply.supply_comparison(db_session, process_id, need, level, group)
        except Problem as problem:
            refused = problem.detail
    if result is not None:
        figure = await maps.choropleth(
            db_session,
            [
                maps.MapValue(
                    area_id=area.area_id,
                    code=area.code,
                    name=area.name,
                    value=area.capacity_per_1000,
                    text=_number(area.capacity_per_1000),
                    href=f"/areas/{area.code}",
                )
                for area in result.areas
            ],
            title=_("Capacity per 1,000 residents: %(need)s", need=result.need_category.label),
            description=_(
                "Map of the social areas coloured by the services' capacity per 1,000 "
                "residents of the target group, darker for more; the table below has the same "
                "figures beside expressed and measured need."
            ),
            value_heading=_("Capacity per 1,000"),
            map_id="supply-map",
            format_break=_number,
        )
    query = f"need={need}&level={level}&target_group={group}" if need and level else ""
    return Template(
        template_name="inventory/supply.html",
        context={
            "process": process,
            "result": result,
            "figure": figure,
            "refused": refused,
            "errors": errors,
            "need_options": needs,
            "need": need,
            "levels": [(item.key, item.name) for item in levels],
            "level": level,
            "group_options": _group_options(),
            "target_group": group,
            "number": _number,
            "percent": _percent,
            "csv_href": f"/api/v1/processes/{process_id}/supply/{need}/csv?{query}"
            if query
            else None,
        },
        status_code=400 if errors else 200,
    )


# -- organisations' staff, through the round's private link ---------------------------------------


def _respond_base(request_id: UUID, token: str) -> str:
    return f"/inventory/respond/{request_id}/{token}"


async def _link(
    request: AnyRequest, db_session: AsyncSession, request_id: UUID, token: str
) -> tuple[m.RoundRequest, m.InventoryRound, Organisation]:
    return await rounds.request_by_link(db_session, _settings(request), request_id, token[:80])


@get("/inventory/respond/{request_id:uuid}/{token:str}", include_in_schema=False, **PUBLIC)
async def respond_page(
    request: AnyRequest,
    db_session: AsyncSession,
    request_id: UUID,
    token: str,
    done: str | None = None,
) -> Template:
    found, inventory_round, organisation = await _link(request, db_session, request_id, token)
    process = await db_session.get(PlanningProcess, inventory_round.process_id)
    return Template(
        template_name="inventory/respond.html",
        context={
            "base": _respond_base(request_id, token),
            "request_row": found,
            "round": inventory_round,
            "process": process,
            "organisation": organisation,
            "services": await services.organisation_services(db_session, organisation.id),
            "group_names": TARGET_GROUP_NAMES,
            "status_names": STATUS_NAMES,
            "done": done if done in {"confirmed", "created", "saved", "ended"} else None,
        },
    )


@post(
    "/inventory/respond/{request_id:uuid}/{token:str}/confirm",
    include_in_schema=False,
    status_code=303,
    **PUBLIC,
)
async def respond_confirm(
    request: AnyRequest, db_session: AsyncSession, request_id: UUID, token: str
) -> Redirect:
    found, inventory_round, _organisation = await _link(request, db_session, request_id, token)
    await rounds.confirm(db_session, found, inventory_round)
    return Redirect(f"{_respond_base(request_id, token)}?done=confirmed", status_code=303)


def _refuse_closed(inventory_round: m.InventoryRound) -> None:
    if inventory_round.closed_at is not None:
        raise Conflict("This inventory round is closed.")


@get(
    "/inventory/respond/{request_id:uuid}/{token:str}/services/new",
    include_in_schema=False,
    **PUBLIC,
)
async def respond_new_service(
    request: AnyRequest, db_session: AsyncSession, request_id: UUID, token: str
) -> Template:
    _found, _round, organisation = await _link(request, db_session, request_id, token)
    place = _Place.link(request_id, token, organisation)
    return await _service_form(db_session, place, organisation, NEW_SERVICE_VALUES)


@post(
    "/inventory/respond/{request_id:uuid}/{token:str}/services/new",
    include_in_schema=False,
    status_code=303,
    **PUBLIC,
)
async def respond_create_service(
    request: AnyRequest, db_session: AsyncSession, request_id: UUID, token: str
) -> Template | Redirect:
    found, inventory_round, organisation = await _link(request, db_session, request_id, token)
    _refuse_closed(inventory_round)
    place = _Place.link(request_id, token, organisation)
    failed = await _save(request, db_session, place, organisation)
    if failed:
        return failed
    await rounds.record_update(db_session, found, inventory_round)
    return Redirect(f"{place.base}?done=created", status_code=303)


@get(
    "/inventory/respond/{request_id:uuid}/{token:str}/services/{service_id:uuid}",
    include_in_schema=False,
    **PUBLIC,
)
async def respond_edit_service(
    request: AnyRequest, db_session: AsyncSession, request_id: UUID, token: str, service_id: UUID
) -> Template:
    _found, _round, organisation = await _link(request, db_session, request_id, token)
    service = await services.get_service(db_session, service_id, organisation.id)
    place = _Place.link(request_id, token, organisation)
    return await _service_form(
        db_session, place, organisation, _values_of(service), service=service
    )


@post(
    "/inventory/respond/{request_id:uuid}/{token:str}/services/{service_id:uuid}",
    include_in_schema=False,
    status_code=303,
    **PUBLIC,
)
async def respond_update_service(
    request: AnyRequest, db_session: AsyncSession, request_id: UUID, token: str, service_id: UUID
) -> Template | Redirect:
    found, inventory_round, organisation = await _link(request, db_session, request_id, token)
    # Another organisation's service is not found: the link's staff change only their own.
    service = await services.get_service(db_session, service_id, organisation.id)
    _refuse_closed(inventory_round)
    place = _Place.link(request_id, token, organisation)
    failed = await _save(request, db_session, place, organisation, service)
    if failed:
        return failed
    await rounds.record_update(db_session, found, inventory_round)
    return Redirect(f"{place.base}?done=saved", status_code=303)


@post(
    "/inventory/respond/{request_id:uuid}/{token:str}/services/{service_id:uuid}/end",
    include_in_schema=False,
    status_code=303,
    **PUBLIC,
)
async def respond_end_service(
    request: AnyRequest, db_session: AsyncSession, request_id: UUID, token: str, service_id: UUID
) -> Template | Redirect:
    found, inventory_round, organisation = await _link(request, db_session, request_id, token)
    service = await services.get_service(db_session, service_id, organisation.id)
    _refuse_closed(inventory_round)
    place = _Place.link(request_id, token, organisation)
    failed = await _end(request, db_session, place, organisation, service)
    if failed:
        return failed
    await rounds.record_update(db_session, found, inventory_round)
    return Redirect(f"{place.base}?done=ended", status_code=303)


# -- residents: services near me ------------------------------------------------------------------


@get("/services", name="inventory:near", include_in_schema=False, **PUBLIC)
async def services_near(
    db_session: AsyncSession,
    area: Annotated[str | None, QueryParameter(max_length=32)] = None,
    need: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> Template:
    area_rows = (
        await db_session.execute(select(SocialArea.code, SocialArea.name).order_by(SocialArea.code))
    ).all()
    codes = {code for code, _name in area_rows}
    needs = await services.need_category_options(db_session)
    errors: dict[str, str] = {}
    if area == "":
        area = None
    if need == "":
        need = None
    if area is not None and area not in codes:
        errors["area"] = _("Choose an area from the list.")
        area = None
    if need is not None and need not in {key for key, _label in needs}:
        errors["need"] = _("Choose a need category from the list.")
        need = None
    found: list[s.ServiceOut] = []
    chosen = next((name for code, name in area_rows if code == area), None)
    if area is not None:
        page = await services.list_services(db_session, area_code=area, need=need, limit=200)
        found = page.items
    return Template(
        template_name="inventory/near.html",
        context={
            "area_options": [("", _("Choose your area"))]
            + [(code, f"{name} ({code})") for code, name in area_rows],
            "need_options": [("", _("All needs")), *needs],
            "area": area or "",
            "need": need or "",
            "area_name": chosen,
            "services": found,
            "group_names": TARGET_GROUP_NAMES,
            "errors": errors,
        },
        status_code=400 if errors else 200,
    )


PAGES: list[ControllerRouterHandler] = [
    inventory_index,
    organisation_page,
    new_service,
    create_service,
    edit_service,
    update_service,
    end_service,
    rounds_page,
    start_round,
    close_round,
    supply_page,
    respond_page,
    respond_confirm,
    respond_new_service,
    respond_create_service,
    respond_edit_service,
    respond_update_service,
    respond_end_service,
    services_near,
]
