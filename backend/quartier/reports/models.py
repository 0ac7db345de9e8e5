"""The stored part of a social report: one row per planning process (one cycle), holding the
editorial sections planners write (German in `sections`, further languages in `translations`,
`core.translations`), the area level the report shows, and — once released — who released it,
when, and the report as it was released (`released_content`, the JSON of
`schemas.SocialReport`, with the translations of its sections, of the process's title and
topic, of goals and measures), so that a published report stays what was published, in every
language, even when later responses, reports, assessments or translations would change it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from quartier.core import translations as shared_translations
from quartier.db import Base

ACTOR_KINDS = ("staff", "token", "system")


class SocialReport(Base):
    __tablename__ = "social_reports"
    __table_args__ = (
        sa.UniqueConstraint("process_id", name="uq_social_reports_process"),
        sa.CheckConstraint(
            "released_at IS NULL OR (released_content IS NOT NULL AND released_by_kind IS NOT "
            "NULL AND released_by_name IS NOT NULL)",
            name="release_recorded",
        ),
        sa.CheckConstraint(
            "released_by_kind IS NULL OR released_by_kind IN ('staff', 'token', 'system')",
            name="released_by_kind",
        ),
        sa.CheckConstraint(shared_translations.BOUNDED, name="translations_bounded"),
    )

    process_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("planning_processes.id", ondelete="CASCADE")
    )
    # Editorial sections by key (schemas.SECTION_KEYS), each bounded by schemas.SectionText.
    sections: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # The sections per language beside German: {"en": {"needs": …}, …} (schemas.SectionsText).
    translations: Mapped[dict[str, Any]] = shared_translations.column()
    level: Mapped[str | None] = mapped_column(sa.String(40))
    edited_by_name: Mapped[str] = mapped_column(sa.String(200), default="")
    released_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    released_by_kind: Mapped[str | None] = mapped_column(sa.String(16))
    released_by_id: Mapped[UUID | None] = mapped_column(sa.Uuid)
    released_by_name: Mapped[str | None] = mapped_column(sa.String(200))
    released_content: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class ReleasedReportDocument(Base):
    """The PDF of a released social report in one language, laid out once (by the job
    `reports.render_pdf` right after the release, or by the first request that finds none) and
    served as stored from then on: a released report does not change, and laying out Berlin's
    447 planning areas takes WeasyPrint well over the time a reader waits. Only the public
    document is stored (what anyone may read once released); `released_at` ties it to the
    release it shows."""

    __tablename__ = "social_report_documents"
    __table_args__ = (
        sa.UniqueConstraint("process_id", "language", name="uq_social_report_documents_language"),
        sa.CheckConstraint("octet_length(pdf) > 0", name="pdf_not_empty"),
    )

    process_id: Mapped[UUID] = mapped_column(
        sa.ForeignKey("planning_processes.id", ondelete="CASCADE")
    )
    language: Mapped[str] = mapped_column(sa.String(35))
    released_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary)
