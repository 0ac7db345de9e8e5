"""Housekeeping: finished jobs are deleted after the retention period (hourly)."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import text

from quartier.jobs.queue import JobContext, job, periodic

PURGE_KIND = "jobs.purge"
DEFAULT_RETENTION_DAYS = 7


@job(PURGE_KIND, timeout_seconds=300)
async def purge_finished_jobs(context: JobContext, payload: dict[str, Any]) -> None:
    days = getattr(context.settings, "job_retention_days", DEFAULT_RETENTION_DAYS)
    await context.session.execute(
        text(
            "DELETE FROM jobs WHERE status IN ('done', 'failed') AND finished_at < :before"
            " AND id <> :self"
        ),
        {
            "before": datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days),
            "self": context.job_id,
        },
    )


periodic(PURGE_KIND, datetime.timedelta(hours=1))
