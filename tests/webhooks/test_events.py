"""Webhooks (issue 13 §3): the events the ideas, measures and reports modules emit reach a real
receiver, signed, with ids and states only (the phase and survey events are in
test_webhooks.py)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from quartier.jobs.worker import Worker
from quartier.processes.phases import PhaseKey
from quartier.webhooks import EVENT_TYPES, signing
from tests.conftest import LoginFactory
from tests.ideas.conftest import Ideas, moderator  # noqa: F401 - fixtures
from tests.measures.conftest import (  # noqa: F401 - fixtures
    CreateMeasure,
    create_measure,
    measuring_process,
)
from tests.reports.conftest import SECTIONS, Activate, activate  # noqa: F401 - fixtures
from tests.surveys.conftest import Headers

from .conftest import Receiver
from .test_webhooks import Client, _subscribe


async def _events(receiver: Receiver, secret: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for received in receiver.received:
        assert signing.verify(secret, received.headers, received.body, now=int(time.time()))
        body = json.loads(received.body)
        events.append((body["type"], body["data"]))
    return events


async def test_idea_submission_and_official_status_changes_are_events(
    client: Client,
    login_as: LoginFactory,
    process_id: uuid.UUID,
    moderator: Headers,  # noqa: F811
    planner: Headers,
    receiver: Receiver,
    worker: Worker,
) -> None:
    admin = await login_as("admin")
    subscription = await _subscribe(
        client,
        admin,
        receiver.url,
        ["idea.submitted", "idea.status_changed"],
        process_id=str(process_id),
    )
    ideas = Ideas(client=client, process_id=process_id, moderator=moderator, planner=planner)
    idea = await ideas.published()
    duplicate = await ideas.published(
        title="Sitzbänke bitte", description="Auf dem Leopoldplatz fehlen Bänke zum Ausruhen."
    )
    url = f"/api/v1/ideas/{idea['id']}/answer"
    for status, answer in (
        ("under_review", "Wir prüfen das."),
        ("under_review", "Wir prüfen das noch."),  # a new answer, the same status: no event
        ("accepted", "Wir stellen zwei Bänke auf."),
    ):
        answered = await client.put(
            url, json={"official_status": status, "answer": answer}, headers=planner
        )
        assert answered.status_code == 200, answered.text
    merged = await client.post(
        f"/api/v1/ideas/{duplicate['id']}/merge", json={"into_id": idea["id"]}, headers=moderator
    )
    assert merged.status_code == 200, merged.text
    assert await worker.drain() == 5
    events = await _events(receiver, subscription["secret"])
    process = str(process_id)
    assert sorted(events, key=lambda e: json.dumps(e, sort_keys=True)) == sorted(
        [
            ("idea.submitted", {"idea_id": idea["id"], "state": "pending", "process_id": process}),
            (
                "idea.submitted",
                {"idea_id": duplicate["id"], "state": "pending", "process_id": process},
            ),
            (
                "idea.status_changed",
                {
                    "idea_id": idea["id"],
                    "official_status": "under_review",
                    "previous_status": None,
                    "process_id": process,
                },
            ),
            (
                "idea.status_changed",
                {
                    "idea_id": idea["id"],
                    "official_status": "accepted",
                    "previous_status": "under_review",
                    "process_id": process,
                },
            ),
            (
                "idea.status_changed",
                {
                    "idea_id": duplicate["id"],
                    "official_status": "merged",
                    "previous_status": None,
                    "process_id": process,
                },
            ),
        ],
        key=lambda e: json.dumps(e, sort_keys=True),
    )


async def test_measure_status_changes_are_events(
    client: Client,
    login_as: LoginFactory,
    measuring_process: uuid.UUID,  # noqa: F811
    create_measure: CreateMeasure,  # noqa: F811
    planner: Headers,
    receiver: Receiver,
    worker: Worker,
) -> None:
    admin = await login_as("admin")
    subscription = await _subscribe(client, admin, receiver.url, ["measure.status_changed"])
    measure_id = await create_measure()
    withdrawn = await client.post(
        f"/api/v1/measures/{measure_id}/withdraw", json={"reason": "Doppelt"}, headers=planner
    )
    assert withdrawn.status_code == 200, withdrawn.text
    again = await client.post(
        f"/api/v1/measures/{measure_id}/withdraw", json={"reason": "Doppelt"}, headers=planner
    )
    assert again.status_code == 409  # refused: no event
    assert await worker.drain() == 1
    assert await _events(receiver, subscription["secret"]) == [
        (
            "measure.status_changed",
            {
                "measure_id": measure_id,
                "status": "withdrawn",
                "previous_status": "draft",
                "process_id": str(measuring_process),
            },
        )
    ]


async def test_a_released_social_report_is_an_event(
    client: Client,
    login_as: LoginFactory,
    process_id: uuid.UUID,
    planner: Headers,
    activate: Activate,  # noqa: F811
    receiver: Receiver,
    worker: Worker,
) -> None:
    admin = await login_as("admin")
    subscription = await _subscribe(
        client, admin, receiver.url, ["report.published"], process_id=str(process_id)
    )
    path = f"/api/v1/processes/{process_id}/social-report"
    written = await client.put(f"{path}/sections", json={"sections": SECTIONS}, headers=planner)
    assert written.status_code == 200, written.text
    await activate(process_id, PhaseKey.SOCIAL_REPORTING)
    released = await client.post(f"{path}/release", headers=planner)
    assert released.status_code == 200, released.text
    await worker.drain()  # the delivery, and the PDFs laid out per language
    assert await _events(receiver, subscription["secret"]) == [
        ("report.published", {"cycle": 1, "process_id": str(process_id)})
    ]


def test_every_event_type_is_emitted_somewhere() -> None:
    """A subscription to an event type no module emits would wait for nothing."""
    from pathlib import Path

    backend = Path(__file__).resolve().parents[2] / "backend" / "quartier"
    sources = "\n".join(p.read_text() for p in backend.rglob("*.py") if "webhooks" not in p.parts)
    assert [e for e in EVENT_TYPES if f'"{e}"' not in sources] == []
