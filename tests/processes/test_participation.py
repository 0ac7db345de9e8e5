"""The participation registry: default phases per module, per-process overrides, `is_open`,
the guard for participation endpoints, and the status operation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar, post
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quartier.core.errors import EXCEPTION_HANDLERS, NotFound, PhaseClosed
from quartier.core.security import access
from quartier.processes import participation, services
from quartier.processes import schemas as s
from quartier.processes.participation import OpenParticipation, require_open
from quartier.processes.phases import PhaseKey

from .conftest import Client, CreateProcess, Headers


def test_registry_declares_the_default_phases_from_the_design() -> None:
    defaults = {module.key: module.default_phases for module in participation.modules()}
    assert defaults == {
        "surveys": {PhaseKey.NEEDS_ASSESSMENT, PhaseKey.EVALUATION},
        "ideas": {PhaseKey.NEEDS_ASSESSMENT, PhaseKey.MEASURE_PLANNING},
        "measure_feedback": {PhaseKey.MEASURE_PLANNING, PhaseKey.EVALUATION},
    }


def test_a_module_key_is_registered_once() -> None:
    clash = participation.ParticipationModule(
        key="surveys",
        name="Other",
        call_to_action="Other",
        default_phases=frozenset(),
        actions=(),
    )
    with pytest.raises(ValueError, match="already registered"):
        participation.register(clash)


def test_the_guard_refuses_unregistered_modules_at_start_up() -> None:
    with pytest.raises(NotFound):
        require_open("petitions")


async def _process(
    engine: AsyncEngine, *, publish: bool = True, phase: PhaseKey | None = None
) -> uuid.UUID:
    async with async_sessionmaker(engine, expire_on_commit=False)() as db, db.begin():
        process_id = await services.create_process(
            db, s.ProcessCreate(title="Beteiligung", topic="Test"), services.SYSTEM
        )
        if phase is not None:
            await services.activate_phase(db, process_id, phase, services.SYSTEM)
        if publish:
            await services.publish_process(db, process_id)
    return process_id


async def test_is_open_follows_the_active_phase(engine: AsyncEngine, session: AsyncSession) -> None:
    needs = await _process(engine, phase=PhaseKey.NEEDS_ASSESSMENT)
    planning = await _process(engine, phase=PhaseKey.MEASURE_PLANNING)
    guidelines = await _process(engine)
    expected = {
        needs: {"surveys": True, "ideas": True, "measure_feedback": False},
        planning: {"surveys": False, "ideas": True, "measure_feedback": True},
        guidelines: {"surveys": False, "ideas": False, "measure_feedback": False},
    }
    for process_id, modules in expected.items():
        for module, is_open in modules.items():
            assert await participation.is_open(session, process_id, module) is is_open, module


async def test_nothing_is_open_in_drafts_or_archived_processes(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    draft = await _process(engine, publish=False, phase=PhaseKey.NEEDS_ASSESSMENT)
    assert not await participation.is_open(session, draft, "surveys")
    archived = await _process(engine, phase=PhaseKey.NEEDS_ASSESSMENT)
    await services.archive_process(session, archived)
    assert not await participation.is_open(session, archived, "surveys")
    with pytest.raises(PhaseClosed, match="archived"):
        await participation.ensure_open(session, archived, "surveys")
    with pytest.raises(NotFound):
        await participation.ensure_open(session, draft, "surveys")


async def test_overrides_open_and_close_a_module_per_phase(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    process_id = await _process(engine, phase=PhaseKey.NEEDS_ASSESSMENT)
    await services.set_participation_override(
        session, process_id, "surveys", PhaseKey.NEEDS_ASSESSMENT, False
    )
    await services.set_participation_override(
        session, process_id, "measure_feedback", PhaseKey.NEEDS_ASSESSMENT, True
    )
    assert not await participation.is_open(session, process_id, "surveys")
    assert await participation.is_open(session, process_id, "measure_feedback")
    assert await participation.is_open(session, process_id, "ideas")  # default untouched
    await services.remove_participation_override(
        session, process_id, "surveys", PhaseKey.NEEDS_ASSESSMENT
    )
    assert await participation.is_open(session, process_id, "surveys")


async def test_the_dependency_refuses_naming_the_module_and_the_active_phase(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    process_id = await _process(engine, phase=PhaseKey.MEASURE_PLANNING)
    provide = require_open("surveys").dependency
    with pytest.raises(PhaseClosed) as refused:
        await provide(db_session=session, process_id=process_id)
    assert refused.value.status_code == 409
    assert "'surveys'" in refused.value.detail
    assert "'measure_planning'" in refused.value.detail
    allowed = await require_open("ideas").dependency(db_session=session, process_id=process_id)
    assert allowed == OpenParticipation(
        process_id=process_id, module="ideas", phase=PhaseKey.MEASURE_PLANNING
    )


@post(
    "/processes/{process_id:uuid}/survey-answers",
    dependencies={"participation": require_open("surveys")},
    **access(public=True),
)
async def answer_survey(participation: OpenParticipation) -> dict[str, str]:
    """A stand-in for a later participation endpoint."""
    return {"phase": participation.phase.value}


@pytest.fixture
async def guarded_client(database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    config = SQLAlchemyAsyncConfig(
        connection_string=database_url,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler="autocommit",
    )
    app = Litestar(
        route_handlers=[answer_survey],
        plugins=[SQLAlchemyPlugin(config=config)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    async with AsyncTestClient(app) as client:
        yield client


async def test_a_guarded_endpoint_answers_409_problem_outside_an_open_phase(
    engine: AsyncEngine, guarded_client: AsyncTestClient[Litestar]
) -> None:
    closed = await _process(engine, phase=PhaseKey.SERVICE_DELIVERY)
    response = await guarded_client.post(f"/processes/{closed}/survey-answers")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/phase-closed"
    assert "surveys" in problem["detail"] and "service_delivery" in problem["detail"]

    open_ = await _process(engine, phase=PhaseKey.EVALUATION)
    response = await guarded_client.post(f"/processes/{open_}/survey-answers")
    assert response.status_code == 201
    assert response.json() == {"phase": "evaluation"}

    missing = await guarded_client.post(f"/processes/{uuid.uuid4()}/survey-answers")
    assert missing.status_code == 404


async def test_status_operation_lists_what_is_open_now(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True, activate=("needs_assessment",))
    base = f"/api/v1/processes/{process['id']}/participation"
    status = (await client.get(base)).json()
    assert status["active_phase"] == "needs_assessment"
    assert status["open_now"] == ["surveys", "ideas"]
    surveys = next(m for m in status["modules"] if m["module"] == "surveys")
    assert surveys["default_phases"] == ["needs_assessment", "evaluation"]
    assert surveys["open_phases"] == ["needs_assessment", "evaluation"]
    assert surveys["overrides"] == []

    closed = await client.put(
        f"{base}/surveys/needs_assessment", json={"is_open": False}, headers=planner
    )
    assert closed.status_code == 200, closed.text
    opened = await client.put(f"{base}/surveys/guidelines", json={"is_open": True}, headers=planner)
    assert opened.json() == {"module": "surveys", "phase": "guidelines", "is_open": True}
    status = (await client.get(base)).json()
    assert status["open_now"] == ["ideas"]
    surveys = next(m for m in status["modules"] if m["module"] == "surveys")
    assert surveys["open_phases"] == ["guidelines", "evaluation"]
    assert [(o["phase"], o["is_open"]) for o in surveys["overrides"]] == [
        ("guidelines", True),
        ("needs_assessment", False),
    ]

    reset = await client.delete(f"{base}/surveys/needs_assessment", headers=planner)
    assert reset.status_code == 204
    assert (await client.get(base)).json()["open_now"] == ["surveys", "ideas"]


async def test_override_input_is_checked(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True)
    base = f"/api/v1/processes/{process['id']}/participation"
    unknown = await client.put(
        f"{base}/petitions/guidelines", json={"is_open": True}, headers=planner
    )
    assert unknown.status_code == 404
    assert "petitions" in unknown.json()["detail"]
    bad_phase = await client.put(f"{base}/surveys/later", json={"is_open": True}, headers=planner)
    assert bad_phase.status_code == 400
    anonymous = await client.put(f"{base}/surveys/guidelines", json={"is_open": True})
    assert anonymous.status_code == 401


async def test_modules_are_listed_publicly(client: Client) -> None:
    modules = (await client.get("/api/v1/participation/modules")).json()
    assert [m["key"] for m in modules] == ["surveys", "ideas", "measure_feedback"]
    assert modules[1]["default_phases"] == ["needs_assessment", "measure_planning"]
