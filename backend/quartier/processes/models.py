"""ORM models of planning processes: the process and its mandate, its seven phases, the
history of phase activations, organisations with their roles and contributions per phase, and
per-process overrides of when participation modules are open.

Invariants the database keeps (see migration 0003): exactly one active phase per process (a
partial unique index plus a deferred constraint trigger), a new process starts in
`guidelines`, each phase exists once per process, planned dates are ordered, and a process is
continued by at most one next cycle.

Texts residents read exist per language: German in the columns (the source text), further
languages in a bounded `translations` map per process and per phase (migration 0022,
`core.translations`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quartier.areas.models import SocialArea
from quartier.core import translations as shared_translations
from quartier.db import Base, metadata
from quartier.processes.phases import PhaseKey


class ProcessStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class OrganisationType(enum.StrEnum):
    WELFARE_ORGANISATION = "welfare_organisation"  # freier Träger
    ADMINISTRATION = "administration"
    COUNCIL_BODY = "council_body"
    RESIDENT_GROUP = "resident_group"
    OTHER = "other"


class RoleKind(enum.StrEnum):
    COMMISSIONING = "commissioning"
    PLANNING = "planning"
    PARTICIPATING = "participating"
    PROVIDING = "providing"
    EVALUATING = "evaluating"
    RECEIVING_REPORTS = "receiving_reports"


class ActorKind(enum.StrEnum):
    STAFF = "staff"
    TOKEN = "token"  # noqa: S105 - a kind of caller, not a secret
    SYSTEM = "system"


def _enum(kind: type[enum.StrEnum]) -> sa.Enum:
    """A string column holding an enum's values (the CHECK is declared per table by name)."""
    return sa.Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _in(column: str, kind: type[enum.StrEnum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in kind)
    return f"{column} IN ({values})"


process_areas = sa.Table(
    "process_areas",
    metadata,
    sa.Column(
        "process_id",
        sa.Uuid,
        sa.ForeignKey("planning_processes.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "area_id",
        sa.Uuid,
        sa.ForeignKey(SocialArea.id, ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class PlanningProcess(Base):
    __tablename__ = "planning_processes"
    __table_args__ = (
        sa.CheckConstraint(_in("status", ProcessStatus), name="status"),
        sa.CheckConstraint("cycle >= 1", name="cycle_positive"),
        sa.CheckConstraint(shared_translations.BOUNDED, name="translations_bounded"),
        sa.Index("ix_planning_processes_status", "status", "id"),
    )

    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    topic: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[ProcessStatus] = mapped_column(_enum(ProcessStatus), default=ProcessStatus.DRAFT)
    cycle: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    previous_process_id: Mapped[UUID | None] = mapped_column(
        sa.ForeignKey("planning_processes.id", ondelete="SET NULL"), unique=True
    )
    # The mandate (Auftrag): who commissions whom, with which aim and occasion, reporting to whom.
    commissioned_by: Mapped[str] = mapped_column(sa.String(300), default="")
    commissioned_to: Mapped[str] = mapped_column(sa.String(300), default="")
    aim: Mapped[str] = mapped_column(sa.Text, default="")
    occasion: Mapped[str] = mapped_column(sa.Text, default="")
    report_recipients: Mapped[str] = mapped_column(sa.String(500), default="")
    internal_notes: Mapped[str] = mapped_column(sa.Text, default="")
    # Title, topic and description in the languages beside German: {"en": {"title": …}, …}.
    translations: Mapped[dict[str, Any]] = shared_translations.column()

    phases: Mapped[list[ProcessPhase]] = relationship(
        back_populates="process",
        lazy="raise",
        order_by="ProcessPhase.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class ProcessPhase(Base):
    __tablename__ = "process_phases"
    __table_args__ = (
        sa.CheckConstraint(_in("phase", PhaseKey), name="phase"),
        sa.CheckConstraint(
            "position = CASE phase "
            + " ".join(f"WHEN '{key.value}' THEN {i}" for i, key in enumerate(PhaseKey, start=1))
            + " END",
            name="position_matches_phase",
        ),
        sa.CheckConstraint(
            "planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start",
            name="planned_dates_ordered",
        ),
        sa.CheckConstraint(shared_translations.BOUNDED, name="translations_bounded"),
        sa.UniqueConstraint("process_id", "phase", name="uq_process_phases_process_phase"),
        sa.Index(
            "uq_process_phases_one_active",
            "process_id",
            unique=True,
            postgresql_where=sa.text("is_active"),
        ),
    )

    process_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("planning_processes.id", ondelete="CASCADE")
    )
    phase: Mapped[PhaseKey] = mapped_column(_enum(PhaseKey))
    position: Mapped[int] = mapped_column(sa.SmallInteger)
    is_active: Mapped[bool] = mapped_column(default=False)
    activated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    planned_start: Mapped[date | None] = mapped_column(sa.Date)
    planned_end: Mapped[date | None] = mapped_column(sa.Date)
    # The three notes of every phase: Konkret, Beteiligte, Zu beachten.
    what_is_done: Mapped[str] = mapped_column(sa.Text, default="")
    who_takes_part: Mapped[str] = mapped_column(sa.Text, default="")
    watch_out_for: Mapped[str] = mapped_column(sa.Text, default="")
    # The three notes in the languages beside German: {"en": {"what_is_done": …}, …}.
    translations: Mapped[dict[str, Any]] = shared_translations.column()

    process: Mapped[PlanningProcess] = relationship(back_populates="phases", lazy="raise")


class PhaseActivation(Base):
    """One switch of the active phase (the first row of a process is its start in guidelines)."""

    __tablename__ = "phase_activations"
    __table_args__ = (
        sa.CheckConstraint(_in("phase", PhaseKey), name="phase"),
        sa.CheckConstraint(
            "previous_phase IS NULL OR " + _in("previous_phase", PhaseKey), name="previous_phase"
        ),
        sa.CheckConstraint(_in("actor_kind", ActorKind), name="actor_kind"),
        sa.Index("ix_phase_activations_process", "process_id", "id"),
    )

    process_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("planning_processes.id", ondelete="CASCADE")
    )
    phase: Mapped[PhaseKey] = mapped_column(_enum(PhaseKey))
    previous_phase: Mapped[PhaseKey | None] = mapped_column(_enum(PhaseKey))
    activated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    actor_kind: Mapped[ActorKind] = mapped_column(_enum(ActorKind))
    actor_id: Mapped[UUID | None] = mapped_column(sa.Uuid)
    actor_name: Mapped[str] = mapped_column(sa.String(200))


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        sa.CheckConstraint(_in("type", OrganisationType), name="type"),
        sa.Index("ix_organisations_name_id", "name", "id"),
    )

    name: Mapped[str] = mapped_column(sa.String(200))
    short_name: Mapped[str] = mapped_column(sa.String(50), default="")
    type: Mapped[OrganisationType] = mapped_column(_enum(OrganisationType))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    website: Mapped[str] = mapped_column(sa.String(500), default="")
    # A deactivated organisation keeps its roles and contributions but gets no new ones.
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))


# Names are unique regardless of case ("AWO" and "Awo" are one organisation).
sa.Index("uq_organisations_name", sa.func.lower(Organisation.name), unique=True)


class ProcessRole(Base):
    """An organisation's role in one phase of a process."""

    __tablename__ = "process_roles"
    __table_args__ = (
        sa.CheckConstraint(_in("phase", PhaseKey), name="phase"),
        sa.CheckConstraint(_in("role", RoleKind), name="role"),
        sa.UniqueConstraint(
            "process_id", "organisation_id", "phase", "role", name="uq_process_roles_assignment"
        ),
        sa.Index("ix_process_roles_organisation", "organisation_id"),
    )

    process_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("planning_processes.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    phase: Mapped[PhaseKey] = mapped_column(_enum(PhaseKey))
    role: Mapped[RoleKind] = mapped_column(_enum(RoleKind))

    organisation: Mapped[Organisation] = relationship(lazy="raise")


class Contribution(Base):
    """What an organisation contributes to one phase of a process (a cell of the matrix)."""

    __tablename__ = "process_contributions"
    __table_args__ = (
        sa.CheckConstraint(_in("phase", PhaseKey), name="phase"),
        sa.UniqueConstraint(
            "process_id", "organisation_id", "phase", name="uq_process_contributions_cell"
        ),
        sa.Index("ix_process_contributions_organisation", "organisation_id"),
    )

    process_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("planning_processes.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    phase: Mapped[PhaseKey] = mapped_column(_enum(PhaseKey))
    text: Mapped[str] = mapped_column(sa.Text)

    organisation: Mapped[Organisation] = relationship(lazy="raise")


class ParticipationOverride(Base):
    """A process's deviation from a participation module's default phases."""

    __tablename__ = "participation_overrides"
    __table_args__ = (
        sa.CheckConstraint(_in("phase", PhaseKey), name="phase"),
        sa.UniqueConstraint(
            "process_id", "module", "phase", name="uq_participation_overrides_cell"
        ),
    )

    process_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("planning_processes.id", ondelete="CASCADE")
    )
    module: Mapped[str] = mapped_column(sa.String(32))
    phase: Mapped[PhaseKey] = mapped_column(_enum(PhaseKey))
    is_open: Mapped[bool]
