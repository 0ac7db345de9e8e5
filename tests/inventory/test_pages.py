"""Pages: an organisation's staff, through the round's private link, change only their own
services and confirm; a wrong token finds nothing; residents see only active services."""

from __future__ import annotations

import datetime
import re
import uuid

from tests.inventory.conftest import AddService, Client, Headers

HTML = {"Accept": "text/html"}
DUE = (datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=7)).isoformat()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def test_an_organisation_changes_only_its_own_services_and_confirms(
    client: Client,
    organisations: dict[str, uuid.UUID],
    add_service: AddService,
    inventory_writer: Headers,
    inventory_reader: Headers,
    process_id: uuid.UUID,
) -> None:
    own = await add_service(organisations["AWO"])
    other = await add_service(organisations["Caritas"], name="Caritas Treff")
    started = await client.post(
        f"/api/v1/processes/{process_id}/inventory-rounds",
        json={"due_on": DUE, "send_mail": False},
        headers=inventory_writer,
    )
    awo = next(r for r in started.json()["requests"] if r["organisation"]["name"].startswith("AWO"))
    link = "/" + awo["response_url"].split("/", 3)[3]
    page = await client.get(link, headers=HTML)
    assert page.status_code == 200 and "Familienzentrum Moabit" in page.text
    assert "Caritas Treff" not in page.text
    token = _csrf(page.text)
    wrong = await client.get(link[:-4] + "0000", headers=HTML)
    assert wrong.status_code == 404
    foreign = await client.get(f"{link}/services/{other['id']}", headers=HTML)
    assert foreign.status_code == 404
    form = {
        "csrf_token": token,
        "name": "Familienzentrum Moabit",
        "need_categories": "childcare",
        "target_groups": "young_children",
        "area_codes": "010101 010102",
        "capacity": "50",
    }
    stolen = await client.post(
        f"{link}/services/{other['id']}", data=form, headers=HTML, follow_redirects=False
    )
    assert stolen.status_code == 404
    refused = await client.post(
        f"{link}/services/{own['id']}",
        data={**form, "area_codes": "010101 4711"},
        headers=HTML,
        follow_redirects=False,
    )
    assert refused.status_code == 422 and 'href="#area_codes"' in refused.text
    saved = await client.post(
        f"{link}/services/{own['id']}", data=form, headers=HTML, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    confirmed = await client.post(
        f"{link}/confirm", data={"csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert confirmed.status_code == 303
    progress = await client.get(
        f"/api/v1/inventory-rounds/{started.json()['id']}", headers=inventory_reader
    )
    assert progress.json()["progress"] == {"total": 2, "confirmed": 0, "updated": 1, "pending": 1}
    changed = await client.get(f"/api/v1/services/{own['id']}")
    assert changed.json()["capacity"] == 50
    untouched = await client.get(f"/api/v1/services/{other['id']}")
    assert untouched.json()["capacity"] == 40


async def test_residents_see_the_active_services_of_their_area(
    client: Client,
    organisations: dict[str, uuid.UUID],
    add_service: AddService,
    inventory_writer: Headers,
) -> None:
    await add_service(organisations["AWO"])
    ended = await add_service(organisations["Caritas"], name="Alter Treff")
    yesterday = datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=1)
    await client.post(
        f"/api/v1/services/{ended['id']}/end",
        json={"ends_on": yesterday.isoformat()},
        headers=inventory_writer,
    )
    page = await client.get("/services", params={"area": "010101"}, headers=HTML)
    assert page.status_code == 200
    assert "Familienzentrum Moabit" in page.text and "Alter Treff" not in page.text
    unknown = await client.get("/services", params={"area": "4711"}, headers=HTML)
    assert unknown.status_code == 400


async def test_planners_pages_render_and_start_a_round(
    client: Client,
    organisations: dict[str, uuid.UUID],
    add_service: AddService,
    planner: Headers,
    process_id: uuid.UUID,
) -> None:
    created = await add_service(organisations["AWO"])
    for path in (
        "/workspace/inventory",
        f"/workspace/inventory/organisations/{organisations['AWO']}",
        f"/workspace/inventory/organisations/{organisations['AWO']}/services/new",
        f"/workspace/inventory/services/{created['id']}/edit",
        f"/workspace/inventory/processes/{process_id}/rounds",
        f"/workspace/inventory/processes/{process_id}/supply?need=childcare&level=planning_area",
    ):
        page = await client.get(path, headers={**planner, **HTML})
        assert page.status_code == 200, (path, page.text[:500])
    supply = await client.get(
        f"/workspace/inventory/processes/{process_id}/supply",
        params={"need": "childcare", "level": "planning_area", "target_group": "young_children"},
        headers={**planner, **HTML},
    )
    assert "Moabit West" in supply.text and "400" in supply.text
    rounds = f"/workspace/inventory/processes/{process_id}/rounds"
    started = await client.post(
        rounds,
        data={"due_on": DUE, "send_mail": "true"},
        headers={**planner, **HTML},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    page = await client.get(rounds, headers={**planner, **HTML})
    assert "familienzentrum@awo-mitte.example" in page.text and "Caritas Mitte" in page.text
