"""Request and response bodies of delivery reports, evaluation and assessments (msgspec).

Inputs forbid unknown fields and bound every string, number and list. Criteria and resource
lines are referred to by their position in the measure's current version (content cannot
change once a measure is adopted, so the positions stay put during delivery).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta, Struct, field

from quartier.measures.delivery_models import Decision
from quartier.measures.models import MeasureStatus
from quartier.surveys.schemas import SurveyResults

Count = Annotated[int, Meta(ge=0, le=10_000_000)]
Euro = Annotated[float, Meta(ge=0, le=1_000_000_000, description="EUR")]
Position = Annotated[int, Meta(ge=0, le=49, description="Position (from 0) in the measure")]
Label = Annotated[str, Meta(min_length=1, max_length=200)]
Reasons = Annotated[str, Meta(min_length=1, max_length=4_000)]


class OutputCount(Struct, kw_only=True, forbid_unknown_fields=True):
    """A kind of output and how many were delivered, e.g. `sessions held: 12`."""

    kind: Label
    count: Count


class ReachCount(Struct, kw_only=True, forbid_unknown_fields=True):
    """Participants of one of the measure's target groups (an aggregate count)."""

    target_group: Label
    count: Count


class SpendLine(Struct, kw_only=True, forbid_unknown_fields=True):
    """EUR spent in the period on one of the measure's planned resource lines."""

    resource: Position
    amount: Euro


class CriterionValue(Struct, kw_only=True, forbid_unknown_fields=True):
    """The actual value of a criterion of success in the period."""

    criterion: Position
    value: Annotated[float, Meta(ge=-1_000_000_000, le=1_000_000_000)]
    note: Annotated[str, Meta(max_length=500)] = ""


class DeliveryReportInput(Struct, kw_only=True, forbid_unknown_fields=True):
    """A period's report from the measure's provider. Periods of a measure may not overlap."""

    period_start: date
    period_end: date
    outputs: Annotated[list[OutputCount], Meta(max_length=20)] = field(default_factory=list)
    participants: Annotated[Count, Meta(description="People reached in the period (a count)")] = 0
    reach: Annotated[list[ReachCount], Meta(max_length=30)] = field(default_factory=list)
    spend: Annotated[list[SpendLine], Meta(max_length=50)] = field(default_factory=list)
    criteria: Annotated[list[CriterionValue], Meta(max_length=30)] = field(default_factory=list)
    note: Annotated[str, Meta(max_length=4_000)] = ""


class SpendView(Struct, kw_only=True):
    resource: int
    label: str
    amount: float


class CriterionValueView(Struct, kw_only=True):
    criterion: int
    indicator: str
    value: float
    note: str


class DeliveryReport(Struct, kw_only=True):
    id: UUID
    measure_id: UUID
    period_start: date
    period_end: date
    outputs: list[OutputCount]
    participants: int
    reach: list[ReachCount]
    spend: list[SpendView]
    total_spend: Annotated[float, Meta(description="EUR, the sum of the spend lines")]
    criteria: list[CriterionValueView]
    note: str
    entered_by: str
    created_at: datetime


# -- evaluation -----------------------------------------------------------------------------------

Trend = Literal["rising", "falling", "steady"]
Attainment = Literal["met", "not_met", "unknown"]


class PeriodValue(Struct, kw_only=True):
    period_start: date
    period_end: date
    value: float


class CriterionEvaluation(Struct, kw_only=True):
    """Target vs actual for one criterion of success."""

    criterion: int
    indicator: str
    baseline: str
    target: str
    due: date | None
    target_value: Annotated[
        float | None, Meta(description="The first number in `target`, if there is one")
    ]
    direction: Annotated[
        Literal["higher", "lower"],
        Meta(description="lower when the target lies below the baseline, else higher"),
    ]
    values: Annotated[list[PeriodValue], Meta(description="One per reported period, oldest first")]
    latest: float | None
    trend: Annotated[Trend | None, Meta(description="The latest value against the one before")]
    attainment: Attainment
    progress: Annotated[
        float | None,
        Meta(description="(latest − baseline) / (target − baseline), or latest / target"),
    ]


class ResourceEvaluation(Struct, kw_only=True):
    resource: int
    label: str
    unit: str
    period: str
    planned_amount: Annotated[float, Meta(description="As planned, in the line's unit")]
    planned_eur: Annotated[
        float | None,
        Meta(description="EUR lines: the plan pro rata over the reported periods"),
    ]
    spent_eur: float


class OutputEfficiency(Struct, kw_only=True):
    kind: str
    count: int
    cost_per_output: Annotated[float | None, Meta(description="EUR; null without outputs")]


class Efficiency(Struct, kw_only=True):
    periods: int
    days: Annotated[int, Meta(description="Days covered by the reports")]
    total_spend: float
    planned_eur: Annotated[float, Meta(description="EUR lines pro rata over the reported days")]
    participants: int
    cost_per_participant: Annotated[float | None, Meta(description="EUR; null without any")]
    outputs: list[OutputEfficiency]
    resources: list[ResourceEvaluation]
    reach: Annotated[
        list[ReachCount], Meta(description="Participants per target group, over all periods")
    ]


class AssessmentInput(Struct, kw_only=True, forbid_unknown_fields=True):
    decision: Decision
    reasons: Reasons


class AssessmentView(Struct, kw_only=True):
    id: UUID
    decision: Decision
    reasons: str
    assessed_by: Annotated[str | None, Meta(description="Staff name; null in the public view")]
    at: datetime


class EvaluationSurveyInput(Struct, kw_only=True, forbid_unknown_fields=True):
    survey_id: UUID


class EvaluationSurvey(Struct, kw_only=True):
    survey_id: UUID
    title: str
    status: str
    results: Annotated[
        SurveyResults | None,
        Meta(description="The survey's protected results (all respondents); staff only"),
    ]


class Evaluation(Struct, kw_only=True):
    """Target vs actual per criterion with the trend, efficiency, the linked evaluation
    surveys' protected results and the planners' assessments (latest first)."""

    measure_id: UUID
    status: MeasureStatus
    public: Annotated[bool, Meta(description="The reduced view the public sees")]
    criteria: list[CriterionEvaluation]
    efficiency: Efficiency
    surveys: list[EvaluationSurvey]
    assessment: AssessmentView | None
    history: list[AssessmentView]
