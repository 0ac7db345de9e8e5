"""The processes pages of the staff workspace: create and edit a process with the area picker,
phase notes and dates, activating a phase after the confirmation, publish, archive, next cycle,
and organisations — HTML forms on the same services as the API."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.conftest import LoginFactory

from .conftest import Client, CreateProcess, Headers

HTML = {"Accept": "text/html"}


async def _post(client: Client, url: str, headers: Headers, data: Any) -> Any:
    """A form post as the browser sends it: the CSRF token in the form body."""
    pairs = list(data.items()) if isinstance(data, dict) else list(data)
    fields: dict[str, list[str]] = {"csrf_token": [headers["X-CSRF-Token"]]}
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    return await client.post(
        url, data=fields, headers={"Cookie": headers["Cookie"], **HTML}, follow_redirects=False
    )


async def _get(client: Client, url: str, headers: Headers) -> Any:
    return await client.get(url, headers={**headers, **HTML}, follow_redirects=False)


def _created_id(response: Any) -> str:
    assert response.status_code == 303, response.text
    found = re.match(
        r"/workspace/processes/([0-9a-f-]{36})\?done=created", response.headers["location"]
    )
    assert found, response.headers["location"]
    return found.group(1)


async def test_process_pages_are_for_planners(client: Client, login_as: LoginFactory) -> None:
    moderator = await login_as("moderator")
    assert (await _get(client, "/workspace/processes/new", moderator)).status_code == 403
    assert (await _get(client, "/workspace/organisations", moderator)).status_code == 403
    refused = await _post(client, "/workspace/processes", moderator, {"title": "x", "topic": "y"})
    assert refused.status_code == 403


async def test_area_picker_searches_without_javascript_and_keeps_the_form(
    client: Client, planner: Headers, areas: dict[str, uuid.UUID]
) -> None:
    response = await client.get(
        "/workspace/processes/new",
        params={"title": "Kinderarmut", "topic": "Armut", "area_q": "moabit", "area_codes": ["08"]},
        headers={**planner, **HTML},
    )
    assert response.status_code == 200
    html = response.text
    assert 'value="Kinderarmut"' in html  # what was typed survives the search
    assert 'value="08" checked' in html  # the area chosen before stays chosen
    for code in ("0102", "010221", "010222"):
        assert f'value="{code}"' in html
    assert 'value="01"' not in html  # Mitte does not match "moabit"
    assert 'formmethod="get"' in html


async def test_create_process_then_edit_it(
    client: Client, planner: Headers, areas: dict[str, uuid.UUID]
) -> None:
    created = await _post(
        client,
        "/workspace/processes",
        planner,
        [
            ("title", "Kinderarmut in Moabit"),
            ("topic", "Kinder- und Familienarmut"),
            ("area_codes", "010221"),
            ("area_codes", "010222"),
            ("commissioned_by", "BVV Mitte"),
            ("aim", "Präventionskette"),
        ],
    )
    process_id = _created_id(created)
    api = (await client.get(f"/api/v1/processes/{process_id}", headers=planner)).json()
    assert api["status"] == "draft" and api["active_phase"] == "guidelines"
    assert [a["code"] for a in api["areas"]] == ["010221", "010222"]
    assert api["mandate"]["commissioned_by"] == "BVV Mitte"

    overview = await _get(client, f"/workspace/processes/{process_id}", planner)
    assert overview.status_code == 200 and "Kinderarmut in Moabit" in overview.text
    form = await _get(client, f"/workspace/processes/{process_id}/edit", planner)
    assert 'value="010221" checked' in form.text
    saved = await _post(
        client,
        f"/workspace/processes/{process_id}/edit",
        planner,
        [("title", "Kinderarmut in Moabit West"), ("topic", "Armut"), ("area_codes", "010221")],
    )
    assert saved.status_code == 303
    api = (await client.get(f"/api/v1/processes/{process_id}", headers=planner)).json()
    assert api["title"] == "Kinderarmut in Moabit West"
    assert [a["code"] for a in api["areas"]] == ["010221"]
    assert api["mandate"]["commissioned_by"] == ""  # the form sends the whole mandate


async def test_process_form_errors_are_summarised_and_named(
    client: Client, planner: Headers, areas: dict[str, uuid.UUID]
) -> None:
    response = await _post(
        client,
        "/workspace/processes",
        planner,
        [("title", ""), ("topic", "x" * 201), ("area_codes", "999999")],
    )
    assert response.status_code == 400
    html = response.text
    assert 'class="error-summary"' in html
    assert 'href="#title"' in html and 'href="#topic"' in html
    assert 'id="topic-error"' in html
    unknown = await _post(
        client,
        "/workspace/processes",
        planner,
        [("title", "T"), ("topic", "x"), ("area_codes", "999999")],
    )
    assert unknown.status_code == 400 and 'href="#area_codes"' in unknown.text


async def test_phase_notes_and_dates(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    url = f"/workspace/processes/{process['id']}/phases/needs_assessment"
    page = await _get(client, url, planner)
    assert page.status_code == 200
    saved = await _post(
        client,
        url,
        planner,
        {
            "planned_start": "2027-03-01",
            "planned_end": "2027-06-30",
            "what_is_done": "Befragung",
            "who_takes_part": "Träger, Familien",
            "watch_out_for": "Ferienzeiten",
        },
    )
    assert saved.status_code == 303
    phases = (await client.get(f"/api/v1/processes/{process['id']}/phases", headers=planner)).json()
    needs = next(p for p in phases if p["key"] == "needs_assessment")
    assert needs["planned_start"] == "2027-03-01" and needs["who_takes_part"] == "Träger, Familien"
    backwards = await _post(
        client, url, planner, {"planned_start": "2027-06-01", "planned_end": "2027-01-01"}
    )
    assert backwards.status_code == 400 and 'href="#planned_end"' in backwards.text
    nonsense = await _post(client, url, planner, {"planned_start": "bald"})
    assert nonsense.status_code == 400 and 'id="planned_start-error"' in nonsense.text


async def test_activation_confirmation_says_what_opens_and_closes(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True)
    base = f"/workspace/processes/{process['id']}/phases"
    confirm = await _get(client, f"{base}/needs_assessment/activate", planner)
    assert confirm.status_code == 200
    assert "Öffnet: Befragungen" in confirm.text and "Öffnet: Ideen" in confirm.text
    done = await _post(client, f"{base}/needs_assessment/activate", planner, {})
    assert done.status_code == 303
    api = (await client.get(f"/api/v1/processes/{process['id']}", headers=planner)).json()
    assert api["active_phase"] == "needs_assessment"
    closing = await _get(client, f"{base}/resource_provision/activate", planner)
    assert "Schließt: Befragungen" in closing.text
    again = await _post(client, f"{base}/needs_assessment/activate", planner, {})
    assert again.status_code == 409


async def test_draft_confirmation_says_nothing_opens(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    confirm = await _get(
        client, f"/workspace/processes/{process['id']}/phases/needs_assessment/activate", planner
    )
    assert "nicht veröffentlicht" in confirm.text


async def test_publish_archive_and_next_cycle(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(activate=("social_reporting",))
    base = f"/workspace/processes/{process['id']}"
    assert (await _post(client, f"{base}/publish", planner, {})).status_code == 303
    assert (await _post(client, f"{base}/publish", planner, {})).status_code == 409
    successor_id = _created_id(await _post(client, f"{base}/next-cycle", planner, {}))
    successor = (await client.get(f"/api/v1/processes/{successor_id}", headers=planner)).json()
    assert successor["cycle"] == 2 and successor["previous_process_id"] == process["id"]
    assert (await _post(client, f"{base}/archive", planner, {})).status_code == 303
    api = (await client.get(f"/api/v1/processes/{process['id']}", headers=planner)).json()
    assert api["status"] == "archived"
    assert (await _post(client, f"{base}/frobnicate", planner, {})).status_code == 404


async def test_organisations_create_edit_and_remove(client: Client, planner: Headers) -> None:
    created = await _post(
        client,
        "/workspace/organisations",
        planner,
        {"name": "Caritas Berlin", "type": "welfare_organisation", "website": "https://x.org"},
    )
    assert created.status_code == 303
    duplicate = await _post(
        client, "/workspace/organisations", planner, {"name": "caritas berlin", "type": "other"}
    )
    assert duplicate.status_code == 409 and 'href="#name"' in duplicate.text
    invalid = await _post(
        client, "/workspace/organisations", planner, {"name": "", "type": "x", "website": "ftp:x"}
    )
    assert invalid.status_code == 400
    for field in ("name", "type", "website"):
        assert f'href="#{field}"' in invalid.text
    listing = await _get(client, "/workspace/organisations", planner)
    found = re.search(r'href="/workspace/organisations/([0-9a-f-]{36})"', listing.text)
    assert found
    url = f"/workspace/organisations/{found.group(1)}"
    edited = await _post(
        client, url, planner, {"name": "Caritas Berlin e. V.", "type": "welfare_organisation"}
    )
    assert edited.status_code == 303
    assert "Caritas Berlin e. V." in (await _get(client, "/workspace/organisations", planner)).text
    removed = await _post(client, f"{url}/delete", planner, {})
    assert removed.status_code == 303
    assert (await _get(client, url, planner)).status_code == 404


async def _organisation(client: Client, planner: Headers, name: str) -> str:
    response = await client.post(
        "/api/v1/organisations",
        json={"name": name, "type": "welfare_organisation"},
        headers=planner,
    )
    assert response.status_code == 201, response.text
    organisation_id: str = response.json()["id"]
    return organisation_id


async def test_contributions_matrix_is_edited_as_a_table(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    diakonie = await _organisation(client, planner, "Diakonie")
    url = f"/workspace/processes/{process['id']}/contributions"
    empty = await _get(client, url, planner)
    assert empty.status_code == 200 and f'value="{diakonie}"' in empty.text
    row = await _get(client, f"{url}?add={diakonie}", planner)
    assert f'name="c-{diakonie}-needs_assessment"' in row.text
    cells = {f"c-{diakonie}-{phase}": "" for phase in ("guidelines", "needs_assessment")}
    saved = await _post(
        client, url, planner, {**cells, f"c-{diakonie}-needs_assessment": "Befragung Familien"}
    )
    assert saved.status_code == 303
    matrix = (
        await client.get(f"/api/v1/processes/{process['id']}/contributions/matrix", headers=planner)
    ).json()
    assert matrix["rows"][0]["cells"][1]["contribution"] == "Befragung Familien"
    too_long = await _post(client, url, planner, {f"c-{diakonie}-guidelines": "x" * 2001})
    assert too_long.status_code == 400
    assert f'href="#c-{diakonie}-guidelines"' in too_long.text
    emptied = await _post(client, url, planner, {f"c-{diakonie}-needs_assessment": ""})
    assert emptied.status_code == 303
    matrix = (
        await client.get(f"/api/v1/processes/{process['id']}/contributions/matrix", headers=planner)
    ).json()
    assert matrix["rows"] == []


async def test_roles_per_phase(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    awo = await _organisation(client, planner, "AWO")
    url = f"/workspace/processes/{process['id']}/roles"
    body = {"organisation_id": awo, "phase": "needs_assessment", "role": "planning"}
    assert (await _post(client, url, planner, body)).status_code == 303
    twice = await _post(client, url, planner, body)
    assert twice.status_code == 409 and 'href="#organisation_id"' in twice.text
    bad = await _post(client, url, planner, {"organisation_id": "x", "phase": "y", "role": "z"})
    assert bad.status_code == 400
    for field in ("organisation_id", "phase", "role"):
        assert f'href="#{field}"' in bad.text
    page = await _get(client, url, planner)
    found = re.search(
        r'action="(/workspace/processes/[^"]+/roles/[0-9a-f-]{36}/remove)"', page.text
    )
    assert found and "Plant" in page.text
    assert (await _post(client, found.group(1), planner, {})).status_code == 303
    roles = (await client.get(f"/api/v1/processes/{process['id']}/roles", headers=planner)).json()
    assert roles["items"] == []


async def test_participation_overrides_per_phase_and_module(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    url = f"/workspace/processes/{process['id']}/participation"
    page = await _get(client, url, planner)
    assert page.status_code == 200 and 'name="o-surveys-guidelines"' in page.text
    saved = await _post(
        client, url, planner, {"o-surveys-guidelines": "open", "o-ideas-needs_assessment": "closed"}
    )
    assert saved.status_code == 303
    status = (
        await client.get(f"/api/v1/processes/{process['id']}/participation", headers=planner)
    ).json()
    modules = {m["module"]: m for m in status["modules"]}
    assert "guidelines" in modules["surveys"]["open_phases"]
    assert "needs_assessment" not in modules["ideas"]["open_phases"]
    back = await _post(client, url, planner, {"o-surveys-guidelines": "default"})
    assert back.status_code == 303
    status = (
        await client.get(f"/api/v1/processes/{process['id']}/participation", headers=planner)
    ).json()
    modules = {m["module"]: m for m in status["modules"]}
    assert "guidelines" not in modules["surveys"]["open_phases"]
    assert "needs_assessment" in modules["ideas"]["open_phases"]  # unsent cells go to default
    wrong = await _post(client, url, planner, {"o-surveys-guidelines": "maybe"})
    assert wrong.status_code == 400 and 'href="#o-surveys-guidelines"' in wrong.text


async def test_a_deactivated_organisation_keeps_its_roles_but_gets_no_new_ones(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    awo = await _organisation(client, planner, "AWO Mitte")
    roles = f"/workspace/processes/{process['id']}/roles"
    body = {"organisation_id": awo, "phase": "guidelines", "role": "planning"}
    assert (await _post(client, roles, planner, body)).status_code == 303
    off = await _post(
        client, f"/workspace/organisations/{awo}/active", planner, {"active": "false"}
    )
    assert off.status_code == 303
    organisation = (await client.get(f"/api/v1/organisations/{awo}", headers=planner)).json()
    assert organisation["is_active"] is False
    page = await _get(client, roles, planner)
    assert "AWO Mitte" in page.text  # the existing role stays
    assert f'<option value="{awo}"' not in page.text  # but it is not offered for a new one
    refused = await _post(client, roles, planner, {**body, "phase": "evaluation"})
    assert refused.status_code == 400 and 'href="#organisation_id"' in refused.text
    api = await client.post(
        f"/api/v1/processes/{process['id']}/roles",
        json={**body, "phase": "evaluation"},
        headers=planner,
    )
    assert api.status_code == 422  # the API keeps the same rule
    on = await _post(client, f"/workspace/organisations/{awo}/active", planner, {"active": "true"})
    assert on.status_code == 303
    assert (await _post(client, roles, planner, {**body, "phase": "evaluation"})).status_code == 303
