"""Moderating and answering ideas: the queue (new, reported, comments waiting), publish, hide
with a public reason, restore, merge duplicates (supports carried over without counting a
resident twice), comment moderation, the moderation log (who, when, what, why), and the
planners' official status with a public answer."""

from __future__ import annotations

from uuid import UUID

import msgspec
from sqlalchemy import ColumnElement, delete, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import translations as shared_translations
from quartier.core.errors import NotFound
from quartier.core.pagination import decode_cursor, encode_cursor
from quartier.core.security import Principal
from quartier.ideas import models as m
from quartier.ideas import notifications
from quartier.ideas import schemas as s
from quartier.ideas.services import (
    CLOSING,
    InvalidTransition,
    check_text,
    comment_out,
    idea_out,
    idea_select,
    invalid,
    load_row,
    recount_supports,
    utcnow,
)
from quartier.settings import Settings
from quartier.webhooks import emit

# -- moderation ----------------------------------------------------------------------------------


def log_action(
    session: AsyncSession,
    actor: Principal,
    action: str,
    idea_id: UUID,
    *,
    comment_id: UUID | None = None,
    reason: str | None = None,
) -> None:
    session.add(
        m.ModerationEntry(
            idea_id=idea_id,
            comment_id=comment_id,
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            reason=reason,
        )
    )


async def _resolve_reports(
    session: AsyncSession, idea_id: UUID, comment_id: UUID | None = None
) -> None:
    condition: ColumnElement[bool] = (
        m.IdeaReport.comment_id.is_(None)
        if comment_id is None
        else m.IdeaReport.comment_id == comment_id
    )
    await session.execute(
        update(m.IdeaReport)
        .where(m.IdeaReport.idea_id == idea_id, condition, m.IdeaReport.resolved_at.is_(None))
        .values(resolved_at=utcnow())
    )


async def _idea_for_update(session: AsyncSession, idea_id: UUID) -> m.Idea:
    idea = await session.scalar(select(m.Idea).where(m.Idea.id == idea_id).with_for_update())
    if idea is None:
        raise NotFound(f"No idea {idea_id}.")
    return idea


async def _set_published(
    session: AsyncSession,
    idea_id: UUID,
    actor: Principal,
    reason: str | None,
    *,
    from_state: m.IdeaState,
    action: str,
) -> s.IdeaOut:
    idea = await _idea_for_update(session, idea_id)
    if idea.state != from_state:
        raise InvalidTransition(f"The idea is {idea.state}, not {from_state.value}.")
    idea.state = m.IdeaState.PUBLISHED.value
    idea.hidden_reason = None
    idea.published_at = idea.published_at or utcnow()
    log_action(session, actor, action, idea_id, reason=reason)
    await _resolve_reports(session, idea_id)
    await session.flush()
    return idea_out(await load_row(session, idea_id))


async def publish_idea(
    session: AsyncSession, idea_id: UUID, actor: Principal, reason: str | None = None
) -> s.IdeaOut:
    """A pending idea goes public."""
    return await _set_published(
        session, idea_id, actor, reason, from_state=m.IdeaState.PENDING, action="publish"
    )


async def restore_idea(
    session: AsyncSession, idea_id: UUID, actor: Principal, reason: str | None = None
) -> s.IdeaOut:
    """A hidden idea is published again."""
    return await _set_published(
        session, idea_id, actor, reason, from_state=m.IdeaState.HIDDEN, action="restore"
    )


async def hide_idea(
    session: AsyncSession, idea_id: UUID, actor: Principal, reason: str
) -> s.IdeaOut:
    """Hide with a public reason: the idea keeps its place, showing "hidden by moderation"."""
    reason = check_text("reason", reason, m.REASON_MAX, multiline=True)
    idea = await _idea_for_update(session, idea_id)
    if idea.state not in (m.IdeaState.PENDING, m.IdeaState.PUBLISHED):
        raise InvalidTransition(
            f"The idea is {idea.state}; only pending or published ideas can be hidden."
        )
    idea.state = m.IdeaState.HIDDEN.value
    idea.hidden_reason = reason
    log_action(session, actor, "hide", idea_id, reason=reason)
    await _resolve_reports(session, idea_id)
    await session.flush()
    return idea_out(await load_row(session, idea_id))


async def dismiss_reports(
    session: AsyncSession, idea_id: UUID, actor: Principal, reason: str | None
) -> s.IdeaOut:
    """The reports of an idea are unfounded: resolve them and leave the idea as it is."""
    await _idea_for_update(session, idea_id)
    await _resolve_reports(session, idea_id)
    log_action(session, actor, "dismiss_reports", idea_id, reason=reason)
    await session.flush()
    return idea_out(await load_row(session, idea_id))


async def _status_changed(session: AsyncSession, idea: m.Idea, previous: str | None) -> None:
    """The `idea.status_changed` webhook event: a new official status (not a new answer text
    or translation under the same status)."""
    await emit(
        session,
        "idea.status_changed",
        {"idea_id": idea.id, "official_status": idea.official_status, "previous_status": previous},
        process_id=idea.process_id,
    )


async def merge_ideas(
    session: AsyncSession, idea_id: UUID, into_id: UUID, actor: Principal, reason: str | None
) -> s.IdeaOut:
    """Merge a duplicate into another idea of the same process. Its supporters become the
    target's; a resident who supported both counts once (same per-process pseudonym, one
    row per idea and pseudonym)."""
    if idea_id == into_id:
        raise invalid("into_id", "An idea cannot be merged into itself.")
    first, second = sorted([idea_id, into_id])  # lock in one order: no deadlock
    locked = {
        idea.id: idea
        for idea in (
            await session.scalars(
                select(m.Idea)
                .where(m.Idea.id.in_([first, second]))
                .order_by(m.Idea.id)
                .with_for_update()
            )
        ).all()
    }
    source, target = locked.get(idea_id), locked.get(into_id)
    if source is None:
        raise NotFound(f"No idea {idea_id}.")
    if target is None or target.process_id != source.process_id:
        raise invalid("into_id", "Choose a published idea of the same planning process.")
    if target.state != m.IdeaState.PUBLISHED:
        raise invalid("into_id", "Choose a published idea of the same planning process.")
    if source.state in (m.IdeaState.MERGED, m.IdeaState.WITHDRAWN):
        raise InvalidTransition(f"The idea is {source.state} and cannot be merged.")
    await session.execute(
        insert(m.idea_supports)
        .from_select(
            ["idea_id", "pseudonym", "created_at", "record_key"],
            select(
                literal(into_id),
                m.idea_supports.c.pseudonym,
                m.idea_supports.c.created_at,
                m.idea_supports.c.record_key,
            ).where(m.idea_supports.c.idea_id == idea_id),
        )
        .on_conflict_do_nothing()
    )
    await session.execute(delete(m.idea_supports).where(m.idea_supports.c.idea_id == idea_id))
    source.state = m.IdeaState.MERGED.value
    source.merged_into_id = into_id
    source.hidden_reason = None
    source.support_count = 0
    previous_status = source.official_status
    source.official_status = m.OfficialStatus.MERGED.value
    source.answered_at = utcnow()
    source.notify_email = None
    source.notify_language = None
    log_action(session, actor, "merge", idea_id, reason=reason)
    await _resolve_reports(session, idea_id)
    await session.flush()
    await _status_changed(session, source, previous_status)
    await recount_supports(session, into_id)
    return idea_out(await load_row(session, idea_id))


async def _comment_for_update(session: AsyncSession, comment_id: UUID) -> m.IdeaComment:
    comment = await session.scalar(
        select(m.IdeaComment).where(m.IdeaComment.id == comment_id).with_for_update()
    )
    if comment is None:
        raise NotFound(f"No comment {comment_id}.")
    return comment


async def moderate_comment(
    session: AsyncSession,
    comment_id: UUID,
    actor: Principal,
    *,
    publish: bool,
    reason: str | None,
) -> s.CommentOut:
    """Publish (or restore) a comment, or hide it with a public reason."""
    comment = await _comment_for_update(session, comment_id)
    if publish:
        if comment.state == m.CommentState.PUBLISHED:
            raise InvalidTransition("The comment is published already.")
        action = "publish_comment" if comment.state == m.CommentState.PENDING else "restore_comment"
        comment.state = m.CommentState.PUBLISHED.value
        comment.hidden_reason = None
    else:
        if not reason:
            raise invalid("reason", "Give the public reason for hiding the comment.")
        reason = check_text("reason", reason, m.REASON_MAX, multiline=True)
        if comment.state == m.CommentState.HIDDEN:
            raise InvalidTransition("The comment is hidden already.")
        action = "hide_comment"
        comment.state = m.CommentState.HIDDEN.value
        comment.hidden_reason = reason
    log_action(session, actor, action, comment.idea_id, comment_id=comment_id, reason=reason)
    await _resolve_reports(session, comment.idea_id, comment_id)
    await session.flush()
    return comment_out(comment)


async def moderation_queue(
    session: AsyncSession, *, process_id: UUID | None, limit: int, cursor: str | None
) -> tuple[list[s.QueueItem], str | None]:
    """Ideas that need a moderator: pending, with open reports, or with pending comments;
    oldest first."""
    open_reports = select(m.IdeaReport.idea_id).where(m.IdeaReport.resolved_at.is_(None))
    pending_comments = select(m.IdeaComment.idea_id).where(
        m.IdeaComment.state == m.CommentState.PENDING.value
    )
    statement = idea_select().where(
        or_(
            m.Idea.state == m.IdeaState.PENDING.value,
            m.Idea.id.in_(open_reports),
            m.Idea.id.in_(pending_comments),
        )
    )
    if process_id is not None:
        statement = statement.where(m.Idea.process_id == process_id)
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        statement = statement.where(m.Idea.id > after)
    rows = (await session.execute(statement.order_by(m.Idea.id).limit(limit + 1))).all()
    next_cursor = encode_cursor([rows[limit - 1][0].id]) if len(rows) > limit else None
    rows = rows[:limit]
    ids = [row[0].id for row in rows]
    reports: dict[UUID, list[s.ReportOut]] = {}
    for entry in (
        await session.scalars(
            select(m.IdeaReport)
            .where(m.IdeaReport.idea_id.in_(ids), m.IdeaReport.resolved_at.is_(None))
            .order_by(m.IdeaReport.id)
        )
    ).all():
        reports.setdefault(entry.idea_id, []).append(
            s.ReportOut(
                id=entry.id,
                comment_id=entry.comment_id,
                reason=entry.reason,
                created_at=entry.created_at,
            )
        )
    comments: dict[UUID, list[s.StaffCommentOut]] = {}
    for comment in (
        await session.scalars(
            select(m.IdeaComment)
            .where(
                m.IdeaComment.idea_id.in_(ids),
                or_(
                    m.IdeaComment.state == m.CommentState.PENDING.value,
                    m.IdeaComment.id.in_(
                        select(m.IdeaReport.comment_id).where(m.IdeaReport.resolved_at.is_(None))
                    ),
                ),
            )
            .order_by(m.IdeaComment.id)
        )
    ).all():
        comments.setdefault(comment.idea_id, []).append(
            s.StaffCommentOut(
                id=comment.id,
                parent_id=comment.parent_id,
                body=comment.body,
                state=comment.state,
                created_at=comment.created_at,
            )
        )
    items = [
        s.QueueItem(
            idea=idea_out(row),
            title=row[0].title,
            description=row[0].description,
            open_reports=reports.get(row[0].id, []),
            pending_comments=comments.get(row[0].id, []),
        )
        for row in rows
    ]
    return items, next_cursor


async def moderation_log(
    session: AsyncSession, *, idea_id: UUID | None, limit: int, cursor: str | None
) -> tuple[list[s.ModerationEntryOut], str | None]:
    """Every moderation action, newest first."""
    statement = select(m.ModerationEntry)
    if idea_id is not None:
        statement = statement.where(m.ModerationEntry.idea_id == idea_id)
    if cursor:
        (before,) = decode_cursor(cursor, 1)
        statement = statement.where(m.ModerationEntry.id < before)
    entries = list(
        (
            await session.scalars(statement.order_by(m.ModerationEntry.id.desc()).limit(limit + 1))
        ).all()
    )
    next_cursor = encode_cursor([entries[limit - 1].id]) if len(entries) > limit else None
    return [
        s.ModerationEntryOut(
            id=e.id,
            idea_id=e.idea_id,
            comment_id=e.comment_id,
            actor_name=e.actor_name,
            action=e.action,
            reason=e.reason,
            created_at=e.created_at,
        )
        for e in entries[:limit]
    ], next_cursor


# -- the official answer -------------------------------------------------------------------------


async def answer_idea(
    session: AsyncSession,
    settings: Settings,
    idea_id: UUID,
    data: s.AnswerRequest,
    actor: Principal,
) -> s.IdeaOut:
    """Planners set the official status with a public answer. Followers are told (see
    `notifications.status_changed`); a closing status deletes the author's e-mail address
    once the notification has been handed over."""
    answer = check_text("answer", data.answer, m.ANSWER_MAX, multiline=True)
    translated = shared_translations.merged(
        {},
        {
            language: {
                name: check_text(
                    f"translations.{language}.{name}", value, m.ANSWER_MAX, multiline=True
                )
                for name, value in (texts or {}).items()
            }
            for language, texts in msgspec.to_builtins(data.translations).items()
        },
        field_name="translations",
    )
    idea = await _idea_for_update(session, idea_id)
    if idea.state not in (m.IdeaState.PUBLISHED, m.IdeaState.HIDDEN, m.IdeaState.MERGED):
        raise InvalidTransition(
            f"The idea is {idea.state}; only moderated ideas receive an official answer."
        )
    # Followers hear of a new status or answer, not of a translation added to it.
    changed = idea.official_status != data.official_status or idea.official_answer != answer
    previous_status = idea.official_status
    idea.official_status = data.official_status
    idea.official_answer = answer
    idea.translations = translated
    idea.answered_at = utcnow()
    log_action(session, actor, "answer", idea_id, reason=data.official_status)
    await session.flush()
    if changed:
        await notifications.status_changed(session, settings, idea)
    if previous_status != idea.official_status:
        await _status_changed(session, idea, previous_status)
    if m.OfficialStatus(data.official_status) in CLOSING:
        idea.notify_email = None
        idea.notify_language = None
        await session.flush()
    return idea_out(await load_row(session, idea_id))
