"""HTML pages of the social areas: the top-level areas, and one page per area with its place in
the hierarchy, population by age band, sub-areas and an outline of its boundary. They call the
same services as the API."""

from __future__ import annotations

from litestar import get
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import geometry, import_pages, services
from quartier.core.security import access


@get("/areas", name="areas:index", include_in_schema=False, **access(public=True))
async def areas_index(db_session: AsyncSession) -> Template:
    levels = await services.list_levels(db_session)
    areas = await services.top_level_areas(db_session)
    return Template(
        template_name="areas/index.html",
        context={"areas": areas, "levels": levels.items},
    )


@get("/areas/{code:str}", name="areas:area", include_in_schema=False, **access(public=True))
async def area_page(db_session: AsyncSession, code: str) -> Template:
    area = await services.get_area_by_code(db_session, code[:64])
    ancestors = await services.ancestors(db_session, area.id)
    sub_areas = await services.all_children(db_session, area.id)
    outline = geometry.svg_outline(await services.area_boundary(db_session, area.id))
    return Template(
        template_name="areas/area.html",
        context={
            "area": area,
            "ancestors": ancestors,
            "sub_areas": sub_areas,
            "outline": outline,
        },
    )


PAGES: list[ControllerRouterHandler] = [areas_index, area_page, *import_pages.PAGES]
