"""Benchmark of feedback on measures (issue #10): the summary over 10,000 feedback entries
against the bare SQL of its counts, and feedback submissions per second against pgbench on
their own SQL.

    .venv/bin/python bench/feedback_bench.py [--entries 10000] [--runs 31] [--seconds 10]

Starts a private PostgreSQL cluster (fsync and synchronous_commit on, as `bench/run.py`), builds
the schema by the migrations and loads the demo (`quartier demo`): its measure "Kiezlotsinnen
für ältere Menschen" is in consultation (three criteria, two sections, three social areas).
One submission is captured through the app first (on the empty consultation), then the
entries are seeded with COPY: 78 % residents, 20 % professionals (anonymous; 90 % with a
pseudonym), and one named statement per demo organisation (at most 5); 60 % in one of the
measure's areas, 25 % in another planning area of the demo, 15 % without an area; stances
55 / 25 / 20 % support / neutral / oppose; each criterion rated by 85 % (1–5, leaning to the
stance); a general comment from 30 %, a section comment from 10 % per section. Then ANALYZE.

1. The summary (GetMeasureFeedbackSummary) through the service (staff viewer) and over HTTP
   through the assembled app (in-process ASGI client, an API token with `measures:read`),
   against the bare SQL of its counts — the GROUP BY statements the request sends, captured
   with `bench.run.capturing_sql` and replayed on asyncpg — and against all the statements the
   request sends. The four alternate run by run; medians of --runs, with the spread.
2. Submissions per second: the statements of one SubmitMeasureFeedback (`Respondent-Token`,
   `Idempotency-Key`, three ratings, a section comment, a general comment, an area) as a
   pgbench script (fresh ids, pseudonym, receipt code, key and advisory lock per transaction),
   pgbench with 16 clients, against the app served as `bench/run.py` serves it with wrk (16
   connections, a fresh token and key per request, 200 different bodies). pgbench and wrk runs
   alternate.

Writes bench/results/<date>-feedback.md (and prints it). Client, app and database share the
machine's cores: quote the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402

from bench.ideas_bench import replay, uuid7_at  # noqa: E402
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
    percentile,
    pgbench,
    pgbench_script,
    serve_app,
    stop,
    wrk,
)
from bench.surveys_bench import _connect_kwargs  # noqa: E402
from quartier import migrations  # noqa: E402
from quartier.accounts import services as accounts  # noqa: E402
from quartier.app import create_app  # noqa: E402
from quartier.areas.models import AreaLevel, SocialArea  # noqa: E402
from quartier.core.idempotency import lock_id  # noqa: E402
from quartier.db import PrivateCluster, create_engine, session_scope  # noqa: E402
from quartier.demo import load_demo  # noqa: E402
from quartier.measures import common, feedback  # noqa: E402
from quartier.measures.models import Consultation, Measure, MeasureVersion  # noqa: E402
from quartier.processes import models as pm  # noqa: E402
from quartier.settings import load_settings  # noqa: E402

DATABASE = "bench"
SEED = 20261210
MEASURE_TITLE = "Kiezlotsinnen für ältere Menschen"
STANCES = [("support", 0.55), ("neutral", 0.25), ("oppose", 0.20)]
LEANING = {"support": [1, 2, 4, 8, 6], "neutral": [2, 4, 8, 4, 2], "oppose": [6, 8, 4, 2, 1]}
COMMENTS = [
    "Die Sprechstunde sollte auch am Nachmittag sein, viele arbeiten vormittags noch.",
    "Bitte auch auf Türkisch und Arabisch anbieten, sonst erreichen Sie viele nicht.",
    "Gute Idee. Wichtig ist, dass die Lotsinnen lange bleiben und nicht jedes Jahr wechseln.",
    "Hausbesuche sind gut, aber viele Ältere öffnen Fremden nicht die Tür.",
    "Über die Hausarztpraxen erreicht man die Menschen am besten.",
    "Zwei Stellen sind für so viele Haushalte zu wenig.",
]


def _settings(data_dir: Path) -> Any:
    return load_settings(
        {
            "QUARTIER_ENV": "test",
            "SECRET_KEY": SECRET,
            "QUARTIER_DATA_DIR": str(data_dir),
            "QUARTIER_RATE_LIMITS": UNLIMITED,
        }
    )


class Setting:
    """What the benchmark works on: the demo measure in consultation, its areas, a token."""

    def __init__(self, **values: Any) -> None:
        self.measure_id: uuid.UUID = values["measure_id"]
        self.consultation_id: uuid.UUID = values["consultation_id"]
        self.criteria: list[str] = values["criteria"]
        self.sections: list[str] = values["sections"]
        self.measure_areas: list[tuple[uuid.UUID, str]] = values["measure_areas"]
        self.other_areas: list[tuple[uuid.UUID, str]] = values["other_areas"]
        self.organisations: list[uuid.UUID] = values["organisations"]
        self.token: str = values["token"]


async def prepare(url: str, data_dir: Path) -> Setting:
    settings = _settings(data_dir)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with session_scope(engine) as session:
            await load_demo(session, settings)
        async with session_scope(engine) as session:
            measure_id, current = (
                await session.execute(
                    sa.select(Measure.id, Measure.current_version)
                    .join(MeasureVersion, MeasureVersion.measure_id == Measure.id)
                    .where(MeasureVersion.title == MEASURE_TITLE)
                )
            ).one()
            version = await session.scalar(
                sa.select(MeasureVersion).where(
                    MeasureVersion.measure_id == measure_id, MeasureVersion.version == current
                )
            )
            consultation = await session.scalar(
                sa.select(Consultation).where(Consultation.measure_id == measure_id)
            )
            assert version is not None
            assert consultation is not None
            named = set(version.area_ids)
            planning = (
                await session.execute(
                    sa.select(SocialArea.id, SocialArea.code)
                    .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
                    .where(AreaLevel.key == "planning_area")
                    .order_by(SocialArea.code)
                )
            ).all()
            measure_areas = [(a, c) for a, c in planning if a in named]
            if not measure_areas:  # the measure names areas of another level
                measure_areas = [
                    (row[0], row[1])
                    for row in await session.execute(
                        sa.select(SocialArea.id, SocialArea.code).where(SocialArea.id.in_(named))
                    )
                ]
            other = [(a, c) for a, c in planning if a not in named][:20]
            organisations = list(
                await session.scalars(sa.select(pm.Organisation.id).order_by(pm.Organisation.name))
            )[:5]
            _, token = await accounts.create_token(
                session, name="bench", scopes={"measures:read"}, created_by=None
            )
            return Setting(
                measure_id=measure_id,
                consultation_id=consultation.id,
                criteria=[c["key"] for c in consultation.criteria],
                sections=[section["key"] for section in version.sections],
                measure_areas=measure_areas,
                other_areas=other,
                organisations=organisations,
                token=token,
            )
    finally:
        await engine.dispose()


def body(rng: random.Random, setting: Setting) -> dict[str, Any]:
    """A resident's submission as the API takes it."""
    stance = rng.choices([s for s, _ in STANCES], [w for _, w in STANCES])[0]
    areas = setting.measure_areas + setting.other_areas
    return {
        "kind": "resident",
        "stance": stance,
        "ratings": {key: rng.choices(range(1, 6), LEANING[stance])[0] for key in setting.criteria},
        "comments": [{"section": setting.sections[0], "body": rng.choice(COMMENTS)}],
        "general_comment": rng.choice(COMMENTS),
        "area_code": rng.choice(areas)[1],
    }


# -- seeding -------------------------------------------------------------------------------------


async def seed(url: str, setting: Setting, count: int) -> dict[str, Any]:
    rng = random.Random(SEED)
    started = time.perf_counter()
    now_ms = int(time.time() * 1000)
    span = 20 * 86_400_000  # three weeks of consultation so far
    feedback_rows: list[tuple[Any, ...]] = []
    ratings: list[tuple[Any, ...]] = []
    comments: list[tuple[Any, ...]] = []
    cid = setting.consultation_id

    def new_id(milliseconds: int) -> uuid.UUID:
        return uuid7_at(milliseconds, rng.getrandbits(12), rng.getrandbits(62))

    organisations = list(setting.organisations)
    for number in range(count):
        milliseconds = now_ms - span + span * number // count
        moment = datetime.datetime.fromtimestamp(milliseconds / 1000, datetime.UTC)
        feedback_id = new_id(milliseconds)
        organisation = organisations.pop() if organisations and number % 1000 == 999 else None
        kind = (
            "organisation"
            if organisation
            else ("resident" if rng.random() < 78 / 98 else "professional")
        )
        roll = rng.random()
        if roll < 0.60:
            area = rng.choice(setting.measure_areas)[0]
        elif roll < 0.85 and setting.other_areas:
            area = rng.choice(setting.other_areas)[0]
        else:
            area = None
        stance = rng.choices([s for s, _ in STANCES], [w for _, w in STANCES])[0]
        anonymous_pseudonym = rng.randbytes(32) if not organisation and rng.random() < 0.9 else None
        feedback_rows.append(
            (
                feedback_id,
                moment,
                moment,
                cid,
                kind,
                organisation,
                area,
                stance,
                anonymous_pseudonym,
                f"B{number:011d}",
                rng.getrandbits(32),
            )
        )
        for criterion in setting.criteria:
            if rng.random() < 0.85:
                value = rng.choices(range(1, 6), LEANING[stance])[0]
                ratings.append(
                    (new_id(milliseconds), moment, moment, feedback_id, cid, criterion, value)
                )
        texts: list[str | None] = [None] if rng.random() < 0.30 else []
        texts += [section for section in setting.sections if rng.random() < 0.10]
        for section in texts:
            comments.append(
                (
                    new_id(milliseconds),
                    moment,
                    moment,
                    feedback_id,
                    cid,
                    section,
                    rng.choice(COMMENTS),
                    "visible",
                )
            )
    connection = await asyncpg.connect(**_connect_kwargs(url, DATABASE))
    try:
        common_columns = ["id", "created_at", "updated_at"]
        await connection.copy_records_to_table(
            "measure_feedback",
            records=feedback_rows,
            columns=[
                *common_columns,
                "consultation_id",
                "kind",
                "organisation_id",
                "area_id",
                "stance",
                "pseudonym",
                "receipt_code",
                "record_key",
            ],
        )
        await connection.copy_records_to_table(
            "measure_feedback_ratings",
            records=ratings,
            columns=[*common_columns, "feedback_id", "consultation_id", "criterion", "value"],
        )
        await connection.copy_records_to_table(
            "measure_feedback_comments",
            records=comments,
            columns=[
                *common_columns,
                "feedback_id",
                "consultation_id",
                "section",
                "body",
                "moderation",
            ],
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return {
        "entries": len(feedback_rows),
        "ratings": len(ratings),
        "comments": len(comments),
        "organisations": sum(1 for row in feedback_rows if row[5] is not None),
        "seconds": time.perf_counter() - started,
    }


# -- 1. the summary ------------------------------------------------------------------------------


async def summary(url: str, data_dir: Path, setting: Setting, runs: int) -> dict[str, Any]:
    app = create_app(replace(_settings(data_dir), db_pool_size=4), database_url=url)
    engine = create_engine(url, pool_size=2, max_overflow=0)
    bare = await asyncpg.connect(**_connect_kwargs(url, DATABASE))
    path = f"/api/v1/measures/{setting.measure_id}/summary"
    headers = {"Authorization": f"Bearer {setting.token}"}
    try:
        async with AsyncTestClient(app, base_url="https://bench.local") as client:
            await client.get(path, headers=headers)
            async with capturing_sql(app.state["db_config"].get_engine()) as statements:
                response = await client.get(path, headers=headers)
            assert response.status_code == 200, response.text
            captured = list(statements)
            counts = [st for st in captured if "GROUP BY" in st.sql]
            document = response.json()

            async def service() -> None:
                async with session_scope(engine) as session:
                    await feedback.summary(session, setting.measure_id, common.STAFF_VIEWER)

            async def http() -> None:
                answer = await client.get(path, headers=headers)
                assert answer.status_code == 200

            async def bare_counts() -> None:
                await replay(bare, counts)

            async def bare_all() -> None:
                await replay(bare, captured)

            actions: dict[str, Callable[[], Awaitable[None]]] = {
                "service": service,
                "http": http,
                "counts": bare_counts,
                "all": bare_all,
            }
            timings: dict[str, list[float]] = {name: [] for name in actions}
            for _ in range(3):  # warm-up
                for action in actions.values():
                    await action()
            for _ in range(runs):  # alternating, so all see the same noise
                for name, action in actions.items():
                    started = time.perf_counter()
                    await action()
                    timings[name].append((time.perf_counter() - started) * 1000)
    finally:
        await bare.close()
        await engine.dispose()
    return {
        "timings": timings,
        "statements": captured,
        "counts": counts,
        "groups": len(document["groups"]),
        "comments": len(document["comments"]),
        "bytes": len(response.content),
    }


# -- 2. submissions ------------------------------------------------------------------------------


async def capture_submission(
    url: str, data_dir: Path, setting: Setting
) -> tuple[list[str], list[CapturedStatement]]:
    app = create_app(_settings(data_dir), database_url=url)
    path = f"/api/v1/measures/{setting.measure_id}/feedback"
    token = f"capture-{uuid.uuid4()}"
    key = f"capture-{uuid.uuid4()}"
    async with AsyncTestClient(app, base_url="https://bench.local") as client:
        warm = await client.post(
            path,
            json=body(random.Random(2), setting),
            headers={
                "Respondent-Token": f"warm-{uuid.uuid4()}",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        assert warm.status_code == 201, warm.text
        started = time.time()
        async with capturing_sql(app.state["db_config"].get_engine()) as statements:
            response = await client.post(
                path,
                json=body(random.Random(1), setting),
                headers={"Respondent-Token": token, "Idempotency-Key": key},
            )
        ended = time.time()
        assert response.status_code == 201, response.text
    receipt = response.json()["receipt_code"]
    connection = await asyncpg.connect(**_connect_kwargs(url, DATABASE))
    try:
        pseudonym, raw_receipt = (
            await connection.fetchrow(
                "SELECT pseudonym, receipt_code FROM measure_feedback ORDER BY id DESC LIMIT 1"
            )
        ).values()
    finally:
        await connection.close()
    assert raw_receipt.replace("-", "") == receipt.replace("-", ""), (raw_receipt, receipt)
    operation = feedback.OPERATION
    volatile = {
        f"'\\x{pseudonym.hex()}'": "sha256(convert_to('f-' || :client_id || '-' || :n, 'UTF8'))",
        f"'{raw_receipt}'": (
            f"upper(substr(md5('rc' || :client_id || '-' || :n), 1, {len(raw_receipt)}))"
        ),
        f"'{key}'": "'bench-' || :client_id || '-' || :n",
        str(lock_id(operation, key)): ":n",
    }
    # The driver path's receipt code, key and lock are drawn per transaction by their parameter
    # names already (`bench.run._VOLATILE`); the pseudonym is always a literal.
    script = pgbench_script(
        statements,
        {
            literal: expression
            for literal, expression in volatile.items()
            if literal.startswith("'\\x") or any(literal in s.script for s in statements)
        },
        created_between=(started, ended),
    )
    return script, list(statements)


def wrk_feedback_script(directory: Path, setting: Setting) -> Path:
    rng = random.Random(7)
    bodies = [json.dumps(body(rng, setting)) for _ in range(200)]
    lua_bodies = ",\n".join("[==[" + b + "]==]" for b in bodies)
    script = directory / "feedback.lua"
    script.write_text(f"""
local bodies = {{
{lua_bodies}
}}
local counter = 0
local prefix = ""
function setup(thread) thread:set("id", tostring(math.random(1, 2^30))) end
function init(args) prefix = "bench-" .. id .. "-" .. tostring(os.time()) .. "-" end
function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", "/api/v1/measures/{setting.measure_id}/feedback",
    {{["Content-Type"] = "application/json", ["Idempotency-Key"] = prefix .. counter,
      ["Respondent-Token"] = prefix .. counter}}, body)
end
""")
    return script


# -- report --------------------------------------------------------------------------------------


def _spread(values: list[float]) -> str:
    return f"{percentile(values, 0.1):.1f}–{percentile(values, 0.9):.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=31, help="summary runs (odd: a true median)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each throughput run")
    parser.add_argument("--throughput-runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    wrk_binary = ensure_wrk()
    load_start = load_average()
    begun = time.perf_counter()
    base_dir = Path(tempfile.mkdtemp(prefix="quartier-bench-"))
    base_dir.chmod(0o755)
    cluster = PrivateCluster(base_dir, fsync=True, database=DATABASE)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        url = cluster.start()
        migrations.upgrade(url)

        async def set_up() -> tuple[
            Setting, list[str], list[CapturedStatement], dict[str, Any], str
        ]:
            setting = await prepare(url, base_dir)
            script, captured = await capture_submission(url, base_dir, setting)
            seeded = await seed(url, setting, args.entries)
            connection = await asyncpg.connect(**_connect_kwargs(url, DATABASE))
            try:
                version = await connection.fetchval("SHOW server_version")
            finally:
                await connection.close()
            return setting, script, captured, seeded, version

        setting, script, submit_sql, seeded, pg_version = asyncio.run(set_up())
        print(
            f"seeded {seeded['entries']:,} feedback entries in {seeded['seconds']:.1f} s; "
            f"submission SQL: {len(submit_sql)} statements",
            flush=True,
        )
        summarised = asyncio.run(summary(url, base_dir, setting, args.runs))
        timings = summarised["timings"]
        print(
            "summary medians: "
            + ", ".join(f"{k} {statistics.median(v):.1f} ms" for k, v in timings.items()),
            flush=True,
        )
        app_process, base = serve_app(url, base_dir, args.workers)
        processes.append(app_process)
        lua = wrk_feedback_script(base_dir, setting)
        pgbench(cluster, DATABASE, script, seconds=3)  # warm-up
        wrk(wrk_binary, base, seconds=3, script=lua)
        pg_runs: list[float] = []
        app_runs: list[dict[str, float]] = []
        for _ in range(args.throughput_runs):  # alternating, so both see the same noise
            pg_runs.append(pgbench(cluster, DATABASE, script, seconds=args.seconds))
            app_runs.append(wrk(wrk_binary, base, seconds=args.seconds, script=lua))
        load_end = load_average()
        elapsed = time.perf_counter() - begun
    finally:
        for process in processes:
            stop(process)
        cluster.destroy()
        shutil.rmtree(base_dir, ignore_errors=True)

    r_pg = statistics.median(pg_runs)
    app_rps = statistics.median(r["rps"] for r in app_runs)
    bad = sum(r["non_2xx"] for r in app_runs)
    counts_ms = statistics.median(timings["counts"])
    facts = machine()
    today = datetime.date.today().isoformat()
    names = {
        "service": "service (`feedback.summary`, staff viewer)",
        "http": "HTTP GET …/summary (in-process ASGI client, token)",
        "counts": f"bare SQL: its {len(summarised['counts'])} GROUP BY count statements",
        "all": f"bare SQL: all {len(summarised['statements'])} statements of the request",
    }
    lines = [
        f"# Feedback benchmark {today} (issue #10)",
        "",
        f"`.venv/bin/python bench/feedback_bench.py --entries {args.entries} --runs {args.runs} "
        f"--seconds {args.seconds} --throughput-runs {args.throughput_runs}` "
        f"({elapsed / 60:.0f} min in all).",
        "",
        f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory']}, Linux "
        f"{facts['kernel']}, Python {facts['python']}, PostgreSQL {pg_version} (private cluster, "
        "fsync and synchronous_commit on); client, app and PostgreSQL share the cores. "
        f"Load average (1/5/15 min) at start {load_start}, at end {load_end} (the end is the "
        "benchmark's own load: client, app and PostgreSQL).",
        "",
        *([busy_note(load_start, load_end), ""] if busy_note(load_start, load_end) else []),
        f"Seed (COPY + ANALYZE, {seeded['seconds']:.1f} s): {seeded['entries']:,} feedback entries "
        f"on the demo measure's consultation ({seeded['organisations']} named organisations), "
        f"{seeded['ratings']:,} ratings, {seeded['comments']:,} comments.",
        "",
        f"## Summary ({args.runs} runs, the four alternating)",
        "",
        f"The summary lists {summarised['groups']} groups and {summarised['comments']:,} "
        f"comments ({summarised['bytes'] / 1024:.0f} KiB of JSON).",
        "",
        "| what | median ms | p10–p90 ms | ratio to the bare counts |",
        "| --- | --- | --- | --- |",
    ]
    for name, label in names.items():
        median = statistics.median(timings[name])
        lines.append(
            f"| {label} | {median:.1f} | {_spread(timings[name])} | "
            + (
                f"**{median / counts_ms:.2f}**"
                if name in ("service", "http")
                else f"{median / counts_ms:.2f}"
            )
            + " |"
        )
    lines += [
        "",
        "## Submissions per second",
        "",
        f"SubmitMeasureFeedback SQL ({len(submit_sql)} statements in one transaction): "
        + ", ".join(_kind(statement.script) for statement in submit_sql)
        + ".",
        "",
        f"App: uvicorn, {args.workers} workers, QUARTIER_ENV=production. pgbench and wrk runs of "
        f"{args.seconds} s alternate after a warm-up of each; medians of {args.throughput_runs}.",
        "",
        "| measure | median | runs |",
        "| --- | --- | --- |",
        f"| pgbench, same SQL, 16 clients, prepared | {r_pg:.0f} tps | "
        + ", ".join(f"{r:.0f}" for r in pg_runs)
        + " |",
        f"| app: submissions over HTTP (wrk, 16 connections) | {app_rps:.0f}/s | "
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
    report = RESULTS / f"{today}-feedback.md"
    report.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {report.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
