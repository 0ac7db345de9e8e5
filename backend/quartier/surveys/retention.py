"""Retention by purpose (issue #8 §4): what is kept about respondents only as long as its
purpose needs it, and the purge that removes it.

* free-text answers (text questions, "other" texts) — read while planning: kept until 180
  days after the survey closed;
* pseudonyms (open surveys) — refuse a second response while the survey is open: kept until
  the survey closed;
* supporters' pseudonyms (ideas) — refuse a second support and let a resident withdraw theirs
  while supporting is possible: once ideas are no longer open in the process (its active phase
  does not open them, or it is archived), for the same period after that end, each is replaced
  by a random 16-byte value, the same for all supports of one pseudonym in the process. Neither
  deleted nor nulled: the rows are the published support counts (`ideas.support_count`, which a
  merge recounts) and the distinct supporters per area of the ideas aggregates, which count
  pseudonyms; the replacement keeps every figure while nothing leads back to a browser's token
  any longer. A live pseudonym is 32 bytes (HMAC-SHA256), so a replaced one is never matched
  and never replaced again;
* feedback pseudonyms (measures) — refuse a second response while the consultation is open:
  nulled the same period after the consultation's window closed (organisations have none);
* invitation code hashes — one response per letter while the survey is open: kept until 30
  days after the survey closed;
* idempotency records — replay a retried submission: 24 hours (core.idempotency; also
  purged when older than the period now configured);
* e-mail addresses for notifications (an idea's author, with consent) — tell the author of
  status changes: deleted when the idea is closed or on request (ideas.services), and here at
  the latest 365 days after the idea last changed (submission, edit, moderation, status,
  answer), with the address's language. (Addresses in mail jobs: jobs.purge.)

The counts (options, needs, areas, age strata) are kept: they are what the results are made
of, and every figure from them is disclosure-controlled (stats.cellkey).

`purge` runs every rule in one transaction and is idempotent. The worker runs it daily as the
periodic job `surveys.retention`; `quartier purge` runs it by hand. The periods are settings
(`QUARTIER_RETENTION_*`, defaults as above).
"""

from __future__ import annotations

import datetime
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import click
from sqlalchemy import ARRAY, LargeBinary, String, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import idempotency
from quartier.ideas.models import Idea, idea_supports
from quartier.jobs.queue import JobContext, job, periodic
from quartier.measures.models import Consultation, Feedback
from quartier.processes import participation
from quartier.processes.models import PlanningProcess, ProcessPhase
from quartier.settings import Settings
from quartier.surveys import definition as d
from quartier.surveys import schemas as s
from quartier.surveys.models import InvitationCode, Survey, SurveyResponse, SurveyStatus
from quartier.surveys.responses import OTHER_TEXTS_KEY


@dataclass(frozen=True, slots=True)
class Policy:
    free_text: datetime.timedelta = datetime.timedelta(days=180)
    pseudonyms: datetime.timedelta = datetime.timedelta(0)
    invitation_codes: datetime.timedelta = datetime.timedelta(days=30)
    notify_emails: datetime.timedelta = datetime.timedelta(days=365)
    idempotency: datetime.timedelta = datetime.timedelta(hours=24)

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        """The periods a deployment set (`QUARTIER_RETENTION_*`, README "Configuration")."""
        return cls(
            free_text=datetime.timedelta(days=settings.retention_free_text_days),
            pseudonyms=datetime.timedelta(days=settings.retention_pseudonym_days),
            invitation_codes=datetime.timedelta(days=settings.retention_invitation_code_days),
            notify_emails=datetime.timedelta(days=settings.retention_notify_email_days),
            idempotency=settings.idempotency_retention,
        )


@dataclass(slots=True)
class Purged:
    free_text_responses: int = 0
    pseudonyms: int = 0
    support_pseudonyms: int = 0
    feedback_pseudonyms: int = 0
    invitation_codes: int = 0
    idempotency_records: int = 0
    notify_emails: int = 0
    surveys: list[str] = field(default_factory=list)


def _text_keys(survey: Survey) -> list[str]:
    keys = [
        q.key
        for q in d.questions(d.definition_of(survey))
        if isinstance(q, s.ShortTextQuestion | s.LongTextQuestion)
    ]
    return [*keys, OTHER_TEXTS_KEY]


async def purge(
    session: AsyncSession, policy: Policy | None = None, *, now: datetime.datetime | None = None
) -> Purged:
    """Remove what has outlived its purpose; the caller commits."""
    policy = policy or Policy()
    now = now or datetime.datetime.now(datetime.UTC)
    result = Purged()
    closed = (
        await session.scalars(
            select(Survey).where(
                Survey.status == SurveyStatus.CLOSED.value, Survey.closed_at.is_not(None)
            )
        )
    ).all()
    for survey in closed:
        assert survey.closed_at is not None
        age = now - survey.closed_at
        if age >= policy.free_text:
            keys = _text_keys(survey)
            found = await session.execute(
                update(SurveyResponse)
                .where(
                    SurveyResponse.survey_id == survey.id,
                    SurveyResponse.answers.has_any(bindparam("keys", type_=ARRAY(String))),
                )
                .values(answers=SurveyResponse.answers - bindparam("keys", type_=ARRAY(String)))
                .execution_options(synchronize_session=False),
                {"keys": keys},
            )
            result.free_text_responses += int(getattr(found, "rowcount", 0) or 0)
        if age >= policy.pseudonyms:
            found = await session.execute(
                update(SurveyResponse)
                .where(SurveyResponse.survey_id == survey.id, SurveyResponse.pseudonym.is_not(None))
                .values(pseudonym=None)
                .execution_options(synchronize_session=False)
            )
            result.pseudonyms += int(getattr(found, "rowcount", 0) or 0)
        if age >= policy.invitation_codes:
            found = await session.execute(
                delete(InvitationCode)
                .where(InvitationCode.survey_id == survey.id)
                .execution_options(synchronize_session=False)
            )
            result.invitation_codes += int(getattr(found, "rowcount", 0) or 0)
    result.support_pseudonyms = await _purge_support_pseudonyms(session, policy, now)
    result.feedback_pseudonyms = await _purge_feedback_pseudonyms(session, policy, now)
    result.idempotency_records = await idempotency.purge_expired(
        session, policy.idempotency, now=now
    )
    last_change = func.greatest(
        Idea.created_at, Idea.updated_at, func.coalesce(Idea.answered_at, Idea.created_at)
    )
    found = await session.execute(
        update(Idea)
        .where(Idea.notify_email.is_not(None), last_change <= now - policy.notify_emails)
        .values(notify_email=None, notify_language=None)
        .execution_options(synchronize_session=False)
    )
    result.notify_emails = int(getattr(found, "rowcount", 0) or 0)
    return result


LIVE_PSEUDONYM_BYTES = 32  # HMAC-SHA256 of a respondent token (participation.pseudonyms)
PURGED_PSEUDONYM_BYTES = 16
_LIVE_SUPPORT = func.octet_length(idea_supports.c.pseudonym) == LIVE_PSEUDONYM_BYTES


async def ideas_closed_since(session: AsyncSession, process_id: UUID) -> datetime.datetime | None:
    """Since when residents can no longer support ideas of the process: None while ideas are
    open there. The latest of the active phase's activation and the process's last change
    (archiving, a participation override: processes.services touches it), so never earlier
    than the real end."""
    state = await participation.load(session, process_id)
    if state is None or state.is_open_now(participation.IDEAS):
        return None
    row = (
        await session.execute(
            select(PlanningProcess.updated_at, ProcessPhase.activated_at)
            .join(
                ProcessPhase,
                (ProcessPhase.process_id == PlanningProcess.id) & ProcessPhase.is_active,
            )
            .where(PlanningProcess.id == process_id)
        )
    ).one()
    moments: list[datetime.datetime] = [when for when in row if when is not None]
    return max(moments)


async def _purge_support_pseudonyms(
    session: AsyncSession, policy: Policy, now: datetime.datetime
) -> int:
    """Replace the live supporters' pseudonyms of every process whose ideas closed at least
    `policy.pseudonyms` ago (see the module's docstring)."""
    processes = (
        await session.scalars(
            select(Idea.process_id)
            .join(idea_supports, idea_supports.c.idea_id == Idea.id)
            .where(_LIVE_SUPPORT)
            .distinct()
        )
    ).all()
    replaced = 0
    for process_id in processes:
        closed = await ideas_closed_since(session, process_id)
        if closed is None or now - closed < policy.pseudonyms:
            continue
        # Keyed with a key that is never stored: one resident's supports in the process keep
        # one (new) value, and nothing maps the new values back to the old ones.
        key = bindparam("key", secrets.token_bytes(32), type_=LargeBinary)
        found = await session.execute(
            update(idea_supports)
            .where(
                _LIVE_SUPPORT,
                idea_supports.c.idea_id.in_(select(Idea.id).where(Idea.process_id == process_id)),
            )
            .values(
                pseudonym=func.substring(
                    func.sha256(key.op("||")(idea_supports.c.pseudonym)),
                    1,
                    PURGED_PSEUDONYM_BYTES,
                )
            )
            .execution_options(synchronize_session=False)
        )
        replaced += int(getattr(found, "rowcount", 0) or 0)
    return replaced


async def _purge_feedback_pseudonyms(
    session: AsyncSession, policy: Policy, now: datetime.datetime
) -> int:
    """Null the pseudonyms of feedback on consultations closed at least `policy.pseudonyms`
    ago (the window cannot be reopened: a consultation only ever closes earlier)."""
    found = await session.execute(
        update(Feedback)
        .where(
            Feedback.pseudonym.is_not(None),
            Feedback.consultation_id.in_(
                select(Consultation.id).where(Consultation.closes_at <= now - policy.pseudonyms)
            ),
        )
        .values(pseudonym=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(found, "rowcount", 0) or 0)


logger = logging.getLogger(__name__)

RETENTION_KIND = "surveys.retention"


@job(RETENTION_KIND, timeout_seconds=600)
async def purge_job(context: JobContext, payload: dict[str, Any]) -> None:
    """The daily purge on the job queue, in the job's own transaction."""
    found = await purge(context.session, Policy.of(context.settings))
    logger.info(
        "retention purge: %s free-text answers, %s pseudonyms, %s supporters' pseudonyms, "
        "%s feedback pseudonyms, %s invitation codes, %s idempotency records, "
        "%s notification addresses",
        found.free_text_responses,
        found.pseudonyms,
        found.support_pseudonyms,
        found.feedback_pseudonyms,
        found.invitation_codes,
        found.idempotency_records,
        found.notify_emails,
    )


periodic(RETENTION_KIND, datetime.timedelta(hours=24))


@click.command("purge")
def purge_command() -> None:
    """Remove respondent data that has outlived its purpose (docs/PRIVACY.md, retention)."""
    from quartier.runtime import database, run_in_session
    from quartier.settings import load_settings

    settings = load_settings()
    with database(settings) as url:
        found = run_in_session(url, lambda session: purge(session, Policy.of(settings)))
    click.echo(
        f"free-text answers removed from {found.free_text_responses} responses, "
        f"{found.pseudonyms} pseudonyms, {found.support_pseudonyms} supporters' pseudonyms, "
        f"{found.feedback_pseudonyms} feedback pseudonyms, "
        f"{found.invitation_codes} invitation codes, "
        f"{found.idempotency_records} idempotency records, "
        f"{found.notify_emails} notification addresses"
    )


COMMANDS = [purge_command]
