"""surveys: need categories (with defaults), survey definitions, invitation codes, responses.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import datetime
import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# The need categories of DESIGN.md §1, editable by administrators afterwards.
DEFAULT_NEED_CATEGORIES = [
    ("childcare", "Kinderbetreuung", "Childcare"),
    ("money_and_debt", "Hilfe bei Geld und Schulden", "Help with money and debt"),
    ("everyday_support", "Unterstützung im Alltag", "Everyday support"),
    ("belonging", "Zugehörigkeit und soziale Netzwerke", "Belonging and social networks"),
    ("neighbourhood_services", "Angebote im Quartier", "Neighbourhood services"),
    ("school_success", "Schulerfolg", "School success"),
    ("health", "Gesundheit", "Health"),
    ("medical_care", "Erreichbare medizinische Versorgung", "Reachable medical care"),
    ("housing", "Wohnen", "Housing"),
    ("mobility", "Mobilität", "Mobility"),
    ("elderly_care", "Pflege und Unterstützung im Alter", "Care for the elderly"),
    ("youth_work", "Jugendarbeit", "Youth work"),
    ("safety", "Sicherheit", "Safety"),
    ("barrier_free", "Barrierefreiheit", "Barrier-free access"),
]


def _seed_need_categories() -> None:
    table = sa.table(
        "need_categories",
        sa.column("id", sa.Uuid()),
        sa.column("key", sa.String()),
        sa.column("label", postgresql.JSONB()),
        sa.column("description", postgresql.JSONB()),
        sa.column("position", sa.SmallInteger()),
        sa.column("is_active", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = datetime.datetime.now(datetime.UTC)
    op.bulk_insert(
        table,
        [
            {
                "id": uuid.uuid4(),
                "key": key,
                "label": {"de": de, "en": en},
                "description": {},
                "position": position,
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            }
            for position, (key, de, en) in enumerate(DEFAULT_NEED_CATEGORIES)
        ],
    )


def upgrade() -> None:
    op.create_table(
        "need_categories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "description",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("position", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_categories")),
        sa.UniqueConstraint("key", name=op.f("uq_need_categories_key")),
    )
    op.create_table(
        "surveys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("title", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("access_mode", sa.String(length=16), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("pseudonym_salt", sa.LargeBinary(length=32), nullable=False),
        sa.Column("k_threshold", sa.SmallInteger(), nullable=False),
        sa.Column("min_respondents", sa.SmallInteger(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "access_mode IN ('open', 'invitation')", name=op.f("ck_surveys_access_mode_known")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'closed')", name=op.f("ck_surveys_status_known")
        ),
        sa.CheckConstraint("k_threshold >= 3", name=op.f("ck_surveys_k_at_least_3")),
        sa.CheckConstraint(
            "min_respondents >= k_threshold", name=op.f("ck_surveys_min_respondents_at_least_k")
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["planning_processes.id"],
            name=op.f("fk_surveys_process_id_planning_processes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    op.create_index(op.f("ix_surveys_process_id"), "surveys", ["process_id"], unique=False)
    op.create_table(
        "survey_invitation_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_invitation_codes_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitation_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_survey_invitation_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_survey_invitation_codes_survey_id"),
        "survey_invitation_codes",
        ["survey_id"],
        unique=False,
    )
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("age_stratum", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("receipt_code", sa.String(length=16), nullable=False),
        sa.Column("pseudonym", sa.LargeBinary(length=32), nullable=True),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('web', 'paper', 'phone', 'import')",
            name=op.f("ck_survey_responses_channel_known"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["social_areas.id"],
            name=op.f("fk_survey_responses_area_id_social_areas"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_responses_survey_id_surveys"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("receipt_code", name=op.f("uq_survey_responses_receipt_code")),
    )
    op.create_index(
        "ix_survey_responses_survey_area",
        "survey_responses",
        ["survey_id", "area_id"],
        unique=False,
    )
    op.create_index(
        "uq_survey_responses_pseudonym",
        "survey_responses",
        ["survey_id", "pseudonym"],
        unique=True,
        postgresql_where=sa.text("pseudonym IS NOT NULL"),
    )
    op.create_table(
        "survey_answer_options",
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("question_key", sa.String(length=64), nullable=False),
        sa.Column("option_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_answer_options_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "response_id", "question_key", "option_key", name="pk_survey_answer_options"
        ),
    )
    op.create_index(
        "ix_survey_answer_options_survey_question",
        "survey_answer_options",
        ["survey_id", "question_key"],
        unique=False,
    )
    op.create_table(
        "survey_response_needs",
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("need_category_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_category_id"],
            ["need_categories.id"],
            name=op.f("fk_survey_response_needs_need_category_id_need_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_response_needs_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "need_category_id", name="pk_survey_response_needs"),
    )
    op.create_index(
        "ix_survey_response_needs_survey_need",
        "survey_response_needs",
        ["survey_id", "need_category_id"],
        unique=False,
    )
    _seed_need_categories()


def downgrade() -> None:
    op.drop_index("ix_survey_response_needs_survey_need", table_name="survey_response_needs")
    op.drop_table("survey_response_needs")
    op.drop_index("ix_survey_answer_options_survey_question", table_name="survey_answer_options")
    op.drop_table("survey_answer_options")
    op.drop_index(
        "uq_survey_responses_pseudonym",
        table_name="survey_responses",
        postgresql_where=sa.text("pseudonym IS NOT NULL"),
    )
    op.drop_index("ix_survey_responses_survey_area", table_name="survey_responses")
    op.drop_table("survey_responses")
    op.drop_index(
        op.f("ix_survey_invitation_codes_survey_id"), table_name="survey_invitation_codes"
    )
    op.drop_table("survey_invitation_codes")
    op.drop_index(op.f("ix_surveys_process_id"), table_name="surveys")
    op.drop_table("surveys")
    op.drop_table("need_categories")
