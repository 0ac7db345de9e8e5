"""Ideas and supporters per area × need category go through the cell key engine: no published
count is small, every value is the perturbation of its stored rows (the same at every level),
areas not shown are null and "protected" (never 0), supporters are distinct residents with one
record key each, and the CSV carries the metadata."""

from __future__ import annotations

import csv as csv_module
import io
import json
import re
import zipfile
from collections import defaultdict
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.ideas.aggregates import COUNTS, DISCLOSURE_METHOD
from quartier.stats.cellkey import Cell, PTable, Release
from tests.support.disclosure import published, without_noise  # noqa: F401
from tests.support.release_attacker import ReleaseAttacker
from tests.support.xlsx import metadata_sheet

from .conftest import Client, Headers, Ideas

K = 5


async def _seed(ideas: Ideas, client: Client) -> None:
    setting = await client.put(
        f"/api/v1/processes/{ideas.process_id}/idea-settings",
        json={"premoderation": False},
        headers=ideas.planner,
    )
    assert setting.status_code == 200
    youth = []
    for number in range(6):
        response = await ideas.submit(
            title=f"Jugendidee Nummer {number}",
            description=f"Ein Treffpunkt für Jugendliche, Vorschlag {number} mit Details.",
            need_category="youth_work",
        )
        assert response.status_code == 201, response.text
        youth.append(response.json()["idea"]["id"])
    one = await ideas.submit(
        title="Eine Bank",
        description="Eine einzelne Bank für Ältere vor der Apotheke aufstellen.",
        need_category="elderly_care",
    )
    for token_number in range(5):  # five residents support every youth idea
        for idea_id in youth:
            await ideas.support(idea_id, f"supporter-token-{token_number:04d}")
    await ideas.support(one.json()["idea"]["id"], "supporter-token-0000")


def _check_protected(cells: list[dict[str, Any]]) -> None:
    for cell in cells:
        for figure in ("ideas", "supporters"):
            value = cell[figure]
            if value is None:
                assert cell["suppressed"] is True and cell["reason"] == "protected", cell
            else:
                assert value == 0 or value >= K, cell
        assert cell["reason"] in (None, "protected")


async def test_aggregates_structure(
    ideas: Ideas,
    client: Client,
    without_noise: None,  # noqa: F811
) -> None:
    """Without noise: counts below k read 0, every area and need category is listed, and an
    area without ideas is protected (null, never 0)."""
    await _seed(ideas, client)
    url = f"/api/v1/processes/{ideas.process_id}/idea-aggregates"
    result = await client.get(url, params={"level": "planning_area"}, headers=ideas.planner)
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["k"] == K and body["level"] == "planning_area"
    assert body["disclosure_method"].startswith("cell key method")
    cells = body["cells"]
    _check_protected(cells)
    areas = {c["area_code"] for c in cells}
    assert areas == {"010101", "010102", "010201"}
    categories = {c["need_category"] for c in cells}
    assert {"youth_work", "elderly_care", "childcare"} <= categories
    assert len(cells) == len(areas) * len(categories)
    leopoldplatz = {c["need_category"]: c for c in cells if c["area_code"] == "010201"}
    assert leopoldplatz["youth_work"]["ideas"] == 6
    assert leopoldplatz["youth_work"]["supporters"] == 5
    # one idea and one supporter of elderly care: below k, so 0
    assert leopoldplatz["elderly_care"]["ideas"] == 0
    assert leopoldplatz["elderly_care"]["supporters"] == 0
    assert leopoldplatz["childcare"]["ideas"] == 0
    empty = [c for c in cells if c["area_code"] == "010101"]
    assert all(c["ideas"] is None and c["suppressed"] for c in empty)
    assert body["suppressed_cells"] == sum(c["suppressed"] for c in cells)


async def _keys(engine: AsyncEngine, process_id: Any) -> tuple[dict[str, list[int]], ...]:
    """The stored record keys of the published ideas and of the distinct supporters, by need
    category."""
    async with engine.connect() as db:
        idea_rows = await db.execute(
            text(
                "SELECT c.key, i.record_key FROM ideas i JOIN need_categories c "
                "ON c.id = i.need_category_id WHERE i.process_id = :p AND i.state = 'published'"
            ),
            {"p": process_id},
        )
        supporter_rows = await db.execute(
            text(
                "SELECT DISTINCT c.key, s.pseudonym, s.record_key FROM idea_supports s "
                "JOIN ideas i ON i.id = s.idea_id JOIN need_categories c "
                "ON c.id = i.need_category_id WHERE i.process_id = :p"
            ),
            {"p": process_id},
        )
        ideas_keys: dict[str, list[int]] = defaultdict(list)
        for key, record_key in idea_rows:
            ideas_keys[key].append(record_key)
        supporters: dict[str, list[int]] = defaultdict(list)
        for key, _pseudonym, record_key in supporter_rows:
            supporters[key].append(record_key)
        per_resident = await db.execute(
            text(
                "SELECT count(DISTINCT s.record_key) FROM idea_supports s "
                "JOIN ideas i ON i.id = s.idea_id WHERE i.process_id = :p GROUP BY s.pseudonym"
            ),
            {"p": process_id},
        )
        assert {row[0] for row in per_resident} == {1}  # one key per resident
    return ideas_keys, supporters


async def test_aggregates_are_the_perturbed_cells(
    ideas: Ideas, client: Client, engine: AsyncEngine
) -> None:
    """With real noise: every published value is `published(keys)` of its stored rows, the
    same cell has the same value at every level, and a small area is protected, never 0."""
    await _seed(ideas, client)
    ideas_keys, supporter_keys = await _keys(engine, ideas.process_id)
    url = f"/api/v1/processes/{ideas.process_id}/idea-aggregates"
    release = Release(K, K)
    for level, code in (
        ("planning_area", "010201"),
        ("district_region", "0102"),
        ("district", "01"),
    ):
        body = (await client.get(url, params={"level": level}, headers=ideas.planner)).json()
        _check_protected(body["cells"])
        cells = {c["need_category"]: c for c in body["cells"] if c["area_code"] == code}
        all_ideas = [k for keys in ideas_keys.values() for k in keys]
        ideas_shown = release.respondents(Cell(len(all_ideas), sum(all_ideas))) is not None
        for category, cell in cells.items():
            keys = ideas_keys.get(category, [])
            expected = published(keys, k=K, min_respondents=K) if ideas_shown else None
            assert cell["ideas"] == expected, (level, category)
            if cell["supporters"] is not None:
                keys = supporter_keys.get(category, [])
                assert cell["supporters"] == published(keys, k=K, min_respondents=K)
        # One idea: never shown as 1. The cell key method publishes a count of 1 as 0, or
        # (about 4 % of record keys) as k or more, never as a small number.
        single = cells["elderly_care"]["ideas"]
        assert single is None or single == 0 or single >= K
    # Körnerpark lies outside the scope; Moabit's areas have no ideas: protected, not 0
    body = (await client.get(url, params={"level": "planning_area"}, headers=ideas.planner)).json()
    for cell in body["cells"]:
        if cell["area_code"] == "010101":
            assert cell["ideas"] is None and cell["reason"] == "protected"


async def test_aggregates_csv_and_refusals(ideas: Ideas, client: Client, make_token: Any) -> None:
    await _seed(ideas, client)
    url = f"/api/v1/processes/{ideas.process_id}/idea-aggregates"
    exporter: Headers = await make_token({"exports:read"})
    csv = await client.get(f"{url}/csv", params={"level": "planning_area"}, headers=exporter)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("# process_id: ") and "# k: 5" in lines
    header = lines.index("area_code,area_name,need_category,ideas,supporters,suppressed")
    rows = [line.split(",") for line in lines[header + 1 :]]
    assert rows and all(row[5] in ("true", "false") for row in rows)
    assert all((row[3] == "") <= (row[5] == "true") for row in rows)
    assert any(line.startswith("# disclosure_method: cell key method") for line in lines)
    unknown = await client.get(url, params={"level": "street"}, headers=ideas.planner)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "level"
    assert (await client.get(url, params={"level": "district"})).status_code == 401
    assert (
        await client.get(url, params={"level": "district"}, headers=ideas.moderator)
    ).status_code == 403


async def test_one_area_side_by_side_in_the_api_and_on_the_page(
    ideas: Ideas, client: Client
) -> None:
    await _seed(ideas, client)
    url = f"/api/v1/processes/{ideas.process_id}/area-needs/010201"
    result = await client.get(url, headers=ideas.planner)
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["area_name"] == "Leopoldplatz" and body["level"] == "planning_area"
    assert {"youth_work", "elderly_care"} <= {c["need_category"] for c in body["ideas"]}
    assert all(c["area_code"] == "010201" for c in body["ideas"])
    assert isinstance(body["survey_needs"], list)
    assert (await client.get(url, headers=ideas.moderator)).status_code == 403
    page = await client.get(
        f"/dashboard/processes/{ideas.process_id}/area-needs?area=010201",
        headers={"Accept": "text/html", "Accept-Language": "en"} | ideas.planner,
    )
    assert page.status_code == 200, page.text
    assert "Leopoldplatz (010201)" in page.text and 'id="idea-needs"' in page.text
    # Planners download the ideas of every area at the area's level in every format.
    export = f"/api/v1/processes/{ideas.process_id}/idea-aggregates/export?level=planning_area"
    for fmt in ("csv", "csv-de", "xlsx", "geojson", "json"):
        assert f'href="{export}&amp;format={fmt}"' in page.text


async def test_the_release_attacker_finds_nothing_in_the_aggregates(
    ideas: Ideas, client: Client, engine: AsyncEngine
) -> None:
    """Every published cell at every level, with the relations between them (a parent's ideas
    = Σ its children's, a child's distinct supporters ≤ its parent's), goes to the release
    attacker: no count from 1 to k − 1 is determined or proven small."""
    await _seed(ideas, client)
    ideas_keys, supporter_keys = await _keys(engine, ideas.process_id)
    url = f"/api/v1/processes/{ideas.process_id}/idea-aggregates"
    attacker = ReleaseAttacker(PTable(K))
    parent = {"0101": "01", "0102": "01", "010101": "0101", "010102": "0101", "010201": "0102"}
    holds = {"010201", "0102", "01"}  # every idea lies in Leopoldplatz
    categories: set[str] = set()
    for level in ("planning_area", "district_region", "district"):
        body = (await client.get(url, params={"level": level}, headers=ideas.planner)).json()
        for cell in body["cells"]:
            area, category = cell["area_code"], cell["need_category"]
            categories.add(category)
            for figure, keys in (("ideas", ideas_keys), ("supporters", supporter_keys)):
                truth = len(keys.get(category, [])) if area in holds else 0
                name = (figure, area, category)
                if cell[figure] is None:
                    attacker.hidden_cell(name, truth)
                else:
                    attacker.published_cell(name, truth, cell[figure])
    for category in categories:
        for area in ("0101", "0102", "01"):
            children = [child for child, up in parent.items() if up == area]
            attacker.equal(
                [("ideas", area, category)], [("ideas", child, category) for child in children]
            )
        for child, up in parent.items():
            attacker.at_most(("supporters", child, category), ("supporters", up, category))
    report = attacker.attack()
    assert report.cells >= 6 * len(categories)
    assert report.findings == []


async def test_aggregates_in_every_export_format_give_the_same_figures(
    ideas: Ideas, client: Client, make_token: Any
) -> None:
    """Issue #9 §6: the surveys' formats and metadata for the ideas aggregates."""
    await _seed(ideas, client)
    url = f"/api/v1/processes/{ideas.process_id}/idea-aggregates"
    exporter: Headers = await make_token({"exports:read"})
    params = {"level": "planning_area"}
    reference = (await client.get(url, params=params, headers=ideas.planner)).json()
    cells = {(c["area_code"], c["need_category"]): c for c in reference["cells"]}

    async def export(fmt: str) -> Any:
        response = await client.get(
            f"{url}/export", params={**params, "format": fmt}, headers=exporter
        )
        assert response.status_code == 200, response.text
        assert "attachment" in response.headers["content-disposition"]
        return response

    document = (await export("json")).json()
    assert document["cells"] == reference["cells"]  # the same perturbed figures

    german = (await export("csv-de")).content.decode("utf-8-sig")
    # Issue #13: German metadata values in csv-de and XLSX, English in csv and JSON.
    method = DISCLOSURE_METHOD.of(reference["disclosure_method"])
    assert method.en.startswith("cell key method")
    assert f"# Geheimhaltungsverfahren: {method.de}\r\n" in german
    assert f"# Zählweise: {COUNTS.de}\r\n" in german
    assert method.en not in german and COUNTS.en not in german
    english = (await export("csv")).content.decode()
    assert f"# disclosure_method: {method.en}\r\n" in english
    assert f"# counts: {COUNTS.en}\r\n" in english
    table = list(
        csv_module.DictReader(
            (line for line in german.splitlines() if not line.startswith("#")), delimiter=";"
        )
    )
    assert len(table) == len(cells)
    for row in table:
        cell = cells[(row["Gebietsschlüssel"], row["Bedarfskategorie"])]
        assert row["Ideen"] == ("" if cell["ideas"] is None else str(cell["ideas"]))
        assert row["Unterdrückt"] == ("ja" if cell["suppressed"] else "nein")

    archive = zipfile.ZipFile(io.BytesIO((await export("xlsx")).content))
    assert re.findall(r'<sheet name="([^"]+)"', archive.read("xl/workbook.xml").decode()) == [
        "Ideen",
        "Metadaten",
    ]
    values = metadata_sheet(archive, 2)
    assert (values["disclosure_method"], values["counts"]) == (method.de, COUNTS.de)

    collection = json.loads((await export("geojson")).content)
    assert collection["type"] == "FeatureCollection"
    assert collection["metadata"]["disclosure_method"] == method.en
    assert collection["metadata"]["counts"] == COUNTS.en
    assert collection["metadata"]["k"] == K
    features = {feature["id"]: feature for feature in collection["features"]}
    assert set(features) == {code for code, _ in cells}
    for (code, category), cell in cells.items():
        properties = features[code]["properties"]
        assert properties[f"{category}_ideas"] == cell["ideas"]
        assert properties[f"{category}_supporters"] == cell["supporters"]

    refused = await client.get(
        f"{url}/export", params={**params, "format": "pdf"}, headers=exporter
    )
    assert refused.status_code == 400
    assert (
        await client.get(f"{url}/export", params=params, headers=ideas.moderator)
    ).status_code == 403
