"""The ideas API: submitting while open, where an idea applies, the follow link, spam defence,
supports, comments, reports, moderation, merges, the official answer, lists and GeoJSON."""

from __future__ import annotations

import asyncio
import uuid

from litestar import Litestar
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.ideas.models import Idea
from quartier.processes import services as processes
from quartier.processes.phases import PhaseKey
from tests.support.statements import capturing_statements
from tests.surveys.conftest import MakeProcess

from .conftest import TOKEN_A, TOKEN_B, Client, Headers, Ideas, idea_body


async def _stored(engine: AsyncEngine, idea_id: str) -> Idea:
    async with async_sessionmaker(engine)() as db:
        idea = await db.scalar(select(Idea).where(Idea.id == uuid.UUID(idea_id)))
        assert idea is not None
        return idea


# -- submitting ----------------------------------------------------------------------------------


async def test_a_submitted_idea_waits_for_moderation_and_gives_a_private_follow_link(
    ideas: Ideas, client: Client, engine: AsyncEngine
) -> None:
    response = await ideas.submit()
    assert response.status_code == 201, response.text
    body = response.json()
    idea = body["idea"]
    assert idea["state"] == "pending" and idea["area"]["code"] == "010201"
    assert idea["need_category"] == "elderly_care" and idea["support_count"] == 0
    assert response.headers["location"] == f"/api/v1/ideas/{idea['id']}"
    token = body["follow_token"]
    assert len(token) >= 40 and body["follow_url"].endswith(token)
    # pending: not public, but visible through the follow link
    assert (await client.get(f"/api/v1/ideas/{idea['id']}")).status_code == 404
    followed = await client.get(f"/api/v1/followed-ideas/{token}")
    assert followed.status_code == 200 and followed.json()["editable"] is True
    # only a keyed hash of the token is stored
    stored = await _stored(engine, idea["id"])
    assert token.encode() not in stored.follow_token_hash
    assert stored.notify_email is None and stored.lon is None


async def test_ideas_can_be_submitted_only_while_the_module_is_open(
    ideas: Ideas, make_process: MakeProcess, engine: AsyncEngine
) -> None:
    closed = await make_process(phase=PhaseKey.RESOURCE_PROVISION)
    response = await ideas.submit(process_id=closed)
    assert response.status_code == 409 and response.json()["type"].endswith("phase-closed")
    # an override opens it
    async with async_sessionmaker(engine)() as db, db.begin():
        await processes.set_participation_override(
            db, closed, "ideas", PhaseKey.RESOURCE_PROVISION, True
        )
    assert (await ideas.submit(process_id=closed)).status_code == 201
    draft = await make_process(publish=False)
    assert (await ideas.submit(process_id=draft)).status_code == 404


async def test_a_point_is_resolved_to_an_area_and_kept_only_with_public_consent(
    ideas: Ideas, engine: AsyncEngine
) -> None:
    private = await ideas.submit(area_code=None, point={"lon": 13.35, "lat": 52.55})
    assert private.status_code == 201, private.text
    idea = private.json()["idea"]
    assert idea["area"]["code"].startswith("01") and len(idea["area"]["code"]) == 6
    assert idea["point"] is None
    stored = await _stored(engine, idea["id"])
    assert stored.lon is None and stored.lat is None
    public = await ideas.submit(
        area_code=None,
        point={"lon": 13.35, "lat": 52.55},
        show_point_publicly=True,
        title="Ein Trinkbrunnen",
        description="Im Sommer fehlt Wasser für Kinder und Ältere auf dem Platz.",
    )
    assert public.json()["idea"]["point"] == {"lon": 13.35, "lat": 52.55}
    outside = await ideas.submit(area_code=None, point={"lon": 10.0, "lat": 50.0})
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "point"
    nowhere = await ideas.submit(area_code=None)
    assert nowhere.status_code == 422 and nowhere.json()["errors"][0]["field"] == "area_code"


async def test_bad_input_names_the_field(ideas: Ideas) -> None:
    cases = {
        "area_code": {"area_code": "080101"},  # Neukölln: outside the process's Mitte
        "need_category": {"need_category": "no_such_need"},
        "website": {"website": "http://spam.example"},  # the honeypot
        "description": {
            "description": "Seht https://a.example und https://b.example und www.c.example"
        },
        "title": {"title": "Bänke\x07 bitte"},
        "email_consent": {"notify_email": "a@example.org"},
    }
    for field, overrides in cases.items():
        response = await ideas.submit(**overrides)
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == field
    unknown = await ideas.client.post(
        f"/api/v1/processes/{ideas.process_id}/ideas", json=idea_body(colour="red")
    )
    assert unknown.status_code == 400
    too_long = await ideas.submit(title="x" * 121)
    assert too_long.status_code == 400


async def test_the_same_text_twice_in_a_process_is_a_duplicate(ideas: Ideas) -> None:
    assert (await ideas.submit()).status_code == 201
    again = await ideas.submit(
        title="mehr bänke am Leopoldplatz!",
        description="Ältere Menschen brauchen  Sitzgelegenheiten auf dem Weg zum Markt",
    )
    assert again.status_code == 409 and again.json()["type"].endswith("duplicate-idea")


async def test_idempotency_key_replays_the_submission(ideas: Ideas, engine: AsyncEngine) -> None:
    url = f"/api/v1/processes/{ideas.process_id}/ideas"
    headers = {"Idempotency-Key": "idea-1"}
    first = await ideas.client.post(url, json=idea_body(), headers=headers)
    second = await ideas.client.post(url, json=idea_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert first.json() == second.json()
    other = await ideas.client.post(url, json=idea_body(title="Anders"), headers=headers)
    assert other.status_code == 422
    async with async_sessionmaker(engine)() as db:
        assert await db.scalar(text("SELECT count(*) FROM ideas")) == 1


async def test_email_is_kept_only_with_consent_and_deleted_on_request(
    ideas: Ideas, engine: AsyncEngine
) -> None:
    response = await ideas.submit(notify_email="anna@example.org", email_consent=True)
    body = response.json()
    assert "anna@example.org" not in response.text.replace(body["follow_token"], "")
    assert (await _stored(engine, body["idea"]["id"])).notify_email == "anna@example.org"
    followed = await ideas.client.get(f"/api/v1/followed-ideas/{body['follow_token']}")
    assert followed.json()["notifications"] is True
    assert "anna@example.org" not in followed.text
    stop = await ideas.client.delete(f"/api/v1/followed-ideas/{body['follow_token']}/email")
    assert stop.status_code == 200 and stop.json()["notifications"] is False
    assert (await _stored(engine, body["idea"]["id"])).notify_email is None


# -- following -----------------------------------------------------------------------------------


async def test_the_author_edits_before_moderation_and_withdraws(
    ideas: Ideas, client: Client
) -> None:
    body = (await ideas.submit()).json()
    link = f"/api/v1/followed-ideas/{body['follow_token']}"
    edited = await client.patch(link, json={"title": "Mehr Bänke und Schatten"})
    assert edited.status_code == 200 and edited.json()["idea"]["title"] == "Mehr Bänke und Schatten"
    await client.post(f"/api/v1/ideas/{body['idea']['id']}/publish", headers=ideas.moderator)
    late = await client.patch(link, json={"title": "Noch anders"})
    assert late.status_code == 409 and late.json()["type"].endswith("idea-not-editable")
    withdrawn = await client.post(f"{link}/withdraw")
    assert withdrawn.json()["idea"]["state"] == "withdrawn"
    assert (await client.get(f"/api/v1/ideas/{body['idea']['id']}")).status_code == 404
    assert (await client.get("/api/v1/followed-ideas/" + "x" * 43)).status_code == 404


# -- supports ------------------------------------------------------------------------------------


async def test_one_support_per_resident_idempotent_and_withdrawable(ideas: Ideas) -> None:
    idea = await ideas.published()
    first = await ideas.support(idea["id"])
    assert first.status_code == 200 and first.json()["support_count"] == 1
    again = await ideas.support(idea["id"])
    assert again.json() == {"idea_id": idea["id"], "supported": True, "support_count": 1}
    assert (await ideas.support(idea["id"], TOKEN_B)).json()["support_count"] == 2
    withdrawn = await ideas.client.delete(
        f"/api/v1/ideas/{idea['id']}/supports", headers={"Respondent-Token": TOKEN_A}
    )
    assert withdrawn.json() == {"idea_id": idea["id"], "supported": False, "support_count": 1}
    missing = await ideas.client.post(f"/api/v1/ideas/{idea['id']}/supports")
    assert missing.status_code == 400


async def test_pending_ideas_cannot_be_supported(ideas: Ideas) -> None:
    pending = (await ideas.submit()).json()["idea"]
    assert (await ideas.support(pending["id"])).status_code == 404


# A support or its withdrawal is one statement on the driver; the first support of an idea in
# an app process first reads the idea's process and salt (bench/ideas_bench.py measures it).
MAX_SUPPORT_STATEMENTS = 1
MAX_FIRST_SUPPORT_STATEMENTS = 2


async def test_a_support_sends_few_statements(ideas: Ideas, app: Litestar) -> None:
    idea = await ideas.published()
    other = await ideas.published(
        title="Ein Trinkbrunnen", description="Im Sommer fehlt am Platz ein Trinkbrunnen."
    )
    engine = app.state["db_config"].get_engine()
    counts: dict[str, int] = {}
    for name, idea_id, method, token in [
        ("first of the idea", idea["id"], "POST", TOKEN_A),
        ("another resident", idea["id"], "POST", TOKEN_B),
        ("repeat", idea["id"], "POST", TOKEN_B),
        ("withdrawal", idea["id"], "DELETE", TOKEN_B),
        ("withdrawal again", idea["id"], "DELETE", TOKEN_B),
        ("first of another idea, withdrawn", other["id"], "DELETE", TOKEN_A),
    ]:
        async with capturing_statements(engine) as statements:
            response = await ideas.client.request(
                method, f"/api/v1/ideas/{idea_id}/supports", headers={"Respondent-Token": token}
            )
        assert response.status_code == 200, response.text
        counts[name] = len(statements)
    assert counts["first of the idea"] <= MAX_FIRST_SUPPORT_STATEMENTS, counts
    assert counts["first of another idea, withdrawn"] <= MAX_FIRST_SUPPORT_STATEMENTS, counts
    for name in ("another resident", "repeat", "withdrawal", "withdrawal again"):
        assert counts[name] <= MAX_SUPPORT_STATEMENTS, counts
    assert (await ideas.client.get(f"/api/v1/ideas/{idea['id']}")).json()["support_count"] == 1


async def test_concurrent_supports_are_counted_exactly(ideas: Ideas, engine: AsyncEngine) -> None:
    """Supports of one idea at once (new residents, repeats, withdrawals) leave the count equal
    to the support rows; each resident's supports in a process share one record key, and only
    keyed pseudonyms are stored."""
    idea = await ideas.published()
    second = await ideas.published(
        title="Ein Trinkbrunnen", description="Im Sommer fehlt am Platz ein Trinkbrunnen."
    )
    tokens = [f"resident-token-{n:012d}" for n in range(12)]
    await ideas.support(idea["id"], tokens[0])  # the app process knows the idea now
    answers = await asyncio.gather(
        *(ideas.support(idea["id"], token) for token in tokens),
        *(ideas.support(idea["id"], token) for token in tokens[:4]),
        *(ideas.support(second["id"], token) for token in tokens[:3]),
    )
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    withdrawn = await asyncio.gather(
        *(
            ideas.client.delete(
                f"/api/v1/ideas/{idea['id']}/supports", headers={"Respondent-Token": token}
            )
            for token in tokens[:3] * 2
        )
    )
    assert all(w.status_code == 200 for w in withdrawn)
    async with async_sessionmaker(engine)() as db:
        rows = (
            await db.execute(
                text(
                    "SELECT idea_id, pseudonym, record_key FROM idea_supports "
                    "WHERE idea_id IN (:a, :b)"
                ),
                {"a": uuid.UUID(idea["id"]), "b": uuid.UUID(second["id"])},
            )
        ).all()
    on_first = [row for row in rows if str(row.idea_id) == idea["id"]]
    assert len(on_first) == len(tokens) - 3
    assert (await _stored(engine, idea["id"])).support_count == len(tokens) - 3
    assert (await _stored(engine, second["id"])).support_count == 3
    keys: dict[bytes, set[int]] = {}
    for row in rows:
        assert len(row.pseudonym) == 32
        assert not any(token.encode() in row.pseudonym for token in tokens)
        keys.setdefault(row.pseudonym, set()).add(row.record_key)
    assert all(len(k) == 1 for k in keys.values())  # one record key per resident


async def test_a_support_follows_the_idea_and_the_phase_it_is_in(
    ideas: Ideas, client: Client, engine: AsyncEngine
) -> None:
    """An idea hidden, merged or closed to participation after supports (the app process knows
    its process) answers the general path's problems and keeps its count."""
    idea = await ideas.published()
    assert (await ideas.support(idea["id"], TOKEN_A)).json()["support_count"] == 1
    hidden = await client.post(
        f"/api/v1/ideas/{idea['id']}/hide", json={"reason": "Werbung"}, headers=ideas.moderator
    )
    assert hidden.status_code == 200
    refused = await ideas.support(idea["id"], TOKEN_B)
    assert refused.status_code == 409, refused.text
    await client.post(f"/api/v1/ideas/{idea['id']}/restore", json={}, headers=ideas.moderator)
    assert (await ideas.support(idea["id"], TOKEN_B)).json()["support_count"] == 2
    async with async_sessionmaker(engine)() as db, db.begin():
        await processes.set_participation_override(
            db, ideas.process_id, "ideas", PhaseKey.NEEDS_ASSESSMENT, False
        )
    closed = await ideas.support(idea["id"], "resident-token-cccccccccccc")
    assert closed.status_code == 409 and closed.json()["type"].endswith("phase-closed")
    gone = await client.delete(
        f"/api/v1/ideas/{idea['id']}/supports", headers={"Respondent-Token": TOKEN_A}
    )
    assert gone.status_code == 409 and gone.json()["type"].endswith("phase-closed")
    assert (await _stored(engine, idea["id"])).support_count == 2
    unknown = await ideas.support(str(uuid.uuid4()))
    assert unknown.status_code == 404


# -- comments and reports ------------------------------------------------------------------------


async def test_comments_have_one_level_of_replies_and_are_moderated(
    ideas: Ideas, client: Client
) -> None:
    idea = await ideas.published()
    url = f"/api/v1/ideas/{idea['id']}/comments"
    comment = (await client.post(url, json={"body": "Gute Idee!"})).json()
    assert comment["state"] == "pending"
    assert (await client.get(url)).json() == []
    await client.post(f"/api/v1/idea-comments/{comment['id']}/publish", headers=ideas.moderator)
    reply = await client.post(url, json={"body": "Finde ich auch.", "parent_id": comment["id"]})
    assert reply.status_code == 201
    deeper = await client.post(url, json={"body": "Und ich.", "parent_id": reply.json()["id"]})
    assert deeper.status_code == 422 and deeper.json()["errors"][0]["field"] == "parent_id"
    await client.post(
        f"/api/v1/idea-comments/{reply.json()['id']}/hide",
        json={"reason": "Beleidigend"},
        headers=ideas.moderator,
    )
    listed = (await client.get(url)).json()
    assert [c["id"] for c in listed] == [comment["id"], reply.json()["id"]]
    assert listed[1]["body"] is None and listed[1]["hidden_reason"] == "Beleidigend"


async def test_reports_queue_for_moderators_and_hiding_keeps_the_place(
    ideas: Ideas, client: Client, admin: Headers
) -> None:
    idea = await ideas.published()
    report = await client.post(
        f"/api/v1/ideas/{idea['id']}/reports", json={"reason": "Werbung für ein Geschäft"}
    )
    assert report.status_code == 201
    queue = (await client.get("/api/v1/idea-moderation/queue", headers=ideas.moderator)).json()
    [item] = queue["items"]
    assert item["idea"]["id"] == idea["id"]
    assert item["open_reports"][0]["reason"] == "Werbung für ein Geschäft"
    hidden = await client.post(
        f"/api/v1/ideas/{idea['id']}/hide", json={"reason": "Werbung"}, headers=ideas.moderator
    )
    assert hidden.json()["state"] == "hidden"
    public = (await client.get(f"/api/v1/ideas/{idea['id']}")).json()
    assert public["title"] is None and public["hidden_reason"] == "Werbung"
    assert (await client.get("/api/v1/idea-moderation/queue", headers=ideas.moderator)).json()[
        "items"
    ] == []
    restored = await client.post(
        f"/api/v1/ideas/{idea['id']}/restore", json={}, headers=ideas.moderator
    )
    assert restored.json()["state"] == "published"
    log = (await client.get("/api/v1/idea-moderation/log", headers=admin)).json()["items"]
    assert [e["action"] for e in log] == ["restore", "hide", "publish"]
    assert log[1]["reason"] == "Werbung" and log[1]["actor_name"]
    # the log is for admins (and the moderation scope), not for moderators themselves
    assert (
        await client.get("/api/v1/idea-moderation/log", headers=ideas.moderator)
    ).status_code == 403


async def test_merging_carries_supports_over_without_counting_anyone_twice(
    ideas: Ideas, client: Client
) -> None:
    target = await ideas.published()
    duplicate = await ideas.published(
        title="Sitzbänke bitte", description="Auf dem Leopoldplatz fehlen Bänke zum Ausruhen."
    )
    await ideas.support(target["id"], TOKEN_A)
    await ideas.support(duplicate["id"], TOKEN_A)  # supports both
    await ideas.support(duplicate["id"], TOKEN_B)
    merged = await client.post(
        f"/api/v1/ideas/{duplicate['id']}/merge",
        json={"into_id": target["id"], "reason": "Dieselbe Idee"},
        headers=ideas.moderator,
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["state"] == "merged" and merged.json()["merged_into_id"] == target["id"]
    assert (await client.get(f"/api/v1/ideas/{target['id']}")).json()["support_count"] == 2
    # supporting the target again after the merge changes nothing
    assert (await ideas.support(target["id"], TOKEN_B)).json()["support_count"] == 2
    itself = await client.post(
        f"/api/v1/ideas/{target['id']}/merge",
        json={"into_id": target["id"]},
        headers=ideas.moderator,
    )
    assert itself.status_code == 422


# -- the official answer, lists ------------------------------------------------------------------


async def test_planners_answer_and_a_closing_status_deletes_the_email(
    ideas: Ideas, client: Client, engine: AsyncEngine
) -> None:
    idea = await ideas.published(notify_email="b@example.org", email_consent=True)
    url = f"/api/v1/ideas/{idea['id']}/answer"
    review = await client.put(
        url,
        json={"official_status": "under_review", "answer": "Wir prüfen das."},
        headers=ideas.planner,
    )
    assert review.status_code == 200 and review.json()["official_status"] == "under_review"
    assert (await _stored(engine, idea["id"])).notify_email == "b@example.org"
    done = await client.put(
        url,
        json={"official_status": "implemented", "answer": "Zwei Bänke stehen seit Mai."},
        headers=ideas.planner,
    )
    assert done.json()["official_answer"] == "Zwei Bänke stehen seit Mai."
    assert (await _stored(engine, idea["id"])).notify_email is None
    refused = await client.put(
        url, json={"official_status": "accepted", "answer": "x"}, headers=ideas.moderator
    )
    assert refused.status_code == 403


async def test_lists_filter_sort_and_paginate(ideas: Ideas, client: Client) -> None:
    a = await ideas.published()
    b = await ideas.published(
        title="Jugendclub länger offen",
        description="Der Jugendclub sollte auch am Wochenende geöffnet sein.",
        need_category="youth_work",
        area_code="010101",
    )
    await ideas.support(a["id"], TOKEN_A)
    await ideas.support(a["id"], TOKEN_B)
    newest = (await client.get("/api/v1/ideas")).json()
    assert [i["id"] for i in newest["items"]] == [b["id"], a["id"]]
    supported = (await client.get("/api/v1/ideas?sort=most_supported&limit=1")).json()
    assert [i["id"] for i in supported["items"]] == [a["id"]]
    rest = (
        await client.get(
            f"/api/v1/ideas?sort=most_supported&limit=1&cursor={supported['next_cursor']}"
        )
    ).json()
    assert [i["id"] for i in rest["items"]] == [b["id"]] and rest["next_cursor"] is None
    # the area filter includes sub-areas: Moabit (0101) holds 010101
    moabit = (await client.get("/api/v1/ideas?area=0101")).json()["items"]
    assert [i["id"] for i in moabit] == [b["id"]]
    mitte = (await client.get("/api/v1/ideas?area=01")).json()["items"]
    assert len(mitte) == 2
    youth = (await client.get("/api/v1/ideas?need_category=youth_work")).json()["items"]
    assert [i["id"] for i in youth] == [b["id"]]
    unknown = await client.get("/api/v1/ideas?area=99")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "area"
    bad_cursor = await client.get("/api/v1/ideas?cursor=nonsense")
    assert bad_cursor.status_code == 422


async def test_geojson_holds_only_published_ideas_with_a_public_point(
    ideas: Ideas, client: Client
) -> None:
    shown = await ideas.published(
        area_code=None, point={"lon": 13.35, "lat": 52.55}, show_point_publicly=True
    )
    await ideas.published(
        title="Ohne Punkt",
        description="Diese Idee hat keinen öffentlichen Punkt auf der Karte.",
    )
    feed = await client.get(f"/api/v1/ideas/geojson?process_id={ideas.process_id}")
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/geo+json")
    features = feed.json()["features"]
    assert [f["id"] for f in features] == [shown["id"]]
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [13.35, 52.55]}


async def test_without_premoderation_ideas_are_published_at_once(
    ideas: Ideas, client: Client
) -> None:
    setting = await client.put(
        f"/api/v1/processes/{ideas.process_id}/idea-settings",
        json={"premoderation": False},
        headers=ideas.planner,
    )
    assert setting.status_code == 200
    idea = (await ideas.submit()).json()["idea"]
    assert idea["state"] == "published" and idea["published_at"] is not None
    assert (await client.get(f"/api/v1/ideas/{idea['id']}")).status_code == 200


async def test_moderation_needs_a_moderator(
    ideas: Ideas, client: Client, moderation_token: Headers
) -> None:
    pending = (await ideas.submit()).json()["idea"]
    url = f"/api/v1/ideas/{pending['id']}/publish"
    assert (await client.post(url)).status_code == 401
    assert (await client.post(url, headers=ideas.planner)).status_code == 403
    assert (await client.post(url, headers=moderation_token)).status_code == 200
    again = await client.post(url, headers=moderation_token)
    assert again.status_code == 409
