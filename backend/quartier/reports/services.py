"""The social report of one cycle: assembled from what is recorded, edited, released.

Assembly reads only through the services that own each part, so no rule lives twice:

* mandate, cycle and links between cycles — `processes.services.get_process`;
* expressed needs — `surveys.aggregation.process_aggregated_needs` (pooled over the process's
  surveys) and `ideas.aggregates.idea_aggregates`, both disclosure-controlled by the cell key
  method (`stats.cellkey`); this module computes no figure from residents of its own;
* measured need — `indicators.services.level_values` (official statistics, shown as published)
  and the gaps planners marked (`indicators.models.NeedGap`);
* goals, measures and their status — `measures.goals.list_goals`, `measures.services.list_measures`
  (drafts left out), and delivery and evaluation as the public sees it
  (`measures.delivery.public_evaluation`: no reach by target group, no survey results, no staff
  names), so that the report can be published as it is.

Who sees what: before release only staff (any role) and tokens with `reports:read` or
`reports:write`; residents get 404. Releasing (planners, `reports:write`, in the phase
`social_reporting` of a published process) records who and when and stores the report as
released — assembled in German, the language of the record, with the translations of its
staff-written texts as they were (editorial sections, the process's title and topic, its
mandate's texts, measures' titles and summaries, goals' statements) — and the published report
is that stored document from then on, in every language; editorial sections and their
translations can no longer change (409 `report-released`), and later translations of the
process or its measures do not reach it. (Reports released before the process's, its mandate's
and measures' translations were kept have none: they read in German, marked as such.)

The editorial sections are German in `sections`; `translations` gives them in further languages
(`core.translations`: a save keeps only the languages sent, each language must be enabled).
Residents read each section, the title and topic, the mandate's texts and each measure's title
in their language where it has one, else in German, marked (`reports.document`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier import webhooks
from quartier.areas.models import AreaLevel, SocialArea
from quartier.core import i18n
from quartier.core import translations as shared_translations
from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound, Problem
from quartier.core.security import Principal
from quartier.ideas import aggregates as idea_aggregates
from quartier.indicators import services as indicators
from quartier.indicators.models import NeedGap
from quartier.jobs import queue as jobs
from quartier.measures import common as measures_common
from quartier.measures import delivery, goals
from quartier.measures import services as measures
from quartier.measures.models import MeasureStatus
from quartier.participation import places
from quartier.processes import schemas as ps
from quartier.processes import services as processes
from quartier.processes.models import PlanningProcess, ProcessStatus
from quartier.processes.phases import PhaseKey
from quartier.reports import schemas as s
from quartier.reports.models import SocialReport
from quartier.surveys import aggregation
from quartier.surveys.models import NeedCategory

READ_SCOPES = frozenset({"reports:read", "reports:write"})
RELEASE_PHASE = PhaseKey.SOCIAL_REPORTING
RECORD_LANGUAGE = "de"
# The job that lays out a released report's PDF in one language (reports.published).
PDF_RENDER_KIND = "reports.render_pdf"
MAX_INDICATORS = 20
PAGE = 200


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def may_read_drafts(principal: Principal | None) -> bool:
    """Staff (any role) and tokens that read reports see a report before its release."""
    if principal is None:
        return False
    if principal.kind == "staff":
        return principal.role is not None
    return bool(principal.scopes & READ_SCOPES)


# -- loading -------------------------------------------------------------------------------------


async def report_row(
    session: AsyncSession, process_id: UUID, *, lock: bool = False
) -> SocialReport | None:
    statement = sa.select(SocialReport).where(SocialReport.process_id == process_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(statement)


async def levels_in_scope(session: AsyncSession, process_id: UUID) -> list[AreaLevel]:
    """The levels that have areas in the process's scope, finest first."""
    in_scope = places.scoped_areas().with_only_columns(SocialArea.level_id)
    return list(
        (
            await session.scalars(
                sa.select(AreaLevel)
                .where(AreaLevel.id.in_(in_scope))
                .order_by(AreaLevel.depth.desc()),
                {"process_id": process_id},
            )
        ).all()
    )


async def _level(session: AsyncSession, process_id: UUID, chosen: str | None) -> AreaLevel | None:
    levels = await levels_in_scope(session, process_id)
    if chosen is not None:
        found = next((level for level in levels if level.key == chosen), None)
        if found is not None:
            return found
    return levels[0] if levels else None


# -- assembling ----------------------------------------------------------------------------------


async def _needs(session: AsyncSession, process_id: UUID, level: AreaLevel) -> s.ReportNeeds | None:
    try:
        found = await aggregation.process_aggregated_needs(session, process_id, level_key=level.key)
    except Problem as problem:
        return s.ReportNeeds(
            surveys=[],
            k_threshold=0,
            min_respondents=0,
            disclosure_method="",
            respondents=None,
            categories=[],
            totals=[],
            areas=[],
            withheld_areas=0,
            unavailable=problem.detail,
        )
    if not found.metadata.surveys:
        return None
    return s.ReportNeeds(
        surveys=found.metadata.surveys,
        k_threshold=found.metadata.k_threshold,
        min_respondents=found.metadata.min_respondents,
        disclosure_method=found.metadata.disclosure_method,
        respondents=found.totals.respondents,
        categories=found.categories,
        totals=found.totals.needs,
        areas=found.areas,
        withheld_areas=found.metadata.withheld_areas,
    )


async def _ideas(session: AsyncSession, process_id: UUID, level: AreaLevel) -> s.ReportIdeas | None:
    try:
        found = await idea_aggregates.idea_aggregates(session, process_id, level.key)
    except Problem:
        return None
    cells = [cell for cell in found.cells if cell.ideas]
    protected = {cell.area_code for cell in found.cells if cell.suppressed}
    # A protected area is listed once (its first cell), so the report says it is protected.
    listed: set[str] = set()
    for cell in found.cells:
        if cell.area_code in protected and cell.area_code not in listed:
            listed.add(cell.area_code)
            cells.append(cell)
    if not any(cell.ideas for cell in cells):
        return None
    cells.sort(key=lambda cell: (cell.area_code, cell.need_category))
    return s.ReportIdeas(
        disclosure_method=found.disclosure_method,
        min_respondents=found.min_respondents,
        cells=cells,
    )


async def gaps(session: AsyncSession, process_id: UUID) -> list[s.Gap]:
    """The gaps planners marked in the process (area and need category, with the note)."""
    rows = await session.execute(
        sa.select(SocialArea.code, SocialArea.name, NeedCategory.key, NeedCategory.label, NeedGap)
        .join(SocialArea, SocialArea.id == NeedGap.area_id)
        .join(NeedCategory, NeedCategory.id == NeedGap.need_category_id)
        .where(NeedGap.process_id == process_id)
        .order_by(NeedCategory.position, NeedCategory.key, SocialArea.code)
    )
    return [
        s.Gap(
            area_code=code,
            area_name=name,
            need_category=key,
            need_label=i18n.pick(label),
            note=gap.note,
        )
        for code, name, key, label, gap in rows
    ]


async def _indicators(
    session: AsyncSession, level: AreaLevel, area_ids: set[UUID]
) -> list[s.ReportIndicator]:
    found: list[s.ReportIndicator] = []
    for indicator in (await indicators.all_indicators(session))[:MAX_INDICATORS]:
        presented = await indicators.present(session, indicator)
        item = s.ReportIndicator(
            key=presented.key,
            name=presented.name,
            unit=presented.unit,
            direction=presented.direction,
            decimals=presented.decimals,
            source=presented.source,
            licence=presented.licence,
            need_categories=presented.need_categories,
            reference_date=None,
            values=[],
        )
        try:
            values = await indicators.level_values(session, indicator.key, level.key)
        except Problem as problem:
            item.unavailable = problem.detail
        else:
            item.reference_date = values.reference_date
            item.values = [value for value in values.items if value.area_id in area_ids]
        found.append(item)
    return found


async def _goals(session: AsyncSession, process_id: UUID) -> list[s.ReportGoal]:
    found: list[s.ReportGoal] = []
    cursor: str | None = None
    while True:
        page = await goals.list_goals(
            session, process_id, measures_common.STAFF_VIEWER, limit=PAGE, cursor=cursor
        )
        found += [
            s.ReportGoal(
                id=goal.id,
                parent_id=goal.parent_id,
                statement=goal.statement,
                need_categories=goal.need_categories,
                areas=goal.areas,
                target_groups=goal.target_groups,
                translations=goal.translations,
            )
            for goal in page.items
        ]
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


async def _measures(session: AsyncSession, process_id: UUID) -> list[s.ReportMeasure]:
    found: list[s.ReportMeasure] = []
    cursor: str | None = None
    while True:
        page = await measures.list_measures(
            session, process_id, measures_common.STAFF_VIEWER, limit=PAGE, cursor=cursor
        )
        for item in page.items:
            if item.status is MeasureStatus.DRAFT:
                continue  # drafts are not public, and the report is written to be published
            found.append(
                s.ReportMeasure(
                    id=item.id,
                    title=item.title,
                    summary=item.summary,
                    status=item.status,
                    evaluation=await delivery.public_evaluation(session, item.id),
                    translations=item.translations,
                )
            )
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def editorial_sections(row: SocialReport | None) -> s.EditorialSections:
    if row is None:
        return s.EditorialSections()
    return msgspec.convert(row.sections or {}, s.EditorialSections)


def title_translations(process: ps.Process) -> s.TitleTranslations:
    """The process's title and topic in its languages beside German (its description is not
    part of the report)."""
    return shared_translations.as_struct(
        msgspec.to_builtins(process.translations), s.TitleTranslations
    )


def section_translations(row: SocialReport | None) -> s.SectionsTranslations:
    if row is None:
        return s.SectionsTranslations()
    return shared_translations.as_struct(row.translations or {}, s.SectionsTranslations)


async def assemble(
    session: AsyncSession, process: ps.Process, row: SocialReport | None
) -> s.SocialReport:
    """The report of `process` as recorded right now (not yet released)."""
    level = await _level(session, process.id, row.level if row else None)
    needs = await _needs(session, process.id, level) if level is not None else None
    ideas = await _ideas(session, process.id, level) if level is not None else None
    area_ids: set[UUID] = set()
    if level is not None:
        area_ids = set(
            (
                await session.scalars(
                    places.area_candidates().with_only_columns(SocialArea.id),
                    {"process_id": process.id, "level": level.key},
                )
            ).all()
        )
    carried = await carried_forward(session, process.id, privileged=False)
    return s.SocialReport(
        process_id=process.id,
        title=process.title,
        topic=process.topic,
        cycle=process.cycle,
        status="draft",
        release=None,
        generated_at=utcnow(),
        level=(
            aggregation.LevelRef(key=level.key, depth=level.depth, name=level.name)
            if level
            else None
        ),
        mandate=process.mandate,
        sections=editorial_sections(row),
        needs=needs,
        ideas=ideas,
        gaps=await gaps(session, process.id),
        indicators=await _indicators(session, level, area_ids) if level is not None else [],
        goals=await _goals(session, process.id),
        measures=await _measures(session, process.id),
        previous_process_id=process.previous_process_id,
        next_process_id=process.next_process_id,
        starting_point=list(carried.gaps) if carried else [],
        translations=section_translations(row),
        title_translations=title_translations(process),
    )


def _released(row: SocialReport, process: ps.Process, *, privileged: bool) -> s.SocialReport:
    assert row.released_at is not None
    assert row.released_content is not None
    report = msgspec.convert(row.released_content, s.SocialReport)
    report.release = s.Release(
        released_at=row.released_at, released_by=row.released_by_name if privileged else None
    )
    report.next_process_id = process.next_process_id  # the next cycle may start after release
    return report


async def get_report(
    session: AsyncSession, process_id: UUID, principal: Principal | None
) -> s.SocialReport:
    """The released report for everyone who may see the process; before release the report as
    recorded now for staff and report tokens, 404 for everyone else."""
    privileged = may_read_drafts(principal)
    viewer = processes.STAFF_VIEWER if privileged else processes.PUBLIC
    process = await processes.get_process(session, process_id, viewer)
    row = await report_row(session, process_id)
    if row is not None and row.released_at is not None:
        return _released(row, process, privileged=privileged)
    if not privileged:
        raise NotFound("The social report of this planning process is not released yet.")
    return await assemble(session, process, row)


async def is_released(session: AsyncSession, process_id: UUID) -> bool:
    return bool(
        await session.scalar(
            sa.select(
                sa.exists().where(
                    SocialReport.process_id == process_id, SocialReport.released_at.is_not(None)
                )
            )
        )
    )


# -- editing and releasing -----------------------------------------------------------------------


async def _editable(
    session: AsyncSession, process_id: UUID
) -> tuple[ps.Process, SocialReport | None]:
    process = await processes.get_process(session, process_id, processes.STAFF_VIEWER)
    if process.status == ProcessStatus.ARCHIVED:
        raise Conflict("The planning process is archived; archived processes are read-only.")
    row = await report_row(session, process_id, lock=True)
    if row is not None and row.released_at is not None:
        raise Conflict(
            "The social report was released and is published as released; it cannot change.",
            slug="report-released",
            title="The report is released",
        )
    return process, row


async def update_sections(
    session: AsyncSession, process_id: UUID, data: s.ReportSettings, actor: processes.Actor
) -> s.SocialReport:
    """Store the editorial sections, their translations (only the languages sent are kept;
    422 naming `translations.<language>` for a language the deployment does not enable) and
    the level, before release only."""
    process, row = await _editable(session, process_id)
    translated = shared_translations.merged({}, data.translations, field_name="translations")
    if data.level is not None and data.level not in {
        level.key for level in await levels_in_scope(session, process_id)
    }:
        raise InvalidInput(
            f"The process's social areas have no area at the level {data.level!r}.",
            errors=[FieldError(field="level", source="body", message="no area at this level")],
        )
    if row is None:
        row = SocialReport(process_id=process_id)
        session.add(row)
    row.sections = msgspec.to_builtins(data.sections)
    row.translations = translated
    row.level = data.level
    row.edited_by_name = actor.name
    row.updated_at = utcnow()
    await session.flush()
    return await assemble(session, process, row)


async def release(
    session: AsyncSession, process_id: UUID, actor: processes.Actor
) -> s.SocialReport:
    """Release the report: in `social_reporting` of a published process, once."""
    process, row = await _editable(session, process_id)
    if process.status != ProcessStatus.ACTIVE:
        raise Conflict(
            "A social report is released for a published planning process; publish it first.",
            slug="process-not-published",
            title="The process is not published",
        )
    if process.active_phase != RELEASE_PHASE:
        raise Conflict(
            f"The social report is released in the phase '{RELEASE_PHASE.value}'; the active "
            f"phase is '{process.active_phase}'.",
            slug="wrong-phase",
            title="Not possible in the active phase",
        )
    if row is None:
        row = SocialReport(process_id=process_id, sections={})
        session.add(row)
    token = i18n.set_language(RECORD_LANGUAGE)
    try:
        report = await assemble(session, process, row)
    finally:
        i18n.reset_language(token)
    now = utcnow()
    report.status = "released"
    row.released_at = now
    row.released_by_kind = actor.kind.value
    row.released_by_id = actor.id
    row.released_by_name = actor.name
    row.released_content = msgspec.to_builtins(report)
    row.updated_at = now
    await session.flush()
    await webhooks.emit(
        session, "report.published", {"cycle": process.cycle}, process_id=process_id
    )
    # The PDF in every language residents can choose, laid out once by the worker
    # (`published.render_released`) and served as stored.
    for language in i18n.switch_languages():
        await jobs.enqueue(
            session,
            PDF_RENDER_KIND,
            {"process_id": str(process_id), "language": language},
            dedupe_key=f"report-pdf:{process_id}:{language}",
        )
    return _released(row, process, privileged=True)


# -- carrying forward into the next cycle ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CarriedForward:
    """What the previous cycle hands to a process: its report (if released, or for staff)
    and the gaps it marked, the starting point of the next needs assessment."""

    previous_process_id: UUID
    previous_cycle: int
    report_released: bool
    gaps: Sequence[s.Gap]


async def carried_forward(
    session: AsyncSession, process_id: UUID, *, privileged: bool
) -> CarriedForward | None:
    following = sa.select(PlanningProcess.previous_process_id).where(
        PlanningProcess.id == process_id
    )
    found = (
        await session.execute(
            sa.select(PlanningProcess.id, PlanningProcess.cycle).where(
                PlanningProcess.id == following.scalar_subquery()
            )
        )
    ).first()
    if found is None:
        return None
    released = await is_released(session, found.id)
    if not (released or privileged):
        return CarriedForward(found.id, found.cycle, False, ())
    return CarriedForward(found.id, found.cycle, released, await gaps(session, found.id))
