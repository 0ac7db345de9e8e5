"""Invitation letters (PrintInvitationLetters): one A4 page per new code, with the survey's
address, a QR code of it and the code — and the printed codes are the ones that answer."""

from __future__ import annotations

import io
import re

import msgspec
import pytest
import segno
from pypdf import PdfReader

from quartier.surveys import letters
from quartier.surveys import schemas as s
from tests.surveys.conftest import Client, Headers, Surveys, definition

CODE = re.compile(r"\b[A-Z0-9]{5}-[A-Z0-9]{5}\b")
A4_POINTS = (595.0, 842.0)


async def _letters(client: Client, survey_id: str, headers: Headers, count: int) -> PdfReader:
    response = await client.post(
        f"/api/v1/surveys/{survey_id}/invitation-letters", json={"count": count}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert "attachment" in response.headers["content-disposition"]
    return PdfReader(io.BytesIO(response.content))


async def test_one_a4_letter_per_code_with_the_address_and_a_code_that_answers_once(
    surveys: Surveys, client: Client, planner: Headers
) -> None:
    survey = await surveys.create(publish=True, access_mode="invitation")
    pdf = await _letters(client, survey["id"], planner, 3)
    assert len(pdf.pages) == 3
    codes = []
    for page in pdf.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == A4_POINTS
        text = page.extract_text()
        assert "Familien in Mitte" in text
        assert f"/surveys/{survey['id']}" in text.replace("\n", "")
        assert "Ihr Zugangscode" in text
        found = CODE.findall(text)
        assert len(found) == 1, text
        codes.append(found[0])
    assert len(set(codes)) == 3
    # The printed codes are real: each answers once.
    first = await surveys.submit(survey["id"], invitation_code=codes[0])
    assert first.status_code == 201, first.text
    again = await surveys.submit(survey["id"], invitation_code=codes[0])
    assert again.status_code == 409


def test_the_qr_code_is_drawn_from_segnos_matrix() -> None:
    """The letter draws one square per dark module of segno's QR code of the address."""
    document = s.SurveyDocument(definition=_definition())
    url = "https://quartier.example/surveys/0190a000-0000-7000-8000-000000000001"
    pdf = letters.invitation_letters(document.definition, url, ["ABCDE-FGHIJ"])
    dark = sum(sum(1 for module in row if module) for row in segno.make(url, error="m").matrix)
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents()
    assert content is not None
    squares = content.get_data().decode("latin-1").count(" re")
    assert squares >= dark


async def test_open_surveys_take_no_letters(
    surveys: Surveys, client: Client, planner: Headers
) -> None:
    survey = await surveys.create(access_mode="open")
    response = await client.post(
        f"/api/v1/surveys/{survey['id']}/invitation-letters", json={"count": 1}, headers=planner
    )
    assert response.status_code == 409


@pytest.mark.parametrize("count", [0, letters.MAX_LETTERS + 1])
async def test_the_count_is_bounded(
    surveys: Surveys, client: Client, planner: Headers, count: int
) -> None:
    survey = await surveys.create(access_mode="invitation")
    response = await client.post(
        f"/api/v1/surveys/{survey['id']}/invitation-letters",
        json={"count": count},
        headers=planner,
    )
    assert response.status_code == 400
    assert "count" in response.text


def _definition() -> s.Definition:
    return msgspec.convert(definition(), s.Definition)
