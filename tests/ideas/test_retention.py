"""Retention of notification addresses (issue #8 §4): the daily purge deletes an idea's
e-mail address (and its language) once the idea has not changed for the configured period."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.ideas import services
from quartier.ideas.models import Idea, idea_supports
from quartier.jobs.worker import Worker
from quartier.processes.models import PlanningProcess, ProcessPhase
from quartier.settings import Settings, SettingsError, load_settings
from quartier.surveys import retention
from tests.surveys.test_responses import _every_table as every_table

from .conftest import TOKEN_A, TOKEN_B, Client, Ideas


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


# -- supporters' pseudonyms ---------------------------------------------------------------------

_SUPPORTERS = text(
    """
    SELECT count(DISTINCT s.pseudonym), count(*),
           count(DISTINCT (s.pseudonym, s.record_key)), sum(s.record_key)
    FROM idea_supports s JOIN ideas i ON i.id = s.idea_id WHERE i.process_id = :process
    """
)


async def _supports(session: AsyncSession, process_id: uuid.UUID) -> dict[str, list[bytes]]:
    """Each idea's support pseudonyms."""
    session.expire_all()
    rows = await session.execute(
        select(idea_supports.c.idea_id, idea_supports.c.pseudonym)
        .join(Idea, Idea.id == idea_supports.c.idea_id)
        .where(Idea.process_id == process_id)
    )
    found: dict[str, list[bytes]] = {}
    for idea_id, pseudonym in rows:
        found.setdefault(str(idea_id), []).append(bytes(pseudonym))
    return found


async def _figures(ideas: Ideas, client: Client, session: AsyncSession) -> Any:
    """Everything published from the supports: each idea's support count, the aggregates at
    every level, and the counts the aggregates are made of."""
    listed = await client.get("/api/v1/ideas", params={"process_id": str(ideas.process_id)})
    assert listed.status_code == 200, listed.text
    counts = {item["id"]: item["support_count"] for item in listed.json()["items"]}
    url = f"/api/v1/processes/{ideas.process_id}/idea-aggregates"
    aggregates = [
        (await client.get(url, params={"level": level}, headers=ideas.planner)).json()["cells"]
        for level in ("planning_area", "district_region", "district")
    ]
    raw = (await session.execute(_SUPPORTERS, {"process": ideas.process_id})).one()
    return counts, aggregates, tuple(raw)


async def _close_ideas(ideas: Ideas, client: Client) -> None:
    """Service delivery: ideas are not open in it (by default)."""
    response = await client.post(
        f"/api/v1/processes/{ideas.process_id}/phases/service_delivery/activate",
        headers=ideas.planner,
    )
    assert response.status_code in (200, 201), response.text


async def test_supporters_pseudonyms_are_replaced_once_ideas_closed_keeping_every_figure(
    ideas: Ideas, client: Client, session: AsyncSession, settings: Settings
) -> None:
    """Issue #8 §4: a support's pseudonym only serves while supporting is possible. Once ideas
    are closed in the process, the purge replaces it by a value that leads back to no token —
    the same for one resident's supports, so that no published figure changes."""
    first = await ideas.published(title="Bänke am Leopoldplatz")
    second = await ideas.published(
        title="Trinkbrunnen am Nettelbeckplatz",
        description="Im Sommer fehlt Trinkwasser auf dem Platz vor dem Bahnhof.",
    )
    for idea, token in ((first, TOKEN_A), (second, TOKEN_A), (first, TOKEN_B)):
        response = await ideas.support(idea["id"], token)
        assert response.status_code in (200, 201), response.text
    before = await _figures(ideas, client, session)
    first_id = uuid.UUID(first["id"])
    assert await services.supported_by(session, settings, first_id, ideas.process_id, TOKEN_A)
    live = await _supports(session, ideas.process_id)
    assert all(len(p) == retention.LIVE_PSEUDONYM_BYTES for ps in live.values() for p in ps)

    # While ideas are open, they stay: they refuse a second support.
    found = await retention.purge(session)
    await session.commit()
    assert found.support_pseudonyms == 0
    assert await _supports(session, ideas.process_id) == live

    stored = await every_table(session)
    assert all(p.hex() in stored for ps in live.values() for p in ps)

    await _close_ideas(ideas, client)
    found = await retention.purge(session)  # the default period: 0 days after the end
    await session.commit()
    assert found.support_pseudonyms == 3
    replaced = await _supports(session, ideas.process_id)
    old = {p for ps in live.values() for p in ps}
    new = {p for ps in replaced.values() for p in ps}
    assert all(len(p) == retention.PURGED_PSEUDONYM_BYTES for p in new)
    assert not new & old and not any(p in o for p in new for o in old)
    # Resident A's two supports still share one value; B's is another: two distinct supporters.
    assert len(new) == 2
    assert set(replaced[second["id"]]) < set(replaced[first["id"]])
    assert await _figures(ideas, client, session) == before
    # The browser's support is no longer recognised (nothing leads back to its token).
    assert not await services.supported_by(session, settings, first_id, ideas.process_id, TOKEN_A)
    # Nowhere in the database any more (row_to_json writes bytea as hex).
    everything = await every_table(session)
    assert not any(pseudonym.hex() in everything for pseudonym in old)

    again = await retention.purge(session)
    await session.commit()
    assert again.support_pseudonyms == 0
    assert await _supports(session, ideas.process_id) == replaced

    # A merge afterwards (it recounts from the rows) still counts resident A once.
    merged = await client.post(
        f"/api/v1/ideas/{second['id']}/merge",
        json={"into_id": first["id"], "reason": "Dieselbe Gegend"},
        headers=ideas.moderator,
    )
    assert merged.status_code == 200, merged.text
    assert (await client.get(f"/api/v1/ideas/{first['id']}")).json()["support_count"] == 2


async def test_supporters_pseudonyms_are_kept_for_the_period_after_ideas_closed(
    ideas: Ideas, client: Client, session: AsyncSession, settings: Settings
) -> None:
    idea = await ideas.published()
    assert (await ideas.support(idea["id"])).status_code in (200, 201)
    await _close_ideas(ideas, client)
    policy = retention.Policy.of(dataclasses.replace(settings, retention_pseudonym_days=30))
    assert policy.pseudonyms == datetime.timedelta(days=30)
    now = datetime.datetime.now(datetime.UTC)
    assert (await retention.purge(session, policy, now=now)).support_pseudonyms == 0
    later = now + datetime.timedelta(days=29)
    assert (await retention.purge(session, policy, now=later)).support_pseudonyms == 0
    await session.commit()
    assert all(
        len(p) == retention.LIVE_PSEUDONYM_BYTES
        for ps in (await _supports(session, ideas.process_id)).values()
        for p in ps
    )
    later = now + datetime.timedelta(days=31)
    assert (await retention.purge(session, policy, now=later)).support_pseudonyms == 1
    await session.commit()


async def test_an_override_that_closes_ideas_dates_their_end(
    ideas: Ideas, client: Client, session: AsyncSession
) -> None:
    """Closing ideas by a participation override (the phase unchanged) starts the period then,
    not when the phase began."""
    idea = await ideas.published()
    assert (await ideas.support(idea["id"])).status_code in (200, 201)
    assert await retention.ideas_closed_since(session, ideas.process_id) is None
    await session.execute(
        update(PlanningProcess)
        .where(PlanningProcess.id == ideas.process_id)
        .values(updated_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=90))
    )
    await session.execute(
        update(ProcessPhase)
        .where(ProcessPhase.process_id == ideas.process_id, ProcessPhase.is_active)
        .values(activated_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=90))
    )
    await session.commit()
    closed = await client.put(
        f"/api/v1/processes/{ideas.process_id}/participation/ideas/needs_assessment",
        json={"is_open": False},
        headers=ideas.planner,
    )
    assert closed.status_code == 200, closed.text
    session.expire_all()
    since = await retention.ideas_closed_since(session, ideas.process_id)
    assert since is not None
    assert datetime.datetime.now(datetime.UTC) - since < datetime.timedelta(minutes=5)
    policy = retention.Policy(pseudonyms=datetime.timedelta(days=30))
    assert (await retention.purge(session, policy)).support_pseudonyms == 0
