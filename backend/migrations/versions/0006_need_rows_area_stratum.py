"""aggregation reads covering indexes: need rows carry their response's area and age stratum.

The aggregated needs count need rows per area (and per age stratum with age weighting). With
the area and stratum on each need row, that count is one index-only scan instead of a join of
the need rows to the responses (issue #4: about a million responses in under a second). The
copies are written with the need rows; a trigger keeps them equal to the response should its
area or age stratum ever be corrected. The responses per area (and stratum) are counted from
an index that covers them too, so that the count does not read the answers.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COPY_TO_NEED_ROWS = """
CREATE FUNCTION survey_response_copy_to_need_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE survey_response_needs
    SET area_id = NEW.area_id, age_stratum = NEW.age_stratum
    WHERE response_id = NEW.id;
    RETURN NULL;
END;
$$
"""


def upgrade() -> None:
    # The index this revision replaces goes first, so the backfill does not maintain it.
    op.drop_index("ix_survey_response_needs_survey_need", table_name="survey_response_needs")
    op.add_column("survey_response_needs", sa.Column("area_id", sa.Uuid(), nullable=True))
    op.add_column(
        "survey_response_needs", sa.Column("age_stratum", sa.String(length=64), nullable=True)
    )
    op.execute(
        """
        UPDATE survey_response_needs need
        SET area_id = response.area_id, age_stratum = response.age_stratum
        FROM survey_responses response
        WHERE response.id = need.response_id
        """
    )
    op.alter_column("survey_response_needs", "area_id", nullable=False)
    op.create_foreign_key(
        op.f("fk_survey_response_needs_area_id_social_areas"),
        "survey_response_needs",
        "social_areas",
        ["area_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    # Every column the counts read, so that both are index-only scans. Each index leads with
    # the survey, so it serves the per-survey lookups of the index it replaces as well.
    op.create_index(
        "ix_survey_response_needs_survey_area",
        "survey_response_needs",
        ["survey_id", "area_id", "age_stratum", "need_category_id"],
        unique=False,
    )
    op.drop_index("ix_survey_responses_survey_area", table_name="survey_responses")
    op.create_index(
        "ix_survey_responses_survey_area",
        "survey_responses",
        ["survey_id", "area_id", "age_stratum"],
        unique=False,
        postgresql_include=["submitted_at"],
    )
    op.execute(_COPY_TO_NEED_ROWS)
    op.execute(
        "CREATE TRIGGER survey_responses_copy_to_need_rows "
        "AFTER UPDATE OF area_id, age_stratum ON survey_responses FOR EACH ROW "
        "WHEN (OLD.area_id IS DISTINCT FROM NEW.area_id "
        "OR OLD.age_stratum IS DISTINCT FROM NEW.age_stratum) "
        "EXECUTE FUNCTION survey_response_copy_to_need_rows()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER survey_responses_copy_to_need_rows ON survey_responses")
    op.execute("DROP FUNCTION survey_response_copy_to_need_rows()")
    op.drop_index("ix_survey_responses_survey_area", table_name="survey_responses")
    op.create_index(
        "ix_survey_responses_survey_area",
        "survey_responses",
        ["survey_id", "area_id"],
        unique=False,
    )
    op.drop_index("ix_survey_response_needs_survey_area", table_name="survey_response_needs")
    op.drop_constraint(
        op.f("fk_survey_response_needs_area_id_social_areas"),
        "survey_response_needs",
        type_="foreignkey",
    )
    op.drop_column("survey_response_needs", "age_stratum")
    op.drop_column("survey_response_needs", "area_id")
    op.create_index(
        "ix_survey_response_needs_survey_need",
        "survey_response_needs",
        ["survey_id", "need_category_id"],
        unique=False,
    )
