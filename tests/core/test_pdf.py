"""The PDF renderer: tagged, titled, text extractable, and never reaching outside static files."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable

import pytest
from pypdf import PdfReader

from quartier.core import pdf as pdf_module
from quartier.core.pdf import STATIC_DIR, DocumentCache, RefusedFetch, render_pdf, static_file

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


async def test_the_same_page_is_laid_out_once_also_when_asked_for_at_the_same_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def counting(html: str) -> bytes:
        calls.append(html)
        return pdf_module.render_pdf_sync(html)

    cache = DocumentCache(max_bytes=16 * 1024 * 1024)
    monkeypatch.setattr(pdf_module.anyio.to_thread, "run_sync", _run_sync_with(counting))
    page = PAGE.replace("Moabit:", "Wedding:")
    first, second, third = await asyncio.gather(*(cache.render(page) for _ in range(3)))
    assert first == second == third
    assert len(calls) == 1
    assert await cache.render(page) is first  # later: from memory
    assert len(calls) == 1
    other = await cache.render(PAGE.replace("Moabit:", "Gesundbrunnen:"))
    assert other != first and len(calls) == 2
    assert "Gesundbrunnen" in PdfReader(io.BytesIO(other)).pages[0].extract_text()


async def test_a_failed_rendering_reaches_every_waiting_request_and_is_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[str] = []

    def failing_once(html: str) -> bytes:
        attempts.append(html)
        if len(attempts) == 1:
            raise RuntimeError("layout failed")
        return pdf_module.render_pdf_sync(html)

    cache = DocumentCache(max_bytes=16 * 1024 * 1024)
    monkeypatch.setattr(pdf_module.anyio.to_thread, "run_sync", _run_sync_with(failing_once))
    results = await asyncio.gather(cache.render(PAGE), cache.render(PAGE), return_exceptions=True)
    assert [str(result) for result in results] == ["layout failed", "layout failed"]
    assert (await cache.render(PAGE)).startswith(b"%PDF")  # tried again, not a kept failure
    assert len(attempts) == 2


def test_the_cache_keeps_the_most_recently_used_documents_within_its_size() -> None:
    cache = DocumentCache(max_bytes=10)
    cache.put(b"a", b"1234")
    cache.put(b"b", b"5678")
    assert cache.get(b"a") == b"1234"  # now the most recently used
    cache.put(b"c", b"90ab")  # 12 bytes: the least recently used (b) goes
    assert cache.get(b"b") is None
    assert cache.get(b"a") == b"1234" and cache.get(b"c") == b"90ab"
    cache.put(b"d", b"x" * 11)  # larger than the whole cache: not kept, nothing evicted
    assert cache.get(b"d") is None and cache.get(b"a") == b"1234"


def _run_sync_with(function: Callable[[str], bytes]) -> Callable[..., Awaitable[bytes]]:
    """A stand-in for anyio's `run_sync` that runs `function` in a thread, slowly enough that
    concurrent requests overlap."""

    async def run_sync(_: object, html: str) -> bytes:
        await asyncio.sleep(0.05)
        return await asyncio.to_thread(function, html)

    return run_sync
