"""What goals, measures and feedback share: who is asking, loading a process, resolving and
showing need categories, social areas and organisations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import SocialArea
from quartier.core import i18n
from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound
from quartier.core.security import Principal, Role
from quartier.measures import schemas as s
from quartier.processes import models as pm
from quartier.surveys.models import NeedCategory

READ_SCOPES = frozenset({"measures:read", "measures:write"})


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Draft measures, draft processes and unpublished summaries are for staff and tokens that
    read measures."""

    privileged: bool = False

    @classmethod
    def of(cls, principal: Principal | None) -> Viewer:
        if principal is None:
            return PUBLIC
        if principal.kind == "staff":
            return cls(privileged=principal.role in set(Role))
        return cls(privileged=bool(principal.scopes & READ_SCOPES))


PUBLIC = Viewer()
STAFF_VIEWER = Viewer(privileged=True)


async def process(
    session: AsyncSession, process_id: UUID, viewer: Viewer, *, writable: bool = False
) -> pm.PlanningProcess:
    found = await session.scalar(
        sa.select(pm.PlanningProcess).where(pm.PlanningProcess.id == process_id)
    )
    if found is None or (found.status is pm.ProcessStatus.DRAFT and not viewer.privileged):
        raise NotFound(f"No planning process {process_id}.")
    if writable and found.status is pm.ProcessStatus.ARCHIVED:
        raise Conflict("The planning process is archived; archived processes are read-only.")
    return found


async def active_phase(session: AsyncSession, process_id: UUID) -> str:
    phase = await session.scalar(
        sa.select(pm.ProcessPhase.phase).where(
            pm.ProcessPhase.process_id == process_id, pm.ProcessPhase.is_active
        )
    )
    assert phase is not None, "the database keeps one active phase per process"
    return str(phase.value)


async def need_category_ids(session: AsyncSession, keys: Sequence[str], field: str) -> list[UUID]:
    unique = list(dict.fromkeys(keys))
    if not unique:
        return []
    rows = await session.execute(
        sa.select(NeedCategory.key, NeedCategory.id).where(NeedCategory.key.in_(unique))
    )
    found = {row.key: row.id for row in rows}
    missing = [key for key in unique if key not in found]
    if missing:
        raise InvalidInput(
            "Unknown need categories: " + ", ".join(missing) + ".",
            errors=[
                FieldError(
                    field=f"{field}[{keys.index(key)}]",
                    source="body",
                    message=f"unknown need category '{key}'",
                )
                for key in missing
            ],
        )
    return [found[key] for key in unique]


async def categories_by_id(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, s.CategoryRef]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(NeedCategory.id, NeedCategory.key, NeedCategory.label).where(
            NeedCategory.id.in_(wanted)
        )
    )
    return {row.id: s.CategoryRef(key=row.key, label=i18n.pick(row.label)) for row in rows}


async def areas_by_id(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, s.AreaRef]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(SocialArea.id, SocialArea.code, SocialArea.name).where(SocialArea.id.in_(wanted))
    )
    return {row.id: s.AreaRef(id=row.id, code=row.code, name=row.name) for row in rows}


async def organisations_by_id(
    session: AsyncSession, ids: Iterable[UUID]
) -> dict[UUID, s.OrganisationRef]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(pm.Organisation.id, pm.Organisation.name).where(pm.Organisation.id.in_(wanted))
    )
    return {row.id: s.OrganisationRef(id=row.id, name=row.name) for row in rows}


async def known_organisation(session: AsyncSession, organisation_id: UUID, field: str) -> None:
    if await session.get(pm.Organisation, organisation_id) is None:
        raise InvalidInput(
            f"No organisation {organisation_id}.",
            errors=[FieldError(field=field, source="body", message="unknown organisation")],
        )
