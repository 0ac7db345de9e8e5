"""The "open in this phase" guard as one prebuilt SQL expression.

`processes.participation` owns the rule (a module is open when the process is active and the
override of the active phase, else the module's default phases, opens it) and its precise
refusals (`ensure_open`: 404, 409 `phase-closed`). Submission paths that want the check inside
the statement that also reads other things use :func:`open_now`, which states the same rule in
SQL; tests/participation checks that both agree for every phase and override.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, String, Uuid, and_, any_, bindparam, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.errors import PhaseClosed
from quartier.processes import participation
from quartier.processes.models import (
    ParticipationOverride,
    PlanningProcess,
    ProcessPhase,
    ProcessStatus,
)


def open_now(module_key: str) -> Any:
    """A scalar subquery: whether `module_key` is open in the process `:process_id` (NULL for
    an unknown process)."""
    module = participation.get_module(module_key)
    override = (
        select(ParticipationOverride.is_open)
        .where(
            ParticipationOverride.process_id == PlanningProcess.id,
            ParticipationOverride.module == module.key,
            ParticipationOverride.phase == ProcessPhase.phase,
        )
        .scalar_subquery()
    )
    by_default = cast(ProcessPhase.phase, String) == any_(
        literal(sorted(phase.value for phase in module.default_phases), ARRAY(String))
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


async def refuse_if_closed(session: AsyncSession, process_id: UUID, module_key: str) -> None:
    """Raise the precise problem (404 for unknown or draft processes, 409 `phase-closed`) when
    `module_key` is not open in the process; return quietly when it is."""
    if not await participation.is_open(session, process_id, module_key):
        await participation.ensure_open(session, process_id, module_key)
        raise PhaseClosed(f"Participation in '{module_key}' is not open in this process.")
