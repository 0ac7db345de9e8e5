"""measure decisions: the council's decision recorded with a measure's adoption — the deciding
body, its reference (Drucksache / Beschluss-Nr.) and the date (issue #10 §4).

Revision ID: 0021
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "measure_transitions", sa.Column("decision_body", sa.String(length=200), nullable=True)
    )
    op.add_column(
        "measure_transitions",
        sa.Column("decision_reference", sa.String(length=100), nullable=True),
    )
    op.add_column("measure_transitions", sa.Column("decided_on", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("measure_transitions", "decided_on")
    op.drop_column("measure_transitions", "decision_reference")
    op.drop_column("measure_transitions", "decision_body")
