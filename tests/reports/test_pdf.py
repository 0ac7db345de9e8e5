"""The social report as PDF: made from the printable page's template, tagged, titled, with the
report's text extractable; public once released, with the PDF media type."""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.core import i18n
from quartier.core import pdf as pdf_module
from quartier.jobs.models import Job
from quartier.jobs.worker import Worker
from quartier.reports.models import ReleasedReportDocument
from quartier.reports.services import PDF_RENDER_KIND
from quartier.settings import Settings
from tests.reports.conftest import Client, Headers
from tests.support.disclosure import without_noise  # noqa: F401

pytestmark = pytest.mark.usefixtures("without_noise")


async def test_the_released_report_is_a_tagged_pdf_with_its_text(
    client: Client, full_cycle: uuid.UUID, planner: Headers
) -> None:
    path = f"/api/v1/processes/{full_cycle}/social-report"
    draft = await client.get(f"{path}/pdf", headers=planner)
    assert draft.status_code == 200, draft.text[:300]
    assert draft.headers["content-type"] == "application/pdf"
    assert (await client.get(f"{path}/pdf")).status_code == 404
    assert (await client.post(f"{path}/release", headers=planner)).status_code == 200
    response = await client.get(f"{path}/pdf", headers={"Accept-Language": "de"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    reader = PdfReader(io.BytesIO(response.content))
    assert reader.metadata is not None
    assert reader.metadata.title.startswith("Sozialbericht: Kinderarmut in Mitte vorbeugen")
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "de"
    assert "/StructTreeRoot" in catalog
    assert len(reader.pages) >= 2
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in (
        "Sozialbericht",
        "Dieser Bericht fasst den ersten Zyklus zusammen.",
        "Kinderbetreuung fehlt vor allem in Moabit.",
        "Keine Kita im Kiez",
        "Jedes Kind in Moabit hat einen Kitaplatz.",
        "Familienzentrum Moabit",
        "Gut angenommen.",
        "Im nächsten Zyklus: Kitaplätze in Moabit Ost.",
    ):
        assert expected in " ".join(text.split()), expected


def test_the_contract_declares_the_pdf_media_type() -> None:
    import json
    from pathlib import Path

    document = json.loads(
        (Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text()
    )
    operation = document["paths"]["/api/v1/processes/{process_id}/social-report/pdf"]["get"]
    assert operation["operationId"] == "GetSocialReportPdf"
    assert list(operation["responses"]["200"]["content"]) == ["application/pdf"]
    assert "application/problem+json" in operation["responses"]["404"]["content"]


async def _stored_documents(engine: AsyncEngine, process: uuid.UUID) -> dict[str, bytes]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.select(ReleasedReportDocument.language, ReleasedReportDocument.pdf).where(
                ReleasedReportDocument.process_id == process
            )
        )
        return {language: bytes(pdf) for language, pdf in rows}


def _refuse_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, laying out a PDF fails: what is served must come from the database."""
    pdf_module.documents.clear()

    def refuse(html: str) -> bytes:
        raise AssertionError("the PDF was laid out again")

    monkeypatch.setattr(pdf_module, "render_pdf_sync", refuse)


async def test_the_release_lays_the_pdf_out_once_per_language_and_downloads_are_served_as_stored(
    client: Client,
    full_cycle: uuid.UUID,
    planner: Headers,
    engine: AsyncEngine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = f"/api/v1/processes/{full_cycle}/social-report"
    await client.get(f"{path}/pdf", headers=planner)  # a draft: laid out, never stored
    assert await _stored_documents(engine, full_cycle) == {}
    assert (await client.post(f"{path}/release", headers=planner)).status_code == 200
    async with engine.connect() as connection:
        queued = await connection.scalars(
            sa.select(Job.payload["language"].astext).where(Job.kind == PDF_RENDER_KIND)
        )
        assert sorted(queued) == sorted(i18n.switch_languages())
    await Worker(engine, settings).drain()
    stored = await _stored_documents(engine, full_cycle)
    assert sorted(stored) == sorted(i18n.switch_languages())

    _refuse_layout(monkeypatch)
    for language, title in (("de", "Sozialbericht"), ("en", "Social report")):
        response = await client.get(f"{path}/pdf", headers={"Accept-Language": language})
        assert response.status_code == 200
        assert response.content == stored[language]
        reader = PdfReader(io.BytesIO(response.content))
        assert reader.trailer["/Root"]["/Lang"] == language
        assert reader.metadata is not None and reader.metadata.title.startswith(title)
    # Staff get the public document too: the same bytes, no name of who released it.
    staff = await client.get(f"{path}/pdf", headers={**planner, "Accept-Language": "de"})
    assert staff.content == stored["de"]


async def test_a_download_before_the_job_lays_the_pdf_out_and_stores_it_for_everyone(
    client: Client,
    full_cycle: uuid.UUID,
    planner: Headers,
    engine: AsyncEngine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = f"/api/v1/processes/{full_cycle}/social-report"
    assert (await client.post(f"{path}/release", headers=planner)).status_code == 200
    first = await client.get(f"{path}/pdf", headers={"Accept-Language": "en"})
    assert first.status_code == 200
    assert await _stored_documents(engine, full_cycle) == {"en": first.content}
    # The job that comes later finds the English document stored and leaves it.
    await Worker(engine, settings).drain()
    stored = await _stored_documents(engine, full_cycle)
    assert sorted(stored) == sorted(i18n.switch_languages())
    assert stored["en"] == first.content

    _refuse_layout(monkeypatch)
    again = await client.get(f"{path}/pdf", headers={"Accept-Language": "en"})
    assert again.content == first.content
