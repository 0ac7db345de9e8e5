"""Languages: negotiation per request, UI translations (gettext), multilingual content.

Order of negotiation: the `lang` query parameter, the `quartier_lang` cookie, then
`Accept-Language`; German is the default. `de-x-simple` (easy-read German) is a content language:
UI strings fall back to German for it, content texts that have an easy-read version use it.
Responses state the negotiated language in `Content-Language`.
"""

from __future__ import annotations

import contextvars
import io
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from quartier.settings import PROJECT_ROOT

DEFAULT_LANGUAGE = "de"
LANGUAGES = ("de", "en", "de-x-simple")
UI_LANGUAGES = ("de", "en")
LANGUAGE_COOKIE = "quartier_lang"
LOCALES_DIR = PROJECT_ROOT / "frontend" / "locales"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def set_language(language: str) -> contextvars.Token[str]:
    return _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def _normalise(tag: str) -> str | None:
    tag = tag.strip().lower().replace("_", "-")
    if tag in LANGUAGES:
        return tag
    primary = tag.split("-")[0]
    return primary if primary in LANGUAGES else None


def negotiate(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    for candidate in (query_lang, cookie_lang):
        if candidate and (language := _normalise(candidate)):
            return language
    if accept_language:
        weighted: list[tuple[float, int, str]] = []
        for position, part in enumerate(accept_language.split(",")[:20]):
            pieces = part.split(";")
            quality = 1.0
            for param in pieces[1:]:
                name, _, value = param.strip().partition("=")
                if name == "q":
                    try:
                        quality = float(value)
                    except ValueError:
                        quality = 0.0
            if (language := _normalise(pieces[0])) and quality > 0:
                weighted.append((-quality, position, language))
        if weighted:
            return sorted(weighted)[0][2]
    return DEFAULT_LANGUAGE


@cache
def translations(language: str) -> NullTranslations:
    """UI translations for a language, compiled in memory from its .po catalogue."""
    ui_language = "de" if language == "de-x-simple" else language
    po_file = LOCALES_DIR / ui_language / "LC_MESSAGES" / "messages.po"
    if not po_file.exists():
        return NullTranslations()
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=ui_language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(message: str, **variables: Any) -> str:
    text = translations(current_language()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def pick(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    """The best text of a multilingual value {"de": …, "en": …, "de-x-simple": …}."""
    if not texts:
        return ""
    language = language or current_language()
    for candidate in (language, "de" if language == "de-x-simple" else None, "de", "en"):
        if candidate and texts.get(candidate):
            return texts[candidate]
    return next(iter(texts.values()), "")


def _cookie(headers: dict[bytes, bytes], name: str) -> str | None:
    raw = headers.get(b"cookie", b"").decode("latin-1")
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _query(scope: Scope, name: str) -> str | None:
    from urllib.parse import parse_qs

    query: bytes = scope.get("query_string", b"")
    if name.encode() not in query:
        return None
    values = parse_qs(query.decode("latin-1")).get(name)
    return values[0] if values else None


def current_language_of(scope: Scope) -> str:
    """The language negotiated for a request (also where no route matched)."""
    headers = dict(scope["headers"])
    return negotiate(
        _query(scope, "lang"),
        _cookie(headers, LANGUAGE_COOKIE),
        headers.get(b"accept-language", b"").decode("latin-1"),
    )


def language_middleware(app: ASGIApp) -> ASGIApp:
    """Negotiate the language of each request and state it in Content-Language."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        language = current_language_of(scope)
        encoded = language.encode()
        token = set_language(language)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":  # on the raw list: every response
                result: list[tuple[bytes, bytes]] = []
                vary: bytes | None = None
                for name, value in message.get("headers") or ():
                    lowered = name.lower()
                    if lowered == b"vary":
                        vary = value if vary is None else vary + b", " + value
                    elif lowered != b"content-language":
                        result.append((name, value))
                result.append((b"content-language", encoded))
                result.append(
                    (b"vary", vary + b", Accept-Language" if vary else b"Accept-Language")
                )
                message["headers"] = result
            await send(message)

        try:
            await app(scope, receive, send_with_language)
        finally:
            _current.reset(token)

    return middleware


def locales_present() -> list[Path]:
    return sorted(LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))
