"""Issue 13 §1: every operation that creates something accepts an `Idempotency-Key`, with the
semantics of resident submissions — a retry with the same key and body creates nothing and gets
the first answer (`Idempotent-Replayed: true`), the same key with another body is 422 — and the
idempotency record keeps nothing readable of the answer (docs/PRIVACY.md)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.core import idempotency
from quartier.measures.models import Measure
from quartier.processes.phases import PhaseKey
from tests.conftest import LoginFactory
from tests.inventory.conftest import service_body
from tests.measures.conftest import measure_body, organisation  # noqa: F401 - fixture
from tests.measures.test_delivery import report
from tests.measures.test_goals import goal_body
from tests.processes.conftest import process_body
from tests.surveys.conftest import (  # noqa: F401 - fixtures used here
    Client,
    Headers,
    Json,
    MakeProcess,
    areas,
    definition,
    make_process,
    planner,
    process_id,
)
from tests.surveys.conftest import answers as survey_answers

DOCUMENT: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "openapi" / "openapi.json").read_text()
)
XLSFORMS = Path(__file__).resolve().parent / "surveys" / "fixtures"


def _creates() -> dict[str, dict[str, Any]]:
    """Every POST of the contract that answers 201 (creates something), by operationId."""
    return {
        operation["operationId"]: operation
        for item in DOCUMENT["paths"].values()
        for method, operation in item.items()
        if method == "post" and "201" in operation["responses"]
    }


def test_every_create_operation_declares_the_idempotency_key() -> None:
    """A future create operation cannot forget it: `@idempotent` under its route decorator."""
    reference = next(
        p
        for p in _creates()["SubmitSurveyResponse"]["parameters"]
        if p.get("name") == "Idempotency-Key"
    )
    for operation_id, operation in _creates().items():
        declared = [p for p in operation["parameters"] if p.get("name") == "Idempotency-Key"]
        assert declared, f"{operation_id} takes no Idempotency-Key"
        assert declared[0]["in"] == "header" and not declared[0]["required"]
        assert declared[0]["schema"] == reference["schema"], operation_id
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"], operation_id
        assert {"409", "422"} <= set(operation["responses"]), operation_id
        assert "Retry-After" in operation["responses"]["409"]["headers"], operation_id


@dataclass
class World:
    """What the cases need: a client, staff, and ways to make the things they act on."""

    client: Client
    engine: AsyncEngine
    admin: Headers
    planner: Headers
    make_process: MakeProcess
    process_id: uuid.UUID
    organisation: uuid.UUID

    async def post(self, url: str, body: Json | None, headers: Headers) -> Any:
        return await self.client.post(url, json=body, headers=headers)

    async def created(self, url: str, body: Json, headers: Headers | None = None) -> Json:
        response = await self.post(url, body, headers or self.planner)
        assert response.status_code == 201, response.text
        answer: Json = response.json()
        return answer

    async def measure(self, status: str | None = None) -> str:
        process = await self.make_process(phase=PhaseKey.MEASURE_PLANNING)
        body = measure_body(
            target_groups=["Familien mit kleinen Kindern", "Alleinerziehende"],
            criteria=[
                {"indicator": "Familien in Beratung", "baseline": "0", "target": "120"},
                {"indicator": "Wartezeit in Tagen", "baseline": "30", "target": "10"},
            ],
        )
        created = await self.created(f"/api/v1/processes/{process}/measures", body)
        if status is not None:
            async with async_sessionmaker(self.engine)() as db, db.begin():
                await db.execute(
                    sa.update(Measure)
                    .where(Measure.id == uuid.UUID(created["id"]))
                    .values(status=status)
                )
        return str(created["id"])

    async def survey(self) -> str:
        created = await self.created(
            f"/api/v1/processes/{self.process_id}/surveys", {"definition": definition()}
        )
        return str(created["id"])


# (url, body, another body, caller) of one create operation; `None` body: the operation has none.
Request = tuple[str, Json | None, Json | None, str]
Case = Callable[[World], Awaitable[Request]]


async def _api_token(w: World) -> Request:
    body = {"name": "Fachverfahren", "scopes": ["exports:read"]}
    return "/api/v1/api-tokens", body, {**body, "name": "GIS"}, "admin"


async def _staff_account(w: World) -> Request:
    body = {
        "email": "neu@bezirk.example",
        "display_name": "Neue Planerin",
        "role": "planner",
        "password": "a long enough passphrase",
    }
    return "/api/v1/staff-accounts", body, {**body, "role": "moderator"}, "admin"


async def _webhook(w: World) -> Request:
    body = {"url": "https://fachverfahren.example.org/hooks", "event_types": ["survey.closed"]}
    return "/api/v1/webhooks", body, {**body, "event_types": ["idea.submitted"]}, "admin"


async def _organisation(w: World) -> Request:
    body = {"name": "AWO Mitte", "type": "welfare_organisation"}
    return "/api/v1/organisations", body, {**body, "name": "DRK Mitte"}, "planner"


async def _service(w: World) -> Request:
    url = f"/api/v1/organisations/{w.organisation}/services"
    return url, service_body(), service_body(name="Kiezcafé"), "planner"


async def _process(w: World) -> Request:
    return "/api/v1/processes", process_body(), process_body(title="Anders"), "planner"


async def _next_cycle(w: World) -> Request:
    process = await w.make_process(phase=PhaseKey.SOCIAL_REPORTING)
    return f"/api/v1/processes/{process}/next-cycle", None, None, "planner"


async def _role(w: World) -> Request:
    url = f"/api/v1/processes/{w.process_id}/roles"
    body = {"organisation_id": str(w.organisation), "phase": "needs_assessment", "role": "planning"}
    return url, body, {**body, "role": "participating"}, "planner"


async def _goal(w: World) -> Request:
    url = f"/api/v1/processes/{w.process_id}/goals"
    return url, goal_body(), goal_body(statement="Ein anderes Ziel."), "planner"


async def _measure(w: World) -> Request:
    process = await w.make_process(phase=PhaseKey.MEASURE_PLANNING)
    url = f"/api/v1/processes/{process}/measures"
    return url, measure_body(), measure_body(title="Kiezcafé"), "planner"


async def _consultation(w: World) -> Request:
    url = f"/api/v1/measures/{await w.measure()}/consultation"
    return url, {"reason": "Entwurf abgestimmt"}, {"reason": "Anders"}, "planner"


async def _consultation_codes(w: World) -> Request:
    measure = await w.measure()
    await w.created(f"/api/v1/measures/{measure}/consultation", {"reason": "Entwurf"})
    body = {"organisation_ids": [str(w.organisation)]}
    other = {"organisation_ids": [str(w.organisation), str(w.organisation)]}
    return f"/api/v1/measures/{measure}/consultation/codes", body, other, "planner"


async def _delivery_report(w: World) -> Request:
    url = f"/api/v1/measures/{await w.measure('in_delivery')}/delivery-reports"
    return url, report(), report(participants=41), "planner"


async def _assessment(w: World) -> Request:
    url = f"/api/v1/measures/{await w.measure('in_delivery')}/assessments"
    body = {"decision": "continue", "reasons": "Läuft gut."}
    return url, body, {**body, "decision": "adapt"}, "planner"


async def _inventory_round(w: World) -> Request:
    due = (date.today() + timedelta(days=30)).isoformat()
    body = {"due_on": due, "send_mail": False}
    url = f"/api/v1/processes/{w.process_id}/inventory-rounds"
    return url, body, {**body, "message": "Bitte bis Monatsende."}, "planner"


async def _survey(w: World) -> Request:
    url = f"/api/v1/processes/{w.process_id}/surveys"
    return (
        url,
        {"definition": definition()},
        {"definition": definition(), "k_threshold": 7},
        "planner",
    )


async def _survey_import(w: World) -> Request:
    exported = await w.client.get(f"/api/v1/surveys/{await w.survey()}/export", headers=w.planner)
    assert exported.status_code == 200, exported.text
    document: Json = exported.json()
    other = json.loads(json.dumps(document).replace("Familien", "Kinder"))
    return f"/api/v1/processes/{w.process_id}/surveys/import", document, other, "planner"


async def _xlsform(w: World) -> Request:
    def upload(name: str) -> Json:
        return {"xlsform": base64.b64encode((XLSFORMS / name).read_bytes()).decode()}

    url = f"/api/v1/processes/{w.process_id}/surveys/import/xlsform"
    return (
        url,
        upload("kobo_familien_im_kiez.xlsx"),
        upload("odk_standorte_geopoint.xlsx"),
        "planner",
    )


async def _need_category(w: World) -> Request:
    body = {"key": "swimming", "label": {"de": "Schwimmen", "en": "Swimming"}}
    return "/api/v1/need-categories", body, {**body, "key": "sports"}, "admin"


async def _paper_response(w: World) -> Request:
    survey = await w.survey()
    published = await w.post(f"/api/v1/surveys/{survey}/publish", None, w.planner)
    assert published.status_code == 200, published.text
    url = f"/api/v1/surveys/{survey}/paper-responses"
    body = {"answers": survey_answers()}
    return url, body, {"answers": survey_answers(safety=5)}, "planner"


CASES: dict[str, Case] = {
    "CreateNeedCategory": _need_category,
    "EnterPaperResponse": _paper_response,
    "CreateApiToken": _api_token,
    "CreateStaffAccount": _staff_account,
    "CreateWebhookSubscription": _webhook,
    "CreateOrganisation": _organisation,
    "CreateService": _service,
    "CreateProcess": _process,
    "StartNextCycle": _next_cycle,
    "AddProcessRole": _role,
    "CreateGoal": _goal,
    "CreateMeasure": _measure,
    "StartMeasureConsultation": _consultation,
    "IssueConsultationCodes": _consultation_codes,
    "CreateDeliveryReport": _delivery_report,
    "RecordMeasureAssessment": _assessment,
    "StartInventoryRound": _inventory_round,
    "CreateSurvey": _survey,
    "ImportSurveyDefinition": _survey_import,
    "ImportSurveyXlsForm": _xlsform,
}
# Covered by their own tests (tests/test_contract_requests.py, the surveys, ideas and measures
# feedback tests), with the same semantics.
OWN_TESTS = {
    "SubmitSurveyResponse",
    "SubmitIdea",
    "SubmitIdeaComment",
    "SubmitIdeaReport",
    "SubmitMeasureFeedback",
}


def test_every_create_operation_has_a_case() -> None:
    assert set(CASES) | OWN_TESTS == set(_creates())


async def _row_counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows of every table of the database: what a request created, wherever it went."""
    async with engine.connect() as connection:
        tables = (
            await connection.execute(
                sa.text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            )
        ).scalars()
        counts = {}
        for table in sorted(tables):
            counts[table] = int(
                await connection.scalar(sa.text(f'SELECT count(*) FROM "{table}"')) or 0
            )
        return counts


@pytest.fixture
async def world(
    client: Client,
    engine: AsyncEngine,
    login_as: LoginFactory,
    planner: Headers,  # noqa: F811
    make_process: MakeProcess,  # noqa: F811
    process_id: uuid.UUID,  # noqa: F811
    organisation: uuid.UUID,  # noqa: F811
) -> World:
    return World(
        client, engine, await login_as("admin"), planner, make_process, process_id, organisation
    )


@pytest.mark.parametrize("operation_id", sorted(CASES))
async def test_a_retried_create_creates_once_and_replays_the_answer(
    world: World, engine: AsyncEngine, operation_id: str
) -> None:
    url, body, other, caller = await CASES[operation_id](world)
    headers = {**getattr(world, caller), "Idempotency-Key": str(uuid.uuid4())}
    before = await _row_counts(engine)
    first = await world.post(url, body, headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    created = await _row_counts(engine)
    assert created["idempotency_keys"] == before["idempotency_keys"] + 1
    assert any(created[t] > before[t] for t in created if t != "idempotency_keys")

    again = await world.post(url, body, headers)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert again.headers.get("location") == first.headers.get("location")
    assert await _row_counts(engine) == created, "the retry created something"

    if other is not None:
        refused = await world.post(url, other, headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"] == "/problems/idempotency-key-reused"
        assert await _row_counts(engine) == created

    # Nothing readable is kept: neither the key nor any part of the answer.
    async with engine.connect() as connection:
        record = (await connection.execute(sa.select(idempotency.RECORDS))).one()
    assert record.idempotency_key != headers["Idempotency-Key"]
    assert headers["Idempotency-Key"].encode() not in record.response_body
    answer = first.json()
    for value in _strings(answer):
        assert value.encode() not in record.response_body, value


def _strings(value: Any) -> list[str]:
    """The longer string values of a JSON document (names, secrets, e-mail addresses)."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) and len(value) >= 8 else []


async def test_without_a_key_each_request_creates(world: World) -> None:
    body = {"name": "Paritätischer Mitte", "type": "welfare_organisation"}
    first = await world.post("/api/v1/organisations", body, world.planner)
    second = await world.post("/api/v1/organisations", body, world.planner)
    assert first.status_code == 201, first.text
    assert second.status_code == 409, second.text  # its own rule (unique names), not a replay
    assert "idempotent-replayed" not in second.headers


async def test_a_key_is_per_operation_and_what_it_acts_on(world: World) -> None:
    """The same key on two processes creates a goal in each (keys are scoped by the path)."""
    headers = {**world.planner, "Idempotency-Key": "goal-2026-12-07"}
    other_process = await world.make_process()
    one = await world.post(f"/api/v1/processes/{world.process_id}/goals", goal_body(), headers)
    two = await world.post(f"/api/v1/processes/{other_process}/goals", goal_body(), headers)
    assert one.status_code == two.status_code == 201, two.text
    assert "idempotent-replayed" not in two.headers
    assert one.json()["id"] != two.json()["id"]


async def test_an_invalid_key_is_refused_before_anything_is_created(
    world: World, engine: AsyncEngine
) -> None:
    before = await _row_counts(engine)
    headers = {**world.planner, "Idempotency-Key": "   "}
    body = {"name": "AWO Mitte", "type": "welfare_organisation"}
    refused = await world.post("/api/v1/organisations", body, headers)
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await _row_counts(engine) == before
