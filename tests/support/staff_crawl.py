"""A crawl of the staff pages (issue #12): signed in, from the workspace's start page, every
same-origin GET link (`<a href>`) into the staff area (`/dashboard…`, `/workspace…`) is fetched
once, breadth first to a bounded depth, also where the link is on a public page a staff page
links to (e.g. a process's page, whose staff sections link to its report editor); downloads
(PDF, CSV, XLSX, GeoJSON, exports, letters), the API and static files are not followed. Each
page is recorded with its status, media type and size, raw and
gzip-compressed (level 6, as a web server compresses HTML). Used by
tests/workspace/test_page_sizes.py (every page 200 HTML, within the budget) and
bench/staff_pages.py (the table)."""

from __future__ import annotations

import gzip
import re
from collections import deque
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

START = ("/dashboard",)  # the staff start page: the workspace is linked from it
STAFF_PREFIXES = ("/dashboard", "/workspace")
SKIPPED_PREFIXES = ("/api/", "/static/", "/logout", "/auth/")
MAX_DEPTH = 4
MAX_PAGES = 400
# Downloads and documents, not pages.
DOWNLOAD = re.compile(
    r"(\.(pdf|csv|xlsx|xls|geojson|json|zip)$)|/(pdf|export|exports|download|letters)(/|$)"
    r"|/codes$|/xlsform"
)
ORIGIN = "https://testserver.local"


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    depth: int
    status: int
    content_type: str
    raw: int
    gzipped: int
    html: str


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links(url: str, html: str) -> list[str]:
    """The same-origin pages a page links to (path and query, no fragment), without downloads,
    the API and static files."""
    parser = _Links()
    parser.feed(html)
    found: list[str] = []
    for href in parser.hrefs:
        absolute = urlsplit(urljoin(ORIGIN + url, href))
        if f"{absolute.scheme}://{absolute.netloc}" != ORIGIN:
            continue
        if absolute.path.startswith(SKIPPED_PREFIXES) or DOWNLOAD.search(absolute.path):
            continue
        found.append(absolute.path + (f"?{absolute.query}" if absolute.query else ""))
    return found


def is_staff(url: str) -> bool:
    return url.startswith(STAFF_PREFIXES)


def gzip_size(content: bytes) -> int:
    return len(gzip.compress(content, compresslevel=6, mtime=0))


async def crawl(client: Any, headers: dict[str, str]) -> list[Page]:
    """Every staff page reachable from START (each URL once), in the order fetched.

    Staff pages also link to pages of the public site that show staff more (a process's page
    links to its report editor and measures): such a page is fetched too, for its links into
    the staff area only, and is not itself one of the pages returned."""
    queue = deque((url, 0) for url in START)
    seen = set(START)
    pages: list[Page] = []
    while queue and len(pages) < MAX_PAGES:
        url, depth = queue.popleft()
        response = await client.get(
            url, headers={**headers, "Accept": "text/html"}, follow_redirects=False
        )
        content_type = response.headers.get("content-type", "")
        staff = is_staff(url)
        if staff:
            pages.append(
                Page(
                    url=url,
                    depth=depth,
                    status=response.status_code,
                    content_type=content_type,
                    raw=len(response.content),
                    gzipped=gzip_size(response.content),
                    html=response.text,
                )
            )
        if depth >= MAX_DEPTH or not content_type.startswith("text/html"):
            continue
        for link in links(url, response.text):
            if link not in seen and (staff or is_staff(link)):
                seen.add(link)
                queue.append((link, depth + 1))
    return pages


def template(url: str) -> str:
    """The page a URL is an instance of: ids replaced, e.g. `/workspace/processes/{id}`."""
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "{id}", url)


def table(pages: list[Page]) -> list[str]:
    """Markdown rows, one per kind of page (its heaviest instance), heaviest (gzip) first."""
    heaviest: dict[str, Page] = {}
    counts: dict[str, int] = {}
    for page in pages:
        kind = template(page.url)
        counts[kind] = counts.get(kind, 0) + 1
        if kind not in heaviest or page.gzipped > heaviest[kind].gzipped:
            heaviest[kind] = page
    rows = [
        "| page (heaviest instance) | pages | status | raw KiB | gzip KiB |",
        "|---|---|---|---|---|",
    ]
    for kind, page in sorted(heaviest.items(), key=lambda item: item[1].gzipped, reverse=True):
        rows.append(
            f"| `{kind}` | {counts[kind]} | {page.status} | {page.raw / 1024:.1f} | "
            f"{page.gzipped / 1024:.1f} |"
        )
    return rows
