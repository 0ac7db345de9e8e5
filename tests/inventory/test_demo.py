"""The inventory demo: services of the demo welfare organisations in the demo processes' areas,
listed like any recorded service, and loaded once."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import demo as areas
from quartier.inventory import demo, services
from quartier.inventory.models import Service
from quartier.processes import demo as processes


async def test_demo_services_are_recorded_for_the_demo_organisations_once(
    session: AsyncSession,
) -> None:
    await areas.load(session)
    await processes.load(session)
    summary = await demo.load(session)
    await session.commit()
    assert summary == f"inventory: {len(demo.SERVICES)} services of welfare organisations"
    listed = await services.list_services(session)
    assert {item.name for item in listed.items} == {data.name for _, data in demo.SERVICES}
    treff = next(item for item in listed.items if item.name == "Seniorentreff am Richardplatz")
    assert treff.organisation.name.startswith("DRK")
    assert [area.code for area in treff.areas] == ["080101", "080103"]
    assert treff.active and treff.capacity == 40

    assert await demo.load(session) == "inventory: demo skipped (services exist)"
    assert await session.scalar(select(func.count()).select_from(Service)) == len(demo.SERVICES)
