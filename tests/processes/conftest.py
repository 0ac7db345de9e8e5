"""Fixtures of the processes tests: a few Berlin social areas, staff and token credentials, and
helpers to create processes through the API."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from tests.conftest import LoginFactory, TokenFactory
from tests.support.areas import add_area_tree

Client = AsyncTestClient[Litestar]
Headers = dict[str, str]
CreateProcess = Callable[..., Awaitable[dict[str, Any]]]

# code → (name, parent code): a slice of Berlin's LOR hierarchy.
AREAS: dict[str, tuple[str, str | None]] = {
    "01": ("Mitte", None),
    "0102": ("Moabit", "01"),
    "010221": ("Moabit West", "0102"),
    "010222": ("Moabit Ost", "0102"),
    "08": ("Neukölln", None),
}


@pytest.fixture
async def areas(engine: AsyncEngine) -> dict[str, uuid.UUID]:
    """Social areas by code (ids), inserted through the areas models."""
    async with async_sessionmaker(engine)() as db, db.begin():
        ids = await add_area_tree(db, AREAS, ["district", "forecast_area", "district_region"])
    return ids


@pytest.fixture
async def planner(login_as: LoginFactory) -> Headers:
    return await login_as("planner")


@pytest.fixture
async def writer(make_token: TokenFactory) -> Headers:
    """An integration allowed to write (and so to read) processes."""
    return await make_token({"processes:write"}, name="planning integration")


def process_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Kinderarmut in Mitte vorbeugen",
        "topic": "Kinder- und Familienarmut",
        "description": "Gemeinsam mit Trägern und Familien.",
        "mandate": {
            "commissioned_by": "BVV Mitte",
            "commissioned_to": "Planungskoordination",
            "aim": "Präventionskette",
            "occasion": "Sozialbericht",
            "report_recipients": "Jugendhilfeausschuss",
        },
    }
    body.update(overrides)
    return body


@pytest.fixture
def create_process(client: Client, writer: Headers) -> CreateProcess:
    """`process = await create_process(publish=True, area_codes=[...], activate=[...])`."""

    async def factory(
        *, publish: bool = False, activate: tuple[str, ...] = (), **overrides: Any
    ) -> dict[str, Any]:
        response = await client.post(
            "/api/v1/processes", json=process_body(**overrides), headers=writer
        )
        assert response.status_code == 201, response.text
        process = response.json()
        for phase in activate:
            activated = await client.post(
                f"/api/v1/processes/{process['id']}/phases/{phase}/activate", headers=writer
            )
            assert activated.status_code == 200, activated.text
        if publish:
            published = await client.post(
                f"/api/v1/processes/{process['id']}/publish", headers=writer
            )
            assert published.status_code == 200, published.text
        result: dict[str, Any] = (
            await client.get(f"/api/v1/processes/{process['id']}", headers=writer)
        ).json()
        return result

    return factory
