"""The outbox page lists the mails written without SMTP (administrators only)."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.jobs.mail import send_mail
from quartier.jobs.worker import Worker
from quartier.settings import Settings
from tests.conftest import LoginFactory

Client = AsyncTestClient[Litestar]


async def test_administrators_read_the_outbox(
    client: Client,
    login_as: LoginFactory,
    engine: AsyncEngine,
    session: AsyncSession,
    settings: Settings,
) -> None:
    admin = await login_as("admin")
    empty = await client.get("/dashboard/outbox", headers=admin)
    assert empty.status_code == 200 and "QUARTIER_SMTP_HOST" in empty.text
    async with session.begin():
        await send_mail(
            session,
            to="resident@example.org",
            subject="Neuigkeiten zu Ihrer Idee",
            body="Ihre Idee <b>wird geprüft</b>.",
        )
    await Worker(engine, settings).drain()
    listing = await client.get("/dashboard/outbox", headers=admin)
    assert "Neuigkeiten zu Ihrer Idee" in listing.text
    (name,) = re.findall(r'href="/dashboard/outbox/([^"]+\.eml)"', listing.text)
    mail = await client.get(f"/dashboard/outbox/{name}", headers=admin)
    assert mail.status_code == 200
    assert "Ihre Idee &lt;b&gt;wird geprüft&lt;/b&gt;." in mail.text  # escaped
    for bad in ("..%2Fsecret_key", "secret_key", "x.eml"):
        assert (await client.get(f"/dashboard/outbox/{bad}", headers=admin)).status_code == 404
    planner = await login_as("planner")
    assert (await client.get("/dashboard/outbox", headers=planner)).status_code == 403
