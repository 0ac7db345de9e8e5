"""The demo: the older-people process in measure planning has a goal and a measure open for
feedback, loaded once."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import demo as areas
from quartier.measures import common, demo, services
from quartier.measures.models import Goal, Measure, MeasureStatus
from quartier.processes import demo as processes


async def test_demo_measure_is_open_for_feedback_once(session: AsyncSession) -> None:
    assert await demo.load(session) == "measures: no demo process"
    await areas.load(session)
    await processes.load(session)
    assert "open for feedback" in await demo.load(session)
    await session.commit()
    assert await demo.load(session) == "measures: already loaded"
    measure = await session.scalar(sa.select(Measure))
    assert measure is not None and measure.status == MeasureStatus.IN_CONSULTATION.value
    view = await services.get_measure(session, measure.id, common.PUBLIC)
    assert view.consultation is not None and view.consultation.is_open
    assert view.content.areas and view.content.provider is not None
    assert await session.scalar(sa.select(sa.func.count()).select_from(Goal)) == 1
