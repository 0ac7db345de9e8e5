"""The demo data of the processes domain: realistic, loadable twice, with and without areas."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.processes import demo, services
from quartier.processes import models as m
from quartier.processes.phases import PhaseKey


async def test_demo_loads_processes_in_their_phases_once(session: AsyncSession) -> None:
    summary = await demo.load(session)
    await session.commit()
    assert summary.startswith("processes: 3 planning processes")
    page = await services.list_processes(
        session, services.STAFF_VIEWER, services.ProcessFilter(), limit=10, cursor=None
    )
    by_title = {item.title: item for item in page.items}
    child_poverty = by_title["Kinderarmut in Mitte vorbeugen"]
    assert child_poverty.active_phase is PhaseKey.NEEDS_ASSESSMENT
    assert child_poverty.status is m.ProcessStatus.ACTIVE
    assert by_title["Gut älter werden in Nord-Neukölln"].active_phase is PhaseKey.MEASURE_PLANNING
    assert by_title["Wohnungslosigkeit in Mitte vorbeugen"].status is m.ProcessStatus.DRAFT

    shown = await services.get_process(session, child_poverty.id, services.PUBLIC)
    assert {"en", "de-x-simple", "tr", "ar"} <= set(msgspec.to_builtins(shown.translations))

    matrix = await services.contributions_matrix(session, child_poverty.id, services.PUBLIC)
    names = [row.organisation.short_name for row in matrix.rows]
    assert {"Caritas", "Diakonie", "AWO", "JHA Mitte"} <= set(names)

    again = await demo.load(session)
    assert "skipped" in again
    assert await session.scalar(select(func.count()).select_from(m.PlanningProcess)) == 3


async def test_demo_scopes_processes_to_imported_areas(
    session: AsyncSession, areas: dict[str, uuid.UUID]
) -> None:
    await demo.load(session)
    await session.commit()
    page = await services.list_processes(
        session,
        services.PUBLIC,
        services.ProcessFilter(area_code="0102"),
        limit=10,
        cursor=None,
    )
    assert [item.title for item in page.items] == ["Kinderarmut in Mitte vorbeugen"]
    assert [area.code for area in page.items[0].areas] == ["010221", "010222"]
