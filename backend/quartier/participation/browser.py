"""The respondent token a browser keeps per participation scope (a survey, a process's ideas):
a random value in a signed, HttpOnly cookie. Only its keyed pseudonym is ever stored
(`pseudonyms`); the signature only stops a page from accepting a token it did not issue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.datastructures import Cookie

from quartier.settings import Settings

COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers accept


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class RespondentCookie:
    """Cookie `quartier_<prefix>_<scope id hex>` holding `token.signature`."""

    prefix: str  # "rs" for surveys, "ri" for ideas
    purpose: bytes  # separates the signatures of different modules

    def name(self, settings: Settings, scope_id: UUID) -> str:
        host = "__Host-" if settings.secure_cookies else ""
        return f"{host}quartier_{self.prefix}_{scope_id.hex}"

    def _signature(self, settings: Settings, scope_id: UUID, token: str) -> str:
        message = self.purpose + b"\x00" + scope_id.bytes + token.encode()
        mac = hmac.new(settings.secret_key.encode(), message, hashlib.sha256).digest()
        return _b64(mac)[:22]

    def token(
        self, request: Request[Any, Any, Any], settings: Settings, scope_id: UUID
    ) -> str | None:
        """The browser's token for this scope, if its cookie is there and genuine."""
        value = request.cookies.get(self.name(settings, scope_id), "")
        token, _sep, signature = value.rpartition(".")
        if not token or not hmac.compare_digest(
            signature, self._signature(settings, scope_id, token)
        ):
            return None
        return token

    def cookie(self, settings: Settings, scope_id: UUID, token: str) -> Cookie:
        return Cookie(
            key=self.name(settings, scope_id),
            value=f"{token}.{self._signature(settings, scope_id, token)}",
            max_age=COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )


def new_respondent_token() -> str:
    return secrets.token_urlsafe(24)
