"""The worker: claims due jobs with `FOR UPDATE SKIP LOCKED`, runs their handlers, retries
with backoff, and enqueues periodic jobs.

Crash safety is a lease: a claimed job is `running` with `locked_until = now() + lease`, where
the lease is the kind's timeout plus a grace period. A worker that dies (SIGKILL, power loss)
never completes the job; once the lease has expired another worker (or the same one restarted)
claims it again. A handler never outlives its lease: it is cancelled at its timeout.

A handler's database work and the job's completion commit in one transaction, so a job whose
effects are only in the database runs exactly once. Effects outside it (an e-mail, an HTTP
request) are at least once: handlers make them idempotent (a dedupe key, a `webhook-id`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.types import Float, String

from quartier.jobs.queue import (
    NOTIFY_CHANNEL,
    REGISTRY,
    SCHEDULE,
    JobContext,
    JobKind,
    Retry,
    RetryPolicy,
    enqueue,
)

log = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 30.0
MAX_ERROR_LENGTH = 2000

_CLAIM = text(
    """
    WITH due AS (
        SELECT id FROM jobs
        WHERE status IN ('queued', 'running') AND run_at <= now()
          AND (status = 'queued' OR locked_until < now())
        ORDER BY run_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE jobs AS j
    SET status = 'running',
        attempts = j.attempts + 1,
        locked_by = :worker,
        locked_until = now() + make_interval(secs => COALESCE(
            (SELECT lease.seconds FROM unnest(:kinds, :leases) AS lease(kind, seconds)
             WHERE lease.kind = j.kind),
            :default_lease)),
        updated_at = now()
    FROM due
    WHERE j.id = due.id
    RETURNING j.id, j.kind, j.payload, j.attempts, j.max_attempts
    """
).bindparams(
    bindparam("kinds", type_=ARRAY(String)),
    bindparam("leases", type_=ARRAY(Float)),
    bindparam("default_lease", type_=Float),
)
# Every completion is guarded by the lease: a worker whose lease was taken over changes nothing.
_DONE = text(
    """
    UPDATE jobs SET status = 'done', finished_at = now(), locked_until = NULL, updated_at = now(),
        payload = CASE WHEN :keep_payload THEN payload ELSE '{}'::jsonb END
    WHERE id = :id AND locked_by = :worker AND attempts = :attempt AND status = 'running'
    """
)
_RESCHEDULE = text(
    """
    UPDATE jobs SET status = 'queued', run_at = now() + make_interval(secs => :delay),
        locked_until = NULL, last_error = :error, updated_at = now()
    WHERE id = :id AND locked_by = :worker AND attempts = :attempt AND status = 'running'
    """
)
_FAIL = text(
    """
    UPDATE jobs SET status = 'failed', finished_at = now(), locked_until = NULL,
        last_error = :error, updated_at = now()
    WHERE id = :id AND locked_by = :worker AND attempts = :attempt AND status = 'running'
    """
)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: UUID
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int


class LeaseLost(RuntimeError):
    """The job's lease expired and another worker took it over."""


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


class Worker:
    def __init__(
        self,
        engine: AsyncEngine,
        settings: Any,
        *,
        concurrency: int = 4,
        poll_seconds: float = 1.0,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        worker_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self.worker_id = worker_id or default_worker_id()
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    # -- one round ----------------------------------------------------------------------------
    async def claim(self, limit: int) -> list[Claimed]:
        kinds = sorted(REGISTRY)
        leases = [REGISTRY[k].timeout_seconds + self.grace_seconds for k in kinds]
        async with self.sessions() as session, session.begin():
            rows = await session.execute(
                _CLAIM,
                {
                    "limit": limit,
                    "worker": self.worker_id,
                    "kinds": kinds,
                    "leases": leases,
                    "default_lease": 60.0 + self.grace_seconds,
                },
            )
            return [Claimed(*row) for row in rows]

    async def run_once(self, limit: int | None = None) -> int:
        """Claim what is due (up to `limit`, default the concurrency) and run it to the end.
        Returns the number of jobs run (for tests and the benchmark)."""
        claimed = await self.claim(limit or self.concurrency)
        await asyncio.gather(*(self.execute(job) for job in claimed))
        return len(claimed)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Run rounds until nothing is due (tests)."""
        total = 0
        for _ in range(max_rounds):
            count = await self.run_once()
            if count == 0:
                return total
            total += count
        return total

    async def execute(self, claimed: Claimed) -> None:
        kind = REGISTRY.get(claimed.kind)
        params = {"id": claimed.id, "worker": self.worker_id, "attempt": claimed.attempt}
        if kind is None:
            await self._failed(claimed, RetryPolicy(), f"no handler for job kind {claimed.kind!r}")
            return
        try:
            async with self.sessions() as session, session.begin():
                context = JobContext(
                    session=session,
                    job_id=claimed.id,
                    kind=claimed.kind,
                    attempt=claimed.attempt,
                    max_attempts=claimed.max_attempts,
                    settings=self.settings,
                )
                try:
                    await asyncio.wait_for(
                        kind.handler(context, claimed.payload), kind.timeout_seconds
                    )
                except Retry as retry:
                    # The handler's own work (e.g. an attempt log) commits with the reschedule.
                    await self._reschedule(session, claimed, kind.retry, str(retry) or "retry")
                else:
                    result = await session.execute(
                        _DONE, {**params, "keep_payload": kind.keep_payload}
                    )
                    if result.rowcount != 1:  # type: ignore[attr-defined]
                        raise LeaseLost(str(claimed.id))
        except LeaseLost:
            log.warning("job %s (%s): lease lost, work rolled back", claimed.id, claimed.kind)
        except Exception as error:
            message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            log.warning(
                "job %s (%s) attempt %d failed: %s",
                claimed.id,
                claimed.kind,
                claimed.attempt,
                message,
            )
            await self._failed(claimed, kind.retry, message)

    async def _failed(self, claimed: Claimed, policy: RetryPolicy, message: str) -> None:
        async with self.sessions() as session, session.begin():
            with contextlib.suppress(LeaseLost):
                await self._reschedule(session, claimed, policy, message)

    async def _reschedule(
        self, session: AsyncSession, claimed: Claimed, policy: RetryPolicy, message: str
    ) -> None:
        params: dict[str, Any] = {
            "id": claimed.id,
            "worker": self.worker_id,
            "attempt": claimed.attempt,
            "error": message[:MAX_ERROR_LENGTH],
        }
        if claimed.attempt >= claimed.max_attempts:
            result = await session.execute(_FAIL, params)
        else:
            delay = policy.delay(claimed.attempt).total_seconds()
            result = await session.execute(_RESCHEDULE, {**params, "delay": delay})
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise LeaseLost(str(claimed.id))

    async def schedule_periodic(self, now: datetime.datetime | None = None) -> int:
        """Enqueue the current slot of every periodic job (once, whichever worker is first)."""
        now = now or datetime.datetime.now(datetime.UTC)
        added = 0
        async with self.sessions() as session, session.begin():
            for entry in SCHEDULE.values():
                slot = entry.slot(now)
                job_id = await enqueue(
                    session,
                    entry.kind,
                    entry.payload,
                    dedupe_key=f"periodic:{slot.isoformat()}",
                    run_at=slot,
                )
                added += job_id is not None
        return added

    # -- the loop -----------------------------------------------------------------------------
    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def _listen(self) -> Any:
        """LISTEN for enqueue notifications on a connection of our own (None if it fails:
        polling still finds every job)."""
        try:
            connection = await self.engine.connect()
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
            return connection
        except Exception:  # pragma: no cover - a database without LISTEN still works
            log.warning("LISTEN failed; polling only", exc_info=True)
            return None

    async def run(self) -> None:
        """Run until `stop()`; then let the jobs in flight finish."""
        listener = await self._listen()
        log.info(
            "worker %s: %d job kinds, concurrency %d",
            self.worker_id,
            len(REGISTRY),
            self.concurrency,
        )
        last_schedule = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not self._stopping.is_set():
                if loop.time() - last_schedule >= 1.0:
                    last_schedule = loop.time()
                    try:
                        await self.schedule_periodic()
                    except Exception:
                        log.exception("scheduling periodic jobs failed")
                free = self.concurrency - len(self._running)
                claimed: list[Claimed] = []
                if free > 0:
                    self._wake.clear()
                    try:
                        claimed = await self.claim(free)
                    except Exception:
                        log.exception("claiming jobs failed; retrying")
                    for item in claimed:
                        task = asyncio.create_task(self.execute(item))
                        self._running.add(task)
                        task.add_done_callback(self._finished)
                if claimed and len(claimed) == free:
                    continue  # more may be due
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        finally:
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()


def kinds() -> dict[str, JobKind]:
    return dict(REGISTRY)
