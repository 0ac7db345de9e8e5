"""measure delivery and evaluation: delivery reports per period, the planners' assessments
(history kept) and the evaluation surveys linked to a measure (issue #11 §3).

Revision ID: 0019
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def _audit() -> list[sa.Column[object]]:
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _actor() -> list[sa.Column[object]]:
    return [
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
    ]


def _measure_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["measure_id"],
        ["measures.id"],
        name=op.f(f"fk_{table}_measure_id_measures"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    op.create_table(
        "measure_delivery_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("measure_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("outputs", jsonb, nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("reach", jsonb, nullable=False),
        sa.Column("spend", jsonb, nullable=False),
        sa.Column("criteria", jsonb, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        *_actor(),
        *_audit(),
        sa.CheckConstraint(
            "period_end >= period_start",
            name=op.f("ck_measure_delivery_reports_period_ordered"),
        ),
        sa.CheckConstraint(
            "participants >= 0",
            name=op.f("ck_measure_delivery_reports_participants_not_negative"),
        ),
        _measure_fk("measure_delivery_reports"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_delivery_reports")),
    )
    op.create_index(
        "ix_measure_delivery_reports_measure",
        "measure_delivery_reports",
        ["measure_id", "period_start"],
        unique=False,
    )
    op.create_table(
        "measure_assessments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("measure_id", sa.Uuid(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        *_actor(),
        *_audit(),
        sa.CheckConstraint(
            "decision IN ('continue', 'adapt', 'end')",
            name=op.f("ck_measure_assessments_decision_known"),
        ),
        _measure_fk("measure_assessments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_assessments")),
    )
    op.create_index(
        "ix_measure_assessments_measure", "measure_assessments", ["measure_id", "id"], unique=False
    )
    op.create_table(
        "measure_evaluation_surveys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("measure_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        *_audit(),
        _measure_fk("measure_evaluation_surveys"),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_measure_evaluation_surveys_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_evaluation_surveys")),
        sa.UniqueConstraint("measure_id", "survey_id", name="uq_measure_evaluation_surveys"),
    )
    op.create_index(
        op.f("ix_measure_evaluation_surveys_survey_id"),
        "measure_evaluation_surveys",
        ["survey_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("measure_evaluation_surveys")
    op.drop_table("measure_assessments")
    op.drop_table("measure_delivery_reports")
