"""Importing social areas and population tables in the staff workspace: upload, the mapping of
the file's own properties, the preview (map and table of what would be created, updated, kept)
and the import, all or nothing — through the import service of the API."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from pyproj import Transformer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import AreaLevel, AreaPopulation, SocialArea
from quartier.settings import Settings
from tests.conftest import LoginFactory

Client = AsyncTestClient[Litestar]
HTML = {"Accept": "text/html", "Accept-Language": "en"}
UPLOAD_LINK = re.compile(r"^/workspace/areas/(import|population)/([A-Za-z0-9_-]{22})$")


def _square(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _collection(*features: dict[str, Any], crs: str | None = None) -> bytes:
    document: dict[str, Any] = {"type": "FeatureCollection", "features": list(features)}
    if crs:
        document["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(document).encode()


def districts(name_of_first: str = "Mitte-Test") -> bytes:
    return _collection(
        _feature(_square(13.30, 52.50, 13.40, 52.55), SCHLUESSEL="01", BEZEICHNUNG=name_of_first),
        _feature(_square(13.40, 52.50, 13.50, 52.55), SCHLUESSEL="02", BEZEICHNUNG="Nord-Test"),
    )


def regions(parent_of_second: str = "02") -> bytes:
    return _collection(
        _feature(_square(13.31, 52.51, 13.35, 52.54), NR="0101", TITEL="Am Ufer", BEZIRK="01"),
        _feature(
            _square(13.41, 52.51, 13.45, 52.54), NR="0201", TITEL="Am Hang", BEZIRK=parent_of_second
        ),
    )


async def _form(
    client: Client,
    url: str,
    headers: dict[str, str],
    data: dict[str, str],
    file: tuple[str, bytes] | None = None,
) -> Any:
    """A form post as the browser sends it: the CSRF token in the form body."""
    fields = {"csrf_token": headers["X-CSRF-Token"], **data}
    files = {"file": (file[0], file[1], "application/octet-stream")} if file else None
    return await client.post(
        url,
        data=fields,
        files=files,
        headers={"Cookie": headers["Cookie"], **HTML},
        follow_redirects=False,
    )


async def _upload(
    client: Client, admin: dict[str, str], name: str, data: bytes, kind: str = "import"
) -> str:
    response = await _form(client, f"/workspace/areas/{kind}", admin, {}, (name, data))
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert UPLOAD_LINK.match(location), location
    return str(location)


def _error_at(page: str, field: str) -> str:
    """The message shown at the field; the error summary links to it too."""
    assert f'href="#{field}"' in page, f"the error summary names {field}"
    pattern = rf'id="{field}-error"><span class="visually-hidden">[^<]*</span> ([^<]*)<'
    found = re.search(pattern, page)
    assert found, f"a message at {field}"
    return found.group(1)


async def _count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


MAPPING = {
    "level": "_new",
    "new_level_key": "bezirk",
    "new_level_name_de": "Bezirk",
    "new_level_name_en": "District",
    "code_property": "SCHLUESSEL",
    "name_property": "BEZEICHNUNG",
    "crs": "",
}


async def test_areas_with_their_own_property_names_are_previewed_then_imported(
    client: Client, login_as: LoginFactory, session: AsyncSession, settings: Settings
) -> None:
    admin = await login_as("admin")
    start = await client.get("/workspace/areas/import", headers={**admin, **HTML})
    assert start.status_code == 200
    assert 'type="file"' in start.text and 'enctype="multipart/form-data"' in start.text

    link = await _upload(client, admin, "bezirke.geojson", districts())
    mapping = await client.get(link, headers={**admin, **HTML, "Accept-Language": "en"})
    assert mapping.status_code == 200
    # The file's own properties are offered, with an example value.
    assert '<option value="SCHLUESSEL">SCHLUESSEL (e.g. 01)</option>' in mapping.text
    assert '<option value="BEZEICHNUNG">BEZEICHNUNG (e.g. Mitte-Test)</option>' in mapping.text
    assert "look like longitude and latitude" in mapping.text
    assert '<option value="EPSG:25833">' in mapping.text

    preview = await _form(client, link, admin, {**MAPPING, "action": "preview"})
    assert preview.status_code == 200, preview.text
    page = preview.text
    assert "2 new, 0 changed, 0 unchanged." in page
    assert page.count('<path class="map-c1"') == 2  # both shapes on the map, coloured "new"
    assert '<th scope="row">Mitte-Test</th>' in page and '<th scope="row">Nord-Test</th>' in page
    assert 'name="action" value="import"' in page
    # The preview stored nothing.
    assert await _count(session, SocialArea) == 0
    assert await _count(session, AreaLevel) == 0

    done = await _form(client, link, admin, {**MAPPING, "action": "import"})
    assert done.status_code == 200, done.text
    names = dict((await session.execute(select(SocialArea.code, SocialArea.name))).all())
    assert names == {"01": "Mitte-Test", "02": "Nord-Test"}
    level = await session.scalar(select(AreaLevel))
    assert level is not None and (level.key, level.name_de, level.depth) == ("bezirk", "Bezirk", 0)
    # The kept file is gone after the import.
    assert not list((settings.data_dir / "uploads").glob("*.bin"))
    gone = await client.get(link, headers={**admin, **HTML})
    assert gone.status_code == 404

    # A level below: parents by the file's own parent property.
    link = await _upload(client, admin, "regionen.geojson", regions())
    below = {
        "level": "_new",
        "new_level_key": "region",
        "code_property": "NR",
        "name_property": "TITEL",
        "parent_property": "BEZIRK",
    }
    preview = await _form(client, link, admin, {**below, "action": "preview"})
    assert preview.status_code == 200, preview.text
    assert "<td>01</td>" in preview.text  # the parent column
    done = await _form(client, link, admin, {**below, "action": "import"})
    assert done.status_code == 200, done.text
    parents = dict(
        (
            await session.execute(
                select(SocialArea.code, SocialArea.parent_id).where(SocialArea.code == "0101")
            )
        ).all()
    )
    district = await session.scalar(select(SocialArea.id).where(SocialArea.code == "01"))
    assert parents == {"0101": district}

    # The same districts again, one renamed: one changed, one unchanged.
    link = await _upload(client, admin, "bezirke-2.geojson", districts("Mitte-Neu"))
    again = {**MAPPING, "level": "bezirk", "new_level_key": ""}
    preview = await _form(client, link, admin, {**again, "action": "preview"})
    assert preview.status_code == 200, preview.text
    assert "0 new, 1 changed, 1 unchanged." in preview.text
    assert preview.text.count('<path class="map-c3"') == 1
    assert preview.text.count('<path class="map-missing"') == 1


async def test_the_pages_are_for_administrators_and_need_the_csrf_token(
    client: Client, login_as: LoginFactory
) -> None:
    planner = await login_as("planner")
    for url in ("/workspace/areas/import", "/workspace/areas/population"):
        assert (await client.get(url, headers={**planner, **HTML})).status_code == 403
    refused = await _form(
        client, "/workspace/areas/import", planner, {}, ("a.geojson", districts())
    )
    assert refused.status_code == 403
    admin = await login_as("admin")
    without_token = await client.post(
        "/workspace/areas/import",
        files={"file": ("a.geojson", districts(), "application/geo+json")},
        headers={"Cookie": admin["Cookie"], **HTML},
        follow_redirects=False,
    )
    assert without_token.status_code == 403
    link = await _upload(client, admin, "a.geojson", districts())
    # Another administrator does not see this upload.
    other = await login_as("admin")
    assert (await client.get(link, headers={**other, **HTML})).status_code == 404
    posted = await _form(client, link, other, {**MAPPING, "action": "import"})
    assert posted.status_code == 404


async def test_a_broken_file_is_refused_at_the_file_field(
    client: Client, login_as: LoginFactory, settings: Settings
) -> None:
    admin = await login_as("admin")
    headers = {**admin, "Accept-Language": "en"}
    for broken in (b"{not json", b'{"type": "Feature", "properties": {}}'):
        response = await _form(client, "/workspace/areas/import", headers, {}, ("x.json", broken))
        assert response.status_code == 400
        assert "not a GeoJSON FeatureCollection" in _error_at(response.text, "file")
    empty = await _form(client, "/workspace/areas/import", headers, {})
    assert empty.status_code == 400
    assert _error_at(empty.text, "file") == "Choose a GeoJSON file"
    assert not (settings.data_dir / "uploads").exists() or not list(
        (settings.data_dir / "uploads").iterdir()
    )


async def test_refusals_name_the_field(
    client: Client, login_as: LoginFactory, session: AsyncSession
) -> None:
    admin = await login_as("admin")
    english = {**admin, "Accept-Language": "en"}

    # No code in the chosen property.
    without_code = _collection(
        _feature(_square(13.30, 52.50, 13.40, 52.55), BEZEICHNUNG="Ohne Schlüssel"),
        _feature(_square(13.40, 52.50, 13.50, 52.55), SCHLUESSEL="02", BEZEICHNUNG="Nord"),
    )
    link = await _upload(client, admin, "ohne.geojson", without_code)
    response = await _form(client, link, english, MAPPING)
    assert response.status_code == 400
    assert "no code in property `SCHLUESSEL`" in _error_at(response.text, "code_property")
    # A property the file does not have.
    response = await _form(client, link, english, {**MAPPING, "code_property": "KEY"})
    assert response.status_code == 400
    assert _error_at(response.text, "code_property") == "The file has no property KEY"

    # An unsupported CRS chosen, and projected coordinates without a CRS.
    response = await _form(client, link, english, {**MAPPING, "crs": "EPSG:9999"})
    assert response.status_code == 400
    assert "coordinate reference systems offered" in _error_at(response.text, "crs")
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:25833", always_xy=True)
    west, south = to_utm.transform(13.30, 52.50)
    east, north = to_utm.transform(13.40, 52.55)
    projected = _collection(
        _feature(_square(west, south, east, north), SCHLUESSEL="01", BEZEICHNUNG="Mitte"),
    )
    link = await _upload(client, admin, "utm.geojson", projected)
    mapping = await client.get(link, headers={**english, **HTML})
    assert "coordinates look projected" in mapping.text
    response = await _form(client, link, english, MAPPING)
    assert response.status_code == 400
    assert "coordinates look projected" in _error_at(response.text, "crs")
    # Chosen, the same file previews fine.
    response = await _form(client, link, english, {**MAPPING, "crs": "EPSG:25833"})
    assert response.status_code == 200, response.text
    assert "1 new, 0 changed, 0 unchanged." in response.text
    declared = _collection(
        _feature(_square(west, south, east, north), SCHLUESSEL="01", BEZEICHNUNG="Mitte"),
        crs="EPSG:31468",
    )
    link = await _upload(client, admin, "gk.geojson", declared)
    response = await _form(client, link, english, MAPPING)
    assert response.status_code == 400
    assert "unsupported coordinate reference system" in _error_at(response.text, "crs")

    # An unknown parent: nothing of the level is imported.
    link = await _upload(client, admin, "bezirke.geojson", districts())
    assert (await _form(client, link, english, {**MAPPING, "action": "import"})).status_code == 200
    link = await _upload(client, admin, "regionen.geojson", regions(parent_of_second="99"))
    below = {
        "level": "_new",
        "new_level_key": "region",
        "code_property": "NR",
        "name_property": "TITEL",
        "parent_property": "BEZIRK",
        "action": "import",
    }
    response = await _form(client, link, english, below)
    assert response.status_code == 400
    message = _error_at(response.text, "parent_property")
    assert "parent 99 (property `BEZIRK`) is not an area of the level above" in message
    assert 'id="report"' in response.text  # the whole report below the form
    assert await _count(session, SocialArea) == 2
    # A new level needs a key.
    response = await _form(client, link, english, {**below, "new_level_key": ""})
    assert response.status_code == 400
    assert _error_at(response.text, "new_level_key") == "Enter a key for the new level"


def _population_csv() -> bytes:
    text = (
        "Schlüssel;inhabitants;inhabitants_female\r\n"
        "0101;1200;610\r\n"
        "0201;800;390\r\n"
        "01;2000;1000\r\n"
        "9999;5;2\r\n"
    )
    return text.encode("windows-1252")


async def _areas_with_regions(client: Client, admin: dict[str, str]) -> None:
    link = await _upload(client, admin, "bezirke.geojson", districts())
    assert (await _form(client, link, admin, {**MAPPING, "action": "import"})).status_code == 200
    link = await _upload(client, admin, "regionen.geojson", regions())
    below = {
        "level": "_new",
        "new_level_key": "region",
        "code_property": "NR",
        "name_property": "TITEL",
        "parent_property": "BEZIRK",
        "action": "import",
    }
    assert (await _form(client, link, admin, below)).status_code == 200


async def test_a_population_table_is_detected_previewed_and_imported(
    client: Client, login_as: LoginFactory, session: AsyncSession
) -> None:
    admin = await login_as("admin")
    english = {**admin, "Accept-Language": "en"}
    await _areas_with_regions(client, admin)
    link = await _upload(
        client, admin, "einwohner-2024-06.csv", _population_csv(), kind="population"
    )
    mapping = await client.get(link, headers={**english, **HTML})
    assert mapping.status_code == 200
    page = mapping.text
    assert "<dd>Windows-1252</dd>" in page and "<dd>semicolon (;)</dd>" in page
    assert '<option value="Schlüssel" selected>Schlüssel</option>' in page
    assert 'value="2024-06-30"' in page  # the reference date from the file name
    values = {
        "encoding": "windows-1252",
        "separator": ";",
        "code_column": "Schlüssel",
        "reference_date": "2024-06-30",
    }
    # Overriding the detected encoding with one that cannot read the file is refused there.
    wrong = await _form(client, link, english, {**values, "encoding": "utf-8"})
    assert wrong.status_code == 400
    assert _error_at(wrong.text, "encoding") == "The file cannot be read in this encoding"
    wrong = await _form(client, link, english, {**values, "separator": ","})
    assert wrong.status_code == 400
    assert "only one column" in _error_at(wrong.text, "separator")

    preview = await _form(client, link, english, {**values, "action": "preview"})
    assert preview.status_code == 200, preview.text
    page = preview.text
    assert "4 rows: 2 imported, 2 skipped." in page
    assert '<th scope="row">Am Ufer</th>' in page
    assert '<th scope="row">no such area</th>' in page
    assert await _count(session, AreaPopulation) == 0

    done = await _form(client, link, english, {**values, "action": "import"})
    assert done.status_code == 200, done.text
    stored = (
        await session.execute(
            select(SocialArea.code, AreaPopulation.total, AreaPopulation.reference_date).join(
                SocialArea, SocialArea.id == AreaPopulation.area_id
            )
        )
    ).all()
    assert sorted((code, total, str(date)) for code, total, date in stored) == [
        ("0101", 1200, "2024-06-30"),
        ("0201", 800, "2024-06-30"),
    ]


async def test_a_population_table_with_errors_imports_nothing(
    client: Client, login_as: LoginFactory, session: AsyncSession
) -> None:
    admin = await login_as("admin")
    english = {**admin, "Accept-Language": "en"}
    await _areas_with_regions(client, admin)
    table = b"code,inhabitants\n0101,1200\n,5\n0201,viele\n"
    link = await _upload(client, admin, "t.csv", table, kind="population")
    mapping = await client.get(link, headers={**english, **HTML})
    assert "<dd>UTF-8</dd>" in mapping.text and "<dd>comma (,)</dd>" in mapping.text
    values = {"encoding": "utf-8", "separator": ",", "code_column": "code", "action": "import"}
    missing_date = await _form(client, link, english, values)
    assert missing_date.status_code == 400
    assert _error_at(missing_date.text, "reference_date")
    response = await _form(client, link, english, {**values, "reference_date": "2024-12-31"})
    assert response.status_code == 400
    assert "no code in column code" in _error_at(response.text, "code_column")
    assert "not a whole number" in response.text
    assert await _count(session, AreaPopulation) == 0


def test_uploads_expire_and_are_bounded_per_account(tmp_path: Path) -> None:
    import uuid

    from quartier.areas.uploads import PER_OWNER, UploadStore

    owner, other = uuid.uuid4(), uuid.uuid4()
    store = UploadStore(tmp_path)
    first = store.save("areas", owner, "../../etc/a.geojson", b"{}")
    assert first.filename == "a.geojson" and first.path.parent == tmp_path / "uploads"
    assert store.get(first.id, "areas", owner) is not None
    assert store.get(first.id, "areas", other) is None
    assert store.get(first.id, "population", owner) is None
    assert store.get("../secret_key", "areas", owner) is None
    for _ in range(PER_OWNER):
        store.save("areas", owner, "b.geojson", b"{}")
    assert store.get(first.id, "areas", owner) is None  # the oldest went first
    assert len(list((tmp_path / "uploads").glob("*.bin"))) == PER_OWNER
    expired = UploadStore(tmp_path, ttl=-1)
    assert all(expired.get(u.id, "areas", owner) is None for u in store._all())
    expired.purge()
    assert not list((tmp_path / "uploads").iterdir())


CONFIRM_CHECKBOX = 'name="confirm_warnings" type="checkbox" value="true"'


async def test_warnings_to_confirm_are_a_confirmation_step(
    client: Client, login_as: LoginFactory, session: AsyncSession
) -> None:
    admin = await login_as("admin")
    english = {**admin, "Accept-Language": "en"}
    link = await _upload(client, admin, "bezirke.geojson", districts())
    assert (await _form(client, link, admin, {**MAPPING, "action": "import"})).status_code == 200
    overlapping = _collection(
        _feature(_square(13.31, 52.51, 13.35, 52.54), NR="0101", TITEL="Am Ufer", BEZIRK="01"),
        _feature(_square(13.32, 52.51, 13.36, 52.54), NR="0102", TITEL="Doppelt", BEZIRK="01"),
    )
    link = await _upload(client, admin, "regionen.geojson", overlapping)
    below = {
        "level": "_new",
        "new_level_key": "region",
        "code_property": "NR",
        "name_property": "TITEL",
        "parent_property": "BEZIRK",
    }
    preview = await _form(client, link, english, {**below, "action": "preview"})
    assert preview.status_code == 200, preview.text
    page = preview.text
    assert "Warnings to confirm" in page
    assert "feature 1 0102: overlaps 0101 (Am Ufer)" in page
    assert CONFIRM_CHECKBOX in page

    # Importing without the confirmation stores nothing and asks for it, warnings listed.
    unconfirmed = await _form(client, link, english, {**below, "action": "import"})
    assert unconfirmed.status_code == 400
    assert _error_at(unconfirmed.text, "confirm_warnings") == (
        "Confirm the warnings to import, or correct the file"
    )
    assert "overlaps 0101 (Am Ufer)" in unconfirmed.text and CONFIRM_CHECKBOX in unconfirmed.text
    assert await _count(session, SocialArea) == 2

    confirmed = await _form(
        client, link, english, {**below, "action": "import", "confirm_warnings": "true"}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert await _count(session, SocialArea) == 4


async def test_lost_leading_zeros_are_named_and_must_be_confirmed(
    client: Client, login_as: LoginFactory, session: AsyncSession
) -> None:
    admin = await login_as("admin")
    english = {**admin, "Accept-Language": "en"}
    await _areas_with_regions(client, admin)
    link = await _upload(
        client, admin, "t.csv", b"code,inhabitants\n101,1200\n201,800\n", kind="population"
    )
    values = {
        "encoding": "utf-8",
        "separator": ",",
        "code_column": "code",
        "reference_date": "2024-12-31",
    }
    preview = await _form(client, link, english, {**values, "action": "preview"})
    assert preview.status_code == 200, preview.text
    assert "2 of 2 codes match no area" in preview.text
    assert "101 → 0101" in preview.text and "leading zeros" in preview.text
    unconfirmed = await _form(client, link, english, {**values, "action": "import"})
    assert unconfirmed.status_code == 400
    assert _error_at(unconfirmed.text, "confirm_warnings")
    confirmed = await _form(
        client, link, english, {**values, "action": "import", "confirm_warnings": "true"}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert await _count(session, AreaPopulation) == 0  # confirmed, but no row matched an area


async def test_a_declared_charset_chooses_the_encoding(
    client: Client, login_as: LoginFactory
) -> None:
    admin = await login_as("admin")
    english = {**admin, "Accept-Language": "en"}
    # Valid UTF-8 as well ("Ã¼" in Windows-1252 is "ü" in UTF-8): only the declaration tells.
    table = "Schlüssel;inhabitants\n0101;5\n".encode().decode("windows-1252")
    response = await client.post(
        "/workspace/areas/population",
        data={"csrf_token": admin["X-CSRF-Token"]},
        files={"file": ("t.csv", table.encode("windows-1252"), "text/csv; charset=windows-1252")},
        headers={"Cookie": admin["Cookie"], **HTML},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    mapping = await client.get(response.headers["location"], headers={**english, **HTML})
    assert "<dd>Windows-1252</dd>" in mapping.text
    assert "SchlÃ¼ssel" in mapping.text


async def test_a_renumbering_is_imported_with_its_date_and_successor(
    client: Client, login_as: LoginFactory, session: AsyncSession
) -> None:
    """The mapping form has the date the changes take effect, retiring the areas missing from
    the file and successors; the preview shows what is retired; a missing area without them is
    a warning to confirm."""
    admin = await login_as("admin")
    link = await _upload(client, admin, "bezirke.geojson", districts())
    assert (await _form(client, link, admin, {**MAPPING, "action": "import"})).status_code == 200
    renumbered = _collection(
        _feature(_square(13.30, 52.50, 13.40, 52.55), SCHLUESSEL="01", BEZEICHNUNG="Mitte-Test"),
        _feature(_square(13.40, 52.50, 13.50, 52.55), SCHLUESSEL="03", BEZEICHNUNG="Nord-Test"),
    )
    link = await _upload(client, admin, "bezirke-neu.geojson", renumbered)
    form = await client.get(link, headers={**admin, **HTML})
    assert 'type="date"' in form.text and 'name="valid_from"' in form.text
    assert 'name="retire_missing"' in form.text and 'name="successors"' in form.text
    again = {**MAPPING, "level": "bezirk", "new_level_key": ""}

    # Without retiring: area 02 is missing, which must be confirmed.
    preview = await _form(client, link, admin, {**again, "action": "import"})
    assert preview.status_code == 400
    assert "02: not in this import" in preview.text

    bad = await _form(client, link, admin, {**again, "successors": "02 03", "action": "preview"})
    assert bad.status_code == 400
    assert "one area per line" in _error_at(bad.text, "successors")
    unknown = {**again, "successors": "02 = 09", "action": "preview"}
    refused = await _form(client, link, admin, unknown)
    assert refused.status_code == 400
    assert "successor 09" in _error_at(refused.text, "successors")

    dated = {**again, "valid_from": "2024-01-01", "successors": "02 = 03"}
    preview = await _form(client, link, admin, {**dated, "action": "preview"})
    assert preview.status_code == 200, preview.text
    assert "1 new, 0 changed, 1 unchanged. 1 retired." in preview.text
    assert preview.text.count('<path class="map-c0"') == 1  # the retired area on the map
    assert 'name="valid_from" value="2024-01-01"' in preview.text
    assert "Import 2 areas" in preview.text
    done = await _form(client, link, admin, {**dated, "action": "import"})
    assert done.status_code == 200, done.text
    assert "Retired areas" in done.text
    rows = (
        await session.execute(
            select(SocialArea.code, SocialArea.valid_from, SocialArea.valid_to).order_by(
                SocialArea.code
            )
        )
    ).all()
    assert [(code, str(start), str(end)) for code, start, end in rows] == [
        ("01", "None", "None"),
        ("02", "None", "2024-01-01"),
        ("03", "2024-01-01", "None"),
    ]


async def test_renamed_and_moved_areas_are_shown_as_changes_with_their_date(
    client: Client, login_as: LoginFactory
) -> None:
    """A re-import dated `valid_from` that renames one area and moves another under another
    parent: the preview and the result page list each change with before, after and date."""
    admin = await login_as("admin")
    await _areas_with_regions(client, admin)
    changed = _collection(
        _feature(
            _square(13.31, 52.51, 13.35, 52.54), NR="0101", TITEL="Am Neuen Ufer", BEZIRK="01"
        ),
        _feature(_square(13.41, 52.51, 13.45, 52.54), NR="0201", TITEL="Am Hang", BEZIRK="01"),
    )
    link = await _upload(client, admin, "regionen-neu.geojson", changed)
    mapping = {
        "level": "region",
        "code_property": "NR",
        "name_property": "TITEL",
        "parent_property": "BEZIRK",
        "valid_from": "2024-01-01",
    }
    preview = await _form(client, link, admin, {**mapping, "action": "preview"})
    assert preview.status_code == 200, preview.text
    assert "Changes to existing areas" in preview.text
    row = (
        "<tr><td>0101</td><td>Name</td><td>Am Ufer</td><td>Am Neuen Ufer</td>"
        "<td>2024-01-01</td></tr>"
    )
    moved = "<tr><td>0201</td><td>Parent</td><td>02</td><td>01</td><td>2024-01-01</td></tr>"
    assert row in preview.text and moved in preview.text
    done = await _form(
        client, link, admin, {**mapping, "action": "import", "confirm_warnings": "true"}
    )
    assert done.status_code == 200, done.text
    assert row in done.text and moved in done.text
    history = await client.get("/api/v1/social-areas/by-code/0201", params={"at": "2023-12-31"})
    assert history.json()["parent_code"] == "02"
