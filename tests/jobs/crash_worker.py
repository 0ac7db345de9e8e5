"""A real worker process for the crash test: `python -m tests.jobs.crash_worker URL DIR`.

It runs the `test.crash` job, which takes two seconds, notes each attempt's start in DIR and,
when it completes, adds a `test.crash-done` job (deduplicated) in its own transaction."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from quartier.db import create_engine
from quartier.jobs.queue import JobContext, enqueue, job
from quartier.jobs.worker import Worker
from quartier.settings import load_settings

MARKERS = Path(sys.argv[2]) if len(sys.argv) > 2 else Path()


@job("test.crash", timeout_seconds=3)
async def crash_prone(context: JobContext, payload: dict[str, Any]) -> None:
    (MARKERS / f"started-{context.attempt}").write_text(str(context.attempt))
    await asyncio.sleep(2)
    await enqueue(context.session, "test.crash-done", payload, dedupe_key=payload["name"])


async def main(url: str) -> None:
    engine = create_engine(url, pool_size=3, max_overflow=0)
    settings = load_settings({"QUARTIER_ENV": "test", "QUARTIER_DATA_DIR": str(MARKERS)})
    worker = Worker(engine, settings, concurrency=2, poll_seconds=0.2, grace_seconds=1)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, worker.stop)
    try:
        await worker.run()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
