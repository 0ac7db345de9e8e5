"""Mail: sent as a job through a real SMTP server (aiosmtpd) started by the tests; without SMTP
settings into the local outbox; signed unsubscribe links."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.jobs import mail
from quartier.jobs.mail import (
    send_mail,
    unsubscribe_token,
    unsubscribe_url,
    verify_unsubscribe_token,
)
from quartier.jobs.worker import Worker
from quartier.settings import Settings

from .conftest import jobs, make_due

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-key-0123456789-abcdefghijklmnop"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_port() -> int:
    return _free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    handler = Inbox()
    server = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        yield handler
    finally:
        server.stop()


def _smtp_settings(settings: Settings, port: int) -> Settings:
    return replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="Quartier Test <quartier@example.org>",
    )


async def _send(session: AsyncSession, **overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "to": "resident@example.org",
        "subject": "Ihre Idee wurde beantwortet",
        "body": "Die Planung hat Ihre Idee angenommen.\nÜberall Umlaute: äöü ß.",
        "unsubscribe_url": "https://quartier.example.org/ideas/unsubscribe?token=abc",
        "dedupe_key": "idea-status:1:2",
    }
    async with session.begin():
        await send_mail(session, **(arguments | overrides))


async def test_a_mail_is_sent_through_smtp_by_the_worker(
    engine: AsyncEngine, session: AsyncSession, settings: Settings, inbox: Inbox, smtp_port: int
) -> None:
    await _send(session)
    await _send(session)  # the same dedupe key: sent once
    worker = Worker(engine, _smtp_settings(settings, smtp_port))
    assert await worker.drain() == 1
    assert inbox.recipients == [["resident@example.org"]]
    (message,) = inbox.messages
    assert message["Subject"] == "Ihre Idee wurde beantwortet"
    assert message["From"] == "Quartier Test <quartier@example.org>"
    assert (
        message["List-Unsubscribe"] == "<https://quartier.example.org/ideas/unsubscribe?token=abc>"
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Umlaute: äöü ß" in message.get_content()
    (sent,) = await jobs(engine, mail.MAIL_KIND)
    assert sent["status"] == "done"
    assert sent["payload"] == {}  # the address is not kept once the mail is sent


async def test_an_unreachable_smtp_server_delays_the_mail_until_it_is_back(
    engine: AsyncEngine, session: AsyncSession, settings: Settings, smtp_port: int
) -> None:
    await _send(session)
    worker = Worker(engine, _smtp_settings(settings, smtp_port))
    await worker.run_once()
    (waiting,) = await jobs(engine, mail.MAIL_KIND)
    assert waiting["status"] == "queued" and "ConnectionRefused" in waiting["last_error"]
    assert waiting["payload"]["to"] == "resident@example.org"
    handler = Inbox()
    server = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        await make_due(engine)
        await worker.run_once()
    finally:
        server.stop()
    assert len(handler.messages) == 1
    assert (await jobs(engine, mail.MAIL_KIND))[0]["status"] == "done"


async def test_without_smtp_settings_mails_go_to_the_outbox(
    engine: AsyncEngine, session: AsyncSession, settings: Settings
) -> None:
    assert settings.smtp_host is None
    await _send(session)
    await Worker(engine, settings).drain()
    (stored,) = settings.outbox_dir.glob("*.eml")
    message = email.message_from_bytes(stored.read_bytes(), policy=email.policy.default)
    assert message["To"] == "resident@example.org"
    assert message["Subject"] == "Ihre Idee wurde beantwortet"
    assert stored.stat().st_mode & 0o077 == 0


async def test_send_mail_refuses_header_injection(session: AsyncSession) -> None:
    for bad in (
        {"subject": "Hello\r\nBcc: everyone@example.org"},
        {"to": "resident@example.org\nBcc: x@example.org"},
        {"to": "not-an-address"},
        {"subject": ""},
        {"body": "x" * (mail.MAX_BODY_LENGTH + 1)},
    ):
        with pytest.raises(ValueError, match="mail"):
            await _send(session, **bad)


def test_unsubscribe_tokens_are_signed_and_bound_to_their_purpose() -> None:
    token = unsubscribe_token(SECRET, purpose="idea-follow", subject="0193a0c2-follow")
    assert verify_unsubscribe_token(SECRET, token, purpose="idea-follow") == "0193a0c2-follow"
    assert verify_unsubscribe_token(SECRET, token, purpose="measure-follow") is None
    assert (
        verify_unsubscribe_token(
            "another-secret-0123456789-abcdefghijk", token, purpose="idea-follow"
        )
        is None
    )
    _, signature = token.split(".")
    forged = unsubscribe_token(SECRET, purpose="idea-follow", subject="someone-else").split(".")[0]
    assert verify_unsubscribe_token(SECRET, f"{forged}.{signature}", purpose="idea-follow") is None
    for garbage in ("", ".", "a.b.c", "%%%.###", "x" * 2000):
        assert verify_unsubscribe_token(SECRET, garbage, purpose="idea-follow") is None
    url = unsubscribe_url(
        "https://q.example.org/", "/ideas/unsubscribe", SECRET, purpose="idea-follow", subject="f1"
    )
    assert url.startswith("https://q.example.org/ideas/unsubscribe?token=")
    assert "@" not in url


async def test_the_quartier_worker_command_sends_and_stops_cleanly_on_sigterm(
    session: AsyncSession, database_url: str, tmp_path: Path
) -> None:
    await _send(session)
    process = subprocess.Popen(  # noqa: ASYNC220 - the worker runs beside the test
        [sys.executable, "-m", "quartier.cli", "worker", "--concurrency", "2"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "QUARTIER_ENV": "test",
            "QUARTIER_DATA_DIR": str(tmp_path),
            "SECRET_KEY": SECRET,
        },
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not list((tmp_path / "outbox").glob("*.eml")):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
