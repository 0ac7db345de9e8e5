"""The job queue: enqueue in the caller's transaction, dedupe, run, retry with backoff, fail,
leases, periodic jobs, purging."""

from __future__ import annotations

import asyncio
import datetime
import itertools
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quartier.jobs import purge
from quartier.jobs.queue import (
    SCHEDULE,
    JobContext,
    Retry,
    RetryPolicy,
    enqueue,
    job,
    periodic,
)
from quartier.jobs.worker import Worker

from .conftest import jobs, make_due

CALLS: list[tuple[str, int, dict[str, Any]]] = []


@job("test.ok")
async def ok(context: JobContext, payload: dict[str, Any]) -> None:
    CALLS.append(("ok", context.attempt, payload))


@job("test.flaky", retry=RetryPolicy(max_attempts=3, base_seconds=60, cap_seconds=600))
async def flaky(context: JobContext, payload: dict[str, Any]) -> None:
    CALLS.append(("flaky", context.attempt, payload))
    # The handler's work is rolled back when it fails.
    await enqueue(context.session, "test.marker", {"from": "flaky", "attempt": context.attempt})
    if context.attempt < payload["succeed_on"]:
        raise RuntimeError(f"boom {context.attempt}")


@job("test.retry_keeps_work", retry=RetryPolicy(max_attempts=2, base_seconds=60))
async def retry_keeps_work(context: JobContext, payload: dict[str, Any]) -> None:
    await enqueue(context.session, "test.marker", {"from": "retry", "attempt": context.attempt})
    if not context.is_last_attempt:
        raise Retry("receiver down")


@job("test.slow", timeout_seconds=0.2, retry=RetryPolicy(max_attempts=1))
async def slow(context: JobContext, payload: dict[str, Any]) -> None:
    await asyncio.sleep(5)


@job("test.private", keep_payload=False)
async def private(context: JobContext, payload: dict[str, Any]) -> None:
    CALLS.append(("private", context.attempt, payload))


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


async def test_a_job_exists_only_if_the_callers_transaction_commits(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    async with session.begin():
        await enqueue(session, "test.ok", {"n": 1})
        await session.rollback()
    assert await jobs(engine) == []
    async with session.begin():
        await enqueue(session, "test.ok", {"n": 2})
    (stored,) = await jobs(engine)
    assert (stored["kind"], stored["payload"], stored["status"]) == ("test.ok", {"n": 2}, "queued")


async def test_a_dedupe_key_makes_enqueueing_idempotent(
    engine: AsyncEngine, session: AsyncSession, worker: Worker
) -> None:
    async with session.begin():
        first = await enqueue(session, "test.ok", {"n": 1}, dedupe_key="once")
        second = await enqueue(session, "test.ok", {"n": 2}, dedupe_key="once")
        other_kind = await enqueue(session, "test.private", {"n": 3}, dedupe_key="once")
    assert first is not None and second is None and other_kind is not None
    await worker.drain()
    async with session.begin():  # also once the first is done
        assert await enqueue(session, "test.ok", {"n": 4}, dedupe_key="once") is None
    assert [c for c in CALLS if c[0] == "ok"] == [("ok", 1, {"n": 1})]


async def test_enqueue_refuses_what_json_cannot_carry(session: AsyncSession) -> None:
    async with session.begin():
        with pytest.raises(TypeError):
            await enqueue(session, "test.ok", {"when": object()})
        with pytest.raises(ValueError, match="time zone"):
            await enqueue(session, "test.ok", {}, run_at=datetime.datetime(2030, 1, 1))


async def test_the_worker_runs_due_jobs_and_marks_them_done(
    engine: AsyncEngine, session: AsyncSession, worker: Worker
) -> None:
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    async with session.begin():
        for n in range(6):
            await enqueue(session, "test.ok", {"n": n})
        await enqueue(session, "test.ok", {"n": "later"}, run_at=later)
    assert await worker.drain() == 6
    assert sorted(c[2]["n"] for c in CALLS) == list(range(6))
    states = [(j["payload"]["n"], j["status"], j["attempts"]) for j in await jobs(engine)]
    assert ("later", "queued", 0) in states
    assert sum(1 for _, status, attempts in states if (status, attempts) == ("done", 1)) == 6


async def test_a_failing_job_is_retried_with_exponential_backoff_and_its_work_rolled_back(
    engine: AsyncEngine, session: AsyncSession, worker: Worker
) -> None:
    async with session.begin():
        await enqueue(session, "test.flaky", {"succeed_on": 3})
    assert await worker.run_once() == 1
    (after_one,) = await jobs(engine, "test.flaky")
    assert after_one["status"] == "queued" and after_one["attempts"] == 1
    assert after_one["last_error"] == "RuntimeError: boom 1"
    assert after_one["waiting"]  # backoff: not due yet
    first_delay = (
        after_one["run_at"] - after_one["finished_at"] if after_one["finished_at"] else None
    )
    assert first_delay is None
    assert await worker.run_once() == 0  # nothing due
    await make_due(engine)
    await worker.run_once()
    (after_two,) = await jobs(engine, "test.flaky")
    assert after_two["attempts"] == 2 and after_two["status"] == "queued"
    await make_due(engine)
    await worker.run_once()
    (done,) = await jobs(engine, "test.flaky")
    assert (done["status"], done["attempts"]) == ("done", 3)
    # Only the successful attempt's work is kept.
    markers = [j["payload"] for j in await jobs(engine, "test.marker")]
    assert markers == [{"from": "flaky", "attempt": 3}]


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=14, base_seconds=30, cap_seconds=6 * 3600, jitter=0)
    delays = [policy.delay(n).total_seconds() for n in range(1, 14)]
    assert delays[:4] == [30, 60, 120, 240]
    assert delays[-1] == 6 * 3600
    assert all(b >= a for a, b in itertools.pairwise(delays))
    assert datetime.timedelta(hours=24) <= policy.total() <= datetime.timedelta(hours=30)
    jittered = RetryPolicy(base_seconds=100, jitter=0.1)
    assert all(90 <= jittered.delay(1).total_seconds() <= 110 for _ in range(50))


async def test_a_job_fails_for_good_after_its_last_attempt(
    engine: AsyncEngine, session: AsyncSession, worker: Worker
) -> None:
    async with session.begin():
        await enqueue(session, "test.flaky", {"succeed_on": 99})
    for _ in range(3):
        await make_due(engine)
        await worker.run_once()
    (failed,) = await jobs(engine, "test.flaky")
    assert (failed["status"], failed["attempts"], failed["max_attempts"]) == ("failed", 3, 3)
    assert failed["finished_at"] is not None and failed["last_error"] == "RuntimeError: boom 3"
    await make_due(engine)
    assert await worker.run_once() == 0


async def test_retry_keeps_the_handlers_own_work(
    engine: AsyncEngine, session: AsyncSession, worker: Worker
) -> None:
    async with session.begin():
        await enqueue(session, "test.retry_keeps_work", {})
    await worker.run_once()
    (waiting,) = await jobs(engine, "test.retry_keeps_work")
    assert (waiting["status"], waiting["last_error"]) == ("queued", "receiver down")
    await make_due(engine)
    await worker.run_once()
    markers = [j["payload"]["attempt"] for j in await jobs(engine, "test.marker")]
    assert markers == [1, 2]
    assert (await jobs(engine, "test.retry_keeps_work"))[0]["status"] == "done"


async def test_a_handler_is_cancelled_at_its_timeout(
    engine: AsyncEngine, session: AsyncSession, worker: Worker
) -> None:
    async with session.begin():
        await enqueue(session, "test.slow", {})
    started = asyncio.get_running_loop().time()
    await worker.run_once()
    assert asyncio.get_running_loop().time() - started < 3
    (failed,) = await jobs(engine, "test.slow")
    assert (failed["status"], failed["last_error"]) == ("failed", "TimeoutError")


async def test_an_unknown_kind_is_retried_not_lost(
    engine: AsyncEngine, session: AsyncSession, worker: Worker
) -> None:
    async with session.begin():
        await enqueue(session, "test.nobody-handles-this", {})
    await worker.run_once()
    (waiting,) = await jobs(engine, "test.nobody-handles-this")
    assert waiting["status"] == "queued" and "no handler" in waiting["last_error"]


async def test_an_expired_lease_is_claimed_again_and_the_old_worker_cannot_complete(
    engine: AsyncEngine, session: AsyncSession, settings: Any
) -> None:
    async with session.begin():
        await enqueue(session, "test.ok", {"n": 1})
    crashed = Worker(engine, settings, worker_id="crashed", grace_seconds=0)
    (claimed,) = await crashed.claim(1)
    rescuer = Worker(engine, settings, worker_id="rescuer", grace_seconds=0)
    assert await rescuer.claim(1) == []  # leased
    async with engine.begin() as connection:  # the lease runs out
        await connection.execute(text("UPDATE jobs SET locked_until = now() - interval '1 s'"))
    assert await rescuer.run_once() == 1
    await crashed.execute(claimed)  # the old worker wakes up: its completion changes nothing
    (done,) = await jobs(engine, "test.ok")
    assert (done["status"], done["attempts"]) == ("done", 2)


async def test_two_workers_never_run_the_same_job(
    engine: AsyncEngine, session: AsyncSession, settings: Any
) -> None:
    async with session.begin():
        for n in range(40):
            await enqueue(session, "test.ok", {"n": n})
    workers = [Worker(engine, settings, worker_id=f"w{i}", concurrency=3) for i in range(3)]
    await asyncio.gather(*(w.drain() for w in workers))
    assert sorted(c[2]["n"] for c in CALLS) == list(range(40))


async def test_the_payload_of_a_private_job_is_erased_when_done(
    engine: AsyncEngine, session: AsyncSession, worker: Worker
) -> None:
    async with session.begin():
        await enqueue(session, "test.private", {"email": "resident@example.org"})
    await worker.drain()
    assert CALLS == [("private", 1, {"email": "resident@example.org"})]
    assert (await jobs(engine, "test.private"))[0]["payload"] == {}


async def test_periodic_jobs_are_enqueued_once_per_slot_whichever_worker_is_first(
    engine: AsyncEngine, settings: Any
) -> None:
    periodic("test.ok", datetime.timedelta(minutes=10), {"n": "tick"})
    try:
        a = Worker(engine, settings, worker_id="a")
        b = Worker(engine, settings, worker_id="b")
        at = datetime.datetime(2026, 12, 6, 12, 3, tzinfo=datetime.UTC)
        await a.schedule_periodic(at)
        await b.schedule_periodic(at + datetime.timedelta(minutes=5))
        await a.schedule_periodic(at + datetime.timedelta(minutes=6))
        ticks = await jobs(engine, "test.ok")
        assert [j["dedupe_key"] for j in ticks] == ["periodic:2026-12-06T12:00:00+00:00"]
        await b.schedule_periodic(at + datetime.timedelta(minutes=7, seconds=1))
        assert len(await jobs(engine, "test.ok")) == 2
    finally:
        SCHEDULE.pop("test.ok")
    assert purge.PURGE_KIND in SCHEDULE


async def test_the_purge_deletes_finished_jobs_after_the_retention(
    engine: AsyncEngine, session: AsyncSession, worker: Worker
) -> None:
    async with session.begin():
        for n in range(3):
            await enqueue(session, "test.ok", {"n": n})
    await worker.drain()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE jobs SET finished_at = now() - interval '8 days'"
                " WHERE payload->>'n' IN ('0', '1')"
            )
        )
    async with session.begin():
        await enqueue(session, purge.PURGE_KIND, {})
        await enqueue(
            session,
            "test.ok",
            {"n": "queued"},
            run_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1),
        )
    await worker.drain()
    left = sorted(str(j["payload"].get("n")) for j in await jobs(engine, "test.ok"))
    assert left == ["2", "queued"]


async def test_the_running_worker_picks_up_a_job_as_soon_as_it_is_committed(
    engine: AsyncEngine, settings: Any
) -> None:
    worker = Worker(engine, settings, poll_seconds=30)  # only NOTIFY can wake it in time
    runner = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0.5)
        async with async_sessionmaker(engine)() as session, session.begin():
            await enqueue(session, "test.ok", {"n": "notified"})
        for _ in range(100):
            if CALLS:
                break
            await asyncio.sleep(0.05)
        assert CALLS == [("ok", 1, {"n": "notified"})]
    finally:
        worker.stop()
        await asyncio.wait_for(runner, 10)
