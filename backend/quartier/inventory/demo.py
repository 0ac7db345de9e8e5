"""Demo services of the welfare organisations (the providers' inventory): what already exists in
the demo processes' areas, so the supply beside the needs is not empty on a fresh `make run`.
Fictitious services of real organisation types; no person's data."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import SocialArea
from quartier.inventory import schemas as s
from quartier.inventory import services
from quartier.inventory.models import Service
from quartier.processes.models import Organisation

# (organisation short name, the service as it would record it)
SERVICES: list[tuple[str, s.ServiceIn]] = [
    (
        "DRK",
        s.ServiceIn(
            name="Seniorentreff am Richardplatz",
            description="Offener Treff mit Mittagstisch, Beratung zu Pflege und Alltagshilfen.",
            need_categories=["belonging", "elderly_care"],
            target_groups=["older_people"],
            area_codes=["080101", "080103"],
            capacity=40,
            capacity_unit="Plätze",
            opening_hours="Mo–Fr 10–16 Uhr",
            accessibility="Stufenloser Zugang, barrierefreies WC",
            address="Richardplatz 1, 12055 Berlin",
            contact_email="seniorentreff@example.org",
        ),
    ),
    (
        "Caritas",
        s.ServiceIn(
            name="Alltagsbegleitung zu Hause",
            description="Ehrenamtliche begleiten allein lebende Ältere zu Einkauf und Arzt.",
            need_categories=["everyday_support"],
            target_groups=["older_people"],
            area_codes=["080101", "080103", "080104"],
            capacity=25,
            capacity_unit="Begleitungen pro Woche",
            opening_hours="Nach Vereinbarung",
            contact_phone="030 000000",
        ),
    ),
    (
        "AWO",
        s.ServiceIn(
            name="Familienzentrum Brunnenviertel",
            description="Eltern-Kind-Gruppen, Beratung zu Kita und Schule, Sprachcafé.",
            need_categories=["childcare", "school_success", "belonging"],
            target_groups=["young_children", "school_children"],
            area_codes=["010221", "010222"],
            capacity=60,
            capacity_unit="Familien",
            opening_hours="Mo–Do 9–17 Uhr",
            accessibility="Aufzug",
            website="https://example.org/familienzentrum",
        ),
    ),
    (
        "Diakonie",
        s.ServiceIn(
            name="Schuldner- und Sozialberatung Mitte",
            description="Offene Sprechstunde und Termine zu Schulden, Anträgen und Wohnen.",
            need_categories=["money_and_debt", "housing"],
            target_groups=["working_age", "older_people"],
            area_codes=["01"],
            opening_hours="Di und Do 9–13 Uhr",
        ),
    ),
]


async def load(session: AsyncSession) -> str:
    if await session.scalar(sa.select(sa.func.count()).select_from(Service)):
        return "inventory: demo skipped (services exist)"
    known = set((await session.scalars(sa.select(SocialArea.code))).all())
    added = 0
    for short_name, data in SERVICES:
        organisation = await session.scalar(
            sa.select(Organisation.id).where(Organisation.short_name == short_name).limit(1)
        )
        areas = [code for code in data.area_codes if code in known]
        if organisation is None or not areas:
            continue
        data.area_codes = areas
        await services.create_service(session, organisation, data)
        added += 1
    return f"inventory: {added} services of welfare organisations"
