"""Ideas and supporters per social area × need category, disclosure-controlled by the cell key
method like every figure from residents (`stats.cellkey`, docs/PRIVACY.md).

Two tables over the areas of one level of the process's scope (each with its sub-areas):

* **ideas**: the published ideas of the area and need category. An idea has one author, so
  an idea is a respondent row; its cell key sums the ideas' `record_key`.
* **supporters**: the distinct residents supporting a published idea of the area and need
  category, told apart by their keyed per-process pseudonym. A resident's supports in a
  process share one `record_key` (ideas.services.support), so a cell of distinct supporters
  sums one key per resident, whichever of their supports put them in it.

Each area is a group of each table: its published ideas (all categories), and its distinct
supporters. A group whose perturbed size is below `min_respondents` is not shown — its cells
are null, flagged `suppressed` with reason "protected", the same for an empty area as for a
small one; otherwise every cell is its perturbed count (0 for 0 … k − 1). Every area of the
level and every need category are listed, with ideas or without, so absence says nothing.
Counting happens in SQL (count and sum of record keys per cell and per area).
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import AreaLevel, SocialArea
from quartier.core.bilingual import Bilingual, Method
from quartier.core.errors import FieldError, InvalidInput, NotFound
from quartier.ideas import models as m
from quartier.ideas import schemas as s
from quartier.participation import places
from quartier.processes import participation
from quartier.stats.cellkey import EMPTY, Cell, Release
from quartier.surveys.models import NeedCategory

K = 5
MIN_RESPONDENTS = 5
DISCLOSURE_METHOD = Method(
    "cell key method: every count is perturbed by noise chosen by its cell key (two-sided "
    "geometric, alpha {alpha}, at most ±{noise}), the same noise for the same cell wherever it "
    "appears; results below {k} are published as 0; an area whose perturbed number of ideas "
    "(or of supporters) is below {minimum} is not shown (protected)",
    "Cell-Key-Verfahren: jede Anzahl wird mit einer Abweichung überlagert, die ihr Zellschlüssel "
    "bestimmt (zweiseitig geometrisch, Alpha {alpha}, höchstens ±{noise}), dieselbe Abweichung "
    "für dieselbe Zelle, wo immer sie erscheint; Ergebnisse unter {k} werden als 0 "
    "veröffentlicht; ein Gebiet, dessen überlagerte Zahl der Ideen (oder der Unterstützenden) "
    "unter {minimum} liegt, wird nicht gezeigt (geschützt)",
)
# What the two counts count, in English (JSON, csv) and German (csv-de, XLSX).
COUNTS = Bilingual(
    "ideas: published ideas; supporters: distinct residents per area",
    "Ideen: veröffentlichte Ideen; Unterstützende: verschiedene Bewohnerinnen und Bewohner je "
    "Gebiet",
)

# `place`: every area of the scope → the area of the shown level it lies in (itself included).
_IDEAS = text(
    """
    WITH place (area_id, target) AS (
        SELECT * FROM unnest(CAST(:areas AS uuid[]), CAST(:targets AS uuid[]))
    )
    SELECT place.target, idea.need_category_id, count(*) AS n, sum(idea.record_key) AS keys
    FROM ideas idea JOIN place ON place.area_id = idea.area_id
    WHERE idea.process_id = :process AND idea.state = 'published'
    GROUP BY GROUPING SETS ((place.target, idea.need_category_id), (place.target))
    """
)
_SUPPORTERS = text(
    """
    WITH place (area_id, target) AS (
        SELECT * FROM unnest(CAST(:areas AS uuid[]), CAST(:targets AS uuid[]))
    ),
    supporter AS (
        SELECT place.target, idea.need_category_id, support.pseudonym,
               min(support.record_key) AS record_key
        FROM idea_supports support
        JOIN ideas idea ON idea.id = support.idea_id
        JOIN place ON place.area_id = idea.area_id
        WHERE idea.process_id = :process AND idea.state = 'published'
        GROUP BY place.target, idea.need_category_id, support.pseudonym
    ),
    per_area AS (
        SELECT target, pseudonym, min(record_key) AS record_key
        FROM supporter GROUP BY target, pseudonym
    )
    SELECT target, need_category_id, count(*) AS n, sum(record_key) AS keys
    FROM supporter GROUP BY target, need_category_id
    UNION ALL
    SELECT target, NULL, count(*), sum(record_key) FROM per_area GROUP BY target
    """
)


async def _tree(session: AsyncSession, process_id: UUID) -> dict[UUID, dict[str, Any]]:
    rows = (
        await session.execute(
            places.scoped_areas()
            .add_columns(SocialArea.parent_id, AreaLevel.key)
            .join(AreaLevel, AreaLevel.id == SocialArea.level_id),
            {"process_id": process_id},
        )
    ).all()
    return {
        row[0]: {"code": row[1], "name": row[2], "parent": row[3], "level": row[4]} for row in rows
    }


def _places(tree: dict[UUID, dict[str, Any]], shown: set[UUID]) -> dict[UUID, UUID]:
    """Each area of the scope that lies in (or is) a shown area → that shown area."""
    found: dict[UUID, UUID] = {}
    for area in tree:
        node: UUID | None = area
        while node is not None and node in tree:
            if node in shown:
                found[area] = node
                break
            node = tree[node]["parent"]
    return found


async def _cells(
    session: AsyncSession, statement: Any, process_id: UUID, place: dict[UUID, UUID]
) -> dict[tuple[UUID, UUID | None], Cell]:
    """(area, need category) → cell, and (area, None) → the area's group."""
    rows = await session.execute(
        statement,
        {"process": process_id, "areas": list(place), "targets": list(place.values())},
    )
    return {(row[0], row[1]): Cell(int(row[2]), int(row[3])) for row in rows}


async def idea_aggregates(session: AsyncSession, process_id: UUID, level: str) -> s.IdeaAggregates:
    """The protected grid of the areas at `level` (422 naming `level` if the process's scope
    has no area at that level)."""
    if await participation.load(session, process_id) is None:
        raise NotFound(f"No planning process {process_id}.")
    tree = await _tree(session, process_id)
    shown = {area for area, info in tree.items() if info["level"] == level}
    if not shown:
        raise InvalidInput(
            "The process's social areas have no area at this level.",
            errors=[FieldError(field="level", source="query", message="unknown level")],
        )
    # Every active need category, and retired ones that ideas of the process still carry.
    categories = [
        (row[0], row[1])
        for row in await session.execute(
            select(NeedCategory.id, NeedCategory.key)
            .where(
                or_(
                    NeedCategory.is_active,
                    NeedCategory.id.in_(
                        select(m.Idea.need_category_id).where(m.Idea.process_id == process_id)
                    ),
                )
            )
            .order_by(NeedCategory.position, NeedCategory.key)
        )
    ]
    place = _places(tree, shown)
    ideas = await _cells(session, _IDEAS, process_id, place)
    supporters = await _cells(session, _SUPPORTERS, process_id, place)
    release = Release(K, MIN_RESPONDENTS)
    cells: list[s.AggregateCell] = []
    for area in sorted(shown, key=lambda a: tree[a]["code"]):
        ideas_shown = release.respondents(ideas.get((area, None), EMPTY)) is not None
        supporters_shown = release.respondents(supporters.get((area, None), EMPTY)) is not None
        for category, key in categories:
            hidden = not (ideas_shown and supporters_shown)
            cells.append(
                s.AggregateCell(
                    area_code=tree[area]["code"],
                    area_name=tree[area]["name"],
                    need_category=key,
                    ideas=release.count(ideas.get((area, category), EMPTY))
                    if ideas_shown
                    else None,
                    supporters=release.count(supporters.get((area, category), EMPTY))
                    if supporters_shown
                    else None,
                    suppressed=hidden,
                    reason="protected" if hidden else None,
                )
            )
    return s.IdeaAggregates(
        process_id=process_id,
        level=level,
        k=K,
        min_respondents=MIN_RESPONDENTS,
        generated_at=datetime.datetime.now(datetime.UTC),
        cells=cells,
        suppressed_cells=sum(cell.suppressed for cell in cells),
        disclosure_method=DISCLOSURE_METHOD.format(
            alpha=release.ptable.alpha,
            noise=release.ptable.max_noise,
            k=K,
            minimum=MIN_RESPONDENTS,
        ),
    )


async def area_needs(
    session: AsyncSession, process_id: UUID, area_code: str
) -> s.AreaNeedsSideBySide:
    """One area's needs from the surveys (pooled over the process's surveys) beside its ideas,
    both disclosure-controlled at the area's level."""
    from quartier.surveys import aggregation  # the surveys' figures, as GetProcessAggregatedNeeds

    row = (
        await session.execute(
            select(SocialArea.code, SocialArea.name, AreaLevel.key)
            .join(AreaLevel, AreaLevel.id == SocialArea.level_id)
            .where(SocialArea.code == area_code)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"No social area {area_code}.")
    ideas = await idea_aggregates(session, process_id, row[2])
    surveys = await aggregation.process_aggregated_needs(session, process_id, level_key=row[2])
    survey_area = next((area for area in surveys.areas if area.code == area_code), None)
    return s.AreaNeedsSideBySide(
        process_id=process_id,
        area_code=row[0],
        area_name=row[1],
        level=row[2],
        k=ideas.k,
        survey_respondents=None if survey_area is None else survey_area.respondents,
        survey_needs=[]
        if survey_area is None
        else [
            s.SurveyNeed(
                need_category=figure.category,
                expressing=figure.expressing,
                share=figure.share,
                suppressed=figure.suppressed,
            )
            for figure in survey_area.needs
        ],
        ideas=[cell for cell in ideas.cells if cell.area_code == area_code],
    )
