"""The resident survey flow as a browser without JavaScript uses it: HTML forms posted one
after the other. Answers travel in the signed hidden `state` field; nothing is stored before
the submission; the submission goes through the API's idempotent path."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.surveys import pages
from quartier.surveys.models import InvitationCode, SurveyResponse
from tests.surveys.conftest import Surveys, definition

Client = AsyncTestClient[Litestar]
HTML = {"Accept": "text/html"}

# -- a minimal form-filling browser ---------------------------------------------------------------


@dataclass
class Control:
    tag: str
    name: str
    value: str
    type: str = ""
    checked: bool = False
    formaction: str | None = None


@dataclass
class Form:
    action: str
    attributes: dict[str, str]
    controls: list[Control] = field(default_factory=list)

    def hidden(self) -> dict[str, str]:
        return {c.name: c.value for c in self.controls if c.type == "hidden"}

    def values(self) -> dict[str, list[str]]:
        """What the form sends as it is: every successful control but the buttons."""
        found: dict[str, list[str]] = {}
        for c in self.controls:
            if c.name and c.checked and c.type not in ("submit", "button"):
                found.setdefault(c.name, []).append(c.value)
        return found

    def button(self, value: str) -> Control:
        for control in self.controls:
            if control.type == "submit" and control.value == value:
                return control
        raise AssertionError(f"no button {value!r} in {[c.value for c in self.controls]}")


class _FormParser(HTMLParser):
    """Forms with their controls as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None
        self._textarea: Control | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=html.unescape(a.get("action", "")), attributes=a))
            return
        if not self.forms:
            return
        controls = self.forms[-1].controls
        if tag == "input":
            kind = a.get("type", "text")
            controls.append(
                Control(
                    tag,
                    a.get("name", ""),
                    a.get("value", ""),
                    kind,
                    "checked" in a or kind not in ("radio", "checkbox"),
                )
            )
        elif tag == "button":
            controls.append(
                Control(
                    tag,
                    a.get("name", ""),
                    a.get("value", ""),
                    a.get("type", "submit"),
                    formaction=a.get("formaction"),
                )
            )
        elif tag == "select":
            self._select = a.get("name", "")
        elif tag == "option" and self._select is not None and "selected" in a:
            controls.append(Control("option", self._select, a.get("value", ""), "select", True))
        elif tag == "textarea":
            self._textarea = Control(tag, a.get("name", ""), "", "textarea", True)
            controls.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(text: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(text)
    return [f for f in parser.forms if "/surveys/" in f.action]


@dataclass
class Resident:
    """One browser without JavaScript: a cookie jar (the client's) and the current page."""

    client: Client
    survey_id: str
    page: Any = None
    query: str = ""

    @property
    def text(self) -> str:
        return str(self.page.text)

    @property
    def status(self) -> int:
        return int(self.page.status_code)

    def form(self, marker: str = "") -> Form:
        found = [f for f in forms_of(self.text) if marker in " ".join(f.attributes)]
        assert found, f"no form {marker!r} on the page:\n{main_of(self.text)[:3000]}"
        return found[-1]

    async def open(self, query: str = "", headers: dict[str, str] | None = None) -> Resident:
        self.query = query
        self.page = await self.client.get(
            f"/surveys/{self.survey_id}{query}", headers={**HTML, **(headers or {})}
        )
        return self

    async def press(
        self, value: str, answers: dict[str, Any] | None = None, marker: str = ""
    ) -> Resident:
        form = self.form(marker)
        button = form.button(value)
        data: dict[str, Any] = form.values()
        data.update(answers or {})
        data[button.name] = button.value
        url = html.unescape(button.formaction) if button.formaction else form.action
        self.page = await self.client.post(url, data=data, headers=HTML)
        return self

    async def start(self, **answers: Any) -> Resident:
        return await self.press("start", answers, marker="data-survey-start")

    async def next(self, **answers: Any) -> Resident:
        return await self.press("continue", answers)

    async def back(self, **answers: Any) -> Resident:
        return await self.press("back", answers)

    async def send(self) -> Resident:
        return await self.press("submit")

    def heading(self) -> str:
        match = re.search(r"<h1[^>]*>(.*?)</h1>", self.text, re.S)
        assert match, main_of(self.text)
        return re.sub(r"<[^>]+>", "", match.group(1)).strip()

    def checked(self, name: str) -> list[str]:
        return [
            c.value for f in forms_of(self.text) for c in f.controls if c.name == name and c.checked
        ]

    def value(self, name: str) -> str:
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', self.text)
        return html.unescape(match.group(1)) if match else ""


def main_of(text: str) -> str:
    match = re.search(r"<main.*?</main>", text, re.S)
    return match.group(0) if match else text


def receipt_of(text: str) -> str:
    match = re.search(r'class="receipt" data-receipt>([^<]*)<', text)
    assert match, main_of(text)
    return match.group(1)


# -- fixtures -------------------------------------------------------------------------------------


def easy_read_definition() -> dict[str, Any]:
    body = definition()
    body["title"]["de-x-simple"] = "Familien im Kiez: Was brauchen Sie?"
    body["purpose"]["de-x-simple"] = "Wir wollen wissen: Was fehlt Familien?"
    body["pages"][0]["questions"][2]["text"]["de-x-simple"] = "Haben Sie Kinder?"
    return body


@pytest.fixture
async def survey_id(surveys: Surveys) -> str:
    survey = await surveys.create(easy_read_definition(), publish=True)
    return str(survey["id"])


@pytest.fixture
def resident(client: Client, survey_id: str) -> Resident:
    return Resident(client=client, survey_id=survey_id)


async def count_responses(engine: AsyncEngine, survey_id: str) -> int:
    async with async_sessionmaker(engine)() as db:
        return int(
            await db.scalar(
                select(func.count())
                .select_from(SurveyResponse)
                .where(SurveyResponse.survey_id == uuid.UUID(survey_id))
            )
            or 0
        )


async def stored_answers(engine: AsyncEngine, survey_id: str) -> list[dict[str, Any]]:
    async with async_sessionmaker(engine)() as db:
        rows = await db.scalars(
            select(SurveyResponse.answers).where(SurveyResponse.survey_id == uuid.UUID(survey_id))
        )
        return [dict(row) for row in rows]


FIRST_PAGE = {"q_area": "010101", "q_age": "from_27_to_44", "q_children": "yes"}
FAMILY = {"q_missing": ["kita", "homework"]}
PRIORITIES = {"q_priorities": ["counselling", "playground", ""]}
NEIGHBOURHOOD = {
    "q_safety": "2",
    "q_household": "4",
    "q_rent_share": "37,5",
    "q_wish": "Mehr Grün",
    "q_comments": "Danke!",
}


async def to_check_page(resident: Resident) -> Resident:
    await resident.open()
    await resident.start()
    await resident.next(**FIRST_PAGE)
    await resident.next(**FAMILY)
    await resident.next(**FAMILY, **PRIORITIES)
    await resident.next(**NEIGHBOURHOOD)
    assert resident.status == 200, main_of(resident.text)
    return resident


# -- the intro ------------------------------------------------------------------------------------


async def test_intro_says_what_for_who_asks_how_long_and_what_is_stored(
    resident: Resident,
) -> None:
    await resident.open()
    assert resident.status == 200
    main = main_of(resident.text)
    assert resident.heading() == "Familien in Mitte"
    assert "Die Antworten helfen, Angebote für Familien zu planen." in main  # purpose
    assert "Bezirksamt Mitte, Planungskoordination" in main  # organiser
    assert "Kinderarmut in Mitte vorbeugen" in main  # the process
    assert "Etwa 8 Minuten" in main
    assert "anonym" in main and "Cookie" in main  # privacy, and what the token does
    assert "Die Befragung ist anonym." in main  # the survey's own privacy note
    start = resident.form("data-survey-start")
    assert start.button("start").type == "submit"
    assert 'name="code"' not in main  # open survey: no invitation code
    # Only looking sets no respondent cookie.
    assert not any("quartier_rs_" in c for c in resident.page.headers.get_list("set-cookie"))


async def test_intro_in_english_and_easy_read_german(resident: Resident) -> None:
    await resident.open(headers={"Accept-Language": "en"})
    assert resident.heading() == "Families in Mitte"
    assert "About 8 minutes" in main_of(resident.text)

    await resident.open("?lang=de-x-simple")
    assert resident.heading() == "Familien im Kiez: Was brauchen Sie?"
    assert "Wir wollen wissen: Was fehlt Familien?" in resident.text
    # The easy-read choice travels with the form to every page.
    assert resident.form("data-survey-start").action.endswith("/respond?lang=de-x-simple")
    await resident.start()
    await resident.next(**FIRST_PAGE)
    await resident.back()
    assert "Haben Sie Kinder?" in resident.text


# -- pages, navigation, conditions ----------------------------------------------------------------


async def test_one_page_per_screen_with_progress_fieldsets_and_hints(resident: Resident) -> None:
    await resident.open()
    await resident.start()
    assert resident.status == 200
    main = main_of(resident.text)
    assert resident.heading() == "Über Sie"  # several questions: the page title is the <h1>
    assert "Seite 1 von 2" in main  # the family page is not shown until children = yes
    assert main.count("<fieldset") == 3  # area, age, children: choice groups
    assert '<legend class="legend">In welchem Gebiet wohnen Sie?</legend>' in main
    assert "Wie alt sind Sie? (freiwillig)" in main
    assert "Leben Kinder in Ihrem Haushalt?" in main and "Ihre Familie" not in main
    assert resident.page.headers["cache-control"] == "no-store"
    # Open survey: starting sets the respondent cookie (signed, HttpOnly, SameSite=Lax).
    cookie = next(c for c in resident.page.headers.get_list("set-cookie") if "quartier_rs_" in c)
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" in cookie
    assert cookie.startswith(f"__Host-quartier_rs_{uuid.UUID(resident.survey_id).hex}=")

    await resident.next(**FIRST_PAGE)
    assert "Seite 2 von 3" in main_of(resident.text)
    assert resident.heading() == "Was fehlt Ihrer Familie?"  # one question: it is the <h1>
    assert "Wählen Sie alle zutreffenden aus." in resident.text or "Select" not in resident.text


async def test_back_and_continue_keep_the_answers_without_javascript(
    resident: Resident, engine: AsyncEngine
) -> None:
    await resident.open()
    await resident.start()
    await resident.next(**FIRST_PAGE)
    await resident.next(**FAMILY)
    await resident.next(**FAMILY, **PRIORITIES)
    assert "Wie sicher fühlen Sie sich?" in resident.text
    # Back from a half-filled page keeps what was typed there, without validating it.
    await resident.back(q_household="4", q_wish="Bäume")
    assert resident.status == 200
    assert sorted(resident.checked("q_missing")) == ["homework", "kita"]
    await resident.back()
    assert resident.checked("q_area") == ["010101"]
    assert resident.checked("q_children") == ["yes"]
    await resident.next()
    await resident.next()
    assert resident.value("q_household") == "4"
    assert resident.value("q_wish") == "Bäume"
    # Nothing was stored on the way.
    assert await count_responses(engine, resident.survey_id) == 0


async def switch_language(resident: Resident, language: str, **answers: Any) -> Resident:
    """The header's language switch of a question or check page: a button posting the page's
    form to /respond?lang=… (it sits outside the form, joined to it by its `form` attribute)."""
    switch = re.search(
        rf'<button class="language-switch__button" type="submit" form="([^"]+)" '
        rf'formaction="([^"]+)" name="action" value="language" lang="{language}"',
        resident.text,
    )
    assert switch, resident.text[:3000]
    form = next(f for f in forms_of(resident.text) if f.attributes.get("id") == switch[1])
    data: dict[str, Any] = {**form.values(), **answers, "action": "language"}
    resident.page = await resident.client.post(html.unescape(switch[2]), data=data, headers=HTML)
    return resident


async def test_the_language_switch_keeps_the_answers_without_javascript(
    resident: Resident, engine: AsyncEngine
) -> None:
    await resident.open()
    await resident.start()
    await resident.next(**FIRST_PAGE)
    # Typed on the second page, not yet sent: the switch posts it along.
    await switch_language(resident, "en", **FAMILY)
    assert resident.status == 200
    assert '<html lang="en"' in resident.text
    assert "What does your family lack?" in main_of(resident.text)
    assert sorted(resident.checked("q_missing")) == ["homework", "kita"]
    # The choice is remembered, and the next posts stay in English.
    cookie = next(c for c in resident.page.headers.get_list("set-cookie") if "quartier_lang" in c)
    assert cookie.startswith("quartier_lang=en;") and "HttpOnly" in cookie
    assert resident.form().action.endswith("/respond?lang=en")
    await resident.back()
    assert '<html lang="en"' in resident.text
    assert resident.checked("q_area") == ["010101"]
    assert resident.checked("q_children") == ["yes"]

    await resident.next()
    await resident.next(**PRIORITIES)
    await resident.next(**NEIGHBOURHOOD)
    assert "Check your answers" in resident.heading()
    # On the check page the switch shows the check page again, in the other language.
    await switch_language(resident, "ar")
    assert '<html lang="ar" dir="rtl"' in resident.text
    assert main_of(resident.text).count('value="change:') == 10
    await resident.send()
    assert receipt_of(resident.text)
    assert await count_responses(engine, resident.survey_id) == 1


async def test_conditional_page_is_skipped_and_hidden_answers_are_not_sent(
    resident: Resident, engine: AsyncEngine
) -> None:
    await resident.open()
    await resident.start()
    await resident.next(**FIRST_PAGE)
    await resident.next(**FAMILY)
    await resident.next(**FAMILY, **PRIORITIES)
    await resident.back()
    await resident.back()
    # Now without children: the family page disappears.
    await resident.next(**{**FIRST_PAGE, "q_children": "no"})
    assert "Wie sicher fühlen Sie sich?" in resident.text
    assert "Seite 2 von 2" in main_of(resident.text)
    await resident.next(**NEIGHBOURHOOD)
    main = main_of(resident.text)
    assert "Was fehlt Ihrer Familie?" not in main
    await resident.send()
    assert resident.status == 200, main_of(resident.text)
    stored = await stored_answers(engine, resident.survey_id)
    assert len(stored) == 1
    assert stored[0]["children"] == "no"
    assert "missing" not in stored[0] and "priorities" not in stored[0]


async def test_a_question_revealed_by_an_answer_on_the_same_page_is_asked(
    resident: Resident,
) -> None:
    await resident.open()
    await resident.start()
    await resident.next(**FIRST_PAGE)
    assert "Was ist am wichtigsten?" not in resident.text
    await resident.next(**FAMILY)  # "kita" reveals the ranking on the same page
    assert resident.status == 200
    assert "Was ist am wichtigsten?" in resident.text
    assert "Platz 1" in resident.text and "Platz 3" in resident.text  # max_ranked = 3


# -- validation -----------------------------------------------------------------------------------


async def test_errors_are_summarised_and_linked_to_their_fields(resident: Resident) -> None:
    await resident.open()
    await resident.start()
    await resident.next(q_age="under_27")
    assert resident.status == 400
    main = main_of(resident.text)
    assert 'class="error-summary"' in main and "Es gibt ein Problem" in main
    assert (
        '<a href="#q_area">In welchem Gebiet wohnen Sie? – Bitte beantworten Sie diese Frage.</a>'
        in main
    )
    assert '<a href="#q_children">' in main
    assert 'id="q_area-error"' in main and 'aria-describedby="q_area-error"' in main
    assert "<title>Fehler:" in resident.text
    assert resident.checked("q_age") == ["under_27"]  # what was given stays

    await resident.next(q_area="010101", q_children="yes")
    await resident.next(q_missing=["kita", "homework", "youth_club", "doctor"])
    assert "Wählen Sie höchstens 3 Optionen." in main_of(resident.text) or "höchstens 3" in (
        main_of(resident.text)
    )
    await resident.next(q_missing=["other"])
    assert 'href="#o_missing"' in main_of(resident.text)  # "other" without its text


async def test_an_area_outside_the_survey_is_refused_on_its_page(resident: Resident) -> None:
    await resident.open()
    await resident.start()
    await resident.next(**{**FIRST_PAGE, "q_area": "080101"})  # Neukölln: not in scope
    assert resident.status == 400
    assert "Wählen Sie Ihr Gebiet aus der Liste.</a>" in main_of(resident.text)


async def test_errors_in_english(resident: Resident) -> None:
    resident.client.cookies.set("quartier_lang", "en")
    await resident.open()
    await resident.start()
    await resident.next()
    main = main_of(resident.text)
    assert "There is a problem" in main
    assert "Please answer this question." in main


async def test_numbers_accept_a_decimal_comma_and_refuse_text(resident: Resident) -> None:
    await resident.open()
    await resident.start()
    await resident.next(**{**FIRST_PAGE, "q_children": "no"})
    await resident.next(q_household="viele", q_rent_share="37,5")
    main = main_of(resident.text)
    assert '<a href="#q_household">' in main
    assert resident.value("q_household") == "viele"
    assert resident.value("q_rent_share") == "37,5"


async def test_tampered_state_is_refused(resident: Resident) -> None:
    await resident.open()
    await resident.start()
    form = resident.form()
    state = form.hidden()["state"]
    _body, _, mac = state.partition(".")
    forged = pages._b64(b'{"answers":{"area":"080101"},"nonce":"x"}') + "." + mac
    response = await resident.client.post(
        form.action,
        data={**form.hidden(), "state": forged, "action": "continue"},
        headers=HTML,
    )
    assert response.status_code in (400, 422)
    assert "Bitte beginnen Sie die Befragung neu" in response.text


# -- check, submit, confirmation ------------------------------------------------------------------


async def test_check_page_lists_every_shown_answer_with_change_buttons(
    resident: Resident,
) -> None:
    await to_check_page(resident)
    main = main_of(resident.text)
    assert resident.heading() == "Prüfen Sie Ihre Antworten, bevor Sie sie absenden"
    assert "Moabit West" in main  # the area by name
    assert "27 bis 44" in main
    assert "1. Beratung" in main and "2. Spielplatz" in main  # ranking in order
    assert "2 auf einer Skala von 1 (gar nicht sicher) bis 5 (sehr sicher)" in main
    assert "37,5" in main
    assert main.count('value="change:') == 10
    assert 'name="idempotency_key"' in main

    # Change → the page → Continue returns to the check page.
    await resident.press("change:neighbourhood")
    assert resident.value("q_wish") == "Mehr Grün"
    await resident.next(**{**NEIGHBOURHOOD, "q_wish": "Ein Café"})
    assert resident.heading() == "Prüfen Sie Ihre Antworten, bevor Sie sie absenden"
    assert "Ein Café" in main_of(resident.text)


async def test_submission_stores_one_response_and_shows_the_receipt(
    resident: Resident, engine: AsyncEngine
) -> None:
    await to_check_page(resident)
    assert await count_responses(engine, resident.survey_id) == 0
    await resident.send()
    assert resident.status == 200
    main = main_of(resident.text)
    assert "Vielen Dank – Ihre Antworten wurden gesendet" in main
    receipt = receipt_of(resident.text)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", receipt)
    assert "keine IP-Adresse" in main  # nothing personal is stored
    stored = await stored_answers(engine, resident.survey_id)
    assert len(stored) == 1
    assert stored[0]["area"] == "010101"
    assert stored[0]["missing"] == ["kita", "homework"]
    assert stored[0]["priorities"] == ["counselling", "playground"]
    assert stored[0]["rent_share"] == 37.5
    assert stored[0]["household"] == 4


async def test_double_submit_with_the_same_key_stores_one_response_and_the_same_receipt(
    resident: Resident, engine: AsyncEngine
) -> None:
    await to_check_page(resident)
    form = resident.form("data-survey-submit")
    data = {**form.hidden(), "action": "submit"}
    first = await resident.client.post(form.action, data=data, headers=HTML)
    again = await resident.client.post(form.action, data=data, headers=HTML)  # reload-resubmit
    assert first.status_code == again.status_code == 200
    assert receipt_of(first.text) == receipt_of(again.text)
    assert await count_responses(engine, resident.survey_id) == 1


async def test_offline_send_through_the_api_and_the_form_share_one_response(
    resident: Resident, engine: AsyncEngine
) -> None:
    """survey.js sends a queued submission to the JSON API with the key of the check page; a
    later form post of the same page finds the same response."""
    await to_check_page(resident)
    form = resident.form("data-survey-submit")
    api = await resident.client.post(
        form.attributes["data-api"],
        content=html.unescape(form.attributes["data-submission"]),
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": form.hidden()["idempotency_key"],
            "Respondent-Token": form.attributes["data-respondent-token"],
        },
    )
    assert api.status_code == 201, api.text
    page = await resident.client.post(
        form.action, data={**form.hidden(), "action": "submit"}, headers=HTML
    )
    assert page.status_code == 200
    assert receipt_of(page.text) == api.json()["receipt_code"]
    assert await count_responses(engine, resident.survey_id) == 1


async def test_the_same_browser_cannot_answer_twice(
    resident: Resident, engine: AsyncEngine
) -> None:
    await to_check_page(resident)
    first_run = resident.form("data-survey-submit")
    await to_check_page(resident)  # a second run in the same browser, before sending the first
    second_run = resident.form("data-survey-submit")
    assert first_run.hidden()["idempotency_key"] != second_run.hidden()["idempotency_key"]
    sent = await resident.client.post(
        first_run.action, data={**first_run.hidden(), "action": "submit"}, headers=HTML
    )
    assert "Ihre Antworten wurden gesendet" in sent.text
    again = await resident.client.post(
        second_run.action, data={**second_run.hidden(), "action": "submit"}, headers=HTML
    )
    assert again.status_code == 200
    assert "Sie haben schon teilgenommen" in again.text
    await resident.open()
    assert resident.heading() == "Sie haben schon teilgenommen"
    assert await count_responses(engine, resident.survey_id) == 1
    # Another browser (no cookie) may answer.
    resident.client.cookies.clear()
    await to_check_page(resident)
    await resident.send()
    assert "Ihre Antworten wurden gesendet" in resident.text
    assert await count_responses(engine, resident.survey_id) == 2


async def test_a_forged_respondent_cookie_is_ignored(resident: Resident) -> None:
    name = f"__Host-quartier_rs_{uuid.UUID(resident.survey_id).hex}"
    resident.client.cookies.set(name, "a-guessed-token-value.not-the-signature")
    await resident.open()
    await resident.start()
    set_cookies = resident.page.headers.get_list("set-cookie")
    assert any(c.startswith(name + "=") for c in set_cookies)  # replaced by a genuine one


# -- invitation codes -----------------------------------------------------------------------------


async def test_invitation_survey_asks_for_the_code_first(
    surveys: Surveys, client: Client, engine: AsyncEngine
) -> None:
    survey = await surveys.create(access_mode="invitation")
    codes = await client.post(
        f"/api/v1/surveys/{survey['id']}/invitation-codes",
        json={"count": 2},
        headers=surveys.planner,
    )
    assert codes.status_code == 200, codes.text
    code, other_code = [line.split(",")[0] for line in codes.text.splitlines()[1:]]
    published = await client.post(
        f"/api/v1/surveys/{survey['id']}/publish", headers=surveys.planner
    )
    assert published.status_code == 200, published.text
    resident = Resident(client=client, survey_id=str(survey["id"]))

    await resident.open()
    assert 'name="code"' in resident.text
    assert "Einladungscode" in main_of(resident.text)
    await resident.start(code="WRONG-CODE")
    assert '<a href="#code">' in main_of(resident.text)
    await resident.start(code=code.lower().replace("-", " "))  # as typed from the letter
    assert resident.heading() == "Über Sie"
    await resident.next(**FIRST_PAGE)
    await resident.next(**FAMILY)
    await resident.next(**FAMILY, **PRIORITIES)
    await resident.next(**NEIGHBOURHOOD)
    await resident.send()
    assert "Ihre Antworten wurden gesendet" in resident.text
    async with async_sessionmaker(engine)() as db:
        used = await db.scalar(
            select(func.count()).select_from(InvitationCode).where(InvitationCode.used.is_(True))
        )
    assert used == 1
    # No respondent cookie on invitation surveys; the used code cannot start again.
    assert not any("quartier_rs_" in c for c in client.cookies)
    await resident.open()
    await resident.start(code=code)
    assert "Dieser Einladungscode wurde bereits verwendet." in main_of(resident.text)
    await resident.start(code=other_code)
    assert resident.heading() == "Über Sie"


# -- social areas ---------------------------------------------------------------------------------


async def test_long_area_lists_are_a_select_grouped_by_parent_area(
    resident: Resident, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "RADIOS_UP_TO", 2)
    await resident.open()
    await resident.start()
    main = main_of(resident.text)
    assert '<select class="select" id="q_area" name="q_area"' in main
    assert '<optgroup label="Moabit">' in main and '<optgroup label="Wedding">' in main
    assert "data-survey-locate" in main  # "use my location" (shown by survey.js only)
    await resident.next(**FIRST_PAGE)
    await resident.back()
    assert '<option value="010101" selected>' in main_of(resident.text)


async def test_closed_survey_shows_no_start_button(
    surveys: Surveys, client: Client, resident: Resident
) -> None:
    closed = await client.post(
        f"/api/v1/surveys/{resident.survey_id}/close", headers=surveys.planner
    )
    assert closed.status_code == 200, closed.text
    await resident.open()
    assert "nimmt derzeit keine Antworten an" in main_of(resident.text)
    assert not [f for f in forms_of(resident.text) if "data-survey-start" in f.attributes]


async def test_draft_surveys_are_not_public(surveys: Surveys, client: Client) -> None:
    draft = await surveys.create()
    response = await client.get(f"/surveys/{draft['id']}", headers=HTML)
    assert response.status_code == 404


async def test_the_process_page_links_to_the_open_survey_and_staff_to_its_results(
    surveys: Surveys, client: Client, survey_id: str
) -> None:
    process = f"/processes/{surveys.process_id}"
    public = await client.get(process, headers=HTML)
    assert public.status_code == 200
    assert f'href="/surveys/{survey_id}"' in public.text
    assert "/results" not in main_of(public.text)
    staff = await client.get(process, headers={**HTML, **surveys.planner})
    assert f'href="/dashboard/surveys/{survey_id}/results"' in staff.text
    dashboard = await client.get("/dashboard", headers={**HTML, **surveys.planner})
    assert 'href="/dashboard/surveys"' in dashboard.text
