"""A worker process killed with SIGKILL in the middle of a job loses no job: after its lease
expires, the restarted worker runs the job again and it completes exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.jobs.queue import enqueue

from .conftest import jobs

ROOT = Path(__file__).resolve().parents[2]


def _start(url: str, markers: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.crash_worker", url, str(markers)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def _wait_for(predicate, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_sigkill_mid_job_loses_nothing_and_the_job_completes_after_restart(
    engine: AsyncEngine, session: AsyncSession, database_url: str, tmp_path: Path
) -> None:
    async with session.begin():
        await enqueue(session, "test.crash", {"name": "survives"})

    first = _start(database_url, tmp_path)
    try:

        async def started() -> bool:
            return (tmp_path / "started-1").exists()

        assert await _wait_for(started, 30), "the first worker never started the job"
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    (killed,) = await jobs(engine, "test.crash")
    assert (killed["status"], killed["attempts"]) == ("running", 1)  # leased by a dead worker
    assert await jobs(engine, "test.crash-done") == []

    second = _start(database_url, tmp_path)
    try:

        async def completed() -> bool:
            return (await jobs(engine, "test.crash"))[0]["status"] == "done"

        assert await _wait_for(completed, 30), "the job was not completed after the restart"
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0
    finally:
        if second.poll() is None:
            second.kill()
    (done,) = await jobs(engine, "test.crash")
    assert done["attempts"] == 2
    assert (tmp_path / "started-2").exists()
    effects = await jobs(engine, "test.crash-done")
    assert [e["payload"] for e in effects] == [{"name": "survives"}]
