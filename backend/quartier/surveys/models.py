"""Needs-assessment surveys: need categories, survey definitions, invitation codes, responses.

A survey's questions, pages, conditions and texts live in one validated JSON document
(`Survey.definition`, see surveys.schemas), so that a definition can be exported and imported
whole. What aggregation needs is kept relationally, written once at submission:

* `survey_responses`: one row per response — the respondent's social area, the age stratum
  (the chosen option of the survey's age-band question, for post-stratification), the channel,
  the time, the answers as JSON. Nothing about the person: no IP address, no user agent, no
  account, no invitation code. `pseudonym` is a keyed per-survey hash used only to refuse a
  second answer from the same browser on open surveys.
* `survey_response_needs`: one row per need category a response expresses (derived from the
  tagged options and rating values), with the response's area and age stratum copied onto it,
  so "respondents expressing need X per area (and stratum)" is a GROUP BY of this table alone.
* `survey_answer_options`: one row per chosen option (choice, ranking, rating value), so
  per-question results are GROUP BYs too.

Both derived tables are lean (no surrogate key or audit columns): they grow with every response.
"""

from __future__ import annotations

import datetime
import enum
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from quartier.db import Base, metadata
from quartier.stats.cellkey import new_record_key

KEY_MAX = 64


class SurveyStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class AccessMode(enum.StrEnum):
    OPEN = "open"  # anyone with the link
    INVITATION = "invitation"  # one-time invitation codes


class Channel(enum.StrEnum):
    WEB = "web"
    PAPER = "paper"  # entered by staff from a paper questionnaire
    PHONE = "phone"  # telephone interview
    IMPORT = "import"  # bulk import (CSV)


class NeedCategory(Base):
    """A controlled need category (Bedarfskategorie), e.g. childcare, housing, mobility."""

    __tablename__ = "need_categories"

    key: Mapped[str] = mapped_column(String(KEY_MAX), unique=True)
    label: Mapped[dict[str, str]] = mapped_column(JSONB)  # {"de": …, "en": …, "de-x-simple": …}
    description: Mapped[dict[str, str]] = mapped_column(JSONB, server_default=text("'{}'"))
    position: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class Survey(Base):
    __tablename__ = "surveys"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'closed')", name="status_known"),
        CheckConstraint("access_mode IN ('open', 'invitation')", name="access_mode_known"),
        CheckConstraint("k_threshold >= 3", name="k_at_least_3"),
        CheckConstraint("min_respondents >= k_threshold", name="min_respondents_at_least_k"),
    )

    process_id: Mapped[UUID] = mapped_column(
        ForeignKey("planning_processes.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[dict[str, str]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default=SurveyStatus.DRAFT.value)
    access_mode: Mapped[str] = mapped_column(String(16), default=AccessMode.OPEN.value)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    definition_version: Mapped[int] = mapped_column(Integer, default=1)
    # Secret per survey, combined with SECRET_KEY for respondent pseudonyms.
    pseudonym_salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    k_threshold: Mapped[int] = mapped_column(SmallInteger, default=5)
    min_respondents: Mapped[int] = mapped_column(SmallInteger, default=10)
    published_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    # The planners' decision that the aggregated needs are open data once the survey is closed
    # (quartier.opendata); they are disclosure-controlled like every other output.
    results_public: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )


class InvitationCode(Base):
    """A one-time code printed on a letter. Only its keyed hash is kept, and a response does
    not refer to the code it used, so a mailing list cannot be joined to answers."""

    __tablename__ = "survey_invitation_codes"

    survey_id: Mapped[UUID] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Only *that* the code was used: no time of use (it would lie next to the response's
    # `submitted_at`); using it leaves `updated_at` alone for the same reason.
    used: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class SurveyResponse(Base):
    __tablename__ = "survey_responses"
    __table_args__ = (
        CheckConstraint("channel IN ('web', 'paper', 'phone', 'import')", name="channel_known"),
        # Covers what aggregation counts per area and stratum: an index-only scan that does not
        # read the answers.
        Index(
            "ix_survey_responses_survey_area",
            "survey_id",
            "area_id",
            "age_stratum",
            postgresql_include=["submitted_at", "record_key"],
        ),
        Index(
            "uq_survey_responses_pseudonym",
            "survey_id",
            "pseudonym",
            unique=True,
            postgresql_where=text("pseudonym IS NOT NULL"),
        ),
    )

    survey_id: Mapped[UUID] = mapped_column(ForeignKey("surveys.id", ondelete="RESTRICT"))
    area_id: Mapped[UUID] = mapped_column(ForeignKey("social_areas.id", ondelete="RESTRICT"))
    age_stratum: Mapped[str | None] = mapped_column(String(KEY_MAX))
    channel: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    receipt_code: Mapped[str] = mapped_column(String(16), unique=True)
    pseudonym: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    definition_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Random, for disclosure control (quartier.stats.cellkey); never published.
    record_key: Mapped[int] = mapped_column(BigInteger, default=new_record_key)


survey_response_needs = Table(
    "survey_response_needs",
    metadata,
    Column(
        "response_id", Uuid, ForeignKey("survey_responses.id", ondelete="CASCADE"), nullable=False
    ),
    Column(
        "need_category_id",
        Uuid,
        ForeignKey("need_categories.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("survey_id", Uuid, nullable=False),
    # Copies of the response's area and age stratum, so that aggregation reads only need rows
    # (a trigger keeps them equal should a response's area or stratum be corrected).
    Column("area_id", Uuid, ForeignKey("social_areas.id", ondelete="RESTRICT"), nullable=False),
    Column("age_stratum", String(KEY_MAX)),
    Column("record_key", BigInteger, nullable=False),  # the response's (stats.cellkey)
    PrimaryKeyConstraint("response_id", "need_category_id", name="pk_survey_response_needs"),
    # Every column the aggregation reads: an index-only scan.
    Index(
        "ix_survey_response_needs_survey_area",
        "survey_id",
        "area_id",
        "age_stratum",
        "need_category_id",
        postgresql_include=["record_key"],
    ),
)

survey_answer_options = Table(
    "survey_answer_options",
    metadata,
    Column(
        "response_id", Uuid, ForeignKey("survey_responses.id", ondelete="CASCADE"), nullable=False
    ),
    Column("survey_id", Uuid, nullable=False),
    Column("question_key", String(KEY_MAX), nullable=False),
    Column("option_key", String(KEY_MAX), nullable=False),
    PrimaryKeyConstraint(
        "response_id", "question_key", "option_key", name="pk_survey_answer_options"
    ),
    Index("ix_survey_answer_options_survey_question", "survey_id", "question_key"),
)
