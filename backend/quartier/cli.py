"""The `quartier` command: serve, migrate, demo, create-admin, create-token, import-areas."""

from __future__ import annotations

import os
import sys

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
def serve(
    host: str | None, port: int | None, workers: int, apply_migrations: bool, demo: bool
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


def _register_domain_commands() -> None:
    from quartier.accounts.cli import COMMANDS as accounts
    from quartier.areas.cli import COMMANDS as areas

    for command in [*accounts, *areas]:
        main.add_command(command)


_register_domain_commands()


if __name__ == "__main__":
    main()
