"""Mails to idea authors are written in the interface language they used when they asked for
them (`ideas.notify_language`: the language code only), from the translation catalogues, with
the official answer in that language where staff gave one; German otherwise."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.surveys.conftest import Client

from .conftest import Ideas, idea_body

GERMAN = "Wir stellen drei Bänke auf."
ENGLISH = "We are putting up three benches."


async def _asked_in(ideas: Ideas, client: Client, language: str | None, email: str) -> Any:
    headers = {"Accept-Language": language} if language else {}
    response = await client.post(
        f"/api/v1/processes/{ideas.process_id}/ideas",
        json=idea_body(
            title=f"Bänke am Markt {email[0]}",
            description=f"Mehr Bänke am Markt, bitte ({email}).",
            notify_email=email,
            email_consent=True,
        ),
        headers=headers,
    )
    assert response.status_code == 201, response.text
    idea_id = response.json()["idea"]["id"]
    published = await client.post(f"/api/v1/ideas/{idea_id}/publish", headers=ideas.moderator)
    assert published.status_code == 200, published.text
    answered = await client.put(
        f"/api/v1/ideas/{idea_id}/answer",
        json={
            "official_status": "accepted",
            "answer": GERMAN,
            "translations": {"en": {"official_answer": ENGLISH}},
        },
        headers=ideas.planner,
    )
    assert answered.status_code == 200, answered.text
    return idea_id


async def _mail_to(engine: AsyncEngine, address: str) -> dict[str, Any]:
    async with engine.connect() as connection:
        payload = await connection.scalar(
            text("SELECT payload FROM jobs WHERE kind = 'mail.send' AND payload->>'to' = :to"),
            {"to": address},
        )
    assert payload is not None
    return dict(payload)


async def test_a_mail_asked_for_in_english_or_arabic_is_written_in_it(
    ideas: Ideas, client: Client, engine: AsyncEngine
) -> None:
    english_id = await _asked_in(ideas, client, "en", "e@example.org")
    arabic_id = await _asked_in(ideas, client, "ar", "a@example.org")
    await _asked_in(ideas, client, None, "d@example.org")

    async with engine.connect() as connection:
        stored = dict(
            (await connection.execute(text("SELECT id::text, notify_language FROM ideas"))).all()
        )
    assert stored[english_id] == "en" and stored[arabic_id] == "ar"  # the code, nothing else

    english = await _mail_to(engine, "e@example.org")
    assert english["subject"].startswith("Quartier: an answer to your idea")
    assert "has an official answer." in english["body"]
    assert "Status: Accepted" in english["body"]
    assert ENGLISH in english["body"] and GERMAN not in english["body"]
    assert "Ihre Idee" not in english["body"]

    arabic = await _mail_to(engine, "a@example.org")
    assert "مقبولة" in arabic["body"] or "مقبول" in arabic["body"]  # "Accepted"
    assert "has an official answer" not in arabic["body"]
    assert any("\u0600" <= char <= "\u06ff" for char in arabic["subject"])
    # No Arabic answer: the German one, and a sentence in Arabic saying it is German.
    assert GERMAN in arabic["body"] and "Deutsch" in arabic["body"]

    german = await _mail_to(engine, "d@example.org")
    assert "Ihre Idee" in german["body"] and "Status: Angenommen" in german["body"]
    assert GERMAN in german["body"] and ENGLISH not in german["body"]


async def test_stopping_the_mails_forgets_the_language_with_the_address(
    ideas: Ideas, client: Client, engine: AsyncEngine
) -> None:
    idea = await ideas.published(notify_email="w@example.org", email_consent=True)
    query = text("SELECT notify_email, notify_language FROM ideas WHERE id = :id")
    async with engine.connect() as connection:
        before = (await connection.execute(query, {"id": idea["id"]})).one()
    assert tuple(before) == ("w@example.org", "de")
    stopped = await client.delete(f"/api/v1/followed-ideas/{idea['follow_token']}/email")
    assert stopped.status_code in (200, 204), stopped.text
    async with engine.connect() as connection:
        after = (await connection.execute(query, {"id": idea["id"]})).one()
    assert tuple(after) == (None, None)
