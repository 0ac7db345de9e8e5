"""The social report as PDF: made from the printable page's template, tagged, titled, with the
report's text extractable; public once released, with the PDF media type."""

from __future__ import annotations

import io
import uuid

import pytest
from pypdf import PdfReader

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
