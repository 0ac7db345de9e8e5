"""The PDF renderer: tagged, titled, text extractable, and never reaching outside static files."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from quartier.core.pdf import STATIC_DIR, RefusedFetch, render_pdf, static_file

PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Sozialbericht 2026</title>
<link rel="stylesheet" href="/static/css/quartier.css"></head>
<body><h1>Sozialbericht</h1><p>Bedarfe in Moabit: Kinderbetreuung, Grünflächen.</p>
<table><tr><th>Bereich</th><th>Anteil</th></tr><tr><td>Moabit</td><td>42 %</td></tr></table>
</body></html>"""


async def test_a_page_becomes_a_tagged_pdf_with_its_title_language_and_text() -> None:
    pdf = await render_pdf(PAGE)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None and reader.metadata.title == "Sozialbericht 2026"
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "de"
    assert "/StructTreeRoot" in catalog  # tagged: headings and tables survive for screen readers
    text = reader.pages[0].extract_text()
    assert "Bedarfe in Moabit: Kinderbetreuung, Grünflächen." in text
    assert "/static/css/quartier.css" not in text
    assert "42 %" in text


async def test_a_page_asking_for_the_network_still_renders_without_reaching_it() -> None:
    page = PAGE.replace("</body>", '<img src="https://example.invalid/pixel.png" alt=""></body>')
    reader = PdfReader(io.BytesIO(await render_pdf(page)))
    assert "Sozialbericht" in reader.pages[0].extract_text()


def test_only_the_deployments_static_files_are_read() -> None:
    css = static_file("file:///anything/static/css/quartier.css")
    assert css == STATIC_DIR / "css" / "quartier.css"
    for url in (
        "https://example.org/tracker.png",
        "file:///etc/passwd",
        "file:///x/static/../../../../etc/passwd",
        "file:///x/static/css/none.css",
    ):
        with pytest.raises(RefusedFetch):
            static_file(url)
