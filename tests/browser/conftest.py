"""Browser test harness: the real app in a uvicorn subprocess, driven by Debian's Chromium.

* `live_server` (session): a fresh database copied from the migrated template, the demo data
  and a planner account loaded into it, and uvicorn serving `quartier.app:create_app` on a free
  127.0.0.1 port in a subprocess (so the server's event loop never meets pytest-asyncio's).
* `browser` (module): Chromium through Playwright's sync API. The tests are plain sync
  functions: Playwright's sync API cannot run inside a running asyncio loop, and pytest-asyncio
  only runs its loop while an async test or fixture executes.
* `signed_in_state`: cookies of a planner who signed in through the /login form with
  JavaScript switched off (which also proves that form works without scripts).

Playwright's own browser download does not work on our machines: Chromium comes from the
distribution (`apt-get install chromium`), or from `QUARTIER_CHROMIUM`.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Route,
    sync_playwright,
)
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.runtime import run_in_session
from quartier.settings import Settings, load_settings
from tests.conftest import TEST_PASSWORD, PgServer

CHROMIUM = os.environ.get("QUARTIER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PLANNER_EMAIL = "planner@browser-tests.example.org"
SERVER_START_TIMEOUT = 60.0
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Every WCAG 2.0, 2.1 and 2.2 rule of levels A and AA that axe-core implements.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


# True where the document runs scripts: only then is a <noscript>'s content parsed as text.
SCRIPTS_RUN = (
    "(() => { const probe = document.createElement('noscript');"
    " probe.innerHTML = '<i></i>'; return probe.children.length === 0; })()"
)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (bundled with axe-playwright-python) on the page: WCAG 2.x A/AA rules.

    A page without JavaScript is checked in a scripted twin: axe-core waits on timers, and a
    context with JavaScript off never fires them, so `axe.run` there never settles and
    Playwright's `evaluate` (which has no timeout) waits for ever."""
    if not page.evaluate(SCRIPTS_RUN):
        return _axe_on_scripted_twin(page)
    return _run_axe(page)


def _run_axe(page: Page) -> list[dict[str, Any]]:
    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    violations: list[dict[str, Any]] = results.response["violations"]
    return violations


def _axe_on_scripted_twin(page: Page) -> list[dict[str, Any]]:
    """The scriptless page's document, served as it is at its own URL to a context with
    JavaScript on but the page's own scripts blocked, so axe sees what the scriptless page
    shows (except <noscript> content, which a scripted document does not render)."""
    browser = page.context.browser
    assert browser is not None
    html = page.content()
    twin_context = browser.new_context(viewport=page.viewport_size)
    try:
        twin = twin_context.new_page()
        twin.set_default_timeout(15_000)

        def serve(route: Route) -> None:
            if route.request.resource_type == "document":
                route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
            elif route.request.resource_type == "script":
                route.abort()
            else:
                route.continue_()

        twin.route("**/*", serve)
        twin.goto(page.url)
        return _run_axe(twin)
    finally:
        twin_context.close()


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """Rule id, impact and help text of each violation, with up to five offending nodes."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30, **kwargs)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _load_demo_and_planner(session: AsyncSession, settings: Settings) -> str:
    from quartier.demo import load_demo

    message = await load_demo(session, settings=settings)
    try:
        from quartier.accounts import services as accounts
        from quartier.core.security import Role
    except ImportError:  # accounts not there yet: the dashboard test fails at sign-in
        return message
    await accounts.create_account(
        session,
        email=PLANNER_EMAIL,
        display_name="Paula Planerin",
        role=Role.PLANNER,
        password=TEST_PASSWORD,
    )
    return message


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when pytest dies, so a killed run leaves no server."""
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the app did not answer within {SERVER_START_TIMEOUT} s:\n{log.read_text()}")


def _off_loop(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` in a thread of its own: a module-scoped server may be set up while
    pytest-asyncio's loop runs, where `asyncio.run` is refused."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture(scope="session")
def live_server(pg_server: PgServer, template_database: str) -> Iterator[LiveServer]:
    with serve_demo(pg_server, template_database, f"quartier_browser_{os.getpid()}") as server:
        yield server


@contextmanager
def serve_demo(pg_server: PgServer, template_database: str, name: str) -> Iterator[LiveServer]:
    """The app on the demo data in its own database `name` (for a module that changes the
    demo so much that it needs a server of its own)."""
    _off_loop(asyncio.run, pg_server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    _off_loop(
        asyncio.run, pg_server.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    )
    database_url = pg_server.url_for(name)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = Path(tempfile.mkdtemp(prefix="quartier-browser-"))
    log = data_dir / "server.log"
    app_environment = {
        "DATABASE_URL": database_url,
        "QUARTIER_ENV": "test",
        "QUARTIER_DATA_DIR": str(data_dir),
        "SECRET_KEY": "browser-test-secret-key-0123456789-abcdefghij",
        # Plain http on 127.0.0.1: cookies without Secure and without the __Host- prefix.
        "QUARTIER_SECURE_COOKIES": "false",
        "QUARTIER_LOG_LEVEL": "WARNING",
        # Links the app hands out for use elsewhere (an inventory round's private links, mail)
        # are absolute: they must point at this server, not at the default port 8000.
        "QUARTIER_BASE_URL": url,
    }
    settings = load_settings(app_environment)
    _off_loop(
        run_in_session, database_url, lambda session: _load_demo_and_planner(session, settings)
    )
    env = {**os.environ, **app_environment}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "quartier.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    try:
        _wait_until_serving(process, url, log)
        yield LiveServer(url=url, database_url=database_url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _off_loop(asyncio.run, pg_server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def first_process_id(live_server: LiveServer) -> str | None:
    """The id of the first demo process: from the API, else from a link on the start page."""
    response = live_server.get("/api/v1/processes", params={"limit": 1})
    if response.status_code == 200:
        items = response.json().get("items") or []
        if items and items[0].get("id"):
            return str(items[0]["id"])
    home = live_server.get("/", headers={"Accept": "text/html"})
    match = re.search(rf'href="/processes/({UUID_PATTERN})"', home.text)
    return match.group(1) if match else None


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: `apt-get install chromium` "
            "(or set QUARTIER_CHROMIUM)"
        )
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def signed_in_state(browser: Browser, live_server: LiveServer) -> dict[str, Any]:
    """Storage state (cookies) of the demo planner, signed in through the HTML form with
    JavaScript off."""
    context = browser.new_context(
        java_script_enabled=False, base_url=live_server.url, locale="de-DE"
    )
    try:
        page = context.new_page()
        response = page.goto("/login")
        assert response is not None
        assert response.status == 200, f"/login answered {response.status}"
        page.fill("#email", PLANNER_EMAIL)
        page.fill("#password", TEST_PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        assert "/login" not in page.url, f"sign-in failed: still at {page.url}"
        state: dict[str, Any] = dict(context.storage_state())
        return state
    finally:
        context.close()


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer) -> Iterator[Any]:
    """`context = new_context(viewport=…, java_script_enabled=…, storage_state=…)`; closed after
    the test. The browser asks for German (`Accept-Language: de-DE`), the product's default."""
    contexts: list[BrowserContext] = []

    def factory(**options: Any) -> BrowserContext:
        options.setdefault("locale", "de-DE")
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        return context

    yield factory
    for context in contexts:
        context.close()


def create_staff_account(live_server: LiveServer, email: str, name: str, role: str) -> str:
    """A staff account with TEST_PASSWORD in the live server's database; its e-mail address."""

    async def create(session: AsyncSession) -> None:
        from quartier.accounts import services as accounts
        from quartier.core.security import Role

        await accounts.create_account(
            session, email=email, display_name=name, role=Role(role), password=TEST_PASSWORD
        )

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    _off_loop(run_in_session, live_server.database_url, create)
    return email


def sign_in(page: Page, email: str) -> None:
    """Sign in through the HTML form (works with JavaScript off)."""
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"sign-in failed: still at {page.url}"


def submit(page: Page, text: str) -> None:
    """Press the button named `text` and wait for the page it leads to."""
    page.get_by_role("button", name=text, exact=True).click()
    page.wait_for_load_state()


def assert_fits(page: Page, width: int = 320) -> None:
    """No horizontal scrolling at `width` px."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width} px wide at {width} px"
