"""`quartier import-areas`: import social areas (GeoJSON per level) and population (CSV)."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import click
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from quartier import migrations
from quartier.areas import importer, services
from quartier.areas.schemas import ImportReport, Provenance
from quartier.core.errors import InvalidInput
from quartier.runtime import database, run_in_session
from quartier.settings import SettingsError, load_settings


def _parse_level(spec: str, options: dict[str, str | None]) -> importer.LevelSource:
    """`KEY[:NAME_DE[:NAME_EN]]=PATH`."""
    head, separator, path = spec.partition("=")
    if not separator or not path:
        raise click.BadParameter(f"{spec!r}: expected KEY[:NAME_DE[:NAME_EN]]=PATH")
    key, *names = head.split(":")
    if len(names) > 2:
        raise click.BadParameter(f"{spec!r}: at most two names (German, English)")
    return importer.level_from_file(
        key.strip(),
        Path(path),
        name_de=names[0].strip() if names else None,
        name_en=names[1].strip() if len(names) > 1 else None,
        **options,
    )


def _parse_successors(specs: tuple[str, ...]) -> dict[str, list[str]]:
    """`OLD=NEW[,NEW…]` each → {old: [new, …]}."""
    successors: dict[str, list[str]] = {}
    for spec in specs:
        old, separator, new = spec.partition("=")
        codes = [code.strip() for code in new.split(",") if code.strip()]
        if not separator or not old.strip() or not codes:
            raise click.BadParameter(f"{spec!r}: expected OLD=NEW[,NEW…]", param_hint="--successor")
        if old.strip() in successors:
            raise click.BadParameter(f"{old.strip()} is named twice", param_hint="--successor")
        successors[old.strip()] = codes
    return successors


def format_report(report: ImportReport) -> list[str]:
    lines = [
        f"{level.key} (depth {level.depth}): {level.features} features, {level.created} "
        f"created, {level.updated} updated, {level.unchanged} unchanged, {level.retired} "
        f"retired, {level.skipped} skipped"
        for level in report.levels
    ]
    population = report.population
    if population.rows:
        dates = ", ".join(d.isoformat() for d in population.reference_dates)
        lines.append(
            f"population ({dates}): {population.rows} rows, {population.imported} imported, "
            f"{population.skipped} skipped; {population.inhabitants_read:,} inhabitants read, "
            f"{population.inhabitants_imported:,} imported"
        )
    for change in report.changes:
        if change.field == "boundary":
            what = "new boundary"
        else:
            what = f"{change.field} {change.before or '(none)'} → {change.after or '(none)'}"
        lines.append(
            f"changed: {change.level} {change.code}: {what} from {change.valid_from.isoformat()}"
        )
    for row in report.rows:
        where = row.source
        if row.feature is not None:
            where += f" feature {row.feature}"
        if row.line is not None:
            where += f" line {row.line}"
        code = f" [{row.code}]" if row.code else ""
        severity = "warning (confirm)" if row.needs_confirmation else row.severity
        lines.append(f"{severity}: {where}{code}: {row.message}")
    if report.rows_omitted:
        lines.append(f"… and {report.rows_omitted} more")
    verdict = "import done" if report.ok else "import failed, nothing changed"
    confirm = f" ({report.needs_confirmation} to confirm)" if report.needs_confirmation else ""
    lines.append(f"{verdict}: {report.errors} error(s), {report.warnings} warning(s){confirm}")
    return lines


@click.command("import-areas")
@click.option(
    "--level",
    "levels",
    multiple=True,
    metavar="KEY[:NAME_DE[:NAME_EN]]=PATH",
    help="A GeoJSON FeatureCollection of one level; repeat from the top level down, e.g. "
    "--level district:Bezirk:District=districts.geojson.",
)
@click.option(
    "--population",
    "population",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Population CSV keyed by area code (Berlin's t1/t2 columns); repeatable.",
)
@click.option(
    "--reference-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Reference date of the population (default: from the file name, e.g. 2020-12 → "
    "2020-12-31).",
)
@click.option("--code-property", default="id", show_default=True)
@click.option("--name-property", default="name", show_default=True)
@click.option(
    "--parent-property", default=None, help="Property with the parent's code (default: prefix)."
)
@click.option("--area-property", default="area", show_default=True)
@click.option("--crs", default=None, help="CRS of files that declare none, e.g. EPSG:25833.")
@click.option("--population-code-column", default="id", show_default=True)
@click.option(
    "--population-encoding",
    type=click.Choice(["auto", *importer.ENCODINGS]),
    default="auto",
    show_default=True,
    help="Encoding of the population CSVs; auto: UTF-8, or Windows-1252 when the bytes are not "
    "UTF-8.",
)
@click.option(
    "--under",
    "parent_level",
    default=None,
    metavar="LEVEL",
    help="Import the levels below the stored areas of this level (one level on its own). "
    "Without it, a first level that is stored keeps its depth.",
)
@click.option(
    "--accept-warnings",
    is_flag=True,
    default=False,
    help="Confirm the plausibility warnings (marked 'warning (confirm)' in the report); "
    "without it an import with such warnings changes nothing.",
)
@click.option(
    "--valid-from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date the import's changes take effect (default today): changed boundaries become "
    "new versions from it, retired areas end the day before, new areas start on it.",
)
@click.option(
    "--retire-missing",
    is_flag=True,
    default=False,
    help="Retire the stored areas of the imported levels that the files do not contain, as "
    "of --valid-from. Without it (or --successor) such areas are a warning to confirm.",
)
@click.option(
    "--successor",
    "successors",
    multiple=True,
    metavar="OLD=NEW[,NEW…]",
    help="Retire area OLD (missing from the files) as of --valid-from and record the areas "
    "that take its place, e.g. a renumbered area: --successor 01011101=01011105. Repeatable.",
)
@click.option("--source", default=None, help="Provenance: publisher/address of the data.")
@click.option("--licence", default=None, help="Provenance: the licence, e.g. 'CC BY 4.0'.")
@click.option(
    "--attribution",
    default=None,
    help="Provenance: the attribution the licence requires; recorded on the imported levels "
    "and repeated by their exports. --source, --licence and --attribution go together.",
)
def import_areas(
    levels: tuple[str, ...],
    population: tuple[Path, ...],
    reference_date: datetime.datetime | None,
    code_property: str,
    name_property: str,
    parent_property: str | None,
    area_property: str,
    crs: str | None,
    population_code_column: str,
    population_encoding: str,
    parent_level: str | None,
    accept_warnings: bool,
    valid_from: datetime.datetime | None,
    retire_missing: bool,
    successors: tuple[str, ...],
    source: str | None,
    licence: str | None,
    attribution: str | None,
) -> None:
    """Import social areas and population in one transaction; print the report. Exits 1 when
    the import fails or has warnings to confirm without --accept-warnings (and changes
    nothing), 2 on unreadable input."""
    if not levels and not population:
        raise click.UsageError("give at least one --level or --population")
    provenance = None
    given = [value for value in (source, licence, attribution) if value is not None]
    if given:
        if len(given) < 3:
            raise click.UsageError("--source, --licence and --attribution go together")
        try:
            provenance = msgspec.convert(
                {"source": source, "licence": licence, "attribution": attribution}, Provenance
            )
        except msgspec.ValidationError as error:
            raise click.UsageError(f"provenance: {error}") from error
    validity = services.Validity(
        valid_from=valid_from.date() if valid_from else None,
        retire_missing=retire_missing,
        successors=_parse_successors(successors),
    )
    try:
        settings = load_settings()
    except SettingsError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    options: dict[str, str | None] = {
        "code_property": code_property,
        "name_property": name_property,
        "parent_property": parent_property,
        "area_property": area_property or None,
        "crs": crs,
    }
    try:
        level_sources = [_parse_level(spec, options) for spec in levels]
        tables = [
            importer.population_from_file(
                path,
                reference_date.date() if reference_date else None,
                population_code_column,
                None if population_encoding == "auto" else population_encoding,
            )
            for path in population
        ]
    except importer.SourceError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)

    async def work(session: AsyncSession) -> ImportReport:
        return await services.import_areas(
            session,
            level_sources,
            tables,
            parent_level=parent_level,
            confirm_warnings=accept_warnings,
            validity=validity,
            provenance=provenance,
        )

    with database(settings) as url:
        if not settings.database_url:
            migrations.upgrade(url)
        try:
            report = run_in_session(url, work)
        except services.ImportNeedsConfirmation as unconfirmed:
            click.echo("\n".join(format_report(unconfirmed.report)), err=True)
            click.echo(
                "check the warnings marked 'warning (confirm)'; run again with "
                "--accept-warnings to import anyway",
                err=True,
            )
            sys.exit(1)
        except services.ImportFailed as failed:
            click.echo("\n".join(format_report(failed.report)), err=True)
            sys.exit(1)
        except InvalidInput as invalid:
            click.echo(f"error: {invalid.detail}", err=True)
            sys.exit(2)
    click.echo("\n".join(format_report(report)))


COMMANDS: list[click.Command] = [import_areas]
