"""The survey builder pages: a planner creates a survey, adds pages and questions with
conditions, sees the API's definition checks at the fields, previews, publishes (and is told
what can no longer change), imports an XLSForm and prints letters — all as HTML forms."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from tests.surveys.conftest import Client, Headers, Surveys, definition

FIXTURES = Path(__file__).resolve().parent / "fixtures"

NEW_SURVEY = {
    "title_de": "Älter werden im Kiez",
    "title_en": "Growing older in the neighbourhood",
    "title_simple": "Alt werden im Kiez",
    "purpose_de": "Wir planen Angebote für ältere Menschen.",
    "organiser_de": "Bezirksamt Mitte",
    "privacy_note_de": "Anonym.",
    "estimated_minutes": "5",
    "level": "planning_area",
    "access_mode": "open",
}


def _as(client: Client, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The caller's session cookie into the client's jar (httpx drops a Cookie header on form
    posts), the CSRF header as it is."""
    client.cookies.clear()
    headers = dict(kwargs.pop("headers", None) or {})
    cookie = headers.pop("Cookie", "")
    if cookie:
        name, _sep, value = cookie.partition("=")
        client.cookies.set(name, value, domain="testserver.local")
    return {**kwargs, "headers": headers}


async def _get(client: Client, url: str, **kwargs: Any) -> Any:
    return await client.get(url, **_as(client, kwargs))


async def _post(client: Client, url: str, **kwargs: Any) -> Any:
    return await client.post(url, follow_redirects=False, **_as(client, kwargs))


async def _create(client: Client, process_id: Any, planner: Headers) -> str:
    response = await _post(
        client, f"/workspace/processes/{process_id}/surveys/new", data=NEW_SURVEY, headers=planner
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.endswith("?done=created")
    return location.split("/")[-1].split("?")[0]


async def _definition(client: Client, survey_id: str, planner: Headers) -> Any:
    found = await _get(client, f"/api/v1/surveys/{survey_id}?texts=all", headers=planner)
    return found.json()["definition"]


async def test_a_planner_builds_a_survey_with_a_conditional_question(
    client: Client, process_id: Any, planner: Headers
) -> None:
    form = await _get(client, f"/workspace/processes/{process_id}/surveys/new", headers=planner)
    assert form.status_code == 200
    assert 'name="csrf_token"' in form.text
    survey_id = await _create(client, process_id, planner)
    page = await _get(client, f"/workspace/surveys/{survey_id}", headers=planner)
    assert page.status_code == 200
    assert "Älter werden im Kiez" in page.text

    single = {
        "type": "single_choice",
        "page": "where",
        "key": "alone",
        "text_de": "Leben Sie allein?",
        "text_en": "Do you live alone?",
        "text_simple": "Wohnen Sie allein?",
        "required": "yes",
        "options": "yes | Ja | Yes | Ja | everyday_support\nno | Nein | No",
    }
    added = await _post(
        client, f"/workspace/surveys/{survey_id}/questions/new", data=single, headers=planner
    )
    assert added.status_code == 303, added.text
    new_page = await _post(
        client,
        f"/workspace/surveys/{survey_id}/pages",
        data={"page_key": "help", "page_title_de": "Hilfe", "page_show_if": "${alone} = 'yes'"},
        headers=planner,
    )
    assert new_page.status_code == 303, new_page.text
    rating = {
        "type": "rating",
        "page": "help",
        "key": "support",
        "text_de": "Wie gut sind Sie versorgt?",
        "min_label_de": "schlecht",
        "max_label_de": "gut",
        "scale_min": "1",
        "scale_max": "5",
        "need_values": "1 2",
        "need_categories": "everyday_support",
        "show_if": "not(${alone} = 'no')",
    }
    added = await _post(
        client, f"/workspace/surveys/{survey_id}/questions/new", data=rating, headers=planner
    )
    assert added.status_code == 303, added.text

    definition = await _definition(client, survey_id, planner)
    alone = definition["pages"][0]["questions"][1]
    assert alone["text"] == {
        "de": "Leben Sie allein?",
        "en": "Do you live alone?",
        "de-x-simple": "Wohnen Sie allein?",
    }
    assert alone["options"][0] == {
        "key": "yes",
        "label": {"de": "Ja", "en": "Yes", "de-x-simple": "Ja"},
        "need_categories": ["everyday_support"],
    }
    assert definition["pages"][1]["show_if"] == {
        "op": "equals",
        "question": "alone",
        "value": "yes",
    }
    support = next(q for q in definition["pages"][1]["questions"] if q["key"] == "support")
    assert support["show_if"] == {
        "op": "not",
        "not": {"op": "equals", "question": "alone", "value": "no"},
    }
    assert support["need_values"] == [1, 2]

    # The question form shows what is stored, the condition written back as an expression.
    edit = await _get(client, f"/workspace/surveys/{survey_id}/questions/support", headers=planner)
    assert edit.status_code == 200
    assert "not(${alone} = &#39;no&#39;)" in edit.text

    preview = await _get(client, f"/workspace/surveys/{survey_id}/preview", headers=planner)
    assert preview.status_code == 200
    assert "Leben Sie allein?" in preview.text
    assert "${alone} = &#39;yes&#39;" in preview.text
    english = await _get(client, f"/workspace/surveys/{survey_id}/preview?lang=en", headers=planner)
    assert "Do you live alone?" in english.text


async def test_a_planner_maps_a_gender_question_to_the_population_sexes(
    client: Client, process_id: Any, planner: Headers
) -> None:
    """Issue #8 §4: the options counted as women and as men in the representativeness, set
    and shown again by the question form, checked like the API."""
    survey_id = await _create(client, process_id, planner)
    gender = {
        "type": "single_choice",
        "page": "where",
        "key": "gender",
        "text_de": "Ihr Geschlecht?",
        "text_en": "Your gender?",
        "options": "woman | weiblich | female\nman | männlich | male\ndiverse | divers | diverse",
        "sex_female": "woman",
        "sex_male": "man",
    }
    url = f"/workspace/surveys/{survey_id}/questions"
    added = await _post(client, f"{url}/new", data=gender, headers=planner)
    assert added.status_code == 303, added.text
    definition = await _definition(client, survey_id, planner)
    options = definition["pages"][0]["questions"][1]["options"]
    assert [(o["key"], o.get("population_sex")) for o in options] == [
        ("woman", "female"),
        ("man", "male"),
        ("diverse", None),
    ]
    edit = await _get(client, f"{url}/gender", headers=planner)
    assert edit.status_code == 200
    assert 'name="sex_female"' in edit.text and 'value="woman"' in edit.text
    assert 'name="sex_male"' in edit.text and 'value="man"' in edit.text

    unknown = await _post(
        client, f"{url}/gender", data={**gender, "sex_male": "men"}, headers=planner
    )
    assert unknown.status_code == 400
    assert 'href="#sex_male"' in unknown.text
    twice = await _post(
        client, f"{url}/gender", data={**gender, "sex_male": "woman"}, headers=planner
    )
    assert twice.status_code == 400
    assert 'href="#sex_male"' in twice.text
    second = {**gender, "key": "gender_again", "sex_male": ""}
    refused = await _post(client, f"{url}/new", data=second, headers=planner)
    assert refused.status_code == 400
    assert "at most one question per survey map to population sexes" in refused.text

    # Removing the mapping: the options carry no population_sex any more.
    cleared = await _post(
        client,
        f"{url}/gender",
        data={**gender, "sex_female": "", "sex_male": ""},
        headers=planner,
    )
    assert cleared.status_code == 303, cleared.text
    definition = await _definition(client, survey_id, planner)
    options = definition["pages"][0]["questions"][1]["options"]
    assert all("population_sex" not in o for o in options)


async def test_the_api_definition_checks_are_shown_at_the_fields(
    client: Client, process_id: Any, planner: Headers
) -> None:
    survey_id = await _create(client, process_id, planner)
    duplicate = {
        "type": "short_text",
        "page": "where",
        "key": "area",
        "text_de": "Noch einmal?",
    }
    response = await _post(
        client, f"/workspace/surveys/{survey_id}/questions/new", data=duplicate, headers=planner
    )
    assert response.status_code == 400
    assert "duplicate question key" in response.text
    assert 'href="#key"' in response.text
    unknown = {**duplicate, "key": "later", "show_if": "${nowhere} = 'x'"}
    response = await _post(
        client, f"/workspace/surveys/{survey_id}/questions/new", data=unknown, headers=planner
    )
    assert response.status_code == 400
    assert "refers to an unknown question: &#39;nowhere&#39;" in response.text
    unreadable = {**duplicate, "key": "later", "show_if": "${area} > 3"}
    response = await _post(
        client, f"/workspace/surveys/{survey_id}/questions/new", data=unreadable, headers=planner
    )
    assert response.status_code == 400
    assert 'href="#show_if"' in response.text  # “the condition cannot be read: …”
    assert "only = and != compare answers" in response.text
    definition = await _definition(client, survey_id, planner)
    assert [q["key"] for q in definition["pages"][0]["questions"]] == ["area"]


async def test_publishing_explains_what_can_still_change_and_refuses_breaking_changes(
    client: Client, surveys: Surveys, planner: Headers
) -> None:
    survey = await surveys.create()
    published = await _post(client, f"/workspace/surveys/{survey['id']}/publish", headers=planner)
    assert published.status_code == 303
    page = await _get(client, published.headers["location"], headers=planner)
    assert 'id="what-can-change"' in page.text
    assert "Was sich noch ändern lässt" in page.text
    form = await _get(
        client, f"/workspace/surveys/{survey['id']}/questions/children", headers=planner
    )
    assert form.status_code == 200
    fields = {
        "key": "children",
        "text_de": "Leben Kinder in Ihrem Haushalt?",
        "required": "yes",
        "options": "yes | Ja\nmaybe | Vielleicht",  # `no` removed
    }
    refused = await _post(
        client,
        f"/workspace/surveys/{survey['id']}/questions/children",
        data=fields,
        headers=planner,
    )
    assert refused.status_code == 400
    assert "option &#39;no&#39; of &#39;children&#39; was removed or renamed" in refused.text
    # A new text is fine.
    fields["options"] = "yes | Ja | Yes\nno | Nein | No"
    fields["text_en"] = "Children in your home?"
    saved = await _post(
        client,
        f"/workspace/surveys/{survey['id']}/questions/children",
        data=fields,
        headers=planner,
    )
    assert saved.status_code == 303, saved.text
    closed = await _post(client, f"/workspace/surveys/{survey['id']}/close", headers=planner)
    assert closed.status_code == 303
    again = await _post(client, f"/workspace/surveys/{survey['id']}/close", headers=planner)
    assert again.status_code == 409


async def test_publishing_outside_a_survey_phase_says_why(
    client: Client, make_process: Any, planner: Headers
) -> None:
    from quartier.processes.phases import PhaseKey

    process_id = await make_process(phase=PhaseKey.RESOURCE_PROVISION)
    survey_id = await _create(client, process_id, planner)
    response = await _post(client, f"/workspace/surveys/{survey_id}/publish", headers=planner)
    assert response.status_code == 409
    assert 'href="#publish"' in response.text


async def test_an_xlsform_upload_becomes_a_draft_or_names_its_rows(
    client: Client, process_id: Any, planner: Headers
) -> None:
    page = await _get(client, f"/workspace/processes/{process_id}/surveys/import", headers=planner)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    good = (FIXTURES / "kobo_familien_im_kiez.xlsx").read_bytes()
    response = await _post(
        client,
        f"/workspace/processes/{process_id}/surveys/import",
        files={"xlsform": ("familien.xlsx", good)},
        headers=planner,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("?done=imported")
    bad = (FIXTURES / "odk_standorte_geopoint.xlsx").read_bytes()
    response = await _post(
        client,
        f"/workspace/processes/{process_id}/surveys/import",
        files={"xlsform": ("standorte.xlsx", bad)},
        headers=planner,
    )
    assert response.status_code == 400
    assert "sheet survey, row 3, column type (A)" in response.text
    assert "sheet survey, row 4, column type (A)" in response.text


async def test_letters_are_printed_from_the_survey_page(
    client: Client, surveys: Surveys, planner: Headers
) -> None:
    survey = await surveys.create(access_mode="invitation")
    page = await _get(client, f"/workspace/surveys/{survey['id']}", headers=planner)
    assert "Print letters (PDF)" in page.text or "Briefe drucken (PDF)" in page.text
    response = await _post(
        client, f"/workspace/surveys/{survey['id']}/letters", data={"count": "2"}, headers=planner
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 2
    refused = await _post(
        client, f"/workspace/surveys/{survey['id']}/letters", data={"count": "0"}, headers=planner
    )
    assert refused.status_code == 400
    assert 'href="#count"' in refused.text


async def test_the_builder_is_for_planners_only(
    client: Client, surveys: Surveys, login_as: Any
) -> None:
    survey = await surveys.create()
    anonymous = await _get(client, f"/workspace/surveys/{survey['id']}")
    assert anonymous.status_code in (302, 303, 401)
    moderator = await login_as("moderator")
    refused = await _get(client, f"/workspace/surveys/{survey['id']}", headers=moderator)
    assert refused.status_code == 403


async def test_uploaded_files_may_hold_nul_bytes_but_text_fields_may_not(
    client: Client, process_id: Any, planner: Headers
) -> None:
    """The NUL guard lets binary file parts through (an .xlsx holds NUL bytes) and still
    refuses a NUL in a text field of the same multipart form."""
    response = await _post(
        client,
        f"/workspace/processes/{process_id}/surveys/import",
        files={"xlsform": ("x.xlsx", b"PK\x03\x04\x00\x00 not really a workbook")},
        headers=planner,
    )
    assert response.status_code == 400
    assert "not a readable .xlsx XLSForm" in response.text
    response = await _post(
        client,
        f"/workspace/processes/{process_id}/surveys/import",
        data={"note": "a\x00b"},
        files={"xlsform": ("x.xlsx", b"PK")},
        headers=planner,
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "NUL characters are not allowed in any input."


async def test_questions_are_reordered_without_javascript_and_conditions_still_decide(
    client: Client, process_id: Any, planner: Headers
) -> None:
    survey_id = await _create(client, process_id, planner)
    base = f"/workspace/surveys/{survey_id}"
    for key, show_if in (("alone", ""), ("support", "${alone} = 'yes'")):
        question = {
            "type": "single_choice",
            "page": "where",
            "key": key,
            "text_de": f"Frage {key}",
            "options": "yes | Ja\nno | Nein",
            "show_if": show_if,
        }
        added = await _post(client, f"{base}/questions/new", data=question, headers=planner)
        assert added.status_code == 303, added.text
    new_page = await _post(
        client, f"{base}/pages", data={"page_key": "more", "page_title_de": "Mehr"}, headers=planner
    )
    assert new_page.status_code == 303, new_page.text
    last = {"type": "short_text", "page": "more", "key": "wish", "text_de": "Ihr Wunsch?"}
    assert (
        await _post(client, f"{base}/questions/new", data=last, headers=planner)
    ).status_code == 303

    async def order() -> list[list[str]]:
        definition = await _definition(client, survey_id, planner)
        return [[q["key"] for q in page["questions"]] for page in definition["pages"]]

    assert await order() == [["area", "alone", "support"], ["more_note", "wish"]]
    removed = await _post(client, f"{base}/questions/more_note/delete", headers=planner)
    assert removed.status_code == 303
    assert await order() == [["area", "alone", "support"], ["wish"]]
    page = await _get(client, base, headers=planner)
    assert "Move “area” down" in page.text or "„area“ nach unten" in page.text
    assert page.text.count(f'action="{base}/questions/area/move"') == 1  # first: down only
    assert page.text.count(f'action="{base}/questions/wish/move"') == 1  # last: up only

    # Up across the page boundary: to the end of the page before; the empty page goes.
    moved = await _post(
        client, f"{base}/questions/wish/move", data={"direction": "up"}, headers=planner
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{base}?done=saved#question-wish"
    assert await order() == [["area", "alone", "support", "wish"]]

    # A condition must refer to an earlier question: the definition checks refuse, nothing moves.
    refused = await _post(
        client, f"{base}/questions/support/move", data={"direction": "up"}, headers=planner
    )
    assert refused.status_code == 409
    assert "support" in refused.text
    assert await order() == [["area", "alone", "support", "wish"]]
    moved = await _post(
        client, f"{base}/questions/wish/move", data={"direction": "up"}, headers=planner
    )
    assert moved.status_code == 303
    assert await order() == [["area", "alone", "wish", "support"]]
    moved = await _post(
        client, f"{base}/questions/alone/move", data={"direction": "down"}, headers=planner
    )
    assert moved.status_code == 303
    assert await order() == [["area", "wish", "alone", "support"]]
    refused = await _post(
        client, f"{base}/questions/alone/move", data={"direction": "down"}, headers=planner
    )
    assert refused.status_code == 409
    assert "alone" in refused.text
    assert await order() == [["area", "wish", "alone", "support"]]

    # Already at an end, an unknown direction or question: nothing changes.
    for key, direction in (("area", "up"), ("support", "down"), ("alone", "sideways"), ("x", "up")):
        response = await _post(
            client, f"{base}/questions/{key}/move", data={"direction": direction}, headers=planner
        )
        assert response.status_code == 303
    assert await order() == [["area", "wish", "alone", "support"]]


async def test_pages_are_reordered_and_removed_without_javascript(
    client: Client, process_id: Any, planner: Headers
) -> None:
    """A page moves up or down with its questions and is removed with them; the definition
    checks still decide (a condition refers to an earlier question; the page with the social
    area question stays)."""
    survey_id = await _create(client, process_id, planner)
    base = f"/workspace/surveys/{survey_id}"
    for key, title in (("kids", "Kinder"), ("care", "Betreuung")):
        added = await _post(
            client, f"{base}/pages", data={"page_key": key, "page_title_de": title}, headers=planner
        )
        assert added.status_code == 303, added.text
    condition = {
        "type": "single_choice",
        "page": "kids",
        "key": "children",
        "text_de": "Kinder?",
        "options": "yes | Ja\nno | Nein",
    }
    assert (
        await _post(client, f"{base}/questions/new", data=condition, headers=planner)
    ).status_code == 303
    follow_up = {
        "type": "short_text",
        "page": "care",
        "key": "care_wish",
        "text_de": "Welche Betreuung?",
        "show_if": "${children} = 'yes'",
    }
    assert (
        await _post(client, f"{base}/questions/new", data=follow_up, headers=planner)
    ).status_code == 303

    async def order() -> list[tuple[str, list[str]]]:
        definition = await _definition(client, survey_id, planner)
        return [
            (page["key"], [q["key"] for q in page["questions"]]) for page in definition["pages"]
        ]

    before = await order()
    keys = [key for key, _ in before]
    assert keys[-2:] == ["kids", "care"], before
    page = await _get(client, base, headers=planner)
    assert page.text.count(f'action="{base}/pages/{keys[0]}/move"') == 1  # first: down only
    assert page.text.count(f'action="{base}/pages/care/move"') == 1  # last: up only
    assert f'action="{base}/pages/{keys[0]}/delete"' not in page.text  # the social area page

    # The follow-up would come before its condition: refused, nothing moves.
    refused = await _post(
        client, f"{base}/pages/care/move", data={"direction": "up"}, headers=planner
    )
    assert refused.status_code == 409
    assert "care_wish" in refused.text
    assert await order() == before
    moved = await _post(
        client, f"{base}/pages/kids/move", data={"direction": "up"}, headers=planner
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{base}?done=saved#page-kids"
    after = await order()
    assert [key for key, _ in after] == [*keys[:-3], "kids", keys[-3], "care"]
    assert dict(after)["kids"] == dict(before)["kids"]  # the page moved with its questions

    # Removing the page its follow-up depends on is refused; the follow-up's page goes.
    refused = await _post(client, f"{base}/pages/kids/delete", headers=planner)
    assert refused.status_code == 409
    assert await order() == after
    removed = await _post(client, f"{base}/pages/care/delete", headers=planner)
    assert removed.status_code == 303
    assert [key for key, _ in await order()] == [key for key, _ in after if key != "care"]
    # Unknown pages and directions change nothing.
    for path, data in (
        ("x/move", {"direction": "up"}),
        ("kids/move", {"direction": "sideways"}),
        ("x/delete", {}),
    ):
        response = await _post(client, f"{base}/pages/{path}", data=data, headers=planner)
        assert response.status_code == 303


async def test_a_planner_publishes_and_withdraws_the_results_as_open_data(
    client: Client, surveys: Surveys, planner: Headers
) -> None:
    survey = await surveys.create()
    base = f"/workspace/surveys/{survey['id']}"
    page = await _get(client, base, headers=planner)
    assert 'id="open-data"' in page.text and 'name="public" value="yes"' in page.text

    async def public() -> bool:
        found = await _get(client, f"/api/v1/surveys/{survey['id']}", headers=planner)
        return bool(found.json()["results_public"])

    published = await _post(client, f"{base}/open-data", data={"public": "yes"}, headers=planner)
    assert published.status_code == 303
    assert await public()
    page = await _get(client, base, headers=planner)
    assert 'name="public" value="no"' in page.text
    withdrawn = await _post(client, f"{base}/open-data", data={"public": "no"}, headers=planner)
    assert withdrawn.status_code == 303
    assert not await public()


async def test_changing_a_question_keeps_the_languages_the_builder_does_not_show(
    client: Client, surveys: Surveys, planner: Headers
) -> None:
    """The builder edits German, English and easy-read German; Turkish and Arabic texts written
    through the API (CreateSurvey, UpdateSurvey) stay when a planner changes the question."""
    body = definition()
    children = body["pages"][0]["questions"][2]
    assert children["key"] == "children"
    children["text"] |= {"tr": "Hanenizde çocuk var mı?", "ar": "هل يعيش أطفال في منزلك؟"}
    children["hint"] = {"de": "Unter 18 Jahren", "tr": "18 yaşın altında"}
    children["options"][0]["label"] |= {"tr": "Evet", "ar": "نعم"}
    children["options"][1]["label"] |= {"tr": "Hayır"}
    survey = await surveys.create(body)
    base = f"/workspace/surveys/{survey['id']}/questions/children"
    form = await _get(client, base, headers=planner)
    assert form.status_code == 200
    fields = {
        "key": "children",
        "text_de": "Leben Kinder in Ihrem Haushalt?",
        "text_en": "Children at home?",
        "hint_de": "Unter 18 Jahren",
        "required": "yes",
        "options": "yes | Ja | Yes\nno | Nein\nmaybe | Vielleicht",
    }
    saved = await _post(client, base, data=fields, headers=planner)
    assert saved.status_code == 303, saved.text
    question = (await _definition(client, survey["id"], planner))["pages"][0]["questions"][2]
    assert question["text"] == {
        "de": "Leben Kinder in Ihrem Haushalt?",
        "en": "Children at home?",
        "tr": "Hanenizde çocuk var mı?",
        "ar": "هل يعيش أطفال في منزلك؟",
    }
    assert question["hint"] == {"de": "Unter 18 Jahren", "tr": "18 yaşın altında"}
    labels = {option["key"]: option["label"] for option in question["options"]}
    assert labels == {
        "yes": {"de": "Ja", "en": "Yes", "tr": "Evet", "ar": "نعم"},
        "no": {"de": "Nein", "tr": "Hayır"},
        "maybe": {"de": "Vielleicht"},
    }


async def test_changing_a_published_question_keeps_its_other_option_as_it_was(
    client: Client, surveys: Surveys, planner: Headers
) -> None:
    """The form shows the "other" option's label only: its length and need categories stay as
    they are (a published survey refuses changed need categories, so a text change would
    otherwise be refused)."""
    body = definition()
    missing = body["pages"][1]["questions"][0]
    assert missing["key"] == "missing"
    missing["other"] = {
        "label": {"de": "Anderes", "tr": "Başka"},
        "max_length": 100,
        "need_categories": ["childcare"],
    }
    survey = await surveys.create(body, publish=True)
    form = await _get(
        client, f"/workspace/surveys/{survey['id']}/questions/missing", headers=planner
    )
    assert form.status_code == 200
    fields = {
        "key": "missing",
        "text_de": "Was fehlt Ihrer Familie?",
        "text_en": "What is your family missing?",
        "required": "yes",
        "options": form.text.split('id="options"', 1)[1].split(">", 1)[1].split("</textarea>")[0],
        "other_de": "Etwas anderes",
        "min_selections": "1",
        "max_selections": "3",
    }
    fields["options"] = fields["options"].replace("&#39;", "'").replace("&amp;", "&").strip()
    saved = await _post(
        client, f"/workspace/surveys/{survey['id']}/questions/missing", data=fields, headers=planner
    )
    assert saved.status_code == 303, saved.text
    question = (await _definition(client, survey["id"], planner))["pages"][1]["questions"][0]
    assert question["text"]["en"] == "What is your family missing?"
    assert question["other"] == {
        "label": {"de": "Etwas anderes", "tr": "Başka"},
        "max_length": 100,
        "need_categories": ["childcare"],
    }


async def test_the_texts_before_and_after_the_questions_are_changed_side_by_side(
    client: Client, surveys: Surveys, planner: Headers
) -> None:
    """Title, introduction, purpose, organiser, privacy note, thank-you text and minutes: a draft
    made by the API (or an XLSForm) gets its English and easy-read texts in the browser; a
    published survey takes new texts; the German text is required; Turkish stays."""
    body = definition()
    body["title"] = {"de": "Familien in Mitte", "tr": "Mitte'de aileler"}
    survey = await surveys.create(body)
    base = f"/workspace/surveys/{survey['id']}"
    builder = await _get(client, base, headers=planner)
    assert f'href="{base}/texts"' in builder.text
    form = await _get(client, f"{base}/texts", headers=planner)
    assert form.status_code == 200
    assert 'value="Familien in Mitte"' in form.text and 'id="title_simple"' in form.text
    assert "Texte vor und nach den Fragen" in form.text and "Dankestext" in form.text
    fields = {
        "title_de": "Familien in Mitte 2027",
        "title_en": "Families in Mitte 2027",
        "title_simple": "Familien in Mitte",
        "purpose_de": "Die Antworten helfen, Angebote für Familien zu planen.",
        "purpose_en": "The answers help to plan services for families.",
        "organiser_de": "Bezirksamt Mitte, Planungskoordination",
        "privacy_note_de": "Die Befragung ist anonym.",
        "thank_you_de": "Danke! Die Ergebnisse erscheinen im Herbst.",
        "thank_you_en": "Thank you! The results appear in autumn.",
        "estimated_minutes": "7",
    }
    saved = await _post(client, f"{base}/texts", data=fields, headers=planner)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{base}?done=saved"
    stored = await _definition(client, survey["id"], planner)
    assert stored["title"] == {
        "de": "Familien in Mitte 2027",
        "en": "Families in Mitte 2027",
        "de-x-simple": "Familien in Mitte",
        "tr": "Mitte'de aileler",
    }
    assert stored["thank_you"]["en"] == "Thank you! The results appear in autumn."
    assert stored["estimated_minutes"] == 7
    assert stored.get("intro") is None  # emptied: removed

    # Errors: at their fields and in the summary; nothing stored.
    wrong = {**fields, "title_de": "", "estimated_minutes": "500"}
    refused = await _post(client, f"{base}/texts", data=wrong, headers=planner)
    assert refused.status_code == 400
    assert 'class="error-summary"' in refused.text
    assert 'href="#title_de"' in refused.text and 'id="title_de-error"' in refused.text
    assert 'href="#estimated_minutes"' in refused.text
    # The definition checks of the API, at the field they name.
    too_long = await _post(
        client, f"{base}/texts", data={**fields, "title_en": "x" * 301}, headers=planner
    )
    assert too_long.status_code == 400
    assert 'href="#title_en"' in too_long.text and 'id="title_en-error"' in too_long.text
    assert (await _definition(client, survey["id"], planner))["estimated_minutes"] == 7

    # The disclosure thresholds, bounded as the API bounds them; the service's rule that
    # min_respondents is at least k is shown at its field; nothing stored on an error.
    form = await _get(client, f"{base}/texts", headers=planner)
    assert 'name="k_threshold"' in form.text and 'value="5"' in form.text
    assert "Schutz kleiner Gruppen" in form.text
    for wrong_settings, field in (
        ({"k_threshold": "2"}, "k_threshold"),
        ({"k_threshold": "x"}, "k_threshold"),
        ({"min_respondents": "10001"}, "min_respondents"),
        ({"k_threshold": "8", "min_respondents": "6"}, "min_respondents"),
    ):
        refused = await _post(
            client, f"{base}/texts", data={**fields, **wrong_settings}, headers=planner
        )
        assert refused.status_code == 400, wrong_settings
        assert f'href="#{field}"' in refused.text and f'id="{field}-error"' in refused.text
    settings_of = await _get(client, f"/api/v1/surveys/{survey['id']}", headers=planner)
    assert (settings_of.json()["k_threshold"], settings_of.json()["min_respondents"]) == (5, 10)
    saved = await _post(
        client,
        f"{base}/texts",
        data={**fields, "k_threshold": "7", "min_respondents": "20"},
        headers=planner,
    )
    assert saved.status_code == 303, saved.text
    settings_of = await _get(client, f"/api/v1/surveys/{survey['id']}", headers=planner)
    assert (settings_of.json()["k_threshold"], settings_of.json()["min_respondents"]) == (7, 20)

    # Published: new texts are still accepted.
    published = await _post(client, f"{base}/publish", headers=planner)
    assert published.status_code == 303
    fields["title_en"] = "Families in Mitte, 2027"
    saved = await _post(client, f"{base}/texts", data=fields, headers=planner)
    assert saved.status_code == 303, saved.text
    assert (await _definition(client, survey["id"], planner))["title"]["en"] == (
        "Families in Mitte, 2027"
    )


async def test_a_pages_title_and_condition_are_changed(
    client: Client, process_id: Any, planner: Headers
) -> None:
    survey_id = await _create(client, process_id, planner)
    base = f"/workspace/surveys/{survey_id}"
    question = {"type": "single_choice", "page": "where", "key": "alone", "text_de": "Allein?"}
    question["options"] = "yes | Ja\nno | Nein"
    assert (
        await _post(client, f"{base}/questions/new", data=question, headers=planner)
    ).status_code == 303
    added = await _post(
        client, f"{base}/pages", data={"page_key": "more", "page_title_de": "Mehr"}, headers=planner
    )
    assert added.status_code == 303
    builder = await _get(client, base, headers=planner)
    assert f'href="{base}/pages/more"' in builder.text
    form = await _get(client, f"{base}/pages/more", headers=planner)
    assert form.status_code == 200 and 'value="Mehr"' in form.text

    fields = {
        "page_title_de": "Mehr über Sie",
        "page_title_en": "More about you",
        "page_title_simple": "Mehr",
        "page_show_if": "${alone} = 'yes'",
    }
    saved = await _post(client, f"{base}/pages/more", data=fields, headers=planner)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{base}?done=saved#page-more"
    page = (await _definition(client, survey_id, planner))["pages"][1]
    assert page["title"] == {"de": "Mehr über Sie", "en": "More about you", "de-x-simple": "Mehr"}
    assert page["show_if"] == {"op": "equals", "question": "alone", "value": "yes"}

    # An expression that cannot be read, and a condition on the page's own question (the
    # definition checks): at the field, nothing stored.
    for condition in ("${alone} > 3", "${more_note} = 'x'"):
        refused = await _post(
            client,
            f"{base}/pages/more",
            data={**fields, "page_show_if": condition},
            headers=planner,
        )
        assert refused.status_code == 400, condition
        assert 'href="#page_show_if"' in refused.text and 'id="page_show_if-error"' in refused.text
    assert (await _definition(client, survey_id, planner))["pages"][1] == page

    # The condition removed.
    saved = await _post(
        client, f"{base}/pages/more", data={**fields, "page_show_if": ""}, headers=planner
    )
    assert saved.status_code == 303
    assert (await _definition(client, survey_id, planner))["pages"][1].get("show_if") is None
