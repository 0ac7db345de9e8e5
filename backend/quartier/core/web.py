"""Web routes shared by every page: the language switch, the favicon and the web manifest.

The language switch is a plain link (``/language?lang=en&next=/areas``), so it works without
JavaScript: it stores the choice in the ``quartier_lang`` cookie and sends the browser back to
the page it came from. ``next`` must be a path on this site; anything else (another host, a
scheme, ``//host``, backslashes) falls back to the start page, so the route cannot be used as an
open redirect.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import Response, get
from litestar.datastructures import Cookie
from litestar.params import Parameter
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from quartier.core import i18n
from quartier.core.errors import FieldError, InvalidInput
from quartier.core.security import PUBLIC

LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600
MANIFEST_MEDIA_TYPE = "application/manifest+json"
MAX_NEXT_LENGTH = 2000


def safe_next(target: str | None) -> str:
    """A local path to send the browser to, or ``/`` when `target` is not one.

    The `lang` query parameter is dropped from the target: it beats the cookie, so keeping it
    would undo the switch the browser just asked for.
    """
    if not target or len(target) > MAX_NEXT_LENGTH:
        return "/"
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    )
    return urlunsplit(("", "", parts.path or "/", query, parts.fragment)) or "/"


@get("/language", include_in_schema=False, cache_control=None, sync_to_thread=False, **PUBLIC)
def switch_language(
    lang: Annotated[str, Parameter(max_length=16)],
    next_path: Annotated[str | None, Parameter(query="next", max_length=MAX_NEXT_LENGTH)] = None,
) -> Redirect:
    """Remember the chosen UI language in a cookie and go back to the page."""
    language = lang.strip().lower()
    if language not in i18n.switch_languages():
        raise InvalidInput(
            f"Unknown language {lang!r}; choose one of {', '.join(i18n.switch_languages())}.",
            errors=[FieldError(field="lang", source="query", message="unknown language")],
        )
    return Redirect(
        safe_next(next_path),
        status_code=303,
        headers={"Cache-Control": "no-store"},
        cookies=[language_cookie(language)],
    )


def language_cookie(language: str) -> Cookie:
    """The cookie that remembers a resident's chosen language (also set by the survey pages'
    language switch, which posts the page instead of leaving it)."""
    return Cookie(
        key=i18n.LANGUAGE_COOKIE,
        value=language,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
    )


@get("/favicon.ico", include_in_schema=False, sync_to_thread=False, **PUBLIC)
def favicon() -> Redirect:
    """Browsers ask for /favicon.ico on their own; the icon is an SVG in the static files."""
    return Redirect(
        "/static/icons/favicon.svg",
        status_code=301,
        headers={"Cache-Control": "public, max-age=86400"},
    )


@get("/manifest.webmanifest", include_in_schema=False, sync_to_thread=False, **PUBLIC)
def manifest() -> Response[dict[str, Any]]:
    """The web app manifest (name, colours, icon) in the negotiated language."""
    return Response(
        {
            "name": "Quartier",
            "short_name": "Quartier",
            "description": i18n.gettext("Participation in social planning"),
            "lang": i18n.current_language(),
            "start_url": "/",
            "scope": "/",
            "display": "browser",
            "background_color": "#ffffff",
            "theme_color": "#0b4f6c",
            "icons": [
                {
                    "src": "/static/icons/favicon.svg",
                    "sizes": "any",
                    "type": "image/svg+xml",
                    "purpose": "any",
                }
            ],
        },
        media_type=MANIFEST_MEDIA_TYPE,
        headers={"Cache-Control": "public, max-age=3600"},
    )


ROUTES: list[ControllerRouterHandler] = [switch_language, favicon, manifest]
