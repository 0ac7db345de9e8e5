"""Retention of feedback pseudonyms (issue #8 §4): the daily purge deletes a resident's
feedback pseudonym once the consultation's window has been closed for the configured period
(the pseudonym only refuses a second response while the window is open)."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.jobs.worker import Worker
from quartier.measures.models import Consultation, Feedback
from quartier.settings import Settings
from quartier.surveys import retention

from .conftest import Client, CreateMeasure, Json

Consult = Callable[..., Awaitable[Json]]


async def _give(client: Client, measure_id: str, browser: str) -> None:
    response = await client.post(
        f"/api/v1/measures/{measure_id}/feedback",
        json={"stance": "support", "ratings": {"relevance": 4}},
        headers={"Respondent-Token": f"retention-browser-{browser}-0123456789"},
    )
    assert response.status_code == 201, response.text


async def _closed(session: AsyncSession, consultation_id: str, days_ago: int) -> None:
    """The window closed `days_ago` days ago."""
    closes = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days_ago)
    await session.execute(
        update(Consultation)
        .where(Consultation.id == uuid.UUID(consultation_id))
        .values(opens_at=closes - datetime.timedelta(days=14), closes_at=closes)
    )
    await session.commit()


async def _pseudonyms(session: AsyncSession) -> dict[str, list[bytes | None]]:
    """Each consultation's feedback pseudonyms."""
    session.expire_all()
    found: dict[str, list[bytes | None]] = {}
    for consultation_id, pseudonym in await session.execute(
        select(Feedback.consultation_id, Feedback.pseudonym)
    ):
        found.setdefault(str(consultation_id), []).append(pseudonym)
    return found


async def test_feedback_pseudonyms_are_deleted_after_the_window_closed(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    session: AsyncSession,
    engine: AsyncEngine,
    settings: Settings,
) -> None:
    closed = await consult(await create_measure())
    still_open = await consult(await create_measure(title="Spielplatz Moabit"))
    for consultation in (closed, still_open):
        for browser in ("a", "b"):
            await _give(client, consultation["measure_id"], browser)
    await _closed(session, closed["id"], days_ago=10)

    # A deployment that keeps them 30 days after the window: both kept.
    keep = retention.Policy.of(dataclasses.replace(settings, retention_pseudonym_days=30))
    assert (await retention.purge(session, keep)).feedback_pseudonyms == 0
    await session.commit()
    assert all(p is not None for ps in (await _pseudonyms(session)).values() for p in ps)

    # The default (0 days) by the daily job: the closed window's pseudonyms go, the rows stay.
    worker = Worker(engine, settings, concurrency=1, poll_seconds=0.05, grace_seconds=1.0)
    assert await worker.schedule_periodic() >= 1
    assert await worker.drain() >= 1
    pseudonyms = await _pseudonyms(session)
    assert pseudonyms[closed["id"]] == [None, None]
    assert len(pseudonyms[still_open["id"]]) == 2
    assert all(p is not None for p in pseudonyms[still_open["id"]])
    # Still open: a second response from the same browser is refused.
    again = await client.post(
        f"/api/v1/measures/{still_open['measure_id']}/feedback",
        json={"stance": "support"},
        headers={"Respondent-Token": "retention-browser-a-0123456789"},
    )
    assert again.status_code == 409
    assert (await retention.purge(session)).feedback_pseudonyms == 0
