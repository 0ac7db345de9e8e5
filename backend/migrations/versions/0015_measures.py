"""measures: goals and their versions, draft measures with versions and lifecycle transitions,
consultations on a measure version, organisations' consultation codes, and structured
feedback (ratings and comments in rows of their own, for counting in SQL).

Revision ID: 0015
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None

_STATUSES = (
    "'draft', 'in_consultation', 'revised', 'adopted', 'resourced', 'in_delivery', "
    "'evaluated', 'withdrawn'"
)


def upgrade() -> None:
    op.create_table(
        "goals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("current_version >= 1", name=op.f("ck_goals_version_positive")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["goals.id"], name=op.f("fk_goals_parent_id_goals"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["planning_processes.id"],
            name=op.f("fk_goals_process_id_planning_processes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
    )
    op.create_index(op.f("ix_goals_parent_id"), "goals", ["parent_id"], unique=False)
    op.create_index("ix_goals_process", "goals", ["process_id", "id"], unique=False)
    op.create_table(
        "measures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            f"status IN ({_STATUSES})",
            name=op.f("ck_measures_status_known"),
        ),
        sa.CheckConstraint("current_version >= 1", name=op.f("ck_measures_version_positive")),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["planning_processes.id"],
            name=op.f("fk_measures_process_id_planning_processes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measures")),
    )
    op.create_index("ix_measures_process", "measures", ["process_id", "id"], unique=False)
    op.create_table(
        "goal_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("need_category_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("area_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("target_groups", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["goals.id"],
            name=op.f("fk_goal_versions_goal_id_goals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_versions")),
        sa.UniqueConstraint("goal_id", "version", name="uq_goal_versions_goal_version"),
    )
    op.create_table(
        "measure_consultations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("measure_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("summary_public", sa.Boolean(), nullable=False),
        sa.Column("k_threshold", sa.SmallInteger(), nullable=False),
        sa.Column("min_respondents", sa.SmallInteger(), nullable=False),
        sa.Column("pseudonym_salt", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "closes_at > opens_at", name=op.f("ck_measure_consultations_window_ordered")
        ),
        sa.CheckConstraint("k_threshold >= 3", name=op.f("ck_measure_consultations_k_at_least_3")),
        sa.CheckConstraint(
            "min_respondents >= k_threshold",
            name=op.f("ck_measure_consultations_min_respondents_at_least_k"),
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measures.id"],
            name=op.f("fk_measure_consultations_measure_id_measures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_consultations")),
        sa.UniqueConstraint("measure_id", "version", name="uq_measure_consultations_version"),
    )
    op.create_table(
        "measure_transitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("measure_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            f"to_status IN ({_STATUSES})",
            name=op.f("ck_measure_transitions_to_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measures.id"],
            name=op.f("fk_measure_transitions_measure_id_measures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_transitions")),
    )
    op.create_index(
        "ix_measure_transitions_measure", "measure_transitions", ["measure_id", "id"], unique=False
    )
    op.create_table(
        "measure_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("measure_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("goal_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("area_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("target_groups", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("resources", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=True),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sections", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measures.id"],
            name=op.f("fk_measure_versions_measure_id_measures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisations.id"],
            name=op.f("fk_measure_versions_provider_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_versions")),
        sa.UniqueConstraint("measure_id", "version", name="uq_measure_versions_measure_version"),
    )
    op.create_table(
        "measure_consultation_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["measure_consultations.id"],
            name=op.f("fk_measure_consultation_codes_consultation_id_measure_consultations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_measure_consultation_codes_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_consultation_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_measure_consultation_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_measure_consultation_codes_consultation_id"),
        "measure_consultation_codes",
        ["consultation_id"],
        unique=False,
    )
    op.create_table(
        "measure_feedback",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("area_id", sa.Uuid(), nullable=True),
        sa.Column("stance", sa.String(length=16), nullable=False),
        sa.Column("pseudonym", sa.LargeBinary(length=32), nullable=True),
        sa.Column("receipt_code", sa.String(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'organisation') = (organisation_id IS NOT NULL)",
            name=op.f("ck_measure_feedback_organisation_named"),
        ),
        sa.CheckConstraint(
            "kind IN ('resident', 'organisation', 'professional')",
            name=op.f("ck_measure_feedback_kind_known"),
        ),
        sa.CheckConstraint(
            "stance IN ('support', 'neutral', 'oppose')",
            name=op.f("ck_measure_feedback_stance_known"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["social_areas.id"],
            name=op.f("fk_measure_feedback_area_id_social_areas"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["measure_consultations.id"],
            name=op.f("fk_measure_feedback_consultation_id_measure_consultations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_measure_feedback_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_feedback")),
        sa.UniqueConstraint("receipt_code", name=op.f("uq_measure_feedback_receipt_code")),
    )
    op.create_index(
        "ix_measure_feedback_consultation",
        "measure_feedback",
        ["consultation_id", "kind", "area_id"],
        unique=False,
    )
    op.create_index(
        "uq_measure_feedback_organisation",
        "measure_feedback",
        ["consultation_id", "organisation_id"],
        unique=True,
        postgresql_where=sa.text("organisation_id IS NOT NULL"),
    )
    op.create_index(
        "uq_measure_feedback_pseudonym",
        "measure_feedback",
        ["consultation_id", "pseudonym"],
        unique=True,
        postgresql_where=sa.text("pseudonym IS NOT NULL"),
    )
    op.create_table(
        "measure_feedback_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("feedback_id", sa.Uuid(), nullable=False),
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("section", sa.String(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("moderation", sa.String(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "moderation IN ('visible', 'hidden')",
            name=op.f("ck_measure_feedback_comments_moderation_known"),
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["measure_feedback.id"],
            name=op.f("fk_measure_feedback_comments_feedback_id_measure_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_feedback_comments")),
    )
    op.create_index(
        "ix_measure_feedback_comments_consultation",
        "measure_feedback_comments",
        ["consultation_id", "section"],
        unique=False,
    )
    op.create_table(
        "measure_feedback_ratings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("feedback_id", sa.Uuid(), nullable=False),
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("criterion", sa.String(length=64), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "value BETWEEN 1 AND 5", name=op.f("ck_measure_feedback_ratings_value_range")
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["measure_feedback.id"],
            name=op.f("fk_measure_feedback_ratings_feedback_id_measure_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_feedback_ratings")),
        sa.UniqueConstraint("feedback_id", "criterion", name="uq_measure_feedback_ratings"),
    )
    op.create_index(
        "ix_measure_feedback_ratings_consultation",
        "measure_feedback_ratings",
        ["consultation_id", "criterion"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_measure_feedback_ratings_consultation", table_name="measure_feedback_ratings")
    op.drop_table("measure_feedback_ratings")
    op.drop_index(
        "ix_measure_feedback_comments_consultation", table_name="measure_feedback_comments"
    )
    op.drop_table("measure_feedback_comments")
    op.drop_index(
        "uq_measure_feedback_pseudonym",
        table_name="measure_feedback",
        postgresql_where=sa.text("pseudonym IS NOT NULL"),
    )
    op.drop_index(
        "uq_measure_feedback_organisation",
        table_name="measure_feedback",
        postgresql_where=sa.text("organisation_id IS NOT NULL"),
    )
    op.drop_index("ix_measure_feedback_consultation", table_name="measure_feedback")
    op.drop_table("measure_feedback")
    op.drop_index(
        op.f("ix_measure_consultation_codes_consultation_id"),
        table_name="measure_consultation_codes",
    )
    op.drop_table("measure_consultation_codes")
    op.drop_table("measure_versions")
    op.drop_index("ix_measure_transitions_measure", table_name="measure_transitions")
    op.drop_table("measure_transitions")
    op.drop_table("measure_consultations")
    op.drop_table("goal_versions")
    op.drop_index("ix_measures_process", table_name="measures")
    op.drop_table("measures")
    op.drop_index("ix_goals_process", table_name="goals")
    op.drop_index(op.f("ix_goals_parent_id"), table_name="goals")
    op.drop_table("goals")
