"""JSON API of goals, draft measures, their lifecycle, consultations, feedback and summaries
(under /api/v1). Handlers are thin: they call `measures.goals`, `measures.services` and
`measures.feedback`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import ResponseHeader
from litestar.handlers import HTTPRouteHandler
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.handlers import as_method
from quartier.core.idempotency import IdempotencyKeyHeader, as_response
from quartier.core.idempotent_handlers import idempotent
from quartier.core.openapi import problem_spec, problems
from quartier.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from quartier.core.security import PLANNERS, STAFF, Role, access, principal_of
from quartier.db import engine_of
from quartier.measures import (
    common,
    delivery_controllers,
    feedback,
    goals,
    report_controllers,
    services,
)
from quartier.measures import schemas as s
from quartier.measures.models import MeasureStatus, ModerationStatus
from quartier.processes.services import Actor
from quartier.settings import Settings
from quartier.surveys.controllers import RespondentToken

GOALS = ["Goals"]
MEASURES = ["Measures"]
FEEDBACK = ["Measure feedback"]

AnyRequest = Request[Any, Any, Any]

LOCATION = [
    ResponseHeader(
        name="Location", description="Path of the created resource", documentation_only=True
    )
]
VersionQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=100_000, description="A version number; omitted: the current one."),
]
FromVersion = Annotated[int, QueryParameter(query="from", ge=1, le=100_000)]
ToVersion = Annotated[int, QueryParameter(query="to", ge=1, le=100_000)]
StatusQuery = Annotated[MeasureStatus | None, QueryParameter(description="Only this status.")]


def _write() -> dict[str, Any]:
    return access(roles=PLANNERS, scopes={"measures:write"})


def _viewer(request: AnyRequest) -> common.Viewer:
    return common.Viewer.of(principal_of(request))


def _actor(request: AnyRequest) -> Actor:
    return Actor.of(principal_of(request))


def _created(request: AnyRequest, body: Any, route: str, **params: Any) -> Response[Any]:
    location = request.app.route_reverse(route, **params)
    return Response(body, status_code=HTTP_201_CREATED, headers={"Location": location})


def _transition(
    verb: str,
    operation_id: str,
    step: Callable[..., Awaitable[None]],
    *,
    summary: str,
    description: str,
    decision: bool = False,
) -> HTTPRouteHandler:
    """A lifecycle step of MeasureController: POST /measures/{id}/<verb> with the reason
    (`TransitionInput`; with `decision`, the council's decision too: `AdoptionInput`),
    planners only, 409 where the step does not apply; `step(session, measure_id, reason,
    actor[, decision])` records it, the answer is the measure."""

    async def handler(
        self: Controller,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        data: s.TransitionInput,
    ) -> s.Measure:
        extra = (data,) if decision else ()
        await step(db_session, measure_id, data.reason, _actor(request), *extra)
        return await services.get_measure(db_session, measure_id, common.STAFF_VIEWER)

    name = verb.replace("-", "_")
    data_type = s.AdoptionInput if decision else s.TransitionInput
    return post(
        f"/measures/{{measure_id:uuid}}/{verb}",
        operation_id=operation_id,
        summary=summary,
        description=description,
        status_code=HTTP_200_OK,
        responses=problems(409),
        **_write(),
    )(as_method(handler, "MeasureController", name, data=data_type))


class GoalController(Controller):
    tags = GOALS

    @get(
        "/processes/{process_id:uuid}/goals",
        operation_id="ListGoals",
        summary="List the goals of a planning process",
        description="Goals (Ziele) with their current version, sub-goals listed by id under "
        "their goal; cursor-paginated.",
        **access(public=True),
    )
    async def list_goals(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.Goal]:
        return await goals.list_goals(
            db_session, process_id, _viewer(request), limit=limit, cursor=cursor
        )

    @post(
        "/processes/{process_id:uuid}/goals",
        operation_id="CreateGoal",
        summary="Set a goal",
        description="A goal: statement, need categories (keys), social areas (codes), target "
        "groups, evidence. A `survey_figure` evidence stores the disclosure-controlled figure "
        "of the need category in the area as the survey's aggregated needs publish it now. "
        "`parent_id` makes it a sub-goal (one level). 422 names unknown references.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        responses=problems(409, 422),
        **_write(),
    )
    @idempotent
    async def create_goal(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID, data: s.GoalCreate
    ) -> Response[s.Goal]:
        goal_id = await goals.create_goal(db_session, process_id, data, _actor(request))
        body = await goals.get_goal(db_session, goal_id, common.STAFF_VIEWER)
        return _created(request, body, "measures:goal", goal_id=goal_id)

    @get(
        "/goals/{goal_id:uuid}",
        operation_id="GetGoal",
        summary="Get a goal",
        description="The goal at its current version, or at `version`.",
        name="measures:goal",
        **access(public=True),
    )
    async def get_goal(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        goal_id: UUID,
        version: VersionQuery = None,
    ) -> s.Goal:
        return await goals.get_goal(db_session, goal_id, _viewer(request), version)

    @put(
        "/goals/{goal_id:uuid}",
        operation_id="UpdateGoal",
        summary="Save a new version of a goal",
        description="Replaces the goal's content with a new version; earlier versions stay "
        "readable.",
        responses=problems(409, 422),
        **_write(),
    )
    async def update_goal(
        self, request: AnyRequest, db_session: AsyncSession, goal_id: UUID, data: s.GoalInput
    ) -> s.Goal:
        await goals.update_goal(db_session, goal_id, data, _actor(request))
        return await goals.get_goal(db_session, goal_id, common.STAFF_VIEWER)


class MeasureController(Controller):
    tags = MEASURES

    @get(
        "/processes/{process_id:uuid}/measures",
        operation_id="ListMeasures",
        summary="List the measures of a planning process",
        description="Measures with the title and summary of their current version (German, "
        "with their `translations`); drafts only for staff and tokens with `measures:read` or "
        "`measures:write`.",
        **access(public=True),
    )
    async def list_measures(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        status: StatusQuery = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.MeasureSummary]:
        return await services.list_measures(
            db_session, process_id, _viewer(request), status=status, limit=limit, cursor=cursor
        )

    @post(
        "/processes/{process_id:uuid}/measures",
        operation_id="CreateMeasure",
        summary="Draft a measure",
        description="A draft measure (version 1): title, summary, goals it answers, social "
        "areas, target groups, resources as structured lines, intended provider, criteria of "
        "success and the body in sections. "
        "Title, summary and the sections' headings and texts are German; `translations` (of the "
        "measure and of each section) gives them in further languages, and a language the "
        "deployment does not enable is a 422 naming `translations.<language>` or "
        "`sections[i].translations.<language>`.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        responses=problems(409, 422),
        **_write(),
    )
    @idempotent
    async def create_measure(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        data: s.MeasureInput,
    ) -> Response[s.Measure]:
        measure_id = await services.create_measure(db_session, process_id, data, _actor(request))
        body = await services.get_measure(db_session, measure_id, common.STAFF_VIEWER)
        return _created(request, body, "measures:measure", measure_id=measure_id)

    @get(
        "/measures/{measure_id:uuid}",
        operation_id="GetMeasure",
        summary="Get a measure",
        description="The measure with its current version (or `version`) and its latest "
        "consultation. Texts are German, their `translations` the further languages staff gave "
        "(the response's language does not change them).",
        name="measures:measure",
        **access(public=True),
    )
    async def get_measure(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        version: VersionQuery = None,
    ) -> s.Measure:
        return await services.get_measure(db_session, measure_id, _viewer(request), version)

    @put(
        "/measures/{measure_id:uuid}",
        operation_id="UpdateMeasure",
        summary="Save a new version of a measure",
        description="Drafts and revised measures only (409 `measure-not-editable` otherwise). "
        "Feedback stays with the version it was given on. The new version holds what is sent, "
        "its `translations` included (texts per language not sent are not carried over). "
        "Title, summary and the sections' headings and texts are German; `translations` (of the "
        "measure and of each section) gives them in further languages, and a language the "
        "deployment does not enable is a 422 naming `translations.<language>` or "
        "`sections[i].translations.<language>`.",
        responses=problems(409, 422),
        **_write(),
    )
    async def update_measure(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        data: s.MeasureInput,
    ) -> s.Measure:
        await services.update_measure(db_session, measure_id, data, _actor(request))
        return await services.get_measure(db_session, measure_id, common.STAFF_VIEWER)

    @get(
        "/measures/{measure_id:uuid}/versions",
        operation_id="ListMeasureVersions",
        summary="List the versions of a measure",
        description="Every version, oldest first.",
        **access(public=True),
    )
    async def list_versions(
        self, request: AnyRequest, db_session: AsyncSession, measure_id: UUID
    ) -> list[s.MeasureVersion]:
        return await services.list_versions(db_session, measure_id, _viewer(request))

    @get(
        "/measures/{measure_id:uuid}/diff",
        operation_id="DiffMeasureVersions",
        summary="Compare two versions of a measure",
        description="Field by field: title, summary, provider, areas, target groups, goals, "
        "each resource line and criterion, and each section (matched by key, with a unified "
        "diff of long texts); texts per language as `translations.<language>.<field>` and "
        "`sections.<key>.translations.<language>.<field>`.",
        **access(public=True),
    )
    async def diff(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        from_version: FromVersion,
        to_version: ToVersion,
    ) -> s.VersionDiff:
        return await services.diff(
            db_session, measure_id, _viewer(request), from_version, to_version
        )

    @get(
        "/measures/{measure_id:uuid}/transitions",
        operation_id="ListMeasureTransitions",
        summary="The lifecycle history of a measure",
        description="Every transition: from, to, version, phase, reason, who and when (names "
        "staff members, hence not public).",
        **access(roles=STAFF, scopes={"measures:read", "measures:write"}),
    )
    async def list_transitions(
        self, db_session: AsyncSession, measure_id: UUID
    ) -> list[s.Transition]:
        return await services.list_transitions(db_session, measure_id, common.STAFF_VIEWER)

    @post(
        "/measures/{measure_id:uuid}/consultation",
        operation_id="StartMeasureConsultation",
        summary="Open a consultation on the measure's current version",
        description="draft or revised → in_consultation, in the phase `measure_planning` only "
        "(409 `wrong-phase`, `invalid-transition`). Sets the window (default: now for `days` "
        "days), the rating criteria, whether the summary is public after closing, and the "
        "disclosure thresholds.",
        status_code=HTTP_201_CREATED,
        responses=problems(409, 422),
        **_write(),
    )
    @idempotent
    async def start_consultation(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        data: s.ConsultationInput,
    ) -> s.Consultation:
        return await services.start_consultation(db_session, measure_id, data, _actor(request))

    revise = _transition(
        "revise",
        "ReviseMeasure",
        services.revise,
        summary="Close the consultation to revise the measure",
        description="in_consultation → revised (phase `measure_planning`); an open window "
        "closes now. The measure can then be edited (new version).",
    )
    adopt = _transition(
        "adopt",
        "AdoptMeasure",
        services.adopt,
        summary="Record the council's adoption",
        description="revised → adopted (phase `measure_planning`), with the council's "
        "decision: the deciding body, the decision's reference and its date (today unless "
        "given). The decision template (GetMeasureDecisionTemplate) shows it from then on.",
        decision=True,
    )
    resource = _transition(
        "resource",
        "ResourceMeasure",
        services.resource,
        summary="Record that the resources are provided",
        description="adopted → resourced (phase `resource_provision`).",
    )
    start_delivery = _transition(
        "start-delivery",
        "StartMeasureDelivery",
        services.start_delivery,
        summary="Record that delivery has started",
        description="resourced → in_delivery (phase `service_delivery`).",
    )
    evaluate = _transition(
        "evaluate",
        "EvaluateMeasure",
        services.evaluate,
        summary="Record the evaluation",
        description="in_delivery → evaluated (phase `evaluation`).",
    )
    withdraw = _transition(
        "withdraw",
        "WithdrawMeasure",
        services.withdraw,
        summary="Withdraw a measure",
        description="Any state but evaluated or withdrawn → withdrawn, in any phase; an open "
        "consultation closes now.",
    )


class FeedbackController(Controller):
    tags = FEEDBACK

    @post(
        "/measures/{measure_id:uuid}/feedback",
        operation_id="SubmitMeasureFeedback",
        summary="Give feedback on a measure",
        description="One response to the open consultation (409 `consultation-closed` "
        "outside its window, `phase-closed` when the process's phase does not open measure "
        "feedback): a stance, ratings on the consultation's criteria (1–5), comments per "
        "section, a general comment, optionally the social area and the kind of respondent. "
        "Residents and professionals stay anonymous: nothing about the person is stored, and "
        "`Respondent-Token` (stored only as a keyed per-consultation hash) refuses a second "
        "response from the same browser (409 `already-answered`). An organisation answers "
        "with the consultation code issued to it (`organisation_code`, once; 409 when used) "
        "and is shown by name. Send an `Idempotency-Key` to retry safely.",
        status_code=HTTP_201_CREATED,
        responses=problems(409, 422),
        **access(public=True),
    )
    async def submit(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        data: s.FeedbackSubmission,
        idempotency_key: IdempotencyKeyHeader = None,
        respondent_token: RespondentToken = None,
    ) -> Response[s.FeedbackReceipt]:
        settings: Settings = request.app.state["settings"]
        result = await feedback.submit_idempotent(
            db_session,
            settings,
            measure_id,
            data,
            idempotency_key=idempotency_key,
            respondent_token=respondent_token,
            engine=engine_of(request),
        )
        response: Response[s.FeedbackReceipt] = as_response(result)
        return response

    @post(
        "/measures/{measure_id:uuid}/consultation/codes",
        operation_id="IssueConsultationCodes",
        summary="Issue consultation codes to organisations",
        description="One code per organisation for the measure's latest consultation, shown "
        "once (only a keyed hash is kept). An organisation answers with it as the "
        "organisation.",
        status_code=HTTP_201_CREATED,
        responses=problems(409, 422),
        **_write(),
    )
    @idempotent
    async def issue_codes(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        data: s.CodesRequest,
    ) -> list[s.IssuedCode]:
        settings: Settings = request.app.state["settings"]
        return await feedback.issue_codes(db_session, settings, measure_id, data)

    @get(
        "/measures/{measure_id:uuid}/feedback-comments",
        operation_id="ListMeasureFeedbackComments",
        summary="The feedback comments of a measure, for moderation",
        description="Every comment given on the measure (on one version's consultation with "
        "`version`; in one moderation state with `moderation`, e.g. `pending`: those waiting "
        "for a moderator), pending and hidden ones too, with the last moderation step (who, "
        "when, why); by version, section (general comments last) and time. A comment starts "
        "`pending` where the process pre-moderates (its idea settings, as idea comments "
        "do), else `visible`. Residents' comments carry no person; organisations' name the "
        "organisation.",
        **access(roles=STAFF, scopes={"measures:read", "measures:write"}),
    )
    async def list_comments(
        self,
        db_session: AsyncSession,
        measure_id: UUID,
        version: VersionQuery = None,
        moderation: Annotated[
            ModerationStatus | None,
            QueryParameter(description="Only comments in this moderation state"),
        ] = None,
    ) -> list[s.ModeratedComment]:
        return await feedback.list_comments(db_session, measure_id, version, moderation)

    @post(
        "/measures/{measure_id:uuid}/feedback-comments/{comment_id:uuid}/moderation",
        operation_id="ModerateMeasureFeedbackComment",
        summary="Publish, hide or restore a feedback comment",
        description="As idea comments are moderated: `visible` publishes a pending comment "
        "or restores a hidden one; `hidden` with the reason (required, recorded with who and "
        "when) takes the comment out of the summary, the organisations' statements, the "
        "exports and the consultation report. A pending comment is in none of them until it "
        "is published; nothing is set back to `pending` (422).",
        status_code=HTTP_200_OK,
        responses=problems(422),
        **access(roles={Role.MODERATOR, Role.ADMIN}, scopes={"measures:write"}),
    )
    async def moderate_comment(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        comment_id: UUID,
        data: s.CommentModeration,
    ) -> s.ModeratedComment:
        return await feedback.moderate_comment(
            db_session, measure_id, comment_id, data, _actor(request).name
        )

    @get(
        "/measures/{measure_id:uuid}/summary",
        operation_id="GetMeasureFeedbackSummary",
        summary="The feedback summary of a measure version",
        description="Responses by kind, stance distribution, each criterion's mean with a 95% "
        "interval and its distribution — for all anonymous responses, per kind and per kind "
        "and social area (the measure's areas and every area a response named, each listed "
        "with responses or without) — under disclosure control by the cell key method "
        "(`disclosure_method`): every count is perturbed by noise chosen by its cell key, the "
        "same wherever the cell appears, and results below k read 0; means, medians and "
        "intervals come from the perturbed distribution; a group whose perturbed number of "
        "responses is below `min_respondents` is not shown (null, `suppressed: true`, reason "
        "`protected`, never 0). "
        "Organisations' named statements are listed, not suppressed; comments by section "
        "(hidden comments left out). Public after the window closes if the consultation says "
        "so, always for staff and tokens with `measures:read`.",
        responses={
            403: problem_spec(
                403,
                "The summary is not public: the consultation is still open or does not "
                "publish its summary; staff and tokens with `measures:read` may read it.",
            )
        },
        **access(public=True),
    )
    async def summary(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        measure_id: UUID,
        version: VersionQuery = None,
    ) -> s.FeedbackSummary:
        return await feedback.summary(db_session, measure_id, _viewer(request), version)

    @get(
        "/processes/{process_id:uuid}/traceability",
        operation_id="GetTraceability",
        summary="From needs to measures",
        description="For each need category (and social area) the goals address: the survey "
        "figures they rest on, the goals, the measures answering them and their status.",
        tags=MEASURES,
        **access(public=True),
    )
    async def traceability(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID
    ) -> s.Traceability:
        return await feedback.traceability(db_session, process_id, _viewer(request))


API_ROUTES: list[ControllerRouterHandler] = [
    GoalController,
    MeasureController,
    FeedbackController,
    *delivery_controllers.API_ROUTES,
    *report_controllers.REPORT_ROUTES,
]
