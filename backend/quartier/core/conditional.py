"""Conditional requests and caching of public reads (RFC 9110 §13, RFC 9111).

An operation opts in with ``**cached(access(public=True))`` (or ``cached(..., max_age=…)``);
the contract then declares `If-None-Match` / `If-Modified-Since`, the `ETag`, `Last-Modified`
and `Cache-Control` headers and the 304 answer for exactly these operations
(core.openapi.declare_conditional). One ASGI layer, :func:`conditional_middleware`, does the
rest for every such operation:

* **ETag.** A handler that knows a cheap version key of its representation (a streamed export:
  ``max(updated_at)`` and counts in SQL) sends it with :func:`validators`; otherwise the layer
  buffers the 200 body and the ETag is a SHA-256 of the negotiated language, the media type and
  the body. The layer sits *inside* gzip compression (:class:`ConditionalCompressionMiddleware`),
  so it sees the identity body; a representation that will be sent gzip-compressed gets a weak
  ETag (``W/"…"``), as its bytes differ from the identity ones (a strong validator is unique
  per representation). Comparison is weak, as RFC 9110 prescribes for `If-None-Match`.
* **304.** A matching `If-None-Match` (or, without one, a `Last-Modified` not after
  `If-Modified-Since`) answers 304 with the validators and caching headers and no body.
  A streaming handler can skip rendering with :func:`is_fresh` and return an empty body: the
  layer turns it into the 304.
* **Cache-Control.** Only a request with neither credentials nor cookies gets
  ``public, max-age=N``. A request with cookies (a resident's language or respondent cookie)
  gets ``private, max-age=N``; a signed-in staff member or an API token gets
  ``private, no-store``, as before: what they see may include drafts. Every answer varies by
  `Authorization` and `Cookie` (and `Accept-Language`, core.i18n), so a shared cache never
  hands a public copy to a credentialed caller or the other way round.

Nothing here is copied into controllers; errors (non-2xx) pass through untouched.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, cast

import msgspec
from litestar.config.compression import CompressionConfig
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from quartier.core.errors import FieldError, problem_asgi_response
from quartier.core.i18n import current_language_of
from quartier.core.security import PRINCIPAL_SCOPE_KEY

CACHEABLE_KEY = "cacheable"
DEFAULT_MAX_AGE = 60
# HEAD is not routed to these handlers; a buffered ETag of its empty body would be wrong.
_METHODS = frozenset({"GET"})
# Headers a 304 does not repeat: they describe a body it does not have.
_BODY_HEADERS = frozenset(
    {b"content-length", b"content-type", b"content-disposition", b"transfer-encoding"}
)


class Cacheable(msgspec.Struct, frozen=True, kw_only=True):
    """A public read that answers conditional requests: `max_age` seconds of freshness for
    anonymous callers; `last_modified` says the handler sends `Last-Modified`."""

    max_age: int = DEFAULT_MAX_AGE
    last_modified: bool = False


def cached(
    rule: dict[str, Any],
    *,
    max_age: int = DEFAULT_MAX_AGE,
    last_modified: bool = False,
    **opt: Any,
) -> dict[str, Any]:
    """Handler keyword arguments: an access rule (core.security.access) plus the opt-in, e.g.
    ``@get("/", **cached(access(public=True)))``; `opt` adds further handler options (such as
    the declared `content`, core.openapi.declared_content)."""
    return {
        **rule,
        "opt": {
            **rule.get("opt", {}),
            **opt,
            CACHEABLE_KEY: Cacheable(max_age=max_age, last_modified=last_modified),
        },
    }


def cacheable_of(handler: Any) -> Cacheable | None:
    opt = getattr(handler, "opt", None) or {}
    found = opt.get(CACHEABLE_KEY)
    return found if isinstance(found, Cacheable) else None


# -- validators --------------------------------------------------------------------------------


def _digest(*parts: bytes) -> str:
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(len(part).to_bytes(8, "big"))
        hashed.update(part)
    return base64.urlsafe_b64encode(hashed.digest()[:18]).decode()


def http_date(moment: datetime.datetime) -> str:
    """An IMF-fixdate (`Sun, 06 Dec 2026 21:00:00 GMT`), whole seconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return format_datetime(moment.astimezone(datetime.UTC).replace(microsecond=0), usegmt=True)


def validators(
    version: str | bytes | None,
    last_modified: datetime.datetime | None = None,
    *,
    weak: bool = False,
) -> dict[str, str]:
    """`ETag` (from a version key of the representation; weak where the bytes may differ
    for one version, e.g. a file stating its generation time) and `Last-Modified` headers for a
    handler that knows them without rendering its body. Without a version the layer computes
    the ETag from the body."""
    headers: dict[str, str] = {}
    if version is not None:
        raw = version.encode() if isinstance(version, str) else version
        headers["ETag"] = ("W/" if weak else "") + f'"{_digest(b"version", raw)}"'
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    return headers


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _none_match(header: str, etag: str) -> bool:
    """Weak comparison of `If-None-Match` against the current ETag."""
    if header.strip() == "*":
        return True
    current = _opaque(etag)
    return any(_opaque(candidate) == current for candidate in header.split(","))


def _parse_date(value: str) -> datetime.datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _fresh(request_headers: dict[bytes, bytes], etag: str | None, modified: str | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; If-Modified-Since otherwise."""
    none_match = request_headers.get(b"if-none-match")
    if none_match is not None:
        return etag is not None and _none_match(none_match.decode("latin-1"), etag)
    since = request_headers.get(b"if-modified-since")
    if since is None or modified is None:
        return False
    since_date, modified_date = _parse_date(since.decode("latin-1")), _parse_date(modified)
    return since_date is not None and modified_date is not None and modified_date <= since_date


def is_fresh(connection: ASGIConnection[Any, Any, Any, Any], headers: dict[str, str]) -> bool:
    """Whether the caller's copy is current given the handler's `validators(...)`: the handler
    may then return an empty body, which the layer answers as 304."""
    request_headers = dict(connection.scope["headers"])
    return _fresh(request_headers, headers.get("ETag"), headers.get("Last-Modified"))


# -- the layer ---------------------------------------------------------------------------------


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _without(headers: list[tuple[bytes, bytes]], *names: bytes) -> list[tuple[bytes, bytes]]:
    return [(key, value) for key, value in headers if key.lower() not in names]


def cache_control(scope: Scope, rule: Cacheable) -> str:
    """Public only for a request with neither credentials nor cookies."""
    if scope.get(PRINCIPAL_SCOPE_KEY) is not None:
        return "private, no-store"
    headers = dict(scope["headers"])
    if b"authorization" in headers:
        return "private, no-store"
    if b"cookie" in headers:
        return f"private, max-age={rule.max_age}"
    return f"public, max-age={rule.max_age}"


# Bounds of the conditional request headers (core.openapi declares them).
IF_NONE_MATCH_MAX = 2000
IF_MODIFIED_SINCE_MAX = 100


def _too_long(request_headers: dict[bytes, bytes]) -> list[FieldError]:
    errors = []
    for name, limit in (
        ("If-None-Match", IF_NONE_MATCH_MAX),
        ("If-Modified-Since", IF_MODIFIED_SINCE_MAX),
    ):
        value = request_headers.get(name.lower().encode())
        if value is not None and len(value.decode("utf-8", "replace")) > limit:
            errors.append(
                FieldError(field=name, source="header", message=f"at most {limit} characters")
            )
    return errors


def conditional_middleware(app: ASGIApp, *, compress_from: int | None) -> ASGIApp:
    """The ASGI layer for operations that opted in (see the module docstring).
    `compress_from`: the body size from which the compression outside compresses (None: no
    compression), to know when an ETag must be weak."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        rule = cacheable_of(scope.get("route_handler")) if scope["type"] == ScopeType.HTTP else None
        if rule is None or scope.get("method") not in _METHODS:
            await app(scope, receive, send)
            return
        request_headers = dict(scope["headers"])
        too_long = _too_long(request_headers)
        if too_long:
            await problem_asgi_response(
                400, detail="A conditional request header is too long.", errors=too_long
            )(scope, receive, send)
            return
        gzip = b"gzip" in request_headers.get(b"accept-encoding", b"").lower()
        caching = cache_control(scope, rule)
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []
        mode = "undecided"  # then "pass" (not ours), "stream" (handler's ETag), "buffer", "304"

        def finish_headers(
            headers: list[tuple[bytes, bytes]], etag: str
        ) -> list[tuple[bytes, bytes]]:
            vary = [value for key, value in headers if key.lower() == b"vary"]
            result = _without(headers, b"etag", b"cache-control", b"vary")
            result.append((b"etag", etag.encode()))
            result.append((b"cache-control", caching.encode()))
            result.append((b"vary", b", ".join([*vary, b"Authorization, Cookie"])))
            return result

        async def send_not_modified(headers: list[tuple[bytes, bytes]]) -> None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [(k, v) for k, v in headers if k.lower() not in _BODY_HEADERS],
                }
            )
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def wrapped_send(message: Message) -> None:
            nonlocal start, mode
            if message["type"] == "http.response.start":
                start = dict(message)
                headers = list(message.get("headers") or [])
                if message["status"] != 200:
                    mode = "pass"
                    await send(message)
                    return
                etag = _header(headers, b"etag")
                if etag is None:
                    mode = "buffer"  # the ETag comes from the body
                    return
                if gzip and compress_from is not None and not etag.startswith("W/"):
                    etag = "W/" + etag  # streamed bodies are always compressed when accepted
                headers = finish_headers(headers, etag)
                if _fresh(request_headers, etag, _header(headers, b"last-modified")):
                    mode = "304"
                    await send_not_modified(headers)
                    return
                mode = "stream"
                await send({**message, "headers": headers})
                return
            if message["type"] != "http.response.body" or mode in ("pass", "stream"):
                await send(message)
                return
            if mode == "304":
                return  # the body of a representation the caller already has
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            body = b"".join(chunks)
            headers = list(start.get("headers") or [])
            media_type = (_header(headers, b"content-type") or "").encode()
            language = current_language_of(scope).encode()
            etag = f'"{_digest(language, media_type, body)}"'
            if gzip and compress_from is not None and len(body) >= compress_from:
                etag = "W/" + etag
            headers = finish_headers(headers, etag)
            if _fresh(request_headers, etag, _header(headers, b"last-modified")):
                await send_not_modified(headers)
                return
            await send(cast("Message", {**start, "headers": headers}))
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await app(scope, receive, wrapped_send)

    return middleware


class ConditionalCompressionMiddleware(CompressionMiddleware):
    """Litestar's compression with the conditional layer directly inside it, so that ETags
    are computed from the identity body (gzip output carries a timestamp and would change the
    ETag on every request). Used as `CompressionConfig(middleware_class=…)`."""

    def __init__(self, app: ASGIApp, config: CompressionConfig) -> None:
        super().__init__(
            app=conditional_middleware(app, compress_from=config.minimum_size), config=config
        )
