"""Outgoing mail: a `mail.send` job, the helper other modules call, and signed unsubscribe links.

Sending is always a job (`send_mail` enqueues in the caller's transaction), so a mail is sent
if and only if the change it reports committed, and an unreachable mail server only delays
it. With `QUARTIER_SMTP_HOST` set the job delivers over SMTP; without it, every mail is written
to the local outbox (`<data dir>/outbox/*.eml`, listed for administrators at `/staff/outbox`)
— never silently nowhere.

Privacy: the recipient's address is in the job's payload only until the mail is sent (the
kind is registered with `keep_payload=False`, so the worker erases the payload when done); it
is never logged. Unsubscribe links carry no address, only a signed, purpose-bound subject id.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import email.policy
import email.utils
import hashlib
import hmac
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.jobs.queue import JobContext, RetryPolicy, enqueue, job

MAIL_KIND = "mail.send"
MAX_SUBJECT_LENGTH = 200
MAX_BODY_LENGTH = 100_000
SMTP_TIMEOUT_SECONDS = 30


class Mail(msgspec.Struct, frozen=True, kw_only=True):
    to: str
    subject: str
    body: str
    unsubscribe_url: str | None = None


def _check_header(name: str, value: str, limit: int) -> None:
    if not value or len(value) > limit or any(c in value for c in "\r\n\x00"):
        raise ValueError(f"mail {name} must be 1 to {limit} characters on one line")


async def send_mail(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    body: str,
    unsubscribe_url: str | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Send a plain-text mail once the caller's transaction commits (a job). Use a
    `dedupe_key` naming the event (e.g. `idea-status:<id>:<version>:<follower>`) so that a
    repeated call sends nothing twice."""
    _check_header("recipient", to, 320)
    if "@" not in to:
        raise ValueError("mail recipient must be an e-mail address")
    _check_header("subject", subject, MAX_SUBJECT_LENGTH)
    if len(body) > MAX_BODY_LENGTH or "\x00" in body:
        raise ValueError("mail body too long or contains NUL")
    if unsubscribe_url is not None:
        _check_header("unsubscribe link", unsubscribe_url, 2000)
    mail = Mail(to=to, subject=subject, body=body, unsubscribe_url=unsubscribe_url)
    await enqueue(session, MAIL_KIND, msgspec.to_builtins(mail), dedupe_key=dedupe_key)


def build_message(
    mail: Mail, sender: str, message_id_domain: str = "quartier.local"
) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = email.utils.format_datetime(datetime.datetime.now(datetime.UTC))
    message["Message-ID"] = email.utils.make_msgid(domain=message_id_domain)
    message["Auto-Submitted"] = "auto-generated"
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
    message.set_content(mail.body)
    return message


def _smtp_send(settings: Any, message: EmailMessage) -> None:
    host, port = settings.smtp_host, settings.smtp_port
    if settings.smtp_security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if settings.smtp_security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            client.login(settings.smtp_username, settings.smtp_password or "")
        client.send_message(message)


def write_to_outbox(outbox: Path, message: EmailMessage) -> Path:
    """Store the mail as an .eml file (readable only by the owner: it holds an address)."""
    outbox.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    digest = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:12]
    path = outbox / f"{stamp}-{digest}.eml"
    path.write_bytes(message.as_bytes())
    path.chmod(0o600)
    return path


@job(
    MAIL_KIND,
    retry=RetryPolicy(max_attempts=10, base_seconds=30, cap_seconds=3600),
    timeout_seconds=60,
    keep_payload=False,
)
async def deliver_mail(context: JobContext, payload: dict[str, Any]) -> None:
    settings = context.settings
    mail = msgspec.convert(payload, Mail)
    message = build_message(mail, settings.mail_from)
    if settings.smtp_host:
        await asyncio.to_thread(_smtp_send, settings, message)
    else:
        await asyncio.to_thread(write_to_outbox, settings.outbox_dir, message)


# -- unsubscribe links ---------------------------------------------------------------------------


def _key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(
        secret_key.encode(), f"quartier.unsubscribe:{purpose}".encode(), "sha256"
    ).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsubscribe_token(secret_key: str, *, purpose: str, subject: str) -> str:
    """A token for a link that works without signing in: it names `subject` (e.g. a follow's
    id) for `purpose` (e.g. `idea-follow`) and cannot be forged or reused for another
    purpose. It does not expire: an old mail's link must still work."""
    body = _b64(subject.encode())
    signature = hmac.new(_key(secret_key, purpose), body.encode(), "sha256").digest()[:16]
    return f"{body}.{_b64(signature)}"


def verify_unsubscribe_token(secret_key: str, token: str, *, purpose: str) -> str | None:
    """The subject of a valid token for `purpose`, else None."""
    if len(token) > 1000 or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    try:
        given = _unb64(signature)
        subject = _unb64(body).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(_key(secret_key, purpose), body.encode(), "sha256").digest()[:16]
    return subject if hmac.compare_digest(given, expected) else None


def unsubscribe_url(
    base_url: str, path: str, secret_key: str, *, purpose: str, subject: str
) -> str:
    """`{base_url}{path}?token=…` — the ideas module serves `path`."""
    token = unsubscribe_token(secret_key, purpose=purpose, subject=subject)
    return f"{base_url.rstrip('/')}{path}?token={token}"
