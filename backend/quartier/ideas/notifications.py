"""Telling followers when an idea's official status or answer changes.

`answer_idea` calls :func:`status_changed` in the transaction that changes the status: the mail
is a job on the PostgreSQL queue (`jobs.mail.send_mail`), so it exists if and only if the change
commits, and its dedupe key (idea, status, time of the answer) makes a repeated call send
nothing twice. The mail carries a signed unsubscribe link that works without signing in
(`/ideas/{id}/stop-emails?token=…`, purpose-bound, naming only the idea) and deletes the
address. Addresses are never logged; the job erases the address once the mail is sent.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quartier.ideas import models as m
from quartier.jobs.mail import send_mail, unsubscribe_url
from quartier.settings import Settings

UNSUBSCRIBE_PURPOSE = "idea-emails"

STATUS_TEXTS = {
    "under_review": "wird geprüft / under review",
    "accepted": "angenommen / accepted",
    "merged": "zusammengeführt / merged",
    "not_pursued": "wird nicht weiterverfolgt / not pursued",
    "implemented": "umgesetzt / implemented",
}


def stop_emails_url(settings: Settings, idea: m.Idea) -> str:
    return unsubscribe_url(
        settings.base_url,
        f"/ideas/{idea.id}/stop-emails",
        settings.secret_key,
        purpose=UNSUBSCRIBE_PURPOSE,
        subject=str(idea.id),
    )


async def status_changed(session: AsyncSession, settings: Settings, idea: m.Idea) -> None:
    """Queue the mail to the author who asked to be notified of `idea`'s official status."""
    if idea.notify_email is None:
        return
    status = STATUS_TEXTS.get(idea.official_status or "", idea.official_status or "")
    link = f"{settings.base_url.rstrip('/')}/ideas/{idea.id}"
    stop = stop_emails_url(settings, idea)
    body = (
        f"Ihre Idee „{idea.title}“ hat eine offizielle Antwort.\n"
        f"Your idea “{idea.title}” has an official answer.\n\n"
        f"Status: {status}\n\n{idea.official_answer or ''}\n\n{link}\n\n"
        f"Keine E-Mails mehr / stop e-mails: {stop}\n"
    )
    answered = idea.answered_at.isoformat() if idea.answered_at else ""
    await send_mail(
        session,
        to=idea.notify_email,
        subject=f"Quartier: Antwort auf Ihre Idee / answer to your idea – {idea.title}"[:200],
        body=body,
        unsubscribe_url=stop,
        dedupe_key=f"idea-status:{idea.id}:{idea.official_status}:{answered}",
    )
