"""The open-data catalogue (DCAT-AP.de, JSON-LD) and the public download of closed surveys'
aggregated needs: what is listed, with which licence and attribution, and what is not."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.indicators.models import Indicator, IndicatorValue
from quartier.opendata.catalog import licence_key
from tests.surveys.conftest import Headers
from tests.surveys.test_aggregation import create_survey

Client = AsyncTestClient[Litestar]
CATALOG = "/api/v1/catalog"
DCAT_AP_DE = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "dcatde": "http://dcat-ap.de/def/dcatde/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
}


async def _catalog(client: Client, **headers: str) -> dict[str, Any]:
    response = await client.get(CATALOG, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    document: dict[str, Any] = json.loads(response.content)
    return document


def _datasets(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {dataset["dct:identifier"]: dataset for dataset in document["dcat:dataset"]}


async def _close_and_publish(
    client: Client, survey_id: uuid.UUID, planner: Headers, *, public: bool = True
) -> None:
    closed = await client.post(f"/api/v1/surveys/{survey_id}/close", headers=planner)
    assert closed.status_code == 200, closed.text
    published = await client.put(
        f"/api/v1/surveys/{survey_id}/results-publication",
        json={"public": public},
        headers=planner,
    )
    assert published.status_code == 200, published.text
    assert published.json()["results_public"] is public


async def test_catalogue_is_dcat_ap_de_json_ld_with_the_social_areas(
    client: Client, areas: dict[str, uuid.UUID]
) -> None:
    document = await _catalog(client)
    for prefix, iri in DCAT_AP_DE.items():
        assert document["@context"][prefix] == iri
    assert document["@type"] == "dcat:Catalog"
    assert document["@id"].endswith("/api/v1/catalog")
    assert document["dct:publisher"] == {"@type": "foaf:Agent", "foaf:name": "Musterstadt"}
    assert "dct:modified" in document
    social_areas = _datasets(document)["social-areas"]
    assert social_areas["@type"] == "dcat:Dataset"
    assert social_areas["dcat:contactPoint"]["@type"] == "vcard:Organization"
    bbox = social_areas["dct:spatial"]["dcat:bbox"]
    assert bbox["@type"] == "gsp:wktLiteral" and bbox["@value"].startswith("POLYGON((")
    distributions = social_areas["dcat:distribution"]
    assert [d["dcat:downloadURL"]["@id"].rsplit("=", 1)[1] for d in distributions] == [
        "district",
        "district_region",
        "planning_area",
    ]
    for distribution in distributions:
        assert distribution["@type"] == "dcat:Distribution"
        assert distribution["dcat:accessURL"] == distribution["dcat:downloadURL"]
        assert distribution["dcat:mediaType"]["@id"].endswith("/application/geo+json")
        assert distribution["dct:format"]["@id"].endswith("/file-type/GEOJSON")
        # Berlin's LOR data are CC BY 4.0: the licence and the attribution travel along.
        assert distribution["dct:license"]["@id"] == "http://dcat-ap.de/def/licenses/cc-by/4.0"
        assert "Geoportal Berlin" in distribution["dcatde:licenseAttributionByText"]
        assert "dct:modified" in distribution


async def test_distribution_urls_work(client: Client, areas: dict[str, uuid.UUID]) -> None:
    document = await _catalog(client)
    url = _datasets(document)["social-areas"]["dcat:distribution"][0]["dcat:downloadURL"]["@id"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = await client.get("/" + path)
    assert response.status_code == 200
    assert json.loads(response.content)["type"] == "FeatureCollection"


async def test_only_closed_surveys_with_public_results_are_listed_and_downloadable(
    client: Client,
    survey: uuid.UUID,
    planner: Headers,
    session: AsyncSession,
    make_process: Any,
) -> None:
    open_url = f"/api/v1/open-data/surveys/{survey}/aggregated-needs"
    params = {"level": "planning_area", "format": "json"}
    # Published (open) with public results: neither listed nor downloadable.
    answer = await client.put(
        f"/api/v1/surveys/{survey}/results-publication", json={"public": True}, headers=planner
    )
    assert answer.status_code == 200
    assert str(survey) not in _datasets(await _catalog(client))
    assert (await client.get(open_url, params=params)).status_code == 404
    # Closed but results not public: neither.
    other = await create_survey(session, await make_process(area_codes=("08",)), title="Andere")
    await session.commit()
    closed = await client.post(f"/api/v1/surveys/{other}/close", headers=planner)
    assert closed.status_code == 200
    assert str(other) not in _datasets(await _catalog(client))
    assert (
        await client.get(f"/api/v1/open-data/surveys/{other}/aggregated-needs", params=params)
    ).status_code == 404
    # Closed with public results: listed with every format, downloadable by anyone.
    await _close_and_publish(client, survey, planner)
    dataset = _datasets(await _catalog(client))[str(survey)]
    assert dataset["dct:title"][0]["@language"] == "de"
    assert "Familien in Mitte" in dataset["dct:title"][0]["@value"]
    assert dataset["dct:temporal"]["@type"] == "dct:PeriodOfTime"
    assert dataset["dct:temporal"]["dcat:endDate"]["@type"] == "xsd:date"
    assert dataset["dct:spatial"]["dct:identifier"] == ["01", "08"]
    formats = {
        d["dcat:downloadURL"]["@id"].rsplit("format=", 1)[1]: d
        for d in dataset["dcat:distribution"]
    }
    assert set(formats) == {"json", "csv", "csv-de", "xlsx", "geojson"}
    for distribution in formats.values():
        # municipal data: the configured licence (default dl-de/by-2-0), attributed to the
        # municipality and to the sources of the area data
        assert distribution["dct:license"]["@id"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
        attribution = distribution["dcatde:licenseAttributionByText"]
        assert attribution.startswith("Musterstadt") and "Geoportal Berlin" in attribution
    download = await client.get(open_url, params=params)
    assert download.status_code == 200
    assert download.json()["metadata"]["surveys"][0]["id"] == str(survey)
    assert download.headers["cache-control"] == "public, max-age=300"
    # Withdrawn: gone again.
    await client.put(
        f"/api/v1/surveys/{survey}/results-publication", json={"public": False}, headers=planner
    )
    assert str(survey) not in _datasets(await _catalog(client))
    assert (await client.get(open_url, params=params)).status_code == 404


async def test_indicators_carry_their_own_source_and_licence(
    client: Client, session: AsyncSession, areas: dict[str, uuid.UUID]
) -> None:
    import datetime

    indicator = Indicator(
        key="share_under_18",
        name_de="Anteil unter 18",
        name_en="Share under 18",
        unit="%",
        direction="neutral",
        aggregation="none",
        scale=1.0,
        decimals=1,
        source="Amt für Statistik Berlin-Brandenburg",
        licence="CC BY 4.0",
    )
    session.add(indicator)
    await session.flush()
    for code, day in (("010101", 2020), ("010102", 2021)):
        session.add(
            IndicatorValue(
                indicator_id=indicator.id,
                area_id=areas[code],
                reference_date=datetime.date(day, 12, 31),
                value=12.5,
            )
        )
    await session.commit()
    dataset = _datasets(await _catalog(client))["share_under_18"]
    assert dataset["dct:temporal"]["dcat:startDate"]["@value"] == "2020-12-31"
    assert dataset["dct:temporal"]["dcat:endDate"]["@value"] == "2021-12-31"
    (distribution,) = dataset["dcat:distribution"]
    assert distribution["dcat:downloadURL"]["@id"].endswith(
        "/api/v1/indicators/share_under_18/values?level=planning_area"
    )
    assert distribution["dct:license"]["@id"] == "http://dcat-ap.de/def/licenses/cc-by/4.0"
    assert distribution["dcatde:licenseAttributionByText"] == "Amt für Statistik Berlin-Brandenburg"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("CC BY 4.0", "cc-by/4.0"),
        ("dl-de/by-2-0", "dl-by-de/2.0"),
        ("Datenlizenz Deutschland", None),
        ("CC0", "cc-zero"),
    ],
)
def test_free_text_licences_map_to_dcat_ap_de(text: str, key: str | None) -> None:
    assert licence_key(text) == key


async def test_the_public_site_links_the_catalogue(client: Client) -> None:
    page = await client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'href="/api/v1/catalog"' in page.text
    assert 'type="application/ld+json"' in page.text


def test_licences_and_publisher_are_settings() -> None:
    from quartier.settings import SettingsError, load_settings

    base = {"QUARTIER_ENV": "test", "SECRET_KEY": "x" * 40}
    settings = load_settings(
        {
            **base,
            "QUARTIER_MUNICIPALITY_NAME": "Stadt Kassel",
            "QUARTIER_OPEN_DATA_LICENCE": "dl-zero-de/2.0",
            "QUARTIER_AREA_DATA_LICENCE": "cc-by/4.0",
            "QUARTIER_AREA_DATA_ATTRIBUTION": "Stadt Kassel, Vermessung",
        }
    )
    assert settings.municipality_name == "Stadt Kassel"
    assert settings.open_data_licence == "dl-zero-de/2.0"
    assert settings.area_data_attribution == "Stadt Kassel, Vermessung"
    defaults = load_settings(base)
    assert defaults.open_data_licence == "dl-by-de/2.0"
    assert defaults.area_data_licence == "cc-by/4.0"
    assert "Geoportal Berlin" in defaults.area_data_attribution
    with pytest.raises(SettingsError, match="QUARTIER_OPEN_DATA_LICENCE"):
        load_settings({**base, "QUARTIER_OPEN_DATA_LICENCE": "http://example.org/x"})
    with pytest.raises(SettingsError, match="QUARTIER_MUNICIPALITY_NAME"):
        load_settings({**base, "QUARTIER_MUNICIPALITY_NAME": "a\nb"})
