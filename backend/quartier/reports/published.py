"""The PDF of a released social report, laid out once per language and stored.

Laying out the report of Berlin's 447 planning areas takes WeasyPrint 9–17 s of CPU (bench/
report_bench.py), far longer than a reader waits for a download. A released report does not
change (`SocialReport.released_content`), so neither does its PDF in a given language: the
release enqueues one job per language residents can choose (`services.PDF_RENDER_KIND`), each
lays the public document out in the worker and stores it (`social_report_documents`), and every
download is then served from the database — by any app process, after restarts. A download that
comes before its job has run lays the document out itself (once per process: `core.pdf` renders
a document that several requests want at the same time once) and stores it for everyone after.

Only the public document is stored, the one anyone may read once the report is released: the
PDF is laid out without a request (no signed-in header, no session), so it is the same for
every reader. Drafts are laid out on request (staff only; `core.pdf` keeps them in memory).
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from quartier.core import i18n
from quartier.core.errors import NotFound
from quartier.core.pdf import render_pdf
from quartier.core.templating import standalone_engine
from quartier.jobs.queue import JobContext, RetryPolicy, job
from quartier.reports import document, services
from quartier.reports import schemas as s
from quartier.reports.models import ReleasedReportDocument


async def render_html(session: AsyncSession, report: s.SocialReport) -> str:
    """The printable page of `report` in the current language, as the PDF shows it: rendered
    without a request, so it does not depend on who asks."""
    template = standalone_engine().get_template(document.TEMPLATE)
    return str(template.render(request=None, **await document.context(session, report)))


async def _stored(
    session: AsyncSession, process_id: UUID, language: str, released_at: datetime.datetime
) -> bytes | None:
    stored = await session.scalar(
        select(ReleasedReportDocument.pdf).where(
            ReleasedReportDocument.process_id == process_id,
            ReleasedReportDocument.language == language,
            ReleasedReportDocument.released_at == released_at,
        )
    )
    return bytes(stored) if stored is not None else None


async def _store(
    session: AsyncSession,
    process_id: UUID,
    language: str,
    released_at: datetime.datetime,
    pdf: bytes,
) -> None:
    """Keep `pdf`; a document another request or job stored first stays (they are equal)."""
    now = datetime.datetime.now(datetime.UTC)
    await session.execute(
        insert(ReleasedReportDocument)
        .values(
            id=uuid7(),
            process_id=process_id,
            language=language,
            released_at=released_at,
            pdf=pdf,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(constraint="uq_social_report_documents_language")
    )


async def released_pdf(session: AsyncSession, report: s.SocialReport) -> bytes:
    """The stored PDF of the released `report` in the current language, laid out and stored
    first if no job has done so yet."""
    assert report.release is not None
    released_at = report.release.released_at
    language = i18n.current_language()
    stored = await _stored(session, report.process_id, language, released_at)
    if stored is not None:
        return stored
    # The public document: who released it is for staff only.
    public = msgspec.structs.replace(
        report, release=s.Release(released_at=released_at, released_by=None)
    )
    pdf = await render_pdf(await render_html(session, public))
    await _store(session, report.process_id, language, released_at, pdf)
    return pdf


async def pdf(session: AsyncSession, report: s.SocialReport) -> bytes:
    """The PDF of `report` as its reader may see it: stored once released, else laid out now."""
    if report.release is not None:
        return await released_pdf(session, report)
    return await render_pdf(await render_html(session, report))


@job(services.PDF_RENDER_KIND, retry=RetryPolicy(max_attempts=3), timeout_seconds=600)
async def render_released(context: JobContext, payload: dict[str, Any]) -> None:
    """Lay out and store the released report's PDF in one language (idempotent: a document
    already stored stays; a report no longer released, or gone, is left alone)."""
    process_id = UUID(payload["process_id"])
    token = i18n.set_language(i18n.negotiate(payload["language"], None, None))
    try:
        # The public report: the released one, else NotFound (not released, or gone).
        report = await services.get_report(context.session, process_id, None)
        await released_pdf(context.session, report)
    except NotFound:
        return
    finally:
        i18n.reset_language(token)
