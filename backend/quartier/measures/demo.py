"""Demo goals and measures: the older-people process in measure planning gets a goal and a
draft measure that is open for feedback, so residents have something to comment on."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import SocialArea
from quartier.measures import goals, services
from quartier.measures import schemas as s
from quartier.measures.models import Measure
from quartier.processes import models as pm
from quartier.processes.services import SYSTEM

PROCESS_TITLE = "Gut älter werden in Nord-Neukölln"


async def load(session: AsyncSession) -> str:
    process = await session.scalar(
        sa.select(pm.PlanningProcess).where(pm.PlanningProcess.title == PROCESS_TITLE)
    )
    if process is None:
        return "measures: no demo process"
    if await session.scalar(sa.select(Measure.id).where(Measure.process_id == process.id)):
        return "measures: already loaded"
    codes = list(
        await session.scalars(
            sa.select(SocialArea.code)
            .join(pm.process_areas, pm.process_areas.c.area_id == SocialArea.id)
            .where(pm.process_areas.c.process_id == process.id)
            .order_by(SocialArea.code)
            .limit(3)
        )
    )
    provider = await session.scalar(
        sa.select(pm.Organisation.id).where(pm.Organisation.name.ilike("%DRK%")).limit(1)
    )
    goal_id = await goals.create_goal(
        session,
        process.id,
        s.GoalCreate(
            statement="Ältere Menschen in Nord-Neukölln finden Hilfe im Alltag in ihrer Nähe.",
            need_categories=["everyday_support", "elderly_care"],
            area_codes=codes,
            target_groups=["Menschen ab 65, die allein leben"],
            translations=s.GoalTranslations(
                en=s.GoalText(
                    statement="Older people in northern Neukölln find help with everyday life "
                    "close by."
                ),
                de_x_simple=s.GoalText(statement="Alte Menschen in Neukölln bekommen Hilfe."),
            ),
        ),
        SYSTEM,
    )
    measure_id = await services.create_measure(
        session,
        process.id,
        s.MeasureInput(
            title="Kiezlotsinnen für ältere Menschen",
            summary="Zwei Lotsinnen besuchen ältere Menschen zu Hause und vermitteln Hilfe.",
            goal_ids=[goal_id],
            area_codes=codes,
            target_groups=["Menschen ab 65, die allein leben", "Pflegende Angehörige"],
            resources=[
                s.ResourceLine(label="Sozialarbeit", amount=2, unit="fte", period="per_year"),
                s.ResourceLine(label="Sachkosten", amount=15000, unit="eur", period="per_year"),
                s.ResourceLine(
                    label="Büro im Stadtteilzentrum", amount=1, unit="rooms", period="per_year"
                ),
            ],
            provider_id=provider,
            criteria=[
                s.Criterion(
                    indicator="Besuchte Haushalte",
                    baseline="0",
                    target="300 pro Jahr",
                    method="Dokumentation der Lotsinnen",
                )
            ],
            sections=[
                s.Section(
                    key="offer",
                    title="Angebot",
                    body="Hausbesuche auf Wunsch, offene Sprechstunde mittwochs.",
                    translations=s.SectionTranslations(
                        en=s.SectionText(
                            title="What we offer",
                            body="Home visits on request, open office hours on Wednesdays.",
                        ),
                        de_x_simple=s.SectionText(
                            title="Das machen wir",
                            body="Wir besuchen Sie zu Hause. Mittwochs können Sie zu uns kommen.",
                        ),
                    ),
                ),
                s.Section(
                    key="reach",
                    title="Wie wir die Menschen erreichen",
                    body="Über Hausärzte, Apotheken, Kirchengemeinden und Briefe.",
                ),
            ],
            # English and easy-read German for the opening texts; the second section stays
            # German, so the demo shows the note residents see where a text is not translated.
            translations=s.MeasureTranslations(
                en=s.MeasureText(
                    title="Neighbourhood guides for older people",
                    summary="Two guides visit older people at home and arrange help.",
                ),
                de_x_simple=s.MeasureText(
                    summary="2 Frauen besuchen alte Menschen zu Hause. Sie helfen bei Fragen.",
                ),
            ),
        ),
        SYSTEM,
    )
    await services.start_consultation(
        session,
        measure_id,
        s.ConsultationInput(reason="Entwurf zur Beteiligung", days=365),
        SYSTEM,
    )
    return "measures: one goal, one measure open for feedback"
