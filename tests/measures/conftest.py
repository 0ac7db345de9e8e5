"""Fixtures of the goals and measures tests: the surveys' small area tree and process factory,
a planner, an organisation, and helpers that draft a measure and open its consultation."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.ideas import services as idea_services
from quartier.ideas.schemas import IdeaSettingsIn
from quartier.processes import schemas as ps
from quartier.processes import services as processes
from quartier.processes.models import OrganisationType
from quartier.processes.phases import PhaseKey
from tests.surveys.conftest import (  # noqa: F401 - fixtures shared with the surveys tests
    MakeProcess,
    areas,
    make_process,
    planner,
    process_id,
    surveys,
)

Client = AsyncTestClient[Litestar]
Headers = dict[str, str]
Json = dict[str, Any]


def measure_body(**changes: Any) -> Json:
    body: Json = {
        "title": "Familienzentrum Moabit",
        "summary": "Ein Familienzentrum mit offener Sprechstunde.",
        "area_codes": ["0101"],
        "target_groups": ["Familien mit kleinen Kindern"],
        "resources": [
            {"label": "Sozialarbeit", "amount": 1.5, "unit": "fte", "period": "per_year"},
            {"label": "Sachkosten", "amount": 20000, "unit": "eur", "period": "per_year"},
        ],
        "criteria": [
            {
                "indicator": "Familien in Beratung",
                "baseline": "0",
                "target": "120 pro Jahr",
                "due": "2028-12-31",
                "method": "Zählung der Beratungen",
            }
        ],
        "sections": [
            {"key": "offer", "title": "Angebot", "body": "Offene Sprechstunde dienstags."},
            {"key": "costs", "title": "Kosten", "body": "Personal und Sachkosten."},
        ],
    }
    body.update(changes)
    return body


@pytest.fixture
async def measuring_process(
    make_process: MakeProcess,  # noqa: F811
    engine: AsyncEngine,
) -> uuid.UUID:
    """An active process in measure planning, scoped to Mitte, publishing residents' comments
    at once (its ideas settings: no pre-moderation; `premoderate` turns it on)."""
    process = await make_process(phase=PhaseKey.MEASURE_PLANNING)
    await set_premoderation(engine, process, on=False)
    return process


async def set_premoderation(engine: AsyncEngine, process: uuid.UUID, *, on: bool) -> None:
    """The process's ideas settings, which feedback comments follow as idea comments do."""
    async with async_sessionmaker(engine)() as db, db.begin():
        await idea_services.set_process_settings(db, process, IdeaSettingsIn(premoderation=on))


@pytest.fixture
async def organisation(engine: AsyncEngine) -> uuid.UUID:
    async with async_sessionmaker(engine)() as db, db.begin():
        created = await processes.create_organisation(
            db,
            ps.OrganisationCreate(
                name="Caritas Berlin", type=OrganisationType.WELFARE_ORGANISATION
            ),
        )
    return created.id


CreateMeasure = Callable[..., Awaitable[str]]


@pytest.fixture
def create_measure(
    client: Client,
    planner: Headers,  # noqa: F811
    measuring_process: uuid.UUID,
) -> CreateMeasure:
    async def factory(**changes: Any) -> str:
        response = await client.post(
            f"/api/v1/processes/{measuring_process}/measures",
            json=measure_body(**changes),
            headers=planner,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    return factory


@pytest.fixture
def consult(client: Client, planner: Headers) -> Callable[..., Awaitable[Json]]:  # noqa: F811
    async def factory(measure_id: str, **settings: Any) -> Json:
        response = await client.post(
            f"/api/v1/measures/{measure_id}/consultation",
            json={"reason": "Entwurf abgestimmt", **settings},
            headers=planner,
        )
        assert response.status_code == 201, response.text
        body: Json = response.json()
        return body

    return factory
