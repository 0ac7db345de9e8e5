"""Migrations are reversible: upgrade → downgrade to base → upgrade leaves the same schema; and
the data migrations fill what they add for rows stored before them."""

from __future__ import annotations

import asyncio
import datetime
import os
import uuid

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier import migrations
from quartier.db import create_engine, session_scope
from quartier.models import metadata
from quartier.processes import schemas as ps
from quartier.processes import services as processes
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
            process_id = await processes.create_process(
                session, ps.ProcessCreate(title="Bedarfe", topic="Familien"), processes.SYSTEM
            )
            survey = Survey(
                process_id=process_id,
                title={"de": "Familien"},
                status="published",
                access_mode="open",
                definition=definition(),
                definition_version=1,
                pseudonym_salt=os.urandom(32),
                k_threshold=5,
                min_respondents=10,
            )
            session.add(survey)
            await session.flush()
            now = datetime.datetime.now(datetime.UTC)
            for code, area, age, needs in (
                ("R1", "010101", "from_27_to_44", ["childcare", "housing"]),
                ("R2", "010102", None, ["housing"]),
                ("R3", "010101", "under_27", []),
            ):
                response_id = uuid.uuid4()
                await session.execute(
                    insert(SurveyResponse),
                    {
                        "id": response_id,
                        "survey_id": survey.id,
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
                    {"response": response_id, "survey": survey.id, "keys": needs},
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
