"""Migrations are reversible: upgrade → downgrade to base → upgrade leaves the same schema."""

from __future__ import annotations

import asyncio

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier import migrations
from quartier.models import metadata

from .conftest import PgServer

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
