"""What planners hand to the council: the consultation report (JSON, printable page, PDF), the
decision template with the adoption recorded on the measure, and the feedback summary as files
in the surveys' export formats. The report is public exactly when the summary is: after the
window closes, if the consultation publishes its summary; staff always."""

from __future__ import annotations

import csv
import io
import itertools
import re
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from pypdf import PdfReader

from quartier.measures import documents
from quartier.measures import schemas as s
from quartier.measures.feedback import DISCLOSURE_METHOD, INTERVAL_METHOD
from quartier.measures.models import MeasureStatus
from tests.support.disclosure import without_noise  # noqa: F401
from tests.support.xlsx import metadata_sheet

from .conftest import Client, CreateMeasure, Headers, Json, measure_body

Consult = Callable[..., Awaitable[Json]]
HTML = {"Accept": "text/html", "Accept-Language": "en"}
ENGLISH = {"Accept-Language": "en"}
PDF = "application/pdf"
_tokens = itertools.count()


def pdf_text(content: bytes) -> tuple[PdfReader, str]:
    """The PDF and its text, with hyphenated words joined and lines run together."""
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, " ".join(text.replace("\u2010\n", "").split())


async def give(client: Client, measure_id: str, **body: Any) -> None:
    headers = {"Respondent-Token": f"report-browser-{next(_tokens):06d}-abcdef"}
    response = await client.post(
        f"/api/v1/measures/{measure_id}/feedback", json=body, headers=headers
    )
    assert response.status_code == 201, response.text


async def consulted_measure(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
    *,
    public: bool = True,
    goal_ids: list[str] | None = None,
    translations: dict[str, Any] | None = None,
) -> str:
    """A measure consulted on with 8 residents, 1 professional and Caritas by its code, then
    revised (the window closes) and edited into version 2."""
    measure_id = await create_measure(
        goal_ids=goal_ids or [], **({"translations": translations} if translations else {})
    )
    await consult(measure_id, k_threshold=3, min_respondents=3, summary_public=public)
    issued = await client.post(
        f"/api/v1/measures/{measure_id}/consultation/codes",
        json={"organisation_ids": [str(organisation)]},
        headers=planner,
    )
    code = issued.json()[0]["code"]
    for index in range(8):
        comments = [{"section": "offer", "body": "Bitte auch abends öffnen."}] if index < 2 else []
        await give(
            client,
            measure_id,
            stance="support" if index < 6 else "oppose",
            ratings={"relevance": 5 if index < 6 else 2},
            area_code="010101",
            comments=comments,
        )
    await give(client, measure_id, stance="neutral", kind="professional")
    await give(
        client,
        measure_id,
        stance="support",
        kind="organisation",
        organisation_code=code,
        general_comment="Wir tragen das Angebot mit.",
    )
    assert (await client.get(f"/api/v1/measures/{measure_id}/consultation-report")).status_code in (
        403,
    )
    revised = await client.post(
        f"/api/v1/measures/{measure_id}/revise", json={"reason": "Rückmeldungen"}, headers=planner
    )
    assert revised.status_code == 200, revised.text
    body = measure_body(
        summary="Ein Familienzentrum mit Sprechstunde am Abend.",
        goal_ids=goal_ids or [],
        sections=[
            {"key": "offer", "title": "Angebot", "body": "Sprechstunde dienstags und abends."},
            {"key": "costs", "title": "Kosten", "body": "Personal und Sachkosten."},
        ],
    )
    edited = await client.put(f"/api/v1/measures/{measure_id}", json=body, headers=planner)
    assert edited.status_code == 200, edited.text
    return measure_id


async def test_the_report_says_who_was_asked_what_they_said_and_what_changed(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
) -> None:
    measure_id = await consulted_measure(client, create_measure, consult, planner, organisation)
    report = (
        await client.get(f"/api/v1/measures/{measure_id}/consultation-report", headers=planner)
    ).json()
    assert report["consulted"]["version"] == 1 and report["current_version"] == 2
    assert report["respondent_kinds"] == ["resident", "professional", "organisation"]
    assert report["organisations_asked"] == [
        {"organisation": {"id": str(organisation), "name": "Caritas Berlin"}, "answered": True}
    ]
    # what they said is the summary itself: the same figures, never recomputed
    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    assert report["summary"]["groups"] == summary["groups"]
    assert report["summary"]["responses_by_kind"] == summary["responses_by_kind"]
    # what changed: the diff from the consulted version to the current one
    fields = {change["field"] for change in report["changes"]["changes"]}
    assert fields == {"summary", "sections.offer"}
    assert report["changes"]["from_version"] == 1 and report["changes"]["to_version"] == 2


async def test_the_report_is_a_printable_page_and_the_same_document_as_pdf(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
) -> None:
    measure_id = await consulted_measure(client, create_measure, consult, planner, organisation)
    page = await client.get(f"/measures/{measure_id}/consultation-report", headers=HTML)
    assert page.status_code == 200, page.text
    assert '<html lang="en"' in page.text
    assert "<title>Consultation report: Familienzentrum Moabit</title>" in page.text
    assert 'role="img"' in page.text and "<svg" in page.text  # the stance chart
    assert "Caritas Berlin" in page.text and "Bitte auch abends öffnen." in page.text
    assert "consultation-report.pdf" in page.text

    for url in (
        f"/api/v1/measures/{measure_id}/consultation-report/pdf",
        f"/measures/{measure_id}/consultation-report.pdf",
    ):
        response = await client.get(url, headers=ENGLISH)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == PDF
        assert "attachment" in response.headers["content-disposition"]
        reader, text = pdf_text(response.content)
        assert len(reader.pages) >= 2
        assert reader.metadata is not None
        assert reader.metadata.title == "Consultation report: Familienzentrum Moabit"
        assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged
        for expected in (
            "Who was asked",
            "Caritas Berlin",
            "Wir tragen das Angebot mit.",
            "Angebot",  # comments under their section's title
            "Bitte auch abends öffnen.",
            "What changed since the consultation",
            "Sprechstunde dienstags und abends.",
            f"1 / {len(reader.pages)}",  # the page numbers of the document's stylesheet
        ):
            assert expected in text, expected
        assert "Download as PDF" not in text  # the page's own links stay on the page

    german = await client.get(
        f"/api/v1/measures/{measure_id}/consultation-report/pdf",
        headers={"Accept-Language": "de"},
    )
    reader, _ = pdf_text(german.content)
    assert reader.trailer["/Root"]["/Lang"] == "de"
    assert reader.metadata is not None and reader.metadata.title.startswith("Beteiligungsbericht")


async def test_the_report_maps_the_feedback_per_social_area_on_the_page_and_in_the_pdf(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    without_noise: None,  # noqa: F811 - exact counts: which group is withheld is certain
) -> None:
    """One map per anonymous kind over the measure's areas, server-rendered SVG (so the PDF
    has it too): the share in support from the summary's own published counts; an area with
    too few responses is hatched and says "protected", never 0. (That the maps show only
    published figures under real noise: tests/measures/test_summary_release.py.)"""
    measure_id = await create_measure(area_codes=["010101", "010102"])
    await consult(measure_id, k_threshold=3, min_respondents=3)
    for index in range(9):
        await give(
            client,
            measure_id,
            stance="support" if index < 6 else "oppose",
            area_code="010101",
        )
    await give(client, measure_id, stance="oppose", area_code="010102")
    revised = await client.post(  # closes the window: the report is public
        f"/api/v1/measures/{measure_id}/revise", json={"reason": "Rückmeldungen"}, headers=planner
    )
    assert revised.status_code == 200, revised.text
    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    groups = {group["key"]: group for group in summary["groups"]}
    west = groups["resident/010101"]
    assert not west["withheld"] and groups["resident/010102"]["withheld"]
    counts = {count["key"]: count["count"] for count in west["stances"]}
    assert counts == {"support": 6, "neutral": 0, "oppose": 3}
    expected = "66.7%"

    page = await client.get(f"/measures/{measure_id}/consultation-report", headers=HTML)
    assert page.status_code == 200, page.text
    html = page.text
    assert "Feedback per social area" in html
    for kind in ("resident", "professional"):
        start = html.index(f'<figure class="map" id="support-map-{kind}"')
        figure = html[start : html.index("</figure>", start)]
        assert figure.count("<path class=") == 2  # both areas of the measure are drawn
    resident = html[html.index('id="support-map-resident"') :]
    assert f"Moabit West: {expected} of {west['respondents']} responses" in resident
    assert "Moabit Ost: protected (too few people)" in resident
    assert 'class="map-protected" fill="url(#support-map-resident-hatch)"' in resident
    # the professionals answered nowhere: both areas protected, not 0
    professional = html[html.index('id="support-map-professional"') :]
    professional = professional[: professional.index("</table>")]
    assert "0% – 20%" in professional  # the legend: fixed fifths of the share
    cells = re.findall(r'<td class="numeric[^"]*">([^<]*)</td>', professional)
    assert cells == ["protected (too few people)"] * 2  # not 0
    # the feedback summary page shows the same maps with their tables (measures.support_maps)
    summary_page = await client.get(f"/measures/{measure_id}/summary", headers=HTML)
    assert summary_page.status_code == 200, summary_page.text
    for kind in ("resident", "professional"):
        assert _map_of(summary_page.text, kind) == _map_of(html, kind)

    response = await client.get(
        f"/api/v1/measures/{measure_id}/consultation-report/pdf", headers=ENGLISH
    )
    assert response.status_code == 200
    _, text = pdf_text(response.content)
    for title in (
        "Feedback per social area",
        "Residents: support per social area",
        "Professionals: support per social area",
        "Moabit West",
    ):
        assert title in text, title
    assert f"{expected} of {west['respondents']} responses" in text


async def test_residents_get_the_report_only_when_the_summary_is_released(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
) -> None:
    # open window: nobody but staff
    open_measure = await create_measure()
    await consult(open_measure)
    for url in (
        f"/api/v1/measures/{open_measure}/consultation-report",
        f"/api/v1/measures/{open_measure}/consultation-report/pdf",
        f"/measures/{open_measure}/consultation-report",
        f"/measures/{open_measure}/consultation-report.pdf",
    ):
        assert (await client.get(url, headers=ENGLISH)).status_code == 403, url
        assert (await client.get(url, headers=planner)).status_code == 200, url
    # closed, but the consultation does not publish its summary: still only staff
    private = await consulted_measure(
        client, create_measure, consult, planner, organisation, public=False
    )
    assert (await client.get(f"/api/v1/measures/{private}/consultation-report")).status_code == 403
    assert (await client.get(f"/measures/{private}/consultation-report.pdf")).status_code == 403
    # closed and published: everyone
    public = await consulted_measure(client, create_measure, consult, planner, organisation)
    answer = await client.get(f"/api/v1/measures/{public}/consultation-report")
    assert answer.status_code == 200
    assert answer.json()["organisations_asked"][0]["organisation"]["name"] == "Caritas Berlin"
    assert (
        await client.get(f"/measures/{public}/consultation-report", headers=HTML)
    ).status_code == 200
    # a draft without consultation has no report
    draft = await create_measure()
    assert (
        await client.get(f"/api/v1/measures/{draft}/consultation-report", headers=planner)
    ).status_code == 404
    assert (await client.get(f"/api/v1/measures/{draft}/consultation-report")).status_code == 404


async def test_the_decision_template_shows_goals_resources_result_and_the_recorded_decision(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
    measuring_process: uuid.UUID,
) -> None:
    goal = await client.post(
        f"/api/v1/processes/{measuring_process}/goals",
        json={
            "statement": "Jede Familie in Moabit findet Beratung in der Nähe.",
            "need_categories": ["childcare"],
            "area_codes": ["010101"],
            "evidence": [
                {"kind": "link", "label": "Kitabericht 2026", "url": "https://example.org/k"}
            ],
        },
        headers=planner,
    )
    assert goal.status_code == 201, goal.text
    goal_id = goal.json()["id"]
    measure_id = await consulted_measure(
        client, create_measure, consult, planner, organisation, goal_ids=[goal_id]
    )
    url = f"/api/v1/measures/{measure_id}/decision-template"
    before = (await client.get(url, headers=planner)).json()
    assert before["adoption"] is None and before["status"] == MeasureStatus.REVISED
    assert before["goals"][0]["statement"].startswith("Jede Familie")
    assert before["goals"][0]["evidence"][0]["label"] == "Kitabericht 2026"
    assert before["content"]["version"] == 2
    result = before["consultation"]
    assert result["version"] == 1 and result["organisations"][0]["stance"] == "support"
    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    assert result["stances"] == summary["groups"][0]["stances"]  # the summary's own figures

    adopted = await client.post(
        f"/api/v1/measures/{measure_id}/adopt",
        json={
            "reason": "Beschluss des Ausschusses",
            "decision_body": "Ausschuss für Soziales",
            "decision_reference": "Drucksache 0815/2026",
            "decided_on": "2026-11-20",
        },
        headers=planner,
    )
    assert adopted.status_code == 200, adopted.text
    after = (await client.get(url, headers=planner)).json()
    assert after["adoption"]["decision"] == {
        "body": "Ausschuss für Soziales",
        "reference": "Drucksache 0815/2026",
        "decided_on": "2026-11-20",
    }
    assert after["adoption"]["version"] == 2 and after["status"] == "adopted"
    history = (
        await client.get(f"/api/v1/measures/{measure_id}/transitions", headers=planner)
    ).json()
    assert history[-1]["decision"]["reference"] == "Drucksache 0815/2026"
    assert history[0]["decision"] is None

    pdf = await client.get(f"{url}/pdf?lang=en", headers=planner | ENGLISH)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == PDF
    reader, text = pdf_text(pdf.content)
    assert reader.metadata is not None
    assert reader.metadata.title == "Decision template: Familienzentrum Moabit"
    for expected in (
        "Proposed decision",
        "Drucksache 0815/2026",
        "Ausschuss für Soziales",
        "20.11.2026",
        "Jede Familie in Moabit findet Beratung in der Nähe.",
        "Kitabericht 2026",
        "Sozialarbeit",  # resources
        "Familien in Beratung",  # criteria of success
        "Caritas Berlin",
    ):
        assert expected in text, expected
    page = await client.get(
        f"/dashboard/measures/{measure_id}/decision-template?lang=en", headers=planner | HTML
    )
    assert page.status_code == 200 and "Drucksache 0815/2026" in page.text
    assert "<title>Decision template: Familienzentrum Moabit</title>" in page.text
    staff = await client.get(f"/dashboard/measures/{measure_id}", headers=planner | HTML)
    assert f"/dashboard/measures/{measure_id}/decision-template" in staff.text
    assert f"/measures/{measure_id}/consultation-report" in staff.text
    assert "(Ausschuss für Soziales, Drucksache 0815/2026, 20.11.2026)" in staff.text


async def test_the_decision_template_is_for_staff(
    client: Client, create_measure: CreateMeasure, make_token: Any
) -> None:
    measure_id = await create_measure()
    url = f"/api/v1/measures/{measure_id}/decision-template"
    assert (await client.get(url)).status_code == 401
    assert (await client.get(f"{url}/pdf")).status_code == 401
    reader = await make_token({"measures:read"})
    assert (await client.get(url, headers=reader)).json()["consultation"] is None
    page = await client.get(
        f"/dashboard/measures/{measure_id}/decision-template",
        headers=HTML,
        follow_redirects=False,
    )
    assert page.status_code in (303, 401)


async def test_adoption_on_the_staff_page_records_the_decision(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
) -> None:
    measure_id = await create_measure()
    await consult(measure_id)
    await client.post(
        f"/api/v1/measures/{measure_id}/revise", json={"reason": "fertig"}, headers=planner
    )
    staff = await client.get(f"/dashboard/measures/{measure_id}", headers=planner | HTML)
    assert 'name="decision_reference"' in staff.text
    step = f"/dashboard/measures/{measure_id}/step"
    bad = await client.post(
        step,
        data={"step": "adopt", "reason": "Beschluss", "decided_on": "20.11.2026"},
        headers=planner | HTML,
    )
    assert bad.status_code == 422 and 'href="#decided_on"' in bad.text
    done = await client.post(
        step,
        data={"step": "adopt", "reason": "Beschluss", "decision_reference": "B-17/2026"},
        headers=planner | HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303
    template = (
        await client.get(f"/api/v1/measures/{measure_id}/decision-template", headers=planner)
    ).json()
    decision = template["adoption"]["decision"]
    assert decision["reference"] == "B-17/2026" and decision["body"] is None
    assert decision["decided_on"] == datetime.now(UTC).date().isoformat()


async def test_the_summary_exports_in_the_surveys_formats_with_their_metadata(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
    make_token: Any,
) -> None:
    measure_id = await consulted_measure(client, create_measure, consult, planner, organisation)
    exporter = await make_token({"exports:read"})
    url = f"/api/v1/measures/{measure_id}/summary/export"
    summary = (await client.get(f"/api/v1/measures/{measure_id}/summary", headers=planner)).json()
    everyone = summary["groups"][0]

    as_json = await client.get(url, headers=exporter)
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["groups"] == summary["groups"]

    as_csv = await client.get(url, params={"format": "csv"}, headers=exporter)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert (
        f'filename="feedback-measure-{measure_id}-v1.csv"'
        in (as_csv.headers["content-disposition"])
    )
    lines = as_csv.text.splitlines()
    meta = [line for line in lines if line.startswith("#")]
    for key in ("measure", "k_threshold", "min_respondents", "disclosure_method", "generated_at"):
        assert any(line.startswith(f"# {key}: ") for line in meta), key
    table = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    group_all = next(r for r in table if r["row_type"] == "group" and r["group"] == "all")
    assert group_all["respondents"] == str(everyone["respondents"])
    stances = {
        r["item_label"]: r["count"]
        for r in table
        if r["row_type"] == "stance" and r["group"] == "all"
    }
    assert stances == {c["key"]: str(c["count"]) for c in everyone["stances"]}
    withheld = [r for r in table if r["row_type"] == "group" and r["group_withheld"] == "true"]
    assert withheld and all(r["respondents"] == "" for r in withheld)  # empty, never 0
    assert any(r["row_type"] == "organisation" and r["group"] == "Caritas Berlin" for r in table)
    assert any(r["row_type"] == "comment" and r["item"] == "offer" for r in table)

    german = await client.get(url, params={"format": "csv-de"}, headers=exporter)
    assert german.content.startswith("\ufeff".encode())
    assert "Zeilenart;Gruppe;" in german.text
    # Issue #13: every metadata value in German in csv-de and XLSX, English in csv.
    methods = {
        "interval_method": INTERVAL_METHOD.of(summary["metadata"]["interval_method"]),
        "disclosure_method": DISCLOSURE_METHOD.of(summary["metadata"]["disclosure_method"]),
    }
    assert methods["disclosure_method"].de.startswith("Cell-Key-Verfahren")
    assert methods["interval_method"].de.startswith("t-Intervall")
    for key, label in (
        ("interval_method", "Konfidenzintervall"),
        ("disclosure_method", "Geheimhaltungsverfahren"),
    ):
        assert f"# {label}: {methods[key].de}\r\n" in german.text
        assert methods[key].en not in german.text
        assert f"# {key}: {methods[key].en}\r\n" in as_csv.text
    assert "# Gewichtung: keine\r\n" in german.text
    assert "# Gruppen: alle; Art der Antwortenden; Art × Sozialraum\r\n" in german.text
    assert "# level: all; kind of respondents; kind × social area\r\n" in as_csv.text

    workbook = await client.get(url, params={"format": "xlsx"}, headers=exporter)
    archive = zipfile.ZipFile(io.BytesIO(workbook.content))
    sheets = re.findall(r'<sheet name="([^"]+)"', archive.read("xl/workbook.xml").decode())
    assert sheets == ["Rückmeldungen", "Metadaten"]
    values = metadata_sheet(archive, 2)
    for key, method in methods.items():
        assert values[key] == method.de
    assert (values["weighting"], values["level"]) == (
        "keine",
        "alle; Art der Antwortenden; Art × Sozialraum",
    )
    assert "# attribution: " in as_csv.text  # the sources of the area data, as the surveys'

    geojson = await client.get(url, params={"format": "geojson"}, headers=exporter)
    assert geojson.status_code == 200, geojson.text
    assert geojson.headers["content-type"].startswith("application/geo+json")
    assert (
        f'filename="feedback-measure-{measure_id}-v1.geojson"'
        in (geojson.headers["content-disposition"])
    )
    collection = geojson.json()
    assert collection["type"] == "FeatureCollection"
    assert collection["metadata"]["k_threshold"] == summary["metadata"]["k_threshold"]
    assert collection["metadata"]["disclosure_method"].startswith("cell key method")
    assert collection["metadata"]["measure_title"] == "Familienzentrum Moabit"
    assert collection["metadata"]["attribution"]
    assert collection["responses_by_kind"] == summary["responses_by_kind"]
    assert [g["key"] for g in collection["totals"]] == [
        g["key"] for g in summary["groups"] if g["area_code"] is None
    ]
    assert collection["organisations"][0]["organisation"]["name"] == "Caritas Berlin"
    features = {feature["id"]: feature for feature in collection["features"]}
    # the measure's area and the area the residents named, with their boundaries
    assert set(features) == {"0101", "010101"}
    groups = {g["key"]: g for g in summary["groups"]}
    for code, feature in features.items():
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        properties = feature["properties"]
        for kind in ("resident", "professional"):
            group = groups[f"{kind}/{code}"]
            assert properties[f"{kind}_respondents"] == group["respondents"]
            assert properties[f"{kind}_withheld"] == group["withheld"]
            for count in group["stances"]:
                assert properties[f"{kind}_{count['key']}"] == count["count"]
            if group["withheld"]:  # protected: null, never 0
                assert properties[f"{kind}_support"] is None
                assert properties[f"{kind}_support_share"] is None
                assert properties[f"{kind}_relevance_mean"] is None
    west = features["010101"]["properties"]
    assert west["name"] == "Moabit West" and west["resident_withheld"] is False
    counts = {c["key"]: c["count"] for c in groups["resident/010101"]["stances"]}
    assert west["resident_support_share"] == counts["support"] / sum(counts.values())

    # the export is a planner's and an exporter's tool, like the surveys' exports
    assert (await client.get(url)).status_code == 401
    reader = await make_token({"measures:read"})
    assert (await client.get(url, headers=reader)).status_code == 403


def test_survey_evidence_appears_with_its_published_figure(app: Litestar) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    area = s.AreaRef(id=uuid.uuid4(), code="010101", name="Moabit West")
    content = s.MeasureVersion(
        version=1,
        title="Familienzentrum",
        summary="",
        goal_ids=[],
        areas=[area],
        target_groups=[],
        resources=[],
        provider=None,
        criteria=[],
        sections=[],
        author_name="Planner",
        created_at=now,
    )
    figure = s.FigureSnapshot(
        survey_id=uuid.uuid4(),
        survey_title="Familienbefragung 2026",
        need_category="childcare",
        area_code="010101",
        area_name="Moabit West",
        respondents=40,
        expressing=18,
        share=0.45,
        share_low=0.31,
        share_high=0.6,
        suppressed=False,
        k_threshold=5,
        published_at=now,
    )
    goal = s.Goal(
        id=uuid.uuid4(),
        process_id=uuid.uuid4(),
        parent_id=None,
        version=1,
        statement="Kitaplätze in Moabit",
        need_categories=[s.CategoryRef(key="childcare", label="Kinderbetreuung")],
        areas=[area],
        target_groups=[],
        evidence=[s.Evidence(kind="survey_figure", label="Kinderbetreuung", figure=figure)],
        author_name="Planner",
        created_at=now,
        updated_at=now,
    )
    template = s.DecisionTemplate(
        measure_id=uuid.uuid4(),
        process_id=goal.process_id,
        process_title="Moabit 2026",
        status=MeasureStatus.DRAFT,
        content=content,
        goals=[goal],
        consultation=None,
        adoption=None,
        generated_at=now,
    )
    engine = app.template_engine
    assert engine is not None
    html = engine.get_template(documents.DECISION_TEMPLATE).render(
        **documents.decision_context(template)
    )
    # German unless a request negotiated another language
    assert '<html lang="de"' in html and "<title>Beschlussvorlage: Familienzentrum</title>" in html
    assert "45\u202f% (18 von 40 Antwortenden, 95-%-Intervall 31\u202f% – 60\u202f%)" in html
    assert "Befragung „Familienbefragung 2026“, wie am 01.11.2026 veröffentlicht" in html


def _map_of(html: str, kind: str) -> str:
    """A support map as rendered: its figure and its table."""
    start = html.index(f'<figure class="map" id="support-map-{kind}"')
    return html[start : html.index("</table>", start)]


async def test_the_decision_template_is_produced_in_a_chosen_language(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
    measuring_process: uuid.UUID,
) -> None:
    goal = await client.post(
        f"/api/v1/processes/{measuring_process}/goals",
        json={
            "statement": "Jede Familie in Moabit findet Beratung in der Nähe.",
            "need_categories": ["childcare"],
            "translations": {"en": {"statement": "Every family in Moabit finds advice nearby."}},
        },
        headers=planner,
    )
    assert goal.status_code == 201, goal.text
    measure_id = await consulted_measure(
        client, create_measure, consult, planner, organisation, goal_ids=[goal.json()["id"]]
    )
    current = (await client.get(f"/api/v1/measures/{measure_id}", headers=planner)).json()
    body = measure_body(
        title=current["content"]["title"],
        goal_ids=[goal.json()["id"]],
        translations={"en": {"title": "Family centre Moabit"}},
    )
    revised = await client.put(f"/api/v1/measures/{measure_id}", json=body, headers=planner)
    assert revised.status_code == 200, revised.text
    page_url = f"/dashboard/measures/{measure_id}/decision-template"

    # German by default, whatever the reader's interface language.
    german = await client.get(page_url, headers=planner | HTML)
    assert german.headers["content-language"] == "de"
    assert "<h2>Beschlussvorschlag</h2>" in german.text
    assert "Jede Familie in Moabit findet Beratung in der Nähe." in german.text
    assert "data-language-fallback" not in german.text
    assert f'href="{page_url}?lang=en"' in german.text  # the other languages, one link each

    english = await client.get(f"{page_url}?lang=en", headers=planner | HTML)
    assert english.status_code == 200 and english.headers["content-language"] == "en"
    assert '<html lang="en" dir="ltr">' in english.text
    assert "<title>Decision template: Family centre Moabit</title>" in english.text
    assert "<h2>Proposed decision</h2>" in english.text
    assert ">Every family in Moabit finds advice nearby.</h3>" in english.text
    # The sections have no English text: German, marked, and the document says so.
    assert 'lang="de" dir="ltr">Angebot</h2>' in english.text
    assert "data-language-fallback" in english.text
    assert f'href="{page_url}.pdf?lang=en"' in english.text

    arabic = await client.get(f"{page_url}?lang=ar", headers=planner | HTML)
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert "<h2>القرار المقترح</h2>" in arabic.text  # "Proposed decision", from the catalogue
    assert 'lang="de" dir="ltr">Jede Familie in Moabit' in arabic.text  # no Arabic statement
    assert "data-language-fallback" in arabic.text

    unknown = await client.get(f"{page_url}?lang=fr", headers=planner | HTML)
    assert unknown.headers["content-language"] == "de"  # ignored, as everywhere

    pdf = await client.get(
        f"/api/v1/measures/{measure_id}/decision-template/pdf?lang=en", headers=planner
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == PDF
    assert pdf.headers["content-language"] == "en"
    assert pdf.headers["content-disposition"].endswith('-en.pdf"')
    reader, text = pdf_text(pdf.content)
    assert reader.metadata is not None
    assert reader.metadata.title == "Decision template: Family centre Moabit"
    for expected in (
        "Proposed decision",
        "Goals and needs evidence",
        "Every family in Moabit finds advice nearby.",
        "have not been translated",
    ):
        assert expected in text, expected
    assert "Beschlussvorschlag" not in text

    german_pdf = await client.get(
        f"/api/v1/measures/{measure_id}/decision-template/pdf", headers=planner | ENGLISH
    )
    _, text = pdf_text(german_pdf.content)
    assert "Beschlussvorschlag" in text and "Jede Familie in Moabit" in text
    assert "Proposed decision" not in text


async def test_the_consultation_report_is_in_the_readers_language_or_says_it_shows_german(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    organisation: uuid.UUID,
) -> None:
    measure_id = await consulted_measure(
        client,
        create_measure,
        consult,
        planner,
        organisation,
        translations={"en": {"title": "Family centre Moabit", "summary": "Open advice hours."}},
    )
    url = f"/measures/{measure_id}/consultation-report"

    english = await client.get(url, headers=HTML)
    assert english.status_code == 200, english.text
    assert "<title>Consultation report: Family centre Moabit</title>" in english.text
    assert ">Open advice hours.</p>" in english.text
    # The sections have no English text: shown in German, marked, and the document says so.
    assert 'lang="de" dir="ltr">Angebot</h2>' in english.text
    assert "data-language-fallback" in english.text

    german = await client.get(url, headers={"Accept": "text/html", "Accept-Language": "de"})
    assert "Familienzentrum Moabit</title>" in german.text
    assert "data-language-fallback" not in german.text

    pdf = await client.get(f"{url}.pdf", headers={"Accept-Language": "en"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == PDF
    _, text = pdf_text(pdf.content)
    assert "Family centre Moabit" in text and "Angebot" in text
