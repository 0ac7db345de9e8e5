"""XLSForm import and export: the mapping of every question type, conditions as `relevant`,
translations as `label::Language (code)` columns, refusals naming sheet, row and column, and
the round trip through the API on real workbooks (tests/surveys/fixtures/, written with
openpyxl by fixtures/make_xlsforms.py)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import msgspec
import openpyxl
import pytest
from pyxform.xls2xform import convert

from quartier.surveys import schemas as s
from quartier.surveys import xlsform
from tests.surveys.conftest import Client, Headers, Json, Surveys, definition

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _workbook(survey: list[list[Any]], choices: list[list[Any]] | None = None) -> bytes:
    """A small XLSForm with the settings Quartier needs."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets = {
        "survey": survey,
        "choices": choices or [["list_name", "name", "label"]],
        "settings": [
            ["form_title", "purpose_de", "organiser_de", "privacy_note_de"],
            ["Test", "Zweck", "Amt", "Anonym"],
        ],
    }
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


AREA_ROW = ["select_one_from_file social_areas.csv", "area", "Gebiet", "yes", "district", None]
HEADER = ["type", "name", "label", "required", "area_level", "relevant"]


async def _import(client: Client, process_id: Any, headers: Headers, data: bytes) -> Any:
    return await client.post(
        f"/api/v1/processes/{process_id}/surveys/import/xlsform",
        json={"xlsform": _b64(data)},
        headers=headers,
    )


# -- round trip ----------------------------------------------------------------------------------


async def test_every_question_type_survives_export_and_import(
    surveys: Surveys, client: Client, planner: Headers
) -> None:
    created = await surveys.create(access_mode="invitation", k_threshold=7)
    exported = await client.get(f"/api/v1/surveys/{created['id']}/xlsform", headers=planner)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == xlsform.XLSX_MEDIA_TYPE
    assert "attachment" in exported.headers["content-disposition"]

    # The file is an XLSForm as ODK reads it: pyxform turns it into an XForm.
    xform = convert(xlsform=exported.content, validate=False).xform
    assert "<h:title>Familien in Mitte</h:title>" in xform
    assert "jr:itext(" in xform and 'lang="English (en)"' in xform

    imported = await _import(client, surveys.process_id, planner, exported.content)
    assert imported.status_code == 201, imported.text
    assert imported.headers["location"] == f"/api/v1/surveys/{imported.json()['id']}"
    again = imported.json()
    assert again["status"] == "draft"
    assert again["access_mode"] == "invitation"
    assert again["k_threshold"] == 7
    expected = msgspec.to_builtins(msgspec.convert(definition(), s.Definition))
    assert again["definition"] == expected


async def test_turkish_and_arabic_texts_survive_export_and_import(
    surveys: Surveys, client: Client, planner: Headers
) -> None:
    """Texts in every language Quartier has: `label::Turkish (tr)`, `label::Arabic (ar)` and
    Quartier's own `_tr`, `_ar` columns (a survey with them could not be exported before)."""
    body = definition()
    body["title"] |= {"tr": "Mitte'de aileler", "ar": "العائلات في ميته"}
    body["purpose"]["tr"] = "Cevaplar aileler için hizmet planlamaya yardımcı olur."
    area = body["pages"][0]["questions"][0]
    area["text"] |= {"tr": "Hangi bölgede yaşıyorsunuz?", "ar": "في أي منطقة تسكن؟"}
    children = body["pages"][0]["questions"][2]
    children["options"][0]["label"] |= {"tr": "Evet", "ar": "نعم"}
    safety = next(q for page in body["pages"] for q in page["questions"] if q["type"] == "rating")
    safety["min_label"]["tr"] = "hiç"
    created = await surveys.create(body)
    exported = await client.get(f"/api/v1/surveys/{created['id']}/xlsform", headers=planner)
    assert exported.status_code == 200, exported.text
    xform = convert(xlsform=exported.content, validate=False).xform
    assert 'lang="Turkish (tr)"' in xform and 'lang="Arabic (ar)"' in xform
    header = next(openpyxl.load_workbook(io.BytesIO(exported.content))["survey"].values)
    assert "label::Turkish (tr)" in header and "min_label_tr" in header

    imported = await _import(client, surveys.process_id, planner, exported.content)
    assert imported.status_code == 201, imported.text
    found = await client.get(f"/api/v1/surveys/{imported.json()['id']}?texts=all", headers=planner)
    assert found.json()["definition"] == msgspec.to_builtins(msgspec.convert(body, s.Definition))


def test_the_workbook_uses_the_xlsform_names_of_types_conditions_and_languages() -> None:
    document = msgspec.convert({"definition": definition()}, s.SurveyDocument)
    book = openpyxl.load_workbook(io.BytesIO(xlsform.write_xlsform(document)))
    rows = list(book["survey"].iter_rows(values_only=True))
    header = rows[0]
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:] if row[1]}
    assert "label::German (de)" in header and "label::English (en)" in header
    assert by_name["area"]["type"] == "select_one_from_file social_areas.csv"
    assert by_name["area"]["area_level"] == "planning_area"
    assert by_name["age"]["type"] == "select_one age"
    assert by_name["children"]["type"] == "select_one children"
    assert by_name["missing"]["type"] == "select_multiple missing"
    assert by_name["missing"]["constraint"] == "count-selected(.) >= 1 and count-selected(.) <= 3"
    assert by_name["missing_other"]["relevant"] == "selected(${missing}, 'other')"
    assert by_name["priorities"]["type"] == "rank priorities"
    assert by_name["priorities"]["relevant"] == (
        "selected(${missing}, 'kita') or selected(${missing}, 'other')"
    )
    assert by_name["family"]["type"] == "begin group"
    assert by_name["family"]["relevant"] == "${children} = 'yes'"
    assert by_name["safety"]["type"] == "range"
    assert by_name["safety"]["parameters"] == "start=1 end=5 step=1"
    assert by_name["household"]["type"] == "integer"
    assert by_name["household"]["constraint"] == ". >= 1 and . <= 15"
    assert by_name["rent_share"]["type"] == "decimal"
    assert by_name["wish"]["constraint"] == "string-length(.) <= 50"
    assert by_name["comments"]["appearance"] == "multiline"
    assert by_name["comments"]["relevant"] == "not(${safety} = 5)"
    choices = list(book["choices"].iter_rows(values_only=True))
    kita = next(row for row in choices if row[1] == "kita")
    assert "childcare" in kita
    under_27 = next(row for row in choices if row[1] == "under_27")
    assert "15_18 18_27" in under_27


# -- importing real workbooks --------------------------------------------------------------------


async def test_a_kobo_form_becomes_a_draft_survey(
    client: Client, process_id: Any, planner: Headers
) -> None:
    data = (FIXTURES / "kobo_familien_im_kiez.xlsx").read_bytes()
    response = await _import(client, process_id, planner, data)
    assert response.status_code == 201, response.text
    found = await client.get(f"/api/v1/surveys/{response.json()['id']}?texts=all", headers=planner)
    survey = found.json()["definition"]
    assert survey["title"] == {
        "de": "Familien im Kiez 2026",
        "en": "Families in the neighbourhood 2026",
    }
    assert survey["organiser"]["de"].startswith("Bezirksamt Neukölln")
    assert survey["estimated_minutes"] == 6
    assert [page["key"] for page in survey["pages"]] == ["ueber_sie", "familie", "kiez"]
    questions = {q["key"]: q for page in survey["pages"] for q in page["questions"]}
    # start and end (time stamps) are not questions; `fehlt_other` became “other”.
    assert list(questions) == [
        "wohngebiet", "alter", "kinder", "fehlt", "kinderzahl",
        "sicherheit", "prioritaeten", "miete", "anmerkung",
    ]  # fmt: skip
    assert {k: q["type"] for k, q in questions.items()} == {
        "wohngebiet": "social_area",
        "alter": "age_band",
        "kinder": "single_choice",
        "fehlt": "multiple_choice",
        "kinderzahl": "number",
        "sicherheit": "rating",
        "prioritaeten": "ranking",
        "miete": "number",
        "anmerkung": "long_text",
    }
    assert survey["pages"][1]["show_if"] == {"op": "equals", "question": "kinder", "value": "ja"}
    fehlt = questions["fehlt"]
    assert fehlt["other"]["label"] == {"de": "Etwas anderes", "en": "Something else"}
    assert fehlt["other"]["max_length"] == 120
    assert (fehlt["min_selections"], fehlt["max_selections"]) == (1, 3)
    assert fehlt["options"][0]["need_categories"] == ["childcare"]
    assert questions["alter"]["options"][1]["population_bands"] == ["27_45", "45_55"]
    assert (questions["sicherheit"]["scale_min"], questions["sicherheit"]["scale_max"]) == (1, 10)
    assert questions["miete"]["integer"] is False
    assert questions["anmerkung"]["show_if"] == {
        "op": "any",
        "any": [
            {"op": "not", "not": {"op": "equals", "question": "sicherheit", "value": 10}},
            {"op": "includes", "question": "fehlt", "option": "kita"},
        ],
    }
    assert questions["prioritaeten"]["show_if"] == {
        "op": "not",
        "not": {"op": "equals", "question": "alter", "value": "keine_angabe"},
    }


async def test_a_real_workbook_survives_import_export_and_import_again(
    client: Client, process_id: Any, planner: Headers
) -> None:
    """The Kobo workbook imported, its survey (with an easy-read German text added) exported:
    pyxform turns the export into an XForm with the three languages, and importing the export
    gives the same definition back."""
    data = (FIXTURES / "kobo_familien_im_kiez.xlsx").read_bytes()
    first = await _import(client, process_id, planner, data)
    assert first.status_code == 201, first.text
    survey_id = first.json()["id"]
    url = f"/api/v1/surveys/{survey_id}"
    original = (await client.get(f"{url}?texts=all", headers=planner)).json()["definition"]
    original["title"]["de-x-simple"] = "Familien im Kiez"
    original["pages"][0]["questions"][1]["text"]["de-x-simple"] = "Wie alt sind Sie?"
    updated = await client.patch(url, json={"definition": original}, headers=planner)
    assert updated.status_code == 200, updated.text
    original = (await client.get(f"{url}?texts=all", headers=planner)).json()["definition"]

    exported = await client.get(f"{url}/xlsform", headers=planner)
    assert exported.status_code == 200
    xform = convert(xlsform=exported.content, validate=False).xform
    for language in ("German (de)", "English (en)", "Easy German (de-x-simple)"):
        assert f'lang="{language}"' in xform, language
    again = await _import(client, process_id, planner, exported.content)
    assert again.status_code == 201, again.text
    found = await client.get(f"/api/v1/surveys/{again.json()['id']}?texts=all", headers=planner)
    assert found.json()["definition"] == original


async def test_what_cannot_be_mapped_is_refused_naming_every_row_and_column(
    client: Client, process_id: Any, planner: Headers
) -> None:
    data = (FIXTURES / "odk_standorte_geopoint.xlsx").read_bytes()
    response = await _import(client, process_id, planner, data)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("/invalid-input")
    assert [(e["field"], e["message"]) for e in problem["errors"]] == [
        (
            "xlsform.survey[3].type",
            "sheet survey, row 3, column type (A): the XLSForm type 'geopoint' has no Quartier "
            "counterpart",
        ),
        (
            "xlsform.survey[4].type",
            "sheet survey, row 4, column type (A): the XLSForm type 'note' has no Quartier "
            "counterpart",
        ),
    ]
    listed = await client.get(f"/api/v1/processes/{process_id}/surveys", headers=planner)
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        (
            [["text", "n", "Text", None, None, "${area} > '01'"]],
            "xlsform.survey[3].relevant",
            "only = and != compare answers, not '>'",
        ),
        (
            [["text", "n", "Text", None, None, "string-length(${area}) = 2"]],
            "xlsform.survey[3].relevant",
            "expected 'ref', found 'string-length'",
        ),
        (
            [["integer", "n", "Zahl", None, None, None]],
            "xlsform.survey[3].constraint",
            "a number needs both bounds",
        ),
        (
            [["text", "t", "Text", None, None, "${area} = '01' and"]],
            "xlsform.survey[3].relevant",
            "expected 'ref'",
        ),
        (
            [
                ["begin repeat", "kinder", "Kinder", None, None, None],
                ["text", "name", "Name", None, None, None],
                ["end repeat", None, None, None, None, None],
            ],
            "xlsform.survey[3].type",
            "repeats cannot be mapped",
        ),
    ],
)
async def test_refusals_name_the_row_and_column(
    client: Client,
    process_id: Any,
    planner: Headers,
    rows: list[list[Any]],
    field: str,
    message: str,
) -> None:
    data = _workbook([HEADER, AREA_ROW, *rows])
    response = await _import(client, process_id, planner, data)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors[0]["field"] == field
    assert message in errors[0]["message"]
    row = field.split("[")[1].split("]")[0]
    assert errors[0]["message"].startswith(f"sheet survey, row {row}, column ")


async def test_a_language_quartier_does_not_know_is_refused_naming_its_column(
    client: Client, process_id: Any, planner: Headers
) -> None:
    data = _workbook(
        [
            ["type", "name", "label::German (de)", "label::French (fr)", "required", "area_level"],
            ["select_one_from_file social_areas.csv", "area", "Gebiet", "Zone", "yes", "district"],
        ]
    )
    response = await _import(client, process_id, planner, data)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "xlsform.survey[2].label::French (fr)"
    assert "unknown language 'French (fr)'" in error["message"]
    assert "column label::French (fr) (D)" in error["message"]


async def test_the_mapped_definition_is_checked_like_any_other(
    client: Client, process_id: Any, planner: Headers
) -> None:
    """The definition checks are the API's: an unknown need category on a choice is named by
    its path in the definition."""
    data = _workbook(
        [HEADER, AREA_ROW, ["select_one yn", "yn", "Ja oder nein?", None, None, None]],
        [
            ["list_name", "name", "label", "need_categories"],
            ["yn", "yes", "Ja", "no_such_need"],
            ["yn", "no", "Nein", None],
        ],
    )
    response = await _import(client, process_id, planner, data)
    assert response.status_code == 422, response.text
    fields = [e["field"] for e in response.json()["errors"]]
    assert "definition.pages[1].questions[0].options[0].need_categories[0]" in fields


async def test_settings_residents_must_read_are_required(
    client: Client, process_id: Any, planner: Headers
) -> None:
    book = openpyxl.Workbook()
    book.active.title = "survey"
    for row in (HEADER, AREA_ROW):
        book.active.append(row)
    settings = book.create_sheet("settings")
    settings.append(["form_title", "purpose_de", "privacy_note_de"])
    settings.append(["Titel", "Zweck", "Anonym"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = await _import(client, process_id, planner, buffer.getvalue())
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "xlsform.settings[2].organiser"
    assert "column organiser_de" in error["message"]


async def test_a_file_that_is_not_a_workbook_is_refused(
    client: Client, process_id: Any, planner: Headers
) -> None:
    response = await _import(client, process_id, planner, b"type,name\ntext,a\n")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "xlsform"
    not_base64 = await client.post(
        f"/api/v1/processes/{process_id}/surveys/import/xlsform",
        json={"xlsform": "not base64!"},
        headers=planner,
    )
    assert not_base64.status_code == 400
    assert "xlsform" in not_base64.text


# -- expressions ---------------------------------------------------------------------------------


TYPES = {"a": "single_choice", "m": "multiple_choice", "r": "rating", "n": "number"}


@pytest.mark.parametrize(
    ("relevant", "condition"),
    [
        ("${a} = 'x'", {"op": "equals", "question": "a", "value": "x"}),
        ("${a} != 'x'", {"op": "not", "not": {"op": "equals", "question": "a", "value": "x"}}),
        ("selected(${a}, 'x')", {"op": "equals", "question": "a", "value": "x"}),
        ("selected(${m}, 'x')", {"op": "includes", "question": "m", "option": "x"}),
        ("${r} = 4", {"op": "equals", "question": "r", "value": 4}),
        ("${n} = 2.5", {"op": "equals", "question": "n", "value": 2.5}),
        (
            "${a} = 'x' and (selected(${m}, 'y') or not(${r} = 1))",
            {
                "op": "all",
                "all": [
                    {"op": "equals", "question": "a", "value": "x"},
                    {
                        "op": "any",
                        "any": [
                            {"op": "includes", "question": "m", "option": "y"},
                            {"op": "not", "not": {"op": "equals", "question": "r", "value": 1}},
                        ],
                    },
                ],
            },
        ),
    ],
)
def test_relevant_expressions_read_as_conditions_and_back(relevant: str, condition: Json) -> None:
    parsed = xlsform._ConditionParser(relevant, TYPES).parse()
    assert parsed == condition
    written = xlsform.condition_to_relevant(msgspec.convert(parsed, s.Condition))  # type: ignore[arg-type]
    assert xlsform._ConditionParser(written, TYPES).parse() == condition


@pytest.mark.parametrize(
    "relevant",
    ["${a} > 3", "count(${m}) = 2", "${a} = 'x' and", "selected(${m})", "${a} = ${r}", "true()"],
)
def test_expressions_beyond_conditions_are_refused(relevant: str) -> None:
    with pytest.raises(ValueError, match=r"expected|only =|cannot read|unexpected"):
        xlsform._ConditionParser(relevant, TYPES).parse()


async def test_export_needs_a_planner_or_a_surveys_token(
    surveys: Surveys, client: Client, reader: Headers
) -> None:
    created = await surveys.create()
    anonymous = await client.get(f"/api/v1/surveys/{created['id']}/xlsform")
    assert anonymous.status_code == 401
    with_token = await client.get(f"/api/v1/surveys/{created['id']}/xlsform", headers=reader)
    assert with_token.status_code == 200
    unknown = await client.get(
        "/api/v1/surveys/00000000-0000-7000-8000-000000000000/xlsform", headers=reader
    )
    assert unknown.status_code == 404


# -- options mapped to the population's sexes (issue #8 §4) --------------------------------------


async def test_options_mapped_to_population_sexes_survive_export_and_import(
    client: Client, process_id: Any, planner: Headers
) -> None:
    body = definition()
    children = body["pages"][0]["questions"][2]
    children["options"][0]["population_sex"] = "female"
    children["options"][1]["population_sex"] = "male"
    document = msgspec.convert({"definition": body}, s.SurveyDocument)
    data = xlsform.write_xlsform(document)
    book = openpyxl.load_workbook(io.BytesIO(data))
    choices = list(book["choices"].iter_rows(values_only=True))
    column = choices[0].index("population_sex")
    assert [row[column] for row in choices if row[0] == "children"] == ["female", "male"]
    assert all(row[column] is None for row in choices[1:] if row[0] != "children")
    imported = await _import(client, process_id, planner, data)
    assert imported.status_code == 201, imported.text
    assert imported.json()["definition"] == msgspec.to_builtins(msgspec.convert(body, s.Definition))


@pytest.mark.parametrize(
    ("kind", "sex", "message"),
    [
        ("select_multiple", "female", "only the choices of a select_one"),
        ("select_one", "diverse", "give female or male"),
    ],
)
async def test_a_population_sex_that_cannot_be_mapped_is_refused_naming_its_cell(
    client: Client, process_id: Any, planner: Headers, kind: str, sex: str, message: str
) -> None:
    data = _workbook(
        [HEADER, AREA_ROW, [f"{kind} g", "gender", "Geschlecht", None, None, None]],
        [
            ["list_name", "name", "label", "population_sex"],
            ["g", "woman", "weiblich", sex],
            ["g", "man", "männlich", None],
        ],
    )
    response = await _import(client, process_id, planner, data)
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == "xlsform.choices[2].population_sex"
    assert error["message"].startswith("sheet choices, row 2, column population_sex (D): ")
    assert message in error["message"]
