"""Draft measures: versions, the difference between versions, and the lifecycle with its
phase rules and recorded transitions."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.processes import services as processes
from quartier.processes.phases import PhaseKey
from tests.conftest import LoginFactory
from tests.ideas.conftest import Ideas

from .conftest import Client, CreateMeasure, Headers, measure_body, set_premoderation

HTML = {"Accept": "text/html", "Accept-Language": "en"}


async def _activate(engine: AsyncEngine, process_id: uuid.UUID, phase: PhaseKey) -> None:
    async with async_sessionmaker(engine)() as db, db.begin():
        await processes.activate_phase(db, process_id, phase, processes.SYSTEM)


async def test_a_drafted_measure_keeps_its_structured_fields(
    client: Client, planner: Headers, create_measure: CreateMeasure, organisation: uuid.UUID
) -> None:
    measure_id = await create_measure(provider_id=str(organisation))
    body = (await client.get(f"/api/v1/measures/{measure_id}", headers=planner)).json()
    assert body["status"] == "draft"
    assert body["current_version"] == 1
    content = body["content"]
    assert content["resources"][0] == {
        "label": "Sozialarbeit",
        "amount": 1.5,
        "unit": "fte",
        "period": "per_year",
    }
    assert content["provider"] == {"id": str(organisation), "name": "Caritas Berlin"}
    assert content["areas"][0]["code"] == "0101"
    assert content["criteria"][0]["due"] == "2028-12-31"
    assert [s["key"] for s in content["sections"]] == ["offer", "costs"]


async def test_drafts_are_hidden_from_the_public(
    client: Client, create_measure: CreateMeasure, measuring_process: uuid.UUID
) -> None:
    measure_id = await create_measure()
    assert (await client.get(f"/api/v1/measures/{measure_id}")).status_code == 404
    listed = await client.get(f"/api/v1/processes/{measuring_process}/measures")
    assert listed.json()["items"] == []


async def test_bad_references_are_named(
    client: Client, planner: Headers, measuring_process: uuid.UUID
) -> None:
    response = await client.post(
        f"/api/v1/processes/{measuring_process}/measures",
        json=measure_body(
            area_codes=["nope"],
            sections=[
                {"key": "a", "title": "A", "body": "x"},
                {"key": "a", "title": "B", "body": "y"},
            ],
        ),
        headers=planner,
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields & {"sections[0].key", "area_codes[0]"}
    response = await client.post(
        f"/api/v1/processes/{measuring_process}/measures",
        json=measure_body(
            resources=[{"label": "x", "amount": -1, "unit": "fte", "period": "once"}]
        ),
        headers=planner,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].startswith("resources")


async def test_editing_creates_versions_and_the_diff_names_each_change(
    client: Client, planner: Headers, create_measure: CreateMeasure
) -> None:
    measure_id = await create_measure()
    changed = measure_body(
        title="Familienzentrum Moabit-West",
        resources=[{"label": "Sozialarbeit", "amount": 2, "unit": "fte", "period": "per_year"}],
        sections=[
            {
                "key": "offer",
                "title": "Angebot",
                "body": "Offene Sprechstunde dienstags und freitags.",
            },
            {"key": "place", "title": "Ort", "body": "Im Stadtteilzentrum."},
        ],
    )
    response = await client.put(f"/api/v1/measures/{measure_id}", json=changed, headers=planner)
    assert response.status_code == 200, response.text
    assert response.json()["current_version"] == 2
    versions = (await client.get(f"/api/v1/measures/{measure_id}/versions", headers=planner)).json()
    assert [v["title"] for v in versions] == [
        "Familienzentrum Moabit",
        "Familienzentrum Moabit-West",
    ]
    first = (await client.get(f"/api/v1/measures/{measure_id}?version=1", headers=planner)).json()
    assert first["content"]["title"] == "Familienzentrum Moabit"

    diff = (
        await client.get(f"/api/v1/measures/{measure_id}/diff?from=1&to=2", headers=planner)
    ).json()
    changes = {c["field"]: c for c in diff["changes"]}
    assert changes["title"]["change"] == "changed"
    assert changes["resources[0]"]["before"] == "Sozialarbeit: 1.5 FTE per year"
    assert changes["resources[0]"]["after"] == "Sozialarbeit: 2 FTE per year"
    assert changes["resources[1]"]["change"] == "removed"
    assert changes["sections.offer"]["change"] == "changed"
    assert changes["sections.costs"]["change"] == "removed"
    assert changes["sections.place"]["change"] == "added"
    assert "criteria[0]" not in changes


async def test_the_lifecycle_runs_through_the_phases_and_is_recorded(
    client: Client,
    planner: Headers,
    create_measure: CreateMeasure,
    engine: AsyncEngine,
    measuring_process: uuid.UUID,
) -> None:
    measure_id = await create_measure()
    base = f"/api/v1/measures/{measure_id}"

    async def step(name: str, expected: int = 200) -> dict[str, object]:
        response = await client.post(f"{base}/{name}", json={"reason": name}, headers=planner)
        assert response.status_code == expected, response.text
        body: dict[str, object] = response.json()
        return body

    # adopt before a consultation: not from a draft
    assert (await step("adopt", 409))["type"] == "/problems/invalid-transition"
    consultation = await client.post(
        f"{base}/consultation", json={"reason": "ready"}, headers=planner
    )
    assert consultation.status_code == 201
    assert consultation.json()["version"] == 1
    # a consulted measure cannot be edited until it is revised
    assert (await client.put(base, json=measure_body(), headers=planner)).status_code == 409
    assert (await step("revise"))["status"] == "revised"
    assert (
        await client.put(base, json=measure_body(title="Neu"), headers=planner)
    ).status_code == 200
    assert (await step("adopt"))["status"] == "adopted"
    # resourcing belongs to the next phase
    assert (await step("resource", 409))["type"] == "/problems/wrong-phase"
    await _activate(engine, measuring_process, PhaseKey.RESOURCE_PROVISION)
    assert (await step("resource"))["status"] == "resourced"
    await _activate(engine, measuring_process, PhaseKey.SERVICE_DELIVERY)
    assert (await step("start-delivery"))["status"] == "in_delivery"
    await _activate(engine, measuring_process, PhaseKey.EVALUATION)
    assert (await step("evaluate"))["status"] == "evaluated"
    assert (await step("withdraw", 409))["type"] == "/problems/invalid-transition"

    history = (await client.get(f"{base}/transitions", headers=planner)).json()
    assert [(t["from_status"], t["to_status"]) for t in history] == [
        ("draft", "in_consultation"),
        ("in_consultation", "revised"),
        ("revised", "adopted"),
        ("adopted", "resourced"),
        ("resourced", "in_delivery"),
        ("in_delivery", "evaluated"),
    ]
    assert history[2]["version"] == 2
    assert history[2]["phase"] == "measure_planning"
    assert history[0]["actor_name"] == "Test planner"
    assert history[1]["reason"] == "revise"


async def test_withdrawing_closes_an_open_consultation(
    client: Client, planner: Headers, create_measure: CreateMeasure
) -> None:
    measure_id = await create_measure()
    await client.post(
        f"/api/v1/measures/{measure_id}/consultation", json={"reason": "r"}, headers=planner
    )
    response = await client.post(
        f"/api/v1/measures/{measure_id}/withdraw", json={"reason": "Kein Bedarf"}, headers=planner
    )
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert response.json()["consultation"]["is_open"] is False


async def test_a_consultation_needs_the_measure_planning_phase(
    client: Client,
    planner: Headers,
    create_measure: CreateMeasure,
    engine: AsyncEngine,
    measuring_process: uuid.UUID,
) -> None:
    measure_id = await create_measure()
    await _activate(engine, measuring_process, PhaseKey.RESOURCE_PROVISION)
    response = await client.post(
        f"/api/v1/measures/{measure_id}/consultation", json={"reason": "r"}, headers=planner
    )
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/wrong-phase"
    stored = await client.get(f"/api/v1/measures/{measure_id}", headers=planner)
    assert stored.json()["status"] == "draft"


async def test_accepted_ideas_lead_to_the_measure_and_show_it(
    client: Client,
    planner: Headers,
    measuring_process: uuid.UUID,
    create_measure: CreateMeasure,
    login_as: LoginFactory,
    engine: AsyncEngine,
) -> None:
    """Planners link the ideas they accepted to the measure they led to: the measure shows the
    idea, the idea shows the measure (once it is no draft), the chain from needs to measures
    lists the idea under its need, and the diff names the change."""
    await set_premoderation(engine, measuring_process, on=True)  # ideas wait for moderators
    moderator = await login_as("moderator")
    ideas = Ideas(client=client, process_id=measuring_process, moderator=moderator, planner=planner)
    idea = await ideas.published(need_category="childcare", area_code="010101")
    idea_id = idea["id"]
    url = f"/api/v1/processes/{measuring_process}/measures"

    refused = await client.post(url, json=measure_body(idea_ids=[idea_id]), headers=planner)
    assert refused.status_code == 422  # not accepted yet
    assert refused.json()["errors"][0]["field"] == "idea_ids[0]"
    answered = await client.put(
        f"/api/v1/ideas/{idea_id}/answer",
        json={"official_status": "accepted", "answer": "Wir nehmen die Idee auf."},
        headers=planner,
    )
    assert answered.status_code == 200, answered.text
    goal = await client.post(
        f"/api/v1/processes/{measuring_process}/goals",
        json={
            "statement": "Jede Familie findet Beratung.",
            "need_categories": ["childcare"],
            "area_codes": ["010101"],
        },
        headers=planner,
    )
    assert goal.status_code == 201, goal.text
    measure_id = await create_measure(idea_ids=[idea_id], goal_ids=[goal.json()["id"]])

    measure = (await client.get(f"/api/v1/measures/{measure_id}", headers=planner)).json()
    assert measure["content"]["ideas"] == [
        {"id": idea_id, "title": idea["title"], "official_status": "accepted"}
    ]
    # a draft is not shown to the public on the idea; staff see it
    assert (await client.get(f"/api/v1/ideas/{idea_id}")).json()["measures"] == []
    staff = (await client.get(f"/api/v1/ideas/{idea_id}", headers=planner)).json()
    assert [m["id"] for m in staff["measures"]] == [measure_id]
    consulted = await client.post(
        f"/api/v1/measures/{measure_id}/consultation",
        json={"reason": "Beteiligung", "days": 14, "criteria": []},
        headers=planner,
    )
    assert consulted.status_code == 201, consulted.text
    public = (await client.get(f"/api/v1/ideas/{idea_id}")).json()
    assert public["measures"] == [
        {"id": measure_id, "title": "Familienzentrum Moabit", "status": "in_consultation"}
    ]
    idea_page = await client.get(f"/ideas/{idea_id}", headers=HTML)
    assert idea_page.status_code == 200, idea_page.text
    assert "Measures this idea led to" in idea_page.text
    assert f'href="/measures/{measure_id}"' in idea_page.text
    measure_page = await client.get(f"/measures/{measure_id}", headers=HTML)
    assert f'href="/ideas/{idea_id}"' in measure_page.text

    trace = (await client.get(f"/api/v1/processes/{measuring_process}/traceability")).json()
    need = next(n for n in trace["needs"] if n["area"] and n["area"]["code"] == "010101")
    assert [(i["id"], i["measure_ids"]) for i in need["ideas"]] == [(idea_id, [measure_id])]
    trace_page = await client.get(f"/processes/{measuring_process}/traceability", headers=HTML)
    assert f'href="/ideas/{idea_id}"' in trace_page.text and "led to a measure" in trace_page.text

    # a new version without the idea: the diff names it
    revised = await client.post(
        f"/api/v1/measures/{measure_id}/revise", json={"reason": "fertig"}, headers=planner
    )
    assert revised.status_code == 200, revised.text
    edited = await client.put(
        f"/api/v1/measures/{measure_id}",
        json=measure_body(goal_ids=[goal.json()["id"]]),
        headers=planner,
    )
    assert edited.status_code == 200, edited.text
    diff = (
        await client.get(f"/api/v1/measures/{measure_id}/diff?from=1&to=2", headers=planner)
    ).json()
    ideas_change = next(c for c in diff["changes"] if c["field"] == "ideas")
    assert ideas_change["change"] == "removed" and ideas_change["before"] == idea["title"]


async def test_a_goal_rests_on_a_published_idea_and_the_decision_template_names_it(
    client: Client,
    planner: Headers,
    measuring_process: uuid.UUID,
    create_measure: CreateMeasure,
    login_as: LoginFactory,
    engine: AsyncEngine,
) -> None:
    await set_premoderation(engine, measuring_process, on=True)  # ideas wait for moderators
    moderator = await login_as("moderator")
    ideas = Ideas(client=client, process_id=measuring_process, moderator=moderator, planner=planner)
    idea = await ideas.published(need_category="childcare", area_code="010101")
    pending = await ideas.submit(title="Noch nicht geprüfte Idee")
    url = f"/api/v1/processes/{measuring_process}/goals"
    body = {"statement": "Jede Familie findet Beratung.", "need_categories": ["childcare"]}

    refused = await client.post(
        url,
        json={**body, "evidence": [{"kind": "idea", "idea_id": pending.json()["idea"]["id"]}]},
        headers=planner,
    )
    assert refused.status_code == 422, refused.text  # awaiting moderation: not yet evidence
    assert refused.json()["errors"][0]["field"] == "evidence[0].idea_id"
    goal = await client.post(
        url, json={**body, "evidence": [{"kind": "idea", "idea_id": idea["id"]}]}, headers=planner
    )
    assert goal.status_code == 201, goal.text
    shown = (await client.get(f"/api/v1/goals/{goal.json()['id']}")).json()
    assert shown["evidence"] == [
        {"kind": "idea", "label": idea["title"], "url": None, "figure": None, "idea_id": idea["id"]}
    ]
    measure_id = await create_measure(goal_ids=[goal.json()["id"]])
    page = await client.get(
        f"/dashboard/measures/{measure_id}/decision-template?lang=en", headers={**planner, **HTML}
    )
    assert page.status_code == 200, page.text
    assert f"Idea from residents: {idea['title']}" in page.text
