"""Fixtures of the ideas tests: the surveys tests' Berlin slice (Mitte, Moabit, …), a process
in needs assessment scoped to Mitte, staff credentials, and helpers that act through the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import LoginFactory, TokenFactory
from tests.surveys import conftest as surveys_fixtures
from tests.surveys.conftest import Client, Headers, Json

# The surveys tests' fixtures, shared.
areas = surveys_fixtures.areas
make_process = surveys_fixtures.make_process
planner = surveys_fixtures.planner
process_id = surveys_fixtures.process_id

TOKEN_A = "resident-token-aaaaaaaaaaaa"
TOKEN_B = "resident-token-bbbbbbbbbbbb"


def idea_body(**overrides: Any) -> Json:
    body: Json = {
        "title": "Mehr Bänke am Leopoldplatz",
        "description": "Ältere Menschen brauchen Sitzgelegenheiten auf dem Weg zum Markt.",
        "need_category": "elderly_care",
        "area_code": "010201",
    }
    body.update(overrides)
    return body


@dataclass
class Ideas:
    """Submit and moderate ideas through the API."""

    client: Client
    process_id: uuid.UUID
    moderator: Headers
    planner: Headers

    async def submit(self, process_id: uuid.UUID | None = None, **overrides: Any) -> Any:
        return await self.client.post(
            f"/api/v1/processes/{process_id or self.process_id}/ideas",
            json=idea_body(**overrides),
        )

    async def published(self, **overrides: Any) -> Json:
        """A submitted and published idea (its `follow_token` added)."""
        response = await self.submit(**overrides)
        assert response.status_code == 201, response.text
        submitted = response.json()
        idea_id = submitted["idea"]["id"]
        published = await self.client.post(
            f"/api/v1/ideas/{idea_id}/publish", headers=self.moderator
        )
        assert published.status_code == 200, published.text
        idea: Json = published.json()
        idea["follow_token"] = submitted["follow_token"]
        return idea

    async def support(self, idea_id: str, token: str = TOKEN_A) -> Any:
        return await self.client.post(
            f"/api/v1/ideas/{idea_id}/supports", headers={"Respondent-Token": token}
        )


@pytest.fixture
async def moderator(login_as: LoginFactory) -> Headers:
    return await login_as("moderator")


@pytest.fixture
async def admin(login_as: LoginFactory) -> Headers:
    return await login_as("admin")


@pytest.fixture
async def moderation_token(make_token: TokenFactory) -> Headers:
    return await make_token({"ideas:moderate"}, name="moderation integration")


@pytest.fixture
def ideas(client: Client, process_id: uuid.UUID, moderator: Headers, planner: Headers) -> Ideas:
    return Ideas(client=client, process_id=process_id, moderator=moderator, planner=planner)
