"""Delivery reports and evaluation of measures: what a provider reports per period, the
refusals naming each field, who may enter and read what, the efficiency figures against known
data, the evaluation surveys' protected results, and the assessments with their history."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quartier.measures import delivery
from quartier.measures import schemas as s
from quartier.measures.models import Measure
from quartier.surveys import responses
from quartier.surveys import services as survey_services
from quartier.surveys.models import Channel
from tests.conftest import LoginFactory, TokenFactory

from ..surveys.conftest import Surveys, answers
from .conftest import Client, CreateMeasure, Headers, Json


async def _set_status(engine: AsyncEngine, measure_id: str, status: str) -> None:
    """The lifecycle up to delivery is tested in test_measures.py; here it is set directly."""
    async with async_sessionmaker(engine)() as db, db.begin():
        await db.execute(
            sa.update(Measure).where(Measure.id == uuid.UUID(measure_id)).values(status=status)
        )


@pytest.fixture
async def delivering(create_measure: CreateMeasure, engine: AsyncEngine) -> str:
    """A measure in delivery: target groups, two resource lines (FTE, 20,000 EUR per year) and
    two criteria (families counselled: 0 → 120; waiting days: 30 → 10)."""
    measure_id = await create_measure(
        target_groups=["Familien mit kleinen Kindern", "Alleinerziehende"],
        criteria=[
            {"indicator": "Familien in Beratung", "baseline": "0", "target": "120 pro Jahr"},
            {"indicator": "Wartezeit in Tagen", "baseline": "30", "target": "10"},
        ],
    )
    await _set_status(engine, measure_id, "in_delivery")
    return measure_id


def report(**changes: Any) -> Json:
    body: Json = {
        "period_start": "2025-01-01",
        "period_end": "2025-03-31",
        "outputs": [{"kind": "Sprechstunden", "count": 10}, {"kind": "Hausbesuche", "count": 4}],
        "participants": 40,
        "reach": [{"target_group": "Alleinerziehende", "count": 12}],
        "spend": [{"resource": 0, "amount": 6000}, {"resource": 1, "amount": 1000}],
        "criteria": [{"criterion": 0, "value": 25}, {"criterion": 1, "value": 21}],
        "note": "Start mit zwei Beraterinnen.",
    }
    body.update(changes)
    return body


async def _post(client: Client, measure_id: str, body: Json, headers: Headers) -> Any:
    return await client.post(
        f"/api/v1/measures/{measure_id}/delivery-reports", json=body, headers=headers
    )


def _fields(response: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def test_a_period_report_keeps_what_the_provider_reported(
    client: Client, planner: Headers, delivering: str
) -> None:
    response = await _post(client, delivering, report(), planner)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["outputs"] == [
        {"kind": "Sprechstunden", "count": 10},
        {"kind": "Hausbesuche", "count": 4},
    ]
    assert body["participants"] == 40
    assert body["reach"] == [{"target_group": "Alleinerziehende", "count": 12}]
    assert [(x["label"], x["amount"]) for x in body["spend"]] == [
        ("Sozialarbeit", 6000),
        ("Sachkosten", 1000),
    ]
    assert body["total_spend"] == 7000
    assert [(c["indicator"], c["value"]) for c in body["criteria"]] == [
        ("Familien in Beratung", 25),
        ("Wartezeit in Tagen", 21),
    ]
    listed = await client.get(f"/api/v1/measures/{delivering}/delivery-reports", headers=planner)
    assert [r["id"] for r in listed.json()] == [body["id"]]
    assert listed.json()[0]["entered_by"]


async def test_overlapping_periods_are_refused_naming_period_start(
    client: Client, planner: Headers, delivering: str
) -> None:
    assert (await _post(client, delivering, report(), planner)).status_code == 201
    response = await _post(
        client, delivering, report(period_start="2025-03-31", period_end="2025-06-30"), planner
    )
    assert response.status_code == 422
    assert "overlaps" in _fields(response)["period_start"]
    # the next period, starting the day after, is fine
    following = report(period_start="2025-04-01", period_end="2025-06-30")
    assert (await _post(client, delivering, following, planner)).status_code == 201


async def test_refusals_name_each_field(client: Client, planner: Headers, delivering: str) -> None:
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    response = await _post(
        client,
        delivering,
        report(
            period_end=tomorrow,
            outputs=[{"kind": "Kurse", "count": 1}, {"kind": "kurse ", "count": 2}],
            participants=5,
            reach=[
                {"target_group": "Senioren", "count": 1},
                {"target_group": "Alleinerziehende", "count": 9},
            ],
            spend=[{"resource": 7, "amount": 10}],
            criteria=[{"criterion": 2, "value": 1}],
        ),
        planner,
    )
    assert response.status_code == 422
    fields = _fields(response)
    assert set(fields) == {
        "period_end",
        "outputs[1].kind",
        "reach[0].target_group",
        "reach",
        "spend[0].resource",
        "criteria[0].criterion",
    }
    assert fields["criteria[0].criterion"] == "unknown criterion"
    backwards = await _post(
        client, delivering, report(period_start="2025-03-01", period_end="2025-02-01"), planner
    )
    assert backwards.status_code == 422
    assert set(_fields(backwards)) == {"period_end"}


async def test_negative_spend_does_not_match_the_contract(
    client: Client, planner: Headers, delivering: str
) -> None:
    response = await _post(
        client, delivering, report(spend=[{"resource": 0, "amount": -5}]), planner
    )
    assert response.status_code == 400
    assert "spend[0].amount" in response.text


async def test_reports_only_while_in_delivery(
    client: Client, planner: Headers, create_measure: CreateMeasure, engine: AsyncEngine
) -> None:
    measure_id = await create_measure()
    response = await _post(client, measure_id, report(criteria=[]), planner)
    assert response.status_code == 409
    assert response.json()["type"].endswith("measure-not-in-delivery")
    await _set_status(engine, measure_id, "evaluated")
    assert (await _post(client, measure_id, report(criteria=[]), planner)).status_code == 409


async def test_who_may_enter_and_read_reports(
    client: Client,
    delivering: str,
    login_as: LoginFactory,
    make_token: TokenFactory,
) -> None:
    provider = await make_token({"delivery:write"}, name="Träger-System")
    moderator = await login_as("moderator")
    reader = await make_token({"measures:read"})
    assert (await _post(client, delivering, report(), {})).status_code == 401
    assert (await _post(client, delivering, report(), moderator)).status_code == 403
    assert (await _post(client, delivering, report(), reader)).status_code == 403
    created = await _post(client, delivering, report(), provider)
    assert created.status_code == 201
    assert created.json()["entered_by"] == "Träger-System"
    url = f"/api/v1/measures/{delivering}/delivery-reports"
    assert (await client.get(url)).status_code == 401
    for headers in (provider, moderator, reader):
        assert len((await client.get(url, headers=headers)).json()) == 1
    # a provider's token does not assess
    assessment = await client.post(
        f"/api/v1/measures/{delivering}/assessments",
        json={"decision": "continue", "reasons": "gut"},
        headers=provider,
    )
    assert assessment.status_code == 403


async def test_efficiency_and_criteria_against_known_data(
    client: Client, planner: Headers, delivering: str
) -> None:
    # Q1 (90 days): 40 participants, 10 + 4 outputs, 7,000 EUR; Q2 (91 days): 60, 15 + 6, 8,000
    await _post(client, delivering, report(), planner)
    await _post(
        client,
        delivering,
        report(
            period_start="2025-04-01",
            period_end="2025-06-30",
            outputs=[{"kind": "Sprechstunden", "count": 15}, {"kind": "Hausbesuche", "count": 6}],
            participants=60,
            reach=[
                {"target_group": "Alleinerziehende", "count": 20},
                {"target_group": "Familien mit kleinen Kindern", "count": 30},
            ],
            spend=[{"resource": 0, "amount": 6500}, {"resource": 1, "amount": 1500}],
            criteria=[{"criterion": 0, "value": 35}, {"criterion": 1, "value": 9}],
        ),
        planner,
    )
    body = (await client.get(f"/api/v1/measures/{delivering}/evaluation", headers=planner)).json()
    assert body["public"] is False
    efficiency = body["efficiency"]
    assert efficiency["periods"] == 2
    assert efficiency["days"] == 181
    assert efficiency["total_spend"] == 15000
    assert efficiency["participants"] == 100
    assert efficiency["cost_per_participant"] == 150
    assert {o["kind"]: (o["count"], o["cost_per_output"]) for o in efficiency["outputs"]} == {
        "Hausbesuche": (10, 1500),
        "Sprechstunden": (25, 600),
    }
    # 20,000 EUR per year, pro rata over 181 days; the FTE line has no EUR plan
    assert efficiency["planned_eur"] == round(20000 * 181 / 365, 2)
    lines = {r["label"]: r for r in efficiency["resources"]}
    assert lines["Sozialarbeit"]["planned_eur"] is None
    assert lines["Sozialarbeit"]["spent_eur"] == 12500
    assert lines["Sachkosten"]["spent_eur"] == 2500
    assert {r["target_group"]: r["count"] for r in efficiency["reach"]} == {
        "Alleinerziehende": 32,
        "Familien mit kleinen Kindern": 30,
    }
    counselled, waiting = body["criteria"]
    assert [v["value"] for v in counselled["values"]] == [25, 35]
    assert counselled["target_value"] == 120
    assert counselled["trend"] == "rising"
    assert counselled["attainment"] == "not_met"
    assert counselled["progress"] == round(35 / 120, 4)
    # waiting days: lower is better, 9 ≤ 10 is met
    assert waiting["direction"] == "lower"
    assert waiting["trend"] == "falling"
    assert waiting["attainment"] == "met"
    assert waiting["progress"] == round((9 - 30) / (10 - 30), 4)


def test_criterion_figures_without_numbers() -> None:
    criterion = s.Criterion(indicator="Zufriedenheit", target="deutlich besser")
    found = delivery.criterion_evaluation(0, criterion, [])
    assert (found.target_value, found.latest, found.trend, found.attainment) == (
        None,
        None,
        None,
        "unknown",
    )
    assert delivery.first_number("2,5 % der Familien") == 2.5


async def test_assessments_keep_their_history_and_publish_the_evaluation(
    client: Client, planner: Headers, delivering: str
) -> None:
    await _post(client, delivering, report(), planner)
    url = f"/api/v1/measures/{delivering}/evaluation"
    assert (await client.get(url)).status_code == 403
    first = await client.post(
        f"/api/v1/measures/{delivering}/assessments",
        json={"decision": "adapt", "reasons": "Wartezeit noch zu lang."},
        headers=planner,
    )
    assert first.status_code == 201, first.text
    second = await client.post(
        f"/api/v1/measures/{delivering}/assessments",
        json={"decision": "continue", "reasons": "Zweite Beraterin eingestellt."},
        headers=planner,
    )
    assert second.status_code == 201
    staff = (await client.get(url, headers=planner)).json()
    assert staff["assessment"]["decision"] == "continue"
    assert [a["decision"] for a in staff["history"]] == ["continue", "adapt"]
    assert staff["history"][1]["assessed_by"]
    public = (await client.get(url)).json()
    assert public["public"] is True
    assert public["assessment"]["reasons"] == "Zweite Beraterin eingestellt."
    assert all(a["assessed_by"] is None for a in public["history"])
    assert public["efficiency"]["reach"] == []
    assert public["efficiency"]["cost_per_participant"] == 175
    assert public["surveys"] == []


async def test_assessments_refuse_unknown_decisions_and_early_states(
    client: Client, planner: Headers, create_measure: CreateMeasure
) -> None:
    measure_id = await create_measure()
    url = f"/api/v1/measures/{measure_id}/assessments"
    bad = await client.post(url, json={"decision": "stop", "reasons": "x"}, headers=planner)
    assert bad.status_code == 400
    early = await client.post(url, json={"decision": "end", "reasons": "x"}, headers=planner)
    assert early.status_code == 409
    assert early.json()["type"].endswith("measure-not-assessable")


async def test_evaluation_surveys_show_only_their_protected_results(
    client: Client,
    planner: Headers,
    delivering: str,
    measuring_process: uuid.UUID,
    surveys: Surveys,
    session: AsyncSession,
    areas: dict[str, uuid.UUID],
) -> None:
    created = await surveys.create(process_id=measuring_process)
    loaded = await survey_services.get_survey(session, uuid.UUID(created["id"]))
    definition = survey_services.definition_of(loaded)
    rows = [
        (responses.prepare(definition, answers(area="010101")), areas["010101"]) for _ in range(12)
    ]
    await responses.insert_prepared(session, loaded, rows, Channel.PAPER)
    await session.commit()
    link = f"/api/v1/measures/{delivering}/evaluation-surveys/{created['id']}"
    linked = await client.put(link, headers=planner)
    assert linked.status_code == 200, linked.text
    again = await client.put(link, headers=planner)  # linking again changes nothing
    assert [x["survey_id"] for x in again.json()] == [created["id"]]
    evaluation = (
        await client.get(f"/api/v1/measures/{delivering}/evaluation", headers=planner)
    ).json()
    results = (await client.get(f"/api/v1/surveys/{created['id']}/results", headers=planner)).json()
    (shown,) = evaluation["surveys"]
    assert shown["survey_id"] == created["id"]
    shown["results"].pop("generated_at")
    results.pop("generated_at")
    assert shown["results"] == results
    assert (await client.delete(link, headers=planner)).status_code == 204
    after = await client.get(f"/api/v1/measures/{delivering}/evaluation", headers=planner)
    assert after.json()["surveys"] == []


async def test_a_survey_of_another_process_is_refused(
    client: Client, planner: Headers, delivering: str, surveys: Surveys
) -> None:
    other = await surveys.create()  # in the surveys' own process
    response = await client.put(
        f"/api/v1/measures/{delivering}/evaluation-surveys/{other['id']}", headers=planner
    )
    assert response.status_code == 422
    assert set(_fields(response)) == {"survey_id"}


HTML = {"Accept": "text/html", "Accept-Language": "en"}


def _csrf(text: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match is not None
    return match.group(1)


async def test_the_report_form_names_each_error_and_saves(
    client: Client, planner: Headers, delivering: str
) -> None:
    headers = {**planner, **HTML}
    url = f"/dashboard/measures/{delivering}/delivery"
    page = await client.get(url, headers=headers)
    assert page.status_code == 200
    assert 'name="reach-1-count"' in page.text and 'name="criteria-1-value"' in page.text
    form = {
        "csrf_token": _csrf(page.text),
        "period_start": "2025-01-01",
        "period_end": "2025-03-31",
        "outputs-0-kind": "Sprechstunden",
        "outputs-0-count": "10",
        "participants": "40",
        "reach-1-count": "12",
        "spend-1-amount": "1.000,50",
        "criteria-0-value": "25",
    }
    bad = await client.post(
        url, data={**form, "participants": "viele", "spend-0-amount": "-3"}, headers=headers
    )
    assert bad.status_code == 422
    assert 'href="#participants"' in bad.text and 'href="#spend-0-amount"' in bad.text
    assert 'value="Sprechstunden"' in bad.text  # what was typed stays
    unknown = await client.post(url, data={**form, "reach-1-count": "50"}, headers=headers)
    assert unknown.status_code == 422 and 'href="#reach"' in unknown.text
    saved = await client.post(url, data=form, headers=headers, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    overlapping = await client.post(url, data=form, headers=headers)
    assert overlapping.status_code == 422
    assert 'href="#period_start"' in overlapping.text
    assert "overlaps the report for 2025-01-01" in overlapping.text
    (stored,) = (
        await client.get(f"/api/v1/measures/{delivering}/delivery-reports", headers=planner)
    ).json()
    assert stored["total_spend"] == 1000.5
    assert stored["reach"] == [{"target_group": "Alleinerziehende", "count": 12}]


async def test_the_assessment_form_records_and_the_measure_page_shows_it(
    client: Client, planner: Headers, delivering: str
) -> None:
    headers = {**planner, **HTML}
    await _post(client, delivering, report(), planner)
    page = await client.get(f"/dashboard/measures/{delivering}/evaluation", headers=headers)
    assert page.status_code == 200
    assert "175.0" in page.text  # cost per participant: 7,000 EUR / 40
    url = f"/dashboard/measures/{delivering}/assessment"
    missing = await client.post(url, data={"csrf_token": _csrf(page.text)}, headers=headers)
    assert missing.status_code == 422
    assert 'href="#decision"' in missing.text and 'href="#reasons"' in missing.text
    public = await client.get(f"/measures/{delivering}", headers=HTML)
    assert 'id="evaluation"' not in public.text
    done = await client.post(
        url,
        data={"csrf_token": _csrf(page.text), "decision": "adapt", "reasons": "Mehr Abende."},
        headers=headers,
        follow_redirects=False,
    )
    assert done.status_code == 303
    public = await client.get(f"/measures/{delivering}", headers=HTML)
    assert 'id="evaluation"' in public.text and "Mehr Abende." in public.text
