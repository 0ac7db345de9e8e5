"""social reports: one per planning process (cycle), with the planners' editorial sections,
the release (who, when) and the report as released (issue #11 §4).

Revision ID: 0020
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    op.create_table(
        "social_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("sections", jsonb, nullable=False),
        sa.Column("level", sa.String(length=40), nullable=True),
        sa.Column("edited_by_name", sa.String(length=200), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by_kind", sa.String(length=16), nullable=True),
        sa.Column("released_by_id", sa.Uuid(), nullable=True),
        sa.Column("released_by_name", sa.String(length=200), nullable=True),
        sa.Column("released_content", jsonb, nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "released_at IS NULL OR (released_content IS NOT NULL AND released_by_kind IS NOT "
            "NULL AND released_by_name IS NOT NULL)",
            name=op.f("ck_social_reports_release_recorded"),
        ),
        sa.CheckConstraint(
            "released_by_kind IS NULL OR released_by_kind IN ('staff', 'token', 'system')",
            name=op.f("ck_social_reports_released_by_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["planning_processes.id"],
            name=op.f("fk_social_reports_process_id_planning_processes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_reports")),
        sa.UniqueConstraint("process_id", name="uq_social_reports_process"),
    )


def downgrade() -> None:
    op.drop_table("social_reports")
