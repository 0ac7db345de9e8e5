"""What surveys contribute to the pages of processes (through the participation registry):
links to the published surveys of a process while surveys are open, results links for staff,
the surveys overview on the dashboard. Nothing to offer, no section."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import i18n
from quartier.core.i18n import gettext as _
from quartier.processes import participation as p
from quartier.surveys.models import Survey, SurveyStatus


async def _surveys(
    session: AsyncSession, process_ids: Sequence[UUID], *, drafts: bool
) -> list[tuple[UUID, UUID, str, str]]:
    """(process id, survey id, title, status) in creation order."""
    statement = select(Survey.process_id, Survey.id, Survey.title, Survey.status).where(
        Survey.process_id.in_(process_ids)
    )
    if not drafts:
        statement = statement.where(Survey.status != SurveyStatus.DRAFT)
    rows = await session.execute(statement.order_by(Survey.id))
    return [(row[0], row[1], i18n.pick(row[2]), row[3]) for row in rows]


async def provide(session: AsyncSession, request: p.SectionRequest) -> Sequence[p.Section]:
    if request.place is p.Place.DASHBOARD:
        if not request.is_staff:
            return []
        return [
            p.Section(
                module="surveys",
                title=_("Surveys"),
                audience=p.Audience.STAFF,
                links=(p.SectionLink(_("Surveys and their results"), "/dashboard/surveys"),),
            )
        ]
    staff = request.place is p.Place.PROCESS and request.is_staff
    surveys = await _surveys(session, request.process_ids, drafts=staff)
    sections: list[p.Section] = []
    for process_id in request.process_ids:
        mine = [x for x in surveys if x[0] == process_id]
        if request.is_open(process_id, "surveys"):
            published = [
                p.SectionLink(title, f"/surveys/{survey_id}")
                for _pid, survey_id, title, status in mine
                if status == SurveyStatus.PUBLISHED
            ]
            if published:
                sections.append(
                    p.Section(
                        module="surveys",
                        title=_("Surveys"),
                        process_id=process_id,
                        links=tuple(published),
                    )
                )
        if staff and mine:
            sections.append(
                p.Section(
                    module="surveys",
                    title=_("Survey results"),
                    process_id=process_id,
                    audience=p.Audience.STAFF,
                    links=tuple(
                        p.SectionLink(title, f"/dashboard/surveys/{survey_id}/results")
                        for _pid, survey_id, title, _status in mine
                    ),
                )
            )
    return sections


SECTIONS: list[tuple[str, p.SectionProvider]] = [("surveys", provide)]
