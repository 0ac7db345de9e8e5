"""Benchmark of the job queue: enqueue rate, jobs run per second, webhook deliveries per second.

    .venv/bin/python bench/jobs_bench.py [--jobs 5000] [--events 1000] [--concurrency 8]

Starts a private PostgreSQL cluster (fsync on) in a temporary directory, builds the schema by
the migrations, then measures

1. enqueueing: one job per transaction, as a request enqueues it (jobs/s);
2. the worker draining those no-op jobs (one worker process, `--concurrency` jobs at a time):
   claims with SKIP LOCKED, the handler's transaction, completion (jobs/s);
3. webhooks: `--events` events emitted to one subscription, delivered signed to a local
   receiver (uvicorn, answers 204) by the same worker (deliveries/s, end to end).

Client, worker, receiver and database share this machine's cores: compare runs, not machines.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
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
from quartier.jobs.queue import JobContext, enqueue, job  # noqa: E402
from quartier.jobs.worker import Worker  # noqa: E402
from quartier.settings import load_settings  # noqa: E402
from quartier.webhooks import emit, schemas, services  # noqa: E402


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


async def run(url: str, jobs: int, events: int, concurrency: int, data_dir: Path) -> None:
    settings = load_settings({"QUARTIER_ENV": "test", "QUARTIER_DATA_DIR": str(data_dir)})
    engine = create_engine(url, pool_size=concurrency + 4, max_overflow=0)
    maker = async_sessionmaker(engine, expire_on_commit=False)
    try:
        started = time.perf_counter()
        for n in range(jobs):
            async with maker() as session, session.begin():
                await enqueue(session, "bench.noop", {"n": n}, dedupe_key=f"bench-{n}")
        seconds = time.perf_counter() - started
        print(
            f"enqueue, one job per transaction: {jobs} in {seconds:.2f} s = {jobs / seconds:,.0f}/s"
        )

        worker = Worker(engine, settings, concurrency=concurrency, poll_seconds=0.05)
        seconds = await _drain(
            worker, engine, "SELECT count(*) FROM jobs WHERE status = 'done'", jobs
        )
        print(
            f"worker, no-op jobs (concurrency {concurrency}): {jobs} in {seconds:.2f} s "
            f"= {jobs / seconds:,.0f} jobs/s"
        )

        port = free_port()
        receiver = subprocess.Popen(  # noqa: ASYNC220 - started once
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
        )
        try:
            await asyncio.sleep(1.5)
            async with session_scope(engine) as session:
                await services.create_subscription(
                    session,
                    schemas.WebhookSubscriptionCreate(
                        url=f"http://127.0.0.1:{port}/hook", event_types=["survey.closed"]
                    ),
                )
            for n in range(events):
                async with maker() as session, session.begin():
                    await emit(session, "survey.closed", {"survey_id": f"bench-{n}"})
            worker = Worker(engine, settings, concurrency=concurrency, poll_seconds=0.05)
            seconds = await _drain(
                worker,
                engine,
                "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'",
                events,
            )
            print(
                f"webhooks, signed deliveries to a local receiver (concurrency {concurrency}): "
                f"{events} in {seconds:.2f} s = {events / seconds:,.0f} deliveries/s"
            )
        finally:
            receiver.terminate()
            receiver.wait(timeout=10)
    finally:
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="quartier-jobs-bench-"))
    base.chmod(0o755)
    cluster = PrivateCluster(base, fsync=True, database="quartier")
    try:
        url = cluster.start()
        migrations.upgrade(url)
        asyncio.run(run(url, args.jobs, args.events, args.concurrency, base))
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
