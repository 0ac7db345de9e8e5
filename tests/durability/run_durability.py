"""Durability: nothing acknowledged is ever lost, nothing is stored twice — through crashes.

Under concurrent load on `SubmitSurveyResponse` (each submission with its own Idempotency-Key
and a unique marker in its answers), the runner repeatedly kills the app with SIGKILL, then
kills PostgreSQL (postmaster and backends) with SIGKILL, restarts both (PostgreSQL runs crash
recovery), and lets the clients go on: a submission whose answer never arrived is retried with
the same key, as the resident's phone would. At the end it checks in the database that every
submission answered with 2xx is stored exactly once (with the receipt the client got), that no
marker is stored twice, and that nothing was stored that no client sent.

    python tests/durability/run_durability.py --kills 3 --seconds 2 --clients 8   # CI
    python tests/durability/run_durability.py --kills 5 --seconds 10 --clients 32  # make durability

The cluster runs with fsync and synchronous_commit on, as production must.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402
from tests.support.live import free_port, start_app, wait_until  # noqa: E402

from quartier import migrations  # noqa: E402
from quartier.db import PrivateCluster, create_engine, session_scope  # noqa: E402
from quartier.demo import load_demo  # noqa: E402
from quartier.processes.models import PlanningProcess  # noqa: E402
from quartier.settings import load_settings  # noqa: E402
from quartier.surveys import responses, services  # noqa: E402
from quartier.surveys import schemas as s  # noqa: E402

SECRET = "durability-" + secrets.token_urlsafe(32)
PROCESS_TITLE = "Kinderarmut in Mitte vorbeugen"


def _text(de: str) -> dict[str, str]:
    return {"de": de, "en": de}


DEFINITION: dict[str, Any] = {
    "title": _text("Dauerhaftigkeitstest"),
    "purpose": _text("Prüft, dass keine Antwort verloren geht."),
    "organiser": _text("Quartier"),
    "estimated_minutes": 1,
    "privacy_note": _text("Testdaten."),
    "pages": [
        {
            "key": "only",
            "questions": [
                {
                    "type": "social_area",
                    "key": "area",
                    "text": _text("Wo wohnen Sie?"),
                    "level": "planning_area",
                    "required": True,
                },
                {
                    "type": "short_text",
                    "key": "marker",
                    "text": _text("Kennung"),
                    "required": True,
                    "max_length": 64,
                },
            ],
        }
    ],
}


@dataclass
class Ledger:
    """What the clients know: acknowledged receipts and submissions still owed an answer."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # marker -> receipt code
    pending: list[tuple[str, str]] = field(default_factory=list)  # (marker, area code)
    sent: set[str] = field(default_factory=set)
    unexpected: list[str] = field(default_factory=list)
    attempts: int = 0


async def _prepare(url: str, data_dir: Path) -> tuple[str, list[str]]:
    settings = load_settings(
        {"QUARTIER_ENV": "test", "SECRET_KEY": SECRET, "QUARTIER_DATA_DIR": str(data_dir)}
    )
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with session_scope(engine) as session:
            await load_demo(session, settings)
        async with session_scope(engine) as session:
            process_id = await session.scalar(
                select(PlanningProcess.id).where(PlanningProcess.title == PROCESS_TITLE)
            )
            assert process_id is not None, "the demo process is missing"
            definition = msgspec.convert(DEFINITION, s.Definition)
            survey = await services.create_survey(
                session, process_id, s.SurveyCreate(definition=definition)
            )
            await services.publish_survey(session, survey.id)
            codes = [code for _, code, _ in await responses.area_choices(session, survey)]
            return str(survey.id), codes
    finally:
        await engine.dispose()


def _kill_postgres(cluster: PrivateCluster) -> None:
    """SIGKILL the postmaster and every backend: a crash, not a shutdown."""
    pid = int((cluster.data_dir / "postmaster.pid").read_text().splitlines()[0])
    children = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent(int(entry.name)) == pid
    ]
    for victim in [pid, *children]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in [pid, *children]) and time.monotonic() < deadline:
        time.sleep(0.05)


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "zombie"


async def _client(
    base: str,
    survey_id: str,
    codes: list[str],
    ledger: Ledger,
    stop: asyncio.Event,
    draining: asyncio.Event,
) -> None:
    url = f"{base}/api/v1/surveys/{survey_id}/responses"
    async with httpx.AsyncClient(timeout=10) as client:
        while not stop.is_set():
            if ledger.pending:
                marker, area = ledger.pending.pop()
            elif draining.is_set():
                await asyncio.sleep(0.05)
                continue
            else:
                marker, area = str(uuid.uuid4()), random.choice(codes)
                ledger.sent.add(marker)
            ledger.attempts += 1
            body = {"answers": {"area": area, "marker": marker}}
            try:
                response = await client.post(url, json=body, headers={"Idempotency-Key": marker})
            except httpx.HTTPError:
                ledger.pending.append((marker, area))  # no answer: retry with the same key
                await asyncio.sleep(0.1)
                continue
            if response.status_code in (200, 201):
                receipt = response.json()["receipt_code"]
                previous = ledger.acknowledged.setdefault(marker, receipt)
                if previous != receipt:
                    ledger.unexpected.append(f"{marker}: receipt changed {previous} -> {receipt}")
            elif response.status_code in (409, 429, 500, 502, 503):
                ledger.pending.append((marker, area))  # in flight, or the database is away
                await asyncio.sleep(0.1)
            else:
                ledger.unexpected.append(f"{response.status_code}: {response.text[:200]}")


async def _verify(url: str, survey_id: str, ledger: Ledger) -> dict[str, int]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT answers->>'marker', receipt_code FROM survey_responses "
                        "WHERE survey_id = :survey"
                    ),
                    {"survey": survey_id},
                )
            ).all()
    finally:
        await engine.dispose()
    stored: dict[str, list[str]] = {}
    for marker, receipt in rows:
        stored.setdefault(marker, []).append(receipt)
    losses = [
        m
        for m, receipt in ledger.acknowledged.items()
        if responses.normalise_code(receipt) not in stored.get(m, [])
    ]
    duplicates = [m for m, receipts in stored.items() if len(receipts) > 1]
    strangers = [m for m in stored if m not in ledger.sent]
    return {
        "stored": len(rows),
        "losses": len(losses),
        "duplicates": len(duplicates),
        "unknown_stored": len(strangers),
    }


async def _run(args: argparse.Namespace, base_dir: Path) -> int:
    cluster = PrivateCluster(base_dir, fsync=True, database="durability")
    url = cluster.start()
    app: subprocess.Popen[bytes] | None = None
    try:
        await asyncio.to_thread(migrations.upgrade, url)  # Alembic runs its own loop
        survey_id, codes = await _prepare(url, base_dir)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "QUARTIER_ENV": "production",
            "QUARTIER_DATA_DIR": str(base_dir),
            "QUARTIER_RATE_LIMITS": "submission=1000000/60,default=1000000/60",
        }

        def launch() -> subprocess.Popen[bytes]:
            process = start_app(env, port, workers=args.workers)
            wait_until(f"{base}/ready")
            return process

        app = launch()
        ledger = Ledger()
        stop, draining = asyncio.Event(), asyncio.Event()
        clients = [
            asyncio.create_task(_client(base, survey_id, codes, ledger, stop, draining))
            for _ in range(args.clients)
        ]
        started = time.monotonic()
        for kill in range(1, args.kills + 1):
            await asyncio.sleep(args.seconds)
            app.send_signal(signal.SIGKILL)
            app.wait()
            await asyncio.to_thread(_kill_postgres, cluster)
            print(
                f"kill {kill}: app and PostgreSQL killed with SIGKILL after "
                f"{len(ledger.acknowledged)} acknowledged",
                flush=True,
            )
            await asyncio.to_thread(cluster.start)
            app = await asyncio.to_thread(launch)
        await asyncio.sleep(args.seconds)
        draining.set()
        deadline = time.monotonic() + 60
        while ledger.pending and time.monotonic() < deadline:  # noqa: ASYNC110 - polls a list
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # let the last in-flight requests finish
        stop.set()
        await asyncio.gather(*clients)
        duration = time.monotonic() - started
        figures = await _verify(url, survey_id, ledger)
        figures.update(
            {
                "kills": args.kills,
                "acknowledged": len(ledger.acknowledged),
                "attempts": ledger.attempts,
                "still_pending": len(ledger.pending),
                "unexpected_answers": len(ledger.unexpected),
                "seconds": round(duration, 1),
            }
        )
        print("durability: " + json.dumps(figures), flush=True)
        for line in ledger.unexpected[:10]:
            print(f"  unexpected: {line}")
        ok = (
            figures["losses"] == 0
            and figures["duplicates"] == 0
            and figures["unknown_stored"] == 0
            and figures["still_pending"] == 0
            and figures["unexpected_answers"] == 0
            and figures["acknowledged"] > 0
        )
        print("durability: " + ("PASSED" if ok else "FAILED"), flush=True)
        return 0 if ok else 1
    finally:
        if app is not None and app.poll() is None:
            app.kill()
            app.wait()
        cluster.destroy()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="load between kills")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    if args.kills < 1:
        parser.error("--kills must be at least 1")
    base_dir = Path(tempfile.mkdtemp(prefix="quartier-durability-"))
    base_dir.chmod(0o755)
    try:
        return asyncio.run(_run(args, base_dir))
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
