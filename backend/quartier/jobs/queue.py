"""Enqueueing jobs, and the registry of job handlers by kind.

Other modules use two things from here::

    @job("mail.send", retry=RetryPolicy(max_attempts=8))
    async def send(context: JobContext, payload: dict[str, Any]) -> None: ...

    await enqueue(session, "mail.send", {...}, dedupe_key=f"idea-status:{idea_id}:{version}")

`enqueue` inserts the job with the caller's session, inside the caller's transaction: the job
exists if and only if the business change that asked for it commits. A `NOTIFY` in the same
transaction wakes idle workers at commit (PostgreSQL delivers notifications only on commit).
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import func, literal_column, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from quartier.jobs.models import MAX_DEDUPE_KEY_LENGTH, MAX_KIND_LENGTH, Job, JobStatus

NOTIFY_CHANNEL = "quartier_jobs"


class Retry(Exception):
    """Raised by a handler to have the job retried with backoff *and* its own database work
    kept (e.g. a webhook delivery attempt logged). Any other exception rolls the handler's work
    back before the retry."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: attempt n (1-based) failing waits `base * 2**(n-1)` seconds, capped at
    `cap`, with ±`jitter` relative noise; after `max_attempts` attempts the job has failed."""

    max_attempts: int = 5
    base_seconds: float = 10.0
    cap_seconds: float = 3600.0
    jitter: float = 0.1

    def delay(self, attempt: int) -> datetime.timedelta:
        seconds = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        seconds *= 1 + random.uniform(-self.jitter, self.jitter)  # noqa: S311 - not security
        return datetime.timedelta(seconds=max(0.0, seconds))

    def total(self) -> datetime.timedelta:
        """The nominal time from the first attempt to the last (without jitter)."""
        return datetime.timedelta(
            seconds=sum(
                min(self.cap_seconds, self.base_seconds * 2**n)
                for n in range(self.max_attempts - 1)
            )
        )


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a handler gets besides its payload: the session of its transaction (committed
    together with the job's completion), which attempt this is, and the worker's settings."""

    session: AsyncSession
    job_id: UUID
    kind: str
    attempt: int
    max_attempts: int
    settings: Any

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    handler: Handler
    retry: RetryPolicy
    timeout_seconds: float
    keep_payload: bool  # False: the payload is erased when the job is done (personal data)


@dataclass(frozen=True, slots=True)
class Periodic:
    """A job enqueued once per `every` (slots aligned to the Unix epoch, so every worker computes
    the same slot and the dedupe key makes it happen once)."""

    kind: str
    every: datetime.timedelta
    payload: dict[str, Any] = field(default_factory=dict)

    def slot(self, now: datetime.datetime) -> datetime.datetime:
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
        step = self.every.total_seconds()
        index = int((now - epoch).total_seconds() // step)
        return epoch + datetime.timedelta(seconds=index * step)


REGISTRY: dict[str, JobKind] = {}
SCHEDULE: dict[str, Periodic] = {}


def job(
    kind: str,
    *,
    retry: RetryPolicy | None = None,
    timeout_seconds: float = 60.0,
    keep_payload: bool = True,
) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine as the handler of `kind`. The handler must be
    idempotent: a job whose worker dies mid-way runs again after its lease
    (`timeout_seconds` plus a grace period) expires."""
    if not 0 < len(kind) <= MAX_KIND_LENGTH:
        raise ValueError(f"job kind {kind!r} must have 1 to {MAX_KIND_LENGTH} characters")

    def register(handler: Handler) -> Handler:
        REGISTRY[kind] = JobKind(
            kind, handler, retry or RetryPolicy(), timeout_seconds, keep_payload
        )
        return handler

    return register


def periodic(kind: str, every: datetime.timedelta, payload: dict[str, Any] | None = None) -> None:
    """Run the job `kind` once per `every` (cron-like; the worker enqueues each due slot)."""
    if every < datetime.timedelta(seconds=1):
        raise ValueError("a periodic job runs at most once per second")
    SCHEDULE[kind] = Periodic(kind, every, payload or {})


def _policy(kind: str) -> RetryPolicy:
    registered = REGISTRY.get(kind)
    return registered.retry if registered else RetryPolicy()


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    run_at: datetime.datetime | None = None,
) -> UUID | None:
    """Add a job in the caller's transaction. Returns its id, or None when a job of this kind
    with this `dedupe_key` already exists (then nothing is added)."""
    if not 0 < len(kind) <= MAX_KIND_LENGTH:
        raise ValueError(f"job kind {kind!r} must have 1 to {MAX_KIND_LENGTH} characters")
    if dedupe_key is not None and not 0 < len(dedupe_key) <= MAX_DEDUPE_KEY_LENGTH:
        raise ValueError(f"dedupe_key must have 1 to {MAX_DEDUPE_KEY_LENGTH} characters")
    if run_at is not None and run_at.tzinfo is None:
        raise ValueError("run_at must carry a time zone")
    # The payload must survive JSON: fail in the caller, not later in the worker.
    payload = msgspec.json.decode(msgspec.json.encode(payload))
    now = datetime.datetime.now(datetime.UTC)
    job_id = uuid7()
    statement = (
        insert(Job)
        .values(
            id=job_id,
            created_at=now,
            updated_at=now,
            kind=kind,
            payload=payload,
            dedupe_key=dedupe_key,
            status=JobStatus.QUEUED.value,
            attempts=0,
            max_attempts=_policy(kind).max_attempts,
            run_at=run_at if run_at is not None else func.now(),
        )
        .on_conflict_do_nothing(
            index_elements=["kind", "dedupe_key"],
            index_where=literal_column("dedupe_key").isnot(None),
        )
        .returning(Job.id)
    )
    inserted = (await session.execute(statement)).scalar_one_or_none()
    if inserted is not None:
        await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return inserted
