"""disclosure control by the cell key method; no stored time links an invitation code to a response.

* `survey_responses.record_key`: a random 32-bit key per response (quartier.stats.cellkey),
  repeated on its need rows so that aggregation sums it from the index it already scans.
  Existing rows get keys from `gen_random_uuid()` (a strong random source).
* `survey_invitation_codes.used` replaces `used_at`: the time a code was used lay a few
  milliseconds before the response's `submitted_at`. The row's `updated_at` is reset to its
  `created_at` for the same reason (and is not touched when a code is used).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("survey_responses", sa.Column("record_key", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE survey_responses SET record_key = "
        "('x' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 8))::bit(32)::bigint"
    )
    op.alter_column("survey_responses", "record_key", nullable=False)
    op.add_column("survey_response_needs", sa.Column("record_key", sa.BigInteger(), nullable=True))
    op.execute(
        """
        UPDATE survey_response_needs need SET record_key = response.record_key
        FROM survey_responses response WHERE response.id = need.response_id
        """
    )
    op.alter_column("survey_response_needs", "record_key", nullable=False)
    op.drop_index("ix_survey_response_needs_survey_area", table_name="survey_response_needs")
    op.create_index(
        "ix_survey_response_needs_survey_area",
        "survey_response_needs",
        ["survey_id", "area_id", "age_stratum", "need_category_id"],
        unique=False,
        postgresql_include=["record_key"],
    )
    op.drop_index("ix_survey_responses_survey_area", table_name="survey_responses")
    op.create_index(
        "ix_survey_responses_survey_area",
        "survey_responses",
        ["survey_id", "area_id", "age_stratum"],
        unique=False,
        postgresql_include=["submitted_at", "record_key"],
    )

    op.add_column(
        "survey_invitation_codes",
        sa.Column("used", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.execute(
        "UPDATE survey_invitation_codes SET used = used_at IS NOT NULL, updated_at = created_at"
    )
    op.drop_column("survey_invitation_codes", "used_at")


def downgrade() -> None:
    op.add_column(
        "survey_invitation_codes",
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    # The time of use is gone; a used code gets its creation time.
    op.execute("UPDATE survey_invitation_codes SET used_at = created_at WHERE used")
    op.drop_column("survey_invitation_codes", "used")
    op.drop_index("ix_survey_responses_survey_area", table_name="survey_responses")
    op.create_index(
        "ix_survey_responses_survey_area",
        "survey_responses",
        ["survey_id", "area_id", "age_stratum"],
        unique=False,
        postgresql_include=["submitted_at"],
    )
    op.drop_index("ix_survey_response_needs_survey_area", table_name="survey_response_needs")
    op.create_index(
        "ix_survey_response_needs_survey_area",
        "survey_response_needs",
        ["survey_id", "area_id", "age_stratum", "need_category_id"],
        unique=False,
    )
    op.drop_column("survey_response_needs", "record_key")
    op.drop_column("survey_responses", "record_key")
