"""Fixtures of the social report tests: the surveys' small area tree and process (Mitte, in
needs assessment) with an answered survey, and helpers that move the process through the cycle
and release its report."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.processes import services as processes
from quartier.processes.phases import PhaseKey
from tests.conftest import TokenFactory
from tests.surveys.conftest import (  # noqa: F401 - fixtures shared with the surveys tests
    Surveys,
    areas,
    make_process,
    planner,
    process_id,
    surveys,
)
from tests.surveys.test_pages_results import answered_survey

Client = AsyncTestClient[Litestar]
Headers = dict[str, str]
Activate = Callable[[uuid.UUID, PhaseKey], Awaitable[None]]

SECTIONS = {
    "introduction": "Dieser Bericht fasst den ersten Zyklus zusammen.",
    "needs": "Kinderbetreuung fehlt vor allem in Moabit.\n\nDas zeigen Befragung und Ideen.",
    "measures": "Ein Familienzentrum soll entstehen.",
    "evaluation": "",
    "outlook": "Im nächsten Zyklus: Kitaplätze in Moabit Ost.",
}


@pytest.fixture
def activate(engine: AsyncEngine) -> Activate:
    """`await activate(process_id, PhaseKey.SOCIAL_REPORTING)`."""

    async def factory(process: uuid.UUID, phase: PhaseKey) -> None:
        async with async_sessionmaker(engine)() as db, db.begin():
            await processes.activate_phase(db, process, phase, processes.SYSTEM)

    return factory


@pytest.fixture
async def answered(surveys: Surveys, client: Client, make_token: TokenFactory) -> str:  # noqa: F811
    """The process's answered survey (14 responses in Moabit West), and a gap in Moabit Ost."""
    survey_id = await answered_survey(surveys)
    gaps = await make_token({"processes:write"})
    marked = await client.put(
        f"/api/v1/processes/{surveys.process_id}/need-comparison/childcare/gaps/010102",
        json={"note": "Keine Kita im Kiez"},
        headers=gaps,
    )
    assert marked.status_code == 200, marked.text
    return survey_id


@pytest.fixture
async def reports_writer(make_token: TokenFactory) -> Headers:
    return await make_token({"reports:write"}, name="report integration")


@pytest.fixture
async def full_cycle(
    client: Client,
    planner: Headers,  # noqa: F811
    process_id: uuid.UUID,  # noqa: F811
    answered: str,
    activate: Activate,
    engine: AsyncEngine,
) -> uuid.UUID:
    """The process walked to social reporting: an answered survey and a gap (needs), a goal,
    a measure delivered for a quarter and assessed, and the editorial sections written."""
    import sqlalchemy as sa

    from quartier.measures.models import Measure
    from tests.measures.conftest import measure_body

    await activate(process_id, PhaseKey.MEASURE_PLANNING)
    goal = await client.post(
        f"/api/v1/processes/{process_id}/goals",
        json={
            "statement": "Jedes Kind in Moabit hat einen Kitaplatz.",
            "need_categories": ["childcare"],
            "area_codes": ["0101"],
        },
        headers=planner,
    )
    assert goal.status_code == 201, goal.text
    created = await client.post(
        f"/api/v1/processes/{process_id}/measures", json=measure_body(), headers=planner
    )
    assert created.status_code == 201, created.text
    measure_id = created.json()["id"]
    async with async_sessionmaker(engine)() as db, db.begin():
        await db.execute(
            sa.update(Measure)
            .where(Measure.id == uuid.UUID(measure_id))
            .values(status="in_delivery")
        )
    delivered = await client.post(
        f"/api/v1/measures/{measure_id}/delivery-reports",
        json={
            "period_start": "2025-01-01",
            "period_end": "2025-03-31",
            "outputs": [{"kind": "Sprechstunden", "count": 10}],
            "participants": 40,
            "reach": [],
            "spend": [{"resource": 1, "amount": 7000}],
            "criteria": [{"criterion": 0, "value": 25}],
            "note": "",
        },
        headers=planner,
    )
    assert delivered.status_code == 201, delivered.text
    assessed = await client.post(
        f"/api/v1/measures/{measure_id}/assessments",
        json={"decision": "continue", "reasons": "Gut angenommen."},
        headers=planner,
    )
    assert assessed.status_code == 201, assessed.text
    await activate(process_id, PhaseKey.SOCIAL_REPORTING)
    written = await client.put(
        f"/api/v1/processes/{process_id}/social-report/sections",
        json={"sections": SECTIONS},
        headers=planner,
    )
    assert written.status_code == 200, written.text
    return process_id
