"""The demo survey: published in the demo process, realistic, with responses over the planning
areas in scope, results that show something, and loadable twice."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import demo as areas
from quartier.processes import demo as processes
from quartier.surveys import demo, services
from quartier.surveys.models import Survey, SurveyResponse, SurveyStatus, survey_response_needs


async def test_demo_survey_is_published_with_synthetic_responses_once(
    session: AsyncSession,
) -> None:
    assert "skipped" in await demo.load(session)  # no demo process yet
    await areas.load(session)
    await processes.load(session)
    summary = await demo.load(session)
    await session.commit()
    assert summary.startswith(f"surveys: 1 published survey with {demo.RESPONSES} synthetic")

    survey = await session.scalar(select(Survey))
    assert survey is not None
    assert survey.status == SurveyStatus.PUBLISHED
    channels = (await session.execute(select(SurveyResponse.channel).distinct())).scalars().all()
    assert channels == ["web"]
    areas_used = await session.scalar(select(func.count(func.distinct(SurveyResponse.area_id))))
    assert areas_used and areas_used >= 3
    strata = set((await session.scalars(select(SurveyResponse.age_stratum).distinct())).all())
    assert {"age_27_44", None} <= strata
    needs = await session.scalar(select(func.count()).select_from(survey_response_needs))
    assert needs is not None and needs > 100

    results = await services.results_by_question(session, survey.id, level="planning_area")
    shown = [group for group in results.groups if not group.withheld]
    assert shown, "at least one planning area has enough responses to show"
    safety = next(q for q in shown[0].questions if q.key == "safety")
    assert safety.summary is not None and safety.summary.mean is not None

    again = await demo.load(session)
    assert "skipped" in again
    assert await session.scalar(select(func.count()).select_from(SurveyResponse)) == demo.RESPONSES
