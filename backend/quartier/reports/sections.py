"""What the social report contributes to the page of a process (through the processes'
section registry; reports are no participation module):

* the cycle's released report, with the phase `social_reporting`;
* in the next cycle, the previous cycle's report with the phase `guidelines`, and the gaps it
  marked — area, need and note — with `needs_assessment`, as the starting point of the next
  needs assessment (residents see both once the previous report is released);
* for staff, a link to the report editor."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.i18n import gettext as _
from quartier.core.security import PLANNERS
from quartier.processes import participation as p
from quartier.processes.phases import PhaseKey
from quartier.reports import services

KEY = "reports"


async def provide(session: AsyncSession, request: p.SectionRequest) -> Sequence[p.Section]:
    if request.place is not p.Place.PROCESS:
        return []
    found: list[p.Section] = []
    for process_id in request.process_ids:
        report = f"/processes/{process_id}/report"
        pdf = f"/api/v1/processes/{process_id}/social-report/pdf"
        released = await services.is_released(session, process_id)
        if released:
            found.append(
                p.Section(
                    module=KEY,
                    title=_("Social report of this cycle"),
                    process_id=process_id,
                    phase=PhaseKey.SOCIAL_REPORTING,
                    text=_("The social report of this cycle is published."),
                    links=(
                        p.SectionLink(_("Read the social report"), report),
                        p.SectionLink(_("Download the social report (PDF)"), pdf),
                    ),
                )
            )
        if request.is_staff:
            editor = p.SectionLink(
                _("Edit and release the social report"), f"/workspace/processes/{process_id}/report"
            )
            plans = request.principal is not None and request.principal.role in PLANNERS
            found.append(
                p.Section(
                    module=KEY,
                    title=_("Social report"),
                    process_id=process_id,
                    audience=p.Audience.STAFF,
                    text=_("Released.") if released else _("Not released yet."),
                    links=(
                        *((editor,) if plans and not released else ()),
                        p.SectionLink(_("Read the social report"), report),
                    ),
                )
            )
        carried = await services.carried_forward(session, process_id, privileged=request.is_staff)
        if carried is None or not (carried.report_released or request.is_staff):
            continue
        previous = f"/processes/{carried.previous_process_id}/report"
        found.append(
            p.Section(
                module=KEY,
                title=_("Social report of the previous cycle"),
                process_id=process_id,
                phase=PhaseKey.GUIDELINES,
                text=_(
                    "This cycle starts from the social report of cycle %(cycle)s.",
                    cycle=carried.previous_cycle,
                )
                + ("" if carried.report_released else " " + _("(not released yet)")),
                links=(p.SectionLink(_("Read the previous social report"), previous),),
            )
        )
        if carried.gaps:
            found.append(
                p.Section(
                    module=KEY,
                    title=_("Starting point: gaps found in the previous cycle"),
                    process_id=process_id,
                    phase=PhaseKey.NEEDS_ASSESSMENT,
                    text=_(
                        "The previous cycle found these needs not met in these social areas; "
                        "the needs assessment starts from them."
                    ),
                    items=tuple(
                        f"{gap.need_label} – {gap.area_name} ({gap.area_code}): {gap.note}"
                        for gap in carried.gaps
                    ),
                    links=(
                        p.SectionLink(_("The gaps in the previous report"), previous + "#gaps"),
                    ),
                )
            )
    return found


SECTIONS: list[tuple[str, p.SectionProvider]] = [(KEY, provide)]
