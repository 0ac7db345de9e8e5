"""goal translations and the language of idea mails (issue #14 §1).

* A goal's (and sub-goal's) statement per further language: German stays in
  `goal_versions.statement` (the source text, what the v1 field means); the other languages live
  in a `translations` map beside it, as for measures (migration 0025, `core.translations`):
  `{"en": {"statement": …}, "ar": {…}}`, an object bounded in size (the API bounds every string;
  the CHECK is the database's backstop).
* `ideas.notify_language`: the interface language (a language code, nothing else) an author used
  when they asked to be e-mailed about their idea; the mails are written in it. It goes with the
  address (CHECK: no language without an address).

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0028"
down_revision = "0029"
branch_labels = None
depends_on = None

TABLE = "goal_versions"
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
    op.add_column("ideas", sa.Column("notify_language", sa.String(length=16), nullable=True))
    op.create_check_constraint(
        op.f("ck_ideas_notify_language_needs_email"),
        "ideas",
        "notify_language IS NULL OR notify_email IS NOT NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_ideas_notify_language_needs_email"), "ideas", type_="check")
    op.drop_column("ideas", "notify_language")
    op.drop_constraint(op.f(f"ck_{TABLE}_translations_bounded"), TABLE, type_="check")
    op.drop_column(TABLE, "translations")
