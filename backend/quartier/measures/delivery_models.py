"""Delivery and evaluation of measures (issue #11 §3).

* `measure_delivery_reports`: one report per period of a measure in delivery, entered for its
  provider: outputs (named kinds with counts), reach (participants, by target group where
  known — aggregate counts, never people), spend in EUR per planned resource line, the actual
  values of the criteria of success (by their position in the measure's criteria), a note.
  Periods of one measure do not overlap (checked under the measure's row lock).
* `measure_assessments`: the planners' assessment (continue, adapt, end) with reasons; every
  assessment is a row of its own, the latest is the current one (history kept).
* `measure_evaluation_surveys`: surveys linked to a measure as its evaluation surveys; their
  figures are only ever shown through the surveys' protected results.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from quartier.db import Base


class Decision(enum.StrEnum):
    CONTINUE = "continue"
    ADAPT = "adapt"
    END = "end"


class DeliveryReport(Base):
    __tablename__ = "measure_delivery_reports"
    __table_args__ = (
        sa.CheckConstraint("period_end >= period_start", name="period_ordered"),
        sa.CheckConstraint("participants >= 0", name="participants_not_negative"),
        sa.Index("ix_measure_delivery_reports_measure", "measure_id", "period_start"),
    )

    measure_id: Mapped[UUID] = mapped_column(sa.ForeignKey("measures.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    outputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    participants: Mapped[int] = mapped_column(sa.Integer)
    reach: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    spend: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    actor_kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[UUID | None] = mapped_column(sa.Uuid)
    actor_name: Mapped[str] = mapped_column(sa.String(200))


class Assessment(Base):
    __tablename__ = "measure_assessments"
    __table_args__ = (
        sa.CheckConstraint(
            "decision IN (" + ", ".join(f"'{d.value}'" for d in Decision) + ")",
            name="decision_known",
        ),
        sa.Index("ix_measure_assessments_measure", "measure_id", "id"),
    )

    measure_id: Mapped[UUID] = mapped_column(sa.ForeignKey("measures.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(sa.String(16))
    reasons: Mapped[str] = mapped_column(sa.Text)
    actor_kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[UUID | None] = mapped_column(sa.Uuid)
    actor_name: Mapped[str] = mapped_column(sa.String(200))


class EvaluationSurvey(Base):
    __tablename__ = "measure_evaluation_surveys"
    __table_args__ = (
        sa.UniqueConstraint("measure_id", "survey_id", name="uq_measure_evaluation_surveys"),
    )

    measure_id: Mapped[UUID] = mapped_column(sa.ForeignKey("measures.id", ondelete="CASCADE"))
    survey_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
