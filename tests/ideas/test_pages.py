"""The ideas pages without JavaScript: browse, submit, follow, support, comment, report, the
moderation queue, the answer form, the moderation log, and the sections on process pages."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .conftest import TOKEN_A, Client, Headers, Ideas

HTML = {"Accept": "text/html", "Accept-Language": "en"}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


async def _post_form(client: Client, page_url: str, action: str, data: dict[str, Any]) -> Any:
    """Open the page (which sets the CSRF cookie) and post a form of it."""
    page = await client.get(page_url, headers=HTML)
    assert page.status_code == 200, page.text
    return await client.post(
        action, data={"csrf_token": _csrf(page.text), **data}, headers=HTML, follow_redirects=False
    )


async def test_submitting_on_the_form_leads_to_the_private_follow_page(
    ideas: Ideas, client: Client
) -> None:
    new = f"/processes/{ideas.process_id}/ideas/new"
    page = await client.get(new, headers=HTML)
    assert 'name="website"' in page.text and "Leopoldplatz" in page.text
    nonce = _hidden(page.text, "nonce")
    form = {
        "nonce": nonce,
        "title": "Ein Nachbarschaftscafé",
        "description": "Ein Ort, an dem sich Nachbarn aller Generationen treffen können.",
        "need_category": "belonging",
        "area_code": "010201",
        "target_groups": "Ältere, Familien",
        "notify_email": "",
        "website": "",
    }
    sent = await _post_form(client, new, new, form)
    assert sent.status_code == 303, sent.text
    follow = sent.headers["location"]
    assert follow.startswith("/ideas/follow/") and follow.endswith("?new=1")
    followed = await client.get(follow, headers=HTML)
    assert "Your idea has arrived" in followed.text and "Ein Nachbarschaftscafé" in followed.text
    assert "Withdraw my idea" in followed.text and "Save changes" in followed.text
    # the same form sent again (a double click) creates nothing new: the same follow page
    again = await _post_form(client, new, new, form)
    assert again.status_code == 303 and again.headers["location"] == follow


async def test_form_errors_are_summarised_and_name_the_field(ideas: Ideas, client: Client) -> None:
    new = f"/processes/{ideas.process_id}/ideas/new"
    sent = await _post_form(
        client,
        new,
        new,
        {
            "nonce": "n1",
            "title": "Ein Café",
            "description": "zu kurz",
            "need_category": "belonging",
            "area_code": "010201",
        },
    )
    assert sent.status_code == 400
    assert 'class="error-summary"' in sent.text and 'href="#description"' in sent.text
    assert 'value="Ein Café"' in sent.text  # what was typed stays


async def test_supporting_commenting_and_reporting_on_the_idea_page(
    ideas: Ideas, client: Client
) -> None:
    idea = await ideas.published()
    page_url = f"/ideas/{idea['id']}"
    supported = await _post_form(client, page_url, f"{page_url}/support", {"action": "support"})
    assert supported.status_code == 303
    assert "quartier_ri_" in supported.headers.get("set-cookie", "")
    page = await client.get(page_url, headers=HTML)
    assert "1 resident supports this idea." in page.text and "Withdraw my support" in page.text
    again = await _post_form(client, page_url, f"{page_url}/support", {"action": "support"})
    assert again.status_code == 303
    assert "1 resident supports this idea." in (await client.get(page_url, headers=HTML)).text
    commented = await _post_form(
        client, page_url, f"{page_url}/comments", {"body": "Sehr gute Idee!", "nonce": "c1"}
    )
    assert commented.status_code == 303 and "comment_pending" in commented.headers["location"]
    reported = await _post_form(
        client, f"{page_url}/report", f"{page_url}/report", {"reason": "Das ist Werbung"}
    )
    assert reported.status_code == 200 and "A moderator will look at your report" in reported.text


async def test_moderators_publish_from_the_queue_and_planners_answer(
    ideas: Ideas, client: Client, admin: Headers
) -> None:
    submitted = (await ideas.submit()).json()["idea"]
    queue = await client.get("/dashboard/ideas/moderation", headers=HTML | ideas.moderator)
    assert queue.status_code == 200 and "Mehr Bänke am Leopoldplatz" in queue.text
    published = await client.post(
        f"/dashboard/ideas/{submitted['id']}/moderate",
        data={"action": "publish", "next": "/dashboard/ideas/moderation"},
        headers=HTML | ideas.moderator,
        follow_redirects=False,
    )
    assert published.status_code == 303, published.text
    assert (await client.get(f"/ideas/{submitted['id']}", headers=HTML)).status_code == 200
    hide_without_reason = await client.post(
        f"/dashboard/ideas/{submitted['id']}/moderate",
        data={"action": "hide", "reason": ""},
        headers=HTML | ideas.moderator,
    )
    assert hide_without_reason.status_code == 422
    page = await client.get(f"/ideas/{submitted['id']}", headers=HTML | ideas.planner)
    assert "Save answer" in page.text
    answered = await client.post(
        f"/dashboard/ideas/{submitted['id']}/answer",
        data={"official_status": "accepted", "answer": "Wir stellen drei Bänke auf."},
        headers=HTML | ideas.planner,
        follow_redirects=False,
    )
    assert answered.status_code == 303
    public = await client.get(f"/ideas/{submitted['id']}", headers=HTML)
    assert "Accepted" in public.text and "Wir stellen drei Bänke auf." in public.text
    log = await client.get("/dashboard/ideas/log", headers=HTML | admin)
    assert log.status_code == 200 and "publish" in log.text
    assert (
        await client.get("/dashboard/ideas/log", headers=HTML | ideas.moderator)
    ).status_code == 403


async def test_browse_filters_and_the_process_page_section(ideas: Ideas, client: Client) -> None:
    idea = await ideas.published()
    await ideas.support(idea["id"], TOKEN_A)
    browse = await client.get(f"/processes/{ideas.process_id}/ideas", headers=HTML)
    assert browse.status_code == 200 and f'href="/ideas/{idea["id"]}"' in browse.text
    assert "1 support" in browse.text
    elsewhere = await client.get(f"/processes/{ideas.process_id}/ideas?area=0101", headers=HTML)
    assert f'href="/ideas/{idea["id"]}"' not in elsewhere.text
    process = await client.get(f"/processes/{ideas.process_id}", headers=HTML)
    assert 'id="module-ideas"' in process.text
    assert f'href="/processes/{ideas.process_id}/ideas/new"' in process.text
    staff = await client.get(f"/processes/{ideas.process_id}", headers=HTML | ideas.moderator)
    assert "Ideas: moderation and answers" in staff.text
    dashboard = await client.get("/dashboard", headers=HTML | ideas.moderator)
    assert 'href="/dashboard/ideas/moderation"' in dashboard.text


async def test_an_answer_mails_the_author_whose_link_stops_the_emails_without_signing_in(
    ideas: Ideas, client: Client, engine: AsyncEngine
) -> None:
    idea = await ideas.published(notify_email="c@example.org", email_consent=True)
    answer = {"official_status": "under_review", "answer": "Wir prüfen das."}
    answered = await client.put(
        f"/api/v1/ideas/{idea['id']}/answer", json=answer, headers=ideas.planner
    )
    assert answered.status_code == 200, answered.text
    again = await client.put(
        f"/api/v1/ideas/{idea['id']}/answer", json=answer, headers=ideas.planner
    )
    assert again.status_code == 200  # unchanged: no second mail
    async with engine.connect() as connection:
        mails = (
            await connection.execute(text("SELECT payload FROM jobs WHERE kind = 'mail.send'"))
        ).all()
    assert len(mails) == 1
    mail = mails[0].payload
    assert mail["to"] == "c@example.org" and "Wir prüfen das." in mail["body"]
    stop = mail["unsubscribe_url"]
    assert stop in mail["body"] and "c@example.org" not in stop
    path = stop[stop.index("/ideas/") :]

    forged = await client.get(path[:-3] + "AAA", headers=HTML)
    assert forged.status_code == 404
    # Opening the link deletes nothing (a mail scanner may follow it); the button does.
    response = await _post_form(
        client, path, f"/ideas/{idea['id']}/stop-emails", {"token": path.split("token=")[1]}
    )
    assert response.status_code == 200, response.text
    assert "no more e-mails" in response.text
    async with engine.connect() as connection:
        kept = await connection.scalar(
            text("SELECT notify_email FROM ideas WHERE id = :id"), {"id": idea["id"]}
        )
    assert kept is None
