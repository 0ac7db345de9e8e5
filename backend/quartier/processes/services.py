"""The logic of planning processes: creating and changing processes, the phase state machine
(activation, next cycle, publish, archive), organisations, roles, contributions and
participation overrides. The API and the pages both call these functions.

Services never commit; they raise ``core.errors`` problems. Phase switches lock the process
row (``SELECT … FOR UPDATE``) so that concurrent activations are serialised: each sees the
phase the previous one left active and records it as its `previous_phase`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from msgspec import UNSET, UnsetType
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quartier import webhooks
from quartier.areas.models import SocialArea
from quartier.core import translations as shared_translations
from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound, Unauthorized
from quartier.core.i18n import gettext
from quartier.core.pagination import Page, keyset_page
from quartier.core.security import Principal, Role
from quartier.processes import models as m
from quartier.processes import participation, translations
from quartier.processes import schemas as s
from quartier.processes.phases import (
    FIRST_PHASE,
    LAST_PHASE,
    PHASE_INFO,
    PHASE_ORDER,
    PHASES,
    PhaseKey,
)

READ_SCOPES = frozenset({"processes:read", "processes:write"})
STAFF_ROLES = frozenset(Role)


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- who is asking --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Viewer:
    """What a caller may see: drafts and internal notes are for staff and tokens that read
    processes."""

    privileged: bool = False

    @classmethod
    def of(cls, principal: Principal | None) -> Viewer:
        if principal is None:
            return PUBLIC
        if principal.kind == "staff":
            return cls(privileged=principal.role in STAFF_ROLES)
        return cls(privileged=bool(principal.scopes & READ_SCOPES))


PUBLIC = Viewer()
STAFF_VIEWER = Viewer(privileged=True)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who changes something, as recorded in the activation history."""

    kind: m.ActorKind
    id: UUID | None
    name: str

    @classmethod
    def of(cls, principal: Principal | None) -> Actor:
        if principal is None:
            raise Unauthorized("Sign in, or send an API token as `Authorization: Bearer …`.")
        return cls(kind=m.ActorKind(principal.kind), id=principal.id, name=principal.name[:200])


SYSTEM = Actor(kind=m.ActorKind.SYSTEM, id=None, name="Quartier")


# -- loading --------------------------------------------------------------------------------


async def _process(
    session: AsyncSession, process_id: UUID, viewer: Viewer, *, lock: bool = False
) -> m.PlanningProcess:
    statement = sa.select(m.PlanningProcess).where(m.PlanningProcess.id == process_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    process = await session.scalar(statement)
    if process is None or (process.status is m.ProcessStatus.DRAFT and not viewer.privileged):
        raise NotFound(f"No planning process {process_id}.")
    return process


async def _writable(
    session: AsyncSession, process_id: UUID, *, lock: bool = False
) -> m.PlanningProcess:
    process = await _process(session, process_id, STAFF_VIEWER, lock=lock)
    if process.status is m.ProcessStatus.ARCHIVED:
        raise Conflict("The planning process is archived; archived processes are read-only.")
    return process


async def _active_phase(session: AsyncSession, process_id: UUID) -> PhaseKey:
    phase = await session.scalar(
        sa.select(m.ProcessPhase.phase).where(
            m.ProcessPhase.process_id == process_id, m.ProcessPhase.is_active
        )
    )
    assert phase is not None, "the database keeps one active phase per process"
    return phase


async def _areas_of(
    session: AsyncSession, process_ids: Sequence[UUID]
) -> dict[UUID, list[s.AreaRef]]:
    result: dict[UUID, list[s.AreaRef]] = {pid: [] for pid in process_ids}
    if not process_ids:
        return result
    rows = await session.execute(
        sa.select(m.process_areas.c.process_id, SocialArea.id, SocialArea.code, SocialArea.name)
        .join(SocialArea, SocialArea.id == m.process_areas.c.area_id)
        .where(m.process_areas.c.process_id.in_(process_ids))
        .order_by(SocialArea.code)
    )
    for row in rows:
        result[row.process_id].append(s.AreaRef(id=row.id, code=row.code, name=row.name))
    return result


async def _active_phases_of(
    session: AsyncSession, process_ids: Sequence[UUID]
) -> dict[UUID, PhaseKey]:
    if not process_ids:
        return {}
    rows = await session.execute(
        sa.select(m.ProcessPhase.process_id, m.ProcessPhase.phase).where(
            m.ProcessPhase.process_id.in_(process_ids), m.ProcessPhase.is_active
        )
    )
    return {row.process_id: row.phase for row in rows}


async def resolve_area_codes(
    session: AsyncSession, codes: Sequence[str], *, field: str, source: str = "body"
) -> list[UUID]:
    """The ids of the social areas with these codes; unknown codes are named in the error."""
    unique = list(dict.fromkeys(codes))
    if not unique:
        return []
    rows = await session.execute(
        sa.select(SocialArea.code, SocialArea.id).where(SocialArea.code.in_(unique))
    )
    found: dict[str, UUID] = {row.code: row.id for row in rows}
    missing = [code for code in unique if code not in found]
    if missing:
        errors = [
            FieldError(
                field=f"{field}[{codes.index(code)}]" if source == "body" else field,
                source=source,
                message=f"unknown social area code '{code}'",
            )
            for code in missing
        ]
        raise InvalidInput(
            "Unknown social area code(s): " + ", ".join(f"'{c}'" for c in missing) + ".",
            errors=errors,
        )
    return [found[code] for code in unique]


async def areas_by_codes(session: AsyncSession, codes: Sequence[str]) -> list[tuple[str, str]]:
    """(code, name) of the known social areas among `codes`, by code (for pickers)."""
    if not codes:
        return []
    rows = await session.execute(
        sa.select(SocialArea.code, SocialArea.name)
        .where(SocialArea.code.in_(list(codes)))
        .order_by(SocialArea.code)
    )
    return [(row.code, row.name) for row in rows]


# -- views ----------------------------------------------------------------------------------


def phase_view(phase: m.ProcessPhase) -> s.Phase:
    info = PHASE_INFO[phase.phase]
    return s.Phase(
        key=phase.phase,
        position=phase.position,
        name=info.localized_name(),
        description=info.localized_description(),
        is_active=phase.is_active,
        activated_at=phase.activated_at,
        planned_start=phase.planned_start,
        planned_end=phase.planned_end,
        what_is_done=phase.what_is_done,
        who_takes_part=phase.who_takes_part,
        watch_out_for=phase.watch_out_for,
        translations=shared_translations.as_struct(phase.translations, s.PhaseTranslations),
    )


def _summary_fields(
    process: m.PlanningProcess, active: PhaseKey, areas: list[s.AreaRef]
) -> dict[str, Any]:
    return {
        "id": process.id,
        "title": process.title,
        "topic": process.topic,
        "status": process.status,
        "cycle": process.cycle,
        "active_phase": active,
        "active_phase_name": PHASE_INFO[active].localized_name(),
        "areas": areas,
        "created_at": process.created_at,
        "updated_at": process.updated_at,
    }


def activation_view(activation: m.PhaseActivation) -> s.PhaseActivation:
    return s.PhaseActivation(
        id=activation.id,
        process_id=activation.process_id,
        phase=activation.phase,
        previous_phase=activation.previous_phase,
        activated_at=activation.activated_at,
        actor_kind=activation.actor_kind,
        actor_id=activation.actor_id,
        actor_name=activation.actor_name,
    )


def organisation_ref(organisation: m.Organisation) -> s.OrganisationRef:
    return s.OrganisationRef(
        id=organisation.id,
        name=organisation.name,
        short_name=organisation.short_name,
        type=organisation.type,
    )


def organisation_view(organisation: m.Organisation) -> s.Organisation:
    return s.Organisation(
        id=organisation.id,
        name=organisation.name,
        short_name=organisation.short_name,
        type=organisation.type,
        description=organisation.description,
        website=organisation.website,
        is_active=organisation.is_active,
        created_at=organisation.created_at,
        updated_at=organisation.updated_at,
    )


# -- processes ------------------------------------------------------------------------------


async def get_process(session: AsyncSession, process_id: UUID, viewer: Viewer) -> s.Process:
    process = await _process(session, process_id, viewer)
    phases = (
        await session.scalars(
            sa.select(m.ProcessPhase)
            .where(m.ProcessPhase.process_id == process_id)
            .order_by(m.ProcessPhase.position)
        )
    ).all()
    active = next(phase.phase for phase in phases if phase.is_active)
    areas = (await _areas_of(session, [process_id]))[process_id]
    successor = await session.scalar(
        sa.select(m.PlanningProcess.id).where(m.PlanningProcess.previous_process_id == process_id)
    )
    return s.Process(
        **_summary_fields(process, active, areas),
        description=process.description,
        translations=shared_translations.as_struct(process.translations, s.ProcessTranslations),
        mandate=s.Mandate(
            commissioned_by=process.commissioned_by,
            commissioned_to=process.commissioned_to,
            aim=process.aim,
            occasion=process.occasion,
            report_recipients=process.report_recipients,
            translations=shared_translations.as_struct(process.translations, s.MandateTranslations),
        ),
        previous_process_id=process.previous_process_id,
        next_process_id=successor,
        phases=[phase_view(phase) for phase in phases],
        internal_notes=process.internal_notes if viewer.privileged else None,
    )


@dataclass(frozen=True, slots=True)
class ProcessFilter:
    status: m.ProcessStatus | None = None
    area_code: str | None = None
    phase: PhaseKey | None = None


async def list_processes(
    session: AsyncSession,
    viewer: Viewer,
    filters: ProcessFilter,
    *,
    limit: int,
    cursor: str | None,
) -> Page[s.ProcessSummary]:
    """Processes in creation order (ids are UUIDv7); the public sees no drafts."""
    statement = sa.select(m.PlanningProcess)
    if not viewer.privileged:
        statement = statement.where(m.PlanningProcess.status != m.ProcessStatus.DRAFT)
    if filters.status is not None:
        statement = statement.where(m.PlanningProcess.status == filters.status)
    if filters.area_code is not None:
        (area_id,) = await resolve_area_codes(
            session, [filters.area_code], field="area", source="query"
        )
        # Overlapping scopes: the area itself, an area containing it, or an area within it.
        area_path = await session.scalar(sa.select(SocialArea.path).where(SocialArea.id == area_id))
        statement = statement.where(
            sa.exists()
            .where(
                m.process_areas.c.process_id == m.PlanningProcess.id,
                SocialArea.id == m.process_areas.c.area_id,
            )
            .where(
                sa.or_(
                    SocialArea.id.in_(area_path or [area_id]),
                    SocialArea.path.contains([area_id]),
                )
            )
        )
    if filters.phase is not None:
        statement = statement.where(
            sa.exists().where(
                m.ProcessPhase.process_id == m.PlanningProcess.id,
                m.ProcessPhase.is_active,
                m.ProcessPhase.phase == filters.phase,
            )
        )
    rows, next_cursor = await keyset_page(
        session, statement, [m.PlanningProcess.id], limit=limit, cursor=cursor
    )
    ids = [process.id for process in rows]
    areas = await _areas_of(session, ids)
    active = await _active_phases_of(session, ids)
    items = [
        s.ProcessSummary(**_summary_fields(process, active[process.id], areas[process.id]))
        for process in rows
    ]
    return Page(items=items, next_cursor=next_cursor)


async def summaries_for_residents(
    session: AsyncSession, process_ids: Sequence[UUID], language: str | None = None
) -> dict[UUID, translations.ResidentTexts]:
    """Title and topic of these processes in the reader's language (German where one has
    none)."""
    if not process_ids:
        return {}
    rows = await session.execute(
        sa.select(
            m.PlanningProcess.id,
            m.PlanningProcess.title,
            m.PlanningProcess.topic,
            m.PlanningProcess.translations,
        ).where(m.PlanningProcess.id.in_(process_ids))
    )
    return {
        row.id: translations.summary_for_residents(row.title, row.topic, row.translations, language)
        for row in rows
    }


def _new_phases(now: datetime) -> list[m.ProcessPhase]:
    return [
        m.ProcessPhase(
            phase=info.key,
            position=info.position,
            is_active=info.key is FIRST_PHASE,
            activated_at=now if info.key is FIRST_PHASE else None,
        )
        for info in PHASES
    ]


async def _set_areas(session: AsyncSession, process_id: UUID, area_ids: Sequence[UUID]) -> None:
    await session.execute(
        sa.delete(m.process_areas).where(m.process_areas.c.process_id == process_id)
    )
    if area_ids:
        await session.execute(
            sa.insert(m.process_areas),
            [{"process_id": process_id, "area_id": area_id} for area_id in area_ids],
        )


async def _start(
    session: AsyncSession, process: m.PlanningProcess, area_ids: Sequence[UUID], actor: Actor
) -> m.PlanningProcess:
    """Insert a new process with its seven phases, `guidelines` active, and record the start."""
    now = utcnow()
    process.phases = _new_phases(now)
    session.add(process)
    await session.flush()
    await _set_areas(session, process.id, area_ids)
    session.add(
        m.PhaseActivation(
            process_id=process.id,
            phase=FIRST_PHASE,
            previous_phase=None,
            activated_at=now,
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_name=actor.name,
        )
    )
    await session.flush()
    return process


async def create_process(session: AsyncSession, data: s.ProcessCreate, actor: Actor) -> UUID:
    area_ids = await resolve_area_codes(session, data.area_codes, field="area_codes")
    translated = translations.merged({}, texts=data.translations, mandate=data.mandate.translations)
    process = m.PlanningProcess(
        title=data.title,
        topic=data.topic,
        description=data.description,
        status=m.ProcessStatus.DRAFT,
        cycle=1,
        commissioned_by=data.mandate.commissioned_by,
        commissioned_to=data.mandate.commissioned_to,
        aim=data.mandate.aim,
        occasion=data.mandate.occasion,
        report_recipients=data.mandate.report_recipients,
        internal_notes=data.internal_notes,
        translations=translated,
    )
    await _start(session, process, area_ids, actor)
    return process.id


async def update_process(session: AsyncSession, process_id: UUID, data: s.ProcessUpdate) -> None:
    process = await _writable(session, process_id, lock=True)
    for name in ("title", "topic", "description", "internal_notes"):
        value = getattr(data, name)
        if value is not UNSET:
            setattr(process, name, value)
    mandate_translations: s.MandateTranslationsUpdate | UnsetType = UNSET
    if data.mandate is not UNSET:
        for name in translations.MANDATE_FIELDS:
            value = getattr(data.mandate, name)
            if value is not UNSET:
                setattr(process, name, value)
        mandate_translations = data.mandate.translations
    if data.translations is not UNSET or mandate_translations is not UNSET:
        process.translations = translations.merged(
            process.translations, texts=data.translations, mandate=mandate_translations
        )
    if data.area_codes is not UNSET:
        area_ids = await resolve_area_codes(session, data.area_codes, field="area_codes")
        await _set_areas(session, process_id, area_ids)
    process.updated_at = utcnow()
    await session.flush()


async def publish_process(session: AsyncSession, process_id: UUID) -> None:
    """draft → active: the process becomes visible to the public."""
    process = await _process(session, process_id, STAFF_VIEWER, lock=True)
    if process.status is not m.ProcessStatus.DRAFT:
        raise Conflict(f"Only a draft can be published; this process is {process.status.value}.")
    process.status = m.ProcessStatus.ACTIVE
    await session.flush()


async def archive_process(session: AsyncSession, process_id: UUID) -> None:
    """draft or active → archived: read-only from now on, no participation."""
    process = await _writable(session, process_id, lock=True)
    process.status = m.ProcessStatus.ARCHIVED
    await session.flush()


# -- phases ---------------------------------------------------------------------------------


async def list_phases(session: AsyncSession, process_id: UUID, viewer: Viewer) -> list[s.Phase]:
    await _process(session, process_id, viewer)
    phases = await session.scalars(
        sa.select(m.ProcessPhase)
        .where(m.ProcessPhase.process_id == process_id)
        .order_by(m.ProcessPhase.position)
    )
    return [phase_view(phase) for phase in phases]


async def update_phase(
    session: AsyncSession, process_id: UUID, key: PhaseKey, data: s.PhaseUpdate
) -> s.Phase:
    await _writable(session, process_id)
    phase = await session.scalar(
        sa.select(m.ProcessPhase).where(
            m.ProcessPhase.process_id == process_id, m.ProcessPhase.phase == key
        )
    )
    assert phase is not None, "every process has all seven phases"
    for name in s.PhaseUpdate.__struct_fields__:
        value = getattr(data, name)
        if value is not UNSET and name != "translations":
            setattr(phase, name, value)
    if data.translations is not UNSET:
        phase.translations = shared_translations.merged(
            phase.translations, data.translations, field_name="translations"
        )
    if phase.planned_start and phase.planned_end and phase.planned_end < phase.planned_start:
        raise InvalidInput(
            "The planned end lies before the planned start.",
            errors=[
                FieldError(
                    field="planned_end",
                    source="body",
                    message=f"must not be before planned_start ({phase.planned_start})",
                )
            ],
        )
    await session.flush()
    return phase_view(phase)


async def activate_phase(
    session: AsyncSession, process_id: UUID, key: PhaseKey, actor: Actor
) -> s.PhaseActivation:
    """Make `key` the active phase: lock the process, deactivate, activate, record."""
    await _writable(session, process_id, lock=True)
    previous = await _active_phase(session, process_id)
    if previous is key:
        raise Conflict(f"'{key.value}' is already the active phase of this process.")
    now = utcnow()
    # Two statements, in this order: the partial unique index allows one active row at a time.
    await session.execute(
        sa.update(m.ProcessPhase)
        .where(m.ProcessPhase.process_id == process_id, m.ProcessPhase.is_active)
        .values(is_active=False)
    )
    await session.execute(
        sa.update(m.ProcessPhase)
        .where(m.ProcessPhase.process_id == process_id, m.ProcessPhase.phase == key)
        .values(is_active=True, activated_at=now)
    )
    activation = m.PhaseActivation(
        process_id=process_id,
        phase=key,
        previous_phase=previous,
        activated_at=now,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
    )
    session.add(activation)
    await session.execute(
        sa.update(m.PlanningProcess)
        .where(m.PlanningProcess.id == process_id)
        .values(updated_at=now)
    )
    await session.flush()
    await webhooks.emit(
        session,
        "phase.activated",
        {"phase": key, "previous_phase": previous},
        process_id=process_id,
    )
    return activation_view(activation)


async def list_activations(
    session: AsyncSession, process_id: UUID, *, limit: int, cursor: str | None
) -> Page[s.PhaseActivation]:
    await _process(session, process_id, STAFF_VIEWER)
    rows, next_cursor = await keyset_page(
        session,
        sa.select(m.PhaseActivation).where(m.PhaseActivation.process_id == process_id),
        [m.PhaseActivation.id],
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[activation_view(row) for row in rows], next_cursor=next_cursor)


async def start_next_cycle(session: AsyncSession, process_id: UUID, actor: Actor) -> UUID:
    """From `social_reporting`, start the next cycle: a new draft process (cycle + 1) linked to
    this one, with its title, topic, description, areas and mandate, in `guidelines`."""
    previous = await _process(session, process_id, STAFF_VIEWER, lock=True)
    active = await _active_phase(session, process_id)
    if active is not LAST_PHASE:
        raise Conflict(
            f"The next cycle starts from '{LAST_PHASE.value}'; the active phase is "
            f"'{active.value}'.",
            slug="wrong-phase",
            title="Not possible in the active phase",
        )
    successor = await session.scalar(
        sa.select(m.PlanningProcess.id).where(m.PlanningProcess.previous_process_id == process_id)
    )
    if successor is not None:
        raise Conflict(f"The next cycle of this process was already started: {successor}.")
    area_ids = list(
        (
            await session.scalars(
                sa.select(m.process_areas.c.area_id).where(
                    m.process_areas.c.process_id == process_id
                )
            )
        ).all()
    )
    process = m.PlanningProcess(
        title=previous.title,
        topic=previous.topic,
        description=previous.description,
        status=m.ProcessStatus.DRAFT,
        cycle=previous.cycle + 1,
        previous_process_id=previous.id,
        commissioned_by=previous.commissioned_by,
        commissioned_to=previous.commissioned_to,
        aim=previous.aim,
        occasion=previous.occasion,
        report_recipients=previous.report_recipients,
        internal_notes="",
        translations=dict(previous.translations),
    )
    await _start(session, process, area_ids, actor)
    return process.id


# -- organisations --------------------------------------------------------------------------


async def _organisation(session: AsyncSession, organisation_id: UUID) -> m.Organisation:
    organisation = await session.get(m.Organisation, organisation_id)
    if organisation is None:
        raise NotFound(f"No organisation {organisation_id}.")
    return organisation


async def _name_taken(session: AsyncSession, name: str, other_than: UUID | None = None) -> bool:
    statement = sa.select(m.Organisation.id).where(
        sa.func.lower(m.Organisation.name) == name.lower()
    )
    if other_than is not None:
        statement = statement.where(m.Organisation.id != other_than)
    return (await session.scalar(statement)) is not None


def _name_conflict(name: str) -> Conflict:
    return Conflict(f"An organisation named '{name}' exists already.")


async def _flush_or_conflict(session: AsyncSession, conflict: Conflict) -> None:
    """Flush in a savepoint; a unique or foreign-key violation by a concurrent request becomes
    the given 409 instead of an error of the whole transaction."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise conflict from error


async def get_organisation(session: AsyncSession, organisation_id: UUID) -> s.Organisation:
    return organisation_view(await _organisation(session, organisation_id))


async def list_organisations(
    session: AsyncSession,
    *,
    type: m.OrganisationType | None,
    query: str | None,
    limit: int,
    cursor: str | None,
) -> Page[s.Organisation]:
    """Organisations by name."""
    statement = sa.select(m.Organisation)
    if type is not None:
        statement = statement.where(m.Organisation.type == type)
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            sa.or_(
                m.Organisation.name.ilike(pattern, escape="\\"),
                m.Organisation.short_name.ilike(pattern, escape="\\"),
            )
        )
    rows, next_cursor = await keyset_page(
        session, statement, [m.Organisation.name, m.Organisation.id], limit=limit, cursor=cursor
    )
    return Page(items=[organisation_view(row) for row in rows], next_cursor=next_cursor)


async def create_organisation(session: AsyncSession, data: s.OrganisationCreate) -> s.Organisation:
    if await _name_taken(session, data.name):
        raise _name_conflict(data.name)
    organisation = m.Organisation(
        name=data.name,
        short_name=data.short_name,
        type=data.type,
        description=data.description,
        website=data.website,
    )
    session.add(organisation)
    await _flush_or_conflict(session, _name_conflict(data.name))
    return organisation_view(organisation)


async def update_organisation(
    session: AsyncSession, organisation_id: UUID, data: s.OrganisationUpdate
) -> s.Organisation:
    organisation = await _organisation(session, organisation_id)
    if data.name is not UNSET and await _name_taken(session, data.name, organisation_id):
        raise _name_conflict(data.name)
    for name in s.OrganisationUpdate.__struct_fields__:
        value = getattr(data, name)
        if value is not UNSET:
            setattr(organisation, name, value)
    organisation.updated_at = utcnow()
    await _flush_or_conflict(session, _name_conflict(organisation.name))
    return organisation_view(organisation)


async def delete_organisation(session: AsyncSession, organisation_id: UUID) -> None:
    organisation = await _organisation(session, organisation_id)
    in_use = await session.scalar(
        sa.select(
            sa.exists().where(m.ProcessRole.organisation_id == organisation_id)
            | sa.exists().where(m.Contribution.organisation_id == organisation_id)
        )
    )
    conflict = Conflict(
        "The organisation has roles or contributions in planning processes; remove those first."
    )
    if in_use:
        raise conflict
    await session.delete(organisation)
    await _flush_or_conflict(session, conflict)


async def _known_organisation(session: AsyncSession, organisation_id: UUID, field: str) -> None:
    organisation = await session.get(m.Organisation, organisation_id)
    if organisation is None:
        raise InvalidInput(
            f"No organisation {organisation_id}.",
            errors=[FieldError(field=field, source="body", message="unknown organisation")],
        )
    if not organisation.is_active:
        raise InvalidInput(
            f"The organisation {organisation_id} is deactivated; it gets no new roles.",
            errors=[FieldError(field=field, source="body", message="deactivated organisation")],
        )


# -- roles ----------------------------------------------------------------------------------


def _role_view(role: m.ProcessRole, organisation: m.Organisation) -> s.ProcessRole:
    return s.ProcessRole(
        id=role.id,
        process_id=role.process_id,
        organisation=organisation_ref(organisation),
        phase=role.phase,
        role=role.role,
    )


async def list_roles(
    session: AsyncSession,
    process_id: UUID,
    viewer: Viewer,
    *,
    phase: PhaseKey | None,
    organisation_id: UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[s.ProcessRole]:
    await _process(session, process_id, viewer)
    statement = sa.select(m.ProcessRole).where(m.ProcessRole.process_id == process_id)
    if phase is not None:
        statement = statement.where(m.ProcessRole.phase == phase)
    if organisation_id is not None:
        statement = statement.where(m.ProcessRole.organisation_id == organisation_id)
    rows, next_cursor = await keyset_page(
        session, statement, [m.ProcessRole.id], limit=limit, cursor=cursor
    )
    organisations = await _organisations_by_id(session, {row.organisation_id for row in rows})
    items = [_role_view(row, organisations[row.organisation_id]) for row in rows]
    return Page(items=items, next_cursor=next_cursor)


async def _organisations_by_id(session: AsyncSession, ids: set[UUID]) -> dict[UUID, m.Organisation]:
    if not ids:
        return {}
    rows = await session.scalars(sa.select(m.Organisation).where(m.Organisation.id.in_(ids)))
    return {row.id: row for row in rows}


async def get_role(
    session: AsyncSession, process_id: UUID, role_id: UUID, viewer: Viewer
) -> s.ProcessRole:
    await _process(session, process_id, viewer)
    row = (
        await session.execute(
            sa.select(m.ProcessRole, m.Organisation)
            .join(m.Organisation, m.Organisation.id == m.ProcessRole.organisation_id)
            .where(m.ProcessRole.id == role_id, m.ProcessRole.process_id == process_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"No role {role_id} in this planning process.")
    return _role_view(row[0], row[1])


async def add_role(
    session: AsyncSession, process_id: UUID, data: s.ProcessRoleCreate
) -> s.ProcessRole:
    await _writable(session, process_id)
    await _known_organisation(session, data.organisation_id, "organisation_id")
    role_id = await session.scalar(
        pg_insert(m.ProcessRole)
        .values(
            process_id=process_id,
            organisation_id=data.organisation_id,
            phase=data.phase,
            role=data.role,
        )
        .on_conflict_do_nothing(constraint="uq_process_roles_assignment")
        .returning(m.ProcessRole.id)
    )
    if role_id is None:
        raise Conflict(
            f"The organisation already has the role '{data.role.value}' in phase "
            f"'{data.phase.value}' of this process."
        )
    return await get_role(session, process_id, role_id, STAFF_VIEWER)


async def remove_role(session: AsyncSession, process_id: UUID, role_id: UUID) -> None:
    await _writable(session, process_id)
    deleted = await session.scalar(
        sa.delete(m.ProcessRole)
        .where(m.ProcessRole.id == role_id, m.ProcessRole.process_id == process_id)
        .returning(m.ProcessRole.id)
    )
    if deleted is None:
        raise NotFound(f"No role {role_id} in this planning process.")


# -- contributions --------------------------------------------------------------------------


def _contribution_view(row: m.Contribution, organisation: m.Organisation) -> s.Contribution:
    return s.Contribution(
        id=row.id,
        process_id=row.process_id,
        organisation=organisation_ref(organisation),
        phase=row.phase,
        text=row.text,
        updated_at=row.updated_at,
    )


async def set_contribution(
    session: AsyncSession,
    process_id: UUID,
    organisation_id: UUID,
    phase: PhaseKey,
    text: str,
) -> tuple[s.Contribution, bool]:
    """Set what an organisation contributes to a phase; returns the cell and whether it is
    new."""
    await _writable(session, process_id)
    organisation = await _organisation(session, organisation_id)
    now = utcnow()
    row = (
        await session.execute(
            pg_insert(m.Contribution)
            .values(process_id=process_id, organisation_id=organisation_id, phase=phase, text=text)
            .on_conflict_do_update(
                constraint="uq_process_contributions_cell",
                set_={"text": text, "updated_at": now},
            )
            .returning(
                m.Contribution.id, sa.literal_column("xmax = 0", sa.Boolean).label("inserted")
            )
        )
    ).one()
    contribution = await session.scalar(
        sa.select(m.Contribution)
        .where(m.Contribution.id == row.id)
        .execution_options(populate_existing=True)
    )
    assert contribution is not None
    return _contribution_view(contribution, organisation), bool(row.inserted)


async def remove_contribution(
    session: AsyncSession, process_id: UUID, organisation_id: UUID, phase: PhaseKey
) -> None:
    await _writable(session, process_id)
    deleted = await session.scalar(
        sa.delete(m.Contribution)
        .where(
            m.Contribution.process_id == process_id,
            m.Contribution.organisation_id == organisation_id,
            m.Contribution.phase == phase,
        )
        .returning(m.Contribution.id)
    )
    if deleted is None:
        raise NotFound("This organisation has no contribution to this phase.")


async def list_contributions(
    session: AsyncSession,
    process_id: UUID,
    viewer: Viewer,
    *,
    phase: PhaseKey | None,
    organisation_id: UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[s.Contribution]:
    await _process(session, process_id, viewer)
    statement = sa.select(m.Contribution).where(m.Contribution.process_id == process_id)
    if phase is not None:
        statement = statement.where(m.Contribution.phase == phase)
    if organisation_id is not None:
        statement = statement.where(m.Contribution.organisation_id == organisation_id)
    rows, next_cursor = await keyset_page(
        session, statement, [m.Contribution.id], limit=limit, cursor=cursor
    )
    organisations = await _organisations_by_id(session, {row.organisation_id for row in rows})
    items = [_contribution_view(row, organisations[row.organisation_id]) for row in rows]
    return Page(items=items, next_cursor=next_cursor)


async def contributions_matrix(
    session: AsyncSession, process_id: UUID, viewer: Viewer
) -> s.ContributionsMatrix:
    """Organisations × phases: one row per organisation with a role or a contribution in the
    process, one cell per phase. Cells are aggregated in SQL; only the pivot happens here."""
    await _process(session, process_id, viewer)
    cells = sa.union_all(
        sa.select(
            m.Contribution.organisation_id,
            m.Contribution.phase,
            m.Contribution.text,
            sa.null().label("role"),
        ).where(m.Contribution.process_id == process_id),
        sa.select(
            m.ProcessRole.organisation_id,
            m.ProcessRole.phase,
            sa.null().label("text"),
            m.ProcessRole.role,
        ).where(m.ProcessRole.process_id == process_id),
    ).subquery("cells")
    rows = await session.execute(
        sa.select(
            m.Organisation,
            cells.c.phase,
            sa.func.max(cells.c.text).label("contribution"),
            sa.func.array_agg(sa.distinct(cells.c.role))
            .filter(cells.c.role.is_not(None))
            .label("roles"),
        )
        .join(cells, cells.c.organisation_id == m.Organisation.id)
        .group_by(m.Organisation.id, cells.c.phase)
        .order_by(m.Organisation.name, m.Organisation.id)
    )
    role_order = {role: index for index, role in enumerate(m.RoleKind)}
    table: dict[UUID, tuple[m.Organisation, dict[PhaseKey, s.MatrixCell]]] = {}
    for organisation, phase, contribution, roles in rows:
        key = PhaseKey(phase)
        entry = table.setdefault(organisation.id, (organisation, {}))
        entry[1][key] = s.MatrixCell(
            phase=key,
            contribution=contribution,
            roles=sorted((m.RoleKind(r) for r in roles or []), key=role_order.__getitem__),
        )
    return s.ContributionsMatrix(
        process_id=process_id,
        phases=[s.MatrixPhase(key=info.key, name=info.localized_name()) for info in PHASES],
        rows=[
            s.MatrixRow(
                organisation=organisation_ref(organisation),
                cells=[
                    by_phase.get(key) or s.MatrixCell(phase=key, contribution=None, roles=[])
                    for key in PHASE_ORDER
                ],
            )
            for organisation, by_phase in table.values()
        ],
    )


# -- participation --------------------------------------------------------------------------


def module_info(module: participation.ParticipationModule) -> s.ParticipationModuleInfo:
    return s.ParticipationModuleInfo(
        key=module.key,
        name=gettext(module.name),
        default_phases=[phase for phase in PHASE_ORDER if phase in module.default_phases],
        actions=list(module.actions),
    )


async def participation_status(
    session: AsyncSession, process_id: UUID, viewer: Viewer
) -> s.ParticipationStatus:
    await _process(session, process_id, viewer)
    state = await participation.load(session, process_id)
    assert state is not None
    return s.ParticipationStatus(
        process_id=process_id,
        status=state.status,
        active_phase=state.active_phase,
        open_now=[module.key for module in state.open_now()],
        modules=[
            s.ModuleStatus(
                module=module.key,
                name=gettext(module.name),
                open_now=state.is_open_now(module),
                default_phases=module_info(module).default_phases,
                open_phases=state.open_phases(module),
                overrides=[
                    s.ParticipationOverride(module=module.key, phase=phase, is_open=value)
                    for phase in PHASE_ORDER
                    if (value := state.overrides.get((module.key, phase))) is not None
                ],
            )
            for module in participation.modules()
        ],
    )


async def set_participation_override(
    session: AsyncSession, process_id: UUID, module: str, phase: PhaseKey, is_open: bool
) -> s.ParticipationOverride:
    participation.get_module(module)
    await _writable(session, process_id)
    await session.execute(
        pg_insert(m.ParticipationOverride)
        .values(process_id=process_id, module=module, phase=phase, is_open=is_open)
        .on_conflict_do_update(
            constraint="uq_participation_overrides_cell",
            set_={"is_open": is_open, "updated_at": utcnow()},
        )
    )
    await _touch(session, process_id)
    return s.ParticipationOverride(module=module, phase=phase, is_open=is_open)


async def remove_participation_override(
    session: AsyncSession, process_id: UUID, module: str, phase: PhaseKey
) -> None:
    participation.get_module(module)
    await _writable(session, process_id)
    deleted = await session.scalar(
        sa.delete(m.ParticipationOverride)
        .where(
            m.ParticipationOverride.process_id == process_id,
            m.ParticipationOverride.module == module,
            m.ParticipationOverride.phase == phase,
        )
        .returning(m.ParticipationOverride.id)
    )
    if deleted is None:
        raise NotFound(f"No override for '{module}' in phase '{phase.value}'.")
    await _touch(session, process_id)


async def _touch(session: AsyncSession, process_id: UUID) -> None:
    """Mark the process as changed now: what is open in it may have changed (the retention
    purge dates the end of a module's participation by it, surveys.retention)."""
    await session.execute(
        sa.update(m.PlanningProcess)
        .where(m.PlanningProcess.id == process_id)
        .values(updated_at=utcnow())
    )
