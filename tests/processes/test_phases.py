"""The phase state machine: one active phase kept by the database, activation with history,
race-safe switching, phase notes and dates, and the next cycle."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quartier.processes import models as m
from quartier.processes import schemas as s
from quartier.processes import services
from quartier.processes.phases import PhaseKey
from tests.conftest import LoginFactory

from .conftest import Client, CreateProcess, Headers

ALICE = services.Actor(kind=m.ActorKind.STAFF, id=uuid.uuid4(), name="Alice Planner")
BOB = services.Actor(kind=m.ActorKind.TOKEN, id=uuid.uuid4(), name="Bob Integration")


async def _new_process(engine: AsyncEngine) -> uuid.UUID:
    async with async_sessionmaker(engine, expire_on_commit=False)() as db, db.begin():
        return await services.create_process(
            db, s.ProcessCreate(title="Test", topic="Thema"), services.SYSTEM
        )


# -- the database keeps the invariant ------------------------------------------------------


async def test_database_refuses_a_second_active_phase(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    process_id = await _new_process(engine)
    with pytest.raises(IntegrityError, match="uq_process_phases_one_active"):
        await session.execute(
            update(m.ProcessPhase)
            .where(
                m.ProcessPhase.process_id == process_id,
                m.ProcessPhase.phase == PhaseKey.EVALUATION,
            )
            .values(is_active=True)
        )
    await session.rollback()


async def test_database_refuses_a_second_active_phase_through_the_orm(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    process_id = await _new_process(engine)
    phase = await session.scalar(
        select(m.ProcessPhase).where(
            m.ProcessPhase.process_id == process_id, m.ProcessPhase.phase == "needs_assessment"
        )
    )
    assert phase is not None
    phase.is_active = True
    with pytest.raises(IntegrityError):
        await session.commit()


async def test_database_refuses_a_process_without_an_active_phase(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    process_id = await _new_process(engine)
    await session.execute(
        text("UPDATE process_phases SET is_active = false WHERE process_id = :id"),
        {"id": process_id},
    )
    # checked at commit (deferred), so a switch may deactivate first and activate second
    with pytest.raises(IntegrityError, match="exactly one must be active"):
        await session.commit()


async def test_database_refuses_a_process_whose_phases_are_missing(
    session: AsyncSession,
) -> None:
    session.add(m.PlanningProcess(title="Ohne Phasen", topic="x"))
    with pytest.raises(IntegrityError, match="exactly one must be active"):
        await session.commit()


async def test_database_lets_a_new_process_start_only_in_guidelines(
    session: AsyncSession,
) -> None:
    process = m.PlanningProcess(title="Falscher Start", topic="x")
    process.phases = [
        m.ProcessPhase(
            phase=info.key, position=info.position, is_active=info.key is PhaseKey.EVALUATION
        )
        for info in services.PHASES
    ]
    session.add(process)
    with pytest.raises(IntegrityError, match="starts in guidelines"):
        await session.commit()


# -- activation ------------------------------------------------------------------------------


async def test_activation_switches_the_phase_and_records_who_and_when(
    client: Client, planner: Headers, create_process: CreateProcess, login_as: LoginFactory
) -> None:
    process = await create_process(publish=True)
    base = f"/api/v1/processes/{process['id']}"
    response = await client.post(f"{base}/phases/needs_assessment/activate", headers=planner)
    assert response.status_code == 200, response.text
    activation = response.json()
    assert activation["phase"] == "needs_assessment"
    assert activation["previous_phase"] == "guidelines"
    assert activation["actor_kind"] == "staff"
    assert activation["actor_name"].startswith("Test planner")

    phases = (await client.get(f"{base}/phases")).json()
    assert [p["key"] for p in phases if p["is_active"]] == ["needs_assessment"]
    assert (await client.get(base)).json()["active_phase"] == "needs_assessment"

    history = await client.get(f"{base}/activations", headers=planner)
    assert history.status_code == 200
    entries = history.json()["items"]
    assert [(e["previous_phase"], e["phase"]) for e in entries] == [
        (None, "guidelines"),
        ("guidelines", "needs_assessment"),
    ]
    assert entries[0]["actor_kind"] == "token"  # the fixture created it with a token
    assert entries[0]["actor_name"] == "planning integration"

    # the history names staff, so it is not public
    assert (await client.get(f"{base}/activations")).status_code == 401


async def test_activating_the_active_phase_is_a_conflict(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    response = await client.post(
        f"/api/v1/processes/{process['id']}/phases/guidelines/activate", headers=planner
    )
    assert response.status_code == 409
    assert "already the active phase" in response.json()["detail"]


async def test_unknown_phase_is_a_400_naming_it(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    response = await client.post(
        f"/api/v1/processes/{process['id']}/phases/brainstorming/activate", headers=planner
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "phase"


async def test_concurrent_activations_are_serialised_by_the_process_lock(
    engine: AsyncEngine,
) -> None:
    """Two sessions switch at once: the second waits for the first's lock, then sees its
    result, so both are recorded in order and exactly one phase ends up active."""
    process_id = await _new_process(engine)
    maker = async_sessionmaker(engine, expire_on_commit=False)
    async with maker() as first, maker() as second:
        await services.activate_phase(first, process_id, PhaseKey.NEEDS_ASSESSMENT, ALICE)
        waiting = asyncio.create_task(
            services.activate_phase(second, process_id, PhaseKey.MEASURE_PLANNING, BOB)
        )
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the second switch must wait for the first one's lock"
        await first.commit()
        activation = await asyncio.wait_for(waiting, timeout=10)
        await second.commit()
    assert activation.previous_phase is PhaseKey.NEEDS_ASSESSMENT

    async with maker() as check:
        active = (
            await check.scalars(
                select(m.ProcessPhase.phase).where(
                    m.ProcessPhase.process_id == process_id, m.ProcessPhase.is_active
                )
            )
        ).all()
        history = (
            await check.execute(
                select(
                    m.PhaseActivation.previous_phase,
                    m.PhaseActivation.phase,
                    m.PhaseActivation.actor_name,
                )
                .where(m.PhaseActivation.process_id == process_id)
                .order_by(m.PhaseActivation.id)
            )
        ).all()
    assert active == [PhaseKey.MEASURE_PLANNING]
    assert [tuple(row) for row in history] == [
        (None, PhaseKey.GUIDELINES, "Quartier"),
        (PhaseKey.GUIDELINES, PhaseKey.NEEDS_ASSESSMENT, "Alice Planner"),
        (PhaseKey.NEEDS_ASSESSMENT, PhaseKey.MEASURE_PLANNING, "Bob Integration"),
    ]


async def test_concurrent_activation_requests_both_succeed_in_some_order(
    client: Client, planner: Headers, writer: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True)
    base = f"/api/v1/processes/{process['id']}"
    first, second = await asyncio.gather(
        client.post(f"{base}/phases/evaluation/activate", headers=planner),
        client.post(f"{base}/phases/service_delivery/activate", headers=writer),
    )
    assert {first.status_code, second.status_code} == {200}, (first.text, second.text)
    history = (await client.get(f"{base}/activations", headers=planner)).json()["items"]
    assert len(history) == 3
    # each switch saw the phase the other left: the chain is unbroken
    assert history[1]["previous_phase"] == "guidelines"
    assert history[2]["previous_phase"] == history[1]["phase"]
    phases = (await client.get(f"{base}/phases")).json()
    assert [p["key"] for p in phases if p["is_active"]] == [history[2]["phase"]]


async def test_archived_processes_cannot_switch_phases(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True)
    base = f"/api/v1/processes/{process['id']}"
    await client.post(f"{base}/archive", headers=planner)
    response = await client.post(f"{base}/phases/evaluation/activate", headers=planner)
    assert response.status_code == 409


# -- notes and dates -------------------------------------------------------------------------


async def test_phase_notes_and_dates_are_changed_field_by_field(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    url = f"/api/v1/processes/{process['id']}/phases/needs_assessment"
    first = await client.patch(
        url,
        json={
            "planned_start": "2025-04-01",
            "planned_end": "2025-10-31",
            "what_is_done": "Befragung von Familien",
            "who_takes_part": "Familien, Kitas, Träger",
            "watch_out_for": "Mehrsprachig befragen",
        },
        headers=planner,
    )
    assert first.status_code == 200, first.text
    second = await client.patch(url, json={"planned_end": None}, headers=planner)
    body = second.json()
    assert body["planned_start"] == "2025-04-01"
    assert body["planned_end"] is None
    assert body["what_is_done"] == "Befragung von Familien"
    assert body["watch_out_for"] == "Mehrsprachig befragen"


async def test_planned_end_before_start_is_refused_naming_the_field(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    url = f"/api/v1/processes/{process['id']}/phases/evaluation"
    response = await client.patch(
        url, json={"planned_start": "2026-05-01", "planned_end": "2026-04-01"}, headers=planner
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "planned_end"
    unknown = await client.patch(url, json={"notes": "x"}, headers=planner)
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "notes"


# -- the next cycle --------------------------------------------------------------------------


async def test_next_cycle_starts_from_social_reporting(
    client: Client,
    planner: Headers,
    create_process: CreateProcess,
    areas: dict[str, uuid.UUID],
) -> None:
    process = await create_process(publish=True, area_codes=["010221", "08"])
    base = f"/api/v1/processes/{process['id']}"
    refused = await client.post(f"{base}/next-cycle", headers=planner)
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/wrong-phase"
    assert "guidelines" in refused.json()["detail"]

    await client.post(f"{base}/phases/social_reporting/activate", headers=planner)
    response = await client.post(f"{base}/next-cycle", headers=planner)
    assert response.status_code == 201, response.text
    successor = response.json()
    assert response.headers["location"] == f"/api/v1/processes/{successor['id']}"
    assert successor["cycle"] == 2
    assert successor["previous_process_id"] == process["id"]
    assert successor["status"] == "draft"
    assert successor["active_phase"] == "guidelines"
    assert successor["title"] == process["title"]
    assert successor["topic"] == process["topic"]
    assert successor["mandate"] == process["mandate"]
    assert [a["code"] for a in successor["areas"]] == ["010221", "08"]

    previous = (await client.get(base, headers=planner)).json()
    assert previous["next_process_id"] == successor["id"]
    twice = await client.post(f"{base}/next-cycle", headers=planner)
    assert twice.status_code == 409
