"""Benchmark of the social areas: full Berlin import, then point lookups (service and HTTP).

    .venv/bin/python bench/areas_bench.py [--data ../shared/data/berlin-lor] [--points 500]

Starts a private PostgreSQL cluster in a temporary directory (or uses BENCH_DATABASE_URL, a
server where it may create and drop the database `quartier_bench_areas`), builds the schema by
the migrations, imports the four Berlin levels with the t2 population through the import
service, then looks up random points within Berlin's bounding box: first through the service
(the first pass fills the cache of prepared boundaries, the second is warm), then over HTTP
through the assembled app (in-process ASGI client). Prints median and p95 per pass.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from litestar.testing import AsyncTestClient

from quartier import migrations
from quartier.app import create_app
from quartier.areas import demo, geometry, services
from quartier.db import PrivateCluster, create_engine, session_scope
from quartier.settings import PROJECT_ROOT, load_settings

DATABASE = "quartier_bench_areas"
BERLIN_BBOX = (13.0884, 52.3383, 13.7612, 52.6755)  # west, south, east, north
SEED = 20201231


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _line(label: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"{label:<34} n={len(ms):<4} median {statistics.median(ms):7.2f} ms   "
        f"p95 {_percentile(ms, 0.95):7.2f} ms   max {max(ms):7.2f} ms"
    )


async def _recreate(server_url: str) -> str:
    parts = urlsplit(server_url.replace("+asyncpg", ""))
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    connection = await asyncpg.connect(
        host=query.get("host", parts.hostname or "localhost"),
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        database="postgres",
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await connection.close()
    return parts._replace(scheme="postgresql+asyncpg", path=f"/{DATABASE}").geturl()


async def run(data: Path, points: int, server_url: str) -> None:
    url = await _recreate(server_url)
    await asyncio.to_thread(migrations.upgrade, url)
    rng = random.Random(SEED)
    west, south, east, north = BERLIN_BBOX
    sample = [(rng.uniform(south, north), rng.uniform(west, east)) for _ in range(points)]

    engine = create_engine(url, pool_size=2, max_overflow=0)
    try:
        levels, population = demo.berlin_sources(data)
        started = time.perf_counter()
        async with session_scope(engine) as session:
            report = await services.import_areas(session, levels, population)
        import_seconds = time.perf_counter() - started
        print(
            f"import of the full Berlin LOR ({sum(lv.created for lv in report.levels)} areas, "
            f"{report.population.imported} population rows): {import_seconds:.2f} s"
        )
        started = time.perf_counter()
        async with session_scope(engine) as session:
            again = await services.import_areas(session, levels, population)
        print(
            f"re-import, nothing changed ({sum(lv.unchanged for lv in again.levels)} unchanged):"
            f" {time.perf_counter() - started:.2f} s"
        )

        geometry.PREPARED.clear()
        found = 0
        for label in ("service lookup, cold cache (1st)", "service lookup, warm cache (2nd)"):
            timings: list[float] = []
            async with session_scope(engine) as session:
                for lat, lon in sample:
                    started = time.perf_counter()
                    areas = await services.lookup_point(session, lat, lon)
                    timings.append(time.perf_counter() - started)
                    found += bool(areas)
            print(_line(label, timings))
        print(f"points inside Berlin: {found // 2} of {points}")
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
    async with AsyncTestClient(app, base_url="https://bench.local") as client:
        timings = []
        for lat, lon in sample:
            started = time.perf_counter()
            response = await client.get(
                "/api/v1/social-areas/lookup", params={"lat": lat, "lon": lon}
            )
            timings.append(time.perf_counter() - started)
            response.raise_for_status()
        print(_line("HTTP lookup (in-process ASGI)", timings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--data", type=Path, default=PROJECT_ROOT.parent / "shared" / "data" / "berlin-lor"
    )
    parser.add_argument("--points", type=int, default=500)
    args = parser.parse_args()
    if not (args.data / "planning-areas.geojson").exists():
        sys.exit(f"no Berlin LOR data in {args.data}")
    print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}")

    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        asyncio.run(run(args.data, args.points, given))
        return
    base = Path(tempfile.mkdtemp(prefix="quartier-bench-"))
    base.chmod(0o755)
    cluster = PrivateCluster(base, fsync=False, database="postgres")
    try:
        asyncio.run(run(args.data, args.points, cluster.start()))
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
