"""Demo indicators: the share of residents under 18 and aged 65 and over per Berlin planning
area on 31 Dec 2020, derived from the population table shipped with the areas' demo data
(Amt für Statistik Berlin-Brandenburg, CC BY 4.0) and kept as statistics-office CSV files in
data/ (`python -m quartier.indicators.demo` rebuilds them). Imported through the same service
as any import, once."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.demo import DATA as AREAS_DATA
from quartier.indicators import schemas as s
from quartier.indicators import services
from quartier.indicators.models import Indicator
from quartier.surveys.models import NeedCategory

DATA = Path(__file__).resolve().parent / "data"
SOURCE = (
    "Amt für Statistik Berlin-Brandenburg, Einwohnerregisterstatistik 31.12.2020, "
    "via open-data-product / open-lifeworlds Berlin LOR"
)
LICENCE = "CC BY 4.0"
REFERENCE_DATE = "31.12.2020"
UNDER_18 = ("inhabitants_age_below_6", "inhabitants_age_6_15", "inhabitants_age_15_18")
DEMO = (
    (
        s.IndicatorIn(
            key="share_under_18",
            name_de="Anteil der Einwohner unter 18 Jahren",
            name_en="Share of residents under 18",
            unit="%",
            direction="neutral",
            aggregation="ratio",
            scale=100.0,
            decimals=1,
            source=SOURCE,
            licence=LICENCE,
        ),
        "berlin-share-under-18-2020.csv",
        UNDER_18,
        ("childcare", "youth_work", "school_success"),
    ),
    (
        s.IndicatorIn(
            key="share_65_plus",
            name_de="Anteil der Einwohner ab 65 Jahren",
            name_en="Share of residents aged 65 and over",
            unit="%",
            direction="neutral",
            aggregation="ratio",
            scale=100.0,
            decimals=1,
            source=SOURCE,
            licence=LICENCE,
        ),
        "berlin-share-65-plus-2020.csv",
        ("inhabitants_age_above_65",),
        ("elderly_care", "barrier_free"),
    ),
)


def derive(target: Path = DATA) -> None:
    """Write the CSV files in the format documented for statistics offices (docs/INDICATORS.md):
    `;`-separated, decimal commas, codes with leading zeros, UTF-8."""
    geojson = json.loads((AREAS_DATA / "planning-areas.geojson").read_text(encoding="utf-8"))
    with_boundary = {feature["properties"]["id"] for feature in geojson["features"]}
    with (AREAS_DATA / "population-2020-12-t2-planning-areas.csv").open(encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f) if row["id"] in with_boundary]
    target.mkdir(parents=True, exist_ok=True)
    for definition, name, columns, _needs in DEMO:
        lines = ["Schlüssel;Stichtag;Wert;Zähler;Nenner"]
        seen: set[str] = set()
        for row in rows:
            total = int(row["inhabitants"])
            if row["id"] in seen or total == 0:
                continue
            seen.add(row["id"])
            part = sum(int(row[c]) for c in columns)
            share = f"{part / total * definition.scale:.1f}".replace(".", ",")
            lines.append(f"{row['id']};{REFERENCE_DATE};{share};{part};{total}")
        (target / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


async def load(session: AsyncSession) -> str:
    if await session.scalar(select(func.count(Indicator.id))):
        return "indicators: already present, demo not imported"
    counts: list[str] = []
    for definition, name, _columns, needs in DEMO:
        await services.import_indicator(session, definition, [])
        result = await services.import_csv(
            session, definition.key, (DATA / name).read_bytes(), None
        )
        # The need category list is the deployment's: link only those it has.
        known = await session.scalars(select(NeedCategory.key).where(NeedCategory.key.in_(needs)))
        for need in known.all():
            await services.link_need(session, definition.key, need)
        counts.append(f"{result.values_created} {definition.key}")
    return "indicators: " + ", ".join(counts) + " (Berlin planning areas, 2020)"


if __name__ == "__main__":
    derive()
