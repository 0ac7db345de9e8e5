"""Structured feedback on a measure version: submitting it, organisations' consultation codes,
the disclosure-controlled summary, and the traceability chain from needs to measures.

Submitting: the consultation window must be open, the measure in consultation, and the
process's active phase must open `measure_feedback` (the participation registry). Residents
and professionals stay anonymous (a keyed per-consultation pseudonym of a respondent token
refuses repeats, as in surveys); an organisation answers with the code issued to it, once, and
is named. Every submission is idempotent with an `Idempotency-Key`.

The summary is disclosure-controlled by the cell key method, like every figure from residents
(`stats.cellkey`, docs/PRIVACY.md). Every response carries a random `record_key`; a cell (the
anonymous responses of a group with a stance, or with a rating of a criterion) is published as
its perturbed count. The groups are all anonymous responses, each kind (resident,
professional), and each kind × social area — the measure's areas and every area a response
named, plus "no area" — listed whether they have responses or not. A group whose perturbed
size is below `min_respondents` is not shown (reason "protected", the same for an empty group
as for a small one, never 0). A criterion's mean, median and interval are computed from its
published (perturbed) distribution only. Organisations' statements are named and not counted
in the groups.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Literal
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import SocialArea
from quartier.core import translations as shared_translations
from quartier.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from quartier.core.idempotency import StoredResponse, fingerprint, run_idempotent
from quartier.measures import common
from quartier.measures import schemas as s
from quartier.measures.models import (
    Consultation,
    ConsultationCode,
    Feedback,
    FeedbackComment,
    FeedbackRating,
    Goal,
    GoalVersion,
    Measure,
    MeasureStatus,
    MeasureVersion,
    ModerationStatus,
    RespondentKind,
    Stance,
)
from quartier.measures.services import latest_consultation, visible_measure
from quartier.participation import pseudonyms as resident_ids
from quartier.processes import models as pm
from quartier.processes import participation
from quartier.settings import Settings
from quartier.stats.cellkey import EMPTY, Cell, Release
from quartier.surveys import responses as codes

MODULE = "measure_feedback"
OPERATION = "SubmitMeasureFeedback"
ANONYMOUS_KINDS = (RespondentKind.RESIDENT, RespondentKind.PROFESSIONAL)
STANCES = tuple(Stance)
RATING_VALUES = (1, 2, 3, 4, 5)
INTERVAL_METHOD = (
    "Student t interval of the mean (normal quantile from 30 ratings on), of the published "
    "(perturbed) distribution"
)
DISCLOSURE_METHOD = (
    "cell key method: every count is perturbed by noise chosen by its cell key (two-sided "
    "geometric, alpha {alpha}, at most ±{noise}), the same noise for the same cell wherever it "
    "appears; results below {k} are published as 0; means, medians and intervals are computed "
    "from perturbed counts; a group whose perturbed number of responses is below {minimum} is "
    "not shown (protected)"
)


# -- submitting ---------------------------------------------------------------------------------


async def open_consultation(
    session: AsyncSession, measure_id: UUID
) -> tuple[Measure, Consultation]:
    """The measure and its consultation if residents may answer now (404/409 otherwise)."""
    measure = await visible_measure(session, measure_id, common.PUBLIC)
    consultation = await latest_consultation(session, measure_id)
    now = common.utcnow()
    if (
        consultation is None
        or measure.status != MeasureStatus.IN_CONSULTATION.value
        or not consultation.opens_at <= now < consultation.closes_at
    ):
        raise Conflict(
            "This measure is not open for feedback now.",
            slug="consultation-closed",
            title="Consultation closed",
        )
    await participation.ensure_open(session, measure.process_id, MODULE)
    return measure, consultation


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[FieldError(field=field, source="body", message=message)])


async def _check(
    session: AsyncSession, consultation: Consultation, data: s.FeedbackSubmission
) -> UUID | None:
    criteria = {c["key"] for c in consultation.criteria}
    for key in data.ratings:
        if key not in criteria:
            raise _invalid(f"ratings.{key}", "not a criterion of this consultation")
    version = await session.scalar(
        sa.select(MeasureVersion).where(
            MeasureVersion.measure_id == consultation.measure_id,
            MeasureVersion.version == consultation.version,
        )
    )
    assert version is not None
    sections = {section["key"] for section in version.sections}
    seen: set[str] = set()
    for index, comment in enumerate(data.comments):
        if comment.section not in sections:
            raise _invalid(f"comments[{index}].section", "not a section of this measure")
        if comment.section in seen:
            raise _invalid(f"comments[{index}].section", "one comment per section")
        seen.add(comment.section)
    if data.area_code is None:
        return None
    area_id = await session.scalar(
        sa.select(SocialArea.id).where(SocialArea.code == data.area_code)
    )
    if area_id is None:
        raise _invalid("area_code", f"unknown social area code '{data.area_code}'")
    return area_id


async def submit(
    session: AsyncSession,
    settings: Settings,
    measure_id: UUID,
    data: s.FeedbackSubmission,
    *,
    respondent_token: str | None,
) -> s.FeedbackReceipt:
    _, consultation = await open_consultation(session, measure_id)
    area_id = await _check(session, consultation, data)
    organisation: s.OrganisationRef | None = None
    pseudonym = None
    if data.kind is RespondentKind.ORGANISATION:
        if not data.organisation_code:
            raise _invalid("organisation_code", "organisations answer with their code")
        code_hash = codes.invitation_hash(
            settings.secret_key, consultation.id, data.organisation_code
        )
        used = await session.execute(
            sa.update(ConsultationCode)
            .where(
                ConsultationCode.code_hash == code_hash,
                ConsultationCode.consultation_id == consultation.id,
                ConsultationCode.used_at.is_(None),
            )
            .values(used_at=common.utcnow())
            .returning(ConsultationCode.organisation_id)
        )
        organisation_id = used.scalar_one_or_none()
        if organisation_id is None:
            raise Conflict(
                "This consultation code is unknown or was used already.",
                slug="code-used",
                title="Code not usable",
            )
        organisation = (await common.organisations_by_id(session, [organisation_id]))[
            organisation_id
        ]
    elif data.organisation_code:
        raise _invalid("organisation_code", "only organisations answer with a code")
    elif respondent_token is not None:
        resident_ids.check_respondent_token(respondent_token)
        pseudonym = resident_ids.pseudonym(
            settings.secret_key, consultation.pseudonym_salt, respondent_token
        )
        taken = await session.scalar(
            sa.select(Feedback.id).where(
                Feedback.consultation_id == consultation.id, Feedback.pseudonym == pseudonym
            )
        )
        if taken is not None:
            raise Conflict(
                "Feedback from this browser was given already.",
                slug="already-answered",
                title="Already answered",
            )
    row = Feedback(
        consultation_id=consultation.id,
        kind=data.kind.value,
        organisation_id=organisation.id if organisation else None,
        area_id=area_id,
        stance=data.stance.value,
        pseudonym=pseudonym,
        receipt_code=codes.new_receipt_code(),
    )
    session.add(row)
    await session.flush()
    session.add_all(
        FeedbackRating(
            feedback_id=row.id, consultation_id=consultation.id, criterion=key, value=value
        )
        for key, value in data.ratings.items()
    )
    comments: list[tuple[str | None, str]] = [(c.section, c.body) for c in data.comments]
    if data.general_comment.strip():
        comments.append((None, data.general_comment.strip()))
    session.add_all(
        FeedbackComment(
            feedback_id=row.id, consultation_id=consultation.id, section=section, body=body
        )
        for section, body in comments
    )
    await session.flush()
    return s.FeedbackReceipt(
        receipt_code=codes.format_code(row.receipt_code),
        submitted_at=row.created_at,
        organisation=organisation,
    )


async def submit_idempotent(
    session: AsyncSession,
    settings: Settings,
    measure_id: UUID,
    data: s.FeedbackSubmission,
    *,
    idempotency_key: str | None,
    respondent_token: str | None,
) -> StoredResponse:
    async def produce() -> tuple[int, Any, dict[str, str]]:
        receipt = await submit(
            session, settings, measure_id, data, respondent_token=respondent_token
        )
        return 201, receipt, {}

    return await run_idempotent(
        session,
        operation=OPERATION,
        key=idempotency_key,
        request_fingerprint=fingerprint(
            settings.secret_key, measure_id.bytes, msgspec.json.encode(data)
        ),
        produce=produce,
    )


async def issue_codes(
    session: AsyncSession, settings: Settings, measure_id: UUID, data: s.CodesRequest
) -> list[s.IssuedCode]:
    measure = await visible_measure(session, measure_id, common.STAFF_VIEWER)
    await common.process(session, measure.process_id, common.STAFF_VIEWER, writable=True)
    consultation = await latest_consultation(session, measure_id)
    if consultation is None or consultation.closes_at <= common.utcnow():
        raise Conflict("The measure has no consultation that is open or to come.")
    organisations = await common.organisations_by_id(session, data.organisation_ids)
    for index, organisation_id in enumerate(data.organisation_ids):
        if organisation_id not in organisations:
            raise _invalid(f"organisation_ids[{index}]", "unknown organisation")
    issued = []
    for organisation_id in dict.fromkeys(data.organisation_ids):
        code = codes.new_invitation_code()
        session.add(
            ConsultationCode(
                consultation_id=consultation.id,
                organisation_id=organisation_id,
                code_hash=codes.invitation_hash(settings.secret_key, consultation.id, code),
            )
        )
        issued.append(
            s.IssuedCode(organisation=organisations[organisation_id], code=codes.format_code(code))
        )
    await session.flush()
    return issued


# -- the summary --------------------------------------------------------------------------------

# t quantiles (0.975) for 1 … 29 degrees of freedom; from 30 on the normal quantile.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045,
)  # fmt: skip
_Z975 = 1.959963984540054

Node = tuple[str, ...]  # (), (kind,), (kind, area_code)
ROOT: Node = ()
NO_AREA = "-"
PROTECTED: Literal["protected"] = "protected"


def mean_interval(distribution: dict[int, int]) -> tuple[float, float, float] | None:
    """Mean of ratings and its 95% interval (None without ratings)."""
    n = sum(distribution.values())
    if n == 0:
        return None
    mean = sum(v * c for v, c in distribution.items()) / n
    if n == 1:
        return mean, 1.0, 5.0
    variance = sum(c * (v - mean) ** 2 for v, c in distribution.items()) / (n - 1)
    quantile = _T975[n - 2] if n - 1 < 30 else _Z975
    half = quantile * math.sqrt(variance / n)
    return mean, max(1.0, mean - half), min(5.0, mean + half)


async def _consultation_for(
    session: AsyncSession, measure_id: UUID, viewer: common.Viewer, version: int | None
) -> tuple[Measure, Consultation]:
    measure = await visible_measure(session, measure_id, viewer)
    statement = sa.select(Consultation).where(Consultation.measure_id == measure_id)
    if version is not None:
        statement = statement.where(Consultation.version == version)
    consultation = await session.scalar(statement.order_by(Consultation.version.desc()).limit(1))
    if consultation is None:
        raise NotFound("No consultation on this measure (version).")
    if not viewer.privileged and not (
        consultation.summary_public and consultation.closes_at <= common.utcnow()
    ):
        raise Forbidden("The summary is public after the consultation closes, if at all.")
    return measure, consultation


def _withheld_figure(criterion: dict[str, str]) -> s.MeanFigure:
    return s.MeanFigure(
        criterion=criterion["key"],
        label=criterion["label"],
        n=None,
        mean=None,
        low=None,
        high=None,
        distribution=[
            s.Count(key=str(v), count=None, suppressed=True, reason=PROTECTED)
            for v in RATING_VALUES
        ],
        suppressed=True,
    )


def _figure(criterion: dict[str, str], cells: dict[int, Cell], release: Release) -> s.MeanFigure:
    """A criterion of a shown group: every figure from the perturbed distribution."""
    distribution = {v: release.count(cells.get(v, EMPTY)) for v in RATING_VALUES}
    answered = EMPTY
    for cell in cells.values():
        answered += cell
    mean, median = Release.distribution_summary({float(v): c for v, c in distribution.items()})
    stats = mean_interval(distribution)
    return s.MeanFigure(
        criterion=criterion["key"],
        label=criterion["label"],
        n=release.count(answered),
        mean=mean,
        median=median,
        low=round(stats[1], 2) if stats else None,
        high=round(stats[2], 2) if stats else None,
        distribution=[s.Count(key=str(v), count=c) for v, c in distribution.items()],
    )


async def summary(
    session: AsyncSession, measure_id: UUID, viewer: common.Viewer, version: int | None = None
) -> s.FeedbackSummary:
    _, consultation = await _consultation_for(session, measure_id, viewer, version)
    cid = consultation.id
    release = Release(consultation.k_threshold, consultation.min_respondents)
    criteria: list[dict[str, str]] = list(consultation.criteria)

    # Cells, in SQL: anonymous responses per kind × area × stance, ratings per kind × area ×
    # criterion × value — each with the sum of the responses' record keys.
    area_code = sa.func.coalesce(SocialArea.code, NO_AREA)
    anonymous = [k_.value for k_ in ANONYMOUS_KINDS]
    stance_rows = await session.execute(
        sa.select(
            Feedback.kind,
            area_code,
            Feedback.stance,
            sa.func.count(),
            sa.func.sum(Feedback.record_key),
        )
        .outerjoin(SocialArea, SocialArea.id == Feedback.area_id)
        .where(Feedback.consultation_id == cid, Feedback.kind.in_(anonymous))
        .group_by(Feedback.kind, area_code, Feedback.stance)
    )
    rating_rows = await session.execute(
        sa.select(
            Feedback.kind,
            area_code,
            FeedbackRating.criterion,
            FeedbackRating.value,
            sa.func.count(),
            sa.func.sum(Feedback.record_key),
        )
        .join(FeedbackRating, FeedbackRating.feedback_id == Feedback.id)
        .outerjoin(SocialArea, SocialArea.id == Feedback.area_id)
        .where(Feedback.consultation_id == cid, Feedback.kind.in_(anonymous))
        .group_by(Feedback.kind, area_code, FeedbackRating.criterion, FeedbackRating.value)
    )
    # The same set of responses is summed the same way wherever it appears (stats.cellkey).
    stances: dict[Node, dict[str, Cell]] = defaultdict(dict)
    respondents: dict[Node, Cell] = defaultdict(lambda: EMPTY)
    codes_seen: set[str] = {NO_AREA}
    for kind, code, stance, count, keys in stance_rows:
        cell = Cell(int(count), int(keys))
        codes_seen.add(code)
        for node in (ROOT, (kind,), (kind, code)):
            stances[node][stance] = stances[node].get(stance, EMPTY) + cell
            respondents[node] += cell
    ratings: dict[Node, dict[str, dict[int, Cell]]] = defaultdict(lambda: defaultdict(dict))
    for kind, code, criterion, value, count, keys in rating_rows:
        cell = Cell(int(count), int(keys))
        for node in (ROOT, (kind,), (kind, code)):
            ratings[node][criterion][value] = ratings[node][criterion].get(value, EMPTY) + cell

    # Every group is listed, with responses or without: the measure's areas and every area a
    # response named, for each kind.
    version_row = await session.scalar(
        sa.select(MeasureVersion).where(
            MeasureVersion.measure_id == consultation.measure_id,
            MeasureVersion.version == consultation.version,
        )
    )
    named = await common.areas_by_id(session, version_row.area_ids if version_row else [])
    codes_seen.update(area.code for area in named.values())
    nodes: list[Node] = [ROOT]
    for kind in ANONYMOUS_KINDS:
        nodes.append((kind.value,))
        nodes.extend((kind.value, code) for code in sorted(codes_seen))

    def group(node: Node) -> s.GroupSummary:
        kind = node[0] if node else None
        code = node[1] if len(node) > 1 else None
        shown = release.respondents(respondents.get(node, EMPTY))
        base: dict[str, Any] = {
            "key": "/".join(node) or "all",
            "label": "/".join(node) or "all",
            "kind": kind,
            "area_code": None if code in (None, NO_AREA) else code,
        }
        if shown is None:
            return s.GroupSummary(
                **base,
                respondents=None,
                withheld=True,
                reason=PROTECTED,
                stances=[
                    s.Count(key=stance.value, count=None, suppressed=True, reason=PROTECTED)
                    for stance in STANCES
                ],
                criteria=[_withheld_figure(criterion) for criterion in criteria],
            )
        return s.GroupSummary(
            **base,
            respondents=shown,
            stances=[
                s.Count(
                    key=stance.value,
                    count=release.count(stances[node].get(stance.value, EMPTY)),
                )
                for stance in STANCES
            ],
            criteria=[
                _figure(criterion, ratings[node][criterion["key"]], release)
                for criterion in criteria
            ],
        )

    groups = [group(node) for node in nodes]
    organisations = await _organisation_statements(session, cid)
    by_kind: list[s.Count] = []
    for kind in ANONYMOUS_KINDS:
        shown_n = release.respondents(respondents.get((kind.value,), EMPTY))
        by_kind.append(
            s.Count(
                key=kind.value,
                count=shown_n,
                suppressed=shown_n is None,
                reason=None if shown_n is not None else PROTECTED,
            )
        )
    by_kind.append(s.Count(key=RespondentKind.ORGANISATION.value, count=len(organisations)))
    comment_rows = await session.execute(
        sa.select(
            FeedbackComment.section, FeedbackComment.body, Feedback.kind, pm.Organisation.name
        )
        .join(Feedback, Feedback.id == FeedbackComment.feedback_id)
        .outerjoin(pm.Organisation, pm.Organisation.id == Feedback.organisation_id)
        .where(
            FeedbackComment.consultation_id == cid,
            FeedbackComment.moderation == ModerationStatus.VISIBLE.value,
        )
        .order_by(FeedbackComment.section.nulls_last(), FeedbackComment.id)
    )
    comments = [
        s.CommentView(section=section, body=body, kind=RespondentKind(kind), organisation=name)
        for section, body, kind, name in comment_rows
    ]
    suppressed_cells = sum(1 for g in groups for c in g.stances if c.suppressed) + sum(
        1 for g in groups for f in g.criteria if f.suppressed
    )
    return s.FeedbackSummary(
        metadata=s.SummaryMetadata(
            measure_id=consultation.measure_id,
            version=consultation.version,
            consultation_id=cid,
            opens_at=consultation.opens_at,
            closes_at=consultation.closes_at,
            k_threshold=release.k,
            min_respondents=release.min_respondents,
            interval_method=INTERVAL_METHOD,
            disclosure_method=DISCLOSURE_METHOD.format(
                alpha=release.ptable.alpha,
                noise=release.ptable.max_noise,
                k=release.k,
                minimum=release.min_respondents,
            ),
            generated_at=common.utcnow(),
            suppressed_cells=suppressed_cells,
            withheld_groups=sum(1 for g in groups if g.withheld),
        ),
        responses_by_kind=by_kind,
        groups=groups,
        organisations=organisations,
        comments=comments,
    )


async def _organisation_statements(
    session: AsyncSession, consultation_id: UUID
) -> list[s.OrganisationStatement]:
    rows = (
        await session.execute(
            sa.select(Feedback, pm.Organisation.name)
            .join(pm.Organisation, pm.Organisation.id == Feedback.organisation_id)
            .where(
                Feedback.consultation_id == consultation_id,
                Feedback.kind == RespondentKind.ORGANISATION.value,
            )
            .order_by(pm.Organisation.name)
        )
    ).all()
    ids = [row.Feedback.id for row in rows]
    ratings: dict[UUID, dict[str, int]] = defaultdict(dict)
    general: dict[UUID, str] = {}
    if ids:
        for rating in await session.scalars(
            sa.select(FeedbackRating).where(FeedbackRating.feedback_id.in_(ids))
        ):
            ratings[rating.feedback_id][rating.criterion] = rating.value
        for comment in await session.scalars(
            sa.select(FeedbackComment).where(
                FeedbackComment.feedback_id.in_(ids),
                FeedbackComment.section.is_(None),
                FeedbackComment.moderation == ModerationStatus.VISIBLE.value,
            )
        ):
            general[comment.feedback_id] = comment.body
    return [
        s.OrganisationStatement(
            organisation=s.OrganisationRef(id=row.Feedback.organisation_id, name=row.name),
            stance=Stance(row.Feedback.stance),
            ratings=ratings[row.Feedback.id],
            general_comment=general.get(row.Feedback.id, ""),
            submitted_at=row.Feedback.created_at,
        )
        for row in rows
    ]


# -- traceability -------------------------------------------------------------------------------


async def traceability(
    session: AsyncSession, process_id: UUID, viewer: common.Viewer
) -> s.Traceability:
    """need (category × area) → the survey figures the goals rest on → goals → measures."""
    await common.process(session, process_id, viewer)
    goal_rows = (
        await session.execute(
            sa.select(Goal.id, GoalVersion)
            .join(
                GoalVersion,
                sa.and_(
                    GoalVersion.goal_id == Goal.id, GoalVersion.version == Goal.current_version
                ),
            )
            .where(Goal.process_id == process_id)
            .order_by(Goal.id)
        )
    ).all()
    measure_rows = (
        await session.execute(
            sa.select(
                Measure.id,
                Measure.status,
                MeasureVersion.title,
                MeasureVersion.goal_ids,
                MeasureVersion.translations,
            )
            .join(
                MeasureVersion,
                sa.and_(
                    MeasureVersion.measure_id == Measure.id,
                    MeasureVersion.version == Measure.current_version,
                ),
            )
            .where(Measure.process_id == process_id)
            .order_by(Measure.id)
        )
    ).all()
    measures_of: dict[UUID, list[s.TraceMeasure]] = defaultdict(list)
    for measure_id, status, title, goal_ids, translations in measure_rows:
        if status == MeasureStatus.DRAFT.value and not viewer.privileged:
            continue
        for goal_id in goal_ids:
            measures_of[goal_id].append(
                s.TraceMeasure(
                    id=measure_id,
                    title=title,
                    status=MeasureStatus(status),
                    translations=shared_translations.as_struct(translations, s.MeasureTranslations),
                )
            )
    versions = [row.GoalVersion for row in goal_rows]
    categories = await common.categories_by_id(
        session, {c for v in versions for c in v.need_category_ids}
    )
    areas = await common.areas_by_id(session, {a for v in versions for a in v.area_ids})
    needs: dict[tuple[UUID, UUID | None], list[s.TraceGoal]] = defaultdict(list)
    for version in versions:
        figures = [
            msgspec.convert(e["figure"], s.FigureSnapshot)
            for e in version.evidence
            if e.get("kind") == "survey_figure" and e.get("figure")
        ]
        trace = s.TraceGoal(
            id=version.goal_id,
            statement=version.statement,
            figures=figures,
            measures=measures_of.get(version.goal_id, []),
            translations=shared_translations.as_struct(version.translations, s.GoalTranslations),
        )
        for category_id in version.need_category_ids:
            for area_id in version.area_ids or [None]:
                needs[(category_id, area_id)].append(trace)
    return s.Traceability(
        process_id=process_id,
        needs=[
            s.TraceNeed(
                need_category=categories[category_id],
                area=areas.get(area_id) if area_id else None,
                goals=goals,
            )
            for (category_id, area_id), goals in needs.items()
            if category_id in categories
        ],
    )
