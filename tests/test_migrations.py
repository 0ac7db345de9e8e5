"""Migrations are reversible: upgrade → downgrade to base → upgrade leaves the same schema; and
the data migrations fill what they add for rows stored before them."""

from __future__ import annotations

import asyncio
import datetime
import os
import uuid

import asyncpg
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier import migrations
from quartier.db import create_engine, session_scope
from quartier.models import metadata
from quartier.processes.phases import PhaseKey
from quartier.surveys.models import Survey, SurveyResponse

from .conftest import PgServer
from .support.areas import add_area_tree
from .surveys.conftest import definition

SCHEMA_QUERY = """
SELECT table_name, column_name, data_type, is_nullable
FROM information_schema.columns WHERE table_schema = 'public'
ORDER BY table_name, column_name
"""
INDEX_QUERY = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"


async def _schema(server: PgServer, database: str) -> tuple[list[tuple[object, ...]], ...]:
    connection = await asyncpg.connect(**server.connect_kwargs(database))  # type: ignore[arg-type]
    try:
        columns = [tuple(r) for r in await connection.fetch(SCHEMA_QUERY)]
        indexes = [tuple(r) for r in await connection.fetch(INDEX_QUERY)]
        return columns, indexes
    finally:
        await connection.close()


def test_upgrade_downgrade_upgrade_round_trip(pg_server: PgServer) -> None:
    database = "quartier_migration_round_trip"
    asyncio.run(pg_server.admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    asyncio.run(pg_server.admin(f'CREATE DATABASE "{database}"'))
    url = pg_server.url_for(database)
    try:
        migrations.upgrade(url)
        first = asyncio.run(_schema(pg_server, database))
        migrations.downgrade(url, "base")
        emptied = asyncio.run(_schema(pg_server, database))
        assert [c for c in emptied[0] if c[0] != "alembic_version"] == []
        migrations.upgrade(url)
        assert asyncio.run(_schema(pg_server, database)) == first
    finally:
        asyncio.run(pg_server.admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


async def test_models_match_the_migrations(engine: AsyncEngine) -> None:
    """Autogenerate finds nothing to do: the ORM models and the migrated schema agree."""

    def compare(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    async with engine.connect() as connection:
        differences = await connection.run_sync(compare)
    assert differences == []


async def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = :t"),
                {"t": table},
            )
            return set(rows.scalars().all())
    finally:
        await engine.dispose()


async def _need_rows(url: str) -> set[tuple[object, ...]]:
    """(response code, need key, area code, age stratum) of every need row."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    """
                    SELECT response.receipt_code, category.key, area.code, need.age_stratum
                    FROM survey_response_needs need
                    JOIN survey_responses response ON response.id = need.response_id
                    JOIN need_categories category ON category.id = need.need_category_id
                    JOIN social_areas area ON area.id = need.area_id
                    """
                )
            )
            return {tuple(row) for row in rows}
    finally:
        await engine.dispose()


# survey_responses as it was at 0005 (the model has columns added later)
_RESPONSES_AT_0005 = sa.table(
    "survey_responses",
    *(
        column.copy()
        for column in SurveyResponse.__table__.columns
        if column.name not in ("record_key", "sa_orm_sentinel")
    ),
)
# Surveys as 0005 stored them (0023 added `results_public`).
_SURVEYS_AT_0005 = sa.table(
    "surveys",
    *(
        column.copy()
        for column in Survey.__table__.columns
        if column.name not in ("results_public", "sa_orm_sentinel")
    ),
)


async def _process_as_at_0003(session: AsyncSession, title: str) -> uuid.UUID:
    """A draft process in `guidelines` with its seven phases, written with the columns every
    revision since 0003 has (the services write those of the newest revision)."""
    process_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO planning_processes (id, title, description, topic, status, cycle, "
            "commissioned_by, commissioned_to, aim, occasion, report_recipients, "
            "internal_notes, created_at, updated_at) VALUES (:id, :title, '', 'Familien', "
            "'draft', 1, '', '', '', '', '', '', now(), now())"
        ),
        {"id": process_id, "title": title},
    )
    for position, phase in enumerate(PhaseKey, start=1):
        await session.execute(
            text(
                "INSERT INTO process_phases (id, process_id, phase, position, is_active, "
                "activated_at, what_is_done, who_takes_part, watch_out_for, created_at, "
                "updated_at) VALUES (:id, :process, :phase, :position, :active, "
                "CASE WHEN :active THEN now() END, '', '', '', now(), now())"
            ),
            {
                "id": uuid.uuid4(),
                "process": process_id,
                "phase": phase.value,
                "position": position,
                "active": position == 1,
            },
        )
    return process_id


async def _responses_at_0005(url: str) -> None:
    """Two areas, a survey and three responses with need rows, as revision 0005 stored them."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with session_scope(engine) as session:
            areas = await add_area_tree(
                session,
                {"010101": ("010101", None), "010102": ("010102", None)},
                ["planning_area"],
            )
            process_id = await _process_as_at_0003(session, "Bedarfe")
            now = datetime.datetime.now(datetime.UTC)
            survey_id = uuid.uuid4()
            await session.execute(
                insert(_SURVEYS_AT_0005),
                {
                    "id": survey_id,
                    "process_id": process_id,
                    "title": {"de": "Familien"},
                    "status": "published",
                    "access_mode": "open",
                    "definition": definition(),
                    "definition_version": 1,
                    "pseudonym_salt": os.urandom(32),
                    "k_threshold": 5,
                    "min_respondents": 10,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            for code, area, age, needs in (
                ("R1", "010101", "from_27_to_44", ["childcare", "housing"]),
                ("R2", "010102", None, ["housing"]),
                ("R3", "010101", "under_27", []),
            ):
                response_id = uuid.uuid4()
                await session.execute(
                    insert(_RESPONSES_AT_0005),
                    {
                        "id": response_id,
                        "survey_id": survey_id,
                        "area_id": areas[area],
                        "age_stratum": age,
                        "channel": "web",
                        "submitted_at": now,
                        "receipt_code": code,
                        "definition_version": 1,
                        "answers": {},
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                await session.execute(
                    text(
                        "INSERT INTO survey_response_needs (response_id, need_category_id, "
                        "survey_id) SELECT :response, id, :survey FROM need_categories "
                        "WHERE key = ANY(:keys)"
                    ),
                    {"response": response_id, "survey": survey_id, "keys": needs},
                )
    finally:
        await engine.dispose()


async def test_0006_copies_area_and_age_stratum_onto_existing_need_rows(database_url: str) -> None:
    """The need rows stored before 0006 get their response's area and age stratum; a
    downgrade keeps the rows, and upgrading again fills the copies again."""
    await asyncio.to_thread(migrations.downgrade, database_url, "0005")
    await _responses_at_0005(database_url)

    await asyncio.to_thread(migrations.upgrade, database_url)
    expected = {
        ("R1", "childcare", "010101", "from_27_to_44"),
        ("R1", "housing", "010101", "from_27_to_44"),
        ("R2", "housing", "010102", None),
    }
    assert await _need_rows(database_url) == expected

    await asyncio.to_thread(migrations.downgrade, database_url, "0005")
    assert {"area_id", "age_stratum"}.isdisjoint(
        await _columns(database_url, "survey_response_needs")
    )
    await asyncio.to_thread(migrations.upgrade, database_url)
    assert await _need_rows(database_url) == expected


async def _scalar_rows(url: str, statement: str) -> list[tuple[object, ...]]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as connection:
            return [tuple(row) for row in await connection.execute(text(statement))]
    finally:
        await engine.dispose()


async def test_0007_gives_record_keys_and_forgets_when_codes_were_used(database_url: str) -> None:
    """Existing responses get random record keys, repeated on their need rows; a used
    invitation code keeps only `used`, its `updated_at` back at its creation."""
    await asyncio.to_thread(migrations.downgrade, database_url, "0005")
    await _responses_at_0005(database_url)
    await asyncio.to_thread(migrations.upgrade, database_url, "0006")
    await _scalar_rows(
        database_url,
        "INSERT INTO survey_invitation_codes (id, survey_id, code_hash, used_at, created_at, "
        "updated_at) SELECT gen_random_uuid(), id, md5(random()::text) || md5(random()::text), "
        "now(), now() - interval '3 days', now() FROM surveys RETURNING id",
    )
    await asyncio.to_thread(migrations.upgrade, database_url)
    keys = await _scalar_rows(database_url, "SELECT record_key FROM survey_responses")
    assert len(keys) == 3 and all(0 <= key < 2**32 for (key,) in keys)  # type: ignore[operator]
    assert len(set(keys)) == 3
    mismatched = await _scalar_rows(
        database_url,
        "SELECT count(*) FROM survey_response_needs need JOIN survey_responses response "
        "ON response.id = need.response_id WHERE need.record_key <> response.record_key",
    )
    assert mismatched == [(0,)]
    codes = await _scalar_rows(
        database_url, "SELECT used, updated_at = created_at FROM survey_invitation_codes"
    )
    assert codes == [(True, True)]
    assert "used_at" not in await _columns(database_url, "survey_invitation_codes")

    await asyncio.to_thread(migrations.downgrade, database_url, "0006")
    assert "record_key" not in await _columns(database_url, "survey_responses")
    assert await _scalar_rows(
        database_url, "SELECT used_at IS NOT NULL FROM survey_invitation_codes"
    ) == [(True,)]
    await asyncio.to_thread(migrations.upgrade, database_url)


async def test_0016_gives_ideas_and_supports_record_keys(database_url: str) -> None:
    """Ideas stored before 0016 get random record keys (feedback is filled the same way); the
    supports of one resident in a process share one key, other residents get other keys."""
    await asyncio.to_thread(migrations.downgrade, database_url, "0010")
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with session_scope(engine) as session:
            areas = await add_area_tree(session, {"010101": ("010101", None)}, ["planning_area"])
            process_id = await _process_as_at_0003(session, "Ideen")
            ideas = []
            for number in range(2):
                idea_id = uuid.uuid4()
                ideas.append(idea_id)
                await session.execute(
                    text(
                        "INSERT INTO ideas (id, process_id, title, description, "
                        "need_category_id, area_id, state, follow_token_hash, "
                        "text_fingerprint, created_at, updated_at) SELECT :id, :process, "
                        "'Idee', 'Beschreibung', id, :area, 'published', :hash, :text, now(), "
                        "now() FROM need_categories ORDER BY key LIMIT 1"
                    ),
                    {
                        "id": idea_id,
                        "process": process_id,
                        "area": areas["010101"],
                        "hash": os.urandom(32),
                        "text": f"idee {number}",
                    },
                )
            for idea_id in ideas:
                for resident in (b"a" * 32, b"b" * 32):
                    await session.execute(
                        text("INSERT INTO idea_supports (idea_id, pseudonym) VALUES (:i, :p)"),
                        {"i": idea_id, "p": resident},
                    )
    finally:
        await engine.dispose()
    await asyncio.to_thread(migrations.upgrade, database_url)
    idea_keys = await _scalar_rows(database_url, "SELECT record_key FROM ideas")
    assert len(idea_keys) == 2 and all(0 <= key < 2**32 for (key,) in idea_keys)  # type: ignore[operator]
    per_resident = await _scalar_rows(
        database_url,
        "SELECT pseudonym, count(DISTINCT record_key), min(record_key) FROM idea_supports "
        "GROUP BY pseudonym",
    )
    assert [row[1] for row in per_resident] == [1, 1]
    assert per_resident[0][2] != per_resident[1][2]
    await asyncio.to_thread(migrations.downgrade, database_url, "0010")
    assert "record_key" not in await _columns(database_url, "idea_supports")
    await asyncio.to_thread(migrations.upgrade, database_url)


async def test_0024_makes_stored_areas_valid_since_ever_and_keeps_them_on_downgrade(
    database_url: str,
) -> None:
    """Areas stored before 0024 are valid since ever with their boundary since ever; a
    downgrade drops the versions and successions but keeps the areas."""
    await asyncio.to_thread(migrations.downgrade, database_url, "0021")
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with session_scope(engine) as session:
            await add_area_tree(session, {"01": ("Mitte", None)}, ["district"])
    finally:
        await engine.dispose()
    await asyncio.to_thread(migrations.upgrade, database_url)
    assert await _scalar_rows(
        database_url, "SELECT code, valid_from, valid_to, boundary_from FROM social_areas"
    ) == [("01", None, None, None)]
    await asyncio.to_thread(migrations.downgrade, database_url, "0021")
    assert await _scalar_rows(database_url, "SELECT code FROM social_areas") == [("01",)]
    assert {"valid_from", "valid_to", "boundary_from"}.isdisjoint(
        await _columns(database_url, "social_areas")
    )
    await asyncio.to_thread(migrations.upgrade, database_url)


async def test_0029_gives_earlier_versions_the_areas_name_parent_and_path(
    database_url: str,
) -> None:
    """Versions stored before 0029 take their area's current name, parent and path (nothing
    older is known); a downgrade drops those columns and keeps the versions."""
    await asyncio.to_thread(migrations.downgrade, database_url, "0027")
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with session_scope(engine) as session:
            ids = await add_area_tree(
                session, {"01": ("Mitte", None), "0101": ("Tiergarten", "01")}, ["a", "b"]
            )
            await session.execute(
                text(
                    "INSERT INTO social_area_versions (id, area_id, valid_to, boundary, min_lon,"
                    " min_lat, max_lon, max_lat, area_m2, created_at, updated_at) "
                    "SELECT gen_random_uuid(), id, DATE '2024-01-01', boundary, min_lon, min_lat,"
                    " max_lon, max_lat, area_m2, now(), now() FROM social_areas WHERE code = '0101'"
                )
            )
    finally:
        await engine.dispose()
    await asyncio.to_thread(migrations.upgrade, database_url)
    rows = await _scalar_rows(
        database_url, "SELECT name, search_name, parent_id, path FROM social_area_versions"
    )
    assert [(r[0], r[2], list(r[3])) for r in rows] == [  # type: ignore[call-overload]
        ("Tiergarten", ids["01"], [ids["01"], ids["0101"]])
    ]
    assert rows[0][1]
    await asyncio.to_thread(migrations.downgrade, database_url, "0027")
    assert await _scalar_rows(database_url, "SELECT count(*) FROM social_area_versions") == [(1,)]
    assert {"name", "search_name", "parent_id", "path"}.isdisjoint(
        await _columns(database_url, "social_area_versions")
    )
    await asyncio.to_thread(migrations.upgrade, database_url)
