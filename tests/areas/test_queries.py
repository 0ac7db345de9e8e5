"""Queries on a small hand-made city: filters, pagination, hierarchy, lookup, and the cache of
prepared boundaries."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import geometry, services
from quartier.areas.services import AreaFilter
from quartier.core.errors import InvalidInput, NotFound

from .conftest import SMALL_CITY, collection, feature, level, small_city, square


async def _codes(session: AsyncSession, **filters: object) -> list[str]:
    page = await services.list_areas(
        session,
        AreaFilter(**filters),  # type: ignore[arg-type]
        limit=50,
        cursor=None,
    )
    return [a.code for a in page.items]


async def test_filters_combine(small_city_session: AsyncSession) -> None:
    s = small_city_session
    assert await _codes(s) == ["01", "0101", "0102", "02", "0201"]
    assert await _codes(s, level="quarter") == ["0101", "0102", "0201"]
    assert await _codes(s, parent_code="01") == ["0101", "0102"]
    north = await services.get_area_by_code(s, "01")
    assert await _codes(s, parent_id=north.id) == ["0101", "0102"]
    assert await _codes(s, code="0201") == ["0201"]
    assert await _codes(s, q="sud") == ["02", "0201"]
    assert await _codes(s, q="SÜD", level="district") == ["02"]
    assert await _codes(s, q="nord", parent_code="01") == ["0101", "0102"]


async def test_unknown_parent_code_is_invalid_input(small_city_session: AsyncSession) -> None:
    with pytest.raises(InvalidInput) as caught:
        await _codes(small_city_session, parent_code="77")
    assert caught.value.errors is not None
    assert caught.value.errors[0].field == "parent"


async def test_pages_follow_each_other_without_gaps(small_city_session: AsyncSession) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = await services.list_areas(small_city_session, AreaFilter(), limit=2, cursor=cursor)
        seen += [a.code for a in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["01", "0101", "0102", "02", "0201"]


async def test_children_and_ancestors(small_city_session: AsyncSession) -> None:
    s = small_city_session
    north = await services.get_area_by_code(s, "01")
    page = await services.children(s, north.id, limit=50, cursor=None)
    assert [a.code for a in page.items] == ["0101", "0102"]
    assert all(a.parent_code == "01" for a in page.items)
    northwest = page.items[0]
    assert [a.code for a in await services.ancestors(s, northwest.id)] == ["01"]
    assert await services.ancestors(s, north.id) == []
    with pytest.raises(NotFound):
        await services.children(s, uuid.uuid4(), limit=1, cursor=None)
    with pytest.raises(InvalidInput):
        await services.children(s, north.id, limit=1, cursor="x")


async def test_lookup_finds_every_level_and_nothing_outside(
    small_city_session: AsyncSession,
) -> None:
    s = small_city_session
    assert [a.code for a in await services.lookup_point(s, 52.02, 13.02)] == ["01", "0101"]
    assert [a.code for a in await services.lookup_point(s, 51.92, 13.08)] == ["02"]
    assert await services.lookup_point(s, 10.0, 10.0) == []


async def test_a_changed_boundary_is_not_served_from_the_cache(session: AsyncSession) -> None:
    await services.import_areas(session, small_city(), [])
    assert [a.code for a in await services.lookup_point(session, 52.02, 13.02)] == ["01", "0101"]
    assert len(geometry.PREPARED) > 0
    moved = collection(
        feature("0101", "Nordwest", square(13.0, 52.05, 0.05)),
        feature("0102", "Nordost", square(13.05, 52.0, 0.05)),
        feature("0201", "Südwest", square(13.0, 51.9, 0.05)),
    )
    await services.import_areas(
        session,
        [level("district", SMALL_CITY["district"]), level("quarter", moved)],
        [],
        confirm_warnings=True,  # 0101 moved away from its previous boundary
    )
    assert [a.code for a in await services.lookup_point(session, 52.02, 13.02)] == ["01"]
    assert [a.code for a in await services.lookup_point(session, 52.07, 13.02)] == ["01", "0101"]


def test_the_prepared_cache_is_bounded() -> None:
    import datetime
    import uuid

    cache = geometry.PreparedCache(max_entries=2)
    now = datetime.datetime.now(datetime.UTC)
    shape = {"type": "MultiPolygon", "coordinates": [square(13.0, 52.0)]}
    ids = [uuid.uuid4() for _ in range(3)]
    for area_id in ids:
        cache.put(area_id, now, shape)
    assert len(cache) == 2
    assert cache.get(ids[0], now) is None
    assert cache.get(ids[2], now) is not None
    assert cache.get(ids[2], now + datetime.timedelta(seconds=1)) is None
