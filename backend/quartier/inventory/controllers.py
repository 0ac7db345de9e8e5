"""JSON API of the inventory: services of organisations (public reading of active services),
inventory rounds of a process with their progress, and supply beside need per area (JSON and
CSV with metadata). Handlers call inventory.services, .rounds and .supply."""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.params import Parameter, QueryParameter
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.idempotent_handlers import idempotent
from quartier.core.openapi import problems
from quartier.core.pagination import Cursor, Limit, Page
from quartier.core.security import PLANNERS, access, principal_of
from quartier.inventory import rounds, services, supply
from quartier.inventory import schemas as s
from quartier.settings import Settings

TAGS = ["Inventory"]
READ = access(roles=PLANNERS, scopes={"inventory:read"})
WRITE = access(roles=PLANNERS, scopes={"inventory:write"})
AreaParam = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=32,
        pattern=r"^[^\x00]*$",
        description="Code of a social area: services serving it, a containing area or a part "
        "of it.",
    ),
]
NeedQuery = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$"),
]
NeedPath = Annotated[str, Parameter(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
LevelParam = Annotated[
    str, QueryParameter(min_length=1, max_length=40, description="Level key, e.g. `district`.")
]
GroupParam = Annotated[
    s.TargetGroup,
    QueryParameter(description="Target group whose residents are the denominator."),
]
AnyRequest = Request[Any, Any, Any]


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state["settings"]
    return settings


class ServiceController(Controller):
    path = "/services"
    tags = TAGS

    @get(
        operation_id="ListServices",
        summary="List active services",
        description="Services offered today (started and not ended), ordered by name, "
        "optionally those serving a social area (`area`: the area itself, an area containing "
        "it or a part of it) and of a need category (`need`). Unknown codes are 422.",
        responses=problems(422),
        **access(public=True),
    )
    async def list_services(
        self,
        db_session: AsyncSession,
        area: AreaParam = None,
        need: NeedQuery = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[s.ServiceOut]:
        return await services.list_services(
            db_session, area_code=area, need=need, limit=limit, cursor=cursor
        )

    @get(
        "/{service_id:uuid}",
        operation_id="GetService",
        summary="Get a service",
        description="One service, also after it ended (`active` false, `ends_on` set).",
        **access(public=True),
    )
    async def get_service(self, db_session: AsyncSession, service_id: UUID) -> s.ServiceOut:
        return await services.get_service(db_session, service_id)

    @put(
        "/{service_id:uuid}",
        operation_id="UpdateService",
        summary="Change a service",
        description="Replaces every field of the service and counts as a confirmation "
        "(`confirmed_at`). Unknown need categories and areas are refused (422) naming each "
        "field.",
        responses=problems(422),
        **WRITE,
    )
    async def update_service(
        self, db_session: AsyncSession, service_id: UUID, data: s.ServiceIn
    ) -> s.ServiceOut:
        return await services.update_service(db_session, service_id, data)

    @post(
        "/{service_id:uuid}/end",
        operation_id="EndService",
        summary="End a service",
        description="The service is offered until `ends_on` (inclusive) and stays recorded "
        "for history. 409 when it has ended already.",
        status_code=200,
        responses=problems(409, 422),
        **WRITE,
    )
    async def end_service(
        self, db_session: AsyncSession, service_id: UUID, data: s.EndServiceIn
    ) -> s.ServiceOut:
        return await services.end_service(db_session, service_id, data.ends_on)


class OrganisationServiceController(Controller):
    path = "/organisations/{organisation_id:uuid}/services"
    tags = TAGS

    @get(
        operation_id="ListOrganisationServices",
        summary="Services of an organisation",
        description="Every service of the organisation, ended ones included (history).",
        **READ,
    )
    async def list_for(self, db_session: AsyncSession, organisation_id: UUID) -> list[s.ServiceOut]:
        await services.get_organisation(db_session, organisation_id)
        return await services.organisation_services(db_session, organisation_id)

    @post(
        operation_id="CreateService",
        summary="Record a service of an organisation",
        description="A new service with its need categories, target groups, the social areas "
        "it serves, capacity, opening hours, accessibility and public contact. Unknown need "
        "categories and areas are refused (422) naming each field; a deactivated "
        "organisation records no new services (422).",
        status_code=201,
        responses=problems(422),
        **WRITE,
    )
    @idempotent
    async def create(
        self, db_session: AsyncSession, organisation_id: UUID, data: s.ServiceIn
    ) -> s.ServiceOut:
        return await services.create_service(db_session, organisation_id, data)


class RoundController(Controller):
    path = "/processes/{process_id:uuid}/inventory-rounds"
    tags = TAGS

    @get(
        operation_id="ListInventoryRounds",
        summary="Inventory rounds of a process",
        description="The rounds, newest first, each with its progress per organisation "
        "(confirmed, updated, not yet) and the organisations' private response links.",
        **READ,
    )
    async def list_rounds(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID
    ) -> list[s.RoundOut]:
        return await rounds.list_rounds(db_session, _settings(request), process_id)

    @post(
        operation_id="StartInventoryRound",
        summary="Start an inventory round",
        description="Asks the organisations to confirm or update their services by `due_on`; "
        "with `send_mail`, the request is mailed to each organisation's public contact "
        "address (that of its services); organisations without one are listed to contact "
        "by other means. 409 while the process has an open round; 422 for a past due date "
        "or unknown organisations, naming the field.",
        status_code=201,
        responses=problems(409, 422),
        **WRITE,
    )
    @idempotent
    async def start(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID, data: s.RoundIn
    ) -> s.RoundOut:
        principal = principal_of(request)
        name = principal.name[:200] if principal else "Quartier"
        return await rounds.start_round(db_session, _settings(request), process_id, data, name)


class InventoryRoundController(Controller):
    path = "/inventory-rounds/{round_id:uuid}"
    tags = TAGS

    @get(
        operation_id="GetInventoryRound",
        summary="Get an inventory round",
        description="One round with its progress per organisation.",
        **READ,
    )
    async def get_round(
        self, request: AnyRequest, db_session: AsyncSession, round_id: UUID
    ) -> s.RoundOut:
        return await rounds.get_round(db_session, _settings(request), round_id)

    @post(
        "/close",
        operation_id="CloseInventoryRound",
        summary="Close an inventory round",
        description="No more answers through the organisations' links; 409 when closed already.",
        status_code=200,
        responses=problems(409),
        **WRITE,
    )
    async def close(
        self, request: AnyRequest, db_session: AsyncSession, round_id: UUID
    ) -> s.RoundOut:
        return await rounds.close_round(db_session, _settings(request), round_id)


class SupplyController(Controller):
    path = "/processes/{process_id:uuid}/supply/{need:str}"
    tags = TAGS

    @get(
        operation_id="GetSupplyComparison",
        summary="Supply beside need per area",
        description="For a process, a need category, a level and a target group: each area's "
        "active services and capacity, per 1,000 residents of the target group, beside the "
        "expressed need (the surveys' disclosure-controlled share; withheld and suppressed "
        "cells stay null) and the measured need (linked indicators), with metadata. "
        + supply.METHOD,
        responses=problems(422),
        **access(roles=PLANNERS, scopes={"inventory:read", "exports:read"}),
    )
    async def compare(
        self,
        db_session: AsyncSession,
        process_id: UUID,
        need: NeedPath,
        level: LevelParam,
        target_group: GroupParam = "all_residents",
    ) -> s.SupplyComparison:
        return await supply.supply_comparison(db_session, process_id, need, level, target_group)

    @get(
        "/csv",
        operation_id="ExportSupplyComparison",
        summary="Supply beside need as CSV",
        description="The same figures as GetSupplyComparison as CSV (UTF-8, comma): metadata "
        "first as `# key: value` lines, then one row per area; protected expressed need is "
        "empty with `expressed_suppressed` true.",
        media_type="text/csv; charset=utf-8",
        responses=problems(422),
        **access(roles=PLANNERS, scopes={"inventory:read", "exports:read"}),
    )
    async def export_csv(
        self,
        db_session: AsyncSession,
        process_id: UUID,
        need: NeedPath,
        level: LevelParam,
        target_group: GroupParam = "all_residents",
    ) -> Response[str]:
        result = await supply.supply_comparison(db_session, process_id, need, level, target_group)
        stamp = datetime.date.today().isoformat()
        return Response(
            supply.csv_text(result),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="supply-{need}-{level}-{stamp}.csv"'
            },
        )


API_ROUTES: list[ControllerRouterHandler] = [
    ServiceController,
    OrganisationServiceController,
    RoundController,
    InventoryRoundController,
    SupplyController,
]
