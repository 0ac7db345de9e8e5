"""Survey definitions: every question type valid and invalid, conditions and their paths,
the lifecycle with its phase guard, changes to published surveys, export/import, visibility."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from quartier.processes.phases import PhaseKey

from .conftest import Client, Headers, Json, MakeProcess, Surveys, definition, option, text


def _question(page: int, index: int, body: Json) -> Json:
    questions: Json = body["pages"][page]["questions"][index]
    return questions


async def _create(surveys: Surveys, body: Json, **settings: Any) -> Any:
    return await surveys.client.post(
        f"/api/v1/processes/{surveys.process_id}/surveys",
        json={"definition": body, **settings},
        headers=surveys.planner,
    )


def _fields(response: Any) -> dict[str, str]:
    problem = response.json()
    return {error["field"]: error["message"] for error in problem.get("errors") or []}


# -- creating --------------------------------------------------------------------------------


async def test_a_definition_with_every_question_type_is_created_as_a_draft(
    surveys: Surveys,
) -> None:
    response = await _create(surveys, definition())
    assert response.status_code == 201, response.text
    survey = response.json()
    assert response.headers["location"] == f"/api/v1/surveys/{survey['id']}"
    assert survey["status"] == "draft"
    assert survey["definition_version"] == 1
    assert survey["title"] == "Familien in Mitte"
    types = {q["type"] for page in survey["definition"]["pages"] for q in page["questions"]}
    assert types == {
        "social_area",
        "age_band",
        "single_choice",
        "multiple_choice",
        "ranking",
        "rating",
        "number",
        "short_text",
        "long_text",
    }
    condition = survey["definition"]["pages"][1]["questions"][1]["show_if"]
    assert condition == _question(1, 1, definition())["show_if"]


def _broken(change: Any) -> Json:
    body = definition()
    change(body)
    return body


def _set(page: int, index: int, **values: Any) -> Any:
    def change(body: Json) -> None:
        _question(page, index, body).update(values)

    return change


# (name, change, expected field, part of the message)
INVALID_QUESTIONS = [
    (
        "single choice with one option",
        _set(0, 2, options=[option("yes", "Ja")]),
        "definition.pages[0].questions[2].options",
        "length >= 2",
    ),
    (
        "duplicate option keys",
        _set(0, 2, options=[option("yes", "Ja"), option("yes", "Jawohl")]),
        "definition.pages[0].questions[2].options[1].key",
        "duplicate option key",
    ),
    (
        "option key other is reserved",
        _set(0, 2, options=[option("yes", "Ja"), option("other", "Anderes")]),
        "definition.pages[0].questions[2].options[1].key",
        "reserved",
    ),
    (
        "option key with capitals",
        _set(0, 2, options=[option("yes", "Ja"), option("Nein", "Nein")]),
        "definition.pages[0].questions[2].options[1].key",
        "regex",
    ),
    (
        "multiple choice max below min",
        _set(1, 0, min_selections=3, max_selections=2),
        "definition.pages[1].questions[0].max_selections",
        "less than min_selections",
    ),
    (
        "multiple choice max above options",
        _set(1, 0, max_selections=9),
        "definition.pages[1].questions[0].max_selections",
        "more than the options",
    ),
    (
        "rating need value outside the scale",
        _set(2, 0, need_values=[0, 1]),
        "definition.pages[2].questions[0].need_values[0]",
        "not a value of the scale",
    ),
    (
        "rating need values without categories",
        _set(2, 0, need_categories=[]),
        "definition.pages[2].questions[0].need_values",
        "together",
    ),
    (
        "rating scale too long",
        _set(2, 0, scale_max=11),
        "definition.pages[2].questions[0].scale_max",
        "<= 10",
    ),
    (
        "number minimum not below maximum",
        _set(2, 1, minimum=15, maximum=15),
        "definition.pages[2].questions[1].maximum",
        "greater than minimum",
    ),
    (
        "integer number with a fractional bound",
        _set(2, 1, maximum=15.5),
        "definition.pages[2].questions[1].maximum",
        "whole",
    ),
    (
        "number bound out of range",
        _set(2, 1, maximum=1e12),
        "definition.pages[2].questions[1].maximum",
        "<=",
    ),
    (
        "short text without length",
        _set(2, 3, max_length=0),
        "definition.pages[2].questions[3].max_length",
        ">= 1",
    ),
    (
        "long text too long",
        _set(2, 4, max_length=50_000),
        "definition.pages[2].questions[4].max_length",
        "<= 5000",
    ),
    (
        "ranking min above max",
        _set(1, 1, min_ranked=4, max_ranked=3),
        "definition.pages[1].questions[1].min_ranked",
        "more than max_ranked",
    ),
    (
        "social area not required",
        _set(0, 0, required=False),
        "definition.pages[0].questions[0].required",
        "must be required",
    ),
    (
        "social area at an unknown level",
        _set(0, 0, level="block"),
        "definition.pages[0].questions[0].level",
        "unknown area level",
    ),
    (
        "age band mapped to an unknown population band",
        lambda body: _question(0, 1, body)["options"][0].update(population_bands=["18_30"]),
        "definition.pages[0].questions[1].options[0].population_bands[0]",
        "unknown population age band",
    ),
    (
        "unknown need category",
        lambda body: _question(1, 0, body)["options"][0].update(need_categories=["pets"]),
        "definition.pages[1].questions[0].options[0].need_categories[0]",
        "unknown or inactive need category 'pets'",
    ),
    (
        "unknown question type",
        _set(0, 2, type="slider"),
        "definition.pages[0].questions[2]",
        "Invalid value 'slider'",
    ),
    (
        "unknown field",
        _set(0, 2, colour="red"),
        "definition.pages[0].questions[2].colour",
        "unknown field",
    ),
    (
        "text without German",
        _set(0, 2, text={"en": "Children?"}),
        "definition.pages[0].questions[2].text.de",
        "missing required field",
    ),
    (
        "label too long",
        lambda body: _question(0, 2, body)["options"][0].update(label={"de": "x" * 301}),
        "definition.pages[0].questions[2].options[0].label.de",
        "at most 300",
    ),
    (
        "no social area question",
        lambda body: body["pages"][0]["questions"].pop(0),
        "definition.pages",
        "needs one `social_area` question",
    ),
    (
        "two age band questions",
        lambda body: body["pages"][2]["questions"].append(
            {**_question(0, 1, body), "key": "age_again"}
        ),
        "definition.pages[2].questions[5].type",
        "at most one age_band",
    ),
    (
        "population sex neither female nor male",
        lambda body: _question(0, 2, body)["options"][0].update(population_sex="diverse"),
        "definition.pages[0].questions[2].options[0].population_sex",
        "Invalid enum value 'diverse'",
    ),
    (
        "two options mapped to one sex",
        lambda body: [
            option.update(population_sex="female") for option in _question(0, 2, body)["options"]
        ],
        "definition.pages[0].questions[2].options[1].population_sex",
        "another option already maps to 'female'",
    ),
    (
        "population sex on a multiple choice",
        lambda body: _question(1, 0, body)["options"][0].update(population_sex="female"),
        "definition.pages[1].questions[0].options[0].population_sex",
        "only the options of a single-choice question",
    ),
    (
        "two questions mapped to population sexes",
        lambda body: [
            _question(0, 2, body)["options"][1].update(population_sex="male"),
            body["pages"][2]["questions"].append(
                {
                    **_question(0, 2, body),
                    "key": "children_again",
                    "options": [
                        {**option, "population_sex": sex}
                        for option, sex in zip(
                            _question(0, 2, body)["options"], ("female", "male"), strict=True
                        )
                    ],
                }
            ),
        ],
        "definition.pages[2].questions[5].options[0].population_sex",
        "at most one question per survey map to population sexes",
    ),
    (
        "duplicate question key",
        _set(2, 3, key="household"),
        "definition.pages[2].questions[3].key",
        "duplicate question key",
    ),
    (
        "too many pages",
        lambda body: body.update(pages=body["pages"] * 17),
        "definition.pages",
        "length <= 50",
    ),
]


# Refused by the schema (msgspec) with 400; the rest by the document-wide rules with 422.
SCHEMA_ERRORS = {
    "single choice with one option",
    "option key with capitals",
    "rating scale too long",
    "number bound out of range",
    "short text without length",
    "long text too long",
    "unknown question type",
    "unknown field",
    "text without German",
    "too many pages",
    "population sex neither female nor male",
}


@pytest.mark.parametrize(
    ("name", "change", "field", "message"),
    INVALID_QUESTIONS,
    ids=[case[0] for case in INVALID_QUESTIONS],
)
async def test_invalid_definitions_are_refused_naming_the_field(
    surveys: Surveys, name: str, change: Any, field: str, message: str
) -> None:
    response = await _create(surveys, _broken(change))
    assert response.status_code == (400 if name in SCHEMA_ERRORS else 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = _fields(response)
    matching = {f: m for f, m in errors.items() if f.startswith(field)}
    assert matching, errors
    assert any(message in m for m in matching.values()), errors


async def test_options_mapped_to_population_sexes_are_kept_and_unmapped_ones_carry_nothing(
    surveys: Surveys,
) -> None:
    body = definition()
    yes, no = _question(0, 2, body)["options"]
    yes["population_sex"], no["population_sex"] = "female", "male"
    response = await _create(surveys, body)
    assert response.status_code == 201, response.text
    pages = response.json()["definition"]["pages"]
    assert [o.get("population_sex") for o in pages[0]["questions"][2]["options"]] == [
        "female",
        "male",
    ]
    # options that map to nothing have no such field (v1 documents are unchanged)
    assert all("population_sex" not in o for o in pages[1]["questions"][0]["options"])


# -- conditions ------------------------------------------------------------------------------

INVALID_CONDITIONS = [
    (
        "a later question",
        (2, 0),
        {"op": "all", "all": [{"op": "equals", "question": "household", "value": 2}]},
        "definition.pages[2].questions[0].show_if.all[0].question",
        "not asked before this one: 'household'",
    ),
    (
        "itself",
        (2, 1),
        {"op": "equals", "question": "household", "value": 3},
        "definition.pages[2].questions[1].show_if.question",
        "not asked before this one",
    ),
    (
        "an unknown question",
        (2, 1),
        {"op": "not", "not": {"op": "equals", "question": "pets", "value": "dog"}},
        "definition.pages[2].questions[1].show_if.not.question",
        "unknown question: 'pets'",
    ),
    (
        "an unknown option",
        (2, 1),
        {"op": "any", "any": [{"op": "equals", "question": "children", "value": "maybe"}]},
        "definition.pages[2].questions[1].show_if.any[0].value",
        "has no option 'maybe'",
    ),
    (
        "an unknown option of a multiple choice",
        (2, 1),
        {"op": "includes", "question": "missing", "option": "swimming_pool"},
        "definition.pages[2].questions[1].show_if.option",
        "has no option 'swimming_pool'",
    ),
    (
        "includes on a single choice",
        (2, 1),
        {"op": "includes", "question": "children", "option": "yes"},
        "definition.pages[2].questions[1].show_if.op",
        "needs a multiple-choice or ranking question",
    ),
    (
        "equals on a multiple choice",
        (2, 1),
        {"op": "equals", "question": "missing", "value": "kita"},
        "definition.pages[2].questions[1].show_if.op",
        "use `includes`",
    ),
    (
        "equals on a text",
        (2, 4),
        {"op": "equals", "question": "wish", "value": "Ruhe"},
        "definition.pages[2].questions[4].show_if.op",
        "cannot test a short_text question",
    ),
    (
        "a rating value outside the scale",
        (2, 1),
        {"op": "equals", "question": "safety", "value": 7},
        "definition.pages[2].questions[1].show_if.value",
        "not a value of the scale",
    ),
    (
        "nesting too deep",
        (2, 1),
        {
            "op": "not",
            "not": {
                "op": "not",
                "not": {
                    "op": "not",
                    "not": {
                        "op": "not",
                        "not": {
                            "op": "not",
                            "not": {"op": "equals", "question": "children", "value": "yes"},
                        },
                    },
                },
            },
        },
        "definition.pages[2].questions[1].show_if.not.not.not.not.not",
        "nest at most 5",
    ),
]


@pytest.mark.parametrize(
    ("where", "condition", "field", "message"),
    [case[1:] for case in INVALID_CONDITIONS],
    ids=[case[0] for case in INVALID_CONDITIONS],
)
async def test_conditions_refer_only_to_earlier_questions_and_their_options(
    surveys: Surveys, where: tuple[int, int], condition: Json, field: str, message: str
) -> None:
    body = definition()
    _question(*where, body)["show_if"] = condition
    response = await _create(surveys, body)
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/invalid-input"
    errors = _fields(response)
    assert field in errors, errors
    assert message in errors[field]


async def test_a_page_condition_may_not_refer_to_a_question_on_its_own_page(
    surveys: Surveys,
) -> None:
    body = definition()
    body["pages"][1]["show_if"] = {"op": "includes", "question": "missing", "option": "kita"}
    response = await _create(surveys, body)
    assert _fields(response) == {
        "definition.pages[1].show_if.question": "refers to a question that is not asked before "
        "this one: 'missing'"
    }


async def test_the_social_area_question_is_never_conditional(surveys: Surveys) -> None:
    body = definition()
    body["pages"].insert(
        0,
        {
            "key": "intro",
            "questions": [{**_question(0, 2, body), "key": "consent"}],
        },
    )
    body["pages"][1]["show_if"] = {"op": "equals", "question": "consent", "value": "yes"}
    errors = _fields(await _create(surveys, body))
    assert "must always be shown" in errors["definition.pages[1].show_if"]


# -- lifecycle -------------------------------------------------------------------------------


async def test_publish_and_close_are_explicit_transitions(surveys: Surveys) -> None:
    survey = await surveys.create()
    client, headers = surveys.client, surveys.planner
    url = f"/api/v1/surveys/{survey['id']}"
    closed_draft = await client.post(f"{url}/close", headers=headers)
    assert closed_draft.status_code == 409
    published = await client.post(f"{url}/publish", headers=headers)
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert published.json()["published_at"] is not None
    again = await client.post(f"{url}/publish", headers=headers)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    closed = await client.post(f"{url}/close", headers=headers)
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None
    change = await client.patch(url, json={"k_threshold": 6}, headers=headers)
    assert change.status_code == 409
    assert "read-only" in change.json()["detail"]


@pytest.mark.parametrize(
    ("phase", "publish"),
    [(PhaseKey.MEASURE_PLANNING, True), (PhaseKey.GUIDELINES, True), (PhaseKey.EVALUATION, False)],
)
async def test_publishing_needs_the_surveys_module_open(
    surveys: Surveys, make_process: MakeProcess, phase: PhaseKey, publish: bool
) -> None:
    process_id = await make_process(phase=phase, publish=publish)
    survey = await surveys.create(process_id=process_id)
    response = await surveys.client.post(
        f"/api/v1/surveys/{survey['id']}/publish", headers=surveys.planner
    )
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/phase-closed"


async def test_publishing_in_evaluation_is_allowed(
    surveys: Surveys, make_process: MakeProcess
) -> None:
    process_id = await make_process(phase=PhaseKey.EVALUATION)
    survey = await surveys.create(process_id=process_id, publish=True)
    assert survey["status"] == "published"


async def test_thresholds_are_bounded_and_consistent(surveys: Surveys) -> None:
    low = await _create(surveys, definition(), k_threshold=2)
    assert low.status_code == 400
    assert "k_threshold" in _fields(low)
    inverted = await _create(surveys, definition(), k_threshold=8, min_respondents=5)
    assert inverted.status_code == 422
    assert _fields(inverted) == {"min_respondents": "less than k_threshold"}


# -- changing a published survey -------------------------------------------------------------


def _edit(change: Any) -> Json:
    body = definition()
    change(body)
    return body


NON_BREAKING = [
    ("texts", lambda b: _question(0, 2, b).update(text=text("Wohnen Kinder bei Ihnen?"))),
    (
        "a new option",
        lambda b: _question(0, 2, b)["options"].append(option("sometimes", "Zeitweise")),
    ),
    (
        "a new optional question",
        lambda b: b["pages"][2]["questions"].append(
            {"type": "short_text", "key": "name_of_street", "text": text("Straße?")}
        ),
    ),
    ("a wider number range", _set(2, 1, maximum=20)),
    ("a looser maximum of selections", _set(1, 0, max_selections=4)),
    ("a longer text", _set(2, 3, max_length=80)),
    ("a question no longer required", _set(0, 2, required=False)),
]
BREAKING = [
    (
        "a removed question",
        lambda b: b["pages"][2]["questions"].pop(3),
        "question 'wish' was removed or renamed",
    ),
    ("a renamed question", _set(2, 3, key="wishes"), "question 'wish' was removed or renamed"),
    (
        "a removed option",
        lambda b: _question(1, 0, b)["options"].pop(3),
        "option 'doctor' of 'missing' was removed or renamed",
    ),
    (
        "a removed other",
        lambda b: (
            _question(1, 0, b).pop("other"),
            _question(1, 1, b)["show_if"]["any"].pop(1),
        ),
        "“other, please specify” of 'missing' was removed",
    ),
    (
        "a changed type",
        lambda b: _question(2, 3, b).update(type="long_text"),
        "type of 'wish' changed from short_text to long_text",
    ),
    ("a lower maximum", _set(2, 1, maximum=10), "maximum of 'household' lowered from 15 to 10"),
    ("a higher minimum", _set(2, 1, minimum=2), "minimum of 'household' raised from 1 to 2"),
    ("whole numbers only", _set(2, 2, integer=True), "'rent_share' now accepts whole numbers only"),
    ("a shorter text", _set(2, 3, max_length=20), "max_length of 'wish' lowered"),
    ("fewer selections", _set(1, 0, max_selections=2), "max_selections of 'missing' lowered"),
    ("another scale", _set(2, 0, scale_min=0), "scale of 'safety' changed"),
    ("a newly required question", _set(2, 3, required=True), "question 'wish' became required"),
    (
        "a new required question",
        lambda b: b["pages"][2]["questions"].append(
            {"type": "short_text", "key": "street", "text": text("Straße?"), "required": True}
        ),
        "new question 'street' is required",
    ),
    (
        "a changed condition",
        lambda b: b["pages"][1].update(
            show_if={"op": "equals", "question": "children", "value": "no"}
        ),
        "condition of page 'family' changed",
    ),
    (
        "changed need tags",
        lambda b: _question(1, 0, b)["options"][0].update(need_categories=["housing"]),
        "need categories of option 'kita' of 'missing' changed",
    ),
    (
        "a changed age mapping",
        lambda b: _question(0, 1, b)["options"][1].update(population_bands=["18_27"]),
        "population bands of age option 'from_27_to_44' changed",
    ),
    ("another area level", _set(0, 0, level="district_region"), "area level of 'area' changed"),
]


@pytest.mark.parametrize("change", [c[1] for c in NON_BREAKING], ids=[c[0] for c in NON_BREAKING])
async def test_published_definitions_accept_changes_that_keep_answers_valid(
    surveys: Surveys, change: Any
) -> None:
    survey = await surveys.create(publish=True)
    response = await surveys.client.patch(
        f"/api/v1/surveys/{survey['id']}",
        json={"definition": _edit(change)},
        headers=surveys.planner,
    )
    assert response.status_code == 200, response.text
    assert response.json()["definition_version"] == 2


@pytest.mark.parametrize(
    ("change", "message"), [c[1:] for c in BREAKING], ids=[c[0] for c in BREAKING]
)
async def test_published_definitions_refuse_breaking_changes_naming_them(
    surveys: Surveys, change: Any, message: str
) -> None:
    survey = await surveys.create(publish=True)
    url = f"/api/v1/surveys/{survey['id']}"
    response = await surveys.client.patch(
        url, json={"definition": _edit(change)}, headers=surveys.planner
    )
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"] == "/problems/breaking-change"
    assert message in problem["detail"]
    assert any(message in error["message"] for error in problem["errors"])
    unchanged = await surveys.client.get(url, headers=surveys.planner)
    assert unchanged.json()["definition_version"] == 1


async def test_drafts_change_freely_and_bump_their_version(surveys: Surveys) -> None:
    survey = await surveys.create()
    body = definition()
    body["pages"][2]["questions"].pop(3)
    response = await surveys.client.patch(
        f"/api/v1/surveys/{survey['id']}",
        json={"definition": body, "access_mode": "invitation"},
        headers=surveys.planner,
    )
    assert response.status_code == 200, response.text
    assert response.json()["definition_version"] == 2
    assert response.json()["access_mode"] == "invitation"
    same = await surveys.client.patch(
        f"/api/v1/surveys/{survey['id']}", json={"definition": body}, headers=surveys.planner
    )
    assert same.json()["definition_version"] == 2  # nothing changed, no new version


async def test_the_access_mode_of_a_published_survey_is_fixed(surveys: Surveys) -> None:
    survey = await surveys.create(publish=True)
    response = await surveys.client.patch(
        f"/api/v1/surveys/{survey['id']}",
        json={"access_mode": "invitation"},
        headers=surveys.planner,
    )
    assert response.status_code == 409
    assert _fields(response) == {"access_mode": "fixed once published"}


# -- export and import -----------------------------------------------------------------------


async def test_export_and_import_round_trip(
    surveys: Surveys, make_process: MakeProcess, writer: Headers
) -> None:
    survey = await surveys.create(publish=True, access_mode="invitation", k_threshold=6)
    exported = await surveys.client.get(f"/api/v1/surveys/{survey['id']}/export", headers=writer)
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    document = exported.json()
    assert document["format"] == "quartier-survey"
    assert document["access_mode"] == "invitation"
    assert "id" not in document

    other_process = await make_process()
    imported = await surveys.client.post(
        f"/api/v1/processes/{other_process}/surveys/import", json=document, headers=writer
    )
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    assert copy["id"] != survey["id"]
    assert copy["process_id"] == str(other_process)
    assert copy["status"] == "draft"
    again = await surveys.client.get(f"/api/v1/surveys/{copy['id']}/export", headers=writer)
    assert again.json() == document


async def test_imports_are_validated_like_creation(surveys: Surveys, writer: Headers) -> None:
    body = definition()
    _question(2, 0, body)["need_categories"] = ["unknown_need"]
    document = {"format": "quartier-survey", "format_version": 1, "definition": body}
    response = await surveys.client.post(
        f"/api/v1/processes/{surveys.process_id}/surveys/import", json=document, headers=writer
    )
    assert response.status_code == 422
    assert "definition.pages[2].questions[0].need_categories[0]" in _fields(response)
    wrong_format = await surveys.client.post(
        f"/api/v1/processes/{surveys.process_id}/surveys/import",
        json={**document, "format": "limesurvey"},
        headers=writer,
    )
    assert wrong_format.status_code == 400


# -- reading ---------------------------------------------------------------------------------


async def test_get_survey_in_the_negotiated_language_or_all(
    surveys: Surveys, client: Client
) -> None:
    survey = await surveys.create(publish=True)
    url = f"/api/v1/surveys/{survey['id']}"
    german = (await client.get(url)).json()
    assert german["language"] == "de"
    assert german["definition"]["title"] == "Familien in Mitte"
    english = await client.get(url, headers={"Accept-Language": "en"})
    assert english.headers["content-language"] == "en"
    page = english.json()["definition"]["pages"][0]
    assert page["title"] == "About you"
    assert page["questions"][2]["text"] == "Children at home?"
    assert page["questions"][2]["options"][0]["label"] == "Ja"  # no English: German
    every = (await client.get(url, params={"texts": "all"})).json()
    assert every["definition"]["title"] == {"de": "Familien in Mitte", "en": "Families in Mitte"}


async def test_drafts_are_hidden_from_the_public(
    surveys: Surveys, client: Client, reader: Headers
) -> None:
    draft = await surveys.create()
    published = await surveys.create(publish=True)
    assert (await client.get(f"/api/v1/surveys/{draft['id']}")).status_code == 404
    assert (await client.get(f"/api/v1/surveys/{draft['id']}", headers=reader)).status_code == 200
    listing = await client.get(f"/api/v1/processes/{surveys.process_id}/surveys")
    assert [item["id"] for item in listing.json()["items"]] == [published["id"]]
    staff = await client.get(
        f"/api/v1/processes/{surveys.process_id}/surveys", headers=surveys.planner
    )
    assert [item["id"] for item in staff.json()["items"]] == [draft["id"], published["id"]]


async def test_unknown_surveys_and_processes_are_404_problems(
    surveys: Surveys, client: Client
) -> None:
    for url in (
        f"/api/v1/surveys/{uuid.uuid4()}",
        f"/api/v1/processes/{uuid.uuid4()}/surveys",
    ):
        response = await client.get(url)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
    created = await client.post(
        f"/api/v1/processes/{uuid.uuid4()}/surveys",
        json={"definition": definition()},
        headers=surveys.planner,
    )
    assert created.status_code == 404


async def test_malformed_bodies_are_400_problems(surveys: Surveys) -> None:
    response = await surveys.client.post(
        f"/api/v1/processes/{surveys.process_id}/surveys",
        content=b"{not json",
        headers={**surveys.planner, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/malformed-json"
