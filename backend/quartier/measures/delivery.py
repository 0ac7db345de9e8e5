"""Delivery and evaluation of measures (issue #11 §3): what a measure's provider reports per
period, and what planners make of it.

Delivery reports: a measure that is `in_delivery` records one report per period (periods of a
measure never overlap): outputs (named kinds with counts), reach (participants, by the
measure's target groups where known — counts entered by the provider, never people), EUR spent
per planned resource line, and the actual values of the criteria of success. Criteria and
resource lines are referred to by position in the measure's current version, which cannot
change after adoption.

Evaluation: per criterion the target against the values over the periods with the trend
(latest against the one before) and whether the target is met; efficiency (EUR per
participant and per output of each kind, spend against the plan pro rata over the reported
days); the linked evaluation surveys' results, only as the surveys' protected results
(`surveys.services.results_by_question`, disclosure-controlled by `stats.cellkey`); and the
planners' assessments (continue, adapt, end) with reasons — every one kept, the latest first.

Who enters reports: Quartier has no accounts for organisations' staff (roles are admin,
planner, moderator), so planners enter them, and API tokens with `delivery:write` (a token
given to a provider's system) may. A token is not tied to an organisation, so "providers'
staff for their own measures only" is not enforced yet.

Public: once an assessment is recorded, the evaluation is public in a reduced form — criteria,
totals and efficiency, and the assessments without staff names; reach by target group and the
survey results stay with staff (survey results are not public anywhere in Quartier).
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import i18n
from quartier.core.errors import Conflict, FieldError, Forbidden, InvalidInput
from quartier.measures import common, services
from quartier.measures import delivery_schemas as ds
from quartier.measures import schemas as s
from quartier.measures.delivery_models import (
    Assessment,
    Decision,
    DeliveryReport,
    EvaluationSurvey,
)
from quartier.measures.models import Measure, MeasureStatus
from quartier.processes.services import Actor
from quartier.surveys import services as survey_services
from quartier.surveys.models import Survey

REPORTING = frozenset({MeasureStatus.IN_DELIVERY})
ASSESSABLE = frozenset({MeasureStatus.IN_DELIVERY, MeasureStatus.EVALUATED})
DAYS_PER_YEAR = 365
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def first_number(text: str) -> float | None:
    """`"120 pro Jahr"` → 120.0, `"2,5 %"` → 2.5; None without a number."""
    match = _NUMBER.search(text or "")
    return float(match.group(0).replace(",", ".")) if match else None


def _error(field: str, message: str) -> FieldError:
    return FieldError(field=field, source="body", message=message)


async def _content(session: AsyncSession, measure: Measure) -> s.MeasureVersion:
    row = await services.load_version(session, measure.id, measure.current_version)
    return await services.version_view(session, row)


# -- delivery reports ----------------------------------------------------------------------------


def _check_report(data: ds.DeliveryReportInput, content: s.MeasureVersion) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.period_end < data.period_start:
        errors.append(_error("period_end", "must not lie before period_start"))
    if data.period_end > common.utcnow().date():
        errors.append(_error("period_end", "lies in the future; report periods that are over"))
    kinds = [o.kind.strip().casefold() for o in data.outputs]
    for index, kind in enumerate(kinds):
        if kind in kinds[:index]:
            errors.append(_error(f"outputs[{index}].kind", "the same kind twice"))
    groups = list(content.target_groups)
    seen: list[str] = []
    for index, line in enumerate(data.reach):
        if line.target_group not in groups:
            errors.append(
                _error(f"reach[{index}].target_group", "not a target group of the measure")
            )
        elif line.target_group in seen:
            errors.append(_error(f"reach[{index}].target_group", "the same group twice"))
        seen.append(line.target_group)
    if sum(line.count for line in data.reach) > data.participants:
        errors.append(_error("reach", "counts more people than participants"))
    resources: list[int] = []
    for index, spend in enumerate(data.spend):
        if spend.resource >= len(content.resources):
            errors.append(_error(f"spend[{index}].resource", "no such resource line"))
        elif spend.resource in resources:
            errors.append(_error(f"spend[{index}].resource", "the same resource line twice"))
        resources.append(spend.resource)
    criteria: list[int] = []
    for index, value in enumerate(data.criteria):
        if value.criterion >= len(content.criteria):
            errors.append(_error(f"criteria[{index}].criterion", "unknown criterion"))
        elif value.criterion in criteria:
            errors.append(_error(f"criteria[{index}].criterion", "the same criterion twice"))
        criteria.append(value.criterion)
    return errors


async def create_report(
    session: AsyncSession, measure_id: UUID, data: ds.DeliveryReportInput, actor: Actor
) -> ds.DeliveryReport:
    """Store a period's report of a measure in delivery (409 `measure-not-in-delivery`);
    422 names each field the measure refuses, including a period that overlaps another."""
    measure = await services.load_measure(session, measure_id, lock=True)
    await common.process(session, measure.process_id, common.STAFF_VIEWER, writable=True)
    if MeasureStatus(measure.status) not in REPORTING:
        raise Conflict(
            f"Delivery reports are recorded while a measure is in delivery; this one is "
            f"{measure.status}.",
            slug="measure-not-in-delivery",
            title="Not in delivery",
        )
    content = await _content(session, measure)
    errors = _check_report(data, content)
    if not errors:
        overlapping = await session.scalar(
            sa.select(DeliveryReport)
            .where(
                DeliveryReport.measure_id == measure_id,
                DeliveryReport.period_start <= data.period_end,
                DeliveryReport.period_end >= data.period_start,
            )
            .limit(1)
        )
        if overlapping is not None:
            errors.append(
                _error(
                    "period_start",
                    f"the period overlaps the report for {overlapping.period_start.isoformat()}"
                    f" – {overlapping.period_end.isoformat()}",
                )
            )
    if errors:
        raise InvalidInput("The delivery report is not valid for this measure.", errors=errors)
    report = DeliveryReport(
        measure_id=measure_id,
        period_start=data.period_start,
        period_end=data.period_end,
        outputs=[{"kind": o.kind.strip(), "count": o.count} for o in data.outputs],
        participants=data.participants,
        reach=msgspec.to_builtins(data.reach),
        spend=msgspec.to_builtins(data.spend),
        criteria=msgspec.to_builtins(data.criteria),
        note=data.note,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_name=actor.name,
    )
    session.add(report)
    await session.flush()
    return _report_view(report, content)


def _report_view(report: DeliveryReport, content: s.MeasureVersion) -> ds.DeliveryReport:
    def resource_label(index: int) -> str:
        return content.resources[index].label if index < len(content.resources) else "?"

    def indicator(index: int) -> str:
        return content.criteria[index].indicator if index < len(content.criteria) else "?"

    spend = [
        ds.SpendView(
            resource=line["resource"], label=resource_label(line["resource"]), amount=line["amount"]
        )
        for line in report.spend
    ]
    return ds.DeliveryReport(
        id=report.id,
        measure_id=report.measure_id,
        period_start=report.period_start,
        period_end=report.period_end,
        outputs=msgspec.convert(report.outputs, list[ds.OutputCount]),
        participants=report.participants,
        reach=msgspec.convert(report.reach, list[ds.ReachCount]),
        spend=spend,
        total_spend=round(sum(line.amount for line in spend), 2),
        criteria=[
            ds.CriterionValueView(
                criterion=value["criterion"],
                indicator=indicator(value["criterion"]),
                value=value["value"],
                note=value.get("note", ""),
            )
            for value in report.criteria
        ],
        note=report.note,
        entered_by=report.actor_name,
        created_at=report.created_at,
    )


async def list_reports(session: AsyncSession, measure_id: UUID) -> list[ds.DeliveryReport]:
    """Every report of the measure, oldest period first."""
    measure = await services.visible_measure(session, measure_id, common.STAFF_VIEWER)
    content = await _content(session, measure)
    rows = await session.scalars(
        sa.select(DeliveryReport)
        .where(DeliveryReport.measure_id == measure_id)
        .order_by(DeliveryReport.period_start)
    )
    return [_report_view(row, content) for row in rows]


# -- evaluation ----------------------------------------------------------------------------------


def _trend(values: list[float]) -> ds.Trend | None:
    if len(values) < 2:
        return None
    change = values[-1] - values[-2]
    if abs(change) < 1e-9:
        return "steady"
    return "rising" if change > 0 else "falling"


def criterion_evaluation(
    index: int, criterion: s.Criterion, values: list[ds.PeriodValue]
) -> ds.CriterionEvaluation:
    target = first_number(criterion.target)
    baseline = first_number(criterion.baseline)
    direction: Any = (
        "lower" if target is not None and baseline is not None and target < baseline else "higher"
    )
    latest = values[-1].value if values else None
    attainment: ds.Attainment = "unknown"
    progress = None
    if target is not None and latest is not None:
        met = latest >= target if direction == "higher" else latest <= target
        attainment = "met" if met else "not_met"
        if baseline is not None and target != baseline:
            progress = round((latest - baseline) / (target - baseline), 4)
        elif baseline is None and target != 0:
            progress = round(latest / target, 4)
    return ds.CriterionEvaluation(
        criterion=index,
        indicator=criterion.indicator,
        baseline=criterion.baseline,
        target=criterion.target,
        due=criterion.due,
        target_value=target,
        direction=direction,
        values=values,
        latest=latest,
        trend=_trend([v.value for v in values]),
        attainment=attainment,
        progress=progress,
    )


def planned_eur(line: s.ResourceLine, days: int, periods: int) -> float | None:
    """A EUR line's plan over `days` reported days (once: the whole amount once reported)."""
    if line.unit != "eur":
        return None
    if periods == 0:
        return 0.0
    per_day = {
        "per_year": line.amount / DAYS_PER_YEAR,
        "per_month": line.amount * 12 / DAYS_PER_YEAR,
        "per_week": line.amount / 7,
    }
    if line.period == "once":
        return round(line.amount, 2)
    return round(per_day[line.period] * days, 2)


def _elements(column: Any, alias: str) -> Any:
    return sa.func.jsonb_array_elements(column).table_valued(sa.column("value", JSONB)).alias(alias)


async def _efficiency(
    session: AsyncSession, measure_id: UUID, content: s.MeasureVersion, *, public: bool
) -> ds.Efficiency:
    where = DeliveryReport.measure_id == measure_id
    totals = (
        await session.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(DeliveryReport.participants), 0),
                sa.func.coalesce(
                    sa.func.sum(
                        sa.type_coerce(
                            DeliveryReport.period_end - DeliveryReport.period_start, sa.Integer
                        )
                        + 1
                    ),
                    0,
                ),
            ).where(where)
        )
    ).one()
    periods, participants, days = int(totals[0]), int(totals[1]), int(totals[2])
    element = _elements(DeliveryReport.outputs, "output")
    output_rows = (
        await session.execute(
            sa.select(
                element.c.value["kind"].astext.label("kind"),
                sa.func.sum(element.c.value["count"].astext.cast(sa.Integer)).label("n"),
            )
            .select_from(DeliveryReport)
            .join(element, sa.true())
            .where(where)
            .group_by(sa.text("1"))
            .order_by(sa.text("1"))
        )
    ).all()
    element = _elements(DeliveryReport.spend, "spend")
    spend_rows: dict[int, Any] = dict(
        (
            await session.execute(
                sa.select(
                    element.c.value["resource"].astext.cast(sa.Integer),
                    sa.func.sum(element.c.value["amount"].astext.cast(sa.Numeric)),
                )
                .select_from(DeliveryReport)
                .join(element, sa.true())
                .where(where)
                .group_by(sa.text("1"))
            )
        )
        .tuples()
        .all()
    )
    reach: list[ds.ReachCount] = []
    if not public:
        element = _elements(DeliveryReport.reach, "reach")
        reach = [
            ds.ReachCount(target_group=row[0], count=int(row[1]))
            for row in await session.execute(
                sa.select(
                    element.c.value["target_group"].astext,
                    sa.func.sum(element.c.value["count"].astext.cast(sa.Integer)),
                )
                .select_from(DeliveryReport)
                .join(element, sa.true())
                .where(where)
                .group_by(sa.text("1"))
                .order_by(sa.text("1"))
            )
        ]
    total_spend = round(float(sum(spend_rows.values(), 0)), 2)
    resources = [
        ds.ResourceEvaluation(
            resource=index,
            label=line.label,
            unit=line.unit,
            period=line.period,
            planned_amount=line.amount,
            planned_eur=planned_eur(line, days, periods),
            spent_eur=round(float(spend_rows.get(index, 0)), 2),
        )
        for index, line in enumerate(content.resources)
    ]
    return ds.Efficiency(
        periods=periods,
        days=days,
        total_spend=total_spend,
        planned_eur=round(sum(r.planned_eur or 0 for r in resources), 2),
        participants=participants,
        cost_per_participant=round(total_spend / participants, 2) if participants else None,
        outputs=[
            ds.OutputEfficiency(
                kind=row.kind,
                count=int(row.n),
                cost_per_output=round(total_spend / int(row.n), 2) if row.n else None,
            )
            for row in output_rows
        ],
        resources=resources,
        reach=reach,
    )


async def _criteria(
    session: AsyncSession, measure_id: UUID, content: s.MeasureVersion
) -> list[ds.CriterionEvaluation]:
    element = _elements(DeliveryReport.criteria, "criterion")
    rows = await session.execute(
        sa.select(
            DeliveryReport.period_start,
            DeliveryReport.period_end,
            element.c.value["criterion"].astext.cast(sa.Integer).label("criterion"),
            element.c.value["value"].astext.cast(sa.Float).label("value"),
        )
        .select_from(DeliveryReport)
        .join(element, sa.true())
        .where(DeliveryReport.measure_id == measure_id)
        .order_by(DeliveryReport.period_start)
    )
    values: dict[int, list[ds.PeriodValue]] = {}
    for row in rows:
        values.setdefault(row.criterion, []).append(
            ds.PeriodValue(
                period_start=row.period_start, period_end=row.period_end, value=row.value
            )
        )
    return [
        criterion_evaluation(index, criterion, values.get(index, []))
        for index, criterion in enumerate(content.criteria)
    ]


def _assessment_view(row: Assessment, *, public: bool) -> ds.AssessmentView:
    return ds.AssessmentView(
        id=row.id,
        decision=Decision(row.decision),
        reasons=row.reasons,
        assessed_by=None if public else row.actor_name,
        at=row.created_at,
    )


async def _assessments(session: AsyncSession, measure_id: UUID) -> list[Assessment]:
    return list(
        await session.scalars(
            sa.select(Assessment)
            .where(Assessment.measure_id == measure_id)
            .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        )
    )


async def evaluation_surveys(session: AsyncSession, measure_id: UUID) -> list[ds.EvaluationSurvey]:
    surveys = await session.scalars(
        sa.select(Survey)
        .join(EvaluationSurvey, EvaluationSurvey.survey_id == Survey.id)
        .where(EvaluationSurvey.measure_id == measure_id)
        .order_by(EvaluationSurvey.created_at, EvaluationSurvey.id)
    )
    return [
        ds.EvaluationSurvey(
            survey_id=survey.id,
            title=i18n.pick(survey.title),
            status=survey.status,
            results=await survey_services.results_by_question(session, survey.id),
        )
        for survey in list(surveys)
    ]


async def evaluation(
    session: AsyncSession, measure_id: UUID, viewer: common.Viewer
) -> ds.Evaluation:
    """The evaluation of a measure. Staff and tokens that read measures see everything; the
    public sees the reduced view once an assessment is recorded (403 before)."""
    measure = await services.visible_measure(session, measure_id, viewer)
    assessments = await _assessments(session, measure_id)
    public = not viewer.privileged
    if public and not assessments:
        raise Forbidden("The evaluation of this measure is not published yet.")
    content = await _content(session, measure)
    history = [_assessment_view(row, public=public) for row in assessments]
    return ds.Evaluation(
        measure_id=measure.id,
        status=MeasureStatus(measure.status),
        public=public,
        criteria=await _criteria(session, measure_id, content),
        efficiency=await _efficiency(session, measure_id, content, public=public),
        surveys=[] if public else await evaluation_surveys(session, measure_id),
        assessment=history[0] if history else None,
        history=history,
    )


async def public_evaluation(session: AsyncSession, measure_id: UUID) -> ds.Evaluation | None:
    """The public view for the measure's page, or None while nothing is assessed."""
    if not await session.scalar(sa.select(sa.exists().where(Assessment.measure_id == measure_id))):
        return None
    return await evaluation(session, measure_id, common.PUBLIC)


async def record_assessment(
    session: AsyncSession, measure_id: UUID, data: ds.AssessmentInput, actor: Actor
) -> ds.AssessmentView:
    """A new assessment (earlier ones stay in the history); for measures in delivery or
    evaluated (409 `measure-not-assessable` otherwise)."""
    measure = await services.load_measure(session, measure_id, lock=True)
    await common.process(session, measure.process_id, common.STAFF_VIEWER, writable=True)
    if MeasureStatus(measure.status) not in ASSESSABLE:
        raise Conflict(
            f"A measure is assessed in delivery or once evaluated; this one is {measure.status}.",
            slug="measure-not-assessable",
            title="Not possible in this state",
        )
    row = Assessment(
        measure_id=measure_id,
        decision=data.decision.value,
        reasons=data.reasons.strip(),
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_name=actor.name,
    )
    session.add(row)
    await session.flush()
    return _assessment_view(row, public=False)


async def link_survey(session: AsyncSession, measure_id: UUID, survey_id: UUID) -> None:
    """Link a survey of the measure's process as an evaluation survey (again: no change)."""
    measure = await services.load_measure(session, measure_id, lock=True)
    await common.process(session, measure.process_id, common.STAFF_VIEWER, writable=True)
    survey = await session.get(Survey, survey_id)
    if survey is None or survey.process_id != measure.process_id:
        raise InvalidInput(
            f"No survey {survey_id} in the measure's planning process.",
            errors=[
                FieldError(field="survey_id", source="path", message="no survey of this process")
            ],
        )
    exists = await session.scalar(
        sa.select(
            sa.exists().where(
                EvaluationSurvey.measure_id == measure_id,
                EvaluationSurvey.survey_id == survey_id,
            )
        )
    )
    if not exists:
        session.add(EvaluationSurvey(measure_id=measure_id, survey_id=survey_id))
        await session.flush()


async def unlink_survey(session: AsyncSession, measure_id: UUID, survey_id: UUID) -> None:
    measure = await services.load_measure(session, measure_id, lock=True)
    await common.process(session, measure.process_id, common.STAFF_VIEWER, writable=True)
    await session.execute(
        sa.delete(EvaluationSurvey).where(
            EvaluationSurvey.measure_id == measure_id, EvaluationSurvey.survey_id == survey_id
        )
    )
