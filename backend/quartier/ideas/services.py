"""Ideas: submitting, following, supporting, commenting, reporting, moderating, answering,
listing. Services never commit (the request does) and raise `core.errors` problems.

The shared resident mechanics come from the toolkit (`quartier.participation`): the open-phase
guard, free-text rules, follow tokens, pseudonyms, area choice and point lookup. What is
specific to ideas lives here: the moderation states, supports carried over on merges, the
official answer, and spam defence (honeypot, link limit, duplicate text).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    Select,
    delete,
    func,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.areas.models import AreaLevel, SocialArea
from quartier.core import i18n
from quartier.core import translations as shared_translations
from quartier.core.driver import DriverStatement, driver_statements
from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound
from quartier.core.i18n import gettext as _
from quartier.core.pagination import decode_cursor, encode_cursor
from quartier.ideas import models as m
from quartier.ideas import schemas as s
from quartier.measures.models import Measure, MeasureStatus, MeasureVersion
from quartier.participation import codes, guard, places, pseudonyms, text
from quartier.processes import participation
from quartier.settings import Settings
from quartier.stats.cellkey import new_record_key
from quartier.surveys.models import NeedCategory
from quartier.webhooks import emit

MODULE = "ideas"
LINK_LIMIT = 2  # more links than this in an idea or comment: refused as likely spam
VISIBLE = (m.IdeaState.PUBLISHED.value, m.IdeaState.HIDDEN.value, m.IdeaState.MERGED.value)
CLOSING = {m.OfficialStatus.NOT_PURSUED, m.OfficialStatus.IMPLEMENTED, m.OfficialStatus.MERGED}

Sort = Literal["newest", "most_supported", "recently_answered"]


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class DuplicateIdea(Conflict):
    slug, title = "duplicate-idea", "The same idea exists already"


class NotEditable(Conflict):
    slug, title = "idea-not-editable", "The idea can no longer be changed"


class InvalidTransition(Conflict):
    slug, title = "invalid-moderation-step", "Not possible in the idea's current state"


def invalid(field: str, message: str, detail: str | None = None) -> InvalidInput:
    return InvalidInput(
        detail or message, errors=[FieldError(field=field, source="body", message=message)]
    )


# -- settings of a process -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProcessSettings:
    premoderation: bool
    pseudonym_salt: bytes


# A process without ideas settings yet pre-moderates (the settings' default).
PREMODERATION_DEFAULT = True


def premoderates(process_id: Any) -> sa.ColumnElement[bool]:
    """Whether the process `process_id` (a value or a column) pre-moderates what residents
    write: its ideas settings, else the default. Other modules' comments (feedback on
    measures) follow the same setting through this expression."""
    return sa.func.coalesce(
        select(m.IdeaSettings.premoderation)
        .where(m.IdeaSettings.process_id == process_id)
        .scalar_subquery(),
        sa.literal(PREMODERATION_DEFAULT),
    )


async def process_settings(session: AsyncSession, process_id: UUID) -> ProcessSettings:
    """The ideas settings of a process, created (pre-moderation on) on first use."""
    await session.execute(
        insert(m.IdeaSettings)
        .values(
            process_id=process_id,
            premoderation=PREMODERATION_DEFAULT,
            pseudonym_salt=os.urandom(32),
        )
        .on_conflict_do_nothing(index_elements=["process_id"])
    )
    row = (
        await session.execute(
            select(m.IdeaSettings.premoderation, m.IdeaSettings.pseudonym_salt).where(
                m.IdeaSettings.process_id == process_id
            )
        )
    ).one()
    return ProcessSettings(premoderation=row[0], pseudonym_salt=row[1])


async def set_process_settings(
    session: AsyncSession, process_id: UUID, data: s.IdeaSettingsIn
) -> s.IdeaSettingsOut:
    if await participation.load(session, process_id) is None:
        raise NotFound(f"No planning process {process_id}.")
    await process_settings(session, process_id)
    await session.execute(
        update(m.IdeaSettings)
        .where(m.IdeaSettings.process_id == process_id)
        .values(premoderation=data.premoderation, updated_at=utcnow())
    )
    return s.IdeaSettingsOut(process_id=process_id, premoderation=data.premoderation)


# -- presenting ----------------------------------------------------------------------------------

_COLUMNS = (m.Idea, SocialArea.code, SocialArea.name, NeedCategory.key)


def idea_select() -> Select[Any, Any, Any, Any]:
    return (
        select(*_COLUMNS)
        .join(SocialArea, SocialArea.id == m.Idea.area_id)
        .join(NeedCategory, NeedCategory.id == m.Idea.need_category_id)
    )


def idea_out(row: Any) -> s.IdeaOut:
    idea: m.Idea = row[0]
    hidden = idea.state == m.IdeaState.HIDDEN
    return s.IdeaOut(
        id=idea.id,
        process_id=idea.process_id,
        title=None if hidden else idea.title,
        description=None if hidden else idea.description,
        need_category=row[3],
        target_groups=list(idea.target_groups or []),
        area=s.AreaRef(id=idea.area_id, code=row[1], name=row[2]),
        point=None if idea.lon is None or idea.lat is None else s.Point(lon=idea.lon, lat=idea.lat),
        state=idea.state,  # type: ignore[arg-type]
        hidden_reason=idea.hidden_reason,
        merged_into_id=idea.merged_into_id,
        official_status=idea.official_status,  # type: ignore[arg-type]
        official_answer=idea.official_answer,
        answered_at=idea.answered_at,
        published_at=idea.published_at,
        created_at=idea.created_at,
        support_count=idea.support_count,
        translations=shared_translations.as_struct(idea.translations, s.AnswerTranslations),
    )


async def load_row(session: AsyncSession, idea_id: UUID, *, lock: bool = False) -> Any:
    statement = idea_select().where(m.Idea.id == idea_id)
    if lock:
        statement = statement.with_for_update(of=m.Idea)
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise NotFound(f"No idea {idea_id}.")
    return row


async def get_idea(session: AsyncSession, idea_id: UUID, *, staff: bool = False) -> s.IdeaOut:
    """An idea as the public sees it (published, hidden with its reason, merged); ideas
    awaiting moderation or withdrawn are 404 except for staff."""
    row = await load_row(session, idea_id)
    if not staff and row[0].state not in VISIBLE:
        raise NotFound(f"No idea {idea_id}.")
    idea = idea_out(row)
    idea.measures = await measures_of_idea(session, idea_id, staff=staff)
    return idea


async def measures_of_idea(
    session: AsyncSession, idea_id: UUID, *, staff: bool = False
) -> list[s.MeasureRef]:
    """The measures whose current version takes up the idea (drafts for staff only)."""
    statement = (
        sa.select(Measure.id, MeasureVersion.title, Measure.status)
        .join(
            MeasureVersion,
            sa.and_(
                MeasureVersion.measure_id == Measure.id,
                MeasureVersion.version == Measure.current_version,
            ),
        )
        .where(MeasureVersion.idea_ids.contains([idea_id]))
        .order_by(Measure.id)
    )
    if not staff:
        statement = statement.where(Measure.status != MeasureStatus.DRAFT.value)
    rows = await session.execute(statement)
    return [s.MeasureRef(id=row.id, title=row.title, status=row.status) for row in rows]


async def staff_texts(session: AsyncSession, idea_id: UUID) -> tuple[str, str]:
    """Title and description also of a hidden idea (moderators decide on them)."""
    row = (
        await session.execute(select(m.Idea.title, m.Idea.description).where(m.Idea.id == idea_id))
    ).one_or_none()
    if row is None:
        raise NotFound(f"No idea {idea_id}.")
    return row[0], row[1]


# -- submitting ----------------------------------------------------------------------------------


def check_text(field: str, value: str, max_length: int, *, multiline: bool) -> str:
    if message := text.text_error(value, max_length, multiline=multiline):
        raise invalid(field, message)
    return text.normalise(value)


def _check_links(field: str, *values: str) -> None:
    if sum(text.count_links(v) for v in values) > LINK_LIMIT:
        raise invalid(
            field,
            _("Please include at most %(num)s links.", num=LINK_LIMIT),
        )


def _check_honeypot(value: str) -> None:
    if value:
        raise invalid("website", _("Leave this field empty."))


async def _need_category(session: AsyncSession, key: str, field: str = "need_category") -> UUID:
    found = await session.scalar(
        select(NeedCategory.id).where(NeedCategory.key == key, NeedCategory.is_active)
    )
    if found is None:
        raise invalid(field, _("Choose a need category from the list."))
    return found


async def _area(session: AsyncSession, process_id: UUID, data: s.IdeaSubmission) -> UUID:
    if data.area_code is not None:
        area_id = await places.area_by_code(session, process_id, data.area_code)
        if area_id is None:
            raise invalid("area_code", _("Choose your area from the list."))
        return area_id
    if data.point is not None:
        area_id = await places.area_at_point(session, process_id, data.point.lat, data.point.lon)
        if area_id is None:
            raise invalid("point", _("This place is not in an area of this planning process."))
        return area_id
    raise invalid("area_code", _("Choose your area from the list, or a place on the map."))


def _fingerprint(title: str, description: str) -> str:
    return text.fingerprint_text(f"{title} {description}")[:200]


@dataclass(frozen=True, slots=True)
class Submitted:
    idea: s.IdeaOut
    follow_token: str


async def submit_idea(
    session: AsyncSession, settings: Settings, process_id: UUID, data: s.IdeaSubmission
) -> Submitted:
    """Store a resident's idea while the ideas module is open in the process (404, 409
    `phase-closed`). Refuses (422 naming the field) the honeypot filled, control characters,
    too many links, an unknown need category or area, an e-mail without consent; 409
    `duplicate-idea` for the same text as a live idea of the process."""
    _check_honeypot(data.website)
    await participation.ensure_open(session, process_id, MODULE)
    title = check_text("title", data.title, m.TITLE_MAX, multiline=False)
    description = check_text("description", data.description, m.DESCRIPTION_MAX, multiline=True)
    if len(title) < 3:
        raise invalid("title", _("Please give your idea a title."))
    _check_links("description", title, description)
    groups = [
        check_text("target_groups", g, m.TARGET_GROUP_MAX, multiline=False)
        for g in data.target_groups
    ]
    if data.notify_email is not None and not data.email_consent:
        raise invalid(
            "email_consent",
            _("Agree that we e-mail you about this idea, or leave the address out."),
        )
    need_id = await _need_category(session, data.need_category)
    area_id = await _area(session, process_id, data)
    fingerprint = _fingerprint(title, description)
    duplicate = await session.scalar(
        select(m.Idea.id)
        .where(
            m.Idea.process_id == process_id,
            m.Idea.text_fingerprint == fingerprint,
            m.Idea.state.in_([m.IdeaState.PENDING.value, m.IdeaState.PUBLISHED.value]),
        )
        .limit(1)
    )
    if duplicate is not None:
        raise DuplicateIdea(
            _("This idea has been submitted already. You can support it instead."),
            errors=[FieldError(field="description", source="body", message=str(duplicate))],
        )
    config = await process_settings(session, process_id)
    token = codes.new_follow_token()
    now = utcnow()
    keep_point = data.point is not None and data.show_point_publicly
    idea = m.Idea(
        process_id=process_id,
        title=title,
        description=description,
        need_category_id=need_id,
        target_groups=[g for g in groups if g],
        area_id=area_id,
        lon=data.point.lon if keep_point and data.point else None,
        lat=data.point.lat if keep_point and data.point else None,
        state=(m.IdeaState.PENDING if config.premoderation else m.IdeaState.PUBLISHED).value,
        published_at=None if config.premoderation else now,
        follow_token_hash=codes.follow_token_hash(settings.secret_key, MODULE, token),
        notify_email=data.notify_email if data.email_consent else None,
        # The interface language of the request that asks for mail: the mails are written in it.
        notify_language=(
            i18n.current_language() if data.notify_email and data.email_consent else None
        ),
        text_fingerprint=fingerprint,
        support_count=0,
    )
    session.add(idea)
    await session.flush()
    # Ids and states only: the text stays behind moderation (and the API's visibility rules).
    await emit(
        session,
        "idea.submitted",
        {"idea_id": idea.id, "state": idea.state},
        process_id=process_id,
    )
    return Submitted(idea=idea_out(await load_row(session, idea.id)), follow_token=token)


# -- following (the private link) ----------------------------------------------------------------


async def _by_token(
    session: AsyncSession, settings: Settings, token: str, *, lock: bool = False
) -> Any:
    if not codes.plausible_follow_token(token):
        raise NotFound("No idea for this link.")
    statement = idea_select().where(
        m.Idea.follow_token_hash == codes.follow_token_hash(settings.secret_key, MODULE, token)
    )
    if lock:
        statement = statement.with_for_update(of=m.Idea)
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise NotFound("No idea for this link.")
    return row


def _followed(row: Any) -> s.FollowedIdea:
    idea: m.Idea = row[0]
    out = idea_out(row)
    if idea.state == m.IdeaState.HIDDEN:  # the author still sees their own text
        out = s.IdeaOut(**{**_fields(out), "title": idea.title, "description": idea.description})
    return s.FollowedIdea(
        idea=out,
        editable=idea.state == m.IdeaState.PENDING,
        notifications=idea.notify_email is not None,
    )


def _fields(out: s.IdeaOut) -> dict[str, Any]:
    return {name: getattr(out, name) for name in out.__struct_fields__}


async def get_followed(session: AsyncSession, settings: Settings, token: str) -> s.FollowedIdea:
    return _followed(await _by_token(session, settings, token))


async def edit_followed(
    session: AsyncSession, settings: Settings, token: str, data: s.IdeaEdit
) -> s.FollowedIdea:
    """The author changes the idea while it awaits moderation (409 afterwards)."""
    row = await _by_token(session, settings, token, lock=True)
    idea: m.Idea = row[0]
    if idea.state != m.IdeaState.PENDING:
        raise NotEditable(_("The idea has been moderated and can no longer be changed."))
    if data.title is not None:
        idea.title = check_text("title", data.title, m.TITLE_MAX, multiline=False)
    if data.description is not None:
        idea.description = check_text(
            "description", data.description, m.DESCRIPTION_MAX, multiline=True
        )
    _check_links("description", idea.title, idea.description)
    if data.need_category is not None:
        idea.need_category_id = await _need_category(session, data.need_category)
    idea.text_fingerprint = _fingerprint(idea.title, idea.description)
    idea.updated_at = utcnow()
    await session.flush()
    return _followed(await load_row(session, idea.id))


async def withdraw_followed(
    session: AsyncSession, settings: Settings, token: str
) -> s.FollowedIdea:
    """The author withdraws the idea: it disappears from lists, its e-mail address is deleted."""
    row = await _by_token(session, settings, token, lock=True)
    idea: m.Idea = row[0]
    if idea.state in (m.IdeaState.MERGED, m.IdeaState.WITHDRAWN):
        raise NotEditable(_("The idea can no longer be withdrawn."))
    idea.state = m.IdeaState.WITHDRAWN.value
    idea.notify_email = None
    idea.notify_language = None
    idea.updated_at = utcnow()
    await session.flush()
    return _followed(await load_row(session, idea.id))


async def forget_email(session: AsyncSession, settings: Settings, token: str) -> s.FollowedIdea:
    """Delete the e-mail address kept for notifications (the unsubscribe of the follow link)."""
    row = await _by_token(session, settings, token, lock=True)
    idea: m.Idea = row[0]
    idea.notify_email = None
    idea.notify_language = None
    await session.flush()
    return _followed(await load_row(session, idea.id))


async def forget_email_of(session: AsyncSession, idea_id: UUID) -> bool:
    """Delete the e-mail address of an idea (the signed unsubscribe link of a notification
    mail); True if there was one."""
    idea = await session.scalar(select(m.Idea).where(m.Idea.id == idea_id).with_for_update())
    if idea is None or idea.notify_email is None:
        return False
    idea.notify_email = None
    idea.notify_language = None
    await session.flush()
    return True


# -- supports ------------------------------------------------------------------------------------


async def _engageable(session: AsyncSession, idea_id: UUID) -> m.Idea:
    """A published idea in a process where ideas are open (404, 409 otherwise)."""
    idea = await session.scalar(select(m.Idea).where(m.Idea.id == idea_id))
    if idea is None or idea.state not in VISIBLE:
        raise NotFound(f"No idea {idea_id}.")
    await participation.ensure_open(session, idea.process_id, MODULE)
    if idea.state != m.IdeaState.PUBLISHED:
        raise InvalidTransition(_("Only published ideas can be supported or commented on."))
    return idea


async def recount_supports(session: AsyncSession, idea_id: UUID) -> int:
    count = (
        select(func.count())
        .select_from(m.idea_supports)
        .where(m.idea_supports.c.idea_id == idea_id)
        .scalar_subquery()
    )
    updated = await session.scalar(
        update(m.Idea)
        .where(m.Idea.id == idea_id)
        .values(support_count=count)
        .returning(m.Idea.support_count)
    )
    return int(updated or 0)


async def support(
    session: AsyncSession, settings: Settings, idea_id: UUID, respondent_token: str, *, on: bool
) -> s.SupportState:
    """Support (or withdraw the support of) an idea: one per resident, guarded by the keyed
    per-process pseudonym of the respondent token; repeating either is harmless."""
    pseudonyms.check_respondent_token(respondent_token)
    idea = await _engageable(session, idea_id)
    config = await process_settings(session, idea.process_id)
    who = pseudonyms.pseudonym(settings.secret_key, config.pseudonym_salt, respondent_token)
    if on:
        # The resident's record key in this process (stats.cellkey): the one of their other
        # supports, or a fresh one for a new supporter.
        existing = (
            select(m.idea_supports.c.record_key)
            .join(m.Idea, m.Idea.id == m.idea_supports.c.idea_id)
            .where(m.idea_supports.c.pseudonym == who, m.Idea.process_id == idea.process_id)
            .limit(1)
            .scalar_subquery()
        )
        await session.execute(
            insert(m.idea_supports)
            .values(
                idea_id=idea_id,
                pseudonym=who,
                record_key=func.coalesce(existing, literal(new_record_key(), BigInteger)),
            )
            .on_conflict_do_nothing()
        )
    else:
        await session.execute(
            delete(m.idea_supports).where(
                m.idea_supports.c.idea_id == idea_id, m.idea_supports.c.pseudonym == who
            )
        )
    count = await recount_supports(session, idea_id)
    return s.SupportState(idea_id=idea_id, supported=on, support_count=count)


# The common case on the asyncpg driver: one statement, outside a transaction block (it commits
# on its own), with the idea's process and that process's pseudonym salt known from an earlier
# support in this app process. An idea's process and a process's salt never change; the
# statement checks both anyway, so a stale entry only sends the request the long way.
_IDEAS: sa.Table = m.Idea.__table__  # type: ignore[assignment]
_SETTINGS: sa.Table = m.IdeaSettings.__table__  # type: ignore[assignment]
_PLACES: dict[UUID, tuple[UUID, bytes]] = {}  # idea → (its process, the process's salt)
_PLACES_MAX = 10_000  # ~2.5 MB; emptied when full

_PLACE = DriverStatement(
    select(_IDEAS.c.process_id, _SETTINGS.c.pseudonym_salt)
    .join(_SETTINGS, _SETTINGS.c.process_id == _IDEAS.c.process_id)
    .where(_IDEAS.c.id == sa.bindparam("idea_id", type_=sa.Uuid))
)


def _locked_idea() -> Any:
    """The idea `:idea_id`, locked, if it is published, belongs to `:process_id` whose salt is
    `:salt`, and ideas are open there now (`guard.open_now`, the rule `_engageable` applies).
    The lock orders supports of one idea (and a merge or hiding, which lock it too): the count
    below is exact, and a support never lands on an idea merged or hidden meanwhile."""
    return (
        select(_IDEAS.c.id, _IDEAS.c.support_count)
        .where(
            _IDEAS.c.id == sa.bindparam("idea_id", type_=sa.Uuid),
            _IDEAS.c.process_id == sa.bindparam("process_id", type_=sa.Uuid),
            _IDEAS.c.state == m.IdeaState.PUBLISHED.value,
            sa.exists().where(
                _SETTINGS.c.process_id == sa.bindparam("process_id", type_=sa.Uuid),
                _SETTINGS.c.pseudonym_salt == sa.bindparam("salt", type_=sa.LargeBinary),
            ),
            func.coalesce(guard.open_now(MODULE), sa.false()),
        )
        .with_for_update(of=_IDEAS)
        .cte("idea")
    )


def _counted(idea: Any, changed: Any, step: int) -> Any:
    """`support_count` moved by `step` when `changed` (the inserted or deleted support) has a
    row; the statement answers whether the idea qualified and its count."""
    bumped = (
        update(_IDEAS)
        .where(_IDEAS.c.id == idea.c.id, sa.exists(select(changed.c.idea_id)))
        .values(support_count=_IDEAS.c.support_count + step, updated_at=func.now())
        .returning(_IDEAS.c.support_count)
        .cte("bumped")
    )
    return select(
        select(idea.c.id).scalar_subquery().label("found"),
        func.coalesce(
            select(bumped.c.support_count).scalar_subquery(),
            select(idea.c.support_count).scalar_subquery(),
        ).label("support_count"),
    ).add_cte(changed)


def _support_statement() -> Any:
    idea = _locked_idea()
    other, their = m.idea_supports.alias("other"), _IDEAS.alias("their")
    # The resident's record key in this process (stats.cellkey): the one of their other
    # supports, or the fresh one given for a new supporter.
    existing = (
        select(other.c.record_key)
        .join(their, their.c.id == other.c.idea_id)
        .where(
            other.c.pseudonym == sa.bindparam("pseudonym", type_=sa.LargeBinary),
            their.c.process_id == sa.bindparam("process_id", type_=sa.Uuid),
        )
        .limit(1)
        .scalar_subquery()
    )
    added = (
        insert(m.idea_supports)
        .from_select(
            ["idea_id", "pseudonym", "record_key"],
            select(
                idea.c.id,
                sa.bindparam("pseudonym", type_=sa.LargeBinary),
                func.coalesce(existing, sa.bindparam("record_key", type_=BigInteger)),
            ),
        )
        .on_conflict_do_nothing()
        .returning(m.idea_supports.c.idea_id)
        .cte("added")
    )
    return _counted(idea, added, +1)


def _withdraw_statement() -> Any:
    idea = _locked_idea()
    gone = (
        delete(m.idea_supports)
        .where(
            m.idea_supports.c.idea_id == idea.c.id,
            m.idea_supports.c.pseudonym == sa.bindparam("pseudonym", type_=sa.LargeBinary),
        )
        .returning(m.idea_supports.c.idea_id)
        .cte("gone")
    )
    return _counted(idea, gone, -1)


_SUPPORT = DriverStatement(_support_statement())
_WITHDRAW = DriverStatement(_withdraw_statement())


async def support_on_driver(
    engine: AsyncEngine, settings: Settings, idea_id: UUID, respondent_token: str, *, on: bool
) -> s.SupportState | None:
    """`support` of a published idea while ideas are open, on the asyncpg driver: one
    statement (two for the first support of an idea in this app process, which first reads the
    idea's process and salt). It keeps every rule of `support`: the same keyed pseudonym, one
    row per resident and idea (a repeat inserts or deletes nothing and changes no count), the
    resident's record key, the open-phase guard. None for anything else (an unknown, pending,
    hidden or merged idea, ideas closed, a malformed token): the caller then takes `support`,
    whose answers and problems are the reference."""
    if not pseudonyms.valid_respondent_token(respondent_token):
        return None
    async with driver_statements(engine) as db:
        place = _PLACES.get(idea_id)
        if place is None:
            found = await db.row(_PLACE, {"idea_id": idea_id})
            if found is None:
                return None
            place = (found["process_id"], bytes(found["pseudonym_salt"]))
            if len(_PLACES) >= _PLACES_MAX:
                _PLACES.clear()
            _PLACES[idea_id] = place
        process_id, salt = place
        values: dict[str, Any] = {
            "idea_id": idea_id,
            "process_id": process_id,
            "salt": salt,
            "pseudonym": pseudonyms.pseudonym(settings.secret_key, salt, respondent_token),
        }
        if on:
            values["record_key"] = new_record_key()
        row = await db.row(_SUPPORT if on else _WITHDRAW, values)
    if row is None or row["found"] is None:
        _PLACES.pop(idea_id, None)
        return None
    return s.SupportState(idea_id=idea_id, supported=on, support_count=int(row["support_count"]))


async def support_quickly(
    session: AsyncSession,
    engine: AsyncEngine,
    settings: Settings,
    idea_id: UUID,
    respondent_token: str,
    *,
    on: bool,
) -> s.SupportState:
    """`support_on_driver`, or `support` in the request's session when it declines."""
    done = await support_on_driver(engine, settings, idea_id, respondent_token, on=on)
    if done is not None:
        return done
    return await support(session, settings, idea_id, respondent_token, on=on)


async def supported_by(
    session: AsyncSession, settings: Settings, idea_id: UUID, process_id: UUID, token: str | None
) -> bool:
    if token is None or not pseudonyms.valid_respondent_token(token):
        return False
    config = await process_settings(session, process_id)
    who = pseudonyms.pseudonym(settings.secret_key, config.pseudonym_salt, token)
    found = await session.scalar(
        select(literal(True)).where(
            m.idea_supports.c.idea_id == idea_id, m.idea_supports.c.pseudonym == who
        )
    )
    return bool(found)


# -- comments and reports ------------------------------------------------------------------------


def comment_out(comment: m.IdeaComment) -> s.CommentOut:
    hidden = comment.state == m.CommentState.HIDDEN
    return s.CommentOut(
        id=comment.id,
        idea_id=comment.idea_id,
        parent_id=comment.parent_id,
        body=None if hidden else comment.body,
        state=comment.state,  # type: ignore[arg-type]
        hidden_reason=comment.hidden_reason,
        created_at=comment.created_at,
    )


async def submit_comment(
    session: AsyncSession, idea_id: UUID, data: s.CommentSubmission
) -> s.CommentOut:
    """A comment on a published idea, or a reply to a comment that is not a reply itself;
    moderated like ideas (pending first when the process pre-moderates)."""
    _check_honeypot(data.website)
    idea = await _engageable(session, idea_id)
    body = check_text("body", data.body, m.COMMENT_MAX, multiline=True)
    if not body:
        raise invalid("body", _("Please write a comment."))
    _check_links("body", body)
    if data.parent_id is not None:
        parent = await session.scalar(
            select(m.IdeaComment).where(
                m.IdeaComment.id == data.parent_id, m.IdeaComment.idea_id == idea_id
            )
        )
        if parent is None:
            raise invalid("parent_id", _("The comment you reply to does not exist."))
        if parent.parent_id is not None:
            raise invalid("parent_id", _("Replies can only be made to comments, not to replies."))
    config = await process_settings(session, idea.process_id)
    comment = m.IdeaComment(
        idea_id=idea_id,
        parent_id=data.parent_id,
        body=body,
        state=(m.CommentState.PENDING if config.premoderation else m.CommentState.PUBLISHED).value,
    )
    session.add(comment)
    await session.flush()
    return comment_out(comment)


async def list_comments(
    session: AsyncSession, idea_id: UUID, *, staff: bool = False
) -> list[s.CommentOut]:
    """Published and hidden (with reason) comments of a visible idea, oldest first; replies
    after their comment. Staff also see pending ones."""
    await get_idea(session, idea_id, staff=staff)
    statement = select(m.IdeaComment).where(m.IdeaComment.idea_id == idea_id)
    if not staff:
        statement = statement.where(m.IdeaComment.state != m.CommentState.PENDING.value)
    comments = (await session.scalars(statement.order_by(m.IdeaComment.id).limit(1000))).all()
    top = [c for c in comments if c.parent_id is None]
    replies: dict[UUID, list[m.IdeaComment]] = {}
    for comment in comments:
        if comment.parent_id is not None:
            replies.setdefault(comment.parent_id, []).append(comment)
    ordered: list[s.CommentOut] = []
    for comment in top:
        ordered.append(comment_out(comment))
        ordered.extend(comment_out(reply) for reply in replies.get(comment.id, []))
    return ordered


async def report(
    session: AsyncSession, idea_id: UUID, data: s.ReportSubmission
) -> s.ReportReceived:
    """Anyone reports a visible idea or one of its comments; reports queue for moderators."""
    await get_idea(session, idea_id)
    reason = check_text("reason", data.reason, m.REASON_MAX, multiline=True)
    if data.comment_id is not None:
        found = await session.scalar(
            select(m.IdeaComment.id).where(
                m.IdeaComment.id == data.comment_id,
                m.IdeaComment.idea_id == idea_id,
                m.IdeaComment.state != m.CommentState.PENDING.value,
            )
        )
        if found is None:
            raise invalid("comment_id", _("This comment does not exist."))
    entry = m.IdeaReport(idea_id=idea_id, comment_id=data.comment_id, reason=reason)
    session.add(entry)
    await session.flush()
    return s.ReportReceived(id=entry.id, idea_id=idea_id, comment_id=data.comment_id)


# -- lists ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdeaFilter:
    process_id: UUID | None = None
    area_code: str | None = None  # the area and all its sub-areas
    need_category: str | None = None
    official_status: str | None = None


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _sort_keys(sort: Sort) -> list[Any]:
    if sort == "most_supported":
        return [m.Idea.support_count, m.Idea.id]
    if sort == "recently_answered":
        return [func.coalesce(m.Idea.answered_at, literal(_EPOCH)), m.Idea.id]
    return [m.Idea.id]  # UUIDv7: newest first


async def list_ideas(
    session: AsyncSession, filters: IdeaFilter, *, sort: Sort, limit: int, cursor: str | None
) -> tuple[list[s.IdeaOut], str | None]:
    """Published and hidden ideas (hidden ones with their reason in place of the text),
    filtered, sorted descending by `sort`, one page (keyset cursor)."""
    statement = idea_select().where(
        m.Idea.state.in_([m.IdeaState.PUBLISHED.value, m.IdeaState.HIDDEN.value])
    )
    if filters.process_id is not None:
        statement = statement.where(m.Idea.process_id == filters.process_id)
    if filters.area_code is not None:
        area = await session.scalar(
            select(SocialArea.id).where(SocialArea.code == filters.area_code)
        )
        if area is None:
            raise InvalidInput(
                "Unknown social area.",
                errors=[FieldError(field="area", source="query", message="unknown area code")],
            )
        statement = statement.where(SocialArea.path.contains([area]))
    if filters.need_category is not None:
        statement = statement.where(NeedCategory.key == filters.need_category)
    if filters.official_status is not None:
        statement = statement.where(m.Idea.official_status == filters.official_status)
    keys = _sort_keys(sort)
    if cursor:
        values = decode_cursor(cursor, len(keys))
        if len(keys) == 1:
            statement = statement.where(keys[0] < values[0])
        else:
            statement = statement.where(tuple_(*keys) < tuple_(*values))
    rows = (
        await session.execute(statement.order_by(*(k.desc() for k in keys)).limit(limit + 1))
    ).all()
    next_cursor = None
    if len(rows) > limit:
        last: m.Idea = rows[limit - 1][0]
        if sort == "most_supported":
            next_cursor = encode_cursor([last.support_count, last.id])
        elif sort == "recently_answered":
            next_cursor = encode_cursor([last.answered_at or _EPOCH, last.id])
        else:
            next_cursor = encode_cursor([last.id])
    return [idea_out(row) for row in rows[:limit]], next_cursor


async def geojson(session: AsyncSession, process_id: UUID | None) -> dict[str, Any]:
    """Published ideas whose authors agreed to show their point, as a GeoJSON FeatureCollection
    (the text is not repeated: each feature links to its idea)."""
    statement = idea_select().where(
        m.Idea.state == m.IdeaState.PUBLISHED.value, m.Idea.lon.is_not(None)
    )
    if process_id is not None:
        statement = statement.where(m.Idea.process_id == process_id)
    rows = (await session.execute(statement.order_by(m.Idea.id).limit(10_000))).all()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": str(row[0].id),
                "geometry": {"type": "Point", "coordinates": [row[0].lon, row[0].lat]},
                "properties": {
                    "title": row[0].title,
                    "need_category": row[3],
                    "area_code": row[1],
                    "official_status": row[0].official_status,
                    "support_count": row[0].support_count,
                },
            }
            for row in rows
        ],
    }


async def need_categories(session: AsyncSession) -> list[tuple[str, dict[str, str]]]:
    rows = await session.execute(
        select(NeedCategory.key, NeedCategory.label)
        .where(NeedCategory.is_active)
        .order_by(NeedCategory.position, NeedCategory.key)
    )
    return [(row[0], row[1]) for row in rows]


async def area_options(
    session: AsyncSession, process_id: UUID, *, all_levels: bool
) -> list[tuple[str, str]]:
    """(code, name) of the areas of the process's scope residents choose from: the most
    detailed level (submitting), or every level ordered by code (filtering)."""
    rows = (
        await session.execute(
            places.scoped_areas()
            .add_columns(AreaLevel.depth)
            .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
            .order_by(SocialArea.code),
            {"process_id": process_id},
        )
    ).all()
    if not rows:
        return []
    if all_levels:
        return [(row[1], row[2]) for row in rows]
    deepest = max(row[3] for row in rows)
    return sorted(((row[1], row[2]) for row in rows if row[3] == deepest), key=lambda a: a[1])


async def merge_targets(
    session: AsyncSession, process_ids: list[UUID]
) -> dict[UUID, list[tuple[UUID, str]]]:
    """Published ideas per process a duplicate can be merged into (newest first, at most 200)."""
    targets: dict[UUID, list[tuple[UUID, str]]] = {}
    for process_id in set(process_ids):
        rows = await session.execute(
            select(m.Idea.id, m.Idea.title)
            .where(m.Idea.process_id == process_id, m.Idea.state == m.IdeaState.PUBLISHED.value)
            .order_by(m.Idea.id.desc())
            .limit(200)
        )
        targets[process_id] = [(row[0], row[1]) for row in rows]
    return targets
