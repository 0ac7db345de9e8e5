"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

Headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`: a
space-separated list of `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret that
is valid now (during a rotation: the new and the old one). Secrets are `whsec_` + base64 of
24 random bytes; the HMAC key is the decoded bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets_),
    }


def verify(
    secret: str,
    headers_: dict[str, str],
    body: bytes,
    *,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does (used by the tests and documented for integrators)."""
    message_id = headers_.get("webhook-id", "")
    try:
        timestamp = int(headers_.get("webhook-timestamp", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, message_id, timestamp, body)
    return any(
        hmac.compare_digest(expected, given)
        for given in headers_.get("webhook-signature", "").split(" ")
    )
