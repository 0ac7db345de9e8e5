"""The registry of participation modules and the phase-aware rules of when they are open.

Each participation module (surveys, ideas, feedback on measures — their features live in their
own packages) registers a :class:`ParticipationModule` here: which phases of the planning cycle
open it by default and which actions it offers. A process may override the default per phase
and module (table `participation_overrides`). A module is open for a process when the process
is active (published, not archived) and the module is open in the process's active phase.

Participation endpoints protect themselves with :func:`require_open` (a Litestar dependency)
or call :func:`ensure_open`; both refuse with ``PhaseClosed`` (409 problem+json) naming the
module and the active phase.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

import msgspec
import sqlalchemy as sa
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.errors import NotFound, PhaseClosed
from quartier.processes import models as m
from quartier.processes.phases import N_, PHASE_ORDER, PhaseKey


@dataclass(frozen=True, slots=True)
class ParticipationModule:
    key: str
    name: str  # English msgid
    call_to_action: str  # English msgid, shown to residents while the module is open
    default_phases: frozenset[PhaseKey]
    actions: tuple[str, ...]

    def opens_by_default(self, phase: PhaseKey) -> bool:
        return phase in self.default_phases


_REGISTRY: dict[str, ParticipationModule] = {}


def register(module: ParticipationModule) -> ParticipationModule:
    """Add a module to the registry (once per key)."""
    if module.key in _REGISTRY and _REGISTRY[module.key] != module:
        raise ValueError(f"participation module {module.key!r} is already registered")
    _REGISTRY[module.key] = module
    return module


def modules() -> tuple[ParticipationModule, ...]:
    """All registered modules, in registration order."""
    return tuple(_REGISTRY.values())


def get_module(key: str) -> ParticipationModule:
    try:
        return _REGISTRY[key]
    except KeyError:
        known = ", ".join(_REGISTRY)
        raise NotFound(f"No participation module '{key}'; known modules: {known}.") from None


# DESIGN.md §1: needs assessment opens surveys and ideas, measure planning ideas and feedback on
# draft measures, evaluation surveys and feedback.
SURVEYS = register(
    ParticipationModule(
        key="surveys",
        name=N_("Surveys"),
        call_to_action=N_("Take part in the survey"),
        default_phases=frozenset({PhaseKey.NEEDS_ASSESSMENT, PhaseKey.EVALUATION}),
        actions=("respond",),
    )
)
IDEAS = register(
    ParticipationModule(
        key="ideas",
        name=N_("Ideas"),
        call_to_action=N_("Share an idea for your neighbourhood"),
        default_phases=frozenset({PhaseKey.NEEDS_ASSESSMENT, PhaseKey.MEASURE_PLANNING}),
        actions=("submit", "support", "comment"),
    )
)
MEASURE_FEEDBACK = register(
    ParticipationModule(
        key="measure_feedback",
        name=N_("Feedback on measures"),
        call_to_action=N_("Give feedback on the planned measures"),
        default_phases=frozenset({PhaseKey.MEASURE_PLANNING, PhaseKey.EVALUATION}),
        actions=("give_feedback",),
    )
)


@dataclass(frozen=True, slots=True)
class ProcessParticipation:
    """Everything needed to decide what is open in one process."""

    process_id: UUID
    status: m.ProcessStatus
    active_phase: PhaseKey
    overrides: dict[tuple[str, PhaseKey], bool]

    def is_open_in(self, module: ParticipationModule, phase: PhaseKey) -> bool:
        override = self.overrides.get((module.key, phase))
        return module.opens_by_default(phase) if override is None else override

    def open_phases(self, module: ParticipationModule) -> list[PhaseKey]:
        return [phase for phase in PHASE_ORDER if self.is_open_in(module, phase)]

    def is_open_now(self, module: ParticipationModule) -> bool:
        return self.status is m.ProcessStatus.ACTIVE and self.is_open_in(module, self.active_phase)

    def open_now(self) -> list[ParticipationModule]:
        return [module for module in modules() if self.is_open_now(module)]

    def next_opening(self) -> tuple[PhaseKey, list[ParticipationModule]] | None:
        """The next phase after the active one (going round the cycle) that opens anything."""
        start = PHASE_ORDER.index(self.active_phase)
        for step in range(1, len(PHASE_ORDER)):
            phase = PHASE_ORDER[(start + step) % len(PHASE_ORDER)]
            opening = [module for module in modules() if self.is_open_in(module, phase)]
            if opening:
                return phase, opening
        return None


async def load(session: AsyncSession, process_id: UUID) -> ProcessParticipation | None:
    """The participation state of a process (None if there is no such process)."""
    row = (
        await session.execute(
            sa.select(m.PlanningProcess.status, m.ProcessPhase.phase)
            .join(
                m.ProcessPhase,
                sa.and_(
                    m.ProcessPhase.process_id == m.PlanningProcess.id, m.ProcessPhase.is_active
                ),
            )
            .where(m.PlanningProcess.id == process_id)
        )
    ).one_or_none()
    if row is None:
        return None
    overrides = (
        await session.execute(
            sa.select(
                m.ParticipationOverride.module,
                m.ParticipationOverride.phase,
                m.ParticipationOverride.is_open,
            ).where(m.ParticipationOverride.process_id == process_id)
        )
    ).all()
    return ProcessParticipation(
        process_id=process_id,
        status=row.status,
        active_phase=row.phase,
        overrides={(o.module, o.phase): o.is_open for o in overrides},
    )


async def is_open(session: AsyncSession, process_id: UUID, module: str) -> bool:
    """Whether residents may use `module` in the process right now (one query)."""
    definition = get_module(module)
    defaults = [phase.value for phase in definition.default_phases]
    override = (
        sa.select(m.ParticipationOverride.is_open)
        .where(
            m.ParticipationOverride.process_id == m.PlanningProcess.id,
            m.ParticipationOverride.module == module,
            m.ParticipationOverride.phase == m.ProcessPhase.phase,
        )
        .scalar_subquery()
    )
    by_default = sa.cast(m.ProcessPhase.phase, sa.String).in_(defaults)
    statement = (
        sa.select(
            sa.and_(
                m.PlanningProcess.status == m.ProcessStatus.ACTIVE,
                sa.func.coalesce(override, by_default),
            )
        )
        .join(
            m.ProcessPhase,
            sa.and_(m.ProcessPhase.process_id == m.PlanningProcess.id, m.ProcessPhase.is_active),
        )
        .where(m.PlanningProcess.id == process_id)
    )
    return bool(await session.scalar(statement))


class OpenParticipation(msgspec.Struct, frozen=True, kw_only=True):
    """What a participation endpoint learns from the guard: where the resident takes part."""

    process_id: UUID
    module: str
    phase: PhaseKey


async def ensure_open(session: AsyncSession, process_id: UUID, module: str) -> OpenParticipation:
    """Refuse participation outside an open phase: 404 for unknown or unpublished processes,
    409 ``phase-closed`` naming the module and the active phase otherwise."""
    definition = get_module(module)
    state = await load(session, process_id)
    if state is None or state.status is m.ProcessStatus.DRAFT:
        raise NotFound("No such planning process.")
    if state.status is m.ProcessStatus.ARCHIVED:
        raise PhaseClosed(
            f"Participation in '{definition.key}' is closed: the planning process is archived "
            f"(its last active phase was '{state.active_phase.value}')."
        )
    if not state.is_open_in(definition, state.active_phase):
        open_phases = ", ".join(p.value for p in state.open_phases(definition)) or "none"
        raise PhaseClosed(
            f"Participation in '{definition.key}' is not open in the active phase "
            f"'{state.active_phase.value}' of this planning process (open in: {open_phases})."
        )
    return OpenParticipation(process_id=process_id, module=module, phase=state.active_phase)


def require_open(module: str) -> Provide:
    """A dependency for participation endpoints with a `process_id` path parameter::

    @post("/processes/{process_id:uuid}/ideas",
          dependencies={"participation": require_open("ideas")}, ...)
    async def submit_idea(participation: OpenParticipation, ...) -> ...
    """
    get_module(module)  # fail at start-up for a module that is not registered

    async def provide(db_session: AsyncSession, process_id: UUID) -> OpenParticipation:
        return await ensure_open(db_session, process_id, module)

    dependency: Callable[[AsyncSession, UUID], Awaitable[OpenParticipation]] = provide
    return Provide(dependency)
