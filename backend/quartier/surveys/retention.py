"""Retention by purpose (issue #8 §4): what is kept about respondents only as long as its
purpose needs it, and the purge that removes it.

* free-text answers (text questions, "other" texts) — read while planning: kept until 180
  days after the survey closed;
* pseudonyms (open surveys) — refuse a second response while the survey is open: kept until
  the survey closed;
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
from dataclasses import dataclass, field
from typing import Any

import click
from sqlalchemy import ARRAY, String, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import idempotency
from quartier.ideas.models import Idea
from quartier.jobs.queue import JobContext, job, periodic
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


logger = logging.getLogger(__name__)

RETENTION_KIND = "surveys.retention"


@job(RETENTION_KIND, timeout_seconds=600)
async def purge_job(context: JobContext, payload: dict[str, Any]) -> None:
    """The daily purge on the job queue, in the job's own transaction."""
    found = await purge(context.session, Policy.of(context.settings))
    logger.info(
        "retention purge: %s free-text answers, %s pseudonyms, %s invitation codes, "
        "%s idempotency records, %s notification addresses",
        found.free_text_responses,
        found.pseudonyms,
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
        f"{found.pseudonyms} pseudonyms, {found.invitation_codes} invitation codes, "
        f"{found.idempotency_records} idempotency records, "
        f"{found.notify_emails} notification addresses"
    )


COMMANDS = [purge_command]
