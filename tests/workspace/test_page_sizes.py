"""The weight of the staff pages (issue #12): an administrator on the demo data set crawls
every staff page reachable from the workspace by GET links (tests/support/staff_crawl.py);
each must answer 200 with HTML and stay within the budget, gzip-compressed. Every kind of
staff page must be reached by links alone: a page only an address typed by hand reaches is one
a planner never finds. The table of sizes is printed by bench/staff_pages.py."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.demo import load_demo
from quartier.settings import Settings
from tests.conftest import LoginFactory
from tests.support import staff_crawl

# Set from the measurement (bench/staff_pages.py on the demo data, December 2026): the heaviest
# staff page, a survey's results (/dashboard/surveys/{id}/results), is 97 KiB raw and 13 KiB
# gzipped; every other page is under 6 KiB gzipped. 32 KiB leaves that page room to grow by
# more than half again (more questions, more areas) and still loads in about a quarter of a
# second on a slow 3G connection (~1 Mbit/s); a page that crosses it has grown a table or an
# inline asset it should paginate or link instead.
BUDGET_GZIP = 32 * 1024


GERMAN_CATALOGUE = (
    Path(__file__).resolve().parents[2] / "frontend/locales/de/LC_MESSAGES/messages.po"
)


def _german_interface_texts() -> set[str]:
    """The German texts of the interface that an English page must not show: every translation
    of at least 20 characters that differs from its English source, without placeholders (so
    the text would appear verbatim) or markup."""
    with GERMAN_CATALOGUE.open("rb") as file:
        catalogue = read_po(file)
    texts = set()
    for message in catalogue:
        if not message.id or not isinstance(message.string, str) or message.fuzzy:
            continue
        german = message.string
        if len(german) >= 20 and german != message.id and not re.search(r"[%<{&]", german):
            texts.add(german)
    return texts


def _visible_text(html: str) -> str:
    """The page without scripts, styles and tags, whitespace collapsed."""
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_every_staff_page_answers_html_within_the_budget(
    client: AsyncTestClient[Litestar],
    engine: AsyncEngine,
    settings: Settings,
    login_as: LoginFactory,
) -> None:
    async with async_sessionmaker(engine)() as db, db.begin():
        await load_demo(db, settings=settings)
    admin = await login_as("admin")
    pages = await staff_crawl.crawl(client, admin)

    urls = {staff_crawl.template(page.url) for page in pages}
    for expected in (
        "/dashboard",
        "/workspace/processes/{id}",
        "/workspace/accounts",
        "/workspace/tokens",
        "/workspace/organisations",
        "/workspace/processes/{id}/report",
        "/workspace/surveys/{id}",
        "/workspace/processes/{id}/surveys/new",
        "/workspace/processes/{id}/surveys/import",
        "/dashboard/processes/{id}/measures",
        "/dashboard/measures/{id}",
        "/workspace/need-categories",
        "/dashboard/webhooks",
        "/dashboard/outbox",
    ):
        assert expected in urls, f"{expected} not reached: {sorted(urls)}"
    assert len(pages) < staff_crawl.MAX_PAGES, "the crawl hit its bound; raise it"
    failed = [
        f"{page.url}: {page.status} {page.content_type}"
        for page in pages
        if page.status != 200 or not page.content_type.startswith("text/html")
    ]
    assert not failed, "staff pages that are not 200 HTML:\n" + "\n".join(failed)
    heaviest = max(pages, key=lambda page: page.gzipped)
    assert heaviest.gzipped <= BUDGET_GZIP, (
        f"the heaviest staff page {heaviest.url} is {heaviest.gzipped / 1024:.1f} KiB gzipped "
        f"({heaviest.raw / 1024:.1f} KiB raw), over the budget of {BUDGET_GZIP // 1024} KiB"
    )


async def test_every_staff_page_is_english_when_english_is_asked_for(
    client: AsyncTestClient[Litestar],
    engine: AsyncEngine,
    settings: Settings,
    login_as: LoginFactory,
) -> None:
    """German first, English too (issue #12 §5): every staff page reached by the same crawl,
    asked for in English, says so (`<html lang="en">`) and shows none of the interface's
    German texts; the demo's own content is not interface text and is not checked."""
    async with async_sessionmaker(engine)() as db, db.begin():
        await load_demo(db, settings=settings)
    admin = await login_as("admin")
    german = _german_interface_texts()
    assert len(german) > 300, "the German catalogue was not read"
    crawled = await staff_crawl.crawl(client, {**admin, "Accept-Language": "en"})
    assert len({staff_crawl.template(page.url) for page in crawled}) > 60
    # The decision template is the council's document: German unless its own language choice
    # (`?lang=`, offered on the page) asks for another, whatever the reader's interface.
    pages = [page for page in crawled if not page.url.endswith("/decision-template")]
    assert len(pages) == len(crawled) - 1
    not_english = [page.url for page in pages if not re.search(r'<html[^>]*\blang="en"', page.html)]
    assert not not_english, "staff pages not marked English:\n" + "\n".join(not_english)
    leaks = [
        f"{page.url}: {text!r}"
        for page in pages
        for text in german
        if text in _visible_text(page.html)
    ]
    assert not leaks, "German interface text on English staff pages:\n" + "\n".join(leaks)
