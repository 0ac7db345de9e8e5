"""`quartier import-indicator`: import an indicator (JSON, or a definition plus a statistics
office's CSV file) in one transaction, all or nothing."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import click
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from quartier import migrations
from quartier.core.errors import Problem
from quartier.indicators import schemas as s
from quartier.indicators import services
from quartier.runtime import database, run_in_session
from quartier.settings import SettingsError, load_settings


@click.command("import-indicator")
@click.option(
    "--json",
    "json_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An ImportIndicator body: {indicator: {...}, values: [...]} (see docs/INDICATORS.md).",
)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Values as a statistics office's CSV (UTF-8 or Windows-1252, ';', decimal commas).",
)
@click.option("--key", help="The indicator the CSV belongs to (defined by --json or before).")
@click.option(
    "--reference-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Reference date for a CSV without a date column.",
)
def import_indicator(
    json_file: Path | None,
    csv_file: Path | None,
    key: str | None,
    reference_date: datetime.datetime | None,
) -> None:
    """Import an indicator definition and values; print the result. Exits 1 when the import
    is refused (nothing changes), 2 on unreadable input."""
    if json_file is None and csv_file is None:
        raise click.UsageError("give --json, --csv, or both")
    try:
        settings = load_settings()
    except SettingsError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    body: s.IndicatorImport | None = None
    if json_file is not None:
        try:
            body = msgspec.json.decode(json_file.read_bytes(), type=s.IndicatorImport)
        except msgspec.ValidationError as error:
            click.echo(f"error: {json_file}: {error}", err=True)
            sys.exit(2)
        except msgspec.DecodeError as error:
            click.echo(f"error: {json_file} is not JSON ({error})", err=True)
            sys.exit(2)
    csv_key = key or (body.indicator.key if body else None)
    if csv_file is not None and csv_key is None:
        raise click.UsageError("--csv needs --key or --json")
    csv_bytes = csv_file.read_bytes() if csv_file is not None else None

    async def work(session: AsyncSession) -> list[s.ImportResult]:
        results = []
        if body is not None:
            results.append(await services.import_indicator(session, body.indicator, body.values))
        if csv_bytes is not None and csv_key is not None:
            day = reference_date.date() if reference_date else None
            results.append(await services.import_csv(session, csv_key, csv_bytes, day))
        return results

    with database(settings) as url:
        if not settings.database_url:
            migrations.upgrade(url)
        try:
            results = run_in_session(url, work)
        except Problem as problem:
            click.echo(f"error: {problem.detail}", err=True)
            for item in problem.errors or []:
                click.echo(f"  {item.field}: {item.message}", err=True)
            sys.exit(1)
    for result in results:
        click.echo(
            f"{result.indicator.key}: {result.values_created} values created, "
            f"{result.values_updated} updated"
        )
        for warning in result.warnings:
            click.echo(f"  warning: {warning}")


COMMANDS: list[click.Command] = [import_indicator]
