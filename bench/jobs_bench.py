"""Benchmark of the job queue: enqueue rate, jobs run per second, webhook deliveries per second,
and retries with a failing receiver.

    .venv/bin/python bench/jobs_bench.py [--jobs 5000] [--events 1000] [--concurrency 8]
        [--retry-events 100] [--fail-first 2] [--dead-events 20] [--no-write]

Starts a private PostgreSQL cluster (fsync on) in a temporary directory, builds the schema by
the migrations, then measures

1. enqueueing: one job per transaction, as a request enqueues it (jobs/s);
2. the worker draining those no-op jobs (one worker process, `--concurrency` jobs at a time):
   claims with SKIP LOCKED, the handler's transaction, completion (jobs/s);
3. webhooks: `--events` events emitted to one subscription, delivered signed from the queue to
   a local receiver (bench/webhook_receiver.py under uvicorn, answers 204) by the same worker
   (deliveries/s, end to end);
4. retries: `--retry-events` events to a receiver that fails the first `--fail-first` attempts
   of every delivery (503): attempts, retries and the backoff observed between attempts at
   the receiver, and that every event is delivered exactly once in the end;
5. dead letters: `--dead-events` events to a receiver that is down for good: every delivery
   ends `failed` after its last attempt, the subscription is disabled, nothing is delivered.

Phases 4 and 5 run the production delivery handler with its retry policy time-compressed
(base 0.25 s instead of 30 s; 5 attempts instead of 14 in phase 5), so that the backoff
doubling can be watched in seconds instead of a day; the figures say so.

Writes bench/results/<date>-jobs.md (and prints it). Client, worker, receiver and database share
this machine's cores: compare runs, not machines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker  # noqa: E402
from tests.support.live import free_port  # noqa: E402

import quartier.webhooks.delivery  # noqa: E402, F401 - registers webhooks.deliver
from quartier import migrations  # noqa: E402
from quartier.db import PrivateCluster, create_engine, session_scope  # noqa: E402
from quartier.jobs import queue  # noqa: E402
from quartier.jobs.queue import JobContext, RetryPolicy, enqueue, job  # noqa: E402
from quartier.jobs.worker import Worker  # noqa: E402
from quartier.settings import load_settings  # noqa: E402
from quartier.webhooks import emit, schemas, services  # noqa: E402
from quartier.webhooks.events import DELIVER_KIND  # noqa: E402

RESULTS = ROOT / "bench" / "results"
# The delivery policy, time-compressed for phases 4 and 5 (production: 30 s base, 6 h cap, 14).
RETRY_BASE = 0.25
RETRY_POLICY = RetryPolicy(max_attempts=14, base_seconds=RETRY_BASE, cap_seconds=4.0, jitter=0.1)
DEAD_POLICY = RetryPolicy(max_attempts=5, base_seconds=RETRY_BASE, cap_seconds=4.0, jitter=0.1)


@job("bench.noop")
async def noop(context: JobContext, payload: dict[str, Any]) -> None:
    return None


async def _count(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(sql))).scalar_one())


async def _drain(worker: Worker, engine: AsyncEngine, done_sql: str, total: int) -> float:
    runner = asyncio.create_task(worker.run())
    started = time.perf_counter()
    while await _count(engine, done_sql) < total:  # noqa: ASYNC110 - polls the database
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    worker.stop()
    await runner
    return elapsed


@contextlib.contextmanager
def _receiver(port: int, **environment: str) -> Iterator[None]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.webhook_receiver:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **environment},
    )
    try:
        time.sleep(1.5)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _use_policy(policy: RetryPolicy) -> None:
    """Run the production delivery handler with another retry policy (jobs take their
    max_attempts from it when enqueued)."""
    queue.REGISTRY[DELIVER_KIND] = dataclasses.replace(queue.REGISTRY[DELIVER_KIND], retry=policy)


async def _subscribe(engine: AsyncEngine, port: int) -> str:
    """A new subscription to survey.closed at the receiver on `port`; earlier ones disabled."""
    async with session_scope(engine) as session:
        await session.execute(text("UPDATE webhook_subscriptions SET enabled = false"))
        subscription = await services.create_subscription(
            session,
            schemas.WebhookSubscriptionCreate(
                url=f"http://127.0.0.1:{port}/hook", event_types=["survey.closed"]
            ),
        )
        return str(subscription.id)


async def _emit(maker: async_sessionmaker[Any], events: int, prefix: str) -> None:
    for n in range(events):
        async with maker() as session, session.begin():
            await emit(session, "survey.closed", {"survey_id": f"{prefix}-{n}"})


def _read_log(path: Path) -> dict[str, list[tuple[float, int]]]:
    """(time, status) of every attempt by webhook-id (= delivery id), in order."""
    attempts: dict[str, list[tuple[float, int]]] = {}
    for line in path.read_text().splitlines():
        moment, webhook_id, status = line.split()
        attempts.setdefault(webhook_id, []).append((float(moment), int(status)))
    return attempts


def _gaps(attempts: dict[str, list[tuple[float, int]]]) -> dict[int, list[float]]:
    """Seconds between attempt n and n+1 at the receiver, by n (1-based)."""
    gaps: dict[int, list[float]] = {}
    for seen in attempts.values():
        for n in range(1, len(seen)):
            gaps.setdefault(n, []).append(seen[n][0] - seen[n - 1][0])
    return gaps


def _gap_lines(gaps: dict[int, list[float]], policy: RetryPolicy) -> list[str]:
    lines = []
    for n, values in sorted(gaps.items()):
        nominal = min(policy.cap_seconds, policy.base_seconds * 2 ** (n - 1))
        lines.append(
            f"| backoff after attempt {n} (nominal {nominal:.2f} s ±10 %) | median "
            f"{statistics.median(values):.2f} s, min {min(values):.2f} s, max "
            f"{max(values):.2f} s ({len(values)} retries) | |"
        )
    return lines


async def _statuses(engine: AsyncEngine, subscription: str) -> dict[str, tuple[int, int]]:
    """(deliveries, attempts recorded) by delivery status, for one subscription."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT status, count(*), coalesce(sum(attempts), 0) FROM webhook_deliveries "
                "WHERE subscription_id = :s GROUP BY status"
            ),
            {"s": subscription},
        )
        return {status: (int(n), int(a)) for status, n, a in rows}


def _final_sql(subscription: str) -> str:
    return (
        "SELECT count(*) FROM webhook_deliveries WHERE status IN ('succeeded', 'failed') "
        f"AND subscription_id = '{subscription}'"
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    jobs: int
    events: int
    concurrency: int
    retry_events: int
    fail_first: int
    dead_events: int


async def run(url: str, options: Options, data_dir: Path) -> list[str]:
    """Runs the phases; returns the result table's lines."""
    concurrency = options.concurrency
    settings = load_settings({"QUARTIER_ENV": "test", "QUARTIER_DATA_DIR": str(data_dir)})
    engine = create_engine(url, pool_size=concurrency + 4, max_overflow=0)
    maker = async_sessionmaker(engine, expire_on_commit=False)
    lines = ["| measurement | result | |", "|---|---|---|"]

    def say(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    try:
        jobs = options.jobs
        started = time.perf_counter()
        for n in range(jobs):
            async with maker() as session, session.begin():
                await enqueue(session, "bench.noop", {"n": n}, dedupe_key=f"bench-{n}")
        seconds = time.perf_counter() - started
        say(
            f"| enqueue, one job per transaction | {jobs} in {seconds:.2f} s | "
            f"{jobs / seconds:,.0f} jobs/s |"
        )

        worker = Worker(engine, settings, concurrency=concurrency, poll_seconds=0.05)
        seconds = await _drain(
            worker, engine, "SELECT count(*) FROM jobs WHERE status = 'done'", jobs
        )
        say(
            f"| worker, no-op jobs (concurrency {concurrency}) | {jobs} in {seconds:.2f} s | "
            f"{jobs / seconds:,.0f} jobs/s |"
        )

        # 3. throughput from the queue to a receiver that accepts everything
        events = options.events
        port = free_port()
        with _receiver(port):
            subscription = await _subscribe(engine, port)
            started = time.perf_counter()
            await _emit(maker, events, "bench")
            seconds = time.perf_counter() - started
            say(
                f"| webhooks, events emitted (one per transaction, a delivery job each) | "
                f"{events} in {seconds:.2f} s | {events / seconds:,.0f} events/s |"
            )
            worker = Worker(engine, settings, concurrency=concurrency, poll_seconds=0.05)
            seconds = await _drain(
                worker,
                engine,
                "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded' "
                f"AND subscription_id = '{subscription}'",
                events,
            )
            say(
                f"| webhooks, signed deliveries from the queue to a local receiver "
                f"(concurrency {concurrency}) | {events} in {seconds:.2f} s | "
                f"{events / seconds:,.0f} deliveries/s |"
            )

        # 4. a receiver that fails the first attempts of every delivery
        retry_events, fail_first = options.retry_events, options.fail_first
        _use_policy(RETRY_POLICY)
        log = data_dir / "receiver-retry.log"
        port = free_port()
        with _receiver(port, RECEIVER_FAIL_FIRST=str(fail_first), RECEIVER_LOG=str(log)):
            subscription = await _subscribe(engine, port)
            await _emit(maker, retry_events, "retry")
            worker = Worker(engine, settings, concurrency=concurrency, poll_seconds=0.05)
            seconds = await _drain(worker, engine, _final_sql(subscription), retry_events)
        attempts = _read_log(log)
        statuses = await _statuses(engine, subscription)
        total = sum(len(seen) for seen in attempts.values())
        delivered = [sum(1 for _, s in seen if s < 300) for seen in attempts.values()]
        exactly_once = sum(1 for n in delivered if n == 1)
        say(
            f"| retries, receiver failing the first {fail_first} attempts (503) of each of "
            f"{retry_events} events | {total} attempts, {total - len(attempts)} retries in "
            f"{seconds:.2f} s | {total / retry_events:.2f} attempts per event |"
        )
        say(
            f"| retries, outcome | {exactly_once} of {retry_events} events delivered exactly "
            f"once, {sum(1 for n in delivered if n > 1)} more than once, "
            f"{retry_events - len(attempts)} never tried; deliveries by status "
            f"{dict(sorted(statuses.items()))} (count, attempts recorded) | |"
        )
        for line in _gap_lines(_gaps(attempts), RETRY_POLICY):
            say(line)

        # 5. a receiver that is down for good: dead letters, the subscription disabled
        dead_events = options.dead_events
        _use_policy(DEAD_POLICY)
        log = data_dir / "receiver-dead.log"
        port = free_port()
        with _receiver(port, RECEIVER_FAIL_FIRST="1000000", RECEIVER_LOG=str(log)):
            subscription = await _subscribe(engine, port)
            await _emit(maker, dead_events, "dead")
            worker = Worker(engine, settings, concurrency=concurrency, poll_seconds=0.05)
            seconds = await _drain(worker, engine, _final_sql(subscription), dead_events)
        attempts = _read_log(log) if log.exists() else {}
        statuses = await _statuses(engine, subscription)
        async with engine.connect() as connection:
            disabled = (
                await connection.execute(
                    text(
                        "SELECT enabled, disabled_reason FROM webhook_subscriptions WHERE id = :s"
                    ),
                    {"s": subscription},
                )
            ).one()
            left = int(
                (
                    await connection.execute(
                        text(
                            "SELECT count(*) FROM jobs WHERE kind = :k "
                            "AND status NOT IN ('done', 'failed')"
                        ),
                        {"k": DELIVER_KIND},
                    )
                ).scalar_one()
            )
        total = sum(len(seen) for seen in attempts.values())
        delivered = sum(1 for seen in attempts.values() for _, s in seen if s < 300)
        say(
            f"| dead letters, receiver down for good, {dead_events} events, "
            f"{DEAD_POLICY.max_attempts} attempts allowed | {total} attempts at the receiver "
            f"in {seconds:.2f} s, {delivered} delivered | deliveries by status "
            f"{dict(sorted(statuses.items()))}; subscription enabled: {disabled[0]}; delivery "
            f"jobs still queued: {left} |"
        )
        for line in _gap_lines(_gaps(attempts), DEAD_POLICY):
            say(line)
    finally:
        await engine.dispose()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--retry-events", type=int, default=100)
    parser.add_argument("--fail-first", type=int, default=2)
    parser.add_argument("--dead-events", type=int, default=20)
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS / f"{datetime.date.today().isoformat()}-jobs.md",
        help="the results file (default bench/results/<date>-jobs.md)",
    )
    args = parser.parse_args()
    options = Options(
        jobs=args.jobs,
        events=args.events,
        concurrency=args.concurrency,
        retry_events=args.retry_events,
        fail_first=args.fail_first,
        dead_events=args.dead_events,
    )
    base = Path(tempfile.mkdtemp(prefix="quartier-jobs-bench-"))
    base.chmod(0o755)
    cluster = PrivateCluster(base, fsync=True, database="quartier")
    try:
        url = cluster.start()
        migrations.upgrade(url)
        started = time.perf_counter()
        lines = asyncio.run(run(url, options, base))
        seconds = time.perf_counter() - started
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)
    header = [
        f"# Job queue and webhook deliveries — {datetime.date.today().isoformat()}",
        "",
        f"`bench/jobs_bench.py` ({' '.join(sys.argv[1:]) or 'defaults'}): {options}. One "
        f"machine, {os.cpu_count()} cores shared by client, worker, receiver and PostgreSQL "
        f"(fsync on); run time {seconds:.0f} s. Retries and dead letters run the production "
        f"delivery handler with its backoff time-compressed (base {RETRY_BASE} s instead of "
        "30 s; the dead-letter phase allows 5 attempts instead of 14). The gap between two "
        "attempts seen at the receiver is the backoff plus the time the retried job waits for "
        "a worker slot: when many deliveries fail at once (the retries phase), the queue's "
        "throughput, not the backoff, sets it.",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(header + lines) + "\n")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
