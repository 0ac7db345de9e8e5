"""Background work: a job queue in PostgreSQL, the worker that runs it, and outgoing mail.

Why our own small queue and not procrastinate: procrastinate is well kept, but it talks to
PostgreSQL through psycopg 3, while Quartier's services run on SQLAlchemy with asyncpg. A job
must be enqueued *inside the caller's transaction* (a job exists if and only if the business
change committed); with procrastinate that needs a second driver and a second connection per
request, or giving up that guarantee. The mechanics a queue needs are few and well understood
in PostgreSQL — `SELECT … FOR UPDATE SKIP LOCKED` to claim, a lease (`locked_until`) so that a
killed worker loses no job, a unique dedupe key, exponential backoff, `LISTEN/NOTIFY` to wake
idle workers — and fit in a few hundred lines that use the same session as everything else.

Use it with `queue.enqueue(session, kind, payload, dedupe_key=…, run_at=…)` and
`@queue.job(kind)`; `quartier worker` runs the handlers (see `worker.py`).
"""

from quartier.jobs.queue import (
    JobContext,
    Retry,
    RetryPolicy,
    enqueue,
    job,
    periodic,
)

__all__ = ["JobContext", "Retry", "RetryPolicy", "enqueue", "job", "periodic"]
