"""Telling followers when an idea's official status or answer changes.

`answer_idea` calls :func:`status_changed` in the transaction that changes the status: the mail
is a job on the PostgreSQL queue (`jobs.mail.send_mail`), so it exists if and only if the change
commits, and its dedupe key (idea, status, time of the answer) makes a repeated call send
nothing twice. The mail carries a signed unsubscribe link that works without signing in
(`/ideas/{id}/stop-emails?token=…`, purpose-bound, naming only the idea) and deletes the
address. Addresses are never logged; the job erases the address once the mail is sent.

The mail is written in the interface language the author used when they asked for it
(`ideas.notify_language`): its texts from the translation catalogues, the official answer in
that language where staff gave one (`core.translations`), otherwise in German with a sentence
saying so. Without a recorded language, or one the deployment no longer enables, German.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core import i18n
from quartier.core import translations as shared_translations
from quartier.core.i18n import gettext as _
from quartier.ideas import models as m
from quartier.jobs.mail import send_mail, unsubscribe_url
from quartier.processes.phases import N_
from quartier.settings import Settings

UNSUBSCRIBE_PURPOSE = "idea-emails"

# The official statuses as residents read them (the pages and the mails).
OFFICIAL_STATUS_NAMES: dict[str, str] = {
    "under_review": N_("Under review"),
    "accepted": N_("Accepted"),
    "merged": N_("Merged with another idea"),
    "not_pursued": N_("Not pursued"),
    "implemented": N_("Implemented"),
}


def stop_emails_url(settings: Settings, idea: m.Idea) -> str:
    return unsubscribe_url(
        settings.base_url,
        f"/ideas/{idea.id}/stop-emails",
        settings.secret_key,
        purpose=UNSUBSCRIBE_PURPOSE,
        subject=str(idea.id),
    )


def mail_texts(settings: Settings, idea: m.Idea) -> tuple[str, str]:
    """Subject and body of the mail in the current language (`status_changed` sets it)."""
    language = i18n.current_language()
    status = idea.official_status or ""
    status_name = _(OFFICIAL_STATUS_NAMES[status]) if status in OFFICIAL_STATUS_NAMES else status
    answer = shared_translations.show(
        idea.official_answer, idea.translations, "official_answer", language
    )
    link = f"{settings.base_url.rstrip('/')}/ideas/{idea.id}"
    stop = stop_emails_url(settings, idea)
    lines = [
        _("Your idea “%(title)s” has an official answer.", title=idea.title),
        "",
        _("Status: %(status)s", status=status_name),
    ]
    if answer.text:
        lines += ["", answer.text]
        if answer.falls_back:
            lines += [
                "",
                _(
                    "The answer has not been translated into your language yet. It is shown "
                    "in %(language)s.",
                    language=i18n.ENDONYMS[answer.language],
                ),
            ]
    lines += [
        "",
        _("Read the idea and the answer: %(link)s", link=link),
        "",
        _("No more e-mails about this idea: %(link)s", link=stop),
    ]
    subject = _("Quartier: an answer to your idea – %(title)s", title=idea.title)
    return subject[:200], "\n".join(lines) + "\n"


async def status_changed(session: AsyncSession, settings: Settings, idea: m.Idea) -> None:
    """Queue the mail to the author who asked to be notified of `idea`'s official status, in
    the language they used when they asked (German where none was recorded)."""
    if idea.notify_email is None:
        return
    token = i18n.set_language(idea.notify_language or i18n.DEFAULT_LANGUAGE)
    try:
        subject, body = mail_texts(settings, idea)
    finally:
        i18n.reset_language(token)
    answered = idea.answered_at.isoformat() if idea.answered_at else ""
    await send_mail(
        session,
        to=idea.notify_email,
        subject=subject,
        body=body,
        unsubscribe_url=stop_emails_url(settings, idea),
        dedupe_key=f"idea-status:{idea.id}:{idea.official_status}:{answered}",
    )
