"""Conditional requests on public reads (core.conditional): ETag / If-None-Match → 304 without
a body, Last-Modified / If-Modified-Since, ETags that change with the data, and Cache-Control
that is public only for callers without credentials or cookies."""

from __future__ import annotations

import datetime
import json
import uuid
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import SocialArea
from quartier.core.conditional import http_date
from tests.conftest import LoginFactory, TokenFactory
from tests.opendata.test_catalog import _close_and_publish
from tests.surveys.conftest import Headers

Client = AsyncTestClient[Litestar]
IDENTITY = {"Accept-Encoding": "identity"}
DOCUMENT = json.loads(
    (Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text()
)


def _operation(operation_id: str) -> dict[str, object]:
    for item in DOCUMENT["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return operation
    raise AssertionError(operation_id)


async def test_304_round_trip_on_the_areas_list(
    client: Client, areas: dict[str, uuid.UUID]
) -> None:
    first = await client.get("/api/v1/social-areas", headers=IDENTITY)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong for the identity body
    assert first.headers["cache-control"] == "public, max-age=60"
    assert "Cookie" in first.headers["vary"] and "Accept-Language" in first.headers["vary"]
    again = await client.get("/api/v1/social-areas", headers={**IDENTITY, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=60"
    assert "content-type" not in again.headers
    # a list of tags, and weak comparison
    listed = await client.get(
        "/api/v1/social-areas", headers={**IDENTITY, "If-None-Match": f'"other", W/{etag}'}
    )
    assert listed.status_code == 304
    star = await client.get("/api/v1/social-areas", headers={"If-None-Match": "*"})
    assert star.status_code == 304
    stale = await client.get("/api/v1/social-areas", headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200 and stale.json()["items"]


async def test_etag_differs_by_language_and_filter(
    client: Client, areas: dict[str, uuid.UUID]
) -> None:
    german = await client.get("/api/v1/area-levels", params={"lang": "de"})
    english = await client.get("/api/v1/area-levels", params={"lang": "en"})
    assert german.headers["etag"] != english.headers["etag"]
    one = await client.get("/api/v1/social-areas", params={"level": "district"})
    other = await client.get("/api/v1/social-areas", params={"level": "planning_area"})
    assert one.headers["etag"] != other.headers["etag"]


async def test_compressed_answers_have_weak_etags_and_still_revalidate(
    client: Client, areas: dict[str, uuid.UUID]
) -> None:
    gzip = {"Accept-Encoding": "gzip"}
    first = await client.get("/api/v1/social-areas", params={"include": "boundary"}, headers=gzip)
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["etag"].startswith('W/"')
    again = await client.get(
        "/api/v1/social-areas",
        params={"include": "boundary"},
        headers={**gzip, "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]


async def test_etag_changes_after_a_data_change(
    client: Client, areas: dict[str, uuid.UUID], session: AsyncSession
) -> None:
    for path in ("/api/v1/social-areas", "/api/v1/social-areas/geojson?level=district"):
        before = await client.get(path, headers=IDENTITY)
        assert before.status_code == 200, path
        await session.execute(
            update(SocialArea)
            .where(SocialArea.code == "01")
            .values(name=f"Mitte {path[-3:]}", updated_at=datetime.datetime.now(datetime.UTC))
        )
        await session.commit()
        after = await client.get(
            path, headers={**IDENTITY, "If-None-Match": before.headers["etag"]}
        )
        assert after.status_code == 200, path
        assert after.headers["etag"] != before.headers["etag"], path


async def test_streamed_export_revalidates_by_version_and_date(
    client: Client, areas: dict[str, uuid.UUID]
) -> None:
    path = "/api/v1/social-areas/geojson"
    first = await client.get(path, params={"level": "district"})
    assert first.status_code == 200
    assert json.loads(first.content)["type"] == "FeatureCollection"
    modified = first.headers["last-modified"]
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=300"
    by_tag = await client.get(path, params={"level": "district"}, headers={"If-None-Match": etag})
    assert by_tag.status_code == 304 and by_tag.content == b""
    assert by_tag.headers["last-modified"] == modified
    by_date = await client.get(
        path, params={"level": "district"}, headers={"If-Modified-Since": modified}
    )
    assert by_date.status_code == 304
    earlier = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    changed = await client.get(
        path, params={"level": "district"}, headers={"If-Modified-Since": http_date(earlier)}
    )
    assert changed.status_code == 200 and changed.content
    # If-None-Match wins over If-Modified-Since
    both = await client.get(
        path,
        params={"level": "district"},
        headers={"If-None-Match": '"other"', "If-Modified-Since": modified},
    )
    assert both.status_code == 200
    unreadable = await client.get(
        path, params={"level": "district"}, headers={"If-Modified-Since": "yesterday"}
    )
    assert unreadable.status_code == 200


async def test_catalogue_and_open_download_revalidate(
    client: Client, survey: uuid.UUID, planner: Headers
) -> None:
    await _close_and_publish(client, survey, planner)
    catalog = await client.get("/api/v1/catalog")
    assert catalog.headers["cache-control"] == "public, max-age=300"
    assert "last-modified" in catalog.headers
    again = await client.get("/api/v1/catalog", headers={"If-None-Match": catalog.headers["etag"]})
    assert again.status_code == 304
    since = await client.get(
        "/api/v1/catalog", headers={"If-Modified-Since": catalog.headers["last-modified"]}
    )
    assert since.status_code == 304
    url = f"/api/v1/open-data/surveys/{survey}/aggregated-needs"
    for fmt in ("json", "csv", "xlsx", "geojson"):
        params = {"level": "planning_area", "format": fmt}
        first = await client.get(url, params=params)
        assert first.status_code == 200, fmt
        assert first.headers["etag"].startswith('W/"'), fmt  # the file states its generation time
        cached = await client.get(
            url, params=params, headers={"If-None-Match": first.headers["etag"]}
        )
        assert cached.status_code == 304, fmt
        assert cached.content == b""
    csv_tag = (await client.get(url, params={"level": "planning_area", "format": "csv"})).headers
    json_tag = (await client.get(url, params={"level": "planning_area", "format": "json"})).headers
    assert csv_tag["etag"] != json_tag["etag"]
    # withdrawing the results changes the catalogue
    await client.put(
        f"/api/v1/surveys/{survey}/results-publication", json={"public": False}, headers=planner
    )
    after = await client.get("/api/v1/catalog", headers={"If-None-Match": catalog.headers["etag"]})
    assert after.status_code == 200


async def test_staff_and_tokens_are_never_cached_publicly(
    client: Client,
    areas: dict[str, uuid.UUID],
    login_as: LoginFactory,
    make_token: TokenFactory,
) -> None:
    staff = await login_as("planner")
    token = await make_token({"processes:read"})
    for headers in (staff, token):
        for path in ("/api/v1/social-areas", "/api/v1/catalog", "/api/v1/ideas/"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, path
            assert response.headers["cache-control"] == "private, no-store", path
            assert "Authorization" in response.headers["vary"]
    cookie = await client.get("/api/v1/social-areas", headers={"Cookie": "quartier_lang=en"})
    assert cookie.headers["cache-control"] == "private, max-age=60"
    # operations that did not opt in keep what they send today
    survey_list = await client.get("/api/v1/need-categories")
    assert "etag" not in survey_list.headers
    me = await client.get("/api/v1/auth/me", headers=staff)
    assert "etag" not in me.headers and me.headers.get("cache-control") != "public, max-age=60"


async def test_errors_pass_through(client: Client) -> None:
    response = await client.get("/api/v1/social-areas/geojson", params={"level": "nope"})
    assert response.status_code in (404, 422)
    assert "etag" not in response.headers
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_contract_declares_exactly_the_conditional_operations() -> None:
    conditional = {
        "GetOpenDataCatalog",
        "ExportOpenSurveyNeeds",
        "ListSocialAreas",
        "GetSocialArea",
        "ListSocialAreaVersions",
        "GetSocialAreaByCode",
        "ListSocialAreaChildren",
        "ListSocialAreaAncestors",
        "ExportSocialAreasGeoJSON",
        "ListAreaLevels",
        "ListIndicators",
        "GetIndicator",
        "ListIndicatorValues",
        "GetIndicatorAreaSeries",
        "ListIdeas",
        "GetIdeasGeoJSON",
    }
    found = set()
    for item in DOCUMENT["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            parameters = {p.get("$ref", "").rsplit("/", 1)[-1] for p in operation["parameters"]}
            if "304" in operation["responses"]:
                found.add(operation["operationId"])
                assert "IfNoneMatch" in parameters
                assert {"ETag", "Cache-Control"} <= set(operation["responses"]["200"]["headers"])
            else:
                assert "IfNoneMatch" not in parameters, operation["operationId"]
    assert found == conditional
    catalog = _operation("GetOpenDataCatalog")
    assert list(catalog["responses"]["200"]["content"]) == ["application/ld+json"]  # type: ignore[index]
    assert "Last-Modified" in catalog["responses"]["304"]["headers"]  # type: ignore[index]
    listing = _operation("ListSocialAreas")
    assert "Last-Modified" not in listing["responses"]["200"]["headers"]  # type: ignore[index]


async def test_conditional_headers_beyond_their_declared_bounds_are_a_400_naming_them(
    client: Client,
) -> None:
    """The contract bounds If-None-Match (2,000) and If-Modified-Since (100); longer is refused
    rather than silently ignored (found by Schemathesis)."""
    long_tag = await client.get("/api/v1/area-levels", headers={"If-None-Match": "0" * 2001})
    assert long_tag.status_code == 400
    assert long_tag.json()["errors"] == [
        {"field": "If-None-Match", "source": "header", "message": "at most 2000 characters"}
    ]
    long_date = await client.get("/api/v1/catalog", headers={"If-Modified-Since": "x" * 101})
    assert long_date.status_code == 400
    assert long_date.json()["errors"][0]["field"] == "If-Modified-Since"
    within = await client.get("/api/v1/area-levels", headers={"If-None-Match": "0" * 2000})
    assert within.status_code == 200
