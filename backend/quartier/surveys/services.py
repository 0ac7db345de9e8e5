"""Surveys: definitions and their lifecycle, need categories, invitation codes, staff entry
and import of responses, and per-question results. Services never commit (the request does).

The interface other packages build on (resident pages, exports):

* loading: :func:`get_survey`, :func:`get_published_survey`, :func:`definition_of`;
* display: :func:`visible_pages`, :func:`visible_questions`, :func:`localize`,
  :func:`area_choices`;
* answering: :func:`validate_answers`, :func:`submit_response`, :func:`get_receipt`,
  :func:`format_code`;
* results: :func:`results_by_question`.

Lifecycle: draft → published (answerable; needs the process's surveys module open) → closed,
as explicit operations. A published survey's definition changes only in ways that keep stored
answers valid (`definition.breaking_changes`); each change bumps `definition_version`.

Results are disclosure-controlled by the cell key method (quartier.stats.cellkey): every count
is perturbed, the same set of responses gets the same value everywhere, counts below k show as
0, an area whose perturbed n is below `min_respondents` is not shown, and text answers never
appear.
"""

from __future__ import annotations

import csv
import datetime
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import Float, Uuid, and_, bindparam, cast, func, literal, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from quartier import webhooks
from quartier.areas.models import AreaLevel, today
from quartier.areas.services import hierarchy_on
from quartier.core import i18n
from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound, Unprocessable
from quartier.core.pagination import Page, keyset_page
from quartier.core.security import Principal, Role
from quartier.processes import participation
from quartier.processes.models import PlanningProcess, ProcessStatus
from quartier.settings import Settings
from quartier.stats.cellkey import EMPTY, Cell, Release
from quartier.surveys import definition as d
from quartier.surveys import responses as r
from quartier.surveys import schemas as s
from quartier.surveys.aggregation import scope_areas
from quartier.surveys.definition import definition_of, localize, visible_pages, visible_questions
from quartier.surveys.models import (
    Channel,
    InvitationCode,
    NeedCategory,
    Survey,
    SurveyResponse,
    SurveyStatus,
    survey_answer_options,
)
from quartier.surveys.responses import (
    area_choices,
    format_code,
    get_receipt,
    submit_response,
    validate_answers,
)

__all__ = [
    "area_choices",
    "definition_of",
    "format_code",
    "get_receipt",
    "localize",
    "submit_response",
    "validate_answers",
    "visible_pages",
    "visible_questions",
]

READ_SCOPES = frozenset({"surveys:read", "surveys:write"})


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Drafts are for staff and tokens that read or write surveys."""

    privileged: bool = False

    @classmethod
    def of(cls, principal: Principal | None) -> Viewer:
        if principal is None:
            return PUBLIC
        if principal.kind == "staff":
            return cls(privileged=principal.role in set(Role))
        return cls(privileged=bool(principal.scopes & READ_SCOPES))


PUBLIC = Viewer()
STAFF_VIEWER = Viewer(privileged=True)


# -- loading -------------------------------------------------------------------------------------


_SURVEY = select(Survey).where(Survey.id == bindparam("survey_id", type_=Uuid))
_SURVEY_FOR_UPDATE = _SURVEY.with_for_update().execution_options(populate_existing=True)


async def _load(session: AsyncSession, survey_id: UUID, *, lock: bool = False) -> Survey:
    survey = await session.scalar(_SURVEY_FOR_UPDATE if lock else _SURVEY, {"survey_id": survey_id})
    if survey is None:
        raise NotFound(f"No survey {survey_id}.")
    return survey


async def get_survey(
    session: AsyncSession, survey_id: UUID, viewer: Viewer = STAFF_VIEWER
) -> Survey:
    """A survey by id (404 if there is none, or if it is a draft and `viewer` is the public)."""
    survey = await _load(session, survey_id)
    if survey.status == SurveyStatus.DRAFT and not viewer.privileged:
        raise NotFound(f"No survey {survey_id}.")
    return survey


async def get_published_survey(session: AsyncSession, survey_id: UUID) -> Survey:
    """A survey residents may see: published or closed (404 for drafts and unknown ids).
    Whether it takes responses right now is decided by `submit_response`."""
    return await get_survey(session, survey_id, PUBLIC)


def summary_fields(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.id,
        "process_id": survey.process_id,
        "title": i18n.pick(survey.title),
        "status": SurveyStatus(survey.status),
        "access_mode": survey.access_mode,
        "definition_version": survey.definition_version,
        "published_at": survey.published_at,
        "closed_at": survey.closed_at,
        "results_public": survey.results_public,
        "created_at": survey.created_at,
        "updated_at": survey.updated_at,
    }


def survey_out(survey: Survey) -> s.SurveyOut:
    """The survey with its definition in every language."""
    return s.SurveyOut(
        **summary_fields(survey),
        k_threshold=survey.k_threshold,
        min_respondents=survey.min_respondents,
        definition=definition_of(survey),
    )


def localized_out(survey: Survey, language: str | None = None) -> s.LocalizedSurveyOut:
    """The survey with its definition in one language (default: the negotiated one)."""
    language = language or i18n.current_language()
    return s.LocalizedSurveyOut(
        **summary_fields(survey),
        k_threshold=survey.k_threshold,
        min_respondents=survey.min_respondents,
        language=language,
        definition=d.compiled(survey).in_language(language),
    )


async def list_surveys(
    session: AsyncSession, process_id: UUID, viewer: Viewer, *, limit: int, cursor: str | None
) -> Page[s.SurveySummary]:
    """Surveys of a process in creation order; the public sees published and closed ones."""
    process = await session.scalar(
        select(PlanningProcess.status).where(PlanningProcess.id == process_id)
    )
    if process is None or (process == ProcessStatus.DRAFT and not viewer.privileged):
        raise NotFound(f"No planning process {process_id}.")
    statement = select(Survey).where(Survey.process_id == process_id)
    if not viewer.privileged:
        statement = statement.where(Survey.status != SurveyStatus.DRAFT)
    rows, next_cursor = await keyset_page(
        session, statement, [Survey.id], limit=limit, cursor=cursor
    )
    return Page(items=[s.SurveySummary(**summary_fields(x)) for x in rows], next_cursor=next_cursor)


# -- writing definitions -------------------------------------------------------------------------


async def _writable_process(session: AsyncSession, process_id: UUID) -> None:
    status = await session.scalar(
        select(PlanningProcess.status).where(PlanningProcess.id == process_id)
    )
    if status is None:
        raise NotFound(f"No planning process {process_id}.")
    if status == ProcessStatus.ARCHIVED:
        raise Conflict("The planning process is archived; it can have no new surveys.")


def _check_thresholds(k_threshold: int, min_respondents: int) -> None:
    if min_respondents < k_threshold:
        raise InvalidInput(
            "min_respondents must be at least k_threshold.",
            errors=[
                FieldError(field="min_respondents", source="body", message="less than k_threshold")
            ],
        )


async def create_survey(session: AsyncSession, process_id: UUID, data: s.SurveyCreate) -> Survey:
    """A new draft survey of a process (404 unknown process, 409 archived, 400 invalid)."""
    await _writable_process(session, process_id)
    _check_thresholds(data.k_threshold, data.min_respondents)
    await d.validate_definition(session, data.definition)
    survey = Survey(
        process_id=process_id,
        title=data.definition.title.as_dict(),
        status=SurveyStatus.DRAFT.value,
        access_mode=data.access_mode.value,
        definition=d.encode_definition(data.definition),
        definition_version=1,
        pseudonym_salt=secrets.token_bytes(32),
        k_threshold=data.k_threshold,
        min_respondents=data.min_respondents,
    )
    session.add(survey)
    await session.flush()
    return survey


async def update_survey(session: AsyncSession, survey_id: UUID, data: s.SurveyUpdate) -> Survey:
    """Change settings and/or replace the definition. Closed surveys are read-only (409). On a
    published survey the access mode is fixed and the definition may change only in ways that
    keep stored answers valid: otherwise 409 `breaking-change` naming each change."""
    survey = await _load(session, survey_id, lock=True)
    if survey.status == SurveyStatus.CLOSED:
        raise Conflict("The survey is closed; closed surveys are read-only.")
    published = survey.status == SurveyStatus.PUBLISHED
    k = survey.k_threshold if isinstance(data.k_threshold, msgspec.UnsetType) else data.k_threshold
    minimum = (
        survey.min_respondents
        if isinstance(data.min_respondents, msgspec.UnsetType)
        else data.min_respondents
    )
    _check_thresholds(k, minimum)
    if (
        not isinstance(data.access_mode, msgspec.UnsetType)
        and data.access_mode != survey.access_mode
    ):
        if published:
            raise Conflict(
                "The access mode of a published survey cannot change.",
                slug="breaking-change",
                title="Change would invalidate stored responses",
                errors=[
                    FieldError(field="access_mode", source="body", message="fixed once published")
                ],
            )
        survey.access_mode = data.access_mode.value
    survey.k_threshold, survey.min_respondents = k, minimum
    if not isinstance(data.definition, msgspec.UnsetType):
        await d.validate_definition(session, data.definition)
        encoded = d.encode_definition(data.definition)
        if encoded != survey.definition:
            if published:
                changes = d.breaking_changes(definition_of(survey), data.definition)
                if changes:
                    raise Conflict(
                        "The published survey cannot change like this: "
                        + "; ".join(change.message for change in changes)
                        + ". Texts, order, new options and new optional questions can change.",
                        slug="breaking-change",
                        title="Change would invalidate stored responses",
                        errors=changes,
                    )
            survey.definition = encoded
            survey.title = data.definition.title.as_dict()
            survey.definition_version += 1
    await session.flush()
    return survey


async def publish_survey(session: AsyncSession, survey_id: UUID) -> Survey:
    """draft → published. Needs the process's surveys module to be open in its active phase
    (409 `phase-closed`); 409 unless a draft."""
    survey = await _load(session, survey_id, lock=True)
    if survey.status != SurveyStatus.DRAFT:
        raise Conflict(f"Only a draft can be published; the survey is {survey.status}.")
    try:
        await participation.ensure_open(session, survey.process_id, "surveys")
    except NotFound:
        raise Conflict(
            "The planning process is a draft: publish the process first.",
            slug="phase-closed",
            title="Participation is not open in this phase",
        ) from None
    survey.status = SurveyStatus.PUBLISHED.value
    survey.published_at = utcnow()
    await session.flush()
    await webhooks.emit(
        session, "survey.published", {"survey_id": survey.id}, process_id=survey.process_id
    )
    return survey


async def close_survey(session: AsyncSession, survey_id: UUID) -> Survey:
    """published → closed: no more web responses; results stay available. 409 unless
    published."""
    survey = await _load(session, survey_id, lock=True)
    if survey.status != SurveyStatus.PUBLISHED:
        raise Conflict(f"Only a published survey can be closed; the survey is {survey.status}.")
    survey.status = SurveyStatus.CLOSED.value
    survey.closed_at = utcnow()
    await session.flush()
    await webhooks.emit(
        session, "survey.closed", {"survey_id": survey.id}, process_id=survey.process_id
    )
    return survey


async def set_results_public(session: AsyncSession, survey_id: UUID, public: bool) -> Survey:
    """Whether the survey's aggregated needs are open data once it is closed (opendata)."""
    survey = await _load(session, survey_id, lock=True)
    survey.results_public = public
    await session.flush()
    return survey


def export_document(survey: Survey) -> s.SurveyDocument:
    """The survey's settings and definition as one portable document."""
    return s.SurveyDocument(
        access_mode=survey.access_mode,  # type: ignore[arg-type]
        k_threshold=survey.k_threshold,
        min_respondents=survey.min_respondents,
        definition=definition_of(survey),
    )


async def import_document(
    session: AsyncSession, process_id: UUID, document: s.SurveyDocument
) -> Survey:
    """A new draft survey of a process from an exported document."""
    return await create_survey(
        session,
        process_id,
        s.SurveyCreate(
            access_mode=document.access_mode,
            k_threshold=document.k_threshold,
            min_respondents=document.min_respondents,
            definition=document.definition,
        ),
    )


# -- need categories -----------------------------------------------------------------------------


def need_category_out(category: NeedCategory) -> s.NeedCategoryOut:
    return s.NeedCategoryOut(
        id=category.id,
        key=category.key,
        name=i18n.pick(category.label),
        label=msgspec.convert(category.label, s.Text),
        description=msgspec.convert(category.description, s.Text) if category.description else None,
        position=category.position,
        is_active=category.is_active,
    )


async def list_need_categories(
    session: AsyncSession, *, include_inactive: bool = False
) -> s.NeedCategoryList:
    statement = select(NeedCategory).order_by(NeedCategory.position, NeedCategory.key)
    if not include_inactive:
        statement = statement.where(NeedCategory.is_active)
    rows = (await session.scalars(statement)).all()
    return s.NeedCategoryList(items=[need_category_out(row) for row in rows])


async def create_need_category(session: AsyncSession, data: s.NeedCategoryCreate) -> NeedCategory:
    """A new need category (409 if the key exists)."""
    taken = await session.scalar(select(NeedCategory.id).where(NeedCategory.key == data.key))
    if taken is not None:
        raise Conflict(f"A need category with key {data.key!r} exists.")
    category = NeedCategory(
        key=data.key,
        label=data.label.as_dict(),
        description=data.description.as_dict() if data.description else {},
        position=data.position,
        is_active=True,
    )
    session.add(category)
    await session.flush()
    return category


async def update_need_category(
    session: AsyncSession, category_id: UUID, data: s.NeedCategoryUpdate
) -> NeedCategory:
    """Change label, description, position or active flag (the key is permanent)."""
    category = await session.get(NeedCategory, category_id)
    if category is None:
        raise NotFound(f"No need category {category_id}.")
    if not isinstance(data.label, msgspec.UnsetType):
        category.label = data.label.as_dict()
    if not isinstance(data.description, msgspec.UnsetType):
        category.description = data.description.as_dict() if data.description else {}
    if not isinstance(data.position, msgspec.UnsetType):
        category.position = data.position
    if not isinstance(data.is_active, msgspec.UnsetType):
        category.is_active = data.is_active
    await session.flush()
    return category


# -- invitation codes ----------------------------------------------------------------------------


async def generate_invitation_codes(
    session: AsyncSession, settings: Settings, survey_id: UUID, count: int
) -> list[str]:
    """`count` new one-time codes for an invitation survey (409 for open or closed surveys).
    Only their keyed hashes are kept: the codes are returned once, formatted for letters."""
    survey = await _load(session, survey_id)
    if survey.access_mode != "invitation":
        raise Conflict("The survey is open to anyone with the link; it takes no invitation codes.")
    if survey.status == SurveyStatus.CLOSED:
        raise Conflict("The survey is closed.")
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(r.new_invitation_code())
    now = utcnow()
    rows = [
        {
            "id": uuid7(),
            "survey_id": survey.id,
            "code_hash": r.invitation_hash(settings.secret_key, survey.id, code),
            "created_at": now,
            "updated_at": now,
        }
        for code in codes
    ]
    table = r.table_of(InvitationCode)
    for start in range(0, len(rows), 5_000):
        # 50-bit codes practically never collide; a collision would be skipped, not reused.
        await session.execute(
            insert(table).values(rows[start : start + 5_000]).on_conflict_do_nothing()
        )
    return [format_code(code) for code in sorted(codes)]


def invitation_codes_csv(survey_id: UUID, codes: Sequence[str], base_url: str) -> str:
    """The codes as CSV for a mail merge: code and the survey's address."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "url"])
    for code in codes:
        writer.writerow([code, f"{base_url}/surveys/{survey_id}"])
    return buffer.getvalue()


# -- staff entry and import ----------------------------------------------------------------------


class ImportFailed(Unprocessable):
    """A response import with errors: nothing was stored; `result` lists the row errors."""

    slug, title = "import-failed", "Import failed"

    def __init__(self, result: s.ImportResult) -> None:
        super().__init__(
            f"The import has {len(result.errors)} error(s) and stored nothing; see `errors` "
            "(`csv.lines[<line>].<column>`, the header is line 1).",
            errors=[
                FieldError(
                    field=f"csv.lines[{error.row}].{error.field}",
                    source="body",
                    message=error.message,
                )
                for error in result.errors
            ],
        )
        self.result = result


def _parse_cell(question: s.AnyQuestion, raw: str) -> Any:
    text = raw.strip()
    if text == "":
        return None
    if isinstance(question, s.MultipleChoiceQuestion | s.RankingQuestion):
        return [part.strip() for part in text.split("|") if part.strip()]
    if isinstance(question, s.RatingQuestion):
        try:
            return int(text)
        except ValueError:
            return text
    if isinstance(question, s.NumberQuestion):
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    return text


async def import_responses(session: AsyncSession, survey: Survey, text: str) -> s.ImportResult:
    """Import responses from CSV (channel `import`), all or nothing: any row error → 422
    ImportFailed listing every error by line and column, nothing stored.

    Layout: a header row of question keys (any order; missing columns are unanswered);
    multiple-choice and ranking values separated by `|`; the social-area column holds the
    area's code; "other, please specify" texts in a column `<key>.other`; empty cells are
    unanswered. Published or closed surveys only."""
    if survey.status == SurveyStatus.DRAFT:
        raise r.SurveyNotOpen("Responses can be imported once the survey is published.")
    compiled = d.compiled(survey)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    errors: list[s.ImportRowError] = []
    if not header:
        raise InvalidInput(
            "The CSV is empty.",
            errors=[FieldError(field="csv", source="body", message="no header row")],
        )
    columns: list[tuple[str, bool]] = []  # (question key, is other text)
    for name in (h.strip() for h in header):
        key, _, suffix = name.partition(".")
        if key not in compiled.by_key or suffix not in ("", "other"):
            errors.append(s.ImportRowError(row=1, field=name, message="unknown column"))
        columns.append((key, suffix == "other"))
    if errors:
        raise ImportFailed(s.ImportResult(imported=0, errors=errors))
    parsed: list[tuple[int, r.Prepared]] = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(parsed) + len(errors) >= s.MAX_IMPORT_ROWS:
            raise InvalidInput(
                f"At most {s.MAX_IMPORT_ROWS} rows can be imported at once.",
                errors=[FieldError(field="csv", source="body", message="too many rows")],
            )
        if len(row) != len(columns):
            errors.append(
                s.ImportRowError(
                    row=line, field="(row)", message=f"{len(row)} cells, expected {len(columns)}"
                )
            )
            continue
        answers: dict[str, Any] = {}
        other: dict[str, str] = {}
        for (key, is_other), cell in zip(columns, row, strict=True):
            if is_other:
                if cell.strip():
                    other[key] = cell
            else:
                answers[key] = _parse_cell(compiled.by_key[key], cell)
        answers = {k: v for k, v in answers.items() if v is not None}
        try:
            parsed.append((line, r.prepare(compiled.definition, answers, other)))
        except r.InvalidAnswers as invalid:
            for error in invalid.errors or []:
                errors.append(
                    s.ImportRowError(
                        row=line, field=error.field.removeprefix("answers."), message=error.message
                    )
                )
    areas = await r.resolve_areas(session, survey, {p.area_code for _, p in parsed})
    for line, prepared in parsed:
        if prepared.area_code not in areas:
            errors.append(
                s.ImportRowError(
                    row=line,
                    field=compiled.social_area.key,
                    message=f"unknown social area {prepared.area_code!r} for this survey",
                )
            )
    if errors:
        errors.sort(key=lambda e: e.row)
        raise ImportFailed(s.ImportResult(imported=0, errors=errors))
    imported = await r.insert_prepared(
        session, survey, [(p, areas[p.area_code]) for _, p in parsed], Channel.IMPORT
    )
    return s.ImportResult(imported=imported)


# -- results -------------------------------------------------------------------------------------

ROOT = "all"  # the group of all responses


@dataclass(slots=True)
class _Counts:
    """Cells (count and sum of record keys, stats.cellkey) per node: ROOT and every area with
    responses at any level (each response counts in each area of its `path`)."""

    respondents: dict[Any, Cell]
    answered: dict[tuple[Any, str], Cell]
    options: dict[tuple[Any, str, str], Cell]


async def _rows(session: AsyncSession, statement: Any) -> list[Any]:
    return list((await session.execute(statement)).all())


def _cell(row: Any) -> Cell:
    return Cell(int(row[-2]), int(row[-1] or 0))


async def _tree_counts(
    session: AsyncSession, survey_id: UUID, depth: int | None, at: datetime.date
) -> _Counts:
    """Respondents, answers per question and choices per option, with the sums of their
    record keys: for all responses (ROOT) when `depth` is None, else for every area at that
    depth (`path[depth + 1]` of the path the response's area has on `at`, one group per
    response, so only the level asked for is counted). A cell is the same set of responses
    whichever call counts it, hence the same key and the same perturbation."""
    responses = r.table_of(SurveyResponse)
    area = hierarchy_on(at).subquery("area")
    options = survey_answer_options
    keys = func.jsonb_object_keys(responses.c.answers).table_valued("key").render_derived(name="k")
    mine = responses.c.survey_id == survey_id
    cell = (func.count(), func.sum(responses.c.record_key))
    result = _Counts(respondents={}, answered={}, options={})
    if depth is None:
        for row in await _rows(session, select(*cell).select_from(responses).where(mine)):
            result.respondents[ROOT] = _cell(row)
        for row in await _rows(
            session,
            select(keys.c.key, *cell)
            .select_from(responses.join(keys, true()))
            .where(mine)
            .group_by(keys.c.key),
        ):
            result.answered[(ROOT, row[0])] = _cell(row)
        for row in await _rows(
            session,
            select(options.c.question_key, options.c.option_key, *cell)
            .select_from(options.join(responses, responses.c.id == options.c.response_id))
            .where(options.c.survey_id == survey_id, mine)
            .group_by(options.c.question_key, options.c.option_key),
        ):
            result.options[(ROOT, row[0], row[1])] = _cell(row)
        return result

    node = area.c.path[depth + 1].label("node")
    by_area = responses.join(area, area.c.id == responses.c.area_id)
    at_level = and_(mine, func.cardinality(area.c.path) > depth)
    for row in await _rows(
        session, select(node, *cell).select_from(by_area).where(at_level).group_by(node)
    ):
        result.respondents[row[0]] = _cell(row)
    for row in await _rows(
        session,
        select(node, keys.c.key, *cell)
        .select_from(by_area.join(keys, true()))
        .where(at_level)
        .group_by(node, keys.c.key),
    ):
        result.answered[(row[0], row[1])] = _cell(row)
    for row in await _rows(
        session,
        select(node, options.c.question_key, options.c.option_key, *cell)
        .select_from(by_area.join(options, options.c.response_id == responses.c.id))
        .where(options.c.survey_id == survey_id, at_level)
        .group_by(node, options.c.question_key, options.c.option_key),
    ):
        result.options[(row[0], row[1], row[2])] = _cell(row)
    return result


async def _level_depth(session: AsyncSession, level: str) -> int:
    depth = await session.scalar(select(AreaLevel.depth).where(AreaLevel.key == level))
    if depth is None:
        known = (await session.scalars(select(AreaLevel.key).order_by(AreaLevel.depth))).all()
        raise InvalidInput(
            f"There is no level {level!r}; levels: {', '.join(known) or 'none yet'}.",
            errors=[FieldError(field="level", source="query", message="unknown level")],
        )
    return depth


async def _number_summaries(
    session: AsyncSession, survey_id: UUID, keys: list[str], depth: int | None, at: datetime.date
) -> dict[tuple[Any, str], tuple[Cell, float | None, float | None]]:
    """The answers' cell, mean and median of numeric answers per group (ROOT, or the areas at
    `depth` in the hierarchy of `at`)."""
    if not keys:
        return {}
    responses = r.table_of(SurveyResponse)
    area = hierarchy_on(at).subquery("area")
    entry = func.jsonb_each(responses.c.answers).table_valued("key", "value").alias("e")
    number = cast(entry.c.value, Float)  # only JSON numbers are selected
    group: Any = literal(ROOT) if depth is None else area.c.path[depth + 1]
    g = group.label("g")
    statement = (
        select(
            g,
            entry.c.key,
            func.count(),
            func.sum(responses.c.record_key),
            func.avg(number),
            func.percentile_cont(0.5).within_group(number),
        )
        .select_from(responses.join(area, area.c.id == responses.c.area_id).join(entry, true()))
        .where(
            responses.c.survey_id == survey_id,
            entry.c.key.in_(keys),
            func.jsonb_typeof(entry.c.value) == "number",
        )
        .group_by(g, entry.c.key)
    )
    if depth is not None:
        statement = statement.where(func.cardinality(area.c.path) > depth)
    return {
        (row[0], row[1]): (Cell(int(row[2]), int(row[3] or 0)), row[4], row[5])
        for row in await session.execute(statement)
    }


async def results_by_question(
    session: AsyncSession,
    survey_id: UUID,
    *,
    level: str | None = None,
    at: datetime.date | None = None,
) -> s.SurveyResults:
    """Counts and shares per option of every choice, rating, ranking and age-band question;
    n, mean and median of number and rating questions; only the number of answers of text
    questions (never their text). With `level`, one group per social area at that level (every
    area of the process's scope valid on `at` (default today), each response counted under
    the area its own area lies in on that date), else one group of all responses. All counting
    happens in SQL.

    Disclosure control (stats.cellkey, docs/PRIVACY.md): every count is perturbed by its cell
    key — the same set of responses has the same value here, in the aggregated needs and in
    every export; counts below k show as 0. A group whose perturbed number of respondents is
    below `min_respondents` is not shown (`withheld`). Shares and the mean and median of a
    rating scale are computed from the perturbed counts; the mean and median of a number
    question only where its perturbed n reaches `Release.summary_minimum`, rounded."""
    survey = await _load(session, survey_id)
    compiled = d.compiled(survey)
    release = Release(survey.k_threshold, survey.min_respondents)
    depth = None if level is None else await _level_depth(session, level)
    day = at or today()
    counts = await _tree_counts(session, survey.id, depth, day)
    numeric = [q.key for q in compiled.by_key.values() if isinstance(q, s.NumberQuestion)]
    summaries = await _number_summaries(session, survey.id, numeric, depth, day)
    if depth is None:
        groups_at: list[Any] = [ROOT]
        refs: dict[Any, s.AreaRef | None] = {ROOT: None}
    else:
        named = [node for node in counts.respondents if node != ROOT]
        areas = await scope_areas(session, survey.process_id, depth, named, at=day)
        groups_at = [area.id for area in areas if area.depth == depth]
        refs = {
            area.id: s.AreaRef(id=area.id, code=area.code, name=area.name)
            for area in areas
            if area.depth == depth
        }
    groups: list[s.ResultGroup] = []
    suppressed_cells = 0
    for node in groups_at:
        respondents = release.respondents(counts.respondents.get(node, EMPTY))
        if respondents is None:
            groups.append(s.ResultGroup(area=refs[node], respondents=None, withheld=True))
            continue
        results = [
            _question_result(question, node, counts, summaries, release)
            for question in d.questions(compiled.definition)
        ]
        suppressed_cells += sum(
            result.summary is not None and result.summary.suppressed for result in results
        )
        groups.append(s.ResultGroup(area=refs[node], respondents=respondents, questions=results))
    return s.SurveyResults(
        survey_id=survey.id,
        definition_version=survey.definition_version,
        k_threshold=release.k,
        min_respondents=release.min_respondents,
        level=level,
        at=day,
        language=i18n.current_language(),
        groups=groups,
        suppressed_cells=suppressed_cells,
        generated_at=utcnow(),
    )


def _labels(question: s.AnyQuestion) -> list[tuple[str, str]]:
    if isinstance(question, d.OPTION_TYPES):
        listed: Sequence[s.Option[s.Text] | s.AgeBandOption[s.Text]] = question.options
        labels = [(o.key, i18n.pick(o.label.as_dict())) for o in listed]
        if (
            isinstance(question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion)
            and question.other
        ):
            labels.append((s.OTHER, i18n.pick(question.other.label.as_dict())))
        return labels
    if isinstance(question, s.RatingQuestion):
        return [(str(v), str(v)) for v in range(question.scale_min, question.scale_max + 1)]
    return []


def _question_result(
    question: s.AnyQuestion,
    node: Any,
    counts: _Counts,
    summaries: dict[tuple[Any, str], tuple[Cell, float | None, float | None]],
    release: Release,
) -> s.QuestionResult:
    kind = question.__struct_config__.tag
    assert isinstance(kind, str)
    text = i18n.pick(question.text.as_dict())
    answered = release.count(counts.answered.get((node, question.key), EMPTY))
    result = s.QuestionResult(key=question.key, type=kind, text=text, answered=answered)
    labels = _labels(question)
    if labels:
        published = {
            key: release.count(counts.options.get((node, question.key, key), EMPTY))
            for key, _ in labels
        }
        result.options = [
            s.OptionResult(
                key=key,
                label=label,
                count=published[key],
                share=None if not answered else round(min(1.0, published[key] / answered), 4),
            )
            for key, label in labels
        ]
        if isinstance(question, s.RatingQuestion):
            mean, median = Release.distribution_summary(
                {int(key): count for key, count in published.items()}
            )
            result.summary = s.NumberSummary(n=answered, mean=mean, median=median)
    if isinstance(question, s.NumberQuestion):
        cell, mean, median = summaries.get((node, question.key), (EMPTY, None, None))
        found = release.number_summary(
            cell, None if mean is None else float(mean), None if median is None else float(median)
        )
        if found is None:
            result.summary = s.NumberSummary(n=None, mean=None, median=None, suppressed=True)
        else:
            result.summary = s.NumberSummary(n=found.n, mean=found.mean, median=found.median)
    return result
