"""The HTML pages: a resident gives feedback without JavaScript, planners draft, version and
step a measure through its lifecycle, the summary and the chain from needs to measures."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import LoginFactory
from tests.support.disclosure import without_noise  # noqa: F401

from .conftest import Client, CreateMeasure, Headers, Json, set_premoderation

HTML = {"Accept": "text/html", "Accept-Language": "en"}
Consult = Callable[..., Awaitable[Json]]


def csrf(page_text: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page_text)
    assert match is not None
    return match.group(1)


def hidden(page_text: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page_text)
    assert match is not None
    return match.group(1)


async def test_residents_find_the_measures_in_consultation_for_their_area(
    client: Client, create_measure: CreateMeasure, consult: Consult, measuring_process: uuid.UUID
) -> None:
    """`?area=`: the measures covering the area, an area it lies in or one within it."""
    west = await create_measure(title="Nur Moabit West", area_codes=["010101"])
    east = await create_measure(title="Nur Moabit Ost", area_codes=["010102"])
    mitte = await create_measure(title="Ganz Mitte", area_codes=["0101"])
    for measure_id in (west, east, mitte):
        await consult(measure_id)
    url = f"/processes/{measuring_process}/measures"
    everything = await client.get(url, headers=HTML)
    assert all(f"/measures/{m}" in everything.text for m in (west, east, mitte))
    assert '<select class="select" id="area" name="area">' in everything.text
    chosen = await client.get(f"{url}?area=010101", headers=HTML)
    assert chosen.status_code == 200, chosen.text
    assert f"/measures/{west}" in chosen.text and f"/measures/{mitte}" in chosen.text
    assert f"/measures/{east}" not in chosen.text
    assert '<option value="010101" selected>' in chosen.text
    district = await client.get(f"{url}?area=0101", headers=HTML)
    assert all(f"/measures/{m}" in district.text for m in (west, east, mitte))
    unknown = await client.get(f"{url}?area=nirgends", headers=HTML)
    assert all(f"/measures/{m}" in unknown.text for m in (west, east, mitte))


async def test_a_resident_gives_feedback_on_the_measure_page(
    client: Client, create_measure: CreateMeasure, consult: Consult, measuring_process: uuid.UUID
) -> None:
    measure_id = await create_measure()
    await consult(measure_id)
    listing = await client.get(f"/processes/{measuring_process}/measures", headers=HTML)
    assert f"/measures/{measure_id}" in listing.text
    page = await client.get(f"/measures/{measure_id}", headers=HTML)
    assert page.status_code == 200
    assert "Offene Sprechstunde dienstags." in page.text
    assert 'name="comment-offer"' in page.text and 'name="rating-relevance"' in page.text
    form = {
        "csrf_token": csrf(page.text),
        "idempotency_key": hidden(page.text, "idempotency_key"),
        "kind": "resident",
    }
    missing = await client.post(f"/measures/{measure_id}/feedback", data=form, headers=HTML)
    assert missing.status_code == 200
    assert 'class="error-summary"' in missing.text and 'href="#stance"' in missing.text
    form.update({"stance": "support", "rating-relevance": "5", "comment-offer": "Auch abends"})
    sent = await client.post(f"/measures/{measure_id}/feedback", data=form, headers=HTML)
    assert sent.status_code == 200
    assert "notification--success" in sent.text
    # a re-sent form (same key) shows the same receipt and stores nothing new
    again = await client.post(f"/measures/{measure_id}/feedback", data=form, headers=HTML)
    receipt = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}")
    assert receipt.search(sent.text).group(0) == receipt.search(again.text).group(0)  # type: ignore[union-attr]
    # a new form from the same browser is refused
    form["idempotency_key"] = "another-key-123"
    twice = await client.post(f"/measures/{measure_id}/feedback", data=form, headers=HTML)
    assert "already given feedback" in twice.text


async def test_a_planner_drafts_edits_and_consults(
    client: Client, planner: Headers, measuring_process: uuid.UUID
) -> None:
    headers = {**planner, **HTML}
    base = f"/dashboard/processes/{measuring_process}/measures"
    form = await client.get(f"{base}/new", headers=headers)
    assert form.status_code == 200 and 'name="resources-1-amount"' in form.text
    data = {
        "title": "Jugendtreff Wedding",
        "summary": "Ein offener Treff.",
        "area_codes": "0102",
        "target_groups": "Jugendliche\nEltern",
        "resources-0-label": "Personal",
        "resources-0-amount": "1,5",
        "resources-0-unit": "fte",
        "resources-0-period": "per_year",
        "resources-1-label": "",
        "resources-1-amount": "",
        "resources-1-unit": "fte",
        "resources-1-period": "per_year",
        "sections-0-key": "offer",
        "sections-0-title": "Angebot",
        "sections-0-body": "Dienstags offen.",
    }
    bad = await client.post(f"{base}/new", data={**data, "area_codes": "zz"}, headers=headers)
    assert bad.status_code == 422 and 'href="#area_codes-0"' in bad.text
    created = await client.post(f"{base}/new", data=data, headers=headers, follow_redirects=False)
    assert created.status_code == 303, created.text
    staff_url = created.headers["location"]
    staff = await client.get(staff_url, headers=headers)
    assert "1.5 FTE" in staff.text or "1,5" in staff.text or "1.5" in staff.text
    assert "Open the consultation" in staff.text

    measure_id = staff_url.rsplit("/", 1)[1]
    edited = await client.post(
        f"/dashboard/measures/{measure_id}/edit",
        data={**data, "sections-0-body": "Dienstags und freitags offen."},
        headers=headers,
        follow_redirects=False,
    )
    assert edited.status_code == 303
    diff = await client.get(
        f"/dashboard/measures/{measure_id}/diff?from_version=1&to_version=2", headers=headers
    )
    assert "sections.offer" in diff.text and "freitags" in diff.text

    opened = await client.post(
        f"/dashboard/measures/{measure_id}/step",
        data={"step": "start_consultation", "days": "14", "summary_public": "yes", "reason": "ok"},
        headers=headers,
        follow_redirects=False,
    )
    assert opened.status_code == 303
    no_reason = await client.post(
        f"/dashboard/measures/{measure_id}/step",
        data={"step": "revise", "reason": ""},
        headers=headers,
    )
    assert no_reason.status_code == 422 and 'href="#reason"' in no_reason.text
    page = await client.get(f"/measures/{measure_id}", headers=HTML)
    assert 'action="/measures/' in page.text


async def test_a_planner_sets_a_goal(
    client: Client, planner: Headers, measuring_process: uuid.UUID
) -> None:
    headers = {**planner, **HTML}
    url = f"/dashboard/processes/{measuring_process}/goals/new"
    assert (await client.get(url, headers=headers)).status_code == 200
    saved = await client.post(
        url,
        data={
            "statement": "Mehr Kitaplätze",
            "need_categories": "childcare",
            "area_codes": "0101",
            "evidence-0-label": "Kitabericht",
            "evidence-0-url": "https://example.org/kita",
        },
        headers=headers,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    overview = await client.get(saved.headers["location"], headers=headers)
    assert "Mehr Kitaplätze" in overview.text
    chain = await client.get(f"/processes/{measuring_process}/traceability", headers=HTML)
    assert "Mehr Kitaplätze" in chain.text


async def test_the_summary_page_shows_charts_and_named_statements(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
    without_noise: None,  # noqa: F811 - the page's structure, with exact counts
) -> None:
    measure_id = await create_measure()
    await consult(measure_id, k_threshold=3, min_respondents=3)
    for index in range(4):
        response = await client.post(
            f"/api/v1/measures/{measure_id}/feedback",
            json={"stance": "support", "ratings": {"relevance": 4}},
            headers={"Respondent-Token": f"page-token-{index:04d}-abcdef"},
        )
        assert response.status_code == 201
    summary = await client.get(f"/measures/{measure_id}/summary", headers={**planner, **HTML})
    assert summary.status_code == 200
    assert 'class="bar-chart"' in summary.text
    assert "4.0" in summary.text
    # the groups without responses (professionals, the measure's area) are protected
    assert "protected" in summary.text
    # not public while the consultation runs
    assert (await client.get(f"/measures/{measure_id}/summary", headers=HTML)).status_code == 403


async def test_moderators_hide_and_restore_feedback_comments_on_their_page(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    login_as: LoginFactory,
) -> None:
    measure_id = await create_measure()
    await consult(measure_id)
    sent = await client.post(
        f"/api/v1/measures/{measure_id}/feedback",
        json={
            "stance": "oppose",
            "comments": [{"section": "offer", "body": "Unsinn, ihr Idioten."}],
        },
        headers={"Respondent-Token": "moderation-page-token-abcdef"},
    )
    assert sent.status_code == 201, sent.text
    moderator = {**(await login_as("moderator")), **HTML}
    url = f"/dashboard/measures/{measure_id}/comments"
    page = await client.get(url, headers=moderator)
    assert page.status_code == 200, page.text
    assert "Unsinn, ihr Idioten." in page.text and ">Angebot</span>" in page.text
    comment_id = re.search(rf'action="{url}/([0-9a-f-]+)"', page.text).group(1)  # type: ignore[union-attr]

    missing = await client.post(
        f"{url}/{comment_id}", data={"moderation": "hidden", "reason": ""}, headers=moderator
    )
    assert missing.status_code == 422
    assert f'href="#reason-{comment_id}"' in missing.text
    hidden = await client.post(
        f"{url}/{comment_id}",
        data={"moderation": "hidden", "reason": "Beleidigung"},
        headers=moderator,
        follow_redirects=False,
    )
    assert hidden.status_code == 303, hidden.text
    page = await client.get(url, headers=moderator)
    assert "Hidden by moderation" in page.text and ": Beleidigung" in page.text
    assert ">Restore<" in page.text
    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    assert summary["comments"] == []

    # planners read the page (linked from the measure's staff page) but do not moderate
    staff = await client.get(f"/dashboard/measures/{measure_id}", headers={**planner, **HTML})
    assert f'href="{url}"' in staff.text
    read = await client.get(url, headers={**planner, **HTML})
    assert read.status_code == 200 and "Beleidigung" in read.text
    assert f'action="{url}/' not in read.text and ">Restore<" not in read.text
    refused = await client.post(
        f"{url}/{comment_id}", data={"moderation": "visible"}, headers={**planner, **HTML}
    )
    assert refused.status_code == 403
    restored = await client.post(
        f"{url}/{comment_id}",
        data={"moderation": "visible"},
        headers=moderator,
        follow_redirects=False,
    )
    assert restored.status_code == 303
    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    assert [c["body"] for c in summary["comments"]] == ["Unsinn, ihr Idioten."]


async def test_moderators_find_waiting_feedback_comments_from_the_dashboard_and_publish_them(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    login_as: LoginFactory,
    engine: AsyncEngine,
    measuring_process: uuid.UUID,
) -> None:
    """Where the process pre-moderates, the dashboard and the process page lead moderators to
    the measure's comments page, where a waiting comment is published."""
    await set_premoderation(engine, measuring_process, on=True)
    measure_id = await create_measure(title="Wartende Kommentare")
    await consult(measure_id)
    sent = await client.post(
        f"/api/v1/measures/{measure_id}/feedback",
        json={"stance": "support", "general_comment": "Sehr gut."},
        headers={"Respondent-Token": "premoderation-page-token-abcdef"},
    )
    assert sent.status_code == 201, sent.text
    moderator = {**(await login_as("moderator")), **HTML}
    url = f"/dashboard/measures/{measure_id}/comments"
    dashboard = await client.get("/dashboard", headers=moderator)
    assert dashboard.status_code == 200, dashboard.text
    assert "Feedback on measures: moderation" in dashboard.text
    assert f'href="{url}"' in dashboard.text and "Wartende Kommentare (1)" in dashboard.text
    process_page = await client.get(f"/processes/{measuring_process}", headers=moderator)
    assert process_page.status_code == 200, process_page.text
    assert f'href="{url}"' in process_page.text
    resident_view = await client.get(f"/processes/{measuring_process}", headers=HTML)
    assert f'href="{url}"' not in resident_view.text

    page = await client.get(url, headers=moderator)
    assert "Waiting for moderation" in page.text and ">Publish<" in page.text
    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    assert summary["comments"] == []
    comment_id = re.search(rf'action="{url}/([0-9a-f-]+)"', page.text).group(1)  # type: ignore[union-attr]
    published = await client.post(
        f"{url}/{comment_id}",
        data={"moderation": "visible"},
        headers=moderator,
        follow_redirects=False,
    )
    assert published.status_code == 303, published.text
    page = await client.get(url, headers=moderator)
    assert ">Publish<" not in page.text and ">Hide<" in page.text
    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    assert [c["body"] for c in summary["comments"]] == ["Sehr gut."]
    dashboard = await client.get("/dashboard", headers=moderator)
    assert f'href="{url}"' not in dashboard.text
