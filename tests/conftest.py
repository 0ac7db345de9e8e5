"""Test fixtures: a real PostgreSQL for every test.

One cluster per test session (the private cluster in a temporary directory, or the server at
TEST_DATABASE_URL). The migrations build a template database once; every test gets a fresh
database copied from it, so tests may commit, run concurrently and see real constraints.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quartier import migrations
from quartier.accounts import services as accounts
from quartier.app import create_app
from quartier.core import i18n
from quartier.core.security import Role, session_cookie_name
from quartier.db import PrivateCluster, create_engine
from quartier.settings import RateLimitSetting, Settings, load_settings
from tests.support.contract import ResponseChecker
from tests.support.generated_client import GeneratedClient

# One template per pytest-xdist worker: workers on a shared TEST_DATABASE_URL server must not
# rebuild each other's template.
TEMPLATE = f"quartier_test_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_counter = itertools.count()


class PgServer:
    """The PostgreSQL server used by this test session."""

    def __init__(self, url: str, cluster: PrivateCluster | None) -> None:
        self.url = (
            url if "+asyncpg" in url else url.replace("postgresql://", "postgresql+asyncpg://")
        )
        self.cluster = cluster

    def url_for(self, database: str) -> str:
        parts = urlsplit(self.url)
        return parts._replace(path=f"/{database}").geturl()

    def connect_kwargs(self, database: str) -> dict[str, object]:
        parts = urlsplit(self.url)
        query = parse_qs(parts.query)
        host = query.get("host", [parts.hostname or "localhost"])[0]
        return {
            "host": host,
            "port": parts.port or 5432,
            "user": parts.username or "postgres",
            "password": parts.password,
            "database": database,
        }

    async def admin(self, sql: str) -> None:
        connection = await asyncpg.connect(**self.connect_kwargs("postgres"))  # type: ignore[arg-type]
        try:
            await connection.execute(sql)
        finally:
            await connection.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield PgServer(given, None)
        return
    base = Path(tempfile.mkdtemp(prefix="quartier-test-"))
    base.chmod(0o755)
    cluster = PrivateCluster(base, fsync=False, database="postgres")
    url = cluster.start()
    try:
        yield PgServer(url, cluster)
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def template_database(pg_server: PgServer) -> str:
    """A database built by the real migrations, copied for every test."""
    asyncio.run(pg_server.admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
    asyncio.run(pg_server.admin(f'CREATE DATABASE "{TEMPLATE}"'))
    migrations.upgrade(pg_server.url_for(TEMPLATE))
    return TEMPLATE


@pytest.fixture
async def database_url(pg_server: PgServer, template_database: str) -> AsyncIterator[str]:
    name = f"quartier_test_{os.getpid()}_{next(_counter)}"
    await pg_server.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    try:
        yield pg_server.url_for(name)
    finally:
        await pg_server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    base = load_settings(
        {
            "QUARTIER_ENV": "test",
            "QUARTIER_DATA_DIR": str(tmp_path),
            "SECRET_KEY": "test-secret-key-0123456789-abcdefghijklmnop",
        }
    )
    # Generous limits: the rate-limit tests set their own (tests/core/test_ratelimit.py).
    generous = {name: RateLimitSetting(100_000, 60) for name in base.rate_limits}
    return replace(base, login_attempts_per_client=1000, rate_limits=generous)


@pytest.fixture
def only_english() -> Iterator[None]:
    """A deployment that enables English only beside German (restored afterwards)."""
    i18n.configure_languages(("en",))
    try:
        yield
    finally:
        i18n.configure_languages(i18n.KNOWN_LANGUAGES)


@pytest.fixture
async def app(settings: Settings, database_url: str) -> Litestar:
    return create_app(settings, database_url=database_url)


@pytest.fixture(scope="session")
def contract_checker() -> ResponseChecker:
    return ResponseChecker()


@pytest.fixture(scope="session")
def generated_client() -> GeneratedClient:
    return GeneratedClient()


@pytest.fixture
async def client(
    app: Litestar, contract_checker: ResponseChecker, generated_client: GeneratedClient
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The test client; every response it receives is checked against the committed contract
    (tests/support/contract.py), headers included: a test fails on an undocumented status,
    an undeclared media type or a body or header the contract does not admit — and on a
    response of an operation that the client openapi-python-client generates from the contract
    cannot parse (tests/support/generated_client.py)."""
    found: list[str] = []

    async def check(response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        problems = contract_checker.problems(
            request.method,
            request.url.path,
            response.status_code,
            response.headers,
            response.content,
        )
        found.extend(problems)
        operation = contract_checker.operation(request.method, request.url.path)
        if operation is not None and not problems:
            found.extend(
                generated_client.problems(
                    operation,
                    response.status_code,
                    response.headers,
                    response.content,
                    f"{request.method} {request.url.path} {response.status_code}",
                )
            )

    async with AsyncTestClient(app, base_url="https://testserver.local") as test_client:
        test_client.event_hooks["response"].append(check)
        yield test_client
    assert not found, "responses that break the contract:\n" + "\n".join(found)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2, max_overflow=2)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on the test's own database; commit freely."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as db_session:
        yield db_session


TokenFactory = Callable[..., Awaitable[dict[str, str]]]
LoginFactory = Callable[..., Awaitable[dict[str, str]]]
TEST_PASSWORD = "correct horse battery staple"


@pytest.fixture
async def make_token(engine: AsyncEngine) -> TokenFactory:
    """`headers = await make_token({"areas:write"})`: an API token with these scopes."""

    async def factory(scopes: set[str], name: str = "test integration") -> dict[str, str]:
        async with async_sessionmaker(engine)() as db, db.begin():
            _, secret = await accounts.create_token(db, name=name, scopes=scopes, created_by=None)
        return {"Authorization": f"Bearer {secret}"}

    return factory


@pytest.fixture
async def make_account(engine: AsyncEngine) -> Callable[..., Awaitable[str]]:
    """`email = await make_account("planner")`: an active staff account with TEST_PASSWORD."""

    async def factory(role: str, email: str | None = None) -> str:
        email = email or f"{role}-{next(_counter)}@example.org"
        async with async_sessionmaker(engine)() as db, db.begin():
            await accounts.create_account(
                db,
                email=email,
                display_name=f"Test {role}",
                role=Role(role),
                password=TEST_PASSWORD,
            )
        return email

    return factory


@pytest.fixture
async def login_as(
    client: AsyncTestClient[Litestar], make_account: Callable[..., Awaitable[str]]
) -> LoginFactory:
    """`headers = await login_as("planner")`: session cookie and CSRF header of a new staff
    member with that role. The client's own cookie jar stays empty, so tests can mix callers."""

    async def factory(role: str) -> dict[str, str]:
        email = await make_account(role)
        response = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD}
        )
        assert response.status_code == 200, response.text
        cookie_name = session_cookie_name(secure=True)
        session_token = response.cookies[cookie_name]
        client.cookies.clear()
        return {
            "Cookie": f"{cookie_name}={session_token}",
            "X-CSRF-Token": response.json()["csrf_token"],
        }

    return factory


@pytest.fixture(scope="session")
def berlin_data() -> Path:
    """The real Berlin LOR files; the suite needs them (they ship in ../shared/data)."""
    path = SHARED_DATA / "berlin-lor"
    if not (path / "planning-areas.geojson").exists():
        pytest.fail(f"Berlin LOR data missing at {path}")
    return path
