"""areas: validity periods (issue #13 §5): an area's `valid_from`/`valid_to` and the date its
stored boundary starts (`boundary_from`); earlier boundary versions; successors of retired
areas. Existing areas are valid since ever with their boundary since ever (all NULL).

Revision ID: 0024
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024"
down_revision = "0021"
branch_labels = None
depends_on = None

BBOX_BOX_SQL = "box(point(min_lon, min_lat), point(max_lon, max_lat))"


def _audit() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.add_column("social_areas", sa.Column("valid_from", sa.Date(), nullable=True))
    op.add_column("social_areas", sa.Column("valid_to", sa.Date(), nullable=True))
    op.add_column("social_areas", sa.Column("boundary_from", sa.Date(), nullable=True))
    op.create_check_constraint(
        "ck_social_areas_valid_period",
        "social_areas",
        "valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to",
    )
    op.create_check_constraint(
        "ck_social_areas_boundary_within_period",
        "social_areas",
        "boundary_from IS NULL OR valid_to IS NULL OR boundary_from < valid_to",
    )
    op.create_table(
        "social_area_versions",
        *_audit(),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("boundary", postgresql.JSONB(), nullable=False),
        sa.Column("min_lon", sa.Double(), nullable=False),
        sa.Column("min_lat", sa.Double(), nullable=False),
        sa.Column("max_lon", sa.Double(), nullable=False),
        sa.Column("max_lat", sa.Double(), nullable=False),
        sa.Column("area_m2", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["social_areas.id"],
            ondelete="CASCADE",
            name="fk_social_area_versions_area_id_social_areas",
        ),
        sa.UniqueConstraint("area_id", "valid_to", name="uq_social_area_versions_area_end"),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_from < valid_to",
            name="ck_social_area_versions_valid_period",
        ),
        sa.CheckConstraint(
            "min_lon <= max_lon AND min_lat <= max_lat", name="ck_social_area_versions_bbox_ordered"
        ),
        sa.CheckConstraint("area_m2 >= 0", name="ck_social_area_versions_area_not_negative"),
    )
    op.create_index("ix_social_area_versions_area_id", "social_area_versions", ["area_id"])
    op.create_index(
        "ix_social_area_versions_bbox",
        "social_area_versions",
        [sa.text(BBOX_BOX_SQL)],
        postgresql_using="gist",
    )
    op.create_table(
        "social_area_successions",
        *_audit(),
        sa.Column("predecessor_id", sa.Uuid(), nullable=False),
        sa.Column("successor_id", sa.Uuid(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["predecessor_id"],
            ["social_areas.id"],
            ondelete="CASCADE",
            name="fk_social_area_successions_predecessor_id_social_areas",
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["social_areas.id"],
            ondelete="CASCADE",
            name="fk_social_area_successions_successor_id_social_areas",
        ),
        sa.UniqueConstraint(
            "predecessor_id", "successor_id", name="uq_social_area_successions_pair"
        ),
        sa.CheckConstraint(
            "predecessor_id <> successor_id", name="ck_social_area_successions_not_own_successor"
        ),
    )
    op.create_index(
        "ix_social_area_successions_successor_id", "social_area_successions", ["successor_id"]
    )


def downgrade() -> None:
    op.drop_table("social_area_successions")
    op.drop_table("social_area_versions")
    op.drop_constraint("ck_social_areas_boundary_within_period", "social_areas", type_="check")
    op.drop_constraint("ck_social_areas_valid_period", "social_areas", type_="check")
    op.drop_column("social_areas", "boundary_from")
    op.drop_column("social_areas", "valid_to")
    op.drop_column("social_areas", "valid_from")
