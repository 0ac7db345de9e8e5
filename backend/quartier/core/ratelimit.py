"""Rate limits per client and per class of operation, answered with 429 and RateLimit headers.

Classes: `submission` (residents' submissions: operations named Submit…, and the HTML survey
flow's final POST), `login` (SignIn and the sign-in form), `export` (Export… operations), and
`default` for everything else; `/health`, `/ready`, `/metrics` and static files are exempt. A
handler may name its class explicitly with ``opt={"rate_limit": "export"}``.

Integrations that relay residents' submissions (a municipal portal sending many residents'
answers from one address) authenticate with a token carrying the scope `submissions:relay`:
their submissions count in the class `relay`, per token, instead of `submission` per client.
A submission carrying a bearer token is therefore counted after authentication (the second
stage, `rate_limit_middleware_factory(limiter, stage="token")`); before it, it counts in the
client's `default` class, so that guessing tokens is limited too. Anonymous residents stay
limited per client.

Counting is a fixed window per (class, client). The client is the peer address, or the
`X-Forwarded-For` client when the peer is a trusted proxy (core.clients), and it is only ever
kept as a keyed hash. State lives in process memory by default; with `REDIS_URL` it lives in
Redis so that every app process shares one limit. If Redis is unreachable, requests are let
through (and logged): availability for residents matters more than a strict limit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from quartier.core.clients import client_address
from quartier.core.errors import problem_asgi_response
from quartier.core.security import PRINCIPAL_SCOPE_KEY, Principal
from quartier.settings import RateLimitSetting as Limit
from quartier.settings import Settings

log = logging.getLogger(__name__)

EXEMPT_PREFIXES = ("/health", "/ready", "/metrics", "/static/", "/favicon")
_OURS = {b"ratelimit-limit", b"ratelimit-remaining", b"ratelimit-reset"}
RELAY_SCOPE = "submissions:relay"
RELAY_CLASS = "relay"
_DEFERRED = "quartier_rate_limit_deferred"


def _has_bearer(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return bytes(value[:7]).lower() == b"bearer "
    return False


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int


class Backend(Protocol):
    async def hit(self, key: str, limit: Limit) -> Decision: ...

    async def close(self) -> None: ...


class MemoryBackend:
    """Per-process counters; fine for one process (development, a single small deployment)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int, int], int] = {}
        self._last_prune = 0.0

    async def hit(self, key: str, limit: Limit) -> Decision:
        now = time.time()
        window = int(now // limit.window_seconds)
        slot = (key, limit.window_seconds, window)
        count = self._counts.get(slot, 0) + 1
        self._counts[slot] = count
        if now - self._last_prune > 60:
            self._prune(now)
        reset = limit.window_seconds - int(now % limit.window_seconds)
        return Decision(
            count <= limit.requests, limit.requests, max(0, limit.requests - count), reset
        )

    def _prune(self, now: float) -> None:
        """Forget windows that have ended."""
        self._last_prune = now
        self._counts = {
            slot: count for slot, count in self._counts.items() if (slot[2] + 1) * slot[1] > now
        }

    async def close(self) -> None:
        self._counts.clear()


class RedisBackend:
    """Counters shared by all app processes: INCR and EXPIRE in one round trip."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    async def hit(self, key: str, limit: Limit) -> Decision:
        now = time.time()
        window = int(now // limit.window_seconds)
        redis_key = f"quartier:rl:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(redis_key)
            pipe.expire(redis_key, limit.window_seconds + 1)
            count, _ = await pipe.execute()
        reset = limit.window_seconds - int(now % limit.window_seconds)
        return Decision(
            int(count) <= limit.requests, limit.requests, max(0, limit.requests - int(count)), reset
        )

    async def close(self) -> None:
        await self._redis.aclose()


def classify(handler: Any, method: str, path: str) -> str:
    explicit = handler.opt.get("rate_limit") if handler is not None else None
    if isinstance(explicit, str):
        return explicit
    operation_id = getattr(handler, "operation_id", None)
    if isinstance(operation_id, str):
        if operation_id.startswith("Submit"):
            return "submission"
        if operation_id == "SignIn":
            return "login"
        if operation_id.startswith("Export"):
            return "export"
    if method == "POST" and path == "/login":
        return "login"
    return "default"


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limits = settings.rate_limits
        self.backend: Backend = (
            RedisBackend(settings.redis_url) if settings.redis_url else MemoryBackend()
        )

    async def close(self) -> None:
        await self.backend.close()

    def client_key(self, scope: Scope) -> str:
        address = client_address(scope, self.settings.trusted_proxies)
        return hmac.new(
            self.settings.secret_key.encode(), f"rate:{address}".encode(), hashlib.sha256
        ).hexdigest()[:32]

    async def check(self, scope: Scope, stage: str = "client") -> Decision | None:
        """Count the request: stage `client` before authentication, stage `token` after it
        (only for submissions deferred by the first stage)."""
        path: str = scope["path"]
        if path.startswith(EXEMPT_PREFIXES):
            return None
        category = classify(scope.get("route_handler"), str(scope.get("method", "GET")), path)
        counter = self.client_key(scope)
        if stage == "client":
            if category == "submission" and _has_bearer(scope):
                scope[_DEFERRED] = True  # type: ignore[literal-required]
                category = "default"
        elif not scope.get(_DEFERRED):
            return None
        else:
            principal = scope.get(PRINCIPAL_SCOPE_KEY)
            if isinstance(principal, Principal) and RELAY_SCOPE in principal.scopes:
                category, counter = RELAY_CLASS, f"token:{principal.id}"
        limit = self.limits.get(category) or self.limits.get("default")
        if limit is None:
            return None
        try:
            return await self.backend.hit(f"{category}:{counter}", limit)
        except Exception as error:  # fail open, see the module docstring
            log.warning(
                "rate-limit backend unavailable (%s); request let through", type(error).__name__
            )
            return None


def rate_limit_middleware_factory(limiter: RateLimiter, stage: str = "client") -> Any:
    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            decision = await limiter.check(scope, stage)
            if decision is None or (
                decision.allowed and stage == "client" and scope.get(_DEFERRED)
            ):
                # deferred: the token stage counts it and states its headers
                await app(scope, receive, send)
                return
            headers = {
                "RateLimit-Limit": str(decision.limit),
                "RateLimit-Remaining": str(decision.remaining),
                "RateLimit-Reset": str(decision.reset_seconds),
            }
            raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
            if not decision.allowed:
                await problem_asgi_response(
                    429,
                    detail="Too many requests from your connection; try again later.",
                    headers={**headers, "Retry-After": str(decision.reset_seconds)},
                )(scope, receive, send)
                return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [
                        *(h for h in message.get("headers") or () if h[0].lower() not in _OURS),
                        *raw,
                    ]
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return factory
