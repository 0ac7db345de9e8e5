"""The inventory API: services recorded, read publicly while active, refused naming the field,
ended for history; who may write; inventory rounds with their progress and mails."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.jobs.models import Job
from tests.conftest import LoginFactory, TokenFactory
from tests.inventory.conftest import AddService, Client, Headers, service_body

TODAY = datetime.datetime.now(datetime.UTC).date()


async def test_a_recorded_service_is_public_and_found_by_the_areas_it_serves(
    client: Client, organisations: dict[str, uuid.UUID], add_service: AddService
) -> None:
    created = await add_service(organisations["AWO"])
    assert created["organisation"]["name"] == "AWO Kreisverband Mitte"
    assert [c["key"] for c in created["need_categories"]] == ["childcare"]
    assert created["areas"] == [{"code": "010101", "name": "Moabit West"}]
    assert created["active"] is True and created["capacity"] == 40
    one = await client.get(f"/api/v1/services/{created['id']}")
    assert one.status_code == 200 and one.json()["name"] == "Familienzentrum Moabit"

    async def names(**params: str) -> list[str]:
        response = await client.get("/api/v1/services", params=params)
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert await names(area="010101") == ["Familienzentrum Moabit"]
    assert await names(area="01") == ["Familienzentrum Moabit"]  # a part of Mitte
    assert await names(area="010102") == []
    assert await names(area="010101", need="housing") == []
    unknown = await client.get("/api/v1/services", params={"area": "99"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "area"


async def test_refusals_name_the_field(
    client: Client, organisations: dict[str, uuid.UUID], inventory_writer: Headers
) -> None:
    path = f"/api/v1/organisations/{organisations['AWO']}/services"
    unknown = await client.post(
        path,
        json=service_body(need_categories=["childcare", "wishes"], area_codes=["010101", "77"]),
        headers=inventory_writer,
    )
    assert unknown.status_code == 422, unknown.text
    fields = [error["field"] for error in unknown.json()["errors"]]
    assert fields == ["need_categories[1]", "area_codes[1]"]
    backwards = await client.post(
        path,
        json=service_body(starts_on="2026-05-01", ends_on="2026-04-30"),
        headers=inventory_writer,
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "ends_on"
    for body, field in (
        (service_body(target_groups=["everyone"]), "target_groups"),
        (service_body(contact_email="not an address"), "contact_email"),
        (service_body(capacity=-1), "capacity"),
        (service_body(name=""), "name"),
        (service_body(colour="red"), "colour"),
    ):
        refused = await client.post(path, json=body, headers=inventory_writer)
        assert refused.status_code == 400, (field, refused.text)
        assert field in refused.text
    missing = await client.post(
        f"/api/v1/organisations/{uuid.uuid4()}/services",
        json=service_body(),
        headers=inventory_writer,
    )
    assert missing.status_code == 404


async def test_an_ended_service_stays_recorded_but_is_no_longer_offered(
    client: Client,
    organisations: dict[str, uuid.UUID],
    add_service: AddService,
    inventory_writer: Headers,
    inventory_reader: Headers,
) -> None:
    created = await add_service(organisations["AWO"])
    yesterday = (TODAY - datetime.timedelta(days=1)).isoformat()
    ended = await client.post(
        f"/api/v1/services/{created['id']}/end",
        json={"ends_on": yesterday},
        headers=inventory_writer,
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["active"] is False and ended.json()["ends_on"] == yesterday
    listed = await client.get("/api/v1/services", params={"area": "010101"})
    assert listed.json()["items"] == []
    history = await client.get(
        f"/api/v1/organisations/{organisations['AWO']}/services", headers=inventory_reader
    )
    assert [s["name"] for s in history.json()] == ["Familienzentrum Moabit"]
    again = await client.post(
        f"/api/v1/services/{created['id']}/end",
        json={"ends_on": TODAY.isoformat()},
        headers=inventory_writer,
    )
    assert again.status_code == 409


async def test_who_may_change_services(
    client: Client,
    organisations: dict[str, uuid.UUID],
    add_service: AddService,
    login_as: LoginFactory,
    make_token: TokenFactory,
    planner: Headers,
) -> None:
    created = await add_service(organisations["AWO"])
    path = f"/api/v1/services/{created['id']}"
    changed = service_body(capacity=45)
    anonymous = await client.put(path, json=changed)
    assert anonymous.status_code == 401
    moderator = await login_as("moderator")
    assert (await client.put(path, json=changed, headers=moderator)).status_code == 403
    reader = await make_token({"inventory:read", "processes:write"})
    assert (await client.put(path, json=changed, headers=reader)).status_code == 403
    by_planner = await client.put(path, json=changed, headers=planner)
    assert by_planner.status_code == 200 and by_planner.json()["capacity"] == 45
    assert by_planner.json()["confirmed_at"] is not None
    # organisations' services (with ended ones) and rounds are not public
    listing = f"/api/v1/organisations/{organisations['AWO']}/services"
    assert (await client.get(listing)).status_code == 401
    assert (await client.get(listing, headers=moderator)).status_code == 403


async def test_a_round_asks_the_organisations_and_mails_those_with_an_address(
    client: Client,
    engine: AsyncEngine,
    organisations: dict[str, uuid.UUID],
    add_service: AddService,
    inventory_writer: Headers,
    inventory_reader: Headers,
    process_id: uuid.UUID,
) -> None:
    await add_service(organisations["AWO"])
    path = f"/api/v1/processes/{process_id}/inventory-rounds"
    due = (TODAY + datetime.timedelta(days=14)).isoformat()
    past = await client.post(path, json={"due_on": "2020-01-01"}, headers=inventory_writer)
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "due_on"
    stranger = await client.post(
        path,
        json={"due_on": due, "organisation_ids": [str(organisations["AWO"]), str(uuid.uuid4())]},
        headers=inventory_writer,
    )
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["field"] == "organisation_ids[1]"
    started = await client.post(
        path, json={"due_on": due, "message": "Danke!"}, headers=inventory_writer
    )
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["progress"] == {"total": 2, "confirmed": 0, "updated": 0, "pending": 2}
    awo, caritas = body["requests"]
    assert awo["organisation"]["name"] == "AWO Kreisverband Mitte" and awo["mailed"]
    assert awo["contact_email"] == "familienzentrum@awo-mitte.example"
    assert not caritas["mailed"] and caritas["contact_email"] == ""
    assert caritas["response_url"].endswith(
        f"/inventory/respond/{caritas['id']}/" + caritas["response_url"].rsplit("/", 1)[1]
    )
    async with async_sessionmaker(engine)() as db:
        jobs = (await db.scalars(select(Job).where(Job.kind == "mail.send"))).all()
    assert len(jobs) == 1 and jobs[0].payload["to"] == "familienzentrum@awo-mitte.example"
    assert awo["response_url"] in jobs[0].payload["body"]
    twice = await client.post(path, json={"due_on": due}, headers=inventory_writer)
    assert twice.status_code == 409
    listed = await client.get(path, headers=inventory_reader)
    assert [r["id"] for r in listed.json()] == [body["id"]]
    closed = await client.post(
        f"/api/v1/inventory-rounds/{body['id']}/close", headers=inventory_writer
    )
    assert closed.status_code == 200 and closed.json()["closed_at"] is not None
    assert (
        await client.post(f"/api/v1/inventory-rounds/{body['id']}/close", headers=inventory_writer)
    ).status_code == 409
    assert (await client.get(path)).status_code == 401
