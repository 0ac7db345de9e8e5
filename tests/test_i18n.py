"""Languages: every UI text has a German translation, negotiation order, Content-Language, and the
no-JavaScript language switch (including its refusal to redirect anywhere but this site)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from litestar import Litestar
from litestar.testing import AsyncTestClient

from quartier.core import i18n
from quartier.core.web import safe_next

ROOT = Path(__file__).resolve().parents[1]
HTML = {"Accept": "text/html"}


def _catalog(language: str) -> Catalog:
    with (i18n.LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _extracted() -> dict[str, list[str]]:
    """Every msgid in the templates and the Python code, as `make messages` extracts them."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def test_extraction_finds_templates_and_python() -> None:
    found = _extracted()
    assert "Skip to main content" in found  # base.html
    assert "Participation in social planning" in found  # core/web.py
    assert any(
        place.startswith("frontend/templates/") for places in found.values() for place in places
    )
    assert any(
        place.startswith("backend/quartier/") for places in found.values() for place in places
    )


def test_every_msgid_has_a_german_translation() -> None:
    catalog = _catalog("de")
    missing = []
    for msgid, places in sorted(_extracted().items()):
        message = catalog.get(msgid)
        strings = (
            []
            if message is None
            else [message.string]
            if isinstance(message.string, str)
            else list(message.string)
        )
        if message is None or message.fuzzy or not strings or not all(strings):
            missing.append(f"{msgid!r} ({places[0]})")
    assert not missing, (
        f"{len(missing)} text(s) without a German translation; run `make messages` and translate "
        "them in frontend/locales/de/LC_MESSAGES/messages.po:\n  " + "\n  ".join(missing)
    )


@pytest.mark.parametrize("language", ["de", "en"])
def test_catalogue_placeholders_match(language: str) -> None:
    problems = [
        f"{message.id!r}: {'; '.join(str(error) for error in errors)}"
        for message, errors in _catalog(language).check()
    ]
    assert not problems, "\n".join(problems)


def test_english_ui_falls_back_to_the_msgid() -> None:
    token = i18n.set_language("en")
    try:
        assert i18n.gettext("Skip to main content") == "Skip to main content"
    finally:
        i18n._current.reset(token)
    token = i18n.set_language("de")
    try:
        assert i18n.gettext("Skip to main content") == "Zum Hauptinhalt springen"
    finally:
        i18n._current.reset(token)


# ---------------------------------------------------------------- negotiation


def test_query_beats_cookie_beats_accept_language() -> None:
    assert i18n.negotiate("en", "de", "de") == "en"
    assert i18n.negotiate(None, "en", "de") == "en"
    assert i18n.negotiate(None, None, "en") == "en"
    assert i18n.negotiate("de", "en", "en") == "de"


def test_default_is_german() -> None:
    assert i18n.negotiate(None, None, None) == "de"
    assert i18n.negotiate(None, None, "") == "de"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en;q=0.9, de;q=0.8", "en"),
        ("de;q=0.5, en;q=0.9", "en"),
        ("fr, en;q=0.5, de;q=0.4", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("de-AT", "de"),
        ("de-x-simple, de;q=0.9", "de-x-simple"),
        ("en;q=0, de;q=0.1", "de"),
        ("en;q=0", "de"),
        ("en;q=abc, de;q=0.5", "de"),
        ("en, de", "en"),  # equal weight: the first wins
        ("*", "de"),
    ],
)
def test_accept_language_quality_values(header: str, expected: str) -> None:
    assert i18n.negotiate(None, None, header) == expected


@pytest.mark.parametrize("unknown", ["fr", "xx", "../etc", "zh-Hant-TW", "🙂"])
def test_unknown_languages_fall_back_to_german(unknown: str) -> None:
    assert i18n.negotiate(unknown, None, None) == "de"
    assert i18n.negotiate(None, unknown, None) == "de"
    assert i18n.negotiate(None, None, unknown) == "de"


def test_unknown_query_language_does_not_hide_the_cookie() -> None:
    assert i18n.negotiate("fr", "en", None) == "en"


# ---------------------------------------------------------------- Content-Language


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "de"),
        ({"Accept-Language": "en-US,en;q=0.9"}, "en"),
        ({"Cookie": "quartier_lang=en"}, "en"),
        ({"Accept-Language": "en", "Cookie": "quartier_lang=de"}, "de"),
    ],
)
async def test_responses_state_their_language(
    client: AsyncTestClient[Litestar], headers: dict[str, str], expected: str
) -> None:
    response = await client.get("/health", headers=headers)
    assert response.headers["content-language"] == expected
    assert "accept-language" in response.headers["vary"].lower()


async def test_query_parameter_sets_the_language(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/login?lang=en", headers=HTML)
    assert response.headers["content-language"] == "en"
    assert '<html lang="en">' in response.text


async def test_not_found_page_is_translated_and_states_its_language(
    client: AsyncTestClient[Litestar],
) -> None:
    german = await client.get("/no-such-page", headers=HTML)
    assert german.status_code == 404
    assert german.headers["content-language"] == "de"
    assert '<html lang="de">' in german.text
    assert "Seite nicht gefunden" in german.text

    english = await client.get("/no-such-page", headers={**HTML, "Cookie": "quartier_lang=en"})
    assert english.headers["content-language"] == "en"
    assert '<html lang="en">' in english.text
    assert "Page not found" in english.text


# ---------------------------------------------------------------- the language switch


async def test_language_switch_sets_the_cookie_and_goes_back(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get(
        "/language",
        params={"lang": "en", "next": "/areas?level=district"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/areas?level=district"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("quartier_lang=en;")
    assert "Path=/" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie


async def test_language_switch_defaults_to_the_start_page(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/language", params={"lang": "de"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_language_switch_rejects_unknown_languages(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get(
        "/language", params={"lang": "fr", "next": "/"}, follow_redirects=False
    )
    assert response.status_code == 422  # core.errors.InvalidInput: a value the site refuses
    assert "set-cookie" not in response.headers or "quartier_lang" not in response.headers.get(
        "set-cookie", ""
    )


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/ok\r\nSet-Cookie: x=1",
        "/\tevil",
        "http:/evil.example",
        "",
        "/" + "a" * 3000,
    ],
)
async def test_language_switch_is_no_open_redirect(
    client: AsyncTestClient[Litestar], target: str
) -> None:
    response = await client.get(
        "/language", params={"lang": "en", "next": target}, follow_redirects=False
    )
    assert response.status_code in (303, 400)
    if response.status_code == 303:
        assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/areas/01", "/areas/01"),
        ("/areas?lang=de&level=2", "/areas?level=2"),
        ("/areas?lang=de", "/areas"),
        ("/processes/abc#phases", "/processes/abc#phases"),
        (None, "/"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


# ---------------------------------------------------------------- the base layout


async def test_layout_has_landmarks_skip_link_and_language_switch(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/login", headers=HTML)
    page = response.text
    assert '<html lang="de">' in page
    assert page.index('class="skip-link" href="#main"') < page.index("<header")
    assert '<main id="main"' in page
    assert "<footer" in page
    assert 'href="/language?lang=en&amp;next=/login"' in page
    assert 'hreflang="de" aria-current="true"' in page
    assert "CC BY 4.0" in page
    assert 'href="/api/v1/docs"' in page
    assert 'href="/login" aria-current="page"' in page


# ---------------------------------------------------------------- manifest and icon


@pytest.mark.parametrize(
    ("language", "description"),
    [("de", "Beteiligung in der Sozialplanung"), ("en", "Participation in social planning")],
)
async def test_web_manifest_speaks_the_negotiated_language(
    client: AsyncTestClient[Litestar], language: str, description: str
) -> None:
    response = await client.get("/manifest.webmanifest", headers={"Accept-Language": language})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["lang"] == language
    assert manifest["description"] == description
    assert manifest["icons"][0]["src"] == "/static/icons/favicon.svg"


async def test_favicon_points_to_the_svg_icon(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/favicon.ico", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/static/icons/favicon.svg"
    icon = await client.get("/static/icons/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
