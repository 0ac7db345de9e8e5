"""Demo data of the social areas: the compact copy of Berlin's LOR in data/berlin-lor, imported
through the same service as any import, once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import importer, services
from quartier.areas.models import SocialArea
from quartier.areas.schemas import Provenance
from quartier.settings import DEFAULT_AREA_DATA_ATTRIBUTION

DATA = Path(__file__).resolve().parent / "data" / "berlin-lor"
# Berlin's levels from the top: key, German name, English name, file.
BERLIN_LEVELS = (
    ("district", "Bezirk", "District", "districts.geojson"),
    ("forecast_area", "Prognoseraum", "Forecast area", "forecast-areas.geojson"),
    ("district_region", "Bezirksregion", "District region", "district-regions.geojson"),
    ("planning_area", "Planungsraum", "Planning area", "planning-areas.geojson"),
)
BERLIN_POPULATION = ("population-2020-12-t2-planning-areas.csv",)
# As data/berlin-lor/README.md states it (CC BY 4.0: every copy and export keeps it).
BERLIN_PROVENANCE = Provenance(
    source="Geoportal Berlin (boundaries), Amt für Statistik Berlin-Brandenburg (population), "
    "prepared by open-data-product / open-lifeworlds „Berlin LOR“",
    licence="CC BY 4.0",
    attribution=DEFAULT_AREA_DATA_ATTRIBUTION,
)


def berlin_sources(
    directory: Path = DATA, population: tuple[str, ...] = BERLIN_POPULATION
) -> tuple[list[importer.LevelSource], list[importer.PopulationSource]]:
    """Berlin's four levels and population tables from a directory laid out like data/."""
    levels = [
        importer.level_from_file(key, directory / file, name_de=de, name_en=en)
        for key, de, en, file in BERLIN_LEVELS
    ]
    tables = [importer.population_from_file(directory / name) for name in population]
    return levels, tables


async def load(session: AsyncSession) -> str:
    present = await session.scalar(select(func.count(SocialArea.id)))
    if present:
        return f"social areas: {present} already present, Berlin demo not imported"
    levels, population = berlin_sources()
    report = await services.import_areas(session, levels, population, provenance=BERLIN_PROVENANCE)
    counts = " / ".join(f"{level.created} {level.key}" for level in report.levels)
    return (
        f"social areas: Berlin LOR imported ({counts}; "
        f"{report.population.inhabitants_imported:,} inhabitants; {report.warnings} warnings)"
    )
