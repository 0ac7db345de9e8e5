"""The registry of participation modules and the phase-aware rules of when they are open.

Each participation module (surveys, ideas, feedback on measures — their features live in their
own packages) registers a :class:`ParticipationModule` here: which phases of the planning cycle
open it by default and which actions it offers. A process may override the default per phase
and module (table `participation_overrides`). A module is open for a process when the process
is active (published, not archived) and the module is open in the process's active phase.

Modules contribute their own **sections** (a call to action, counts, links) to the process page,
the home page and the dashboard through :func:`provide_sections`; the pages of `processes/` ask
:func:`sections` and never import a module. A module with nothing to offer returns no section,
so no empty card is shown.

Participation endpoints protect themselves with :func:`require_open` (a Litestar dependency)
or call :func:`ensure_open`; both refuse with ``PhaseClosed`` (409 problem+json) naming the
module and the active phase.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

import msgspec
import sqlalchemy as sa
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.errors import NotFound, PhaseClosed
from quartier.core.security import Principal
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


# -- sections modules contribute to the pages of processes ---------------------------------------


class Place(enum.StrEnum):
    PROCESS = "process"  # the page of one process
    HOME = "home"  # the public start page, one card per active process
    DASHBOARD = "dashboard"  # the staff dashboard


class Audience(enum.StrEnum):
    RESIDENTS = "residents"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class SectionLink:
    label: str  # translated
    href: str


@dataclass(frozen=True, slots=True)
class SectionCount:
    label: str  # translated
    value: int


@dataclass(frozen=True, slots=True)
class Section:
    """What one module shows in one place: for one process (`process_id`) or, on the dashboard,
    for all (None). Texts are translated by the module. A section with a `phase` is shown with
    that phase of the cycle on the process page (e.g. the previous cycle's report with the
    guidelines), whether or not participation is open."""

    module: str
    title: str
    process_id: UUID | None = None
    audience: Audience = Audience.RESIDENTS
    text: str | None = None
    counts: tuple[SectionCount, ...] = ()
    links: tuple[SectionLink, ...] = ()
    items: tuple[str, ...] = ()  # a plain list (translated or staff-written texts)
    phase: PhaseKey | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.text or self.counts or self.links or self.items)


@dataclass(frozen=True, slots=True)
class SectionRequest:
    """Where sections are asked for: the place, the processes shown there (those the viewer may
    see), the viewer, and which modules are open in each process right now."""

    place: Place
    principal: Principal | None
    process_ids: tuple[UUID, ...] = ()
    open_modules: dict[UUID, frozenset[str]] = field(default_factory=dict)

    @property
    def is_staff(self) -> bool:
        return self.principal is not None and self.principal.kind == "staff"

    def is_open(self, process_id: UUID, module: str) -> bool:
        return module in self.open_modules.get(process_id, frozenset())


SectionProvider = Callable[[AsyncSession, SectionRequest], Awaitable[Sequence[Section]]]
_PROVIDERS: dict[str, SectionProvider] = {}


_CONTRIBUTORS: dict[str, SectionProvider] = {}


def provide_sections(module: str, provider: SectionProvider) -> None:
    """Register the section provider of a registered module (again: replaced)."""
    get_module(module)
    _PROVIDERS[module] = provider


def contribute_sections(key: str, provider: SectionProvider) -> None:
    """Register the section provider of a module that residents do not take part in (the
    social report): its sections follow the participation modules' (again: replaced)."""
    if key in _REGISTRY:
        raise ValueError(f"{key!r} is a participation module: use provide_sections")
    _CONTRIBUTORS[key] = provider


async def sections(session: AsyncSession, request: SectionRequest) -> list[Section]:
    """The non-empty sections every module contributes, in module registration order, then
    those of the other contributors."""
    providers = [_PROVIDERS.get(module.key) for module in modules()]
    found: list[Section] = []
    for provider in [*providers, *_CONTRIBUTORS.values()]:
        if provider is None:
            continue
        found.extend(
            section for section in await provider(session, request) if not section.is_empty
        )
    return found


async def open_modules(
    session: AsyncSession, process_ids: Sequence[UUID]
) -> dict[UUID, frozenset[str]]:
    """Which modules are open right now in each of the processes (two queries)."""
    if not process_ids:
        return {}
    rows = (
        await session.execute(
            sa.select(m.PlanningProcess.id, m.PlanningProcess.status, m.ProcessPhase.phase)
            .join(
                m.ProcessPhase,
                sa.and_(
                    m.ProcessPhase.process_id == m.PlanningProcess.id, m.ProcessPhase.is_active
                ),
            )
            .where(m.PlanningProcess.id.in_(process_ids))
        )
    ).all()
    overrides = (
        await session.execute(
            sa.select(
                m.ParticipationOverride.process_id,
                m.ParticipationOverride.module,
                m.ParticipationOverride.phase,
                m.ParticipationOverride.is_open,
            ).where(m.ParticipationOverride.process_id.in_(process_ids))
        )
    ).all()
    by_process: dict[UUID, dict[tuple[str, PhaseKey], bool]] = {}
    for o in overrides:
        by_process.setdefault(o.process_id, {})[(o.module, o.phase)] = o.is_open
    result: dict[UUID, frozenset[str]] = {}
    for row in rows:
        state = ProcessParticipation(
            process_id=row.id,
            status=row.status,
            active_phase=row.phase,
            overrides=by_process.get(row.id, {}),
        )
        result[row.id] = frozenset(module.key for module in state.open_now())
    return result
