"""JSON API of measures' delivery reports, evaluation, evaluation surveys and assessments
(under /api/v1). Thin: every handler calls `measures.delivery`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post, put
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.idempotent_handlers import idempotent
from quartier.core.openapi import problem_spec, problems
from quartier.core.security import PLANNERS, STAFF, access, principal_of
from quartier.measures import common, delivery
from quartier.measures import delivery_schemas as ds
from quartier.processes.services import Actor

TAGS = ["Measure delivery and evaluation"]
AnyRequest = Request[Any, Any, Any]


class DeliveryController(Controller):
    tags = TAGS

    @get(
        "/measures/{measure_id:uuid}/delivery-reports",
        operation_id="ListDeliveryReports",
        summary="The delivery reports of a measure",
        description="Every period's report, oldest first: outputs, participants and reach by "
        "target group, spend per resource line, the actual values of the criteria of success, "
        "and who entered it.",
        **access(roles=STAFF, scopes={"measures:read", "measures:write", "delivery:write"}),
    )
    async def list_reports(
        self, db_session: AsyncSession, measure_id: UUID
    ) -> list[ds.DeliveryReport]:
        return await delivery.list_reports(db_session, measure_id)

    @post(
        "/measures/{measure_id:uuid}/delivery-reports",
        operation_id="CreateDeliveryReport",
        summary="Report a period of delivery",
        description="A measure in delivery (409 `measure-not-in-delivery` otherwise) records "
        "its provider's report for a period that is over: outputs as named kinds with counts, "
        "participants and reach by the measure's target groups (aggregate counts, never "
        "people), EUR spent per planned resource line (`resource`: its position, from 0), and "
        "the actual values of the criteria of success (`criterion`: its position). 422 names "
        "each refused field: a period overlapping another report's (`period_start`), an end "
        "before the start or in the future (`period_end`), an unknown criterion, resource line "
        "or target group, reach counting more people than `participants`. Planners and tokens "
        "with `delivery:write` (Quartier has no accounts for providers' staff yet).",
        status_code=HTTP_201_CREATED,
        responses=problems(409, 422),
        **access(roles=PLANNERS, scopes={"delivery:write"}),
    )
    @idempotent
    async def create_report(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        data: ds.DeliveryReportInput,
    ) -> ds.DeliveryReport:
        actor = Actor.of(principal_of(request))
        return await delivery.create_report(db_session, measure_id, data, actor)

    @get(
        "/measures/{measure_id:uuid}/evaluation",
        operation_id="GetMeasureEvaluation",
        summary="The evaluation of a measure",
        description="Per criterion of success the target against the values reported per "
        "period, the trend (latest against the one before) and whether the target is met; "
        "efficiency (EUR per participant and per output, spend against the EUR plan pro rata "
        "over the reported days); the linked evaluation surveys' disclosure-controlled results; "
        "and the planners' assessments, latest first. Public once an assessment is recorded, "
        "then without reach by target group, survey results and staff names (`public: true`).",
        responses={
            403: problem_spec(
                403,
                "The evaluation is not public yet: no assessment is recorded; staff and tokens "
                "with `measures:read` may read it.",
            )
        },
        **access(public=True),
    )
    async def get_evaluation(
        self, request: AnyRequest, db_session: AsyncSession, measure_id: UUID
    ) -> ds.Evaluation:
        viewer = common.Viewer.of(principal_of(request))
        return await delivery.evaluation(db_session, measure_id, viewer)

    @post(
        "/measures/{measure_id:uuid}/assessments",
        operation_id="RecordMeasureAssessment",
        summary="Record the planners' assessment",
        description="Continue, adapt or end, with reasons; every assessment is kept (the "
        "history), the latest is the current one. For measures in delivery or evaluated "
        "(409 `measure-not-assessable` otherwise).",
        status_code=HTTP_201_CREATED,
        responses=problems(409),
        **access(roles=PLANNERS, scopes={"measures:write"}),
    )
    @idempotent
    async def record_assessment(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        data: ds.AssessmentInput,
    ) -> ds.AssessmentView:
        actor = Actor.of(principal_of(request))
        return await delivery.record_assessment(db_session, measure_id, data, actor)

    @put(
        "/measures/{measure_id:uuid}/evaluation-surveys/{survey_id:uuid}",
        operation_id="LinkEvaluationSurvey",
        summary="Link an evaluation survey to a measure",
        description="A survey of the measure's planning process becomes one of its evaluation "
        "surveys (linking it again changes nothing); 422 names `survey_id` otherwise. Its "
        "figures appear in the evaluation only as the survey's protected results.",
        status_code=HTTP_200_OK,
        responses=problems(409, 422),
        **access(roles=PLANNERS, scopes={"measures:write"}),
    )
    async def link_survey(
        self, db_session: AsyncSession, measure_id: UUID, survey_id: UUID
    ) -> list[ds.EvaluationSurvey]:
        await delivery.link_survey(db_session, measure_id, survey_id)
        return await delivery.evaluation_surveys(db_session, measure_id)

    @delete(
        "/measures/{measure_id:uuid}/evaluation-surveys/{survey_id:uuid}",
        operation_id="UnlinkEvaluationSurvey",
        summary="Unlink an evaluation survey",
        description="The survey is no longer part of the measure's evaluation.",
        status_code=HTTP_204_NO_CONTENT,
        responses=problems(409),
        **access(roles=PLANNERS, scopes={"measures:write"}),
    )
    async def unlink_survey(
        self, db_session: AsyncSession, measure_id: UUID, survey_id: UUID
    ) -> None:
        await delivery.unlink_survey(db_session, measure_id, survey_id)


API_ROUTES = [DeliveryController]
