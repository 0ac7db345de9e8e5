"""One planning cycle walked end to end on the demo data in Chromium, through the staff
workspace and the residents' pages only: the needs (area needs, indicator comparison with a gap
marked) → a goal on a need → a measure drafted, consulted, revised and adopted → resourced and
in delivery → a provider's period report → the planners' assessment and the measure evaluated →
the social report written (the outlook also in English, in the editor's column per language, at
320 px without JavaScript), released (with its confirmation) and read by a resident who is not
signed in, in German and — through the language switch — in English, the untranslated sections
in German with the note → its PDF in English → the next cycle, whose page links the previous
report and lists the gaps.

The walk moves a demo process through all its phases, so this module has a server and a
database of its own (the other browser modules expect the demo processes where the demo puts
them)."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from pypdf import PdfReader

from tests.browser.conftest import (
    UUID_PATTERN,
    LiveServer,
    axe_violations,
    describe_violations,
    serve_demo,
)
from tests.browser.test_pages import _OVERFLOWING
from tests.conftest import PgServer

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
DESKTOP = {"width": 1280, "height": 900}
PROCESS = "Kinderarmut in Mitte vorbeugen"  # the demo's process with a survey, in needs assessment
NEED = "childcare"
GOAL = "Jedes Kind unter drei Jahren findet einen Platz in der Kita oder Tagespflege."
MEASURE = "Kita-Lotsinnen für Familien im Kiez"
OUTLOOK = "Im nächsten Zyklus beginnen wir bei den Lücken der Kinderbetreuung."
OUTLOOK_EN = "In the next cycle we start from the gaps in childcare."
INTRODUCTION = "Dieser Bericht fasst den ersten Zyklus zusammen."
NARROW = {"width": 320, "height": 640}


@pytest.fixture(scope="module")
def live_server(pg_server: PgServer, template_database: str) -> Iterator[LiveServer]:
    with serve_demo(pg_server, template_database, f"quartier_cycle_{os.getpid()}") as server:
        yield server


def _submit(page: Page, name: str, *, within: Any = None) -> None:
    (within or page).get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def _main(page: Page) -> str:
    return page.locator("main").inner_text()


def _activate(page: Page, process_id: str, phase: str) -> None:
    """The phase's activation through the overview's link and the confirmation page."""
    page.goto(f"/workspace/processes/{process_id}")
    page.locator(f"#phase-{phase} a", has_text="Aktivieren").click()
    page.wait_for_load_state()
    _submit(page, "Diese Phase aktivieren")
    assert page.url.endswith("?done=activated"), _main(page)[:2000]
    assert "aktiv" in page.locator(f"#phase-{phase}").inner_text().lower()


def _step(page: Page, measure_id: str, step: str, reason: str) -> None:
    """A lifecycle step on the measure's staff page (its own form, with the reason)."""
    page.goto(f"/dashboard/measures/{measure_id}")
    form = page.locator(f"form:has(input[name=step][value={step}])")
    form.locator("textarea").fill(reason)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/dashboard/measures/{measure_id}"), _main(page)[:2000]
    assert page.locator(".error-summary").count() == 0, _main(page)[:2000]


def test_one_cycle_from_needs_to_the_next_cycle(
    new_context: ContextFactory, signed_in_state: dict[str, Any], live_server: LiveServer
) -> None:
    staff = new_context(viewport=DESKTOP, java_script_enabled=False, storage_state=signed_in_state)
    page = staff.new_page()
    page.set_default_timeout(15_000)

    # The needs: the process from the dashboard, one area's needs, the indicator comparison.
    page.goto("/dashboard")
    page.get_by_role("link", name=PROCESS).first.click()
    page.wait_for_load_state()
    found = re.search(rf"/(?:workspace/|dashboard/)?processes/({UUID_PATTERN})", page.url)
    assert found, page.url
    process_id = found.group(1)
    page.goto(f"/dashboard/processes/{process_id}/area-needs")
    survey_needs = page.locator("#survey-needs")
    assert survey_needs.get_by_role("row").count() > 1, _main(page)[:2000]
    page.goto(f"/dashboard/processes/{process_id}/needs/{NEED}")
    area = page.locator("#area option").nth(1)
    area_name = area.inner_text().strip()
    page.locator("#area").select_option(area.get_attribute("value"))
    page.fill("#note", "Zu wenige Kitaplätze für unter Dreijährige.")
    _submit(page, "Als Lücke markieren")
    assert page.locator(".error-summary").count() == 0, _main(page)[:2000]

    # The goal on that need, and a measure for it, in measure planning.
    _activate(page, process_id, "measure_planning")
    page.goto(f"/dashboard/processes/{process_id}/goals/new")
    page.fill("#statement", GOAL)
    page.locator(f"input[name=need_categories][value={NEED}]").check()
    _submit(page, "Ziel speichern")
    assert page.url.endswith(f"/dashboard/processes/{process_id}/measures"), _main(page)[:2000]
    assert GOAL in _main(page)

    _submit(page, "Maßnahme entwerfen")
    page.fill("#title", MEASURE)
    page.get_by_label(GOAL).check()
    page.fill("#target_groups", "Familien mit Kindern unter drei Jahren")
    page.fill("#resources-0-label", "Sachkosten")
    page.fill("#resources-0-amount", "6000")
    page.select_option("#resources-0-unit", "eur")
    page.select_option("#resources-0-period", "per_year")
    page.fill("#criteria-0-indicator", "Beratene Familien")
    page.fill("#criteria-0-baseline", "0")
    page.fill("#criteria-0-target", "40")
    page.fill("#sections-0-key", "offer")
    page.fill("#sections-0-title", "Angebot")
    page.fill("#sections-0-body", "Lotsinnen begleiten Familien bei der Suche nach einem Platz.")
    _submit(page, "Entwurf speichern")
    found = re.search(rf"/dashboard/measures/({UUID_PATTERN})$", page.url)
    assert found, _main(page)[:2000]
    measure_id = found.group(1)

    page.get_by_label("Warum jetzt? (wird festgehalten)").fill("Mit den Kitaträgern abgestimmt")
    _submit(page, "Beteiligung eröffnen")
    assert "In Beteiligung" in _main(page)
    _step(page, measure_id, "revise", "Hinweise aus der Beteiligung eingearbeitet")
    _step(page, measure_id, "adopt", "Vom Jugendhilfeausschuss beschlossen")
    assert "Beschlossen" in _main(page)

    # Resources and delivery.
    _activate(page, process_id, "resource_provision")
    _step(page, measure_id, "resource", "Mittel im Haushalt bereitgestellt")
    _activate(page, process_id, "service_delivery")
    _step(page, measure_id, "start_delivery", "Die Lotsinnen haben begonnen")

    page.goto(f"/dashboard/measures/{measure_id}/delivery")
    page.get_by_label("Von", exact=True).fill("2025-01-01")
    page.get_by_label("Bis", exact=True).fill("2025-03-31")
    page.get_by_label("Art der Leistung 1").fill("Beratungen")
    page.get_by_label("Anzahl der Leistung 1").fill("30")
    page.get_by_label("Teilnehmende im Zeitraum").fill("25")
    page.get_by_label("Sachkosten").fill("1500")
    page.get_by_label("Beratene Familien").fill("25")
    _submit(page, "Bericht speichern")
    expect(page.get_by_text("Der Bericht ist gespeichert")).to_be_visible()

    # Evaluation: the assessment, then the measure evaluated.
    _activate(page, process_id, "evaluation")
    page.goto(f"/dashboard/measures/{measure_id}/evaluation")
    page.locator("label[for='decision']").click()  # continue
    page.get_by_label("Gründe").fill("Die Familien finden schneller einen Platz.")
    _submit(page, "Bewertung festhalten")
    expect(page.get_by_role("cell", name="Maßnahme fortführen")).to_be_visible()
    _step(page, measure_id, "evaluate", "Der erste Zeitraum ist ausgewertet")

    # The social report: written, released after the confirmation.
    _activate(page, process_id, "social_reporting")
    page.goto(f"/workspace/processes/{process_id}/report")
    page.fill("#introduction", INTRODUCTION)
    page.fill("#outlook", OUTLOOK)
    page.get_by_label("Ausblick (Englisch)").fill(OUTLOOK_EN)
    _submit(page, "Abschnitte speichern")
    assert page.url.endswith("?saved=true"), _main(page)[:2000]
    # The editor with a column per language, on a phone, without JavaScript.
    narrow = new_context(
        viewport=NARROW, java_script_enabled=False, storage_state=signed_in_state
    ).new_page()
    narrow.set_default_timeout(15_000)
    narrow.goto(f"/workspace/processes/{process_id}/report")
    expect(narrow.locator("#outlook_en")).to_have_value(OUTLOOK_EN)
    expect(narrow.locator("#outlook_ar")).to_have_attribute("dir", "rtl")
    overflow = narrow.evaluate(_OVERFLOWING)
    assert overflow["scrollWidth"] <= 320, overflow
    violations = axe_violations(narrow)
    assert violations == [], describe_violations(violations)
    _submit(page, "Bericht freigeben")  # without the confirmation: refused
    expect(page.locator(".error-summary")).to_be_visible()
    page.locator("input[name=confirm]").check()
    _submit(page, "Bericht freigeben")
    assert page.url.endswith(f"/processes/{process_id}/report"), _main(page)[:2000]

    # A resident, not signed in, reads the released report.
    resident = new_context(viewport=NARROW, java_script_enabled=False).new_page()
    resident.set_default_timeout(15_000)
    response = resident.goto(f"/processes/{process_id}")
    assert response is not None and response.status == 200
    resident.get_by_role("link", name="Den Sozialbericht lesen", exact=True).click()
    resident.wait_for_load_state()
    assert resident.url.endswith(f"/processes/{process_id}/report")
    text = _main(resident)
    for expected in (OUTLOOK, GOAL, MEASURE, area_name):
        assert expected in text, expected
    assert "Paula Planerin" not in text  # who released it is for staff only
    overflow = resident.evaluate(_OVERFLOWING)
    assert overflow["scrollWidth"] <= 320, overflow
    violations = axe_violations(resident)
    assert violations == [], describe_violations(violations)
    resident.go_back()
    href = resident.get_by_role("link", name="Sozialbericht herunterladen (PDF)").get_attribute(
        "href"
    )
    assert href
    public_pdf = resident.context.request.get(href)
    assert public_pdf.ok, public_pdf.status
    public_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(public_pdf.body())).pages)
    assert OUTLOOK in public_text.replace("\n", " ")
    assert "Paula Planerin" not in public_text

    # The same resident switches to English: the outlook in English, the introduction in
    # German (marked), and the note that says so; the PDF link keeps the language.
    resident.get_by_role("link", name="Den Sozialbericht lesen", exact=True).click()
    resident.wait_for_load_state()
    resident.locator(".language-switch [lang=en]").click()
    resident.wait_for_load_state()
    assert resident.url.endswith(f"/processes/{process_id}/report"), resident.url
    expect(resident.locator("html")).to_have_attribute("lang", "en")
    expect(resident.get_by_text(OUTLOOK_EN)).to_be_visible()
    expect(resident.locator("[data-language-fallback]")).to_be_visible()
    expect(resident.locator("#introduction ~ div[lang=de]")).to_contain_text(INTRODUCTION)
    assert OUTLOOK not in _main(resident)
    overflow = resident.evaluate(_OVERFLOWING)
    assert overflow["scrollWidth"] <= 320, overflow
    violations = axe_violations(resident)
    assert violations == [], describe_violations(violations)
    href = resident.get_by_role("link", name="Download as PDF").get_attribute("href")
    assert href and href.endswith("?lang=en")
    english_pdf = resident.context.request.get(href)
    assert english_pdf.ok and english_pdf.headers["content-language"] == "en"
    english_text = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(english_pdf.body())).pages
    ).replace("\n", " ")
    assert OUTLOOK_EN in english_text and INTRODUCTION in english_text

    # The PDF, through the editor's link.
    page.goto(f"/workspace/processes/{process_id}/report")
    href = page.get_by_role("link", name="Als PDF herunterladen").get_attribute("href")
    assert href
    pdf = staff.request.get(href)
    assert pdf.ok and pdf.headers["content-type"].startswith("application/pdf")
    reader = PdfReader(io.BytesIO(pdf.body()))
    assert PROCESS in str(reader.metadata.title if reader.metadata else "")
    pdf_text = " ".join(page_.extract_text() for page_ in reader.pages)
    assert "Kita-Lotsinnen" in pdf_text and "nächsten Zyklus" in pdf_text

    # The next cycle: its page links the previous report and lists the gap.
    page.goto(f"/workspace/processes/{process_id}")
    _submit(page, "Nächsten Zyklus starten")
    found = re.search(rf"/workspace/processes/({UUID_PATTERN})\?done=created$", page.url)
    assert found and found.group(1) != process_id, _main(page)[:2000]
    successor = found.group(1)
    page.goto(f"/processes/{successor}")
    previous = page.get_by_role("link", name="Den vorigen Sozialbericht lesen")
    assert previous.get_attribute("href") == f"/processes/{process_id}/report"
    assert "Zu wenige Kitaplätze für unter Dreijährige." in _main(page)
    assert area_name in _main(page)
