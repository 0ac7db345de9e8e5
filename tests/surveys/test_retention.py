"""Retention by purpose (issue #8 §4): the purge removes free texts, pseudonyms and
invitation code hashes of closed surveys after their periods, and nothing else."""

from __future__ import annotations

import dataclasses
import datetime
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.jobs.worker import Worker, kinds
from quartier.settings import Settings
from quartier.surveys import retention
from quartier.surveys.models import InvitationCode, Survey, SurveyResponse, survey_response_needs

from .conftest import Surveys, answers

TOKEN = "retention-token-0123456789abcdef"


async def _close(surveys: Surveys, session: AsyncSession, survey_id: str, days_ago: int) -> None:
    closed = await surveys.client.post(
        f"/api/v1/surveys/{survey_id}/close", headers=surveys.planner
    )
    assert closed.status_code == 200, closed.text
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days_ago)
    await session.execute(
        update(Survey).where(Survey.id == uuid.UUID(survey_id)).values(closed_at=when)
    )
    await session.commit()


async def test_the_purge_removes_what_outlived_its_purpose(
    surveys: Surveys, session: AsyncSession
) -> None:
    old = await surveys.create(publish=True)
    recent = await surveys.create(publish=True)
    still_open = await surveys.create(publish=True)
    for survey in (old, recent, still_open):
        response = await surveys.submit(
            survey["id"],
            answers(wish="Mehr Grün"),
            headers={"Respondent-Token": TOKEN},
            other={},
        )
        assert response.status_code == 201, response.text
    letters = await surveys.create(publish=True, access_mode="invitation")
    codes = await surveys.client.post(
        f"/api/v1/surveys/{letters['id']}/invitation-codes",
        json={"count": 3},
        headers=surveys.planner,
    )
    assert codes.status_code == 200
    await _close(surveys, session, old["id"], days_ago=200)
    await _close(surveys, session, letters["id"], days_ago=40)
    await _close(surveys, session, recent["id"], days_ago=5)
    needs_before = await session.scalar(select(func.count()).select_from(survey_response_needs))

    found = await retention.purge(session)
    await session.commit()
    assert (found.free_text_responses, found.pseudonyms, found.invitation_codes) == (1, 2, 3)

    rows = {
        str(row.survey_id): row for row in (await session.scalars(select(SurveyResponse))).all()
    }
    assert "wish" not in rows[old["id"]].answers  # 200 days after closing: gone
    assert rows[old["id"]].answers["children"] == "yes"  # the rest stays
    assert rows[recent["id"]].answers["wish"] == "Mehr Grün"  # 5 days: kept
    assert rows[still_open["id"]].answers["wish"] == "Mehr Grün"
    assert rows[old["id"]].pseudonym is None and rows[recent["id"]].pseudonym is None
    assert rows[still_open["id"]].pseudonym is not None  # still refuses a second response
    assert await session.scalar(select(func.count()).select_from(InvitationCode)) == 0
    # the counts the results are made of stay
    assert (
        await session.scalar(select(func.count()).select_from(survey_response_needs))
        == needs_before
    )
    again = await retention.purge(session)
    assert (again.free_text_responses, again.pseudonyms, again.invitation_codes) == (0, 0, 0)


async def test_the_worker_runs_the_purge_daily_with_the_configured_periods(
    surveys: Surveys, session: AsyncSession, engine: AsyncEngine, settings: Settings
) -> None:
    old = await surveys.create(publish=True)
    response = await surveys.submit(
        old["id"], answers(wish="Mehr Grün"), headers={"Respondent-Token": TOKEN}, other={}
    )
    assert response.status_code == 201, response.text
    await _close(surveys, session, old["id"], days_ago=20)

    # A deployment that keeps free texts for 10 days: the scheduled job removes this one.
    short = dataclasses.replace(settings, retention_free_text_days=10)
    worker = Worker(engine, short, concurrency=1, poll_seconds=0.05, grace_seconds=1.0)
    assert retention.RETENTION_KIND in kinds()
    assert await worker.schedule_periodic() >= 1
    assert await worker.drain() >= 1
    session.expire_all()
    stored = await session.scalar(
        select(SurveyResponse).where(SurveyResponse.survey_id == uuid.UUID(old["id"]))
    )
    assert stored is not None
    assert "wish" not in stored.answers
    assert stored.pseudonym is None
