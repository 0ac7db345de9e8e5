"""What measure feedback contributes to the staff pages (through the participation registry):
the feedback comments waiting for a moderator where a process pre-moderates, as the ideas
section leads moderators to their queue — on the dashboard for every process, on a process's
page for that process, each measure linking to its comments page. Nothing waiting, no section."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.i18n import gettext as _
from quartier.measures import feedback
from quartier.processes import participation as p

MODULE = feedback.MODULE
SHOWN = 20  # measures linked at most; the count says how many comments wait in all


Waiting = list[tuple[UUID, UUID, str, int]]  # feedback.pending_comments


def _section(waiting: Waiting, process_id: UUID | None = None) -> p.Section:
    return p.Section(
        module=MODULE,
        title=_("Feedback on measures: moderation"),
        process_id=process_id,
        audience=p.Audience.STAFF,
        counts=(
            p.SectionCount(
                _("Feedback comments waiting for moderation"), sum(row[3] for row in waiting)
            ),
        ),
        links=tuple(
            p.SectionLink(f"{title} ({count})", f"/dashboard/measures/{measure_id}/comments")
            for measure_id, _process_id, title, count in waiting[:SHOWN]
        ),
    )


async def provide(session: AsyncSession, request: p.SectionRequest) -> Sequence[p.Section]:
    if not request.is_staff:
        return []
    if request.place is p.Place.DASHBOARD:
        waiting = await feedback.pending_comments(session)
        return [_section(waiting)] if waiting else []
    if request.place is not p.Place.PROCESS:
        return []
    waiting = await feedback.pending_comments(session, list(request.process_ids))
    return [
        _section([row for row in waiting if row[1] == process_id], process_id)
        for process_id in request.process_ids
        if any(row[1] == process_id for row in waiting)
    ]


SECTIONS: list[tuple[str, p.SectionProvider]] = [(MODULE, provide)]
