"""Issue 13 §1: requests the contract describes get what it says (one test per finding)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.surveys.models import SurveyResponse
from tests.surveys import test_exports as survey_exports
from tests.surveys.conftest import (  # noqa: F401 - fixtures used here
    Headers,
    Surveys,
    answers,
    areas,
    make_process,
    planner,
    process_id,
    surveys,
    writer,
)

DOCUMENT: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "openapi" / "openapi.json").read_text()
)


def _parameter(operation_id: str, name: str) -> dict[str, Any]:
    for item in DOCUMENT["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                for parameter in operation["parameters"]:
                    if parameter.get("name") == name:
                        return parameter
    raise AssertionError(f"{operation_id} has no parameter {name}")


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(SurveyResponse)) or 0)


async def test_invalid_utf8_in_a_json_string_is_400(surveys: Surveys) -> None:
    survey = await surveys.create(publish=True)
    response = await surveys.client.post(
        f"/api/v1/surveys/{survey['id']}/responses",
        content=b'{"answers": {"wish": "Gr\xfcn"}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "/problems/malformed-json"


async def test_error_source_is_the_contract_word(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/processes", params={"limit": "many"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "limit", "source": "query", "message": "Expected `int`, got `str`"}
    ]


async def test_cursor_format_is_in_the_contract(client: AsyncTestClient[Litestar]) -> None:
    pattern = _parameter("ListProcesses", "cursor")["schema"]["oneOf"][0]["pattern"]
    assert pattern == "^[A-Za-z0-9_-]*$"
    response = await client.get("/api/v1/processes", params={"cursor": "not a cursor!"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_idempotency_key_pattern_is_in_the_contract(surveys: Surveys) -> None:
    schema = _parameter("SubmitSurveyResponse", "Idempotency-Key")["schema"]["oneOf"][0]
    assert "u0000-\\u001f" in schema["pattern"]
    survey = await surveys.create(publish=True)
    blank = await surveys.submit(survey["id"], headers={"Idempotency-Key": "   "})
    assert blank.status_code == 400
    assert blank.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_paper_entry_is_idempotent(
    surveys: Surveys, session: AsyncSession, writer: Headers
) -> None:
    survey = await surveys.create(publish=True)
    url = f"/api/v1/surveys/{survey['id']}/paper-responses"
    headers = {**writer, "Idempotency-Key": str(uuid.uuid4())}
    first = await surveys.client.post(url, json={"answers": answers()}, headers=headers)
    again = await surveys.client.post(url, json={"answers": answers()}, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert await _count(session) == 1
    other = await surveys.client.post(url, json={"answers": answers(safety=5)}, headers=headers)
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert _parameter("EnterPaperResponse", "Idempotency-Key")


async def test_response_import_is_idempotent(
    surveys: Surveys, session: AsyncSession, writer: Headers
) -> None:
    survey = await surveys.create(publish=True)
    url = f"/api/v1/surveys/{survey['id']}/responses/import"
    body = {"csv": "area,children,missing,safety\n010101,no,,2\n010102,no,,3\n"}
    headers = {**writer, "Idempotency-Key": "upload-2026-12-06"}
    first = await surveys.client.post(url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["imported"] == 2
    retry = await surveys.client.post(url, json=body, headers=headers)
    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert await _count(session) == 2
    assert _parameter("ImportSurveyResponses", "Idempotency-Key")


async def test_other_text_is_kept_only_as_the_contract_says(
    surveys: Surveys, session: AsyncSession
) -> None:
    survey = await surveys.create(publish=True)
    without = await surveys.submit(
        survey["id"], answers(missing=["kita"]), other={"missing": "Schwimmbad"}
    )
    with_other = await surveys.submit(
        survey["id"], answers(missing=["kita", "other"]), other={"missing": "Schwimmbad"}
    )
    assert without.status_code == with_other.status_code == 201
    stored = (await session.scalars(select(SurveyResponse).order_by(SurveyResponse.id))).all()
    texts = [row.answers.get("_other") for row in stored]
    assert texts == [None, {"missing": "Schwimmbad"}]
    description = DOCUMENT["components"]["schemas"]["ResponseSubmission"]["properties"]["other"]
    assert "option key `other`" in description["description"]
    assert "is ignored and not stored" in description["description"]


# The aggregated-needs fixtures of the export tests (their tests are not collected here).
survey = survey_exports.survey
exporter = survey_exports.exporter


async def test_exports_declare_their_media_types_and_one_charset(
    client: AsyncTestClient[Litestar], survey: uuid.UUID, exporter: dict[str, str]
) -> None:
    path = f"/api/v1/surveys/{survey}/aggregated-needs/export"
    operation = DOCUMENT["paths"]["/api/v1/surveys/{survey_id}/aggregated-needs/export"]["get"]
    declared = operation["responses"]["200"]["content"]
    assert "application/octet-stream" not in declared
    assert declared["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AggregatedNeeds"
    }
    for fmt in ("json", "csv", "csv-de", "xlsx", "geojson"):
        response = await client.get(
            path, params={"level": "planning_area", "format": fmt}, headers=exporter
        )
        assert response.status_code == 200, response.text
        media_type = response.headers["content-type"]
        assert media_type.split(";")[0] in declared, fmt
        assert media_type.count("charset") <= 1, media_type


async def test_every_problem_type_uri_serves_a_page(client: AsyncTestClient[Litestar]) -> None:
    from quartier.core.problem_types import known_types

    types = known_types()
    assert {"validation-error", "invalid-answers", "idempotency-key-reused"} <= set(types)
    for slug in types:
        page = await client.get(f"/problems/{slug}", headers={"Accept-Language": "de"})
        assert page.status_code == 200, slug
        assert page.headers["content-type"].startswith("text/html")
        assert f"/problems/{slug}" in page.text
    english = await client.get("/problems/malformed-json", params={"lang": "en"})
    assert "Problem type: Malformed JSON" in english.text
    assert (await client.get("/problems/no-such-problem")).status_code == 404
    # the URI a problem response names is one of them
    problem = await client.get("/api/v1/processes", params={"limit": "many"})
    assert (await client.get(problem.json()["type"])).status_code == 200
