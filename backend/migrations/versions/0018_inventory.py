"""inventory: services of organisations with their need categories and areas, inventory rounds
and their requests to organisations (issue #11 §2).

Revision ID: 0018
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0019"
branch_labels = None
depends_on = None


def _audit() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], ondelete=ondelete, name=f"fk_{table}_{column}_{target}"
    )


def upgrade() -> None:
    op.create_table(
        "inventory_services",
        *_audit(),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("target_groups", sa.ARRAY(sa.String(40)), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("capacity_unit", sa.String(80), nullable=False),
        sa.Column("opening_hours", sa.String(500), nullable=False),
        sa.Column("accessibility", sa.String(1000), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("contact_email", sa.String(254), nullable=False),
        sa.Column("contact_phone", sa.String(50), nullable=False),
        sa.Column("website", sa.String(500), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        _fk("inventory_services", "organisation_id", "organisations", "RESTRICT"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="ends_after_start"
        ),
    )
    op.create_index(
        "ix_inventory_services_organisation",
        "inventory_services",
        ["organisation_id", "name"],
    )
    for table, column, target, ondelete in (
        ("inventory_service_needs", "need_category_id", "need_categories", "RESTRICT"),
        ("inventory_service_areas", "area_id", "social_areas", "RESTRICT"),
    ):
        op.create_table(
            table,
            sa.Column("service_id", sa.Uuid(), nullable=False),
            sa.Column(column, sa.Uuid(), nullable=False),
            _fk(table, "service_id", "inventory_services", "CASCADE"),
            _fk(table, column, target, ondelete),
            sa.PrimaryKeyConstraint("service_id", column, name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_{column}", table, [column])
    op.create_table(
        "inventory_rounds",
        *_audit(),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        _fk("inventory_rounds", "process_id", "planning_processes", "CASCADE"),
    )
    op.create_index(
        "uq_inventory_rounds_open",
        "inventory_rounds",
        ["process_id"],
        unique=True,
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "inventory_round_requests",
        *_audit(),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("contact_email", sa.String(254), nullable=False),
        sa.Column("mailed", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        _fk("inventory_round_requests", "round_id", "inventory_rounds", "CASCADE"),
        _fk("inventory_round_requests", "organisation_id", "organisations", "RESTRICT"),
        sa.UniqueConstraint("round_id", "organisation_id", name="uq_inventory_round_requests_org"),
        sa.CheckConstraint("status IN ('pending', 'confirmed', 'updated')", name="status_known"),
    )
    op.create_index(
        "ix_inventory_round_requests_organisation",
        "inventory_round_requests",
        ["organisation_id"],
    )


def downgrade() -> None:
    op.drop_table("inventory_round_requests")
    op.drop_index("uq_inventory_rounds_open", table_name="inventory_rounds")
    op.drop_table("inventory_rounds")
    op.drop_table("inventory_service_areas")
    op.drop_table("inventory_service_needs")
    op.drop_index("ix_inventory_services_organisation", table_name="inventory_services")
    op.drop_table("inventory_services")
