"""Neighbourhood ideas: ideas, supports, comments, reports, the moderation log, and the ideas
settings of a process.

What an idea stores about its author: nothing that identifies them. The private follow link is
kept only as its keyed hash (`follow_token_hash`); an e-mail address only with explicit consent,
only for notifications, and it is deleted when the idea is closed or on request
(docs/PRIVACY.md, "Ideas"). The exact point is kept only when the author agreed to show it
publicly; otherwise only the social area.

Supports are one row per (idea, keyed pseudonym of the browser's respondent token); the
pseudonym's salt is per process, so merging two ideas of a process carries the supports over
without counting a resident twice (the primary key refuses the duplicate). Ideas and supports
carry a random `record_key` for the disclosure control of the aggregates (stats.cellkey); a
resident's supports in one process share one key, so that a cell of distinct supporters has
one key per resident. Once ideas are closed in the process, the retention purge replaces each
pseudonym by a random 16-byte value, the same for one resident's supports in the process
(surveys.retention): every count stays, nothing leads back to the token.
"""

from __future__ import annotations

import datetime
import enum
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from quartier.core import translations as shared_translations
from quartier.db import Base, metadata
from quartier.stats.cellkey import new_record_key

TITLE_MAX = 120
DESCRIPTION_MAX = 4000
COMMENT_MAX = 2000
REASON_MAX = 500
ANSWER_MAX = 4000
TARGET_GROUP_MAX = 60
TARGET_GROUPS_MAX = 5
EMAIL_MAX = 254
LANGUAGE_MAX = 16


class IdeaState(enum.StrEnum):
    """Where an idea is in moderation (who can see it)."""

    PENDING = "pending"  # awaiting pre-moderation: only its author (follow link) and staff
    PUBLISHED = "published"
    HIDDEN = "hidden"  # shown as "hidden by moderation: <reason>"
    MERGED = "merged"  # merged into another idea (`merged_into_id`)
    WITHDRAWN = "withdrawn"  # withdrawn by its author


class OfficialStatus(enum.StrEnum):
    """The planners' official status, with a public answer."""

    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    MERGED = "merged"
    NOT_PURSUED = "not_pursued"
    IMPLEMENTED = "implemented"


class CommentState(enum.StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    HIDDEN = "hidden"


class IdeaSettings(Base):
    """Ideas settings of one process: pre-moderation or publish at once, and the salt of the
    supporters' pseudonyms (created with the first idea)."""

    __tablename__ = "idea_settings"

    process_id: Mapped[UUID] = mapped_column(
        ForeignKey("planning_processes.id", ondelete="CASCADE"), unique=True
    )
    premoderation: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    pseudonym_salt: Mapped[bytes] = mapped_column(LargeBinary(32))


class Idea(Base):
    __tablename__ = "ideas"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'published', 'hidden', 'merged', 'withdrawn')",
            name="state_known",
        ),
        CheckConstraint(
            "official_status IS NULL OR official_status IN "
            "('under_review', 'accepted', 'merged', 'not_pursued', 'implemented')",
            name="official_status_known",
        ),
        CheckConstraint("(lon IS NULL) = (lat IS NULL)", name="point_complete"),
        CheckConstraint("state <> 'hidden' OR hidden_reason IS NOT NULL", name="hidden_has_reason"),
        CheckConstraint(
            "state <> 'merged' OR merged_into_id IS NOT NULL", name="merged_has_target"
        ),
        # Lists: newest first within a process (and all processes), most supported.
        Index("ix_ideas_process_state_id", "process_id", "state", "id"),
        Index("ix_ideas_state_support", "state", "support_count", "id"),
        Index("ix_ideas_process_support", "process_id", "support_count", "id"),
        Index("ix_ideas_area", "area_id"),
        Index("ix_ideas_duplicate_text", "process_id", "text_fingerprint"),
        CheckConstraint(shared_translations.BOUNDED, name="translations_bounded"),
        # The language of the notification mails goes with the address, and with it.
        CheckConstraint(
            "notify_language IS NULL OR notify_email IS NOT NULL",
            name="notify_language_needs_email",
        ),
    )

    process_id: Mapped[UUID] = mapped_column(
        ForeignKey("planning_processes.id", ondelete="RESTRICT")
    )
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text)
    need_category_id: Mapped[UUID] = mapped_column(
        ForeignKey("need_categories.id", ondelete="RESTRICT")
    )
    target_groups: Mapped[list[str]] = mapped_column(
        ARRAY(String(TARGET_GROUP_MAX)), server_default=text("'{}'")
    )
    area_id: Mapped[UUID] = mapped_column(ForeignKey("social_areas.id", ondelete="RESTRICT"))
    # Only with the author's consent to show the point publicly.
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16))
    hidden_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    merged_into_id: Mapped[UUID | None] = mapped_column(ForeignKey("ideas.id", ondelete="RESTRICT"))
    official_status: Mapped[str | None] = mapped_column(String(16))
    official_answer: Mapped[str | None] = mapped_column(Text)  # German, the source text
    # The official answer in the languages beside German: {"en": {"official_answer": …}, …}
    # (`core.translations`; the resident's own title and description are shown as written).
    translations: Mapped[dict[str, Any]] = shared_translations.column()
    answered_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    support_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    follow_token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # Optional, with explicit consent, only for notifications; never shown, exported or logged.
    notify_email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    # The interface language the author used when they asked for mail (a language code only,
    # e.g. "ar"): the notifications are written in it (migration 0028).
    notify_language: Mapped[str | None] = mapped_column(String(LANGUAGE_MAX))
    text_fingerprint: Mapped[str] = mapped_column(String(200))
    # Disclosure control of the ideas aggregates (stats.cellkey): random, never shown.
    record_key: Mapped[int] = mapped_column(BigInteger, default=new_record_key)


idea_supports = Table(
    "idea_supports",
    metadata,
    Column("idea_id", Uuid, ForeignKey("ideas.id", ondelete="CASCADE"), nullable=False),
    Column("pseudonym", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The supporting resident's record key (stats.cellkey): the same on every support of one
    # pseudonym in a process (services.support copies it), random for a new supporter.
    Column("record_key", BigInteger, nullable=False),
    PrimaryKeyConstraint("idea_id", "pseudonym", name="pk_idea_supports"),
    # A support finds the resident's record key among their other supports.
    Index("ix_idea_supports_pseudonym", "pseudonym"),
)


class IdeaComment(Base):
    __tablename__ = "idea_comments"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'published', 'hidden')", name="state_known"),
        CheckConstraint("state <> 'hidden' OR hidden_reason IS NOT NULL", name="hidden_has_reason"),
        Index("ix_idea_comments_idea", "idea_id", "id"),
    )

    idea_id: Mapped[UUID] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    # One level of replies: a reply's parent is a comment without a parent.
    parent_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("idea_comments.id", ondelete="CASCADE")
    )
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    hidden_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))


class IdeaReport(Base):
    """A resident's report of an idea or a comment; open until a moderator resolves it."""

    __tablename__ = "idea_reports"
    __table_args__ = (
        Index("ix_idea_reports_open", "idea_id", postgresql_where=text("resolved_at IS NULL")),
    )

    idea_id: Mapped[UUID] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    comment_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("idea_comments.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(String(REASON_MAX))
    resolved_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class ModerationEntry(Base):
    """Every moderation action: who, when (created_at), what, why."""

    __tablename__ = "idea_moderation_log"
    __table_args__ = (Index("ix_idea_moderation_log_idea", "idea_id"),)

    idea_id: Mapped[UUID] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    comment_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("idea_comments.id", ondelete="CASCADE")
    )
    actor_id: Mapped[UUID] = mapped_column(Uuid)  # staff account or API token
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
