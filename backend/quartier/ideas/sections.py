"""What ideas contribute to the pages of processes (through the participation registry): a
call to share an idea and browse the ideas while the module is open, the moderation queue for
staff. Nothing to offer, no section."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.i18n import gettext as _
from quartier.ideas import models as m
from quartier.processes import participation as p


async def _published(session: AsyncSession, process_ids: Sequence[UUID]) -> dict[UUID, int]:
    rows = await session.execute(
        select(m.Idea.process_id, func.count())
        .where(m.Idea.process_id.in_(process_ids), m.Idea.state == m.IdeaState.PUBLISHED.value)
        .group_by(m.Idea.process_id)
    )
    return {row[0]: row[1] for row in rows}


async def _waiting(session: AsyncSession, process_ids: Sequence[UUID] | None) -> int:
    """Ideas that need a moderator (pending, reported, or with pending comments)."""
    condition = or_(
        m.Idea.state == m.IdeaState.PENDING.value,
        m.Idea.id.in_(select(m.IdeaReport.idea_id).where(m.IdeaReport.resolved_at.is_(None))),
        m.Idea.id.in_(
            select(m.IdeaComment.idea_id).where(m.IdeaComment.state == m.CommentState.PENDING.value)
        ),
    )
    statement = select(func.count()).select_from(m.Idea).where(condition)
    if process_ids is not None:
        statement = statement.where(m.Idea.process_id.in_(process_ids))
    return int(await session.scalar(statement) or 0)


async def provide(session: AsyncSession, request: p.SectionRequest) -> Sequence[p.Section]:
    if request.place is p.Place.DASHBOARD:
        if not request.is_staff:
            return []
        waiting = await _waiting(session, None)
        return [
            p.Section(
                module="ideas",
                title=_("Ideas"),
                audience=p.Audience.STAFF,
                counts=(p.SectionCount(_("Waiting for moderation"), waiting),),
                links=(p.SectionLink(_("Moderation queue"), "/dashboard/ideas/moderation"),),
            )
        ]
    counts = await _published(session, request.process_ids)
    sections: list[p.Section] = []
    for process_id in request.process_ids:
        if request.is_open(process_id, "ideas"):
            published = counts.get(process_id, 0)
            sections.append(
                p.Section(
                    module="ideas",
                    title=_("Ideas"),
                    process_id=process_id,
                    counts=(p.SectionCount(_("Published ideas"), published),) if published else (),
                    links=(
                        p.SectionLink(_("Share an idea"), f"/processes/{process_id}/ideas/new"),
                        p.SectionLink(_("Browse the ideas"), f"/processes/{process_id}/ideas"),
                    ),
                )
            )
        if request.place is p.Place.PROCESS and request.is_staff:
            waiting = await _waiting(session, [process_id])
            sections.append(
                p.Section(
                    module="ideas",
                    title=_("Ideas: moderation and answers"),
                    process_id=process_id,
                    audience=p.Audience.STAFF,
                    counts=(p.SectionCount(_("Waiting for moderation"), waiting),),
                    links=(
                        p.SectionLink(
                            _("Moderation queue"),
                            f"/dashboard/ideas/moderation?process_id={process_id}",
                        ),
                        p.SectionLink(_("Browse the ideas"), f"/processes/{process_id}/ideas"),
                        p.SectionLink(
                            _("Needs per area: surveys and ideas"),
                            f"/dashboard/processes/{process_id}/area-needs",
                        ),
                    ),
                )
            )
    return sections


SECTIONS: list[tuple[str, p.SectionProvider]] = [("ideas", provide)]
