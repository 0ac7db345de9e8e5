"""areas: a version keeps the area's name and place in the hierarchy with its boundary (issue
#13 §5): a re-import dated `valid_from` that renames an area or moves it under another parent
keeps the earlier name and parent for earlier dates, as it keeps earlier boundaries. Existing
earlier versions take the area's current name, parent and path (nothing older is known).

Revision ID: 0029
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0029"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("social_area_versions", sa.Column("name", sa.String(200), nullable=True))
    op.add_column("social_area_versions", sa.Column("search_name", sa.Text(), nullable=True))
    op.add_column("social_area_versions", sa.Column("parent_id", sa.Uuid(), nullable=True))
    op.add_column(
        "social_area_versions",
        sa.Column("path", postgresql.ARRAY(sa.Uuid()), nullable=True),
    )
    op.execute(
        """
        UPDATE social_area_versions AS v
        SET name = a.name, search_name = a.search_name, parent_id = a.parent_id, path = a.path
        FROM social_areas AS a
        WHERE a.id = v.area_id
        """
    )
    op.alter_column("social_area_versions", "name", nullable=False)
    op.alter_column("social_area_versions", "search_name", nullable=False)
    op.alter_column("social_area_versions", "path", nullable=False)
    op.create_foreign_key(
        "fk_social_area_versions_parent_id_social_areas",
        "social_area_versions",
        "social_areas",
        ["parent_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_index("ix_social_area_versions_parent_id", "social_area_versions", ["parent_id"])
    op.create_index(
        "ix_social_area_versions_path", "social_area_versions", ["path"], postgresql_using="gin"
    )


def downgrade() -> None:
    op.drop_index("ix_social_area_versions_path", table_name="social_area_versions")
    op.drop_index("ix_social_area_versions_parent_id", table_name="social_area_versions")
    op.drop_constraint(
        "fk_social_area_versions_parent_id_social_areas", "social_area_versions", type_="foreignkey"
    )
    op.drop_column("social_area_versions", "path")
    op.drop_column("social_area_versions", "parent_id")
    op.drop_column("social_area_versions", "search_name")
    op.drop_column("social_area_versions", "name")
