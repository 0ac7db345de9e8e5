"""The local outbox (administrators): the mails written while no SMTP server is configured.

They hold residents' addresses, so only administrators see them; files are named by time
and a digest, and are read only from the outbox directory."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from quartier.core.errors import NotFound
from quartier.core.security import ADMINS, access
from quartier.settings import Settings

MAX_LISTED = 200
_NAME = re.compile(r"^[0-9]{8}T[0-9]{12}Z-[0-9a-f]{12}\.eml$")


def _outbox(request: Request[Any, Any, Any]) -> Path:
    settings: Settings = request.app.state["settings"]
    return settings.outbox_dir


def _read(path: Path) -> email.message.EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


@get("/dashboard/outbox", name="jobs:outbox", include_in_schema=False, **access(roles=ADMINS))
async def outbox_page(request: Request[Any, Any, Any]) -> Template:
    outbox = _outbox(request)
    files = sorted(outbox.glob("*.eml"), reverse=True)[:MAX_LISTED] if outbox.is_dir() else []
    mails = []
    for path in files:
        message = _read(path)
        mails.append(
            {
                "name": path.name,
                "date": message["Date"],
                "to": message["To"],
                "subject": message["Subject"],
            }
        )
    settings: Settings = request.app.state["settings"]
    return Template(
        template_name="jobs/outbox.html",
        context={"mails": mails, "smtp_configured": bool(settings.smtp_host)},
    )


@get("/dashboard/outbox/{name:str}", include_in_schema=False, **access(roles=ADMINS))
async def outbox_mail_page(request: Request[Any, Any, Any], name: str) -> Template:
    path = _outbox(request) / name
    if not _NAME.fullmatch(name) or not path.is_file():
        raise NotFound("There is no mail with this name in the outbox.")
    message = _read(path)
    body = message.get_body(preferencelist=("plain",))
    return Template(
        template_name="jobs/outbox_mail.html",
        context={
            "name": name,
            "headers": [
                (h, message[h])
                for h in ("Date", "From", "To", "Subject", "List-Unsubscribe")
                if message[h]
            ],
            "body": body.get_content() if body is not None else "",
        },
    )


PAGES: list[ControllerRouterHandler] = [outbox_page, outbox_mail_page]
