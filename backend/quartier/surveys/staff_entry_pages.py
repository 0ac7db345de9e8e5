"""Staff entry of responses in the browser: paper and telephone questionnaires typed into one
keyboard form, and CSV imports shown as a preview (first rows, errors per line) before
anything is stored.

    GET/POST /workspace/surveys/{id}/paper    every question on one page; Enter submits, the
                                              form comes back empty with the receipt
    GET/POST /workspace/surveys/{id}/import   paste or upload CSV → preview → import

The paper form parses answers like the resident pages and stores them through
EnterPaperResponse's service; the CSV preview runs ImportSurveyResponses' service in a
savepoint that is rolled back, so it shows exactly the errors the import would give.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import i18n
from quartier.core.errors import Problem
from quartier.core.i18n import gettext as _
from quartier.core.security import STAFF, access
from quartier.settings import Settings
from quartier.surveys import definition as d
from quartier.surveys import responses as r
from quartier.surveys import schemas as s
from quartier.surveys import services
from quartier.surveys.models import Channel, Survey
from quartier.surveys.pages import (
    FlowState,
    _apply_page,
    _area_choices,
    _errors_by_field,
    _question_view,
    _submission,
)

AnyRequest = Request[Any, Any, Any]
STAFF_ONLY = access(roles=STAFF)
BASE = "/workspace/surveys/{survey_id:uuid}"
PREVIEW_ROWS = 5
CSV_MAX_CHARS = 20_000_000


async def _paper_form(
    request: AnyRequest,
    session: AsyncSession,
    survey: Survey,
    state: FlowState,
    *,
    errors: dict[str, str] | None = None,
    receipt: str | None = None,
    channel: str = "paper",
) -> Template:
    compiled = d.compiled(survey)
    localized = compiled.in_language(i18n.current_language())
    choices = await _area_choices(session, survey)
    questions = [
        _question_view(question, state, errors or {}, choices)
        for page in localized.pages
        for question in page.questions
    ]
    return Template(
        template_name="workspace/surveys/paper.html",
        context={
            "survey": survey,
            "title": localized.title,
            "questions": questions,
            "errors": errors or {},
            "receipt": receipt,
            "channel": channel,
        },
        status_code=400 if errors else 200,
        headers={"Cache-Control": "no-store"},
    )


@get(BASE + "/paper", include_in_schema=False, **STAFF_ONLY)
async def paper_form(request: AnyRequest, db_session: AsyncSession, survey_id: UUID) -> Template:
    """Every question of the survey on one page, for typing in a paper questionnaire."""
    survey = await services.get_survey(db_session, survey_id)
    return await _paper_form(request, db_session, survey, FlowState())


@post(BASE + "/paper", include_in_schema=False, status_code=200, **STAFF_ONLY)
async def enter_paper(request: AnyRequest, db_session: AsyncSession, survey_id: UUID) -> Template:
    form = await request.form()
    survey = await services.get_survey(db_session, survey_id)
    definition = d.definition_of(survey)
    state = FlowState()
    _apply_page(state, d.questions(definition), form)
    channel = "phone" if form.get("channel") == "phone" else "paper"
    submission = _submission(definition, state)
    settings: Settings = request.app.state["settings"]
    try:
        async with db_session.begin_nested():
            stored = await services.submit_response(
                db_session,
                settings,
                survey,
                s.PaperResponse(
                    channel=channel,  # type: ignore[arg-type]
                    answers=submission.answers,
                    other=submission.other,
                ),
                channel=Channel(channel),
                pseudonym_source=None,
                invitation_code=None,
            )
    except Problem as problem:
        await db_session.refresh(survey)
        errors = _errors_by_field(definition, state, problem.errors or [])
        if not errors:
            errors = {"channel": problem.detail}
        return await _paper_form(request, db_session, survey, state, errors=errors, channel=channel)
    receipt = r.format_code(stored.receipt_code)
    return await _paper_form(
        request, db_session, survey, FlowState(), receipt=receipt, channel=channel
    )


# -- CSV import ----------------------------------------------------------------------------------


def _preview_rows(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = rows[0] if rows else []
    return header, [row for row in rows[1:] if any(cell.strip() for cell in row)][:PREVIEW_ROWS]


def _import_page(
    survey: Survey,
    *,
    csv_text: str = "",
    errors: dict[str, str] | None = None,
    row_errors: list[s.ImportRowError] | None = None,
    ready: int | None = None,
    imported: int | None = None,
) -> Template:
    header, rows = _preview_rows(csv_text) if csv_text else ([], [])
    return Template(
        template_name="workspace/surveys/import_responses.html",
        context={
            "survey": survey,
            "title": i18n.pick(survey.title),
            "csv_text": csv_text,
            "header": header,
            "rows": rows,
            "errors": errors or {},
            "row_errors": row_errors or [],
            "ready": ready,
            "imported": imported,
        },
        status_code=400 if errors or row_errors else 200,
        headers={"Cache-Control": "no-store"},
    )


@get(BASE + "/import", include_in_schema=False, **STAFF_ONLY)
async def import_form(db_session: AsyncSession, survey_id: UUID) -> Template:
    return _import_page(await services.get_survey(db_session, survey_id))


@post(BASE + "/import", include_in_schema=False, status_code=200, **STAFF_ONLY)
async def import_csv(request: AnyRequest, db_session: AsyncSession, survey_id: UUID) -> Template:
    """`action=preview`: check everything and show the first rows and every error, store
    nothing; `action=import`: store all rows or none."""
    form = await request.form()
    survey = await services.get_survey(db_session, survey_id)
    upload = form.get("file")
    text = str(form.get("csv") or "")[:CSV_MAX_CHARS]
    if isinstance(upload, UploadFile):
        raw = await upload.read()
        if raw:
            text = raw.decode("utf-8", "replace")[:CSV_MAX_CHARS]
    if not text.strip():
        return _import_page(survey, errors={"csv": _("Paste the CSV or choose a file.")})
    store = form.get("action") == "import"
    try:
        async with db_session.begin_nested() as savepoint:
            result = await services.import_responses(db_session, survey, text)
            if not store:
                await savepoint.rollback()
    except services.ImportFailed as failed:
        await db_session.refresh(survey)
        return _import_page(survey, csv_text=text, row_errors=failed.result.errors)
    except Problem as problem:
        await db_session.refresh(survey)
        return _import_page(survey, csv_text=text, errors={"csv": problem.detail})
    if store:
        return _import_page(survey, imported=result.imported)
    return _import_page(survey, csv_text=text, ready=result.imported)


PAGES: list[ControllerRouterHandler] = [paper_form, enter_paper, import_form, import_csv]
