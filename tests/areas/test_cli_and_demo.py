"""`quartier import-areas` and the demo data (the compact Berlin copy shipped in the package)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import demo, services
from quartier.cli import main

from .conftest import SMALL_CITY, SMALL_POPULATION, collection, feature, square


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "QUARTIER_DATA_DIR": str(tmp_path),
        "QUARTIER_ENV": "test",
        "SECRET_KEY": "test-secret-key-0123456789-abcdefghijklmnop",
    }


def _write(tmp_path: Path, name: str, document: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def test_import_areas_prints_the_report(database_url: str, tmp_path: Path) -> None:
    districts = _write(tmp_path, "districts.geojson", SMALL_CITY["district"])
    quarters = _write(tmp_path, "quarters.geojson", SMALL_CITY["quarter"])
    table = _write(tmp_path, "einwohner.csv", SMALL_POPULATION + "0999,5,1,3,1,2\n")
    result = CliRunner().invoke(
        main,
        [
            "import-areas",
            "--level",
            f"district:Bezirk:District={districts}",
            "--level",
            f"quarter={quarters}",
            "--population",
            str(table),
            "--reference-date",
            "2020-12-31",
        ],
        env=_env(database_url, tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "district (depth 0): 2 features, 2 created" in result.output
    assert "population (2020-12-31): 4 rows, 3 imported, 1 skipped" in result.output
    assert "warning: " in result.output and "[0999]" in result.output
    assert "import done: 0 error(s), 1 warning(s)" in result.output
    stated = CliRunner().invoke(
        main,
        [
            "import-areas",
            "--level",
            f"district={districts}",
            "--source",
            "Statistikamt Kleinstadt",
            "--licence",
            "dl-de/by-2-0",
            "--attribution",
            "© Statistikamt Kleinstadt",
        ],
        env=_env(database_url, tmp_path),
    )
    assert stated.exit_code == 0, stated.output


def test_a_failed_import_exits_1_and_says_nothing_changed(
    database_url: str, tmp_path: Path
) -> None:
    orphan = collection(feature("0901", "Verwaist", square(13.0, 52.0)))
    districts = _write(tmp_path, "districts.geojson", SMALL_CITY["district"])
    quarters = _write(tmp_path, "quarters.geojson", orphan)
    result = CliRunner().invoke(
        main,
        ["import-areas", "--level", f"district={districts}", "--level", f"quarter={quarters}"],
        env=_env(database_url, tmp_path),
    )
    assert result.exit_code == 1
    assert "quarters.geojson feature 0 [0901]" in result.output
    assert "import failed, nothing changed: 1 error(s)" in result.output


def test_warnings_to_confirm_need_accept_warnings(database_url: str, tmp_path: Path) -> None:
    overlapping = collection(
        feature("01", "Nord", square(13.0, 52.0, 0.1)), feature("02", "Doppelt", square(13.0, 52.0))
    )
    districts = _write(tmp_path, "districts.geojson", overlapping)
    arguments = ["import-areas", "--level", f"district={districts}"]
    env = _env(database_url, tmp_path)
    refused = CliRunner().invoke(main, arguments, env=env)
    assert refused.exit_code == 1
    assert "warning (confirm): " in refused.output and "[02]: overlaps 01" in refused.output
    assert "(1 to confirm)" in refused.output and "--accept-warnings" in refused.output
    assert "import failed, nothing changed" in refused.output

    accepted = CliRunner().invoke(main, [*arguments, "--accept-warnings"], env=env)
    assert accepted.exit_code == 0, accepted.output
    assert "district (depth 0): 2 features, 2 created" in accepted.output
    assert "import done: 0 error(s), 1 warning(s) (1 to confirm)" in accepted.output


def test_a_windows_1252_table_and_one_level_under_another(
    database_url: str, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path)
    districts = _write(tmp_path, "districts.geojson", SMALL_CITY["district"])
    first = CliRunner().invoke(main, ["import-areas", "--level", f"district={districts}"], env=env)
    assert first.exit_code == 0, first.output
    # The quarters alone, under the stored districts.
    quarters = _write(tmp_path, "quarters.geojson", SMALL_CITY["quarter"])
    table = tmp_path / "einwohner-2020-12.csv"
    table.write_bytes("id;Name;inhabitants\n0101;Köpenick;100\n".encode("windows-1252"))
    result = CliRunner().invoke(
        main,
        [
            "import-areas",
            "--under",
            "district",
            "--level",
            f"quarter={quarters}",
            "--population",
            str(table),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "quarter (depth 1): 3 features, 3 created" in result.output
    assert "population (2020-12-31): 1 rows, 1 imported" in result.output
    # Declared as UTF-8, the same bytes cannot be read.
    declared = CliRunner().invoke(
        main,
        ["import-areas", "--population", str(table), "--population-encoding", "utf-8"],
        env=env,
    )
    assert declared.exit_code == 2
    assert "cannot read as utf-8" in declared.output
    unknown = CliRunner().invoke(
        main,
        ["import-areas", "--under", "street", "--level", f"quarter={quarters}"],
        env=env,
    )
    assert unknown.exit_code == 2 and "no level 'street'" in unknown.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--level", "district"], "expected KEY[:NAME_DE[:NAME_EN]]=PATH"),
        (["--level", "district=/nonexistent.geojson"], "cannot read"),
        (["--population", "/tmp/population.csv"], "reference date"),
        ([], "at least one --level or --population"),
        (["--population", "/tmp/p.csv", "--licence", "CC BY 4.0"], "go together"),
    ],
)
def test_unusable_arguments_exit_2(
    database_url: str, tmp_path: Path, arguments: list[str], message: str
) -> None:
    result = CliRunner().invoke(
        main, ["import-areas", *arguments], env=_env(database_url, tmp_path)
    )
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.slow
async def test_the_demo_imports_the_compact_berlin_copy_once(session: AsyncSession) -> None:
    summary = await demo.load(session)
    assert summary.startswith("social areas: Berlin LOR imported (12 district / 60 forecast_area")
    assert "447 planning_area" in summary
    assert "3,759,176 inhabitants" in summary
    await session.commit()
    assert await demo.load(session) == (
        "social areas: 657 already present, Berlin demo not imported"
    )
    found = await services.lookup_point(session, 52.5219, 13.4132)
    assert [a.code for a in found][:3] == ["01", "0101", "010113"]
    # The CC BY attribution is recorded on every level, for every export to repeat.
    levels = (await services.list_levels(session)).items
    assert {level.provenance.licence for level in levels} == {"CC BY 4.0"}
    assert all("Geoportal Berlin" in level.provenance.attribution for level in levels)


def test_the_demo_copy_is_compact_and_keeps_the_attribution() -> None:
    files = list(demo.DATA.iterdir())
    assert sum(f.stat().st_size for f in files) < 2_000_000
    readme = (demo.DATA / "README.md").read_text()
    source = (
        "Sources and licence (attribution required, CC BY 4.0): boundaries from Geoportal Berlin\n"
        "(Senatsverwaltung für Stadtentwicklung), population from Amt für Statistik "
        "Berlin-Brandenburg,\nboth as prepared by the open-data-product / open-lifeworlds "
        '"Berlin LOR" data products.\nAny copy shipped with the project must keep this '
        "attribution."
    )
    assert source in readme
