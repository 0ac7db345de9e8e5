"""measure feedback comments: pre-moderation like idea comments (issue #10).

A comment starts `pending` when the process pre-moderates (its ideas settings); a moderator
publishes or hides it. A partial index finds the comments waiting for moderators. Downgrading
hides the comments still pending (with a reason saying so) rather than publishing them.

Revision ID: 0034
Revises: 0033
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

TABLE = "measure_feedback_comments"
CHECK = "ck_measure_feedback_comments_moderation_known"
INDEX = "ix_measure_feedback_comments_pending"


def upgrade() -> None:
    op.drop_constraint(op.f(CHECK), TABLE, type_="check")
    op.create_check_constraint(op.f(CHECK), TABLE, "moderation IN ('pending', 'visible', 'hidden')")
    op.create_index(
        INDEX, TABLE, ["consultation_id"], postgresql_where=sa.text("moderation = 'pending'")
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name=TABLE, postgresql_where=sa.text("moderation = 'pending'"))
    op.execute(
        "UPDATE measure_feedback_comments SET moderation = 'hidden', "
        "hidden_reason = 'pending at the downgrade of 0034' WHERE moderation = 'pending'"
    )
    op.drop_constraint(op.f(CHECK), TABLE, type_="check")
    op.create_check_constraint(op.f(CHECK), TABLE, "moderation IN ('visible', 'hidden')")
