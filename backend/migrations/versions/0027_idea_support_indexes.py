"""ideas: indexes the ideas benchmark showed missing (bench/ideas_bench.py, 1,000,000 ideas,
1.86 million supports): a support looks up the resident's record key by pseudonym, which
scanned every support; "most supported" within a process sorted the whole table.

Revision ID: 0027
Revises: 0025
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_idea_supports_pseudonym", "idea_supports", ["pseudonym"])
    op.create_index("ix_ideas_process_support", "ideas", ["process_id", "support_count", "id"])


def downgrade() -> None:
    op.drop_index("ix_ideas_process_support", table_name="ideas")
    op.drop_index("ix_idea_supports_pseudonym", table_name="idea_supports")
