"""The respondent token and its keyed pseudonym (docs/PRIVACY.md).

A resident's browser keeps an opaque random token (a signed cookie on the web pages, the
`Respondent-Token` header for API clients). Modules never store it: they store
HMAC-SHA256(SECRET_KEY ‖ salt, token), where the salt is the module's own per-object salt
(a survey's, a process's ideas salt). The same token gives unrelated pseudonyms for different
salts, so contributions cannot be linked across surveys or processes.
"""

from __future__ import annotations

import hashlib
import hmac

from quartier.core.errors import FieldError, Problem

RESPONDENT_TOKEN_MIN = 16
RESPONDENT_TOKEN_MAX = 256
RESPONDENT_TOKEN_HEADER = "Respondent-Token"  # noqa: S105 - a header name


def pseudonym(secret_key: str, salt: bytes, respondent_token: str) -> bytes:
    """The keyed pseudonym of a respondent token: HMAC-SHA256 keyed with SECRET_KEY ‖ salt. It
    cannot be reversed, and the same token gives unrelated pseudonyms for different salts."""
    key = secret_key.encode() + salt
    return hmac.new(key, respondent_token.encode(), hashlib.sha256).digest()


def valid_respondent_token(token: str) -> bool:
    """16 to 256 characters without NUL, exactly as the contract declares the header (the
    token is only ever hashed, so any other character is harmless)."""
    return RESPONDENT_TOKEN_MIN <= len(token) <= RESPONDENT_TOKEN_MAX and "\x00" not in token


def check_respondent_token(token: str) -> None:
    """400 naming the `Respondent-Token` header unless the token is well-formed."""
    if not valid_respondent_token(token):
        raise Problem(
            status_code=400,
            slug="validation-error",
            title="Invalid input",
            detail=f"The respondent token must be {RESPONDENT_TOKEN_MIN} to {RESPONDENT_TOKEN_MAX} "
            "characters (e.g. a random value the page keeps).",
            errors=[
                FieldError(field=RESPONDENT_TOKEN_HEADER, source="header", message="invalid value")
            ],
        )
