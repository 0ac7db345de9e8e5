"""Structured feedback: submitting it (window, phase, repeat guard, idempotency, organisations
with their codes), and the disclosure-controlled summary."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.measures import feedback
from quartier.measures.models import Stance
from quartier.measures.schemas import FeedbackSubmission, SectionComment
from quartier.processes import services as processes
from quartier.processes.phases import PhaseKey
from quartier.stats.cellkey import Cell, PTable, Release
from tests.conftest import LoginFactory
from tests.support.disclosure import published, without_noise  # noqa: F401
from tests.support.release_attacker import ReleaseAttacker
from tests.support.statements import capturing_statements

from .conftest import Client, CreateMeasure, Headers, Json, set_premoderation

Consult = Callable[..., Awaitable[Json]]
_tokens = itertools.count()


def token() -> dict[str, str]:
    return {"Respondent-Token": f"browser-token-{next(_tokens):06d}-abcdef"}


async def give(client: Client, measure_id: str, headers: dict[str, str] | None = None, **body: Any):  # type: ignore[no-untyped-def]
    payload = {"stance": "support", **body}
    return await client.post(
        f"/api/v1/measures/{measure_id}/feedback", json=payload, headers=headers or token()
    )


async def test_a_resident_gives_feedback_once(
    client: Client, create_measure: CreateMeasure, consult: Consult, engine: AsyncEngine
) -> None:
    measure_id = await create_measure()
    await consult(measure_id)
    browser = token()
    response = await give(
        client,
        measure_id,
        browser,
        ratings={"relevance": 5, "feasibility": 3},
        comments=[{"section": "offer", "body": "Bitte auch abends."}],
        general_comment="Gute Idee.",
        area_code="010101",
    )
    assert response.status_code == 201, response.text
    assert len(response.json()["receipt_code"]) == 9
    again = await give(client, measure_id, browser)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/already-answered"
    async with async_sessionmaker(engine)() as db:
        row = (await db.execute(text("SELECT * FROM measure_feedback"))).mappings().one()
        ratings = (await db.execute(text("SELECT count(*) FROM measure_feedback_ratings"))).scalar()
        comments = (
            await db.execute(text("SELECT section, body FROM measure_feedback_comments ORDER BY 1"))
        ).all()
    assert row["kind"] == "resident" and row["organisation_id"] is None
    assert row["pseudonym"] is not None and b"browser-token" not in row["pseudonym"]
    assert set(row.keys()) == {
        "id", "consultation_id", "kind", "organisation_id", "area_id", "stance", "pseudonym",
        "receipt_code", "record_key", "sa_orm_sentinel", "created_at", "updated_at",
    }  # fmt: skip
    assert ratings == 2
    assert comments == [("offer", "Bitte auch abends."), (None, "Gute Idee.")]


async def test_submissions_are_idempotent(
    client: Client, create_measure: CreateMeasure, consult: Consult
) -> None:
    measure_id = await create_measure()
    await consult(measure_id)
    headers = {"Idempotency-Key": "key-1"}
    first = await give(client, measure_id, headers)
    second = await give(client, measure_id, headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert first.json() == second.json()
    other = await give(client, measure_id, headers, stance="oppose")
    assert other.status_code == 422


async def test_invalid_feedback_is_named(
    client: Client, create_measure: CreateMeasure, consult: Consult
) -> None:
    measure_id = await create_measure()
    await consult(measure_id)
    response = await give(client, measure_id, ratings={"beauty": 3})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "ratings.beauty"
    response = await give(client, measure_id, comments=[{"section": "nope", "body": "x"}])
    assert response.json()["errors"][0]["field"] == "comments[0].section"
    response = await give(client, measure_id, ratings={"relevance": 6})
    assert response.status_code == 400
    response = await give(client, measure_id, area_code="99")
    assert response.json()["errors"][0]["field"] == "area_code"


async def test_feedback_needs_an_open_window_and_phase(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    engine: AsyncEngine,
    measuring_process: uuid.UUID,
) -> None:
    measure_id = await create_measure()
    response = await give(client, measure_id)
    assert response.status_code == 404  # a draft is not public
    await consult(measure_id)
    async with async_sessionmaker(engine)() as db, db.begin():
        await processes.activate_phase(
            db, measuring_process, PhaseKey.RESOURCE_PROVISION, processes.SYSTEM
        )
    response = await give(client, measure_id)
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/phase-closed"
    async with async_sessionmaker(engine)() as db, db.begin():
        await processes.activate_phase(
            db, measuring_process, PhaseKey.MEASURE_PLANNING, processes.SYSTEM
        )
    await client.post(
        f"/api/v1/measures/{measure_id}/revise", json={"reason": "fertig"}, headers=planner
    )
    response = await give(client, measure_id)
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/consultation-closed"


async def test_an_organisation_answers_by_name_with_its_code(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
) -> None:
    measure_id = await create_measure()
    await consult(measure_id)
    issued = await client.post(
        f"/api/v1/measures/{measure_id}/consultation/codes",
        json={"organisation_ids": [str(organisation)]},
        headers=planner,
    )
    assert issued.status_code == 201, issued.text
    code = issued.json()[0]["code"]
    body = {"kind": "organisation", "organisation_code": code, "general_comment": "Wir tragen."}
    response = await give(client, measure_id, {}, stance="support", ratings={"reach": 4}, **body)
    assert response.status_code == 201, response.text
    assert response.json()["organisation"]["name"] == "Caritas Berlin"
    again = await give(client, measure_id, {}, **body)
    assert again.status_code == 409
    no_code = await give(client, measure_id, {}, kind="organisation")
    assert no_code.json()["errors"][0]["field"] == "organisation_code"

    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    statement = summary["organisations"][0]
    assert statement["organisation"]["name"] == "Caritas Berlin"
    assert statement["ratings"] == {"reach": 4}
    assert statement["general_comment"] == "Wir tragen."
    assert {c["key"]: c["count"] for c in summary["responses_by_kind"]}["organisation"] == 1


async def test_comments_are_moderated_like_idea_comments(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
    login_as: LoginFactory,
) -> None:
    """A moderator hides a comment with a reason (recorded with who and when) and it leaves
    the summary and the organisation's statement; restoring brings it back. Planners read the
    comments but do not moderate, as with ideas."""
    measure_id = await create_measure()
    await consult(measure_id)
    said = await give(
        client,
        measure_id,
        comments=[{"section": "offer", "body": "Beleidigender Text."}],
        general_comment="Gute Idee.",
    )
    assert said.status_code == 201, said.text
    issued = await client.post(
        f"/api/v1/measures/{measure_id}/consultation/codes",
        json={"organisation_ids": [str(organisation)]},
        headers=planner,
    )
    code = issued.json()[0]["code"]
    body = {"kind": "organisation", "organisation_code": code, "general_comment": "Wir tragen."}
    assert (await give(client, measure_id, {}, **body)).status_code == 201

    moderator = await login_as("moderator")
    url = f"/api/v1/measures/{measure_id}/feedback-comments"
    listed = await client.get(url, headers=moderator)
    assert listed.status_code == 200, listed.text
    comments = {(c["section"], c["body"]): c for c in listed.json()}
    assert set(comments) == {
        ("offer", "Beleidigender Text."),
        (None, "Gute Idee."),
        (None, "Wir tragen."),
    }
    assert all(c["moderation"] == "visible" and c["version"] == 1 for c in comments.values())
    assert comments[(None, "Wir tragen.")]["organisation"] == "Caritas Berlin"
    assert comments[(None, "Gute Idee.")]["organisation"] is None

    offensive = comments[("offer", "Beleidigender Text.")]["id"]
    statement = comments[(None, "Wir tragen.")]["id"]
    moderate = f"{url}/{offensive}/moderation"
    no_reason = await client.post(moderate, json={"moderation": "hidden"}, headers=moderator)
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    refused = await client.post(
        moderate, json={"moderation": "hidden", "reason": "x"}, headers=planner
    )
    assert refused.status_code == 403
    for comment_id in (offensive, statement):
        hidden = await client.post(
            f"{url}/{comment_id}/moderation",
            json={"moderation": "hidden", "reason": "Beleidigung"},
            headers=moderator,
        )
        assert hidden.status_code == 200, hidden.text
        assert hidden.json()["moderation"] == "hidden"
        assert hidden.json()["hidden_reason"] == "Beleidigung"
        assert hidden.json()["moderated_by"] and hidden.json()["moderated_at"]
    other = await client.post(
        f"{url}/{uuid.uuid4()}/moderation",
        json={"moderation": "hidden", "reason": "x"},
        headers=moderator,
    )
    assert other.status_code == 404

    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    assert [c["body"] for c in summary["comments"]] == ["Gute Idee."]
    assert summary["organisations"][0]["general_comment"] == ""
    # planners see hidden comments with the reason
    seen = (await client.get(url, headers=planner)).json()
    assert {c["id"]: c["moderation"] for c in seen}[offensive] == "hidden"

    restored = await client.post(moderate, json={"moderation": "visible"}, headers=moderator)
    assert restored.status_code == 200, restored.text
    assert restored.json()["moderation"] == "visible"
    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    assert [c["body"] for c in summary["comments"]] == ["Beleidigender Text.", "Gute Idee."]


async def test_the_summary_is_public_only_after_the_window_closes(
    client: Client, create_measure: CreateMeasure, consult: Consult, planner: Headers
) -> None:
    measure_id = await create_measure()
    await consult(measure_id)
    assert (await client.get(f"/api/v1/measures/{measure_id}/summary")).status_code == 403
    await client.post(
        f"/api/v1/measures/{measure_id}/revise", json={"reason": "fertig"}, headers=planner
    )
    assert (await client.get(f"/api/v1/measures/{measure_id}/summary")).status_code == 200


async def _stored_keys(engine: AsyncEngine) -> dict[tuple[str, str, str], list[int]]:
    """The record keys of the anonymous responses by (kind, area code, stance)."""
    async with engine.connect() as db:
        rows = await db.execute(
            text(
                "SELECT f.kind, coalesce(a.code, '-'), f.stance, f.record_key "
                "FROM measure_feedback f LEFT JOIN social_areas a ON a.id = f.area_id "
                "WHERE f.kind <> 'organisation'"
            )
        )
        keys: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for kind, code, stance, key in rows:
            keys[(kind, code, stance)].append(key)
    return keys


async def test_resident_figures_are_perturbed_and_small_groups_protected(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    engine: AsyncEngine,
) -> None:
    measure_id = await create_measure()
    await consult(measure_id, k_threshold=3, min_respondents=3)
    truth: dict[tuple[str, ...], int] = {
        ("resident", "010101", "support"): 6,
        ("resident", "010101", "oppose"): 3,
        ("resident", "010102", "support"): 2,
        ("resident", "-", "neutral"): 4,
        ("professional", "010101", "support"): 3,
    }
    for (kind, area, stance), count in truth.items():
        for _ in range(count):
            body: dict[str, Any] = {"stance": stance, "kind": kind}
            if area != "-":
                body["area_code"] = area
            ratings = {"relevance": 4 if stance == "support" else 2}
            assert (await give(client, measure_id, ratings=ratings, **body)).status_code == 201

    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    assert summary["metadata"]["disclosure_method"].startswith("cell key method")
    keys = await _stored_keys(engine)
    release = Release(3, 3)
    groups = {g["key"]: g for g in summary["groups"]}
    # every kind × (the measure's area, every area named, no area) is listed
    assert set(groups) == {"all", "resident", "professional"} | {
        f"{kind}/{code}"
        for kind in ("resident", "professional")
        for code in ("-", "0101", "010101", "010102")
    }
    for key, group in groups.items():
        node = () if key == "all" else tuple(key.split("/"))
        mine = [(leaf, found) for leaf, found in keys.items() if leaf[: len(node)] == node]
        all_keys = [k for _, found in mine for k in found]
        n = release.respondents(Cell(len(all_keys), sum(all_keys)))
        assert group["respondents"] == n, key
        if n is None:
            # withheld: protected, never 0, with one marker that says no more
            assert group["withheld"] and group["reason"] == "protected"
            assert all(c["count"] is None and c["reason"] == "protected" for c in group["stances"])
            assert all(f["suppressed"] and f["mean"] is None for f in group["criteria"])
            continue
        assert group["reason"] is None
        for stance in group["stances"]:
            stance_keys = [k for leaf, found in mine if leaf[-1] == stance["key"] for k in found]
            assert stance["count"] == published(stance_keys, k=3, min_respondents=3), key
            assert stance["count"] == 0 or stance["count"] >= 3
    # an empty group is protected like a small one
    assert groups["professional/010102"]["withheld"] is True
    assert groups["professional/010102"]["respondents"] is None
    by_kind = {c["key"]: c for c in summary["responses_by_kind"]}
    resident_keys = [k for leaf, found in keys.items() if leaf[0] == "resident" for k in found]
    assert by_kind["resident"]["count"] == release.respondents(
        Cell(len(resident_keys), sum(resident_keys))
    )
    assert summary["metadata"]["withheld_groups"] == sum(g["withheld"] for g in groups.values())
    page = await client.get(
        f"/measures/{measure_id}/summary",
        headers={"Accept": "text/html", "Accept-Language": "en"} | planner,
    )
    assert page.status_code == 200
    assert "protected" in page.text


async def test_the_release_attacker_finds_nothing_in_the_summary(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
) -> None:
    """Every published count of the summary, with every true relation between them (groups
    = Σ their stances, all = Σ kinds, a kind = Σ its areas, per stance too, ratings ≤ n), goes
    to the release attacker: no count from 1 to k − 1 is determined or proven small. With
    k = min_respondents a withheld group is what a published 0 says."""
    measure_id = await create_measure()
    await consult(measure_id, k_threshold=3, min_respondents=3)
    truth: dict[tuple[str, str, str], int] = {
        ("resident", "010101", "support"): 7,
        ("resident", "010101", "oppose"): 2,
        ("resident", "010102", "support"): 1,
        ("resident", "-", "neutral"): 4,
        ("professional", "010101", "support"): 2,
        ("professional", "-", "oppose"): 9,
    }
    for (kind, area, stance), count in truth.items():
        for _ in range(count):
            body: dict[str, Any] = {"stance": stance, "kind": kind}
            if area != "-":
                body["area_code"] = area
            assert (await give(client, measure_id, **body)).status_code == 201
    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    attacker = ReleaseAttacker(PTable(3))

    def true(node: tuple[str, ...], stance: str | None = None) -> int:
        return sum(
            count
            for leaf, count in truth.items()
            if leaf[: len(node)] == node and (stance is None or leaf[2] == stance)
        )

    nodes = []
    for group in summary["groups"]:
        node = () if group["key"] == "all" else tuple(group["key"].split("/"))
        nodes.append(node)
        attacker.published_cell(("n", node), true(node), group["respondents"] or 0)
        for stance in group["stances"]:
            name = ("stance", node, stance["key"])
            attacker.published_cell(name, true(node, stance["key"]), stance["count"] or 0)
        attacker.equal([("n", node)], [("stance", node, c["key"]) for c in group["stances"]])
    stances = [c["key"] for c in summary["groups"][0]["stances"]]
    for node in nodes:
        children = [other for other in nodes if len(other) == len(node) + 1 and other[:-1] == node]
        if not children:
            continue
        attacker.equal([("n", node)], [("n", child) for child in children])
        for stance in stances:
            attacker.equal(
                [("stance", node, stance)], [("stance", child, stance) for child in children]
            )
    report = attacker.attack()
    assert report.cells > 40 and report.relations > 20
    assert report.findings == []
    # the attacker is not blind: with the true counts it recomputes the small ones
    exact = ReleaseAttacker(PTable(3))
    for name, v in attacker.index.items():  # same order, so the relations' indexes hold
        if name[1] == ("resident", "010102"):
            exact.hidden_cell(name, attacker.truth[v])
        else:
            exact.known(name, attacker.truth[v])
    exact.sums = attacker.sums
    assert exact.attack().findings


async def test_criterion_means_come_with_a_95_percent_interval(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    without_noise: None,  # noqa: F811
) -> None:
    measure_id = await create_measure()
    await consult(measure_id, k_threshold=3, min_respondents=3)
    for value in (4, 4, 4, 5, 5, 5):
        await give(client, measure_id, ratings={"relevance": value}, area_code="010101")
    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    root = summary["groups"][0]
    assert root["key"] == "all"
    relevance = next(f for f in root["criteria"] if f["criterion"] == "relevance")
    assert relevance["n"] == 6
    assert relevance["mean"] == 4.5 and relevance["median"] == 4.5
    # t(5) = 2.571, sd = 0.5477: half width 0.575
    assert relevance["low"] == 3.93 and relevance["high"] == 5.0
    assert {c["key"]: c["count"] for c in relevance["distribution"]} == {
        "1": 0, "2": 0, "3": 0, "4": 3, "5": 3,
    }  # fmt: skip
    feasibility = next(f for f in root["criteria"] if f["criterion"] == "feasibility")
    assert feasibility["n"] == 0 and feasibility["mean"] is None


# A resident's submission: before the driver path (issue #10) it sent 14 statements through the
# ORM. Now: the facts with the key's lock, then one statement storing the response, its ratings
# and comments and the key's record (or reading the key's stored answer).
MAX_SUBMISSION_STATEMENTS = 2


async def test_a_submission_sends_few_statements(
    client: Client, create_measure: CreateMeasure, consult: Consult, app: Litestar
) -> None:
    measure_id = await create_measure()
    await consult(measure_id)
    engine = app.state["db_config"].get_engine()
    body = {
        "ratings": {"relevance": 5, "feasibility": 3, "reach": 4},
        "comments": [{"section": "offer", "body": "Bitte auch abends."}],
        "general_comment": "Gute Idee.",
        "area_code": "010101",
    }
    await give(client, measure_id, {**token(), "Idempotency-Key": "warm"}, **body)
    counts: dict[str, int] = {}
    for name, headers in {
        "with key": {**token(), "Idempotency-Key": "counted"},
        "replay": {**token(), "Idempotency-Key": "counted"},
        "without key": token(),
    }.items():
        async with capturing_statements(engine) as statements:
            response = await give(client, measure_id, headers, **body)
        assert response.status_code == 201, response.text
        assert ("idempotent-replayed" in response.headers) == (name == "replay")
        counts[name] = len(statements)
    assert all(n <= MAX_SUBMISSION_STATEMENTS for n in counts.values()), counts


async def test_an_expired_key_is_used_afresh(
    client: Client, create_measure: CreateMeasure, consult: Consult, engine: AsyncEngine
) -> None:
    """The driver path stores a key's record over an expired one of the same key (its unique
    index still holds it until the purge), in the statement that stores the response."""
    measure_id = await create_measure()
    await consult(measure_id)
    first = await give(client, measure_id, {**token(), "Idempotency-Key": "old-key"})
    assert first.status_code == 201, first.text
    async with async_sessionmaker(engine)() as db, db.begin():
        await db.execute(
            text(
                "UPDATE idempotency_keys SET expires_at = now() - interval '1 hour' "
                "WHERE idempotency_key = 'old-key'"
            )
        )
    other = {**token(), "Idempotency-Key": "old-key"}
    second = await give(client, measure_id, other, stance="oppose")
    assert second.status_code == 201, second.text
    assert "idempotent-replayed" not in second.headers
    assert second.json()["receipt_code"] != first.json()["receipt_code"]
    again = await give(client, measure_id, other, stance="oppose")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == second.json()
    async with async_sessionmaker(engine)() as db:
        stances = (await db.execute(text("SELECT stance FROM measure_feedback"))).scalars().all()
    assert sorted(stances) == ["oppose", "support"]


async def test_where_the_process_premoderates_comments_wait_for_a_moderator(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
    login_as: LoginFactory,
    engine: AsyncEngine,
    measuring_process: uuid.UUID,
) -> None:
    """The process's ideas settings (pre-moderation, as for idea comments): a resident's
    comments (the driver path) and an organisation's (the general path) start pending and are
    in neither the summary, the organisation's statement, the export nor the report until a
    moderator publishes them; nothing is set back to pending."""
    await set_premoderation(engine, measuring_process, on=True)
    measure_id = await create_measure()
    await consult(measure_id)
    said = await give(
        client,
        measure_id,
        comments=[{"section": "offer", "body": "Bitte auch samstags."}],
        general_comment="Gute Idee.",
    )
    assert said.status_code == 201, said.text
    issued = await client.post(
        f"/api/v1/measures/{measure_id}/consultation/codes",
        json={"organisation_ids": [str(organisation)]},
        headers=planner,
    )
    code = issued.json()[0]["code"]
    body = {"kind": "organisation", "organisation_code": code, "general_comment": "Wir tragen."}
    assert (await give(client, measure_id, {}, **body)).status_code == 201

    moderator = await login_as("moderator")
    url = f"/api/v1/measures/{measure_id}/feedback-comments"
    waiting = await client.get(url, params={"moderation": "pending"}, headers=moderator)
    assert waiting.status_code == 200, waiting.text
    comments = {c["body"]: c for c in waiting.json()}
    assert set(comments) == {"Bitte auch samstags.", "Gute Idee.", "Wir tragen."}
    assert all(c["moderated_at"] is None for c in comments.values())
    assert (await client.get(url, params={"moderation": "visible"}, headers=moderator)).json() == []

    async def shown() -> tuple[list[str], str, str, int]:
        summary = await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)
        assert summary.status_code == 200, summary.text
        data = summary.json()
        exported = await client.get(
            f"/api/v1/measures/{measure_id}/summary/export",
            params={"format": "csv"},
            headers=planner,
        )
        assert exported.status_code == 200, exported.text
        report = await client.get(
            f"/api/v1/measures/{measure_id}/consultation-report", headers=planner
        )
        assert report.status_code == 200, report.text
        return (
            [c["body"] for c in data["comments"]],
            data["organisations"][0]["general_comment"],
            exported.text,
            len(report.json()["summary"]["comments"]),
        )

    bodies, statement, exported, reported = await shown()
    assert bodies == [] and statement == "" and reported == 0
    assert not any(text_ in exported for text_ in comments)

    moderate = f"{url}/{comments['Wir tragen.']['id']}/moderation"
    back = await client.post(moderate, json={"moderation": "pending"}, headers=moderator)
    assert back.status_code == 422
    assert back.json()["errors"][0]["field"] == "moderation"
    refused = await client.post(moderate, json={"moderation": "visible"}, headers=planner)
    assert refused.status_code == 403
    for body_ in ("Wir tragen.", "Gute Idee."):
        published = await client.post(
            f"{url}/{comments[body_]['id']}/moderation",
            json={"moderation": "visible"},
            headers=moderator,
        )
        assert published.status_code == 200, published.text
        assert published.json()["moderation"] == "visible"
        assert published.json()["moderated_by"] and published.json()["moderated_at"]
    bodies, statement, exported, reported = await shown()
    assert bodies == ["Gute Idee.", "Wir tragen."] and statement == "Wir tragen."
    assert "Gute Idee." in exported and "Bitte auch samstags." not in exported
    assert reported == 2
    left = await client.get(url, params={"moderation": "pending"}, headers=moderator)
    assert [c["body"] for c in left.json()] == ["Bitte auch samstags."]


@pytest.mark.parametrize("path", ["driver", "general"])
@pytest.mark.parametrize("premoderated", [True, False])
async def test_both_submission_paths_give_comments_the_same_initial_state(
    create_measure: CreateMeasure,
    consult: Consult,
    engine: AsyncEngine,
    app: Litestar,
    measuring_process: uuid.UUID,
    path: str,
    premoderated: bool,
) -> None:
    """`_submit_on_driver` (the common case) and `submit` (the general path) store a resident's
    comments pending where the process pre-moderates, visible where it does not."""
    await set_premoderation(engine, measuring_process, on=premoderated)
    measure_id = uuid.UUID(await create_measure())
    await consult(str(measure_id))
    data = FeedbackSubmission(
        stance=Stance.SUPPORT,
        comments=[SectionComment(section="offer", body="Bitte auch abends.")],
        general_comment="Gute Idee.",
    )
    settings = app.state["settings"]
    if path == "driver":
        stored = await feedback._submit_on_driver(
            engine,
            settings,
            measure_id,
            data,
            key=None,
            request_fingerprint=b"x" * 32,
            respondent_token=next(iter(token().values())),
        )
        assert stored is not None and stored.status == 201  # the driver path took it
    else:
        async with async_sessionmaker(engine)() as db, db.begin():
            await feedback.submit(db, settings, measure_id, data, respondent_token=None)
    async with async_sessionmaker(engine)() as db:
        states = (
            (
                await db.execute(
                    text(
                        "SELECT c.moderation FROM measure_feedback_comments c "
                        "JOIN measure_consultations k ON k.id = c.consultation_id "
                        "WHERE k.measure_id = :m"
                    ),
                    {"m": measure_id},
                )
            )
            .scalars()
            .all()
        )
    assert states == ["pending" if premoderated else "visible"] * 2
