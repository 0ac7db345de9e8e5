"""Webhooks: subscriptions (API), signed deliveries from the job queue to a real HTTP receiver,
retries while the receiver is down, disabling after persistent failure, replay, rotation."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quartier.jobs.worker import Worker
from quartier.processes import services as processes
from quartier.processes.phases import PhaseKey
from quartier.webhooks import emit, signing
from quartier.webhooks.delivery import DELIVERY_RETRY
from tests.conftest import LoginFactory
from tests.jobs.conftest import make_due
from tests.surveys.conftest import MakeProcess, Surveys

from .conftest import Receiver

Client = AsyncTestClient[Litestar]


async def _subscribe(
    client: Client, admin: dict[str, str], url: str, events: list[str], **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": events, **extra}, headers=admin
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _deliveries(client: Client, admin: dict[str, str], sub_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/webhooks/{sub_id}/deliveries", headers=admin)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _activate(engine: AsyncEngine, process_id: uuid.UUID, phase: PhaseKey) -> None:
    async with async_sessionmaker(engine)() as db, db.begin():
        await processes.activate_phase(db, process_id, phase, processes.SYSTEM)


async def test_administrators_manage_subscriptions_and_see_the_secret_only_once(
    client: Client, login_as: LoginFactory, process_id: uuid.UUID
) -> None:
    admin = await login_as("admin")
    created = await _subscribe(
        client,
        admin,
        "https://fachverfahren.example.org/hooks",
        ["survey.published", "phase.activated", "survey.published"],
        process_id=str(process_id),
        description="Jugendamt",
    )
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["phase.activated", "survey.published"]
    assert created["enabled"] is True
    sub_id = created["id"]
    read = (await client.get(f"/api/v1/webhooks/{sub_id}", headers=admin)).json()
    assert "secret" not in read and read["process_id"] == str(process_id)
    listed = (await client.get("/api/v1/webhooks", headers=admin)).json()
    assert [s["id"] for s in listed["items"]] == [sub_id]
    changed = await client.patch(
        f"/api/v1/webhooks/{sub_id}",
        json={"event_types": ["survey.closed"], "enabled": False},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["event_types"] == ["survey.closed"]
    assert changed.json()["disabled_reason"] == "Disabled by an administrator."
    deleted = await client.delete(f"/api/v1/webhooks/{sub_id}", headers=admin)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/webhooks/{sub_id}", headers=admin)).status_code == 404


async def test_bad_subscriptions_are_refused_naming_the_field(
    client: Client, login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    for body, field in (
        ({"url": "ftp://example.org/x", "event_types": ["survey.closed"]}, "url"),
        ({"url": "https://example.org/x", "event_types": ["survey.deleted"]}, "event_types"),
        ({"url": "https://example.org/x", "event_types": []}, "event_types"),
        ({"url": "https://example.org/x", "event_types": ["survey.closed"], "x": 1}, "x"),
    ):
        response = await client.post("/api/v1/webhooks", json=body, headers=admin)
        assert response.status_code == 400, response.text
        assert field in response.text
    unknown = await client.post(
        "/api/v1/webhooks",
        json={
            "url": "https://example.org/x",
            "event_types": ["survey.closed"],
            "process_id": str(uuid.uuid4()),
        },
        headers=admin,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "process_id"


async def test_a_phase_activation_is_delivered_signed_to_the_receiver(
    client: Client,
    login_as: LoginFactory,
    engine: AsyncEngine,
    make_process: MakeProcess,
    receiver: Receiver,
    worker: Worker,
) -> None:
    admin = await login_as("admin")
    process_id = await make_process()
    other_process = await make_process()
    mine = await _subscribe(
        client, admin, receiver.url, ["phase.activated"], process_id=str(process_id)
    )
    await _subscribe(client, admin, receiver.url, ["survey.closed"])  # another event type
    await _subscribe(
        client, admin, receiver.url, ["phase.activated"], process_id=str(other_process)
    )
    await _activate(engine, process_id, PhaseKey.MEASURE_PLANNING)
    assert await worker.drain() == 1
    (received,) = receiver.received
    assert received.path == "/hooks/quartier"
    assert received.headers["content-type"] == "application/json"
    assert signing.verify(mine["secret"], received.headers, received.body, now=int(time.time()))
    assert not signing.verify(
        signing.new_secret(), received.headers, received.body, now=int(time.time())
    )
    event = json.loads(received.body)
    assert event["type"] == "phase.activated"
    assert event["data"] == {
        "process_id": str(process_id),
        "phase": "measure_planning",
        "previous_phase": "needs_assessment",
    }
    (delivery,) = await _deliveries(client, admin, mine["id"])
    assert delivery["id"] == received.headers["webhook-id"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "succeeded",
        1,
        204,
    )


async def test_survey_publication_and_closing_are_events(
    client: Client,
    login_as: LoginFactory,
    surveys: Surveys,
    receiver: Receiver,
    worker: Worker,
) -> None:
    admin = await login_as("admin")
    await _subscribe(client, admin, receiver.url, ["survey.published", "survey.closed"])
    survey = await surveys.create(publish=True)
    closed = await client.post(f"/api/v1/surveys/{survey['id']}/close", headers=surveys.planner)
    assert closed.status_code == 200, closed.text
    await worker.drain()
    events = sorted(
        (json.loads(r.body)["type"], json.loads(r.body)["data"]) for r in receiver.received
    )
    expected = {"survey_id": survey["id"], "process_id": str(surveys.process_id)}
    assert events == [("survey.closed", expected), ("survey.published", expected)]


async def test_no_webhook_is_sent_for_a_change_that_rolled_back(
    engine: AsyncEngine,
    session: AsyncSession,
    client: Client,
    login_as: LoginFactory,
    receiver: Receiver,
    worker: Worker,
) -> None:
    admin = await login_as("admin")
    await _subscribe(client, admin, receiver.url, ["survey.closed"])
    async with session.begin():
        assert await emit(session, "survey.closed", {"survey_id": "x"}) == 1
        await session.rollback()
    assert await worker.drain() == 0
    assert receiver.received == []


async def test_a_receiver_that_is_down_gets_the_delivery_when_it_comes_back(
    client: Client,
    login_as: LoginFactory,
    engine: AsyncEngine,
    make_process: MakeProcess,
    down_receiver: Receiver,
    worker: Worker,
) -> None:
    admin = await login_as("admin")
    process_id = await make_process()
    sub = await _subscribe(client, admin, down_receiver.url, ["phase.activated"])
    await _activate(engine, process_id, PhaseKey.MEASURE_PLANNING)
    await worker.drain()
    (delivery,) = await _deliveries(client, admin, sub["id"])
    assert (delivery["status"], delivery["attempts"]) == ("retrying", 1)
    assert delivery["last_status_code"] is None and "ConnectError" in delivery["last_error"]
    assert await worker.drain() == 0  # waiting for the backoff
    down_receiver.status = 503
    down_receiver.start()  # back, but still failing
    await make_due(engine)
    await worker.drain()
    (delivery,) = await _deliveries(client, admin, sub["id"])
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "retrying",
        2,
        503,
    )
    down_receiver.status = 200
    await make_due(engine)
    await worker.drain()
    (delivery,) = await _deliveries(client, admin, sub["id"])
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 3)
    ids = {r.headers["webhook-id"] for r in down_receiver.received}
    assert ids == {delivery["id"]}  # the same webhook-id on every attempt
    assert len(down_receiver.received) == 2


async def test_a_delivery_failing_for_a_day_disables_the_subscription(
    client: Client,
    login_as: LoginFactory,
    engine: AsyncEngine,
    make_process: MakeProcess,
    receiver: Receiver,
    worker: Worker,
) -> None:
    admin = await login_as("admin")
    process_id = await make_process()
    receiver.status = 500
    sub = await _subscribe(client, admin, receiver.url, ["phase.activated"])
    await _activate(engine, process_id, PhaseKey.MEASURE_PLANNING)
    for _ in range(DELIVERY_RETRY.max_attempts):
        await make_due(engine)
        await worker.drain()
    assert len(receiver.received) == DELIVERY_RETRY.max_attempts
    (delivery,) = await _deliveries(client, admin, sub["id"])
    assert (delivery["status"], delivery["attempts"]) == ("failed", DELIVERY_RETRY.max_attempts)
    state = (await client.get(f"/api/v1/webhooks/{sub['id']}", headers=admin)).json()
    assert state["enabled"] is False and "failed 14 times" in state["disabled_reason"]
    # A disabled subscription gets no new deliveries, and cannot replay until enabled again.
    await _activate(engine, process_id, PhaseKey.RESOURCE_PROVISION)
    await make_due(engine)
    assert await worker.drain() == 0
    replay_url = f"/api/v1/webhooks/{sub['id']}/deliveries/{delivery['id']}/replay"
    refused = await client.post(replay_url, headers=admin)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("webhook-disabled")
    enabled = await client.patch(
        f"/api/v1/webhooks/{sub['id']}", json={"enabled": True}, headers=admin
    )
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None
    receiver.status = 200
    replayed = await client.post(replay_url, headers=admin)
    assert replayed.status_code == 202, replayed.text
    await worker.drain()
    (delivery,) = await _deliveries(client, admin, sub["id"])
    assert delivery["status"] == "succeeded"
    assert receiver.received[-1].headers["webhook-id"] == delivery["id"]


async def test_replay_sends_a_delivered_event_again(
    client: Client,
    login_as: LoginFactory,
    engine: AsyncEngine,
    make_process: MakeProcess,
    receiver: Receiver,
    worker: Worker,
) -> None:
    admin = await login_as("admin")
    process_id = await make_process()
    sub = await _subscribe(client, admin, receiver.url, ["phase.activated"])
    await _activate(engine, process_id, PhaseKey.MEASURE_PLANNING)
    await worker.drain()
    (delivery,) = await _deliveries(client, admin, sub["id"])
    response = await client.post(
        f"/api/v1/webhooks/{sub['id']}/deliveries/{delivery['id']}/replay", headers=admin
    )
    assert response.status_code == 202 and response.json()["status"] == "pending"
    await worker.drain()
    assert [r.body for r in receiver.received] == [receiver.received[0].body] * 2
    missing = await client.post(
        f"/api/v1/webhooks/{sub['id']}/deliveries/{uuid.uuid4()}/replay", headers=admin
    )
    assert missing.status_code == 404


async def test_after_a_rotation_both_secrets_verify_for_a_day(
    client: Client,
    login_as: LoginFactory,
    engine: AsyncEngine,
    make_process: MakeProcess,
    receiver: Receiver,
    worker: Worker,
) -> None:
    admin = await login_as("admin")
    process_id = await make_process()
    sub = await _subscribe(client, admin, receiver.url, ["phase.activated"])
    rotated = await client.post(f"/api/v1/webhooks/{sub['id']}/rotate-secret", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != sub["secret"] and rotated.json()["previous_secret_expires_at"]
    await _activate(engine, process_id, PhaseKey.MEASURE_PLANNING)
    await worker.drain()
    (received,) = receiver.received
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    now = int(time.time())
    assert signing.verify(new_secret, received.headers, received.body, now=now)
    assert signing.verify(sub["secret"], received.headers, received.body, now=now)
    # Once the overlap has passed only the new secret signs.
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE webhook_subscriptions SET previous_secret_expires_at = now()")
        )
    await _activate(engine, process_id, PhaseKey.RESOURCE_PROVISION)
    await worker.drain()
    latest = receiver.received[-1]
    assert signing.verify(new_secret, latest.headers, latest.body, now=now)
    assert not signing.verify(sub["secret"], latest.headers, latest.body, now=now)


def test_signatures_follow_the_standard_webhooks_test_vector() -> None:
    """The example of the Standard Webhooks specification."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    headers = signing.headers([secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signing.verify(secret, headers, body, now=1614265330 + 10)
    assert not signing.verify(secret, headers, body, now=1614265330 + 3600)  # replayed late
    assert not signing.verify(secret, headers, body + b" ", now=1614265330)


def test_any_process_that_can_emit_knows_the_delivery_retry_policy() -> None:
    """The app process enqueues deliveries with the delivery's own attempts (14), not the
    default: importing `quartier.webhooks` (as the services do) registers the job."""
    script = (
        "import quartier.webhooks\n"
        "from quartier.jobs.queue import REGISTRY\n"
        "print(REGISTRY['webhooks.deliver'].retry.max_attempts)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(DELIVERY_RETRY.max_attempts)
