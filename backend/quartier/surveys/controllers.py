"""JSON API of surveys and need categories (under /api/v1): definitions and their lifecycle,
export and import, invitation codes, submitting and entering responses, receipts, and
per-question results. Handlers are thin: they call `surveys.services`."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Litestar, Request, Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.errors import NotFound
from quartier.core.idempotency import IdempotencyKeyHeader, as_response
from quartier.core.idempotent_handlers import idempotent
from quartier.core.openapi import problems
from quartier.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from quartier.core.security import ADMINS, PLANNERS, STAFF, access, principal_of
from quartier.participation import codes, pseudonyms
from quartier.settings import Settings
from quartier.surveys import responses, services
from quartier.surveys import schemas as s
from quartier.surveys.models import Channel

SURVEYS = ["Surveys"]
NEEDS = ["Need categories"]
CSV_MEDIA_TYPE = "text/csv"  # Litestar adds `; charset=utf-8` to text/* types

LOCATION = [
    ResponseHeader(
        name="Location", description="Path of the created resource", documentation_only=True
    )
]

AnyRequest = Request[Any, Any, Any]

Texts = Annotated[
    Literal["negotiated", "all"],
    QueryParameter(
        description="`negotiated` (default): every text in the language negotiated from `lang` "
        "or `Accept-Language`; `all`: every text with all its languages."
    ),
]
LevelQuery = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=40,
        description="Group the results by the social areas at this level (e.g. `district`, "
        "`planning_area`); omitted: all responses together.",
    ),
]
AtQuery = Annotated[
    datetime.date | None,
    QueryParameter(
        description="The date of the area hierarchy with `level` (ISO 8601, default today): "
        "the areas valid then, each response counted under the area its own area lies in then "
        "(an area not valid then, e.g. a retired one: as on its last valid day).",
    ),
]
IncludeInactive = Annotated[
    bool, QueryParameter(description="Also list deactivated need categories.")
]
RespondentToken = Annotated[
    str | None,
    HeaderParameter(
        header="Respondent-Token",
        required=False,
        max_length=pseudonyms.RESPONDENT_TOKEN_MAX,
        description="Open surveys: an opaque random value the client keeps for this survey "
        "(16 to 256 characters, e.g. from localStorage). Only a keyed per-survey hash of it is "
        "stored, to refuse a second response from the same client.",
    ),
]


def _write() -> dict[str, Any]:
    return access(roles=PLANNERS, scopes={"surveys:write"})


def _enter() -> dict[str, Any]:
    return access(roles=STAFF, scopes={"surveys:write"})


def _viewer(request: AnyRequest) -> services.Viewer:
    return services.Viewer.of(principal_of(request))


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state["settings"]
    return settings


def _created(request: AnyRequest, body: Any, route: str, **params: Any) -> Response[Any]:
    location = request.app.route_reverse(route, **params)
    return Response(body, status_code=HTTP_201_CREATED, headers={"Location": location})


_receipt = responses.receipt_of


class _ImportPost(post):
    """`post` whose body limit is the app's `import_max_body_bytes` (a CSV of thousands of
    paper questionnaires is larger than other bodies)."""

    def on_registration(self, app: Litestar) -> None:
        settings: Settings | None = app.state.get("settings")
        if settings is not None:
            self.request_max_body_size = settings.import_max_body_bytes
        super().on_registration(app)


class ProcessSurveyController(Controller):
    path = "/processes/{process_id:uuid}/surveys"
    tags = SURVEYS

    @get(
        "/",
        operation_id="ListSurveys",
        summary="List the surveys of a planning process",
        description="Surveys of a process in creation order, cursor-paginated. The public sees "
        "published and closed surveys; staff and tokens with `surveys:read` or "
        "`surveys:write` also see drafts.",
        **access(public=True),
    )
    async def list_surveys(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[s.SurveySummary]:
        return await services.list_surveys(
            db_session, process_id, _viewer(request), limit=limit, cursor=cursor
        )

    @post(
        "/",
        operation_id="CreateSurvey",
        summary="Create a survey",
        description="Creates a draft survey of the process from one definition document "
        "(pages, questions, conditions, texts). The whole document is validated: every error "
        "is named by its path (e.g. `definition.pages[1].questions[0].show_if.all[0]"
        ".question`). Conditions may refer only to earlier questions and their options; need "
        "categories, area levels and population age bands must exist. A survey has exactly "
        "one `social_area` question (required, always shown). Answers 201 with `Location`.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        responses=problems(409),
        **_write(),
    )
    @idempotent
    async def create_survey(
        self, request: AnyRequest, db_session: AsyncSession, process_id: UUID, data: s.SurveyCreate
    ) -> Response[s.SurveyOut]:
        survey = await services.create_survey(db_session, process_id, data)
        return _created(request, services.survey_out(survey), "surveys:get", survey_id=survey.id)

    @post(
        "/import",
        operation_id="ImportSurveyDefinition",
        summary="Import a survey definition",
        description="Creates a draft survey of the process from a document exported with "
        "ExportSurveyDefinition (possibly from another process or installation), validated "
        "like CreateSurvey. Answers 201 with `Location`.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        responses=problems(409),
        **_write(),
    )
    @idempotent
    async def import_survey(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        data: s.SurveyDocument,
    ) -> Response[s.SurveyOut]:
        survey = await services.import_document(db_session, process_id, data)
        return _created(request, services.survey_out(survey), "surveys:get", survey_id=survey.id)


class SurveyController(Controller):
    path = "/surveys/{survey_id:uuid}"
    tags = SURVEYS

    @get(
        "/",
        name="surveys:get",
        operation_id="GetSurvey",
        summary="Get a survey",
        description="A survey with its full definition: every text in the negotiated language "
        "(`texts=negotiated`, the default; `Content-Language` says which) or with all "
        "languages (`texts=all`). Published and closed surveys are public; drafts are visible "
        "to staff and tokens with `surveys:read` or `surveys:write` (404 otherwise).",
        **access(public=True),
    )
    async def get_survey(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        survey_id: UUID,
        texts: Texts = "negotiated",
    ) -> s.LocalizedSurveyOut | s.SurveyOut:
        survey = await services.get_survey(db_session, survey_id, _viewer(request))
        if texts == "all":
            return services.survey_out(survey)
        return services.localized_out(survey)

    @patch(
        "/",
        operation_id="UpdateSurvey",
        summary="Change a survey",
        description="Changes the fields sent; `definition` replaces the whole document and "
        "bumps `definition_version`. Drafts change freely. On a published survey only changes "
        "that keep the stored answers valid are accepted — texts, order, new options, new "
        "optional questions, thresholds; removing or renaming a question or option, changing "
        "a type, tightening bounds, making a question required, changing conditions, need "
        "tags or age-band mappings, or the access mode is refused with 409 "
        "`breaking-change` whose `errors` name each change. Closed surveys are read-only "
        "(409).",
        responses=problems(409),
        **_write(),
    )
    async def update_survey(
        self, db_session: AsyncSession, survey_id: UUID, data: s.SurveyUpdate
    ) -> s.SurveyOut:
        return services.survey_out(await services.update_survey(db_session, survey_id, data))

    @post(
        "/publish",
        operation_id="PublishSurvey",
        summary="Publish a survey",
        description="draft → published: residents can answer. The process must be active and "
        "its active phase must open surveys (by default needs assessment and evaluation), "
        "else 409 `phase-closed`; 409 unless a draft.",
        status_code=HTTP_200_OK,
        responses=problems(409),
        **_write(),
    )
    async def publish_survey(self, db_session: AsyncSession, survey_id: UUID) -> s.SurveyOut:
        return services.survey_out(await services.publish_survey(db_session, survey_id))

    @post(
        "/close",
        operation_id="CloseSurvey",
        summary="Close a survey",
        description="published → closed: no more responses from residents (staff may still "
        "enter paper questionnaires); results stay available. 409 unless published.",
        status_code=HTTP_200_OK,
        responses=problems(409),
        **_write(),
    )
    async def close_survey(self, db_session: AsyncSession, survey_id: UUID) -> s.SurveyOut:
        return services.survey_out(await services.close_survey(db_session, survey_id))

    @put(
        "/results-publication",
        operation_id="SetSurveyResultsPublication",
        summary="Publish or withdraw a survey's aggregated needs as open data",
        description="`public: true` lists the survey's aggregated needs in the open-data "
        "catalogue (GetOpenDataCatalog) and lets anyone download them "
        "(ExportOpenSurveyNeeds) once the survey is closed — disclosure-controlled exactly as "
        "every other output. `public: false` withdraws them. Allowed in any status.",
        **_write(),
    )
    async def set_results_publication(
        self, db_session: AsyncSession, survey_id: UUID, data: s.ResultsPublication
    ) -> s.SurveyOut:
        return services.survey_out(
            await services.set_results_public(db_session, survey_id, data.public)
        )

    @get(
        "/export",
        operation_id="ExportSurveyDefinition",
        summary="Export a survey definition",
        description="The survey's settings and definition as one JSON document in all "
        "languages, without ids or responses — the input of ImportSurveyDefinition.",
        **access(roles=PLANNERS, scopes={"surveys:read", "surveys:write"}),
    )
    async def export_survey(
        self, db_session: AsyncSession, survey_id: UUID
    ) -> Response[s.SurveyDocument]:
        survey = await services.get_survey(db_session, survey_id)
        return Response(
            services.export_document(survey),
            headers={"Content-Disposition": f'attachment; filename="survey-{survey_id}.json"'},
        )

    @post(
        "/invitation-codes",
        operation_id="GenerateInvitationCodes",
        summary="Generate invitation codes",
        description="Creates `count` (at most 10 000) random one-time codes for an "
        "invitation-only survey and returns them once, as CSV (`code,url`) for a mail merge. "
        "Quartier keeps only keyed hashes (HMAC with the server secret): lost codes cannot be "
        "shown again. Each code answers once; a response never records which code it used. "
        "409 for open or closed surveys.",
        status_code=HTTP_200_OK,
        media_type=CSV_MEDIA_TYPE,
        responses=problems(409),
        **_write(),
    )
    async def generate_codes(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        survey_id: UUID,
        data: s.InvitationCodesRequest,
    ) -> Response[str]:
        settings = _settings(request)
        codes = await services.generate_invitation_codes(
            db_session, settings, survey_id, data.count
        )
        return Response(
            services.invitation_codes_csv(survey_id, codes, settings.base_url),
            media_type=CSV_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="invitation-codes-{survey_id}.csv"',
                "Cache-Control": "no-store",
            },
        )

    @post(
        "/responses",
        operation_id="SubmitSurveyResponse",
        summary="Answer a survey",
        description="Stores one resident's answers (channel `web`) and answers 201 with a "
        "receipt code (`Location`: the receipt). Needs a published survey in a process whose "
        "active phase opens surveys (409 `survey-not-open` / `phase-closed`). Invalid answers "
        "are a 422 `invalid-answers` whose `errors` name each question "
        "(`answers.<question_key>`) in the respondent's language (`lang`, "
        "`Accept-Language`); nothing is stored. Answers to questions hidden by their "
        "conditions are ignored and not stored.\n\n"
        "Anonymous: the response stores no IP address, user agent, account or code. "
        "Invitation-only surveys need `invitation_code`; each code answers once (409 "
        "`invitation-code-used`). Open surveys: send `Respondent-Token` to be protected "
        "against answering twice by accident; Quartier stores only a keyed per-survey hash of "
        "it, and a second response with the same token is 409 `already-answered`. This does "
        "not stop someone from answering again from another browser or a private window, it "
        "does not follow anyone across surveys, and the hash cannot be turned back into the "
        "token.\n\nSend an `Idempotency-Key` to retry safely: the same key and body return "
        "the original receipt and store nothing new.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        responses=problems(409, 422),
        **access(public=True),
    )
    async def submit(
        self,
        request: AnyRequest,
        survey_id: UUID,
        data: s.ResponseSubmission,
        idempotency_key: IdempotencyKeyHeader = None,
        respondent_token: RespondentToken = None,
    ) -> Response[s.ResponseReceipt]:
        # No session unless the submission needs one (see responses.submit_web_response).
        database = request.app.state["db_config"]
        result = await responses.submit_web_response(
            database.get_engine(),
            lambda: database.provide_session(request.app.state, request.scope),
            _settings(request),
            survey_id,
            data,
            idempotency_key=idempotency_key,
            respondent_token=respondent_token,
            receipt_location=lambda code: request.app.route_reverse(
                "surveys:receipt", receipt_code=code
            ),
        )
        response: Response[s.ResponseReceipt] = as_response(result)
        return response

    @post(
        "/paper-responses",
        operation_id="EnterPaperResponse",
        summary="Enter a paper or telephone response",
        description="Staff enter one response from a paper questionnaire (`channel: paper`) "
        "or a telephone interview (`phone`), validated like SubmitSurveyResponse. Allowed "
        "while the survey is published and after it is closed (questionnaires arrive late), "
        "not for drafts (409). Answers 201 with the receipt; invalid answers are 422.\n\n"
        "Send an `Idempotency-Key` so that a double click or a retry stores the questionnaire "
        "once: the same key and body return the original receipt and store nothing new.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        responses=problems(409, 422),
        **_enter(),
    )
    @idempotent
    async def enter_paper(
        self, request: AnyRequest, db_session: AsyncSession, survey_id: UUID, data: s.PaperResponse
    ) -> Response[s.ResponseReceipt]:
        survey = await services.get_survey(db_session, survey_id)
        stored = await services.submit_response(
            db_session,
            _settings(request),
            survey,
            data,
            channel=Channel(data.channel),
            pseudonym_source=None,
            invitation_code=None,
        )
        code = responses.format_code(stored.receipt_code)
        location = request.app.route_reverse("surveys:receipt", receipt_code=code)
        return Response(
            _receipt(stored), status_code=HTTP_201_CREATED, headers={"Location": location}
        )

    @_ImportPost(
        "/responses/import",
        operation_id="ImportSurveyResponses",
        summary="Import responses from CSV",
        description="Imports responses (channel `import`) from CSV text in `csv`: UTF-8, "
        "comma-separated, a header row of question keys (any order, missing columns are "
        "unanswered), one row per response; multiple-choice and ranking values separated by "
        "`|`, ratings and numbers as digits (decimal comma or point), the social area by its "
        "code, “other, please specify” texts in a column `<key>.other`, empty cells "
        "unanswered. At most 10 000 rows. All or nothing: any error is a 422 whose `errors` "
        "name `csv.lines[<line>].<column>` (the header is line 1) and nothing is stored. "
        "Published or closed surveys only (409). Send an `Idempotency-Key` so that a retried "
        "upload imports once: the same key and body return the original result and store "
        "nothing new.",
        status_code=HTTP_200_OK,
        responses=problems(409, 422),
        **_enter(),
    )
    @idempotent
    async def import_responses(
        self, db_session: AsyncSession, survey_id: UUID, data: s.ResponseImport
    ) -> s.ImportResult:
        survey = await services.get_survey(db_session, survey_id)
        return await services.import_responses(db_session, survey, data.csv)

    @get(
        "/results",
        operation_id="GetSurveyResults",
        summary="Per-question results",
        description="Counts and shares per option of every choice, rating, ranking and "
        "age-band question, n, mean and median of number and rating questions, and only the "
        "number of answers of text questions (their text is never shown). With `level`, one "
        "group per social area at that level; otherwise one group of all responses. "
        "Disclosure control: counts from 1 to k−1 are null with `suppressed: true`, groups "
        "with fewer than `min_respondents` responses are withheld. Labels in the negotiated "
        "language.",
        **access(roles=PLANNERS, scopes={"surveys:read"}),
    )
    async def results(
        self,
        db_session: AsyncSession,
        survey_id: UUID,
        level: LevelQuery = None,
        at: AtQuery = None,
    ) -> s.SurveyResults:
        return await services.results_by_question(db_session, survey_id, level=level, at=at)


class ReceiptController(Controller):
    path = "/survey-receipts"
    tags = SURVEYS

    @get(
        "/{receipt_code:str}",
        name="surveys:receipt",
        operation_id="GetResponseReceipt",
        summary="Check a receipt code",
        description="Confirms that a response with this receipt code arrived, and when — "
        "nothing else (not the survey, not the answers). Case, hyphens and the letters I, L "
        "and O for 1 and 0 do not matter. 404 if there is no such response.",
        **access(public=True),
    )
    async def get_receipt(self, db_session: AsyncSession, receipt_code: str) -> s.ReceiptCheck:
        submitted_at = await services.get_receipt(db_session, receipt_code[:32])
        if submitted_at is None:
            raise NotFound("There is no response with this receipt code.")
        canonical = codes.normalise_code(receipt_code)
        return s.ReceiptCheck(receipt_code=codes.format_code(canonical), submitted_at=submitted_at)

    @delete(
        "/{receipt_code:str}",
        operation_id="WithdrawSurveyResponse",
        summary="Withdraw a response",
        description="Deletes the response with this receipt code, with everything derived "
        "from it, while its survey is open for responses (409 once it is closed or the "
        "process's survey phase is over). The receipt code is the only key: keep it private. "
        "404 if there is no such response.",
        status_code=HTTP_204_NO_CONTENT,
        responses=problems(409),
        **access(public=True),
    )
    async def withdraw(self, db_session: AsyncSession, receipt_code: str) -> None:
        await responses.withdraw(db_session, receipt_code[:32])


# Need categories are shared by every module: administrators change them (the staff page
# /workspace/need-categories calls the same services), and tokens that write surveys.
CATEGORY_WRITERS = access(roles=ADMINS, scopes={"surveys:write"})


class NeedCategoryController(Controller):
    path = "/need-categories"
    tags = NEEDS

    @get(
        "/",
        operation_id="ListNeedCategories",
        summary="List need categories",
        description="The controlled list of need categories (Bedarfskategorien) that survey "
        "options and ideas are tagged with, in display order, with `name` in the negotiated "
        "language.",
        **access(public=True),
    )
    async def list_categories(
        self, db_session: AsyncSession, include_inactive: IncludeInactive = False
    ) -> s.NeedCategoryList:
        return await services.list_need_categories(db_session, include_inactive=include_inactive)

    @post(
        "/",
        operation_id="CreateNeedCategory",
        summary="Create a need category",
        description="Adds a need category; its `key` is permanent. 409 if the key exists. "
        "Administrators, and tokens that write surveys. Answers 201 with `Location`.\n\n"
        "Send an `Idempotency-Key` to retry safely: the same key and body return the original "
        "category and create nothing new.",
        status_code=HTTP_201_CREATED,
        response_headers=LOCATION,
        responses=problems(409, 422),
        **CATEGORY_WRITERS,
    )
    @idempotent
    async def create_category(
        self, request: AnyRequest, db_session: AsyncSession, data: s.NeedCategoryCreate
    ) -> Response[s.NeedCategoryOut]:
        category = await services.create_need_category(db_session, data)
        location = request.app.route_reverse("need-categories:item", category_id=category.id)
        return Response(
            services.need_category_out(category),
            status_code=HTTP_201_CREATED,
            headers={"Location": location},
        )

    @patch(
        "/{category_id:uuid}",
        name="need-categories:item",
        operation_id="UpdateNeedCategory",
        summary="Change or deactivate a need category",
        description="Changes label, description or position; `is_active: false` deactivates "
        "the category (no longer offered for tagging; stored responses keep it), "
        "`is_active: true` reactivates it. Administrators, and tokens that write surveys.",
        **CATEGORY_WRITERS,
    )
    async def update_category(
        self, db_session: AsyncSession, category_id: UUID, data: s.NeedCategoryUpdate
    ) -> s.NeedCategoryOut:
        category = await services.update_need_category(db_session, category_id, data)
        return services.need_category_out(category)


API_ROUTES: list[ControllerRouterHandler] = [
    ProcessSurveyController,
    SurveyController,
    ReceiptController,
    NeedCategoryController,
]
