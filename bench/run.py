"""`make bench`: the submission path against PostgreSQL's own ceiling, on this machine, in one go.

1. R_pg — PostgreSQL's ceiling for exactly the statements one resident submission issues: the
   statements are captured from a real submission through the app (on the asyncpg driver and
   through SQLAlchemy),
   turned into a pgbench script (per-transaction unique values — ids, receipt code,
   Idempotency-Key, advisory-lock id — drawn fresh each time; prepared statements, as asyncpg
   uses), and run by pgbench with 16 clients.
2. The app's submission throughput and latency over HTTP with wrk (16 connections, unique
   Idempotency-Key per request, realistic 20-question answers), warm-up first, median of 3 runs.
3. Latency at a fixed rate well below saturation (200 submissions/s), open loop: each request
   is due at its scheduled time and its latency counts from then, so stalls are not hidden
   (a minimal HTTP/1.1 client on 64 kept-alive connections, light enough not to be the
   bottleneck itself).
4. `GET /health` against a bare Litestar hello-world served the same way.

The app runs as the README recommends for production (uvicorn with uvloop/httptools, one worker
per core, QUARTIER_ENV=production, fsync and synchronous_commit on). Client, app and database
share this machine's cores: compare the ratios, not the absolute numbers.
Writes bench/results/<date>.md (and prints it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT))

from litestar.testing import AsyncTestClient  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402
from tests.support.live import free_port, start_app, wait_until  # noqa: E402

from bench.realistic_survey import answers, definition  # noqa: E402
from quartier import migrations  # noqa: E402
from quartier.app import create_app  # noqa: E402
from quartier.core import driver  # noqa: E402
from quartier.db import PrivateCluster, create_engine, session_scope  # noqa: E402
from quartier.demo import load_demo  # noqa: E402
from quartier.processes.models import PlanningProcess  # noqa: E402
from quartier.settings import load_settings  # noqa: E402
from quartier.surveys import responses, services  # noqa: E402
from quartier.surveys import schemas as s  # noqa: E402

SECRET = "bench-" + secrets.token_urlsafe(32)
PROCESS_TITLE = "Kinderarmut in Mitte vorbeugen"
RESULTS = ROOT / "bench" / "results"
UNLIMITED = ",".join(f"{c}=1000000/60" for c in ("submission", "login", "export", "default"))


# -- set-up -----------------------------------------------------------------------------------
async def prepare(url: str, data_dir: Path) -> tuple[str, list[str]]:
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
            assert process_id is not None
            survey = await services.create_survey(
                session,
                process_id,
                s.SurveyCreate(definition=msgspec.convert(definition(), s.Definition)),
            )
            await services.publish_survey(session, survey.id)
            codes = [code for _, code, _ in await responses.area_choices(session, survey)]
            return str(survey.id), codes
    finally:
        await engine.dispose()


# -- 1. the SQL of one submission, as a pgbench script -----------------------------------------
def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, bytes):
        return f"'\\x{value.hex()}'"
    if isinstance(value, datetime.datetime | datetime.date):
        return f"'{value.isoformat()}'"
    if isinstance(value, list | tuple):  # an array literal: elements quoted, None as NULL
        elements = (
            "NULL" if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
            for v in value
        )
        return "'{" + ",".join(elements).replace("'", "''") + "}'"
    if isinstance(value, dict):
        value = json.dumps(value)
    text = str(value).replace("'", "''")
    return f"'{text}'"


def _render(statement: str, params: Sequence[Any]) -> str:
    def substitute(match: re.Match[str]) -> str:
        return _literal(params[int(match.group(1)) - 1])

    return re.sub(r"\$(\d+)", substitute, statement)


# Parameters of the driver statements that must differ per submission, and the pgbench
# expression that draws them (fresh per transaction, consistent within one).
_VOLATILE = {
    "r_id": "md5('r' || :client_id || '-' || :n)::uuid",
    "i_id": "md5('i' || :client_id || '-' || :n)::uuid",
    "r_receipt_code": "upper(substr(md5('rc' || :client_id || '-' || :n), 1, 8))",
    "key": "'bench-' || :client_id || '-' || :n",
    "i_idempotency_key": "'bench-' || :client_id || '-' || :n",
    "lock_id": ":n",
}


@dataclass(frozen=True, slots=True)
class CapturedStatement:
    """One statement a request sent: as sent (`$n` placeholders and their values, to replay it
    on asyncpg) and as a pgbench line (values as literals, volatile ones as expressions)."""

    sql: str
    params: tuple[Any, ...]
    script: str


@contextlib.asynccontextmanager
async def capturing_sql(engine: AsyncEngine) -> AsyncIterator[list[CapturedStatement]]:
    """Record every statement sent while the block runs: through SQLAlchemy (the
    `before_cursor_execute` event of `engine`) and on the asyncpg driver path
    (`core.driver.Driver`, whose volatile parameters become the `_VOLATILE` expressions)."""
    statements: list[CapturedStatement] = []

    def record_sa(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        many = executemany and bool(parameters) and isinstance(parameters[0], list | tuple)
        flat = " ".join(statement.split())
        for row in parameters if many else [parameters]:
            values = tuple(row or ())
            statements.append(CapturedStatement(flat, values, _render(flat, values)))

    original = {name: getattr(driver.Driver, name) for name in ("row", "value")}

    def recording(name: str) -> Any:
        async def method(self: driver.Driver, statement: Any, values: Any) -> Any:
            sql, arguments = statement.arguments(self.dialect, values)
            names = [entry[0] for entry in statement.compile(self.dialect)[1]]
            rendered = [
                _VOLATILE.get(param) or _literal(argument)
                for param, argument in zip(names, arguments, strict=True)
            ]
            flat = " ".join(sql.split())
            script = re.sub(r"\$(\d+)", lambda m: rendered[int(m.group(1)) - 1], flat)
            statements.append(CapturedStatement(flat, tuple(arguments), script))
            return await original[name](self, statement, values)

        return method

    event.listen(engine.sync_engine, "before_cursor_execute", record_sa)
    for name in original:
        setattr(driver.Driver, name, recording(name))
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record_sa)
        for name, method in original.items():
            setattr(driver.Driver, name, method)


def fresh_uuid7(label: str) -> str:
    """A pgbench expression for a UUIDv7 drawn fresh per transaction (the same `label` gives
    the same value within one): the transaction's millisecond (`now()`, the same in all its
    statements), then random-looking bits — ordered by time as the app's ids are, so index
    inserts append as they do for the app."""
    bits = f"md5('{label}-' || :client_id || '-' || :n)"
    return (
        "(lpad(to_hex(floor(extract(epoch FROM now()) * 1000)::bigint), 12, '0')"
        f" || '7' || substr({bits}, 1, 3) || '8' || substr({bits}, 4, 15))::uuid"
    )


def pgbench_script(
    statements: Sequence[CapturedStatement],
    replacements: dict[str, str] | None = None,
    *,
    created_between: tuple[float, float] | None = None,
    transaction: bool = True,
) -> list[str]:
    """One transaction of the captured statements for pgbench (`:n` is drawn per transaction).
    `replacements` maps literals of values that must differ per transaction (a pseudonym, a
    receipt code, an Idempotency-Key, `'\\x…'`, `'…'` or a bare number) to the expression that
    draws them; with `created_between` (Unix seconds), every UUIDv7 literal whose time lies in
    that window — an id the request created — becomes a fresh UUIDv7 of its own. Without
    `transaction`, no BEGIN and COMMIT: for a request whose one statement commits on its own."""
    replacements = dict(replacements or {})
    if created_between is not None:
        low, high = (int(t * 1000) for t in created_between)
        for statement in statements:
            for found in re.findall(
                r"'([0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12})'",
                statement.script,
            ):
                if low <= uuid.UUID(found).int >> 80 <= high:
                    replacements.setdefault(f"'{found}'", fresh_uuid7(f"u{len(replacements)}"))
    missing = [
        literal
        for literal in replacements
        if not any(literal in statement.script for statement in statements)
    ]
    if missing:  # a value that differs per request would be replayed as a constant
        raise ValueError(f"not in the captured statements: {', '.join(missing)}")
    script = ["\\set n random(1, 9000000000000000000)", *(["BEGIN;"] if transaction else [])]
    for statement in statements:
        text = statement.script
        for literal, expression in replacements.items():
            pattern = re.escape(literal)
            if literal[:1].isdigit():
                pattern = rf"(?<![\w.]){pattern}(?![\w.])"
            text = re.sub(pattern, lambda _, e=expression: e, text)  # type: ignore[misc]
        script.append(text + ";")
    if transaction:
        script.append("COMMIT;")
    return script


async def capture_submission_sql(
    url: str, survey_id: str, codes: list[str], data_dir: Path
) -> tuple[list[str], dict[str, str]]:
    """Submit one response through the app and record every statement it sends: on the asyncpg
    driver (the submission path, `core.driver.Driver`) and through SQLAlchemy (anything else)."""
    settings = load_settings(
        {
            "QUARTIER_ENV": "test",
            "SECRET_KEY": SECRET,
            "QUARTIER_DATA_DIR": str(data_dir),
            "QUARTIER_RATE_LIMITS": UNLIMITED,
        }
    )
    app = create_app(settings, database_url=url)
    key = f"capture-{uuid.uuid4()}"
    async with AsyncTestClient(app, base_url="https://bench.local") as client:
        # warm the definition cache as a running app would have it
        await client.get(f"/api/v1/surveys/{survey_id}")
        engine = app.state["db_config"].get_engine()
        async with capturing_sql(engine) as statements:
            response = await client.post(
                f"/api/v1/surveys/{survey_id}/responses",
                json={"answers": answers(codes, random.Random(1))},
                headers={"Idempotency-Key": key},
            )
        assert response.status_code == 201, response.text
    script = pgbench_script(statements)
    summary = {
        "statements": str(len(statements)),
        "kinds": ", ".join(_kind(st.script) for st in statements),
    }
    return script, summary


def _kind(statement: str) -> str:
    """What a statement does, e.g. `SELECT surveys` or `INSERT survey_responses + INSERT …`."""
    writes = re.findall(r"\b(INSERT INTO|DELETE FROM|(?<!FOR )UPDATE) (\w+)", statement)
    reads = re.findall(r"\bFROM (\w+)", statement)
    parts = [f"{verb.split()[0]} {table}" for verb, table in writes]
    if statement.lstrip().upper().startswith(("SELECT", "WITH")) and reads:
        parts.append(f"SELECT {reads[0]}")
    return " + ".join(dict.fromkeys(parts)) or statement.split()[0]


def pgbench(
    cluster: PrivateCluster, database: str, script: list[str], *, seconds: int, clients: int = 16
) -> float:
    binary = cluster.bindir / "pgbench"
    if not binary.exists():
        binary = Path(shutil.which("pgbench") or "pgbench")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write("\n".join(script) + "\n")
    os.chmod(handle.name, 0o644)
    result = cluster._run(
        [
            str(binary),
            *cluster.libpq_args(),
            "-n",
            "-M",
            "prepared",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            "-f",
            handle.name,
            database,
        ]
    )
    os.unlink(handle.name)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    if (
        not match
        or "aborted" in result.stdout
        or "ERROR" in result.stderr
        or (failed and int(failed.group(1)) > 0)
    ):
        raise RuntimeError(f"pgbench failed:\n{result.stdout}\n{result.stderr}")
    return float(match.group(1))


# -- 2. wrk --------------------------------------------------------------------------------------
def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
        if shutil.which("wrk") is None:
            subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True
            )
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed for the benchmark: apt-get install wrk")
    return found


def wrk_submission_script(directory: Path, survey_id: str, codes: list[str]) -> Path:
    rng = random.Random(7)
    bodies = [json.dumps({"answers": answers(codes, rng)}) for _ in range(500)]
    lua_bodies = ",\n".join("[==[" + b + "]==]" for b in bodies)
    script = directory / "submit.lua"
    script.write_text(f"""
local bodies = {{
{lua_bodies}
}}
local counter = 0
local prefix = ""
function setup(thread) thread:set("id", tostring(math.random(1, 2^30))) end
function init(args) prefix = id .. "-" .. tostring(os.time()) .. "-" end
function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", "/api/v1/surveys/{survey_id}/responses",
    {{["Content-Type"] = "application/json", ["Idempotency-Key"] = prefix .. counter}}, body)
end
""")
    return script


def wrk(
    binary: str, url: str, *, seconds: int, connections: int = 16, script: Path | None = None
) -> dict[str, float]:
    command = [
        binary,
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script is not None:
        command += ["-s", str(script)]
    result = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    figures = {"rps": rps}
    for label, pct in (("p50", "50%"), ("p99", "99%")):
        match = re.search(rf"\s{re.escape(pct)}\s+([\d.]+)(us|ms|s)", out)
        if match:
            factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
            figures[f"{label}_ms"] = float(match.group(1)) * factor
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non_2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    return figures


# -- 3. open loop at a fixed rate ----------------------------------------------------------------
async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """One HTTP/1.1 request on a kept-alive connection; the response's status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    lengths = [line.split(":", 1)[1] for line in lines if line.lower().startswith("content-length")]
    length = int(lengths[0]) if lengths else 0
    await reader.readexactly(length)
    return status


async def open_loop(
    slots: Sequence[Any],
    call: Callable[[Any, int], Awaitable[tuple[bool, Any]]],
    *,
    rate: float,
    seconds: float,
    samples: list[float] | None = None,
) -> dict[str, float]:
    """Calls due at a fixed rate, open loop: call `i` is due at `start + i / rate`, waits for a
    free slot (a connection), and its latency counts from when it was due, so stalls are not
    hidden. `call(slot, i)` answers whether it succeeded and the slot to give back (a new one
    when it had to replace a broken connection). Every latency (ms) is also added to
    `samples` when given, to pool several runs."""
    idle: asyncio.Queue[Any] = asyncio.Queue()
    for slot in slots:
        idle.put_nowait(slot)
    latencies: list[float] = []
    failures = 0
    total = max(1, int(rate * seconds))
    start = time.perf_counter() + 0.2

    async def one(index: int) -> None:
        nonlocal failures
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        slot = await idle.get()
        ok = False
        try:
            ok, slot = await call(slot, index)
        finally:
            idle.put_nowait(slot)
            if not ok:
                failures += 1
            latencies.append((time.perf_counter() - due) * 1000)

    await asyncio.gather(*(one(i) for i in range(total)))
    if samples is not None:
        samples.extend(latencies)
    latencies.sort()
    return {
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1],
        "failures": float(failures),
        "requests": float(total),
    }


async def fixed_rate(
    url: str, bodies: list[str], *, rate: int, seconds: int, connections: int = 64
) -> dict[str, float]:
    """Submissions due at a fixed rate, each with its own Idempotency-Key (`open_loop`). The
    client is a minimal HTTP/1.1 client on `connections` kept-alive sockets opened beforehand:
    a general-purpose client (httpx) spent more CPU than the app on this 2-core machine and
    fell behind by itself after a slow start."""
    parsed = httpx.URL(url)
    host, port, path = parsed.host, parsed.port or 80, parsed.raw_path.decode()
    opened = [await asyncio.open_connection(host, port) for _ in range(connections)]

    async def submit(
        pair: tuple[asyncio.StreamReader, asyncio.StreamWriter], index: int
    ) -> tuple[bool, Any]:
        body = bodies[index % len(bodies)].encode()
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\n"
            f"Idempotency-Key: {uuid.uuid4()}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        reader, writer = pair
        try:
            return await asyncio.wait_for(_exchange(reader, writer, request), 10) == 201, pair
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            writer.close()
            return False, await asyncio.open_connection(host, port)

    try:
        return await open_loop(opened, submit, rate=rate, seconds=seconds)
    finally:
        for _, writer in opened:
            writer.close()


# -- report ----------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    versions = {
        name: metadata.version(name)
        for name in ("litestar", "sqlalchemy", "asyncpg", "uvicorn", "msgspec")
    }
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "kernel": platform.release(),
        "python": platform.python_version(),
        **{k: v for k, v in versions.items()},
    }


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, as /proc/loadavg has them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def busy_note(start: str, end: str) -> str:
    """A warning for the report when the machine was not quiet when the benchmark began
    (1-minute load average of at least half the cores): the absolute figures then mean little.
    The load at the end is the benchmark's own (client, app and PostgreSQL keep both cores
    busy), so it is reported, not judged."""
    cores = os.cpu_count() or 1
    if float(start.split()[0]) < cores / 2:
        return ""
    return (
        f"**The machine was shared while this ran** (load average {start} at start, {end} at "
        f"end, on {cores} cores): other work competed for the cores, so the absolute times and "
        "rates are far from a quiet machine's; only the ratios (app and bare SQL/pgbench "
        "measured alternately in the same run) are meaningful."
    )


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (`share` 0.5 is the median of an odd count, 0.99 the p99)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-int(share * 1000) * len(ordered) // 1000) - 1))]


def serve_app(url: str, data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """The app as `make bench` serves it (uvicorn, `workers` processes, production settings, no
    rate limits, a pool of 20 per worker); returns once /ready answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "QUARTIER_ENV": "production",
        "QUARTIER_DATA_DIR": str(data_dir),
        "QUARTIER_RATE_LIMITS": UNLIMITED,
        "QUARTIER_LOG_LEVEL": "WARNING",
        "QUARTIER_DB_POOL_SIZE": "20",
    }
    process = start_app(env, port, workers=workers, quiet=False)
    try:
        # Starting takes a minute and more on a loaded 2-core machine.
        wait_until(f"{base}/ready", timeout=300)
    except BaseException:
        stop(process)
        raise
    return process, base


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started here: SIGTERM, and SIGKILL when it has not exited in 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=200, help="fixed rate, submissions/s")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--no-surveys",
        action="store_true",
        help="skip the aggregated-needs benchmark (bench/surveys_bench.py)",
    )
    args = parser.parse_args()
    wrk_binary = ensure_wrk()
    base_dir = Path(tempfile.mkdtemp(prefix="quartier-bench-"))
    base_dir.chmod(0o755)
    cluster = PrivateCluster(base_dir, fsync=True, database="bench")
    processes: list[subprocess.Popen[bytes]] = []
    lines: list[str] = []
    try:
        url = cluster.start()
        migrations.upgrade(url)
        survey_id, codes = asyncio.run(prepare(url, base_dir))
        script, summary = asyncio.run(capture_submission_sql(url, survey_id, codes, base_dir))
        print(f"submission SQL: {summary['statements']} statements: {summary['kinds']}", flush=True)

        pgbench(cluster, "bench", script, seconds=3)  # warm-up
        r_pg_runs = [
            pgbench(cluster, "bench", script, seconds=args.seconds) for _ in range(args.runs)
        ]
        r_pg = statistics.median(r_pg_runs)
        print(f"R_pg: {r_pg:.0f} tps (runs {', '.join(f'{r:.0f}' for r in r_pg_runs)})", flush=True)

        app_process, base = serve_app(url, base_dir, args.workers)
        processes.append(app_process)
        submit = wrk_submission_script(base_dir, survey_id, codes)
        wrk(wrk_binary, base, seconds=5, script=submit)  # warm-up
        app_runs = [
            wrk(wrk_binary, base, seconds=args.seconds, script=submit) for _ in range(args.runs)
        ]
        app_rps = statistics.median(r["rps"] for r in app_runs)
        app_p50 = statistics.median(r.get("p50_ms", 0.0) for r in app_runs)
        app_p99 = statistics.median(r.get("p99_ms", 0.0) for r in app_runs)
        bad = sum(r["non_2xx"] for r in app_runs)
        print(
            f"app submissions: {app_rps:.0f}/s (ratio {app_rps / r_pg:.2f}), "
            f"p50 {app_p50:.1f} ms, p99 {app_p99:.1f} ms, non-2xx {bad:.0f}",
            flush=True,
        )

        rng = random.Random(11)
        bodies = [json.dumps({"answers": answers(codes, rng)}) for _ in range(500)]
        fixed_runs = [
            asyncio.run(
                fixed_rate(
                    f"{base}/api/v1/surveys/{survey_id}/responses",
                    bodies,
                    rate=args.rate,
                    seconds=args.seconds,
                )
            )
            for _ in range(args.runs)
        ]
        fixed_p50 = statistics.median(r["p50_ms"] for r in fixed_runs)
        fixed_p99 = statistics.median(r["p99_ms"] for r in fixed_runs)
        fixed_failures = sum(r["failures"] for r in fixed_runs)
        print(
            f"fixed {args.rate}/s: p50 {fixed_p50:.1f} ms, p99 {fixed_p99:.1f} ms, "
            f"failures {fixed_failures:.0f}",
            flush=True,
        )

        wrk(wrk_binary, f"{base}/health", seconds=3)
        health_runs = [
            wrk(wrk_binary, f"{base}/health", seconds=args.seconds)["rps"] for _ in range(args.runs)
        ]
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        processes.clear()
        hello_port = free_port()
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bench.hello_app:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(hello_port),
                    "--workers",
                    str(args.workers),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_until(f"http://127.0.0.1:{hello_port}/health")
        wrk(wrk_binary, f"http://127.0.0.1:{hello_port}/health", seconds=3)
        hello_runs = [
            wrk(wrk_binary, f"http://127.0.0.1:{hello_port}/health", seconds=args.seconds)["rps"]
            for _ in range(args.runs)
        ]
        health, hello = statistics.median(health_runs), statistics.median(hello_runs)
        print(
            f"/health {health:.0f}/s vs hello-world {hello:.0f}/s (ratio {health / hello:.2f})",
            flush=True,
        )

        facts = machine()
        today = datetime.date.today().isoformat()
        verdict = {
            "submissions ≥ 0.35 × R_pg": app_rps / r_pg >= 0.35,
            f"p99 < 50 ms at {args.rate}/s": fixed_p99 < 50 and fixed_failures == 0,
            "/health ≥ 0.60 × hello-world": health / hello >= 0.60,
        }
        lines = [
            f"# Benchmark {today}",
            "",
            f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory']}, Linux "
            f"{facts['kernel']}, Python {facts['python']}; client, app and PostgreSQL share "
            "the cores. Versions: "
            + ", ".join(
                f"{k} {facts[k]}"
                for k in ("litestar", "sqlalchemy", "asyncpg", "uvicorn", "msgspec")
            )
            + ".",
            f"App: uvicorn, {args.workers} workers, QUARTIER_ENV=production; PostgreSQL with "
            "fsync and synchronous_commit on. Medians of "
            f"{args.runs} runs of {args.seconds} s after a warm-up.",
            "",
            f"Submission SQL ({summary['statements']} statements in one transaction): "
            f"{summary['kinds']}.",
            "",
            "| measure | value | runs |",
            "| --- | --- | --- |",
            f"| R_pg: pgbench, same SQL, 16 clients, prepared | {r_pg:.0f} tps | "
            + ", ".join(f"{r:.0f}" for r in r_pg_runs)
            + " |",
            f"| app: submissions over HTTP (wrk, 16 connections) | {app_rps:.0f}/s | "
            + ", ".join(f"{r['rps']:.0f}" for r in app_runs)
            + " |",
            f"| **ratio app / R_pg** | **{app_rps / r_pg:.2f}** | target ≥ 0.35 |",
            f"| app latency under full load (wrk) | p50 {app_p50:.1f} ms, p99 {app_p99:.1f} ms"
            f" | non-2xx: {bad:.0f} |",
            f"| open loop at {args.rate} submissions/s | p50 {fixed_p50:.1f} ms, "
            f"**p99 {fixed_p99:.1f} ms** | p99 per run "
            + ", ".join(f"{r['p99_ms']:.1f}" for r in fixed_runs)
            + f" ms; failures: {fixed_failures:.0f}; target p99 < 50 ms |",
            f"| GET /health | {health:.0f}/s | "
            + ", ".join(f"{r:.0f}" for r in health_runs)
            + " |",
            f"| bare Litestar hello-world | {hello:.0f}/s | "
            + ", ".join(f"{r:.0f}" for r in hello_runs)
            + " |",
            f"| **ratio /health / hello-world** | **{health / hello:.2f}** | target ≥ 0.60 |",
            "",
            "Targets: "
            + "; ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in verdict.items())
            + ".",
        ]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        cluster.destroy()
        shutil.rmtree(base_dir, ignore_errors=True)

    surveys_bench = ROOT / "bench" / "surveys_bench.py"
    if not args.no_surveys and surveys_bench.exists():
        result = subprocess.run(
            [sys.executable, str(surveys_bench)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        lines += ["", "## Aggregated needs (bench/surveys_bench.py)", "", result.stdout.strip()]
        if result.returncode != 0:
            lines.append(f"\nsurveys benchmark failed:\n```\n{result.stderr[-2000:]}\n```")
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = RESULTS / f"{datetime.date.today().isoformat()}.md"
    report.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {report.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
