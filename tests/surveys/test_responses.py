"""Responses: answer validation for every question type in the respondent's language, hidden
questions, what is stored (and what never is), pseudonyms, invitation codes, idempotent
submission, receipts, the phase guard, staff entry and CSV import."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import io
import uuid
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quartier.core import i18n, idempotency
from quartier.core.errors import Problem
from quartier.processes import participation
from quartier.processes import services as processes
from quartier.processes.phases import PhaseKey
from quartier.settings import Settings
from quartier.surveys import responses, services
from quartier.surveys import schemas as s
from quartier.surveys.models import (
    Channel,
    InvitationCode,
    SurveyResponse,
    survey_answer_options,
    survey_response_needs,
)
from tests.conftest import LoginFactory

from .conftest import Client, Headers, Json, Surveys, answers, definition

TOKEN = "rt-5b1f0c3e9a7d4e2f8c6b"


@pytest.fixture
def parsed() -> s.Definition:
    return msgspec.convert(definition(), s.Definition)


def _errors(parsed: s.Definition, language: str = "en", **changes: Any) -> dict[str, str]:
    token = i18n.set_language(language)
    try:
        found = responses.validate_answers(parsed, answers(**changes), {"missing": "Schwimmbad"})
    finally:
        i18n._current.reset(token)
    return {error.field: error.message for error in found}


# -- validation per question type ------------------------------------------------------------


def test_a_complete_response_is_valid(parsed: s.Definition) -> None:
    assert _errors(parsed) == {}
    assert _errors(parsed, missing=["kita", "other"], priorities=["library"]) == {}


INVALID_ANSWERS = [
    ("social area missing", {"area": None}, "area", "Please answer this question."),
    ("social area not a code", {"area": 10101}, "area", "Choose your area from the list."),
    ("age band unknown", {"age": "teen"}, "age", "Choose one of the options."),
    ("single choice unknown", {"children": "maybe"}, "children", "Choose one of the options."),
    ("single choice as a list", {"children": ["yes"]}, "children", "Choose one of the options."),
    ("required single choice", {"children": ""}, "children", "Please answer this question."),
    ("required multiple choice", {"missing": []}, "missing", "Please answer this question."),
    ("multiple choice twice", {"missing": ["kita", "kita"]}, "missing", "only once"),
    (
        "multiple choice too many",
        {"missing": ["kita", "homework", "youth_club", "doctor"]},
        "missing",
        "Choose at most 3 options.",
    ),
    ("multiple choice unknown", {"missing": ["spa"]}, "missing", "Choose from the options."),
    ("multiple choice as text", {"missing": "kita"}, "missing", "Choose from the options."),
    (
        "ranking too long",
        {"priorities": ["playground", "counselling", "sports", "library"]},
        "priorities",
        "Rank at most 3 options.",
    ),
    ("ranking twice", {"priorities": ["sports", "sports"]}, "priorities", "only once"),
    ("ranking unknown", {"priorities": ["zoo"]}, "priorities", "Choose from the options."),
    ("rating above the scale", {"safety": 6}, "safety", "Choose a value from 1 to 5."),
    ("rating as a boolean", {"safety": True}, "safety", "Choose a value from 1 to 5."),
    ("rating not whole", {"safety": 2.5}, "safety", "Choose a value from 1 to 5."),
    ("number below minimum", {"household": 0}, "household", "Enter a number from 1 to 15."),
    ("number as text", {"household": "4"}, "household", "Enter a number from 1 to 15."),
    ("number not whole", {"household": 2.5}, "household", "Enter a whole number."),
    ("decimal above maximum", {"rent_share": 100.5}, "rent_share", "from 0 to 100"),
    ("short text too long", {"wish": "x" * 51}, "wish", "Enter at most 50 characters."),
    ("short text as a number", {"wish": 7}, "wish", "Enter a text."),
    ("long text too long", {"comments": "x" * 501}, "comments", "Enter at most 500 characters."),
    ("unknown question", {"pets": "dog"}, "pets", "This question does not exist in this survey."),
]


@pytest.mark.parametrize(
    ("changes", "key", "message"),
    [case[1:] for case in INVALID_ANSWERS],
    ids=[case[0] for case in INVALID_ANSWERS],
)
def test_invalid_answers_name_the_question(
    parsed: s.Definition, changes: Json, key: str, message: str
) -> None:
    errors = _errors(parsed, **changes)
    assert list(errors) == [f"answers.{key}"]
    assert message in errors[f"answers.{key}"]


def test_valid_values_of_every_type(parsed: s.Definition) -> None:
    for changes in (
        {"safety": 1, "household": 15, "rent_share": 0},
        {"household": 4.0, "rent_share": 99.99},
        {"missing": ["doctor"], "priorities": None},
        {"age": "no_answer", "wish": "", "comments": None},
    ):
        assert _errors(parsed, **changes) == {}, changes


def test_other_needs_its_text_within_bounds(parsed: s.Definition) -> None:
    definition_ = parsed
    chosen = answers(missing=["other"])
    assert responses.validate_answers(definition_, chosen, {"missing": "Schwimmbad"}) == []
    missing = responses.validate_answers(definition_, chosen, {})
    assert [e.field for e in missing] == ["answers.missing"]
    too_long = responses.validate_answers(definition_, chosen, {"missing": "x" * 101})
    assert too_long[0].message == "Geben Sie höchstens 100 Zeichen ein."
    single = responses.validate_answers(definition_, answers(children="other"), {})
    assert single[0].message == "Wählen Sie eine der Antwortmöglichkeiten."  # no other offered


def test_messages_are_german_by_default(parsed: s.Definition) -> None:
    errors = _errors(parsed, "de", children=None, missing=["kita", "homework", "doctor", "x"])
    assert errors == {
        "answers.children": "Bitte beantworten Sie diese Frage.",
    }  # without children the family page is hidden: `missing` is not validated
    errors = _errors(parsed, "de", safety=9, missing=["kita"] * 2, household=1.5)
    assert errors == {
        "answers.missing": "Jede Antwortmöglichkeit kann nur einmal gewählt werden.",
        "answers.safety": "Wählen Sie einen Wert von 1 bis 5.",
        "answers.household": "Geben Sie eine ganze Zahl ein.",
    }


# -- conditional display ---------------------------------------------------------------------


def test_visible_questions_follow_the_answers(parsed: s.Definition) -> None:
    def keys(**changes: Any) -> list[str]:
        return [q.key for q in services.visible_questions(parsed, answers(**changes))]

    everything = [
        "area",
        "age",
        "children",
        "missing",
        "priorities",
        "safety",
        "household",
        "rent_share",
        "wish",
        "comments",
    ]
    assert keys() == everything
    assert keys(children="no") == [k for k in everything if k not in ("missing", "priorities")]
    assert "priorities" not in keys(missing=["homework"])
    assert "priorities" in keys(missing=["homework", "other"])
    assert "comments" not in keys(safety=5)
    pages = [page.key for page in services.visible_pages(parsed, answers(children="no"))]
    assert pages == ["about_you", "neighbourhood"]


def test_answers_to_hidden_questions_never_decide_visibility(parsed: s.Definition) -> None:
    # `priorities` depends on `missing`, which is on a page hidden without children.
    shown = services.visible_questions(parsed, answers(children="no", missing=["kita"]))
    assert "priorities" not in [q.key for q in shown]


def test_answers_to_hidden_questions_are_dropped_not_refused(parsed: s.Definition) -> None:
    hidden = answers(children="no", missing=["spa"], priorities=["zoo"], safety=5, comments="x")
    assert responses.validate_answers(parsed, hidden) == []
    prepared = responses.prepare(parsed, hidden)
    assert {"missing", "priorities", "comments"}.isdisjoint(prepared.answers)
    assert ("missing", "spa") not in prepared.options


def test_required_questions_on_hidden_pages_need_no_answer(parsed: s.Definition) -> None:
    assert responses.validate_answers(parsed, answers(children="no", missing=None)) == []


# -- submitting over HTTP --------------------------------------------------------------------


@pytest.fixture(params=["driver", "session"])
def submission_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Web submissions take the driver path when they can (`responses._submit_on_driver`);
    the session path stores them otherwise. Tests using this fixture run on both and expect
    the same stored rows and answers."""
    if request.param == "session":

        async def decline(*args: Any, **kwargs: Any) -> None:
            return None

        monkeypatch.setattr(responses, "_submit_on_driver", decline)
    return str(request.param)


async def _row(session: AsyncSession, receipt: str) -> SurveyResponse:
    row = await session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.receipt_code == responses.normalise_code(receipt)
        )
    )
    assert row is not None
    return row


async def test_a_submission_stores_answers_area_stratum_and_derived_rows(
    surveys: Surveys, session: AsyncSession, areas: dict[str, uuid.UUID], submission_path: str
) -> None:
    survey = await surveys.create(publish=True)
    response = await surveys.submit(
        survey["id"], answers(missing=["kita", "other"]), other={"missing": "Schwimmbad "}
    )
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert set(receipt) == {"survey_id", "receipt_code", "submitted_at"}
    code = receipt["receipt_code"]
    assert len(code) == 9 and code[4] == "-"
    assert response.headers["location"] == f"/api/v1/survey-receipts/{code}"
    row = await _row(session, code)
    assert row.area_id == areas["010101"]
    assert row.age_stratum == "from_27_to_44"
    assert row.channel == "web"
    assert row.definition_version == 1
    assert row.pseudonym is None
    assert row.answers["missing"] == ["kita", "other"]
    assert row.answers["_other"] == {"missing": "Schwimmbad"}
    options = (
        await session.execute(
            select(survey_answer_options.c.question_key, survey_answer_options.c.option_key)
            .where(survey_answer_options.c.response_id == row.id)
            .order_by(survey_answer_options.c.question_key, survey_answer_options.c.option_key)
        )
    ).all()
    assert [tuple(o) for o in options] == [
        ("age", "from_27_to_44"),
        ("children", "yes"),
        ("missing", "kita"),
        ("missing", "other"),
        ("priorities", "counselling"),
        ("priorities", "playground"),
        ("safety", "2"),
    ]
    needs = (
        await session.scalars(
            text(
                "SELECT c.key FROM survey_response_needs n JOIN need_categories c "
                "ON c.id = n.need_category_id WHERE n.response_id = :id ORDER BY c.key"
            ),
            {"id": row.id},
        )
    ).all()
    assert needs == ["childcare", "everyday_support", "safety"]


async def test_an_unmapped_age_option_leaves_the_stratum_empty(
    surveys: Surveys, session: AsyncSession
) -> None:
    survey = await surveys.create(publish=True)
    response = await surveys.submit(survey["id"], answers(age="no_answer", safety=4))
    row = await _row(session, response.json()["receipt_code"])
    assert row.age_stratum is None
    needs = await session.scalar(
        select(func.count())
        .select_from(survey_response_needs)
        .where(survey_response_needs.c.response_id == row.id)
    )
    assert needs == 3  # childcare, school_success, everyday_support; safety 4 expresses none


async def test_invalid_answers_are_a_422_in_the_respondents_language_and_store_nothing(
    surveys: Surveys, session: AsyncSession
) -> None:
    survey = await surveys.create(publish=True)
    bad = answers(children="maybe", household=99)
    german = await surveys.submit(survey["id"], bad)
    assert german.status_code == 422
    assert german.headers["content-type"].startswith("application/problem+json")
    problem = german.json()
    assert problem["type"] == "/problems/invalid-answers"
    assert problem["detail"] == "Einige Antworten fehlen oder sind ungültig."
    assert {e["field"]: e["message"] for e in problem["errors"]} == {
        "answers.children": "Wählen Sie eine der Antwortmöglichkeiten.",
        "answers.household": "Geben Sie eine Zahl von 1 bis 15 ein.",
    }
    english = await surveys.submit(survey["id"], bad, headers={"Accept-Language": "en"})
    assert english.headers["content-language"] == "en"
    assert {e["message"] for e in english.json()["errors"]} == {
        "Choose one of the options.",
        "Enter a number from 1 to 15.",
    }
    query = await surveys.client.post(
        f"/api/v1/surveys/{survey['id']}/responses?lang=en", json={"answers": {}}
    )
    assert query.json()["errors"][0]["message"] == "Please answer this question."
    assert await session.scalar(select(func.count()).select_from(SurveyResponse)) == 0


async def test_areas_outside_the_process_scope_are_refused(
    surveys: Surveys, session: AsyncSession
) -> None:
    survey = await surveys.create(publish=True)
    for code in ("080101", "0101", "nowhere"):  # another district; not a planning area; unknown
        response = await surveys.submit(survey["id"], answers(area=code))
        assert response.status_code == 422, code
        assert response.json()["errors"] == [
            {
                "field": "answers.area",
                "source": "body",
                "message": "Wählen Sie Ihr Gebiet aus der Liste.",
            }
        ]
    assert await session.scalar(select(func.count()).select_from(SurveyResponse)) == 0


async def test_malformed_submissions_are_400_problems(surveys: Surveys) -> None:
    survey = await surveys.create(publish=True)
    url = f"/api/v1/surveys/{survey['id']}/responses"
    extra = await surveys.client.post(url, json={"answers": answers(), "ip": "1.2.3.4"})
    assert extra.status_code == 400
    assert extra.json()["errors"][0]["field"] == "ip"
    nested = await surveys.client.post(url, json={"answers": {"area": {"code": "010101"}}})
    assert nested.status_code == 400
    missing = await surveys.client.post(url, json={})
    assert missing.status_code == 400
    unknown = await surveys.client.post(
        f"/api/v1/surveys/{uuid.uuid4()}/responses", json={"answers": answers()}
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


# -- when submissions are refused ------------------------------------------------------------


async def test_drafts_and_closed_surveys_take_no_responses(surveys: Surveys) -> None:
    draft = await surveys.create()
    assert (await surveys.submit(draft["id"])).status_code == 404
    survey = await surveys.create(publish=True)
    await surveys.client.post(f"/api/v1/surveys/{survey['id']}/close", headers=surveys.planner)
    closed = await surveys.submit(survey["id"])
    assert closed.status_code == 409
    assert closed.json()["type"] == "/problems/survey-not-open"


async def test_responses_are_refused_when_the_phase_closes_surveys(
    surveys: Surveys, engine: AsyncEngine
) -> None:
    survey = await surveys.create(publish=True)
    async with async_sessionmaker(engine)() as db, db.begin():
        await processes.activate_phase(
            db, surveys.process_id, PhaseKey.MEASURE_PLANNING, processes.SYSTEM
        )
    response = await surveys.submit(survey["id"])
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "/problems/phase-closed"
    assert "measure_planning" in problem["detail"]


# -- duplicates: pseudonyms ------------------------------------------------------------------


async def test_the_same_respondent_token_answers_once(
    surveys: Surveys, session: AsyncSession, settings: Settings, submission_path: str
) -> None:
    survey = await surveys.create(publish=True)
    first = await surveys.submit(survey["id"], headers={"Respondent-Token": TOKEN})
    assert first.status_code == 201
    second = await surveys.submit(survey["id"], headers={"Respondent-Token": TOKEN})
    assert second.status_code == 409
    assert second.json()["type"] == "/problems/already-answered"
    other = await surveys.submit(survey["id"], headers={"Respondent-Token": TOKEN + "-other"})
    assert other.status_code == 201  # another browser answers again: documented, not prevented
    without = await surveys.submit(survey["id"])
    assert without.status_code == 201

    row = await _row(session, first.json()["receipt_code"])
    salt = (
        await session.execute(
            text("SELECT pseudonym_salt FROM surveys WHERE id = :id"), {"id": row.survey_id}
        )
    ).scalar_one()
    expected = hmac.new(settings.secret_key.encode() + salt, TOKEN.encode(), hashlib.sha256)
    assert row.pseudonym == expected.digest()
    whole_row = (
        await session.execute(
            text("SELECT row_to_json(r)::text FROM survey_responses r WHERE id = :id"),
            {"id": row.id},
        )
    ).scalar_one()
    assert TOKEN not in whole_row
    assert TOKEN.encode().hex() not in whole_row
    assert hashlib.sha256(TOKEN.encode()).hexdigest() not in whole_row


async def test_pseudonyms_differ_between_surveys(surveys: Surveys, session: AsyncSession) -> None:
    one = await surveys.create(publish=True)
    two = await surveys.create(publish=True)
    a = await surveys.submit(one["id"], headers={"Respondent-Token": TOKEN})
    b = await surveys.submit(two["id"], headers={"Respondent-Token": TOKEN})
    assert a.status_code == b.status_code == 201
    first = await _row(session, a.json()["receipt_code"])
    second = await _row(session, b.json()["receipt_code"])
    assert first.pseudonym and second.pseudonym and first.pseudonym != second.pseudonym


async def test_respondent_tokens_are_bounded(surveys: Surveys) -> None:
    survey = await surveys.create(publish=True)
    short = await surveys.submit(survey["id"], headers={"Respondent-Token": "abc"})
    assert short.status_code == 400
    assert short.json()["errors"][0]["field"] == "Respondent-Token"


async def test_nothing_about_the_person_is_stored(surveys: Surveys, session: AsyncSession) -> None:
    survey = await surveys.create(publish=True)
    response = await surveys.submit(
        survey["id"],
        headers={
            "User-Agent": "Mozilla/5.0 (QuartierTestBrowser 99.1)",
            "X-Forwarded-For": "203.0.113.77",
            "Respondent-Token": TOKEN,
        },
    )
    assert response.status_code == 201
    columns = set(
        (
            await session.scalars(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'survey_responses'"
                )
            )
        ).all()
    )
    assert columns == {
        "id",
        "survey_id",
        "area_id",
        "age_stratum",
        "channel",
        "submitted_at",
        "receipt_code",
        "pseudonym",
        "definition_version",
        "answers",
        "record_key",  # random, for disclosure control (stats.cellkey)
        "sa_orm_sentinel",
        "created_at",
        "updated_at",
    }
    everything = await _every_table(session)
    for trace in ("QuartierTestBrowser", "Mozilla", "203.0.113.77", "127.0.0.1", "testclient"):
        assert trace not in everything


async def _every_table(session: AsyncSession) -> str:
    """Every row of every table of the database, as JSON text."""
    tables = (
        await session.scalars(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        )
    ).all()
    assert {"survey_responses", "idempotency_keys", "survey_invitation_codes"} <= set(tables)
    dumps = []
    for table in tables:
        dumps += (
            await session.scalars(text(f'SELECT row_to_json(t)::text FROM "{table}" t'))
        ).all()
    return " ".join(dumps)


async def test_nothing_about_the_person_is_stored_in_any_table(
    surveys: Surveys, session: AsyncSession, settings: Settings
) -> None:
    """Issue #8 §3: the whole database, idempotency records included, after an invitation
    survey was answered with an Idempotency-Key."""
    survey, codes = await _invitation_survey(surveys)
    response = await surveys.submit(
        survey["id"],
        invitation_code=codes[0],
        headers={
            "User-Agent": "Mozilla/5.0 (QuartierTestBrowser 99.1)",
            "X-Forwarded-For": "203.0.113.77",
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 201, response.text
    everything = await _every_table(session)
    for trace in ("QuartierTestBrowser", "203.0.113.77", "127.0.0.1", "testclient"):
        assert trace not in everything
    for code in codes:
        assert code not in everything and code.replace("-", "") not in everything
    assert await session.scalar(select(func.count()).select_from(idempotency.RECORDS)) == 1


async def test_the_idempotency_fingerprint_cannot_test_invitation_codes(
    surveys: Surveys, session: AsyncSession, settings: Settings
) -> None:
    """Regression (issue #8 §3): the fingerprint was an unkeyed SHA-256 of the body with the
    invitation code; hashing the stored answers with each code of the mailing list found the
    code used. Now it is keyed and leaves the code out: no code gives it, keyed or not."""
    survey, codes = await _invitation_survey(surveys)
    key = str(uuid.uuid4())
    body = {"answers": answers(), "invitation_code": codes[2]}
    first = await surveys.submit(
        survey["id"], headers={"Idempotency-Key": key}, invitation_code=codes[2]
    )
    assert first.status_code == 201
    stored = await session.scalar(select(idempotency.RECORDS.c.fingerprint))
    assert stored is not None
    submission = msgspec.convert(body, s.ResponseSubmission)
    operation = f"SubmitSurveyResponse:{survey['id']}".encode()
    for code in codes:
        candidate = msgspec.structs.replace(submission, invitation_code=code)
        encoded = msgspec.json.encode(candidate, order="sorted")
        assert hashlib.sha256(encoded).digest() != stored
        assert idempotency.fingerprint(settings.secret_key, operation, encoded) != stored
        assert idempotency.fingerprint(settings.secret_key, encoded) != stored
    # What it is: keyed, over the body without the code.
    without = msgspec.json.encode(
        msgspec.structs.replace(submission, invitation_code=None), order="sorted"
    )
    assert idempotency.fingerprint(settings.secret_key, operation, without) == stored
    assert idempotency.fingerprint("another secret", operation, without) != stored


async def test_no_stored_time_links_an_invitation_code_to_its_response(
    surveys: Surveys, session: AsyncSession
) -> None:
    """Regression (issue #8 §3): the code's `used_at` lay 10 ms before the response's
    `submitted_at`. Now only `used` is kept and the code row's times are those of its
    creation."""
    survey, codes = await _invitation_survey(surveys)
    created = dict(
        (await session.execute(select(InvitationCode.id, InvitationCode.updated_at))).tuples().all()
    )
    response = await surveys.submit(survey["id"], invitation_code=codes[1])
    assert response.status_code == 201
    columns = set(
        (
            await session.scalars(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'survey_invitation_codes'"
                )
            )
        ).all()
    )
    assert columns == {
        "id",
        "survey_id",
        "code_hash",
        "used",
        "sa_orm_sentinel",
        "created_at",
        "updated_at",
    }
    session.expire_all()
    rows = (await session.execute(select(InvitationCode))).scalars().all()
    assert sum(row.used for row in rows) == 1
    for row in rows:
        assert row.updated_at == created[row.id]  # untouched by the use


# -- idempotency -----------------------------------------------------------------------------


async def test_a_retried_submission_returns_the_original_receipt(
    surveys: Surveys, session: AsyncSession, submission_path: str
) -> None:
    survey = await surveys.create(publish=True)
    headers = {"Idempotency-Key": str(uuid.uuid4()), "Respondent-Token": TOKEN}
    first = await surveys.submit(survey["id"], headers=headers)
    retry = await surveys.submit(survey["id"], headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["location"] == first.headers["location"]
    assert await session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    changed = await surveys.submit(survey["id"], answers(safety=5), headers=headers)
    assert changed.status_code == 422
    assert changed.json()["type"] == "/problems/idempotency-key-reused"
    assert await session.scalar(select(func.count()).select_from(SurveyResponse)) == 1


async def test_the_same_key_on_another_survey_is_another_submission(surveys: Surveys) -> None:
    one = await surveys.create(publish=True)
    two = await surveys.create(publish=True)
    headers = {"Idempotency-Key": "same-key-0001"}
    a = await surveys.submit(one["id"], headers=headers)
    b = await surveys.submit(two["id"], headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json()["receipt_code"] != b.json()["receipt_code"]


# -- receipts --------------------------------------------------------------------------------


async def test_a_receipt_confirms_arrival_and_nothing_else(
    surveys: Surveys, client: Client
) -> None:
    survey = await surveys.create(publish=True)
    receipt = (await surveys.submit(survey["id"])).json()
    typed = receipt["receipt_code"].replace("-", "").lower()
    response = await client.get(f"/api/v1/survey-receipts/{typed}")
    assert response.status_code == 200
    assert response.json() == {
        "receipt_code": receipt["receipt_code"],
        "submitted_at": receipt["submitted_at"],
    }
    missing = await client.get("/api/v1/survey-receipts/ZZZZ-ZZZZ")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    nonsense = await client.get("/api/v1/survey-receipts/%C3%A4%C3%B6")
    assert nonsense.status_code == 404


def test_codes_are_crockford_base32_and_forgiving() -> None:
    codes = {responses.new_receipt_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(c) == 8 and set(c) <= set(responses.CROCKFORD) for c in codes)
    assert responses.normalise_code(" 7kq2-mx9p ") == "7KQ2MX9P"
    assert responses.normalise_code("IOLo") == "1010"
    assert responses.format_code("7KQ2MX9P") == "7KQ2-MX9P"


# -- invitation codes ------------------------------------------------------------------------


async def _invitation_survey(surveys: Surveys, count: int = 5) -> tuple[Json, list[str]]:
    survey = await surveys.create(publish=True, access_mode="invitation")
    response = await surveys.client.post(
        f"/api/v1/surveys/{survey['id']}/invitation-codes",
        json={"count": count},
        headers=surveys.planner,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == count
    assert all(row["url"].endswith(f"/surveys/{survey['id']}") for row in rows)
    return survey, [row["code"] for row in rows]


async def test_invitation_codes_are_returned_once_and_kept_as_keyed_hashes(
    surveys: Surveys, session: AsyncSession, settings: Settings
) -> None:
    survey, codes = await _invitation_survey(surveys, count=20)
    assert len(set(codes)) == 20
    stored = (await session.scalars(select(InvitationCode.code_hash))).all()
    assert len(stored) == 20
    assert all(len(h) == 64 for h in stored)
    dump = " ".join(
        (
            await session.scalars(
                text("SELECT row_to_json(c)::text FROM survey_invitation_codes c")
            )
        ).all()
    )
    for code in codes:
        assert code not in dump and code.replace("-", "") not in dump
    survey_id = uuid.UUID(survey["id"])
    assert responses.invitation_hash(settings.secret_key, survey_id, codes[0]) in stored


async def test_each_invitation_code_answers_once_and_is_not_linked_to_the_response(
    surveys: Surveys, session: AsyncSession
) -> None:
    survey, codes = await _invitation_survey(surveys)
    without = await surveys.submit(survey["id"])
    assert without.status_code == 422
    assert without.json()["errors"][0]["field"] == "invitation_code"
    wrong = await surveys.submit(survey["id"], invitation_code="AAAAA-AAAAA")
    assert wrong.status_code == 422
    first = await surveys.submit(survey["id"], invitation_code=codes[0].lower())
    assert first.status_code == 201
    again = await surveys.submit(survey["id"], invitation_code=codes[0])
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/invitation-code-used"
    assert again.json()["detail"] == "Dieser Einladungscode wurde bereits verwendet."
    row = await _row(session, first.json()["receipt_code"])
    assert row.pseudonym is None
    assert codes[0] not in msgspec.json.encode(row.answers).decode()
    used = (await session.scalars(select(InvitationCode.used))).all()
    assert sum(used) == 1


async def test_a_code_used_twice_at_the_same_time_answers_exactly_once(
    surveys: Surveys, engine: AsyncEngine, settings: Settings
) -> None:
    survey, codes = await _invitation_survey(surveys, count=1)
    maker = async_sessionmaker(engine, expire_on_commit=False)
    started = asyncio.Event()

    async def attempt(hold: bool) -> str:
        async with maker() as db:
            loaded = await services.get_published_survey(db, uuid.UUID(survey["id"]))
            try:
                await services.submit_response(
                    db,
                    settings,
                    loaded,
                    s.ResponseSubmission(answers=answers(), invitation_code=codes[0]),
                    channel=Channel.WEB,
                    pseudonym_source=None,
                    invitation_code=codes[0],
                )
                if hold:
                    started.set()
                    await asyncio.sleep(0.3)  # the other attempt waits on the row lock
                await db.commit()
                return "stored"
            except Problem as problem:
                await db.rollback()
                return problem.slug
            finally:
                started.set()

    first = asyncio.create_task(attempt(hold=True))
    await started.wait()
    second = asyncio.create_task(attempt(hold=False))
    results = sorted(await asyncio.gather(first, second))
    assert results == ["invitation-code-used", "stored"]
    async with maker() as db:
        assert await db.scalar(select(func.count()).select_from(SurveyResponse)) == 1


async def test_invitation_codes_are_bounded_and_only_for_invitation_surveys(
    surveys: Surveys,
) -> None:
    open_survey = await surveys.create(publish=True)
    url = f"/api/v1/surveys/{open_survey['id']}/invitation-codes"
    assert (
        await surveys.client.post(url, json={"count": 3}, headers=surveys.planner)
    ).status_code == 409
    survey = await surveys.create(access_mode="invitation")
    url = f"/api/v1/surveys/{survey['id']}/invitation-codes"
    too_many = await surveys.client.post(url, json={"count": 10_001}, headers=surveys.planner)
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["field"] == "count"


# -- staff entry -----------------------------------------------------------------------------


async def test_staff_enter_paper_and_phone_responses(
    surveys: Surveys, session: AsyncSession, login_as: LoginFactory, writer: Headers
) -> None:
    survey = await surveys.create(publish=True)
    url = f"/api/v1/surveys/{survey['id']}/paper-responses"
    moderator = await login_as("moderator")
    paper = await surveys.client.post(url, json={"answers": answers()}, headers=moderator)
    assert paper.status_code == 201, paper.text
    phone = await surveys.client.post(
        url, json={"channel": "phone", "answers": answers(children="no")}, headers=writer
    )
    assert phone.status_code == 201
    assert (await _row(session, paper.json()["receipt_code"])).channel == "paper"
    assert (await _row(session, phone.json()["receipt_code"])).channel == "phone"
    invalid = await surveys.client.post(url, json={"answers": answers(safety=0)}, headers=writer)
    assert invalid.status_code == 422
    web = await surveys.client.post(
        url, json={"channel": "web", "answers": answers()}, headers=writer
    )
    assert web.status_code == 400
    await surveys.client.post(f"/api/v1/surveys/{survey['id']}/close", headers=surveys.planner)
    late = await surveys.client.post(url, json={"answers": answers()}, headers=writer)
    assert late.status_code == 201  # questionnaires collected while open arrive late


async def test_paper_entry_needs_a_published_survey(surveys: Surveys, writer: Headers) -> None:
    draft = await surveys.create()
    response = await surveys.client.post(
        f"/api/v1/surveys/{draft['id']}/paper-responses",
        json={"answers": answers()},
        headers=writer,
    )
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/survey-not-open"


# -- CSV import ------------------------------------------------------------------------------

HEADER = "area,age,children,missing,missing.other,priorities,safety,household,rent_share,wish"


async def _import(surveys: Surveys, survey: Json, csv_text: str, headers: Headers) -> Any:
    return await surveys.client.post(
        f"/api/v1/surveys/{survey['id']}/responses/import",
        json={"csv": csv_text},
        headers=headers,
    )


async def test_csv_import_stores_every_row(
    surveys: Surveys, session: AsyncSession, writer: Headers
) -> None:
    survey = await surveys.create(publish=True)
    rows = [
        HEADER,
        '010101,under_27,yes,kita|other,Schwimmbad,playground|sports,1,3,"41,5",Ruhe',
        "010102,from_45,no,,,,5,2,30,",
        "010201,,yes,homework,,,3,,,",
        "",
    ]
    response = await _import(surveys, survey, "\ufeff" + "\n".join(rows), writer)
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 3, "errors": []}
    stored = (
        await session.scalars(select(SurveyResponse).order_by(SurveyResponse.submitted_at))
    ).all()
    assert {r.channel for r in stored} == {"import"}
    first = next(r for r in stored if r.answers.get("wish") == "Ruhe")
    assert first.answers["missing"] == ["kita", "other"]
    assert first.answers["_other"] == {"missing": "Schwimmbad"}
    assert first.answers["rent_share"] == 41.5
    assert first.answers["household"] == 3
    assert first.age_stratum == "under_27"
    count = await session.scalar(select(func.count()).select_from(survey_response_needs))
    assert count == 3  # childcare and safety (line 2), school_success (line 4)


async def test_csv_import_is_all_or_nothing_with_row_errors(
    surveys: Surveys, session: AsyncSession, writer: Headers
) -> None:
    survey = await surveys.create(publish=True)
    rows = [
        HEADER,
        "010101,under_27,yes,kita,,,1,3,,",
        "080101,under_27,yes,kita,,,1,3,,",  # area outside the process's scope
        "010101,under_27,maybe,kita,,,1,3,,",  # unknown option
        "010101,under_27,yes,kita,,,1,3",  # too few cells
        "010101,under_27,yes,,,,1,3,,",  # required multiple choice unanswered
    ]
    response = await _import(surveys, survey, "\n".join(rows), writer)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/import-failed"
    fields = [e["field"] for e in problem["errors"]]
    assert fields == [
        "csv.lines[3].area",
        "csv.lines[4].children",
        "csv.lines[5].(row)",
        "csv.lines[6].missing",
    ]
    assert await session.scalar(select(func.count()).select_from(SurveyResponse)) == 0
    unknown_column = await _import(surveys, survey, "area,shoe_size\n010101,44\n", writer)
    assert unknown_column.status_code == 422
    assert unknown_column.json()["errors"][0]["field"] == "csv.lines[1].shoe_size"


async def test_csv_import_is_bounded(surveys: Surveys, writer: Headers) -> None:
    survey = await surveys.create(publish=True)
    rows = [HEADER] + ["010101,,no,,,,3,,,"] * (s.MAX_IMPORT_ROWS + 1)
    response = await _import(surveys, survey, "\n".join(rows), writer)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "csv"


# -- need rows carry the response's area and age stratum --------------------------------------

_NEED_ROWS = text(
    """
    SELECT response.channel, need.area_id, need.age_stratum
    FROM survey_response_needs need
    JOIN survey_responses response ON response.id = need.response_id
    """
)


async def test_need_rows_carry_the_area_and_age_stratum_of_every_channel(
    surveys: Surveys, session: AsyncSession, writer: Headers, areas: dict[str, uuid.UUID]
) -> None:
    """Aggregation counts need rows per area and stratum without the responses: each channel
    writes both onto the need rows."""
    survey = await surveys.create(publish=True)
    web = await surveys.submit(survey["id"], answers(missing=["kita"]))
    assert web.status_code == 201, web.text
    paper = await surveys.client.post(
        f"/api/v1/surveys/{survey['id']}/paper-responses",
        json={"answers": answers(area="010102", age="no_answer", missing=["homework"])},
        headers=writer,
    )
    assert paper.status_code == 201, paper.text
    rows = [HEADER, "010201,from_45,yes,kita,,,1,,,", "010101,under_27,yes,homework,,,5,,,"]
    imported = await _import(surveys, survey, "\n".join(rows), writer)
    assert imported.json() == {"imported": 2, "errors": []}

    found = {tuple(row) for row in await session.execute(_NEED_ROWS)}
    assert found == {
        ("web", areas["010101"], "from_27_to_44"),
        ("paper", areas["010102"], None),
        ("import", areas["010201"], "from_45"),
        ("import", areas["010101"], "under_27"),
    }
    mismatched = await session.scalar(
        text(
            """
            SELECT count(*) FROM survey_response_needs need
            JOIN survey_responses response ON response.id = need.response_id
            WHERE need.area_id <> response.area_id
               OR need.age_stratum IS DISTINCT FROM response.age_stratum
            """
        )
    )
    assert mismatched == 0


async def test_a_corrected_area_or_age_stratum_follows_onto_the_need_rows(
    surveys: Surveys, session: AsyncSession, areas: dict[str, uuid.UUID]
) -> None:
    """No code changes a stored response; should one be corrected in the database, a trigger
    keeps the copies on its need rows equal."""
    survey = await surveys.create(publish=True)
    response = await surveys.submit(survey["id"], answers(missing=["kita", "homework"]))
    row = await _row(session, response.json()["receipt_code"])
    await session.execute(
        text("UPDATE survey_responses SET area_id = :area, age_stratum = NULL WHERE id = :id"),
        {"area": areas["010201"], "id": row.id},
    )
    found = {tuple(r) for r in await session.execute(_NEED_ROWS)}
    assert found == {("web", areas["010201"], None)}


@pytest.mark.parametrize("phase", list(PhaseKey))
@pytest.mark.parametrize("override", [None, True, False])
async def test_the_prebuilt_phase_check_agrees_with_the_participation_registry(
    engine: AsyncEngine, phase: PhaseKey, override: bool | None
) -> None:
    from quartier.processes import schemas as ps

    async with async_sessionmaker(engine, expire_on_commit=False)() as db, db.begin():
        process_id = await processes.create_process(
            db, ps.ProcessCreate(title="Prüfung", topic="Test"), processes.SYSTEM
        )
        if phase is not PhaseKey.GUIDELINES:
            await processes.activate_phase(db, process_id, phase, processes.SYSTEM)
        await processes.publish_process(db, process_id)
        if override is not None:
            await processes.set_participation_override(db, process_id, "surveys", phase, override)
    async with async_sessionmaker(engine)() as db:
        expected = await participation.is_open(db, process_id, "surveys")
        assert await responses.surveys_open(db, process_id) is expected
        assert await responses.surveys_open(db, uuid.uuid4()) is False


# -- withdrawal (issue #8 §4) ----------------------------------------------------------------------


async def test_a_respondent_withdraws_a_response_with_its_receipt_code_while_open(
    surveys: Surveys, session: AsyncSession
) -> None:
    survey = await surveys.create(publish=True)
    kept = await surveys.submit(survey["id"])
    gone = await surveys.submit(survey["id"])
    assert kept.status_code == gone.status_code == 201
    code = gone.json()["receipt_code"]
    withdrawn = await surveys.client.delete(f"/api/v1/survey-receipts/{code.lower()}")
    assert withdrawn.status_code == 204, withdrawn.text
    assert (await surveys.client.get(f"/api/v1/survey-receipts/{code}")).status_code == 404
    assert (await surveys.client.delete(f"/api/v1/survey-receipts/{code}")).status_code == 404
    assert await session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    derived = await session.scalar(
        text(
            "SELECT (SELECT count(*) FROM survey_answer_options o "
            "        WHERE o.response_id NOT IN (SELECT id FROM survey_responses)) "
            "     + (SELECT count(*) FROM survey_response_needs n "
            "        WHERE n.response_id NOT IN (SELECT id FROM survey_responses))"
        )
    )
    assert derived == 0
    kept_code = kept.json()["receipt_code"]
    assert (await surveys.client.get(f"/api/v1/survey-receipts/{kept_code}")).status_code == 200
    bad = await surveys.client.delete("/api/v1/survey-receipts/not-a-code")
    assert bad.status_code == 404


async def test_a_response_cannot_be_withdrawn_once_the_survey_is_closed(
    surveys: Surveys, session: AsyncSession
) -> None:
    survey = await surveys.create(publish=True)
    response = await surveys.submit(survey["id"])
    code = response.json()["receipt_code"]
    closed = await surveys.client.post(
        f"/api/v1/surveys/{survey['id']}/close", headers=surveys.planner
    )
    assert closed.status_code == 200, closed.text
    refused = await surveys.client.delete(f"/api/v1/survey-receipts/{code}")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert await session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
