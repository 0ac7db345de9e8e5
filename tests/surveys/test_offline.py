"""Answering a survey offline (issue #14 §2), as far as the server takes part: the service
worker's route and headers, the Content-Security-Policy that allows it, the blank offline page
survey.js caches, the submission of pages answered offline (checked and stored once, by its
Idempotency-Key), and the page budget of 30 KB compressed in every interface language.
The journey in a browser is tests/browser/test_offline.py."""

from __future__ import annotations

import gzip
import html
import re
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.settings import PROJECT_ROOT
from quartier.surveys import offline
from tests.surveys.test_pages import (
    FAMILY,
    FIRST_PAGE,
    HTML,
    NEIGHBOURHOOD,
    PRIORITIES,
    Client,
    Resident,
    count_responses,
    main_of,
    receipt_of,
    resident,
    stored_answers,
    survey_id,
)

__all__ = ["resident", "survey_id"]  # the fixtures of test_pages, shared

BUDGET = 30 * 1024  # bytes, gzip-compressed: a page with the files it loads
STATIC = PROJECT_ROOT / "frontend"


def attribute(text: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', text)
    assert match, f"no {name} in the page"
    return html.unescape(match.group(1))


# -- the worker ------------------------------------------------------------------------------------


async def test_the_worker_is_javascript_for_the_survey_scope_and_always_revalidated(
    client: Client,
) -> None:
    response = await client.get(offline.WORKER_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/surveys/"
    assert response.headers["cache-control"] == "no-cache"
    assert "set-cookie" not in response.headers
    assert response.content == (STATIC / "static/js/survey-worker.js").read_bytes()
    assert 'addEventListener("fetch"' in response.text
    # Form posts and the API never go through the worker's cache.
    assert 'request.method !== "GET"' in response.text


async def test_the_content_security_policy_allows_only_our_own_worker(
    client: Client, resident: Resident
) -> None:
    await resident.open()
    for response in (resident.page, await client.get(offline.WORKER_PATH)):
        csp = response.headers["content-security-policy"]
        assert "worker-src 'self'" in csp
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp


async def test_survey_pages_name_the_worker_and_cache_only_public_survey_pages(
    resident: Resident, survey_id: str
) -> None:
    await resident.open("?lang=en")
    assert attribute(resident.text, "data-offline-worker") == offline.WORKER_PATH
    urls = attribute(resident.text, "data-offline-cache").split()
    assert urls[:2] == [f"/surveys/{survey_id}?lang=en", f"/surveys/{survey_id}/offline?lang=en"]
    assert set(urls[2:]) == set(offline.STATIC_FILES)
    assert not [u for u in urls if u.startswith(("/api", "/dashboard", "/workspace"))]
    # A question page (a form post) names the same cache and is itself never stored.
    await resident.start()
    assert attribute(resident.text, "data-offline-cache").split() == urls
    assert resident.page.headers["cache-control"] == "no-store"


# -- the offline page -----------------------------------------------------------------------------


async def test_the_offline_page_holds_every_page_blank_with_its_conditions(
    client: Client, survey_id: str
) -> None:
    response = await client.get(f"/surveys/{survey_id}/offline", headers=HTML)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert not [c for c in response.headers.get_list("set-cookie") if "quartier_rs_" in c]
    main = main_of(response.text)
    pages = re.findall(r'data-offline-page="([^"]+)"', main)
    assert pages == ["about_you", "family", "neighbourhood", "check"]
    family = re.search(r'data-offline-page="family" data-show-if="([^"]+)"', main)
    assert family
    assert html.unescape(family.group(1)) == ('{"op":"equals","question":"children","value":"yes"}')
    assert 'data-offline-question="missing"' in main and "data-list" in main
    assert "checked" not in main and "selected>" not in main  # nobody's answers
    # Without JavaScript: a note and the way to the survey instead of hidden forms.
    assert "data-offline-nojs" in main and f'href="/surveys/{survey_id}"' in main
    assert re.search(r"<form[^>]*data-offline-form[^>]*hidden", main)


# -- submitting pages answered offline ------------------------------------------------------------


def offline_post(state: str, csrf: str, key: str, pages: str, *answers: dict[str, Any]) -> Any:
    data: dict[str, Any] = {
        "state": state,
        "csrf_token": csrf,
        "idempotency_key": key,
        "offline_pages": pages,
        "action": "submit",
    }
    for page in answers:
        data.update(page)
    return data


async def test_pages_answered_offline_are_checked_and_stored_once(
    resident: Resident, survey_id: str, engine: AsyncEngine
) -> None:
    await resident.open()
    await resident.start()
    await resident.next(**FIRST_PAGE)  # online up to here: the family page is shown
    form = resident.form()
    state, csrf = form.hidden()["state"], form.hidden()["csrf_token"]
    data = offline_post(
        state,
        csrf,
        "offline-0123456789abcdef",
        "family neighbourhood",
        FAMILY,
        PRIORITIES,
        NEIGHBOURHOOD,
    )
    url = f"/surveys/{survey_id}/submit"
    first = await resident.client.post(url, data=data, headers=HTML)
    assert first.status_code == 200, main_of(first.text)
    assert "data-survey-done" in first.text
    receipt = receipt_of(first.text)
    # The queue may send again (the connection dropped before the answer came): same receipt.
    again = await resident.client.post(url, data=data, headers=HTML)
    assert receipt_of(again.text) == receipt
    assert await count_responses(engine, survey_id) == 1
    [answers] = await stored_answers(engine, survey_id)
    assert answers["children"] == "yes"  # answered online
    assert answers["missing"] == ["kita", "homework"]  # answered offline
    assert answers["rent_share"] == 37.5  # parsed by the server, as a form post would be


async def test_an_offline_page_the_server_refuses_comes_back_to_be_corrected(
    resident: Resident, survey_id: str, engine: AsyncEngine
) -> None:
    await resident.open()
    await resident.start()
    await resident.next(**FIRST_PAGE)
    form = resident.form()
    wrong = {**NEIGHBOURHOOD, "q_household": "900"}
    data = offline_post(
        form.hidden()["state"],
        form.hidden()["csrf_token"],
        "offline-fedcba9876543210",
        "family neighbourhood",
        FAMILY,
        wrong,
    )
    response = await resident.client.post(f"/surveys/{survey_id}/submit", data=data, headers=HTML)
    assert "data-survey-done" not in response.text
    assert 'class="error-summary' in response.text and "q_household" in response.text
    assert await count_responses(engine, survey_id) == 0


async def test_a_survey_started_offline_is_stored_from_its_offline_pages(
    resident: Resident, survey_id: str, engine: AsyncEngine
) -> None:
    await resident.open()
    csrf = resident.form("data-survey-start").hidden()["csrf_token"]
    data = offline_post(
        "",
        csrf,
        "offline-00112233445566778899",
        "about_you family neighbourhood",
        FIRST_PAGE,
        FAMILY,
        PRIORITIES,
        NEIGHBOURHOOD,
    )
    response = await resident.client.post(f"/surveys/{survey_id}/submit", data=data, headers=HTML)
    assert "data-survey-done" in response.text, main_of(response.text)
    assert await count_responses(engine, survey_id) == 1


async def test_a_submit_without_answers_still_shows_the_intro(
    resident: Resident, survey_id: str, engine: AsyncEngine
) -> None:
    await resident.open()
    csrf = resident.form("data-survey-start").hidden()["csrf_token"]
    response = await resident.client.post(
        f"/surveys/{survey_id}/submit", data={"csrf_token": csrf}, headers=HTML
    )
    assert "data-survey-start" in response.text
    assert await count_responses(engine, survey_id) == 0


# -- the page budget ------------------------------------------------------------------------------


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def assets_of(text: str) -> list[str]:
    return re.findall(r'<(?:link rel="stylesheet"|script) (?:href|src)="(/static/[^"]+)"', text)


async def test_survey_pages_stay_within_30_kb_compressed_in_every_language(
    resident: Resident, survey_id: str, client: Client
) -> None:
    """Each resident page with the stylesheets and scripts it loads, gzip-compressed (what a
    phone downloads on a first visit), in German, English, Turkish and Arabic."""
    sizes: dict[str, dict[str, int]] = {}
    for language in ("de", "en", "tr", "ar"):
        query = f"?lang={language}"
        pages: dict[str, str] = {}
        await resident.open(query)
        pages["intro"] = resident.text
        await resident.start()
        pages["page"] = resident.text
        await resident.next(**FIRST_PAGE)
        await resident.next(**FAMILY)  # its answer shows the ranking on the same page
        await resident.next(**FAMILY, **PRIORITIES)
        await resident.next(**NEIGHBOURHOOD)
        pages["check"] = resident.text
        offline_page = await client.get(f"/surveys/{survey_id}/offline{query}", headers=HTML)
        pages["offline"] = offline_page.text
        await resident.send()
        pages["confirmation"] = resident.text
        for name, text in pages.items():
            assert f'lang="{language}"' in text[:400], (language, name)
            files = assets_of(text)
            assert files, name
            total = gzipped(text.encode()) + sum(
                gzipped((STATIC / path.lstrip("/")).read_bytes()) for path in files
            )
            sizes.setdefault(language, {})[name] = total
        client.cookies.clear()  # the next language answers as another resident
    report = "\n".join(
        f"{language}: " + ", ".join(f"{name} {size / 1024:.1f} KB" for name, size in pages.items())
        for language, pages in sizes.items()
    )
    print("\nsurvey pages, gzip incl. CSS/JS:\n" + report)  # the figures for the issue
    over = {
        (language, name): size
        for language, pages in sizes.items()
        for name, size in pages.items()
        if size >= BUDGET
    }
    assert not over, report


def test_budget_counts_the_files_the_layout_loads() -> None:
    layout = (STATIC / "templates/surveys/_layout.html").read_text()
    base = (STATIC / "templates/base.html").read_text()
    loaded = set(assets_of(base + layout))
    assert loaded == {p for p in offline.STATIC_FILES if not p.endswith(".svg")}
    assert all(Path(STATIC / p.lstrip("/")).is_file() for p in offline.STATIC_FILES)
