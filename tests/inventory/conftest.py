"""Fixtures of the inventory tests: the toy city of the surveys tests (Mitte and Neukölln) with
population by age band on its planning areas, a process scoped to Mitte, and two welfare
organisations."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.areas.models import AgeBand, AreaPopulation, AreaPopulationByAge
from quartier.processes import schemas as ps
from quartier.processes import services as processes
from quartier.processes.models import OrganisationType
from tests.conftest import LoginFactory, TokenFactory
from tests.surveys.conftest import (  # noqa: F401  (fixtures)
    areas,
    make_process,
    planner,
    process_id,
    surveys,
)

Client = AsyncTestClient[Litestar]
Headers = dict[str, str]

# Planning area → residents per age band (below_6, 6_15, 15_18, 18_27, 27_45, 45_55, 55_65,
# above_65): totals 2,000, 1,000, 4,000 and 500.
POPULATION: dict[str, tuple[int, ...]] = {
    "010101": (100, 200, 100, 300, 500, 300, 200, 300),
    "010102": (50, 100, 50, 150, 250, 150, 100, 150),
    "010201": (400, 400, 200, 600, 1000, 600, 400, 400),
    "080101": (25, 50, 25, 75, 125, 75, 50, 75),
}
BAND_KEYS = ["below_6", "6_15", "15_18", "18_27", "27_45", "45_55", "55_65", "above_65"]


@pytest.fixture
async def population(engine: AsyncEngine, areas: dict[str, uuid.UUID]) -> None:  # noqa: F811
    async with async_sessionmaker(engine)() as db, db.begin():
        bands = {band.key: band.id for band in (await db.scalars(select(AgeBand))).all()}
        for code, counts in POPULATION.items():
            record = AreaPopulation(
                area_id=areas[code],
                reference_date=datetime.date(2024, 12, 31),
                total=sum(counts),
                female=None,
            )
            db.add(record)
            await db.flush()
            db.add_all(
                AreaPopulationByAge(population_id=record.id, age_band_id=bands[key], count=count)
                for key, count in zip(BAND_KEYS, counts, strict=True)
            )


@pytest.fixture
async def organisations(engine: AsyncEngine, population: None) -> dict[str, uuid.UUID]:
    """Two welfare organisations by short name, AWO and Caritas (with the city and its
    population)."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as db, db.begin():
        ids = {}
        for short, name in (("AWO", "AWO Kreisverband Mitte"), ("Caritas", "Caritas Mitte")):
            created = await processes.create_organisation(
                db,
                ps.OrganisationCreate(
                    name=name, short_name=short, type=OrganisationType.WELFARE_ORGANISATION
                ),
            )
            ids[short] = created.id
    return ids


@pytest.fixture
async def inventory_writer(make_token: TokenFactory) -> Headers:
    return await make_token({"inventory:write"}, name="inventory integration")


@pytest.fixture
async def inventory_reader(make_token: TokenFactory) -> Headers:
    return await make_token({"inventory:read"}, name="inventory reader")


def service_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Familienzentrum Moabit",
        "need_categories": ["childcare"],
        "target_groups": ["young_children"],
        "area_codes": ["010101"],
        "capacity": 40,
        "capacity_unit": "Plätze",
        "opening_hours": "Mo–Fr 8–16 Uhr",
        "accessibility": "stufenlos",
        "address": "Turmstraße 1, 10559 Berlin",
        "contact_email": "familienzentrum@awo-mitte.example",
        "website": "https://awo-mitte.example/familienzentrum",
    }
    body.update(changes)
    return body


AddService = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def add_service(client: Client, inventory_writer: Headers) -> AddService:
    async def factory(organisation_id: uuid.UUID, **changes: Any) -> dict[str, Any]:
        response = await client.post(
            f"/api/v1/organisations/{organisation_id}/services",
            json=service_body(**changes),
            headers=inventory_writer,
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    return factory


__all__ = ["LoginFactory"]
