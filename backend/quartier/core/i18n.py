"""Languages: negotiation per request, UI translations (gettext), multilingual content.

Order of negotiation: the `lang` query parameter, the `quartier_lang` cookie, then
`Accept-Language` (its first *enabled* language by quality); German is the default. A deployment
enables languages with `QUARTIER_LANGUAGES` (German is always on). `de-x-simple` (easy-read
German, Leichte Sprache) has its own small catalogue of the resident pages' interface texts
(frontend/locales/de_x_simple) and falls back to German for every other UI string; content
texts that have an easy-read version use it. Arabic is written right to left (`RTL_LANGUAGES`):
the layout sets `dir="rtl"` and the stylesheets use logical properties only.
Responses state the negotiated language in `Content-Language`.
"""

from __future__ import annotations

import contextvars
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from quartier.settings import KNOWN_LANGUAGES, PROJECT_ROOT

DEFAULT_LANGUAGE = "de"
# Every language Quartier knows; a deployment enables a subset (`configure_languages`).
KNOWN_UI_LANGUAGES = ("de", "en", "tr", "ar")
LANGUAGES: tuple[str, ...] = KNOWN_LANGUAGES
UI_LANGUAGES: tuple[str, ...] = KNOWN_UI_LANGUAGES
RTL_LANGUAGES = frozenset({"ar"})
# Each language named in itself, for the language switch.
ENDONYMS = {
    "de": "Deutsch",
    "en": "English",
    "de-x-simple": "Leichte Sprache",
    "tr": "Türkçe",
    "ar": "العربية",
}
LANGUAGE_COOKIE = "quartier_lang"
LOCALES_DIR = PROJECT_ROOT / "frontend" / "locales"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT_LANGUAGE)


def configure_languages(enabled: tuple[str, ...]) -> None:
    """Enable a subset of the known languages (German always stays on)."""
    global LANGUAGES, UI_LANGUAGES
    chosen = {"de", *enabled}
    LANGUAGES = tuple(code for code in KNOWN_LANGUAGES if code in chosen)
    UI_LANGUAGES = tuple(code for code in KNOWN_UI_LANGUAGES if code in chosen)


def ui_languages() -> tuple[str, ...]:
    """The enabled interface languages, in the order of the language switch."""
    return UI_LANGUAGES


def switch_languages() -> tuple[str, ...]:
    """The choices of the language switch: the interface languages, with easy-read German
    after German where it is enabled (its interface falls back to German text by text)."""
    if "de-x-simple" not in LANGUAGES:
        return UI_LANGUAGES
    return tuple(
        code for ui in UI_LANGUAGES for code in ((ui, "de-x-simple") if ui == "de" else (ui,))
    )


def current_language() -> str:
    return _current.get()


def text_direction(language: str | None = None) -> str:
    """`rtl` for right-to-left languages, else `ltr` (for the `dir` attribute)."""
    return "rtl" if (language or current_language()) in RTL_LANGUAGES else "ltr"


def set_language(language: str) -> contextvars.Token[str]:
    return _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def reset_language(token: contextvars.Token[str]) -> None:
    """Undo a `set_language` (for work done in one language inside a request)."""
    _current.reset(token)


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


# The catalogue directory of each language whose name is no valid gettext locale.
CATALOGUE_DIRS = {"de-x-simple": "de_x_simple"}


def _catalogue(directory: str, locale: str) -> NullTranslations:
    po_file = LOCALES_DIR / directory / "LC_MESSAGES" / "messages.po"
    if not po_file.exists():
        return NullTranslations()
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


@cache
def translations(language: str) -> NullTranslations:
    """UI translations for a language, compiled in memory from its .po catalogue. Easy-read
    German carries only the texts it makes easier (the resident pages' own) and falls back to
    German for every other one."""
    if language == "de-x-simple":
        easy = _catalogue(CATALOGUE_DIRS[language], DEFAULT_LANGUAGE)
        easy.add_fallback(translations(DEFAULT_LANGUAGE))
        return easy
    return _catalogue(language, language)


def gettext(message: str, **variables: Any) -> str:
    text = translations(current_language()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def language_names() -> dict[str, str]:
    """Every known language named in the interface's language (labels of staff forms)."""
    return {
        "de": gettext("German"),
        "en": gettext("English"),
        "de-x-simple": gettext("Easy-read German"),
        "tr": gettext("Turkish"),
        "ar": gettext("Arabic"),
    }


def picked_language(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    """The language `pick` shows of a multilingual value: the requested one if the text has
    it, else German (easy-read German falls back to plain German), else English."""
    language = language or current_language()
    for candidate in (language, "de", "en"):
        if texts and texts.get(candidate):
            return candidate
    return next(iter(texts), DEFAULT_LANGUAGE) if texts else DEFAULT_LANGUAGE


def falls_back(texts: Mapping[str, str] | None, language: str | None = None) -> bool:
    """True when a resident reading `language` is shown another language of this text
    (plain German for easy-read German does not count: it is the same language)."""
    language = language or current_language()
    shown = picked_language(texts, language)
    return shown != language and not (language == "de-x-simple" and shown == "de")


def pick(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    """The best text of a multilingual value {"de": …, "en": …, "de-x-simple": …, …}."""
    if not texts:
        return ""
    return texts.get(picked_language(texts, language)) or next(iter(texts.values()), "")


@dataclass(frozen=True, slots=True)
class Shown:
    """A multilingual text as one reader sees it: the text, the language it is in (for the
    element's `lang`), and whether that is a fallback the page must say so about."""

    text: str
    language: str
    falls_back: bool


def show(texts: Mapping[str, str] | None, language: str | None = None) -> Shown:
    """`pick`, `picked_language` and `falls_back` at once; an empty text never falls back."""
    language = language or current_language()
    text = pick(texts, language)
    return Shown(
        text=text,
        language=picked_language(texts, language),
        falls_back=bool(text) and falls_back(texts, language),
    )


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
                # A response in a language asked for on its own (a council document's `lang`)
                # states that one; every other response the negotiated language.
                stated: bytes | None = None
                for name, value in message.get("headers") or ():
                    lowered = name.lower()
                    if lowered == b"vary":
                        vary = value if vary is None else vary + b", " + value
                    elif lowered == b"content-language":
                        stated = value
                    else:
                        result.append((name, value))
                result.append((b"content-language", stated or encoded))
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
