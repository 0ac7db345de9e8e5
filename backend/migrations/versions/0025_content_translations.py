"""content translations: official answers to ideas and measure content per further language
(issue #14 §1).

German stays in the existing columns (the source text, what the v1 fields mean); the other
languages live in a `translations` map beside it, as for processes (migration 0022,
`core.translations`): per idea `{"en": {"official_answer": …}}`, per measure version
`{"en": {"title": …, "summary": …}}` (a section's texts per language travel inside the section,
in `measure_versions.sections`). The map is an object and bounded in size (the API bounds every
string; the CHECK is the database's own backstop).

Revision ID: 0025
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0025"
down_revision = "0026"
branch_labels = None
depends_on = None

TABLES = ("ideas", "measure_versions")
# Keep in step with quartier.core.translations.MAX_BYTES.
MAX_BYTES = 524_288


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column(
                "translations",
                JSONB(),
                nullable=False,
                server_default=sa.text("'{}'::jsonb"),
            ),
        )
        op.create_check_constraint(
            op.f(f"ck_{table}_translations_bounded"),
            table,
            f"jsonb_typeof(translations) = 'object' "
            f"AND octet_length(translations::text) <= {MAX_BYTES}",
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_constraint(op.f(f"ck_{table}_translations_bounded"), table, type_="check")
        op.drop_column(table, "translations")
