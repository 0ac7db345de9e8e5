"""indicators: area indicators as time series, their links to need categories, need gaps.

Revision ID: 0011
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0014"
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
        "indicators",
        *_audit(),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name_de", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("aggregation", sa.String(10), nullable=False),
        sa.Column("scale", sa.Double(), nullable=False),
        sa.Column("decimals", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("licence", sa.String(200), nullable=False),
        sa.UniqueConstraint("key", name="uq_indicators_key"),
        sa.CheckConstraint(
            "direction IN ('higher_is_better', 'higher_is_worse', 'neutral')",
            name="direction_known",
        ),
        sa.CheckConstraint("aggregation IN ('sum', 'ratio', 'none')", name="aggregation_known"),
        sa.CheckConstraint("scale > 0", name="scale_positive"),
        sa.CheckConstraint("decimals BETWEEN 0 AND 4", name="decimals_in_range"),
    )
    op.create_table(
        "indicator_values",
        *_audit(),
        sa.Column("indicator_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("reference_date", sa.Date(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("numerator", sa.Double(), nullable=True),
        sa.Column("denominator", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            ondelete="CASCADE",
            name="fk_indicator_values_indicator_id_indicators",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["social_areas.id"],
            ondelete="CASCADE",
            name="fk_indicator_values_area_id_social_areas",
        ),
        sa.UniqueConstraint(
            "indicator_id", "reference_date", "area_id", name="uq_indicator_values_date_area"
        ),
        sa.CheckConstraint("denominator IS NULL OR denominator > 0", name="denominator_positive"),
    )
    op.create_index("ix_indicator_values_area", "indicator_values", ["area_id"])
    op.create_table(
        "indicator_need_categories",
        sa.Column("indicator_id", sa.Uuid(), nullable=False),
        sa.Column("need_category_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            ondelete="CASCADE",
            name="fk_indicator_need_categories_indicator_id_indicators",
        ),
        sa.ForeignKeyConstraint(
            ["need_category_id"],
            ["need_categories.id"],
            ondelete="CASCADE",
            name="fk_indicator_need_categories_need_category_id_need_categories",
        ),
        sa.PrimaryKeyConstraint(
            "indicator_id", "need_category_id", name="pk_indicator_need_categories"
        ),
    )
    op.create_index(
        "ix_indicator_need_categories_need_category_id",
        "indicator_need_categories",
        ["need_category_id"],
    )
    op.create_table(
        "need_gaps",
        *_audit(),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("need_category_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["planning_processes.id"],
            ondelete="CASCADE",
            name="fk_need_gaps_process_id_planning_processes",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["social_areas.id"],
            ondelete="CASCADE",
            name="fk_need_gaps_area_id_social_areas",
        ),
        sa.ForeignKeyConstraint(
            ["need_category_id"],
            ["need_categories.id"],
            ondelete="CASCADE",
            name="fk_need_gaps_need_category_id_need_categories",
        ),
        sa.UniqueConstraint(
            "process_id", "area_id", "need_category_id", name="uq_need_gaps_process_area_need"
        ),
    )


def downgrade() -> None:
    op.drop_table("need_gaps")
    op.drop_index(
        "ix_indicator_need_categories_need_category_id", table_name="indicator_need_categories"
    )
    op.drop_table("indicator_need_categories")
    op.drop_index("ix_indicator_values_area", table_name="indicator_values")
    op.drop_table("indicator_values")
    op.drop_table("indicators")
