"""The weight of the staff pages (issue #12): the demo data set, an administrator signed in,
every staff page reachable from the workspace by GET links (tests/support/staff_crawl.py, the
crawl tests/workspace/test_page_sizes.py asserts on), as a table of the kinds of page (the
heaviest instance of each) sorted by gzip size.

    .venv/bin/python bench/staff_pages.py

Starts a private PostgreSQL cluster in a temporary directory (or uses BENCH_DATABASE_URL, a
server where it may create and drop the database `quartier_bench_staff_pages`), builds the
schema by the migrations and loads the demo data (`quartier.demo.load_demo`). Prints a
markdown block. Sizes are of the HTML alone (styles, scripts and images are separate, cached
files); gzip at level 6."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from litestar.testing import AsyncTestClient

from quartier import migrations
from quartier.accounts import services as accounts
from quartier.app import create_app
from quartier.core.security import Role, session_cookie_name
from quartier.db import PrivateCluster, create_engine, session_scope
from quartier.demo import load_demo
from quartier.settings import RateLimitSetting, load_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import staff_crawl

from bench.surveys_bench import _connect_kwargs

DATABASE = "quartier_bench_staff_pages"
EMAIL = "bench-admin@example.org"
PASSWORD = "bench staff pages password 2026"  # a throwaway account in a throwaway database


async def run(server_url: str) -> None:
    connection = await asyncpg.connect(**_connect_kwargs(server_url, "postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await connection.close()
    parts = urlsplit(server_url.replace("+asyncpg", ""))
    url = parts._replace(scheme="postgresql+asyncpg", path=f"/{DATABASE}").geturl()
    await asyncio.to_thread(migrations.upgrade, url)
    base = load_settings(
        {
            "QUARTIER_ENV": "test",
            "QUARTIER_DATA_DIR": tempfile.mkdtemp(prefix="quartier-bench-"),
            "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
        }
    )
    # One client fetching every page at once: the limits per client would answer 429.
    generous = {name: RateLimitSetting(100_000, 60) for name in base.rate_limits}
    settings = replace(base, rate_limits=generous)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with session_scope(engine) as session:
            await load_demo(session, settings=settings)
            await accounts.create_account(
                session, email=EMAIL, display_name="Bench Admin", role=Role.ADMIN, password=PASSWORD
            )
    finally:
        await engine.dispose()
    app = create_app(settings, database_url=url)
    async with AsyncTestClient(app, base_url=staff_crawl.ORIGIN) as client:
        response = await client.post(
            "/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}
        )
        response.raise_for_status()
        cookie = session_cookie_name(secure=True)
        headers = {"Cookie": f"{cookie}={response.cookies[cookie]}"}
        client.cookies.clear()
        pages = await staff_crawl.crawl(client, headers)
    heaviest = max(pages, key=lambda page: page.gzipped)
    not_ok = [page for page in pages if page.status != 200]
    print("```")
    print(
        f"staff pages on the demo data, signed in as administrator: {len(pages)} pages "
        f"({len({staff_crawl.template(p.url) for p in pages})} kinds) reached from "
        f"{', '.join(staff_crawl.START)} within depth {staff_crawl.MAX_DEPTH}; "
        f"{len(not_ok)} not 200"
    )
    print(
        f"heaviest: {heaviest.url} — {heaviest.raw / 1024:.1f} KiB raw, "
        f"{heaviest.gzipped / 1024:.1f} KiB gzip; total {sum(p.raw for p in pages) / 2**20:.1f} "
        f"MiB raw"
    )
    for page in not_ok:
        print(f"not 200: {page.url} {page.status}")
    print("")
    print("\n".join(staff_crawl.table(pages)))
    print("```")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n", 1)[0]).parse_args()
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        asyncio.run(run(given))
        return
    base = Path(tempfile.mkdtemp(prefix="quartier-bench-"))
    base.chmod(0o755)
    cluster = PrivateCluster(base, fsync=False, database="postgres")
    try:
        asyncio.run(run(cluster.start()))
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
