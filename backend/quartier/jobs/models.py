"""The `jobs` table: one row per unit of background work (see `quartier.jobs`)."""

from __future__ import annotations

import datetime
import enum
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from quartier.db import Base

MAX_KIND_LENGTH = 100
MAX_DEDUPE_KEY_LENGTH = 255


class JobStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for `run_at`
    RUNNING = "running"  # leased by a worker until `locked_until`
    DONE = "done"
    FAILED = "failed"  # attempts exhausted


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # A job with a dedupe key exists once per kind: enqueueing it again does nothing.
        Index(
            "uq_jobs_kind_dedupe_key",
            "kind",
            "dedupe_key",
            unique=True,
            postgresql_where=text("dedupe_key IS NOT NULL"),
        ),
        # What a worker claims: queued jobs that are due, and running ones whose lease expired.
        Index(
            "ix_jobs_due",
            "run_at",
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        Index("ix_jobs_finished_at", "finished_at"),
    )

    kind: Mapped[str] = mapped_column(String(MAX_KIND_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    dedupe_key: Mapped[str | None] = mapped_column(String(MAX_DEDUPE_KEY_LENGTH))
    status: Mapped[str] = mapped_column(String(20), server_default=JobStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer)
    run_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    locked_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
