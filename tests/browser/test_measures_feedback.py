"""Feedback on the demo measure in Chromium: a resident at 320 px with JavaScript off (keyboard
for the stance); an organisation with the code a planner issued it; the planner reading the
summary with its support maps (also at 320 px), the consultation report with its map and
downloading the report and the decision template as PDFs; a moderator publishing comments (the
demo process pre-moderates, as for idea comments), hiding one with the reason and restoring it,
at 320 px without JavaScript, led there from the dashboard; residents choosing their social area
in the list of measures. axe-core (WCAG 2.x A/AA) clean and nothing wider than 320 px on the
measure page, after an error, on the summary, on the comments page and on the list (axe needs
scripts: checked in a context with them on)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pypdf import PdfReader

from tests.browser.conftest import (
    LiveServer,
    axe_violations,
    create_staff_account,
    describe_violations,
    sign_in,
)
from tests.browser.test_pages import _OVERFLOWING

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
NARROW = {"width": 320, "height": 640}


TITLE = "Kiezlotsinnen für ältere Menschen"


@pytest.fixture(scope="module")
def measure_id(live_server: LiveServer) -> str:
    """The demo measure open for feedback (by its title: other modules on the same server
    open consultations of their own)."""
    processes = httpx.get(f"{live_server.url}/api/v1/processes", timeout=30).json()["items"]
    for process in processes:
        measures = httpx.get(
            f"{live_server.url}/api/v1/processes/{process['id']}/measures",
            params={"status": "in_consultation"},
            timeout=30,
        ).json()
        for measure in measures.get("items", []):
            if measure.get("title", TITLE) == TITLE:
                return str(measure["id"])
    pytest.fail("the demo has no measure in consultation")


MODERATOR_EMAIL = "feedback-moderator@browser-tests.example.org"


@pytest.fixture(scope="module")
def moderator_state(browser: Browser, live_server: LiveServer) -> dict[str, Any]:
    """Cookies of a moderator who signed in through the form."""
    email = create_staff_account(live_server, MODERATOR_EMAIL, "Mira Moderation", "moderator")
    context = browser.new_context(
        java_script_enabled=False, base_url=live_server.url, locale="de-DE"
    )
    try:
        sign_in(context.new_page(), email)
        return dict(context.storage_state())
    finally:
        context.close()


def _publish(page: Page, measure_id: str, body: str) -> None:
    """The moderator publishes the waiting comment `body` on the measure's comments page."""
    page.goto(f"/dashboard/measures/{measure_id}/comments")
    comment = page.locator("li", has_text=body)
    expect(comment.get_by_text("Wartet auf Moderation")).to_be_visible()
    comment.get_by_role("button", name="Veröffentlichen").click()
    page.wait_for_load_state()
    comment = page.locator("li", has_text=body)
    expect(comment.get_by_role("button", name="Ausblenden")).to_be_visible()
    expect(comment.get_by_text("Wartet auf Moderation")).to_have_count(0)


def _accessible_and_narrow(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)
    result = page.evaluate(_OVERFLOWING)
    assert result["scrollWidth"] <= NARROW["width"], result


def test_a_resident_gives_feedback_on_a_phone_without_javascript(
    new_context: ContextFactory, measure_id: str
) -> None:
    checked = new_context(viewport=NARROW).new_page()
    checked.goto(f"/measures/{measure_id}")
    _accessible_and_narrow(checked)
    checked.get_by_role("button", name="Rückmeldung senden").click()
    checked.wait_for_load_state()
    expect(checked.locator(".error-summary")).to_be_visible()
    _accessible_and_narrow(checked)

    context = new_context(viewport=NARROW, java_script_enabled=False)
    page = context.new_page()
    response = page.goto(f"/measures/{measure_id}")
    assert response is not None and response.status == 200
    assert page.locator("h1").inner_text() == TITLE
    expect(page.get_by_role("heading", name="Wie wir die Menschen erreichen")).to_be_visible()

    # sending without a stance: the error summary links to the question
    page.get_by_role("button", name="Rückmeldung senden").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    assert summary.locator("a").first.get_attribute("href") == "#stance"

    # the stance with the keyboard, the rest by filling in
    page.locator("#stance").focus()
    page.keyboard.press("Space")
    assert page.locator("#stance").is_checked()
    page.get_by_label("Anmerkung zu „Angebot“").fill("Bitte auch Sprechstunden am Samstag.")
    page.locator("label[for='ratings-relevance-5']").click()
    page.get_by_role("button", name="Rückmeldung senden").click()
    page.wait_for_load_state()
    expect(
        page.get_by_role("heading", name="Danke – Ihre Rückmeldung ist angekommen")
    ).to_be_visible()

    # the same browser cannot answer twice
    page.goto(f"/measures/{measure_id}")
    page.locator("label[for='stance-3']").click()
    page.get_by_role("button", name="Rückmeldung senden").click()
    page.wait_for_load_state()
    assert "schon eine Rückmeldung" in page.locator("main").inner_text()


def _pdf_text(path: Path | str) -> str:
    reader = PdfReader(io.BytesIO(Path(path).read_bytes()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_an_organisation_answers_with_the_code_a_planner_issued_and_is_named_in_the_summary(
    new_context: ContextFactory,
    signed_in_state: dict[str, Any],
    moderator_state: dict[str, Any],
    measure_id: str,
) -> None:
    planner = new_context(java_script_enabled=False, storage_state=signed_in_state).new_page()
    response = planner.goto(f"/dashboard/measures/{measure_id}")
    assert response is not None and response.status == 200
    choice = planner.locator("input[name=organisation_ids]").first
    organisation = planner.locator(f"label[for='{choice.get_attribute('id')}']").inner_text()
    choice.check()
    planner.get_by_role("button", name="Codes ausgeben").click()
    planner.wait_for_load_state()
    issued = planner.locator(".notification--success")
    assert "Beteiligungscodes – nur jetzt sichtbar" in issued.inner_text()
    line = issued.locator("li", has_text=organisation)
    code = line.locator("strong").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z-]{6,}", code), code

    # the organisation, on a phone without JavaScript and without an account
    page = new_context(viewport=NARROW, java_script_enabled=False).new_page()
    page.goto(f"/measures/{measure_id}")
    page.locator("label[for='stance']").click()  # "Ich unterstütze sie"
    page.get_by_label("Eine Organisation (mit dem erhaltenen Code)").check()
    page.get_by_label("Code der Organisation").fill("FALSCH-0000")
    page.get_by_role("button", name="Rückmeldung senden").click()
    page.wait_for_load_state()
    assert "unbekannt oder schon verwendet" in page.locator(".error-summary").inner_text()
    _accessible_and_narrow(page)
    page.get_by_label("Code der Organisation").fill(code)
    page.get_by_label("Möchten Sie uns noch etwas sagen?").fill(
        "Wir beteiligen uns gern mit unserer Seniorenberatung."
    )
    page.get_by_role("button", name="Rückmeldung senden").click()
    page.wait_for_load_state()
    expect(
        page.get_by_role("heading", name="Danke – Ihre Rückmeldung ist angekommen")
    ).to_be_visible()
    assert organisation in page.locator("main").inner_text()

    # the demo process pre-moderates: the statement's comment waits until a moderator publishes it
    planner.goto(f"/measures/{measure_id}/summary")
    expect(planner.get_by_text(organisation).first).to_be_visible()
    assert "Wir beteiligen uns gern" not in planner.locator("main").inner_text()
    moderator = new_context(java_script_enabled=False, storage_state=moderator_state).new_page()
    _publish(moderator, measure_id, "Wir beteiligen uns gern mit unserer Seniorenberatung.")

    # the planner reads the summary: the organisation's statement by name
    planner.goto(f"/measures/{measure_id}/summary")
    assert planner.locator("h1").inner_text() == "Zusammenfassung der Rückmeldungen"
    statements = planner.get_by_role("heading", name="Stellungnahmen von Organisationen")
    expect(statements).to_be_visible()
    main = planner.locator("main").inner_text()
    assert organisation in main
    assert "Wir beteiligen uns gern mit unserer Seniorenberatung." in main
    _has_support_maps(planner)
    violations = axe_violations(planner)
    assert violations == [], describe_violations(violations)
    # the same summary, maps included, on a phone without JavaScript
    narrow = new_context(
        viewport=NARROW, java_script_enabled=False, storage_state=signed_in_state
    ).new_page()
    narrow.goto(f"/measures/{measure_id}/summary")
    _has_support_maps(narrow)
    _accessible_and_narrow(narrow)


def _has_support_maps(page: Page) -> None:
    """The report's support maps on the summary page: server-rendered, with their table, and
    protected areas hatched and named as protected, never shown as 0."""
    expect(page.get_by_role("heading", name="Rückmeldungen je Sozialraum")).to_be_visible()
    protected = 0
    for kind in ("resident", "professional"):
        figure = page.locator(f"#support-map-{kind}")
        assert figure.locator("svg path").count() >= 1
        assert figure.locator("svg title").first.text_content()  # a text alternative
        table = page.locator(f"#support-map-{kind}-table")
        expect(table).to_be_visible()
        rows = table.locator("tbody tr")
        assert rows.count() == figure.locator("svg path").count()
        for index in range(rows.count()):
            cell = rows.nth(index).locator("td").first
            if "suppressed" in (cell.get_attribute("class") or ""):
                protected += 1
                text = cell.inner_text().strip()
                assert text == "geschützt (zu wenige Personen)", text
        hatched = figure.locator("svg path.map-protected")
        for index in range(hatched.count()):
            assert "-hatch" in (hatched.nth(index).get_attribute("fill") or "")
            label = hatched.nth(index).evaluate("path => path.parentNode.textContent")
            assert "geschützt" in label and not re.search(r"\b0\s*%", label), label
    assert protected >= 1  # the demo's few responses leave areas protected


def test_a_planner_downloads_the_consultation_report_and_the_decision_template(
    new_context: ContextFactory, signed_in_state: dict[str, Any], measure_id: str
) -> None:
    page = new_context(java_script_enabled=False, storage_state=signed_in_state).new_page()
    page.goto(f"/dashboard/measures/{measure_id}")
    page.get_by_role("link", name="Beteiligungsbericht", exact=True).click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/measures/{measure_id}/consultation-report")
    assert TITLE in page.locator("h1").inner_text()
    # the map of the measure's social areas, server-rendered, with its table
    resident_map = page.locator("#support-map-resident")
    assert resident_map.locator("svg path").count() >= 1
    expect(page.locator("#support-map-resident-table")).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)

    with page.expect_download() as download:
        page.get_by_role("link", name="Als PDF herunterladen").click()
    report = download.value
    assert report.suggested_filename.startswith(f"consultation-report-{measure_id}-v")
    assert report.suggested_filename.endswith(".pdf")
    path = report.path()
    assert Path(path).read_bytes().startswith(b"%PDF-")
    text = _pdf_text(path)
    assert TITLE in text and "Rückmeldungen je Sozialraum" in text

    page.goto(f"/dashboard/measures/{measure_id}/decision-template")
    assert TITLE in page.locator("h1").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Als PDF herunterladen").click()
    template = download.value
    assert template.suggested_filename.startswith(f"decision-template-{measure_id}-v")
    path = template.path()
    assert Path(path).read_bytes().startswith(b"%PDF-")
    assert TITLE in _pdf_text(path)


COMMENT = "Der Treffpunkt im Kiez sollte auch barrierefrei erreichbar sein."


def test_a_moderator_publishes_hides_with_the_reason_and_restores_a_comment(
    new_context: ContextFactory,
    live_server: LiveServer,
    moderator_state: dict[str, Any],
    measure_id: str,
) -> None:
    sent = httpx.post(
        f"{live_server.url}/api/v1/measures/{measure_id}/feedback",
        json={"stance": "neutral", "general_comment": COMMENT},
        timeout=30,
    )
    assert sent.status_code == 201, sent.text
    page = new_context(
        viewport=NARROW, java_script_enabled=False, storage_state=moderator_state
    ).new_page()
    # the dashboard leads the moderator to the measure's waiting comments
    page.goto("/dashboard")
    expect(page.get_by_text("Rückmeldungen zu Maßnahmen: Moderation")).to_be_visible()
    page.locator(f"a[href='/dashboard/measures/{measure_id}/comments']").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/dashboard/measures/{measure_id}/comments")
    expect(page.get_by_role("heading", name="Kommentare zur Rückmeldung", level=1)).to_be_visible()
    comment = page.locator("li", has_text=COMMENT)
    expect(comment.get_by_text("Wartet auf Moderation")).to_be_visible()
    _accessible_and_narrow(page)
    _publish(page, measure_id, COMMENT)
    _accessible_and_narrow(page)

    comment = page.locator("li", has_text=COMMENT)
    expect(comment).to_be_visible()
    # hiding without a reason: the error summary links to the comment's reason field
    comment.get_by_role("button", name="Ausblenden").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    comment = page.locator("li", has_text=COMMENT)
    reason = comment.get_by_label("Grund für das Ausblenden (wird festgehalten)")
    assert summary.locator("a").first.get_attribute("href") == f"#{reason.get_attribute('id')}"
    _accessible_and_narrow(page)

    reason.fill("Enthält eine Telefonnummer.")
    comment.get_by_role("button", name="Ausblenden").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/dashboard/measures/{measure_id}/comments")
    comment = page.locator("li", has_text=COMMENT)
    expect(comment.get_by_text("Von der Moderation ausgeblendet")).to_be_visible()
    expect(comment.get_by_text("Mira Moderation")).to_be_visible()
    expect(comment.get_by_text("Enthält eine Telefonnummer.")).to_be_visible()
    _accessible_and_narrow(page)

    comment.get_by_role("button", name="Wiederherstellen").click()
    page.wait_for_load_state()
    comment = page.locator("li", has_text=COMMENT)
    expect(comment.get_by_role("button", name="Ausblenden")).to_be_visible()
    expect(comment.get_by_text("Von der Moderation ausgeblendet")).to_have_count(0)
    _accessible_and_narrow(page)


def test_residents_choose_their_social_area_in_the_list_of_measures(
    new_context: ContextFactory, live_server: LiveServer, measure_id: str
) -> None:
    process_id = httpx.get(f"{live_server.url}/api/v1/measures/{measure_id}", timeout=30).json()[
        "process_id"
    ]
    page = new_context(viewport=NARROW, java_script_enabled=False).new_page()
    response = page.goto(f"/processes/{process_id}/measures")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", name="Geplante Maßnahmen", level=1)).to_be_visible()
    _accessible_and_narrow(page)
    areas = page.get_by_label("Sozialraum")
    expect(areas).to_be_visible()
    values = [v for v in areas.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
    assert values, "no social area to choose"
    areas.select_option(values[0])
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/processes/{process_id}/measures?area={values[0]}")
    expect(page.get_by_label("Sozialraum")).to_have_value(values[0])
    expect(page.get_by_role("heading", name="Geplante Maßnahmen", level=1)).to_be_visible()
    _accessible_and_narrow(page)
