"""Structured feedback on a measure version: submitting it, organisations' consultation codes,
the disclosure-controlled summary, and the traceability chain from needs to measures.

Submitting: the consultation window must be open, the measure in consultation, and the
process's active phase must open `measure_feedback` (the participation registry). Residents
and professionals stay anonymous (a keyed per-consultation pseudonym of a respondent token
refuses repeats, as in surveys); an organisation answers with the code issued to it, once, and
is named. Every submission is idempotent with an `Idempotency-Key`. The common case (a valid
anonymous response to an open consultation, or a replay) runs on the asyncpg driver in two
statements (`_submit_on_driver`, as survey responses do); everything else takes the general
path, whose answers are the reference.

The summary is disclosure-controlled by the cell key method, like every figure from residents
(`stats.cellkey`, docs/PRIVACY.md). Every response carries a random `record_key`; a cell (the
anonymous responses of a group with a stance, or with a rating of a criterion) is published as
its perturbed count. The groups are all anonymous responses, each kind (resident,
professional), and each kind × social area — the measure's areas and every area a response
named, plus "no area" — listed whether they have responses or not. A group whose perturbed
size is below `min_respondents` is not shown (reason "protected", the same for an empty group
as for a small one, never 0). A criterion's mean, median and interval are computed from its
published (perturbed) distribution only. Organisations' statements are named and not counted
in the groups.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Literal
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.visitors import replacement_traverse
from uuid_utils.compat import uuid7

from quartier.areas.models import SocialArea
from quartier.core import idempotency
from quartier.core import translations as shared_translations
from quartier.core.bilingual import Method
from quartier.core.driver import DriverStatement, driver_transaction
from quartier.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from quartier.core.idempotency import (
    StoredResponse,
    check_key,
    fingerprint,
    in_flight,
    key_reused,
    lock_id,
    record_values,
    replay,
    run_idempotent,
)
from quartier.ideas.models import Idea, IdeaState
from quartier.ideas.services import premoderates
from quartier.measures import common
from quartier.measures import schemas as s
from quartier.measures.models import (
    Consultation,
    ConsultationCode,
    Feedback,
    FeedbackComment,
    FeedbackRating,
    Goal,
    GoalVersion,
    Measure,
    MeasureStatus,
    MeasureVersion,
    ModerationStatus,
    RespondentKind,
    Stance,
)
from quartier.measures.services import latest_consultation, visible_measure
from quartier.participation import guard
from quartier.participation import pseudonyms as resident_ids
from quartier.processes import models as pm
from quartier.processes import participation
from quartier.settings import Settings
from quartier.stats.cellkey import EMPTY, Cell, Release, new_record_key
from quartier.surveys import responses as codes

MODULE = "measure_feedback"
OPERATION = "SubmitMeasureFeedback"
ANONYMOUS_KINDS = (RespondentKind.RESIDENT, RespondentKind.PROFESSIONAL)
STANCES = tuple(Stance)
RATING_VALUES = (1, 2, 3, 4, 5)
INTERVAL_METHOD = Method(
    "Student t interval of the mean (normal quantile from 30 ratings on), of the published "
    "(perturbed) distribution",
    "t-Intervall des Mittelwerts (ab 30 Bewertungen mit dem Quantil der Normalverteilung), aus "
    "der veröffentlichten (überlagerten) Verteilung",
)
DISCLOSURE_METHOD = Method(
    "cell key method: every count is perturbed by noise chosen by its cell key (two-sided "
    "geometric, alpha {alpha}, at most ±{noise}), the same noise for the same cell wherever it "
    "appears; results below {k} are published as 0; means, medians and intervals are computed "
    "from perturbed counts; a group whose perturbed number of responses is below {minimum} is "
    "not shown (protected)",
    "Cell-Key-Verfahren: jede Anzahl wird mit einer Abweichung überlagert, die ihr Zellschlüssel "
    "bestimmt (zweiseitig geometrisch, Alpha {alpha}, höchstens ±{noise}), dieselbe Abweichung "
    "für dieselbe Zelle, wo immer sie erscheint; Ergebnisse unter {k} werden als 0 "
    "veröffentlicht; Mittelwerte, Mediane und Intervalle werden aus überlagerten Anzahlen "
    "berechnet; eine Gruppe, deren überlagerte Zahl der Antworten unter {minimum} liegt, wird "
    "nicht gezeigt (geschützt)",
)


# -- submitting ---------------------------------------------------------------------------------


async def open_consultation(
    session: AsyncSession, measure_id: UUID
) -> tuple[Measure, Consultation]:
    """The measure and its consultation if residents may answer now (404/409 otherwise)."""
    measure = await visible_measure(session, measure_id, common.PUBLIC)
    consultation = await latest_consultation(session, measure_id)
    now = common.utcnow()
    if (
        consultation is None
        or measure.status != MeasureStatus.IN_CONSULTATION.value
        or not consultation.opens_at <= now < consultation.closes_at
    ):
        raise Conflict(
            "This measure is not open for feedback now.",
            slug="consultation-closed",
            title="Consultation closed",
        )
    await participation.ensure_open(session, measure.process_id, MODULE)
    return measure, consultation


def initial_moderation(premoderated: bool) -> ModerationStatus:
    """A new comment waits for a moderator where the process pre-moderates (its ideas
    settings, as idea comments do); else it is shown at once. Both submission paths."""
    return ModerationStatus.PENDING if premoderated else ModerationStatus.VISIBLE


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[FieldError(field=field, source="body", message=message)])


async def _check(
    session: AsyncSession, consultation: Consultation, data: s.FeedbackSubmission
) -> UUID | None:
    criteria = {c["key"] for c in consultation.criteria}
    for key in data.ratings:
        if key not in criteria:
            raise _invalid(f"ratings.{key}", "not a criterion of this consultation")
    version = await session.scalar(
        sa.select(MeasureVersion).where(
            MeasureVersion.measure_id == consultation.measure_id,
            MeasureVersion.version == consultation.version,
        )
    )
    assert version is not None
    sections = {section["key"] for section in version.sections}
    seen: set[str] = set()
    for index, comment in enumerate(data.comments):
        if comment.section not in sections:
            raise _invalid(f"comments[{index}].section", "not a section of this measure")
        if comment.section in seen:
            raise _invalid(f"comments[{index}].section", "one comment per section")
        seen.add(comment.section)
    if data.area_code is None:
        return None
    area_id = await session.scalar(
        sa.select(SocialArea.id).where(SocialArea.code == data.area_code)
    )
    if area_id is None:
        raise _invalid("area_code", f"unknown social area code '{data.area_code}'")
    return area_id


async def submit(
    session: AsyncSession,
    settings: Settings,
    measure_id: UUID,
    data: s.FeedbackSubmission,
    *,
    respondent_token: str | None,
) -> s.FeedbackReceipt:
    measure, consultation = await open_consultation(session, measure_id)
    area_id = await _check(session, consultation, data)
    organisation: s.OrganisationRef | None = None
    pseudonym = None
    if data.kind is RespondentKind.ORGANISATION:
        if not data.organisation_code:
            raise _invalid("organisation_code", "organisations answer with their code")
        code_hash = codes.invitation_hash(
            settings.secret_key, consultation.id, data.organisation_code
        )
        used = await session.execute(
            sa.update(ConsultationCode)
            .where(
                ConsultationCode.code_hash == code_hash,
                ConsultationCode.consultation_id == consultation.id,
                ConsultationCode.used_at.is_(None),
            )
            .values(used_at=common.utcnow())
            .returning(ConsultationCode.organisation_id)
        )
        organisation_id = used.scalar_one_or_none()
        if organisation_id is None:
            raise Conflict(
                "This consultation code is unknown or was used already.",
                slug="code-used",
                title="Code not usable",
            )
        organisation = (await common.organisations_by_id(session, [organisation_id]))[
            organisation_id
        ]
    elif data.organisation_code:
        raise _invalid("organisation_code", "only organisations answer with a code")
    elif respondent_token is not None:
        resident_ids.check_respondent_token(respondent_token)
        pseudonym = resident_ids.pseudonym(
            settings.secret_key, consultation.pseudonym_salt, respondent_token
        )
        taken = await session.scalar(
            sa.select(Feedback.id).where(
                Feedback.consultation_id == consultation.id, Feedback.pseudonym == pseudonym
            )
        )
        if taken is not None:
            raise Conflict(
                "Feedback from this browser was given already.",
                slug="already-answered",
                title="Already answered",
            )
    row = Feedback(
        consultation_id=consultation.id,
        kind=data.kind.value,
        organisation_id=organisation.id if organisation else None,
        area_id=area_id,
        stance=data.stance.value,
        pseudonym=pseudonym,
        receipt_code=codes.new_receipt_code(),
    )
    session.add(row)
    await session.flush()
    session.add_all(
        FeedbackRating(
            feedback_id=row.id, consultation_id=consultation.id, criterion=key, value=value
        )
        for key, value in data.ratings.items()
    )
    comments: list[tuple[str | None, str]] = [(c.section, c.body) for c in data.comments]
    if data.general_comment.strip():
        comments.append((None, data.general_comment.strip()))
    if comments:
        premoderated = await session.scalar(sa.select(premoderates(measure.process_id)))
        session.add_all(
            FeedbackComment(
                feedback_id=row.id,
                consultation_id=consultation.id,
                section=section,
                body=body,
                moderation=initial_moderation(bool(premoderated)).value,
            )
            for section, body in comments
        )
    await session.flush()
    return s.FeedbackReceipt(
        receipt_code=codes.format_code(row.receipt_code),
        submitted_at=row.created_at,
        organisation=organisation,
    )


async def submit_idempotent(
    session: AsyncSession,
    settings: Settings,
    measure_id: UUID,
    data: s.FeedbackSubmission,
    *,
    idempotency_key: str | None,
    respondent_token: str | None,
    engine: AsyncEngine | None = None,
) -> StoredResponse:
    """A submission, stored at most once per `Idempotency-Key`. With `engine`, the common
    case — a valid anonymous response to an open consultation, or a replay — takes the driver
    path (`_submit_on_driver`: two statements in a transaction of its own); everything else
    (organisations, refusals, repeats) the general path in `session`, whose problems are the
    reference. Both paths use the same operation, key lock and body fingerprint."""
    request_fingerprint = fingerprint(
        settings.secret_key, measure_id.bytes, msgspec.json.encode(data)
    )
    if engine is not None:
        if idempotency_key is not None:
            check_key(idempotency_key)
        fast = await _submit_on_driver(
            engine,
            settings,
            measure_id,
            data,
            key=idempotency_key,
            request_fingerprint=request_fingerprint,
            respondent_token=respondent_token,
        )
        if fast is not None:
            return fast

    async def produce() -> tuple[int, Any, dict[str, str]]:
        receipt = await submit(
            session, settings, measure_id, data, respondent_token=respondent_token
        )
        return 201, receipt, {}

    return await run_idempotent(
        session,
        operation=OPERATION,
        key=idempotency_key,
        request_fingerprint=request_fingerprint,
        produce=produce,
        retention=settings.idempotency_retention,
    )


# -- the driver path -----------------------------------------------------------------------------
# The rules are those of `submit` and `run_idempotent`; the driver path only takes the case in
# which every check passes (or the key's answer is replayed) and leaves everything else to them.

_MEASURES: sa.Table = Measure.__table__  # type: ignore[assignment]
_CONSULTATIONS: sa.Table = Consultation.__table__  # type: ignore[assignment]
_VERSIONS: sa.Table = MeasureVersion.__table__  # type: ignore[assignment]
_FEEDBACK: sa.Table = Feedback.__table__  # type: ignore[assignment]
_RATINGS: sa.Table = FeedbackRating.__table__  # type: ignore[assignment]
_COMMENTS: sa.Table = FeedbackComment.__table__  # type: ignore[assignment]


def _process_of_measure(element: Any, **_kw: Any) -> Any:
    """`:process_id` of `guard.open_now` as the measure's own column."""
    if isinstance(element, sa.BindParameter) and element.key == "process_id":
        return _MEASURES.c.process_id
    return None


# `guard.open_now` states the phase rule for the process `:process_id`: here, the measure's.
_OPEN_NOW: sa.ColumnElement[Any] = guard.open_now(MODULE)
_NO_OPTIONS: dict[str, Any] = {}
_LATEST = (
    sa.select(
        _CONSULTATIONS.c.id,
        _CONSULTATIONS.c.version,
        _CONSULTATIONS.c.opens_at,
        _CONSULTATIONS.c.closes_at,
        _CONSULTATIONS.c.criteria,
        _CONSULTATIONS.c.pseudonym_salt,
    )
    .where(_CONSULTATIONS.c.measure_id == _MEASURES.c.id)
    .order_by(_CONSULTATIONS.c.version.desc())
    .limit(1)
    .lateral("consultation")
)
# 1. The measure, its latest consultation and that version's sections, whether the process's
#    phase opens measure feedback (`guard.open_now`, on the measure's process), whether the
#    process pre-moderates comments (`premoderates`, as the general path), the area named,
#    and, with a key, the key's in-flight lock.
_FACTS = DriverStatement(
    sa.select(
        _MEASURES.c.status,
        _LATEST.c.id.label("consultation_id"),
        _LATEST.c.opens_at,
        _LATEST.c.closes_at,
        _LATEST.c.criteria,
        _LATEST.c.pseudonym_salt,
        _VERSIONS.c.sections,
        sa.func.coalesce(
            replacement_traverse(_OPEN_NOW, _NO_OPTIONS, _process_of_measure), sa.false()
        ).label("open"),
        premoderates(_MEASURES.c.process_id).label("premoderated"),
        sa.select(SocialArea.id)
        .where(SocialArea.code == sa.bindparam("area_code", type_=sa.String))
        .scalar_subquery()
        .label("area_id"),
        sa.case(
            (sa.bindparam("lock_id", type_=sa.BigInteger).is_(None), sa.true()),
            else_=sa.func.pg_try_advisory_xact_lock(sa.bindparam("lock_id", type_=sa.BigInteger)),
        ).label("locked"),
    )
    .select_from(
        _MEASURES.outerjoin(_LATEST, sa.true()).outerjoin(
            _VERSIONS,
            sa.and_(
                _VERSIONS.c.measure_id == _MEASURES.c.id, _VERSIONS.c.version == _LATEST.c.version
            ),
        )
    )
    .where(_MEASURES.c.id == sa.bindparam("measure_id", type_=sa.Uuid))
)


def _child_id(parent: Any, tag: str, ordinal: Any) -> Any:
    """A row id derived from its response's UUIDv7: the response's first 8 bytes (its time, so
    rows sort like their responses), then 8 bytes of md5(response id, tag, ordinal)."""
    digest = sa.func.decode(
        sa.func.md5(
            sa.cast(parent, sa.Text)
            .op("||")(sa.literal_column(f"'{tag}'"))
            .op("||")(sa.cast(ordinal, sa.Text))
        ),
        sa.literal_column("'hex'"),
    )
    raw = sa.func.substring(sa.func.uuid_send(parent), 1, 8).op("||")(
        sa.func.substring(digest, 1, 8)
    )
    return sa.cast(sa.func.encode(raw, sa.literal_column("'hex'")), sa.Uuid)


_COMMENT_COLUMNS = (
    "id", "feedback_id", "consultation_id", "section", "body", "moderation", "created_at",
    "updated_at",
)  # fmt: skip
# What an expired record of the same key takes from the new one (its unique index still holds).
_RENEWED = (
    "fingerprint", "response_status", "response_body", "response_headers", "expires_at",
    "created_at", "updated_at",
)  # fmt: skip


def _store() -> Any:
    """2. After the lock (a statement of its own, so that its snapshot sees a record committed
    by the lock's previous holder): the key's live record; unless there is one, the response
    (nothing if its pseudonym or receipt code is taken), its ratings and comments, and the key's
    record (replacing an expired one). Returns the live record's columns and the new id."""
    live = sa.select(*idempotency.LIVE_COLUMNS).where(idempotency.LIVE_CONDITION).cte("live")
    columns = [
        "id", "consultation_id", "kind", "area_id", "stance", "pseudonym", "receipt_code",
        "record_key", "created_at", "updated_at",
    ]  # fmt: skip
    response = (
        insert(_FEEDBACK)
        .from_select(
            columns,
            sa.select(
                *(sa.bindparam(f"r_{name}", type_=_FEEDBACK.c[name].type) for name in columns)
            ).where(~sa.exists(sa.select(live.c.fingerprint))),
        )
        .on_conflict_do_nothing()
        .returning(_FEEDBACK.c.id, _FEEDBACK.c.consultation_id, _FEEDBACK.c.created_at)
        .cte("response")
    )
    now = response.c.created_at
    given = (
        sa.func.unnest(
            sa.bindparam("criteria", type_=ARRAY(sa.String)),
            sa.bindparam("values", type_=ARRAY(sa.SmallInteger)),
        )
        .table_valued("criterion", "value", with_ordinality="ordinal")
        .render_derived(name="given")
    )
    ratings = _RATINGS.insert().from_select(
        ["id", "feedback_id", "consultation_id", "criterion", "value", "created_at", "updated_at"],
        sa.select(
            _child_id(response.c.id, "r", given.c.ordinal),
            response.c.id,
            response.c.consultation_id,
            given.c.criterion,
            given.c.value,
            now,
            now,
        )
        .select_from(response)
        .join(given, sa.true()),
    )
    said = (
        sa.func.unnest(
            sa.bindparam("sections", type_=ARRAY(sa.String)),
            sa.bindparam("bodies", type_=ARRAY(sa.Text)),
        )
        .table_valued("section", "body", with_ordinality="ordinal")
        .render_derived(name="said")
    )
    comments = _COMMENTS.insert().from_select(
        [*_COMMENT_COLUMNS],
        sa.select(
            _child_id(response.c.id, "c", said.c.ordinal),
            response.c.id,
            response.c.consultation_id,
            said.c.section,
            said.c.body,
            sa.bindparam("moderation", type_=sa.String),
            now,
            now,
        )
        .select_from(response)
        .join(said, sa.true()),
    )
    records = idempotency.RECORDS
    record_columns = [c for c in records.c if c.name != "sa_orm_sentinel"]
    record_insert = insert(records).from_select(
        [c.name for c in record_columns],
        sa.select(*(sa.bindparam(f"i_{c.name}", type_=c.type) for c in record_columns))
        .select_from(response)
        .where(sa.bindparam("i_idempotency_key", type_=sa.String).is_not(None)),
    )
    record = record_insert.on_conflict_do_update(
        index_elements=[records.c.operation, records.c.idempotency_key],
        set_={name: record_insert.excluded[name] for name in _RENEWED},
        where=records.c.expires_at <= sa.func.now(),
    )
    return (
        sa.select(
            sa.select(response.c.id).scalar_subquery().label("inserted"),
            *(live.c[c.name] for c in idempotency.LIVE_COLUMNS),
        )
        .select_from(sa.select(sa.literal(1).label("one")).subquery("one"))
        .outerjoin(live, sa.true())
        .add_cte(ratings.cte("ratings"), comments.cte("comments"), record.cte("record"))
    )


_STORE = DriverStatement(_store())
_RECORD_COLUMNS = [c.name for c in idempotency.RECORDS.c if c.name != "sa_orm_sentinel"]


class _NotStored(Exception):
    """Nothing was stored (a repeat, a collision): roll back, and let the general path say."""


async def _submit_on_driver(
    engine: AsyncEngine,
    settings: Settings,
    measure_id: UUID,
    data: s.FeedbackSubmission,
    *,
    key: str | None,
    request_fingerprint: bytes,
    respondent_token: str | None,
) -> StoredResponse | None:
    """Store a valid anonymous response to an open consultation, or replay its key's stored
    answer; None for anything else (the caller then takes the general path)."""
    if data.kind is RespondentKind.ORGANISATION or data.organisation_code:
        return None  # the code's hash needs the consultation: the general path
    if respondent_token is not None and not resident_ids.valid_respondent_token(respondent_token):
        return None
    try:
        async with driver_transaction(engine) as db:
            facts = await db.row(
                _FACTS,
                {
                    "measure_id": measure_id,
                    "area_code": data.area_code,
                    "lock_id": None if key is None else lock_id(OPERATION, key),
                },
            )
            if facts is None:
                return None
            if not facts["locked"]:
                raise in_flight()
            now = common.utcnow()
            if (
                facts["status"] != MeasureStatus.IN_CONSULTATION.value
                or facts["consultation_id"] is None
                or facts["sections"] is None
                or not facts["open"]
                or not facts["opens_at"] <= now < facts["closes_at"]
                or (data.area_code is not None and facts["area_id"] is None)
            ):
                return None
            criteria = {c["key"] for c in facts["criteria"]}
            sections = {section["key"] for section in facts["sections"]}
            commented = [c.section for c in data.comments]
            if (
                not criteria.issuperset(data.ratings)
                or not sections.issuperset(commented)
                or len(set(commented)) != len(commented)
            ):
                return None
            pseudonym = (
                None
                if respondent_token is None
                else resident_ids.pseudonym(
                    settings.secret_key, facts["pseudonym_salt"], respondent_token
                )
            )
            said: list[tuple[str | None, str]] = [(c.section, c.body) for c in data.comments]
            if data.general_comment.strip():
                said.append((None, data.general_comment.strip()))
            given = {
                "criteria": list(data.ratings),
                "values": list(data.ratings.values()),
                "sections": [section for section, _ in said],
                "bodies": [body for _, body in said],
                "moderation": initial_moderation(bool(facts["premoderated"])).value,
            }
            for _attempt in range(5):
                receipt_code = codes.new_receipt_code()
                row = {
                    "id": uuid7(),
                    "consultation_id": facts["consultation_id"],
                    "kind": data.kind.value,
                    "area_id": facts["area_id"],
                    "stance": data.stance.value,
                    "pseudonym": pseudonym,
                    "receipt_code": receipt_code,
                    "record_key": new_record_key(),
                    "created_at": now,
                    "updated_at": now,
                }
                body = msgspec.json.encode(
                    s.FeedbackReceipt(
                        receipt_code=codes.format_code(receipt_code), submitted_at=now
                    )
                )
                record = (
                    dict.fromkeys(_RECORD_COLUMNS)
                    if key is None
                    else record_values(
                        OPERATION,
                        key,
                        request_fingerprint,
                        201,
                        body,
                        {},
                        retention=settings.idempotency_retention,
                    )
                )
                stored = await db.row(
                    _STORE,
                    {f"r_{name}": value for name, value in row.items()}
                    | {f"i_{name}": value for name, value in record.items()}
                    | given
                    | {"operation": OPERATION, "key": key},
                )
                assert stored is not None  # one row, always
                if stored["fingerprint"] is not None:
                    if stored["fingerprint"] != request_fingerprint:
                        raise key_reused()
                    return replay(stored)
                if stored["inserted"] is not None:
                    return StoredResponse(201, body, {}, replayed=False)
                if pseudonym is not None:
                    raise _NotStored  # answered before, or a receipt collision
                # otherwise the receipt code collided (1 in 2^40): draw another one
            raise RuntimeError("could not allocate a receipt code")  # pragma: no cover
    except _NotStored:
        return None


async def issue_codes(
    session: AsyncSession, settings: Settings, measure_id: UUID, data: s.CodesRequest
) -> list[s.IssuedCode]:
    measure = await visible_measure(session, measure_id, common.STAFF_VIEWER)
    await common.process(session, measure.process_id, common.STAFF_VIEWER, writable=True)
    consultation = await latest_consultation(session, measure_id)
    if consultation is None or consultation.closes_at <= common.utcnow():
        raise Conflict("The measure has no consultation that is open or to come.")
    organisations = await common.organisations_by_id(session, data.organisation_ids)
    for index, organisation_id in enumerate(data.organisation_ids):
        if organisation_id not in organisations:
            raise _invalid(f"organisation_ids[{index}]", "unknown organisation")
    issued = []
    for organisation_id in dict.fromkeys(data.organisation_ids):
        code = codes.new_invitation_code()
        session.add(
            ConsultationCode(
                consultation_id=consultation.id,
                organisation_id=organisation_id,
                code_hash=codes.invitation_hash(settings.secret_key, consultation.id, code),
            )
        )
        issued.append(
            s.IssuedCode(organisation=organisations[organisation_id], code=codes.format_code(code))
        )
    await session.flush()
    return issued


# -- moderating comments ------------------------------------------------------------------------
# Like idea comments: a moderator hides a comment with a reason, or restores it. A hidden
# comment leaves the summary, the organisations' statements and the report; the last step's
# who, when and why stay on the comment.


def _moderated(
    comment: FeedbackComment, version: int, kind: str, organisation: str | None
) -> s.ModeratedComment:
    return s.ModeratedComment(
        id=comment.id,
        version=version,
        section=comment.section,
        body=comment.body,
        kind=RespondentKind(kind),
        organisation=organisation,
        moderation=ModerationStatus(comment.moderation),
        hidden_reason=comment.hidden_reason,
        moderated_by=comment.moderated_by,
        moderated_at=comment.moderated_at,
        created_at=comment.created_at,
    )


def _comments_query() -> Any:
    return (
        sa.select(FeedbackComment, Consultation.version, Feedback.kind, pm.Organisation.name)
        .join(Feedback, Feedback.id == FeedbackComment.feedback_id)
        .join(Consultation, Consultation.id == FeedbackComment.consultation_id)
        .outerjoin(pm.Organisation, pm.Organisation.id == Feedback.organisation_id)
    )


async def list_comments(
    session: AsyncSession,
    measure_id: UUID,
    version: int | None = None,
    moderation: ModerationStatus | None = None,
) -> list[s.ModeratedComment]:
    """Every comment on the measure (on one version's consultation if given; in one moderation
    state if given), pending and hidden ones too, by version, section (general comments last)
    and time."""
    await visible_measure(session, measure_id, common.STAFF_VIEWER)
    statement = _comments_query().where(Consultation.measure_id == measure_id)
    if version is not None:
        statement = statement.where(Consultation.version == version)
    if moderation is not None:
        statement = statement.where(FeedbackComment.moderation == moderation.value)
    rows = await session.execute(
        statement.order_by(
            Consultation.version, FeedbackComment.section.nulls_last(), FeedbackComment.id
        )
    )
    return [_moderated(comment, v, kind, name) for comment, v, kind, name in rows]


async def moderate_comment(
    session: AsyncSession,
    measure_id: UUID,
    comment_id: UUID,
    data: s.CommentModeration,
    actor_name: str,
) -> s.ModeratedComment:
    """Publish a pending comment or restore a hidden one (`visible`), or hide one (a reason is
    required). Nothing is set back to pending."""
    if data.moderation is ModerationStatus.PENDING:
        raise _invalid("moderation", "a comment is published (visible) or hidden")
    await visible_measure(session, measure_id, common.STAFF_VIEWER)
    row = (
        await session.execute(
            _comments_query()
            .where(FeedbackComment.id == comment_id, Consultation.measure_id == measure_id)
            .with_for_update(of=FeedbackComment)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"No comment {comment_id} on measure {measure_id}.")
    comment, version, kind, name = row
    hide = data.moderation is ModerationStatus.HIDDEN
    reason = (data.reason or "").strip()
    if hide and not reason:
        raise _invalid("reason", "a hidden comment needs the reason")
    comment.moderation = data.moderation.value
    comment.hidden_reason = reason if hide else (reason or None)
    comment.moderated_by = actor_name[:200]
    comment.moderated_at = common.utcnow()
    await session.flush()
    return _moderated(comment, version, kind, name)


async def pending_comments(
    session: AsyncSession, process_ids: list[UUID] | None = None
) -> list[tuple[UUID, UUID, str, int]]:
    """The measures with comments waiting for a moderator (of these processes if given):
    (measure id, process id, current title, comments waiting), oldest waiting first."""
    pending = (
        sa.select(
            Consultation.measure_id,
            sa.func.count().label("waiting"),
            sa.func.min(FeedbackComment.created_at).label("oldest"),
        )
        .join(Consultation, Consultation.id == FeedbackComment.consultation_id)
        .where(FeedbackComment.moderation == ModerationStatus.PENDING.value)
        .group_by(Consultation.measure_id)
        .subquery()
    )
    statement = (
        sa.select(Measure.id, Measure.process_id, MeasureVersion.title, pending.c.waiting)
        .join(pending, pending.c.measure_id == Measure.id)
        .join(
            MeasureVersion,
            sa.and_(
                MeasureVersion.measure_id == Measure.id,
                MeasureVersion.version == Measure.current_version,
            ),
        )
        .order_by(pending.c.oldest)
    )
    if process_ids is not None:
        statement = statement.where(Measure.process_id.in_(process_ids))
    return [(row[0], row[1], row[2], int(row[3])) for row in await session.execute(statement)]


# -- the summary --------------------------------------------------------------------------------

# t quantiles (0.975) for 1 … 29 degrees of freedom; from 30 on the normal quantile.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045,
)  # fmt: skip
_Z975 = 1.959963984540054

Node = tuple[str, ...]  # (), (kind,), (kind, area_code)
ROOT: Node = ()
NO_AREA = "-"
PROTECTED: Literal["protected"] = "protected"


def mean_interval(distribution: dict[int, int]) -> tuple[float, float, float] | None:
    """Mean of ratings and its 95% interval (None without ratings)."""
    n = sum(distribution.values())
    if n == 0:
        return None
    mean = sum(v * c for v, c in distribution.items()) / n
    if n == 1:
        return mean, 1.0, 5.0
    variance = sum(c * (v - mean) ** 2 for v, c in distribution.items()) / (n - 1)
    quantile = _T975[n - 2] if n - 1 < 30 else _Z975
    half = quantile * math.sqrt(variance / n)
    return mean, max(1.0, mean - half), min(5.0, mean + half)


async def _consultation_for(
    session: AsyncSession, measure_id: UUID, viewer: common.Viewer, version: int | None
) -> tuple[Measure, Consultation]:
    measure = await visible_measure(session, measure_id, viewer)
    statement = sa.select(Consultation).where(Consultation.measure_id == measure_id)
    if version is not None:
        statement = statement.where(Consultation.version == version)
    consultation = await session.scalar(statement.order_by(Consultation.version.desc()).limit(1))
    if consultation is None:
        raise NotFound("No consultation on this measure (version).")
    if not viewer.privileged and not (
        consultation.summary_public and consultation.closes_at <= common.utcnow()
    ):
        raise Forbidden("The summary is public after the consultation closes, if at all.")
    return measure, consultation


def _withheld_figure(criterion: dict[str, str]) -> s.MeanFigure:
    return s.MeanFigure(
        criterion=criterion["key"],
        label=criterion["label"],
        n=None,
        mean=None,
        low=None,
        high=None,
        distribution=[
            s.Count(key=str(v), count=None, suppressed=True, reason=PROTECTED)
            for v in RATING_VALUES
        ],
        suppressed=True,
    )


def _figure(criterion: dict[str, str], cells: dict[int, Cell], release: Release) -> s.MeanFigure:
    """A criterion of a shown group: every figure from the perturbed distribution."""
    distribution = {v: release.count(cells.get(v, EMPTY)) for v in RATING_VALUES}
    answered = EMPTY
    for cell in cells.values():
        answered += cell
    mean, median = Release.distribution_summary({float(v): c for v, c in distribution.items()})
    stats = mean_interval(distribution)
    return s.MeanFigure(
        criterion=criterion["key"],
        label=criterion["label"],
        n=release.count(answered),
        mean=mean,
        median=median,
        low=round(stats[1], 2) if stats else None,
        high=round(stats[2], 2) if stats else None,
        distribution=[s.Count(key=str(v), count=c) for v, c in distribution.items()],
    )


async def summary(
    session: AsyncSession, measure_id: UUID, viewer: common.Viewer, version: int | None = None
) -> s.FeedbackSummary:
    _, consultation = await _consultation_for(session, measure_id, viewer, version)
    cid = consultation.id
    release = Release(consultation.k_threshold, consultation.min_respondents)
    criteria: list[dict[str, str]] = list(consultation.criteria)

    # Cells, in SQL: anonymous responses per kind × area × stance, ratings per kind × area ×
    # criterion × value — each with the sum of the responses' record keys.
    area_code = sa.func.coalesce(SocialArea.code, NO_AREA)
    anonymous = [k_.value for k_ in ANONYMOUS_KINDS]
    stance_rows = await session.execute(
        sa.select(
            Feedback.kind,
            area_code,
            Feedback.stance,
            sa.func.count(),
            sa.func.sum(Feedback.record_key),
        )
        .outerjoin(SocialArea, SocialArea.id == Feedback.area_id)
        .where(Feedback.consultation_id == cid, Feedback.kind.in_(anonymous))
        .group_by(Feedback.kind, area_code, Feedback.stance)
    )
    rating_rows = await session.execute(
        sa.select(
            Feedback.kind,
            area_code,
            FeedbackRating.criterion,
            FeedbackRating.value,
            sa.func.count(),
            sa.func.sum(Feedback.record_key),
        )
        .join(FeedbackRating, FeedbackRating.feedback_id == Feedback.id)
        .outerjoin(SocialArea, SocialArea.id == Feedback.area_id)
        .where(Feedback.consultation_id == cid, Feedback.kind.in_(anonymous))
        .group_by(Feedback.kind, area_code, FeedbackRating.criterion, FeedbackRating.value)
    )
    # The same set of responses is summed the same way wherever it appears (stats.cellkey).
    stances: dict[Node, dict[str, Cell]] = defaultdict(dict)
    respondents: dict[Node, Cell] = defaultdict(lambda: EMPTY)
    codes_seen: set[str] = {NO_AREA}
    for kind, code, stance, count, keys in stance_rows:
        cell = Cell(int(count), int(keys))
        codes_seen.add(code)
        for node in (ROOT, (kind,), (kind, code)):
            stances[node][stance] = stances[node].get(stance, EMPTY) + cell
            respondents[node] += cell
    ratings: dict[Node, dict[str, dict[int, Cell]]] = defaultdict(lambda: defaultdict(dict))
    for kind, code, criterion, value, count, keys in rating_rows:
        cell = Cell(int(count), int(keys))
        for node in (ROOT, (kind,), (kind, code)):
            ratings[node][criterion][value] = ratings[node][criterion].get(value, EMPTY) + cell

    # Every group is listed, with responses or without: the measure's areas and every area a
    # response named, for each kind.
    version_row = await session.scalar(
        sa.select(MeasureVersion).where(
            MeasureVersion.measure_id == consultation.measure_id,
            MeasureVersion.version == consultation.version,
        )
    )
    named = await common.areas_by_id(session, version_row.area_ids if version_row else [])
    codes_seen.update(area.code for area in named.values())
    nodes: list[Node] = [ROOT]
    for kind in ANONYMOUS_KINDS:
        nodes.append((kind.value,))
        nodes.extend((kind.value, code) for code in sorted(codes_seen))

    def group(node: Node) -> s.GroupSummary:
        kind = node[0] if node else None
        code = node[1] if len(node) > 1 else None
        shown = release.respondents(respondents.get(node, EMPTY))
        base: dict[str, Any] = {
            "key": "/".join(node) or "all",
            "label": "/".join(node) or "all",
            "kind": kind,
            "area_code": None if code in (None, NO_AREA) else code,
        }
        if shown is None:
            return s.GroupSummary(
                **base,
                respondents=None,
                withheld=True,
                reason=PROTECTED,
                stances=[
                    s.Count(key=stance.value, count=None, suppressed=True, reason=PROTECTED)
                    for stance in STANCES
                ],
                criteria=[_withheld_figure(criterion) for criterion in criteria],
            )
        return s.GroupSummary(
            **base,
            respondents=shown,
            stances=[
                s.Count(
                    key=stance.value,
                    count=release.count(stances[node].get(stance.value, EMPTY)),
                )
                for stance in STANCES
            ],
            criteria=[
                _figure(criterion, ratings[node][criterion["key"]], release)
                for criterion in criteria
            ],
        )

    groups = [group(node) for node in nodes]
    organisations = await _organisation_statements(session, cid)
    by_kind: list[s.Count] = []
    for kind in ANONYMOUS_KINDS:
        shown_n = release.respondents(respondents.get((kind.value,), EMPTY))
        by_kind.append(
            s.Count(
                key=kind.value,
                count=shown_n,
                suppressed=shown_n is None,
                reason=None if shown_n is not None else PROTECTED,
            )
        )
    by_kind.append(s.Count(key=RespondentKind.ORGANISATION.value, count=len(organisations)))
    comment_rows = await session.execute(
        sa.select(
            FeedbackComment.section, FeedbackComment.body, Feedback.kind, pm.Organisation.name
        )
        .join(Feedback, Feedback.id == FeedbackComment.feedback_id)
        .outerjoin(pm.Organisation, pm.Organisation.id == Feedback.organisation_id)
        .where(
            FeedbackComment.consultation_id == cid,
            FeedbackComment.moderation == ModerationStatus.VISIBLE.value,
        )
        .order_by(FeedbackComment.section.nulls_last(), FeedbackComment.id)
    )
    comments = [
        s.CommentView(section=section, body=body, kind=RespondentKind(kind), organisation=name)
        for section, body, kind, name in comment_rows
    ]
    suppressed_cells = sum(1 for g in groups for c in g.stances if c.suppressed) + sum(
        1 for g in groups for f in g.criteria if f.suppressed
    )
    return s.FeedbackSummary(
        metadata=s.SummaryMetadata(
            measure_id=consultation.measure_id,
            version=consultation.version,
            consultation_id=cid,
            opens_at=consultation.opens_at,
            closes_at=consultation.closes_at,
            k_threshold=release.k,
            min_respondents=release.min_respondents,
            interval_method=INTERVAL_METHOD.format(),
            disclosure_method=DISCLOSURE_METHOD.format(
                alpha=release.ptable.alpha,
                noise=release.ptable.max_noise,
                k=release.k,
                minimum=release.min_respondents,
            ),
            generated_at=common.utcnow(),
            suppressed_cells=suppressed_cells,
            withheld_groups=sum(1 for g in groups if g.withheld),
        ),
        responses_by_kind=by_kind,
        groups=groups,
        organisations=organisations,
        comments=comments,
    )


async def _organisation_statements(
    session: AsyncSession, consultation_id: UUID
) -> list[s.OrganisationStatement]:
    rows = (
        await session.execute(
            sa.select(Feedback, pm.Organisation.name)
            .join(pm.Organisation, pm.Organisation.id == Feedback.organisation_id)
            .where(
                Feedback.consultation_id == consultation_id,
                Feedback.kind == RespondentKind.ORGANISATION.value,
            )
            .order_by(pm.Organisation.name)
        )
    ).all()
    ids = [row.Feedback.id for row in rows]
    ratings: dict[UUID, dict[str, int]] = defaultdict(dict)
    general: dict[UUID, str] = {}
    if ids:
        for rating in await session.scalars(
            sa.select(FeedbackRating).where(FeedbackRating.feedback_id.in_(ids))
        ):
            ratings[rating.feedback_id][rating.criterion] = rating.value
        for comment in await session.scalars(
            sa.select(FeedbackComment).where(
                FeedbackComment.feedback_id.in_(ids),
                FeedbackComment.section.is_(None),
                FeedbackComment.moderation == ModerationStatus.VISIBLE.value,
            )
        ):
            general[comment.feedback_id] = comment.body
    return [
        s.OrganisationStatement(
            organisation=s.OrganisationRef(id=row.Feedback.organisation_id, name=row.name),
            stance=Stance(row.Feedback.stance),
            ratings=ratings[row.Feedback.id],
            general_comment=general.get(row.Feedback.id, ""),
            submitted_at=row.Feedback.created_at,
        )
        for row in rows
    ]


# -- traceability -------------------------------------------------------------------------------


async def traceability(
    session: AsyncSession, process_id: UUID, viewer: common.Viewer
) -> s.Traceability:
    """need (category × area) → the survey figures the goals rest on and the ideas residents
    gave on it (with the measures each led to) → goals → measures."""
    await common.process(session, process_id, viewer)
    goal_rows = (
        await session.execute(
            sa.select(Goal.id, GoalVersion)
            .join(
                GoalVersion,
                sa.and_(
                    GoalVersion.goal_id == Goal.id, GoalVersion.version == Goal.current_version
                ),
            )
            .where(Goal.process_id == process_id)
            .order_by(Goal.id)
        )
    ).all()
    measure_rows = (
        await session.execute(
            sa.select(
                Measure.id,
                Measure.status,
                MeasureVersion.title,
                MeasureVersion.goal_ids,
                MeasureVersion.idea_ids,
                MeasureVersion.translations,
            )
            .join(
                MeasureVersion,
                sa.and_(
                    MeasureVersion.measure_id == Measure.id,
                    MeasureVersion.version == Measure.current_version,
                ),
            )
            .where(Measure.process_id == process_id)
            .order_by(Measure.id)
        )
    ).all()
    measures_of: dict[UUID, list[s.TraceMeasure]] = defaultdict(list)
    led_to: dict[UUID, list[UUID]] = defaultdict(list)  # idea → measures
    for measure_id, status, title, goal_ids, idea_ids, translations in measure_rows:
        if status == MeasureStatus.DRAFT.value and not viewer.privileged:
            continue
        for idea_id in idea_ids:
            led_to[idea_id].append(measure_id)
        for goal_id in goal_ids:
            measures_of[goal_id].append(
                s.TraceMeasure(
                    id=measure_id,
                    title=title,
                    status=MeasureStatus(status),
                    translations=shared_translations.as_struct(translations, s.MeasureTranslations),
                )
            )
    versions = [row.GoalVersion for row in goal_rows]
    categories = await common.categories_by_id(
        session, {c for v in versions for c in v.need_category_ids}
    )
    areas = await common.areas_by_id(session, {a for v in versions for a in v.area_ids})
    needs: dict[tuple[UUID, UUID | None], list[s.TraceGoal]] = defaultdict(list)
    for version in versions:
        figures = [
            msgspec.convert(e["figure"], s.FigureSnapshot)
            for e in version.evidence
            if e.get("kind") == "survey_figure" and e.get("figure")
        ]
        trace = s.TraceGoal(
            id=version.goal_id,
            statement=version.statement,
            figures=figures,
            measures=measures_of.get(version.goal_id, []),
            translations=shared_translations.as_struct(version.translations, s.GoalTranslations),
        )
        for category_id in version.need_category_ids:
            for area_id in version.area_ids or [None]:
                needs[(category_id, area_id)].append(trace)
    # The ideas residents gave on the needs the goals address (published ones only).
    ideas_on: dict[tuple[UUID, UUID | None], list[s.TraceIdea]] = defaultdict(list)
    category_ids = {category_id for category_id, _ in needs}
    if category_ids:
        idea_rows = await session.execute(
            sa.select(
                Idea.id,
                Idea.title,
                Idea.official_status,
                Idea.support_count,
                Idea.need_category_id,
                Idea.area_id,
            )
            .where(
                Idea.process_id == process_id,
                Idea.state == IdeaState.PUBLISHED.value,
                Idea.need_category_id.in_(category_ids),
            )
            .order_by(Idea.support_count.desc(), Idea.id)
        )
        for row in idea_rows:
            idea = s.TraceIdea(
                id=row.id,
                title=row.title,
                official_status=row.official_status,
                support_count=row.support_count,
                measure_ids=led_to.get(row.id, []),
            )
            for key in ((row.need_category_id, row.area_id), (row.need_category_id, None)):
                if key in needs:
                    ideas_on[key].append(idea)
    return s.Traceability(
        process_id=process_id,
        needs=[
            s.TraceNeed(
                need_category=categories[category_id],
                area=areas.get(area_id) if area_id else None,
                goals=goals,
                ideas=ideas_on.get((category_id, area_id), []),
            )
            for (category_id, area_id), goals in needs.items()
            if category_id in categories
        ],
    )
