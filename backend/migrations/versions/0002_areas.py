"""areas: levels, social areas (hierarchy, boundaries), age bands, population.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _audit() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "area_levels",
        *_audit(),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("depth", sa.SmallInteger(), nullable=False),
        sa.Column("name_de", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.CheckConstraint("depth >= 0", name="depth_not_negative"),
        sa.UniqueConstraint("key", name="uq_area_levels_key"),
        sa.UniqueConstraint("depth", name="uq_area_levels_depth"),
    )
    op.create_table(
        "social_areas",
        *_audit(),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("search_name", sa.Text(), nullable=False),
        sa.Column("level_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("path", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("boundary", postgresql.JSONB(), nullable=False),
        sa.Column("min_lon", sa.Double(), nullable=False),
        sa.Column("min_lat", sa.Double(), nullable=False),
        sa.Column("max_lon", sa.Double(), nullable=False),
        sa.Column("max_lat", sa.Double(), nullable=False),
        sa.Column("area_m2", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["level_id"],
            ["area_levels.id"],
            ondelete="RESTRICT",
            name="fk_social_areas_level_id_area_levels",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["social_areas.id"],
            ondelete="RESTRICT",
            name="fk_social_areas_parent_id_social_areas",
        ),
        sa.UniqueConstraint("code", name="uq_social_areas_code"),
        sa.CheckConstraint("min_lon <= max_lon AND min_lat <= max_lat", name="bbox_ordered"),
        sa.CheckConstraint(
            "min_lon >= -180 AND max_lon <= 180 AND min_lat >= -90 AND max_lat <= 90",
            name="bbox_in_wgs84_range",
        ),
        sa.CheckConstraint("area_m2 >= 0", name="area_not_negative"),
        sa.CheckConstraint("path[cardinality(path)] = id", name="path_ends_with_self"),
    )
    op.create_index("ix_social_areas_level_id", "social_areas", ["level_id"])
    op.create_index("ix_social_areas_parent_id", "social_areas", ["parent_id"])
    op.create_index("ix_social_areas_path", "social_areas", ["path"], postgresql_using="gin")
    op.create_index(
        "ix_social_areas_bbox",
        "social_areas",
        [sa.text("box(point(min_lon, min_lat), point(max_lon, max_lat))")],
        postgresql_using="gist",
    )
    op.create_table(
        "population_age_bands",
        *_audit(),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("min_age", sa.SmallInteger(), nullable=False),
        sa.Column("max_age", sa.SmallInteger(), nullable=True),
        sa.Column("label_de", sa.String(100), nullable=False),
        sa.Column("label_en", sa.String(100), nullable=False),
        sa.CheckConstraint("min_age >= 0", name="min_age_not_negative"),
        sa.CheckConstraint("max_age IS NULL OR max_age > min_age", name="max_age_above_min_age"),
        sa.UniqueConstraint("key", name="uq_population_age_bands_key"),
    )
    op.create_table(
        "area_populations",
        *_audit(),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("reference_date", sa.Date(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("female", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["social_areas.id"],
            ondelete="CASCADE",
            name="fk_area_populations_area_id_social_areas",
        ),
        sa.UniqueConstraint("area_id", "reference_date", name="uq_area_populations_area_date"),
        sa.CheckConstraint("total >= 0", name="total_not_negative"),
        sa.CheckConstraint("female IS NULL OR female BETWEEN 0 AND total", name="female_in_range"),
    )
    op.create_table(
        "area_population_ages",
        *_audit(),
        sa.Column("population_id", sa.Uuid(), nullable=False),
        sa.Column("age_band_id", sa.Uuid(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["population_id"],
            ["area_populations.id"],
            ondelete="CASCADE",
            name="fk_area_population_ages_population_id_area_populations",
        ),
        sa.ForeignKeyConstraint(
            ["age_band_id"],
            ["population_age_bands.id"],
            ondelete="RESTRICT",
            name="fk_area_population_ages_age_band_id_population_age_bands",
        ),
        sa.UniqueConstraint("population_id", "age_band_id", name="uq_area_population_ages_band"),
        sa.CheckConstraint("count >= 0", name="count_not_negative"),
    )
    op.create_index("ix_area_population_ages_age_band_id", "area_population_ages", ["age_band_id"])


def downgrade() -> None:
    op.drop_table("area_population_ages")
    op.drop_table("area_populations")
    op.drop_table("population_age_bands")
    op.drop_index("ix_social_areas_bbox", table_name="social_areas")
    op.drop_table("social_areas")
    op.drop_table("area_levels")
