"""JSON API of planning processes, their phases, organisations, roles, contributions and
participation (under /api/v1). Handlers are thin: they call `services` and return schemas."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.idempotent_handlers import idempotent
from quartier.core.openapi import problems
from quartier.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from quartier.core.security import PLANNERS, STAFF, access, principal_of
from quartier.processes import participation, services
from quartier.processes import schemas as s
from quartier.processes.models import OrganisationType, ProcessStatus
from quartier.processes.phases import PhaseKey

PROCESSES = ["Planning processes"]
ORGANISATIONS = ["Organisations"]
PARTICIPATION = ["Participation"]

LOCATION = [
    ResponseHeader(
        name="Location", description="Path of the created resource", documentation_only=True
    )
]

AnyRequest = Request[Any, Any, Any]

StatusFilter = Annotated[
    ProcessStatus | None,
    QueryParameter(description="Only processes with this status (the public sees no drafts)."),
]
AreaFilter = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=32,
        description="Only processes whose scope includes the social area with this code.",
    ),
]
PhaseFilter = Annotated[
    PhaseKey | None, QueryParameter(description="Only processes whose active phase is this.")
]
PhaseOfCell = Annotated[PhaseKey | None, QueryParameter(description="Only this phase.")]
OrganisationFilter = Annotated[UUID | None, QueryParameter(description="Only this organisation.")]
TypeFilter = Annotated[
    OrganisationType | None,
    QueryParameter(query="type", description="Only organisations of this type."),
]
NameQuery = Annotated[
    str | None,
    QueryParameter(
        min_length=1, max_length=100, description="Part of the name or short name (any case)."
    ),
]


def _viewer(request: AnyRequest) -> services.Viewer:
    return services.Viewer.of(principal_of(request))


def _actor(request: AnyRequest) -> services.Actor:
    return services.Actor.of(principal_of(request))


def _read_internal() -> dict[str, Any]:
    return access(roles=STAFF, scopes={"processes:read", "processes:write"})


def _write() -> dict[str, Any]:
    return access(roles=PLANNERS, scopes={"processes:write"})


def _created(request: AnyRequest, body: Any, route: str, **params: Any) -> Response[Any]:
    location = request.app.route_reverse(route, **params)
    return Response(body, status_code=HTTP_201_CREATED, headers={"Location": location})


class ProcessController(Controller):
    path = "/processes"
    tags = PROCESSES

    @get(
        "/",
        operation_id="ListProcesses",
        summary="List planning processes",
        description="Planning processes in creation order, cursor-paginated. The public sees "
        "active and archived processes; staff and tokens with `processes:read` also see "
        "drafts. Filter by `status`, by social `area` code and by active `phase`; an unknown "
        "area code is a 422 naming it.",
        **access(public=True),
    )
    async def list_processes(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        status: StatusFilter = None,
        area: AreaFilter = None,
        phase: PhaseFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.ProcessSummary]:
        filters = services.ProcessFilter(status=status, area_code=area, phase=phase)
        return await services.list_processes(
            db_session, _viewer(request), filters, limit=limit, cursor=cursor
        )

    @post(
        "/",
        operation_id="CreateProcess",
        summary="Create a planning process",
        description="Creates a draft process with its seven phases; `guidelines` is active. "
        "Social areas in scope are given by their official codes; unknown codes are named in "
        "a 422 problem. `title`, `topic` and `description` are German; `translations` gives "
        "them in further languages, and `mandate.translations` the mandate's texts (a "
        "language the deployment does not enable is a 422 naming `translations.<language>` or "
        "`mandate.translations.<language>`). Answers 201 with a `Location` header.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        **_write(),
    )
    @idempotent
    async def create_process(
        self, request: AnyRequest, db_session: AsyncSession, data: s.ProcessCreate
    ) -> Response[s.Process]:
        process_id = await services.create_process(db_session, data, _actor(request))
        body = await services.get_process(db_session, process_id, services.STAFF_VIEWER)
        return _created(request, body, "processes:get", process_id=process_id)

    @get(
        "/{process_id:uuid}",
        name="processes:get",
        operation_id="GetProcess",
        summary="Get a planning process",
        description="A process with its mandate, social areas and seven phases. Title, "
        "topic, description, the mandate's texts and phase notes are German, their "
        "`translations` (the process's, the mandate's, each phase's) the further languages "
        "staff gave (the response's language does not change them). Drafts are visible to "
        "staff and tokens with `processes:read` only (404 otherwise); `internal_notes` "
        "likewise.",
        **access(public=True),
    )
    async def get_process(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID
    ) -> s.Process:
        return await services.get_process(db_session, process_id, _viewer(request))

    @patch(
        "/{process_id:uuid}",
        operation_id="UpdateProcess",
        summary="Change a planning process",
        description="Changes only the fields sent; `area_codes` replaces the set of social "
        "areas, `mandate` changes only its fields sent. In `translations` an object replaces "
        "that language's title, topic and description, null removes them, a language not "
        "sent keeps them; `mandate.translations` does the same for the mandate's texts (each "
        "leaves the other's alone); a language the deployment does not enable is a 422 naming "
        "`translations.<language>` or `mandate.translations.<language>`. Archived processes "
        "are read-only (409). Status and phase change through their own operations.",
        responses=problems(409),
        **_write(),
    )
    async def update_process(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID, data: s.ProcessUpdate
    ) -> s.Process:
        await services.update_process(db_session, process_id, data)
        return await services.get_process(db_session, process_id, services.STAFF_VIEWER)

    @post(
        "/{process_id:uuid}/publish",
        operation_id="PublishProcess",
        summary="Publish a draft process",
        description="draft → active: the process becomes visible to the public and residents "
        "can take part where the active phase opens participation. 409 unless a draft.",
        status_code=HTTP_200_OK,
        responses=problems(409),
        **_write(),
    )
    async def publish_process(self, db_session: AsyncSession, process_id: UUID) -> s.Process:
        await services.publish_process(db_session, process_id)
        return await services.get_process(db_session, process_id, services.STAFF_VIEWER)

    @post(
        "/{process_id:uuid}/archive",
        operation_id="ArchiveProcess",
        summary="Archive a planning process",
        description="draft or active → archived: the process stays readable but can no "
        "longer be changed, and participation closes. 409 if already archived.",
        status_code=HTTP_200_OK,
        responses=problems(409),
        **_write(),
    )
    async def archive_process(self, db_session: AsyncSession, process_id: UUID) -> s.Process:
        await services.archive_process(db_session, process_id)
        return await services.get_process(db_session, process_id, services.STAFF_VIEWER)

    @post(
        "/{process_id:uuid}/next-cycle",
        operation_id="StartNextCycle",
        summary="Start the next planning cycle",
        description="From `social_reporting` only: creates a new draft process with cycle "
        "number + 1, linked to this one, with its title, topic, description, social areas and "
        "mandate, starting in `guidelines`. 409 (`wrong-phase`) from any other phase, and 409 "
        "if the next cycle was already started. Answers 201 with a `Location` header.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        responses=problems(409),
        **_write(),
    )
    @idempotent
    async def start_next_cycle(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID
    ) -> Response[s.Process]:
        new_id = await services.start_next_cycle(db_session, process_id, _actor(request))
        body = await services.get_process(db_session, new_id, services.STAFF_VIEWER)
        return _created(request, body, "processes:get", process_id=new_id)


class PhaseController(Controller):
    path = "/processes/{process_id:uuid}"
    tags = PROCESSES

    @get(
        "/phases",
        operation_id="ListPhases",
        summary="List the phases of a process",
        description="The seven phases of the planning cycle in order, with planned dates, the "
        "three notes (what is done, who takes part, what to watch out for) and which one is "
        "active.",
        **access(public=True),
    )
    async def list_phases(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID
    ) -> list[s.Phase]:
        return await services.list_phases(db_session, process_id, _viewer(request))

    @patch(
        "/phases/{phase:str}",
        operation_id="UpdatePhase",
        summary="Change a phase's dates and notes",
        description="Changes only the fields sent; null clears a planned date. The planned end "
        "must not lie before the planned start (422 naming `planned_end`). The notes are "
        "German; `translations` gives them per further language: an object replaces that "
        "language's notes, null removes them, a language not sent keeps them, and a language "
        "the deployment does not enable is a 422 naming `translations.<language>`. Archived "
        "processes are read-only (409).",
        responses=problems(409),
        **_write(),
    )
    async def update_phase(
        self, db_session: AsyncSession, process_id: UUID, phase: PhaseKey, data: s.PhaseUpdate
    ) -> s.Phase:
        return await services.update_phase(db_session, process_id, phase, data)

    @post(
        "/phases/{phase:str}/activate",
        operation_id="ActivatePhase",
        summary="Make a phase the active one",
        description="Switches the active phase of the process (any phase may follow any "
        "other, e.g. back to the needs assessment) and records who did it and when. "
        "Concurrent switches are serialised. 409 if the phase is already active or the "
        "process is archived.",
        status_code=HTTP_200_OK,
        responses=problems(409),
        **_write(),
    )
    async def activate_phase(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID, phase: PhaseKey
    ) -> s.PhaseActivation:
        return await services.activate_phase(db_session, process_id, phase, _actor(request))

    @get(
        "/activations",
        operation_id="ListPhaseActivations",
        summary="History of phase activations",
        description="Every switch of the active phase, oldest first, with the previous phase, "
        "the time and who made it (staff member, API token or the system); the first entry "
        "is the start of the process in `guidelines`.",
        **_read_internal(),
    )
    async def list_activations(
        self,
        db_session: AsyncSession,
        process_id: UUID,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.PhaseActivation]:
        return await services.list_activations(db_session, process_id, limit=limit, cursor=cursor)


class OrganisationController(Controller):
    path = "/organisations"
    tags = ORGANISATIONS

    @get(
        "/",
        operation_id="ListOrganisations",
        summary="List organisations",
        description="Welfare organisations (freie Träger), administration units, council "
        "bodies, resident groups and others, by name; filter by `type` or by `q` (part of "
        "the name).",
        **access(public=True),
    )
    async def list_organisations(
        self,
        db_session: AsyncSession,
        organisation_type: TypeFilter = None,
        q: NameQuery = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.Organisation]:
        return await services.list_organisations(
            db_session, type=organisation_type, query=q, limit=limit, cursor=cursor
        )

    @post(
        "/",
        operation_id="CreateOrganisation",
        summary="Create an organisation",
        description="Names are unique regardless of case (409). Answers 201 with a `Location` "
        "header.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        responses=problems(409),
        **_write(),
    )
    @idempotent
    async def create_organisation(
        self, request: AnyRequest, db_session: AsyncSession, data: s.OrganisationCreate
    ) -> Response[s.Organisation]:
        body = await services.create_organisation(db_session, data)
        return _created(request, body, "organisations:get", organisation_id=body.id)

    @get(
        "/{organisation_id:uuid}",
        name="organisations:get",
        operation_id="GetOrganisation",
        summary="Get an organisation",
        description="One organisation.",
        **access(public=True),
    )
    async def get_organisation(
        self, db_session: AsyncSession, organisation_id: UUID
    ) -> s.Organisation:
        return await services.get_organisation(db_session, organisation_id)

    @patch(
        "/{organisation_id:uuid}",
        operation_id="UpdateOrganisation",
        summary="Change an organisation",
        description="Changes only the fields sent; a name taken by another organisation is a 409.",
        responses=problems(409),
        **_write(),
    )
    async def update_organisation(
        self, db_session: AsyncSession, organisation_id: UUID, data: s.OrganisationUpdate
    ) -> s.Organisation:
        return await services.update_organisation(db_session, organisation_id, data)

    @delete(
        "/{organisation_id:uuid}",
        operation_id="DeleteOrganisation",
        summary="Delete an organisation",
        description="Only organisations without roles or contributions in any process can be "
        "deleted (409 otherwise).",
        status_code=HTTP_204_NO_CONTENT,
        responses=problems(409),
        **_write(),
    )
    async def delete_organisation(self, db_session: AsyncSession, organisation_id: UUID) -> None:
        await services.delete_organisation(db_session, organisation_id)


class RoleController(Controller):
    path = "/processes/{process_id:uuid}/roles"
    tags = ORGANISATIONS

    @get(
        "/",
        operation_id="ListProcessRoles",
        summary="List the organisations' roles in a process",
        description="Which organisation takes which role (commissioning, planning, "
        "participating, providing, evaluating, receiving reports) in which phase; filter by "
        "`phase` or `organisation_id`.",
        **access(public=True),
    )
    async def list_roles(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        phase: PhaseOfCell = None,
        organisation_id: OrganisationFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.ProcessRole]:
        return await services.list_roles(
            db_session,
            process_id,
            _viewer(request),
            phase=phase,
            organisation_id=organisation_id,
            limit=limit,
            cursor=cursor,
        )

    @post(
        "/",
        operation_id="AddProcessRole",
        summary="Give an organisation a role in a phase",
        description="Unique per process, organisation, phase and role (409 when given twice). "
        "An unknown organisation is a 422 naming `organisation_id`. Answers 201 with a "
        "`Location` header.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        responses=problems(409),
        **_write(),
    )
    @idempotent
    async def add_role(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        data: s.ProcessRoleCreate,
    ) -> Response[s.ProcessRole]:
        body = await services.add_role(db_session, process_id, data)
        return _created(request, body, "roles:get", process_id=process_id, role_id=body.id)

    @get(
        "/{role_id:uuid}",
        name="roles:get",
        operation_id="GetProcessRole",
        summary="Get one role of an organisation in a process",
        description="One role assignment.",
        **access(public=True),
    )
    async def get_role(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID, role_id: UUID
    ) -> s.ProcessRole:
        return await services.get_role(db_session, process_id, role_id, _viewer(request))

    @delete(
        "/{role_id:uuid}",
        operation_id="RemoveProcessRole",
        summary="Remove a role",
        description="Removes one role assignment. Archived processes are read-only (409).",
        status_code=HTTP_204_NO_CONTENT,
        responses=problems(409),
        **_write(),
    )
    async def remove_role(self, db_session: AsyncSession, process_id: UUID, role_id: UUID) -> None:
        await services.remove_role(db_session, process_id, role_id)


class ContributionController(Controller):
    path = "/processes/{process_id:uuid}/contributions"
    tags = ORGANISATIONS

    @get(
        "/",
        operation_id="ListContributions",
        summary="List contributions to a process",
        description="What organisations contribute to the phases of the process, one entry "
        "per organisation and phase; filter by `phase` or `organisation_id`.",
        **access(public=True),
    )
    async def list_contributions(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        phase: PhaseOfCell = None,
        organisation_id: OrganisationFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.Contribution]:
        return await services.list_contributions(
            db_session,
            process_id,
            _viewer(request),
            phase=phase,
            organisation_id=organisation_id,
            limit=limit,
            cursor=cursor,
        )

    @get(
        "/matrix",
        operation_id="GetContributionsMatrix",
        summary="The contributions matrix: organisations × phases",
        description="One row per organisation that has a role or a contribution in the "
        "process, with one cell per phase in cycle order: the contribution text (or null) and "
        "the organisation's roles in that phase.",
        **access(public=True),
    )
    async def matrix(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID
    ) -> s.ContributionsMatrix:
        return await services.contributions_matrix(db_session, process_id, _viewer(request))

    @put(
        "/{organisation_id:uuid}/{phase:str}",
        name="contributions:cell",
        operation_id="SetContribution",
        summary="Set an organisation's contribution to a phase",
        description="Creates (201, with `Location`) or replaces (200) what the organisation "
        "contributes to this phase of the process. Archived processes are read-only (409).",
        status_code=HTTP_200_OK,
        responses={
            HTTP_201_CREATED: ResponseSpec(
                data_container=s.Contribution, description="The contribution was created."
            ),
            **problems(409),
        },
        **_write(),
    )
    async def set_contribution(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        organisation_id: UUID,
        phase: PhaseKey,
        data: s.ContributionSet,
    ) -> Response[s.Contribution]:
        body, created = await services.set_contribution(
            db_session, process_id, organisation_id, phase, data.text
        )
        if created:
            return _created(
                request,
                body,
                "contributions:cell",
                process_id=process_id,
                organisation_id=organisation_id,
                phase=phase.value,
            )
        return Response(body)

    @delete(
        "/{organisation_id:uuid}/{phase:str}",
        operation_id="RemoveContribution",
        summary="Remove an organisation's contribution to a phase",
        description="Empties this cell of the matrix. Archived processes are read-only (409).",
        status_code=HTTP_204_NO_CONTENT,
        responses=problems(409),
        **_write(),
    )
    async def remove_contribution(
        self, db_session: AsyncSession, process_id: UUID, organisation_id: UUID, phase: PhaseKey
    ) -> None:
        await services.remove_contribution(db_session, process_id, organisation_id, phase)


class ParticipationController(Controller):
    path = "/"
    tags = PARTICIPATION

    @get(
        "/participation/modules",
        operation_id="ListParticipationModules",
        summary="List the participation modules",
        description="The registered participation modules, the phases in which each is open "
        "by default and the actions it offers.",
        **access(public=True),
    )
    async def list_modules(self) -> list[s.ParticipationModuleInfo]:
        return [services.module_info(module) for module in participation.modules()]

    @get(
        "/processes/{process_id:uuid}/participation",
        operation_id="GetParticipationStatus",
        summary="Which participation is open in a process",
        description="For each module: whether residents can use it now (`open_now`), its "
        "default phases, the phases it is open in for this process (defaults with overrides "
        "applied) and the overrides. Only active (published) processes are open.",
        **access(public=True),
    )
    async def status(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID
    ) -> s.ParticipationStatus:
        return await services.participation_status(db_session, process_id, _viewer(request))

    @put(
        "/processes/{process_id:uuid}/participation/{module:str}/{phase:str}",
        operation_id="SetParticipationOverride",
        summary="Open or close a module in a phase of this process",
        description="Overrides the module's default for this phase of this process. An "
        "unknown module is a 404; archived processes are read-only (409).",
        responses=problems(409),
        **_write(),
    )
    async def set_override(
        self,
        db_session: AsyncSession,
        process_id: UUID,
        module: str,
        phase: PhaseKey,
        data: s.ParticipationOverrideSet,
    ) -> s.ParticipationOverride:
        return await services.set_participation_override(
            db_session, process_id, module, phase, data.is_open
        )

    @delete(
        "/processes/{process_id:uuid}/participation/{module:str}/{phase:str}",
        operation_id="RemoveParticipationOverride",
        summary="Return a module to its default in a phase",
        description="Removes the override, so the module's default applies again in this "
        "phase of this process.",
        status_code=HTTP_204_NO_CONTENT,
        responses=problems(409),
        **_write(),
    )
    async def remove_override(
        self, db_session: AsyncSession, process_id: UUID, module: str, phase: PhaseKey
    ) -> None:
        await services.remove_participation_override(db_session, process_id, module, phase)


API_ROUTES: list[ControllerRouterHandler] = [
    ProcessController,
    PhaseController,
    OrganisationController,
    RoleController,
    ContributionController,
    ParticipationController,
]
