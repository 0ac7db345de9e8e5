"""Benchmark of ideas (issue #9): ListIdeas with a million ideas against the bare SQL it sends,
and supports per second against pgbench on the SQL of one support.

    .venv/bin/python bench/ideas_bench.py [--ideas 1000000] [--requests 200] [--rate 70]
        [--rate-seconds 15] [--seconds 10]

Starts a private PostgreSQL cluster (fsync and synchronous_commit on, as `bench/run.py`), builds
the schema by the migrations, imports the full Berlin LOR through the import service, creates a
Berlin-wide process in needs assessment (ideas open) through the process service, and seeds:

* N ideas with COPY over the 447 planning areas (by population), with UUIDv7 ids ordered by
  their creation time over two years as the app creates them; 86 % published, 3 % hidden (with
  a reason), 4 % pending, 4 % withdrawn, 3 % merged; need categories skewed (the first ones
  commoner); official answers on a fifth; a point on 40 %; `support_count` heavy-tailed (45 %
  none, the rest Pareto, α 1.3, at most 5,000). The newest `--targets` published ideas are the
  ones the support benchmark supports; their ids are UUIDv7 of one millisecond with the
  target's number in the random bits, so that pgbench can name one by `:k`.
* the support rows behind every `support_count` (INSERT … SELECT on the server: a pool of
  residents, a resident's supports in the process sharing one record key, as the app keeps them);
* VACUUM ANALYZE.

Then:

1. ListIdeas through the assembled app (in-process ASGI client, like `bench/surveys_bench.py`)
   for five representative requests — the process's newest first page, one district's area
   filter, most supported, a page deep in the list (cursor of the idea half-way down), a need
   category — each `--requests` times, against the statements the request sends (captured with
   `bench.run.capturing_sql`) replayed on a bare asyncpg connection in one transaction. App and
   bare SQL alternate request by request, so both see the same noise; p50 and p99 of each, and
   their ratio. Closed loop: a request waits for the one before.
2. The same five requests at a fixed rate (`--rate`, open loop, `bench.run.open_loop`): the app
   served as `bench/run.py` serves it (uvicorn, production settings) over HTTP on kept-alive
   connections, then the captured statements of the same page on asyncpg connections at the
   same rate; p50 and p99 of each and their ratio, beside the app's closed-loop throughput for
   the request (wrk) to show the share of it the rate is.
3. Supports: the statement of one SubmitIdeaSupport request (`Respondent-Token` header, no
   Idempotency-Key; the steady state, the idea's process and salt known to the app process)
   captured through the app, turned into a pgbench script (a fresh pseudonym per support, the
   supported idea drawn from the targets; no BEGIN and COMMIT, as the app sends it), pgbench
   with 16 clients, against the served app with wrk (16 connections, a fresh
   `Respondent-Token` per request, the same targets). pgbench and wrk runs alternate.

Writes bench/results/<date>-ideas.md (and prints it). Client, app and database share the
machine's cores: quote the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import hashlib
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bench.realistic_survey import NEEDS  # noqa: E402
from bench.run import (  # noqa: E402
    RESULTS,
    SECRET,
    UNLIMITED,
    CapturedStatement,
    _kind,
    busy_note,
    capturing_sql,
    ensure_wrk,
    load_average,
    machine,
    open_loop,
    percentile,
    pgbench,
    pgbench_script,
    serve_app,
    stop,
    wrk,
)
from bench.surveys_bench import _connect_kwargs  # noqa: E402
from quartier import migrations  # noqa: E402
from quartier.app import create_app  # noqa: E402
from quartier.areas import demo, services  # noqa: E402
from quartier.core.pagination import encode_cursor  # noqa: E402
from quartier.db import PrivateCluster, create_engine, session_scope  # noqa: E402
from quartier.ideas import schemas as idea_schemas  # noqa: E402
from quartier.ideas import services as ideas  # noqa: E402
from quartier.participation import pseudonyms  # noqa: E402
from quartier.processes import schemas as process_schemas  # noqa: E402
from quartier.processes import services as processes  # noqa: E402
from quartier.processes.phases import PhaseKey  # noqa: E402
from quartier.settings import PROJECT_ROOT, load_settings  # noqa: E402

DATABASE = "bench"
SEED = 20261207
BATCH = 50_000
RESIDENTS = 400_000  # the pool of supporters
MIN_REQUESTS = 20  # per ListIdeas case, however slow
# ListIdeas requests per second at the fixed rate: a third to a half of what the served app
# (2 workers) answered closed-loop per request on this 2-core machine while it was shared
# (180–310/s), so the figures show latency at a load it sustains, not queueing at saturation.
DEFAULT_RATE = 100
ROUNDS = 3  # app and bare SQL alternate at the fixed rate
STATES = [("published", 0.86), ("hidden", 0.03), ("pending", 0.04), ("withdrawn", 0.04)]
MERGED_SHARE = 0.03
STATUSES = [
    ("under_review", 0.12),
    ("accepted", 0.04),
    ("not_pursued", 0.03),
    ("implemented", 0.01),
]
TARGET_GROUPS = ["Kinder", "Jugendliche", "Familien", "Ältere Menschen", "Alleinerziehende"]
TITLES = [
    "Mehr Bänke im {place}",
    "Ein Nachbarschaftscafé für {place}",
    "Sichere Schulwege rund um den {place}",
    "Spielplatz am {place} erneuern",
    "Offener Jugendtreff am {place}",
    "Beratung zu Miete und Schulden im {place}",
    "Trinkbrunnen am {place}",
    "Sprechstunde für Ältere im {place}",
]
PLACES = ["Kiez", "Park", "Platz", "Stadtteilzentrum", "Schulhof", "Markt", "Ufer", "Bahnhof"]
SENTENCES = [
    "Viele Familien hier haben keinen Ort, an dem sie sich ohne Geld treffen können.",
    "Im Sommer ist es auf dem Platz so heiß, dass niemand dort bleibt.",
    "Ältere Nachbarinnen wissen oft nicht, wo sie Hilfe im Alltag finden.",
    "Der Weg zur nächsten Beratungsstelle dauert mit dem Bus fast eine Stunde.",
    "Jugendliche treffen sich abends an der Haltestelle, weil es keinen anderen Ort gibt.",
    "Eine feste Sprechstunde im Kiez würde vielen den Gang zum Amt ersparen.",
    "Die Kreuzung vor der Schule ist morgens unübersichtlich und gefährlich.",
]


# -- seeding -------------------------------------------------------------------------------------


def uuid7_at(milliseconds: int, rand_a: int, rand_b: int) -> uuid.UUID:
    """A UUIDv7 (RFC 9562) of the given millisecond and random bits."""
    value = (milliseconds << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)


def _pick(rng: random.Random, table: list[tuple[str, float]]) -> str | None:
    roll = rng.random()
    for value, share in table:
        if roll < share:
            return value
        roll -= share
    return None


def _support_count(rng: random.Random) -> int:
    if rng.random() < 0.45:
        return 0
    return min(5000, int(rng.paretovariate(1.3)))


def _records(
    rng: random.Random,
    process_id: uuid.UUID,
    areas: list[tuple[uuid.UUID, float]],
    categories: list[uuid.UUID],
    count: int,
    targets: int,
    target_ms: int,
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of idea rows: `count - targets` over two years, then the support targets (the
    newest, published, all in `target_ms`)."""
    area_ids = [area for area, _ in areas]
    area_weights = [weight for _, weight in areas]
    category_weights = [1 / (i + 2) for i in range(len(categories))]
    end = target_ms - 3_600_000
    start = end - 2 * 365 * 86_400_000
    ordinary = count - targets
    now = datetime.datetime.fromtimestamp(target_ms / 1000, datetime.UTC)
    merged_into: uuid.UUID | None = None
    batch: list[tuple[Any, ...]] = []
    for number in range(count):
        target = number >= ordinary
        if target:
            milliseconds = target_ms
            idea_id = uuid7_at(target_ms, 0, number - ordinary)
        else:
            milliseconds = start + (end - start) * number // max(1, ordinary)
            idea_id = uuid7_at(milliseconds, rng.getrandbits(12), rng.getrandbits(62))
        created = datetime.datetime.fromtimestamp(milliseconds / 1000, datetime.UTC)
        if target:
            state = "published"
        elif rng.random() < MERGED_SHARE and merged_into is not None:
            state = "merged"
        else:
            state = _pick(rng, STATES) or "published"
        title = rng.choice(TITLES).format(place=rng.choice(PLACES))
        description = " ".join(rng.sample(SENTENCES, rng.randint(2, 5)))
        status = "merged" if state == "merged" else _pick(rng, STATUSES)
        answered = created + datetime.timedelta(days=rng.randint(3, 60)) if status else None
        point = rng.random() < 0.4
        visible = state in ("published", "hidden", "merged")
        batch.append(
            (
                idea_id,
                created,
                created,
                process_id,
                title,
                description,
                rng.choices(categories, category_weights)[0],
                rng.sample(TARGET_GROUPS, rng.randint(0, 2)),
                rng.choices(area_ids, area_weights)[0],
                13.09 + rng.random() * 0.67 if point else None,
                52.34 + rng.random() * 0.33 if point else None,
                state,
                "Enthält persönliche Angaben über Dritte." if state == "hidden" else None,
                merged_into if state == "merged" else None,
                status,
                "Wir prüfen die Idee mit dem Bezirksamt." if status else None,
                answered,
                min(created + datetime.timedelta(hours=rng.randint(1, 48)), now)
                if visible
                else None,
                _support_count(rng) if visible else 0,
                rng.randbytes(32),
                hashlib.sha1(f"{title} {description} {number}".encode()).hexdigest(),
                rng.getrandbits(32),
            )
        )
        if state == "published" and rng.random() < 0.01:
            merged_into = idea_id
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


IDEA_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "process_id",
    "title",
    "description",
    "need_category_id",
    "target_groups",
    "area_id",
    "lon",
    "lat",
    "state",
    "hidden_reason",
    "merged_into_id",
    "official_status",
    "official_answer",
    "answered_at",
    "published_at",
    "support_count",
    "follow_token_hash",
    "text_fingerprint",
    "record_key",
]

# Every idea's supports, from a pool of residents: consecutive residents (distinct within an
# idea), each with one record key in the process, as services.support keeps it.
SUPPORTS = f"""
    INSERT INTO idea_supports (idea_id, pseudonym, created_at, record_key)
    SELECT idea.id,
           sha256(convert_to('resident-' || resident, 'UTF8')),
           least(idea.published_at + make_interval(mins => g), now()),
           hashtext('key-' || resident)::bigint & 4294967295
    FROM ideas idea
    CROSS JOIN LATERAL generate_series(1, idea.support_count) g
    CROSS JOIN LATERAL (
        SELECT ((hashtext(idea.id::text)::bigint & 2147483647) + g) % {RESIDENTS} AS resident
    ) who
    WHERE idea.support_count > 0
"""


async def seed(url: str, process_id: uuid.UUID, count: int, targets: int) -> dict[str, Any]:
    connection = await asyncpg.connect(**_connect_kwargs(url, DATABASE))
    try:
        areas = [
            (row["id"], float(row["total"]))
            for row in await connection.fetch(
                """
                SELECT area.id, population.total
                FROM social_areas area
                JOIN area_levels level ON level.id = area.level_id
                JOIN area_populations population ON population.area_id = area.id
                WHERE level.key = 'planning_area' AND population.total > 0
                """
            )
        ]
        by_key = {
            row["key"]: row["id"]
            for row in await connection.fetch("SELECT key, id FROM need_categories")
        }
        categories = [by_key[key] for key in NEEDS if key in by_key]
        target_ms = int(time.time() * 1000) - 60_000
        started = time.perf_counter()
        rng = random.Random(SEED)
        for batch in _records(rng, process_id, areas, categories, count, targets, target_ms):
            await connection.copy_records_to_table("ideas", records=batch, columns=IDEA_COLUMNS)
        copied = time.perf_counter() - started
        await connection.execute(SUPPORTS)
        supported = time.perf_counter() - started - copied
        await connection.execute("VACUUM (ANALYZE) ideas, idea_supports")
        await connection.execute("ANALYZE")
        states = dict(await connection.fetch("SELECT state, count(*) FROM ideas GROUP BY state"))
        supports = await connection.fetchval("SELECT count(*) FROM idea_supports")
        sizes = dict(
            await connection.fetch(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                "WHERE relname IN ('ideas', 'idea_supports')"
            )
        )
        return {
            "areas": len(areas),
            "states": states,
            "supports": supports,
            "copy_s": copied,
            "supports_s": supported,
            "total_s": time.perf_counter() - started,
            "sizes": sizes,
            "target_ms": target_ms,
        }
    finally:
        await connection.close()


async def setup(engine: AsyncEngine, data: Path) -> uuid.UUID:
    """Berlin, and a published Berlin-wide process in needs assessment (ideas open) that
    publishes ideas at once."""
    levels, population = demo.berlin_sources(data)
    async with session_scope(engine) as session:
        await services.import_areas(session, levels, population)
    async with session_scope(engine) as session:
        process_id = await processes.create_process(
            session,
            process_schemas.ProcessCreate(title="Ideen für Berlin", topic="Ideen"),
            processes.SYSTEM,
        )
        await processes.activate_phase(
            session, process_id, PhaseKey.NEEDS_ASSESSMENT, processes.SYSTEM
        )
        await processes.publish_process(session, process_id)
    async with session_scope(engine) as session:
        await ideas.set_process_settings(
            session, process_id, idea_schemas.IdeaSettingsIn(premoderation=False)
        )
    return process_id


def target_uuid(target_ms: int, k: int) -> uuid.UUID:
    return uuid7_at(target_ms, 0, k)


# -- 1. ListIdeas --------------------------------------------------------------------------------


async def replay(connection: asyncpg.Connection, statements: list[CapturedStatement]) -> None:
    """The statements of a request, as sent, in one transaction (as the request's session)."""
    async with connection.transaction():
        for statement in statements:
            await connection.fetch(statement.sql, *statement.params)


async def list_ideas(
    url: str, data_dir: Path, process_id: uuid.UUID, requests: int, budget: float
) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(**_connect_kwargs(url, DATABASE))
    try:
        district = await connection.fetchval(
            """
            SELECT area.code FROM social_areas area JOIN area_levels level
              ON level.id = area.level_id
            WHERE level.key = 'district' ORDER BY area.code LIMIT 1 OFFSET 6
            """
        )
        visible = await connection.fetchval(
            "SELECT count(*) FROM ideas WHERE state IN ('published', 'hidden')"
        )
        halfway = await connection.fetchval(
            "SELECT id FROM ideas WHERE state IN ('published', 'hidden') "
            "ORDER BY id DESC OFFSET $1 LIMIT 1",
            visible // 2,
        )
        need = NEEDS[len(NEEDS) // 2]
    finally:
        await connection.close()
    process = str(process_id)
    cases: list[tuple[str, dict[str, str]]] = [
        ("process, newest, first page", {"process_id": process}),
        (f"process, district {district}", {"process_id": process, "area": district}),
        ("process, most supported", {"process_id": process, "sort": "most_supported"}),
        (
            f"process, newest, page at {visible // 2:,} (cursor)",
            {"process_id": process, "cursor": encode_cursor([halfway])},
        ),
        (f"process, need {need}", {"process_id": process, "need_category": need}),
    ]
    settings = load_settings(
        {
            "QUARTIER_ENV": "test",
            "SECRET_KEY": SECRET,
            "QUARTIER_DATA_DIR": str(data_dir),
            "QUARTIER_RATE_LIMITS": UNLIMITED,
        }
    )
    app = create_app(replace(settings, db_pool_size=4), database_url=url)
    results = []
    bare = await asyncpg.connect(**_connect_kwargs(url, DATABASE))
    try:
        async with AsyncTestClient(app, base_url="https://bench.local") as client:
            engine = app.state["db_config"].get_engine()
            for label, params in cases:
                await client.get("/api/v1/ideas", params=params)  # warm the pool and caches
                async with capturing_sql(engine) as statements:
                    response = await client.get("/api/v1/ideas", params=params)
                assert response.status_code == 200, response.text
                captured = list(statements)
                items = len(response.json()["items"])
                for _ in range(2):  # warm-up of both
                    await client.get("/api/v1/ideas", params=params)
                    await replay(bare, captured)
                app_ms: list[float] = []
                sql_ms: list[float] = []
                deadline = time.perf_counter() + budget
                for done in range(requests):
                    if done >= MIN_REQUESTS and time.perf_counter() > deadline:
                        break
                    started = time.perf_counter()
                    response = await client.get("/api/v1/ideas", params=params)
                    app_ms.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
                    started = time.perf_counter()
                    await replay(bare, captured)
                    sql_ms.append((time.perf_counter() - started) * 1000)
                results.append(
                    {
                        "label": label,
                        "params": params,
                        "captured": captured,
                        "items": items,
                        "statements": len(captured),
                        "app": app_ms,
                        "sql": sql_ms,
                    }
                )
                print(
                    f"ListIdeas {label}: app p50 {percentile(app_ms, 0.5):.1f} ms, "
                    f"bare SQL p50 {percentile(sql_ms, 0.5):.1f} ms",
                    flush=True,
                )
    finally:
        await bare.close()
    return results


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One GET on a kept-alive HTTP/1.1 connection, its body read whole (by Content-Length or
    chunked); the response's status."""
    writer.write(request)
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    fields = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in head[1:] if line)
    }
    if "content-length" in fields:
        await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def app_at_rate(
    base: str,
    params: dict[str, str],
    *,
    rate: float,
    seconds: float,
    connections: int,
    samples: list[float] | None = None,
) -> dict[str, float]:
    """ListIdeas with `params` over HTTP at a fixed rate (`bench.run.open_loop`): a minimal
    HTTP/1.1 client on `connections` kept-alive sockets, `Accept-Encoding: gzip` as browsers
    send it."""
    parsed = httpx.URL(base)
    host, port = parsed.host, parsed.port or 80
    target = "/api/v1/ideas?" + urlencode(params)
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n"
        "Accept-Encoding: gzip\r\n\r\n"
    ).encode()
    opened = [await asyncio.open_connection(host, port) for _ in range(connections)]

    async def call(
        pair: tuple[asyncio.StreamReader, asyncio.StreamWriter], _: int
    ) -> tuple[bool, Any]:
        try:
            return await asyncio.wait_for(_get(*pair, request), 10) == 200, pair
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            pair[1].close()
            return False, await asyncio.open_connection(host, port)

    try:
        return await open_loop(opened, call, rate=rate, seconds=seconds, samples=samples)
    finally:
        for _, writer in opened:
            writer.close()


async def sql_at_rate(
    url: str,
    statements: list[CapturedStatement],
    *,
    rate: float,
    seconds: float,
    connections: int,
    samples: list[float] | None = None,
) -> dict[str, float]:
    """The statements of the same request, replayed at the same fixed rate (`open_loop`) on
    `connections` asyncpg connections, each replay in a transaction as the request's session."""
    opened = [await asyncpg.connect(**_connect_kwargs(url, DATABASE)) for _ in range(connections)]

    async def call(connection: asyncpg.Connection, _: int) -> tuple[bool, Any]:
        await replay(connection, statements)
        return True, connection

    try:
        return await open_loop(opened, call, rate=rate, seconds=seconds, samples=samples)
    finally:
        for connection in opened:
            await connection.close()


def wrk_gzip_script(directory: Path) -> Path:
    script = directory / "gzip.lua"
    script.write_text('wrk.headers["Accept-Encoding"] = "gzip"\n')
    return script


def list_ideas_at_rate(
    wrk_binary: str,
    base: str,
    url: str,
    directory: Path,
    cases: list[dict[str, Any]],
    *,
    rate: float,
    seconds: float,
    connections: int,
) -> list[dict[str, Any]]:
    """Per ListIdeas case: its closed-loop throughput over HTTP (wrk, 16 connections, 5 s after
    2 s of warm-up, for the rate's share of it), then the app and its bare SQL at `rate`, after
    a warm-up of each, in `ROUNDS` alternating runs of `seconds / ROUNDS` each, pooled."""
    gzip = wrk_gzip_script(directory)
    results = []
    for case in cases:
        address = f"{base}/api/v1/ideas?{urlencode(case['params'])}"
        wrk(wrk_binary, address, seconds=2, script=gzip)  # warm-up
        capacity = wrk(wrk_binary, address, seconds=5, script=gzip)
        asyncio.run(
            app_at_rate(base, case["params"], rate=rate, seconds=2, connections=connections)
        )
        asyncio.run(
            sql_at_rate(url, case["captured"], rate=rate, seconds=2, connections=connections)
        )
        app_ms: list[float] = []
        sql_ms: list[float] = []
        failures = 0.0
        for _ in range(ROUNDS):  # alternating, so both see the same noise
            failures += asyncio.run(
                app_at_rate(
                    base,
                    case["params"],
                    rate=rate,
                    seconds=seconds / ROUNDS,
                    connections=connections,
                    samples=app_ms,
                )
            )["failures"]
            asyncio.run(
                sql_at_rate(
                    url,
                    case["captured"],
                    rate=rate,
                    seconds=seconds / ROUNDS,
                    connections=connections,
                    samples=sql_ms,
                )
            )
        app = {
            "p50_ms": percentile(app_ms, 0.5),
            "p99_ms": percentile(app_ms, 0.99),
            "failures": failures,
            "requests": float(len(app_ms)),
        }
        sql = {"p50_ms": percentile(sql_ms, 0.5), "p99_ms": percentile(sql_ms, 0.99)}
        results.append({"label": case["label"], "capacity": capacity, "app": app, "sql": sql})
        print(
            f"ListIdeas {case['label']} at {rate:g}/s: app p50 {app['p50_ms']:.1f} ms, "
            f"p99 {app['p99_ms']:.1f} ms (failures {app['failures']:.0f}); bare SQL p50 "
            f"{sql['p50_ms']:.1f} ms, p99 {sql['p99_ms']:.1f} ms; closed loop "
            f"{capacity['rps']:.0f}/s",
            flush=True,
        )
    return results


# -- 2. supports ---------------------------------------------------------------------------------


async def capture_support(
    url: str, data_dir: Path, target_ms: int, targets: int
) -> tuple[list[str], list[CapturedStatement]]:
    """The statements of one SubmitIdeaSupport through the app, as a pgbench script: the
    supported idea `:k` among the targets, a fresh pseudonym per transaction."""
    settings = load_settings(
        {
            "QUARTIER_ENV": "test",
            "SECRET_KEY": SECRET,
            "QUARTIER_DATA_DIR": str(data_dir),
            "QUARTIER_RATE_LIMITS": UNLIMITED,
        }
    )
    app = create_app(settings, database_url=url)
    idea_id = target_uuid(target_ms, targets - 1)
    token = f"capture-{uuid.uuid4()}"
    async with AsyncTestClient(app, base_url="https://bench.local") as client:
        engine = app.state["db_config"].get_engine()
        # Warm: the app process then knows the idea's process and salt, as it does for every
        # target after the first support of it (the steady state: one statement).
        warm = await client.post(
            f"/api/v1/ideas/{idea_id}/supports",
            headers={"Respondent-Token": f"warm-{uuid.uuid4()}"},
        )
        assert warm.status_code == 200, warm.text
        started = time.time()
        async with capturing_sql(engine) as statements:
            response = await client.post(
                f"/api/v1/ideas/{idea_id}/supports", headers={"Respondent-Token": token}
            )
        ended = time.time()
        assert response.status_code == 200, response.text
    connection = await asyncpg.connect(**_connect_kwargs(url, DATABASE))
    try:
        salt = await connection.fetchval("SELECT pseudonym_salt FROM idea_settings")
        pseudonym = pseudonyms.pseudonym(SECRET, salt, token)
    finally:
        await connection.close()
    prefix = f"{target_ms:012x}7000"
    # A fresh pseudonym per support: 32 bytes from `:n` (drawn per transaction), an immutable
    # expression of a parameter that PostgreSQL evaluates once per statement, not per row.
    script = pgbench_script(
        statements,
        {
            f"'\\x{pseudonym.hex()}'": "decode(lpad(to_hex(:n::bigint), 64, '0'), 'hex')",
            f"'{idea_id}'": f"('{prefix}' || '8' || lpad(to_hex(:k::bigint), 15, '0'))::uuid",
        },
        created_between=(started, ended),
        # One statement commits on its own, as the app sends it (no BEGIN and COMMIT).
        transaction=len(statements) > 1,
    )
    script.insert(1, f"\\set k random(0, {targets - 1})")
    return script, list(statements)


def wrk_support_script(directory: Path, target_ms: int, targets: int) -> Path:
    prefix = f"{target_ms:012x}7000"
    script = directory / "support.lua"
    script.write_text(f"""
local counter = 0
local prefix = ""
function setup(thread) thread:set("id", tostring(math.random(1, 2^30))) end
function init(args)
  prefix = "bench-" .. id .. "-" .. tostring(os.time()) .. "-"
  math.randomseed(os.time() + tonumber(id))
end
function request()
  counter = counter + 1
  local hex = "{prefix}" .. "8" .. string.format("%015x", math.random(0, {targets - 1}))
  local idea = hex:sub(1, 8) .. "-" .. hex:sub(9, 12) .. "-" .. hex:sub(13, 16) .. "-"
    .. hex:sub(17, 20) .. "-" .. hex:sub(21, 32)
  return wrk.format("POST", "/api/v1/ideas/" .. idea .. "/supports",
    {{["Respondent-Token"] = prefix .. counter}})
end
""")
    return script


# -- report --------------------------------------------------------------------------------------


def _kinds(statements: list[CapturedStatement]) -> str:
    return ", ".join(_kind(statement.script) for statement in statements)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--data", type=Path, default=PROJECT_ROOT.parent / "shared" / "data" / "berlin-lor"
    )
    parser.add_argument("--ideas", type=int, default=1_000_000)
    parser.add_argument("--targets", type=int, default=1000, help="ideas the supports go to")
    parser.add_argument("--requests", type=int, default=200, help="per ListIdeas case")
    parser.add_argument(
        "--case-seconds",
        type=float,
        default=90,
        help=f"time budget of a ListIdeas case: fewer requests (at least {MIN_REQUESTS}) if slow",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help="ListIdeas requests per second of the fixed-rate (open-loop) runs, app and bare SQL",
    )
    parser.add_argument(
        "--rate-seconds", type=float, default=15, help="length of each fixed-rate run"
    )
    parser.add_argument(
        "--connections", type=int, default=16, help="kept-alive connections at the fixed rate"
    )
    parser.add_argument("--seconds", type=int, default=10, help="length of each throughput run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not (args.data / "planning-areas.geojson").exists():
        sys.exit(f"no Berlin LOR data in {args.data}")
    wrk_binary = ensure_wrk()
    load_start = load_average()
    begun = time.perf_counter()
    base_dir = Path(tempfile.mkdtemp(prefix="quartier-bench-"))
    base_dir.chmod(0o755)
    cluster = PrivateCluster(base_dir, fsync=True, database=DATABASE)
    processes_: list[subprocess.Popen[bytes]] = []
    try:
        url = cluster.start()
        migrations.upgrade(url)

        async def prepare() -> tuple[uuid.UUID, dict[str, Any], str]:
            engine = create_engine(url, pool_size=1, max_overflow=0)
            try:
                process_id = await setup(engine, args.data)
            finally:
                await engine.dispose()
            figures = await seed(url, process_id, args.ideas, args.targets)
            connection = await asyncpg.connect(**_connect_kwargs(url, DATABASE))
            try:
                version = await connection.fetchval("SHOW server_version")
            finally:
                await connection.close()
            return process_id, figures, version

        process_id, seeded, pg_version = asyncio.run(prepare())
        print(
            f"seeded {args.ideas:,} ideas, {seeded['supports']:,} supports in "
            f"{seeded['total_s']:.0f} s",
            flush=True,
        )
        listed = asyncio.run(
            list_ideas(url, base_dir, process_id, args.requests, args.case_seconds)
        )

        script, support_sql = asyncio.run(
            capture_support(url, base_dir, seeded["target_ms"], args.targets)
        )
        print(f"support SQL: {len(support_sql)} statements: {_kinds(support_sql)}", flush=True)
        app_process, base = serve_app(url, base_dir, args.workers)
        processes_.append(app_process)
        at_rate = list_ideas_at_rate(
            wrk_binary,
            base,
            url,
            base_dir,
            listed,
            rate=args.rate,
            seconds=args.rate_seconds,
            connections=args.connections,
        )
        lua = wrk_support_script(base_dir, seeded["target_ms"], args.targets)
        pgbench(cluster, DATABASE, script, seconds=3)  # warm-up
        wrk(wrk_binary, base, seconds=3, script=lua)
        pg_runs: list[float] = []
        app_runs: list[dict[str, float]] = []
        for _ in range(args.runs):  # alternating, so both see the same noise
            pg_runs.append(pgbench(cluster, DATABASE, script, seconds=args.seconds))
            app_runs.append(wrk(wrk_binary, base, seconds=args.seconds, script=lua))
        load_end = load_average()
        elapsed = time.perf_counter() - begun
    finally:
        for process in processes_:
            stop(process)
        cluster.destroy()
        shutil.rmtree(base_dir, ignore_errors=True)

    r_pg = statistics.median(pg_runs)
    app_rps = statistics.median(r["rps"] for r in app_runs)
    bad = sum(r["non_2xx"] for r in app_runs)
    facts = machine()
    today = datetime.date.today().isoformat()
    states = ", ".join(f"{state} {n:,}" for state, n in sorted(seeded["states"].items()))
    lines = [
        f"# Ideas benchmark {today} (issue #9)",
        "",
        f"`.venv/bin/python bench/ideas_bench.py --ideas {args.ideas} --requests {args.requests} "
        f"--rate {args.rate:g} --rate-seconds {args.rate_seconds:g} --seconds {args.seconds} "
        f"--runs {args.runs}` ({elapsed / 60:.0f} min in all).",
        "",
        f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory']}, Linux "
        f"{facts['kernel']}, Python {facts['python']}, PostgreSQL {pg_version} (private cluster, "
        "fsync and synchronous_commit on); client, app and PostgreSQL share the cores. "
        f"Load average (1/5/15 min) at start {load_start}, at end {load_end} (the end is the "
        "benchmark's own load: client, app and PostgreSQL).",
        "",
        *([busy_note(load_start, load_end), ""] if busy_note(load_start, load_end) else []),
        f"Seed: {args.ideas:,} ideas over {seeded['areas']} planning areas ({states}); "
        f"{seeded['supports']:,} supports. COPY {seeded['copy_s']:.0f} s, supports "
        f"{seeded['supports_s']:.0f} s, VACUUM ANALYZE included: {seeded['total_s']:.0f} s. "
        "Sizes with indexes: "
        + ", ".join(f"{n} {b / 2**20:.0f} MiB" for n, b in sorted(seeded["sizes"].items()))
        + ".",
        "",
        f"## ListIdeas closed loop (up to {args.requests} requests each, app and bare SQL "
        "alternating)",
        "",
        "App: in-process ASGI client (httpx) → the assembled app (QUARTIER_ENV=test) → PostgreSQL. "
        "Bare SQL: the statements the request sent (captured), replayed on one asyncpg "
        "connection in a transaction.",
        "",
        "| request | items | statements | requests | app p50 ms | app p99 ms | SQL p50 ms "
        "| SQL p99 ms | ratio p50 | ratio p99 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case in listed:
        a50, a99 = percentile(case["app"], 0.5), percentile(case["app"], 0.99)
        s50, s99 = percentile(case["sql"], 0.5), percentile(case["sql"], 0.99)
        lines.append(
            f"| {case['label']} | {case['items']} | {case['statements']} | {len(case['app'])} "
            f"| {a50:.1f} | {a99:.1f} "
            f"| {s50:.1f} | {s99:.1f} | **{a50 / s50:.2f}** | {a99 / s99:.2f} |"
        )
    lines += [
        "",
        f"## ListIdeas at a fixed rate ({args.rate:g} requests/s, open loop)",
        "",
        f"The same five requests, each at {args.rate:g} requests/s for {args.rate_seconds:g} s "
        f"(in {ROUNDS} runs alternating with the bare SQL's, pooled) after a warm-up of 2 s: "
        "the app served as for the supports below (uvicorn, "
        f"{args.workers} workers, QUARTIER_ENV=production) over HTTP/1.1 on "
        f"{args.connections} kept-alive connections (`Accept-Encoding: gzip`), then the bare "
        "SQL of the same page (the captured statements, in a transaction as the request's "
        f"session) on {args.connections} asyncpg connections at the same rate. Open loop: each "
        "request is due at its time and its latency counts from then (`bench.run.open_loop`). "
        "Closed loop: wrk, 16 connections, 5 s after 2 s of warm-up, the app's throughput for "
        "this request; the "
        "rate's share of it says how loaded the app was.",
        "",
        "| request | closed loop /s | rate share | app p50 ms | app p99 ms | failures "
        "| SQL p50 ms | SQL p99 ms | ratio p50 | ratio p99 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case in at_rate:
        app_r, sql_r, cap = case["app"], case["sql"], case["capacity"]["rps"]
        lines.append(
            f"| {case['label']} | {cap:.0f} | {args.rate / cap:.0%} "
            f"| {app_r['p50_ms']:.1f} | {app_r['p99_ms']:.1f} | {app_r['failures']:.0f} "
            f"| {sql_r['p50_ms']:.1f} | {sql_r['p99_ms']:.1f} "
            f"| **{app_r['p50_ms'] / sql_r['p50_ms']:.2f}** "
            f"| {app_r['p99_ms'] / sql_r['p99_ms']:.2f} |"
        )
    lines += [
        "",
        "## Supports per second",
        "",
        f"SubmitIdeaSupport SQL ({len(support_sql)} statement"
        + (
            " in one transaction"
            if len(support_sql) > 1
            else " on the asyncpg driver, committing on its own: no BEGIN and COMMIT"
        )
        + f"): {_kinds(support_sql)}. That is the steady state; the first support of an idea "
        "in an app process first reads the idea's process and salt (one SELECT more). "
        f"Supports go to the {args.targets} newest published ideas (uniformly), each from a "
        "new resident (fresh `Respondent-Token` / pseudonym; in pgbench 32 bytes drawn per "
        "transaction).",
        "",
        f"App: uvicorn, {args.workers} workers, QUARTIER_ENV=production. pgbench and wrk runs of "
        f"{args.seconds} s alternate after a warm-up of each; medians of {args.runs}.",
        "",
        "| measure | median | runs |",
        "| --- | --- | --- |",
        f"| pgbench, same SQL, 16 clients, prepared | {r_pg:.0f} tps | "
        + ", ".join(f"{r:.0f}" for r in pg_runs)
        + " |",
        f"| app: supports over HTTP (wrk, 16 connections) | {app_rps:.0f}/s | "
        + ", ".join(f"{r['rps']:.0f}" for r in app_runs)
        + f" (non-2xx: {bad:.0f}) |",
        f"| **ratio app / pgbench** | **{app_rps / r_pg:.2f}** | "
        + ", ".join(f"{a['rps'] / p:.2f}" for a, p in zip(app_runs, pg_runs, strict=True))
        + " (run by run) |",
        f"| app latency under full load (wrk) | p50 "
        f"{statistics.median(r.get('p50_ms', 0.0) for r in app_runs):.1f} ms, p99 "
        f"{statistics.median(r.get('p99_ms', 0.0) for r in app_runs):.1f} ms | |",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = RESULTS / f"{today}-ideas.md"
    report.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {report.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
