"""The social report through the API: assembled from what is recorded (figures only from the
disclosure-controlled services), readable only by staff and report tokens before release,
editorial sections bounded, released once in social reporting, then public as released."""

from __future__ import annotations

import uuid

import pytest

from quartier.processes.phases import PhaseKey
from tests.conftest import LoginFactory, TokenFactory
from tests.reports.conftest import SECTIONS, Activate, Client, Headers
from tests.support.disclosure import without_noise  # noqa: F401
from tests.surveys.conftest import MakeProcess

pytestmark = pytest.mark.usefixtures("without_noise")


def _path(process_id: uuid.UUID) -> str:
    return f"/api/v1/processes/{process_id}/social-report"


@pytest.mark.usefixtures("answered")
async def test_a_draft_report_is_assembled_for_staff_and_report_tokens_only(
    client: Client, process_id: uuid.UUID, planner: Headers, make_token: TokenFactory
) -> None:
    path = _path(process_id)
    for headers in ({}, await make_token({"surveys:read"})):
        refused = await client.get(path, headers=headers)
        assert refused.status_code == 404, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert (await client.get(f"{path}/pdf", headers=headers)).status_code == 404
    for headers in (planner, await make_token({"reports:read"})):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "draft" and report["release"] is None
    assert report["cycle"] == 1 and report["level"]["key"] == "planning_area"
    needs = report["needs"]
    assert needs["respondents"] == 14 and len(needs["surveys"]) == 1
    west = next(a for a in needs["areas"] if a["code"] == "010101")
    childcare = next(f for f in west["needs"] if f["category"] == "childcare")
    assert childcare["expressing"] == 8 and childcare["share"] == 8 / 14
    east = next(a for a in needs["areas"] if a["code"] == "010102")
    assert east["withheld"] and east["respondents"] is None  # protected, never 0
    assert report["gaps"] == [
        {
            "area_code": "010102",
            "area_name": "Moabit Ost",
            "need_category": "childcare",
            "need_label": report["gaps"][0]["need_label"],
            "note": "Keine Kita im Kiez",
        }
    ]
    assert report["goals"] == [] and report["measures"] == []


async def test_editorial_sections_are_bounded_and_stored(
    client: Client,
    process_id: uuid.UUID,
    planner: Headers,
    reports_writer: Headers,
    make_token: TokenFactory,
) -> None:
    path = f"{_path(process_id)}/sections"
    stored = await client.put(path, json={"sections": SECTIONS}, headers=planner)
    assert stored.status_code == 200, stored.text
    assert stored.json()["sections"] == SECTIONS
    by_token = await client.put(
        path,
        json={"sections": {"outlook": "Weiter so."}, "level": "district_region"},
        headers=reports_writer,
    )
    assert by_token.status_code == 200, by_token.text
    assert by_token.json()["sections"]["introduction"] == ""
    assert by_token.json()["level"]["key"] == "district_region"
    again = await client.get(_path(process_id), headers=planner)
    assert again.json()["sections"]["outlook"] == "Weiter so."
    too_long = {"sections": {"needs": "x" * 20_001}}
    assert (await client.put(path, json=too_long, headers=planner)).status_code == 400
    unknown = {"sections": {"appendix": "x"}}
    assert (await client.put(path, json=unknown, headers=planner)).status_code == 400
    level = await client.put(path, json={"sections": {}, "level": "bezirk"}, headers=planner)
    assert level.status_code == 422 and level.json()["errors"][0]["field"] == "level"
    reader = await make_token({"reports:read"})
    assert (await client.put(path, json={"sections": {}}, headers=reader)).status_code == 403
    assert (await client.put(path, json={"sections": {}})).status_code == 401


@pytest.mark.usefixtures("answered")
async def test_a_report_is_released_once_in_social_reporting_and_then_public_as_released(
    client: Client,
    process_id: uuid.UUID,
    planner: Headers,
    reports_writer: Headers,
    activate: Activate,
    login_as: LoginFactory,
    make_token: TokenFactory,
) -> None:
    path = _path(process_id)
    await client.put(f"{path}/sections", json={"sections": SECTIONS}, headers=planner)
    early = await client.post(f"{path}/release", headers=planner)
    assert early.status_code == 409 and early.json()["type"].endswith("/wrong-phase")
    await activate(process_id, PhaseKey.SOCIAL_REPORTING)
    released = await client.post(f"{path}/release", headers=planner)
    assert released.status_code == 200, released.text
    body = released.json()
    assert body["status"] == "released" and body["release"]["released_by"]
    assert body["sections"] == SECTIONS
    public = await client.get(path)
    assert public.status_code == 200, public.text
    shown = public.json()
    assert shown["status"] == "released" and shown["release"]["released_by"] is None
    assert shown["needs"] == body["needs"] and shown["gaps"] == body["gaps"]
    staff = await client.get(path, headers=await login_as("moderator"))
    assert staff.json()["release"]["released_by"] == body["release"]["released_by"]
    again = await client.post(f"{path}/release", headers=reports_writer)
    assert again.status_code == 409 and again.json()["type"].endswith("/report-released")
    edit = await client.put(f"{path}/sections", json={"sections": {}}, headers=planner)
    assert edit.status_code == 409
    later = await client.put(
        f"/api/v1/processes/{process_id}/need-comparison/childcare/gaps/010201",
        json={"note": "Später markiert"},
        headers=await make_token({"processes:write"}),
    )
    assert later.status_code == 200
    kept = (await client.get(path)).json()
    assert kept["gaps"] == body["gaps"]  # published as released, not as recorded now


async def test_a_draft_process_cannot_release_and_stays_hidden(
    client: Client, make_process: MakeProcess, planner: Headers
) -> None:
    draft = await make_process(phase=PhaseKey.SOCIAL_REPORTING, publish=False)
    refused = await client.post(f"{_path(draft)}/release", headers=planner)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/process-not-published")
    assert (await client.get(_path(draft))).status_code == 404
    assert (await client.get(_path(uuid.uuid4()), headers=planner)).status_code == 404
