"""HTML pages of the social report: the printable report page (residents once released, staff
before; in the reader's language), and the planners' editor (editorial sections in German and
every enabled language side by side, level, release). They call the same services as the API;
the report page is the template the PDF is made from."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import i18n
from quartier.core import translations as shared_translations
from quartier.core.errors import Conflict, InvalidInput
from quartier.core.forms import errors_of, parse_form
from quartier.core.i18n import gettext as _
from quartier.core.security import PLANNERS, access, principal_of
from quartier.processes import services as processes
from quartier.processes.phases import N_, PHASE_INFO
from quartier.reports import document, services
from quartier.reports import schemas as s

AnyRequest = Request[Any, Any, Any]


@get(
    "/processes/{process_id:uuid}/report",
    name="reports:page",
    include_in_schema=False,
    **access(public=True),
)
async def report_page(request: AnyRequest, db_session: AsyncSession, process_id: UUID) -> Template:
    """The printable report (404 for residents before release)."""
    principal = principal_of(request)
    report = await services.get_report(db_session, process_id, principal)
    editable = (
        principal is not None
        and principal.kind == "staff"
        and principal.role in PLANNERS
        and report.status == "draft"
    )
    return Template(
        template_name=document.TEMPLATE,
        context=await document.context(db_session, report, editable=editable),
    )


async def _editor(
    db_session: AsyncSession,
    process_id: UUID,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Template:
    process = await processes.get_process(db_session, process_id, processes.STAFF_VIEWER)
    row = await services.report_row(db_session, process_id)
    levels = await services.levels_in_scope(db_session, process_id)
    sections = services.editorial_sections(row)
    current: dict[str, Any] = {key: getattr(sections, key) for key in s.SECTION_KEYS}
    current["level"] = (row.level if row else None) or ""
    current.update(shared_translations.form_values(services.section_translations(row)))
    return Template(
        template_name="reports/editor.html",
        context={
            "process": process,
            "row": row,
            "values": {**current, **(values or {})},
            "errors": errors or {},
            "saved": saved,
            "levels": [("", _("The finest level of the process's areas"))]
            + [(level.key, level.name) for level in levels],
            "release_phase": PHASE_INFO[services.RELEASE_PHASE],
            "active_phase": PHASE_INFO[process.active_phase],
            "can_release": process.active_phase == services.RELEASE_PHASE
            and process.status == "active",
            "section_labels": SECTION_LABELS,
            "languages": shared_translations.form_languages(),
            "german": i18n.language_names()["de"],
        },
        status_code=status_code,
    )


# English msgids of the editorial sections' labels and hints.
SECTION_LABELS: dict[str, tuple[str, str]] = {
    "introduction": (N_("Introduction"), N_("Foreword and summary of the report.")),
    "needs": (N_("Needs"), N_("What the needs assessment showed, beside the figures.")),
    "measures": (N_("Goals and measures"), N_("Why these goals and measures were chosen.")),
    "evaluation": (
        N_("Delivery and evaluation"),
        N_("What the measures achieved and what it cost."),
    ),
    "outlook": (N_("Outlook"), N_("Conclusions and recommendations for the next cycle.")),
}


@get(
    "/workspace/processes/{process_id:uuid}/report",
    name="reports:editor",
    include_in_schema=False,
    **access(roles=PLANNERS),
)
async def editor_page(
    db_session: AsyncSession,
    process_id: UUID,
    saved: Annotated[bool, QueryParameter()] = False,
) -> Template:
    return await _editor(db_session, process_id, saved=saved)


class _SectionsForm(s.EditorialSections, kw_only=True):
    """The editor's form: the sections and the level ("" for the default)."""

    level: s.LevelKey | None = None


@post(
    "/workspace/processes/{process_id:uuid}/report",
    name="reports:save",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def save_sections(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Redirect | Template:
    """The same service as UpdateSocialReportSections (the sections in every enabled
    language: a language whose sections are all empty is removed)."""
    sent = await request.form()
    parsed = parse_form(sent, _SectionsForm, keep_whitespace=s.SECTION_KEYS)
    change, translation_errors, translation_values = shared_translations.read_form(
        sent, s.SectionsText
    )
    values = {**parsed.values, **translation_values}
    if not parsed.ok or parsed.data is None or translation_errors:
        return await _editor(
            db_session,
            process_id,
            values=values,
            errors={**parsed.errors, **translation_errors},
            status_code=400,
        )
    form = parsed.data
    settings = s.ReportSettings(
        sections=s.EditorialSections(**{key: getattr(form, key) for key in s.SECTION_KEYS}),
        level=form.level,
        translations=msgspec.convert(shared_translations.given(change), s.SectionsTranslations),
    )
    try:
        await services.update_sections(
            db_session, process_id, settings, processes.Actor.of(principal_of(request))
        )
    except InvalidInput as problem:
        return await _editor(
            db_session,
            process_id,
            values=values,
            errors=errors_of(problem, {"level": _("Choose a level from the list.")}),
            status_code=400,
        )
    except Conflict as problem:
        return await _editor(
            db_session,
            process_id,
            values=values,
            errors={"form": problem.detail},
            status_code=409,
        )
    return Redirect(f"/workspace/processes/{process_id}/report?saved=true", status_code=303)


@post(
    "/workspace/processes/{process_id:uuid}/report/release",
    name="reports:release",
    include_in_schema=False,
    status_code=303,
    **access(roles=PLANNERS),
)
async def release_report(
    request: AnyRequest, db_session: AsyncSession, process_id: UUID
) -> Redirect | Template:
    """The same service as ReleaseSocialReport; the published report is shown afterwards."""
    form = await request.form()
    if str(form.get("confirm") or "") != "yes":
        return await _editor(
            db_session,
            process_id,
            errors={"confirm": _("Confirm that the report may be published.")},
            status_code=400,
        )
    try:
        await services.release(db_session, process_id, processes.Actor.of(principal_of(request)))
    except Conflict as problem:
        return await _editor(
            db_session, process_id, errors={"form": problem.detail}, status_code=409
        )
    return Redirect(f"/processes/{process_id}/report", status_code=303)


PAGES: list[ControllerRouterHandler] = [report_page, editor_page, save_sections, release_report]
