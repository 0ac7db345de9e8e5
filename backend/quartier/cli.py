"""The `quartier` command: serve, migrate, demo, create-admin, create-token, import-areas,
purge."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import click

from quartier import migrations
from quartier.runtime import database, run_in_session
from quartier.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        click.echo(str(error), err=True)
        sys.exit(2)


@click.group()
def main() -> None:
    """Quartier: participation in municipal social planning."""


@main.command()
@click.option("--host", default=None, help="Interface to bind (default QUARTIER_HOST).")
@click.option("--port", type=int, default=None, help="Port (default QUARTIER_PORT).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option(
    "--migrate/--no-migrate",
    "apply_migrations",
    default=False,
    help="Apply pending migrations before serving.",
)
@click.option("--demo/--no-demo", default=False, help="Load the demo data if not loaded yet.")
@click.option(
    "--with-worker/--without-worker",
    default=False,
    help="Also run `quartier worker` beside the app (stopped with it).",
)
def serve(
    host: str | None,
    port: int | None,
    workers: int,
    apply_migrations: bool,
    demo: bool,
    with_worker: bool,
) -> None:
    """Serve the application (starting the private PostgreSQL when DATABASE_URL is unset)."""
    import uvicorn

    settings = _settings()
    with database(settings) as url:
        if apply_migrations or not settings.database_url:
            migrations.upgrade(url)
        if demo:
            from quartier.demo import load_demo

            click.echo(run_in_session(url, load_demo))
        os.environ["DATABASE_URL"] = url
        click.echo(f"Quartier on http://{host or settings.host}:{port or settings.port}")
        background = _start_worker() if with_worker else None
        try:
            _serve(uvicorn, settings, host, port, workers)
        finally:
            if background is not None:
                background.terminate()
                background.wait(timeout=70)


def _start_worker() -> subprocess.Popen[bytes]:
    """The job worker as a child process, on the database the app uses (DATABASE_URL)."""
    return subprocess.Popen([sys.executable, "-m", "quartier.cli", "worker"])


def _serve(
    uvicorn: Any, settings: Settings, host: str | None, port: int | None, workers: int
) -> None:
    uvicorn.run(
        "quartier.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=False,
        server_header=False,
        date_header=True,
        log_config=None,
        access_log=False,
    )


@main.command()
@click.option("--revision", default="head", show_default=True)
def migrate(revision: str) -> None:
    """Apply the database migrations up to REVISION."""
    with database(_settings()) as url:
        migrations.upgrade(url, revision)
    click.echo(f"migrated to {revision}")


@main.command()
def demo() -> None:
    """Load the demo data (Berlin's social areas, example processes) unless already loaded."""
    from quartier.demo import load_demo

    with database(_settings()) as url:
        migrations.upgrade(url)
        click.echo(run_in_session(url, load_demo))


@main.command()
@click.option("--output", type=click.Path(dir_okay=False), default="-", show_default=True)
def openapi(output: str) -> None:
    """Write the OpenAPI document the app serves (for openapi/openapi.json)."""
    from pathlib import Path

    from quartier.app import create_app
    from quartier.core.ops import contract_bytes

    # Building the document needs no database connection; the URL is never dialled.
    app = create_app(_settings(), database_url="postgresql+asyncpg://unused@localhost/unused")
    document = contract_bytes(app)
    if output == "-":
        sys.stdout.buffer.write(document)
    else:
        Path(output).write_bytes(document)
        click.echo(f"wrote {output}", err=True)


def load_job_handlers() -> None:
    """Import every module that registers job handlers (`@job`) or periodic jobs: the one
    place the worker learns what it can run. Add a module here when it defines jobs."""
    import quartier.jobs.mail
    import quartier.jobs.purge
    import quartier.reports.published
    import quartier.surveys.retention
    import quartier.webhooks.delivery  # noqa: F401


@main.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 100),
    default=None,
    help="Jobs run at once (default QUARTIER_WORKER_CONCURRENCY).",
)
def worker(concurrency: int | None) -> None:
    """Run background jobs (mail, webhooks, periodic purges) until SIGTERM or SIGINT."""
    import asyncio
    import signal

    from quartier.core import i18n
    from quartier.core.logging import configure_logging
    from quartier.db import create_engine
    from quartier.jobs.worker import Worker

    settings = _settings()
    configure_logging(settings)
    i18n.configure_languages(settings.languages)  # jobs write in the languages the app offers
    load_job_handlers()
    with database(settings, keep_running=True) as url:

        async def run() -> None:
            engine = create_engine(url, pool_size=(concurrency or settings.worker_concurrency) + 2)
            runner = Worker(
                engine, settings, concurrency=concurrency or settings.worker_concurrency
            )
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, runner.stop)
            try:
                await runner.run()
            finally:
                await engine.dispose()

        click.echo("Quartier worker running (SIGTERM to stop after the jobs in flight)")
        asyncio.run(run())


def _register_domain_commands() -> None:
    from quartier.accounts.cli import COMMANDS as accounts
    from quartier.areas.cli import COMMANDS as areas
    from quartier.indicators.cli import COMMANDS as indicators
    from quartier.surveys.retention import COMMANDS as retention

    for command in [*accounts, *areas, *retention, *indicators]:
        main.add_command(command)


_register_domain_commands()


if __name__ == "__main__":
    main()
