"""ideas: neighbourhood ideas, supports, comments with one level of replies, reports, the
moderation log, and per-process ideas settings (pre-moderation, supporters' pseudonym salt).

Revision ID: 0010
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idea_settings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("premoderation", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("pseudonym_salt", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["planning_processes.id"],
            name=op.f("fk_idea_settings_process_id_planning_processes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_settings")),
        sa.UniqueConstraint("process_id", name=op.f("uq_idea_settings_process_id")),
    )
    op.create_table(
        "ideas",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("need_category_id", sa.Uuid(), nullable=False),
        sa.Column(
            "target_groups",
            sa.ARRAY(sa.String(length=60)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("hidden_reason", sa.String(length=500), nullable=True),
        sa.Column("merged_into_id", sa.Uuid(), nullable=True),
        sa.Column("official_status", sa.String(length=16), nullable=True),
        sa.Column("official_answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("support_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("follow_token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("notify_email", sa.String(length=254), nullable=True),
        sa.Column("text_fingerprint", sa.String(length=200), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "official_status IS NULL OR official_status IN "
            "('under_review', 'accepted', 'merged', 'not_pursued', 'implemented')",
            name=op.f("ck_ideas_official_status_known"),
        ),
        sa.CheckConstraint(
            "state <> 'hidden' OR hidden_reason IS NOT NULL",
            name=op.f("ck_ideas_hidden_has_reason"),
        ),
        sa.CheckConstraint(
            "state <> 'merged' OR merged_into_id IS NOT NULL",
            name=op.f("ck_ideas_merged_has_target"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'published', 'hidden', 'merged', 'withdrawn')",
            name=op.f("ck_ideas_state_known"),
        ),
        sa.CheckConstraint("(lon IS NULL) = (lat IS NULL)", name=op.f("ck_ideas_point_complete")),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["social_areas.id"],
            name=op.f("fk_ideas_area_id_social_areas"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["ideas.id"],
            name=op.f("fk_ideas_merged_into_id_ideas"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["need_category_id"],
            ["need_categories.id"],
            name=op.f("fk_ideas_need_category_id_need_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["planning_processes.id"],
            name=op.f("fk_ideas_process_id_planning_processes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ideas")),
        sa.UniqueConstraint("follow_token_hash", name=op.f("uq_ideas_follow_token_hash")),
    )
    op.create_index("ix_ideas_area", "ideas", ["area_id"], unique=False)
    op.create_index(
        "ix_ideas_duplicate_text", "ideas", ["process_id", "text_fingerprint"], unique=False
    )
    op.create_index(
        "ix_ideas_process_state_id", "ideas", ["process_id", "state", "id"], unique=False
    )
    op.create_index(
        "ix_ideas_state_support", "ideas", ["state", "support_count", "id"], unique=False
    )
    op.create_table(
        "idea_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idea_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("hidden_reason", sa.String(length=500), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state <> 'hidden' OR hidden_reason IS NOT NULL",
            name=op.f("ck_idea_comments_hidden_has_reason"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'published', 'hidden')", name=op.f("ck_idea_comments_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["ideas.id"],
            name=op.f("fk_idea_comments_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["idea_comments.id"],
            name=op.f("fk_idea_comments_parent_id_idea_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_comments")),
    )
    op.create_index("ix_idea_comments_idea", "idea_comments", ["idea_id", "id"], unique=False)
    op.create_table(
        "idea_supports",
        sa.Column("idea_id", sa.Uuid(), nullable=False),
        sa.Column("pseudonym", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["ideas.id"],
            name=op.f("fk_idea_supports_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idea_id", "pseudonym", name="pk_idea_supports"),
    )
    op.create_table(
        "idea_moderation_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idea_id", sa.Uuid(), nullable=False),
        sa.Column("comment_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["idea_comments.id"],
            name=op.f("fk_idea_moderation_log_comment_id_idea_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["ideas.id"],
            name=op.f("fk_idea_moderation_log_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_moderation_log")),
    )
    op.create_index("ix_idea_moderation_log_idea", "idea_moderation_log", ["idea_id"], unique=False)
    op.create_table(
        "idea_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idea_id", sa.Uuid(), nullable=False),
        sa.Column("comment_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["idea_comments.id"],
            name=op.f("fk_idea_reports_comment_id_idea_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["ideas.id"],
            name=op.f("fk_idea_reports_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_reports")),
    )
    op.create_index(
        "ix_idea_reports_open",
        "idea_reports",
        ["idea_id"],
        unique=False,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_idea_reports_open",
        table_name="idea_reports",
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.drop_table("idea_reports")
    op.drop_index("ix_idea_moderation_log_idea", table_name="idea_moderation_log")
    op.drop_table("idea_moderation_log")
    op.drop_table("idea_supports")
    op.drop_index("ix_idea_comments_idea", table_name="idea_comments")
    op.drop_table("idea_comments")
    op.drop_index("ix_ideas_state_support", table_name="ideas")
    op.drop_index("ix_ideas_process_state_id", table_name="ideas")
    op.drop_index("ix_ideas_duplicate_text", table_name="ideas")
    op.drop_index("ix_ideas_area", table_name="ideas")
    op.drop_table("ideas")
    op.drop_table("idea_settings")
