"""Invitation letters: one A4 page per invitation code, with the survey's address, a QR code of
that address and the code, ready to print and post.

The QR code is made by `segno` and drawn module by module as vector squares with ReportLab,
so it stays sharp on any printer. The letter says, in German with an English line, what the
survey is for, who asks, and that the code is used once and not stored with the answers.
Codes are never written anywhere but into the returned PDF.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from uuid import UUID

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.settings import Settings
from quartier.surveys import schemas as s
from quartier.surveys import services
from quartier.surveys.definition import definition_of

PDF_MEDIA_TYPE = "application/pdf"
MAX_LETTERS = 2_000  # one request, one PDF: larger runs are several requests


def survey_url(base_url: str, survey_id: object) -> str:
    """The address residents type or scan (the survey's intro page)."""
    return f"{base_url.rstrip('/')}/surveys/{survey_id}"


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    qr = segno.make(data, error="m")
    rows = [list(row) for row in qr.matrix]
    border = 4  # the quiet zone QR readers need, in modules
    modules = len(rows) + 2 * border
    cell = size / modules
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + (c + border) * cell,
                    y + size - (r + border + 1) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def _paragraph(canvas: Canvas, text: str, x: float, y: float, *, width: int = 85) -> float:
    """Writes wrapped text from the top line `y` down; returns the y below it."""
    for line in textwrap.wrap(text, width=width) or [""]:
        canvas.drawString(x, y, line)
        y -= 5.2 * mm
    return float(y - 2 * mm)


def invitation_letters(
    definition: s.Definition, url: str, codes: Sequence[str], *, organiser_line: str | None = None
) -> bytes:
    """A PDF with one A4 letter per code."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    title = definition.title.de
    canvas.setTitle(f"Einladungen: {title}")
    canvas.setAuthor(organiser_line or definition.organiser.de)
    canvas.setCreator("Quartier")
    height = A4[1]
    left = 25 * mm
    for code in codes:
        y = height - 30 * mm
        canvas.setFont("Helvetica", 10)
        canvas.drawString(left, y, definition.organiser.de[:120])
        y -= 20 * mm
        canvas.setFont("Helvetica-Bold", 16)
        for line in textwrap.wrap(f"Einladung: {title}", width=55):
            canvas.drawString(left, y, line)
            y -= 8 * mm
        y -= 4 * mm
        canvas.setFont("Helvetica", 11)
        y = _paragraph(canvas, "Guten Tag,", left, y)
        y = _paragraph(
            canvas,
            "wir laden Sie ein, an unserer Befragung teilzunehmen. " + definition.purpose.de,
            left,
            y,
        )
        y = _paragraph(
            canvas,
            f"Die Teilnahme dauert etwa {definition.estimated_minutes} Minuten. "
            "Sie ist freiwillig und anonym.",
            left,
            y,
        )
        y -= 4 * mm
        qr_size = 45 * mm
        _draw_qr(canvas, url, left, y - qr_size, qr_size)
        text_x = left + qr_size + 10 * mm
        canvas.setFont("Helvetica", 11)
        canvas.drawString(text_x, y - 8 * mm, "Scannen Sie den QR-Code oder öffnen Sie:")
        canvas.setFont("Helvetica-Bold", 10)
        for i, part in enumerate(textwrap.wrap(url, width=48)):
            canvas.drawString(text_x, y - (15 + 5 * i) * mm, part)
        canvas.setFont("Helvetica", 11)
        canvas.drawString(text_x, y - 32 * mm, "Ihr Zugangscode:")
        canvas.setFont("Courier-Bold", 20)
        canvas.drawString(text_x, y - 41 * mm, code)
        y -= qr_size + 10 * mm
        canvas.setFont("Helvetica", 10)
        y = _paragraph(
            canvas,
            "Der Code gilt für eine Teilnahme. Er wird nicht mit Ihren Antworten gespeichert: "
            "Niemand kann erkennen, welche Antworten zu welchem Brief gehören.",
            left,
            y,
            width=95,
        )
        y = _paragraph(
            canvas,
            "English: you are invited to take part in this survey. Scan the QR code or open the "
            "address above and enter your code. The code is used once and is not stored with "
            "your answers.",
            left,
            y,
            width=95,
        )
        canvas.setFont("Helvetica", 8)
        footer = textwrap.wrap(definition.privacy_note.de, width=120)[:5]
        for i, line in enumerate(footer):
            canvas.drawString(left, (12 + 4 * (len(footer) - i)) * mm, line)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


async def print_invitation_letters(
    session: AsyncSession, settings: Settings, survey_id: UUID, count: int
) -> bytes:
    """`count` new invitation codes of the survey (see `services.generate_invitation_codes`),
    each printed as a letter; the codes exist nowhere else afterwards."""
    codes = await services.generate_invitation_codes(session, settings, survey_id, count)
    survey = await services.get_survey(session, survey_id)
    return invitation_letters(
        definition_of(survey), survey_url(settings.base_url, survey.id), codes
    )
