"""Fixtures for the social-areas tests.

Berlin is imported once per test session into a database built from the migration template;
each test module that reads Berlin gets its own copy of that database (`berlin_url`), shared by
its tests, which therefore must not change it. Tests that import or change data use the plain
per-test `database_url` / `session` / `client` fixtures.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quartier.app import create_app
from quartier.areas import importer, services
from quartier.areas.demo import berlin_sources
from quartier.areas.schemas import FeatureCollectionIn, ImportReport
from quartier.db import create_engine, session_scope
from quartier.settings import load_settings

from ..conftest import PgServer

BERLIN_TEMPLATE = f"quartier_test_berlin_{os.getpid()}"
T2 = "population-2020-12-t2-planning-areas.csv"
T1 = "population-2020-12-t1-planning-areas.csv"
_counter = itertools.count()


def berlin_levels(data: Path) -> list[importer.LevelSource]:
    return berlin_sources(data, ())[0]


def berlin_population(data: Path, *files: str) -> list[importer.PopulationSource]:
    return berlin_sources(data, files or (T2,))[1]


@dataclass(frozen=True)
class BerlinTemplate:
    name: str
    report: ImportReport
    seconds: float


@pytest.fixture(scope="session")
def berlin_template(
    pg_server: PgServer, template_database: str, berlin_data: Path
) -> Iterator[BerlinTemplate]:
    """The full Berlin LOR (4 levels, t2 population) imported through the service, once."""

    async def build() -> BerlinTemplate:
        await pg_server.admin(f'DROP DATABASE IF EXISTS "{BERLIN_TEMPLATE}" WITH (FORCE)')
        await pg_server.admin(f'CREATE DATABASE "{BERLIN_TEMPLATE}" TEMPLATE "{template_database}"')
        engine = create_engine(pg_server.url_for(BERLIN_TEMPLATE), pool_size=1, max_overflow=0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with session_scope(engine) as session:
                report = await services.import_areas(
                    session, berlin_levels(berlin_data), berlin_population(berlin_data)
                )
        finally:
            await engine.dispose()
        return BerlinTemplate(BERLIN_TEMPLATE, report, loop.time() - started)

    template = asyncio.run(build())
    yield template
    asyncio.run(pg_server.admin(f'DROP DATABASE IF EXISTS "{BERLIN_TEMPLATE}" WITH (FORCE)'))


@pytest.fixture(scope="module")
async def berlin_url(pg_server: PgServer, berlin_template: BerlinTemplate) -> AsyncIterator[str]:
    name = f"quartier_test_berlin_{os.getpid()}_{next(_counter)}"
    await pg_server.admin(f'CREATE DATABASE "{name}" TEMPLATE "{berlin_template.name}"')
    try:
        yield pg_server.url_for(name)
    finally:
        await pg_server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
async def berlin_engine(berlin_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(berlin_url, pool_size=2, max_overflow=2)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def berlin_session(berlin_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on this module's Berlin database; rolled back, so reads only."""
    async with async_sessionmaker(berlin_engine, expire_on_commit=False)() as session:
        yield session
        await session.rollback()


@pytest.fixture(scope="module")
async def berlin_client(
    berlin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = load_settings(
        {
            "QUARTIER_ENV": "test",
            "QUARTIER_DATA_DIR": str(tmp_path_factory.mktemp("berlin-app")),
            "SECRET_KEY": "test-secret-key-0123456789-abcdefghijklmnop",
        }
    )
    app = create_app(replace(settings, login_attempts_per_client=1000), database_url=berlin_url)
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        yield client


# -- small hand-made inputs --------------------------------------------------------------------


def square(lon: float, lat: float, size: float = 0.01) -> list[list[list[float]]]:
    """A Polygon's coordinates: a square with its south-west corner at (lon, lat)."""
    return [
        [
            [lon, lat],
            [lon + size, lat],
            [lon + size, lat + size],
            [lon, lat + size],
            [lon, lat],
        ]
    ]


def feature(
    code: str, name: str, coordinates: Any, kind: str = "Polygon", **properties: Any
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"id": code, "name": name, **properties},
        "geometry": {"type": kind, "coordinates": coordinates},
    }


def collection(*features: dict[str, Any], crs: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "FeatureCollection", "features": list(features)}
    if crs:
        body["crs"] = {"type": "name", "properties": {"name": crs}}
    return body


def level(key: str, fc: dict[str, Any], **options: Any) -> importer.LevelSource:
    import msgspec

    return importer.LevelSource(
        key=key,
        collection=msgspec.convert(fc, FeatureCollectionIn),
        source=f"{key}.geojson",
        **options,
    )


def population(text: str, date: datetime.date | None = None) -> importer.PopulationSource:
    return importer.PopulationSource(
        text=text, reference_date=date or datetime.date(2020, 12, 31), source="population.csv"
    )


SMALL_CITY = {
    "district": collection(
        feature("01", "Nord", square(13.0, 52.0, 0.1)),
        feature("02", "Süd", square(13.0, 51.9, 0.1)),
    ),
    "quarter": collection(
        feature("0101", "Nordwest", square(13.0, 52.0, 0.05)),
        feature("0102", "Nordost", square(13.05, 52.0, 0.05)),
        feature("0201", "Südwest", square(13.0, 51.9, 0.05)),
    ),
}
SMALL_POPULATION = (
    "id,inhabitants,inhabitants_age_below_18,inhabitants_age_18_65,inhabitants_age_above_65,"
    "inhabitants_female\n"
    "0101,100,20,60,20,51\n"
    "0102,50,10,30,10,25\n"
    "0201,30,5,20,5,\n"
)


def small_city() -> list[importer.LevelSource]:
    return [level(key, fc) for key, fc in SMALL_CITY.items()]


@pytest.fixture
async def small_city_session(session: AsyncSession) -> AsyncSession:
    """The test database with a two-level toy city and its population, committed."""
    await services.import_areas(session, small_city(), [population(SMALL_POPULATION)])
    await session.commit()
    return session
