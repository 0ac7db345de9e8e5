"""What planners hand to the council: the consultation report and the decision template
(Beschlussvorlage) of a measure. Both are assembled from the services that already own each
part — the measure's versions and their difference (`services`), the goals with their needs
evidence (`goals`), the disclosure-controlled feedback summary (`feedback.summary`) — so no
figure is computed twice and no resident figure bypasses `stats.cellkey`.

Who may read them:

* The consultation report follows the summary it contains: public once the window has closed
  if the consultation publishes its summary, always for staff and tokens that read measures
  (`feedback.summary` decides and refuses with 403 otherwise). It names organisations (asked,
  answered), never residents, and no staff member.
* The decision template is a working paper of the administration until the council decides:
  staff and tokens that read measures only. Once the adoption is recorded it shows the
  decision (body, reference, date) and who recorded it.
"""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.errors import NotFound
from quartier.measures import common, feedback, goals, services
from quartier.measures import schemas as s
from quartier.measures.models import (
    Consultation,
    ConsultationCode,
    Feedback,
    MeasureStatus,
    MeasureTransition,
    RespondentKind,
)


async def _organisations_asked(
    session: AsyncSession, consultation_id: UUID
) -> list[s.AskedOrganisation]:
    issued = set(
        await session.scalars(
            sa.select(ConsultationCode.organisation_id).where(
                ConsultationCode.consultation_id == consultation_id
            )
        )
    )
    answered = {
        organisation_id
        for organisation_id in await session.scalars(
            sa.select(Feedback.organisation_id).where(
                Feedback.consultation_id == consultation_id,
                Feedback.organisation_id.is_not(None),
            )
        )
        if organisation_id is not None
    }
    names = await common.organisations_by_id(session, issued | answered)
    return sorted(
        (
            s.AskedOrganisation(organisation=ref, answered=ref.id in answered)
            for ref in names.values()
        ),
        key=lambda asked: asked.organisation.name.casefold(),
    )


async def consultation_report(
    session: AsyncSession, measure_id: UUID, viewer: common.Viewer, version: int | None = None
) -> s.ConsultationReport:
    """The report on the measure's latest consultation, or on the one of `version`."""
    summary = await feedback.summary(session, measure_id, viewer, version)
    measure = await services.get_measure(session, measure_id, viewer)
    process = await common.process(session, measure.process_id, viewer)
    consulted_version = summary.metadata.version
    consultation = await session.get(Consultation, summary.metadata.consultation_id)
    assert consultation is not None
    consulted = await services.version_view(
        session, await services.load_version(session, measure_id, consulted_version)
    )
    changes = None
    if measure.current_version != consulted_version:
        changes = await services.diff(
            session, measure_id, viewer, consulted_version, measure.current_version
        )
    asked = await _organisations_asked(session, consultation.id)
    kinds = [RespondentKind.RESIDENT, RespondentKind.PROFESSIONAL]
    if asked:
        kinds.append(RespondentKind.ORGANISATION)
    return s.ConsultationReport(
        measure_id=measure.id,
        process_id=measure.process_id,
        process_title=process.title,
        status=measure.status,
        current_version=measure.current_version,
        consulted=consulted,
        consultation=services.consultation_view(consultation),
        respondent_kinds=kinds,
        organisations_asked=asked,
        summary=summary,
        changes=changes,
        generated_at=summary.metadata.generated_at,
    )


async def _adoption(session: AsyncSession, measure_id: UUID) -> s.Adoption | None:
    row = await session.scalar(
        sa.select(MeasureTransition)
        .where(
            MeasureTransition.measure_id == measure_id,
            MeasureTransition.to_status == MeasureStatus.ADOPTED.value,
        )
        .order_by(MeasureTransition.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    return s.Adoption(
        version=row.version,
        reason=row.reason,
        actor_name=row.actor_name,
        at=row.created_at,
        decision=services.decision_of(row),
    )


def _result(summary: s.FeedbackSummary) -> s.ConsultationResult:
    everyone = next(group for group in summary.groups if group.kind is None)
    return s.ConsultationResult(
        version=summary.metadata.version,
        opens_at=summary.metadata.opens_at,
        closes_at=summary.metadata.closes_at,
        responses_by_kind=summary.responses_by_kind,
        respondents=everyone.respondents,
        withheld=everyone.withheld,
        stances=everyone.stances,
        criteria=everyone.criteria,
        organisations=summary.organisations,
        comments=len(summary.comments),
    )


async def decision_template(
    session: AsyncSession, measure_id: UUID, viewer: common.Viewer
) -> s.DecisionTemplate:
    """The Beschlussvorlage of the measure: the version adopted once it is, else the current."""
    if not viewer.privileged:
        raise NotFound(f"No decision template for measure {measure_id}.")
    adoption = await _adoption(session, measure_id)
    measure = await services.get_measure(
        session, measure_id, viewer, adoption.version if adoption else None
    )
    process = await common.process(session, measure.process_id, viewer)
    served = [
        await goals.get_goal(session, goal_id, viewer) for goal_id in measure.content.goal_ids
    ]
    result = None
    if measure.consultation is not None:
        result = _result(await feedback.summary(session, measure_id, viewer))
    return s.DecisionTemplate(
        measure_id=measure.id,
        process_id=measure.process_id,
        process_title=process.title,
        status=measure.status,
        content=measure.content,
        goals=served,
        consultation=result,
        adoption=adoption,
        generated_at=common.utcnow(),
    )
