"""`quartier import-indicator` and the demo indicators derived from Berlin's population."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import demo as areas_demo
from quartier.cli import main
from quartier.indicators import demo, services

pytestmark = pytest.mark.slow


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "QUARTIER_DATA_DIR": str(tmp_path),
        "QUARTIER_ENV": "test",
        "SECRET_KEY": "test-secret-key-0123456789-abcdefghijklmnop",
    }


DEFINITION = {
    "key": "households",
    "name_de": "Haushalte",
    "name_en": "Households",
    "unit": "Haushalte",
    "direction": "neutral",
    "aggregation": "sum",
    "source": "Statistikamt",
    "licence": "CC BY 4.0",
}


def test_import_indicator_from_json_and_csv(
    small_city_session: AsyncSession, database_url: str, tmp_path: Path
) -> None:
    definition = tmp_path / "households.json"
    definition.write_text(json.dumps({"indicator": DEFINITION}))
    table = tmp_path / "haushalte.csv"
    table.write_bytes("Schlüssel;Wert\n0101;1.200\n0102;80,5\n".encode("cp1252"))
    result = CliRunner().invoke(
        main,
        [
            "import-indicator",
            "--json",
            str(definition),
            "--csv",
            str(table),
            "--reference-date",
            "2024-12-31",
        ],
        env=_env(database_url, tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "households: 2 values created, 0 updated" in result.output
    assert "warning: read as windows-1252" in result.output
    table.write_text("Schlüssel;Wert\n0101;1\n0999;2\n", encoding="utf-8")
    refused = CliRunner().invoke(
        main,
        [
            "import-indicator",
            "--key",
            "households",
            "--csv",
            str(table),
            "--reference-date",
            "2024-12-31",
        ],
        env=_env(database_url, tmp_path),
    )
    assert refused.exit_code == 1
    assert "line 3: unknown area code '0999'" in refused.output


async def test_the_demo_imports_berlin_shares_once(session: AsyncSession) -> None:
    await areas_demo.load(session)
    summary = await demo.load(session)
    assert summary.startswith("indicators: 447 share_under_18, 447 share_65_plus")
    await session.commit()
    assert await demo.load(session) == "indicators: already present, demo not imported"
    berlin = await services.level_values(session, "share_65_plus", "district")
    assert all(item.value is not None and 10 < item.value < 35 for item in berlin.items)


def test_the_shipped_files_are_what_derive_writes(tmp_path: Path) -> None:
    demo.derive(tmp_path)
    for _definition, name, _columns, _needs in demo.DEMO:
        assert (tmp_path / name).read_bytes() == (demo.DATA / name).read_bytes()
