"""social reports: the PDF of a released report, stored per language (issue #11).

Laying out the social report of Berlin's 447 planning areas takes WeasyPrint 9–17 s of CPU;
a released report never changes, so its PDF is laid out once per language (a job enqueued at
the release, or the first request that finds none) and served from `social_report_documents`.
`released_at` names the release the document shows.

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "social_report_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "octet_length(pdf) > 0", name=op.f("ck_social_report_documents_pdf_not_empty")
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["planning_processes.id"],
            name=op.f("fk_social_report_documents_process_id_planning_processes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_report_documents")),
        sa.UniqueConstraint("process_id", "language", name="uq_social_report_documents_language"),
    )


def downgrade() -> None:
    op.drop_table("social_report_documents")
