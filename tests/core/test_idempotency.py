"""Idempotency-Key semantics on a real database: replay, conflict, in-flight, exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quartier.core.errors import Conflict, InvalidInput, Unprocessable
from quartier.core.idempotency import StoredResponse, fingerprint, purge_expired, run_idempotent
from quartier.settings import Settings
from quartier.surveys import retention

DAY = datetime.timedelta(hours=24)


@pytest.fixture
async def records(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE submissions (id serial PRIMARY KEY, body text)")
        )
    return async_sessionmaker(engine, expire_on_commit=False)


async def _submit(
    maker: async_sessionmaker[AsyncSession],
    key: str | None,
    body: str,
    delay: float = 0.0,
    *,
    keep: datetime.timedelta = DAY,
) -> StoredResponse:
    async with maker() as session, session.begin():

        async def produce() -> tuple[int, Any, dict[str, str]]:
            new_id = await session.scalar(
                text("INSERT INTO submissions (body) VALUES (:b) RETURNING id"), {"b": body}
            )
            await asyncio.sleep(delay)
            return 201, {"id": new_id, "body": body}, {"Location": f"/submissions/{new_id}"}

        return await run_idempotent(
            session,
            operation="Test",
            key=key,
            request_fingerprint=fingerprint("test secret", body.encode()),
            produce=produce,
            retention=keep,
        )


async def _count(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as session:
        return int(await session.scalar(text("SELECT count(*) FROM submissions")) or 0)


async def test_retry_with_same_key_and_body_replays_the_original(
    records: async_sessionmaker[AsyncSession],
) -> None:
    first = await _submit(records, "key-1", "hello")
    second = await _submit(records, "key-1", "hello")
    assert not first.replayed
    assert second.replayed
    assert (second.status, second.body, second.headers) == (first.status, first.body, first.headers)
    assert await _count(records) == 1


async def test_same_key_with_another_body_is_422(records: async_sessionmaker[AsyncSession]) -> None:
    await _submit(records, "key-2", "hello")
    with pytest.raises(Unprocessable):
        await _submit(records, "key-2", "changed")
    assert await _count(records) == 1


async def test_no_key_means_no_protection(records: async_sessionmaker[AsyncSession]) -> None:
    await _submit(records, None, "hello")
    await _submit(records, None, "hello")
    assert await _count(records) == 2


async def test_a_failed_submission_stores_neither_record_nor_key(
    records: async_sessionmaker[AsyncSession],
) -> None:
    async def failing_submission() -> None:
        async with records() as session, session.begin():

            async def produce() -> tuple[int, Any, dict[str, str]]:
                await session.execute(text("INSERT INTO submissions (body) VALUES ('x')"))
                raise RuntimeError("validation failed after the insert")

            await run_idempotent(
                session,
                operation="Test",
                key="key-3",
                request_fingerprint=fingerprint("test secret", b"x"),
                produce=produce,
                retention=DAY,
            )

    with pytest.raises(RuntimeError):
        await failing_submission()
    assert await _count(records) == 0
    assert not (await _submit(records, "key-3", "x")).replayed


async def test_retry_while_in_flight_is_409(records: async_sessionmaker[AsyncSession]) -> None:
    slow = asyncio.create_task(_submit(records, "key-4", "hello", delay=0.5))
    await asyncio.sleep(0.15)
    with pytest.raises(Conflict) as caught:
        await _submit(records, "key-4", "hello")
    assert caught.value.headers["Retry-After"] == "1"
    await slow
    assert (await _submit(records, "key-4", "hello")).replayed


async def test_a_hundred_concurrent_duplicates_create_exactly_one_record(
    records: async_sessionmaker[AsyncSession],
) -> None:
    async def attempt() -> StoredResponse | str:
        try:
            return await _submit(records, "key-5", "hello", delay=0.05)
        except Conflict:
            return "in flight"

    outcomes = await asyncio.gather(*(attempt() for _ in range(100)))
    answered = [o for o in outcomes if isinstance(o, StoredResponse)]
    assert answered, "at least the original request is answered"
    assert len({o.body for o in answered}) == 1
    assert all(o == "in flight" or isinstance(o, StoredResponse) for o in outcomes)
    assert await _count(records) == 1
    final = await _submit(records, "key-5", "hello")
    assert final.replayed
    assert final.body == answered[0].body


async def test_control_characters_in_the_key_are_refused(
    records: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(InvalidInput):
        await _submit(records, "bad\nkey", "hello")


def test_fingerprints_are_keyed() -> None:
    """Issue #8 §3: a stored fingerprint cannot be tested against guessed bodies without the
    app's secret."""
    import hashlib

    body = b'{"answers":{},"invitation_code":"ABCDE-FGHJK"}'
    keyed = fingerprint("secret one", body)
    assert keyed != fingerprint("secret two", body)
    assert keyed != hashlib.sha256(body).digest()
    assert keyed == fingerprint("secret one", body)
    assert fingerprint("secret one", b"ab", b"c") != fingerprint("secret one", b"a", b"bc")


async def _records(maker: async_sessionmaker[AsyncSession]) -> dict[str, datetime.timedelta]:
    """Each stored key → how long it replays (expires_at − created_at)."""
    async with maker() as session:
        rows = await session.execute(
            text("SELECT idempotency_key, expires_at - created_at FROM idempotency_keys")
        )
        return {row[0]: row[1] for row in rows}


async def test_a_record_replays_for_the_configured_period(
    records: async_sessionmaker[AsyncSession],
) -> None:
    """Issue #8 §4: the replay window is the setting (QUARTIER_RETENTION_IDEMPOTENCY_HOURS)."""
    await _submit(records, "short", "hello", keep=datetime.timedelta(hours=2))
    await _submit(records, "default", "hello")
    kept = await _records(records)
    assert kept["short"] == datetime.timedelta(hours=2)
    assert kept["default"] == DAY
    async with records() as session, session.begin():
        await session.execute(
            text(
                "UPDATE idempotency_keys SET created_at = created_at - interval '3 hours', "
                "expires_at = expires_at - interval '3 hours'"
            )
        )
    # Past its window, the key is fresh again: the body is stored anew.
    again = await _submit(records, "short", "hello", keep=datetime.timedelta(hours=2))
    assert not again.replayed
    assert (await _submit(records, "default", "hello")).replayed
    assert await _count(records) == 3


async def test_the_purge_honours_the_configured_period(
    records: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """The daily purge deletes records past their window, and those older than the period now
    configured (a deployment that shortens it does not wait for the records stored under the
    longer one)."""
    for key in ("fresh", "five-hours", "two-days"):
        await _submit(records, key, key)
    async with records() as session, session.begin():
        await session.execute(
            text(
                "UPDATE idempotency_keys SET created_at = created_at - interval '5 hours', "
                "expires_at = expires_at - interval '5 hours' WHERE idempotency_key = 'five-hours'"
            )
        )
        await session.execute(
            text(
                "UPDATE idempotency_keys SET created_at = created_at - interval '2 days', "
                "expires_at = expires_at - interval '2 days' WHERE idempotency_key = 'two-days'"
            )
        )
    async with records() as session, session.begin():
        assert await purge_expired(session, DAY) == 1  # two days old: past its 24 hours
    assert set(await _records(records)) == {"fresh", "five-hours"}

    # A deployment that keeps them for 4 hours: the daily job's policy is the setting.
    short = dataclasses.replace(settings, retention_idempotency_hours=4)
    assert short.idempotency_retention == datetime.timedelta(hours=4)
    policy = retention.Policy.of(short)
    assert policy.idempotency == datetime.timedelta(hours=4)
    async with records() as session, session.begin():
        found = await retention.purge(session, policy)
    assert found.idempotency_records == 1
    assert set(await _records(records)) == {"fresh"}
