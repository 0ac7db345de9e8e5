"""record keys for ideas, supports and measure feedback: the ideas aggregates and the feedback
summaries are published by the cell key method (quartier.stats.cellkey), like the surveys.

* `ideas.record_key`: a random 32-bit key per idea (one author per idea).
* `idea_supports.record_key`: the key of the **supporting resident** in the process: every
  support row of one pseudonym in one process carries the same key (a new support copies it),
  so that "distinct supporters" cells sum one key per resident.
* `measure_feedback.record_key`: a random 32-bit key per response.

Existing rows get keys from `gen_random_uuid()` (a strong random source), as in 0007.

Revision ID: 0016
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ideas", sa.Column("record_key", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE ideas SET record_key = "
        "('x' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 8))::bit(32)::bigint"
    )
    op.alter_column("ideas", "record_key", nullable=False)

    op.add_column("idea_supports", sa.Column("record_key", sa.BigInteger(), nullable=True))
    op.execute(
        """
        WITH residents AS MATERIALIZED (
            SELECT idea.process_id, support.pseudonym,
                   ('x' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 8))::bit(32)::bigint
                   AS record_key
            FROM idea_supports support JOIN ideas idea ON idea.id = support.idea_id
            GROUP BY idea.process_id, support.pseudonym
        )
        UPDATE idea_supports support SET record_key = residents.record_key
        FROM ideas idea, residents
        WHERE idea.id = support.idea_id AND residents.process_id = idea.process_id
          AND residents.pseudonym = support.pseudonym
        """
    )
    op.alter_column("idea_supports", "record_key", nullable=False)

    op.add_column("measure_feedback", sa.Column("record_key", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE measure_feedback SET record_key = "
        "('x' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 8))::bit(32)::bigint"
    )
    op.alter_column("measure_feedback", "record_key", nullable=False)


def downgrade() -> None:
    op.drop_column("measure_feedback", "record_key")
    op.drop_column("idea_supports", "record_key")
    op.drop_column("ideas", "record_key")
