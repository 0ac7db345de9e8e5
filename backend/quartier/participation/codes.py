"""Codes shown to residents: receipt codes (proof that something arrived) and private follow
links (a secret that lets the author of a contribution see, edit or withdraw it).

Receipt codes are short and typed by hand: Crockford base 32, read aloud in two groups.
Follow tokens are long random secrets in a URL; only their keyed hash is stored, so a database
copy does not give anyone the links.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})
RECEIPT_LENGTH = 8  # 40 bits
FOLLOW_TOKEN_BYTES = 32  # 256 bits
FOLLOW_TOKEN_MAX = 64  # characters in the URL; longer input is not a token of ours


def crockford(length: int) -> str:
    """A random code of `length` Crockford base-32 characters (5 bits each)."""
    bits = secrets.randbits(5 * length)
    return "".join(CROCKFORD[(bits >> (5 * i)) & 31] for i in range(length))


def normalise_code(code: str) -> str:
    """A code as typed (any case, hyphens, spaces, I/L/O for 1/0) in its canonical form."""
    return "".join(code.split()).replace("-", "").upper().translate(_CONFUSABLE)


def is_canonical(code: str, length: int) -> bool:
    return len(code) == length and all(c in CROCKFORD for c in code)


def format_code(code: str) -> str:
    """Codes are shown in groups for reading aloud and typing: `7KQ2-MX9P`."""
    half = (len(code) + 1) // 2
    return f"{code[:half]}-{code[half:]}"


def new_receipt_code() -> str:
    return crockford(RECEIPT_LENGTH)


def new_follow_token() -> str:
    """A private follow link's secret (URL-safe, 43 characters)."""
    return secrets.token_urlsafe(FOLLOW_TOKEN_BYTES)


def follow_token_hash(secret_key: str, module: str, token: str) -> bytes:
    """What is stored of a follow token: HMAC-SHA256 keyed with SECRET_KEY, separated per
    module so that a token of one module never opens anything in another."""
    key = secret_key.encode() + b"\x00follow\x00" + module.encode()
    return hmac.new(key, token.encode(), hashlib.sha256).digest()


def plausible_follow_token(token: str) -> bool:
    """Cheap check before hashing: URL-safe base64 of the expected length range."""
    return 16 <= len(token) <= FOLLOW_TOKEN_MAX and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in token
    )
