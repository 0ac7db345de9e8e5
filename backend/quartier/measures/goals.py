"""Goals (Ziele) of a planning process: what the process wants to achieve on the assessed needs.

A goal addresses need categories in social areas for target groups and rests on evidence. A
link to a survey figure stores the figure as it was published at the time (the disclosure-
controlled aggregated needs of that survey at the area's level), so a later response does not
silently change what a decision was based on; a link to a published idea of the process stores
its title. Goals nest one level deep (sub-goals). Every save writes a new version; the goal
points at its current one. The statement is German, with further languages in `translations`
(`core.translations`, as a measure's title and summary).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import AreaLevel, SocialArea
from quartier.core import translations as shared_translations
from quartier.core.errors import FieldError, InvalidInput, NotFound
from quartier.core.pagination import Page, keyset_page
from quartier.ideas.models import Idea, IdeaState
from quartier.measures import common
from quartier.measures import schemas as s
from quartier.measures.models import Goal, GoalVersion
from quartier.processes.services import Actor, resolve_area_codes
from quartier.surveys import aggregation
from quartier.surveys.models import Survey, SurveyStatus


async def _goal(session: AsyncSession, goal_id: UUID, *, lock: bool = False) -> Goal:
    statement = sa.select(Goal).where(Goal.id == goal_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    goal = await session.scalar(statement)
    if goal is None:
        raise NotFound(f"No goal {goal_id}.")
    return goal


async def _survey_figure(
    session: AsyncSession, process_id: UUID, item: s.SurveyFigureEvidence, field: str
) -> dict[str, Any]:
    """The snapshot of a published survey figure (as the aggregated needs publish it)."""

    def invalid(name: str, message: str) -> InvalidInput:
        return InvalidInput(
            message, errors=[FieldError(field=f"{field}.{name}", source="body", message=message)]
        )

    survey = await session.scalar(sa.select(Survey).where(Survey.id == item.survey_id))
    if (
        survey is None
        or survey.process_id != process_id
        or survey.status == SurveyStatus.DRAFT.value
    ):
        raise invalid("survey_id", "no published survey of this process")
    row = (
        await session.execute(
            sa.select(SocialArea.code, AreaLevel.key)
            .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
            .where(SocialArea.code == item.area_code)
        )
    ).one_or_none()
    if row is None:
        raise invalid("area_code", f"unknown social area code '{item.area_code}'")
    result = await aggregation.aggregated_needs(session, survey.id, level_key=row.key)
    area = next((a for a in result.areas if a.code == item.area_code), None)
    if area is None:
        raise invalid("area_code", "the survey has no figure for this area")
    figure = next((f for f in area.needs if f.category == item.need_category), None)
    if figure is None:
        raise invalid("need_category", "the survey has no figure for this need category")
    snapshot = s.FigureSnapshot(
        survey_id=survey.id,
        survey_title=next(iter(survey.title.values()), ""),
        need_category=item.need_category,
        area_code=area.code,
        area_name=area.name,
        respondents=area.respondents,
        expressing=figure.expressing,
        share=figure.share,
        share_low=figure.share_ci.low if figure.share_ci else None,
        share_high=figure.share_ci.high if figure.share_ci else None,
        suppressed=figure.suppressed or area.withheld,
        k_threshold=result.metadata.k_threshold,
        published_at=result.metadata.generated_at,
    )
    label = f"{snapshot.survey_title}: {item.need_category} in {area.name}"
    return {
        "kind": "survey_figure",
        "label": label,
        "figure": msgspec.to_builtins(snapshot),
    }


async def _version_values(
    session: AsyncSession, process_id: UUID, data: s.GoalInput, actor: Actor
) -> dict[str, Any]:
    evidence: list[dict[str, Any]] = []
    for index, item in enumerate(data.evidence):
        if isinstance(item, s.SurveyFigureEvidence):
            evidence.append(await _survey_figure(session, process_id, item, f"evidence[{index}]"))
        elif isinstance(item, s.IdeaEvidence):
            title = await session.scalar(
                sa.select(Idea.title).where(
                    Idea.id == item.idea_id,
                    Idea.process_id == process_id,
                    Idea.state == IdeaState.PUBLISHED.value,
                )
            )
            if title is None:
                message = "no published idea of this process"
                raise InvalidInput(
                    message,
                    errors=[
                        FieldError(
                            field=f"evidence[{index}].idea_id", source="body", message=message
                        )
                    ],
                )
            evidence.append({"kind": "idea", "label": title, "idea_id": str(item.idea_id)})
        else:
            evidence.append({"kind": "link", "label": item.label, "url": item.url})
    return {
        "statement": data.statement,
        # Every version keeps only the translations sent with it, as a measure's do.
        "translations": shared_translations.merged(
            {}, data.translations, field_name="translations"
        ),
        "need_category_ids": await common.need_category_ids(
            session, data.need_categories, "need_categories"
        ),
        "area_ids": await resolve_area_codes(session, data.area_codes, field="area_codes"),
        "target_groups": list(dict.fromkeys(data.target_groups)),
        "evidence": evidence,
        "author_name": actor.name,
    }


async def create_goal(
    session: AsyncSession, process_id: UUID, data: s.GoalCreate, actor: Actor
) -> UUID:
    await common.process(session, process_id, common.STAFF_VIEWER, writable=True)
    if data.parent_id is not None:
        parent = await session.scalar(sa.select(Goal).where(Goal.id == data.parent_id))
        problem = None
        if parent is None or parent.process_id != process_id:
            problem = "no goal of this process"
        elif parent.parent_id is not None:
            problem = "sub-goals nest one level deep: this goal is itself a sub-goal"
        if problem:
            raise InvalidInput(
                problem, errors=[FieldError(field="parent_id", source="body", message=problem)]
            )
    values = await _version_values(session, process_id, data, actor)
    goal = Goal(process_id=process_id, parent_id=data.parent_id, current_version=1)
    session.add(goal)
    await session.flush()
    session.add(GoalVersion(goal_id=goal.id, version=1, **values))
    await session.flush()
    return goal.id


async def update_goal(
    session: AsyncSession, goal_id: UUID, data: s.GoalInput, actor: Actor
) -> None:
    """Saves a new version of the goal."""
    goal = await _goal(session, goal_id, lock=True)
    await common.process(session, goal.process_id, common.STAFF_VIEWER, writable=True)
    values = await _version_values(session, goal.process_id, data, actor)
    goal.current_version += 1
    goal.updated_at = common.utcnow()
    session.add(GoalVersion(goal_id=goal.id, version=goal.current_version, **values))
    await session.flush()


async def _views(session: AsyncSession, pairs: list[tuple[Goal, GoalVersion]]) -> list[s.Goal]:
    categories = await common.categories_by_id(
        session, {c for _, v in pairs for c in v.need_category_ids}
    )
    areas = await common.areas_by_id(session, {a for _, v in pairs for a in v.area_ids})
    ids = [goal.id for goal, _ in pairs]
    children: dict[UUID, list[UUID]] = {}
    if ids:
        rows = await session.execute(
            sa.select(Goal.parent_id, Goal.id).where(Goal.parent_id.in_(ids)).order_by(Goal.id)
        )
        for parent_id, child_id in rows:
            assert parent_id is not None
            children.setdefault(parent_id, []).append(child_id)
    return [
        s.Goal(
            id=goal.id,
            process_id=goal.process_id,
            parent_id=goal.parent_id,
            version=version.version,
            statement=version.statement,
            need_categories=[categories[c] for c in version.need_category_ids if c in categories],
            areas=[areas[a] for a in version.area_ids if a in areas],
            target_groups=list(version.target_groups),
            evidence=[msgspec.convert(e, s.Evidence) for e in version.evidence],
            author_name=version.author_name,
            created_at=goal.created_at,
            updated_at=version.created_at,
            sub_goals=children.get(goal.id, []),
            translations=shared_translations.as_struct(version.translations, s.GoalTranslations),
        )
        for goal, version in pairs
    ]


async def get_goal(
    session: AsyncSession, goal_id: UUID, viewer: common.Viewer, version: int | None = None
) -> s.Goal:
    goal = await _goal(session, goal_id)
    await common.process(session, goal.process_id, viewer)
    row = await session.scalar(
        sa.select(GoalVersion).where(
            GoalVersion.goal_id == goal_id,
            GoalVersion.version == (version or goal.current_version),
        )
    )
    if row is None:
        raise NotFound(f"Goal {goal_id} has no version {version}.")
    return (await _views(session, [(goal, row)]))[0]


async def list_goals(
    session: AsyncSession,
    process_id: UUID,
    viewer: common.Viewer,
    *,
    limit: int,
    cursor: str | None,
) -> Page[s.Goal]:
    await common.process(session, process_id, viewer)
    goals, next_cursor = await keyset_page(
        session,
        sa.select(Goal).where(Goal.process_id == process_id),
        [Goal.id],
        limit=limit,
        cursor=cursor,
    )
    versions = (
        {
            v.goal_id: v
            for v in await session.scalars(
                sa.select(GoalVersion).where(
                    sa.tuple_(GoalVersion.goal_id, GoalVersion.version).in_(
                        [(g.id, g.current_version) for g in goals]
                    )
                )
            )
        }
        if goals
        else {}
    )
    views = await _views(session, [(g, versions[g.id]) for g in goals])
    return Page(items=views, next_cursor=next_cursor)
