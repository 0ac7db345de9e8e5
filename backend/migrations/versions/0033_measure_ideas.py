"""measure versions: the accepted ideas that led to the measure (issue #10).

Each version lists the ideas planners accepted that it takes up; an idea's page finds the
measures it led to through the GIN index.

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "measure_versions",
        sa.Column(
            "idea_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
    )
    op.create_index(
        op.f("ix_measure_versions_idea_ids"),
        "measure_versions",
        ["idea_ids"],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_measure_versions_idea_ids"), table_name="measure_versions")
    op.drop_column("measure_versions", "idea_ids")
