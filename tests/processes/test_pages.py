"""The HTML pages: home page, process page with the cycle picture, staff dashboard."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

from quartier.core.i18n import translations
from quartier.processes.pages import cycle_diagram
from quartier.processes.phases import PhaseKey
from tests.conftest import LoginFactory

from .conftest import Client, CreateProcess, Headers

HTML = {"Accept": "text/html"}


class _Collector(HTMLParser):
    """Records start tags with their attributes, to check markup without a browser."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = _Collector()
    collector.feed(html)
    return collector.tags


async def test_home_lists_current_processes_only(
    client: Client, create_process: CreateProcess, areas: dict[str, uuid.UUID]
) -> None:
    current = await create_process(
        publish=True, title="Kinderarmut vorbeugen", area_codes=["010221"]
    )
    await create_process(title="Noch ein Entwurf")
    response = await client.get("/", headers=HTML)
    assert response.status_code == 200
    html = response.text
    assert "Kinderarmut vorbeugen" in html
    assert f'href="/processes/{current["id"]}"' in html
    assert "Moabit West" in html
    assert "Sozialpolitische Leitlinien" in html  # active phase, German by default
    assert "Noch ein Entwurf" not in html
    assert not any("style" in attrs for _, attrs in _tags(html)), "no inline styles (CSP)"
    assert "<script>" not in html


async def test_process_page_draws_the_cycle_and_marks_the_active_phase(
    client: Client, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True, activate=("needs_assessment",))
    response = await client.get(f"/processes/{process['id']}", headers=HTML)
    assert response.status_code == 200
    html = response.text
    tags = _tags(html)
    svg = [attrs for tag, attrs in tags if tag == "svg"]
    assert svg and svg[0]["role"] == "img"
    assert svg[0]["aria-labelledby"] == "cycle-title cycle-desc"
    assert '<title id="cycle-title">' in html and '<desc id="cycle-desc">' in html
    assert html.count('class="cycle-phase cycle-phase--') == 7
    assert html.count("cycle-phase--active") == 1
    assert html.count('class="cycle-arrow"') == 7
    # not by colour alone: a dashed halo, a hand from the centre and the name in the centre
    assert 'class="cycle-halo"' in html and 'class="cycle-hand"' in html
    assert "Jetzt:" in html
    # the same information as an ordered list
    items = [
        attrs for tag, attrs in tags if tag == "li" and attrs.get("id", "").startswith("phase-")
    ]
    assert [attrs["id"] for attrs in items][:2] == ["phase-guidelines", "phase-needs_assessment"]
    assert len(items) == 7
    assert [attrs.get("aria-current") for attrs in items].count("step") == 1
    assert items[1]["aria-current"] == "step"
    assert re.search(r'<ol class="phase-list">', html)
    # what residents can do now, from the sections the modules contribute: no survey is
    # published, so surveys show no (empty) card (tests/participation/test_sections.py)
    assert translations("de").gettext("Take part in the survey") not in html
    assert not any("style" in attrs for _, attrs in tags)


async def test_process_page_says_when_nothing_is_open_and_what_comes_next(
    client: Client, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True, activate=("resource_provision",))
    html = (
        await client.get(f"/processes/{process['id']}", headers=HTML | {"Accept-Language": "en"})
    ).text
    assert "Right now there is nothing to take part in" in html
    assert "Next: in the phase “Review of impact and efficiency” you can:" in html
    assert "Take part in the survey" in html


async def test_process_page_shows_mandate_and_the_contributions_table(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True)
    organisation = await client.post(
        "/api/v1/organisations",
        json={"name": "Diakonie Stadtmitte", "type": "welfare_organisation"},
        headers=planner,
    )
    org_id = organisation.json()["id"]
    await client.put(
        f"/api/v1/processes/{process['id']}/contributions/{org_id}/needs_assessment",
        json={"text": "Daten der Familienberatung"},
        headers=planner,
    )
    await client.post(
        f"/api/v1/processes/{process['id']}/roles",
        json={"organisation_id": org_id, "phase": "evaluation", "role": "evaluating"},
        headers=planner,
    )
    html = (
        await client.get(f"/processes/{process['id']}", headers=HTML | {"Accept-Language": "en"})
    ).text
    assert "Jugendhilfeausschuss" in html  # report recipients of the mandate
    assert "<table" in html and "<caption" in html
    assert '<th scope="row">Diakonie Stadtmitte</th>' in html
    assert html.count('<th scope="col">') == 8  # organisation + seven phases
    assert "Daten der Familienberatung" in html
    assert "Evaluating" in html


async def test_drafts_are_not_shown_to_the_public_but_to_staff(
    client: Client, create_process: CreateProcess, login_as: LoginFactory
) -> None:
    draft = await create_process(title="Geheimer Entwurf")
    assert (await client.get(f"/processes/{draft['id']}", headers=HTML)).status_code == 404
    staff = await login_as("moderator")
    response = await client.get(f"/processes/{draft['id']}", headers=HTML | staff)
    assert response.status_code == 200
    assert "Geheimer Entwurf" in response.text


async def test_dashboard_lists_all_processes_for_staff(
    client: Client, create_process: CreateProcess, login_as: LoginFactory
) -> None:
    await create_process(title="Entwurf A")
    await create_process(publish=True, title="Aktiv B", activate=("evaluation",))
    anonymous = await client.get("/dashboard", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    staff = await login_as("moderator")
    response = await client.get("/dashboard", headers=HTML | staff)
    assert response.status_code == 200
    assert "Entwurf A" in response.text and "Aktiv B" in response.text
    assert "Überprüfung von Wirkung und Wirtschaftlichkeit" in response.text


def test_cycle_geometry_places_seven_phases_clockwise_from_the_top() -> None:
    diagram = cycle_diagram(PhaseKey.EVALUATION)
    assert diagram.nodes[0].info.key is PhaseKey.GUIDELINES
    top = diagram.nodes[0]
    assert top.x == diagram.centre_x and top.y < diagram.centre_y
    assert diagram.nodes[1].x > diagram.centre_x  # clockwise: the second phase is to the right
    assert [node.state for node in diagram.nodes] == ["done"] * 5 + ["active", "upcoming"]
    for node in diagram.nodes:
        assert node.left >= 0 and node.left + diagram.pill_width <= diagram.width
        assert node.top >= 0 and node.top + diagram.pill_height <= diagram.height
    for arrow in diagram.arrows:
        assert (arrow.x1, arrow.y1) != (arrow.x2, arrow.y2)
