"""the social report's editorial sections per further language (issue #14 §1).

German stays in `social_reports.sections` (the source text, what the v1 field means); the other
languages live in a `translations` map beside it, as for measures and goals (migrations 0025,
0028, `core.translations`): `{"en": {"introduction": …, "outlook": …}, "ar": {…}}`, an object
bounded in size (the API bounds every string; the CHECK is the database's backstop). A released
report keeps its translations in `released_content`, as released.

Revision ID: 0030
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0030"
down_revision = "0028"
branch_labels = None
depends_on = None

TABLE = "social_reports"
# Keep in step with quartier.core.translations.MAX_BYTES.
MAX_BYTES = 524_288


def upgrade() -> None:
    op.add_column(
        TABLE,
        sa.Column("translations", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_check_constraint(
        op.f(f"ck_{TABLE}_translations_bounded"),
        TABLE,
        "jsonb_typeof(translations) = 'object' "
        f"AND octet_length(translations::text) <= {MAX_BYTES}",
    )


def downgrade() -> None:
    op.drop_constraint(op.f(f"ck_{TABLE}_translations_bounded"), TABLE, type_="check")
    op.drop_column(TABLE, "translations")
