"""Printable documents as PDF: the same HTML a browser prints, rendered by WeasyPrint.

Reports and decision templates are written once, as Jinja templates for a printable page; this
module turns that HTML into a tagged PDF (PDF/UA-1, so screen readers and text extraction see
headings, tables and reading order). WeasyPrint lays out with Pango (Debian's libpango, which
Chromium's package also brings).

Rendering never reaches the network: only `static/` files of this deployment and `data:` URIs
are fetched, so a report cannot be made to leak a request, and it renders the same offline.
Layout is CPU-bound and synchronous, so it runs in a worker thread.

The PDF is a pure function of the HTML (and of this deployment's static files), so each process
keeps the documents it rendered last, keyed by a hash of their HTML, and renders a document that
several requests ask for at the same time once. A released social report over Berlin's 447
planning areas takes WeasyPrint tens of seconds of CPU; every later download of the same report
(the same text in the same language on the same day) is served from memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import anyio.to_thread

PDF_MEDIA_TYPE = "application/pdf"
# The site's stylesheets are written for browsers (clamp(), SVG properties, forced-colors):
# WeasyPrint reports every rule it skips, on every render. Errors still reach the log.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
# WeasyPrint lays out recursively: the consultation report with its maps goes 834 Python frames
# deep in the rendering thread (measured 2026-12-07), against CPython's default limit of 1000.
# Anything the garbage collector finalises at that depth (and the report of an exception there)
# then fails with RecursionError — seen as 86 "unraisable" RecursionErrors in one CI test run.
# Python-to-Python calls do not grow the C stack in CPython 3.11, so a higher limit is safe.
RECURSION_LIMIT = 4000
if sys.getrecursionlimit() < RECURSION_LIMIT:
    sys.setrecursionlimit(RECURSION_LIMIT)
STATIC_DIR = Path(__file__).resolve().parents[3] / "frontend" / "static"
STATIC_PREFIX = "/static/"


class RefusedFetch(ValueError):
    """A document asked for a resource outside this deployment's static files."""


def static_file(url: str) -> Path:
    """The static file a document's URL names, or `RefusedFetch`."""
    path = url.removeprefix("file://")
    marker = path.find(STATIC_PREFIX)
    if not url.startswith("file://") or marker < 0:
        raise RefusedFetch(url)
    target = (STATIC_DIR / path[marker + len(STATIC_PREFIX) :]).resolve()
    if not target.is_relative_to(STATIC_DIR) or not target.is_file():
        raise RefusedFetch(url)
    return target


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):  # type: ignore[misc]
        """Data URIs as WeasyPrint reads them; files only from `static/`; nothing else."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            target = static_file(url)
            # Without a media type WeasyPrint ignores a stylesheet ("text/plain").
            media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                target.as_uri(), target.read_bytes(), headers={"Content-Type": media_type}
            )

    return StaticOnly(allowed_protocols=("data", "file"))


def render_pdf_sync(html: str) -> bytes:
    """Lay out `html` (a whole printable page) as a tagged PDF.

    The page's `<title>` becomes the document title and `<html lang>` its language, both of
    which PDF/UA requires; templates must set them.
    """
    from weasyprint import HTML

    document = HTML(string=html, base_url=f"file://{STATIC_DIR.parent}/", url_fetcher=_fetcher())
    pdf = document.write_pdf(pdf_variant="pdf/ua-1", custom_metadata=True, uncompressed_pdf=False)
    if not isinstance(pdf, bytes):  # write_pdf returns bytes when no target is given
        raise TypeError("WeasyPrint returned no document")
    return pdf


class DocumentCache:
    """The PDFs rendered last, by the SHA-256 of their HTML, within a bound on their total size
    (least recently used go first); and the renderings under way, so that requests for the same
    document wait for one rendering instead of each starting their own."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._documents: OrderedDict[bytes, bytes] = OrderedDict()
        self._size = 0
        self._rendering: dict[tuple[int, bytes], asyncio.Future[bytes]] = {}

    def get(self, key: bytes) -> bytes | None:
        document = self._documents.get(key)
        if document is not None:
            self._documents.move_to_end(key)
        return document

    def put(self, key: bytes, document: bytes) -> None:
        if len(document) > self.max_bytes or key in self._documents:
            return
        self._documents[key] = document
        self._size += len(document)
        while self._size > self.max_bytes:
            _, evicted = self._documents.popitem(last=False)
            self._size -= len(evicted)

    def clear(self) -> None:
        self._documents.clear()
        self._size = 0

    async def render(self, html: str) -> bytes:
        key = hashlib.sha256(html.encode()).digest()
        if (document := self.get(key)) is not None:
            return document
        # Futures belong to one event loop (the test suite runs apps on more than one).
        flight = (id(asyncio.get_running_loop()), key)
        while (pending := self._rendering.get(flight)) is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                # The request that was rendering went away: render here instead, unless it is
                # this request that is being cancelled.
                if not pending.cancelled() or _being_cancelled():
                    raise
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._rendering[flight] = future
        try:
            document = await anyio.to_thread.run_sync(render_pdf_sync, html)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved: nobody may be waiting
            raise
        finally:
            del self._rendering[flight]
        future.set_result(document)
        self.put(key, document)
        return document


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


# 64 MiB: a hundred reports of the size of Berlin's social report (about 0.6 MB each).
documents = DocumentCache(max_bytes=64 * 1024 * 1024)


async def render_pdf(html: str) -> bytes:
    """The PDF of `html`: from the cache, or laid out by `render_pdf_sync` in a worker thread."""
    return await documents.render(html)
