"""The request's transaction is committed before the answer, and a failed commit is never 2xx."""

from __future__ import annotations

from litestar import Litestar, post
from litestar.response import Redirect
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.core.security import access


async def _deferred_table(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL, "
                "CONSTRAINT body_unique UNIQUE (body) DEFERRABLE INITIALLY DEFERRED)"
            )
        )


@post("/test/notes/{note_id:int}", **access(public=True), status_code=201)
async def add_note(db_session: AsyncSession, note_id: int) -> dict[str, int]:
    await db_session.execute(text("INSERT INTO notes VALUES (:id, 'same')"), {"id": note_id})
    return {"id": note_id}


@post("/test/notes/{note_id:int}/form", **access(public=True))
async def add_note_then_redirect(db_session: AsyncSession, note_id: int) -> Redirect:
    await db_session.execute(
        text("INSERT INTO notes VALUES (:id, :body)"), {"id": note_id, "body": f"form {note_id}"}
    )
    return Redirect("/", status_code=303)


@post("/test/notes/{note_id:int}/refused", **access(public=True))
async def add_note_then_refuse(db_session: AsyncSession, note_id: int) -> None:
    await db_session.execute(text("INSERT INTO notes VALUES (:id, 'refused')"), {"id": note_id})
    from quartier.core.errors import Conflict

    raise Conflict("refused after writing")


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one())


async def test_a_commit_that_fails_is_answered_as_a_problem_not_2xx(
    app: Litestar, client: AsyncTestClient[Litestar], engine: AsyncEngine
) -> None:
    await _deferred_table(engine)
    app.register(add_note)
    assert (await client.post("/test/notes/1")).status_code == 201
    # the second note violates the deferred constraint only at COMMIT, after the handler ran
    response = await client.post("/test/notes/2")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith("The change conflicts")
    assert "location" not in response.headers
    assert await _count(engine) == 1


async def test_redirects_commit_and_refusals_roll_back(
    app: Litestar, client: AsyncTestClient[Litestar], engine: AsyncEngine
) -> None:
    await _deferred_table(engine)
    app.register(add_note_then_redirect)
    app.register(add_note_then_refuse)
    redirected = await client.post("/test/notes/5/form", follow_redirects=False)
    assert redirected.status_code == 303
    refused = await client.post("/test/notes/6/refused")
    assert refused.status_code == 409
    assert await _count(engine) == 1
