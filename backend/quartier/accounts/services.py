"""Staff accounts, passwords, sessions, API tokens and sign-in throttling.

Passwords are hashed with argon2id (m = 19 MiB, t = 2, p = 1, OWASP's baseline) and rehashed on
sign-in when these parameters change. Sessions and API tokens are 256-bit random secrets of
which only SHA-256 hashes are stored (a fast hash suffices for high-entropy secrets). Failed
sign-ins are counted per account and per client under keyed hashes, never raw addresses.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.accounts.models import ApiToken, LoginFailure, StaffAccount, StaffSession
from quartier.core.errors import Conflict, FieldError, InvalidInput, NotFound, Problem
from quartier.core.security import SCOPES, Principal, Role
from quartier.settings import Settings

PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
TOKEN_PREFIX = "qrt_"  # noqa: S105 - marks Quartier tokens for secret scanners
_TOUCH_INTERVAL = datetime.timedelta(seconds=60)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Verifying against this hash when the account is unknown keeps the timing of a failed sign-in
# independent of whether the e-mail address exists.
_DUMMY_HASH = PASSWORD_HASHER.hash("quartier-dummy-password-for-timing")


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def keyed_hash(settings: Settings, purpose: str, value: str) -> str:
    """A pseudonymous key for `value` (e.g. an e-mail address or client address)."""
    return hmac.new(
        settings.secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256
    ).hexdigest()


class TooManyAttempts(Problem):
    status_code, slug, title = 429, "too-many-requests", "Too many sign-in attempts"


class InvalidCredentials(Problem):
    status_code, slug, title = 401, "invalid-credentials", "E-mail address or password is wrong"


# -- passwords ----------------------------------------------------------------------------------
def check_password_policy(password: str, field: str = "password") -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password must have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
            errors=[
                FieldError(
                    field=field, source="body", message=f"at least {MIN_PASSWORD_LENGTH} characters"
                )
            ],
        )


async def hash_password(password: str) -> str:
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    return await asyncio.to_thread(PASSWORD_HASHER.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return PASSWORD_HASHER.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


# -- accounts -----------------------------------------------------------------------------------
def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(
            "Enter an e-mail address like name@example.org.",
            errors=[FieldError(field="email", source="body", message="not an e-mail address")],
        )
    return email


async def create_account(
    session: AsyncSession, *, email: str, display_name: str, role: Role, password: str
) -> StaffAccount:
    email = normalise_email(email)
    check_password_policy(password)
    if await session.scalar(select(StaffAccount.id).where(StaffAccount.email == email)):
        raise Conflict(f"An account with the e-mail address {email} exists already.")
    account = StaffAccount(
        email=email,
        display_name=display_name.strip(),
        role=role.value,
        password_hash=await hash_password(password),
        is_active=True,
    )
    session.add(account)
    await session.flush()
    return account


async def get_account(session: AsyncSession, account_id: UUID) -> StaffAccount:
    account = await session.get(StaffAccount, account_id)
    if account is None:
        raise NotFound("No staff account with this id.")
    return account


async def update_account(
    session: AsyncSession,
    account: StaffAccount,
    *,
    display_name: str | None = None,
    role: Role | None = None,
    is_active: bool | None = None,
    password: str | None = None,
) -> StaffAccount:
    if display_name is not None:
        account.display_name = display_name.strip()
    if role is not None:
        account.role = role.value
    if password is not None:
        check_password_policy(password)
        account.password_hash = await hash_password(password)
    if is_active is not None:
        account.is_active = is_active
    if password is not None or is_active is False or role is not None:
        # A changed password, role or deactivation ends every open session of the account.
        await session.execute(delete(StaffSession).where(StaffSession.account_id == account.id))
    await session.flush()
    return account


async def list_accounts(session: AsyncSession) -> list[StaffAccount]:
    return list((await session.scalars(select(StaffAccount).order_by(StaffAccount.email))).all())


# -- throttling ---------------------------------------------------------------------------------
async def _failures(session: AsyncSession, key: str, since: datetime.datetime) -> int:
    count = await session.scalar(
        select(func.count()).where(LoginFailure.throttle_key == key, LoginFailure.failed_at > since)
    )
    return int(count or 0)


async def _check_throttle(
    session: AsyncSession, settings: Settings, account_key: str, client_key: str
) -> None:
    window = datetime.timedelta(seconds=settings.login_window_seconds)
    since = now() - window
    if (
        await _failures(session, account_key, since) >= settings.login_attempts_per_account
        or await _failures(session, client_key, since) >= settings.login_attempts_per_client
    ):
        raise TooManyAttempts(
            "Too many failed sign-in attempts. Wait a few minutes and try again.",
            headers={"Retry-After": str(settings.login_window_seconds)},
        )


async def _record_failure(session: AsyncSession, settings: Settings, *keys: str) -> None:
    moment = now()
    for key in keys:
        session.add(LoginFailure(throttle_key=key, failed_at=moment))
    cutoff = moment - datetime.timedelta(seconds=settings.login_window_seconds)
    await session.execute(delete(LoginFailure).where(LoginFailure.failed_at < cutoff))
    await session.flush()


# -- sessions -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignIn:
    account: StaffAccount
    session_token: str
    expires_at: datetime.datetime


async def sign_in(
    session: AsyncSession, settings: Settings, *, email: str, password: str, client: str
) -> SignIn:
    """Check the credentials (throttled) and open a session. A failed attempt is recorded even
    though the request fails: the caller must commit on InvalidCredentials too."""
    email = email.strip().lower()
    account_key = keyed_hash(settings, "login-account", email)
    client_key = keyed_hash(settings, "login-client", client)
    await _check_throttle(session, settings, account_key, client_key)
    account = await session.scalar(select(StaffAccount).where(StaffAccount.email == email))
    valid = await _verify(account.password_hash if account else _DUMMY_HASH, password)
    if account is None or not valid or not account.is_active:
        await _record_failure(session, settings, account_key, client_key)
        raise InvalidCredentials("Check the e-mail address and the password.")
    if PASSWORD_HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = await hash_password(password)
    await session.execute(delete(LoginFailure).where(LoginFailure.throttle_key == account_key))
    account.last_login_at = now()
    token = secrets.token_urlsafe(32)
    expires_at = now() + datetime.timedelta(seconds=settings.session_max_age_seconds)
    session.add(
        StaffSession(
            account_id=account.id,
            token_hash=_sha256(token),
            expires_at=expires_at,
            last_seen_at=now(),
        )
    )
    await session.flush()
    return SignIn(account=account, session_token=token, expires_at=expires_at)


async def sign_out(session: AsyncSession, session_token: str) -> None:
    await session.execute(
        delete(StaffSession).where(StaffSession.token_hash == _sha256(session_token))
    )


async def principal_for_session(session: AsyncSession, token: str) -> Principal | None:
    row = (
        await session.execute(
            select(StaffSession.id, StaffSession.last_seen_at, StaffAccount)
            .join(StaffAccount, StaffAccount.id == StaffSession.account_id)
            .where(
                StaffSession.token_hash == _sha256(token),
                StaffSession.expires_at > now(),
                StaffAccount.is_active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    session_id, last_seen_at, account = row
    if now() - last_seen_at > _TOUCH_INTERVAL:
        await session.execute(
            update(StaffSession).where(StaffSession.id == session_id).values(last_seen_at=now())
        )
    return Principal(
        kind="staff",
        id=account.id,
        name=account.display_name,
        role=Role(account.role),
        session_id=session_id,
    )


# -- API tokens ---------------------------------------------------------------------------------
def check_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        raise InvalidInput(
            f"Unknown or missing scopes: {', '.join(unknown) or '(none given)'}. "
            f"Known scopes: {', '.join(SCOPES)}.",
            errors=[FieldError(field="scopes", source="body", message="unknown or empty")],
        )
    return chosen


async def create_token(
    session: AsyncSession,
    *,
    name: str,
    scopes: Iterable[str],
    created_by: UUID | None,
    expires_at: datetime.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; the plain token is returned once and never stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip(),
        token_prefix=plain[:12],
        token_hash=_sha256(plain),
        scopes=check_scopes(scopes),
        created_by_id=created_by,
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    return token, plain


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    return list((await session.scalars(select(ApiToken).order_by(ApiToken.created_at))).all())


async def revoke_token(session: AsyncSession, token_id: UUID) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("No API token with this id.")
    if token.revoked_at is None:
        token.revoked_at = now()
        await session.flush()
    return token


async def principal_for_token(session: AsyncSession, plain: str) -> Principal | None:
    token = await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _sha256(plain), ApiToken.revoked_at.is_(None))
    )
    if token is None or (token.expires_at is not None and token.expires_at <= now()):
        return None
    if token.last_used_at is None or now() - token.last_used_at > _TOUCH_INTERVAL:
        token.last_used_at = now()
    return Principal(kind="token", id=token.id, name=token.name, scopes=frozenset(token.scopes))


# -- invitations and sign-in links --------------------------------------------------------------
# A sign-in link lets one person set a password: it carries the account id and an expiry, signed
# with SECRET_KEY over the account's current password hash. Setting a password changes the hash,
# so a link works once; a newer link or a reset makes every older link void the same way.
SIGN_IN_LINK_LIFETIME = datetime.timedelta(days=3)


class InvalidSignInLink(Problem):
    status_code, slug, title = 404, "invalid-sign-in-link", "Sign-in link not valid"


class SignInLinkSender(Protocol):
    """The seam for mail: when the app state holds a sender under ``SIGN_IN_LINK_SENDER``,
    invitations and resets are sent to the account's address instead of shown to the admin."""

    async def __call__(
        self, *, email: str, display_name: str, url: str, purpose: Literal["invite", "reset"]
    ) -> None: ...


SIGN_IN_LINK_SENDER = "sign_in_link_sender"


def _link_signature(settings: Settings, payload: str, password_hash: str) -> str:
    return keyed_hash(settings, "sign-in-link", f"{payload}:{password_hash}")


def sign_in_link_token(
    settings: Settings, account: StaffAccount, *, lifetime: datetime.timedelta | None = None
) -> str:
    expires = int((now() + (lifetime or SIGN_IN_LINK_LIFETIME)).timestamp())
    payload = f"{account.id.hex}.{expires}"
    return f"{payload}.{_link_signature(settings, payload, account.password_hash)}"


async def account_for_link(session: AsyncSession, settings: Settings, token: str) -> StaffAccount:
    """The account a sign-in link belongs to, if the link is genuine, unused and not expired."""
    invalid = InvalidSignInLink(
        "This sign-in link is not valid: it was used already, replaced by a newer one, or it "
        "has expired. Ask an administrator for a new link."
    )
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(token) > 200:
        raise invalid
    try:
        account_id = UUID(hex=parts[0])
    except ValueError:
        raise invalid from None
    if int(parts[1]) < now().timestamp():
        raise invalid
    account = await session.get(StaffAccount, account_id)
    if account is None or not account.is_active:
        raise invalid
    expected = _link_signature(settings, f"{parts[0]}.{parts[1]}", account.password_hash)
    if not hmac.compare_digest(expected, parts[2]):
        raise invalid
    return account


async def invite_account(
    session: AsyncSession, settings: Settings, *, email: str, display_name: str, role: Role
) -> tuple[StaffAccount, str]:
    """A new staff account without a usable password, and the token of its sign-in link."""
    account = await create_account(
        session,
        email=email,
        display_name=display_name,
        role=role,
        password=secrets.token_urlsafe(32),
    )
    return account, sign_in_link_token(settings, account)


async def reset_sign_in(session: AsyncSession, settings: Settings, account: StaffAccount) -> str:
    """Replace the password by an unknown one (ending every session and older link) and
    return the token of a new sign-in link."""
    await update_account(session, account, password=secrets.token_urlsafe(32))
    return sign_in_link_token(settings, account)


async def set_password_by_link(
    session: AsyncSession, settings: Settings, token: str, password: str
) -> StaffAccount:
    account = await account_for_link(session, settings, token)
    await update_account(session, account, password=password)
    return account


async def change_own_password(
    session: AsyncSession, account_id: UUID, *, current: str, new: str
) -> StaffAccount:
    """A staff member's own change: the current password must be right. Every session of the
    account ends (the caller signs in again)."""
    account = await get_account(session, account_id)
    if not await _verify(account.password_hash, current):
        raise InvalidInput(
            "The current password is wrong.",
            errors=[FieldError(field="current_password", source="body", message="wrong")],
        )
    await update_account(session, account, password=new)
    return account


async def get_token(session: AsyncSession, token_id: UUID) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("No API token with this id.")
    return token
