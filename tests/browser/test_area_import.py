"""An administrator imports social areas from a GeoJSON file with its own property names
(`SCHLUESSEL`, `BEZEICHNUNG`, parent in `PLR`), then their population from a Windows-1252 CSV
with semicolons, without JavaScript at 320 px: upload, mapping, preview (map and table), import;
axe on every step (in a scripted twin of the scriptless page: see `axe_violations`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import (
    LiveServer,
    axe_violations,
    create_staff_account,
    describe_violations,
)
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

ContextFactory = Callable[..., BrowserContext]
NARROW = {"width": 320, "height": 640}
ADMIN_EMAIL = "area-admin@browser-tests.example.org"
# Two blocks inside Berlin's planning area 01011101 (Stülerstraße), from the demo data.
PARENT = "01011101"


def _block(west: float, south: float, code: str, name: str) -> dict[str, object]:
    east, north = west + 0.001, south + 0.0008
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {
        "type": "Feature",
        "properties": {"SCHLUESSEL": code, "BEZEICHNUNG": name, "PLR": PARENT},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


@pytest.fixture(scope="module")
def admin(live_server: LiveServer) -> str:
    return create_staff_account(live_server, ADMIN_EMAIL, "Ada Areas", "admin")


def _fits_and_is_accessible(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"{page.url} is {width} px wide at 320 px"
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)


def test_import_areas_from_a_file_with_its_own_property_names(
    new_context: ContextFactory, admin: str, live_server: LiveServer, tmp_path: Path
) -> None:
    outline = live_server.get(f"/api/v1/social-areas/by-code/{PARENT}").json()
    west, south, east, north = outline["bbox"]
    lon, lat = (west + east) / 2, (south + north) / 2
    collection = {
        "type": "FeatureCollection",
        "features": [
            _block(lon - 0.0011, lat - 0.0004, "0101110101", "Block Nord"),
            _block(lon + 0.0001, lat - 0.0004, "0101110102", "Block Süd"),
        ],
    }
    file = tmp_path / "bloecke.geojson"
    file.write_text(json.dumps(collection), "utf-8")

    table = tmp_path / "einwohner-2024-06.csv"
    table.write_bytes(
        "Schlüssel;inhabitants;inhabitants_female\r\n0101110101;120;61\r\n0101110102;80;39\r\n".encode(
            "windows-1252"
        )
    )

    page = new_context(java_script_enabled=False, viewport=NARROW).new_page()
    page.set_default_timeout(15_000)
    page.goto("/login")
    page.fill("#email", admin)
    page.fill("#password", TEST_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    page.goto("/workspace/password")
    page.get_by_role("link", name="Sozialräume importieren").first.click()
    page.wait_for_load_state()
    _fits_and_is_accessible(page)
    page.set_input_files("#file", str(file))
    page.get_by_role("button", name="Hochladen").click()
    page.wait_for_load_state()

    # Step 2: the file's own properties are offered.
    assert page.locator("#code_property option[value=SCHLUESSEL]").count() == 1
    _fits_and_is_accessible(page)
    page.check("input[name=level][value=_new]")
    page.fill("#new_level_key", "block")
    page.fill("#new_level_name_de", "Block")
    page.fill("#new_level_name_en", "Block")
    page.select_option("#code_property", "SCHLUESSEL")
    page.select_option("#name_property", "BEZEICHNUNG")
    page.select_option("#parent_property", "PLR")
    page.get_by_role("button", name="Vorschau").click()
    page.wait_for_load_state()

    # Step 3: the map and the table of what would be created.
    assert page.locator("#import-map path").count() == 2
    assert page.locator("#areas tbody tr").count() == 2
    assert "Block Süd" in page.locator("#areas").inner_text()
    _fits_and_is_accessible(page)
    page.get_by_role("button", name="2 Gebiete importieren").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Sozialräume importiert"
    _fits_and_is_accessible(page)

    imported = live_server.get("/api/v1/social-areas/by-code/0101110102").json()
    assert imported["name"] == "Block Süd"
    assert imported["parent_code"] == PARENT
    assert imported["level"]["key"] == "block"

    # The population of the new blocks: encoding, separator, code column and date detected.
    page.get_by_role("link", name="Einwohnerzahlen importieren").first.click()
    page.wait_for_load_state()
    page.set_input_files("#file", str(table))
    page.get_by_role("button", name="Hochladen").click()
    page.wait_for_load_state()
    detected = page.locator("#file").inner_text()
    assert "Windows-1252" in detected and "Semikolon (;)" in detected
    assert page.locator("#code_column").input_value() == "Schlüssel"
    assert page.locator("#reference_date").input_value() == "2024-06-30"
    _fits_and_is_accessible(page)
    page.get_by_role("button", name="Vorschau").click()
    page.wait_for_load_state()
    assert "2 Zeilen: 2 importiert, 0 übersprungen." in page.locator("main").inner_text()
    assert "Block Nord" in page.locator("#rows").inner_text()
    _fits_and_is_accessible(page)
    page.get_by_role("button", name="2 Zeilen importieren").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Einwohnerzahlen importiert"
    _fits_and_is_accessible(page)

    population = live_server.get("/api/v1/social-areas/by-code/0101110102").json()["population"]
    assert population["total"] == 80 and population["reference_date"] == "2024-06-30"
