"""Inventory rounds (the providers' survey of a process): planners ask organisations to confirm
or update their services by a date; each organisation answers through its private link, and
progress (confirmed / updated / not yet) is kept per organisation.

The link is `/inventory/respond/{request id}/{token}`, the token an HMAC of the request id under
the deployment's secret (purpose-bound): nothing secret is stored, planners can hand the link
to an organisation without a contact address, and it works without an account. The request is
mailed (a job, sent only if the round's transaction commits) to the organisation's public
contact address — the contact address of its services.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound
from quartier.inventory import models as m
from quartier.inventory import schemas as s
from quartier.inventory.services import active_condition, confirm_services, today
from quartier.jobs.mail import send_mail
from quartier.processes.models import Organisation, OrganisationType, PlanningProcess
from quartier.settings import Settings

LINK_PURPOSE = b"inventory-round-request:"


def response_token(settings: Settings, request_id: UUID) -> str:
    digest = hmac.new(
        settings.secret_key.encode(), LINK_PURPOSE + str(request_id).encode(), hashlib.sha256
    )
    return digest.hexdigest()[:40]


def response_path(settings: Settings, request_id: UUID) -> str:
    return f"/inventory/respond/{request_id}/{response_token(settings, request_id)}"


async def _process(session: AsyncSession, process_id: UUID) -> PlanningProcess:
    process = await session.get(PlanningProcess, process_id)
    if process is None:
        raise NotFound(f"No planning process {process_id}.")
    return process


async def _default_organisations(session: AsyncSession) -> list[UUID]:
    with_services = sa.select(m.Service.organisation_id).where(active_condition())
    rows = await session.scalars(
        sa.select(Organisation.id)
        .where(
            Organisation.is_active,
            sa.or_(
                Organisation.type == OrganisationType.WELFARE_ORGANISATION,
                Organisation.id.in_(with_services),
            ),
        )
        .order_by(Organisation.name)
    )
    return list(rows)


async def _contacts(session: AsyncSession, organisation_ids: list[UUID]) -> dict[UUID, str]:
    """Each organisation's public contact address: that of its first active service with one."""
    rows = await session.execute(
        sa.select(m.Service.organisation_id, m.Service.contact_email)
        .where(
            m.Service.organisation_id.in_(organisation_ids),
            m.Service.contact_email != "",
            active_condition(),
        )
        .order_by(m.Service.organisation_id, m.Service.name, m.Service.id)
        .distinct(m.Service.organisation_id)
    )
    return dict(rows.tuples().all())


async def start_round(
    session: AsyncSession,
    settings: Settings,
    process_id: UUID,
    data: s.RoundIn,
    started_by: str,
) -> s.RoundOut:
    process = await _process(session, process_id)
    errors: list[FieldError] = []
    if data.due_on < today():
        errors.append(FieldError(field="due_on", source="body", message="must not be in the past"))
    if data.organisation_ids is None:
        organisation_ids = await _default_organisations(session)
    else:
        organisation_ids = list(dict.fromkeys(data.organisation_ids))
        known = set(
            await session.scalars(
                sa.select(Organisation.id).where(
                    Organisation.id.in_(organisation_ids), Organisation.is_active
                )
            )
        )
        for index, organisation_id in enumerate(data.organisation_ids):
            if organisation_id not in known:
                errors.append(
                    FieldError(
                        field=f"organisation_ids[{index}]",
                        source="body",
                        message="unknown or deactivated organisation",
                    )
                )
    if not organisation_ids and not errors:
        errors.append(
            FieldError(field="organisation_ids", source="body", message="no organisation to ask")
        )
    if errors:
        raise InvalidInput("The round cannot start like this.", errors=errors)
    open_round = await session.scalar(
        sa.select(m.InventoryRound.id).where(
            m.InventoryRound.process_id == process_id, m.InventoryRound.closed_at.is_(None)
        )
    )
    if open_round is not None:
        raise Conflict("This process has an open inventory round; close it first.")
    inventory_round = m.InventoryRound(
        process_id=process_id, due_on=data.due_on, message=data.message, started_by=started_by
    )
    session.add(inventory_round)
    await session.flush()
    contacts = await _contacts(session, organisation_ids)
    names = dict(
        (
            await session.execute(
                sa.select(Organisation.id, Organisation.name).where(
                    Organisation.id.in_(organisation_ids)
                )
            )
        )
        .tuples()
        .all()
    )
    for organisation_id in organisation_ids:
        address = contacts.get(organisation_id, "")
        request = m.RoundRequest(
            round_id=inventory_round.id,
            organisation_id=organisation_id,
            status="pending",
            contact_email=address,
            mailed=bool(address and data.send_mail),
        )
        session.add(request)
        await session.flush()
        if request.mailed:
            await _mail(
                session, settings, process, inventory_round, request, names[organisation_id]
            )
    return await get_round(session, settings, inventory_round.id)


async def _mail(
    session: AsyncSession,
    settings: Settings,
    process: PlanningProcess,
    inventory_round: m.InventoryRound,
    request: m.RoundRequest,
    organisation: str,
) -> None:
    link = settings.base_url.rstrip("/") + response_path(settings, request.id)
    due = inventory_round.due_on.isoformat()
    body = (
        f"Guten Tag,\n\nim Planungsprozess „{process.title}“ bitten wir {organisation}, die "
        f"eigenen Angebote bis zum {due} zu bestätigen oder zu aktualisieren:\n{link}\n\n"
        f"Hello,\n\nfor the planning process “{process.title}” we ask {organisation} to confirm "
        f"or update its services by {due}:\n{link}\n"
    )
    if inventory_round.message:
        body += f"\n{inventory_round.message}\n"
    await send_mail(
        session,
        to=request.contact_email,
        subject=f"Quartier: Angebote bestätigen / confirm your services – {process.title}"[:200],
        body=body,
        dedupe_key=f"inventory-round:{request.id}",
    )


async def _requests(
    session: AsyncSession, settings: Settings, round_id: UUID
) -> list[s.RequestOut]:
    active_services = (
        sa.select(sa.func.count(m.Service.id))
        .where(m.Service.organisation_id == m.RoundRequest.organisation_id, active_condition())
        .scalar_subquery()
    )
    rows = await session.execute(
        sa.select(m.RoundRequest, Organisation.name, active_services)
        .join(Organisation, Organisation.id == m.RoundRequest.organisation_id)
        .where(m.RoundRequest.round_id == round_id)
        .order_by(Organisation.name, Organisation.id)
    )
    return [
        s.RequestOut(
            id=request.id,
            organisation=s.OrganisationRef(id=request.organisation_id, name=name),
            status=request.status,
            responded_at=request.responded_at,
            contact_email=request.contact_email,
            mailed=request.mailed,
            services=int(count),
            response_url=settings.base_url.rstrip("/") + response_path(settings, request.id),
        )
        for request, name, count in rows.tuples()
    ]


def _round_out(inventory_round: m.InventoryRound, requests: list[s.RequestOut]) -> s.RoundOut:
    counts = {status: 0 for status in m.ROUND_STATUSES}
    for request in requests:
        counts[request.status] += 1
    return s.RoundOut(
        id=inventory_round.id,
        process_id=inventory_round.process_id,
        due_on=inventory_round.due_on,
        message=inventory_round.message,
        started_by=inventory_round.started_by,
        started_at=inventory_round.created_at,
        closed_at=inventory_round.closed_at,
        progress=s.Progress(total=len(requests), **counts),
        requests=requests,
    )


async def get_round(session: AsyncSession, settings: Settings, round_id: UUID) -> s.RoundOut:
    inventory_round = await session.get(m.InventoryRound, round_id)
    if inventory_round is None:
        raise NotFound(f"No inventory round {round_id}.")
    return _round_out(inventory_round, await _requests(session, settings, round_id))


async def list_rounds(
    session: AsyncSession, settings: Settings, process_id: UUID
) -> list[s.RoundOut]:
    await _process(session, process_id)
    rounds = (
        await session.scalars(
            sa.select(m.InventoryRound)
            .where(m.InventoryRound.process_id == process_id)
            .order_by(m.InventoryRound.created_at.desc(), m.InventoryRound.id)
        )
    ).all()
    return [_round_out(r, await _requests(session, settings, r.id)) for r in rounds]


async def close_round(session: AsyncSession, settings: Settings, round_id: UUID) -> s.RoundOut:
    inventory_round = await session.get(m.InventoryRound, round_id, with_for_update=True)
    if inventory_round is None:
        raise NotFound(f"No inventory round {round_id}.")
    if inventory_round.closed_at is not None:
        raise Conflict("The round is closed already.")
    inventory_round.closed_at = datetime.datetime.now(datetime.UTC)
    await session.flush()
    return await get_round(session, settings, round_id)


# -- the organisation's side (through its link) ---------------------------------------------------


async def request_by_link(
    session: AsyncSession, settings: Settings, request_id: UUID, token: str
) -> tuple[m.RoundRequest, m.InventoryRound, Organisation]:
    """The request the link names, if the token is right (else 404: the link reveals
    nothing)."""
    if not hmac.compare_digest(token.encode(), response_token(settings, request_id).encode()):
        raise NotFound("This link is not valid.")
    row = (
        await session.execute(
            sa.select(m.RoundRequest, m.InventoryRound, Organisation)
            .join(m.InventoryRound, m.InventoryRound.id == m.RoundRequest.round_id)
            .join(Organisation, Organisation.id == m.RoundRequest.organisation_id)
            .where(m.RoundRequest.id == request_id)
        )
    ).first()
    if row is None:
        raise NotFound("This link is not valid.")
    return row.tuple()


def _open(inventory_round: m.InventoryRound) -> None:
    if inventory_round.closed_at is not None:
        raise Conflict("This inventory round is closed.")


async def record_update(
    session: AsyncSession, request: m.RoundRequest, inventory_round: m.InventoryRound
) -> None:
    """The organisation changed a service through its link: the request is `updated`."""
    _open(inventory_round)
    request.status = "updated"
    request.responded_at = datetime.datetime.now(datetime.UTC)
    await session.flush()


async def confirm(
    session: AsyncSession, request: m.RoundRequest, inventory_round: m.InventoryRound
) -> None:
    """The organisation confirms its services as they are (after updates, it stays
    `updated`)."""
    _open(inventory_round)
    await confirm_services(session, request.organisation_id)
    if request.status != "updated":
        request.status = "confirmed"
    request.responded_at = datetime.datetime.now(datetime.UTC)
    await session.flush()


async def open_round_of(session: AsyncSession, process_id: UUID) -> m.InventoryRound | None:
    return await session.scalar(
        sa.select(m.InventoryRound).where(
            m.InventoryRound.process_id == process_id, m.InventoryRound.closed_at.is_(None)
        )
    )
