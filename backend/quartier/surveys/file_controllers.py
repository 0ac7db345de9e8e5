"""JSON API of survey files (under /api/v1): definitions as XLSForm workbooks in both
directions, and invitation letters as a printable PDF. Handlers are thin: they call
`surveys.xlsform` and `surveys.letters`."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Litestar, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler
from msgspec import Meta, Struct
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.openapi import problems
from quartier.core.security import PLANNERS, access
from quartier.settings import Settings
from quartier.surveys import letters, services, xlsform
from quartier.surveys import schemas as s

SURVEYS = ["Surveys"]
AnyRequest = Request[Any, Any, Any]


class XlsFormUpload(Struct, kw_only=True, forbid_unknown_fields=True):
    """An XLSForm workbook (.xlsx), base64-encoded."""

    xlsform: Annotated[
        bytes,
        Meta(
            min_length=1,
            max_length=xlsform.MAX_XLSFORM_BYTES,
            description="The .xlsx file, base64-encoded (at most 5 MB decoded).",
        ),
    ]


class LettersRequest(Struct, kw_only=True, forbid_unknown_fields=True):
    count: Annotated[
        int,
        Meta(ge=1, le=letters.MAX_LETTERS, description="Letters (and new codes) to print."),
    ]


class _UploadPost(post):
    """`post` whose body limit is the app's `import_max_body_bytes`."""

    def on_registration(self, app: Litestar) -> None:
        settings: Settings | None = app.state.get("settings")
        if settings is not None:
            self.request_max_body_size = settings.import_max_body_bytes
        super().on_registration(app)


def _attachment(content: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


class ProcessSurveyFileController(Controller):
    path = "/processes/{process_id:uuid}/surveys"
    tags = SURVEYS

    @_UploadPost(
        "/import/xlsform",
        operation_id="ImportSurveyXlsForm",
        summary="Import a survey from an XLSForm workbook",
        description="Creates a draft survey of the process from an XLSForm (the ODK / Kobo "
        "spreadsheet format), read with pyxform. `select_one`, `select_multiple`, `rank`, "
        "`range`, `integer`, `decimal`, `text` (multiline: long text), "
        "`select_one_from_file social_areas.csv` (with `area_level`) and a `select_one` whose "
        "choices have `population_bands` (the age band) map to Quartier's question types; "
        "top-level groups are pages; `relevant` expressions (`${q} = 'v'`, `!=`, "
        "`selected()`, `not()`, `and`, `or`) are conditions; `constraint` gives bounds; "
        "`label::German (de)`, `label::English (en)`, `label::Easy German (de-x-simple)`, "
        "`label::Turkish (tr)`, `label::Arabic (ar)` the languages; `need_categories` columns "
        "the needs. The settings sheet carries `form_title`, `purpose_de`, `organiser_de`, "
        "`privacy_note_de` (and `_en`, `_de-x-simple`, `_tr`, `_ar`), `estimated_minutes`. "
        "Anything that cannot be mapped is a 422 whose "
        "`errors` name the sheet, row and column (`xlsform.survey[7].relevant`); the mapped "
        "definition is then validated like CreateSurvey. Answers 201 with `Location`.",
        status_code=HTTP_201_CREATED,
        response_headers=[
            ResponseHeader(
                name="Location",
                description="Path of the created resource",
                documentation_only=True,
            )
        ],
        responses=problems(409, 422),
        **access(roles=PLANNERS, scopes={"surveys:write"}),
    )
    async def import_xlsform(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        process_id: UUID,
        data: XlsFormUpload,
    ) -> Response[s.SurveyOut]:
        survey = await xlsform.import_xlsform(db_session, process_id, data.xlsform)
        location = request.app.route_reverse("surveys:get", survey_id=survey.id)
        return Response(
            services.survey_out(survey),
            status_code=HTTP_201_CREATED,
            headers={"Location": location},
        )


class SurveyFileController(Controller):
    path = "/surveys/{survey_id:uuid}"
    tags = SURVEYS

    @get(
        "/xlsform",
        operation_id="ExportSurveyXlsForm",
        summary="Export a survey as an XLSForm workbook",
        description="The survey's definition and settings as an XLSForm (.xlsx) in all its "
        "languages, readable by ImportSurveyXlsForm, pyxform, ODK and Kobo (see "
        "ImportSurveyXlsForm for the mapping).",
        media_type=xlsform.XLSX_MEDIA_TYPE,
        responses={
            200: ResponseSpec(
                data_container=bytes,
                media_type=xlsform.XLSX_MEDIA_TYPE,
                description="The XLSForm workbook, as an attachment.",
                generate_examples=False,
            )
        },
        **access(roles=PLANNERS, scopes={"surveys:read", "surveys:write"}),
    )
    async def export_xlsform(self, db_session: AsyncSession, survey_id: UUID) -> Response[bytes]:
        content = await xlsform.export_xlsform(db_session, survey_id)
        return _attachment(content, xlsform.XLSX_MEDIA_TYPE, f"survey-{survey_id}.xlsx")

    @post(
        "/invitation-letters",
        operation_id="PrintInvitationLetters",
        summary="Print invitation letters",
        description="Creates `count` (at most 2 000) new one-time invitation codes, like "
        "GenerateInvitationCodes, and returns them as a PDF of A4 letters, one per page, each "
        "with the survey's address, a QR code of it and the code. The codes are shown only "
        "in this PDF (Quartier keeps keyed hashes). 409 for open or closed surveys.",
        status_code=HTTP_200_OK,
        media_type=letters.PDF_MEDIA_TYPE,
        responses={
            200: ResponseSpec(
                data_container=bytes,
                media_type=letters.PDF_MEDIA_TYPE,
                description="The letters, one A4 page each, as an attachment.",
                generate_examples=False,
            ),
            **problems(409),
        },
        **access(roles=PLANNERS, scopes={"surveys:write"}),
    )
    async def print_letters(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        survey_id: UUID,
        data: LettersRequest,
    ) -> Response[bytes]:
        settings: Settings = request.app.state["settings"]
        content = await letters.print_invitation_letters(
            db_session, settings, survey_id, data.count
        )
        return _attachment(content, letters.PDF_MEDIA_TYPE, f"invitation-letters-{survey_id}.pdf")


FILE_ROUTES: list[ControllerRouterHandler] = [ProcessSurveyFileController, SurveyFileController]
