"""Accessibility evidence of issue #14 §3, in a real Chromium (one browser, one server):

* Zoom and reflow (WCAG 1.4.4, 1.4.10): a 1280 × 900 px window at 200 % zoom is a 640 × 450
  CSS px viewport at device scale factor 2, at 400 % a 320 × 225 CSS px viewport at factor 4.
  On every page of the resident survey flow (intro, each question page, a page with errors,
  check page, confirmation), the process page, the idea submission page and a measure's
  consultation page (both also with errors), in German and in Arabic (right to left): no
  horizontal scrolling, every form control and button laid out inside the viewport and
  reachable (scrolled into view, it is the element hit at its centre), no text clipped by an
  `overflow: hidden` box or spilling out of its box, and nothing lost: the page's main text,
  its controls and its links are the same as at 1280 CSS px.
* Screen-reader order: Chromium's own accessibility tree (CDP `Accessibility.getFullAXTree`,
  what screen readers are given) of every page of the survey flow: one h1, no skipped heading
  levels, every control's accessible name is its visible label, every choice question is a
  group named by its legend; after a page is sent with required answers missing, the error
  summary comes first in reading order, has focus and links to each field in error.
  The same on the idea submission and measure feedback forms.
* Keyboard only: the survey answered from the intro to the confirmation with Tab, Space,
  arrow keys, typing and Enter, with a visible focus indicator (computed outline or
  box-shadow) on every element that takes focus; at 1280 px in German and at 400 % in Arabic.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, ViewportSize, expect

from tests.browser.conftest import LiveServer, serve_demo
from tests.browser.test_pages import _OVERFLOWING
from tests.browser.test_survey_flow import answer_page
from tests.conftest import PgServer

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
# A 1280 × 900 window zoomed: its CSS viewport shrinks by the zoom factor, its pixels grow.
ZOOMS: dict[str, tuple[ViewportSize, int]] = {
    "200%": ({"width": 640, "height": 450}, 2),
    "400%": ({"width": 320, "height": 225}, 4),
}
LANGUAGES = {"de": "de-DE", "ar": "ar"}
DONE_HEADINGS = ("Vielen Dank – Ihre Antworten wurden gesendet",)
# QUARTIER_ZOOM_SHOTS=/some/dir keeps a full-page screenshot of every zoomed page.
SHOTS = Path(os.environ["QUARTIER_ZOOM_SHOTS"]) if os.environ.get("QUARTIER_ZOOM_SHOTS") else None


@pytest.fixture(scope="module")
def live_server(pg_server: PgServer, template_database: str) -> Iterator[LiveServer]:
    """A server of this module's own: the checks send many survey answers, ideas and feedback."""
    with serve_demo(pg_server, template_database, f"quartier_a11y_{os.getpid()}") as server:
        yield server


@dataclass(frozen=True)
class Demo:
    survey_id: str
    process_id: str  # the survey's process
    ideas_process_id: str  # a process taking ideas
    measure_id: str  # a measure in consultation


@pytest.fixture(scope="module")
def demo(live_server: LiveServer) -> Demo:
    def get(path: str, **params: Any) -> Any:
        return httpx.get(f"{live_server.url}{path}", params=params, timeout=30).json()

    survey = process = ideas = measure = None
    for item in get("/api/v1/processes")["items"]:
        for candidate in get(f"/api/v1/processes/{item['id']}/surveys").get("items", []):
            if survey is None and candidate["status"] == "published":
                survey, process = str(candidate["id"]), str(item["id"])
        if ideas is None:
            response = httpx.get(f"{live_server.url}/processes/{item['id']}/ideas/new", timeout=30)
            if response.status_code == 200:
                ideas = str(item["id"])
        if measure is None:
            found = get(f"/api/v1/processes/{item['id']}/measures", status="in_consultation")
            if found.get("items"):
                measure = str(found["items"][0]["id"])
    assert survey and process and ideas and measure, (survey, process, ideas, measure)
    return Demo(survey, process, ideas, measure)


def _context(browser: Browser, live_server: LiveServer, **options: Any) -> BrowserContext:
    options.setdefault("locale", "de-DE")
    return browser.new_context(base_url=live_server.url, **options)


@pytest.fixture
def contexts(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., BrowserContext]]:
    opened: list[BrowserContext] = []

    def factory(**options: Any) -> BrowserContext:
        context = _context(browser, live_server, **options)
        opened.append(context)
        return context

    yield factory
    for context in opened:
        context.close()


def _press(page: Page, value: str) -> None:
    page.locator(f"main button[value='{value}']").first.click()
    page.wait_for_load_state()


def _h1(page: Page) -> str:
    return " ".join(page.locator("main h1").first.inner_text().split())


# -- zoom and reflow -------------------------------------------------------------------------------

# The controls a person uses: not hidden inputs, not the honeypot (visually hidden, aria-hidden).
_CONTROLS = """
(root) => [...root.querySelectorAll("input, select, textarea, button")].filter((el) =>
  el.type !== "hidden" && !el.closest("[aria-hidden=true], .visually-hidden, [hidden]")
  && el.checkVisibility({visibilityProperty: true}))
"""

_REFLOW = (
    """
() => {
  const controls = ("""
    + _CONTROLS
    + """)(document.body);
  const scroller = document.scrollingElement;
  const width = scroller.clientWidth;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.name ? "[name=" + el.name + "]" : "")
    + (el.type === "submit" || el.tagName === "BUTTON" ? "(" + el.innerText.trim() + ")" : "");
  const unreachable = [];
  for (const el of controls) {
    el.scrollIntoView({block: "center", inline: "center", behavior: "instant"});
    const rect = el.getBoundingClientRect();
    if (rect.width < 1 || rect.height < 1 || rect.left < -1 || rect.right > width + 1) {
      const span = Math.round(rect.left) + ".." + Math.round(rect.right);
      unreachable.push(describe(el) + " at " + span);
      continue;
    }
    const hit = document.elementFromPoint(rect.left + rect.width / 2, rect.top + rect.height / 2);
    const label = hit && hit.closest("label");
    if (!hit || !(hit === el || el.contains(hit) || (label && label.control === el))) {
      const cover = hit ? hit.outerHTML.slice(0, 80) : "nothing";
      unreachable.push(describe(el) + " covered by " + cover);
    }
  }
  window.scrollTo(0, 0);
  const clipped = [];
  for (const el of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(el);
    const hides = (value) => value === "hidden" || value === "clip";
    const cuts = hides(style.overflowX) || hides(style.overflowY)
      || style.textOverflow === "ellipsis";
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1 || el.closest(".visually-hidden")) continue;
    const text = (el.innerText || el.textContent || "").trim();
    if (el instanceof SVGElement) {
      // A picture's label: inside its shape (a phase's pill) and inside the picture.
      if (el.tagName !== "text") continue;
      const shape = el.parentElement.querySelector(":scope > rect, :scope > circle");
      const svg = el.ownerSVGElement.getBoundingClientRect();
      for (const box of [shape ? shape.getBoundingClientRect() : null, svg]) {
        if (box && (rect.left < box.left - 1 || rect.right > box.right + 1)) {
          clipped.push("svg text " + text + " [" + Math.round(rect.left) + ".."
            + Math.round(rect.right) + "] outside [" + Math.round(box.left) + ".."
            + Math.round(box.right) + "]");
        }
      }
      continue;
    }
    if (!cuts) {
      // Text of its own sticking out of a box that does not scroll: it overlaps its neighbours.
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      const scrolls = ["auto", "scroll"].includes(style.overflowX);
      if (own && !scrolls && style.display !== "inline" && el.clientWidth > 0
          && el.scrollWidth > el.clientWidth + 1) {
        clipped.push(describe(el) + " spills " + el.scrollWidth + " > " + el.clientWidth
          + ": " + text.slice(0, 60));
      }
      continue;
    }
    if (!text) continue;
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
      clipped.push(describe(el) + " " + el.scrollWidth + "x" + el.scrollHeight + " in "
        + el.clientWidth + "x" + el.clientHeight + ": " + text.slice(0, 60));
    }
  }
  return {
    scrollWidth: scroller.scrollWidth, clientWidth: width,
    controls: controls.length,
    submits: controls.filter((el) => el.type === "submit").length,
    unreachable, clipped,
  };
}
"""
)

# What a person gets from the page: its main text, its controls (name and value) and every
# link it shows (the site navigation and language switch too).
_CONTENT = (
    """
() => {
  const main = document.querySelector("main");
  const controls = ("""
    + _CONTROLS
    + """)(main).map((el) => el.name + "=" + el.value);
  const links = [...document.querySelectorAll("a[href]")]
    .filter((a) => a.checkVisibility({visibilityProperty: true}))
    .map((a) => a.getAttribute("href"));
  return {text: main.innerText.replace(/\\s+/g, " ").trim(), controls, links};
}
"""
)


@dataclass
class ZoomReport:
    zoom: str
    language: str
    pages: list[str] = field(default_factory=list)
    controls: int = 0


def _check_reflow(page: Page, report: ZoomReport, name: str, *, form: bool) -> None:
    where = f"{name} at {report.zoom} in {report.language}"
    result = page.evaluate(_REFLOW)
    assert result["scrollWidth"] <= result["clientWidth"], (
        f"{where}: scrolls horizontally ({result['scrollWidth']} > {result['clientWidth']} px): "
        + str(page.evaluate(_OVERFLOWING)["found"])
    )
    assert not result["unreachable"], f"{where}: controls out of reach: {result['unreachable']}"
    assert not result["clipped"], f"{where}: text clipped: {result['clipped']}"
    assert result["submits"] >= 1 or not form, f"{where}: no submit button"
    # Nothing lost: the same text and controls as in the unzoomed 1280 px window.
    zoomed = page.evaluate(_CONTENT)
    viewport = page.viewport_size
    assert viewport is not None
    page.set_viewport_size(DESKTOP)
    unzoomed = page.evaluate(_CONTENT)
    page.set_viewport_size(viewport)
    assert zoomed == unzoomed, f"{where}: content differs from 1280 px"
    report.pages.append(name)
    report.controls += result["controls"]
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"\W+", "-", name)
        page.screenshot(
            path=str(SHOTS / f"zoom-{report.zoom[:-1]}-{report.language}-{slug}.png"),
            full_page=True,
        )


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("zoom", list(ZOOMS))
def test_zoom_and_reflow(
    contexts: Callable[..., BrowserContext], demo: Demo, zoom: str, language: str
) -> None:
    viewport, scale = ZOOMS[zoom]
    context = contexts(viewport=viewport, device_scale_factor=scale, locale=LANGUAGES[language])
    page = context.new_page()
    page.set_default_timeout(15_000)
    report = ZoomReport(zoom, language)

    def check(name: str, form: bool = True) -> None:
        assert page.get_attribute("html", "lang") == language
        assert page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
        _check_reflow(page, report, name, form=form)

    page.goto(f"/surveys/{demo.survey_id}")
    check("survey intro")
    _press(page, "start")
    _press(page, "continue")  # nothing answered: the error summary and messages
    expect(page.locator(".error-summary")).to_be_visible()
    check("survey page with errors")
    for step in range(1, 13):
        if page.locator("main button[value=submit]").count():
            break
        check(f"survey page {step}")
        answer_page(page)
        _press(page, "continue")
        assert not page.locator(".error-summary").count(), page.locator("main").inner_text()
    check("check answers")
    _press(page, "submit")
    expect(page.locator("main [data-receipt]")).to_be_visible()
    check("confirmation", form=False)

    page.goto(f"/processes/{demo.process_id}")
    check("process page", form=False)
    page.goto(f"/processes/{demo.ideas_process_id}/ideas/new")
    check("idea submission")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    expect(page.locator(".error-summary")).to_be_visible()
    check("idea submission with errors")
    page.goto(f"/measures/{demo.measure_id}")
    check("measure consultation")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    expect(page.locator(".error-summary")).to_be_visible()
    check("measure consultation with errors")
    print(f"\nzoom {zoom} {language}: {len(report.pages)} pages, {report.controls} controls")


# -- the accessibility tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class AXNode:
    role: str
    name: str
    properties: dict[str, Any]
    dom_id: int | None


def reading_order(cdp: CDPSession) -> list[AXNode]:
    """Chromium's accessibility tree, flattened depth first in reading order, without the
    nodes it ignores (their children stay)."""
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    by_id = {node["nodeId"]: node for node in nodes}
    root = nodes[0]
    order: list[AXNode] = []

    def visit(node: dict[str, Any]) -> None:
        if not node.get("ignored"):
            properties = {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
            order.append(
                AXNode(
                    role=str(node.get("role", {}).get("value", "")),
                    name=" ".join(str(node.get("name", {}).get("value", "")).split()),
                    properties=properties,
                    dom_id=node.get("backendDOMNodeId"),
                )
            )
        for child in node.get("childIds", []):
            if child in by_id:
                visit(by_id[child])

    visit(root)
    return order


def _backend_ids(cdp: CDPSession, selector: str) -> list[int]:
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    found = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]
    return [cdp.send("DOM.describeNode", {"nodeId": n})["node"]["backendNodeId"] for n in found]


_LABELS = (
    """
() => ("""
    + _CONTROLS
    + """)(document.querySelector("main")).map((el) => {
  if (el.tagName === "BUTTON") return el.innerText;
  return [...el.labels].map((label) => label.innerText).join(" ");
}).map((text) => text.replace(/\\s+/g, " ").trim())
"""
)

_FIELDSETS = """
() => [...document.querySelectorAll("main fieldset")].map((set) => {
  const legend = set.querySelector(":scope > legend");
  return legend ? legend.innerText.replace(/\\s+/g, " ").trim() : "";
})
"""


def check_tree(page: Page, cdp: CDPSession, name: str) -> list[AXNode]:
    """One h1, no skipped heading levels, names from visible labels, groups named by legends."""
    order = reading_order(cdp)
    headings = [(int(n.properties.get("level") or 0), n.name) for n in order if n.role == "heading"]
    ones = [text for level, text in headings if level == 1]
    assert len(ones) == 1, f"{name}: h1s {ones}"
    first = next(i for i, (level, _text) in enumerate(headings) if level == 1)
    # Before the h1 only the error summary's title (GOV.UK: the summary opens <main>).
    before = headings[:first]
    summary = page.locator(".error-summary__title")
    expected = [(2, " ".join(summary.inner_text().split()))] if summary.count() else []
    assert before == expected, f"{name}: headings before the h1: {before}"
    previous = 1
    for level, text in headings[first + 1 :]:
        assert level <= previous + 1, f"{name}: h{previous} → h{level} ({text!r}): {headings}"
        previous = level

    # Every control's accessible name (Chromium's computation) is its visible label.
    labels = page.evaluate(_LABELS)
    dom_ids = _backend_ids(cdp, "main input, main select, main textarea, main button")
    nodes = {n.dom_id: n for n in order}
    controls = page.evaluate(
        "() => { const all = [...document.querySelectorAll("
        "'main input, main select, main textarea, main button')];"
        f" const shown = ({_CONTROLS})(document.querySelector('main'));"
        " return shown.map((el) => all.indexOf(el)); }"
    )
    assert len(controls) == len(labels)
    for index, label in zip(controls, labels, strict=True):
        node = nodes.get(dom_ids[index])
        assert node is not None, f"{name}: control {index} ({label!r}) not in the tree"
        assert label, f"{name}: control {index} has no visible label"
        assert node.name == label, f"{name}: {node.role} named {node.name!r}, label {label!r}"

    # Choice questions are groups named by their legend.
    legends = page.evaluate(_FIELDSETS)
    group_ids = _backend_ids(cdp, "main fieldset")
    for dom_id, legend in zip(group_ids, legends, strict=True):
        node = nodes.get(dom_id)
        assert node is not None and node.role == "group", f"{name}: fieldset {legend!r}: {node}"
        assert legend and node.name == legend, f"{name}: group {node.name!r}, legend {legend!r}"
    return order


def test_screen_reader_order_of_the_survey_flow(
    contexts: Callable[..., BrowserContext], demo: Demo
) -> None:
    page = contexts(viewport=DESKTOP).new_page()
    page.set_default_timeout(15_000)
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("Accessibility.enable")
    checked: list[str] = []

    page.goto(f"/surveys/{demo.survey_id}")
    check_tree(page, cdp, "intro")
    checked.append("intro")
    _press(page, "start")
    for step in range(1, 13):
        if page.locator("main button[value=submit]").count():
            break
        name = f"page {step}"
        check_tree(page, cdp, name)
        checked.append(name)
        if step == 1:  # sent with nothing answered: the error summary
            _press(page, "continue")
            check_error_summary(page, cdp, f"{name} with errors")
            checked.append(f"{name} with errors")
        answer_page(page)
        _press(page, "continue")
        assert not page.locator(".error-summary").count(), page.locator("main").inner_text()
    check_tree(page, cdp, "check answers")
    checked.append("check answers")
    _press(page, "submit")
    expect(page.locator("main [data-receipt]")).to_be_visible()
    check_tree(page, cdp, "confirmation")
    checked.append("confirmation")
    print(f"\nscreen-reader order: {len(checked)} pages: {checked}")


def test_screen_reader_order_of_the_idea_and_feedback_forms(
    contexts: Callable[..., BrowserContext], demo: Demo
) -> None:
    """The same checks on the other resident forms, before and after a send with errors."""
    page = contexts(viewport=DESKTOP).new_page()
    page.set_default_timeout(15_000)
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("Accessibility.enable")
    for name, path in (
        ("idea submission", f"/processes/{demo.ideas_process_id}/ideas/new"),
        ("measure consultation", f"/measures/{demo.measure_id}"),
    ):
        page.goto(path)
        check_tree(page, cdp, name)
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_load_state()
        check_error_summary(page, cdp, f"{name} with errors")


def check_error_summary(page: Page, cdp: CDPSession, name: str) -> None:
    page.wait_for_function("document.activeElement.classList.contains('error-summary')")
    order = check_tree(page, cdp, name)
    main = next(i for i, n in enumerate(order) if n.role == "main")
    summary_id = _backend_ids(cdp, ".error-summary")[0]
    first = next(n for n in order[main + 1 :] if n.role not in ("generic", "none"))
    assert first.dom_id == summary_id, f"{name}: main opens with {first}, not the error summary"
    assert first.role == "alert" and first.properties.get("focused") is True, first
    links = page.locator(".error-summary a")
    assert links.count() >= 1
    tree_links = [
        n.name
        for n in order
        if n.role == "link" and n.dom_id in _backend_ids(cdp, ".error-summary a")
    ]
    assert tree_links == [" ".join(t.split()) for t in links.all_inner_texts()], name
    for link in links.all():
        href = link.get_attribute("href") or ""
        assert re.fullmatch(r"#[\w-]+", href), href
        target = page.locator(href)
        assert target.count() == 1, f"{name}: {href} points at nothing"
        assert target.evaluate("el => el.matches('input, select, textarea')"), href
        assert target.get_attribute("aria-invalid") == "true" or target.evaluate(
            "el => !!el.closest('fieldset[aria-describedby]')"
        ), f"{name}: {href} is not marked invalid"


# -- keyboard only ---------------------------------------------------------------------------------

_FOCUS = """
() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
    && !/rgba\\(.*, 0\\)$|transparent/.test(style.outlineColor);
  const shadow = style.boxShadow && style.boxShadow !== "none";
  return {
    tag: el.tagName.toLowerCase(), type: el.type || "", name: el.name || "", value: el.value || "",
    checked: !!el.checked, id: el.id, text: (el.innerText || "").trim().slice(0, 40),
    indicator: outline || shadow, outline: style.outline, shadow: style.boxShadow,
    ranked: !!el.closest("fieldset.ranking"),
    firstPlace: !!el.closest("fieldset.ranking") && el.closest("fieldset.ranking")
      .querySelector("select") === el,
    groupAnswered: el.name ? !!document.querySelector(
      `[name="${el.name}"]:checked`) : false,
  };
}
"""


@pytest.mark.parametrize(
    ("viewport", "scale", "locale"),
    [(DESKTOP, 1, "de-DE"), (ZOOMS["400%"][0], 4, "ar")],
    ids=["1280px-de", "400%-ar"],
)
def test_keyboard_only_journey_with_visible_focus(
    contexts: Callable[..., BrowserContext],
    demo: Demo,
    viewport: ViewportSize,
    scale: int,
    locale: str,
) -> None:
    page = contexts(viewport=viewport, device_scale_factor=scale, locale=locale).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"/surveys/{demo.survey_id}")
    focused: list[str] = []

    def tab_to(
        wanted: Callable[[dict[str, Any]], bool], act: Callable[[dict[str, Any]], None]
    ) -> None:
        for _ in range(120):
            page.keyboard.press("Tab")
            state = page.evaluate(_FOCUS)
            if state["tag"] == "body":
                continue
            what = f"{state['tag']}#{state['id']}[{state['name']}] {state['text']}"
            assert state["indicator"], f"no visible focus on {what}: {state}"
            focused.append(what)
            if wanted(state):
                return
            act(state)
        pytest.fail("never reached the control")

    def answer(state: dict[str, Any]) -> None:
        if state["type"] in ("radio", "checkbox") and not state["groupAnswered"]:
            page.keyboard.press("Space")
        elif state["tag"] == "select" and not state["value"]:
            if not state["ranked"] or state["firstPlace"]:
                page.keyboard.press("ArrowDown")
        elif state["tag"] == "textarea" and not state["value"]:
            page.keyboard.type("Danke für die Befragung!")
        elif state["tag"] == "input" and state["type"] in ("text", "") and not state["value"]:
            page.keyboard.type("Test" if state["name"].startswith("o_") else "3")

    def nothing(state: dict[str, Any]) -> None:
        del state

    tab_to(lambda s: s["value"] == "start", nothing)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    pages = 0
    for _ in range(12):
        if page.locator("main button[value=submit]").count():
            break
        tab_to(lambda s: s["value"] == "continue", answer)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert not page.locator(".error-summary").count(), page.locator("main").inner_text()
        pages += 1
    tab_to(lambda s: s["value"] == "submit", nothing)
    page.keyboard.press("Enter")
    page.locator("main [data-receipt]").wait_for()
    if locale == "de-DE":
        assert _h1(page) in DONE_HEADINGS
    print(f"\nkeyboard: {pages} question pages, {len(focused)} focus stops, all with an indicator")
