"""Languages: every UI text has a German translation, negotiation order, Content-Language, and the
no-JavaScript language switch (including its refusal to redirect anywhere but this site)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
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
    """A catalogue by its directory (`de_x_simple` is easy-read German, read as German)."""
    with (i18n.LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale="de" if language == "de_x_simple" else language)


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
    missing = _untranslated(_catalog("de"), _extracted())
    assert not missing, (
        f"{len(missing)} text(s) without a German translation; run `make messages` and translate "
        "them in frontend/locales/de/LC_MESSAGES/messages.po:\n  " + "\n  ".join(missing)
    )


@pytest.mark.parametrize("language", ["de", "en", "tr", "ar", "de_x_simple"])
def test_catalogue_placeholders_match(language: str) -> None:
    problems = [
        f"{message.id!r}: {'; '.join(str(error) for error in errors)}"
        for message, errors in _catalog(language).check()
    ]
    assert not problems, "\n".join(problems)


def _strings(message: Message | None) -> list[str]:
    if message is None:
        return []
    return [message.string] if isinstance(message.string, str) else list(message.string)


def _untranslated(catalog: Catalog, extracted: dict[str, list[str]]) -> list[str]:
    """Every extracted msgid without a complete, non-fuzzy translation, named with its place."""
    missing = []
    for msgid, places in sorted(extracted.items()):
        message = catalog.get(msgid)
        strings = _strings(message)
        if message is None or message.fuzzy or not strings or not all(strings):
            missing.append(f"{msgid!r} ({places[0]})")
    return missing


# Every interface text, the residents' and the staff's, has a Turkish and an Arabic translation.
@pytest.mark.parametrize("language", ["tr", "ar"])
def test_every_msgid_is_translated_into_turkish_and_arabic(language: str) -> None:
    missing = _untranslated(_catalog(language), _extracted())
    assert not missing, (
        f"{len(missing)} text(s) without a {language} translation; run `make messages` and "
        f"translate them in frontend/locales/{language}/LC_MESSAGES/messages.po (every plural "
        "form):\n  " + "\n  ".join(missing)
    )


def test_a_missing_or_fuzzy_translation_is_named() -> None:
    catalog = Catalog(locale="ar")
    catalog.add("Done.", "تم.")
    catalog.add("Open", "مفتوح", flags={"fuzzy"})
    catalog.add(("%(num)s support", "%(num)s supports"), ("a", "b", "", "d", "e", "f"))
    extracted = {
        "Done.": ["a.html:1"],
        "Open": ["b.html:2"],
        "%(num)s support": ["c.html:3"],
        "Cancel": ["d.html:4"],
    }
    assert _untranslated(catalog, extracted) == [
        "'%(num)s support' (c.html:3)",
        "'Cancel' (d.html:4)",
        "'Open' (b.html:2)",
    ]


# What the code fills in or the browser reads must survive translation unchanged: Python format
# placeholders (`%(name)s`, `%%`), HTML tags and `{…}` fields filled by the scripts.
PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[sdif]|%%|%[sdif]|</?[A-Za-z][^<>]*>|\$?\{[^{}]*\}")
# A plural form for exactly zero, one or two may say the number in words ("أجاب شخصان").
COUNTS = {"%(num)s", "%(count)s", "%(n)s"}


def _placeholder_problems(msgid: str | tuple[str, ...], strings: list[str]) -> list[str]:
    ids = [msgid] if isinstance(msgid, str) else list(msgid)
    wanted = set(PLACEHOLDER.findall(ids[-1]))
    problems = []
    for index, string in enumerate(strings):
        if not string:
            continue  # completeness is the other tests' business
        found = set(PLACEHOLDER.findall(string))
        may_omit = COUNTS if len(ids) > 1 and index < len(strings) - 1 else set()
        missing = sorted(wanted - found - may_omit)
        extra = sorted(found - wanted)
        if "%" in PLACEHOLDER.sub("", string) and "%" not in PLACEHOLDER.sub("", ids[-1]):
            extra.append("%")  # a lone percent sign breaks the formatting: write %%
        if missing or extra:
            form = f" (form {index})" if len(ids) > 1 else ""
            problems.append(f"{ids[0]!r}{form}: missing {missing}, unexpected {extra}")
    return problems


@pytest.mark.parametrize("language", ["de", "en", "tr", "ar", "de_x_simple"])
def test_translations_keep_the_placeholders_of_their_msgid(language: str) -> None:
    problems = [
        problem
        for message in _catalog(language)
        if message.id
        for problem in _placeholder_problems(message.id, _strings(message))
    ]
    assert not problems, (
        f"{len(problems)} {language} translation(s) change placeholders, tags or fields:\n  "
        + "\n  ".join(problems)
    )


def test_placeholder_check_finds_lost_renamed_and_added_placeholders() -> None:
    assert _placeholder_problems("Page %(current)s of %(total)s", ["Sayfa %(current)s"]) == [
        "'Page %(current)s of %(total)s': missing ['%(total)s'], unexpected []"
    ]
    assert _placeholder_problems("We have chosen {area}.", ["اخترنا {region}."]) == [
        "'We have chosen {area}.': missing ['{area}'], unexpected ['{region}']"
    ]
    assert _placeholder_problems("95%% interval", ["95 % aralığı"]) == [
        "'95%% interval': missing ['%%'], unexpected ['%']"
    ]
    assert _placeholder_problems('Read <a href="/x">this</a>', ["Lies <b>das</b>"]) == [
        "'Read <a href=\"/x\">this</a>': missing ['</a>', '<a href=\"/x\">'], "
        "unexpected ['</b>', '<b>']"
    ]
    # Arabic: the forms for zero, one and two may say the number in words, the others may not.
    plural = ("%(num)s person answered.", "%(num)s people answered.")
    words = ["لم يُجب أحد.", "أجاب شخص واحد.", "أجاب شخصان."]
    forms = [*words, "أجاب %(num)s أشخاص.", "أجاب %(num)s شخص.", "أجاب شخصًا."]
    assert _placeholder_problems(plural, forms) == [
        "'%(num)s person answered.' (form 5): missing ['%(num)s'], unexpected []"
    ]
    assert not _placeholder_problems("Open", ["Açık"])


def test_arabic_plural_forms_follow_the_number() -> None:
    token = i18n.set_language("ar")
    try:
        one = i18n.ngettext("About %(num)s minute", "About %(num)s minutes", 1)
        two = i18n.ngettext("About %(num)s minute", "About %(num)s minutes", 2)
        five = i18n.ngettext("About %(num)s minute", "About %(num)s minutes", 5)
        assert len({one, two, five}) == 3
        assert "5" in five
    finally:
        i18n._current.reset(token)


def test_only_arabic_is_right_to_left() -> None:
    assert i18n.text_direction("ar") == "rtl"
    assert [code for code in i18n.KNOWN_LANGUAGES if i18n.text_direction(code) == "rtl"] == ["ar"]


def test_content_falls_back_visibly_to_german() -> None:
    texts = {"de": "Wie alt sind Sie?", "en": "How old are you?"}
    assert i18n.pick(texts, "ar") == "Wie alt sind Sie?"
    assert i18n.falls_back(texts, "ar")
    assert i18n.picked_language(texts, "ar") == "de"
    assert not i18n.falls_back(texts, "en")
    assert not i18n.falls_back(texts, "de-x-simple")  # plain German is the same language
    assert i18n.pick({**texts, "ar": "كم عمرك؟"}, "ar") == "كم عمرك؟"


def test_a_deployment_enables_languages() -> None:
    try:
        i18n.configure_languages(("en", "tr"))
        assert i18n.UI_LANGUAGES == ("de", "en", "tr")
        assert i18n.negotiate(None, None, "ar, tr;q=0.5") == "tr"  # first *enabled* language
        assert i18n.negotiate("ar", None, None) == "de"
    finally:
        i18n.configure_languages(i18n.KNOWN_LANGUAGES)
    assert i18n.negotiate(None, None, "ar, tr;q=0.5") == "ar"


def test_easy_read_catalogue_carries_only_current_texts_all_translated() -> None:
    """The easy-read catalogue is edited by hand (`make messages` leaves it alone): every text
    it carries must still be in the code, complete and not fuzzy."""
    extracted = _extracted()
    easy = _catalog("de_x_simple")
    stale = [
        repr(message.id) for message in easy if message.id and _msgid(message) not in extracted
    ]
    assert not stale, "texts no longer in the code:\n  " + "\n  ".join(stale)
    carried = {_msgid(message): ["de_x_simple"] for message in easy if message.id}
    assert carried and not _untranslated(easy, carried)


def _msgid(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def test_easy_read_german_falls_back_to_german_for_texts_it_does_not_carry() -> None:
    token = i18n.set_language("de-x-simple")
    try:
        assert i18n.gettext("Start now") == "Jetzt anfangen"  # easy-read
        assert i18n.gettext("Skip to main content") == "Zum Hauptinhalt springen"  # German
        assert i18n.ngettext("About %(num)s minute", "About %(num)s minutes", 8) == (
            "Ungefähr 8 Minuten"
        )
        assert i18n.ngettext("at most %(num)s question", "at most %(num)s questions", 1) == (
            "höchstens 1 Frage"
        )
    finally:
        i18n._current.reset(token)
    token = i18n.set_language("de")
    try:
        assert i18n.gettext("Start now") == "Jetzt starten"
    finally:
        i18n._current.reset(token)


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


async def test_arabic_pages_are_right_to_left(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/login?lang=ar", headers=HTML)
    assert response.headers["content-language"] == "ar"
    assert '<html lang="ar" dir="rtl">' in response.text
    assert "تسجيل الدخول" in response.text  # "Sign in"
    turkish = await client.get("/login", headers={**HTML, "Accept-Language": "tr-TR,tr;q=0.9"})
    assert turkish.headers["content-language"] == "tr"
    assert '<html lang="tr" dir="ltr">' in turkish.text
    assert "Giriş yap" in turkish.text
    for code, name in (("tr", "Türkçe"), ("ar", "العربية")):
        assert f'hreflang="{code}"' in response.text and name in response.text


async def test_query_parameter_sets_the_language(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/login?lang=en", headers=HTML)
    assert response.headers["content-language"] == "en"
    assert '<html lang="en" dir="ltr">' in response.text


async def test_not_found_page_is_translated_and_states_its_language(
    client: AsyncTestClient[Litestar],
) -> None:
    german = await client.get("/no-such-page", headers=HTML)
    assert german.status_code == 404
    assert german.headers["content-language"] == "de"
    assert '<html lang="de" dir="ltr">' in german.text
    assert "Seite nicht gefunden" in german.text

    english = await client.get("/no-such-page", headers={**HTML, "Cookie": "quartier_lang=en"})
    assert english.headers["content-language"] == "en"
    assert '<html lang="en" dir="ltr">' in english.text
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


async def test_easy_read_german_is_a_choice_of_the_switch(
    client: AsyncTestClient[Litestar],
) -> None:
    """Easy-read German is offered after German and remembered like any language; the page
    then marks it (not German) as the current choice and says lang="de"."""
    page = (await client.get("/login", headers=HTML)).text
    switch = page[page.index('class="language-switch"') :]
    assert (
        switch.index('lang="de"') < switch.index('lang="de-x-simple"') < switch.index('lang="en"')
    )
    assert ">Leichte Sprache</a>" in switch
    chosen = await client.get(
        "/language", params={"lang": "de-x-simple", "next": "/login"}, follow_redirects=False
    )
    assert chosen.status_code == 303
    assert chosen.headers["set-cookie"].startswith("quartier_lang=de-x-simple;")
    page = (
        await client.get("/login", headers={**HTML, "Cookie": "quartier_lang=de-x-simple"})
    ).text
    assert '<html lang="de" dir="ltr">' in page
    assert 'hreflang="de-x-simple" dir="ltr" aria-current="true"' in page
    assert 'hreflang="de" dir="ltr" aria-current="true"' not in page


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
    assert '<html lang="de" dir="ltr">' in page
    assert page.index('class="skip-link" href="#main"') < page.index("<header")
    assert '<main id="main"' in page
    assert "<footer" in page
    assert 'href="/language?lang=en&amp;next=/login"' in page
    assert 'hreflang="de" dir="ltr" aria-current="true"' in page
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
