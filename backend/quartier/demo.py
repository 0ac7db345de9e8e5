"""Demo data for local use, loaded once by `make run` / `quartier demo`: Berlin's social areas,
example planning processes with welfare organisations, a needs-assessment survey with synthetic
responses, goals and a draft measure, services of the welfare organisations, and demo staff
accounts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quartier.settings import Settings, load_settings


async def load_demo(session: AsyncSession, settings: Settings | None = None) -> str:
    from quartier.accounts import demo as accounts
    from quartier.areas import demo as areas
    from quartier.indicators import demo as indicators
    from quartier.inventory import demo as inventory
    from quartier.measures import demo as measures
    from quartier.processes import demo as processes
    from quartier.surveys import demo as surveys

    settings = settings or load_settings()
    lines = [await areas.load(session), await processes.load(session)]
    lines.append(await surveys.load(session))
    lines.append(await indicators.load(session))
    lines.append(await measures.load(session))
    lines.append(await inventory.load(session))
    lines.append(await accounts.load(session, settings))
    return "\n".join(lines)
