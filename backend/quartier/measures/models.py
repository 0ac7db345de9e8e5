"""Goals, draft measures and structured feedback on them (issue #10).

* `goals` / `goal_versions`: a goal (Ziel) of a process, one level of sub-goals; every edit
  writes a new version row (statement, need categories, areas, target groups, evidence), the
  goal points at its current version number. Evidence on survey figures is a snapshot of the
  figure as published when the link was made.
* `measures` / `measure_versions`: a draft measure (Maßnahme) with its lifecycle status; every
  edit writes a new version (title, summary, goals, the accepted ideas it takes up, areas,
  target groups, resources, provider, criteria of success, body in sections). Texts residents
  read are German in the columns, further languages in `translations` (migration 0025,
  `core.translations`).
* `measure_transitions`: every lifecycle step, who took it, when and why; the adoption also
  records the council's decision (deciding body, reference, date).
* `measure_consultations`: the feedback window on one measure version and what is asked.
* `measure_feedback` with `measure_feedback_ratings` and `measure_feedback_comments`: one
  response, its ratings (one row per criterion, for counting in SQL) and its comments (per
  section or general). A resident's response stores no person: a keyed per-consultation
  pseudonym only, as in surveys, deleted by the retention purge once the window has closed
  (surveys.retention). An organisation's response names the organisation.
* `measure_consultation_codes`: codes issued to organisations, kept as keyed hashes.
* Comments are moderated like idea comments: a moderator hides one with a reason (it leaves
  the summary and the report) or restores it; the last step's who, when and why stay on the
  comment.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from quartier.core import translations as shared_translations
from quartier.db import Base
from quartier.stats.cellkey import new_record_key


class MeasureStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_CONSULTATION = "in_consultation"
    REVISED = "revised"
    ADOPTED = "adopted"
    RESOURCED = "resourced"
    IN_DELIVERY = "in_delivery"
    EVALUATED = "evaluated"
    WITHDRAWN = "withdrawn"


class RespondentKind(enum.StrEnum):
    RESIDENT = "resident"
    ORGANISATION = "organisation"
    PROFESSIONAL = "professional"


class Stance(enum.StrEnum):
    SUPPORT = "support"
    NEUTRAL = "neutral"
    OPPOSE = "oppose"


class ModerationStatus(enum.StrEnum):
    # A comment starts pending when the process pre-moderates (its ideas settings, as idea
    # comments do; migration 0034), else visible; a moderator publishes (visible) or hides it.
    PENDING = "pending"
    VISIBLE = "visible"
    HIDDEN = "hidden"


def _in(column: str, kind: type[enum.StrEnum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in kind)
    return f"{column} IN ({values})"


class Goal(Base):
    __tablename__ = "goals"
    __table_args__ = (
        sa.CheckConstraint("current_version >= 1", name="version_positive"),
        sa.Index("ix_goals_process", "process_id", "id"),
    )

    process_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("planning_processes.id", ondelete="CASCADE")
    )
    parent_id: Mapped[UUID | None] = mapped_column(
        sa.ForeignKey("goals.id", ondelete="RESTRICT"), index=True
    )
    current_version: Mapped[int] = mapped_column(sa.Integer, default=1)


class GoalVersion(Base):
    __tablename__ = "goal_versions"
    __table_args__ = (
        sa.UniqueConstraint("goal_id", "version", name="uq_goal_versions_goal_version"),
        sa.CheckConstraint(shared_translations.BOUNDED, name="translations_bounded"),
    )

    goal_id: Mapped[UUID] = mapped_column(sa.ForeignKey("goals.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(sa.Integer)
    statement: Mapped[str] = mapped_column(sa.Text)
    # The statement in the languages beside German: {"en": {"statement": …}, …} (migration
    # 0028, `core.translations`).
    translations: Mapped[dict[str, Any]] = shared_translations.column()
    need_category_ids: Mapped[list[UUID]] = mapped_column(ARRAY(sa.Uuid))
    area_ids: Mapped[list[UUID]] = mapped_column(ARRAY(sa.Uuid))
    target_groups: Mapped[list[str]] = mapped_column(JSONB)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    author_name: Mapped[str] = mapped_column(sa.String(200))


class Measure(Base):
    __tablename__ = "measures"
    __table_args__ = (
        sa.CheckConstraint(_in("status", MeasureStatus), name="status_known"),
        sa.CheckConstraint("current_version >= 1", name="version_positive"),
        sa.Index("ix_measures_process", "process_id", "id"),
    )

    process_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("planning_processes.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(sa.String(32), default=MeasureStatus.DRAFT.value)
    current_version: Mapped[int] = mapped_column(sa.Integer, default=1)


class MeasureVersion(Base):
    __tablename__ = "measure_versions"
    __table_args__ = (
        sa.UniqueConstraint("measure_id", "version", name="uq_measure_versions_measure_version"),
        sa.CheckConstraint(shared_translations.BOUNDED, name="translations_bounded"),
        # An idea's page finds the measures it led to (migration 0033).
        sa.Index("ix_measure_versions_idea_ids", "idea_ids", postgresql_using="gin"),
    )

    measure_id: Mapped[UUID] = mapped_column(sa.ForeignKey("measures.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(sa.Integer)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text)
    goal_ids: Mapped[list[UUID]] = mapped_column(ARRAY(sa.Uuid))
    # The accepted ideas that led to the measure (migration 0033).
    idea_ids: Mapped[list[UUID]] = mapped_column(
        ARRAY(sa.Uuid), server_default=sa.text("'{}'::uuid[]"), default=list
    )
    area_ids: Mapped[list[UUID]] = mapped_column(ARRAY(sa.Uuid))
    target_groups: Mapped[list[str]] = mapped_column(JSONB)
    resources: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    provider_id: Mapped[UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # Each section {"key", "title", "body", "translations": {"en": {"title", "body"}, …}}.
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # Title and summary in the languages beside German: {"en": {"title": …, "summary": …}, …}
    # (`core.translations`).
    translations: Mapped[dict[str, Any]] = shared_translations.column()
    author_name: Mapped[str] = mapped_column(sa.String(200))


class MeasureTransition(Base):
    """One lifecycle step: from → to, who, when (`created_at`), why."""

    __tablename__ = "measure_transitions"
    __table_args__ = (
        sa.CheckConstraint(_in("to_status", MeasureStatus), name="to_status_known"),
        sa.Index("ix_measure_transitions_measure", "measure_id", "id"),
    )

    measure_id: Mapped[UUID] = mapped_column(sa.ForeignKey("measures.id", ondelete="CASCADE"))
    from_status: Mapped[str] = mapped_column(sa.String(32))
    to_status: Mapped[str] = mapped_column(sa.String(32))
    version: Mapped[int] = mapped_column(sa.Integer)
    phase: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.Text)
    actor_kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[UUID | None] = mapped_column(sa.Uuid)
    actor_name: Mapped[str] = mapped_column(sa.String(200))
    # The council's decision, recorded with the adoption (null on every other step).
    decision_body: Mapped[str | None] = mapped_column(sa.String(200))
    decision_reference: Mapped[str | None] = mapped_column(sa.String(100))
    decided_on: Mapped[date | None] = mapped_column(sa.Date)


class Consultation(Base):
    """The feedback window on one version of a measure."""

    __tablename__ = "measure_consultations"
    __table_args__ = (
        sa.UniqueConstraint("measure_id", "version", name="uq_measure_consultations_version"),
        sa.CheckConstraint("closes_at > opens_at", name="window_ordered"),
        sa.CheckConstraint("k_threshold >= 3", name="k_at_least_3"),
        sa.CheckConstraint("min_respondents >= k_threshold", name="min_respondents_at_least_k"),
    )

    measure_id: Mapped[UUID] = mapped_column(sa.ForeignKey("measures.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(sa.Integer)
    opens_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    summary_public: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    k_threshold: Mapped[int] = mapped_column(sa.SmallInteger, default=5)
    min_respondents: Mapped[int] = mapped_column(sa.SmallInteger, default=5)
    pseudonym_salt: Mapped[bytes] = mapped_column(sa.LargeBinary(32))


class ConsultationCode(Base):
    """A code issued to an organisation so that it can answer as the organisation."""

    __tablename__ = "measure_consultation_codes"

    consultation_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("measure_consultations.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Feedback(Base):
    __tablename__ = "measure_feedback"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", RespondentKind), name="kind_known"),
        sa.CheckConstraint(_in("stance", Stance), name="stance_known"),
        sa.CheckConstraint(
            "(kind = 'organisation') = (organisation_id IS NOT NULL)", name="organisation_named"
        ),
        sa.Index("ix_measure_feedback_consultation", "consultation_id", "kind", "area_id"),
        sa.Index(
            "uq_measure_feedback_pseudonym",
            "consultation_id",
            "pseudonym",
            unique=True,
            postgresql_where=sa.text("pseudonym IS NOT NULL"),
        ),
        sa.Index(
            "uq_measure_feedback_organisation",
            "consultation_id",
            "organisation_id",
            unique=True,
            postgresql_where=sa.text("organisation_id IS NOT NULL"),
        ),
    )

    consultation_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("measure_consultations.id", ondelete="RESTRICT")
    )
    kind: Mapped[str] = mapped_column(sa.String(16))
    organisation_id: Mapped[UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    area_id: Mapped[UUID | None] = mapped_column(
        sa.ForeignKey("social_areas.id", ondelete="RESTRICT")
    )
    stance: Mapped[str] = mapped_column(sa.String(16))
    pseudonym: Mapped[bytes | None] = mapped_column(sa.LargeBinary(32))
    receipt_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    # Disclosure control of the summary (stats.cellkey): random, never shown.
    record_key: Mapped[int] = mapped_column(sa.BigInteger, default=new_record_key)


class FeedbackRating(Base):
    __tablename__ = "measure_feedback_ratings"
    __table_args__ = (
        sa.CheckConstraint("value BETWEEN 1 AND 5", name="value_range"),
        sa.UniqueConstraint("feedback_id", "criterion", name="uq_measure_feedback_ratings"),
        sa.Index("ix_measure_feedback_ratings_consultation", "consultation_id", "criterion"),
    )

    feedback_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("measure_feedback.id", ondelete="CASCADE")
    )
    consultation_id: Mapped[UUID] = mapped_column(sa.Uuid)
    criterion: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[int] = mapped_column(sa.SmallInteger)


class FeedbackComment(Base):
    __tablename__ = "measure_feedback_comments"
    __table_args__ = (
        sa.CheckConstraint(_in("moderation", ModerationStatus), name="moderation_known"),
        sa.CheckConstraint(
            "moderation <> 'hidden' OR hidden_reason IS NOT NULL", name="hidden_has_reason"
        ),
        sa.Index("ix_measure_feedback_comments_consultation", "consultation_id", "section"),
        sa.Index(
            "ix_measure_feedback_comments_pending",
            "consultation_id",
            postgresql_where=sa.text("moderation = 'pending'"),
        ),
    )

    feedback_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("measure_feedback.id", ondelete="CASCADE")
    )
    consultation_id: Mapped[UUID] = mapped_column(sa.Uuid)
    section: Mapped[str | None] = mapped_column(sa.String(64))  # None: the general comment
    body: Mapped[str] = mapped_column(sa.Text)
    moderation: Mapped[str] = mapped_column(sa.String(16), default=ModerationStatus.VISIBLE.value)
    # The last moderation step: why a comment is hidden (or was restored), who took it and when
    # (migration 0032); null until a moderator acts.
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(500))
    moderated_by: Mapped[str | None] = mapped_column(sa.String(200))
    moderated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
