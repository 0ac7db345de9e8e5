"""JSON API of ideas (under /api/v1): submitting, following with the private link, supports,
comments, reports, moderation, the official answer, lists and the GeoJSON feed. Handlers are
thin: they call `ideas.services` and `ideas.moderation`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import HeaderParameter, Parameter, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.core.conditional import cached
from quartier.core.handlers import as_method
from quartier.core.idempotency import IdempotencyKeyHeader, as_response
from quartier.core.openapi import problems, with_content
from quartier.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from quartier.core.security import ADMINS, PLANNERS, Principal, Role, access, principal_of
from quartier.db import engine_of
from quartier.ideas import aggregates, exports, moderation, services
from quartier.ideas import schemas as s
from quartier.participation import codes, pseudonyms
from quartier.participation.submissions import operation_name, resident_write
from quartier.settings import Settings
from quartier.surveys import exports as survey_exports
from quartier.surveys.export_controllers import EXPORT_CONTENT, EXPORT_RESPONSE, FormatParam
from quartier.surveys.exports import Format

IDEAS = ["Ideas"]
AGGREGATES_REF = "#/components/schemas/IdeaAggregates"
MODERATION = ["Idea moderation"]
MODERATORS = {Role.ADMIN, Role.MODERATOR}
AnyRequest = Request[Any, Any, Any]

RespondentToken = Annotated[
    str,
    HeaderParameter(
        header=pseudonyms.RESPONDENT_TOKEN_HEADER,
        min_length=pseudonyms.RESPONDENT_TOKEN_MIN,
        max_length=pseudonyms.RESPONDENT_TOKEN_MAX,
        description="An opaque random value the client keeps (16 to 256 characters). Only a "
        "keyed per-process hash of it is stored, so that each resident supports an idea once.",
    ),
]
FollowToken = Annotated[
    str,
    Parameter(
        min_length=16,
        max_length=codes.FOLLOW_TOKEN_MAX,
        description="The secret of the private follow link given once on submission.",
    ),
]
SortParam = Annotated[
    Literal["newest", "most_supported", "recently_answered"],
    QueryParameter(description="Descending: newest, most supported, or most recently answered."),
]
ProcessFilter = Annotated[UUID | None, QueryParameter(description="Ideas of this process.")]
AreaFilter = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=40,
        pattern="^[A-Za-z0-9_.-]+$",
        description="Official code of a social area: ideas in it and in all its sub-areas.",
    ),
]
NeedFilter = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=64, pattern="^[a-z0-9_]+$", description="Need key."),
]
StatusFilter = Annotated[
    Literal["under_review", "accepted", "merged", "not_pursued", "implemented"] | None,
    QueryParameter(description="Official status."),
]


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state["settings"]
    return settings


async def _idempotent(
    request: AnyRequest,
    db_session: AsyncSession,
    key: str | None,
    operation_id: str,
    scope: UUID,
    body: Any,
    produce: Callable[[], Awaitable[tuple[int, Any, dict[str, str]]]],
) -> Response[Any]:
    """A resident's write (`operation_id` on `scope`, the process or idea): `produce` runs at
    most once per `Idempotency-Key`; a retry with the same key and body gets the stored answer."""
    result = await resident_write(
        db_session,
        settings=_settings(request),
        operation=operation_name(operation_id, scope),
        key=key,
        body=body,
        produce=produce,
    )
    response: Response[Any] = as_response(result)
    return response


def _resident_post(
    name: str,
    collection: str,
    operation_id: str,
    write: Callable[[AsyncSession, UUID, Any], Awaitable[Any]],
    data_type: type[Any],
    answer_type: type[Any],
    *,
    summary: str,
    description: str,
    responses: Any,
) -> HTTPRouteHandler:
    """IdeaController's handler `name`: a resident's POST /ideas/{id}/<collection>, public,
    201 with what `write(session, idea_id, data)` answers, retried safely with
    `Idempotency-Key`."""

    async def handler(
        self: Controller,
        request: AnyRequest,
        db_session: AsyncSession,
        idea_id: UUID,
        data: Any,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[Any]:
        async def produce() -> tuple[int, Any, dict[str, str]]:
            return 201, await write(db_session, idea_id, data), {}

        return await _idempotent(
            request, db_session, idempotency_key, operation_id, idea_id, data, produce
        )

    answer = Response[answer_type]  # type: ignore[valid-type]
    handler = as_method(handler, "IdeaController", name, data=data_type, **{"return": answer})
    return post(
        f"/{{idea_id:uuid}}/{collection}",
        operation_id=operation_id,
        summary=summary,
        description=description,
        status_code=HTTP_201_CREATED,
        responses=responses,
        **access(public=True),
    )(handler)


def _actor(request: AnyRequest) -> Principal:
    principal = principal_of(request)
    assert principal is not None  # the guard let only signed-in callers through
    return principal


def _is_staff(request: AnyRequest) -> bool:
    principal = principal_of(request)
    if principal is None:
        return False
    if principal.kind == "staff":
        return True
    return bool(principal.scopes & {"ideas:read", "ideas:moderate", "ideas:write"})


def follow_url(request: AnyRequest, token: str) -> str:
    return request.app.route_reverse("ideas:follow", token=token)


def _moderate() -> dict[str, Any]:
    return access(roles=MODERATORS, scopes={"ideas:moderate"})


def _answer() -> dict[str, Any]:
    return access(roles=PLANNERS, scopes={"ideas:write"})


def _moderation_step(
    name: str,
    verb: str,
    operation_id: str,
    step: Callable[[AsyncSession, UUID, Principal, str], Awaitable[s.IdeaOut]],
    data_type: type[Any],
    *,
    summary: str,
    description: str,
    responses: Any = None,
) -> HTTPRouteHandler:
    """IdeaController's handler `name`: a moderator's POST /ideas/{id}/<verb> with a reason
    (`data_type`); `step(session, idea_id, moderator, reason)` records it, the answer is the
    idea."""

    async def handler(
        self: Controller,
        request: AnyRequest,
        db_session: AsyncSession,
        idea_id: UUID,
        data: Any,
    ) -> s.IdeaOut:
        return await step(db_session, idea_id, _actor(request), data.reason)

    return post(
        f"/{{idea_id:uuid}}/{verb}",
        operation_id=operation_id,
        summary=summary,
        description=description,
        status_code=HTTP_200_OK,
        responses=responses,
        tags=MODERATION,
        **_moderate(),
    )(as_method(handler, "IdeaController", name, data=data_type))


class ProcessIdeasController(Controller):
    path = "/processes/{process_id:uuid}"
    tags = IDEAS

    @post(
        "/ideas",
        operation_id="SubmitIdea",
        summary="Submit an idea",
        description="A resident's idea for a social area of the process, while the ideas "
        "module is open in the active phase (409 `phase-closed`). Where it applies: "
        "`area_code` (an area of the process) or `point` (resolved to the most detailed area "
        "containing it; the point is stored only with `show_point_publicly`). No account: the "
        "answer holds a private follow link (`follow_token`, shown once) to follow, edit "
        "before moderation, or withdraw the idea. `notify_email` only with `email_consent`; "
        "it is used only for notifications and never shown, exported or logged. The "
        "notifications are written in this request's language (`lang`, `Accept-Language`; "
        "only its code is kept, with the address).\n\n"
        "Pre-moderated processes keep the idea `pending` until a moderator publishes it. "
        "Spam defence: the `website` honeypot must stay empty, at most two links, and the "
        "same text as a live idea of the process is 409 `duplicate-idea`. Send an "
        "`Idempotency-Key` to retry safely.",
        status_code=HTTP_201_CREATED,
        responses=problems(409, 422),
        **access(public=True),
    )
    async def submit(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        data: s.IdeaSubmission,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[s.IdeaSubmitted]:
        async def produce() -> tuple[int, Any, dict[str, str]]:
            done = await services.submit_idea(db_session, _settings(request), process_id, data)
            body = s.IdeaSubmitted(
                idea=done.idea,
                follow_token=done.follow_token,
                follow_url=follow_url(request, done.follow_token),
            )
            location = request.app.route_reverse("ideas:get", idea_id=done.idea.id)
            return 201, body, {"Location": location}

        return await _idempotent(
            request, db_session, idempotency_key, "SubmitIdea", process_id, data, produce
        )

    @put(
        "/idea-settings",
        operation_id="SetIdeaSettings",
        summary="Set the ideas settings of a process",
        description="`premoderation: true` (the default) keeps new ideas and comments pending "
        "until a moderator publishes them; `false` publishes them at once.",
        **_answer(),
    )
    async def set_settings(
        self, db_session: AsyncSession, process_id: UUID, data: s.IdeaSettingsIn
    ) -> s.IdeaSettingsOut:
        return await services.set_process_settings(db_session, process_id, data)


LevelParam = Annotated[
    str,
    QueryParameter(
        min_length=1,
        max_length=40,
        pattern="^[a-z0-9_]+$",
        description="The area level of the rows, e.g. `district`, `planning_area`.",
    ),
]


class IdeaAggregatesController(Controller):
    path = "/processes/{process_id:uuid}/idea-aggregates"
    tags = IDEAS

    @get(
        "/",
        operation_id="GetIdeaAggregates",
        summary="Ideas and supporters per area and need category",
        description="Published ideas and distinct supporting residents per social area (at "
        "`level`, each with its sub-areas) × need category; every area of the level and every "
        "need category are listed. Disclosure control as for the surveys, by the cell key "
        "method (`disclosure_method`): every count is perturbed by noise chosen by its cell "
        "key, the same wherever the cell appears, and results below k read 0; an area whose "
        "perturbed number of ideas (or of supporters) is below `min_respondents` is not shown: "
        "its values are null with `suppressed: true` and reason `protected`, never 0.",
        responses=problems(422),
        **access(roles=PLANNERS, scopes={"ideas:read", "exports:read"}),
    )
    async def aggregates(
        self, db_session: AsyncSession, process_id: UUID, level: LevelParam
    ) -> s.IdeaAggregates:
        return await aggregates.idea_aggregates(db_session, process_id, level)

    @get(
        "/csv",
        operation_id="ExportIdeaAggregates",
        summary="Ideas aggregates as CSV",
        description="The same figures as GetIdeaAggregates as CSV (UTF-8, comma): the metadata "
        "first as `# key: value` comment lines, then one row per area × need category; "
        "values of areas not shown (protected) are empty and flagged. "
        "ExportIdeaAggregatesFile offers every format.",
        media_type="text/csv; charset=utf-8",
        responses=problems(422),
        **access(roles=PLANNERS, scopes={"exports:read"}),
    )
    async def export_csv(
        self, db_session: AsyncSession, db_engine: AsyncEngine, process_id: UUID, level: LevelParam
    ) -> Stream:
        result = await aggregates.idea_aggregates(db_session, process_id, level)
        return _file(result, Format.CSV, db_engine, media_type="text/csv; charset=utf-8")

    @get(
        "/export",
        operation_id="ExportIdeaAggregatesFile",
        summary="Export the ideas aggregates as a file",
        description="The figures of GetIdeaAggregates as a file (`format`), in the shape of the "
        "surveys' exports: JSON (the IdeaAggregates document), CSV and German-Excel CSV with "
        "`#` metadata lines, XLSX (sheets Ideen and Metadaten), or GeoJSON (each area of the "
        "level with its boundary and flat properties `<category>_ideas`, "
        "`<category>_supporters`). The same perturbed value in every format; values of areas "
        "not shown are empty or null and flagged, never 0.",
        tags=["Exports"],
        responses={**EXPORT_RESPONSE},
        **with_content(
            access(roles=PLANNERS, scopes={"exports:read"}),
            {200: {**EXPORT_CONTENT[200], "application/json": {"$ref": AGGREGATES_REF}}},
        ),
    )
    async def export_file(
        self,
        db_session: AsyncSession,
        db_engine: AsyncEngine,
        process_id: UUID,
        level: LevelParam,
        format: FormatParam = Format.JSON,
    ) -> Stream:
        result = await aggregates.idea_aggregates(db_session, process_id, level)
        return _file(result, format, db_engine)


def _file(
    result: s.IdeaAggregates, fmt: Format, engine: AsyncEngine, media_type: str | None = None
) -> Stream:
    return Stream(
        exports.render(result, fmt, engine),
        media_type=media_type or survey_exports.MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{exports.filename(result, fmt)}"',
            "Cache-Control": "no-store",
        },
    )


class AreaNeedsController(Controller):
    path = "/processes/{process_id:uuid}/area-needs/{area_code:str}"
    tags = IDEAS

    @get(
        "/",
        operation_id="GetAreaNeedsSideBySide",
        summary="One area's needs from surveys and ideas side by side",
        description="For one social area of the process: the surveys' aggregated needs (pooled "
        "over the process's surveys, as GetProcessAggregatedNeeds at the area's level) beside "
        "its ideas and supporters per need category (as GetIdeaAggregates). Both are "
        "disclosure-controlled by the cell key method; values of areas not shown are null "
        "and flagged (protected).",
        **access(roles=PLANNERS, scopes={"ideas:read", "exports:read"}),
    )
    async def area_needs(
        self,
        db_session: AsyncSession,
        process_id: UUID,
        area_code: Annotated[str, Parameter(min_length=1, max_length=40)],
    ) -> s.AreaNeedsSideBySide:
        return await aggregates.area_needs(db_session, process_id, area_code)


class IdeaController(Controller):
    path = "/ideas"
    tags = IDEAS

    @get(
        "/",
        operation_id="ListIdeas",
        summary="List ideas",
        description="Published ideas, and hidden ones with their public reason in place of the "
        "text. Filters: process, social area (its code; includes all sub-areas), need "
        "category, official status. Sorted descending by `sort`; cursor-paginated.",
        responses=problems(422),
        **cached(access(public=True)),
    )
    async def list_ideas(
        self,
        db_session: AsyncSession,
        process_id: ProcessFilter = None,
        area: AreaFilter = None,
        need_category: NeedFilter = None,
        status: StatusFilter = None,
        sort: SortParam = "newest",
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.IdeaOut]:
        items, next_cursor = await services.list_ideas(
            db_session,
            services.IdeaFilter(
                process_id=process_id,
                area_code=area,
                need_category=need_category,
                official_status=status,
            ),
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
        return Page(items=items, next_cursor=next_cursor)

    @get(
        "/geojson",
        operation_id="GetIdeasGeoJSON",
        summary="Published ideas with a public point, as GeoJSON",
        description="A FeatureCollection (WGS 84) of the published ideas whose authors agreed "
        "to show their point, optionally of one process; properties: title, need category, "
        "area code, official status, support count.",
        media_type="application/geo+json",
        **cached(access(public=True)),
    )
    async def geojson(
        self, db_session: AsyncSession, process_id: ProcessFilter = None
    ) -> dict[str, Any]:
        return await services.geojson(db_session, process_id)

    @get(
        "/{idea_id:uuid}",
        operation_id="GetIdea",
        name="ideas:get",
        summary="Get an idea",
        description="One idea with its area, status, official answer and support count. The "
        "official answer is German, its `translations` the further languages staff gave (the "
        "response's language does not change them). A hidden idea shows its public reason "
        "instead of its text. Ideas awaiting moderation "
        "or withdrawn are 404 except for staff and tokens with an `ideas:` scope.",
        **access(public=True),
    )
    async def get_idea(
        self, request: AnyRequest, db_session: AsyncSession, idea_id: UUID
    ) -> s.IdeaOut:
        return await services.get_idea(db_session, idea_id, staff=_is_staff(request))

    @get(
        "/{idea_id:uuid}/comments",
        operation_id="ListIdeaComments",
        summary="List the comments of an idea",
        description="Published comments, hidden ones with their public reason; each reply "
        "follows its comment. Staff also see comments awaiting moderation.",
        **access(public=True),
    )
    async def list_comments(
        self, request: AnyRequest, db_session: AsyncSession, idea_id: UUID
    ) -> list[s.CommentOut]:
        return await services.list_comments(db_session, idea_id, staff=_is_staff(request))

    submit_comment = _resident_post(
        "submit_comment",
        "comments",
        "SubmitIdeaComment",
        services.submit_comment,
        s.CommentSubmission,
        s.CommentOut,
        summary="Comment on an idea",
        description="A comment on a published idea, or a reply (`parent_id`) to a comment that "
        "is not itself a reply, while ideas are open in the process. Moderated like ideas. "
        "Send an `Idempotency-Key` to retry safely.",
        responses=problems(409, 422),
    )

    @post(
        "/{idea_id:uuid}/supports",
        operation_id="SubmitIdeaSupport",
        summary="Support an idea",
        description="One support per resident and idea, recognised by the keyed per-process "
        "pseudonym of `Respondent-Token`; supporting again changes nothing. Needs a published "
        "idea while ideas are open in the process.",
        status_code=HTTP_200_OK,
        responses=problems(409),
        **access(public=True),
    )
    async def support(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        idea_id: UUID,
        respondent_token: RespondentToken,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[s.SupportState]:
        async def produce() -> tuple[int, Any, dict[str, str]]:
            state = await services.support(
                db_session, _settings(request), idea_id, respondent_token, on=True
            )
            return 200, state, {}

        if idempotency_key is None:  # the common case: one statement on the driver
            done = await services.support_on_driver(
                engine_of(request), _settings(request), idea_id, respondent_token, on=True
            )
            if done is not None:
                return Response(done, status_code=HTTP_200_OK)

        body = {"idea_id": str(idea_id), "token": respondent_token}
        return await _idempotent(
            request, db_session, idempotency_key, "SubmitIdeaSupport", idea_id, body, produce
        )

    @delete(
        "/{idea_id:uuid}/supports",
        operation_id="WithdrawIdeaSupport",
        summary="Withdraw a support",
        description="Removes this resident's support (by `Respondent-Token`); harmless when "
        "there is none. Answers the new state.",
        status_code=HTTP_200_OK,
        responses=problems(409),
        **access(public=True),
    )
    async def withdraw_support(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        idea_id: UUID,
        respondent_token: RespondentToken,
    ) -> s.SupportState:
        return await services.support_quickly(
            db_session, engine_of(request), _settings(request), idea_id, respondent_token, on=False
        )

    report = _resident_post(
        "report",
        "reports",
        "SubmitIdeaReport",
        services.report,
        s.ReportSubmission,
        s.ReportReceived,
        summary="Report an idea or a comment",
        description="Anyone reports a visible idea or one of its comments (`comment_id`) with "
        "a reason; reports queue for moderators.",
        responses=problems(422),
    )

    @post(
        "/{idea_id:uuid}/publish",
        operation_id="PublishIdea",
        summary="Publish an idea",
        description="A pending idea goes public. Logged; open reports are resolved.",
        status_code=HTTP_200_OK,
        responses=problems(409),
        tags=MODERATION,
        **_moderate(),
    )
    async def publish(
        self, request: AnyRequest, db_session: AsyncSession, idea_id: UUID
    ) -> s.IdeaOut:
        return await moderation.publish_idea(db_session, idea_id, _actor(request))

    hide = _moderation_step(
        "hide",
        "hide",
        "HideIdea",
        moderation.hide_idea,
        s.HideRequest,
        summary="Hide an idea with a public reason",
        description="The idea keeps its place and shows “hidden by moderation” with the "
        "reason; it never disappears silently. Logged; open reports are resolved.",
        responses=problems(409),
    )
    restore = _moderation_step(
        "restore",
        "restore",
        "RestoreIdea",
        moderation.restore_idea,
        s.ModerationNote,
        summary="Restore a hidden idea",
        description="A hidden idea is published again. Logged.",
        responses=problems(409),
    )
    dismiss = _moderation_step(
        "dismiss",
        "dismiss-reports",
        "DismissIdeaReports",
        moderation.dismiss_reports,
        s.ModerationNote,
        summary="Dismiss the reports of an idea",
        description="The open reports of the idea are unfounded: they are resolved, the idea "
        "stays as it is. Logged.",
    )

    @post(
        "/{idea_id:uuid}/merge",
        operation_id="MergeIdea",
        summary="Merge a duplicate into another idea",
        description="The idea becomes `merged` into `into_id` (a published idea of the same "
        "process). Its supports carry over; a resident who supported both counts once. "
        "Logged.",
        status_code=HTTP_200_OK,
        responses=problems(409, 422),
        tags=MODERATION,
        **_moderate(),
    )
    async def merge(
        self, request: AnyRequest, db_session: AsyncSession, idea_id: UUID, data: s.MergeRequest
    ) -> s.IdeaOut:
        return await moderation.merge_ideas(
            db_session, idea_id, data.into_id, _actor(request), data.reason
        )

    @put(
        "/{idea_id:uuid}/answer",
        operation_id="AnswerIdea",
        summary="Set the official status and public answer",
        description="Planners answer an idea: under review, accepted, merged, not pursued "
        "(say why), implemented. `answer` is German; `translations` gives the answer in further "
        'languages (`{"en": {"official_answer": …}}`), replacing those given before; a '
        "language the deployment does not enable is a 422 naming `translations.<language>`. "
        "Residents read the answer in their language, otherwise in German with a note. "
        "Followers who gave an e-mail address are notified; a closing status (not pursued, "
        "implemented, merged) deletes the address.",
        responses=problems(409),
        **_answer(),
    )
    async def answer(
        self, request: AnyRequest, db_session: AsyncSession, idea_id: UUID, data: s.AnswerRequest
    ) -> s.IdeaOut:
        return await moderation.answer_idea(
            db_session, _settings(request), idea_id, data, _actor(request)
        )


class IdeaCommentController(Controller):
    path = "/idea-comments/{comment_id:uuid}"
    tags = MODERATION

    @post(
        "/publish",
        operation_id="PublishIdeaComment",
        summary="Publish or restore a comment",
        description="A pending or hidden comment is published. Logged.",
        status_code=HTTP_200_OK,
        responses=problems(409),
        **_moderate(),
    )
    async def publish(
        self, request: AnyRequest, db_session: AsyncSession, comment_id: UUID
    ) -> s.CommentOut:
        return await moderation.moderate_comment(
            db_session, comment_id, _actor(request), publish=True, reason=None
        )

    @post(
        "/hide",
        operation_id="HideIdeaComment",
        summary="Hide a comment with a public reason",
        description="The comment keeps its place showing the reason. Logged.",
        status_code=HTTP_200_OK,
        responses=problems(409),
        **_moderate(),
    )
    async def hide(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        comment_id: UUID,
        data: s.HideRequest,
    ) -> s.CommentOut:
        return await moderation.moderate_comment(
            db_session, comment_id, _actor(request), publish=False, reason=data.reason
        )


class ModerationController(Controller):
    path = "/idea-moderation"
    tags = MODERATION

    @get(
        "/queue",
        operation_id="ListIdeaModerationQueue",
        summary="The moderation queue",
        description="Ideas that need a moderator: new (pending), with open reports, or with "
        "comments awaiting moderation, oldest first, with their full text, open reports and "
        "waiting comments.",
        **access(roles=MODERATORS, scopes={"ideas:moderate", "ideas:read"}),
    )
    async def queue(
        self,
        db_session: AsyncSession,
        process_id: ProcessFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.QueueItem]:
        items, next_cursor = await moderation.moderation_queue(
            db_session, process_id=process_id, limit=limit, cursor=cursor
        )
        return Page(items=items, next_cursor=next_cursor)

    @get(
        "/log",
        operation_id="ListIdeaModerationLog",
        summary="The moderation log",
        description="Every moderation action — who, when, what, why — newest first.",
        **access(roles=ADMINS, scopes={"ideas:moderate"}),
    )
    async def log(
        self,
        db_session: AsyncSession,
        idea_id: Annotated[UUID | None, QueryParameter(description="Of one idea.")] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.ModerationEntryOut]:
        items, next_cursor = await moderation.moderation_log(
            db_session, idea_id=idea_id, limit=limit, cursor=cursor
        )
        return Page(items=items, next_cursor=next_cursor)


class FollowController(Controller):
    path = "/followed-ideas/{token:str}"
    tags = IDEAS

    @get(
        "/",
        operation_id="GetFollowedIdea",
        name="ideas:follow",
        summary="Follow one's own idea",
        description="The idea of a private follow link, in any state, with its own text also "
        "when hidden; `editable` while it awaits moderation. Unknown links are 404.",
        **access(public=True),
    )
    async def get_followed(
        self, request: AnyRequest, db_session: AsyncSession, token: FollowToken
    ) -> s.FollowedIdea:
        return await services.get_followed(db_session, _settings(request), token)

    @patch(
        "/",
        operation_id="EditFollowedIdea",
        summary="Edit one's own idea before moderation",
        description="Title, description or need category, while the idea is pending (409 "
        "`idea-not-editable` afterwards).",
        responses=problems(409, 422),
        **access(public=True),
    )
    async def edit(
        self, request: AnyRequest, db_session: AsyncSession, token: FollowToken, data: s.IdeaEdit
    ) -> s.FollowedIdea:
        return await services.edit_followed(db_session, _settings(request), token, data)

    @post(
        "/withdraw",
        operation_id="WithdrawFollowedIdea",
        summary="Withdraw one's own idea",
        description="The idea disappears from lists and its e-mail address is deleted.",
        status_code=HTTP_200_OK,
        responses=problems(409),
        **access(public=True),
    )
    async def withdraw(
        self, request: AnyRequest, db_session: AsyncSession, token: FollowToken
    ) -> s.FollowedIdea:
        return await services.withdraw_followed(db_session, _settings(request), token)

    @delete(
        "/email",
        operation_id="StopIdeaEmails",
        summary="Stop e-mails about one's own idea",
        description="Deletes the e-mail address kept for notifications (the unsubscribe link; "
        "no sign-in needed).",
        status_code=HTTP_200_OK,
        **access(public=True),
    )
    async def stop_emails(
        self, request: AnyRequest, db_session: AsyncSession, token: FollowToken
    ) -> s.FollowedIdea:
        return await services.forget_email(db_session, _settings(request), token)


API_ROUTES: list[ControllerRouterHandler] = [
    ProcessIdeasController,
    IdeaAggregatesController,
    AreaNeedsController,
    IdeaController,
    IdeaCommentController,
    ModerationController,
    FollowController,
]
