"""Representativeness by sex with the real perturbation table: the respondents by sex of an
area are the published counts of the mapped options in the per-question results of that area
(one cell, one value), computed here from the stored record keys (issue #8 §4)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.surveys import aggregation, services
from quartier.surveys.aggregation import Weighting
from tests.support.disclosure import published

from .conftest import MakeProcess
from .test_aggregation import (
    POPULATION,
    add_population,
    add_responses,
    create_survey,
    people,
    sexed_definition,
)

KEYS = text(
    """
    SELECT area.code, o.option_key, array_agg(r.record_key)
    FROM survey_answer_options o
    JOIN survey_responses r ON r.id = o.response_id
    JOIN social_areas area ON area.id = r.area_id
    WHERE o.survey_id = :survey AND o.question_key = 'gender'
    GROUP BY 1, 2
    """
)


async def test_by_sex_are_the_options_published_counts(
    session: AsyncSession, make_process: MakeProcess, areas: dict[str, uuid.UUID]
) -> None:
    process_id = await make_process(area_codes=("01",))
    survey = await create_survey(session, process_id, body=sexed_definition())
    for code, female in (("010101", 4_000), ("010102", 4_100)):
        await add_population(session, areas[code], POPULATION, female=female)
    await add_responses(
        session,
        survey,
        areas,
        [
            *people(40, "010101", gender="woman"),
            *people(25, "010101", gender="man"),
            *people(9, "010101", gender="diverse"),
            *people(35, "010102", gender="man"),
            *people(2, "010102", gender="woman"),
            *people(15, "010102"),
        ],
    )
    keys = {
        (code, option): list(found)
        for code, option, found in await session.execute(KEYS, {"survey": survey})
    }
    results = await services.results_by_question(session, survey, level="planning_area")
    in_results = {
        (group.area.code, option.key): option.count
        for group in results.groups
        if group.area is not None and group.questions
        for question in group.questions
        if question.key == "gender"
        for option in question.options or []
    }
    for weighting in (Weighting.NONE, Weighting.AGE):
        result = await aggregation.aggregated_needs(
            session, survey, level_key="planning_area", weighting=weighting
        )
        assert result.representativeness is not None
        checked = 0
        for area in result.representativeness.areas:
            if area.respondents is None:
                assert area.sexes == []
                continue
            for item in area.sexes:
                option = {"female": "woman", "male": "man"}[item.sex]
                expected = published(keys.get((area.code, option), []))
                assert item.respondents == expected == in_results[(area.code, option)]
                if item.respondents:
                    assert item.response_rate == min(1.0, item.respondents / item.population)
                checked += 1
        assert checked == 4
