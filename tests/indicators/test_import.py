"""Indicator imports on Berlin's real areas: the shipped statistics-office CSVs, the quirks of
municipal CSV files, all-or-nothing refusals, and the roll-up rules."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.errors import InvalidInput
from quartier.indicators import demo, importer, services
from quartier.indicators import schemas as s
from quartier.indicators.models import Indicator, IndicatorValue

pytestmark = pytest.mark.slow
DAY = datetime.date(2020, 12, 31)


def definition(
    key: str = "test_count", aggregation: s.Aggregation = "sum", **extra: object
) -> s.IndicatorIn:
    fields: dict[str, object] = {
        "key": key,
        "name_de": "Testzahl",
        "name_en": "Test count",
        "unit": "Personen",
        "direction": "higher_is_worse",
        "aggregation": aggregation,
        "source": "Statistikamt",
        "licence": "CC BY 4.0",
        **extra,
    }
    return s.IndicatorIn(**fields)  # type: ignore[arg-type]


async def load_demo_file(session: AsyncSession, index: int = 0) -> s.ImportResult:
    indicator, name, _columns, _needs = demo.DEMO[index]
    await services.import_indicator(session, indicator, [])
    return await services.import_csv(session, indicator.key, (demo.DATA / name).read_bytes(), None)


def shipped_rows(index: int = 0) -> list[dict[str, str]]:
    text = (demo.DATA / demo.DEMO[index][1]).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


async def test_the_shipped_berlin_shares_import_and_roll_up_to_districts(
    berlin_session: AsyncSession,
) -> None:
    result = await load_demo_file(berlin_session)
    rows = shipped_rows()
    assert result.values_created == len(rows) > 440 and result.values_updated == 0
    assert result.indicator.levels == ["planning_area"]
    assert result.indicator.reference_dates == [DAY]
    planning = await services.level_values(berlin_session, "share_under_18", "planning_area")
    first = next(item for item in planning.items if item.code == "01011101")
    assert first.value == pytest.approx(327 / 3419 * 100) and not first.rolled_up
    districts = await services.level_values(berlin_session, "share_under_18", "district")
    assert len(districts.items) == 12
    mitte = next(item for item in districts.items if item.code == "01")
    numerator = sum(int(r["Zähler"]) for r in rows if r["Schlüssel"].startswith("01"))
    denominator = sum(int(r["Nenner"]) for r in rows if r["Schlüssel"].startswith("01"))
    assert mitte.rolled_up and mitte.complete
    assert mitte.value == pytest.approx(numerator / denominator * 100)
    assert mitte.denominator == denominator
    # The same through a district's time series, and inside one district only.
    series = await services.area_series(berlin_session, "share_under_18", "01")
    assert [p.reference_date for p in series.points] == [DAY]
    assert series.points[0].value == pytest.approx(mitte.value)
    within = await services.level_values(
        berlin_session, "share_under_18", "planning_area", within="01"
    )
    assert within.items and all(item.code.startswith("01") for item in within.items)
    # Importing the same file again replaces, it does not add.
    again = await load_demo_file(berlin_session)
    assert again.values_created == 0 and again.values_updated == len(rows)


async def test_a_windows_1252_file_with_decimal_commas_and_lost_zeros_imports(
    berlin_session: AsyncSession,
) -> None:
    await services.import_indicator(berlin_session, definition(), [])
    text = (
        "Gebietsschlüssel;Stichtag;Wert\r\n"
        "01011101;31.12.2019;1.234,5\r\n"
        "1011102;31.12.2019;12,25\r\n"  # a spreadsheet dropped the leading zero
        "01011103;2019-12-31;7\r\n"
    )
    result = await services.import_csv(berlin_session, "test_count", text.encode("cp1252"), None)
    assert result.values_created == 3
    assert result.warnings[0] == "read as windows-1252"
    assert "'1011102' read as '01011102'" in result.warnings[1]
    values = await services.level_values(
        berlin_session, "test_count", "planning_area", datetime.date(2019, 12, 31), within="0101"
    )
    by_code = {item.code: item.value for item in values.items}
    assert by_code["01011101"] == 1234.5 and by_code["01011102"] == 12.25
    # A count rolls up as a sum; a district with sub-areas missing says it is incomplete.
    district = await services.level_values(
        berlin_session, "test_count", "district", datetime.date(2019, 12, 31)
    )
    mitte = next(item for item in district.items if item.code == "01")
    assert mitte.value == pytest.approx(1234.5 + 12.25 + 7) and not mitte.complete
    assert next(item for item in district.items if item.code == "02").value is None


async def test_errors_refuse_the_whole_file_naming_each_line(berlin_session: AsyncSession) -> None:
    await services.import_indicator(berlin_session, definition(), [])
    text = (
        "code;date;value\n"
        "01011101;31.12.2020;5\n"
        "99999999;31.12.2020;5\n"
        "01011102;32.13.2020;5\n"
        "01011103;31.12.2020;viel\n"
        "01011101;31.12.2020;6\n"
    )
    with pytest.raises(InvalidInput) as refused:
        await services.import_csv(berlin_session, "test_count", text.encode(), None)
    messages = [error.message for error in refused.value.errors or []]
    assert "line 4: '32.13.2020' is not a date" in messages
    assert "line 5: value 'viel' is not a number" in messages
    # Parsing errors stop before the areas are looked at; then the area errors.
    fixed = text.replace("32.13.2020", "31.12.2020").replace("viel", "1")
    with pytest.raises(InvalidInput) as refused:
        await services.import_csv(berlin_session, "test_count", fixed.encode(), None)
    messages = [error.message for error in refused.value.errors or []]
    assert messages == [
        "line 3: unknown area code '99999999'",
        "line 6: area 01011101 twice for 2020-12-31",
    ]
    count = await berlin_session.scalar(select(func.count()).select_from(IndicatorValue))
    assert count == 0
    with pytest.raises(InvalidInput) as refused:
        await services.import_csv(berlin_session, "test_count", b"name;wert\nx;1\n", None)
    assert "no column for the area code" in (refused.value.errors or [])[0].message


async def test_ratios_need_numerator_and_denominator_that_agree_with_the_value(
    berlin_session: AsyncSession,
) -> None:
    ratio = definition("test_share", "ratio", scale=100.0)
    with pytest.raises(InvalidInput) as refused:
        await services.import_indicator(
            berlin_session,
            ratio,
            [
                s.IndicatorValueIn(area_code="01011101", reference_date=DAY, value=10.0),
                s.IndicatorValueIn(
                    area_code="01011102",
                    reference_date=DAY,
                    value=50.0,
                    numerator=1,
                    denominator=10,
                ),
            ],
        )
    fields = [(e.field, e.message) for e in refused.value.errors or []]
    assert fields[0] == ("values[0].numerator", "a ratio indicator needs numerator and denominator")
    assert fields[1][0] == "values[1].value" and "differs" in fields[1][1]
    assert await berlin_session.scalar(select(func.count()).select_from(Indicator)) == 0


async def test_a_non_additive_indicator_is_never_rolled_up(berlin_session: AsyncSession) -> None:
    mean = definition("mean_age", "none", unit="Jahre")
    await services.import_indicator(
        berlin_session,
        mean,
        [s.IndicatorValueIn(area_code="01011101", reference_date=DAY, value=41.5)],
    )
    with pytest.raises(InvalidInput) as refused:
        await services.level_values(berlin_session, "mean_age", "district")
    assert (refused.value.errors or [])[0].field == "level"
    series = await services.area_series(berlin_session, "mean_age", "01")
    assert series.points == []
    own = await services.area_series(berlin_session, "mean_age", "01011101")
    assert [p.value for p in own.points] == [41.5]
    # Its aggregation cannot change once it has values.
    with pytest.raises(InvalidInput):
        await services.import_indicator(berlin_session, definition("mean_age", "sum"), [])


def test_numbers_and_dates_as_statistics_offices_write_them() -> None:
    assert importer.number("1.234,5") == 1234.5
    assert importer.number("12,5") == 12.5
    assert importer.number("12.5") == 12.5
    assert importer.number("-3") == -3
    for bad in ("", "1,2,3", "nan", "inf", "x"):
        with pytest.raises(ValueError, match=r".*"):
            importer.number(bad)
    assert importer.date("1.2.2020") == datetime.date(2020, 2, 1)
    assert importer.date("2020-02-01") == datetime.date(2020, 2, 1)
    text, encoding = importer.decode("Schlüssel".encode("utf-8-sig"))
    assert (text, encoding) == ("Schlüssel", "utf-8")


def test_a_lone_carriage_return_in_a_field_is_an_error_report_not_a_crash() -> None:
    """Found by Schemathesis (ImportIndicatorValuesCsv answered 500): bytes with a bare `\\r`
    inside an unquoted field made the csv module raise instead of reading a line break."""
    parsed = importer.parse_csv(b"\x8f?\r\xecU\x17\x9cf<\xb0\xb3\xf3")
    assert parsed.errors and all(e.startswith("line 1:") for e in parsed.errors)
    assert not importer.parse_csv(b"code;date;value\r01;2024-12-31;1,5\r").errors
