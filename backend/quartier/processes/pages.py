"""HTML pages of planning processes: the public home page listing current processes, the page
of one process (the planning cycle as a picture, mandate, organisations and their roles, the
contributions matrix, and what residents can do now), and the staff dashboard.

Pages call the same services as the API; this module adds only presentation, e.g. the geometry
of the cycle diagram, which is computed here so that the SVG is rendered on the server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request, get
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.pagination import DEFAULT_LIMIT, Cursor
from quartier.core.security import STAFF, access, principal_of
from quartier.processes import participation, services, staff_pages, translations
from quartier.processes.models import ProcessStatus, RoleKind
from quartier.processes.phases import N_, PHASE_INFO, PHASES, PhaseInfo, PhaseKey

AnyRequest = Request[Any, Any, Any]

# English msgids of the labels pages show for roles and statuses.
ROLE_NAMES: dict[RoleKind, str] = {
    RoleKind.COMMISSIONING: N_("Commissioning"),
    RoleKind.PLANNING: N_("Planning"),
    RoleKind.PARTICIPATING: N_("Participating"),
    RoleKind.PROVIDING: N_("Providing services"),
    RoleKind.EVALUATING: N_("Evaluating"),
    RoleKind.RECEIVING_REPORTS: N_("Receiving reports"),
}
STATUS_NAMES: dict[ProcessStatus, str] = {
    ProcessStatus.DRAFT: N_("Draft"),
    ProcessStatus.ACTIVE: N_("Active"),
    ProcessStatus.ARCHIVED: N_("Archived"),
}


def _context(**values: Any) -> dict[str, Any]:
    return {
        "phase_info": PHASE_INFO,
        "role_names": ROLE_NAMES,
        "status_names": STATUS_NAMES,
        **values,
    }


# Geometry of the cycle diagram (SVG user units; the stylesheet scales the picture). The pills
# hold the longest label, "7. التقرير الاجتماعي" in bold (the active phase), ~143 units at 14;
# the radius leaves room for the arrow between the two pills at the bottom.
WIDTH, HEIGHT = 590, 465
CENTRE_X, CENTRE_Y = 295.0, 242.0
RADIUS = 215.0
PILL_WIDTH, PILL_HEIGHT = 150.0, 40.0
ARROW_GAP = 6.0


@dataclass(frozen=True, slots=True)
class CycleNode:
    info: PhaseInfo
    x: float
    y: float
    state: str  # "active", "done" (earlier in this cycle) or "upcoming"

    @property
    def left(self) -> float:
        return self.x - PILL_WIDTH / 2

    @property
    def top(self) -> float:
        return self.y - PILL_HEIGHT / 2


@dataclass(frozen=True, slots=True)
class CycleArrow:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True, slots=True)
class CycleDiagram:
    width: int
    height: int
    centre_x: float
    centre_y: float
    nodes: list[CycleNode]
    arrows: list[CycleArrow]
    active: CycleNode
    pill_width: float
    pill_height: float


def _exit_fraction(dx: float, dy: float) -> float:
    """How far along the centre-to-centre vector (dx, dy) the line leaves a pill."""
    candidates = []
    if dx:
        candidates.append((PILL_WIDTH / 2) / abs(dx))
    if dy:
        candidates.append((PILL_HEIGHT / 2) / abs(dy))
    return min(candidates)


def cycle_diagram(active: PhaseKey) -> CycleDiagram:
    """The seven phases clockwise from the top, arrows from each to the next (the last back to
    the first), the active phase marked."""
    active_position = PHASE_INFO[active].position
    nodes: list[CycleNode] = []
    for index, info in enumerate(PHASES):
        angle = -math.pi / 2 + 2 * math.pi * index / len(PHASES)
        if info.position == active_position:
            state = "active"
        elif info.position < active_position:
            state = "done"
        else:
            state = "upcoming"
        nodes.append(
            CycleNode(
                info=info,
                x=round(CENTRE_X + RADIUS * math.cos(angle), 1),
                y=round(CENTRE_Y + RADIUS * math.sin(angle), 1),
                state=state,
            )
        )
    arrows: list[CycleArrow] = []
    for index, start in enumerate(nodes):
        end = nodes[(index + 1) % len(nodes)]
        dx, dy = end.x - start.x, end.y - start.y
        length = math.hypot(dx, dy)
        leave = _exit_fraction(dx, dy) + ARROW_GAP / length
        arrive = 1 - _exit_fraction(dx, dy) - ARROW_GAP / length
        arrows.append(
            CycleArrow(
                x1=round(start.x + dx * leave, 1),
                y1=round(start.y + dy * leave, 1),
                x2=round(start.x + dx * arrive, 1),
                y2=round(start.y + dy * arrive, 1),
            )
        )
    return CycleDiagram(
        width=WIDTH,
        height=HEIGHT,
        centre_x=CENTRE_X,
        centre_y=CENTRE_Y,
        nodes=nodes,
        arrows=arrows,
        active=next(node for node in nodes if node.state == "active"),
        pill_width=PILL_WIDTH,
        pill_height=PILL_HEIGHT,
    )


def _by_module(
    contributed: list[participation.Section], audience: participation.Audience
) -> dict[str, list[participation.Section]]:
    grouped: dict[str, list[participation.Section]] = {}
    for section in contributed:
        if section.audience is audience and section.phase is None:
            grouped.setdefault(section.module, []).append(section)
    return grouped


def _by_phase(
    contributed: list[participation.Section],
) -> dict[PhaseKey, list[participation.Section]]:
    grouped: dict[PhaseKey, list[participation.Section]] = {}
    for section in contributed:
        if section.phase is not None:
            grouped.setdefault(section.phase, []).append(section)
    return grouped


@get("/", name="processes:home", include_in_schema=False, **access(public=True))
async def home(db_session: AsyncSession, cursor: Cursor = None) -> Template:
    """Current (active) processes, for residents."""
    page = await services.list_processes(
        db_session,
        services.PUBLIC,
        services.ProcessFilter(status=ProcessStatus.ACTIVE),
        limit=DEFAULT_LIMIT,
        cursor=cursor,
    )
    ids = tuple(process.id for process in page.items)
    contributed = await participation.sections(
        db_session,
        participation.SectionRequest(
            place=participation.Place.HOME,
            principal=None,  # the start page looks the same for everyone
            process_ids=ids,
            open_modules=await participation.open_modules(db_session, ids),
        ),
    )
    by_process: dict[UUID | None, list[participation.Section]] = {}
    for section in contributed:
        by_process.setdefault(section.process_id, []).append(section)
    return Template(
        template_name="processes/home.html",
        context=_context(
            processes=page.items,
            next_cursor=page.next_cursor,
            sections=by_process,
            texts=await services.summaries_for_residents(db_session, ids),
        ),
    )


@get(
    "/processes/{process_id:uuid}",
    name="processes:page",
    include_in_schema=False,
    **access(public=True),
)
async def process_page(request: AnyRequest, db_session: AsyncSession, process_id: UUID) -> Template:
    """One process: the cycle, what residents can do now, mandate, organisations, matrix."""
    viewer = services.Viewer.of(principal_of(request))
    process = await services.get_process(db_session, process_id, viewer)
    matrix = await services.contributions_matrix(db_session, process_id, viewer)
    state = await participation.load(db_session, process_id)
    assert state is not None
    open_now = state.open_now()
    upcoming = None if open_now or process.status != ProcessStatus.ACTIVE else state.next_opening()
    contributed = await participation.sections(
        db_session,
        participation.SectionRequest(
            place=participation.Place.PROCESS,
            principal=principal_of(request),
            process_ids=(process_id,),
            open_modules={process_id: frozenset(module.key for module in open_now)},
        ),
    )
    return Template(
        template_name="processes/process.html",
        context=_context(
            process=process,
            texts=translations.for_residents(process),
            matrix=matrix,
            cycle=cycle_diagram(process.active_phase),
            open_now=open_now,
            upcoming=(PHASE_INFO[upcoming[0]], upcoming[1]) if upcoming else None,
            sections=_by_module(contributed, participation.Audience.RESIDENTS),
            staff_sections=[
                x
                for x in contributed
                if x.audience is participation.Audience.STAFF and x.phase is None
            ],
            phase_sections=_by_phase(contributed),
        ),
    )


@get("/dashboard", name="processes:dashboard", include_in_schema=False, **access(roles=STAFF))
async def dashboard(
    request: AnyRequest, db_session: AsyncSession, cursor: Cursor = None
) -> Template:
    """All processes including drafts, for planners, moderators and administrators."""
    page = await services.list_processes(
        db_session,
        services.STAFF_VIEWER,
        services.ProcessFilter(),
        limit=DEFAULT_LIMIT,
        cursor=cursor,
    )
    contributed = await participation.sections(
        db_session,
        participation.SectionRequest(
            place=participation.Place.DASHBOARD, principal=principal_of(request)
        ),
    )
    return Template(
        template_name="processes/dashboard.html",
        context=_context(processes=page.items, next_cursor=page.next_cursor, sections=contributed),
    )


PAGES: list[ControllerRouterHandler] = [home, process_page, dashboard, *staff_pages.PAGES]
