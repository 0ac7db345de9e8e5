"""Retention of notification addresses (issue #8 §4): the daily purge deletes an idea's
e-mail address (and its language) once the idea has not changed for the configured period."""

from __future__ import annotations

import dataclasses
import datetime
import uuid

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.ideas.models import Idea
from quartier.jobs.worker import Worker
from quartier.settings import Settings, SettingsError, load_settings
from quartier.surveys import retention

from .conftest import Ideas


async def _submit(ideas: Ideas, address: str) -> uuid.UUID:
    response = await ideas.submit(
        title=f"Idee von {address}",
        description=f"Eine eigene Beschreibung für {address}, damit sie kein Duplikat ist.",
        notify_email=address,
        email_consent=True,
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["idea"]["id"])


async def _age(session: AsyncSession, idea_id: uuid.UUID, days: int) -> None:
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)
    await session.execute(
        update(Idea).where(Idea.id == idea_id).values(created_at=when, updated_at=when)
    )
    await session.commit()


async def _address(session: AsyncSession, idea_id: uuid.UUID) -> tuple[str | None, str | None]:
    session.expire_all()
    row = (
        await session.execute(
            select(Idea.notify_email, Idea.notify_language).where(Idea.id == idea_id)
        )
    ).one()
    return row[0], row[1]


async def test_the_purge_deletes_addresses_of_ideas_unchanged_for_the_period(
    ideas: Ideas, session: AsyncSession
) -> None:
    old = await _submit(ideas, "alt@example.org")
    answered_lately = await _submit(ideas, "beantwortet@example.org")
    recent = await _submit(ideas, "neu@example.org")
    await _age(session, old, 400)
    await _age(session, answered_lately, 400)
    await session.execute(
        update(Idea)
        .where(Idea.id == answered_lately)
        .values(answered_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=10))
    )
    await _age(session, recent, 100)
    assert (await _address(session, old))[1] is not None  # the language is kept with it

    found = await retention.purge(session)
    await session.commit()
    assert found.notify_emails == 1
    assert await _address(session, old) == (None, None)
    assert (await _address(session, answered_lately))[0] == "beantwortet@example.org"
    assert (await _address(session, recent))[0] == "neu@example.org"
    assert (await retention.purge(session)).notify_emails == 0


async def test_the_period_is_a_setting_the_daily_job_applies(
    ideas: Ideas, session: AsyncSession, engine: AsyncEngine, settings: Settings
) -> None:
    idea_id = await _submit(ideas, "kurz@example.org")
    await _age(session, idea_id, 40)
    assert (await _address(session, idea_id))[0] == "kurz@example.org"
    short = dataclasses.replace(settings, retention_notify_email_days=30)
    assert retention.Policy.of(short).notify_emails == datetime.timedelta(days=30)
    worker = Worker(engine, short, concurrency=1, poll_seconds=0.05, grace_seconds=1.0)
    assert await worker.schedule_periodic() >= 1
    assert await worker.drain() >= 1
    assert await _address(session, idea_id) == (None, None)


def test_the_period_is_read_from_the_environment(tmp_path: object) -> None:
    base = {
        "QUARTIER_ENV": "test",
        "SECRET_KEY": "test-secret-key-0123456789-abcdefghijklmnop",
        "QUARTIER_DATA_DIR": str(tmp_path),
    }
    assert load_settings(base).retention_notify_email_days == 365
    given = load_settings({**base, "QUARTIER_RETENTION_NOTIFY_EMAIL_DAYS": "90"})
    assert given.retention_notify_email_days == 90
    with pytest.raises(SettingsError) as error:
        load_settings({**base, "QUARTIER_RETENTION_NOTIFY_EMAIL_DAYS": "-1"})
    assert "QUARTIER_RETENTION_NOTIFY_EMAIL_DAYS" in str(error.value)
