"""Benchmark of the needs aggregation: a million responses over Berlin's 447 planning areas.

    .venv/bin/python bench/surveys_bench.py [--responses 1000000] [--runs 7]

Starts a private PostgreSQL cluster in a temporary directory (or uses BENCH_DATABASE_URL, a
server where it may create and drop the database `quartier_bench_surveys`), builds the schema by
the migrations, imports the full Berlin LOR through the import service, creates a process and a
survey of 20 questions (one an age-band question mapped to the population bands) through the
survey service, and seeds the responses with COPY — the response rows with their answers as
JSON (~0.45 kB, as the survey's answers would be), ~2.5 need rows (with the response's area and
age stratum, as submissions write them) and ~5 option rows each — spread over the planning
areas by population. Then, after VACUUM ANALYZE:

* the aggregated needs through the service (planning-area and district level, without and with
  age weighting) against the bare SQL GROUP BYs that produce the same counts at that level
  (responses per area and need rows per area and category; with age weighting also per age
  stratum), median of --runs;
* the **whole release** of the process (issue #8): everything published from the same
  respondents — per-question results for all responses and at each of Berlin's four levels,
  the survey's aggregated needs and the pooled process needs at each level, without and with
  age weighting (representativeness included) — through the services, against the bare SQL
  GROUP BYs of the same counts at the same levels (responses, answers per question, choices
  per option, numeric means and medians, need rows, by age stratum where weighted), median of
  --release-runs;
* the same over HTTP through the assembled app (in-process ASGI client);
* the peak memory of a full CSV export, in a child process that imports only the export code
  (max RSS, and the peak of Python allocations during the export);
* the social report of the process (bench/report_bench.py: the cycle walked through the
  services, then the report as the service result, the HTML page and the PDF, median of --runs,
  with the share of time in SQL).

Prints a markdown block. Client, app and database share the machine's cores: quote ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from uuid_utils.compat import uuid7

from quartier import migrations
from quartier.accounts import services as accounts
from quartier.app import create_app
from quartier.areas import demo, services
from quartier.db import PrivateCluster, create_engine, session_scope
from quartier.processes import schemas as process_schemas
from quartier.processes import services as processes
from quartier.processes.phases import PhaseKey
from quartier.settings import PROJECT_ROOT, load_settings
from quartier.surveys import aggregation
from quartier.surveys import schemas as survey_schemas
from quartier.surveys import services as surveys
from quartier.surveys.models import Survey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import report_bench
from bench.realistic_survey import NEEDS

DATABASE = "quartier_bench_surveys"
SEED = 20260302
BATCH = 50_000

# The age options and the population bands they cover.
AGES = {
    "age_18_26": ["18_27"],
    "age_27_44": ["27_45"],
    "age_45_64": ["45_55", "55_65"],
    "age_65_plus": ["above_65"],
}
# Who answers: older residents over-represented, some give no age.
AGE_MIX = [("age_18_26", 0.10), ("age_27_44", 0.25), ("age_45_64", 0.30), ("age_65_plus", 0.27)]
NO_AGE = 0.08


def _text(de: str) -> dict[str, str]:
    return {"de": de}


def definition() -> dict[str, Any]:
    """20 questions: area, age, 8 need-tagged choice questions, 4 ratings, numbers, texts."""
    questions: list[dict[str, Any]] = [
        {
            "type": "social_area",
            "key": "area",
            "text": _text("Wo wohnen Sie?"),
            "required": True,
            "level": "planning_area",
        },
        {
            "type": "age_band",
            "key": "age",
            "text": _text("Wie alt sind Sie?"),
            "options": [
                {"key": key, "label": _text(key), "population_bands": bands}
                for key, bands in AGES.items()
            ]
            + [{"key": "no_answer", "label": _text("keine Angabe")}],
        },
    ]
    for i in range(8):
        needs = NEEDS[i::8]
        questions.append(
            {
                "type": "multiple_choice",
                "key": f"topic_{i}",
                "text": _text(f"Was fehlt Ihnen (Thema {i})?"),
                "options": [
                    {"key": f"need_{key}", "label": _text(key), "need_categories": [key]}
                    for key in needs
                ]
                + [{"key": "nothing", "label": _text("nichts")}],
            }
        )
    for i, key in enumerate(("safety", "mobility", "health", "housing")):
        questions.append(
            {
                "type": "rating",
                "key": f"rating_{i}",
                "text": _text(f"Wie zufrieden sind Sie ({key})?"),
                "min_label": _text("gar nicht"),
                "max_label": _text("sehr"),
                "need_values": [1, 2],
                "need_categories": [key],
            }
        )
    questions += [
        {
            "type": "number",
            "key": "household",
            "text": _text("Haushalt"),
            "minimum": 1,
            "maximum": 15,
        },
        {
            "type": "number",
            "key": "years",
            "text": _text("Jahre im Kiez"),
            "minimum": 0,
            "maximum": 99,
        },
        {
            "type": "single_choice",
            "key": "children",
            "text": _text("Kinder im Haushalt?"),
            "options": [
                {"key": "yes", "label": _text("ja")},
                {"key": "no", "label": _text("nein")},
            ],
        },
        {"type": "short_text", "key": "wish", "text": _text("Ihr Wunsch")},
        {"type": "long_text", "key": "comments", "text": _text("Anmerkungen")},
        {
            "type": "ranking",
            "key": "priorities",
            "text": _text("Was ist am wichtigsten?"),
            "options": [
                {"key": key, "label": _text(key), "need_categories": [key]}
                for key in ("housing", "childcare", "safety", "health")
            ],
            "max_ranked": 2,
        },
    ]
    return {
        "title": _text("Lebenslagen in Berlin (Benchmark)"),
        "purpose": _text("Benchmark"),
        "organiser": _text("Quartier"),
        "estimated_minutes": 10,
        "privacy_note": _text("Anonym."),
        "pages": [
            {"key": f"page_{p}", "questions": questions[p * 5 : p * 5 + 5]} for p in range(4)
        ],
    }


# -- database --------------------------------------------------------------------------------------


def _connect_kwargs(url: str, database: str) -> dict[str, Any]:
    parts = urlsplit(url.replace("+asyncpg", ""))
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    return {
        "host": query.get("host", parts.hostname or "localhost"),
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password,
        "database": database,
    }


async def _recreate(server_url: str) -> str:
    connection = await asyncpg.connect(**_connect_kwargs(server_url, "postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await connection.close()
    parts = urlsplit(server_url.replace("+asyncpg", ""))
    return parts._replace(scheme="postgresql+asyncpg", path=f"/{DATABASE}").geturl()


async def _setup(engine: AsyncEngine, data: Path) -> tuple[uuid.UUID, uuid.UUID, str]:
    """Berlin, a process in needs assessment, the published survey, an export token."""
    levels, population = demo.berlin_sources(data)
    async with session_scope(engine) as session:
        await services.import_areas(session, levels, population)
    async with session_scope(engine) as session:
        process_id = await processes.create_process(
            session,
            process_schemas.ProcessCreate(title="Lebenslagen in Berlin", topic="Bedarfe"),
            processes.SYSTEM,
        )
        await processes.activate_phase(
            session, process_id, PhaseKey.NEEDS_ASSESSMENT, processes.SYSTEM
        )
        await processes.publish_process(session, process_id)
    async with session_scope(engine) as session:
        survey = await surveys.create_survey(
            session,
            process_id,
            survey_schemas.SurveyCreate(
                definition=msgspec.convert(definition(), survey_schemas.Definition)
            ),
        )
        await surveys.publish_survey(session, survey.id)
        survey_id = survey.id
    async with session_scope(engine) as session:
        _, secret = await accounts.create_token(
            session, name="bench", scopes={"exports:read"}, created_by=None
        )
    return process_id, survey_id, secret


WISHES = [
    "Mehr Kitaplätze in der Nähe",
    "Ein Jugendclub, der auch am Wochenende offen hat",
    "Bänke und Schatten auf dem Platz",
    "Sichere Radwege zur Schule",
    "Eine Beratung zu Miete und Schulden im Kiez",
    "",
]
COMMENTS = [
    "",
    "",
    "Wir wohnen seit vielen Jahren hier und wünschen uns mehr Begegnung zwischen den "
    "Generationen, zum Beispiel ein Nachbarschaftscafé.",
    "Der Weg zur Ärztin dauert mit dem Bus fast eine Stunde; ein Gesundheitszentrum im "
    "Quartier würde vielen helfen.",
]


def _answers(
    rng: random.Random,
    area_code: str,
    age: str | None,
    expressed: list[str],
    children: str,
    rating: int,
) -> str:
    """A response's answers as the survey stores them (JSON), consistent with its need rows."""
    answers: dict[str, Any] = {"area": area_code, "age": age or "no_answer"}
    for i in range(8):
        chosen = [f"need_{key}" for key in NEEDS[i::8] if key in expressed]
        answers[f"topic_{i}"] = chosen or ["nothing"]
    answers["rating_0"] = rating
    for i in range(1, 4):
        answers[f"rating_{i}"] = rng.randint(1, 5)
    answers["household"] = rng.randint(1, 6)
    answers["years"] = rng.randint(0, 60)
    answers["children"] = children
    answers["priorities"] = rng.sample(["housing", "childcare", "safety", "health"], 2)
    if wish := rng.choice(WISHES):
        answers["wish"] = wish
    if comments := rng.choice(COMMENTS):
        answers["comments"] = comments
    return msgspec.json.encode(answers).decode()


def _records(
    rng: random.Random,
    survey_id: uuid.UUID,
    areas: list[tuple[uuid.UUID, str, float]],
    categories: dict[str, uuid.UUID],
    count: int,
    first: int,
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Batches of (responses, needs, options) rows, numbered from `first`."""
    area_ids = [area for area, _, _ in areas]
    codes = {area: code for area, code, _ in areas}
    weights = [weight for _, _, weight in areas]
    # Each area has its own level of need per category, so the map shows something.
    level = {(area, key): rng.uniform(0.02, 0.34) for area in area_ids for key in NEEDS}
    start = datetime.datetime(2026, 3, 2, 8, tzinfo=datetime.UTC)
    now = datetime.datetime.now(datetime.UTC)
    ages = [key for key, _ in AGE_MIX]
    age_weights = [share for _, share in AGE_MIX]
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        responses: list[tuple[Any, ...]] = []
        needs: list[tuple[Any, ...]] = []
        options: list[tuple[Any, ...]] = []
        chosen_areas = rng.choices(area_ids, weights, k=size)
        for i, area in enumerate(chosen_areas):
            number = first + done + i
            response_id = uuid.UUID(str(uuid7()))
            record_key = rng.getrandbits(32)  # reproducible runs; the app uses new_record_key
            age = None if rng.random() < NO_AGE else rng.choices(ages, age_weights)[0]
            expressed = [key for key in NEEDS if rng.random() < level[(area, key)]]
            children = rng.choice(("yes", "no"))
            rating = rng.randint(1, 5)
            answers = _answers(rng, codes[area], age, expressed, children, rating)
            responses.append(
                (
                    response_id,
                    survey_id,
                    area,
                    age,
                    "web",
                    start + datetime.timedelta(seconds=number * 2),
                    f"B{number:015d}",
                    1,
                    answers,
                    record_key,
                    now,
                    now,
                )
            )
            needs += [
                (response_id, categories[key], survey_id, area, age, record_key)
                for key in expressed
            ]
            options.append((response_id, survey_id, "age", age or "no_answer"))
            options.append((response_id, survey_id, "children", children))
            options += [
                (response_id, survey_id, f"topic_{NEEDS.index(key) % 8}", f"need_{key}")
                for key in expressed
            ]
            options.append((response_id, survey_id, "rating_0", str(rating)))
        done += size
        yield responses, needs, options


async def _seed(url: str, survey_id: uuid.UUID, count: int, first: int = 0) -> dict[str, int]:
    connection = await asyncpg.connect(**_connect_kwargs(url, DATABASE))
    try:
        areas = [
            (row["id"], row["code"], float(row["total"]))
            for row in await connection.fetch(
                """
                SELECT area.id, area.code, population.total
                FROM social_areas area
                JOIN area_levels level ON level.id = area.level_id
                JOIN area_populations population ON population.area_id = area.id
                WHERE level.key = 'planning_area' AND population.total > 0
                """
            )
        ]
        categories = {
            row["key"]: row["id"]
            for row in await connection.fetch("SELECT key, id FROM need_categories")
        }
        totals = {"areas": len(areas), "responses": 0, "needs": 0, "options": 0}
        rng = random.Random(SEED + first)
        for responses, needs, options in _records(rng, survey_id, areas, categories, count, first):
            await connection.copy_records_to_table(
                "survey_responses",
                records=responses,
                columns=[
                    "id",
                    "survey_id",
                    "area_id",
                    "age_stratum",
                    "channel",
                    "submitted_at",
                    "receipt_code",
                    "definition_version",
                    "answers",
                    "record_key",
                    "created_at",
                    "updated_at",
                ],
            )
            await connection.copy_records_to_table(
                "survey_response_needs",
                records=needs,
                columns=[
                    "response_id",
                    "need_category_id",
                    "survey_id",
                    "area_id",
                    "age_stratum",
                    "record_key",
                ],
            )
            await connection.copy_records_to_table(
                "survey_answer_options",
                records=options,
                columns=["response_id", "survey_id", "question_key", "option_key"],
            )
            totals["responses"] += len(responses)
            totals["needs"] += len(needs)
            totals["options"] += len(options)
        # As autovacuum leaves a table that only grows: statistics, and a visibility map that
        # lets the index-only scans skip the heap.
        await connection.execute("ANALYZE")
        await connection.execute("VACUUM (ANALYZE) survey_responses, survey_response_needs")
        return totals
    finally:
        await connection.close()


# The bare SQL: the counts at one level (`path[$2]`, depth + 1) and nothing else — no roll-up
# to the other levels and the scope, no dates, no disclosure control or weighting.
BARE_RESPONSES = """
    SELECT area.path[$2], count(*)
    FROM survey_responses response JOIN social_areas area ON area.id = response.area_id
    WHERE response.survey_id = $1 AND cardinality(area.path) >= $2
    GROUP BY 1
"""
BARE_NEEDS = """
    SELECT area.path[$2], need.need_category_id, count(*)
    FROM survey_response_needs need JOIN social_areas area ON area.id = need.area_id
    WHERE need.survey_id = $1 AND cardinality(area.path) >= $2
    GROUP BY 1, 2
"""
BARE_RESPONSES_AGED = """
    SELECT area.path[$2], response.age_stratum, count(*)
    FROM survey_responses response JOIN social_areas area ON area.id = response.area_id
    WHERE response.survey_id = $1 AND cardinality(area.path) >= $2
    GROUP BY 1, 2
"""
BARE_NEEDS_AGED = """
    SELECT area.path[$2], need.age_stratum, need.need_category_id, count(*)
    FROM survey_response_needs need JOIN social_areas area ON area.id = need.area_id
    WHERE need.survey_id = $1 AND cardinality(area.path) >= $2
    GROUP BY 1, 2, 3
"""
BARE = {
    aggregation.Weighting.NONE: (BARE_RESPONSES, BARE_NEEDS),
    aggregation.Weighting.AGE: (BARE_RESPONSES_AGED, BARE_NEEDS_AGED),
}
# The whole release (issue #8): the bare counts behind each table of it, at one level
# (`path[$2]`) for the surveys $1 — unprotected: no record keys, no perturbation, no roll-up,
# no scope listing, no shares, intervals or weighting.
BARE_ANSWERED = """
    SELECT area.path[$2], key, count(*)
    FROM survey_responses response JOIN social_areas area ON area.id = response.area_id,
         jsonb_object_keys(response.answers) AS key
    WHERE response.survey_id = ANY($1) AND cardinality(area.path) >= $2
    GROUP BY 1, 2
"""
BARE_OPTIONS = """
    SELECT area.path[$2], option.question_key, option.option_key, count(*)
    FROM survey_answer_options option
    JOIN survey_responses response ON response.id = option.response_id
    JOIN social_areas area ON area.id = response.area_id
    WHERE option.survey_id = ANY($1) AND response.survey_id = ANY($1)
      AND cardinality(area.path) >= $2
    GROUP BY 1, 2, 3
"""
BARE_NUMBERS = """
    SELECT area.path[$2], entry.key, count(*), avg(entry.value::float8),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY entry.value::float8)
    FROM survey_responses response JOIN social_areas area ON area.id = response.area_id,
         jsonb_each(response.answers) AS entry
    WHERE response.survey_id = ANY($1) AND cardinality(area.path) >= $2
      AND entry.key = ANY($3) AND jsonb_typeof(entry.value) = 'number'
    GROUP BY 1, 2
"""
# All responses (the results' group without a level): the same counts without an area.
BARE_ROOT = [
    "SELECT count(*) FROM survey_responses WHERE survey_id = ANY($1)",
    """
    SELECT key, count(*) FROM survey_responses response, jsonb_object_keys(response.answers) key
    WHERE response.survey_id = ANY($1) GROUP BY 1
    """,
    """
    SELECT question_key, option_key, count(*) FROM survey_answer_options
    WHERE survey_id = ANY($1) GROUP BY 1, 2
    """,
]


def _any(statement: str) -> str:
    """A per-survey bare statement for a set of surveys (the pooled process needs)."""
    return statement.replace("survey_id = $1", "survey_id = ANY($1)")


SIZES = """
    SELECT relname, pg_relation_size(oid) FROM pg_class
    WHERE relname IN (
        'survey_responses', 'survey_response_needs',
        'ix_survey_responses_survey_area', 'ix_survey_response_needs_survey_area'
    )
"""


async def _timed(runs: int, action: Callable[[], Awaitable[Any]]) -> list[float]:
    await action()  # warm-up: caches, prepared statements
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        timings.append(time.perf_counter() - started)
    return timings


def _ms(timings: list[float]) -> float:
    return statistics.median(timings) * 1000


# -- CSV export memory, in a child process --------------------------------------------------------

# Imports only what an export needs, so that the baseline is that of an app process's export
# code rather than of this script. Reports the peak resident set (VmHWM of /proc/self/status:
# ru_maxrss would carry the parent's peak over the exec) before and after the export, and the
# peak of Python allocations during the export (tracemalloc).
_CSV_CHILD = """
import asyncio, json, re, sys, tracemalloc, uuid
from quartier.db import create_engine, session_scope
from quartier.surveys import aggregation, exports

def peak_rss_kib():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))

async def main(url, survey_id):
    engine = create_engine(url, pool_size=1, max_overflow=0)
    async with engine.connect() as connection:  # connect and load the dialect first
        pass
    before = peak_rss_kib()
    tracemalloc.start()
    size = 0
    try:
        async with session_scope(engine) as session:
            result = await aggregation.aggregated_needs(
                session, uuid.UUID(survey_id), level_key="planning_area",
                weighting=aggregation.Weighting.AGE,
            )
        async for chunk in exports.render(result, exports.Format.CSV):
            size += len(chunk)  # as a response body is sent: chunk by chunk
    finally:
        await engine.dispose()
    traced_peak = tracemalloc.get_traced_memory()[1]
    after = peak_rss_kib()
    print(json.dumps({"before": before, "after": after, "traced": traced_peak, "bytes": size}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def _csv_memory(url: str, survey_id: uuid.UUID) -> dict[str, float]:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CSV_CHILD, url, str(survey_id), stdout=asyncio.subprocess.PIPE
    )
    output, _ = await child.communicate()
    figures = json.loads(output.decode().strip().splitlines()[-1])
    return {
        "before_mib": figures["before"] / 1024,
        "after_mib": figures["after"] / 1024,
        "traced_mib": figures["traced"] / 2**20,
        "bytes": figures["bytes"],
    }


# -- the whole release of the process (issue #8) ------------------------------------------------

# Berlin's levels and their position in `social_areas.path` (depth + 1).
LEVELS = (("district", 1), ("forecast_area", 2), ("district_region", 3), ("planning_area", 4))
NUMBER_KEYS = ["household", "years"]


PARTS = ("per-question results", "aggregated needs", "pooled process needs")


class _Parts:
    """Seconds spent per part of the release in one run."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PARTS, 0.0)
        self.tables = dict.fromkeys(PARTS, 0)

    async def time(self, part: str, action: Awaitable[Any]) -> None:
        started = time.perf_counter()
        await action
        self.seconds[part] += time.perf_counter() - started
        self.tables[part] += 1


async def release_of_process(engine: AsyncEngine, process_id: uuid.UUID) -> _Parts:
    """Everything published from the respondents of a process, through the services, as a
    planner with every output would collect it: per survey the per-question results (all
    responses and at every level) and the aggregated needs at every level without and with
    age weighting (with representativeness), and the pooled process needs likewise."""
    parts = _Parts()
    results, needs, pooled = PARTS
    async with session_scope(engine) as session:
        survey_ids = list(
            await session.scalars(
                select(Survey.id).where(Survey.process_id == process_id).order_by(Survey.created_at)
            )
        )
        for survey_id in survey_ids:
            await parts.time(results, surveys.results_by_question(session, survey_id))
            for level_key, _ in LEVELS:
                await parts.time(
                    results, surveys.results_by_question(session, survey_id, level=level_key)
                )
                for weighting in aggregation.Weighting:
                    await parts.time(
                        needs,
                        aggregation.aggregated_needs(
                            session, survey_id, level_key=level_key, weighting=weighting
                        ),
                    )
        for level_key, _ in LEVELS:
            for weighting in aggregation.Weighting:
                await parts.time(
                    pooled,
                    aggregation.process_aggregated_needs(
                        session, process_id, level_key=level_key, weighting=weighting
                    ),
                )
    return parts


async def bare_release(connection: asyncpg.Connection, survey_ids: list[uuid.UUID]) -> _Parts:
    """The bare counts behind the same tables (see BARE_*), unprotected."""
    parts = _Parts()
    results, needs, pooled = PARTS

    async def fetch(part: str, statement: str, *args: Any) -> None:
        await parts.time(part, connection.fetch(statement, *args))

    for survey_id in survey_ids:
        one = [survey_id]
        for statement in BARE_ROOT:
            await fetch(results, statement, one)
        for _, position in LEVELS:
            await fetch(results, _any(BARE_RESPONSES), one, position)
            await fetch(results, BARE_ANSWERED, one, position)
            await fetch(results, BARE_OPTIONS, one, position)
            await fetch(results, BARE_NUMBERS, one, position, NUMBER_KEYS)
            for statements in BARE.values():
                for statement in statements:
                    await fetch(needs, _any(statement), one, position)
    for _, position in LEVELS:
        for statements in BARE.values():
            for statement in statements:
                await fetch(pooled, _any(statement), survey_ids, position)
    return parts


async def _whole_release(
    engine: AsyncEngine,
    connection: asyncpg.Connection,
    process_id: uuid.UUID,
    survey_id: uuid.UUID,
    runs: int,
) -> list[str]:
    """The table rows of the whole release — in all and per part — services against the bare
    counts, medians of `runs` after one warm-up."""
    bare_runs: list[_Parts] = []
    service_runs: list[_Parts] = []

    async def bare() -> None:
        bare_runs.append(await bare_release(connection, [survey_id]))

    async def service() -> None:
        service_runs.append(await release_of_process(engine, process_id))

    bare_ms = _ms(await _timed(runs, bare))
    service_ms = _ms(await _timed(runs, service))
    tables = service_runs[-1].tables
    lines = [
        f"| **whole release** ({sum(tables.values())} tables) | all four | none + age | "
        f"{service_ms:.0f} | {bare_ms:.0f} | {service_ms / bare_ms:.2f} |"
    ]
    for part in PARTS:
        part_service = statistics.median(r.seconds[part] for r in service_runs[1:]) * 1000
        part_bare = statistics.median(r.seconds[part] for r in bare_runs[1:]) * 1000
        lines.append(
            f"| … {part} ({tables[part]} tables) | all four | "
            f"{'—' if part == PARTS[0] else 'none + age'} | {part_service:.0f} | "
            f"{part_bare:.0f} | {part_service / part_bare:.2f} |"
        )
    return lines


# -- the run -------------------------------------------------------------------------------------


async def run(data: Path, count: int, runs: int, server_url: str, release_runs: int = 3) -> None:
    url = await _recreate(server_url)
    await asyncio.to_thread(migrations.upgrade, url)
    engine = create_engine(url, pool_size=2, max_overflow=0)
    lines: list[str] = []
    try:
        started = time.perf_counter()
        process_id, survey_id, token = await _setup(engine, data)
        setup_seconds = time.perf_counter() - started
        # A tenth first, to measure the export's memory at two sizes.
        small = count // 10
        started = time.perf_counter()
        totals = await _seed(url, survey_id, small)
        seed_seconds = time.perf_counter() - started
        memory_small = await _csv_memory(url, survey_id)
        started = time.perf_counter()
        rest = await _seed(url, survey_id, count - small, first=small)
        seed_seconds += time.perf_counter() - started
        for key in ("responses", "needs", "options"):
            totals[key] += rest[key]
        lines.append(f"Berlin import + process + survey: {setup_seconds:.1f} s")
        lines.append(
            f"seed (COPY + VACUUM ANALYZE): {totals['responses']:,} responses over "
            f"{totals['areas']} planning areas, {totals['needs']:,} need rows, "
            f"{totals['options']:,} option rows in {seed_seconds:.1f} s"
        )

        connection = await asyncpg.connect(**_connect_kwargs(url, DATABASE))
        table = [
            "| what | level | weighting | median ms | bare SQL ms | ratio |",
            "|---|---|---|---|---|---|",
        ]
        try:
            # The bare SQL runs with the settings the service sets for its statements.
            await connection.execute("SET work_mem = '64MB'; SET jit = off")
            sizes = dict(await connection.fetch(SIZES))
            lines.append(
                "sizes: "
                + ", ".join(
                    f"{name} {size / 2**20:.0f} MiB" for name, size in sorted(sizes.items())
                )
            )
            for level_key, position in (("planning_area", 4), ("district", 1)):
                for weighting in (aggregation.Weighting.NONE, aggregation.Weighting.AGE):

                    async def bare(
                        position: int = position, statements: tuple[str, str] = BARE[weighting]
                    ) -> None:
                        for statement in statements:
                            await connection.fetch(statement, survey_id, position)

                    async def service(
                        level_key: str = level_key, weighting: aggregation.Weighting = weighting
                    ) -> None:
                        async with session_scope(engine) as session:
                            await aggregation.aggregated_needs(
                                session, survey_id, level_key=level_key, weighting=weighting
                            )

                    bare_ms = _ms(await _timed(runs, bare))
                    service_ms = _ms(await _timed(runs, service))
                    table.append(
                        f"| service | {level_key} | {weighting} | {service_ms:.0f} | "
                        f"{bare_ms:.0f} | {service_ms / bare_ms:.2f} |"
                    )
            table.extend(
                await _whole_release(engine, connection, process_id, survey_id, release_runs)
            )
        finally:
            await connection.close()
    finally:
        await engine.dispose()

    settings = load_settings(
        {
            "QUARTIER_ENV": "test",
            "QUARTIER_DATA_DIR": tempfile.mkdtemp(prefix="quartier-bench-"),
            "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
        }
    )
    app = create_app(replace(settings, db_pool_size=4), database_url=url)
    headers = {"Authorization": f"Bearer {token}"}
    async with AsyncTestClient(app, base_url="https://bench.local") as client:
        for level_key in ("planning_area", "district"):
            for path, params in (
                (f"/api/v1/surveys/{survey_id}/aggregated-needs", {"level": level_key}),
                (
                    f"/api/v1/surveys/{survey_id}/aggregated-needs/export",
                    {"level": level_key, "format": "csv"},
                ),
            ):

                async def http(path: str = path, params: dict[str, str] = params) -> None:
                    response = await client.get(path, params=params, headers=headers)
                    response.raise_for_status()

                table.append(
                    f"| HTTP {path.rsplit('/', 1)[-1]}{' csv' if 'format' in params else ''} "
                    f"| {level_key} | none | {_ms(await _timed(runs, http)):.0f} | | |"
                )

    memory = await _csv_memory(url, survey_id)
    # The social report of the process over the same data (issue #11), after the above.
    engine = create_engine(url, pool_size=2, max_overflow=0)
    try:
        report_lines = await report_bench.run(engine, app, process_id, runs)
    finally:
        await engine.dispose()
    lines.append("")
    lines.extend(table)
    lines.append("")
    lines.extend(report_lines)
    lines.append("")
    for responses, figures in ((small, memory_small), (count, memory)):
        lines.append(
            f"CSV export at {responses:,} responses (planning areas, age weighting, "
            f"{figures['bytes']:,.0f} bytes), child process: peak RSS "
            f"{figures['after_mib']:.0f} MiB (before the export {figures['before_mib']:.0f} MiB); "
            f"peak of Python allocations during the export {figures['traced_mib']:.1f} MiB"
        )
    print("```")
    print(
        f"machine: {os.cpu_count()} CPUs shared by client, app and database; "
        f"python {sys.version.split()[0]}"
    )
    print(f"responses: {count:,}; median of {runs} runs after one warm-up")
    print("\n".join(lines))
    print("```")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--data", type=Path, default=PROJECT_ROOT.parent / "shared" / "data" / "berlin-lor"
    )
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--release-runs",
        type=int,
        default=3,
        help="runs of the whole release (every table of the process; slower than one table)",
    )
    args = parser.parse_args()
    if not (args.data / "planning-areas.geojson").exists():
        sys.exit(f"no Berlin LOR data in {args.data}")
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        asyncio.run(run(args.data, args.responses, args.runs, given, args.release_runs))
        return
    base = Path(tempfile.mkdtemp(prefix="quartier-bench-"))
    base.chmod(0o755)
    cluster = PrivateCluster(base, fsync=False, database="postgres")
    try:
        asyncio.run(run(args.data, args.responses, args.runs, cluster.start(), args.release_runs))
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
