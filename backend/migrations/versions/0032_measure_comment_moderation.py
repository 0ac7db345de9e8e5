"""measure feedback comments: moderated like idea comments (issue #10).

A moderator hides a comment with a reason or restores it; the last step's reason, who took it
and when stay on the comment. A hidden comment must have its reason.

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

TABLE = "measure_feedback_comments"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("hidden_reason", sa.String(length=500), nullable=True))
    op.add_column(TABLE, sa.Column("moderated_by", sa.String(length=200), nullable=True))
    op.add_column(TABLE, sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=True))
    # Comments hidden before moderation was an operation carry a reason that says so.
    op.execute(
        "UPDATE measure_feedback_comments SET hidden_reason = 'hidden before 0032' "
        "WHERE moderation = 'hidden' AND hidden_reason IS NULL"
    )
    op.create_check_constraint(
        op.f("ck_measure_feedback_comments_hidden_has_reason"),
        TABLE,
        "moderation <> 'hidden' OR hidden_reason IS NOT NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_measure_feedback_comments_hidden_has_reason"), TABLE, type_="check")
    op.drop_column(TABLE, "moderated_at")
    op.drop_column(TABLE, "moderated_by")
    op.drop_column(TABLE, "hidden_reason")
