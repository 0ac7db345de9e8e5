"""The staff pages for webhooks: administrators only; create (secret shown once), the delivery
log, replay, rotation, pausing."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.jobs.worker import Worker
from quartier.processes.phases import PhaseKey
from tests.conftest import LoginFactory
from tests.surveys.conftest import MakeProcess

from .conftest import Receiver
from .test_webhooks import _activate

Client = AsyncTestClient[Litestar]


async def test_only_administrators_see_the_webhook_pages(
    client: Client, login_as: LoginFactory
) -> None:
    planner = await login_as("planner")
    assert (await client.get("/dashboard/webhooks", headers=planner)).status_code == 403
    anonymous = await client.get(
        "/dashboard/webhooks", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert anonymous.status_code in (303, 401)
    assert "whsec_" not in anonymous.text


async def test_an_administrator_subscribes_and_sees_deliveries_with_replay(
    client: Client,
    login_as: LoginFactory,
    engine: AsyncEngine,
    make_process: MakeProcess,
    receiver: Receiver,
    worker: Worker,
) -> None:
    admin = {**await login_as("admin"), "Accept-Language": "en"}
    process_id = await make_process()
    empty = await client.get("/dashboard/webhooks", headers=admin)
    assert empty.status_code == 200
    assert "Kinderarmut in Mitte vorbeugen" in empty.text  # processes to choose from
    refused = await client.post(
        "/dashboard/webhooks", data={"url": "not a url", "description": ""}, headers=admin
    )
    assert refused.status_code == 400
    assert 'href="#event_types"' in refused.text or 'href="#url"' in refused.text
    created = await client.post(
        "/dashboard/webhooks",
        data={
            "url": receiver.url,
            "event_types": ["phase.activated", "survey.closed"],
            "process_id": str(process_id),
            "description": "Jugendhilfe-Fachverfahren",
        },
        headers=admin,
    )
    assert created.status_code == 200, created.text
    secret = re.search(r'<code id="secret">(whsec_[^<]+)</code>', created.text)
    assert secret is not None
    listing = await client.get("/dashboard/webhooks", headers=admin)
    (sub_id,) = re.findall(r'href="/dashboard/webhooks/([0-9a-f-]{36})"', listing.text)
    assert secret.group(1) not in listing.text

    await _activate(engine, process_id, PhaseKey.MEASURE_PLANNING)
    await worker.drain()
    detail = await client.get(f"/dashboard/webhooks/{sub_id}", headers=admin)
    assert "phase.activated" in detail.text and "204" in detail.text
    assert secret.group(1) not in detail.text
    (replay_path,) = re.findall(r'action="(/dashboard/webhooks/[^"]+/replay)"', detail.text)
    replayed = await client.post(replay_path, headers=admin)
    assert replayed.status_code == 200
    await worker.drain()
    assert len(receiver.received) == 2

    rotated = await client.post(f"/dashboard/webhooks/{sub_id}/rotate", headers=admin)
    new_secret = re.search(r'<code id="secret">(whsec_[^<]+)</code>', rotated.text)
    assert new_secret is not None and new_secret.group(1) != secret.group(1)
    paused = await client.post(
        f"/dashboard/webhooks/{sub_id}/enabled",
        data={"enabled": "false"},
        headers=admin,
        follow_redirects=False,
    )
    assert paused.status_code == 303
    page = await client.get(f"/dashboard/webhooks/{sub_id}", headers=admin)
    assert "Disabled by an administrator." in page.text
    refused_replay = await client.post(replay_path, headers=admin)
    assert "enable it before replaying" in refused_replay.text
    german = await client.post(replay_path, headers={**admin, "Accept-Language": "de"})
    assert "Aktivieren Sie es, bevor Sie Zustellungen erneut senden" in german.text


async def test_forms_without_the_csrf_token_are_refused(
    client: Client, login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    cookie_only = {"Cookie": admin["Cookie"]}
    response = await client.post(
        "/dashboard/webhooks",
        data={"url": "https://example.org/hook", "event_types": "survey.closed"},
        headers=cookie_only,
    )
    assert response.status_code == 403
