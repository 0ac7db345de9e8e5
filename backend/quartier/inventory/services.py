"""The services of organisations: recording, changing, ending, listing and presenting them.

Who may change which organisation's services is decided by the callers: planners and tokens
with `inventory:write` change any organisation's services (the controllers' access rule); an
organisation's staff change only their own through their round link (`rounds`), which passes
`organisation_id` so that a service of another organisation is not found.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import SocialArea
from quartier.core import i18n
from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound
from quartier.core.pagination import Page, keyset_page
from quartier.inventory import models as m
from quartier.inventory import schemas as s
from quartier.processes.models import Organisation
from quartier.surveys.aggregation import CategoryRef
from quartier.surveys.models import NeedCategory


def today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def active_condition(on: datetime.date | None = None) -> sa.ColumnElement[bool]:
    """Offered on `on` (default today): started and not ended."""
    day = on or today()
    return sa.and_(
        sa.or_(m.Service.starts_on.is_(None), m.Service.starts_on <= day),
        sa.or_(m.Service.ends_on.is_(None), m.Service.ends_on >= day),
    )


def is_active(service: m.Service, on: datetime.date | None = None) -> bool:
    day = on or today()
    return (service.starts_on is None or service.starts_on <= day) and (
        service.ends_on is None or service.ends_on >= day
    )


async def get_organisation(session: AsyncSession, organisation_id: UUID) -> Organisation:
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(f"No organisation {organisation_id}.")
    return organisation


# -- presenting ---------------------------------------------------------------------------------


async def present(session: AsyncSession, services: Sequence[m.Service]) -> list[s.ServiceOut]:
    """The services with their organisation, need categories and areas (three queries)."""
    if not services:
        return []
    ids = [service.id for service in services]
    organisations = {
        row.id: row.name
        for row in await session.execute(
            sa.select(Organisation.id, Organisation.name).where(
                Organisation.id.in_({service.organisation_id for service in services})
            )
        )
    }
    categories: dict[UUID, list[CategoryRef]] = {service_id: [] for service_id in ids}
    for service_id, key, label in await session.execute(
        sa.select(m.service_need_categories.c.service_id, NeedCategory.key, NeedCategory.label)
        .join(NeedCategory, NeedCategory.id == m.service_need_categories.c.need_category_id)
        .where(m.service_need_categories.c.service_id.in_(ids))
        .order_by(NeedCategory.position, NeedCategory.key)
    ):
        categories[service_id].append(CategoryRef(key=key, label=i18n.pick(label)))
    areas: dict[UUID, list[s.AreaRef]] = {service_id: [] for service_id in ids}
    for service_id, code, name in await session.execute(
        sa.select(m.service_areas.c.service_id, SocialArea.code, SocialArea.name)
        .join(SocialArea, SocialArea.id == m.service_areas.c.area_id)
        .where(m.service_areas.c.service_id.in_(ids))
        .order_by(SocialArea.code)
    ):
        areas[service_id].append(s.AreaRef(code=code, name=name))
    day = today()
    return [
        s.ServiceOut(
            id=service.id,
            organisation=s.OrganisationRef(
                id=service.organisation_id, name=organisations[service.organisation_id]
            ),
            name=service.name,
            description=service.description,
            need_categories=categories[service.id],
            target_groups=list(service.target_groups),
            areas=areas[service.id],
            capacity=service.capacity,
            capacity_unit=service.capacity_unit,
            opening_hours=service.opening_hours,
            accessibility=service.accessibility,
            address=service.address,
            contact_email=service.contact_email,
            contact_phone=service.contact_phone,
            website=service.website,
            starts_on=service.starts_on,
            ends_on=service.ends_on,
            active=is_active(service, day),
            confirmed_at=service.confirmed_at,
            created_at=service.created_at,
            updated_at=service.updated_at,
        )
        for service in services
    ]


# -- reading ------------------------------------------------------------------------------------


def _serving(area: SocialArea) -> sa.ColumnElement[bool]:
    """Services serving `area`, an area containing it, or a part of it."""
    served = (
        sa.select(m.service_areas.c.service_id)
        .join(SocialArea, SocialArea.id == m.service_areas.c.area_id)
        .where(
            sa.or_(
                SocialArea.id.in_(list(area.path)),
                SocialArea.path.contains([area.id]),
            )
        )
    )
    return m.Service.id.in_(served)


async def area_by_code(session: AsyncSession, code: str, field: str = "area") -> SocialArea:
    area = await session.scalar(sa.select(SocialArea).where(SocialArea.code == code))
    if area is None:
        raise InvalidInput(
            f"There is no social area {code!r}.",
            errors=[FieldError(field=field, source="query", message="unknown area")],
        )
    return area


async def _category_id(session: AsyncSession, key: str, field: str = "need") -> UUID:
    found = await session.scalar(sa.select(NeedCategory.id).where(NeedCategory.key == key))
    if found is None:
        raise InvalidInput(
            f"There is no need category {key!r}.",
            errors=[FieldError(field=field, source="query", message="unknown need category")],
        )
    return found


async def list_services(
    session: AsyncSession,
    *,
    area_code: str | None = None,
    need: str | None = None,
    organisation_id: UUID | None = None,
    include_ended: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[s.ServiceOut]:
    statement = sa.select(m.Service)
    if not include_ended:
        statement = statement.where(active_condition())
    if organisation_id is not None:
        statement = statement.where(m.Service.organisation_id == organisation_id)
    if area_code is not None:
        statement = statement.where(_serving(await area_by_code(session, area_code)))
    if need is not None:
        category_id = await _category_id(session, need)
        statement = statement.where(
            m.Service.id.in_(
                sa.select(m.service_need_categories.c.service_id).where(
                    m.service_need_categories.c.need_category_id == category_id
                )
            )
        )
    rows, next_cursor = await keyset_page(
        session, statement, [m.Service.name, m.Service.id], limit=limit, cursor=cursor
    )
    return Page(items=await present(session, rows), next_cursor=next_cursor)


async def organisation_services(
    session: AsyncSession, organisation_id: UUID, *, include_ended: bool = True
) -> list[s.ServiceOut]:
    statement = sa.select(m.Service).where(m.Service.organisation_id == organisation_id)
    if not include_ended:
        statement = statement.where(active_condition())
    rows = (await session.scalars(statement.order_by(m.Service.name, m.Service.id))).all()
    return await present(session, rows)


async def _load(
    session: AsyncSession, service_id: UUID, organisation_id: UUID | None = None
) -> m.Service:
    service = await session.get(m.Service, service_id, with_for_update=True)
    # A service of another organisation is not found (its staff see only their own).
    if service is None or (
        organisation_id is not None and service.organisation_id != organisation_id
    ):
        raise NotFound(f"No service {service_id}.")
    return service


async def get_service(
    session: AsyncSession, service_id: UUID, organisation_id: UUID | None = None
) -> s.ServiceOut:
    service = await session.get(m.Service, service_id)
    if service is None or (
        organisation_id is not None and service.organisation_id != organisation_id
    ):
        raise NotFound(f"No service {service_id}.")
    return (await present(session, [service]))[0]


# -- writing ------------------------------------------------------------------------------------


async def _references(session: AsyncSession, data: s.ServiceIn) -> tuple[list[UUID], list[UUID]]:
    """The ids of the need categories and areas, or 422 naming each unknown one."""
    errors: list[FieldError] = []
    categories = dict(
        (
            await session.execute(
                sa.select(NeedCategory.key, NeedCategory.id).where(
                    NeedCategory.key.in_(data.need_categories)
                )
            )
        )
        .tuples()
        .all()
    )
    for index, key in enumerate(data.need_categories):
        if key not in categories:
            errors.append(
                FieldError(
                    field=f"need_categories[{index}]",
                    source="body",
                    message=f"unknown need category {key!r}",
                )
            )
    areas = dict(
        (
            await session.execute(
                sa.select(SocialArea.code, SocialArea.id).where(
                    SocialArea.code.in_(data.area_codes)
                )
            )
        )
        .tuples()
        .all()
    )
    for index, code in enumerate(data.area_codes):
        if code not in areas:
            errors.append(
                FieldError(
                    field=f"area_codes[{index}]", source="body", message=f"unknown area {code!r}"
                )
            )
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        errors.append(
            FieldError(field="ends_on", source="body", message="must not be before starts_on")
        )
    if errors:
        raise InvalidInput("The service refers to what does not exist.", errors=errors)
    return list(dict.fromkeys(categories[k] for k in data.need_categories)), list(
        dict.fromkeys(areas[c] for c in data.area_codes)
    )


def _fields(data: s.ServiceIn) -> dict[str, Any]:
    return {
        "name": data.name.strip(),
        "description": data.description,
        "target_groups": list(dict.fromkeys(data.target_groups)),
        "capacity": data.capacity,
        "capacity_unit": data.capacity_unit,
        "opening_hours": data.opening_hours,
        "accessibility": data.accessibility,
        "address": data.address,
        "contact_email": data.contact_email,
        "contact_phone": data.contact_phone,
        "website": data.website,
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
    }


async def _link(
    session: AsyncSession, service_id: UUID, categories: list[UUID], areas: list[UUID]
) -> None:
    for table in (m.service_need_categories, m.service_areas):
        await session.execute(sa.delete(table).where(table.c.service_id == service_id))
    await session.execute(
        sa.insert(m.service_need_categories),
        [{"service_id": service_id, "need_category_id": c} for c in categories],
    )
    await session.execute(
        sa.insert(m.service_areas), [{"service_id": service_id, "area_id": a} for a in areas]
    )


async def create_service(
    session: AsyncSession, organisation_id: UUID, data: s.ServiceIn
) -> s.ServiceOut:
    organisation = await get_organisation(session, organisation_id)
    if not organisation.is_active:
        raise InvalidInput(
            "The organisation is deactivated and records no new services.",
            errors=[FieldError(field="organisation_id", source="path", message="deactivated")],
        )
    categories, areas = await _references(session, data)
    service = m.Service(organisation_id=organisation_id, **_fields(data))
    session.add(service)
    await session.flush()
    await _link(session, service.id, categories, areas)
    return (await present(session, [service]))[0]


async def update_service(
    session: AsyncSession,
    service_id: UUID,
    data: s.ServiceIn,
    *,
    organisation_id: UUID | None = None,
) -> s.ServiceOut:
    service = await _load(session, service_id, organisation_id)
    categories, areas = await _references(session, data)
    for key, value in _fields(data).items():
        setattr(service, key, value)
    service.confirmed_at = datetime.datetime.now(datetime.UTC)
    await session.flush()
    await _link(session, service.id, categories, areas)
    return (await present(session, [service]))[0]


async def end_service(
    session: AsyncSession,
    service_id: UUID,
    ends_on: datetime.date,
    *,
    organisation_id: UUID | None = None,
) -> s.ServiceOut:
    """End a service: it stays recorded (history) and no longer counts from the day after."""
    service = await _load(session, service_id, organisation_id)
    if service.ends_on is not None and service.ends_on < today():
        raise Conflict(f"The service ended on {service.ends_on.isoformat()}.")
    if service.starts_on is not None and ends_on < service.starts_on:
        raise InvalidInput(
            "A service cannot end before it starts.",
            errors=[
                FieldError(field="ends_on", source="body", message="must not be before starts_on")
            ],
        )
    service.ends_on = ends_on
    await session.flush()
    return (await present(session, [service]))[0]


async def confirm_services(session: AsyncSession, organisation_id: UUID) -> int:
    """Mark every active service of the organisation as confirmed now; how many."""
    result = await session.execute(
        sa.update(m.Service)
        .where(m.Service.organisation_id == organisation_id, active_condition())
        .values(confirmed_at=datetime.datetime.now(datetime.UTC))
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def need_category_options(session: AsyncSession) -> list[tuple[str, str]]:
    rows = await session.execute(
        sa.select(NeedCategory.key, NeedCategory.label)
        .where(NeedCategory.is_active)
        .order_by(NeedCategory.position, NeedCategory.key)
    )
    return [(key, i18n.pick(label)) for key, label in rows]
