"""Printable documents as PDF: the same HTML a browser prints, rendered by WeasyPrint.

Reports and decision templates are written once, as Jinja templates for a printable page; this
module turns that HTML into a tagged PDF (PDF/UA-1, so screen readers and text extraction see
headings, tables and reading order). WeasyPrint lays out with Pango (Debian's libpango, which
Chromium's package also brings).

Rendering never reaches the network: only `static/` files of this deployment and `data:` URIs
are fetched, so a report cannot be made to leak a request, and it renders the same offline.
Layout is CPU-bound and synchronous, so it runs in a worker thread.
"""

from __future__ import annotations

import logging
import mimetypes
import sys
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


async def render_pdf(html: str) -> bytes:
    """`render_pdf_sync` in a worker thread (layout takes tens to hundreds of milliseconds)."""
    return await anyio.to_thread.run_sync(render_pdf_sync, html)
